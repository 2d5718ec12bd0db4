//! The remote link's parsers on arbitrary peer bytes: preamble, frames (slice and stream),
//! messages, APDUs and the restricted-card policies (`purse::link::parse_untrusted`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    purse::link::parse_untrusted(data);
});
