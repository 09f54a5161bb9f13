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

/// A contract (TIN id) and clinician (NPI) in one word: NPIs have ten digits (< 2^34), which
/// leaves 30 bits for the TIN ids of one import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Who(u64);

const NPI_BITS: u32 = 34;

impl Who {
    fn new(tin: u32, npi: u64) -> Who {
        Who(u64::from(tin) << NPI_BITS | npi)
    }
    fn tin(self) -> u32 {
        (self.0 >> NPI_BITS) as u32
    }
    fn npi(self) -> u64 {
        self.0 & ((1 << NPI_BITS) - 1)
    }
}

/// One clinician's rate under one contract: 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Obs {
    who: Who,
    key: u32,
    cents: u32,
}

/// A kept rate that points at provider references: its prices (`pending_prices`) and reference
/// ids (`pending_refs`), both ranges, resolved at the end (references may come after the rates).
#[derive(Debug, Clone, Copy)]
struct PendingRate {
    prices: (u32, u32),
    refs: (u32, u32),
}

/// A state-matched observation sorted into its cell: (state, key, platform) in `group`.
#[derive(Debug, Clone, Copy)]
struct Row {
    group: u64,
    who: Who,
    cents: u32,
    bucket: u8,
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
    pending: Vec<PendingRate>,
    pending_prices: Vec<(u32, u32)>,
    pending_refs: Vec<u64>,
    /// Once `in_network` has ended: the reference ids kept rates use, sorted.
    referenced: Vec<u64>,
    /// (reference id, behavioral member) of the references read.
    members: Vec<(u64, Who)>,
    /// Ids of the references read (used ones only, once `in_network` has ended).
    defined: Vec<u64>,
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
    /// Reused for each rate's or reference's members.
    scratch: Vec<Who>,
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

