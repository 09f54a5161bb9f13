//! Re-planning: loads a practice's data, asks [`super::desired`] what should exist and syncs the
//! rows. Runs after every command that changes what reminders depend on, after the scheduler
//! posts (to plan the next follow-up), and for every practice after a Medicare import.

use super::{desired, desired_credentials, due_at, medicare_subject, Kind};
use crate::context::Ctx;
use crate::domain::PayerStatus;
use crate::error::AppError;
use crate::handlers::{negotiate, rates};
use crate::store::reminders::{EventReminder, SyncReport};
use crate::store::{Audit, Practice};
use serde::{Deserialize, Serialize};

/// How many payers a new-Medicare-year reminder names.
pub const MEDICARE_YEAR_PAYERS: usize = 3;

/// Recomputes and syncs one practice's planned reminders as of the context's clock.
pub async fn replan(ctx: &Ctx, practice: &Practice, actor: &str) -> Result<SyncReport, AppError> {
    let today = ctx.today_in(&practice.time_zone);
    let inputs = ctx.store.planning_inputs(practice.id, &practice.time_zone).await?;
    let mut want = desired(&inputs.payers, &inputs.cases, &inputs.handled, today);
    want.extend(desired_credentials(&inputs.credentials, today));
    let audit = Audit { practice_id: practice.id, actor: actor.to_string(), at: ctx.clock.now() };
    ctx.store.sync_reminders(practice.id, &practice.time_zone, &want, &audit).await
}

/// [`replan`] by practice id; a practice that no longer exists has nothing to plan.
pub async fn replan_id(ctx: &Ctx, practice_id: i64, actor: &str) -> Result<SyncReport, AppError> {
    match ctx.store.practice_by_id(practice_id).await? {
        Some(p) => replan(ctx, &p, actor).await,
        None => Ok(SyncReport::default()),
    }
}

/// The facts of a new-Medicare-year reminder, fixed when the release is imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MedicarePayload {
    pub year: u16,
    pub locality: Option<String>,
    /// Lowest share of Medicare first.
    pub payers: Vec<MedicarePayer>,
    /// What the practice must set up before payers can be compared.
    pub missing: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MedicarePayer {
    pub payer: String,
    pub pct_of_medicare: f64,
}

/// The practice's negotiable in-network payers furthest below the context's latest Medicare
/// year, by the same volume-weighted ranking as `/rates`.
pub async fn medicare_payload(ctx: &Ctx, practice: &Practice) -> Result<MedicarePayload, AppError> {
    let year = ctx.medicare.latest_year();
    let Some(bench) = negotiate::benchmark(ctx, practice) else {
        return Ok(MedicarePayload {
            year,
            locality: None,
            payers: vec![],
            missing: Some(
                "Set your Medicare locality and credential (/setup locality: credential:) to see which payers fall furthest below it."
                    .into(),
            ),
        });
    };
    let today = ctx.today_in(&practice.time_zone);
    let payers = ctx.store.list_payers(practice.id).await?;
    let codes = ctx.store.practice_code_rates(practice.id, today).await?;
    let locality = bench.locality.clone();
    let ranking = rates::ranking(ctx, practice, &payers, &codes, bench, today);
    let mut low: Vec<MedicarePayer> = ranking
        .payers
        .iter()
        .filter(|p| p.kind.is_negotiable() && p.status == PayerStatus::InNetwork)
        .filter_map(|p| p.pct_of_medicare.map(|pct| MedicarePayer { payer: p.payer.clone(), pct_of_medicare: pct }))
        .collect();
    low.sort_by(|a, b| a.pct_of_medicare.total_cmp(&b.pct_of_medicare).then_with(|| a.payer.cmp(&b.payer)));
    low.truncate(MEDICARE_YEAR_PAYERS);
    Ok(MedicarePayload { year, locality: Some(locality), payers: low, missing: None })
}

/// After a newer fee schedule is loaded (`ctx` already carries it): one reminder for every
/// practice with a reminder channel, due at once, naming its payers furthest below the new
/// schedule. Returns how many were planned (a second import of the same year plans none).
pub async fn plan_medicare_year(ctx: &Ctx, actor: &str) -> Result<usize, AppError> {
    let year = ctx.medicare.latest_year();
    let now = ctx.clock.now();
    let mut planned = 0;
    for (id, _) in ctx.store.practices_with_channel().await? {
        let Some(practice) = ctx.store.practice_by_id(id).await? else { continue };
        let today = ctx.today_in(&practice.time_zone);
        let payload = medicare_payload(ctx, &practice).await?;
        let text = serde_json::to_string(&payload).map_err(|e| AppError::internal("encoding a reminder", e))?;
        // Due now (or the next business morning when imported on a weekend).
        let at = if super::business_day(today) == today { now } else { due_at(today, &practice.time_zone) };
        let audit = Audit { practice_id: practice.id, actor: actor.to_string(), at: now };
        let reminder = EventReminder {
            kind: Kind::MedicareYear,
            subject_key: medicare_subject(year),
            due_on: today,
            due_at: at,
            payload: text,
        };
        if ctx.store.add_event_reminder(practice.id, &reminder, &audit).await? {
            planned += 1;
        }
    }
    Ok(planned)
}
