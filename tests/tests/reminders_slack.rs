//! Reminders for Slack practices: the scheduler posting through the real Slack Web API client to
//! a fake Slack on 127.0.0.1 that records every call, answers 429 with Retry-After, fails with
//! 500 and refuses a deleted channel. The clock is moved by hand; the only real waits are the
//! pacing (a few milliseconds here) and a one-second Retry-After.

use chrono::{DateTime, Utc};
use raterise::discord::poster::Poster;
use raterise::discord::rest::Rest;
use raterise::scheduler::{self, Delivery, DeliveryError, DiscordDelivery, SchedulerSettings, TickReport};
use raterise::slack::api::SlackApi;
use raterise::slack::render::limit_violations;
use raterise::slack::SlackDelivery;
use raterise_commands::clock::ManualClock;
use raterise_commands::handlers::followups::FollowupList;
use raterise_commands::reply::Reply;
use raterise_commands::store::Store;
use raterise_commands::{dispatch, Actor, Ctx, Invocation, Outcome, Platform, Tenant};
use raterise_tests::discord::{spawn_serve, test_key, FakeDiscord, TempDir, APP_ID};
use raterise_tests::slack::{assert_matches, buttons_of, form_schema, text_of, FakeSlack, Recorded, BOT_TOKEN};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

struct World {
    ctx: Ctx,
    clock: ManualClock,
    delivery: Arc<SlackDelivery>,
    settings: SchedulerSettings,
    fake: FakeSlack,
}

impl World {
    async fn new(start: &str) -> World {
        World::with_store(start, Store::open_in_memory().await.unwrap()).await
    }

    async fn with_store(start: &str, store: Store) -> World {
        let clock = ManualClock::new(at(start));
        let ctx = Ctx::new(store, Arc::new(clock.clone())).await.unwrap();
        let fake = FakeSlack::start().await;
        let api = SlackApi::new(Some(BOT_TOKEN), Some(&fake.api_url()));
        let delivery = Arc::new(SlackDelivery::new(api).with_pace(Duration::from_millis(5)));
        let settings = SchedulerSettings {
            post_timeout: Duration::from_secs(5),
            max_inline_wait: Duration::from_secs(2),
            ..SchedulerSettings::default()
        };
        World { ctx, clock, delivery, settings, fake }
    }

    async fn run_as(&self, platform: Platform, tenant: &str, line: &str) -> Outcome {
        let tenant = Some(Tenant { platform, external_id: tenant.into() });
        let actor = Actor { id: "U0DANA".into(), name: "dana".into(), can_manage: true, roles: vec![] };
        let inv =
            Invocation::from_line(line, tenant, actor, None).unwrap_or_else(|e| panic!("{line}: {}", e.user_message()));
        dispatch(&self.ctx, &inv).await.unwrap_or_else(|e| panic!("`{line}` failed: {}", e.user_message()))
    }

    /// A practice in New York posting to `channel`, with one open case per payer whose written
    /// request went out on 2026-10-08: follow-ups fall due on Thursday 10-22 at 13:00 UTC.
    async fn practice(&self, platform: Platform, tenant: &str, channel: &str, payers: &[&str]) {
        self.run_as(
            platform,
            tenant,
            &format!(
                r#"/setup name:"Practice {tenant}" locality:"MANHATTAN, NY" credential:lcsw timezone:America/New_York channel:{channel}"#
            ),
        )
        .await;
        for p in payers {
            self.run_as(
                platform,
                tenant,
                &format!("/payer add name:{p} kind:commercial contact_email:pat@example.com"),
            )
            .await;
            self.run_as(platform, tenant, &format!("/rate set payer:{p} cpt:90837 amount:118.50 effective:2026-01-01"))
                .await;
            self.run_as(platform, tenant, &format!("/negotiate start payer:{p} date:2026-10-01")).await;
            self.run_as(platform, tenant, &format!("/negotiate log payer:{p} event:written-request date:2026-10-08"))
                .await;
        }
    }

    async fn tick(&self) -> TickReport {
        scheduler::tick_with(&self.ctx, &self.delivery, "slack-worker", &self.settings).await.expect("tick")
    }

