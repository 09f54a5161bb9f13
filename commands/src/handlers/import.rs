//! Importing claims: the shared entry point of `raterise import claims FILE` (console) and the
//! reply every platform shows for an import's summary.

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

/// `/import claims file:...` in chat: the platform's fetcher brings the attached file (only from
/// the platform's own file hosts), then the same import as the console's.
pub async fn chat_claims(ctx: &Ctx, inv: &Invocation, practice: &Practice) -> Result<Outcome, AppError> {
    // Slack writes links as <url> or <url|label>.
    let url = inv.required("file")?.trim_start_matches('<').trim_end_matches('>');
    let url = url.split('|').next().unwrap_or(url);
    let map_args: Vec<String> = inv
        .opt("map")
        .map(|m| m.split(';').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let map = crate::claims::columns::parse_map_args(&map_args).map_err(|e| AppError::User(e.0))?;
    let fetcher = ctx.files.as_ref().ok_or_else(|| {
        AppError::user("Attached files can only be read in chat; on the console run `raterise import claims FILE`.")
    })?;
    let platform = inv.tenant()?.platform;
    let bytes = fetcher.fetch(platform, url).await.map_err(AppError::User)?;
    // The name of the file on the host, without the query string, for the import's record.
    let source = url
        .split(['?', '#'])
        .next()
        .and_then(|p| p.rsplit('/').next())
        .filter(|n| !n.is_empty())
        .unwrap_or("attachment.csv");
    claims(ctx, inv, practice, std::io::Cursor::new(bytes), source, map, &Progress::default()).await
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
