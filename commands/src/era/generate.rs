//! Generated 835 files for therapy practices (tests and benchmarks), with the totals each file
//! must produce computed here from the generator's own choices, not by parsing what it wrote.

use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;

/// A payer of the generated practice, with its contract per code before and after `raise_on`.
#[derive(Debug, Clone, Copy)]
pub struct GenPayer {
    pub name: &'static str,
    pub id: &'static str,
    /// (code, cents before the raise, cents from the raise on).
    pub contract: &'static [(&'static str, i64, i64)],
}

pub const PAYERS: &[GenPayer] = &[
    GenPayer {
        name: "AETNA BETTER HEALTH",
        id: "60054",
        contract: &[("90837", 11800, 12400), ("90834", 9000, 9400), ("90791", 13500, 14000)],
    },
    GenPayer {
        name: "CIGNA",
        id: "62308",
        contract: &[("90837", 12500, 13000), ("90834", 9500, 9900), ("90791", 14000, 14500)],
    },
    GenPayer {
        name: "OPTUM BEHAVIORAL HEALTH",
        id: "87726",
        contract: &[("90837", 11000, 11000), ("90834", 8500, 8500), ("90791", 12500, 12500)],
    },
];

const CHARGES: &[(&str, i64)] = &[("90837", 20000), ("90834", 15000), ("90791", 25000), ("90785", 3000)];
/// Add-on without a contract rate: never an underpayment.
const ADD_ON_ALLOWED: i64 = 1500;
const DENIALS: &[(&str, &str)] = &[("16", "M51"), ("50", "N115"), ("197", "N54"), ("29", "N211"), ("27", "N30")];
const SURNAMES: &[&str] =
    &["RIVERA", "OKAFOR", "LINDQVIST", "NAKAMURA", "BEAUMONT", "KOWALCZYK", "ABERNATHY", "DESROCHES"];
const GIVEN: &[&str] = &["MARISOL", "CHIDI", "ASTRID", "HARUKI", "ELODIE", "TOMASZ", "WINIFRED", "LUCIEN"];

#[derive(Debug, Clone)]
pub struct EraSpec {
    pub seed: u64,
    pub files: usize,
    /// Transactions (checks) per file.
    pub checks_per_file: usize,
    pub claims_per_check: usize,
    pub start: NaiveDate,
    pub days: i64,
    /// Contracts change on this date (the second amount in [`GenPayer::contract`]).
    pub raise_on: NaiveDate,
}

impl EraSpec {
    /// A small batch for tests: 4 files, several checks, payers and every kind of line.
    pub fn small(seed: u64) -> EraSpec {
        EraSpec {
            seed,
            files: 4,
            checks_per_file: 3,
            claims_per_check: 12,
            start: NaiveDate::from_ymd_opt(2026, 1, 5).expect("valid"),
            days: 330,
            raise_on: NaiveDate::from_ymd_opt(2026, 7, 1).expect("valid"),
        }
    }

    /// A year of a 20-clinician group: 500 files of about 100 service lines.
    pub fn year_of_group(seed: u64) -> EraSpec {
        EraSpec { files: 500, checks_per_file: 2, claims_per_check: 44, ..EraSpec::small(seed) }
    }
}

/// Separators a file is written with.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub element: char,
    pub component: char,
    pub repetition: char,
    /// The terminator and what follows it (CR/LF or nothing).
    pub terminator: &'static str,
}

pub const STYLES: &[Style] = &[
    Style { element: '*', component: ':', repetition: '^', terminator: "~" },
    Style { element: '*', component: ':', repetition: '^', terminator: "~\r\n" },
    Style { element: '|', component: '>', repetition: '^', terminator: "\n" },
    Style { element: '!', component: '\\', repetition: '{', terminator: "~\n" },
];

/// What the generator knows each file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub transactions: usize,
    /// (payer, check number, date, amount in cents).
    pub checks: Vec<(String, String, NaiveDate, i64)>,
    pub claims: usize,
    pub service_lines: usize,
    pub paid_cents: i64,
    pub reversals: usize,
}

#[derive(Debug, Clone)]
pub struct GenFile {
    pub name: String,
    pub bytes: Vec<u8>,
    pub totals: Totals,
}

