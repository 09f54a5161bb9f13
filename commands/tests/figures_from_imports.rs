//! The practice's figures in every answer and letter, and where each comes from (`figures`):
//! a practice with hand-entered figures only, one with a claims export, one with a claims export
//! and remittances. Expected figures are computed here from the generators' own rows.

#[path = "support/claims_gen.rs"]
mod claims_gen;

use chrono::NaiveDate;
use claims_gen::{generate as generate_claims, to_csv, GenRow, CONTRACTS};
use raterise_commands::claims::{import_claims, ImportOptions, Progress};
use raterise_commands::clock::{parse_instant, ManualClock};
use raterise_commands::era::generate::{self as era_gen, contract_on, EraSpec};
use raterise_commands::era::import::{import as import_era, EraInput, StoreKeys};
use raterise_commands::store::{Audit, Store};
use raterise_commands::{demo, dispatch, Ctx, Outcome};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

const TODAY: &str = "2026-11-27";
const PERIOD_START: &str = "2025-11-28";
const WEEKS_PER_YEAR: i64 = 48;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

async fn new_ctx() -> Ctx {
    let clock = ManualClock::new(parse_instant(&format!("{TODAY}T15:00:00Z")).unwrap());
    Ctx::new(Store::open_in_memory().await.unwrap(), Arc::new(clock)).await.unwrap()
}

async fn run(ctx: &Ctx, line: &str) -> Outcome {
    dispatch(ctx, &demo::invocation("p", line).unwrap())
        .await
        .unwrap_or_else(|e| panic!("`{line}`: {}", e.user_message()))
}

async fn json(ctx: &Ctx, line: &str) -> Value {
    serde_json::to_value(run(ctx, line).await).unwrap()
}

