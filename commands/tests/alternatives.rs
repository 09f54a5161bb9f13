//! /alternatives PAYER on a small practice built here, figures worked out by hand in the
//! comments: the defaults, changed assumptions, a payer without volume or rates, a claims
//! export as the volume, kinds without an out-of-network road, and Medicare refused.

use raterise_commands::claims::{import_claims, ImportOptions, Progress};
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::store::{Audit, Store};
use raterise_commands::{demo, dispatch, AppError, Ctx, Outcome};
use serde_json::{json, Value};
use std::sync::Arc;

const TODAY: &str = "2026-11-27";

async fn ctx() -> Ctx {
    let clock = ManualClock::new(parse_instant(&format!("{TODAY}T15:00:00Z")).unwrap());
    Ctx::new(Store::open_in_memory().await.unwrap(), Arc::new(clock)).await.unwrap()
}

async fn run(ctx: &Ctx, line: &str) -> Result<Outcome, AppError> {
    dispatch(ctx, &demo::invocation("p", line)?).await
}

async fn ok(ctx: &Ctx, line: &str) -> Outcome {
    run(ctx, line).await.unwrap_or_else(|e| panic!("`{line}`: {}", e.user_message()))
}

async fn json(ctx: &Ctx, line: &str) -> Value {
    serde_json::to_value(ok(ctx, line).await).unwrap()
}

/// Four clinicians (3 LCSW, 1 psychologist), two with EMDR; Aetna at $100 (90834) and $130
/// (90837) with 20 and 10 sessions a week; 48 weeks a year (the default).
async fn practice(ctx: &Ctx) {
    for line in [
        r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#,
        r#"/payer add name:Aetna kind:commercial volume:"90834=20 90837=10""#,
        "/rate set Aetna 90834 100",
        "/rate set Aetna 90837 130",
        "/practice credential name:LCSW kind:credential clinicians:3",
        "/practice credential name:Psychologist kind:credential clinicians:1",
        "/practice credential name:EMDR kind:specialty clinicians:2",
    ] {
        ok(ctx, line).await;
    }
}

fn assumption<'a>(v: &'a Value, option: &str) -> &'a Value {
    v["assumptions"].as_array().unwrap().iter().find(|a| a["option"] == option).unwrap()
}

