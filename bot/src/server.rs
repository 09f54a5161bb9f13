//! The HTTP server: `/healthz` and, when configured, `/discord/interactions` and the Slack
//! endpoints. Shuts down on SIGINT or SIGTERM after finishing the requests in flight.
//!
//! Bounded for a server that faces the internet without a buffering proxy (see [`Limits`]):
//! requests larger than Discord or Slack send are refused with 413 from their Content-Length
//! before anything is read; a client gets a fixed time for its headers (which is also how long an
//! idle keep-alive connection stays open) and for its body; connections and requests in flight
//! are capped, the excess refused at once with 503; method, path, size and the presence of the
//! signature headers are checked before a body is buffered.

use crate::discord::endpoint::{self, Endpoint};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// The bounds `serve` enforces. Defaults suit Discord and Slack; `RATERISE_HTTP_*` changes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body accepted. Interactions are a few KB; Slack's button payloads carry the
    /// message they came from (our messages stay well under 50 KB encoded).
    pub max_body_bytes: usize,
    /// Time for a client to send a request's headers, from when the server starts waiting for
    /// them: on a keep-alive connection that is also the idle timeout between requests.
    pub header_timeout: Duration,
    /// Time for a client to send the whole body, once the headers are in.
    pub body_timeout: Duration,
    /// Open connections at once; past it, a new connection gets 503 and is closed.
    pub max_connections: usize,
    /// Requests being read or handled at once; past it, 503 before the body is read.
    pub max_in_flight: usize,
}

/// 128 KiB: the body limit (README "Limits").
pub const DEFAULT_MAX_BODY_BYTES: usize = 128 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_connections: 1024,
            max_in_flight: 256,
        }
    }
}

impl Limits {
    /// The defaults with any of RATERISE_HTTP_MAX_BODY_BYTES, RATERISE_HTTP_HEADER_TIMEOUT_MS,
    /// RATERISE_HTTP_BODY_TIMEOUT_MS, RATERISE_HTTP_MAX_CONNECTIONS, RATERISE_HTTP_MAX_IN_FLIGHT.
    pub fn from_env() -> Result<Limits, String> {
        Limits::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Limits, String> {
        let d = Limits::default();
        let num = |key: &str, default: u64| -> Result<u64, String> {
            match get(key).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
                None => Ok(default),
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if n > 0 => Ok(n),
                    _ => Err(format!("{key}: `{v}` is not a positive whole number")),
                },
            }
        };
        let ms = |d: Duration| d.as_millis() as u64;
        Ok(Limits {
            max_body_bytes: num("RATERISE_HTTP_MAX_BODY_BYTES", d.max_body_bytes as u64)? as usize,
            header_timeout: Duration::from_millis(num("RATERISE_HTTP_HEADER_TIMEOUT_MS", ms(d.header_timeout))?),
            body_timeout: Duration::from_millis(num("RATERISE_HTTP_BODY_TIMEOUT_MS", ms(d.body_timeout))?),
            max_connections: num("RATERISE_HTTP_MAX_CONNECTIONS", d.max_connections as u64)? as usize,
            max_in_flight: num("RATERISE_HTTP_MAX_IN_FLIGHT", d.max_in_flight as u64)? as usize,
        })
    }
}

pub fn router(discord: Option<Arc<Endpoint>>) -> Router {
    let mut router = Router::new().route("/healthz", get(healthz));
    if let Some(ep) = discord {
        router =
            router.merge(Router::new().route("/discord/interactions", post(endpoint::interactions)).with_state(ep));
    }
    router
}

/// Adds the Slack endpoints (`/slack/commands`, `/slack/interactivity`) when Slack is configured.
pub fn with_slack(router: Router, slack: Option<Arc<crate::slack::Slack>>) -> Router {
    match slack {
        Some(slack) => router.merge(crate::slack::endpoint::routes(slack)),
        None => router,
    }
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// The headers a signed POST to `path` must carry before its body is read.
fn signature_headers(path: &str) -> &'static [&'static str] {
    if path.starts_with("/discord/") {
        endpoint::SIGNATURE_HEADERS
    } else if path.starts_with("/slack/") {
        crate::slack::endpoint::SIGNATURE_HEADERS
    } else {
        &[]
    }
}

struct Bounds {
    limits: Limits,
    in_flight: Arc<Semaphore>,
}

fn refusal(status: StatusCode, why: &'static str) -> Response {
    let mut r = (status, why).into_response();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    r
}

/// Cheap checks, then the body read within its limit and time, for every POST. Routing ran
/// first (a wrong path or method never gets here), so nothing is buffered for those.
async fn bound_request(State(bounds): State<Arc<Bounds>>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let max = bounds.limits.max_body_bytes;
    match req.headers().get(header::CONTENT_LENGTH).map(|v| v.to_str().ok().and_then(|s| s.parse::<u64>().ok())) {
        Some(Some(n)) if n > max as u64 => {
            return refusal(StatusCode::PAYLOAD_TOO_LARGE, "the request body is larger than this server accepts")
        }
        Some(None) => return refusal(StatusCode::BAD_REQUEST, "the Content-Length is not a number"),
        _ => {}
    }
    if signature_headers(req.uri().path()).iter().any(|h| !req.headers().contains_key(*h)) {
        tracing::info!(path = %req.uri().path(), "rejected a request without its signature headers");
        return refusal(StatusCode::UNAUTHORIZED, "missing signature headers");
    }
    let Ok(_permit) = bounds.in_flight.clone().try_acquire_owned() else {
        return refusal(StatusCode::SERVICE_UNAVAILABLE, "busy; try again in a moment");
    };
    let (parts, body) = req.into_parts();
    let bytes = match tokio::time::timeout(bounds.limits.body_timeout, axum::body::to_bytes(body, max)).await {
        Ok(Ok(b)) => b,
        // Over the limit without a Content-Length (chunked), or the client went away.
        Ok(Err(_)) => return refusal(StatusCode::PAYLOAD_TOO_LARGE, "the request body is too large or was cut off"),
        Err(_) => {
            tracing::info!(path = %parts.uri.path(), "a request body did not arrive in time");
            let mut r = refusal(StatusCode::REQUEST_TIMEOUT, "the request body did not arrive in time");
            r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// `router` with the request bounds of `limits` (what `serve` runs).
pub fn bounded(router: Router, limits: &Limits) -> Router {
    let bounds = Arc::new(Bounds { limits: limits.clone(), in_flight: Arc::new(Semaphore::new(limits.max_in_flight)) });
    router.route_layer(middleware::from_fn_with_state(bounds, bound_request))
}

/// Turns `stop` true on the first SIGINT or SIGTERM.
pub fn watch_signals() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "could not listen for SIGTERM");
                    let _ = ctrl_c.await;
                    let _ = tx.send(true);
                    return;
                }
            };
            tokio::select! {
                _ = ctrl_c => tracing::info!("SIGINT: shutting down"),
                _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
        }
        let _ = tx.send(true);
    });
    rx
}

