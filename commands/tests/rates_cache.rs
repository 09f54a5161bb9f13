//! `/rates PAYER` answers from memory while nothing changed, and never serves a stale report:
//! a change in this process, a change by another process on the same database file, and a new
//! day each give a fresh one. With practices cached (`raterise serve`), another process's change
//! is seen within the cache's window, this process's own at once.

use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::store::Store;
use raterise_commands::{demo, dispatch, Ctx, Outcome};
use std::sync::Arc;
use std::time::Duration;

async fn rate_90837(ctx: &Ctx) -> i64 {
    match dispatch(ctx, &demo::invocation("p", "/rates cigna").unwrap()).await.unwrap() {
        Outcome::Rates(r) => r.rows.iter().find(|row| row.cpt == "90837").unwrap().rate_cents.0,
        other => panic!("{other:?}"),
    }
}

async fn run(ctx: &Ctx, line: &str) {
    dispatch(ctx, &demo::invocation("p", line).unwrap())
        .await
        .unwrap_or_else(|e| panic!("{line}: {}", e.user_message()));
}

fn temp_db(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("raterise-cache-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("shared.db");
    (dir, db)
}

async fn setup_cigna(ctx: &Ctx) {
    run(ctx, r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#).await;
    run(ctx, "/payer add name:Cigna").await;
    run(ctx, "/rate set cigna 90837 118.50").await;
    run(ctx, "/rate set cigna 90837 125 effective:2026-11-28").await;
}

/// `a` is the long-running process (with practices cached when `window` is given), `b` another one.
async fn every_change_is_seen(name: &str, window: Option<Duration>) {
    let (dir, db) = temp_db(name);
    let clock = ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap());
    let mut store = Store::open(&db).await.unwrap();
    if let Some(window) = window {
        store = store.cache_practices(&db, window).await.unwrap();
    }
    let a = Ctx::new(store, Arc::new(clock.clone())).await.unwrap();
    let b = Ctx::new(Store::open(&db).await.unwrap(), Arc::new(clock.clone())).await.unwrap();
    setup_cigna(&a).await;

    assert_eq!(rate_90837(&a).await, 11850);
    assert_eq!(rate_90837(&a).await, 11850, "served again, unchanged");
    // A change through this context.
    run(&a, "/rate set cigna 90837 119").await;
    assert_eq!(rate_90837(&a).await, 11900);
    // A change through another context on the same file, as another process would make it.
    run(&b, "/rate set cigna 90837 120").await;
    assert_eq!(rate_90837(&a).await, 12000);
    // The next day the future-dated rate is in effect.
    clock.advance(chrono::Duration::days(1));
    assert_eq!(rate_90837(&a).await, 12500);
    a.store.close().await;
    b.store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn cached_reports_follow_every_change() {
    every_change_is_seen("plain", None).await;
}

#[tokio::test]
async fn cached_reports_follow_every_change_with_practices_cached() {
    // A window of zero asks SQLite's data_version before every read: nothing may be missed.
    every_change_is_seen("practices", Some(Duration::ZERO)).await;
}

#[tokio::test]
async fn cached_practices_see_their_own_changes_at_once_and_other_writers_after_the_window() {
    let (dir, db) = temp_db("window");
    let clock = ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap());
    // A window far longer than the test: only this process's own changes can refresh it.
    let store = Store::open(&db).await.unwrap().cache_practices(&db, Duration::from_secs(3600)).await.unwrap();
    let a = Ctx::new(store, Arc::new(clock.clone())).await.unwrap();
    let b = Ctx::new(Store::open(&db).await.unwrap(), Arc::new(clock.clone())).await.unwrap();
    setup_cigna(&a).await;
    assert_eq!(rate_90837(&a).await, 11850);

    run(&b, "/rate set cigna 90837 120").await;
    assert_eq!(rate_90837(&a).await, 11850, "another process's change waits for the window");
    assert_eq!(rate_90837(&b).await, 12000, "the other process sees its own change");

    // Any change made through this process's commands refreshes every cached practice.
    run(&a, "/payer add name:Aetna").await;
    assert_eq!(rate_90837(&a).await, 12000);
    a.store.close().await;
    b.store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

async fn has_market_figure(ctx: &Ctx) -> bool {
    match dispatch(ctx, &demo::invocation("p", "/rates cigna").unwrap()).await.unwrap() {
        Outcome::Rates(r) => r.rows.iter().find(|row| row.cpt == "90837").unwrap().payer_market.is_some(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_market_import_by_another_process_refreshes_cached_reports() {
    use raterise_commands::store::market_rates::NewMarketImport;
    use raterise_commands::tic::Cell;
    let (dir, db) = temp_db("market");
    let clock = ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap());
    let store = Store::open(&db).await.unwrap().cache_practices(&db, Duration::ZERO).await.unwrap();
    let a = Ctx::new(store, Arc::new(clock.clone())).await.unwrap();
    let b = Ctx::new(Store::open(&db).await.unwrap(), Arc::new(clock.clone())).await.unwrap();
    setup_cigna(&a).await;
    assert!(!has_market_figure(&a).await);
    assert!(!has_market_figure(&a).await, "served again, unchanged");
    // `raterise market import` in another process: no practice data changes, only market cells.
    let cell = Cell {
        state: "NY".into(),
        cpt: "90837".into(),
        modifier: String::new(),
        pos: "11".into(),
        setting: String::new(),
        credential: "all".into(),
        platform: false,
        n_clinicians: 40,
        n_contracts: 12,
        clinician_cents: [9000, 10000, 11000, 12000, 13000],
        contract_cents: [9000, 10000, 11000, 12000, 13000],
    };
    b.store
        .save_market_import(&NewMarketImport {
            payer: "Cigna",
            state: Some("NY"),
            source: "in-network.json.gz",
            last_updated_on: Some("2026-10-01"),
            imported_on: "2026-11-27".parse().unwrap(),
            summary_json: "{}",
            cells: &[cell],
        })
        .await
        .unwrap();
    assert!(has_market_figure(&a).await, "the cached report was not refreshed after the market import");
    a.store.close().await;
    b.store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
