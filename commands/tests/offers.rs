//! An offer is not a contract (issue 10, section 1): counter-offers stay on the case, agreements
//! with a later start show beside the rate in force, a closed case changes the advice, walking
//! away ends the case, prospects and dropped payers leave the ranking's totals, and fixed
//! schedules (Medicare, Medicaid) get no negotiation advice. In process, with a pinned clock.

use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::domain::Cents;
use raterise_commands::handlers::timing::OpeningKind;
use raterise_commands::store::Store;
use raterise_commands::{demo, dispatch, AppError, Ctx, Outcome};
use std::sync::Arc;

const P: &str = "trial";

async fn ctx_at(now: &str) -> (Ctx, ManualClock) {
    let clock = ManualClock::new(parse_instant(now).unwrap());
    let store = Store::open_in_memory().await.unwrap();
    (Ctx::new(store, Arc::new(clock.clone())).await.unwrap(), clock)
}

async fn run(ctx: &Ctx, line: &str) -> Result<Outcome, AppError> {
    dispatch(ctx, &demo::invocation(P, line)?).await
}

async fn ok(ctx: &Ctx, line: &str) -> Outcome {
    run(ctx, line).await.unwrap_or_else(|e| panic!("`{line}`: {}", e.user_message()))
}

fn text(o: &Outcome) -> String {
    o.reply().to_text()
}

/// A Chicago group with Cigna (renewal 2027-03-01, window open from 2026-12-01) and Aetna; a
/// case with Cigna at the written-request stage, on 2026-11-27.
async fn practice_with_a_case() -> (Ctx, ManualClock) {
    let (ctx, clock) = ctx_at("2026-11-27T15:00:00Z").await;
    for line in [
        r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#,
        r#"/payer add name:Cigna kind:commercial renewal:2025-03-01 volume:"90837=10 90834=5""#,
        r#"/payer add name:Aetna kind:commercial volume:"90837=8""#,
        "/rate set Cigna 90837 118.50 effective:2024-01-01",
        "/rate set Cigna 90834 88.00 effective:2024-01-01",
        "/rate set Aetna 90837 125.00 effective:2025-01-01",
        r#"/negotiate start Cigna ask:"90837=140 90834=105" date:2026-10-01"#,
        "/negotiate log Cigna written-request date:2026-10-02",
    ] {
        ok(&ctx, line).await;
    }
    (ctx, clock)
}

async fn cigna_rates(ctx: &Ctx) -> Arc<raterise_commands::handlers::rates::RatesReport> {
    match ok(ctx, "/rates Cigna").await {
        Outcome::Rates(r) => r,
        other => panic!("{other:?}"),
    }
}

async fn history(ctx: &Ctx, cpt: &str) -> Vec<(Cents, String)> {
    let Outcome::RateHistory(h) = ok(ctx, &format!("/rate history Cigna cpt:{cpt}")).await else { panic!() };
    h.rows.iter().map(|r| (r.amount, r.effective_date.to_string())).collect()
}

