//! Market rates from payers' Transparency-in-Coverage in-network files.
//!
//! A file (plain JSON or gzip, multi-member too, told apart by its first bytes) is inflated on its
//! own thread into a bounded channel of 1 MB chunks; [`split::Splitter`] finds each `in_network`
//! item and `provider_references` entry; only items with a behavioral code the bot knows go through
//! serde. Rates keep only compact reference ids until the end, so `provider_references` may come
//! before or after `in_network`. Only clinicians in the NPPES behavioral table ([`nppes::BhNpis`])
//! are kept. [`Extract::finish`] dedupes and builds the percentile cells.
//!
//! Kept: fee-for-service items of type CPT or HCPCS; prices of type `negotiated`, `fee schedule` or
//! `derived`, billing class `professional` or `both`, above zero, not expired on the import date.
//! Everything else is dropped and counted by reason.

pub mod generate;
pub mod model;
pub mod nppes;
pub mod split;
pub mod stats;
pub mod toc;
pub mod view;

use chrono::NaiveDate;
use model::{Item, Reference};
use nppes::{BhNpis, Bucket};
use serde::Serialize;
use split::{Sink, SplitError, Splitter};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Read;

/// A cell with fewer contracts (TINs) than this is not stored: one or two contracts would publish
/// a single group's rate, and their percentiles mean little.
pub const MIN_CONTRACTS: usize = 3;
/// A contract (TIN) with at least this many behavioral clinicians in at least
/// [`PLATFORM_MIN_STATES`] states is a platform (Headway, Alma, Grow and the like): its rates are
/// reported in cells of their own, so one TIN's rate does not become everyone's median.
pub const PLATFORM_MIN_NPIS: usize = 500;
pub const PLATFORM_MIN_STATES: usize = 5;

#[derive(Debug, Clone)]
pub struct Options {
    /// Codes to keep (upper case): the behavioral codes raterise ships Medicare figures for.
    pub codes: HashSet<String>,
    /// Prices that expired before this date are dropped.
    pub import_date: NaiveDate,
    /// Only this state's cells (two letters); all states when None.
    pub state: Option<String>,
    pub min_contracts: usize,
    pub platform_min_npis: usize,
    pub platform_min_states: usize,
}

impl Options {
    pub fn new(codes: impl IntoIterator<Item = String>, import_date: NaiveDate) -> Options {
        Options {
            codes: codes.into_iter().map(|c| c.trim().to_ascii_uppercase()).collect(),
            import_date,
            state: None,
            min_contracts: MIN_CONTRACTS,
            platform_min_npis: PLATFORM_MIN_NPIS,
            platform_min_states: PLATFORM_MIN_STATES,
        }
    }
}

#[derive(Debug)]
pub enum TicError {
    /// The JSON is broken at this byte of the decompressed stream.
    Malformed(SplitError),
    /// Reading or inflating failed.
    Io(String),
}

impl std::fmt::Display for TicError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TicError::Malformed(e) => write!(f, "{e}"),
            TicError::Io(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for TicError {}

/// The key a rate is reported under, before the clinician's state and bucket are known.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RateKey {
    pub cpt: String,
    /// "" for none.
    pub modifier: String,
    /// Place of service code, "CSTM-00" for all.
    pub pos: String,
    /// inpatient/outpatient/both (schema 2.x), "" when not given.
    pub setting: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Obs {
    tin: u32,
    npi: u64,
    key: u32,
    cents: u32,
}

/// (state index, rate key, bucket or 0 for all, platform)
type CellKey = (u8, u32, u8, bool);
/// (npi, tin, cents)
type Member = (u64, u32, i64);

#[derive(Debug, Clone, Copy)]
struct Pending {
    reference: u64,
    key: u32,
    cents: u32,
}

/// What the stream gave, before percentiles.
#[derive(Debug, Default)]
pub struct Extract {
    pub items_seen: u64,
    pub items_kept: u64,
    pub rates_kept: u64,
    pub rates_dropped: BTreeMap<String, u64>,
    pub last_updated_on: Option<String>,
    pub version: Option<String>,
    pub bytes: u64,
    keys: Vec<RateKey>,
    key_ids: HashMap<RateKey, u32>,
    tins: Vec<String>,
    tin_ids: HashMap<String, u32>,
    obs: Vec<Obs>,
    pending: Vec<Pending>,
    referenced: HashSet<u64>,
    references: HashMap<u64, Vec<(u32, u64)>>,
    /// 1.x references kept in another file: (id, URL).
    pub locations: Vec<(u64, String)>,
    in_network_done: bool,
    import_date: String,
}

fn count_drop(map: &mut BTreeMap<String, u64>, reason: &str, n: u64) {
    if n > 0 {
        *map.entry(reason.to_string()).or_default() += n;
    }
}

struct Run<'a> {
    x: &'a mut Extract,
    opts: &'a Options,
    bh: &'a BhNpis,
}

