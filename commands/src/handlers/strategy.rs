//! /strategy PAYER: what works with this kind of payer (DOMAIN, "By kind of payer" and "What to
//! bring"), checked against what the practice has on file, with its own numbers.

use super::{practice_today, resolve_payer, Outcome};
use crate::analysis::{self, PayerTiming};
use crate::context::Ctx;
use crate::domain::stage::Stage;
use crate::domain::{Cents, PayerKind};
use crate::error::AppError;
use crate::invocation::Invocation;
use crate::reply::Reply;
use crate::store::Practice;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub item: &'static str,
    pub ready: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StrategyReport {
    pub payer: String,
    pub kind: PayerKind,
    pub approach: String,
    pub levers: Vec<&'static str>,
    pub avoid: Vec<&'static str>,
    pub expected: String,
    pub readiness: Vec<Readiness>,
    pub ask_total_yearly_cents: Cents,
    pub weighted_pct_of_medicare: Option<f64>,
    pub timing: String,
    /// False for a fixed schedule (Medicare, Medicaid): a benchmark, nothing to negotiate.
    pub negotiable: bool,
    /// After an agreement: the next opening, until which there is nothing to ask.
    pub ask_waits_until: Option<chrono::NaiveDate>,
    /// `/negotiate start` would be accepted (in network, or applying).
    #[serde(skip)]
    pub can_start: bool,
}

fn approach(kind: PayerKind) -> (&'static str, Vec<&'static str>) {
    match kind {
        PayerKind::Commercial => (
            "Commercial plans are where raises are won. Make the case with numbers: what you cost them against Medicare and your other payers, and why their members need you.",
            vec![
                "network adequacy: gaps in your area, specialty or language that you fill",
                "quality data: outcome measures and clean claims",
                "high utilization: how many of their members you see, and how steadily",
                "specialty services (EMDR, DBT, child and adolescent, substance use, telehealth)",
            ],
        ),
        PayerKind::Mbho => (
            "Behavioral carve-outs run their own contracting and are the most data-driven: lead with outcomes and efficiency, not with cost.",
            vec![
                "measured outcomes (PHQ-9, GAD-7 change) and completion rates",
                "efficiency: sessions per episode, fewer ER visits or hospital stays, step-downs from higher care",
                "evidence-based methods your clinicians are trained in",
                "clean claims and low no-show rates",
            ],
        ),
        PayerKind::Eap => (
            "EAPs often pay 30-50% below commercial plans but feed intake. Negotiate the terms around the rate as much as the rate itself.",
            vec![
                "a volume commitment in exchange for a better rate",
                "session-tiered rates (more for the first sessions of an episode)",
                "less paperwork per session",
                "geographic exclusivity in your area",
            ],
        ),
        PayerKind::ManagedMedicaid => (
            "Managed Medicaid plans follow the state's schedule but have some room, especially where they struggle to show an adequate network.",
            vec![
                "network adequacy: wait times and distances their members face without you",
                "access: evening hours, telehealth, languages",
                "quality data and clean claims",
            ],
        ),
        PayerKind::Medicaid => (
            "State Medicaid rates are set by the state and not negotiated one practice at a time. Work through your state professional association.",
            vec!["advocacy through associations", "managed Medicaid plans, where contracts have room"],
        ),
        PayerKind::Medicare => (
            "Medicare pays one schedule to everyone in the locality: there is nothing to negotiate. Use it as the yardstick for every other payer.",
            vec!["quote the Medicare amount for your locality when asking other payers"],
        ),
    }
}

const AVOID: &[&str] = &[
    "emotion without data",
    "threatening to leave as an opening move",
    "vague asks: name a rate per code",
    "giving up after one no",
    "comparing yourself to physicians",
    "asking mid-contract without a reason",
];

