//! Imported claims (de-identified), the practice's client-key secret, and payer ids seen in files.

use super::{audit, Audit, Store};
use crate::claims::metrics::{ClaimGroup, PayerClaimFacts};
use crate::error::AppError;
use crate::payer_match::{normalise_payer_id, PayerMatcher};
use crate::privacy::{ClientKeySecret, KEY_LEN, SECRET_LEN};
use chrono::{NaiveDate, Utc};
use sqlx::{Row, Sqlite, SqliteConnection, Transaction};

/// One de-identified claim, ready to write. Nothing here names a client.
#[derive(Debug, Clone)]
pub struct NewClaim {
    pub payer_id: i64,
    pub service_date: NaiveDate,
    pub natural_key: [u8; KEY_LEN],
    pub cpt: String,
    pub modifiers: String,
    pub units: i64,
    pub client_key: [u8; KEY_LEN],
    pub clinician_key: Option<[u8; KEY_LEN]>,
    pub credential: Option<String>,
    pub place_of_service: Option<String>,
    pub billed: Option<i64>,
    pub allowed: Option<i64>,
    pub paid: Option<i64>,
    pub paid_date: Option<NaiveDate>,
    pub days_to_payment: Option<i64>,
    pub outcome: &'static str,
    pub resubmitted: bool,
}

/// What the import read, recorded with it when it commits.
#[derive(Debug, Clone)]
pub struct ImportRecord {
    pub rows: u64,
    pub skipped: u64,
    /// Claim rows for the practice's payers (added or already present).
    pub claims_read: u64,
    pub first_service: Option<NaiveDate>,
    pub last_service: Option<NaiveDate>,
    pub marks_attendance: bool,
    /// Payer ids seen on rows matched by name: remembered for the next file.
    pub payer_ids: Vec<(String, i64)>,
    /// Rows the writes changed (inserted or moved forward).
    pub changes: u64,
}

#[derive(Debug, Clone, Copy)]
pub struct ImportDone {
    pub import_id: i64,
    pub added: u64,
    pub updated: u64,
}

/// An import in progress: one writing transaction from the first row to the last. Dropping it
/// without `finish` rolls everything back.
pub struct ClaimWriter {
    tx: Transaction<'static, Sqlite>,
    audit: Audit,
    import_id: i64,
    before: i64,
    source: String,
    /// The connection's page cache before the import enlarged it.
    cache_pages: i64,
}

/// The page cache an import works with (KiB; SQLite's default is 2 MiB). A claim's rows go to
/// pages all over the table (clustered by date of service, the export ordered otherwise) and its
/// natural-key index; with the default cache every row past the first few MB rewrote pages read
/// back from the WAL, and an import of 1M rows took 10x the sqlite3 shell's `.import` (see
/// BENCHMARKS.md). 64 MiB keeps the hot pages in memory and bounds the import's memory.
const IMPORT_CACHE_KIB: i64 = 64 * 1024;

async fn set_cache(conn: &mut SqliteConnection, pages_or_kib: i64) -> Result<(), AppError> {
    sqlx::query(&format!("PRAGMA cache_size = {pages_or_kib}")).execute(conn).await?;
    Ok(())
}

const CLAIM_COLUMNS: usize = 19;

/// A later export may move a claim forward (its payment arrived, or a denial was overturned on
/// resubmission), never back: re-reading an older export changes nothing.
const UPSERT: &str = " ON CONFLICT (practice_id, natural_key) DO UPDATE SET
    payer_id = excluded.payer_id, billed_cents = excluded.billed_cents, allowed_cents = excluded.allowed_cents,
    paid_cents = excluded.paid_cents, paid_date = excluded.paid_date, days_to_payment = excluded.days_to_payment,
    resubmitted = MAX(claims.resubmitted, excluded.resubmitted, claims.outcome = 'denied'),
    outcome = excluded.outcome, import_id = excluded.import_id
  WHERE (claims.outcome = 'pending' AND excluded.outcome NOT IN ('pending', 'no-show', 'late-cancel'))
     OR (claims.outcome = 'denied' AND excluded.outcome = 'paid')";

fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO claims (practice_id, payer_id, service_date, natural_key, cpt, modifiers, units, client_key,
             clinician_key, credential, place_of_service, billed_cents, allowed_cents, paid_cents, paid_date,
             days_to_payment, outcome, resubmitted, import_id) VALUES ",
    );
    let one = format!("({})", vec!["?"; CLAIM_COLUMNS].join(","));
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str(&one);
    }
    sql.push_str(UPSERT);
    sql
}

impl ClaimWriter {
    /// Writes a batch; returns the rows it inserted or moved forward.
    pub async fn write(&mut self, claims: &[NewClaim]) -> Result<u64, AppError> {
        if claims.is_empty() {
            return Ok(0);
        }
        let sql = insert_sql(claims.len());
        let mut q = sqlx::query(&sql);
        for c in claims {
            q = q
                .bind(self.audit.practice_id)
                .bind(c.payer_id)
                .bind(c.service_date)
                .bind(&c.natural_key[..])
                .bind(&c.cpt)
                .bind(&c.modifiers)
                .bind(c.units)
                .bind(&c.client_key[..])
                .bind(c.clinician_key.as_ref().map(|k| &k[..]))
                .bind(&c.credential)
                .bind(&c.place_of_service)
                .bind(c.billed)
                .bind(c.allowed)
                .bind(c.paid)
                .bind(c.paid_date)
                .bind(c.days_to_payment)
                .bind(c.outcome)
                .bind(c.resubmitted)
                .bind(self.import_id);
        }
        let done = q.execute(&mut *self.tx).await.map_err(|e| AppError::internal("writing imported claims", e))?;
        Ok(done.rows_affected())
    }

    /// Nothing of this import is kept.
    pub async fn abandon(mut self) -> Result<(), AppError> {
        set_cache(&mut self.tx, self.cache_pages).await?;
        self.tx.rollback().await?;
        Ok(())
    }

    /// Records the import, remembers payer ids, audits, commits.
    pub async fn finish(mut self, r: ImportRecord) -> Result<ImportDone, AppError> {
        let after = count_claims(&mut self.tx, self.audit.practice_id).await?;
        let added = (after - self.before).max(0) as u64;
        let updated = r.changes.saturating_sub(added);
        sqlx::query(
            "UPDATE claim_imports SET rows_read = ?, added = ?, duplicates = ?, skipped = ?, first_service = ?,
                 last_service = ?, marks_attendance = ? WHERE id = ?",
        )
        .bind(r.rows as i64)
        .bind(added as i64)
        .bind(r.claims_read.saturating_sub(added) as i64)
        .bind(r.skipped as i64)
        .bind(r.first_service)
        .bind(r.last_service)
        .bind(r.marks_attendance)
        .bind(self.import_id)
        .execute(&mut *self.tx)
        .await?;
        remember_payer_ids(&mut self.tx, self.audit.practice_id, &r.payer_ids).await?;
        audit::record(
            &mut self.tx,
            &self.audit,
            "claims.import",
            &format!(
                "{}: {} rows, {added} claims added, {updated} updated, {} skipped",
                self.source, r.rows, r.skipped
            ),
        )
        .await?;
        // Back to the pool with its usual cache: the pages above it are freed as the commit
        // makes them clean.
        set_cache(&mut self.tx, self.cache_pages).await?;
        self.tx.commit().await?;
        Ok(ImportDone { import_id: self.import_id, added, updated })
    }
}

async fn count_claims(conn: &mut SqliteConnection, practice_id: i64) -> Result<i64, AppError> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM claims INDEXED BY claims_natural_key WHERE practice_id = ?")
        .bind(practice_id)
        .fetch_one(conn)
        .await?
        .get("n"))
}

