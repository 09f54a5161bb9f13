//! The 835 parser against public sample files (totals as their SOURCE.md lists them), generated
//! therapy remittances whose totals the generator knows, and arbitrary or mutated input.

use chrono::NaiveDate;
use proptest::prelude::*;
use raterise_commands::domain::Cents;
use raterise_commands::era::generate::{generate, EraSpec, STYLES};
use raterise_commands::era::{self, parse::parse, Remittance};

const SECONDARY: &[u8] = include_bytes!("data/era/lfh_secondary-payment.835");
const COB: &[u8] = include_bytes!("data/era/lfh_cob-contractural-adjustment.835");
const PART_A: &[u8] = include_bytes!("data/era/lfh_medicare-part-a.835");
const TERTIARY: &[u8] = include_bytes!("data/era/lfh_tertiary-payment.835");
const EMEDNY: &[u8] = include_bytes!("data/era/emedny_inst_inpatient_drg_retro.txt");
const PYX12: &[u8] = include_bytes!("data/era/pyx12_835_mult_loops.txt");

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// (ST, CLP, SVC, sum of CLP04, BPR02) as SOURCE.md counts them.
fn shape(r: &Remittance) -> (usize, usize, usize, Cents, Cents) {
    (r.checks.len(), r.claims().count(), r.service_lines(), r.paid(), Cents(r.checks.iter().map(|c| c.amount.0).sum()))
}

#[test]
fn secondary_payment_reads_svc01_joined_by_another_separator() {
    let r = era::read(SECONDARY).unwrap();
    assert_eq!(shape(&r), (1, 2, 2, Cents(122200), Cents(122200)));
    let check = &r.checks[0];
    assert_eq!(
        (check.payer_name.as_str(), check.number.as_str(), check.method.as_str()),
        ("YOUR TAX DOLLARS AT WORK", "0012524965", "CHK")
    );
    assert_eq!(check.date, d("2005-04-12"));
    let claim = &check.claims[1];
    assert_eq!(
        (claim.id.as_str(), claim.status.as_str(), claim.charge, claim.paid, claim.patient_responsibility),
        ("0001000053", "2", Cents(75150), Cents(31000), Cents(22000))
    );
    assert_eq!(claim.payer_control, "05630626430");
    let lines: Vec<_> = claim
        .lines
        .iter()
        .map(|l| (l.qualifier.as_str(), l.procedure.as_str(), l.modifiers.clone(), l.allowed, l.allowed_derived))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("HC", "12345", vec!["26".to_string()], Cents(15000), false),
            ("HC", "66543", vec!["26".to_string()], Cents(50000), false)
        ]
    );
    let cas: Vec<_> =
        claim.lines[1].adjustments.iter().map(|a| (a.group.as_str(), a.reason.as_str(), a.amount.0)).collect();
    assert_eq!(cas, vec![("PR", "1", 15000), ("PR", "2", 7000), ("CO", "42", 8500)]);
    assert_eq!(claim.lines[1].service_date, Some(d("2005-01-06")));
    // The first claim has claim-level adjustments only.
    assert_eq!(check.claims[0].adjustments[0].amount, Cents(941164));
    // The rule was applied, and said so, once per line.
    assert_eq!(r.notes.len(), 3, "{:?}", r.notes);
    assert!(r.notes[0].contains("BPR15"), "{}", r.notes[0]);
    assert!(
        r.notes[1].starts_with("segment 29 (SVC): SVC01 joins its parts with `>` where ISA16 declares `:`"),
        "{}",
        r.notes[0]
    );
}

#[test]
fn cob_keeps_a_negative_adjustment_and_the_allowed_amount() {
    let r = era::read(COB).unwrap();
    assert_eq!(shape(&r), (1, 1, 1, Cents(3400), Cents(3400)));
    let line = &r.checks[0].claims[0].lines[0];
    let cas: Vec<_> = line.adjustments.iter().map(|a| (a.group.as_str(), a.reason.as_str(), a.amount.0)).collect();
    assert_eq!(cas, vec![("OA", "23", 51600), ("OA", "94", -900)]);
    assert_eq!((line.allowed, line.allowed_derived, line.units_hundredths), (Cents(55000), false, 100));
}

