use super::*;
use crate::domain::{Cents, Credential, Setting};

const CORALEHR_2026: &str = include_str!("../../data/medicare/pfs_2026_nonfacility_by_locality_coralehr.csv");

fn data() -> Arc<MedicareData> {
    MedicareData::embedded()
}

fn priced(d: &MedicareData, code: &str, loc: &str, year: u16, c: Credential, s: Setting) -> (i64, i64, u32, char) {
    match d.amount(code, loc, year, c, s) {
        Ok(MedicareAmount::Priced { cents, full_cents, share_pct, status }) => {
            (cents.0, full_cents.0, share_pct, status)
        }
        other => panic!("{code} {loc} {year} {c:?} {s:?}: expected a price, got {other:?}"),
    }
}

#[test]
fn shipped_data_has_two_final_years_and_109_localities() {
    let d = data();
    assert_eq!(d.years(), vec![2025, 2026]);
    assert_eq!(d.latest_year(), 2026);
    assert_eq!(d.localities().len(), 109);
    assert_eq!(d.localities()[0].id(), "10112-00");
    assert_eq!(d.localities()[0].display_name(), "ALABAMA, AL");
    // Both years price every locality.
    for y in [2025u16, 2026] {
        assert_eq!(d.years[&y].gpcis.len(), 109, "{y}");
    }
    let m = d.locality("13202-01").expect("Manhattan");
    assert_eq!((m.state.as_str(), m.name.as_str(), m.counties.as_str()), ("NY", "MANHATTAN", "NEW YORK"));
    assert_eq!(m.display_name(), "MANHATTAN, NY");
    // Every locality got its county list from the 2025 crosswalk.
    assert!(d.localities().iter().all(|l| !l.counties.is_empty()));
    assert_eq!(d.state_name("hi"), Some("HAWAII/GUAM"));
}

#[test]
fn conversion_factors_are_exact_and_there_is_no_2027() {
    let d = data();
    let cf26 = d.conversion_factor(2026).unwrap();
    assert_eq!(cf26.amount_ten_thousandths, 334009);
    assert_eq!(cf26.kind, "non_qualifying_apm");
    assert_eq!(cf26.to_string(), "$33.4009");
    assert_eq!(d.conversion_factor(2025).unwrap().amount_ten_thousandths, 323465);
    let all26: Vec<i64> = d.conversion_factors(2026).iter().map(|c| c.amount_ten_thousandths).collect();
    assert_eq!(all26, vec![334009, 335675]);
    assert_eq!(d.conversion_factor(2024).unwrap().amount_ten_thousandths, 332875);
    assert!(d.conversion_factor(2027).is_none());
    let err = d.amount("90837", "13202-01", 2027, Credential::Psychologist, Setting::NonFacility).unwrap_err();
    assert_eq!(err, MedicareError::UnknownYear { year: 2027, available: vec![2025, 2026] });
    assert!(err.to_string().contains("2025, 2026"), "{err}");
}

#[test]
fn codes_are_the_union_of_both_years_sorted() {
    let d = data();
    let codes: Vec<&str> = d.codes().iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes.len(), 53);
    let mut sorted = codes.clone();
    sorted.sort();
    assert_eq!(codes, sorted);
    assert!(codes.contains(&"98979") && codes.contains(&"G0023"));
    assert_eq!(d.code("90846").unwrap().status, 'R');
    assert_eq!(d.code("99404").unwrap().status, 'N');
    assert_eq!(d.code("90837").unwrap().status, 'A');
    assert_eq!(d.code("g0023").unwrap().code, "G0023");
    // 98979 is new in 2026: the 2026 description is kept.
    assert!(d.code("98976").unwrap().description.contains("16-30 days"));
    assert!(d.has_code_in_year("98979", 2026) && !d.has_code_in_year("98979", 2025));
}

/// Every coralehr 2026 row, recomputed to the cent (psychologist, non-facility). Every code of
/// that file is shipped (90845, 96132 and 96133 came with the 2026-12-01 rows), so none is skipped.
#[test]
fn reproduces_every_coralehr_2026_locality_amount() {
    let d = data();
    let t = csv::Table::parse(
        CORALEHR_2026,
        "coralehr",
        &["hcpcs", "state", "locality_name", "nonfacility_amount_usd", "medicare_status"],
    )
    .unwrap();
    let by_name: HashMap<(String, String), String> =
        d.localities().iter().map(|l| ((l.state.clone(), l.name.clone()), l.id())).collect();
    let (mut checked, mut skipped, mut mismatches) = (0, 0, Vec::new());
    let mut skipped_codes = std::collections::BTreeSet::new();
    for row in &t.rows {
        let code = t.get(row, "hcpcs");
        if !d.has_code_in_year(code, 2026) {
            skipped += 1;
            skipped_codes.insert(code.to_string());
            continue;
        }
        let key = (t.get(row, "state").to_string(), t.get(row, "locality_name").to_string());
        let id = by_name.get(&key).unwrap_or_else(|| panic!("no GPCI locality for {key:?}"));
        let expected = Cents::parse(t.get(row, "nonfacility_amount_usd")).unwrap();
        let status = t.get(row, "medicare_status").chars().next().unwrap();
        match d.amount(code, id, 2026, Credential::Psychologist, Setting::NonFacility) {
            Ok(MedicareAmount::Priced { cents, full_cents, share_pct: 100, status: s })
                if cents == expected && full_cents == expected && s == status => {}
            other => mismatches.push(format!("{code} {key:?}: expected {expected} {status}, got {other:?}")),
        }
        checked += 1;
    }
    assert_eq!(mismatches, Vec::<String>::new());
    assert_eq!(skipped_codes.into_iter().collect::<Vec<_>>(), Vec::<String>::new());
    assert_eq!((checked, skipped), (2071, 0));
}

