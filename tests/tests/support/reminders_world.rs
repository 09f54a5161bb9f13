//! The in-process reminders harness shared by reminders_flow.rs and reminders_timing.rs: commands
//! go through `dispatch` as a Discord manager would run them, the clock is moved by hand, and the
//! scheduler's `tick` posts through a recording delivery.

use chrono::{DateTime, Utc};
use raterise::scheduler::{self, Delivery, DeliveryError, TickReport};
use raterise_commands::clock::ManualClock;
use raterise_commands::reply::Reply;
use raterise_commands::store::Store;
use raterise_commands::{dispatch, Actor, Ctx, Invocation, Outcome, Platform, Tenant};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

pub const GUILD: &str = "1100000000000000001";
pub const CHANNEL: &str = "1100000000000000009";

/// One message the scheduler posted.
#[derive(Debug, Clone)]
pub struct Posted {
    pub channel: String,
    pub nonce: String,
    pub reply: Reply,
}

/// A delivery that records what it is asked to post, answering with scripted failures first.
#[derive(Default)]
pub struct Recording {
    pub posted: Mutex<Vec<Posted>>,
    pub failures: Mutex<VecDeque<DeliveryError>>,
}

impl Recording {
    pub fn take(&self) -> Vec<Posted> {
        std::mem::take(&mut *self.posted.lock().unwrap())
    }
}

impl Delivery for Recording {
    fn platforms(&self) -> &[&'static str] {
        &["discord"]
    }

    async fn post(&self, channel_id: &str, reply: &Reply, nonce: &str) -> Result<Vec<String>, DeliveryError> {
        if let Some(e) = self.failures.lock().unwrap().pop_front() {
            return Err(e);
        }
        let mut posted = self.posted.lock().unwrap();
        posted.push(Posted { channel: channel_id.into(), nonce: nonce.into(), reply: reply.clone() });
        Ok(vec![format!("{}", 1_500_000_000_000_000_000u64 + posted.len() as u64)])
    }
}

pub struct World {
    pub ctx: Ctx,
    pub clock: ManualClock,
    pub delivery: Arc<Recording>,
}

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

impl World {
    pub async fn new(start: &str) -> World {
        let clock = ManualClock::new(at(start));
        let store = Store::open_in_memory().await.unwrap();
        let ctx = Ctx::new(store, Arc::new(clock.clone())).await.unwrap();
        World { ctx, clock, delivery: Arc::new(Recording::default()) }
    }

    pub fn set(&self, now: &str) {
        self.clock.set(at(now));
    }

    pub async fn run(&self, line: &str) -> Result<Outcome, String> {
        let tenant = Some(Tenant { platform: Platform::Discord, external_id: GUILD.into() });
        let actor = Actor { id: "80351110224678912".into(), name: "dana".into(), can_manage: true, roles: vec![] };
        let inv = Invocation::from_line(line, tenant, actor, Some(CHANNEL.into())).map_err(|e| e.user_message())?;
        dispatch(&self.ctx, &inv).await.map_err(|e| e.user_message())
    }

    pub async fn ok(&self, line: &str) -> Outcome {
        self.run(line).await.unwrap_or_else(|e| panic!("`{line}` failed: {e}"))
    }

    pub async fn tick(&self) -> TickReport {
        scheduler::tick(&self.ctx, &self.delivery, "test-worker").await.expect("tick")
    }

    /// Ticks at `now` and returns what was posted.
    pub async fn posts_at(&self, now: &str) -> Vec<Posted> {
        self.set(now);
        self.tick().await;
        self.delivery.take()
    }

    pub async fn list(&self) -> raterise_commands::handlers::followups::FollowupList {
        match self.ok("/followups list").await {
            Outcome::FollowupList(l) => l,
            other => panic!("not a list: {other:?}"),
        }
    }

    /// A practice in New York with Cigna, a rate on file and reminders going to CHANNEL.
    pub async fn practice(&self) {
        self.ok(&format!(
            r#"/setup name:"Hudson Therapy" locality:"MANHATTAN, NY" credential:lcsw timezone:America/New_York channel:{CHANNEL}"#
        ))
        .await;
        self.ok("/payer add name:Cigna kind:commercial contact_name:\"Pat Lee\" contact_email:pat@example.com").await;
        self.ok("/rate set payer:Cigna cpt:90837 amount:118.50 effective:2026-01-01").await;
    }
}

pub fn buttons(p: &Posted) -> Vec<(String, String)> {
    p.reply.actions.iter().map(|a| (a.label.clone(), a.command_line.clone())).collect()
}

pub fn button(p: &Posted, label: &str) -> String {
    buttons(p)
        .into_iter()
        .find(|(l, _)| l == label)
        .map(|(_, c)| c)
        .unwrap_or_else(|| panic!("no {label} button in {:?}", buttons(p)))
}

pub fn text(p: &Posted) -> String {
    p.reply.to_text()
}