/// What a connection past the cap is told before it is closed: written once, without waiting.
const BUSY: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nretry-after: 1\r\nconnection: close\r\n\r\n";

/// How long requests in flight get to finish after a stop signal.
const DRAIN: Duration = Duration::from_secs(20);

/// Gives memory freed by a burst of connections back to the OS once they are all closed.
///
/// Measured (RELIABILITY.md): after 1,000 connections each buffering most of a 120 KB body,
/// serve's RSS stayed at the flood's peak long after they closed. The buffers are freed, but
/// glibc keeps freed heap pages in its arenas (one per worker thread, and 120 KB is below its
/// mmap threshold, so they never came from mmap), so the RSS never goes down on its own.
/// `malloc_trim(0)` returns those free pages. It runs on a blocking thread, at most once per
/// `TRIM_DELAY`, and only after the connection count has been high (a flood, not one request).
struct Trimmer {
    max: usize,
    connections: Arc<Semaphore>,
    /// The most connections open at once since the last trim.
    high_water: AtomicUsize,
    scheduled: AtomicBool,
}

/// Trim only after at least this many connections were open at once.
const TRIM_AFTER_CONNECTIONS: usize = 16;
/// Wait this long after the last connection closed (a new burst may be starting).
const TRIM_DELAY: Duration = Duration::from_millis(500);

impl Trimmer {
    fn opened(&self) {
        let open = self.max - self.connections.available_permits();
        self.high_water.fetch_max(open, Ordering::Relaxed);
    }

    /// After a connection closed: schedules a trim when none is open and many were.
    fn closed(self: &Arc<Self>) {
        if self.connections.available_permits() < self.max
            || self.high_water.load(Ordering::Relaxed) < TRIM_AFTER_CONNECTIONS
            || self.scheduled.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let me = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(TRIM_DELAY).await;
            me.scheduled.store(false, Ordering::Release);
            if me.connections.available_permits() < me.max {
                return; // busy again; the next quiet moment trims
            }
            me.high_water.store(0, Ordering::Relaxed);
            let _ = tokio::task::spawn_blocking(release_free_memory).await;
        });
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_free_memory() {
    extern "C" {
        /// glibc: returns free memory at the top of the heap and whole free pages inside every
        /// arena to the OS; `pad` bytes are kept at the top.
        fn malloc_trim(pad: usize) -> std::os::raw::c_int;
    }
    // SAFETY: malloc_trim takes no pointers and may be called from any thread at any time.
    let released = unsafe { malloc_trim(0) };
    tracing::debug!(released = released != 0, "returned free memory to the OS after a burst of connections");
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_memory() {}

/// Serves with the default [`Limits`] until `stop` turns true.
pub async fn serve(listener: TcpListener, router: Router, stop: watch::Receiver<bool>) -> std::io::Result<()> {
    serve_with(listener, router, Limits::default(), stop).await
}

/// Serves `router` within `limits` until `stop` turns true, then lets the requests in flight
/// finish (up to 20 seconds).
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let app = bounded(router, &limits);
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let trimmer = Arc::new(Trimmer {
        max: limits.max_connections,
        connections: connections.clone(),
        high_water: AtomicUsize::new(0),
        scheduled: AtomicBool::new(false),
    });
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    let stopped = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    tokio::pin!(stopped);
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            let _ = stream.try_write(BUSY);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let conn = graceful.watch(conn);
        trimmer.opened();
        let trimmer = trimmer.clone();
        tokio::spawn(async move {
            // A client that hangs up or times out is not the server's error.
            let _ = conn.await;
            drop(permit);
            trimmer.closed();
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("some connections were still open {DRAIN:?} after the stop signal; closing them");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_come_from_the_environment_or_the_defaults() {
        let none = Limits::from_lookup(|_| None).unwrap();
        assert_eq!(none, Limits::default());
        assert!((64 * 1024..=256 * 1024).contains(&none.max_body_bytes));
        let set = Limits::from_lookup(|k| match k {
            "RATERISE_HTTP_HEADER_TIMEOUT_MS" => Some("250".into()),
            "RATERISE_HTTP_MAX_CONNECTIONS" => Some("8".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(set.header_timeout, Duration::from_millis(250));
        assert_eq!(set.max_connections, 8);
        let bad = Limits::from_lookup(|k| (k == "RATERISE_HTTP_MAX_IN_FLIGHT").then(|| "lots".into()));
        assert!(bad.unwrap_err().contains("RATERISE_HTTP_MAX_IN_FLIGHT"));
    }
}
