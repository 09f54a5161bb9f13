//! Generated inputs shaped like the real ones, for tests and benchmarks: an NPPES CSV in the real
//! column layout (330 columns) and an in-network file with mostly non-behavioral items and a large
//! `provider_references` at the end.

use std::io::{self, Write};

/// The NPPES `npidata_pfile` header in its real order (330 columns).
pub fn nppes_header() -> Vec<String> {
    let mut h: Vec<String> = [
        "NPI",
        "Entity Type Code",
        "Replacement NPI",
        "Employer Identification Number (EIN)",
        "Provider Organization Name (Legal Business Name)",
        "Provider Last Name (Legal Name)",
        "Provider First Name",
        "Provider Middle Name",
        "Provider Name Prefix Text",
        "Provider Name Suffix Text",
        "Provider Credential Text",
        "Provider Other Organization Name",
        "Provider Other Organization Name Type Code",
        "Provider Other Last Name",
        "Provider Other First Name",
        "Provider Other Middle Name",
        "Provider Other Name Prefix Text",
        "Provider Other Name Suffix Text",
        "Provider Other Credential Text",
        "Provider Other Last Name Type Code",
        "Provider First Line Business Mailing Address",
        "Provider Second Line Business Mailing Address",
        "Provider Business Mailing Address City Name",
        "Provider Business Mailing Address State Name",
        "Provider Business Mailing Address Postal Code",
        "Provider Business Mailing Address Country Code (If outside U.S.)",
        "Provider Business Mailing Address Telephone Number",
        "Provider Business Mailing Address Fax Number",
        "Provider First Line Business Practice Location Address",
        "Provider Second Line Business Practice Location Address",
        "Provider Business Practice Location Address City Name",
        "Provider Business Practice Location Address State Name",
        "Provider Business Practice Location Address Postal Code",
        "Provider Business Practice Location Address Country Code (If outside U.S.)",
        "Provider Business Practice Location Address Telephone Number",
        "Provider Business Practice Location Address Fax Number",
        "Provider Enumeration Date",
        "Last Update Date",
        "NPI Deactivation Reason Code",
        "NPI Deactivation Date",
        "NPI Reactivation Date",
        "Provider Sex Code",
        "Authorized Official Last Name",
        "Authorized Official First Name",
        "Authorized Official Middle Name",
        "Authorized Official Title or Position",
        "Authorized Official Telephone Number",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for i in 1..=15 {
        h.push(format!("Healthcare Provider Taxonomy Code_{i}"));
        h.push(format!("Provider License Number_{i}"));
        h.push(format!("Provider License Number State Code_{i}"));
        h.push(format!("Healthcare Provider Primary Taxonomy Switch_{i}"));
    }
    for i in 1..=50 {
        h.push(format!("Other Provider Identifier_{i}"));
        h.push(format!("Other Provider Identifier Type Code_{i}"));
        h.push(format!("Other Provider Identifier State_{i}"));
        h.push(format!("Other Provider Identifier Issuer_{i}"));
    }
    for s in [
        "Is Sole Proprietor",
        "Is Organization Subpart",
        "Parent Organization LBN",
        "Parent Organization TIN",
        "Authorized Official Name Prefix Text",
        "Authorized Official Name Suffix Text",
        "Authorized Official Credential Text",
    ] {
        h.push(s.to_string());
    }
    for i in 1..=15 {
        h.push(format!("Healthcare Provider Taxonomy Group_{i}"));
    }
    h.push("Certification Date".to_string());
    h
}

/// One NPPES row.
pub struct NppesRow<'a> {
    pub npi: u64,
    pub entity: u8,
    pub credential: &'a str,
    pub state: &'a str,
    pub zip: &'a str,
    /// (taxonomy, primary)
    pub taxonomies: &'a [(&'a str, bool)],
    pub deactivated: bool,
}

fn quoted(w: &mut impl Write, s: &str) -> io::Result<()> {
    // NPPES quotes every field, empty ones too.
    w.write_all(b"\"")?;
    w.write_all(s.as_bytes())?;
    w.write_all(b"\"")
}

pub fn write_nppes_header(w: &mut impl Write) -> io::Result<()> {
    let h = nppes_header();
    for (i, c) in h.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        quoted(w, c)?;
    }
    w.write_all(b"\n")
}

pub fn write_nppes_row(w: &mut impl Write, r: &NppesRow) -> io::Result<()> {
    write_nppes_row_as(w, r, true)
}

