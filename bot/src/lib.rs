//! The raterise bot as a library: configuration, the Discord adapter, the reminder scheduler and
//! the HTTP server. The `raterise` binary (src/main.rs) wires them to the command line; tests use
//! them directly.

pub mod config;
pub mod discord;
pub mod fetch;
pub mod inflight;
pub mod market;
pub mod replay;
pub mod scheduler;
pub mod server;
pub mod slack;
pub mod tenant_names;
