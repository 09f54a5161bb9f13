//! Reminders into Slack channels: the scheduler's [`Delivery`] for practices set up in Slack.
//!
//! A reminder is rendered with the same Block Kit renderer as answers (one or more messages within
//! Slack's limits), each message goes out with chat.postMessage into the practice's reminder
//! channel, then the reply's files (the drafted email) are uploaded into that channel.
//!
//! Duplicates: chat.postMessage has no nonce or idempotency key, so nothing on Slack's side can
//! recognise a repeated post. What keeps repeats away is the scheduler: a reminder is marked sent
//! only after this delivery returned, and only by the worker holding its claim. Within one
//! process, a delivery that failed part way (message 1 accepted, message 2 or the upload not) is
//! remembered by its nonce, so the retry continues where it stopped instead of posting message 1
//! again. Two cases can still show a post twice: the process dies after Slack accepted a post but
//! before the reminder is marked sent (the claim expires and the reminder is posted again), and a
//! call that Slack accepted but whose answer was lost (a timeout) is retried as if it had failed.
//!
//! Pacing: chat.postMessage allows about one message per second per channel (short bursts
//! aside), so each channel waits `pace` between posts. The scheduler already serialises the
//! posts to one channel and serves a few channels at once.

use super::api::{ApiError, SlackApi};
use super::convert::MAIN_COMMAND;
use super::render::render;
use crate::scheduler::{Delivery, DeliveryError};
use raterise_commands::reply::Reply;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Slack's guidance for chat.postMessage: one message per second per channel.
pub const DEFAULT_PACE: Duration = Duration::from_secs(1);

/// Partial deliveries remembered at most; past this the memory is emptied (a retry of a
/// forgotten one posts its first messages again, which is the documented worst case anyway).
const PROGRESS_LIMIT: usize = 1024;

/// How far a delivery got before it failed: the messages Slack accepted and the files uploaded.
#[derive(Debug, Clone, Default)]
struct Progress {
    posted: Vec<String>,
    files_done: usize,
}

pub struct SlackDelivery {
    api: SlackApi,
    pace: Duration,
    /// Per channel: the earliest instant the next post may go out.
    next_slot: Mutex<HashMap<String, Instant>>,
    progress: Mutex<HashMap<String, Progress>>,
}

impl SlackDelivery {
    pub fn new(api: SlackApi) -> SlackDelivery {
        SlackDelivery {
            api,
            pace: DEFAULT_PACE,
            next_slot: Mutex::new(HashMap::new()),
            progress: Mutex::new(HashMap::new()),
        }
    }

    /// Changes the wait between two posts into one channel (tests use a few milliseconds).
    pub fn with_pace(mut self, pace: Duration) -> SlackDelivery {
        self.pace = pace;
        self
    }

    /// Waits for this channel's next slot and books the one after it.
    async fn wait_turn(&self, channel: &str) {
        let until = {
            let mut slots = self.next_slot.lock().await;
            let now = Instant::now();
            if slots.len() > PROGRESS_LIMIT {
                // Slots in the past no longer hold anyone back.
                slots.retain(|_, at| *at > now);
            }
            let slot = slots.get(channel).copied().unwrap_or(now).max(now);
            slots.insert(channel.to_string(), slot + self.pace);
            slot
        };
        tokio::time::sleep_until(until).await;
    }

    async fn remember(&self, nonce: &str, progress: &Progress) {
        let mut all = self.progress.lock().await;
        if all.len() >= PROGRESS_LIMIT && !all.contains_key(nonce) {
            all.clear();
        }
        all.insert(nonce.to_string(), progress.clone());
    }
}

