//! A generated, realistic EHR claims export: several payers, about 15 clinicians, a caseload of
//! clients seen weekly, denials, resubmissions, late payments, no-shows and late cancellations,
//! and payers that underpay. Deterministic (fixed seed). Shared by the claims tests and the
//! import benchmark (`#[path]`-included), so both read the same kind of file.

#![allow(dead_code)]

use chrono::{Duration, NaiveDate};
use std::io::Write;

pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn chance(&mut self, per_thousand: u64) -> bool {
        self.below(1000) < per_thousand
    }
}

pub const HEADER: &str = "Date of Service,Client,Clinician,CPT Code,Modifiers,Units,Insurance,Payer ID,Billed,Allowed,Insurance Paid,Date Paid,Claim Status,Appointment Status,Date of Birth,Member ID";

/// (name in the export, payer id, share of clients in per-mille)
pub const PAYERS: &[(&str, &str, u64)] = &[
    ("CIGNA Healthcare", "62308", 350),
    ("Blue Cross Blue Shield of Texas", "84980", 300),
    ("Optum Behavioral Health", "87726", 250),
    ("Mystery Health Plan", "99999", 100),
];

/// Contracted rates the tests record: (payer in the practice, code, cents, effective).
pub const CONTRACTS: &[(&str, &str, i64, &str)] = &[
    ("Cigna", "90837", 11850, "2024-01-01"),
    ("Cigna", "90837", 12500, "2026-06-01"),
    ("Cigna", "90834", 9200, "2024-01-01"),
    ("Cigna", "90791", 14000, "2024-01-01"),
    ("BCBS Texas", "90837", 12000, "2024-01-01"),
    ("BCBS Texas", "90834", 9500, "2024-01-01"),
    ("Optum Behavioral", "90837", 10500, "2024-01-01"),
    ("Optum Behavioral", "90834", 8000, "2024-01-01"),
];

/// The commands that set up the practice the generated exports are read against: three of the
/// export's payers (the fourth is left unknown) and their contracts.
pub fn practice_lines() -> Vec<String> {
    let mut lines = vec![
        r#"/setup locality:"MANHATTAN, NY" credential:lcsw"#.to_string(),
        "/payer add name:Cigna kind:commercial".into(),
        r#"/payer add name:"BCBS Texas" kind:commercial"#.into(),
        r#"/payer add name:"Optum Behavioral" kind:mbho"#.into(),
    ];
    for (payer, cpt, cents, eff) in CONTRACTS {
        lines.push(format!(
            r#"/rate set payer:"{payer}" cpt:{cpt} amount:{}.{:02} effective:{eff}"#,
            cents / 100,
            cents % 100
        ));
    }
    lines
}

#[derive(Debug, Clone)]
pub struct GenRow {
    pub date: NaiveDate,
    pub client: String,
    pub clinician: String,
    pub cpt: String,
    pub units: i64,
    pub payer: &'static str,
    pub payer_id: &'static str,
    pub billed: i64,
    pub allowed: Option<i64>,
    pub paid: Option<i64>,
    pub paid_date: Option<NaiveDate>,
    /// paid, denied, pending, paid-resubmitted
    pub status: &'static str,
    /// "" (the session happened), "No Show", "Late Cancel"
    pub attendance: &'static str,
    pub modifiers: &'static str,
    /// When the payer decided (paid or denied): an export made before this shows it pending.
    pub decided_on: Option<NaiveDate>,
}

impl GenRow {
    /// The row as an export made on `as_of` shows it.
    pub fn as_of(&self, as_of: NaiveDate) -> GenRow {
        let mut r = self.clone();
        if r.decided_on.is_some_and(|d| d > as_of) {
            r.status = "pending";
            r.allowed = None;
            r.paid = None;
            r.paid_date = None;
            r.decided_on = None;
        }
        r
    }
}

fn contract(payer: &str, cpt: &str, date: NaiveDate) -> i64 {
    let practice_payer = match payer {
        "CIGNA Healthcare" => "Cigna",
        "Blue Cross Blue Shield of Texas" => "BCBS Texas",
        "Optum Behavioral Health" => "Optum Behavioral",
        _ => return 10000,
    };
    CONTRACTS
        .iter()
        .filter(|(p, c, _, eff)| *p == practice_payer && *c == cpt && eff.parse::<NaiveDate>().unwrap() <= date)
        .max_by_key(|(_, _, _, eff)| *eff)
        .map(|(_, _, cents, _)| *cents)
        .unwrap_or(10000)
}

const FIRST: &[&str] = &["Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Zoe", "Ethan", "Ivy", "Omar", "Nina", "Raj"];
const LAST: &[&str] = &["Garcia", "Nguyen", "Okafor", "Schmidt", "Rossi", "Kowalski", "Haddad", "Tanaka", "Brennan"];

/// `clients` clients spread over 15 clinicians, each seen about weekly from `start` for `weeks`.
/// Visits are produced in date order; `today` decides what is still pending.
pub fn generate(seed: u64, clients: usize, start: NaiveDate, weeks: i64, today: NaiveDate) -> Vec<GenRow> {
    let mut out = Vec::new();
    generate_each(seed, clients, start, weeks, today, |r| out.push(r));
    out
}

