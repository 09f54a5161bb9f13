//! Contracted rates with their history. The current rate of a code is the latest in effect.

use super::{audit, Audit, Store};
use crate::domain::Cents;
use crate::error::AppError;
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{Row, SqliteConnection};

#[derive(Debug, Clone, Serialize)]
pub struct RateRow {
    pub cpt: String,
    pub amount: Cents,
    pub effective_date: NaiveDate,
    pub recorded_at: String,
    pub recorded_by: String,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct CurrentRate {
    pub amount: Cents,
    pub effective_date: NaiveDate,
    /// The amount has been the same since this date.
    pub since: NaiveDate,
}

/// One code a payer is billed for: its volume and the rate in effect today, if any.
#[derive(Debug, Clone, Serialize)]
pub struct CodeRate {
    pub payer_id: i64,
    pub cpt: String,
    pub weekly_volume: i64,
    pub current: Option<CurrentRate>,
}

impl Store {
    pub async fn set_rate(
        &self,
        payer_id: i64,
        cpt: &str,
        amount: Cents,
        effective: NaiveDate,
        source: Option<&str>,
        audit: &Audit,
        payer_name: &str,
    ) -> Result<(), AppError> {
        let mut tx = self.pool().begin().await?;
        insert_rate(&mut tx, payer_id, cpt, amount, effective, source, audit).await?;
        audit::record(&mut tx, audit, "rate.set", &format!("{payer_name} {cpt} {amount} effective {effective}"))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Several rates at once (an import, an accepted offer): all or nothing.
    pub async fn set_rates(
        &self,
        payer_id: i64,
        rates: &[(String, Cents)],
        effective: NaiveDate,
        source: &str,
        audit: &Audit,
        payer_name: &str,
    ) -> Result<(), AppError> {
        let mut tx = self.pool().begin().await?;
        for (cpt, amount) in rates {
            insert_rate(&mut tx, payer_id, cpt, *amount, effective, Some(source), audit).await?;
        }
        let list = rates.iter().map(|(c, a)| format!("{c} {a}")).collect::<Vec<_>>().join(", ");
        audit::record(&mut tx, audit, "rate.set", &format!("{payer_name}: {list} effective {effective} ({source})"))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn rate_history(&self, payer_id: i64, cpt: Option<&str>) -> Result<Vec<RateRow>, AppError> {
        let rows = sqlx::query(
            "SELECT cpt, amount_cents, effective_date, recorded_at, recorded_by FROM rates
             WHERE payer_id = ?1 AND (?2 IS NULL OR cpt = ?2)
             ORDER BY cpt, effective_date DESC, id DESC",
        )
        .bind(payer_id)
        .bind(cpt)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| RateRow {
                cpt: r.get("cpt"),
                amount: Cents(r.get("amount_cents")),
                effective_date: r.get("effective_date"),
                recorded_at: r.get("recorded_at"),
                recorded_by: r.get("recorded_by"),
            })
            .collect())
    }

    /// Every (payer, code) of the practice with the rate in effect on `today`.
    /// One indexed read of the per-code summaries; the history is read only for a code whose
    /// latest rate starts in the future.
    pub async fn practice_code_rates(&self, practice_id: i64, today: NaiveDate) -> Result<Vec<CodeRate>, AppError> {
        let rows = sqlx::query(
            "SELECT pc.payer_id, pc.cpt, pc.weekly_volume, pc.latest_cents, pc.latest_effective, pc.latest_since
             FROM payers p JOIN payer_codes pc ON pc.payer_id = p.id
             WHERE p.practice_id = ?
             ORDER BY pc.payer_id, pc.cpt",
        )
        .bind(practice_id)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let payer_id: i64 = r.get("payer_id");
            let cpt: String = r.get("cpt");
            let latest_effective: Option<NaiveDate> = r.get("latest_effective");
            let current = match latest_effective {
                None => None,
                Some(eff) if eff <= today => Some(CurrentRate {
                    amount: Cents(r.get("latest_cents")),
                    effective_date: eff,
                    since: r.get::<Option<NaiveDate>, _>("latest_since").unwrap_or(eff),
                }),
                Some(_) => {
                    let history = self.rate_history(payer_id, Some(&cpt)).await?;
                    current_from_history(&history, today)
                }
            };
            out.push(CodeRate { payer_id, cpt, weekly_volume: r.get("weekly_volume"), current });
        }
        Ok(out)
    }
}

