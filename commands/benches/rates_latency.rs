//! Per-call latency distribution (p50, p99, max) of the `/rates PAYER` handler on the large
//! generated practice; criterion (benches/rates.rs) gives the median with confidence bounds,
//! this gives the tail.
//!
//!     cargo bench -p raterise-commands --bench rates_latency
//!     RATERISE_BENCH_SAMPLES=2000 cargo bench -p raterise-commands --bench rates_latency

use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::generate::{large_practice, LargeSpec};
use raterise_commands::store::Store;
use raterise_commands::{dispatch, Actor, Ctx, Invocation, Tenant};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: run a short pass then.
    let full = std::env::args().any(|a| a == "--bench");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("raterise-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("large.db");
    rt.block_on(async {
        let store = Store::open(&db).await.unwrap();
        let clock = Arc::new(ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap()));
        let ctx = Ctx::new(store, clock).await.unwrap();
        let started = Instant::now();
        large_practice(&ctx, &Tenant::console("large"), LargeSpec::default()).await.unwrap();
        let generated = started.elapsed();
        // The same practice with every payer's latest rate starting next month (agreed raises).
        let future = LargeSpec { latest_next_month: true, ..LargeSpec::default() };
        large_practice(&ctx, &Tenant::console("future"), future).await.unwrap();
        let actor = Actor { id: "bench".into(), name: "bench".into(), can_manage: true, roles: vec![] };
        let rates = Invocation::new(Tenant::console("large"), actor.clone(), "rates").with("payer", "cigna");
        let future_rates = Invocation::new(Tenant::console("future"), actor.clone(), "rates").with("payer", "cigna");
        match dispatch(&ctx, &future_rates).await.unwrap() {
            raterise_commands::Outcome::Rates(r) => {
                assert!(r.rows.len() == 20 && r.rows.iter().all(|r| r.agreed_cents.is_some()))
            }
            other => panic!("unexpected {other:?}"),
        }
        for (label, inv, uncached) in [
            ("rates_payer (cached)", rates.clone(), false),
            ("rates_payer (uncached)", rates, true),
            ("rates_payer latest next month (uncached)", future_rates, true),
            ("rates_ranking", Invocation::new(Tenant::console("large"), actor.clone(), "rates"), false),
        ] {
            let (warmup, mut samples) = if full { (500, 10_000) } else { (10, 100) };
            // RATERISE_BENCH_SAMPLES=N: fewer (or more) calls per row, e.g. on a loaded machine.
            if let Some(n) = std::env::var("RATERISE_BENCH_SAMPLES").ok().and_then(|n| n.parse().ok()) {
                samples = n;
            }
            for _ in 0..warmup {
                dispatch(&ctx, &inv).await.unwrap();
            }
            let clear = || {
                if uncached {
                    ctx.rates_cache.clear();
                }
            };
            let mut times = Vec::with_capacity(samples);
            for _ in 0..samples {
                clear();
                let t = Instant::now();
                std::hint::black_box(dispatch(&ctx, &inv).await.unwrap());
                times.push(t.elapsed());
            }
            times.sort();
            println!(
                "{label}: n={samples} p50={:?} p90={:?} p99={:?} max={:?}",
                percentile(&times, 0.50),
                percentile(&times, 0.90),
                percentile(&times, 0.99),
                times[times.len() - 1]
            );
        }
        println!("generating the first practice (96,000 rate rows) took {generated:?}");
        ctx.store.close().await;
    });
    // RATERISE_BENCH_KEEP=path keeps the generated database for the process benchmark.
    if let Some(keep) = std::env::var_os("RATERISE_BENCH_KEEP") {
        std::fs::copy(&db, keep).expect("copy the generated database");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
