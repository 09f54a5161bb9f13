//! Importing EHR claim exports: column aliases, SimplePractice's header, all-or-nothing
//! validation, idempotence, payer matching and the raw-bytes privacy check.

use raterise_commands::claims::{import_claims, ImportOptions, ImportSummary, Progress};
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::store::{Audit, Store};
use raterise_commands::{demo, dispatch, AppError, Ctx};
use std::sync::Arc;

const NOW: &str = "2026-11-27T15:00:00Z";

async fn ctx_with(store: Store) -> Ctx {
    let clock = ManualClock::new(parse_instant(NOW).unwrap());
    let ctx = Ctx::new(store, Arc::new(clock)).await.unwrap();
    for line in [
        r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#,
        "/payer add name:Cigna kind:commercial",
        r#"/payer add name:"BCBS Texas" kind:commercial"#,
        r#"/payer add name:"Optum Behavioral" kind:mbho"#,
    ] {
        dispatch(&ctx, &demo::invocation("p", line).unwrap()).await.unwrap_or_else(|e| panic!("{line}: {e}"));
    }
    ctx
}

async fn ctx() -> Ctx {
    ctx_with(Store::open_in_memory().await.unwrap()).await
}

async fn practice_id(ctx: &Ctx) -> i64 {
    let inv = demo::invocation("p", "/help").unwrap();
    raterise_commands::handlers::practice_for(ctx, &inv).await.unwrap().id
}

async fn import(ctx: &Ctx, csv: &str) -> Result<ImportSummary, AppError> {
    import_bytes(ctx, csv.as_bytes().to_vec(), &[]).await
}

async fn import_bytes(ctx: &Ctx, bytes: Vec<u8>, map: &[(&str, &str)]) -> Result<ImportSummary, AppError> {
    let audit = Audit { practice_id: practice_id(ctx).await, actor: "test:1".into(), at: ctx.clock.now() };
    let options = ImportOptions {
        source: "export.csv".into(),
        map: map.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        today: "2026-11-27".parse().unwrap(),
    };
    import_claims(&ctx.store, &audit, std::io::Cursor::new(bytes), &options, &Progress::default()).await
}

async fn claim_count(ctx: &Ctx) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM claims").fetch_one(ctx.store.pool()).await.unwrap()
}

const SMALL: &str = "\
Date of Service,Client,Clinician,CPT Code,Insurance,Units,Billed,Allowed,Insurance Paid,Date Paid,Claim Status
2026-01-05,Jane Smith,Dr A,90837,Cigna,1,200.00,118.50,118.50,2026-01-30,Paid
01/12/2026,\"Smith, Jane\",Dr A,90837,CIGNA Healthcare,1,200.00,,,,Denied
2026-01-19,Bob Jones,Dr B,90834,Blue Cross Blue Shield of Texas,1,150.00,95.00,95.00,2026-03-01,Paid
2026-01-20,Bob Jones,Dr B,90834,Self Pay,1,150.00,,,,
2026-01-21,Ann Lee,Dr B,90834,Mystery Health Plan,1,150.00,,,,Pending
Total,,,,,,850.00,,213.50,,
";

#[tokio::test]
async fn a_small_export_imports_with_matches_skips_and_unknown_payers() {
    let ctx = ctx().await;
    let s = import(&ctx, SMALL).await.unwrap();
    assert_eq!(s.rows, 6);
    assert_eq!(s.added, 3);
    assert_eq!(s.duplicates, 0);
    assert_eq!(s.skipped, 3, "self-pay, unknown payer and totals: {:?}", s.skipped_reasons);
    let unknown = s.payers.iter().find(|p| p.name == "Mystery Health Plan").unwrap();
    assert_eq!(unknown.matched, None);
    let bcbs = s.payers.iter().find(|p| p.name.starts_with("Blue Cross")).unwrap();
    assert_eq!(bcbs.matched.as_deref(), Some("BCBS Texas"));
    assert_eq!(claim_count(&ctx).await, 3);
    let json = serde_json::to_value(&s).unwrap();
    for key in ["rows", "added", "duplicates", "skipped", "payers"] {
        assert!(json.get(key).is_some(), "{key} missing from {json}");
    }

    let again = import(&ctx, SMALL).await.unwrap();
    assert_eq!((again.added, again.duplicates), (0, 3));
    assert_eq!(claim_count(&ctx).await, 3);
}

