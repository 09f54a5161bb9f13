//! Importing remittance files: from paths (files, folders, zip archives) or bytes (chat
//! attachments), each file parsed, balanced and stored on its own, all of it or nothing of it.

use super::{read, Remittance, MAX_FILE_BYTES};
use crate::domain::Cents;
use crate::error::AppError;
use crate::reply::{Align, Reply, Table, Tone};
use crate::store::era::{CheckSeen, ClaimKeys};
use crate::store::{Audit, Store};
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One file to import: its name as the user knows it, and its bytes.
#[derive(Debug, Clone)]
pub struct EraInput {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The most a zip may expand to, and the most entries it may hold: a small archive that
/// inflates to gigabytes is refused, not unpacked.
pub const MAX_ZIP_TOTAL_BYTES: u64 = 512 * 1024 * 1024;
pub const MAX_ZIP_ENTRIES: usize = 10_000;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Refused {
    pub file: String,
    /// 1-based segment number in the file (0: the file as a whole).
    pub segment: usize,
    pub segment_id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UnknownPayer {
    pub name: String,
    pub payer_id: String,
    pub checks: usize,
}

/// The summary of a batch (`--json`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct EraImportSummary {
    pub practice: String,
    pub files: usize,
    pub transactions: usize,
    pub checks: Vec<CheckSeen>,
    pub claims: usize,
    pub service_lines: usize,
    /// Sum of the claims' paid amounts (CLP04) added by this import; reversals net out.
    pub paid_cents: i64,
    pub duplicates: usize,
    pub reversals: usize,
    pub refused: Vec<Refused>,
    /// Payers of the files that match none of the practice's payers (each named once).
    pub unknown_payers: Vec<UnknownPayer>,
    /// Where a documented reading rule was applied.
    pub notes: Vec<String>,
    /// Files of a folder or zip that are not X12 at all (a README, a PDF), left alone.
    pub skipped: Vec<String>,
}

/// An X12 interchange starts with ISA, after an optional byte-order mark and whitespace.
fn looks_like_x12(bytes: &[u8]) -> bool {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    b.iter().position(|c| !c.is_ascii_whitespace()).is_some_and(|i| b[i..].starts_with(b"ISA"))
}

/// What the import needs from the practice: which payer a name means, and keyed hashes.
pub trait PracticeKeys: Send + Sync {
    /// The practice's payer for a payer name (and payer id) from a file.
    fn payer_for(&self, name: &str, payer_id: &str) -> Option<i64>;
    /// The keyed hash of a patient identifier (member id or name); None when nothing is left.
    fn client_key(&self, identifier: &str) -> Option<Vec<u8>>;
    /// The keyed hash of a claim id.
    fn claim_key(&self, claim_id: &str) -> Vec<u8>;
}

/// The files named: each file, the files of each folder (sorted by name; not sub-folders, not
/// hidden files). Nothing is read yet.
pub fn list_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, AppError> {
    let mut out = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).map_err(|e| AppError::user(format!("Cannot read {}: {e}", path.display())))?;
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| AppError::user(format!("Cannot read the folder {}: {e}", path.display())))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && !p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')))
                .collect();
            entries.sort();
            out.extend(entries);
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

/// Reads one path: a file, or the files of a zip archive.
pub fn read_path(path: &Path) -> Result<Vec<EraInput>, AppError> {
    let name = path.display().to_string();
    let mut out = Vec::new();
    let is_zip = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if is_zip {
        let file = std::fs::File::open(path).map_err(|e| AppError::user(format!("Cannot read {name}: {e}")))?;
        unzip(&name, file, &mut out)?;
        return Ok(out);
    }
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let bytes = if size > MAX_FILE_BYTES {
        // Refused as too large, without reading it into memory.
        vec![]
    } else {
        std::fs::read(path).map_err(|e| AppError::user(format!("Cannot read {name}: {e}")))?
    };
    out.push(EraInput { name, bytes });
    Ok(out)
}

