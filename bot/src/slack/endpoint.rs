//! The Slack endpoints: `POST /slack/commands` (slash commands) and `POST /slack/interactivity`
//! (button presses). Both are form-encoded and signed; a missing, stale or wrong signature gets
//! 401 before the body is parsed.

use super::convert::{InteractionPayload, SlashCommand};
use super::verify::Rejection;
use super::Slack;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use std::sync::Arc;

/// The Slack routes, to merge into the server's router.
pub fn routes(slack: Arc<Slack>) -> Router {
    Router::new()
        .route("/slack/commands", post(commands))
        .route("/slack/interactivity", post(interactivity))
        .with_state(slack)
}

fn check(slack: &Slack, headers: &HeaderMap, body: &[u8]) -> Result<(), Rejection> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    slack.verifier().verify(header("x-slack-request-timestamp"), header("x-slack-signature"), body, slack.now_unix())
}

fn unauthorized(r: Rejection) -> Response {
    tracing::info!(reason = r.reason(), "rejected a Slack request");
    (StatusCode::UNAUTHORIZED, r.reason()).into_response()
}

pub async fn commands(State(slack): State<Arc<Slack>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = check(&slack, &headers, &body) {
        return unauthorized(r);
    }
    let cmd: SlashCommand = match serde_urlencoded::from_bytes(&body) {
        Ok(c) => c,
        Err(_) => return (StatusCode::BAD_REQUEST, "not a slash command form").into_response(),
    };
    if cmd.ssl_check.is_some() {
        return StatusCode::OK.into_response();
    }
    Json(slack.slash_command(cmd).await).into_response()
}

#[derive(Deserialize)]
struct InteractivityForm {
    payload: String,
}

pub async fn interactivity(State(slack): State<Arc<Slack>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = check(&slack, &headers, &body) {
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
    slack.button(payload);
    // Slack only needs the acknowledgement; the answer goes to the payload's response_url.
    StatusCode::OK.into_response()
}
