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
    deep: Deep,
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
            deep: Deep::default(),
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
            if self.deep.open > 0 {
                // Below the element's own keys: only the end of this container matters.
                match self.deep.skip(buf, i, self.base)? {
                    Some(close) => i = close,
                    None => break,
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
                    if self.depth > 3 {
                        // Scanned 64 bytes at a time until it closes (see `Deep`).
                        self.deep.open = 1;
                        i += 1;
                        continue;
                    }
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
        if !self.done || self.in_str || self.deep.open > 0 {
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

/// The scan below an element's own keys (depth > 3), where nothing is read: it only has to find
/// the byte that closes the container it started in. It works on 64-byte blocks the way simdjson's
/// first stage does: bit masks of quotes, backslashes and brackets (SSE2 on x86_64), escaped quotes
/// removed, the in-string mask by a prefix XOR of the quotes, and then only a popcount of the
/// brackets outside strings, unless the block holds enough closing brackets to end the container,
/// when they are walked one by one. Brackets are counted per kind (`{}` and `[]` must balance
/// inside the container, and the closing one must match its opener), not matched one by one.
#[derive(Debug, Default)]
struct Deep {
    /// Containers open below depth 3, the first one included; 0 when not in such a region.
    open: u64,
    in_str: bool,
    /// The next byte is escaped by a backslash at the end of the last block.
    escaped: bool,
    /// `{` minus `}` and `[` minus `]` inside the region, its first container excluded.
    curly: i64,
    square: i64,
}

/// Bit i set when byte i of the block is the thing named.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Masks {
    quote: u64,
    backslash: u64,
    /// `{` or `[`.
    open: u64,
    /// `}` or `]`.
    close: u64,
    /// Bit 0x20 set: tells `{}` from `[]`.
    curly: u64,
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn masks(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics are always available; every
    // load is unaligned and reads 16 bytes inside the 64-byte block.
    unsafe {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let fold = _mm_set1_epi8(0x20);
        let open = _mm_set1_epi8(b'{' as i8);
        let close = _mm_set1_epi8(b'}' as i8);
        let mut m = Masks::default();
        for k in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k) as *const __m128i);
            // `[` and `{` differ only in bit 0x20, as do `]` and `}`.
            let folded = _mm_or_si128(v, fold);
            let bits = |x: __m128i| (_mm_movemask_epi8(x) as u32 as u64) << (16 * k);
            m.quote |= bits(_mm_cmpeq_epi8(v, quote));
            m.backslash |= bits(_mm_cmpeq_epi8(v, backslash));
            m.open |= bits(_mm_cmpeq_epi8(folded, open));
            m.close |= bits(_mm_cmpeq_epi8(folded, close));
            // Bit 0x20 of each byte moved to its top bit (16-bit lanes; the bits that cross into
            // the upper byte land below its top bit and are not read).
            m.curly |= bits(_mm_slli_epi16(v, 2));
        }
        m
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn masks(block: &[u8; 64]) -> Masks {
    masks_plain(block)
}

/// The same masks byte by byte: the reference for the SIMD version, and other architectures.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn masks_plain(block: &[u8; 64]) -> Masks {
    let mut m = Masks::default();
    for (i, &b) in block.iter().enumerate() {
        let bit = 1u64 << i;
        let folded = b | 0x20;
        if b == b'"' {
            m.quote |= bit;
        }
        if b == b'\\' {
            m.backslash |= bit;
        }
        if folded == b'{' {
            m.open |= bit;
        }
        if folded == b'}' {
            m.close |= bit;
        }
        if b & 0x20 != 0 {
            m.curly |= bit;
        }
    }
    m
}

/// Bit i set when an odd number of bits at or below i are set: inside a string, counting its
/// opening quote and not its closing one.
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The same masks with AVX2, two 32-byte loads a block.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn masks_avx2(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::*;
    // SAFETY (for the whole body): the caller checked that the CPU has AVX2; both loads are
    // unaligned and inside the 64-byte block.
    unsafe {
        let quote = _mm256_set1_epi8(b'"' as i8);
        let backslash = _mm256_set1_epi8(b'\\' as i8);
        let fold = _mm256_set1_epi8(0x20);
        let open = _mm256_set1_epi8(b'{' as i8);
        let close = _mm256_set1_epi8(b'}' as i8);
        let mut m = Masks::default();
        for k in 0..2 {
            let v = _mm256_loadu_si256(block.as_ptr().add(32 * k) as *const __m256i);
            let folded = _mm256_or_si256(v, fold);
            let bits = |x: __m256i| (_mm256_movemask_epi8(x) as u32 as u64) << (32 * k);
            m.quote |= bits(_mm256_cmpeq_epi8(v, quote));
            m.backslash |= bits(_mm256_cmpeq_epi8(v, backslash));
            m.open |= bits(_mm256_cmpeq_epi8(folded, open));
            m.close |= bits(_mm256_cmpeq_epi8(folded, close));
            m.curly |= bits(_mm256_slli_epi16(v, 2));
        }
        m
    }
}

impl Deep {
    /// Scans from `i`; the index of the byte that closes the region, or None when `buf` ends first.
    fn skip(&mut self, buf: &[u8], i: usize, base: u64) -> Result<Option<usize>, SplitError> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { self.skip_avx2(buf, i, base) };
        }
        self.skip_with(buf, i, base, masks)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn skip_avx2(&mut self, buf: &[u8], i: usize, base: u64) -> Result<Option<usize>, SplitError> {
        // SAFETY: this function runs only where AVX2 is available.
        self.skip_with(buf, i, base, |b| unsafe { masks_avx2(b) })
    }

    #[inline(always)]
    fn skip_with(
        &mut self,
        buf: &[u8],
        mut i: usize,
        base: u64,
        masks: impl Fn(&[u8; 64]) -> Masks,
    ) -> Result<Option<usize>, SplitError> {
        let n = buf.len();
        let mismatch = |at: usize| SplitError {
            offset: base + at as u64,
            message: "brackets do not match inside this element".into(),
        };
        while i < n {
            let len = (n - i).min(64);
            let m = if len == 64 {
                masks(buf[i..i + 64].try_into().expect("64 bytes"))
            } else {
                // The tail, padded with spaces (nothing in a mask).
                let mut pad = [b' '; 64];
                pad[..len].copy_from_slice(&buf[i..]);
                masks(&pad)
            };
            // Escaped bytes: backslashes are rare, so they are walked one by one.
            let mut escaped = u64::from(self.escaped);
            self.escaped = false;
            let mut bs = m.backslash;
            while bs != 0 {
                let p = bs.trailing_zeros() as usize;
                bs &= bs - 1;
                if escaped >> p & 1 == 1 {
                    continue;
                }
                if p + 1 >= len {
                    self.escaped = true;
                } else {
                    escaped |= 1 << (p + 1);
                }
            }
            let quotes = m.quote & !escaped;
            let mut in_str = prefix_xor(quotes);
            if self.in_str {
                in_str = !in_str;
            }
            let open = m.open & !in_str;
            let close = m.close & !in_str;
            let closes = u64::from(close.count_ones());
            if closes < self.open {
                // The region cannot end in this block: count and move on.
                self.open = self.open + u64::from(open.count_ones()) - closes;
                self.curly += i64::from((open & m.curly).count_ones()) - i64::from((close & m.curly).count_ones());
                self.square += i64::from((open & !m.curly).count_ones()) - i64::from((close & !m.curly).count_ones());
                self.in_str = in_str >> (len - 1) & 1 == 1;
                i += len;
                continue;
            }
            let mut brackets = open | close;
            while brackets != 0 {
                let p = brackets.trailing_zeros() as usize;
                let bit = 1u64 << p;
                brackets &= brackets - 1;
                let count = if m.curly & bit != 0 { &mut self.curly } else { &mut self.square };
                if open & bit != 0 {
                    self.open += 1;
                    *count += 1;
                    continue;
                }
                self.open -= 1;
                if self.open == 0 {
                    if self.curly != 0 || self.square != 0 {
                        return Err(mismatch(i + p));
                    }
                    *self = Deep::default();
                    return Ok(Some(i + p));
                }
                *count -= 1;
                if *count < 0 {
                    return Err(mismatch(i + p));
                }
            }
            self.in_str = in_str >> (len - 1) & 1 == 1;
            i += len;
        }
        Ok(None)
    }
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
    fn block_masks_match_the_plain_loop() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for round in 0..2000 {
            let mut block = [0u8; 64];
            for b in block.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Mostly the interesting bytes, sometimes anything.
                *b = if round % 3 == 0 { x as u8 } else { b"\"\\{}[]a,:0 \xFB\xFD\xDB"[(x % 14) as usize] };
            }
            assert_eq!(masks(&block), masks_plain(&block), "{block:?}");
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2.
                assert_eq!(unsafe { masks_avx2(&block) }, masks_plain(&block), "{block:?}");
            }
        }
        // Quotes at 1, 4 and 7: inside from 1 to 3 and from 7 on.
        assert_eq!(prefix_xor(0b1001_0010), 0xFFFF_FFFF_FFFF_FF8E);
    }

    #[test]
    fn deep_region_ends_at_its_closing_bracket() {
        // From just after an opening `[`: strings with brackets and escapes, nested containers.
        let body = br#"{"a":"]}\"[","b":[[1,{"c":"\\"}]],"d":"x\\\"]"}, 2 ]  , 5]"#;
        let want = body.windows(3).position(|w| w == b"2 ]").unwrap() + 2;
        assert_eq!(body[want], b']');
        for chunk in [1, 2, 3, 5, 17, 63, 64, 65, 200] {
            let mut d = Deep { open: 1, ..Deep::default() };
            let mut got = None;
            let mut at = 0;
            for part in body.chunks(chunk) {
                if let Some(p) = d.skip(part, 0, 0).unwrap() {
                    got = Some(at + p);
                    break;
                }
                at += part.len();
            }
            assert_eq!(got, Some(want), "chunk {chunk}");
        }
        let mut d = Deep { open: 1, ..Deep::default() };
        assert!(d.skip(b"[1}]", 0, 0).is_err());
    }

    #[test]
    fn quote_search_matches_the_plain_loop() {
        let text = br#"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ\"x"#;
        for start in 0..text.len() {
            let want = text[start..].iter().position(|b| *b == b'"' || *b == b'\\');
            assert_eq!(find_quote_or_backslash(&text[start..]), want, "from {start}");
        }
    }
}
