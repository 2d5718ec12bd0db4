//! The host against a hostile card: fake cards answer whatever the input says, and every host
//! parser of card responses runs on those answers, directly (GET_STATUS, GET_PENDING, passbook
//! and exception entries, P5/P6/INVALIDATE/SACK bodies, READ_BAD_CARDS, packet headers, ledger
//! entry bytes) and inside the flows that read them (resume, sync, transfer, admin, issue,
//! genesis, mint, epoch, privacy). Shared by the cargo-fuzz targets (fuzz/fuzz_targets) and the
//! corpus / bounded random test of the normal suite (tests/host_parsers.rs): no input may panic,
//! and a malformed answer must come back as an error that says which card gave it.
#![allow(dead_code)]

use purse::card::PurseCard;
use purse::proto::consts::{Role, Suite};
use purse::proto::types::{encode_name, Currency};
use purse::transport::CardIo;

/// A card that answers from a byte script. Each answer: one control byte `c`, then
/// - `c < 0xE0`: `c` data bytes (fewer if the script ends), then SW1 SW2 (9000 if absent);
/// - `0xE0 <= c < 0xF0`: the data length this host expects for that INS, that many bytes, 9000;
/// - `c >= 0xF0`: a *plausible* answer: a byte `n`, then `n` filler bytes repeated over the
///   expected length, with the version, life, suite and packet TYPE bytes the host checks set
///   right (so the flows go deep), 9000.
///
/// An exhausted script answers as a pulled card (transport error).
pub struct Fake<'a> {
    pub script: &'a [u8],
    pub pos: usize,
    pub apdus: usize,
}

impl<'a> Fake<'a> {
    pub fn new(script: &'a [u8]) -> Self {
        Fake {
            script,
            pos: 0,
            apdus: 0,
        }
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let end = (self.pos + n).min(self.script.len());
        let s = &self.script[self.pos..end];
        self.pos = end;
        s
    }
}

/// Data length the host expects for `ins` (0 when it varies or is empty).
fn expected_len(ins: u8) -> usize {
    match ins {
        0xA4 => purse::proto::consts::SELECT_RESP_LEN as usize,
        0x30 => 68,
        0x32 => 88,
        0x70 | 0x82 => purse::proto::consts::HELLO_LEN as usize,
        0x42 => 64,
        0x44 => purse::proto::consts::PKT_P2_TX_AES as usize,
        0x46 | 0x48 | 0x4C | 0x50 | 0x52 => 48,
        0x74 => purse::proto::consts::PKT_P5 as usize,
        0x34 => 42,
        0x36 => 24,
        0x72 | 0x86 | 0x88 => 64,
        0x76 => 80,
        0x84 => purse::proto::consts::PKT_A2_AES as usize,
        0x8A => 24,
        0x10 | 0x14 | 0x16 => 16,
        0x12 => 48,
        0x18 => 8,
        0x1A => 4,
        0x80 => 3,
        _ => 0,
    }
}

