//! The Medicare Physician Fee Schedule benchmark: RVUs, GPCIs and conversion factors shipped in
//! `commands/data/medicare` (see its SOURCES.md), and the exact integer arithmetic that turns
//! them into a locality amount for a code, year, credential and setting.
//!
//! Amounts are computed with integers only: RVUs in hundredths, GPCIs in thousandths, the
//! conversion factor in ten-thousandths, rounded half-up to cents once, then the credential's
//! share applied and rounded half-up once more.

pub(crate) mod csv;
mod locality;
mod zip;

pub use locality::{AmbiguousState, Locality, LocalityMatch, LocalityNotFound};
pub use zip::{ZipLocality, ZIP_SOURCE};

use crate::domain::{div_round_half_up, Cents, Credential, Setting};
use csv::{parse_fixed, Table};
use locality::LocalityIndex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, OnceLock};

const RVU_2025: &str = include_str!("../../data/medicare/rvu_2025.csv");
const RVU_2026: &str = include_str!("../../data/medicare/rvu_2026.csv");
const GPCI_2025: &str = include_str!("../../data/medicare/gpci_2025.csv");
const GPCI_2026: &str = include_str!("../../data/medicare/gpci_2026.csv");
const CONVERSION_FACTORS: &str = include_str!("../../data/medicare/conversion_factor.csv");
const LOCALITY_COUNTIES: &str = include_str!("../../data/medicare/locality_counties_2025.csv");

/// Where the shipped figures come from, for showing next to an amount.
pub const SOURCE: &str =
    "CMS Medicare Physician Fee Schedule: national RVU file, GPCI addendum and conversion factor for the year shown";

/// CMS status indicators of the shipped codes (the RVU CSVs carry none). Per the CMS files, the
/// same in 2025 and 2026: 90846 restricted coverage; 90875, 96170, 96171 and 99404 not covered
/// (their RVUs are published for other payers); every other code active.
const KNOWN_STATUS: &[(&str, char)] = &[("90846", 'R'), ("90875", 'N'), ("96170", 'N'), ("96171", 'N'), ("99404", 'N')];

const RVU_COLUMNS: &[&str] = &["hcpcs", "work_rvu", "pe_rvu_nonfacility", "pe_rvu_facility", "mp_rvu"];
const GPCI_COLUMNS: &[&str] = &["mac", "locality", "locality_name", "state", "work_gpci", "pe_gpci", "mp_gpci"];

/// A code and what it is, in plain words of our own (not the AMA descriptor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeInfo {
    pub code: String,
    pub description: String,
    /// CMS status indicator in the latest year that has the code: 'A' active, 'R' restricted
    /// coverage, 'N' not covered by Medicare, 'C' carrier-priced, ...
    pub status: char,
}

/// A PFS conversion factor, exact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversionFactor {
    pub year: u16,
    /// Dollars in ten-thousandths: 33.4009 is 334009.
    pub amount_ten_thousandths: i64,
    /// Key from the data file ("standard", "non_qualifying_apm", "qualifying_apm", "imported").
    pub kind: String,
    /// The same in words.
    pub label: String,
}

impl fmt::Display for ConversionFactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.amount_ten_thousandths;
        write!(f, "${}.{:04}", a / 10_000, a % 10_000)
    }
}

fn cf_label(kind: &str) -> String {
    match kind {
        "standard" => "standard".to_string(),
        "non_qualifying_apm" => "non-qualifying APM participant (most clinicians)".to_string(),
        "qualifying_apm" => "qualifying APM participant (QP)".to_string(),
        "imported" => "imported release".to_string(),
        other => match other.strip_prefix("standard_") {
            Some(period) => format!("standard, {}", period.replace("_to_", " to ")),
            None => other.replace('_', " "),
        },
    }
}

/// The kinds that apply to most clinicians, in order of preference.
fn is_default_kind(kind: &str) -> bool {
    matches!(kind, "standard" | "non_qualifying_apm" | "imported")
}