impl Run<'_> {
    fn key_id(&mut self, key: RateKey) -> u32 {
        if let Some(id) = self.x.key_ids.get(&key) {
            return *id;
        }
        let id = self.x.keys.len() as u32;
        self.x.keys.push(key.clone());
        self.x.key_ids.insert(key, id);
        id
    }

    fn tin_id(&mut self, tin: &model::Tin) -> u32 {
        let name = format!("{}:{}", tin.kind.trim().to_ascii_lowercase(), tin.value.trim());
        if let Some(id) = self.x.tin_ids.get(&name) {
            return *id;
        }
        let id = self.x.tins.len() as u32;
        self.x.tins.push(name.clone());
        self.x.tin_ids.insert(name, id);
        id
    }

    fn groups(&mut self, groups: &[model::ProviderGroup]) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        for g in groups {
            let mut tin = None;
            for &npi in &g.npi {
                if self.bh.get(npi).is_some() {
                    let t = *tin.get_or_insert_with(|| self.tin_id(&g.tin));
                    out.push((t, npi));
                }
            }
        }
        out
    }

    fn keep_item(&mut self, item: Item) {
        let prices: u64 = item.negotiated_rates.iter().map(|r| r.negotiated_prices.len() as u64).sum();
        let code_type = item.billing_code_type.trim().to_ascii_uppercase();
        if code_type != "CPT" && code_type != "HCPCS" {
            count_drop(&mut self.x.rates_dropped, "code_type", prices);
            return;
        }
        if !item.negotiation_arrangement.trim().eq_ignore_ascii_case("ffs") {
            count_drop(&mut self.x.rates_dropped, "not_ffs", prices);
            return;
        }
        self.x.items_kept += 1;
        let cpt = item.billing_code.trim().to_ascii_uppercase();
        for rate in &item.negotiated_rates {
            let mut keys: Vec<(u32, u32)> = Vec::new();
            for p in &rate.negotiated_prices {
                let kind = p.negotiated_type.trim().to_ascii_lowercase();
                let reason = match kind.as_str() {
                    "negotiated" | "fee schedule" | "derived" => None,
                    "percentage" => Some("percentage"),
                    "per diem" => Some("per_diem"),
                    _ => Some("other_type"),
                };
                let class = p.billing_class.trim().to_ascii_lowercase();
                let cents = (p.negotiated_rate * 100.0).round();
                let expired = p
                    .expiration_date
                    .as_deref()
                    .map(str::trim)
                    .and_then(|d| d.get(..10))
                    .is_some_and(|d| d < self.x.import_date.as_str());
                let reason = reason
                    .or_else(|| (class != "professional" && class != "both").then_some("not_professional"))
                    .or_else(|| (cents.is_nan() || cents < 1.0).then_some("zero_or_negative"))
                    .or_else(|| (cents > 1e8).then_some("implausible"))
                    .or_else(|| expired.then_some("expired"));
                if let Some(r) = reason {
                    count_drop(&mut self.x.rates_dropped, r, 1);
                    continue;
                }
                self.x.rates_kept += 1;
                let setting = p.setting.as_deref().unwrap_or("").trim().to_ascii_lowercase();
                let mods: Vec<String> = match &p.billing_code_modifier {
                    Some(m) if !m.is_empty() => m.iter().map(|m| m.trim().to_ascii_uppercase()).collect(),
                    _ => vec![String::new()],
                };
                let places: Vec<String> = match &p.service_code {
                    Some(s) if !s.is_empty() => s.iter().map(|s| s.trim().to_ascii_uppercase()).collect(),
                    _ => vec!["CSTM-00".to_string()],
                };
                for m in &mods {
                    for pos in &places {
                        let key = RateKey {
                            cpt: cpt.clone(),
                            modifier: m.clone(),
                            pos: pos.clone(),
                            setting: setting.clone(),
                        };
                        let id = self.key_id(key);
                        keys.push((id, cents as u32));
                    }
                }
            }
            if keys.is_empty() {
                continue;
            }
            for (tin, npi) in self.groups(&rate.provider_groups) {
                for &(key, cents) in &keys {
                    self.x.obs.push(Obs { tin, npi, key, cents });
                }
            }
            for r in &rate.provider_references {
                self.x.referenced.insert(r.0);
                for &(key, cents) in &keys {
                    self.x.pending.push(Pending { reference: r.0, key, cents });
                }
            }
        }
    }

    fn keep_reference(&mut self, r: Reference) {
        let Some(id) = r.provider_group_id else { return };
        if let Some(url) = r.location {
            if r.provider_groups.is_empty() {
                self.x.locations.push((id.0, url));
                return;
            }
        }
        let members = self.groups(&r.provider_groups);
        if !members.is_empty() {
            self.x.references.entry(id.0).or_default().extend(members);
        }
    }
}

