//! ZIP code to Medicare payment locality, from CMS's own ZIP5 file (`zip_locality_2026.csv`).
//!
//! The file is shipped unchanged (43k rows, ~0.9 MB) and parsed on first use into one sorted
//! `u32` per ZIP (ZIP, locality slot, crosses-a-locality-line flag): about 170 KB, binary-searched.
//! Rows are joined to localities on (carrier, locality) only: the file's `state` column uses
//! CMS's own codes (EM/WM for Missouri, ZIPs of the DC suburbs under MD and VA, Pacific
//! territories priced at Hawaii), so it never decides anything here.

use std::sync::OnceLock;

pub(crate) const ZIP_FILE: &str = include_str!("../../data/medicare/zip_locality_2026.csv");

/// Where the ZIP table comes from, for notes beside an answer.
pub const ZIP_SOURCE: &str = "CMS ZIP Code to Carrier Locality file, 2026 Q2";

/// One ZIP's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipLocality {
    /// MAC-locality id, e.g. "06102-16".
    pub locality_id: String,
    /// CMS flags the ZIP as crossing a locality line: some addresses in it (ZIP+4 ranges) are
    /// priced in another locality.
    pub crosses_locality_line: bool,
}

#[derive(Debug)]
pub(crate) struct ZipTable {
    /// zip << 8 | slot << 1 | crosses flag, sorted by zip.
    entries: Vec<u32>,
    /// Slot -> MAC-locality id.
    ids: Vec<String>,
}

impl ZipTable {
    /// The shipped table, parsed once.
    pub(crate) fn shipped() -> &'static ZipTable {
        static TABLE: OnceLock<ZipTable> = OnceLock::new();
        TABLE.get_or_init(|| ZipTable::parse(ZIP_FILE).expect("the shipped ZIP file is valid"))
    }

    pub(crate) fn parse(text: &str) -> Result<ZipTable, String> {
        let mut lines = text.lines();
        let header = lines.next().unwrap_or("").trim_start_matches('\u{feff}').trim();
        if header != "zip,state,carrier,locality,rural,plus4_flag" {
            return Err(format!("unexpected ZIP file header `{header}`"));
        }
        let mut ids: Vec<String> = Vec::new();
        // (carrier, locality) as one number -> slot; 109 distinct pairs, 43k rows: no string is
        // built per row.
        let mut slots: std::collections::HashMap<u32, u32> = std::collections::HashMap::with_capacity(128);
        let mut entries = Vec::with_capacity(43_000);
        for (n, line) in lines.enumerate() {
            let line = line.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            let at = |e: &str| format!("ZIP file, data row {}: {e}", n + 1);
            let mut f = line.split(',');
            let (Some(zip), Some(_state), Some(carrier), Some(locality), Some(_rural), Some(plus4), None) =
                (f.next(), f.next(), f.next(), f.next(), f.next(), f.next(), f.next())
            else {
                return Err(at("expected 6 fields"));
            };
            let number = |s: &str, len: usize| -> Option<u32> {
                if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                Some(s.bytes().fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0')))
            };
            let (Some(zip), Some(carrier_n), Some(locality_n)) =
                (number(zip, 5), number(carrier, 5), number(locality, 2))
            else {
                return Err(at("ZIP, carrier or locality is not zero-padded digits"));
            };
            let crosses = match plus4 {
                "0" => 0,
                "1" => 1,
                _ => return Err(at("plus4_flag is not 0 or 1")),
            };
            let key = carrier_n * 100 + locality_n;
            let slot = match slots.get(&key) {
                Some(&s) => s,
                None => {
                    if ids.len() >= 128 {
                        return Err(at("more than 128 localities"));
                    }
                    ids.push(format!("{carrier}-{locality}"));
                    let s = (ids.len() - 1) as u32;
                    slots.insert(key, s);
                    s
                }
            };
            if entries.last().is_some_and(|&last: &u32| last >> 8 >= zip) {
                return Err(at("ZIPs are not sorted and unique"));
            }
            entries.push(zip << 8 | slot << 1 | crosses);
        }
        Ok(ZipTable { entries, ids })
    }

    pub(crate) fn entries_len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn get(&self, zip: u32) -> Option<ZipLocality> {
        let i = self.entries.binary_search_by_key(&zip, |e| e >> 8).ok()?;
        let e = self.entries[i];
        Some(ZipLocality {
            locality_id: self.ids[((e >> 1) & 0x7f) as usize].clone(),
            crosses_locality_line: e & 1 == 1,
        })
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    pub(crate) fn locality_ids(&self) -> &[String] {
        &self.ids
    }

    #[cfg(test)]
    pub(crate) fn crossing_count(&self) -> usize {
        self.entries.iter().filter(|e| *e & 1 == 1).count()
    }
}

/// "60614", "60614-1234", "606141234" -> 60614. Anything else is not a ZIP.
pub(crate) fn parse_zip(input: &str) -> Option<(u32, bool)> {
    let t = input.trim();
    let (five, plus4) = match t.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        // Only an all-ASCII 9-byte string can be split at byte 5 (a user may type any text).
        None if t.len() == 9 && t.is_ascii() => (&t[..5], Some(&t[5..])),
        None => (t, None),
    };
    let digits = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(five, 5) || plus4.is_some_and(|p| !digits(p, 4)) {
        return None;
    }
    five.parse().ok().map(|z| (z, plus4.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_forms() {
        assert_eq!(parse_zip("60614"), Some((60614, false)));
        assert_eq!(parse_zip(" 00210 "), Some((210, false)));
        assert_eq!(parse_zip("60614-1234"), Some((60614, true)));
        assert_eq!(parse_zip("606141234"), Some((60614, true)));
        assert_eq!(parse_zip("6061"), None);
        assert_eq!(parse_zip("60614-12"), None);
        assert_eq!(parse_zip("1320201"), None);
        // Nine bytes that are not nine characters: found by the small-parsers proptest.
        assert_eq!(parse_zip("שלום%"), None);
        assert_eq!(parse_zip("1234é567"), None);
    }

    #[test]
    fn bad_rows_are_refused() {
        let h = "zip,state,carrier,locality,rural,plus4_flag\n";
        assert!(ZipTable::parse("zip,carrier\n").is_err());
        assert!(ZipTable::parse(&format!("{h}60614,IL,06102,16,,2\n")).unwrap_err().contains("row 1"));
        assert!(ZipTable::parse(&format!("{h}60614,IL,6102,16,,0\n")).is_err());
        assert!(ZipTable::parse(&format!("{h}60614,IL,06102,16,,0\n60614,IL,06102,16,,0\n")).is_err());
        let t = ZipTable::parse(&format!("{h}60614,IL,06102,16,,0\n60615,IL,06102,16,,1\n")).unwrap();
        assert!(t.get(60615).unwrap().crosses_locality_line);
        assert_eq!(t.get(60616), None);
    }
}
