//! /draft KIND PAYER: a letter, email or script for a step of the negotiation, filled from the
//! practice's own numbers (rates, Medicare amounts, utilization, outcomes, credentials, the case
//! log). Facts that are not on file appear as placeholders such as [NPI] and are listed under the
//! draft; nothing is left blank.

use super::negotiate::{benchmark, medicare_cents, quoted, suggested_asks};
use super::practice::{count_text, credential_summary, outcome_summary, per_patient_text, share_text};
use super::{practice_today, resolve_payer, Outcome};
use crate::context::Ctx;
use crate::domain::stage::{EventKind, Stage};
use crate::domain::{div_round_half_up, percent_of, Cents, PayerKind};
use crate::drafts::{self, DraftKind};
use crate::error::AppError;
use crate::figures;
use crate::invocation::Invocation;
use crate::reply::{Align, Reply, Table, Tone};
use crate::schedule;
use crate::store::case_file::{CredentialKind, Utilization};
use crate::store::negotiations::{Case, CaseEvent};
use crate::store::{Payer, Practice};
use chrono::{Datelike, Months, NaiveDate};
use serde::Serialize;
use std::collections::HashMap;

/// Days of notice clients should get before the practice leaves a panel (DOMAIN: 30-60).
pub const EXIT_NOTICE_MIN_DAYS: i64 = 30;
pub const EXIT_NOTICE_MAX_DAYS: i64 = 60;

#[derive(Debug, Clone, Serialize)]
pub struct DraftLetter {
    pub kind: DraftKind,
    pub payer: String,
    /// Email drafts only.
    pub subject: Option<String>,
    /// The addressee of an email, when the payer's contact email is on file.
    pub to: Option<String>,
    #[serde(skip)]
    pub to_name: Option<String>,
    #[serde(skip)]
    pub to_email: Option<String>,
    pub body: String,
    /// Facts to fill in before sending, as they appear in the draft.
    pub placeholders: Vec<String>,
    pub warnings: Vec<String>,
    pub attachment: String,
    /// `built-in` or the override folder the template came from.
    pub template: String,
    /// The practice's figures with the payer the draft quotes, each with its source.
    pub figures: figures::PayerFigures,
}

// ---------------------------------------------------------------------------------------------
// The template context. Every value is text (or a list of text, or a flag), so a template never
// prints "none": a missing fact is a placeholder string.

#[derive(Debug, Serialize)]
struct Facts {
    kind: &'static str,
    today: String,
    practice: PracticeFacts,
    payer: PayerFacts,
    case: CaseFacts,
    medicare: MedicareFacts,
    codes: Vec<CodeFacts>,
    rates_table: String,
    offer_table: String,
    totals: Totals,
    utilization: UtilizationFacts,
    outcomes: Vec<String>,
    credentials: Vec<String>,
    specialties: Vec<String>,
    note: String,
    dates: Dates,
    /// The payer's own published rates for the practice's state, one cited line per code
    /// (`raterise market import`); empty when none are imported.
    market: Vec<String>,
}

#[derive(Debug, Serialize)]
struct PracticeFacts {
    name: String,
    npi: String,
    tax_id: String,
    signer: String,
    weeks_per_year: i64,
}

#[derive(Debug, Serialize)]
struct PayerFacts {
    name: String,
    kind: String,
    /// commercial, mbho, eap, managed-medicaid, medicaid, medicare
    kind_key: String,
    provider_id: String,
    contact_name: String,
    contact_email: String,
    contact_phone: String,
    in_network_since: String,
    years_in_network: String,
    renewal_date: String,
    applying: bool,
}

#[derive(Debug, Serialize)]
struct CaseFacts {
    open: bool,
    stage: String,
    has_call: bool,
    has_request: bool,
    has_counter: bool,
    has_denial: bool,
    opened_on: String,
    call_date: String,
    request_date: String,
    /// Dates of follow-ups (and escalations) since the request, oldest first.
    follow_ups: Vec<String>,
    days_waiting: i64,
    escalate: bool,
    counter_date: String,
    counter_note: String,
    denied_date: String,
    denial_note: String,
}

#[derive(Debug, Serialize)]
struct MedicareFacts {
    available: bool,
    year: String,
    locality: String,
    credential: String,
    share: String,
}

#[derive(Debug, Serialize)]
struct CodeFacts {
    cpt: String,
    description: String,
    current: String,
    requested: String,
    offered: String,
    medicare: String,
    increase: String,
    increase_pct: String,
    current_pct_of_medicare: String,
    requested_pct_of_medicare: String,
    offered_pct_of_medicare: String,
    /// Half the requested increase: the "smaller raise now" alternative.
    half_step: String,
    weekly_sessions: i64,
    yearly_increase: String,
}

#[derive(Debug, Serialize)]
struct Totals {
    weekly_sessions: i64,
    yearly_sessions: String,
    yearly_increase: String,
    yearly_increase_half: String,
    /// What the gap between their offer and the ask is worth in a year.
    yearly_offer_gap: String,
    current_pct_of_medicare: String,
    requested_pct_of_medicare: String,
}

