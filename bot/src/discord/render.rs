//! A neutral `Reply` as Discord messages: embeds, buttons and files, within every Discord limit.
//!
//! Blocks become markdown segments (tables in ``` monospace blocks), segments are packed into
//! embed descriptions, embeds into messages ("pages"). A table too long for one segment is split
//! between rows with its header repeated; a reply too long for one message becomes several.

use raterise_commands::command_line;
use raterise_commands::reply::{Attachment, Block, Reply, Tone, Visibility};
use serenity::builder::{
    CreateActionRow, CreateButton, CreateEmbed, CreateEmbedFooter, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, CreateMessage, EditInteractionResponse,
};
use serenity::model::application::ButtonStyle;
use serenity::model::channel::MessageFlags;

/// Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits).
pub const CONTENT_LIMIT: usize = 2000;
pub const EMBED_TITLE_LIMIT: usize = 256;
pub const EMBED_DESCRIPTION_LIMIT: usize = 4096;
pub const EMBED_FOOTER_LIMIT: usize = 2048;
pub const EMBEDS_PER_MESSAGE: usize = 10;
/// Title, description, fields, footer and author of all embeds of one message together.
pub const EMBED_TOTAL_LIMIT: usize = 6000;
pub const CUSTOM_ID_LIMIT: usize = 100;
pub const BUTTON_LABEL_LIMIT: usize = 80;
pub const BUTTONS_PER_ROW: usize = 5;
pub const ROWS_PER_MESSAGE: usize = 5;
pub const ATTACHMENTS_PER_MESSAGE: usize = 10;

/// Our own cap for small print, so a long footer can never crowd out the answer.
const FOOTER_CAP: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Embed {
    pub title: Option<String>,
    pub description: Option<String>,
    pub color: u32,
    pub footer: Option<String>,
}

impl Embed {
    /// Characters that count towards the 6,000 per message.
    pub fn chars(&self) -> usize {
        [&self.title, &self.description, &self.footer]
            .iter()
            .filter_map(|s| s.as_ref())
            .map(|s| s.chars().count())
            .sum()
    }

    fn builder(&self) -> CreateEmbed {
        let mut e = CreateEmbed::new().color(self.color);
        if let Some(t) = &self.title {
            e = e.title(t);
        }
        if let Some(d) = &self.description {
            e = e.description(d);
        }
        if let Some(f) = &self.footer {
            e = e.footer(CreateEmbedFooter::new(f));
        }
        e
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub label: String,
    /// The command line the button runs.
    pub custom_id: String,
}

/// One Discord message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub embeds: Vec<Embed>,
    pub buttons: Vec<Button>,
}

impl Page {
    pub fn embed_builders(&self) -> Vec<CreateEmbed> {
        self.embeds.iter().map(Embed::builder).collect()
    }

    pub fn components(&self) -> Vec<CreateActionRow> {
        self.buttons
            .chunks(BUTTONS_PER_ROW)
            .take(ROWS_PER_MESSAGE)
            .enumerate()
            .map(|(row, chunk)| {
                CreateActionRow::Buttons(
                    chunk
                        .iter()
                        .enumerate()
                        .map(|(i, b)| {
                            let style = if row == 0 && i == 0 { ButtonStyle::Primary } else { ButtonStyle::Secondary };
                            CreateButton::new(b.custom_id.clone()).label(b.label.clone()).style(style)
                        })
                        .collect(),
                )
            })
            .collect()
    }

    /// The body of an interaction response of type 4 or 5.
    pub fn response_message(&self, ephemeral: bool) -> CreateInteractionResponseMessage {
        CreateInteractionResponseMessage::new()
            .embeds(self.embed_builders())
            .components(self.components())
            .ephemeral(ephemeral)
    }

    /// The body of PATCH .../messages/@original (its ephemeral state was fixed by the deferral).
    pub fn edit(&self) -> EditInteractionResponse {
        EditInteractionResponse::new().embeds(self.embed_builders()).components(self.components())
    }

    /// The body of a follow-up message (POST /webhooks/{application}/{token}).
    pub fn followup(&self, ephemeral: bool) -> CreateInteractionResponseFollowup {
        CreateInteractionResponseFollowup::new()
            .embeds(self.embed_builders())
            .components(self.components())
            .ephemeral(ephemeral)
    }

    /// The body of POST /channels/{channel}/messages.
    pub fn channel_message(&self) -> CreateMessage {
        CreateMessage::new().embeds(self.embed_builders()).components(self.components())
    }

