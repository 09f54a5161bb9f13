//! Claims from an EHR export: read (streaming, any common encoding) -> map columns -> parse and
//! validate every row -> de-identify (keyed hashes; everything else about the client dropped) ->
//! one transaction in the store. A file with any bad row writes nothing.
//!
//! A claim's natural key is (client, date of service, code, modifiers, clinician): the same
//! session in a later or overlapping export is the same claim. It is added once; a later export
//! may only move it forward (pending -> paid or denied, denied -> paid after resubmission).

pub mod chart;
pub mod columns;
pub mod metrics;
pub mod read;
pub mod row;

use crate::error::AppError;
use crate::payer_match::PayerMatch;
use crate::privacy::ClientKeySecret;
use crate::store::claims::{ClaimWriter, NewClaim};
use crate::store::{Audit, Store};
use chrono::NaiveDate;
use columns::{ColumnMap, Field};
use row::{ClaimLine, Problem, RowKind, SkipReason};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub use read::TextEncoding;

/// Rows written per statement.
const BATCH: usize = 400;
/// Problems listed in the refusal.
const SHOWN_PROBLEMS: usize = 8;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The file name as given, for the import's record.
    pub source: String,
    /// `--map COLUMN=FIELD` pairs.
    pub map: Vec<(String, String)>,
    /// Rows after this date of service are scheduled appointments, not claims.
    pub today: NaiveDate,
}

/// The practice's payer an imported name was matched to, if any.
#[derive(Debug, Clone, Serialize)]
pub struct PayerSeen {
    pub name: String,
    pub rows: u64,
    /// The practice's payer, or null when none matched (those rows are skipped).
    pub matched: Option<String>,
    pub by: Option<crate::payer_match::MatchedBy>,
    /// Close names among the practice's payers, when unmatched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SkipCount {
    pub reason: SkipReason,
    pub why: &'static str,
    pub rows: u64,
}

/// What an import did. `--json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct ImportSummary {
    pub source: String,
    pub encoding: TextEncoding,
    /// Data rows read (the header not counted).
    pub rows: u64,
    /// Claims new to the database.
    pub added: u64,
    /// Claims already present (from an earlier or overlapping export, or twice in this file).
    pub duplicates: u64,
    /// Of the duplicates, those whose payment news moved them forward (pending -> paid, ...).
    pub updated: u64,
    pub skipped: u64,
    pub skipped_reasons: Vec<SkipCount>,
    pub payers: Vec<PayerSeen>,
    pub first_service: Option<NaiveDate>,
    pub last_service: Option<NaiveDate>,
    pub natural_key: &'static str,
}

pub const NATURAL_KEY: &str = "client, date of service, code, modifiers, clinician";

/// How far an import has got, for a progress bar.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub rows: Arc<AtomicU64>,
    pub bytes: Arc<AtomicU64>,
}

