//! The Slack endpoints through the real axum router on 127.0.0.1, in process: signed slash
//! commands and button presses in, Block Kit out, answers after the deadline and files through
//! a fake Slack that records every request.

use raterise::server;
use raterise::slack::api::{ApiError, SlackApi};
use raterise::slack::convert::Admins;
use raterise::slack::render::{limit_violations, render};
use raterise::slack::{Slack, SlackSettings};
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::store::Store;
use raterise_commands::{Ctx, Platform, Tenant};
use raterise_tests::slack::*;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const TEAM_A: &str = "T0PRACTICEA";
const TEAM_B: &str = "T0PRACTICEB";
const ADMIN: &str = "U0ADMIN01";
const MEMBER: &str = "U0MEMBER02";

struct App {
    url: String,
    ctx: Ctx,
    slack: Arc<Slack>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for App {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl App {
    fn commands(&self) -> String {
        format!("{}/slack/commands", self.url)
    }
    fn interactivity(&self) -> String {
        format!("{}/slack/interactivity", self.url)
    }
}

struct Options {
    token: bool,
    ack_after: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { token: false, ack_after: Duration::from_secs(2) }
    }
}

/// The server's own router with the Slack routes, on 127.0.0.1:0, over an in-memory database
/// and a clock pinned at NOW.
async fn start(fake: &FakeSlack, opts: Options) -> App {
    let store = Store::open_in_memory().await.unwrap();
    let ctx = Ctx::new(store, Arc::new(ManualClock::new(parse_instant(NOW).unwrap()))).await.unwrap();
    let settings = SlackSettings {
        signing_secret: SECRET.into(),
        bot_token: opts.token.then(|| BOT_TOKEN.to_string()),
        api_url: Some(fake.api_url()),
        admins: Admins::parse(&format!("{ADMIN}, U0OTHERADMIN")),
    };
    let slack = Arc::new(Slack::new(ctx.clone(), settings).with_ack_after(opts.ack_after));
    let router = server::with_slack(server::router(None), Some(slack.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    App { url, ctx, slack, task }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
}

fn assert_slack_message(body: &Value) {
    let blocks = body["blocks"].as_array().unwrap_or_else(|| panic!("no blocks: {body}"));
    let v = limit_violations(blocks);
    assert!(v.is_empty(), "{v:?}\n{body}");
    assert!(["ephemeral", "in_channel"].contains(&body["response_type"].as_str().unwrap_or("")), "{body}");
    assert!(body["text"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
}

/// Runs `/raterise {text}` (or another command) and returns the direct response.
async fn slash(app: &App, fake: &FakeSlack, who: &Who, command: &str, text: &str) -> Value {
    let body = slash_body(who, command, text, &fake.response_url("cmd"));
    let (status, r) = post_signed(&client(), &app.commands(), NOW_UNIX, body).await;
    assert_eq!(status, 200, "{r}");
    assert_slack_message(&r);
    r
}

async fn set_up(app: &App, fake: &FakeSlack, team: &str, payer: &str, rate: &str) {
    let admin = Who::new(team, ADMIN);
    let r = slash(app, fake, &admin, "/raterise", "setup locality:\"MANHATTAN, NY\" credential:lcsw").await;
    assert!(text_of(&r).contains("MANHATTAN"), "{r}");
    assert_eq!(r["response_type"], "ephemeral");
    let r = slash(
        app,
        fake,
        &admin,
        "/raterise",
        &format!("payer add name:{payer} kind:commercial volume:\"90837=10 90834=5\""),
    )
    .await;
    assert!(text_of(&r).contains(payer), "{r}");
    let r = slash(
        app,
        fake,
        &admin,
        "/raterise",
        &format!("rate set payer:{payer} cpt:90837 amount:{rate} effective:2023-03-01"),
    )
    .await;
    assert!(!text_of(&r).contains("didn't work"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_or_missing_signatures_get_401() {
    let fake = FakeSlack::start().await;
    let app = start(&fake, Options::default()).await;
    let c = client();
    let body = slash_body(&Who::new(TEAM_A, ADMIN), "/raterise", "help", &fake.response_url("x"));
    let ts = NOW_UNIX.to_string();
    let good = sign(SECRET, &ts, &body);
    for url in [app.commands(), app.interactivity()] {
        // Tampered body: a valid signature of other bytes.
        let mut tampered = body.clone();
        let i = tampered.iter().position(|b| *b == b'h').unwrap();
        tampered[i] = b'H';
        assert_eq!(post_form(&c, &url, Some(&good), Some(&ts), tampered).await.0, 401);
        // Signed with another secret.
        let wrong = sign("0000000000000000another00secret", &ts, &body);
        assert_eq!(post_form(&c, &url, Some(&wrong), Some(&ts), body.clone()).await.0, 401);
        // The signature of another timestamp.
        assert_eq!(post_form(&c, &url, Some(&good), Some(&(NOW_UNIX - 1).to_string()), body.clone()).await.0, 401);
        // Stale against the bot's clock: correctly signed six minutes before it.
        let old = (NOW_UNIX - 360).to_string();
        let old_sig = sign(SECRET, &old, &body);
        assert_eq!(post_form(&c, &url, Some(&old_sig), Some(&old), body.clone()).await.0, 401);
        let future = (NOW_UNIX + 360).to_string();
        let future_sig = sign(SECRET, &future, &body);
        assert_eq!(post_form(&c, &url, Some(&future_sig), Some(&future), body.clone()).await.0, 401);
        // Missing headers, garbage.
        assert_eq!(post_form(&c, &url, None, Some(&ts), body.clone()).await.0, 401);
        assert_eq!(post_form(&c, &url, Some(&good), None, body.clone()).await.0, 401);
        assert_eq!(post_form(&c, &url, None, None, body.clone()).await.0, 401);
        assert_eq!(post_form(&c, &url, Some("v0=nothex"), Some(&ts), body.clone()).await.0, 401);
    }
    // Nothing reached the fake Slack, and the good signature works.
    assert!(fake.requests().is_empty());
    let (status, r) = post_form(&c, &app.commands(), Some(&good), Some(&ts), body).await;
    assert_eq!(status, 200, "{r}");
    assert!(text_of(&r).to_lowercase().contains("rates"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_payer_and_rates_end_to_end() {
    let fake = FakeSlack::start().await;
    let app = start(&fake, Options::default()).await;
    set_up(&app, &fake, TEAM_A, "Cigna", "118.50").await;

    // Anyone in the workspace reads; a catalogue-named Slack command works like /raterise.
    let member = Who::new(TEAM_A, MEMBER);
    let r = slash(&app, &fake, &member, "/rates", "cigna").await;
    assert_eq!(r["response_type"], "in_channel", "{r}");
    let text = text_of(&r);
    assert!(text.contains("Cigna") && text.contains("90837") && text.contains("$118.50"), "{text}");
    assert!(text.contains("```"), "the comparison is a monospace table: {text}");
    let via_main = slash(&app, &fake, &member, "/raterise", "rates payer:Cigna").await;
    assert_eq!(text_of(&via_main), text);
    let buttons = buttons_of(&r);
    assert!(!buttons.is_empty(), "{r}");
    for (label, value) in &buttons {
        assert!(!label.is_empty() && value.starts_with('/'), "{label} {value}");
    }

    // Only the listed admins change data.
    let r = slash(&app, &fake, &member, "/raterise", "payer add name:Aetna kind:commercial").await;
    assert_eq!(r["response_type"], "ephemeral");
    assert!(text_of(&r).contains("Not allowed"), "{r}");
    assert!(!text_of(&r).contains("Manage Server"), "Slack wording: {r}");
    let r = slash(&app, &fake, &member, "/raterise", "payer list").await;
    assert!(!text_of(&r).contains("Aetna"), "{r}");

    // Mistakes answer privately with the fix, never internals.
    let r = slash(&app, &fake, &member, "/raterise", "ratez cigna").await;
    assert_eq!(r["response_type"], "ephemeral");
    assert!(text_of(&r).contains("/raterise rates"), "suggested as Slack users type it: {r}");
    let r = slash(&app, &fake, &member, "/weather", "today").await;
    assert!(text_of(&r).contains("/raterise rates cigna"), "{r}");
    // All answered directly: nothing went to the response URL.
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_teams_never_see_each_other() {
    let fake = FakeSlack::start().await;
    let app = start(&fake, Options::default()).await;
    set_up(&app, &fake, TEAM_A, "Cigna", "118.50").await;
    set_up(&app, &fake, TEAM_B, "Aetna", "101.00").await;
    let a = Who::new(TEAM_A, MEMBER);
    let b = Who::new(TEAM_B, MEMBER);
    let list_a = text_of(&slash(&app, &fake, &a, "/raterise", "payer list").await);
    let list_b = text_of(&slash(&app, &fake, &b, "/raterise", "payer list").await);
    assert!(list_a.contains("Cigna") && !list_a.contains("Aetna"), "{list_a}");
    assert!(list_b.contains("Aetna") && !list_b.contains("Cigna"), "{list_b}");
    let r = slash(&app, &fake, &b, "/raterise", "rates cigna").await;
    assert_eq!(r["response_type"], "ephemeral");
    assert!(!text_of(&r).contains("118.50"), "{r}");
    let all_b = text_of(&slash(&app, &fake, &b, "/raterise", "rates").await);
    assert!(all_b.contains("Aetna") && !all_b.contains("Cigna"), "{all_b}");
    // The same user id in another team is nobody there: a team without a practice is told to set up.
    let c = Who::new("T0NOPRACTICE", ADMIN);
    let r = slash(&app, &fake, &c, "/raterise", "rates").await;
    assert!(text_of(&r).contains("Set up raterise first") && text_of(&r).contains("/raterise setup"), "{r}");
    // Stored under Slack tenants keyed by team id.
    for team in [TEAM_A, TEAM_B] {
        let t = Tenant { platform: Platform::Slack, external_id: team.into() };
        assert!(app.ctx.store.find_practice(&t).await.unwrap().is_some(), "{team}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_button_press_runs_its_command_and_answers_through_response_url() {
    let fake = FakeSlack::start().await;
    let app = start(&fake, Options::default()).await;
    set_up(&app, &fake, TEAM_A, "Cigna", "118.50").await;
    let r = slash(&app, &fake, &Who::new(TEAM_A, MEMBER), "/raterise", "payer list").await;
    let buttons = buttons_of(&r);
    let (_, value) = buttons
        .iter()
        .find(|(_, v)| v.starts_with("/rates"))
        .or_else(|| buttons.first())
        .unwrap_or_else(|| panic!("no buttons on {r}"))
        .clone();
    let url = fake.response_url("button-1");
    let body = button_body(&Who::new(TEAM_A, MEMBER), &value, &url);
    let (status, ack) = post_signed(&client(), &app.interactivity(), NOW_UNIX, body).await;
    assert_eq!(status, 200);
    assert_eq!(ack, Value::String(String::new()), "an empty acknowledgement");
    let got = fake.wait_for(1, Duration::from_secs(10), |q| q.path == "/response/button-1").await;
    assert_eq!(got.len(), 1, "{:?}", fake.requests());
    assert_eq!(got[0].method, "POST");
    assert!(got[0].header("authorization").is_none(), "response URLs need no token");
    let answer = got[0].json();
    assert_slack_message(&answer);
    assert_eq!(answer["replace_original"], false);
    assert!(text_of(&answer).contains("Cigna"), "{answer}");

    // A change pressed by a member is refused, privately; by an admin it runs.
    let press = |who: &str, line: &str, tag: &str| button_body(&Who::new(TEAM_A, who), line, &fake.response_url(tag));
    let (s, _) =
        post_signed(&client(), &app.interactivity(), NOW_UNIX, press(MEMBER, "/payer remove name:Cigna", "b2")).await;
    assert_eq!(s, 200);
    let got = fake.wait_for(1, Duration::from_secs(10), |q| q.path == "/response/b2").await;
    let refused = got[0].json();
    assert_eq!(refused["response_type"], "ephemeral");
    assert!(text_of(&refused).contains("Not allowed"), "{refused}");
    let line = "/rate history payer:Cigna";
    let (s, _) = post_signed(&client(), &app.interactivity(), NOW_UNIX, press(ADMIN, line, "b3")).await;
    assert_eq!(s, 200);
    let got = fake.wait_for(1, Duration::from_secs(10), |q| q.path == "/response/b3").await;
    assert!(text_of(&got[0].json()).contains("118.50"), "{}", got[0].json());
    // A button without a command line explains itself.
    let (s, _) = post_signed(&client(), &app.interactivity(), NOW_UNIX, press(ADMIN, "legacy-id", "b4")).await;
    assert_eq!(s, 200);
    let got = fake.wait_for(1, Duration::from_secs(10), |q| q.path == "/response/b4").await;
    assert!(text_of(&got[0].json()).contains("older version"), "{}", got[0].json());
    assert!(app.slack.background().drained(Duration::from_secs(5)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_answer_is_acknowledged_and_posted_to_response_url() {
    let fake = FakeSlack::start().await;
    let app = start(&fake, Options { token: false, ack_after: Duration::ZERO }).await;
    let admin = Who::new(TEAM_A, ADMIN);
    let body =
        slash_body(&admin, "/raterise", "setup locality:\"MANHATTAN, NY\" credential:lcsw", &fake.response_url("s1"));
    let (status, ack) = post_signed(&client(), &app.commands(), NOW_UNIX, body).await;
    assert_eq!(status, 200);
    assert_slack_message(&ack);
    assert_eq!(ack["response_type"], "ephemeral");
    assert!(text_of(&ack).contains("Working on it") && text_of(&ack).contains("/raterise setup"), "{ack}");
    let got = fake.wait_for(1, Duration::from_secs(10), |q| q.path == "/response/s1").await;
    assert_eq!(got.len(), 1, "{:?}", fake.requests());
    let answer = got[0].json();
    assert_slack_message(&answer);
    assert!(text_of(&answer).contains("MANHATTAN"), "{answer}");
    assert_eq!(answer["response_type"], "ephemeral", "setup answers privately");

    // A reply too long for one message: the rest follows through the response URL, all within limits.
    let tenant = Tenant { platform: Platform::Slack, external_id: TEAM_B.into() };
    let spec = raterise_commands::generate::LargeSpec { payers: 40, ..Default::default() };
    raterise_commands::generate::large_practice(&app.ctx, &tenant, spec).await.unwrap();
    let body = slash_body(&Who::new(TEAM_B, MEMBER), "/raterise", "rates", &fake.response_url("big"));
    let (status, ack) = post_signed(&client(), &app.commands(), NOW_UNIX, body).await;
    assert_eq!(status, 200, "{ack}");
    assert!(app.slack.background().drained(Duration::from_secs(20)).await);
    let got: Vec<Recorded> = fake.requests().into_iter().filter(|q| q.path == "/response/big").collect();
    assert!(!got.is_empty(), "{:?}", fake.requests());
    let mut all = String::new();
    for q in &got {
        let m = q.json();
        assert_slack_message(&m);
        all.push_str(&text_of(&m));
    }
    assert!(all.contains("```"), "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_tables_split_between_rows_within_block_kit_limits() {
    let fake = FakeSlack::start().await;
    let app = start(&fake, Options::default()).await;
    let tenant = Tenant { platform: Platform::Slack, external_id: TEAM_A.into() };
    let spec = raterise_commands::generate::LargeSpec { payers: 40, ..Default::default() };
    raterise_commands::generate::large_practice(&app.ctx, &tenant, spec).await.unwrap();
    let member = Who::new(TEAM_A, MEMBER);
    for (tag, text) in [("ranking", "rates"), ("list", "payer list")] {
        let body = slash_body(&member, "/raterise", text, &fake.response_url(tag));
        let (status, r) = post_signed(&client(), &app.commands(), NOW_UNIX, body).await;
        assert_eq!(status, 200, "{r}");
        assert!(app.slack.background().drained(Duration::from_secs(20)).await);
        let path = format!("/response/{tag}");
        let mut messages = vec![r];
        messages.extend(fake.requests().iter().filter(|q| q.path == path).map(|q| q.json()));
        let mut rows = Vec::new();
        for m in &messages {
            assert_slack_message(m);
            for b in m["blocks"].as_array().unwrap() {
                let Some(t) = b.pointer("/text/text").and_then(Value::as_str) else { continue };
                for block in t.split("```").skip(1).step_by(2) {
                    let lines: Vec<&str> = block.trim_matches('\n').lines().collect();
                    assert!(lines.len() >= 2 && lines[1].starts_with('-'), "header and rule on every piece: {block}");
                    rows.extend(lines[2..].iter().map(|s| s.to_string()));
                }
            }
        }
        // Every table row appears whole, exactly once (40 payers).
        assert!(rows.len() >= 40, "{text}: {} rows", rows.len());
        let mut sorted = rows.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), rows.len(), "{text}: a row repeated or cut");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drafts_upload_their_file_to_the_askers_direct_messages() {
    let fake = FakeSlack::start().await;
    let app = start(&fake, Options { token: true, ..Default::default() }).await;
    set_up(&app, &fake, TEAM_A, "Cigna", "118.50").await;
    let who = Who::new(TEAM_A, MEMBER);
    let r = slash(&app, &fake, &who, "/raterise", "draft kind:request payer:Cigna").await;
    assert_eq!(r["response_type"], "ephemeral", "drafts are private");
    assert!(text_of(&r).contains("direct messages"), "{r}");
    assert!(app.slack.background().drained(Duration::from_secs(10)).await);
    let reqs = fake.requests();
    let paths: Vec<&str> = reqs.iter().map(|q| q.path.as_str()).collect();
    let open = reqs.iter().find(|q| q.path == "/api/conversations.open").unwrap_or_else(|| panic!("{paths:?}"));
    assert_eq!(open.form()["users"], MEMBER);
    let open_form = serde_json::to_value(open.form()).unwrap();
    assert_matches(&form_schema("conversations.open"), &open_form, "conversations.open form");
    let get_url = reqs.iter().find(|q| q.path == "/api/files.getUploadURLExternal").unwrap();
    let form = get_url.form();
    let filename = form["filename"].clone();
    assert!(filename.starts_with("cigna-request") && filename.ends_with(".eml"), "{filename}");
    let upload = reqs.iter().find(|q| q.path.starts_with("/upload/")).unwrap();
    assert_eq!(form["length"], upload.body.len().to_string());
    assert!(String::from_utf8_lossy(&upload.body).contains("Cigna"));
    let complete = reqs.iter().find(|q| q.path == "/api/files.completeUploadExternal").unwrap().form();
    assert!(complete["channel_id"].starts_with("D0DM"), "{complete:?}");
    let files: Value = serde_json::from_str(&complete["files"]).unwrap();
    assert_eq!(files[0]["id"], upload.path.rsplit('/').next().unwrap());
    for q in reqs.iter().filter(|q| q.path.starts_with("/api/")) {
        assert_eq!(q.header("authorization"), Some(format!("Bearer {BOT_TOKEN}").as_str()), "{}", q.path);
    }
    assert!(!paths.iter().any(|p| p.starts_with("/response/")), "the upload worked: no fallback text {paths:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_or_when_uploads_fail_the_draft_text_is_shown() {
    let fake = FakeSlack::start().await;
    let app = start(&fake, Options::default()).await;
    set_up(&app, &fake, TEAM_A, "Cigna", "118.50").await;
    let r = slash(&app, &fake, &Who::new(TEAM_A, MEMBER), "/raterise", "draft kind:request payer:Cigna").await;
    let text = text_of(&r);
    assert!(text.contains("could not be attached") && text.contains(".eml"), "{text}");
    assert!(text.contains("```") && text.contains("Cigna"), "{text}");
    assert!(fake.requests().is_empty(), "no Web API calls without a token");

    let fake = FakeSlack::start().await;
    let app = start(&fake, Options { token: true, ..Default::default() }).await;
    set_up(&app, &fake, TEAM_A, "Cigna", "118.50").await;
    fake.script(
        "files.getUploadURLExternal",
        200,
        &[],
        json!({"ok": false, "error": "missing_scope", "needed": "files:write"}),
    );
    slash(&app, &fake, &Who::new(TEAM_A, MEMBER), "/raterise", "draft kind:request payer:Cigna").await;
    let got = fake.wait_for(1, Duration::from_secs(10), |q| q.path == "/response/cmd").await;
    assert!(!got.is_empty(), "{:?}", fake.requests());
    let fallback = got[0].json();
    assert_slack_message(&fallback);
    assert_eq!(fallback["response_type"], "ephemeral");
    let text = text_of(&fallback);
    assert!(text.contains("could not be attached") && text.contains("Cigna") && text.contains("```"), "{text}");
    assert!(!text.contains(BOT_TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_post_message_matches_slacks_spec_and_errors_are_typed() {
    let fake = FakeSlack::start().await;
    let api = SlackApi::new(Some(BOT_TOKEN), Some(&fake.api_url()));
    let reply = raterise_commands::Reply::new("Follow up with Cigna")
        .text("It has been 14 days since the request & no answer <yet>.")
        .fields(vec![("Payer".into(), "Cigna".into()), ("Asked".into(), "$135.00".into())])
        .action("Log the answer", "/negotiate log payer:Cigna event:answered")
        .footer("raterise reminder");
    let m = &render(&reply).messages[0];
    let posted = api.post_message("C0REMIND01", &m.text, &m.blocks).await.unwrap();
    assert_eq!(posted.channel, "C0REMIND01");
    assert!(!posted.ts.is_empty());
    let sent = fake.requests().into_iter().find(|q| q.path == "/api/chat.postMessage").unwrap();
    assert_eq!(sent.header("authorization"), Some(format!("Bearer {BOT_TOKEN}").as_str()));
    let form = sent.form();
    // The spec's parameters for chat.postMessage, as a schema of the decoded form.
    let as_json = serde_json::to_value(&form).unwrap();
    assert_matches(&form_schema("chat.postMessage"), &as_json, "chat.postMessage form");
    // `blocks` is a JSON string (as the spec types it) holding Block Kit within its limits.
    let blocks: Vec<Value> = serde_json::from_str(&form["blocks"]).unwrap();
    assert_eq!(blocks, m.blocks);
    assert!(limit_violations(&blocks).is_empty());
    // The fake answers as the spec says Slack does.
    let answer: Value = reqwest::Client::new()
        .post(format!("{}/chat.postMessage", fake.api_url()))
        .form(&[("channel", "C0REMIND01"), ("text", "x")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_matches(&success_schema("chat.postMessage"), &answer, "the fake's chat.postMessage answer");
    // The schema is a real check: a misspelt or missing parameter fails it.
    let schema = form_schema("chat.postMessage");
    let bad = json!({"chanel": "C1", "text": "x"});
    let v = jsonschema::options().with_draft(jsonschema::Draft::Draft4).build(&schema).unwrap();
    assert!(!v.is_valid(&bad));

    // Failures, typed for the caller (the reminder scheduler) to decide on.
    fake.script("chat.postMessage", 429, &[("Retry-After", "7")], json!({"ok": false, "error": "ratelimited"}));
    assert_eq!(
        api.post_message("C1", "x", &[]).await.unwrap_err(),
        ApiError::RateLimited { retry_after: Duration::from_secs(7) }
    );
    fake.script("chat.postMessage", 503, &[], json!({}));
    let e = api.post_message("C1", "x", &[]).await.unwrap_err();
    assert!(e.is_retryable() && matches!(e, ApiError::Retryable { status: Some(503), .. }), "{e:?}");
    for code in ["channel_not_found", "not_in_channel", "is_archived", "invalid_auth"] {
        fake.script("chat.postMessage", 200, &[], json!({"ok": false, "error": code}));
        let e = api.post_message("C1", "x", &[]).await.unwrap_err();
        assert!(!e.is_retryable(), "{code}");
        assert_eq!(e.code(), Some(code));
        assert!(!e.to_string().contains(BOT_TOKEN));
    }
    fake.script("chat.postMessage", 200, &[], json!({"ok": false, "error": "internal_error"}));
    assert!(api.post_message("C1", "x", &[]).await.unwrap_err().is_retryable());
    // A dead server is a retryable failure, not a hang.
    let dead = SlackApi::new(Some(BOT_TOKEN), Some("http://127.0.0.1:9/api"));
    let e = dead.post_message("C1", "x", &[]).await.unwrap_err();
    assert!(matches!(e, ApiError::Retryable { status: None, .. }), "{e:?}");
    assert_eq!(SlackApi::new(None, Some(&fake.api_url())).post_message("C1", "x", &[]).await, Err(ApiError::NoToken));
}

/// A workspace's practice that never ran `setup name:` is named after the workspace (team.info,
/// looked up once); without `team:read` (Slack answers missing_scope) it keeps its id and works.
/// The reminder channel, typed as Slack sends a channel (`<#C…|name>`), is shown as a mention.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn practices_are_named_after_their_workspace_and_channels_shown_as_mentions() {
    let fake = FakeSlack::start().await;
    fake.name_team(TEAM_A, "Sunrise Therapy");
    assert_matches(&success_schema("team.info"), &team_info_body(TEAM_A, "Sunrise Therapy"), "team.info");
    let app = start(&fake, Options { token: true, ..Default::default() }).await;
    let admin = Who::new(TEAM_A, ADMIN);
    let r = slash(&app, &fake, &admin, "/raterise", "setup credential:lcsw channel:<#C0REMIND1|reminders>").await;
    let text = text_of(&r);
    assert!(text.contains("Practice setup: Sunrise Therapy"), "{text}");
    assert!(!text.contains(TEAM_A), "no workspace id where a name belongs: {text}");
    assert!(text.contains("<#C0REMIND1>"), "the channel as a mention: {text}");
    slash(&app, &fake, &admin, "/raterise", "payer add name:Cigna kind:commercial").await;
    let r = slash(&app, &fake, &admin, "/raterise", "payer list").await;
    assert!(text_of(&r).contains("Payers of Sunrise Therapy"), "{r}");
    let asked: Vec<Recorded> = fake.requests().into_iter().filter(|q| q.path == "/api/team.info").collect();
    assert_eq!(asked.len(), 1, "looked up once");
    assert_eq!(asked[0].form().get("team").map(String::as_str), Some(TEAM_A));

    let other = Who::new(TEAM_B, ADMIN);
    let r = slash(&app, &fake, &other, "/raterise", "setup credential:lcsw").await;
    assert!(text_of(&r).contains(&format!("Practice setup: {TEAM_B}")), "{r}");
    slash(&app, &fake, &other, "/raterise", "payer add name:Cigna kind:commercial").await;
    let r = slash(&app, &fake, &other, "/raterise", "payer list").await;
    assert!(text_of(&r).contains("Payers of"), "{r}");
    assert_eq!(fake.requests().iter().filter(|q| q.path == "/api/team.info").count(), 2);
}