/// Expected values computed independently with Python's Decimal from the CSVs:
/// round_half_up((work*wGPCI + pe*peGPCI + mp*mpGPCI) * CF, 0.01), then
/// round_half_up(full * 0.75 or 0.85, 0.01).
/// Example, Manhattan 2026 90837 non-facility: 3.78*1.064 + 1.20*1.162 + 0.02*1.586
/// = 4.02192 + 1.3944 + 0.03172 = 5.44804; x 33.4009 = 181.9694... -> $181.97;
/// LCSW 0.75 x 181.97 = 136.4775 -> $136.48; NP 0.85 x 181.97 = 154.6745 -> $154.67.
#[test]
fn pinned_amounts_by_locality_year_setting_and_credential() {
    use Setting::{Facility as F, NonFacility as NF};
    // (locality, year, code, setting, psychologist, lcsw, np) in cents.
    let cases: &[(&str, u16, &str, Setting, i64, i64, i64)] = &[
        // Manhattan, NY
        ("13202-01", 2025, "90837", NF, 16931, 12698, 14391),
        ("13202-01", 2025, "90837", F, 14631, 10973, 12436),
        ("13202-01", 2025, "90834", NF, 11423, 8567, 9710),
        ("13202-01", 2025, "90834", F, 9877, 7408, 8395),
        ("13202-01", 2026, "90837", NF, 18197, 13648, 15467),
        ("13202-01", 2026, "90837", F, 14510, 10883, 12334),
        ("13202-01", 2026, "90834", NF, 12425, 9319, 10561),
        ("13202-01", 2026, "90834", F, 9864, 7398, 8384),
        ("13202-01", 2026, "90791", NF, 18915, 14186, 16078),
        ("13202-01", 2026, "90846", NF, 11449, 8587, 9732),
        ("13202-01", 2026, "90846", F, 10673, 8005, 9072),
        // Alabama (statewide)
        ("10112-00", 2025, "90837", NF, 14870, 11153, 12640),
        ("10112-00", 2025, "90837", F, 13155, 9866, 11182),
        ("10112-00", 2025, "90834", NF, 10042, 7532, 8536),
        ("10112-00", 2026, "90837", NF, 16170, 12128, 13745),
        ("10112-00", 2026, "90837", F, 13394, 10046, 11385),
        ("10112-00", 2026, "90834", F, 9085, 6814, 7722),
        ("10112-00", 2026, "90791", NF, 16751, 12563, 14238),
        // Alaska (work GPCI floor 1.500)
        ("02102-01", 2025, "90837", NF, 21472, 16104, 18251),
        ("02102-01", 2025, "90834", F, 13067, 9800, 11107),
        ("02102-01", 2026, "90837", NF, 23244, 17433, 19757),
        ("02102-01", 2026, "90837", F, 19864, 14898, 16884),
        ("02102-01", 2026, "90846", NF, 15206, 11405, 12925),
        // Los Angeles-Long Beach-Anaheim, CA
        ("01182-18", 2025, "90837", NF, 16507, 12380, 14031),
        ("01182-18", 2025, "90837", F, 14151, 10613, 12028),
        ("01182-18", 2026, "90834", NF, 12225, 9169, 10391),
        ("01182-18", 2026, "90834", F, 9617, 7213, 8174),
        ("01182-18", 2026, "90791", F, 14384, 10788, 12226),
        // Rest of New York
        ("13282-99", 2025, "90791", NF, 16403, 12302, 13943),
        ("13282-99", 2025, "90846", F, 9724, 7293, 8265),
        ("13282-99", 2026, "90837", NF, 16480, 12360, 14008),
        ("13282-99", 2026, "90834", F, 9137, 6853, 7766),
    ];
    let d = data();
    for &(loc, year, code, setting, psy, lcsw, np) in cases {
        let (c, full, pct, _) = priced(&d, code, loc, year, Credential::Psychologist, setting);
        assert_eq!((c, full, pct), (psy, psy, 100), "psychologist {loc} {year} {code} {setting:?}");
        let (c, full, pct, _) = priced(&d, code, loc, year, Credential::Lcsw, setting);
        assert_eq!((c, full, pct), (lcsw, psy, 75), "lcsw {loc} {year} {code} {setting:?}");
        let (c, full, pct, _) = priced(&d, code, loc, year, Credential::Np, setting);
        assert_eq!((c, full, pct), (np, psy, 85), "np {loc} {year} {code} {setting:?}");
    }
    // LMFT/LPC share with LCSW; PA with NP; psychiatrists get the full amount.
    assert_eq!(priced(&d, "90837", "13202-01", 2026, Credential::Lpc, NF).0, 13648);
    assert_eq!(priced(&d, "90837", "13202-01", 2026, Credential::Pa, NF).0, 15467);
    assert_eq!(priced(&d, "90837", "13202-01", 2026, Credential::Psychiatrist, NF).0, 18197);
}

