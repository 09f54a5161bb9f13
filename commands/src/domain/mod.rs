//! The vocabulary of rate negotiation as types that parse and validate.

pub mod credential;
pub mod dates;
pub mod money;
pub mod names;
pub mod payer;
pub mod setting;
pub mod stage;

pub use credential::Credential;
pub use money::{div_round_half_up, percent_of, Cents};
pub use payer::{PayerKind, PayerStatus};
pub use setting::Setting;

/// "1 day", "2 days": a count with its unit, singular or plural.
pub fn plural(n: i64, unit: &str) -> String {
    if n == 1 || n == -1 {
        format!("{n} {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

/// Add-on codes, billed only with a primary service (interactive complexity, psychotherapy with
/// an E/M visit, crisis and testing time beyond the first block). A flat raise per session is
/// not meant for them unless asked for.
pub const ADD_ON_CODES: &[&str] = &[
    "90785", "90833", "90836", "90838", "90840", "96121", "96131", "96133", "96137", "96139", "96159", "96165",
    "96168", "96171", "98981", "99494", "G0024", "G2211",
];

pub fn is_add_on(cpt: &str) -> bool {
    ADD_ON_CODES.contains(&cpt)
}

#[cfg(test)]
mod plural_tests {
    #[test]
    fn one_is_singular() {
        assert_eq!(super::plural(1, "day"), "1 day");
        assert_eq!(super::plural(0, "day"), "0 days");
        assert_eq!(super::plural(14, "day"), "14 days");
        assert!(super::is_add_on("90785") && !super::is_add_on("90837"));
    }
}
