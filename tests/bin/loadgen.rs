//! A bounded load run against the Discord interactions endpoint, from a second process on
//! loopback, next to the same load against a trivial axum endpoint.
//!
//!     cargo build --release -p raterise -p raterise-tests
//!     target/release/raterise-loadgen bench --raterise target/release/raterise
//!
//! `bench` builds the large generated practice (`raterise dev generate-large`), starts
//! `raterise serve` with a test public key and this program's `trivial` server, then for each
//! runs a fixed duration at a fixed concurrency (capped at a request count) of signed
//! `/rates PAYER` interactions and prints throughput and latency percentiles. Only 127.0.0.1 is
//! ever contacted.

use ed25519_dalek::{Signer, SigningKey};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const GUILD: &str = "1000000000000000099";
const KEY_SEED: [u8; 32] = [11u8; 32];

struct Args {
    cmd: String,
    raterise: String,
    bind: String,
    payers: usize,
    duration: u64,
    warmup: u64,
    concurrency: usize,
    max_requests: u64,
    /// `rates` (the benchmark) or `help` (no database work), to see where time goes.
    command: String,
    /// Rounds of both targets, alternating which goes first; the summary quotes medians.
    rounds: usize,
}

fn usage() -> ! {
    eprintln!(
        "usage: raterise-loadgen bench --raterise PATH [--payers 40] [--duration 10] [--warmup 2] \
         [--concurrency 8] [--max-requests 200000] [--rounds 1] [--command rates|help]\n       raterise-loadgen trivial [--bind 127.0.0.1:0]"
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut a = Args {
        cmd: String::new(),
        raterise: "target/release/raterise".into(),
        bind: "127.0.0.1:0".into(),
        payers: 40,
        duration: 10,
        warmup: 2,
        concurrency: 8,
        max_requests: 200_000,
        command: "rates".into(),
        rounds: 1,
    };
    let mut it = std::env::args().skip(1);
    a.cmd = it.next().unwrap_or_else(|| usage());
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| usage());
        let num = || value.parse::<u64>().unwrap_or_else(|_| usage());
        match flag.as_str() {
            "--raterise" => a.raterise = value.clone(),
            "--bind" => a.bind = value.clone(),
            "--payers" => a.payers = num() as usize,
            "--duration" => a.duration = num(),
            "--warmup" => a.warmup = num(),
            "--concurrency" => a.concurrency = num() as usize,
            "--max-requests" => a.max_requests = num(),
            "--rounds" => a.rounds = (num() as usize).max(1),
            "--command" if value == "rates" || value == "help" => a.command = value.clone(),
            _ => usage(),
        }
    }
    if !a.bind.starts_with("127.") && !a.bind.starts_with("localhost") {
        eprintln!("loadgen only binds to loopback");
        std::process::exit(2);
    }
    a
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `body` with an interaction id of its own (ids are unique per interaction; a repeat is a replay).
fn unique_id(body: &[u8]) -> Vec<u8> {
    static N: AtomicU64 = AtomicU64::new(1);
    let id = (1_290_000_000_000_000_001u64 + N.fetch_add(1, Ordering::SeqCst)).to_string();
    String::from_utf8_lossy(body).replacen("1290000000000000001", &id, 1).into_bytes()
}

/// A real-shaped `/rates payer:Cigna` (or `/help`) interaction from a member of the guild.
fn payload(command: &str) -> Vec<u8> {
    let data = if command == "help" {
        json!({"id": "1300000000000000002", "name": "help", "type": 1, "options": []})
    } else {
        json!({"id": "1300000000000000001", "name": "rates", "type": 1,
               "options": [{"name": "payer", "type": 3, "value": "Cigna"}]})
    };
    serde_json::to_vec(&json!({
        "id": "1290000000000000001", "application_id": "1200000000000000000", "type": 2,
        "token": "bG9hZC10ZXN0LXRva2Vu", "version": 1, "guild_id": GUILD, "guild_locale": "en-US",
        "channel_id": "1100000000000000009", "channel": {"id": "1100000000000000009", "type": 0, "name": "rates"},
        "app_permissions": "2248473465835073", "locale": "en-US", "entitlements": [], "context": 0,
        "authorizing_integration_owners": {"0": GUILD}, "attachment_size_limit": 10485760,
        "member": {
            "user": {"id": "80351110224678913", "username": "load", "global_name": "Load", "discriminator": "0", "avatar": null},
            "roles": [], "permissions": "3072", "nick": null, "avatar": null,
            "joined_at": "2024-03-01T12:00:00.000000+00:00", "deaf": false, "mute": false, "flags": 0, "pending": false
        },
        "data": data
    }))
    .expect("json")
}