/// National amounts (every GPCI 1.000) from SOURCES.md's sanity table, built through
/// `with_release` with a one-locality GPCI file:
/// 2026 90837: NF 3.78+1.20+0.02 = 5.00 x 33.4009 = 167.0045 -> $167.00;
///             F  3.78+0.25+0.02 = 4.05 x 33.4009 = 135.273645 -> $135.27.
/// 2026 90834: NF 3.41 x 33.4009 = 113.897069 -> $113.90; F 2.75 -> 91.852475 -> $91.85.
/// 2025 90837: NF 4.77 x 32.3465 = 154.292805 -> $154.29; F 4.16 -> 134.56144 -> $134.56.
/// 2025 90834: NF 3.22 -> 104.15573 -> $104.16; F 2.81 -> 90.893665 -> $90.89.
/// LCSW 2026 90837 national: 0.75 x 167.00 = $125.25.
#[test]
fn national_sanity_amounts_with_unit_gpcis() {
    let national =
        "mac,locality,locality_name,state,work_gpci,pe_gpci,mp_gpci\n99999,00,NATIONAL,US,1.000,1.000,1.000\n";
    let d = data();
    let n26 = d.with_release(2026, RVU_2026, national, 334009).unwrap();
    let n25 = d.with_release(2025, RVU_2025, national, 323465).unwrap();
    let p = Credential::Psychologist;
    assert_eq!(priced(&n26, "90837", "99999-00", 2026, p, Setting::NonFacility).0, 16700);
    assert_eq!(priced(&n26, "90837", "99999-00", 2026, p, Setting::Facility).0, 13527);
    assert_eq!(priced(&n26, "90834", "99999-00", 2026, p, Setting::NonFacility).0, 11390);
    assert_eq!(priced(&n26, "90834", "99999-00", 2026, p, Setting::Facility).0, 9185);
    assert_eq!(priced(&n25, "90837", "99999-00", 2025, p, Setting::NonFacility).0, 15429);
    assert_eq!(priced(&n25, "90837", "99999-00", 2025, p, Setting::Facility).0, 13456);
    assert_eq!(priced(&n25, "90834", "99999-00", 2025, p, Setting::NonFacility).0, 10416);
    assert_eq!(priced(&n25, "90834", "99999-00", 2025, p, Setting::Facility).0, 9089);
    assert_eq!(priced(&n26, "90837", "99999-00", 2026, Credential::Lcsw, Setting::NonFacility).0, 12525);
    // The replaced year no longer has the other localities' indices.
    assert!(matches!(
        n26.amount("90837", "13202-01", 2026, p, Setting::NonFacility),
        Ok(MedicareAmount::NotPriced { .. })
    ));
}

/// The shipped RVU files hold every code of the research files (shared/data/medicare, rvu_2025.csv
/// and rvu_2026.csv as of 2026-12-01: 52 and 53 rows), each year with its own code set.
#[test]
fn shipped_codes_are_every_code_of_the_source_files() {
    const BOTH_YEARS: &str = "90785 90791 90792 90832 90833 90834 90836 90837 90838 90839 90840 90846 90847 90849 \
        90853 96127 96130 96131 96136 96137 99404 G0023 G0024 98975 98976 98977 98980 98981 90845 90875 90880 96116 \
        96121 96132 96133 96138 96139 96146 96156 96158 96159 96164 96165 96167 96168 96170 96171 99484 99492 99493 \
        99494 G2211";
    let d = data();
    let mut expected: Vec<&str> = BOTH_YEARS.split_whitespace().collect();
    for code in &expected {
        assert!(d.has_code_in_year(code, 2025) && d.has_code_in_year(code, 2026), "{code}");
    }
    expected.push("98979");
    expected.sort();
    let shipped: Vec<&str> = d.codes().iter().map(|c| c.code.as_str()).collect();
    assert_eq!(shipped, expected);
    assert!(d.has_code_in_year("98979", 2026) && !d.has_code_in_year("98979", 2025));
    // Status N per the CMS files: published RVUs, no Medicare amount.
    for code in ["90875", "96170", "96171", "99404"] {
        assert_eq!(d.code(code).unwrap().status, 'N', "{code}");
    }
    // Every code our descriptions call an add-on is treated as one.
    for c in d.codes() {
        if c.description.contains("add-on") {
            assert!(crate::domain::is_add_on(&c.code), "{} is an add-on: {}", c.code, c.description);
        }
    }
}

