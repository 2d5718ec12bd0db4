//! `flows::resume::close_cleared_epoch` (docs/ledger.md, "A host crash after the clear"): the
//! ledger's passbook epoch of a card closes only on proof that the card cleared its passbook
//! since the ledger's open collection. No cards needed. Each test runs on both engines:
//! `sqlite::NAME` and `postgres::NAME` (tests/pgtest).
use purse::flows::resume::{close_cleared_epoch, PassbookNow};
use purse::ledger::{Ledger, RawEntry, SyncExtras};
use purse::proto::types::Account;

mod pgtest;
use pgtest::{Kind, Place};

fn entry(i: u8) -> RawEntry {
    let mut e = [0u8; 42];
    e[0..8].copy_from_slice(&[0x10, 0, 0, 0, 0, 0, 0, 0x32]);
    e[8..16].copy_from_slice(b"ALICE   ");
    e[16] = i + 1; // random
    e[26] = 0x02; // CREDIT
    e[30] = 100;
    e[34] = 100u8.wrapping_mul(i + 1);
    e[35] = i + 1; // tid
    e
}

const BANK: Account = Account([0x10, 0, 0, 0, 0, 0, 0, 0x24]);
const CARD: Account = Account([0x10, 0, 0, 0, 0, 0, 0, 0x40]);

fn now(count: u8, interest: Option<u32>, first: Option<&[u8]>) -> PassbookNow<'_> {
    PassbookNow {
        passbook_count: count,
        exception_count: 0,
        capacity: 50,
        interest_credited: interest,
        first_entry: first,
    }
}

/// A fresh ledger (named `name` in `p`) holding one collection of two entries.
fn ledger_with_two(p: &mut Place, name: &str) -> Ledger {
    let mut l = Ledger::open(p.another(name)).expect("ledger");
    l.store_collection(&BANK, &CARD, &[entry(0), entry(1)], &SyncExtras::default())
        .expect("store");
    l
}

fn epoch(l: &Ledger) -> i64 {
    l.open_collection(&CARD)
        .expect("query")
        .map(|o| o.passbook_epoch)
        .unwrap_or(-1)
}

engine_tests!(
    closes_only_on_proof_of_a_clear,
    a_bank_ring_at_capacity_is_not_a_clear
);

fn closes_only_on_proof_of_a_clear(kind: Kind) {
    let mut p = Place::new(kind);
    // not cleared: the two entries still there (or more), same oldest entry
    let mut l = ledger_with_two(&mut p, "open");
    for n in [
        now(2, None, None),
        now(3, None, None),
        now(3, Some(5), None),
        now(2, Some(0), Some(&entry(0))),
    ] {
        assert_eq!(
            close_cleared_epoch(&mut l, &CARD, Some(&BANK), &n).unwrap(),
            None,
            "{n:?}"
        );
    }
    assert_eq!(epoch(&l), 0);
    // another bank's resume does not close this bank's collection
    let other = Account([0x10, 0, 0, 0, 0, 0, 0, 0x57]);
    assert_eq!(
        close_cleared_epoch(&mut l, &CARD, Some(&other), &now(0, None, None)).unwrap(),
        None
    );
    // proofs: fewer entries (counting the interest entry of the sync just finished), or a
    // different oldest entry
    for (i, n) in [
        now(0, None, None),
        now(1, None, None),
        now(2, Some(5), None),
        now(7, None, Some(&entry(9))),
    ]
    .into_iter()
    .enumerate()
    {
        let mut l = ledger_with_two(&mut p, &format!("proof{i}"));
        let id = close_cleared_epoch(&mut l, &CARD, None, &n).unwrap();
        assert!(id.is_some(), "{n:?}");
        // closed once: the next collection starts a new epoch; a second call does nothing
        assert_eq!(close_cleared_epoch(&mut l, &CARD, None, &n).unwrap(), None);
        let r = l
            .store_collection(&BANK, &CARD, &[entry(5)], &SyncExtras::default())
            .expect("store");
        assert_eq!((r.passbook_epoch, r.index_conflicts), (1, 0), "{n:?}");
    }
}

fn a_bank_ring_at_capacity_is_not_a_clear(kind: Kind) {
    let p = Place::new(kind);
    let mut l = p.open();
    let fifty: Vec<RawEntry> = (0..50).map(entry).collect();
    l.store_collection(&BANK, &CARD, &fifty, &SyncExtras::default())
        .expect("store");
    // a ring stays at 50 and took the interest entry: no proof of a clear
    let n = now(50, Some(9), None);
    assert_eq!(close_cleared_epoch(&mut l, &CARD, None, &n).unwrap(), None);
}