/// What Medicare allows for one code at one locality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MedicareAmount {
    Priced {
        /// The allowed amount for the credential.
        cents: Cents,
        /// The full fee-schedule amount (what a clinical psychologist is allowed).
        full_cents: Cents,
        /// The credential's share of `full_cents`, in percent.
        share_pct: u32,
        /// CMS status ('A', or 'R' for restricted coverage such as 90846).
        status: char,
    },
    NotPriced {
        reason: String,
    },
}

impl MedicareAmount {
    pub fn cents(&self) -> Option<Cents> {
        match self {
            MedicareAmount::Priced { cents, .. } => Some(*cents),
            MedicareAmount::NotPriced { .. } => None,
        }
    }

    /// A short note to show beside a priced amount whose coverage is limited.
    pub fn status_note(&self) -> Option<&'static str> {
        match self {
            MedicareAmount::Priced { status, .. } => status_note(*status),
            MedicareAmount::NotPriced { .. } => None,
        }
    }
}

/// Plain-words note for a CMS status indicator, when it is worth mentioning.
pub fn status_note(status: char) -> Option<&'static str> {
    match status {
        'R' => Some("Medicare restricts coverage of this code; it pays only in limited circumstances"),
        'N' => Some("Medicare does not cover this code"),
        'C' => Some("the local Medicare contractor sets this price; there is no national amount"),
        _ => None,
    }
}

