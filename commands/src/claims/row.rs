//! One CSV record to a typed claim line, a row to skip, or the problems that make it bad.
//! Pure: no store, no secret. The client's identifier is handed on only to be hashed.

use super::columns::{ColumnMap, Field};
use crate::domain::Cents;
use chrono::NaiveDate;
use serde::Serialize;

/// What happened with a claim, as far as the export says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClaimOutcome {
    Paid,
    Denied,
    Pending,
    NoShow,
    LateCancel,
}

impl ClaimOutcome {
    pub fn key(self) -> &'static str {
        match self {
            ClaimOutcome::Paid => "paid",
            ClaimOutcome::Denied => "denied",
            ClaimOutcome::Pending => "pending",
            ClaimOutcome::NoShow => "no-show",
            ClaimOutcome::LateCancel => "late-cancel",
        }
    }

    pub fn is_attendance(self) -> bool {
        matches!(self, ClaimOutcome::NoShow | ClaimOutcome::LateCancel)
    }
}

/// A parsed service line. `client` is the raw identifier: it is hashed and dropped, never stored.
#[derive(Debug, Clone)]
pub struct ClaimLine<'a> {
    pub service_date: NaiveDate,
    pub payer: &'a str,
    pub payer_id: Option<&'a str>,
    /// Empty for a no-show or late cancellation.
    pub cpt: String,
    pub modifiers: String,
    pub units: i64,
    pub billed: Option<Cents>,
    pub allowed: Option<Cents>,
    pub paid: Option<Cents>,
    pub paid_date: Option<NaiveDate>,
    pub outcome: ClaimOutcome,
    pub resubmitted: bool,
    pub client: &'a str,
    pub clinician: Option<&'a str>,
    pub credential: Option<String>,
    pub place_of_service: Option<String>,
}

impl ClaimLine<'_> {
    pub fn days_to_payment(&self) -> Option<i64> {
        match (self.outcome, self.paid_date) {
            (ClaimOutcome::Paid, Some(d)) => Some((d - self.service_date).num_days()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// Every cell empty.
    Blank,
    /// A totals / subtotals / summary line, not a claim.
    Summary,
    /// Self-pay or no insurance on the row: not a claim to a payer.
    NoInsurance,
    /// A cancellation that was not late: nothing was billed or missed.
    Cancelled,
    /// A date of service after today: a scheduled appointment, not a claim yet.
    Future,
    /// The payer is not one of the practice's payers (listed in `payers`).
    UnknownPayer,
}

impl SkipReason {
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::Blank => "blank rows",
            SkipReason::Summary => "totals or summary rows",
            SkipReason::NoInsurance => "self-pay rows (no insurance)",
            SkipReason::Cancelled => "cancellations that were not late",
            SkipReason::Future => "appointments after today",
            SkipReason::UnknownPayer => "rows for payers not set up here",
        }
    }
}

/// Why a row is bad: where, and what was expected. Never echoes the client's cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub line: u64,
    pub column: String,
    pub expected: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "line {}: {}", self.line, self.expected)
        } else {
            write!(f, "line {}, column `{}`: {}", self.line, self.column, self.expected)
        }
    }
}

/// Returned once per row and matched at once, so the claim is not boxed.
#[allow(clippy::large_enum_variant)]
pub enum RowKind<'a> {
    Claim(ClaimLine<'a>),
    Skip(SkipReason),
    Bad(Vec<Problem>),
}

