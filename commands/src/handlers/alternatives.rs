//! /alternatives PAYER: the guide's alternatives when a raise is not coming (DOMAIN, "When
//! negotiation fails"), each worked out with the practice's own numbers: joining a group or
//! IPA, specialty designations, the 90837-vs-90834 mix and going out of network.
//!
//! Every assumption is an option with a stated default, listed in the answer, so the practice
//! can replace ours with its own. Rates and weekly volume come from the same place /rates takes
//! them (`rates::report_for`, which asks `figures` which volume wins); clients and sessions from
//! `figures::payer_figures`. Money is integer cents, rounded once per figure.

use super::{practice_today, resolve_payer, Outcome};
use crate::context::Ctx;
use crate::domain::{div_round_half_up, Cents, PayerKind, PayerStatus};
use crate::error::AppError;
use crate::figures::{self, Figure, Source};
use crate::invocation::Invocation;
use crate::reply::Reply;
use crate::store::case_file::CredentialKind;
use crate::store::Practice;
use chrono::NaiveDate;
use serde::Serialize;

/// Defaults of the assumptions, each changeable through the option of the same name.
pub const DEFAULT_MINUTES_90834: i64 = 45;
pub const DEFAULT_MINUTES_90837: i64 = 60;
pub const DEFAULT_SHIFT_PCT: i64 = 25;
/// Share of the full fee collected out of network (the plan's reimbursement plus what the
/// client pays): out-of-network benefits commonly pay well under the billed fee.
pub const DEFAULT_OON_SHARE_PCT: i64 = 60;
pub const DEFAULT_STAY_PCT: i64 = 100;
pub const DEFAULT_UPLIFT_PCT: i64 = 10;
/// A practice of this many clinicians or fewer has little weight of its own at the table.
pub const DEFAULT_SMALL: i64 = 5;
/// The guide's red line: below 80% of Medicare.
const LOW_PCT_OF_MEDICARE: f64 = 80.0;