/// Length and fixed bytes of a plausible answer to `ins` (AES suite): what the host checks
/// before it hands the bytes on, so a fuzzer gets past the first length or TYPE check.
fn plausible(ins: u8, p1: u8, p2: u8) -> (usize, Vec<(usize, u8)>) {
    use purse::proto::consts as c;
    use purse::proto::sync as ps;
    let aes = Suite::Aes128;
    let pkt = |len: usize, t: u8| (len, vec![(0, t)]);
    // an active AES card's STATUS (protocol.md 4.3) at `o`: the bytes the host checks
    let status = |o: usize| {
        vec![
            (o, c::VERSION_MAJOR),
            (o + 1, 0),
            (o + 2, c::LIFE_ACTIVE),
            (o + 3, 1),
            (o + 43, 50),
        ]
    };
    match ins {
        0xA4 => (c::SELECT_RESP_LEN as usize, status(0)),
        0x30 => (c::STATUS_LEN as usize, status(0)),
        0x32 => (88, vec![]),
        0x70 => (c::HELLO_LEN as usize, vec![(0, 1)]),
        0x82 if p1 == 0 => (c::HELLO_LEN as usize, vec![(0, 1)]),
        0x82 => pkt(c::PKT_P1_AES as usize, c::PT_A1),
        0x42 => pkt(c::PKT_P1_AES as usize, c::PT_P1),
        0x44 => pkt(c::PKT_P2_TX_AES as usize, c::PT_P2),
        0x46 | 0x50 => pkt(48, c::PT_P4),
        0x48 | 0x52 => pkt(48, c::PT_ACK),
        0x4C if p1 == 1 => pkt(48, c::PT_NACK),
        0x72 => pkt(ps::s1_len(aes), c::PT_S1),
        0x74 => pkt(ps::p5_len(aes), c::PT_P5),
        0x76 => pkt(ps::p6_len(aes, 0), c::PT_P6),
        // SACK | the card's STATUS after it
        0x78 => (
            48 + c::STATUS_LEN as usize,
            [vec![(0, c::PT_SACK)], status(48)].concat(),
        ),
        0x84 => pkt(c::PKT_A2_AES as usize, c::PT_A2),
        0x86 => pkt(64, c::PT_A4),
        0x88 => (11, vec![(0, 0)]),
        0x8A => (24, vec![]),
        0x34 => (42 * p2 as usize, vec![]),
        0x36 => (24, vec![]),
        0x10 => (16, vec![]),
        0x12 => pkt(48, c::PT_G2),
        0x14 | 0x18 => (8, vec![]),
        0x16 => (8 + 160, vec![(8, c::PT_I1)]),
        0x1A => (4, vec![]),
        0x80 => (3, vec![]),
        _ => (0, vec![]),
    }
}

impl CardIo for Fake<'_> {
    fn transmit(&mut self, apdu: &[u8]) -> purse::Result<Vec<u8>> {
        self.apdus += 1;
        if self.pos >= self.script.len() || self.apdus > 400 {
            return Err(purse::Error::CardLost("fake".into()));
        }
        let c = self.take(1)[0];
        let ins = apdu.get(1).copied().unwrap_or(0);
        let p1 = apdu.get(2).copied().unwrap_or(0);
        let p2 = apdu.get(3).copied().unwrap_or(0);
        let mut out: Vec<u8>;
        if c >= 0xF0 {
            let (len, fix) = plausible(ins, p1, p2);
            let n = self.take(1).first().copied().unwrap_or(0) as usize;
            let fill = self.take(n);
            out = (0..len)
                .map(|i| {
                    if fill.is_empty() {
                        0
                    } else {
                        fill[i % fill.len()]
                    }
                })
                .collect();
            for (o, v) in fix {
                if let Some(b) = out.get_mut(o) {
                    *b = v;
                }
            }
            out.extend_from_slice(&[0x90, 0x00]);
        } else if c >= 0xE0 {
            out = self.take(expected_len(ins)).to_vec();
            out.extend_from_slice(&[0x90, 0x00]);
        } else {
            out = self.take(c as usize).to_vec();
            let sw = self.take(2);
            out.extend_from_slice(if sw.len() == 2 { sw } else { &[0x90, 0x00] });
        }
        Ok(out)
    }
}

fn card<'a>(script: &'a [u8], name: &str) -> PurseCard<Fake<'a>> {
    let mut c = PurseCard::new(Fake::new(script));
    c.reader = name.to_string();
    c
}

/// A malformed answer must be an error that says where it came from: the command or the card
/// (the flows add which card: payer/payee, bank/card, reader label).
fn check_err(e: &dyn std::fmt::Display) {
    let s = e.to_string();
    if std::env::var_os("PURSE_FUZZ_SHOW").is_some() {
        eprintln!("error: {s}");
    }
    let l = s.to_ascii_lowercase();
    assert!(
        ["card", "payer", "payee", "bank", "ledger", "reader"]
            .iter()
            .any(|w| l.contains(w)),
        "an error that does not say which card or file it is about: {s}"
    );
}

