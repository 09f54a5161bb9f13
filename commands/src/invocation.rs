//! Who asks, from which practice and channel, with which options. Every platform builds one of
//! these; handlers see nothing else.

use crate::domain::{dates, Cents};
use crate::error::AppError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Console,
    Discord,
    Slack,
}

impl Platform {
    pub fn key(self) -> &'static str {
        match self {
            Platform::Console => "console",
            Platform::Discord => "discord",
            Platform::Slack => "slack",
        }
    }
}

/// The practice is the tenant: a Discord guild, a Slack team or a console name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tenant {
    pub platform: Platform,
    pub external_id: String,
}

impl Tenant {
    pub fn console(name: &str) -> Self {
        Tenant { platform: Platform::Console, external_id: name.to_string() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: String,
    pub name: String,
    /// Holds the platform's manage permission (Discord Manage Server, Slack admin, console user).
    pub can_manage: bool,
    /// Platform role ids the actor holds, checked against the practice's manager role.
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invocation {
    /// None when the command came from somewhere without a tenant (a Discord DM).
    pub tenant: Option<Tenant>,
    pub actor: Actor,
    pub channel_id: Option<String>,
    pub command: String,
    pub subcommand: Option<String>,
    /// Raw option values by name, as typed or as the platform delivered them.
    pub options: Vec<(String, String)>,
    /// The tenant's own name on its platform (the Discord server's, the Slack workspace's) when
    /// the adapter looked it up: a practice never named with `/setup name:` is named after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_name: Option<String>,
}

impl Invocation {
    /// What a typed command line asks for (`/rate set cigna 90837 118.50`), by `actor`: the
    /// console, Slack's text, a button's custom id and tests all read lines the same way.
    pub fn from_line(
        line: &str,
        tenant: Option<Tenant>,
        actor: Actor,
        channel_id: Option<String>,
    ) -> Result<Invocation, AppError> {
        let parsed = crate::command_line::parse(line)?;
        Ok(Invocation {
            tenant,
            actor,
            channel_id,
            command: parsed.command.name.to_string(),
            subcommand: parsed.subcommand,
            options: parsed.options,
            tenant_name: None,
        })
    }

    pub fn new(tenant: Tenant, actor: Actor, command: &str) -> Self {
        Invocation {
            tenant: Some(tenant),
            actor,
            channel_id: None,
            command: command.to_string(),
            subcommand: None,
            options: Vec::new(),
            tenant_name: None,
        }
    }

    pub fn with_sub(mut self, sub: &str) -> Self {
        self.subcommand = Some(sub.to_string());
        self
    }

    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.options.push((name.to_string(), value.to_string()));
        self
    }

    /// The command as a user would type it again: `/rate set payer:Cigna cpt:90837`.
    pub fn command_line(&self) -> String {
        crate::command_line::write(&self.command, self.subcommand.as_deref(), &self.options)
    }

    pub fn opt(&self, name: &str) -> Option<&str> {
        self.options.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }

    pub fn has(&self, name: &str) -> bool {
        self.opt(name).is_some()
    }

    pub fn required(&self, name: &str) -> Result<&str, AppError> {
        self.opt(name).ok_or_else(|| missing(name))
    }

    /// A required option's typed value (`inv.need("kind", inv.parsed("kind")?)`): left out or
    /// given empty (`kind:`), it is the user's missing value, never a panic.
    pub fn need<T>(&self, name: &str, value: Option<T>) -> Result<T, AppError> {
        value.ok_or_else(|| missing(name))
    }

    pub fn date(&self, name: &str) -> Result<Option<NaiveDate>, AppError> {
        self.opt(name).map(|v| dates::parse_date(v).map_err(|e| AppError::user(format!("{name}: {e}")))).transpose()
    }

    pub fn integer(&self, name: &str) -> Result<Option<i64>, AppError> {
        self.opt(name)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    AppError::user(format!("{name}: `{v}` is not a whole number; write digits such as 90"))
                })
            })
            .transpose()
    }

    pub fn money(&self, name: &str) -> Result<Option<Cents>, AppError> {
        self.opt(name).map(|v| Cents::parse(v).map_err(|e| AppError::user(format!("{name}: {e}")))).transpose()
    }

    pub fn parsed<T>(&self, name: &str) -> Result<Option<T>, AppError>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        self.opt(name).map(|v| v.parse::<T>().map_err(|e| AppError::user(e.to_string()))).transpose()
    }

    pub fn tenant(&self) -> Result<&Tenant, AppError> {
        self.tenant.as_ref().ok_or_else(|| {
            AppError::NotSetUp(
                "raterise works inside a practice's server: run this command in your practice's server, not in a direct message."
                    .into(),
            )
        })
    }
}

fn missing(name: &str) -> AppError {
    AppError::user(format!("`{name}` is missing; add `{name}:...` to the command"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv() -> Invocation {
        Invocation::new(
            Tenant::console("default"),
            Actor { id: "u".into(), name: "u".into(), can_manage: true, roles: vec![] },
            "rate",
        )
    }

    #[test]
    fn typed_accessors_explain_bad_values() {
        let i = inv().with("amount", "abc").with("effective", "2027-13-01").with("days", "x");
        assert!(i.money("amount").unwrap_err().user_message().contains("amount"));
        assert!(i.date("effective").unwrap_err().user_message().contains("YYYY-MM-DD"));
        assert!(i.integer("days").unwrap_err().user_message().contains("whole number"));
        assert!(i.required("payer").unwrap_err().user_message().contains("payer:"));
    }

    #[test]
    fn command_line_quotes_values_with_spaces() {
        let i = inv().with_sub("set").with("payer", "Blue Cross").with("cpt", "90837");
        assert_eq!(i.command_line(), "/rate set payer:\"Blue Cross\" cpt:90837");
    }
}