    async fn list(&self, team: &str) -> FollowupList {
        match self.run_as(Platform::Slack, team, "/followups list").await {
            Outcome::FollowupList(l) => l,
            other => panic!("not a list: {other:?}"),
        }
    }

    async fn sent(&self) -> i64 {
        self.ctx.store.reminder_counts().await.unwrap().get("sent").copied().unwrap_or(0)
    }

    /// The chat.postMessage calls, each checked against Slack's spec and Block Kit's limits.
    fn posts(&self) -> Vec<Recorded> {
        let posts: Vec<Recorded> =
            self.fake.requests().into_iter().filter(|r| r.path == "/api/chat.postMessage").collect();
        for p in &posts {
            assert_eq!(p.header("authorization"), Some(format!("Bearer {BOT_TOKEN}").as_str()));
            let form = p.form();
            assert_matches(&form_schema("chat.postMessage"), &serde_json::to_value(&form).unwrap(), "postMessage");
            let blocks: Vec<Value> = serde_json::from_str(&form["blocks"]).expect("blocks are a JSON string");
            let v = limit_violations(&blocks);
            assert!(v.is_empty(), "{v:?}\n{}", form["blocks"]);
            assert!(!form["text"].trim().is_empty());
        }
        posts
    }

    /// The messages Slack accepted: (channel, blocks as a message body).
    fn accepted(&self) -> Vec<(String, Value)> {
        self.posts()
            .into_iter()
            .filter(|p| p.accepted)
            .map(|p| {
                let form = p.form();
                let blocks: Value = serde_json::from_str(&form["blocks"]).unwrap();
                (form["channel"].clone(), json!({"text": form["text"], "blocks": blocks}))
            })
            .collect()
    }

