//! /report PAYER [months:N]: the utilization case file for a negotiation, computed from the
//! imported claims: in chat, as a CSV attachment, and as a PNG chart of paid per session against
//! the contracted rate and Medicare per code.

use super::{practice_today, resolve_payer, Outcome};
use crate::claims::chart::{paid_vs_contract_png, ChartCode};
use crate::claims::metrics::{self, DaysToPayment};
use crate::context::Ctx;
use crate::domain::{Cents, Credential};
use crate::error::AppError;
use crate::figures::Source;
use crate::invocation::Invocation;
use crate::medicare::MedicareAmount;
use crate::reply::{Align, Reply, Table, Tone};
use crate::store::rates::current_from_history;
use crate::store::{Practice, RateRow};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;

pub const DEFAULT_MONTHS: i64 = 12;
pub const MAX_MONTHS: i64 = 36;

pub use crate::figures::{period, Period};

/// Days to payment from remittances (date of service to check date), labelled with their source.
#[derive(Debug, Clone, Serialize)]
pub struct RemittanceDays {
    pub median: Option<i64>,
    pub p90: Option<i64>,
    pub source: Source,
}

#[derive(Debug, Clone, Serialize)]
pub struct CodeReport {
    pub cpt: String,
    pub sessions: i64,
    /// Average insurance paid per session over paid claims.
    pub avg_paid_cents: Option<i64>,
    /// The contracted rate in force at the end of the period.
    pub contract_cents: Option<i64>,
    pub medicare_cents: Option<i64>,
    pub underpaid_count: i64,
    pub underpaid_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct UtilizationReport {
    pub payer: String,
    pub period: Period,
    pub claims: i64,
    pub sessions: i64,
    pub unique_clients: i64,
    pub sessions_per_client: Option<f64>,
    pub clean_claim_pct: Option<f64>,
    pub denial_pct: Option<f64>,
    pub days_to_payment: DaysToPayment,
    /// Days from service to check date in the payer's remittances, beside the claims' own.
    pub remittance_days_to_payment: Option<RemittanceDays>,
    pub no_show_pct: Option<f64>,
    pub codes: Vec<CodeReport>,
    /// Where the figures come from.
    pub source: String,
    /// The same, as data: the claims export and the dates it covers.
    pub claims_source: Source,
    #[serde(skip)]
    pub chart_png: Option<Vec<u8>>,
}

pub async fn run(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = resolve_payer(ctx, practice, inv.required("payer")?).await?;
    let months = inv.integer("months")?.unwrap_or(DEFAULT_MONTHS);
    if !(1..=MAX_MONTHS).contains(&months) {
        return Err(AppError::user(format!("`months` is 1 to {MAX_MONTHS}; the default is {DEFAULT_MONTHS}")));
    }
    let today = practice_today(ctx, practice);
    let period = period(today, months);
    let coverage = ctx.store.claims_coverage(practice.id, period.start, period.end).await?;
    let Some((first, last)) = coverage else {
        return Err(AppError::user(format!(
            "No imported claims cover {} to {} yet. Export your claims from your EHR as CSV and run `raterise import claims FILE` (or /import claims with the file attached); /practice utilization takes figures by hand.",
            period.start, period.end
        )));
    };
    // The dates of service the imports cover inside the period.
    let (first, last) = (first.max(period.start), last.min(period.end));
    let facts = ctx.store.payer_claim_facts(practice.id, payer.id, period.start, period.end).await?;
    let mut histories: HashMap<String, Vec<RateRow>> = HashMap::new();
    for row in ctx.store.rate_history(payer.id, None).await? {
        histories.entry(row.cpt.clone()).or_default().push(row);
    }
    // The rate in force on each date of service: the store's own rule, not a copy of it.
    let rate_on =
        |cpt: &str, date: NaiveDate| histories.get(cpt).and_then(|h| current_from_history(h, date)).map(|c| c.amount);
    let u = metrics::compute(&facts, period.end, rate_on);
    let remittance_days = crate::figures::remittance_candidate(&ctx.store, practice.id, payer.id, period)
        .await?
        .and_then(|c| c.days_to_payment.map(|d| RemittanceDays { median: d.median, p90: d.p90, source: c.source }));
    let codes: Vec<CodeReport> = u
        .codes
        .iter()
        .map(|c| CodeReport {
            cpt: c.cpt.clone(),
            sessions: c.sessions,
            avg_paid_cents: c.avg_paid_cents,
            contract_cents: c.contract_cents,
            medicare_cents: medicare_cents(ctx, practice, &c.cpt),
            underpaid_count: c.underpaid_count,
            underpaid_cents: c.underpaid_cents,
        })
        .collect();
    let chart_codes: Vec<ChartCode> = codes
        .iter()
        .map(|c| ChartCode {
            cpt: c.cpt.clone(),
            paid: c.avg_paid_cents,
            contract: c.contract_cents,
            medicare: c.medicare_cents,
        })
        .collect();
    let chart_png =
        match paid_vs_contract_png(&format!("{}: paid per session, contract and Medicare", payer.name), &chart_codes) {
            Ok(png) => Some(png),
            Err(e) => {
                tracing::warn!(error = %e, "drawing the /report chart");
                None
            }
        };
    Ok(Outcome::Report(UtilizationReport {
        payer: payer.name.clone(),
        period,
        claims: u.claims,
        sessions: u.sessions,
        unique_clients: u.unique_clients,
        sessions_per_client: u.sessions_per_client,
        clean_claim_pct: u.clean_claim_pct,
        denial_pct: u.denial_pct,
        days_to_payment: u.days_to_payment,
        remittance_days_to_payment: remittance_days,
        no_show_pct: u.no_show_pct,
        codes,
        source: format!("computed from imported claims (dates of service {first} to {last})"),
        claims_source: Source::ClaimsExport { from: first, to: last },
        chart_png,
    }))
}

/// The practice's Medicare amount for a code (latest year, its locality and default credential).
fn medicare_cents(ctx: &Ctx, practice: &Practice, cpt: &str) -> Option<i64> {
    let locality = practice.locality_id.as_deref()?;
    let credential = practice.credential.unwrap_or(Credential::Psychologist);
    match ctx.medicare.amount(cpt, locality, ctx.medicare.latest_year(), credential, practice.setting) {
        Ok(MedicareAmount::Priced { cents, .. }) => Some(cents.0),
        _ => None,
    }
}

fn money(c: Option<i64>) -> String {
    c.map(|c| Cents(c).to_string()).unwrap_or_else(|| "-".into())
}

fn pct(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "unknown".into())
}

