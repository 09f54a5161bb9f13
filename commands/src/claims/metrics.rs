//! Utilization of one payer over a period, from the store's grouped claims. Pure, so each
//! definition is tested on its own:
//!
//! - claims: claim lines billed to the payer (no-shows and late cancellations are not claims);
//!   sessions: their units; unique clients: distinct client keys among them.
//! - clean-claim rate: paid on first submission (no denial, no resubmission) over decided claims
//!   (paid or denied; claims still pending are not yet either). Denial rate: denied over decided.
//! - days to payment: whole days from service to payment of paid claims; median and 90th
//!   percentile by nearest rank (the smallest value with at least 50% / 90% of claims at or
//!   below it).
//! - no-show share: no-shows and late cancellations over those plus claims, when an import
//!   covering the period could mark them; unknown otherwise.
//! - per code: sessions; average insurance paid per session over paid claims; the contracted
//!   rate in force at the end of the period; a paid claim whose allowed amount (insurance paid
//!   when the export gives no allowed amount) is below the rate in force on its date of service
//!   times its units is a possible underpayment (denied claims count as denials, not as
//!   underpayments).

use crate::domain::{div_round_half_up, Cents};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// Claims of one (code, date, outcome, resubmitted, units, basis) group, as the store reads them.
#[derive(Debug, Clone)]
pub struct ClaimGroup {
    pub cpt: String,
    pub service_date: NaiveDate,
    pub outcome: String,
    pub resubmitted: bool,
    pub units: i64,
    /// Allowed amount, or insurance paid where the export gives no allowed amount.
    pub basis_cents: Option<i64>,
    pub claims: i64,
    pub paid_cents: i64,
}