struct Counting<R> {
    inner: R,
    bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Imports one export into the practice. All or nothing: any bad row, and nothing is written;
/// the error names the first rows at fault.
pub async fn import_claims<R: Read + Send + 'static>(
    store: &Store,
    audit: &Audit,
    input: R,
    options: &ImportOptions,
    progress: &Progress,
) -> Result<ImportSummary, AppError> {
    let practice_id = audit.practice_id;
    let secret = store.client_key_secret(practice_id).await?;
    let matcher = store.payer_matcher(practice_id).await?;
    let counted = Counting { inner: input, bytes: progress.bytes.clone() };
    let (text, encoding) = read::utf8_reader(counted).map_err(AppError::User)?;
    let mut csv = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text);
    let mut record = csv::ByteRecord::new();
    let header = match csv.read_byte_record(&mut record) {
        Ok(true) => record_strings(&record, 1).map_err(|p| AppError::user(refusal(&[p], 1)))?,
        Ok(false) => return Err(AppError::user("The file is empty; export the claims as CSV with a header row.")),
        Err(e) => return Err(AppError::user(format!("The file is not readable CSV: {e}"))),
    };
    let overrides = options.map.clone();
    let map = ColumnMap::new(&header, &overrides).map_err(|e| AppError::User(e.0))?;
    let marks_attendance = map.has(Field::Attendance);

    let mut writer: Option<ClaimWriter> = Some(store.begin_claim_import(audit, &options.source).await?);
    let mut problems: Vec<Problem> = Vec::new();
    let mut bad_rows = 0u64;
    let mut rows = 0u64;
    let mut skipped: BTreeMap<SkipReason, u64> = BTreeMap::new();
    let mut payers: HashMap<String, (PayerMatch, u64)> = HashMap::new();
    let mut payer_ids: HashMap<String, i64> = HashMap::new();
    let mut batch: Vec<NewClaim> = Vec::with_capacity(BATCH);
    let mut first_service: Option<NaiveDate> = None;
    let mut last_service: Option<NaiveDate> = None;
    let mut saw_attendance = false;
    let mut written_changes = 0u64;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                problems.push(Problem { line, column: String::new(), expected: format!("not readable CSV ({e})") });
                bad_rows += 1;
                break;
            }
        }
        rows += 1;
        progress.rows.store(rows, Ordering::Relaxed);
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let mut cells: Vec<&str> = Vec::with_capacity(map.headers.len());
        let mut utf8_ok = true;
        for field in record.iter() {
            match std::str::from_utf8(field) {
                Ok(s) => cells.push(s),
                Err(_) => {
                    utf8_ok = false;
                    break;
                }
            }
        }
        if !utf8_ok {
            bad_rows += 1;
            push_problem(&mut problems, Problem {
                line,
                column: String::new(),
                expected: "the text here is not UTF-8 although the start of the file is; save the whole export as UTF-8 (or Windows-1252) and import it again".into(),
            });
            continue;
        }
        match row::classify(&map, &cells, line, options.today) {
            RowKind::Skip(reason) => *skipped.entry(reason).or_default() += 1,
            RowKind::Bad(p) => {
                bad_rows += 1;
                for p in p {
                    push_problem(&mut problems, p);
                }
            }
            RowKind::Claim(claim) => {
                if !payers.contains_key(claim.payer) {
                    payers.insert(claim.payer.to_string(), (matcher.match_payer(claim.payer, claim.payer_id), 0));
                }
                let Some(entry) = payers.get_mut(claim.payer) else { continue };
                entry.1 += 1;
                let Some(payer_id) = entry.0.payer_id() else {
                    *skipped.entry(SkipReason::UnknownPayer).or_default() += 1;
                    continue;
                };
                if !problems.is_empty() {
                    // Already refused: keep reading only to name more bad rows.
                    continue;
                }
                if let Some(ext) = claim.payer_id {
                    if matches!(entry.0, PayerMatch::Matched { by: crate::payer_match::MatchedBy::Name, .. }) {
                        payer_ids.entry(ext.to_string()).or_insert(payer_id);
                    }
                }
                saw_attendance |= claim.outcome.is_attendance();
                first_service = Some(first_service.map_or(claim.service_date, |d| d.min(claim.service_date)));
                last_service = Some(last_service.map_or(claim.service_date, |d| d.max(claim.service_date)));
                batch.push(de_identify(&secret, payer_id, &claim));
                if batch.len() == BATCH {
                    if let Some(w) = writer.as_mut() {
                        written_changes += w.write(&batch).await?;
                    }
                    batch.clear();
                }
            }
        }
    }
    let Some(mut writer) = writer.take() else { unreachable!("the writer is taken once") };
    if !problems.is_empty() {
        writer.abandon().await?;
        return Err(AppError::user(refusal(&problems, bad_rows)));
    }
    written_changes += writer.write(&batch).await?;
    let mut payers: Vec<PayerSeen> = payers
        .into_iter()
        .map(|(name, (m, rows))| match m {
            PayerMatch::Matched { payer, by, .. } => {
                PayerSeen { name, rows, matched: Some(payer), by: Some(by), suggestions: Vec::new() }
            }
            PayerMatch::Unknown { suggestions } => PayerSeen { name, rows, matched: None, by: None, suggestions },
        })
        .collect();
    payers.sort_by(|a, b| a.name.cmp(&b.name));
    let skipped_total: u64 = skipped.values().sum();
    let claims_read = rows - skipped_total;
    let ids: Vec<(String, i64)> = payer_ids.into_iter().collect();
    let done = writer
        .finish(crate::store::claims::ImportRecord {
            rows,
            skipped: skipped_total,
            claims_read,
            first_service,
            last_service,
            marks_attendance: marks_attendance || saw_attendance,
            payer_ids: ids,
            changes: written_changes,
        })
        .await?;
    Ok(ImportSummary {
        source: options.source.clone(),
        encoding,
        rows,
        added: done.added,
        duplicates: claims_read - done.added,
        updated: done.updated,
        skipped: skipped_total,
        skipped_reasons: skipped
            .into_iter()
            .map(|(reason, rows)| SkipCount { reason, why: reason.describe(), rows })
            .collect(),
        payers,
        first_service,
        last_service,
        natural_key: NATURAL_KEY,
    })
}

