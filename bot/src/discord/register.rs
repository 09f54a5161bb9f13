//! The catalogue as Discord application commands: subcommands, typed options, fixed choices and
//! autocomplete. No command is hidden by `default_member_permissions`: reading stays open to
//! every member, and dispatch refuses changes to those without Manage Server or the practice's
//! manager role.

use raterise_commands::catalog::{self, CommandSpec, OptionKind, OptionSpec};
use serenity::builder::{CreateCommand, CreateCommandOption};
use serenity::http::Http;
use serenity::model::application::{Command, CommandOptionType};
use serenity::model::channel::ChannelType;
use serenity::model::id::GuildId;

fn option(spec: &OptionSpec) -> CreateCommandOption {
    let kind = match spec.kind {
        OptionKind::Integer => CommandOptionType::Integer,
        OptionKind::Boolean => CommandOptionType::Boolean,
        OptionKind::Channel => CommandOptionType::Channel,
        OptionKind::Role => CommandOptionType::Role,
        OptionKind::Attachment => CommandOptionType::Attachment,
        // Money and dates stay text so "118.50" and "2027-03-01" arrive exactly as typed.
        OptionKind::Text
        | OptionKind::Money
        | OptionKind::Date
        | OptionKind::Choice(_)
        | OptionKind::Payer
        | OptionKind::Cpt
        | OptionKind::Locality => CommandOptionType::String,
    };
    let mut o = CreateCommandOption::new(kind, spec.name, spec.description).required(spec.required);
    match spec.kind {
        OptionKind::Choice(choices) => {
            for (value, label) in choices.iter().take(25) {
                o = o.add_string_choice(*label, *value);
            }
        }
        k if k.autocompletes() => o = o.set_autocomplete(true),
        OptionKind::Channel => {
            o = o.channel_types(vec![ChannelType::Text, ChannelType::News, ChannelType::PublicThread]);
        }
        _ => {}
    }
    o
}

pub fn command(spec: &CommandSpec) -> CreateCommand {
    let mut c = CreateCommand::new(spec.name).description(spec.description);
    if spec.subcommands.is_empty() {
        c = c.set_options(spec.options.iter().map(option).collect());
    } else {
        c = c.set_options(
            spec.subcommands
                .iter()
                .map(|s| {
                    let mut sub = CreateCommandOption::new(CommandOptionType::SubCommand, s.name, s.description);
                    for o in s.options {
                        sub = sub.add_sub_option(option(o));
                    }
                    sub
                })
                .collect(),
        );
    }
    c
}

/// Every command of the catalogue.
pub fn commands() -> Vec<CreateCommand> {
    catalog::CATALOG.iter().map(command).collect()
}

/// Overwrites the application's commands: in one guild (instant, for testing) or globally.
/// Returns how many Discord now has.
pub async fn register(http: &Http, guild: Option<GuildId>) -> serenity::Result<usize> {
    let registered = match guild {
        Some(g) => g.set_commands(http, commands()).await?,
        None => Command::set_global_commands(http, commands()).await?,
    };
    Ok(registered.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_serializes_with_its_options() {
        let json = serde_json::to_value(commands()).unwrap();
        let list = json.as_array().unwrap();
        assert_eq!(list.len(), catalog::CATALOG.len());
        let rates = list.iter().find(|c| c["name"] == "rates").unwrap();
        let payer = &rates["options"][0];
        assert_eq!(payer["name"], "payer");
        assert_eq!(payer["type"], 3);
        assert_eq!(payer["autocomplete"], true);
        let credential = &rates["options"][1];
        assert!(credential["choices"].as_array().unwrap().iter().any(|c| c["value"] == "lcsw"));
        let payer_cmd = list.iter().find(|c| c["name"] == "payer").unwrap();
        let add = payer_cmd["options"].as_array().unwrap().iter().find(|o| o["name"] == "add").unwrap();
        assert_eq!(add["type"], 1);
        assert_eq!(add["options"][0]["required"], true);
        assert!(list.iter().all(|c| c.get("default_member_permissions").is_none()));
    }
}
