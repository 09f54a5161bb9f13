//! /practice utilization | outcome | credential | remove | show: the case file the practice brings
//! to a negotiation, entered by hand until claims can be imported. Aggregates only.

use super::negotiate::quoted;
use super::{audit, resolve_payer, Outcome};
use crate::context::Ctx;
use crate::error::AppError;
use crate::figures::{self, PayerFigures};
use crate::invocation::Invocation;
use crate::reply::{Align, Reply, Table, Tone};
use crate::store::case_file::{CaseCredential, CaseFile, CaseFileItem, CredentialKind, OutcomeMeasure, Utilization};
use crate::store::Practice;
use serde::Serialize;

/// A share typed as `96.5%` or `96.5`, in basis points (9650).
pub fn parse_share(option: &str, input: &str) -> Result<i64, AppError> {
    let s = input.trim().trim_end_matches('%').trim();
    let bad = || AppError::user(format!("{option}: `{}` is not a percentage; write it like 96.5%", input.trim()));
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || whole.len() > 3
        || frac.len() > 2
        || !whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let bp =
        whole.parse::<i64>().map_err(|_| bad())? * 100 + format!("{frac:0<2}").parse::<i64>().map_err(|_| bad())?;
    if bp > 10_000 {
        return Err(AppError::user(format!("{option}: {} is more than 100%", input.trim())));
    }
    Ok(bp)
}

/// A score change typed as `-6.2`, in tenths of a point (-62).
pub fn parse_change(option: &str, input: &str) -> Result<i64, AppError> {
    let s = input.trim();
    let bad =
        || AppError::user(format!("{option}: `{s}` is not a change in score; write the average change like -6.2"));
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || whole.len() > 3
        || frac.len() > 1
        || !whole.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let tenths = whole.parse::<i64>().map_err(|_| bad())? * 10
        + if frac.is_empty() { 0 } else { frac.parse::<i64>().map_err(|_| bad())? };
    Ok(if neg { -tenths } else { tenths })
}

/// Basis points as a percentage with at most one decimal: 9650 -> "96.5%", 6100 -> "61%".
pub fn share_text(bp: i64) -> String {
    let tenths = crate::domain::div_round_half_up(bp as i128, 10) as i64;
    if tenths % 10 == 0 {
        format!("{}%", tenths / 10)
    } else {
        format!("{}.{}%", tenths / 10, tenths % 10)
    }
}