/// Reads one record. `line` is the file line the record starts on.
pub fn classify<'a>(map: &ColumnMap, cells: &[&'a str], line: u64, today: NaiveDate) -> RowKind<'a> {
    if cells.iter().all(|c| c.trim().is_empty()) {
        return RowKind::Skip(SkipReason::Blank);
    }
    let get = |f: Field| -> &'a str { map.index(f).and_then(|i| cells.get(i)).map(|c| c.trim()).unwrap_or("") };
    if is_summary(cells, get(Field::ServiceDate)) {
        return RowKind::Skip(SkipReason::Summary);
    }
    if cells.len() != map.headers.len() {
        return RowKind::Bad(vec![Problem {
            line,
            column: String::new(),
            expected: format!(
                "expected {} fields as in the header, found {} (an unquoted comma or a cut line?)",
                map.headers.len(),
                cells.len()
            ),
        }]);
    }
    let mut problems = Vec::new();
    let column = |f: Field| map.index(f).map(|i| map.headers[i].clone()).unwrap_or_default();
    let mut bad = |f: Field, expected: String| problems.push(Problem { line, column: column(f), expected });

    let payer = get(Field::Payer);
    let status = Status::read(get(Field::Status));
    let attendance = Status::read(get(Field::Attendance));
    let code_cell = get(Field::Cpt);
    let code_mark = Status::read(code_cell);

    let service_date = match parse_date(get(Field::ServiceDate)) {
        Some(d) => Some(d),
        None => {
            bad(
                Field::ServiceDate,
                format!("expected a date like 2026-03-31 or 03/31/2026, found `{}`", get(Field::ServiceDate)),
            );
            None
        }
    };
    if matches!(attendance, Ok(Some(Status::Cancelled))) || matches!(status, Ok(Some(Status::Cancelled))) {
        return RowKind::Skip(SkipReason::Cancelled);
    }
    if is_self_pay(payer) {
        return RowKind::Skip(SkipReason::NoInsurance);
    }
    if let Some(d) = service_date {
        if d > today {
            return RowKind::Skip(SkipReason::Future);
        }
    }
    let client = get(Field::Client);
    if !client.chars().any(char::is_alphanumeric) {
        bad(Field::Client, "expected the client's name or account id; the cell is empty".into());
    }

    let mut outcome = None;
    let mut resubmitted = false;
    for (field, s) in [(Field::Attendance, &attendance), (Field::Status, &status)] {
        match s {
            Err(()) => bad(
                field,
                format!("`{}` is not a status raterise knows; expected one of: {}", get(field), Status::KNOWN),
            ),
            Ok(Some(st)) => {
                if outcome.is_none() {
                    outcome = st.outcome();
                }
                resubmitted |= st.resubmitted();
            }
            Ok(None) => {}
        }
    }
    let mut cpt = String::new();
    match code_mark {
        Ok(Some(st @ (Status::NoShow | Status::LateCancel))) => outcome = st.outcome(),
        _ => match normalise_code(code_cell) {
            Some(c) => cpt = c,
            None => bad(Field::Cpt, format!("expected a CPT or HCPCS code such as 90837, found `{code_cell}`")),
        },
    }
    if outcome.is_some_and(ClaimOutcome::is_attendance) {
        cpt.clear();
    }

    let units = match get(Field::Units) {
        "" => 1,
        u => match parse_units(u) {
            Some(n) => n,
            None => {
                bad(Field::Units, format!("expected a whole number of units such as 1, found `{u}`"));
                1
            }
        },
    };
    let mut money = |f: Field| -> Option<Cents> {
        let raw = get(f);
        if raw.is_empty() {
            return None;
        }
        match parse_money(raw) {
            Ok(c) => Some(c),
            Err(expected) => {
                bad(f, expected);
                None
            }
        }
    };
    let billed = money(Field::Billed);
    let allowed = money(Field::Allowed);
    let paid = money(Field::InsurancePaid);
    let paid_date = match get(Field::PaymentDate) {
        "" => None,
        raw => match parse_date(raw) {
            Some(d) => Some(d),
            None => {
                bad(Field::PaymentDate, format!("expected a date like 2026-04-15 or 04/15/2026, found `{raw}`"));
                None
            }
        },
    };
    if let (Some(s), Some(p)) = (service_date, paid_date) {
        if p < s {
            bad(Field::PaymentDate, format!("the payment date {p} is before the date of service {s}"));
        }
    }
    let outcome = outcome.unwrap_or(match paid {
        Some(p) if p.0 > 0 => ClaimOutcome::Paid,
        _ => ClaimOutcome::Pending,
    });
    if !problems.is_empty() {
        return RowKind::Bad(problems);
    }
    let Some(service_date) = service_date else { return RowKind::Bad(problems) };
    let optional = |f: Field| Some(get(f)).filter(|s| !s.is_empty());
    RowKind::Claim(ClaimLine {
        service_date,
        payer,
        payer_id: optional(Field::PayerId),
        units: if outcome.is_attendance() { 0 } else { units },
        cpt,
        modifiers: normalise_modifiers(get(Field::Modifiers)),
        billed,
        allowed,
        paid,
        paid_date: if outcome == ClaimOutcome::Paid { paid_date } else { None },
        outcome,
        resubmitted,
        client,
        clinician: optional(Field::Clinician),
        credential: optional(Field::Credential).map(|c| c.to_ascii_uppercase()),
        place_of_service: optional(Field::PlaceOfService).map(str::to_string),
    })
}

