//! Issue 10, section 5, through the scheduler with an injected clock: back-dated data is
//! summarised once instead of posted reminder by reminder; a credential earned on a date opens a
//! window shown in /timing and posted as a reminder. (Harness: support/reminders_world.rs.)

#[allow(dead_code)] // each test file uses part of the harness
#[path = "support/reminders_world.rs"]
mod world;
use world::*;

use raterise_commands::Outcome;

#[tokio::test]
async fn back_dated_data_is_summarised_once_not_posted_one_by_one() {
    // Friday 2026-11-27, 10:00 New York: the practice enters years of history at once.
    let w = World::new("2026-11-27T15:00:00Z").await;
    w.practice().await;
    for payer in ["Aetna", "Magellan", "Lyra"] {
        w.ok(&format!("/payer add name:{payer} kind:commercial")).await;
        // Rates unchanged since 2022: each payer's "two years unchanged" fell due in 2024.
        w.ok(&format!("/rate set payer:{payer} cpt:90837 amount:100.00 effective:2022-01-01")).await;
    }
    // A case started in the summer: its follow-up and escalation fell due in August/September.
    w.ok("/negotiate start payer:Cigna date:2026-08-01").await;
    w.ok("/negotiate log payer:Cigna event:written-request date:2026-08-03").await;
    let list = w.list().await;
    assert_eq!(list.overdue.len(), 5, "{list:?}");

    let posts = w.posts_at("2026-11-27T15:05:00Z").await;
    assert_eq!(
        posts.len(),
        1,
        "one summary, not five posts: {:?}",
        posts.iter().map(|p| &p.reply.title).collect::<Vec<_>>()
    );
    let p = &posts[0];
    assert_eq!(p.reply.title, "5 reminders were already due when their data was entered");
    let shown = text(p);
    for part in ["Aetna", "Magellan", "Lyra", "Cigna", "rates unchanged 2 years", "follow-up", "escalate"] {
        assert!(shown.contains(part), "{part}: {shown}");
    }
    assert_eq!(button(p, "Show reminders"), "/followups list");
    // Each counts as posted: nothing comes again.
    assert!(w.posts_at("2026-11-27T18:00:00Z").await.is_empty());
    let counts = w.ctx.store.reminder_counts().await.unwrap();
    assert_eq!(counts.get("sent"), Some(&5), "{counts:?}");

    // From here on, reminders come one by one: the next follow-up two weeks after the summary.
    let list = w.list().await;
    let next: Vec<&str> =
        list.upcoming.iter().filter(|i| i.kind.key() == "follow-up").map(|i| i.due_at.as_str()).collect();
    assert_eq!(next, vec!["2026-12-11T14:00:00Z"]);
    let later = w.posts_at("2026-12-11T14:00:00Z").await;
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].reply.title, "Follow up with Cigna today");
}

#[tokio::test]
async fn one_back_dated_reminder_is_posted_as_itself() {
    let w = World::new("2026-11-27T15:00:00Z").await;
    w.practice().await;
    w.ok("/negotiate start payer:Cigna date:2026-10-01").await;
    w.ok("/negotiate log payer:Cigna event:written-request date:2026-10-08").await;
    // Follow-up due 10-22 and escalation due 11-07 (posted 11-09): one subject, one message.
    let posts = w.posts_at("2026-11-27T15:05:00Z").await;
    assert_eq!(posts.len(), 1);
    assert!(posts[0].reply.title.contains("time to escalate"), "{}", posts[0].reply.title);
}

#[tokio::test]
async fn a_credential_earned_on_a_date_opens_a_window_shown_and_reminded() {
    let w = World::new("2026-11-27T15:00:00Z").await;
    w.practice().await;
    let o = w.ok("/practice credential name:EMDR kind:specialty clinicians:2 date:2026-12-07").await;
    assert!(o.reply().to_text().contains("until 2027-06-05"), "{}", o.reply().to_text());
    let Outcome::Timing(t) = w.ok("/timing").await else { panic!() };
    let opening = t
        .openings
        .iter()
        .find(|o| o.kind == raterise_commands::handlers::timing::OpeningKind::NewCredential)
        .unwrap_or_else(|| panic!("{:?}", t.openings));
    assert_eq!(opening.date.to_string(), "2026-12-07");
    assert!(opening.what.contains("EMDR"), "{}", opening.what);
    let list = w.list().await;
    assert!(
        list.upcoming.iter().any(|i| i.kind.key() == "credential" && i.due_at == "2026-12-07T14:00:00Z"),
        "{list:?}"
    );
    // Posted on the day it was earned, at 09:00 New York, naming the payers to tell.
    assert!(w.posts_at("2026-12-07T13:59:00Z").await.is_empty());
    let posts = w.posts_at("2026-12-07T14:00:00Z").await;
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].reply.title, "New specialty: EMDR: a reason to ask for more");
    assert!(text(&posts[0]).contains("Cigna"), "{}", text(&posts[0]));
    // Saving it again (another note) does not post it a second time.
    w.ok("/practice credential name:EMDR kind:specialty clinicians:3 date:2026-12-07").await;
    assert!(w.posts_at("2026-12-08T15:00:00Z").await.is_empty());
    // A credential earned long ago opens nothing.
    w.ok("/practice credential name:LCSW kind:credential date:2019-05-01").await;
    let Outcome::Timing(t) = w.ok("/timing").await else { panic!() };
    assert!(t.openings.iter().all(|o| !o.what.contains("LCSW")), "{:?}", t.openings);
}