pub fn generate_each(
    seed: u64,
    clients: usize,
    start: NaiveDate,
    weeks: i64,
    today: NaiveDate,
    mut emit: impl FnMut(GenRow),
) {
    let mut rng = Rng(seed | 1);
    struct Client {
        name: String,
        clinician: usize,
        payer: usize,
        weekday: i64,
        first_week: i64,
        last_week: i64,
    }
    let mut caseload = Vec::with_capacity(clients);
    for i in 0..clients {
        let roll = rng.below(1000);
        let mut acc = 0;
        let payer = PAYERS.iter().position(|(_, _, share)| {
            acc += share;
            roll < acc
        });
        let first_week = rng.below((weeks as u64).max(1)) as i64 / 2;
        caseload.push(Client {
            name: format!("{} {}{i}", FIRST[i % FIRST.len()], LAST[(i / FIRST.len()) % LAST.len()]),
            clinician: i % 15,
            payer: payer.unwrap_or(0),
            weekday: (i % 5) as i64,
            first_week,
            last_week: (first_week + 8 + rng.below(weeks as u64) as i64).min(weeks - 1),
        });
    }
    for week in 0..weeks {
        for c in &caseload {
            if week < c.first_week || week > c.last_week {
                continue;
            }
            let date = start + Duration::days(week * 7 + c.weekday);
            let (payer, payer_id, _) = PAYERS[c.payer];
            let cpt = if week == c.first_week {
                "90791"
            } else if rng.chance(300) {
                "90834"
            } else {
                "90837"
            };
            let contract = contract(payer, cpt, date);
            let mut row = GenRow {
                date,
                client: c.name.clone(),
                clinician: format!("Clinician {:02}", c.clinician),
                cpt: cpt.to_string(),
                units: 1,
                payer,
                payer_id,
                billed: 20000,
                allowed: None,
                paid: None,
                paid_date: None,
                status: "pending",
                attendance: "",
                modifiers: if c.weekday == 4 { "95" } else { "" },
                decided_on: None,
            };
            if rng.chance(50) {
                row.attendance = "No Show";
                row.billed = 0;
            } else if rng.chance(20) {
                row.attendance = "Late Cancel";
                row.billed = 0;
            } else {
                let days = if rng.chance(100) { 75 + rng.below(40) as i64 } else { 12 + rng.below(30) as i64 };
                let paid_date = date + Duration::days(days);
                if paid_date > today {
                    row.status = "pending";
                } else if rng.chance(80) {
                    row.status = "denied";
                    row.paid = Some(0);
                    row.decided_on = Some(paid_date);
                } else {
                    row.status = if rng.chance(50) { "paid-resubmitted" } else { "paid" };
                    // Some claims come in under contract, and after Cigna's raise some still at the old rate.
                    let allowed = if rng.chance(40) {
                        contract - 850
                    } else if payer == "CIGNA Healthcare" && cpt == "90837" && contract == 12500 && rng.chance(200) {
                        11850
                    } else {
                        contract
                    };
                    let copay = if rng.chance(300) { 2500 } else { 0 };
                    row.allowed = Some(allowed);
                    row.paid = Some(allowed - copay);
                    row.paid_date = Some(paid_date);
                    row.decided_on = Some(paid_date);
                }
            }
            emit(row);
        }
    }
}

fn us_date(d: NaiveDate) -> String {
    d.format("%m/%d/%Y").to_string()
}

fn dollars(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

pub fn write_row(out: &mut impl Write, r: &GenRow, n: usize) -> std::io::Result<()> {
    let status = match (r.attendance, r.status) {
        ("", "paid") => "Paid",
        ("", "paid-resubmitted") => "Paid after resubmission",
        ("", "denied") => "Denied",
        ("", _) => "Submitted",
        _ => "",
    };
    let appt = if r.attendance.is_empty() { "Show" } else { r.attendance };
    // Names with a comma exercise quoting; the birth date and member id must never be stored.
    let client = match (n % 7, r.client.split_once(' ')) {
        (0, Some((first, last))) => format!("\"{last}, {first}\""),
        _ => r.client.clone(),
    };
    writeln!(
        out,
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},01/02/1985,M{:08}",
        us_date(r.date),
        client,
        r.clinician,
        r.cpt,
        r.modifiers,
        r.units,
        r.payer,
        r.payer_id,
        dollars(r.billed),
        r.allowed.map(dollars).unwrap_or_default(),
        r.paid.map(dollars).unwrap_or_default(),
        r.paid_date.map(us_date).unwrap_or_default(),
        status,
        appt,
        n % 100_000
    )
}

pub fn to_csv(rows: &[GenRow]) -> String {
    let mut out = Vec::new();
    writeln!(out, "{HEADER}").unwrap();
    for (i, r) in rows.iter().enumerate() {
        write_row(&mut out, r, i).unwrap();
    }
    String::from_utf8(out).unwrap()
}
