//! Claims import benchmark: a generated export of 250,000 and 1,000,000 rows imported into a
//! fresh database file (hashing, validation, payer matching and the clustered claims table), each
//! in its own process so peak RSS is per size, beside the sqlite3 shell's `.import` of the same
//! CSV into a plain table in the same run; then `/report PAYER` over the 1M-row data.
//!
//!   cargo bench -p raterise-commands --bench claims_import
//!
//! RATERISE_BENCH_SIZES=250000,1000000 and RATERISE_BENCH_ROUNDS=3 change the defaults;
//! RATERISE_BENCH_KEEP=1 keeps the generated CSV and databases (in the temp dir) for profiling.

#[path = "../tests/support/claims_gen.rs"]
mod claims_gen;
#[path = "support/measure.rs"]
mod measure;

use chrono::NaiveDate;
use measure::{median, peak_rss_kib};
use raterise_commands::claims::{import_claims, ImportOptions, Progress};
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::store::{Audit, Store};
use raterise_commands::{demo, dispatch, Ctx};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

const TODAY: &str = "2026-11-27";

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Writes about `rows` rows (whole weeks of a caseload); returns the rows written.
fn write_export(path: &Path, rows: usize) -> usize {
    let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "{}", claims_gen::HEADER).unwrap();
    // About 25-30 sessions per client over 58 weeks: enough clients for the size asked.
    let clients = rows / 20 + 1;
    let mut n = 0;
    claims_gen::generate_each(11, clients, d("2025-10-06"), 58, d(TODAY), |r| {
        if n < rows {
            claims_gen::write_row(&mut out, &r, n).unwrap();
            n += 1;
        }
    });
    out.flush().unwrap();
    n
}

async fn child(csv: &Path, db: &Path) {
    let store = Store::open(db).await.unwrap();
    let clock = ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap());
    let ctx = Ctx::new(store, Arc::new(clock)).await.unwrap();
    for l in &claims_gen::practice_lines() {
        dispatch(&ctx, &demo::invocation("bench", l).unwrap()).await.unwrap();
    }
    let inv = demo::invocation("bench", "/help").unwrap();
    let practice = raterise_commands::handlers::practice_for(&ctx, &inv).await.unwrap();
    let audit = Audit { practice_id: practice.id, actor: "bench".into(), at: ctx.clock.now() };
    let options = ImportOptions { source: "bench.csv".into(), map: vec![], today: d(TODAY) };
    let file = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(csv).unwrap());
    let started = Instant::now();
    let s = import_claims(&ctx.store, &audit, file, &options, &Progress::default()).await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    let import_rss = peak_rss_kib();
    // `/report Cigna` (a third of the claims): the command, then the command and its reply (the
    // table, the CSV and the PNG chart), each timed on its own, 21 times.
    let (mut report_ms, mut rendered_ms) = (Vec::new(), Vec::new());
    for _ in 0..21 {
        let t = Instant::now();
        dispatch(&ctx, &demo::invocation("bench", "/report Cigna").unwrap()).await.unwrap();
        report_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let out = dispatch(&ctx, &demo::invocation("bench", "/report Cigna").unwrap()).await.unwrap().reply();
        rendered_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert!(!out.attachments.is_empty());
        drop(out);
    }
    println!(
        "CHILD rows={} added={} secs={secs:.3} rss_kib={import_rss} rss_after_report_kib={} report_ms_median={:.2} rendered_ms_median={:.2}",
        s.rows,
        s.added,
        peak_rss_kib(),
        median(report_ms),
        median(rendered_ms)
    );
    ctx.store.close().await;
}

/// One import in a fresh process: its `CHILD` line's fields.
struct ChildRun {
    secs: f64,
    rss_kib: u64,
    rss_after_report_kib: u64,
    report_ms: f64,
    rendered_ms: f64,
}

fn run_child(csv: &Path, db: &Path) -> ChildRun {
    for f in [db.to_path_buf(), db.with_extension("db-wal"), db.with_extension("db-shm")] {
        let _ = std::fs::remove_file(f);
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .env("RATERISE_BENCH_CHILD", format!("{}|{}", csv.display(), db.display()))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("CHILD"))
        .unwrap_or_else(|| panic!("child: {text} {}", String::from_utf8_lossy(&out.stderr)));
    let field = |k: &str| line.split_whitespace().find_map(|p| p.strip_prefix(&format!("{k}="))).unwrap().to_string();
    ChildRun {
        secs: field("secs").parse().unwrap(),
        rss_kib: field("rss_kib").parse().unwrap(),
        rss_after_report_kib: field("rss_after_report_kib").parse().unwrap(),
        report_ms: field("report_ms_median").parse().unwrap(),
        rendered_ms: field("rendered_ms_median").parse().unwrap(),
    }
}

