//! A generated, realistic year of claims for ~15 clinicians, imported as two overlapping
//! exports, then `/report` for each payer checked against figures computed here, independently,
//! from the generated rows.

#[path = "support/claims_gen.rs"]
mod claims_gen;

use chrono::NaiveDate;
use claims_gen::{generate, to_csv, GenRow, CONTRACTS};
use raterise_commands::claims::{import_claims, ImportOptions, Progress};
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::store::{Audit, Store};
use raterise_commands::{demo, dispatch, Ctx, Outcome};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn setup() -> Ctx {
    let clock = ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap());
    let ctx = Ctx::new(Store::open_in_memory().await.unwrap(), Arc::new(clock)).await.unwrap();
    for line in claims_gen::practice_lines() {
        dispatch(&ctx, &demo::invocation("p", &line).unwrap()).await.unwrap_or_else(|e| panic!("{line}: {e}"));
    }
    ctx
}

async fn import(ctx: &Ctx, csv: String, name: &str) -> raterise_commands::claims::ImportSummary {
    let inv = demo::invocation("p", "/help").unwrap();
    let practice = raterise_commands::handlers::practice_for(ctx, &inv).await.unwrap();
    let audit = Audit { practice_id: practice.id, actor: "test:1".into(), at: ctx.clock.now() };
    let options = ImportOptions { source: name.into(), map: vec![], today: d("2026-11-27") };
    import_claims(&ctx.store, &audit, std::io::Cursor::new(csv.into_bytes()), &options, &Progress::default())
        .await
        .unwrap_or_else(|e| panic!("{}", e.user_message()))
}

fn practice_payer(export_name: &str) -> Option<&'static str> {
    match export_name {
        "CIGNA Healthcare" => Some("Cigna"),
        "Blue Cross Blue Shield of Texas" => Some("BCBS Texas"),
        "Optum Behavioral Health" => Some("Optum Behavioral"),
        _ => None,
    }
}

fn contract_on(payer: &str, cpt: &str, date: NaiveDate) -> Option<i64> {
    CONTRACTS
        .iter()
        .filter(|(p, c, _, eff)| *p == payer && *c == cpt && d(eff) <= date)
        .max_by_key(|(_, _, _, eff)| d(eff))
        .map(|(_, _, cents, _)| *cents)
}

/// One decimal percentage, half up, written out from the definition.
fn pct(part: usize, whole: usize) -> Value {
    if whole == 0 {
        return Value::Null;
    }
    let tenths = (part as i64 * 2000 + whole as i64) / (2 * whole as i64);
    serde_json::json!(tenths as f64 / 10.0)
}

fn nearest_rank(mut v: Vec<i64>, p: usize) -> Value {
    if v.is_empty() {
        return Value::Null;
    }
    v.sort_unstable();
    let rank = (p * v.len()).div_ceil(100).max(1);
    serde_json::json!(v[rank - 1])
}

/// The report's JSON for one payer, from the generated truth.
fn expected(rows: &[GenRow], payer: &str, start: NaiveDate, end: NaiveDate) -> Value {
    let mine: Vec<&GenRow> =
        rows.iter().filter(|r| practice_payer(r.payer) == Some(payer) && r.date >= start && r.date <= end).collect();
    let claims: Vec<&&GenRow> = mine.iter().filter(|r| r.attendance.is_empty()).collect();
    let missed = mine.len() - claims.len();
    let sessions: i64 = claims.iter().map(|r| r.units).sum();
    let clients: HashSet<&str> = claims.iter().map(|r| r.client.as_str()).collect();
    let paid: Vec<&&&GenRow> = claims.iter().filter(|r| r.status.starts_with("paid")).collect();
    let clean = claims.iter().filter(|r| r.status == "paid").count();
    let denied = claims.iter().filter(|r| r.status == "denied").count();
    let decided = paid.len() + denied;
    let days: Vec<i64> = paid.iter().filter_map(|r| r.paid_date.map(|p| (p - r.date).num_days())).collect();
    let mut codes: BTreeMap<&str, (i64, i64, i64, i64, i64)> = BTreeMap::new(); // sessions, paid units, paid cents, under n, under cents
    for r in &claims {
        codes.entry(r.cpt.as_str()).or_default().0 += r.units;
    }
    for r in &paid {
        let e = codes.get_mut(r.cpt.as_str()).unwrap();
        e.1 += r.units;
        e.2 += r.paid.unwrap();
        let basis = r.allowed.or(r.paid).unwrap();
        if let Some(c) = contract_on(payer, &r.cpt, r.date) {
            if basis < c * r.units {
                e.3 += 1;
                e.4 += c * r.units - basis;
            }
        }
    }
    let sessions_per_client = if clients.is_empty() {
        Value::Null
    } else {
        let hundredths = (sessions * 200 + clients.len() as i64) / (2 * clients.len() as i64);
        serde_json::json!(hundredths as f64 / 100.0)
    };
    serde_json::json!({
        "payer": payer,
        "period": {"start": start.to_string(), "end": end.to_string()},
        "claims": claims.len(),
        "sessions": sessions,
        "unique_clients": clients.len(),
        "sessions_per_client": sessions_per_client,
        "clean_claim_pct": pct(clean, decided),
        "denial_pct": pct(denied, decided),
        "days_to_payment": {"median": nearest_rank(days.clone(), 50), "p90": nearest_rank(days, 90)},
        "no_show_pct": pct(missed, claims.len() + missed),
        "codes": codes.iter().map(|(cpt, (s, pu, pc, un, uc))| serde_json::json!({
            "cpt": cpt,
            "sessions": s,
            "avg_paid_cents": if *pu > 0 { serde_json::json!((pc * 2 + pu) / (2 * pu)) } else { Value::Null },
            "contract_cents": contract_on(payer, cpt, end),
            "underpaid_count": un,
            "underpaid_cents": uc,
        })).collect::<Vec<_>>(),
    })
}