#[tokio::test]
async fn a_counter_offer_stays_on_the_case_and_out_of_the_rate_history() {
    let (ctx, _) = practice_with_a_case().await;
    let o = ok(&ctx, r#"/negotiate outcome Cigna countered rates:"90837=125 90834=92" effective:2026-11-01"#).await;
    let shown = text(&o);
    assert!(shown.contains("not in your rate history"), "{shown}");
    assert_eq!(history(&ctx, "90837").await, vec![(Cents(11850), "2024-01-01".into())]);
    let r = cigna_rates(&ctx).await;
    let row = r.rows.iter().find(|r| r.cpt == "90837").unwrap();
    assert_eq!(row.rate_cents, Cents(11850), "the rate in force, not the offer");
    assert_eq!(row.agreed_cents, None);
    // The case shows the offer beside the ask.
    let Outcome::NegotiationDetail(d) = ok(&ctx, "/negotiate status Cigna").await else { panic!() };
    let c = d.codes.iter().find(|c| c.cpt == "90837").unwrap();
    assert_eq!((c.offered_cents, c.current_cents), (Some(Cents(12500)), Some(Cents(11850))));
    // Accepting it records the offer, from the date it came with.
    let Outcome::NegotiationOutcome(a) = ok(&ctx, "/negotiate outcome Cigna accepted").await else { panic!() };
    assert!(a.rows.iter().all(|r| r.recorded && r.effective.to_string() == "2026-11-01"), "{:?}", a.rows);
    assert_eq!(
        history(&ctx, "90837").await,
        vec![(Cents(12500), "2026-11-01".into()), (Cents(11850), "2024-01-01".into())]
    );
}

#[tokio::test]
async fn an_agreement_from_a_later_date_shows_beside_the_rate_in_force() {
    let (ctx, clock) = practice_with_a_case().await;
    ok(&ctx, r#"/negotiate outcome Cigna accepted rates:"90837=130 90834=95" effective:2027-04-01"#).await;
    assert_eq!(history(&ctx, "90837").await[0], (Cents(13000), "2027-04-01".into()));
    let r = cigna_rates(&ctx).await;
    let row = r.rows.iter().find(|r| r.cpt == "90837").unwrap();
    assert_eq!((row.rate_cents, row.agreed_cents), (Cents(11850), Some(Cents(13000))));
    assert_eq!(row.unchanged_since.to_string(), "2024-01-01");
    let json = serde_json::to_value(&*r).unwrap();
    assert_eq!(json["rows"][1]["agreed_from"], "2027-04-01", "{json}");
    let shown = r.reply().to_text();
    assert!(shown.contains("agreed $130.00 from 2027-04-01"), "{shown}");
    // The ranking and every other reader see the same rate in force.
    let Outcome::Ranking(rank) = ok(&ctx, "/rates").await else { panic!() };
    let cigna = rank.payers.iter().find(|p| p.payer == "Cigna").unwrap();
    assert_eq!(cigna.revenue_per_session_cents, Some(Cents((11850 * 10 + 8800 * 5) / 15)));
    // From the start date on, the agreed rate is the rate.
    clock.advance(chrono::Duration::days(130));
    let r = cigna_rates(&ctx).await;
    let row = r.rows.iter().find(|r| r.cpt == "90837").unwrap();
    assert_eq!((row.rate_cents, row.agreed_cents), (Cents(13000), None));
}

#[tokio::test]
async fn after_an_agreement_the_advice_waits_for_the_next_opening() {
    let (ctx, _) = practice_with_a_case().await;
    // Before: inside Cigna's renewal window soon, and a stale rate: the advice is to call.
    let before = cigna_rates(&ctx).await;
    assert!(before.next_step.contains("/negotiate status"), "an open case: {}", before.next_step);
    ok(&ctx, r#"/negotiate outcome Cigna accepted rates:"90837=130 90834=95" effective:2027-04-01"#).await;
    let r = cigna_rates(&ctx).await;
    assert!(!r.next_step.to_lowercase().contains("call"), "{}", r.next_step);
    // The renewal window of 2027-03-01 opens 2026-12-01, four days after the agreement on
    // 2026-11-27: that round is the one just agreed. The following renewal is 2028-03-01's,
    // whose window opens 2027-12-02 (90 days before; 2028 is a leap year).
    assert!(r.next_step.contains("next renewal window, opening 2027-12-02"), "{}", r.next_step);
    assert_eq!(r.ask_waits_until.map(|d| d.to_string()).as_deref(), Some("2027-12-02"));
    let shown = r.reply().to_text();
    assert!(shown.contains("Suggested ask, for the next opening on 2027-12-02"), "{shown}");
    assert!(!shown.contains("/negotiate start"), "{shown}");

    let Outcome::Strategy(s) = ok(&ctx, "/strategy Cigna").await else { panic!() };
    assert!(s.timing.contains("suggested ask waits"), "{}", s.timing);
    let Outcome::Timing(t) = ok(&ctx, "/timing").await else { panic!() };
    assert!(t.openings.iter().all(|o| o.payer.as_deref() != Some("Cigna")), "{:?}", t.openings);
    let Outcome::Timing(t) = ok(&ctx, "/timing days:400").await else { panic!() };
    let cigna: Vec<_> = t.openings.iter().filter(|o| o.payer.as_deref() == Some("Cigna")).collect();
    assert_eq!(cigna.len(), 1, "{cigna:?}");
    assert_eq!(cigna[0].kind, OpeningKind::NextRound);
    assert_eq!(cigna[0].date.to_string(), "2027-12-02");
    // Reminder planning agrees: nothing about the round just agreed (no renewal window on
    // 2026-12-01, no last call on 2027-01-30); the next reminder is the following window.
    let Outcome::FollowupList(f) = ok(&ctx, "/followups list").await else { panic!() };
    let cigna: Vec<_> = f.overdue.iter().chain(&f.upcoming).filter(|i| i.about == "Cigna").collect();
    assert!(cigna.iter().all(|i| i.due_on.to_string().as_str() >= "2027-12-02"), "{cigna:?}");
}

#[tokio::test]
async fn an_agreed_review_date_is_the_next_opening() {
    let (ctx, _) = practice_with_a_case().await;
    let o = ok(&ctx, r#"/negotiate outcome Cigna accepted rates:"90837=130" effective:2027-01-01 review:6m"#).await;
    assert!(text(&o).contains("review agreed for 2027-07-01"), "{}", text(&o));
    let r = cigna_rates(&ctx).await;
    assert!(r.next_step.contains("the review agreed for 2027-07-01"), "{}", r.next_step);
    let Outcome::Timing(t) = ok(&ctx, "/timing days:365").await else { panic!() };
    let next = t.openings.iter().find(|o| o.payer.as_deref() == Some("Cigna")).unwrap();
    assert_eq!((next.kind, next.date.to_string().as_str()), (OpeningKind::NextRound, "2027-07-01"));
    let e = run(&ctx, "/negotiate outcome Aetna accepted review:6m").await.unwrap_err().user_message();
    assert!(e.contains("no open negotiation"), "{e}");
}

#[tokio::test]
async fn after_a_denial_the_advice_is_the_guides() {
    let (ctx, _) = practice_with_a_case().await;
    let o = ok(&ctx, "/negotiate outcome Cigna denied").await;
    assert!(text(&o).contains("ask why"), "{}", text(&o));
    let r = cigna_rates(&ctx).await;
    for part in ["ask why", "review in six months", "more data"] {
        assert!(r.next_step.contains(part), "{part}: {}", r.next_step);
    }
    let Outcome::Strategy(s) = ok(&ctx, "/strategy Cigna").await else { panic!() };
    assert!(s.timing.contains("ask why"), "{}", s.timing);
}

#[tokio::test]
async fn walking_away_ends_the_case_counts_and_offers_to_drop_the_payer() {
    let (ctx, _) = practice_with_a_case().await;
    let o = ok(&ctx, "/negotiate log Cigna walked-away").await;
    let Outcome::NegotiationLogged(l) = &o else { panic!() };
    assert!(l.closed);
    let reply = o.reply();
    assert!(reply.to_text().contains("status to dropped"), "{}", reply.to_text());
    assert!(
        reply.actions.iter().any(|a| a.command_line == "/payer edit name:Cigna status:dropped"),
        "{:?}",
        reply.actions
    );
    let Outcome::Walkaway(w) = ok(&ctx, "/walkaway Cigna").await else { panic!() };
    let attempts = w.flags.iter().find(|f| f.flag.starts_with("repeated attempts")).unwrap();
    assert!(
        attempts.evidence.starts_with("1 negotiation: 1 denied, withdrawn or walked away"),
        "{}",
        attempts.evidence
    );
    assert!(run(&ctx, "/negotiate log Cigna note").await.is_err(), "the case is closed");
}

#[tokio::test]
async fn dropped_and_applying_payers_leave_the_first_to_work_on_and_the_totals() {
    let (ctx, _) = practice_with_a_case().await;
    for line in [
        r#"/payer add name:Skimp kind:commercial volume:"90837=4""#,
        "/rate set Skimp 90837 60.00 effective:2025-01-01",
        r#"/payer add name:"New Plan" kind:commercial status:applying volume:"90837=3""#,
        "/rate set \"New Plan\" 90837 50.00 effective:2026-11-01",
        "/payer edit name:Skimp status:dropped",
    ] {
        ok(&ctx, line).await;
    }
    let o = ok(&ctx, "/rates").await;
    let Outcome::Ranking(r) = &o else { panic!() };
    assert!(r.payers.iter().all(|p| p.payer != "New Plan"));
    assert_eq!(r.prospects.iter().map(|p| p.payer.as_str()).collect::<Vec<_>>(), vec!["New Plan"]);
    // Cigna (118.50 x 10 + 88 x 5) and Aetna (125 x 8), 48 weeks; Skimp is dropped.
    assert_eq!(r.in_network_yearly_revenue_cents, Cents((11850 * 10 + 8800 * 5 + 12500 * 8) * 48));
    let shown = o.reply().to_text();
    assert!(shown.contains("least: Cigna"), "{shown}");
    assert!(!shown.contains("Examine Skimp") && !shown.contains("least: Skimp"), "{shown}");
    assert!(shown.contains("Prospects"), "{shown}");
}

#[tokio::test]
async fn fixed_schedules_get_no_negotiation_advice() {
    let (ctx, _) = ctx_at("2026-11-27T15:00:00Z").await;
    for line in [
        r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#,
        r#"/payer add name:Medicare kind:medicare volume:"90837=5""#,
        r#"/payer add name:"NY Medicaid" kind:medicaid volume:"90837=5""#,
        "/rate set Medicare 90837 90.00 effective:2020-01-01",
        "/rate set \"NY Medicaid\" 90837 70.00 effective:2020-01-01",
    ] {
        ok(&ctx, line).await;
    }
    for payer in ["Medicare", "\"NY Medicaid\""] {
        let o = ok(&ctx, &format!("/rates {payer}")).await;
        let Outcome::Rates(r) = &o else { panic!() };
        assert!(r.rows.iter().all(|r| r.flags.is_empty() && r.ask.is_none()), "{payer}: {:?}", r.rows);
        let shown = o.reply().to_text();
        assert!(!shown.contains("/negotiate") && !shown.contains("/draft request"), "{shown}");
        let o = ok(&ctx, &format!("/strategy {payer}")).await;
        let Outcome::Strategy(s) = &o else { panic!() };
        assert!(s.readiness.is_empty() && s.avoid.is_empty(), "{payer}");
        let shown = o.reply().to_text();
        assert!(!shown.contains("/negotiate") && !shown.contains("/draft call"), "{shown}");
        let e = run(&ctx, &format!("/impact {payer} 5%")).await.unwrap_err().user_message();
        assert!(e.contains("benchmark"), "{e}");
    }
    let e = run(&ctx, "/draft exit-notice Medicare date:2027-03-01").await.unwrap_err().user_message();
    assert!(e.contains("no network to leave") && e.contains("opt out"), "{e}");
    let o = ok(&ctx, "/walkaway Medicare").await;
    let shown = o.reply().to_text();
    assert!(!shown.contains("/negotiate start") && !shown.contains("exit-notice"), "{shown}");
}
