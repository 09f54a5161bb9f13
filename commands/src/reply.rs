//! The platform-neutral answer. Console, Discord and Slack each render it their own way.

use crate::invocation::Platform;
use serde::Serialize;

/// A channel as people see it: in chat a mention (`<#id>`, which Discord and Slack both show as
/// the channel's name and link), never the bare id; the console has no channels, so `#id`.
/// Something that is not a platform id (a name typed without Slack's escaping) is shown as given.
pub fn channel_mention(platform: Platform, channel: &str) -> String {
    let is_id = !channel.is_empty() && channel.chars().all(|c| c.is_ascii_alphanumeric());
    match platform {
        Platform::Discord | Platform::Slack if is_id => format!("<#{channel}>"),
        _ if channel.starts_with('#') => channel.to_string(),
        _ => format!("#{channel}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Visibility {
    /// Posted for the whole team to see.
    Channel,
    /// Only the person who asked sees it (drafts, setup, errors).
    Private,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tone {
    Info,
    Success,
    Warning,
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub header: String,
    pub align: Align,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: &[(&str, Align)]) -> Self {
        Table {
            columns: columns.iter().map(|(h, a)| Column { header: h.to_string(), align: *a }).collect(),
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }

    /// Fixed-width text with a header rule: used by the console and inside chat code blocks.
    pub fn to_text(&self) -> String {
        self.lines().join("\n")
    }

    /// The header, the rule and one string per row, so chat renderers can split between rows.
    pub fn lines(&self) -> Vec<String> {
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| r[i].chars().count())
                    .chain(std::iter::once(self.columns[i].header.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let fmt_row = |cells: &[String]| {
            let mut line = String::new();
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = widths[i] - cell.chars().count();
                match self.columns[i].align {
                    Align::Left => {
                        line.push_str(cell);
                        if i + 1 < cells.len() {
                            line.push_str(&" ".repeat(pad));
                        }
                    }
                    Align::Right => {
                        line.push_str(&" ".repeat(pad));
                        line.push_str(cell);
                    }
                }
            }
            line.trim_end().to_string()
        };
        let header: Vec<String> = self.columns.iter().map(|c| c.header.clone()).collect();
        let mut out = vec![fmt_row(&header)];
        out.push(widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("  "));
        for r in &self.rows {
            out.push(fmt_row(r));
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Block {
    Text {
        text: String,
    },
    Fields {
        fields: Vec<Field>,
    },
    Table {
        table: Table,
    },
    /// Short lines that stand out: flags, warnings, the next step.
    Notes {
        title: String,
        lines: Vec<String>,
    },
}

/// A follow-up the user is likely to want; platforms render it as a button.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    pub label: String,
    /// The command it runs, in console notation.
    pub command_line: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    /// The text of a text file; for a binary file (`bytes`), a line saying what it is.
    pub content: String,
    /// The file itself when it is not text (a PNG chart).
    #[serde(skip)]
    pub bytes: Option<Vec<u8>>,
}

impl Attachment {
    /// What to upload.
    pub fn data(&self) -> Vec<u8> {
        match &self.bytes {
            Some(b) => b.clone(),
            None => self.content.clone().into_bytes(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    pub visibility: Visibility,
    pub tone: Tone,
    pub title: String,
    pub blocks: Vec<Block>,
    pub actions: Vec<Action>,
    pub attachments: Vec<Attachment>,
    /// Small print: sources, benchmark year, attribution.
    pub footer: Option<String>,
}

impl Reply {
    pub fn new(title: impl Into<String>) -> Self {
        Reply {
            visibility: Visibility::Channel,
            tone: Tone::Info,
            title: title.into(),
            blocks: Vec::new(),
            actions: Vec::new(),
            attachments: Vec::new(),
            footer: None,
        }
    }

    pub fn private(mut self) -> Self {
        self.visibility = Visibility::Private;
        self
    }

    pub fn tone(mut self, tone: Tone) -> Self {
        self.tone = tone;
        self
    }

    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.blocks.push(Block::Text { text: text.into() });
        self
    }

    pub fn fields(mut self, fields: Vec<(String, String)>) -> Self {
        self.blocks
            .push(Block::Fields { fields: fields.into_iter().map(|(name, value)| Field { name, value }).collect() });
        self
    }

    pub fn table(mut self, table: Table) -> Self {
        self.blocks.push(Block::Table { table });
        self
    }

    pub fn notes(mut self, title: impl Into<String>, lines: Vec<String>) -> Self {
        if !lines.is_empty() {
            self.blocks.push(Block::Notes { title: title.into(), lines });
        }
        self
    }

    pub fn action(mut self, label: impl Into<String>, command_line: impl Into<String>) -> Self {
        self.actions.push(Action { label: label.into(), command_line: command_line.into() });
        self
    }

    pub fn attach(
        mut self,
        filename: impl Into<String>,
        content_type: impl Into<String>,
        content: impl Into<String>,
    ) -> Self {
        self.attachments.push(Attachment {
            filename: filename.into(),
            content_type: content_type.into(),
            content: content.into(),
            bytes: None,
        });
        self
    }

    /// A binary file (an image); `what` is the line shown where the file cannot be attached.
    pub fn attach_bytes(
        mut self,
        filename: impl Into<String>,
        content_type: impl Into<String>,
        bytes: Vec<u8>,
        what: impl Into<String>,
    ) -> Self {
        self.attachments.push(Attachment {
            filename: filename.into(),
            content_type: content_type.into(),
            content: what.into(),
            bytes: Some(bytes),
        });
        self
    }

    pub fn footer(mut self, footer: impl Into<String>) -> Self {
        self.footer = Some(footer.into());
        self
    }

    pub fn error(message: impl Into<String>) -> Self {
        Reply::new("That didn't work").private().tone(Tone::Error).text(message)
    }

    /// Plain text for the console and for logs.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(&self.title);
        out.push('\n');
        out.push_str(&"=".repeat(self.title.chars().count().min(78)));
        out.push('\n');
        for b in &self.blocks {
            out.push('\n');
            match b {
                Block::Text { text } => {
                    out.push_str(text);
                    out.push('\n');
                }
                Block::Fields { fields } => {
                    let w = fields.iter().map(|f| f.name.chars().count()).max().unwrap_or(0);
                    for f in fields {
                        out.push_str(&format!("{:w$}  {}\n", f.name, f.value, w = w));
                    }
                }
                Block::Table { table } => {
                    out.push_str(&table.to_text());
                    out.push('\n');
                }
                Block::Notes { title, lines } => {
                    out.push_str(title);
                    out.push_str(":\n");
                    for l in lines {
                        out.push_str("  - ");
                        out.push_str(l);
                        out.push('\n');
                    }
                }
            }
        }
        if !self.actions.is_empty() {
            out.push_str("\nNext:\n");
            for a in &self.actions {
                out.push_str(&format!("  {:28} {}\n", a.label, a.command_line));
            }
        }
        for a in &self.attachments {
            out.push_str(&format!("\nAttachment {} ({} bytes)\n", a.filename, a.data().len()));
        }
        if let Some(f) = &self.footer {
            out.push('\n');
            out.push_str(f);
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let mut t = Table::new(&[("Code", Align::Left), ("Rate", Align::Right)]);
        t.push(vec!["90837".into(), "$118.50".into()]);
        t.push(vec!["90834".into(), "$92.00".into()]);
        assert_eq!(t.to_text(), "Code      Rate\n-----  -------\n90837  $118.50\n90834   $92.00");
    }

    #[test]
    fn text_rendering_includes_every_block() {
        let r = Reply::new("Title")
            .text("hello")
            .fields(vec![("A".into(), "1".into())])
            .notes("Flags", vec!["low".into()])
            .action("Draft", "/draft request payer:x")
            .footer("source");
        let s = r.to_text();
        for want in ["Title", "hello", "A  1", "Flags:", "- low", "/draft request", "source"] {
            assert!(s.contains(want), "{want} in {s}");
        }
    }
}
