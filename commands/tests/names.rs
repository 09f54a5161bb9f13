//! Names people cannot tell apart, and text with no end (issue 15, item 6): payer and practice
//! names are NFKC, invisible and bidi control characters are refused, lookups compare canonical
//! forms, and every free-text value has a cap.

use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::store::Store;
use raterise_commands::{demo, dispatch, AppError, Ctx, Outcome};
use std::sync::Arc;

async fn ctx() -> Ctx {
    let clock = ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap());
    Ctx::new(Store::open_in_memory().await.unwrap(), Arc::new(clock)).await.unwrap()
}

async fn run(ctx: &Ctx, line: &str) -> Result<Outcome, AppError> {
    dispatch(ctx, &demo::invocation("p", line)?).await
}

fn refusal(r: Result<Outcome, AppError>) -> String {
    match r {
        Err(AppError::User(m)) => m,
        other => panic!("expected a user error, got {other:?}"),
    }
}

#[tokio::test]
async fn invisible_characters_are_refused_and_lookalikes_are_the_same_payer() {
    let ctx = ctx().await;
    run(&ctx, "/payer add name:Cigna").await.unwrap();
    for bad in ["Cig\u{200B}na", "\u{202E}angiC", "Cig\u{2066}na", "\u{FEFF}Cigna"] {
        let m = refusal(run(&ctx, &format!("/payer add name:\"{bad}\"")).await);
        assert!(m.contains("invisible") && m.contains("U+"), "{bad:?}: {m}");
    }
    // Fullwidth letters are the same name: a second Cigna is refused, and lookups find it.
    let m = refusal(run(&ctx, "/payer add name:Ｃｉｇｎａ").await);
    assert!(m.contains("already have a payer named"), "{m}");
    let Outcome::RateSet(set) = run(&ctx, "/rate set payer:Ｃｉｇｎａ cpt:90837 amount:118.50").await.unwrap()
    else {
        panic!()
    };
    assert_eq!(set.payer, "Cigna");
    let Outcome::PayerList(list) = run(&ctx, "/payer list").await.unwrap() else { panic!() };
    assert_eq!(list.payers.len(), 1);
    // A rename is held to the same rules.
    let m = refusal(run(&ctx, "/payer edit name:Cigna rename:\"Ci\u{200D}gna\"").await);
    assert!(m.contains("invisible"), "{m}");
    // Practice names too.
    let m = refusal(run(&ctx, "/setup name:\"River\u{202E}bend\"").await);
    assert!(m.contains("practice name") && m.contains("U+202E"), "{m}");
    let Outcome::Setup(s) = run(&ctx, "/setup name:\"Ｒｉｖｅｒｂｅｎｄ Counseling\"").await.unwrap() else {
        panic!()
    };
    assert_eq!(s.practice, "Riverbend Counseling");
}

#[tokio::test]
async fn free_text_has_a_cap() {
    let ctx = ctx().await;
    run(&ctx, "/payer add name:Cigna").await.unwrap();
    let huge = "n".repeat(1_000_000);
    let m = refusal(run(&ctx, &format!("/payer edit name:Cigna notes:{huge}")).await);
    assert!(m.contains("`notes` has 1000000 characters") && m.contains("1000"), "{}", &m[..m.len().min(200)]);
    let m = refusal(run(&ctx, &format!("/payer add name:Aetna notes:{}", "n".repeat(1001))).await);
    assert!(m.contains("notes"), "{m}");
    let m = refusal(run(&ctx, &format!("/payer edit name:Cigna contact_name:{}", "c".repeat(201))).await);
    assert!(m.contains("contact_name"), "{m}");
    // Within the caps, all is kept.
    run(&ctx, &format!("/payer edit name:Cigna notes:{}", "n".repeat(1000))).await.unwrap();
}
