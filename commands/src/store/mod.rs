//! The only place with SQL. One module per table family; every query is scoped by practice id.

pub mod audit;
pub mod autocomplete;
pub mod case_file;
pub mod medicare_releases;
pub mod negotiations;
pub mod payers;
pub mod practices;
pub mod rates;
pub mod reminders;

use crate::error::AppError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::path::Path;
use std::time::Duration;

pub use audit::{Audit, AuditEntry};
pub use payers::{NewPayer, Payer, PayerChanges};
pub use practices::{Practice, PracticeChanges};
pub use rates::{CodeRate, CurrentRate, RateRow};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store, AppError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|e| AppError::internal(format!("opening database {}", path.display()), e))?;
        Self::migrated(pool).await
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
        Ok(Store { pool })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub async fn close(&self) {
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
