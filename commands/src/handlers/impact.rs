//! /impact PAYER INCREASE: what a raise is worth in a year at the practice's volume.

use super::{practice_today, resolve_payer, Outcome};
use crate::analysis;
use crate::context::Ctx;
use crate::domain::{div_round_half_up, is_add_on, Cents};
use crate::error::AppError;
use crate::invocation::Invocation;
use crate::reply::{Align, Reply, Table};
use crate::store::Practice;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "unit", content = "value", rename_all = "lowercase")]
pub enum Increase {
    /// Per session.
    Dollars(Cents),
    /// In hundredths of a percent (8.5% is 850), so no float enters the money path.
    Percent(i64),
}

impl Increase {
    pub fn parse(input: &str) -> Result<Increase, AppError> {
        let s = input.trim();
        let bad = || {
            AppError::user(format!(
                "`{s}` is not an increase; write dollars per session (10 or $10.50) or a percentage (8%)"
            ))
        };
        let inc = if let Some(p) = s.strip_suffix('%') {
            let c = Cents::parse(p).map_err(|_| bad())?;
            Increase::Percent(c.0)
        } else {
            Increase::Dollars(Cents::parse(s).map_err(|_| bad())?)
        };
        match inc {
            Increase::Dollars(c) if c.0 <= 0 || c.0 > 100_000 => Err(AppError::user(format!(
                "An increase of {c} per session is out of range; use more than $0 and at most $1,000"
            ))),
            Increase::Percent(p) if p <= 0 || p > 10_000 => {
                Err(AppError::user(format!("An increase of {s} is out of range; use more than 0% and at most 100%")))
            }
            ok => Ok(ok),
        }
    }

    pub fn per_session(self, rate: Cents) -> Cents {
        match self {
            Increase::Dollars(c) => c,
            Increase::Percent(hundredths) => {
                Cents(div_round_half_up(rate.0 as i128 * hundredths as i128, 10_000) as i64)
            }
        }
    }

