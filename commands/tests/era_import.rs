//! Storing remittances: the generated year and the public samples, re-import, reversals, and
//! /underpayments and /denials against the generator's own expectations.

use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::era::generate::{generate, practice_lines, EraSpec, PAYERS};
use raterise_commands::era::import::{import, import_paths, EraImportSummary, EraInput, StoreKeys};
use raterise_commands::store::{Audit, Store};
use raterise_commands::{demo, dispatch, Ctx, Outcome};
use std::collections::BTreeMap;
use std::sync::Arc;

async fn setup() -> (Ctx, StoreKeys, Audit) {
    setup_with(Store::open_in_memory().await.unwrap()).await
}

async fn setup_with(store: Store) -> (Ctx, StoreKeys, Audit) {
    let clock = ManualClock::new(parse_instant("2027-01-20T15:00:00Z").unwrap());
    let ctx = Ctx::new(store, Arc::new(clock)).await.unwrap();
    for line in practice_lines(&EraSpec::small(11)) {
        run(&ctx, &line).await;
    }
    let practice =
        raterise_commands::handlers::practice_for(&ctx, &demo::invocation("t", "/help").unwrap()).await.unwrap();
    let keys = StoreKeys::load(&ctx.store, practice.id).await.unwrap();
    let audit = Audit { practice_id: practice.id, actor: "test".into(), at: ctx.clock.now() };
    (ctx, keys, audit)
}

async fn run(ctx: &Ctx, line: &str) -> Outcome {
    dispatch(ctx, &demo::invocation("t", line).unwrap())
        .await
        .unwrap_or_else(|e| panic!("`{line}`: {}", e.user_message()))
}

fn inputs(batch: &raterise_commands::era::generate::GenBatch) -> Vec<EraInput> {
    batch.files.iter().map(|f| EraInput { name: f.name.clone(), bytes: f.bytes.clone() }).collect()
}

#[tokio::test]
async fn a_generated_year_is_stored_once_and_its_underpayments_and_denials_found() {
    let (ctx, keys, audit) = setup().await;
    let batch = generate(&EraSpec::small(11));
    let s: EraImportSummary = import(&ctx.store, &audit, "t", inputs(&batch), &keys).await.unwrap();
    assert!(s.refused.is_empty() && s.unknown_payers.is_empty(), "{:?} {:?}", s.refused, s.unknown_payers);
    let sum =
        |f: fn(&raterise_commands::era::generate::Totals) -> i64| batch.files.iter().map(|x| f(&x.totals)).sum::<i64>();
    assert_eq!(s.files, batch.files.len());
    assert_eq!(s.transactions as i64, sum(|t| t.transactions as i64));
    assert_eq!(s.claims as i64, sum(|t| t.claims as i64));
    assert_eq!(s.service_lines as i64, sum(|t| t.service_lines as i64));
    assert_eq!(s.paid_cents, sum(|t| t.paid_cents));
    assert_eq!(s.reversals as i64, sum(|t| t.reversals as i64));
    assert!(s.reversals > 0);
    let checks: Vec<_> = s.checks.iter().map(|c| (c.payer.clone(), c.number.clone(), c.date, c.amount_cents)).collect();
    let expected: Vec<_> = batch.files.iter().flat_map(|f| f.totals.checks.clone()).collect();
    assert_eq!(checks, expected);

    // The same files again add nothing.
    let again = import(&ctx.store, &audit, "t", inputs(&batch), &keys).await.unwrap();
    assert_eq!((again.duplicates, again.claims, again.service_lines, again.paid_cents), (expected.len(), 0, 0, 0));

    // Underpayments: the generator's shorts, lines of reversed claims excluded.
    let Outcome::Underpayments(u) = run(&ctx, "/underpayments months:36").await else { panic!() };
    let total: i64 = batch.shorts.iter().map(|x| x.contract - x.allowed).sum();
    assert!(u.count > 0);
    assert_eq!((u.count, u.total_short_cents), (batch.shorts.len(), total));
    let mut got: Vec<_> = u
        .lines
        .iter()
        .map(|l| (l.payer.clone(), l.cpt.clone(), l.service_date, l.check.clone(), l.allowed_cents, l.contract_cents))
        .collect();
    let mut want: Vec<_> = batch
        .shorts
        .iter()
        .map(|x| (x.payer.to_string(), x.cpt.to_string(), x.service_date, x.check.clone(), x.allowed, x.contract))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want);
    let json = serde_json::to_value(&u).unwrap();
    for key in ["total_short_cents", "count", "lines"] {
        assert!(json.get(key).is_some(), "{key}");
    }
    for key in ["cpt", "service_date", "check", "allowed_cents", "contract_cents", "short_cents"] {
        assert!(json["lines"][0].get(key).is_some(), "{key}");
    }
    let one = PAYERS[1].name;
    let Outcome::Underpayments(cigna) = run(&ctx, &format!("/underpayments payer:{one} months:36")).await else {
        panic!()
    };
    assert_eq!(cigna.count, batch.shorts.iter().filter(|x| x.payer == one).count());
    assert!(cigna.reply().attachments[0].content.lines().count() == cigna.count + 1);

    // The recovery letter cites the total and the checks, with the lines attached.
    let Outcome::UnderpaymentLetter(letter) =
        run(&ctx, &format!("/draft underpayment payer:{one} signer:\"Ana Ruiz, Director\"")).await
    else {
        panic!()
    };
    assert!(
        letter.body.contains(&raterise_commands::domain::Cents(cigna.total_short_cents).to_string()),
        "{}",
        letter.body
    );
    for l in &cigna.lines {
        assert!(letter.body.contains(&l.check), "{}", l.check);
    }
    let reply = letter.reply();
    assert_eq!(reply.attachments.len(), 2);
    assert_eq!(reply.attachments[1].content.lines().count(), cigna.count + 1);

    // Denials per payer, and the costliest reasons.
    let Outcome::Denials(d) = run(&ctx, "/denials months:36").await else { panic!() };
    let got: BTreeMap<String, (i64, i64)> = d.payers.iter().map(|p| (p.payer.clone(), (p.claims, p.denied))).collect();
    let want: BTreeMap<String, (i64, i64)> = batch
        .claims_by_payer
        .iter()
        .map(|(p, n)| (p.to_string(), (*n as i64, *batch.denied_claims.get(p).unwrap_or(&0) as i64)))
        .collect();
    assert_eq!(got, want);
    let mut want_reasons: BTreeMap<String, i64> = BTreeMap::new();
    for ((_, carc), cents) in &batch.denied_cents {
        *want_reasons.entry(format!("CO-{carc}")).or_default() += cents;
    }
    let got_reasons: BTreeMap<String, i64> = d.reasons.iter().map(|r| (r.code.clone(), r.cents)).collect();
    assert_eq!(got_reasons, want_reasons);
    assert!(d.reasons.iter().all(|r| !r.meaning.is_empty()));
}

