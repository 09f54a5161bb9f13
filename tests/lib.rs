//! Shared helpers for the end-to-end tests.
pub mod discord;
pub mod slack;

use serde_json::Value;
use std::time::{Duration, Instant};

/// Reads `read` every 20 ms until it returns at least `n` items or `limit` has passed, and returns
/// the last reading (the fakes' way to wait for what the bot sends in the background).
pub async fn wait_until_count<T>(n: usize, limit: Duration, read: impl Fn() -> Vec<T>) -> Vec<T> {
    let start = Instant::now();
    loop {
        let got = read();
        if got.len() >= n || start.elapsed() > limit {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// POSTs `body` with its content type and the headers that are present; returns the status and
/// the body (JSON when it parses as JSON, else the text).
pub async fn post_with_headers(
    client: &reqwest::Client,
    url: &str,
    content_type: &str,
    headers: &[(&str, Option<&str>)],
    body: Vec<u8>,
) -> (u16, Value) {
    let mut req = client.post(url).header("content-type", content_type).body(body);
    for (name, value) in headers {
        if let Some(v) = value {
            req = req.header(*name, *v);
        }
    }
    let resp = req.send().await.expect("POST to the endpoint");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}