    pub fn label(self) -> String {
        match self {
            Increase::Dollars(c) => format!("{c} per session"),
            Increase::Percent(h) => format!("{}.{:02}%", h / 100, h % 100).replace(".00%", "%"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ImpactRow {
    pub cpt: String,
    pub rate_cents: Cents,
    pub new_rate_cents: Cents,
    pub weekly_volume: i64,
    pub yearly_change_cents: Cents,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImpactReport {
    pub payer: String,
    pub increase: Increase,
    pub weeks_per_year: i64,
    pub rows: Vec<ImpactRow>,
    pub yearly_change_cents: Cents,
    pub yearly_sessions: i64,
    /// Add-on codes left out of a dollar raise (add_ons:include puts them in).
    pub skipped_add_ons: Vec<String>,
}

pub async fn run(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = resolve_payer(ctx, practice, inv.required("payer")?).await?;
    if !payer.kind.is_negotiable() {
        return Err(AppError::user(format!(
            "{} pays a fixed schedule ({}), so there is no raise to model: it is the benchmark your other payers are compared with (see /rates)",
            payer.name,
            if payer.kind == crate::domain::PayerKind::Medicare {
                "the same Medicare amounts for everyone in your locality"
            } else {
                "set by the state"
            }
        )));
    }
    let increase = Increase::parse(inv.required("increase")?)?;
    let include_add_ons = match inv.opt("add_ons") {
        None => false,
        Some(v) => match v.trim().to_ascii_lowercase().as_str() {
            "include" | "yes" | "true" => true,
            "exclude" | "no" | "false" => false,
            other => return Err(AppError::user(format!("add_ons: `{other}` is not a choice; use include or exclude"))),
        },
    };
    let today = practice_today(ctx, practice);
    let mut codes = ctx.store.practice_code_rates(practice.id, today).await?;
    // Weekly volume as set by hand, else from the claims export (see `figures`).
    crate::figures::with_volume(&ctx.store, practice.id, Some(payer.id), today, &mut codes).await?;
    let mut skipped_add_ons = Vec::new();
    let rows: Vec<ImpactRow> = codes
        .iter()
        .filter(|c| c.payer_id == payer.id)
        .filter(|c| {
            // A dollar raise per session is meant for the sessions, not their add-ons; a
            // percentage scales with each code and applies to all.
            let skip = matches!(increase, Increase::Dollars(_)) && !include_add_ons && is_add_on(&c.cpt);
            if skip && c.current.is_some() {
                skipped_add_ons.push(c.cpt.clone());
            }
            !skip
        })
        .filter_map(|c| {
            let cur = c.current?;
            let step = increase.per_session(cur.amount);
            Some(ImpactRow {
                cpt: c.cpt.clone(),
                rate_cents: cur.amount,
                new_rate_cents: cur.amount + step,
                weekly_volume: c.weekly_volume,
                yearly_change_cents: analysis::yearly(step, c.weekly_volume, practice.weeks_per_year),
            })
        })
        .collect();
    if rows.is_empty() {
        return Err(AppError::user(format!(
            "{} has no rates recorded yet, so there is nothing to raise; add them with /rate set payer:{} cpt:90837 amount:118.50",
            payer.name,
            crate::command_line::quote(&payer.name)
        )));
    }
    let yearly_change_cents = rows.iter().fold(Cents::ZERO, |a, r| a + r.yearly_change_cents);
    let yearly_sessions = rows.iter().map(|r| r.weekly_volume).sum::<i64>() * practice.weeks_per_year;
    Ok(Outcome::Impact(ImpactReport {
        payer: payer.name,
        increase,
        weeks_per_year: practice.weeks_per_year,
        rows,
        yearly_change_cents,
        yearly_sessions,
        skipped_add_ons,
    }))
}

impl ImpactReport {
    pub fn reply(&self) -> Reply {
        let mut t = Table::new(&[
            ("Code", Align::Left),
            ("Now", Align::Right),
            ("New", Align::Right),
            ("Sess/wk", Align::Right),
            ("Per year", Align::Right),
        ]);
        for r in &self.rows {
            t.push(vec![
                r.cpt.clone(),
                r.rate_cents.to_string(),
                r.new_rate_cents.to_string(),
                r.weekly_volume.to_string(),
                if r.weekly_volume > 0 { format!("+{}", r.yearly_change_cents) } else { "-".into() },
            ]);
        }
        let q = crate::command_line::quote(&self.payer);
        let mut r = if self.yearly_sessions == 0 {
            Reply::new(format!("{} +{}", self.payer, self.increase.label()))
                .text(format!(
                    "No weekly volume is recorded for {}: add volume to see the yearly value, with /payer edit name:{q} volume:\"90837=10\".",
                    self.payer
                ))
                .table(t)
        } else {
            Reply::new(format!("{} +{}: {} a year", self.payer, self.increase.label(), self.yearly_change_cents))
                .text(format!(
                    "At {} sessions a year ({} weeks), a raise of {} with {} is worth {} a year.",
                    self.yearly_sessions,
                    self.weeks_per_year,
                    self.increase.label(),
                    self.payer,
                    self.yearly_change_cents
                ))
                .table(t)
        };
        if !self.skipped_add_ons.is_empty() {
            r = r.notes(
                "Add-on codes left out",
                vec![format!(
                    "{}: a flat raise per session is for the sessions, not their add-ons; add add_ons:include to raise them too.",
                    self.skipped_add_ons.join(", ")
                )],
            );
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dollars_and_percent() {
        assert_eq!(Increase::parse("10").unwrap(), Increase::Dollars(Cents(1000)));
        assert_eq!(Increase::parse("$12.50").unwrap(), Increase::Dollars(Cents(1250)));
        assert_eq!(Increase::parse("8%").unwrap(), Increase::Percent(800));
        assert_eq!(Increase::parse("8.5%").unwrap(), Increase::Percent(850));
        assert!(Increase::parse("0").is_err());
        assert!(Increase::parse("-5%").is_err());
        assert!(Increase::parse("lots").unwrap_err().user_message().contains("8%"));
    }

    #[test]
    fn percent_is_rounded_once_per_session() {
        // 8.5% of $118.50 = $10.0725 -> $10.07
        assert_eq!(Increase::Percent(850).per_session(Cents(11850)), Cents(1007));
        assert_eq!(Increase::Percent(850).label(), "8.50%");
        assert_eq!(Increase::Percent(800).label(), "8%");
    }
}
