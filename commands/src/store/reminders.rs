//! Reminders with their delivery state, and the subjects a practice muted.
//!
//! Planning writes rows idempotently (one per practice, kind, subject and planned date). The
//! scheduler claims due rows in one statement that reads the partial index of pending rows by due
//! time, so a tick costs what is due, not what exists; a claim is a lease, so rows held by a
//! process that died are claimed again once it expires. Only the claimer may mark a row sent,
//! retried or failed.

use super::{audit, parse_col, Audit, Store};
use crate::domain::stage::Stage;
use crate::domain::{PayerKind, PayerStatus};
use crate::error::AppError;
use crate::reminders::{self, instant_text, Desired, Handled, Kind, PlanCase, PlanCredential, PlanPayer, State};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use std::collections::{HashMap, HashSet};

/// Who the scheduler's changes are recorded as in the audit trail.
pub const SCHEDULER_ACTOR: &str = "raterise scheduler";

/// A reminder the scheduler claimed for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub practice_id: i64,
    pub kind: Kind,
    pub subject_key: String,
    pub negotiation_id: Option<i64>,
    pub payer_id: Option<i64>,
    pub due_on: NaiveDate,
    pub due_at: DateTime<Utc>,
    /// Including this one.
    pub attempts: i64,
    pub nonce: String,
    pub payload: Option<String>,
    /// When the row was planned: a reminder due long before it was planned is back-dated.
    pub created_at: DateTime<Utc>,
}

/// A reminder as `/followups` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ReminderView {
    pub id: i64,
    pub kind: Kind,
    #[serde(skip)]
    pub subject_key: String,
    pub payer: Option<String>,
    pub due_on: NaiveDate,
    pub due_at: String,
    pub state: State,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<String>,
    pub snoozed: bool,
}

/// What planning reads about one practice.
#[derive(Debug, Clone, Default)]
pub struct PlanningInputs {
    pub payers: Vec<PlanPayer>,
    pub cases: Vec<PlanCase>,
    pub handled: Vec<Handled>,
    /// Dated credentials and specialties (`/practice credential ... date:`).
    pub credentials: Vec<PlanCredential>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// Rows added, revived or moved to another hour (a new time zone).
    pub planned: usize,
    pub cancelled: usize,
}

/// A reminder planned by an event rather than from the practice's data.
#[derive(Debug, Clone)]
pub struct EventReminder {
    pub kind: Kind,
    pub subject_key: String,
    pub due_on: NaiveDate,
    pub due_at: DateTime<Utc>,
    pub payload: String,
}

/// One failed reminder listed in a delivery warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedItem {
    pub id: i64,
    pub kind: Kind,
    pub payer: Option<String>,
    pub due_on: NaiveDate,
    pub error: Option<String>,
}

/// The payload of a delivery warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningPayload {
    pub failed: Vec<FailedItem>,
}

const CLAIM_COLUMNS: &str =
    "id, practice_id, kind, subject_key, negotiation_id, payer_id, due_on, due_at, attempts, nonce, payload, created_at";

fn claimed_from_row(r: &SqliteRow) -> Result<Claimed, AppError> {
    let due_at: String = r.get("due_at");
    Ok(Claimed {
        id: r.get("id"),
        practice_id: r.get("practice_id"),
        kind: parse_col(&r.get::<String, _>("kind"), "kind")?,
        subject_key: r.get("subject_key"),
        negotiation_id: r.get("negotiation_id"),
        payer_id: r.get("payer_id"),
        due_on: r.get("due_on"),
        due_at: reminders::parse_instant_text(&due_at).ok_or_else(|| bad_column("due_at", &due_at))?,
        attempts: r.get("attempts"),
        nonce: r.get("nonce"),
        payload: r.get("payload"),
        created_at: {
            let c: String = r.get("created_at");
            reminders::parse_instant_text(&c).ok_or_else(|| bad_column("created_at", &c))?
        },
    })
}

fn bad_column(column: &str, value: &str) -> AppError {
    AppError::internal(
        format!("reading column {column}"),
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("`{value}` is not an instant")),
    )
}

fn local_date(at: &str, tz: &str) -> Option<NaiveDate> {
    let t = reminders::parse_instant_text(at)?;
    Some(match tz.parse::<chrono_tz::Tz>() {
        Ok(zone) => t.with_timezone(&zone).date_naive(),
        Err(_) => t.date_naive(),
    })
}

