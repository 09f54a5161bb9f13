//! `/rates PAYER` answers from memory while nothing changed, and never serves a stale report:
//! a change in this process, a change by another process on the same database file, and a new
//! day each give a fresh one.

use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::store::Store;
use raterise_commands::{demo, dispatch, Ctx, Outcome};
use std::sync::Arc;

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

#[tokio::test]
async fn cached_reports_follow_every_change() {
    let dir = std::env::temp_dir().join(format!("raterise-cache-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("shared.db");
    let clock = ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap());
    let a = Ctx::new(Store::open(&db).await.unwrap(), Arc::new(clock.clone())).await.unwrap();
    let b = Ctx::new(Store::open(&db).await.unwrap(), Arc::new(clock.clone())).await.unwrap();
    run(&a, r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#).await;
    run(&a, "/payer add name:Cigna").await;
    run(&a, "/rate set cigna 90837 118.50").await;
    run(&a, "/rate set cigna 90837 125 effective:2026-11-28").await;

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