impl UtilizationReport {
    pub fn csv(&self) -> String {
        let mut out = String::from("cpt,sessions,avg_paid,contract,medicare,underpaid_count,underpaid\n");
        let dollars = |c: Option<i64>| c.map(|c| format!("{}.{:02}", c / 100, c % 100)).unwrap_or_default();
        for c in &self.codes {
            out.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                c.cpt,
                c.sessions,
                dollars(c.avg_paid_cents),
                dollars(c.contract_cents),
                dollars(c.medicare_cents),
                c.underpaid_count,
                dollars(Some(c.underpaid_cents))
            ));
        }
        out
    }

    pub fn reply(&self) -> Reply {
        let underpaid: i64 = self.codes.iter().map(|c| c.underpaid_count).sum();
        let underpaid_cents: i64 = self.codes.iter().map(|c| c.underpaid_cents).sum();
        let days = |d: Option<i64>| d.map(|d| format!("{d} days")).unwrap_or_else(|| "unknown".into());
        let mut table = Table::new(&[
            ("Code", Align::Left),
            ("Sessions", Align::Right),
            ("Paid/session", Align::Right),
            ("Contract", Align::Right),
            ("Medicare", Align::Right),
            ("Underpaid", Align::Right),
        ]);
        for c in &self.codes {
            table.push(vec![
                c.cpt.clone(),
                c.sessions.to_string(),
                money(c.avg_paid_cents),
                money(c.contract_cents),
                money(c.medicare_cents),
                if c.underpaid_count > 0 {
                    format!("{} ({})", c.underpaid_count, Cents(c.underpaid_cents))
                } else {
                    "0".into()
                },
            ]);
        }
        let mut reply = Reply::new(format!("{}: utilization {} to {}", self.payer, self.period.start, self.period.end))
            .fields(vec![
                ("Claims".into(), self.claims.to_string()),
                ("Sessions".into(), self.sessions.to_string()),
                ("Unique clients".into(), self.unique_clients.to_string()),
                (
                    "Sessions per client".into(),
                    self.sessions_per_client.map(|s| format!("{s:.2}")).unwrap_or_else(|| "-".into()),
                ),
                ("Clean claims".into(), pct(self.clean_claim_pct)),
                ("Denials".into(), pct(self.denial_pct)),
                (
                    "Days to payment (claims export)".into(),
                    format!(
                        "median {}, 90th percentile {}",
                        days(self.days_to_payment.median),
                        days(self.days_to_payment.p90)
                    ),
                ),
                (
                    "Days to payment (remittances)".into(),
                    match &self.remittance_days_to_payment {
                        Some(r) => format!("median {}, 90th percentile {} ({})", days(r.median), days(r.p90), r.source),
                        None => "no remittances imported for the period (raterise import era)".into(),
                    },
                ),
                ("No-shows and late cancels".into(), pct(self.no_show_pct)),
            ])
            .table(table);
        if underpaid > 0 {
            reply = reply.tone(Tone::Warning).notes(
                "Possible underpayments",
                vec![format!(
                    "{underpaid} paid claims came in below the contracted rate in force on their date of service, {} in all: ask the payer to reprocess them",
                    Cents(underpaid_cents)
                )],
            );
        }
        let slug: String =
            self.payer.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
        reply = reply.attach(format!("report-{slug}.csv"), "text/csv", self.csv());
        if let Some(png) = &self.chart_png {
            reply = reply.attach_bytes(
                format!("report-{slug}.png"),
                "image/png",
                png.clone(),
                "A chart of paid per session against the contracted rate and Medicare, per code.",
            );
        }
        reply
            .action("Draft the request", format!("/draft request payer:\"{}\"", self.payer))
            .footer(format!("Figures {}. No client is named or identifiable in this report.", self.source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_period_is_whole_months_back_inclusive() {
        let p = period("2026-11-27".parse().unwrap(), 12);
        assert_eq!(p.start.to_string(), "2025-11-28");
        let p = period("2026-03-31".parse().unwrap(), 1);
        assert_eq!(p.start.to_string(), "2026-03-01");
    }
}
