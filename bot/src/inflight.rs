//! Work that outlives the HTTP answer (Discord follow-ups, Slack response_url posts): counted so
//! shutdown can wait for it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Counts background work still running, so shutdown can wait for it.
#[derive(Debug, Clone, Default)]
pub struct Inflight(Arc<(AtomicUsize, Notify)>);

pub(crate) struct InflightGuard(Inflight);

impl Drop for InflightGuard {
    fn drop(&mut self) {
        if (self.0).0 .0.fetch_sub(1, Ordering::SeqCst) == 1 {
            (self.0).0 .1.notify_waiters();
        }
    }
}

impl Inflight {
    pub(crate) fn enter(&self) -> InflightGuard {
        self.0 .0.fetch_add(1, Ordering::SeqCst);
        InflightGuard(self.clone())
    }

    pub fn count(&self) -> usize {
        self.0 .0.load(Ordering::SeqCst)
    }

    /// Waits until nothing is in flight, or the limit passes; true when all finished.
    pub async fn drained(&self, limit: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.0 .1.notified();
                if self.count() == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }
}
