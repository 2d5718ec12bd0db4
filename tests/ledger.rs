//! The bank's ledger (MISSION B5, docs/ledger.md), in a temp dir, no cards: passbooks are made
//! by a small simulator that writes entries the way the applet does (protocol.md 3.1).
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use purse::ledger::{
    self, encode_entry, encode_exception, Account, EntryFilter, EntryType, ExceptionEntry, Ledger,
    LedgerError, PassbookEntry, RawEntry, RawException, SyncExtras,
};

fn acct(serial: u8) -> Account {
    let mut d = [1u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    d[14] = serial;
    Account::from_digits15(&d).unwrap()
}

const DAY: u16 = 9500; // 2026-01-04

/// Cards with balances and passbooks, and a counter standing in for the cards' RNGs.
#[derive(Default)]
struct Sim {
    cards: HashMap<Account, (u32, Vec<PassbookEntry>)>,
    rng: u64,
}

impl Sim {
    fn fresh(&mut self) -> [u8; 8] {
        self.rng += 1;
        (0x5A00_0000_0000_0000u64 + self.rng).to_be_bytes()
    }
    fn tid(&mut self) -> [u8; 6] {
        let r = self.fresh();
        r[2..].try_into().unwrap()
    }
    fn name(a: &Account) -> String {
        format!("CARD{}", a.digits()[14])
    }
    fn card(&mut self, a: Account) -> &mut (u32, Vec<PassbookEntry>) {
        self.cards.entry(a).or_default()
    }
    fn mint(&mut self, c: Account, amount: u32, day: u16) {
        let card = self.card(c);
        card.0 += amount;
        let nb = card.0;
        card.1.push(PassbookEntry {
            account: c,
            name: "MINT".into(),
            random: [0; 8],
            date: day,
            kind: EntryType::Mint,
            amount,
            new_balance: nb,
            tid: [0; 6],
            keynum: 0,
        });
    }
    /// Payer debits; the payee is credited only if `credited`. Returns the TID.
    fn pay(
        &mut self,
        from: Account,
        to: Account,
        amount: u32,
        day: u16,
        credited: bool,
    ) -> [u8; 6] {
        let (r1, r2, tid) = (self.fresh(), self.fresh(), self.tid());
        let p = self.card(from);
        p.0 -= amount;
        let nb = p.0;
        p.1.push(PassbookEntry {
            account: to,
            name: Self::name(&to),
            random: r2,
            date: day,
            kind: EntryType::Debit,
            amount,
            new_balance: nb,
            tid,
            keynum: 7,
        });
        if credited {
            let q = self.card(to);
            q.0 += amount;
            let nb = q.0;
            q.1.push(PassbookEntry {
                account: from,
                name: Self::name(&from),
                random: r1,
                date: day,
                kind: EntryType::Credit,
                amount,
                new_balance: nb,
                tid,
                keynum: 7,
            });
        }
        tid
    }
    fn book(&self, a: Account) -> Vec<RawEntry> {
        self.cards[&a].1.iter().map(encode_entry).collect()
    }
    fn clear(&mut self, a: Account) {
        self.card(a).1.clear();
    }
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn count(lg: &Ledger, table: &str) -> i64 {
    lg.connection()
        .query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

fn store(lg: &mut Ledger, bank: Account, card: Account, book: &[RawEntry]) -> ledger::StoreReport {
    lg.store_collection(&bank, &card, book, &SyncExtras::default())
        .unwrap()
}

/// Store `card`'s passbook, confirm the clear, clear it in the simulator.
fn sync(sim: &mut Sim, lg: &mut Ledger, bank: Account, card: Account) -> ledger::StoreReport {
    let rep = store(lg, bank, card, &sim.book(card));
    lg.confirm_cleared(rep.sync_id).unwrap();
    sim.clear(card);
    rep
}

#[test]
fn entry_bytes_round_trip_and_split() {
    let mut sim = Sim::default();
    let (a, b) = (acct(1), acct(2));
    sim.mint(a, 1000, DAY);
    sim.pay(a, b, 250, DAY + 1, true);
    for raw in sim.book(a).iter().chain(sim.book(b).iter()) {
        let e = PassbookEntry::parse(raw).unwrap();
        assert_eq!(&encode_entry(&e), raw);
    }
    let raw = sim.book(a)[1];
    assert_eq!(raw[26], 0x01);
    assert_eq!(&raw[27..31], &250u32.to_be_bytes());
    assert_eq!(&raw[31..35], &750u32.to_be_bytes());
    let all: Vec<u8> = sim.book(a).concat();
    assert_eq!(ledger::split_entries(&all).unwrap(), sim.book(a));
    assert!(ledger::split_entries(&all[1..]).is_err());
    let x = ExceptionEntry {
        tid: [1, 2, 3, 4, 5, 6],
        amount: 42,
        account: b,
        date: DAY,
        reason: 1,
        passbook_index: 3,
    };
    assert_eq!(ExceptionEntry::parse(&encode_exception(&x)).unwrap(), x);
    assert_eq!(ledger::parse_day("2026-01-04").unwrap(), 9500);
    assert_eq!(ledger::parse_day("9500").unwrap(), 9500);
    assert!(ledger::parse_day("2026-02-30").is_err());
    assert_eq!(ledger::parse_account(&a.to_string()).unwrap(), a);
    let sig = Account([0xAB; 8]);
    assert_eq!(ledger::account_text(&sig), "sig:ABABABABABABABAB");
    assert_eq!(ledger::parse_account("sig:ABABABABABABABAB").unwrap(), sig);
}

#[test]
fn store_twice_stores_once() {
    let dir = tmp();
    let path = dir.path().join("sub/ledger.sqlite");
    let mut lg = Ledger::open(&path).unwrap();
    let (bank, a, b) = (acct(9), acct(1), acct(2));
    let mut sim = Sim::default();
    sim.mint(a, 1000, DAY);
    sim.pay(a, b, 300, DAY, true);
    sim.pay(b, a, 50, DAY + 1, true);

    let r1 = store(&mut lg, bank, a, &sim.book(a));
    assert_eq!(
        (
            r1.entries_collected,
            r1.entries_new,
            r1.entries_already_stored
        ),
        (3, 3, 0)
    );
    // The sync failed after storing (card not cleared): the retry stores nothing new.
    let r2 = store(&mut lg, bank, a, &sim.book(a));
    assert_eq!((r2.entries_new, r2.entries_already_stored), (0, 3));
    assert_eq!(r2.passbook_epoch, r1.passbook_epoch);
    assert_eq!(count(&lg, "passbook_entries"), 3);
    assert_eq!(count(&lg, "syncs"), 2);

    // Meanwhile the card paid once more: only that entry is new.
    sim.pay(a, b, 10, DAY + 2, true);
    let r3 = store(&mut lg, bank, a, &sim.book(a));
    assert_eq!((r3.entries_new, r3.entries_already_stored), (1, 3));
    assert_eq!(count(&lg, "passbook_entries"), 4);

    // Reopening the file: same content, schema not recreated.
    drop(lg);
    let lg = Ledger::open(&path).unwrap();
    assert_eq!(count(&lg, "passbook_entries"), 4);
    let v: i64 = lg
        .connection()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, ledger::schema::SCHEMA_VERSION);
    // cards: bank, a, and b (seen as a counterparty)
    assert_eq!(count(&lg, "cards"), 3);
}

#[test]
fn after_a_clear_the_next_passbook_is_a_new_epoch() {
    let dir = tmp();
    let mut lg = Ledger::open(dir.path().join("l.sqlite")).unwrap();
    let (bank, c) = (acct(9), acct(0));
    let mut sim = Sim::default();
    sim.mint(c, 500, DAY);
    let r1 = sync(&mut sim, &mut lg, bank, c);
    lg.confirm_cleared(r1.sync_id).unwrap(); // idempotent
                                             // Same bytes again at index 0 (same amount, same day, same resulting balance): it is a new
                                             // entry of a new passbook, not a retry.
    sim.cards.get_mut(&c).unwrap().0 = 0;
    sim.mint(c, 500, DAY);
    let r2 = store(&mut lg, bank, c, &sim.book(c));
    assert_eq!(r2.passbook_epoch, r1.passbook_epoch + 1);
    assert_eq!(r2.entries_new, 1);
    assert_eq!(count(&lg, "passbook_entries"), 2);
    assert!(matches!(
        lg.confirm_cleared(9999),
        Err(LedgerError::NoSuchSync(9999))
    ));
}

#[test]
fn failed_store_leaves_nothing() {
    let dir = tmp();
    let path = dir.path().join("l.sqlite");
    let mut lg = Ledger::open(&path).unwrap();
    let (bank, a, b) = (acct(9), acct(1), acct(2));
    let mut sim = Sim::default();
    sim.mint(a, 1000, DAY);
    for i in 0..4 {
        sim.pay(a, b, 10 + i, DAY, true);
    }
    // A disk error, simulated: the third entry's INSERT fails, after two rows went in.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TRIGGER boom BEFORE INSERT ON passbook_entries WHEN NEW.entry_index = 2
             BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;",
        )
        .unwrap();
    }
    let err = lg
        .store_collection(&bank, &a, &sim.book(a), &SyncExtras::default())
        .unwrap_err();
    assert!(err.to_string().contains("simulated failure"), "{err}");
    for t in ["passbook_entries", "syncs", "cards", "exceptions"] {
        assert_eq!(count(&lg, t), 0, "{t} after rollback");
    }
    // Same with a failure at the very end (the exception log goes in last).
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "DROP TRIGGER boom;
             CREATE TRIGGER boom BEFORE INSERT ON exceptions
             BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;",
        )
        .unwrap();
    }
    let exc: Vec<RawException> = vec![encode_exception(&ExceptionEntry {
        tid: [9; 6],
        amount: 5,
        account: b,
        date: DAY,
        reason: 1,
        passbook_index: 1,
    })];
    let extras = SyncExtras {
        exceptions: &exc,
        ..Default::default()
    };
    assert!(lg
        .store_collection(&bank, &a, &sim.book(a), &extras)
        .is_err());
    for t in ["passbook_entries", "syncs", "cards", "exceptions"] {
        assert_eq!(count(&lg, t), 0, "{t} after rollback");
    }
    // Without the fault everything goes in, exceptions included, once.
    lg.connection().execute_batch("DROP TRIGGER boom").unwrap();
    let r = lg
        .store_collection(&bank, &a, &sim.book(a), &extras)
        .unwrap();
    assert_eq!((r.entries_new, r.exceptions_new), (5, 1));
    let r = lg
        .store_collection(&bank, &a, &sim.book(a), &extras)
        .unwrap();
    assert_eq!((r.entries_new, r.exceptions_new), (0, 0));
    assert_eq!(lg.exceptions(Some(&a)).unwrap().len(), 1);
    // Decoded records (as the card module returns them) are the same entries.
    let decoded: Vec<PassbookEntry> = sim
        .book(a)
        .iter()
        .map(|r| PassbookEntry::parse(r).unwrap())
        .collect();
    let xs: Vec<ExceptionEntry> = exc
        .iter()
        .map(|r| ExceptionEntry::parse(r).unwrap())
        .collect();
    let r = lg
        .store_decoded(&bank, &a, &decoded, &xs, &SyncExtras::default())
        .unwrap();
    assert_eq!(
        (r.entries_new, r.entries_already_stored, r.exceptions_new),
        (0, 5, 0)
    );
    // A bank cannot collect itself.
    assert!(matches!(
        lg.store_collection(&a, &a, &[], &SyncExtras::default()),
        Err(LedgerError::Invalid(_))
    ));
}

