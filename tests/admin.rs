//! Administration of bank cards through pcscd against virtual cards running the real applet
//! (protocol.md 12.8, MISSION F16-F19; threat rows T24, T26): admin PIN, replayed ops, the
//! 1,200-entry BAD_CARD list (patent figure), a listed card invalidated for good at sync, removal
//! only after expiry, VALID_ACCOUNT and the interest rate. One desk, one bank, cases in order.
use purse_testkit as kit;

use std::time::Instant;

use kit::*;
use purse::card::bank::AdminHello;
use purse::desk::Desk;
use purse::flows::admin::{AdminError, AdminOp, BankFiles};
use purse::flows::cost::{apdu_terms, estimate, ApduOps, OpsLog, Profiles};
use purse::proto::consts::{Life, SecretRef};
use purse::proto::rate::parse_rate;
use purse::proto::types::Account;

#[test]
fn admin() {
    let mut bank = Bank::standard(2, 10);
    issue_admin(&mut bank, "admin", "ADMIN-1");
    run_cases(
        &mut bank,
        &[
            ("admin_needs_pin", admin_needs_pin),
            ("op_checks_and_range_refusal", op_checks_and_range_refusal),
            ("replay_admin_op_refused", replay_admin_op_refused),
            ("batch_refused_whole", batch_refused_whole),
            ("batch_over_t0", batch_over_t0),
            ("batches_past_255_take_two_sessions", batches_past_255),
            ("bad_card_1200_entries", bad_card_1200_entries),
            ("listed_card_invalidated_for_good", listed_card_invalidated),
            ("range_refuses_at_sync", range_refuses_at_sync),
            ("rate_change_changes_interest", rate_change_changes_interest),
            ("remove_only_after_expiry", remove_only_after_expiry),
        ],
    );
}

