//! Payers of a practice and the weekly volume the practice bills them per code.

use super::{audit, conflict_or_internal, parse_col, Audit, Store};
use crate::domain::{PayerKind, PayerStatus};
use crate::error::AppError;
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

#[derive(Debug, Clone, Serialize)]
pub struct Payer {
    pub id: i64,
    #[serde(skip)]
    pub practice_id: i64,
    pub name: String,
    pub kind: PayerKind,
    pub status: PayerStatus,
    pub effective_date: Option<NaiveDate>,
    pub renewal_date: Option<NaiveDate>,
    pub notice_days: i64,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub provider_id: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewPayer {
    pub name: String,
    pub kind: PayerKind,
    pub status: PayerStatus,
    pub effective_date: Option<NaiveDate>,
    pub renewal_date: Option<NaiveDate>,
    pub notice_days: Option<i64>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub provider_id: Option<String>,
    pub notes: Option<String>,
}

impl NewPayer {
    /// An in-network payer with only a name and a kind; the other details stay unset.
    pub fn new(name: &str, kind: PayerKind) -> NewPayer {
        NewPayer {
            name: name.to_string(),
            kind,
            status: PayerStatus::InNetwork,
            effective_date: None,
            renewal_date: None,
            notice_days: None,
            contact_name: None,
            contact_email: None,
            contact_phone: None,
            provider_id: None,
            notes: None,
        }
    }
}

/// `None` leaves a field unchanged.
#[derive(Debug, Clone, Default)]
pub struct PayerChanges {
    pub name: Option<String>,
    pub kind: Option<PayerKind>,
    pub status: Option<PayerStatus>,
    pub effective_date: Option<NaiveDate>,
    pub renewal_date: Option<NaiveDate>,
    pub notice_days: Option<i64>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub provider_id: Option<String>,
    pub notes: Option<String>,
}

const COLUMNS: &str = "id, practice_id, name, kind, status, effective_date, renewal_date, notice_days, \
                       contact_name, contact_email, contact_phone, provider_id, notes";

fn from_row(r: &SqliteRow) -> Result<Payer, AppError> {
    Ok(Payer {
        id: r.get("id"),
        practice_id: r.get("practice_id"),
        name: r.get("name"),
        kind: parse_col(&r.get::<String, _>("kind"), "kind")?,
        status: parse_col(&r.get::<String, _>("status"), "status")?,
        effective_date: r.get("effective_date"),
        renewal_date: r.get("renewal_date"),
        notice_days: r.get("notice_days"),
        contact_name: r.get("contact_name"),
        contact_email: r.get("contact_email"),
        contact_phone: r.get("contact_phone"),
        provider_id: r.get("provider_id"),
        notes: r.get("notes"),
    })
}

fn duplicate_name(name: &str) -> String {
    let q = crate::command_line::quote(name);
    format!("You already have a payer named {name}; pick another name or change it with /payer edit name:{q}")
}

impl Store {
    pub async fn list_payers(&self, practice_id: i64) -> Result<Vec<Payer>, AppError> {
        let rows =
            sqlx::query(&format!("SELECT {COLUMNS} FROM payers WHERE practice_id = ? ORDER BY name COLLATE NOCASE"))
                .bind(practice_id)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(from_row).collect()
    }

    /// Case-insensitive exact match within the practice.
    pub async fn find_payer(&self, practice_id: i64, name: &str) -> Result<Option<Payer>, AppError> {
        let row =
            sqlx::query(&format!("SELECT {COLUMNS} FROM payers WHERE practice_id = ? AND name = ? COLLATE NOCASE"))
                .bind(practice_id)
                .bind(name.trim())
                .fetch_optional(self.pool())
                .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn payer_names(&self, practice_id: i64) -> Result<Vec<String>, AppError> {
        let rows = sqlx::query("SELECT name FROM payers WHERE practice_id = ? ORDER BY name COLLATE NOCASE")
            .bind(practice_id)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(|r| r.get("name")).collect())
    }