#[test]
fn entries_by_account_and_date() {
    let dir = tmp();
    let mut lg = Ledger::open(dir.path().join("l.sqlite")).unwrap();
    let (bank, a, b) = (acct(9), acct(1), acct(2));
    let mut sim = Sim::default();
    sim.mint(a, 1000, DAY);
    for d in 1..=5u16 {
        sim.pay(a, b, d as u32, DAY + d, true);
    }
    store(&mut lg, bank, a, &sim.book(a));
    store(&mut lg, bank, b, &sim.book(b));
    assert_eq!(lg.entries(&EntryFilter::default()).unwrap().len(), 11);
    let only_a = lg
        .entries(&EntryFilter {
            account: Some(a),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(only_a.len(), 6);
    assert!(only_a.iter().all(|e| e.card_account == a.to_string()));
    let f = EntryFilter {
        account: Some(a),
        from: Some(DAY + 2),
        to: Some(DAY + 4),
        include_superseded: false,
    };
    let v = lg.entries(&f).unwrap();
    assert_eq!(
        v.iter().map(|e| e.amount).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    assert_eq!(v.iter().map(|e| e.index).collect::<Vec<_>>(), vec![2, 3, 4]);
    assert_eq!(v[0].date, "2026-01-06");
    assert_eq!(v[0].kind, EntryType::Debit);
    assert_eq!(v[0].counterparty, b.to_string());
    assert_eq!(v[0].counterparty_name, "CARD2");
    let on_b = lg
        .entries(&EntryFilter {
            account: Some(b),
            from: Some(DAY + 5),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(on_b.len(), 1);
    assert_eq!(on_b[0].kind, EntryType::Credit);
}

#[test]
fn refunded_debit_rewritten_in_place_supersedes_the_debit() {
    let dir = tmp();
    let mut lg = Ledger::open(dir.path().join("l.sqlite")).unwrap();
    let (bank, a, b) = (acct(9), acct(1), acct(2));
    let mut sim = Sim::default();
    sim.mint(a, 1000, DAY);
    sim.pay(a, b, 100, DAY, false); // pending: b never credited
    store(&mut lg, bank, a, &sim.book(a)); // sync fails after storing
                                           // b NACKs, a refunds: the DEBIT becomes DEBIT_REFUNDED in place, balance back to 1000.
    {
        let card = sim.card(a);
        card.1[1].kind = EntryType::DebitRefunded;
        card.0 += 100;
    }
    let r = store(&mut lg, bank, a, &sim.book(a));
    assert_eq!(
        (r.entries_new, r.entries_already_stored, r.entries_rewritten),
        (1, 1, 1)
    );
    assert_eq!(r.index_conflicts, 0);
    let v = lg
        .entries(&EntryFilter {
            account: Some(a),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(v[1].kind, EntryType::DebitRefunded);
    let all = lg
        .entries(&EntryFilter {
            account: Some(a),
            include_superseded: true,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(all.len(), 3);
    // The refund is part of the rebuilt balance.
    assert_eq!(lg.rebuild(&a).unwrap().balance, 1000);
}

#[test]
fn rebuild_a_dead_card() {
    let dir = tmp();
    let mut lg = Ledger::open(dir.path().join("l.sqlite")).unwrap();
    let (bank, c, a, b) = (acct(9), acct(0), acct(1), acct(2));
    let mut sim = Sim::default();
    sim.mint(c, 5000, DAY);
    sim.pay(c, a, 1000, DAY, true);
    sim.pay(c, b, 1000, DAY, true);
    sim.pay(a, b, 150, DAY + 1, true);
    sync(&mut sim, &mut lg, bank, a); // a's last sync: balance 850
    sync(&mut sim, &mut lg, bank, c);
    // After that a keeps trading, then dies in the washing machine.
    sim.pay(a, b, 200, DAY + 3, true); // b credited: certain -200
    sim.pay(b, a, 70, DAY + 4, true); // b debited: likely +70
    sim.pay(b, a, 30, DAY + 5, false); // b debited, a never credited; b later refunded (06)
    sim.card(b).1.last_mut().unwrap().kind = EntryType::DebitRefunded;
    sync(&mut sim, &mut lg, bank, b);
    let real = sim.cards[&a].0;
    assert_eq!(real, 850 - 200 + 70);

    let r = lg.rebuild(&a).unwrap();
    assert_eq!(r.own_entries, 2);
    assert_eq!(r.base_balance, 850);
    assert!(r.chain_breaks.is_empty(), "{:?}", r.chain_breaks);
    assert_eq!(r.adjustments.len(), 2, "{:?}", r.adjustments);
    assert_eq!(r.balance, real as i64);
    assert_eq!(r.balance_certain, 650);
    assert!(r.adjustments.iter().all(|x| !x.before_last_own_entry));
    // A card never collected: only what others saw.
    let never = lg.rebuild(&acct(5)).unwrap();
    assert_eq!((never.own_entries, never.balance), (0, 0));
}

#[test]
fn reconcile_finds_the_unmatched_debit() {
    let dir = tmp();
    let mut lg = Ledger::open(dir.path().join("l.sqlite")).unwrap();
    let (bank, a, b, d) = (acct(9), acct(1), acct(2), acct(4));
    let mut sim = Sim::default();
    sim.mint(a, 1000, DAY);
    sim.mint(d, 10, DAY);
    sim.pay(a, b, 100, DAY, true);
    let lost = sim.pay(a, d, 50, DAY, false); // debited, never credited
    sim.pay(b, a, 20, DAY, true);
    for x in [a, b, d] {
        sync(&mut sim, &mut lg, bank, x);
    }
    let r = lg.reconcile().unwrap();
    assert_eq!((r.debits_checked, r.debits_matched), (3, 2));
    assert_eq!((r.credits_checked, r.credits_matched), (2, 2));
    assert_eq!(r.unmatched.len(), 1, "{:?}", r.unmatched);
    let u = &r.unmatched[0];
    assert_eq!(u.side, "debit");
    assert_eq!(u.entry.card_account, a.to_string());
    assert_eq!(u.entry.counterparty, d.to_string());
    assert_eq!(
        u.entry.tid.as_deref(),
        Some(hex::encode_upper(lost).as_str())
    );
    assert!(u.counterparty_collected);
}

#[test]
fn exception_reconciled_against_the_payee() {
    let dir = tmp();
    let mut lg = Ledger::open(dir.path().join("l.sqlite")).unwrap();
    let (bank, a, b) = (acct(9), acct(1), acct(2));
    let mut sim = Sim::default();
    sim.mint(a, 1000, DAY);
    // The payer gave up (07), but a hostile host still got the payee credited.
    let tid = sim.pay(a, b, 40, DAY, true);
    sim.card(a).1[1].kind = EntryType::Exception;
    let exc = [encode_exception(&ExceptionEntry {
        tid,
        amount: 40,
        account: b,
        date: DAY,
        reason: 1,
        passbook_index: 1,
    })];
    let extras = SyncExtras {
        exceptions: &exc,
        ..Default::default()
    };
    lg.store_collection(&bank, &a, &sim.book(a), &extras)
        .unwrap();
    store(&mut lg, bank, b, &sim.book(b));
    let r = lg.reconcile().unwrap();
    assert_eq!(r.exceptions.len(), 1);
    assert!(r.exceptions[0].credited);
    let f = lg.fraud_flags().unwrap();
    assert!(f.iter().any(|x| x.kind == "credited_exception"), "{f:?}");
}

#[test]
fn fraud_flags() {
    let dir = tmp();
    let mut lg = Ledger::open(dir.path().join("l.sqlite")).unwrap();
    let (bank, a, b, e) = (acct(9), acct(1), acct(2), acct(3));
    let mut sim = Sim::default();
    sim.mint(a, 1000, DAY);
    sim.pay(a, b, 100, DAY, true);
    sim.pay(a, e, 100, DAY, true);
    store(&mut lg, bank, a, &sim.book(a));
    store(&mut lg, bank, b, &sim.book(b));
    assert!(
        lg.fraud_flags().unwrap().is_empty(),
        "{:?}",
        lg.fraud_flags().unwrap()
    );
    // e's credit carries the same payer random as b's: a replayed or forged session.
    let b_credit = sim.cards[&b].1[0].clone();
    sim.card(e).1[0].random = b_credit.random;
    // ...and e's balance chain skips a step, and e minted although it is a user card.
    let dup = PassbookEntry {
        new_balance: 999,
        ..sim.cards[&e].1[0].clone()
    };
    sim.card(e).1.push(dup);
    sim.mint(e, 1, DAY);
    let extras = SyncExtras {
        card_role: Some(4),
        ..Default::default()
    };
    lg.store_collection(&bank, &e, &sim.book(e), &extras)
        .unwrap();
    let f = lg.fraud_flags().unwrap();
    let kinds: Vec<&str> = f.iter().map(|x| x.kind).collect();
    assert!(kinds.contains(&"random_reused"), "{kinds:?}");
    assert!(kinds.contains(&"tid_reused"), "{kinds:?}");
    assert!(kinds.contains(&"balance_chain_break"), "{kinds:?}");
    assert!(kinds.contains(&"mint_off_center"), "{kinds:?}");
}

#[test]
fn newer_schema_is_refused() {
    let dir = tmp();
    let path = dir.path().join("l.sqlite");
    drop(Ledger::open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    assert!(matches!(
        Ledger::open(&path),
        Err(LedgerError::TooNew { found: 99, .. })
    ));
}

fn purse(path: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_purse"))
        .args(args)
        .env("PURSE_LEDGER", path)
        .env("HOME", path.parent().unwrap())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(path: &Path, args: &[&str]) -> serde_json::Value {
    let (rc, out, err) = purse(path, args);
    assert_eq!(rc, 0, "purse {args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("purse {args:?}: {e}: {out}"))
}

#[test]
fn cli_json_and_text() {
    let dir = tmp();
    let path = dir.path().join("cli.sqlite");
    let mut lg = Ledger::open(&path).unwrap();
    let (bank, a, b, d) = (acct(9), acct(1), acct(2), acct(4));
    let mut sim = Sim::default();
    sim.mint(a, 1000, DAY);
    sim.pay(a, b, 100, DAY + 1, true);
    sim.pay(a, d, 50, DAY + 2, false);
    store(&mut lg, bank, a, &sim.book(a));
    store(&mut lg, bank, b, &sim.book(b));
    drop(lg);
    let (acc, p) = (a.to_string(), path.as_path());

    let v = json(p, &["ledger", "--json"]);
    assert_eq!(v["count"], 4);
    let v = json(
        p,
        &[
            "ledger",
            "--account",
            &acc,
            "--from",
            "2026-01-05",
            "--to",
            "9506",
            "--json",
        ],
    );
    assert_eq!(v["count"], 2);
    assert_eq!(v["entries"][0]["type"], "DEBIT");
    assert_eq!(v["entries"][0]["amount"], 100);
    assert_eq!(v["entries"][0]["new_balance"], 900);
    assert_eq!(v["entries"][0]["date"], "2026-01-05");
    let v = json(p, &["ledger", "reconcile", "--json"]);
    assert_eq!(v["unmatched"].as_array().unwrap().len(), 1);
    assert_eq!(v["unmatched"][0]["entry"]["counterparty"], d.to_string());
    assert_eq!(v["unmatched"][0]["counterparty_collected"], false);
    let v = json(p, &["ledger", "rebuild", &acc, "--json"]);
    assert_eq!(v["balance"], 850);
    let v = json(p, &["ledger", "flags", "--json"]);
    assert_eq!(v["count"], 0);
    let v = json(p, &["ledger", "syncs", &acc, "--json"]);
    assert_eq!(v["count"], 1);
    assert_eq!(v["syncs"][0]["entries_new"], 3);
    assert_eq!(v["syncs"][0]["cleared"], false);
    // --ledger wins over PURSE_LEDGER; a read command never creates the file (exit 2).
    let other = dir.path().join("other/l.sqlite");
    let (rc, _, err) = purse(p, &["ledger", "--ledger", other.to_str().unwrap(), "--json"]);
    assert_eq!(rc, 2, "{err}");
    assert!(err.contains("no ledger at"), "{err}");
    assert!(!other.exists() && !dir.path().join("other").exists());

    let (rc, out, _) = purse(p, &["ledger", "--account", &acc]);
    assert_eq!(rc, 0);
    assert!(out.contains("DEBIT") && out.contains("3 entries"), "{out}");
    let (rc, out, _) = purse(p, &["ledger", "reconcile"]);
    assert_eq!(rc, 0);
    assert!(out.contains("UNMATCHED debit"), "{out}");
    let (rc, _, err) = purse(p, &["ledger", "--account", "12", "--json"]);
    assert_ne!(rc, 0);
    assert!(err.contains("bad account"), "{err}");
    let (rc, _, _) = purse(p, &["ledger", "--from", "2026-02-30"]);
    assert_ne!(rc, 0);
}
