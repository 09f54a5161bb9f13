//! The HTTP interactions endpoint of the real `raterise serve`, end to end on 127.0.0.1: signed
//! real-shaped interactions in, Discord-valid responses out, follow-ups to a fake Discord.

use raterise_tests::discord::*;
use serde_json::{json, Value};
use std::time::Duration;

const GUILD_A: &str = "1000000000000000001";
const GUILD_B: &str = "1000000000000000002";

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
}

/// A response the endpoint gave: checked against Discord's schema for interaction callbacks.
fn valid_response(body: &Value) -> &Value {
    assert_valid("RateriseInteractionCallback", body);
    body
}

fn is_ephemeral(response: &Value) -> bool {
    response.pointer("/data/flags").and_then(Value::as_u64).is_some_and(|f| f & 64 == 64)
}

async fn run(served: &Served, payload: Value) -> Value {
    let (status, body) = post_signed(&client(), &served.interactions_url(), &test_key(), &payload).await;
    assert_eq!(status, 200, "{body}\nstderr: {}", served.stderr());
    valid_response(&body);
    body
}

fn serve_endpoint(fake: &FakeDiscord, extra: &[(&str, &str)]) -> Served {
    let key = test_key().public_hex();
    let mut envs = vec![("DISCORD_PUBLIC_KEY", key.as_str()), ("DISCORD_API_URL", fake.url.as_str())];
    envs.extend_from_slice(extra);
    Served::start(&envs)
}

