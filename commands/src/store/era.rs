//! Remittances (835): one file per transaction; checks, claims, lines and adjustments; the reads
//! behind /underpayments, /denials and days to payment. No patient identifier reaches this
//! module: callers pass keyed hashes.

use super::{audit, Audit, Store};
use crate::domain::Cents;
use crate::era::{Check, Claim, Remittance};
use crate::error::AppError;
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{Row, SqliteConnection};

/// The keyed hashes of one claim, computed by the caller with the practice's key.
#[derive(Debug, Clone)]
pub struct ClaimKeys {
    pub claim: Vec<u8>,
    pub client: Option<Vec<u8>>,
}

/// One check of a file as the import saw it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CheckSeen {
    pub payer: String,
    pub number: String,
    pub date: NaiveDate,
    pub amount_cents: i64,
    /// Already imported before (nothing added).
    pub duplicate: bool,
}

#[derive(Debug, Clone, Default)]
pub struct FileStored {
    pub checks: Vec<CheckSeen>,
    pub duplicates: usize,
    pub claims: usize,
    pub service_lines: usize,
    pub paid_cents: i64,
    pub reversals: usize,
}

/// A claim is denied when the payer says so (CLP02 4) or pays nothing and leaves nothing to the
/// patient on a charge.
pub fn is_denied(claim: &Claim) -> bool {
    !claim.is_reversal()
        && (claim.is_denied() || (claim.paid.0 == 0 && claim.patient_responsibility.0 == 0 && claim.charge.0 > 0))
}

