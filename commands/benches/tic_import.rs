//! The TiC import against inflating the same gzip file to nowhere, in the same run, and the NPPES
//! pass against the csv crate reading the same bytes and doing nothing. Release build:
//!
//!   cargo bench -p raterise-commands --bench tic_import -- gen 500 /tmp/tic-500.json.gz
//!   cargo bench -p raterise-commands --bench tic_import -- compare /tmp/tic-500.json.gz
//!   cargo bench -p raterise-commands --bench tic_import -- import /tmp/tic-500.json.gz   (peak RSS)
//!   cargo bench -p raterise-commands --bench tic_import -- nppes-gen 9000000 /tmp/nppes.csv
//!   cargo bench -p raterise-commands --bench tic_import -- nppes-compare /tmp/nppes.csv
//!
//! Peak RSS is the process's VmHWM from /proc/self/status, printed by the single-mode runs.

use raterise_commands::tic::generate::{
    write_in_network, write_nppes_header, write_nppes_row, InNetworkSpec, NppesRow,
};
use raterise_commands::tic::nppes::{self, BhNpis, Bucket};
use raterise_commands::tic::{self, Options};
use std::io::{BufWriter, Write};
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
            let bh = bh_table();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let mut bytes = 0;
            for round in 0..3 {
                let (n, s) = inflate(path);
                let (m, t, market) = import(path, &bh);
                assert_eq!(n, m);
                bytes = n;
                a.push(n as f64 / s / 1e6);
                b.push(m as f64 / t / 1e6);
                println!(
                    "round {round}: inflate {:.0} MB/s, import {:.0} MB/s ({} items seen, {} kept, {} rates, {} cells)",
                    a[round],
                    b[round],
                    market.items_seen,
                    market.items_kept,
                    market.rates_kept,
                    market.cells.len()
                );
            }
            let (ma, mb) = (median(a), median(b));
            println!(
                "{:.0} MB uncompressed: inflate to nowhere median {ma:.0} MB/s, import median {mb:.0} MB/s = {:.0}% of inflate",
                bytes as f64 / 1e6,
                100.0 * mb / ma
            );
        }
        Some("import") => {
            let bh = bh_table();
            let before = hwm_mb();
            let (n, t, m) = import(&args[1], &bh);
            println!(
                "import {:.0} MB in {t:.1} s ({:.0} MB/s), {} cells; peak RSS {:.1} MB (of which the generated NPPES table build {:.1} MB before the import)",
                n as f64 / 1e6,
                n as f64 / t / 1e6,
                m.cells.len(),
                hwm_mb(),
                before
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
                write_nppes_row(&mut w, &row).unwrap();
            }
            w.flush().unwrap();
        }
        Some("nppes-compare") => {
            let path = &args[1];
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let size = std::fs::metadata(path).unwrap().len() as f64;
            for round in 0..3 {
                let t = Instant::now();
                let mut rdr =
                    csv::ReaderBuilder::new().buffer_capacity(1 << 20).from_reader(std::fs::File::open(path).unwrap());
                let mut rec = csv::ByteRecord::new();
                let mut rows = 0u64;
                while rdr.read_byte_record(&mut rec).unwrap() {
                    rows += 1;
                }
                a.push(t.elapsed().as_secs_f64());
                let t = Instant::now();
                let mut kept = 0u64;
                let stats = nppes::read(std::fs::File::open(path).unwrap(), |_| kept += 1).unwrap();
                b.push(t.elapsed().as_secs_f64());
                assert_eq!(rows, stats.rows);
                println!(
                    "round {round}: csv read {:.1} s, NPPES pass {:.1} s ({} rows, {kept} clinicians)",
                    a[round], b[round], rows
                );
            }
            let (ma, mb) = (median(a), median(b));
            println!(
                "{:.2} GB: csv crate doing nothing median {ma:.1} s ({:.0} MB/s), NPPES pass median {mb:.1} s ({:.0} MB/s), {:.0}% of the csv-only time; peak RSS {:.1} MB",
                size / 1e9,
                size / ma / 1e6,
                size / mb / 1e6,
                100.0 * mb / ma,
                hwm_mb()
            );
        }
        _ => {
            eprintln!("usage: tic_import (gen MB PATH | compare PATH | import PATH | inflate PATH | nppes-gen ROWS PATH | nppes-compare PATH)");
        }
    }
}
