//! X12 005010X221A1 (835) electronic remittance advice: parsing, balancing, import.
//!
//! Why our own parser: the Rust X12 crates we looked at do not fit. x12-types 0.12 hard-codes the
//! separators (`*`, `:`, `~`) instead of reading them from the ISA, reports no segment numbers
//! and its tests assert no field values; `edi` is GPL-licensed (this project is MIT); `x12` on
//! crates.io is an empty placeholder. The 835 subset we need (envelopes, BPR, TRN, N1, CLP, CAS,
//! NM1, DTM, SVC, AMT, LQ, MOA/MIA, PLB) is small, so a few hundred lines of our own give exact
//! integer money, numbered segments in every error, and the separator rules below.
//!
//! - [`segments`]: separators read from each fixed-width ISA (element = byte 4, repetition =
//!   ISA11, component = ISA16, segment terminator = the byte after ISA16), a UTF-8 byte-order
//!   mark, CR/LF or blanks around segments; every segment numbered from 1 in the file.
//! - [`parse`]: the typed model ([`model`]) per check, claim and service line, with the rule for
//!   a composite that uses another component separator than ISA16 (see that module).
//! - [`balance`]: the 835's balancing rules, checked before anything is stored.

pub mod analysis;
pub mod balance;
pub mod codes;
pub mod generate;
pub mod import;
pub mod model;
pub mod parse;
pub mod segments;

pub use model::{Adjustment, Check, Claim, PatientRef, ProviderAdjustment, Remittance, ServiceLine};
pub use segments::EraError;

/// The largest file read (an 835 of this size holds far more than a year of a group's claims);
/// a larger one is refused before it is read into memory.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Parses and balances one file: a remittance that can be stored, or where it went wrong.
pub fn read(bytes: &[u8]) -> Result<Remittance, EraError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(EraError::new(0, "", format!("the file is larger than {} MB", MAX_FILE_BYTES / 1024 / 1024)));
    }
    let remittance = parse::parse(bytes)?;
    balance::check(&remittance)?;
    Ok(remittance)
}
