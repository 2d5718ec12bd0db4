//! Sync (protocol.md 12.4-12.7, issue 4 items 2 and 8) through pcscd against virtual cards
//! running the real applet: interest exact to the minor unit, value conserved over every sync,
//! new keys arrive and old/new cards transact, key expiry after three epochs (sync still works
//! up to six behind, 9D25 at seven), passbook into the ledger exactly once even if the sync is
//! retried, passbook cleared only after storing and feeding, PIN unblock at a branch. The
//! ledger's cases run again with the ledger on PostgreSQL (tests/pgtest).
use purse_testkit as kit;
mod pgtest;

use kit::*;
use purse::card::PurseCard;
use purse::proto::consts::{EntryType, Role, SecretRef, SlotState};
use purse::proto::sync::{decide_interest, interest, InterestInputs};

/// protocol.md 12.7 rounding vectors (no card needed).
#[test]
fn interest_reference_vectors() {
    assert_eq!(interest(100_000, RATE, 30), Some(300));
    assert_eq!(interest(123_456, RATE, 31), Some(382));
    assert_eq!(interest(u32::MAX, u32::MAX, 65535), None);
    // many days, exact: floor(a * r * d / 2^32)
    for (a, r, d) in [
        (1u32, RATE, 10_000u32),
        (987_654_321, 12_345, 365),
        (50_000, 0x0010_0000, 3650),
    ] {
        let want = ((a as u128 * r as u128 * d as u128) >> 32) as u32;
        assert_eq!(interest(a, r, d), Some(want));
    }
}

#[test]
fn sync_cases() {
    let mut bank = Bank::standard(8, 0);
    run_cases(
        &mut bank,
        &[
            ("sync_pays_interest_exactly", sync_pays_interest_exactly),
            ("value_conserved_every_sync", value_conserved_every_sync),
            (
                "new_key_old_and_new_cards_transact",
                new_key_old_and_new_cards_transact,
            ),
            (
                "passbook_cleared_only_with_its_digest",
                passbook_cleared_only_with_its_digest,
            ),
            (
                "passbook_in_ledger_exactly_once_on_retry",
                passbook_in_ledger_exactly_once_on_retry,
            ),
            ("postgres: passbook_in_ledger_exactly_once_on_retry", |b| {
                pgtest::on_postgres(b, use_ledger, passbook_in_ledger_exactly_once_on_retry)
            }),
            ("unblock_pin_at_branch_only", unblock_pin_at_branch_only),
            ("figures_engine_counters", figures_engine_counters),
            ("listed_card_invalidated", listed_card_invalidated),
            ("exception_log_handed_over", exception_log_handed_over),
            ("postgres: exception_log_handed_over", |b| {
                pgtest::on_postgres(b, use_ledger, exception_log_handed_over)
            }),
            (
                "key_expiry_after_three_epochs",
                key_expiry_after_three_epochs,
            ),
        ],
    );
}

/// The day of the n-th epoch of this test binary (dates only move forward).
fn day(b: &Bank) -> u16 {
    b.status("center").key_date
}

/// Sync and check the interest against the reference, to the minor unit.
fn sync_checked(b: &Bank, bank: &str, card: &str, rate: u32) -> u32 {
    let (bs, cs) = (b.status(bank), b.status(card));
    let days = bs.key_date.saturating_sub(cs.interest_date) as u32;
    let want = decide_interest(&InterestInputs {
        card_amount: cs.balance,
        card_last_date: cs.interest_date,
        rate,
        bank_date: bs.key_date,
        bank_balance: bs.balance,
        clear: true,
        passbook_count: cs.passbook_count,
        private: false,
    });
    if !want.deferred {
        assert_eq!(Some(want.paid), interest(cs.balance, rate, days));
    }
    let r = sync_ok(b, bank, card, bs.key_date);
    assert_eq!(
        r.interest, want.paid,
        "{bank} -> {card}: interest over {days} days on {}",
        cs.balance
    );
    assert_eq!(r.days, days);
    let (bs2, cs2) = (b.status(bank), b.status(card));
    assert_eq!(
        cs2.balance,
        cs.balance + want.paid,
        "{card} credited exactly"
    );
    assert_eq!(
        bs2.balance,
        bs.balance - want.paid,
        "{bank} debited exactly"
    );
    assert_eq!(
        cs2.interest_date, want.new_date,
        "{card}: new interest date"
    );
    assert_eq!(
        cs2.rate, rate,
        "{card}: BALANCE.RATE = the bank's rate (P6 offset 25)"
    );
    assert_eq!(r.rate, rate);
    assert_eq!(
        cs2.current_key, bs.current_key,
        "{card} got the bank's newest key"
    );
    assert_eq!(cs2.key_date, bs.key_date);
    if want.paid > 0 {
        // INTEREST_OUT on the bank, INTEREST_IN on the card, same TID (the SID)
        let mut c = b.open(card);
        c.verify(SecretRef::Pin, PIN).unwrap();
        let n = c.get_status().unwrap().passbook_count;
        let pb = c.read_passbook_all(n).unwrap();
        let last = pb.last().expect("an entry");
        assert_eq!(
            (last.kind, last.amount, last.tid),
            (EntryType::InterestIn, want.paid, r.sid)
        );
    }
    want.paid
}

