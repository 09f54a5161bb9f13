//! Load time of the shipped ZIP table (CMS ZIP5 file, 42,956 rows, parsed once per process on the
//! first ZIP lookup) and the cost of one lookup after that.
//!
//!     cargo bench -p raterise-commands --bench zip_table

use raterise_commands::medicare::MedicareData;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let runs = if full { 51 } else { 3 };
    let loads: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            assert_eq!(MedicareData::parse_zip_table_for_bench(), 42_956);
            t.elapsed()
        })
        .collect();
    let d = MedicareData::embedded();
    let first = Instant::now();
    assert!(d.zip_locality("60614").is_some());
    let first = first.elapsed();
    let lookups = if full { 100_000 } else { 100 };
    let t = Instant::now();
    let mut found = 0usize;
    for i in 0..lookups {
        let zip = format!("{:05}", (i * 7919) % 100_000);
        found += usize::from(d.resolve_locality(&zip).is_ok());
    }
    let per_lookup = t.elapsed() / lookups as u32;
    println!(
        "zip table: parse median {:?} (min {:?}, max {:?}, {runs} runs); first lookup in process {first:?}; \
         resolve_locality(ZIP) {per_lookup:?} per call ({found} of {lookups} found)",
        median(loads.clone()),
        loads.iter().min().unwrap(),
        loads.iter().max().unwrap(),
    );
}
