//! Deployment settings: the environment, optionally backed by a small config file.
//!
//! The file (`--config raterise.toml` or `RATERISE_CONFIG`) holds one `KEY = value` per line,
//! values optionally in double quotes, `#` starts a comment. That is a subset of both TOML and
//! dotenv files. Keys are the environment names (`DISCORD_TOKEN`, ...) in any case; `bind` and
//! `templates_dir` may be written without the `RATERISE_` prefix. The environment wins over the
//! file, and command-line flags win over both.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// Every key the file and the environment may set.
pub const KEYS: &[&str] = &[
    "DISCORD_TOKEN",
    "DISCORD_APPLICATION_ID",
    "DISCORD_PUBLIC_KEY",
    "DISCORD_GUILD_ID",
    "DISCORD_API_URL",
    "RATERISE_BIND",
    "RATERISE_TEMPLATES_DIR",
    "SLACK_SIGNING_SECRET",
    "SLACK_BOT_TOKEN",
    "SLACK_API_URL",
    "SLACK_ADMIN_USERS",
];

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Bot token for the gateway and REST calls. Never printed.
    pub discord_token: Option<String>,
    pub discord_application_id: Option<u64>,
    /// Hex Ed25519 public key of the application, for the HTTP interactions endpoint.
    pub discord_public_key: Option<String>,
    /// Register commands to this guild only (instant updates while testing).
    pub discord_guild_id: Option<u64>,
    /// Base URL that replaces https://discord.com for every REST call (a rate-limit proxy, a fake).
    pub discord_api_url: Option<String>,
    pub bind: Option<String>,
    /// Folder whose templates override the shipped ones by name.
    pub templates_dir: Option<PathBuf>,
    /// Slack app's signing secret: turns the Slack endpoints on. Never printed.
    pub slack_signing_secret: Option<String>,
    /// Slack bot token (xoxb-...) for file uploads and posts. Never printed.
    pub slack_bot_token: Option<String>,
    /// Base URL that replaces https://slack.com/api (a fake in tests).
    pub slack_api_url: Option<String>,
    /// Slack user ids that may change data, comma separated.
    pub slack_admin_users: Option<String>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("discord_token", &self.discord_token.as_ref().map(|_| "<set>"))
            .field("discord_application_id", &self.discord_application_id)
            .field("discord_public_key", &self.discord_public_key)
            .field("discord_guild_id", &self.discord_guild_id)
            .field("discord_api_url", &self.discord_api_url)
            .field("bind", &self.bind)
            .field("templates_dir", &self.templates_dir)
            .field("slack_signing_secret", &self.slack_signing_secret.as_ref().map(|_| "<set>"))
            .field("slack_bot_token", &self.slack_bot_token.as_ref().map(|_| "<set>"))
            .field("slack_api_url", &self.slack_api_url)
            .field("slack_admin_users", &self.slack_admin_users)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("could not read the config file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path} line {line}: {reason}")]
    Syntax { path: String, line: usize, reason: String },
    #[error("{key}: {reason}")]
    Value { key: String, reason: String },
}

impl Config {
    /// Reads the optional file, then the process environment over it.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut values = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError::Read { path: path.display().to_string(), reason: e.to_string() })?;
                parse_file(&path.display().to_string(), &text)?
            }
            None => BTreeMap::new(),
        };
        for key in KEYS {
            if let Ok(v) = std::env::var(key) {
                if !v.trim().is_empty() {
                    values.insert(key.to_string(), v);
                }
            }
        }
        Config::from_values(&values)
    }

    /// Builds and checks the settings from `KEY -> value`.
    pub fn from_values(values: &BTreeMap<String, String>) -> Result<Config, ConfigError> {
        let get = |k: &str| values.get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let id = |k: &str| -> Result<Option<u64>, ConfigError> {
            get(k)
                .map(|v| {
                    v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| ConfigError::Value {
                        key: k.to_string(),
                        reason: format!("`{v}` is not a Discord id; copy the number from the Developer Portal"),
                    })
                })
                .transpose()
        };
        let public_key = get("DISCORD_PUBLIC_KEY");
        if let Some(key) = &public_key {
            if parse_public_key(key).is_none() {
                return Err(ConfigError::Value {
                    key: "DISCORD_PUBLIC_KEY".into(),
                    reason: "expected the 64 hex digits shown as PUBLIC KEY in the Developer Portal".into(),
                });
            }
        }
        let api_url = get("DISCORD_API_URL").map(|u| u.trim_end_matches('/').to_string());
        if let Some(url) = &api_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::Value {
                    key: "DISCORD_API_URL".into(),
                    reason: format!("`{url}` is not a base URL; write it like http://127.0.0.1:3000"),
                });
            }
        }
        let slack_api_url = get("SLACK_API_URL").map(|u| u.trim_end_matches('/').to_string());
        if let Some(url) = &slack_api_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ConfigError::Value {
                    key: "SLACK_API_URL".into(),
                    reason: format!("`{url}` is not a base URL; write it like https://slack.com/api"),
                });
            }
        }
        Ok(Config {
            discord_token: get("DISCORD_TOKEN"),
            discord_application_id: id("DISCORD_APPLICATION_ID")?,
            discord_public_key: public_key,
            discord_guild_id: id("DISCORD_GUILD_ID")?,
            discord_api_url: api_url,
            bind: get("RATERISE_BIND"),
            templates_dir: get("RATERISE_TEMPLATES_DIR").map(PathBuf::from),
            slack_signing_secret: get("SLACK_SIGNING_SECRET"),
            slack_bot_token: get("SLACK_BOT_TOKEN"),
            slack_api_url,
            slack_admin_users: get("SLACK_ADMIN_USERS"),
        })
    }

    /// The public key as bytes; `from_values` already checked it.
    pub fn public_key_bytes(&self) -> Option<[u8; 32]> {
        self.discord_public_key.as_deref().and_then(parse_public_key)
    }
}

