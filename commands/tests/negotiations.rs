//! Negotiation cases and drafts, in process: every draft kind of the demo practice as an insta
//! snapshot, placeholders for missing facts, hostile text kept verbatim, template overrides that
//! fall back with a warning, and the rates an outcome records.

use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::domain::Cents;
use raterise_commands::drafts::DraftKind;
use raterise_commands::handlers::draft::DraftLetter;
use raterise_commands::store::Store;
use raterise_commands::{demo, dispatch, AppError, Ctx, Outcome};
use std::path::PathBuf;
use std::sync::Arc;

const TODAY: &str = "2026-11-27T15:00:00Z";

async fn ctx_at(now: &str) -> (Ctx, ManualClock) {
    let clock = ManualClock::new(parse_instant(now).unwrap());
    let store = Store::open_in_memory().await.unwrap();
    (Ctx::new(store, Arc::new(clock.clone())).await.unwrap(), clock)
}

async fn demo_ctx() -> Ctx {
    let (ctx, _) = ctx_at(TODAY).await;
    demo::build(&ctx, "demo").await.unwrap();
    ctx
}

async fn run(ctx: &Ctx, practice: &str, line: &str) -> Result<Outcome, AppError> {
    dispatch(ctx, &demo::invocation(practice, line)?).await
}

async fn ok(ctx: &Ctx, practice: &str, line: &str) -> Outcome {
    run(ctx, practice, line).await.unwrap_or_else(|e| panic!("`{line}`: {}", e.user_message()))
}

async fn draft(ctx: &Ctx, practice: &str, line: &str) -> DraftLetter {
    match ok(ctx, practice, line).await {
        Outcome::Draft(d) => d,
        other => panic!("`{line}` gave {other:?}"),
    }
}

/// A draft as the user sees it: headers, body, the fill-in list and warnings.
fn shown(d: &DraftLetter) -> String {
    let mut s = String::new();
    if let Some(to) = &d.to {
        s.push_str(&format!("To: {to}\n"));
    }
    if let Some(subject) = &d.subject {
        s.push_str(&format!("Subject: {subject}\n\n"));
    }
    s.push_str(&d.body);
    s.push_str(&format!("\n--- fill in: {}\n--- warnings: {}\n", d.placeholders.join(", "), d.warnings.join(" | ")));
    s
}

#[tokio::test]
async fn every_draft_kind_for_the_demo_practice() {
    let ctx = demo_ctx().await;
    for kind in DraftKind::ALL {
        // Drawn from remittances, not the case file: tests/era_import.rs covers it.
        if kind == DraftKind::Underpayment {
            continue;
        }
        let line = match kind {
            DraftKind::ExitNotice => "/draft exit-notice Cigna date:2027-01-29".to_string(),
            k => format!("/draft {} Cigna signer:\"Maya Chen, Practice Director\"", k.key()),
        };
        let d = draft(&ctx, "demo", &line).await;
        assert_eq!(d.kind, kind);
        assert!(!d.body.contains("None") && !d.body.contains("none\n"), "{line}: {}", d.body);
        insta::assert_snapshot!(format!("demo_{}", kind.key().replace('-', "_")), shown(&d));
    }
    // Once Cigna counters, the counter-proposal is filled from the offer on the case.
    ok(&ctx, "demo", "/negotiate outcome Cigna countered rates:\"90837=126 90834=95 90791=148 90853=33\" effective:2027-01-01 note:\"Offer by email from Dana\"").await;
    let d = draft(&ctx, "demo", "/draft counter Cigna signer:\"Maya Chen, Practice Director\"").await;
    assert!(!d.placeholders.iter().any(|p| p == "[THEIR OFFER]"), "{:?}", d.placeholders);
    insta::assert_snapshot!("demo_counter_after_offer", shown(&d));
}