/// Totals lines: a cell that starts with "total", "subtotal", "grand total" or "summary" where
/// a date of service should be, or anywhere on a row with no date of service.
fn is_summary(cells: &[&str], date_cell: &str) -> bool {
    let looks = |c: &str| {
        let s = super::columns::squash(c);
        s.starts_with("total") || s.starts_with("subtotal") || s.starts_with("grandtotal") || s.starts_with("summary")
    };
    looks(date_cell) || (date_cell.is_empty() && cells.iter().any(|c| looks(c)))
}

fn is_self_pay(payer: &str) -> bool {
    let s = super::columns::squash(payer);
    matches!(
        s.as_str(),
        "" | "none" | "selfpay" | "self" | "privatepay" | "cash" | "noinsurance" | "client" | "na" | "outofpocket"
    )
}

/// Statuses, squashed, grouped by meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Paid,
    PaidAfterResubmission,
    Denied,
    Pending,
    Resubmitted,
    NoShow,
    LateCancel,
    Cancelled,
    /// The session happened ("Show", "Attended"): says nothing about payment.
    Attended,
}

impl Status {
    const KNOWN: &'static str = "paid, partially paid, paid after resubmission, denied, rejected, pending, submitted, unpaid, resubmitted, appealed, no show, late cancel, cancelled, show / attended";

    /// `Ok(None)` for an empty cell, `Err` for words we do not know.
    fn read(cell: &str) -> Result<Option<Status>, ()> {
        let s = super::columns::squash(cell);
        Ok(Some(match s.as_str() {
            "" => return Ok(None),
            "paid" | "paidinfull" | "partiallypaid" | "partialpaid" | "partial" | "processed" | "closed"
            | "complete" | "settled" | "posted" | "paidpartial" | "overpaid" => Status::Paid,
            "paidafterresubmission"
            | "paidonresubmission"
            | "paidafterappeal"
            | "paidresubmitted"
            | "resubmittedpaid"
            | "paidafterdenial"
            | "paidcorrected"
            | "correctedpaid" => Status::PaidAfterResubmission,
            "denied" | "denial" | "rejected" | "declined" | "notcovered" | "deniedrejected" => Status::Denied,
            "pending" | "submitted" | "unpaid" | "open" | "inprocess" | "inprogress" | "awaiting"
            | "awaitingpayment" | "billed" | "notbilled" | "unbilled" | "accepted" | "received" | "noclaim"
            | "notsubmitted" | "uninvoiced" | "new" | "ready" | "readytosubmit" | "outstanding" => Status::Pending,
            "resubmitted" | "appealed" | "corrected" | "inappeal" | "rebilled" => Status::Resubmitted,
            "noshow" | "noshowed" | "noshowfee" | "didnotattend" | "dna" | "missed" | "missedappointment"
            | "absent" | "ns" => Status::NoShow,
            "latecancel"
            | "latecancelled"
            | "latecanceled"
            | "latecancellation"
            | "latecancelfee"
            | "latecancellationfee"
            | "lc" => Status::LateCancel,
            "cancelled" | "canceled" | "cancellation" | "rescheduled" => Status::Cancelled,
            "show" | "showed" | "attended" | "arrived" | "kept" | "completed" | "checkedout" | "seen" => {
                Status::Attended
            }
            _ => return Err(()),
        }))
    }

    fn outcome(self) -> Option<ClaimOutcome> {
        match self {
            Status::Paid | Status::PaidAfterResubmission => Some(ClaimOutcome::Paid),
            Status::Denied => Some(ClaimOutcome::Denied),
            Status::Pending | Status::Resubmitted => Some(ClaimOutcome::Pending),
            Status::NoShow => Some(ClaimOutcome::NoShow),
            Status::LateCancel => Some(ClaimOutcome::LateCancel),
            Status::Cancelled | Status::Attended => None,
        }
    }

