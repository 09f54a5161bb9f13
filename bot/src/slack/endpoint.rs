//! The Slack endpoints: `POST /slack/commands` (slash commands) and `POST /slack/interactivity`
//! (button presses). Both are form-encoded and signed; a missing, stale or wrong signature gets
//! 401 before the body is parsed. A request already answered (the same signed timestamp and body
//! again, within the signature window) is acknowledged without running again. A `response_url`
//! is used only on Slack's own hooks host (or the origin of a configured `SLACK_API_URL`, the
//! stand-in tests and proxies use); any other is refused and logged.

use super::convert::{InteractionPayload, SlashCommand};
use super::verify::Rejection;
use super::Slack;
use crate::replay::Seen;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// What a request must carry before its body is read (checked by the server).
pub const SIGNATURE_HEADERS: &[&str] = &["x-slack-signature", "x-slack-request-timestamp"];

/// The host Slack's `response_url`s point at.
pub const HOOKS_HOST: &str = "hooks.slack.com";

pub struct SlackEndpoint {
    slack: Arc<Slack>,
    seen: Seen,
    /// `scheme://host[:port]` of the configured API stand-in, trusted for response URLs too.
    api_origin: Option<String>,
}

/// The Slack routes, to merge into the server's router.
pub fn routes(slack: Arc<Slack>) -> Router {
    let base = slack.api().base_url().to_string();
    let api_origin = (base != super::api::DEFAULT_API_URL).then(|| origin(&base)).flatten();
    let state = Arc::new(SlackEndpoint { slack, seen: Seen::default(), api_origin });
    Router::new()
        .route("/slack/commands", post(commands))
        .route("/slack/interactivity", post(interactivity))
        .with_state(state)
}

/// `scheme://host[:port]` of a URL, lower case.
fn origin(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    let host = u.host_str()?.to_ascii_lowercase();
    Some(match u.port() {
        Some(p) => format!("{}://{host}:{p}", u.scheme()),
        None => format!("{}://{host}", u.scheme()),
    })
}

impl SlackEndpoint {
    /// Whether answers may be posted to `url`: HTTPS on Slack's hooks host, or the API stand-in.
    pub fn response_url_allowed(&self, url: &str) -> bool {
        let Some(o) = origin(url) else { return false };
        o == format!("https://{HOOKS_HOST}") || self.api_origin.as_deref() == Some(o.as_str())
    }
}

/// The verified request's key for replays: what Slack signed (timestamp and body).
fn replay_key(headers: &HeaderMap, body: &[u8]) -> String {
    let ts = headers.get("x-slack-request-timestamp").map(|v| v.as_bytes()).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(ts);
    h.update(b":");
    h.update(body);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn check(slack: &Slack, headers: &HeaderMap, body: &[u8]) -> Result<(), Rejection> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    slack.verifier().verify(header("x-slack-request-timestamp"), header("x-slack-signature"), body, slack.now_unix())
}

fn forged_response_url(url: &str) -> Response {
    tracing::warn!(response_url = url, "refused a Slack request whose response_url is not on Slack's hooks host");
    (StatusCode::BAD_REQUEST, "the response_url is not Slack's").into_response()
}

fn unauthorized(r: Rejection) -> Response {
    tracing::info!(reason = r.reason(), "rejected a Slack request");
    (StatusCode::UNAUTHORIZED, r.reason()).into_response()
}

pub async fn commands(State(ep): State<Arc<SlackEndpoint>>, headers: HeaderMap, body: Bytes) -> Response {
    let slack = &ep.slack;
    if let Err(r) = check(slack, &headers, &body) {
        return unauthorized(r);
    }
    let cmd: SlashCommand = match serde_urlencoded::from_bytes(&body) {
        Ok(c) => c,
        Err(_) => return (StatusCode::BAD_REQUEST, "not a slash command form").into_response(),
    };
    if cmd.ssl_check.is_some() {
        return StatusCode::OK.into_response();
    }
    if !cmd.response_url.is_empty() && !ep.response_url_allowed(&cmd.response_url) {
        return forged_response_url(&cmd.response_url);
    }
    if !ep.seen.first(&replay_key(&headers, &body)) {
        tracing::info!(team = %cmd.team_id, "a slash command already answered arrived again; not running it twice");
        return Json(serde_json::json!({"response_type": "ephemeral", "text": "This request was already handled."}))
            .into_response();
    }
    Json(slack.slash_command(cmd).await).into_response()
}

#[derive(Deserialize)]
struct InteractivityForm {
    payload: String,
}

pub async fn interactivity(State(ep): State<Arc<SlackEndpoint>>, headers: HeaderMap, body: Bytes) -> Response {
    let slack = &ep.slack;
    if let Err(r) = check(slack, &headers, &body) {
        return unauthorized(r);
    }
    let Ok(form) = serde_urlencoded::from_bytes::<InteractivityForm>(&body) else {
        return (StatusCode::BAD_REQUEST, "the form has no payload").into_response();
    };
    let payload: InteractionPayload = match serde_json::from_str(&form.payload) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "could not read a Slack interaction payload");
            return (StatusCode::BAD_REQUEST, "not an interaction payload raterise understands").into_response();
        }
    };
    if let Some(url) = payload.response_url.as_deref().filter(|u| !u.is_empty()) {
        if !ep.response_url_allowed(url) {
            return forged_response_url(url);
        }
    }
    if !ep.seen.first(&replay_key(&headers, &body)) {
        tracing::info!("a button press already answered arrived again; not running it twice");
        return StatusCode::OK.into_response();
    }
    slack.button(payload);
    // Slack only needs the acknowledgement; the answer goes to the payload's response_url.
    StatusCode::OK.into_response()
}
