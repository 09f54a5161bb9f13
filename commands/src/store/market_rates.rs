//! Market rates imported from Transparency-in-Coverage files, and the NPPES behavioral table.
//! Each import is one `BEGIN IMMEDIATE` transaction: all of it is stored, or nothing.

use super::Store;
use crate::error::AppError;
use crate::tic::nppes::{BhNpis, Bucket, Clinician, NppesStats};
use crate::tic::Cell;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;

/// Where stored cells came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MarketSource {
    pub import_id: i64,
    pub payer: String,
    pub source: String,
    pub last_updated_on: Option<String>,
    pub imported_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCell {
    pub import_id: i64,
    pub cell: Cell,
}

/// What one import stores.
pub struct NewMarketImport<'a> {
    pub payer: &'a str,
    pub state: Option<&'a str>,
    pub source: &'a str,
    pub last_updated_on: Option<&'a str>,
    pub imported_on: NaiveDate,
    pub summary_json: &'a str,
    pub cells: &'a [Cell],
}

fn bucket_text(b: Bucket) -> &'static str {
    b.key()
}

/// An NPPES load in progress (see [`Store::begin_market_npis`]).
pub struct NpiLoad {
    tx: sqlx::Transaction<'static, sqlx::Sqlite>,
    clinicians: u64,
}

