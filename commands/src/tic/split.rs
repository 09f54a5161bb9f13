//! A byte-level splitter over a Transparency-in-Coverage in-network file.
//!
//! It never builds a JSON tree. It tracks nesting depth and string state over the raw bytes and
//! hands whole `in_network` items and `provider_references` entries to a [`Sink`], so only the kept
//! items go through `serde_json::from_slice`. An item's `billing_code` is read on the way, and an
//! item whose code the sink does not want is skipped without being copied. Inside strings the scan
//! jumps with `memchr2`; deeper than the item's own keys it jumps eight bytes at a time to the next
//! bracket or quote (skip-parsing with serde_json's reader is about seven times slower).
//!
//! Checked here: brackets match, strings end, nothing but whitespace after the root, and bytes
//! outside strings at the shallow levels. Kept items are checked in full by serde_json.

/// What the splitter hands on.
pub trait Sink {
    /// Is an item with this `billing_code` worth keeping?
    fn wants_code(&mut self, code: &[u8]) -> bool;
    /// One whole `in_network` item whose code was wanted (or not yet known); `offset` is its
    /// first byte in the decompressed stream.
    fn item(&mut self, bytes: &[u8], offset: u64) -> Result<(), SplitError>;
    /// An item skipped because of its code.
    fn skipped(&mut self);
    /// One whole `provider_references` entry.
    fn reference(&mut self, bytes: &[u8], offset: u64) -> Result<(), SplitError>;
    /// A string value of the root object (`last_updated_on`, `version`, ...).
    fn root_string(&mut self, key: &[u8], value: &[u8]);
    /// The `in_network` array has ended.
    fn in_network_done(&mut self) {}
}

/// Malformed input, with the byte offset (in the decompressed stream) where it was noticed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError {
    pub offset: u64,
    pub message: String,
}

impl std::fmt::Display for SplitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed JSON at byte {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for SplitError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    InNetwork,
    References,
    Other,
}

/// An item bigger than this is refused rather than held in memory.
pub const MAX_ELEMENT_BYTES: usize = 512 << 20;

/// Bytes allowed outside strings (JSON literals, numbers, whitespace, punctuation).
const fn scalar_table() -> [bool; 256] {
    let mut t = [false; 256];
    let ok = b"0123456789+-.eEtrufalsn \t\r\n,:";
    let mut i = 0;
    while i < ok.len() {
        t[ok[i] as usize] = true;
        i += 1;
    }
    t
}
static SCALAR_OK: [bool; 256] = scalar_table();

/// Where in the document the shallow levels are; deeper levels are only counted.
pub struct Splitter {
    /// Offset of the first byte of the chunk being fed.
    base: u64,
    /// Open containers; `stack[d]` is b'{' or b'[' for the container at depth d+1.
    depth: u32,
    stack: Vec<u8>,
    in_str: bool,
    escape: bool,
    /// Collect the current string's bytes into `text`.
    want_text: bool,
    text: Vec<u8>,
    /// In the root object and the item/reference object: is the next string a key?
    expect_key: bool,
    root_key: Vec<u8>,
    item_key_is_code: bool,
    section: Section,
    /// The element (item or reference) being copied: from where in this chunk, and what came before.
    capturing: bool,
    cap_from: usize,
    cap: Vec<u8>,
    elem_start: u64,
    /// Item whose code was not wanted: only its end is looked for.
    skipping: bool,
    seen_root: bool,
    done: bool,
}

impl Default for Splitter {
    fn default() -> Self {
        Self::new()
    }
}