impl Store {
    /// Starts an import: takes the write lock at once (BEGIN IMMEDIATE) so nothing else writes
    /// between its first row and its commit.
    pub async fn begin_claim_import(&self, audit: &Audit, source: &str) -> Result<ClaimWriter, AppError> {
        let mut tx = self.write_tx().await?;
        let import_id: i64 = sqlx::query(
            "INSERT INTO claim_imports (practice_id, imported_at, imported_by, source, rows_read, added, duplicates, skipped)
             VALUES (?, ?, ?, ?, 0, 0, 0, 0) RETURNING id",
        )
        .bind(audit.practice_id)
        .bind(audit.at.to_rfc3339())
        .bind(&audit.actor)
        .bind(source)
        .fetch_one(&mut *tx)
        .await?
        .get("id");
        let before = count_claims(&mut tx, audit.practice_id).await?;
        let cache_pages: i64 = sqlx::query("PRAGMA cache_size").fetch_one(&mut *tx).await?.get(0);
        set_cache(&mut tx, -IMPORT_CACHE_KIB).await?;
        Ok(ClaimWriter { tx, audit: audit.clone(), import_id, before, source: source.to_string(), cache_pages })
    }

    /// The practice's client-key secret, created from the OS CSPRNG the first time it is needed.
    /// Two processes asking at once get the same secret: the first insert wins.
    pub async fn client_key_secret(&self, practice_id: i64) -> Result<ClientKeySecret, AppError> {
        if let Some(secret) = read_secret(self.pool().acquire().await?.as_mut(), practice_id).await? {
            return Ok(secret);
        }
        let fresh = ClientKeySecret::generate().map_err(|e| {
            AppError::internal("generating the client-key secret", std::io::Error::other(e.to_string()))
        })?;
        sqlx::query("INSERT OR IGNORE INTO client_key_secrets (practice_id, secret, created_at) VALUES (?, ?, ?)")
            .bind(practice_id)
            .bind(fresh.as_bytes().as_slice())
            .bind(Utc::now().to_rfc3339())
            .execute(self.pool())
            .await?;
        read_secret(self.pool().acquire().await?.as_mut(), practice_id).await?.ok_or_else(|| {
            AppError::internal("storing the client-key secret", std::io::Error::other("row missing after insert"))
        })
    }

    /// One payer's claims with a date of service in `[start, end]`, grouped for the report: three
    /// reads of one contiguous range of the clustered claims table.
    pub async fn payer_claim_facts(
        &self,
        practice_id: i64,
        payer_id: i64,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<PayerClaimFacts, AppError> {
        let mut conn = self.pool().acquire().await?;
        let groups = sqlx::query(
            "SELECT cpt, service_date, outcome, resubmitted, units, COALESCE(allowed_cents, paid_cents) AS basis,
                    COUNT(*) AS n, COALESCE(SUM(paid_cents), 0) AS paid
             FROM claims
             WHERE practice_id = ? AND payer_id = ? AND service_date BETWEEN ? AND ?
             GROUP BY cpt, service_date, outcome, resubmitted, units, basis",
        )
        .bind(practice_id)
        .bind(payer_id)
        .bind(start)
        .bind(end)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| ClaimGroup {
            cpt: r.get("cpt"),
            service_date: r.get("service_date"),
            outcome: r.get("outcome"),
            resubmitted: r.get::<i64, _>("resubmitted") != 0,
            units: r.get("units"),
            basis_cents: r.get("basis"),
            claims: r.get("n"),
            paid_cents: r.get("paid"),
        })
        .collect();
        let unique_clients: i64 = sqlx::query(
            "SELECT COUNT(DISTINCT client_key) AS n FROM claims
             WHERE practice_id = ? AND payer_id = ? AND service_date BETWEEN ? AND ? AND cpt <> ''",
        )
        .bind(practice_id)
        .bind(payer_id)
        .bind(start)
        .bind(end)
        .fetch_one(&mut *conn)
        .await?
        .get("n");
        let days_to_payment = sqlx::query(
            "SELECT days_to_payment AS d, COUNT(*) AS n FROM claims
             WHERE practice_id = ? AND payer_id = ? AND service_date BETWEEN ? AND ?
               AND outcome = 'paid' AND days_to_payment IS NOT NULL
             GROUP BY days_to_payment",
        )
        .bind(practice_id)
        .bind(payer_id)
        .bind(start)
        .bind(end)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|r| (r.get("d"), r.get("n")))
        .collect();
        let attendance_marked: bool = sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM claim_imports WHERE practice_id = ? AND marks_attendance = 1
                               AND first_service <= ? AND last_service >= ?) AS marked",
        )
        .bind(practice_id)
        .bind(end)
        .bind(start)
        .fetch_one(&mut *conn)
        .await?
        .get("marked");
        Ok(PayerClaimFacts { groups, unique_clients, days_to_payment, attendance_marked })
    }

    /// The dates of service imported claims cover for the practice, if any import overlaps
    /// `[start, end]`: (first, last) over those imports.
    pub async fn claims_coverage(
        &self,
        practice_id: i64,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Result<Option<(NaiveDate, NaiveDate)>, AppError> {
        let row = sqlx::query(
            "SELECT MIN(first_service) AS first, MAX(last_service) AS last FROM claim_imports
             WHERE practice_id = ? AND added + duplicates > 0 AND first_service <= ? AND last_service >= ?",
        )
        .bind(practice_id)
        .bind(end)
        .bind(start)
        .fetch_one(self.pool())
        .await?;
        let first: Option<NaiveDate> = row.get("first");
        let last: Option<NaiveDate> = row.get("last");
        Ok(first.zip(last))
    }

    /// The practice's payers and the payer ids earlier imports tied to them, ready to match.
    pub async fn payer_matcher(&self, practice_id: i64) -> Result<PayerMatcher, AppError> {
        let payers: Vec<(i64, String)> = sqlx::query("SELECT id, name FROM payers WHERE practice_id = ? ORDER BY id")
            .bind(practice_id)
            .fetch_all(self.pool())
            .await?
            .into_iter()
            .map(|r| (r.get("id"), r.get("name")))
            .collect();
        let ids: Vec<(String, i64)> =
            sqlx::query("SELECT external_id, payer_id FROM payer_external_ids WHERE practice_id = ?")
                .bind(practice_id)
                .fetch_all(self.pool())
                .await?
                .into_iter()
                .map(|r| (r.get("external_id"), r.get("payer_id")))
                .collect();
        Ok(PayerMatcher::new(&payers, &ids))
    }
}

