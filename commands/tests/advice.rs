//! /walkaway, /strategy and /timing on the demo practice and on practices built to trip each
//! rule, in process with a pinned clock.

use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::handlers::timing::OpeningKind;
use raterise_commands::handlers::walkaway::Verdict;
use raterise_commands::store::Store;
use raterise_commands::{demo, dispatch, AppError, Ctx, Outcome};
use std::sync::Arc;

async fn ctx() -> Ctx {
    let clock = ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap());
    Ctx::new(Store::open_in_memory().await.unwrap(), Arc::new(clock)).await.unwrap()
}

async fn run(ctx: &Ctx, practice: &str, line: &str) -> Result<Outcome, AppError> {
    dispatch(ctx, &demo::invocation(practice, line)?).await
}

async fn ok(ctx: &Ctx, practice: &str, line: &str) -> Outcome {
    run(ctx, practice, line).await.unwrap_or_else(|e| panic!("`{line}`: {}", e.user_message()))
}

#[tokio::test]
async fn walkaway_scores_each_red_flag_from_the_practice_numbers() {
    let ctx = ctx().await;
    for line in [
        r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#,
        r#"/payer add name:Aetna kind:commercial volume:"90837=40""#,
        r#"/payer add name:Skimp kind:commercial volume:"90837=1""#,
        "/rate set Aetna 90837 150",
        "/rate set Skimp 90837 90",
        "/practice utilization payer:Skimp from:2025-11-01 to:2026-10-31 claims:50 patients:4 clean_claims:82% days_to_pay:75",
    ] {
        ok(&ctx, "p", line).await;
    }
    let Outcome::Walkaway(card) = ok(&ctx, "p", "/walkaway Skimp").await else { panic!("not a scorecard") };
    let verdict = |flag: &str| card.flags.iter().find(|f| f.flag.starts_with(flag)).unwrap().verdict;
    // $90 against the LCSW Manhattan amount for 90837 ($136.48) is 65.9%.
    assert_eq!(verdict("rates below 80%"), Verdict::Red);
    assert_eq!(verdict("chronic payment delays"), Verdict::Red);
    assert_eq!(verdict("heavy admin burden"), Verdict::Red);
    assert_eq!(verdict("low client volume"), Verdict::Red, "1 of 41 weekly sessions");
    assert_eq!(verdict("repeated attempts"), Verdict::Clear);
    assert_eq!(card.red, 4);
    assert!(card.recommendation.contains("worth weighing seriously"), "{}", card.recommendation);
    assert!(
        card.before_leaving.iter().any(|l| l.contains("48 sessions a year across 4 clients")),
        "{:?}",
        card.before_leaving
    );

    let Outcome::Walkaway(good) = ok(&ctx, "p", "/walkaway Aetna").await else { panic!() };
    assert_eq!(good.red, 0);
    assert_eq!(good.flags.iter().filter(|f| f.verdict == Verdict::Unknown).count(), 2, "no utilization for Aetna");
    assert!(good.flags.iter().filter_map(|f| f.to_record.as_deref()).all(|r| r.starts_with("/practice utilization")));
}

#[tokio::test]
async fn strategy_follows_the_payer_kind_and_checks_the_case_file() {
    let ctx = ctx().await;
    demo::build(&ctx, "demo").await.unwrap();
    let Outcome::Strategy(eap) = ok(&ctx, "demo", r#"/strategy "Lyra EAP""#).await else { panic!() };
    assert!(eap.levers.iter().any(|l| l.contains("volume commitment")));
    assert!(eap.expected.contains("5-25%"), "no agreed case yet: first round");
    let utilization = eap.readiness.iter().find(|r| r.item.starts_with("utilization")).unwrap();
    assert!(!utilization.ready && utilization.detail.starts_with("/practice utilization"));
    let Outcome::Strategy(mbho) = ok(&ctx, "demo", r#"/strategy "Optum Behavioral Health""#).await else { panic!() };
    assert!(mbho.approach.contains("data-driven"));
    let Outcome::Strategy(medicare) = ok(&ctx, "demo", "/strategy Medicare").await else { panic!() };
    assert!(medicare.approach.contains("nothing to negotiate"));
    let e = run(&ctx, "demo", "/strategy Cygna").await.unwrap_err().user_message();
    assert!(e.contains("Cigna"), "{e}");
}

#[tokio::test]
async fn timing_lists_windows_reviews_and_the_medicare_year_in_date_order() {
    let ctx = ctx().await;
    demo::build(&ctx, "demo").await.unwrap();
    let Outcome::Timing(t) = ok(&ctx, "demo", "/timing").await else { panic!() };
    let cigna_window = t
        .openings
        .iter()
        .find(|o| o.kind == OpeningKind::RenewalWindowOpens && o.payer.as_deref() == Some("Cigna"))
        .expect("Cigna's window opens 2026-12-01");
    assert_eq!(cigna_window.date.to_string(), "2026-12-01");
    assert!(t.openings.iter().any(|o| o.kind == OpeningKind::RateReviewDue && o.payer.as_deref() == Some("Cigna")));
    // 2025 -> 2026 Manhattan LCSW 90837: $126.98 -> $136.48.
    let medicare = t.openings.iter().find(|o| o.kind == OpeningKind::NewMedicareYear).unwrap();
    assert!(medicare.what.contains("$126.98 to $136.48"), "{}", medicare.what);
    assert!(t.openings.windows(2).all(|w| w[0].date <= w[1].date));
    assert!(!t.openings.iter().any(|o| o.payer.as_deref() == Some("NY Medicaid")), "fixed schedules have no window");
    let Outcome::Timing(short) = ok(&ctx, "demo", "/timing days:3").await else { panic!() };
    assert!(short.openings.iter().all(|o| o.date.to_string().as_str() <= "2026-11-30"));
    assert!(run(&ctx, "demo", "/timing days:0").await.unwrap_err().user_message().contains("1 to 730"));
}