fn sync_pays_interest_exactly(b: &mut Bank) {
    ensure_admin(b);
    let d0 = day(b);
    // epoch 1: 30 days at 0.01 %/day on every level
    advance(b, d0 + 30, Some(RATE));
    set_rate(b, "region", RATE, d0 + 30);
    set_rate(b, "branch", RATE, d0 + 30);
    let i1 = sync_checked(b, "center", "region", RATE);
    assert!(i1 > 0);
    sync_checked(b, "region", "branch", RATE);
    sync_checked(b, "branch", "alice", RATE);
    // a second sync the same epoch pays nothing more (0 days)
    assert_eq!(sync_ok(b, "branch", "alice", d0 + 30).interest, 0);
    // epoch 2: 400 days later, another rate (5.5 %/year), odd balances
    let r2 = purse::proto::sync::parse_rate("5.5").unwrap();
    b.pay_ok("alice", "bob", 1234);
    advance(b, d0 + 430, Some(r2));
    set_rate(b, "region", r2, d0 + 430);
    set_rate(b, "branch", r2, d0 + 430);
    sync_checked(b, "center", "region", r2);
    sync_checked(b, "region", "branch", r2);
    sync_checked(b, "branch", "alice", r2);
    // bob missed epoch 1: 430 days at once, still exact
    sync_checked(b, "branch", "bob", r2);
}

fn value_conserved_every_sync(b: &mut Bank) {
    let d = day(b) + 7;
    advance(b, d, None);
    for (bank, card) in [
        ("center", "region"),
        ("region", "branch"),
        ("branch", "alice"),
        ("branch", "bob"),
        ("branch", "alice"),
    ] {
        let before = b.accounted();
        sync_ok(b, bank, card, d); // asserts Σ == minted
        assert_eq!(b.accounted(), before);
        b.pay_ok("alice", "bob", 100);
        assert_conserved_sync(b, &[], "after a payment");
    }
}

fn new_key_old_and_new_cards_transact(b: &mut Bank) {
    let d = day(b) + 3;
    let adv = advance(b, d, None);
    sync_chain(b, &["alice"], d);
    let (a, o) = (b.status("alice"), b.status("bob"));
    assert_eq!(a.current_key, adv.key_after, "alice has the new key");
    assert_eq!(
        o.current_key,
        adv.key_after.wrapping_sub(1),
        "bob has not synced"
    );
    // new -> old and old -> new both work (they share 3 keys)
    b.pay_ok("alice", "bob", 200);
    b.pay_ok("bob", "alice", 100);
    let r = sync_ok(b, "branch", "bob", d);
    assert_eq!(r.keys_received, 1);
    let t = b.pay_ok("bob", "alice", 100);
    // the newest common pair is now (new key - 1, new key)
    assert_eq!(t.keynum, adv.key_after.wrapping_sub(1));
}

fn passbook_cleared_only_with_its_digest(b: &mut Bank) {
    let d = day(b);
    b.pay_ok("alice", "bob", 300);
    let n = b.status("alice").passbook_count;
    assert!(n > 0);
    // --no-store: the sync completes, nothing is read, the card keeps its passbook
    let r = sync(b, "branch", "alice", &SyncOptionsExt::no_store(d)).expect("sync --no-store");
    assert!(!r.collected && !r.cleared);
    assert_eq!(b.status("alice").passbook_count, n + (r.interest > 0) as u8);
    // stored but no digest sent: the bank card does not let the card clear
    let before_ledger = ledger_entries(b, &b.status("alice").account);
    let mut o = sync_options(d);
    o.send_digest = false;
    let r = sync(b, "branch", "alice", &o).expect("sync without the digest");
    assert!(!r.cleared, "cleared without the digest");
    let n2 = b.status("alice").passbook_count;
    assert_eq!(n2, n + (r.interest > 0) as u8);
    assert!(
        ledger_entries(b, &b.status("alice").account) > before_ledger,
        "stored anyway"
    );
    // a normal sync clears
    let r = sync_ok(b, "branch", "alice", d);
    assert!(r.collected && r.cleared, "{}", r.summary());
    assert_eq!(b.status("alice").passbook_count, (r.interest > 0) as u8);
    assert_eq!(b.status("alice").exception_count, 0);
}