impl Splitter {
    pub fn new() -> Splitter {
        Splitter {
            base: 0,
            depth: 0,
            stack: Vec::with_capacity(8),
            in_str: false,
            escape: false,
            want_text: false,
            text: Vec::new(),
            expect_key: false,
            root_key: Vec::new(),
            item_key_is_code: false,
            section: Section::None,
            capturing: false,
            cap_from: 0,
            cap: Vec::new(),
            elem_start: 0,
            skipping: false,
            seen_root: false,
            done: false,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.base
    }

    fn err(&self, at: usize, message: impl Into<String>) -> SplitError {
        SplitError { offset: self.base + at as u64, message: message.into() }
    }

    /// Feeds the next chunk of the stream.
    pub fn feed<S: Sink>(&mut self, buf: &[u8], sink: &mut S) -> Result<(), SplitError> {
        let n = buf.len();
        let mut i = 0usize;
        if self.capturing {
            self.cap_from = 0;
        }
        while i < n {
            if self.in_str {
                if self.escape {
                    self.escape = false;
                    if self.want_text {
                        self.text.push(buf[i]);
                    }
                    i += 1;
                    continue;
                }
                match find_quote_or_backslash(&buf[i..]) {
                    None => {
                        if self.want_text {
                            self.text.extend_from_slice(&buf[i..]);
                        }
                        i = n;
                    }
                    Some(k) => {
                        let at = i + k;
                        if self.want_text {
                            self.text.extend_from_slice(&buf[i..at]);
                        }
                        if buf[at] == b'\\' {
                            self.escape = true;
                            if self.want_text {
                                self.text.push(b'\\');
                            }
                        } else {
                            self.in_str = false;
                            self.string_ended(sink)?;
                        }
                        i = at + 1;
                    }
                }
                continue;
            }
            if self.depth > 3 {
                // Deep inside an item or reference: jump to the next quote or bracket.
                i += find_structural(&buf[i..]);
                if i >= n {
                    break;
                }
            }
            let b = buf[i];
            match b {
                b'"' => {
                    self.in_str = true;
                    self.want_text = self.depth <= 3 && self.wants_text();
                    self.text.clear();
                }
                b'{' | b'[' => {
                    if !self.seen_root {
                        if b != b'{' {
                            return Err(self.err(i, "the file is not a JSON object (expected `{`)"));
                        }
                        self.seen_root = true;
                    } else if self.depth == 0 {
                        return Err(self.err(i, "more than one JSON value in the file"));
                    }
                    self.depth += 1;
                    self.stack.push(b);
                    if self.depth == 2 {
                        self.section = match (b, self.root_key.as_slice()) {
                            (b'[', b"in_network") => Section::InNetwork,
                            (b'[', b"provider_references") => Section::References,
                            _ => Section::Other,
                        };
                    }
                    if self.depth == 3 {
                        let element = matches!(self.section, Section::InNetwork | Section::References);
                        if element {
                            if b != b'{' {
                                return Err(self.err(i, "an array element here must be an object"));
                            }
                            self.capturing = true;
                            self.skipping = false;
                            self.cap.clear();
                            self.cap_from = i;
                            self.elem_start = self.base + i as u64;
                        }
                    }
                    self.expect_key = b == b'{';
                }
                b'}' | b']' => {
                    if self.depth == 0 {
                        return Err(self.err(i, format!("unexpected `{}`", b as char)));
                    }
                    let open = self.stack.pop().unwrap_or(b'{');
                    if (open == b'{') != (b == b'}') {
                        return Err(self.err(i, format!("`{}` closes a `{}`", b as char, open as char)));
                    }
                    self.depth -= 1;
                    if self.depth == 2 && self.capturing {
                        self.finish_element(buf, i, sink)?;
                    } else if self.depth == 2 && self.skipping {
                        self.skipping = false;
                    }
                    if self.depth == 1 {
                        if self.section == Section::InNetwork {
                            sink.in_network_done();
                        }
                        self.section = Section::None;
                    }
                    if self.depth == 0 {
                        self.done = true;
                    }
                    // After a value closes, a comma comes next, then (in an object) a key.
                    self.expect_key = false;
                }
                b',' => {
                    if self.depth <= 3 {
                        self.expect_key = self.stack.last() == Some(&b'{');
                    }
                }
                _ => {
                    if !SCALAR_OK[b as usize] {
                        return Err(self.err(i, format!("unexpected byte 0x{b:02x}")));
                    }
                    if self.depth == 0 && !b.is_ascii_whitespace() {
                        return Err(self.err(
                            i,
                            if self.seen_root { "data after the end of the JSON" } else { "the file is not JSON" },
                        ));
                    }
                }
            }
            i += 1;
        }
        if self.capturing {
            self.cap.extend_from_slice(&buf[self.cap_from.min(n)..n]);
            if self.cap.len() > MAX_ELEMENT_BYTES {
                return Err(self.err(n, "one item is larger than 512 MB; refusing to hold it in memory"));
            }
        }
        self.base += n as u64;
        Ok(())
    }

    /// Which strings matter: root keys and string values, item keys, and an item's code.
    fn wants_text(&self) -> bool {
        match self.depth {
            1 => true,
            3 => self.section == Section::InNetwork && (self.expect_key || self.item_key_is_code),
            _ => false,
        }
    }

    fn string_ended<S: Sink>(&mut self, sink: &mut S) -> Result<(), SplitError> {
        if !self.want_text {
            return Ok(());
        }
        self.want_text = false;
        match self.depth {
            1 => {
                if self.expect_key {
                    self.root_key.clear();
                    self.root_key.extend_from_slice(&self.text);
                    self.expect_key = false;
                } else {
                    sink.root_string(&self.root_key, &self.text);
                }
            }
            3 => {
                if self.expect_key {
                    self.item_key_is_code = self.text == b"billing_code";
                    self.expect_key = false;
                } else if self.item_key_is_code {
                    self.item_key_is_code = false;
                    if self.capturing && !sink.wants_code(&self.text) {
                        self.capturing = false;
                        self.skipping = true;
                        self.cap.clear();
                        sink.skipped();
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish_element<S: Sink>(&mut self, buf: &[u8], end: usize, sink: &mut S) -> Result<(), SplitError> {
        self.capturing = false;
        let start = self.elem_start;
        let whole: &[u8] = if self.cap.is_empty() {
            &buf[self.cap_from..=end]
        } else {
            self.cap.extend_from_slice(&buf[self.cap_from..=end]);
            &self.cap
        };
        let r = match self.section {
            Section::InNetwork => sink.item(whole, start),
            _ => sink.reference(whole, start),
        };
        self.cap.clear();
        self.item_key_is_code = false;
        r
    }

    /// The stream has ended: was the document complete?
    pub fn finish(&self) -> Result<(), SplitError> {
        if !self.seen_root {
            return Err(SplitError { offset: self.base, message: "the file is empty".into() });
        }
        if !self.done || self.in_str {
            return Err(SplitError {
                offset: self.base,
                message: "the file ends in the middle of the JSON (truncated download?)".into(),
            });
        }
        Ok(())
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `v` that is zero (exact for the lowest one).
#[inline(always)]
fn zero_bytes(v: u64) -> u64 {
    v.wrapping_sub(LO) & !v & HI
}

/// The end of a string's current run: the first `"` or `\`. Most strings in these files are a few
/// bytes long, so the first 32 bytes are checked inline and `memchr2` takes longer ones.
#[inline]
fn find_quote_or_backslash(s: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i + 8 <= s.len() && i < 32 {
        let w = u64::from_le_bytes(s[i..i + 8].try_into().expect("eight bytes"));
        let hit = zero_bytes(w ^ (LO * 0x22)) | zero_bytes(w ^ (LO * 0x5C));
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    if i >= 32 {
        return memchr::memchr2(b'"', b'\\', &s[i..]).map(|k| i + k);
    }
    s[i..].iter().position(|b| *b == b'"' || *b == b'\\').map(|k| i + k)
}

/// Index of the first `"`, `{`, `}`, `[` or `]` in `s` (or `s.len()`), eight bytes at a time.
#[inline]
fn find_structural(s: &[u8]) -> usize {
    let mut i = 0;
    while i + 8 <= s.len() {
        let w = u64::from_le_bytes(s[i..i + 8].try_into().expect("eight bytes"));
        // `[` and `{` differ only in bit 0x20, as do `]` and `}`.
        let folded = w | 0x2020_2020_2020_2020;
        let hit = zero_bytes(folded ^ (LO * 0x7B)) | zero_bytes(folded ^ (LO * 0x7D)) | zero_bytes(w ^ (LO * 0x22));
        if hit != 0 {
            // The lowest flagged byte is exact; later flags may be borrow artefacts.
            return i + (hit.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < s.len() {
        if matches!(s[i], b'"' | b'{' | b'}' | b'[' | b']') {
            return i;
        }
        i += 1;
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, Debug)]
    struct Collect {
        items: Vec<(String, u64)>,
        refs: Vec<String>,
        skipped: usize,
        root: Vec<(String, String)>,
    }

    impl Sink for Collect {
        fn wants_code(&mut self, code: &[u8]) -> bool {
            code != b"99999"
        }
        fn item(&mut self, bytes: &[u8], offset: u64) -> Result<(), SplitError> {
            self.items.push((String::from_utf8_lossy(bytes).into_owned(), offset));
            Ok(())
        }
        fn skipped(&mut self) {
            self.skipped += 1;
        }
        fn reference(&mut self, bytes: &[u8], _offset: u64) -> Result<(), SplitError> {
            self.refs.push(String::from_utf8_lossy(bytes).into_owned());
            Ok(())
        }
        fn root_string(&mut self, key: &[u8], value: &[u8]) {
            self.root.push((String::from_utf8_lossy(key).into(), String::from_utf8_lossy(value).into()));
        }
    }

    fn run(doc: &[u8], chunk: usize) -> Result<Collect, SplitError> {
        let mut s = Splitter::new();
        let mut c = Collect::default();
        for part in doc.chunks(chunk.max(1)) {
            s.feed(part, &mut c)?;
        }
        s.finish()?;
        Ok(c)
    }

    const DOC: &str = r#"{"version":"1.0.0","x":{"in_network":[{"billing_code":"1"}]},
      "in_network":[{"billing_code":"90837","n":[{"a":"}]\"{"}]},{"billing_code":"99999","deep":[[[[{"q":"]"}]]]]},
                    {"negotiated_rates":[1,2],"billing_code":"90834"}],
      "last_updated_on":"2026-01-02","provider_references":[{"provider_group_id":1,"provider_groups":[]}]}"#;

    #[test]
    fn finds_items_references_and_root_strings_at_any_chunk_size() {
        for chunk in [1, 2, 3, 7, 64, 4096] {
            let c = run(DOC.as_bytes(), chunk).unwrap();
            assert_eq!(c.items.len(), 2, "chunk {chunk}");
            assert!(c.items[0].0.starts_with(r#"{"billing_code":"90837""#) && c.items[0].0.ends_with("}]}"));
            assert_eq!(&DOC[c.items[0].1 as usize..][..10], r#"{"billing_"#);
            assert!(c.items[1].0.contains("90834"));
            assert_eq!(c.skipped, 1);
            assert_eq!(c.refs, vec![r#"{"provider_group_id":1,"provider_groups":[]}"#]);
            assert!(c.root.contains(&("last_updated_on".into(), "2026-01-02".into())));
            assert!(c.root.contains(&("version".into(), "1.0.0".into())));
        }
    }

    #[test]
    fn reports_where_the_json_breaks() {
        let e = run(br#"{"in_network":[{"billing_code":"90837"]}"#, 5).unwrap_err();
        assert_eq!(e.offset, 38);
        let e = run(br#"{"in_network":[{"billing_code":"90837"}"#, 5).unwrap_err();
        assert!(e.message.contains("ends in the middle"), "{e}");
        let e = run(br#"{"a":1} {"#, 3).unwrap_err();
        assert_eq!(e.offset, 8);
        let e = run(br#"{"a":#}"#, 3).unwrap_err();
        assert_eq!(e.offset, 5);
        assert!(run(b"", 3).is_err());
        assert!(run(b"[]", 3).is_err());
    }

    #[test]
    fn structural_search_matches_the_plain_loop() {
        let text = br#"0123456789, 1111111111, "x" 22 ] 333 { 4 } [ 5"#;
        for start in 0..text.len() {
            let want = text[start..].iter().position(|b| b"\"{}[]".contains(b)).unwrap_or(text.len() - start);
            assert_eq!(find_structural(&text[start..]), want, "from {start}");
        }
        assert_eq!(find_structural(&[0xFB, 0xFD, 0xA2, 0x5C, 0x3B]), 5);
        let text = br#"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ\"x"#;
        for start in 0..text.len() {
            let want = text[start..].iter().position(|b| *b == b'"' || *b == b'\\');
            assert_eq!(find_quote_or_backslash(&text[start..]), want, "from {start}");
        }
    }
}