#[tokio::test]
async fn alternatives_work_out_every_road_from_the_practice_numbers() {
    let ctx = ctx().await;
    practice(&ctx).await;
    let v = json(&ctx, "/alternatives Aetna fee:200").await;
    for key in [
        "payer",
        "kind",
        "status",
        "as_of",
        "weeks_per_year",
        "assumptions",
        "group",
        "designations",
        "session_mix",
        "out_of_network",
    ] {
        assert!(v.get(key).is_some(), "no `{key}` in {v}");
    }
    assert_eq!(v["weeks_per_year"], 48);

    // Group: 4 clinicians is small (5 or fewer).
    assert_eq!(v["group"]["clinicians"], 4);
    assert_eq!(v["group"]["small_practice"], true);
    assert_eq!(v["group"]["credentials"], json!(["LCSW (3)", "Psychologist (1)"]));
    assert!(v["group"]["pct_of_medicare"].is_f64());

    // Yearly revenue: ($100 x 20 + $130 x 10) x 48 = $158,400.00. EMDR: 2 of 4 clinicians, +10%
    // on half of it = $7,920.00.
    let d = &v["designations"];
    assert_eq!(d["yearly_revenue_cents"], 15_840_000);
    assert_eq!(d["uplift_pct"], 10);
    assert_eq!(
        d["specialties"],
        json!([{"name": "EMDR", "clinicians": 2, "share_of_sessions_pct": 50.0, "yearly_value_cents": 792_000}])
    );

    // Mix: $100 for 45 min is $133.33 an hour, $130 for 60 min is $130.00. 25% of 960 sessions
    // of 90834 a year is 240, at +$30.00 each: +$7,200.00, 240 x 15 min = 60 hours more.
    let m = &v["session_mix"];
    assert_eq!(m["per_hour_90834_cents"], 13_333);
    assert_eq!(m["per_hour_90837_cents"], 13_000);
    assert_eq!(m["yearly_90834_sessions"], 960);
    assert_eq!(m["moved_sessions"], 240);
    assert_eq!(m["yearly_change_cents"], 720_000);
    assert_eq!(m["extra_minutes_per_year"], 3_600);
    assert_eq!(m["volume_source"], json!({"kind": "hand-set"}));

    // Out of network: $200 x 60% = $120.00 a session against $110.00 (3,300 / 30) in network;
    // 1,440 sessions: $172,800.00 against $158,400.00, +$14,400.00.
    let o = &v["out_of_network"];
    assert_eq!(o["fee_cents"], 20_000);
    assert_eq!(o["collected_per_session_cents"], 12_000);
    assert_eq!(o["in_network_per_session_cents"], 11_000);
    assert_eq!(o["yearly_sessions"], 1_440);
    assert_eq!(o["yearly_in_network_cents"], 15_840_000);
    assert_eq!(o["yearly_out_of_network_cents"], 17_280_000);
    assert_eq!(o["yearly_change_cents"], 1_440_000);
    assert!(o["not_applicable"].is_null());
    assert_eq!(o["to_add"], json!([]));

    // Every assumption is listed with its option, defaults marked.
    for (option, value, default) in [
        ("minutes_90834", "45", true),
        ("minutes_90837", "60", true),
        ("shift", "25%", true),
        ("fee", "$200.00", false),
        ("oon_share", "60%", true),
        ("stay", "100%", true),
        ("uplift", "10%", true),
        ("small", "5", true),
        ("weeks", "48", true),
    ] {
        let a = assumption(&v, option);
        assert_eq!((a["value"].as_str().unwrap(), a["default"].as_bool().unwrap()), (value, default), "{a}");
    }

    let text = ok(&ctx, "/alternatives Aetna fee:200").await.reply().to_text();
    for part in [
        "$133.33 per clinical hour",
        "Moving 25% of your 960 90834 sessions a year to 90837 (240 sessions) changes +$7,200.00 a year, for 60.0 more clinician hours",
        "For the 1,440 sessions a year Aetna brings",
        "An hour of 90834 pays $3.33 more than an hour of 90837",
        "EMDR: 2 clinicians (50.0% of your clinicians); +10% on that share of Aetna's sessions is +$7,920.00 a year",
        "$158,400.00 in network, $172,800.00 out of network with 100% of them staying, +$14,400.00 a year",
        "shift:25% — share of this payer's 90834 sessions moved to 90837 (default)",
        "small practice",
    ] {
        assert!(text.contains(part), "no `{part}` in:\n{text}");
    }
}