/// Split `data` into two scripts at a position given by its first two bytes.
fn two(data: &[u8]) -> (&[u8], &[u8]) {
    if data.len() < 2 {
        return (data, &[]);
    }
    let at = (u16::from_be_bytes([data[0], data[1]]) as usize) % (data.len() - 1);
    data[2..].split_at(at.min(data.len() - 2))
}

thread_local! {
    static LEDGER_DIR: tempfile::TempDir = tempfile::tempdir().expect("temp dir");
}

fn with_ledger<R>(f: impl FnOnce(&mut purse::ledger::Ledger) -> R) -> R {
    LEDGER_DIR.with(|d| {
        let mut l = purse::ledger::Ledger::open(d.path().join("fuzz.sqlite")).expect("ledger");
        f(&mut l)
    })
}

/// Direct parsers of card bytes (no card).
pub fn parsers(sel: u8, d: &[u8]) {
    use purse::proto::sync as ps;
    use purse::proto::types as pt;
    match sel % 14 {
        0 => drop(pt::Status::parse(d)),
        1 => drop(pt::Pending::parse(d)),
        2 => drop(pt::PassbookEntry::parse(d)),
        3 => drop(pt::ExceptionEntry::parse(d)),
        4 => drop(ps::P5Body::parse(d)),
        5 => drop(ps::P6Body::parse(d, 16)),
        6 => drop(ps::P6Body::parse(d, 24)),
        7 => drop(ps::InvalidateBody::parse(d)),
        8 => drop(ps::SackBody::parse(d)),
        9 => drop(purse::card::bank::BadCardPage::parse(d)),
        10 => drop(purse::card::transfer::PacketHeader::parse(d)),
        11 => drop(purse::apdu::Response::from_bytes(d)),
        12 => ledger_bytes(d),
        _ => {
            // every fixed-layout parser on every prefix length around its size
            for n in 0..d.len().min(100) {
                let p = &d[..n];
                let _ = pt::Status::parse(p);
                let _ = pt::Pending::parse(p);
                let _ = ps::P6Body::parse(p, 16);
            }
        }
    }
}

/// Ledger entry bytes: split, store, then every query over what was stored.
fn ledger_bytes(d: &[u8]) {
    use purse::ledger::{split_entries, split_exceptions, EntryFilter, SyncExtras};
    use purse::proto::types::Account;
    let (pb, exc) = d.split_at(d.len() / 2);
    let (Ok(e), Ok(x)) = (split_entries(pb), split_exceptions(exc)) else {
        return;
    };
    with_ledger(|l| {
        let bank = Account([0x10, 0, 0, 0, 0, 0, 0, 0x17]);
        let card = Account([0x10, 0, 0, 0, 0, 0, 0, 0x25]);
        let extras = SyncExtras {
            exceptions: &x,
            ..SyncExtras::default()
        };
        if let Err(err) = l.store_collection(&bank, &card, &e, &extras) {
            check_err(&err);
        }
        let _ = l.entries(&EntryFilter::default());
        let _ = l.reconcile();
        let _ = l.rebuild(&card);
        let _ = l.fraud_flags();
        let _ = l.syncs(None);
    });
}

/// One card's commands and reads against a fake card.
pub fn one_card(d: &[u8]) {
    let mut c = card(d, "fake reader");
    let r = (|| -> Result<(), purse::card::CardError> {
        c.select()?;
        let st = c.get_status()?;
        let _ = c.get_pending();
        let _ = c.read_passbook_all(st.passbook_count);
        let _ = c.read_passbook_raw_all(st.passbook_count);
        let _ = c.read_exceptions();
        let _ = c.read_exceptions_raw();
        let _ = c.read_bad_cards(0);
        let _ = c.verify_state(purse::proto::consts::SecretRef::Pin);
        let _ = purse::flows::admin::read_bank_files(&mut c);
        let _ = c.resume_get_p6(&[1, 2, 3, 4, 5, 6]);
        let _ = c.payee_hello();
        let _ = c.payee_status();
        let _ = c.sync_card_init(9500, false);
        Ok(())
    })();
    if let Err(e) = r {
        check_err(&e);
    }
}