#[derive(Debug, Serialize)]
struct UtilizationFacts {
    available: bool,
    summary: String,
    period: String,
    claims: String,
    patients: String,
    sessions_per_patient: String,
    clean_claim_rate: String,
    no_show_rate: String,
    days_to_payment: String,
    /// Some figure is computed from the practice's claims export or the payer's remittances.
    from_imports: bool,
    denial_rate: String,
    /// "a median of 24 days after the date of service (90th percentile 41 days)".
    payment: String,
    /// Where the figures come from, as a sentence for the payer ("" when all were typed).
    source: String,
}

/// A source as a letter names it to the payer.
fn letter_source(s: &figures::Source) -> String {
    match s {
        figures::Source::HandEntered { from, to } => {
            format!("our practice records ({} to {})", long_date(*from), long_date(*to))
        }
        figures::Source::HandSet => "our practice records".into(),
        figures::Source::ClaimsExport { from, to } => {
            format!("our claims records (dates of service {} to {})", long_date(*from), long_date(*to))
        }
        figures::Source::Remittances { from, to } => {
            format!("your remittance advice (dates of service {} to {})", long_date(*from), long_date(*to))
        }
    }
}

/// The utilization a draft quotes: the figures in use (imports where they cover the last 12
/// months, see `figures`), or as typed when nothing was imported.
fn utilization_facts(figs: &figures::PayerFigures, hand: Option<&Utilization>) -> UtilizationFacts {
    let na = || "n/a".to_string();
    let payment = |d: &figures::Days| match (d.median, d.p90, d.average) {
        (Some(m), Some(p), _) => format!("a median of {m} days after the date of service (90th percentile {p} days)"),
        (Some(m), None, _) => format!("a median of {m} days after the date of service"),
        (None, _, Some(a)) => format!("{a} days on average"),
        _ => "n/a".into(),
    };
    if !figs.from_imports() {
        let Some(u) = hand else {
            let p = "[YOUR UTILIZATION FIGURES]".to_string();
            return UtilizationFacts {
                available: false,
                summary: p.clone(),
                period: p.clone(),
                claims: p.clone(),
                patients: p.clone(),
                sessions_per_patient: p.clone(),
                clean_claim_rate: p.clone(),
                no_show_rate: p.clone(),
                days_to_payment: p,
                from_imports: false,
                denial_rate: na(),
                payment: na(),
                source: String::new(),
            };
        };
        return UtilizationFacts {
            available: true,
            summary: super::practice::utilization_summary(u, long_date),
            period: format!("{} to {}", long_date(u.period_start), long_date(u.period_end)),
            claims: count_text(u.claims),
            patients: count_text(u.unique_patients),
            sessions_per_patient: per_patient_text(u.claims, u.unique_patients).unwrap_or_else(na),
            clean_claim_rate: u.clean_claim_bp.map(share_text).unwrap_or_else(na),
            no_show_rate: u.no_show_bp.map(share_text).unwrap_or_else(na),
            days_to_payment: u.days_to_payment.map(|d| d.to_string()).unwrap_or_else(na),
            from_imports: false,
            denial_rate: na(),
            payment: u.days_to_payment.map(|d| format!("{d} days on average")).unwrap_or_else(na),
            source: String::new(),
        };
    }
    let claims = figs.claims.map(|f| f.value);
    let clients = figs.unique_clients.map(|f| f.value);
    let per_client = figs.unique_clients.and_then(|u| {
        let n = figs.sessions.filter(|s| s.source == u.source).or(figs.claims.filter(|c| c.source == u.source))?;
        per_patient_text(n.value, u.value)
    });
    let period = figs.claims.map(|f| f.source).and_then(|s| match s {
        figures::Source::ClaimsExport { from, to }
        | figures::Source::Remittances { from, to }
        | figures::Source::HandEntered { from, to } => Some(format!("{} to {}", long_date(from), long_date(to))),
        figures::Source::HandSet => None,
    });
    let mut summary = String::new();
    if let (Some(c), Some(n)) = (claims, clients) {
        summary.push_str(&format!("{} claims for {} clients", count_text(c), count_text(n)));
        if let Some(p) = &period {
            summary.push_str(&format!(" from {p}"));
        }
        if let Some(p) = &per_client {
            summary.push_str(&format!(" ({p} sessions per client)"));
        }
    }
    let mut parts: Vec<String> = Vec::new();
    if let Some(f) = figs.clean_claim_pct {
        parts.push(format!("clean-claim rate {}", f.value.text()));
    }
    if let Some(f) = figs.denial_pct {
        parts.push(format!("denial rate {}", f.value.text()));
    }
    if let Some(f) = figs.no_show_pct {
        parts.push(format!("no-show rate {}", f.value.text()));
    }
    if let Some(f) = figs.days_to_payment {
        parts.push(format!("paid {}", payment(&f.value)));
    }
    for p in parts {
        if !summary.is_empty() {
            summary.push_str("; ");
        }
        summary.push_str(&p);
    }
    let sources: Vec<String> = figs
        .sources()
        .iter()
        .map(|(s, names)| format!("{} from {}", figures::join_words(names), letter_source(s)))
        .collect();
    let source = format!("Figures: {}", sources.join("; "));
    summary.push_str(&format!(" ({})", source.trim_start_matches("Figures: ")));
    UtilizationFacts {
        available: claims.is_some(),
        summary,
        period: period.unwrap_or_else(na),
        claims: claims.map(count_text).unwrap_or_else(na),
        patients: clients.map(count_text).unwrap_or_else(na),
        sessions_per_patient: per_client.unwrap_or_else(na),
        clean_claim_rate: figs.clean_claim_pct.map(|f| f.value.text()).unwrap_or_else(na),
        no_show_rate: figs.no_show_pct.map(|f| f.value.text()).unwrap_or_else(na),
        days_to_payment: figs.days_to_payment.and_then(|f| f.value.typical()).map(|d| d.to_string()).unwrap_or_else(na),
        from_imports: true,
        denial_rate: figs.denial_pct.map(|f| f.value.text()).unwrap_or_else(na),
        payment: figs.days_to_payment.map(|f| payment(&f.value)).unwrap_or_else(na),
        source,
    }
}

