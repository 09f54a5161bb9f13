//! The reminder scheduler: a tokio task `raterise serve` starts. Each [`tick`] claims what is due
//! (one statement over the index of pending reminders by due time), collapses the reminders of
//! one subject into one message, posts each into its practice's reminder channel, and marks them
//! sent only after the platform accepted the post; then it re-plans the practice (the next
//! follow-up comes two weeks after this one).
//!
//! Delivery is at least once and never visibly twice: a claim is a lease that expires if the
//! process dies; the post carries the reminder's stable nonce (Discord `enforce_nonce`), so a
//! post retried after a crash or a timeout is not shown twice. Slack has no nonce: see
//! `slack::delivery` for what that leaves. Failures are retried with backoff
//! and jitter (5xx, timeouts) or after the platform's `retry_after` (429); after
//! [`reminders::MAX_ATTEMPTS`] a reminder is marked failed, stays listed in `/followups`, and one
//! warning is posted once the channel works again. A deleted channel or a removed bot (403/404)
//! fails that practice's reminders only. Posts to one channel are serialised; channels are
//! served a few at a time.
//!
//! Time comes only from the context's clock (`RATERISE_NOW` pins it); real time is used only to
//! wait between ticks and to honour rate limits.

use crate::discord::poster::{PostError, Poster};
use crate::discord::rest::RestError;
use raterise_commands::reminders::message::{self, Composed};
use raterise_commands::reminders::{self, plan};
use raterise_commands::reply::Reply;
use raterise_commands::store::reminders::{Claimed, SCHEDULER_ACTOR};
use raterise_commands::store::Practice;
use raterise_commands::{AppError, Ctx};
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Mutex};
use tokio::task::JoinSet;

/// Why a post did not go through, in the terms the scheduler decides on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// The platform asked to slow down: try again after this long (not a failed attempt).
    RateLimited(Duration),
    /// 5xx, a timeout, a connection failure: the same post may work later.
    Temporary(String),
    /// The channel is gone, or the bot may not post there (403/404/401): nothing more goes to
    /// this channel in this tick.
    ChannelRefused(String),
    /// The platform refused this message (400): retrying it will not help.
    Rejected(String),
}

impl std::fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeliveryError::RateLimited(d) => write!(f, "rate limited; retry after {:.1}s", d.as_secs_f64()),
            DeliveryError::Temporary(e) | DeliveryError::ChannelRefused(e) | DeliveryError::Rejected(e) => {
                f.write_str(e)
            }
        }
    }
}

/// Where reminders are posted: Discord here, Slack in `slack::delivery`, a recording fake in tests.
pub trait Delivery: Send + Sync + 'static {
    /// The practice platforms this delivery posts for (`discord`, ...).
    fn platforms(&self) -> &[&'static str];

    /// Posts `reply` into the channel; `nonce` is the same for every retry of one delivery.
    /// Returns the platform's message ids.
    fn post(
        &self,
        channel_id: &str,
        reply: &Reply,
        nonce: &str,
    ) -> impl Future<Output = Result<Vec<String>, DeliveryError>> + Send;
}

/// Posts through the Discord REST API with the bot token, pacing requests below Discord's global
/// limit of 50 per second.
pub struct DiscordDelivery {
    poster: Poster,
    pace: Duration,
    next_slot: Mutex<tokio::time::Instant>,
}

impl DiscordDelivery {
    pub fn new(poster: Poster) -> DiscordDelivery {
        DiscordDelivery { poster, pace: Duration::from_millis(25), next_slot: Mutex::new(tokio::time::Instant::now()) }
    }
}

/// Discord's answer in the scheduler's terms.
pub fn classify(e: PostError) -> DeliveryError {
    match e {
        PostError::Rest(RestError::RateLimited { retry_after }) => DeliveryError::RateLimited(retry_after),
        PostError::Rest(RestError::Retryable { .. }) => DeliveryError::Temporary(e.to_string()),
        PostError::Rest(RestError::Permanent { status: 401 | 403 | 404, .. }) => DeliveryError::ChannelRefused(
            format!("{e}; check that the reminder channel still exists and the bot may post there (/setup channel:)"),
        ),
        PostError::Rest(RestError::Permanent { .. }) | PostError::BadNonce => DeliveryError::Rejected(e.to_string()),
        PostError::BadChannel(_) => DeliveryError::ChannelRefused(format!("{e}; choose it again with /setup channel:")),
    }
}

