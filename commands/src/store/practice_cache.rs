//! Practices by tenant, kept in memory so that a read-only command (the common case in chat)
//! runs no statement just to learn which practice asked and its revision.
//!
//! An entry is valid while the store's generation is the one it was read at. The generation moves:
//! - at once when this process changes data through a command (`Store::note_change`, called by
//!   dispatch after every command that mutates, and by the practice writes themselves);
//! - within `OTHER_WRITERS_WINDOW` when anything else commits (another process such as the console,
//!   or this process's scheduler): a dedicated read-only connection asks SQLite's
//!   `PRAGMA data_version`, which changes whenever another connection commits, at most that often.
//!
//! Only file databases have the cache: an in-memory database has one connection, so
//! `data_version` could not see its writes, and tests drive the store directly.

use super::practices::Practice;
use crate::error::AppError;
use crate::invocation::{Platform, Tenant};
use sqlx::sqlite::SqliteConnection;
use sqlx::Connection;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How stale a practice may be after another process (or this process's background work) commits.
pub const OTHER_WRITERS_WINDOW: Duration = Duration::from_millis(20);

/// Tenants kept before the cache starts over.
const CAPACITY: usize = 8192;

/// A platform's tenants by external id, each with the generation it was read at.
type Tenants = HashMap<String, (u64, Practice)>;

pub(super) struct PracticeCache {
    generation: AtomicU64,
    window: Duration,
    /// The connection that asks `PRAGMA data_version`; it never writes.
    /// `None` once the store is closed.
    watcher: tokio::sync::Mutex<Option<SqliteConnection>>,
    polled: Mutex<Polled>,
    entries: Mutex<HashMap<Platform, Tenants>>,
}

struct Polled {
    at: Option<Instant>,
    data_version: i64,
}

impl std::fmt::Debug for PracticeCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PracticeCache").field("generation", &self.generation).field("window", &self.window).finish()
    }
}

impl PracticeCache {
    pub(super) fn new(watcher: SqliteConnection, window: Duration) -> PracticeCache {
        PracticeCache {
            generation: AtomicU64::new(0),
            window,
            watcher: tokio::sync::Mutex::new(Some(watcher)),
            polled: Mutex::new(Polled { at: None, data_version: 0 }),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Every entry read before now is stale.
    pub(super) fn note_change(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The generation to read at: polls `data_version` if the last poll is older than the window.
    pub(super) async fn generation(&self) -> Result<u64, AppError> {
        let due = {
            let polled = self.polled.lock().map_err(|_| poisoned())?;
            polled.at.is_none_or(|at| at.elapsed() >= self.window)
        };
        if due {
            // One request polls; the others wait for it rather than polling too.
            let mut watcher = self.watcher.lock().await;
            let still_due = {
                let polled = self.polled.lock().map_err(|_| poisoned())?;
                polled.at.is_none_or(|at| at.elapsed() >= self.window)
            };
            if let (true, Some(watcher)) = (still_due, watcher.as_mut()) {
                let version: i64 = sqlx::query_scalar("PRAGMA data_version").fetch_one(watcher).await?;
                let mut polled = self.polled.lock().map_err(|_| poisoned())?;
                if polled.at.is_some() && polled.data_version != version {
                    self.note_change();
                }
                polled.data_version = version;
                polled.at = Some(Instant::now());
            }
        }
        Ok(self.generation.load(Ordering::SeqCst))
    }

    pub(super) fn get(&self, tenant: &Tenant, generation: u64) -> Option<Practice> {
        let entries = self.entries.lock().ok()?;
        match entries.get(&tenant.platform)?.get(&tenant.external_id) {
            Some((at, practice)) if *at == generation => Some(practice.clone()),
            _ => None,
        }
    }

    pub(super) fn put(&self, tenant: &Tenant, generation: u64, practice: &Practice) {
        if let Ok(mut entries) = self.entries.lock() {
            let tenants = entries.entry(tenant.platform).or_default();
            if tenants.len() >= CAPACITY {
                tenants.clear();
            }
            tenants.insert(tenant.external_id.clone(), (generation, practice.clone()));
        }
    }

    pub(super) async fn close(&self) {
        if let Some(watcher) = self.watcher.lock().await.take() {
            let _ = watcher.close().await;
        }
    }
}

fn poisoned() -> AppError {
    AppError::internal("reading the practice cache", std::io::Error::other("a lock was poisoned"))
}
