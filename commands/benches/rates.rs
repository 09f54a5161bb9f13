//! The `/rates PAYER` handler in process against the large generated practice
//! (40 payers x 20 codes x ten years of monthly rate changes).
//!
//!     cargo bench -p raterise-commands --bench rates

use criterion::{criterion_group, criterion_main, Criterion};
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::generate::{large_practice, LargeSpec};
use raterise_commands::store::Store;
use raterise_commands::{dispatch, Actor, Ctx, Invocation, Tenant};
use std::sync::Arc;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("raterise-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("large.db");
    let ctx = rt.block_on(async {
        let store = Store::open(&db).await.unwrap();
        let clock = Arc::new(ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap()));
        let ctx = Ctx::new(store, clock).await.unwrap();
        large_practice(&ctx, &Tenant::console("large"), LargeSpec::default()).await.unwrap();
        let future = LargeSpec { latest_next_month: true, ..LargeSpec::default() };
        large_practice(&ctx, &Tenant::console("future"), future).await.unwrap();
        ctx
    });
    let actor = Actor { id: "bench".into(), name: "bench".into(), can_manage: true, roles: vec![] };
    let rates = Invocation::new(Tenant::console("large"), actor.clone(), "rates").with("payer", "cigna");
    let ranking = Invocation::new(Tenant::console("large"), actor.clone(), "rates");
    // Every payer's latest rate starts next month: the rate in force is the one before it.
    let future = Invocation::new(Tenant::console("future"), actor, "rates").with("payer", "cigna");
    // Sanity: the report really covers 20 codes before we time it.
    rt.block_on(async {
        match dispatch(&ctx, &rates).await.unwrap() {
            raterise_commands::Outcome::Rates(r) => assert_eq!(r.rows.len(), 20),
            other => panic!("unexpected {other:?}"),
        }
    });
    let mut group = c.benchmark_group("handler");
    // Answered from the report cache (nothing changed since the last call).
    group.bench_function("rates_payer", |b| b.to_async(&rt).iter(|| async { dispatch(&ctx, &rates).await.unwrap() }));
    // Computed from the database every time.
    group.bench_function("rates_payer_uncached", |b| {
        b.to_async(&rt).iter(|| async {
            ctx.rates_cache.clear();
            dispatch(&ctx, &rates).await.unwrap()
        })
    });
    group.bench_function("rates_payer_uncached_latest_next_month", |b| {
        b.to_async(&rt).iter(|| async {
            ctx.rates_cache.clear();
            dispatch(&ctx, &future).await.unwrap()
        })
    });
    group.bench_function("rates_ranking", |b| {
        b.to_async(&rt).iter(|| async { dispatch(&ctx, &ranking).await.unwrap() })
    });
    group.bench_function("rates_payer_render", |b| {
        b.to_async(&rt).iter(|| async { dispatch(&ctx, &rates).await.unwrap().reply().to_text() })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