fn pin_env(b: &Bank, pin: &str, args: &[&str]) -> kit::Run {
    let out = b
        .desk
        .cmd()
        .env("PURSE_PIN", pin)
        .args(args)
        .output()
        .expect("run purse");
    kit::Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn readers(b: &Bank, adm: &str, bank_card: &str) -> (String, String) {
    ensure_pair(b, adm, bank_card);
    (b.reader(adm), b.reader(bank_card))
}

fn admin_needs_pin(b: &mut Bank) {
    // card level: ADMIN_INIT without a verified PIN
    let acc = b.status("bob").account;
    let op = AdminOp::BadCardAdd { account: acc };
    {
        let mut a = b.open("admin");
        let e = a.admin_init_admin(&op.request(DATE)).unwrap_err();
        assert_eq!(sw(&e), Some(0x9D13), "{e}");
    }
    // a bank card is no admin card
    {
        let mut k = b.open("branch");
        k.verify(SecretRef::Pin, PIN).unwrap();
        let e = k.admin_init_admin(&op.request(DATE)).unwrap_err();
        assert_eq!(sw(&e), Some(0x9D12), "{e}");
    }
    // CLI, wrong PIN: refused, nothing changed
    let (ra, rk) = readers(b, "admin", "branch");
    let r = pin_env(
        b,
        "9999",
        &["admin", "rate", "--admin", &ra, "--bank", &rk, "3.65"],
    );
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("wrong PIN, 2 tries left"), "{}", r.stderr);
    let f = bank_files(b, "branch");
    assert_eq!(
        (f.rate, f.count, f.pages_read),
        (0, 0, 0),
        "an empty list comes with SELECT: {f:?}"
    );
    // after a command the SELECT answer is old: the same files, read with one READ_BAD_CARDS
    let mut k = b.open("branch");
    k.get_pending().unwrap();
    let g = purse::flows::admin::read_bank_files(&mut k).unwrap();
    assert_eq!(g.pages_read, 1);
    assert_eq!(BankFiles { pages_read: 0, ..g }, f);
    drop(k);
    // the same as JSON: which step, which card, the status word
    let r = pin_env(
        b,
        "9999",
        &[
            "--json", "admin", "rate", "--admin", &ra, "--bank", &rk, "3.65",
        ],
    );
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    let e = &r.json()["error"];
    assert_eq!(e["kind"], "refused", "{e}");
    assert_eq!(
        (e["step"].clone(), e["side"].clone()),
        ("Verify".into(), "admin".into()),
        "{e}"
    );
    assert_eq!(e["sw"], "63C1", "{e}");
    assert_eq!(r.json()["failed_index"], 0, "{e}");
    // two wrong PINs: verify the right one to reset the counter
    let r = pin_env(
        b,
        "1234",
        &["admin", "rate", "--admin", &ra, "--bank", &rk, "0"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // CLI, right PIN
    let r = pin_env(
        b,
        "1234",
        &["admin", "rate", "--admin", &ra, "--bank", &rk, "3.65"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("3.6500 % a year"), "{}", r.stdout);
    let r = b
        .desk
        .purse(&["--json", "admin", "bad-card", "list", "--bank", &rk]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["rate"], "3.6500");
    assert_eq!(j["rate_raw"], "00068DB9");
    assert_eq!(j["count"], 0);
    // the admin PIN is reset after each op: a second op needs it again (the flow verifies)
    let o = admin_op(b, "admin", "branch", AdminOp::SetRate { rate: 0x68DB9 }).unwrap();
    assert!(!o.changed, "same rate again is no change: {o:?}");
    let o = admin_op(b, "admin", "branch", AdminOp::SetRate { rate: 0 }).unwrap();
    assert!(o.changed);
    let mut a = b.open("admin");
    assert_eq!(
        a.verify_state(SecretRef::Pin).unwrap(),
        purse::card::VerifyState::NotValidated(3)
    );
}

fn op_checks_and_range_refusal(b: &mut Bank) {
    let p = prefix_of(b, "branch");
    // host checks: bounds in different blocks, LOW > HIGH
    let e = admin_op(
        b,
        "admin",
        "branch",
        AdminOp::SetRange {
            low: acct(&p, 0),
            high: acct("20000000", 5),
        },
    )
    .unwrap_err();
    assert!(matches!(e, AdminError::Invalid(_)), "{e}");
    let e = admin_op(
        b,
        "admin",
        "branch",
        AdminOp::SetRange {
            low: acct(&p, 9),
            high: acct(&p, 5),
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("above"), "{e}");
    // an account outside the bank card's range: the bank card refuses (9D21)
    let e = admin_op(
        b,
        "admin",
        "branch",
        AdminOp::BadCardAdd {
            account: acct("20000000", 5),
        },
    )
    .unwrap_err();
    assert_eq!(sw(&e), Some(0x9D21), "{e}");
    assert!(e.to_string().contains("does not serve"), "{e}");
    // CLI range: a user card as "bank" is refused before any PIN is asked
    let (ra, ru) = readers(b, "admin", "bob");
    let r = pin_env(
        b,
        "1234",
        &[
            "admin",
            "range",
            "--admin",
            &ra,
            "--bank",
            &ru,
            &acct(&p, 0).to_string(),
            &acct(&p, 9_999_999).to_string(),
        ],
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("not a bank card"), "{}", r.stderr);
    // CLI range on the branch: same as the default block, allowed
    let (ra, rk) = readers(b, "admin", "branch");
    let r = pin_env(
        b,
        "1234",
        &[
            "admin",
            "range",
            "--admin",
            &ra,
            "--bank",
            &rk,
            &acct(&p, 0).to_string(),
            &acct(&p, 9_999_999).to_string(),
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let f = bank_files(b, "branch");
    assert_eq!((f.low, f.high), (acct(&p, 0), acct(&p, 9_999_999)));
}

fn replay_admin_op_refused(b: &mut Bank) {
    let p = prefix_of(b, "branch");
    let op = AdminOp::BadCardAdd {
        account: acct(&p, 7_000_001),
    };
    ensure_pair(b, "admin", "branch");
    let mut a = b.open("admin");
    let mut k = b.open("branch");
    let bk0 = k.get_status().unwrap().bad_key;
    a.verify(SecretRef::Pin, PIN).unwrap();
    let hello: AdminHello = a.admin_init_admin(&op.request(DATE)).unwrap();
    let a1 = k.admin_init_bank(hello).unwrap();
    let a2 = a.admin_op(&a1).unwrap();
    let a4 = k.admin_apply(&a2).unwrap();
    let ack = a.admin_ack(&a4).unwrap();
    assert!(ack.changed && ack.count == 1, "{ack:?}");
    // replay A2 into a fresh bank session: the bank's R1 differs -> 9D03, nothing applied
    a.verify(SecretRef::Pin, PIN).unwrap();
    let remove = AdminOp::BadCardRemove {
        account: acct(&p, 7_000_001),
    };
    let hello = a.admin_init_admin(&remove.request(DATE)).unwrap();
    let _a1 = k.admin_init_bank(hello).unwrap();
    let e = k.admin_apply(&a2).unwrap_err();
    assert_eq!(sw(&e), Some(0x9D03), "{e}");
    assert_eq!(k.get_status().unwrap().bad_key, bk0 + 1);
    // replay A4 to the admin card: no session -> refused
    let e = a.admin_ack(&a4).unwrap_err();
    assert!(matches!(sw(&e), Some(0x6985) | Some(0x9D03)), "{e}");
    drop((a, k));
    assert_eq!(bank_files(b, "branch").count, 1);
    // the op is idempotent: adding again is "no change"
    let o = admin_op(b, "admin", "branch", op).unwrap();
    assert!(!o.changed && o.count == 1, "{o:?}");
    // clean up: a fresh entry cannot be removed yet (listed 0 epochs ago)
    let e = admin_op(b, "admin", "branch", remove).unwrap_err();
    assert!(matches!(e, AdminError::NotExpired { epochs: 0, .. }), "{e}");
    assert!(e.to_string().contains("after 7 more epoch"), "{e}");
}

/// A batch session by hand up to its first A5 (ADD op of `first`, then `lows` as one batch):
/// (admin, bank, A5). The A4's verified result must say `first` was newly listed.
fn batch_session(
    b: &Bank,
    p: &str,
    first: u32,
    serials: std::ops::Range<u32>,
) -> (
    purse::card::PurseCard<purse::transport::Connection>,
    purse::card::PurseCard<purse::transport::Connection>,
    Vec<u8>,
) {
    ensure_pair(b, "admin", "branch");
    let mut a = b.open("admin");
    let mut k = b.open("branch");
    let op = AdminOp::BadCardAdd {
        account: acct(p, first),
    };
    a.verify(SecretRef::Pin, PIN).unwrap();
    let hello = a.admin_init_admin(&op.request(DATE)).unwrap();
    let a1 = k.admin_init_bank(hello).unwrap();
    let a2 = a.admin_op(&a1).unwrap();
    let a4 = k.admin_apply(&a2).unwrap();
    let prefix: [u8; 4] = acct(p, 0).0[..4].try_into().unwrap();
    let lows: Vec<[u8; 4]> = serials
        .map(|i| acct(p, i).0[4..].try_into().unwrap())
        .collect();
    let (ack, a5) = a.admin_op_more(&a4, prefix, &lows).unwrap();
    assert_eq!(ack.n, 1);
    (a, k, a5)
}

/// Batched BAD_CARD_ADD (protocol.md 12.8 "Batches"): a tampered batch, a batch replayed in its
/// own session and in another are refused whole (9D03, BAD_KEY + 1, the list unchanged); power
/// lost at every write of a batch leaves the list as before (all or nothing, COUNT consistent);
/// a completed batch lists every account once, duplicates inside the batch as "no change".
fn batch_refused_whole(b: &mut Bank) {
    let p = prefix_of(b, "branch");
    // counts are read before a session or after it: reading the list on another connection
    // re-selects the applet, which ends the session (CLEAR_ON_DESELECT)
    let count = |b: &Bank| bank_files(b, "branch").count;
    let bad_key = |k: &mut purse::card::PurseCard<_>| k.get_status().unwrap().bad_key;
    // tampered: a byte of the A5 flipped (TYPE, SID, body, MAC); +1 is the ADD op before the batch
    for at in [0usize, 2, 9, 40, 79] {
        let c = count(b);
        let (a, mut k, mut a5) = batch_session(b, &p, 7_200_000 + at as u32, 7_200_100..7_200_110);
        let bk = bad_key(&mut k);
        let i = at.min(a5.len() - 1);
        a5[i] ^= 0x01;
        let e = k.admin_apply_more(10, &a5).unwrap_err();
        assert_eq!(sw(&e), Some(0x9D03), "byte {at}: {e}");
        assert_eq!(bad_key(&mut k), bk + 1, "byte {at}");
        // the refusal ended the session: the genuine A5 is not accepted after it
        a5[i] ^= 0x01;
        let e = k.admin_apply_more(10, &a5).unwrap_err();
        assert_eq!(sw(&e), Some(0x6985), "byte {at}: {e}");
        drop((a, k));
        assert_eq!(
            count(b),
            c + 1,
            "byte {at}: nothing of a tampered batch is listed"
        );
    }
    // a good batch of 10, then the same A5 again in its own session (SEQ used): refused whole
    let c = count(b);
    let (mut a, mut k, a5) = batch_session(b, &p, 7_300_000, 7_300_001..7_300_011);
    let a6 = k.admin_apply_more(10, &a5).unwrap();
    let ack = a.admin_ack_more(&a6).unwrap();
    assert_eq!((ack.n, ack.count), (10, c + 11));
    assert!((0..10).all(|i| ack.added(i)), "{ack:?}");
    let bk = bad_key(&mut k);
    let e = k.admin_apply_more(10, &a5).unwrap_err();
    assert_eq!(sw(&e), Some(0x9D03), "{e}");
    assert_eq!(bad_key(&mut k), bk + 1);
    drop((a, k));
    assert_eq!(count(b), c + 11);
    // replayed into another session (other K_S): refused whole
    let (a, mut k, _) = batch_session(b, &p, 7_300_020, 7_300_021..7_300_022);
    let e = k.admin_apply_more(10, &a5).unwrap_err();
    assert_eq!(sw(&e), Some(0x9D03), "{e}");
    drop((a, k));
    assert_eq!(count(b), c + 12);
    // duplicates (inside the batch and already listed): listed once, reported as no change
    let prefix: [u8; 4] = acct(&p, 0).0[..4].try_into().unwrap();
    let low = |i: u32| -> [u8; 4] { acct(&p, i).0[4..].try_into().unwrap() };
    let c = count(b);
    let (mut a, mut k, a5) = batch_session(b, &p, 7_300_040, 7_300_041..7_300_043);
    let a6 = k.admin_apply_more(2, &a5).unwrap();
    let lows = [
        low(7_300_050),
        low(7_300_050),
        low(7_300_041),
        low(7_300_051),
    ];
    let (prev, a5) = a.admin_op_more(&a6, prefix, &lows).unwrap();
    assert_eq!((prev.n, prev.count), (2, c + 3));
    let a6 = k.admin_apply_more(4, &a5).unwrap();
    let ack = a.admin_ack_more(&a6).unwrap();
    assert_eq!(ack.count, c + 5, "{ack:?}");
    assert_eq!(
        (0..4).map(|i| ack.added(i)).collect::<Vec<_>>(),
        [true, false, false, true]
    );
    drop((a, k));
    // power lost at every write of a batch's 86: the list stays as it was, then the batch applies
    let mut k_at = 1u32;
    loop {
        let c = count(b);
        let (a, mut k, a5) = batch_session(
            b,
            &p,
            7_400_000 + k_at,
            7_400_100 + 20 * k_at..7_400_110 + 20 * k_at,
        );
        let armed = b
            .desk
            .purse(&["desk", "tear", "branch", &k_at.to_string(), "--ins", "86"]);
        assert_eq!(armed.code, 0, "{}", armed.stderr);
        let r = k.admin_apply_more(10, &a5);
        drop((a, k));
        match r {
            Err(purse::card::CardError::Transport(_)) => {
                let f = bank_files(b, "branch");
                assert_eq!(
                    f.count,
                    c + 1,
                    "tear at write {k_at}: the batch is all or nothing"
                );
                assert_eq!(f.entries.len(), c as usize + 1);
                k_at += 1;
            }
            Ok(_) => {
                b.desk.purse(&["desk", "tear", "branch", "0"]);
                assert_eq!(count(b), c + 11);
                eprintln!(
                    "  batch apply: {} tear points, each left the list unchanged",
                    k_at - 1
                );
                break;
            }
            Err(e) => panic!("tear at write {k_at}: {e}"),
        }
        assert!(k_at < 10, "more than 10 writes in one batch apply?");
    }
    assert!(k_at >= 2, "a batch apply must write");
}

/// The batched bad-card commands (84/86/88 P1 01, up to 230 B in and 130 B out) on cards that
/// answer T=0 style: every answer comes back through 61xx and GET RESPONSE, and the accounts of
/// two batches (46 + 14) are listed once each.
fn batch_over_t0(b: &mut Bank) {
    let p = prefix_of(b, "branch");
    let have = bank_files(b, "branch").count;
    ensure_pair(b, "admin", "branch");
    b.reinsert("admin", true);
    b.reinsert("branch", true);
    let (ra, rk) = (b.reader("admin"), b.reader("branch"));
    let accounts: Vec<String> = (0..60)
        .map(|i| acct(&p, 7_600_000 + i).to_string())
        .collect();
    let mut args: Vec<&str> = vec![
        "-d", "--json", "admin", "bad-card", "add", "--admin", &ra, "--bank", &rk,
    ];
    args.extend(accounts.iter().map(String::as_str));
    let r = pin_env(b, "1234", &args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // the batch commands went through the T=0 path: the card's 61xx, then our GET RESPONSE
    let trace: Vec<&str> = r.stderr.lines().collect();
    for ins in ["808401", "808601", "808801"] {
        let at = trace
            .iter()
            .position(|l| l.contains(&format!(">> {ins}")))
            .unwrap_or_else(|| panic!("no {ins} in the trace:\n{}", r.stderr));
        assert!(
            trace[at + 1].contains("<< 61") && trace[at + 2].contains(">> 00C00000"),
            "{ins} not answered T=0 style: {:?}",
            &trace[at..(at + 3).min(trace.len())]
        );
    }
    let j = r.json();
    let ops = j["ops"].as_array().expect("ops");
    assert_eq!(ops.len(), 60);
    assert_eq!(ops.last().expect("an op")["count"], have + 60);
    let f = bank_files(b, "branch");
    assert_eq!(f.count, have + 60);
    b.reinsert("admin", false);
    b.reinsert("branch", false);
}

/// A session's batch SEQ runs 1..=255 and never wraps (the cards refuse a 256th batch: 6985), so
/// a list of more than 1 + 255 x 46 accounts (here 50 new ones, each repeated: the duplicates are
/// "no change") goes on in a second session: every account reported, each new one listed once.
fn batches_past_255(b: &mut Bank) {
    let p = prefix_of(b, "branch");
    let have = bank_files(b, "branch").count;
    let accounts: Vec<Account> = (0..11_800u32)
        .map(|i| acct(&p, 4_000_000 + i % 50))
        .collect();
    ensure_pair(b, "admin", "branch");
    let mut a = b.open("admin");
    let mut k = b.open("branch");
    let log = OpsLog::start(&Desk::at(b.desk.path())).unwrap();
    let mut seen = Vec::new();
    purse::flows::admin::run_adds(&mut a, &mut k, PIN, &accounts, DATE, |i, o| {
        seen.push((i, o.changed, o.count))
    })
    .unwrap();
    let apdus = log.take().unwrap();
    assert_eq!(seen.len(), accounts.len());
    assert!(seen.iter().enumerate().all(|(j, s)| s.0 == j), "in order");
    assert_eq!(
        seen.iter().filter(|s| s.1).count(),
        50,
        "each new account listed once"
    );
    assert_eq!(seen.last().unwrap().2, have + 50);
    let on_bank = |ins: &str| {
        apdus
            .iter()
            .filter(|x| x.card == "branch" && x.ins == ins)
            .count()
    };
    // two sessions (an 82 each): the first ADD (86 P1 00) and 255 batches of 46 (86 P1 01), then
    // the 11,732nd account's ADD and 2 batches of the last 68
    assert_eq!(on_bank("82"), 2, "bank sessions");
    assert_eq!(on_bank("86"), 1 + 255 + 1 + 2, "ADDs and batches");
    assert_eq!(bank_files(b, "branch").count, have + 50);
}

fn bad_card_1200_entries(b: &mut Bank) {
    let p = prefix_of(b, "branch");
    let alice = b.status("alice").account;
    let have = bank_files(b, "branch").count as u32; // 1 from the replay case
    let (ra, rk) = readers(b, "admin", "branch");
    // alice first, through the CLI
    let r = pin_env(
        b,
        "1234",
        &[
            "admin",
            "bad-card",
            "add",
            "--admin",
            &ra,
            "--bank",
            &rk,
            &alice.to_string(),
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("listed"), "{}", r.stdout);
    // fill up to 1 200 in one CLI run (one admin session, batches of up to 46 accounts)
    let fill: Vec<String> = (0..(1200 - have - 1))
        .map(|i| acct(&p, 5_000_000 + i).to_string())
        .collect();
    let mut args: Vec<&str> = vec![
        "--json", "admin", "bad-card", "add", "--admin", &ra, "--bank", &rk,
    ];
    args.extend(fill.iter().map(String::as_str));
    // the cards count every APDU (the desk's ops logs, as `purse bench run` reads them)
    let log = OpsLog::start(&Desk::at(b.desk.path())).unwrap();
    let t = Instant::now();
    let r = pin_env(b, "1234", &args);
    let secs = t.elapsed().as_secs_f64();
    let apdus = log.take().unwrap();
    assert_eq!(r.code, 0, "{}", r.stderr);
    eprintln!(
        "  filled {} BAD_CARD entries card to card in {secs:.1} s ({:.1} ms/account, batched)",
        fill.len(),
        secs * 1000.0 / fill.len() as f64
    );
    let j = r.json();
    assert_eq!(j["ops"].as_array().unwrap().len(), fill.len());
    assert_eq!(j["ops"].as_array().unwrap().last().unwrap()["count"], 1200);
    // issue goal: no single APDU above ~300 ms on a J3H145 (real-card cost model), even while the
    // list fills up to 1 200: the bank's duplicate lookup walks one of 32 chains, not the list
    let prof = Profiles::builtin().unwrap();
    let n86 = apdus.iter().filter(|a| a.ins == "86").count();
    assert!(
        n86 >= 20,
        "{n86} bank 86 APDUs: the first ADD and a batch per 46 accounts"
    );
    // the batches: every bank 86 after the session's first (86 P1 00, the ADD that opens it)
    let batches: Vec<&ApduOps> = apdus
        .iter()
        .filter(|a| a.card == "branch" && a.ins == "86")
        .skip(1)
        .collect();
    for chip in &prof.chips {
        let ms = |a: &ApduOps| apdu_terms(chip, prof.transport, a).total();
        let all = apdus.iter().max_by(|x, y| ms(x).total_cmp(&ms(y))).unwrap();
        let batch = batches.iter().map(|a| ms(a)).fold(0.0, f64::max);
        eprintln!(
            "  {}: fill {:.1} s; largest APDU {} INS {} {:.0} ms; largest batch 86 P1 01 {batch:.0} ms",
            chip.id,
            estimate(&prof, chip, &apdus).total_ms / 1000.0,
            all.card,
            all.ins,
            ms(all),
        );
        if chip.id == "J3H145" {
            assert!(
                ms(all) <= 300.0,
                "{} INS {}: {:.0} ms",
                all.card,
                all.ins,
                ms(all)
            );
        }
    }
    // list: 30 pages, every account there
    let t = Instant::now();
    let r = b
        .desk
        .purse(&["--json", "admin", "bad-card", "list", "--bank", &rk]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    eprintln!(
        "  listed 1200 entries in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let j = r.json();
    assert_eq!(j["count"], 1200);
    let listed: std::collections::BTreeSet<String> = j["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["account"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed.len(), 1200);
    assert!(listed.contains(&alice.to_string()));
    assert!(fill.iter().all(|a| listed.contains(a)));
    let f = bank_files(b, "branch");
    assert_eq!(f.pages_read, 30);
    // the 1 201st is refused with advice; an account already listed is "no change"
    let extra = acct(&p, 6_999_999).to_string();
    let r = pin_env(
        b,
        "1234",
        &[
            "admin", "bad-card", "add", "--admin", &ra, "--bank", &rk, &extra,
        ],
    );
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("remove expired entries first") && r.stderr.contains("9D23"),
        "{}",
        r.stderr
    );
    let o = admin_op(
        b,
        "admin",
        "branch",
        purse::flows::admin::AdminOp::BadCardAdd { account: alice },
    )
    .unwrap();
    assert!(!o.changed && o.count == 1200, "{o:?}");
    // a batch that does not fit is refused whole by the card; the CLI retries it account by
    // account and names the one refused (alice: no change, the extra: 9D23)
    let r = pin_env(
        b,
        "1234",
        &[
            "--json",
            "admin",
            "bad-card",
            "add",
            "--admin",
            &ra,
            "--bank",
            &rk,
            &alice.to_string(),
            &fill[0],
            &extra,
        ],
    );
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    let j = r.json();
    assert_eq!(j["failed_index"], 2, "{j}");
    assert_eq!(j["error"]["sw"], "9D23", "{j}");
    assert_eq!(j["ops"].as_array().unwrap().len(), 2);
    assert_eq!(bank_files(b, "branch").count, 1200);
    // human list
    let r = b.desk.purse(&["admin", "bad-card", "list", "--bank", &rk]);
    assert!(r.stdout.contains("bad cards   1200/1200"), "{}", r.stdout);
}

fn listed_card_invalidated(b: &mut Bank) {
    let before = b.balance("alice");
    let s = sync_ok(b, "branch", "alice", DATE);
    assert!(s.invalidated, "{s:?}");
    let st = b.open("alice").get_status().unwrap();
    assert_eq!(st.life, Life::Invalidated);
    assert_eq!(st.balance, before, "balance frozen, still counted");
    // for good: no payment, no sync
    let e = b.open("alice").sync_card_init(DATE, false).unwrap_err();
    assert_eq!(sw(&e), Some(0x9D19), "{e}");
    let e = sync(b, "branch", "alice", &sync_options(DATE)).unwrap_err();
    assert!(e.to_string().contains("invalidated"), "{e}");
    let r = b.desk.purse(&["status", "-r", &b.reader("alice")]);
    assert!(r.stdout.to_lowercase().contains("invalid"), "{}", r.stdout);
    // the CLI says what happened, not "run genesis or issue"
    let rs = b.ensure(&["alice", "bob"]);
    let r = b.desk.purse(&[
        "transfer", "--from", &rs[0], "--to", &rs[1], "1.00", "--yes",
    ]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("invalidated by its bank"), "{}", r.stderr);
    assert!(!r.stderr.contains("genesis"), "{}", r.stderr);
    let reads = invalidated_reads(b, "alice", ["bob", "branch"]);
    let e = pay_card(b, "bob", "alice", 100).unwrap_err();
    assert_eq!(sw(&e), Some(0x9D19), "{e}");
    invalidated_reads(b, "alice", ["bob", "branch"]).ok();
    b.assert_conserved("after invalidation");
    assert_eq!(reads, Ok(before));
}

fn remove_only_after_expiry(b: &mut Bank) {
    let alice = b.status("alice").account;
    let mut date = b.status("center").key_date;
    let e0 = bank_files(b, "branch")
        .find(&alice)
        .expect("alice listed")
        .epochs;
    assert!(e0 < 7);
    for epoch in e0..7 {
        let e = admin_op(
            b,
            "admin",
            "branch",
            AdminOp::BadCardRemove { account: alice },
        )
        .unwrap_err();
        match e {
            AdminError::NotExpired { epochs, .. } => assert_eq!(epochs, epoch),
            other => panic!("epoch {epoch}: {other}"),
        }
        date += 1;
        epoch_down(b, date, None, &[]);
        sync_ok(b, "center", "admin", DATE);
    }
    let f = bank_files(b, "branch");
    assert!(f.find(&alice).unwrap().removable);
    let (ra, rk) = readers(b, "admin", "branch");
    let r = pin_env(
        b,
        "1234",
        &[
            "admin",
            "bad-card",
            "remove",
            "--admin",
            &ra,
            "--bank",
            &rk,
            &alice.to_string(),
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("removed"), "{}", r.stdout);
    let f = bank_files(b, "branch");
    assert_eq!(f.count, 1199);
    assert!(f.find(&alice).is_none());
    // not listed at all: said so
    let e = admin_op(
        b,
        "admin",
        "branch",
        AdminOp::BadCardRemove { account: alice },
    )
    .unwrap_err();
    assert!(matches!(e, AdminError::NotListed { .. }), "{e}");
    // the invalidated card stays invalidated
    assert_eq!(b.status("alice").life, Life::Invalidated);
}

fn range_refuses_at_sync(b: &mut Bank) {
    let p = prefix_of(b, "branch");
    let bob = b.status("bob").account;
    let serial: u32 = bob.to_string()[8..15].parse().unwrap();
    let o = admin_op(
        b,
        "admin",
        "branch",
        AdminOp::SetRange {
            low: acct(&p, serial + 1),
            high: acct(&p, 9_999_999),
        },
    )
    .unwrap();
    assert!(o.changed);
    let bal = b.balance("bob");
    // the host says so before asking the cards ...
    let e = sync(b, "branch", "bob", &sync_options(DATE)).unwrap_err();
    assert!(e.to_string().contains("does not serve"), "{e}");
    // ... and the bank card refuses by itself (9D21 at SYNC_BANK_P5), value-neutral
    let e = sync_raw(b, "branch", "bob").unwrap_err();
    assert_eq!(sw(&e), Some(0x9D21), "{e}");
    assert!(e.to_string().contains("does not serve"), "{e}");
    b.assert_clear(&["bob", "branch"], "after the refused sync");
    assert_eq!(b.balance("bob"), bal);
    b.assert_conserved("after a refused sync");
    admin_op(
        b,
        "admin",
        "branch",
        AdminOp::SetRange {
            low: acct(&p, 0),
            high: acct(&p, 9_999_999),
        },
    )
    .unwrap();
    sync_ok(b, "branch", "bob", DATE);
}

fn rate_change_changes_interest(b: &mut Bank) {
    let r1 = parse_rate("3.65").unwrap();
    let r2 = parse_rate("7.3").unwrap();
    assert_eq!(r2, 2 * r1 - 1, "7.30 % rounds to 2 × 3.65 % - 1 unit");
    let mut date = b.status("center").key_date;
    admin_op(b, "admin", "branch", AdminOp::SetRate { rate: r1 }).unwrap();
    let st = b.status("bob");
    date += 30;
    let s = epoch_down(b, date, None, &["bob"]);
    let days = (date - st.interest_date) as u32;
    let i1 = s.last().unwrap().interest;
    assert_eq!(
        i1,
        expected_interest(st.balance, r1, days),
        "bob {} × {r1:08X} × {days} days",
        st.balance
    );
    assert!(i1 > 0);
    assert_eq!(b.status("bob").interest_date, date);
    admin_op(b, "admin", "branch", AdminOp::SetRate { rate: r2 }).unwrap();
    let st = b.status("bob");
    date += 30;
    let s = epoch_down(b, date, None, &["bob"]);
    let i2 = s.last().unwrap().interest;
    assert_eq!(i2, expected_interest(st.balance, r2, 30));
    assert!(i2 > i1, "doubling the rate pays more: {i1} -> {i2}");
    assert_eq!(b.status("bob").rate, r2);
}
