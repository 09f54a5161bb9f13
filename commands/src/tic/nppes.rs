//! NPPES: which NPIs are behavioral-health clinicians, their credential bucket and practice state.
//!
//! Reads CMS's monthly "NPPES Data Dissemination" `npidata_pfile_*.csv` (one row per NPI, about 330
//! columns, 9 million rows) once, with the csv crate, keeping the few hundred thousand rows of
//! individuals with a behavioral-health taxonomy in any of the 15 taxonomy slots.

use serde::Serialize;
use std::io::Read;

/// The credential bucket of a clinician, from the primary behavioral taxonomy. The keys are the
/// practice credentials of `/setup credential:` where one exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bucket {
    Psychiatrist = 1,
    Psychologist = 2,
    Np = 3,
    Lcsw = 4,
    Lmft = 5,
    Lpc = 6,
    Other = 7,
}

impl Bucket {
    pub const ALL: [Bucket; 7] = [
        Bucket::Psychiatrist,
        Bucket::Psychologist,
        Bucket::Np,
        Bucket::Lcsw,
        Bucket::Lmft,
        Bucket::Lpc,
        Bucket::Other,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Bucket::Psychiatrist => "psychiatrist",
            Bucket::Psychologist => "psychologist",
            Bucket::Np => "np",
            Bucket::Lcsw => "lcsw",
            Bucket::Lmft => "lmft",
            Bucket::Lpc => "lpc",
            Bucket::Other => "other",
        }
    }

    pub fn from_key(key: &str) -> Option<Bucket> {
        Bucket::ALL.into_iter().find(|b| b.key().eq_ignore_ascii_case(key.trim()))
    }

    pub fn from_u8(v: u8) -> Option<Bucket> {
        Bucket::ALL.into_iter().find(|b| *b as u8 == v)
    }

    pub fn label(self) -> &'static str {
        match self {
            Bucket::Psychiatrist => "psychiatrists",
            Bucket::Psychologist => "psychologists",
            Bucket::Np => "psychiatric nurse practitioners and clinical nurse specialists",
            Bucket::Lcsw => "clinical social workers",
            Bucket::Lmft => "marriage and family therapists",
            Bucket::Lpc => "counselors (LPC/LMHC)",
            Bucket::Other => "other behavioral clinicians",
        }
    }
}

/// The behavioral-health taxonomy codes, from the NUCC Health Care Provider Taxonomy code set
/// (nucc.org, the codes NPPES uses), with their bucket. Any 103T (psychologist) specialty counts.
/// Left out on purpose: 101YS0200X school counselor; 103K00000X behavior analyst (ABA bills other
/// codes); organisations such as 261QM0801X mental health clinic and 251S00000X community
/// behavioral health agency (organisations are not clinicians; entity type 2 rows are skipped).
pub const TAXONOMIES: &[(&str, Bucket)] = &[
    ("1041C0700X", Bucket::Lcsw),         // social worker, clinical
    ("104100000X", Bucket::Lcsw),         // social worker
    ("101YM0800X", Bucket::Lpc),          // counselor, mental health
    ("101YP2500X", Bucket::Lpc),          // counselor, professional
    ("101Y00000X", Bucket::Lpc),          // counselor
    ("101YA0400X", Bucket::Lpc),          // counselor, addiction (substance use disorder)
    ("106H00000X", Bucket::Lmft),         // marriage & family therapist
    ("103T00000X", Bucket::Psychologist), // psychologist (and every 103T specialty, below)
    ("102L00000X", Bucket::Other),        // psychoanalyst
    ("2084P0800X", Bucket::Psychiatrist), // psychiatry & neurology, psychiatry
    ("2084P0804X", Bucket::Psychiatrist), // psychiatry & neurology, child & adolescent psychiatry
    ("363LP0808X", Bucket::Np),           // nurse practitioner, psychiatric/mental health
    ("364SP0808X", Bucket::Np),           // clinical nurse specialist, psychiatric/mental health
];