fn dollars(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// The practice's payers with rates: Cigna's from `cigna` (code, cents, effective), the others
/// from the claims generator's contracts.
async fn setup(ctx: &Ctx, cigna: &[(&str, i64, &str)], hand: bool) {
    let mut lines = vec![
        r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#.to_string(),
        "/payer add name:Cigna kind:commercial".into(),
        r#"/payer add name:"BCBS Texas" kind:commercial"#.into(),
        r#"/payer add name:"Optum Behavioral" kind:mbho"#.into(),
    ];
    for (cpt, cents, eff) in cigna {
        lines.push(format!("/rate set payer:Cigna cpt:{cpt} amount:{} effective:{eff}", dollars(*cents)));
    }
    for (payer, cpt, cents, eff) in CONTRACTS.iter().filter(|c| c.0 != "Cigna") {
        lines.push(format!(r#"/rate set payer:"{payer}" cpt:{cpt} amount:{} effective:{eff}"#, dollars(*cents)));
    }
    if hand {
        lines.push(
            "/practice utilization payer:Cigna from:2025-01-01 to:2025-12-31 claims:1587 patients:93 clean_claims:97.2% no_shows:5.8% days_to_pay:16"
                .into(),
        );
    }
    for line in lines {
        run(ctx, &line).await;
    }
}

fn claims_contracts() -> Vec<(&'static str, i64, &'static str)> {
    CONTRACTS.iter().filter(|c| c.0 == "Cigna").map(|c| (c.1, c.2, c.3)).collect()
}

async fn audit(ctx: &Ctx) -> Audit {
    let practice =
        raterise_commands::handlers::practice_for(ctx, &demo::invocation("p", "/help").unwrap()).await.unwrap();
    Audit { practice_id: practice.id, actor: "test:1".into(), at: ctx.clock.now() }
}

async fn import_export(ctx: &Ctx, rows: &[GenRow]) {
    let options = ImportOptions { source: "export.csv".into(), map: vec![], today: d(TODAY) };
    let csv = to_csv(rows);
    import_claims(
        &ctx.store,
        &audit(ctx).await,
        std::io::Cursor::new(csv.into_bytes()),
        &options,
        &Progress::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{}", e.user_message()));
}

fn claims_rows() -> Vec<GenRow> {
    generate_claims(3, 120, d("2025-10-06"), 58, d(TODAY))
}

/// A share as the answers write it: one decimal, half up, ".0" dropped.
fn share_text(part: usize, whole: usize) -> String {
    let tenths = (part as i64 * 2000 + whole as i64) / (2 * whole as i64);
    if tenths % 10 == 0 {
        format!("{}%", tenths / 10)
    } else {
        format!("{}.{}%", tenths / 10, tenths % 10)
    }
}

fn share_json(part: usize, whole: usize) -> Value {
    json!(((part as i64 * 2000 + whole as i64) / (2 * whole as i64)) as f64 / 10.0)
}

fn nearest_rank(mut v: Vec<i64>, p: usize) -> i64 {
    v.sort_unstable();
    v[(p * v.len()).div_ceil(100).max(1) - 1]
}

/// What the claims export says about Cigna, written out from the generated rows.
struct ClaimsTruth {
    from: NaiveDate,
    to: NaiveDate,
    claims: usize,
    sessions: i64,
    clients: usize,
    clean: usize,
    denied: usize,
    decided: usize,
    missed: usize,
    days: Vec<i64>,
    /// Sessions per code of every payer in the practice: (export payer, code) -> sessions.
    per_code: BTreeMap<(&'static str, String), i64>,
}

fn claims_truth(rows: &[GenRow]) -> ClaimsTruth {
    let known = |r: &&GenRow| r.payer != "Mystery Health Plan";
    let first = rows.iter().filter(known).map(|r| r.date).min().unwrap().max(d(PERIOD_START));
    let last = rows.iter().filter(known).map(|r| r.date).max().unwrap().min(d(TODAY));
    let covered: Vec<&GenRow> = rows.iter().filter(known).filter(|r| r.date >= first && r.date <= last).collect();
    let mut per_code = BTreeMap::new();
    for r in covered.iter().filter(|r| r.attendance.is_empty()) {
        *per_code.entry((r.payer, r.cpt.clone())).or_default() += r.units;
    }
    let cigna: Vec<&&GenRow> = covered.iter().filter(|r| r.payer == "CIGNA Healthcare").collect();
    let claims: Vec<&&&GenRow> = cigna.iter().filter(|r| r.attendance.is_empty()).collect();
    let paid: Vec<&&&&GenRow> = claims.iter().filter(|r| r.status.starts_with("paid")).collect();
    let denied = claims.iter().filter(|r| r.status == "denied").count();
    ClaimsTruth {
        from: first,
        to: last,
        claims: claims.len(),
        sessions: claims.iter().map(|r| r.units).sum(),
        clients: claims.iter().map(|r| r.client.as_str()).collect::<HashSet<_>>().len(),
        clean: claims.iter().filter(|r| r.status == "paid").count(),
        denied,
        decided: paid.len() + denied,
        missed: cigna.len() - claims.len(),
        days: paid.iter().filter_map(|r| r.paid_date.map(|p| (p - r.date).num_days())).collect(),
        per_code,
    }
}

impl ClaimsTruth {
    fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }
    fn weekly(&self, export_payer: &'static str, cpt: &str) -> i64 {
        let sessions = self.per_code.get(&(export_payer, cpt.to_string())).copied().unwrap_or(0);
        (sessions * 14 + self.days()) / (2 * self.days())
    }
    fn source(&self) -> Value {
        json!({"kind": "claims-export", "from": self.from.to_string(), "to": self.to.to_string()})
    }
}

fn row<'a>(rates: &'a Value, cpt: &str) -> &'a Value {
    rates["rows"].as_array().unwrap().iter().find(|r| r["cpt"] == cpt).unwrap_or_else(|| panic!("no {cpt} row"))
}

fn flag<'a>(card: &'a Value, name: &str) -> &'a Value {
    card["flags"].as_array().unwrap().iter().find(|f| f["flag"].as_str().unwrap().starts_with(name)).unwrap()
}

