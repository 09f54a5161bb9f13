//! Where the time of one Discord interaction goes inside `raterise serve`, without the network:
//! a signed `/rates Cigna` from a guild member against the large generated practice (40 payers x
//! 20 codes x ten years of monthly changes), answered by the same router `serve` runs, on a file
//! database with practices cached as `serve` has them. Each step is timed alone, and the same
//! request is timed against a trivial axum endpoint (the load test's baseline) in the same run.
//!
//!     cargo bench -p raterise --bench endpoint

use axum::body::{to_bytes, Body};
use axum::http::Request;
use criterion::{criterion_group, criterion_main, Criterion};
use ed25519_dalek::{Signer, SigningKey};
use raterise::discord::endpoint::{self, Endpoint};
use raterise::discord::rest::Rest;
use raterise::discord::Discord;
use raterise::server;
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::generate::{large_practice, LargeSpec};
use raterise_commands::store::{practice_cache, Store};
use raterise_commands::{Ctx, Platform, Tenant};
use serde_json::json;
use serenity::interactions_endpoint::Verifier;
use serenity::model::application::Interaction;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tower::ServiceExt;

const GUILD: &str = "1000000000000000099";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The load test's payload: a real-shaped `/rates payer:Cigna` from a plain member of the guild.
fn payload() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "1290000000000000001", "application_id": "1200000000000000000", "type": 2,
        "token": "YmVuY2gtdG9rZW4", "version": 1, "guild_id": GUILD, "guild_locale": "en-US",
        "channel_id": "1100000000000000009", "channel": {"id": "1100000000000000009", "type": 0, "name": "rates"},
        "app_permissions": "2248473465835073", "locale": "en-US", "entitlements": [], "context": 0,
        "authorizing_integration_owners": {"0": GUILD}, "attachment_size_limit": 10485760,
        "member": {
            "user": {"id": "80351110224678913", "username": "bench", "global_name": "Bench", "discriminator": "0", "avatar": null},
            "roles": [], "permissions": "3072", "nick": null, "avatar": null,
            "joined_at": "2024-03-01T12:00:00.000000+00:00", "deaf": false, "mute": false, "flags": 0, "pending": false
        },
        "data": {"id": "1300000000000000001", "name": "rates", "type": 1,
                 "options": [{"name": "payer", "type": 3, "value": "Cigna"}]}
    }))
    .expect("json")
}

/// `body` with an interaction id of its own: the endpoint answers a repeated id without running it.
fn unique_id(body: &[u8]) -> Vec<u8> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let id = (1_290_000_000_000_000_001u64 + N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)).to_string();
    String::from_utf8_lossy(body).replacen("1290000000000000001", &id, 1).into_bytes()
}

fn signed_request(key: &SigningKey, body: &[u8]) -> Request<Body> {
    let body = &unique_id(body)[..];
    let ts = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs().to_string();
    let mut msg = ts.clone().into_bytes();
    msg.extend_from_slice(body);
    Request::post("/discord/interactions")
        .header("content-type", "application/json")
        .header("x-signature-timestamp", ts)
        .header("x-signature-ed25519", hex(&key.sign(&msg).to_bytes()))
        .body(Body::from(body.to_vec()))
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = std::env::temp_dir().join(format!("raterise-endpoint-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("large.db");
    let key = SigningKey::from_bytes(&[11u8; 32]);
    let body = payload();
    let (router, discord) = rt.block_on(async {
        let store = Store::open(&db).await.unwrap();
        let store = store.cache_practices(&db, practice_cache::OTHER_WRITERS_WINDOW).await.unwrap();
        let clock = ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap());
        let ctx = Ctx::new(store, Arc::new(clock)).await.unwrap();
        let tenant = Tenant { platform: Platform::Discord, external_id: GUILD.into() };
        large_practice(&ctx, &tenant, LargeSpec::default()).await.unwrap();
        // Nothing here may leave the machine: REST goes to a closed loopback port.
        let discord = Arc::new(Discord::new(ctx, Rest::new(None, None, Some("http://127.0.0.1:9"))));
        let endpoint = Arc::new(Endpoint::new(discord.clone(), key.verifying_key().to_bytes()).unwrap());
        (server::router(Some(endpoint)), discord)
    });
    let trivial = axum::Router::new().route(
        "/discord/interactions",
        axum::routing::post(|_body: axum::body::Bytes| async { axum::Json(json!({"type": 1})) }),
    );
    // The answer is the real one: the rates table for Cigna.
    let answer = rt.block_on(async {
        let response = router.clone().oneshot(signed_request(&key, &body)).await.unwrap();
        assert_eq!(response.status(), 200);
        to_bytes(response.into_body(), usize::MAX).await.unwrap()
    });
    let text = String::from_utf8_lossy(&answer);
    assert!(text.contains("90837") && text.contains("```"), "{text}");
    eprintln!("answer: {} bytes of JSON", answer.len());

    let mut g = c.benchmark_group("endpoint");
    g.bench_function("request_rates_cigna", |b| {
        b.to_async(&rt).iter_batched(
            || signed_request(&key, &body),
            |request| {
                let router = router.clone();
                async move {
                    let response = router.oneshot(request).await.unwrap();
                    to_bytes(response.into_body(), usize::MAX).await.unwrap()
                }
            },
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("request_trivial_baseline", |b| {
        b.to_async(&rt).iter_batched(
            || signed_request(&key, &body),
            |request| {
                let router = trivial.clone();
                async move {
                    let response = router.oneshot(request).await.unwrap();
                    to_bytes(response.into_body(), usize::MAX).await.unwrap()
                }
            },
            criterion::BatchSize::SmallInput,
        )
    });
    let verifier = Verifier::try_new(key.verifying_key().to_bytes()).unwrap();
    let ts = "1800000000";
    let mut msg = ts.as_bytes().to_vec();
    msg.extend_from_slice(&body);
    let signature = hex(&key.sign(&msg).to_bytes());
    g.bench_function("step_verify_signature", |b| b.iter(|| verifier.verify(&signature, ts, &body).unwrap()));
    g.bench_function("step_parse_interaction", |b| b.iter(|| endpoint::interaction_of(2, &body).unwrap()));
    // serenity's own `Interaction` deserializer, which builds a JSON map first (the endpoint's
    // parse before it read the type itself).
    g.bench_function("step_parse_interaction_via_serenity_enum", |b| {
        b.iter(|| serde_json::from_slice::<Interaction>(&body).unwrap())
    });
    let interaction: Interaction = serde_json::from_slice(&body).unwrap();
    g.bench_function("step_handle_rates_cigna", |b| {
        b.to_async(&rt).iter_batched(
            || interaction.clone(),
            |i| {
                let discord = discord.clone();
                async move { discord.handle(i).await.response }
            },
            criterion::BatchSize::SmallInput,
        )
    });
    // What the kept answer saves: the reply, its Discord rendering and its JSON, each time.
    let Interaction::Command(cmd) = &interaction else { panic!("a command") };
    let inv = raterise::discord::convert::command_invocation(cmd);
    let outcome = rt.block_on(raterise_commands::dispatch(discord.ctx(), &inv)).unwrap();
    g.bench_function("step_render_rates_cigna_uncached", |b| {
        b.iter(|| {
            let rendered = raterise::discord::render::render(&outcome.reply());
            let message = rendered.pages[0].response_message(rendered.ephemeral);
            serde_json::to_vec(&serenity::builder::CreateInteractionResponse::Message(message)).unwrap()
        })
    });
    g.finish();
    rt.block_on(discord.ctx().store.close());
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
