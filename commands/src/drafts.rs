//! The drafted letters and scripts: one minijinja template per kind, built into the binary, that a
//! deployment may override by name from a folder (`templates_dir`).
//!
//! Rendering is sandboxed: the environment has no loader (templates come only from the built-in
//! set and the override folder, read once by name), a fuel limit bounds the work, autoescaping is
//! off because the output is plain text, and every value a user typed reaches a template only as
//! data in the render context, never as template source, so `{{ 7*7 }}` in a note stays as typed.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Instructions one render may execute; the built-in templates need a few thousand.
pub const FUEL: u64 = 200_000;
/// Largest override file read, and largest draft produced.
pub const MAX_TEMPLATE_BYTES: u64 = 64 * 1024;
pub const MAX_OUTPUT_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DraftKind {
    /// The initial phone call to provider contracting.
    Call,
    /// The formal rate-increase email.
    Request,
    /// The two-week follow-up email.
    Followup,
    /// What to say to a denial or a low counter-offer.
    Rejection,
    /// The written reply to a counter-offer.
    Counter,
    /// The notice to clients when leaving a panel.
    ExitNotice,
    /// What to ask before signing a new contract.
    ContractQuestions,
    /// Recovering lines paid below the contract (from remittances; see handlers::underpayments).
    Underpayment,
}

impl DraftKind {
    pub const ALL: [DraftKind; 8] = [
        DraftKind::Call,
        DraftKind::Request,
        DraftKind::Followup,
        DraftKind::Rejection,
        DraftKind::Counter,
        DraftKind::ExitNotice,
        DraftKind::ContractQuestions,
        DraftKind::Underpayment,
    ];

    pub fn key(self) -> &'static str {
        match self {
            DraftKind::Call => "call",
            DraftKind::Request => "request",
            DraftKind::Followup => "followup",
            DraftKind::Rejection => "rejection",
            DraftKind::Counter => "counter",
            DraftKind::ExitNotice => "exit-notice",
            DraftKind::ContractQuestions => "contract-questions",
            DraftKind::Underpayment => "underpayment",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DraftKind::Call => "call script",
            DraftKind::Request => "rate increase request",
            DraftKind::Followup => "follow-up",
            DraftKind::Rejection => "answer to a denial or low offer",
            DraftKind::Counter => "counter-proposal",
            DraftKind::ExitNotice => "client notice: leaving the panel",
            DraftKind::ContractQuestions => "questions before signing",
            DraftKind::Underpayment => "underpayment recovery letter",
        }
    }

    /// The template's name, in the binary and in an override folder.
    pub fn template_name(self) -> &'static str {
        match self {
            DraftKind::Call => "call.txt.j2",
            DraftKind::Request => "request.txt.j2",
            DraftKind::Followup => "followup.txt.j2",
            DraftKind::Rejection => "rejection.txt.j2",
            DraftKind::Counter => "counter.txt.j2",
            DraftKind::ExitNotice => "exit-notice.txt.j2",
            DraftKind::ContractQuestions => "contract-questions.txt.j2",
            DraftKind::Underpayment => "underpayment.txt.j2",
        }
    }

    /// Emails start with a `Subject:` line and are attached as `.eml`.
    pub fn is_email(self) -> bool {
        matches!(
            self,
            DraftKind::Request
                | DraftKind::Followup
                | DraftKind::Counter
                | DraftKind::ExitNotice
                | DraftKind::Underpayment
        )
    }

    pub fn builtin_source(self) -> &'static str {
        match self {
            DraftKind::Call => include_str!("../../templates/call.txt.j2"),
            DraftKind::Request => include_str!("../../templates/request.txt.j2"),
            DraftKind::Followup => include_str!("../../templates/followup.txt.j2"),
            DraftKind::Rejection => include_str!("../../templates/rejection.txt.j2"),
            DraftKind::Counter => include_str!("../../templates/counter.txt.j2"),
            DraftKind::ExitNotice => include_str!("../../templates/exit-notice.txt.j2"),
            DraftKind::ContractQuestions => include_str!("../../templates/contract-questions.txt.j2"),
            DraftKind::Underpayment => include_str!("../../templates/underpayment.txt.j2"),
        }
    }
}