fn push_problem(problems: &mut Vec<Problem>, p: Problem) {
    if problems.len() < 1000 {
        problems.push(p);
    }
}

fn record_strings(record: &csv::ByteRecord, line: u64) -> Result<Vec<String>, Problem> {
    record
        .iter()
        .map(|f| {
            std::str::from_utf8(f).map(str::to_string).map_err(|_| Problem {
                line,
                column: String::new(),
                expected: "the header is not UTF-8 text".into(),
            })
        })
        .collect()
}

fn refusal(problems: &[Problem], bad_rows: u64) -> String {
    let shown: Vec<String> = problems.iter().take(SHOWN_PROBLEMS).map(|p| format!("- {p}")).collect();
    let more = problems.len().saturating_sub(SHOWN_PROBLEMS);
    format!(
        "Nothing was imported: {bad_rows} row{} of the file {} problems. Fix {} and import the file again.\n{}{}",
        if bad_rows == 1 { "" } else { "s" },
        if bad_rows == 1 { "has" } else { "have" },
        if bad_rows == 1 { "it" } else { "them" },
        shown.join("\n"),
        if more > 0 { format!("\n... and {more} more") } else { String::new() }
    )
}

/// The only place a client's identifier is seen: it becomes a keyed hash here and goes no further.
fn de_identify(secret: &ClientKeySecret, payer_id: i64, c: &ClaimLine<'_>) -> NewClaim {
    let client = secret.client_key(c.client).map(|k| *k.as_bytes()).unwrap_or_default();
    let clinician =
        c.clinician.map(|n| secret.keyed(b"clinician", &[crate::privacy::normalise_identifier(n).as_bytes()]));
    let date = c.service_date.to_string();
    let natural_key = secret.keyed(
        b"claim",
        &[
            &client,
            date.as_bytes(),
            c.cpt.as_bytes(),
            c.modifiers.as_bytes(),
            clinician.as_ref().map_or(&[][..], |k| &k[..]),
        ],
    );
    NewClaim {
        payer_id,
        service_date: c.service_date,
        natural_key,
        cpt: c.cpt.clone(),
        modifiers: c.modifiers.clone(),
        units: c.units,
        client_key: client,
        clinician_key: clinician,
        credential: c.credential.clone(),
        place_of_service: c.place_of_service.clone(),
        billed: c.billed.map(|x| x.0),
        allowed: c.allowed.map(|x| x.0),
        paid: c.paid.map(|x| x.0),
        paid_date: c.paid_date,
        days_to_payment: c.days_to_payment(),
        outcome: c.outcome.key(),
        resubmitted: c.resubmitted,
    }
}
