//! `/market PAYER`: a payer's own published in-network rates for the practice's state, per code and
//! credential bucket; the import behind `raterise market import` and `raterise market nppes`; and
//! the payer's distribution for `/rates PAYER`.

use super::Outcome;
use crate::context::Ctx;
use crate::domain::Cents;
use crate::error::AppError;
use crate::invocation::Invocation;
use crate::reply::{Align, Reply, Table, Tone};
use crate::store::market_rates::{MarketSource, NewMarketImport, StoredCell};
use crate::store::Practice;
use crate::tic::nppes::{self, BhNpis};
use crate::tic::view::{place, Percentiles};
use crate::tic::{self, Cell, Extract, Market, Options};
use chrono::NaiveDate;
use serde::Serialize;
use std::io::Read;
use std::sync::Arc;

/// One code's distribution. The flat `p*_cents` are per clinician (one value per NPI);
/// `per_contract` has one value per contract (TIN).
#[derive(Debug, Clone, Serialize)]
pub struct MarketCode {
    pub cpt: String,
    pub credential: String,
    pub modifier: String,
    pub pos: String,
    pub setting: String,
    pub n_clinicians: u32,
    pub n_contracts: u32,
    pub p10_cents: Cents,
    pub p25_cents: Cents,
    pub p50_cents: Cents,
    pub p75_cents: Cents,
    pub p90_cents: Cents,
    pub per_contract: Percentiles,
}