#[derive(Debug, Serialize)]
struct Dates {
    /// Six months from today: the review date of the "smaller raise now" alternative.
    review: String,
    /// Twelve months from today: the second step of a phased raise.
    phase_two: String,
    /// Exit notice: the last day in network.
    last_day: String,
    notice_days: String,
}

/// Long date for letters: November 27, 2026.
pub fn long_date(d: NaiveDate) -> String {
    format!("{} {}, {}", month_name(d.month()), d.day(), d.year())
}

fn month_name(m: u32) -> &'static str {
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ][(m as usize).saturating_sub(1).min(11)]
}

fn whole_years(from: NaiveDate, to: NaiveDate) -> i32 {
    let mut y = to.year() - from.year();
    if (to.month(), to.day()) < (from.month(), from.day()) {
        y -= 1;
    }
    y.max(0)
}

fn pct_text(p: Option<f64>) -> String {
    p.map(|v| format!("{v:.1}%")).unwrap_or_else(|| "n/a".into())
}

/// A missing fact becomes its placeholder.
fn or(value: Option<String>, placeholder: &str) -> String {
    value.filter(|v| !v.trim().is_empty()).unwrap_or_else(|| placeholder.to_string())
}

/// How to put a placeholder's fact on file, so the next draft has it.
fn how_to_fill(placeholder: &str, payer: &str) -> Option<String> {
    let q = quoted(payer);
    Some(match placeholder {
        "[NPI]" => "or save it with /setup npi:".into(),
        "[TAX ID]" => "or save it with /setup tax_id:".into(),
        "[YOUR NAME AND TITLE]" => "or add signer:\"Name, Title\" to the command".into(),
        "[PROVIDER ID]" => format!("or save it with /payer edit name:{q} provider_id:"),
        "[CONTACT NAME]" => format!("or save it with /payer edit name:{q} contact_name:"),
        "[CONTACT EMAIL]" => format!("or save it with /payer edit name:{q} contact_email:"),
        "[CONTACT PHONE]" => format!("or save it with /payer edit name:{q} contact_phone:"),
        "[IN-NETWORK SINCE]" | "[YEARS IN NETWORK]" => {
            format!("or save the contract date with /payer edit name:{q} effective:")
        }
        "[RENEWAL DATE]" => format!("or save it with /payer edit name:{q} renewal:"),
        "[YOUR UTILIZATION FIGURES]" => format!("or save them with /practice utilization payer:{q}"),
        "[MEDICARE AMOUNT]" | "[MEDICARE LOCALITY]" => "or set your locality and credential with /setup".into(),
        "[DATE OF YOUR CALL]" => format!("or log it with /negotiate log payer:{q} event:call"),
        "[DATE OF YOUR WRITTEN REQUEST]" => format!("or log it with /negotiate log payer:{q} event:written-request"),
        "[DATE OF THEIR OFFER]" | "[THEIR OFFER]" => {
            format!("or record it with /negotiate outcome payer:{q} result:countered")
        }
        "[DATE OF THEIR ANSWER]" => format!("or record it with /negotiate outcome payer:{q} result:denied"),
        "[LAST DAY IN NETWORK]" => "or add date:YYYY-MM-DD to the command".into(),
        "[YOUR OUTCOME MEASURES, SUCH AS PHQ-9 OR GAD-7 CHANGE]" => "or save them with /practice outcome".into(),
        "[YOUR CREDENTIALS AND SPECIALTIES]" => "or save them with /practice credential".into(),
        "[CURRENT RATE]" | "[REQUESTED RATE]" => format!("or record rates with /rate set payer:{q}"),
        _ => return None,
    })
}