/// A count with thousands separators: 1587 -> "1,587".
pub fn count_text(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    // The first group takes what is left over from groups of three.
    let head = match digits.len() % 3 {
        0 => 3.min(digits.len()),
        r => r,
    };
    let mut out = digits[..head].to_string();
    for group in digits.as_bytes()[head..].chunks(3) {
        out.push(',');
        out.push_str(std::str::from_utf8(group).expect("ASCII digits"));
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// How summaries write dates: ISO in chat, long form in letters.
pub type DateStyle = fn(chrono::NaiveDate) -> String;

pub fn iso_date(d: chrono::NaiveDate) -> String {
    d.to_string()
}

/// Tenths of a point as a signed score change: -62 -> "-6.2".
pub fn change_text(tenths: i64) -> String {
    let sign = if tenths < 0 { "-" } else { "+" };
    format!("{sign}{}.{}", tenths.abs() / 10, tenths.abs() % 10)
}

/// Average sessions per patient, one decimal.
pub fn per_patient_text(claims: i64, patients: i64) -> Option<String> {
    (patients > 0).then(|| {
        let tenths = crate::domain::div_round_half_up(claims as i128 * 10, patients as i128) as i64;
        format!("{}.{}", tenths / 10, tenths % 10)
    })
}

fn bounded_text(option: &str, value: &str, max: usize) -> Result<String, AppError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(AppError::user(format!("{option}: give 1 to {max} characters")));
    }
    Ok(v.to_string())
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseFileChanged {
    pub action: &'static str,
    pub item: CaseFileItem,
    pub name: String,
    /// The entry in words, as letters will use it.
    pub summary: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseFileView {
    pub practice: String,
    /// Only this payer's utilization, when asked for one.
    pub payer: Option<String>,
    #[serde(flatten)]
    pub file: CaseFile,
    /// The figures in use per payer over the last 12 months, each with its source: computed
    /// from imports where they cover the period, else as entered by hand (see `figures`).
    pub figures: Vec<PayerFigures>,
}

pub fn utilization_summary(u: &Utilization, date: DateStyle) -> String {
    let mut s = format!(
        "{} claims for {} patients from {} to {}",
        count_text(u.claims),
        count_text(u.unique_patients),
        date(u.period_start),
        date(u.period_end)
    );
    if let Some(p) = per_patient_text(u.claims, u.unique_patients) {
        s.push_str(&format!(" ({p} sessions per patient)"));
    }
    if let Some(c) = u.clean_claim_bp {
        s.push_str(&format!("; clean-claim rate {}", share_text(c)));
    }
    if let Some(n) = u.no_show_bp {
        s.push_str(&format!("; no-show rate {}", share_text(n)));
    }
    if let Some(d) = u.days_to_payment {
        s.push_str(&format!("; paid in {d} days on average"));
    }
    s
}

pub fn outcome_summary(m: &OutcomeMeasure, date: DateStyle) -> String {
    let mut parts = Vec::new();
    if let Some(bp) = m.improved_bp {
        parts.push(format!("{} of {} clients improved meaningfully", share_text(bp), count_text(m.clients)));
    }
    if let Some(t) = m.avg_change_tenths {
        let what = if parts.is_empty() { format!("across {} clients, ", count_text(m.clients)) } else { String::new() };
        parts.push(format!("{what}average change {} points", change_text(t)));
    }
    let period = match (m.period_start, m.period_end) {
        (Some(a), Some(b)) => format!(" ({} to {})", date(a), date(b)),
        (None, Some(b)) => format!(" (to {})", date(b)),
        (Some(a), None) => format!(" (from {})", date(a)),
        (None, None) => String::new(),
    };
    format!("{}: {}{period}", m.measure, parts.join(", "))
}

pub fn credential_summary(c: &CaseCredential) -> String {
    let mut s = c.name.clone();
    if let Some(n) = c.clinicians {
        s.push_str(&format!(" ({n} clinician{})", if n == 1 { "" } else { "s" }));
    }
    if let Some(d) = c.earned_on {
        s.push_str(&format!(", earned {d}"));
    }
    if let Some(note) = &c.note {
        s.push_str(&format!(": {note}"));
    }
    s
}

pub async fn utilization(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = resolve_payer(ctx, practice, inv.required("payer")?).await?;
    let from = inv.need("from", inv.date("from")?)?;
    let to = inv.need("to", inv.date("to")?)?;
    if to < from {
        return Err(AppError::user(format!(
            "to: {to} is before from: {from}; the period runs from the earlier date to the later"
        )));
    }
    let claims = inv.need("claims", inv.integer("claims")?)?;
    let patients = inv.need("patients", inv.integer("patients")?)?;
    if !(0..=10_000_000).contains(&claims) {
        return Err(AppError::user(format!(
            "claims: {claims} is out of range; give the number of claims in the period"
        )));
    }
    if patients < 0 || patients > claims {
        return Err(AppError::user(format!(
            "patients: {patients} unique patients with {claims} claims cannot be right; each patient has at least one claim"
        )));
    }
    let days = inv.integer("days_to_pay")?;
    if let Some(d) = days {
        if !(0..=365).contains(&d) {
            return Err(AppError::user(format!(
                "days_to_pay: {d} is out of range; give the average days from claim to payment (0 to 365)"
            )));
        }
    }
    let u = Utilization {
        payer: payer.name.clone(),
        period_start: from,
        period_end: to,
        claims,
        unique_patients: patients,
        clean_claim_bp: inv.opt("clean_claims").map(|v| parse_share("clean_claims", v)).transpose()?,
        no_show_bp: inv.opt("no_shows").map(|v| parse_share("no_shows", v)).transpose()?,
        days_to_payment: days,
    };
    ctx.store.save_utilization(practice.id, payer.id, &u, &audit(ctx, inv, practice)).await?;
    Ok(Outcome::CaseFileChanged(CaseFileChanged {
        action: "saved",
        item: CaseFileItem::Utilization,
        name: payer.name,
        summary: utilization_summary(&u, iso_date),
    }))
}

pub async fn outcome(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let measure = bounded_text("measure", inv.required("measure")?, 40)?;
    let clients = inv.need("clients", inv.integer("clients")?)?;
    if !(1..=1_000_000).contains(&clients) {
        return Err(AppError::user(format!("clients: {clients} is out of range; give how many clients were measured")));
    }
    let improved = inv.opt("improved").map(|v| parse_share("improved", v)).transpose()?;
    let change = inv.opt("change").map(|v| parse_change("change", v)).transpose()?;
    if improved.is_none() && change.is_none() {
        return Err(AppError::user(format!(
            "Give what the {measure} scores show: improved:62% (share of clients who improved meaningfully) and/or change:-5.8 (average change in points)"
        )));
    }
    let (from, to) = (inv.date("from")?, inv.date("to")?);
    if let (Some(a), Some(b)) = (from, to) {
        if b < a {
            return Err(AppError::user(format!("to: {b} is before from: {a}")));
        }
    }
    let m = OutcomeMeasure {
        measure: measure.clone(),
        period_start: from,
        period_end: to,
        clients,
        improved_bp: improved,
        avg_change_tenths: change,
    };
    ctx.store.save_outcome_measure(practice.id, &m, &audit(ctx, inv, practice)).await?;
    Ok(Outcome::CaseFileChanged(CaseFileChanged {
        action: "saved",
        item: CaseFileItem::Outcome,
        name: measure,
        summary: outcome_summary(&m, iso_date),
    }))
}

pub async fn credential(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let name = bounded_text("name", inv.required("name")?, 60)?;
    let kind = inv.parsed::<CredentialKind>("kind")?.unwrap_or(CredentialKind::Specialty);
    let clinicians = inv.integer("clinicians")?;
    if let Some(n) = clinicians {
        if !(1..=10_000).contains(&n) {
            return Err(AppError::user(format!(
                "clinicians: {n} is out of range; give how many of your clinicians hold it"
            )));
        }
    }
    let note = inv.opt("note").map(|n| bounded_text("note", n, 200)).transpose()?;
    let earned_on = inv.date("date")?;
    let today = super::practice_today(ctx, practice);
    if let Some(d) = earned_on {
        if d > today + chrono::Duration::days(366) {
            return Err(AppError::user(format!(
                "date: {d} is more than a year ahead; give the day the credential was (or will be) earned"
            )));
        }
    }
    let c = CaseCredential { name: name.clone(), kind, clinicians, note, earned_on };
    ctx.store.save_case_credential(practice.id, &c, &audit(ctx, inv, practice)).await?;
    let mut summary = format!("{} ({})", credential_summary(&c), kind.key());
    if let Some(d) = earned_on {
        let (_, until) = crate::reminders::credential_window(d);
        if until >= today {
            summary.push_str(&format!(
                "; a reason to ask your payers for more until {until}: see /timing, and a reminder is planned for {d}"
            ));
        } else {
            summary.push_str(&format!(
                "; earned more than {} days ago, so no longer news to a payer",
                crate::reminders::CREDENTIAL_WINDOW_DAYS
            ));
        }
    }
    Ok(Outcome::CaseFileChanged(CaseFileChanged { action: "saved", item: CaseFileItem::Credential, name, summary }))
}

pub async fn remove(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let item = match inv.required("what")?.to_ascii_lowercase().as_str() {
        "utilization" => CaseFileItem::Utilization,
        "outcome" => CaseFileItem::Outcome,
        "credential" | "specialty" => CaseFileItem::Credential,
        other => {
            return Err(AppError::user(format!(
                "what: `{other}` is not part of the case file; use utilization, outcome or credential"
            )))
        }
    };
    let name = inv.required("name")?.to_string();
    let removed = ctx.store.remove_case_file_item(practice.id, item, &name, &audit(ctx, inv, practice)).await?;
    if !removed {
        return Err(AppError::user(format!(
            "There is no {} entry named `{name}` in the case file; /practice show lists what is there",
            match item {
                CaseFileItem::Utilization => "utilization",
                CaseFileItem::Outcome => "outcome",
                CaseFileItem::Credential => "credential",
            }
        )));
    }
    Ok(Outcome::CaseFileChanged(CaseFileChanged { action: "removed", item, name: name.clone(), summary: name }))
}

pub async fn show(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let mut file = ctx.store.case_file(practice.id).await?;
    let payers = match inv.opt("payer") {
        Some(name) => vec![resolve_payer(ctx, practice, name).await?],
        None => ctx.store.list_payers(practice.id).await?,
    };
    let payer = inv.opt("payer").and(payers.first()).map(|p| p.name.clone());
    if let Some(name) = &payer {
        file.utilization.retain(|u| &u.payer == name);
    }
    let period = figures::period(super::practice_today(ctx, practice), figures::DEFAULT_MONTHS);
    let mut in_use = Vec::new();
    for p in &payers {
        let f = figures::payer_figures(&ctx.store, practice.id, p, file.utilization_for(&p.name), period).await?;
        if !f.is_empty() {
            in_use.push(f);
        }
    }
    Ok(Outcome::CaseFile(CaseFileView { practice: practice.name.clone(), payer, file, figures: in_use }))
}

impl CaseFileChanged {
    pub fn reply(&self) -> Reply {
        let what = match self.item {
            CaseFileItem::Utilization => format!("Utilization with {}", self.name),
            CaseFileItem::Outcome => format!("Outcome measure {}", self.name),
            CaseFileItem::Credential => self.name.clone(),
        };
        Reply::new(format!("Case file: {what} {}", self.action))
            .private()
            .tone(Tone::Success)
            .text(if self.action == "removed" {
                format!("{what} is no longer in the case file.")
            } else {
                self.summary.clone()
            })
            .action("Whole case file", "/practice show")
    }
}

impl CaseFileView {
    pub fn reply(&self) -> Reply {
        let mut r = Reply::new(format!("Case file of {}", self.practice)).text(
            "What you bring to a negotiation: drafts quote it. Aggregates only, never anything that identifies a client.",
        );
        if self.file.utilization.is_empty() {
            let example = self.payer.as_deref().map(quoted).unwrap_or_else(|| "Cigna".into());
            r = r.notes(
                "Utilization",
                vec![format!(
                    "None yet: /practice utilization payer:{example} from:2025-11-01 to:2026-10-31 claims:1450 patients:96 clean_claims:97% no_shows:6% days_to_pay:18"
                )],
            );
        } else {
            let mut t = Table::new(&[
                ("Payer", Align::Left),
                ("Period", Align::Left),
                ("Claims", Align::Right),
                ("Patients", Align::Right),
                ("Per patient", Align::Right),
                ("Clean", Align::Right),
                ("No-show", Align::Right),
                ("Days to pay", Align::Right),
            ]);
            for u in &self.file.utilization {
                t.push(vec![
                    u.payer.clone(),
                    format!("{} to {}", u.period_start, u.period_end),
                    u.claims.to_string(),
                    u.unique_patients.to_string(),
                    per_patient_text(u.claims, u.unique_patients).unwrap_or_else(|| "-".into()),
                    u.clean_claim_bp.map(share_text).unwrap_or_else(|| "-".into()),
                    u.no_show_bp.map(share_text).unwrap_or_else(|| "-".into()),
                    u.days_to_payment.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                ]);
            }
            r = r.table(t);
        }
        if self.figures.iter().any(|f| f.from_imports()) {
            let mut t = Table::new(&[
                ("Payer", Align::Left),
                ("Claims", Align::Right),
                ("Clients", Align::Right),
                ("Per client", Align::Right),
                ("Clean", Align::Right),
                ("Denied", Align::Right),
                ("No-show", Align::Right),
                ("Days to pay", Align::Right),
            ]);
            let dash = || "-".to_string();
            for f in &self.figures {
                t.push(vec![
                    f.payer.clone(),
                    f.claims.map(|c| count_text(c.value)).unwrap_or_else(dash),
                    f.unique_clients.map(|c| count_text(c.value)).unwrap_or_else(dash),
                    f.sessions_per_client.map(|c| format!("{:.2}", c.value)).unwrap_or_else(dash),
                    f.clean_claim_pct.map(|c| c.value.text()).unwrap_or_else(dash),
                    f.denial_pct.map(|c| c.value.text()).unwrap_or_else(dash),
                    f.no_show_pct.map(|c| c.value.text()).unwrap_or_else(dash),
                    f.days_to_payment
                        .map(|d| match (d.value.median, d.value.p90) {
                            (Some(m), Some(p)) => format!("{m} (p90 {p})"),
                            _ => d.value.typical().map(|v| v.to_string()).unwrap_or_else(dash),
                        })
                        .unwrap_or_else(dash),
                ]);
            }
            r = r.text("Figures in use, last 12 months (imports win over figures entered by hand):").table(t).notes(
                "Sources",
                self.figures.iter().map(|f| format!("{}: {}", f.payer, f.sources_text(iso_date))).collect(),
            );
        }
        let outcomes: Vec<String> = self.file.outcomes.iter().map(|m| outcome_summary(m, iso_date)).collect();
        r = r.notes(
            "Outcome measures",
            if outcomes.is_empty() {
                vec!["None yet: /practice outcome measure:PHQ-9 clients:64 improved:58% change:-6.1".into()]
            } else {
                outcomes
            },
        );
        let creds: Vec<String> =
            self.file.credentials.iter().map(|c| format!("{}: {}", c.kind.key(), credential_summary(c))).collect();
        r.notes(
            "Credentials and specialties",
            if creds.is_empty() {
                vec!["None yet: /practice credential name:EMDR kind:specialty clinicians:3".into()]
            } else {
                creds
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_changes_parse_exactly() {
        assert_eq!(parse_share("x", "96.5%").unwrap(), 9650);
        assert_eq!(parse_share("x", "7").unwrap(), 700);
        assert_eq!(parse_share("x", "0.25%").unwrap(), 25);
        assert_eq!(parse_share("x", "100%").unwrap(), 10_000);
        assert!(parse_share("x", "100.5%").unwrap_err().user_message().contains("more than 100%"));
        assert!(parse_share("x", "-3%").is_err());
        assert!(parse_share("x", "lots").unwrap_err().user_message().contains("96.5%"));
        assert_eq!(parse_change("c", "-6.2").unwrap(), -62);
        assert_eq!(parse_change("c", "+4").unwrap(), 40);
        assert!(parse_change("c", "-6.25").is_err());
        assert_eq!(share_text(9650), "96.5%");
        assert_eq!(share_text(625), "6.3%");
        assert_eq!(share_text(6100), "61%");
        assert_eq!(count_text(1587), "1,587");
        assert_eq!(count_text(1_200_000), "1,200,000");
        assert_eq!(count_text(93), "93");
        assert_eq!(change_text(-62), "-6.2");
        assert_eq!(per_patient_text(1450, 96).as_deref(), Some("15.1"));
        assert_eq!(per_patient_text(10, 0), None);
    }
}