impl MarketCode {
    fn from_cell(c: &Cell) -> MarketCode {
        let p = Percentiles::of(&c.clinician_cents);
        MarketCode {
            cpt: c.cpt.clone(),
            credential: c.credential.clone(),
            modifier: c.modifier.clone(),
            pos: c.pos.clone(),
            setting: c.setting.clone(),
            n_clinicians: c.n_clinicians,
            n_contracts: c.n_contracts,
            p10_cents: p.p10_cents,
            p25_cents: p.p25_cents,
            p50_cents: p.p50_cents,
            p75_cents: p.p75_cents,
            p90_cents: p.p90_cents,
            per_contract: Percentiles::of(&c.contract_cents),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct MarketReport {
    pub payer: String,
    pub state: String,
    /// The file(s) the figures come from.
    pub source: String,
    pub last_updated_on: Option<String>,
    pub imported_on: Option<NaiveDate>,
    /// Independent contracts; platform contracts are in `platform_codes`.
    pub codes: Vec<MarketCode>,
    pub platform_codes: Vec<MarketCode>,
    pub scope: String,
}

/// The credential filter values: buckets plus `all`.
pub const CREDENTIAL_CHOICES: &[(&str, &str)] = &[
    ("all", "Every behavioral clinician"),
    ("psychologist", "Psychologists"),
    ("lcsw", "Clinical social workers"),
    ("lmft", "Marriage and family therapists"),
    ("lpc", "Counselors (LPC/LMHC)"),
    ("np", "Psychiatric NPs and nurse specialists"),
    ("psychiatrist", "Psychiatrists"),
    ("other", "Other behavioral clinicians"),
];

fn source_line(sources: &[MarketSource]) -> String {
    sources.iter().map(|s| s.source.clone()).collect::<Vec<_>>().join("; ")
}

/// `/market PAYER [cpt:CODE] [credential:...] [state:XX]`.
pub async fn run(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let payer = inv.required("payer")?.trim().to_string();
    let state = match inv.opt("state") {
        Some(s) => s.trim().to_ascii_uppercase(),
        None => tic::view::practice_state(ctx, practice).ok_or_else(|| {
            AppError::NotSetUp(
                "Say which state's market to show (/market Cigna state:IL), or set your Medicare locality with /setup locality:".into(),
            )
        })?,
    };
    let cpt = inv.opt("cpt").map(|c| c.trim().to_ascii_uppercase());
    let credential = inv.opt("credential").map(|c| c.trim().to_ascii_lowercase());
    if let Some(c) = &credential {
        if !CREDENTIAL_CHOICES.iter().any(|(k, _)| k == c) {
            return Err(AppError::user(format!(
                "credential: use one of {}",
                CREDENTIAL_CHOICES.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let (sources, cells) = ctx.store.market_cells(&payer, &state).await?;
    if cells.is_empty() {
        let known = ctx.store.market_payers().await?;
        let list = if known.is_empty() {
            "No payer's rates are imported yet".to_string()
        } else {
            format!(
                "Imported so far: {}",
                known.iter().map(|(p, s)| format!("{p} ({s})")).collect::<Vec<_>>().join(", ")
            )
        };
        return Err(AppError::user(format!(
            "There are no published rates of {payer} for {state} yet. {list}. An operator imports them with: raterise market import FILE_OR_URL --payer \"{payer}\" --state {state}"
        )));
    }
    let keep = |c: &&StoredCell| {
        cpt.as_ref().is_none_or(|x| *x == c.cell.cpt) && credential.as_ref().is_none_or(|x| *x == c.cell.credential)
    };
    let (platform, independent): (Vec<&StoredCell>, Vec<&StoredCell>) =
        cells.iter().filter(keep).partition(|c| c.cell.platform);
    let first = sources.first();
    Ok(Outcome::Market(MarketReport {
        payer: first.map(|s| s.payer.clone()).unwrap_or(payer),
        state: state.clone(),
        source: source_line(&sources),
        last_updated_on: first.and_then(|s| s.last_updated_on.clone()),
        imported_on: first.map(|s| s.imported_on),
        codes: independent.iter().map(|c| MarketCode::from_cell(&c.cell)).collect(),
        platform_codes: platform.iter().map(|c| MarketCode::from_cell(&c.cell)).collect(),
        scope: format!("in-network rates published by the payer, clinicians practising in {state}"),
    }))
}

impl MarketReport {
    pub fn reply(&self) -> Reply {
        let mut r = Reply::new(format!("{}: published in-network rates, {}", self.payer, self.state)).tone(Tone::Info);
        r = r.text(format!(
            "Per clinician (one value per NPI, platform contracts apart), nearest-rank percentiles. File dated {}, imported {}.",
            self.last_updated_on.as_deref().unwrap_or("(no date in the file)"),
            self.imported_on.map(|d| d.to_string()).unwrap_or_default()
        ));
        let table = |codes: &[MarketCode]| {
            let mut t = Table::new(&[
                ("Code", Align::Left),
                ("Who", Align::Left),
                ("Where", Align::Left),
                ("n NPI", Align::Right),
                ("n TIN", Align::Right),
                ("p10", Align::Right),
                ("p25", Align::Right),
                ("p50", Align::Right),
                ("p75", Align::Right),
                ("p90", Align::Right),
            ]);
            for c in codes {
                t.push(vec![
                    c.cpt.clone(),
                    c.credential.clone(),
                    place(&c.pos, &c.modifier, &c.setting),
                    c.n_clinicians.to_string(),
                    c.n_contracts.to_string(),
                    c.p10_cents.to_string(),
                    c.p25_cents.to_string(),
                    c.p50_cents.to_string(),
                    c.p75_cents.to_string(),
                    c.p90_cents.to_string(),
                ]);
            }
            t
        };
        if self.codes.is_empty() {
            r = r.text("No independent contracts match; see the platform contracts below.");
        } else {
            r = r.table(table(&self.codes));
        }
        if !self.platform_codes.is_empty() {
            r = r.text(format!(
                "Platform contracts (one TIN for at least {} clinicians in at least {} states), reported apart:",
                tic::PLATFORM_MIN_NPIS,
                tic::PLATFORM_MIN_STATES
            ));
            r = r.table(table(&self.platform_codes));
        }
        r.footer(format!(
            "Scope: {} ({}). Cells with fewer than {} contracts are not shown. Source: {}.",
            self.payer,
            self.scope,
            tic::MIN_CONTRACTS,
            self.source
        ))
    }
}

// ---- imports (console) ----

/// What `raterise market import` reports (`--json` prints it).
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub payer: String,
    pub state: Option<String>,
    pub source: String,
    pub last_updated_on: Option<String>,
    pub imported_on: NaiveDate,
    pub items_seen: u64,
    pub items_kept: u64,
    pub rates_kept: u64,
    pub rates_dropped: std::collections::BTreeMap<String, u64>,
    pub npis_matched: u64,
    /// Percentile rows stored.
    pub cells: u64,
    pub cells_suppressed: u64,
    pub platforms: Vec<tic::PlatformContract>,
    pub references_unresolved: u64,
    pub bytes: u64,
}

/// The options and the NPPES table for an import; refuses when NPPES was never loaded.
pub async fn prepare(ctx: &Ctx, state: Option<&str>) -> Result<(Options, Arc<BhNpis>), AppError> {
    let bh = ctx.store.market_npis().await?;
    if bh.is_empty() {
        return Err(AppError::NotSetUp(
            "Load the NPPES file first, so rates can be matched to behavioral clinicians and states: raterise market nppes npidata_pfile.csv".into(),
        ));
    }
    let codes = ctx.medicare.codes().into_iter().map(|c| c.code.clone());
    let mut opts = Options::new(codes, ctx.clock.now().date_naive());
    if let Some(s) = state {
        let s = s.trim().to_ascii_uppercase();
        if s.len() != 2 || !s.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(AppError::user(format!("--state: `{s}` is not a two-letter state code")));
        }
        opts.state = Some(s);
    }
    Ok((opts, Arc::new(bh)))
}

/// Streams the file on a blocking thread (the splitter is CPU work).
pub async fn scan(input: Box<dyn Read + Send>, opts: Options, bh: Arc<BhNpis>) -> Result<Extract, AppError> {
    let joined = tokio::task::spawn_blocking(move || tic::scan(input, &opts, &bh)).await;
    match joined {
        Ok(Ok(x)) => Ok(x),
        Ok(Err(e)) => Err(AppError::user(format!("Nothing was stored: {e}"))),
        Err(e) => Err(AppError::internal("scanning the in-network file", e)),
    }
}

/// Builds the cells and stores them in one transaction.
pub async fn store(
    ctx: &Ctx,
    market: Market,
    payer: &str,
    state: Option<&str>,
    source: &str,
    imported_on: NaiveDate,
) -> Result<ImportSummary, AppError> {
    let summary = ImportSummary {
        payer: payer.to_string(),
        state: state.map(|s| s.to_ascii_uppercase()),
        source: source.to_string(),
        last_updated_on: market.last_updated_on.clone(),
        imported_on,
        items_seen: market.items_seen,
        items_kept: market.items_kept,
        rates_kept: market.rates_kept,
        rates_dropped: market.rates_dropped.clone(),
        npis_matched: market.npis_matched,
        cells: market.cells.len() as u64,
        cells_suppressed: market.cells_suppressed,
        platforms: market.platforms.clone(),
        references_unresolved: market.references_unresolved,
        bytes: market.bytes,
    };
    let json = serde_json::to_string(&summary).map_err(|e| AppError::internal("serializing the import summary", e))?;
    ctx.store
        .save_market_import(&NewMarketImport {
            payer,
            state: summary.state.as_deref(),
            source,
            last_updated_on: market.last_updated_on.as_deref(),
            imported_on,
            summary_json: &json,
            cells: &market.cells,
        })
        .await?;
    Ok(summary)
}

impl ImportSummary {
    pub fn to_text(&self) -> String {
        let dropped: Vec<String> = self.rates_dropped.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let mut s = format!(
            "Imported {} for {}{}: {} items seen, {} kept; {} rates kept, dropped: {}; {} behavioral clinicians matched; {} cells stored ({} too small to show). File dated {}.\n",
            self.source,
            self.payer,
            self.state.as_deref().map(|s| format!(" ({s})")).unwrap_or_default(),
            self.items_seen,
            self.items_kept,
            self.rates_kept,
            if dropped.is_empty() { "none".to_string() } else { dropped.join(", ") },
            self.npis_matched,
            self.cells,
            self.cells_suppressed,
            self.last_updated_on.as_deref().unwrap_or("(no date)")
        );
        for p in &self.platforms {
            s.push_str(&format!(
                "Platform contract {}: {} clinicians in {} states, reported apart.\n",
                p.tin, p.clinicians, p.states
            ));
        }
        if self.references_unresolved > 0 {
            s.push_str(&format!(
                "{} provider reference ids were used by rates but never defined; those rates have no clinicians.\n",
                self.references_unresolved
            ));
        }
        s
    }
}

/// What `raterise market nppes` reports.
#[derive(Debug, Clone, Serialize)]
pub struct NppesSummary {
    pub source: String,
    pub rows: u64,
    pub clinicians: u64,
    pub organisations_skipped: u64,
    pub deactivated_skipped: u64,
}

/// Where the NPPES rows come from.
pub enum NppesInput {
    /// The CSV, plain (a file or a download).
    Csv(Box<dyn Read + Send>),
    /// The ZIP as published, on disk (its directory is at the end, so it must be seekable).
    Zip(std::fs::File),
}

/// Clinicians handed from the reading thread to the database per batch, and batches in flight:
/// memory stays at a few thousand rows however large the file is.
pub const NPPES_BATCH: usize = 2000;
const NPPES_BATCHES_IN_FLIGHT: usize = 4;

/// Streams the NPPES file on a blocking thread into the behavioral table, batch by batch inside
/// one transaction: a file that fails halfway stores nothing and leaves the old table.
pub async fn load_nppes(ctx: &Ctx, input: NppesInput, source: &str) -> Result<NppesSummary, AppError> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<nppes::Clinician>>(NPPES_BATCHES_IN_FLIGHT);
    let reader = tokio::task::spawn_blocking(move || {
        let mut batch = Vec::with_capacity(NPPES_BATCH);
        let mut each = |c| {
            batch.push(c);
            if batch.len() < NPPES_BATCH {
                return true;
            }
            let full = std::mem::replace(&mut batch, Vec::with_capacity(NPPES_BATCH));
            // A closed channel means the database side failed: stop reading.
            tx.blocking_send(full).is_ok()
        };
        let stats = match input {
            NppesInput::Csv(r) => {
                let mut r = std::io::BufReader::with_capacity(1 << 16, r);
                let head = std::io::BufRead::fill_buf(&mut r).map_err(|e| format!("reading the NPPES file: {e}"))?;
                if nppes::is_zip(head) {
                    return Err(
                        "this is a ZIP: save it to disk and pass the file (or unzip it and pass the npidata_pfile CSV)"
                            .to_string(),
                    );
                }
                nppes::read_until(r, &mut each)?
            }
            NppesInput::Zip(f) => nppes::read_zip(std::io::BufReader::with_capacity(1 << 16, f), &mut each)?,
        };
        if !batch.is_empty() && tx.blocking_send(batch).is_err() {
            return Err("the database stopped taking rows".to_string());
        }
        Ok(stats)
    });
    let mut load = ctx.store.begin_market_npis().await?;
    while let Some(batch) = rx.recv().await {
        load.insert(&batch).await?;
    }
    let stats = reader
        .await
        .map_err(|e| AppError::internal("reading the NPPES file", e))?
        .map_err(|e| AppError::user(format!("Nothing was stored: {e}")))?;
    load.commit(source, &stats, ctx.clock.now()).await?;
    Ok(NppesSummary {
        source: source.to_string(),
        rows: stats.rows,
        clinicians: stats.clinicians,
        organisations_skipped: stats.organisations_skipped,
        deactivated_skipped: stats.deactivated_skipped,
    })
}