/// Slack's answer in the scheduler's terms. A refusal that concerns the channel or the app's
/// access stops that practice's reminders, with what the practice can do about it.
pub fn classify(e: ApiError) -> DeliveryError {
    let setup = format!("/{MAIN_COMMAND} setup channel:#channel");
    match e {
        ApiError::RateLimited { retry_after } => DeliveryError::RateLimited(retry_after),
        ApiError::Retryable { .. } => DeliveryError::Temporary(e.to_string()),
        ApiError::NoToken => DeliveryError::ChannelRefused(format!(
            "{e}; the deployment sets SLACK_BOT_TOKEN so reminders can be posted"
        )),
        ApiError::Permanent { ref error, .. } => {
            let what = match error.as_str() {
                "channel_not_found" => format!(
                    "Slack cannot find the reminder channel (channel_not_found); choose it again with {setup}"
                ),
                "not_in_channel" => format!(
                    "raterise is not a member of the reminder channel (not_in_channel); invite it there with /invite @raterise, or choose another channel with {setup}"
                ),
                "is_archived" => format!(
                    "the reminder channel is archived (is_archived); unarchive it or choose another with {setup}"
                ),
                "invalid_auth" | "account_inactive" | "token_revoked" | "not_authed" => format!(
                    "Slack no longer accepts raterise's bot token ({error}); a workspace admin reinstalls the app and the deployment sets the new SLACK_BOT_TOKEN"
                ),
                "missing_scope" => "the Slack app lacks a permission it needs (missing_scope); add the bot scopes chat:write and files:write under OAuth & Permissions and reinstall the app".to_string(),
                _ => return DeliveryError::Rejected(e.to_string()),
            };
            DeliveryError::ChannelRefused(what)
        }
    }
}

impl Delivery for SlackDelivery {
    fn platforms(&self) -> &[&'static str] {
        &["slack"]
    }

    async fn post(&self, channel_id: &str, reply: &Reply, nonce: &str) -> Result<Vec<String>, DeliveryError> {
        let channel = channel_id.trim();
        if channel.is_empty() {
            return Err(DeliveryError::ChannelRefused(format!(
                "no reminder channel is set; choose one with /{MAIN_COMMAND} setup channel:#channel"
            )));
        }
        let rendered = render(reply);
        // Progress is saved after every step, so a retry continues even when the scheduler's
        // deadline dropped this call half way.
        let mut done = self.progress.lock().await.get(nonce).cloned().unwrap_or_default();
        for message in rendered.messages.iter().skip(done.posted.len()) {
            self.wait_turn(channel).await;
            let posted = self.api.post_message(channel, &message.text, &message.blocks).await.map_err(classify)?;
            done.posted.push(posted.ts);
            self.remember(nonce, &done).await;
        }
        for f in rendered.files.iter().skip(done.files_done) {
            let comment = format!("{}: the drafted text for this reminder", f.filename);
            self.api.upload_file(channel, &f.filename, &f.data(), &comment).await.map_err(classify)?;
            done.files_done += 1;
            self.remember(nonce, &done).await;
        }
        self.progress.lock().await.remove(nonce);
        Ok(done.posted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: &str) -> DeliveryError {
        classify(ApiError::Permanent { status: 200, error: code.into() })
    }

    #[test]
    fn errors_map_to_what_the_scheduler_does() {
        let d = Duration::from_secs(3);
        assert_eq!(classify(ApiError::RateLimited { retry_after: d }), DeliveryError::RateLimited(d));
        assert!(matches!(
            classify(ApiError::Retryable { status: Some(503), reason: "HTTP 503".into() }),
            DeliveryError::Temporary(_)
        ));
        for code in [
            "channel_not_found",
            "not_in_channel",
            "is_archived",
            "invalid_auth",
            "account_inactive",
            "token_revoked",
            "missing_scope",
        ] {
            let DeliveryError::ChannelRefused(m) = refused(code) else { panic!("{code} should refuse the channel") };
            assert!(m.contains(code), "{m}");
        }
        assert!(matches!(refused("invalid_blocks"), DeliveryError::Rejected(_)));
        let DeliveryError::ChannelRefused(m) = refused("not_in_channel") else { unreachable!() };
        assert!(m.contains("/invite @raterise"), "{m}");
    }

    #[tokio::test]
    async fn posts_to_one_channel_are_paced_and_other_channels_are_not_held_up() {
        let pace = Duration::from_millis(60);
        let d = SlackDelivery::new(SlackApi::new(None, None)).with_pace(pace);
        let start = Instant::now();
        d.wait_turn("C1").await;
        d.wait_turn("C2").await;
        assert!(start.elapsed() < pace, "{:?}", start.elapsed());
        d.wait_turn("C1").await;
        assert!(start.elapsed() >= pace, "{:?}", start.elapsed());
    }
}
