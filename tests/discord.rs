//! Helpers for the Discord tests: a fake Discord REST API that records every request, a test
//! Ed25519 key that signs real-shaped interaction payloads, Discord's OpenAPI schemas, and the
//! real `raterise serve` binary on 127.0.0.1.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------------------------
// The fake Discord REST API

/// One request the bot made.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, e.g. `/api/v10/channels/1/messages`.
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{} {} body is not JSON ({e}): {}", self.method, self.path, String::from_utf8_lossy(&self.body))
        })
    }

    pub fn is_multipart(&self) -> bool {
        self.header("content-type").is_some_and(|c| c.starts_with("multipart/form-data"))
    }

    /// The parts of a multipart/form-data body.
    pub fn parts(&self) -> Vec<Part> {
        let ct = self.header("content-type").expect("content type");
        let boundary = ct.split("boundary=").nth(1).expect("boundary").trim_matches('"');
        let delimiter = format!("--{boundary}");
        let body = String::from_utf8_lossy(&self.body).to_string();
        let mut out = Vec::new();
        for chunk in body.split(&delimiter).skip(1) {
            if chunk.starts_with("--") {
                break;
            }
            let chunk = chunk.strip_prefix("\r\n").unwrap_or(chunk);
            let Some((head, content)) = chunk.split_once("\r\n\r\n") else { continue };
            let content = content.strip_suffix("\r\n").unwrap_or(content);
            let mut name = String::new();
            let mut filename = None;
            let mut ctype = None;
            for line in head.lines() {
                let lower = line.to_ascii_lowercase();
                if lower.starts_with("content-disposition") {
                    for piece in line.split(';') {
                        let piece = piece.trim();
                        if let Some(v) = piece.strip_prefix("name=") {
                            name = v.trim_matches('"').to_string();
                        }
                        if let Some(v) = piece.strip_prefix("filename=") {
                            filename = Some(v.trim_matches('"').to_string());
                        }
                    }
                } else if lower.starts_with("content-type") {
                    ctype = line.split_once(':').map(|(_, v)| v.trim().to_string());
                }
            }
            out.push(Part { name, filename, content_type: ctype, data: content.as_bytes().to_vec() });
        }
        out
    }

    /// The JSON of a request: the body, or the `payload_json` part of a multipart body.
    pub fn payload(&self) -> Value {
        if self.is_multipart() {
            let part = self.parts().into_iter().find(|p| p.name == "payload_json").expect("payload_json part");
            serde_json::from_slice(&part.data).expect("payload_json is JSON")
        } else {
            self.json()
        }
    }
}

/// One part of a multipart/form-data body.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

/// A canned answer for the next request whose path contains `path_contains`.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub path_contains: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
    /// Wait this long before answering (longer than the client's deadline: a timeout).
    pub delay: Duration,
    /// Create the channel message first, as Discord does when the answer is what gets lost
    /// (a 500 or a timeout after the post went through).
    pub accept: bool,
    /// Answer every matching request this way (a deleted channel) instead of only the next one.
    pub sticky: bool,
}

