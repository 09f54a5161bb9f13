//! /followups list | snooze | done | cancel: the reminders the bot will post into the practice's
//! channel (follow-ups, escalations, renewal windows, stale rates, a new Medicare year), the ones
//! overdue, and the ones that could not be posted.

use super::negotiate::quoted;
use super::{audit, practice_today, Outcome};
use crate::context::Ctx;
use crate::error::AppError;
use crate::handlers::draft::long_date;
use crate::invocation::{Invocation, Platform};
use crate::reminders::{self, Kind, State};
use crate::reply::{channel_mention, Align, Reply, Table, Tone};
use crate::store::reminders::ReminderView;
use crate::store::Practice;
use chrono::{Duration, NaiveDate};
use serde::Serialize;

/// Most reminders of each state a list shows.
pub const LIST_LIMIT: i64 = 50;
/// Longest snooze.
pub const MAX_SNOOZE_DAYS: i64 = 90;
pub const DEFAULT_SNOOZE_DAYS: i64 = 7;

#[derive(Debug, Clone, Serialize)]
pub struct FollowupItem {
    pub id: i64,
    pub kind: Kind,
    pub about: String,
    /// The planned date.
    pub due_on: NaiveDate,
    /// The local day it is (or was to be) posted on.
    pub post_on: NaiveDate,
    pub due_at: String,
    pub state: State,
    pub overdue: bool,
    pub snoozed: bool,
    pub attempts: i64,
    pub last_error: Option<String>,
    #[serde(skip)]
    pub payer: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FollowupList {
    pub as_of: NaiveDate,
    pub time_zone: String,
    /// Where reminders are posted; none until `/setup channel:`.
    pub channel: Option<String>,
    /// Whether the scheduler posts for this practice's platform (Discord and Slack, not the console).
    pub posted: bool,
    pub overdue: Vec<FollowupItem>,
    pub upcoming: Vec<FollowupItem>,
    pub failed: Vec<FollowupItem>,
    /// Where the practice lives, to show its channel the way that platform does.
    #[serde(skip)]
    pub platform: Platform,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FollowupAction {
    Snoozed,
    Done,
    Cancelled,
}

#[derive(Debug, Clone, Serialize)]
pub struct FollowupChanged {
    pub action: FollowupAction,
    pub id: i64,
    pub items: Vec<FollowupItem>,
    /// Snoozed: the local day it comes back.
    pub until: Option<NaiveDate>,
    /// Cancelled: how many pending reminders of the subject were cancelled.
    pub cancelled: usize,
}

fn about(v: &ReminderView) -> String {
    match (&v.payer, v.kind) {
        (Some(p), _) => p.clone(),
        (None, Kind::MedicareYear) => v.subject_key.replace("medicare:", "Medicare "),
        (None, Kind::DeliveryWarning) => "this channel".into(),
        (None, _) => v.subject_key.clone(),
    }
}

fn item(v: ReminderView, practice: &Practice, now: chrono::DateTime<chrono::Utc>) -> FollowupItem {
    let at = reminders::parse_instant_text(&v.due_at);
    let post_on = at
        .map(|t| match practice.time_zone.parse::<chrono_tz::Tz>() {
            Ok(z) => t.with_timezone(&z).date_naive(),
            Err(_) => t.date_naive(),
        })
        .unwrap_or(v.due_on);
    FollowupItem {
        id: v.id,
        kind: v.kind,
        about: about(&v),
        due_on: v.due_on,
        post_on,
        due_at: v.due_at.clone(),
        state: v.state,
        overdue: v.state == State::Pending && at.is_some_and(|t| t <= now),
        snoozed: v.snoozed,
        attempts: v.attempts,
        last_error: v.last_error,
        payer: v.payer,
    }
}

fn id_of(inv: &Invocation) -> Result<i64, AppError> {
    let id = inv.integer("id")?.ok_or_else(|| {
        AppError::user("`id` is missing; add id:N with the number /followups list shows for the reminder")
    })?;
    if id <= 0 {
        return Err(AppError::user(format!("id: `{id}` is not a reminder number; /followups list shows them")));
    }
    Ok(id)
}

pub async fn list(ctx: &Ctx, practice: &Practice) -> Result<Outcome, AppError> {
    let now = ctx.clock.now();
    let views = ctx.store.list_reminders(practice.id, LIST_LIMIT).await?;
    let mut out = FollowupList {
        as_of: practice_today(ctx, practice),
        time_zone: practice.time_zone.clone(),
        channel: practice.reminder_channel.clone(),
        posted: practice.platform != Platform::Console,
        platform: practice.platform,
        overdue: vec![],
        upcoming: vec![],
        failed: vec![],
    };
    for v in views {
        let i = item(v, practice, now);
        match (i.state, i.overdue) {
            (State::Failed, _) => out.failed.push(i),
            (_, true) => out.overdue.push(i),
            _ => out.upcoming.push(i),
        }
    }
    Ok(Outcome::FollowupList(out))
}

pub async fn snooze(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let id = id_of(inv)?;
    let days = inv.integer("days")?.unwrap_or(DEFAULT_SNOOZE_DAYS);
    if !(1..=MAX_SNOOZE_DAYS).contains(&days) {
        return Err(AppError::user(format!(
            "days: snooze for 1 to {MAX_SNOOZE_DAYS} days, e.g. days:7; to stop a reminder for good use /followups cancel id:{id}"
        )));
    }
    let back_on = practice_today(ctx, practice) + Duration::days(days);
    let until = reminders::due_at(back_on, &practice.time_zone);
    let moved = ctx.store.snooze_reminder(practice.id, id, until, &audit(ctx, inv, practice)).await?;
    let now = ctx.clock.now();
    let items: Vec<FollowupItem> = moved.into_iter().map(|v| item(v, practice, now)).collect();
    let until = items.iter().map(|i| i.post_on).max().or(Some(reminders::business_day(back_on)));
    Ok(Outcome::FollowupChanged(FollowupChanged {
        action: FollowupAction::Snoozed,
        id,
        items,
        // A reminder already due later than the snooze keeps its date (never moved earlier).
        until,
        cancelled: 0,
    }))
}

pub async fn done(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let id = id_of(inv)?;
    let v = ctx.store.done_reminder(practice.id, id, &audit(ctx, inv, practice)).await?;
    Ok(Outcome::FollowupChanged(FollowupChanged {
        action: FollowupAction::Done,
        id,
        items: vec![item(v, practice, ctx.clock.now())],
        until: None,
        cancelled: 0,
    }))
}

pub async fn cancel(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let id = id_of(inv)?;
    let (v, n) = ctx.store.cancel_reminder(practice.id, id, &audit(ctx, inv, practice)).await?;
    Ok(Outcome::FollowupChanged(FollowupChanged {
        action: FollowupAction::Cancelled,
        id,
        items: vec![item(v, practice, ctx.clock.now())],
        until: None,
        cancelled: n,
    }))
}

fn when(i: &FollowupItem) -> String {
    let mut s = i.post_on.format("%a %b %-d, %Y").to_string();
    if i.snoozed {
        s.push_str(" (snoozed)");
    }
    s
}

fn table(items: &[FollowupItem]) -> Table {
    let mut t =
        Table::new(&[("#", Align::Right), ("When", Align::Left), ("What", Align::Left), ("About", Align::Left)]);
    for i in items {
        t.push(vec![i.id.to_string(), when(i), i.kind.label().to_string(), i.about.clone()]);
    }
    t
}

impl FollowupList {
    pub fn reply(&self) -> Reply {
        let total = self.overdue.len() + self.upcoming.len() + self.failed.len();
        let mut r = Reply::new("Reminders").private();
        if total == 0 {
            r = r.text(
                "Nothing planned. Reminders come from your data: a written request logged with /negotiate log, a payer's renewal date (/payer edit renewal:), rates on file for two years.",
            );
        }
        if !self.overdue.is_empty() {
            let why = if !self.posted {
                "listed here only; the console posts nothing (reminders are posted into a Discord or Slack channel)"
            } else if self.channel.is_none() {
                "not posted because no reminder channel is set"
            } else {
                "due and being posted (or waiting to retry)"
            };
            r = r.text(format!("Overdue, {why}:")).table(table(&self.overdue));
        }
        if !self.upcoming.is_empty() {
            r = r.text(format!("Coming up (09:00 {}, business days):", self.time_zone)).table(table(&self.upcoming));
        }
        if !self.failed.is_empty() {
            let lines: Vec<String> = self
                .failed
                .iter()
                .map(|i| {
                    format!(
                        "#{} {} for {}, due {}: {} (after {} attempt{})",
                        i.id,
                        i.kind.label(),
                        i.about,
                        long_date(i.due_on),
                        i.last_error.as_deref().unwrap_or("could not be posted"),
                        i.attempts,
                        if i.attempts == 1 { "" } else { "s" }
                    )
                })
                .collect();
            r = r.tone(Tone::Warning).notes("Could not be posted (snooze one to try again, or mark it done)", lines);
        }
        if let (true, Some(channel)) = (self.posted, &self.channel) {
            r = r.text(format!("Reminders are posted in {}.", channel_mention(self.platform, channel)));
        }
        if self.posted && self.channel.is_none() {
            r = r.notes(
                "Not posted anywhere yet",
                vec!["Choose the channel for reminders with /setup channel:#reminders (in Discord or Slack).".into()],
            );
        }
        if let Some(first) = self.overdue.first().or(self.upcoming.first()) {
            r = r
                .action(format!("Snooze #{} a week", first.id), format!("/followups snooze id:{} days:7", first.id))
                .action(format!("Mark #{} done", first.id), format!("/followups done id:{}", first.id));
            if let Some(p) = &first.payer {
                r = r.action(format!("{p}'s case"), format!("/negotiate status payer:{}", quoted(p)));
            }
        }
        r.footer(
            "Reminders are posted at 09:00 in the practice's time zone on business days; weekend dates move to Monday.",
        )
    }
}

impl FollowupChanged {
    pub fn reply(&self) -> Reply {
        let first = self.items.first();
        let what = first.map(|i| format!("{} for {}", i.kind.label(), i.about)).unwrap_or_default();
        match self.action {
            FollowupAction::Snoozed => {
                let until = self.until.map(long_date).unwrap_or_default();
                let mut r = Reply::new(format!("Reminder #{} snoozed until {until}", self.id))
                    .tone(Tone::Success)
                    .text(format!("The {what} comes back on {until} at 09:00."));
                if self.items.len() > 1 {
                    r = r.text(format!(
                        "{} reminders posted in the same message come back with it.",
                        self.items.len() - 1
                    ));
                }
                r.action("Show reminders", "/followups list")
            }
            FollowupAction::Done => {
                let mut r = Reply::new(format!("Reminder #{} done", self.id))
                    .tone(Tone::Success)
                    .text(format!("The {what} will not be posted."));
                if first.is_some_and(|i| i.kind == Kind::FollowUp) {
                    r = r.text("While the payer has not answered, the next follow-up reminder comes two weeks after this one; log what you did with /negotiate log so the dates follow it.");
                }
                r.action("Show reminders", "/followups list")
            }
            FollowupAction::Cancelled => Reply::new(format!("No more reminders about {}", first.map(|i| i.about.as_str()).unwrap_or("this")))
                .tone(Tone::Success)
                .text(format!(
                    "Reminder #{} and everything else planned for the same subject are cancelled ({} in all), and nothing new will be planned for it.",
                    self.id, self.cancelled
                ))
                .action("Show reminders", "/followups list"),
        }
    }
}
