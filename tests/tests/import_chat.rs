//! `/import claims` in chat: the attached CSV is fetched from a fake file host on 127.0.0.1
//! (standing in for Discord's CDN and Slack's file host), imported, and summarised; an
//! attachment URL on any other host is refused without a request being made.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use raterise::fetch::Fetcher;
use raterise::server;
use raterise::slack::convert::Admins;
use raterise::slack::{Slack, SlackSettings};
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::store::Store;
use raterise_commands::Ctx;
use serde_json::{json, Value};
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
}

/// A file host on 127.0.0.1 serving CSV at every path; returns its `host:port`.
async fn file_host(host: Host) -> String {
    async fn serve(State(h): State<Host>, headers: HeaderMap) -> ([(&'static str, &'static str); 1], &'static str) {
        h.hits.fetch_add(1, Ordering::SeqCst);
        if let Some(a) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
            h.auth.lock().unwrap().push(a.to_string());
        }
        ([("content-type", "text/csv")], CSV)
    }
    let app = axum::Router::new().fallback(get(serve)).with_state(host);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
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
}
