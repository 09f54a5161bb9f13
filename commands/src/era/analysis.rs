//! Figures from stored remittances that several commands show: lines paid below the contract
//! in force on their date of service, days to payment, denial rates. Handlers call these; no
//! handler calls another.

use crate::domain::Cents;
use crate::error::AppError;
use crate::store::rates::{current_from_history, RateRow};
use crate::store::{Payer, Store};
use chrono::NaiveDate;
use serde::Serialize;

/// A shortfall of this many cents or less is rounding, not an underpayment.
pub const TOLERANCE_CENTS: i64 = 1;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ShortLine {
    pub payer: String,
    pub cpt: String,
    pub service_date: NaiveDate,
    pub check: String,
    pub check_date: NaiveDate,
    /// AMT*B6, or paid plus patient responsibility (`allowed_derived`).
    pub allowed_cents: i64,
    pub allowed_derived: bool,
    pub contract_cents: i64,
    pub short_cents: i64,
}

/// The contract history of each code of a payer, newest first (as `current_from_history` wants).
async fn histories(store: &Store, payer_id: i64) -> Result<Vec<(String, Vec<RateRow>)>, AppError> {
    let mut out: Vec<(String, Vec<RateRow>)> = Vec::new();
    for row in store.rate_history(payer_id, None).await? {
        match out.last_mut() {
            Some((cpt, rows)) if *cpt == row.cpt => rows.push(row),
            _ => out.push((row.cpt.clone(), vec![row])),
        }
    }
    Ok(out)
}

/// Every counted line of these payers serviced from `from` to `to` whose allowed amount is
/// more than the tolerance below the contracted rate in force on its date of service. Lines of
/// codes with no contract rate on that date are not judged.
pub async fn underpaid_lines(
    store: &Store,
    payers: &[Payer],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ShortLine>, AppError> {
    let mut out = Vec::new();
    for payer in payers {
        for (cpt, history) in histories(store, payer.id).await? {
            // One index range per stretch of dates with one rate in force, asking only for the
            // lines below that rate: a year after a raise, most lines are below the highest
            // rate but few are short, and fetching each costs more than judging it.
            let mut starts: Vec<NaiveDate> = history.iter().map(|r| r.effective_date).collect();
            starts.sort();
            starts.dedup();
            let mut candidates = Vec::new();
            for (i, start) in starts.iter().enumerate() {
                let end = starts.get(i + 1).and_then(|next| next.pred_opt()).map_or(to, |e| e.min(to));
                let start = (*start).max(from);
                let Some(rate) = current_from_history(&history, start) else { continue };
                if start <= end {
                    candidates.extend(
                        store.era_lines_below(payer.id, &cpt, start, end, rate.amount - Cents(TOLERANCE_CENTS)).await?,
                    );
                }
            }
            for line in candidates {
                let Some(contract) = current_from_history(&history, line.service_date) else { continue };
                let short = contract.amount.0 - line.allowed.0;
                if short > TOLERANCE_CENTS {
                    out.push(ShortLine {
                        payer: payer.name.clone(),
                        cpt: line.cpt,
                        service_date: line.service_date,
                        check: line.check,
                        check_date: line.check_date,
                        allowed_cents: line.allowed.0,
                        allowed_derived: line.allowed_derived,
                        contract_cents: contract.amount.0,
                        short_cents: short,
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.payer, a.service_date, &a.cpt).cmp(&(&b.payer, b.service_date, &b.cpt)));
    Ok(out)
}

/// How what arrives compares with the contract for one payer: lines judged, below and above.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Arrivals {
    pub lines: usize,
    pub below: usize,
    pub below_cents: i64,
    pub above: usize,
}

pub async fn arrivals(store: &Store, payer: &Payer, from: NaiveDate, to: NaiveDate) -> Result<Arrivals, AppError> {
    let mut out = Arrivals::default();
    let lines = store.era_payer_lines(payer.id, from, to).await?;
    // The lines first: without remittances (the usual case) the payer's whole rate history, read
    // on every uncached `/rates PAYER`, is not needed.
    if lines.is_empty() {
        return Ok(out);
    }
    let hist = histories(store, payer.id).await?;
    for (cpt, allowed, date) in lines {
        let Some((_, h)) = hist.iter().find(|(c, _)| *c == cpt) else { continue };
        let Some(contract) = current_from_history(h, date) else { continue };
        out.lines += 1;
        let diff = contract.amount.0 - allowed.0;
        if diff > TOLERANCE_CENTS {
            out.below += 1;
            out.below_cents += diff;
        } else if diff < -TOLERANCE_CENTS {
            out.above += 1;
        }
    }
    Ok(out)
}

/// Days from service to payment over paid claims: median and 90th percentile (nearest rank).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct DaysToPayment {
    pub claims: usize,
    pub median: i64,
    pub p90: i64,
}

/// The value at quantile `q` (per mille) of sorted values, nearest-rank: the smallest value
/// with at least q of the values at or below it.
pub fn nearest_rank(sorted: &[i64], per_mille: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (sorted.len() * per_mille).div_ceil(1000).max(1);
    sorted.get(rank - 1).copied()
}

pub fn days_summary(mut days: Vec<i64>) -> Option<DaysToPayment> {
    days.sort_unstable();
    Some(DaysToPayment { claims: days.len(), median: nearest_rank(&days, 500)?, p90: nearest_rank(&days, 900)? })
}

/// Days to payment per payer id (None: checks of payers not matched yet), over claims serviced
/// in the period.
pub async fn days_to_payment(
    store: &Store,
    practice_id: i64,
    payer_id: Option<i64>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(Option<i64>, DaysToPayment)>, AppError> {
    let mut by_payer: std::collections::BTreeMap<Option<i64>, Vec<i64>> = Default::default();
    for (payer, days) in store.era_days_to_payment(practice_id, payer_id, from, to).await? {
        by_payer.entry(payer).or_default().push(days);
    }
    Ok(by_payer.into_iter().filter_map(|(p, d)| days_summary(d).map(|s| (p, s))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(nearest_rank(&v, 500), Some(5));
        assert_eq!(nearest_rank(&v, 900), Some(9));
        assert_eq!(nearest_rank(&[7], 900), Some(7));
        assert_eq!(nearest_rank(&[], 500), None);
        assert_eq!(days_summary(vec![30, 10, 20]).unwrap(), DaysToPayment { claims: 3, median: 20, p90: 30 });
    }
}