/// The id of a reference entry without parsing it, for skipping unreferenced ones cheaply.
fn quick_group_id(bytes: &[u8]) -> Option<u64> {
    let at = memchr::memmem::find(bytes, b"\"provider_group_id\"")?;
    let rest = &bytes[at + 19..];
    let rest = &rest[rest.iter().position(|b| *b == b':')? + 1..];
    let start = rest.iter().position(|b| !b.is_ascii_whitespace() && *b != b'"')?;
    let digits = &rest[start..];
    let end = digits.iter().position(|b| !b.is_ascii_digit()).unwrap_or(digits.len());
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

impl Sink for Run<'_> {
    fn wants_code(&mut self, code: &[u8]) -> bool {
        self.x.items_seen += 1;
        let code = std::str::from_utf8(code).unwrap_or("").trim();
        self.opts.codes.contains(code) || self.opts.codes.contains(&code.to_ascii_uppercase())
    }

    fn item(&mut self, bytes: &[u8], offset: u64) -> Result<(), SplitError> {
        // Items without a code are counted here (wants_code was not called for them).
        let item: Item = serde_json::from_slice(bytes).map_err(|e| SplitError {
            offset: offset + model::error_offset(bytes, &e) as u64,
            message: format!("in an in_network item: {e}"),
        })?;
        let code = item.billing_code.trim().to_ascii_uppercase();
        if !self.opts.codes.contains(&code) {
            return Ok(());
        }
        self.keep_item(item);
        Ok(())
    }

    fn skipped(&mut self) {}

    fn reference(&mut self, bytes: &[u8], offset: u64) -> Result<(), SplitError> {
        if self.x.in_network_done {
            if let Some(id) = quick_group_id(bytes) {
                if !self.x.referenced.contains(&id) {
                    return Ok(());
                }
            }
        }
        let r: Reference = serde_json::from_slice(bytes).map_err(|e| SplitError {
            offset: offset + model::error_offset(bytes, &e) as u64,
            message: format!("in a provider_references entry: {e}"),
        })?;
        self.keep_reference(r);
        Ok(())
    }

    fn root_string(&mut self, key: &[u8], value: &[u8]) {
        match key {
            b"last_updated_on" => self.x.last_updated_on = Some(String::from_utf8_lossy(value).into_owned()),
            b"version" => self.x.version = Some(String::from_utf8_lossy(value).into_owned()),
            _ => {}
        }
    }

    fn in_network_done(&mut self) {
        self.x.in_network_done = true;
        // References read before the rates but never used by a kept rate can go now.
        let referenced = &self.x.referenced;
        self.x.references.retain(|id, _| referenced.contains(id));
    }
}

/// Size of the chunks the inflate thread hands over, and how many may wait.
pub const CHUNK: usize = 1 << 20;
pub const CHANNEL_DEPTH: usize = 4;

