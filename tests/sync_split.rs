//! SYNC_CARD_S1 (74) in two halves (protocol.md 12.4 step 3, 12.6 row S1): P1 01 opens S1 and
//! computes the passbook digest (answers nothing), P1 02 builds P5 and persists IN = SYNC. Out of
//! order the card refuses with 6985 and changes nothing; a card pulled between the halves holds
//! nothing (resume has nothing to do, the next sync completes); a P5 lost after the second half
//! is a card with IN = SYNC that resume aborts (SNACK, value-neutral); and a sync with many
//! entries through `purse sync` (split by the threshold) stores and clears exactly as the whole
//! step does.
use purse_testkit as kit;

use kit::*;
use purse::card::{CardError, PurseCard};
use purse::proto::consts::{self, Ins, SecretRef, SlotState};
use purse::proto::types::Status;
use purse::transport::CardIo;

#[test]
fn sync_split() {
    let mut bank = Bank::standard(8, 0);
    let d = bank.status("center").key_date + 5;
    advance(&bank, d, Some(RATE));
    sync_ok(&bank, "center", "region", d);
    ensure_admin(&mut bank);
    set_rate(&mut bank, "branch", RATE, d);
    sync_ok(&bank, "region", "branch", d);
    run_cases(
        &mut bank,
        &[
            (
                "halves_out_of_order_refused_no_change",
                halves_out_of_order_refused_no_change,
            ),
            (
                "pulled_between_halves_card_as_before",
                pulled_between_halves_card_as_before,
            ),
            (
                "p5_lost_after_second_half_resume_aborts",
                p5_lost_after_second_half_resume_aborts,
            ),
            (
                "cli_many_entries_split_same_ledger_as_whole",
                cli_many_entries_split_same_ledger_as_whole,
            ),
        ],
    );
}

/// What must not change on a card when a half is refused (BAD_KEY included: no packet was opened
/// with a wrong key).
fn money_view_bk(s: &Status) -> (MoneyView, u8) {
    (money_view(s), s.bad_key)
}

/// 70 on the card and 72 on the bank (both PINs verified): the S1 for the card's 74.
fn open_s1<B: CardIo, C: CardIo>(k: &mut PurseCard<B>, c: &mut PurseCard<C>, d: u16) -> Vec<u8> {
    k.verify(SecretRef::Pin, PIN).unwrap();
    c.verify(SecretRef::Pin, PIN).unwrap();
    let hello = c.sync_card_init(d, false).unwrap();
    k.sync_bank_init(false, hello, d).unwrap()
}

fn s1_half<C: CardIo>(c: &mut PurseCard<C>, p1: u8, data: &[u8]) -> Result<Vec<u8>, CardError> {
    c.cmd(Ins::SyncCardS1, p1, 0, data)
}

fn sw_of(r: Result<Vec<u8>, CardError>) -> Option<u16> {
    r.err().and_then(|e| e.sw()).map(|s| s.code())
}

fn in_state<C: CardIo>(c: &mut PurseCard<C>) -> SlotState {
    c.get_status().unwrap().in_state
}

