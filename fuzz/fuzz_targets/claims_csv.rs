//! The claims CSV import, whole (encoding sniffing, CSV, column mapping, row validation, payer
//! matching, the all-or-nothing write) into one in-memory database: never panics, never an
//! internal error, and a refused file writes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use raterise_commands::claims::{import_claims, ImportOptions, Progress};
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::store::{Audit, Store};
use raterise_commands::{demo, dispatch, Ctx};
use std::sync::{Arc, OnceLock};

struct World {
    rt: tokio::runtime::Runtime,
    ctx: Ctx,
    audit: Audit,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (ctx, audit) = rt.block_on(async {
            let store = Store::open_in_memory().await.unwrap();
            let clock = ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap());
            let ctx = Ctx::new(store, Arc::new(clock)).await.unwrap();
            for line in [
                r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#,
                "/payer add name:Cigna kind:commercial",
                r#"/payer add name:"BCBS Texas" kind:commercial"#,
            ] {
                dispatch(&ctx, &demo::invocation("p", line).unwrap()).await.unwrap();
            }
            let inv = demo::invocation("p", "/help").unwrap();
            let practice = raterise_commands::handlers::practice_for(&ctx, &inv).await.unwrap();
            let audit = Audit { practice_id: practice.id, actor: "fuzz:1".into(), at: ctx.clock.now() };
            (ctx, audit)
        });
        World { rt, ctx, audit }
    })
}

async fn claims(ctx: &Ctx) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM claims").fetch_one(ctx.store.pool()).await.unwrap()
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let options = ImportOptions { source: "export.csv".into(), map: Vec::new(), today: "2026-11-27".parse().unwrap() };
    w.rt.block_on(async {
        let before = claims(&w.ctx).await;
        let input = std::io::Cursor::new(data.to_vec());
        match import_claims(&w.ctx.store, &w.audit, input, &options, &Progress::default()).await {
            Ok(s) => assert_eq!(claims(&w.ctx).await, before + s.added as i64),
            Err(e) => {
                assert!(!e.is_internal(), "{e}");
                assert_eq!(claims(&w.ctx).await, before, "a refused file wrote claims");
            }
        }
    });
});