fn clip_error(e: &str) -> String {
    e.chars().take(480).collect()
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// `?first, ?first+1, ...`: for lists after numbered parameters (sqlx counts plain `?` from 1
/// whatever numbers came before, so the two styles must not be mixed in one statement).
fn numbered(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ")
}

fn scheduler_audit(practice_id: i64, at: DateTime<Utc>) -> Audit {
    Audit { practice_id, actor: SCHEDULER_ACTOR.into(), at }
}

impl Store {
    /// Everything [`reminders::desired`] needs about one practice, in a handful of indexed reads:
    /// negotiable payers with their last rate change and last case, open cases with their logs,
    /// and the follow-ups already posted, done or given up on (dated in the practice's zone).
    pub async fn planning_inputs(&self, practice_id: i64, tz: &str) -> Result<PlanningInputs, AppError> {
        let mut conn = self.pool().acquire().await?;
        let payer_rows = sqlx::query(
            "SELECT p.id, p.kind, p.status, p.renewal_date, p.notice_days,
                    (SELECT MAX(pc.latest_since) FROM payer_codes pc
                      WHERE pc.payer_id = p.id AND pc.latest_cents IS NOT NULL) AS last_change,
                    (SELECT MAX(n.opened_on) FROM negotiations n WHERE n.payer_id = p.id) AS last_opened,
                    EXISTS (SELECT 1 FROM negotiations n WHERE n.payer_id = p.id AND n.closed_on IS NULL) AS has_open,
                    (SELECT CASE WHEN n.stage = 'accepted' THEN n.closed_on END || '|' || COALESCE(n.review_on, '')
                       FROM negotiations n WHERE n.payer_id = p.id
                      ORDER BY n.opened_on DESC, n.id DESC LIMIT 1) AS last_agreement
             FROM payers p WHERE p.practice_id = ? ORDER BY p.id",
        )
        .bind(practice_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut payers = Vec::with_capacity(payer_rows.len());
        for r in &payer_rows {
            payers.push(PlanPayer {
                id: r.get("id"),
                kind: parse_col::<PayerKind>(&r.get::<String, _>("kind"), "kind")?,
                status: parse_col::<PayerStatus>(&r.get::<String, _>("status"), "status")?,
                renewal_date: r.get("renewal_date"),
                notice_days: r.get("notice_days"),
                last_rate_change: r.get("last_change"),
                last_case_opened: r.get("last_opened"),
                has_open_case: r.get::<i64, _>("has_open") != 0,
                last_agreed_on: None,
                review_on: None,
            });
            // "closed_on|review_on" of the latest case when it ended in an agreement.
            let agreement: Option<String> = r.get("last_agreement");
            if let Some((agreed, review)) = agreement.as_deref().and_then(|a| a.split_once('|')) {
                let last = payers.last_mut().expect("just pushed");
                last.last_agreed_on = agreed.parse().ok();
                last.review_on = review.parse().ok();
            }
        }
        let credential_rows = sqlx::query(
            "SELECT name, earned_on FROM practice_credentials WHERE practice_id = ? AND earned_on IS NOT NULL ORDER BY id",
        )
        .bind(practice_id)
        .fetch_all(&mut *conn)
        .await?;
        let credentials = credential_rows
            .iter()
            .map(|r| PlanCredential { name: r.get("name"), earned_on: r.get("earned_on") })
            .collect();
        let case_rows = sqlx::query(
            "SELECT id, payer_id, stage FROM negotiations WHERE practice_id = ? AND closed_on IS NULL ORDER BY id",
        )
        .bind(practice_id)
        .fetch_all(&mut *conn)
        .await?;
        let event_rows = sqlx::query(
            "SELECT e.negotiation_id, e.kind, e.occurred_on FROM negotiation_events e
             JOIN negotiations n ON n.id = e.negotiation_id
             WHERE n.practice_id = ? AND n.closed_on IS NULL
             ORDER BY e.negotiation_id, e.occurred_on, e.id",
        )
        .bind(practice_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut logs: HashMap<i64, Vec<(crate::domain::stage::EventKind, NaiveDate)>> = HashMap::new();
        for r in &event_rows {
            logs.entry(r.get("negotiation_id"))
                .or_default()
                .push((parse_col(&r.get::<String, _>("kind"), "kind")?, r.get("occurred_on")));
        }
        let mut cases = Vec::with_capacity(case_rows.len());
        for r in &case_rows {
            let id: i64 = r.get("id");
            cases.push(PlanCase {
                id,
                payer_id: r.get("payer_id"),
                stage: parse_col::<Stage>(&r.get::<String, _>("stage"), "stage")?,
                log: logs.remove(&id).unwrap_or_default(),
            });
        }
        let handled_rows = sqlx::query(
            "SELECT r.kind, r.subject_key, r.due_on, r.closed_at FROM reminders r
             JOIN negotiations n ON n.id = r.negotiation_id AND n.closed_on IS NULL
             WHERE r.practice_id = ? AND r.kind = 'follow-up' AND r.state IN ('sent', 'done', 'failed')",
        )
        .bind(practice_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut handled = Vec::with_capacity(handled_rows.len());
        for r in &handled_rows {
            let due_on: NaiveDate = r.get("due_on");
            let closed: Option<String> = r.get("closed_at");
            handled.push(Handled {
                kind: parse_col(&r.get::<String, _>("kind"), "kind")?,
                subject_key: r.get("subject_key"),
                due_on,
                on: closed.as_deref().and_then(|c| local_date(c, tz)).unwrap_or(due_on),
            });
        }
        Ok(PlanningInputs { payers, cases, handled, credentials })
    }

    /// Makes the practice's planned reminders match `desired`, in one transaction: adds what is
    /// missing (idempotent on practice, kind, subject and date; a row cancelled by an earlier
    /// re-plan comes back), moves pending rows to a new hour when the time zone changed (unless
    /// someone snoozed them), cancels pending rows no longer called for, and skips muted subjects.
    /// Rows already posted, done or failed are left as they are.
    pub async fn sync_reminders(
        &self,
        practice_id: i64,
        tz: &str,
        desired: &[Desired],
        audit: &Audit,
    ) -> Result<SyncReport, AppError> {
        let mut tx = self.write_tx().await?;
        let report = sync_in(&mut tx, practice_id, tz, desired, audit.at).await?;
        if report.planned + report.cancelled > 0 {
            audit::record(
                &mut tx,
                audit,
                "reminders.plan",
                &format!("{} planned or moved, {} cancelled", report.planned, report.cancelled),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(report)
    }

    /// Claims up to `batch` due reminders for `worker` until `lease_until`, oldest first, in one
    /// statement. Only reminders of practices with a reminder channel on one of `platforms` are
    /// taken; a reminder whose earlier claim has not expired, or whose retry is not yet due, waits.
    pub async fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        batch: i64,
        worker: &str,
        platforms: &[&str],
    ) -> Result<Vec<Claimed>, AppError> {
        let platforms = serde_json::to_string(platforms).map_err(|e| AppError::internal("encoding platforms", e))?;
        let rows = sqlx::query(&format!(
            "UPDATE reminders SET claimed_by = ?1, lease_until = ?2, attempts = attempts + 1
             WHERE id IN (
                 SELECT r.id FROM reminders r INDEXED BY reminders_pending_due
                 WHERE r.state = 'pending' AND r.due_at <= ?3
                   AND (r.lease_until IS NULL OR r.lease_until < ?3)
                   AND (r.next_attempt_at IS NULL OR r.next_attempt_at <= ?3)
                   AND EXISTS (SELECT 1 FROM practices p WHERE p.id = r.practice_id
                                 AND p.reminder_channel IS NOT NULL
                                 AND p.platform IN (SELECT value FROM json_each(?4)))
                 ORDER BY r.due_at, r.id LIMIT ?5)
             RETURNING {CLAIM_COLUMNS}"
        ))
        .bind(worker)
        .bind(instant_text(lease_until))
        .bind(instant_text(now))
        .bind(platforms)
        .bind(batch)
        .fetch_all(self.pool())
        .await?;
        let mut out = rows.iter().map(claimed_from_row).collect::<Result<Vec<_>, _>>()?;
        out.sort_by_key(|c| (c.due_at, c.id));
        Ok(out)
    }

    /// The query plan of the claim's row selection, for tests and benchmarks that check it reads
    /// the partial index rather than the table.
    pub async fn claim_query_plan(&self) -> Result<Vec<String>, AppError> {
        let rows = sqlx::query(
            "EXPLAIN QUERY PLAN
             SELECT r.id FROM reminders r INDEXED BY reminders_pending_due
             WHERE r.state = 'pending' AND r.due_at <= ?1
               AND (r.lease_until IS NULL OR r.lease_until < ?1)
               AND (r.next_attempt_at IS NULL OR r.next_attempt_at <= ?1)
               AND EXISTS (SELECT 1 FROM practices p WHERE p.id = r.practice_id
                             AND p.reminder_channel IS NOT NULL
                             AND p.platform IN (SELECT value FROM json_each(?2)))
             ORDER BY r.due_at, r.id LIMIT ?3",
        )
        .bind("2026-01-01T00:00:00Z")
        .bind("[\"discord\"]")
        .bind(100)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(|r| r.get::<String, _>("detail")).collect())
    }

    /// Renews the claim on `ids` before posting them; false when any of them is no longer held
    /// by `worker` (its lease ran out and another worker took it, or it was cancelled or done),
    /// in which case nothing should be posted.
    pub async fn extend_lease(&self, ids: &[i64], worker: &str, until: DateTime<Utc>) -> Result<bool, AppError> {
        if ids.is_empty() {
            return Ok(true);
        }
        let n = sqlx::query(&format!(
            "UPDATE reminders SET lease_until = ? WHERE claimed_by = ? AND state = 'pending' AND id IN ({})",
            placeholders(ids.len())
        ))
        .bind(instant_text(until))
        .bind(worker)
        .bind_all(ids)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n as usize == ids.len())
    }

    /// Records that the platform accepted the post of these reminders (one message for one
    /// subject). Only the worker holding the claim can; returns how many rows it marked. A sent
    /// delivery warning also marks the failures it reported as warned.
    pub async fn mark_sent(
        &self,
        practice_id: i64,
        ids: &[i64],
        worker: &str,
        message_ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<usize, AppError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut tx = self.write_tx().await?;
        let at = instant_text(now);
        let rows = sqlx::query(&format!(
            "UPDATE reminders SET state = 'sent', sent_at = ?1, closed_at = ?1, message_ids = ?2, last_error = NULL,
                    claimed_by = NULL, lease_until = NULL, next_attempt_at = NULL
             WHERE practice_id = ?3 AND claimed_by = ?4 AND state <> 'sent' AND id IN ({})
             RETURNING kind, subject_key, due_on, payload",
            numbered(5, ids.len())
        ))
        .bind(&at)
        .bind(message_ids.join(","))
        .bind(practice_id)
        .bind(worker)
        .bind_all(ids)
        .fetch_all(&mut *tx)
        .await?;
        let mut described = Vec::new();
        for r in &rows {
            let kind: String = r.get("kind");
            let subject: String = r.get("subject_key");
            let due_on: NaiveDate = r.get("due_on");
            described.push(format!("{kind} {subject} {due_on}"));
            if kind == Kind::DeliveryWarning.key() {
                let payload: Option<String> = r.get("payload");
                let covered: Vec<i64> = payload
                    .and_then(|p| serde_json::from_str::<WarningPayload>(&p).ok())
                    .map(|w| w.failed.iter().map(|f| f.id).collect())
                    .unwrap_or_default();
                if !covered.is_empty() {
                    sqlx::query(&format!(
                        "UPDATE reminders SET warned_at = ? WHERE practice_id = ? AND id IN ({})",
                        placeholders(covered.len())
                    ))
                    .bind(&at)
                    .bind(practice_id)
                    .bind_all(&covered)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        if !rows.is_empty() {
            audit::record(&mut tx, &scheduler_audit(practice_id, now), "reminder.sent", &described.join("; ")).await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Gives the claim back with the next attempt at `next_attempt_at`. `refund` leaves the
    /// attempt uncounted (the platform asked us to slow down; nothing failed).
    pub async fn mark_retry(
        &self,
        ids: &[i64],
        worker: &str,
        next_attempt_at: DateTime<Utc>,
        error: &str,
        refund: bool,
    ) -> Result<usize, AppError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let n = sqlx::query(&format!(
            "UPDATE reminders SET claimed_by = NULL, lease_until = NULL, next_attempt_at = ?, last_error = ?,
                    attempts = CASE WHEN ? THEN MAX(attempts - 1, 0) ELSE attempts END
             WHERE claimed_by = ? AND state = 'pending' AND id IN ({})",
            placeholders(ids.len())
        ))
        .bind(instant_text(next_attempt_at))
        .bind(clip_error(error))
        .bind(refund)
        .bind(worker)
        .bind_all(ids)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n as usize)
    }

    /// Gives up on these reminders: they stay visible in `/followups` as failed, and the next
    /// post that works in the practice's channel says so once.
    pub async fn mark_failed(
        &self,
        practice_id: i64,
        ids: &[i64],
        worker: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<usize, AppError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let mut tx = self.write_tx().await?;
        let at = instant_text(now);
        // A failed warning is not itself reported by a later warning.
        let rows = sqlx::query(&format!(
            "UPDATE reminders SET state = 'failed', closed_at = ?1, last_error = ?2, claimed_by = NULL,
                    lease_until = NULL, next_attempt_at = NULL,
                    warned_at = CASE WHEN kind = 'delivery-warning' THEN ?1 ELSE NULL END
             WHERE practice_id = ?3 AND claimed_by = ?4 AND state = 'pending' AND id IN ({})
             RETURNING kind, subject_key, due_on",
            numbered(5, ids.len())
        ))
        .bind(&at)
        .bind(clip_error(error))
        .bind(practice_id)
        .bind(worker)
        .bind_all(ids)
        .fetch_all(&mut *tx)
        .await?;
        if !rows.is_empty() {
            let what: Vec<String> = rows
                .iter()
                .map(|r| {
                    format!(
                        "{} {} {}",
                        r.get::<String, _>("kind"),
                        r.get::<String, _>("subject_key"),
                        r.get::<NaiveDate, _>("due_on")
                    )
                })
                .collect();
            audit::record(
                &mut tx,
                &scheduler_audit(practice_id, now),
                "reminder.failed",
                &format!("{}: {}", what.join("; "), clip_error(error)),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Cancels claimed reminders whose subject moved on before they were posted (the case
    /// closed in the meantime), keeping the reason.
    pub async fn mark_obsolete(
        &self,
        practice_id: i64,
        ids: &[i64],
        worker: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<usize, AppError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let n = sqlx::query(&format!(
            "UPDATE reminders SET state = 'cancelled', closed_at = ?1, last_error = ?2, claimed_by = NULL,
                    lease_until = NULL
             WHERE practice_id = ?3 AND claimed_by = ?4 AND state = 'pending' AND id IN ({})",
            numbered(5, ids.len())
        ))
        .bind(instant_text(now))
        .bind(clip_error(reason))
        .bind(practice_id)
        .bind(worker)
        .bind_all(ids)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n as usize)
    }

    /// After a post to the practice's channel worked: when reminders failed since the last
    /// warning, plans one delivery warning listing them, due at once. Returns its id, or None when
    /// there is nothing to report (or that warning is already planned or posted).
    pub async fn queue_delivery_warning(
        &self,
        practice_id: i64,
        tz: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, AppError> {
        // The common case (nothing failed) is one read of a small partial index.
        let any: Option<i64> = sqlx::query(
            "SELECT id FROM reminders WHERE practice_id = ? AND state = 'failed' AND warned_at IS NULL
               AND kind <> 'delivery-warning' LIMIT 1",
        )
        .bind(practice_id)
        .fetch_optional(self.pool())
        .await?
        .map(|r| r.get("id"));
        if any.is_none() {
            return Ok(None);
        }
        let mut tx = self.write_tx().await?;
        let rows = sqlx::query(
            "SELECT r.id, r.kind, r.due_on, r.last_error, p.name AS payer FROM reminders r
             LEFT JOIN payers p ON p.id = r.payer_id
             WHERE r.practice_id = ? AND r.state = 'failed' AND r.warned_at IS NULL AND r.kind <> 'delivery-warning'
             ORDER BY r.id",
        )
        .bind(practice_id)
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut failed = Vec::with_capacity(rows.len());
        for r in &rows {
            failed.push(FailedItem {
                id: r.get("id"),
                kind: parse_col(&r.get::<String, _>("kind"), "kind")?,
                payer: r.get("payer"),
                due_on: r.get("due_on"),
                error: r.get("last_error"),
            });
        }
        let last = failed.iter().map(|f| f.id).max().unwrap_or(0);
        let subject = format!("failed:{last}");
        let due_on = local_date(&instant_text(now), tz).unwrap_or(now.date_naive());
        let payload = serde_json::to_string(&WarningPayload { failed })
            .map_err(|e| AppError::internal("encoding a delivery warning", e))?;
        let nonce = reminders::nonce(practice_id, Kind::DeliveryWarning, &subject, due_on, 0);
        let at = instant_text(now);
        let id: Option<i64> = sqlx::query(
            "INSERT INTO reminders (practice_id, kind, subject_key, due_on, due_at, nonce, payload, created_at)
             VALUES (?1, 'delivery-warning', ?2, ?3, ?4, ?5, ?6, ?4)
             ON CONFLICT (practice_id, kind, subject_key, due_on) DO UPDATE SET
                 state = 'pending', attempts = 0, next_attempt_at = NULL, last_error = NULL, closed_at = NULL,
                 warned_at = NULL, due_at = excluded.due_at, payload = excluded.payload
             WHERE reminders.state = 'failed'
             RETURNING id",
        )
        .bind(practice_id)
        .bind(&subject)
        .bind(due_on)
        .bind(&at)
        .bind(&nonce)
        .bind(&payload)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.get("id"));
        tx.commit().await?;
        Ok(id)
    }

    /// One reminder of the practice.
    pub async fn reminder(&self, practice_id: i64, id: i64) -> Result<Option<ReminderView>, AppError> {
        let row = sqlx::query(&format!("{VIEW_SELECT} WHERE r.practice_id = ? AND r.id = ?"))
            .bind(practice_id)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(view_from_row).transpose()
    }

    /// The practice's pending reminders (overdue first, then upcoming) and the failed ones
    /// nobody has dealt with, at most `limit` of each.
    pub async fn list_reminders(&self, practice_id: i64, limit: i64) -> Result<Vec<ReminderView>, AppError> {
        let mut rows = sqlx::query(&format!(
            "{VIEW_SELECT} WHERE r.practice_id = ? AND r.state = 'pending' ORDER BY r.due_at, r.id LIMIT ?"
        ))
        .bind(practice_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.extend(
            sqlx::query(&format!(
                "{VIEW_SELECT} WHERE r.practice_id = ? AND r.state = 'failed' AND r.kind <> 'delivery-warning'
                 ORDER BY r.due_at DESC, r.id DESC LIMIT ?"
            ))
            .bind(practice_id)
            .bind(limit)
            .fetch_all(self.pool())
            .await?,
        );
        rows.iter().map(view_from_row).collect()
    }

    /// The practice's reminders in one state, latest due first.
    pub async fn reminders_in_state(
        &self,
        practice_id: i64,
        state: State,
        limit: i64,
    ) -> Result<Vec<ReminderView>, AppError> {
        let rows = sqlx::query(&format!(
            "{VIEW_SELECT} WHERE r.practice_id = ? AND r.state = ? ORDER BY r.due_at DESC, r.id DESC LIMIT ?"
        ))
        .bind(practice_id)
        .bind(state.key())
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(view_from_row).collect()
    }

    /// Moves a reminder to `until`. A pending or failed one keeps its place and is posted then; a
    /// posted one (with the others posted in the same message) comes back then as a new message.
    /// Returns the reminders moved.
    pub async fn snooze_reminder(
        &self,
        practice_id: i64,
        id: i64,
        until: DateTime<Utc>,
        audit: &Audit,
    ) -> Result<Vec<ReminderView>, AppError> {
        let mut tx = self.write_tx().await?;
        let target = fetch_view(&mut tx, practice_id, id).await?;
        match target.state {
            State::Cancelled => {
                return Err(AppError::user(format!(
                "Reminder #{id} was cancelled, so there is nothing to snooze; /followups list shows the ones still planned"
            )))
            }
            State::Done => {
                return Err(AppError::user(format!(
                "Reminder #{id} is marked done, so there is nothing to snooze; /followups list shows the ones still planned"
            )))
            }
            _ => {}
        }
        let rows = sqlx::query(
            "SELECT id, kind, subject_key, due_on, state, snoozes FROM reminders
             WHERE practice_id = ?1 AND (id = ?2 OR (?3 IS NOT NULL AND message_ids = ?3 AND state = 'sent'))",
        )
        .bind(practice_id)
        .bind(id)
        .bind(target_message_ids(&mut tx, practice_id, id).await?)
        .fetch_all(&mut *tx)
        .await?;
        let at = instant_text(audit.at);
        let mut moved = Vec::new();
        for r in &rows {
            let rid: i64 = r.get("id");
            let state: State = parse_col(&r.get::<String, _>("state"), "state")?;
            let kind: Kind = parse_col(&r.get::<String, _>("kind"), "kind")?;
            let subject: String = r.get("subject_key");
            let due_on: NaiveDate = r.get("due_on");
            let mut snoozes: i64 = r.get("snoozes");
            if state == State::Sent {
                // A second post of the same reminder needs its own nonce.
                snoozes += 1;
            }
            let nonce = reminders::nonce(practice_id, kind, &subject, due_on, snoozes);
            // A snooze never brings a reminder forward: one still pending keeps a later due time
            // (instants are text in one fixed format, so text order is time order).
            sqlx::query(
                "UPDATE reminders SET state = 'pending',
                        due_at = CASE WHEN state = 'pending' AND due_at > ?1 THEN due_at ELSE ?1 END,
                        snoozed_at = ?2, snoozes = ?3, nonce = ?4,
                        attempts = 0, next_attempt_at = NULL, last_error = NULL, closed_at = NULL, warned_at = NULL,
                        claimed_by = NULL, lease_until = NULL
                 WHERE id = ?5 AND practice_id = ?6",
            )
            .bind(instant_text(until))
            .bind(&at)
            .bind(snoozes)
            .bind(&nonce)
            .bind(rid)
            .bind(practice_id)
            .execute(&mut *tx)
            .await?;
            moved.push(rid);
        }
        audit::record(
            &mut tx,
            audit,
            "reminder.snooze",
            &format!("#{} ({} {}) until {}", id, target.kind.key(), target.subject_key, instant_text(until)),
        )
        .await?;
        let mut out = Vec::new();
        for rid in moved {
            out.push(fetch_view(&mut tx, practice_id, rid).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Marks a pending or failed reminder done: it will not be posted, and a follow-up's next
    /// reminder counts two weeks from it.
    pub async fn done_reminder(&self, practice_id: i64, id: i64, audit: &Audit) -> Result<ReminderView, AppError> {
        let mut tx = self.write_tx().await?;
        let target = fetch_view(&mut tx, practice_id, id).await?;
        match target.state {
            State::Pending | State::Failed => {}
            State::Done => return Ok(target),
            State::Sent => {
                return Err(AppError::user(format!(
                    "Reminder #{id} was already posted; record what you did with /negotiate log, or bring it back later with /followups snooze id:{id} days:7"
                )))
            }
            State::Cancelled => {
                return Err(AppError::user(format!(
                    "Reminder #{id} was cancelled; /followups list shows the ones still planned"
                )))
            }
        }
        sqlx::query(
            "UPDATE reminders SET state = 'done', closed_at = ?, claimed_by = NULL, lease_until = NULL,
                    next_attempt_at = NULL WHERE id = ? AND practice_id = ?",
        )
        .bind(instant_text(audit.at))
        .bind(id)
        .bind(practice_id)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            audit,
            "reminder.done",
            &format!("#{id} ({} {} {})", target.kind.key(), target.subject_key, target.due_on),
        )
        .await?;
        let view = fetch_view(&mut tx, practice_id, id).await?;
        tx.commit().await?;
        Ok(view)
    }

    /// "Stop reminding": mutes the reminder's subject (the case, the payer's renewal and rates, the
    /// Medicare year) and cancels its pending reminders. Returns the reminder and how many were
    /// cancelled.
    pub async fn cancel_reminder(
        &self,
        practice_id: i64,
        id: i64,
        audit: &Audit,
    ) -> Result<(ReminderView, usize), AppError> {
        let mut tx = self.write_tx().await?;
        let target = fetch_view(&mut tx, practice_id, id).await?;
        let at = instant_text(audit.at);
        sqlx::query(
            "INSERT INTO reminder_mutes (practice_id, subject_key, muted_at, muted_by) VALUES (?, ?, ?, ?)
             ON CONFLICT (practice_id, subject_key) DO NOTHING",
        )
        .bind(practice_id)
        .bind(&target.subject_key)
        .bind(&at)
        .bind(&audit.actor)
        .execute(&mut *tx)
        .await?;
        let n = sqlx::query(
            "UPDATE reminders SET state = 'cancelled', closed_at = ?, claimed_by = NULL, lease_until = NULL
             WHERE practice_id = ? AND subject_key = ? AND state IN ('pending', 'failed')",
        )
        .bind(&at)
        .bind(practice_id)
        .bind(&target.subject_key)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        audit::record(
            &mut tx,
            audit,
            "reminder.cancel",
            &format!("#{id}: no more reminders about {} ({n} cancelled)", target.subject_key),
        )
        .await?;
        let view = fetch_view(&mut tx, practice_id, id).await?;
        tx.commit().await?;
        Ok((view, n as usize))
    }

    /// Plans one reminder that does not come from the practice's data (a new Medicare year).
    /// Idempotent: false when it already exists or its subject is muted.
    pub async fn add_event_reminder(
        &self,
        practice_id: i64,
        r: &EventReminder,
        audit: &Audit,
    ) -> Result<bool, AppError> {
        let EventReminder { kind, subject_key, due_on, due_at, payload } = r;
        let (kind, due_on, due_at) = (*kind, *due_on, *due_at);
        let mut tx = self.write_tx().await?;
        let nonce = reminders::nonce(practice_id, kind, subject_key, due_on, 0);
        let n = sqlx::query(
            "INSERT INTO reminders (practice_id, kind, subject_key, due_on, due_at, nonce, payload, created_at)
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8
             WHERE NOT EXISTS (SELECT 1 FROM reminder_mutes WHERE practice_id = ?1 AND subject_key = ?3)
             ON CONFLICT (practice_id, kind, subject_key, due_on) DO NOTHING",
        )
        .bind(practice_id)
        .bind(kind.key())
        .bind(subject_key)
        .bind(due_on)
        .bind(instant_text(due_at))
        .bind(&nonce)
        .bind(payload)
        .bind(instant_text(audit.at))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n > 0 {
            audit::record(&mut tx, audit, "reminders.plan", &format!("{} {subject_key} {due_on}", kind.key())).await?;
        }
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Practices whose reminders were last planned before `today` (UTC date), oldest first: the
    /// scheduler re-plans a few per tick so plans that depend on the date alone stay current.
    pub async fn practices_to_replan(&self, today: NaiveDate, limit: i64) -> Result<Vec<i64>, AppError> {
        let rows = sqlx::query(
            "SELECT practice_id FROM reminder_plans WHERE planned_on < ? ORDER BY planned_on, practice_id LIMIT ?",
        )
        .bind(today)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(|r| r.get("practice_id")).collect())
    }

    /// Practices that have a reminder channel, with their time zones: (id, time zone).
    pub async fn practices_with_channel(&self) -> Result<Vec<(i64, String)>, AppError> {
        let rows = sqlx::query("SELECT id, time_zone FROM practices WHERE reminder_channel IS NOT NULL ORDER BY id")
            .fetch_all(self.pool())
            .await?;
        Ok(rows.iter().map(|r| (r.get("id"), r.get("time_zone"))).collect())
    }

    /// Counts by state, for tests, benchmarks and logs.
    pub async fn reminder_counts(&self) -> Result<HashMap<String, i64>, AppError> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) AS n FROM reminders GROUP BY state").fetch_all(self.pool()).await?;
        Ok(rows.iter().map(|r| (r.get("state"), r.get("n"))).collect())
    }
}

const VIEW_SELECT: &str =
    "SELECT r.id, r.kind, r.subject_key, p.name AS payer, r.due_on, r.due_at, r.state, r.attempts,
        r.last_error, r.sent_at, r.snoozed_at FROM reminders r LEFT JOIN payers p ON p.id = r.payer_id";

fn view_from_row(r: &SqliteRow) -> Result<ReminderView, AppError> {
    Ok(ReminderView {
        id: r.get("id"),
        kind: parse_col(&r.get::<String, _>("kind"), "kind")?,
        subject_key: r.get("subject_key"),
        payer: r.get("payer"),
        due_on: r.get("due_on"),
        due_at: r.get("due_at"),
        state: parse_col(&r.get::<String, _>("state"), "state")?,
        attempts: r.get("attempts"),
        last_error: r.get("last_error"),
        sent_at: r.get("sent_at"),
        snoozed: r.get::<Option<String>, _>("snoozed_at").is_some(),
    })
}

async fn fetch_view(conn: &mut SqliteConnection, practice_id: i64, id: i64) -> Result<ReminderView, AppError> {
    let row = sqlx::query(&format!("{VIEW_SELECT} WHERE r.practice_id = ? AND r.id = ?"))
        .bind(practice_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => view_from_row(&r),
        None => Err(AppError::user(format!(
            "There is no reminder #{id} for this practice; /followups list shows them with their numbers"
        ))),
    }
}

async fn target_message_ids(
    conn: &mut SqliteConnection,
    practice_id: i64,
    id: i64,
) -> Result<Option<String>, AppError> {
    Ok(sqlx::query("SELECT message_ids FROM reminders WHERE practice_id = ? AND id = ? AND state = 'sent'")
        .bind(practice_id)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .and_then(|r| r.get::<Option<String>, _>("message_ids"))
        .filter(|m| !m.is_empty()))
}

async fn sync_in(
    conn: &mut SqliteConnection,
    practice_id: i64,
    tz: &str,
    desired: &[Desired],
    now: DateTime<Utc>,
) -> Result<SyncReport, AppError> {
    let muted: HashSet<String> = sqlx::query("SELECT subject_key FROM reminder_mutes WHERE practice_id = ?")
        .bind(practice_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.get("subject_key"))
        .collect();
    let at = instant_text(now);
    let mut report = SyncReport::default();
    let mut wanted: HashSet<(Kind, &str, NaiveDate)> = HashSet::new();
    for d in desired.iter().filter(|d| d.kind.is_planned() && !muted.contains(&d.subject_key)) {
        if !wanted.insert((d.kind, d.subject_key.as_str(), d.due_on)) {
            continue;
        }
        let due_at = instant_text(reminders::due_at(d.due_on, tz));
        let nonce = reminders::nonce(practice_id, d.kind, &d.subject_key, d.due_on, 0);
        let n = sqlx::query(
            "INSERT INTO reminders (practice_id, kind, subject_key, negotiation_id, payer_id, due_on, due_at, nonce, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (practice_id, kind, subject_key, due_on) DO UPDATE SET
                 due_at = excluded.due_at,
                 state = 'pending',
                 closed_at = NULL,
                 attempts = CASE WHEN reminders.state = 'cancelled' THEN 0 ELSE reminders.attempts END,
                 next_attempt_at = CASE WHEN reminders.state = 'cancelled' THEN NULL ELSE reminders.next_attempt_at END,
                 last_error = CASE WHEN reminders.state = 'cancelled' THEN NULL ELSE reminders.last_error END,
                 snoozed_at = CASE WHEN reminders.state = 'cancelled' THEN NULL ELSE reminders.snoozed_at END
             WHERE reminders.state = 'cancelled'
                OR (reminders.state = 'pending' AND reminders.snoozed_at IS NULL AND reminders.due_at <> excluded.due_at)",
        )
        .bind(practice_id)
        .bind(d.kind.key())
        .bind(&d.subject_key)
        .bind(d.negotiation_id)
        .bind(d.payer_id)
        .bind(d.due_on)
        .bind(&due_at)
        .bind(&nonce)
        .bind(&at)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        report.planned += n as usize;
    }
    let planned_on = local_date(&at, tz).unwrap_or(now.date_naive());
    sqlx::query(
        "INSERT INTO reminder_plans (practice_id, planned_on) VALUES (?, ?)
         ON CONFLICT (practice_id) DO UPDATE SET planned_on = excluded.planned_on",
    )
    .bind(practice_id)
    .bind(planned_on)
    .execute(&mut *conn)
    .await?;
    let planned_kinds: Vec<&str> = Kind::PLANNED.iter().map(|k| k.key()).collect();
    let pending = sqlx::query(&format!(
        "SELECT id, kind, subject_key, due_on FROM reminders
         WHERE practice_id = ? AND state = 'pending' AND kind IN ({})",
        placeholders(planned_kinds.len())
    ))
    .bind(practice_id)
    .bind_all(&planned_kinds)
    .fetch_all(&mut *conn)
    .await?;
    let mut stale = Vec::new();
    for r in &pending {
        let kind: Kind = parse_col(&r.get::<String, _>("kind"), "kind")?;
        let subject: String = r.get("subject_key");
        let due_on: NaiveDate = r.get("due_on");
        if !wanted.contains(&(kind, subject.as_str(), due_on)) {
            stale.push(r.get::<i64, _>("id"));
        }
    }
    // Event reminders (a Medicare year) of a muted subject go too.
    let muted_pending = sqlx::query(
        "SELECT r.id FROM reminders r JOIN reminder_mutes m ON m.practice_id = r.practice_id AND m.subject_key = r.subject_key
         WHERE r.practice_id = ? AND r.state = 'pending'",
    )
    .bind(practice_id)
    .fetch_all(&mut *conn)
    .await?;
    stale.extend(muted_pending.iter().map(|r| r.get::<i64, _>("id")));
    stale.sort_unstable();
    stale.dedup();
    for chunk in stale.chunks(200) {
        let n = sqlx::query(&format!(
            "UPDATE reminders SET state = 'cancelled', closed_at = ? WHERE practice_id = ? AND state = 'pending' AND id IN ({})",
            placeholders(chunk.len())
        ))
        .bind(&at)
        .bind(practice_id)
        .bind_all(chunk)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        report.cancelled += n as usize;
    }
    Ok(report)
}

/// Binds every value of a list, in order, to a query with that many `?`.
trait BindAll<'q> {
    fn bind_all<T>(self, values: &'q [T]) -> Self
    where
        T: 'q + sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Sync;
}

impl<'q> BindAll<'q> for sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    fn bind_all<T>(mut self, values: &'q [T]) -> Self
    where
        T: 'q + sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Sync,
    {
        for v in values {
            self = self.bind(v);
        }
        self
    }
}

#[cfg(test)]
mod tests;