    pub async fn insert_payer(
        &self,
        practice_id: i64,
        p: &NewPayer,
        volumes: &[(String, i64)],
        audit: &Audit,
    ) -> Result<Payer, AppError> {
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO payers (practice_id, name, kind, status, effective_date, renewal_date, notice_days,
                                 contact_name, contact_email, contact_phone, provider_id, notes, created_at)
             VALUES (?, ?, ?, ?, ?, ?, COALESCE(?, 90), ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(practice_id)
        .bind(p.name.trim())
        .bind(p.kind.key())
        .bind(p.status.key())
        .bind(p.effective_date)
        .bind(p.renewal_date)
        .bind(p.notice_days)
        .bind(&p.contact_name)
        .bind(&p.contact_email)
        .bind(&p.contact_phone)
        .bind(&p.provider_id)
        .bind(&p.notes)
        .bind(audit.at.to_rfc3339())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| conflict_or_internal(e, "adding payer", || duplicate_name(&p.name)))?
        .get("id");
        set_volumes(&mut tx, id, volumes).await?;
        audit::record(&mut tx, audit, "payer.add", &format!("{} ({})", p.name.trim(), p.kind.key())).await?;
        let row =
            sqlx::query(&format!("SELECT {COLUMNS} FROM payers WHERE id = ?")).bind(id).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        from_row(&row)
    }

    pub async fn update_payer(
        &self,
        payer: &Payer,
        c: &PayerChanges,
        volumes: &[(String, i64)],
        audit: &Audit,
    ) -> Result<Payer, AppError> {
        let mut tx = self.write_tx().await?;
        let new_name = c.name.as_deref().map(str::trim);
        sqlx::query(
            "UPDATE payers SET
                name = COALESCE(?, name), kind = COALESCE(?, kind), status = COALESCE(?, status),
                effective_date = COALESCE(?, effective_date), renewal_date = COALESCE(?, renewal_date),
                notice_days = COALESCE(?, notice_days), contact_name = COALESCE(?, contact_name),
                contact_email = COALESCE(?, contact_email), contact_phone = COALESCE(?, contact_phone),
                provider_id = COALESCE(?, provider_id), notes = COALESCE(?, notes)
             WHERE id = ? AND practice_id = ?",
        )
        .bind(new_name)
        .bind(c.kind.map(|k| k.key()))
        .bind(c.status.map(|k| k.key()))
        .bind(c.effective_date)
        .bind(c.renewal_date)
        .bind(c.notice_days)
        .bind(&c.contact_name)
        .bind(&c.contact_email)
        .bind(&c.contact_phone)
        .bind(&c.provider_id)
        .bind(&c.notes)
        .bind(payer.id)
        .bind(payer.practice_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or_internal(e, "editing payer", || duplicate_name(new_name.unwrap_or(&payer.name))))?;
        set_volumes(&mut tx, payer.id, volumes).await?;
        audit::record(&mut tx, audit, "payer.edit", &payer.name).await?;
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM payers WHERE id = ?"))
            .bind(payer.id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        from_row(&row)
    }

    pub async fn remove_payer(&self, payer: &Payer, audit: &Audit) -> Result<u64, AppError> {
        let mut tx = self.write_tx().await?;
        let rates: i64 = sqlx::query("SELECT COUNT(*) AS n FROM rates WHERE payer_id = ?")
            .bind(payer.id)
            .fetch_one(&mut *tx)
            .await?
            .get("n");
        sqlx::query("DELETE FROM payers WHERE id = ? AND practice_id = ?")
            .bind(payer.id)
            .bind(payer.practice_id)
            .execute(&mut *tx)
            .await?;
        audit::record(&mut tx, audit, "payer.remove", &format!("{} with {rates} rate rows", payer.name)).await?;
        tx.commit().await?;
        Ok(rates as u64)
    }
}

async fn set_volumes(
    conn: &mut sqlx::SqliteConnection,
    payer_id: i64,
    volumes: &[(String, i64)],
) -> Result<(), AppError> {
    for (cpt, weekly) in volumes {
        sqlx::query(
            "INSERT INTO payer_codes (payer_id, practice_id, cpt, weekly_volume)
             VALUES (?1, (SELECT practice_id FROM payers WHERE id = ?1), ?2, ?3)
             ON CONFLICT (payer_id, cpt) DO UPDATE SET weekly_volume = excluded.weekly_volume",
        )
        .bind(payer_id)
        .bind(cpt)
        .bind(weekly)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
