//! /rate set | history

use super::{audit, practice_today, resolve_cpt, resolve_payer, Outcome};
use crate::context::Ctx;
use crate::domain::{percent_of, Cents};
use crate::error::AppError;
use crate::invocation::Invocation;
use crate::reply::{Align, Reply, Table, Tone};
use crate::store::rates::current_from_history;
use crate::store::{Practice, RateRow};
use chrono::NaiveDate;
use serde::Serialize;

/// The largest rate accepted for one session; anything above is almost surely a typo.
pub const MAX_RATE: Cents = Cents(200_000);

#[derive(Debug, Clone, Serialize)]
pub struct RateSet {
    pub payer: String,
    pub cpt: String,
    pub description: String,
    pub rate_cents: Cents,
    pub effective_date: NaiveDate,
    pub previous_cents: Option<Cents>,
    pub change_pct: Option<f64>,
    pub in_effect_today: bool,
    /// The same rate was already in force from that date: nothing was added.
    pub unchanged: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RateHistory {
    pub payer: String,
    pub as_of: NaiveDate,
    pub rows: Vec<RateRow>,
}

pub fn validate_amount(amount: Cents) -> Result<Cents, AppError> {
    if amount.0 <= 0 {
        return Err(AppError::user(format!(
            "A rate of {amount} can't be right; give the contracted amount per session, like amount:118.50"
        )));
    }
    if amount > MAX_RATE {
        return Err(AppError::user(format!(
            "{amount} per session is above the {MAX_RATE} limit; check for a typo (amount:118.50 means $118.50)"
        )));
    }
    Ok(amount)
}

pub async fn set(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = resolve_payer(ctx, practice, inv.required("payer")?).await?;
    let code = resolve_cpt(ctx, inv.required("cpt")?)?.clone();
    let amount = validate_amount(inv.need("amount", inv.money("amount")?)?)?;
    let today = practice_today(ctx, practice);
    let effective = inv.date("effective")?.unwrap_or(today);
    let before = ctx.store.rate_history(payer.id, Some(&code.code)).await?;
    let previous = current_from_history(&before, effective).map(|c| c.amount);
    let unchanged = previous == Some(amount);
    if !unchanged {
        ctx.store.set_rate((payer.id, &payer.name), &code.code, amount, effective, &audit(ctx, inv, practice)).await?;
    }
    Ok(Outcome::RateSet(RateSet {
        payer: payer.name,
        cpt: code.code,
        description: code.description,
        rate_cents: amount,
        effective_date: effective,
        previous_cents: previous,
        change_pct: previous.and_then(|p| percent_of(amount - p, p)),
        in_effect_today: effective <= today,
        unchanged,
    }))
}

pub async fn history(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = resolve_payer(ctx, practice, inv.required("payer")?).await?;
    let cpt = inv.opt("cpt").map(|c| resolve_cpt(ctx, c).map(|i| i.code.clone())).transpose()?;
    let rows = ctx.store.rate_history(payer.id, cpt.as_deref()).await?;
    Ok(Outcome::RateHistory(RateHistory { payer: payer.name, as_of: practice_today(ctx, practice), rows }))
}

impl RateSet {
    pub fn reply(&self) -> Reply {
        let q = crate::command_line::quote(&self.payer);
        if self.unchanged {
            return Reply::new("Rate already on file")
                .private()
                .text(format!(
                    "{} already pays {} for {} on {}: nothing was added to the rate history.",
                    self.payer, self.rate_cents, self.cpt, self.effective_date
                ))
                .action("Rate history", format!("/rate history payer:{q} cpt:{}", self.cpt));
        }
        let mut text = format!(
            "{} pays {} for {} ({}), effective {}.",
            self.payer, self.rate_cents, self.cpt, self.description, self.effective_date
        );
        if let (Some(prev), Some(pct)) = (self.previous_cents, self.change_pct) {
            text.push_str(&format!(" Before: {prev} ({pct:+.1}%)."));
        }
        if !self.in_effect_today {
            text.push_str(" It takes effect in the future; until then the earlier rate stays current.");
        }
        Reply::new("Rate recorded")
            .private()
            .tone(Tone::Success)
            .text(text)
            .action("Compare with Medicare", format!("/rates payer:{q}"))
            .action("Rate history", format!("/rate history payer:{q} cpt:{}", self.cpt))
    }
}

impl RateHistory {
    pub fn reply(&self) -> Reply {
        if self.rows.is_empty() {
            let q = crate::command_line::quote(&self.payer);
            return Reply::new(format!("No rates recorded for {}", self.payer))
                .text(format!("Record one with /rate set payer:{q} cpt:90837 amount:118.50"));
        }
        let mut t = Table::new(&[
            ("Code", Align::Left),
            ("Rate", Align::Right),
            ("Change", Align::Right),
            ("Effective", Align::Left),
            ("", Align::Left),
        ]);
        for (i, r) in self.rows.iter().enumerate() {
            // Rows are newest first per code; the next row of the same code is the one before.
            let prev = self.rows.get(i + 1).filter(|p| p.cpt == r.cpt);
            let change = prev
                .and_then(|p| percent_of(r.amount - p.amount, p.amount))
                .map(|pct| format!("{pct:+.1}%"))
                .unwrap_or_default();
            let note = if r.effective_date > self.as_of { "future" } else { "" };
            t.push(vec![r.cpt.clone(), r.amount.to_string(), change, r.effective_date.to_string(), note.into()]);
        }
        Reply::new(format!("Rate history: {}", self.payer)).table(t)
    }
}
