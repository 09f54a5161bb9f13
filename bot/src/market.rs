//! `raterise market ...`: importing payers' Transparency-in-Coverage files and the NPPES table
//! from disk or over HTTPS.
//!
//! Fetching: only from hosts the operator lists in `RATERISE_MARKET_HOSTS` (comma-separated, e.g.
//! `transparency-in-coverage.uhc.com,d25kgz5rikkq4n.cloudfront.net`), HTTPS only, at most
//! `RATERISE_MARKET_MAX_BYTES` bytes (default 64 GiB) per file, with a 30 s connect and a 120 s
//! read timeout. A dropped connection is resumed with a Range request (If-Range on the ETag, and
//! the total length checked) up to five times; a server that ignores ranges means starting over.
//! `RATERISE_MARKET_ALLOW_HTTP=1` also allows plain http: for tests against 127.0.0.1 only.

use raterise_commands::handlers::market as handler;
use raterise_commands::tic;
use raterise_commands::{AppError, Ctx};
use std::io::Read;
use std::process::ExitCode;
use std::sync::mpsc::{sync_channel, Receiver};
use std::time::Duration;

/// Where URLs may be fetched from, and how much.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    pub hosts: Vec<String>,
    pub allow_http: bool,
    pub max_bytes: u64,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub retries: u32,
}

impl FetchPolicy {
    pub fn from_env() -> FetchPolicy {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        FetchPolicy {
            hosts: var("RATERISE_MARKET_HOSTS")
                .map(|v| v.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect())
                .unwrap_or_default(),
            allow_http: var("RATERISE_MARKET_ALLOW_HTTP").is_some_and(|v| v == "1"),
            max_bytes: var("RATERISE_MARKET_MAX_BYTES").and_then(|v| v.parse().ok()).unwrap_or(64 << 30),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(120),
            retries: 5,
        }
    }

