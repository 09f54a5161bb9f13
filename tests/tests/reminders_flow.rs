//! Reminders end to end inside one process: commands go through `dispatch` as a Discord manager
//! would run them, the clock is moved by hand, and the scheduler's `tick` posts through a
//! recording delivery. What the practice sees in its channel is asserted message by message.

#[allow(dead_code)] // each test file uses part of the harness
#[path = "support/reminders_world.rs"]
mod world;
use world::*;

use raterise::scheduler::{self, DeliveryError, SchedulerSettings};
use raterise_commands::clock::ManualClock;
use raterise_commands::command_line;
use raterise_commands::store::Store;
use raterise_commands::{Ctx, Outcome};
use std::sync::Arc;

#[tokio::test]
async fn follow_ups_every_fourteen_days_until_the_payer_answers_then_nothing() {
    let w = World::new("2026-10-08T15:00:00Z").await;
    w.practice().await;
    w.ok("/negotiate start payer:Cigna date:2026-10-01").await;
    w.ok("/negotiate log payer:Cigna event:written-request date:2026-10-08").await;
    let list = w.list().await;
    let planned: Vec<(String, String)> =
        list.upcoming.iter().map(|i| (i.kind.key().to_string(), i.due_at.clone())).collect();
    // Thursday 10-22 at 09:00 EDT; the escalation (Saturday 11-07) moves to Monday 11-09, 09:00 EST.
    assert!(planned.contains(&("follow-up".into(), "2026-10-22T13:00:00Z".into())), "{planned:?}");
    assert!(planned.contains(&("escalation".into(), "2026-11-09T14:00:00Z".into())), "{planned:?}");

    // An hour early: nothing. On time: one message, once.
    assert!(w.posts_at("2026-10-22T12:59:59Z").await.is_empty());
    let first = w.posts_at("2026-10-22T13:00:00Z").await;
    assert_eq!(first.len(), 1);
    let p = &first[0];
    assert_eq!(p.channel, CHANNEL);
    assert_eq!(p.reply.title, "Follow up with Cigna today");
    assert!(text(p).contains("October 8, 2026 (14 days ago)"), "{}", text(p));
    let attachment = p.reply.attachments.first().expect("the drafted follow-up is attached");
    assert!(attachment.filename.ends_with(".eml"), "{}", attachment.filename);
    assert!(attachment.content.contains("pat@example.com") && attachment.content.contains("Cigna"));
    assert_eq!(button(p, "Logged a follow-up"), "/negotiate log payer:Cigna event:follow-up");
    assert_eq!(button(p, "They answered"), "/negotiate log payer:Cigna event:acknowledged");
    assert!(button(p, "Snooze 1 week").starts_with("/followups snooze id:"));
    assert!(button(p, "Stop reminding").starts_with("/followups cancel id:"));
    for (_, line) in buttons(p) {
        command_line::parse(&line).unwrap_or_else(|e| panic!("button {line} does not parse: {}", e.user_message()));
    }
    assert!(w.posts_at("2026-10-22T18:00:00Z").await.is_empty(), "posted exactly once");

    // Nobody logs the follow-up: two weeks later, again (after the clocks went back: 09:00 EST).
    assert!(w.posts_at("2026-11-05T13:59:00Z").await.is_empty());
    let second = w.posts_at("2026-11-05T14:00:00Z").await;
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].reply.title, "Follow up with Cigna today");
    assert_ne!(second[0].nonce, first[0].nonce);

    // 30 days without an answer: the escalation, with its own button.
    let esc = w.posts_at("2026-11-09T14:00:00Z").await;
    assert_eq!(esc.len(), 1);
    assert!(esc[0].reply.title.contains("time to escalate"), "{}", esc[0].reply.title);
    assert_eq!(button(&esc[0], "Escalated"), "/negotiate log payer:Cigna event:escalated");

    // The practice follows up on 11-10 and logs it: the next reminder is 14 days after that.
    w.set("2026-11-10T16:00:00Z");
    w.ok(&button(&second[0], "Logged a follow-up")).await;
    let list = w.list().await;
    let next: Vec<&str> =
        list.upcoming.iter().filter(|i| i.kind.key() == "follow-up").map(|i| i.due_at.as_str()).collect();
    assert_eq!(next, vec!["2026-11-24T14:00:00Z"]);
    assert!(w.posts_at("2026-11-19T14:00:00Z").await.is_empty(), "the old two-week mark no longer applies");
    let third = w.posts_at("2026-11-24T14:00:00Z").await;
    assert_eq!(third.len(), 1);

    // The payer says no: no more follow-ups.
    w.set("2026-12-01T15:00:00Z");
    w.ok("/negotiate outcome payer:Cigna result:denied").await;
    let list = w.list().await;
    assert!(list.upcoming.is_empty() && list.overdue.is_empty(), "{list:?}");
    for day in ["2026-12-08T14:00:00Z", "2026-12-22T14:00:00Z", "2027-01-05T14:00:00Z"] {
        assert!(w.posts_at(day).await.is_empty(), "nothing after the answer ({day})");
    }
    let counts = w.ctx.store.reminder_counts().await.unwrap();
    assert_eq!(counts.get("sent"), Some(&4), "{counts:?}");
    assert_eq!(counts.get("pending"), None, "{counts:?}");
}