/// Reads `input` (gzip or plain JSON, by its first bytes) on another thread and splits it here.
pub fn scan(input: Box<dyn Read + Send>, opts: &Options, bh: &BhNpis) -> Result<Extract, TicError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<u8>, String>>(CHANNEL_DEPTH);
    let (recycle_tx, recycle_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let reader = std::thread::Builder::new()
        .name("tic-inflate".into())
        .spawn(move || {
            let mut input = std::io::BufReader::with_capacity(256 << 10, input);
            let head = match std::io::BufRead::fill_buf(&mut input) {
                Ok(h) => h.starts_with(&[0x1f, 0x8b]),
                Err(e) => {
                    let _ = tx.send(Err(format!("reading the file: {e}")));
                    return;
                }
            };
            let mut src: Box<dyn Read> =
                if head { Box::new(flate2::bufread::MultiGzDecoder::new(input)) } else { Box::new(input) };
            loop {
                let mut buf = recycle_rx.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK));
                buf.resize(CHUNK, 0);
                let mut filled = 0;
                // Fill the whole chunk: fewer, bigger hand-overs.
                while filled < CHUNK {
                    match src.read(&mut buf[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            let what = if head { "inflating the gzip stream" } else { "reading the file" };
                            let _ = tx.send(Err(format!("{what}: {e}")));
                            return;
                        }
                    }
                }
                buf.truncate(filled);
                let last = filled == 0;
                if tx.send(Ok(buf)).is_err() || last {
                    return;
                }
            }
        })
        .map_err(|e| TicError::Io(format!("starting the reader thread: {e}")))?;
    let mut extract = Extract { import_date: opts.import_date.format("%Y-%m-%d").to_string(), ..Extract::default() };
    let mut splitter = Splitter::new();
    let result = (|| {
        let mut run = Run { x: &mut extract, opts, bh };
        for chunk in rx.iter() {
            let chunk = chunk.map_err(TicError::Io)?;
            if chunk.is_empty() {
                break;
            }
            splitter.feed(&chunk, &mut run).map_err(TicError::Malformed)?;
            let _ = recycle_tx.send(chunk);
        }
        splitter.finish().map_err(TicError::Malformed)
    })();
    drop_receiver(rx);
    let _ = reader.join();
    extract.bytes = splitter.offset();
    result.map(|_| extract)
}

fn drop_receiver<T>(rx: std::sync::mpsc::Receiver<T>) {
    // Dropping the receiver stops the reader thread at its next send.
    std::mem::drop(rx);
}

/// A 1.x provider-reference file fetched from a `location`.
pub fn parse_location(bytes: &[u8]) -> Result<Vec<model::ProviderGroup>, String> {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(default)]
        provider_groups: Vec<model::ProviderGroup>,
    }
    serde_json::from_slice::<File>(bytes)
        .map(|f| f.provider_groups)
        .map_err(|e| format!("byte {}: {e}", model::error_offset(bytes, &e)))
}

/// One stored percentile row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub state: String,
    pub cpt: String,
    pub modifier: String,
    pub pos: String,
    pub setting: String,
    /// A bucket key, or "all" for every behavioral clinician.
    pub credential: String,
    /// Rates of platform contracts, reported apart.
    pub platform: bool,
    pub n_clinicians: u32,
    pub n_contracts: u32,
    /// p10, p25, p50, p75, p90 with one value per clinician.
    pub clinician_cents: [i64; 5],
    /// The same with one value per contract.
    pub contract_cents: [i64; 5],
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlatformContract {
    pub tin: String,
    pub clinicians: u32,
    pub states: u32,
}

/// The market an import produces.
#[derive(Debug, Clone, Serialize)]
pub struct Market {
    pub items_seen: u64,
    pub items_kept: u64,
    pub rates_kept: u64,
    pub rates_dropped: BTreeMap<String, u64>,
    pub npis_matched: u64,
    pub cells: Vec<Cell>,
    pub cells_suppressed: u64,
    pub platforms: Vec<PlatformContract>,
    pub references_unresolved: u64,
    pub last_updated_on: Option<String>,
    pub version: Option<String>,
    pub bytes: u64,
}

impl Extract {
    /// Adds the groups of a 1.x `location` reference.
    pub fn add_location(&mut self, id: u64, groups: &[model::ProviderGroup], opts: &Options, bh: &BhNpis) {
        let mut run = Run { x: self, opts, bh };
        let members = run.groups(groups);
        if !members.is_empty() {
            self.references.entry(id).or_default().extend(members);
        }
    }

