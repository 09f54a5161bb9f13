//! /setup: who the practice is and which Medicare benchmark applies to it.

use super::{audit, check_manage};
use crate::context::Ctx;
use crate::domain::{Credential, Setting};
use crate::error::AppError;
use crate::invocation::Invocation;
use crate::invocation::Platform;
use crate::reply::{channel_mention, Reply, Tone};
use crate::store::{Practice, PracticeChanges};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct SetupResult {
    pub practice: String,
    pub locality: Option<String>,
    pub locality_id: Option<String>,
    /// What to know about how the locality given was matched (a ZIP crossing a locality line,
    /// a county CMS does not name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locality_note: Option<String>,
    pub credential: Option<Credential>,
    pub setting: Setting,
    pub time_zone: String,
    pub reminder_channel: Option<String>,
    pub manager_role: Option<String>,
    pub npi: Option<String>,
    pub changed: Vec<String>,
    /// What is still needed before every command works.
    pub missing: Vec<String>,
    /// Where the practice lives, to show its channel the way that platform does.
    #[serde(skip)]
    pub platform: Platform,
}

pub async fn run(ctx: &Ctx, inv: &Invocation) -> Result<super::Outcome, AppError> {
    let tenant = inv.tenant()?;
    // Parse everything before writing anything.
    let mut changes = PracticeChanges::default();
    let mut changed = Vec::new();
    let mut locality_note = None;
    if let Some(input) = inv.opt("locality") {
        let found = ctx.medicare.resolve_locality(input).map_err(|e| AppError::user(e.to_string()))?;
        changes.locality_id = Some(found.locality.id());
        changed.push(format!("locality {}", found.locality.display_name()));
        locality_note = found.note;
    }
    if let Some(c) = inv.parsed::<Credential>("credential")? {
        changes.credential = Some(c);
        changed.push(format!("credential {}", c.label()));
    }
    if let Some(s) = inv.parsed::<Setting>("setting")? {
        changes.setting = Some(s);
        changed.push(format!("setting {}", s.key()));
    }
    if let Some(tz) = inv.opt("timezone") {
        let parsed = tz.parse::<chrono_tz::Tz>().map_err(|_| {
            AppError::user(format!(
                "`{tz}` is not a time zone I know; use an IANA name such as America/New_York, America/Chicago, America/Denver or America/Los_Angeles"
            ))
        })?;
        changes.time_zone = Some(parsed.name().to_string());
        changed.push(format!("time zone {}", parsed.name()));
    }
    if let Some(name) = inv.opt("name") {
        let name = crate::domain::names::name("The practice name", name, 100).map_err(AppError::User)?;
        changed.push(format!("name {name}"));
        changes.name = Some(name);
    }
    if let Some(npi) = inv.opt("npi") {
        if npi.len() != 10 || !npi.chars().all(|c| c.is_ascii_digit()) {
            return Err(AppError::user(format!("`{npi}` is not an NPI; an NPI is 10 digits")));
        }
        changes.npi = Some(npi.to_string());
        changed.push("NPI".into());
    }
    if let Some(tin) = inv.opt("tax_id") {
        changes.tax_id = Some(tin.to_string());
        changed.push("tax id".into());
    }
    if let Some(ch) = inv.opt("channel") {
        // A mention as the platform sends it: Discord `<#123>`, Slack `<#C123|general>`.
        let id = ch.trim_start_matches("<#").trim_end_matches('>');
        let id = id.split('|').next().unwrap_or(id).trim();
        changed.push(format!("reminder channel {}", crate::reply::channel_mention(tenant.platform, id)));
        changes.reminder_channel = Some(id.to_string());
    }
    if let Some(role) = inv.opt("manager_role") {
        changes.manager_role = Some(role.trim_start_matches("<@&").trim_end_matches('>').to_string());
        changed.push("manager role".into());
    }

    let existing = ctx.store.find_practice(tenant).await?;
    match &existing {
        Some(p) => check_manage(inv, p)?,
        None if !inv.actor.can_manage => {
            return Err(AppError::Forbidden(
                "Setting up the practice needs the Manage Server permission; ask a server admin to run /setup.".into(),
            ))
        }
        None => {}
    }
    let practice = match existing {
        // `name:` given: it wins below; otherwise a practice named by its id takes the server's name.
        Some(p) if changes.name.is_none() => super::name_after_tenant(ctx, inv, p).await,
        Some(p) => p,
        None => {
            let name = super::tenant_name(inv).unwrap_or_else(|| tenant.external_id.clone());
            ctx.store.ensure_practice(tenant, &name, ctx.clock.now()).await?
        }
    };
    let practice = if changed.is_empty() {
        practice
    } else {
        ctx.store.update_practice(practice.id, &changes, &audit(ctx, inv, &practice)).await?
    };
    let mut result = summarise(ctx, &practice, changed);
    result.locality_note = locality_note;
    Ok(super::Outcome::Setup(result))
}

fn summarise(ctx: &Ctx, p: &Practice, changed: Vec<String>) -> SetupResult {
    let locality = p.locality_id.as_deref().and_then(|id| ctx.medicare.locality(id));
    let mut missing = Vec::new();
    if locality.is_none() {
        missing.push("locality: your Medicare payment locality, e.g. locality:\"MANHATTAN, NY\"".into());
    }
    if p.credential.is_none() {
        missing.push("credential: who usually renders the sessions, e.g. credential:lcsw".into());
    }
    if p.reminder_channel.is_none() {
        missing.push("channel: where follow-up reminders go (chat only)".into());
    }
    SetupResult {
        practice: p.name.clone(),
        locality: locality.map(|l| l.display_name()),
        locality_id: locality.map(|l| l.id()),
        locality_note: None,
        credential: p.credential,
        setting: p.setting,
        time_zone: p.time_zone.clone(),
        reminder_channel: p.reminder_channel.clone(),
        manager_role: p.manager_role.clone(),
        npi: p.npi.clone(),
        changed,
        missing,
        platform: p.platform,
    }
}

impl SetupResult {
    pub fn reply(&self) -> Reply {
        let none = || "not set".to_string();
        let mut r = Reply::new(format!("Practice setup: {}", self.practice))
            .private()
            .tone(if self.changed.is_empty() { Tone::Info } else { Tone::Success });
        if !self.changed.is_empty() {
            r = r.text(format!("Saved: {}.", self.changed.join(", ")));
        }
        if let Some(note) = &self.locality_note {
            r = r.text(format!("Note: {note}."));
        }
        r = r.fields(vec![
            (
                "Medicare locality".into(),
                match (&self.locality, &self.locality_id) {
                    (Some(l), Some(id)) => format!("{l} ({id})"),
                    _ => none(),
                },
            ),
            ("Credential".into(), self.credential.map(|c| c.label().to_string()).unwrap_or_else(none)),
            ("Setting".into(), self.setting.label().into()),
            ("Time zone".into(), self.time_zone.clone()),
            (
                "Reminder channel".into(),
                self.reminder_channel.as_deref().map(|c| channel_mention(self.platform, c)).unwrap_or_else(none),
            ),
            ("Manager role".into(), self.manager_role.clone().unwrap_or_else(none)),
            ("NPI".into(), self.npi.clone().unwrap_or_else(none)),
        ]);
        r = r.notes("Still to set with /setup", self.missing.clone());
        r.action("Add a payer", "/payer add name:\"Payer name\" kind:commercial")
    }
}