#[test]
fn part_a_balances_with_a_negative_plb() {
    let r = era::read(PART_A).unwrap();
    assert_eq!(shape(&r), (1, 2, 0, Cents(14999873), Cents(15000000)));
    let check = &r.checks[0];
    assert_eq!(check.method, "ACH");
    let plb: Vec<_> = check
        .provider_adjustments
        .iter()
        .map(|p| (p.reason.as_str(), p.reference.as_str(), p.amount.0, p.segment))
        .collect();
    assert_eq!(plb, vec![("CV", "CP", -127, 29)]);
    assert_eq!(check.claims[1].remarks, vec!["MA02".to_string()]);
}

#[test]
fn tertiary_with_a_split_composite_is_refused_at_its_segment() {
    let e = era::read(TERTIARY).unwrap_err();
    assert_eq!((e.segment, e.segment_id.as_str()), (20, "SVC"), "{e}");
    assert!(e.message.contains("SVC01 is `HC`") && e.message.contains("HC:90837"), "{e}");
}

#[test]
fn emedny_reversal_and_correction_net_out() {
    let r = era::read(EMEDNY).unwrap();
    assert_eq!(shape(&r), (1, 2, 0, Cents(157), Cents(157)));
    let claims = &r.checks[0].claims;
    assert_eq!((claims[0].status.as_str(), claims[0].paid), ("22", Cents(-62797)));
    assert_eq!((claims[1].status.as_str(), claims[1].paid), ("1", Cents(62954)));
    assert_eq!(claims[0].id, claims[1].id);
    assert_eq!(claims[0].charge + claims[1].charge, Cents(0));
    assert_eq!(claims[0].remarks, vec!["N689".to_string()]);
}

#[test]
fn pyx12_denial_notification_with_period_dates() {
    let r = era::read(PYX12).unwrap();
    assert_eq!(shape(&r), (1, 1, 3, Cents(0), Cents(0)));
    let check = &r.checks[0];
    assert_eq!((check.handling.as_str(), check.method.as_str()), ("H", "NON"));
    let claim = &check.claims[0];
    assert!(claim.is_denied());
    let first = &claim.lines[0];
    assert_eq!((first.procedure.as_str(), first.units_hundredths, first.charge), ("T1005", 6800, Cents(50004)));
    assert_eq!((first.service_date, first.service_end), (Some(d("2003-11-29")), Some(d("2003-11-29"))));
    assert_eq!(first.remarks, vec!["N14".to_string()]);
    assert_eq!((first.adjustments[0].group.as_str(), first.adjustments[0].reason.as_str()), ("CO", "16"));
    assert_eq!(claim.lines[1].charge, Cents(12780));
    assert_eq!(claim.lines[1].adjustments[0].reason, "A7");
    // No AMT*B6: derived from paid plus patient responsibility, and marked so.
    assert_eq!((first.allowed, first.allowed_derived), (Cents(0), true));
}

#[test]
fn segments_keep_their_numbers_in_errors() {
    let text = String::from_utf8(COB.to_vec()).unwrap().replace("DTM*472*20050202", "DTM*472*20050231");
    let e = era::read(text.as_bytes()).unwrap_err();
    assert_eq!((e.segment, e.segment_id.as_str()), (22, "DTM"), "{e}");
    assert!(e.message.contains("CCYYMMDD"), "{e}");
}

#[test]
fn a_file_that_does_not_balance_is_refused_with_the_figures() {
    let text = String::from_utf8(SECONDARY.to_vec()).unwrap().replace("BPR*I*1222.00", "BPR*I*1232.00");
    let e = era::read(text.as_bytes()).unwrap_err();
    assert_eq!((e.segment, e.segment_id.as_str()), (3, "ST"));
    assert!(e.message.contains("$1,232.00") && e.message.contains("$1,222.00"), "{e}");
    let text = String::from_utf8(COB.to_vec()).unwrap().replace("CAS*OA*94*-9.00", "CAS*OA*94*-8.00");
    let e = era::read(text.as_bytes()).unwrap_err();
    assert_eq!((e.segment, e.segment_id.as_str()), (21, "SVC"), "{e}");
    assert!(e.message.contains("$507.00") && e.message.contains("$508.00"), "{e}");
}

#[test]
fn a_wrong_segment_count_or_truncated_file_is_refused() {
    let text = String::from_utf8(COB.to_vec()).unwrap().replace("SE*25*0001", "SE*24*0001");
    let e = era::read(text.as_bytes()).unwrap_err();
    assert_eq!((e.segment, e.segment_id.as_str()), (27, "SE"));
    let cut = &COB[..COB.len() - 40];
    assert!(era::read(cut).is_err());
}

