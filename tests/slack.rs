//! Helpers for the Slack tests: a fake Slack (Web API, file upload URL and response URLs on one
//! local server that records every request), HMAC signing as Slack does it, real-shaped
//! slash-command and interactivity bodies, and a chat.postMessage schema taken from Slack's
//! Web API spec.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

pub const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
pub const BOT_TOKEN: &str = "xoxb-test-0000-not-a-real-token";
/// The instant the tests pin the bot's clock to (RATERISE_NOW), and its Unix seconds.
pub const NOW: &str = "2026-11-27T15:00:00Z";
pub const NOW_UNIX: i64 = 1_795_791_600;

// ---------------------------------------------------------------------------------------------
// The fake Slack

#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    /// Whether the fake accepted the call (2xx, and `ok` not false in a JSON answer).
    pub accepted: bool,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{} body is not JSON ({e}): {}", self.path, String::from_utf8_lossy(&self.body)))
    }

    /// A form-encoded body as field -> value.
    pub fn form(&self) -> HashMap<String, String> {
        assert!(
            self.header("content-type").is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")),
            "{} is not form-encoded: {:?}",
            self.path,
            self.header("content-type")
        );
        serde_urlencoded::from_bytes(&self.body).expect("form body")
    }
}

#[derive(Debug, Clone)]
struct Scripted {
    path_contains: String,
    /// Matching requests to let through (default answer) before this one applies.
    skip: usize,
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

#[derive(Default)]
struct FakeState {
    requests: Mutex<Vec<Recorded>>,
    scripted: Mutex<VecDeque<Scripted>>,
    ids: AtomicU64,
    url: OnceLock<String>,
    /// Channel id -> Slack error code: every Web API call naming that channel is refused.
    refused: Mutex<HashMap<String, String>>,
    /// Team id -> the workspace's name, for team.info (other teams: `missing_scope`, as for a
    /// bot installed without `team:read`).
    teams: Mutex<HashMap<String, String>>,
}

/// team.info's answer for a workspace, in the shape the spec gives (`objs_team`).
pub fn team_info_body(team_id: &str, name: &str) -> Value {
    json!({"ok": true, "team": {
        "id": team_id, "name": name, "domain": "sunrise-therapy", "email_domain": "",
        "icon": {"image_default": true, "image_34": "https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-34.png"}
    }})
}

pub struct FakeSlack {
    /// Root of the fake, e.g. http://127.0.0.1:40123.
    pub url: String,
    state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Realistic success answers for the methods raterise calls.
fn default_answer(state: &FakeState, path: &str, body: &[u8]) -> Response {
    let n = state.ids.fetch_add(1, Ordering::SeqCst);
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let ok = |v: Value| (StatusCode::OK, axum::Json(v)).into_response();
    let base = state.url.get().cloned().unwrap_or_default();
    match path {
        "/api/chat.postMessage" => ok(json!({
            "ok": true, "channel": form.get("channel").cloned().unwrap_or_default(), "ts": format!("1795791600.{n:06}"),
            "message": {"type": "message", "subtype": "bot_message", "text": form.get("text").cloned().unwrap_or_default(),
                        "ts": format!("1795791600.{n:06}"), "bot_id": "B0TEST", "username": "raterise"}
        })),
        "/api/conversations.open" => ok(json!({"ok": true, "channel": {"id": format!("D0DM{n}")}})),
        "/api/files.getUploadURLExternal" => ok(json!({
            "ok": true, "upload_url": format!("{base}/upload/v1/F0FILE{n}"), "file_id": format!("F0FILE{n}")
        })),
        "/api/files.completeUploadExternal" => ok(json!({"ok": true, "files": [{"id": "F0", "title": "x"}]})),
        "/api/team.info" => {
            let team = form.get("team").cloned().unwrap_or_default();
            match state.teams.lock().unwrap().get(&team) {
                Some(name) => ok(team_info_body(&team, name)),
                None => ok(
                    json!({"ok": false, "error": "missing_scope", "needed": "team:read", "provided": "commands,chat:write"}),
                ),
            }
        }
        p if p.starts_with("/upload/") => (StatusCode::OK, "OK - 1234").into_response(),
        p if p.starts_with("/response/") => (StatusCode::OK, "ok").into_response(),
        _ => ok(json!({"ok": false, "error": "unknown_method"})),
    }
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let state = Arc::new(FakeState::default());
        let shared = state.clone();
        let app = Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = shared.clone();
            async move {
                let path = uri.path().to_string();
                let headers: HashMap<String, String> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or("").to_string()))
                    .collect();
                let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
                let refusal = {
                    let refused = state.refused.lock().unwrap();
                    ["channel", "channel_id"].iter().find_map(|k| form.get(*k).and_then(|c| refused.get(c)).cloned())
                };
                let record = |accepted: bool| {
                    state.requests.lock().unwrap().push(Recorded {
                        method: method.to_string(),
                        path: path.clone(),
                        headers: headers.clone(),
                        body: body.to_vec(),
                        accepted,
                    });
                };
                if let Some(error) = refusal {
                    record(false);
                    return (StatusCode::OK, axum::Json(json!({"ok": false, "error": error}))).into_response();
                }
                let scripted = {
                    let mut q = state.scripted.lock().unwrap();
                    let pos = q.iter().position(|s| path.contains(&s.path_contains));
                    match pos {
                        Some(i) if q[i].skip > 0 => {
                            q[i].skip -= 1;
                            None
                        }
                        Some(i) => q.remove(i),
                        None => None,
                    }
                };
                match scripted {
                    Some(s) => {
                        record(s.status < 300 && s.body.get("ok") != Some(&Value::Bool(false)));
                        let mut r = (StatusCode::from_u16(s.status).unwrap(), axum::Json(s.body)).into_response();
                        for (k, v) in s.headers {
                            r.headers_mut().insert(
                                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                                axum::http::HeaderValue::from_str(&v).unwrap(),
                            );
                        }
                        r
                    }
                    None => {
                        record(true);
                        default_answer(&state, &path, &body)
                    }
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake Slack");
        let url = format!("http://{}", listener.local_addr().unwrap());
        state.url.set(url.clone()).unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake Slack serves");
        });
        FakeSlack { url, state, task }
    }

    /// team.info answers with this name for the team.
    pub fn name_team(&self, team_id: &str, name: &str) {
        self.state.teams.lock().unwrap().insert(team_id.to_string(), name.to_string());
    }

    /// For SLACK_API_URL.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.url)
    }

    /// A response_url on the fake for one command.
    pub fn response_url(&self, tag: &str) -> String {
        format!("{}/response/{tag}", self.url)
    }

    pub fn script(&self, path_contains: &str, status: u16, headers: &[(&str, &str)], body: Value) {
        self.script_after(0, path_contains, status, headers, body);
    }

    /// Like [`FakeSlack::script`], for the matching request after `skip` others were answered.
    pub fn script_after(&self, skip: usize, path_contains: &str, status: u16, headers: &[(&str, &str)], body: Value) {
        self.state.scripted.lock().unwrap().push_back(Scripted {
            skip,
            path_contains: path_contains.to_string(),
            status,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body,
        });
    }

    /// From now on every call naming `channel` (chat.postMessage's `channel`, an upload's
    /// `channel_id`) is answered `{"ok": false, "error": error}`, as Slack does for a deleted
    /// channel or one the app is not in.
    pub fn refuse_channel(&self, channel: &str, error: &str) {
        self.state.refused.lock().unwrap().insert(channel.to_string(), error.to_string());
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Waits (up to `limit`) until `n` requests match.
    pub async fn wait_for(&self, n: usize, limit: Duration, pred: impl Fn(&Recorded) -> bool) -> Vec<Recorded> {
        crate::wait_until_count(n, limit, || self.requests().into_iter().filter(|r| pred(r)).collect()).await
    }
}

