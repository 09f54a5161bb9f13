//! A neutral `Reply` as Slack Block Kit messages, within every Block Kit limit.
//!
//! The title becomes a header block, text and notes mrkdwn sections, tables monospace ``` blocks
//! split between rows (header repeated), fields section fields, the footer a context block and
//! actions buttons whose `value` is the command line they run. A reply longer than one message
//! (50 blocks) becomes several, numbered in their headers; the buttons and footer go last.
//! Limits: https://api.slack.com/reference/block-kit/blocks

use super::convert::slack_command_names;
use crate::discord::render::{clip, split_text, table_blocks};
use raterise_commands::command_line;
use raterise_commands::reply::{Attachment, Block, Reply, Tone, Visibility};
use serde_json::{json, Value};

pub const HEADER_TEXT_LIMIT: usize = 150;
pub const SECTION_TEXT_LIMIT: usize = 3000;
pub const FIELD_TEXT_LIMIT: usize = 2000;
pub const FIELDS_PER_SECTION: usize = 10;
pub const CONTEXT_TEXT_LIMIT: usize = 3000;
pub const BUTTON_TEXT_LIMIT: usize = 75;
pub const BUTTON_VALUE_LIMIT: usize = 2000;
pub const ACTION_ID_LIMIT: usize = 255;
pub const ELEMENTS_PER_ACTIONS: usize = 25;
pub const BLOCKS_PER_MESSAGE: usize = 50;
/// Top-level `text` (the notification and screen-reader fallback); Slack truncates at 40,000.
pub const FALLBACK_TEXT_LIMIT: usize = 40_000;
/// Buttons' action ids start with this, followed by their position.
pub const ACTION_PREFIX: &str = "raterise-";

/// Our own cap for small print, so a long footer never crowds out the answer.
const FOOTER_CAP: usize = 1000;

/// One Slack message: its blocks and the plain fallback text.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub blocks: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub messages: Vec<Message>,
    pub ephemeral: bool,
    /// Files (drafts): uploaded through the Web API, which a slash-command response cannot carry.
    pub files: Vec<Attachment>,
}

impl Rendered {
    pub fn response_type(&self) -> &'static str {
        if self.ephemeral {
            "ephemeral"
        } else {
            "in_channel"
        }
    }

    /// The body of a slash-command response or a `response_url` post for message `i`.
    pub fn response_body(&self, i: usize) -> Value {
        let m = &self.messages[i];
        json!({"response_type": self.response_type(), "text": m.text, "blocks": m.blocks})
    }
}

fn count(s: &str) -> usize {
    s.chars().count()
}

/// Slack's mrkdwn control characters (https://api.slack.com/reference/surfaces/formatting#escaping).
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Handler text is written in Discord-flavoured markdown; Slack's bold is a single asterisk.
/// Commands are named as Slack users type them. Channel mentions (`<#C0123>`, the same syntax on
/// both platforms) stay mentions; every other `<`, `>` and `&` is escaped.
fn mrkdwn(text: &str) -> String {
    keep_channel_mentions(&escape(&slack_command_names(text))).replace("**", "*")
}

