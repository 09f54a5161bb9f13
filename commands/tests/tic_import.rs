//! The Transparency-in-Coverage import: CMS's example files of both schema generations, with the
//! exact counts and percentiles expected; generated files for references after rates, dropped
//! rates, expiry, dedupe, platform contracts, gzip and malformed input; the NPPES extract in the
//! real column layout.

use chrono::NaiveDate;
use raterise_commands::tic::generate::{write_nppes_header, write_nppes_row, NppesRow};
use raterise_commands::tic::nppes::{self, BhNpis, Bucket};
use raterise_commands::tic::{self, Cell, Market, Options, TicError};
use std::io::Write;

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/tic/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn opts(codes: &[&str], on: &str) -> Options {
    let mut o = Options::new(codes.iter().map(|c| c.to_string()), date(on));
    o.min_contracts = 1;
    o
}

fn bh(rows: &[(u64, &str, Bucket)]) -> BhNpis {
    BhNpis::from_rows(rows.iter().map(|(n, s, b)| (*n, s.to_string(), *b)))
}

fn scan(bytes: Vec<u8>, o: &Options, t: &BhNpis) -> Result<Market, TicError> {
    let x = tic::scan(Box::new(std::io::Cursor::new(bytes)), o, t)?;
    Ok(x.finish(o, t))
}

fn cell<'a>(m: &'a Market, cpt: &str, modifier: &str, pos: &str, credential: &str) -> &'a Cell {
    m.cells
        .iter()
        .find(|c| c.cpt == cpt && c.modifier == modifier && c.pos == pos && c.credential == credential && !c.platform)
        .unwrap_or_else(|| panic!("no cell {cpt} {modifier} {pos} {credential} in {:#?}", m.cells))
}

