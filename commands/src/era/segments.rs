//! Splitting an X12 interchange into numbered segments, with the separators each ISA declares.

use std::fmt;

/// Where a file went wrong: the 1-based segment number in the file, the segment id and what
/// was expected there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EraError {
    pub segment: usize,
    pub segment_id: String,
    pub message: String,
}

impl EraError {
    pub fn new(segment: usize, segment_id: &str, message: impl Into<String>) -> EraError {
        EraError { segment, segment_id: segment_id.to_string(), message: message.into() }
    }
}

impl fmt::Display for EraError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segment_id.is_empty() {
            write!(f, "segment {}: {}", self.segment, self.message)
        } else {
            write!(f, "segment {} ({}): {}", self.segment, self.segment_id, self.message)
        }
    }
}

/// The four separators of one interchange, read from its fixed-width ISA segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub element: u8,
    pub component: u8,
    /// ISA11 in 00501; older versions put a standards id (`U`) there and have none.
    pub repetition: Option<u8>,
    pub segment: u8,
}

/// The ISA segment is always 106 bytes: these are the offsets of its 16 element separators.
const ISA_SEPARATOR_OFFSETS: [usize; 16] = [3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103];
pub const ISA_LEN: usize = 106;
/// More elements than any 835 segment has (PLB has 14, CAS 19): a longer one is not an 835.
const MAX_ELEMENTS: usize = 64;

impl Delimiters {
    /// Reads the separators from an ISA segment starting at `isa[0]`.
    pub fn from_isa(isa: &[u8], number: usize) -> Result<Delimiters, EraError> {
        let err = |m: String| EraError::new(number, "ISA", m);
        if isa.len() < ISA_LEN {
            return Err(err(format!("the ISA segment must be 106 characters long, the file ends after {}", isa.len())));
        }
        let element = isa[3];
        for (i, &at) in ISA_SEPARATOR_OFFSETS.iter().enumerate() {
            if isa[at] != element {
                return Err(err(format!(
                    "expected the element separator `{}` at character {} (before ISA{:02}): ISA must be fixed width",
                    element as char,
                    at + 1,
                    i + 1
                )));
            }
        }
        let component = isa[104];
        let segment = isa[105];
        let repetition = match isa[82] {
            b if b.is_ascii_alphanumeric() => None,
            b => Some(b),
        };
        let usable = |b: u8| b.is_ascii() && !b.is_ascii_alphanumeric() && b != b' ';
        if !usable(element) || !usable(component) || !(usable(segment) || segment == b'\n' || segment == b'\r') {
            return Err(err("ISA declares a letter, digit or space as a separator".to_string()));
        }
        let all = [Some(element), Some(component), repetition, Some(segment)];
        for i in 0..all.len() {
            for j in i + 1..all.len() {
                if all[i].is_some() && all[i] == all[j] {
                    return Err(err(format!(
                        "ISA declares `{}` as two different separators",
                        all[i].unwrap_or(0) as char
                    )));
                }
            }
        }
        Ok(Delimiters { element, component, repetition, segment })
    }

    pub fn is_delimiter(&self, b: u8) -> bool {
        b == self.element || b == self.component || b == self.segment || Some(b) == self.repetition
    }
}

/// One segment: its 1-based number in the file, its elements (`elements[0]` is the id) and the
/// separators in force.
#[derive(Debug, Clone)]
pub struct Segment<'a> {
    pub number: usize,
    pub elements: Vec<&'a str>,
    pub delimiters: Delimiters,
}

impl<'a> Segment<'a> {
    pub fn id(&self) -> &'a str {
        self.elements[0]
    }

    /// Element `i` (1-based, as X12 numbers them), trimmed; "" when absent.
    pub fn el(&self, i: usize) -> &'a str {
        self.elements.get(i).map(|e| e.trim()).unwrap_or("")
    }

    pub fn error(&self, message: impl Into<String>) -> EraError {
        EraError::new(self.number, self.id(), message)
    }

    /// Element `i`, which must be present.
    pub fn required(&self, i: usize, what: &str) -> Result<&'a str, EraError> {
        match self.el(i) {
            "" => Err(self.error(format!("{}{:02} ({what}) is missing", self.id(), i))),
            v => Ok(v),
        }
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The segments of a whole file, in order. Each ISA sets the separators until the next one;
/// whitespace around segments (CR/LF after the terminator, trailing blanks) is ignored.
pub struct Segments<'a> {
    text: &'a [u8],
    pos: usize,
    number: usize,
    delimiters: Option<Delimiters>,
    failed: bool,
}

impl<'a> Segments<'a> {
    /// `text` may start with a UTF-8 byte-order mark.
    pub fn new(text: &'a [u8]) -> Segments<'a> {
        let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(text);
        Segments { text, pos: 0, number: 0, delimiters: None, failed: false }
    }

    fn fail(&mut self, e: EraError) -> Option<Result<Segment<'a>, EraError>> {
        self.failed = true;
        Some(Err(e))
    }

