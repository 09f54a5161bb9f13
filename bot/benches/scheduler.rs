//! The cost of one scheduler tick with about 100,000 pending reminders in the database and 0, 10
//! or 1,000 of them due. The database is a file in WAL mode, as `raterise serve` uses it; posting
//! goes to a delivery that accepts at once, so the figures are the scheduler's own work: claim,
//! compose (with the drafted follow-up attached), mark sent, re-plan the practice.
//!
//!     cargo bench -p raterise --bench scheduler

use criterion::{criterion_group, criterion_main, Criterion};
use raterise::scheduler::{self, Delivery, DeliveryError};
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::reminders::{load, Kind, State};
use raterise_commands::reply::Reply;
use raterise_commands::store::{Audit, Store};
use raterise_commands::{Ctx, Platform, Tenant};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Accepts every post at once with a new message id.
struct Accepting(AtomicU64);

impl Delivery for Accepting {
    fn platforms(&self) -> &[&'static str] {
        &["discord"]
    }

    async fn post(&self, _channel: &str, _reply: &Reply, _nonce: &str) -> Result<Vec<String>, DeliveryError> {
        Ok(vec![self.0.fetch_add(1, Ordering::Relaxed).to_string()])
    }
}

const NOW: &str = "2026-11-27T15:00:00Z";
const PENDING_PRACTICES: usize = 5_000;
const PAYERS_EACH: usize = 10;
const DUE_PRACTICES: usize = 1_000;
const DUE_FIRST_GUILD: u64 = 800_000_000_000_000_000;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("raterise-scheduler-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("reminders.db");
    let delivery = Arc::new(Accepting(AtomicU64::new(1)));
    let now = parse_instant(NOW).unwrap();
    let (ctx, sent_ids) = rt.block_on(async {
        let store = Store::open(&db).await.unwrap();
        let ctx = Ctx::new(store, Arc::new(ManualClock::new(now))).await.unwrap();
        let started = Instant::now();
        load::pending_load(&ctx, 700_000_000_000_000_000, PENDING_PRACTICES, PAYERS_EACH).await.unwrap();
        load::due_follow_ups(&ctx, DUE_FIRST_GUILD, DUE_PRACTICES).await.unwrap();
        let counts = ctx.store.reminder_counts().await.unwrap();
        eprintln!("generated in {:.1?}: {counts:?}", started.elapsed());
        // Post the due follow-ups once; each iteration snoozes some of them back to now.
        let r = scheduler::tick(&ctx, &delivery, "bench").await.unwrap();
        assert_eq!(r.sent, DUE_PRACTICES, "{r:?}");
        let counts = ctx.store.reminder_counts().await.unwrap();
        eprintln!("after the first tick: {counts:?}");
        assert!(counts["pending"] >= 100_000, "{counts:?}");
        // The posted follow-up of each due practice, brought back before a measured tick.
        let mut sent = Vec::with_capacity(DUE_PRACTICES);
        for i in 0..DUE_PRACTICES {
            let tenant = Tenant { platform: Platform::Discord, external_id: (DUE_FIRST_GUILD + i as u64).to_string() };
            let p = ctx.store.find_practice(&tenant).await.unwrap().unwrap();
            let posted = ctx.store.reminders_in_state(p.id, State::Sent, 10).await.unwrap();
            let follow_up = posted.iter().find(|v| v.kind == Kind::FollowUp).expect("a posted follow-up");
            sent.push((p.id, follow_up.id));
        }
        (ctx, sent)
    });

    let mut group = c.benchmark_group("scheduler_tick_100k_pending");
    for due in [0usize, 10, 1_000] {
        group.sample_size(if due == 1_000 { 10 } else { 50 });
        group.measurement_time(Duration::from_secs(if due == 1_000 { 60 } else { 10 }));
        group.bench_function(format!("{due}_due"), |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let ctx = ctx.clone();
                let delivery = delivery.clone();
                let sent_ids = sent_ids.clone();
                async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        for (practice_id, id) in sent_ids.iter().take(due) {
                            let audit = Audit { practice_id: *practice_id, actor: "bench".into(), at: now };
                            ctx.store.snooze_reminder(*practice_id, *id, now, &audit).await.unwrap();
                        }
                        let start = Instant::now();
                        let r = scheduler::tick(&ctx, &delivery, "bench").await.unwrap();
                        total += start.elapsed();
                        assert_eq!(r.sent, due, "{r:?}");
                    }
                    total
                }
            })
        });
    }
    group.finish();

    // The same idle tick against 1,000 pending reminders: the cost of a tick with nothing due
    // does not grow with the table.
    let small = rt.block_on(async {
        let store = Store::open(&dir.join("small.db")).await.unwrap();
        let ctx = Ctx::new(store, Arc::new(ManualClock::new(now))).await.unwrap();
        load::pending_load(&ctx, 700_000_000_000_000_000, 50, PAYERS_EACH).await.unwrap();
        assert_eq!(ctx.store.reminder_counts().await.unwrap()["pending"], 1_000);
        ctx
    });
    let mut group = c.benchmark_group("scheduler_tick_1k_pending");
    group.sample_size(50);
    group.bench_function("0_due", |b| {
        b.to_async(&rt).iter(|| async {
            let r = scheduler::tick(&small, &delivery, "bench").await.unwrap();
            assert_eq!(r.claimed, 0);
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