fn join<T: ToString>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MedicareError {
    #[error("`{code}` is not a code with Medicare figures here; use one of: {list}", list = join(.valid))]
    UnknownCode { code: String, valid: Vec<String> },
    #[error("`{0}` is not a Medicare locality; use {forms}", forms = locality::ACCEPTED_FORMS)]
    UnknownLocality(String),
    #[error("there are no final Medicare figures for {year}; years available: {list}", list = join(.available))]
    UnknownYear { year: u16, available: Vec<u16> },
    #[error("the Medicare release could not be read: {0}")]
    BadRelease(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rvu {
    /// Hundredths. `pe_nonfacility` is None for facility-only codes (CMS "NA").
    work: i64,
    pe_nonfacility: Option<i64>,
    pe_facility: i64,
    mp: i64,
    status: char,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Gpci {
    /// Thousandths.
    work: i64,
    pe: i64,
    mp: i64,
}

#[derive(Debug, Clone)]
struct YearData {
    /// Ten-thousandths.
    cf: i64,
    rvus: BTreeMap<String, Rvu>,
    /// By locality id ("13202-01").
    gpcis: HashMap<String, Gpci>,
}

/// Every year of Medicare figures the bot knows. Build once, share through an `Arc`.
#[derive(Debug, Clone)]
pub struct MedicareData {
    years: BTreeMap<u16, YearData>,
    conversion_factors: Vec<ConversionFactor>,
    localities: Vec<Locality>,
    codes: BTreeMap<String, CodeInfo>,
    state_names: BTreeMap<String, String>,
    area_names: HashMap<String, String>,
    index: LocalityIndex,
}

fn normalize_code(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

fn pad_digits(s: &str, width: usize, what: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() || t.len() > width || !t.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("`{s}` is not a {what} (up to {width} digits)"));
    }
    Ok(format!("{t:0>width$}"))
}

struct ParsedRvu {
    code: String,
    description: String,
    rvu: Rvu,
}

fn parse_rvus(text: &str, what: &str) -> Result<Vec<ParsedRvu>, String> {
    let t = Table::parse(text, what, RVU_COLUMNS)?;
    let mut out: Vec<ParsedRvu> = Vec::new();
    for (i, row) in t.rows.iter().enumerate() {
        let at = |e: String| format!("{what}, data row {}: {e}", i + 1);
        let code = normalize_code(t.get(row, "hcpcs"));
        if code.is_empty() || code.len() > 5 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(at(format!("`{code}` is not a CPT/HCPCS code")));
        }
        if out.iter().any(|p| p.code == code) {
            return Err(at(format!("code {code} appears twice")));
        }
        let work = parse_fixed(t.get(row, "work_rvu"), 2).map_err(at)?;
        // CMS writes NA where a setting has no price. A facility NA means the non-facility PE
        // applies there too; a non-facility NA means the code is paid only in a facility.
        let pe_or_na = |column: &str| -> Result<Option<i64>, String> {
            let v = t.get(row, column);
            if v.eq_ignore_ascii_case("NA") {
                Ok(None)
            } else {
                parse_fixed(v, 2).map(Some)
            }
        };
        let pe_nonfacility = pe_or_na("pe_rvu_nonfacility").map_err(at)?;
        let pe_facility = match pe_or_na("pe_rvu_facility").map_err(at)? {
            Some(v) => v,
            None => pe_nonfacility.ok_or_else(|| at("both PE RVUs are NA".to_string()))?,
        };
        let mp = parse_fixed(t.get(row, "mp_rvu"), 2).map_err(at)?;
        let status = match t.get(row, "status") {
            "" => KNOWN_STATUS.iter().find(|(c, _)| *c == code).map(|(_, s)| *s).unwrap_or('A'),
            s if s.len() == 1 && s.chars().all(|c| c.is_ascii_alphabetic()) => {
                s.chars().next().unwrap_or('A').to_ascii_uppercase()
            }
            s => return Err(at(format!("`{s}` is not a one-letter CMS status"))),
        };
        out.push(ParsedRvu {
            code,
            description: t.get(row, "description").to_string(),
            rvu: Rvu { work, pe_nonfacility, pe_facility, mp, status },
        });
    }
    if out.is_empty() {
        return Err(format!("{what} has no codes"));
    }
    Ok(out)
}

fn parse_gpcis(text: &str, what: &str) -> Result<Vec<(Locality, Gpci)>, String> {
    let t = Table::parse(text, what, GPCI_COLUMNS)?;
    let mut out: Vec<(Locality, Gpci)> = Vec::new();
    for (i, row) in t.rows.iter().enumerate() {
        let at = |e: String| format!("{what}, data row {}: {e}", i + 1);
        let mac = pad_digits(t.get(row, "mac"), 5, "MAC number").map_err(at)?;
        let number = pad_digits(t.get(row, "locality"), 2, "locality number").map_err(at)?;
        let state = t.get(row, "state").to_ascii_uppercase();
        if state.len() != 2 || !state.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(at(format!("`{state}` is not a two-letter state code")));
        }
        let name = t.get(row, "locality_name").trim_end_matches('*').trim().to_string();
        if name.is_empty() {
            return Err(at("the locality name is empty".to_string()));
        }
        let g = Gpci {
            work: parse_fixed(t.get(row, "work_gpci"), 3).map_err(at)?,
            pe: parse_fixed(t.get(row, "pe_gpci"), 3).map_err(at)?,
            mp: parse_fixed(t.get(row, "mp_gpci"), 3).map_err(at)?,
        };
        if g.work == 0 || g.pe == 0 || g.mp == 0 {
            return Err(at("a GPCI of 0 is not possible".to_string()));
        }
        let l = Locality { mac, number, state, name, counties: String::new() };
        if out.iter().any(|(o, _)| o.id() == l.id()) {
            return Err(at(format!("locality {} appears twice", l.id())));
        }
        out.push((l, g));
    }
    if out.is_empty() {
        return Err(format!("{what} has no localities"));
    }
    Ok(out)
}

impl MedicareData {
    /// The shipped data, parsed once.
    pub fn embedded() -> Arc<MedicareData> {
        static DATA: OnceLock<Arc<MedicareData>> = OnceLock::new();
        DATA.get_or_init(|| Arc::new(MedicareData::from_shipped().expect("the shipped Medicare data is valid"))).clone()
    }

