//! What the bench binaries measure the same way: peak memory of this process and medians.
//! `#[path]`-included; not a bench of its own (cargo only runs `benches/*.rs`).

#![allow(dead_code)]

/// Peak resident memory of this process so far (VmHWM), in KiB; 0 where /proc is not there.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// The middle value (the upper one of an even count).
pub fn median<T: PartialOrd + Copy>(mut v: Vec<T>) -> T {
    v.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    v[v.len() / 2]
}