    fn split(&mut self, raw: &'a [u8], d: Delimiters) -> Result<Segment<'a>, EraError> {
        let number = self.number;
        let text = std::str::from_utf8(raw).map_err(|e| {
            EraError::new(number, "", format!("not text: byte {} of the segment is not UTF-8", e.valid_up_to() + 1))
        })?;
        let elements: Vec<&'a str> = text.split(d.element as char).collect();
        let id = elements[0].trim();
        if !(2..=3).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
            let shown: String = text.chars().take(20).collect();
            return Err(EraError::new(number, "", format!("expected a segment id (2 or 3 capitals) at `{shown}`")));
        }
        if elements.len() > MAX_ELEMENTS {
            return Err(EraError::new(
                number,
                id,
                format!("{} elements; no 835 segment has more than {MAX_ELEMENTS}", elements.len()),
            ));
        }
        let mut elements = elements;
        elements[0] = id;
        Ok(Segment { number, elements, delimiters: d })
    }
}

impl<'a> Iterator for Segments<'a> {
    type Item = Result<Segment<'a>, EraError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        while self.pos < self.text.len() && is_space(self.text[self.pos]) {
            self.pos += 1;
        }
        if self.pos >= self.text.len() {
            return None;
        }
        self.number += 1;
        let rest = &self.text[self.pos..];
        if rest.starts_with(b"ISA") {
            let d = match Delimiters::from_isa(rest, self.number) {
                Ok(d) => d,
                Err(e) => return self.fail(e),
            };
            self.delimiters = Some(d);
            self.pos += ISA_LEN;
            return match self.split(&rest[..ISA_LEN - 1], d) {
                Ok(s) => Some(Ok(s)),
                Err(e) => self.fail(e),
            };
        }
        let Some(d) = self.delimiters else {
            let e = EraError::new(1, "", "an X12 file starts with an ISA segment; this one does not");
            return self.fail(e);
        };
        let (raw, next) = match memchr::memchr(d.segment, rest) {
            Some(end) => (&rest[..end], self.pos + end + 1),
            None => {
                let id: String = String::from_utf8_lossy(&rest[..rest.len().min(3)]).into_owned();
                let e = EraError::new(
                    self.number,
                    id.trim_end_matches(d.element as char),
                    format!("the file ends inside this segment: no segment terminator `{}`", d.segment as char),
                );
                return self.fail(e);
            }
        };
        self.pos = next;
        let mut end = raw.len();
        while end > 0 && is_space(raw[end - 1]) && !d.is_delimiter(raw[end - 1]) {
            end -= 1;
        }
        match self.split(&raw[..end], d) {
            Ok(s) => Some(Ok(s)),
            Err(e) => self.fail(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &str =
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260101*1200*^*00501*000000001*0*P*:~";

    #[test]
    fn isa_declares_the_separators() {
        assert_eq!(ISA.len(), ISA_LEN);
        let d = Delimiters::from_isa(ISA.as_bytes(), 1).unwrap();
        assert_eq!((d.element, d.component, d.repetition, d.segment), (b'*', b':', Some(b'^'), b'~'));
        let other = ISA.replace('*', "|").replace('~', "\n").replace(':', "\\");
        let d = Delimiters::from_isa(other.as_bytes(), 1).unwrap();
        assert_eq!((d.element, d.component, d.segment), (b'|', b'\\', b'\n'));
    }

    #[test]
    fn a_shifted_isa_is_refused_with_the_place() {
        let bad = ISA.replacen("SENDER ", "SENDER", 1);
        let e = Delimiters::from_isa(format!("{bad}GS*HP~").as_bytes(), 1).unwrap_err();
        assert!(e.message.contains("fixed width"), "{e}");
    }

    #[test]
    fn segments_are_numbered_across_bom_crlf_and_trailing_blanks() {
        let text = format!("\u{feff}{ISA}\r\nGS*HP*A~\r\n  ST*835*1~SE*2*1~  \r\n\r\n");
        let segs: Vec<_> = Segments::new(text.as_bytes()).map(|s| s.unwrap()).collect();
        let ids: Vec<_> = segs.iter().map(|s| (s.number, s.id())).collect();
        assert_eq!(ids, vec![(1, "ISA"), (2, "GS"), (3, "ST"), (4, "SE")]);
        assert_eq!(segs[2].el(2), "1");
        assert_eq!(segs[2].el(9), "");
    }

    #[test]
    fn a_missing_terminator_names_the_segment() {
        let text = format!("{ISA}GS*HP*A~ST*835");
        let e = Segments::new(text.as_bytes()).find_map(|s| s.err()).unwrap();
        assert_eq!((e.segment, e.segment_id.as_str()), (3, "ST"));
    }

    #[test]
    fn no_isa_no_file() {
        let e = Segments::new(b"GS*HP~").next().unwrap().unwrap_err();
        assert_eq!(e.segment, 1);
    }
}
