//! raterise-commands: everything the bot knows and does, with no chat platform in it.
//!
//! Data flows one way: platform event -> [`invocation::Invocation`] -> [`handlers::dispatch`]
//! (store, medicare, drafts) -> typed result ([`handlers::Outcome`]) -> [`reply::Reply`] ->
//! platform rendering.

pub mod analysis;
pub mod autocomplete;
pub mod catalog;
pub mod claims;
pub mod clock;
pub mod command_line;
pub mod context;
pub mod demo;
pub mod domain;
pub mod drafts;
pub mod era;
pub mod error;
pub mod figures;
pub mod files;
pub mod generate;
pub mod handlers;
pub mod invocation;
pub mod market;
pub mod medicare;
pub mod payer_match;
pub mod privacy;
pub mod reminders;
pub mod reply;
pub mod report_cache;
pub mod schedule;
pub mod store;
pub mod suggest;
pub mod tic;

pub use context::Ctx;
pub use error::{AppError, AppResult};
pub use handlers::{dispatch, Outcome, ReplyKey};
pub use invocation::{Actor, Invocation, Platform, Tenant};
pub use reply::Reply;