#[tokio::test]
async fn snooze_done_and_stop_reminding_from_the_buttons() {
    let w = World::new("2026-10-08T15:00:00Z").await;
    w.practice().await;
    w.ok("/negotiate start payer:Cigna date:2026-10-01").await;
    w.ok("/negotiate log payer:Cigna event:written-request date:2026-10-08").await;
    let first = w.posts_at("2026-10-22T13:00:00Z").await;
    assert_eq!(first.len(), 1);

    // "Snooze 1 week" on Thursday 10-22: back on Thursday 10-29 at 09:00, as a new message.
    w.set("2026-10-22T15:00:00Z");
    match w.ok(&button(&first[0], "Snooze 1 week")).await {
        Outcome::FollowupChanged(c) => assert_eq!(c.until.unwrap().to_string(), "2026-10-29", "{:?}", c.items),
        other => panic!("{other:?}"),
    }
    assert!(w.posts_at("2026-10-29T12:59:00Z").await.is_empty());
    let again = w.posts_at("2026-10-29T13:00:00Z").await;
    assert_eq!(again.len(), 1, "the snoozed reminder comes back once");
    assert_ne!(again[0].nonce, first[0].nonce, "a second post needs its own nonce");
    // Its next follow-up counts from the day it was shown again: 11-12.
    let list = w.list().await;
    let next = list.upcoming.iter().find(|i| i.kind.key() == "follow-up").expect("next follow-up");
    assert_eq!(next.due_on.to_string(), "2026-11-12");

    // The escalation (Saturday 11-07) comes on Monday 11-09.
    let esc = w.posts_at("2026-11-09T14:00:00Z").await;
    assert_eq!(esc.len(), 1);
    assert!(esc[0].reply.title.contains("escalate"));

    // Done before it is posted: not posted, and the one after comes two weeks later.
    w.set("2026-11-11T15:00:00Z");
    w.ok(&format!("/followups done id:{}", next.id)).await;
    assert!(w.posts_at("2026-11-12T14:00:00Z").await.is_empty(), "a reminder marked done is not posted");
    let list = w.list().await;
    let after = list.upcoming.iter().find(|i| i.kind.key() == "follow-up").expect("the one after");
    assert_eq!(after.due_on.to_string(), "2026-11-26");

    // Snoozing a reminder due later than the snooze never moves it earlier (issue 10, section 5):
    // the 11-26 follow-up snoozed for a week on 11-11 stays planned for 11-26 (Thanksgiving, so
    // it is posted on Friday 11-27).
    w.ok(&format!("/followups snooze id:{} days:7", after.id)).await;
    let list = w.list().await;
    let kept = list.upcoming.iter().find(|i| i.id == after.id).expect("still planned");
    assert_eq!((kept.due_on.to_string().as_str(), kept.post_on.to_string().as_str()), ("2026-11-26", "2026-11-27"));
    assert!(w.posts_at("2026-11-18T15:00:00Z").await.is_empty(), "not brought forward to 11-18");

    // A snooze for too long, or of a reminder that is not ours, explains itself.
    let e = w.run(&format!("/followups snooze id:{} days:400", after.id)).await.unwrap_err();
    assert!(e.contains("1 to 90 days"), "{e}");
    let e = w.run("/followups snooze id:999999").await.unwrap_err();
    assert!(e.contains("no reminder #999999"), "{e}");

    // "Stop reminding": nothing more about this case.
    w.ok(&button(&again[0], "Stop reminding")).await;
    let list = w.list().await;
    assert!(list.upcoming.is_empty(), "{:?}", list.upcoming);
    for day in ["2026-11-26T14:00:00Z", "2026-12-10T14:00:00Z"] {
        assert!(w.posts_at(day).await.is_empty());
    }
    // Logging more on the case plans nothing for it either.
    w.ok("/negotiate log payer:Cigna event:follow-up date:2026-12-10").await;
    assert!(w.list().await.upcoming.is_empty());
}

