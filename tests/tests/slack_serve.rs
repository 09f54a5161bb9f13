//! The real `raterise serve` with only Slack configured, end to end on 127.0.0.1: signed slash
//! commands in, Block Kit out, a slow answer and a button press through a fake Slack.

use raterise::slack::render::limit_violations;
use raterise_tests::discord::Served;
use raterise_tests::slack::*;
use serde_json::Value;
use std::time::Duration;

const TEAM: &str = "T0SERVEDTEAM";
const ADMIN: &str = "U0SERVEADMIN";

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
}

fn slack_env<'a>(api: &'a str, ack_ms: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("SLACK_SIGNING_SECRET", SECRET),
        ("SLACK_API_URL", api),
        ("SLACK_ADMIN_USERS", ADMIN),
        // Empty values count as unset: a developer's own token never leaks into the test.
        ("SLACK_BOT_TOKEN", ""),
        ("RATERISE_SLACK_ACK_MS", ack_ms),
    ]
}

async fn run(served: &Served, fake: &FakeSlack, who: &Who, text: &str, tag: &str) -> Value {
    let url = format!("{}/slack/commands", served.url);
    let body = slash_body(who, "/raterise", text, &fake.response_url(tag));
    let (status, r) = post_signed(&client(), &url, NOW_UNIX, body).await;
    assert_eq!(status, 200, "{r}\nstderr: {}", served.stderr());
    let v = limit_violations(r["blocks"].as_array().unwrap_or_else(|| panic!("{r}")));
    assert!(v.is_empty(), "{v:?}");
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_only_a_slack_secret_answers_signed_commands() {
    let fake = FakeSlack::start().await;
    let api = fake.api_url();
    let mut served = Served::start(&slack_env(&api, "2000"));
    let admin = Who::new(TEAM, ADMIN);
    let member = Who::new(TEAM, "U0SERVEMEMBER");

    // The clock is pinned by RATERISE_NOW: a request signed "now" by the wall clock is stale to it.
    let url = format!("{}/slack/commands", served.url);
    let body = slash_body(&member, "/raterise", "help", &fake.response_url("x"));
    let stale = (NOW_UNIX - 3600).to_string();
    let sig = sign(SECRET, &stale, &body);
    assert_eq!(post_form(&client(), &url, Some(&sig), Some(&stale), body.clone()).await.0, 401);
    assert_eq!(post_form(&client(), &url, None, None, body).await.0, 401);

    let r = run(&served, &fake, &admin, "setup locality:\"MANHATTAN, NY\" credential:lcsw", "a").await;
    assert!(text_of(&r).contains("MANHATTAN"), "{r}");
    let r = run(&served, &fake, &admin, "payer add name:Cigna kind:commercial volume:\"90837=10 90834=5\"", "b").await;
    assert!(text_of(&r).contains("Cigna"), "{r}");
    let r = run(&served, &fake, &admin, "rate set payer:Cigna cpt:90837 amount:118.50 effective:2023-03-01", "c").await;
    assert!(!text_of(&r).contains("didn't work"), "{r}");
    let r = run(&served, &fake, &member, "rates cigna", "d").await;
    assert_eq!(r["response_type"], "in_channel");
    let text = text_of(&r);
    assert!(text.contains("90837") && text.contains("$118.50"), "{text}");
    let (label, value) = buttons_of(&r).into_iter().next().unwrap_or_else(|| panic!("no buttons: {r}"));

    // A member's change is refused; the listed admin's went through above.
    let r = run(&served, &fake, &member, "payer remove name:Cigna", "e").await;
    assert!(text_of(&r).contains("Not allowed"), "{r}");

    // A button from that answer, pressed: the answer arrives at its response URL.
    let body = button_body(&member, &value, &fake.response_url("pressed"));
    let (status, _) = post_signed(&client(), &format!("{}/slack/interactivity", served.url), NOW_UNIX, body).await;
    assert_eq!(status, 200);
    let got = fake.wait_for(1, Duration::from_secs(10), |q| q.path == "/response/pressed").await;
    assert_eq!(got.len(), 1, "{:?}\nstderr: {}", fake.requests(), served.stderr());
    let pressed = got[0].json();
    assert!(limit_violations(pressed["blocks"].as_array().unwrap()).is_empty());
    assert!(text_of(&pressed).contains("Cigna"), "{label} ({value}): {pressed}");

    let status = served.terminate(Duration::from_secs(20));
    assert!(status.success(), "{status:?}: {}", served.stderr());
    assert!(!served.stderr().contains(SECRET), "the signing secret is never logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_answers_slow_commands_through_response_url() {
    let fake = FakeSlack::start().await;
    let api = fake.api_url();
    let served = Served::start(&slack_env(&api, "0"));
    let admin = Who::new(TEAM, ADMIN);
    let ack = run(&served, &fake, &admin, "setup locality:\"MANHATTAN, NY\" credential:lcsw", "slow").await;
    assert_eq!(ack["response_type"], "ephemeral");
    assert!(text_of(&ack).contains("Working on it"), "{ack}");
    let got = fake.wait_for(1, Duration::from_secs(10), |q| q.path == "/response/slow").await;
    assert_eq!(got.len(), 1, "{:?}\nstderr: {}", fake.requests(), served.stderr());
    let answer = got[0].json();
    assert!(text_of(&answer).contains("MANHATTAN"), "{answer}");
    assert!(limit_violations(answer["blocks"].as_array().unwrap()).is_empty());
}
