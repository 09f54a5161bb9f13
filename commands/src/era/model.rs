//! What one 835 says, typed: checks, claims, service lines, adjustments. Amounts are exact cents.

use crate::domain::Cents;
use chrono::NaiveDate;
use serde::Serialize;
use std::fmt;

/// A patient identifier read from the file. Kept only in memory until it is hashed with the
/// practice's key; never printed (Debug shows nothing) and never serialized.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct PatientRef(pub String);

impl fmt::Debug for PatientRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PatientRef(..)")
    }
}

/// One CAS triplet: group (CO, PR, OA, PI, CR), reason code (CARC) and amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Adjustment {
    pub group: String,
    pub reason: String,
    pub amount: Cents,
    pub segment: usize,
}

/// A provider-level adjustment (PLB). A positive amount was taken from the check, a negative
/// one added to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderAdjustment {
    pub reason: String,
    pub reference: String,
    pub amount: Cents,
    pub segment: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceLine {
    pub segment: usize,
    /// SVC01-1: HC (CPT/HCPCS), AD, ER, HP, IV, N4, NU, WK, ...
    pub qualifier: String,
    pub procedure: String,
    pub modifiers: Vec<String>,
    pub charge: Cents,
    pub paid: Cents,
    /// Units in hundredths (SVC05; 1 when absent).
    pub units_hundredths: i64,
    /// AMT*B6, or (when absent) paid plus patient responsibility, with `allowed_derived` set.
    pub allowed: Cents,
    pub allowed_derived: bool,
    pub adjustments: Vec<Adjustment>,
    /// LQ remark codes (RARC), qualifier HE; NCPDP reject codes (RX) are kept as `RX:code`.
    pub remarks: Vec<String>,
    /// DTM*472 or DTM*150, or the claim's period start when the line has none.
    pub service_date: Option<NaiveDate>,
    pub service_end: Option<NaiveDate>,
}

impl ServiceLine {
    pub fn patient_responsibility(&self) -> Cents {
        Cents(self.adjustments.iter().filter(|a| a.group == "PR").map(|a| a.amount.0).sum())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claim {
    pub segment: usize,
    /// CLP01: the practice's claim id (patient control number).
    pub id: String,
    /// CLP02: 1 primary, 2 secondary, 3 tertiary, 4 denied, 19-23 forwarded/reversal ...
    pub status: String,
    pub charge: Cents,
    pub paid: Cents,
    pub patient_responsibility: Cents,
    /// CLP07: the payer's claim control number.
    pub payer_control: String,
    pub adjustments: Vec<Adjustment>,
    pub lines: Vec<ServiceLine>,
    /// DTM*232/233 (or 150/151) on the claim.
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    /// Claim-level remark codes (MOA, MIA).
    pub remarks: Vec<String>,
    /// NM1*QC name ("Last, First"), or the member id when there is no name: only for the keyed hash.
    #[serde(skip)]
    pub patient: PatientRef,
    /// NM1*82 rendering provider id (NPI), when given.
    pub rendering_provider: String,
}

impl Claim {
    pub fn is_reversal(&self) -> bool {
        self.status == "22"
    }
    pub fn is_denied(&self) -> bool {
        self.status == "4"
    }
    /// All adjustments of the claim and its lines.
    pub fn all_adjustments(&self) -> impl Iterator<Item = &Adjustment> {
        self.adjustments.iter().chain(self.lines.iter().flat_map(|l| l.adjustments.iter()))
    }
}

/// One transaction (ST..SE): one payment (or notification) from one payer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Segment number of the ST.
    pub segment: usize,
    pub control_number: String,
    /// BPR01: I remittance with payment, C payment only, H notification only, ...
    pub handling: String,
    /// BPR04: CHK, ACH, BOP, FWT, NON.
    pub method: String,
    pub amount: Cents,
    pub date: NaiveDate,
    /// TRN02: the check or EFT trace number.
    pub number: String,
    pub payer_name: String,
    /// N1*PR N104 (or REF*2U), when given.
    pub payer_id: String,
    pub provider_adjustments: Vec<ProviderAdjustment>,
    pub claims: Vec<Claim>,
}

impl Check {
    pub fn plb_total(&self) -> Cents {
        Cents(self.provider_adjustments.iter().map(|p| p.amount.0).sum())
    }
    pub fn claims_paid(&self) -> Cents {
        Cents(self.claims.iter().map(|c| c.paid.0).sum())
    }
}

/// A whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Remittance {
    pub interchanges: usize,
    pub groups: usize,
    pub checks: Vec<Check>,
    /// Things read under a documented rule rather than as written (see `parse`).
    pub notes: Vec<String>,
}

impl Remittance {
    pub fn claims(&self) -> impl Iterator<Item = &Claim> {
        self.checks.iter().flat_map(|c| c.claims.iter())
    }
    pub fn service_lines(&self) -> usize {
        self.claims().map(|c| c.lines.len()).sum()
    }
    pub fn paid(&self) -> Cents {
        Cents(self.claims().map(|c| c.paid.0).sum())
    }
}
