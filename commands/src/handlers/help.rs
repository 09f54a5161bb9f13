//! /help: generated from the catalogue, so it can never disagree with what the bot accepts.

use super::Outcome;
use crate::catalog::{self, CommandSpec, OptionKind, OptionSpec};
use crate::error::AppError;
use crate::invocation::Invocation;
use crate::reply::Reply;
use crate::suggest::closest;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct HelpEntry {
    pub usage: String,
    pub description: String,
    pub options: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HelpPage {
    pub topic: Option<String>,
    pub entries: Vec<HelpEntry>,
}

fn option_line(o: &OptionSpec) -> String {
    let values = match o.kind {
        OptionKind::Choice(c) => format!(" [{}]", catalog::choice_values(c).join("|")),
        _ => String::new(),
    };
    format!("{}{}: {}{}", o.name, if o.required { "" } else { " (optional)" }, o.description, values)
}

fn usage(c: &CommandSpec, sub: Option<&str>, options: &[OptionSpec]) -> String {
    let mut s = format!("/{}", c.name);
    if let Some(sub) = sub {
        s.push(' ');
        s.push_str(sub);
    }
    for o in options {
        if o.required {
            s.push_str(&format!(" {}:…", o.name));
        } else {
            s.push_str(&format!(" [{}:…]", o.name));
        }
    }
    s
}

fn entries_of(c: &CommandSpec, detailed: bool) -> Vec<HelpEntry> {
    if c.subcommands.is_empty() {
        return vec![HelpEntry {
            usage: usage(c, None, c.options),
            description: c.description.to_string(),
            options: if detailed { c.options.iter().map(option_line).collect() } else { vec![] },
        }];
    }
    c.subcommands
        .iter()
        .map(|s| HelpEntry {
            usage: usage(c, Some(s.name), s.options),
            description: s.description.to_string(),
            options: if detailed { s.options.iter().map(option_line).collect() } else { vec![] },
        })
        .collect()
}

pub fn run(inv: &Invocation) -> Result<Outcome, AppError> {
    match inv.opt("command") {
        None => Ok(Outcome::Help(HelpPage {
            topic: None,
            entries: catalog::CATALOG.iter().flat_map(|c| entries_of(c, false)).collect(),
        })),
        Some(topic) => {
            let c = catalog::command(topic).ok_or_else(|| {
                let near = closest(topic.trim_start_matches('/'), catalog::CATALOG.iter().map(|c| c.name), 3);
                AppError::user(format!(
                    "There is no /{} command; did you mean /{}?",
                    topic.trim_start_matches('/'),
                    near.join(", /")
                ))
            })?;
            Ok(Outcome::Help(HelpPage { topic: Some(c.name.to_string()), entries: entries_of(c, true) }))
        }
    }
}

impl HelpPage {
    pub fn reply(&self) -> Reply {
        let title = match &self.topic {
            Some(t) => format!("/{t}"),
            None => "raterise: commands".to_string(),
        };
        let mut r = Reply::new(title).private();
        if self.topic.is_none() {
            r = r.text("Keep your payers and contracted rates, compare them with Medicare and the market, and get the next step. Options go as name:value; the first ones can go by position (/rates cigna).");
        }
        for e in &self.entries {
            let mut body = e.description.clone();
            for o in &e.options {
                body.push_str("\n  ");
                body.push_str(o);
            }
            r = r.fields(vec![(e.usage.clone(), body)]);
        }
        if self.topic.is_none() {
            r = r.footer("/help command:rates shows one command with all its options.");
        }
        r
    }
}