async fn set_up(served: &Served, guild: &str, payers: &[(&str, &[(&str, &str)])]) {
    let manager = Who::manager(guild);
    let r = run(
        served,
        command(
            &manager,
            "setup",
            None,
            options(&[("locality", json!("MANHATTAN, NY")), ("credential", json!("lcsw"))]),
        ),
    )
    .await;
    assert_eq!(r["type"], 4);
    assert!(text_of(&r["data"]).contains("MANHATTAN"), "{r}");
    for (payer, rates) in payers {
        let r = run(
            served,
            command(
                &manager,
                "payer",
                Some("add"),
                options(&[
                    ("name", json!(payer)),
                    ("kind", json!("commercial")),
                    ("volume", json!("90837=10 90834=5")),
                ]),
            ),
        )
        .await;
        assert!(text_of(&r["data"]).contains(payer), "{r}");
        for (cpt, amount) in *rates {
            let r = run(
                served,
                command(
                    &manager,
                    "rate",
                    Some("set"),
                    options(&[
                        ("payer", json!(payer)),
                        ("cpt", json!(cpt)),
                        ("amount", json!(amount)),
                        ("effective", json!("2023-03-01")),
                    ]),
                ),
            )
            .await;
            assert!(!text_of(&r["data"]).contains("didn't work"), "{r}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_gets_pong_and_bad_signatures_get_401() {
    let fake = FakeDiscord::start().await;
    let served = serve_endpoint(&fake, &[]);
    let c = client();
    let url = served.interactions_url();

    let (status, body) = post_signed(&c, &url, &test_key(), &ping()).await;
    assert_eq!((status, &body), (200, &json!({"type": 1})));
    assert_valid("PongInteractionCallbackRequest", &body);

    let payload = serde_json::to_vec(&command(&Who::manager(GUILD_A), "help", None, json!([]))).unwrap();
    let ts = unix_now().to_string();
    let good = test_key().sign(&ts, &payload);
    // Tampered body: a valid signature of different bytes.
    let mut tampered = payload.clone();
    let i = tampered.iter().position(|b| *b == b'h').unwrap();
    tampered[i] = b'H';
    assert_eq!(post_raw(&c, &url, Some(&good), Some(&ts), tampered).await.0, 401);
    // Signed by another key.
    let wrong = other_key().sign(&ts, &payload);
    assert_eq!(post_raw(&c, &url, Some(&wrong), Some(&ts), payload.clone()).await.0, 401);
    // The signature of another timestamp.
    let other_ts = (unix_now() - 1).to_string();
    assert_eq!(post_raw(&c, &url, Some(&good), Some(&other_ts), payload.clone()).await.0, 401);
    // Stale: correctly signed ten minutes ago.
    let old = (unix_now() - 600).to_string();
    let old_sig = test_key().sign(&old, &payload);
    assert_eq!(post_raw(&c, &url, Some(&old_sig), Some(&old), payload.clone()).await.0, 401);
    // Missing headers, garbage signature.
    assert_eq!(post_raw(&c, &url, None, Some(&ts), payload.clone()).await.0, 401);
    assert_eq!(post_raw(&c, &url, Some(&good), None, payload.clone()).await.0, 401);
    assert_eq!(post_raw(&c, &url, None, None, payload.clone()).await.0, 401);
    assert_eq!(post_raw(&c, &url, Some("zz"), Some(&ts), payload.clone()).await.0, 401);
    // The untouched request works, so the rejections above were about the signature.
    let (status, body) = post_raw(&c, &url, Some(&good), Some(&ts), payload).await;
    assert_eq!(status, 200);
    assert!(text_of(&body["data"]).contains("/rates"), "{body}");
    assert!(fake.requests().is_empty(), "nothing may reach Discord: {:?}", fake.requests());

    let health: Value = c.get(format!("{}/healthz", served.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(health, json!({"status": "ok"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_payer_rates_and_a_button_press() {
    let fake = FakeDiscord::start().await;
    let served = serve_endpoint(&fake, &[]);
    let member = Who::member(GUILD_A);

    // Before /setup: guidance, only to the person who asked.
    let r = run(&served, command(&member, "rates", None, options(&[("payer", json!("Cigna"))]))).await;
    assert!(is_ephemeral(&r));
    assert!(text_of(&r["data"]).contains("/setup"), "{r}");
    // A plain member cannot set up the practice.
    let r = run(&served, command(&member, "setup", None, options(&[("credential", json!("lcsw"))]))).await;
    assert!(is_ephemeral(&r));
    assert!(text_of(&r["data"]).contains("Manage Server"), "{r}");

    set_up(
        &served,
        GUILD_A,
        &[("Cigna", &[("90837", "118.50"), ("90834", "88.00")]), ("Aetna", &[("90837", "136.00")])],
    )
    .await;

    // Reading is open to every member, answered in the channel.
    let r = run(&served, command(&member, "rates", None, options(&[("payer", json!("Cigna"))]))).await;
    assert_eq!(r["type"], 4);
    assert!(!is_ephemeral(&r), "{r}");
    let text = text_of(&r["data"]);
    for want in ["Cigna", "```", "90837", "$118.50", "Medicare 2026", "MANHATTAN, NY", "Next step"] {
        assert!(text.contains(want), "{want} missing in {text}");
    }
    let embed = &r["data"]["embeds"][0];
    assert!(embed["color"].is_u64());
    let buttons = buttons_of(&r["data"]);
    assert!(buttons.iter().all(|(_, id)| id.len() <= 100));
    let history = buttons.iter().find(|(_, id)| id == "/rate history payer:Cigna").expect("a history button");

    // Asked again with nothing changed: the same answer (kept rendered by serve).
    let again = run(&served, command(&member, "rates", None, options(&[("payer", json!("Cigna"))]))).await;
    assert_eq!(again, r);
    // A change is seen by the next question at once, whatever serve keeps in memory.
    let manager = Who::manager(GUILD_A);
    let rate = options(&[("payer", json!("Cigna")), ("cpt", json!("90837")), ("amount", json!("121.25"))]);
    run(&served, command(&manager, "rate", Some("set"), rate)).await;
    let changed = run(&served, command(&member, "rates", None, options(&[("payer", json!("Cigna"))]))).await;
    let text = text_of(&changed["data"]);
    assert!(text.contains("$121.25") && !text.contains("$118.50"), "{text}");

    // Pressing it runs the command, as the person who pressed.
    let r = run(&served, button(&member, &history.1)).await;
    assert_eq!(r["type"], 4);
    let text = text_of(&r["data"]);
    assert!(text.contains("$118.50") && text.contains("$121.25") && text.contains("90834"), "{text}");

    // Changing data needs Manage Server.
    let r = run(&served, command(&member, "payer", Some("add"), options(&[("name", json!("Humana"))]))).await;
    assert!(is_ephemeral(&r));
    assert!(text_of(&r["data"]).contains("Manage Server"), "{r}");
    // A button whose command changes data is checked the same way.
    let r = run(&served, button(&member, "/payer remove name:Cigna")).await;
    assert!(is_ephemeral(&r) && text_of(&r["data"]).contains("Manage Server"), "{r}");

    // All payers ranked.
    let r = run(&served, command(&member, "rates", None, json!([]))).await;
    let text = text_of(&r["data"]);
    assert!(text.contains("Aetna") && text.contains("Cigna") && text.contains("ranked"), "{text}");

    // A DM has no practice: guidance, ephemeral.
    let r = run(&served, command(&Who::dm(), "rates", None, options(&[("payer", json!("Cigna"))]))).await;
    assert!(is_ephemeral(&r));
    assert!(text_of(&r["data"]).contains("server"), "{r}");
    // /help works anywhere.
    let r = run(&served, command(&Who::dm(), "help", None, json!([]))).await;
    assert!(text_of(&r["data"]).contains("/rates"), "{r}");

    // A user error is ephemeral and says what to do.
    let r = run(&served, command(&member, "rates", None, options(&[("payer", json!("Cgna"))]))).await;
    assert!(is_ephemeral(&r));
    assert!(text_of(&r["data"]).contains("Cigna"), "closest name suggested: {r}");

    // Nothing above needed Discord's REST API, and no log line carries an interaction token.
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    assert!(!served.stderr().contains("interaction-token-"), "{}", served.stderr());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocomplete_answers_from_the_guilds_own_practice() {
    let fake = FakeDiscord::start().await;
    let served = serve_endpoint(&fake, &[]);
    set_up(&served, GUILD_A, &[("Cigna", &[("90837", "118.50")]), ("Carelon", &[])]).await;
    set_up(&served, GUILD_B, &[("Cigna West", &[("90837", "99.00")]), ("Humana", &[])]).await;

    let choices = |r: &Value| -> Vec<(String, String)> {
        assert_eq!(r["type"], 8);
        assert_valid("ApplicationCommandAutocompleteCallbackRequest", r);
        let list = r["data"]["choices"].as_array().unwrap();
        assert!(list.len() <= 25);
        list.iter()
            .map(|c| (c["name"].as_str().unwrap().to_string(), c["value"].as_str().unwrap().to_string()))
            .collect()
    };
    let a = Who::member(GUILD_A);
    let b = Who::member(GUILD_B);
    let got = choices(&run(&served, autocomplete(&a, "rates", None, "payer", "c")).await);
    let values: Vec<&str> = got.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(values, ["Carelon", "Cigna"]);
    let got = choices(&run(&served, autocomplete(&b, "rate", Some("history"), "payer", "")).await);
    let values: Vec<&str> = got.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(values, ["Cigna West", "Humana"]);
    // No practice in a DM: no payer names at all.
    assert!(choices(&run(&served, autocomplete(&Who::dm(), "rates", None, "payer", "")).await).is_empty());

    // And the data itself stays apart.
    let r = run(&served, command(&a, "rates", None, options(&[("payer", json!("Humana"))]))).await;
    assert!(is_ephemeral(&r) && !text_of(&r["data"]).contains("Humana pays"), "{r}");
    let r = run(&served, command(&b, "payer", Some("list"), json!([]))).await;
    let text = text_of(&r["data"]);
    assert!(text.contains("Humana") && !text.contains("Carelon"), "{text}");

    // CPT codes with their plain descriptions; localities by name.
    let got = choices(&run(&served, autocomplete(&a, "rate", Some("set"), "cpt", "9083")).await);
    let psych = got.iter().find(|(_, v)| v == "90837").expect("90837 offered");
    assert!(psych.0.starts_with("90837 - ") && psych.0.len() > 10, "{psych:?}");
    let got = choices(&run(&served, autocomplete(&a, "setup", None, "locality", "manh")).await);
    assert_eq!(got[0].1, "13202-01");
    assert!(got[0].0.contains("MANHATTAN"));
    // An option that does not autocomplete gets an empty list, not an error.
    assert!(choices(&run(&served, autocomplete(&a, "impact", None, "increase", "1")).await).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_commands_are_deferred_and_completed_by_follow_ups() {
    let fake = FakeDiscord::start().await;
    // Zero budget: every command takes the deferred path, as one slower than two seconds would.
    let served = serve_endpoint(&fake, &[("RATERISE_DISCORD_DEFER_MS", "0")]);
    let manager = Who::manager(GUILD_A);

    let payload = command(
        &manager,
        "setup",
        None,
        options(&[("locality", json!("MANHATTAN, NY")), ("credential", json!("lcsw"))]),
    );
    let token = payload["token"].as_str().unwrap().to_string();
    let r = run(&served, payload).await;
    assert_eq!(r["type"], 5);
    assert!(is_ephemeral(&r), "setup answers privately, so the deferral is private: {r}");
    let path = format!("/api/v10/webhooks/{APP_ID}/{token}/messages/@original");
    let got = fake.wait_for(1, Duration::from_secs(10), |q| q.path == path).await;
    assert_eq!(got.len(), 1, "{:?}", fake.requests());
    assert_eq!(got[0].method, "PATCH");
    assert!(got[0].header("authorization").is_none(), "no bot token configured, so none is sent");
    let body = got[0].json();
    assert_valid("IncomingWebhookUpdateRequestPartial", &body);
    assert!(text_of(&body).contains("MANHATTAN"), "{body}");

    set_up_payer(&served, &fake, &manager).await;
    // Public answer, public deferral: the deferred message is edited in place.
    let payload = command(&Who::member(GUILD_A), "rates", None, options(&[("payer", json!("Cigna"))]));
    let token = payload["token"].as_str().unwrap().to_string();
    let r = run(&served, payload).await;
    assert_eq!(r["type"], 5);
    assert!(!is_ephemeral(&r));
    let path = format!("/api/v10/webhooks/{APP_ID}/{token}/messages/@original");
    let got = fake.wait_for(1, Duration::from_secs(10), |q| q.path == path).await;
    let body = got[0].json();
    assert_valid("IncomingWebhookUpdateRequestPartial", &body);
    assert!(text_of(&body).contains("$118.50"), "{body}");
    assert!(buttons_of(&body).iter().any(|(_, id)| id == "/rate history payer:Cigna"));

    // Deferred publicly, but the answer is an error (private): it goes out as an ephemeral
    // follow-up and the public placeholder is deleted.
    let payload = command(&Who::member(GUILD_A), "rates", None, options(&[("payer", json!("Nobody"))]));
    let token = payload["token"].as_str().unwrap().to_string();
    let r = run(&served, payload).await;
    assert!(!is_ephemeral(&r));
    let prefix = format!("/api/v10/webhooks/{APP_ID}/{token}");
    let got = fake.wait_for(2, Duration::from_secs(10), |q| q.path.starts_with(&prefix)).await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].method.as_str(), got[0].path.as_str()), ("POST", prefix.as_str()));
    let body = got[0].json();
    assert_valid("RateriseFollowupMessage", &body);
    assert_eq!(body["flags"], 64);
    assert!(text_of(&body).contains("Nobody"), "{body}");
    assert_eq!(
        (got[1].method.as_str(), got[1].path.as_str()),
        ("DELETE", format!("{prefix}/messages/@original").as_str())
    );
    assert!(!served.stderr().contains(&token));
}

/// Runs each command and waits for its deferred answer, so the next one sees its changes.
async fn set_up_payer(served: &Served, fake: &FakeDiscord, manager: &Who) {
    for p in [
        command(manager, "payer", Some("add"), options(&[("name", json!("Cigna")), ("kind", json!("commercial"))])),
        command(
            manager,
            "rate",
            Some("set"),
            options(&[("payer", json!("Cigna")), ("cpt", json!("90837")), ("amount", json!("118.50"))]),
        ),
    ] {
        let token = p["token"].as_str().unwrap().to_string();
        let r = run(served, p).await;
        assert_eq!(r["type"], 5);
        let done = fake.wait_for(1, Duration::from_secs(10), |q| q.path.contains(&token)).await;
        assert_eq!(done.len(), 1);
        assert!(!text_of(&done[0].json()).contains("didn't work"), "{}", done[0].json());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stops_cleanly_on_sigterm() {
    let fake = FakeDiscord::start().await;
    let mut served = serve_endpoint(&fake, &[]);
    let c = client();
    assert_eq!(c.get(format!("{}/healthz", served.url)).send().await.unwrap().status(), 200);
    let (status, _) =
        post_signed(&c, &served.interactions_url(), &test_key(), &command(&Who::dm(), "help", None, json!([]))).await;
    assert_eq!(status, 200);
    let exit = tokio::task::block_in_place(|| served.terminate(Duration::from_secs(20)));
    assert!(exit.success(), "exit {exit:?}; stderr {}", served.stderr());
    let log = served.stderr();
    assert!(log.contains("SIGTERM") && log.contains("stopped"), "{log}");
    assert!(log.contains(&test_key().public_hex()), "the public key may be logged: {log}");
    assert!(!log.contains("interaction-token-"), "{log}");
    assert!(c.get(format!("{}/healthz", served.url)).send().await.is_err(), "no longer listening");
}

#[test]
fn serve_without_any_discord_setting_explains_what_to_set() {
    let dir = TempDir::new("noconf");
    let out = raterise(&dir, &[]).args(["serve", "--bind", "127.0.0.1:0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("DISCORD_PUBLIC_KEY") && err.contains("DISCORD_TOKEN"), "{err}");
    let out = raterise(&dir, &[("DISCORD_PUBLIC_KEY", "abc")]).args(["serve"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("64 hex"));
}

#[test]
fn config_file_supplies_the_settings() {
    let dir = TempDir::new("conffile");
    let file = dir.0.join("raterise.toml");
    std::fs::write(
        &file,
        format!("# test\nDISCORD_PUBLIC_KEY = \"{}\"\nbind = \"127.0.0.1:0\"\n", test_key().public_hex()),
    )
    .unwrap();
    let mut child = raterise(&dir, &[("RATERISE_CONFIG", file.to_str().unwrap())])
        .arg("serve")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("raterise listening on http://127.0.0.1:"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_is_deferred_privately_and_delivered_with_its_file() {
    let fake = FakeDiscord::start().await;
    let served = serve_endpoint(&fake, &[]);
    set_up(&served, GUILD_A, &[("Cigna", &[("90837", "118.50")])]).await;
    let payload = command(
        &Who::manager(GUILD_A),
        "draft",
        None,
        options(&[("kind", json!("request")), ("payer", json!("Cigna"))]),
    );
    let token = payload["token"].as_str().unwrap().to_string();
    let r = run(&served, payload).await;
    // The JSON response cannot carry a file: deferred, privately, like the draft itself.
    assert_eq!(r["type"], 5);
    assert!(is_ephemeral(&r), "{r}");
    let path = format!("/api/v10/webhooks/{APP_ID}/{token}/messages/@original");
    let got = fake.wait_for(1, Duration::from_secs(10), |q| q.path == path).await;
    assert_eq!(got.len(), 1, "{:?}", fake.requests());
    let edit = &got[0];
    assert_eq!(edit.method, "PATCH");
    assert!(edit.is_multipart());
    let payload = edit.payload();
    assert_valid("IncomingWebhookUpdateRequestPartial", &payload);
    assert!(text_of(&payload).contains("Cigna"), "{payload}");
    let files: Vec<Part> = edit.parts().into_iter().filter(|p| p.name.starts_with("files[")).collect();
    assert_eq!(files.len(), 1);
    let name = files[0].filename.clone().unwrap();
    assert!(name.starts_with("cigna-request") && name.ends_with(".eml"), "{name}");
    assert_eq!(payload["attachments"][0]["filename"], name.as_str());
    assert!(String::from_utf8_lossy(&files[0].data).contains("Cigna"));
    // The embed still fits Discord even though the letter is long.
    for e in payload["embeds"].as_array().unwrap() {
        assert!(e["description"].as_str().map_or(0, |d| d.chars().count()) <= 4096);
    }
}

/// A practice that never ran `/setup name:` is named after its server (GET /guilds/{id}, looked
/// up once), never its id; a name given with `/setup name:` is kept; a failed lookup leaves the id
/// and the command still works. The reminder channel is shown as a channel mention.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn practices_are_named_after_their_server_and_channels_shown_as_mentions() {
    let fake = FakeDiscord::start().await;
    fake.name_guild(GUILD_A, "Sunrise Therapy");
    // The fake's answer has the shape Discord's spec gives.
    assert_valid("GuildResponse", &guild_body(GUILD_A, "Sunrise Therapy"));
    let served = serve_endpoint(&fake, &[("DISCORD_TOKEN", "test-bot-token"), ("DISCORD_APPLICATION_ID", APP_ID)]);
    let manager = Who::manager(GUILD_A);
    let r = run(
        &served,
        command(
            &manager,
            "setup",
            None,
            options(&[
                ("locality", json!("MANHATTAN, NY")),
                ("credential", json!("lcsw")),
                ("channel", json!(format!("<#{CHANNEL_ID}>"))),
            ]),
        ),
    )
    .await;
    let text = text_of(&r["data"]);
    assert!(text.contains("Practice setup: Sunrise Therapy"), "{text}");
    assert!(!text.contains(GUILD_A), "no server id where a name belongs: {text}");
    assert!(text.contains(&format!("<#{CHANNEL_ID}>")), "the channel as a mention: {text}");
    assert!(!text.contains(&format!(" {CHANNEL_ID}")), "never the bare channel id: {text}");
    let r = run(
        &served,
        command(&manager, "payer", Some("add"), options(&[("name", json!("Cigna")), ("kind", json!("commercial"))])),
    )
    .await;
    assert!(text_of(&r["data"]).contains("Cigna added"), "{r}");
    let r = run(&served, command(&manager, "payer", Some("list"), json!([]))).await;
    assert!(text_of(&r["data"]).contains("Payers of Sunrise Therapy"), "{r}");
    let r = run(&served, command(&manager, "followups", Some("list"), json!([]))).await;
    assert!(text_of(&r["data"]).contains(&format!("posted in <#{CHANNEL_ID}>")), "{r}");
    let lookups = |guild: &str| {
        fake.requests().iter().filter(|q| q.method == "GET" && q.path == format!("/api/v10/guilds/{guild}")).count()
    };
    assert_eq!(lookups(GUILD_A), 1, "looked up once");
    let asked = fake.requests().into_iter().find(|q| q.path.contains("/guilds/")).unwrap();
    assert_eq!(asked.header("authorization"), Some("Bot test-bot-token"));

    // A name set with /setup is kept.
    let r = run(&served, command(&manager, "setup", None, options(&[("name", json!("Sunrise Counseling LLC"))]))).await;
    assert!(text_of(&r["data"]).contains("Practice setup: Sunrise Counseling LLC"), "{r}");
    let r = run(&served, command(&manager, "payer", Some("list"), json!([]))).await;
    assert!(text_of(&r["data"]).contains("Payers of Sunrise Counseling LLC"), "{r}");
    assert_eq!(lookups(GUILD_A), 1);

    // The lookup fails (this fake knows no GUILD_B: 404): the practice keeps its id and works.
    let other = Who::manager(GUILD_B);
    let r = run(&served, command(&other, "setup", None, options(&[("credential", json!("lcsw"))]))).await;
    assert!(text_of(&r["data"]).contains(&format!("Practice setup: {GUILD_B}")), "{r}");
    let add = options(&[("name", json!("Aetna")), ("kind", json!("commercial"))]);
    run(&served, command(&other, "payer", Some("add"), add)).await;
    let r = run(&served, command(&other, "payer", Some("list"), json!([]))).await;
    assert!(text_of(&r["data"]).contains("Payers of"), "{r}");
    assert_eq!(lookups(GUILD_B), 1, "a failure is not retried on every command");
}
