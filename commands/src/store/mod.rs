//! The only place with SQL. One module per table family; every query is scoped by practice id.

pub mod audit;
pub mod case_file;
pub mod claims;
pub mod era;
pub mod figures;
pub mod market_rates;
pub mod medicare_releases;
pub mod negotiations;
pub mod payers;
pub mod practice_cache;
pub mod practices;
pub mod rates;
pub mod reminders;

use crate::error::AppError;
use practice_cache::PracticeCache;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, SqlitePool};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use audit::{Audit, AuditEntry};
pub use payers::{NewPayer, Payer, PayerChanges};
pub use practices::{Practice, PracticeChanges};
pub use rates::{CodeRate, CurrentRate, PendingRate, RateRow};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Practices by tenant (file databases only; see `practice_cache`).
    practices: Option<Arc<PracticeCache>>,
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store, AppError> {
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(Self::file_options(path))
            .await
            .map_err(|e| AppError::internal(format!("opening database {}", path.display()), e))?;
        Self::migrated(pool).await
    }

    fn file_options(path: &Path) -> SqliteConnectOptions {
        SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
    }

    /// Keeps practices in memory (see `practice_cache`), for a long-running process such as
    /// `raterise serve`: another process's change is seen within `window`, this process's own
    /// commands' changes at once. A one-shot console command does not need it.
    pub async fn cache_practices(mut self, path: &Path, window: Duration) -> Result<Store, AppError> {
        let watcher = Self::file_options(path)
            .connect()
            .await
            .map_err(|e| AppError::internal(format!("opening database {}", path.display()), e))?;
        self.practices = Some(Arc::new(PracticeCache::new(watcher, window)));
        Ok(self)
    }

    /// A private in-memory database, for tests and benchmarks.
    pub async fn open_in_memory() -> Result<Store, AppError> {
        let options = SqliteConnectOptions::new().in_memory(true).foreign_keys(true);
        // One connection: each in-memory connection would otherwise be its own empty database.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(|e| AppError::internal("opening in-memory database", e))?;
        Self::migrated(pool).await
    }

    async fn migrated(pool: SqlitePool) -> Result<Store, AppError> {
        MIGRATOR.run(&pool).await.map_err(|e| AppError::internal("applying database migrations", e))?;
        Ok(Store { pool, practices: None })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Every transaction that writes starts here: `BEGIN IMMEDIATE` takes the write lock at once,
    /// waiting on the busy timeout for another writer. Started deferred, a transaction that reads
    /// before it writes holds a WAL read snapshot SQLite cannot upgrade once another connection has
    /// committed, so its first write fails with "database is locked" instead of waiting.
    pub(crate) async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, AppError> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// This process changed data: cached practices are re-read. Dispatch calls it after every
    /// command that mutates, once the change is committed.
    pub fn note_change(&self) {
        if let Some(cache) = &self.practices {
            cache.note_change();
        }
    }

    pub async fn close(&self) {
        if let Some(cache) = &self.practices {
            cache.close().await;
        }
        self.pool.close().await;
    }
}

/// A unique-constraint violation becomes the user's message; anything else stays internal.
pub(crate) fn conflict_or_internal(e: sqlx::Error, context: &str, user_message: impl FnOnce() -> String) -> AppError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return AppError::User(user_message());
        }
    }
    AppError::internal(context.to_string(), e)
}

pub(crate) fn parse_col<T: std::str::FromStr>(value: &str, column: &str) -> Result<T, AppError>
where
    T::Err: std::fmt::Display,
{
    value.parse::<T>().map_err(|e| {
        AppError::internal(
            format!("reading column {column}"),
            std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
        )
    })
}
