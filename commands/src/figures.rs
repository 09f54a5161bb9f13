//! The practice's figures with one payer, and which one wins when several sources have one.
//! Everything that quotes a figure (/rates, /practice, /walkaway, /report and every draft)
//! takes it from here, with its source, so the rule lives in one place.
//!
//! Sources: hand-entered (`/practice utilization`, weekly volume set with `/payer`), the claims
//! export (`raterise import claims`) and the remittances (`raterise import era`).
//!
//! The rule:
//! - The period is the last 12 months to today unless a command gives another.
//! - An import covers a payer's period when it holds claims of that payer with dates of service
//!   in the period. Its figures are then computed over the dates it covers there (the claims
//!   export: the dates of service of the exports overlapping the period; remittances: the first
//!   and last date of service of the payer's remittance claims), and the source names those dates.
//! - A figure computed from an import wins over the hand-entered one. A hand-entered figure is
//!   used only where no import gives that figure for the period, so a practice without an
//!   export keeps working as before, and one whose export does not mark no-shows keeps its
//!   hand-entered no-show rate.
//! - Between the two imports: the remittances are the payer's own record of when and whether it
//!   paid, so they win for days to payment (date of service to check date) and the denial rate.
//!   The claims export wins for what the practice did: claims, sessions, unique clients,
//!   no-shows and late cancellations (remittances never see those), the clean-claim rate (only
//!   the export knows a claim was paid after a resubmission) and the volume per code. Where the
//!   winning import lacks a figure, the other gives it.
//! - Weekly volume per code: a volume the practice set by hand (any number above 0) wins;
//!   otherwise the claims' sessions of the code in the covered dates divided by the weeks in
//!   them, rounded half up to whole sessions.

use crate::claims::metrics;
use crate::domain::div_round_half_up;
use crate::error::AppError;
use crate::store::case_file::Utilization;
use crate::store::{CodeRate, Payer, Store};
use chrono::{Months, NaiveDate};
use serde::{Serialize, Serializer};
use std::collections::HashMap;
use std::fmt;

/// Months a figure looks back unless a command says otherwise.
pub const DEFAULT_MONTHS: i64 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// The period `months` back from `end`, inclusive of both ends.
pub fn period(end: NaiveDate, months: i64) -> Period {
    let start = end.checked_sub_months(Months::new(months as u32)).and_then(|d| d.succ_opt()).unwrap_or(NaiveDate::MIN);
    Period { start, end }
}

impl Period {
    /// The part of this period inside `[first, last]`, if any.
    pub fn clip(&self, first: NaiveDate, last: NaiveDate) -> Option<Period> {
        let p = Period { start: self.start.max(first), end: self.end.min(last) };
        (p.start <= p.end).then_some(p)
    }

    pub fn days(&self) -> i64 {
        (self.end - self.start).num_days() + 1
    }
}

/// Where a figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Source {
    /// Typed with `/practice utilization`, for the period typed there.
    HandEntered { from: NaiveDate, to: NaiveDate },
    /// A weekly volume set with `/payer add|edit volume:`.
    HandSet,
    /// Computed from imported claims with dates of service from `from` to `to`.
    ClaimsExport { from: NaiveDate, to: NaiveDate },
    /// Computed from imported remittances with dates of service from `from` to `to`.
    Remittances { from: NaiveDate, to: NaiveDate },
}

impl Source {
    pub fn is_import(&self) -> bool {
        matches!(self, Source::ClaimsExport { .. } | Source::Remittances { .. })
    }

    /// In words, with dates written by `date` (ISO in chat, long form in letters).
    pub fn describe(&self, date: fn(NaiveDate) -> String) -> String {
        match self {
            Source::HandEntered { from, to } => format!("entered by hand for {} to {}", date(*from), date(*to)),
            Source::HandSet => "set by hand".into(),
            Source::ClaimsExport { from, to } => format!("claims export covering {} to {}", date(*from), date(*to)),
            Source::Remittances { from, to } => format!("remittances covering {} to {}", date(*from), date(*to)),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(|d| d.to_string()))
    }
}

/// A value and where it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figure<T> {
    pub value: T,
    pub source: Source,
}

/// A share kept as its count over its whole, rounded only when shown (one decimal, half up).
/// A hand-entered share is its basis points over 10,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    pub part: i64,
    pub whole: i64,
}

impl Share {
    pub fn of(part: i64, whole: i64) -> Option<Share> {
        (whole > 0).then_some(Share { part, whole })
    }

    pub fn from_bp(bp: i64) -> Share {
        Share { part: bp, whole: 10_000 }
    }

