//! /denials [PAYER] [months:N]: how many claims a payer denies, and the reasons behind the
//! adjustments that cost the most, in plain words.

use super::{resolve_payer, Outcome};
use crate::context::Ctx;
use crate::domain::{div_round_half_up, Cents};
use crate::era::codes;
use crate::error::AppError;
use crate::invocation::Invocation;
use crate::reply::{Align, Reply, Table, Tone};
use crate::store::Practice;
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct PayerDenials {
    pub payer: String,
    pub claims: i64,
    pub denied: i64,
    /// Denied claims per 10,000 (basis points), rounded once.
    pub denial_bp: i64,
    pub denied_cents: i64,
    pub matched: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reason {
    pub code: String,
    pub group: String,
    pub cents: i64,
    pub claims: i64,
    pub meaning: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DenialReport {
    pub payer: Option<String>,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub claims: i64,
    pub denied: i64,
    pub denial_bp: i64,
    pub payers: Vec<PayerDenials>,
    /// Adjustment reasons (CARC) by dollars, without contractual write-downs (CO-45) and the
    /// client's share (PR).
    pub reasons: Vec<Reason>,
    /// Remark codes (RARC) on denied claims by the dollars of their lines.
    pub remarks: Vec<Reason>,
}

fn bp(part: i64, whole: i64) -> i64 {
    if whole == 0 {
        0
    } else {
        div_round_half_up(i128::from(part) * 10_000, i128::from(whole)) as i64
    }
}

fn pct(bp: i64) -> String {
    let tenths = (bp + 5) / 10;
    format!("{}.{}%", tenths / 10, tenths % 10)
}

pub async fn run(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = match inv.opt("payer") {
        Some(name) => Some(resolve_payer(ctx, practice, name).await?),
        None => None,
    };
    let (start, end) = super::underpayments::period(ctx, inv, practice)?;
    let rows = ctx.store.era_denials(practice.id, payer.as_ref().map(|p| p.id), start, end).await?;
    let names = ctx.store.list_payers(practice.id).await?;
    let payers: Vec<PayerDenials> = rows
        .per_payer
        .iter()
        .map(|(id, file_name, claims, denied, cents)| PayerDenials {
            payer: id
                .and_then(|id| names.iter().find(|p| p.id == id))
                .map(|p| p.name.clone())
                .unwrap_or_else(|| file_name.clone()),
            claims: *claims,
            denied: *denied,
            denial_bp: bp(*denied, *claims),
            denied_cents: *cents,
            matched: id.is_some(),
        })
        .collect();
    let claims = payers.iter().map(|p| p.claims).sum();
    let denied = payers.iter().map(|p| p.denied).sum();
    Ok(Outcome::Denials(DenialReport {
        payer: payer.map(|p| p.name),
        period_start: start,
        period_end: end,
        claims,
        denied,
        denial_bp: bp(denied, claims),
        payers,
        reasons: rows
            .reasons
            .into_iter()
            .map(|(group, code, cents, claims)| Reason {
                meaning: codes::carc(&code).to_string(),
                code: format!("{group}-{code}"),
                group: codes::group(&group).to_string(),
                cents,
                claims,
            })
            .collect(),
        remarks: rows
            .remarks
            .into_iter()
            .map(|(code, cents, lines)| Reason {
                meaning: codes::rarc(&code).to_string(),
                code,
                group: String::new(),
                cents,
                claims: lines,
            })
            .collect(),
    }))
}

impl DenialReport {
    pub fn reply(&self) -> Reply {
        let whom = self.payer.clone().unwrap_or_else(|| "all payers".into());
        let title = format!("Denials: {whom}, {} to {}", self.period_start, self.period_end);
        if self.claims == 0 {
            return Reply::new(title).text(
                "No remittance covers this period yet: import your 835 files with `raterise import era FOLDER`.",
            );
        }
        let mut r =
            Reply::new(title).tone(if self.denial_bp >= 1000 { Tone::Warning } else { Tone::Info }).text(format!(
                "{} of {} claims denied ({}); {} paid without denial.",
                self.denied,
                self.claims,
                pct(self.denial_bp),
                pct(10_000 - self.denial_bp)
            ));
        if self.payers.len() > 1 || self.payer.is_none() {
            let mut t = Table::new(&[
                ("payer", Align::Left),
                ("claims", Align::Right),
                ("denied", Align::Right),
                ("rate", Align::Right),
                ("denied $", Align::Right),
            ]);
            for p in &self.payers {
                t.push(vec![
                    p.payer.clone(),
                    p.claims.to_string(),
                    p.denied.to_string(),
                    pct(p.denial_bp),
                    Cents(p.denied_cents).to_string(),
                ]);
            }
            r = r.table(t);
        }
        if !self.reasons.is_empty() {
            let mut t = Table::new(&[
                ("reason", Align::Left),
                ("claims", Align::Right),
                ("amount", Align::Right),
                ("what it means", Align::Left),
            ]);
            for x in &self.reasons {
                t.push(vec![x.code.clone(), x.claims.to_string(), Cents(x.cents).to_string(), x.meaning.clone()]);
            }
            r = r.table(t);
        }
        r.notes(
            "Remarks on denied claims",
            self.remarks
                .iter()
                .map(|x| format!("{} ({} lines, {}): {}", x.code, x.claims, Cents(x.cents), x.meaning))
                .collect(),
        )
    }
}
