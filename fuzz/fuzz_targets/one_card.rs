//! cargo fuzz target `one_card` (fuzz/README.md): fuzz/harness.rs on libFuzzer's inputs.
#![no_main]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    harness::one_card(data)
});