struct SyncOptionsExt;
impl SyncOptionsExt {
    fn no_store(d: u16) -> purse::flows::sync::SyncOptions {
        let mut o = sync_options(d);
        o.store = false;
        o
    }
}

fn passbook_in_ledger_exactly_once_on_retry(b: &mut Bank) {
    let d = day(b);
    b.pay_ok("bob", "alice", 150);
    b.pay_ok("bob", "alice", 160);
    let n = b.status("bob").passbook_count as usize;
    let in_ledger = ledger_entries(b, &b.status("bob").account);
    // attempt 1: stored, fed, then the relay corrupts P5 on its way to the bank: refused, the
    // card's expectation is aborted (SNACK), nothing moved, nothing cleared
    b.ensure(&["branch", "bob"]);
    let before = (b.balance("branch"), b.balance("bob"));
    {
        let mut bk = open_hooked(b, "branch", |ins, cmd: &mut Vec<u8>| {
            if ins == 0x76 {
                let l = cmd.len();
                cmd[l - 12] ^= 0x01; // inside P5's MAC'd ciphertext
            }
        });
        let mut cd = b.open("bob");
        let mut lg = ledger(b);
        let e = sync_cards(&mut bk, &mut cd, Some(&mut lg), &sync_options(d))
            .expect_err("corrupted P5 accepted");
        assert_eq!(sw(&e), Some(0x9D03), "{e}");
    }
    assert_eq!(
        (b.balance("branch"), b.balance("bob")),
        before,
        "no value moved"
    );
    assert_eq!(b.status("bob").passbook_count as usize, n, "not cleared");
    let p = b.pending("bob");
    assert_eq!(
        p.r#in.state,
        SlotState::None,
        "aborted while both cards were in"
    );
    assert_eq!(
        ledger_entries(b, &b.status("bob").account),
        in_ledger + n,
        "stored once"
    );
    // attempt 2: the same entries are already there
    let r = sync_ok(b, "branch", "bob", d);
    let l = r.ledger.as_ref().expect("stored");
    assert_eq!((l.entries_new, l.entries_already_stored), (0, n), "{l:?}");
    assert!(r.cleared);
    assert_eq!(
        ledger_entries(b, &b.status("bob").account),
        in_ledger + n,
        "still once"
    );
}

fn unblock_pin_at_branch_only(b: &mut Bank) {
    let d = day(b);
    block_pin(b, "alice");
    assert_eq!(b.status("alice").pin_tries, 0);
    // the region cannot unblock (precheck; the card says 9D12 too)
    let mut o = sync_options(d);
    o.bank_pin = Some(PIN.to_vec());
    o.unblock = Some(purse::flows::sync::Unblock {
        pin: b"4321".to_vec(),
        txkey: None,
    });
    let e = sync(b, "region", "branch", &o).expect_err("region unblocked");
    assert!(e.to_string().contains("branch"), "{e}");
    let r = sync(b, "branch", "alice", &o).expect("unblock at the branch");
    assert!(r.pin_unblocked);
    let mut c: PurseCard<_> = b.open("alice");
    c.verify(SecretRef::Pin, b"4321").expect("new PIN works");
    c.change_secret(SecretRef::Pin, b"4321", PIN)
        .expect("back to the test PIN");
    // without the operator's PIN, no unblock
    block_pin(b, "bob");
    let mut o2 = o.clone();
    o2.bank_pin = None;
    b.power_cycle("branch");
    let e = sync(b, "branch", "bob", &o2).expect_err("unblock without the branch PIN");
    assert_eq!(sw(&e), Some(0x9D13), "{e}");
    let r = sync(b, "branch", "bob", &o).expect("unblock bob");
    assert!(r.pin_unblocked);
    let mut c = b.open("bob");
    c.verify(SecretRef::Pin, b"4321").unwrap();
    c.change_secret(SecretRef::Pin, b"4321", PIN).unwrap();
}