/// Imports files, folders and zips one file at a time: memory holds one file (or one zip's
/// files), however many there are.
pub async fn import_paths(
    store: &Store,
    audit: &Audit,
    practice_name: &str,
    paths: &[PathBuf],
    keys: &dyn PracticeKeys,
) -> Result<EraImportSummary, AppError> {
    let mut summary = EraImportSummary { practice: practice_name.to_string(), ..Default::default() };
    for path in list_paths(paths)? {
        let named = paths.contains(&path);
        let is_zip = path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        for input in read_path(&path)? {
            // A file named on the command line is always read (and refused if it is not an 835);
            // within a folder or zip, other kinds of files are passed over and listed.
            if (!named || is_zip) && !input.bytes.is_empty() && !looks_like_x12(&input.bytes) {
                summary.skipped.push(input.name);
                continue;
            }
            import_one(store, audit, input, keys, &mut summary).await?;
        }
    }
    Ok(summary)
}

/// The files of a zip archive (by `name/entry`, sorted), with the caps above.
pub fn unzip(name: &str, reader: impl Read + std::io::Seek, out: &mut Vec<EraInput>) -> Result<(), AppError> {
    let mut files = ZipFiles::open(name, reader)?;
    while let Some(input) = files.next_file()? {
        out.push(input);
    }
    Ok(())
}

/// A zip archive's files read one at a time, in name order, so memory holds one entry however
/// large the archive is. Folders, hidden files and macOS metadata are passed over.
pub struct ZipFiles<R> {
    name: String,
    archive: zip::ZipArchive<R>,
    /// (entry name, index), sorted by name; read from the back.
    order: Vec<(String, usize)>,
    total: u64,
}

impl<R: Read + std::io::Seek> ZipFiles<R> {
    pub fn open(name: &str, reader: R) -> Result<ZipFiles<R>, AppError> {
        let archive = zip::ZipArchive::new(reader).map_err(|e| zip_unreadable(name, e))?;
        if archive.len() > MAX_ZIP_ENTRIES {
            return Err(AppError::user(format!("{name} holds more than {MAX_ZIP_ENTRIES} files; split it")));
        }
        let mut order: Vec<(String, usize)> = archive
            .file_names()
            .filter(|n| {
                let base = n.rsplit('/').next().unwrap_or("");
                !(n.ends_with('/') || base.starts_with('.') || n.starts_with("__MACOSX/") || base.is_empty())
            })
            .filter_map(|n| Some((n.to_string(), archive.index_for_name(n)?)))
            .collect();
        order.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(ZipFiles { name: name.to_string(), archive, order, total: 0 })
    }

    /// The next file (its bytes empty when it is larger than one file may be).
    pub fn next_file(&mut self) -> Result<Option<EraInput>, AppError> {
        let Some((entry_name, index)) = self.order.pop() else { return Ok(None) };
        let name = &self.name;
        let mut entry = self.archive.by_index(index).map_err(|e| zip_unreadable(name, e))?;
        let mut bytes = Vec::new();
        let read =
            (&mut entry).take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| zip_unreadable(name, e))?;
        self.total += read as u64;
        if self.total > MAX_ZIP_TOTAL_BYTES {
            return Err(AppError::user(format!(
                "{name} expands to more than {} MB; send the files in smaller archives",
                MAX_ZIP_TOTAL_BYTES / 1024 / 1024
            )));
        }
        if read as u64 > MAX_FILE_BYTES {
            bytes = vec![];
        }
        Ok(Some(EraInput { name: format!("{name}/{entry_name}"), bytes }))
    }
}

fn zip_unreadable(name: &str, e: impl std::fmt::Display) -> AppError {
    AppError::user(format!("{name} is not a zip archive that can be read: {e}"))
}

fn is_zip(name: &str, bytes: &[u8]) -> bool {
    Path::new(name).extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case("zip"))
        || bytes.starts_with(b"PK\x03\x04")
}

