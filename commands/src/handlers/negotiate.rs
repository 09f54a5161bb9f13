//! /negotiate start | log | outcome | status: a negotiation with a payer as a case that moves
//! through the five steps, with a dated log. The stage follows from the log (domain::stage); what
//! is due follows from the stage and the dates (schedule).

use super::impact::Increase;
use super::rate::validate_amount;
use super::rates::Benchmark;
use super::{audit, practice_today, resolve_cpt, resolve_payer, Outcome};
use crate::analysis::{self, CodeFacts};
use crate::context::Ctx;
use crate::domain::stage::{EventKind, Stage};
use crate::domain::{percent_of, plural, Cents, PayerKind, PayerStatus};
use crate::error::AppError;
use crate::invocation::Invocation;
use crate::market;
use crate::medicare::MedicareAmount;
use crate::reply::{Align, Reply, Table, Tone};
use crate::schedule::{self, Dated, NextAction, Step};
use crate::store::negotiations::{Case, CaseCode, CaseEvent, NewCase, PayerAnswer, StartingPoint};
use crate::store::{CodeRate, Payer, Practice};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;

/// Said instead of a yearly figure of +$0.00 when no weekly volume is recorded.
pub const NO_VOLUME: &str = "add volume to see the yearly value (/payer edit volume:\"90837=10\")";

/// Longest note kept with an event.
pub const MAX_NOTE_CHARS: usize = crate::domain::names::MAX_NOTE_CHARS;

/// The payer's name as it is typed again in a command line (quoted and escaped as needed).
pub(crate) use crate::command_line::quote as quoted;

/// The practice's Medicare benchmark (latest year, its locality and default credential), when
/// both are set up.
pub(crate) fn benchmark(ctx: &Ctx, practice: &Practice) -> Option<Benchmark> {
    let locality = practice.locality_id.as_deref().and_then(|id| ctx.medicare.locality(id))?;
    let credential = practice.credential?;
    let year = ctx.medicare.latest_year();
    Some(Benchmark {
        year,
        locality: locality.display_name(),
        locality_id: locality.id(),
        credential,
        credential_share_pct: credential.medicare_share_pct(),
        setting: practice.setting,
        conversion_factor: ctx.medicare.conversion_factor(year).map(|c| c.to_string()).unwrap_or_default(),
        source: crate::medicare::SOURCE,
    })
}

pub(crate) fn medicare_cents(ctx: &Ctx, b: Option<&Benchmark>, cpt: &str) -> Option<Cents> {
    let b = b?;
    match ctx.medicare.amount(cpt, &b.locality_id, b.year, b.credential, b.setting) {
        Ok(MedicareAmount::Priced { cents, .. }) => Some(cents),
        _ => None,
    }
}

/// The suggested ask per code for a payer, by the same rules as /rates: (code, current, ask).
pub(crate) fn suggested_asks(
    ctx: &Ctx,
    payer: &Payer,
    payers: &[Payer],
    codes: &[CodeRate],
    bench: Option<&Benchmark>,
) -> Vec<(String, Cents, Option<Cents>)> {
    let by_id: HashMap<i64, &Payer> = payers.iter().map(|p| (p.id, p)).collect();
    let mut best: HashMap<&str, (&str, Cents)> = HashMap::new();
    for c in codes.iter().filter(|c| c.payer_id != payer.id) {
        let (Some(cur), Some(other)) = (c.current, by_id.get(&c.payer_id)) else { continue };
        if other.status != PayerStatus::InNetwork || !other.kind.is_negotiable() {
            continue;
        }
        let e = best.entry(c.cpt.as_str()).or_insert((other.name.as_str(), cur.amount));
        if cur.amount > e.1 {
            *e = (other.name.as_str(), cur.amount);
        }
    }
    codes
        .iter()
        .filter(|c| c.payer_id == payer.id)
        .filter_map(|c| {
            let cur = c.current?;
            let facts = CodeFacts {
                rate: cur.amount,
                since: cur.since,
                medicare: medicare_cents(ctx, bench, &c.cpt),
                best_other: best.get(c.cpt.as_str()).copied(),
                market_mid: market::reference(&c.cpt).map(|m| m.mid),
            };
            let ask = analysis::suggested_ask(payer.kind, &facts).map(|a| a.rate);
            Some((c.cpt.clone(), cur.amount, ask))
        })
        .collect()
}

/// `"90837=140 90834=105"`, `"8%"`, or both (`"8% 90837=140"`: 8% on every code, 90837 as given).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateList {
    /// A raise for every code, in hundredths of a percent.
    pub percent: Option<i64>,
    pub per_code: Vec<(String, Cents)>,
}