    fn calls_to(&self, path: &str) -> Vec<Recorded> {
        self.fake.requests().into_iter().filter(|r| r.path == path).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_follow_up_is_posted_to_the_channel_with_the_draft_uploaded_and_planned_again_two_weeks_later() {
    let w = World::new("2026-10-08T15:00:00Z").await;
    let channel = "C0REMIND01";
    w.practice(Platform::Slack, "T0HUDSON", channel, &["Cigna"]).await;

    w.clock.set(at("2026-10-22T12:59:59Z"));
    assert_eq!(w.tick().await.claimed, 0, "not due yet");
    assert!(w.posts().is_empty());

    w.clock.set(at("2026-10-22T13:00:00Z"));
    let r = w.tick().await;
    assert_eq!((r.claimed, r.messages, r.sent, r.failed), (1, 1, 1, 0), "{r:?}");
    let accepted = w.accepted();
    assert_eq!(accepted.len(), 1, "{accepted:#?}");
    let (to, message) = &accepted[0];
    assert_eq!(to, channel);
    let text = text_of(message);
    assert!(text.contains("Follow up with Cigna"), "{text}");
    let buttons: Vec<String> = buttons_of(message).into_iter().map(|(_, v)| v).collect();
    assert!(buttons.contains(&"/negotiate log payer:Cigna event:follow-up".to_string()), "{buttons:?}");
    assert!(buttons.iter().any(|b| b.starts_with("/followups snooze id:")), "{buttons:?}");

    // The drafted email, uploaded into the same channel in Slack's three steps.
    let get_url = w.calls_to("/api/files.getUploadURLExternal");
    assert_eq!(get_url.len(), 1);
    let filename = get_url[0].form()["filename"].clone();
    assert!(filename.ends_with(".eml"), "{filename}");
    let uploads: Vec<Recorded> = w.fake.requests().into_iter().filter(|r| r.path.starts_with("/upload/")).collect();
    assert_eq!(uploads.len(), 1);
    let email = String::from_utf8_lossy(&uploads[0].body).to_string();
    assert!(email.contains("pat@example.com") && email.contains("Cigna"), "{email}");
    let complete = w.calls_to("/api/files.completeUploadExternal");
    assert_eq!(complete.len(), 1);
    assert_eq!(complete[0].form()["channel_id"], channel);

    // Marked sent once: later ticks the same day post nothing.
    assert_eq!(w.sent().await, 1);
    w.clock.set(at("2026-10-22T18:00:00Z"));
    assert_eq!(w.tick().await.claimed, 0);
    assert_eq!(w.posts().len(), 1, "posted exactly once");

    // Nobody logged the follow-up: the next one is planned two weeks later (09:00 EST by then).
    let list = w.list("T0HUDSON").await;
    let next: Vec<String> =
        list.upcoming.iter().filter(|i| i.kind.key() == "follow-up").map(|i| i.due_at.clone()).collect();
    assert_eq!(next, vec!["2026-11-05T14:00:00Z".to_string()], "{list:?}");
    assert!(list.failed.is_empty());
    w.clock.set(at("2026-11-05T14:00:00Z"));
    assert_eq!(w.tick().await.sent, 1);
    assert_eq!(w.accepted().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_and_a_500_are_retried_and_each_reminder_appears_once() {
    let w = World::new("2026-10-08T15:00:00Z").await;
    let channel = "C0REMIND02";
    w.practice(Platform::Slack, "T0RIVER", channel, &["Aetna", "Cigna"]).await;
    // The first post is rate limited (waited out inside the tick), the retry meets a 500.
    w.fake.script("chat.postMessage", 429, &[("Retry-After", "1")], json!({"ok": false, "error": "ratelimited"}));
    w.fake.script("chat.postMessage", 500, &[], json!({"ok": false, "error": "internal_error"}));
    // An upload that fails once after its message was accepted: the retry does not post the
    // message again.
    w.fake.script("files.completeUploadExternal", 503, &[], json!({"ok": false, "error": "service_unavailable"}));

    w.clock.set(at("2026-10-22T13:00:00Z"));
    let mut reports = Vec::new();
    for _ in 0..10 {
        let r = w.tick().await;
        reports.push(r.clone());
        if w.sent().await == 2 && r.claimed == 0 {
            break;
        }
        // Past any backoff (the first retry waits about a minute, with jitter).
        w.clock.advance(chrono::Duration::minutes(3));
    }
    assert_eq!(w.sent().await, 2, "{reports:?}");
    let counts = w.ctx.store.reminder_counts().await.unwrap();
    assert_eq!(counts.get("failed"), None, "{counts:?}");
    assert!(reports[0].retried >= 1, "{:?}", reports[0]);
    assert_eq!(reports.iter().map(|r| r.rate_limited).sum::<usize>(), 0, "a 1-second 429 is waited out inline");

    let posts = w.posts();
    assert!(posts.len() >= 4, "429, 500 and two accepted posts: {}", posts.len());
    let accepted = w.accepted();
    assert_eq!(accepted.len(), 2, "each reminder exactly once: {accepted:#?}");
    assert!(accepted.iter().all(|(c, _)| c == channel));
    let texts: Vec<String> = accepted.iter().map(|(_, m)| text_of(m)).collect();
    assert_eq!(texts.iter().filter(|t| t.contains("Follow up with Aetna")).count(), 1, "{texts:#?}");
    assert_eq!(texts.iter().filter(|t| t.contains("Follow up with Cigna")).count(), 1, "{texts:#?}");
    // Each drafted email shared once (plus the one refused attempt).
    let complete = w.calls_to("/api/files.completeUploadExternal");
    assert_eq!(complete.iter().filter(|c| c.accepted).count(), 2);
    assert_eq!(complete.len(), 3);

    assert_eq!(w.tick().await.claimed, 0);
    assert_eq!(w.accepted().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_not_found_fails_only_that_practice_and_followups_says_what_to_do() {
    let w = World::new("2026-10-08T15:00:00Z").await;
    let (gone, fine) = ("C0GONE0001", "C0FINE0001");
    w.practice(Platform::Slack, "T0GONE", gone, &["Aetna", "Cigna"]).await;
    w.practice(Platform::Slack, "T0FINE", fine, &["Cigna"]).await;
    w.fake.refuse_channel(gone, "channel_not_found");

    w.clock.set(at("2026-10-22T13:00:00Z"));
    let r = w.tick().await;
    assert_eq!((r.messages, r.sent, r.failed), (1, 1, 2), "{r:?}");
    // The refused channel was tried once; its second reminder was not sent into a wall, and no
    // file went there.
    let posts = w.posts();
    assert_eq!(posts.iter().filter(|p| p.form()["channel"] == gone).count(), 1);
    assert!(w.calls_to("/api/files.completeUploadExternal").iter().all(|c| c.form()["channel_id"] == fine));
    assert_eq!(w.accepted().iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(), vec![fine]);

    let list = w.list("T0GONE").await;
    assert_eq!(list.failed.len(), 2, "{list:?}");
    let error = list.failed[0].last_error.clone().unwrap_or_default();
    assert!(error.contains("channel_not_found") && error.contains("/raterise setup channel:"), "{error}");
    assert!(w.list("T0FINE").await.failed.is_empty());
    // What the practice reads in Slack, within Block Kit's limits.
    let reply = Outcome::FollowupList(list).reply();
    let rendered = raterise::slack::render::render(&reply);
    assert!(rendered.messages.iter().all(|m| limit_violations(&m.blocks).is_empty()));
    let shown: String = rendered.messages.iter().map(|m| text_of(&json!({"blocks": m.blocks}))).collect();
    assert!(shown.contains("channel_not_found"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_and_slack_practices_in_one_database_are_each_posted_only_by_their_own_delivery() {
    let w = World::new("2026-10-08T15:00:00Z").await;
    let (slack_channel, discord_channel) = ("C0REMIND03", "1100000000000000031");
    w.practice(Platform::Slack, "T0BOTH", slack_channel, &["Cigna"]).await;
    w.practice(Platform::Discord, "900000000000000031", discord_channel, &["Cigna"]).await;
    let fake_discord = FakeDiscord::start().await;
    let rest = Rest::new(Some("test-bot-token"), Some(APP_ID.parse().unwrap()), Some(&fake_discord.url));
    let discord = Arc::new(DiscordDelivery::new(Poster::new(rest)));

    w.clock.set(at("2026-10-22T13:00:00Z"));
    // Both loops at once on the same database, as `raterise serve` runs them.
    let (d, s) = tokio::join!(
        scheduler::tick_with(&w.ctx, &discord, "discord-worker", &w.settings),
        scheduler::tick_with(&w.ctx, &w.delivery, "slack-worker", &w.settings),
    );
    let (d, s) = (d.expect("discord tick"), s.expect("slack tick"));
    assert_eq!((d.claimed, d.sent), (1, 1), "{d:?}");
    assert_eq!((s.claimed, s.sent), (1, 1), "{s:?}");
    assert_eq!(w.sent().await, 2);

    let slack_posts = w.accepted();
    assert_eq!(slack_posts.len(), 1);
    assert_eq!(slack_posts[0].0, slack_channel);
    let discord_posts = fake_discord.messages();
    assert_eq!(discord_posts.len(), 1, "{discord_posts:#?}");
    assert_eq!(discord_posts[0].channel_id, discord_channel);

    // Nothing left for either.
    assert_eq!(scheduler::tick_with(&w.ctx, &discord, "discord-worker", &w.settings).await.unwrap().claimed, 0);
    assert_eq!(w.tick().await.claimed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_both_tokens_posts_each_practice_through_its_own_platform_and_stops_cleanly() {
    let dir = TempDir::new("reminders-slack-serve");
    let (slack_channel, discord_channel) = ("C0REMIND04", "1100000000000000041");
    {
        let store = Store::open(&dir.0.join("raterise.db")).await.unwrap();
        let w = World::with_store("2026-10-08T15:00:00Z", store).await;
        w.practice(Platform::Slack, "T0SERVE", slack_channel, &["Cigna"]).await;
        w.practice(Platform::Discord, "900000000000000041", discord_channel, &["Aetna"]).await;
        w.ctx.store.close().await;
    }
    let slack = FakeSlack::start().await;
    let discord = FakeDiscord::start().await;
    // serve starts the gateway with a Discord token; point it at a closed port.
    discord.gateway_unreachable();
    let key = test_key().public_hex();
    let slack_api = slack.api_url();
    let (mut child, stderr, _) = spawn_serve(
        &dir,
        &[
            ("DISCORD_PUBLIC_KEY", key.as_str()),
            ("DISCORD_TOKEN", "test-bot-token"),
            ("DISCORD_APPLICATION_ID", APP_ID),
            ("DISCORD_API_URL", discord.url.as_str()),
            ("SLACK_SIGNING_SECRET", raterise_tests::slack::SECRET),
            ("SLACK_BOT_TOKEN", BOT_TOKEN),
            ("SLACK_API_URL", slack_api.as_str()),
            ("RATERISE_NOW", "2026-10-22T13:00:30Z"),
            ("RATERISE_SCHEDULER_INTERVAL_MS", "100"),
        ],
    );
    let log = || stderr.lock().unwrap().clone();
    let start = Instant::now();
    loop {
        let posted = slack.requests().iter().filter(|r| r.path == "/api/chat.postMessage").count();
        if posted >= 1 && !discord.messages().is_empty() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "nothing posted; stderr:\n{}", log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A few more ticks: nothing is posted twice.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let _ = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("serve did not stop; stderr:\n{}", log());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}; stderr:\n{}", log());

    let posts: Vec<String> = slack
        .requests()
        .iter()
        .filter(|r| r.path == "/api/chat.postMessage")
        .map(|r| r.form()["channel"].clone())
        .collect();
    assert_eq!(posts, vec![slack_channel.to_string()]);
    assert_eq!(slack.requests().iter().filter(|r| r.path == "/api/files.completeUploadExternal").count(), 1);
    let in_discord: Vec<String> = discord.messages().into_iter().map(|m| m.channel_id).collect();
    assert_eq!(in_discord, vec![discord_channel.to_string()]);
    let store = Store::open(&dir.0.join("raterise.db")).await.unwrap();
    assert_eq!(store.reminder_counts().await.unwrap().get("sent"), Some(&2));
    store.close().await;
    let log = log();
    assert!(log.contains("reminders are posted for these platforms") && log.contains("discord,slack"), "{log}");
    assert!(!log.contains(BOT_TOKEN) && !log.contains("test-bot-token"), "a token was logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_reminder_is_split_within_limits_and_a_retry_continues_after_the_messages_slack_accepted() {
    let w = World::new("2026-10-08T15:00:00Z").await;
    let channel = "C0REMIND05";
    let mut reply = Reply::new("Renewal windows opening this month");
    for i in 0..70 {
        reply = reply
            .text(format!("Payer {i}: the window opens soon; ask for 12% on 90837 & 90834 <before> the notice date."));
    }
    let reply = reply.text("x".repeat(7000)).attach("renewals.txt", "text/plain", "Dear contracting team,\n...");
    // The second message meets a 500 after the first was accepted.
    w.fake.script_after(1, "chat.postMessage", 500, &[], json!({"ok": false, "error": "internal_error"}));

    let first = w.delivery.post(channel, &reply, "rem-77-a").await;
    assert!(matches!(first, Err(DeliveryError::Temporary(_))), "{first:?}");
    assert!(w.calls_to("/api/files.completeUploadExternal").is_empty(), "no file before every message is in");
    let ids = w.delivery.post(channel, &reply, "rem-77-a").await.expect("the retry goes through");
    assert_eq!(ids.len(), 2, "{ids:?}");

    let posts = w.posts();
    assert_eq!(posts.len(), 3, "message 1, message 2 refused, message 2 again");
    let accepted = w.accepted();
    let headers: Vec<String> =
        accepted.iter().map(|(_, m)| m["blocks"][0]["text"]["text"].as_str().unwrap_or("").to_string()).collect();
    assert_eq!(
        headers,
        vec!["Renewal windows opening this month (1/2)", "Renewal windows opening this month (2/2)"],
        "each part once, in order"
    );
    assert!(accepted.iter().all(|(c, _)| c == channel));
    let complete = w.calls_to("/api/files.completeUploadExternal");
    assert_eq!(complete.len(), 1);
    assert_eq!(complete[0].form()["channel_id"], channel);
    // Slack's mrkdwn control characters arrive escaped.
    assert!(text_of(&accepted[0].1).contains("&amp; 90834 &lt;before&gt;"), "{}", text_of(&accepted[0].1));
}
