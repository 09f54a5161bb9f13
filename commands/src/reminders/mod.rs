//! Reminders: what should be posted into a practice's channel, and when. This module is pure
//! (no SQL, no clock): [`desired`] turns the practice's payers, open cases and already-handled
//! reminders into the reminders that should exist, and [`due_at`] places a planned date at 09:00
//! in the practice's time zone on a business day. `plan` loads the inputs and syncs the rows;
//! `message` composes what the scheduler posts.

pub mod holidays;
pub mod load;
pub mod message;
pub mod plan;

use crate::analysis;
use crate::domain::dates;
use crate::domain::stage::Stage;
use crate::domain::{PayerKind, PayerStatus};
use crate::schedule::{self, Dated, FOLLOW_UP_EVERY_DAYS};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Local hour reminders are posted at.
pub const POST_HOUR: u32 = 9;
/// The second renewal reminder comes this many days before the anniversary.
pub const LAST_CALL_DAYS: i64 = 30;
/// A case opened this close before a renewal (or a stale-rate date) counts as this year's
/// negotiation: no renewal or stale-rate reminder for that payer.
pub const RECENT_CASE_DAYS: i64 = 365;
/// Delivery attempts before a reminder is marked failed.
pub const MAX_ATTEMPTS: i64 = 8;
/// First retry delay; each further attempt doubles it, up to [`MAX_RETRY_DELAY`].
pub const FIRST_RETRY_DELAY: std::time::Duration = std::time::Duration::from_secs(60);
pub const MAX_RETRY_DELAY: std::time::Duration = std::time::Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// 14 days after the written request or the last follow-up, while the payer has not answered.
    FollowUp,
    /// 30 days after the written request without an answer.
    Escalation,
    /// The contract's renewal window opens (anniversary minus the payer's notice days).
    RenewalWindow,
    /// 30 days before the anniversary, when no negotiation was opened.
    RenewalLastCall,
    /// A negotiable payer's rates have not changed in two years.
    StaleRate,
    /// A newer Medicare fee schedule was loaded: the payers now furthest below it.
    MedicareYear,
    /// Reminders could not be posted; said once the channel works again.
    DeliveryWarning,
    /// The review agreed with the rates (`/negotiate outcome ... review:`) falls due.
    Review,
    /// A credential or specialty was earned (`/practice credential ... date:`): a reason to ask.
    Credential,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::FollowUp,
        Kind::Escalation,
        Kind::RenewalWindow,
        Kind::RenewalLastCall,
        Kind::StaleRate,
        Kind::MedicareYear,
        Kind::DeliveryWarning,
        Kind::Review,
        Kind::Credential,
    ];

    /// The kinds [`desired`] plans from the practice's data; the others are added by events
    /// (a Medicare import, a delivery failure) and never cancelled by a re-plan.
    pub const PLANNED: [Kind; 7] = [
        Kind::FollowUp,
        Kind::Escalation,
        Kind::RenewalWindow,
        Kind::RenewalLastCall,
        Kind::StaleRate,
        Kind::Review,
        Kind::Credential,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Kind::FollowUp => "follow-up",
            Kind::Escalation => "escalation",
            Kind::RenewalWindow => "renewal-window",
            Kind::RenewalLastCall => "renewal-last-call",
            Kind::StaleRate => "stale-rate",
            Kind::MedicareYear => "medicare-year",
            Kind::DeliveryWarning => "delivery-warning",
            Kind::Review => "review",
            Kind::Credential => "credential",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::FollowUp => "follow-up",
            Kind::Escalation => "escalate",
            Kind::RenewalWindow => "renewal window opens",
            Kind::RenewalLastCall => "renewal in 30 days",
            Kind::StaleRate => "rates unchanged 2 years",
            Kind::MedicareYear => "new Medicare year",
            Kind::DeliveryWarning => "delivery problem",
            Kind::Review => "agreed review due",
            Kind::Credential => "new credential or specialty",
        }
    }

    pub fn is_planned(self) -> bool {
        Kind::PLANNED.contains(&self)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Kind::ALL.into_iter().find(|k| k.key() == s.trim()).ok_or_else(|| format!("`{s}` is not a reminder kind"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Pending,
    Sent,
    Failed,
    Cancelled,
    Done,
}

impl State {
    pub const ALL: [State; 5] = [State::Pending, State::Sent, State::Failed, State::Cancelled, State::Done];

    pub fn key(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Sent => "sent",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
            State::Done => "done",
        }
    }
}

impl FromStr for State {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        State::ALL.into_iter().find(|k| k.key() == s.trim()).ok_or_else(|| format!("`{s}` is not a reminder state"))
    }
}