/// Turns `&lt;#ID&gt;` (an escaped mention of a channel id: letters and digits only) back into
/// `<#ID>`. Nothing else can become markup: `<!channel>`, links and user mentions stay escaped.
fn keep_channel_mentions(escaped: &str) -> String {
    const OPEN: &str = "&lt;#";
    const CLOSE: &str = "&gt;";
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped;
    while let Some(at) = rest.find(OPEN) {
        out.push_str(&rest[..at]);
        let after = &rest[at + OPEN.len()..];
        let id_len = after.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(after.len());
        if id_len > 0 && after[id_len..].starts_with(CLOSE) {
            out.push_str("<#");
            out.push_str(&after[..id_len]);
            out.push('>');
            rest = &after[id_len + CLOSE.len()..];
        } else {
            out.push_str(OPEN);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn section(text: String) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": text}})
}

/// Code blocks of at most `max` characters holding `content` verbatim (split between lines).
fn code_blocks(content: &str, max: usize) -> Vec<String> {
    let body = escape(content).replace("```", "'''");
    split_text(&body, max - 8).into_iter().map(|piece| format!("```\n{piece}\n```")).collect()
}

/// The content blocks of a reply, in order.
fn content_blocks(reply: &Reply) -> Vec<Value> {
    let mut out = Vec::new();
    for block in &reply.blocks {
        match block {
            Block::Text { text } => {
                out.extend(split_text(&mrkdwn(text), SECTION_TEXT_LIMIT).into_iter().map(section));
            }
            Block::Fields { fields } => {
                let mut pending: Vec<Value> = Vec::new();
                let flush = |pending: &mut Vec<Value>, out: &mut Vec<Value>| {
                    for chunk in pending.chunks(FIELDS_PER_SECTION) {
                        out.push(json!({"type": "section", "fields": chunk}));
                    }
                    pending.clear();
                };
                for f in fields {
                    let text = format!("*{}*\n{}", mrkdwn(&f.name), mrkdwn(&f.value));
                    if count(&text) <= FIELD_TEXT_LIMIT {
                        pending.push(json!({"type": "mrkdwn", "text": text}));
                    } else {
                        // Too long for a field: its own sections, in place.
                        flush(&mut pending, &mut out);
                        out.extend(split_text(&text, SECTION_TEXT_LIMIT).into_iter().map(section));
                    }
                }
                flush(&mut pending, &mut out);
            }
            Block::Table { table } => {
                let lines: Vec<String> = table.lines().iter().map(|l| escape(l)).collect();
                out.extend(table_blocks(&lines, SECTION_TEXT_LIMIT).into_iter().map(section));
            }
            Block::Notes { title, lines } => {
                let mut text = format!("*{}*", mrkdwn(title));
                for l in lines {
                    text.push_str("\n• ");
                    text.push_str(&mrkdwn(l));
                }
                out.extend(split_text(&text, SECTION_TEXT_LIMIT).into_iter().map(section));
            }
        }
    }
    out
}

/// A button for an action whose command line runs as it stands (no option left blank for the
/// user to fill in) and fits in a button value.
fn button(label: &str, line: &str) -> Option<(String, String)> {
    let parsed = command_line::parse(line).ok()?;
    if parsed.options.iter().any(|(_, v)| v.trim().is_empty()) {
        return None;
    }
    let line = line.trim();
    (count(line) <= BUTTON_VALUE_LIMIT).then(|| (clip(label, BUTTON_TEXT_LIMIT), line.to_string()))
}

fn actions_block(reply: &Reply) -> Option<Value> {
    let mut buttons: Vec<(String, String)> = Vec::new();
    for a in &reply.actions {
        if let Some(b) = button(&a.label, &a.command_line) {
            if !buttons.iter().any(|x| x.1 == b.1) && buttons.len() < ELEMENTS_PER_ACTIONS {
                buttons.push(b);
            }
        }
    }
    if buttons.is_empty() {
        return None;
    }
    let elements: Vec<Value> = buttons
        .into_iter()
        .enumerate()
        .map(|(i, (label, value))| {
            let mut b = json!({
                "type": "button",
                "action_id": format!("{ACTION_PREFIX}{i}"),
                "text": {"type": "plain_text", "text": label, "emoji": true},
                "value": value,
            });
            if i == 0 {
                b["style"] = json!("primary");
            }
            b
        })
        .collect();
    Some(json!({"type": "actions", "elements": elements}))
}

fn title_of(reply: &Reply) -> String {
    let title =
        if reply.title.trim().is_empty() { "raterise".to_string() } else { slack_command_names(reply.title.trim()) };
    match reply.tone {
        Tone::Warning | Tone::Error => format!(":warning: {title}"),
        Tone::Info | Tone::Success => title.to_string(),
    }
}

fn header(title: &str) -> Value {
    json!({"type": "header", "text": {"type": "plain_text", "text": title, "emoji": true}})
}

/// Packs content into messages of at most 50 blocks: a header on each, the footer and the
/// buttons on the last.
fn pack(reply: &Reply, content: Vec<Value>) -> Vec<Message> {
    let title = title_of(reply);
    let footer = reply.footer.as_deref().map(|f| {
        json!({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(&mrkdwn(f), FOOTER_CAP.min(CONTEXT_TEXT_LIMIT))}]})
    });
    let actions = actions_block(reply);
    let tail: Vec<Value> = footer.into_iter().chain(actions).collect();
    let per_message = BLOCKS_PER_MESSAGE - 1;
    let mut chunks: Vec<Vec<Value>> = content.chunks(per_message).map(|c| c.to_vec()).collect();
    match chunks.last_mut() {
        Some(last) if last.len() + tail.len() <= per_message => last.extend(tail),
        Some(_) => chunks.push(tail),
        None => chunks.push(tail),
    }
    let total = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, blocks)| {
            let page_title = if total > 1 {
                let suffix = format!(" ({}/{total})", i + 1);
                format!("{}{suffix}", clip(&title, HEADER_TEXT_LIMIT - count(&suffix)))
            } else {
                clip(&title, HEADER_TEXT_LIMIT)
            };
            let mut all = vec![header(&page_title)];
            all.extend(blocks);
            Message { text: clip(&page_title, FALLBACK_TEXT_LIMIT), blocks: all }
        })
        .collect()
}

