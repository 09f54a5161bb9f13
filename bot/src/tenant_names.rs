//! The names of tenants on their platform (a Discord server's, a Slack workspace's), looked up
//! once each, so a practice that never ran `/setup name:` is named after its server instead of
//! its id (letters, titles). Only asked when it matters: a `/setup` that creates the practice, or
//! a practice still named by its id. A failed lookup (no token, a missing scope, Discord or Slack
//! down) leaves the id name and is tried again after a while; it never delays a command by more
//! than `LOOKUP_BUDGET`.

use raterise_commands::{Ctx, Invocation};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most a lookup may add to a command (Discord and Slack want an answer within 3 s).
pub const LOOKUP_BUDGET: Duration = Duration::from_millis(1000);
/// After a failed lookup, ask again no sooner than this.
const RETRY_AFTER: Duration = Duration::from_secs(600);
/// Entries kept (a deployment serves far fewer tenants); beyond it the memory starts over.
const KEPT: usize = 10_000;

#[derive(Default)]
struct Known {
    names: HashMap<String, String>,
    failed: HashMap<String, Instant>,
    /// Tenants whose practice has a name of its own: nothing more to do for them.
    settled: HashSet<String>,
}

#[derive(Default)]
pub struct TenantNames {
    known: Mutex<Known>,
}

impl TenantNames {
    /// `inv` with `tenant_name` filled in when its practice needs a name and `lookup` finds it.
    pub async fn fill<F, Fut>(&self, ctx: &Ctx, mut inv: Invocation, lookup: F) -> Invocation
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<String, String>>,
    {
        let Some(tenant) = inv.tenant.clone() else { return inv };
        let key = tenant.external_id.clone();
        {
            let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            if known.settled.contains(&key) {
                return inv;
            }
        }
        let needed = match ctx.store.find_practice(&tenant).await {
            Ok(Some(p)) if p.name != p.external_id => {
                self.with(|k| {
                    k.settled.insert(key.clone());
                });
                false
            }
            Ok(Some(_)) => true,
            Ok(None) => inv.command == "setup",
            Err(_) => false,
        };
        if !needed {
            return inv;
        }
        if let Some(name) = self.with(|k| k.names.get(&key).cloned()) {
            inv.tenant_name = Some(name);
            return inv;
        }
        let recently_failed = self.with(|k| k.failed.get(&key).is_some_and(|at| at.elapsed() < RETRY_AFTER));
        if recently_failed {
            return inv;
        }
        let found = match tokio::time::timeout(LOOKUP_BUDGET, lookup(key.clone())).await {
            Ok(Ok(name)) if !name.trim().is_empty() => Ok(name),
            Ok(Ok(_)) => Err("the platform gave an empty name".to_string()),
            Ok(Err(e)) => Err(e),
            Err(_) => Err("the lookup took too long".to_string()),
        };
        match found {
            Ok(name) => {
                self.with(|k| {
                    k.failed.remove(&key);
                    k.names.insert(key.clone(), name.clone());
                });
                inv.tenant_name = Some(name);
            }
            Err(why) => {
                tracing::info!(tenant = %key, reason = %why, "could not look up the server's name; the practice keeps its id as its name until /setup name:");
                self.with(|k| {
                    k.failed.insert(key.clone(), Instant::now());
                });
            }
        }
        inv
    }

    fn with<T>(&self, f: impl FnOnce(&mut Known) -> T) -> T {
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        if known.names.len() + known.failed.len() + known.settled.len() > KEPT {
            *known = Known::default();
        }
        f(&mut known)
    }
}
