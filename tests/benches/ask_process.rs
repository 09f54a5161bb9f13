//! The whole `raterise ask "/rates cigna"` process against the large generated practice
//! (40 payers x 20 codes x ten years of monthly rate changes): wall time per run (median, p90)
//! and the peak resident memory of the process.
//!
//!     cargo build --release -p raterise && cargo bench -p raterise-tests --bench ask_process

use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::generate::{large_practice, LargeSpec};
use raterise_commands::store::Store;
use raterise_commands::{Ctx, Tenant};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NOW: &str = "2026-11-27T15:00:00Z";

fn release_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("bench path");
    // target/release/deps/ask_process-xxxx -> target/release/raterise
    let bin = exe.parent().and_then(|d| d.parent()).expect("target dir").join("raterise");
    assert!(bin.exists(), "{} is missing: run `cargo build --release -p raterise` first", bin.display());
    bin
}

/// Runs the command and returns its wall time and peak RSS in KiB (from wait4's rusage).
fn run_measured(cmd: &mut Command) -> (Duration, i64, bool) {
    let started = Instant::now();
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn raterise");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data, and the pid is our own child that nothing else waits on.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert_eq!(waited, pid, "wait4 failed");
    std::mem::forget(child);
    (elapsed, usage.ru_maxrss, libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let bin = release_binary();
    let dir = std::env::temp_dir().join(format!("raterise-ask-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("large.db");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let store = Store::open(&db).await.unwrap();
        let ctx = Ctx::new(store, Arc::new(ManualClock::new(parse_instant(NOW).unwrap()))).await.unwrap();
        large_practice(&ctx, &Tenant::console("default"), LargeSpec::default()).await.unwrap();
        ctx.store.close().await;
    });
    let runs = if full { 200 } else { 5 };
    for (label, line) in [("ask /rates cigna", "/rates cigna"), ("ask /rates (ranking)", "/rates")] {
        let mut times = Vec::with_capacity(runs);
        let mut peak = Vec::with_capacity(runs);
        for i in 0..runs + 5 {
            let (t, rss, ok) =
                run_measured(Command::new(&bin).env("RATERISE_NOW", NOW).env("RATERISE_DB", &db).args(["ask", line]));
            assert!(ok, "raterise ask {line} failed");
            if i >= 5 {
                times.push(t);
                peak.push(rss);
            }
        }
        times.sort();
        peak.sort();
        let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
        println!(
            "{label}: n={runs} median={:?} p90={:?} max={:?}; peak RSS median={} KiB max={} KiB",
            pct(0.5),
            pct(0.9),
            times[times.len() - 1],
            peak[peak.len() / 2],
            peak[peak.len() - 1]
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