// ---------------------------------------------------------------------------------------------
// Signing and request bodies

/// Slack's scheme: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret.
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("v0={hex}")
}

/// Who sends: a team, a user and whether the deployment lists them as an admin.
#[derive(Debug, Clone)]
pub struct Who {
    pub team: String,
    pub user: String,
    pub name: String,
}

impl Who {
    pub fn new(team: &str, user: &str) -> Who {
        Who { team: team.into(), user: user.into(), name: format!("user-{}", user.to_ascii_lowercase()) }
    }
}

pub const CHANNEL: &str = "C0RATES01";

/// A slash command's form body as Slack sends it.
pub fn slash_body(who: &Who, command: &str, text: &str, response_url: &str) -> Vec<u8> {
    serde_urlencoded::to_string([
        ("token", "gIkuvaNzQIHg97ATvDxqgjtO"),
        ("team_id", who.team.as_str()),
        ("team_domain", "practice"),
        ("channel_id", CHANNEL),
        ("channel_name", "rates"),
        ("user_id", who.user.as_str()),
        ("user_name", who.name.as_str()),
        ("command", command),
        ("text", text),
        ("api_app_id", "A0RATERISE"),
        ("is_enterprise_install", "false"),
        ("response_url", response_url),
        ("trigger_id", "13345224609.738474920.8088930838d88f008e0"),
    ])
    .unwrap()
    .into_bytes()
}

/// An interactivity body: a block_actions payload for a pressed raterise button.
pub fn button_body(who: &Who, value: &str, response_url: &str) -> Vec<u8> {
    let payload = json!({
        "type": "block_actions",
        "user": {"id": who.user, "username": who.name, "name": who.name, "team_id": who.team},
        "api_app_id": "A0RATERISE",
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",
        "container": {"type": "message", "message_ts": "1795791600.000100", "channel_id": CHANNEL, "is_ephemeral": false},
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "team": {"id": who.team, "domain": "practice"},
        "enterprise": null,
        "is_enterprise_install": false,
        "channel": {"id": CHANNEL, "name": "rates"},
        "message": {"type": "message", "ts": "1795791600.000100", "text": "raterise", "bot_id": "B0TEST"},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [{
            "action_id": "raterise-0", "block_id": "b0", "type": "button", "value": value,
            "text": {"type": "plain_text", "text": "Go", "emoji": true}, "action_ts": "1795791601.000200"
        }]
    });
    serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap().into_bytes()
}