#[tokio::test]
async fn each_malformed_file_imports_nothing_and_says_where() {
    let ctx = ctx().await;
    let header = "Date of Service,Client,CPT Code,Insurance,Insurance Paid\n";
    let cases: &[(&str, &str)] = &[
        ("2026-01-05,Jane,90837,Cigna,10\n2026-13-45,Jane,90837,Cigna,10\n", "line 3, column `Date of Service`"),
        ("2026-01-05,Jane,90837,Cigna,10\n2026-01-06,Jane,ABCDE,Cigna,10\n", "line 3, column `CPT Code`"),
        ("2026-01-05,Jane,90837,Cigna,-10\n", "line 2, column `Insurance Paid`"),
        ("2026-01-05,Jane,90837,Cigna,(10.00)\n", "negative"),
        ("2026-01-05,,90837,Cigna,10\n", "line 2, column `Client`"),
        ("2026-01-05,Jane,90837,Cigna,10,extra\n", "line 2: expected 5 fields"),
    ];
    for (body, expected) in cases {
        let err = import(&ctx, &format!("{header}{body}")).await.unwrap_err();
        let msg = err.user_message();
        assert!(msg.contains("Nothing was imported"), "{msg}");
        assert!(msg.contains(expected), "expected `{expected}` in: {msg}");
        assert!(!msg.contains("Jane"), "a client's name reached the message: {msg}");
        assert_eq!(claim_count(&ctx).await, 0, "{body}");
    }
    let err = import(&ctx, "Date of Service,CPT Code,Insurance\n2026-01-05,90837,Cigna\n").await.unwrap_err();
    assert!(err.user_message().contains("no column for the client"), "{}", err.user_message());
    // A quoted field with a comma and a newline is one field.
    let ok = import(&ctx, &format!("{header}2026-01-05,\"Smith,\nJane\",90837,Cigna,10\n")).await.unwrap();
    assert_eq!(ok.added, 1);
}

#[tokio::test]
async fn bom_and_windows_1252_are_read() {
    let ctx = ctx().await;
    let mut bytes =
        b"\xEF\xBB\xBFDate of Service,Client,CPT Code,Insurance\n2026-01-05,Ren\xC3\xA9e,90837,Cigna\n".to_vec();
    assert_eq!(import_bytes(&ctx, bytes, &[]).await.unwrap().added, 1);
    bytes = b"Date of Service,Client,CPT Code,Insurance\n2026-01-05,Ren\xE9e,90837,Cigna\n".to_vec();
    let s = import_bytes(&ctx, bytes, &[]).await.unwrap();
    assert_eq!(serde_json::to_value(s.encoding).unwrap(), "windows-1252");
    // The same client either way: one claim.
    assert_eq!(s.added, 0);
}