#[tokio::test]
async fn public_samples_import_and_the_malformed_one_is_refused_alone() {
    let (ctx, keys, audit) = setup().await;
    let files = [
        ("lfh_secondary-payment.835", &include_bytes!("data/era/lfh_secondary-payment.835")[..]),
        ("lfh_cob-contractural-adjustment.835", include_bytes!("data/era/lfh_cob-contractural-adjustment.835")),
        ("lfh_medicare-part-a.835", include_bytes!("data/era/lfh_medicare-part-a.835")),
        ("lfh_tertiary-payment.835", include_bytes!("data/era/lfh_tertiary-payment.835")),
        ("emedny_inst_inpatient_drg_retro.txt", include_bytes!("data/era/emedny_inst_inpatient_drg_retro.txt")),
        ("pyx12_835_mult_loops.txt", include_bytes!("data/era/pyx12_835_mult_loops.txt")),
    ];
    let inputs: Vec<EraInput> =
        files.iter().map(|(n, b)| EraInput { name: n.to_string(), bytes: b.to_vec() }).collect();
    let s = import(&ctx.store, &audit, "t", inputs.clone(), &keys).await.unwrap();
    assert_eq!((s.files, s.transactions, s.claims, s.service_lines), (6, 5, 8, 6));
    assert_eq!(s.paid_cents, 122200 + 3400 + 14999873 + 157);
    assert_eq!(s.refused.len(), 1);
    assert_eq!(
        (s.refused[0].file.as_str(), s.refused[0].segment, s.refused[0].segment_id.as_str()),
        ("lfh_tertiary-payment.835", 20, "SVC")
    );
    // Their payers are none of the practice's: each reported once.
    let unknown: Vec<_> = s.unknown_payers.iter().map(|u| (u.name.as_str(), u.checks)).collect();
    assert_eq!(
        unknown,
        vec![("YOUR TAX DOLLARS AT WORK", 2), ("INSURANCE COMPANY OF TIMBUCKTU", 1), ("NYSDOH", 1), ("PAYER", 1)]
    );
    let json = serde_json::to_value(&s).unwrap();
    for key in ["files", "transactions", "checks", "claims", "service_lines", "paid_cents", "duplicates", "refused"] {
        assert!(json.get(key).is_some(), "{key}");
    }
    for key in ["payer", "number", "date", "amount_cents"] {
        assert!(json["checks"][0].get(key).is_some(), "{key}");
    }
    for key in ["file", "segment", "reason"] {
        assert!(json["refused"][0].get(key).is_some(), "{key}");
    }
    let again = import(&ctx.store, &audit, "t", inputs, &keys).await.unwrap();
    assert_eq!((again.duplicates, again.claims), (5, 0));
}

/// The raw bytes of the database file and its WAL after an import hold no patient name, no
/// member id and no claim id (CLP01) of the files imported.
#[tokio::test]
async fn no_patient_identifier_reaches_the_database_file() {
    let dir = std::env::temp_dir().join(format!("raterise-era-privacy-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("in")).unwrap();
    let db = dir.join("t.db");
    let (ctx, keys, audit) = setup_with(Store::open(&db).await.unwrap()).await;
    let batch = generate(&EraSpec::small(5));
    for f in &batch.files {
        std::fs::write(dir.join("in").join(&f.name), &f.bytes).unwrap();
    }
    std::fs::write(dir.join("in").join("README.txt"), "not an 835").unwrap();
    let s = import_paths(&ctx.store, &audit, "t", &[dir.join("in")], &keys).await.unwrap();
    assert_eq!((s.files, s.refused.len(), s.skipped.len()), (batch.files.len(), 0, 1));
    let mut secrets: Vec<String> = batch.patient_strings.clone();
    for f in &batch.files {
        let r = raterise_commands::era::read(&f.bytes).unwrap();
        secrets.extend(r.claims().map(|c| c.id.clone()));
    }
    secrets.sort();
    secrets.dedup();
    assert!(secrets.len() > 50);
    let mut raw = std::fs::read(&db).unwrap();
    raw.extend(std::fs::read(dir.join("t.db-wal")).unwrap_or_default());
    raw.make_ascii_lowercase();
    for secret in &secrets {
        let needle = secret.to_ascii_lowercase();
        assert!(memchr::memmem::find(&raw, needle.as_bytes()).is_none(), "{secret} is in the database");
    }
    ctx.store.close().await;
    std::fs::remove_dir_all(&dir).ok();
}
