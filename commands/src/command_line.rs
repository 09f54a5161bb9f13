//! Parses a command line in Discord's own notation, as typed into the console or a Slack slash
//! command: `/command subcommand option:value option:"two words"`, where the leading options may
//! be given by position in catalogue order (`/rates cigna`).

use crate::catalog::{self, CommandSpec, OptionSpec};
use crate::error::AppError;
use crate::suggest::closest;

#[derive(Debug, Clone)]
pub struct ParsedLine {
    pub command: &'static CommandSpec,
    pub subcommand: Option<String>,
    pub options: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// `name:value` (value may have been quoted).
    Named(String, String),
    /// A bare or quoted value.
    Bare { text: String, quoted: bool },
}

fn tokenize(line: &str) -> Result<Vec<Token>, AppError> {
    let mut tokens = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        if first == '"' || first == '\'' {
            chars.next();
            let text = read_quoted(&mut chars, first)?;
            tokens.push(Token::Bare { text, quoted: true });
            continue;
        }
        let mut word = String::new();
        let mut named = None;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            if c == ':' && named.is_none() && is_option_name(&word) {
                chars.next();
                let name = std::mem::take(&mut word);
                let value = match chars.peek() {
                    Some(&q) if q == '"' || q == '\'' => {
                        chars.next();
                        read_quoted(&mut chars, q)?
                    }
                    _ => {
                        let mut v = String::new();
                        while let Some(&c) = chars.peek() {
                            if c.is_whitespace() {
                                break;
                            }
                            if c == '"' {
                                return Err(unbalanced());
                            }
                            v.push(c);
                            chars.next();
                        }
                        v
                    }
                };
                named = Some((name, value));
                break;
            }
            if c == '"' {
                return Err(unbalanced());
            }
            word.push(c);
            chars.next();
        }
        match named {
            Some((n, v)) => tokens.push(Token::Named(n, v)),
            None => tokens.push(Token::Bare { text: word, quoted: false }),
        }
    }
    Ok(tokens)
}

fn is_option_name(word: &str) -> bool {
    !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && word.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

fn unbalanced() -> AppError {
    AppError::user("A quote is not closed; put values with spaces in matching quotes, like name:\"Blue Cross\"")
}

fn read_quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, quote: char) -> Result<String, AppError> {
    let mut out = String::new();
    loop {
        match chars.next() {
            None => return Err(unbalanced()),
            Some('\\') => match chars.next() {
                Some(c) => out.push(c),
                None => return Err(unbalanced()),
            },
            Some(c) if c == quote => {
                if chars.peek().is_some_and(|c| !c.is_whitespace()) {
                    return Err(AppError::user(
                        "Put a space after a closing quote before the next option, like name:\"Blue Cross\" kind:commercial",
                    ));
                }
                return Ok(out);
            }
            Some(c) => out.push(c),
        }
    }
}