/// One file attached in chat (an 835 or a zip of them), already fetched, or why it could not
/// be. Each file in it is imported on its own, all or nothing; a file that cannot be read is
/// listed as refused and the batch goes on.
pub async fn import_attachment(
    store: &Store,
    audit: &Audit,
    name: &str,
    fetched: Result<Vec<u8>, String>,
    keys: &dyn PracticeKeys,
    summary: &mut EraImportSummary,
) -> Result<(), AppError> {
    let refuse = |summary: &mut EraImportSummary, reason: String| {
        summary.files += 1;
        summary.refused.push(Refused { file: name.to_string(), segment: 0, segment_id: String::new(), reason });
    };
    let bytes = match fetched {
        Ok(b) => b,
        Err(reason) => {
            refuse(summary, reason);
            return Ok(());
        }
    };
    if !is_zip(name, &bytes) {
        return import_one(store, audit, EraInput { name: name.to_string(), bytes }, keys, summary).await;
    }
    let mut files = match ZipFiles::open(name, std::io::Cursor::new(bytes)) {
        Ok(f) => f,
        Err(e) => {
            refuse(summary, e.user_message());
            return Ok(());
        }
    };
    loop {
        match files.next_file() {
            Ok(None) => return Ok(()),
            Ok(Some(input)) if !input.bytes.is_empty() && !looks_like_x12(&input.bytes) => {
                summary.skipped.push(input.name)
            }
            Ok(Some(input)) => import_one(store, audit, input, keys, summary).await?,
            Err(e) => {
                // Files before this one are in; the rest of the archive is not read.
                refuse(summary, e.user_message());
                return Ok(());
            }
        }
    }
}

/// Parses, balances and stores every file; a refused file is listed and the others go on.
pub async fn import(
    store: &Store,
    audit: &Audit,
    practice_name: &str,
    inputs: Vec<EraInput>,
    keys: &dyn PracticeKeys,
) -> Result<EraImportSummary, AppError> {
    let mut summary = EraImportSummary { practice: practice_name.to_string(), ..Default::default() };
    for input in inputs {
        import_one(store, audit, input, keys, &mut summary).await?;
    }
    Ok(summary)
}

async fn import_one(
    store: &Store,
    audit: &Audit,
    input: EraInput,
    keys: &dyn PracticeKeys,
    summary: &mut EraImportSummary,
) -> Result<(), AppError> {
    summary.files += 1;
    let remittance = if input.bytes.is_empty() {
        Err(super::EraError::new(
            0,
            "",
            format!("the file is empty or larger than {} MB", MAX_FILE_BYTES / 1024 / 1024),
        ))
    } else {
        read(&input.bytes)
    };
    match remittance {
        Ok(r) => store_one(store, audit, &input.name, &r, keys, summary).await,
        Err(e) => {
            summary.refused.push(Refused {
                file: input.name,
                segment: e.segment,
                segment_id: e.segment_id,
                reason: e.message,
            });
            Ok(())
        }
    }
}

async fn store_one(
    store: &Store,
    audit: &Audit,
    file: &str,
    remittance: &Remittance,
    keys: &dyn PracticeKeys,
    summary: &mut EraImportSummary,
) -> Result<(), AppError> {
    let mut payers = Vec::with_capacity(remittance.checks.len());
    for check in &remittance.checks {
        let payer = keys.payer_for(&check.payer_name, &check.payer_id);
        if payer.is_none() {
            match summary.unknown_payers.iter_mut().find(|u| u.name.eq_ignore_ascii_case(&check.payer_name)) {
                Some(u) => u.checks += 1,
                None => summary.unknown_payers.push(UnknownPayer {
                    name: check.payer_name.clone(),
                    payer_id: check.payer_id.clone(),
                    checks: 1,
                }),
            }
        }
        payers.push(payer);
    }
    let claim_keys: Vec<Vec<ClaimKeys>> = remittance
        .checks
        .iter()
        .map(|check| {
            check
                .claims
                .iter()
                .map(|c| ClaimKeys { claim: keys.claim_key(&c.id), client: keys.client_key(&c.patient.0) })
                .collect()
        })
        .collect();
    let stored = store.import_remittance(file, remittance, &payers, &claim_keys, audit).await?;
    for (check, payer) in remittance.checks.iter().zip(&payers) {
        if let Some(id) = payer {
            // Checks stored earlier under this name while the payer was unknown join it now.
            store.link_era_payer(audit.practice_id, &check.payer_name, *id).await?;
        }
    }
    summary.transactions += remittance.checks.len();
    summary.checks.extend(stored.checks);
    summary.claims += stored.claims;
    summary.service_lines += stored.service_lines;
    summary.paid_cents += stored.paid_cents;
    summary.duplicates += stored.duplicates;
    summary.reversals += stored.reversals;
    summary.notes.extend(remittance.notes.iter().map(|n| format!("{file}: {n}")));
    Ok(())
}