/// National amounts of added codes, from the research notes' table (total RVU x CF): 2026 96132
/// 3.66 x 33.4009 = $122.25; G2211 0.52 -> $17.37 non-facility, 0.43 -> $14.36 facility; 2025
/// 99492 4.49 x 32.3465 = $145.24; 90845 3.07 -> $99.30.
#[test]
fn added_codes_match_published_national_amounts() {
    let national =
        "mac,locality,locality_name,state,work_gpci,pe_gpci,mp_gpci\n99999,00,NATIONAL,US,1.000,1.000,1.000\n";
    let d = data();
    let n26 = d.with_release(2026, RVU_2026, national, 334009).unwrap();
    let n25 = d.with_release(2025, RVU_2025, national, 323465).unwrap();
    let p = Credential::Psychologist;
    assert_eq!(priced(&n26, "96132", "99999-00", 2026, p, Setting::NonFacility).0, 12225);
    assert_eq!(priced(&n26, "G2211", "99999-00", 2026, p, Setting::NonFacility).0, 1737);
    assert_eq!(priced(&n26, "G2211", "99999-00", 2026, p, Setting::Facility).0, 1436);
    assert_eq!(priced(&n25, "99492", "99999-00", 2025, p, Setting::NonFacility).0, 14524);
    assert_eq!(priced(&n25, "90845", "99999-00", 2025, p, Setting::NonFacility).0, 9930);
}

#[test]
fn facility_na_codes_price_the_same_in_both_settings() {
    let d = data();
    for code in ["96127", "98975", "98976", "98977"] {
        let nf = priced(&d, code, "13202-01", 2026, Credential::Psychologist, Setting::NonFacility);
        let f = priced(&d, code, "13202-01", 2026, Credential::Psychologist, Setting::Facility);
        assert_eq!(nf, f, "{code}");
    }
}

#[test]
fn status_n_is_not_priced_and_status_r_is_flagged() {
    let d = data();
    for year in [2025, 2026] {
        match d.amount("99404", "13202-01", year, Credential::Psychologist, Setting::NonFacility).unwrap() {
            MedicareAmount::NotPriced { reason } => {
                assert!(reason.contains("does not cover"), "{reason}")
            }
            other => panic!("99404 must not be priced: {other:?}"),
        }
    }
    let r = d.amount("90846", "10112-00", 2026, Credential::Lcsw, Setting::NonFacility).unwrap();
    assert!(matches!(r, MedicareAmount::Priced { status: 'R', .. }));
    assert!(r.status_note().unwrap().contains("restricts"));
    let a = d.amount("90837", "10112-00", 2026, Credential::Lcsw, Setting::NonFacility).unwrap();
    assert_eq!(a.status_note(), None);
    assert_eq!(a.cents(), Some(Cents(12128)));
}

