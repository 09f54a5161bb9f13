//! A real `raterise serve` process killed with SIGKILL in the middle of a delivery, then
//! restarted: nothing is lost and nothing is shown twice. The database is prepared in this
//! process (commands run as a Discord manager with a pinned clock); the bot posts to a fake
//! Discord API on 127.0.0.1 that keeps one message per nonce, as Discord does with
//! `enforce_nonce`.

use chrono::{DateTime, Utc};
use raterise_commands::clock::ManualClock;
use raterise_commands::store::Store;
use raterise_commands::{dispatch, Actor, Ctx, Invocation, Platform, Tenant};
use raterise_tests::discord::{spawn_serve, test_key, FakeDiscord, TempDir, APP_ID};
use std::collections::{HashMap, HashSet};
use std::process::{Child, Command};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const A: &str = "1100000000000000031";
const B: &str = "1100000000000000032";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Two practices: A with two open cases, B with one; every written request went out on
/// 2026-10-08, so three follow-ups fall due on 2026-10-22 at 13:00 UTC.
async fn prepare(dir: &TempDir) {
    let store = Store::open(&dir.0.join("raterise.db")).await.unwrap();
    let ctx = Ctx::new(store, Arc::new(ManualClock::new(at("2026-10-08T15:00:00Z")))).await.unwrap();
    let run = |guild: &'static str, line: String| {
        let ctx = ctx.clone();
        async move {
            let tenant = Some(Tenant { platform: Platform::Discord, external_id: guild.into() });
            let actor = Actor { id: "80351110224678912".into(), name: "dana".into(), can_manage: true, roles: vec![] };
            let inv = Invocation::from_line(&line, tenant, actor, None).unwrap();
            dispatch(&ctx, &inv).await.unwrap_or_else(|e| panic!("`{line}`: {}", e.user_message()));
        }
    };
    for (guild, channel, payers) in
        [("900000000000000011", A, &["Cigna", "Aetna"][..]), ("900000000000000012", B, &["Optum"][..])]
    {
        run(guild, format!(r#"/setup locality:"MANHATTAN, NY" credential:lcsw channel:{channel}"#)).await;
        for p in payers {
            run(guild, format!("/payer add name:{p} kind:commercial")).await;
            run(guild, format!("/rate set payer:{p} cpt:90837 amount:118.50 effective:2026-01-01")).await;
            run(guild, format!("/negotiate start payer:{p} date:2026-10-01")).await;
            run(guild, format!("/negotiate log payer:{p} event:written-request date:2026-10-08")).await;
        }
    }
    ctx.store.close().await;
}

/// Reminder states in the database, read while (or after) the bot runs.
async fn states(dir: &TempDir) -> HashMap<String, i64> {
    let store = Store::open(&dir.0.join("raterise.db")).await.unwrap();
    let counts = store.reminder_counts().await.unwrap();
    store.close().await;
    counts
}

struct Bot {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Bot {
    /// `raterise serve` with a bot token (so the scheduler runs), the fake API and a pinned clock.
    fn start(dir: &TempDir, fake: &FakeDiscord, now: &str, fault: Option<&str>) -> Bot {
        let key = test_key().public_hex();
        let mut envs = vec![
            ("DISCORD_PUBLIC_KEY", key.as_str()),
            ("DISCORD_TOKEN", "test-bot-token"),
            ("DISCORD_APPLICATION_ID", APP_ID),
            ("DISCORD_API_URL", fake.url.as_str()),
            ("RATERISE_NOW", now),
            ("RATERISE_SCHEDULER_INTERVAL_MS", "100"),
        ];
        if let Some(f) = fault {
            envs.push(("RATERISE_SCHEDULER_FAULT", f));
        }
        let (child, stderr, _) = spawn_serve(dir, &envs);
        Bot { child, stderr }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (bounded) until stderr contains `text`.
    fn wait_for_log(&self, text: &str, limit: Duration) {
        let start = Instant::now();
        while !self.stderr().contains(text) {
            assert!(start.elapsed() < limit, "no `{text}` within {limit:?}; stderr:\n{}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill9(mut self) {
        let status = Command::new("kill").args(["-KILL", &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(!exit.success(), "killed, not exited");
    }

    fn terminate(mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let start = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!("serve did not stop; stderr:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn posts(fake: &FakeDiscord) -> Vec<(String, String)> {
    fake.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/messages"))
        .map(|r| (r.path.clone(), r.payload()["nonce"].as_str().unwrap_or("").to_string()))
        .collect()
}

async fn wait_sent(dir: &TempDir, n: i64, bot: &Bot) {
    let start = Instant::now();
    loop {
        if states(dir).await.get("sent") == Some(&n) {
            return;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{:?}; stderr:\n{}", states(dir).await, bot.stderr());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_posting_before_marking_then_restarted_posts_each_reminder_once() {
    let dir = TempDir::new("reminders-kill");
    prepare(&dir).await;
    let fake = FakeDiscord::start().await;
    fake.gateway_unreachable();

    // First run: each channel's first post is accepted, then the process stops before marking it.
    let bot = Bot::start(&dir, &fake, "2026-10-22T13:00:30Z", Some("after-post"));
    bot.wait_for_log("fault injected (posted, not marked sent)", Duration::from_secs(20));
    let shown = fake.wait_for_messages(2, Duration::from_secs(10)).await;
    assert_eq!(shown.len(), 2, "one post in each channel before the fault");
    bot.kill9();
    let before = states(&dir).await;
    assert_eq!(before.get("sent"), None, "nothing was marked: {before:?}");
    // Three follow-ups, and the three escalations planned for 11-07.
    assert_eq!(before.get("pending"), Some(&6), "{before:?}");

    // Restart five minutes later (the two-minute claims have expired): the posts are retried with
    // the same nonces, which Discord answers with the messages it already has.
    let bot = Bot::start(&dir, &fake, "2026-10-22T13:05:30Z", None);
    wait_sent(&dir, 3, &bot).await;
    let messages = fake.messages();
    assert_eq!(states(&dir).await.get("pending"), Some(&6), "the escalations and the next follow-ups");
    assert_eq!(messages.len(), 3, "nothing lost, nothing twice: {messages:#?}");
    let per_channel: Vec<usize> =
        [A, B].iter().map(|c| messages.iter().filter(|m| m.channel_id == *c).count()).collect();
    assert_eq!(per_channel, vec![2, 1]);
    let nonces: HashSet<String> = messages.iter().filter_map(|m| m.nonce.clone()).collect();
    assert_eq!(nonces.len(), 3);
    let all = posts(&fake);
    assert_eq!(all.len(), 5, "two posts retried after the kill: {all:#?}");
    for m in &shown {
        let same = all.iter().filter(|(_, n)| Some(n) == m.nonce.as_ref()).count();
        assert_eq!(same, 2, "the message shown before the kill was posted again with its nonce");
    }
    bot.terminate();
    assert_eq!(posts(&fake).len(), 5, "nothing more until it stopped");
    assert_eq!(fake.messages().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_claiming_before_posting_then_restarted_posts_each_reminder_once() {
    let dir = TempDir::new("reminders-kill-claim");
    prepare(&dir).await;
    let fake = FakeDiscord::start().await;
    fake.gateway_unreachable();
    let bot = Bot::start(&dir, &fake, "2026-10-22T13:00:30Z", Some("after-claim"));
    bot.wait_for_log("fault injected (claimed, nothing posted)", Duration::from_secs(20));
    bot.kill9();
    assert!(fake.messages().is_empty());
    // Restarted within the claim's lease: the reminders wait for it to expire...
    let bot = Bot::start(&dir, &fake, "2026-10-22T13:01:30Z", None);
    bot.wait_for_log("first reminder tick done", Duration::from_secs(20));
    assert!(fake.messages().is_empty(), "claims held by the dead process are respected until they expire");
    bot.kill9();
    // ...and are posted once it has.
    let bot = Bot::start(&dir, &fake, "2026-10-22T13:03:00Z", None);
    wait_sent(&dir, 3, &bot).await;
    assert_eq!(fake.messages().len(), 3);
    assert_eq!(posts(&fake).len(), 3);
    bot.kill9();
}