impl Delivery for DiscordDelivery {
    fn platforms(&self) -> &[&'static str] {
        &["discord"]
    }

    async fn post(&self, channel_id: &str, reply: &Reply, nonce: &str) -> Result<Vec<String>, DeliveryError> {
        {
            let mut slot = self.next_slot.lock().await;
            let now = tokio::time::Instant::now();
            if *slot > now {
                tokio::time::sleep_until(*slot).await;
            }
            *slot = tokio::time::Instant::now().max(*slot) + self.pace;
        }
        match self.poster.post(channel_id, reply, nonce).await {
            Ok(ids) => Ok(ids.into_iter().map(|id| id.get().to_string()).collect()),
            Err(e) => Err(classify(e)),
        }
    }
}

/// Test hooks: stop the process between two steps of a delivery so a test can kill it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Hang after claiming, before posting anything.
    AfterClaim,
    /// Hang after the first post was accepted, before marking it sent.
    AfterPost,
}

#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// How long a claim holds before another worker may take the reminder.
    pub lease: chrono::Duration,
    /// Reminders claimed per statement; a tick claims until nothing is due.
    pub batch: i64,
    pub max_attempts: i64,
    /// One post may take this long (real time) before it counts as a temporary failure.
    pub post_timeout: Duration,
    /// A 429 asking to wait at most this long is waited out inside the tick; longer waits are
    /// scheduled as the next attempt.
    pub max_inline_wait: Duration,
    /// Channels posted to at the same time.
    pub channels_at_once: usize,
    /// Real time between ticks.
    pub interval: Duration,
    /// Practices re-planned per tick because their plan is from an earlier day.
    pub replan_per_tick: i64,
    pub fault: Option<Fault>,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        SchedulerSettings {
            lease: chrono::Duration::minutes(2),
            batch: 100,
            max_attempts: reminders::MAX_ATTEMPTS,
            post_timeout: Duration::from_secs(20),
            max_inline_wait: Duration::from_secs(10),
            channels_at_once: 4,
            interval: Duration::from_secs(30),
            replan_per_tick: 20,
            fault: None,
        }
    }
}

impl SchedulerSettings {
    /// Defaults, with `RATERISE_SCHEDULER_INTERVAL_MS`, `RATERISE_SCHEDULER_POST_TIMEOUT_MS` and
    /// the test-only `RATERISE_SCHEDULER_FAULT` (`after-claim` or `after-post`) applied.
    pub fn from_env() -> Result<SchedulerSettings, String> {
        let mut s = SchedulerSettings::default();
        let ms = |key: &str| -> Result<Option<Duration>, String> {
            match std::env::var(key) {
                Ok(v) if !v.trim().is_empty() => v
                    .trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .map(|n| Some(Duration::from_millis(n)))
                    .ok_or_else(|| format!("{key}=`{v}` is not a number of milliseconds; write e.g. 30000")),
                _ => Ok(None),
            }
        };
        if let Some(d) = ms("RATERISE_SCHEDULER_INTERVAL_MS")? {
            s.interval = d;
        }
        if let Some(d) = ms("RATERISE_SCHEDULER_POST_TIMEOUT_MS")? {
            s.post_timeout = d;
        }
        s.fault = match std::env::var("RATERISE_SCHEDULER_FAULT").as_deref().map(str::trim) {
            Ok("after-claim") => Some(Fault::AfterClaim),
            Ok("after-post") => Some(Fault::AfterPost),
            Ok("") | Err(_) => None,
            Ok(other) => {
                return Err(format!("RATERISE_SCHEDULER_FAULT=`{other}` is not known; use after-claim or after-post"))
            }
        };
        Ok(s)
    }
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TickReport {
    pub claimed: usize,
    /// Messages the platform accepted.
    pub messages: usize,
    /// Reminders marked sent (a message may carry several).
    pub sent: usize,
    pub retried: usize,
    pub rate_limited: usize,
    pub failed: usize,
    /// Claimed reminders whose subject moved on before posting.
    pub obsolete: usize,
    /// Claims another worker took over before this one posted.
    pub lost: usize,
    pub warnings_planned: usize,
    pub replanned: usize,
    /// Channels whose deliveries stopped on an error (a database error); their claims expire and
    /// are taken again.
    pub errors: usize,
}

impl TickReport {
    fn add(&mut self, o: &TickReport) {
        self.claimed += o.claimed;
        self.messages += o.messages;
        self.sent += o.sent;
        self.retried += o.retried;
        self.rate_limited += o.rate_limited;
        self.failed += o.failed;
        self.obsolete += o.obsolete;
        self.lost += o.lost;
        self.warnings_planned += o.warnings_planned;
        self.replanned += o.replanned;
        self.errors += o.errors;
    }
}

/// One practice's claimed reminders, one group per subject, in due order.
type PracticeWork = (Practice, Vec<Vec<Claimed>>);

/// A worker id unique to this process run.
pub fn worker_id() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("w{}-{:x}", std::process::id(), h.finish() & 0xffff_ffff)
}

