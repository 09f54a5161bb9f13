use super::*;
use crate::invocation::{Platform, Tenant};
use crate::store::PracticeChanges;
use chrono::{Duration, TimeZone};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn practice(store: &Store, guild: &str, channel: Option<&str>) -> i64 {
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 15, 0, 0).unwrap();
    let tenant = Tenant { platform: Platform::Discord, external_id: guild.into() };
    let p = store.ensure_practice(&tenant, guild, now).await.unwrap();
    if let Some(c) = channel {
        let changes = PracticeChanges { reminder_channel: Some(c.into()), ..Default::default() };
        store.update_practice(p.id, &changes, &audit_for(p.id, now)).await.unwrap();
    }
    p.id
}

fn audit_for(practice_id: i64, now: DateTime<Utc>) -> Audit {
    Audit { practice_id, actor: "tester".into(), at: now }
}

fn want(kind: Kind, subject: &str, due_on: &str) -> Desired {
    Desired { kind, subject_key: subject.into(), negotiation_id: None, payer_id: None, due_on: d(due_on) }
}

const TZ: &str = "America/New_York";
const DISCORD: &[&str] = &["discord"];

#[tokio::test]
async fn sync_is_idempotent_cancels_what_is_no_longer_wanted_and_revives_it() {
    let store = Store::open_in_memory().await.unwrap();
    let p = practice(&store, "g1", Some("42")).await;
    let now = at("2026-11-27T15:00:00Z");
    let a = audit_for(p, now);
    let all = vec![
        want(Kind::FollowUp, "case:1", "2026-12-01"),
        want(Kind::StaleRate, "payer:1", "2026-12-05"),
        want(Kind::FollowUp, "case:1", "2026-12-01"),
    ];
    let r = store.sync_reminders(p, TZ, &all, &a).await.unwrap();
    assert_eq!(r, SyncReport { planned: 2, cancelled: 0 });
    assert_eq!(store.sync_reminders(p, TZ, &all, &a).await.unwrap(), SyncReport::default(), "idempotent");
    let list = store.list_reminders(p, 50).await.unwrap();
    assert_eq!(list.len(), 2);
    // 09:00 New York on Tuesday 2026-12-01 is 14:00 UTC.
    assert_eq!(list[0].due_at, "2026-12-01T14:00:00Z");
    // Saturday 2026-12-05 moves to Monday 12-07.
    assert_eq!(list[1].due_at, "2026-12-07T14:00:00Z");

    let r = store.sync_reminders(p, TZ, &all[..1], &a).await.unwrap();
    assert_eq!(r, SyncReport { planned: 0, cancelled: 1 });
    assert_eq!(store.list_reminders(p, 50).await.unwrap().len(), 1);
    // Wanted again (the payer went back in network): the same row comes back.
    let r = store.sync_reminders(p, TZ, &all, &a).await.unwrap();
    assert_eq!(r, SyncReport { planned: 1, cancelled: 0 });
    assert_eq!(store.list_reminders(p, 50).await.unwrap().len(), 2);
    assert_eq!(store.reminder_counts().await.unwrap().get("pending"), Some(&2));
    // A new time zone moves pending rows to 09:00 there.
    store.sync_reminders(p, "America/Los_Angeles", &all, &a).await.unwrap();
    assert_eq!(store.list_reminders(p, 50).await.unwrap()[0].due_at, "2026-12-01T17:00:00Z");
    let trail = store.audit_trail(p, 20).await.unwrap();
    assert!(trail.iter().any(|e| e.action == "reminders.plan" && e.detail.contains("1 cancelled")), "{trail:?}");
}