    /// Percent, one decimal.
    pub fn pct(&self) -> f64 {
        metrics::pct(self.part, self.whole).unwrap_or_default()
    }

    /// "96.5%", "61%".
    pub fn text(&self) -> String {
        let tenths = div_round_half_up(self.part as i128 * 1000, self.whole.max(1) as i128) as i64;
        if tenths % 10 == 0 {
            format!("{}%", tenths / 10)
        } else {
            format!("{}.{}%", tenths / 10, tenths % 10)
        }
    }

    /// Exactly below `bp` basis points (no rounding first).
    pub fn below_bp(&self, bp: i64) -> bool {
        (self.part as i128) * 10_000 < (bp as i128) * (self.whole as i128)
    }
}

impl Serialize for Share {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.pct())
    }
}

/// Days to payment: median and 90th percentile when computed, an average when typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Days {
    pub median: Option<i64>,
    pub p90: Option<i64>,
    pub average: Option<i64>,
}

impl Days {
    /// The figure to judge by: the median, or the typed average.
    pub fn typical(&self) -> Option<i64> {
        self.median.or(self.average)
    }

    pub fn text(&self) -> String {
        match (self.median, self.p90, self.average) {
            (Some(m), Some(p), _) => format!("median {m} days, 90th percentile {p} days"),
            (Some(m), None, _) => format!("median {m} days"),
            (None, _, Some(a)) => format!("{a} days on average"),
            _ => "unknown".into(),
        }
    }
}

/// One source's figures, before the rule picks among them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    pub source: Source,
    pub claims: Option<i64>,
    pub sessions: Option<i64>,
    pub unique_clients: Option<i64>,
    pub clean_claims: Option<Share>,
    pub denials: Option<Share>,
    pub days_to_payment: Option<Days>,
    pub no_shows: Option<Share>,
}

impl Candidate {
    fn empty(source: Source) -> Candidate {
        Candidate {
            source,
            claims: None,
            sessions: None,
            unique_clients: None,
            clean_claims: None,
            denials: None,
            days_to_payment: None,
            no_shows: None,
        }
    }

    pub fn hand_entered(u: &Utilization) -> Candidate {
        Candidate {
            claims: Some(u.claims),
            unique_clients: Some(u.unique_patients),
            clean_claims: u.clean_claim_bp.map(Share::from_bp),
            no_shows: u.no_show_bp.map(Share::from_bp),
            days_to_payment: u.days_to_payment.map(|d| Days { median: None, p90: None, average: Some(d) }),
            ..Candidate::empty(Source::HandEntered { from: u.period_start, to: u.period_end })
        }
    }

    /// From the claims report's metrics over the covered dates.
    pub fn from_claims(covered: Period, u: &metrics::Utilization, attendance_marked: bool) -> Candidate {
        let decided = u.paid_claims + u.denied_claims;
        let missed = u.no_shows + u.late_cancels;
        Candidate {
            claims: Some(u.claims),
            sessions: Some(u.sessions),
            unique_clients: Some(u.unique_clients),
            clean_claims: Share::of(u.clean_claims, decided),
            denials: Share::of(u.denied_claims, decided),
            days_to_payment: u.days_to_payment.median.map(|m| Days {
                median: Some(m),
                p90: u.days_to_payment.p90,
                average: None,
            }),
            no_shows: if attendance_marked { Share::of(missed, u.claims + missed) } else { None },
            ..Candidate::empty(Source::ClaimsExport { from: covered.start, to: covered.end })
        }
    }

    /// From remittances: claims not reversed, denied ones, and days from service to check date.
    pub fn from_remittances(
        covered: Period,
        claims: i64,
        denied: i64,
        unique_clients: i64,
        days: Option<crate::era::analysis::DaysToPayment>,
    ) -> Candidate {
        Candidate {
            claims: Some(claims),
            unique_clients: (unique_clients > 0).then_some(unique_clients),
            clean_claims: Share::of(claims - denied, claims),
            denials: Share::of(denied, claims),
            days_to_payment: days.map(|d| Days { median: Some(d.median), p90: Some(d.p90), average: None }),
            ..Candidate::empty(Source::Remittances { from: covered.start, to: covered.end })
        }
    }
}

/// The figures in use for one payer, each with its source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PayerFigures {
    pub payer: String,
    pub period: Period,
    pub claims: Option<Figure<i64>>,
    pub sessions: Option<Figure<i64>>,
    pub unique_clients: Option<Figure<i64>>,
    /// Sessions (or, typed by hand, claims) per unique client, two decimals.
    pub sessions_per_client: Option<Figure<f64>>,
    pub clean_claim_pct: Option<Figure<Share>>,
    pub denial_pct: Option<Figure<Share>>,
    pub days_to_payment: Option<Figure<Days>>,
    pub no_show_pct: Option<Figure<Share>>,
}