#[derive(Debug)]
struct Result_ {
    target: &'static str,
    requests: u64,
    errors: u64,
    seconds: f64,
    latencies_us: Vec<u32>,
}

impl Result_ {
    fn throughput(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

async fn load(
    target: &'static str,
    url: &str,
    key: Option<&SigningKey>,
    body: Vec<u8>,
    duration: Duration,
    concurrency: usize,
    max_requests: u64,
) -> Result_ {
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency).build().expect("client");
    let sent = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let body = Arc::new(body);
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, url, body, sent, errors) =
            (client.clone(), url.to_string(), body.clone(), sent.clone(), errors.clone());
        let key = key.cloned();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let n = sent.fetch_add(1, Ordering::SeqCst);
                if Instant::now() >= deadline || n >= max_requests {
                    break;
                }
                // Every interaction has its own id (the server answers a repeated one without
                // running it), so each request is its own body, signed.
                let body = unique_id(&body);
                let mut req = client.post(&url).header("content-type", "application/json").body(body.clone());
                if let Some(key) = &key {
                    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
                    let mut msg = now.to_string().into_bytes();
                    msg.extend_from_slice(&body);
                    let sig = hex(&key.sign(&msg).to_bytes());
                    req = req.header("X-Signature-Timestamp", now.to_string()).header("X-Signature-Ed25519", sig);
                }
                let t0 = Instant::now();
                match req.send().await {
                    Ok(r) if r.status().is_success() => match r.bytes().await {
                        Ok(_) => lat.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32),
                        Err(_) => {
                            errors.fetch_add(1, Ordering::SeqCst);
                        }
                    },
                    _ => {
                        errors.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
            lat
        }));
    }
    let mut latencies_us = Vec::new();
    for t in tasks {
        latencies_us.extend(t.await.expect("worker"));
    }
    let seconds = start.elapsed().as_secs_f64();
    latencies_us.sort_unstable();
    Result_ {
        target,
        requests: latencies_us.len() as u64,
        errors: errors.load(Ordering::SeqCst),
        seconds,
        latencies_us,
    }
}

fn spawn_with_address(mut cmd: Command, what: &str) -> (Child, String) {
    let mut child =
        cmd.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).expect("address line");
    let addr = line.trim().rsplit(' ').next().unwrap_or("").to_string();
    assert!(addr.starts_with("http://127.0.0.1:"), "{what} did not start: {line:?}");
    (child, addr)
}

fn stop(mut child: Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}

async fn trivial(bind: &str) {
    let app = axum::Router::new().route(
        "/discord/interactions",
        axum::routing::post(|_body: axum::body::Bytes| async { axum::Json(json!({"type": 1})) }),
    );
    let listener = tokio::net::TcpListener::bind(bind).await.expect("bind");
    println!("trivial listening on http://{}", listener.local_addr().unwrap());
    let stop = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal");
        tokio::select! { _ = term.recv() => {}, _ = tokio::signal::ctrl_c() => {} }
    };
    axum::serve(listener, app).with_graceful_shutdown(stop).await.expect("serve");
}