/// The bucket of a taxonomy code, if it is a behavioral one.
pub fn bucket_of(code: &[u8]) -> Option<Bucket> {
    if code.len() != 10 {
        return None;
    }
    let code = std::str::from_utf8(code).ok()?;
    let code = code.to_ascii_uppercase();
    if code.starts_with("103T") {
        return Some(Bucket::Psychologist);
    }
    TAXONOMIES.iter().find(|(c, _)| *c == code).map(|(_, b)| *b)
}

/// One behavioral clinician.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clinician {
    pub npi: u64,
    pub bucket: Bucket,
    /// The taxonomy the bucket comes from.
    pub taxonomy: String,
    pub state: String,
    /// First five digits of the practice ZIP.
    pub zip: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NppesStats {
    pub rows: u64,
    pub clinicians: u64,
    pub organisations_skipped: u64,
    pub deactivated_skipped: u64,
}

struct Columns {
    npi: usize,
    entity: usize,
    deactivated: Option<usize>,
    reactivated: Option<usize>,
    state: usize,
    zip: usize,
    taxonomy: Vec<usize>,
    primary: Vec<usize>,
}

fn columns(header: &csv::ByteRecord) -> Result<Columns, String> {
    let find = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name.as_bytes()));
    let need = |name: &str| find(name).ok_or_else(|| format!("the NPPES file has no `{name}` column"));
    let mut taxonomy = Vec::new();
    let mut primary = Vec::new();
    for i in 1..=15 {
        if let Some(t) = find(&format!("Healthcare Provider Taxonomy Code_{i}")) {
            taxonomy.push(t);
            primary.push(find(&format!("Healthcare Provider Primary Taxonomy Switch_{i}")).unwrap_or(usize::MAX));
        }
    }
    if taxonomy.is_empty() {
        return Err("the NPPES file has no `Healthcare Provider Taxonomy Code_1` column".into());
    }
    Ok(Columns {
        npi: need("NPI")?,
        entity: need("Entity Type Code")?,
        deactivated: find("NPI Deactivation Date"),
        reactivated: find("NPI Reactivation Date"),
        state: need("Provider Business Practice Location Address State Name")?,
        zip: need("Provider Business Practice Location Address Postal Code")?,
        taxonomy,
        primary,
    })
}

fn field(rec: &csv::ByteRecord, i: usize) -> &[u8] {
    rec.get(i).unwrap_or(b"")
}

/// Streams the NPPES CSV and calls `each` for every behavioral clinician. A row that cannot be
/// read is an error naming its line.
pub fn read<R: Read>(input: R, mut each: impl FnMut(Clinician)) -> Result<NppesStats, String> {
    read_until(input, |c| {
        each(c);
        true
    })
}

/// Whether a file starts like a ZIP archive (the form CMS publishes the NPPES file in).
pub fn is_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
}

/// The NPPES ZIP as published ("NPPES Data Dissemination"): the one `npidata_pfile_*.csv` entry
/// (not its `_fileheader.csv`) is streamed like the CSV. Needs a seekable file: a ZIP's directory
/// is at its end. Entries stored or deflated are read; other methods (Deflate64) are refused with
/// a message to unzip first.
pub fn read_zip<R: Read + std::io::Seek>(input: R, each: impl FnMut(Clinician) -> bool) -> Result<NppesStats, String> {
    let mut zip = zip::ZipArchive::new(input).map_err(|e| format!("reading the NPPES ZIP: {e}"))?;
    let mut names: Vec<String> = zip
        .file_names()
        .filter(|n| {
            let base = n.rsplit('/').next().unwrap_or(n).to_ascii_lowercase();
            base.starts_with("npidata_pfile") && base.ends_with(".csv") && !base.contains("fileheader")
        })
        .map(str::to_string)
        .collect();
    names.sort();
    let name = match names.as_slice() {
        [one] => one.clone(),
        [] => return Err("the ZIP holds no npidata_pfile_*.csv; is it the NPPES Data Dissemination file?".into()),
        many => {
            return Err(format!(
                "the ZIP holds several npidata_pfile CSVs ({}); unzip it and pass one",
                many.join(", ")
            ))
        }
    };
    let entry = zip.by_name(&name).map_err(|e| format!("{name} in the ZIP: {e}; unzip it and pass the CSV instead"))?;
    read_until(entry, each).map_err(|e| format!("{name}: {e}"))
}