    fn from_shipped() -> Result<MedicareData, String> {
        // Conversion factors.
        let t = Table::parse(CONVERSION_FACTORS, "conversion_factor.csv", &["year", "kind", "amount"])?;
        let mut conversion_factors = Vec::new();
        for row in &t.rows {
            let year: u16 = t.get(row, "year").parse().map_err(|_| format!("bad CF year `{}`", t.get(row, "year")))?;
            let kind = t.get(row, "kind").to_string();
            conversion_factors.push(ConversionFactor {
                year,
                amount_ten_thousandths: parse_fixed(t.get(row, "amount"), 4)?,
                label: cf_label(&kind),
                kind,
            });
        }

        // Counties and full state names, keyed by MAC-locality.
        let t = Table::parse(
            LOCALITY_COUNTIES,
            "locality_counties_2025.csv",
            &["mac", "locality", "state_name", "fee_schedule_area", "counties"],
        )?;
        let mut counties: HashMap<String, (String, String, String)> = HashMap::new();
        for row in &t.rows {
            let id = format!(
                "{}-{}",
                pad_digits(t.get(row, "mac"), 5, "MAC number")?,
                pad_digits(t.get(row, "locality"), 2, "locality number")?
            );
            counties.insert(
                id,
                (
                    t.get(row, "state_name").to_string(),
                    t.get(row, "fee_schedule_area").trim_end_matches('*').trim().to_string(),
                    t.get(row, "counties").to_string(),
                ),
            );
        }

        let mut data = MedicareData {
            years: BTreeMap::new(),
            conversion_factors,
            localities: Vec::new(),
            codes: BTreeMap::new(),
            state_names: BTreeMap::new(),
            area_names: HashMap::new(),
            index: LocalityIndex::default(),
        };
        // The latest year's file gives the locality list and order (both years have the same 109).
        for (year, rvu, gpci) in [(2026u16, RVU_2026, GPCI_2026), (2025, RVU_2025, GPCI_2025)] {
            let cf =
                data.default_cf(year).ok_or_else(|| format!("no conversion factor for {year}"))?.amount_ten_thousandths;
            data.add_year(year, rvu, gpci, cf)?;
        }
        for l in &mut data.localities {
            if let Some((state_name, area, c)) = counties.get(&l.id()) {
                l.counties = c.clone();
                data.state_names.entry(l.state.clone()).or_insert_with(|| state_name.clone());
                data.area_names.insert(l.id(), area.clone());
            }
        }
        data.reindex();
        Ok(data)
    }

    fn add_year(&mut self, year: u16, rvu_csv: &str, gpci_csv: &str, cf: i64) -> Result<(), String> {
        let rvus = parse_rvus(rvu_csv, &format!("{year} RVU file"))?;
        let gpcis = parse_gpcis(gpci_csv, &format!("{year} GPCI file"))?;
        let mut yd = YearData { cf, rvus: BTreeMap::new(), gpcis: HashMap::new() };
        for p in rvus {
            let latest_for_code = self.years.range(year + 1..).all(|(_, y)| !y.rvus.contains_key(&p.code));
            let entry = self.codes.entry(p.code.clone()).or_insert_with(|| CodeInfo {
                code: p.code.clone(),
                description: p.description.clone(),
                status: p.rvu.status,
            });
            if latest_for_code {
                if !p.description.is_empty() {
                    entry.description = p.description.clone();
                }
                entry.status = p.rvu.status;
            }
            yd.rvus.insert(p.code, p.rvu);
        }
        for (l, g) in gpcis {
            let id = l.id();
            if !self.localities.iter().any(|o| o.id() == id) {
                self.localities.push(l);
            }
            yd.gpcis.insert(id, g);
        }
        self.years.insert(year, yd);
        Ok(())
    }

    fn reindex(&mut self) {
        self.index = LocalityIndex::build(&self.localities, &self.state_names, &self.area_names);
    }

    fn default_cf(&self, year: u16) -> Option<ConversionFactor> {
        let of_year: Vec<&ConversionFactor> = self.conversion_factors.iter().filter(|c| c.year == year).collect();
        of_year.iter().rev().find(|c| is_default_kind(&c.kind)).or(of_year.last()).map(|c| (*c).clone())
    }

    /// Years with final figures (RVUs, GPCIs and a conversion factor), ascending.
    pub fn years(&self) -> Vec<u16> {
        self.years.keys().copied().collect()
    }

    /// The most recent year with final figures: the default year for every amount.
    pub fn latest_year(&self) -> u16 {
        self.years.keys().next_back().copied().unwrap_or(0)
    }

    /// The conversion factor most clinicians get that year (non-qualifying APM in 2026).
    pub fn conversion_factor(&self, year: u16) -> Option<ConversionFactor> {
        self.default_cf(year)
    }

