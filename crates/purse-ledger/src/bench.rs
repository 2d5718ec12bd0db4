//! Realistic ledger data, and what the benchmark (`purse ledger bench`) and the tests do with
//! it. [`generate`] simulates a bank's cards the way transfers and syncs fill passbooks: the
//! center mints to branches; branches pay users out (DEBIT on the branch, CREDIT on the user,
//! one TID); users pay merchants (a few busy ones take most payments) and each other; a card
//! whose passbook is full syncs with its bank, which pays interest (INTEREST_OUT on the bank
//! card, INTEREST_IN on the card, one TID); one payment in 500 is refunded after a NACK (06)
//! and one in 500 given up (07, with its exception-log entry). What is still on the cards at
//! the end is not in the ledger, as in life: reconcile finds those partners missing.
//! Deterministic (a seeded generator), no card involved.
use std::collections::HashMap;

use super::{
    account_text, encode_entry, encode_exception, is_account_number, Account, EntryType,
    ExceptionEntry, Ledger, PassbookEntry, RawEntry, RawException, Result, ENTRY_COLS,
};

/// One sync as the simulation produced it: what `store_collection` receives.
#[derive(Clone, Debug)]
pub struct Collection {
    pub bank: Account,
    pub bank_role: u8,
    pub card: Account,
    pub card_role: u8,
    pub card_name: String,
    pub entries: Vec<RawEntry>,
    pub exceptions: Vec<RawException>,
    pub interest_paid: u32,
    /// Unix seconds.
    pub at: i64,
    /// Passbook epoch of this collection (syncs of this card before it).
    pub epoch: i64,
}

/// Size and shape of the simulated bank.
#[derive(Clone, Debug)]
pub struct Shape {
    /// Stop once this many entries were collected.
    pub entries: usize,
    pub branches: usize,
    pub users: usize,
    pub merchants: usize,
    pub seed: u64,
}

