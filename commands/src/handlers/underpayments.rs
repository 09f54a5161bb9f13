//! /underpayments [PAYER] [months:N]: remittance lines allowed below the contracted rate in
//! force on their date of service (money owed under the current contract), and
//! `/draft underpayment PAYER`, the recovery letter built from them.

use super::{practice_today, resolve_payer, Outcome};
use crate::context::Ctx;
use crate::domain::Cents;
use crate::era::analysis::{self, ShortLine};
use crate::error::AppError;
use crate::invocation::Invocation;
use crate::reply::{Align, Reply, Table, Tone};
use crate::store::{Payer, Practice};
use chrono::{Months, NaiveDate};
use serde::Serialize;

/// Lines shown in chat; the CSV attachment and --json carry all of them.
const SHOWN_LINES: usize = 15;

#[derive(Debug, Clone, Serialize)]
pub struct CodeShortfall {
    pub payer: String,
    pub cpt: String,
    pub count: usize,
    pub short_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnderpaymentReport {
    pub payer: Option<String>,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub total_short_cents: i64,
    pub count: usize,
    pub by_code: Vec<CodeShortfall>,
    pub lines: Vec<ShortLine>,
    /// Payer names in imported remittances not matched to a payer of the practice.
    pub unmatched_payers: Vec<String>,
}

/// The period of `months:N` (default 12) ending today.
pub fn period(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<(NaiveDate, NaiveDate), AppError> {
    let months = inv.integer("months")?.unwrap_or(12);
    if !(1..=120).contains(&months) {
        return Err(AppError::user("months: takes 1 to 120"));
    }
    let today = practice_today(ctx, practice);
    let start = today.checked_sub_months(Months::new(months as u32)).unwrap_or(today);
    Ok((start, today))
}

pub async fn report(
    ctx: &Ctx,
    inv: &Invocation,
    practice: &Practice,
    payer: Option<Payer>,
) -> Result<UnderpaymentReport, AppError> {
    let (start, end) = period(ctx, inv, practice)?;
    let payers = match &payer {
        Some(p) => vec![p.clone()],
        None => ctx.store.list_payers(practice.id).await?,
    };
    let lines = analysis::underpaid_lines(&ctx.store, &payers, start, end).await?;
    let mut by_code: Vec<CodeShortfall> = Vec::new();
    for l in &lines {
        match by_code.iter_mut().find(|c| c.payer == l.payer && c.cpt == l.cpt) {
            Some(c) => {
                c.count += 1;
                c.short_cents += l.short_cents;
            }
            None => by_code.push(CodeShortfall {
                payer: l.payer.clone(),
                cpt: l.cpt.clone(),
                count: 1,
                short_cents: l.short_cents,
            }),
        }
    }
    by_code.sort_by(|a, b| b.short_cents.cmp(&a.short_cents).then(a.cpt.cmp(&b.cpt)));
    let unmatched_payers = ctx.store.era_unmatched_payers(practice.id).await?.into_iter().map(|(n, _)| n).collect();
    Ok(UnderpaymentReport {
        payer: payer.map(|p| p.name),
        period_start: start,
        period_end: end,
        total_short_cents: lines.iter().map(|l| l.short_cents).sum(),
        count: lines.len(),
        by_code,
        lines,
        unmatched_payers,
    })
}

pub async fn run(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = match inv.opt("payer") {
        Some(name) => Some(resolve_payer(ctx, practice, name).await?),
        None => None,
    };
    Ok(Outcome::Underpayments(report(ctx, inv, practice, payer).await?))
}

/// The lines as CSV (the attachment of the report and of the letter).
pub fn lines_csv(lines: &[ShortLine]) -> String {
    let mut out = String::from("payer,cpt,service_date,check,check_date,allowed,allowed_source,contract,short\n");
    for l in lines {
        let payer = if l.payer.contains([',', '"']) {
            format!("\"{}\"", l.payer.replace('"', "\"\""))
        } else {
            l.payer.clone()
        };
        out.push_str(&format!(
            "{payer},{},{},{},{},{},{},{},{}\n",
            l.cpt,
            l.service_date,
            l.check,
            l.check_date,
            plain(l.allowed_cents),
            if l.allowed_derived { "paid+patient" } else { "remittance" },
            plain(l.contract_cents),
            plain(l.short_cents)
        ));
    }
    out
}

fn plain(cents: i64) -> String {
    format!("{}{}.{:02}", if cents < 0 { "-" } else { "" }, cents.unsigned_abs() / 100, cents.unsigned_abs() % 100)
}

impl UnderpaymentReport {
    pub fn reply(&self) -> Reply {
        let whom = self.payer.clone().unwrap_or_else(|| "all payers".into());
        let title = format!("Underpayments: {whom}, {} to {}", self.period_start, self.period_end);
        if self.count == 0 {
            let mut r = Reply::new(title).tone(Tone::Success).text(
                "No remittance line in the period was allowed below the contracted rate in force on its date of service.",
            );
            if !self.unmatched_payers.is_empty() {
                r = r.notes("Remittances of payers not matched yet (not judged)", self.unmatched_payers.clone());
            }
            return r;
        }
        let mut r = Reply::new(title).tone(Tone::Warning).text(format!(
            "{} lines allowed below contract, {} short in total (a difference of one cent is ignored).",
            self.count,
            Cents(self.total_short_cents)
        ));
        let mut t = Table::new(&[
            ("payer", Align::Left),
            ("code", Align::Left),
            ("lines", Align::Right),
            ("short", Align::Right),
        ]);
        for c in &self.by_code {
            t.push(vec![c.payer.clone(), c.cpt.clone(), c.count.to_string(), Cents(c.short_cents).to_string()]);
        }
        r = r.table(t);
        let mut t = Table::new(&[
            ("date", Align::Left),
            ("code", Align::Left),
            ("check", Align::Left),
            ("allowed", Align::Right),
            ("contract", Align::Right),
            ("short", Align::Right),
        ]);
        for l in self.lines.iter().take(SHOWN_LINES) {
            let allowed = format!("{}{}", Cents(l.allowed_cents), if l.allowed_derived { "*" } else { "" });
            t.push(vec![
                l.service_date.to_string(),
                l.cpt.clone(),
                l.check.clone(),
                allowed,
                Cents(l.contract_cents).to_string(),
                Cents(l.short_cents).to_string(),
            ]);
        }
        r = r.table(t);
        if self.lines.iter().any(|l| l.allowed_derived) {
            r = r.text("* no allowed amount in the remittance: paid plus the client's share.");
        }
        if self.lines.len() > SHOWN_LINES {
            r = r.text(format!("{} more lines in the attached CSV.", self.lines.len() - SHOWN_LINES));
        }
        r = r.attach("underpayments.csv", "text/csv", lines_csv(&self.lines));
        if let Some(p) = &self.payer {
            let q = if p.contains(' ') { format!("\"{p}\"") } else { p.clone() };
            r = r.action("Draft the recovery letter", format!("/draft underpayment {q}"));
        }
        r
    }
}

/// `/draft underpayment PAYER`: the recovery letter, with the lines as a CSV attachment.
#[derive(Debug, Clone, Serialize)]
pub struct UnderpaymentLetter {
    pub payer: String,
    pub subject: Option<String>,
    pub to: Option<String>,
    #[serde(skip)]
    pub to_name: Option<String>,
    #[serde(skip)]
    pub to_email: Option<String>,
    pub body: String,
    pub placeholders: Vec<String>,
    pub warnings: Vec<String>,
    pub attachment: String,
    pub lines_attachment: String,
    pub report: UnderpaymentReport,
}

#[derive(Serialize)]
struct LetterFacts<'a> {
    practice: LetterPractice,
    payer: LetterPayer,
    totals: LetterTotals,
    codes_table: String,
    days: Option<analysis::DaysToPayment>,
    note: Option<&'a str>,
}

#[derive(Serialize)]
struct LetterPractice {
    name: String,
    npi: String,
    signer: String,
}

#[derive(Serialize)]
struct LetterPayer {
    name: String,
    provider_id: String,
    contact_name: String,
}

#[derive(Serialize)]
struct LetterTotals {
    count: usize,
    short: String,
    first_date: String,
    last_date: String,
    checks: Vec<String>,
    derived: bool,
}

fn or(v: Option<String>, placeholder: &str) -> String {
    v.filter(|s| !s.trim().is_empty()).unwrap_or_else(|| placeholder.to_string())
}

pub async fn draft(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = resolve_payer(ctx, practice, inv.required("payer")?).await?;
    let note = inv.opt("note");
    if note.is_some_and(|n| n.chars().count() > 1000) {
        return Err(AppError::user(
            "note: keep it under 1,000 characters (and never put client names or details in it)",
        ));
    }
    let report = report(ctx, inv, practice, Some(payer.clone())).await?;
    if report.count == 0 {
        return Err(AppError::user(format!(
            "No line from {} in the last 12 months was allowed below its contracted rate, so there is nothing to recover. /underpayments {} shows the check; import newer remittances with `raterise import era`.",
            payer.name, payer.name
        )));
    }
    let mut checks: Vec<String> = report.lines.iter().map(|l| l.check.clone()).collect();
    checks.sort();
    checks.dedup();
    let mut t = Table::new(&[("code", Align::Left), ("lines", Align::Right), ("short", Align::Right)]);
    for c in &report.by_code {
        t.push(vec![c.cpt.clone(), c.count.to_string(), Cents(c.short_cents).to_string()]);
    }
    let days =
        analysis::days_to_payment(&ctx.store, practice.id, Some(payer.id), report.period_start, report.period_end)
            .await?
            .into_iter()
            .next()
            .map(|(_, d)| d);
    let facts = LetterFacts {
        practice: LetterPractice {
            name: practice.name.clone(),
            npi: or(practice.npi.clone(), "[NPI]"),
            signer: or(inv.opt("signer").map(str::to_string), "[YOUR NAME AND TITLE]"),
        },
        payer: LetterPayer {
            name: payer.name.clone(),
            provider_id: payer.provider_id.clone().unwrap_or_default(),
            contact_name: or(payer.contact_name.clone(), "[CONTACT NAME]"),
        },
        totals: LetterTotals {
            count: report.count,
            short: Cents(report.total_short_cents).to_string(),
            first_date: report.lines.iter().map(|l| l.service_date).min().map(|d| d.to_string()).unwrap_or_default(),
            last_date: report.lines.iter().map(|l| l.service_date).max().map(|d| d.to_string()).unwrap_or_default(),
            checks,
            derived: report.lines.iter().any(|l| l.allowed_derived),
        },
        codes_table: t.to_text(),
        days,
        note,
    };
    let rendered = ctx
        .drafts
        .render(crate::drafts::DraftKind::Underpayment, &facts)
        .map_err(|e| AppError::internal("rendering the underpayment letter", std::io::Error::other(e)))?;
    let (subject, body) = crate::drafts::split_subject(&rendered.text);
    let placeholders = crate::drafts::placeholders_in(&body)
        .into_iter()
        .filter(|p| !note.is_some_and(|n| n.contains(p.as_str())))
        .collect();
    let to_email = payer.contact_email.clone();
    let to_name = payer.contact_name.clone().filter(|_| to_email.is_some());
    let today = practice_today(ctx, practice);
    let slug: String =
        payer.name.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    Ok(Outcome::UnderpaymentLetter(UnderpaymentLetter {
        payer: payer.name.clone(),
        subject,
        to: to_email.as_ref().map(|e| match &to_name {
            Some(n) => format!("{n} <{e}>"),
            None => e.clone(),
        }),
        to_name,
        to_email,
        body,
        placeholders,
        warnings: rendered.warnings,
        attachment: format!("{slug}-underpayment-{today}.eml"),
        lines_attachment: format!("{slug}-underpaid-lines-{today}.csv"),
        report,
    }))
}

impl UnderpaymentLetter {
    pub fn reply(&self) -> Reply {
        let mut r = Reply::new(format!("Draft underpayment recovery letter: {}", self.payer))
            .private()
            .tone(if self.warnings.is_empty() { Tone::Info } else { Tone::Warning });
        let mut head = Vec::new();
        if let Some(to) = &self.to {
            head.push(("To".to_string(), to.clone()));
        }
        if let Some(s) = &self.subject {
            head.push(("Subject".to_string(), s.clone()));
        }
        if !head.is_empty() {
            r = r.fields(head);
        }
        r = r
            .text(self.body.trim_end().to_string())
            .notes("Fill in before sending", self.placeholders.clone())
            .notes("Warnings", self.warnings.clone());
        let eml = crate::drafts::eml(
            self.subject.as_deref().unwrap_or("Claims paid below our contracted rates"),
            self.to_name.as_deref(),
            self.to_email.as_deref(),
            &self.body,
        );
        r.attach(self.attachment.clone(), "message/rfc822", eml)
            .attach(self.lines_attachment.clone(), "text/csv", lines_csv(&self.report.lines))
            .footer("Template: underpayment.txt.j2. Check every line against your remittances before sending.")
    }
}
