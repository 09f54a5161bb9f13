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