impl Shape {
    /// A bank sized for `entries`: one user per 200 entries (each user syncs several
    /// times), one merchant per 20 users, one branch per 500 users.
    pub fn for_entries(entries: usize) -> Shape {
        let users = (entries / 200).max(20);
        Shape {
            entries,
            branches: (users / 500).max(2),
            users,
            merchants: (users / 20).max(3),
            seed: 1,
        }
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

struct Card {
    account: Account,
    role: u8,
    name: String,
    bank: usize,
    balance: u32,
    book: Vec<PassbookEntry>,
    exceptions: Vec<ExceptionEntry>,
    epoch: i64,
    /// The card syncs once its passbook holds this many entries (drawn again at each sync:
    /// holders visit the branch at their own pace; at most a full passbook).
    sync_at: usize,
}

const FULL: usize = 50;
const BASE_DAY: u16 = 9500;
const BASE_TIME: i64 = 1_767_484_800; // 2026-01-04

struct World {
    cards: Vec<Card>,
    rng: Rng,
    tids: u64,
    day: u16,
    collected: usize,
    target: usize,
}

fn account(kind: u8, serial: usize) -> Account {
    let mut d = [0u8; 15];
    d[..6].copy_from_slice(&[4, 9, 0, 0, 1, kind]);
    let mut s = serial;
    for i in (6..15).rev() {
        d[i] = (s % 10) as u8;
        s /= 10;
    }
    // 15 digits in range: from_digits15 only fails on a digit > 9.
    Account::from_digits15(&d).unwrap_or(Account([0; 8]))
}

impl World {
    fn tid(&mut self) -> [u8; 6] {
        // A bijection of a counter onto 48 bits: unique, and spread like real TIDs.
        self.tids += 1;
        let t = self.tids.wrapping_mul(0x5DEE_CE66_D1CE_4E5B) & 0xFFFF_FFFF_FFFF;
        let b = t.to_be_bytes();
        [b[2], b[3], b[4], b[5], b[6], b[7]]
    }
    fn random(&mut self) -> [u8; 8] {
        let mut r = self.rng.next().to_be_bytes();
        if r == [0; 8] {
            r[7] = 1;
        }
        r
    }
    fn entry(&mut self, on: usize, other: usize, kind: EntryType, amount: u32, tid: [u8; 6]) {
        let random = self.random();
        let (acc, name) = (self.cards[other].account, self.cards[other].name.clone());
        let c = &mut self.cards[on];
        match kind {
            EntryType::Credit | EntryType::InterestIn | EntryType::Mint => c.balance += amount,
            _ => c.balance -= amount,
        }
        c.book.push(PassbookEntry {
            account: acc,
            name,
            random,
            date: self.day,
            kind,
            amount,
            new_balance: c.balance,
            tid,
            keynum: 1,
        });
    }

    /// Sync card `i` with its bank if its passbook is full (the bank first, if its own is).
    fn sync_if_full<F: FnMut(Collection) -> Result<()>>(
        &mut self,
        i: usize,
        out: &mut F,
    ) -> Result<()> {
        if self.cards[i].book.len() + 2 < self.cards[i].sync_at {
            return Ok(());
        }
        let b = self.cards[i].bank;
        if b != i {
            self.sync_if_full(b, out)?;
        }
        let next_sync_at = 8 + (self.rng.next() % (FULL as u64 - 7)) as usize;
        let c = &mut self.cards[i];
        let entries: Vec<RawEntry> = c.book.drain(..).map(|e| encode_entry(&e)).collect();
        let exceptions: Vec<RawException> = c
            .exceptions
            .drain(..)
            .map(|x| encode_exception(&x))
            .collect();
        self.collected += entries.len();
        let epoch = c.epoch;
        c.epoch += 1;
        c.sync_at = next_sync_at;
        let (card, card_role, card_name) = (c.account, c.role, c.name.clone());
        let bank = &self.cards[b];
        out(Collection {
            bank: if b == i { account(9, 0) } else { bank.account },
            bank_role: if b == i { 5 } else { bank.role },
            card,
            card_role,
            card_name,
            entries,
            exceptions,
            interest_paid: 0,
            at: BASE_TIME + (self.day - BASE_DAY) as i64 * 86_400,
            epoch,
        })?;
        // Interest for the synced card, written after the clear (P6), paid by its bank.
        if b != i && self.cards[i].balance > 1000 && self.cards[b].balance > 10_000 {
            let amount = self.cards[i].balance / 500 + 1;
            let tid = self.tid();
            self.entry(b, i, EntryType::InterestOut, amount, tid);
            self.entry(i, b, EntryType::InterestIn, amount, tid);
        }
        Ok(())
    }

    fn pay<F: FnMut(Collection) -> Result<()>>(
        &mut self,
        from: usize,
        to: usize,
        amount: u32,
        out: &mut F,
    ) -> Result<()> {
        self.sync_if_full(from, out)?;
        self.sync_if_full(to, out)?;
        let tid = self.tid();
        let fate = self.rng.below(500);
        self.entry(from, to, EntryType::Debit, amount, tid);
        match fate {
            // NACK: the payee refused, the payer's DEBIT becomes DEBIT_REFUNDED, money back.
            0 => {
                let c = &mut self.cards[from];
                if let Some(e) = c.book.last_mut() {
                    e.kind = EntryType::DebitRefunded;
                }
                c.balance += amount;
            }
            // The payer gave up (resume --give-up): EXCEPTION in place and in the log.
            1 => {
                let to_acc = self.cards[to].account;
                let day = self.day;
                let c = &mut self.cards[from];
                let idx = c.book.len() - 1;
                c.book[idx].kind = EntryType::Exception;
                c.exceptions.push(ExceptionEntry {
                    tid,
                    amount,
                    account: to_acc,
                    date: day,
                    reason: 1,
                    passbook_index: idx as u8,
                });
            }
            _ => self.entry(to, from, EntryType::Credit, amount, tid),
        }
        Ok(())
    }
}

/// Simulate `shape` and hand every collection, in order, to `out`.
pub fn generate(shape: &Shape, mut out: impl FnMut(Collection) -> Result<()>) -> Result<()> {
    let mut w = World {
        cards: Vec::new(),
        rng: Rng(shape.seed),
        tids: shape.seed << 40,
        day: BASE_DAY,
        collected: 0,
        target: shape.entries,
    };
    let card = |account, role, name: String, bank| Card {
        account,
        role,
        name,
        bank,
        balance: 0,
        book: Vec::new(),
        exceptions: Vec::new(),
        epoch: 0,
        sync_at: FULL,
    };
    w.cards.push(card(account(1, 1), 1, "CENTER".into(), 0));
    for b in 0..shape.branches {
        w.cards
            .push(card(account(3, b + 1), 3, format!("BR{b}"), 0));
    }
    let first_user = w.cards.len();
    for u in 0..shape.users {
        let bank = 1 + u % shape.branches;
        w.cards
            .push(card(account(4, u + 1), 4, format!("U{u}"), bank));
    }
    let first_merchant = w.cards.len();
    for m in 0..shape.merchants {
        let bank = 1 + m % shape.branches;
        w.cards
            .push(card(account(7, m + 1), 4, format!("SHOP{m}"), bank));
    }
    let out = &mut out;
    let mut steps = 0u64;
    while w.collected < w.target {
        steps += 1;
        if steps % 2000 == 0 {
            w.day += 1;
        }
        let u = first_user + w.rng.below(shape.users);
        let b = w.cards[u].bank;
        if w.cards[u].balance < 500 {
            if w.cards[b].balance < 100_000 {
                w.sync_if_full(0, out)?;
                w.sync_if_full(b, out)?;
                let tid = [0; 6];
                w.entry(0, 0, EntryType::Mint, 1_000_000, tid);
                // The center's MINT, then a transfer of it to the branch.
                w.pay(0, b, 1_000_000, out)?;
            }
            w.pay(b, u, 5_000, out)?;
            continue;
        }
        let amount = 1 + w.rng.below(400) as u32;
        let r = w.rng.below(10);
        if r < 7 {
            // Busy merchants: half of the payments go to the first tenth of the merchants.
            let n = shape.merchants;
            let m = if w.rng.below(2) == 0 {
                w.rng.below((n / 10).max(1))
            } else {
                w.rng.below(n)
            };
            w.pay(u, first_merchant + m, amount, out)?;
        } else if r < 9 {
            let v = first_user + w.rng.below(shape.users);
            if v != u {
                w.pay(u, v, amount, out)?;
            }
        } else {
            // A merchant banks its takings at its branch.
            let m = first_merchant + w.rng.below(shape.merchants);
            let mb = w.cards[m].bank;
            let amt = w.cards[m].balance / 2;
            if amt > 0 {
                w.pay(m, mb, amt, out)?;
            }
        }
    }
    Ok(())
}

/// `INSERT INTO {head} VALUES (...), (...) {tail}` for `rows` of `width` values, in
/// statements of at most 500 rows (within both engines' parameter limits).
fn insert_rows(
    tx: &mut super::db::Ex<'_, '_>,
    head: &str,
    tail: &str,
    width: usize,
    rows: &[super::db::Val],
) -> Result<()> {
    for chunk in rows.chunks(500 * width) {
        let mut sql = format!("INSERT INTO {head} VALUES ");
        for r in 0..chunk.len() / width {
            if r > 0 {
                sql.push(',');
            }
            sql.push('(');
            for c in 0..width {
                if c > 0 {
                    sql.push(',');
                }
                sql += &format!("?{}", r * width + c + 1);
            }
            sql.push(')');
        }
        sql += tail;
        tx.execute(&sql, chunk)?;
    }
    Ok(())
}

struct CardRow {
    role: Option<u8>,
    name: Option<String>,
    first: i64,
    last: i64,
    epoch: i64,
}

impl Ledger {
    /// Load generated collections straight into the ledger (the benchmark's 10^5 / 10^6
    /// ledgers): the rows `store_collection` + `confirm_cleared` would leave, written in one
    /// transaction of multi-row INSERTs (sync ids assigned here) instead of one transaction and
    /// some 20 statements per sync. For a ledger that holds nothing of these cards yet (the
    /// epochs are the generator's).
    pub fn load_generated(&mut self, colls: &[Collection]) -> Result<usize> {
        use super::db::Val;
        let engine = self.db.engine();
        self.db.write(|tx| {
            let base = tx
                .query_one("SELECT COALESCE(MAX(id), 0) FROM syncs", &[])?
                .int(0)?;
            let mut cards: HashMap<String, CardRow> = HashMap::new();
            let mut syncs: Vec<Val> = Vec::new();
            let mut entries: Vec<Val> = Vec::new();
            let mut excs: Vec<Val> = Vec::new();
            let mut n = 0;
            for (k, c) in colls.iter().enumerate() {
                let sync_id = base + 1 + k as i64;
                let (bank, card) = (account_text(&c.bank), account_text(&c.card));
                let mut own = |acc: &str, role: u8, name: Option<&str>, epoch: Option<i64>| {
                    let r = cards.entry(acc.to_owned()).or_insert(CardRow {
                        role: None,
                        name: None,
                        first: c.at,
                        last: c.at,
                        epoch: 0,
                    });
                    r.role = Some(role);
                    if name.is_some() {
                        r.name = name.map(str::to_owned);
                    }
                    r.first = r.first.min(c.at);
                    r.last = r.last.max(c.at);
                    if let Some(e) = epoch {
                        r.epoch = r.epoch.max(e);
                    }
                };
                own(&bank, c.bank_role, None, None);
                own(&card, c.card_role, Some(&c.card_name), Some(c.epoch + 1));
                syncs.extend(super::db::vals![
                    sync_id,
                    c.at,
                    &bank,
                    &card,
                    c.epoch,
                    c.entries.len() as i64,
                    c.entries.len() as i64,
                    c.exceptions.len() as i64,
                    c.exceptions.len() as i64,
                    c.interest_paid as i64,
                    1i64
                ]);
                for (i, raw) in c.entries.iter().enumerate() {
                    let e = PassbookEntry::parse(raw)
                        .map_err(|e| super::LedgerError::BadEntry(e.0))?;
                    if is_account_number(&e.account) && e.account != c.card {
                        cards
                            .entry(account_text(&e.account))
                            .or_insert(CardRow {
                                role: None,
                                name: Some(e.name.clone()),
                                first: c.at,
                                last: c.at,
                                epoch: 0,
                            });
                    }
                    entries.extend(super::entry_vals(&bank, &card, c.epoch, i, raw, &e, sync_id));
                }
                for raw in &c.exceptions {
                    let x = ExceptionEntry::parse(raw)
                        .map_err(|e| super::LedgerError::BadEntry(e.0))?;
                    excs.extend(super::exception_vals(&bank, &card, raw, &x, sync_id));
                }
                n += c.entries.len();
            }
            let mut rows: Vec<(String, CardRow)> = cards.into_iter().collect();
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            let mut cv: Vec<Val> = Vec::new();
            for (acc, r) in rows {
                let issuer = acc.get(..6).filter(|_| !acc.starts_with("sig:")).map(str::to_owned);
                cv.extend(super::db::vals![
                    acc,
                    r.role.map(|x| x as i64),
                    r.name,
                    issuer,
                    r.first,
                    r.last,
                    r.epoch
                ]);
            }
            insert_rows(
                tx,
                "cards (account, role, name, issuer, first_seen, last_seen, passbook_epoch)",
                " ON CONFLICT (account) DO UPDATE SET
                     role = COALESCE(excluded.role, cards.role),
                     name = CASE WHEN excluded.role IS NOT NULL
                                 THEN COALESCE(excluded.name, cards.name)
                                 ELSE COALESCE(cards.name, excluded.name) END,
                     first_seen = CASE WHEN excluded.first_seen < cards.first_seen
                                       THEN excluded.first_seen ELSE cards.first_seen END,
                     last_seen = CASE WHEN excluded.last_seen > cards.last_seen
                                      THEN excluded.last_seen ELSE cards.last_seen END,
                     passbook_epoch = CASE WHEN excluded.passbook_epoch > cards.passbook_epoch
                                 THEN excluded.passbook_epoch ELSE cards.passbook_epoch END",
                7,
                &cv,
            )?;
            insert_rows(
                tx,
                "syncs (id, at, bank_account, card_account, passbook_epoch, entries_collected,
                    entries_new, exceptions_collected, exceptions_new, interest_paid, cleared)",
                "",
                11,
                &syncs,
            )?;
            insert_rows(tx, &format!("passbook_entries ({ENTRY_COLS})"), "", 16, &entries)?;
            insert_rows(
                tx,
                &format!("exceptions ({})", super::EXCEPTION_COLS),
                "",
                10,
                &excs,
            )?;
            if engine == super::Engine::Postgres {
                // The ids were given here: move the identity past them.
                tx.query(
                    "SELECT setval(pg_get_serial_sequence('syncs', 'id'), (SELECT MAX(id) FROM syncs))",
                    &[],
                )?;
            }
            Ok(n)
        })
    }
}

/// Where the benchmark makes its scratch ledgers.
#[derive(Clone, Debug)]
pub enum Target {
    /// SQLite files in this directory.
    Sqlite(std::path::PathBuf),
    /// Databases created (and dropped after) on the PostgreSQL server of this URL; its user
    /// needs CREATEDB.
    Postgres(String),
}

impl Target {
    pub fn engine(&self) -> super::Engine {
        match self {
            Target::Sqlite(_) => super::Engine::Sqlite,
            Target::Postgres(_) => super::Engine::Postgres,
        }
    }

