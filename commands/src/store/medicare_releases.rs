//! CMS releases imported at run time, stored so every process sees them without a rebuild.

use super::Store;
use crate::error::AppError;
use chrono::{DateTime, Utc};
use sqlx::Row;

#[derive(Debug, Clone)]
pub struct StoredRelease {
    pub year: u16,
    pub rvu_csv: String,
    pub gpci_csv: String,
    pub cf_ten_thousandths: i64,
}

impl Store {
    pub async fn save_medicare_release(
        &self,
        r: &StoredRelease,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<(), AppError> {
        sqlx::query(
            "INSERT INTO medicare_releases (year, rvu_csv, gpci_csv, cf_ten_thousandths, imported_at, imported_by)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (year) DO UPDATE SET rvu_csv = excluded.rvu_csv, gpci_csv = excluded.gpci_csv,
                cf_ten_thousandths = excluded.cf_ten_thousandths, imported_at = excluded.imported_at,
                imported_by = excluded.imported_by",
        )
        .bind(i64::from(r.year))
        .bind(&r.rvu_csv)
        .bind(&r.gpci_csv)
        .bind(r.cf_ten_thousandths)
        .bind(at.to_rfc3339())
        .bind(actor)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn medicare_releases(&self) -> Result<Vec<StoredRelease>, AppError> {
        let rows =
            sqlx::query("SELECT year, rvu_csv, gpci_csv, cf_ten_thousandths FROM medicare_releases ORDER BY year")
                .fetch_all(self.pool())
                .await?;
        Ok(rows
            .into_iter()
            .map(|r| StoredRelease {
                year: r.get::<i64, _>("year") as u16,
                rvu_csv: r.get("rvu_csv"),
                gpci_csv: r.get("gpci_csv"),
                cf_ten_thousandths: r.get("cf_ten_thousandths"),
            })
            .collect())
    }
}
