//! Importing a generated year of remittances for a 20-clinician group (500 files, about 50,000
//! service lines), against the floor: reading the same bytes from disk and splitting them into
//! segments, in the same run. Then `/underpayments` and `/denials` over the imported database.
//!
//!     cargo bench -p raterise-commands --bench era_import            # 500 files
//!     cargo bench -p raterise-commands --bench era_import -- --files 250
//!
//! The parent process generates the files into a temporary folder and runs itself again to
//! measure, so the generator's memory is not counted in the peak RSS (VmHWM) reported.

#[path = "support/measure.rs"]
mod measure;

use measure::{median, peak_rss_kib};
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::era::generate::{generate, practice_lines, EraSpec};
use raterise_commands::era::import::{import_paths, StoreKeys};
use raterise_commands::era::segments::Segments;
use raterise_commands::store::{Audit, Store};
use raterise_commands::{demo, dispatch, Ctx};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let files: usize = arg("--files").and_then(|v| v.parse().ok()).unwrap_or(if full { 500 } else { 10 });
    match arg("--measure") {
        Some(dir) => measure(Path::new(&dir), files, full),
        None => {
            let dir = std::env::temp_dir().join(format!("raterise-era-bench-{}", std::process::id()));
            let input = dir.join("era");
            std::fs::create_dir_all(&input).unwrap();
            let batch = generate(&EraSpec { files, ..EraSpec::year_of_group(2026) });
            let lines: usize = batch.files.iter().map(|f| f.totals.service_lines).sum();
            let bytes: usize = batch.files.iter().map(|f| f.bytes.len()).sum();
            for f in &batch.files {
                std::fs::write(input.join(&f.name), &f.bytes).unwrap();
            }
            println!("generated {files} files, {lines} service lines, {:.1} MB", bytes as f64 / 1e6);
            drop(batch);
            let mut args: Vec<String> = std::env::args().skip(1).collect();
            args.extend(["--measure".into(), dir.display().to_string(), "--files".into(), files.to_string()]);
            let status = std::process::Command::new(std::env::current_exe().unwrap()).args(&args).status().unwrap();
            std::fs::remove_dir_all(&dir).ok();
            assert!(status.success());
        }
    }
}

fn measure(dir: &Path, files: usize, full: bool) {
    let input: PathBuf = dir.join("era");
    let rounds = if full { 3 } else { 1 };
    // The floor: read every file and split it into segments.
    let mut floor = Vec::new();
    let mut segments = 0usize;
    for _ in 0..rounds {
        let started = Instant::now();
        segments = 0;
        let mut paths: Vec<_> = std::fs::read_dir(&input).unwrap().map(|e| e.unwrap().path()).collect();
        paths.sort();
        for p in paths {
            let bytes = std::fs::read(&p).unwrap();
            for s in Segments::new(&bytes) {
                s.unwrap();
                segments += 1;
            }
        }
        floor.push(started.elapsed());
    }
    let floor_rss = peak_rss_kib();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut import = Vec::new();
    let mut last_ctx = None;
    for round in 0..rounds {
        let db = dir.join(format!("era-{round}.db"));
        let ctx = rt.block_on(setup(&db));
        let started = Instant::now();
        let summary = rt.block_on(async {
            let practice =
                raterise_commands::handlers::practice_for(&ctx, &demo::invocation("bench", "/help").unwrap())
                    .await
                    .unwrap();
            let audit = Audit { practice_id: practice.id, actor: "bench".into(), at: ctx.clock.now() };
            let keys = StoreKeys::load(&ctx.store, practice.id).await.unwrap();
            import_paths(&ctx.store, &audit, "bench", std::slice::from_ref(&input), &keys).await.unwrap()
        });
        import.push(started.elapsed());
        assert!(summary.refused.is_empty() && summary.files == files, "{:?}", summary.refused);
        if round == 0 {
            println!(
                "imported {} files: {} checks, {} claims, {} service lines, {} segments",
                summary.files,
                summary.checks.len(),
                summary.claims,
                summary.service_lines,
                segments
            );
        }
        last_ctx = Some(ctx);
    }
    let import_rss = peak_rss_kib();
    let ctx = last_ctx.unwrap();
    let mut under = Vec::new();
    let mut denials = Vec::new();
    let mut count = 0;
    for _ in 0..if full { 21 } else { 3 } {
        let started = Instant::now();
        let out = rt.block_on(dispatch(&ctx, &demo::invocation("bench", "/underpayments months:24").unwrap())).unwrap();
        under.push(started.elapsed());
        if let raterise_commands::Outcome::Underpayments(u) = out {
            count = u.count;
        }
        let started = Instant::now();
        rt.block_on(dispatch(&ctx, &demo::invocation("bench", "/denials months:24").unwrap())).unwrap();
        denials.push(started.elapsed());
    }
    let (f, i) = (median(floor), median(import));
    println!("floor (read + split into segments): median {:.1} ms over {rounds} rounds", f.as_secs_f64() * 1e3);
    println!(
        "import (parse, balance, store):     median {:.1} ms over {rounds} rounds = {:.1}x the floor",
        i.as_secs_f64() * 1e3,
        i.as_secs_f64() / f.as_secs_f64()
    );
    println!(
        "peak RSS: {:.1} MiB after the floor, {:.1} MiB after the imports",
        floor_rss as f64 / 1024.0,
        import_rss as f64 / 1024.0
    );
    println!("/underpayments months:24 ({count} lines short): median {:.2} ms", median(under).as_secs_f64() * 1e3);
    println!("/denials months:24: median {:.2} ms", median(denials).as_secs_f64() * 1e3);
    rt.block_on(ctx.store.close());
}

async fn setup(db: &Path) -> Ctx {
    let clock = ManualClock::new(parse_instant("2027-01-20T15:00:00Z").unwrap());
    let ctx = Ctx::new(Store::open(db).await.unwrap(), Arc::new(clock)).await.unwrap();
    for line in practice_lines(&EraSpec::year_of_group(2026)) {
        dispatch(&ctx, &demo::invocation("bench", &line).unwrap()).await.unwrap();
    }
    ctx
}