impl RateList {
    pub fn parse(ctx: &Ctx, option: &str, input: &str) -> Result<RateList, AppError> {
        let mut list = RateList::default();
        for part in input.split([',', ' ', ';']).filter(|p| !p.trim().is_empty()) {
            let part = part.trim();
            if part.ends_with('%') {
                let p = part.trim_start_matches('+');
                match Increase::parse(p).map_err(|_| {
                    AppError::user(format!("{option}: `{part}` is not a raise; write a percentage such as 8%"))
                })? {
                    Increase::Percent(h) => {
                        if list.percent.replace(h).is_some() {
                            return Err(AppError::user(format!(
                                "{option}: give one percentage for all codes, not several"
                            )));
                        }
                    }
                    Increase::Dollars(_) => unreachable!("a value ending in % parses as a percentage"),
                }
                continue;
            }
            let (code, amount) = part.split_once(['=', ':']).ok_or_else(|| {
                AppError::user(format!(
                    "{option}: `{part}` needs a code and an amount, like {option}:\"90837=140 90834=105\", or one raise for all codes like {option}:8%"
                ))
            })?;
            let code = resolve_cpt(ctx, code)?.code.clone();
            let amount = Cents::parse(amount).map_err(|e| AppError::user(format!("{option}: {code}: {e}")))?;
            let amount = validate_amount(amount)
                .map_err(|e| AppError::user(format!("{option}: {code}: {}", e.user_message())))?;
            match list.per_code.iter_mut().find(|(c, _)| *c == code) {
                Some(existing) => existing.1 = amount,
                None => list.per_code.push((code, amount)),
            }
        }
        if list.percent.is_none() && list.per_code.is_empty() {
            return Err(AppError::user(format!(
                "{option}: nothing given; write {option}:\"90837=140 90834=105\" or {option}:8%"
            )));
        }
        Ok(list)
    }

    /// The amount this list gives a code whose base rate is `base`.
    pub fn amount_for(&self, cpt: &str, base: Option<Cents>) -> Option<Cents> {
        if let Some((_, a)) = self.per_code.iter().find(|(c, _)| c == cpt) {
            return Some(*a);
        }
        let (pct, base) = (self.percent?, base?);
        Some(base + Increase::Percent(pct).per_session(base))
    }
}

fn validate_note(inv: &Invocation) -> Result<Option<String>, AppError> {
    let note = inv.opt("note").map(str::to_string);
    if let Some(n) = &note {
        if n.chars().count() > MAX_NOTE_CHARS {
            return Err(AppError::user(format!(
                "The note has {} characters; keep it under {MAX_NOTE_CHARS} (and never put client names or details in it)",
                n.chars().count()
            )));
        }
    }
    Ok(note)
}

/// The date an event happened: `date:` or today; never in the future, never before the case.
fn event_date(inv: &Invocation, today: NaiveDate, opened_on: Option<NaiveDate>) -> Result<NaiveDate, AppError> {
    let on = inv.date("date")?.unwrap_or(today);
    if on > today {
        return Err(AppError::user(format!("date: {on} is in the future; log what has happened (today is {today})")));
    }
    if let Some(opened) = opened_on {
        if on < opened {
            return Err(AppError::user(format!(
                "date: {on} is before the case was opened on {opened}; use a date from {opened} to {today}"
            )));
        }
    }
    Ok(on)
}

#[derive(Debug, Clone, Serialize)]
pub struct NextStep {
    pub step: Step,
    pub action: String,
    pub due: NaiveDate,
    /// Days until due; negative when overdue.
    pub due_in_days: i64,
    /// The draft for the step, as a command line.
    pub draft: Option<String>,
}

impl NextStep {
    pub fn new(n: NextAction, payer: &str, today: NaiveDate) -> NextStep {
        NextStep {
            step: n.step,
            action: n.step.describe(payer),
            due: n.due,
            due_in_days: (n.due - today).num_days(),
            draft: n.step.draft().map(|k| format!("/draft {k} payer:{}", quoted(payer))),
        }
    }

    pub fn when(&self) -> String {
        match self.due_in_days {
            0 => format!("due today ({})", self.due),
            d if d > 0 => format!("due {} (in {})", self.due, plural(d, "day")),
            d => format!("overdue since {} ({})", self.due, plural(-d, "day")),
        }
    }
}

