//! The Transparency-in-Coverage splitter, fed in chunks of every size (the first byte picks it),
//! with each item it yields read by the same serde model the import uses: never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use raterise_commands::tic::model::{Item, Reference};
use raterise_commands::tic::split::{Sink, SplitError, Splitter};

struct Read;

impl Sink for Read {
    fn wants_code(&mut self, code: &[u8]) -> bool {
        code.first() != Some(&b'0')
    }
    fn item(&mut self, bytes: &[u8], _: u64) -> Result<(), SplitError> {
        let _ = serde_json::from_slice::<Item>(bytes);
        Ok(())
    }
    fn skipped(&mut self) {}
    fn reference(&mut self, bytes: &[u8], _: u64) -> Result<(), SplitError> {
        let _ = serde_json::from_slice::<Reference>(bytes);
        Ok(())
    }
    fn root_string(&mut self, _: &[u8], _: &[u8]) {}
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let chunk = usize::from(first).max(1);
    let mut s = Splitter::new();
    for part in rest.chunks(chunk) {
        if s.feed(part, &mut Read).is_err() {
            return;
        }
    }
    let _ = s.finish();
});