#[tokio::test]
async fn changed_assumptions_change_the_figures() {
    let ctx = ctx().await;
    practice(&ctx).await;
    let v = json(
        &ctx,
        "/alternatives Aetna fee:200 shift:50% minutes_90834:50 oon_share:50 stay:80 uplift:20 small:3 weeks:46",
    )
    .await;
    // 46 weeks: 90834 is 920 sessions a year, half moved = 460 at +$30.00 = $13,800.00; $100
    // for 50 min is $120.00 an hour; 460 x 10 min more.
    let m = &v["session_mix"];
    assert_eq!(m["per_hour_90834_cents"], 12_000);
    assert_eq!(m["moved_sessions"], 460);
    assert_eq!(m["yearly_change_cents"], 1_380_000);
    assert_eq!(m["extra_minutes_per_year"], 4_600);
    // Revenue $3,300 x 46 = $151,800.00; out of network $200 x 50% x 80% x 1,380 = $110,400.00.
    let o = &v["out_of_network"];
    assert_eq!(o["collected_per_session_cents"], 10_000);
    assert_eq!(o["yearly_in_network_cents"], 15_180_000);
    assert_eq!(o["yearly_out_of_network_cents"], 11_040_000);
    assert_eq!(o["yearly_change_cents"], -4_140_000);
    // EMDR: +20% on half of $151,800.00 = $15,180.00. Four clinicians is not small at small:3.
    assert_eq!(v["designations"]["specialties"][0]["yearly_value_cents"], 1_518_000);
    assert_eq!(v["group"]["small_practice"], false);
    for (option, value) in
        [("shift", "50%"), ("minutes_90834", "50"), ("oon_share", "50%"), ("stay", "80%"), ("weeks", "46")]
    {
        assert_eq!(assumption(&v, option)["value"], value);
        assert_eq!(assumption(&v, option)["default"], false);
    }
    let text = ok(&ctx, "/alternatives Aetna fee:200 oon_share:50 stay:80").await.reply().to_text();
    assert!(text.contains("out of network with 80% of them staying, -$43,200.00 a year"), "{text}");

    // Out-of-range assumptions are refused with what would work.
    for (line, says) in [
        ("/alternatives Aetna minutes_90834:60", "90834 is billed for 38 to 52 minutes"),
        ("/alternatives Aetna minutes_90837:45", "90837 is billed for 53 to 90 minutes"),
        ("/alternatives Aetna shift:150", "whole percentage from 0 to 100"),
        ("/alternatives Aetna fee:0", "full fee per session"),
        ("/alternatives Aetna weeks:60", "1 to 52"),
    ] {
        let e = run(&ctx, line).await.unwrap_err().user_message();
        assert!(e.contains(says), "`{line}`: {e}");
    }
}