async fn read_secret(conn: &mut SqliteConnection, practice_id: i64) -> Result<Option<ClientKeySecret>, AppError> {
    let row = sqlx::query("SELECT secret FROM client_key_secrets WHERE practice_id = ?")
        .bind(practice_id)
        .fetch_optional(conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let bytes: Vec<u8> = row.get("secret");
    let bytes: [u8; SECRET_LEN] = bytes.try_into().map_err(|_| {
        AppError::internal("reading the client-key secret", std::io::Error::other("secret has the wrong length"))
    })?;
    Ok(Some(ClientKeySecret::from_bytes(bytes)))
}

/// Ties payer ids seen in a file to the payers their rows matched by name, inside the import's
/// transaction, so the next file matches by id. An id already tied to a payer keeps its payer.
pub(crate) async fn remember_payer_ids(
    conn: &mut SqliteConnection,
    practice_id: i64,
    ids: &[(String, i64)],
) -> Result<(), AppError> {
    for (external, payer_id) in ids {
        let external = normalise_payer_id(external);
        if external.is_empty() {
            continue;
        }
        sqlx::query("INSERT OR IGNORE INTO payer_external_ids (practice_id, external_id, payer_id) VALUES (?, ?, ?)")
            .bind(practice_id)
            .bind(external)
            .bind(payer_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::invocation::{Platform, Tenant};
    use crate::store::Store;

    #[tokio::test]
    async fn the_secret_is_made_once_per_practice() {
        let store = Store::open_in_memory().await.unwrap();
        let now = chrono::Utc::now();
        let a = store
            .ensure_practice(&Tenant { platform: Platform::Console, external_id: "a".into() }, "a", now)
            .await
            .unwrap();
        let b = store
            .ensure_practice(&Tenant { platform: Platform::Console, external_id: "b".into() }, "b", now)
            .await
            .unwrap();
        let first = store.client_key_secret(a.id).await.unwrap();
        let again = store.client_key_secret(a.id).await.unwrap();
        let other = store.client_key_secret(b.id).await.unwrap();
        assert_eq!(first.client_key("Jane Smith"), again.client_key("Jane Smith"));
        assert_ne!(first.client_key("Jane Smith"), other.client_key("Jane Smith"));
    }
}