#[tokio::test]
async fn the_demo_case_waits_on_cigna_with_a_follow_up_due_today() {
    let ctx = demo_ctx().await;
    let Outcome::NegotiationList(list) = ok(&ctx, "demo", "/negotiate status").await else { panic!() };
    assert_eq!(list.cases.len(), 1);
    let c = &list.cases[0];
    assert_eq!(c.payer, "Cigna");
    assert_eq!(c.stage.key(), "awaiting-answer");
    assert_eq!(c.days_since_last_contact, Some(14));
    let next = c.next.as_ref().unwrap();
    assert_eq!(next.step.key(), "follow-up");
    assert_eq!(next.due.to_string(), "2026-11-27");
    // The follow-up draft cites the request and the earlier follow-up from the log.
    let d = draft(&ctx, "demo", "/draft followup Cigna").await;
    assert!(
        d.body.contains("sent to Cigna on October 30, 2026, and on my earlier follow-up of November 13, 2026"),
        "{}",
        d.body
    );
    assert!(d.subject.as_deref().unwrap().contains("October 30, 2026"));
}

#[tokio::test]
async fn the_demo_makes_sense_on_any_day() {
    for now in ["2027-03-02T14:00:00Z", "2028-01-15T14:00:00Z"] {
        let (ctx, _) = ctx_at(now).await;
        let shown = demo::build(&ctx, "demo").await.unwrap();
        assert!(shown.iter().any(|(l, _)| l == "/negotiate status"));
        let Outcome::NegotiationList(list) = ok(&ctx, "demo", "/negotiate status").await else { panic!() };
        let next = list.cases[0].next.as_ref().unwrap();
        assert_eq!(next.step.key(), "follow-up");
        assert_eq!(next.due_in_days, 0, "{now}");
    }
}

#[tokio::test]
async fn draft_json_carries_the_letter_and_an_eml_attachment() {
    let ctx = demo_ctx().await;
    let out = ok(&ctx, "demo", "/draft request Cigna").await;
    let json = serde_json::to_value(&out).unwrap();
    for key in ["kind", "payer", "subject", "body", "placeholders", "warnings"] {
        assert!(json.get(key).is_some(), "{key} in {json}");
    }
    assert_eq!(json["kind"], "request");
    assert_eq!(json["payer"], "Cigna");
    assert!(json["placeholders"].as_array().unwrap().iter().any(|p| p == "[YOUR NAME AND TITLE]"));
    let reply = out.reply();
    assert_eq!(reply.visibility, raterise_commands::reply::Visibility::Private);
    let a = &reply.attachments[0];
    assert_eq!(a.filename, "cigna-request-2026-11-27.eml");
    assert!(
        a.content.starts_with("To: \"Dana Whitfield\" <dana.whitfield@example.com>\r\nSubject: Rate review request: "),
        "{}",
        a.content
    );
    assert!(a.content.contains("Content-Type: text/plain; charset=utf-8\r\n"));
    assert!(a.content.contains("\r\n\r\nDear Dana Whitfield,\r\n"));
    // Scripts are attached as plain text.
    let call = ok(&ctx, "demo", "/draft call Cigna").await.reply();
    assert_eq!(call.attachments[0].filename, "cigna-call-2026-11-27.txt");
}

