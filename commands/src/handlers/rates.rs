//! /rates [payer]: one payer against Medicare, the practice's other payers and the market; or
//! every payer ranked by what it pays relative to Medicare.

use super::{practice_today, resolve_payer, Outcome};
use crate::analysis::{self, CodeFacts, Flag, LastCase, PayerTiming};
use crate::context::{Ctx, RatesKey};
use crate::domain::{div_round_half_up, percent_of, Cents, Credential, PayerKind, PayerStatus, Setting};
use crate::error::AppError;
use crate::figures::{self, ClaimsVolume, Source, VolumeSources};
use crate::invocation::Invocation;
use crate::market;
use crate::medicare::{Locality, MedicareAmount};
use crate::reply::{Align, Reply, Table, Tone};
use crate::store::{CodeRate, Payer, Practice};
use crate::tic::view::{self as market_view, PayerMarket, PayerMarketFigure};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize)]
pub struct Benchmark {
    pub year: u16,
    pub locality: String,
    pub locality_id: String,
    pub credential: Credential,
    pub credential_share_pct: u32,
    pub setting: Setting,
    pub conversion_factor: String,
    pub source: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct BestOther {
    pub payer: String,
    pub rate_cents: Cents,
}

#[derive(Debug, Clone, Serialize)]
pub struct MarketFigure {
    pub low_cents: Cents,
    pub mid_cents: Cents,
    pub high_cents: Cents,
    pub p90_cents: Cents,
    pub observations: u32,
    pub scope: &'static str,
    pub as_of: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct AskFigure {
    pub rate_cents: Cents,
    pub increase_cents: Cents,
    pub increase_pct: Option<f64>,
    pub rule: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RateRowReport {
    pub cpt: String,
    pub description: String,
    pub rate_cents: Cents,
    pub effective_date: NaiveDate,
    pub unchanged_since: NaiveDate,
    /// None when Medicare has no amount for the code (see `medicare_note`).
    pub medicare_cents: Option<Cents>,
    pub medicare_note: Option<String>,
    pub pct_of_medicare: Option<f64>,
    pub best_other: Option<BestOther>,
    pub market: Option<MarketFigure>,
    /// This payer's own published rates for the practice's state (`raterise market import`).
    pub payer_market: Option<PayerMarketFigure>,
    pub flags: Vec<Flag>,
    pub ask: Option<AskFigure>,
    pub weekly_volume: i64,
    /// Where the weekly volume comes from: set by hand, or the claims export (see `figures`).
    pub weekly_volume_source: Option<Source>,
    pub yearly_impact_cents: Option<Cents>,
    /// An agreed rate that starts after today (the rate above stays in force until then).
    pub agreed_cents: Option<Cents>,
    pub agreed_from: Option<NaiveDate>,
}

/// A code with only an agreed rate, starting later (nothing in force yet).
#[derive(Debug, Clone, Serialize)]
pub struct AgreedOnly {
    pub cpt: String,
    pub agreed_cents: Cents,
    pub agreed_from: NaiveDate,
}

#[derive(Debug, Clone, Serialize)]
pub struct RatesReport {
    pub payer: String,
    pub kind: PayerKind,
    pub status: PayerStatus,
    pub negotiable: bool,
    pub as_of: NaiveDate,
    pub medicare: Benchmark,
    pub rows: Vec<RateRowReport>,
    pub yearly_impact_cents: Cents,
    pub weighted_pct_of_medicare: Option<f64>,
    pub next_step: String,
    /// After an agreement: the next opening, until which the suggested ask waits.
    pub ask_waits_until: Option<NaiveDate>,
    pub agreed_later: Vec<AgreedOnly>,
    pub market_source: &'static str,
    /// What the payer's remittances of the last 12 months allowed against this contract.
    pub remittances: Option<crate::era::analysis::Arrivals>,
    /// Sessions per code in the claims export over the last 12 months and the weekly volume
    /// they make; used wherever the practice set no volume by hand.
    pub volume_from_claims: Option<ClaimsVolume>,
    /// Set when the report came through the report cache: everything its reply depends on.
    #[serde(skip)]
    pub cache_key: Option<RatesKey>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RankedPayer {
    pub payer: String,
    pub kind: PayerKind,
    pub status: PayerStatus,
    pub codes: usize,
    /// Volume-weighted; unweighted when the payer has no volume recorded.
    pub pct_of_medicare: Option<f64>,
    pub volume_weighted: bool,
    pub revenue_per_session_cents: Option<Cents>,
    pub yearly_sessions: i64,
    pub yearly_revenue_cents: Cents,
    /// Some of the volume comes from the claims export rather than from the practice's hand.
    pub volume_from_claims: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RankingReport {
    pub practice: String,
    pub as_of: NaiveDate,
    pub medicare: Benchmark,
    /// Every payer except those being applied to.
    pub payers: Vec<RankedPayer>,
    /// Payers being applied to: no revenue yet, listed apart.
    pub prospects: Vec<RankedPayer>,
    /// Yearly revenue from the payers the practice is in network with.
    pub in_network_yearly_revenue_cents: Cents,
}

/// The benchmark the practice compares against, or what to set up first.
fn benchmark(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<(Benchmark, Locality), AppError> {
    let locality = practice.locality_id.as_deref().and_then(|id| ctx.medicare.locality(id)).ok_or_else(|| {
        AppError::NotSetUp(
            "Set your Medicare locality first, so rates can be compared: /setup locality:\"MANHATTAN, NY\" credential:lcsw".into(),
        )
    })?;
    let credential = match inv.parsed::<Credential>("credential")? {
        Some(c) => c,
        None => practice.credential.ok_or_else(|| {
            AppError::NotSetUp(
                "Set the credential that usually renders your sessions first: /setup credential:lcsw (or psychologist, lmft, lpc, np, pa, psychiatrist)".into(),
            )
        })?,
    };
    let year = match inv.integer("year")? {
        None => ctx.medicare.latest_year(),
        Some(y) => {
            let years = ctx.medicare.years();
            if !years.iter().any(|v| i64::from(*v) == y) {
                return Err(AppError::user(format!(
                    "There are no final Medicare figures for {y}; use one of: {}",
                    years.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
                )));
            }
            y as u16
        }
    };
    let cf = ctx.medicare.conversion_factor(year).map(|c| c.to_string()).unwrap_or_default();
    Ok((
        Benchmark {
            year,
            locality: locality.display_name(),
            locality_id: locality.id(),
            credential,
            credential_share_pct: credential.medicare_share_pct(),
            setting: practice.setting,
            conversion_factor: cf,
            source: crate::medicare::SOURCE,
        },
        locality.clone(),
    ))
}

fn medicare_for(ctx: &Ctx, b: &Benchmark, cpt: &str) -> (Option<Cents>, Option<String>) {
    match ctx.medicare.amount(cpt, &b.locality_id, b.year, b.credential, b.setting) {
        Ok(MedicareAmount::Priced { cents, status, .. }) => {
            (Some(cents), crate::medicare::status_note(status).map(str::to_string))
        }
        Ok(MedicareAmount::NotPriced { reason }) => (None, Some(reason)),
        Err(e) => (None, Some(e.to_string())),
    }
}

/// The full comparison for one payer, as `/rates PAYER` shows it, for other commands to build on.
pub(crate) async fn report_for(
    ctx: &Ctx,
    inv: &Invocation,
    practice: &Practice,
    payer: &Payer,
) -> Result<RatesReport, AppError> {
    let (bench, _) = benchmark(ctx, inv, practice)?;
    let today = practice_today(ctx, practice);
    let peers: Vec<PayerKind> = PayerKind::ALL.into_iter().filter(|k| k.is_negotiable()).collect();
    let (mut codes, best) = ctx.store.payer_rates_with_peers(practice.id, payer.id, &peers, today).await?;
    let (volume_sources, volume) =
        figures::with_volume(&ctx.store, practice.id, Some(payer.id), today, &mut codes).await?;
    let target = market_view::parse_target(inv.opt("target"))?;
    let own_market = PayerMarket::load(ctx, practice, &payer.name, bench.credential).await?;
    let last_case = ctx.store.latest_case_for(practice.id, payer.id).await?.map(|c| LastCase::from(&c));
    let mut report = payer_report(ctx, practice, payer, &codes, &best, bench, last_case, today);
    for row in &mut report.rows {
        row.weekly_volume_source = volume_sources.of(payer.id, &row.cpt);
    }
    report.volume_from_claims = volume;
    if let Some(m) = &own_market {
        with_payer_market(&mut report, m, target, practice.weeks_per_year);
    } else if target.is_some() {
        return Err(AppError::user(format!(
            "target: no published rates of {} are imported for your state yet (raterise market import)",
            payer.name
        )));
    }
    let year_ago = today.checked_sub_months(chrono::Months::new(12)).unwrap_or(today);
    let arrivals = crate::era::analysis::arrivals(&ctx.store, payer, year_ago, today).await?;
    report.remittances = Some(arrivals).filter(|a| a.lines > 0);
    Ok(report)
}

/// Adds the payer's own distribution to each row; with a target percentile the ask becomes that
/// percentile where it is above the rate (the rule says so).
fn with_payer_market(report: &mut RatesReport, market: &PayerMarket, target: Option<u32>, weeks: i64) {
    for row in &mut report.rows {
        row.payer_market = market.figure(&row.cpt, row.rate_cents);
        let (Some(t), Some(f), true) = (target, &row.payer_market, report.negotiable) else { continue };
        if let Some((rate, rule)) = market_view::target_ask(f, row.rate_cents, t) {
            let increase = rate - row.rate_cents;
            row.ask = Some(AskFigure {
                rate_cents: rate,
                increase_cents: increase,
                increase_pct: percent_of(increase, row.rate_cents),
                rule,
            });
            row.yearly_impact_cents = Some(analysis::yearly(increase, row.weekly_volume, weeks));
        }
    }
    report.yearly_impact_cents =
        report.rows.iter().filter_map(|r| r.yearly_impact_cents).fold(Cents::ZERO, |a, b| a + b);
}

pub async fn run(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    if let Some(name) = inv.opt("payer") {
        let key = RatesKey {
            practice_id: practice.id,
            revision: practice.revision,
            market_revision: practice.market_revision,
            payer: name.to_lowercase(),
            credential: inv.opt("credential").map(str::to_lowercase),
            year: inv.opt("year").map(str::to_string),
            target: inv.opt("target").map(str::to_lowercase),
            today: practice_today(ctx, practice),
        };
        if let Some(hit) = ctx.rates_cache.get(&key) {
            return Ok(Outcome::Rates(hit));
        }
        let payer = resolve_payer(ctx, practice, name).await?;
        let mut report = report_for(ctx, inv, practice, &payer).await?;
        report.cache_key = Some(key.clone());
        return Ok(Outcome::Rates(ctx.rates_cache.put(key, report)));
    }
    let (bench, _) = benchmark(ctx, inv, practice)?;
    let today = practice_today(ctx, practice);
    let payers = ctx.store.list_payers(practice.id).await?;
    let mut codes = ctx.store.practice_code_rates(practice.id, today).await?;
    let (sources, _) = figures::with_volume(&ctx.store, practice.id, None, today, &mut codes).await?;
    let mut report = ranking(ctx, practice, &payers, &codes, bench, today);
    mark_claims_volume(&mut report, &payers, &codes, &sources);
    Ok(Outcome::Ranking(report))
}

/// Which ranked payers' volume came (in part) from the claims export.
fn mark_claims_volume(report: &mut RankingReport, payers: &[Payer], codes: &[CodeRate], sources: &VolumeSources) {
    for ranked in report.payers.iter_mut().chain(report.prospects.iter_mut()) {
        let Some(p) = payers.iter().find(|p| p.name == ranked.payer) else { continue };
        ranked.volume_from_claims = codes
            .iter()
            .filter(|c| c.payer_id == p.id)
            .any(|c| sources.of(p.id, &c.cpt).is_some_and(|s| s.is_import()));
    }
}

/// `codes` are the payer's own; `best` the best peer rate per code (fixed schedules such as
/// Medicare and Medicaid are the benchmark, not peers to match).
#[allow(clippy::too_many_arguments)]
pub fn payer_report(
    ctx: &Ctx,
    practice: &Practice,
    payer: &Payer,
    codes: &[CodeRate],
    best: &[(String, String, Cents)],
    medicare: Benchmark,
    last_case: Option<LastCase>,
    today: NaiveDate,
) -> RatesReport {
    let best: HashMap<&str, (&str, Cents)> =
        best.iter().map(|(cpt, name, cents)| (cpt.as_str(), (name.as_str(), *cents))).collect();
    let mut rows = Vec::new();
    let mut agreed_later = Vec::new();
    let mut total_impact = Cents::ZERO;
    let (mut weighted_rate, mut weighted_mcr) = (0i128, 0i128);
    for c in codes.iter().filter(|c| c.payer_id == payer.id) {
        let Some(cur) = c.current else {
            if let Some(p) = c.pending {
                agreed_later.push(AgreedOnly {
                    cpt: c.cpt.clone(),
                    agreed_cents: p.amount,
                    agreed_from: p.effective_date,
                });
            }
            continue;
        };
        let description = ctx.medicare.code(&c.cpt).map(|i| i.description.clone()).unwrap_or_default();
        let (mcr, note) = medicare_for(ctx, &medicare, &c.cpt);
        let market_ref = market::reference(&c.cpt);
        let best_other = best.get(c.cpt.as_str()).copied();
        let facts = CodeFacts {
            rate: cur.amount,
            since: cur.since,
            medicare: mcr,
            best_other,
            market_mid: market_ref.map(|m| m.mid),
        };
        // A fixed schedule (Medicare, Medicaid) is a benchmark: no flags to act on.
        let flags = if payer.kind.is_negotiable() { analysis::flags(&facts, today) } else { vec![] };
        let ask = analysis::suggested_ask(payer.kind, &facts);
        // No volume, no yearly value (the reply says how to add it, rather than +$0.00).
        let yearly = ask
            .as_ref()
            .filter(|_| c.weekly_volume > 0)
            .map(|a| analysis::yearly(a.increase, c.weekly_volume, practice.weeks_per_year));
        if let Some(y) = yearly {
            total_impact = total_impact + y;
        }
        if let Some(m) = mcr {
            let w = c.weekly_volume.max(0) as i128;
            weighted_rate += cur.amount.0 as i128 * w;
            weighted_mcr += m.0 as i128 * w;
        }
        rows.push(RateRowReport {
            cpt: c.cpt.clone(),
            description,
            rate_cents: cur.amount,
            effective_date: cur.effective_date,
            unchanged_since: cur.since,
            medicare_cents: mcr,
            medicare_note: note,
            pct_of_medicare: mcr.and_then(|m| percent_of(cur.amount, m)),
            best_other: best_other.map(|(p, r)| BestOther { payer: p.to_string(), rate_cents: r }),
            market: market_ref.map(|m| MarketFigure {
                low_cents: m.low,
                mid_cents: m.mid,
                high_cents: m.high,
                p90_cents: m.p90,
                observations: m.observations,
                scope: market::SCOPE,
                as_of: market::AS_OF,
            }),
            payer_market: None,
            flags,
            ask: ask.map(|a| AskFigure {
                rate_cents: a.rate,
                increase_cents: a.increase,
                increase_pct: percent_of(a.increase, cur.amount),
                rule: a.rule,
            }),
            weekly_volume: c.weekly_volume,
            weekly_volume_source: None,
            yearly_impact_cents: yearly,
            agreed_cents: c.pending.map(|p| p.amount),
            agreed_from: c.pending.map(|p| p.effective_date),
        });
    }
    let stale_since = rows
        .iter()
        .flat_map(|r| r.flags.iter())
        .filter_map(|f| match f {
            Flag::Unchanged { since } => Some(*since),
            _ => None,
        })
        .min();
    let any_flag = rows.iter().any(|r| !r.flags.is_empty());
    let timing = PayerTiming {
        kind: payer.kind,
        status: payer.status,
        renewal_date: payer.renewal_date,
        notice_days: payer.notice_days,
        last_case,
    };
    let ask_waits_until = analysis::agreed_hold(&timing, today).map(|(d, _, _)| d);
    let next_step = if rows.is_empty() && agreed_later.is_empty() {
        let q = crate::command_line::quote(&payer.name);
        format!("No rates recorded for {} yet: add them with /rate set payer:{q} cpt:90837 amount:118.50", payer.name)
    } else {
        analysis::next_step(&timing, &payer.name, any_flag, stale_since, today)
    };
    let weighted_pct_of_medicare =
        if weighted_mcr > 0 { Some(div_round_half_up(weighted_rate * 1000, weighted_mcr) as f64 / 10.0) } else { None };
    RatesReport {
        payer: payer.name.clone(),
        kind: payer.kind,
        status: payer.status,
        negotiable: payer.kind.is_negotiable(),
        as_of: today,
        medicare,
        rows,
        yearly_impact_cents: total_impact,
        weighted_pct_of_medicare,
        next_step,
        ask_waits_until,
        agreed_later,
        market_source: market::CITATION,
        remittances: None,
        volume_from_claims: None,
        cache_key: None,
    }
}

pub fn ranking(
    ctx: &Ctx,
    practice: &Practice,
    payers: &[Payer],
    codes: &[CodeRate],
    medicare: Benchmark,
    today: NaiveDate,
) -> RankingReport {
    let mut mcr_cache: HashMap<&str, Option<Cents>> = HashMap::new();
    let mut ranked: Vec<RankedPayer> = payers
        .iter()
        .map(|p| {
            let mine: Vec<(&CodeRate, Cents)> = codes
                .iter()
                .filter(|c| c.payer_id == p.id)
                .filter_map(|c| c.current.map(|cur| (c, cur.amount)))
                .collect();
            let volume_weighted = mine.iter().any(|(c, _)| c.weekly_volume > 0);
            let (mut num, mut den) = (0i128, 0i128);
            let (mut revenue, mut sessions) = (0i128, 0i64);
            for (c, rate) in &mine {
                let weight = if volume_weighted { c.weekly_volume.max(0) } else { 1 };
                let mcr = *mcr_cache.entry(c.cpt.as_str()).or_insert_with(|| medicare_for(ctx, &medicare, &c.cpt).0);
                if let Some(m) = mcr {
                    num += rate.0 as i128 * weight as i128;
                    den += m.0 as i128 * weight as i128;
                }
                revenue += rate.0 as i128 * c.weekly_volume.max(0) as i128;
                sessions += c.weekly_volume.max(0);
            }
            RankedPayer {
                payer: p.name.clone(),
                kind: p.kind,
                status: p.status,
                codes: mine.len(),
                pct_of_medicare: (den > 0).then(|| div_round_half_up(num * 1000, den) as f64 / 10.0),
                volume_weighted,
                revenue_per_session_cents: (sessions > 0)
                    .then(|| Cents(div_round_half_up(revenue, sessions as i128) as i64)),
                yearly_sessions: sessions * practice.weeks_per_year,
                yearly_revenue_cents: Cents((revenue * practice.weeks_per_year as i128) as i64),
                volume_from_claims: false,
            }
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.pct_of_medicare
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.pct_of_medicare.unwrap_or(f64::NEG_INFINITY))
            .then_with(|| a.payer.cmp(&b.payer))
    });
    // Payers being applied to bring no revenue yet: they are prospects, not panels.
    let (prospects, ranked): (Vec<RankedPayer>, Vec<RankedPayer>) =
        ranked.into_iter().partition(|p| p.status == PayerStatus::Applying);
    let in_network_yearly_revenue_cents = ranked
        .iter()
        .filter(|p| p.status == PayerStatus::InNetwork)
        .fold(Cents::ZERO, |a, p| a + p.yearly_revenue_cents);
    RankingReport {
        practice: practice.name.clone(),
        as_of: today,
        medicare,
        payers: ranked,
        prospects,
        in_network_yearly_revenue_cents,
    }
}

fn pct(p: Option<f64>) -> String {
    p.map(|v| format!("{v:.1}%")).unwrap_or_else(|| "n/a".into())
}

fn benchmark_line(b: &Benchmark) -> String {
    format!(
        "Medicare {} for {} ({}), {} at {}% share, {}; conversion factor {}.",
        b.year,
        b.locality,
        b.locality_id,
        b.credential.label(),
        b.credential_share_pct,
        b.setting.label(),
        b.conversion_factor
    )
}

impl RatesReport {
    pub fn reply(&self) -> Reply {
        let q = crate::command_line::quote(&self.payer);
        let mut r = Reply::new(format!(
            "{}: rates vs Medicare {} ({})",
            self.payer, self.medicare.year, self.medicare.locality
        ));
        r = r.text(benchmark_line(&self.medicare));
        if self.rows.is_empty() {
            return r
                .text(self.next_step.clone())
                .action("Record a rate", format!("/rate set payer:{q} cpt:90837 amount:"));
        }
        let mut t = Table::new(&[
            ("Code", Align::Left),
            ("Rate", Align::Right),
            ("Medicare", Align::Right),
            ("%MCR", Align::Right),
            ("Best other", Align::Right),
            ("UHC mid", Align::Right),
            ("Ask", Align::Right),
            ("Yearly", Align::Right),
        ]);
        for row in &self.rows {
            t.push(vec![
                row.cpt.clone(),
                row.rate_cents.to_string(),
                row.medicare_cents.map(|c| c.to_string()).unwrap_or_else(|| "none".into()),
                pct(row.pct_of_medicare),
                row.best_other.as_ref().map(|b| b.rate_cents.to_string()).unwrap_or_else(|| "-".into()),
                row.market.as_ref().map(|m| m.mid_cents.to_string()).unwrap_or_else(|| "-".into()),
                row.ask.as_ref().map(|a| a.rate_cents.to_string()).unwrap_or_else(|| "-".into()),
                row.yearly_impact_cents.map(|c| format!("+{c}")).unwrap_or_else(|| "-".into()),
            ]);
        }
        r = r.table(t);
        let mut agreed: Vec<String> = self
            .rows
            .iter()
            .filter_map(|row| {
                let (a, from) = (row.agreed_cents?, row.agreed_from?);
                Some(format!("{}: {} in force; agreed {a} from {from}", row.cpt, row.rate_cents))
            })
            .collect();
        agreed.extend(
            self.agreed_later.iter().map(|a| format!("{}: agreed {} from {}", a.cpt, a.agreed_cents, a.agreed_from)),
        );
        r = r.notes("Agreed, not yet in force", agreed);
        let mut flags = Vec::new();
        for row in &self.rows {
            for f in &row.flags {
                flags.push(format!("{}: {}", row.cpt, f.describe()));
            }
            if let Some(n) = &row.medicare_note {
                flags.push(format!("{}: {n}", row.cpt));
            }
        }
        r = r.notes("Flags", flags);
        r = r.notes(
            format!("{}'s own published rates", self.payer),
            self.rows
                .iter()
                .filter_map(|row| {
                    row.payer_market
                        .as_ref()
                        .map(|m| format!("{}: you are {}. {}", row.cpt, m.position.describe(), m.citation()))
                })
                .collect(),
        );
        if self.negotiable {
            let asks: Vec<String> = self
                .rows
                .iter()
                .filter_map(|row| {
                    row.ask.as_ref().map(|a| {
                        format!(
                            "{}: ask {} ({}{}) - {}",
                            row.cpt,
                            a.rate_cents,
                            a.increase_pct.map(|p| format!("{p:+.1}%")).unwrap_or_default(),
                            if row.weekly_volume > 0 {
                                format!(", {} a week", row.weekly_volume)
                            } else {
                                String::new()
                            },
                            a.rule
                        )
                    })
                })
                .collect();
            let title = match self.ask_waits_until {
                Some(d) => format!("Suggested ask, for the next opening on {d}"),
                None => "Suggested ask".to_string(),
            };
            r = r.notes(title, asks);
            let asked = self.rows.iter().any(|row| row.ask.is_some());
            let valued = self.rows.iter().any(|row| row.yearly_impact_cents.is_some());
            if asked && valued {
                r = r.text(format!(
                    "If granted: +{} a year at your volume{}.",
                    self.yearly_impact_cents,
                    self.weighted_pct_of_medicare
                        .map(|p| format!("; today {} pays {p:.1}% of Medicare, volume-weighted", self.payer))
                        .unwrap_or_default()
                ));
            } else if asked {
                r = r.text(format!("If granted: {}.", super::negotiate::NO_VOLUME));
            }
        } else {
            r = r.tone(Tone::Info);
        }
        if let Some(v) = &self.volume_from_claims {
            let mut lines = vec![format!(
                "Sessions per code in your {} ({:.1} weeks), and the weekly volume they make:",
                v.source,
                v.days as f64 / 7.0
            )];
            for c in &v.codes {
                let row = self.rows.iter().find(|r| r.cpt == c.cpt);
                let used = match row.and_then(|r| r.weekly_volume_source) {
                    Some(Source::HandSet) => format!(
                        "; your volume set by hand ({} a week) is used instead",
                        row.map(|r| r.weekly_volume).unwrap_or_default()
                    ),
                    Some(_) => ", used for the yearly figures".to_string(),
                    None => ", no rate on file for it".to_string(),
                };
                lines.push(format!("{}: {} sessions, {} a week{used}", c.cpt, c.sessions, c.weekly));
            }
            if v.codes.is_empty() {
                lines.push(format!("none billed to {} in those dates", self.payer));
            }
            r = r.notes("Volume from claims", lines);
        }
        if let Some(a) = &self.remittances {
            let line = if a.below == 0 && a.above == 0 {
                format!("All {} remittance lines of the last 12 months were allowed at the contracted rate.", a.lines)
            } else {
                format!(
                    "Of {} remittance lines in the last 12 months, {} were allowed below the contract ({} short in all: /underpayments {q}) and {} above it.",
                    a.lines, a.below, Cents(a.below_cents), a.above
                )
            };
            r = r.notes("What arrives", vec![line]);
        }
        r = r.notes("Next step", vec![self.next_step.clone()]);
        // After an agreement the ask waits: no call to action until the next opening; and never
        // a suggestion that would be refused (a payer you are not in network with or applying to).
        let can_start = matches!(self.status, PayerStatus::InNetwork | PayerStatus::Applying);
        if self.negotiable && can_start && self.ask_waits_until.is_none() {
            r = r.action("Draft the request", format!("/draft request payer:{q}"));
            r = r.action("Start a negotiation", format!("/negotiate start payer:{q}"));
        }
        r.action("Rate history", format!("/rate history payer:{q}"))
            .footer(format!("Medicare: {}. Market: {}.", self.medicare.source, self.market_source))
    }
}

impl RankingReport {
    pub fn reply(&self) -> Reply {
        let mut r = Reply::new(format!("{}: payers ranked by % of Medicare", self.practice))
            .text(benchmark_line(&self.medicare));
        if self.payers.is_empty() && self.prospects.is_empty() {
            return r
                .text("No payers yet: add them with /payer add name:Cigna kind:commercial")
                .action("Add a payer", "/payer add name:\"Payer name\" kind:commercial");
        }
        let mut t = Table::new(&[
            ("#", Align::Right),
            ("Payer", Align::Left),
            ("Kind", Align::Left),
            ("%MCR", Align::Right),
            ("Per session", Align::Right),
            ("Sessions/yr", Align::Right),
            ("Revenue/yr", Align::Right),
        ]);
        for (i, p) in self.payers.iter().enumerate() {
            t.push(vec![
                (i + 1).to_string(),
                p.payer.clone(),
                p.kind.key().into(),
                format!(
                    "{}{}",
                    pct(p.pct_of_medicare),
                    if p.volume_weighted || p.pct_of_medicare.is_none() { "" } else { "*" }
                ),
                p.revenue_per_session_cents.map(|c| c.to_string()).unwrap_or_else(|| "-".into()),
                p.yearly_sessions.to_string(),
                p.yearly_revenue_cents.to_string(),
            ]);
        }
        r = r.table(t);
        let mut notes = Vec::new();
        notes.push(format!(
            "Yearly revenue from the payers you are in network with: {}.",
            self.in_network_yearly_revenue_cents
        ));
        if self.payers.iter().any(|p| p.status != PayerStatus::InNetwork) {
            notes.push("Payers you are not in network with (dropped, out of network) are shown but left out of the revenue total and of what to work on first.".to_string());
        }
        if self.payers.iter().any(|p| !p.volume_weighted && p.pct_of_medicare.is_some()) {
            notes.push("* no weekly volume recorded: a plain average over codes (add volume with /payer edit volume:\"90837=10\")".to_string());
        }
        let negotiable: Vec<&RankedPayer> = self
            .payers
            .iter()
            .filter(|p| p.kind.is_negotiable() && p.status == PayerStatus::InNetwork && p.pct_of_medicare.is_some())
            .collect();
        if let (Some(top), Some(bottom)) = (negotiable.first(), negotiable.last()) {
            if negotiable.len() > 1 {
                notes.push(format!(
                    "Most valuable negotiable panel: {} ({}); least: {} ({}), the first to work on.",
                    top.payer,
                    pct(top.pct_of_medicare),
                    bottom.payer,
                    pct(bottom.pct_of_medicare)
                ));
            }
        }
        let from_claims: Vec<&str> =
            self.payers.iter().filter(|p| p.volume_from_claims).map(|p| p.payer.as_str()).collect();
        if !from_claims.is_empty() {
            notes.push(format!(
                "Sessions and revenue of {} use the weekly volume from your claims export (last 12 months) where you set none by hand.",
                figures::join_words(&from_claims)
            ));
        }
        r = r.notes("Notes", notes);
        r = r.notes(
            "Prospects (applying, not signed yet)",
            self.prospects
                .iter()
                .map(|p| match p.pct_of_medicare {
                    Some(_) => format!(
                        "{}: offered {} of Medicare; negotiate before you sign",
                        p.payer,
                        pct(p.pct_of_medicare)
                    ),
                    None => format!("{}: no rates offered yet", p.payer),
                })
                .collect(),
        );
        if let Some(bottom) = negotiable.last() {
            let q = crate::command_line::quote(&bottom.payer);
            r = r.action(format!("Examine {}", bottom.payer), format!("/rates payer:{q}"));
        }
        r.footer(format!("Medicare: {}.", self.medicare.source))
    }
}
