//! The reminder scheduler posting through the real Discord client to a fake Discord API on
//! 127.0.0.1 that fails with 500, times out after accepting a post, answers 429 with
//! `retry_after`, refuses a deleted channel, and deduplicates by nonce like `enforce_nonce`.
//! The clock is moved by hand; the only real waits are the fake's short delays and 429s.

use chrono::{DateTime, Utc};
use raterise::discord::poster::Poster;
use raterise::discord::rest::Rest;
use raterise::scheduler::{self, DiscordDelivery, SchedulerSettings, TickReport};
use raterise_commands::clock::ManualClock;
use raterise_commands::store::Store;
use raterise_commands::{dispatch, Actor, Ctx, Invocation, Outcome, Platform, Tenant};
use raterise_tests::discord::{assert_valid, buttons_of, text_of, FakeDiscord, Scripted, APP_ID};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

struct World {
    ctx: Ctx,
    clock: ManualClock,
    delivery: Arc<DiscordDelivery>,
    settings: SchedulerSettings,
    fake: FakeDiscord,
}

impl World {
    async fn new(start: &str) -> World {
        let clock = ManualClock::new(at(start));
        let store = Store::open_in_memory().await.unwrap();
        let ctx = Ctx::new(store, Arc::new(clock.clone())).await.unwrap();
        let fake = FakeDiscord::start().await;
        let rest = Rest::new(Some("test-bot-token"), Some(APP_ID.parse().unwrap()), Some(&fake.url));
        let delivery = Arc::new(DiscordDelivery::new(Poster::new(rest)));
        let settings = SchedulerSettings {
            post_timeout: Duration::from_millis(400),
            max_inline_wait: Duration::from_secs(1),
            ..SchedulerSettings::default()
        };
        World { ctx, clock, delivery, settings, fake }
    }

    async fn run(&self, guild: &str, line: &str) -> Outcome {
        let tenant = Some(Tenant { platform: Platform::Discord, external_id: guild.into() });
        let actor = Actor { id: "80351110224678912".into(), name: "dana".into(), can_manage: true, roles: vec![] };
        let inv =
            Invocation::from_line(line, tenant, actor, None).unwrap_or_else(|e| panic!("{line}: {}", e.user_message()));
        dispatch(&self.ctx, &inv).await.unwrap_or_else(|e| panic!("`{line}` failed: {}", e.user_message()))
    }

