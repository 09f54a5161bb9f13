//! Issue 10, section 6: finding things by the names people use. Localities by ZIP, county and
//! city through /setup; payers by their short forms; every code of the Medicare files recordable.

use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::store::Store;
use raterise_commands::{demo, dispatch, AppError, Ctx, Outcome};
use std::sync::Arc;

const P: &str = "names";

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

async fn refused(ctx: &Ctx, line: &str) -> String {
    match run(ctx, line).await {
        Ok(o) => panic!("`{line}` was accepted: {}", o.reply().to_text()),
        Err(e) => e.user_message(),
    }
}

async fn setup_locality(ctx: &Ctx, given: &str) -> (String, Option<String>, String) {
    let o = ok(ctx, &format!("/setup locality:\"{given}\" credential:lcsw")).await;
    let text = o.reply().to_text();
    let Outcome::Setup(s) = o else { panic!("{given}") };
    (s.locality_id.unwrap(), s.locality_note, text)
}

#[tokio::test]
async fn setup_takes_a_zip_a_county_or_a_city() {
    let ctx = ctx().await;
    assert_eq!(setup_locality(&ctx, "60614").await.0, "06102-16");
    assert_eq!(setup_locality(&ctx, "Cook County, IL").await.0, "06102-16");
    assert_eq!(setup_locality(&ctx, "DuPage County, IL").await.0, "06102-15");
    assert_eq!(setup_locality(&ctx, "Los Angeles, CA").await.0, "01182-18");
    // DC-suburb ZIPs sit under MD/VA in CMS's state column but price in the DC locality.
    assert_eq!(setup_locality(&ctx, "22201").await.0, "12202-01");
    // A county CMS does not list: the rest of the state, and the reply says why.
    let (id, note, text) = setup_locality(&ctx, "Champaign County, IL").await;
    assert_eq!(id, "06102-99");
    assert!(note.is_some() && text.contains("REST OF ILLINOIS"), "{text}");
    // Several localities for one city: suggestions, nothing saved.
    let msg = refused(&ctx, "/setup locality:\"San Jose, CA\"").await;
    assert!(msg.contains("SAN JOSE-SUNNYVALE-SANTA CLARA"), "{msg}");
    let Outcome::Setup(s) = ok(&ctx, "/setup").await else { panic!() };
    assert_eq!(s.locality_id.as_deref(), Some("06102-99"));
}

#[tokio::test]
async fn a_zip_crossing_a_locality_line_says_the_address_decides() {
    let ctx = ctx().await;
    // 20120 (Centreville, VA; DC locality) is flagged by CMS as crossing a locality line.
    let (_, note, text) = setup_locality(&ctx, "20120").await;
    let note = note.expect("a note for a ZIP crossing a locality line");
    assert!(note.contains("exact address"), "{note}");
    assert!(text.contains("exact address"), "{text}");
    // --json carries it.
    let Outcome::Setup(s) = ok(&ctx, "/setup locality:20120").await else { panic!() };
    let v = serde_json::to_value(&s).unwrap();
    assert!(v["locality_note"].as_str().unwrap().contains("exact address"));
    let Outcome::Setup(s) = ok(&ctx, "/setup locality:60614").await else { panic!() };
    assert!(serde_json::to_value(&s).unwrap().get("locality_note").is_none());
}

#[tokio::test]
async fn payers_are_found_by_their_short_forms() {
    let ctx = ctx().await;
    for line in [
        r#"/setup locality:"Cook County, IL" credential:lcsw"#,
        r#"/payer add name:"Blue Cross Blue Shield of Illinois" kind:commercial"#,
        "/payer add name:UnitedHealthcare kind:commercial",
        r#"/payer add name:"Optum Behavioral Health" kind:mbho"#,
        "/payer add name:Aetna kind:commercial",
    ] {
        ok(&ctx, line).await;
    }
    ok(&ctx, "/rate set UHC 90837 120.00 effective:2026-01-01").await;
    ok(&ctx, "/rate set BCBS 90837 110.00 effective:2026-01-01").await;
    ok(&ctx, r#"/rate set "Blue Cross" 90834 80.00 effective:2026-01-01"#).await;
    ok(&ctx, "/rate set optum 90837 100.00 effective:2026-01-01").await;
    let Outcome::Rates(r) = ok(&ctx, "/rates uhc").await else { panic!() };
    assert_eq!(r.payer, "UnitedHealthcare");
    let Outcome::Rates(r) = ok(&ctx, "/rates bcbs").await else { panic!() };
    assert_eq!(r.payer, "Blue Cross Blue Shield of Illinois");
    assert_eq!(r.rows.len(), 2);
    // A second BCBS plan: the short form no longer names one, and both are offered first.
    ok(&ctx, r#"/payer add name:"BCBS Texas" kind:commercial"#).await;
    let msg = refused(&ctx, "/rates BCBS").await;
    assert!(msg.contains("Blue Cross Blue Shield of Illinois") && msg.contains("BCBS Texas"), "{msg}");
    // A misspelling still gets the closest names, the real match first.
    let msg = refused(&ctx, "/rates Atena").await;
    assert!(msg.contains("Closest: Aetna"), "{msg}");
    let msg = refused(&ctx, "/rates Unit").await;
    assert!(msg.contains("Closest: UnitedHealthcare"), "{msg}");
}

#[tokio::test]
async fn every_code_of_the_medicare_files_can_be_recorded() {
    let ctx = ctx().await;
    ok(&ctx, r#"/setup locality:"Cook County, IL" credential:psychologist"#).await;
    ok(&ctx, "/payer add name:Cigna kind:commercial").await;
    // Codes that came with the fuller files: testing, health behavior, collaborative care,
    // G2211, and a status-N code (recorded; Medicare has no amount for it).
    for code in ["96132", "96133", "90845", "96158", "99492", "G2211", "96170"] {
        ok(&ctx, &format!("/rate set Cigna {code} 50.00 effective:2026-01-01")).await;
    }
    let Outcome::Rates(r) = ok(&ctx, "/rates Cigna").await else { panic!() };
    let row = |c: &str| r.rows.iter().find(|x| x.cpt == c).unwrap_or_else(|| panic!("{c}"));
    for code in ["96132", "96133", "90845", "96158", "99492", "G2211"] {
        assert!(row(code).medicare_cents.is_some(), "{code}");
    }
    assert!(row("96170").medicare_cents.is_none());
    assert!(row("96170").medicare_note.as_deref().unwrap_or("").contains("not cover"));
}