#[test]
fn code_missing_from_a_year_is_not_priced() {
    let d = data();
    match d.amount("98979", "13202-01", 2025, Credential::Psychologist, Setting::NonFacility).unwrap() {
        MedicareAmount::NotPriced { reason } => assert!(reason.contains("2025"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(d
        .amount("98979", "13202-01", 2026, Credential::Psychologist, Setting::NonFacility)
        .unwrap()
        .cents()
        .is_some());
}

#[test]
fn unknown_code_lists_the_valid_ones() {
    let d = data();
    let err = d.amount("90999", "13202-01", 2026, Credential::Psychologist, Setting::NonFacility).unwrap_err();
    match &err {
        MedicareError::UnknownCode { code, valid } => {
            assert_eq!(code, "90999");
            assert_eq!(valid.len(), 53);
            assert!(valid.contains(&"90837".to_string()));
        }
        other => panic!("{other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("90999") && msg.contains("90834, 90836, 90837"), "{msg}");
}

#[test]
fn unknown_locality_is_an_error_that_says_what_works() {
    let d = data();
    let err = d.amount("90837", "99999-99", 2026, Credential::Psychologist, Setting::NonFacility).unwrap_err();
    assert_eq!(err, MedicareError::UnknownLocality("99999-99".into()));
    assert!(err.to_string().contains("13202-01"), "{err}");
    // amount() also takes the other locality forms.
    assert_eq!(priced(&d, "90837", "manhattan, ny", 2026, Credential::Psychologist, Setting::NonFacility).0, 18197);
}

#[test]
fn locality_lookup_accepts_every_documented_form() {
    let d = data();
    let id = |s: &str| d.find_locality(s).map(|l| l.id()).unwrap_or_else(|e| panic!("{s}: {e}"));
    // Name with state.
    assert_eq!(id("MANHATTAN, NY"), "13202-01");
    assert_eq!(id("manhattan ny"), "13202-01");
    assert_eq!(id("  Manhattan,NY "), "13202-01");
    assert_eq!(id("Manhattan, New York"), "13202-01");
    assert_eq!(id("Manhattan"), "13202-01");
    assert_eq!(id("REST OF NEW YORK"), "13282-99");
    assert_eq!(id("rest of new york, ny"), "13282-99");
    assert_eq!(id("LOS ANGELES-LONG BEACH-ANAHEIM (LOS ANGELES/ORANGE CNTY), CA"), "01182-18");
    // The county file's name for the same locality.
    assert_eq!(id("LOS ANGELES-LONG BEACH-ANAHEIM (LOS ANGELES CNTY)"), "01182-18");
    assert_eq!(id("los angeles-long beach-anaheim (los angeles cnty), ca"), "01182-18");
    assert_eq!(id("HAWAII, GUAM, HI"), "01212-01");
    assert_eq!(id("East St. Louis, IL"), "06102-12");
    assert_eq!(id("DC + MD/VA Suburbs"), "12202-01");
    // MAC-locality.
    assert_eq!(id("13202-01"), "13202-01");
    assert_eq!(id("13202 01"), "13202-01");
    assert_eq!(id("1320201"), "13202-01");
    assert_eq!(id("2102-1"), "02102-01");
    // State + locality number.
    assert_eq!(id("NY 01"), "13202-01");
    assert_eq!(id("ny-01"), "13202-01");
    assert_eq!(id("NY01"), "13202-01");
    assert_eq!(id("ny 1"), "13202-01");
    assert_eq!(id("CA 18"), "01182-18");
    assert_eq!(id("TX-99"), "04412-99");
    // A state with a single locality.
    assert_eq!(id("Alabama"), "10112-00");
    assert_eq!(id("AL"), "10112-00");
    assert_eq!(id("al"), "10112-00");
    assert_eq!(id("Alaska"), "02102-01");
    assert_eq!(id("Hawaii"), "01212-01");
    assert_eq!(id("Guam"), "01212-01");
    assert_eq!(id("District of Columbia"), "12202-01");
    assert_eq!(id("west virginia"), "11402-16");
    assert_eq!(id("Virginia"), "11302-00");
}

#[test]
fn misspelled_locality_suggests_the_closest_names() {
    let d = data();
    let err = d.find_locality("manhatan ny").unwrap_err();
    assert_eq!(err.input, "manhatan ny");
    assert_eq!(err.suggestions.first().map(String::as_str), Some("MANHATTAN, NY"));
    assert!(err.suggestions.len() <= 5);
    let msg = err.to_string();
    assert!(msg.contains("manhatan ny") && msg.contains("MANHATTAN, NY") && msg.contains("13202-01"), "{msg}");
    assert!(!msg.contains('\n'));

    // Substring matches come first. (The whole city names now resolve: see
    // a_city_in_a_locality_name_resolves_or_suggests.)
    let err = d.find_locality("Los Ange").unwrap_err();
    assert_eq!(
        err.suggestions.first().map(String::as_str),
        Some("LOS ANGELES-LONG BEACH-ANAHEIM (LOS ANGELES/ORANGE CNTY), CA")
    );
    let err = d.find_locality("San Francis").unwrap_err();
    assert_eq!(err.suggestions.len(), 2, "{:?}", err.suggestions);
    assert!(err.suggestions.iter().all(|s| s.starts_with("SAN FRANCISCO-OAKLAND-BERKELEY")));

    let err = d.find_locality("Chicgo, IL").unwrap_err();
    assert_eq!(err.suggestions.first().map(String::as_str), Some("CHICAGO, IL"));

    // Nothing close: no suggestions, still the accepted forms.
    let err = d.find_locality("zzzzqqqq").unwrap_err();
    assert!(err.suggestions.is_empty());
    assert!(err.to_string().contains("NY 01"));
    assert!(d.find_locality("").is_err());
    assert!(d.find_locality("99999-00").is_err());
}

#[test]
fn a_state_with_several_localities_asks_which_one() {
    let d = data();
    for input in ["NY", "New York", "new york"] {
        let err = d.find_locality(input).unwrap_err();
        let a = err.ambiguous_state.clone().expect(input);
        assert_eq!((a.state.as_str(), a.localities), ("NY", 5));
        assert_eq!(err.suggestions.len(), 5);
        assert!(err.suggestions.contains(&"MANHATTAN, NY".to_string()));
        assert!(err.to_string().contains("5 Medicare localities"), "{err}");
    }
    let err = d.find_locality("California").unwrap_err();
    assert_eq!(err.ambiguous_state.as_ref().unwrap().localities, 29);
    assert!(err.to_string().contains("24 more"), "{err}");
    // A state code with a locality number that does not exist there.
    let err = d.find_locality("NY 42").unwrap_err();
    assert!(err.suggestions.contains(&"QUEENS, NY".to_string()));
}

#[test]
fn with_release_adds_a_2027_year_used_by_amount() {
    let rvu = "hcpcs,description,work_rvu,pe_rvu_nonfacility,pe_rvu_facility,mp_rvu\n\
               90837,\"Psychotherapy with patient, 60 min (53+ min)\",3.90,1.25,0.20,0.02\n\
               90999,New made-up test code,1.00,0.00,NA,0.00\n\
               90998,Made-up facility-only code,1.00,NA,0.30,0.00\n\
               97151,\"Behavior identification assessment, carrier-priced\",0.00,0.00,0.00,0.00\n";
    let gpci = "mac,locality,locality_name,state,work_gpci,pe_gpci,mp_gpci\n\
                13202,1,MANHATTAN*,NY,1.07,1.170,1.6\n\
                10112,00,ALABAMA,AL,1.000,0.880,0.570\n";
    let base = data();
    let d = base.with_release(2027, rvu, gpci, 328409).unwrap();
    assert_eq!(d.years(), vec![2025, 2026, 2027]);
    assert_eq!(d.latest_year(), 2027);
    assert_eq!(d.conversion_factor(2027).unwrap().amount_ten_thousandths, 328409);
    assert_eq!(d.conversion_factor(2027).unwrap().kind, "imported");
    // Manhattan 2027 90837 NF: 3.90*1.070 + 1.25*1.170 + 0.02*1.600 = 4.173 + 1.4625 + 0.032
    // = 5.6675; x 32.8409 = 186.1258... -> $186.13; LCSW 0.75 x 186.13 = 139.5975 -> $139.60.
    // Facility: 4.173 + 0.20*1.170 + 0.032 = 4.439; x 32.8409 = 145.7807... -> $145.78.
    assert_eq!(priced(&d, "90837", "13202-01", 2027, Credential::Psychologist, Setting::NonFacility).0, 18613);
    assert_eq!(priced(&d, "90837", "13202-01", 2027, Credential::Lcsw, Setting::NonFacility).0, 13960);
    assert_eq!(priced(&d, "90837", "13202-01", 2027, Credential::Psychologist, Setting::Facility).0, 14578);
    // NA facility PE falls back to the non-facility one: 1.00 x 1.000 x 32.8409 = $32.84.
    assert_eq!(priced(&d, "90999", "10112-00", 2027, Credential::Psychologist, Setting::Facility).0, 3284);
    // Non-facility NA: only the facility amount exists. 1.00 + 0.30*0.880 = 1.264; x 32.8409
    // = 41.5108976 -> $41.51.
    assert_eq!(priced(&d, "90998", "10112-00", 2027, Credential::Psychologist, Setting::Facility).0, 4151);
    match d.amount("90998", "10112-00", 2027, Credential::Psychologist, Setting::NonFacility).unwrap() {
        MedicareAmount::NotPriced { reason } => assert!(reason.contains("facility"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // All-zero RVUs are never a $0 amount.
    assert!(matches!(
        d.amount("97151", "10112-00", 2027, Credential::Psychologist, Setting::NonFacility),
        Ok(MedicareAmount::NotPriced { .. })
    ));
    // Codes not in the release, localities without a 2027 index: not priced, no invention.
    assert!(matches!(
        d.amount("90834", "13202-01", 2027, Credential::Psychologist, Setting::NonFacility),
        Ok(MedicareAmount::NotPriced { .. })
    ));
    assert!(matches!(
        d.amount("90837", "02102-01", 2027, Credential::Psychologist, Setting::NonFacility),
        Ok(MedicareAmount::NotPriced { .. })
    ));
    // Earlier years are untouched and the original is unchanged.
    assert_eq!(priced(&d, "90837", "13202-01", 2026, Credential::Psychologist, Setting::NonFacility).0, 18197);
    assert_eq!(base.years(), vec![2025, 2026]);
    assert!(base.code("90999").is_none());
    assert_eq!(d.code("90999").unwrap().description, "New made-up test code");
    // The release's code description replaces an older one only for the latest year.
    assert_eq!(d.localities().len(), 109);
}

#[test]
fn with_release_rejects_bad_input_with_a_reason() {
    let d = data();
    let gpci = "mac,locality,locality_name,state,work_gpci,pe_gpci,mp_gpci\n10112,00,ALABAMA,AL,1.000,0.880,0.570\n";
    let rvu = "hcpcs,description,work_rvu,pe_rvu_nonfacility,pe_rvu_facility,mp_rvu\n90837,x,3.90,1.25,0.20,0.02\n";
    let bad = |r: Result<MedicareData, MedicareError>| match r {
        Err(MedicareError::BadRelease(m)) => m,
        other => panic!("expected BadRelease, got {:?}", other.map(|d| d.years())),
    };
    assert!(bad(d.with_release(2027, rvu, gpci, 33)).contains("334009"));
    assert!(bad(d.with_release(27, rvu, gpci, 328409)).contains("2027"));
    assert!(bad(d.with_release(2027, "hcpcs,work_rvu\n90837,1.00\n", gpci, 328409)).contains("pe_rvu_nonfacility"));
    assert!(bad(d.with_release(2027, rvu, "mac,locality\n", 328409)).contains("work_gpci"));
    let three_decimals = rvu.replace("3.90", "3.905");
    assert!(bad(d.with_release(2027, &three_decimals, gpci, 328409)).contains("3.905"));
    let twice = format!("{rvu}90837,y,1.00,1.00,1.00,0.00\n");
    assert!(bad(d.with_release(2027, &twice, gpci, 328409)).contains("twice"));
    let both_na = rvu.replace("1.25,0.20", "NA,NA");
    assert!(bad(d.with_release(2027, &both_na, gpci, 328409)).contains("NA"));
    let header_only = "hcpcs,description,work_rvu,pe_rvu_nonfacility,pe_rvu_facility,mp_rvu\n";
    assert!(bad(d.with_release(2027, header_only, gpci, 328409)).contains("no codes"));
    let err = MedicareError::BadRelease("x".into()).to_string();
    assert!(err.contains("release"), "{err}");
}

#[test]
fn release_status_column_is_read() {
    let rvu = "hcpcs,description,work_rvu,pe_rvu_nonfacility,pe_rvu_facility,mp_rvu,status\n\
               90837,x,3.90,1.25,0.20,0.02,N\n90834,y,2.60,0.85,0.17,0.02,\n90846,z,2.70,0.40,0.20,0.03,\n";
    let gpci = "mac,locality,locality_name,state,work_gpci,pe_gpci,mp_gpci\n10112,00,ALABAMA,AL,1.000,0.880,0.570\n";
    let d = data().with_release(2027, rvu, gpci, 328409).unwrap();
    assert!(matches!(
        d.amount("90837", "AL", 2027, Credential::Psychologist, Setting::NonFacility),
        Ok(MedicareAmount::NotPriced { .. })
    ));
    assert_eq!(d.code("90837").unwrap().status, 'N');
    assert_eq!(priced(&d, "90834", "AL", 2027, Credential::Psychologist, Setting::NonFacility).3, 'A');
    assert_eq!(priced(&d, "90846", "AL", 2027, Credential::Psychologist, Setting::NonFacility).3, 'R');
}

#[test]
fn amounts_serialize_with_a_kind_tag() {
    let d = data();
    let a = d.amount("90837", "13202-01", 2026, Credential::Lcsw, Setting::NonFacility).unwrap();
    let v = serde_json::to_value(&a).unwrap();
    assert_eq!(v["kind"], "priced");
    assert_eq!(v["cents"], 13648);
    assert_eq!(v["full_cents"], 18197);
    assert_eq!(v["status"], "A");
    let n = d.amount("99404", "13202-01", 2026, Credential::Lcsw, Setting::NonFacility).unwrap();
    assert_eq!(serde_json::to_value(&n).unwrap()["kind"], "not_priced");
}

#[test]
fn embedded_is_shared() {
    assert!(Arc::ptr_eq(&MedicareData::embedded(), &MedicareData::embedded()));
}

#[test]
fn the_zip_table_is_cms_file_joined_on_carrier_and_locality() {
    let t = zip::ZipTable::shipped();
    assert_eq!(t.len(), 42_956);
    assert_eq!(t.crossing_count(), 581);
    // Exactly the 109 (carrier, locality) pairs of the 2026 GPCI file, every row joins.
    let d = data();
    let mut ids: Vec<String> = t.locality_ids().to_vec();
    ids.sort();
    let mut gpci: Vec<String> = d.localities().iter().map(|l| l.id()).collect();
    gpci.sort();
    assert_eq!(ids, gpci);
}

#[test]
fn a_zip_code_names_its_locality() {
    let d = data();
    let id = |s: &str| d.resolve_locality(s).map(|m| m.locality.id()).unwrap_or_else(|e| panic!("{s}: {e}"));
    // The research notes' known ZIPs.
    assert_eq!(id("10001"), "13202-01");
    assert_eq!(id("60614"), "06102-16");
    assert_eq!(id("90012"), "01182-18");
    assert_eq!(id("35203"), "10112-00");
    assert_eq!(id("99501"), "02102-01");
    assert_eq!(id("94110"), "01112-05");
    assert_eq!(id("92701"), "01182-18");
    assert_eq!(id("11375"), "13292-04");
    assert_eq!(id("60614-1234"), "06102-16");
    // The file's state column is CMS's own: these ZIPs are filed under MD and VA but are priced
    // in the DC locality; the join is on carrier and locality.
    assert_eq!(id("22201"), "12202-01");
    assert_eq!(id("20852"), "12202-01");
    assert!(d.resolve_locality("60614").unwrap().note.is_none());
    assert_eq!(d.zip_locality("60614").unwrap().locality_id, "06102-16");
    // Not in the file (military and unused ZIPs): not found, no guess.
    assert!(d.resolve_locality("00000").is_err());
    assert!(d.resolve_locality("09001").is_err());
}

#[test]
fn a_zip_crossing_a_locality_line_says_the_address_decides() {
    let d = data();
    let crossing =
        (0..100_000u32).find(|z| zip::ZipTable::shipped().get(*z).is_some_and(|x| x.crosses_locality_line)).unwrap();
    let m = d.resolve_locality(&format!("{crossing:05}")).unwrap();
    let note = m.note.expect("a note");
    assert!(note.contains("exact address") && note.contains(&m.locality.display_name()), "{note}");
}

#[test]
fn a_county_names_its_locality() {
    let d = data();
    let m = |s: &str| d.resolve_locality(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    let id = |s: &str| m(s).locality.id();
    assert_eq!(id("Cook County, IL"), "06102-16");
    assert_eq!(id("cook county illinois"), "06102-16");
    assert_eq!(id("DuPage County, IL"), "06102-15");
    assert_eq!(id("Du Page County IL"), "06102-15");
    assert_eq!(id("St. Clair County, IL"), "06102-12");
    assert_eq!(id("Saint Clair County, IL"), "06102-12");
    assert_eq!(id("New York County, NY"), "13202-01");
    assert_eq!(id("Kings County, NY"), "13202-02");
    assert_eq!(id("Orange County, CA"), "01182-18");
    assert_eq!(id("Orange County, NY"), "13202-03");
    assert_eq!(id("Harris County, TX"), "04412-18");
    assert_eq!(id("Orleans Parish, LA"), "07202-01");
    assert_eq!(id("Miami-Dade County, FL"), "09102-04");
    assert_eq!(id("St. Louis City, MO"), "05302-01");
    assert_eq!(id("Baltimore City, MD"), "12302-01");
    // Counties CMS lists under the DC locality, in Virginia and Maryland.
    assert_eq!(id("Arlington County, VA"), "12202-01");
    assert_eq!(id("Prince George's County, MD"), "12202-01");
    assert_eq!(id("Montgomery County, MD"), "12202-01");
    // Montgomery County elsewhere is another locality.
    assert_eq!(id("Montgomery County, PA"), "12502-01");
    // A state with one locality: every county is in it, nothing to add.
    let r = m("Jefferson County, AL");
    assert_eq!((r.locality.id(), r.note), ("10112-00".to_string(), None));
    // A county CMS does not name is in the rest of the state, and the reply says why.
    let r = m("Champaign County, IL");
    assert_eq!(r.locality.id(), "06102-99");
    assert!(r.note.unwrap().contains("REST OF ILLINOIS"));
    assert_eq!(id("Fairfax County, VA"), "12202-01");
    assert_eq!(id("Loudoun County, VA"), "11302-00");
    // Without the state: taken when only one state names it, with a note.
    let r = m("Cook County");
    assert_eq!(r.locality.id(), "06102-16");
    assert!(r.note.unwrap().contains("IL"));
    let err = d.resolve_locality("Orange County").unwrap_err();
    assert_eq!(err.suggestions.len(), 2, "{err}");
    assert!(err.to_string().contains("POUGHKPSIE"), "{err}");
    // A near miss of a named county is asked about, not sent to the rest of the state.
    let err = d.resolve_locality("Cok County, IL").unwrap_err();
    assert!(err.suggestions[0].contains("CHICAGO, IL"), "{err}");
    // find_locality takes the same forms.
    assert_eq!(d.find_locality("Cook County, IL").unwrap().id(), "06102-16");
}

#[test]
fn a_city_in_a_locality_name_resolves_or_suggests() {
    let d = data();
    let id = |s: &str| d.resolve_locality(s).map(|m| m.locality.id()).unwrap_or_else(|e| panic!("{s}: {e}"));
    assert_eq!(id("Los Angeles, CA"), "01182-18");
    assert_eq!(id("los angeles ca"), "01182-18");
    assert_eq!(id("Long Beach, CA"), "01182-18");
    assert_eq!(id("Anaheim"), "01182-18");
    assert_eq!(id("Boston, MA"), "14212-01");
    assert_eq!(id("Kansas City, MO"), "05302-02");
    assert_eq!(id("St. Louis, MO"), "05302-01");
    assert_eq!(id("Seattle, WA"), "02402-02");
    assert_eq!(id("Thousand Oaks, California"), "01182-17");
    // San Francisco is in two localities' names; the one that lists it as a county wins.
    assert_eq!(id("San Francisco, CA"), "01112-05");
    // San Jose is in two, neither lists it as a county: both are suggested.
    let err = d.resolve_locality("San Jose, CA").unwrap_err();
    assert_eq!(err.suggestions.len(), 2, "{err}");
    assert!(err.suggestions.iter().all(|s| s.starts_with("SAN JOSE-SUNNYVALE-SANTA CLARA")), "{err}");
    // A city in another state's locality is not taken.
    assert!(d.resolve_locality("Los Angeles, NY").is_err());
    // The error names the new forms.
    let err = d.resolve_locality("zzzzqqqq").unwrap_err().to_string();
    assert!(err.contains("ZIP") && err.contains("County"), "{err}");
}
