//! The bank's ledger (MISSION B5, docs/ledger.md), no cards: passbooks are made by a small
//! simulator that writes entries the way the applet does (protocol.md 3.1). Every test that
//! touches a ledger runs on both engines: `sqlite::NAME` (a file in a temp dir) and
//! `postgres::NAME` (a fresh database on a private PostgreSQL cluster, tests/pgtest).
use std::collections::HashMap;
use std::process::Command;

use purse::ledger::{
    self, encode_entry, encode_exception, Account, EntryFilter, EntryType, ExceptionEntry, Ledger,
    LedgerError, PassbookEntry, RawEntry, RawException, SyncExtras,
};

mod pgtest;
use pgtest::{Kind, Place};

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

fn count(lg: &Ledger, table: &str) -> i64 {
    lg.count_rows(table).unwrap()
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

fn store_twice_stores_once(kind: Kind) {
    let place = Place::new(kind);
    let mut lg = place.open();
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

    // Reopening the ledger: same content, schema not recreated.
    drop(lg);
    let lg = place.open();
    assert_eq!(count(&lg, "passbook_entries"), 4);
    assert_eq!(lg.schema_version().unwrap(), ledger::schema::SCHEMA_VERSION);
    // cards: bank, a, and b (seen as a counterparty)
    assert_eq!(count(&lg, "cards"), 3);
}

fn after_a_clear_the_next_passbook_is_a_new_epoch(kind: Kind) {
    let place = Place::new(kind);
    let mut lg = place.open();
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

fn failed_store_leaves_nothing(kind: Kind) {
    let place = Place::new(kind);
    let mut lg = place.open();
    let (bank, a, b) = (acct(9), acct(1), acct(2));
    let mut sim = Sim::default();
    sim.mint(a, 1000, DAY);
    for i in 0..4 {
        sim.pay(a, b, 10 + i, DAY, true);
    }
    // A disk error, simulated: the third entry's INSERT fails, after two rows went in.
    place.sql(
        "CREATE TRIGGER boom BEFORE INSERT ON passbook_entries WHEN NEW.entry_index = 2
         BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;",
        "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'simulated failure'; END $$;
         CREATE TRIGGER boom BEFORE INSERT ON passbook_entries FOR EACH ROW
           WHEN (NEW.entry_index = 2) EXECUTE FUNCTION boom();",
    );
    let err = lg
        .store_collection(&bank, &a, &sim.book(a), &SyncExtras::default())
        .unwrap_err();
    assert!(err.to_string().contains("simulated failure"), "{err}");
    for t in ["passbook_entries", "syncs", "cards", "exceptions"] {
        assert_eq!(count(&lg, t), 0, "{t} after rollback");
    }
    // Same with a failure at the very end (the exception log goes in last).
    place.sql(
        "DROP TRIGGER boom;
         CREATE TRIGGER boom BEFORE INSERT ON exceptions
         BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;",
        "DROP TRIGGER boom ON passbook_entries;
         CREATE TRIGGER boom BEFORE INSERT ON exceptions FOR EACH ROW EXECUTE FUNCTION boom();",
    );
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
    place.sql("DROP TRIGGER boom", "DROP TRIGGER boom ON exceptions");
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

fn entries_by_account_and_date(kind: Kind) {
    let place = Place::new(kind);
    let mut lg = place.open();
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

fn refunded_debit_rewritten_in_place_supersedes_the_debit(kind: Kind) {
    let place = Place::new(kind);
    let mut lg = place.open();
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

fn rebuild_a_dead_card(kind: Kind) {
    let place = Place::new(kind);
    let mut lg = place.open();
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

fn reconcile_finds_the_unmatched_debit(kind: Kind) {
    let place = Place::new(kind);
    let mut lg = place.open();
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

fn exception_reconciled_against_the_payee(kind: Kind) {
    let place = Place::new(kind);
    let mut lg = place.open();
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

fn fraud_flags(kind: Kind) {
    let place = Place::new(kind);
    let mut lg = place.open();
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

fn newer_schema_is_refused(kind: Kind) {
    let place = Place::new(kind);
    drop(place.open());
    place.sql(
        "PRAGMA user_version = 99",
        "UPDATE purse_schema SET version = 99",
    );
    assert!(matches!(
        Ledger::open(place.location()),
        Err(LedgerError::TooNew { found: 99, .. })
    ));
}

fn purse(place: &Place, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_purse"))
        .args(args)
        .env("PURSE_LEDGER", place.location())
        .env("HOME", place.dir.path())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(path: &Place, args: &[&str]) -> serde_json::Value {
    let (rc, out, err) = purse(path, args);
    assert_eq!(rc, 0, "purse {args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("purse {args:?}: {e}: {out}"))
}

fn cli_json_and_text(kind: Kind) {
    let mut place = Place::new(kind);
    let mut lg = place.open();
    let (bank, a, b, d) = (acct(9), acct(1), acct(2), acct(4));
    let mut sim = Sim::default();
    sim.mint(a, 1000, DAY);
    sim.pay(a, b, 100, DAY + 1, true);
    sim.pay(a, d, 50, DAY + 2, false);
    store(&mut lg, bank, a, &sim.book(a));
    store(&mut lg, bank, b, &sim.book(b));
    drop(lg);
    let other = place.another("other");
    let (acc, p) = (a.to_string(), &place);

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
    assert_eq!(v["entries"][0]["amount_minor"], 100);
    assert_eq!(v["entries"][0]["new_balance_minor"], 900);
    assert_eq!(v["entries"][0]["date"], "2026-01-05");
    let v = json(p, &["ledger", "reconcile", "--json"]);
    assert_eq!(v["unmatched"].as_array().unwrap().len(), 1);
    assert_eq!(v["unmatched"][0]["entry"]["counterparty"], d.to_string());
    assert_eq!(v["unmatched"][0]["counterparty_collected"], false);
    let v = json(p, &["ledger", "rebuild", &acc, "--json"]);
    assert_eq!(v["balance_minor"], 850);
    let v = json(p, &["ledger", "flags", "--json"]);
    assert_eq!(v["count"], 0);
    let v = json(p, &["ledger", "syncs", &acc, "--json"]);
    assert_eq!(v["count"], 1);
    assert_eq!(v["syncs"][0]["entries_new"], 3);
    assert_eq!(v["syncs"][0]["cleared"], false);
    // --ledger wins over PURSE_LEDGER; a read command never creates the file, nor the tables
    // in an empty database (exit 2); the writer (`purse sync`, Ledger::open) creates them.
    let (rc, _, err) = purse(p, &["ledger", "--ledger", &other, "--json"]);
    assert_eq!(rc, 2, "{err}");
    match kind {
        Kind::Sqlite => {
            assert!(err.contains("no ledger at"), "{err}");
            let f = std::path::Path::new(&other);
            assert!(!f.exists() && !f.parent().unwrap().exists());
        }
        Kind::Postgres => assert!(err.contains("not a ledger"), "{err}"),
    }
    let lg = Ledger::open(&other).unwrap();
    assert_eq!(lg.schema_version().unwrap(), ledger::schema::SCHEMA_VERSION);
    drop(lg);
    let v = json(p, &["ledger", "--ledger", &other, "--json"]);
    assert_eq!(v["count"], 0);

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

/// Reading a ledger: `Ledger::open_read_only` on either engine (SQLite: the file read-only;
/// PostgreSQL: a session whose transactions are all read-only) reads what the writer stored,
/// including the card_status table, and cannot write; `purse ledger check` runs the ledger's
/// consistency checks on both, and on PostgreSQL says the SQLite page check was skipped.
fn read_only_open_check_and_card_status(kind: Kind) {
    let place = Place::new(kind);
    let mut lg = place.open();
    let (bank, a, b) = (acct(9), acct(1), acct(2));
    let mut sim = Sim::default();
    sim.mint(a, 1000, DAY);
    sim.pay(a, b, 100, DAY + 1, true);
    let rep = store(&mut lg, bank, a, &sim.book(a));
    drop(lg);
    let ins = format!(
        "INSERT INTO card_status (sync_id, account, at, role, name, currency, decimals, balance, key_date)
         VALUES ({}, '{a}', 1700000000, 3, 'alice', 978, 2, 900, {DAY})",
        rep.sync_id
    );
    place.sql(&ins, &ins);

    let mut ro = Ledger::open_read_only(place.location()).unwrap();
    assert_eq!(ro.engine(), lg_engine(kind));
    assert_eq!(ro.entries(&EntryFilter::default()).unwrap().len(), 2);
    let st = ro.card_statuses().unwrap();
    assert_eq!(st.len(), 1);
    assert_eq!(
        (
            st[0].account.as_str(),
            st[0].currency,
            st[0].decimals,
            st[0].balance
        ),
        (a.to_string().as_str(), 978, 2, 900)
    );
    assert_eq!(ro.known_cards().unwrap().len(), 3);
    let r = ro.check().unwrap();
    assert!(r.ok, "{:?}", r.problems);
    assert_eq!(r.skipped.is_some(), kind == Kind::Postgres);
    // nothing can be written through a read-only ledger, on either engine
    let more = sim.book(b);
    assert!(ro
        .store_collection(&bank, &b, &more, &SyncExtras::default())
        .is_err());
    drop(ro);
    assert_eq!(count(&place.open(), "passbook_entries"), 2);

    let (rc, out, err) = purse(&place, &["ledger", "check"]);
    assert_eq!(rc, 0, "{out}{err}");
    assert!(
        out.contains("2 entries") && out.contains("consistent"),
        "{out}"
    );
    assert_eq!(
        out.contains(
            "not checked: the file check (SQLite integrity_check) does not apply to PostgreSQL"
        ),
        kind == Kind::Postgres,
        "{out}"
    );
    let v = json(&place, &["ledger", "--account", &a.to_string(), "--json"]);
    assert!(
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["amount"] == "10.00"),
        "{v}"
    );
    assert_eq!(v["currency"]["currency"], "EUR", "{v}");
    // a tampered entry is found on both engines
    place.sql(
        "UPDATE passbook_entries SET amount = amount + 1 WHERE id = (SELECT MIN(id) FROM passbook_entries)",
        "UPDATE passbook_entries SET amount = amount + 1 WHERE id = (SELECT MIN(id) FROM passbook_entries)",
    );
    let (rc, out, _) = purse(&place, &["ledger", "check"]);
    assert_eq!(rc, 1, "{out}");
    assert!(out.contains("raw_mismatch"), "{out}");
}

fn lg_engine(kind: Kind) -> ledger::Engine {
    match kind {
        Kind::Sqlite => ledger::Engine::Sqlite,
        Kind::Postgres => ledger::Engine::Postgres,
    }
}

/// Several purses store syncs at once: every card's passbook is stored by four writers at the
/// same moment (a retried sync racing its first attempt), cards of different writers pay each
/// other (their rows are locked across transactions), and each round ends with the clear.
/// Each entry is stored exactly once: one writer reports it new, the others already stored.
fn concurrent_writers_store_each_entry_once(kind: Kind) {
    let place = Place::new(kind);
    drop(place.open());
    let bank = acct(9);
    let cards: Vec<Account> = (0..8).map(acct).collect();
    let mut sim = Sim::default();
    for &c in &cards {
        sim.mint(c, 100_000, DAY);
    }
    const WRITERS: usize = 4;
    let mut expected = 0usize;
    let mut stored = 0usize;
    for round in 0..3u16 {
        for i in 0..40usize {
            let (a, b) = (cards[i % 8], cards[(i * 3 + 1 + round as usize) % 8]);
            if a != b {
                sim.pay(a, b, 1 + i as u32, DAY + round, true);
            }
        }
        let books: Vec<(Account, Vec<RawEntry>)> =
            cards.iter().map(|&c| (c, sim.book(c))).collect();
        expected += books.iter().map(|(_, b)| b.len()).sum::<usize>();
        let barrier = std::sync::Barrier::new(WRITERS);
        let results: Vec<Vec<(Account, ledger::StoreReport)>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..WRITERS)
                .map(|w| {
                    let (books, barrier, loc) = (&books, &barrier, place.location());
                    s.spawn(move || {
                        let mut lg = Ledger::open(loc).unwrap();
                        barrier.wait();
                        // Each writer goes through the cards in its own order.
                        let mut order: Vec<usize> = (0..books.len()).collect();
                        order.rotate_left(w * 3 % books.len());
                        if w % 2 == 1 {
                            order.reverse();
                        }
                        order
                            .into_iter()
                            .map(|k| {
                                let (c, book) = &books[k];
                                let r = lg
                                    .store_collection(&bank, c, book, &SyncExtras::default())
                                    .unwrap_or_else(|e| panic!("writer {w}: {e}"));
                                (*c, r)
                            })
                            .collect()
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut lg = place.open();
        for &c in &cards {
            let reps: Vec<&ledger::StoreReport> = results
                .iter()
                .flatten()
                .filter(|(a, _)| *a == c)
                .map(|(_, r)| r)
                .collect();
            assert_eq!(reps.len(), WRITERS);
            let n = sim.book(c).len();
            let new: usize = reps.iter().map(|r| r.entries_new).sum();
            assert_eq!(
                new, n,
                "card {c} round {round}: new entries over all writers"
            );
            for r in &reps {
                assert_eq!(r.entries_new + r.entries_already_stored, n);
                assert_eq!(r.index_conflicts, 0);
            }
            stored += new;
            // The clear, confirmed by every writer (idempotent: the epoch moves once).
            for r in &reps {
                lg.confirm_cleared(r.sync_id).unwrap();
            }
            sim.clear(c);
        }
        assert_eq!(count(&lg, "passbook_entries") as usize, expected);
        assert_eq!(
            count(&lg, "syncs") as usize,
            (round as usize + 1) * 8 * WRITERS
        );
        assert_eq!(
            lg.syncs(Some(&cards[0]))
                .unwrap()
                .last()
                .unwrap()
                .passbook_epoch,
            round as i64
        );
    }
    assert_eq!(stored, expected);
    let lg = place.open();
    let r = lg.reconcile().unwrap();
    assert!(r.unmatched.is_empty(), "{:?}", r.unmatched);
    assert_eq!(r.debits_matched, r.debits_checked);
    assert!(lg.fraud_flags().unwrap().is_empty());
}

/// The set-based reconcile gives exactly what the per-entry search it replaced gave, on a
/// generated ledger with every case: matched pairs, partners not collected yet, refunded and
/// given-up debits with exception logs, interest pairs, entries without TID (matched by day
/// and not), a DEBIT superseded by its rewrite, a retried sync.
fn reconcile_same_as_reference_on_generated_ledger(kind: Kind) {
    use purse::ledger::bench::{generate, Shape};
    let place = Place::new(kind);
    let mut lg = place.open();
    let mut colls = Vec::new();
    generate(&Shape::for_entries(2000), |c| {
        colls.push(c);
        Ok(())
    })
    .unwrap();
    for (i, c) in colls.iter().enumerate() {
        // One sync in 7 never reached the ledger: its partners stay unmatched.
        if i % 7 == 3 {
            continue;
        }
        let extras = SyncExtras {
            exceptions: &c.exceptions,
            card_role: Some(c.card_role),
            bank_role: Some(c.bank_role),
            at: Some(c.at),
            ..Default::default()
        };
        let r = lg
            .store_collection(&c.bank, &c.card, &c.entries, &extras)
            .unwrap();
        if i % 11 == 0 {
            // retried
            let again = lg
                .store_collection(&c.bank, &c.card, &c.entries, &extras)
                .unwrap();
            assert_eq!(again.entries_new, 0);
        }
        lg.confirm_cleared(r.sync_id).unwrap();
    }
    // Entries without TID: one pair matched by accounts, amount and day, one debit alone; and
    // a DEBIT collected before the card rewrote it as refunded.
    let (bank, a, b, d) = (acct(9), acct(1), acct(2), acct(4));
    let mut sim = Sim::default();
    sim.mint(a, 1000, DAY);
    sim.pay(a, b, 10, DAY, true);
    sim.pay(a, d, 20, DAY, true);
    for c in [a, b, d] {
        for e in &mut sim.card(c).1 {
            e.tid = [0; 6];
        }
    }
    sim.card(d).1.clear(); // d never credited that one
    sim.pay(a, b, 30, DAY + 1, false);
    store(&mut lg, bank, a, &sim.book(a));
    {
        let card = sim.card(a);
        card.1.last_mut().unwrap().kind = EntryType::DebitRefunded;
        card.0 += 30;
    }
    assert_eq!(store(&mut lg, bank, a, &sim.book(a)).entries_rewritten, 1);
    store(&mut lg, bank, b, &sim.book(b));
    // A payer that gave up (07 + exception log); the payee never credited.
    let e = acct(5);
    sim.mint(e, 100, DAY);
    let tid = sim.pay(e, d, 40, DAY, false);
    sim.card(e).1[1].kind = EntryType::Exception;
    let exc = [encode_exception(&ExceptionEntry {
        tid,
        amount: 40,
        account: d,
        date: DAY,
        reason: 1,
        passbook_index: 1,
    })];
    let extras = SyncExtras {
        exceptions: &exc,
        ..Default::default()
    };
    lg.store_collection(&bank, &e, &sim.book(e), &extras)
        .unwrap();

    let new = lg.reconcile().unwrap();
    let old = lg.reconcile_reference().unwrap();
    assert_eq!(new, old);
    assert!(new.debits_checked > 500, "{}", new.debits_checked);
    assert!(new.unmatched.len() > 10, "{}", new.unmatched.len());
    assert!(new.unmatched.iter().any(|u| u.side == "credit"));
    assert!(new.unmatched.iter().any(|u| u.entry.tid.is_none()));
    assert!(!new.exceptions.is_empty());
    assert!(new.exceptions.iter().any(|x| !x.credited));
}

/// The benchmark's direct load leaves the same rows as storing the syncs one by one.
fn bench_load_equals_store(kind: Kind) {
    use purse::ledger::bench::{generate, Shape};
    let mut place = Place::new(kind);
    let other = place.another("loaded");
    let mut colls = Vec::new();
    generate(&Shape::for_entries(2000), |c| {
        colls.push(c);
        Ok(())
    })
    .unwrap();
    let mut stored = place.open();
    for c in &colls {
        let extras = SyncExtras {
            exceptions: &c.exceptions,
            card_role: Some(c.card_role),
            card_name: Some(c.card_name.clone()),
            bank_role: Some(c.bank_role),
            at: Some(c.at),
            ..Default::default()
        };
        let r = stored
            .store_collection(&c.bank, &c.card, &c.entries, &extras)
            .unwrap();
        stored.confirm_cleared(r.sync_id).unwrap();
    }
    let mut loaded = Ledger::open(&other).unwrap();
    assert!(loaded.load_generated(&colls[..colls.len() / 3]).unwrap() > 0);
    loaded.load_generated(&colls[colls.len() / 3..]).unwrap();
    let strip = |lg: &Ledger| -> Vec<String> {
        lg.entries(&EntryFilter::default())
            .unwrap()
            .into_iter()
            .map(|e| {
                format!(
                    "{} {} {} {} {}",
                    e.card_account, e.bank_account, e.passbook_epoch, e.index, e.raw
                )
            })
            .collect()
    };
    let s = strip(&stored);
    assert!(s.len() >= 2000);
    assert_eq!(s, strip(&loaded));
    for t in ["cards", "syncs", "exceptions"] {
        assert_eq!(count(&stored, t), count(&loaded, t), "{t}");
    }
    let (x, y) = (stored.reconcile().unwrap(), loaded.reconcile().unwrap());
    assert_eq!(
        (x.debits_checked, x.unmatched.len()),
        (y.debits_checked, y.unmatched.len())
    );
}

/// Reconcile's match query reads the match index alone (SQLite's plan; PostgreSQL picks its
/// join by statistics, see docs/ledger.md), not a walk of one card's entries nor a fetch of
/// every entry's row: the scan and the partner probe both on the covering index, rows read by
/// id for the unmatched only.
#[test]
fn sqlite_reconcile_plan_uses_the_match_index() {
    let place = Place::new(Kind::Sqlite);
    let lg = place.open();
    let plan = lg.reconcile_plan().unwrap().join("\n");
    assert!(
        plan.matches("USING COVERING INDEX pe_match").count() >= 2,
        "{plan}"
    );
    assert!(plan.contains("pe_card_day"), "{plan}");
    assert!(plan.contains("INTEGER PRIMARY KEY (rowid=?)"), "{plan}");
    assert!(!plan.contains("SCAN e"), "{plan}");
    assert!(
        !plan.contains("sqlite_autoindex_passbook_entries"),
        "{plan}"
    );
}

/// A version 1 file (before the match index and card_status) is migrated when opened.
#[test]
fn sqlite_version_1_ledger_is_migrated() {
    let place = Place::new(Kind::Sqlite);
    let mut lg = place.open();
    let mut sim = Sim::default();
    sim.mint(acct(1), 10, DAY);
    store(&mut lg, acct(9), acct(1), &sim.book(acct(1)));
    drop(lg);
    place.sql(
        "DROP INDEX pe_match; CREATE INDEX pe_tid ON passbook_entries(tid); DROP TABLE card_status; PRAGMA user_version = 1;",
        "",
    );
    let lg = place.open();
    assert_eq!(lg.schema_version().unwrap(), ledger::schema::SCHEMA_VERSION);
    assert_eq!(count(&lg, "card_status"), 0);
    assert_eq!(count(&lg, "passbook_entries"), 1);
    let idx: Vec<String> = lg
        .with_sqlite(|c| {
            let mut st = c
                .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'pe_%' ORDER BY name")
                .unwrap();
            let v = st.query_map([], |r| r.get(0)).unwrap().map(|x| x.unwrap()).collect();
            v
        })
        .unwrap();
    assert_eq!(
        idx,
        ["pe_card_day", "pe_counterparty", "pe_match", "pe_random"]
    );
    // version 4: the match index covers what reconcile reads
    let cols: Vec<String> = lg
        .with_sqlite(|c| {
            let mut st = c
                .prepare("SELECT name FROM pragma_index_info('pe_match') ORDER BY seqno")
                .unwrap();
            let v = st
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(|x| x.unwrap())
                .collect();
            v
        })
        .unwrap();
    assert_eq!(
        cols,
        [
            "tid",
            "card_account",
            "counterparty",
            "amount",
            "type",
            "superseded_by"
        ]
    );
}

/// A PostgreSQL URL is recognised, shown without its password, and a server that is not
/// there is a clear error (no file named like the URL is created).
#[test]
fn postgres_url_shown_without_password_and_unreachable_server() {
    assert!(ledger::is_postgres_url("postgres://u@h/db"));
    assert!(ledger::is_postgres_url("postgresql://u@h/db"));
    assert!(!ledger::is_postgres_url("/tmp/postgres.sqlite"));
    assert_eq!(
        ledger::redact_url("postgres://bank:s3cret@db.example:5432/purse?password=x&host=h"),
        "postgres://bank:***@db.example:5432/purse?password=***&host=h"
    );
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "postgres://bank:s3cret@/purse?host={}&connect_timeout=2",
        dir.path().display()
    );
    let e = Ledger::open(&url).err().expect("no server there");
    let msg = e.to_string();
    assert!(matches!(e, LedgerError::Connect { .. }), "{msg}");
    assert!(!msg.contains("s3cret"), "{msg}");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

engine_tests!(
    store_twice_stores_once,
    after_a_clear_the_next_passbook_is_a_new_epoch,
    failed_store_leaves_nothing,
    entries_by_account_and_date,
    refunded_debit_rewritten_in_place_supersedes_the_debit,
    rebuild_a_dead_card,
    reconcile_finds_the_unmatched_debit,
    exception_reconciled_against_the_payee,
    fraud_flags,
    newer_schema_is_refused,
    cli_json_and_text,
    read_only_open_check_and_card_status,
    concurrent_writers_store_each_entry_once,
    reconcile_same_as_reference_on_generated_ledger,
    bench_load_equals_store,
);