/// Renders a reply; its files are left for the caller to upload.
pub fn render(reply: &Reply) -> Rendered {
    Rendered {
        messages: pack(reply, content_blocks(reply)),
        ephemeral: reply.visibility == Visibility::Private,
        files: reply.attachments.clone(),
    }
}

/// Renders a reply whose files cannot be uploaded: each file's text follows in code blocks, with
/// `why` said first.
pub fn render_with_inline_files(reply: &Reply, why: &str) -> Rendered {
    let mut content = content_blocks(reply);
    for f in &reply.attachments {
        content.push(section(clip(&format!("*{}*: {}", escape(&f.filename), mrkdwn(why)), SECTION_TEXT_LIMIT)));
        content.extend(code_blocks(&f.content, SECTION_TEXT_LIMIT).into_iter().map(section));
    }
    Rendered { messages: pack(reply, content), ephemeral: reply.visibility == Visibility::Private, files: Vec::new() }
}

/// Every Block Kit limit this renderer relies on, checked on a message body (a slash-command
/// response, a `response_url` post or a chat.postMessage `blocks` array). Empty when valid.
pub fn limit_violations(blocks: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    let text_len = |v: &Value| v.get("text").and_then(Value::as_str).map(count).unwrap_or(0);
    if blocks.len() > BLOCKS_PER_MESSAGE {
        out.push(format!("{} blocks (max {BLOCKS_PER_MESSAGE})", blocks.len()));
    }
    let mut action_ids = std::collections::HashSet::new();
    for (i, b) in blocks.iter().enumerate() {
        let kind = b.get("type").and_then(Value::as_str).unwrap_or("");
        match kind {
            "header" => {
                if b["text"]["type"] != "plain_text" || text_len(&b["text"]) > HEADER_TEXT_LIMIT {
                    out.push(format!("block {i}: header text must be plain_text of at most {HEADER_TEXT_LIMIT}"));
                }
            }
            "section" => {
                let has_text = b.get("text").is_some();
                let fields = b.get("fields").and_then(Value::as_array);
                if !has_text && fields.is_none() {
                    out.push(format!("block {i}: a section needs text or fields"));
                }
                if has_text && (text_len(&b["text"]) > SECTION_TEXT_LIMIT || text_len(&b["text"]) == 0) {
                    out.push(format!("block {i}: section text of {} characters", text_len(&b["text"])));
                }
                if let Some(f) = fields {
                    if f.len() > FIELDS_PER_SECTION || f.is_empty() {
                        out.push(format!("block {i}: {} fields", f.len()));
                    }
                    for field in f {
                        if text_len(field) > FIELD_TEXT_LIMIT || text_len(field) == 0 {
                            out.push(format!("block {i}: field of {} characters", text_len(field)));
                        }
                    }
                }
            }
            "context" => {
                let els = b.get("elements").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
                if els.is_empty() || els.len() > 10 || els.iter().any(|e| text_len(e) > CONTEXT_TEXT_LIMIT) {
                    out.push(format!("block {i}: context elements out of bounds"));
                }
            }
            "actions" => {
                let els = b.get("elements").and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[]);
                if els.is_empty() || els.len() > ELEMENTS_PER_ACTIONS {
                    out.push(format!("block {i}: {} action elements", els.len()));
                }
                for e in els {
                    let id = e.get("action_id").and_then(Value::as_str).unwrap_or("");
                    if id.is_empty() || count(id) > ACTION_ID_LIMIT || !action_ids.insert(id.to_string()) {
                        out.push(format!("block {i}: action_id `{id}` missing, too long or repeated"));
                    }
                    if text_len(&e["text"]) > BUTTON_TEXT_LIMIT || text_len(&e["text"]) == 0 {
                        out.push(format!("block {i}: button text of {} characters", text_len(&e["text"])));
                    }
                    if e.get("value").and_then(Value::as_str).map(count).unwrap_or(0) > BUTTON_VALUE_LIMIT {
                        out.push(format!("block {i}: button value over {BUTTON_VALUE_LIMIT}"));
                    }
                }
            }
            other => out.push(format!("block {i}: unexpected block type `{other}`")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use raterise_commands::reply::{Align, Table};

    fn assert_within_limits(r: &Rendered) {
        for m in &r.messages {
            let v = limit_violations(&m.blocks);
            assert!(v.is_empty(), "{v:?}");
            assert!(count(&m.text) <= FALLBACK_TEXT_LIMIT);
        }
    }

    fn big_table(rows: usize) -> Table {
        let mut t = Table::new(&[("Code", Align::Left), ("Payer", Align::Left), ("Rate", Align::Right)]);
        for i in 0..rows {
            t.push(vec![format!("{:05}", 90000 + i), format!("Payer {i} & Sons <west>"), format!("${i}.00")]);
        }
        t
    }

    /// The rows of every ``` table block of the messages, in order, header lines checked.
    fn table_rows(r: &Rendered) -> Vec<String> {
        let mut seen = Vec::new();
        for m in &r.messages {
            for b in &m.blocks {
                let Some(text) = b.pointer("/text/text").and_then(Value::as_str) else { continue };
                for block in text.split("```").skip(1).step_by(2) {
                    let lines: Vec<&str> = block.trim_matches('\n').lines().collect();
                    assert!(lines[0].starts_with("Code") && lines[1].starts_with("-----"), "{block}");
                    seen.extend(lines[2..].iter().map(|s| s.to_string()));
                }
            }
        }
        seen
    }

    #[test]
    fn long_tables_split_between_rows_across_sections_and_messages() {
        let t = big_table(4000);
        let want: Vec<String> = t.lines()[2..].iter().map(|l| escape(l)).collect();
        let reply =
            Reply::new("Everything").text("intro").table(t).footer("Medicare: CMS PFS 2026.").action("Help", "/help");
        let r = render(&reply);
        assert_within_limits(&r);
        assert!(r.messages.len() > 1, "4,000 rows need more than 50 blocks");
        assert_eq!(table_rows(&r), want, "every row once, whole, in order");
        for (i, m) in r.messages.iter().enumerate() {
            assert_eq!(m.blocks[0]["type"], "header");
            assert!(m.blocks[0]["text"]["text"].as_str().unwrap().ends_with(&format!(
                "({}/{})",
                i + 1,
                r.messages.len()
            )));
        }
        let last = &r.messages.last().unwrap().blocks;
        assert!(last.iter().any(|b| b["type"] == "context"));
        assert!(last.iter().any(|b| b["type"] == "actions"));
        assert!(r.messages[0].blocks.iter().all(|b| b["type"] != "context" && b["type"] != "actions"));
        assert!(!r.ephemeral && r.response_type() == "in_channel");
    }

    #[test]
    fn commands_are_named_as_slack_users_type_them_but_buttons_keep_their_command_line() {
        let reply = Reply::new("/rates")
            .text("No rates yet: add them with /rate set payer:Cigna cpt:90837 amount:118.50")
            .fields(vec![("/payer list".into(), "Your payers".into())])
            .footer("/help command:rates shows every option.")
            .action("Show history", "/rate history payer:Cigna");
        let r = render(&reply);
        assert_within_limits(&r);
        let blocks = serde_json::to_string(&r.messages[0].blocks).unwrap();
        for want in [
            "/raterise rates",
            "/raterise rate set payer:Cigna",
            "/raterise payer list",
            "/raterise help command:rates",
        ] {
            assert!(blocks.contains(want), "{want} missing in {blocks}");
        }
        let actions = r.messages[0].blocks.iter().find(|b| b["type"] == "actions").unwrap();
        assert_eq!(actions["elements"][0]["value"], "/rate history payer:Cigna", "a button runs the line as it is");
    }

    #[test]
    fn every_text_stays_within_its_limit() {
        let words = "word ".repeat(3000);
        let fields: Vec<(String, String)> = (0..23)
            .map(|i| (format!("Field {i}"), if i == 5 { "v".repeat(2500) } else { format!("value {i}") }))
            .collect();
        let reply = Reply::new("T".repeat(400))
            .text(words)
            .fields(fields)
            .notes("Flags", vec!["x".repeat(5000)])
            .footer("f".repeat(5000))
            .action("L".repeat(200), "/help");
        let r = render(&reply);
        assert_within_limits(&r);
        let blocks = &r.messages[0].blocks;
        assert_eq!(count(blocks[0]["text"]["text"].as_str().unwrap()), HEADER_TEXT_LIMIT);
        let all: String = r.messages.iter().flat_map(|m| m.blocks.iter()).map(|b| b.to_string()).collect();
        assert_eq!(all.matches("word").count(), 3000);
        // 22 short fields in sections of ten at most; the long one has its own section.
        let field_sections: Vec<usize> = blocks.iter().filter_map(|b| b["fields"].as_array().map(Vec::len)).collect();
        assert_eq!(field_sections, [5, 10, 7]);
        assert!(all.contains(&"v".repeat(2500)));
    }

    #[test]
    fn buttons_carry_runnable_command_lines() {
        let long = format!("/payer edit name:\"Blue Cross\" notes:\"{}\"", "n".repeat(300));
        let mut reply = Reply::new("x")
            .action("Rate history", "/rate history payer:Cigna")
            .action("Record a rate", "/rate set payer:Cigna cpt:90837 amount:")
            .action("Unknown", "/nosuch thing")
            .action("Edit", long.clone())
            .action("Dup", "/rate history payer:Cigna");
        for i in 0..40 {
            reply = reply.action(format!("Rates {i}"), format!("/rates payer:P{i}"));
        }
        let r = render(&reply);
        assert_within_limits(&r);
        let actions = r.messages[0].blocks.iter().find(|b| b["type"] == "actions").unwrap();
        let els = actions["elements"].as_array().unwrap();
        assert_eq!(els.len(), ELEMENTS_PER_ACTIONS);
        assert_eq!(els[0]["value"], "/rate history payer:Cigna");
        assert_eq!(els[0]["style"], "primary");
        assert_eq!(els[1]["value"], long.as_str(), "long lines fit whole in a Slack value");
        for e in els {
            command_line::parse(e["value"].as_str().unwrap()).expect("every button value parses");
        }
    }

    #[test]
    fn channel_mentions_stay_mentions_and_nothing_else_becomes_markup() {
        let reply = Reply::new("x")
            .text("Reminders are posted in <#C0123ABC>.")
            .fields(vec![("Reminder channel".into(), "<#C0123ABC>".into())])
            .text("<!channel> <@U1> <#C1|x> <# C2> <#> &lt;#C3&gt; <#C4");
        let blocks = render(&reply).messages[0].blocks.clone();
        let all = blocks.iter().map(|b| b.to_string()).collect::<String>();
        assert!(all.contains("Reminders are posted in <#C0123ABC>."), "{all}");
        assert!(all.contains("*Reminder channel*\\n<#C0123ABC>"), "{all}");
        assert!(
            all.contains(
                "&lt;!channel&gt; &lt;@U1&gt; &lt;#C1|x&gt; &lt;# C2&gt; &lt;#&gt; &amp;lt;#C3&amp;gt; &lt;#C4"
            ),
            "{all}"
        );
    }

    #[test]
    fn visibility_escaping_and_inline_files() {
        let reply =
            Reply::error("a <b> & **c**").attach("request.eml", "message/rfc822", "Dear <payer>,\n```x```\nThanks");
        let r = render(&reply);
        assert!(r.ephemeral && r.response_type() == "ephemeral");
        assert_eq!(r.files.len(), 1);
        let body = r.response_body(0);
        assert_eq!(body["response_type"], "ephemeral");
        assert!(body["blocks"][0]["text"]["text"].as_str().unwrap().starts_with(":warning:"));
        assert_eq!(body["blocks"][1]["text"]["text"], "a &lt;b&gt; &amp; *c*");
        let inline = render_with_inline_files(&reply, "the file could not be attached; its text follows");
        assert!(inline.files.is_empty());
        let text: Vec<String> = inline.messages[0]
            .blocks
            .iter()
            .filter_map(|b| b.pointer("/text/text"))
            .map(|t| t.as_str().unwrap().to_string())
            .collect();
        assert!(text.iter().any(|t| t.contains("request.eml") && t.contains("could not be attached")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("```\nDear &lt;payer&gt;,\n'''x'''\nThanks\n```")), "{text:?}");
        let long =
            render_with_inline_files(&Reply::new("d").attach("a.txt", "text/plain", "line\n".repeat(2000)), "why");
        assert_within_limits(&long);
        let empty = render(&Reply::new(""));
        assert_eq!(empty.messages.len(), 1);
        assert_eq!(empty.messages[0].blocks, vec![header("raterise")]);
    }
}