pub async fn run(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = resolve_payer(ctx, practice, inv.required("payer")?).await?;
    let report = super::rates::report_for(ctx, inv, practice, &payer).await?;
    let file = ctx.store.case_file(practice.id).await?;
    let cases = ctx.store.cases_for_payer(practice.id, payer.id).await?;
    let q = crate::command_line::quote(&payer.name);
    let (text, levers) = approach(payer.kind);
    let won_before = cases.iter().any(|c| c.stage == Stage::Accepted);
    let expected = if !payer.kind.is_negotiable() {
        "No raise to expect from the payer itself.".to_string()
    } else if won_before {
        "A later round: raises of 3-10% are typical every few years.".to_string()
    } else {
        "A first negotiation: raises of 5-25% are typical.".to_string()
    };
    let utilization = file.utilization_for(&payer.name);
    // The figures in use: imports where they cover the last 12 months, else as typed.
    let today = super::practice_today(ctx, practice);
    let figs = crate::figures::payer_figures(
        &ctx.store,
        practice.id,
        &payer,
        utilization,
        crate::figures::period(today, crate::figures::DEFAULT_MONTHS),
    )
    .await?;
    let negotiable = payer.kind.is_negotiable();
    let readiness = if !negotiable {
        vec![]
    } else {
        vec![
            Readiness {
                item: "contracting contact",
                ready: payer.contact_name.is_some() || payer.contact_email.is_some(),
                detail: match (&payer.contact_name, &payer.contact_email) {
                    (Some(n), _) => n.clone(),
                    (None, Some(e)) => e.clone(),
                    _ => format!("find provider contracting, then /payer edit name:{q} contact_name:… contact_email:…"),
                },
            },
            Readiness {
                item: "rates on file",
                ready: !report.rows.is_empty(),
                detail: format!("{} codes with a current rate", report.rows.len()),
            },
            Readiness {
                item: "utilization with this payer",
                ready: figs.claims.is_some(),
                detail: match (figs.claims, figs.unique_clients) {
                    (Some(c), Some(u)) if c.source == u.source => {
                        format!("{} claims, {} clients ({})", c.value, u.value, c.source)
                    }
                    (Some(c), _) => format!("{} claims ({})", c.value, c.source),
                    (None, _) => format!(
                        "/practice utilization payer:{q} from:… to:… claims:… patients:… (or raterise import claims FILE)"
                    ),
                },
            },
            Readiness {
                item: "outcome measures",
                ready: !file.outcomes.is_empty(),
                detail: if file.outcomes.is_empty() {
                    "/practice outcome measure:PHQ-9 clients:… improved:…%".into()
                } else {
                    file.outcomes.iter().map(|o| o.measure.clone()).collect::<Vec<_>>().join(", ")
                },
            },
            Readiness {
                item: "credentials and specialties",
                ready: !file.credentials.is_empty(),
                detail: if file.credentials.is_empty() {
                    "/practice credential name:… (e.g. EMDR)".into()
                } else {
                    file.credentials.iter().map(|c| c.name.clone()).collect::<Vec<_>>().join(", ")
                },
            },
        ]
    };
    let stale_since = report
        .rows
        .iter()
        .flat_map(|r| r.flags.iter())
        .filter_map(|f| match f {
            analysis::Flag::Unchanged { since } => Some(*since),
            _ => None,
        })
        .min();
    let timing = analysis::next_step(
        &PayerTiming {
            kind: payer.kind,
            status: payer.status,
            renewal_date: payer.renewal_date,
            notice_days: payer.notice_days,
            last_case: cases.first().map(analysis::LastCase::from),
        },
        &payer.name,
        report.rows.iter().any(|r| !r.flags.is_empty()),
        stale_since,
        practice_today(ctx, practice),
    );
    Ok(Outcome::Strategy(StrategyReport {
        payer: payer.name,
        kind: payer.kind,
        approach: text.to_string(),
        levers,
        avoid: if negotiable { AVOID.to_vec() } else { vec![] },
        expected,
        readiness,
        ask_total_yearly_cents: report.yearly_impact_cents,
        weighted_pct_of_medicare: report.weighted_pct_of_medicare,
        timing,
        negotiable,
        ask_waits_until: report.ask_waits_until,
        can_start: matches!(payer.status, crate::domain::PayerStatus::InNetwork | crate::domain::PayerStatus::Applying),
    }))
}

impl StrategyReport {
    pub fn reply(&self) -> Reply {
        let q = crate::command_line::quote(&self.payer);
        let mut r = Reply::new(format!("Strategy: {} ({})", self.payer, self.kind.label())).text(self.approach.clone());
        if let Some(p) = self.weighted_pct_of_medicare {
            r = r.text(format!(
                "Today {} pays {p:.1}% of Medicare (volume-weighted); the suggested ask is worth {} a year. {}",
                self.payer, self.ask_total_yearly_cents, self.expected
            ));
        } else {
            r = r.text(self.expected.clone());
        }
        if !self.negotiable {
            // A benchmark, not a negotiation: no case file, no script, no ask.
            return r
                .notes("How to use it", self.levers.iter().map(|s| s.to_string()).collect())
                .notes("When", vec![self.timing.clone()])
                .action("Compare your payers", "/rates");
        }
        let ready = self.readiness.iter().filter(|x| x.ready).count();
        let r = r
            .notes("Your leverage", self.levers.iter().map(|s| s.to_string()).collect())
            .notes(
                format!("Your case file ({ready} of {} ready)", self.readiness.len()),
                self.readiness
                    .iter()
                    .map(|x| format!("[{}] {}: {}", if x.ready { "x" } else { " " }, x.item, x.detail))
                    .collect(),
            )
            .notes("What does not work", self.avoid.iter().map(|s| s.to_string()).collect())
            .notes("When", vec![self.timing.clone()]);
        if self.ask_waits_until.is_some() || !self.can_start {
            return r.action("Timing", "/timing");
        }
        r.action("Phone script", format!("/draft call payer:{q}"))
            .action("Start a negotiation", format!("/negotiate start payer:{q}"))
    }
}