fn halves_out_of_order_refused_no_change(b: &mut Bank) {
    b.pay_ok("alice", "bob", 101);
    b.pay_ok("bob", "alice", 102);
    let d = branch_day(b);
    b.ensure(&["branch", "alice"]);
    let before = money_view_bk(&b.status("alice"));
    let mut k = b.open("branch");
    let mut c = b.open("alice");
    // the second half with no session, then in the W_S1 session of a 70 (no first half yet)
    assert_eq!(sw_of(s1_half(&mut c, consts::S1_P5, &[])), Some(0x6985));
    let s1 = open_s1(&mut k, &mut c, d);
    assert_eq!(sw_of(s1_half(&mut c, consts::S1_P5, &[])), Some(0x6985));
    // that refusal ended the session: S1 is no longer taken either
    assert_eq!(sw_of(s1_half(&mut c, consts::S1_DIGEST, &s1)), Some(0x6985));
    // P1 outside 00..02
    let s1 = open_s1(&mut k, &mut c, d);
    assert_eq!(sw_of(s1_half(&mut c, 0x03, &s1)), Some(0x6A86));
    // the first half twice, or the whole step after it; then no second half
    for second in [consts::S1_DIGEST, consts::S1_WHOLE] {
        let s1 = open_s1(&mut k, &mut c, d);
        let first = s1_half(&mut c, consts::S1_DIGEST, &s1).expect("first half");
        assert!(first.is_empty(), "the first half answers nothing");
        assert_eq!(
            in_state(&mut c),
            SlotState::None,
            "the first half persists nothing"
        );
        assert_eq!(
            sw_of(s1_half(&mut c, second, &s1)),
            Some(0x6985),
            "P1 {second:02X} after 01"
        );
        assert_eq!(sw_of(s1_half(&mut c, consts::S1_P5, &[])), Some(0x6985));
    }
    // a session command between the halves (the payee's 44: its session is not this one)
    let s1 = open_s1(&mut k, &mut c, d);
    s1_half(&mut c, consts::S1_DIGEST, &s1).expect("first half");
    let e = c
        .cmd(Ins::XferPayeeP1, 0, 0, &[0u8; 76])
        .expect_err("44 between the halves");
    assert_eq!(e.sw().map(|s| s.code()), Some(0x6985), "{e}");
    assert_eq!(sw_of(s1_half(&mut c, consts::S1_P5, &[])), Some(0x6985));
    // a new 70 between the halves replaces the session
    let s1 = open_s1(&mut k, &mut c, d);
    s1_half(&mut c, consts::S1_DIGEST, &s1).expect("first half");
    c.sync_card_init(d, false).expect("70 again");
    assert_eq!(sw_of(s1_half(&mut c, consts::S1_P5, &[])), Some(0x6985));
    assert_eq!(in_state(&mut c), SlotState::None);
    drop((k, c));
    b.power_cycle("alice");
    assert_eq!(
        money_view_bk(&b.status("alice")),
        before,
        "refused halves changed the card"
    );
    assert_eq!(b.status("alice").in_state, SlotState::None);
    // and the card still syncs (split: the library splits when asked)
    let mut o = sync_options(d);
    o.s1 = purse::flows::sync::S1Form::Split;
    let r = sync(b, "branch", "alice", &o).expect("split sync");
    assert!(r.cleared, "{}", r.summary());
    assert_conserved_sync(b, &["branch", "alice"], "after the refusals");
}

fn pulled_between_halves_card_as_before(b: &mut Bank) {
    for i in 0..8 {
        b.pay_ok("bob", "alice", 10 + i);
    }
    let d = branch_day(b);
    b.ensure(&["branch", "alice"]);
    let st = b.status("alice");
    let before = money_view_bk(&st);
    {
        let mut k = b.open("branch");
        let mut c = b.open("alice");
        let s1 = open_s1(&mut k, &mut c, d);
        s1_half(&mut c, consts::S1_DIGEST, &s1).expect("first half");
    }
    // power lost between the halves: the card is as before the sync, nothing to resume
    b.power_cycle("alice");
    assert_eq!(money_view_bk(&b.status("alice")), before);
    assert_eq!(b.status("alice").in_state, SlotState::None);
    let r = b.resume("branch", "alice");
    assert!(r.actions.is_empty(), "resume had something to do: {r:?}");
    // the second half in the new card session: refused, nothing changes
    {
        let mut c = b.open("alice");
        assert_eq!(sw_of(s1_half(&mut c, consts::S1_P5, &[])), Some(0x6985));
    }
    assert_eq!(money_view_bk(&b.status("alice")), before);
    // the next sync completes (split by the threshold: 8 + 2 entries > 6) and clears once
    let r = sync_ok(b, "branch", "alice", d);
    assert!(r.collected && r.cleared, "{}", r.summary());
    assert_eq!(r.passbook_entries, st.passbook_count);
}