#[tokio::test]
async fn after_downtime_everything_due_is_posted_once_one_message_per_case() {
    let w = World::new("2026-09-20T15:00:00Z").await;
    w.practice().await;
    w.ok("/payer add name:Aetna kind:commercial").await;
    w.ok("/negotiate start payer:Cigna date:2026-09-01").await;
    w.ok("/negotiate log payer:Cigna event:written-request date:2026-09-02").await;
    w.ok("/negotiate start payer:Aetna date:2026-09-01 ask:\"90837=140\"").await;
    w.ok("/negotiate log payer:Aetna event:written-request date:2026-09-20").await;
    // The bot was down from September until October 13: for Cigna both the follow-up (09-16) and
    // the escalation (10-02) fell due, for Aetna the follow-up (Sunday 10-04). One message per case.
    let posts = w.posts_at("2026-10-13T16:00:00Z").await;
    let titles: Vec<&str> = posts.iter().map(|p| p.reply.title.as_str()).collect();
    assert_eq!(posts.len(), 2, "{titles:?}");
    assert!(titles.contains(&"No answer from Cigna in 41 days: time to escalate"), "{titles:?}");
    assert!(titles.contains(&"Follow up with Aetna today"), "{titles:?}");
    let cigna = posts.iter().find(|p| p.reply.title.contains("Cigna")).unwrap();
    assert!(cigna.reply.footer.as_deref().unwrap().contains(", #"), "both reminders named: {:?}", cigna.reply.footer);
    assert_eq!(w.ctx.store.reminder_counts().await.unwrap().get("sent"), Some(&3));
    // Next for each case: two weeks after it was posted, not a burst of the missed ones.
    let list = w.list().await;
    let mut due: Vec<String> = list
        .upcoming
        .iter()
        .filter(|i| i.kind.key() == "follow-up")
        .map(|i| format!("{} {}", i.about, i.due_on))
        .collect();
    due.sort();
    assert_eq!(due, vec!["Aetna 2026-10-27", "Cigna 2026-10-27"]);
    assert!(w.posts_at("2026-10-14T16:00:00Z").await.is_empty());
}