struct CodeLine {
    cpt: String,
    current: Option<Cents>,
    requested: Option<Cents>,
    offered: Option<Cents>,
    medicare: Option<Cents>,
    weekly: i64,
}

fn volume_weighted_pct(lines: &[CodeLine], pick: impl Fn(&CodeLine) -> Option<Cents>) -> Option<f64> {
    let (mut num, mut den) = (0i128, 0i128);
    for l in lines {
        if let (Some(v), Some(m)) = (pick(l), l.medicare) {
            let w = l.weekly.max(0) as i128;
            num += v.0 as i128 * w;
            den += m.0 as i128 * w;
        }
    }
    (den > 0).then(|| div_round_half_up(num * 1000, den) as f64 / 10.0)
}

fn sum_yearly(lines: &[CodeLine], weeks: i64, step: impl Fn(&CodeLine) -> Option<Cents>) -> Option<Cents> {
    let mut total = Cents::ZERO;
    let mut any = false;
    for l in lines {
        if let Some(s) = step(l) {
            total = total + crate::analysis::yearly(s, l.weekly, weeks);
            any = true;
        }
    }
    any.then_some(total)
}

fn rates_table(lines: &[CodeLine], medicare: bool) -> String {
    let mut t = Table::new(&[
        ("Code", Align::Left),
        ("Current", Align::Right),
        ("Requested", Align::Right),
        ("Increase", Align::Right),
        ("Medicare*", Align::Right),
        ("Current % of Medicare", Align::Right),
    ]);
    for l in lines {
        let increase = l.current.zip(l.requested).map(|(c, r)| r - c);
        t.push(vec![
            l.cpt.clone(),
            or(l.current.map(|c| c.to_string()), "[CURRENT RATE]"),
            or(l.requested.map(|c| c.to_string()), "[REQUESTED RATE]"),
            increase
                .zip(l.current)
                .and_then(|(i, c)| percent_of(i, c))
                .map(|p| format!("{p:+.1}%"))
                .unwrap_or_else(|| "n/a".into()),
            if medicare {
                l.medicare.map(|m| m.to_string()).unwrap_or_else(|| "not priced".into())
            } else {
                "[MEDICARE AMOUNT]".into()
            },
            pct_text(l.current.zip(l.medicare).and_then(|(c, m)| percent_of(c, m))),
        ]);
    }
    t.to_text()
}

fn offer_table(lines: &[CodeLine]) -> String {
    let mut t = Table::new(&[
        ("Code", Align::Left),
        ("Current", Align::Right),
        ("Your offer", Align::Right),
        ("Our request", Align::Right),
        ("Offer % of Medicare", Align::Right),
        ("Request % of Medicare", Align::Right),
    ]);
    for l in lines {
        t.push(vec![
            l.cpt.clone(),
            or(l.current.map(|c| c.to_string()), "[CURRENT RATE]"),
            or(l.offered.map(|c| c.to_string()), "[THEIR OFFER]"),
            or(l.requested.map(|c| c.to_string()), "[REQUESTED RATE]"),
            pct_text(l.offered.zip(l.medicare).and_then(|(o, m)| percent_of(o, m))),
            pct_text(l.requested.zip(l.medicare).and_then(|(r, m)| percent_of(r, m))),
        ]);
    }
    t.to_text()
}

fn latest_on<'a>(events: &'a [CaseEvent], kinds: &[EventKind]) -> Option<&'a CaseEvent> {
    events.iter().filter(|e| kinds.contains(&e.kind)).max_by_key(|e| (e.on, e.id))
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_string();
    if out.is_empty() {
        "payer".into()
    } else {
        out
    }
}

