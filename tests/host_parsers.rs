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
    // PURSE_FUZZ_ITERS raises the bound for a longer local run, PURSE_FUZZ_SEED varies it
    let iters: u64 = std::env::var("PURSE_FUZZ_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500);
    let seed: u64 = std::env::var("PURSE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    let mut rng = Rng(seed | 1);
    for i in 0..iters {
        let len = (rng.next() % 700) as usize;
        let mut d: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if let Some(first) = d.first_mut() {
            *first = (i % 256) as u8; // every selector
        }
        // half the inputs: scripts of mostly plausible answers (control byte F0, n, n filler
        // bytes) so the flows get past the first checks; some answers raw, some with another SW
        if i % 2 == 0 && d.len() > 3 {
            let mut sc = d[..3].to_vec();
            while sc.len() < len {
                match rng.next() % 10 {
                    0 => {
                        let n = (rng.next() % 70) as usize;
                        sc.push(n as u8);
                        sc.extend((0..n + 2).map(|_| rng.next() as u8));
                    }
                    _ => {
                        let n = (rng.next() % 24) as usize;
                        sc.push(0xF0);
                        sc.push(n as u8);
                        sc.extend((0..n).map(|_| rng.next() as u8));
                    }
                }
            }
            d = sc;
        }
        run_one(&d, &format!("random input {i}"));
    }
    eprintln!("random: {iters} inputs, 0 panics");
}