/// The two-card flows against two fake cards.
pub fn two_cards(sel: u8, d: &[u8]) {
    let (x, y) = two(d);
    let mut a = card(x, "fake reader A");
    let mut b = card(y, "fake reader B");
    let _ = a.select();
    let _ = b.select();
    match sel % 8 {
        0 => {
            let rep = purse::flows::resume::resume(&mut a, Some(&mut b), &Default::default());
            let _ = rep.summary();
        }
        1 => with_ledger(|l| {
            let rep = purse::flows::resume::resume_with_ledger(
                &mut a,
                Some(&mut b),
                &Default::default(),
                Some(l),
            );
            let _ = rep.summary();
        }),
        2 | 3 => with_ledger(|l| {
            let o = purse::flows::sync::SyncOptions {
                date: 9500,
                store: sel % 8 == 2,
                ..Default::default()
            };
            let ledger: Option<&mut dyn purse::flows::store::PassbookStore> =
                if o.store { Some(l) } else { None };
            match purse::flows::sync::sync(&mut a, &mut b, ledger, &o, &mut |_| {}) {
                Ok(r) => drop(r.summary()),
                Err(e) => check_err(&e),
            }
        }),
        4 => {
            let s = purse::flows::transfer::Secrets {
                pin: Some(b"1234".to_vec()),
                txkey: None,
                approval: None,
            };
            let o = purse::flows::transfer::RunOptions::default();
            match purse::flows::transfer::transfer(
                &mut a,
                &mut b,
                600,
                9500,
                &s,
                sel & 0x10 == 0,
                &o,
            ) {
                Ok(_) => {}
                Err(e) => check_err(&e),
            }
        }
        5 => {
            let op = purse::flows::admin::AdminOp::SetRate { rate: 7 };
            if let Err(e) = purse::flows::admin::run_op(&mut a, &mut b, b"1234", &op, 9500) {
                check_err(&e);
            }
        }
        6 => {
            let p = purse::flows::issue::IssueParams {
                tk: b"purse-dev-transp".to_vec(),
                role: Role::User,
                flags: 0,
                name: encode_name("FUZZ").unwrap_or([b' '; 8]),
                min_trans: 500,
                max_trans: 5000,
                date: 9500,
                bad_key_limit: 10,
                pin: b"1234".to_vec(),
                txkey: Vec::new(),
            };
            if let Err(e) = purse::flows::issue::issue(&mut a, &mut b, b"1234", None, &p) {
                check_err(&e);
            }
        }
        _ => single_flows(&mut a),
    }
}

fn single_flows(a: &mut PurseCard<Fake<'_>>) {
    if let Err(e) = purse::flows::mint::mint(a, b"create-money", 100, 9500) {
        check_err(&e);
    }
    if let Err(e) = purse::flows::epoch::advance(a, b"approve-it", 9501, Some(7)) {
        check_err(&e);
    }
    if let Err(e) = purse::flows::privacy::set_privacy(a, b"1234", true) {
        check_err(&e);
    }
    let Ok(currency) = Currency::parse("EUR", None) else {
        return;
    };
    let p = purse::flows::genesis::GenesisParams {
        suite: Suite::Aes128,
        issuer_id: [0x10, 0, 0],
        name: encode_name("BANK").unwrap_or([b' '; 8]),
        currency,
        min_trans: 0,
        max_trans: u32::MAX,
        date: 9500,
        bad_key_limit: 255,
        first_keynum: 0,
        pin: b"1234".to_vec(),
        txkey: b"tx-key-1".to_vec(),
        creation: b"create-money".to_vec(),
        approval: b"approve-it".to_vec(),
    };
    if let Err(e) = purse::flows::genesis::genesis(a, b"purse-dev-transp", &p) {
        check_err(&e);
    }
}

/// Everything, selected by the first byte (the single entry of the `host` target and of the
/// corpus test).
pub fn run(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    match sel >> 6 {
        0 => parsers(sel, rest),
        1 => one_card(rest),
        _ => two_cards(sel, rest),
    }
}
