//! serenity's `Interaction` model into the neutral `Invocation`: the same for the gateway and the
//! HTTP endpoint. The tenant is the guild; a DM has none.

use raterise_commands::catalog::{self, OptionKind};
use raterise_commands::{Actor, AppError, Invocation, Platform, Tenant};
use serenity::model::application::{
    CommandDataOption, CommandDataOptionValue, CommandDataResolved, CommandInteraction, ComponentInteraction,
};
use serenity::model::guild::Member;
use serenity::model::id::GuildId;
use serenity::model::user::User;

pub fn tenant_of(guild_id: Option<GuildId>) -> Option<Tenant> {
    guild_id.map(|g| Tenant { platform: Platform::Discord, external_id: g.get().to_string() })
}

/// Who pressed or typed: Manage Server (or Administrator) may change data; roles are checked
/// against the practice's manager role by dispatch.
pub fn actor_of(member: Option<&Member>, user: &User) -> Actor {
    let user = member.map(|m| &m.user).unwrap_or(user);
    let name = user.global_name.clone().unwrap_or_else(|| user.name.clone());
    let can_manage = member.and_then(|m| m.permissions).map(|p| p.manage_guild() || p.administrator()).unwrap_or(false);
    let roles = member.map(|m| m.roles.iter().map(|r| r.get().to_string()).collect()).unwrap_or_default();
    Actor { id: user.id.get().to_string(), name, can_manage, roles }
}

fn option_value(value: &CommandDataOptionValue, resolved: &CommandDataResolved) -> Option<String> {
    Some(match value {
        // The handler gets the file's URL on Discord's CDN; the fetcher checks the host.
        CommandDataOptionValue::Attachment(id) => resolved.attachments.get(id)?.url.clone(),
        CommandDataOptionValue::String(s) => s.clone(),
        CommandDataOptionValue::Integer(i) => i.to_string(),
        CommandDataOptionValue::Number(n) => n.to_string(),
        CommandDataOptionValue::Boolean(b) => b.to_string(),
        CommandDataOptionValue::Channel(c) => c.get().to_string(),
        CommandDataOptionValue::Role(r) => r.get().to_string(),
        CommandDataOptionValue::User(u) => u.get().to_string(),
        CommandDataOptionValue::Mentionable(m) => m.get().to_string(),
        CommandDataOptionValue::Autocomplete { value, .. } => value.clone(),
        _ => return None,
    })
}

/// The subcommand (if any) and the flat option values.
fn flatten(options: &[CommandDataOption], resolved: &CommandDataResolved) -> (Option<String>, Vec<(String, String)>) {
    if let Some(first) = options.first() {
        if let CommandDataOptionValue::SubCommand(inner) = &first.value {
            return (Some(first.name.clone()), flatten(inner, resolved).1);
        }
        if let CommandDataOptionValue::SubCommandGroup(inner) = &first.value {
            let (sub, opts) = flatten(inner, resolved);
            let name = match sub {
                Some(s) => format!("{} {s}", first.name),
                None => first.name.clone(),
            };
            return (Some(name), opts);
        }
    }
    (None, options.iter().filter_map(|o| option_value(&o.value, resolved).map(|v| (o.name.clone(), v))).collect())
}

pub fn command_invocation(cmd: &CommandInteraction) -> Invocation {
    let (subcommand, options) = flatten(&cmd.data.options, &cmd.data.resolved);
    Invocation {
        tenant: tenant_of(cmd.guild_id),
        actor: actor_of(cmd.member.as_deref(), &cmd.user),
        channel_id: Some(cmd.channel_id.get().to_string()),
        command: cmd.data.name.clone(),
        subcommand,
        options,
        tenant_name: None,
    }
}