/// What a reminder is about; reminders of one subject that fall due together become one message.
pub fn case_subject(negotiation_id: i64) -> String {
    format!("case:{negotiation_id}")
}

pub fn payer_subject(payer_id: i64) -> String {
    format!("payer:{payer_id}")
}

pub fn medicare_subject(year: u16) -> String {
    format!("medicare:{year}")
}

/// By name (lower case), not row id: saving the credential again keeps its reminder.
pub fn credential_subject(name: &str) -> String {
    format!("credential:{}", name.trim().to_lowercase())
}

/// How long after a credential or specialty is earned it is a fresh reason to ask for more.
pub const CREDENTIAL_WINDOW_DAYS: i64 = 180;

/// A reminder whose posting time lies this long before the row was written was due long before
/// the data behind it was entered (a back-dated case, an old rate, a past window): the scheduler
/// posts such reminders together as one summary instead of one message each.
pub const BACKDATED_AFTER_DAYS: i64 = 7;

/// Whether a reminder planned at `created_at` to post at `due_at` is back-dated.
pub fn is_backdated(due_at: DateTime<Utc>, created_at: DateTime<Utc>) -> bool {
    due_at < created_at - Duration::days(BACKDATED_AFTER_DAYS)
}

/// A dated credential or specialty as planning sees it.
#[derive(Debug, Clone)]
pub struct PlanCredential {
    pub name: String,
    pub earned_on: NaiveDate,
}

/// The window a credential earned on `earned_on` opens: (from, until).
pub fn credential_window(earned_on: NaiveDate) -> (NaiveDate, NaiveDate) {
    (earned_on, earned_on + Duration::days(CREDENTIAL_WINDOW_DAYS))
}

/// One reminder per dated credential or specialty, on the day it was earned, while its window
/// is still open (a credential earned years ago is no news to a payer).
pub fn desired_credentials(credentials: &[PlanCredential], today: NaiveDate) -> Vec<Desired> {
    credentials
        .iter()
        .filter(|c| credential_window(c.earned_on).1 >= today)
        .map(|c| Desired {
            kind: Kind::Credential,
            subject_key: credential_subject(&c.name),
            negotiation_id: None,
            payer_id: None,
            due_on: c.earned_on,
        })
        .collect()
}

/// One reminder that should exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    pub kind: Kind,
    pub subject_key: String,
    pub negotiation_id: Option<i64>,
    pub payer_id: Option<i64>,
    /// The local date it is planned for.
    pub due_on: NaiveDate,
}

/// A payer as planning sees it.
#[derive(Debug, Clone)]
pub struct PlanPayer {
    pub id: i64,
    pub kind: PayerKind,
    pub status: PayerStatus,
    pub renewal_date: Option<NaiveDate>,
    pub notice_days: i64,
    /// The latest date any of its rates changed (a code's current amount took effect).
    pub last_rate_change: Option<NaiveDate>,
    /// When its most recent negotiation was opened.
    pub last_case_opened: Option<NaiveDate>,
    pub has_open_case: bool,
    /// When its latest negotiation ended in an agreement, if it did.
    pub last_agreed_on: Option<NaiveDate>,
    /// The review agreed with those rates.
    pub review_on: Option<NaiveDate>,
}

/// After an agreement, the next opening (the same rule as the advice, `analysis::agreed_hold`):
/// the review agreed, else the renewal window that opens after the agreement, else a year on.
/// Nothing about that payer is due before it.
fn next_opening_after_agreement(p: &PlanPayer) -> Option<(NaiveDate, bool)> {
    let agreed = p.last_agreed_on?;
    let t = analysis::PayerTiming {
        kind: p.kind,
        status: p.status,
        renewal_date: p.renewal_date,
        notice_days: p.notice_days,
        last_case: Some(analysis::LastCase { stage: Stage::Accepted, closed_on: Some(agreed), review_on: p.review_on }),
    };
    // `agreed_hold` answers only while the opening is ahead of the day it is asked on; ask it
    // as of the agreement day.
    analysis::agreed_hold(&t, agreed).map(|(next, why, _)| (next, why == analysis::NextRound::AgreedReview))
}

