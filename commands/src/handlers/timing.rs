//! /timing: the openings to negotiate that are coming up (DOMAIN, "When to negotiate"): renewal
//! windows, contracts not yet signed, rates due for review, and a new Medicare year.

use super::{practice_today, Outcome};
use crate::analysis::{self, renewal_window, LastCase, NextRound, PayerTiming, STALE_AFTER_YEARS};
use crate::context::Ctx;
use crate::domain::{dates, percent_of, Credential, PayerStatus};
use crate::error::AppError;
use crate::invocation::Invocation;
use crate::medicare::MedicareAmount;
use crate::reply::{Align, Reply, Table};
use crate::store::Practice;
use chrono::NaiveDate;
use serde::Serialize;

pub const DEFAULT_HORIZON_DAYS: i64 = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpeningKind {
    BeforeSigning,
    RenewalWindowOpen,
    RenewalWindowOpens,
    RateReviewDue,
    /// After an agreement: the agreed review, or the next renewal window.
    NextRound,
    /// A credential or specialty earned (`/practice credential ... date:`).
    NewCredential,
    NewMedicareYear,
}

#[derive(Debug, Clone, Serialize)]
pub struct Opening {
    pub date: NaiveDate,
    pub kind: OpeningKind,
    pub payer: Option<String>,
    pub what: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimingReport {
    pub as_of: NaiveDate,
    pub horizon_days: i64,
    pub openings: Vec<Opening>,
}

pub async fn run(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let horizon_days = inv.integer("days")?.unwrap_or(DEFAULT_HORIZON_DAYS);
    if !(1..=730).contains(&horizon_days) {
        return Err(AppError::user(format!("days: {horizon_days} is out of range; look ahead 1 to 730 days")));
    }
    let today = practice_today(ctx, practice);
    let horizon = today + chrono::Duration::days(horizon_days);
    let payers = ctx.store.list_payers(practice.id).await?;
    let codes = ctx.store.practice_code_rates(practice.id, today).await?;
    let cases = ctx.store.latest_cases(practice.id).await?;
    let mut openings = Vec::new();
    for p in payers.iter().filter(|p| p.kind.is_negotiable()) {
        let timing = PayerTiming {
            kind: p.kind,
            status: p.status,
            renewal_date: p.renewal_date,
            notice_days: p.notice_days,
            last_case: cases.iter().find(|c| c.payer_id == p.id).map(LastCase::from),
        };
        // Just agreed: nothing is timely before the next opening, which is the one entry.
        if let Some((next, why, agreed)) = analysis::agreed_hold(&timing, today) {
            if next <= horizon {
                openings.push(Opening {
                    date: next,
                    kind: OpeningKind::NextRound,
                    payer: Some(p.name.clone()),
                    what: format!(
                        "rates agreed on {agreed}; next opening: {}",
                        match why {
                            NextRound::AgreedReview => "the review agreed".to_string(),
                            NextRound::RenewalWindow =>
                                format!("renewal window ({} days before the anniversary)", p.notice_days),
                            NextRound::YearAfter => "a year after the agreement".to_string(),
                        }
                    ),
                });
            }
            continue;
        }
        match p.status {
            PayerStatus::Applying => openings.push(Opening {
                date: today,
                kind: OpeningKind::BeforeSigning,
                payer: Some(p.name.clone()),
                what: "not signed yet: the strongest moment to ask, before the contract is final".into(),
            }),
            PayerStatus::InNetwork => {
                if let Some(renewal) = p.renewal_date {
                    let (opens, anniversary) = renewal_window(renewal, p.notice_days, today);
                    if opens <= today {
                        openings.push(Opening {
                            date: today,
                            kind: OpeningKind::RenewalWindowOpen,
                            payer: Some(p.name.clone()),
                            what: format!("renewal window open now, until the {anniversary} anniversary"),
                        });
                    } else if opens <= horizon {
                        openings.push(Opening {
                            date: opens,
                            kind: OpeningKind::RenewalWindowOpens,
                            payer: Some(p.name.clone()),
                            what: format!(
                                "renewal window opens ({} days before the {anniversary} anniversary)",
                                p.notice_days
                            ),
                        });
                    }
                }
                // The payer is due for review once its most recently changed code is two years old.
                let newest_change =
                    codes.iter().filter(|c| c.payer_id == p.id).filter_map(|c| c.current.map(|r| r.since)).max();
                if let Some(since) = newest_change {
                    let due = dates::add_years(since, STALE_AFTER_YEARS).max(today);
                    if due <= horizon {
                        openings.push(Opening {
                            date: due,
                            kind: OpeningKind::RateReviewDue,
                            payer: Some(p.name.clone()),
                            what: format!("no rate change since {since}: due for review"),
                        });
                    }
                }
            }
            PayerStatus::OutOfNetwork | PayerStatus::Dropped => {}
        }
    }
    // A credential or specialty earned recently (or soon) is news worth a call to every payer.
    for c in ctx.store.case_file(practice.id).await?.credentials {
        let Some(earned) = c.earned_on else { continue };
        let (from, until) = crate::reminders::credential_window(earned);
        if until < today || from > horizon {
            continue;
        }
        openings.push(Opening {
            date: from.max(today),
            kind: OpeningKind::NewCredential,
            payer: None,
            what: if from <= today {
                format!("{} earned on {earned}: tell your payers and ask for more, until about {until}", c.name)
            } else {
                format!(
                    "{} to be earned on {earned}: a reason to ask your payers for more, until about {until}",
                    c.name
                )
            },
        });
    }
    if let Some(opening) = medicare_year_opening(ctx, practice, today) {
        openings.push(opening);
    }
    openings.sort_by(|a, b| a.date.cmp(&b.date).then(a.kind.cmp(&b.kind)).then(a.payer.cmp(&b.payer)));
    Ok(Outcome::Timing(TimingReport { as_of: today, horizon_days, openings }))
}

/// A rise in the practice's Medicare amounts from one final year to the next is leverage with
/// every commercial payer (DOMAIN, "When to negotiate", 4).
fn medicare_year_opening(ctx: &Ctx, practice: &Practice, today: NaiveDate) -> Option<Opening> {
    let locality = practice.locality_id.as_deref()?;
    let credential = practice.credential.unwrap_or(Credential::Psychologist);
    let years = ctx.medicare.years();
    let (&latest, &previous) = (years.last()?, years.iter().rev().nth(1)?);
    let amount = |year| match ctx.medicare.amount("90837", locality, year, credential, practice.setting) {
        Ok(MedicareAmount::Priced { cents, .. }) => Some(cents),
        _ => None,
    };
    let (now, before) = (amount(latest)?, amount(previous)?);
    let change = percent_of(now - before, before)?;
    (change > 0.0).then(|| Opening {
        date: today,
        kind: OpeningKind::NewMedicareYear,
        payer: None,
        what: format!(
            "Medicare {latest} pays {change:.1}% more than {previous} for 90837 in your locality ({before} to {now}): cite it to every commercial payer"
        ),
    })
}

impl TimingReport {
    pub fn reply(&self) -> Reply {
        let mut r = Reply::new(format!("Openings to negotiate, next {} days", self.horizon_days));
        if self.openings.is_empty() {
            return r.text("Nothing coming up. Add renewal dates to your payers (/payer edit renewal:YYYY-MM-DD) so windows can be tracked.");
        }
        let mut t = Table::new(&[("When", Align::Left), ("Payer", Align::Left), ("What", Align::Left)]);
        for o in &self.openings {
            let when = if o.date == self.as_of { "now".to_string() } else { o.date.to_string() };
            t.push(vec![when, o.payer.clone().unwrap_or_else(|| "all".into()), o.what.clone()]);
        }
        r = r.table(t);
        if let Some(first) = self.openings.iter().find(|o| o.payer.is_some()) {
            let name = first.payer.as_deref().unwrap_or_default();
            let q = crate::command_line::quote(name);
            r = r.action(format!("Prepare {name}"), format!("/strategy payer:{q}"));
        }
        r
    }
}