fn dropped(m: &Market) -> Vec<(String, u64)> {
    m.rates_dropped.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

fn five_npis(state: &str, b: Bucket) -> Vec<(u64, String, Bucket)> {
    [1111111111u64, 2222222222, 3333333333, 4444444444, 5555555555].map(|n| (n, state.to_string(), b)).to_vec()
}

#[test]
fn cms_v2_fee_for_service_example() {
    let t = BhNpis::from_rows(five_npis("IL", Bucket::Lcsw));
    let o = opts(&["27447", "27448"], "2021-06-01");
    let m = scan(data("v2-fee-for-service-single-plan.json"), &o, &t).unwrap();
    assert_eq!((m.items_seen, m.items_kept, m.rates_kept), (2, 2, 3));
    assert_eq!(dropped(&m), vec![("not_professional".into(), 2)]);
    assert_eq!(m.npis_matched, 5);
    assert_eq!(m.last_updated_on.as_deref(), Some("2020-08-27"));
    assert_eq!(m.version.as_deref(), Some("2.0.0"));
    // 27447: three places x modifier AS, three places without; 27448 "CSTM-00"; each for lcsw and all.
    assert_eq!(m.cells.len(), 14);
    let c = cell(&m, "27447", "AS", "11", "lcsw");
    assert_eq!((c.state.as_str(), c.setting.as_str(), c.n_clinicians, c.n_contracts), ("IL", "inpatient", 5, 2));
    assert_eq!(c.clinician_cents, [12345; 5]);
    assert_eq!(c.contract_cents, [12345; 5]);
    assert_eq!(cell(&m, "27447", "", "05", "all").clinician_cents, [12045; 5]);
    let c = cell(&m, "27448", "", "CSTM-00", "all");
    assert_eq!((c.n_clinicians, c.n_contracts, c.clinician_cents[2]), (5, 2, 1_200_345));
    assert!(m.platforms.is_empty() && m.references_unresolved == 0);
}

#[test]
fn cms_v2_all_negotiated_types_example() {
    let t = bh(&[
        (1234567890, "IL", Bucket::Psychologist),
        (2345678901, "IL", Bucket::Psychologist),
        (3456789012, "IL", Bucket::Psychologist),
        (4567890123, "IL", Bucket::Lcsw),
        (5678901234, "NY", Bucket::Lmft),
        (6789012345, "NY", Bucket::Lmft),
    ]);
    let codes = ["99214", "97110", "0200", "80053", "27447", "99285"];
    let o = opts(&codes, "2024-06-01");
    let m = scan(data("v2-all-negotiated-types.json"), &o, &t).unwrap();
    assert_eq!((m.items_seen, m.items_kept, m.rates_kept), (6, 5, 3));
    assert_eq!(dropped(&m), vec![("code_type".into(), 1), ("not_professional".into(), 2), ("percentage".into(), 2)]);
    assert_eq!(m.npis_matched, 6);
    let c = cell(&m, "99214", "", "11", "all");
    assert_eq!((c.state.as_str(), c.n_clinicians, c.n_contracts, c.clinician_cents), ("IL", 4, 2, [15000; 5]));
    let c = cell(&m, "99214", "", "11", "psychologist");
    assert_eq!((c.n_clinicians, c.n_contracts), (3, 1));
    // "derived" is kept.
    assert_eq!(cell(&m, "80053", "", "81", "lcsw").clinician_cents, [4500; 5]);
    // 27447 points at both references: IL and NY clinicians.
    let ny: Vec<&Cell> = m.cells.iter().filter(|c| c.state == "NY").collect();
    assert_eq!(ny.len(), 4, "{ny:#?}"); // POS 21 and 22, lmft and all
    assert!(ny.iter().all(|c| c.cpt == "27447" && c.clinician_cents == [850000; 5] && c.n_clinicians == 2));

    let mut il = o.clone();
    il.state = Some("IL".into());
    let m = scan(data("v2-all-negotiated-types.json"), &il, &t).unwrap();
    assert!(m.cells.iter().all(|c| c.state == "IL"));
    assert_eq!(m.npis_matched, 4);

    // On 2025-01-01 every price has expired (2024-12-31).
    let m = scan(data("v2-all-negotiated-types.json"), &opts(&codes, "2025-01-01"), &t).unwrap();
    assert_eq!((m.rates_kept, m.cells.len()), (0, 0));
    assert_eq!(m.rates_dropped.get("expired"), Some(&3));
    // The expiry day itself still counts.
    let m = scan(data("v2-all-negotiated-types.json"), &opts(&codes, "2024-12-31"), &t).unwrap();
    assert_eq!(m.rates_kept, 3);
}

#[test]
fn cms_v1_examples_inline_groups_and_location_references() {
    let mut rows = five_npis("NY", Bucket::Psychologist);
    rows.extend([6666666666u64, 7777777777, 8888888888, 9999999999].map(|n| (n, "NY".to_string(), Bucket::Lpc)));
    let t = BhNpis::from_rows(rows);
    let o = opts(&["27447", "27448"], "2021-01-01");
    let x = tic::scan(Box::new(std::io::Cursor::new(data("v1-fee-for-service-single-plan.json"))), &o, &t).unwrap();
    assert_eq!(x.locations, vec![(2, "https://www.cms.gov/some_provider_group.json".to_string())]);
    let mut x = x;
    let groups = tic::parse_location(&data("v1-provider-reference.json")).unwrap();
    assert_eq!(groups.len(), 2);
    x.add_location(2, &groups, &o, &t);
    let m = x.finish(&o, &t);
    assert_eq!((m.items_seen, m.items_kept, m.rates_kept), (2, 2, 3));
    assert_eq!(dropped(&m), vec![("not_professional".into(), 2)]);
    assert_eq!(m.npis_matched, 9);
    let c = cell(&m, "27447", "AS", "19", "psychologist");
    assert_eq!((c.n_clinicians, c.n_contracts, c.clinician_cents), (5, 2, [12345; 5]));
    let c = cell(&m, "27447", "", "07", "lpc");
    assert_eq!((c.n_clinicians, c.n_contracts, c.clinician_cents), (4, 1, [12045; 5]));
    // 27448 through provider reference 1 (two TINs, five NPIs).
    let c = cell(&m, "27448", "", "CSTM-00", "all");
    assert_eq!((c.n_clinicians, c.n_contracts, c.contract_cents), (5, 2, [1_200_345; 5]));

    // "derived" with billing class "both" is kept; it has no service code, so it is "CSTM-00".
    let m = scan(data("v1-multiple-plans.json"), &o, &t).unwrap();
    assert_eq!(m.rates_kept, 4);
    assert_eq!(cell(&m, "27447", "", "CSTM-00", "lpc").clinician_cents, [12045; 5]);
}

/// A file with provider_references after in_network, ten single-clinician contracts paid
/// $100..$190 for 90837 and one contract of three clinicians at $300, plus everything that must
/// be dropped or ignored.
fn generated() -> (String, BhNpis) {
    let mut rates = Vec::new();
    for t in 0..10u64 {
        rates.push(format!(
            r#"{{"provider_references":[{t}],"negotiated_prices":[{{"negotiated_type":"negotiated","negotiated_rate":{}.00,"expiration_date":"9999-12-31","service_code":["11"],"billing_class":"professional"}}]}}"#,
            100 + 10 * t
        ));
    }
    // The same contract again, as a second plan in the same file lists it: counted once.
    rates.push(r#"{"provider_references":["3"],"negotiated_prices":[{"negotiated_type":"fee schedule","negotiated_rate":130,"expiration_date":"9999-12-31","service_code":["11"],"billing_class":"professional"}]}"#.into());
    rates.push(r#"{"provider_references":[10],"negotiated_prices":[
        {"negotiated_type":"negotiated","negotiated_rate":300.0,"expiration_date":"9999-12-31","service_code":["11"],"billing_class":"professional"},
        {"negotiated_type":"percentage","negotiated_rate":80,"expiration_date":"9999-12-31","service_code":["11"],"billing_class":"professional"},
        {"negotiated_type":"negotiated","negotiated_rate":0,"expiration_date":"9999-12-31","service_code":["11"],"billing_class":"professional"},
        {"negotiated_type":"per diem","negotiated_rate":900,"expiration_date":"9999-12-31","service_code":["11"],"billing_class":"professional"},
        {"negotiated_type":"negotiated","negotiated_rate":99,"expiration_date":"2026-01-31","service_code":["11"],"billing_class":"professional"}]}"#.into());
    let mut refs = Vec::new();
    for t in 0..10u64 {
        // NPIs as strings for half of them; one NPI per contract, plus one not in NPPES.
        let npi = if t % 2 == 0 { format!("\"{}\"", 1_000_000_000 + t) } else { (1_000_000_000 + t).to_string() };
        refs.push(format!(r#"{{"provider_group_id":{t},"network_name":["N"],"provider_groups":[{{"npi":[{npi},1999999999],"tin":{{"type":"ein","value":"10-000000{t}"}}}}]}}"#));
    }
    refs.push(r#"{"provider_group_id":10,"provider_groups":[{"npi":[1000000100,1000000101,1000000102],"tin":{"type":"ein","value":"20-0000000"}}]}"#.into());
    refs.push(r#"{"provider_group_id":77,"provider_groups":[{"npi":[1000000000],"tin":{"type":"ein","value":"77-0000000"}}]}"#.into());
    let doc = format!(
        r#"{{"reporting_entity_name":"Gen","last_updated_on":"2026-05-01","version":"1.3.1","in_network":[
          {{"negotiation_arrangement":"ffs","billing_code_type":"CPT","billing_code":"99213","negotiated_rates":[]}},
          {{"negotiation_arrangement":"ffs","billing_code_type":"CPT","billing_code":"90837","negotiated_rates":[{}]}},
          {{"negotiation_arrangement":"bundle","billing_code_type":"CPT","billing_code":"90834","negotiated_rates":[{{"provider_references":[1],"negotiated_prices":[{{"negotiated_type":"negotiated","negotiated_rate":1,"billing_class":"professional"}}]}}]}}
        ],"provider_references":[{}]}}"#,
        rates.join(","),
        refs.join(",")
    );
    let mut rows: Vec<(u64, String, Bucket)> =
        (0..10).map(|t| (1_000_000_000 + t, "IL".into(), Bucket::Lcsw)).collect();
    rows.extend((100..103).map(|n| (1_000_000_000 + n, "IL".to_string(), Bucket::Lmft)));
    (doc, BhNpis::from_rows(rows))
}

#[test]
fn references_after_rates_exact_percentiles_and_drops() {
    let (doc, t) = generated();
    let o = opts(&["90837", "90834"], "2026-06-01");
    let m = scan(doc.into_bytes(), &o, &t).unwrap();
    assert_eq!((m.items_seen, m.items_kept), (3, 1));
    assert_eq!(m.rates_kept, 12);
    assert_eq!(
        dropped(&m),
        vec![
            ("expired".into(), 1),
            ("not_ffs".into(), 1),
            ("per_diem".into(), 1),
            ("percentage".into(), 1),
            ("zero_or_negative".into(), 1)
        ]
    );
    assert_eq!(m.npis_matched, 13);
    let all = cell(&m, "90837", "", "11", "all");
    assert_eq!((all.n_clinicians, all.n_contracts), (13, 11));
    // Nearest rank over 13 clinicians: ranks 2, 4, 7, 10, 12.
    assert_eq!(all.clinician_cents, [11000, 13000, 16000, 19000, 30000]);
    // Over 11 contracts: ranks 2, 3, 6, 9, 10.
    assert_eq!(all.contract_cents, [11000, 12000, 15000, 18000, 19000]);
    let lcsw = cell(&m, "90837", "", "11", "lcsw");
    assert_eq!((lcsw.n_clinicians, lcsw.clinician_cents), (10, [10000, 12000, 14000, 17000, 18000]));
    // The lmft cell has one contract: suppressed at the default threshold of three.
    let mut strict = o.clone();
    strict.min_contracts = tic::MIN_CONTRACTS;
    let (doc, t) = generated();
    let m2 = scan(doc.into_bytes(), &strict, &t).unwrap();
    assert_eq!(m2.cells_suppressed, 1);
    assert!(m2.cells.iter().all(|c| c.credential != "lmft"));
}

#[test]
fn gzip_multi_member_gives_the_same_market() {
    let (doc, t) = generated();
    let o = opts(&["90837"], "2026-06-01");
    let plain = scan(doc.clone().into_bytes(), &o, &t).unwrap();
    let (a, b) = doc.as_bytes().split_at(doc.len() / 2);
    let mut gz = Vec::new();
    for part in [a, b] {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(part).unwrap();
        gz.extend(e.finish().unwrap());
    }
    let zipped = scan(gz, &o, &t).unwrap();
    assert_eq!(plain.cells, zipped.cells);
    assert_eq!(plain.rates_kept, zipped.rates_kept);
    assert_eq!(zipped.bytes, doc.len() as u64);
}

#[test]
fn malformed_json_names_the_byte() {
    let (doc, t) = generated();
    let o = opts(&["90837"], "2026-06-01");
    let broken = doc.replacen("\"negotiated_rate\":300.0", "\"negotiated_rate\":300.0.0", 1);
    let at = broken.find("300.0.0").unwrap() as u64;
    match scan(broken.into_bytes(), &o, &t) {
        Err(TicError::Malformed(e)) => assert!((at..at + 10).contains(&e.offset), "{e} (text at {at})"),
        other => panic!("{other:?}"),
    }
    // Truncated: the whole length is reported.
    let cut = &doc.as_bytes()[..doc.len() - 40];
    match scan(cut.to_vec(), &o, &t) {
        Err(TicError::Malformed(e)) => assert_eq!(e.offset, cut.len() as u64),
        other => panic!("{other:?}"),
    }
    // A broken bracket in a skipped item is still found.
    let bad = doc.replacen(r#""negotiated_rates":[]}"#, r#""negotiated_rates":[}}"#, 1);
    assert!(matches!(scan(bad.into_bytes(), &o, &t), Err(TicError::Malformed(_))));
}

#[test]
fn platform_contracts_are_reported_apart() {
    let states = ["IL", "NY", "CA", "TX", "FL"];
    let mut rows: Vec<(u64, String, Bucket)> =
        (0..500u64).map(|i| (2_000_000_000 + i, states[i as usize % 5].to_string(), Bucket::Lpc)).collect();
    rows.extend((0..3u64).map(|i| (3_000_000_000 + i, "IL".to_string(), Bucket::Lpc)));
    let t = BhNpis::from_rows(rows);
    let platform_npis: Vec<String> = (0..500u64).map(|i| (2_000_000_000 + i).to_string()).collect();
    let doc = format!(
        r#"{{"provider_references":[{{"provider_group_id":1,"provider_groups":[{{"npi":[{}],"tin":{{"type":"ein","value":"99-9999999"}}}}]}},
        {{"provider_group_id":2,"provider_groups":[{{"npi":[3000000000],"tin":{{"type":"ein","value":"01-1"}}}},{{"npi":[3000000001],"tin":{{"type":"ein","value":"01-2"}}}},{{"npi":[3000000002],"tin":{{"type":"ein","value":"01-3"}}}}]}}],
        "in_network":[{{"negotiation_arrangement":"ffs","billing_code_type":"CPT","billing_code":"90834","negotiated_rates":[
          {{"provider_references":[1],"negotiated_prices":[{{"negotiated_type":"negotiated","negotiated_rate":80,"service_code":["11"],"billing_class":"professional"}}]}},
          {{"provider_references":[2],"negotiated_prices":[{{"negotiated_type":"negotiated","negotiated_rate":120,"service_code":["11"],"billing_class":"professional"}}]}}]}}]}}"#,
        platform_npis.join(",")
    );
    let mut o = opts(&["90834"], "2026-06-01");
    o.state = Some("IL".into());
    let m = scan(doc.into_bytes(), &o, &t).unwrap();
    assert_eq!(m.platforms.len(), 1);
    assert_eq!(
        (m.platforms[0].tin.as_str(), m.platforms[0].clinicians, m.platforms[0].states),
        ("ein:99-9999999", 500, 5)
    );
    let independent = cell(&m, "90834", "", "11", "lpc");
    assert_eq!((independent.n_clinicians, independent.clinician_cents), (3, [12000; 5]));
    let platform = m.cells.iter().find(|c| c.platform && c.credential == "lpc").unwrap();
    assert_eq!((platform.n_clinicians, platform.n_contracts, platform.clinician_cents[2]), (100, 1, 8000));
}