/// An open negotiation with its dated log (sorted by date).
#[derive(Debug, Clone)]
pub struct PlanCase {
    pub id: i64,
    pub payer_id: i64,
    pub stage: Stage,
    pub log: Vec<Dated>,
}

/// A reminder that left `pending` by being posted, marked done, or given up on (failed), with
/// the local date that happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub kind: Kind,
    pub subject_key: String,
    pub due_on: NaiveDate,
    pub on: NaiveDate,
}

fn negotiable_in_network(p: &PlanPayer) -> bool {
    p.kind.is_negotiable() && p.status == PayerStatus::InNetwork
}

/// A negotiation that already covers this year (open, or opened within a year before `on`).
fn recent_case(p: &PlanPayer, on: NaiveDate) -> bool {
    p.has_open_case || p.last_case_opened.is_some_and(|o| o > on - Duration::days(RECENT_CASE_DAYS))
}

/// The next follow-up of a case waiting on the payer: 14 days after the written request or the
/// latest logged follow-up; when a reminder was posted (or marked done) since then without a
/// follow-up being logged, 14 days after that reminder, so the practice is reminded every two
/// weeks until the case moves on.
pub fn next_follow_up(case: &PlanCase, handled: &[Handled]) -> Option<NaiveDate> {
    let base = schedule::next_follow_up(case.stage, &case.log)?;
    let last_logged = base - Duration::days(FOLLOW_UP_EVERY_DAYS);
    let subject = case_subject(case.id);
    let reminded = handled
        .iter()
        .filter(|h| h.kind == Kind::FollowUp && h.subject_key == subject && h.due_on > last_logged)
        .map(|h| h.due_on.max(h.on))
        .max();
    Some(match reminded {
        Some(r) => r + Duration::days(FOLLOW_UP_EVERY_DAYS),
        None => base,
    })
}

/// Every reminder the practice's data calls for as of `today`. Subjects the practice muted are
/// filtered by the store when it syncs.
pub fn desired(payers: &[PlanPayer], cases: &[PlanCase], handled: &[Handled], today: NaiveDate) -> Vec<Desired> {
    let mut out = Vec::new();
    for case in cases {
        if case.stage.is_closed() {
            continue;
        }
        let subject = case_subject(case.id);
        if let Some(due_on) = next_follow_up(case, handled) {
            out.push(Desired {
                kind: Kind::FollowUp,
                subject_key: subject.clone(),
                negotiation_id: Some(case.id),
                payer_id: Some(case.payer_id),
                due_on,
            });
        }
        if let Some(due_on) = schedule::escalation_due(case.stage, &case.log) {
            out.push(Desired {
                kind: Kind::Escalation,
                subject_key: subject,
                negotiation_id: Some(case.id),
                payer_id: Some(case.payer_id),
                due_on,
            });
        }
    }
    for p in payers.iter().filter(|p| negotiable_in_network(p)) {
        let subject = payer_subject(p.id);
        // Just agreed: the next opening is the review or the following renewal, never a reminder
        // of the round that just ended.
        let hold = if p.has_open_case { None } else { next_opening_after_agreement(p) };
        let held = |due_on: NaiveDate| hold.is_some_and(|(next, _)| due_on < next);
        if let Some((review, true)) = hold {
            out.push(Desired {
                kind: Kind::Review,
                subject_key: subject.clone(),
                negotiation_id: None,
                payer_id: Some(p.id),
                due_on: review,
            });
        }
        if let Some(renewal) = p.renewal_date {
            let (opens, anniversary) = analysis::renewal_window(renewal, p.notice_days, today);
            // The window right after an agreement is its next opening, whenever the case began.
            let next_round = hold.is_some_and(|(next, review)| !review && next == opens);
            if next_round || !recent_case(p, anniversary) {
                if !held(opens) {
                    out.push(Desired {
                        kind: Kind::RenewalWindow,
                        subject_key: subject.clone(),
                        negotiation_id: None,
                        payer_id: Some(p.id),
                        due_on: opens,
                    });
                }
                let last_call = anniversary - Duration::days(LAST_CALL_DAYS);
                if last_call > opens && !held(last_call) {
                    out.push(Desired {
                        kind: Kind::RenewalLastCall,
                        subject_key: subject.clone(),
                        negotiation_id: None,
                        payer_id: Some(p.id),
                        due_on: last_call,
                    });
                }
            }
        }
        if let Some(changed) = p.last_rate_change {
            let due_on = dates::add_years(changed, analysis::STALE_AFTER_YEARS);
            if !recent_case(p, due_on.max(today)) && !held(due_on.max(today)) {
                out.push(Desired {
                    kind: Kind::StaleRate,
                    subject_key: subject,
                    negotiation_id: None,
                    payer_id: Some(p.id),
                    due_on,
                });
            }
        }
    }
    out
}

