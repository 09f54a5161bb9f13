//! The HTTP server: `/healthz` and, with a public key configured, `/discord/interactions`.
//! Shuts down on SIGINT or SIGTERM after finishing the requests in flight.

use crate::discord::endpoint::{self, Endpoint};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

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

/// Serves until `stop` turns true, then lets the requests in flight finish.
pub async fn serve(listener: TcpListener, router: Router, mut stop: watch::Receiver<bool>) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await
}
