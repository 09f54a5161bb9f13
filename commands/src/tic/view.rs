//! A payer's imported market as other commands use it: the distribution for one code in the
//! practice's state and credential bucket, where a rate sits in it, and an ask that targets a
//! percentile. Always carried with its scope, date and source.

use super::nppes::Bucket;
use super::stats;
use crate::context::Ctx;
use crate::domain::{Cents, Credential};
use crate::error::AppError;
use crate::store::market_rates::{MarketSource, StoredCell};
use crate::store::Practice;
use serde::Serialize;

pub fn practice_state(ctx: &Ctx, practice: &Practice) -> Option<String> {
    practice.locality_id.as_deref().and_then(|id| ctx.medicare.locality(id)).map(|l| l.state.clone())
}

/// Five percentiles in cents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    pub p10_cents: Cents,
    pub p25_cents: Cents,
    pub p50_cents: Cents,
    pub p75_cents: Cents,
    pub p90_cents: Cents,
}

impl Percentiles {
    pub fn of(v: &[i64; 5]) -> Percentiles {
        Percentiles {
            p10_cents: Cents(v[0]),
            p25_cents: Cents(v[1]),
            p50_cents: Cents(v[2]),
            p75_cents: Cents(v[3]),
            p90_cents: Cents(v[4]),
        }
    }
    pub fn at(&self, p: u32) -> Option<Cents> {
        match p {
            10 => Some(self.p10_cents),
            25 => Some(self.p25_cents),
            50 => Some(self.p50_cents),
            75 => Some(self.p75_cents),
            90 => Some(self.p90_cents),
            _ => None,
        }
    }
    fn array(&self) -> [i64; 5] {
        [self.p10_cents.0, self.p25_cents.0, self.p50_cents.0, self.p75_cents.0, self.p90_cents.0]
    }
}

/// The bucket a practice credential is compared within (`all` when NPPES has no bucket for it).
pub fn bucket_for(c: Credential) -> &'static str {
    match c {
        Credential::Psychologist => "psychologist",
        Credential::Lcsw => "lcsw",
        Credential::Lmft => "lmft",
        Credential::Lpc => "lpc",
        Credential::Np => "np",
        Credential::Psychiatrist => "psychiatrist",
        Credential::Pa => "all",
    }
}

pub fn bucket_label(key: &str) -> &'static str {
    Bucket::from_key(key).map(Bucket::label).unwrap_or("all behavioral clinicians")
}

pub fn place(pos: &str, modifier: &str, setting: &str) -> String {
    let mut s = match pos {
        "CSTM-00" => "any place".to_string(),
        "11" => "office".to_string(),
        "02" | "10" => format!("telehealth ({pos})"),
        p => format!("POS {p}"),
    };
    if !modifier.is_empty() {
        s.push_str(&format!(", mod {modifier}"));
    }
    if !setting.is_empty() {
        s.push_str(&format!(", {setting}"));
    }
    s
}

/// The payer's own distribution for one of the practice's codes, as `/rates PAYER` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PayerMarketFigure {
    pub payer: String,
    pub state: String,
    pub credential: String,
    pub place: String,
    pub n_clinicians: u32,
    pub n_contracts: u32,
    pub percentiles: Percentiles,
    /// Where the practice's rate sits in it.
    pub position: stats::Position,
    pub last_updated_on: Option<String>,
    pub source: String,
}

impl PayerMarketFigure {
    /// One line with scope, date and source.
    pub fn citation(&self) -> String {
        format!(
            "{}'s own published in-network rates, {} in {} ({}, {} clinicians, {} contracts), file dated {}: median {}; source {}",
            self.payer,
            bucket_label(&self.credential),
            self.state,
            self.place,
            self.n_clinicians,
            self.n_contracts,
            self.last_updated_on.as_deref().unwrap_or("undated"),
            self.percentiles.p50_cents,
            self.source
        )
    }
}

/// A payer's stored market for the practice's state, ready to look codes up in.
pub struct PayerMarket {
    payer: String,
    state: String,
    bucket: &'static str,
    sources: Vec<MarketSource>,
    cells: Vec<StoredCell>,
}

impl PayerMarket {
    /// None when nothing is imported for this payer and the practice's state.
    pub async fn load(
        ctx: &Ctx,
        practice: &Practice,
        payer: &str,
        credential: Credential,
    ) -> Result<Option<PayerMarket>, AppError> {
        let Some(state) = practice_state(ctx, practice) else { return Ok(None) };
        let (sources, cells) = ctx.store.market_cells(payer, &state).await?;
        if cells.is_empty() {
            return Ok(None);
        }
        Ok(Some(PayerMarket { payer: payer.to_string(), state, bucket: bucket_for(credential), sources, cells }))
    }

    /// The cell for a code: independent contracts, no modifier, the credential's bucket before
    /// `all`, office before "any place" before other places.
    pub fn figure(&self, cpt: &str, rate: Cents) -> Option<PayerMarketFigure> {
        let pos_rank = |p: &str| match p {
            "11" => 0,
            "CSTM-00" => 1,
            _ => 2,
        };
        let best = self
            .cells
            .iter()
            .filter(|c| !c.cell.platform && c.cell.cpt.eq_ignore_ascii_case(cpt) && c.cell.modifier.is_empty())
            .filter(|c| c.cell.credential == self.bucket || c.cell.credential == "all")
            .min_by_key(|c| {
                (c.cell.credential != self.bucket, pos_rank(&c.cell.pos), std::cmp::Reverse(c.cell.n_clinicians))
            })?;
        let source = self.sources.iter().find(|s| s.import_id == best.import_id);
        let p = Percentiles::of(&best.cell.clinician_cents);
        Some(PayerMarketFigure {
            payer: source.map(|s| s.payer.clone()).unwrap_or_else(|| self.payer.clone()),
            state: self.state.clone(),
            credential: best.cell.credential.clone(),
            place: place(&best.cell.pos, &best.cell.modifier, &best.cell.setting),
            n_clinicians: best.cell.n_clinicians,
            n_contracts: best.cell.n_contracts,
            position: stats::position(rate.0, &p.array()),
            percentiles: p,
            last_updated_on: source.and_then(|s| s.last_updated_on.clone()),
            source: source.map(|s| s.source.clone()).unwrap_or_default(),
        })
    }
}

/// `target:` on `/rates`: a percentile of the payer's own distribution to ask for.
pub fn parse_target(v: Option<&str>) -> Result<Option<u32>, AppError> {
    let Some(v) = v else { return Ok(None) };
    let t = v.trim().trim_start_matches(['p', 'P']).trim_end_matches("th");
    match t.parse::<u32>() {
        Ok(p) if stats::PERCENTILES.contains(&p) && p >= 50 => Ok(Some(p)),
        _ => Err(AppError::user("target: use p50, p75 or p90 (a percentile of the payer's own published rates)")),
    }
}

/// An ask that targets a percentile of the payer's own distribution, when that is above the rate.
pub fn target_ask(figure: &PayerMarketFigure, rate: Cents, target: u32) -> Option<(Cents, String)> {
    let want = figure.percentiles.at(target)?;
    (want > rate).then(|| {
        (
            want,
            format!(
                "the {target}th percentile of {}'s own published rates for {} in {} (file dated {})",
                figure.payer,
                bucket_label(&figure.credential),
                figure.state,
                figure.last_updated_on.as_deref().unwrap_or("undated")
            ),
        )
    })
}