/// A contracted line that ends below the contract in force on its date, after reversals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Short {
    pub payer: &'static str,
    pub cpt: &'static str,
    pub service_date: NaiveDate,
    pub check: String,
    pub allowed: i64,
    pub contract: i64,
}

/// The whole batch: files, and facts across files (a reversal may undo a line of an earlier file).
#[derive(Debug, Clone)]
pub struct GenBatch {
    pub files: Vec<GenFile>,
    pub shorts: Vec<Short>,
    /// Claims denied (CLP02 4), by payer.
    pub denied_claims: BTreeMap<&'static str, usize>,
    /// Claims per payer that are not reversals (denominator of the denial rate).
    pub claims_by_payer: BTreeMap<&'static str, usize>,
    /// Denied dollars by reason code (CARC), by payer.
    pub denied_cents: BTreeMap<(&'static str, &'static str), i64>,
    /// Every patient name and member id written, for privacy checks.
    pub patient_strings: Vec<String>,
    /// Every claim that counts (not a reversal, not taken back by one): (payer, date of
    /// service, check date, paid something).
    pub claim_dates: Vec<(&'static str, NaiveDate, NaiveDate, bool)>,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

pub fn contract_on(payer: &GenPayer, cpt: &str, date: NaiveDate, raise_on: NaiveDate) -> Option<i64> {
    payer.contract.iter().find(|c| c.0 == cpt).map(|c| if date < raise_on { c.1 } else { c.2 })
}

/// The commands that set up the practice a batch is read against: each payer, and its contract
/// before and on `spec.raise_on` (the first in force from 2025-01-01), as tests and the benchmark
/// run them.
pub fn practice_lines(spec: &EraSpec) -> Vec<String> {
    let mut lines = Vec::new();
    for p in PAYERS {
        lines.push(format!("/payer add name:\"{}\" kind:commercial", p.name));
        for (cpt, _, _) in p.contract {
            let before = contract_on(p, cpt, spec.start, spec.raise_on).expect("contracted code");
            let after = contract_on(p, cpt, spec.raise_on, spec.raise_on).expect("contracted code");
            let mut set = |cents: i64, effective: String| {
                lines.push(format!(
                    "/rate set payer:\"{}\" cpt:{cpt} amount:{}.{:02} effective:{effective}",
                    p.name,
                    cents / 100,
                    cents % 100
                ))
            };
            set(before, "2025-01-01".into());
            if after != before {
                set(after, spec.raise_on.to_string());
            }
        }
    }
    lines
}

#[derive(Clone)]
struct Line {
    cpt: &'static str,
    charge: i64,
    allowed: i64,
    patient_resp: i64,
    paid: i64,
    denial: Option<(&'static str, &'static str)>,
    write_allowed: bool,
    date: NaiveDate,
    date_style: u8,
}

#[derive(Clone)]
struct GenClaim {
    id: String,
    status: &'static str,
    lines: Vec<Line>,
    patient: (usize, usize, String),
    control: String,
}

impl GenClaim {
    fn charge(&self) -> i64 {
        self.lines.iter().map(|l| l.charge).sum()
    }
    fn paid(&self) -> i64 {
        self.lines.iter().map(|l| l.paid).sum()
    }
    fn patient_resp(&self) -> i64 {
        self.lines.iter().map(|l| l.patient_resp).sum()
    }
    fn negated(&self) -> GenClaim {
        let mut c = self.clone();
        c.status = "22";
        for l in &mut c.lines {
            l.charge = -l.charge;
            l.allowed = -l.allowed;
            l.patient_resp = -l.patient_resp;
            l.paid = -l.paid;
        }
        c
    }
}

struct Writer {
    out: String,
    style: Style,
    count: usize,
}

impl Writer {
    fn seg(&mut self, elements: &[&str]) {
        let mut els: Vec<&str> = elements.to_vec();
        while els.len() > 1 && els.last() == Some(&"") {
            els.pop();
        }
        self.out.push_str(&els.join(&self.style.element.to_string()));
        self.out.push_str(self.style.terminator);
        self.count += 1;
    }
}

fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    match abs % 100 {
        0 => format!("{sign}{}", abs / 100),
        c if c % 10 == 0 => format!("{sign}{}.{}", abs / 100, c / 10),
        c => format!("{sign}{}.{c:02}", abs / 100),
    }
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

fn isa(style: Style, control: u64, date: NaiveDate) -> String {
    let e = style.element;
    format!(
        "ISA{e}00{e}          {e}00{e}          {e}ZZ{e}{:<15}{e}ZZ{e}{:<15}{e}{}{e}1200{e}{}{e}00501{e}{control:09}{e}0{e}P{e}{}",
        "CLEARINGHOUSE",
        "THERAPYGROUP",
        date.format("%y%m%d"),
        style.repetition,
        style.component
    )
}

pub fn generate(spec: &EraSpec) -> GenBatch {
    let mut rng = Rng(spec.seed.wrapping_mul(2654435761).max(1) | 1);
    let mut batch = GenBatch {
        files: vec![],
        shorts: vec![],
        denied_claims: BTreeMap::new(),
        claims_by_payer: BTreeMap::new(),
        denied_cents: BTreeMap::new(),
        patient_strings: vec![],
        claim_dates: vec![],
    };
    // Paid claims per payer that a later reversal may take back: (claim, index into shorts of its
    // lines, index into claim_dates).
    let mut reversible: Vec<Vec<(GenClaim, Vec<usize>, usize)>> = vec![vec![]; PAYERS.len()];
    let mut claim_no = 0u64;
    let mut check_no = 0u64;
    for f in 0..spec.files {
        let style = STYLES[f % STYLES.len()];
        let mut totals = Totals::default();
        let file_date = spec.start + Duration::days(spec.days * f as i64 / spec.files.max(1) as i64 + 45);
        let two_interchanges = f % 3 == 2 && spec.checks_per_file > 1;
        let mut w = Writer { out: String::new(), style, count: 0 };
        let mut st_in_group = 0;
        let c = style.component.to_string();
        let open = |w: &mut Writer, n: u64| {
            w.out.push_str(&isa(style, n, file_date));
            w.out.push_str(style.terminator);
            w.seg(&[
                "GS",
                "HP",
                "CLEARINGHOUSE",
                "THERAPYGROUP",
                &ymd(file_date),
                "1200",
                &n.to_string(),
                "X",
                "005010X221A1",
            ]);
        };
        let close = |w: &mut Writer, n: u64, sts: usize| {
            w.seg(&["GE", &sts.to_string(), &n.to_string()]);
            w.seg(&["IEA", "1", &format!("{n:09}")]);
        };
        let mut interchange = (f as u64) * 10 + 1;
        open(&mut w, interchange);
        for k in 0..spec.checks_per_file {
            if two_interchanges && k == spec.checks_per_file / 2 {
                close(&mut w, interchange, st_in_group);
                interchange += 1;
                st_in_group = 0;
                open(&mut w, interchange);
            }
            let p = (f + k) % PAYERS.len();
            let payer = &PAYERS[p];
            check_no += 1;
            let number = format!("{}{:07}", &payer.id[..2], check_no);
            let check_date = file_date + Duration::days(k as i64);
            let mut claims: Vec<GenClaim> = vec![];
            for _ in 0..spec.claims_per_check {
                // A reversal of an earlier paid claim of this payer, and its correction.
                if rng.chance(3) && !reversible[p].is_empty() {
                    let i = rng.below(reversible[p].len() as u64) as usize;
                    let (original, short_ids, paid_id) = reversible[p].swap_remove(i);
                    batch.claim_dates[paid_id].0 = ""; // taken back: removed below
                    if let Some(n) = batch.claims_by_payer.get_mut(payer.name) {
                        *n -= 1;
                    }
                    for s in short_ids {
                        batch.shorts[s].allowed = i64::MIN; // taken back: removed below
                    }
                    let mut corrected = original.clone();
                    for l in &mut corrected.lines {
                        if let Some(contract) = contract_on(payer, l.cpt, l.date, spec.raise_on) {
                            l.allowed = contract;
                            l.paid = contract - l.patient_resp;
                        }
                    }
                    corrected.control = format!("{}R", original.control);
                    claims.push(original.negated());
                    claims.push(corrected);
                    continue;
                }
                claim_no += 1;
                let date = check_date - Duration::days(14 + rng.below(40) as i64);
                let cpt = ["90837", "90837", "90834", "90791"][rng.below(4) as usize];
                let kind = rng.below(100);
                let mut lines = vec![(cpt, date)];
                if rng.chance(12) {
                    lines.push(("90785", date));
                }
                let denial = if kind < 8 { Some(DENIALS[rng.below(DENIALS.len() as u64) as usize]) } else { None };
                let copay = [0, 0, 2000, 3000][rng.below(4) as usize];
                let mut gen_lines = vec![];
                for (code, d) in lines {
                    let charge = CHARGES.iter().find(|c| c.0 == code).map(|c| c.1).unwrap_or(10000);
                    let contract = contract_on(payer, code, d, spec.raise_on);
                    let allowed = match (contract, kind) {
                        (None, _) => ADD_ON_ALLOWED,
                        (Some(c), 8..=19) => c - 100 - rng.below(2400) as i64,
                        (Some(_), 20..=27) if d >= spec.raise_on => {
                            payer.contract.iter().find(|x| x.0 == code).map(|x| x.1).unwrap_or(0)
                        }
                        (Some(c), _) => c,
                    };
                    let (allowed, patient_resp, paid) = match denial {
                        Some(_) => (0, 0, 0),
                        None => {
                            let pr = if gen_lines.is_empty() { copay.min(allowed) } else { 0 };
                            (allowed, pr, allowed - pr)
                        }
                    };
                    gen_lines.push(Line {
                        cpt: code,
                        charge,
                        allowed,
                        patient_resp,
                        paid,
                        denial,
                        write_allowed: denial.is_none() && !rng.chance(15),
                        date: d,
                        date_style: rng.below(10) as u8,
                    });
                }
                let patient = (
                    rng.below(SURNAMES.len() as u64) as usize,
                    rng.below(GIVEN.len() as u64) as usize,
                    format!("W{:09}", rng.below(1_000_000_000)),
                );
                claims.push(GenClaim {
                    id: format!("TG{claim_no:08}"),
                    status: if denial.is_some() { "4" } else { "1" },
                    lines: gen_lines,
                    patient,
                    control: format!("{}{claim_no:010}", &payer.id[..2]),
                });
            }
            // Provider-level adjustments: interest adds to the check, a recovery takes from it.
            let paid: i64 = claims.iter().map(GenClaim::paid).sum();
            let mut plb: Vec<(String, i64)> = vec![];
            match rng.below(10) {
                0 => plb.push(("L6".to_string(), -(100 + rng.below(900) as i64))),
                1 if paid > 5000 => {
                    plb.push((format!("WO{c}{}", claims.first().map(|c| c.control.clone()).unwrap_or_default()), 2500))
                }
                _ => {}
            }
            let amount = paid - plb.iter().map(|p| p.1).sum::<i64>();
            // The transaction.
            st_in_group += 1;
            let st_control = format!("{:04}", k + 1);
            let before = w.count;
            w.seg(&["ST", "835", &st_control, "005010X221A1"]);
            let method = if k % 2 == 0 { ("ACH", "CCP") } else { ("CHK", "") };
            w.seg(&[
                "BPR",
                if amount == 0 { "H" } else { "I" },
                &money(amount),
                "C",
                if amount == 0 { "NON" } else { method.0 },
                method.1,
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                &ymd(check_date),
            ]);
            w.seg(&["TRN", "1", &number, &format!("1{}", payer.id)]);
            w.seg(&["DTM", "405", &ymd(check_date)]);
            w.seg(&["N1", "PR", payer.name, "XV", payer.id]);
            w.seg(&["N3", "PO BOX 1000"]);
            w.seg(&["N4", "HARTFORD", "CT", "06101"]);
            w.seg(&["REF", "2U", payer.id]);
            w.seg(&["N1", "PE", "THERAPY GROUP PLLC", "XX", "1234567893"]);
            w.seg(&["LX", "1"]);
            let mut shorts_of_check = vec![];
            for claim in &claims {
                let (sn, gn, member) = &claim.patient;
                w.seg(&[
                    "CLP",
                    &claim.id,
                    claim.status,
                    &money(claim.charge()),
                    &money(claim.paid()),
                    &money(claim.patient_resp()),
                    "12",
                    &claim.control,
                    "11",
                    "1",
                ]);
                w.seg(&["NM1", "QC", "1", SURNAMES[*sn], GIVEN[*gn], "", "", "", "MI", member]);
                batch.patient_strings.extend([SURNAMES[*sn].to_string(), GIVEN[*gn].to_string(), member.clone()]);
                w.seg(&["NM1", "82", "1", "CLINICIAN", "ONE", "", "", "", "XX", "1098765432"]);
                let first = claim.lines[0].date;
                w.seg(&["DTM", "232", &ymd(first)]);
                w.seg(&["DTM", "233", &ymd(first)]);
                for l in &claim.lines {
                    let svc01 = format!("HC{c}{}", l.cpt);
                    let svc01 = if l.cpt == "90791" { format!("{svc01}{c}95") } else { svc01 };
                    w.seg(&["SVC", &svc01, &money(l.charge), &money(l.paid), "", "1"]);
                    match l.date_style {
                        0 => {}
                        1 => {
                            w.seg(&["DTM", "150", &ymd(l.date)]);
                            w.seg(&["DTM", "151", &ymd(l.date)]);
                        }
                        _ => w.seg(&["DTM", "472", &ymd(l.date)]),
                    }
                    match l.denial {
                        Some((carc, rarc)) => {
                            w.seg(&["CAS", "CO", carc, &money(l.charge)]);
                            w.seg(&["LQ", "HE", rarc]);
                        }
                        None => {
                            if l.charge != l.allowed {
                                w.seg(&["CAS", "CO", "45", &money(l.charge - l.allowed)]);
                            }
                            if l.patient_resp != 0 {
                                w.seg(&["CAS", "PR", "3", &money(l.patient_resp)]);
                            }
                        }
                    }
                    if l.write_allowed {
                        w.seg(&["AMT", "B6", &money(l.allowed)]);
                    }
                }
                totals.claims += 1;
                totals.service_lines += claim.lines.len();
                totals.paid_cents += claim.paid();
                if claim.status == "22" {
                    totals.reversals += 1;
                    continue;
                }
                *batch.claims_by_payer.entry(payer.name).or_default() += 1;
                let paid_id = batch.claim_dates.len();
                batch.claim_dates.push((payer.name, claim.lines[0].date, check_date, claim.paid() > 0));
                if claim.status == "4" {
                    *batch.denied_claims.entry(payer.name).or_default() += 1;
                    for l in &claim.lines {
                        if let Some((carc, _)) = l.denial {
                            *batch.denied_cents.entry((payer.name, carc)).or_default() += l.charge;
                        }
                    }
                    continue;
                }
                let mut ids = vec![];
                for l in &claim.lines {
                    if let Some(contract) = contract_on(payer, l.cpt, l.date, spec.raise_on) {
                        if l.allowed < contract - 1 {
                            ids.push(batch.shorts.len());
                            batch.shorts.push(Short {
                                payer: payer.name,
                                cpt: l.cpt,
                                service_date: l.date,
                                check: number.clone(),
                                allowed: l.allowed,
                                contract,
                            });
                        }
                    }
                }
                if !claim.control.ends_with('R') {
                    shorts_of_check.push((claim.clone(), ids, paid_id));
                }
            }
            reversible[p].extend(shorts_of_check);
            for (reason, amt) in &plb {
                w.seg(&["PLB", "1234567893", &format!("{}1231", file_date.format("%Y")), reason, &money(*amt)]);
            }
            let n = w.count - before + 1;
            w.seg(&["SE", &n.to_string(), &st_control]);
            totals.transactions += 1;
            totals.checks.push((payer.name.to_string(), number, check_date, amount));
        }
        close(&mut w, interchange, st_in_group);
        let ext = if f % 2 == 0 { "835" } else { "txt" };
        batch.files.push(GenFile { name: format!("era_{f:04}.{ext}"), bytes: w.out.into_bytes(), totals });
    }
    batch.shorts.retain(|s| s.allowed != i64::MIN);
    batch.claim_dates.retain(|c| !c.0.is_empty());
    batch
}
