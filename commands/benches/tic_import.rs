//! The TiC import against inflating the same gzip file to nowhere, in the same run, and the NPPES
//! pass against the csv crate reading the same bytes and doing nothing. Release build:
//!
//!   cargo bench -p raterise-commands --bench tic_import -- gen 500 /tmp/tic-500.json.gz
//!   cargo bench -p raterise-commands --bench tic_import -- compare /tmp/tic-500.json.gz [ROUNDS]
//!   cargo bench -p raterise-commands --bench tic_import -- import /tmp/tic-500.json.gz   (peak RSS)
//!   cargo bench -p raterise-commands --bench tic_import -- nppes-gen 9000000 /tmp/nppes.csv
//!   cargo bench -p raterise-commands --bench tic_import -- nppes-compare /tmp/nppes.csv [ROUNDS]
//!   cargo bench -p raterise-commands --bench tic_import -- nppes-csv /tmp/nppes.csv    (peak RSS)
//!   cargo bench -p raterise-commands --bench tic_import -- nppes-load /tmp/nppes.csv   (peak RSS)
//!
//! Peak RSS is the process's VmHWM from /proc/self/status, printed by the single-mode runs.

use raterise_commands::clock::SystemClock;
use raterise_commands::handlers::market;
use raterise_commands::store::Store;
use raterise_commands::tic::generate::{
    write_in_network, write_nppes_header, write_nppes_row_as, InNetworkSpec, NppesRow,
};
use raterise_commands::tic::nppes::{BhNpis, Bucket};
use raterise_commands::tic::{self, Options};
use raterise_commands::Ctx;
use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::time::Instant;

const BH_CODES: [&str; 10] = ["90791", "90832", "90834", "90837", "90846", "90847", "90853", "96127", "90785", "90839"];
const RATES_PER_ITEM: usize = 1000;
const GROUPS: usize = 200_000;
const MAX_NPIS: usize = 40;
const FIRST_NPI: u64 = 1_000_000_000;

fn spec(mb: usize) -> InNetworkSpec {
    // One item is about 0.39 MB; the behavioral items and the references stay the same as the file
    // grows (a bigger file has more services, not more therapists).
    let refs_mb = 70;
    let items = ((mb.saturating_sub(refs_mb)) as f64 / 0.39) as usize;
    InNetworkSpec {
        other_items: items.saturating_sub(30),
        bh_items: 30,
        bh_codes: BH_CODES.iter().map(|s| s.to_string()).collect(),
        rates_per_item: RATES_PER_ITEM,
        groups: GROUPS,
        max_npis_per_group: MAX_NPIS,
        first_npi: FIRST_NPI,
    }
}

/// One NPI in ten of the generated range is a behavioral clinician, over five states.
fn bh_table() -> BhNpis {
    let states = ["IL", "NY", "CA", "TX", "FL"];
    let n = (GROUPS * MAX_NPIS) as u64;
    BhNpis::from_rows(
        (0..n).step_by(10).map(|i| (FIRST_NPI + i, states[(i / 10 % 5) as usize].to_string(), Bucket::Lcsw)),
    )
}

fn hwm_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn inflate(path: &str) -> (u64, f64) {
    let t = Instant::now();
    let f = std::io::BufReader::with_capacity(256 << 10, std::fs::File::open(path).unwrap());
    let mut d = flate2::bufread::MultiGzDecoder::new(f);
    let n = std::io::copy(&mut d, &mut std::io::sink()).unwrap();
    (n, t.elapsed().as_secs_f64())
}

fn import(path: &str, bh: &BhNpis) -> (u64, f64, tic::Market) {
    let t = Instant::now();
    let mut o = Options::new(BH_CODES.iter().map(|s| s.to_string()), "2026-06-01".parse().unwrap());
    o.state = Some("IL".into());
    let f = std::fs::File::open(path).unwrap();
    let x = tic::scan(Box::new(f), &o, bh).unwrap();
    let m = x.finish(&o, bh);
    (m.bytes, t.elapsed().as_secs_f64(), m)
}