#[tokio::test]
async fn renewal_window_across_a_year_boundary_and_a_weekend() {
    let w = World::new("2026-09-01T15:00:00Z").await;
    w.practice().await;
    // Anniversary 2027-01-15, 90 days' notice: the window opens Saturday 2026-10-17 (posted
    // Monday 10-19, 09:00 EDT); the last call is Wednesday 2026-12-16 (09:00 EST).
    w.ok("/payer edit name:Cigna renewal:2022-01-15 notice_days:90").await;
    assert!(w.posts_at("2026-10-17T13:00:00Z").await.is_empty(), "not on a Saturday");
    assert!(w.posts_at("2026-10-19T12:59:00Z").await.is_empty());
    let open = w.posts_at("2026-10-19T13:00:00Z").await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].reply.title, "Cigna's renewal window is open");
    assert!(text(&open[0]).contains("January 15, 2027"), "{}", text(&open[0]));
    assert_eq!(button(&open[0], "Open a negotiation"), "/negotiate start payer:Cigna");
    assert!(open[0].reply.attachments[0].filename.contains("call"), "the call script is attached");
    let last = w.posts_at("2026-12-16T14:00:00Z").await;
    assert_eq!(last.len(), 1);
    assert!(last[0].reply.title.starts_with("Cigna renews in 30 days"), "{}", last[0].reply.title);
    // Next year's window is planned once this anniversary has passed.
    w.set("2027-01-16T15:00:00Z");
    w.tick().await;
    let list = w.list().await;
    let next: Vec<String> = list.upcoming.iter().map(|i| format!("{} {}", i.kind.key(), i.due_on)).collect();
    assert!(next.contains(&"renewal-window 2027-10-17".to_string()), "{next:?}");

    // A negotiation opened in the window: no last call.
    let w = World::new("2026-09-01T15:00:00Z").await;
    w.practice().await;
    w.ok("/payer edit name:Cigna renewal:2022-01-15 notice_days:90").await;
    assert_eq!(w.posts_at("2026-10-19T13:00:00Z").await.len(), 1);
    w.set("2026-10-20T15:00:00Z");
    w.ok("/negotiate start payer:Cigna").await;
    assert!(w.posts_at("2026-12-16T14:00:00Z").await.is_empty());
}

#[tokio::test]
async fn failures_retry_then_fail_visibly_and_a_warning_follows_when_the_channel_works() {
    let w = World::new("2026-10-08T15:00:00Z").await;
    w.practice().await;
    w.ok("/negotiate start payer:Cigna date:2026-10-01").await;
    w.ok("/negotiate log payer:Cigna event:written-request date:2026-10-08").await;
    let settings = SchedulerSettings::default();
    // The chat service is down for every attempt.
    {
        let mut f = w.delivery.failures.lock().unwrap();
        for _ in 0..settings.max_attempts {
            f.push_back(DeliveryError::Temporary("temporary failure (503): upstream".into()));
        }
    }
    w.set("2026-10-22T13:00:00Z");
    let mut attempts = 0;
    for _ in 0..40 {
        let r = w.tick().await;
        attempts += r.claimed;
        if r.failed > 0 {
            break;
        }
        // Move past the backoff (at most an hour, with jitter).
        w.clock.advance(chrono::Duration::minutes(75));
    }
    assert_eq!(attempts as i64, settings.max_attempts, "tried {attempts} times");
    assert!(w.delivery.take().is_empty());
    let list = w.list().await;
    let failed = list.failed.first().expect("listed as failed");
    assert!(failed.last_error.as_deref().unwrap().contains("gave up after 8 attempts"), "{failed:?}");
    let reply = raterise_commands::handlers::Outcome::FollowupList(list.clone()).reply().to_text();
    assert!(reply.contains("Could not be posted"), "{reply}");

    // Two weeks later the service works: the next follow-up is posted, then one warning.
    let posts = w.posts_at("2026-11-05T14:00:00Z").await;
    let titles: Vec<&str> = posts.iter().map(|p| p.reply.title.as_str()).collect();
    assert_eq!(titles, vec!["Follow up with Cigna today", "1 reminder could not be posted here"], "{titles:?}");
    assert!(text(&posts[1]).contains(&format!("#{}", failed.id)));
    // Every button of both messages runs as it stands.
    for p in &posts {
        for (_, line) in buttons(p) {
            w.run(&line).await.unwrap_or_else(|e| panic!("button {line}: {e}"));
        }
    }
    assert!(w.posts_at("2026-11-05T18:00:00Z").await.is_empty(), "one warning only");
}