impl fmt::Display for DraftKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for DraftKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let k = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        DraftKind::ALL
            .into_iter()
            .find(|d| d.key() == k)
            .or(match k.as_str() {
                "follow-up" => Some(DraftKind::Followup),
                "script" | "phone" => Some(DraftKind::Call),
                "letter" | "email" => Some(DraftKind::Request),
                "denial" | "reject" => Some(DraftKind::Rejection),
                "counter-offer" | "counteroffer" => Some(DraftKind::Counter),
                "exit" | "leaving" => Some(DraftKind::ExitNotice),
                "contract" | "questions" => Some(DraftKind::ContractQuestions),
                "recovery" | "underpaid" | "underpayments" => Some(DraftKind::Underpayment),
                _ => None,
            })
            .ok_or_else(|| {
                format!(
                    "`{}` is not a kind of draft; use one of: {}",
                    s.trim(),
                    DraftKind::ALL.map(|d| d.key()).join(", ")
                )
            })
    }
}

/// The template set: the built-ins, and any overrides loaded from a folder.
#[derive(Debug)]
pub struct Drafts {
    builtin: Environment<'static>,
    overrides: Environment<'static>,
    /// Overrides that could not be used, by kind: why, with the template's name and line.
    broken: BTreeMap<DraftKind, String>,
    dir: Option<PathBuf>,
}

/// A rendered draft before the handler adds subject, placeholders and attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    /// Set when an override was used.
    pub from_override: bool,
    pub warnings: Vec<String>,
}

fn sandboxed() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(FUEL));
    env.set_auto_escape_callback(|_| AutoEscape::None);
    // A misspelled variable is an error (reported with its line), not silently empty text.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_recursion_limit(50);
    env
}

/// `where` of a template error: its name and line when minijinja knows them.
fn locate(e: &minijinja::Error, fallback_name: &str) -> String {
    let name = e.name().unwrap_or(fallback_name);
    match e.line() {
        Some(line) => format!("{name} line {line}"),
        None => name.to_string(),
    }
}

fn describe(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(d) => format!("{}: {d}", e.kind()),
        None => e.kind().to_string(),
    }
}

impl Default for Drafts {
    fn default() -> Self {
        Drafts::builtin()
    }
}

impl Drafts {
    /// The templates built into the binary.
    pub fn builtin() -> Drafts {
        let mut builtin = sandboxed();
        for kind in DraftKind::ALL {
            builtin
                .add_template(kind.template_name(), kind.builtin_source())
                .unwrap_or_else(|e| panic!("built-in template {} does not compile: {e:#}", kind.template_name()));
        }
        Drafts { builtin, overrides: sandboxed(), broken: BTreeMap::new(), dir: None }
    }

    /// The built-ins, with the templates found in `dir` replacing them by name. Only the known
    /// names are read. A template that does not compile is kept out (the built-in is used) and
    /// reported with its name and line with every draft of its kind. A missing or unreadable
    /// folder is an error: a deployment that names one expects it to be used.
    pub fn with_overrides(dir: &Path) -> Result<Drafts, String> {
        if !dir.is_dir() {
            return Err(format!("templates_dir {} is not a folder; create it or remove the setting", dir.display()));
        }
        let mut drafts = Drafts::builtin();
        drafts.dir = Some(dir.to_path_buf());
        for kind in DraftKind::ALL {
            let name = kind.template_name();
            let path = dir.join(name);
            if !path.is_file() {
                continue;
            }
            let source = match std::fs::metadata(&path) {
                Ok(m) if m.len() > MAX_TEMPLATE_BYTES => {
                    Err(format!("{name} is larger than {} KiB", MAX_TEMPLATE_BYTES / 1024))
                }
                Ok(_) => std::fs::read_to_string(&path).map_err(|e| format!("{name} could not be read: {e}")),
                Err(e) => Err(format!("{name} could not be read: {e}")),
            };
            let problem = match source {
                Ok(source) => match drafts.overrides.add_template_owned(name.to_string(), source) {
                    Ok(()) => None,
                    Err(e) => Some(format!("{}: {}", locate(&e, name), describe(&e))),
                },
                Err(problem) => Some(problem),
            };
            if let Some(problem) = problem {
                let message = format!("The override template {problem}; the built-in {name} was used instead.");
                tracing::warn!(template = name, dir = %dir.display(), "{message}");
                drafts.broken.insert(kind, message);
            }
        }
        Ok(drafts)
    }

