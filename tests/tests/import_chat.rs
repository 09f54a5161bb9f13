//! `/import claims` and `/import era` in chat: the attached files are fetched from a fake file
//! host on 127.0.0.1 (standing in for Discord's CDN and Slack's file host), imported, and
//! summarised; an attachment URL on any other host is refused without a request being made.

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::routing::get;
use raterise::fetch::Fetcher;
use raterise::server;
use raterise::slack::convert::Admins;
use raterise::slack::{Slack, SlackSettings};
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::store::Store;
use raterise_commands::Ctx;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CSV: &str = "Date of Service,Client,CPT Code,Insurance,Insurance Paid,Date Paid\n\
2026-03-02,Quentin Marsh,90837,Cigna,118.50,2026-03-30\n\
2026-03-09,Quentin Marsh,90837,Cigna,118.50,2026-04-02\n\
2026-03-10,\"Lowe, Harriet\",90834,Cigna,92.00,2026-04-01\n";

#[derive(Clone, Default)]
struct Host {
    hits: Arc<AtomicUsize>,
    auth: Arc<Mutex<Vec<String>>>,
    /// Bytes served at a path; every other path serves the claims CSV.
    files: Arc<HashMap<String, Vec<u8>>>,
}

impl Host {
    fn serving(files: HashMap<String, Vec<u8>>) -> Host {
        Host { files: Arc::new(files), ..Host::default() }
    }
}

/// A file host on 127.0.0.1; returns its `host:port`.
async fn file_host(host: Host) -> String {
    async fn serve(
        State(h): State<Host>,
        uri: Uri,
        headers: HeaderMap,
    ) -> ([(&'static str, &'static str); 1], Vec<u8>) {
        h.hits.fetch_add(1, Ordering::SeqCst);
        if let Some(a) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
            h.auth.lock().unwrap().push(a.to_string());
        }
        match h.files.get(uri.path()) {
            Some(bytes) => ([("content-type", "application/octet-stream")], bytes.clone()),
            None => ([("content-type", "text/csv")], CSV.as_bytes().to_vec()),
        }
    }
    let app = axum::Router::new().fallback(get(serve)).with_state(host);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}

/// Remittances to attach: one 835 on its own, two in a zip (with a README the import passes
/// over), and one cut short (refused, nothing of it stored). What the import must report comes
/// from the generator's own totals.
struct EraFiles {
    /// path on the file host -> bytes
    served: HashMap<String, Vec<u8>>,
    claims: usize,
    service_lines: usize,
    checks: Vec<String>,
    refused_checks: Vec<String>,
    payers: Vec<&'static str>,
}

const ERA_SINGLE: &str = "/attachments/1/2/first.835";
const ERA_ZIP: &str = "/attachments/1/3/more.zip";
const ERA_BROKEN: &str = "/attachments/1/4/broken.835";

fn era_files() -> EraFiles {
    use raterise_commands::era::generate::{generate, EraSpec, PAYERS};
    let batch = generate(&EraSpec::small(11));
    let [a, b, c, d] = &batch.files[..] else { panic!("the small batch has four files") };
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for (name, bytes) in [("era/b.835", &b.bytes), ("era/c.835", &c.bytes), ("era/README.txt", &b"not x12".to_vec())] {
        zip.start_file(name, opts).unwrap();
        zip.write_all(bytes).unwrap();
    }
    let zip = zip.finish().unwrap().into_inner();
    let broken = d.bytes[..d.bytes.len() / 2].to_vec();
    let good = [a, b, c];
    let numbers =
        |f: &raterise_commands::era::generate::GenFile| f.totals.checks.iter().map(|c| c.1.clone()).collect::<Vec<_>>();
    EraFiles {
        served: HashMap::from([
            (ERA_SINGLE.to_string(), a.bytes.clone()),
            (ERA_ZIP.to_string(), zip),
            (ERA_BROKEN.to_string(), broken),
        ]),
        claims: good.iter().map(|f| f.totals.claims).sum(),
        service_lines: good.iter().map(|f| f.totals.service_lines).sum(),
        checks: good.iter().flat_map(|f| numbers(f)).collect(),
        refused_checks: numbers(d).into_iter().filter(|n| !good.iter().any(|f| numbers(f).contains(n))).collect(),
        payers: PAYERS.iter().map(|p| p.name).collect(),
    }
}