/// The sqlite3 shell's `.import` of the same CSV into a plain table; time and peak RSS from
/// /usr/bin/time.
fn sqlite_import(csv: &Path, db: &Path) -> (f64, u64) {
    let _ = std::fs::remove_file(db);
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "MAXRSS %M", "/usr/bin/sqlite3", db.to_str().unwrap()])
        .args([".mode csv", &format!(".import {} claims_raw", csv.display())])
        .output()
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&out.stderr);
    let rss = err.lines().find_map(|l| l.strip_prefix("MAXRSS ")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
    (secs, rss)
}

fn main() {
    if let Ok(spec) = std::env::var("RATERISE_BENCH_CHILD") {
        let (csv, db) = spec.split_once('|').unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(child(Path::new(csv), Path::new(db)));
        return;
    }
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` probes bench binaries; nothing to list.
    }
    let sizes: Vec<usize> = std::env::var("RATERISE_BENCH_SIZES")
        .unwrap_or_else(|_| "250000,1000000".into())
        .split(',')
        .map(|s| s.trim().parse().unwrap())
        .collect();
    let rounds: usize = std::env::var("RATERISE_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let dir: PathBuf = std::env::temp_dir().join(format!("raterise-claims-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "machine: {} cores; rounds per size: {rounds}",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for size in sizes {
        let csv = dir.join(format!("export-{size}.csv"));
        let rows = write_export(&csv, size);
        let mb = std::fs::metadata(&csv).unwrap().len() as f64 / 1e6;
        println!("{rows} rows, {mb:.1} MB of CSV");
        let (mut ours, mut theirs, mut ratios, mut runs) = (vec![], vec![], vec![], vec![]);
        let (mut theirs_rss, mut report, mut rendered) = (0, vec![], vec![]);
        for round in 0..rounds {
            let r = run_child(&csv, &dir.join("ours.db"));
            let (t, trss) = sqlite_import(&csv, &dir.join("sqlite.db"));
            println!(
                "  round {round}: raterise {:.2} s (peak RSS {:.1} MiB; {:.1} MiB after /report), sqlite3 .import {t:.2} s (peak RSS {:.1} MiB), ratio {:.2}x; /report Cigna {:.2} ms, with its reply {:.2} ms",
                r.secs,
                r.rss_kib as f64 / 1024.0,
                r.rss_after_report_kib as f64 / 1024.0,
                trss as f64 / 1024.0,
                r.secs / t,
                r.report_ms,
                r.rendered_ms
            );
            ours.push(r.secs);
            theirs.push(t);
            ratios.push(r.secs / t);
            theirs_rss = theirs_rss.max(trss);
            report.push(r.report_ms);
            rendered.push(r.rendered_ms);
            runs.push(r);
        }
        let (o, t) = (median(ours), median(theirs));
        let rss = runs.iter().map(|r| r.rss_kib).max().unwrap_or(0);
        println!(
            "  median: raterise {o:.2} s = {:.0} rows/s, peak RSS (max) {:.1} MiB | sqlite3 .import {t:.2} s = {:.0} rows/s, peak RSS {:.1} MiB | ratio (median of rounds) {:.2}x | /report Cigna {:.2} ms (median of rounds' medians of 21), with reply {:.2} ms",
            rows as f64 / o,
            rss as f64 / 1024.0,
            rows as f64 / t,
            theirs_rss as f64 / 1024.0,
            median(ratios),
            median(report),
            median(rendered)
        );
        if std::env::var_os("RATERISE_BENCH_KEEP").is_some() {
            println!("  kept {}", dir.display());
            continue;
        }
        // Disk is limited: the next size's files replace these.
        for f in ["ours.db", "ours.db-wal", "ours.db-shm", "sqlite.db"] {
            let _ = std::fs::remove_file(dir.join(f));
        }
        let _ = std::fs::remove_file(&csv);
    }
    if std::env::var_os("RATERISE_BENCH_KEEP").is_none() {
        std::fs::remove_dir_all(&dir).ok();
    }
}