impl Scripted {
    pub fn new(path_contains: &str, status: u16, body: Value) -> Scripted {
        Scripted {
            path_contains: path_contains.to_string(),
            status,
            headers: Vec::new(),
            body,
            delay: Duration::ZERO,
            accept: false,
            sticky: false,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Scripted {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn delay(mut self, d: Duration) -> Scripted {
        self.delay = d;
        self
    }

    pub fn accepting(mut self) -> Scripted {
        self.accept = true;
        self
    }

    pub fn sticky(mut self) -> Scripted {
        self.sticky = true;
        self
    }
}

/// A message the fake created in a channel. Like Discord with `enforce_nonce`, a second post with
/// a nonce already used in the channel returns the first message and creates nothing.
#[derive(Debug, Clone)]
pub struct ChannelMessage {
    pub id: String,
    pub channel_id: String,
    pub nonce: Option<String>,
    /// The JSON the bot sent (the `payload_json` part of a multipart post).
    pub payload: Value,
    /// Names of the uploaded files.
    pub files: Vec<String>,
}

#[derive(Default)]
struct FakeState {
    requests: Mutex<Vec<Recorded>>,
    scripted: Mutex<VecDeque<Scripted>>,
    ids: AtomicU64,
    messages: Mutex<Vec<ChannelMessage>>,
    /// Guild id -> the server's name, for GET /guilds/{id} (other guilds: 404 Unknown Guild).
    guilds: Mutex<HashMap<String, String>>,
}

/// GET /guilds/{id}'s answer for a server, with every field the spec requires (`GuildResponse`).
pub fn guild_body(id: &str, name: &str) -> Value {
    json!({
        "id": id, "name": name, "icon": null, "description": null, "home_header": null, "splash": null,
        "discovery_splash": null, "features": [], "banner": null, "owner_id": "80351110224678912",
        "application_id": null, "region": "deprecated", "afk_channel_id": null, "afk_timeout": 300,
        "system_channel_id": null, "system_channel_flags": 0, "widget_enabled": false, "widget_channel_id": null,
        "verification_level": 1, "roles": [], "default_message_notifications": 1, "mfa_level": 0,
        "explicit_content_filter": 2, "max_presences": null, "max_members": 500000,
        "max_stage_video_channel_users": 50, "max_video_channel_users": 25, "vanity_url_code": null,
        "premium_tier": 0, "premium_subscription_count": 0, "preferred_locale": "en-US", "rules_channel_id": null,
        "safety_alerts_channel_id": null, "public_updates_channel_id": null, "premium_progress_bar_enabled": false,
        "nsfw": false, "nsfw_level": 0, "emojis": [], "stickers": [], "incidents_data": null
    })
}

/// The channel id of `POST /api/v10/channels/{id}/messages`.
fn message_post_channel(method: &Method, path: &str) -> Option<String> {
    if method != Method::POST {
        return None;
    }
    let path = path.split('?').next().unwrap_or(path);
    let rest = path.split("/channels/").nth(1)?;
    let (channel, tail) = rest.split_once('/')?;
    (tail == "messages").then(|| channel.to_string())
}

/// Creates the message (or finds the one its nonce already made) and returns Discord's answer.
fn create_message(state: &FakeState, channel: &str, request: &Recorded) -> Value {
    let payload: Value = if request.is_multipart() {
        request
            .parts()
            .into_iter()
            .find(|p| p.name == "payload_json")
            .and_then(|p| serde_json::from_slice(&p.data).ok())
            .unwrap_or(Value::Null)
    } else {
        serde_json::from_slice(&request.body).unwrap_or(Value::Null)
    };
    let nonce = payload.get("nonce").and_then(|n| match n {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    let enforce = payload.get("enforce_nonce").and_then(Value::as_bool).unwrap_or(false);
    let mut messages = state.messages.lock().unwrap();
    let existing = match (&nonce, enforce) {
        (Some(n), true) => messages.iter().find(|m| m.channel_id == channel && m.nonce.as_ref() == Some(n)).cloned(),
        _ => None,
    };
    let m = match existing {
        Some(m) => m,
        None => {
            let files = if request.is_multipart() {
                request.parts().into_iter().filter_map(|p| p.filename).collect()
            } else {
                Vec::new()
            };
            let m = ChannelMessage {
                id: snowflake(state),
                channel_id: channel.to_string(),
                nonce: nonce.clone(),
                payload: payload.clone(),
                files,
            };
            messages.push(m.clone());
            m
        }
    };
    json!({"id": m.id, "channel_id": m.channel_id, "type": 0, "content": m.payload.get("content").cloned().unwrap_or(json!("")), "nonce": m.nonce})
}

pub struct FakeDiscord {
    /// Base URL for DISCORD_API_URL, e.g. http://127.0.0.1:40123.
    pub url: String,
    state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn snowflake(state: &FakeState) -> String {
    (1_500_000_000_000_000_000u64 + state.ids.fetch_add(1, Ordering::SeqCst)).to_string()
}

/// Realistic success bodies: what serenity expects to read back.
fn default_answer(state: &FakeState, method: &Method, path: &str, body: &[u8]) -> Response {
    let path = path.split('?').next().unwrap_or(path);
    if method == Method::PUT && path.ends_with("/commands") {
        let list: Vec<Value> = serde_json::from_slice(body).unwrap_or_default();
        let app = path.split('/').nth(4).unwrap_or("0").to_string();
        let guild = path.contains("/guilds/").then(|| path.split('/').nth(6).unwrap_or("0").to_string());
        let out: Vec<Value> = list
            .into_iter()
            .map(|mut c| {
                c["id"] = json!(snowflake(state));
                c["application_id"] = json!(app);
                c["version"] = json!(snowflake(state));
                c["type"] = json!(1);
                c["default_member_permissions"] = Value::Null;
                c["nsfw"] = json!(false);
                if let Some(g) = &guild {
                    c["guild_id"] = json!(g);
                }
                c
            })
            .collect();
        return (StatusCode::OK, axum::Json(Value::Array(out))).into_response();
    }
    if method == Method::GET && path.ends_with("/oauth2/applications/@me") {
        return (StatusCode::OK, axum::Json(json!({"id": "1200000000000000000", "name": "raterise", "description": "", "bot_public": true, "bot_require_code_grant": false, "verify_key": "0".repeat(64), "flags": 0}))).into_response();
    }
    if method == Method::DELETE {
        return StatusCode::NO_CONTENT.into_response();
    }
    if let (true, Some(guild)) = (method == Method::GET, path.strip_prefix("/api/v10/guilds/")) {
        if !guild.contains('/') {
            return match state.guilds.lock().unwrap().get(guild) {
                Some(name) => (StatusCode::OK, axum::Json(guild_body(guild, name))).into_response(),
                None => (StatusCode::NOT_FOUND, axum::Json(json!({"message": "Unknown Guild", "code": 10004})))
                    .into_response(),
            };
        }
    }
    let channel = path.split("/channels/").nth(1).and_then(|r| r.split('/').next()).unwrap_or("1100000000000000009");
    (StatusCode::OK, axum::Json(json!({"id": snowflake(state), "channel_id": channel, "type": 0, "content": ""})))
        .into_response()
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let state = Arc::new(FakeState::default());
        let shared = state.clone();
        let app = Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let state = shared.clone();
            async move {
                let path = uri.path_and_query().map(|p| p.to_string()).unwrap_or_else(|| uri.path().to_string());
                let headers: HashMap<String, String> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str().to_ascii_lowercase(), v.to_str().unwrap_or("").to_string()))
                    .collect();
                let recorded =
                    Recorded { method: method.to_string(), path: path.clone(), headers, body: body.to_vec() };
                state.requests.lock().unwrap().push(recorded.clone());
                let scripted = {
                    let mut q = state.scripted.lock().unwrap();
                    let pos = q.iter().position(|s| path.contains(&s.path_contains));
                    match pos {
                        Some(i) if q[i].sticky => Some(q[i].clone()),
                        Some(i) => q.remove(i),
                        None => None,
                    }
                };
                let posted_to = message_post_channel(&method, &path);
                match scripted {
                    Some(s) => {
                        if let (true, Some(channel)) = (s.accept, &posted_to) {
                            create_message(&state, channel, &recorded);
                        }
                        if !s.delay.is_zero() {
                            tokio::time::sleep(s.delay).await;
                        }
                        let mut r = (StatusCode::from_u16(s.status).unwrap(), axum::Json(s.body)).into_response();
                        for (k, v) in s.headers {
                            r.headers_mut().insert(
                                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                                axum::http::HeaderValue::from_str(&v).unwrap(),
                            );
                        }
                        r
                    }
                    None => match &posted_to {
                        Some(channel) => {
                            (StatusCode::OK, axum::Json(create_message(&state, channel, &recorded))).into_response()
                        }
                        None => default_answer(&state, &method, &path, &body),
                    },
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind fake Discord");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake Discord serves");
        });
        FakeDiscord { url, state, task }
    }

    /// GET /guilds/{id} answers with this name for the guild.
    pub fn name_guild(&self, guild: &str, name: &str) {
        self.state.guilds.lock().unwrap().insert(guild.to_string(), name.to_string());
    }

    pub fn script(&self, path_contains: &str, status: u16, headers: &[(&str, &str)], body: Value) {
        let mut s = Scripted::new(path_contains, status, body);
        s.headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.push(s);
    }

    /// Queues a canned answer built with [`Scripted::new`].
    pub fn push(&self, s: Scripted) {
        self.state.scripted.lock().unwrap().push_back(s);
    }

    /// Answers the gateway lookup that `serve` makes with a bot token with a closed port on
    /// 127.0.0.1, so the gateway client only ever retries loopback.
    pub fn gateway_unreachable(&self) {
        self.push(
            Scripted::new(
                "/api/v10/gateway",
                200,
                json!({"url": "ws://127.0.0.1:9", "shards": 1,
                       "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}}),
            )
            .sticky(),
        );
    }

    /// Drops every canned answer for paths containing `path_contains` (a channel that works again).
    pub fn unscript(&self, path_contains: &str) {
        self.state.scripted.lock().unwrap().retain(|s| s.path_contains != path_contains);
    }

    /// The channel messages that exist, in creation order (each nonce at most once per channel).
    pub fn messages(&self) -> Vec<ChannelMessage> {
        self.state.messages.lock().unwrap().clone()
    }

    /// Waits (up to `limit`) until `n` channel messages exist.
    pub async fn wait_for_messages(&self, n: usize, limit: Duration) -> Vec<ChannelMessage> {
        crate::wait_until_count(n, limit, || self.messages()).await
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
// Signing

/// The test application's key pair (fixed, so no randomness is needed).
pub struct TestKey(SigningKey);

pub fn test_key() -> TestKey {
    TestKey(SigningKey::from_bytes(&[7u8; 32]))
}

pub fn other_key() -> TestKey {
    TestKey(SigningKey::from_bytes(&[9u8; 32]))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

impl TestKey {
    pub fn public_hex(&self) -> String {
        hex(self.0.verifying_key().as_bytes())
    }

    /// Discord's scheme: Ed25519 over timestamp + body, hex.
    pub fn sign(&self, timestamp: &str, body: &[u8]) -> String {
        let mut message = timestamp.as_bytes().to_vec();
        message.extend_from_slice(body);
        hex(&self.0.sign(&message).to_bytes())
    }
}

// ---------------------------------------------------------------------------------------------
// Real-shaped interaction payloads (https://discord.com/developers/docs/interactions/receiving-and-responding)

pub const APP_ID: &str = "1200000000000000000";
pub const CHANNEL_ID: &str = "1100000000000000009";
/// MANAGE_GUILD | VIEW_CHANNEL | SEND_MESSAGES
pub const PERMS_MANAGER: &str = "3104";
/// VIEW_CHANNEL | SEND_MESSAGES
pub const PERMS_MEMBER: &str = "3072";

static NEXT: AtomicU64 = AtomicU64::new(1);

/// Who acts: a guild member (with permissions and roles) or a DM user.
#[derive(Debug, Clone)]
pub struct Who {
    pub guild: Option<String>,
    pub user_id: String,
    pub permissions: String,
    pub roles: Vec<String>,
}

impl Who {
    pub fn manager(guild: &str) -> Who {
        Who {
            guild: Some(guild.into()),
            user_id: "80351110224678912".into(),
            permissions: PERMS_MANAGER.into(),
            roles: vec![],
        }
    }
    pub fn member(guild: &str) -> Who {
        Who {
            guild: Some(guild.into()),
            user_id: "80351110224678913".into(),
            permissions: PERMS_MEMBER.into(),
            roles: vec![],
        }
    }
    pub fn dm() -> Who {
        Who { guild: None, user_id: "80351110224678914".into(), permissions: String::new(), roles: vec![] }
    }
}

fn base(kind: u8, who: &Who) -> Value {
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let user = json!({"id": who.user_id, "username": "dana", "global_name": "Dana", "discriminator": "0", "avatar": null, "public_flags": 0});
    let mut v = json!({
        "id": (1_290_000_000_000_000_000u64 + n).to_string(),
        "application_id": APP_ID,
        "type": kind,
        "token": format!("interaction-token-{n}-aW50ZXJhY3Rpb24"),
        "version": 1,
        "channel_id": CHANNEL_ID,
        "channel": {"id": CHANNEL_ID, "type": if who.guild.is_some() { 0 } else { 1 }, "name": "rates"},
        "app_permissions": "2248473465835073",
        "locale": "en-US",
        "entitlements": [],
        "attachment_size_limit": 10485760
    });
    match &who.guild {
        Some(g) => {
            v["guild_id"] = json!(g);
            v["guild_locale"] = json!("en-US");
            v["context"] = json!(0);
            v["authorizing_integration_owners"] = json!({"0": g});
            v["member"] = json!({
                "user": user, "roles": who.roles, "permissions": who.permissions, "nick": null, "avatar": null,
                "joined_at": "2024-03-01T12:00:00.000000+00:00", "deaf": false, "mute": false, "flags": 0, "pending": false
            });
        }
        None => {
            v["context"] = json!(1);
            v["authorizing_integration_owners"] = json!({"0": "1100000000000000001"});
            v["user"] = user;
        }
    }
    v
}

/// An option list from (name, value) pairs: strings (type 3) or integers (type 4).
pub fn options(pairs: &[(&str, Value)]) -> Value {
    Value::Array(
        pairs.iter().map(|(n, v)| json!({"name": n, "type": if v.is_i64() { 4 } else { 3 }, "value": v})).collect(),
    )
}

/// APPLICATION_COMMAND; `sub` wraps the options in a subcommand.
pub fn command(who: &Who, name: &str, sub: Option<&str>, opts: Value) -> Value {
    let mut v = base(2, who);
    let opts = match sub {
        Some(s) => json!([{"name": s, "type": 1, "options": opts}]),
        None => opts,
    };
    v["data"] = json!({"id": "1300000000000000001", "name": name, "type": 1, "options": opts});
    v
}

/// APPLICATION_COMMAND_AUTOCOMPLETE with `focused` being typed.
pub fn autocomplete(who: &Who, name: &str, sub: Option<&str>, focused: &str, partial: &str) -> Value {
    let opts = json!([{"name": focused, "type": 3, "value": partial, "focused": true}]);
    let mut v = command(who, name, sub, opts);
    v["type"] = json!(4);
    v
}

/// MESSAGE_COMPONENT: a button with this custom id pressed on a message of the bot.
pub fn button(who: &Who, custom_id: &str) -> Value {
    let mut v = base(3, who);
    v["data"] = json!({"custom_id": custom_id, "component_type": 2});
    v["message"] = json!({
        "id": "1500000000000000001", "channel_id": CHANNEL_ID, "type": 20, "content": "", "tts": false,
        "author": {"id": APP_ID, "username": "raterise", "discriminator": "0000", "avatar": null, "bot": true, "global_name": null},
        "timestamp": "2026-11-27T15:00:00.000000+00:00", "edited_timestamp": null, "mention_everyone": false,
        "mentions": [], "mention_roles": [], "attachments": [], "embeds": [], "pinned": false, "flags": 0,
        "components": [{"type": 1, "components": [{"type": 2, "style": 1, "label": "Go", "custom_id": custom_id}]}]
    });
    v
}

pub fn ping() -> Value {
    json!({"id": "1290000000000000000", "application_id": APP_ID, "type": 1, "token": "cGluZw", "version": 1})
}

// ---------------------------------------------------------------------------------------------
// Discord's OpenAPI spec

pub fn spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/discord/openapi.json")
}

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let text =
            std::fs::read_to_string(spec_path()).unwrap_or_else(|e| panic!("reading {}: {e}", spec_path().display()));
        let mut v: Value = serde_json::from_str(&text).expect("spec is JSON");
        // A list of commands as PUT /applications/{id}/commands takes it.
        v["components"]["schemas"]["RateriseCommandList"] = json!({
            "type": "array", "maxItems": 130, "items": {"$ref": "#/components/schemas/ApplicationCommandUpdateRequest"}
        });
        // The interaction callback body as POST /interactions/{id}/{token}/callback takes it.
        v["components"]["schemas"]["RateriseInteractionCallback"] = v["paths"]
            ["/interactions/{interaction_id}/{interaction_token}/callback"]["post"]["requestBody"]["content"]
            ["application/json"]["schema"]
            .clone();
        v["components"]["schemas"]["RateriseFollowupMessage"] = v["paths"]["/webhooks/{webhook_id}/{webhook_token}"]
            ["post"]["requestBody"]["content"]["application/json"]["schema"]
            .clone();
        v
    })
}

fn validator(name: &str) -> Arc<jsonschema::Validator> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(v) = cache.lock().unwrap().get(name) {
        return v.clone();
    }
    let mut root = spec().clone();
    assert!(root["components"]["schemas"].get(name).is_some(), "no schema {name} in the spec");
    root["$ref"] = json!(format!("#/components/schemas/{name}"));
    let built = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(false)
        .build(&root)
        .unwrap_or_else(|e| panic!("building the {name} validator: {e}"));
    let built = Arc::new(built);
    cache.lock().unwrap().insert(name.to_string(), built.clone());
    built
}

/// Where the preview spec disagrees with Discord's documentation, follow the documentation:
/// `default_member_permissions` is a string of digits in the docs (and serenity sends one); the
/// spec's request schema says integer. Only that field is normalised.
pub fn normalise_for_spec(mut value: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if let Some(p) = map.get_mut("default_member_permissions") {
                    if let Some(s) = p.as_str() {
                        *p = json!(s.parse::<u64>().expect("permissions are digits"));
                    }
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    value
}

/// Panics with every violation when `value` does not match the named component schema.
pub fn assert_valid(schema: &str, value: &Value) {
    let value = normalise_for_spec(value.clone());
    let v = validator(schema);
    let errors: Vec<String> = v.iter_errors(&value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{schema} rejects the body:\n{}\nbody: {value}", errors.join("\n"));
}

/// Discord's rule for command and option names: 1-32 characters, lowercase letters, digits, `-`
/// and `_` (for the ASCII names we use).
pub fn valid_discord_name(name: &str) -> bool {
    (1..=32).contains(&name.chars().count())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

// ---------------------------------------------------------------------------------------------
// The real binary

/// target/debug/raterise (built by `cargo test --workspace`), or RATERISE_BIN.
pub fn raterise_bin() -> PathBuf {
    if let Ok(p) = std::env::var("RATERISE_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target/<profile>");
    let bin = dir.join(format!("raterise{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p raterise` (cargo test --workspace does)",
        bin.display()
    );
    bin
}

/// A fresh folder under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!(
            "raterise-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Settings the bot reads, cleared from the child's environment so a developer's own never leak in.
pub const CONFIG_ENV: &[&str] = &[
    "DISCORD_TOKEN",
    "DISCORD_APPLICATION_ID",
    "DISCORD_PUBLIC_KEY",
    "DISCORD_GUILD_ID",
    "DISCORD_API_URL",
    "RATERISE_BIND",
    "RATERISE_TEMPLATES_DIR",
    "RATERISE_CONFIG",
    "RATERISE_PRACTICE",
    "RATERISE_DISCORD_DEFER_MS",
    "RATERISE_SCHEDULER_INTERVAL_MS",
    "RATERISE_SCHEDULER_POST_TIMEOUT_MS",
    "RATERISE_SCHEDULER_FAULT",
    "RATERISE_HTTP_MAX_BODY_BYTES",
    "RATERISE_HTTP_HEADER_TIMEOUT_MS",
    "RATERISE_HTTP_BODY_TIMEOUT_MS",
    "RATERISE_HTTP_MAX_CONNECTIONS",
    "RATERISE_HTTP_MAX_IN_FLIGHT",
];

/// A `raterise` command with a clean environment and its database in `dir`.
pub fn raterise(dir: &TempDir, envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(raterise_bin());
    for k in CONFIG_ENV {
        cmd.env_remove(k);
    }
    cmd.env("RATERISE_DB", dir.0.join("raterise.db"))
        .env("RATERISE_NOW", "2026-11-27T15:00:00Z")
        .env("RUST_LOG", "info");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

/// Spawns `raterise serve --bind 127.0.0.1:0` with its database in `dir`, collects its stderr in
/// the background, and returns the child, that stderr and the base URL it printed.
pub fn spawn_serve(dir: &TempDir, envs: &[(&str, &str)]) -> (Child, Arc<Mutex<String>>, String) {
    let mut child = raterise(dir, envs)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn raterise serve");
    let stderr = Arc::new(Mutex::new(String::new()));
    let mut err_pipe = child.stderr.take().unwrap();
    let sink = stderr.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = err_pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("read the address line");
    let Some(addr) = line.trim().strip_prefix("raterise listening on ").map(str::to_string) else {
        let _ = child.wait();
        panic!("serve did not start: stdout {line:?}, stderr {}", stderr.lock().unwrap())
    };
    (child, stderr, addr)
}

/// `raterise serve` running on 127.0.0.1.
pub struct Served {
    child: Child,
    pub url: String,
    stderr: Arc<Mutex<String>>,
    pub dir: TempDir,
}

impl Served {
    /// Starts `raterise serve --bind 127.0.0.1:0` and waits for its address.
    pub fn start(envs: &[(&str, &str)]) -> Served {
        let dir = TempDir::new("serve");
        Served::start_in(dir, envs)
    }

    pub fn start_in(dir: TempDir, envs: &[(&str, &str)]) -> Served {
        let (child, stderr, url) = spawn_serve(&dir, envs);
        Served { url, child, stderr, dir }
    }

    pub fn interactions_url(&self) -> String {
        format!("{}/discord/interactions", self.url)
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits (up to `limit`) for the exit status.
    pub fn terminate(&mut self, limit: Duration) -> ExitStatus {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill -TERM");
        assert!(status.success());
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(start.elapsed() < limit, "serve did not stop within {limit:?}; stderr: {}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Posts a signed interaction; returns the status and the body (JSON when it is JSON).
pub async fn post_signed(client: &reqwest::Client, url: &str, key: &TestKey, payload: &Value) -> (u16, Value) {
    let body = serde_json::to_vec(payload).unwrap();
    let ts = unix_now().to_string();
    let sig = key.sign(&ts, &body);
    post_raw(client, url, Some(&sig), Some(&ts), body).await
}

pub async fn post_raw(
    client: &reqwest::Client,
    url: &str,
    signature: Option<&str>,
    timestamp: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value) {
    let headers = [("X-Signature-Ed25519", signature), ("X-Signature-Timestamp", timestamp)];
    crate::post_with_headers(client, url, "application/json", &headers, body).await
}

/// All text of an interaction response or message body: titles, descriptions, footers.
pub fn text_of(message: &Value) -> String {
    let mut out = String::new();
    if let Some(c) = message.get("content").and_then(Value::as_str) {
        out.push_str(c);
        out.push('\n');
    }
    for e in message.get("embeds").and_then(Value::as_array).into_iter().flatten() {
        for key in ["title", "description"] {
            if let Some(s) = e.get(key).and_then(Value::as_str) {
                out.push_str(s);
                out.push('\n');
            }
        }
        if let Some(s) = e.pointer("/footer/text").and_then(Value::as_str) {
            out.push_str(s);
            out.push('\n');
        }
    }
    out
}

/// The custom ids of the buttons of a message body.
pub fn buttons_of(message: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for row in message.get("components").and_then(Value::as_array).into_iter().flatten() {
        for c in row.get("components").and_then(Value::as_array).into_iter().flatten() {
            if let (Some(label), Some(id)) =
                (c.get("label").and_then(Value::as_str), c.get("custom_id").and_then(Value::as_str))
            {
                out.push((label.to_string(), id.to_string()));
            }
        }
    }
    out
}
