//! cargo fuzz target `parsers` (fuzz/README.md): fuzz/harness.rs on libFuzzer's inputs.
#![no_main]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Some((&s, d)) = data.split_first() { harness::parsers(s, d) }
});