/// [`read`], stopping early (with the rows so far) when `each` returns false.
pub fn read_until<R: Read>(input: R, mut each: impl FnMut(Clinician) -> bool) -> Result<NppesStats, String> {
    let mut rdr =
        csv::ReaderBuilder::new().has_headers(true).flexible(true).buffer_capacity(1 << 20).from_reader(input);
    let header = rdr.byte_headers().map_err(|e| format!("reading the NPPES header: {e}"))?.clone();
    let cols = columns(&header)?;
    let mut stats = NppesStats::default();
    let mut rec = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(stats.rows + 2);
                return Err(format!("NPPES line {line}: {e}"));
            }
        }
        stats.rows += 1;
        // Cheapest test first: most rows have no behavioral taxonomy at all.
        let mut best: Option<(Bucket, usize, bool)> = None;
        for (slot, &c) in cols.taxonomy.iter().enumerate() {
            let code = field(&rec, c);
            if code.is_empty() {
                continue;
            }
            let Some(b) = bucket_of(code) else { continue };
            let is_primary = field(&rec, cols.primary[slot]).eq_ignore_ascii_case(b"Y");
            best = match best {
                None => Some((b, c, is_primary)),
                Some((_, _, true)) => best,
                Some(_) if is_primary => Some((b, c, true)),
                Some((ob, oc, op)) => Some(if b < ob { (b, c, false) } else { (ob, oc, op) }),
            };
        }
        let Some((bucket, tax_col, _)) = best else { continue };
        if field(&rec, cols.entity) != b"1" {
            stats.organisations_skipped += 1;
            continue;
        }
        let deactivated = cols.deactivated.is_some_and(|c| !field(&rec, c).is_empty());
        let reactivated = cols.reactivated.is_some_and(|c| !field(&rec, c).is_empty());
        if deactivated && !reactivated {
            stats.deactivated_skipped += 1;
            continue;
        }
        let npi = std::str::from_utf8(field(&rec, cols.npi)).ok().and_then(|s| s.trim().parse::<u64>().ok());
        let Some(npi) = npi.filter(|n| (1_000_000_000..10_000_000_000).contains(n)) else {
            return Err(format!("NPPES line {}: `NPI` is not a 10-digit number", stats.rows + 1));
        };
        let text = |c: usize| String::from_utf8_lossy(field(&rec, c)).trim().to_string();
        let state = text(cols.state).to_ascii_uppercase();
        let zip: String = text(cols.zip).chars().take(5).collect();
        stats.clinicians += 1;
        if !each(Clinician { npi, bucket, taxonomy: text(tax_col).to_ascii_uppercase(), state, zip }) {
            break;
        }
    }
    Ok(stats)
}

/// The behavioral NPIs held in memory during an import: one sorted `u64` per clinician (NPI,
/// state index and bucket packed), so a national table of a million clinicians takes 8 MB.
#[derive(Debug, Clone, Default)]
pub struct BhNpis {
    packed: Vec<u64>,
    states: Vec<String>,
    /// A radix index over `packed`: NPIs from `min` in buckets of `1 << shift`; bucket b's entries
    /// are `packed[index[b]..index[b + 1]]` (about one each), so a lookup is one or two cache
    /// misses instead of a twenty-step binary search. Four bytes per clinician at most.
    index: Vec<u32>,
    min: u64,
    shift: u32,
}

impl BhNpis {
    pub fn from_rows(rows: impl IntoIterator<Item = (u64, String, Bucket)>) -> BhNpis {
        let mut t = BhNpis::default();
        for (npi, state, bucket) in rows {
            let s = match t.states.iter().position(|x| *x == state) {
                Some(i) => i,
                None => {
                    t.states.push(state);
                    t.states.len() - 1
                }
            };
            let s = s.min(255) as u64;
            t.packed.push(npi << 16 | s << 8 | bucket as u64);
        }
        t.packed.sort_unstable();
        t.packed.dedup_by_key(|v| *v >> 16);
        t.packed.shrink_to_fit();
        t.build_index();
        t
    }

