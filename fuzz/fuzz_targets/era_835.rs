//! The X12 835 remittance parser and balance check: never panics; anything accepted balances.
#![no_main]

use libfuzzer_sys::fuzz_target;
use raterise_commands::era;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = era::read(data) {
        assert!(era::balance::check(&r).is_ok());
    }
});
