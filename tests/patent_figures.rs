//! The patent's figures (issue 4, item 8) through pcscd against virtual cards running the real
//! applet: key expiry after three missed epochs (four keys, two needed: refused with a clear
//! message, sync still works up to six behind, not at seven), interest exact to the minor unit
//! over many days at every level, and value conserved across every sync (Σ over all cards constant
//! except minting, invalidated cards included). The 1,200 bad cards are in tests/admin.rs, the
//! 50-entry passbook in tests/passbook_50.rs.
use purse_testkit as kit;

use kit::*;
use purse::flows::admin::AdminOp;
use purse::proto::consts::{Life, Role};
use purse::proto::rate::parse_rate;

#[test]
fn patent_figures() {
    let mut bank = Bank::standard(2, 250); // key numbers wrap past 255 on the way
    bank.issue("carol", Role::User, "CAROL", &CardOpts::default());
    bank.issue("dave", Role::User, "DAVE", &CardOpts::default());
    bank.pay_ok("branch", "carol", 20_000);
    bank.pay_ok("branch", "dave", 20_000);
    run_cases(
        &mut bank,
        &[
            ("key_expiry_after_three_missed_epochs", key_expiry),
            (
                "interest_exact_over_many_days_conserved",
                interest_exact_conserved,
            ),
        ],
    );
}

fn key_expiry(b: &mut Bank) {
    let mut date = b.status("center").key_date;
    // bob follows every epoch; alice, carol, dave stay behind
    for behind in 1..=2u8 {
        date += 1;
        epoch_down(b, date, None, &["bob"]);
        // two keys still shared: payments both ways work
        b.pay_ok("alice", "bob", 100 + behind as u32);
        b.pay_ok("bob", "alice", 100);
    }
    date += 1;
    epoch_down(b, date, None, &["bob"]);
    // three behind: one key shared, the older card refuses with advice
    let e = b.pay("alice", "bob", 100).unwrap_err();
    assert!(e.to_string().contains("sync"), "host precheck: {e}");
    let e = pay_card(b, "alice", "bob", 100).unwrap_err();
    assert_eq!(sw(&e), Some(0x9D02), "{e}");
    assert!(
        e.to_string().contains("sync the older card with its bank"),
        "{e}"
    );
    let e = pay_card(b, "bob", "alice", 100).unwrap_err();
    assert!(matches!(sw(&e), Some(0x9D02) | Some(0x9D25)), "{e}");
    date += 1;
    epoch_down(b, date, None, &["bob"]);
    // four behind: no key shared; the older payer says its keys are too old
    let e = pay_card(b, "alice", "bob", 100).unwrap_err();
    assert_eq!(sw(&e), Some(0x9D25), "{e}");
    assert!(e.to_string().contains("sync the card with its bank"), "{e}");
    // sync still works (bank card's key archive), delivers the 4 missing keys, payments resume
    let s = sync_ok(b, "branch", "alice", DATE);
    assert_eq!(s.keys_received, 4, "{s:?}");
    b.assert_conserved("alice synced at 4 behind");
    b.pay_ok("alice", "bob", 100);
    // carol and dave: 6 behind syncs (6 keys), 7 behind cannot even sync
    for _ in 0..2 {
        date += 1;
        epoch_down(b, date, None, &["bob", "alice"]);
    }
    let s = sync_ok(b, "branch", "carol", DATE);
    assert_eq!(s.keys_received, 6, "{s:?}");
    b.pay_ok("carol", "bob", 100);
    date += 1;
    epoch_down(b, date, None, &["bob", "alice", "carol"]);
    let e = sync(b, "branch", "dave", &sync_options(DATE)).unwrap_err();
    assert_eq!(e.sw().map(|s| s.code()), Some(0x9D25), "{e}");
    assert!(e.to_string().contains("too old"), "{e}");
    assert_eq!(b.status("dave").life, Life::Active);
    b.assert_conserved("dave refused");
}

fn interest_exact_conserved(b: &mut Bank) {
    // rates at every level: center (by CENTER_ADVANCE), region and branch (admin card)
    // an admin card issued now gets the center's current keys
    issue_admin(b, "admin2", "ADMIN-2");
    let r_center = parse_rate("1.825").unwrap();
    let r_region = parse_rate("2.5").unwrap();
    let r_branch = parse_rate("3.65").unwrap();
    let keys = |n: &str| {
        let st = b.status(n);
        (st.current_key, st.key_date, st.bad_key, st.role)
    };
    let (kc, kr, ka) = (keys("center"), keys("region"), keys("admin2"));
    admin_op(b, "admin2", "region", AdminOp::SetRate { rate: r_region })
        .unwrap_or_else(|e| panic!("center {kc:?} region {kr:?} admin {ka:?}: {e}"));
    let (kc, kb, ka) = (keys("center"), keys("branch"), keys("admin2"));
    admin_op(b, "admin2", "branch", AdminOp::SetRate { rate: r_branch })
        .unwrap_or_else(|e| panic!("center {kc:?} branch {kb:?} admin {ka:?}: {e}"));
    let mut date = b.status("center").key_date;
    for (step, days) in [(1u32, 30u16), (2, 365), (3, 1000)] {
        let users = ["alice", "bob", "carol"];
        let before: Vec<_> = ["region", "branch"]
            .iter()
            .chain(users.iter())
            .map(|n| b.status(n))
            .collect();
        date += days;
        let s = epoch_down(
            b,
            date,
            if step == 1 { Some(r_center) } else { None },
            &users,
        );
        // every level paid exactly floor(balance × RATE × days / 2^32), out of its bank's balance
        let rates = [r_center, r_region, r_branch, r_branch, r_branch];
        for (i, (st, sy)) in before.iter().zip(&s).enumerate() {
            let d = (date - st.interest_date) as u32;
            assert_eq!(
                sy.interest,
                expected_interest(st.balance, rates[i], d),
                "step {step}: card {i} balance {} rate {:08X} {d} days",
                st.balance,
                rates[i]
            );
        }
        assert!(s.iter().all(|x| x.interest > 0), "step {step}: {s:?}");
        // a payment between syncs, then the invariant again
        b.pay_ok("bob", "carol", 100);
        b.assert_conserved(&format!("step {step}"));
    }
    // the invalidated card's value stays counted
    let carol = b.status("carol").account;
    sync_ok(b, "center", "admin2", DATE); // 3 epochs behind: the admin card syncs with the center first
    admin_op(
        b,
        "admin2",
        "branch",
        AdminOp::BadCardAdd { account: carol },
    )
    .unwrap();
    let bal = b.status("carol").balance;
    let s = sync_ok(b, "branch", "carol", DATE);
    assert!(s.invalidated);
    let reads = invalidated_reads(b, "carol", ["bob", "branch"]);
    b.assert_conserved("after invalidating carol");
    assert_eq!(
        reads,
        Ok(bal),
        "an invalidated card still shows its frozen value"
    );
}