/// One step with the default settings.
pub async fn tick<D: Delivery>(ctx: &Ctx, delivery: &Arc<D>, worker: &str) -> Result<TickReport, AppError> {
    tick_with(ctx, delivery, worker, &SchedulerSettings::default()).await
}

/// One step: claim what is due, post it, mark it, plan the next.
pub async fn tick_with<D: Delivery>(
    ctx: &Ctx,
    delivery: &Arc<D>,
    worker: &str,
    settings: &SchedulerSettings,
) -> Result<TickReport, AppError> {
    let now = ctx.clock.now();
    let mut report = TickReport::default();
    loop {
        let claimed =
            ctx.store.claim_due(now, now + settings.lease, settings.batch, worker, delivery.platforms()).await?;
        if claimed.is_empty() {
            break;
        }
        report.claimed += claimed.len();
        if settings.fault == Some(Fault::AfterClaim) {
            hang("claimed, nothing posted").await;
        }
        let mut by_practice: BTreeMap<i64, Vec<Claimed>> = BTreeMap::new();
        for c in claimed {
            by_practice.entry(c.practice_id).or_default().push(c);
        }
        // One queue per channel, served in order; a few channels at a time.
        let mut queues: BTreeMap<String, Vec<PracticeWork>> = BTreeMap::new();
        for (practice_id, items) in by_practice {
            let Some(practice) = ctx.store.practice_by_id(practice_id).await? else { continue };
            let Some(channel) = practice.reminder_channel.clone() else { continue };
            // Reminders that were due long before their data was entered (a back-dated case, a
            // payer added with old rates) go out as one summary when they span several subjects,
            // not as a burst of separate posts.
            let (backdated, items): (Vec<Claimed>, Vec<Claimed>) =
                items.into_iter().partition(|c| reminders::is_backdated(c.due_at, c.created_at));
            let mut subjects: BTreeMap<String, Vec<Claimed>> = BTreeMap::new();
            let backlog_subjects: std::collections::BTreeSet<&str> =
                backdated.iter().map(|c| c.subject_key.as_str()).collect();
            let backlog = if backlog_subjects.len() > 1 {
                Some(backdated)
            } else {
                for c in backdated {
                    subjects.entry(c.subject_key.clone()).or_default().push(c);
                }
                None
            };
            for c in items {
                subjects.entry(c.subject_key.clone()).or_default().push(c);
            }
            let mut groups: Vec<Vec<Claimed>> = subjects.into_values().collect();
            groups.extend(backlog);
            groups.sort_by_key(|g| g.iter().map(|c| (c.due_at, c.id)).min());
            queues.entry(channel).or_default().push((practice, groups));
        }
        let mut tasks: JoinSet<Result<TickReport, AppError>> = JoinSet::new();
        let mut queues = queues.into_iter();
        loop {
            while tasks.len() < settings.channels_at_once.max(1) {
                let Some((channel, work)) = queues.next() else { break };
                let (ctx, delivery, worker, settings) =
                    (ctx.clone(), delivery.clone(), worker.to_string(), settings.clone());
                tasks.spawn(
                    async move { serve_channel(&ctx, &*delivery, &worker, &settings, now, &channel, work).await },
                );
            }
            match tasks.join_next().await {
                Some(Ok(Ok(r))) => report.add(&r),
                Some(Ok(Err(e))) => {
                    report.errors += 1;
                    tracing::warn!(error = %e, "a reminder channel's deliveries stopped early");
                }
                Some(Err(e)) => {
                    report.errors += 1;
                    tracing::error!(error = %e, "a reminder delivery task failed");
                }
                None => break,
            }
        }
    }
    // Plans that depend on the date alone (next year's renewal window): a few practices a tick.
    let today = now.date_naive();
    for id in ctx.store.practices_to_replan(today, settings.replan_per_tick).await? {
        plan::replan_id(ctx, id, SCHEDULER_ACTOR).await?;
        report.replanned += 1;
    }
    Ok(report)
}