    /// A fresh, empty ledger location named `name`.
    pub fn fresh(&self, name: &str) -> Result<String> {
        match self {
            Target::Sqlite(dir) => {
                let p = dir.join(format!("{name}.sqlite"));
                for ext in ["", "-journal"] {
                    let f = std::path::PathBuf::from(format!("{}{ext}", p.display()));
                    if f.exists() {
                        std::fs::remove_file(&f).map_err(|err| super::LedgerError::Dir {
                            path: f.clone(),
                            err,
                        })?;
                    }
                }
                Ok(p.display().to_string())
            }
            Target::Postgres(url) => {
                let db = format!("purse_bench_{name}");
                let mut c = postgres::Client::connect(url, postgres::NoTls).map_err(|err| {
                    super::LedgerError::Connect {
                        url: super::redact_url(url),
                        err,
                    }
                })?;
                // Two calls: DROP/CREATE DATABASE cannot share a transaction block.
                c.batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))?;
                c.batch_execute(&format!("CREATE DATABASE {db}"))?;
                Ok(with_db(url, &db))
            }
        }
    }

    /// Remove a scratch ledger made by `fresh`.
    pub fn remove(&self, name: &str) -> Result<()> {
        match self {
            Target::Sqlite(dir) => {
                let _ = std::fs::remove_file(dir.join(format!("{name}.sqlite")));
                Ok(())
            }
            Target::Postgres(url) => {
                let mut c = postgres::Client::connect(url, postgres::NoTls)?;
                c.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS purse_bench_{name} WITH (FORCE)"
                ))?;
                Ok(())
            }
        }
    }
}

