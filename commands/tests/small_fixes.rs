//! The small fixes of issue 10, section 7, one test each: explicit asks, the +25% cap, add-on
//! codes and dollar raises, the same rate twice, an exit notice in the past, suggestions that
//! would be refused, payers without volume, and singular/plural.

use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::domain::Cents;
use raterise_commands::store::Store;
use raterise_commands::{demo, dispatch, AppError, Ctx, Outcome};
use std::sync::Arc;

const P: &str = "fixes";

async fn ctx() -> Ctx {
    let clock = ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap());
    Ctx::new(Store::open_in_memory().await.unwrap(), Arc::new(clock)).await.unwrap()
}

async fn run(ctx: &Ctx, line: &str) -> Result<Outcome, AppError> {
    dispatch(ctx, &demo::invocation(P, line)?).await
}

async fn ok(ctx: &Ctx, line: &str) -> Outcome {
    run(ctx, line).await.unwrap_or_else(|e| panic!("`{line}`: {}", e.user_message()))
}

async fn practice(ctx: &Ctx) {
    for line in [
        r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#,
        r#"/payer add name:Cigna kind:commercial volume:"90837=10 90834=5 90785=3""#,
        "/payer add name:Quiet kind:commercial",
        "/rate set Cigna 90837 118.50 effective:2024-01-01",
        "/rate set Cigna 90834 88.00 effective:2024-01-01",
        "/rate set Cigna 90785 15.00 effective:2024-01-01",
        "/rate set Quiet 90837 99.50 effective:2025-01-01",
    ] {
        ok(ctx, line).await;
    }
}

#[tokio::test]
async fn an_explicit_ask_takes_only_the_codes_named() {
    let ctx = ctx().await;
    practice(&ctx).await;
    let Outcome::NegotiationStarted(s) = ok(&ctx, r#"/negotiate start Cigna ask:"90837=140""#).await else { panic!() };
    assert_eq!(s.rows.iter().map(|r| r.cpt.as_str()).collect::<Vec<_>>(), vec!["90837"]);
}

#[tokio::test]
async fn a_capped_ask_never_shows_more_than_the_cap() {
    let ctx = ctx().await;
    practice(&ctx).await;
    // Quiet pays $99.50 against a Medicare amount of $136.48: the ask is capped at +25%, and
    // 99.50 x 1.25 = 124.375 is asked as $124.37 (rounded down), never $124.38 (+25.005%).
    let o = ok(&ctx, "/rates Quiet").await;
    let Outcome::Rates(r) = &o else { panic!() };
    let ask = r.rows[0].ask.as_ref().unwrap();
    assert!(ask.rule.contains("capped at +25%"), "{}", ask.rule);
    assert_eq!(ask.rate_cents, Cents(12437));
    assert!(ask.increase_pct.unwrap() <= 25.0, "{:?}", ask.increase_pct);
}

#[tokio::test]
async fn a_dollar_raise_leaves_add_on_codes_out_unless_asked() {
    let ctx = ctx().await;
    practice(&ctx).await;
    let o = ok(&ctx, "/impact Cigna 10").await;
    let Outcome::Impact(i) = &o else { panic!() };
    assert!(i.rows.iter().all(|r| r.cpt != "90785"), "{:?}", i.rows);
    assert_eq!(i.yearly_change_cents, Cents(1000 * 15 * 48));
    assert!(o.reply().to_text().contains("add_ons:include"));
    let Outcome::Impact(all) = ok(&ctx, "/impact Cigna 10 add_ons:include").await else { panic!() };
    assert!(all.rows.iter().any(|r| r.cpt == "90785"));
    // A percentage scales with each code, add-ons included.
    let Outcome::Impact(pct) = ok(&ctx, "/impact Cigna 10%").await else { panic!() };
    assert!(pct.rows.iter().any(|r| r.cpt == "90785"));
}

#[tokio::test]
async fn the_same_rate_again_adds_no_history_row() {
    let ctx = ctx().await;
    practice(&ctx).await;
    let o = ok(&ctx, "/rate set Cigna 90837 118.50 effective:2025-06-01").await;
    assert!(o.reply().to_text().contains("nothing was added"), "{}", o.reply().to_text());
    let Outcome::RateHistory(h) = ok(&ctx, "/rate history Cigna cpt:90837").await else { panic!() };
    assert_eq!(h.rows.len(), 1);
}

#[tokio::test]
async fn an_exit_notice_refuses_a_date_in_the_past() {
    let ctx = ctx().await;
    practice(&ctx).await;
    let e = run(&ctx, "/draft exit-notice Cigna date:2026-11-01").await.unwrap_err().user_message();
    assert!(e.contains("in the past"), "{e}");
    ok(&ctx, "/draft exit-notice Cigna date:2027-01-29").await;
}

#[tokio::test]
async fn a_suggested_next_step_is_never_a_refused_command() {
    let ctx = ctx().await;
    practice(&ctx).await;
    ok(&ctx, "/payer edit name:Quiet status:dropped").await;
    for line in ["/rates Quiet", "/strategy Quiet"] {
        let reply = ok(&ctx, line).await.reply();
        for a in &reply.actions {
            if let Err(e) = run(&ctx, &a.command_line).await {
                // Only the unfinished "fill in" actions may need more; a refusal is a bug.
                panic!("{line} suggests `{}`, which is refused: {}", a.command_line, e.user_message());
            }
        }
    }
}

#[tokio::test]
async fn without_volume_the_yearly_value_is_not_zero_dollars() {
    let ctx = ctx().await;
    practice(&ctx).await;
    let text = ok(&ctx, "/rates Quiet").await.reply().to_text();
    assert!(text.contains("add volume to see the yearly value"), "{text}");
    assert!(!text.contains("+$0.00"), "{text}");
    let text = ok(&ctx, "/impact Quiet 10").await.reply().to_text();
    assert!(text.contains("add volume to see the yearly value") && !text.contains("+$0.00"), "{text}");
    let text = ok(&ctx, "/negotiate start Quiet").await.reply().to_text();
    assert!(text.contains("add volume to see the yearly value") && !text.contains("+$0.00"), "{text}");
}

#[tokio::test]
async fn one_day_is_singular() {
    let ctx = ctx().await;
    practice(&ctx).await;
    ok(&ctx, "/negotiate start Cigna date:2026-11-26").await;
    ok(&ctx, "/negotiate log Cigna written-request date:2026-11-26").await;
    let text = ok(&ctx, "/negotiate status Cigna").await.reply().to_text();
    assert!(text.contains("(1 day ago)"), "{text}");
    assert!(!text.contains("1 days"), "{text}");
}