fn key_expiry_after_three_epochs(b: &mut Bank) {
    for n in ["carol", "dave", "erin"] {
        b.issue(n, Role::User, &n.to_ascii_uppercase(), &CardOpts::default());
        pay_card(b, "branch", n, 5_000).unwrap_or_else(|e| panic!("{e}"));
    }
    let mut d = day(b);
    let mut epoch = |b: &mut Bank| {
        d += 1;
        advance(b, d, None);
        sync_chain(b, &["alice"], d);
        d
    };
    epoch(b);
    epoch(b);
    // two epochs behind: carol (oldest keys) still shares two keys with alice
    b.pay_ok("carol", "alice", 100);
    let d3 = epoch(b);
    // three behind: one common key: the older card is told to sync
    // (protocol.md 12.10 item 4: 9D25 when (m - CURRENT) mod 256 is in [1, 127]; exactly three
    // behind gives m = CURRENT, so the card answers 9D02 "sync the older card" — see the report)
    let e = pay_card(b, "carol", "alice", 100).expect_err("carol 3 epochs behind paid");
    assert!(matches!(sw(&e), Some(0x9D25) | Some(0x9D02)), "{e}");
    assert!(e.to_string().contains("sync"), "{e}");
    let e = pay_card(b, "alice", "carol", 100).expect_err("paid carol 3 epochs behind");
    assert!(matches!(sw(&e), Some(0x9D25) | Some(0x9D02)), "{e}");
    // but carol can sync: all three missing keys at once
    let r = sync_ok(b, "branch", "carol", d3);
    assert_eq!(r.keys_received, 3);
    b.pay_ok("carol", "alice", 100);
    epoch(b);
    // four behind: the older payer card says "sync with your bank" (9D25)
    let e = pay_card(b, "erin", "alice", 100).expect_err("erin 4 epochs behind paid");
    assert_eq!(sw(&e), Some(0x9D25), "{e}");
    assert!(e.to_string().contains("sync"), "{e}");
    epoch(b);
    let d6 = epoch(b);
    // six behind: sync still works (bank archive), six keys at once
    let r = sync_ok(b, "branch", "dave", d6);
    assert_eq!(r.keys_received, 6, "{}", r.summary());
    b.pay_ok("dave", "alice", 100);
    epoch(b);
    // seven behind: too old even for sync
    let e = sync(b, "branch", "erin", &sync_options(d)).expect_err("erin 7 epochs behind synced");
    assert_eq!(sw(&e), Some(0x9D25), "{e}");
    assert_eq!(b.pending("erin").r#in.state, SlotState::None);
    assert_conserved_sync(b, &[], "after key expiry");
}

/// Engine-side counters of one card (`purse desk info NAME`): (apdus, persistentWrites,
/// transactions, cryptoOps).
fn counters(b: &Bank, name: &str) -> [u64; 4] {
    let v: serde_json::Value = serde_json::from_str(&b.desk.ok(&["desk", "info", name])).unwrap();
    let c = &v["counters"];
    ["apdus", "persistentWrites", "transactions", "cryptoOps"].map(|k| c[k].as_u64().unwrap_or(0))
}

/// Figures of the issue: APDUs and time per sync, with 0, 10 and 49 passbook entries, from the
/// host's count and the engine's counters.
fn figures_engine_counters(b: &mut Bank) {
    let d = day(b) + 1;
    advance(b, d, None);
    sync_ok(b, "center", "region", d);
    sync_ok(b, "region", "branch", d);
    sync_ok(b, "branch", "alice", d);
    for target in [0u8, 10, 49] {
        while b.status("alice").passbook_count < target {
            // bank passbooks are a ring (12.2): no host precheck on the branch's fill
            pay_card(b, "branch", "alice", 1).unwrap_or_else(|e| panic!("branch -> alice: {e}"));
        }
        let _ = (b.reader("branch"), b.reader("alice"));
        let (cb, cc) = (counters(b, "branch"), counters(b, "alice"));
        let r = sync(b, "branch", "alice", &sync_options(d)).expect("sync");
        let (cb2, cc2) = (counters(b, "branch"), counters(b, "alice"));
        assert_conserved_sync(b, &[], "figures");
        let delta = |a: [u64; 4], z: [u64; 4]| [z[0] - a[0], z[1] - a[1], z[2] - a[2], z[3] - a[3]];
        let (db, dc) = (delta(cb, cb2), delta(cc, cc2));
        eprintln!(
            "FIGURE sync branch->alice N={} X={}: host {} APDUs in {} ms; engine: bank {} APDUs / {} writes / {} transactions / {} crypto ops, card {} APDUs / {} writes / {} transactions / {} crypto ops",
            r.passbook_entries, r.exceptions, r.apdus, r.millis, db[0], db[1], db[2], db[3], dc[0], dc[1], dc[2], dc[3]
        );
        // protocol.md 12.4: 6 + ceil(N/6) reads (+1 with exceptions) protocol APDUs, plus the
        // host's status reads (each card's SELECT answers its status, 78 the synced card's after
        // the SACK: no GET_STATUS at all; no GET_PENDING with every slot free; the bank's SELECT
        // its files: no READ_BAD_CARDS) and the two VERIFYs (FIG. 5 blocks 501/502); the engine
        // also counts the SELECT of each card; one more with step 3 in two halves (never by
        // default: S1_SPLIT_ABOVE)
        let n6 = (r.passbook_entries as u32).div_ceil(purse::proto::consts::PB_READ_MAX as u32);
        let digested = r.passbook_entries as u16 + r.exceptions as u16;
        let split = (digested > purse::flows::sync::S1_SPLIT_ABOVE) as u32;
        assert_eq!(
            r.apdus,
            6 + n6 + (r.exceptions > 0) as u32 + 2 + split,
            "{}",
            r.summary()
        );
        assert!(r.cleared);
    }
}

fn listed_card_invalidated(b: &mut Bank) {
    use purse::flows::admin::AdminOp;
    use purse::proto::consts::Life;
    let d = day(b);
    b.issue("frank", Role::User, "FRANK", &CardOpts::default());
    pay_card(b, "branch", "frank", 2_000).unwrap_or_else(|e| panic!("{e}"));
    b.pay_ok("frank", "alice", 300);
    let acc = b.status("frank").account;
    let n = b.status("frank").passbook_count as usize;
    admin_op_ok(b, "branch", &AdminOp::BadCardAdd { account: acc }, d);
    let bal = b.balance("frank");
    let r = sync_ok(b, "branch", "frank", d);
    assert!(r.invalidated, "{}", r.summary());
    assert!(r.summary().contains("INVALIDATED"), "{}", r.summary());
    assert_eq!(r.interest, 0);
    let st = b.status("frank");
    assert_eq!(st.life, Life::Invalidated);
    assert_eq!(st.balance, bal, "frozen, still counted");
    // the passbook reached the ledger before the bank said INVALIDATE (refund evidence)
    assert_eq!(ledger_entries(b, &b.status("frank").account), n);
    let e = pay_card(b, "frank", "alice", 100).expect_err("invalidated card paid");
    assert_eq!(sw(&e), Some(0x9D19), "{e}");
    let e = sync(b, "branch", "frank", &sync_options(d)).expect_err("invalidated card synced");
    assert!(e.to_string().contains("invalidated"), "{e}");
    b.assert_conserved("after invalidation");
}

/// A payment given up (`resume --give-up`) sits in the payer's exception log; the sync hands it
/// to the ledger (unsettled claim) and clears it with the passbook.
fn exception_log_handed_over(b: &mut Bank) {
    let d = day(b);
    b.ensure(&["alice", "bob"]);
    {
        let mut p = b.open("alice");
        let mut q = b.open("bob");
        p.verify(SecretRef::Pin, PIN).unwrap();
        let hello = q.payee_hello().unwrap();
        let p1 = p.xfer_payer_init(700, DATE, hello).unwrap();
        let tid = purse::card::transfer::PacketHeader::parse(&p1).unwrap().sid;
        let p2p3 = q.xfer_payee_p1(700, DATE, &p1).unwrap();
        p.xfer_payer_p2p3(&p2p3).unwrap(); // alice debited, P4 "lost"
        q.xfer_abort_expected(&tid).unwrap(); // bob drops it (NACK stored)
        p.verify(SecretRef::Pin, PIN).unwrap();
        p.pending_to_exception(&tid).unwrap(); // alice gives up: exception entry
    }
    let st = b.status("alice");
    assert_eq!(st.exception_count, 1);
    assert_conserved_sync(b, &[], "exception recorded");
    let r = sync(b, "branch", "alice", &sync_options(d)).expect("sync");
    assert_eq!(r.exceptions, 1);
    let l = r.ledger.as_ref().unwrap();
    assert_eq!((l.exceptions_collected, l.exceptions_new), (1, 1), "{l:?}");
    assert!(r.cleared);
    assert_eq!(b.status("alice").exception_count, 0);
    let ex = ledger(b).exceptions(Some(&st.account)).unwrap();
    assert!(ex.iter().any(|e| e.amount == 700), "{ex:?}");
    // the 7.00 now lives in the ledger as a claim (settled by a branch payment after
    // reconciliation), no longer on a card
    b.minted -= 700;
    assert_conserved_sync(b, &[], "exception handed over");
}