    /// A practice (one guild) posting to `channel`, with one open case per payer whose written
    /// request went out on 2026-10-08: follow-ups fall due on Thursday 10-22 at 13:00 UTC.
    async fn practice(&self, guild: &str, channel: &str, payers: &[&str]) {
        self.run(
            guild,
            &format!(r#"/setup name:"Practice {guild}" locality:"MANHATTAN, NY" credential:lcsw channel:{channel}"#),
        )
        .await;
        for p in payers {
            self.run(guild, &format!("/payer add name:{p} kind:commercial")).await;
            self.run(guild, &format!("/rate set payer:{p} cpt:90837 amount:118.50 effective:2026-01-01")).await;
            self.run(guild, &format!("/negotiate start payer:{p} date:2026-10-01")).await;
            self.run(guild, &format!("/negotiate log payer:{p} event:written-request date:2026-10-08")).await;
        }
    }

    async fn tick(&self) -> TickReport {
        scheduler::tick_with(&self.ctx, &self.delivery, "worker-1", &self.settings).await.expect("tick")
    }

    fn message_posts(&self) -> usize {
        self.fake.requests().iter().filter(|r| r.method == "POST" && r.path.ends_with("/messages")).count()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reminder_is_posted_exactly_once_through_500s_timeouts_and_429s() {
    let w = World::new("2026-10-08T15:00:00Z").await;
    let (a, b) = ("1100000000000000011", "1100000000000000012");
    w.practice("900000000000000001", a, &["Cigna", "Aetna", "Optum"]).await;
    w.practice("900000000000000002", b, &["Magellan"]).await;
    let to_a = format!("/channels/{a}/messages");
    let to_b = format!("/channels/{b}/messages");
    // Channel A: a 500 before anything is created; then a post that goes through but whose
    // answer never comes back in time; then a 429 asking to wait 50 ms.
    w.fake.push(Scripted::new(&to_a, 500, json!({"message": "Internal Server Error", "code": 0})));
    w.fake.push(Scripted::new(&to_a, 200, json!({})).accepting().delay(Duration::from_secs(2)));
    w.fake.push(
        Scripted::new(
            &to_a,
            429,
            json!({"message": "You are being rate limited.", "retry_after": 0.05, "global": false}),
        )
        .header("retry-after", "1"),
    );
    // Channel B: accepted, then a 502 lost the answer.
    w.fake.push(Scripted::new(&to_b, 502, json!({"message": "Bad Gateway", "code": 0})).accepting());

    w.clock.set(at("2026-10-22T13:00:00Z"));
    let mut reports = Vec::new();
    for _ in 0..10 {
        let r = w.tick().await;
        reports.push(r.clone());
        let counts = w.ctx.store.reminder_counts().await.unwrap();
        if counts.get("sent") == Some(&4) && r.claimed == 0 {
            break;
        }
        // Past any backoff (the first retry waits about a minute, with jitter).
        w.clock.advance(chrono::Duration::minutes(3));
    }
    let counts = w.ctx.store.reminder_counts().await.unwrap();
    assert_eq!(counts.get("sent"), Some(&4), "{counts:?} after {reports:?}");
    assert_eq!(counts.get("failed"), None, "{counts:?}");
    // The first tick met the 500 (A) and the lost 502 answer (B) and retried them later; the 429
    // was waited out inside a tick.
    assert!(reports[0].retried >= 2, "{:?}", reports[0]);
    assert!(reports.iter().map(|r| r.rate_limited).sum::<usize>() == 0, "a 50 ms 429 is waited out inline");

    let messages = w.fake.messages();
    assert_eq!(messages.len(), 4, "exactly one message per reminder: {messages:#?}");
    let nonces: HashSet<_> = messages.iter().map(|m| m.nonce.clone().unwrap()).collect();
    assert_eq!(nonces.len(), 4);
    assert_eq!(messages.iter().filter(|m| m.channel_id == a).count(), 3);
    assert_eq!(messages.iter().filter(|m| m.channel_id == b).count(), 1);
    // More posts than messages: the retries after the timeout and the lost 502 answer reused their
    // nonce and Discord (the fake) returned the message it already had.
    assert!(w.message_posts() >= 4 + 4, "{} posts", w.message_posts());
    for r in w.fake.requests().iter().filter(|r| r.path.ends_with("/messages")) {
        assert_eq!(r.header("authorization"), Some("Bot test-bot-token"));
        assert!(r.is_multipart(), "the drafted email is attached");
        let payload = r.payload();
        assert_valid("MessageCreateRequest", &payload);
        assert_eq!(payload["enforce_nonce"], true);
    }
    let first = &messages[0];
    assert!(text_of(&first.payload).contains("Follow up with"), "{}", first.payload);
    assert!(first.files.iter().any(|f| f.ends_with(".eml")), "{:?}", first.files);
    let ids: Vec<String> = buttons_of(&first.payload).into_iter().map(|(_, id)| id).collect();
    assert!(ids.iter().any(|id| id.starts_with("/negotiate log payer:") && id.ends_with("event:follow-up")), "{ids:?}");
    assert!(ids.iter().any(|id| id.starts_with("/followups snooze id:")), "{ids:?}");

    // Nothing more to post: the next ticks are quiet.
    let before = w.message_posts();
    assert_eq!(w.tick().await.claimed, 0);
    assert_eq!(w.message_posts(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_channel_fails_only_its_practice_and_one_warning_follows_when_it_works_again() {
    let w = World::new("2026-10-08T15:00:00Z").await;
    let (gone, fine) = ("1100000000000000021", "1100000000000000022");
    w.practice("900000000000000003", gone, &["Cigna", "Aetna"]).await;
    w.practice("900000000000000004", fine, &["Cigna"]).await;
    let to_gone = format!("/channels/{gone}/messages");
    w.fake.push(Scripted::new(&to_gone, 404, json!({"message": "Unknown Channel", "code": 10003})).sticky());

    w.clock.set(at("2026-10-22T13:00:00Z"));
    let r = w.tick().await;
    assert_eq!((r.messages, r.failed), (1, 2), "{r:?}");
    // The refused channel was tried once; its second reminder was not sent into a wall.
    let to_gone_posts = w.fake.requests().iter().filter(|r| r.path.ends_with(&to_gone)).count();
    assert_eq!(to_gone_posts, 1);
    assert_eq!(w.fake.messages().iter().filter(|m| m.channel_id == fine).count(), 1);
    let list = match w.run("900000000000000003", "/followups list").await {
        Outcome::FollowupList(l) => l,
        other => panic!("{other:?}"),
    };
    assert_eq!(list.failed.len(), 2);
    assert!(list.failed[0].last_error.as_deref().unwrap().contains("Unknown Channel"), "{:?}", list.failed[0]);

    // The channel comes back (or a new one is set); the next follow-ups are posted two weeks
    // later, followed by one warning that lists what was missed.
    w.fake.unscript(&to_gone);
    w.clock.set(at("2026-11-05T14:00:00Z"));
    let r = w.tick().await;
    assert_eq!(r.warnings_planned, 1, "{r:?}");
    let in_gone: Vec<String> =
        w.fake.messages().iter().filter(|m| m.channel_id == gone).map(|m| text_of(&m.payload)).collect();
    assert_eq!(in_gone.len(), 3, "{in_gone:#?}");
    assert!(in_gone[2].contains("2 reminders could not be posted here"), "{}", in_gone[2]);
    assert!(in_gone[2].contains(&format!("#{}", list.failed[0].id)));
    w.clock.advance(chrono::Duration::hours(1));
    w.tick().await;
    assert_eq!(w.fake.messages().iter().filter(|m| m.channel_id == gone).count(), 3, "one warning only");
}