impl EraFiles {
    /// The summary names every check of the good files, the broken file with a segment, the
    /// zip's README as passed over, and the right counts.
    fn assert_summary(&self, reply: &Value, files: usize) {
        let all = reply.to_string();
        for n in &self.checks {
            assert!(all.contains(n.as_str()), "check {n} missing: {all}");
        }
        for n in &self.refused_checks {
            assert!(!all.contains(n.as_str()), "a check of the refused file was imported: {n}");
        }
        assert!(all.contains("broken.835: segment "), "{all}");
        assert!(all.contains("more.zip/era/README.txt"), "{all}");
        for (label, n) in [("Claims", self.claims), ("Service lines", self.service_lines), ("Files", files)] {
            // Discord: `**Label:** n` in the embed; Slack: a `*Label*\nn` field.
            let (discord, slack) = (format!("**{label}:** {n}\\n"), format!("\"*{label}*\\n{n}\""));
            assert!(all.contains(&discord) || all.contains(&slack), "{label} {n}: {all}");
        }
    }
}

mod discord {
    use super::*;
    use raterise_tests::discord::*;

    const GUILD: &str = "1000000000000000007";

    async fn run(served: &Served, payload: Value) -> Value {
        let c = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
        let (status, body) = post_signed(&c, &served.interactions_url(), &test_key(), &payload).await;
        assert_eq!(status, 200, "{body}\nstderr: {}", served.stderr());
        body
    }