    /// Resolves references, dedupes and builds the cells.
    pub fn finish(mut self, opts: &Options, bh: &BhNpis) -> Market {
        let mut unresolved = HashSet::new();
        for p in std::mem::take(&mut self.pending) {
            match self.references.get(&p.reference) {
                Some(members) => {
                    for &(tin, npi) in members {
                        self.obs.push(Obs { tin, npi, key: p.key, cents: p.cents });
                    }
                }
                None => {
                    unresolved.insert(p.reference);
                }
            }
        }
        self.references = HashMap::new();
        // The same (TIN, NPI, code, modifier, POS, setting, rate) from several plans counts once.
        self.obs.sort_unstable();
        self.obs.dedup();

        // Platform contracts: many clinicians in many states under one TIN.
        let mut per_tin: HashMap<u32, (HashSet<u64>, HashSet<u8>)> = HashMap::new();
        for o in &self.obs {
            let e = per_tin.entry(o.tin).or_default();
            e.0.insert(o.npi);
            if let Some((s, _)) = bh.get(o.npi) {
                e.1.insert(s);
            }
        }
        let mut platforms: Vec<PlatformContract> = Vec::new();
        let mut is_platform = HashSet::new();
        for (tin, (npis, states)) in &per_tin {
            if npis.len() >= opts.platform_min_npis && states.len() >= opts.platform_min_states {
                is_platform.insert(*tin);
                platforms.push(PlatformContract {
                    tin: self.tins[*tin as usize].clone(),
                    clinicians: npis.len() as u32,
                    states: states.len() as u32,
                });
            }
        }
        platforms.sort_by(|a, b| b.clinicians.cmp(&a.clinicians).then_with(|| a.tin.cmp(&b.tin)));

        let state_filter = opts.state.as_deref().map(|s| bh.state_index(s));
        // (state, key, bucket or 0 for all, platform) -> (npi, tin, cents)
        let mut cells: BTreeMap<CellKey, Vec<Member>> = BTreeMap::new();
        let mut matched = HashSet::new();
        for o in &self.obs {
            let Some((state, bucket)) = bh.get(o.npi) else { continue };
            if let Some(want) = state_filter {
                if want != Some(state) {
                    continue;
                }
            }
            matched.insert(o.npi);
            let platform = is_platform.contains(&o.tin);
            let v = (o.npi, o.tin, i64::from(o.cents));
            cells.entry((state, o.key, bucket as u8, platform)).or_default().push(v);
            cells.entry((state, o.key, 0, platform)).or_default().push(v);
        }
        let mut out = Vec::new();
        let mut suppressed = 0;
        for ((state, key, bucket, platform), mut rows) in cells {
            let per_unit = |rows: &mut Vec<Member>, by_npi: bool| -> Vec<i64> {
                rows.sort_unstable_by_key(|r| (if by_npi { r.0 } else { u64::from(r.1) }, r.2));
                let mut vals = Vec::new();
                let mut i = 0;
                while i < rows.len() {
                    let unit = if by_npi { rows[i].0 } else { u64::from(rows[i].1) };
                    let mut j = i;
                    let mut rates = Vec::new();
                    while j < rows.len() && (if by_npi { rows[j].0 } else { u64::from(rows[j].1) }) == unit {
                        rates.push(rows[j].2);
                        j += 1;
                    }
                    rates.dedup();
                    vals.push(stats::lower_median(&rates));
                    i = j;
                }
                vals
            };
            let mut by_npi = per_unit(&mut rows, true);
            let mut by_tin = per_unit(&mut rows, false);
            if by_tin.len() < opts.min_contracts {
                suppressed += 1;
                continue;
            }
            let k = &self.keys[key as usize];
            out.push(Cell {
                state: bh.state_name(state).to_string(),
                cpt: k.cpt.clone(),
                modifier: k.modifier.clone(),
                pos: k.pos.clone(),
                setting: k.setting.clone(),
                credential: Bucket::from_u8(bucket).map(|b| b.key()).unwrap_or("all").to_string(),
                platform,
                n_clinicians: by_npi.len() as u32,
                n_contracts: by_tin.len() as u32,
                clinician_cents: stats::five(&mut by_npi),
                contract_cents: stats::five(&mut by_tin),
            });
        }
        Market {
            items_seen: self.items_seen,
            items_kept: self.items_kept,
            rates_kept: self.rates_kept,
            rates_dropped: self.rates_dropped,
            npis_matched: matched.len() as u64,
            cells: out,
            cells_suppressed: suppressed,
            platforms,
            references_unresolved: unresolved.len() as u64,
            last_updated_on: self.last_updated_on,
            version: self.version,
            bytes: self.bytes,
        }
    }
}
