//! Outgoing REST calls for interactions and channel posts, over serenity's `Http` and routes.
//!
//! serenity's `Http` keeps the token, the proxy base URL (`DISCORD_API_URL`) and the rate
//! limiter. Requests are built by serenity; this module sends them so that it can (a) read the
//! status and headers of a failure (429 `Retry-After`), which `Http`'s own methods fold away,
//! (b) leave out the `Authorization` header when the deployment has no bot token: interaction
//! webhooks are authorised by the interaction token in the URL, and (c) upload several files.
//! URLs carry interaction tokens, so they are never logged or put into an error.

use reqwest::header::{HeaderValue, AUTHORIZATION, USER_AGENT};
use serenity::http::{Http, HttpBuilder, LightMethod, Request, Route};
use serenity::model::id::{ApplicationId, GuildId};
use std::sync::Arc;
use std::time::Duration;

/// How long one REST call may take before it counts as a retryable failure.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a REST call failed, in the terms a caller decides on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RestError {
    /// 429: wait this long, then try again.
    #[error("rate limited by Discord; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    /// 5xx, a timeout or a connection failure: the same call may work later.
    #[error("temporary failure ({}): {reason}", status.map(|s| s.to_string()).unwrap_or_else(|| "no response".into()))]
    Retryable { status: Option<u16>, reason: String },
    /// 4xx other than 429: unknown channel (404), missing access (403), a bad body (400), a bad
    /// token (401). Retrying the same call will not help.
    #[error("refused by Discord ({status}{}): {reason}", code.map(|c| format!(", code {c}")).unwrap_or_default())]
    Permanent { status: u16, code: Option<i64>, reason: String },
}

impl RestError {
    pub fn is_retryable(&self) -> bool {
        !matches!(self, RestError::Permanent { .. })
    }
}

/// A file uploaded with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePart {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Json(Vec<u8>),
    /// `payload_json` plus files as `files[i]`; the payload's `attachments` lists them by id
    /// (snowflake strings "0", "1", ... as the API spec types them).
    Multipart {
        payload: serde_json::Value,
        files: Vec<FilePart>,
    },
}

impl Body {
    pub fn json(value: &impl serde::Serialize) -> Body {
        Body::Json(serde_json::to_vec(value).expect("builders serialize"))
    }

    /// A JSON body, or a multipart one when there are files.
    pub fn with_files(value: &impl serde::Serialize, files: Vec<FilePart>) -> Body {
        if files.is_empty() {
            return Body::json(value);
        }
        let mut payload = serde_json::to_value(value).expect("builders serialize");
        let listed: Vec<serde_json::Value> = files
            .iter()
            .enumerate()
            .map(|(i, f)| serde_json::json!({"id": i.to_string(), "filename": f.filename}))
            .collect();
        if let Some(map) = payload.as_object_mut() {
            map.insert("attachments".into(), serde_json::Value::Array(listed));
        }
        Body::Multipart { payload, files }
    }
}

#[derive(Debug, Clone)]
pub struct Rest {
    http: Arc<Http>,
    client: reqwest::Client,
    authorized: bool,
}

impl Rest {
    /// `token` may be absent (an HTTP-endpoint-only deployment); `api_url` replaces
    /// https://discord.com, which only works with serenity's rate limiter disabled, so a proxy
    /// is trusted to do the rate limiting.
    pub fn new(token: Option<&str>, application_id: Option<u64>, api_url: Option<&str>) -> Rest {
        let client = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        let mut builder = HttpBuilder::new(token.unwrap_or("")).client(client.clone());
        if let Some(id) = application_id {
            builder = builder.application_id(ApplicationId::new(id));
        }
        if let Some(url) = api_url {
            builder = builder.proxy(url.trim_end_matches('/')).ratelimiter_disabled(true);
        }
        Rest { http: Arc::new(builder.build()), client, authorized: token.is_some_and(|t| !t.trim().is_empty()) }
    }

    /// serenity's client, for calls it makes well on its own (command registration).
    pub fn http(&self) -> &Arc<Http> {
        &self.http
    }

    pub fn has_token(&self) -> bool {
        self.authorized
    }

    fn url(&self, route: &Route<'_>) -> String {
        let path = route.path().to_string();
        match &self.http.proxy {
            Some(proxy) => path.replace("https://discord.com", proxy.trim_end_matches('/')),
            None => path,
        }
    }