/// One assumption: the option that changes it, its value, and whether it is our default.
#[derive(Debug, Clone, Serialize)]
pub struct Assumption {
    pub option: &'static str,
    pub value: String,
    pub default: bool,
    pub meaning: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupSection {
    /// Clinicians on file (summed over the licenses recorded with a count).
    pub clinicians: Option<i64>,
    pub credentials: Vec<String>,
    pub small_practice: Option<bool>,
    /// This payer's volume-weighted (or plain) share of Medicare today.
    pub pct_of_medicare: Option<f64>,
    pub what_it_is: &'static str,
    pub assessment: String,
    pub to_add: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Designation {
    pub name: String,
    pub clinicians: Option<i64>,
    /// The specialty's clinicians over all clinicians: the share of this payer's sessions
    /// assumed to be theirs.
    pub share_of_sessions_pct: Option<f64>,
    /// The enhanced rate (uplift) on that share of this payer's yearly revenue.
    pub yearly_value_cents: Option<Cents>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DesignationSection {
    pub specialties: Vec<Designation>,
    pub uplift_pct: i64,
    pub yearly_revenue_cents: Option<Cents>,
    pub to_add: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionMix {
    pub minutes_90834: i64,
    pub minutes_90837: i64,
    pub rate_90834_cents: Option<Cents>,
    pub rate_90837_cents: Option<Cents>,
    pub per_hour_90834_cents: Option<Cents>,
    pub per_hour_90837_cents: Option<Cents>,
    pub weekly_90834: i64,
    pub weekly_90837: i64,
    pub volume_source: Option<Source>,
    pub yearly_90834_sessions: i64,
    pub shift_pct: i64,
    /// Whole sessions a year moved from 90834 to 90837 (a session moves whole).
    pub moved_sessions: i64,
    pub yearly_change_cents: Option<Cents>,
    /// Clinician time the longer sessions take, in minutes a year.
    pub extra_minutes_per_year: i64,
    pub to_add: Vec<String>,
}

/// Where the full fee comes from.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FeeSource {
    /// The `fee:` option, for every code.
    Option,
    /// The amount the practice bills most often per code in its claims export.
    Claims(Source),
}

#[derive(Debug, Clone, Serialize)]
pub struct OonCode {
    pub cpt: String,
    pub fee_cents: Option<Cents>,
    pub rate_cents: Cents,
    pub yearly_sessions: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutOfNetwork {
    /// Why the figures do not apply to this kind of payer, if they do not.
    pub not_applicable: Option<String>,
    pub fee_cents: Option<Cents>,
    pub fee_source: Option<FeeSource>,
    pub oon_share_pct: i64,
    pub stay_pct: i64,
    pub collected_per_session_cents: Option<Cents>,
    /// Volume-weighted in-network rate over the codes with volume.
    pub in_network_per_session_cents: Option<Cents>,
    pub yearly_sessions: i64,
    pub volume_source: Option<Source>,
    pub unique_clients: Option<Figure<i64>>,
    pub sessions_on_file: Option<Figure<i64>>,
    /// Each code with volume, its fee and in-network rate.
    pub codes: Vec<OonCode>,
    /// Codes with volume but no fee on file: left out of both sides.
    pub codes_without_fee: Vec<String>,
    pub yearly_in_network_cents: Option<Cents>,
    pub yearly_out_of_network_cents: Option<Cents>,
    pub yearly_change_cents: Option<Cents>,
    pub to_add: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlternativesReport {
    pub payer: String,
    pub kind: PayerKind,
    pub status: PayerStatus,
    pub as_of: NaiveDate,
    pub weeks_per_year: i64,
    pub assumptions: Vec<Assumption>,
    pub group: GroupSection,
    pub designations: DesignationSection,
    pub session_mix: SessionMix,
    pub out_of_network: OutOfNetwork,
}

/// A whole percentage from `25` or `25%`, within `lo..=hi`.
fn percent(inv: &Invocation, name: &str, default: i64, lo: i64, hi: i64) -> Result<(i64, bool), AppError> {
    let Some(raw) = inv.opt(name) else { return Ok((default, true)) };
    let v = raw.trim_end_matches('%').trim();
    match v.parse::<i64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok((n, n == default)),
        _ => Err(AppError::user(format!(
            "{name}: `{raw}` is not a whole percentage from {lo} to {hi}; write e.g. {name}:{default}"
        ))),
    }
}

/// Minutes of a timed code: within the range the code is billed for.
fn minutes(inv: &Invocation, name: &str, default: i64, lo: i64, hi: i64, code: &str) -> Result<(i64, bool), AppError> {
    match inv.integer(name)? {
        None => Ok((default, true)),
        Some(m) if (lo..=hi).contains(&m) => Ok((m, m == default)),
        Some(m) => Err(AppError::user(format!(
            "{name}: {m} minutes is not a {code} session; {code} is billed for {lo} to {hi} minutes of psychotherapy"
        ))),
    }
}

/// Per clinical hour: the rate over the session's minutes, times 60, rounded once.
fn per_hour(rate: Cents, minutes: i64) -> Cents {
    Cents(div_round_half_up(rate.0 as i128 * 60, minutes as i128) as i64)
}

fn pct_tenths(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| div_round_half_up(part as i128 * 1000, whole as i128) as f64 / 10.0)
}

pub async fn run(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = resolve_payer(ctx, practice, inv.required("payer")?).await?;
    if !payer.kind.is_negotiable() {
        // A fixed schedule is the benchmark the alternatives are measured against, not a payer
        // to find alternatives to.
        let why = match payer.kind {
            PayerKind::Medicare => "Medicare pays one schedule to everyone in your locality, and traditional Medicare has no network to leave (only opting out)",
            _ => "Medicaid rates are set by the state for every provider",
        };
        return Err(AppError::user(format!(
            "{} is a benchmark, not a payer to weigh alternatives to: {why}. /rates compares your other payers with it; /alternatives works for commercial, MBHO, EAP and managed Medicaid payers.",
            payer.name
        )));
    }
    let (m34, d34) = minutes(inv, "minutes_90834", DEFAULT_MINUTES_90834, 38, 52, "90834")?;
    let (m37, d37) = minutes(inv, "minutes_90837", DEFAULT_MINUTES_90837, 53, 90, "90837")?;
    let (shift, dshift) = percent(inv, "shift", DEFAULT_SHIFT_PCT, 0, 100)?;
    let (share, dshare) = percent(inv, "oon_share", DEFAULT_OON_SHARE_PCT, 0, 100)?;
    let (stay, dstay) = percent(inv, "stay", DEFAULT_STAY_PCT, 0, 100)?;
    let (uplift, duplift) = percent(inv, "uplift", DEFAULT_UPLIFT_PCT, 0, 100)?;
    let small = inv.integer("small")?.unwrap_or(DEFAULT_SMALL);
    if small < 1 {
        return Err(AppError::user("small: write how many clinicians count as a small practice, 1 or more"));
    }
    let fee = match inv.money("fee")? {
        Some(c) if c.0 <= 0 => return Err(AppError::user("fee: write your full fee per session, e.g. fee:200")),
        other => other,
    };

    let report = super::rates::report_for(ctx, inv, practice, &payer).await?;
    let file = ctx.store.case_file(practice.id).await?;
    let today = practice_today(ctx, practice);
    let figs = figures::payer_figures(
        &ctx.store,
        practice.id,
        &payer,
        file.utilization_for(&payer.name),
        figures::period(today, figures::DEFAULT_MONTHS),
    )
    .await?;
    let usual = match fee {
        Some(_) => None,
        None => figures::usual_fees(&ctx.store, practice.id, figures::period(today, figures::DEFAULT_MONTHS)).await?,
    };
    let weeks = match inv.integer("weeks")? {
        None => practice.weeks_per_year,
        Some(w) if (1..=52).contains(&w) => w,
        Some(w) => {
            return Err(AppError::user(format!("weeks: {w} is not a number of working weeks in a year; write 1 to 52")))
        }
    };
    let q = crate::command_line::quote(&payer.name);

    // What the payer brings in a year at the rates on file and the current volume.
    let weekly_sessions: i64 = report.rows.iter().map(|r| r.weekly_volume).sum();
    let weekly_revenue: i64 = report.rows.iter().map(|r| r.rate_cents.0 * r.weekly_volume).sum();
    let yearly_revenue = (weekly_sessions > 0).then(|| Cents(weekly_revenue * weeks));
    let volume_source = report.rows.iter().find(|r| r.weekly_volume > 0).and_then(|r| r.weekly_volume_source);
    let add_rates = format!("/rate set payer:{q} cpt:90837 amount:…");
    let add_volume = format!("/payer edit name:{q} volume:\"90834=10 90837=15\" (or raterise import claims FILE)");

    // The practice's size and credentials.
    let licenses: Vec<_> = file.credentials.iter().filter(|c| c.kind == CredentialKind::Credential).collect();
    let counted: Vec<i64> = licenses.iter().filter_map(|c| c.clinicians).collect();
    let clinicians = (!counted.is_empty()).then(|| counted.iter().sum::<i64>());
    let small_practice = clinicians.map(|n| n <= small);
    let pct = report.weighted_pct_of_medicare;
    let group = {
        let mut to_add = vec![];
        if clinicians.is_none() {
            to_add
                .push("/practice credential name:LCSW kind:credential clinicians:… (one line per license)".to_string());
        }
        let size = match (clinicians, small_practice) {
            (Some(n), Some(true)) => format!(
                "With {n} clinician{} on file you are a small practice (small:{small} or fewer): a group or IPA brings the weight of its whole network to the table, which helps most here.",
                if n == 1 { "" } else { "s" }
            ),
            (Some(n), _) => format!(
                "With {n} clinicians on file you have weight of your own; a group or IPA adds less, unless its contract with {} is clearly above yours.",
                payer.name
            ),
            _ => "Record how many clinicians hold each license to see whether your size alone carries weight.".to_string(),
        };
        let rate = match pct {
            Some(p) if p < LOW_PCT_OF_MEDICARE => format!(
                " {} pays {p:.1}% of Medicare, below the 80% line: a collective contract is likely to pay more than yours.",
                payer.name
            ),
            Some(p) => format!(" {} pays {p:.1}% of Medicare today: compare the group's rates with that before joining.", payer.name),
            None => {
                to_add.push(add_rates.clone());
                String::new()
            }
        };
        GroupSection {
            clinicians,
            credentials: licenses
                .iter()
                .map(|c| match c.clinicians {
                    Some(n) => format!("{} ({n})", c.name),
                    None => c.name.clone(),
                })
                .collect(),
            small_practice,
            pct_of_medicare: pct,
            what_it_is: "A group practice or independent practice association (IPA) contracts with payers for all its members at once, usually for a share of collections or a fee, and with less say over your own contract.",
            assessment: format!("{size}{rate}"),
            to_add,
        }
    };

    // Specialty designations: each specialty's clinicians as a share of the practice's, the
    // uplift on that share of this payer's revenue.
    let designations = {
        let specialties: Vec<Designation> = file
            .credentials
            .iter()
            .filter(|c| c.kind == CredentialKind::Specialty)
            .map(|c| {
                let whole = clinicians.filter(|n| *n > 0);
                let part = c.clinicians.map(|n| whole.map_or(n, |w| n.min(w)));
                let value = match (part, whole, yearly_revenue) {
                    (Some(p), Some(w), Some(rev)) => Some(Cents(div_round_half_up(
                        rev.0 as i128 * p as i128 * uplift as i128,
                        w as i128 * 100,
                    ) as i64)),
                    _ => None,
                };
                Designation {
                    name: c.name.clone(),
                    clinicians: c.clinicians,
                    share_of_sessions_pct: part.zip(whole).and_then(|(p, w)| pct_tenths(p, w)),
                    yearly_value_cents: value,
                }
            })
            .collect();
        let mut to_add = vec![];
        if specialties.is_empty() {
            to_add.push("/practice credential name:EMDR kind:specialty clinicians:… (EMDR, DBT, child and adolescent, substance use, ...)".to_string());
        } else if specialties.iter().any(|s| s.clinicians.is_none()) || clinicians.is_none() {
            to_add.push(
                "how many clinicians hold each specialty and each license (/practice credential … clinicians:…)"
                    .to_string(),
            );
        }
        if yearly_revenue.is_none() {
            to_add.push(if report.rows.is_empty() { add_rates.clone() } else { add_volume.clone() });
        }
        DesignationSection { specialties, uplift_pct: uplift, yearly_revenue_cents: yearly_revenue, to_add }
    };

    // The 90837-vs-90834 mix.
    let row = |cpt: &str| report.rows.iter().find(|r| r.cpt == cpt);
    let (r34, r37) = (row("90834"), row("90837"));
    let session_mix = {
        let weekly_34 = r34.map_or(0, |r| r.weekly_volume);
        let yearly_34 = weekly_34 * weeks;
        let moved = div_round_half_up(yearly_34 as i128 * shift as i128, 100) as i64;
        let mut to_add = vec![];
        for (code, r) in [("90834", r34), ("90837", r37)] {
            if r.is_none() {
                to_add.push(format!("/rate set payer:{q} cpt:{code} amount:…"));
            }
        }
        if r34.is_some() && weekly_34 == 0 {
            to_add.push(format!("/payer edit name:{q} volume:\"90834=…\" (or raterise import claims FILE)"));
        }
        let change = match (r34, r37) {
            (Some(a), Some(b)) if weekly_34 > 0 => Some(Cents(moved * (b.rate_cents.0 - a.rate_cents.0))),
            _ => None,
        };
        SessionMix {
            minutes_90834: m34,
            minutes_90837: m37,
            rate_90834_cents: r34.map(|r| r.rate_cents),
            rate_90837_cents: r37.map(|r| r.rate_cents),
            per_hour_90834_cents: r34.map(|r| per_hour(r.rate_cents, m34)),
            per_hour_90837_cents: r37.map(|r| per_hour(r.rate_cents, m37)),
            weekly_90834: weekly_34,
            weekly_90837: r37.map_or(0, |r| r.weekly_volume),
            volume_source: r34.and_then(|r| r.weekly_volume_source),
            yearly_90834_sessions: yearly_34,
            shift_pct: shift,
            moved_sessions: if change.is_some() { moved } else { 0 },
            yearly_change_cents: change,
            extra_minutes_per_year: if change.is_some() { moved * (m37 - m34) } else { 0 },
            to_add,
        }
    };

    // Out of network: the full fee times the share collected, for every session this payer
    // brings now, against the in-network rates.
    let out_of_network = {
        let not_applicable = match payer.kind {
            PayerKind::Eap => Some("EAP sessions are free to the client and an EAP has no out-of-network benefit: leaving means losing these referrals, not billing them differently.".to_string()),
            PayerKind::ManagedMedicaid => Some("Medicaid members generally cannot be billed privately for covered services, so there is no out-of-network fee to collect.".to_string()),
            _ => None,
        };
        // The fee of each code with volume: the option's for every code, else what the claims
        // show the practice bills for it. Codes without a fee are left out of both sides.
        let codes: Vec<OonCode> = report
            .rows
            .iter()
            .filter(|r| r.weekly_volume > 0)
            .map(|r| OonCode {
                cpt: r.cpt.clone(),
                fee_cents: fee.or_else(|| usual.as_ref().and_then(|u| u.of(&r.cpt))),
                rate_cents: r.rate_cents,
                yearly_sessions: r.weekly_volume * weeks,
            })
            .collect();
        let priced: Vec<&OonCode> = codes.iter().filter(|c| c.fee_cents.is_some()).collect();
        let sessions: i64 = priced.iter().map(|c| c.yearly_sessions).sum();
        let billed: i128 =
            priced.iter().map(|c| c.fee_cents.unwrap_or_default().0 as i128 * c.yearly_sessions as i128).sum();
        let in_network: i64 = priced.iter().map(|c| c.rate_cents.0 * c.yearly_sessions).sum();
        let fee_source = match (fee, &usual) {
            (Some(_), _) => Some(FeeSource::Option),
            (None, Some(u)) if !priced.is_empty() => Some(FeeSource::Claims(u.source)),
            _ => None,
        };
        let counted = sessions > 0;
        let oon_yearly =
            counted.then(|| Cents(div_round_half_up(billed * share as i128 * stay as i128, 10_000) as i64));
        let mut to_add = vec![];
        if not_applicable.is_none() {
            if fee_source.is_none() {
                to_add.push(format!("your full fee per session: /alternatives payer:{q} fee:… (or raterise import claims FILE with the billed amounts)"));
            }
            if report.rows.is_empty() {
                to_add.push(add_rates.clone());
            } else if weekly_sessions == 0 {
                to_add.push(add_volume.clone());
            }
        }
        let applies = not_applicable.is_none() && counted;
        let unpriced: Vec<String> = codes.iter().filter(|c| c.fee_cents.is_none()).map(|c| c.cpt.clone()).collect();
        OutOfNetwork {
            not_applicable,
            fee_cents: fee,
            fee_source: fee_source.filter(|_| applies),
            oon_share_pct: share,
            stay_pct: stay,
            collected_per_session_cents: applies
                .then(|| Cents(div_round_half_up(billed * share as i128, sessions as i128 * 100) as i64)),
            in_network_per_session_cents: if counted {
                Some(Cents(div_round_half_up(in_network as i128, sessions as i128) as i64))
            } else {
                (weekly_sessions > 0)
                    .then(|| Cents(div_round_half_up(weekly_revenue as i128, weekly_sessions as i128) as i64))
            },
            yearly_sessions: if counted { sessions } else { weekly_sessions * weeks },
            volume_source,
            unique_clients: figs.unique_clients,
            sessions_on_file: figs.sessions.or(figs.claims),
            codes: if applies { codes } else { vec![] },
            codes_without_fee: if applies { unpriced } else { vec![] },
            yearly_in_network_cents: if counted { Some(Cents(in_network)) } else { yearly_revenue },
            yearly_out_of_network_cents: oon_yearly.filter(|_| applies),
            yearly_change_cents: oon_yearly.filter(|_| applies).map(|o| o - Cents(in_network)),
            to_add,
        }
    };

    let assumptions = vec![
        Assumption {
            option: "minutes_90834",
            value: m34.to_string(),
            default: d34,
            meaning: "minutes of a 90834 session (billed for 38-52)",
        },
        Assumption {
            option: "minutes_90837",
            value: m37.to_string(),
            default: d37,
            meaning: "minutes of a 90837 session (billed for 53 or more)",
        },
        Assumption {
            option: "shift",
            value: format!("{shift}%"),
            default: dshift,
            meaning: "share of this payer's 90834 sessions moved to 90837",
        },
        Assumption {
            option: "fee",
            value: match (fee, &usual) {
                (Some(f), _) => f.to_string(),
                (None, Some(u)) => format!("the amounts you bill most often ({})", u.source),
                (None, None) => "not given".into(),
            },
            default: fee.is_none(),
            meaning: "your full fee per session out of network",
        },
        Assumption {
            option: "oon_share",
            value: format!("{share}%"),
            default: dshare,
            meaning: "share of the full fee collected out of network (plan reimbursement plus the client's part)",
        },
        Assumption {
            option: "stay",
            value: format!("{stay}%"),
            default: dstay,
            meaning: "share of this payer's sessions that stay with you out of network",
        },
        Assumption {
            option: "uplift",
            value: format!("{uplift}%"),
            default: duplift,
            meaning: "enhanced rate a specialty designation pays over the rates on file",
        },
        Assumption {
            option: "small",
            value: small.to_string(),
            default: small == DEFAULT_SMALL,
            meaning: "clinicians at or below which a practice counts as small",
        },
        Assumption {
            option: "weeks",
            value: weeks.to_string(),
            default: weeks == practice.weeks_per_year,
            meaning: "working weeks a year at the current weekly volume",
        },
    ];

    Ok(Outcome::Alternatives(AlternativesReport {
        payer: payer.name,
        kind: payer.kind,
        status: payer.status,
        as_of: today,
        weeks_per_year: weeks,
        assumptions,
        group,
        designations,
        session_mix,
        out_of_network,
    }))
}

fn signed(c: Cents) -> String {
    if c.0 >= 0 {
        format!("+{c}")
    } else {
        c.to_string()
    }
}

/// 1440 as "1,440".
fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::from(if n < 0 { "-" } else { "" });
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

impl AlternativesReport {
    pub fn reply(&self) -> Reply {
        let q = crate::command_line::quote(&self.payer);
        let mut r = Reply::new(format!("Alternatives: {} ({})", self.payer, self.kind.label())).text(
            "When a raise is not coming, the guide's other roads, worked out with your numbers. Every assumption is listed at the end; change it with its option.",
        );

        let g = &self.group;
        let mut lines = vec![g.what_it_is.to_string(), g.assessment.clone()];
        if !g.credentials.is_empty() {
            lines.push(format!("Licenses on file: {}.", g.credentials.join(", ")));
        }
        lines.extend(g.to_add.iter().map(|a| format!("To see more, add: {a}")));
        r = r.notes("Join a group or IPA", lines);

        let d = &self.designations;
        let mut lines = vec![format!(
            "Some payers pay more, or list you first, for designated specialties. Ask {} which it recognises and how to apply.",
            self.payer
        )];
        for s in &d.specialties {
            lines.push(match (s.clinicians, s.share_of_sessions_pct, s.yearly_value_cents) {
                (Some(n), Some(p), Some(v)) => format!(
                    "{}: {} ({p:.1}% of your clinicians); +{}% on that share of {}'s sessions is {} a year.",
                    s.name,
                    plural(n, "clinician", "clinicians"),
                    d.uplift_pct,
                    self.payer,
                    signed(v)
                ),
                (Some(n), _, _) => format!("{}: {}.", s.name, plural(n, "clinician", "clinicians")),
                _ => format!("{}.", s.name),
            });
        }
        lines.extend(d.to_add.iter().map(|a| format!("To see more, add: {a}")));
        r = r.notes("Specialty designations", lines);

        let m = &self.session_mix;
        let mut lines = vec![];
        for (code, mins, rate, hour) in [
            ("90834", m.minutes_90834, m.rate_90834_cents, m.per_hour_90834_cents),
            ("90837", m.minutes_90837, m.rate_90837_cents, m.per_hour_90837_cents),
        ] {
            if let (Some(rate), Some(hour)) = (rate, hour) {
                lines.push(format!("{code}: {rate} for {mins} minutes, {hour} per clinical hour."));
            }
        }
        if let (Some(a), Some(b)) = (m.per_hour_90834_cents, m.per_hour_90837_cents) {
            lines.push(if b.0 >= a.0 {
                format!("An hour of 90837 pays {} more than an hour of 90834.", b - a)
            } else {
                format!("An hour of 90834 pays {} more than an hour of 90837: longer sessions earn more per session, less per hour.", a - b)
            });
        }
        if let Some(c) = m.yearly_change_cents {
            lines.push(format!(
                "Moving {}% of your {} 90834 sessions a year to 90837 ({}) changes {} a year, for {:.1} more clinician hours.",
                m.shift_pct,
                count(m.yearly_90834_sessions),
                plural(m.moved_sessions, "session", "sessions"),
                signed(c),
                m.extra_minutes_per_year as f64 / 60.0
            ));
            lines.push("Bill 90837 only when the session runs 53 minutes or more and the notes show it.".into());
        }
        lines.extend(m.to_add.iter().map(|a| format!("To see more, add: {a}")));
        r = r.notes("90837 instead of 90834", lines);

        let o = &self.out_of_network;
        let mut lines = vec![];
        if let Some(why) = &o.not_applicable {
            lines.push(why.clone());
        } else {
            let clients = match (o.unique_clients, o.sessions_on_file) {
                (Some(u), Some(s)) if u.source == s.source => {
                    format!(
                        " ({} and {} sessions on file: {})",
                        plural(u.value, "client", "clients"),
                        s.value,
                        u.source
                    )
                }
                (Some(u), _) => format!(" ({} on file: {})", plural(u.value, "client", "clients"), u.source),
                _ => String::new(),
            };
            let at = match (o.fee_cents, o.fee_source) {
                (Some(fee), _) => Some(format!("your fee of {fee}")),
                (None, Some(FeeSource::Claims(src))) => Some(format!(
                    "the fees you bill most often ({src}: {})",
                    o.codes
                        .iter()
                        .filter_map(|c| c.fee_cents.map(|f| format!("{} {f}", c.cpt)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                _ => None,
            };
            if let (Some(at), Some(got)) = (at, o.collected_per_session_cents) {
                lines.push(format!(
                    "At {at}, collecting {}% of it out of network is {got} a session{}.",
                    o.oon_share_pct,
                    o.in_network_per_session_cents.map_or(String::new(), |i| format!(
                        ", against {i} in network (average of the rates on file, weighted by volume)"
                    ))
                ));
            }
            if !o.codes_without_fee.is_empty() {
                lines.push(format!(
                    "Left out (no fee on file): {}; give fee: to count them.",
                    o.codes_without_fee.join(", ")
                ));
            }
            if let (Some(out), Some(inn), Some(ch)) =
                (o.yearly_out_of_network_cents, o.yearly_in_network_cents, o.yearly_change_cents)
            {
                lines.push(format!(
                    "For the {} sessions a year {} brings{clients}: {inn} in network, {out} out of network with {}% of them staying, {} a year.",
                    count(o.yearly_sessions),
                    self.payer,
                    o.stay_pct,
                    signed(ch)
                ));
            }
            lines.push("Before leaving: count the clients affected and their out-of-network benefits, give 30-60 days' notice, and consider a reduced fee for established clients during the change.".into());
        }
        lines.extend(o.to_add.iter().map(|a| format!("To see more, add: {a}")));
        r = r.notes("Strategic out-of-network", lines);

        r = r.notes(
            "Assumptions (change with the option)",
            self.assumptions
                .iter()
                .map(|a| {
                    format!("{}:{} — {}{}", a.option, a.value, a.meaning, if a.default { " (default)" } else { "" })
                })
                .collect(),
        );
        r.action("Try a bigger shift", format!("/alternatives payer:{q} shift:50"))
            .action("Red-flag scorecard", format!("/walkaway payer:{q}"))
    }
}