pub async fn run(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let kind: DraftKind = inv.need("kind", inv.parsed("kind")?)?;
    let payer = resolve_payer(ctx, practice, inv.required("payer")?).await?;
    if payer.kind == PayerKind::Medicare {
        // Traditional Medicare has no network to leave and nothing to negotiate.
        return Err(AppError::user(format!(
            "{} is traditional Medicare: one schedule for everyone in your locality, the benchmark for your other payers, with nothing to negotiate and no network to leave. To stop billing it, clinicians opt out (an opt-out affidavit to your Medicare contractor, binding for two years, then private contracts with Medicare clients), so there is no {} to draft",
            payer.name,
            kind.label()
        )));
    }
    if !payer.kind.is_negotiable() && kind != DraftKind::ExitNotice {
        return Err(AppError::user(format!(
            "{} does not negotiate rates ({}), so there is no {} to draft; the exit-notice draft applies if you leave its panel",
            payer.name,
            if payer.kind == PayerKind::Medicare { "Medicare is one schedule for everyone" } else { "the state sets Medicaid rates" },
            kind.label()
        )));
    }
    let today = practice_today(ctx, practice);
    let signer = inv.opt("signer").map(str::to_string);
    let note = inv.opt("note").map(str::to_string);
    if note.as_ref().is_some_and(|n| n.chars().count() > 1000) {
        return Err(AppError::user(
            "note: keep it under 1,000 characters (and never put client names or details in it)",
        ));
    }
    if signer.as_ref().is_some_and(|n| n.chars().count() > 120) {
        return Err(AppError::user("signer: keep the name and title under 120 characters"));
    }
    let exit_day = inv.date("date")?;
    let mut warnings = Vec::new();
    if let Some(d) = exit_day {
        if kind != DraftKind::ExitNotice {
            return Err(AppError::user("date: only the exit-notice draft takes a date (the last day in network)"));
        }
        let notice = (d - today).num_days();
        if notice < 0 {
            return Err(AppError::user(format!(
                "date: {d} is in the past; give the last day in network still ahead (today is {today}), at least {EXIT_NOTICE_MIN_DAYS} days out"
            )));
        }
        if notice < EXIT_NOTICE_MIN_DAYS {
            warnings.push(format!(
                "{d} is {notice} days away: clients should get {EXIT_NOTICE_MIN_DAYS} to {EXIT_NOTICE_MAX_DAYS} days' notice, and the contract may require more; check its termination clause"
            ));
        }
    }

    let case: Option<Case> = ctx.store.latest_case_for(practice.id, payer.id).await?;
    let (events, case_codes) = match &case {
        Some(c) => (ctx.store.case_events(c).await?, ctx.store.case_codes(c).await?),
        None => (vec![], vec![]),
    };
    let payers = ctx.store.list_payers(practice.id).await?;
    let mut codes = ctx.store.practice_code_rates(practice.id, today).await?;
    figures::with_volume(&ctx.store, practice.id, Some(payer.id), today, &mut codes).await?;
    let bench = benchmark(ctx, practice);
    let file = ctx.store.case_file(practice.id).await?;
    let weekly: HashMap<&str, i64> =
        codes.iter().filter(|c| c.payer_id == payer.id).map(|c| (c.cpt.as_str(), c.weekly_volume)).collect();
    let current: HashMap<&str, Cents> = codes
        .iter()
        .filter(|c| c.payer_id == payer.id)
        .filter_map(|c| c.current.map(|r| (c.cpt.as_str(), r.amount)))
        .collect();

    // The codes: the case's ask when there is a case, else the suggested ask from /rates.
    let lines: Vec<CodeLine> = if case_codes.is_empty() {
        suggested_asks(ctx, &payer, &payers, &codes, bench.as_ref())
            .into_iter()
            .map(|(cpt, cur, ask)| CodeLine {
                weekly: weekly.get(cpt.as_str()).copied().unwrap_or(0),
                medicare: medicare_cents(ctx, bench.as_ref(), &cpt),
                current: Some(cur),
                requested: ask,
                offered: None,
                cpt,
            })
            .collect()
    } else {
        case_codes
            .iter()
            .map(|c| CodeLine {
                cpt: c.cpt.clone(),
                current: c.start_cents.or_else(|| current.get(c.cpt.as_str()).copied()),
                requested: Some(c.requested_cents),
                offered: c.offered_cents,
                medicare: medicare_cents(ctx, bench.as_ref(), &c.cpt),
                weekly: weekly.get(c.cpt.as_str()).copied().unwrap_or(0),
            })
            .collect()
    };
    if case.as_ref().is_none_or(|c| c.stage.is_closed())
        && matches!(kind, DraftKind::Followup | DraftKind::Counter | DraftKind::Rejection)
    {
        warnings.push(format!(
            "There is no open negotiation with {}, so the dates of the request and answers are placeholders; /negotiate start payer:{} tracks them",
            payer.name,
            quoted(&payer.name)
        ));
    }

    let weeks = practice.weeks_per_year;
    let stage = case.as_ref().map(|c| c.stage);
    let log: Vec<schedule::Dated> = events.iter().map(|e| (e.kind, e.on)).collect();
    let waiting = stage.and_then(|s| schedule::waiting_since(s, &log));
    let request_on = latest_on(&events, &[EventKind::WrittenRequest]).map(|e| e.on);
    let follow_ups: Vec<String> = match stage {
        Some(s) => schedule::follow_ups_since(s, &log).iter().map(|(_, d)| long_date(*d)).collect(),
        None => vec![],
    };
    let counter = latest_on(&events, &[EventKind::CounterOffer]);
    let denied = latest_on(&events, &[EventKind::Denied]);
    let escalate = stage.is_some_and(|s| schedule::escalation_due(s, &log).is_some_and(|d| d <= today));

    let descriptions: HashMap<String, String> = lines
        .iter()
        .map(|l| (l.cpt.clone(), ctx.medicare.code(&l.cpt).map(|c| c.description.clone()).unwrap_or_default()))
        .collect();
    let code_facts: Vec<CodeFacts> = lines
        .iter()
        .map(|l| {
            let increase = l.current.zip(l.requested).map(|(c, r)| r - c);
            let half = l.current.zip(increase).map(|(c, i)| c + Cents(div_round_half_up(i.0 as i128, 2) as i64));
            let mcr_pct = |v: Option<Cents>| {
                if bench.is_none() {
                    "[MEDICARE AMOUNT]".to_string()
                } else {
                    pct_text(v.zip(l.medicare).and_then(|(v, m)| percent_of(v, m)))
                }
            };
            CodeFacts {
                cpt: l.cpt.clone(),
                description: descriptions.get(&l.cpt).cloned().unwrap_or_default(),
                current: or(l.current.map(|c| c.to_string()), "[CURRENT RATE]"),
                requested: or(l.requested.map(|c| c.to_string()), "[REQUESTED RATE]"),
                offered: or(l.offered.map(|c| c.to_string()), "[THEIR OFFER]"),
                medicare: match (&bench, l.medicare) {
                    (None, _) => "[MEDICARE AMOUNT]".into(),
                    (Some(_), Some(m)) => m.to_string(),
                    (Some(_), None) => "not priced by Medicare".into(),
                },
                increase: increase.map(|i| i.to_string()).unwrap_or_else(|| "n/a".into()),
                increase_pct: increase
                    .zip(l.current)
                    .and_then(|(i, c)| percent_of(i, c))
                    .map(|p| format!("{p:.1}%"))
                    .unwrap_or_else(|| "n/a".into()),
                current_pct_of_medicare: mcr_pct(l.current),
                requested_pct_of_medicare: mcr_pct(l.requested),
                offered_pct_of_medicare: mcr_pct(l.offered),
                half_step: half.map(|h| h.to_string()).unwrap_or_else(|| "n/a".into()),
                weekly_sessions: l.weekly,
                yearly_increase: increase
                    .map(|i| crate::analysis::yearly(i, l.weekly, weeks).to_string())
                    .unwrap_or_else(|| "n/a".into()),
            }
        })
        .collect();
    let weekly_total: i64 = lines.iter().map(|l| l.weekly).sum();
    let money_or_na = |c: Option<Cents>| c.map(|c| c.to_string()).unwrap_or_else(|| "n/a".into());
    let totals = Totals {
        weekly_sessions: weekly_total,
        yearly_sessions: count_text(weekly_total * weeks),
        yearly_increase: money_or_na(sum_yearly(&lines, weeks, |l| l.current.zip(l.requested).map(|(c, r)| r - c))),
        yearly_increase_half: money_or_na(sum_yearly(&lines, weeks, |l| {
            l.current.zip(l.requested).map(|(c, r)| Cents(div_round_half_up((r - c).0 as i128, 2) as i64))
        })),
        yearly_offer_gap: money_or_na(sum_yearly(&lines, weeks, |l| l.offered.zip(l.requested).map(|(o, r)| r - o))),
        current_pct_of_medicare: if bench.is_some() {
            pct_text(volume_weighted_pct(&lines, |l| l.current))
        } else {
            "[MEDICARE AMOUNT]".into()
        },
        requested_pct_of_medicare: if bench.is_some() {
            pct_text(volume_weighted_pct(&lines, |l| l.requested))
        } else {
            "[MEDICARE AMOUNT]".into()
        },
    };
    if bench.is_none() && kind != DraftKind::ExitNotice {
        warnings.push("Your Medicare locality or credential is not set, so the Medicare amounts are placeholders: /setup locality:\"YOUR LOCALITY, ST\" credential:lcsw".into());
    }

    let hand = file.utilization_for(&payer.name);
    let figs =
        figures::payer_figures(&ctx.store, practice.id, &payer, hand, figures::period(today, figures::DEFAULT_MONTHS))
            .await?;
    let utilization = utilization_facts(&figs, hand);

    let q = |d: Option<NaiveDate>, ph: &str| or(d.map(long_date), ph);
    let medicare = match &bench {
        Some(b) => MedicareFacts {
            available: true,
            year: b.year.to_string(),
            locality: format!("{} (locality {})", b.locality, b.locality_id),
            credential: b.credential.label().to_string(),
            share: format!("{}%", b.credential_share_pct),
        },
        None => MedicareFacts {
            available: false,
            year: ctx.medicare.latest_year().to_string(),
            locality: "[MEDICARE LOCALITY]".into(),
            credential: "[MEDICARE LOCALITY]".into(),
            share: "[MEDICARE LOCALITY]".into(),
        },
    };
    // The payer's own published rates, cited with scope, date and source.
    let mut market = Vec::new();
    if let Some(credential) = practice.credential {
        if let Some(view) = crate::tic::view::PayerMarket::load(ctx, practice, &payer.name, credential).await? {
            for l in &lines {
                if let Some(f) = l.current.and_then(|cur| view.figure(&l.cpt, cur)) {
                    market.push(format!("{}: {}.", l.cpt, f.citation()));
                }
            }
        }
    }
    let facts = Facts {
        kind: kind.key(),
        today: long_date(today),
        practice: PracticeFacts {
            name: practice.name.clone(),
            npi: or(practice.npi.clone(), "[NPI]"),
            tax_id: or(practice.tax_id.clone(), "[TAX ID]"),
            signer: or(signer.clone(), "[YOUR NAME AND TITLE]"),
            weeks_per_year: weeks,
        },
        payer: payer_facts(&payer, today),
        case: CaseFacts {
            open: case.as_ref().is_some_and(|c| !c.stage.is_closed()),
            stage: stage.map(|s| s.label().to_string()).unwrap_or_else(|| "no case yet".into()),
            has_call: events.iter().any(|e| e.kind == EventKind::Call),
            has_request: request_on.is_some(),
            has_counter: counter.is_some(),
            has_denial: denied.is_some(),
            opened_on: q(case.as_ref().map(|c| c.opened_on), "[DATE YOU OPENED THE CASE]"),
            call_date: q(latest_on(&events, &[EventKind::Call]).map(|e| e.on), "[DATE OF YOUR CALL]"),
            request_date: q(request_on.or(waiting), "[DATE OF YOUR WRITTEN REQUEST]"),
            follow_ups,
            days_waiting: waiting.or(request_on).map(|d| (today - d).num_days()).unwrap_or(0),
            escalate,
            counter_date: q(counter.map(|e| e.on), "[DATE OF THEIR OFFER]"),
            counter_note: counter.and_then(|e| e.note.clone()).unwrap_or_default(),
            denied_date: q(denied.map(|e| e.on), "[DATE OF THEIR ANSWER]"),
            denial_note: if stage == Some(Stage::Denied) {
                denied.and_then(|e| e.note.clone()).unwrap_or_default()
            } else {
                String::new()
            },
        },
        medicare,
        rates_table: if lines.is_empty() {
            "[YOUR RATES PER CODE]".into()
        } else {
            rates_table(&lines, bench.is_some())
        },
        offer_table: if lines.is_empty() { "[YOUR RATES PER CODE]".into() } else { offer_table(&lines) },
        codes: code_facts,
        totals,
        utilization,
        outcomes: file.outcomes.iter().map(|m| outcome_summary(m, long_date)).collect(),
        credentials: file
            .credentials
            .iter()
            .filter(|c| c.kind == CredentialKind::Credential)
            .map(credential_summary)
            .collect(),
        specialties: file
            .credentials
            .iter()
            .filter(|c| c.kind == CredentialKind::Specialty)
            .map(credential_summary)
            .collect(),
        note: note.clone().unwrap_or_default(),
        market,
        dates: Dates {
            review: long_date(today.checked_add_months(Months::new(6)).unwrap_or(today)),
            phase_two: long_date(today.checked_add_months(Months::new(12)).unwrap_or(today)),
            last_day: q(exit_day, "[LAST DAY IN NETWORK]"),
            notice_days: exit_day
                .map(|d| (d - today).num_days().to_string())
                .unwrap_or_else(|| format!("{EXIT_NOTICE_MIN_DAYS} to {EXIT_NOTICE_MAX_DAYS}")),
        },
    };

    let rendered = ctx
        .drafts
        .render(kind, &facts)
        .map_err(|e| AppError::internal(format!("rendering the {} draft", kind.key()), std::io::Error::other(e)))?;
    warnings.extend(rendered.warnings);
    let text = rendered.text.trim_end().to_string() + "\n";
    let (subject, body) = if kind.is_email() {
        match drafts::split_subject(&text) {
            (Some(s), body) => (Some(s), body),
            (None, body) => {
                warnings.push(format!(
                    "The {} template has no Subject: line at the top; a plain subject was used",
                    kind.template_name()
                ));
                (Some(format!("{}: {}", capitalise(kind.label()), practice.name)), body)
            }
        }
    } else {
        (None, text)
    };
    // Placeholders left in the draft, except bracketed text a user typed themselves.
    let typed: Vec<&str> = [note.as_deref(), signer.as_deref()]
        .into_iter()
        .flatten()
        .chain(events.iter().filter_map(|e| e.note.as_deref()))
        .chain([practice.name.as_str(), payer.name.as_str()])
        .collect();
    let full = format!("{}\n{body}", subject.as_deref().unwrap_or_default());
    let placeholders: Vec<String> = drafts::placeholders_in(&full)
        .into_iter()
        .filter(|p| how_to_fill(p, &payer.name).is_some() || !typed.iter().any(|t| t.contains(p.as_str())))
        .collect();
    let to_email = payer.contact_email.clone().filter(|_| kind.is_email() && kind != DraftKind::ExitNotice);
    let to_name = payer.contact_name.clone().filter(|_| to_email.is_some());
    let to = to_email.as_ref().map(|e| match &to_name {
        Some(n) => format!("{n} <{e}>"),
        None => e.clone(),
    });
    let ext = if kind.is_email() { "eml" } else { "txt" };
    Ok(Outcome::Draft(DraftLetter {
        kind,
        payer: payer.name.clone(),
        subject,
        to,
        to_name,
        to_email,
        body,
        placeholders,
        warnings,
        attachment: format!("{}-{}-{}.{ext}", slug(&payer.name), kind.key(), today),
        template: if rendered.from_override {
            ctx.drafts.templates_dir().map(|d| d.display().to_string()).unwrap_or_else(|| "override".into())
        } else {
            "built-in".into()
        },
        figures: figs,
    }))
}