impl NpiLoad {
    /// Adds a batch of clinicians.
    pub async fn insert(&mut self, rows: &[Clinician]) -> Result<(), AppError> {
        // 400 rows (2,000 parameters) per statement: far fewer round trips than one per row.
        for chunk in rows.chunks(400) {
            let mut sql =
                String::from("INSERT OR REPLACE INTO market_npis (npi, bucket, taxonomy, state, zip) VALUES ");
            for i in 0..chunk.len() {
                sql.push_str(if i == 0 { "(?, ?, ?, ?, ?)" } else { ", (?, ?, ?, ?, ?)" });
            }
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q.bind(c.npi as i64).bind(bucket_text(c.bucket)).bind(&c.taxonomy).bind(&c.state).bind(&c.zip);
            }
            q.execute(&mut *self.tx).await?;
        }
        self.clinicians += rows.len() as u64;
        Ok(())
    }

    /// Records the load and commits it.
    pub async fn commit(mut self, source: &str, stats: &NppesStats, at: DateTime<Utc>) -> Result<(), AppError> {
        sqlx::query("INSERT INTO market_nppes_loads (source, rows_seen, clinicians, loaded_at) VALUES (?, ?, ?, ?)")
            .bind(source)
            .bind(stats.rows as i64)
            .bind(self.clinicians as i64)
            .bind(at.to_rfc3339())
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Starts replacing the behavioral NPI table with a new NPPES pass: one transaction, filled
    /// batch by batch as the file streams, committed by [`NpiLoad::commit`] (dropped, it stores
    /// nothing). It holds the write lock until then.
    pub async fn begin_market_npis(&self) -> Result<NpiLoad, AppError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("DELETE FROM market_npis").execute(&mut *tx).await?;
        Ok(NpiLoad { tx, clinicians: 0 })
    }

    /// The behavioral NPI table, read in pages so a national table never sits in memory twice.
    pub async fn market_npis(&self) -> Result<BhNpis, AppError> {
        let mut all = Vec::new();
        let mut after = 0i64;
        loop {
            let rows = sqlx::query("SELECT npi, state, bucket FROM market_npis WHERE npi > ? ORDER BY npi LIMIT 50000")
                .bind(after)
                .fetch_all(self.pool())
                .await?;
            let Some(last) = rows.last() else { break };
            after = last.get::<i64, _>("npi");
            for r in &rows {
                let bucket = Bucket::from_key(&r.get::<String, _>("bucket")).unwrap_or(Bucket::Other);
                all.push((r.get::<i64, _>("npi") as u64, r.get::<String, _>("state"), bucket));
            }
        }
        Ok(BhNpis::from_rows(all))
    }

    /// Stores an import's cells, replacing the payer's cells in the states the import covers.
    pub async fn save_market_import(&self, m: &NewMarketImport<'_>) -> Result<i64, AppError> {
        let mut tx = self.write_tx().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO market_imports (payer, state, source, last_updated_on, imported_on, summary)
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(m.payer)
        .bind(m.state)
        .bind(m.source)
        .bind(m.last_updated_on)
        .bind(m.imported_on.to_string())
        .bind(m.summary_json)
        .fetch_one(&mut *tx)
        .await?;
        let mut states: Vec<&str> = m.cells.iter().map(|c| c.state.as_str()).collect();
        if let Some(s) = m.state {
            states.push(s);
        }
        states.sort_unstable();
        states.dedup();
        for s in states {
            sqlx::query("DELETE FROM market_cells WHERE payer = ? AND state = ?")
                .bind(m.payer)
                .bind(s)
                .execute(&mut *tx)
                .await?;
        }
        for c in m.cells {
            sqlx::query(
                "INSERT INTO market_cells (import_id, payer, state, cpt, modifier, pos, setting, credential, platform,
                    n_clinicians, n_contracts, clin_p10, clin_p25, clin_p50, clin_p75, clin_p90,
                    contract_p10, contract_p25, contract_p50, contract_p75, contract_p90)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(m.payer)
            .bind(&c.state)
            .bind(&c.cpt)
            .bind(&c.modifier)
            .bind(&c.pos)
            .bind(&c.setting)
            .bind(&c.credential)
            .bind(c.platform as i64)
            .bind(i64::from(c.n_clinicians))
            .bind(i64::from(c.n_contracts))
            .bind(c.clinician_cents[0])
            .bind(c.clinician_cents[1])
            .bind(c.clinician_cents[2])
            .bind(c.clinician_cents[3])
            .bind(c.clinician_cents[4])
            .bind(c.contract_cents[0])
            .bind(c.contract_cents[1])
            .bind(c.contract_cents[2])
            .bind(c.contract_cents[3])
            .bind(c.contract_cents[4])
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// A payer's stored cells for a state, with where they came from.
    pub async fn market_cells(
        &self,
        payer: &str,
        state: &str,
    ) -> Result<(Vec<MarketSource>, Vec<StoredCell>), AppError> {
        let rows = sqlx::query(
            "SELECT c.*, i.payer AS import_payer, i.source, i.last_updated_on, i.imported_on
             FROM market_cells c JOIN market_imports i ON i.id = c.import_id
             WHERE c.payer = ? AND c.state = ?
             ORDER BY c.cpt, c.platform, c.credential, c.modifier, c.pos, c.setting",
        )
        .bind(payer.trim())
        .bind(state.trim().to_ascii_uppercase())
        .fetch_all(self.pool())
        .await?;
        let mut sources: Vec<MarketSource> = Vec::new();
        let mut cells = Vec::new();
        for r in rows {
            let import_id: i64 = r.get("import_id");
            if !sources.iter().any(|s| s.import_id == import_id) {
                let on: String = r.get("imported_on");
                sources.push(MarketSource {
                    import_id,
                    payer: r.get("import_payer"),
                    source: r.get("source"),
                    last_updated_on: r.get("last_updated_on"),
                    imported_on: super::parse_col(&on, "market_imports.imported_on")?,
                });
            }
            let five = |prefix: &str| -> [i64; 5] {
                ["p10", "p25", "p50", "p75", "p90"].map(|p| r.get::<i64, _>(format!("{prefix}_{p}").as_str()))
            };
            cells.push(StoredCell {
                import_id,
                cell: Cell {
                    state: r.get("state"),
                    cpt: r.get("cpt"),
                    modifier: r.get("modifier"),
                    pos: r.get("pos"),
                    setting: r.get("setting"),
                    credential: r.get("credential"),
                    platform: r.get::<i64, _>("platform") != 0,
                    n_clinicians: r.get::<i64, _>("n_clinicians") as u32,
                    n_contracts: r.get::<i64, _>("n_contracts") as u32,
                    clinician_cents: five("clin"),
                    contract_cents: five("contract"),
                },
            });
        }
        Ok((sources, cells))
    }

    /// Payers with stored market cells, and the states they cover.
    pub async fn market_payers(&self) -> Result<Vec<(String, String)>, AppError> {
        let rows = sqlx::query("SELECT DISTINCT payer, state FROM market_cells ORDER BY payer, state")
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(|r| (r.get("payer"), r.get("state"))).collect())
    }

    pub async fn market_npi_count(&self) -> Result<i64, AppError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM market_npis").fetch_one(self.pool()).await?)
    }
}
