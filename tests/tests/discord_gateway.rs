//! The gateway path. The live gateway needs Discord itself, so these tests start where serenity
//! hands over: an `Interaction` deserialized from real-shaped INTERACTION_CREATE JSON. They check
//! the conversion into an `Invocation`, that the gateway and the HTTP endpoint answer the same
//! payload identically, and that the gateway's answer goes to the interaction callback route.

use raterise::discord::convert::{autocomplete_request, command_invocation, component_invocation};
use raterise::discord::endpoint::Endpoint;
use raterise::discord::gateway;
use raterise::discord::rest::Rest;
use raterise::discord::Discord;
use raterise_commands::catalog::OptionKind;
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::store::Store;
use raterise_commands::{Ctx, Platform, Tenant};
use raterise_tests::discord::*;
use serde_json::{json, Value};
use serenity::model::application::Interaction;
use std::sync::Arc;

const GUILD: &str = "1000000000000000007";

fn interaction(v: &Value) -> Interaction {
    serde_json::from_value(v.clone()).expect("serenity reads the payload")
}

#[test]
fn serenity_interactions_become_invocations() {
    let mut who = Who::member(GUILD);
    who.roles = vec!["1400000000000000005".into()];
    let payload = command(
        &who,
        "payer",
        Some("edit"),
        options(&[("name", json!("Blue Cross")), ("notice_days", json!(120)), ("notes", json!("Call: ask for Dana"))]),
    );
    let Interaction::Command(cmd) = interaction(&payload) else { panic!("a command") };
    let inv = command_invocation(&cmd);
    assert_eq!(inv.tenant, Some(Tenant { platform: Platform::Discord, external_id: GUILD.into() }));
    assert_eq!((inv.command.as_str(), inv.subcommand.as_deref()), ("payer", Some("edit")));
    assert_eq!(
        inv.options,
        vec![
            ("name".to_string(), "Blue Cross".to_string()),
            ("notice_days".to_string(), "120".to_string()),
            ("notes".to_string(), "Call: ask for Dana".to_string())
        ]
    );
    assert!(!inv.actor.can_manage);
    assert_eq!(inv.actor.roles, ["1400000000000000005"]);
    assert_eq!(inv.channel_id.as_deref(), Some(CHANNEL_ID));
    assert!(inv.command_line().starts_with("/payer edit name:\"Blue Cross\""));

    let Interaction::Command(cmd) = interaction(&command(&Who::manager(GUILD), "rates", None, json!([]))) else {
        panic!()
    };
    assert!(command_invocation(&cmd).actor.can_manage);

    let Interaction::Command(cmd) = interaction(&command(&Who::dm(), "rates", None, json!([]))) else { panic!() };
    let inv = command_invocation(&cmd);
    assert_eq!(inv.tenant, None);
    assert_eq!(inv.actor.id, "80351110224678914");

    let Interaction::Component(c) =
        interaction(&button(&Who::member(GUILD), "/rate history payer:\"Blue Cross\" cpt:90837"))
    else {
        panic!("a component")
    };
    let inv = component_invocation(&c).unwrap();
    assert_eq!((inv.command.as_str(), inv.subcommand.as_deref()), ("rate", Some("history")));
    assert_eq!(inv.opt("payer"), Some("Blue Cross"));
    assert_eq!(inv.opt("cpt"), Some("90837"));
    assert_eq!(inv.tenant.as_ref().unwrap().external_id, GUILD);
    let Interaction::Component(c) = interaction(&button(&Who::member(GUILD), "page:2")) else { panic!() };
    assert!(component_invocation(&c).unwrap_err().user_message().contains("run the command again"));

    let Interaction::Autocomplete(ac) = interaction(&autocomplete(&Who::member(GUILD), "impact", None, "payer", "ci"))
    else {
        panic!("autocomplete")
    };
    let req = autocomplete_request(&ac).unwrap();
    assert_eq!((req.option.as_str(), req.kind, req.partial.as_str()), ("payer", OptionKind::Payer, "ci"));
}

async fn discord_with(fake: &FakeDiscord, token: Option<&str>) -> (Arc<Discord>, TempDir) {
    let dir = TempDir::new("gateway");
    let store = Store::open(&dir.0.join("g.db")).await.unwrap();
    let ctx =
        Ctx::new(store, Arc::new(ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap()))).await.unwrap();
    (Arc::new(Discord::new(ctx, Rest::new(token, Some(APP_ID.parse().unwrap()), Some(&fake.url)))), dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_and_http_endpoint_answer_alike() {
    let fake = FakeDiscord::start().await;
    let (discord, _dir) = discord_with(&fake, Some("test-bot-token")).await;
    let key: [u8; 32] = {
        let hex = test_key().public_hex();
        std::array::from_fn(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
    };
    let endpoint = Arc::new(Endpoint::new(discord.clone(), key).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/discord/interactions", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, raterise::server::router(Some(endpoint))).await });
    let client = reqwest::Client::new();
    let manager = Who::manager(GUILD);

    let steps = [
        command(
            &manager,
            "setup",
            None,
            options(&[("locality", json!("13202-01")), ("credential", json!("psychologist"))]),
        ),
        command(&manager, "payer", Some("add"), options(&[("name", json!("Cigna")), ("kind", json!("commercial"))])),
        command(
            &manager,
            "rate",
            Some("set"),
            options(&[("payer", json!("Cigna")), ("cpt", json!("90837")), ("amount", json!("140"))]),
        ),
    ];
    for s in &steps {
        let (status, body) = post_signed(&client, &url, &test_key(), s).await;
        assert_eq!(status, 200, "{body}");
    }
    for payload in [
        command(&Who::member(GUILD), "rates", None, options(&[("payer", json!("Cigna"))])),
        command(&Who::member(GUILD), "rates", None, json!([])),
        command(&Who::dm(), "rates", None, json!([])),
        autocomplete(&Who::member(GUILD), "rates", None, "payer", "ci"),
        button(&Who::member(GUILD), "/rate history payer:Cigna"),
    ] {
        let (status, over_http) = post_signed(&client, &url, &test_key(), &payload).await;
        assert_eq!(status, 200);
        let over_gateway: serde_json::Value =
            serde_json::from_slice(&discord.handle(interaction(&payload)).await.response).unwrap();
        assert_eq!(over_http, over_gateway);
        assert_valid("RateriseInteractionCallback", &over_gateway);
    }
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_answers_through_the_callback_route() {
    let fake = FakeDiscord::start().await;
    let (discord, _dir) = discord_with(&fake, Some("test-bot-token")).await;
    let payload = command(&Who::dm(), "help", None, json!([]));
    let (id, token) = (payload["id"].as_str().unwrap().to_string(), payload["token"].as_str().unwrap().to_string());
    gateway::answer(&discord, interaction(&payload)).await.unwrap();
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.clone()),
        ("POST", format!("/api/v10/interactions/{id}/{token}/callback"))
    );
    assert_eq!(reqs[0].header("authorization"), Some("Bot test-bot-token"));
    let body = reqs[0].json();
    assert_valid("RateriseInteractionCallback", &body);
    assert_eq!(body["type"], 4);
    assert!(text_of(&body["data"]).contains("/rates"));
}