/// Every row's yearly value is its ask times its weekly volume times the practice's weeks.
fn assert_yearly_uses_weekly(rates: &Value) {
    let mut total = 0;
    for r in rates["rows"].as_array().unwrap() {
        let weekly = r["weekly_volume"].as_i64().unwrap();
        match r["ask"]["increase_cents"].as_i64() {
            Some(inc) if weekly > 0 => {
                assert_eq!(r["yearly_impact_cents"].as_i64().unwrap(), inc * weekly * WEEKS_PER_YEAR, "{r}");
                total += inc * weekly * WEEKS_PER_YEAR;
            }
            _ => assert!(r["yearly_impact_cents"].is_null(), "{r}"),
        }
    }
    assert_eq!(rates["yearly_impact_cents"].as_i64().unwrap(), total);
}

#[tokio::test]
async fn hand_entered_figures_only() {
    let ctx = new_ctx().await;
    setup(&ctx, &claims_contracts(), true).await;
    run(&ctx, r#"/payer edit name:Cigna volume:"90837=10 90834=4""#).await;
    let hand = json!({"kind": "hand-entered", "from": "2025-01-01", "to": "2025-12-31"});

    let rates = json(&ctx, "/rates Cigna").await;
    assert_eq!(row(&rates, "90837")["weekly_volume"], 10);
    assert_eq!(row(&rates, "90837")["weekly_volume_source"], json!({"kind": "hand-set"}));
    assert_eq!(row(&rates, "90791")["weekly_volume"], 0);
    assert!(row(&rates, "90791")["weekly_volume_source"].is_null());
    assert!(rates["volume_from_claims"].is_null());
    assert_yearly_uses_weekly(&rates);
    assert!(!run(&ctx, "/rates Cigna").await.reply().to_text().contains("Volume from claims"));

    let practice = json(&ctx, "/practice show").await;
    let figs = &practice["figures"][0];
    assert_eq!(figs["payer"], "Cigna");
    assert_eq!(figs["claims"], json!({"value": 1587, "source": hand}));
    assert_eq!(figs["unique_clients"]["value"], 93);
    assert_eq!(figs["clean_claim_pct"], json!({"value": 97.2, "source": hand}));
    assert_eq!(figs["no_show_pct"]["value"], 5.8);
    assert_eq!(figs["days_to_payment"]["value"], json!({"median": null, "p90": null, "average": 16}));
    assert!(figs["denial_pct"].is_null() && figs["sessions"].is_null());
    assert_eq!(practice["figures"].as_array().unwrap().len(), 1, "no figures for the other payers");

    let card = json(&ctx, "/walkaway Cigna").await;
    let days = flag(&card, "chronic payment delays");
    assert_eq!(days["verdict"], "clear");
    assert_eq!(days["source"], hand);
    assert!(days["evidence"].as_str().unwrap().contains("16 days on average"), "{days}");
    assert_eq!(flag(&card, "heavy admin burden")["source"], hand);
    assert_eq!(card["unique_patients"], 93);
    assert_eq!(card["yearly_sessions"], 14 * WEEKS_PER_YEAR);

    let Outcome::Draft(letter) = run(&ctx, "/draft request Cigna").await else { panic!() };
    assert!(
        letter.body.contains(
            "- Volume with Cigna: 1,587 claims for 93 members from January 1, 2025 to December 31, 2025, about 17.1 sessions per member."
        ),
        "{}",
        letter.body
    );
    assert!(letter.body.contains("- Clean-claim rate: 97.2%. No-show rate: 5.8%."));
    assert!(!letter.body.contains("Denial rate") && !letter.body.contains("claims records"), "{}", letter.body);
}

#[tokio::test]
async fn a_claims_export_gives_the_figures_and_the_volume() {
    let ctx = new_ctx().await;
    // Hand-entered figures too: the export covers the period, so its figures win.
    setup(&ctx, &claims_contracts(), true).await;
    // BCBS set one code's volume by hand: that one stays.
    run(&ctx, r#"/payer edit name:"BCBS Texas" volume:"90837=7""#).await;
    // Asked before the import: the cached answer must not outlive it.
    assert!(json(&ctx, "/rates Cigna").await["volume_from_claims"].is_null());
    let rows = claims_rows();
    import_export(&ctx, &rows).await;
    let t = claims_truth(&rows);
    assert_eq!(t.from, d(PERIOD_START), "the export starts before the period");
    let source = t.source();

    // /rates: volume from claims, used for the yearly figures.
    let rates = json(&ctx, "/rates Cigna").await;
    for cpt in ["90837", "90834", "90791"] {
        let r = row(&rates, cpt);
        assert_eq!(r["weekly_volume"], t.weekly("CIGNA Healthcare", cpt), "{cpt}");
        assert!(r["weekly_volume"].as_i64().unwrap() > 0, "{cpt}");
        assert_eq!(r["weekly_volume_source"], source, "{cpt}");
    }
    assert_yearly_uses_weekly(&rates);
    let v = &rates["volume_from_claims"];
    assert_eq!(v["source"], source);
    assert_eq!(v["days"], t.days());
    let sessions: BTreeMap<String, i64> = v["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["cpt"].as_str().unwrap().to_string(), c["sessions"].as_i64().unwrap()))
        .collect();
    let want: BTreeMap<String, i64> =
        t.per_code.iter().filter(|((p, _), _)| *p == "CIGNA Healthcare").map(|((_, c), n)| (c.clone(), *n)).collect();
    assert_eq!(sessions, want);
    let text = run(&ctx, "/rates Cigna").await.reply().to_text();
    assert!(text.contains("Volume from claims"), "{text}");
    assert!(
        text.contains(&format!(
            "90837: {} sessions, {} a week, used for the yearly figures",
            want["90837"],
            t.weekly("CIGNA Healthcare", "90837")
        )),
        "{text}"
    );

    let bcbs = json(&ctx, r#"/rates "BCBS Texas""#).await;
    assert_eq!(row(&bcbs, "90837")["weekly_volume"], 7);
    assert_eq!(row(&bcbs, "90837")["weekly_volume_source"], json!({"kind": "hand-set"}));
    assert_eq!(row(&bcbs, "90834")["weekly_volume"], t.weekly("Blue Cross Blue Shield of Texas", "90834"));
    assert_eq!(row(&bcbs, "90834")["weekly_volume_source"], source);
    assert!(run(&ctx, r#"/rates "BCBS Texas""#)
        .await
        .reply()
        .to_text()
        .contains("set by hand (7 a week) is used instead"));

    // The ranking uses the same volumes.
    let ranking = json(&ctx, "/rates").await;
    let cigna = ranking["payers"].as_array().unwrap().iter().find(|p| p["payer"] == "Cigna").unwrap();
    let cigna_weekly: i64 = ["90837", "90834", "90791"].iter().map(|c| t.weekly("CIGNA Healthcare", c)).sum();
    assert_eq!(cigna["yearly_sessions"], cigna_weekly * WEEKS_PER_YEAR);
    assert_eq!(cigna["volume_from_claims"], true);

    // /practice: the export's figures, with their source.
    let practice = json(&ctx, "/practice show payer:Cigna").await;
    let figs = &practice["figures"][0];
    assert_eq!(figs["claims"], json!({"value": t.claims, "source": source}));
    assert_eq!(figs["sessions"], json!({"value": t.sessions, "source": source}));
    assert_eq!(figs["unique_clients"], json!({"value": t.clients, "source": source}));
    assert_eq!(figs["clean_claim_pct"], json!({"value": share_json(t.clean, t.decided), "source": source}));
    assert_eq!(figs["denial_pct"], json!({"value": share_json(t.denied, t.decided), "source": source}));
    assert_eq!(figs["no_show_pct"], json!({"value": share_json(t.missed, t.claims + t.missed), "source": source}));
    let (median, p90) = (nearest_rank(t.days.clone(), 50), nearest_rank(t.days.clone(), 90));
    assert_eq!(
        figs["days_to_payment"],
        json!({"value": {"median": median, "p90": p90, "average": null}, "source": source})
    );
    let text = run(&ctx, "/practice show payer:Cigna").await.reply().to_text();
    assert!(text.contains(&format!("Cigna: claims, sessions, unique clients, clean-claim rate, denial rate, days to payment and no-show rate: claims export covering {} to {}", t.from, t.to)), "{text}");

    // /walkaway: computed figures with their source.
    let card = json(&ctx, "/walkaway Cigna").await;
    let days = flag(&card, "chronic payment delays");
    assert_eq!(days["source"], source);
    assert_eq!(
        days["evidence"],
        format!("median {median} days, 90th percentile {p90} days from service to payment (claims export covering {} to {})", t.from, t.to)
    );
    let admin = flag(&card, "heavy admin burden");
    assert_eq!(admin["source"], source);
    assert!(admin["evidence"].as_str().unwrap().starts_with(&share_text(t.clean, t.decided)), "{admin}");
    assert_eq!(card["unique_patients"], t.clients);
    assert_eq!(card["yearly_sessions"], cigna_weekly * WEEKS_PER_YEAR);
    assert_eq!(flag(&card, "low client volume")["source"], source);

    // /report: no remittances yet, said so beside the claims' own days to payment.
    let report = json(&ctx, "/report Cigna").await;
    assert!(report["remittance_days_to_payment"].is_null());
    assert_eq!(
        report["claims_source"],
        json!({"kind": "claims-export", "from": t.from.to_string(), "to": t.to.to_string()})
    );
    assert_eq!(report["days_to_payment"], json!({"median": median, "p90": p90}));

    // The request letter quotes the export's figures, and says where they come from.
    let Outcome::Draft(letter) = run(&ctx, "/draft request Cigna").await else { panic!() };
    let per_client = (t.sessions * 20 + t.clients as i64) / (2 * t.clients as i64);
    let body = &letter.body;
    assert!(
        body.contains(&format!(
            "- Volume with Cigna: {} claims for {} members from {} to {}, about {}.{} sessions per member.",
            fmt_count(t.claims),
            t.clients,
            long(t.from),
            long(t.to),
            per_client / 10,
            per_client % 10
        )),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            "- Clean-claim rate: {}. No-show rate: {}.",
            share_text(t.clean, t.decided),
            share_text(t.missed, t.claims + t.missed)
        )),
        "{body}"
    );
    assert!(body.contains(&format!(
        "- Denial rate: {}. Payments reach us a median of {median} days after the date of service (90th percentile {p90} days).",
        share_text(t.denied, t.decided)
    )), "{body}");
    assert!(body.contains(&format!("- Figures: claims, sessions, unique clients, clean-claim rate, denial rate, days to payment and no-show rate from our claims records (dates of service {} to {}).", long(t.from), long(t.to))), "{body}");
    assert!(!body.contains("1,587"), "the hand-entered figures lost: {body}");
    assert_eq!(letter.figures.claims.unwrap().value as usize, t.claims);
    // The call script's volume line is the same figures, with their source.
    let Outcome::Draft(call) = run(&ctx, "/draft call Cigna").await else { panic!() };
    assert!(
        call.body.contains(&format!(
            "- Volume: {} claims for {} clients from {} to {} ({}.{} sessions per client); clean-claim rate {}",
            fmt_count(t.claims),
            t.clients,
            long(t.from),
            long(t.to),
            per_client / 10,
            per_client % 10,
            share_text(t.clean, t.decided)
        )),
        "{}",
        call.body
    );
    assert!(call.body.contains("from our claims records (dates of service"), "{}", call.body);
    assert!(letter.reply().to_text().contains("Figures quoted, with their source"));
}

fn fmt_count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[tokio::test]
async fn claims_and_remittances_each_give_their_own_figures() {
    let ctx = new_ctx().await;
    let spec = EraSpec::small(11);
    let era_cigna = era_gen::PAYERS.iter().find(|p| p.name == "CIGNA").unwrap();
    // Cigna's contract is the one the remittances were generated against.
    let mut cigna = Vec::new();
    for (cpt, _, _) in era_cigna.contract {
        cigna.push((*cpt, contract_on(era_cigna, cpt, spec.start, spec.raise_on).unwrap(), "2025-01-01"));
        cigna.push((*cpt, contract_on(era_cigna, cpt, spec.raise_on, spec.raise_on).unwrap(), "2026-07-01"));
    }
    setup(&ctx, &cigna, true).await;
    assert_eq!(spec.raise_on, d("2026-07-01"));
    let rows = claims_rows();
    import_export(&ctx, &rows).await;
    let t = claims_truth(&rows);
    let batch = era_gen::generate(&spec);
    let a = audit(&ctx).await;
    let keys = StoreKeys::load(&ctx.store, a.practice_id).await.unwrap();
    let inputs = batch.files.iter().map(|f| EraInput { name: f.name.clone(), bytes: f.bytes.clone() }).collect();
    let s = import_era(&ctx.store, &a, "p", inputs, &keys).await.unwrap();
    assert!(s.refused.is_empty(), "{:?}", s.refused);

    // What the generator wrote for CIGNA, all inside the last 12 months.
    let mine: Vec<_> = batch.claim_dates.iter().filter(|c| c.0 == "CIGNA").collect();
    assert!(mine.iter().all(|c| c.1 >= d(PERIOD_START) && c.1 <= d(TODAY)));
    let era_from = mine.iter().map(|c| c.1).min().unwrap();
    let era_to = mine.iter().map(|c| c.1).max().unwrap();
    let paid: Vec<i64> = mine.iter().filter(|c| c.3).map(|c| (c.2 - c.1).num_days()).collect();
    let (median, p90) = (nearest_rank(paid.clone(), 50), nearest_rank(paid.clone(), 90));
    let denied = batch.denied_claims["CIGNA"];
    assert_eq!(mine.len(), batch.claims_by_payer["CIGNA"]);
    let era_source = json!({"kind": "remittances", "from": era_from.to_string(), "to": era_to.to_string()});
    let claims_source = t.source();

    // /practice: remittances for days to payment and denials, the export for the rest.
    let practice = json(&ctx, "/practice show payer:Cigna").await;
    let figs = &practice["figures"][0];
    assert_eq!(figs["claims"], json!({"value": t.claims, "source": claims_source}));
    assert_eq!(figs["clean_claim_pct"], json!({"value": share_json(t.clean, t.decided), "source": claims_source}));
    assert_eq!(figs["denial_pct"], json!({"value": share_json(denied, mine.len()), "source": era_source}));
    assert_eq!(
        figs["days_to_payment"],
        json!({"value": {"median": median, "p90": p90, "average": null}, "source": era_source})
    );

    // /report: the remittances' days beside the claims' own, labelled.
    let report = json(&ctx, "/report Cigna").await;
    assert_eq!(report["remittance_days_to_payment"], json!({"median": median, "p90": p90, "source": era_source}));
    assert_eq!(
        report["days_to_payment"],
        json!({"median": nearest_rank(t.days.clone(), 50), "p90": nearest_rank(t.days.clone(), 90)})
    );
    let text = run(&ctx, "/report Cigna").await.reply().to_text();
    assert!(
        text.contains(&format!(
            "median {median} days, 90th percentile {p90} days (remittances covering {era_from} to {era_to})"
        )),
        "{text}"
    );

    // /walkaway: days from the remittances, clean claims from the export, denials from the remittances.
    let card = json(&ctx, "/walkaway Cigna").await;
    let days = flag(&card, "chronic payment delays");
    assert_eq!(days["source"], era_source);
    assert!(days["evidence"]
        .as_str()
        .unwrap()
        .starts_with(&format!("median {median} days, 90th percentile {p90} days")));
    let admin = flag(&card, "heavy admin burden");
    assert_eq!(admin["source"], claims_source);
    assert!(
        admin["evidence"].as_str().unwrap().contains(&format!(
            ", {} denied (remittances covering {era_from} to {era_to})",
            share_text(denied, mine.len())
        )),
        "{admin}"
    );

    // /rates: what arrives against the contract, from the remittances of the last 12 months.
    let rates = json(&ctx, "/rates Cigna").await;
    let shorts: Vec<_> = batch.shorts.iter().filter(|x| x.payer == "CIGNA").collect();
    let short_cents: i64 = shorts.iter().map(|x| x.contract - x.allowed).sum();
    assert!(!shorts.is_empty());
    // One contracted line per paid claim (the add-on has no contract rate and is not judged).
    let lines = mine.iter().filter(|c| c.3).count();
    assert_eq!(
        rates["remittances"],
        json!({"lines": lines, "below": shorts.len(), "below_cents": short_cents, "above": 0})
    );
    let text = run(&ctx, "/rates Cigna").await.reply().to_text();
    assert!(
        text.contains(&format!(
            "Of {lines} remittance lines in the last 12 months, {} were allowed below the contract ({} short in all: /underpayments Cigna) and 0 above it.",
            shorts.len(),
            raterise_commands::domain::Cents(short_cents)
        )),
        "{text}"
    );
    // Volume still from the claims.
    assert_eq!(row(&rates, "90837")["weekly_volume"], t.weekly("CIGNA Healthcare", "90837"));

    // The request letter: the remittances' days and denials, the export's volume, both sources named.
    let Outcome::Draft(letter) = run(&ctx, "/draft request Cigna").await else { panic!() };
    let body = &letter.body;
    assert!(body.contains(&format!(
        "- Denial rate: {}. Payments reach us a median of {median} days after the date of service (90th percentile {p90} days).",
        share_text(denied, mine.len())
    )), "{body}");
    assert!(body.contains(&format!(
        "- Figures: claims, sessions, unique clients, clean-claim rate and no-show rate from our claims records (dates of service {} to {}); denial rate and days to payment from your remittance advice (dates of service {} to {}).",
        long(t.from), long(t.to), long(era_from), long(era_to)
    )), "{body}");
    assert!(letter.reply().to_text().contains("Figures quoted, with their source"));
}

fn long(d: NaiveDate) -> String {
    raterise_commands::handlers::draft::long_date(d)
}

#[tokio::test]
async fn remittances_alone_fill_the_figures_the_claims_would_give() {
    let ctx = new_ctx().await;
    setup(&ctx, &claims_contracts(), true).await;
    let batch = era_gen::generate(&EraSpec::small(11));
    let a = audit(&ctx).await;
    let keys = StoreKeys::load(&ctx.store, a.practice_id).await.unwrap();
    let inputs = batch.files.iter().map(|f| EraInput { name: f.name.clone(), bytes: f.bytes.clone() }).collect();
    import_era(&ctx.store, &a, "p", inputs, &keys).await.unwrap();
    let mine: Vec<_> = batch.claim_dates.iter().filter(|c| c.0 == "CIGNA").collect();
    let denied = batch.denied_claims["CIGNA"];
    let era = json!({
        "kind": "remittances",
        "from": mine.iter().map(|c| c.1).min().unwrap().to_string(),
        "to": mine.iter().map(|c| c.1).max().unwrap().to_string(),
    });
    let hand = json!({"kind": "hand-entered", "from": "2025-01-01", "to": "2025-12-31"});
    let practice = json(&ctx, "/practice show payer:Cigna").await;
    let figs = &practice["figures"][0];
    // No claims export: the remittances' claims and clean share win over the typed ones...
    assert_eq!(figs["claims"], json!({"value": mine.len(), "source": era}));
    assert_eq!(figs["clean_claim_pct"], json!({"value": share_json(mine.len() - denied, mine.len()), "source": era}));
    // ...and what remittances cannot know stays as typed.
    assert_eq!(figs["no_show_pct"], json!({"value": 5.8, "source": hand}));
    assert!(figs["sessions"].is_null());
    // No volume from claims without a claims export.
    let rates = json(&ctx, "/rates Cigna").await;
    assert!(rates["volume_from_claims"].is_null());
    assert_eq!(row(&rates, "90837")["weekly_volume"], 0);
    // /report still needs a claims export, and says so.
    let err = dispatch(&ctx, &demo::invocation("p", "/report Cigna").unwrap()).await.unwrap_err();
    assert!(err.user_message().contains("import claims"), "{}", err.user_message());
}