#[tokio::test]
async fn a_payer_without_volume_or_rates_says_what_to_add() {
    let ctx = ctx().await;
    practice(&ctx).await;
    ok(&ctx, "/payer add name:Cigna kind:commercial").await;
    ok(&ctx, "/rate set Cigna 90837 120").await;
    let v = json(&ctx, "/alternatives Cigna").await;
    let m = &v["session_mix"];
    assert_eq!(m["per_hour_90837_cents"], 12_000);
    assert!(m["yearly_change_cents"].is_null() && m["per_hour_90834_cents"].is_null());
    assert!(m["to_add"][0].as_str().unwrap().starts_with("/rate set payer:Cigna cpt:90834"), "{m}");
    let o = &v["out_of_network"];
    assert!(o["yearly_change_cents"].is_null() && o["yearly_in_network_cents"].is_null());
    let to_add: Vec<&str> = o["to_add"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(to_add[0].contains("fee:"), "{to_add:?}");
    assert!(to_add[1].starts_with("/payer edit name:Cigna volume:"), "{to_add:?}");
    assert!(v["designations"]["specialties"][0]["yearly_value_cents"].is_null());
    let text = ok(&ctx, "/alternatives Cigna").await.reply().to_text();
    assert!(!text.contains("$0.00"), "{text}");
    assert!(text.contains("To see more, add: /payer edit name:Cigna volume:"), "{text}");

    // No rates at all: every section asks for them.
    ok(&ctx, "/payer add name:Humana kind:commercial").await;
    let v = json(&ctx, "/alternatives Humana fee:180").await;
    assert!(v["group"]["pct_of_medicare"].is_null());
    assert!(v["group"]["to_add"][0].as_str().unwrap().starts_with("/rate set payer:Humana"));
    assert!(v["out_of_network"]["to_add"][0].as_str().unwrap().starts_with("/rate set payer:Humana"));
    let text = ok(&ctx, "/alternatives Humana fee:180").await.reply().to_text();
    assert!(!text.contains("$0.00"), "{text}");
}

#[tokio::test]
async fn a_practice_without_clinician_counts_is_told_to_record_them() {
    let ctx = ctx().await;
    ok(&ctx, r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#).await;
    ok(&ctx, r#"/payer add name:Aetna kind:commercial volume:"90834=20""#).await;
    ok(&ctx, "/rate set Aetna 90834 100").await;
    let v = json(&ctx, "/alternatives Aetna").await;
    assert!(v["group"]["clinicians"].is_null() && v["group"]["small_practice"].is_null());
    assert!(v["group"]["to_add"][0].as_str().unwrap().starts_with("/practice credential name:LCSW kind:credential"));
    assert_eq!(v["designations"]["specialties"], json!([]));
    assert!(v["designations"]["to_add"][0].as_str().unwrap().contains("kind:specialty"));
}

#[tokio::test]
async fn medicare_and_medicaid_are_benchmarks_and_eap_has_no_out_of_network() {
    let ctx = ctx().await;
    practice(&ctx).await;
    ok(&ctx, "/payer add name:Medicare kind:medicare").await;
    ok(&ctx, r#"/payer add name:"NY Medicaid" kind:medicaid"#).await;
    let e = run(&ctx, "/alternatives Medicare").await.unwrap_err().user_message();
    assert!(e.contains("Medicare is a benchmark") && e.contains("no network to leave"), "{e}");
    let e = run(&ctx, r#"/alternatives "NY Medicaid""#).await.unwrap_err().user_message();
    assert!(e.contains("benchmark") && e.contains("set by the state"), "{e}");

    ok(&ctx, r#"/payer add name:"Lyra EAP" kind:eap volume:"90834=5""#).await;
    ok(&ctx, r#"/rate set "Lyra EAP" 90834 70"#).await;
    let v = json(&ctx, r#"/alternatives "Lyra EAP" fee:200"#).await;
    let o = &v["out_of_network"];
    assert!(o["not_applicable"].as_str().unwrap().contains("no out-of-network benefit"));
    assert!(o["yearly_change_cents"].is_null() && o["collected_per_session_cents"].is_null());
    assert_eq!(o["to_add"], json!([]));
    // The rest still holds: 5 x 48 = 240 sessions of 90834, 25% = 60, but no 90837 rate.
    assert!(v["session_mix"]["yearly_change_cents"].is_null());
    assert_eq!(v["session_mix"]["yearly_90834_sessions"], 240);
}

/// Cigna's claims over 2026-10-31..2026-11-27 (28 days): 8 sessions of 90834 and 4 of 90837
/// for 3 clients, so 2 and 1 a week; billed at $180.00 and $200.00.
fn export() -> String {
    let mut csv = String::from("Date of Service,Client,Clinician,CPT Code,Modifiers,Units,Insurance,Payer ID,Billed,Allowed,Insurance Paid,Date Paid,Claim Status,Appointment Status\n");
    let dates = [
        "10/31/2026",
        "11/03/2026",
        "11/06/2026",
        "11/10/2026",
        "11/13/2026",
        "11/17/2026",
        "11/20/2026",
        "11/27/2026",
    ];
    let clients = ["Ann Lee", "Bo Kim", "Cy Park"];
    for (i, date) in dates.iter().enumerate() {
        csv.push_str(&format!("{date},{},Dr One,90834,,1,Cigna,62308,180.00,95.00,95.00,,Paid,Show\n", clients[i % 3]));
    }
    for (i, date) in dates[1..5].iter().enumerate() {
        csv.push_str(&format!(
            "{date},{},Dr One,90837,,1,Cigna,62308,200.00,125.00,125.00,,Paid,Show\n",
            clients[i % 2]
        ));
    }
    csv
}

#[tokio::test]
async fn a_claims_export_gives_the_clients_sessions_and_volume() {
    let ctx = ctx().await;
    practice(&ctx).await;
    ok(&ctx, "/payer add name:Cigna kind:commercial").await;
    ok(&ctx, "/rate set Cigna 90834 95").await;
    ok(&ctx, "/rate set Cigna 90837 125").await;
    let p = raterise_commands::handlers::practice_for(&ctx, &demo::invocation("p", "/help").unwrap()).await.unwrap();
    let audit = Audit { practice_id: p.id, actor: "test:1".into(), at: ctx.clock.now() };
    let options = ImportOptions { source: "export.csv".into(), map: vec![], today: TODAY.parse().unwrap() };
    import_claims(&ctx.store, &audit, std::io::Cursor::new(export().into_bytes()), &options, &Progress::default())
        .await
        .unwrap_or_else(|e| panic!("{}", e.user_message()));

    let v = json(&ctx, "/alternatives Cigna fee:180").await;
    let source = json!({"kind": "claims-export", "from": "2026-10-31", "to": "2026-11-27"});
    let o = &v["out_of_network"];
    assert_eq!(o["unique_clients"], json!({"value": 3, "source": source}));
    assert_eq!(o["sessions_on_file"], json!({"value": 12, "source": source}));
    assert_eq!(o["volume_source"], source);
    // 3 a week x 48 = 144 sessions; ($95 x 2 + $125) x 48 = $15,120.00 in network; $180 x 60%
    // x 144 = $15,552.00 out of network: +$432.00.
    assert_eq!(o["yearly_sessions"], 144);
    assert_eq!(o["in_network_per_session_cents"], 10_500);
    assert_eq!(o["yearly_in_network_cents"], 1_512_000);
    assert_eq!(o["yearly_out_of_network_cents"], 1_555_200);
    assert_eq!(o["yearly_change_cents"], 43_200);
    // 2 x 48 = 96 sessions of 90834, 24 moved at +$30.00.
    assert_eq!(v["session_mix"]["yearly_90834_sessions"], 96);
    assert_eq!(v["session_mix"]["yearly_change_cents"], 72_000);
    assert_eq!(o["fee_source"], json!({"kind": "option"}));

    // Without fee: the amounts billed most often in the export, per code. 96 x $180 + 48 x $200
    // = $26,880.00 billed, 60% = $16,128.00 ($112.00 a session) against $15,120.00: +$1,008.00.
    let v = json(&ctx, "/alternatives Cigna").await;
    let o = &v["out_of_network"];
    assert_eq!(o["fee_source"], source);
    assert_eq!(
        o["codes"],
        json!([
            {"cpt": "90834", "fee_cents": 18_000, "rate_cents": 9_500, "yearly_sessions": 96},
            {"cpt": "90837", "fee_cents": 20_000, "rate_cents": 12_500, "yearly_sessions": 48},
        ])
    );
    assert_eq!(o["collected_per_session_cents"], 11_200);
    assert_eq!(o["yearly_out_of_network_cents"], 1_612_800);
    assert_eq!(o["yearly_change_cents"], 100_800);
    assert_eq!(o["to_add"], json!([]));
    let a = assumption(&v, "fee");
    assert!(
        a["value"].as_str().unwrap().starts_with("the amounts you bill most often (claims export covering 2026-10-31"),
        "{a}"
    );
    let text = ok(&ctx, "/alternatives Cigna").await.reply().to_text();
    assert!(text.contains("At the fees you bill most often (claims export covering 2026-10-31 to 2026-11-27: 90834 $180.00, 90837 $200.00), collecting 60% of it out of network is $112.00 a session"), "{text}");
    let text = ok(&ctx, "/alternatives Cigna fee:180").await.reply().to_text();
    assert!(
        text.contains("(3 clients and 12 sessions on file: claims export covering 2026-10-31 to 2026-11-27)"),
        "{text}"
    );
}

#[tokio::test]
async fn alternatives_is_listed_in_help() {
    let ctx = ctx().await;
    let text = ok(&ctx, "/help").await.reply().to_text();
    assert!(text.contains("/alternatives payer:…"), "{text}");
    let text = ok(&ctx, "/help command:alternatives").await.reply().to_text();
    for option in ["fee", "oon_share", "stay", "shift", "minutes_90834", "minutes_90837", "uplift", "small", "weeks"] {
        assert!(text.contains(&format!("{option} (optional)")), "{option}: {text}");
    }
}