async fn hang(what: &str) -> ! {
    eprintln!("raterise scheduler: fault injected ({what}); waiting to be killed");
    tracing::warn!(what, "fault injected; waiting to be killed");
    std::future::pending::<()>().await;
    unreachable!("pending never resolves")
}

/// Posts one channel's groups in order.
async fn serve_channel<D: Delivery>(
    ctx: &Ctx,
    delivery: &D,
    worker: &str,
    settings: &SchedulerSettings,
    now: chrono::DateTime<chrono::Utc>,
    channel: &str,
    work: Vec<PracticeWork>,
) -> Result<TickReport, AppError> {
    let mut report = TickReport::default();
    // Set once the channel refuses us or asks us to wait: the rest of its queue is not tried.
    let mut refused: Option<String> = None;
    let mut wait: Option<(chrono::DateTime<chrono::Utc>, String)> = None;
    for (practice, groups) in work {
        let mut changed = false;
        let mut posted = false;
        for group in groups {
            let ids: Vec<i64> = group.iter().map(|c| c.id).collect();
            if let Some(reason) = &refused {
                report.failed += ctx.store.mark_failed(practice.id, &ids, worker, reason, now).await?;
                changed = true;
                continue;
            }
            if let Some((until, reason)) = &wait {
                // Not attempted: the claim's attempt is given back.
                report.retried += ctx.store.mark_retry(&ids, worker, *until, reason, true).await?;
                continue;
            }
            // A group spanning several subjects is the summary of back-dated reminders.
            let is_backlog = group.iter().any(|c| c.subject_key != group[0].subject_key);
            let composed = if is_backlog {
                message::backlog_message(ctx, &practice, &group).await.map(|r| Composed::Post(Box::new(r)))
            } else {
                message::compose(ctx, &practice, &group).await
            };
            let composed = match composed {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, practice = practice.id, "composing a reminder");
                    let attempts = group.iter().map(|c| c.attempts).max().unwrap_or(1);
                    if attempts >= settings.max_attempts {
                        report.failed +=
                            ctx.store.mark_failed(practice.id, &ids, worker, "could not be composed", now).await?;
                        changed = true;
                    } else {
                        let next = now + backoff(&group, worker);
                        report.retried +=
                            ctx.store.mark_retry(&ids, worker, next, "could not be composed", false).await?;
                    }
                    continue;
                }
            };
            let reply = match composed {
                Composed::Post(reply) => reply,
                Composed::Obsolete(reason) => {
                    report.obsolete += ctx.store.mark_obsolete(practice.id, &ids, worker, &reason, now).await?;
                    changed = true;
                    continue;
                }
            };
            // Post only while this worker still holds every claim of the group.
            if !ctx.store.extend_lease(&ids, worker, ctx.clock.now().max(now) + settings.lease).await? {
                report.lost += 1;
                continue;
            }
            let nonce = group.iter().min_by_key(|c| c.id).map(|c| c.nonce.clone()).unwrap_or_default();
            match post(delivery, channel, &reply, &nonce, settings).await {
                Ok(message_ids) => {
                    if settings.fault == Some(Fault::AfterPost) {
                        hang("posted, not marked sent").await;
                    }
                    report.messages += 1;
                    report.sent +=
                        ctx.store.mark_sent(practice.id, &ids, worker, &message_ids, ctx.clock.now()).await?;
                    changed = true;
                    posted = true;
                }
                Err(DeliveryError::RateLimited(after)) => {
                    report.rate_limited += 1;
                    let until = now
                        + chrono::Duration::from_std(after).unwrap_or(chrono::Duration::seconds(60))
                        + chrono::Duration::seconds(1);
                    let reason = DeliveryError::RateLimited(after).to_string();
                    report.retried += ctx.store.mark_retry(&ids, worker, until, &reason, true).await?;
                    wait = Some((until, reason));
                }
                Err(DeliveryError::Temporary(e)) => {
                    let attempts = group.iter().map(|c| c.attempts).max().unwrap_or(1);
                    if attempts >= settings.max_attempts {
                        let reason = format!("gave up after {attempts} attempts: {e}");
                        report.failed += ctx.store.mark_failed(practice.id, &ids, worker, &reason, now).await?;
                        changed = true;
                    } else {
                        let next = now + backoff(&group, worker);
                        report.retried += ctx.store.mark_retry(&ids, worker, next, &e, false).await?;
                        wait = Some((next, e));
                    }
                }
                Err(DeliveryError::ChannelRefused(e)) => {
                    tracing::warn!(practice = practice.id, error = %e, "the reminder channel refused a post");
                    report.failed += ctx.store.mark_failed(practice.id, &ids, worker, &e, now).await?;
                    refused = Some(e);
                    changed = true;
                }
                Err(DeliveryError::Rejected(e)) => {
                    tracing::warn!(practice = practice.id, error = %e, "a reminder post was refused");
                    report.failed += ctx.store.mark_failed(practice.id, &ids, worker, &e, now).await?;
                    changed = true;
                }
            }
        }
        if posted && ctx.store.queue_delivery_warning(practice.id, &practice.time_zone, now).await?.is_some() {
            report.warnings_planned += 1;
        }
        if changed {
            plan::replan(ctx, &practice, SCHEDULER_ACTOR).await?;
            report.replanned += 1;
        }
    }
    Ok(report)
}

