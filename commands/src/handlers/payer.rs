//! /payer add | edit | list | remove

use super::{audit, practice_today, resolve_cpt, resolve_payer, Outcome};
use crate::context::Ctx;
use crate::domain::{PayerKind, PayerStatus};
use crate::error::AppError;
use crate::invocation::Invocation;
use crate::reply::{Align, Reply, Table, Tone};
use crate::store::{NewPayer, Payer, PayerChanges, Practice};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct PayerChanged {
    pub action: &'static str,
    pub payer: Payer,
    pub weekly_volume: Vec<(String, i64)>,
    /// Rate rows removed with the payer.
    pub removed_rates: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PayerSummary {
    #[serde(flatten)]
    pub payer: Payer,
    pub codes_with_rates: usize,
    pub weekly_sessions: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PayerList {
    pub practice: String,
    pub payers: Vec<PayerSummary>,
}

/// `"90837=12 90834=6"` (also `:` and commas) into validated (code, weekly sessions).
pub fn parse_volumes(ctx: &Ctx, input: &str) -> Result<Vec<(String, i64)>, AppError> {
    let mut out: Vec<(String, i64)> = Vec::new();
    for part in input.split([',', ' ', ';']).filter(|p| !p.trim().is_empty()) {
        let (code, n) = part.split_once(['=', ':']).ok_or_else(|| {
            AppError::user(format!(
                "volume: `{part}` needs a code and a weekly count, like volume:\"90837=12 90834=6\""
            ))
        })?;
        let code = resolve_cpt(ctx, code)?.code.clone();
        let n: i64 = n.trim().parse().map_err(|_| {
            AppError::user(format!("volume: `{n}` for {code} is not a whole number of sessions per week"))
        })?;
        if !(0..=1000).contains(&n) {
            return Err(AppError::user(format!("volume: {n} sessions a week for {code} is out of range (0 to 1,000)")));
        }
        if let Some(existing) = out.iter_mut().find(|(c, _)| *c == code) {
            existing.1 = n;
        } else {
            out.push((code, n));
        }
    }
    Ok(out)
}

fn validate_name(name: &str) -> Result<String, AppError> {
    crate::domain::names::name("A payer name", name, 80).map_err(AppError::User)
}

/// Contact name, email and phone as given (validated).
struct Contact {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
}

fn contact_fields(inv: &Invocation) -> Result<Contact, AppError> {
    let email = inv.opt("contact_email").map(str::to_string);
    if let Some(e) = &email {
        let valid = e.split_once('@').is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !e.contains(' '));
        if !valid {
            return Err(AppError::user(format!(
                "contact_email: `{e}` is not an email address; write it like contracting@payer.com"
            )));
        }
    }
    let phone = inv.opt("contact_phone").map(str::to_string);
    if let Some(p) = &phone {
        let digits = p.chars().filter(|c| c.is_ascii_digit()).count();
        if !(7..=15).contains(&digits) {
            return Err(AppError::user(format!(
                "contact_phone: `{p}` does not look like a phone number; write it like 800-555-0100"
            )));
        }
    }
    Ok(Contact { name: inv.opt("contact_name").map(str::to_string), email, phone })
}

fn notice_days(inv: &Invocation) -> Result<Option<i64>, AppError> {
    let n = inv.integer("notice_days")?;
    if let Some(n) = n {
        if !(0..=365).contains(&n) {
            return Err(AppError::user(format!("notice_days: {n} is out of range; use 0 to 365 days (90 is common)")));
        }
    }
    Ok(n)
}

pub async fn add(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let name = validate_name(inv.required("name")?)?;
    let kind = inv.parsed::<PayerKind>("kind")?.unwrap_or(PayerKind::Commercial);
    let status = inv.parsed::<PayerStatus>("status")?.unwrap_or(PayerStatus::InNetwork);
    let Contact { name: contact_name, email: contact_email, phone: contact_phone } = contact_fields(inv)?;
    let volumes = inv.opt("volume").map(|v| parse_volumes(ctx, v)).transpose()?.unwrap_or_default();
    let new = NewPayer {
        name,
        kind,
        status,
        effective_date: inv.date("effective")?,
        renewal_date: inv.date("renewal")?,
        notice_days: notice_days(inv)?,
        contact_name,
        contact_email,
        contact_phone,
        provider_id: inv.opt("provider_id").map(str::to_string),
        notes: inv.opt("notes").map(str::to_string),
    };
    let payer = ctx.store.insert_payer(practice.id, &new, &volumes, &audit(ctx, inv, practice)).await?;
    Ok(Outcome::Payer(PayerChanged { action: "added", payer, weekly_volume: volumes, removed_rates: None }))
}

pub async fn edit(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = resolve_payer(ctx, practice, inv.required("name")?).await?;
    let Contact { name: contact_name, email: contact_email, phone: contact_phone } = contact_fields(inv)?;
    let volumes = inv.opt("volume").map(|v| parse_volumes(ctx, v)).transpose()?.unwrap_or_default();
    let changes = PayerChanges {
        name: inv.opt("rename").map(validate_name).transpose()?,
        kind: inv.parsed("kind")?,
        status: inv.parsed("status")?,
        effective_date: inv.date("effective")?,
        renewal_date: inv.date("renewal")?,
        notice_days: notice_days(inv)?,
        contact_name,
        contact_email,
        contact_phone,
        provider_id: inv.opt("provider_id").map(str::to_string),
        notes: inv.opt("notes").map(str::to_string),
    };
    let nothing = changes.name.is_none()
        && changes.kind.is_none()
        && changes.status.is_none()
        && changes.effective_date.is_none()
        && changes.renewal_date.is_none()
        && changes.notice_days.is_none()
        && changes.contact_name.is_none()
        && changes.contact_email.is_none()
        && changes.contact_phone.is_none()
        && changes.provider_id.is_none()
        && changes.notes.is_none()
        && volumes.is_empty();
    if nothing {
        return Err(AppError::user(format!(
            "Nothing to change for {}; add what changes, e.g. /payer edit name:{} renewal:2027-03-01",
            payer.name,
            crate::command_line::quote(&payer.name)
        )));
    }
    let payer = ctx.store.update_payer(&payer, &changes, &volumes, &audit(ctx, inv, practice)).await?;
    Ok(Outcome::Payer(PayerChanged { action: "updated", payer, weekly_volume: volumes, removed_rates: None }))
}

pub async fn remove(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = resolve_payer(ctx, practice, inv.required("name")?).await?;
    let removed = ctx.store.remove_payer(&payer, &audit(ctx, inv, practice)).await?;
    Ok(Outcome::Payer(PayerChanged { action: "removed", payer, weekly_volume: vec![], removed_rates: Some(removed) }))
}

pub async fn list(ctx: &Ctx, practice: &Practice) -> Result<Outcome, AppError> {
    let payers = ctx.store.list_payers(practice.id).await?;
    let codes = ctx.store.practice_code_rates(practice.id, practice_today(ctx, practice)).await?;
    let payers = payers
        .into_iter()
        .map(|p| {
            let mine = codes.iter().filter(|c| c.payer_id == p.id);
            let codes_with_rates = mine.clone().filter(|c| c.current.is_some()).count();
            let weekly_sessions = mine.map(|c| c.weekly_volume).sum();
            PayerSummary { payer: p, codes_with_rates, weekly_sessions }
        })
        .collect();
    Ok(Outcome::PayerList(PayerList { practice: practice.name.clone(), payers }))
}

impl PayerChanged {
    pub fn reply(&self) -> Reply {
        let p = &self.payer;
        let mut r = Reply::new(format!("{} {}", p.name, self.action)).private().tone(Tone::Success);
        if let Some(n) = self.removed_rates {
            return r
                .text(format!("{} and its {n} recorded rates are gone. The audit log keeps a note of it.", p.name));
        }
        let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_else(|| "not set".into());
        r = r.fields(vec![
            ("Kind".into(), p.kind.label().into()),
            ("Status".into(), p.status.key().into()),
            ("Effective".into(), date(p.effective_date)),
            ("Renewal".into(), format!("{} ({} days notice)", date(p.renewal_date), p.notice_days)),
            (
                "Contact".into(),
                [&p.contact_name, &p.contact_email, &p.contact_phone]
                    .iter()
                    .filter_map(|v| v.as_deref())
                    .collect::<Vec<_>>()
                    .join(", ")
                    .chars()
                    .take(200)
                    .collect::<String>(),
            ),
        ]);
        if !self.weekly_volume.is_empty() {
            r = r.text(format!(
                "Weekly volume: {}",
                self.weekly_volume.iter().map(|(c, n)| format!("{c} x{n}")).collect::<Vec<_>>().join(", ")
            ));
        }
        let q = crate::command_line::quote(&p.name);
        r.action("Record a rate", format!("/rate set payer:{q} cpt:90837 amount:"))
            .action("Compare rates", format!("/rates payer:{q}"))
    }
}

impl PayerList {
    pub fn reply(&self) -> Reply {
        if self.payers.is_empty() {
            return Reply::new("No payers yet")
                .text("Add the plans you bill with /payer add name:Cigna kind:commercial renewal:2027-03-01")
                .action("Add a payer", "/payer add name:\"Payer name\" kind:commercial");
        }
        let mut t = Table::new(&[
            ("Payer", Align::Left),
            ("Kind", Align::Left),
            ("Status", Align::Left),
            ("Renewal", Align::Left),
            ("Codes", Align::Right),
            ("Sess/wk", Align::Right),
        ]);
        for s in &self.payers {
            t.push(vec![
                s.payer.name.clone(),
                s.payer.kind.key().into(),
                s.payer.status.key().into(),
                s.payer.renewal_date.map(|d| d.to_string()).unwrap_or_else(|| "-".into()),
                s.codes_with_rates.to_string(),
                s.weekly_sessions.to_string(),
            ]);
        }
        Reply::new(format!("Payers of {} ({})", self.practice, self.payers.len()))
            .table(t)
            .action("Rank all payers", "/rates")
    }
}