#[tokio::test]
async fn a_new_medicare_year_names_the_payers_furthest_below_it_once() {
    // Friday 2026-11-27, 10:00 in New York: an import today is posted at once.
    let w = World::new("2026-11-27T15:00:00Z").await;
    w.practice().await;
    w.ok("/payer add name:Aetna kind:commercial").await;
    w.ok("/rate set payer:Aetna cpt:90837 amount:135.00 effective:2026-01-01").await;
    w.ok("/payer add name:\"State Medicaid\" kind:medicaid").await;
    w.ok("/rate set payer:\"State Medicaid\" cpt:90837 amount:80.00 effective:2026-01-01").await;
    // The 2026 tables loaded again as "2027" with a higher conversion factor.
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../commands/data/medicare");
    let rvu = std::fs::read_to_string(data.join("rvu_2026.csv")).unwrap();
    let gpci = std::fs::read_to_string(data.join("gpci_2026.csv")).unwrap();
    let merged = w.ctx.medicare.with_release(2027, &rvu, &gpci, 350_000).unwrap();
    let with_release = Ctx { medicare: Arc::new(merged), ..w.ctx.clone() };
    assert_eq!(raterise_commands::reminders::plan::plan_medicare_year(&with_release, "admin").await.unwrap(), 1);
    assert_eq!(
        raterise_commands::reminders::plan::plan_medicare_year(&with_release, "admin").await.unwrap(),
        0,
        "importing the same year again plans nothing more"
    );
    let posts = w.posts_at("2026-11-27T15:00:00Z").await;
    assert_eq!(posts.len(), 1);
    let p = &posts[0];
    assert_eq!(p.reply.title, "Medicare 2027 is out: your lowest payers against it");
    let t = text(p);
    let (cigna, aetna) = (t.find("Cigna: ").expect(&t), t.find("Aetna: ").expect(&t));
    assert!(cigna < aetna, "lowest share of Medicare first: {t}");
    assert!(t.contains("% of Medicare 2027"), "{t}");
    assert!(!t.contains("State Medicaid"), "a state Medicaid schedule is not negotiable: {t}");
    assert_eq!(button(p, "Rates of Cigna"), "/rates payer:Cigna");
    assert!(w.posts_at("2026-11-30T15:00:00Z").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_channels_at_once_on_a_database_file_all_posted_in_one_tick() {
    // Channels are served a few at a time, each re-planning its practice while the others write:
    // on a file database with several connections that must not lose a delivery to a busy lock.
    let dir = raterise_tests::discord::TempDir::new("reminders-many");
    let store = Store::open(&dir.0.join("raterise.db")).await.unwrap();
    let clock = ManualClock::new(at("2026-11-27T15:00:00Z"));
    let ctx = Ctx::new(store, Arc::new(clock.clone())).await.unwrap();
    raterise_commands::reminders::load::due_follow_ups(&ctx, 600_000_000_000_000_000, 40).await.unwrap();
    let delivery = Arc::new(Recording::default());
    let r = scheduler::tick(&ctx, &delivery, "worker").await.unwrap();
    assert_eq!((r.claimed, r.sent, r.errors), (40, 40, 0), "{r:?}");
    let posted = delivery.take();
    let channels: std::collections::HashSet<&str> = posted.iter().map(|p| p.channel.as_str()).collect();
    assert_eq!(channels.len(), 40);
    assert_eq!(ctx.store.reminder_counts().await.unwrap().get("sent"), Some(&40));
    ctx.store.close().await;
}
