//! The HTTP interactions endpoint: `POST /discord/interactions`.
//!
//! Every request must carry a valid Ed25519 signature of timestamp + body from the
//! application's public key (serenity's `Verifier`) and a timestamp within five minutes;
//! anything else gets 401 before the body is even parsed. PING gets PONG; everything else goes
//! through the same `Discord::handle` as the gateway. An interaction already answered (the same
//! id again, within the signature window) is answered without running its command again.

use super::Discord;
use crate::replay::Seen;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serenity::interactions_endpoint::Verifier;
use serenity::model::application::{CommandInteraction, ComponentInteraction, Interaction, ModalInteraction};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Oldest (or furthest in the future) signature timestamp accepted, against replays.
pub const MAX_SKEW: Duration = Duration::from_secs(300);

/// What a request must carry before its body is read (checked by the server).
pub const SIGNATURE_HEADERS: &[&str] = &["x-signature-ed25519", "x-signature-timestamp"];

pub struct Endpoint {
    discord: Arc<Discord>,
    verifier: Verifier,
    seen: Seen,
}

impl Endpoint {
    /// `public_key` is the application's public key as bytes.
    pub fn new(discord: Arc<Discord>, public_key: [u8; 32]) -> Result<Endpoint, String> {
        let verifier = Verifier::try_new(public_key)
            .map_err(|e| format!("DISCORD_PUBLIC_KEY is not a valid Ed25519 public key: {e}"))?;
        Ok(Endpoint { discord, verifier, seen: Seen::default() })
    }

    pub fn discord(&self) -> &Arc<Discord> {
        &self.discord
    }
}

/// Only the type and id, read before the whole model (a PING has little else).
#[derive(serde::Deserialize)]
struct InteractionKind {
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    id: Option<String>,
}

/// The interaction in serenity's model, read straight from the body. serenity's own
/// `Interaction` deserializer first builds a JSON map to find the type; the type is known here,
/// so each kind goes directly to its model (the same models, with the same fix-ups).
pub fn interaction_of(kind: u8, body: &[u8]) -> serde_json::Result<Interaction> {
    Ok(match kind {
        2 => Interaction::Command(serde_json::from_slice::<CommandInteraction>(body)?),
        3 => Interaction::Component(serde_json::from_slice::<ComponentInteraction>(body)?),
        4 => Interaction::Autocomplete(serde_json::from_slice::<CommandInteraction>(body)?),
        5 => Interaction::Modal(serde_json::from_slice::<ModalInteraction>(body)?),
        // PING and kinds Discord may add: serenity decides (and refuses what it does not know).
        _ => serde_json::from_slice::<Interaction>(body)?,
    })
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
    // A replay carries the same signature, so it passed the checks above: answer, do not run.
    let id = kind.id.as_deref().unwrap_or_default();
    if id.is_empty() {
        return (StatusCode::BAD_REQUEST, "the interaction has no id").into_response();
    }
    if !ep.seen.first(id) {
        tracing::info!(interaction = id, "an interaction already answered arrived again; not running it twice");
        return Json(serde_json::json!({
            "type": 4,
            "data": {"content": "This request was already handled.", "flags": 64}
        }))
        .into_response();
    }
    let interaction = match interaction_of(kind.kind, &body) {
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
    use serde_json::json;

    fn payload(kind: u8, data: serde_json::Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "id": "1290000000000000001", "application_id": "1200000000000000000", "type": kind,
            "token": "dGVzdA", "version": 1, "guild_id": "1000000000000000001", "guild_locale": "en-US",
            "channel_id": "1100000000000000009", "channel": {"id": "1100000000000000009", "type": 0, "name": "rates"},
            "app_permissions": "2248473465835073", "locale": "en-US", "entitlements": [], "context": 0,
            "authorizing_integration_owners": {"0": "1000000000000000001"}, "attachment_size_limit": 10485760,
            "member": {
                "user": {"id": "80351110224678913", "username": "dana", "global_name": "Dana", "discriminator": "0", "avatar": null},
                "roles": ["1400000000000000002"], "permissions": "32", "nick": null, "avatar": null,
                "joined_at": "2024-03-01T12:00:00.000000+00:00", "deaf": false, "mute": false, "flags": 0, "pending": false
            },
            "message": {"id": "1500000000000000001", "channel_id": "1100000000000000009", "type": 0, "content": "",
                        "author": {"id": "1200000000000000000", "username": "raterise", "discriminator": "0", "avatar": null, "bot": true},
                        "timestamp": "2026-11-27T15:00:00.000000+00:00", "edited_timestamp": null, "tts": false,
                        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
                        "pinned": false, "components": []},
            "data": data
        }))
        .unwrap()
    }

    #[test]
    fn each_kind_reads_as_serenitys_own_deserializer_reads_it() {
        let command = json!({"id": "1300000000000000001", "name": "rates", "type": 1,
                             "options": [{"name": "payer", "type": 3, "value": "Cigna"}]});
        let autocomplete = json!({"id": "1300000000000000001", "name": "rate", "type": 1, "options": [
            {"name": "set", "type": 1, "options": [{"name": "cpt", "type": 3, "value": "908", "focused": true}]}]});
        let button = json!({"custom_id": "/rate history payer:Cigna", "component_type": 2});
        for (kind, data) in [(2, command), (4, autocomplete), (3, button)] {
            let body = payload(kind, data);
            let direct = serde_json::to_value(interaction_of(kind, &body).unwrap()).unwrap();
            let serenity = serde_json::to_value(serde_json::from_slice::<Interaction>(&body).unwrap()).unwrap();
            assert_eq!(direct, serenity, "kind {kind}");
            // The guild fix-up happened: the member's user is the interaction's user.
            assert_eq!(direct["member"]["user"]["id"], "80351110224678913", "kind {kind}");
        }
        let ping = br#"{"id": "1", "application_id": "2", "type": 1, "token": "t", "version": 1}"#;
        assert!(matches!(interaction_of(1, ping), Ok(Interaction::Ping(_))));
        assert!(interaction_of(2, b"{\"type\": 2}").is_err(), "a command without its fields is refused");
    }

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