/// 64 hex digits to 32 bytes.
pub fn parse_public_key(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn canonical_key(raw: &str) -> Option<&'static str> {
    let upper = raw.trim().to_ascii_uppercase();
    let upper = match upper.as_str() {
        "BIND" => "RATERISE_BIND".to_string(),
        "TEMPLATES_DIR" => "RATERISE_TEMPLATES_DIR".to_string(),
        _ => upper,
    };
    KEYS.iter().copied().find(|k| *k == upper)
}

/// Parses `KEY = value` lines.
pub fn parse_file(path: &str, text: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut out = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let err = |reason: String| ConfigError::Syntax { path: path.to_string(), line: i + 1, reason };
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            return Err(err("sections are not used; write every setting as KEY = \"value\" at the top level".into()));
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(err("expected KEY = value".into()));
        };
        let Some(key) = canonical_key(key) else {
            return Err(err(format!("`{}` is not a setting; known: {}", key.trim(), KEYS.join(", "))));
        };
        let value = value.trim();
        let value = if let Some(rest) = value.strip_prefix('"') {
            let Some(end) = rest.find('"') else { return Err(err("the closing quote is missing".into())) };
            let after = rest[end + 1..].trim();
            if !(after.is_empty() || after.starts_with('#')) {
                return Err(err("only a comment may follow the closing quote".into()));
            }
            rest[..end].to_string()
        } else {
            value.split(" #").next().unwrap_or("").trim().to_string()
        };
        if out.insert(key.to_string(), value).is_some() {
            return Err(err(format!("{key} is set twice")));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "67c6bd767ca099e79efac9fcce4d2022a63bf7dea780e7f3d813f694c1597089";

    #[test]
    fn file_accepts_toml_and_dotenv_styles() {
        let text = format!(
            "# raterise\nDISCORD_TOKEN = \"abc.def\" # secret\ndiscord_public_key={KEY}\nbind = \"0.0.0.0:9000\"\n\
             templates_dir = /srv/templates\nDISCORD_GUILD_ID = 123456789012345678\n"
        );
        let values = parse_file("raterise.toml", &text).unwrap();
        let c = Config::from_values(&values).unwrap();
        assert_eq!(c.discord_token.as_deref(), Some("abc.def"));
        assert_eq!(c.public_key_bytes().unwrap()[0], 0x67);
        assert_eq!(c.bind.as_deref(), Some("0.0.0.0:9000"));
        assert_eq!(c.templates_dir, Some(PathBuf::from("/srv/templates")));
        assert_eq!(c.discord_guild_id, Some(123456789012345678));
    }

    #[test]
    fn mistakes_name_the_line_and_the_fix() {
        let e = parse_file("f", "DISCORD_TOKN = x").unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("DISCORD_TOKEN"), "{e}");
        assert!(parse_file("f", "[discord]").unwrap_err().to_string().contains("top level"));
        assert!(parse_file("f", "DISCORD_TOKEN = \"x").unwrap_err().to_string().contains("quote"));
        assert!(parse_file("f", "DISCORD_TOKEN=a\nDISCORD_TOKEN=b").unwrap_err().to_string().contains("twice"));
        let bad = |k: &str, v: &str| {
            Config::from_values(&BTreeMap::from([(k.to_string(), v.to_string())])).unwrap_err().to_string()
        };
        assert!(bad("DISCORD_PUBLIC_KEY", "xyz").contains("64 hex"));
        assert!(bad("DISCORD_APPLICATION_ID", "abc").contains("not a Discord id"));
        assert!(bad("DISCORD_API_URL", "127.0.0.1:3000").contains("http://"));
    }

    #[test]
    fn slack_settings_are_read_and_secrets_hidden() {
        let values = parse_file(
            "f",
            "SLACK_SIGNING_SECRET = \"shh-signing\"\nslack_bot_token = xoxb-secret\nSLACK_API_URL = http://127.0.0.1:9/api/\nSLACK_ADMIN_USERS = \"U1, U2\"\n",
        )
        .unwrap();
        let c = Config::from_values(&values).unwrap();
        assert_eq!(c.slack_api_url.as_deref(), Some("http://127.0.0.1:9/api"));
        assert_eq!(c.slack_admin_users.as_deref(), Some("U1, U2"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("shh-signing") && !shown.contains("xoxb-secret"), "{shown}");
        let bad = Config::from_values(&BTreeMap::from([("SLACK_API_URL".to_string(), "slack.com".to_string())]));
        assert!(bad.unwrap_err().to_string().contains("SLACK_API_URL"));
    }

    #[test]
    fn debug_output_hides_the_token() {
        let c = Config { discord_token: Some("very-secret-token".into()), ..Default::default() };
        let shown = format!("{c:?}");
        assert!(!shown.contains("very-secret-token") && shown.contains("<set>"));
    }
}
