//! One real, public market reference: UnitedHealthcare in-network rates for therapy codes,
//! pooled nationally from UHC's Transparency-in-Coverage files of June 2026 (data from the
//! coralehr "Therapy Out-of-Network Reimbursement Benchmark", CC-BY-4.0; see
//! commands/data/market/SOURCE.md). Always show a figure with `SCOPE`, `AS_OF` and `SOURCE`.

use crate::domain::Cents;
use crate::medicare::csv::Table;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

const DATA: &str = include_str!("../data/market/uhc_tic_national_2026_coralehr.csv");

/// What the figures cover.
pub const SCOPE: &str = "UnitedHealthcare in-network negotiated rates, pooled nationally (not your local market)";
/// The payer the figures describe.
pub const PAYER: &str = "UnitedHealthcare";
/// Date of the Transparency-in-Coverage files the figures come from.
pub const AS_OF: &str = "2026-06-01";
/// Date the publisher built the dataset.
pub const SNAPSHOT: &str = "2026-06-07";
/// Attribution required by the data license.
pub const SOURCE: &str = "\"Therapy Out-of-Network Reimbursement Benchmark\" by Ticvision / CoralEHR, CC-BY-4.0, from UnitedHealthcare Transparency-in-Coverage in-network files";
/// A one-line label to print under any market figure.
pub const CITATION: &str = "UnitedHealthcare in-network rates, national, TiC files of 2026-06-01. Source: \"Therapy Out-of-Network Reimbursement Benchmark\" by Ticvision / CoralEHR, CC-BY-4.0";

/// `AS_OF` as a date.
pub fn as_of() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("valid date")
}

/// The spread of UHC's in-network rates for one code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketReference {
    pub code: String,
    /// Low end of the negotiated rates, as the publisher defines it.
    pub low: Cents,
    /// Middle of the negotiated rates.
    pub mid: Cents,
    /// High end of the negotiated rates.
    pub high: Cents,
    /// 90th percentile of the negotiated rates.
    pub p90: Cents,
    /// How many negotiated rates the figures pool.
    pub observations: u32,
}

fn parse(text: &str) -> Result<Vec<MarketReference>, String> {
    let cols = ["cpt_code", "oon_low_usd", "oon_mid_usd", "oon_high_usd", "oon_p90_usd", "oon_obs_n"];
    let t = Table::parse(text, "market reference", &cols)?;
    let money = |s: &str| Cents::parse(s).map_err(|e| e.to_string());
    let mut out = Vec::new();
    for row in &t.rows {
        let r = MarketReference {
            code: t.get(row, "cpt_code").to_ascii_uppercase(),
            low: money(t.get(row, "oon_low_usd"))?,
            mid: money(t.get(row, "oon_mid_usd"))?,
            high: money(t.get(row, "oon_high_usd"))?,
            p90: money(t.get(row, "oon_p90_usd"))?,
            observations: t
                .get(row, "oon_obs_n")
                .parse()
                .map_err(|_| format!("bad observation count `{}`", t.get(row, "oon_obs_n")))?,
        };
        if r.code.is_empty() || r.observations == 0 || r.low.0 <= 0 {
            return Err(format!("incomplete market row for `{}`", r.code));
        }
        out.push(r);
    }
    Ok(out)
}

/// Every code with a market reference, in file order.
pub fn all() -> &'static [MarketReference] {
    static REFS: OnceLock<Vec<MarketReference>> = OnceLock::new();
    REFS.get_or_init(|| parse(DATA).expect("the shipped market reference is valid"))
}

/// The UHC national reference for a code, if the dataset has it.
pub fn reference(code: &str) -> Option<&'static MarketReference> {
    let code = code.trim().to_ascii_uppercase();
    all().iter().find(|r| r.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_19_codes() {
        assert_eq!(all().len(), 19);
        let mut codes: Vec<&str> = all().iter().map(|r| r.code.as_str()).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), 19);
        assert!(codes.contains(&"90845") && codes.contains(&"96127"));
    }

    #[test]
    fn pins_the_90837_and_96127_rows() {
        let r = reference("90837").unwrap();
        assert_eq!(
            (r.low, r.mid, r.high, r.p90, r.observations),
            (Cents(11640), Cents(13738), Cents(17657), Cents(20917), 180)
        );
        let r = reference(" 96127 ").unwrap();
        assert_eq!((r.low, r.mid, r.high, r.p90, r.observations), (Cents(404), Cents(494), Cents(683), Cents(838), 63));
        // "125.0" style values parse exactly.
        assert_eq!(reference("90834").unwrap().high, Cents(12500));
    }

    #[test]
    fn every_row_is_ordered_low_mid_high() {
        for r in all() {
            assert!(r.low <= r.mid && r.mid <= r.high && r.high <= r.p90, "{r:?}");
            assert!(r.observations >= 10, "{r:?}");
        }
    }

    #[test]
    fn unknown_code_has_no_reference() {
        assert!(reference("99404").is_none());
        assert!(reference("").is_none());
    }

    #[test]
    fn scope_date_and_source_are_stated() {
        assert!(SCOPE.contains("national") && SCOPE.contains("UnitedHealthcare"));
        assert!(SOURCE.contains("Ticvision / CoralEHR") && SOURCE.contains("CC-BY-4.0"));
        assert!(CITATION.contains(AS_OF));
        assert_eq!(as_of().to_string(), AS_OF);
        assert!(SNAPSHOT > AS_OF);
    }

    #[test]
    fn serializes_cents_as_integers() {
        let v = serde_json::to_value(reference("90837").unwrap()).unwrap();
        assert_eq!(v["mid"], 13738);
        assert_eq!(v["observations"], 180);
    }
}