/// What the store reads for one payer and period.
#[derive(Debug, Clone, Default)]
pub struct PayerClaimFacts {
    pub groups: Vec<ClaimGroup>,
    pub unique_clients: i64,
    /// (days from service to payment, paid claims).
    pub days_to_payment: Vec<(i64, i64)>,
    /// An import covering the period could mark no-shows and late cancellations.
    pub attendance_marked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DaysToPayment {
    pub median: Option<i64>,
    pub p90: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeUtilization {
    pub cpt: String,
    pub sessions: i64,
    pub claims: i64,
    pub paid_claims: i64,
    pub avg_paid_cents: Option<i64>,
    pub contract_cents: Option<i64>,
    pub underpaid_count: i64,
    pub underpaid_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Utilization {
    pub claims: i64,
    pub sessions: i64,
    pub unique_clients: i64,
    pub sessions_per_client: Option<f64>,
    pub clean_claim_pct: Option<f64>,
    pub denial_pct: Option<f64>,
    pub days_to_payment: DaysToPayment,
    pub no_show_pct: Option<f64>,
    pub no_shows: i64,
    pub late_cancels: i64,
    pub paid_claims: i64,
    /// Paid on first submission (the clean-claim rate's numerator).
    pub clean_claims: i64,
    pub denied_claims: i64,
    pub pending_claims: i64,
    pub codes: Vec<CodeUtilization>,
}

/// One decimal, rounded once.
pub fn pct(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| div_round_half_up(part as i128 * 1000, whole as i128) as f64 / 10.0)
}

/// The smallest value with at least `p` percent of the counts at or below it.
pub fn nearest_rank(hist: &[(i64, i64)], p: i64) -> Option<i64> {
    let mut sorted: Vec<(i64, i64)> = hist.iter().copied().filter(|(_, n)| *n > 0).collect();
    sorted.sort_unstable();
    let total: i64 = sorted.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return None;
    }
    // rank = ceil(p/100 * total), at least 1
    let rank = ((p * total + 99) / 100).max(1);
    let mut seen = 0;
    for (v, n) in sorted {
        seen += n;
        if seen >= rank {
            return Some(v);
        }
    }
    None
}

/// `rate_on(cpt, date)` is the contracted rate in force on that date, if any.
pub fn compute(
    facts: &PayerClaimFacts,
    period_end: NaiveDate,
    rate_on: impl Fn(&str, NaiveDate) -> Option<Cents>,
) -> Utilization {
    #[derive(Default)]
    struct Acc {
        claims: i64,
        sessions: i64,
        paid_claims: i64,
        paid_units: i64,
        paid_cents: i64,
        underpaid_count: i64,
        underpaid_cents: i64,
    }
    let mut codes: BTreeMap<&str, Acc> = BTreeMap::new();
    let (mut paid, mut clean, mut denied, mut pending, mut no_shows, mut late) = (0, 0, 0, 0, 0, 0);
    for g in &facts.groups {
        match g.outcome.as_str() {
            "no-show" => {
                no_shows += g.claims;
                continue;
            }
            "late-cancel" => {
                late += g.claims;
                continue;
            }
            _ => {}
        }
        let acc = codes.entry(g.cpt.as_str()).or_default();
        acc.claims += g.claims;
        acc.sessions += g.units * g.claims;
        match g.outcome.as_str() {
            "paid" => {
                paid += g.claims;
                if !g.resubmitted {
                    clean += g.claims;
                }
                acc.paid_claims += g.claims;
                acc.paid_units += g.units * g.claims;
                acc.paid_cents += g.paid_cents;
                if let (Some(basis), Some(rate)) = (g.basis_cents, rate_on(&g.cpt, g.service_date)) {
                    let due = rate.0 * g.units;
                    if basis < due {
                        acc.underpaid_count += g.claims;
                        acc.underpaid_cents += (due - basis) * g.claims;
                    }
                }
            }
            "denied" => denied += g.claims,
            _ => pending += g.claims,
        }
    }
    let claims: i64 = codes.values().map(|a| a.claims).sum();
    let sessions: i64 = codes.values().map(|a| a.sessions).sum();
    let decided = paid + denied;
    let codes = codes
        .into_iter()
        .map(|(cpt, a)| CodeUtilization {
            cpt: cpt.to_string(),
            sessions: a.sessions,
            claims: a.claims,
            paid_claims: a.paid_claims,
            avg_paid_cents: (a.paid_units > 0)
                .then(|| div_round_half_up(a.paid_cents as i128, a.paid_units as i128) as i64),
            contract_cents: rate_on(cpt, period_end).map(|c| c.0),
            underpaid_count: a.underpaid_count,
            underpaid_cents: a.underpaid_cents,
        })
        .collect();
    Utilization {
        claims,
        sessions,
        unique_clients: facts.unique_clients,
        sessions_per_client: (facts.unique_clients > 0)
            .then(|| div_round_half_up(sessions as i128 * 100, facts.unique_clients as i128) as f64 / 100.0),
        clean_claim_pct: pct(clean, decided),
        denial_pct: pct(denied, decided),
        days_to_payment: DaysToPayment {
            median: nearest_rank(&facts.days_to_payment, 50),
            p90: nearest_rank(&facts.days_to_payment, 90),
        },
        no_show_pct: if facts.attendance_marked { pct(no_shows + late, claims + no_shows + late) } else { None },
        no_shows,
        late_cancels: late,
        paid_claims: paid,
        clean_claims: clean,
        denied_claims: denied,
        pending_claims: pending,
        codes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let h = [(10, 1), (20, 1), (30, 1), (40, 1)];
        assert_eq!(nearest_rank(&h, 50), Some(20));
        assert_eq!(nearest_rank(&h, 90), Some(40));
        assert_eq!(nearest_rank(&[(5, 3)], 90), Some(5));
        assert_eq!(nearest_rank(&[], 50), None);
    }

    fn group(cpt: &str, outcome: &str, basis: Option<i64>, claims: i64, paid: i64) -> ClaimGroup {
        ClaimGroup {
            cpt: cpt.into(),
            service_date: "2026-03-01".parse().unwrap(),
            outcome: outcome.into(),
            resubmitted: false,
            units: 1,
            basis_cents: basis,
            claims,
            paid_cents: paid,
        }
    }

    #[test]
    fn underpayments_only_on_paid_claims_below_the_rate_in_force() {
        let facts = PayerClaimFacts {
            groups: vec![
                group("90837", "paid", Some(11000), 2, 22000),
                group("90837", "paid", Some(12000), 1, 12000),
                group("90837", "denied", None, 1, 0),
                group("", "no-show", None, 1, 0),
            ],
            unique_clients: 2,
            days_to_payment: vec![(20, 3)],
            attendance_marked: true,
        };
        let u = compute(&facts, "2026-12-01".parse().unwrap(), |_, _| Some(Cents(11850)));
        assert_eq!(u.claims, 4);
        assert_eq!(u.codes[0].underpaid_count, 2);
        assert_eq!(u.codes[0].underpaid_cents, 2 * 850);
        assert_eq!(u.codes[0].avg_paid_cents, Some(11333));
        assert_eq!(u.denial_pct, Some(25.0));
        assert_eq!(u.clean_claim_pct, Some(75.0));
        assert_eq!(u.no_show_pct, Some(20.0));
        assert_eq!(u.sessions_per_client, Some(2.0));
    }
}