#[tokio::test]
async fn claims_take_only_due_rows_once_until_the_lease_expires() {
    let store = Store::open_in_memory().await.unwrap();
    let p = practice(&store, "g1", Some("42")).await;
    let quiet = practice(&store, "g2", None).await;
    let now = at("2026-12-01T14:00:00Z");
    let a = audit_for(p, now);
    let rows = vec![
        want(Kind::FollowUp, "case:1", "2026-12-01"),
        want(Kind::FollowUp, "case:2", "2026-11-30"),
        want(Kind::FollowUp, "case:3", "2026-12-02"),
    ];
    store.sync_reminders(p, TZ, &rows, &a).await.unwrap();
    store.sync_reminders(quiet, TZ, &rows, &audit_for(quiet, now)).await.unwrap();

    let lease = now + Duration::minutes(2);
    let got = store.claim_due(now, lease, 10, "w1", DISCORD).await.unwrap();
    let subjects: Vec<&str> = got.iter().map(|c| c.subject_key.as_str()).collect();
    assert_eq!(subjects, vec!["case:2", "case:1"], "due ones only, oldest first, and no practice without a channel");
    assert!(got.iter().all(|c| c.attempts == 1 && c.practice_id == p));
    assert!(got[0].nonce.starts_with("rr-"));
    // Held: another worker gets nothing until the lease expires.
    assert!(store.claim_due(now, lease, 10, "w2", DISCORD).await.unwrap().is_empty());
    // Slack practices are another adapter's.
    assert!(store.claim_due(now + Duration::minutes(3), lease, 10, "w2", &["slack"]).await.unwrap().is_empty());
    let later = now + Duration::minutes(3);
    let again = store.claim_due(later, later + Duration::minutes(2), 1, "w2", DISCORD).await.unwrap();
    assert_eq!(again.len(), 1, "batch size is respected");
    assert_eq!(again[0].subject_key, "case:2");
    assert_eq!(again[0].attempts, 2);

    // Only the current claimer can mark it; w1's lease was taken over.
    assert!(!store.extend_lease(&[again[0].id], "w1", later + Duration::minutes(2)).await.unwrap());
    assert_eq!(store.mark_sent(p, &[again[0].id], "w1", &["m1".into()], later).await.unwrap(), 0);
    assert!(store.extend_lease(&[again[0].id], "w2", later + Duration::minutes(2)).await.unwrap());
    assert_eq!(store.mark_sent(p, &[again[0].id], "w2", &["m1".into()], later).await.unwrap(), 1);
    let v = store.reminder(p, again[0].id).await.unwrap().unwrap();
    assert_eq!(v.state, State::Sent);
    assert_eq!(v.sent_at.as_deref(), Some("2026-12-01T14:03:00Z"));
    assert!(store.audit_trail(p, 5).await.unwrap().iter().any(|e| e.action == "reminder.sent"));

    // A retry waits for its time; a refunded attempt (rate limit) does not count.
    let other = got[1].id;
    let took = store.claim_due(later, later + Duration::minutes(2), 10, "w3", DISCORD).await.unwrap();
    assert_eq!(took.iter().map(|c| c.id).collect::<Vec<_>>(), vec![other]);
    store.mark_retry(&[other], "w3", later + Duration::minutes(5), "HTTP 503", false).await.unwrap();
    assert!(store.claim_due(later + Duration::minutes(4), later, 10, "w3", DISCORD).await.unwrap().is_empty());
    let retried =
        store.claim_due(later + Duration::minutes(5), later + Duration::minutes(7), 10, "w3", DISCORD).await.unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(retried[0].attempts, 3);
    store.mark_retry(&[other], "w3", later + Duration::minutes(6), "rate limited", true).await.unwrap();
    let v = store.reminder(p, other).await.unwrap().unwrap();
    assert_eq!((v.attempts, v.last_error.as_deref()), (2, Some("rate limited")));
}

