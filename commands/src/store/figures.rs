//! Reads behind the practice figures computed from imports (see `crate::figures`): the volume
//! per code the claims show, and what a payer's remittances cover.

use super::Store;
use crate::error::AppError;
use chrono::NaiveDate;
use sqlx::Row;

/// One payer's remittances over a period: the dates of service they cover and their claims
/// (reversed claims and the claims they took back left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemittanceCoverage {
    pub first_service: NaiveDate,
    pub last_service: NaiveDate,
    pub claims: i64,
    pub denied: i64,
    pub unique_clients: i64,
}

impl Store {
    /// Sessions (units) per (payer, code) with a date of service in `[start, end]`, of one payer
    /// or of all the practice's payers. No-shows and late cancellations carry no code.
    pub async fn claim_sessions_per_code(
        &self,
        practice_id: i64,
        payer_id: Option<i64>,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<(i64, String, i64)>, AppError> {
        // Two statements, so the one-payer read stays one range of the clustered table.
        let sql = match payer_id {
            Some(_) => {
                "SELECT payer_id, cpt, SUM(units) AS sessions FROM claims
                 WHERE practice_id = ?1 AND payer_id = ?4 AND service_date BETWEEN ?2 AND ?3 AND cpt <> ''
                 GROUP BY payer_id, cpt ORDER BY payer_id, cpt"
            }
            None => {
                "SELECT payer_id, cpt, SUM(units) AS sessions FROM claims
                 WHERE practice_id = ?1 AND service_date BETWEEN ?2 AND ?3 AND cpt <> ''
                 GROUP BY payer_id, cpt ORDER BY payer_id, cpt"
            }
        };
        let mut q = sqlx::query(sql).bind(practice_id).bind(start).bind(end);
        if let Some(p) = payer_id {
            q = q.bind(p);
        }
        Ok(q.fetch_all(self.pool())
            .await?
            .into_iter()
            .map(|r| (r.get("payer_id"), r.get("cpt"), r.get("sessions")))
            .collect())
    }

    /// What one payer's stored remittances cover in `[start, end]` (dates of service), if any.
    pub async fn remittance_coverage(
        &self,
        practice_id: i64,
        payer_id: i64,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Option<RemittanceCoverage>, AppError> {
        let r = sqlx::query(
            "SELECT MIN(c.service_date) AS first, MAX(c.service_date) AS last, COUNT(*) AS claims,
                    COALESCE(SUM(c.denied), 0) AS denied, COUNT(DISTINCT c.client_hash) AS clients
             FROM era_claims c JOIN era_checks k ON k.id = c.check_id
             WHERE c.practice_id = ?1 AND k.payer_id = ?2 AND c.reversed = 0 AND c.service_date BETWEEN ?3 AND ?4",
        )
        .bind(practice_id)
        .bind(payer_id)
        .bind(start)
        .bind(end)
        .fetch_one(self.pool())
        .await?;
        let first: Option<NaiveDate> = r.get("first");
        let last: Option<NaiveDate> = r.get("last");
        Ok(first.zip(last).map(|(first_service, last_service)| RemittanceCoverage {
            first_service,
            last_service,
            claims: r.get("claims"),
            denied: r.get("denied"),
            unique_clients: r.get("clients"),
        }))
    }

    /// The amount billed most often for one session of each code with a date of service in
    /// `[start, end]`, over all the practice's payers: the practice's own fee as its claims show
    /// it. Ties go to the higher amount. Lines of several units are left out (their charge is for
    /// all of them).
    pub async fn usual_billed_per_code(
        &self,
        practice_id: i64,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Vec<(String, i64)>, AppError> {
        let rows = sqlx::query(
            "SELECT cpt, billed_cents, COUNT(*) AS n FROM claims
             WHERE practice_id = ? AND service_date BETWEEN ? AND ? AND cpt <> '' AND units = 1 AND billed_cents > 0
             GROUP BY cpt, billed_cents ORDER BY cpt, n DESC, billed_cents DESC",
        )
        .bind(practice_id)
        .bind(start)
        .bind(end)
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<(String, i64)> = Vec::new();
        for r in rows {
            let cpt: String = r.get("cpt");
            if out.last().is_none_or(|(c, _)| *c != cpt) {
                out.push((cpt, r.get("billed_cents")));
            }
        }
        Ok(out)
    }
}