/// `url` with its database name replaced by `db`.
pub fn with_db(url: &str, db: &str) -> String {
    let Some(p) = url.find("://") else {
        return url.to_owned();
    };
    let (scheme, rest) = url.split_at(p + 3);
    let q = rest.find('?').unwrap_or(rest.len());
    let (before_q, query) = rest.split_at(q);
    let host = before_q.split('/').next().unwrap_or("");
    format!("{scheme}{host}/{db}{query}")
}

/// One measured figure.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Figure {
    pub engine: &'static str,
    /// `ingest`, `load`, `reconcile`, `ledger --account`, `open + check`.
    pub what: &'static str,
    /// Entries in the ledger (ingest: entries stored).
    pub entries: usize,
    /// Concurrent writers (ingest only).
    pub writers: usize,
    pub seconds: f64,
    /// Entries per second (ingest, load).
    pub per_second: Option<f64>,
    /// What the step returned (rows listed, unmatched found), to see it did the work.
    pub result: String,
}

/// Ingest: `writers` threads, each with its own connection (like separate purse processes),
/// store the generated syncs of their share of the cards, one `store_collection` +
/// `confirm_cleared` per sync, all at once into one fresh ledger. Checks every entry was
/// stored exactly once.
pub fn ingest(target: &Target, entries: usize, writers: usize) -> Result<Figure> {
    let name = format!("ingest_{writers}");
    let loc = target.fresh(&name)?;
    drop(Ledger::open(&loc)?); // schema first, so the timing is of the writes
    let mut colls = Vec::new();
    // 16 branches, so that up to 16 writers each serve their own (as `purse serve` would).
    let shape = Shape {
        branches: 16,
        ..Shape::for_entries(entries)
    };
    generate(&shape, |c| {
        colls.push(c);
        Ok(())
    })?;
    // Syncs dealt to the writers by bank card (a branch's syncs on one writer); the syncs of
    // one card always have the same bank, so they stay in order.
    let mut owner: HashMap<Account, usize> = HashMap::new();
    let mut shares: Vec<Vec<&Collection>> = vec![Vec::new(); writers];
    for c in &colls {
        let k = owner.len();
        let w = *owner.entry(c.bank).or_insert(k % writers);
        shares[w].push(c);
    }
    let total: usize = colls.iter().map(|c| c.entries.len()).sum();
    let t0 = std::time::Instant::now();
    let stored: Vec<Result<usize>> = std::thread::scope(|s| {
        let hs: Vec<_> = shares
            .iter()
            .map(|share| {
                let loc = &loc;
                s.spawn(move || -> Result<usize> {
                    let mut lg = Ledger::open(loc)?;
                    let mut n = 0;
                    for c in share {
                        let rep = lg.store_collection(
                            &c.bank,
                            &c.card,
                            &c.entries,
                            &super::SyncExtras {
                                exceptions: &c.exceptions,
                                interest_paid: c.interest_paid,
                                card_role: Some(c.card_role),
                                card_name: Some(c.card_name.clone()),
                                bank_role: Some(c.bank_role),
                                bank_name: None,
                                at: Some(c.at),
                            },
                        )?;
                        lg.confirm_cleared(rep.sync_id)?;
                        n += rep.entries_new;
                    }
                    Ok(n)
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(super::LedgerError::Invalid(
                        "a writer thread panicked".into(),
                    ))
                })
            })
            .collect()
    });
    let secs = t0.elapsed().as_secs_f64();
    let mut new = 0;
    for r in stored {
        new += r?;
    }
    let rows = Ledger::open(&loc)?.count_rows("passbook_entries")? as usize;
    if new != total || rows != total {
        return Err(super::LedgerError::Invalid(format!(
            "ingest stored {new} new entries, {rows} rows, for {total} collected"
        )));
    }
    target.remove(&name)?;
    Ok(Figure {
        engine: target.engine().name(),
        what: "ingest",
        entries: total,
        writers,
        seconds: secs,
        per_second: Some(total as f64 / secs),
        result: format!("{} syncs, each entry stored once", colls.len()),
    })
}