/// The wait before the next attempt of a group, with jitter.
fn backoff(group: &[Claimed], worker: &str) -> chrono::Duration {
    let first = group.iter().min_by_key(|c| c.id).expect("a group is never empty");
    let d = reminders::retry_delay(first.attempts, reminders::jitter_seed(first.id, first.attempts, worker));
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::minutes(1))
}

/// One post with a deadline; a short 429 is waited out and retried with the same nonce.
async fn post<D: Delivery>(
    delivery: &D,
    channel: &str,
    reply: &Reply,
    nonce: &str,
    settings: &SchedulerSettings,
) -> Result<Vec<String>, DeliveryError> {
    let mut waited = Duration::ZERO;
    loop {
        let result = match tokio::time::timeout(settings.post_timeout, delivery.post(channel, reply, nonce)).await {
            Ok(r) => r,
            Err(_) => Err(DeliveryError::Temporary(format!(
                "no answer within {:.0} seconds",
                settings.post_timeout.as_secs_f64()
            ))),
        };
        match result {
            Err(DeliveryError::RateLimited(after)) if waited + after <= settings.max_inline_wait => {
                tracing::info!(wait_ms = after.as_millis() as u64, "rate limited; waiting before posting again");
                tokio::time::sleep(after).await;
                waited += after;
            }
            other => return other,
        }
    }
}

/// Runs ticks until `stop` turns true: one at once (what fell due while the bot was down), then
/// one every `settings.interval`. A tick in progress finishes before the task returns.
pub async fn run<D: Delivery>(
    ctx: Ctx,
    delivery: Arc<D>,
    settings: SchedulerSettings,
    mut stop: watch::Receiver<bool>,
) {
    // One loop per platform may run in a process; the name says which one holds a claim.
    let worker = format!("{}-{}", worker_id(), delivery.platforms().join("+"));
    tracing::info!(worker = %worker, interval_ms = settings.interval.as_millis() as u64, "reminder scheduler started");
    let mut first = true;
    loop {
        let result = tick_with(&ctx, &delivery, &worker, &settings).await;
        if std::mem::take(&mut first) {
            // What fell due while the bot was down has been handled.
            tracing::info!(sent = result.as_ref().map(|r| r.sent).unwrap_or(0), "first reminder tick done");
        }
        match result {
            Ok(r) if r.claimed > 0 || r.warnings_planned > 0 => tracing::info!(
                claimed = r.claimed,
                messages = r.messages,
                sent = r.sent,
                retried = r.retried,
                failed = r.failed,
                obsolete = r.obsolete,
                "reminder tick"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reminder tick failed; trying again next tick"),
        }
        tokio::select! {
            _ = tokio::time::sleep(settings.interval) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    tracing::info!("reminder scheduler stopped");
}
