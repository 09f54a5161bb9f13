//! Any payer name survives every button, reminder action and suggested command line on both
//! platforms: the line a button carries, read back by the platform's own converter, is exactly the
//! command the handler meant, with the payer's name as one value. A name such as
//! `Aetna Alpha" note:"x` must not become a second option (issue 15, item 2).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use raterise::discord::{convert as dconvert, render as drender};
use raterise::slack::{convert as sconvert, render as srender};
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::command_line;
use raterise_commands::domain::names;
use raterise_commands::reminders::message::{compose, Composed};
use raterise_commands::reply::Reply;
use raterise_commands::store::Store;
use raterise_commands::{dispatch, Actor, Ctx, Invocation, Platform, Tenant};
use serde_json::{json, Value};
use serenity::model::application::ComponentInteraction;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

const NOW: &str = "2026-11-27T15:00:00Z";

/// Names that broke or could break the quoting, beside the generated ones.
const NASTY: &[&str] = &[
    "Aetna Alpha\" note:\"x",
    "Cigna Alpha\" year:2025 credential:\"psychologist",
    "O'Brien \"North\" Clinic",
    "Back\\slash \\\" Health",
    "'Single' quoted",
    "Colon: Care payer:other",
    "Smile 🙂 Health",
    "שירותי בריאות כללית",
    "مركز الصحة",
    "\\",
    "\"",
    "x:y",
];

fn admin() -> Actor {
    Actor { id: "U0ADMIN".into(), name: "dana".into(), can_manage: true, roles: vec![] }
}

async fn ctx() -> Ctx {
    let clock = ManualClock::new(parse_instant(NOW).unwrap());
    Ctx::new(Store::open_in_memory().await.unwrap(), Arc::new(clock)).await.unwrap()
}

async fn run(ctx: &Ctx, tenant: &Tenant, line: &str) -> Option<Reply> {
    let inv = Invocation::from_line(line, Some(tenant.clone()), admin(), Some("1100000000000000009".into()))
        .unwrap_or_else(|e| panic!("{line}: {}", e.user_message()));
    dispatch(ctx, &inv).await.ok().map(|o| o.reply())
}