/// A ledger of `entries` generated entries, loaded directly; then the time of `reconcile` and
/// of `ledger --account` for the busiest card (a merchant). `keep`: leave the ledger.
pub fn queries(target: &Target, entries: usize, keep: bool) -> Result<Vec<Figure>> {
    let name = format!("size_{entries}");
    let loc = target.fresh(&name)?;
    let mut lg = Ledger::open(&loc)?;
    let engine = target.engine().name();
    let t0 = std::time::Instant::now();
    let mut chunk = Vec::new();
    let mut loaded = 0;
    generate(&Shape::for_entries(entries), |c| {
        chunk.push(c);
        if chunk.len() >= 2000 {
            loaded += lg.load_generated(&chunk)?;
            chunk.clear();
        }
        Ok(())
    })?;
    loaded += lg.load_generated(&chunk)?;
    if engine == "postgres" {
        // What autovacuum would do soon after a bulk load: planner statistics.
        lg.db.plain(|ex| ex.batch("ANALYZE"))?;
    }
    let load_s = t0.elapsed().as_secs_f64();
    let mut figs = vec![Figure {
        engine,
        what: "load",
        entries: loaded,
        writers: 1,
        seconds: load_s,
        per_second: Some(loaded as f64 / load_s),
        result: "generated syncs written directly (multi-row INSERTs)".into(),
    }];
    let t = std::time::Instant::now();
    let r = lg.reconcile()?;
    figs.push(Figure {
        engine,
        what: "reconcile",
        entries: loaded,
        writers: 1,
        seconds: t.elapsed().as_secs_f64(),
        per_second: None,
        result: format!(
            "{} debits, {} credits checked, {} unmatched, {} exceptions",
            r.debits_checked,
            r.credits_checked,
            r.unmatched.len(),
            r.exceptions.len()
        ),
    });
    let busiest = account(7, 1);
    let t = std::time::Instant::now();
    let v = lg.entries(&super::EntryFilter {
        account: Some(busiest),
        ..Default::default()
    })?;
    figs.push(Figure {
        engine,
        what: "ledger --account",
        entries: loaded,
        writers: 1,
        seconds: t.elapsed().as_secs_f64(),
        per_second: None,
        result: format!(
            "{} entries of the busiest card {}",
            v.len(),
            account_text(&busiest)
        ),
    });
    drop(lg);
    // What every read command (`purse ledger ...`) does before its work: the read-only open
    // and the check of the file and of every entry (`check_quick`).
    let t = std::time::Instant::now();
    let ro = Ledger::open_read_only(&loc)?;
    let q = ro.check_quick()?;
    figs.push(Figure {
        engine,
        what: "open + check",
        entries: loaded,
        writers: 1,
        seconds: t.elapsed().as_secs_f64(),
        per_second: None,
        result: format!(
            "{} entries checked, {} problem(s)",
            q.entries,
            q.problems.len()
        ),
    });
    drop(ro);
    if !keep {
        target.remove(&name)?;
    }
    Ok(figs)
}
