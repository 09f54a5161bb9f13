//! Outgoing REST through serenity's `Http` pointed at a fake Discord on 127.0.0.1
//! (`HttpBuilder::proxy` + `ratelimiter_disabled`): command registration, channel posts with a
//! nonce, follow-ups with files, and how failures are classified.

use raterise::discord::poster::{PostError, Poster};
use raterise::discord::render::render;
use raterise::discord::rest::{Rest, RestError};
use raterise::discord::{Discord, FollowUp};
use raterise_commands::catalog::{self, OptionKind};
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::reply::{Align, Reply, Table};
use raterise_commands::store::Store;
use raterise_commands::Ctx;
use raterise_tests::discord::*;
use serde_json::{json, Value};
use serenity::model::id::{ApplicationId, InteractionId};
use std::sync::Arc;
use std::time::Duration;

const CHANNEL: &str = "1100000000000000042";

async fn register_with_binary(fake: &FakeDiscord, args: &[&str]) -> (std::process::Output, Vec<Recorded>) {
    let dir = TempDir::new("register");
    let url = fake.url.clone();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let out = tokio::task::spawn_blocking(move || {
        raterise(
            &dir,
            &[("DISCORD_TOKEN", "test-bot-token"), ("DISCORD_APPLICATION_ID", APP_ID), ("DISCORD_API_URL", &url)],
        )
        .arg("register-commands")
        .args(&args)
        .output()
        .unwrap()
    })
    .await
    .unwrap();
    (out, fake.requests())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_commands_puts_a_valid_command_list() {
    let fake = FakeDiscord::start().await;
    let (out, requests) = register_with_binary(&fake, &["--guild", "1000000000000000001"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains(&format!("Registered {} commands in guild", catalog::CATALOG.len())));
    assert_eq!(requests.len(), 1, "{requests:?}");
    let put = &requests[0];
    assert_eq!(put.method, "PUT");
    assert_eq!(put.path, format!("/api/v10/applications/{APP_ID}/guilds/1000000000000000001/commands"));
    assert_eq!(put.header("authorization"), Some("Bot test-bot-token"));
    let body = put.json();
    assert_valid("RateriseCommandList", &body);

    let list = body.as_array().unwrap();
    assert_eq!(list.len(), catalog::CATALOG.len());
    for (spec, cmd) in catalog::CATALOG.iter().zip(list) {
        assert_eq!(cmd["name"], spec.name);
        assert!(valid_discord_name(cmd["name"].as_str().unwrap()));
        assert!(cmd.get("default_member_permissions").is_none(), "reading stays open to members");
        let mut option_sets: Vec<(&Value, &[catalog::OptionSpec])> = Vec::new();
        if spec.subcommands.is_empty() {
            option_sets.push((&cmd["options"], spec.options));
        } else {
            for (sub, o) in spec.subcommands.iter().zip(cmd["options"].as_array().unwrap()) {
                assert_eq!((o["name"].as_str(), o["type"].as_u64()), (Some(sub.name), Some(1)));
                assert!(valid_discord_name(sub.name));
                option_sets.push((&o["options"], sub.options));
            }
        }
        for (sent, specs) in option_sets {
            let sent: Vec<Value> = sent.as_array().cloned().unwrap_or_default();
            assert_eq!(sent.len(), specs.len(), "/{}", spec.name);
            for (o, s) in sent.iter().zip(specs) {
                assert_eq!(o["name"], s.name);
                assert!(valid_discord_name(s.name), "{}", s.name);
                assert_eq!(o["required"].as_bool().unwrap_or(false), s.required);
                match s.kind {
                    OptionKind::Choice(c) => {
                        let choices = o["choices"].as_array().unwrap();
                        assert_eq!(choices.len(), c.len().min(25));
                    }
                    OptionKind::Payer | OptionKind::Cpt | OptionKind::Locality => assert_eq!(o["autocomplete"], true),
                    OptionKind::Integer => assert_eq!(o["type"], 4),
                    OptionKind::Channel => assert_eq!(o["type"], 7),
                    OptionKind::Role => assert_eq!(o["type"], 8),
                    OptionKind::Attachment => assert_eq!(o["type"], 11),
                    _ => assert_eq!(o["type"], 3),
                }
            }
        }
    }

    // Globally.
    let fake = FakeDiscord::start().await;
    let (out, requests) = register_with_binary(&fake, &["--global"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(requests[0].path, format!("/api/v10/applications/{APP_ID}/commands"));
    assert_valid("RateriseCommandList", &requests[0].json());
}

#[test]
fn the_spec_normalisation_touches_only_default_member_permissions() {
    let sent = json!([{"name": "setup", "description": "d", "default_member_permissions": "32", "options": []}]);
    let fixed = normalise_for_spec(sent.clone());
    assert_eq!(fixed[0]["default_member_permissions"], json!(32));
    assert_eq!(fixed[0]["name"], sent[0]["name"]);
    assert_valid("RateriseCommandList", &sent);
    // The validator does catch real mistakes.
    let bad = json!([{"name": "x".repeat(40), "description": "d"}]);
    let v = std::panic::catch_unwind(|| assert_valid("RateriseCommandList", &bad));
    assert!(v.is_err());
}

fn rest(fake: &FakeDiscord) -> Rest {
    Rest::new(Some("test-bot-token"), Some(APP_ID.parse().unwrap()), Some(&fake.url))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_posts_carry_a_nonce_and_fit_discord() {
    let fake = FakeDiscord::start().await;
    let poster = Poster::new(rest(&fake));
    let reply = Reply::new("Follow up with Cigna").text("You asked Cigna for a raise 14 days ago.").footer("raterise");
    let ids = poster.post(CHANNEL, &reply, "rem-17-1").await.unwrap();
    assert_eq!(ids.len(), 1);
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.as_str()),
        ("POST", format!("/api/v10/channels/{CHANNEL}/messages").as_str())
    );
    assert_eq!(reqs[0].header("authorization"), Some("Bot test-bot-token"));
    let body = reqs[0].json();
    assert_valid("MessageCreateRequest", &body);
    assert_eq!(body["nonce"], "rem-17-1");
    assert_eq!(body["enforce_nonce"], true);
    assert!(text_of(&body).contains("14 days ago"));

    // A long table becomes several messages, each with its own stable nonce, split between rows.
    let mut t = Table::new(&[("Code", Align::Left), ("Note", Align::Left)]);
    for i in 0..300 {
        t.push(vec![format!("C{i:04}"), format!("row {i} {}", "x".repeat(40))]);
    }
    let fake = FakeDiscord::start().await;
    let ids = Poster::new(rest(&fake)).post(CHANNEL, &Reply::new("Big").table(t), "rem-18-1").await.unwrap();
    let reqs = fake.requests();
    assert!(reqs.len() > 1 && ids.len() == reqs.len());
    let mut rows = 0;
    for (i, r) in reqs.iter().enumerate() {
        let body = r.json();
        assert_valid("MessageCreateRequest", &body);
        assert_eq!(body["nonce"], if i == 0 { "rem-18-1".to_string() } else { format!("rem-18-1.{i}") });
        rows += text_of(&body).lines().filter(|l| l.starts_with('C') && l.contains("row ")).count();
    }
    assert_eq!(rows, 300);

    // Files go as multipart with payload_json.
    let fake = FakeDiscord::start().await;
    let reply =
        Reply::new("Draft").text("Attached.").attach("cigna-request.txt", "text/plain", "Dear Dana,\nplease...");
    Poster::new(rest(&fake)).post(CHANNEL, &reply, "rem-19-1").await.unwrap();
    let r = &fake.requests()[0];
    assert!(r.is_multipart());
    let payload = r.payload();
    assert_valid("MessageCreateRequest", &payload);
    assert_eq!(payload["attachments"], json!([{"id": "0", "filename": "cigna-request.txt"}]));
    let parts = r.parts();
    let file = parts.iter().find(|p| p.name == "files[0]").expect("files[0]");
    assert_eq!(file.filename.as_deref(), Some("cigna-request.txt"));
    assert_eq!(file.content_type.as_deref(), Some("text/plain"));
    assert_eq!(file.data, b"Dear Dana,\nplease...");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_failures_say_whether_to_retry() {
    let fake = FakeDiscord::start().await;
    let poster = Poster::new(rest(&fake));
    let reply = Reply::new("Reminder").text("x");
    let path = format!("/channels/{CHANNEL}/messages");

    fake.script(
        &path,
        429,
        &[("retry-after", "3")],
        json!({"message": "You are being rate limited.", "retry_after": 2.5, "global": false}),
    );
    let e = poster.post(CHANNEL, &reply, "n1").await.unwrap_err();
    assert_eq!(e, PostError::Rest(RestError::RateLimited { retry_after: Duration::from_millis(2500) }));
    assert!(e.is_retryable());
    fake.script(&path, 429, &[("retry-after", "4")], json!({}));
    let e = poster.post(CHANNEL, &reply, "n1").await.unwrap_err();
    assert_eq!(e, PostError::Rest(RestError::RateLimited { retry_after: Duration::from_secs(4) }));

    fake.script(&path, 503, &[], json!({"message": "upstream unavailable", "code": 0}));
    let e = poster.post(CHANNEL, &reply, "n1").await.unwrap_err();
    assert!(matches!(e, PostError::Rest(RestError::Retryable { status: Some(503), .. })), "{e:?}");
    assert!(e.is_retryable());

    fake.script(&path, 404, &[], json!({"message": "Unknown Channel", "code": 10003}));
    let e = poster.post(CHANNEL, &reply, "n1").await.unwrap_err();
    assert_eq!(
        e,
        PostError::Rest(RestError::Permanent { status: 404, code: Some(10003), reason: "Unknown Channel".into() })
    );
    assert!(!e.is_retryable());

    fake.script(&path, 403, &[], json!({"message": "Missing Access", "code": 50001}));
    let e = poster.post(CHANNEL, &reply, "n1").await.unwrap_err();
    assert!(matches!(e, PostError::Rest(RestError::Permanent { status: 403, code: Some(50001), .. })), "{e:?}");

    // Every attempt used the same nonce, so Discord can drop duplicates.
    assert!(fake.requests().iter().all(|r| r.json()["nonce"] == "n1"));

    // Nothing listening: retryable, and the message names no URL (URLs can carry tokens).
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let down = Poster::new(Rest::new(Some("t"), None, Some(&closed)));
    let e = down.post(CHANNEL, &reply, "n2").await.unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    assert!(!e.to_string().contains("127.0.0.1"), "{e}");

    assert_eq!(poster.post(CHANNEL, &reply, "").await.unwrap_err(), PostError::BadNonce);
    assert_eq!(poster.post(CHANNEL, &reply, &"n".repeat(26)).await.unwrap_err(), PostError::BadNonce);
    assert!(matches!(poster.post("general", &reply, "n3").await.unwrap_err(), PostError::BadChannel(_)));
}

async fn memory_ctx() -> Ctx {
    let store = Store::open_in_memory().await.unwrap();
    Ctx::new(store, Arc::new(ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap()))).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deferred_reply_with_files_is_completed_by_a_multipart_edit() {
    let fake = FakeDiscord::start().await;
    // No bot token: interaction webhooks are authorised by their token alone.
    let discord = Arc::new(Discord::new(memory_ctx().await, Rest::new(None, None, Some(&fake.url))));
    let reply = Reply::new("Rate increase request for Cigna")
        .private()
        .text("Two files: the letter as an email and as text.")
        .attach("cigna.eml", "message/rfc822", "Subject: Rate review\r\n\r\nDear Dana")
        .attach("cigna.txt", "text/plain", "Dear Dana");
    let rendered = render(&reply);
    let token = "interaction-token-files";
    let f = FollowUp::deferred_answer(
        InteractionId::new(1),
        ApplicationId::new(APP_ID.parse().unwrap()),
        token.into(),
        rendered,
    );
    discord.complete(f).await.unwrap();
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(
        (r.method.as_str(), r.path.clone()),
        ("PATCH", format!("/api/v10/webhooks/{APP_ID}/{token}/messages/@original"))
    );
    assert!(r.header("authorization").is_none());
    let payload = r.payload();
    assert_valid("IncomingWebhookUpdateRequestPartial", &payload);
    assert_eq!(
        payload["attachments"],
        json!([{"id": "0", "filename": "cigna.eml"}, {"id": "1", "filename": "cigna.txt"}])
    );
    let parts = r.parts();
    let names: Vec<(&str, Option<&str>)> = parts.iter().map(|p| (p.name.as_str(), p.filename.as_deref())).collect();
    assert!(
        names.contains(&("files[0]", Some("cigna.eml"))) && names.contains(&("files[1]", Some("cigna.txt"))),
        "{names:?}"
    );
    assert!(text_of(&payload).contains("Two files"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_ups_retry_while_discord_does_not_know_the_interaction_yet() {
    let fake = FakeDiscord::start().await;
    let discord = Arc::new(Discord::new(memory_ctx().await, Rest::new(None, None, Some(&fake.url))));
    let token = "interaction-token-race";
    fake.script(token, 404, &[], json!({"message": "Unknown Webhook", "code": 10015}));
    let rendered = render(&Reply::new("Answer").text("body").attach("a.txt", "text/plain", "x"));
    let f = FollowUp::deferred_answer(
        InteractionId::new(2),
        ApplicationId::new(APP_ID.parse().unwrap()),
        token.into(),
        rendered,
    );
    discord.complete(f).await.unwrap();
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2, "one 404, then the edit");
    assert!(reqs.iter().all(|r| r.method == "PATCH"));
}