fn p5_lost_after_second_half_resume_aborts(b: &mut Bank) {
    for i in 0..7 {
        b.pay_ok("alice", "bob", 20 + i);
    }
    let d = branch_day(b);
    b.ensure(&["branch", "alice"]);
    let before = money_view_bk(&b.status("alice"));
    let bank_before = b.balance("branch");
    {
        let mut k = b.open("branch");
        let mut c = b.open("alice");
        let s1 = open_s1(&mut k, &mut c, d);
        s1_half(&mut c, consts::S1_DIGEST, &s1).expect("first half");
        let p5 = s1_half(&mut c, consts::S1_P5, &[]).expect("second half");
        assert_eq!(p5[0], consts::PT_P5);
        assert_eq!(in_state(&mut c), SlotState::Sync);
        // the second half once: P5 is not answered again
        assert_eq!(sw_of(s1_half(&mut c, consts::S1_P5, &[])), Some(0x6985));
    }
    // the host dies with the P5: resume aborts the card's expectation (SNACK), value-neutral
    b.power_cycle("alice");
    let r = b.resume("branch", "alice");
    assert!(!r.actions.is_empty(), "{r:?}");
    assert_eq!(b.status("alice").in_state, SlotState::None);
    assert_eq!(money_view_bk(&b.status("alice")), before);
    assert_eq!(b.balance("branch"), bank_before);
    assert_conserved_sync(b, &["branch", "alice"], "after the abort");
    let r = sync_ok(b, "branch", "alice", d);
    assert!(r.cleared, "{}", r.summary());
}

/// `purse sync` of two cards with the same 20-entry passbook shape: bob with the whole 74
/// (`--s1 whole`), alice in two halves (`--s1 split`). Both store every entry once and clear; the
/// split one sends exactly one APDU more.
fn cli_many_entries_split_same_ledger_as_whole(b: &mut Bank) {
    // empty both passbooks first, then 20 payments each way
    let d = branch_day(b);
    sync_ok(b, "branch", "alice", d);
    sync_ok(b, "branch", "bob", d);
    for i in 0..10 {
        b.pay_ok("alice", "bob", 30 + i);
        b.pay_ok("bob", "alice", 30 + i);
    }
    let (na, nb) = (
        b.status("alice").passbook_count,
        b.status("bob").passbook_count,
    );
    // (an INTEREST_IN of the first syncs may add one entry: the same number of reads and feeds)
    assert_eq!(na.div_ceil(6), nb.div_ceil(6), "{na} / {nb}");
    assert!(
        na.min(nb) > 6,
        "more than one 256-byte digest window: {na} / {nb}"
    );
    let ledger_file = ledger_location(b);
    let acc = [b.status("alice").account, b.status("bob").account];
    let stored0 = acc.map(|a| ledger_entries(b, &a));
    let mut run = |card: &str, extra: &[&str]| -> serde_json::Value {
        let rs = b.ensure(&["branch", card]);
        let mut args = vec![
            "--json",
            "sync",
            "--from",
            &rs[0],
            "--to",
            &rs[1],
            "--ledger",
            &ledger_file,
        ];
        args.extend_from_slice(extra);
        let pin = std::str::from_utf8(PIN).unwrap();
        let r = b
            .desk
            .run_env(&[("PURSE_BANK_PIN", pin), ("PURSE_PIN", pin)], &args);
        assert_eq!(r.code, 0, "purse sync {card}: {}{}", r.stdout, r.stderr);
        r.json()
    };
    let whole = run("bob", &["--s1", "whole"]);
    let split = run("alice", &["--s1", "split"]);
    for (who, v, n) in [("bob", &whole, nb), ("alice", &split, na)] {
        assert_eq!(v["cleared"], true, "{who}: {v}");
        assert_eq!(v["collected"], true, "{who}: {v}");
        assert_eq!(v["passbook_entries"], n as u64, "{who}: {v}");
        assert_eq!(v["ledger"]["entries_collected"], n as u64, "{who}: {v}");
        assert_eq!(v["ledger"]["entries_new"], n as u64, "{who}: {v}");
        assert_eq!(v["ledger"]["entries_already_stored"], 0, "{who}: {v}");
    }
    assert_eq!(
        split["apdus"].as_u64().unwrap(),
        whole["apdus"].as_u64().unwrap() + 1,
        "the split sends one APDU more"
    );
    // the ledger holds each card's passbook once more, the same count for both
    let stored = acc.map(|a| ledger_entries(b, &a));
    assert_eq!(
        stored[0] - stored0[0],
        na as usize,
        "alice's entries in the ledger"
    );
    assert_eq!(
        stored[1] - stored0[1],
        nb as usize,
        "bob's entries in the ledger"
    );
    assert_conserved_sync(b, &["branch", "alice"], "after the CLI syncs");
}
