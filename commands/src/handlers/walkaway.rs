//! /walkaway PAYER: the red-flag scorecard (DOMAIN, "When to walk away"), scored from the
//! practice's own numbers, with what to do before leaving.

use super::{practice_today, resolve_payer, Outcome};
use crate::analysis::WALK_AWAY_PCT_OF_MEDICARE;
use crate::context::Ctx;
use crate::domain::stage::Stage;
use crate::domain::{div_round_half_up, Cents};
use crate::error::AppError;
use crate::figures::{self, Source};
use crate::invocation::Invocation;
use crate::reply::{Align, Reply, Table, Tone};
use crate::store::Practice;
use serde::Serialize;

/// Payment slower than this many days is a chronic delay.
pub const SLOW_PAYMENT_DAYS: i64 = 60;
/// Fewer claims paid cleanly than this (basis points) means denials and rework eat the rate.
pub const CLEAN_CLAIM_FLOOR_BP: i64 = 9_000;
/// A panel bringing less than this share of the practice's sessions (basis points) is low volume.
pub const LOW_VOLUME_SHARE_BP: i64 = 500;
/// Cases without movement before persistence stops paying.
pub const FRUITLESS_CASES: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The flag applies.
    Red,
    /// Close to the line.
    Watch,
    Clear,
    /// The practice has not recorded what this needs.
    Unknown,
}

