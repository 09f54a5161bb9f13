//! Posts a `Reply` into a channel (reminders): every message carries a nonce with
//! `enforce_nonce`, so a post retried after a crash or a timeout is not shown twice.

use super::render::{render, Page};
use super::rest::{Body, FilePart, Rest, RestError};
use raterise_commands::reply::Reply;
use serenity::http::{LightMethod, Route};
use serenity::model::id::{ChannelId, MessageId};
use serenity::model::prelude::Nonce;

/// Discord accepts nonces of at most 25 characters.
pub const NONCE_LIMIT: usize = 25;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PostError {
    #[error("{0}")]
    Rest(#[from] RestError),
    #[error("the nonce must be 1 to {NONCE_LIMIT} characters (letters, digits, - and _)")]
    BadNonce,
    #[error("`{0}` is not a Discord channel id")]
    BadChannel(String),
}

impl PostError {
    /// Worth trying again later with the same nonce.
    pub fn is_retryable(&self) -> bool {
        matches!(self, PostError::Rest(e) if e.is_retryable())
    }
}

#[derive(serde::Deserialize)]
struct Created {
    id: MessageId,
}

#[derive(Debug, Clone)]
pub struct Poster {
    rest: Rest,
}

/// The nonce of each message of a reply: the base for the first, `base.N` for the others, so
/// every retry of the same reply reuses the same nonces.
pub fn page_nonce(base: &str, page: usize) -> String {
    if page == 0 {
        base.to_string()
    } else {
        let suffix = format!(".{page}");
        let keep: String = base.chars().take(NONCE_LIMIT - suffix.len()).collect();
        format!("{keep}{suffix}")
    }
}

pub fn channel_body(page: &Page, nonce: &str) -> serenity::builder::CreateMessage {
    page.channel_message().nonce(Nonce::String(nonce.to_string())).enforce_nonce(true)
}

impl Poster {
    pub fn new(rest: Rest) -> Poster {
        Poster { rest }
    }

    /// Posts every message of the reply; returns their ids. `nonce` identifies this delivery
    /// (e.g. the reminder id and attempt window) and must stay the same across retries.
    pub async fn post(&self, channel_id: &str, reply: &Reply, nonce: &str) -> Result<Vec<MessageId>, PostError> {
        if nonce.is_empty()
            || nonce.chars().count() > NONCE_LIMIT
            || !nonce.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        {
            return Err(PostError::BadNonce);
        }
        let channel = channel_id
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .map(ChannelId::new)
            .ok_or_else(|| PostError::BadChannel(channel_id.to_string()))?;
        let rendered = render(reply);
        let mut ids = Vec::new();
        for (i, page) in rendered.pages.iter().enumerate() {
            let files: Vec<FilePart> = if i == 0 {
                rendered
                    .files
                    .iter()
                    .map(|f| FilePart {
                        filename: f.filename.clone(),
                        content_type: f.content_type.clone(),
                        data: f.data(),
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let body = Body::with_files(&channel_body(page, &page_nonce(nonce, i)), files);
            let response =
                self.rest.send(Route::ChannelMessages { channel_id: channel }, LightMethod::Post, body).await?;
            // Only the id matters here; a partial body is not worth failing a delivered post for.
            if let Ok(created) = response.json::<Created>().await {
                ids.push(created.id);
            }
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_nonces_stay_within_the_limit() {
        assert_eq!(page_nonce("rem-42-1", 0), "rem-42-1");
        assert_eq!(page_nonce("rem-42-1", 2), "rem-42-1.2");
        let long = "r".repeat(25);
        assert_eq!(page_nonce(&long, 3).len(), NONCE_LIMIT);
    }

    #[test]
    fn channel_bodies_enforce_the_nonce() {
        let r = render(&Reply::new("Follow up with Cigna").text("It has been 14 days."));
        let json = serde_json::to_value(channel_body(&r.pages[0], "rem-7")).unwrap();
        assert_eq!(json["nonce"], "rem-7");
        assert_eq!(json["enforce_nonce"], true);
    }
}