#[test]
fn bom_crlf_and_trailing_whitespace_are_read_alike() {
    let plain = era::read(EMEDNY).unwrap();
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(String::from_utf8(EMEDNY.to_vec()).unwrap().replace('~', "~\r\n").into_bytes());
    bom.extend(b"   \r\n\t ");
    assert_eq!(era::read(&bom).unwrap(), plain);
}

#[test]
fn several_interchanges_in_one_file_each_with_its_separators() {
    let second = String::from_utf8(COB.to_vec()).unwrap().replace('*', "|").replace(":~", ">~").replace('~', "\n");
    let mut both = PART_A.to_vec();
    both.extend(b"\n");
    both.extend(second.into_bytes());
    let r = era::read(&both).unwrap();
    assert_eq!((r.interchanges, r.groups, r.checks.len()), (2, 2, 2));
    assert_eq!(r.paid(), Cents(14999873 + 3400));
    // Numbering runs through the whole file: the second ISA is segment 33, its ST 35.
    assert_eq!(r.checks[1].segment, 35);
}

#[test]
fn generated_therapy_files_hold_what_the_generator_wrote() {
    let batch = generate(&EraSpec::small(7));
    let mut styles_seen = std::collections::BTreeSet::new();
    let mut kinds = (0, 0, 0, 0, 0);
    for (i, f) in batch.files.iter().enumerate() {
        styles_seen.insert(i % STYLES.len());
        let r = era::read(&f.bytes).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        let t = &f.totals;
        assert_eq!(r.checks.len(), t.transactions, "{}", f.name);
        let checks: Vec<_> =
            r.checks.iter().map(|c| (c.payer_name.clone(), c.number.clone(), c.date, c.amount.0)).collect();
        assert_eq!(checks, t.checks, "{}", f.name);
        assert_eq!(
            (r.claims().count(), r.service_lines(), r.paid().0),
            (t.claims, t.service_lines, t.paid_cents),
            "{}",
            f.name
        );
        assert!(r.notes.is_empty(), "{:?}", r.notes);
        assert_eq!(r.claims().filter(|c| c.is_reversal()).count(), t.reversals);
        for c in r.claims() {
            kinds.0 += usize::from(c.is_denied());
            kinds.1 += usize::from(c.is_reversal());
            for l in &c.lines {
                kinds.2 += usize::from(l.adjustments.iter().any(|a| a.group == "CO" && a.reason == "45"));
                kinds.3 += usize::from(l.patient_responsibility().0 > 0);
                kinds.4 += usize::from(l.allowed_derived);
                assert!(l.service_date.is_some());
            }
        }
    }
    assert_eq!(styles_seen.len(), STYLES.len());
    let (denied, reversals, co45, pr, derived) = kinds;
    assert!(denied > 0 && reversals > 0 && co45 > 0 && pr > 0 && derived > 0, "{kinds:?}");
    assert!(!batch.shorts.is_empty());
    assert!(batch.files.iter().any(|f| f.bytes.windows(2).any(|w| w == b"\r\n")));
    assert!(batch.files.iter().any(|f| era::read(&f.bytes).unwrap().interchanges == 2));
    let plb = batch
        .files
        .iter()
        .flat_map(|f| era::read(&f.bytes).unwrap().checks)
        .filter(|c| !c.provider_adjustments.is_empty())
        .count();
    assert!(plb > 0);
}

#[test]
fn a_file_over_the_size_cap_is_refused_unread() {
    let big = vec![b' '; era::MAX_FILE_BYTES as usize + 1];
    assert!(era::read(&big).unwrap_err().message.contains("larger than"));
}

fn mutate(base: &[u8], edits: &[(usize, u8)]) -> Vec<u8> {
    let mut out = base.to_vec();
    for &(at, b) in edits {
        if out.is_empty() {
            break;
        }
        let i = at % out.len();
        match b % 3 {
            0 => out[i] = b,
            1 => {
                out.remove(i);
            }
            _ => out.insert(i, b),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = era::read(&bytes);
    }

    #[test]
    fn mutated_files_are_read_whole_or_refused(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6), which in 0usize..4) {
        let base = [SECONDARY, COB, PART_A, PYX12][which];
        let input = mutate(base, &edits);
        match era::read(&input) {
            // Accepted: it balances, and holds no more than the input could describe.
            Ok(r) => {
                prop_assert!(era::balance::check(&r).is_ok());
                // Every claim and line needs a segment of at least five bytes.
                prop_assert!(r.claims().count() + r.service_lines() <= input.len() / 5);
            }
            Err(e) => prop_assert!(e.segment <= input.len() / 2 + 1),
        }
        let _ = parse(&input);
    }
}