/// One option value written so that [`parse`] reads back exactly the same text: bare when it
/// can be, otherwise in double quotes with `"` and `\` escaped. Every command line the bot
/// builds (buttons, reminders, suggested next steps) quotes what it interpolates through here, so
/// a payer named `Aetna" note:"x` stays one value instead of becoming another option.
pub fn quote(value: &str) -> String {
    let bare = !value.is_empty()
        && !value.starts_with('\'')
        && !value.contains(|c: char| c.is_whitespace() || c == '"' || c == '\\');
    if bare {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// A whole command line, `/command sub name:value ...`, each value through [`quote`].
pub fn write<K: AsRef<str>, V: AsRef<str>>(command: &str, sub: Option<&str>, options: &[(K, V)]) -> String {
    let mut s = format!("/{command}");
    if let Some(sub) = sub {
        s.push(' ');
        s.push_str(sub);
    }
    for (k, v) in options {
        s.push(' ');
        s.push_str(k.as_ref());
        s.push(':');
        s.push_str(&quote(v.as_ref()));
    }
    s
}

pub fn parse(line: &str) -> Result<ParsedLine, AppError> {
    let line = line.trim();
    let Some(rest) = line.strip_prefix('/') else {
        return Err(AppError::user(format!(
            "Commands start with a slash, for example /rates cigna; try /help for the list (you typed `{}`)",
            first_word(line)
        )));
    };
    let (name, rest) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let command = catalog::command(name).ok_or_else(|| {
        let names = catalog::CATALOG.iter().map(|c| c.name);
        let near = closest(name, names, 3);
        AppError::user(format!(
            "There is no /{name} command; did you mean {}? /help lists them all",
            near.iter().map(|n| format!("/{n}")).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let mut tokens = tokenize(rest)?.into_iter().peekable();

    let mut subcommand = None;
    let options: &[OptionSpec] = if command.subcommands.is_empty() {
        command.options
    } else {
        let valid = command.subcommands.iter().map(|s| s.name).collect::<Vec<_>>().join(", ");
        match tokens.next() {
            Some(Token::Bare { text, quoted: false }) => {
                let sub = command
                    .subcommand(&text)
                    .ok_or_else(|| AppError::user(format!("/{} has no `{text}`; use one of: {valid}", command.name)))?;
                subcommand = Some(sub.name.to_string());
                sub.options
            }
            _ => {
                return Err(AppError::user(format!(
                    "/{} needs one of: {valid} (for example /{} {})",
                    command.name, command.name, command.subcommands[0].name
                )))
            }
        }
    };

    let mut values: Vec<(String, String)> = Vec::new();
    let mut positional = Vec::new();
    for t in tokens {
        match t {
            Token::Named(name, value) => {
                let spec = options.iter().find(|o| o.name.eq_ignore_ascii_case(&name));
                let Some(spec) = spec else {
                    let usage = usage_options(options);
                    return Err(AppError::user(if options.is_empty() {
                        format!("`{name}` is not an option here: this command takes no options")
                    } else {
                        format!("`{name}` is not an option here; this command takes: {usage}")
                    }));
                };
                if values.iter().any(|(n, _)| n == spec.name) {
                    return Err(AppError::user(format!("`{}` is given twice; give it once", spec.name)));
                }
                values.push((spec.name.to_string(), value));
            }
            Token::Bare { text, .. } => positional.push(text),
        }
    }
    // Leading options by position, in catalogue order, skipping those given by name.
    let named: Vec<String> = values.iter().map(|(n, _)| n.clone()).collect();
    let mut free = options.iter().filter(|o| !named.iter().any(|n| n == o.name));
    let positional_count = positional.len();
    for value in positional {
        match free.next() {
            Some(spec) => values.push((spec.name.to_string(), value)),
            None => {
                return Err(AppError::user(format!(
                    "Too many values ({positional_count}) for this command; name them, like {}",
                    usage_options(options)
                )))
            }
        }
    }
    // An option given with nothing after the colon (`kind:`) is as missing as one left out.
    for o in options.iter().filter(|o| o.required) {
        if !values.iter().any(|(n, v)| n == o.name && !v.trim().is_empty()) {
            return Err(AppError::user(format!(
                "`{}` is missing ({}); for example: {}",
                o.name,
                o.description,
                example_line(command, subcommand.as_deref(), options)
            )));
        }
    }
    Ok(ParsedLine { command, subcommand, options: values })
}

fn first_word(s: &str) -> &str {
    s.split_whitespace().next().unwrap_or("")
}

fn usage_options(options: &[OptionSpec]) -> String {
    options.iter().map(|o| format!("{}:…", o.name)).collect::<Vec<_>>().join(" ")
}

fn example_line(command: &CommandSpec, sub: Option<&str>, options: &[OptionSpec]) -> String {
    let mut s = format!("/{}", command.name);
    if let Some(sub) = sub {
        s.push(' ');
        s.push_str(sub);
    }
    for o in options.iter().filter(|o| o.required) {
        s.push_str(&format!(" {}:…", o.name));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> ParsedLine {
        parse(line).unwrap_or_else(|e| panic!("{line}: {}", e.user_message()))
    }

    #[test]
    fn positional_options_follow_catalogue_order() {
        let l = p("/rates cigna");
        assert_eq!(l.command.name, "rates");
        assert_eq!(l.options, vec![("payer".to_string(), "cigna".to_string())]);
        let l = p("/impact cigna 8%");
        assert_eq!(l.options[1], ("increase".to_string(), "8%".to_string()));
    }

    #[test]
    fn named_and_quoted_values() {
        let l = p(r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#);
        assert_eq!(l.options[0], ("locality".into(), "MANHATTAN, NY".into()));
        assert_eq!(l.options[1], ("credential".into(), "lcsw".into()));
        let l = p(r#"/payer add name:"Blue Cross" kind:commercial renewal:2027-03-01"#);
        assert_eq!(l.subcommand.as_deref(), Some("add"));
        assert_eq!(l.options[0].1, "Blue Cross");
    }

    #[test]
    fn named_options_free_positions_for_the_rest() {
        let l = p("/rate set cpt:90837 cigna 118.50");
        assert_eq!(
            l.options,
            vec![("cpt".into(), "90837".into()), ("payer".into(), "cigna".into()), ("amount".into(), "118.50".into())]
        );
    }

    #[test]
    fn errors_say_what_would_be_right() {
        let e = |l: &str| parse(l).unwrap_err().user_message();
        assert!(e("/rate set payer:\"Cigna cpt:90837").contains("quote"));
        assert!(e("/rats cigna").contains("/rates"));
        assert!(e("/rates cigna colour:blue").contains("payer:"));
        assert!(e("/payer frobnicate").contains("add, edit, list, remove"));
        assert!(e("/payer").contains("add"));
        assert!(e("/rate set payer:cigna").contains("cpt"));
        assert!(e("rates cigna").contains("slash"));
        assert!(e("/rates a b c d e").contains("Too many"));
        assert!(e("/rates payer:a payer:b").contains("twice"));
    }

    #[test]
    fn colons_inside_quoted_or_url_values_are_kept() {
        let l = p(r#"/payer edit cigna notes:"Call: ask for Dana" contact_email:a@b.com"#);
        let get = |k: &str| l.options.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("notes"), Some("Call: ask for Dana"));
        assert_eq!(get("contact_email"), Some("a@b.com"));
        assert_eq!(get("name"), Some("cigna"));
    }
}