    pub fn templates_dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Kinds whose override is in use.
    pub fn overridden(&self) -> Vec<DraftKind> {
        DraftKind::ALL.into_iter().filter(|k| self.overrides.get_template(k.template_name()).is_ok()).collect()
    }

    /// Renders the kind's template with `ctx` as data. An override that fails at render time
    /// (a misspelled variable, running out of fuel) is reported and the built-in is used.
    pub fn render<S: Serialize>(&self, kind: DraftKind, ctx: &S) -> Result<Rendered, String> {
        let name = kind.template_name();
        let mut warnings = Vec::new();
        if let Some(w) = self.broken.get(&kind) {
            warnings.push(w.clone());
        }
        if let Ok(t) = self.overrides.get_template(name) {
            match t.render(ctx) {
                Ok(text) if text.len() <= MAX_OUTPUT_BYTES => {
                    return Ok(Rendered { text, from_override: true, warnings });
                }
                Ok(text) => {
                    let message = format!(
                        "The override template {name} produced {} KiB, more than the {} KiB limit; the built-in {name} was used instead.",
                        text.len() / 1024,
                        MAX_OUTPUT_BYTES / 1024
                    );
                    tracing::warn!(template = name, "{message}");
                    warnings.push(message);
                }
                Err(e) => {
                    let message = format!(
                        "The override template {}: {}; the built-in {name} was used instead.",
                        locate(&e, name),
                        describe(&e)
                    );
                    tracing::warn!(template = name, "{message}");
                    warnings.push(message);
                }
            }
        }
        let t = self.builtin.get_template(name).map_err(|e| format!("{e:#}"))?;
        let text = t.render(ctx).map_err(|e| format!("built-in template {}: {}", locate(&e, name), describe(&e)))?;
        Ok(Rendered { text, from_override: false, warnings })
    }
}

/// Splits a leading `Subject: ...` line off an email draft.
pub fn split_subject(text: &str) -> (Option<String>, String) {
    let trimmed = text.trim_start_matches(['\n', '\r']);
    if let Some(rest) = trimmed.strip_prefix("Subject:") {
        let (line, body) = rest.split_once('\n').unwrap_or((rest, ""));
        let subject = line.trim().to_string();
        if !subject.is_empty() {
            return (Some(subject), body.trim_start_matches(['\n', '\r']).to_string());
        }
    }
    (None, text.to_string())
}

/// The placeholders (`[NPI]`, `[YOUR NAME]`) left in a text, in order of first appearance.
/// A placeholder is an upper-case word or phrase in square brackets.
pub fn placeholders_in(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('[') {
        let after = &rest[start + 1..];
        let Some(end) = after.find(']') else { break };
        let inner = &after[..end];
        let valid = inner.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && inner.len() >= 2
            && inner.len() <= 60
            && inner.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || " ,.'/&-".contains(c));
        if valid {
            let token = format!("[{inner}]");
            if !out.contains(&token) {
                out.push(token);
            }
            rest = &after[end + 1..];
        } else {
            rest = after;
        }
    }
    out
}

/// A header value on one line: control characters (CR, LF) become spaces, so a value cannot add
/// headers of its own.
fn header_value(v: &str) -> String {
    v.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_string()
}

