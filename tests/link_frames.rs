//! The link's parsers against hostile bytes, in the normal test run (no desk, well under a
//! second): every file of the fuzz corpus (fuzz/corpus/link_frame, also the seeds of the
//! cargo-fuzz target fuzz/fuzz_targets/link_frame.rs), random inputs, and mutations of a
//! valid stream (bit flips, truncation, splices, length-field edits) must be parsed or
//! refused, never panic; and the frame codec round-trips every legal length.
use purse::link::frame::{decode_frame, encode_frame};
use purse::link::{parse_untrusted, LinkError, MAX_FRAME};

/// xorshift64*: deterministic, so a failure is reproducible from the seed in its message.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/link_frame");
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            (p.display().to_string(), std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    assert!(v.len() >= 10, "corpus too small: {}", v.len());
    v
}

#[test]
fn corpus_files_never_panic() {
    for (name, data) in corpus() {
        let r = std::panic::catch_unwind(|| parse_untrusted(&data));
        assert!(r.is_ok(), "{name} made the parser panic");
    }
}

#[test]
fn random_and_mutated_inputs_never_panic() {
    let seeds = corpus();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for i in 0..20_000u32 {
        let data = if i % 2 == 0 {
            let n = rng.below(700);
            rng.bytes(n)
        } else {
            let mut d = seeds[rng.below(seeds.len())].1.clone();
            for _ in 0..=rng.below(4) {
                match rng.below(5) {
                    0 if !d.is_empty() => {
                        let j = rng.below(d.len());
                        d[j] ^= 1 << rng.below(8);
                    }
                    1 => {
                        let n = rng.below(d.len() + 1);
                        d.truncate(n)
                    }
                    2 => {
                        let n = rng.below(64);
                        let extra = rng.bytes(n);
                        let at = rng.below(d.len() + 1);
                        d.splice(at..at, extra);
                    }
                    3 if d.len() > 10 => {
                        // rewrite the first frame's length field
                        let l = rng.next() as u16;
                        d[8..10].copy_from_slice(&l.to_be_bytes());
                    }
                    _ => {
                        let k = rng.below(seeds.len());
                        d.extend_from_slice(&seeds[k].1)
                    }
                }
            }
            d
        };
        let r = std::panic::catch_unwind(|| parse_untrusted(&data));
        assert!(
            r.is_ok(),
            "input #{i} ({}) made the parser panic",
            hex::encode(&data)
        );
    }
}

#[test]
fn frames_round_trip_and_refuse_illegal_lengths() {
    let mut rng = Rng(42);
    for len in [1usize, 2, 255, 256, 1000, MAX_FRAME - 1, MAX_FRAME] {
        let body = rng.bytes(len);
        let f = encode_frame(&body).unwrap();
        let (b, used) = decode_frame(&f).unwrap().unwrap();
        assert_eq!((b, used), (&body[..], len + 2));
        // every strict prefix asks for more, never misparses
        for cut in [0, 1, 2, len / 2 + 2, len + 1] {
            assert_eq!(
                decode_frame(&f[..cut]).unwrap(),
                None,
                "len {len} cut {cut}"
            );
        }
    }
    for len in [MAX_FRAME + 1, 0xFFFF] {
        let f = (len as u16).to_be_bytes();
        assert!(matches!(decode_frame(&f), Err(LinkError::TooLarge { .. })));
    }
    assert!(matches!(
        decode_frame(&[0, 0, 1]),
        Err(LinkError::EmptyFrame)
    ));
}