/// Posts a form body with the given signature headers; returns the status and body.
pub async fn post_form(
    client: &reqwest::Client,
    url: &str,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value) {
    let headers = [("X-Slack-Signature", signature), ("X-Slack-Request-Timestamp", timestamp)];
    crate::post_with_headers(client, url, "application/x-www-form-urlencoded", &headers, body).await
}

/// Posts a body signed with the test secret at `timestamp`.
pub async fn post_signed(client: &reqwest::Client, url: &str, timestamp: i64, body: Vec<u8>) -> (u16, Value) {
    let ts = timestamp.to_string();
    let sig = sign(SECRET, &ts, &body);
    post_form(client, url, Some(&sig), Some(&ts), body).await
}

/// Every text of a Slack message body (header, sections, fields, context), joined.
pub fn text_of(message: &Value) -> String {
    let mut out = String::new();
    for b in message.get("blocks").and_then(Value::as_array).into_iter().flatten() {
        if let Some(t) = b.pointer("/text/text").and_then(Value::as_str) {
            out.push_str(t);
            out.push('\n');
        }
        for f in b.get("fields").and_then(Value::as_array).into_iter().flatten() {
            out.push_str(f["text"].as_str().unwrap_or(""));
            out.push('\n');
        }
        for e in b.get("elements").and_then(Value::as_array).into_iter().flatten() {
            if let Some(t) = e.get("text").and_then(Value::as_str) {
                out.push_str(t);
                out.push('\n');
            }
        }
    }
    out
}

/// The (label, value) of every button of a message body.
pub fn buttons_of(message: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for b in message.get("blocks").and_then(Value::as_array).into_iter().flatten() {
        if b["type"] != "actions" {
            continue;
        }
        for e in b["elements"].as_array().into_iter().flatten() {
            out.push((
                e.pointer("/text/text").and_then(Value::as_str).unwrap_or("").to_string(),
                e["value"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Slack's Web API spec

pub fn spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/slack/slack_web_openapi_v2_without_examples.json")
}

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text =
            std::fs::read_to_string(spec_path()).unwrap_or_else(|e| panic!("reading {}: {e}", spec_path().display()));
        serde_json::from_str(&text).expect("spec is JSON")
    })
}

/// The spec (Swagger 2.0) describes a method's request as `formData` parameters, not as a body
/// schema. This builds the JSON Schema those parameters define for a form decoded to an object:
/// every field a declared parameter (no others), the required ones present, each of its declared
/// type (a form carries strings, so a boolean parameter must be "true" or "false").
pub fn form_schema(method: &str) -> Value {
    let op = &spec()["paths"][format!("/{method}")]["post"];
    let params = op["parameters"].as_array().unwrap_or_else(|| panic!("the spec has no parameters for {method}"));
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for p in params.iter().filter(|p| p["in"] == "formData") {
        let name = p["name"].as_str().unwrap().to_string();
        let schema = match p["type"].as_str() {
            Some("boolean") => json!({"type": "string", "enum": ["true", "false"]}),
            Some("integer") => json!({"type": "string", "pattern": "^-?[0-9]+$"}),
            Some("number") => json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}),
            _ => json!({"type": "string"}),
        };
        if p["required"] == true {
            required.push(json!(name));
        }
        properties.insert(name, schema);
    }
    let mut schema = json!({"type": "object", "properties": properties, "additionalProperties": false});
    // Draft 4 wants at least one name in `required` when it is given.
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    schema
}

/// The spec's schema of a method's successful answer (`responses.200.schema`), with the spec's
/// `definitions` so its references resolve.
pub fn success_schema(method: &str) -> Value {
    let path = &spec()["paths"][format!("/{method}")];
    let op = if path["post"].is_object() { &path["post"] } else { &path["get"] };
    let mut schema = op["responses"]["200"]["schema"].clone();
    assert!(schema.is_object(), "the spec has no success schema for {method}");
    schema["definitions"] = spec()["definitions"].clone();
    schema
}

/// Panics with every violation when `value` does not match `schema` (draft 4, as Swagger 2.0).
pub fn assert_matches(schema: &Value, value: &Value, what: &str) {
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(false)
        .build(schema)
        .unwrap_or_else(|e| panic!("building the {what} validator: {e}"));
    let errors: Vec<String> = validator.iter_errors(value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{what} does not match the spec:\n{}\nvalue: {value}", errors.join("\n"));
}