#[test]
fn nppes_extract_in_the_real_layout() {
    let mut csv = Vec::new();
    write_nppes_header(&mut csv).unwrap();
    fn row<'a>(npi: u64, entity: u8, state: &'a str, tax: &'a [(&'a str, bool)], deactivated: bool) -> NppesRow<'a> {
        NppesRow { npi, entity, credential: "LCSW", state, zip: "60601", taxonomies: tax, deactivated }
    }
    for r in [
        row(1000000001, 1, "IL", &[("1041C0700X", true)], false),
        // Primary is not behavioral; the behavioral slot 3 still counts, bucketed by precedence.
        row(1000000002, 1, "IL", &[("207Q00000X", true), ("101YM0800X", false), ("103TC0700X", false)], false),
        // Primary decides over precedence.
        row(1000000003, 1, "NY", &[("103TC0700X", false), ("106H00000X", true)], false),
        row(1000000004, 1, "IL", &[("207Q00000X", true)], false),
        row(1000000005, 2, "IL", &[("261QM0801X", true), ("1041C0700X", false)], false),
        row(1000000006, 1, "IL", &[("1041C0700X", true)], true),
        row(1000000007, 1, "TX", &[("101YS0200X", true)], false),
    ] {
        write_nppes_row(&mut csv, &r).unwrap();
    }
    assert_eq!(String::from_utf8_lossy(&csv).lines().next().unwrap().split("\",\"").count(), 330);
    let mut got = Vec::new();
    let stats = nppes::read(&csv[..], |c| got.push(c)).unwrap();
    assert_eq!((stats.rows, stats.clinicians, stats.organisations_skipped, stats.deactivated_skipped), (7, 3, 1, 1));
    let view: Vec<(u64, Bucket, &str, &str, &str)> =
        got.iter().map(|c| (c.npi, c.bucket, c.taxonomy.as_str(), c.state.as_str(), c.zip.as_str())).collect();
    assert_eq!(
        view,
        vec![
            (1000000001, Bucket::Lcsw, "1041C0700X", "IL", "60601"),
            (1000000002, Bucket::Psychologist, "103TC0700X", "IL", "60601"),
            (1000000003, Bucket::Lmft, "106H00000X", "NY", "60601"),
        ]
    );
    let missing = b"NPI,Entity Type Code\n1,1\n";
    assert!(nppes::read(&missing[..], |_| {}).unwrap_err().contains("column"));
}