    pub fn embed_chars(&self) -> usize {
        self.embeds.iter().map(Embed::chars).sum()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub pages: Vec<Page>,
    pub ephemeral: bool,
    /// Files (drafts): sent with the first message, which the HTTP endpoint must defer for.
    pub files: Vec<Attachment>,
}

impl Rendered {
    /// Message flags for a message that is not an interaction response.
    pub fn flags(&self) -> MessageFlags {
        if self.ephemeral {
            MessageFlags::EPHEMERAL
        } else {
            MessageFlags::empty()
        }
    }
}

pub fn color(tone: Tone) -> u32 {
    match tone {
        Tone::Info => 0x3B82F6,
        Tone::Success => 0x22C55E,
        Tone::Warning => 0xF59E0B,
        Tone::Error => 0xEF4444,
    }
}

fn count(s: &str) -> usize {
    s.chars().count()
}

/// Shortens to `max` characters with an ellipsis. Only for titles, labels and small print.
pub fn clip(text: &str, max: usize) -> String {
    if count(text) <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Splits text into pieces of at most `max` characters: between lines where possible, then
/// between words, and only a single overlong word by characters.
pub fn split_text(text: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cur_len = 0;
    let push_piece = |piece: &str, cur: &mut String, cur_len: &mut usize, out: &mut Vec<String>| {
        let n = count(piece);
        let sep = usize::from(!cur.is_empty());
        if *cur_len + sep + n <= max {
            if sep == 1 {
                cur.push('\n');
            }
            cur.push_str(piece);
            *cur_len += sep + n;
        } else {
            if !cur.is_empty() {
                out.push(std::mem::take(cur));
            }
            cur.push_str(piece);
            *cur_len = n;
        }
    };
    for line in text.lines() {
        if count(line) <= max {
            push_piece(line, &mut cur, &mut cur_len, &mut out);
            continue;
        }
        // An overlong line: words, then characters.
        let mut piece = String::new();
        for word in line.split(' ') {
            let candidate = if piece.is_empty() { count(word) } else { count(&piece) + 1 + count(word) };
            if candidate <= max {
                if !piece.is_empty() {
                    piece.push(' ');
                }
                piece.push_str(word);
                continue;
            }
            if !piece.is_empty() {
                push_piece(&piece, &mut cur, &mut cur_len, &mut out);
                piece.clear();
            }
            let chars: Vec<char> = word.chars().collect();
            for chunk in chars.chunks(max) {
                let s: String = chunk.iter().collect();
                if count(&s) == max {
                    push_piece(&s, &mut cur, &mut cur_len, &mut out);
                } else {
                    piece = s;
                }
            }
        }
        if !piece.is_empty() {
            push_piece(&piece, &mut cur, &mut cur_len, &mut out);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// A table as code blocks of at most `max` characters each, split between rows, every block
/// starting with the header and its rule.
pub fn table_blocks(lines: &[String], max: usize) -> Vec<String> {
    let clean: Vec<String> = lines.iter().map(|l| l.replace('`', "'")).collect();
    let (head, rows) = if clean.len() >= 2 { clean.split_at(2) } else { (&clean[..], &[][..]) };
    let fence_open = "```\n";
    let fence_close = "\n```";
    let head_text = head.join("\n");
    let overhead = count(fence_open) + count(fence_close) + count(&head_text);
    let wrap = |body: &str| {
        if body.is_empty() {
            format!("{fence_open}{head_text}{fence_close}")
        } else {
            format!("{fence_open}{head_text}\n{body}{fence_close}")
        }
    };
    if rows.is_empty() {
        return vec![wrap("")];
    }
    let mut out = Vec::new();
    let mut body = String::new();
    let mut body_len = 0;
    for row in rows {
        let n = count(row);
        if overhead + 1 + n > max {
            // A single row wider than a whole block: it cannot stay on one line anyway.
            if !body.is_empty() {
                out.push(wrap(&body));
                body.clear();
                body_len = 0;
            }
            for piece in split_text(row, max - overhead - 1) {
                out.push(wrap(&piece));
            }
            continue;
        }
        let sep = usize::from(!body.is_empty());
        if overhead + 1 + body_len + sep + n > max {
            out.push(wrap(&body));
            body.clear();
            body_len = 0;
        }
        if !body.is_empty() {
            body.push('\n');
            body_len += 1;
        }
        body.push_str(row);
        body_len += n;
    }
    if !body.is_empty() {
        out.push(wrap(&body));
    }
    out
}

/// Markdown segments for each block, each at most `max` characters.
fn segments(reply: &Reply, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    for block in &reply.blocks {
        match block {
            Block::Text { text } => out.extend(split_text(text, max)),
            Block::Fields { fields } => {
                let text: Vec<String> = fields.iter().map(|f| format!("**{}:** {}", f.name, f.value)).collect();
                out.extend(split_text(&text.join("\n"), max));
            }
            Block::Table { table } => out.extend(table_blocks(&table.lines(), max)),
            Block::Notes { title, lines } => {
                let mut text = format!("**{title}**");
                for l in lines {
                    text.push_str("\n- ");
                    text.push_str(l);
                }
                out.extend(split_text(&text, max));
            }
        }
    }
    out
}

/// A button for an action when Discord can carry its command line in the 100-character custom
/// id. Nothing is stored server-side: a longer line is shortened to the command and its payer (or
/// name), and an action that would not run as it stands (an option left for the user to fill
/// in) gets no button.
pub fn button_for(label: &str, command_line: &str) -> Option<Button> {
    let parsed = command_line::parse(command_line).ok()?;
    if parsed.options.iter().any(|(_, v)| v.trim().is_empty()) {
        return None;
    }
    let line = if count(command_line) <= CUSTOM_ID_LIMIT {
        command_line.trim().to_string()
    } else {
        let keep: Vec<(String, String)> =
            parsed.options.iter().filter(|(k, _)| k == "payer" || k == "name").take(1).cloned().collect();
        let short = command_line::write(parsed.command.name, parsed.subcommand.as_deref(), &keep);
        // The shortened line must still be a complete command.
        command_line::parse(&short).ok()?;
        short
    };
    if count(&line) > CUSTOM_ID_LIMIT || line.is_empty() {
        return None;
    }
    Some(Button { label: clip(label, BUTTON_LABEL_LIMIT), custom_id: line })
}

pub fn render(reply: &Reply) -> Rendered {
    let color = color(reply.tone);
    let footer = reply.footer.as_deref().map(|f| clip(f, FOOTER_CAP.min(EMBED_FOOTER_LIMIT)));
    // Every page reserves room for a full title and the footer, so any page can carry both.
    let budget = EMBED_TOTAL_LIMIT - EMBED_TITLE_LIMIT - footer.as_deref().map(count).unwrap_or(0);
    let seg_max = EMBED_DESCRIPTION_LIMIT.min(budget);

    let mut pages: Vec<Vec<String>> = Vec::new();
    let mut page: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut cur_len = 0;
    let mut page_used = 0;
    for seg in segments(reply, seg_max) {
        let n = count(&seg);
        if !cur.is_empty() && cur_len + 2 + n <= EMBED_DESCRIPTION_LIMIT && page_used + 2 + n <= budget {
            cur.push_str("\n\n");
            cur.push_str(&seg);
            cur_len += 2 + n;
            page_used += 2 + n;
            continue;
        }
        if !cur.is_empty() {
            page.push(std::mem::take(&mut cur));
        }
        if page.len() == EMBEDS_PER_MESSAGE || page_used + n > budget {
            pages.push(std::mem::take(&mut page));
            page_used = 0;
        }
        cur = seg;
        cur_len = n;
        page_used += n;
    }
    if !cur.is_empty() {
        page.push(cur);
    }
    if !page.is_empty() || pages.is_empty() {
        pages.push(page);
    }

    let total = pages.len();
    let title = if reply.title.trim().is_empty() { "raterise".to_string() } else { reply.title.clone() };
    let mut buttons: Vec<Button> = Vec::new();
    for a in &reply.actions {
        if let Some(b) = button_for(&a.label, &a.command_line) {
            if !buttons.iter().any(|x| x.custom_id == b.custom_id) && buttons.len() < BUTTONS_PER_ROW * ROWS_PER_MESSAGE
            {
                buttons.push(b);
            }
        }
    }
    let mut out = Vec::new();
    for (i, descriptions) in pages.into_iter().enumerate() {
        let page_title = if total > 1 {
            let suffix = format!(" ({}/{total})", i + 1);
            format!("{}{suffix}", clip(&title, EMBED_TITLE_LIMIT - count(&suffix)))
        } else {
            clip(&title, EMBED_TITLE_LIMIT)
        };
        let mut embeds: Vec<Embed> = if descriptions.is_empty() {
            vec![Embed { title: None, description: None, color, footer: None }]
        } else {
            descriptions.into_iter().map(|d| Embed { title: None, description: Some(d), color, footer: None }).collect()
        };
        embeds[0].title = Some(page_title);
        let last = i + 1 == total;
        if last {
            if let Some(last_embed) = embeds.last_mut() {
                last_embed.footer = footer.clone();
            }
        }
        out.push(Page { embeds, buttons: if last { buttons.clone() } else { Vec::new() } });
    }
    Rendered {
        pages: out,
        ephemeral: reply.visibility == Visibility::Private,
        files: reply.attachments.iter().take(ATTACHMENTS_PER_MESSAGE).cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raterise_commands::reply::{Align, Table};

    fn check_limits(r: &Rendered) {
        for p in &r.pages {
            assert!(p.embeds.len() <= EMBEDS_PER_MESSAGE);
            assert!(p.embed_chars() <= EMBED_TOTAL_LIMIT, "{}", p.embed_chars());
            for e in &p.embeds {
                assert!(e.title.as_deref().map(count).unwrap_or(0) <= EMBED_TITLE_LIMIT);
                assert!(e.description.as_deref().map(count).unwrap_or(0) <= EMBED_DESCRIPTION_LIMIT);
                assert!(e.footer.as_deref().map(count).unwrap_or(0) <= EMBED_FOOTER_LIMIT);
            }
            assert!(p.buttons.len() <= BUTTONS_PER_ROW * ROWS_PER_MESSAGE);
            for b in &p.buttons {
                assert!(count(&b.custom_id) <= CUSTOM_ID_LIMIT && count(&b.label) <= BUTTON_LABEL_LIMIT);
            }
        }
    }

    fn big_table(rows: usize) -> Table {
        let mut t = Table::new(&[("Code", Align::Left), ("Payer", Align::Left), ("Rate", Align::Right)]);
        for i in 0..rows {
            t.push(vec![
                format!("{:05}", 90000 + i),
                format!("Payer number {i} with a longish name"),
                format!("${i}.00"),
            ]);
        }
        t
    }

    #[test]
    fn long_tables_split_between_rows_with_the_header_repeated() {
        let t = big_table(400);
        let all_rows: Vec<String> = t.lines()[2..].to_vec();
        let reply = Reply::new("Everything").text("intro").table(t).footer("Medicare: CMS PFS 2026.");
        let r = render(&reply);
        check_limits(&r);
        assert!(r.pages.len() > 1, "400 rows need several messages");
        let mut seen = Vec::new();
        for (i, p) in r.pages.iter().enumerate() {
            assert!(p.embeds[0].title.as_deref().unwrap().ends_with(&format!("({}/{})", i + 1, r.pages.len())));
            for e in &p.embeds {
                let d = e.description.as_deref().unwrap();
                for block in d.split("```").skip(1).step_by(2) {
                    let lines: Vec<&str> = block.trim_matches('\n').lines().collect();
                    assert!(lines[0].starts_with("Code") && lines[1].starts_with("-----"), "{block}");
                    seen.extend(lines[2..].iter().map(|s| s.to_string()));
                }
            }
        }
        // Every row exactly once, whole, in order.
        assert_eq!(seen, all_rows);
        assert_eq!(r.pages.last().unwrap().embeds.last().unwrap().footer.as_deref(), Some("Medicare: CMS PFS 2026."));
        assert!(r.pages[0].embeds.iter().all(|e| e.footer.is_none()));
    }

    #[test]
    fn long_text_and_titles_are_bounded() {
        let words = "word ".repeat(3000);
        let reply = Reply::new("T".repeat(400)).text(words.clone()).notes("Flags", vec!["x".repeat(5000)]);
        let r = render(&reply);
        check_limits(&r);
        let joined: String = r
            .pages
            .iter()
            .flat_map(|p| p.embeds.iter())
            .filter_map(|e| e.description.clone())
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(joined.matches("word").count(), 3000);
        assert_eq!(split_text(&"y".repeat(10), 4), ["yyyy", "yyyy", "yy"]);
    }

    #[test]
    fn buttons_carry_runnable_command_lines_only() {
        let long_notes = "n".repeat(120);
        let reply = Reply::new("x")
            .action("Rate history", "/rate history payer:Cigna")
            .action("Record a rate", "/rate set payer:Cigna cpt:90837 amount:")
            .action("Unknown", "/nosuch thing")
            .action("Edit", format!("/payer edit name:\"Blue Cross\" notes:\"{long_notes}\""))
            .action("Dup", "/rate history payer:Cigna");
        let r = render(&reply);
        let ids: Vec<&str> = r.pages[0].buttons.iter().map(|b| b.custom_id.as_str()).collect();
        assert_eq!(ids, ["/rate history payer:Cigna", "/payer edit name:\"Blue Cross\""]);
        // A line that still does not fit after shortening gets no button.
        let huge = format!("/rate history payer:\"{}\"", "p".repeat(120));
        assert!(button_for("h", &huge).is_none());
        // Quoting survives a round trip through the parser.
        let line = command_line::write("rates", None, &[("payer", "O'Neil \"Care\"")]);
        let parsed = command_line::parse(&line).unwrap();
        assert_eq!(parsed.options[0].1, "O'Neil \"Care\"");
    }

    #[test]
    fn visibility_tone_and_files_carry_over() {
        let r = render(&Reply::error("nope").attach("a.txt", "text/plain", "hi"));
        assert!(r.ephemeral);
        assert_eq!(r.pages[0].embeds[0].color, color(Tone::Error));
        assert_eq!(r.files.len(), 1);
        let json = serde_json::to_value(r.pages[0].response_message(true)).unwrap();
        assert_eq!(json["flags"], 64);
        let empty = render(&Reply::new("Only a title"));
        assert_eq!(empty.pages.len(), 1);
        assert_eq!(empty.pages[0].embeds[0].title.as_deref(), Some("Only a title"));
    }
}