#[derive(Debug, Clone, Serialize)]
pub struct RedFlag {
    pub flag: &'static str,
    pub verdict: Verdict,
    pub evidence: String,
    /// How to record what is missing, when the verdict is unknown.
    pub to_record: Option<String>,
    /// Where the figure behind the verdict comes from, when it is one of the practice's figures.
    pub source: Option<Source>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WalkawayScorecard {
    pub payer: String,
    pub red: usize,
    pub known: usize,
    pub flags: Vec<RedFlag>,
    pub recommendation: String,
    pub yearly_sessions: i64,
    pub yearly_revenue_cents: Cents,
    pub unique_patients: Option<i64>,
    /// The practice's figures with this payer behind the scorecard, each with its source.
    pub figures: figures::PayerFigures,
    pub before_leaving: Vec<String>,
    #[serde(skip)]
    pub negotiable: bool,
    /// Traditional Medicare has no network to leave (one opts out instead).
    #[serde(skip)]
    pub has_network: bool,
}

fn bp(v: i64) -> String {
    format!("{}.{}%", v / 100, (v % 100) / 10)
}

pub async fn run(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = resolve_payer(ctx, practice, inv.required("payer")?).await?;
    let q = crate::command_line::quote(&payer.name);
    let report = super::rates::report_for(ctx, inv, practice, &payer).await?;
    let today = practice_today(ctx, practice);
    let file = ctx.store.case_file(practice.id).await?;
    let utilization = file.utilization_for(&payer.name).cloned();
    let mut all_codes = ctx.store.practice_code_rates(practice.id, today).await?;
    let (volume_sources, _) = figures::with_volume(&ctx.store, practice.id, None, today, &mut all_codes).await?;
    let mut flags = Vec::new();

    // 1. Rates below 80% of Medicare.
    let priced: Vec<_> = report.rows.iter().filter(|r| r.pct_of_medicare.is_some()).collect();
    let below: Vec<String> = priced
        .iter()
        .filter(|r| r.pct_of_medicare.unwrap_or(100.0) < WALK_AWAY_PCT_OF_MEDICARE as f64)
        .map(|r| format!("{} at {:.1}%", r.cpt, r.pct_of_medicare.unwrap_or_default()))
        .collect();
    flags.push(if priced.is_empty() {
        RedFlag {
            flag: "rates below 80% of Medicare",
            verdict: Verdict::Unknown,
            evidence: "no rates with a Medicare amount on file".into(),
            to_record: Some(format!("/rate set payer:{q} cpt:90837 amount:…")),
            source: None,
        }
    } else {
        let worst = report.weighted_pct_of_medicare;
        RedFlag {
            flag: "rates below 80% of Medicare",
            verdict: if !below.is_empty() {
                Verdict::Red
            } else if worst.is_some_and(|w| w < 90.0) {
                Verdict::Watch
            } else {
                Verdict::Clear
            },
            evidence: if below.is_empty() {
                format!(
                    "every code at or above {WALK_AWAY_PCT_OF_MEDICARE}%{}",
                    worst.map(|w| format!(" ({w:.1}% volume-weighted)")).unwrap_or_default()
                )
            } else {
                below.join(", ")
            },
            to_record: None,
            source: None,
        }
    });

    // 2. Chronic payment delays and 3. admin burden: the figures in use (imports win over what
    // was typed; see `figures`), with their source.
    let figs = figures::payer_figures(
        &ctx.store,
        practice.id,
        &payer,
        utilization.as_ref(),
        figures::period(today, figures::DEFAULT_MONTHS),
    )
    .await?;
    let record_utilization =
        format!("/practice utilization payer:{q} from:… to:… claims:… patients:… clean_claims:…% days_to_pay:…");
    let days = figs.days_to_payment.and_then(|f| f.value.typical().map(|d| (d, f)));
    flags.push(match days {
        Some((days, f)) => RedFlag {
            flag: "chronic payment delays",
            verdict: if days >= SLOW_PAYMENT_DAYS {
                Verdict::Red
            } else if days >= 45 {
                Verdict::Watch
            } else {
                Verdict::Clear
            },
            evidence: format!("{} from service to payment ({})", f.value.text(), f.source),
            to_record: None,
            source: Some(f.source),
        },
        None => RedFlag {
            flag: "chronic payment delays",
            verdict: Verdict::Unknown,
            evidence: "days to payment not recorded".into(),
            to_record: Some(record_utilization.clone()),
            source: None,
        },
    });
    flags.push(match figs.clean_claim_pct {
        Some(f) => RedFlag {
            flag: "heavy admin burden (denials, rework)",
            verdict: if f.value.below_bp(CLEAN_CLAIM_FLOOR_BP) {
                Verdict::Red
            } else if f.value.below_bp(9_500) {
                Verdict::Watch
            } else {
                Verdict::Clear
            },
            evidence: format!(
                "{} of claims paid without denial or rework{} ({})",
                f.value.text(),
                figs.denial_pct.map(|d| format!(", {} denied ({})", d.value.text(), d.source)).unwrap_or_default(),
                f.source
            ),
            to_record: None,
            source: Some(f.source),
        },
        None => RedFlag {
            flag: "heavy admin burden (denials, rework)",
            verdict: Verdict::Unknown,
            evidence: "clean-claim rate not recorded".into(),
            to_record: Some(record_utilization),
            source: None,
        },
    });

    // 4. Low client volume from the plan.
    let practice_weekly: i64 = all_codes.iter().filter(|c| c.current.is_some()).map(|c| c.weekly_volume).sum();
    let payer_weekly: i64 =
        all_codes.iter().filter(|c| c.payer_id == payer.id && c.current.is_some()).map(|c| c.weekly_volume).sum();
    flags.push(if practice_weekly == 0 {
        RedFlag {
            flag: "low client volume from the plan",
            verdict: Verdict::Unknown,
            evidence: "no weekly volume recorded for any payer".into(),
            to_record: Some(format!("/payer edit name:{q} volume:\"90837=10 90834=5\"")),
            source: None,
        }
    } else {
        let share = div_round_half_up(payer_weekly as i128 * 10_000, practice_weekly as i128) as i64;
        let from_claims = all_codes
            .iter()
            .filter(|c| c.current.is_some())
            .filter_map(|c| volume_sources.of(c.payer_id, &c.cpt))
            .find(|s| s.is_import());
        RedFlag {
            flag: "low client volume from the plan",
            verdict: if share < LOW_VOLUME_SHARE_BP { Verdict::Red } else { Verdict::Clear },
            evidence: format!(
                "{payer_weekly} of the practice's {practice_weekly} weekly sessions ({}){}",
                bp(share),
                from_claims.map(|s| format!("; volume from the {s} where none was set by hand")).unwrap_or_default()
            ),
            to_record: None,
            source: from_claims.or(Some(Source::HandSet)),
        }
    });

    // 5. Repeated good-faith attempts without movement.
    let cases = ctx.store.cases_for_payer(practice.id, payer.id).await?;
    // A walk-away is the end of attempts that did not move the payer: it counts with them.
    let fruitless =
        cases.iter().filter(|c| matches!(c.stage, Stage::Denied | Stage::Withdrawn | Stage::WalkedAway)).count();
    let moved = cases.iter().filter(|c| c.stage == Stage::Accepted).count();
    flags.push(RedFlag {
        flag: "repeated attempts without movement",
        verdict: if fruitless >= FRUITLESS_CASES && moved == 0 {
            Verdict::Red
        } else if fruitless >= 1 {
            Verdict::Watch
        } else {
            Verdict::Clear
        },
        evidence: if cases.is_empty() {
            "no negotiation recorded yet".into()
        } else {
            format!(
                "{} negotiation{}: {fruitless} denied, withdrawn or walked away from, {moved} agreed",
                cases.len(),
                if cases.len() == 1 { "" } else { "s" }
            )
        },
        to_record: None,
        source: None,
    });

    let red = flags.iter().filter(|f| f.verdict == Verdict::Red).count();
    let known = flags.iter().filter(|f| f.verdict != Verdict::Unknown).count();
    let recommendation = if !payer.kind.is_negotiable() && red > 0 {
        format!("{} sets its rates by schedule, so there is no raise to win: weigh these flags against the clients it brings, and whether to keep taking new ones.", payer.name)
    } else if red >= 3 {
        format!("{red} red flags: leaving {} is worth weighing seriously. Count the affected clients, then give notice and refer with care.", payer.name)
    } else if red >= 1 {
        format!(
            "{}: negotiate first, with these numbers on the table; walk away only if the payer will not move.",
            crate::domain::plural(red as i64, "red flag")
        )
    } else if known < 3 {
        "Too little is recorded to judge; fill in what is missing below.".to_string()
    } else {
        format!("No red flags: {} is worth keeping; work on the rate through negotiation, not exit.", payer.name)
    };
    let yearly_sessions = payer_weekly * practice.weeks_per_year;
    let yearly_revenue_cents = Cents(
        all_codes
            .iter()
            .filter(|c| c.payer_id == payer.id)
            .filter_map(|c| c.current.map(|cur| cur.amount.0 * c.weekly_volume * practice.weeks_per_year))
            .sum(),
    );
    let unique_patients = figs.unique_clients.map(|f| f.value);
    let before_leaving = vec![
        format!(
            "Count who is affected: about {yearly_sessions} sessions a year{}, and check each client's out-of-network benefits.",
            unique_patients.map(|n| format!(" across {n} clients")).unwrap_or_default()
        ),
        "Give 30 to 60 days' notice to the payer and to clients, as the contract requires.".into(),
        "Line up in-network colleagues to refer clients who need to stay in network.".into(),
        "Consider a reduced out-of-network rate for established clients during the transition.".into(),
    ];
    Ok(Outcome::Walkaway(WalkawayScorecard {
        payer: payer.name,
        red,
        known,
        flags,
        recommendation,
        yearly_sessions,
        yearly_revenue_cents,
        unique_patients,
        figures: figs,
        before_leaving,
        negotiable: payer.kind.is_negotiable(),
        has_network: payer.kind != crate::domain::PayerKind::Medicare,
    }))
}

impl WalkawayScorecard {
    pub fn reply(&self) -> Reply {
        let q = crate::command_line::quote(&self.payer);
        let mut t = Table::new(&[("Red flag", Align::Left), ("Status", Align::Left), ("Evidence", Align::Left)]);
        for f in &self.flags {
            let mark = match f.verdict {
                Verdict::Red => "RED",
                Verdict::Watch => "watch",
                Verdict::Clear => "ok",
                Verdict::Unknown => "?",
            };
            t.push(vec![f.flag.to_string(), mark.to_string(), f.evidence.clone()]);
        }
        let missing: Vec<String> =
            self.flags.iter().filter_map(|f| f.to_record.as_ref().map(|r| format!("{}: {r}", f.flag))).collect();
        let r =
            Reply::new(format!("Walk-away scorecard: {} ({} of {} known flags red)", self.payer, self.red, self.known))
                .tone(if self.red >= 3 { Tone::Warning } else { Tone::Info })
                .table(t)
                .text(self.recommendation.clone())
                .notes("To record", missing)
                .notes("Before leaving a panel", self.before_leaving.clone())
                .footer(format!(
                    "{} brings about {} a year at today's rates and volume.",
                    self.payer, self.yearly_revenue_cents
                ));
        let r = if self.negotiable { r.action("Negotiate first", format!("/negotiate start payer:{q}")) } else { r };
        if self.has_network {
            r.action("Draft the client notice", format!("/draft exit-notice payer:{q}"))
        } else {
            r
        }
    }
}
