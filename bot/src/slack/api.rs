//! A small Slack Web API client: chat.postMessage, the three-step file upload
//! (files.getUploadURLExternal, the upload itself, files.completeUploadExternal),
//! conversations.open for a direct message, and posts to a command's `response_url`.
//!
//! Web API calls are form-encoded (`blocks` and `files` as JSON strings, as the methods document
//! them) with the bot token as a Bearer header. The base URL is configurable (`SLACK_API_URL`)
//! for a local fake. Tokens, the signing secret and response URLs (which authorise posting) are
//! never logged or put into an error.

use serde_json::Value;
use std::time::Duration;

pub const DEFAULT_API_URL: &str = "https://slack.com/api";
/// How long one call may take before it counts as a retryable failure.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// Used when a 429 carries no usable Retry-After.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Why a call failed, in the terms a caller decides on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 429 (or `ratelimited`): wait this long, then try again.
    #[error("rate limited by Slack; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// 5xx, a timeout, a connection failure or Slack's own `internal_error`: may work later.
    #[error("temporary Slack failure ({}): {reason}", status.map(|s| s.to_string()).unwrap_or_else(|| "no response".into()))]
    Retryable { status: Option<u16>, reason: String },
    /// Slack refused the call for good: `channel_not_found`, `not_in_channel`, `invalid_auth`,
    /// `missing_scope`, a 4xx... Retrying the same call will not help.
    #[error("refused by Slack: {error}")]
    Permanent { status: u16, error: String },
    /// The deployment has no SLACK_BOT_TOKEN, so Web API calls cannot be made.
    #[error("no Slack bot token is configured (SLACK_BOT_TOKEN)")]
    NoToken,
}

impl ApiError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, ApiError::RateLimited { .. } | ApiError::Retryable { .. })
    }

    /// Slack's error code for a permanent failure (`channel_not_found`, ...).
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Permanent { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// Slack's `ok: false` codes that are worth retrying.
fn retryable_code(code: &str) -> bool {
    matches!(code, "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout")
}

/// Where a posted message landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub channel: String,
    pub ts: String,
}

#[derive(Clone)]
pub struct SlackApi {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl std::fmt::Debug for SlackApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackApi")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

fn parse_retry_after(headers: &reqwest::header::HeaderMap) -> Duration {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(3600.0)))
        .unwrap_or(DEFAULT_RETRY_AFTER)
}

fn transport(e: reqwest::Error) -> ApiError {
    // Without the URL: response URLs and upload URLs authorise by themselves.
    let reason = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "could not connect".to_string()
    } else {
        e.without_url().to_string()
    };
    ApiError::Retryable { status: None, reason }
}

/// Reads a response: HTTP status first, then Slack's `ok`/`error` envelope when `envelope`.
async fn read(resp: reqwest::Response, envelope: bool) -> Result<Value, ApiError> {
    let status = resp.status().as_u16();
    if status == 429 {
        return Err(ApiError::RateLimited { retry_after: parse_retry_after(resp.headers()) });
    }
    let text = resp.text().await.map_err(transport)?;
    if status >= 500 {
        return Err(ApiError::Retryable { status: Some(status), reason: format!("HTTP {status}") });
    }
    if status >= 400 {
        let error = text.trim().chars().take(200).collect::<String>();
        return Err(ApiError::Permanent {
            status,
            error: if error.is_empty() { format!("HTTP {status}") } else { error },
        });
    }
    if !envelope {
        return Ok(Value::Null);
    }
    let value: Value = serde_json::from_str(&text)
        .map_err(|_| ApiError::Retryable { status: Some(status), reason: "the answer is not JSON".into() })?;
    if value.get("ok").and_then(Value::as_bool) == Some(true) {
        return Ok(value);
    }
    let code = value.get("error").and_then(Value::as_str).unwrap_or("unknown_error").to_string();
    if code == "ratelimited" || code == "rate_limited" {
        return Err(ApiError::RateLimited { retry_after: DEFAULT_RETRY_AFTER });
    }
    if retryable_code(&code) {
        return Err(ApiError::Retryable { status: Some(status), reason: code });
    }
    Err(ApiError::Permanent { status, error: code })
}

/// The form fields of a chat.postMessage call: `channel`, `text` and `blocks` (a JSON string).
pub fn post_message_form(channel: &str, text: &str, blocks: &[Value]) -> Vec<(String, String)> {
    let mut form = vec![("channel".to_string(), channel.to_string()), ("text".to_string(), text.to_string())];
    if !blocks.is_empty() {
        form.push(("blocks".to_string(), Value::Array(blocks.to_vec()).to_string()));
    }
    form
}