impl EraImportSummary {
    pub fn reply(&self) -> Reply {
        let added = self.checks.iter().filter(|c| !c.duplicate).count();
        let tone =
            if !self.refused.is_empty() || !self.unknown_payers.is_empty() { Tone::Warning } else { Tone::Success };
        let mut r = Reply::new(format!("Remittances imported for {}", self.practice)).tone(tone).fields(vec![
            ("Files".into(), self.files.to_string()),
            ("Checks added".into(), added.to_string()),
            ("Already imported".into(), self.duplicates.to_string()),
            ("Claims".into(), self.claims.to_string()),
            ("Service lines".into(), self.service_lines.to_string()),
            ("Paid on claims".into(), Cents(self.paid_cents).to_string()),
        ]);
        if !self.checks.is_empty() {
            let mut t = Table::new(&[
                ("payer", Align::Left),
                ("check", Align::Left),
                ("date", Align::Left),
                ("amount", Align::Right),
                ("", Align::Left),
            ]);
            for c in self.checks.iter().take(50) {
                t.push(vec![
                    c.payer.clone(),
                    c.number.clone(),
                    c.date.to_string(),
                    Cents(c.amount_cents).to_string(),
                    if c.duplicate { "already imported".into() } else { String::new() },
                ]);
            }
            r = r.table(t);
            if self.checks.len() > 50 {
                r = r.text(format!("... and {} more checks (--json lists them all).", self.checks.len() - 50));
            }
        }
        r = r.notes(
            "Refused (nothing of these files was imported)",
            self.refused
                .iter()
                .map(|f| match f.segment {
                    0 => format!("{}: {}", f.file, f.reason),
                    n if f.segment_id.is_empty() => format!("{}: segment {n}: {}", f.file, f.reason),
                    n => format!("{}: segment {n} ({}): {}", f.file, f.segment_id, f.reason),
                })
                .collect(),
        );
        r = r.notes(
            "Payers not matched to one of yours (stored; add or rename the payer, then import again to link them)",
            self.unknown_payers
                .iter()
                .map(|u| {
                    let checks = if u.checks == 1 { "1 check".to_string() } else { format!("{} checks", u.checks) };
                    format!("{} ({checks}): /payer add name:\"{}\" kind:commercial", u.name, u.name)
                })
                .collect(),
        );
        r = r.notes("Not X12, left alone", self.skipped.clone());
        r.notes("Read under a documented rule", self.notes.clone())
    }
}

/// `raterise import era` on the console: the practice named by `--practice` (created on first
/// use, as every console command does), its keys, then every path.
pub async fn import_for_console(
    ctx: &crate::Ctx,
    practice: &str,
    paths: &[PathBuf],
    actor: &crate::Actor,
) -> Result<EraImportSummary, AppError> {
    let tenant = crate::Tenant::console(practice);
    let practice = ctx.store.ensure_practice(&tenant, practice, ctx.clock.now()).await?;
    let audit = Audit { practice_id: practice.id, actor: format!("{}:{}", actor.name, actor.id), at: ctx.clock.now() };
    let keys = StoreKeys::load(&ctx.store, practice.id).await?;
    let summary = import_paths(&ctx.store, &audit, &practice.name, paths, &keys).await;
    ctx.store.note_change();
    summary
}

/// The practice's payer matcher and client-key secret (the claims import's), as the import needs them.
pub struct StoreKeys {
    secret: crate::privacy::ClientKeySecret,
    matcher: crate::payer_match::PayerMatcher,
}

impl StoreKeys {
    pub async fn load(store: &Store, practice_id: i64) -> Result<StoreKeys, AppError> {
        Ok(StoreKeys {
            secret: store.client_key_secret(practice_id).await?,
            matcher: store.payer_matcher(practice_id).await?,
        })
    }
}

impl PracticeKeys for StoreKeys {
    fn payer_for(&self, name: &str, payer_id: &str) -> Option<i64> {
        let id = Some(payer_id).filter(|i| !i.is_empty());
        self.matcher.match_payer(name, id).payer_id()
    }
    fn client_key(&self, identifier: &str) -> Option<Vec<u8>> {
        self.secret.client_key(identifier).map(|k| k.as_bytes().to_vec())
    }
    fn claim_key(&self, claim_id: &str) -> Vec<u8> {
        self.secret.keyed(b"era-claim", &[claim_id.trim().as_bytes()]).to_vec()
    }
}