    /// Every conversion factor on file for the year (2026 also has the qualifying-APM one).
    pub fn conversion_factors(&self, year: u16) -> Vec<ConversionFactor> {
        self.conversion_factors.iter().filter(|c| c.year == year).cloned().collect()
    }

    /// All localities, in CMS order.
    pub fn localities(&self) -> &[Locality] {
        &self.localities
    }

    /// By MAC-locality id, e.g. "13202-01".
    pub fn locality(&self, id: &str) -> Option<&Locality> {
        // Compare the parts rather than formatting every id: this runs for every amount.
        let (mac, number) = id.trim().split_once('-')?;
        self.localities.iter().find(|l| l.mac == mac && l.number == number)
    }

    /// Resolves what a user typed: a name with its state, a MAC-locality id, a state and
    /// locality number, or a state with a single locality.
    pub fn find_locality(&self, input: &str) -> Result<&Locality, LocalityNotFound> {
        self.index.find(&self.localities, input)
    }

    /// Like `find_locality`, also taking a ZIP code, a county ("Cook County, IL") or a city in a
    /// locality's name ("Los Angeles, CA"), with a note when the match is not certain (a ZIP
    /// crossing a locality line, a county CMS does not name).
    pub fn resolve_locality(&self, input: &str) -> Result<LocalityMatch<'_>, LocalityNotFound> {
        self.index.resolve(&self.localities, input)
    }

    /// Parses the shipped ZIP file afresh and returns its row count: for the load-time benchmark
    /// (`benches/zip_table.rs`); everything else uses the table parsed once.
    #[doc(hidden)]
    pub fn parse_zip_table_for_bench() -> usize {
        zip::ZipTable::parse(zip::ZIP_FILE).map(|t| t.entries_len()).unwrap_or(0)
    }

    /// The locality of a 5-digit ZIP code, from CMS's ZIP file (joined on carrier and locality).
    pub fn zip_locality(&self, zip: &str) -> Option<ZipLocality> {
        let (z, _) = zip::parse_zip(zip)?;
        zip::ZipTable::shipped().get(z)
    }

    /// Full state name as CMS writes it ("NEW YORK", "HAWAII/GUAM"), when known.
    pub fn state_name(&self, state: &str) -> Option<&str> {
        self.state_names.get(&state.trim().to_ascii_uppercase()).map(String::as_str)
    }

    /// The codes shipped (any year), sorted.
    pub fn codes(&self) -> Vec<&CodeInfo> {
        self.codes.values().collect()
    }

    pub fn code(&self, code: &str) -> Option<&CodeInfo> {
        self.codes.get(&normalize_code(code))
    }

    /// Whether `year` has figures for `code`.
    pub fn has_code_in_year(&self, code: &str, year: u16) -> bool {
        self.years.get(&year).is_some_and(|y| y.rvus.contains_key(&normalize_code(code)))
    }

    /// The Medicare allowed amount for `code` at the locality (`locality_id` is a MAC-locality
    /// id; any form `find_locality` accepts also works), in `year`, for the credential and setting.
    pub fn amount(
        &self,
        code: &str,
        locality_id: &str,
        year: u16,
        credential: Credential,
        setting: Setting,
    ) -> Result<MedicareAmount, MedicareError> {
        let yd = self.years.get(&year).ok_or_else(|| MedicareError::UnknownYear { year, available: self.years() })?;
        let code_key = normalize_code(code);
        if !self.codes.contains_key(&code_key) {
            return Err(MedicareError::UnknownCode {
                code: code.trim().to_string(),
                valid: self.codes.keys().cloned().collect(),
            });
        }
        let locality = match self.locality(locality_id) {
            Some(l) => l,
            None => self
                .find_locality(locality_id)
                .map_err(|_| MedicareError::UnknownLocality(locality_id.trim().to_string()))?,
        };
        let Some(rvu) = yd.rvus.get(&code_key) else {
            return Ok(MedicareAmount::NotPriced {
                reason: format!(
                    "{code_key} is not in the {year} Medicare fee schedule file, so there is no {year} amount"
                ),
            });
        };
        let Some(gpci) = yd.gpcis.get(&locality.id()) else {
            return Ok(MedicareAmount::NotPriced {
                reason: format!("the {year} figures have no geographic index for {}", locality.display_name()),
            });
        };
        let not_priced = |reason: &str| Ok(MedicareAmount::NotPriced { reason: reason.to_string() });
        match rvu.status {
            'N' => return not_priced("Medicare does not cover this code, so it has no Medicare amount"),
            'C' => {
                return not_priced("the local Medicare contractor prices this code; there is no fee-schedule amount")
            }
            'I' => return not_priced("Medicare does not accept this code; another code is used instead"),
            'B' | 'P' => {
                return not_priced("Medicare bundles this code into other services; it is not paid separately")
            }
            'X' | 'E' => return not_priced("this code is outside the Medicare fee schedule"),
            _ => {}
        }
        if setting == Setting::NonFacility && rvu.pe_nonfacility.is_none() {
            return not_priced(
                "Medicare pays this code only in a facility setting; there is no office (non-facility) amount",
            );
        }
        let Some(full) = full_cents(rvu, gpci, yd.cf, setting) else {
            return not_priced(
                "the fee schedule has no relative values for this code (the local Medicare contractor prices it)",
            );
        };
        let share_pct = credential.medicare_share_pct();
        let cents = div_round_half_up(full as i128 * share_pct as i128, 100) as i64;
        if cents <= 0 {
            return not_priced(
                "the fee schedule has no relative values for this code (the local Medicare contractor prices it)",
            );
        }
        Ok(MedicareAmount::Priced { cents: Cents(cents), full_cents: Cents(full), share_pct, status: rvu.status })
    }

    /// A copy with one more year (or a replaced year) from a CMS release loaded at run time.
    /// `rvu_csv` uses the columns of `rvu_2026.csv` (an optional `status` column is read);
    /// `gpci_csv` those of `gpci_2026.csv`; the conversion factor is in ten-thousandths.
    pub fn with_release(
        &self,
        year: u16,
        rvu_csv: &str,
        gpci_csv: &str,
        conversion_factor_ten_thousandths: i64,
    ) -> Result<MedicareData, MedicareError> {
        if !(1992..=2100).contains(&year) {
            return Err(MedicareError::BadRelease(format!(
                "{year} is not a fee-schedule year; give the calendar year, e.g. 2027"
            )));
        }
        if !(100_000..=1_000_000).contains(&conversion_factor_ten_thousandths) {
            return Err(MedicareError::BadRelease(format!(
                "a conversion factor of {conversion_factor_ten_thousandths} ten-thousandths of a dollar is not plausible; \
                 $33.4009 is written 334009"
            )));
        }
        let mut next = self.clone();
        next.years.remove(&year);
        next.conversion_factors.retain(|c| c.year != year);
        next.conversion_factors.push(ConversionFactor {
            year,
            amount_ten_thousandths: conversion_factor_ten_thousandths,
            kind: "imported".to_string(),
            label: cf_label("imported"),
        });
        next.add_year(year, rvu_csv, gpci_csv, conversion_factor_ten_thousandths).map_err(MedicareError::BadRelease)?;
        next.reindex();
        Ok(next)
    }
}

/// The full fee-schedule amount in cents, or None when the code has no relative values.
fn full_cents(rvu: &Rvu, g: &Gpci, cf_ten_thousandths: i64, setting: Setting) -> Option<i64> {
    let pe = match setting {
        Setting::NonFacility => rvu.pe_nonfacility?,
        Setting::Facility => rvu.pe_facility,
    };
    if rvu.work + pe + rvu.mp == 0 {
        return None;
    }
    // RVU x100 times GPCI x1000 = x10^5; times CF x10^4 = x10^9; cents are x10^2.
    let weighted = rvu.work as i128 * g.work as i128 + pe as i128 * g.pe as i128 + rvu.mp as i128 * g.mp as i128;
    let full = div_round_half_up(weighted * cf_ten_thousandths as i128, 10_000_000) as i64;
    (full > 0).then_some(full)
}

#[cfg(test)]
mod tests;