mod splitter_never_panics {
    use proptest::prelude::*;
    use raterise_commands::tic::split::{Sink, SplitError, Splitter};

    struct Keep;
    impl Sink for Keep {
        fn wants_code(&mut self, code: &[u8]) -> bool {
            code.first() == Some(&b'9')
        }
        fn item(&mut self, bytes: &[u8], _: u64) -> Result<(), SplitError> {
            let _ = serde_json::from_slice::<serde_json::Value>(bytes);
            Ok(())
        }
        fn skipped(&mut self) {}
        fn reference(&mut self, _: &[u8], _: u64) -> Result<(), SplitError> {
            Ok(())
        }
        fn root_string(&mut self, _: &[u8], _: &[u8]) {}
    }

    fn feed(bytes: &[u8], chunk: usize) {
        let mut s = Splitter::new();
        for part in bytes.chunks(chunk) {
            if s.feed(part, &mut Keep).is_err() {
                return;
            }
        }
        let _ = s.finish();
    }

    const SEED: &str = r#"{"version":"2.0.0","provider_references":[{"provider_group_id":1,"provider_groups":[{"npi":[1],"tin":{"type":"ein","value":"1"}}]}],"in_network":[{"billing_code":"90837","negotiated_rates":[{"provider_references":[1]}]},{"billing_code":"1","x":"a\"]}"}]}"#;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600), chunk in 1usize..64) {
            feed(&bytes, chunk);
        }

        #[test]
        fn on_a_mutated_file(edits in proptest::collection::vec((0usize..300, any::<u8>()), 0..6), chunk in 1usize..64) {
            let mut bytes = SEED.as_bytes().to_vec();
            for (at, b) in edits {
                let i = at % bytes.len();
                bytes[i] = b;
            }
            feed(&bytes, chunk);
        }
    }
}