#[tokio::test]
async fn map_names_unusual_columns() {
    let ctx = ctx().await;
    let csv = "Svc Dt,Who,Proc,Plan,Ins Amt\n2026-02-02,K1,90837,Cigna,100\n";
    assert!(import(&ctx, csv).await.is_err());
    let s = import_bytes(
        &ctx,
        csv.as_bytes().to_vec(),
        &[
            ("Svc Dt", "date_of_service"),
            ("Who", "client"),
            ("Proc", "cpt"),
            ("Plan", "payer"),
            ("Ins Amt", "insurance_paid"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(s.added, 1);
    let paid: i64 = sqlx::query_scalar("SELECT paid_cents FROM claims").fetch_one(ctx.store.pool()).await.unwrap();
    assert_eq!(paid, 10000);
}

#[tokio::test]
async fn a_later_export_moves_claims_forward_never_back() {
    let ctx = ctx().await;
    let h = "Date of Service,Client,CPT Code,Insurance,Insurance Paid,Date Paid,Claim Status\n";
    import(&ctx, &format!("{h}2026-01-05,Jane,90837,Cigna,,,Pending\n2026-01-06,Jane,90837,Cigna,,,Denied\n"))
        .await
        .unwrap();
    let s = import(
        &ctx,
        &format!(
            "{h}2026-01-05,Jane,90837,Cigna,100,2026-02-01,Paid\n2026-01-06,Jane,90837,Cigna,100,2026-03-01,Paid\n"
        ),
    )
    .await
    .unwrap();
    assert_eq!((s.added, s.duplicates, s.updated), (0, 2, 2));
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT service_date, outcome, resubmitted FROM claims ORDER BY service_date")
            .fetch_all(ctx.store.pool())
            .await
            .unwrap();
    assert_eq!(rows[0], ("2026-01-05".into(), "paid".into(), 0));
    assert_eq!(rows[1], ("2026-01-06".into(), "paid".into(), 1), "paid after a denial is not clean");
    let s = import(&ctx, &format!("{h}2026-01-05,Jane,90837,Cigna,,,Pending\n")).await.unwrap();
    assert_eq!((s.added, s.updated), (0, 0));
}

#[tokio::test]
async fn the_database_file_never_holds_a_client_name_or_id() {
    let dir = std::env::temp_dir().join(format!("raterise-privacy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("raterise.db");
    let store = Store::open(&db).await.unwrap();
    let ctx = ctx_with(store).await;
    let names = ["Zelda Quartermaine", "Xavier Plumtree", "ACCT-778812", "Winifred O'Toole"];
    let mut csv =
        String::from("Date of Service,Client,Client ID,Date of Birth,Member ID,Address,Notes,CPT Code,Insurance\n");
    for (i, n) in names.iter().enumerate() {
        csv.push_str(&format!(
            "2026-03-0{},{n},MRN{i}4471,1980-01-0{},MEMB99{i}12,\"12 Elm St, Springfield\",felt better,90837,Cigna\n",
            i + 1,
            i + 1
        ));
    }
    let s = import(&ctx, &csv).await.unwrap();
    assert_eq!(s.added, 4);
    let mut bytes = std::fs::read(&db).unwrap();
    if let Ok(wal) = std::fs::read(dir.join("raterise.db-wal")) {
        bytes.extend(wal);
    }
    let lower = String::from_utf8_lossy(&bytes).to_lowercase();
    let mut needles: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    needles.extend(
        ["zelda", "quartermaine", "plumtree", "778812", "mrn04471", "memb99012", "elm st", "felt better", "1980-01-01"]
            .map(String::from),
    );
    for n in &needles {
        assert!(!lower.contains(n.as_str()), "`{n}` found in the database file");
    }
    ctx.store.close().await;
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn the_readme_sample_imports() {
    let ctx = ctx().await;
    let s = import(&ctx, include_str!("../../docs/claims-sample.csv")).await.unwrap();
    assert_eq!((s.rows, s.added, s.skipped), (7, 6, 1), "{s:?}");
}

#[tokio::test]
async fn simplepractice_exports_import_in_both_variants() {
    let ctx = ctx().await;
    let full = "Date of Service,Client,Clinician,Billing Code,Primary Insurance,Secondary Insurance,Rate per Unit,Units,Total Fee,Progress Note Status,Client Payment Status,Charge,Uninvoiced,Paid,Unpaid,Insurance Payment Status,Charge,Paid,Unpaid,Write Off\n\
03/02/2026,Mara Quill,Dr A,90837,Cigna,,200.00,1,200.00,Complete,Paid,25.00,0.00,25.00,0.00,Paid,175.00,93.50,81.50,0.00\n";
    let s = import(&ctx, full).await.unwrap();
    assert_eq!(s.added, 1);
    let paid: i64 = sqlx::query_scalar("SELECT paid_cents FROM claims").fetch_one(ctx.store.pool()).await.unwrap();
    assert_eq!(paid, 9350, "the second Paid is the insurance's");
    let short = "Date of Service,Client,Clinician,Billing Code,Primary Insurance,Secondary Insurance,Rate per Unit,Units,Total Fee,Progress Note Status,Client Payment Status,Charge,Uninvoiced,Paid,Unpaid\n\
03/09/2026,Mara Quill,Dr A,90837,Cigna,,200.00,1,200.00,Complete,Paid,25.00,0.00,25.00,0.00\n";
    let s = import(&ctx, short).await.unwrap();
    assert_eq!(s.added, 1);
    let paid: Option<i64> = sqlx::query_scalar("SELECT paid_cents FROM claims WHERE service_date = '2026-03-09'")
        .fetch_one(ctx.store.pool())
        .await
        .unwrap();
    assert_eq!(paid, None, "the client's Paid is not the insurance's");
}

/// No input makes the import panic: mixes of the pieces CSV exports are made of, with random
/// bytes, always end in a summary or a refusal, and a refusal writes nothing. A proptest, so a
/// failure shrinks to a small input and prints it; PROPTEST_CASES raises the case count.
#[test]
fn arbitrary_input_never_panics() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    const PIECES: &[&str] = &[
        "Date of Service",
        "Client",
        "CPT Code",
        "Insurance",
        "Paid",
        "Charge",
        "Insurance Paid",
        "Claim Status",
        ",",
        ",",
        "\n",
        "\r\n",
        "\"",
        "\"\"",
        "2026-01-05",
        "13/45/2026",
        "90837",
        "9083",
        "Cigna",
        "Total",
        "-5",
        "(1.00)",
        "$1,000.00",
        "No Show",
        "Denied",
        "paid",
        "\u{feff}",
        "é",
        "🙂",
        " ",
        "\t",
        "Units",
        "0",
        "1.5",
    ];
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ctx = rt.block_on(ctx());
    let piece = prop_oneof![
        9 => proptest::sample::select(PIECES).prop_map(|p| p.as_bytes().to_vec()),
        1 => any::<u8>().prop_map(|b| vec![b]),
    ];
    let input = (any::<bool>(), proptest::collection::vec(piece, 0..40)).prop_map(|(header, pieces)| {
        let mut bytes = Vec::new();
        if header {
            bytes.extend_from_slice(b"Date of Service,Client,CPT Code,Insurance,Units,Paid\n");
        }
        bytes.extend(pieces.into_iter().flatten());
        bytes
    });
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    runner
        .run(&input, |bytes| {
            rt.block_on(async {
                let before = claim_count(&ctx).await;
                match import_bytes(&ctx, bytes, &[]).await {
                    Ok(s) => prop_assert_eq!(claim_count(&ctx).await, before + s.added as i64),
                    Err(e) => {
                        prop_assert!(!e.is_internal(), "{}", e);
                        prop_assert_eq!(claim_count(&ctx).await, before, "a refused file wrote claims");
                    }
                }
                Ok(())
            })
        })
        .unwrap();
}