/// One row; `quote_empty` false writes empty fields as nothing (valid CSV, about 60% smaller
/// than NPPES's `""` for each of the ~300 empty fields), for large benchmark files.
pub fn write_nppes_row_as(w: &mut impl Write, r: &NppesRow, quote_empty: bool) -> io::Result<()> {
    let npi = r.npi.to_string();
    let entity = r.entity.to_string();
    let zip = format!("{}1234", r.zip);
    let mut fields: Vec<(usize, &str)> = vec![
        (0, &npi),
        (1, &entity),
        (5, "DOE"),
        (6, "JANE"),
        (10, r.credential),
        (22, "CHICAGO"),
        (23, r.state),
        (24, &zip),
        (30, "CHICAGO"),
        (31, r.state),
        (32, &zip),
        (33, "US"),
        (36, "05/23/2007"),
        (37, "07/08/2021"),
    ];
    if r.deactivated {
        fields.push((39, "01/01/2024"));
    }
    for (i, (code, primary)) in r.taxonomies.iter().enumerate().take(15) {
        fields.push((47 + 4 * i, code));
        fields.push((48 + 4 * i, "LIC12345"));
        fields.push((49 + 4 * i, r.state));
        fields.push((50 + 4 * i, if *primary { "Y" } else { "N" }));
    }
    fields.sort_by_key(|f| f.0);
    let mut next = fields.iter().peekable();
    for i in 0..330 {
        if i > 0 {
            w.write_all(b",")?;
        }
        match next.peek() {
            Some((at, v)) if *at == i => {
                quoted(w, v)?;
                next.next();
            }
            _ if quote_empty => w.write_all(b"\"\"")?,
            _ => {}
        }
    }
    w.write_all(b"\n")
}

/// The shape of a generated in-network file.
#[derive(Debug, Clone)]
pub struct InNetworkSpec {
    /// Items with codes that are not kept (revenue codes, surgery, labs).
    pub other_items: usize,
    /// Items with behavioral codes (cycled through `bh_codes`).
    pub bh_items: usize,
    pub bh_codes: Vec<String>,
    /// Negotiated-rate entries per item.
    pub rates_per_item: usize,
    /// Provider references (groups), written after `in_network`.
    pub groups: usize,
    /// NPIs per group (cycled 1..=max).
    pub max_npis_per_group: usize,
    /// The first NPI; group g holds NPIs from `first_npi + g * max_npis_per_group`.
    pub first_npi: u64,
}

/// Writes a file shaped like a real one: metadata, then `in_network`, then `provider_references`.
pub fn write_in_network(w: &mut impl Write, s: &InNetworkSpec) -> io::Result<()> {
    write!(
        w,
        "{{\"reporting_entity_name\":\"Generated Health\",\"reporting_entity_type\":\"health insurance issuer\",\"last_updated_on\":\"2026-05-01\",\"version\":\"1.3.1\",\"in_network\":["
    )?;
    let total = s.other_items + s.bh_items;
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..total {
        if i > 0 {
            w.write_all(b",")?;
        }
        // Behavioral items sit in the middle of the array, as in real files.
        let bh = i >= s.other_items / 2 && i < s.other_items / 2 + s.bh_items;
        let (kind, code) = if bh {
            ("CPT", s.bh_codes[(i - s.other_items / 2) % s.bh_codes.len()].clone())
        } else if i % 3 == 0 {
            ("RC", format!("{:04}", i % 1000))
        } else {
            ("CPT", format!("{}", 10000 + (i % 79000)))
        };
        write!(
            w,
            "{{\"negotiation_arrangement\":\"ffs\",\"name\":\"Generated service {i}\",\"billing_code_type\":\"{kind}\",\"billing_code_type_version\":\"2026\",\"billing_code\":\"{code}\",\"description\":\"A generated description of service number {i} for benchmarking\",\"negotiated_rates\":["
        )?;
        for r in 0..s.rates_per_item {
            if r > 0 {
                w.write_all(b",")?;
            }
            let refs: Vec<String> = (0..3).map(|_| (next() % s.groups.max(1) as u64).to_string()).collect();
            let cents = 6000 + next() % 14000;
            write!(
                w,
                "{{\"provider_references\":[{}],\"negotiated_prices\":[{{\"negotiated_type\":\"negotiated\",\"negotiated_rate\":{}.{:02},\"expiration_date\":\"9999-12-31\",\"service_code\":[\"11\",\"02\",\"10\"],\"billing_class\":\"professional\"}},{{\"negotiated_type\":\"negotiated\",\"negotiated_rate\":{}.{:02},\"expiration_date\":\"9999-12-31\",\"billing_class\":\"institutional\"}}]}}",
                refs.join(","),
                cents / 100,
                cents % 100,
                cents / 50,
                cents % 100
            )?;
        }
        w.write_all(b"]}")?;
    }
    w.write_all(b"],\"provider_references\":[")?;
    for g in 0..s.groups {
        if g > 0 {
            w.write_all(b",")?;
        }
        let n = 1 + g % s.max_npis_per_group.max(1);
        let base = s.first_npi + (g * s.max_npis_per_group) as u64;
        let npis: Vec<String> = (0..n as u64).map(|k| (base + k).to_string()).collect();
        write!(
            w,
            "{{\"provider_group_id\":{g},\"provider_groups\":[{{\"npi\":[{}],\"tin\":{{\"type\":\"ein\",\"value\":\"{:02}-{:07}\"}}}}]}}",
            npis.join(","),
            g % 100,
            g
        )?;
    }
    w.write_all(b"]}")
}