fn dated(events: &[CaseEvent]) -> Vec<Dated> {
    events.iter().map(|e| (e.kind, e.on)).collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct AskRow {
    pub cpt: String,
    pub current_cents: Option<Cents>,
    pub requested_cents: Cents,
    pub increase_cents: Option<Cents>,
    pub increase_pct: Option<f64>,
    pub medicare_cents: Option<Cents>,
    pub requested_pct_of_medicare: Option<f64>,
    pub weekly_volume: i64,
    pub yearly_cents: Option<Cents>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NegotiationStarted {
    pub payer: String,
    pub starting_point: StartingPoint,
    pub opened_on: NaiveDate,
    pub rows: Vec<AskRow>,
    pub yearly_if_granted_cents: Cents,
    pub next: Option<NextStep>,
}

pub async fn start(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = resolve_payer(ctx, practice, inv.required("payer")?).await?;
    let q = quoted(&payer.name);
    match payer.kind {
        PayerKind::Medicare => {
            return Err(AppError::user(
                "Medicare pays one fee schedule to everyone in your locality and does not negotiate; it is the benchmark for your other payers (see /rates)",
            ))
        }
        PayerKind::Medicaid => {
            return Err(AppError::user(format!(
                "{} rates are set by the state and are not negotiated one practice at a time; work through your state association, or negotiate with managed Medicaid plans",
                payer.name
            )))
        }
        _ => {}
    }
    let starting_point = match payer.status {
        PayerStatus::InNetwork => StartingPoint::RateReview,
        PayerStatus::Applying => StartingPoint::NewContract,
        PayerStatus::OutOfNetwork | PayerStatus::Dropped => {
            return Err(AppError::user(format!(
                "You are not in network with {}: when you apply to join, set /payer edit name:{q} status:applying and start then, before you sign",
                payer.name
            )))
        }
    };
    let today = practice_today(ctx, practice);
    let opened_on = event_date(inv, today, None)?;
    let note = validate_note(inv)?;
    if ctx.store.open_case_for(practice.id, payer.id).await?.is_some() {
        return Err(AppError::user(format!(
            "{} already has an open negotiation; see it with /negotiate status payer:{q}, or close it (/negotiate log payer:{q} event:withdrawn) before starting another",
            payer.name
        )));
    }
    let ask = inv.opt("ask").map(|a| RateList::parse(ctx, "ask", a)).transpose()?;
    let payers = ctx.store.list_payers(practice.id).await?;
    let mut codes = ctx.store.practice_code_rates(practice.id, today).await?;
    // Weekly volume as set by hand, else from the claims export (see `figures`).
    crate::figures::with_volume(&ctx.store, practice.id, Some(payer.id), today, &mut codes).await?;
    let bench = benchmark(ctx, practice);
    let suggested = suggested_asks(ctx, &payer, &payers, &codes, bench.as_ref());
    let volume: HashMap<&str, i64> =
        codes.iter().filter(|c| c.payer_id == payer.id).map(|c| (c.cpt.as_str(), c.weekly_volume)).collect();

    let mut case_codes: Vec<CaseCode> = Vec::new();
    for (cpt, current, suggested_ask) in &suggested {
        let requested = match &ask {
            // An explicit ask is the whole ask: codes it does not name stay out of the case.
            Some(list) => list.amount_for(cpt, Some(*current)),
            None => *suggested_ask,
        };
        if let Some(requested) = requested {
            case_codes.push(CaseCode {
                cpt: cpt.clone(),
                start_cents: Some(*current),
                requested_cents: requested,
                offered_cents: None,
            });
        }
    }
    // Codes asked for that the payer has no rate for yet (a new contract, or a new service).
    if let Some(list) = &ask {
        for (cpt, amount) in &list.per_code {
            if !case_codes.iter().any(|c| &c.cpt == cpt) {
                case_codes.push(CaseCode {
                    cpt: cpt.clone(),
                    start_cents: None,
                    requested_cents: *amount,
                    offered_cents: None,
                });
            }
        }
    }
    if case_codes.is_empty() {
        return Err(AppError::user(format!(
            "{} has no rates recorded, so there is nothing to base an ask on: give it per code, like /negotiate start payer:{q} ask:\"90837=140 90834=105\"",
            payer.name
        )));
    }
    for c in &case_codes {
        let requested = validate_amount(c.requested_cents)?;
        if let Some(start) = c.start_cents {
            if requested <= start {
                return Err(AppError::user(format!(
                    "{}: the ask {requested} is not above the current {start}; ask for more than {} pays now",
                    c.cpt, payer.name
                )));
            }
        }
    }
    case_codes.sort_by(|a, b| a.cpt.cmp(&b.cpt));
    let new = NewCase { starting_point, opened_on, codes: case_codes.clone(), note };
    let case = ctx.store.open_case(practice.id, payer.id, &payer.name, &new, &audit(ctx, inv, practice)).await?;
    let events = ctx.store.case_events(&case).await?;
    let rows: Vec<AskRow> = case_codes
        .iter()
        .map(|c| {
            let increase = c.start_cents.map(|s| c.requested_cents - s);
            let weekly = volume.get(c.cpt.as_str()).copied().unwrap_or(0);
            let medicare = medicare_cents(ctx, bench.as_ref(), &c.cpt);
            AskRow {
                cpt: c.cpt.clone(),
                current_cents: c.start_cents,
                requested_cents: c.requested_cents,
                increase_cents: increase,
                increase_pct: increase.zip(c.start_cents).and_then(|(i, s)| percent_of(i, s)),
                medicare_cents: medicare,
                requested_pct_of_medicare: medicare.and_then(|m| percent_of(c.requested_cents, m)),
                weekly_volume: weekly,
                // Without volume there is no yearly value to show (not +$0.00).
                yearly_cents: increase
                    .filter(|_| weekly > 0)
                    .map(|i| analysis::yearly(i, weekly, practice.weeks_per_year)),
            }
        })
        .collect();
    let yearly = rows.iter().filter_map(|r| r.yearly_cents).fold(Cents::ZERO, |a, b| a + b);
    Ok(Outcome::NegotiationStarted(NegotiationStarted {
        payer: payer.name.clone(),
        starting_point,
        opened_on,
        rows,
        yearly_if_granted_cents: yearly,
        next: schedule::next_action(case.stage, &dated(&events), today).map(|n| NextStep::new(n, &payer.name, today)),
    }))
}

#[derive(Debug, Clone, Serialize)]
pub struct EventLogged {
    pub payer: String,
    pub event: EventKind,
    pub on: NaiveDate,
    pub note: Option<String>,
    pub stage_before: Stage,
    pub stage: Stage,
    pub closed: bool,
    pub next: Option<NextStep>,
}

async fn open_case(ctx: &Ctx, practice: &Practice, payer: &Payer) -> Result<Case, AppError> {
    ctx.store.open_case_for(practice.id, payer.id).await?.ok_or_else(|| {
        AppError::user(format!(
            "There is no open negotiation with {}; start one with /negotiate start payer:{}",
            payer.name,
            quoted(&payer.name)
        ))
    })
}

pub async fn log(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = resolve_payer(ctx, practice, inv.required("payer")?).await?;
    let q = quoted(&payer.name);
    let kind: EventKind = inv.need("event", inv.parsed("event")?)?;
    if kind == EventKind::Opened {
        return Err(AppError::user(format!("A case is opened with /negotiate start payer:{q}, not logged")));
    }
    if kind.is_outcome() {
        let result = match kind {
            EventKind::CounterOffer => "countered",
            other => other.key(),
        };
        return Err(AppError::user(format!(
            "Record the payer's answer with /negotiate outcome payer:{q} result:{result}, which also records the rates it brings"
        )));
    }
    let case = open_case(ctx, practice, &payer).await?;
    let today = practice_today(ctx, practice);
    let on = event_date(inv, today, Some(case.opened_on))?;
    let note = validate_note(inv)?;
    let moved = ctx.store.log_case_event(&case, kind, on, note.as_deref(), &audit(ctx, inv, practice)).await?;
    let events = ctx.store.case_events(&case).await?;
    Ok(Outcome::NegotiationLogged(EventLogged {
        payer: payer.name.clone(),
        event: kind,
        on,
        note,
        stage_before: moved.before,
        stage: moved.after,
        closed: moved.after.is_closed(),
        next: schedule::next_action(moved.after, &dated(&events), today).map(|n| NextStep::new(n, &payer.name, today)),
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PayerResult {
    Accepted,
    Countered,
    Denied,
}

impl PayerResult {
    pub fn event(self) -> EventKind {
        match self {
            PayerResult::Accepted => EventKind::Accepted,
            PayerResult::Countered => EventKind::CounterOffer,
            PayerResult::Denied => EventKind::Denied,
        }
    }
}

impl std::str::FromStr for PayerResult {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "accepted" | "accept" | "agreed" => Ok(PayerResult::Accepted),
            "countered" | "counter" | "counter-offer" => Ok(PayerResult::Countered),
            "denied" | "deny" | "rejected" => Ok(PayerResult::Denied),
            other => Err(format!("`{other}` is not an answer; use accepted, countered or denied")),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OutcomeRow {
    pub cpt: String,
    /// The rate before the negotiation (when the case opened, or the rate in effect before).
    pub before_cents: Option<Cents>,
    pub new_cents: Cents,
    /// The date the new rate applies from.
    pub effective: NaiveDate,
    pub requested_cents: Option<Cents>,
    pub increase_cents: Option<Cents>,
    pub increase_pct: Option<f64>,
    pub weekly_volume: i64,
    pub yearly_cents: Option<Cents>,
    /// True when the rate was added to the rate history (an agreement that changes the rate);
    /// a counter-offer is never recorded there.
    pub recorded: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutcomeRecorded {
    pub payer: String,
    pub result: PayerResult,
    pub on: NaiveDate,
    pub effective: Option<NaiveDate>,
    /// The review agreed with the rates, when there is one.
    pub review_on: Option<NaiveDate>,
    #[serde(skip)]
    pub today: NaiveDate,
    pub rows: Vec<OutcomeRow>,
    pub yearly_increase_cents: Cents,
    pub weeks_per_year: i64,
    pub stage: Stage,
    pub closed: bool,
    pub next: Option<NextStep>,
}

pub async fn outcome(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = resolve_payer(ctx, practice, inv.required("payer")?).await?;
    let q = quoted(&payer.name);
    let result: PayerResult = inv.need("result", inv.parsed("result")?)?;
    let case = open_case(ctx, practice, &payer).await?;
    let today = practice_today(ctx, practice);
    let on = event_date(inv, today, Some(case.opened_on))?;
    let note = validate_note(inv)?;
    let given = inv.opt("rates").map(|r| RateList::parse(ctx, "rates", r)).transpose()?;
    let codes = ctx.store.case_codes(&case).await?;
    let mut payer_codes = ctx.store.practice_code_rates(practice.id, today).await?;
    crate::figures::with_volume(&ctx.store, practice.id, Some(payer.id), today, &mut payer_codes).await?;
    let weekly: HashMap<String, i64> =
        payer_codes.into_iter().filter(|c| c.payer_id == payer.id).map(|c| (c.cpt, c.weekly_volume)).collect();

    let explicit_effective = inv.has("effective");
    let effective = inv.date("effective")?.unwrap_or(on);
    let review_on = match inv.opt("review") {
        None => None,
        Some(_) if result != PayerResult::Accepted => {
            return Err(AppError::user("review: goes with an agreement (result:accepted); leave it out here"))
        }
        Some(text) => Some(review_date(text, effective)?),
    };
    if let Some(r) = review_on {
        if r <= on {
            return Err(AppError::user(format!(
                "review: {r} is not after the agreement on {on}; give the agreed review date, like review:6m or review:2027-06-01"
            )));
        }
    }
    let offers = ctx.store.case_offers(&case).await?;
    // The rates per code with the date each applies from: given, else the offer being accepted
    // (with its own date), else the ask.
    let new_rates: Vec<(String, Cents, NaiveDate)> = match result {
        PayerResult::Denied => {
            if given.is_some() || inv.has("effective") {
                return Err(AppError::user("A denial brings no new rates; leave out rates: and effective:"));
            }
            vec![]
        }
        PayerResult::Countered => {
            let Some(list) = &given else {
                return Err(AppError::user(format!(
                    "Give the rates {} offered, like /negotiate outcome payer:{q} result:countered rates:\"90837=125 90834=95\" (or rates:5% for a raise on every code)",
                    payer.name
                )));
            };
            rates_from(list, &codes).into_iter().map(|(c, a)| (c, a, effective)).collect()
        }
        PayerResult::Accepted => match &given {
            Some(list) => rates_from(list, &codes).into_iter().map(|(c, a)| (c, a, effective)).collect(),
            None if case.stage == Stage::CounterOfferReceived && !offers.is_empty() => {
                let mut out: Vec<(String, Cents, NaiveDate)> = offers
                    .iter()
                    .map(|o| {
                        (o.cpt.clone(), o.offered_cents, if explicit_effective { effective } else { o.effective_date })
                    })
                    .collect();
                for c in codes.iter().filter(|c| !offers.iter().any(|o| o.cpt == c.cpt)) {
                    out.push((c.cpt.clone(), c.requested_cents, effective));
                }
                out.sort();
                out
            }
            None => codes.iter().map(|c| (c.cpt.clone(), c.requested_cents, effective)).collect(),
        },
    };
    if result != PayerResult::Denied && new_rates.is_empty() {
        return Err(AppError::user(format!(
            "No rates to record: give them per code, like rates:\"90837=125 90834=95\" (the case asks for {})",
            codes.iter().map(|c| c.cpt.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }

    let mut rows = Vec::new();
    let mut to_write = Vec::new();
    for (cpt, amount, from) in &new_rates {
        let history = ctx.store.rate_history(payer.id, Some(cpt)).await?;
        let in_effect = crate::store::rates::current_from_history(&history, *from).map(|c| c.amount);
        let case_code = codes.iter().find(|c| &c.cpt == cpt);
        let before = case_code.and_then(|c| c.start_cents).or(in_effect);
        // Only an agreement enters the rate history, and the same rate again adds no row.
        let recorded = result == PayerResult::Accepted && in_effect != Some(*amount);
        if recorded {
            to_write.push((cpt.clone(), *amount, *from));
        }
        let increase = before.map(|b| *amount - b);
        let weekly_volume = weekly.get(cpt).copied().unwrap_or(0);
        rows.push(OutcomeRow {
            cpt: cpt.clone(),
            before_cents: before,
            new_cents: *amount,
            effective: *from,
            requested_cents: case_code.map(|c| c.requested_cents),
            increase_cents: increase,
            increase_pct: increase.zip(before).and_then(|(i, b)| percent_of(i, b)),
            weekly_volume,
            yearly_cents: increase.map(|i| analysis::yearly(i, weekly_volume, practice.weeks_per_year)),
            recorded,
        });
    }
    let answer = PayerAnswer {
        kind: result.event(),
        on,
        note,
        offered: if result == PayerResult::Countered {
            new_rates.iter().map(|(c, a, _)| (c.clone(), *a)).collect()
        } else {
            vec![]
        },
        rates: to_write,
        effective,
        review_on,
        source: format!("agreed by {} (negotiation opened {})", payer.name, case.opened_on),
    };
    let moved = ctx.store.record_payer_answer(&case, &answer, &audit(ctx, inv, practice)).await?;
    let events = ctx.store.case_events(&case).await?;
    let yearly = rows.iter().filter_map(|r| r.yearly_cents).fold(Cents::ZERO, |a, b| a + b);
    Ok(Outcome::NegotiationOutcome(OutcomeRecorded {
        payer: payer.name.clone(),
        result,
        on,
        effective: (result != PayerResult::Denied).then_some(effective),
        review_on,
        today,
        rows,
        yearly_increase_cents: yearly,
        weeks_per_year: practice.weeks_per_year,
        stage: moved.after,
        closed: moved.after.is_closed(),
        next: schedule::next_action(moved.after, &dated(&events), today).map(|n| NextStep::new(n, &payer.name, today)),
    }))
}

/// `review:2027-06-01`, or `review:6m` / `review:"6 months"` after the agreed rates start.
fn review_date(text: &str, effective: NaiveDate) -> Result<NaiveDate, AppError> {
    let t = text.trim().to_ascii_lowercase();
    if let Ok(d) = t.parse::<NaiveDate>() {
        return Ok(d);
    }
    let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
    let unit = t[digits.len()..].trim();
    match (digits.parse::<u32>(), unit) {
        (Ok(n @ 1..=36), "m" | "mo" | "month" | "months") => {
            Ok(effective.checked_add_months(chrono::Months::new(n)).unwrap_or(effective))
        }
        _ => Err(AppError::user(format!(
            "review: `{}` is not a date or a number of months; write review:2027-06-01 or review:6m",
            text.trim()
        ))),
    }
}

/// Rates from a list: per-code amounts, and a percentage applied to each asked code's rate
/// when the case opened.
fn rates_from(list: &RateList, codes: &[CaseCode]) -> Vec<(String, Cents)> {
    let mut out: Vec<(String, Cents)> = Vec::new();
    for c in codes {
        if let Some(a) = list.amount_for(&c.cpt, c.start_cents) {
            out.push((c.cpt.clone(), a));
        }
    }
    for (cpt, a) in &list.per_code {
        if !out.iter().any(|(c, _)| c == cpt) {
            out.push((cpt.clone(), *a));
        }
    }
    out.sort();
    out
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseSummary {
    pub payer: String,
    pub stage: Stage,
    pub starting_point: StartingPoint,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub last_contact: Option<NaiveDate>,
    pub days_since_last_contact: Option<i64>,
    pub next: Option<NextStep>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseList {
    pub as_of: NaiveDate,
    pub cases: Vec<CaseSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseCodeView {
    pub cpt: String,
    pub start_cents: Option<Cents>,
    pub requested_cents: Cents,
    pub offered_cents: Option<Cents>,
    pub current_cents: Option<Cents>,
    pub medicare_cents: Option<Cents>,
    pub requested_pct_of_medicare: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    pub as_of: NaiveDate,
    #[serde(flatten)]
    pub summary: CaseSummary,
    pub codes: Vec<CaseCodeView>,
    pub log: Vec<CaseEvent>,
    pub next_follow_up: Option<NaiveDate>,
    pub escalation_due: Option<NaiveDate>,
}

fn summarise(case: &Case, events: &[CaseEvent], today: NaiveDate) -> CaseSummary {
    let log = dated(events);
    let last = schedule::last_contact(&log);
    CaseSummary {
        payer: case.payer.clone(),
        stage: case.stage,
        starting_point: case.starting_point,
        opened_on: case.opened_on,
        closed_on: case.closed_on,
        last_contact: last,
        days_since_last_contact: last.map(|d| schedule::days_between(d, today)),
        next: schedule::next_action(case.stage, &log, today).map(|n| NextStep::new(n, &case.payer, today)),
    }
}

pub async fn status(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let today = practice_today(ctx, practice);
    let Some(name) = inv.opt("payer") else {
        let mut cases = Vec::new();
        for case in ctx.store.open_cases(practice.id).await? {
            let events = ctx.store.case_events(&case).await?;
            cases.push(summarise(&case, &events, today));
        }
        // Most urgent first: overdue, then due soonest.
        cases.sort_by_key(|c| (c.next.as_ref().map(|n| n.due), c.payer.to_lowercase()));
        return Ok(Outcome::NegotiationList(CaseList { as_of: today, cases }));
    };
    let payer = resolve_payer(ctx, practice, name).await?;
    let case = ctx.store.latest_case_for(practice.id, payer.id).await?.ok_or_else(|| {
        AppError::user(format!(
            "There is no negotiation with {} yet; start one with /negotiate start payer:{}",
            payer.name,
            quoted(&payer.name)
        ))
    })?;
    let events = ctx.store.case_events(&case).await?;
    let codes = ctx.store.case_codes(&case).await?;
    let current: HashMap<String, Cents> = ctx
        .store
        .practice_code_rates(practice.id, today)
        .await?
        .into_iter()
        .filter(|c| c.payer_id == payer.id)
        .filter_map(|c| c.current.map(|r| (c.cpt, r.amount)))
        .collect();
    let bench = benchmark(ctx, practice);
    let log = dated(&events);
    Ok(Outcome::NegotiationDetail(CaseDetail {
        as_of: today,
        summary: summarise(&case, &events, today),
        codes: codes
            .iter()
            .map(|c| {
                let medicare = medicare_cents(ctx, bench.as_ref(), &c.cpt);
                CaseCodeView {
                    cpt: c.cpt.clone(),
                    start_cents: c.start_cents,
                    requested_cents: c.requested_cents,
                    offered_cents: c.offered_cents,
                    current_cents: current.get(&c.cpt).copied(),
                    medicare_cents: medicare,
                    requested_pct_of_medicare: medicare.and_then(|m| percent_of(c.requested_cents, m)),
                }
            })
            .collect(),
        next_follow_up: schedule::next_follow_up(case.stage, &log),
        escalation_due: schedule::escalation_due(case.stage, &log),
        log: events,
    }))
}

fn money(c: Option<Cents>) -> String {
    c.map(|c| c.to_string()).unwrap_or_else(|| "-".into())
}

fn pct(p: Option<f64>) -> String {
    p.map(|v| format!("{v:+.1}%")).unwrap_or_else(|| "-".into())
}

fn next_lines(next: &Option<NextStep>) -> Vec<String> {
    match next {
        Some(n) => vec![format!("{}: {}", n.action, n.when())],
        None => vec![],
    }
}

fn with_next_actions(mut r: Reply, payer: &str, next: &Option<NextStep>) -> Reply {
    if let Some(n) = next {
        if let Some(d) = &n.draft {
            r = r.action("Draft it", d.clone());
        }
    }
    r.action("Case and log", format!("/negotiate status payer:{}", quoted(payer)))
}

impl NegotiationStarted {
    pub fn reply(&self) -> Reply {
        let mut t = Table::new(&[
            ("Code", Align::Left),
            ("Now", Align::Right),
            ("Ask", Align::Right),
            ("Change", Align::Right),
            ("Ask %MCR", Align::Right),
            ("Sess/wk", Align::Right),
            ("Per year", Align::Right),
        ]);
        for r in &self.rows {
            t.push(vec![
                r.cpt.clone(),
                money(r.current_cents),
                r.requested_cents.to_string(),
                pct(r.increase_pct),
                r.requested_pct_of_medicare.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "-".into()),
                r.weekly_volume.to_string(),
                r.yearly_cents.map(|c| format!("+{c}")).unwrap_or_else(|| "-".into()),
            ]);
        }
        let worth = if self.rows.iter().any(|r| r.yearly_cents.is_some()) {
            format!("+{} a year at your volume", self.yearly_if_granted_cents)
        } else {
            NO_VOLUME.to_string()
        };
        let r = Reply::new(format!("Negotiation with {} opened", self.payer))
            .tone(Tone::Success)
            .text(format!(
                "Opened {} as a {}. If {} grants the ask: {worth}.",
                self.opened_on,
                self.starting_point.label(),
                self.payer
            ))
            .table(t)
            .notes("Next step", next_lines(&self.next));
        with_next_actions(r, &self.payer, &self.next)
    }
}

impl EventLogged {
    pub fn reply(&self) -> Reply {
        let mut text = format!("{} with {} on {}.", capitalise(self.event.label()), self.payer, self.on);
        if self.stage != self.stage_before {
            text.push_str(&format!(" Stage: {} -> {}.", self.stage_before, self.stage));
        } else {
            text.push_str(&format!(" Stage stays {}.", self.stage));
        }
        if self.closed {
            text.push_str(" The case is closed.");
        }
        let q = quoted(&self.payer);
        let mut r = Reply::new(format!("{}: {} logged", self.payer, self.event.key()))
            .tone(Tone::Success)
            .text(text)
            .notes("Note", self.note.iter().cloned().collect())
            .notes("Next step", next_lines(&self.next));
        if self.event == EventKind::WalkedAway {
            r = r
                .text(format!(
                    "It counts in /walkaway's history. If you are leaving the panel, set {}'s status to dropped, so it leaves your ranking and revenue totals.",
                    self.payer
                ))
                .action("Set status dropped", format!("/payer edit name:{q} status:dropped"))
                .action("Draft the client notice", format!("/draft exit-notice payer:{q}"));
        }
        with_next_actions(r, &self.payer, &self.next)
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

impl OutcomeRecorded {
    pub fn reply(&self) -> Reply {
        let title = match self.result {
            PayerResult::Accepted => format!("{}: rates agreed", self.payer),
            PayerResult::Countered => format!("{}: counter-offer recorded", self.payer),
            PayerResult::Denied => format!("{}: the answer is no, for now", self.payer),
        };
        let mut r = Reply::new(title).tone(match self.result {
            PayerResult::Accepted => Tone::Success,
            PayerResult::Countered => Tone::Info,
            PayerResult::Denied => Tone::Warning,
        });
        if !self.rows.is_empty() {
            let mut t = Table::new(&[
                ("Code", Align::Left),
                ("Before", Align::Right),
                ("New", Align::Right),
                ("Asked", Align::Right),
                ("Change", Align::Right),
                ("From", Align::Left),
                ("Sess/wk", Align::Right),
                ("Per year", Align::Right),
            ]);
            for row in &self.rows {
                t.push(vec![
                    row.cpt.clone(),
                    money(row.before_cents),
                    row.new_cents.to_string(),
                    money(row.requested_cents),
                    pct(row.increase_pct),
                    row.effective.to_string(),
                    row.weekly_volume.to_string(),
                    row.yearly_cents.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
                ]);
            }
            let worth = format!(
                "{} a year at your volume ({} weeks), against the rates when the case opened",
                signed(self.yearly_increase_cents),
                self.weeks_per_year
            );
            r = r
                .text(match self.result {
                    PayerResult::Countered => format!(
                        "Their offer is kept on the case, not in your rate history: your rates stay as they are until you accept it. Taken as it is, it would be worth {worth}."
                    ),
                    _ => {
                        let later: Vec<String> = self
                            .rows
                            .iter()
                            .filter(|r| r.recorded && r.effective > self.today)
                            .map(|r| format!("{} from {}", r.cpt, r.effective))
                            .collect();
                        let mut t = format!("The agreed rates are in the rate history: {worth}.");
                        if !later.is_empty() {
                            t.push_str(&format!(
                                " Until they start ({}), /rates shows the rates in force with the agreed ones beside them.",
                                later.join(", ")
                            ));
                        }
                        t
                    }
                })
                .table(t);
            let unchanged: Vec<&str> = self.rows.iter().filter(|r| !r.recorded).map(|r| r.cpt.as_str()).collect();
            if self.result == PayerResult::Accepted && !unchanged.is_empty() {
                r = r.text(format!(
                    "Already in the rate history at that amount, not added again: {}.",
                    unchanged.join(", ")
                ));
            }
        }
        let q = quoted(&self.payer);
        r = match self.result {
            PayerResult::Accepted => {
                let next = match self.review_on {
                    Some(d) => format!(" The review agreed for {d} is the next time to ask; reminders will follow."),
                    None => " The next opening is the following renewal.".to_string(),
                };
                r.text(format!("The case is closed. Ask for the signed amendment or fee schedule in writing.{next}"))
            }
            PayerResult::Countered => r
                .text("Answer it with a counter-proposal (your ask, or a middle you can live with), or accept it.")
                .action("Accept the offer", format!("/negotiate outcome payer:{q} result:accepted")),
            PayerResult::Denied => r.text(analysis::DENIAL_ADVICE),
        };
        r = r.notes("Next step", next_lines(&self.next));
        with_next_actions(r, &self.payer, &self.next).action("Rate history", format!("/rate history payer:{q}"))
    }
}

fn signed(c: Cents) -> String {
    if c.0 >= 0 {
        format!("+{c}")
    } else {
        c.to_string()
    }
}

impl CaseList {
    pub fn reply(&self) -> Reply {
        if self.cases.is_empty() {
            return Reply::new("No open negotiations")
                .text("Start one with /negotiate start payer:NAME; /rates shows which payer to work on first.")
                .action("Rank your payers", "/rates");
        }
        let mut t = Table::new(&[
            ("Payer", Align::Left),
            ("Stage", Align::Left),
            ("Last contact", Align::Right),
            ("Next", Align::Left),
            ("Due", Align::Left),
        ]);
        for c in &self.cases {
            t.push(vec![
                c.payer.clone(),
                c.stage.label().into(),
                c.days_since_last_contact
                    .map(|d| format!("{} ago", plural(d, "day")))
                    .unwrap_or_else(|| "none yet".into()),
                c.next.as_ref().map(|n| n.step.key().to_string()).unwrap_or_default(),
                c.next.as_ref().map(|n| n.when()).unwrap_or_default(),
            ]);
        }
        let mut r = Reply::new(format!(
            "{} open negotiation{} as of {}",
            self.cases.len(),
            if self.cases.len() == 1 { "" } else { "s" },
            self.as_of
        ))
        .table(t)
        .notes(
            "Next steps",
            self.cases.iter().filter_map(|c| c.next.as_ref().map(|n| format!("{}: {}", n.action, n.when()))).collect(),
        );
        if let Some(first) = self.cases.first() {
            r = r.action(
                format!("{} in detail", first.payer),
                format!("/negotiate status payer:{}", quoted(&first.payer)),
            );
            if let Some(d) = first.next.as_ref().and_then(|n| n.draft.clone()) {
                r = r.action("Draft the next step", d);
            }
        }
        r
    }
}

impl CaseDetail {
    pub fn reply(&self) -> Reply {
        let s = &self.summary;
        let mut fields = vec![
            ("Stage".to_string(), s.stage.label().to_string()),
            ("Opened".to_string(), format!("{} ({})", s.opened_on, s.starting_point.label())),
            (
                "Last contact".to_string(),
                match (s.last_contact, s.days_since_last_contact) {
                    (Some(d), Some(n)) => format!("{d} ({} ago)", plural(n, "day")),
                    _ => "none yet".into(),
                },
            ),
        ];
        if let Some(closed) = s.closed_on {
            fields.push(("Closed".into(), closed.to_string()));
        }
        if let Some(n) = &s.next {
            fields.push(("Next".into(), format!("{} ({})", n.action, n.when())));
        }
        if let Some(f) = self.next_follow_up {
            fields.push(("Next follow-up".into(), f.to_string()));
        }
        if let Some(e) = self.escalation_due {
            fields.push(("Escalate if no answer by".into(), e.to_string()));
        }
        let mut codes = Table::new(&[
            ("Code", Align::Left),
            ("At start", Align::Right),
            ("Ask", Align::Right),
            ("Offered", Align::Right),
            ("Now", Align::Right),
            ("Ask %MCR", Align::Right),
        ]);
        for c in &self.codes {
            codes.push(vec![
                c.cpt.clone(),
                money(c.start_cents),
                c.requested_cents.to_string(),
                money(c.offered_cents),
                money(c.current_cents),
                c.requested_pct_of_medicare.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "-".into()),
            ]);
        }
        let mut log =
            Table::new(&[("Date", Align::Left), ("Event", Align::Left), ("By", Align::Left), ("Note", Align::Left)]);
        for e in &self.log {
            log.push(vec![
                e.on.to_string(),
                e.kind.key().into(),
                e.recorded_by.split(':').next().unwrap_or_default().to_string(),
                e.note.clone().unwrap_or_default().replace(['\n', '\r'], " "),
            ]);
        }
        let title = if s.closed_on.is_some() {
            format!("Negotiation with {} (closed, {})", s.payer, s.stage)
        } else {
            format!("Negotiation with {}: {}", s.payer, s.stage)
        };
        let q = quoted(&s.payer);
        let mut r = Reply::new(title).fields(fields).table(codes).table(log);
        if let Some(d) = s.next.as_ref().and_then(|n| n.draft.clone()) {
            r = r.action("Draft the next step", d);
        }
        if s.closed_on.is_none() {
            r = r.action("Log an event", format!("/negotiate log payer:{q} event:"));
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_step_says_when() {
        let today: NaiveDate = "2026-11-27".parse().unwrap();
        let n = |due: &str| {
            NextStep::new(NextAction { step: Step::FollowUp, due: due.parse().unwrap() }, "Blue Cross", today)
        };
        assert_eq!(n("2026-11-27").when(), "due today (2026-11-27)");
        assert_eq!(n("2026-12-01").when(), "due 2026-12-01 (in 4 days)");
        assert_eq!(n("2026-11-20").when(), "overdue since 2026-11-20 (7 days)");
        assert_eq!(n("2026-11-20").draft.as_deref(), Some("/draft followup payer:\"Blue Cross\""));
    }

    #[test]
    fn rate_list_amounts() {
        let l = RateList { percent: Some(800), per_code: vec![("90837".into(), Cents(14000))] };
        assert_eq!(l.amount_for("90837", Some(Cents(11850))), Some(Cents(14000)));
        // 8% of $88.00 = $7.04
        assert_eq!(l.amount_for("90834", Some(Cents(8800))), Some(Cents(9504)));
        assert_eq!(l.amount_for("90834", None), None);
        let only_codes = RateList { percent: None, per_code: vec![] };
        assert_eq!(only_codes.amount_for("90834", Some(Cents(8800))), None);
    }
}