    fn import_with(url: &str) -> Value {
        let manager = Who::manager(GUILD);
        let mut v = command(
            &manager,
            "import",
            Some("claims"),
            json!([{"name": "file", "type": 11, "value": "1400000000000000001"}]),
        );
        v["data"]["resolved"] = json!({"attachments": {"1400000000000000001": {
            "id": "1400000000000000001", "filename": "export.csv", "size": CSV.len(),
            "url": url, "proxy_url": url, "content_type": "text/csv"
        }}});
        v
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_discord_attachment_is_fetched_from_the_allowed_host_and_imported() {
        let fake = FakeDiscord::start().await;
        let allowed = Host::default();
        let allowed_addr = file_host(allowed.clone()).await;
        let other = Host::default();
        let other_addr = file_host(other.clone()).await;
        let key = test_key().public_hex();
        let served = Served::start(&[
            ("DISCORD_PUBLIC_KEY", key.as_str()),
            ("DISCORD_API_URL", fake.url.as_str()),
            ("RATERISE_TEST_FILE_HOSTS", allowed_addr.as_str()),
            ("RATERISE_DISCORD_DEFER_MS", "10000"),
        ]);
        let manager = Who::manager(GUILD);
        run(
            &served,
            command(
                &manager,
                "setup",
                None,
                options(&[("locality", json!("MANHATTAN, NY")), ("credential", json!("lcsw"))]),
            ),
        )
        .await;
        run(
            &served,
            command(
                &manager,
                "payer",
                Some("add"),
                options(&[("name", json!("Cigna")), ("kind", json!("commercial"))]),
            ),
        )
        .await;

        let r = run(&served, import_with(&format!("http://{allowed_addr}/attachments/1/2/export.csv"))).await;
        let text = text_of(&r["data"]);
        assert!(text.contains("Claims added") && text.contains('3'), "{r}");
        assert!(!text.contains("Quentin") && !text.contains("Harriet"), "a client's name reached chat: {text}");
        assert_eq!(allowed.hits.load(Ordering::SeqCst), 1);

        let r = run(&served, import_with(&format!("http://{other_addr}/attachments/1/2/export.csv"))).await;
        assert!(text_of(&r["data"]).contains("only reads files attached"), "{r}");
        assert_eq!(other.hits.load(Ordering::SeqCst), 0, "a refused URL was fetched");

        // A reply with files (the report's CSV and PNG) is deferred and completed by a follow-up.
        let payload = command(&manager, "report", None, options(&[("payer", json!("Cigna"))]));
        let token = payload["token"].as_str().unwrap().to_string();
        let r = run(&served, payload).await;
        assert_eq!(r["type"], 5, "{r}");
        let path = format!("/api/v10/webhooks/{APP_ID}/{token}/messages/@original");
        let got = fake.wait_for(1, Duration::from_secs(10), |q| q.path == path).await;
        assert_eq!(got.len(), 1, "{:?}", fake.requests());
        let parts = got[0].parts();
        let png = parts.iter().find(|p| p.filename.as_deref().is_some_and(|f| f.ends_with(".png")));
        assert!(
            png.is_some_and(|p| p.content_type.as_deref() == Some("image/png") && p.data.len() > 1000),
            "{parts:?}"
        );
        assert!(String::from_utf8_lossy(&got[0].body).contains("Unique clients"));
    }

    fn import_era_with(urls: &[&str]) -> Value {
        let manager = Who::manager(GUILD);
        let names = ["file", "file2", "file3", "file4", "file5"];
        let mut options = Vec::new();
        let mut resolved = serde_json::Map::new();
        for (i, url) in urls.iter().enumerate() {
            let id = format!("14000000000000001{i:02}");
            options.push(json!({"name": names[i], "type": 11, "value": id}));
            let filename = url.rsplit('/').next().unwrap();
            resolved.insert(
                id.clone(),
                json!({"id": id, "filename": filename, "size": 1000, "url": url, "proxy_url": url,
                       "content_type": "application/octet-stream"}),
            );
        }
        let mut v = command(&manager, "import", Some("era"), Value::Array(options));
        v["data"]["resolved"] = json!({ "attachments": resolved });
        v
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn remittances_attached_in_discord_are_imported_file_by_file() {
        let fake = FakeDiscord::start().await;
        let era = era_files();
        let allowed = Host::serving(era.served.clone());
        let allowed_addr = file_host(allowed.clone()).await;
        let other = Host::serving(era.served.clone());
        let other_addr = file_host(other.clone()).await;
        let key = test_key().public_hex();
        let served = Served::start(&[
            ("DISCORD_PUBLIC_KEY", key.as_str()),
            ("DISCORD_API_URL", fake.url.as_str()),
            ("RATERISE_TEST_FILE_HOSTS", allowed_addr.as_str()),
            ("RATERISE_DISCORD_DEFER_MS", "10000"),
        ]);
        let manager = Who::manager(GUILD);
        let setup = options(&[("locality", json!("MANHATTAN, NY")), ("credential", json!("lcsw"))]);
        run(&served, command(&manager, "setup", None, setup)).await;
        for p in &era.payers {
            let add = options(&[("name", json!(p)), ("kind", json!("commercial"))]);
            run(&served, command(&manager, "payer", Some("add"), add)).await;
        }
        let at = |host: &str, path: &str| format!("http://{host}{path}");
        let r = run(
            &served,
            import_era_with(&[
                &at(&allowed_addr, ERA_SINGLE),
                &at(&allowed_addr, ERA_ZIP),
                &at(&allowed_addr, ERA_BROKEN),
                &at(&other_addr, "/attachments/1/5/elsewhere.835"),
            ]),
        )
        .await;
        era.assert_summary(&r, 5);
        assert!(r.to_string().contains("elsewhere.835: raterise only reads files attached"), "{r}");
        assert_eq!(allowed.hits.load(Ordering::SeqCst), 3);
        assert_eq!(other.hits.load(Ordering::SeqCst), 0, "a refused URL was fetched");
        // The same file again adds nothing.
        let r = run(&served, import_era_with(&[&at(&allowed_addr, ERA_SINGLE)])).await;
        assert!(r.to_string().contains("Already imported"), "{r}");
    }
}

mod slack {
    use super::*;
    use raterise_tests::slack::*;

    const TEAM: &str = "T0IMPORTS1";
    const ADMIN: &str = "U0ADMIN01";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slack_file_link_is_fetched_with_the_bot_token_and_imported() {
        let fake = FakeSlack::start().await;
        let allowed = Host::default();
        let allowed_addr = file_host(allowed.clone()).await;
        let other = Host::default();
        let other_addr = file_host(other.clone()).await;
        let store = Store::open_in_memory().await.unwrap();
        let mut ctx = Ctx::new(store, Arc::new(ManualClock::new(parse_instant(NOW).unwrap()))).await.unwrap();
        ctx.files = Some(Arc::new(Fetcher::for_tests(vec![allowed_addr.clone()], Some(BOT_TOKEN.into()))));
        let settings = SlackSettings {
            signing_secret: SECRET.into(),
            bot_token: Some(BOT_TOKEN.to_string()),
            api_url: Some(fake.api_url()),
            admins: Admins::parse(ADMIN),
        };
        let slack = Arc::new(Slack::new(ctx.clone(), settings).with_ack_after(Duration::from_secs(10)));
        let router = server::with_slack(server::router(None), Some(slack.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/slack/commands", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        let c = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
        let admin = Who::new(TEAM, ADMIN);
        let say = async |text: &str| -> Value {
            let body = slash_body(&admin, "/raterise", text, &fake.response_url("cmd"));
            let (status, r) = post_signed(&c, &url, NOW_UNIX, body).await;
            assert_eq!(status, 200, "{r}");
            r
        };
        say("setup locality:\"MANHATTAN, NY\" credential:lcsw").await;
        say("payer add name:Cigna kind:commercial").await;
        let r = say(&format!("import claims file:<http://{allowed_addr}/files-pri/T0IMPORTS1-F1/export.csv>")).await;
        let text = text_of(&r);
        assert!(text.contains("Claims added"), "{r}");
        assert!(!text.contains("Quentin"), "{text}");
        assert_eq!(allowed.auth.lock().unwrap().as_slice(), [format!("Bearer {BOT_TOKEN}")]);
        let r = say(&format!("import claims file:http://{other_addr}/files-pri/T0IMPORTS1-F1/export.csv")).await;
        assert!(text_of(&r).contains("only reads files attached"), "{r}");
        assert_eq!(other.hits.load(Ordering::SeqCst), 0);
        task.abort();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn remittance_links_in_slack_are_fetched_with_the_bot_token_and_imported() {
        let fake = FakeSlack::start().await;
        let era = era_files();
        let allowed = Host::serving(era.served.clone());
        let allowed_addr = file_host(allowed.clone()).await;
        let other = Host::serving(era.served.clone());
        let other_addr = file_host(other.clone()).await;
        let store = Store::open_in_memory().await.unwrap();
        let mut ctx = Ctx::new(store, Arc::new(ManualClock::new(parse_instant(NOW).unwrap()))).await.unwrap();
        ctx.files = Some(Arc::new(Fetcher::for_tests(vec![allowed_addr.clone()], Some(BOT_TOKEN.into()))));
        let settings = SlackSettings {
            signing_secret: SECRET.into(),
            bot_token: Some(BOT_TOKEN.to_string()),
            api_url: Some(fake.api_url()),
            admins: Admins::parse(ADMIN),
        };
        let slack = Arc::new(Slack::new(ctx.clone(), settings).with_ack_after(Duration::from_secs(10)));
        let router = server::with_slack(server::router(None), Some(slack.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/slack/commands", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        let c = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
        let admin = Who::new(TEAM, ADMIN);
        let say = async |text: &str| -> Value {
            let body = slash_body(&admin, "/raterise", text, &fake.response_url("cmd"));
            let (status, r) = post_signed(&c, &url, NOW_UNIX, body).await;
            assert_eq!(status, 200, "{r}");
            r
        };
        say("setup locality:\"MANHATTAN, NY\" credential:lcsw").await;
        for p in &era.payers {
            say(&format!("payer add name:\"{p}\" kind:commercial")).await;
        }
        let r = say(&format!(
            "import era file:<http://{allowed_addr}{ERA_SINGLE}> file2:<http://{allowed_addr}{ERA_ZIP}|more.zip> \
             file3:http://{allowed_addr}{ERA_BROKEN} file4:<http://{other_addr}/files-pri/T1-F9/elsewhere.835>"
        ))
        .await;
        era.assert_summary(&r, 5);
        assert!(r.to_string().contains("elsewhere.835: raterise only reads files attached"), "{r}");
        let bearer = format!("Bearer {BOT_TOKEN}");
        assert_eq!(allowed.auth.lock().unwrap().as_slice(), [bearer.clone(), bearer.clone(), bearer]);
        assert_eq!(other.hits.load(Ordering::SeqCst), 0, "a refused URL was fetched");
        task.abort();
    }
}