/// Every reply a practice with payer `name` produces that suggests commands about the payer:
/// answers to the commands that offer buttons, and the reminders due for it.
async fn replies_about(ctx: &Ctx, tenant: &Tenant, name: &str) -> Vec<Reply> {
    let w = |cmd: &str, sub: Option<&str>, opts: &[(&str, &str)]| command_line::write(cmd, sub, opts);
    run(ctx, tenant, r#"/setup locality:"MANHATTAN, NY" credential:lcsw channel:1100000000000000009"#).await;
    let mut out = Vec::new();
    let lines = [
        w("payer", Some("add"), &[("name", name), ("kind", "commercial"), ("renewal", "2027-01-15")]),
        w("rate", Some("set"), &[("payer", name), ("cpt", "90837"), ("amount", "98.00"), ("effective", "2023-01-01")]),
        w("rates", None, &[("payer", name)]),
        w("rates", None, &[]),
        w("rate", Some("history"), &[("payer", name)]),
        w("strategy", None, &[("payer", name)]),
        w("walkaway", None, &[("payer", name)]),
        w("timing", None, &[]),
        w("draft", None, &[("kind", "request"), ("payer", name)]),
        w("negotiate", Some("start"), &[("payer", name), ("date", "2026-09-01")]),
        w("negotiate", Some("log"), &[("payer", name), ("event", "written-request"), ("date", "2026-09-10")]),
        w("negotiate", Some("status"), &[("payer", name)]),
        w("negotiate", Some("status"), &[]),
        w("followups", Some("list"), &[]),
        w("negotiate", Some("outcome"), &[("payer", name), ("result", "countered"), ("rates", "90837=110")]),
    ];
    for line in &lines {
        let reply = run(ctx, tenant, line).await;
        if line.contains("payer add") {
            assert!(reply.is_some(), "{name:?} was refused as a payer name");
        }
        out.extend(reply);
    }
    // The reminders planned so far (follow-ups, renewal, stale rate), claimed as the scheduler would.
    let practice = ctx.store.find_practice(tenant).await.unwrap().unwrap();
    let later = parse_instant("2028-01-01T00:00:00Z").unwrap();
    let claimed = ctx.store.claim_due(later, later, 100, "test", &["discord"]).await.unwrap();
    for c in claimed.iter().filter(|c| c.practice_id == practice.id) {
        if let Ok(Composed::Post(reply)) = compose(ctx, &practice, std::slice::from_ref(c)).await {
            out.push(*reply);
        }
    }
    out
}

/// What a Discord button press runs: serenity's model of the press, through our converter.
fn discord_press(custom_id: &str) -> Invocation {
    let press: ComponentInteraction = serde_json::from_value(json!({
        "id": "1290000000000000001", "application_id": "1200000000000000000", "type": 3, "token": "dGVzdA",
        "version": 1, "guild_id": "1000000000000000001", "channel_id": "1100000000000000009",
        "locale": "en-US", "entitlements": [], "authorizing_integration_owners": {}, "app_permissions": "0",
        "guild_locale": "en-US", "context": 0, "attachment_size_limit": 10485760,
        "member": {"user": {"id": "80351110224678913", "username": "dana", "discriminator": "0", "avatar": null},
                   "roles": [], "permissions": "32", "joined_at": "2024-03-01T12:00:00.000000+00:00",
                   "deaf": false, "mute": false, "flags": 0},
        "message": {"id": "1500000000000000001", "channel_id": "1100000000000000009", "type": 0, "content": "",
                    "author": {"id": "1200000000000000000", "username": "raterise", "discriminator": "0", "avatar": null},
                    "timestamp": "2026-11-27T15:00:00.000000+00:00", "edited_timestamp": null, "tts": false,
                    "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
                    "pinned": false, "components": []},
        "data": {"custom_id": custom_id, "component_type": 2}
    }))
    .expect("a component interaction");
    dconvert::component_invocation(&press).expect("the button's line parses")
}

/// What a Slack button press runs: the block_actions payload, through our converter.
fn slack_press(action_id: &str, value: &str) -> Invocation {
    let payload: sconvert::InteractionPayload = serde_json::from_value(json!({
        "type": "block_actions", "team": {"id": "T0001"}, "user": {"id": "U0ADMIN", "username": "dana"},
        "channel": {"id": "C0001"}, "response_url": "https://hooks.slack.com/actions/T0001/1/x",
        "actions": [{"action_id": action_id, "type": "button", "value": value}]
    }))
    .unwrap();
    sconvert::button_invocation(&payload, &sconvert::Admins::parse("U0ADMIN")).expect("the button's value parses")
}

fn slack_buttons(blocks: &[Value]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for b in blocks.iter().filter(|b| b["type"] == "actions") {
        for e in b["elements"].as_array().into_iter().flatten() {
            out.push((e["action_id"].as_str().unwrap().to_string(), e["value"].as_str().unwrap().to_string()));
        }
    }
    out
}

/// Checks every action of `replies` for payer `name`; returns how many buttons were checked.
fn check(replies: &[Reply], name: &str) -> Result<usize, TestCaseError> {
    let mut checked = 0;
    for reply in replies {
        // Each action's line: the payer (or name) option, when there is one, is exactly the name.
        let mut wanted = Vec::new();
        for a in &reply.actions {
            let Ok(parsed) = command_line::parse(&a.command_line) else { continue };
            for (k, v) in &parsed.options {
                if k == "payer" || k == "name" {
                    prop_assert_eq!(v, name, "action {:?} of {:?}", a.command_line, reply.title);
                }
            }
            wanted.push((parsed.command.name.to_string(), parsed.subcommand.clone(), parsed.options.clone()));
        }
        let same = |inv: &Invocation, line: &str| -> Result<(), TestCaseError> {
            let got = (inv.command.clone(), inv.subcommand.clone(), inv.options.clone());
            // Discord shortens a line too long for a custom id to the command and its payer.
            let full = wanted.contains(&got);
            let shortened = wanted.iter().any(|(c, s, o)| {
                *c == got.0 && *s == got.1 && o.iter().any(|(k, v)| (k == "payer" || k == "name") && v == name)
            }) && got.2.len() == 1;
            prop_assert!(full || shortened, "button {:?} ran {:?}, not one of {:?}", line, got, wanted);
            for (k, v) in &inv.options {
                if k == "payer" || k == "name" {
                    prop_assert_eq!(v, name, "button {:?}", line);
                }
            }
            Ok(())
        };
        for page in drender::render(reply).pages {
            for b in page.buttons {
                same(&discord_press(&b.custom_id), &b.custom_id)?;
                checked += 1;
            }
        }
        for m in srender::render(reply).messages {
            for (action_id, value) in slack_buttons(&m.blocks) {
                same(&slack_press(&action_id, &value), &value)?;
                checked += 1;
            }
        }
    }
    Ok(checked)
}

/// Payer names as people might type them: any text, made canonical, that the bot accepts.
fn payer_name() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => proptest::sample::select(vec![
            " ", "\"", "\\", "'", ":", "payer:", " note:", "=", "🙂", "שלום", "مرحبا", "Ｃ", "é", "Care", "-", "x", "#",
        ])
        .prop_map(str::to_string),
        1 => any::<char>().prop_map(|c| c.to_string()),
    ];
    proptest::collection::vec(piece, 1..10)
        .prop_map(|v| names::canonical(&v.concat()))
        .prop_filter("a name the bot accepts", |n| names::name("A payer name", n, 80).is_ok())
}

#[test]
fn every_button_round_trips_any_payer_name_on_both_platforms() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let ctx = rt.block_on(ctx());
    static GUILD: AtomicU64 = AtomicU64::new(1);
    let tenant =
        || Tenant { platform: Platform::Discord, external_id: format!("g{}", GUILD.fetch_add(1, Ordering::SeqCst)) };
    let mut total = 0;
    for name in NASTY {
        let replies = rt.block_on(replies_about(&ctx, &tenant(), name));
        total += check(&replies, name).unwrap_or_else(|e| panic!("{name:?}: {e}"));
    }
    // Each name yields many buttons on both platforms (the reminders' included).
    assert!(total > NASTY.len() * 20, "only {total} buttons checked");
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(24);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    runner
        .run(&payer_name(), |name| {
            let replies = rt.block_on(replies_about(&ctx, &tenant(), &name));
            check(&replies, &name).map(|_| ())
        })
        .unwrap();
}
