//! The host against a hostile card (fuzz/harness.rs): every input of the stored corpus
//! (fuzz/corpus/host) and a bounded set of random inputs run through every host parser of card
//! answers and through the flows that read them. No panic; errors are reported, not unwrapped.
//! The unbounded run is the cargo-fuzz target `host` (fuzz/README.md).
#[path = "../fuzz/harness.rs"]
mod harness;

use std::path::Path;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn run_one(input: &[u8], what: &str) {
    let r = std::panic::catch_unwind(|| harness::run(input));
    assert!(r.is_ok(), "panic on {what}: input {}", hex::encode(input));
}

#[test]
fn stored_corpus_never_panics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/host");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).expect("fuzz/corpus/host") {
        let p = e.expect("entry").path();
        let data = std::fs::read(&p).expect("read corpus file");
        run_one(&data, &p.display().to_string());
        n += 1;
    }
    assert!(n >= 20, "corpus has only {n} inputs");
    eprintln!("corpus: {n} inputs, 0 panics");
}

#[test]
fn random_answers_never_panic() {
    // PURSE_FUZZ_ITERS raises the bound for a longer local run
    let iters: u64 = std::env::var("PURSE_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..iters {
        let len = (rng.next() % 700) as usize;
        let mut d: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if let Some(first) = d.first_mut() {
            *first = (i % 256) as u8; // every selector
        }
        // mostly plausible lengths so parsers run on well-sized answers
        for (j, b) in d.iter_mut().enumerate().skip(3) {
            if j % 9 == 0 && rng.next() % 2 == 0 {
                *b = 0xF0 | (*b & 0x0F);
            }
        }
        run_one(&d, &format!("random input {i}"));
    }
    eprintln!("random: {iters} inputs, 0 panics");
}
