//! Fetching a file a chat user attached (a claims CSV, a remittance): only from the platform's
//! own file hosts, only over HTTPS, never following a redirect, at most `MAX_BYTES`, within
//! `TIMEOUT`. Anything else is refused before a connection is made, so a crafted attachment URL
//! cannot reach another host.
//!
//! Hosts: Discord attachments come from cdn.discordapp.com or media.discordapp.net; Slack files
//! from files.slack.com (fetched with the bot token, as Slack requires for `url_private`).
//! `RATERISE_TEST_FILE_HOSTS` (tests only) replaces both lists with `host:port` entries served
//! over plain HTTP on 127.0.0.1.

use raterise_commands::files::{FetchFuture, FileFetcher};
use raterise_commands::Platform;
use reqwest::Url;
use std::time::Duration;

/// The largest file accepted: 25 MiB, Discord's upload limit for most servers, about 150,000
/// claim lines or a year of a small group's remittances. Bigger files go through the console
/// (`raterise import claims FILE`, `raterise import era FILE_OR_FOLDER`).
pub const MAX_BYTES: u64 = 25 * 1024 * 1024;
/// The whole download, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(30);

pub const DISCORD_HOSTS: &[&str] = &["cdn.discordapp.com", "media.discordapp.net"];
pub const SLACK_HOSTS: &[&str] = &["files.slack.com"];

#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    slack_token: Option<String>,
    /// `host:port` over HTTP, for tests on 127.0.0.1; replaces the real hosts.
    test_hosts: Option<Vec<String>>,
    max_bytes: u64,
}

impl std::fmt::Debug for Fetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher").field("test_hosts", &self.test_hosts).field("max_bytes", &self.max_bytes).finish()
    }
}

impl Fetcher {
    pub fn new(slack_token: Option<String>) -> Fetcher {
        let test_hosts = std::env::var("RATERISE_TEST_FILE_HOSTS")
            .ok()
            .map(|v| v.split(',').map(|h| h.trim().to_string()).filter(|h| !h.is_empty()).collect());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Fetcher { client, slack_token, test_hosts, max_bytes: MAX_BYTES }
    }

    /// Tests only: serve files from these `host:port`s over plain HTTP instead of the real hosts.
    pub fn for_tests(hosts: Vec<String>, slack_token: Option<String>) -> Fetcher {
        Fetcher { test_hosts: Some(hosts), ..Fetcher::new(slack_token) }
    }

    pub fn with_max_bytes(mut self, max: u64) -> Fetcher {
        self.max_bytes = max;
        self
    }

    /// The URL when it points at one of the platform's file hosts; the user's message otherwise.
    pub fn allowed(&self, platform: Platform, url: &str) -> Result<Url, String> {
        let refuse = || {
            format!(
                "raterise only reads files attached in {} (from {}); attach the file to the command and try again.",
                match platform {
                    Platform::Slack => "Slack",
                    _ => "Discord",
                },
                match platform {
                    Platform::Slack => SLACK_HOSTS.join(", "),
                    _ => DISCORD_HOSTS.join(" or "),
                }
            )
        };
        let parsed = Url::parse(url.trim()).map_err(|_| refuse())?;
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(refuse());
        }
        let host = parsed.host_str().ok_or_else(refuse)?.to_ascii_lowercase();
        match &self.test_hosts {
            Some(test) => {
                let with_port = format!("{host}:{}", parsed.port_or_known_default().unwrap_or(0));
                if parsed.scheme() != "http" || !test.contains(&with_port) {
                    return Err(refuse());
                }
            }
            None => {
                let hosts = match platform {
                    Platform::Slack => SLACK_HOSTS,
                    Platform::Discord => DISCORD_HOSTS,
                    Platform::Console => &[][..],
                };
                if parsed.scheme() != "https" || parsed.port().is_some() || !hosts.contains(&host.as_str()) {
                    return Err(refuse());
                }
            }
        }
        Ok(parsed)
    }

    async fn get(&self, platform: Platform, url: &str) -> Result<Vec<u8>, String> {
        let url = self.allowed(platform, url)?;
        let mut req = self.client.get(url);
        if platform == Platform::Slack {
            if let Some(t) = &self.slack_token {
                req = req.bearer_auth(t);
            }
        }
        let failed = |e: reqwest::Error| {
            tracing::warn!(error = %e, "fetching an attachment");
            "The attached file could not be downloaded; try attaching it again.".to_string()
        };
        let mut resp = req.send().await.map_err(failed)?;
        if !resp.status().is_success() {
            tracing::warn!(status = %resp.status(), "fetching an attachment");
            return Err(format!(
                "The attached file could not be downloaded (the file host answered {}).",
                resp.status()
            ));
        }
        let too_big = || {
            format!(
                "The attached file is larger than {} MB; import it on the console (`raterise import claims FILE` or `raterise import era FILE_OR_FOLDER`).",
                self.max_bytes / (1024 * 1024)
            )
        };
        if resp.content_length().is_some_and(|n| n > self.max_bytes) {
            return Err(too_big());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(failed)? {
            if body.len() as u64 + chunk.len() as u64 > self.max_bytes {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

impl FileFetcher for Fetcher {
    fn fetch<'a>(&'a self, platform: Platform, url: &'a str) -> FetchFuture<'a> {
        Box::pin(self.get(platform, url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real() -> Fetcher {
        Fetcher { test_hosts: None, ..Fetcher::new(None) }
    }

    #[test]
    fn only_the_platforms_own_hosts_over_https() {
        let f = real();
        assert!(f.allowed(Platform::Discord, "https://cdn.discordapp.com/attachments/1/2/export.csv?ex=1").is_ok());
        assert!(f.allowed(Platform::Discord, "https://media.discordapp.net/attachments/1/2/a.csv").is_ok());
        assert!(f.allowed(Platform::Slack, "https://files.slack.com/files-pri/T1-F1/export.csv").is_ok());
        for (p, bad) in [
            (Platform::Discord, "http://cdn.discordapp.com/attachments/a.csv"),
            (Platform::Discord, "https://cdn.discordapp.com.evil.example/a.csv"),
            (Platform::Discord, "https://evil.example/cdn.discordapp.com/a.csv"),
            (Platform::Discord, "https://user@cdn.discordapp.com/a.csv"),
            (Platform::Discord, "https://cdn.discordapp.com:8443/a.csv"),
            (Platform::Discord, "https://files.slack.com/a.csv"),
            (Platform::Slack, "https://cdn.discordapp.com/a.csv"),
            (Platform::Slack, "https://127.0.0.1/a.csv"),
            (Platform::Console, "https://cdn.discordapp.com/a.csv"),
            (Platform::Discord, "file:///etc/passwd"),
            (Platform::Discord, "not a url"),
        ] {
            assert!(f.allowed(p, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn test_hosts_replace_the_real_ones() {
        let f = Fetcher { test_hosts: Some(vec!["127.0.0.1:4321".into()]), ..Fetcher::new(None) };
        assert!(f.allowed(Platform::Discord, "http://127.0.0.1:4321/a.csv").is_ok());
        assert!(f.allowed(Platform::Discord, "http://127.0.0.1:4322/a.csv").is_err());
        assert!(f.allowed(Platform::Discord, "https://cdn.discordapp.com/a.csv").is_err());
    }
}