    fn resubmitted(self) -> bool {
        matches!(self, Status::PaidAfterResubmission | Status::Resubmitted)
    }
}

/// `YYYY-MM-DD`, `MM/DD/YYYY`, `M/D/YY` (20YY), `MM-DD-YYYY`; a time after a space is ignored.
pub fn parse_date(cell: &str) -> Option<NaiveDate> {
    let s = cell.trim().split([' ', 'T']).next()?;
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    let parts: Vec<&str> = s.split(['/', '-', '.']).collect();
    let [m, d, y] = parts.as_slice() else { return None };
    if !(1..=2).contains(&m.len()) || !(1..=2).contains(&d.len()) {
        return None;
    }
    let (m, d): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
    let y: i32 = match y.len() {
        4 => y.parse().ok()?,
        2 => 2000 + y.parse::<i32>().ok()?,
        _ => return None,
    };
    NaiveDate::from_ymd_opt(y, m, d).filter(|d| d.year_ce().1 >= 1990)
}

use chrono::Datelike;

/// Five characters: a CPT code (five digits, or four and a letter) or a HCPCS code (a letter and
/// four digits). Anything else is not a code.
pub fn normalise_code(cell: &str) -> Option<String> {
    let c = cell.trim().to_ascii_uppercase();
    let b = c.as_bytes();
    let ok = b.len() == 5
        && ((b[..4].iter().all(u8::is_ascii_digit) && b[4].is_ascii_alphanumeric())
            || (b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit)));
    ok.then_some(c)
}

fn parse_units(cell: &str) -> Option<i64> {
    let s = cell.trim();
    let whole = s.strip_suffix(".00").or_else(|| s.strip_suffix(".0")).unwrap_or(s);
    whole.parse::<i64>().ok().filter(|n| (1..=100).contains(n))
}

/// Dollars as exports write them; `(12.00)` and `-12.00` are negative and refused.
fn parse_money(raw: &str) -> Result<Cents, String> {
    if raw.starts_with('(') && raw.ends_with(')') {
        return Err(format!("expected an amount of zero or more, found the negative `{raw}`"));
    }
    match Cents::parse(raw) {
        Ok(c) if c.0 < 0 => Err(format!("expected an amount of zero or more, found the negative `{raw}`")),
        Ok(c) if c.0 > 100_000_000 => Err(format!("expected an amount per line under $1,000,000, found `{raw}`")),
        Ok(c) => Ok(c),
        Err(_) => Err(format!("expected dollars and cents like 118.50, found `{raw}`")),
    }
}

fn normalise_modifiers(cell: &str) -> String {
    cell.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|m| !m.is_empty())
        .map(|m| m.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_usual_export_forms() {
        let d = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        for s in
            ["2026-03-05", "03/05/2026", "3/5/2026", "3/5/26", "03-05-2026", "03/05/2026 10:30 AM", "2026-03-05T10:00"]
        {
            assert_eq!(parse_date(s), Some(d), "{s}");
        }
        for s in ["", "13/05/2026", "2026-02-30", "5 March", "03/05", "0305/2026/1"] {
            assert_eq!(parse_date(s), None, "{s}");
        }
    }

    #[test]
    fn codes_money_and_units() {
        assert_eq!(normalise_code(" 90837 ").as_deref(), Some("90837"));
        assert_eq!(normalise_code("h0031").as_deref(), Some("H0031"));
        assert_eq!(normalise_code("9083"), None);
        assert_eq!(normalise_code("Intake"), None);
        assert_eq!(parse_money("$1,118.50"), Ok(Cents(111850)));
        assert!(parse_money("(5.00)").unwrap_err().contains("negative"));
        assert!(parse_money("-5").unwrap_err().contains("negative"));
        assert!(parse_money("abc").unwrap_err().contains("dollars"));
        assert_eq!(parse_units("2.00"), Some(2));
        assert_eq!(parse_units("0"), None);
        assert_eq!(normalise_modifiers("95 / hj"), "95,HJ");
    }
}
