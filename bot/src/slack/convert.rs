//! Slack requests into the neutral `Invocation`. The tenant is the Slack team (workspace).
//!
//! Slash commands: one `/raterise` command whose text is a whole command line
//! (`/raterise rates cigna`), or one Slack command per catalogue entry (`/rates cigna`).
//! Buttons: a `block_actions` payload whose button `value` is the command line to run.
//!
//! Who may change data: Slack sends no admin flag with a slash command, so the deployment lists
//! the Slack user ids that may (`SLACK_ADMIN_USERS`); everyone else in the workspace can read.

use raterise_commands::catalog;
use raterise_commands::{Actor, AppError, Invocation, Platform, Tenant};
use serde::Deserialize;
use std::collections::HashSet;

/// The one slash command a workspace needs; its text is a full command line.
pub const MAIN_COMMAND: &str = "raterise";

/// The form fields of a slash command request
/// (https://api.slack.com/interactivity/slash-commands#app_command_handling).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlashCommand {
    #[serde(default)]
    pub team_id: String,
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub user_name: String,
    #[serde(default)]
    pub channel_id: String,
    #[serde(default)]
    pub command: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub response_url: String,
    #[serde(default)]
    pub trigger_id: String,
    /// Slack's check of the Request URL's certificate; answered with an empty 200.
    #[serde(default)]
    pub ssl_check: Option<String>,
}