async fn bench(a: &Args) {
    let dir = std::env::temp_dir().join(format!("raterise-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("large.db");
    let t = Instant::now();
    let out = Command::new(&a.raterise)
        .args([
            "--db",
            db.to_str().unwrap(),
            "dev",
            "generate-large",
            "--payers",
            &a.payers.to_string(),
            "--guild",
            GUILD,
        ])
        .env("RATERISE_NOW", "2026-11-27T15:00:00Z")
        .output()
        .expect("run raterise dev generate-large");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    eprintln!("{} ({:.1}s)", String::from_utf8_lossy(&out.stdout).trim(), t.elapsed().as_secs_f64());

    let key = SigningKey::from_bytes(&KEY_SEED);
    let mut serve = Command::new(&a.raterise);
    serve
        .args(["--db", db.to_str().unwrap(), "serve", "--bind", "127.0.0.1:0"])
        .env("DISCORD_PUBLIC_KEY", hex(key.verifying_key().as_bytes()))
        // Follow-ups (none are expected) would go to a closed loopback port, never to Discord.
        .env("DISCORD_API_URL", "http://127.0.0.1:9")
        .env("RATERISE_NOW", "2026-11-27T15:00:00Z")
        .env("RUST_LOG", "warn")
        .env_remove("DISCORD_TOKEN");
    let (serve_child, serve_url) = spawn_with_address(serve, "raterise serve");
    let mut trivial_cmd = Command::new(std::env::current_exe().unwrap());
    trivial_cmd.args(["trivial", "--bind", "127.0.0.1:0"]);
    let (trivial_child, trivial_url) = spawn_with_address(trivial_cmd, "trivial server");

    let body = payload(&a.command);
    // Sanity: the endpoint really answers /rates for the large practice.
    {
        let ts = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
        let mut msg = ts.clone().into_bytes();
        msg.extend_from_slice(&body);
        let r: Value = reqwest::Client::new()
            .post(format!("{serve_url}/discord/interactions"))
            .header("X-Signature-Timestamp", &ts)
            .header("X-Signature-Ed25519", hex(&key.sign(&msg).to_bytes()))
            .body(body.clone())
            .send()
            .await
            .expect("sanity request")
            .json()
            .await
            .expect("json");
        let desc = r.pointer("/data/embeds/0/description").and_then(Value::as_str).unwrap_or("");
        assert_eq!(r["type"], 4, "{r}");
        if a.command == "rates" {
            assert!(desc.contains("```") && desc.matches('\n').count() > 20, "expected a 20-code table: {r}");
        }
        eprintln!(
            "sanity: /rates Cigna answered with {} embed(s)",
            r["data"]["embeds"].as_array().map(Vec::len).unwrap_or(0)
        );
    }

    let dur = Duration::from_secs(a.duration);
    let warm = Duration::from_secs(a.warmup);
    let ours_name = if a.command == "help" {
        "raterise /discord/interactions (/help, signed)"
    } else {
        "raterise /discord/interactions (/rates Cigna, signed)"
    };
    let ours_url = format!("{serve_url}/discord/interactions");
    let trivial_url = format!("{trivial_url}/discord/interactions");
    // Per round: (ours, trivial). Odd rounds run the trivial endpoint first, so a machine that
    // gets busier or quieter during the run does not favour one side.
    let mut rounds: Vec<(Result_, Result_)> = Vec::new();
    for round in 0..a.rounds {
        let ours_first = round % 2 == 0;
        let mut pair = (None, None);
        for side in if ours_first { [true, false] } else { [false, true] } {
            if side {
                let _ = load(ours_name, &ours_url, Some(&key), body.clone(), warm, a.concurrency, a.max_requests).await;
                pair.0 = Some(
                    load(ours_name, &ours_url, Some(&key), body.clone(), dur, a.concurrency, a.max_requests).await,
                );
            } else {
                let name = "trivial axum endpoint";
                let _ = load(name, &trivial_url, None, body.clone(), warm, a.concurrency, a.max_requests).await;
                pair.1 = Some(load(name, &trivial_url, None, body.clone(), dur, a.concurrency, a.max_requests).await);
            }
        }
        rounds.push((pair.0.expect("ran"), pair.1.expect("ran")));
    }
    stop(serve_child);
    stop(trivial_child);
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "duration {}s per target after {}s warm-up, concurrency {}, cap {} requests, {} payers, {} round(s)",
        a.duration, a.warmup, a.concurrency, a.max_requests, a.payers, a.rounds
    );
    println!("| round | target | requests | errors | throughput (req/s) | p50 (ms) | p99 (ms) | max (ms) |");
    println!("|---:|---|---:|---:|---:|---:|---:|---:|");
    for (i, (ours, trivial)) in rounds.iter().enumerate() {
        for r in [ours, trivial] {
            println!(
                "| {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} |",
                i + 1,
                r.target,
                r.requests,
                r.errors,
                r.throughput(),
                pct(&r.latencies_us, 0.50),
                pct(&r.latencies_us, 0.99),
                r.latencies_us.last().copied().unwrap_or(0) as f64 / 1000.0
            );
        }
    }
    let ratios: Vec<f64> = rounds.iter().map(|(o, t)| 100.0 * o.throughput() / t.throughput()).collect();
    let list: Vec<String> = ratios.iter().map(|r| format!("{r:.1}%")).collect();
    println!(
        "raterise throughput is {:.1}% of the trivial endpoint's (median of {} round(s): {}); medians: raterise {:.0} req/s, p99 {:.2} ms; trivial {:.0} req/s",
        median(ratios.clone()),
        rounds.len(),
        list.join(", "),
        median(rounds.iter().map(|(o, _)| o.throughput()).collect()),
        median(rounds.iter().map(|(o, _)| pct(&o.latencies_us, 0.99)).collect()),
        median(rounds.iter().map(|(_, t)| t.throughput()).collect()),
    );
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn main() {
    let a = parse_args();
    // One worker thread: the load generator leaves the other core to the server it measures.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    match a.cmd.as_str() {
        "trivial" => rt.block_on(trivial(&a.bind)),
        "bench" => rt.block_on(bench(&a)),
        _ => usage(),
    }
}