impl Store {
    /// Stores one file in one writing transaction: every check not already present (payer, check
    /// number, amount and date decide), with its claims, lines and adjustments. `payers[i]` is
    /// the practice's payer matched to check `i`; `keys[i][j]` the hashes of its claim `j`.
    pub async fn import_remittance(
        &self,
        file_name: &str,
        remittance: &Remittance,
        payers: &[Option<i64>],
        keys: &[Vec<ClaimKeys>],
        audit: &Audit,
    ) -> Result<FileStored, AppError> {
        let mut tx = self.write_tx().await?;
        let mut out = FileStored::default();
        let mut adjustments = Adjustments::default();
        for (i, check) in remittance.checks.iter().enumerate() {
            let payer_id = payers.get(i).copied().flatten();
            let seen = CheckSeen {
                payer: check.payer_name.clone(),
                number: check.number.clone(),
                date: check.date,
                amount_cents: check.amount.0,
                duplicate: false,
            };
            let Some(check_id) = insert_check(&mut tx, check, payer_id, file_name, audit).await? else {
                out.duplicates += 1;
                out.checks.push(CheckSeen { duplicate: true, ..seen });
                continue;
            };
            out.checks.push(seen);
            for (j, claim) in check.claims.iter().enumerate() {
                let k = keys.get(i).and_then(|k| k.get(j)).ok_or_else(|| {
                    AppError::internal("storing a remittance", std::io::Error::other("a claim without its keys"))
                })?;
                insert_claim(
                    &mut tx,
                    audit.practice_id,
                    check_id,
                    payer_id,
                    &check.payer_name,
                    claim,
                    k,
                    &mut adjustments,
                )
                .await?;
                out.claims += 1;
                out.service_lines += claim.lines.len();
                out.paid_cents += claim.paid.0;
                out.reversals += usize::from(claim.is_reversal());
            }
        }
        adjustments.flush(&mut tx).await?;
        // Payer ids of checks matched by name: the next file matches by id (the claims import's table).
        let ids: Vec<(String, i64)> = remittance
            .checks
            .iter()
            .zip(payers)
            .filter_map(|(c, p)| p.map(|p| (c.payer_id.clone(), p)))
            .filter(|(ext, _)| !ext.is_empty())
            .collect();
        super::claims::remember_payer_ids(&mut tx, audit.practice_id, &ids).await?;
        let added = out.checks.len() - out.duplicates;
        audit::record(
            &mut tx,
            audit,
            "era.import",
            &format!("{file_name}: {added} checks, {} claims, {} duplicates", out.claims, out.duplicates),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Checks stored while their payer was unknown now belong to `payer_id`.
    pub async fn link_era_payer(&self, practice_id: i64, payer_name: &str, payer_id: i64) -> Result<u64, AppError> {
        let mut tx = self.write_tx().await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE era_checks SET payer_id = ?3 WHERE practice_id = ?1 AND payer_id IS NULL
             AND payer_name = ?2 COLLATE NOCASE RETURNING id",
        )
        .bind(practice_id)
        .bind(payer_name)
        .bind(payer_id)
        .fetch_all(&mut *tx)
        .await?;
        for id in &ids {
            sqlx::query(
                "UPDATE era_lines SET payer_id = ?2 WHERE claim_id IN (SELECT id FROM era_claims WHERE check_id = ?1)",
            )
            .bind(id)
            .bind(payer_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }
}

async fn insert_check(
    conn: &mut SqliteConnection,
    check: &Check,
    payer_id: Option<i64>,
    file_name: &str,
    audit: &Audit,
) -> Result<Option<i64>, AppError> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO era_checks (practice_id, payer_id, payer_name, payer_ident, number, check_date, amount_cents,
             method, handling, plb_cents, file_name, imported_at, imported_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(audit.practice_id)
    .bind(payer_id)
    .bind(&check.payer_name)
    .bind(&check.payer_id)
    .bind(&check.number)
    .bind(check.date)
    .bind(check.amount.0)
    .bind(&check.method)
    .bind(&check.handling)
    .bind(check.plb_total().0)
    .bind(file_name)
    .bind(audit.at.to_rfc3339())
    .bind(&audit.actor)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(id) = id else { return Ok(None) };
    for p in &check.provider_adjustments {
        sqlx::query(
            "INSERT INTO era_provider_adjustments (check_id, reason, reference, amount_cents) VALUES (?, ?, ?, ?)",
        )
        .bind(id)
        .bind(&p.reason)
        .bind(&p.reference)
        .bind(p.amount.0)
        .execute(&mut *conn)
        .await?;
    }
    Ok(Some(id))
}

// The check's identity, the claim, its keys and the pending adjustments: all needed, none shared.
#[allow(clippy::too_many_arguments)]
async fn insert_claim(
    conn: &mut SqliteConnection,
    practice_id: i64,
    check_id: i64,
    payer_id: Option<i64>,
    payer_name: &str,
    claim: &Claim,
    keys: &ClaimKeys,
    adjustments: &mut Adjustments,
) -> Result<(), AppError> {
    let denied = is_denied(claim);
    let reversal = claim.is_reversal();
    if reversal {
        // Take back the claim this reverses: same payer and claim id, the one whose amounts it
        // negates if there is one, else the latest still standing.
        let original: Option<i64> = sqlx::query_scalar(
            "SELECT c.id FROM era_claims c JOIN era_checks k ON k.id = c.check_id
             WHERE c.practice_id = ?1 AND c.claim_key = ?2 AND c.reversed = 0 AND c.status <> '22'
               AND k.payer_name = ?3 COLLATE NOCASE
             ORDER BY (c.charge_cents = -?4 AND c.paid_cents = -?5) DESC, c.id DESC LIMIT 1",
        )
        .bind(practice_id)
        .bind(&keys.claim)
        .bind(payer_name)
        .bind(claim.charge.0)
        .bind(claim.paid.0)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(original) = original {
            sqlx::query("UPDATE era_claims SET reversed = 1 WHERE id = ?").bind(original).execute(&mut *conn).await?;
            sqlx::query("UPDATE era_lines SET counted = 0 WHERE claim_id = ?")
                .bind(original)
                .execute(&mut *conn)
                .await?;
        }
    }
    let service_date = claim.lines.iter().filter_map(|l| l.service_date).min().or(claim.period_start);
    let claim_id: i64 = sqlx::query_scalar(
        "INSERT INTO era_claims (check_id, practice_id, claim_key, client_hash, status, charge_cents, paid_cents,
             patient_resp_cents, payer_control, rendering_npi, service_date, denied, reversed, segment)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(check_id)
    .bind(practice_id)
    .bind(&keys.claim)
    .bind(&keys.client)
    .bind(&claim.status)
    .bind(claim.charge.0)
    .bind(claim.paid.0)
    .bind(claim.patient_responsibility.0)
    .bind(&claim.payer_control)
    .bind(&claim.rendering_provider)
    .bind(service_date)
    .bind(denied)
    .bind(reversal)
    .bind(claim.segment as i64)
    .fetch_one(&mut *conn)
    .await?;
    for a in &claim.adjustments {
        adjustments.push(&mut *conn, claim_id, None, a).await?;
    }
    let counted = !denied && !reversal;
    for line in &claim.lines {
        let line_id: i64 = sqlx::query_scalar(
            "INSERT INTO era_lines (claim_id, payer_id, counted, cpt, modifiers, units_hundredths, charge_cents,
                 paid_cents, allowed_cents, allowed_derived, patient_resp_cents, service_date, remarks, segment)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(claim_id)
        .bind(payer_id)
        .bind(counted)
        .bind(&line.procedure)
        .bind(line.modifiers.join(" "))
        .bind(line.units_hundredths)
        .bind(line.charge.0)
        .bind(line.paid.0)
        .bind(line.allowed.0)
        .bind(line.allowed_derived)
        .bind(line.patient_responsibility().0)
        .bind(line.service_date)
        .bind(line.remarks.join(" "))
        .bind(line.segment as i64)
        .fetch_one(&mut *conn)
        .await?;
        for a in &line.adjustments {
            adjustments.push(&mut *conn, claim_id, Some(line_id), a).await?;
        }
    }
    Ok(())
}

/// Adjustments (CAS) waiting to be written, many rows to a statement: they are the most
/// numerous rows of a file (two or three per line), and each statement costs far more than a
/// row (the era benchmark in BENCHMARKS.md). Nothing reads them before the file commits.
#[derive(Default)]
struct Adjustments {
    rows: Vec<(i64, Option<i64>, String, String, i64)>,
}

impl Adjustments {
    /// Rows per statement (5 parameters each, well under SQLite's limit of 32,766).
    const BATCH: usize = 200;

    async fn push(
        &mut self,
        conn: &mut SqliteConnection,
        claim_id: i64,
        line_id: Option<i64>,
        a: &crate::era::Adjustment,
    ) -> Result<(), AppError> {
        self.rows.push((claim_id, line_id, a.group.clone(), a.reason.clone(), a.amount.0));
        if self.rows.len() == Self::BATCH {
            self.flush(conn).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, conn: &mut SqliteConnection) -> Result<(), AppError> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let mut sql =
            String::from("INSERT INTO era_adjustments (claim_id, line_id, group_code, reason, amount_cents) VALUES ");
        for i in 0..self.rows.len() {
            sql.push_str(if i == 0 { "(?, ?, ?, ?, ?)" } else { ", (?, ?, ?, ?, ?)" });
        }
        let mut q = sqlx::query(&sql);
        for (claim, line, group, reason, amount) in &self.rows {
            q = q.bind(claim).bind(line).bind(group).bind(reason).bind(amount);
        }
        q.execute(&mut *conn).await?;
        self.rows.clear();
        Ok(())
    }
}

/// One counted service line of a payer, as /underpayments reads it.
#[derive(Debug, Clone)]
pub struct PaidLine {
    pub cpt: String,
    pub service_date: NaiveDate,
    pub allowed: Cents,
    pub allowed_derived: bool,
    pub check: String,
    pub check_date: NaiveDate,
}

/// Denials and adjustment reasons over a period.
#[derive(Debug, Clone, Default)]
pub struct DenialRows {
    /// (payer id, payer name as in the file, claims, denied claims, denied charge in cents).
    pub per_payer: Vec<(Option<i64>, String, i64, i64, i64)>,
    /// (group, reason code, cents, claims) of adjustments other than contractual write-downs
    /// (CO-45) and the patient's share (PR).
    pub reasons: Vec<(String, String, i64, i64)>,
    /// (remark code, cents of the lines carrying it, lines) on denied claims.
    pub remarks: Vec<(String, i64, i64)>,
}

impl Store {
    /// Counted lines of one payer's code from `from` to `to` whose allowed amount is below
    /// `below` (the highest contract rate of the code), oldest first.
    pub async fn era_lines_below(
        &self,
        payer_id: i64,
        cpt: &str,
        from: NaiveDate,
        to: NaiveDate,
        below: Cents,
    ) -> Result<Vec<PaidLine>, AppError> {
        let rows = sqlx::query(
            "SELECT l.cpt, l.service_date, l.allowed_cents, l.allowed_derived, k.number, k.check_date
             FROM era_lines l INDEXED BY era_lines_by_payer_code
             JOIN era_claims c ON c.id = l.claim_id JOIN era_checks k ON k.id = c.check_id
             WHERE l.payer_id = ?1 AND l.cpt = ?2 AND l.counted = 1 AND l.service_date BETWEEN ?3 AND ?4
               AND l.allowed_cents < ?5
             ORDER BY l.service_date, l.id",
        )
        .bind(payer_id)
        .bind(cpt)
        .bind(from)
        .bind(to)
        .bind(below.0)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| PaidLine {
                cpt: r.get(0),
                service_date: r.get(1),
                allowed: Cents(r.get(2)),
                allowed_derived: r.get(3),
                check: r.get(4),
                check_date: r.get(5),
            })
            .collect())
    }

    /// (cpt, allowed cents, service date) of every counted line of a payer in the period.
    pub async fn era_payer_lines(
        &self,
        payer_id: i64,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, Cents, NaiveDate)>, AppError> {
        let rows = sqlx::query(
            "SELECT cpt, allowed_cents, service_date FROM era_lines INDEXED BY era_lines_by_payer_code
             WHERE payer_id = ?1 AND counted = 1 AND service_date BETWEEN ?2 AND ?3",
        )
        .bind(payer_id)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| (r.get(0), Cents(r.get(1)), r.get(2))).collect())
    }

    /// Days from service to check date of every counted, paid claim of a payer (or all payers)
    /// serviced in the period.
    pub async fn era_days_to_payment(
        &self,
        practice_id: i64,
        payer_id: Option<i64>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(Option<i64>, i64)>, AppError> {
        let rows = sqlx::query(
            "SELECT k.payer_id, CAST(julianday(k.check_date) - julianday(c.service_date) AS INTEGER)
             FROM era_claims c JOIN era_checks k ON k.id = c.check_id
             WHERE c.practice_id = ?1 AND (?2 IS NULL OR k.payer_id = ?2) AND c.reversed = 0 AND c.denied = 0
               AND c.paid_cents > 0 AND c.service_date BETWEEN ?3 AND ?4",
        )
        .bind(practice_id)
        .bind(payer_id)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Claims, denials and the reasons behind adjustments, for claims serviced in the period.
    pub async fn era_denials(
        &self,
        practice_id: i64,
        payer_id: Option<i64>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<DenialRows, AppError> {
        let scope = "FROM era_claims c JOIN era_checks k ON k.id = c.check_id
             WHERE c.practice_id = ?1 AND (?2 IS NULL OR k.payer_id = ?2) AND c.reversed = 0
               AND c.service_date BETWEEN ?3 AND ?4";
        let per_payer = sqlx::query(&format!(
            "SELECT k.payer_id, MIN(k.payer_name), COUNT(*), SUM(c.denied), SUM(CASE WHEN c.denied = 1 THEN c.charge_cents ELSE 0 END)
             {scope} GROUP BY k.payer_id, CASE WHEN k.payer_id IS NULL THEN upper(k.payer_name) END ORDER BY 2"
        ))
        .bind(practice_id)
        .bind(payer_id)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
        let reasons = sqlx::query(
            "SELECT a.group_code, a.reason, SUM(a.amount_cents), COUNT(DISTINCT a.claim_id)
             FROM era_adjustments a JOIN era_claims c ON c.id = a.claim_id JOIN era_checks k ON k.id = c.check_id
             WHERE c.practice_id = ?1 AND (?2 IS NULL OR k.payer_id = ?2) AND c.reversed = 0
               AND c.service_date BETWEEN ?3 AND ?4
               AND a.group_code <> 'PR' AND NOT (a.group_code = 'CO' AND a.reason = '45')
             GROUP BY a.group_code, a.reason ORDER BY 3 DESC, 2 LIMIT 10",
        )
        .bind(practice_id)
        .bind(payer_id)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
        let lines = sqlx::query(
            "SELECT l.remarks, l.charge_cents FROM era_lines l JOIN era_claims c ON c.id = l.claim_id
             JOIN era_checks k ON k.id = c.check_id
             WHERE c.practice_id = ?1 AND (?2 IS NULL OR k.payer_id = ?2) AND c.reversed = 0 AND c.denied = 1
               AND c.service_date BETWEEN ?3 AND ?4 AND l.remarks <> ''",
        )
        .bind(practice_id)
        .bind(payer_id)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        let mut remarks: Vec<(String, i64, i64)> = vec![];
        for r in lines {
            let codes: String = r.get(0);
            let cents: i64 = r.get(1);
            for code in codes.split(' ').filter(|c| !c.is_empty()) {
                match remarks.iter_mut().find(|x| x.0 == code) {
                    Some(x) => {
                        x.1 += cents;
                        x.2 += 1;
                    }
                    None => remarks.push((code.to_string(), cents, 1)),
                }
            }
        }
        remarks.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        remarks.truncate(10);
        Ok(DenialRows { per_payer, reasons, remarks })
    }

    /// Payer names of stored checks with no practice payer yet, with their check count.
    pub async fn era_unmatched_payers(&self, practice_id: i64) -> Result<Vec<(String, i64)>, AppError> {
        let rows = sqlx::query(
            "SELECT MIN(payer_name), COUNT(*) FROM era_checks WHERE practice_id = ? AND payer_id IS NULL
             GROUP BY upper(payer_name) ORDER BY 1",
        )
        .bind(practice_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}