/// The parts of an interactivity payload raterise uses
/// (https://api.slack.com/reference/interaction-payloads/block-actions).
#[derive(Debug, Clone, Deserialize)]
pub struct InteractionPayload {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub team: Option<IdName>,
    #[serde(default)]
    pub user: Option<SlackUser>,
    #[serde(default)]
    pub channel: Option<IdName>,
    #[serde(default)]
    pub response_url: Option<String>,
    #[serde(default)]
    pub actions: Vec<BlockAction>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IdName {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SlackUser {
    pub id: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub team_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BlockAction {
    #[serde(default)]
    pub action_id: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub value: Option<String>,
}

/// The Slack user ids that may change data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Admins(HashSet<String>);

impl Admins {
    /// From `SLACK_ADMIN_USERS`: ids separated by commas or spaces.
    pub fn parse(list: &str) -> Admins {
        Admins(list.split([',', ' ', '\n', '\t']).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
    }

    pub fn contains(&self, user_id: &str) -> bool {
        self.0.contains(user_id)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Undoes what Slack does to typed text: `&amp;`/`&lt;`/`&gt;` entities, `<#C123|general>`
/// channel and `<@U123|dana>` user references (to their ids), `<https://x|label>` links (to the
/// address), and the curly quotes some clients type in place of straight ones.
pub fn clean_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('>') {
            Some(end) => {
                let inner = &after[..end];
                let target = inner.split('|').next().unwrap_or(inner);
                let target = target
                    .strip_prefix('#')
                    .or_else(|| target.strip_prefix('@'))
                    .or_else(|| target.strip_prefix("mailto:"))
                    .unwrap_or(target);
                let target = target.strip_prefix("!subteam^").unwrap_or(target);
                out.push_str(target);
                rest = &after[end + 1..];
            }
            None => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.replace(['\u{201C}', '\u{201D}', '\u{201E}', '\u{00AB}', '\u{00BB}'], "\"")
        .replace(['\u{2018}', '\u{2019}'], "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The command line a slash command asks for, in console notation.
pub fn command_line_of(command: &str, text: &str) -> Result<String, AppError> {
    let name = command.trim().trim_start_matches('/').to_ascii_lowercase();
    let text = clean_text(text);
    let text = text.trim();
    if name == MAIN_COMMAND {
        if text.is_empty() {
            return Ok("/help".into());
        }
        return Ok(if text.starts_with('/') { text.to_string() } else { format!("/{text}") });
    }
    if catalog::command(&name).is_some() {
        return Ok(if text.is_empty() { format!("/{name}") } else { format!("/{name} {text}") });
    }
    Err(AppError::user(format!(
        "raterise does not know the Slack command /{name}; use /{MAIN_COMMAND} followed by a command, like /{MAIN_COMMAND} rates cigna"
    )))
}

/// Replies name commands as Discord and the console type them (`/rates cigna`); in Slack the app's
/// one slash command comes first (`/raterise rates cigna`). Rewrites each `/NAME` of a catalogue
/// command that starts a word; paths and URLs (`a/rates`, `https://x/rates`) are left alone.
pub fn slack_command_names(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(i) = rest.find('/') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let len = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).unwrap_or(after.len());
        let word = &after[..len];
        let starts_word = out.chars().last().is_none_or(|c| c.is_whitespace() || "([{\"'`*_>".contains(c));
        out.push('/');
        if starts_word && catalog::command(word).is_some() {
            out.push_str(MAIN_COMMAND);
            out.push(' ');
        }
        out.push_str(word);
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

fn tenant_of(team_id: &str) -> Option<Tenant> {
    let team = team_id.trim();
    (!team.is_empty()).then(|| Tenant { platform: Platform::Slack, external_id: team.to_string() })
}

fn actor(user_id: &str, name: &str, admins: &Admins) -> Actor {
    Actor {
        id: user_id.to_string(),
        name: if name.trim().is_empty() { user_id.to_string() } else { name.to_string() },
        can_manage: !user_id.is_empty() && admins.contains(user_id),
        roles: Vec::new(),
    }
}

pub fn command_invocation(cmd: &SlashCommand, admins: &Admins) -> Result<Invocation, AppError> {
    let line = command_line_of(&cmd.command, &cmd.text)?;
    let channel = (!cmd.channel_id.is_empty()).then(|| cmd.channel_id.clone());
    Invocation::from_line(&line, tenant_of(&cmd.team_id), actor(&cmd.user_id, &cmd.user_name, admins), channel)
}

/// The command line a pressed button carries.
pub fn pressed_line(payload: &InteractionPayload) -> Result<&str, AppError> {
    let value = payload
        .actions
        .iter()
        .find(|a| a.kind == "button" || a.action_id.starts_with(super::render::ACTION_PREFIX))
        .and_then(|a| a.value.as_deref())
        .map(str::trim)
        .unwrap_or("");
    if !value.starts_with('/') {
        return Err(AppError::user("This button belongs to an older version of raterise; run the command again."));
    }
    Ok(value)
}

pub fn button_invocation(payload: &InteractionPayload, admins: &Admins) -> Result<Invocation, AppError> {
    let line = pressed_line(payload)?;
    let user = payload.user.as_ref();
    let team = payload.team.as_ref().map(|t| t.id.clone()).or_else(|| user.and_then(|u| u.team_id.clone()));
    let user_id = user.map(|u| u.id.as_str()).unwrap_or("");
    let name = user.and_then(|u| u.username.as_deref().or(u.name.as_deref())).unwrap_or("");
    Invocation::from_line(
        line,
        tenant_of(team.as_deref().unwrap_or("")),
        actor(user_id, name, admins),
        payload.channel.as_ref().map(|c| c.id.clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names_in_replies_become_the_slack_command() {
        assert_eq!(
            slack_command_names("Add them with /rate set payer:Cigna, then run /rates cigna."),
            "Add them with /raterise rate set payer:Cigna, then run /raterise rates cigna."
        );
        assert_eq!(slack_command_names("`/help command:rates`"), "`/raterise help command:rates`");
        assert_eq!(slack_command_names("(/setup first)"), "(/raterise setup first)");
        assert_eq!(slack_command_names("/rates"), "/raterise rates");
        // Not commands, or not at the start of a word: unchanged.
        for same in [
            "see https://example.org/rates and a/rates",
            "/raterise rates cigna",
            "/weather today",
            "50/50 split, 1/2",
            "/ratesx /rates-old",
            "no slash at all",
            "",
        ] {
            assert_eq!(slack_command_names(same), same);
        }
        assert_eq!(slack_command_names("é /payer list"), "é /raterise payer list");
    }
    use serde_json::json;

    fn slash(command: &str, text: &str, user: &str) -> SlashCommand {
        let body = serde_urlencoded::to_string([
            ("token", "x"),
            ("team_id", "T0001"),
            ("team_domain", "practice"),
            ("channel_id", "C0001"),
            ("channel_name", "rates"),
            ("user_id", user),
            ("user_name", "dana"),
            ("command", command),
            ("text", text),
            ("response_url", "https://hooks.slack.com/commands/T0001/1/abc"),
            ("trigger_id", "1.2.3"),
        ])
        .unwrap();
        let cmd: SlashCommand = serde_urlencoded::from_str(&body).unwrap();
        assert_eq!(cmd.text, text, "the form round-trips the text");
        cmd
    }

    #[test]
    fn the_main_command_takes_a_whole_command_line() {
        let admins = Admins::parse("U0ADMIN, U0OTHER");
        let inv = command_invocation(
            &slash("/raterise", "payer add name:\"Blue Cross\" kind:commercial", "U0ADMIN"),
            &admins,
        )
        .unwrap();
        assert_eq!(inv.tenant, Some(Tenant { platform: Platform::Slack, external_id: "T0001".into() }));
        assert_eq!((inv.command.as_str(), inv.subcommand.as_deref()), ("payer", Some("add")));
        assert_eq!(inv.opt("name"), Some("Blue Cross"));
        assert_eq!(inv.channel_id.as_deref(), Some("C0001"));
        assert!(inv.actor.can_manage);
        assert_eq!(inv.actor.name, "dana");
        // A leading slash is fine too, and no text is /help.
        assert_eq!(
            command_invocation(&slash("/raterise", "/rates cigna", "U1"), &admins).unwrap().opt("payer"),
            Some("cigna")
        );
        assert_eq!(command_invocation(&slash("/raterise", "", "U1"), &admins).unwrap().command, "help");
        assert!(!command_invocation(&slash("/raterise", "rates", "U0PLAIN"), &admins).unwrap().actor.can_manage);
    }

    #[test]
    fn catalogue_named_commands_work_and_others_explain() {
        let inv = command_invocation(&slash("/rates", "cigna", "U1"), &Admins::default()).unwrap();
        assert_eq!((inv.command.as_str(), inv.opt("payer")), ("rates", Some("cigna")));
        let e = command_invocation(&slash("/weather", "", "U1"), &Admins::default()).unwrap_err();
        assert!(e.user_message().contains("/raterise rates cigna"), "{}", e.user_message());
        let e = command_invocation(&slash("/raterise", "ratez cigna", "U1"), &Admins::default()).unwrap_err();
        assert!(e.user_message().contains("/rates"), "{}", e.user_message());
    }

    #[test]
    fn slack_markup_and_curly_quotes_are_undone() {
        assert_eq!(clean_text("channel:<#C0123|general>"), "channel:C0123");
        assert_eq!(clean_text("<@U0456|dana> <mailto:a@b.org|a@b.org>"), "U0456 a@b.org");
        assert_eq!(
            clean_text("name:\u{201C}Blue Cross\u{201D} notes:O\u{2019}Neil &amp; Co &lt;3"),
            "name:\"Blue Cross\" notes:O'Neil & Co <3"
        );
        assert_eq!(clean_text("a < b"), "a < b");
        let inv = command_invocation(&slash("/raterise", "setup channel:<#C0123|general>", "U1"), &Admins::default())
            .unwrap();
        assert_eq!(inv.opt("channel"), Some("C0123"));
    }

    #[test]
    fn a_button_runs_its_value_as_the_presser() {
        let payload: InteractionPayload = serde_json::from_value(json!({
            "type": "block_actions",
            "team": {"id": "T0001", "domain": "practice"},
            "user": {"id": "U0ADMIN", "username": "dana", "name": "dana", "team_id": "T0001"},
            "api_app_id": "A0001", "token": "x", "trigger_id": "1.2.3",
            "channel": {"id": "C0001", "name": "rates"},
            "response_url": "https://hooks.slack.com/actions/T0001/1/abc",
            "actions": [{"action_id": "raterise-0", "block_id": "b", "type": "button",
                         "text": {"type": "plain_text", "text": "History"}, "value": "/rate history payer:Cigna",
                         "action_ts": "1700000000.000"}]
        }))
        .unwrap();
        let inv = button_invocation(&payload, &Admins::parse("U0ADMIN")).unwrap();
        assert_eq!(
            (inv.command.as_str(), inv.subcommand.as_deref(), inv.opt("payer")),
            ("rate", Some("history"), Some("Cigna"))
        );
        assert!(inv.actor.can_manage);
        assert_eq!(inv.tenant.unwrap().external_id, "T0001");
        let mut old = payload.clone();
        old.actions[0].value = Some("legacy".into());
        assert!(button_invocation(&old, &Admins::default()).unwrap_err().user_message().contains("older version"));
    }

    #[test]
    fn generated_text_never_panics_and_keeps_plain_text() {
        // A small deterministic generator over the characters that matter to the parsers.
        let alphabet: Vec<char> = "<>|#@!&;amplgt:\"'\u{201C}\u{201D}\u{2019} /é漢xyz".chars().collect();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..5000 {
            let len = (next() % 40) as usize;
            let text: String = (0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect();
            let cleaned = clean_text(&text);
            if !text.contains(['<', '&', '\u{201C}', '\u{201D}', '\u{2019}']) {
                assert_eq!(cleaned, text);
            }
            // Whatever it is, running it gives a command or a user-facing error, never a panic.
            let _ = command_invocation(&slash("/raterise", &text, "U1"), &Admins::default());
            let _ = command_line_of("/rates", &text);
        }
    }

    #[test]
    fn admin_lists_take_commas_and_spaces() {
        let a = Admins::parse(" U1,U2  U3,,");
        assert_eq!(a.len(), 3);
        assert!(a.contains("U2") && !a.contains("U4") && !a.contains(""));
        assert!(Admins::parse("").is_empty());
    }
}