    /// The URL, if it may be fetched; otherwise what to do.
    pub fn check(&self, url: &str) -> Result<reqwest::Url, String> {
        let u = reqwest::Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
        match u.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            s => return Err(format!("only https:// addresses are fetched (not {s}://)")),
        }
        let host = u.host_str().unwrap_or("").to_ascii_lowercase();
        if !self.hosts.contains(&host) {
            return Err(format!(
                "{host} is not an allowed host; an operator adds it to RATERISE_MARKET_HOSTS (comma-separated) to fetch from it"
            ));
        }
        Ok(u)
    }

    fn client(&self) -> Result<reqwest::Client, String> {
        reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            .user_agent(concat!("raterise/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("starting the HTTP client: {e}"))
    }
}

pub fn is_url(s: &str) -> bool {
    s.starts_with("https://") || s.starts_with("http://")
}

/// A blocking reader over chunks a download task sends.
struct ChannelReader {
    rx: Receiver<Result<Vec<u8>, String>>,
    cur: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.cur.len() {
            match self.rx.recv() {
                Ok(Ok(c)) => {
                    self.cur = c;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(std::io::Error::other(e)),
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.cur.len() - self.pos);
        out[..n].copy_from_slice(&self.cur[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Streams a URL as a blocking reader, resuming after dropped connections.
pub fn open_url(url: &str, policy: &FetchPolicy) -> Result<Box<dyn Read + Send>, String> {
    let url = policy.check(url)?;
    let client = policy.client()?;
    let policy = policy.clone();
    let (tx, rx) = sync_channel::<Result<Vec<u8>, String>>(8);
    tokio::spawn(async move {
        if let Err(e) = download(&client, url, &policy, &tx).await {
            let _ = tx.send(Err(e));
        }
    });
    Ok(Box::new(ChannelReader { rx, cur: Vec::new(), pos: 0 }))
}

/// Sends the body chunk by chunk. A blocking send on a bounded channel keeps memory flat; it runs
/// on a blocking-capable worker through `block_in_place`.
async fn download(
    client: &reqwest::Client,
    url: reqwest::Url,
    policy: &FetchPolicy,
    tx: &std::sync::mpsc::SyncSender<Result<Vec<u8>, String>>,
) -> Result<(), String> {
    let mut got: u64 = 0;
    let mut etag: Option<String> = None;
    let mut total: Option<u64> = None;
    let mut attempts = 0u32;
    loop {
        let mut req = client.get(url.clone());
        if got > 0 {
            req = req.header(reqwest::header::RANGE, format!("bytes={got}-"));
            if let Some(e) = &etag {
                req = req.header(reqwest::header::IF_RANGE, e.clone());
            }
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if attempts < policy.retries => {
                attempts += 1;
                tracing::warn!(error = %e, attempt = attempts, "market download: retrying");
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempts))).await;
                continue;
            }
            Err(e) => return Err(format!("fetching {}: {e}", url.host_str().unwrap_or(""))),
        };
        let status = resp.status();
        if got == 0 {
            if !status.is_success() {
                return Err(format!("the server answered {status} for {url}"));
            }
            etag = resp.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_string);
            total = resp.content_length();
            if total.is_some_and(|t| t > policy.max_bytes) {
                return Err(format!(
                    "the file is larger than the {} byte limit (RATERISE_MARKET_MAX_BYTES)",
                    policy.max_bytes
                ));
            }
        } else {
            // A resumed request must continue exactly where the last one stopped, on the same file.
            let range = resp.headers().get(reqwest::header::CONTENT_RANGE).and_then(|v| v.to_str().ok()).unwrap_or("");
            let expected = format!("bytes {got}-");
            let same_total = match (total, range.rsplit('/').next().and_then(|t| t.parse::<u64>().ok())) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            if status != reqwest::StatusCode::PARTIAL_CONTENT || !range.starts_with(&expected) || !same_total {
                return Err(format!(
                    "the connection dropped after {got} bytes and the server cannot resume this file ({status}); run the import again"
                ));
            }
        }
        let mut resp = resp;
        let mut failed = None;
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    got += c.len() as u64;
                    if got > policy.max_bytes {
                        return Err(format!("the file is larger than the {} byte limit", policy.max_bytes));
                    }
                    attempts = 0;
                    let sent = tokio::task::block_in_place(|| tx.send(Ok(c.to_vec())));
                    if sent.is_err() {
                        return Ok(()); // the reader stopped (an error there, or done)
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let complete = total.is_none_or(|t| got >= t);
        match failed {
            None if complete => return Ok(()),
            _ if attempts < policy.retries && total.is_some() => {
                attempts += 1;
                tracing::warn!(
                    bytes = got,
                    attempt = attempts,
                    "market download dropped; resuming with a Range request"
                );
            }
            Some(e) => return Err(format!("the download failed after {got} bytes: {e}")),
            None => return Err(format!("the download ended after {got} of {} bytes", total.unwrap_or(0))),
        }
    }
}

fn open(source: &str, policy: &FetchPolicy) -> Result<Box<dyn Read + Send>, String> {
    if is_url(source) {
        return open_url(source, policy);
    }
    std::fs::File::open(source)
        .map(|f| Box::new(f) as Box<dyn Read + Send>)
        .map_err(|e| format!("Could not open {source}: {e}"))
}

/// The name stored as the source: the URL without its query (signed URLs carry keys), or the
/// file's name.
fn source_name(source: &str) -> String {
    if is_url(source) {
        return source.split(['?', '#']).next().unwrap_or(source).to_string();
    }
    std::path::Path::new(source).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| source.into())
}

/// Fetches 1.x `location` provider references, four at a time, each at most 256 MB.
async fn fetch_locations(list: &[(u64, String)], policy: &FetchPolicy) -> Result<Vec<(u64, Vec<u8>)>, String> {
    use futures_util::stream::{self, StreamExt};
    let client = policy.client()?;
    let results: Vec<Result<(u64, Vec<u8>), String>> = stream::iter(list.iter().cloned())
        .map(|(id, url)| {
            let client = client.clone();
            async move {
                let u = policy.check(&url).map_err(|e| format!("provider reference {id}: {e}"))?;
                let mut resp = client
                    .get(u)
                    .send()
                    .await
                    .and_then(|r| r.error_for_status())
                    .map_err(|e| format!("provider reference {id} ({url}): {e}"))?;
                let mut body = Vec::new();
                while let Some(c) = resp.chunk().await.map_err(|e| format!("provider reference {id}: {e}"))? {
                    body.extend_from_slice(&c);
                    if body.len() > 256 << 20 {
                        return Err(format!("provider reference {id} is larger than 256 MB"));
                    }
                }
                Ok((id, body))
            }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    results.into_iter().collect()
}

fn fail(e: impl std::fmt::Display, code: u8) -> ExitCode {
    eprintln!("{e}");
    ExitCode::from(code)
}

fn app_fail(e: &AppError) -> ExitCode {
    if e.is_internal() {
        tracing::error!(error = %e, "market command failed");
    }
    fail(e.user_message(), if e.is_internal() { 2 } else { 1 })
}

fn print_json<T: serde::Serialize>(v: &T) -> ExitCode {
    match serde_json::to_string_pretty(v) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("serializing the result: {e}"), 2),
    }
}

/// `raterise market import FILE_OR_URL --payer NAME [--state XX] [--json]`.
pub async fn import(ctx: &Ctx, source: &str, payer: &str, state: Option<&str>, json: bool) -> ExitCode {
    let policy = FetchPolicy::from_env();
    if payer.trim().is_empty() {
        return fail("--payer: name the payer whose file this is (as your practice calls it, e.g. Cigna)", 1);
    }
    let (opts, bh) = match handler::prepare(ctx, state).await {
        Ok(x) => x,
        Err(e) => return app_fail(&e),
    };
    let input = match open(source, &policy) {
        Ok(r) => r,
        Err(e) => return fail(e, 1),
    };
    let imported_on = opts.import_date;
    let mut extract = match handler::scan(input, opts.clone(), bh.clone()).await {
        Ok(x) => x,
        Err(e) => return app_fail(&e),
    };
    if !extract.locations.is_empty() {
        let list = std::mem::take(&mut extract.locations);
        match fetch_locations(&list, &policy).await {
            Ok(files) => {
                for (id, bytes) in files {
                    match tic::parse_location(&bytes) {
                        Ok(groups) => extract.add_location(id, &groups, &opts, &bh),
                        Err(e) => return fail(format!("Nothing was stored: provider reference {id}: {e}"), 1),
                    }
                }
            }
            Err(e) => return fail(format!("Nothing was stored: {e}"), 1),
        }
    }
    let market = extract.finish(&opts, &bh);
    match handler::store(ctx, market, payer.trim(), opts.state.as_deref(), &source_name(source), imported_on).await {
        Ok(summary) if json => print_json(&summary),
        Ok(summary) => {
            print!("{}", summary.to_text());
            ExitCode::SUCCESS
        }
        Err(e) => app_fail(&e),
    }
}

/// `raterise market nppes FILE [--json]`.
pub async fn nppes(ctx: &Ctx, source: &str, json: bool) -> ExitCode {
    let policy = FetchPolicy::from_env();
    let input = if is_url(source) {
        match open_url(source, &policy) {
            Ok(r) => handler::NppesInput::Csv(r),
            Err(e) => return fail(e, 1),
        }
    } else {
        // The ZIP as CMS publishes it, or the CSV inside it.
        let mut head = [0u8; 4];
        let zip =
            std::fs::File::open(source).and_then(|mut f| f.read(&mut head)).map(|n| tic::nppes::is_zip(&head[..n]));
        match (zip, std::fs::File::open(source)) {
            (Ok(true), Ok(f)) => handler::NppesInput::Zip(f),
            (Ok(false), Ok(f)) => handler::NppesInput::Csv(Box::new(f)),
            (Err(e), _) | (_, Err(e)) => return fail(format!("Could not open {source}: {e}"), 1),
        }
    };
    match handler::load_nppes(ctx, input, &source_name(source)).await {
        Ok(s) if json => print_json(&s),
        Ok(s) => {
            println!(
                "Loaded {} behavioral clinicians from {} NPPES rows of {} ({} organisations and {} deactivated NPIs skipped).",
                s.clinicians, s.rows, s.source, s.organisations_skipped, s.deactivated_skipped
            );
            ExitCode::SUCCESS
        }
        Err(e) => app_fail(&e),
    }
}

/// `raterise market toc FILE_OR_URL [--state XX] [--json]`.
pub async fn toc(ctx: &Ctx, source: &str, state: Option<&str>, json: bool) -> ExitCode {
    let policy = FetchPolicy::from_env();
    let input = match open(source, &policy) {
        Ok(r) => r,
        Err(e) => return fail(e, 1),
    };
    let read = tokio::task::spawn_blocking(move || {
        let mut input = std::io::BufReader::new(input);
        let gz = std::io::BufRead::fill_buf(&mut input).map(|h| h.starts_with(&[0x1f, 0x8b])).unwrap_or(false);
        let mut src: Box<dyn Read> =
            if gz { Box::new(flate2::bufread::MultiGzDecoder::new(input)) } else { Box::new(input) };
        let mut bytes = Vec::new();
        // Tables of contents are tens of MB; refuse anything absurd.
        (&mut src).take(2 << 30).read_to_end(&mut bytes).map(|_| bytes)
    })
    .await;
    let bytes = match read {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return fail(format!("Reading {source}: {e}"), 1),
        Err(e) => return fail(format!("Reading {source}: {e}"), 2),
    };
    let state_name = state.and_then(|s| ctx.medicare.state_name(&s.to_ascii_uppercase()).map(str::to_string));
    match tic::toc::rank(&bytes, state, state_name.as_deref(), 25) {
        Ok(r) if json => print_json(&r),
        Ok(r) => {
            println!(
                "{}: {} in-network file entries; most likely to hold behavioral rates{}:",
                r.reporting_entity_name,
                r.in_network_files,
                r.state.as_deref().map(|s| format!(" for {s}")).unwrap_or_default()
            );
            for (i, f) in r.files.iter().enumerate() {
                println!(
                    "{:>2}. [{}] {} ({} plans{}{})",
                    i + 1,
                    f.score,
                    f.location,
                    f.plans,
                    if f.reasons.is_empty() { "" } else { "; " },
                    f.reasons.join(", ")
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_hosts_over_https() {
        let p = FetchPolicy {
            hosts: vec!["files.example.org".into()],
            allow_http: false,
            max_bytes: 1,
            connect_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(1),
            retries: 0,
        };
        assert!(p.check("https://files.example.org/a.json.gz").is_ok());
        assert!(p.check("http://files.example.org/a.json.gz").unwrap_err().contains("https"));
        assert!(p.check("https://evil.example.org/a").unwrap_err().contains("RATERISE_MARKET_HOSTS"));
        assert_eq!(source_name("https://x.org/a.json.gz?sig=secret"), "https://x.org/a.json.gz");
        assert_eq!(source_name("/tmp/dir/file.json"), "file.json");
    }
}
