//! Reading an export as text: a byte-order mark is dropped, UTF-8 is read as it is, and a file
//! whose start is not UTF-8 is read as Windows-1252 (what Excel and many EHRs on Windows write).
//! UTF-16 is refused with the reason. Streams: only a 64 KiB window is ever looked at ahead.

use std::io::{self, Read};

/// How far into the file the encoding is decided.
const SNIFF: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum TextEncoding {
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "windows-1252")]
    Windows1252,
}

/// Wraps `inner` so it yields UTF-8, deciding the encoding from the first 64 KiB.
pub fn utf8_reader<R: Read + Send + 'static>(mut inner: R) -> Result<(Box<dyn Read + Send>, TextEncoding), String> {
    let mut head = Vec::with_capacity(SNIFF);
    (&mut inner).take(SNIFF as u64).read_to_end(&mut head).map_err(|e| format!("The file could not be read: {e}"))?;
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err(
            "The file is UTF-16 text; export or save it as CSV in UTF-8 (or Windows-1252) and import it again.".into(),
        );
    }
    let mut start = 0;
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        start = 3;
    }
    let body = &head[start..];
    let encoding = match std::str::from_utf8(body) {
        Ok(_) => TextEncoding::Utf8,
        // Cut in the middle of a character at the end of the window: still UTF-8.
        Err(e) if e.error_len().is_none() => TextEncoding::Utf8,
        Err(_) if start == 3 => {
            return Err("The file starts with a UTF-8 byte-order mark but is not valid UTF-8 text; save it again as UTF-8 and import it again.".into())
        }
        Err(_) => TextEncoding::Windows1252,
    };
    head.drain(..start);
    let joined = io::Cursor::new(head).chain(inner);
    Ok(match encoding {
        TextEncoding::Utf8 => (Box::new(joined), encoding),
        TextEncoding::Windows1252 => (Box::new(Windows1252Reader::new(joined)), encoding),
    })
}

/// Decodes Windows-1252 to UTF-8 as it streams (encoding_rs).
struct Windows1252Reader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    output: Vec<u8>,
    out_pos: usize,
    done: bool,
}

impl<R: Read> Windows1252Reader<R> {
    fn new(inner: R) -> Self {
        Windows1252Reader {
            inner,
            decoder: encoding_rs::WINDOWS_1252.new_decoder_without_bom_handling(),
            input: vec![0; 16 * 1024],
            output: Vec::with_capacity(48 * 1024),
            out_pos: 0,
            done: false,
        }
    }
}

impl<R: Read> Read for Windows1252Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos == self.output.len() {
            if self.done {
                return Ok(0);
            }
            let n = self.inner.read(&mut self.input)?;
            let last = n == 0;
            self.output.clear();
            self.out_pos = 0;
            // Every Windows-1252 byte is at most 3 UTF-8 bytes.
            self.output.resize(n * 3 + 16, 0);
            let (_, read, written, _) = self.decoder.decode_to_utf8(&self.input[..n], &mut self.output, last);
            debug_assert_eq!(read, n);
            self.output.truncate(written);
            self.done = last;
        }
        let n = buf.len().min(self.output.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.output[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> Result<(String, TextEncoding), String> {
        let (mut r, enc) = utf8_reader(io::Cursor::new(bytes.to_vec()))?;
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        Ok((s, enc))
    }

    #[test]
    fn bom_is_dropped() {
        assert_eq!(read_all(b"\xEF\xBB\xBFa,b\n").unwrap(), ("a,b\n".to_string(), TextEncoding::Utf8));
    }

    #[test]
    fn windows_1252_is_decoded() {
        let (s, enc) = read_all(b"Jos\xE9 \x93quoted\x94,\x80 5\n").unwrap();
        assert_eq!(enc, TextEncoding::Windows1252);
        assert_eq!(s, "Jos\u{e9} \u{201c}quoted\u{201d},\u{20ac} 5\n");
    }

    #[test]
    fn utf16_is_refused() {
        assert!(read_all(b"\xFF\xFEa\0").unwrap_err().contains("UTF-16"));
    }

    #[test]
    fn long_windows_1252_files_decode_across_chunks() {
        let mut bytes = Vec::new();
        for _ in 0..50_000 {
            bytes.extend_from_slice(b"Ren\xE9e,");
        }
        let (s, _) = read_all(&bytes).unwrap();
        assert_eq!(s.matches("Ren\u{e9}e,").count(), 50_000);
    }
}
