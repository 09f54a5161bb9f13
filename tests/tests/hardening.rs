//! The real `raterise serve` on 127.0.0.1 against hostile or broken clients (issue 15): bodies
//! refused from their Content-Length, slow clients closed within the timeouts while others are
//! answered, the connection cap, signed requests replayed, and a forged Slack response_url.

use raterise_tests::discord::*;
use raterise_tests::slack::{self as slack, FakeSlack};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const GUILD: &str = "1000000000000000077";

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
}

fn serve(extra: &[(&str, &str)]) -> Served {
    let key = test_key().public_hex();
    let mut envs = vec![("DISCORD_PUBLIC_KEY", key.as_str()), ("DISCORD_API_URL", "http://127.0.0.1:9")];
    envs.extend_from_slice(extra);
    Served::start(&envs)
}

fn host(served: &Served) -> String {
    served.url.trim_start_matches("http://").to_string()
}

/// Everything the server sends until it closes the connection (or `limit` passes: None).
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<(String, Duration)> {
    let start = Instant::now();
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.checked_sub(start.elapsed())?;
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some((String::from_utf8_lossy(&out).into_owned(), start.elapsed())),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
        }
    }
}

async fn healthz(served: &Served) -> u16 {
    client().get(format!("{}/healthz", served.url)).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_body_is_refused_from_its_content_length_before_it_is_sent() {
    let served = serve(&[]);
    let mut s = TcpStream::connect(host(&served)).await.unwrap();
    // Headers only: the 10 MB the length announces never comes.
    s.write_all(
        b"POST /discord/interactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 10000000\r\nX-Signature-Ed25519: 00\r\nX-Signature-Timestamp: 1\r\n\r\n",
    )
    .await
    .unwrap();
    let mut buf = [0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await.expect("an answer").unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    // Unsigned requests are refused before their body is read too.
    let mut s = TcpStream::connect(host(&served)).await.unwrap();
    s.write_all(b"POST /slack/commands HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n").await.unwrap();
    let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf)).await.expect("an answer").unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 401") || head.starts_with("HTTP/1.1 404"), "{head}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_closed_within_the_timeouts_while_others_are_answered() {
    let served = serve(&[("RATERISE_HTTP_HEADER_TIMEOUT_MS", "500"), ("RATERISE_HTTP_BODY_TIMEOUT_MS", "500")]);
    // Headers that never finish.
    let mut headers = TcpStream::connect(host(&served)).await.unwrap();
    headers.write_all(b"POST /discord/interactions HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    // A body that never finishes.
    let mut body = TcpStream::connect(host(&served)).await.unwrap();
    body.write_all(
        b"POST /discord/interactions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\
          X-Signature-Ed25519: 00\r\nX-Signature-Timestamp: 1\r\n\r\n{\"type\":",
    )
    .await
    .unwrap();
    // An idle keep-alive connection that never sends anything.
    let mut idle = TcpStream::connect(host(&served)).await.unwrap();
    assert_eq!(healthz(&served).await, 200, "others are answered meanwhile");
    for (what, s) in [("headers", &mut headers), ("body", &mut body), ("idle", &mut idle)] {
        let (said, after) = read_until_closed(s, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("the slow {what} connection was not closed"));
        eprintln!("slow {what}: closed after {after:?}, said {:?}", said.lines().next());
        if what == "body" {
            assert!(said.starts_with("HTTP/1.1 408"), "{said}");
        }
    }
    assert_eq!(healthz(&served).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_are_refused_at_once() {
    let served = serve(&[("RATERISE_HTTP_MAX_CONNECTIONS", "4"), ("RATERISE_HTTP_HEADER_TIMEOUT_MS", "5000")]);
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(host(&served)).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        held.push(s);
    }
    // Give the server a moment to take the four (the accept loop runs concurrently).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = TcpStream::connect(host(&served)).await.unwrap();
    let (said, after) = read_until_closed(&mut extra, Duration::from_secs(3)).await.expect("refused, not left waiting");
    assert!(said.is_empty() || said.starts_with("HTTP/1.1 503"), "{said}");
    eprintln!("past the cap: refused after {after:?}");
    drop(held);
    // The slots come back once those connections close.
    let start = Instant::now();
    while healthz(&served).await != 200 {
        assert!(start.elapsed() < Duration::from_secs(10), "the cap never freed up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How often `/rate history` of Cigna shows $118.50 (grows with every rate row of that amount).
async fn shown_118_50(served: &Served) -> usize {
    let history = command(&Who::member(GUILD), "rate", Some("history"), options(&[("payer", json!("Cigna"))]));
    let (status, r) = post_signed(&client(), &served.interactions_url(), &test_key(), &history).await;
    assert_eq!(status, 200, "{r}");
    text_of(&r["data"]).matches("118.50").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_discord_interaction_runs_once() {
    let served = serve(&[]);
    let manager = Who::manager(GUILD);
    let url = served.interactions_url();
    for payload in [
        command(
            &manager,
            "setup",
            None,
            options(&[("locality", json!("MANHATTAN, NY")), ("credential", json!("lcsw"))]),
        ),
        command(&manager, "payer", Some("add"), options(&[("name", json!("Cigna"))])),
    ] {
        let (status, r) = post_signed(&client(), &url, &test_key(), &payload).await;
        assert_eq!(status, 200, "{r}");
    }
    let set = command(
        &manager,
        "rate",
        Some("set"),
        options(&[("payer", json!("Cigna")), ("cpt", json!("90837")), ("amount", json!("118.50"))]),
    );
    // The very same signed request, three times.
    let body = serde_json::to_vec(&set).unwrap();
    let ts = unix_now().to_string();
    let sig = test_key().sign(&ts, &body);
    let mut answers = Vec::new();
    let mut shown = Vec::new();
    for _ in 0..3 {
        let (status, r) = post_raw(&client(), &url, Some(&sig), Some(&ts), body.clone()).await;
        assert_eq!(status, 200, "{r}");
        answers.push(text_of(&r["data"]));
        shown.push(shown_118_50(&served).await);
    }
    assert!(!answers[0].contains("already handled"), "{}", answers[0]);
    assert!(answers[1].contains("already handled") && answers[2].contains("already handled"), "{answers:?}");
    assert!(shown[0] > 0 && shown[1] == shown[0] && shown[2] == shown[0], "one rate row: {shown:?}");
    assert!(served.stderr().contains("not running it twice"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_slack_request_runs_once_and_a_forged_response_url_is_refused() {
    let fake = FakeSlack::start().await;
    let api = fake.api_url();
    let served = Served::start(&[
        ("SLACK_SIGNING_SECRET", slack::SECRET),
        ("SLACK_API_URL", api.as_str()),
        ("SLACK_ADMIN_USERS", "U0ADMIN"),
        ("SLACK_BOT_TOKEN", ""),
    ]);
    let url = format!("{}/slack/commands", served.url);
    let admin = slack::Who::new("T0REPLAY", "U0ADMIN");
    let send = |text: &str, response_url: &str| slack::slash_body(&admin, "/raterise", text, response_url);
    let ok_url = fake.response_url("r");
    for text in ["setup locality:\"MANHATTAN, NY\" credential:lcsw", "payer add name:Cigna"] {
        let (status, r) = slack::post_signed(&client(), &url, slack::NOW_UNIX, send(text, &ok_url)).await;
        assert_eq!(status, 200, "{r}");
    }
    let body = send("rate set payer:Cigna cpt:90837 amount:118.50", &ok_url);
    let mut answers: Vec<Value> = Vec::new();
    let mut shown = Vec::new();
    for i in 0..3 {
        let (status, r) = slack::post_signed(&client(), &url, slack::NOW_UNIX, body.clone()).await;
        assert_eq!(status, 200, "{r}");
        answers.push(r);
        // Each history request differs (its response_url), so none is a replay.
        let history = send("rate history payer:Cigna", &fake.response_url(&format!("h{i}")));
        let (_, h) = slack::post_signed(&client(), &url, slack::NOW_UNIX, history).await;
        shown.push(h.to_string().matches("118.50").count());
    }
    assert!(!answers[0].to_string().contains("already handled"), "{}", answers[0]);
    assert!(answers[1].to_string().contains("already handled"), "{}", answers[1]);
    assert!(answers[2].to_string().contains("already handled"), "{}", answers[2]);
    assert!(shown[0] > 0 && shown[1] == shown[0] && shown[2] == shown[0], "one rate row: {shown:?}");
    // A response_url anywhere but Slack's hooks host (or the configured API stand-in) is refused.
    for forged in ["https://evil.example/hook", "http://hooks.slack.com/commands/x", "http://127.0.0.1:9/x"] {
        let (status, r) = slack::post_signed(&client(), &url, slack::NOW_UNIX, send("help", forged)).await;
        assert_eq!(status, 400, "{forged}: {r}");
    }
    assert!(served.stderr().contains("response_url is not on Slack's hooks host"), "{}", served.stderr());
}

/// VmRSS (or another /proc status line) of a process, in kB.
fn status_kb(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(key)).unwrap_or_else(|| panic!("no {key}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// After a flood of connections each buffering most of a body, memory goes back to near idle once
/// they are closed (glibc kept the freed buffers until serve trimmed them).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_goes_back_down_after_a_body_flood() {
    let served = serve(&[("RATERISE_HTTP_BODY_TIMEOUT_MS", "1500")]);
    assert_eq!(healthz(&served).await, 200);
    let idle = status_kb(served.pid(), "VmRSS:");
    let head = b"POST /discord/interactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                 X-Signature-Ed25519: 00\r\nX-Signature-Timestamp: 1\r\nContent-Length: 120000\r\n\r\n";
    let part = vec![b'x'; 100_000];
    let mut held = Vec::new();
    for _ in 0..200 {
        let mut s = TcpStream::connect(host(&served)).await.unwrap();
        s.write_all(head).await.unwrap();
        s.write_all(&part).await.unwrap();
        held.push(s);
    }
    // Every body times out (408) and its connection is closed.
    for s in held.iter_mut() {
        let (text, _) = read_until_closed(s, Duration::from_secs(30)).await.expect("closed after the body timeout");
        assert!(text.is_empty() || text.starts_with("HTTP/1.1 408") || text.starts_with("HTTP/1.1 503"), "{text}");
    }
    drop(held);
    let peak = status_kb(served.pid(), "VmHWM:");
    assert!(peak > idle + 10_000, "the flood held its buffers: idle {idle} kB, peak {peak} kB");
    // Back near idle soon after (the trim runs half a second after the last connection closed).
    let start = Instant::now();
    let mut now = status_kb(served.pid(), "VmRSS:");
    while now > idle + (peak - idle) / 3 && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        now = status_kb(served.pid(), "VmRSS:");
    }
    assert!(now <= idle + (peak - idle) / 3, "idle {idle} kB, peak {peak} kB, after {now} kB");
    assert_eq!(healthz(&served).await, 200);
}
