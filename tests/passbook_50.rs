//! The patent's 50-entry passbook (F14, protocol.md 3.1, 12.2, 12.4) through pcscd against
//! virtual cards running the real applet: a user passbook fills at 50 and refuses further
//! payments with advice; a sync stores the 50 entries in the ledger and clears them; a bank
//! card's passbook is a ring that never fills. Value is conserved throughout.
use purse_testkit as kit;

use kit::*;

#[test]
fn passbook_50() {
    let mut bank = Bank::standard(2, 60);
    run_cases(
        &mut bank,
        &[
            ("fifty_entries_then_sync", fifty_entries_then_sync),
            ("bank_ring_never_full", bank_ring_never_full),
        ],
    );
}

fn fifty_entries_then_sync(b: &mut Bank) {
    let alice = b.status("alice").account;
    let start = b.status("alice").passbook_count as u32;
    let bob0 = b.status("bob").passbook_count as u32;
    assert!(start >= 1 && bob0 >= 1);
    // fill alice (and bob) with small payments back and forth
    let n = 50 - start.max(bob0);
    for i in 0..n {
        if i % 2 == 0 {
            b.pay_ok("alice", "bob", 100 + i);
        } else {
            b.pay_ok("bob", "alice", 50 + i);
        }
    }
    let st = b.status("alice");
    assert_eq!((st.passbook_count, st.passbook_capacity), (50, 50));
    b.assert_conserved("passbook full");
    // the 51st is refused, clearly
    let e = b.pay("alice", "bob", 100).unwrap_err();
    assert!(
        e.to_string()
            .contains("passbook is full: sync it with the bank"),
        "{e}"
    );
    let e = pay_card(b, "alice", "bob", 100).unwrap_err();
    assert_eq!(sw(&e), Some(0x9D08), "{e}");
    assert!(e.to_string().contains("passbook full"), "{e}");
    let e = pay_card(b, "alice", "branch", 100).unwrap_err();
    assert_eq!(sw(&e), Some(0x9D08), "alice as payer: {e}");
    let r = b.desk.purse(&["status", "-r", &b.reader("alice")]);
    assert!(r.stdout.contains("50/50"), "{}", r.stdout);
    // sync: 50 entries read, stored, fed, cleared
    let before = ledger_entries(b, &alice);
    let s = sync_ok(b, "branch", "alice", DATE);
    assert_eq!(fed(&s), 50, "{s:?}");
    assert!(s.cleared, "{s:?}");
    eprintln!(
        "  sync of a 50-entry passbook: {} APDUs, {} ms",
        s.apdus, s.millis
    );
    assert!(
        s.apdus <= 26 + 2,
        "APDUs per sync {} (12.4: ≤ 26, and 2 VERIFYs; the statuses and the bank files come with SELECT, the status after with 78)",
        s.apdus
    );
    assert_eq!(b.status("alice").passbook_count, 0);
    assert_eq!(ledger_entries(b, &alice), before + 50);
    // a second sync stores nothing twice
    let s = sync_ok(b, "branch", "alice", DATE);
    assert_eq!(fed(&s), 0);
    assert_eq!(ledger_entries(b, &alice), before + 50);
    b.assert_conserved("after sync");
    // alice can pay again (to the branch: bob is still full)
    let e = pay_card(b, "alice", "bob", 100).unwrap_err();
    assert_eq!(sw(&e), Some(0x9D08), "bob is full: {e}");
    b.pay_ok("alice", "branch", 100);
    sync_ok(b, "branch", "bob", DATE);
    b.pay_ok("alice", "bob", 100);
    b.assert_conserved("end");
}

fn bank_ring_never_full(b: &mut Bank) {
    let c0 = b.status("branch").passbook_count as u32;
    let room = 50 - b.status("alice").passbook_count as u32;
    let n = (51 - c0).min(room);
    assert!(c0 + n > 50, "branch {c0} entries + {n} deposits must wrap");
    // the cards themselves (the host's precheck is not asked: see the last check)
    for i in 0..n {
        pay_card(b, "alice", "branch", 10 + i).unwrap_or_else(|e| panic!("deposit {i}: {e}"));
    }
    let st = b.status("branch");
    assert_eq!(
        st.passbook_count, 50,
        "a bank card's passbook is a ring of 50"
    );
    pay_card(b, "branch", "bob", 10).expect("branch pays with a full ring");
    assert_eq!(b.status("branch").passbook_count, 50);
    b.assert_conserved("ring");
    // the host must not refuse a bank card with 50 entries either (protocol.md 12.2)
    b.pay("branch", "bob", 10)
        .expect("host precheck treats a bank ring as never full");
    assert_eq!(b.status("branch").passbook_count, 50);
    b.assert_conserved("ring");
    // the wrapped ring synced upward: the card's digest runs over its two contiguous runs, oldest
    // first, and equals the host's over the entries as read (protocol.md 12.5.3): cleared
    let r = sync_ok(b, "region", "branch", DATE);
    assert!(r.collected && r.cleared, "{}", r.summary());
    assert_eq!(r.passbook_entries, 50);
    assert!(
        b.status("branch").passbook_count <= 1,
        "cleared (an INTEREST_IN at most)"
    );
}