#[tokio::test]
async fn failures_stay_visible_and_are_reported_once_when_the_channel_works_again() {
    let store = Store::open_in_memory().await.unwrap();
    let p = practice(&store, "g1", Some("42")).await;
    let now = at("2026-12-01T14:00:00Z");
    store
        .sync_reminders(
            p,
            TZ,
            &[want(Kind::FollowUp, "case:1", "2026-12-01"), want(Kind::StaleRate, "payer:9", "2026-12-01")],
            &audit_for(p, now),
        )
        .await
        .unwrap();
    let got = store.claim_due(now, now + Duration::minutes(2), 10, "w", DISCORD).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(
        store.mark_failed(p, &[got[0].id], "w", "refused by Discord (404): Unknown Channel", now).await.unwrap(),
        1
    );
    let list = store.list_reminders(p, 10).await.unwrap();
    assert!(list
        .iter()
        .any(|v| v.state == State::Failed && v.last_error.as_deref().unwrap().contains("Unknown Channel")));
    // The other one goes through later: one warning is planned, due now.
    store.mark_sent(p, &[got[1].id], "w", &["m".into()], now).await.unwrap();
    let w = store.queue_delivery_warning(p, TZ, now).await.unwrap().expect("a warning");
    assert_eq!(store.queue_delivery_warning(p, TZ, now).await.unwrap(), None, "planned once");
    let claimed = store.claim_due(now, now + Duration::minutes(2), 10, "w", DISCORD).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!((claimed[0].id, claimed[0].kind), (w, Kind::DeliveryWarning));
    let payload: WarningPayload = serde_json::from_str(claimed[0].payload.as_deref().unwrap()).unwrap();
    assert_eq!(payload.failed.iter().map(|f| f.id).collect::<Vec<_>>(), vec![got[0].id]);
    store.mark_sent(p, &[w], "w", &["m2".into()], now).await.unwrap();
    // Reported: no second warning, and the failed reminder is still listed.
    assert_eq!(store.queue_delivery_warning(p, TZ, now + Duration::hours(1)).await.unwrap(), None);
    assert!(store.list_reminders(p, 10).await.unwrap().iter().any(|v| v.id == got[0].id));
    // Marking it done takes it off the list.
    store.done_reminder(p, got[0].id, &audit_for(p, now)).await.unwrap();
    assert!(store.list_reminders(p, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn snooze_done_and_stop_reminding() {
    let store = Store::open_in_memory().await.unwrap();
    let p = practice(&store, "g1", Some("42")).await;
    let other = practice(&store, "g2", Some("43")).await;
    let now = at("2026-12-01T14:00:00Z");
    let a = audit_for(p, now);
    let rows = vec![
        want(Kind::FollowUp, "case:1", "2026-12-01"),
        want(Kind::Escalation, "case:1", "2026-12-01"),
        want(Kind::StaleRate, "payer:2", "2026-12-10"),
    ];
    store.sync_reminders(p, TZ, &rows, &a).await.unwrap();
    let got = store.claim_due(now, now + Duration::minutes(2), 10, "w", DISCORD).await.unwrap();
    let ids: Vec<i64> = got.iter().map(|c| c.id).collect();
    let first_nonce = got[0].nonce.clone();
    store.mark_sent(p, &ids, "w", &["m1".into()], now).await.unwrap();

    // Snoozing the posted message brings both of its reminders back in a week, with new nonces.
    let until = at("2026-12-08T14:00:00Z");
    let moved = store.snooze_reminder(p, ids[0], until, &a).await.unwrap();
    assert_eq!(moved.len(), 2);
    assert!(moved.iter().all(|v| v.state == State::Pending && v.due_at == "2026-12-08T14:00:00Z" && v.snoozed));
    // A re-plan leaves the snoozed hour alone.
    store.sync_reminders(p, TZ, &rows, &a).await.unwrap();
    assert_eq!(store.reminder(p, ids[0]).await.unwrap().unwrap().due_at, "2026-12-08T14:00:00Z");
    assert!(store.claim_due(at("2026-12-08T13:59:59Z"), until, 10, "w", DISCORD).await.unwrap().is_empty());
    let back = store.claim_due(until, until + Duration::minutes(2), 10, "w", DISCORD).await.unwrap();
    assert_eq!(back.len(), 2);
    assert!(back.iter().all(|c| c.nonce != first_nonce));

    // Another practice cannot touch them.
    let e = store.snooze_reminder(other, ids[0], until, &audit_for(other, now)).await.unwrap_err();
    assert!(e.user_message().contains("no reminder #"), "{}", e.user_message());
    assert!(store.cancel_reminder(other, ids[0], &audit_for(other, now)).await.is_err());

    // Done: not posted, kept as done.
    let stale = store.list_reminders(p, 10).await.unwrap().into_iter().find(|v| v.kind == Kind::StaleRate).unwrap();
    assert_eq!(store.done_reminder(p, stale.id, &a).await.unwrap().state, State::Done);
    let e = store.snooze_reminder(p, stale.id, until, &a).await.unwrap_err();
    assert!(e.user_message().contains("marked done"));

    // Stop reminding mutes the subject: its pending rows are cancelled and re-plans add none.
    let (view, n) = store.cancel_reminder(p, ids[0], &a).await.unwrap();
    assert_eq!((view.state, n), (State::Cancelled, 2));
    let r = store.sync_reminders(p, TZ, &[want(Kind::FollowUp, "case:1", "2026-12-15")], &a).await.unwrap();
    assert_eq!(r.planned, 0);
    assert!(store.list_reminders(p, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_tick_with_nothing_due_reads_only_the_pending_index_among_50000_reminders() {
    let store = Store::open_in_memory().await.unwrap();
    let now = at("2026-11-27T15:00:00Z");
    // 5,000 practices with 10 pending reminders each, all due in 2027.
    for i in 0..5_000 {
        let p = practice(&store, &format!("g{i}"), Some("42")).await;
        let rows: Vec<Desired> = (0..10)
            .map(|k| want(Kind::FollowUp, &format!("case:{k}"), &format!("2027-0{}-1{}", 1 + k % 9, k % 10)))
            .collect();
        store.sync_reminders(p, TZ, &rows, &audit_for(p, now)).await.unwrap();
    }
    assert_eq!(store.reminder_counts().await.unwrap().get("pending"), Some(&50_000));
    assert!(store.claim_due(now, now + Duration::minutes(2), 100, "w", DISCORD).await.unwrap().is_empty());
    // The claim searches the partial index of pending rows by due time (a range that is empty
    // here), never scans the table, and checks the practice only for rows that are due.
    let plan = store.claim_query_plan().await.unwrap();
    assert!(plan.iter().any(|l| l.contains("USING INDEX reminders_pending_due (due_at<?)")), "{plan:?}");
    assert!(!plan.iter().any(|l| l.starts_with("SCAN r") || l.contains("SCAN reminders")), "{plan:?}");
    assert!(!plan.iter().any(|l| l.contains("TEMP B-TREE")), "no sort: the index gives due order: {plan:?}");
    // One reminder per practice falls due (Sunday 2027-01-10, posted Monday): exactly those.
    let due = at("2027-01-11T14:00:00Z");
    let got = store.claim_due(due, due + Duration::minutes(2), 10_000, "w", DISCORD).await.unwrap();
    assert_eq!(got.len(), 5_000, "every practice's 2027-01-10 reminder, and nothing else");
    assert!(got.iter().all(|c| c.due_on == d("2027-01-10")));
}