    /// Sends one request; a success response is returned for the caller to read, anything else
    /// becomes a `RestError`.
    pub async fn send(
        &self,
        route: Route<'_>,
        method: LightMethod,
        body: Body,
    ) -> Result<reqwest::Response, RestError> {
        let response = match body {
            Body::Multipart { payload, files } => {
                let mut form = reqwest::multipart::Form::new();
                for (i, f) in files.into_iter().enumerate() {
                    let part = reqwest::multipart::Part::bytes(f.data)
                        .file_name(f.filename)
                        .mime_str(&f.content_type)
                        .unwrap_or_else(|_| reqwest::multipart::Part::bytes(Vec::new()));
                    form = form.part(format!("files[{i}]"), part);
                }
                form = form.text("payload_json", payload.to_string());
                let mut req = self
                    .client
                    .request(method.reqwest_method(), self.url(&route))
                    .header(USER_AGENT, serenity::constants::USER_AGENT)
                    .multipart(form);
                if self.authorized {
                    req = req.header(AUTHORIZATION, HeaderValue::from_str(self.http.token()).map_err(header_error)?);
                }
                req.send().await.map_err(transport_error)?
            }
            body => {
                let bytes = match body {
                    Body::Json(b) => Some(b),
                    _ => None,
                };
                let request = Request::new(route, method).body(bytes);
                match (&self.http.ratelimiter, self.authorized) {
                    (Some(ratelimiter), true) => ratelimiter.perform(request).await.map_err(serenity_error)?,
                    _ => {
                        let built = request
                            .build(&self.client, self.http.token(), self.http.proxy.as_deref())
                            .map_err(serenity_error)?;
                        let mut built = built.build().map_err(transport_error)?;
                        if !self.authorized {
                            built.headers_mut().remove(AUTHORIZATION);
                        }
                        self.client.execute(built).await.map_err(transport_error)?
                    }
                }
            }
        };
        if response.status().is_success() {
            return Ok(response);
        }
        Err(classify(response).await)
    }
}

impl Rest {
    /// GET /guilds/{guild.id}: the server's name. Needs the bot token (an endpoint-only
    /// deployment has none, and its practices keep their id name until `/setup name:`).
    pub async fn guild_name(&self, guild: u64) -> Result<String, RestError> {
        if !self.authorized {
            return Err(RestError::Permanent { status: 401, code: None, reason: "no bot token".into() });
        }
        let route = Route::Guild { guild_id: GuildId::new(guild.max(1)) };
        let response = self.send(route, LightMethod::Get, Body::Empty).await?;
        let guild: serde_json::Value = response.json().await.map_err(transport_error)?;
        guild
            .get("name")
            .and_then(serde_json::Value::as_str)
            .map(String::from)
            .ok_or_else(|| RestError::Retryable { status: None, reason: "the guild has no name in the answer".into() })
    }
}

fn header_error(_: reqwest::header::InvalidHeaderValue) -> RestError {
    RestError::Permanent { status: 401, code: None, reason: "the bot token is not a valid header value".into() }
}

fn transport_error(e: reqwest::Error) -> RestError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the request failed"
    };
    // reqwest's message may include the URL (and with it an interaction token): leave it out.
    RestError::Retryable { status: None, reason: what.into() }
}

fn serenity_error(e: serenity::Error) -> RestError {
    match e {
        serenity::Error::Http(serenity::http::HttpError::Request(e)) => transport_error(e),
        serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)) => {
            let status = r.status_code.as_u16();
            let reason = r.error.message.clone();
            if status == 429 {
                RestError::RateLimited { retry_after: Duration::from_secs(1) }
            } else if status >= 500 {
                RestError::Retryable { status: Some(status), reason }
            } else {
                RestError::Permanent { status, code: Some(r.error.code as i64), reason }
            }
        }
        _ => RestError::Retryable { status: None, reason: "the request could not be built or sent".into() },
    }
}

/// Reads a failed response: Discord's JSON error `{code, message}`, and for 429 the wait from
/// the `Retry-After` header or the body's `retry_after` (seconds, fractional).
pub async fn classify(response: reqwest::Response) -> RestError {
    let status = response.status().as_u16();
    let header_wait =
        response.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok());
    let body: serde_json::Value = response.json().await.unwrap_or(serde_json::Value::Null);
    let message = body.get("message").and_then(|m| m.as_str()).unwrap_or("").to_string();
    let code = body.get("code").and_then(|c| c.as_i64());
    if status == 429 {
        let wait = body.get("retry_after").and_then(|v| v.as_f64()).or(header_wait).unwrap_or(1.0);
        let wait = if wait.is_finite() { wait.clamp(0.0, 3600.0) } else { 1.0 };
        return RestError::RateLimited { retry_after: Duration::from_secs_f64(wait) };
    }
    let reason = if message.is_empty() { format!("HTTP {status}") } else { message };
    if status >= 500 || status == 408 {
        RestError::Retryable { status: Some(status), reason }
    } else {
        RestError::Permanent { status, code, reason }
    }
}