/// A button press: its custom id is the command line to run, as the presser.
pub fn component_invocation(c: &ComponentInteraction) -> Result<Invocation, AppError> {
    let custom_id = c.data.custom_id.as_str();
    if !custom_id.starts_with('/') {
        return Err(AppError::user("This button belongs to an older version of raterise; run the command again."));
    }
    let actor = actor_of(c.member.as_ref(), &c.user);
    Invocation::from_line(custom_id, tenant_of(c.guild_id), actor, Some(c.channel_id.get().to_string()))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutocompleteRequest {
    pub tenant: Option<Tenant>,
    pub option: String,
    pub kind: OptionKind,
    pub partial: String,
}

/// Which option the user is typing into, what kind it is in the catalogue, and the text so far.
pub fn autocomplete_request(cmd: &CommandInteraction) -> Option<AutocompleteRequest> {
    let focused = cmd.data.autocomplete()?;
    let spec = catalog::command(&cmd.data.name)?;
    let sub = match cmd.data.options.first().map(|o| (&o.name, &o.value)) {
        Some((name, CommandDataOptionValue::SubCommand(_))) => Some(spec.subcommand(name)?),
        _ => None,
    };
    let option = catalog::options_of(spec, sub).iter().find(|o| o.name == focused.name)?;
    Some(AutocompleteRequest {
        tenant: tenant_of(cmd.guild_id),
        option: option.name.to_string(),
        kind: option.kind,
        partial: focused.value.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use serenity::model::application::Interaction;

    fn member(permissions: &str, roles: &[&str]) -> serde_json::Value {
        json!({
            "user": {"id": "80351110224678912", "username": "dana", "global_name": "Dana W", "discriminator": "0", "avatar": null},
            "roles": roles, "joined_at": "2024-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false,
            "flags": 0, "permissions": permissions, "nick": null, "avatar": null, "pending": false
        })
    }

    fn command(guild: Option<&str>, data: serde_json::Value, member_json: Option<serde_json::Value>) -> Interaction {
        serde_json::from_value(raw(2, guild, data, member_json)).expect("real-shaped interaction deserializes")
    }

    fn raw(
        kind: u8,
        guild: Option<&str>,
        data: serde_json::Value,
        member_json: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let mut v = json!({
            "id": "1290000000000000001", "application_id": "1200000000000000000", "type": kind,
            "data": data, "channel_id": "1100000000000000009",
            "channel": {"id": "1100000000000000009", "type": 0, "name": "rates"},
            "token": "aW50ZXJhY3Rpb24tdG9rZW4", "version": 1, "app_permissions": "2248473465835073",
            "locale": "en-US", "entitlements": [], "authorizing_integration_owners": {"0": "1000000000000000001"},
            "context": 0, "attachment_size_limit": 10485760
        });
        match (guild, member_json) {
            (Some(g), Some(m)) => {
                v["guild_id"] = json!(g);
                v["guild_locale"] = json!("en-US");
                v["member"] = m;
            }
            _ => {
                v["user"] = json!({"id": "80351110224678912", "username": "dana", "discriminator": "0", "avatar": null, "global_name": null});
                v["context"] = json!(1);
            }
        }
        v
    }

    #[test]
    fn guild_command_with_subcommand_becomes_an_invocation() {
        let data = json!({"id": "1300000000000000001", "name": "rate", "type": 1, "options": [
            {"name": "set", "type": 1, "options": [
                {"name": "payer", "type": 3, "value": "Blue Cross"},
                {"name": "cpt", "type": 3, "value": "90837"},
                {"name": "amount", "type": 3, "value": "118.50"}
            ]}
        ]});
        // MANAGE_GUILD is bit 5 (32).
        let Interaction::Command(cmd) =
            command(Some("1000000000000000001"), data, Some(member("32", &["1400000000000000002"])))
        else {
            panic!("not a command")
        };
        let inv = command_invocation(&cmd);
        assert_eq!(inv.tenant, Some(Tenant { platform: Platform::Discord, external_id: "1000000000000000001".into() }));
        assert_eq!(inv.command, "rate");
        assert_eq!(inv.subcommand.as_deref(), Some("set"));
        assert_eq!(inv.opt("payer"), Some("Blue Cross"));
        assert_eq!(inv.opt("amount"), Some("118.50"));
        assert_eq!(inv.channel_id.as_deref(), Some("1100000000000000009"));
        assert!(inv.actor.can_manage);
        assert_eq!(inv.actor.roles, ["1400000000000000002"]);
        assert_eq!(inv.actor.name, "Dana W");
        assert_eq!(inv.actor.id, "80351110224678912");
    }

    #[test]
    fn typed_options_and_permissions() {
        let data = json!({"id": "1300000000000000002", "name": "setup", "type": 1, "options": [
            {"name": "channel", "type": 7, "value": "1100000000000000010"},
            {"name": "manager_role", "type": 8, "value": "1400000000000000003"},
            {"name": "credential", "type": 3, "value": "lcsw"}
        ], "resolved": {}});
        // SEND_MESSAGES | VIEW_CHANNEL only: a plain member.
        let Interaction::Command(cmd) = command(Some("1000000000000000001"), data.clone(), Some(member("3072", &[])))
        else {
            panic!()
        };
        let inv = command_invocation(&cmd);
        assert!(!inv.actor.can_manage);
        assert_eq!(inv.opt("channel"), Some("1100000000000000010"));
        assert_eq!(inv.opt("manager_role"), Some("1400000000000000003"));
        // ADMINISTRATOR (bit 3) counts as managing.
        let Interaction::Command(cmd) = command(Some("1000000000000000001"), data, Some(member("8", &[]))) else {
            panic!()
        };
        assert!(command_invocation(&cmd).actor.can_manage);
    }

    #[test]
    fn direct_messages_have_no_tenant() {
        let data = json!({"id": "1300000000000000003", "name": "rates", "type": 1, "options": [
            {"name": "payer", "type": 3, "value": "cigna"}, {"name": "year", "type": 4, "value": 2026}
        ]});
        let Interaction::Command(cmd) = command(None, data, None) else { panic!() };
        let inv = command_invocation(&cmd);
        assert_eq!(inv.tenant, None);
        assert!(!inv.actor.can_manage);
        assert_eq!(inv.opt("year"), Some("2026"));
        assert!(inv.tenant().unwrap_err().user_message().contains("practice's server"));
    }

    #[test]
    fn autocomplete_finds_the_focused_option_and_its_kind() {
        let data = json!({"id": "1300000000000000004", "name": "rate", "type": 1, "options": [
            {"name": "set", "type": 1, "options": [
                {"name": "payer", "type": 3, "value": "Cigna"},
                {"name": "cpt", "type": 3, "value": "908", "focused": true}
            ]}
        ]});
        let v = raw(4, Some("1000000000000000001"), data, Some(member("0", &[])));
        let Interaction::Autocomplete(ac) = serde_json::from_value::<Interaction>(v).unwrap() else { panic!() };
        let req = autocomplete_request(&ac).unwrap();
        assert_eq!(req.option, "cpt");
        assert_eq!(req.kind, OptionKind::Cpt);
        assert_eq!(req.partial, "908");
        assert_eq!(req.tenant.unwrap().external_id, "1000000000000000001");
    }
}