    /// The behavioral members of provider groups, appended to `out`.
    fn groups(&mut self, groups: &[model::ProviderGroup], out: &mut Vec<Who>) {
        for g in groups {
            let mut tin = None;
            for &npi in &g.npi {
                if npi >> NPI_BITS == 0 && self.bh.get(npi).is_some() {
                    let t = *tin.get_or_insert_with(|| self.tin_id(&g.tin));
                    out.push(Who::new(t, npi));
                }
            }
        }
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
            if !rate.provider_groups.is_empty() {
                let mut who = std::mem::take(&mut self.scratch);
                who.clear();
                self.groups(&rate.provider_groups, &mut who);
                for &w in &who {
                    for &(key, cents) in &keys {
                        self.x.obs.push(Obs { who: w, key, cents });
                    }
                }
                self.scratch = who;
            }
            if !rate.provider_references.is_empty() {
                let p0 = self.x.pending_prices.len() as u32;
                self.x.pending_prices.extend_from_slice(&keys);
                let r0 = self.x.pending_refs.len() as u32;
                self.x.pending_refs.extend(rate.provider_references.iter().map(|r| r.0));
                self.x.pending.push(PendingRate {
                    prices: (p0, self.x.pending_prices.len() as u32),
                    refs: (r0, self.x.pending_refs.len() as u32),
                });
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
        self.x.defined.push(id.0);
        let mut who = std::mem::take(&mut self.scratch);
        who.clear();
        self.groups(&r.provider_groups, &mut who);
        self.x.members.extend(who.iter().map(|w| (id.0, *w)));
        self.scratch = who;
    }
}

/// The id of a reference entry without parsing it, for skipping unreferenced ones cheaply.
fn quick_group_id(bytes: &[u8]) -> Option<u64> {
    static KEY: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"provider_group_id\""));
    let at = KEY.find(bytes)?;
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
                if self.x.referenced.binary_search(&id).is_err() {
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
        let mut used = self.x.pending_refs.clone();
        used.sort_unstable();
        used.dedup();
        used.shrink_to_fit();
        // References read before the rates but never used by a kept rate can go now.
        self.x.members.retain(|(id, _)| used.binary_search(id).is_ok());
        self.x.defined.retain(|id| used.binary_search(id).is_ok());
        self.x.referenced = used;
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
        let mut run = Run { x: &mut extract, opts, bh, scratch: Vec::new() };
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
        let mut run = Run { x: self, opts, bh, scratch: Vec::new() };
        let mut who = Vec::new();
        run.groups(groups, &mut who);
        self.defined.push(id);
        self.members.extend(who.into_iter().map(|w| (id, w)));
    }

    /// Resolves references, dedupes and builds the cells. Everything here is flat vectors sorted
    /// in place (no per-contract sets), so memory is a few words per observation.
    pub fn finish(mut self, opts: &Options, bh: &BhNpis) -> Market {
        self.members.sort_unstable();
        self.members.dedup();
        self.defined.sort_unstable();
        self.defined.dedup();
        let mut unresolved: Vec<u64> = Vec::new();
        for p in std::mem::take(&mut self.pending) {
            let prices = &self.pending_prices[p.prices.0 as usize..p.prices.1 as usize];
            for &id in &self.pending_refs[p.refs.0 as usize..p.refs.1 as usize] {
                let from = self.members.partition_point(|m| m.0 < id);
                let to = from + self.members[from..].partition_point(|m| m.0 == id);
                if from == to && self.defined.binary_search(&id).is_err() {
                    unresolved.push(id);
                }
                for &(_, who) in &self.members[from..to] {
                    for &(key, cents) in prices {
                        self.obs.push(Obs { who, key, cents });
                    }
                }
            }
        }
        unresolved.sort_unstable();
        unresolved.dedup();
        self.members = Vec::new();
        self.pending_prices = Vec::new();
        self.pending_refs = Vec::new();
        self.referenced = Vec::new();
        self.defined = Vec::new();
        // The same (TIN, NPI, code, modifier, POS, setting, rate) from several plans counts once.
        self.obs.sort_unstable();
        self.obs.dedup();
        self.obs.shrink_to_fit();

        // Platform contracts: many clinicians in many states under one TIN. `obs` is sorted by
        // TIN, then NPI.
        let mut platforms: Vec<PlatformContract> = Vec::new();
        let mut is_platform = vec![false; self.tins.len()];
        let mut i = 0;
        while i < self.obs.len() {
            let tin = self.obs[i].who.tin();
            let mut npis = 0usize;
            let mut states = [0u64; 4];
            let mut last = None;
            while i < self.obs.len() && self.obs[i].who.tin() == tin {
                let npi = self.obs[i].who.npi();
                if last != Some(npi) {
                    last = Some(npi);
                    npis += 1;
                    if let Some((s, _)) = bh.get(npi) {
                        states[usize::from(s / 64)] |= 1 << (s % 64);
                    }
                }
                i += 1;
            }
            let n_states = states.iter().map(|w| w.count_ones() as usize).sum::<usize>();
            if npis >= opts.platform_min_npis && n_states >= opts.platform_min_states {
                is_platform[tin as usize] = true;
                platforms.push(PlatformContract {
                    tin: self.tins[tin as usize].clone(),
                    clinicians: npis as u32,
                    states: n_states as u32,
                });
            }
        }
        platforms.sort_by(|a, b| b.clinicians.cmp(&a.clinicians).then_with(|| a.tin.cmp(&b.tin)));

        let state_filter = opts.state.as_deref().map(|s| bh.state_index(s));
        let mut rows: Vec<Row> = Vec::new();
        for o in &self.obs {
            let Some((state, bucket)) = bh.get(o.who.npi()) else { continue };
            if let Some(want) = state_filter {
                if want != Some(state) {
                    continue;
                }
            }
            let platform = is_platform[o.who.tin() as usize];
            let group = u64::from(state) << 33 | u64::from(o.key) << 1 | u64::from(platform);
            rows.push(Row { group, who: o.who, cents: o.cents, bucket: bucket as u8 });
        }
        self.obs = Vec::new();
        let mut npis: Vec<u64> = rows.iter().map(|r| r.who.npi()).collect();
        npis.sort_unstable();
        npis.dedup();
        let matched = npis.len();
        drop(npis);
        rows.sort_unstable_by_key(|r| (r.group, r.bucket, r.who.npi(), r.cents));

        // One value per unit (NPI or TIN): the lower median of its distinct rates. `pairs` is
        // sorted by unit, then rate.
        fn per_unit(pairs: &[(u64, u32)], out: &mut Vec<i64>) {
            let mut rates: Vec<i64> = Vec::new();
            let mut i = 0;
            while i < pairs.len() {
                let unit = pairs[i].0;
                rates.clear();
                while i < pairs.len() && pairs[i].0 == unit {
                    rates.push(i64::from(pairs[i].1));
                    i += 1;
                }
                rates.dedup();
                out.push(stats::lower_median(&rates));
            }
        }
        let mut out: Vec<((u8, u32, u8, bool), Cell)> = Vec::new();
        let mut suppressed = 0;
        let mut pairs: Vec<(u64, u32)> = Vec::new();
        let (mut all_npi, mut by_npi, mut by_tin) = (Vec::new(), Vec::new(), Vec::new());
        let mut emit = |rows: &[Row], bucket: u8, by_npi: &mut Vec<i64>, by_tin: &mut Vec<i64>, out: &mut Vec<_>| {
            let g = rows[0].group;
            let (state, key, platform) = ((g >> 33) as u8, (g >> 1) as u32, g & 1 == 1);
            if by_tin.len() < opts.min_contracts {
                suppressed += 1;
                return;
            }
            let k = &self.keys[key as usize];
            let cell = Cell {
                state: bh.state_name(state).to_string(),
                cpt: k.cpt.clone(),
                modifier: k.modifier.clone(),
                pos: k.pos.clone(),
                setting: k.setting.clone(),
                credential: Bucket::from_u8(bucket).map(|b| b.key()).unwrap_or("all").to_string(),
                platform,
                n_clinicians: by_npi.len() as u32,
                n_contracts: by_tin.len() as u32,
                clinician_cents: stats::five(by_npi),
                contract_cents: stats::five(by_tin),
            };
            out.push(((state, key, bucket, platform), cell));
        };
        let mut g0 = 0;
        while g0 < rows.len() {
            let g1 = g0 + rows[g0..].partition_point(|r| r.group == rows[g0].group);
            let group = &rows[g0..g1];
            all_npi.clear();
            let mut b0 = 0;
            while b0 < group.len() {
                let b1 = b0 + group[b0..].partition_point(|r| r.bucket == group[b0].bucket);
                let part = &group[b0..b1];
                pairs.clear();
                pairs.extend(part.iter().map(|r| (r.who.npi(), r.cents)));
                by_npi.clear();
                per_unit(&pairs, &mut by_npi);
                all_npi.extend_from_slice(&by_npi);
                pairs.clear();
                pairs.extend(part.iter().map(|r| (u64::from(r.who.tin()), r.cents)));
                pairs.sort_unstable();
                by_tin.clear();
                per_unit(&pairs, &mut by_tin);
                emit(part, part[0].bucket, &mut by_npi, &mut by_tin, &mut out);
                b0 = b1;
            }
            // Every clinician has one bucket, so the whole group's NPI values are the buckets'.
            pairs.clear();
            pairs.extend(group.iter().map(|r| (u64::from(r.who.tin()), r.cents)));
            pairs.sort_unstable();
            by_tin.clear();
            per_unit(&pairs, &mut by_tin);
            emit(group, 0, &mut all_npi, &mut by_tin, &mut out);
            g0 = g1;
        }
        out.sort_by_key(|(k, _)| *k);
        let out: Vec<Cell> = out.into_iter().map(|(_, c)| c).collect();
        Market {
            items_seen: self.items_seen,
            items_kept: self.items_kept,
            rates_kept: self.rates_kept,
            rates_dropped: self.rates_dropped,
            npis_matched: matched as u64,
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