/// RFC 2047 encoded-word for non-ASCII header text (UTF-8, base64).
fn encode_header(v: &str) -> String {
    let v = header_value(v);
    if v.is_ascii() {
        return v;
    }
    format!("=?utf-8?B?{}?=", base64(v.as_bytes()))
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A draft email as an `.eml` file that mail programs open as an unsent message: RFC 5322
/// headers (Subject, To when known), plain UTF-8 text, CRLF line ends.
pub fn eml(subject: &str, to_name: Option<&str>, to_email: Option<&str>, body: &str) -> String {
    let mut out = String::new();
    if let Some(email) = to_email.map(header_value).filter(|e| !e.is_empty()) {
        match to_name.map(header_value).filter(|n| !n.is_empty()) {
            Some(name) if name.is_ascii() => {
                out.push_str(&format!("To: \"{}\" <{email}>\r\n", name.replace('\\', "\\\\").replace('"', "\\\"")))
            }
            Some(name) => out.push_str(&format!("To: {} <{email}>\r\n", encode_header(&name))),
            None => out.push_str(&format!("To: <{email}>\r\n")),
        }
    }
    out.push_str(&format!("Subject: {}\r\n", encode_header(subject)));
    out.push_str("X-Unsent: 1\r\n");
    out.push_str("MIME-Version: 1.0\r\n");
    out.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    out.push_str("Content-Transfer-Encoding: 8bit\r\n");
    out.push_str("\r\n");
    for line in body.lines() {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_compiles_and_kinds_round_trip() {
        let d = Drafts::builtin();
        assert!(d.overridden().is_empty());
        for k in DraftKind::ALL {
            assert_eq!(k.key().parse::<DraftKind>().unwrap(), k);
            assert!(d.builtin.get_template(k.template_name()).is_ok());
        }
        assert!("memo".parse::<DraftKind>().unwrap_err().contains("exit-notice"));
    }

    #[test]
    fn user_values_are_data_not_template_code() {
        let mut env = sandboxed();
        env.add_template("t", "Note: {{ note }}").unwrap();
        let hostile = "{{ 7*7 }} {% for x in range(10) %}x{% endfor %} {# hidden #} <b>&</b>";
        let out = env.get_template("t").unwrap().render(minijinja::context! { note => hostile }).unwrap();
        assert_eq!(out, format!("Note: {hostile}"));
    }

    #[test]
    fn fuel_stops_runaway_templates() {
        let mut env = sandboxed();
        env.add_template("t", "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}")
            .unwrap();
        let e = env.get_template("t").unwrap().render(minijinja::context! {}).unwrap_err();
        assert_eq!(e.kind(), minijinja::ErrorKind::OutOfFuel);
    }

    #[test]
    fn no_template_can_load_files() {
        // Without the multi-template feature `include` does not even parse; with it, there is no
        // loader to find the file. Either way nothing is read.
        for source in ["{% include '/etc/passwd' %}", "{% include '../Cargo.toml' %}", "{% extends 'x' %}"] {
            let mut env = sandboxed();
            let rendered =
                env.add_template("t", source).and_then(|_| env.get_template("t")?.render(minijinja::context! {}));
            assert!(rendered.is_err(), "{source}");
        }
    }

    #[test]
    fn subject_line_is_split_off() {
        let (s, body) = split_subject("Subject: Rate review\n\nDear Dana,\n");
        assert_eq!(s.as_deref(), Some("Rate review"));
        assert_eq!(body, "Dear Dana,\n");
        let (s, body) = split_subject("Hello\n");
        assert_eq!(s, None);
        assert_eq!(body, "Hello\n");
    }

    #[test]
    fn placeholders_are_found_once_in_order() {
        let t = "NPI [NPI], tax id [TAX ID]; again [NPI]. Not these: [x], [], [a b], [Y]";
        assert_eq!(placeholders_in(t), vec!["[NPI]", "[TAX ID]"]);
        assert_eq!(placeholders_in("[DATE OF YOUR WRITTEN REQUEST] [LAST DAY IN NETWORK]").len(), 2);
        assert!(placeholders_in("no brackets [").is_empty());
    }

    #[test]
    fn eml_headers_cannot_be_injected_and_non_ascii_is_encoded() {
        let m =
            eml("Rate review\r\nBcc: evil@example.com", Some("Dana \"D\" W"), Some("dana@example.com"), "Hi\nthere");
        assert!(m.starts_with("To: \"Dana \\\"D\\\" W\" <dana@example.com>\r\n"), "{m}");
        assert!(m.contains("Subject: Rate review  Bcc: evil@example.com\r\n"), "{m}");
        assert!(!m.contains("\r\nBcc:"));
        assert!(m.contains("Content-Type: text/plain; charset=utf-8\r\n"));
        assert!(m.ends_with("\r\n\r\nHi\r\nthere\r\n"));
        let m = eml("Révision des tarifs", None, None, "x");
        assert!(m.starts_with("Subject: =?utf-8?B?UsOpdmlzaW9uIGRlcyB0YXJpZnM=?=\r\n"), "{m}");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
        assert_eq!(base64(b"Man"), "TWFu");
    }
}
