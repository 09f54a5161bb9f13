//! Importing claims: the shared entry point of `raterise import claims FILE` (console) and the
//! reply every platform shows for an import's summary; and both imports from chat attachments.

use super::{audit, Outcome};
use crate::claims::{import_claims, ImportOptions, ImportSummary, Progress};
use crate::context::Ctx;
use crate::error::AppError;
use crate::invocation::Invocation;
use crate::reply::{Align, Reply, Table, Tone};
use crate::store::Practice;
use std::io::Read;

/// Imports one export for the invocation's practice (the caller has checked it may change data).
pub async fn claims<R: Read + Send + 'static>(
    ctx: &Ctx,
    inv: &Invocation,
    practice: &Practice,
    input: R,
    source: &str,
    map: Vec<(String, String)>,
    progress: &Progress,
) -> Result<Outcome, AppError> {
    super::check_manage(inv, practice)?;
    let options = ImportOptions { source: source.to_string(), map, today: super::practice_today(ctx, practice) };
    let summary = import_claims(&ctx.store, &audit(ctx, inv, practice), input, &options, progress).await;
    ctx.store.note_change();
    Ok(Outcome::ClaimsImported(summary?))
}

/// An attachment option's value: Slack writes links as <url> or <url|label>.
fn attached_url(value: &str) -> &str {
    let url = value.trim().trim_start_matches('<').trim_end_matches('>');
    url.split('|').next().unwrap_or(url)
}

/// The name of the file on the host, without the query string, for the import's record.
fn attached_name<'a>(url: &'a str, default: &'a str) -> &'a str {
    url.split(['?', '#']).next().and_then(|p| p.rsplit('/').next()).filter(|n| !n.is_empty()).unwrap_or(default)
}

fn fetcher(ctx: &Ctx, console: &str) -> Result<std::sync::Arc<dyn crate::files::FileFetcher>, AppError> {
    ctx.files.clone().ok_or_else(|| {
        AppError::user(format!("Attached files can only be read in chat; on the console run `{console}`."))
    })
}

/// `/import claims file:...` in chat: the platform's fetcher brings the attached file (only from
/// the platform's own file hosts), then the same import as the console's.
pub async fn chat_claims(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let url = attached_url(inv.required("file")?);
    let map_args: Vec<String> = inv
        .opt("map")
        .map(|m| m.split(';').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let map = crate::claims::columns::parse_map_args(&map_args).map_err(|e| AppError::User(e.0))?;
    let fetcher = fetcher(ctx, "raterise import claims FILE")?;
    let platform = inv.tenant()?.platform;
    let bytes = fetcher.fetch(platform, url).await.map_err(AppError::User)?;
    let source = attached_name(url, "attachment.csv");
    claims(ctx, inv, practice, std::io::Cursor::new(bytes), source, map, &Progress::default()).await
}

/// The attachment options of `/import era`, in order (the catalogue lists the same names).
pub const ERA_FILE_OPTIONS: [&str; 5] = ["file", "file2", "file3", "file4", "file5"];

/// `/import era file:... [file2:...]` in chat: each attachment (an 835 or a zip of them) is
/// fetched by the platform's fetcher, one at a time, and imported as the console imports a file:
/// each file all or nothing, a refused one listed with its segment and the others going in.
pub async fn chat_era(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    let mut urls = vec![attached_url(inv.required("file")?)];
    urls.extend(ERA_FILE_OPTIONS[1..].iter().filter_map(|o| inv.opt(o)).map(attached_url));
    let fetcher = fetcher(ctx, "raterise import era FILE_OR_FOLDER")?;
    let platform = inv.tenant()?.platform;
    let audit = audit(ctx, inv, practice);
    let keys = crate::era::import::StoreKeys::load(&ctx.store, practice.id).await?;
    let mut summary = crate::era::import::EraImportSummary { practice: practice.name.clone(), ..Default::default() };
    for url in urls {
        // A URL on any other host is refused by the fetcher before a connection is made.
        let fetched = fetcher.fetch(platform, url).await;
        let name = attached_name(url, "attachment.835");
        let done = crate::era::import::import_attachment(&ctx.store, &audit, name, fetched, &keys, &mut summary).await;
        ctx.store.note_change();
        done?;
    }
    Ok(Outcome::EraImported(summary))
}

impl ImportSummary {
    pub fn reply(&self) -> Reply {
        let unknown: Vec<&str> = self.payers.iter().filter(|p| p.matched.is_none()).map(|p| p.name.as_str()).collect();
        let mut payers =
            Table::new(&[("In the file", Align::Left), ("Rows", Align::Right), ("Matched to", Align::Left)]);
        for p in &self.payers {
            payers.push(vec![
                p.name.clone(),
                p.rows.to_string(),
                match (&p.matched, p.suggestions.first()) {
                    (Some(m), _) => m.clone(),
                    (None, Some(s)) => format!("not set up (closest: {s})"),
                    (None, None) => "not set up".into(),
                },
            ]);
        }
        let period = match (self.first_service, self.last_service) {
            (Some(a), Some(b)) => format!("{a} to {b}"),
            _ => "none".into(),
        };
        let mut reply = Reply::new(format!("Imported {}", self.source))
            .tone(if unknown.is_empty() { Tone::Success } else { Tone::Warning })
            .fields(vec![
                ("Rows read".into(), self.rows.to_string()),
                ("Claims added".into(), self.added.to_string()),
                ("Already present".into(), format!("{} ({} with newer payment news)", self.duplicates, self.updated)),
                ("Skipped".into(), self.skipped.to_string()),
                ("Dates of service".into(), period),
            ])
            .table(payers)
            .notes("Skipped", self.skipped_reasons.iter().map(|s| format!("{}: {}", s.why, s.rows)).collect());
        if !unknown.is_empty() {
            reply = reply.notes(
                "Payers not set up",
                vec![format!(
                    "{} {} not one of your payers, so {} rows were skipped. Add {} with /payer add (or fix the name) and import the file again: claims already imported are not added twice.",
                    unknown.join(", "),
                    if unknown.len() == 1 { "is" } else { "are" },
                    if unknown.len() == 1 { "its" } else { "their" },
                    if unknown.len() == 1 { "it" } else { "them" }
                )],
            );
        }
        reply.footer(format!(
            "A claim is the same claim when its {} match. Client names and ids are kept only as keyed hashes; nothing else about a client is stored.",
            self.natural_key
        ))
    }
}