fn first<T: Copy>(order: &[&Candidate], pick: impl Fn(&Candidate) -> Option<T>) -> Option<Figure<T>> {
    order.iter().find_map(|c| pick(c).map(|value| Figure { value, source: c.source }))
}

/// The rule above, over what each source has.
pub fn choose(
    payer: &str,
    period: Period,
    hand: Option<Candidate>,
    claims: Option<Candidate>,
    remittances: Option<Candidate>,
) -> PayerFigures {
    let practice_side: Vec<&Candidate> = [&claims, &remittances, &hand].into_iter().flatten().collect();
    let payer_side: Vec<&Candidate> = [&remittances, &claims, &hand].into_iter().flatten().collect();
    let unique_clients = first(&practice_side, |c| c.unique_clients);
    // Per client from one source only: the clients' own.
    let sessions_per_client = unique_clients.and_then(|u| {
        let c = practice_side.iter().find(|c| c.source == u.source)?;
        let n = c.sessions.or(c.claims)?;
        (u.value > 0).then(|| Figure {
            value: div_round_half_up(n as i128 * 100, u.value as i128) as f64 / 100.0,
            source: u.source,
        })
    });
    PayerFigures {
        payer: payer.to_string(),
        period,
        claims: first(&practice_side, |c| c.claims),
        sessions: first(&practice_side, |c| c.sessions),
        unique_clients,
        sessions_per_client,
        clean_claim_pct: first(&practice_side, |c| c.clean_claims),
        denial_pct: first(&payer_side, |c| c.denials),
        days_to_payment: first(&payer_side, |c| c.days_to_payment),
        no_show_pct: first(&practice_side, |c| c.no_shows),
    }
}

impl PayerFigures {
    pub fn is_empty(&self) -> bool {
        self.claims.is_none()
            && self.unique_clients.is_none()
            && self.clean_claim_pct.is_none()
            && self.denial_pct.is_none()
            && self.days_to_payment.is_none()
            && self.no_show_pct.is_none()
    }

    /// Some figure comes from an import.
    pub fn from_imports(&self) -> bool {
        self.sources().iter().any(|(s, _)| s.is_import())
    }