/// The rate in effect on `today` from a history sorted newest first, with the start of its run
/// of equal amounts.
pub fn current_from_history(history: &[RateRow], today: NaiveDate) -> Option<CurrentRate> {
    let mut in_effect = history.iter().skip_while(|r| r.effective_date > today);
    let first = in_effect.next()?;
    let mut since = first.effective_date;
    for r in in_effect {
        if r.amount != first.amount {
            break;
        }
        since = r.effective_date;
    }
    Some(CurrentRate { amount: first.amount, effective_date: first.effective_date, since })
}

async fn insert_rate(
    conn: &mut SqliteConnection,
    payer_id: i64,
    cpt: &str,
    amount: Cents,
    effective: NaiveDate,
    source: Option<&str>,
    audit: &Audit,
) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO rates (payer_id, cpt, amount_cents, effective_date, recorded_at, recorded_by, source)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(payer_id)
    .bind(cpt)
    .bind(amount.0)
    .bind(effective)
    .bind(audit.at.to_rfc3339())
    .bind(&audit.actor)
    .bind(source)
    .execute(&mut *conn)
    .await?;
    refresh_summary(conn, payer_id, cpt).await
}

/// Recomputes the latest-rate summary of one (payer, code) from its history.
async fn refresh_summary(conn: &mut SqliteConnection, payer_id: i64, cpt: &str) -> Result<(), AppError> {
    let rows = sqlx::query(
        "SELECT amount_cents, effective_date FROM rates WHERE payer_id = ? AND cpt = ?
         ORDER BY effective_date DESC, id DESC",
    )
    .bind(payer_id)
    .bind(cpt)
    .fetch_all(&mut *conn)
    .await?;
    let mut latest: Option<(i64, NaiveDate)> = None;
    let mut since = None;
    for r in &rows {
        let amount: i64 = r.get("amount_cents");
        let eff: NaiveDate = r.get("effective_date");
        match latest {
            None => {
                latest = Some((amount, eff));
                since = Some(eff);
            }
            Some((a, _)) if a == amount => since = Some(eff),
            Some(_) => break,
        }
    }
    sqlx::query(
        "INSERT INTO payer_codes (payer_id, cpt, latest_cents, latest_effective, latest_since) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (payer_id, cpt) DO UPDATE SET latest_cents = excluded.latest_cents,
             latest_effective = excluded.latest_effective, latest_since = excluded.latest_since",
    )
    .bind(payer_id)
    .bind(cpt)
    .bind(latest.map(|l| l.0))
    .bind(latest.map(|l| l.1))
    .bind(since)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cpt: &str, cents: i64, eff: &str) -> RateRow {
        RateRow {
            cpt: cpt.into(),
            amount: Cents(cents),
            effective_date: eff.parse().unwrap(),
            recorded_at: String::new(),
            recorded_by: String::new(),
        }
    }

    #[test]
    fn current_rate_skips_future_rows_and_finds_the_run_start() {
        let h = vec![
            row("90837", 13000, "2027-01-01"),
            row("90837", 11850, "2026-01-01"),
            row("90837", 11850, "2024-01-01"),
            row("90837", 11000, "2022-01-01"),
        ];
        let c = current_from_history(&h, "2026-11-27".parse().unwrap()).unwrap();
        assert_eq!(c.amount, Cents(11850));
        assert_eq!(c.effective_date.to_string(), "2026-01-01");
        assert_eq!(c.since.to_string(), "2024-01-01");
        assert!(current_from_history(&h, "2021-01-01".parse().unwrap()).is_none());
    }
}