#[tokio::test]
async fn missing_facts_are_placeholders_listed_under_the_draft() {
    let (ctx, _) = ctx_at(TODAY).await;
    // No /setup at all, a payer with no contact, id or dates, one rate.
    ok(&ctx, "bare", "/payer add name:\"Blue Shield\" kind:commercial volume:\"90837=5\"").await;
    ok(&ctx, "bare", "/rate set \"Blue Shield\" 90837 100.00 effective:2025-01-01").await;
    let d = draft(&ctx, "bare", "/draft request \"Blue Shield\"").await;
    for p in [
        "[PROVIDER ID]",
        "[CONTACT NAME]",
        "[NPI]",
        "[TAX ID]",
        "[IN-NETWORK SINCE]",
        "[MEDICARE AMOUNT]",
        "[MEDICARE LOCALITY]",
        "[YOUR UTILIZATION FIGURES]",
        "[YOUR NAME AND TITLE]",
    ] {
        assert!(d.body.contains(p) || d.subject.as_deref().unwrap_or_default().contains(p), "{p} in {}", d.body);
        assert!(d.placeholders.iter().any(|x| x == p), "{p} listed: {:?}", d.placeholders);
    }
    assert!(!d.body.contains("None") && !d.body.contains("none"), "{}", d.body);
    assert!(!d.body.contains(": \n"), "a blank fact: {}", d.body);
    assert!(d.warnings.iter().any(|w| w.contains("/setup locality:")), "{:?}", d.warnings);
    assert_eq!(d.to, None, "no contact email on file");
    let text = Outcome::Draft(d).reply().to_text();
    assert!(text.contains("Fill in before sending:\n  - [PROVIDER ID] (or save it with /payer edit name:\"Blue Shield\" provider_id:)"), "{text}");

    // The follow-up without a case: the dates are placeholders too, and the warning says why.
    let d = draft(&ctx, "bare", "/draft followup \"Blue Shield\"").await;
    assert!(d.placeholders.contains(&"[DATE OF YOUR WRITTEN REQUEST]".to_string()), "{:?}", d.placeholders);
    assert!(d.warnings.iter().any(|w| w.contains("no open negotiation")), "{:?}", d.warnings);
    // The exit notice without a date.
    let d = draft(&ctx, "bare", "/draft exit-notice \"Blue Shield\"").await;
    assert!(d.body.contains("will be [LAST DAY IN NETWORK]"), "{}", d.body);
    assert!(d.body.contains("30 to 60 days ahead"), "{}", d.body);
}