    /// Each source in use with the figures it gives, in the order the figures are listed.
    pub fn sources(&self) -> Vec<(Source, Vec<&'static str>)> {
        let each: [(&'static str, Option<Source>); 7] = [
            ("claims", self.claims.map(|f| f.source)),
            ("sessions", self.sessions.map(|f| f.source)),
            ("unique clients", self.unique_clients.map(|f| f.source)),
            ("clean-claim rate", self.clean_claim_pct.map(|f| f.source)),
            ("denial rate", self.denial_pct.map(|f| f.source)),
            ("days to payment", self.days_to_payment.map(|f| f.source)),
            ("no-show rate", self.no_show_pct.map(|f| f.source)),
        ];
        let mut out: Vec<(Source, Vec<&'static str>)> = Vec::new();
        for (name, source) in each {
            let Some(source) = source else { continue };
            match out.iter_mut().find(|(s, _)| *s == source) {
                Some((_, names)) => names.push(name),
                None => out.push((source, vec![name])),
            }
        }
        out
    }

    /// "claims, sessions and unique clients: claims export covering ...; days to payment: ..."
    pub fn sources_text(&self, date: fn(NaiveDate) -> String) -> String {
        self.sources()
            .iter()
            .map(|(s, names)| format!("{}: {}", join_words(names), s.describe(date)))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// "a", "a and b", "a, b and c".
pub fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// What the claims export gives for a payer over the period, if it covers it.
async fn claims_candidate(
    store: &Store,
    practice_id: i64,
    payer_id: i64,
    period: Period,
) -> Result<Option<Candidate>, AppError> {
    let Some((first, last)) = store.claims_coverage(practice_id, period.start, period.end).await? else {
        return Ok(None);
    };
    let Some(covered) = period.clip(first, last) else { return Ok(None) };
    let facts = store.payer_claim_facts(practice_id, payer_id, covered.start, covered.end).await?;
    let u = metrics::compute(&facts, covered.end, |_, _| None);
    if u.claims + u.no_shows + u.late_cancels == 0 {
        return Ok(None);
    }
    Ok(Some(Candidate::from_claims(covered, &u, facts.attendance_marked)))
}

/// What the payer's remittances give over the period, if they cover it.
pub async fn remittance_candidate(
    store: &Store,
    practice_id: i64,
    payer_id: i64,
    period: Period,
) -> Result<Option<Candidate>, AppError> {
    let Some(cov) = store.remittance_coverage(practice_id, payer_id, period.start, period.end).await? else {
        return Ok(None);
    };
    let covered = Period { start: cov.first_service, end: cov.last_service };
    let days = crate::era::analysis::days_to_payment(store, practice_id, Some(payer_id), period.start, period.end)
        .await?
        .into_iter()
        .next()
        .map(|(_, d)| d);
    Ok(Some(Candidate::from_remittances(covered, cov.claims, cov.denied, cov.unique_clients, days)))
}

/// The payer's figures over the period, from every source, the rule deciding.
pub async fn payer_figures(
    store: &Store,
    practice_id: i64,
    payer: &Payer,
    hand: Option<&Utilization>,
    period: Period,
) -> Result<PayerFigures, AppError> {
    let claims = claims_candidate(store, practice_id, payer.id, period).await?;
    let remittances = remittance_candidate(store, practice_id, payer.id, period).await?;
    Ok(choose(&payer.name, period, hand.map(Candidate::hand_entered), claims, remittances))
}

/// Sessions of one code in the claims over the covered dates, and the weekly volume they make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeVolume {
    #[serde(skip)]
    pub payer_id: i64,
    pub cpt: String,
    pub sessions: i64,
    pub weekly: i64,
}

/// The volume per code the claims show over a period, when an export covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimsVolume {
    pub source: Source,
    /// Days of the covered dates (weeks = days / 7).
    pub days: i64,
    pub codes: Vec<CodeVolume>,
}

/// Sessions over `days` as a whole number a week, rounded half up.
pub fn weekly(sessions: i64, days: i64) -> i64 {
    if days <= 0 {
        return 0;
    }
    div_round_half_up(sessions as i128 * 7, days as i128) as i64
}

/// Volume per code from the claims, of one payer or all, when an export covers the period.
pub async fn claims_volume(
    store: &Store,
    practice_id: i64,
    payer_id: Option<i64>,
    period: Period,
) -> Result<Option<ClaimsVolume>, AppError> {
    let Some((first, last)) = store.claims_coverage(practice_id, period.start, period.end).await? else {
        return Ok(None);
    };
    let Some(covered) = period.clip(first, last) else { return Ok(None) };
    let days = covered.days();
    let codes = store
        .claim_sessions_per_code(practice_id, payer_id, covered.start, covered.end)
        .await?
        .into_iter()
        .map(|(payer_id, cpt, sessions)| CodeVolume { payer_id, cpt, sessions, weekly: weekly(sessions, days) })
        .collect();
    Ok(Some(ClaimsVolume { source: Source::ClaimsExport { from: covered.start, to: covered.end }, days, codes }))
}

/// The source of each code's weekly volume after [`apply_volume`], by (payer id, code).
#[derive(Debug, Clone, Default)]
pub struct VolumeSources(pub HashMap<(i64, String), Source>);

impl VolumeSources {
    pub fn of(&self, payer_id: i64, cpt: &str) -> Option<Source> {
        self.0.get(&(payer_id, cpt.to_string())).copied()
    }
}

/// Puts the claims' weekly volume on every code the practice did not set by hand.
pub fn apply_volume(codes: &mut [CodeRate], claims: Option<&ClaimsVolume>) -> VolumeSources {
    let mut sources = HashMap::new();
    for c in codes.iter_mut() {
        if c.weekly_volume > 0 {
            sources.insert((c.payer_id, c.cpt.clone()), Source::HandSet);
            continue;
        }
        let Some(v) = claims else { continue };
        if let Some(code) = v.codes.iter().find(|x| x.payer_id == c.payer_id && x.cpt == c.cpt) {
            c.weekly_volume = code.weekly;
            sources.insert((c.payer_id, c.cpt.clone()), v.source);
        }
    }
    VolumeSources(sources)
}

/// The codes' weekly volumes as commands use them: hand-set where set, else from the claims
/// over the last 12 months to `today`.
pub async fn with_volume(
    store: &Store,
    practice_id: i64,
    payer_id: Option<i64>,
    today: NaiveDate,
    codes: &mut [CodeRate],
) -> Result<(VolumeSources, Option<ClaimsVolume>), AppError> {
    let claims = claims_volume(store, practice_id, payer_id, period(today, DEFAULT_MONTHS)).await?;
    Ok((apply_volume(codes, claims.as_ref()), claims))
}

/// The practice's own fee per code as its claims export shows it (the amount billed most often
/// for one session), when an export covers the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsualFees {
    pub source: Source,
    pub fees: Vec<(String, crate::domain::Cents)>,
}

impl UsualFees {
    pub fn of(&self, cpt: &str) -> Option<crate::domain::Cents> {
        self.fees.iter().find(|(c, _)| c == cpt).map(|(_, f)| *f)
    }
}

pub async fn usual_fees(store: &Store, practice_id: i64, period: Period) -> Result<Option<UsualFees>, AppError> {
    let Some((first, last)) = store.claims_coverage(practice_id, period.start, period.end).await? else {
        return Ok(None);
    };
    let Some(covered) = period.clip(first, last) else { return Ok(None) };
    let fees = store.usual_billed_per_code(practice_id, covered.start, covered.end).await?;
    Ok((!fees.is_empty()).then(|| UsualFees {
        source: Source::ClaimsExport { from: covered.start, to: covered.end },
        fees: fees.into_iter().map(|(c, f)| (c, crate::domain::Cents(f))).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn shares_round_once_and_compare_exactly() {
        let s = Share::of(4449, 100_000).unwrap();
        assert_eq!(s.text(), "4.4%");
        assert_eq!(s.pct(), 4.4);
        assert_eq!(Share::from_bp(6100).text(), "61%");
        assert!(Share::of(8999, 10_000).unwrap().below_bp(9000));
        assert!(!Share::of(9, 10).unwrap().below_bp(9000));
        assert_eq!(Share::of(1, 0), None);
    }

    #[test]
    fn weekly_volume_rounds_half_up() {
        assert_eq!(weekly(520, 364), 10);
        assert_eq!(weekly(3, 14), 2);
        assert_eq!(weekly(5, 0), 0);
    }

    #[test]
    fn imports_win_and_each_import_wins_its_own_figures() {
        let period = period(d("2026-11-27"), 12);
        let hand = Candidate::hand_entered(&Utilization {
            payer: "Cigna".into(),
            period_start: d("2025-01-01"),
            period_end: d("2025-12-31"),
            claims: 1000,
            unique_patients: 50,
            clean_claim_bp: Some(9700),
            no_show_bp: Some(580),
            days_to_payment: Some(16),
        });
        // Hand-entered only.
        let f = choose("Cigna", period, Some(hand), None, None);
        assert_eq!(f.claims.unwrap().value, 1000);
        assert_eq!(f.days_to_payment.unwrap().value.text(), "16 days on average");
        assert_eq!(f.sessions_per_client.unwrap().value, 20.0);
        assert!(!f.from_imports());

        let claims = Candidate {
            source: Source::ClaimsExport { from: d("2025-11-28"), to: d("2026-11-27") },
            claims: Some(800),
            sessions: Some(810),
            unique_clients: Some(40),
            clean_claims: Share::of(90, 100),
            denials: Share::of(5, 100),
            days_to_payment: Some(Days { median: Some(20), p90: Some(40), average: None }),
            no_shows: None,
        };
        let f = choose("Cigna", period, Some(hand), Some(claims), None);
        assert_eq!(f.claims.unwrap(), Figure { value: 800, source: claims.source });
        assert_eq!(f.sessions_per_client.unwrap().value, 20.25);
        assert_eq!(f.days_to_payment.unwrap().value.median, Some(20));
        // The export does not mark attendance: the typed no-show rate stays.
        assert_eq!(f.no_show_pct.unwrap().source, hand.source);

        let era = Candidate::from_remittances(
            Period { start: d("2026-01-05"), end: d("2026-11-01") },
            300,
            30,
            35,
            Some(crate::era::analysis::DaysToPayment { claims: 270, median: 31, p90: 50 }),
        );
        let f = choose("Cigna", period, Some(hand), Some(claims), Some(era));
        assert_eq!(f.claims.unwrap().source, claims.source);
        assert_eq!(f.clean_claim_pct.unwrap().source, claims.source);
        assert_eq!(f.denial_pct.unwrap(), Figure { value: Share { part: 30, whole: 300 }, source: era.source });
        assert_eq!(f.days_to_payment.unwrap().value.median, Some(31));
        assert_eq!(f.days_to_payment.unwrap().source, era.source);
        assert_eq!(
            f.sources_text(|d| d.to_string()),
            "claims, sessions, unique clients and clean-claim rate: claims export covering 2025-11-28 to 2026-11-27; \
             denial rate and days to payment: remittances covering 2026-01-05 to 2026-11-01; \
             no-show rate: entered by hand for 2025-01-01 to 2025-12-31"
        );
    }
}