#[tokio::test]
async fn two_overlapping_exports_give_the_exact_report_per_payer() {
    let ctx = setup().await;
    let today = d("2026-11-27");
    let truth = generate(7, 260, d("2025-10-06"), 58, today);
    assert!(truth.len() > 5000, "{} rows", truth.len());

    // The first export was made on 2026-08-01 and covers sessions up to July; the second, made
    // today, starts in May: three months of sessions are in both, some paid only since.
    let cut = d("2026-08-01");
    let first: Vec<GenRow> = truth.iter().filter(|r| r.date < cut).map(|r| r.as_of(cut)).collect();
    let second: Vec<GenRow> = truth.iter().filter(|r| r.date >= d("2026-05-01")).cloned().collect();
    let known = |r: &&GenRow| practice_payer(r.payer).is_some();
    let s1 = import(&ctx, to_csv(&first), "first.csv").await;
    assert_eq!(s1.added as usize, first.iter().filter(known).count());
    assert_eq!(s1.skipped as usize, first.len() - first.iter().filter(known).count(), "Mystery Health Plan rows");
    assert!(s1.payers.iter().any(|p| p.name == "Mystery Health Plan" && p.matched.is_none()));

    let s2 = import(&ctx, to_csv(&second), "second.csv").await;
    let overlap: Vec<&GenRow> = second.iter().filter(known).filter(|r| r.date < cut).collect();
    assert_eq!(s2.duplicates as usize, overlap.len());
    assert_eq!(s2.added as usize, second.iter().filter(known).count() - overlap.len());
    let moved = overlap.iter().filter(|r| r.as_of(cut).status == "pending" && r.status != "pending").count();
    assert!(moved > 0);
    assert_eq!(s2.updated as usize, moved);

    // What the two files together say: sessions before May only as the first export saw them.
    let known_now: Vec<GenRow> =
        truth.iter().map(|r| if r.date < d("2026-05-01") { r.as_of(cut) } else { r.clone() }).collect();

    let again = import(&ctx, to_csv(&second), "second.csv").await;
    assert_eq!((again.added, again.updated), (0, 0), "re-importing adds nothing");

    for payer in ["Cigna", "BCBS Texas", "Optum Behavioral"] {
        for (months, start) in [(12, d("2025-11-28")), (3, d("2026-08-28"))] {
            let line = format!(r#"/report payer:"{payer}" months:{months}"#);
            let out = dispatch(&ctx, &demo::invocation("p", &line).unwrap()).await.unwrap();
            let Outcome::Report(report) = &out else { panic!("not a report") };
            let mut got = serde_json::to_value(report).unwrap();
            let obj = got.as_object_mut().unwrap();
            assert!(obj.remove("source").unwrap().as_str().unwrap().contains("imported claims"));
            let covered = obj.remove("claims_source").unwrap();
            assert_eq!(covered["kind"], "claims-export");
            assert_eq!(covered["from"], start.to_string(), "the exports start before the period");
            assert!(obj.remove("remittance_days_to_payment").unwrap().is_null(), "no remittances imported");
            for c in obj["codes"].as_array_mut().unwrap() {
                c.as_object_mut().unwrap().remove("medicare_cents");
            }
            assert_eq!(got, expected(&known_now, payer, start, today), "{line}");
            let reply = out.reply();
            assert_eq!(reply.attachments.len(), 2, "a CSV and a PNG");
            assert!(reply.attachments[1].data().starts_with(b"\x89PNG"));
            let text = reply.to_text();
            for r in &truth {
                assert!(!text.contains(&r.client), "a client's name in the report");
            }
        }
    }
    // The raise on 2026-06-01 that Cigna did not always apply shows as underpayments.
    let out = dispatch(&ctx, &demo::invocation("p", "/report Cigna").unwrap()).await.unwrap();
    let v = serde_json::to_value(&out).unwrap();
    let c90837 = v["codes"].as_array().unwrap().iter().find(|c| c["cpt"] == "90837").unwrap();
    assert!(c90837["underpaid_count"].as_i64().unwrap() > 0);
    assert_eq!(c90837["contract_cents"], 12500);
}

#[tokio::test]
async fn a_report_without_an_import_says_how_to_get_one() {
    let ctx = setup().await;
    let err = dispatch(&ctx, &demo::invocation("p", "/report Cigna").unwrap()).await.unwrap_err();
    assert!(err.user_message().contains("import claims"), "{}", err.user_message());
}