impl SlackApi {
    pub fn new(token: Option<&str>, base_url: Option<&str>) -> SlackApi {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        SlackApi {
            client,
            base: base_url.unwrap_or(DEFAULT_API_URL).trim_end_matches('/').to_string(),
            token: token.map(str::trim).filter(|t| !t.is_empty()).map(String::from),
        }
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    async fn call(&self, method: &str, form: &[(String, String)]) -> Result<Value, ApiError> {
        let token = self.token.as_deref().ok_or(ApiError::NoToken)?;
        let resp = self
            .client
            .post(format!("{}/{method}", self.base))
            .bearer_auth(token)
            .form(form)
            .send()
            .await
            .map_err(transport)?;
        read(resp, true).await
    }

    /// chat.postMessage into a channel (reminders, and a direct message by its channel id).
    pub async fn post_message(&self, channel: &str, text: &str, blocks: &[Value]) -> Result<Posted, ApiError> {
        let v = self.call("chat.postMessage", &post_message_form(channel, text, blocks)).await?;
        Ok(Posted {
            channel: v.get("channel").and_then(Value::as_str).unwrap_or(channel).to_string(),
            ts: v.get("ts").and_then(Value::as_str).unwrap_or_default().to_string(),
        })
    }

    /// team.info: the workspace's name (needs the `team:read` scope; without it Slack answers
    /// `missing_scope` and the practice keeps its id name until `/setup name:`).
    pub async fn team_name(&self, team_id: &str) -> Result<String, ApiError> {
        let v = self.call("team.info", &[("team".into(), team_id.to_string())]).await?;
        v.pointer("/team/name")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| ApiError::Retryable { status: None, reason: "team.info gave no name".into() })
    }

    /// conversations.open: the id of the bot's direct-message channel with a user (needs `im:write`).
    pub async fn open_dm(&self, user_id: &str) -> Result<String, ApiError> {
        let v = self.call("conversations.open", &[("users".into(), user_id.to_string())]).await?;
        v.pointer("/channel/id")
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| ApiError::Retryable { status: None, reason: "conversations.open gave no channel".into() })
    }

    /// Uploads a file and shares it into `channel` with a comment; returns the file id.
    pub async fn upload_file(
        &self,
        channel: &str,
        filename: &str,
        content: &[u8],
        comment: &str,
    ) -> Result<String, ApiError> {
        let v = self
            .call(
                "files.getUploadURLExternal",
                &[("filename".into(), filename.to_string()), ("length".into(), content.len().to_string())],
            )
            .await?;
        let (Some(url), Some(file_id)) =
            (v.get("upload_url").and_then(Value::as_str), v.get("file_id").and_then(Value::as_str))
        else {
            return Err(ApiError::Retryable {
                status: None,
                reason: "files.getUploadURLExternal gave no upload URL".into(),
            });
        };
        let resp = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(content.to_vec())
            .send()
            .await
            .map_err(transport)?;
        read(resp, false).await?;
        let files = serde_json::json!([{"id": file_id, "title": filename}]).to_string();
        self.call(
            "files.completeUploadExternal",
            &[
                ("files".into(), files),
                ("channel_id".into(), channel.to_string()),
                ("initial_comment".into(), comment.to_string()),
            ],
        )
        .await?;
        Ok(file_id.to_string())
    }

    /// Posts a message body to a command's or a button's `response_url` (no token needed).
    pub async fn respond(&self, response_url: &str, body: &Value) -> Result<(), ApiError> {
        let resp = self.client.post(response_url).json(body).send().await.map_err(transport)?;
        read(resp, false).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_say_whether_to_retry() {
        assert!(ApiError::RateLimited { retry_after: Duration::from_secs(1) }.is_retryable());
        assert!(ApiError::Retryable { status: Some(503), reason: "x".into() }.is_retryable());
        let p = ApiError::Permanent { status: 200, error: "channel_not_found".into() };
        assert!(!p.is_retryable());
        assert_eq!(p.code(), Some("channel_not_found"));
        assert!(!ApiError::NoToken.is_retryable());
        assert!(retryable_code("internal_error") && !retryable_code("not_in_channel"));
    }

    #[test]
    fn debug_hides_the_token() {
        let api = SlackApi::new(Some("xoxb-very-secret"), Some("http://127.0.0.1:9/"));
        let shown = format!("{api:?}");
        assert!(!shown.contains("xoxb-very-secret") && shown.contains("<set>"));
        assert_eq!(api.base_url(), "http://127.0.0.1:9");
        assert!(!SlackApi::new(Some("  "), None).has_token());
    }

    #[test]
    fn post_message_sends_blocks_as_a_json_string() {
        let form = post_message_form("C1", "hi", &[serde_json::json!({"type": "divider"})]);
        assert_eq!(form[2], ("blocks".to_string(), "[{\"type\":\"divider\"}]".to_string()));
        assert_eq!(post_message_form("C1", "hi", &[]).len(), 2);
    }
}