/// CPU seconds (user + system) of this process so far, from /proc/self/stat (100 ticks a second).
fn cpu_s() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    (tick(11) + tick(12)) / 100.0
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn csv_only(path: &str) -> u64 {
    let mut rdr = csv::ReaderBuilder::new().buffer_capacity(1 << 20).from_reader(std::fs::File::open(path).unwrap());
    let mut rec = csv::ByteRecord::new();
    let mut rows = 0u64;
    while rdr.read_byte_record(&mut rec).unwrap() {
        rows += 1;
    }
    rows
}

/// `raterise market nppes FILE` minus the console: into a new database file next to the input.
fn nppes_load(path: &str) -> market::NppesSummary {
    let db = std::path::PathBuf::from(format!("{path}.bench.db"));
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let s = rt.block_on(async {
        let store = Store::open(&db).await.unwrap();
        let ctx = Ctx::new(store, Arc::new(SystemClock)).await.unwrap();
        let input = if path.ends_with(".zip") {
            market::NppesInput::Zip(std::fs::File::open(path).unwrap())
        } else {
            market::NppesInput::Csv(Box::new(std::fs::File::open(path).unwrap()))
        };
        let s = market::load_nppes(&ctx, input, "bench").await.unwrap_or_else(|e| panic!("{}", e.user_message()));
        ctx.store.close().await;
        s
    });
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", db.display()));
    }
    s
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    match args.first().map(String::as_str) {
        Some("gen") => {
            let mb: usize = args[1].parse().unwrap();
            let out = std::fs::File::create(&args[2]).unwrap();
            let gz = flate2::write::GzEncoder::new(BufWriter::with_capacity(1 << 20, out), flate2::Compression::new(1));
            let mut w = BufWriter::with_capacity(1 << 20, gz);
            let t = Instant::now();
            write_in_network(&mut w, &spec(mb)).unwrap();
            w.into_inner().ok().unwrap().finish().unwrap().flush().unwrap();
            println!("wrote {} in {:.1} s", args[2], t.elapsed().as_secs_f64());
        }
        Some("compare") => {
            let path = &args[1];
            let rounds: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
            let bh = bh_table();
            let (mut a, mut b, mut ca, mut cb) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut bytes = 0;
            println!("load average before: {}", loadavg());
            for round in 0..rounds {
                let c0 = cpu_s();
                let (n, s) = inflate(path);
                let c1 = cpu_s();
                let (m, t, market) = import(path, &bh);
                let c2 = cpu_s();
                assert_eq!(n, m);
                bytes = n;
                a.push(n as f64 / s / 1e6);
                b.push(m as f64 / t / 1e6);
                ca.push(c1 - c0);
                cb.push(c2 - c1);
                println!(
                    "round {round}: inflate {:.0} MB/s ({s:.2} s wall, {:.2} s CPU), import {:.0} MB/s ({t:.2} s wall, {:.2} s CPU) = {:.0}%; {} items seen, {} kept, {} rates, {} cells; load {}",
                    a[round],
                    ca[round],
                    b[round],
                    cb[round],
                    100.0 * b[round] / a[round],
                    market.items_seen,
                    market.items_kept,
                    market.rates_kept,
                    market.cells.len(),
                    loadavg()
                );
            }
            let (ma, mb) = (median(a), median(b));
            println!(
                "{:.0} MB uncompressed, {rounds} rounds: inflate to nowhere median {ma:.0} MB/s ({:.2} s CPU), import median {mb:.0} MB/s ({:.2} s CPU, both threads) = {:.0}% of inflate; load average after: {}",
                bytes as f64 / 1e6,
                median(ca),
                median(cb),
                100.0 * mb / ma,
                loadavg()
            );
        }
        Some("import") => {
            let bh = bh_table();
            let before = hwm_mb();
            let (n, t, m) = import(&args[1], &bh);
            println!(
                "import {:.0} MB in {t:.1} s ({:.0} MB/s, {:.2} s CPU), {} cells; peak RSS {:.1} MB (of which {:.1} MB before the import: the generated NPPES table); load {}",
                n as f64 / 1e6,
                n as f64 / t / 1e6,
                cpu_s(),
                m.cells.len(),
                hwm_mb(),
                before,
                loadavg()
            );
        }
        Some("inflate") => {
            let (n, t) = inflate(&args[1]);
            println!(
                "inflate {:.0} MB in {t:.1} s ({:.0} MB/s); peak RSS {:.1} MB",
                n as f64 / 1e6,
                n as f64 / t / 1e6,
                hwm_mb()
            );
        }
        Some("nppes-gen") => {
            let rows: u64 = args[1].parse().unwrap();
            // `quoted` writes every empty field as `""` like the real file; the default leaves
            // them empty (the same 330 columns in 40% of the bytes).
            let quote_empty = args.get(3).is_some_and(|a| a == "quoted");
            let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(&args[2]).unwrap());
            write_nppes_header(&mut w).unwrap();
            let states = ["IL", "NY", "CA", "TX", "FL", "WA"];
            for i in 0..rows {
                // About one row in ten is a behavioral clinician; one in five an organisation.
                let tax: &[(&str, bool)] = match i % 10 {
                    0 => &[("1041C0700X", true)],
                    1 => &[("207Q00000X", true), ("103TC0700X", false)],
                    _ => &[("207R00000X", true)],
                };
                let row = NppesRow {
                    npi: 1_000_000_000 + i,
                    entity: if i % 5 == 4 { 2 } else { 1 },
                    credential: "MD",
                    state: states[(i % 6) as usize],
                    zip: "60601",
                    taxonomies: tax,
                    deactivated: i % 97 == 0,
                };
                write_nppes_row_as(&mut w, &row, quote_empty).unwrap();
            }
            w.flush().unwrap();
        }
        Some("nppes-compare") => {
            // The csv crate reading every record and doing nothing, against the whole
            // `raterise market nppes` load (read, filter, insert into a fresh SQLite file in one
            // transaction), alternately in the same run. Peak memory: the single modes below.
            let path = &args[1];
            let rounds: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(3);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let size = std::fs::metadata(path).unwrap().len() as f64;
            println!("load average before: {}", loadavg());
            for round in 0..rounds {
                let t = Instant::now();
                let rows = csv_only(path);
                a.push(t.elapsed().as_secs_f64());
                let t = Instant::now();
                let s = nppes_load(path);
                b.push(t.elapsed().as_secs_f64());
                assert_eq!(rows, s.rows);
                println!(
                    "round {round}: csv read {:.1} s, NPPES load {:.1} s ({} rows, {} clinicians stored); load {}",
                    a[round],
                    b[round],
                    rows,
                    s.clinicians,
                    loadavg()
                );
            }
            let (ma, mb) = (median(a), median(b));
            println!(
                "{:.2} GB: csv crate doing nothing median {ma:.1} s ({:.0} MB/s), NPPES load median {mb:.1} s ({:.0} MB/s) = {:.0}% of the csv-only throughput; load average after: {}",
                size / 1e9,
                size / ma / 1e6,
                size / mb / 1e6,
                100.0 * ma / mb,
                loadavg()
            );
        }
        Some("nppes-csv") => {
            let t = Instant::now();
            let rows = csv_only(&args[1]);
            println!("csv only: {rows} rows in {:.1} s; peak RSS {:.1} MB", t.elapsed().as_secs_f64(), hwm_mb());
        }
        Some("nppes-load") => {
            let t = Instant::now();
            let s = nppes_load(&args[1]);
            println!(
                "NPPES load: {} rows, {} clinicians stored in {:.1} s; peak RSS {:.1} MB",
                s.rows,
                s.clinicians,
                t.elapsed().as_secs_f64(),
                hwm_mb()
            );
        }
        _ => {
            eprintln!("usage: tic_import (gen MB PATH | compare PATH | import PATH | inflate PATH | nppes-gen ROWS PATH [quoted] | nppes-compare PATH [ROUNDS] | nppes-csv PATH | nppes-load PATH)");
        }
    }
}
