//! Suggestions while a chat user types an option value: the practice's own payer names, the CPT
//! codes raterise has Medicare figures for (with their plain descriptions) and Medicare payment
//! localities. Answered at once from the database and the embedded data; chat platforms allow
//! no deferral here.

use crate::catalog::OptionKind;
use crate::context::Ctx;
use crate::error::AppError;
use crate::invocation::Tenant;
use serde::Serialize;

/// Discord accepts at most 25 suggestions, each label and value at most 100 characters.
pub const MAX_SUGGESTIONS: usize = 25;
pub const MAX_LABEL_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suggestion {
    /// What the user sees.
    pub label: String,
    /// What the command receives when the user picks it.
    pub value: String,
}

impl Suggestion {
    fn new(label: String, value: String) -> Self {
        Suggestion { label: clip(&label, MAX_LABEL_CHARS), value: clip(&value, MAX_LABEL_CHARS) }
    }
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Up to 25 suggestions for an option of `kind` given what was typed so far. Payer names come only
/// from the tenant's own practice; no tenant or no practice yet means no payer suggestions.
pub async fn suggest(
    ctx: &Ctx,
    tenant: Option<&Tenant>,
    kind: OptionKind,
    partial: &str,
) -> Result<Vec<Suggestion>, AppError> {
    let partial = partial.trim();
    match kind {
        OptionKind::Payer => {
            let Some(tenant) = tenant else { return Ok(Vec::new()) };
            let Some(practice) = ctx.store.find_practice(tenant).await? else { return Ok(Vec::new()) };
            // Ranked in Rust so short forms match ("UHC" finds UnitedHealthcare); a practice has
            // tens of payers, not thousands.
            let all = ctx.store.payer_names(practice.id).await?;
            let names: Vec<String> = if partial.is_empty() {
                all
            } else {
                crate::payer_match::matching_payer_names(partial, &all).into_iter().map(|(_, n)| n).collect()
            };
            Ok(names
                .into_iter()
                .take(MAX_SUGGESTIONS)
                .filter(|n| n.chars().count() <= MAX_LABEL_CHARS)
                .map(|n| Suggestion::new(n.clone(), n))
                .collect())
        }
        OptionKind::Cpt => Ok(cpt_suggestions(ctx, partial)),
        OptionKind::Locality => Ok(locality_suggestions(ctx, partial)),
        _ => Ok(Vec::new()),
    }
}

fn cpt_suggestions(ctx: &Ctx, partial: &str) -> Vec<Suggestion> {
    let needle = partial.to_ascii_lowercase();
    let mut starts = Vec::new();
    let mut contains = Vec::new();
    for info in ctx.medicare.codes() {
        let code = info.code.to_ascii_lowercase();
        let label = if info.description.is_empty() {
            info.code.clone()
        } else {
            format!("{} - {}", info.code, info.description)
        };
        if code.starts_with(&needle) {
            starts.push(Suggestion::new(label, info.code.clone()));
        } else if !needle.is_empty() && info.description.to_ascii_lowercase().contains(&needle) {
            contains.push(Suggestion::new(label, info.code.clone()));
        }
    }
    starts.extend(contains);
    starts.truncate(MAX_SUGGESTIONS);
    starts
}

fn locality_suggestions(ctx: &Ctx, partial: &str) -> Vec<Suggestion> {
    let needle = partial.to_ascii_lowercase();
    let mut starts = Vec::new();
    // A ZIP, county or city that names one locality comes first, labelled with what was typed.
    if !partial.is_empty() {
        if let Ok(found) = ctx.medicare.resolve_locality(partial) {
            let l = found.locality;
            let caveat = if found.note.is_some() { " (check the note)" } else { "" };
            starts.push(Suggestion::new(format!("{partial}: {} ({}){caveat}", l.display_name(), l.id()), l.id()));
        }
    }
    let mut contains = Vec::new();
    for loc in ctx.medicare.localities() {
        let display = loc.display_name();
        let id = loc.id();
        let haystack = format!("{} {} {}", display.to_ascii_lowercase(), id, loc.state.to_ascii_lowercase());
        let label = format!("{display} ({id})");
        if starts.iter().any(|s: &Suggestion| s.value == id) {
            continue;
        }
        if display.to_ascii_lowercase().starts_with(&needle) || id.starts_with(&needle) {
            starts.push(Suggestion::new(label, id));
        } else if haystack.contains(&needle) {
            contains.push(Suggestion::new(label, id));
        }
    }
    starts.extend(contains);
    starts.truncate(MAX_SUGGESTIONS);
    starts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::invocation::Platform;
    use crate::store::{Audit, NewPayer, Store};
    use std::sync::Arc;

    async fn ctx() -> Ctx {
        let store = Store::open_in_memory().await.unwrap();
        let clock = Arc::new(ManualClock::new(crate::clock::parse_instant("2026-11-27T15:00:00Z").unwrap()));
        Ctx::new(store, clock).await.unwrap()
    }

    async fn practice_with(ctx: &Ctx, guild: &str, payers: &[&str]) -> Tenant {
        let tenant = Tenant { platform: Platform::Discord, external_id: guild.into() };
        let p = ctx.store.ensure_practice(&tenant, guild, ctx.clock.now()).await.unwrap();
        let audit = Audit { practice_id: p.id, actor: "test".into(), at: ctx.clock.now() };
        for name in payers {
            let new = NewPayer::new(name, crate::domain::PayerKind::Commercial);
            ctx.store.insert_payer(p.id, &new, &[], &audit).await.unwrap();
        }
        tenant
    }

    #[tokio::test]
    async fn payers_come_only_from_the_tenants_practice() {
        let ctx = ctx().await;
        let a = practice_with(&ctx, "111", &["Cigna", "Aetna", "Blue Cross"]).await;
        let b = practice_with(&ctx, "222", &["Cigna West", "Humana"]).await;
        let got = suggest(&ctx, Some(&a), OptionKind::Payer, "").await.unwrap();
        let names: Vec<&str> = got.iter().map(|s| s.value.as_str()).collect();
        assert_eq!(names, ["Aetna", "Blue Cross", "Cigna"]);
        let got = suggest(&ctx, Some(&b), OptionKind::Payer, "cig").await.unwrap();
        assert_eq!(got, vec![Suggestion { label: "Cigna West".into(), value: "Cigna West".into() }]);
        // Contains matches come after prefix matches; LIKE wildcards are literal.
        let got = suggest(&ctx, Some(&a), OptionKind::Payer, "c").await.unwrap();
        assert_eq!(got[0].value, "Cigna");
        assert!(suggest(&ctx, Some(&a), OptionKind::Payer, "%").await.unwrap().is_empty());
        // No tenant (a DM) or no practice: nothing.
        assert!(suggest(&ctx, None, OptionKind::Payer, "").await.unwrap().is_empty());
        let c = Tenant { platform: Platform::Discord, external_id: "333".into() };
        assert!(suggest(&ctx, Some(&c), OptionKind::Payer, "").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn payer_short_forms_suggest_the_payer_first() {
        let ctx = ctx().await;
        let a = practice_with(
            &ctx,
            "444",
            &["Aetna", "UnitedHealthcare", "Blue Cross Blue Shield of Illinois", "Bluebird EAP"],
        )
        .await;
        let values = |got: Vec<Suggestion>| got.into_iter().map(|s| s.value).collect::<Vec<_>>();
        assert_eq!(values(suggest(&ctx, Some(&a), OptionKind::Payer, "uhc").await.unwrap()), ["UnitedHealthcare"]);
        assert_eq!(
            values(suggest(&ctx, Some(&a), OptionKind::Payer, "bcbs").await.unwrap()),
            ["Blue Cross Blue Shield of Illinois"]
        );
        // "Blue Cross" is the BCBS plan first, then the name that merely starts with "Blue".
        assert_eq!(
            values(suggest(&ctx, Some(&a), OptionKind::Payer, "blue").await.unwrap()),
            ["Blue Cross Blue Shield of Illinois", "Bluebird EAP"]
        );
    }

    #[tokio::test]
    async fn codes_and_localities_match_by_id_and_words() {
        let ctx = ctx().await;
        let got = suggest(&ctx, None, OptionKind::Cpt, "9083").await.unwrap();
        assert!(got.iter().any(|s| s.value == "90837" && s.label.starts_with("90837 - ")), "{got:?}");
        assert!(got.iter().all(|s| s.value.starts_with("9083")));
        let all = suggest(&ctx, None, OptionKind::Cpt, "").await.unwrap();
        assert!(!all.is_empty() && all.len() <= MAX_SUGGESTIONS);
        let got = suggest(&ctx, None, OptionKind::Locality, "manh").await.unwrap();
        assert_eq!(got[0].value, "13202-01");
        assert!(got[0].label.contains("MANHATTAN, NY"));
        // A ZIP, county or city comes first, labelled with what was typed.
        let got = suggest(&ctx, None, OptionKind::Locality, "60614").await.unwrap();
        assert_eq!(got[0].value, "06102-16");
        assert!(got[0].label.starts_with("60614: CHICAGO, IL"), "{got:?}");
        let got = suggest(&ctx, None, OptionKind::Locality, "Cook County, IL").await.unwrap();
        assert_eq!(got[0].value, "06102-16");
        let got = suggest(&ctx, None, OptionKind::Locality, "").await.unwrap();
        assert_eq!(got.len(), MAX_SUGGESTIONS);
        for s in got {
            assert!(s.label.chars().count() <= MAX_LABEL_CHARS && s.value.chars().count() <= MAX_LABEL_CHARS);
        }
        assert!(suggest(&ctx, None, OptionKind::Text, "x").await.unwrap().is_empty());
    }
}