/// The business day a planned date is posted on: Saturday and Sunday move to Monday, and a US
/// federal holiday (observed day) to the next business day (Thanksgiving Thursday to Friday; a
/// Monday holiday after a weekend to Tuesday).
pub fn business_day(d: NaiveDate) -> NaiveDate {
    let mut day = d;
    while !holidays::is_business_day(day) {
        day += Duration::days(1);
    }
    day
}

/// 09:00 on the business day of `due_on` in the IANA time zone `tz` (UTC when the name is not
/// known), as a UTC instant. Daylight saving is the zone's own: 09:00 New York is 14:00 UTC in
/// winter and 13:00 UTC in summer.
pub fn due_at(due_on: NaiveDate, tz: &str) -> DateTime<Utc> {
    let day = business_day(due_on);
    let local = day.and_time(NaiveTime::from_hms_opt(POST_HOUR, 0, 0).expect("09:00 exists"));
    match tz.parse::<chrono_tz::Tz>() {
        Ok(zone) => {
            // 09:00 is never inside a daylight-saving gap in any zone today, but if a zone ever
            // skips it, the first instant after the gap is used.
            let mut t = local;
            for _ in 0..4 {
                if let Some(at) = zone.from_local_datetime(&t).earliest() {
                    return at.with_timezone(&Utc);
                }
                t += Duration::minutes(30);
            }
            local.and_utc()
        }
        Err(_) => local.and_utc(),
    }
}

/// How instants are stored: UTC, whole seconds, one fixed layout so text order is time order.
pub fn instant_text(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn parse_instant_text(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// A stable nonce for a reminder, derived from its identity: at most 25 characters of letters,
/// digits and `-`, as Discord's `enforce_nonce` takes them. The same reminder always gets the
/// same nonce, so a post retried after a crash is recognised; `snoozes` (how often it was
/// snoozed after being posted) makes the second post of a snoozed reminder a new message.
pub fn nonce(practice_id: i64, kind: Kind, subject_key: &str, due_on: NaiveDate, snoozes: i64) -> String {
    let mut identity = format!("{practice_id}|{}|{subject_key}|{due_on}", kind.key());
    if snoozes > 0 {
        identity.push_str(&format!("|{snoozes}"));
    }
    format!("rr-{}", base36(fnv1a64(identity.as_bytes())))
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).expect("ascii digits")
}

/// The wait before the next delivery attempt after `attempts` failed ones: doubling from
/// [`FIRST_RETRY_DELAY`] up to [`MAX_RETRY_DELAY`], spread by +/-20% with `jitter` (any value;
/// callers pass a hash of the reminder and attempt, so workers retrying together spread out).
pub fn retry_delay(attempts: i64, jitter: u64) -> std::time::Duration {
    let exp = attempts.clamp(1, 30) as u32 - 1;
    let base = FIRST_RETRY_DELAY.saturating_mul(2u32.saturating_pow(exp)).min(MAX_RETRY_DELAY);
    // 80% .. 120% in 1/1000 steps.
    let permille = 800 + (jitter % 401);
    base.mul_f64(permille as f64 / 1000.0)
}

/// A hash for jitter that differs per reminder, attempt and worker.
pub fn jitter_seed(id: i64, attempts: i64, worker: &str) -> u64 {
    fnv1a64(format!("{id}|{attempts}|{worker}").as_bytes())
}

#[cfg(test)]
mod tests;