/// The splitter against serde_json on random documents: brackets, quotes and backslashes inside
/// strings, deep nesting, keys in any order, any chunk size; it must hand over exactly the items
/// and references serde finds.
mod splitter_agrees_with_serde {
    use proptest::prelude::*;
    use raterise_commands::tic::split::{Sink, SplitError, Splitter};
    use serde_json::{json, Map, Value};

    #[derive(Default)]
    struct Collect {
        items: Vec<Value>,
        refs: Vec<Value>,
    }
    impl Sink for Collect {
        fn wants_code(&mut self, code: &[u8]) -> bool {
            code == b"90837"
        }
        fn item(&mut self, bytes: &[u8], _: u64) -> Result<(), SplitError> {
            self.items.push(serde_json::from_slice(bytes).expect("an item is whole JSON"));
            Ok(())
        }
        fn skipped(&mut self) {}
        fn reference(&mut self, bytes: &[u8], _: u64) -> Result<(), SplitError> {
            self.refs.push(serde_json::from_slice(bytes).expect("a reference is whole JSON"));
            Ok(())
        }
        fn root_string(&mut self, _: &[u8], _: &[u8]) {}
    }

    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just('['),
                Just(']'),
                Just('{'),
                Just('}'),
                Just('"'),
                Just('\\'),
                Just(','),
                Just('a'),
                Just('é')
            ],
            0..10,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![Just(Value::Null), any::<i32>().prop_map(|n| json!(n)), text().prop_map(Value::String)];
        leaf.prop_recursive(6, 64, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::vec((text(), inner), 0..4)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    fn item() -> impl Strategy<Value = Value> {
        (prop_oneof![Just("90837"), Just("99999")], value(), value(), any::<bool>()).prop_map(|(code, a, b, first)| {
            let mut m = Map::new();
            if first {
                m.insert("billing_code".into(), json!(code));
            }
            // "a_rates" sorts before "billing_code" whether or not serde_json keeps insertion order.
            m.insert(if first { "negotiated_rates" } else { "a_rates" }.into(), json!([a, {"x": b}]));
            if !first {
                m.insert("billing_code".into(), json!(code));
            }
            Value::Object(m)
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn same_items_and_references(
            items in proptest::collection::vec(item(), 0..6),
            refs in proptest::collection::vec(value(), 0..4),
            other in value(),
            pretty in any::<bool>(),
            chunk in 1usize..200,
        ) {
            let refs: Vec<Value> = refs.into_iter().enumerate().map(|(i, v)| json!({"provider_group_id": i, "g": v})).collect();
            let doc = json!({"version": "2.0.0", "other": other, "in_network": items, "provider_references": refs});
            let bytes = if pretty { serde_json::to_vec_pretty(&doc) } else { serde_json::to_vec(&doc) }.unwrap();
            let mut s = Splitter::new();
            let mut c = Collect::default();
            for part in bytes.chunks(chunk) {
                s.feed(part, &mut c).unwrap();
            }
            s.finish().unwrap();
            let want: Vec<Value> = items.iter().filter(|i| i["billing_code"] == "90837").cloned().collect();
            prop_assert_eq!(c.items, want);
            prop_assert_eq!(c.refs, refs);
        }
    }
}

fn nppes_csv(rows: u64, state: &str) -> Vec<u8> {
    let mut csv = Vec::new();
    write_nppes_header(&mut csv).unwrap();
    for i in 0..rows {
        let tax: &[(&str, bool)] = if i % 2 == 0 { &[("1041C0700X", true)] } else { &[("207R00000X", true)] };
        let r = NppesRow {
            npi: 1_000_000_000 + i,
            entity: 1,
            credential: "LCSW",
            state,
            zip: "60601",
            taxonomies: tax,
            deactivated: false,
        };
        write_nppes_row(&mut csv, &r).unwrap();
    }
    csv
}

#[test]
fn nppes_zip_as_published() {
    use std::io::Cursor;
    let csv = nppes_csv(10, "IL");
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file("npidata_pfile_20050523-20261109_fileheader.csv", deflated).unwrap();
    zip.write_all(&csv[..csv.iter().position(|b| *b == b'\n').unwrap() + 1]).unwrap();
    zip.start_file("pl_pfile_20050523-20261109.csv", deflated).unwrap();
    zip.write_all(b"\"NPI\"\n").unwrap();
    zip.start_file("npidata_pfile_20050523-20261109.csv", deflated).unwrap();
    zip.write_all(&csv).unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    assert!(nppes::is_zip(&bytes));
    let mut got = Vec::new();
    let stats = nppes::read_zip(Cursor::new(bytes), |c| {
        got.push(c.npi);
        true
    })
    .unwrap();
    assert_eq!((stats.rows, stats.clinicians), (10, 5));
    assert_eq!(got, vec![1_000_000_000, 1_000_000_002, 1_000_000_004, 1_000_000_006, 1_000_000_008]);
    let mut empty = zip::ZipWriter::new(Cursor::new(Vec::new()));
    empty.start_file("readme.txt", deflated).unwrap();
    let bytes = empty.finish().unwrap().into_inner();
    assert!(nppes::read_zip(Cursor::new(bytes), |_| true).unwrap_err().contains("npidata_pfile"));
}

/// The NPPES load streams in batches inside one transaction: a file that breaks after several
/// batches leaves the previous table as it was.
#[tokio::test]
async fn nppes_load_is_all_or_nothing_across_batches() {
    use raterise_commands::clock::{parse_instant, ManualClock};
    use raterise_commands::handlers::market::{load_nppes, NppesInput, NPPES_BATCH};
    use raterise_commands::store::Store;
    use raterise_commands::Ctx;
    let clock = ManualClock::new(parse_instant("2026-11-27T15:00:00Z").unwrap());
    let ctx = Ctx::new(Store::open_in_memory().await.unwrap(), std::sync::Arc::new(clock)).await.unwrap();
    let rows = (NPPES_BATCH * 3) as u64;
    let good = nppes_csv(rows, "IL");
    let s = load_nppes(&ctx, NppesInput::Csv(Box::new(std::io::Cursor::new(good.clone()))), "good.csv").await.unwrap();
    assert_eq!((s.rows, s.clinicians), (rows, rows / 2));
    assert_eq!(ctx.store.market_npi_count().await.unwrap(), (rows / 2) as i64);
    // Another state's file that breaks on its last line, after several batches went in.
    let mut bad = nppes_csv(rows, "NY");
    let broken = NppesRow {
        npi: 12,
        entity: 1,
        credential: "LCSW",
        state: "NY",
        zip: "10001",
        taxonomies: &[("1041C0700X", true)],
        deactivated: false,
    };
    write_nppes_row(&mut bad, &broken).unwrap();
    let bad_row = bad.iter().filter(|b| **b == b'\n').count();
    let e = load_nppes(&ctx, NppesInput::Csv(Box::new(std::io::Cursor::new(bad))), "bad.csv").await.unwrap_err();
    assert!(e.user_message().contains("Nothing was stored"), "{}", e.user_message());
    assert!(e.user_message().contains(&format!("line {bad_row}")), "{} (line {bad_row})", e.user_message());
    let t = ctx.store.market_npis().await.unwrap();
    assert_eq!(t.len() as u64, rows / 2);
    assert_eq!(t.get(1_000_000_000).map(|(s, _)| t.state_name(s).to_string()), Some("IL".to_string()));
}
