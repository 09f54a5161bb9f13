//! Files a chat user attaches to a command (a CSV export). Handlers ask for them through this
//! trait; the bot's fetcher (bot/src/fetch.rs) decides which hosts may serve them, over HTTPS,
//! with a size cap and a timeout. Without a fetcher (the console) chat attachments are refused.

use crate::invocation::Platform;
use std::future::Future;
use std::pin::Pin;

pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send + 'a>>;

pub trait FileFetcher: std::fmt::Debug + Send + Sync {
    /// The bytes of a file the platform hosts for an attachment; `Err` is the user's message.
    fn fetch<'a>(&'a self, platform: Platform, url: &'a str) -> FetchFuture<'a>;
}