#[tokio::test]
async fn hostile_text_comes_out_verbatim() {
    let ctx = demo_ctx().await;
    let hostile = "{{ 7*7 }} {% for x in range(3) %}x{% endfor %} {% for %} {# gone? #} {{ practice.npi }}";
    let line = format!("/draft request Cigna note:'{}' signer:'{}'", hostile, "{{ payer.name }}");
    let d = draft(&ctx, "demo", &line).await;
    assert!(d.body.contains(hostile), "{}", d.body);
    assert!(d.body.contains("\n{{ payer.name }}\n"), "the signer is data too: {}", d.body);
    assert!(!d.body.contains("49") && !d.body.contains(" xxx "), "{}", d.body);

    // A note in the case log reaches a draft as data as well.
    ok(&ctx, "demo", &format!("/negotiate outcome Cigna denied note:'{hostile}'")).await;
    let d = draft(&ctx, "demo", "/draft rejection Cigna").await;
    assert!(d.body.contains(&format!("What they said: {hostile}")), "{}", d.body);
    // Bracketed text a user typed is not mistaken for a placeholder to fill.
    ok(&ctx, "demo", "/negotiate log Cigna note note:\"[URGENT] call back\"").await;
    let d = draft(&ctx, "demo", "/draft request Cigna note:\"[URGENT] see above\"").await;
    assert!(!d.placeholders.iter().any(|p| p == "[URGENT]"), "{:?}", d.placeholders);
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("raterise-templates-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn a_broken_override_falls_back_to_the_built_in_with_its_name_and_line() {
    let ctx = demo_ctx().await;
    let builtin = draft(&ctx, "demo", "/draft request Cigna").await;

    let dir = temp_dir("broken");
    // request: a syntax error on line 3. followup: compiles, but names a variable that does not
    // exist on line 2. call: a working override.
    std::fs::write(dir.join("request.txt.j2"), "Subject: Hi\n\n{% if payer.name %}never closed\n").unwrap();
    std::fs::write(dir.join("followup.txt.j2"), "Subject: Hi\n{{ payer.nickname }}\n").unwrap();
    std::fs::write(dir.join("call.txt.j2"), "Call {{ payer.name }} about {{ codes|length }} codes. {{ note }}\n")
        .unwrap();
    std::fs::write(dir.join("unknown.txt.j2"), "{{ ignored }}").unwrap();
    let ctx = ctx.with_templates_dir(&dir).unwrap();

    let d = draft(&ctx, "demo", "/draft request Cigna").await;
    assert_eq!(d.body, builtin.body, "the built-in request was used");
    assert_eq!(d.template, "built-in");
    assert_eq!(d.warnings.len(), 1, "{:?}", d.warnings);
    assert!(d.warnings[0].contains("request.txt.j2 line 3"), "{}", d.warnings[0]);
    assert!(d.warnings[0].contains("built-in request.txt.j2 was used instead"), "{}", d.warnings[0]);
    assert!(Outcome::Draft(d).reply().to_text().contains("Warnings:\n  - The override template request.txt.j2 line 3"));

    let d = draft(&ctx, "demo", "/draft followup Cigna").await;
    assert!(d.warnings.iter().any(|w| w.contains("followup.txt.j2 line 2")), "{:?}", d.warnings);
    assert!(d.body.contains("I am following up on the rate review request"), "fell back: {}", d.body);

    let d = draft(&ctx, "demo", "/draft call Cigna note:'{{ 7*7 }}'").await;
    assert_eq!(d.body, "Call Cigna about 4 codes. {{ 7*7 }}\n");
    assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    assert_eq!(d.template, dir.display().to_string());
    // A kind without an override keeps the built-in.
    assert!(draft(&ctx, "demo", "/draft counter Cigna").await.body.contains("OUR PROPOSAL"));

    let missing = ctx.clone().with_templates_dir(&dir.join("nope")).unwrap_err();
    assert!(missing.user_message().contains("is not a folder"), "{}", missing.user_message());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_override_that_runs_away_is_stopped_by_fuel() {
    let ctx = demo_ctx().await;
    let dir = temp_dir("fuel");
    std::fs::write(
        dir.join("call.txt.j2"),
        "{% for i in range(100000) %}{% for j in range(100000) %}{{ i }}{% endfor %}{% endfor %}",
    )
    .unwrap();
    let ctx = ctx.with_templates_dir(&dir).unwrap();
    let d = draft(&ctx, "demo", "/draft call Cigna").await;
    assert!(d.warnings.iter().any(|w| w.contains("call.txt.j2") && w.contains("fuel")), "{:?}", d.warnings);
    assert!(d.body.starts_with("Call script: Cigna"), "{}", d.body);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn outcomes_record_rates_and_the_yearly_increase() {
    let (ctx, clock) = ctx_at("2026-09-01T15:00:00Z").await;
    let p = "walk";
    ok(&ctx, p, "/setup locality:\"MANHATTAN, NY\" credential:lcsw").await;
    ok(&ctx, p, "/payer add name:Cigna kind:commercial volume:\"90837=10 90834=5\"").await;
    ok(&ctx, p, "/rate set Cigna 90837 118.50 effective:2024-01-01").await;
    ok(&ctx, p, "/rate set Cigna 90834 88.00 effective:2024-01-01").await;
    let Outcome::NegotiationStarted(s) = ok(&ctx, p, "/negotiate start Cigna ask:\"10% 90837=140\"").await else {
        panic!()
    };
    let asks: Vec<(String, Cents)> = s.rows.iter().map(|r| (r.cpt.clone(), r.requested_cents)).collect();
    assert_eq!(asks, vec![("90834".into(), Cents(9680)), ("90837".into(), Cents(14000))]);
    // (21.50 x 10 + 8.80 x 5) x 48 weeks
    assert_eq!(s.yearly_if_granted_cents, Cents((2150 * 10 + 880 * 5) * 48));

    ok(&ctx, p, "/negotiate log Cigna written-request").await;
    clock.advance(chrono::Duration::days(40));
    let Outcome::NegotiationOutcome(o) =
        ok(&ctx, p, "/negotiate outcome Cigna countered rates:\"90837=125 90834=92\" effective:2026-11-01").await
    else {
        panic!()
    };
    assert_eq!(o.stage.key(), "counter-offer-received");
    assert!(!o.closed);
    assert_eq!(o.yearly_increase_cents, Cents((650 * 10 + 400 * 5) * 48));

    // Accepting without rates takes the offer, which only now enters the rate history (from the
    // date it came with); the increase is still measured from the rates when the case opened.
    let Outcome::NegotiationOutcome(o) = ok(&ctx, p, "/negotiate outcome Cigna accepted").await else { panic!() };
    assert!(o.closed);
    assert!(o.rows.iter().all(|r| r.recorded));
    let r90837 = o.rows.iter().find(|r| r.cpt == "90837").unwrap();
    assert_eq!(
        (r90837.before_cents, r90837.new_cents, r90837.increase_pct),
        (Some(Cents(11850)), Cents(12500), Some(5.5))
    );
    assert_eq!(r90837.yearly_cents, Some(Cents(650 * 10 * 48)));
    let Outcome::RateHistory(h) = ok(&ctx, p, "/rate history Cigna cpt:90837").await else { panic!() };
    assert_eq!(h.rows.iter().map(|r| r.amount).collect::<Vec<_>>(), vec![Cents(12500), Cents(11850)]);
    let text = Outcome::NegotiationOutcome(o).reply().to_text();
    assert!(text.contains("+$4,080.00 a year at your volume (48 weeks)"), "{text}");
    assert!(text.contains("2026-11-01"), "the offer's own effective date: {text}");

    // The case is closed: the payer is free for a new one.
    let e = run(&ctx, p, "/negotiate log Cigna note").await.unwrap_err();
    assert!(e.user_message().contains("no open negotiation"), "{}", e.user_message());
    ok(&ctx, p, "/negotiate start Cigna").await;
}

#[tokio::test]
async fn refused_moves_say_why_and_change_nothing() {
    let ctx = demo_ctx().await;
    let e = |r: Result<Outcome, AppError>| r.unwrap_err().user_message();
    let before = ctx.store.audit_trail(1, 1000).await.unwrap().len();
    assert!(e(run(&ctx, "demo", "/negotiate start Cigna").await).contains("already has an open negotiation"));
    assert!(e(run(&ctx, "demo", "/negotiate start Medicare").await).contains("benchmark"));
    assert!(e(run(&ctx, "demo", "/negotiate start \"NY Medicaid\"").await).contains("set by the state"));
    assert!(e(run(&ctx, "demo", "/negotiate log Aetna call").await).contains("no open negotiation with Aetna"));
    assert!(e(run(&ctx, "demo", "/negotiate log Cigna accepted").await)
        .contains("/negotiate outcome payer:Cigna result:accepted"));
    assert!(e(run(&ctx, "demo", "/negotiate log Cigna call").await).contains("follow-up"));
    assert!(e(run(&ctx, "demo", "/negotiate log Cigna follow-up date:2027-01-01").await).contains("in the future"));
    assert!(e(run(&ctx, "demo", "/negotiate log Cigna follow-up date:2020-01-01").await)
        .contains("before the case was opened"));
    assert!(e(run(&ctx, "demo", "/negotiate outcome Cigna countered").await).contains("rates:"));
    assert!(e(run(&ctx, "demo", "/negotiate outcome Cigna denied rates:5%").await).contains("no new rates"));
    assert!(e(run(&ctx, "demo", "/negotiate outcome Cigna accepted rates:\"90837=abc\"").await).contains("90837"));
    assert!(e(run(&ctx, "demo", "/negotiate start Aetna ask:\"90837=100\"").await).contains("not above the current"));
    assert!(e(run(&ctx, "demo", "/draft request Medicare").await).contains("opt out"));
    assert!(e(run(&ctx, "demo", "/draft memo Cigna").await).contains("contract-questions"));
    assert_eq!(ctx.store.audit_trail(1, 1000).await.unwrap().len(), before, "a refused command writes nothing");
}

#[tokio::test]
async fn the_case_file_is_entered_shown_and_quoted() {
    let ctx = demo_ctx().await;
    let Outcome::CaseFile(f) = ok(&ctx, "demo", "/practice show").await else { panic!() };
    assert_eq!(f.file.utilization.len(), 2);
    assert_eq!(f.file.outcomes.len(), 2);
    assert_eq!(f.file.credentials.len(), 5);
    let text = Outcome::CaseFile(f).reply().to_text();
    assert!(text.contains("PHQ-9: 61% of 212 clients improved meaningfully, average change -5.9 points"), "{text}");
    let Outcome::CaseFile(f) = ok(&ctx, "demo", "/practice show Cigna").await else { panic!() };
    assert_eq!(f.file.utilization.len(), 1);

    let e = run(&ctx, "demo", "/practice utilization Cigna from:2026-01-01 to:2025-01-01 claims:10 patients:2").await;
    assert!(e.unwrap_err().user_message().contains("before from"));
    let e = run(&ctx, "demo", "/practice utilization Cigna from:2025-01-01 to:2025-12-31 claims:10 patients:20").await;
    assert!(e.unwrap_err().user_message().contains("at least one claim"));
    let e = run(&ctx, "demo", "/practice outcome measure:PHQ-9 clients:10").await;
    assert!(e.unwrap_err().user_message().contains("improved:"));
    ok(&ctx, "demo", "/practice remove credential EMDR").await;
    let d = draft(&ctx, "demo", "/draft request Cigna").await;
    assert!(!d.body.contains("EMDR") && d.body.contains("DBT"), "{}", d.body);
    let e = run(&ctx, "demo", "/practice remove credential EMDR").await.unwrap_err();
    assert!(e.user_message().contains("no credential entry named `EMDR`"), "{}", e.user_message());
}

#[tokio::test]
async fn parsers_of_user_input_never_panic_and_round_trip() {
    use raterise_commands::domain::stage::EventKind;
    use raterise_commands::handlers::negotiate::{PayerResult, RateList};
    use raterise_commands::handlers::practice::{change_text, parse_change, parse_share, share_text};
    let (ctx, _) = ctx_at(TODAY).await;
    let alphabet: Vec<char> = "0123456789.,;%=:+- $abcdeXYZé\"'{}\t".chars().collect();
    // xorshift64: the same inputs on every run.
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let len = (next() % 24) as usize;
        let s: String = (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
        if let Ok(list) = RateList::parse(&ctx, "ask", &s) {
            assert!(list.percent.is_some_and(|p| p > 0 && p <= 10_000) || !list.per_code.is_empty(), "{s:?}");
            assert!(list.per_code.iter().all(|(_, c)| c.0 > 0 && c.0 <= 200_000), "{s:?}");
        }
        if let Ok(bp) = parse_share("x", &s) {
            assert!((0..=10_000).contains(&bp), "{s:?}");
        }
        if let Ok(t) = parse_change("x", &s) {
            assert!(t.abs() < 10_000, "{s:?}");
        }
        let _ = s.parse::<EventKind>();
        let _ = s.parse::<DraftKind>();
        let _ = s.parse::<PayerResult>();
    }
    for bp in (0..=10_000).step_by(10) {
        assert_eq!(parse_share("x", &share_text(bp)).unwrap(), bp);
    }
    for t in -999..=999 {
        assert_eq!(parse_change("x", &change_text(t)).unwrap(), t);
    }
    let list = RateList::parse(&ctx, "ask", "8%, 90837=140;90834:105.5").unwrap();
    assert_eq!(list.percent, Some(800));
    assert_eq!(list.per_code, vec![("90837".to_string(), Cents(14000)), ("90834".to_string(), Cents(10550))]);
    for bad in ["", "8% 9%", "90837", "99999=10", "90837=0", "90837=5000", "lots%"] {
        assert!(RateList::parse(&ctx, "ask", bad).is_err(), "{bad:?}");
    }
}
