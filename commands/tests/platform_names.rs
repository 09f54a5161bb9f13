//! Letters never carry a platform id where a name belongs (issue 15, item 7): a chat practice
//! never named with `/setup name:` takes its server's name when the adapter looked it up
//! (`Invocation::tenant_name`), a name given with `/setup name:` always wins, an unusable name
//! falls back to the id; a reminder channel is shown as a mention, never as a bare id.

use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::invocation::Actor;
use raterise_commands::reply::{channel_mention, Block};
use raterise_commands::store::Store;
use raterise_commands::{dispatch, AppError, Ctx, Invocation, Outcome, Platform, Tenant};
use std::sync::Arc;

const GUILD: &str = "1577404934985457712";

async fn ctx() -> Ctx {
    let clock = ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap());
    Ctx::new(Store::open_in_memory().await.unwrap(), Arc::new(clock)).await.unwrap()
}

async fn run(ctx: &Ctx, platform: Platform, server_name: Option<&str>, line: &str) -> Result<Outcome, AppError> {
    let tenant = Tenant { platform, external_id: GUILD.into() };
    let actor = Actor { id: "1".into(), name: "dana".into(), can_manage: true, roles: vec![] };
    let mut inv = Invocation::from_line(line, Some(tenant), actor, Some("1100000000000000009".into()))?;
    inv.tenant_name = server_name.map(String::from);
    dispatch(ctx, &inv).await
}

/// Every piece of text a reply shows, and the text of its files (the letters).
fn all_text(o: &Outcome) -> String {
    let r = o.reply();
    let mut out = vec![r.title.clone()];
    for b in &r.blocks {
        match b {
            Block::Text { text } => out.push(text.clone()),
            Block::Fields { fields } => out.extend(fields.iter().map(|f| format!("{}: {}", f.name, f.value))),
            Block::Table { table } => out.push(table.to_text()),
            Block::Notes { title, lines } => {
                out.push(title.clone());
                out.extend(lines.iter().cloned());
            }
        }
    }
    out.extend(r.attachments.iter().map(|a| a.content.clone()));
    out.join("\n")
}

#[tokio::test]
async fn a_practice_is_named_after_its_server_and_letters_carry_that_name() {
    let ctx = ctx().await;
    let setup = run(
        &ctx,
        Platform::Discord,
        Some("Sunrise Therapy"),
        r#"/setup locality:"MANHATTAN, NY" credential:lcsw channel:<#1100000000000000009>"#,
    )
    .await
    .unwrap();
    let text = all_text(&setup);
    assert!(text.contains("Practice setup: Sunrise Therapy"), "{text}");
    assert!(text.contains("Reminder channel: <#1100000000000000009>"), "{text}");
    assert!(text.contains("reminder channel <#1100000000000000009>"), "{text}");
    run(&ctx, Platform::Discord, None, "/payer add name:Cigna kind:commercial volume:\"90837=10\"").await.unwrap();
    run(&ctx, Platform::Discord, None, "/rate set payer:Cigna cpt:90837 amount:100 effective:2024-01-01")
        .await
        .unwrap();
    let letter = all_text(&run(&ctx, Platform::Discord, None, "/draft kind:request payer:Cigna").await.unwrap());
    assert!(letter.contains("Sunrise Therapy"), "{letter}");
    assert!(!letter.contains(GUILD), "no server id in the letter: {letter}");
}

#[tokio::test]
async fn an_existing_practice_named_by_its_id_takes_the_name_once_and_setup_name_wins() {
    let ctx = ctx().await;
    // Set up before the name was known (an endpoint without a bot token, or a failed lookup).
    let setup = run(&ctx, Platform::Discord, None, "/setup credential:lcsw").await.unwrap();
    assert!(all_text(&setup).contains(&format!("Practice setup: {GUILD}")));
    run(&ctx, Platform::Discord, None, "/payer add name:Cigna kind:commercial").await.unwrap();
    // An unusable name (a bidi control) is not taken.
    let list = run(&ctx, Platform::Discord, Some("\u{202E}ypareht"), "/payer list").await.unwrap();
    assert!(all_text(&list).contains(&format!("Payers of {GUILD}")), "{}", all_text(&list));
    // The next command with the name renames it (any command, not only /setup).
    let list = run(&ctx, Platform::Discord, Some("Sunrise Therapy"), "/payer list").await.unwrap();
    assert!(all_text(&list).contains("Payers of Sunrise Therapy"), "{}", all_text(&list));
    // /setup name: wins, and a later lookup never overrides it.
    run(&ctx, Platform::Discord, Some("Sunrise Therapy"), "/setup name:\"Sunrise Counseling\"").await.unwrap();
    let list = run(&ctx, Platform::Discord, Some("Sunrise Therapy"), "/payer list").await.unwrap();
    assert!(all_text(&list).contains("Payers of Sunrise Counseling"), "{}", all_text(&list));
}

#[test]
fn channels_are_mentions_in_chat_and_readable_on_the_console() {
    assert_eq!(channel_mention(Platform::Discord, "1100000000000000009"), "<#1100000000000000009>");
    assert_eq!(channel_mention(Platform::Slack, "C0REMIND1"), "<#C0REMIND1>");
    assert_eq!(channel_mention(Platform::Console, "reminders"), "#reminders");
    assert_eq!(channel_mention(Platform::Slack, "#reminders"), "#reminders");
}

#[tokio::test]
async fn slack_channels_typed_as_slack_sends_them_are_stored_as_their_id() {
    let ctx = ctx().await;
    let setup = run(&ctx, Platform::Slack, Some("Sunrise"), "/setup credential:lcsw channel:<#C0REMIND1|reminders>")
        .await
        .unwrap();
    let Outcome::Setup(s) = &setup else { panic!() };
    assert_eq!(s.reminder_channel.as_deref(), Some("C0REMIND1"));
    assert!(all_text(&setup).contains("Reminder channel: <#C0REMIND1>"));
}