    fn build_index(&mut self) {
        let (Some(first), Some(last)) = (self.packed.first(), self.packed.last()) else { return };
        let (min, max) = (first >> 16, last >> 16);
        let mut shift = 0;
        while ((max - min) >> shift) as usize >= self.packed.len() {
            shift += 1;
        }
        let buckets = ((max - min) >> shift) as usize + 1;
        let mut index = Vec::with_capacity(buckets + 1);
        let mut i = 0usize;
        for b in 0..buckets as u64 {
            while i < self.packed.len() && ((self.packed[i] >> 16) - min) >> shift < b {
                i += 1;
            }
            index.push(i as u32);
        }
        index.push(self.packed.len() as u32);
        self.index = index;
        self.min = min;
        self.shift = shift;
    }

    pub fn len(&self) -> usize {
        self.packed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packed.is_empty()
    }

    /// (state index, bucket) of a behavioral NPI.
    #[inline]
    pub fn get(&self, npi: u64) -> Option<(u8, Bucket)> {
        let b = (npi.checked_sub(self.min)? >> self.shift) as usize;
        if b + 1 >= self.index.len() {
            return None;
        }
        let bucket = &self.packed[self.index[b] as usize..self.index[b + 1] as usize];
        let v = *bucket.iter().find(|v| (*v >> 16) >= npi)?;
        if v >> 16 != npi {
            return None;
        }
        Some(((v >> 8) as u8, Bucket::from_u8(v as u8)?))
    }

    pub fn state_name(&self, index: u8) -> &str {
        self.states.get(index as usize).map(String::as_str).unwrap_or("")
    }

    pub fn state_index(&self, state: &str) -> Option<u8> {
        self.states.iter().position(|s| s.eq_ignore_ascii_case(state)).map(|i| i as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_any_103t_and_the_listed_codes() {
        assert_eq!(bucket_of(b"103TC0700X"), Some(Bucket::Psychologist));
        assert_eq!(bucket_of(b"1041c0700x"), Some(Bucket::Lcsw));
        assert_eq!(bucket_of(b"101YS0200X"), None);
        assert_eq!(bucket_of(b"207Q00000X"), None);
        assert_eq!(bucket_of(b"103K00000X"), None);
    }

    #[test]
    fn packed_lookup() {
        let t = BhNpis::from_rows([
            (1234567890, "IL".to_string(), Bucket::Lcsw),
            (1111111111, "NY".to_string(), Bucket::Psychologist),
        ]);
        assert_eq!(t.get(1234567890).map(|(s, b)| (t.state_name(s).to_string(), b)), Some(("IL".into(), Bucket::Lcsw)));
        assert_eq!(t.get(1111111111).map(|x| x.1), Some(Bucket::Psychologist));
        assert_eq!(t.get(1111111112), None);
        assert_eq!(t.state_index("ny"), Some(1));
        assert_eq!(t.get(0), None);
        assert_eq!(t.get(u64::MAX), None);
        assert_eq!(BhNpis::default().get(1234567890), None);
    }

    #[test]
    fn indexed_lookup_matches_a_binary_search() {
        let mut x: u64 = 88172645463325252;
        let mut npis: Vec<u64> = (0..5000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Clustered and spread: runs of neighbours and random ten-digit numbers.
                if i % 3 == 0 {
                    1_500_000_000 + i
                } else {
                    1_000_000_000 + x % 9_000_000_000
                }
            })
            .collect();
        let t = BhNpis::from_rows(npis.iter().map(|n| (*n, "IL".to_string(), Bucket::Lpc)));
        npis.sort_unstable();
        npis.dedup();
        for &n in &npis {
            assert!(t.get(n).is_some(), "{n}");
            assert_eq!(t.get(n + 1).is_some(), npis.binary_search(&(n + 1)).is_ok(), "{}", n + 1);
            assert_eq!(t.get(n - 1).is_some(), npis.binary_search(&(n - 1)).is_ok(), "{}", n - 1);
        }
        let one = BhNpis::from_rows([(1234567890, "IL".to_string(), Bucket::Lpc)]);
        assert!(one.get(1234567890).is_some() && one.get(1234567891).is_none() && one.get(1234567889).is_none());
    }
}
