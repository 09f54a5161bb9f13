//! Practices: the tenants.

use super::{audit, parse_col, Audit, Store};
use crate::domain::{Credential, Setting};
use crate::error::AppError;
use crate::invocation::{Platform, Tenant};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

#[derive(Debug, Clone, Serialize)]
pub struct Practice {
    pub id: i64,
    #[serde(skip)]
    pub platform: Platform,
    #[serde(skip)]
    pub external_id: String,
    pub name: String,
    pub locality_id: Option<String>,
    pub credential: Option<Credential>,
    pub setting: Setting,
    pub time_zone: String,
    pub reminder_channel: Option<String>,
    pub manager_role: Option<String>,
    pub npi: Option<String>,
    pub tax_id: Option<String>,
    pub weeks_per_year: i64,
    /// The newest audit id of the practice: changes whenever the practice's data does.
    #[serde(skip)]
    pub revision: i64,
    /// The newest market import (any payer, `raterise market import`): `/rates PAYER` shows the
    /// payer's published distribution, so a cached report is stale once it moves.
    #[serde(skip)]
    pub market_revision: i64,
}

/// Fields `/setup` may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct PracticeChanges {
    pub name: Option<String>,
    pub locality_id: Option<String>,
    pub credential: Option<Credential>,
    pub setting: Option<Setting>,
    pub time_zone: Option<String>,
    pub reminder_channel: Option<String>,
    pub manager_role: Option<String>,
    pub npi: Option<String>,
    pub tax_id: Option<String>,
}

const COLUMNS: &str = "id, platform, external_id, name, locality_id, credential, setting, time_zone, \
                       reminder_channel, manager_role, npi, tax_id, weeks_per_year, \
                       (SELECT COALESCE(MAX(a.id), 0) FROM audit_log a WHERE a.practice_id = practices.id) AS revision, \
                       (SELECT COALESCE(MAX(m.id), 0) FROM market_imports m) AS market_revision";

fn from_row(r: &SqliteRow) -> Result<Practice, AppError> {
    let platform: String = r.get("platform");
    Ok(Practice {
        id: r.get("id"),
        platform: match platform.as_str() {
            "discord" => Platform::Discord,
            "slack" => Platform::Slack,
            _ => Platform::Console,
        },
        external_id: r.get("external_id"),
        name: r.get("name"),
        locality_id: r.get("locality_id"),
        credential: r.get::<Option<String>, _>("credential").map(|c| parse_col(&c, "credential")).transpose()?,
        setting: parse_col(&r.get::<String, _>("setting"), "setting")?,
        time_zone: r.get("time_zone"),
        reminder_channel: r.get("reminder_channel"),
        manager_role: r.get("manager_role"),
        npi: r.get("npi"),
        tax_id: r.get("tax_id"),
        weeks_per_year: r.get("weeks_per_year"),
        revision: r.get("revision"),
        market_revision: r.get("market_revision"),
    })
}

impl Store {
    /// The tenant's practice, from memory when nothing has changed since it was last read.
    pub async fn find_practice(&self, tenant: &Tenant) -> Result<Option<Practice>, AppError> {
        let Some(cache) = &self.practices else { return self.read_practice(tenant).await };
        // The generation is taken before reading, so a change during the read invalidates it.
        let generation = match cache.generation().await {
            Ok(g) => g,
            Err(e) => {
                // Without knowing what changed, read the database as if there were no cache.
                tracing::warn!(error = %e, "practice cache: could not ask SQLite for changes; reading directly");
                return self.read_practice(tenant).await;
            }
        };
        if let Some(hit) = cache.get(tenant, generation) {
            return Ok(Some(hit));
        }
        let found = self.read_practice(tenant).await?;
        if let Some(p) = &found {
            cache.put(tenant, generation, p);
        }
        Ok(found)
    }

    async fn read_practice(&self, tenant: &Tenant) -> Result<Option<Practice>, AppError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM practices WHERE platform = ? AND external_id = ?"))
            .bind(tenant.platform.key())
            .bind(&tenant.external_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn practice_by_id(&self, id: i64) -> Result<Option<Practice>, AppError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM practices WHERE id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Returns the tenant's practice, creating an empty one on first use.
    pub async fn ensure_practice(
        &self,
        tenant: &Tenant,
        default_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Practice, AppError> {
        // Read first: the common case must not take the write lock.
        if let Some(p) = self.find_practice(tenant).await? {
            return Ok(p);
        }
        sqlx::query(
            "INSERT INTO practices (platform, external_id, name, created_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (platform, external_id) DO NOTHING",
        )
        .bind(tenant.platform.key())
        .bind(&tenant.external_id)
        .bind(default_name)
        .bind(now.to_rfc3339())
        .execute(self.pool())
        .await?;
        self.note_change();
        self.find_practice(tenant)
            .await?
            .ok_or_else(|| AppError::internal("creating practice", sqlx::Error::RowNotFound))
    }

    /// Names a practice after its Discord server or Slack workspace, unless it already has a name
    /// of its own (from `/setup name:` or an earlier lookup): only a practice still named by its
    /// platform id changes. None when nothing changed.
    pub async fn name_practice_after_tenant(
        &self,
        id: i64,
        name: &str,
        audit: &Audit,
    ) -> Result<Option<Practice>, AppError> {
        let mut tx = self.write_tx().await?;
        let renamed = sqlx::query("UPDATE practices SET name = ? WHERE id = ? AND name = external_id")
            .bind(name)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if renamed == 0 {
            return Ok(None);
        }
        audit::record(&mut tx, audit, "setup", &format!("name={name} (the server's own name)")).await?;
        let row =
            sqlx::query(&format!("SELECT {COLUMNS} FROM practices WHERE id = ?")).bind(id).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        self.note_change();
        from_row(&row).map(Some)
    }

    pub async fn update_practice(&self, id: i64, c: &PracticeChanges, audit: &Audit) -> Result<Practice, AppError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "UPDATE practices SET
                name = COALESCE(?, name),
                locality_id = COALESCE(?, locality_id),
                credential = COALESCE(?, credential),
                setting = COALESCE(?, setting),
                time_zone = COALESCE(?, time_zone),
                reminder_channel = COALESCE(?, reminder_channel),
                manager_role = COALESCE(?, manager_role),
                npi = COALESCE(?, npi),
                tax_id = COALESCE(?, tax_id)
             WHERE id = ?",
        )
        .bind(&c.name)
        .bind(&c.locality_id)
        .bind(c.credential.map(|x| x.key()))
        .bind(c.setting.map(|x| x.key()))
        .bind(&c.time_zone)
        .bind(&c.reminder_channel)
        .bind(&c.manager_role)
        .bind(&c.npi)
        .bind(&c.tax_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        audit::record(&mut tx, audit, "setup", &describe(c)).await?;
        let row =
            sqlx::query(&format!("SELECT {COLUMNS} FROM practices WHERE id = ?")).bind(id).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        self.note_change();
        from_row(&row)
    }
}

fn describe(c: &PracticeChanges) -> String {
    let mut parts = Vec::new();
    let mut push = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            parts.push(format!("{k}={v}"));
        }
    };
    push("name", &c.name);
    push("locality", &c.locality_id);
    push("credential", &c.credential.map(|x| x.key().to_string()));
    push("setting", &c.setting.map(|x| x.key().to_string()));
    push("time_zone", &c.time_zone);
    push("reminder_channel", &c.reminder_channel);
    push("manager_role", &c.manager_role);
    push("npi", &c.npi);
    push("tax_id", &c.tax_id);
    parts.join(", ")
}
