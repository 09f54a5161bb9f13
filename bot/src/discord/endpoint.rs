//! The HTTP interactions endpoint: `POST /discord/interactions`.
//!
//! Every request must carry a valid Ed25519 signature of timestamp + body from the
//! application's public key (serenity's `Verifier`) and a timestamp within five minutes;
//! anything else gets 401 before the body is even parsed. PING gets PONG; everything else goes
//! through the same `Discord::handle` as the gateway.

use super::Discord;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serenity::interactions_endpoint::Verifier;
use serenity::model::application::Interaction;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Oldest (or furthest in the future) signature timestamp accepted, against replays.
pub const MAX_SKEW: Duration = Duration::from_secs(300);

pub struct Endpoint {
    discord: Arc<Discord>,
    verifier: Verifier,
}

impl Endpoint {
    /// `public_key` is the application's public key as bytes.
    pub fn new(discord: Arc<Discord>, public_key: [u8; 32]) -> Result<Endpoint, String> {
        let verifier = Verifier::try_new(public_key)
            .map_err(|e| format!("DISCORD_PUBLIC_KEY is not a valid Ed25519 public key: {e}"))?;
        Ok(Endpoint { discord, verifier })
    }

    pub fn discord(&self) -> &Arc<Discord> {
        &self.discord
    }
}

/// Only the type, read before the whole model (a PING has little else).
#[derive(serde::Deserialize)]
struct InteractionKind {
    #[serde(rename = "type")]
    kind: u8,
}

fn unauthorized(why: &'static str) -> Response {
    tracing::info!(reason = why, "rejected an interaction request");
    (StatusCode::UNAUTHORIZED, why).into_response()
}

fn fresh(timestamp: &str, now: SystemTime) -> bool {
    let Ok(secs) = timestamp.trim().parse::<u64>() else { return false };
    let Ok(now) = now.duration_since(UNIX_EPOCH) else { return false };
    now.as_secs().abs_diff(secs) <= MAX_SKEW.as_secs()
}

pub async fn interactions(State(ep): State<Arc<Endpoint>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(signature), Some(timestamp)) = (header("x-signature-ed25519"), header("x-signature-timestamp")) else {
        return unauthorized("missing signature headers");
    };
    if !fresh(timestamp, SystemTime::now()) {
        return unauthorized("stale or malformed signature timestamp");
    }
    if ep.verifier.verify(signature, timestamp, &body).is_err() {
        return unauthorized("invalid request signature");
    }
    let kind: InteractionKind = match serde_json::from_slice(&body) {
        Ok(k) => k,
        Err(_) => return (StatusCode::BAD_REQUEST, "the body is not an interaction").into_response(),
    };
    // PING needs nothing else from the payload.
    if kind.kind == 1 {
        return Json(serde_json::json!({"type": 1})).into_response();
    }
    let interaction: Interaction = match serde_json::from_slice(&body) {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(error = %e, "could not read an interaction payload");
            return (StatusCode::BAD_REQUEST, "not an interaction this bot understands").into_response();
        }
    };
    let handled = ep.discord.handle(interaction).await;
    if let Some(f) = handled.followup {
        ep.discord.spawn_followup(f);
    }
    ([(header::CONTENT_TYPE, "application/json")], handled.response).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_must_be_recent_unix_seconds() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert!(fresh("1800000000", now));
        assert!(fresh("1799999800", now));
        assert!(!fresh("1799999000", now));
        assert!(!fresh("1800001000", now));
        assert!(!fresh("yesterday", now));
        assert!(!fresh("", now));
    }
}
