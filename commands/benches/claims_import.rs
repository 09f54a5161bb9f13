//! Claims import benchmark: a generated export of 250,000 and 1,000,000 rows imported into a
//! fresh database file (hashing, validation, payer matching and the clustered claims table), each
//! in its own process so peak RSS is per size, beside the sqlite3 shell's `.import` of the same
//! CSV into a plain table in the same run; then `/report PAYER` over the 1M-row data.
//!
//!   cargo bench -p raterise-commands --bench claims_import
//!
//! RATERISE_BENCH_SIZES=250000,1000000 and RATERISE_BENCH_ROUNDS=3 change the defaults.

#[path = "../tests/support/claims_gen.rs"]
mod claims_gen;

use chrono::NaiveDate;
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

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
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
    let mut lines = vec![
        r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#.to_string(),
        "/payer add name:Cigna kind:commercial".into(),
        r#"/payer add name:"BCBS Texas" kind:commercial"#.into(),
        r#"/payer add name:"Optum Behavioral" kind:mbho"#.into(),
    ];
    for (payer, cpt, cents, eff) in claims_gen::CONTRACTS {
        lines.push(format!(
            r#"/rate set payer:"{payer}" cpt:{cpt} amount:{}.{:02} effective:{eff}"#,
            cents / 100,
            cents % 100
        ));
    }
    for l in &lines {
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
    let mut report_ms = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        dispatch(&ctx, &demo::invocation("bench", "/report Cigna").unwrap()).await.unwrap();
        report_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    report_ms.sort_by(|a, b| a.total_cmp(b));
    println!(
        "CHILD rows={} added={} secs={secs:.3} rss_kib={} report_ms_median={:.2}",
        s.rows,
        s.added,
        peak_rss_kib(),
        report_ms[report_ms.len() / 2]
    );
    ctx.store.close().await;
}

fn run_child(csv: &Path, db: &Path) -> (f64, u64, f64) {
    let _ = std::fs::remove_file(db);
    let _ = std::fs::remove_file(db.with_extension("db-wal"));
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
    (field("secs").parse().unwrap(), field("rss_kib").parse().unwrap(), field("report_ms_median").parse().unwrap())
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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
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
    println!("size       raterise import (median of {rounds})        sqlite3 .import (median)   ratio   /report Cigna");
    for size in sizes {
        let csv = dir.join(format!("export-{size}.csv"));
        let rows = write_export(&csv, size);
        let mb = std::fs::metadata(&csv).unwrap().len() as f64 / 1e6;
        let (mut ours, mut ours_rss, mut report, mut theirs, mut theirs_rss) = (vec![], 0, vec![], vec![], 0);
        for _ in 0..rounds {
            let (s, rss, r) = run_child(&csv, &dir.join("ours.db"));
            ours.push(s);
            ours_rss = ours_rss.max(rss);
            report.push(r);
            let (t, trss) = sqlite_import(&csv, &dir.join("sqlite.db"));
            theirs.push(t);
            theirs_rss = theirs_rss.max(trss);
        }
        let (o, t) = (median(ours), median(theirs));
        println!(
            "{rows:>8} rows ({mb:.0} MB): {o:.2} s, {:.0} rows/s, peak RSS {:.1} MB | {t:.2} s, {:.0} rows/s, peak RSS {:.1} MB | {:.2}x | {:.2} ms",
            rows as f64 / o,
            ours_rss as f64 / 1024.0,
            rows as f64 / t,
            theirs_rss as f64 / 1024.0,
            o / t,
            median(report)
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}
