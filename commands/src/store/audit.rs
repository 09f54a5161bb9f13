//! Who changed what, and when: one row for every change, written in the change's transaction.

use crate::error::AppError;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{Row, SqliteConnection};

/// The who and when of a change; the store adds the what.
#[derive(Debug, Clone)]
pub struct Audit {
    pub practice_id: i64,
    pub actor: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
}

pub(crate) async fn record(
    conn: &mut SqliteConnection,
    audit: &Audit,
    action: &str,
    detail: &str,
) -> Result<(), AppError> {
    sqlx::query("INSERT INTO audit_log (practice_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)")
        .bind(audit.practice_id)
        .bind(audit.at.to_rfc3339())
        .bind(&audit.actor)
        .bind(action)
        .bind(detail)
        .execute(conn)
        .await?;
    Ok(())
}

impl super::Store {
    pub async fn audit_trail(&self, practice_id: i64, limit: i64) -> Result<Vec<AuditEntry>, AppError> {
        let rows = sqlx::query(
            "SELECT at, actor, action, detail FROM audit_log WHERE practice_id = ? ORDER BY id DESC LIMIT ?",
        )
        .bind(practice_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                at: r.get("at"),
                actor: r.get("actor"),
                action: r.get("action"),
                detail: r.get("detail"),
            })
            .collect())
    }
}