fn payer_facts(p: &Payer, today: NaiveDate) -> PayerFacts {
    let years = p.effective_date.map(|d| whole_years(d, today));
    PayerFacts {
        name: p.name.clone(),
        kind: p.kind.label().to_string(),
        kind_key: p.kind.key().to_string(),
        provider_id: or(p.provider_id.clone(), "[PROVIDER ID]"),
        contact_name: or(p.contact_name.clone(), "[CONTACT NAME]"),
        contact_email: or(p.contact_email.clone(), "[CONTACT EMAIL]"),
        contact_phone: or(p.contact_phone.clone(), "[CONTACT PHONE]"),
        in_network_since: or(p.effective_date.map(long_date), "[IN-NETWORK SINCE]"),
        years_in_network: or(
            years.map(|y| match y {
                0 => "less than a year".to_string(),
                1 => "1 year".to_string(),
                n => format!("{n} years"),
            }),
            "[YEARS IN NETWORK]",
        ),
        renewal_date: or(p.renewal_date.map(long_date), "[RENEWAL DATE]"),
        applying: p.status == crate::domain::PayerStatus::Applying,
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

impl DraftLetter {
    /// The attachment content: an `.eml` for emails, the text itself for scripts.
    pub fn attachment_content(&self) -> (String, String) {
        match (&self.subject, self.kind.is_email()) {
            (Some(subject), true) => (
                "message/rfc822".into(),
                drafts::eml(subject, self.to_name.as_deref(), self.to_email.as_deref(), &self.body),
            ),
            _ => ("text/plain; charset=utf-8".into(), self.body.clone()),
        }
    }

    pub fn reply(&self) -> Reply {
        let mut r = Reply::new(format!("Draft {}: {}", self.kind.label(), self.payer))
            .private()
            .tone(if self.warnings.is_empty() { Tone::Info } else { Tone::Warning });
        let mut head = Vec::new();
        if let Some(to) = &self.to {
            head.push(("To".to_string(), to.clone()));
        }
        if let Some(s) = &self.subject {
            head.push(("Subject".to_string(), s.clone()));
        }
        if !head.is_empty() {
            r = r.fields(head);
        }
        r = r.text(self.body.trim_end().to_string());
        let fill: Vec<String> = self
            .placeholders
            .iter()
            .map(|p| match how_to_fill(p, &self.payer) {
                Some(how) => format!("{p} ({how})"),
                None => p.clone(),
            })
            .collect();
        r = r.notes("Fill in before sending", fill).notes("Warnings", self.warnings.clone());
        if self.figures.from_imports() {
            r = r
                .notes("Figures quoted, with their source", vec![self.figures.sources_text(super::practice::iso_date)]);
        }
        let (content_type, content) = self.attachment_content();
        r = r.attach(self.attachment.clone(), content_type, content);
        let q = quoted(&self.payer);
        let logged = match self.kind {
            DraftKind::Call => Some("call"),
            DraftKind::Request => Some("written-request"),
            DraftKind::Followup => Some("follow-up"),
            DraftKind::Counter | DraftKind::Rejection => Some("counter-sent"),
            DraftKind::ExitNotice | DraftKind::ContractQuestions | DraftKind::Underpayment => None,
        };
        if let Some(event) = logged {
            r = r.action("Log it once done", format!("/negotiate log payer:{q} event:{event}"));
        }
        if self.kind == DraftKind::ContractQuestions {
            r = r.action("Open the negotiation", format!("/negotiate start payer:{q}"));
        }
        r.footer(format!(
            "Template: {} ({}). Check every figure before sending.",
            self.kind.template_name(),
            self.template
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_names_for_letters() {
        assert_eq!(long_date("2026-11-27".parse().unwrap()), "November 27, 2026");
        assert_eq!(whole_years("2020-03-01".parse().unwrap(), "2026-11-27".parse().unwrap()), 6);
        assert_eq!(whole_years("2020-12-01".parse().unwrap(), "2026-11-27".parse().unwrap()), 5);
        assert_eq!(slug("Optum Behavioral Health"), "optum-behavioral-health");
        assert_eq!(slug("  "), "payer");
        assert_eq!(or(None, "[NPI]"), "[NPI]");
        assert_eq!(or(Some(" ".into()), "[NPI]"), "[NPI]");
        assert!(how_to_fill("[NPI]", "Cigna").unwrap().contains("/setup npi:"));
        assert!(how_to_fill("[PROVIDER ID]", "Blue Cross").unwrap().contains("name:\"Blue Cross\""));
    }
}
