//! From deduplicated (contract, clinician, rate) observations to per-market percentiles.
//!
//! Percentile method: nearest rank. For n sorted values and percentile p, the value at 1-based rank
//! ceil(p * n / 100); no interpolation, so every figure is a rate someone is actually paid.
//! A clinician (NPI) or a contract (TIN) with several rates in one cell counts once, at the lower
//! median of its rates, so one unit never weighs more than another.

use serde::Serialize;

/// The percentiles stored and shown.
pub const PERCENTILES: [u32; 5] = [10, 25, 50, 75, 90];

/// Nearest-rank percentile of sorted values (None when empty).
pub fn nearest_rank(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as u64;
    let rank = (u64::from(p) * n).div_ceil(100).max(1);
    Some(sorted[(rank - 1) as usize])
}

/// p10, p25, p50, p75, p90 of unsorted values.
pub fn five(values: &mut [i64]) -> [i64; 5] {
    values.sort_unstable();
    PERCENTILES.map(|p| nearest_rank(values, p).unwrap_or(0))
}

/// The lower median of sorted values.
pub fn lower_median(sorted: &[i64]) -> i64 {
    sorted[(sorted.len() - 1) / 2]
}

/// Where a rate sits in a distribution given by its five percentiles: the highest stored
/// percentile at or below the rate ("at or above p25"), or below p10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    BelowP10,
    AtLeast(u32),
}

pub fn position(rate: i64, five: &[i64; 5]) -> Position {
    let mut at = Position::BelowP10;
    for (i, p) in PERCENTILES.iter().enumerate() {
        if rate >= five[i] {
            at = Position::AtLeast(*p);
        }
    }
    at
}

impl Position {
    pub fn describe(self) -> String {
        match self {
            Position::BelowP10 => "below the 10th percentile".into(),
            Position::AtLeast(90) => "at or above the 90th percentile".into(),
            Position::AtLeast(p) => format!("between the {p}th and the next percentile shown"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_by_hand() {
        let v = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
        assert_eq!(PERCENTILES.map(|p| nearest_rank(&v, p).unwrap()), [10, 30, 50, 80, 90]);
        assert_eq!(nearest_rank(&[7], 10), Some(7));
        assert_eq!(nearest_rank(&[7], 90), Some(7));
        // n = 4: ranks ceil(0.4)=1, ceil(1)=1, ceil(2)=2, ceil(3)=3, ceil(3.6)=4.
        assert_eq!(PERCENTILES.map(|p| nearest_rank(&[1, 2, 3, 4], p).unwrap()), [1, 1, 2, 3, 4]);
        assert_eq!(nearest_rank(&[], 50), None);
        assert_eq!(five(&mut [4, 3, 2, 1]), [1, 1, 2, 3, 4]);
        assert_eq!(lower_median(&[1, 2, 3, 4]), 2);
    }

    #[test]
    fn positions() {
        let f = [100, 200, 300, 400, 500];
        assert_eq!(position(99, &f), Position::BelowP10);
        assert_eq!(position(250, &f), Position::AtLeast(25));
        assert_eq!(position(500, &f), Position::AtLeast(90));
    }
}
