//! The bank fixture of the money tests: one private desk per test binary (the PC/SC client
//! library reads PCSCLITE_CSOCK_NAME once per process), a bank built with the library's genesis /
//! issue / mint flows, and helpers to pay, read and check the conservation invariant of
//! protocol.md 6.4.
//!
//! Each binary has ONE #[test] that runs its named cases in order through [`run_cases`], which
//! catches each case's panic, prints PASS/FAIL per case and fails at the end naming every failed
//! case (a local TestDesk is dropped properly, so no pcscd or card process outlives the test).

use std::collections::BTreeMap;
use std::time::Duration;

use purse_card::card::{CardError, PurseCard};
use purse_card::flows::genesis::{genesis, GenesisParams};
use purse_card::flows::issue::{issue, IssueParams};
use purse_card::flows::mint::mint;
use purse_card::flows::resume::{self, ResumeOptions, ResumeReport};
use purse_card::flows::transfer::{
    self as xfer, RunOptions, Secrets, TransferError, TransferReport,
};
use purse_card::transport::CardIo;
use purse_pcsc::{Connection, Pcsc};
use purse_proto::consts::{Role, Suite};
use purse_proto::types::{encode_name, Currency, Pending, Status};

use super::desk::TestDesk;

pub const PURSE_CLASS: &str = "org.purse.applet.Purse";
pub const PURSE_AID: &str = "F0707572736501";
pub const PIN: &[u8] = b"1234";
pub const TXKEY: &[u8] = b"tx-key-1";
pub const CREATION: &[u8] = b"create-money";
pub const APPROVAL: &[u8] = b"approve-it";
/// Dev AES transport key (protocol.md 5.1): cards created without install params.
pub const DEV_TK: &[u8] = b"purse-dev-transp";
pub const DATE: u16 = 9500;
/// User cards: MIN_TRANS 5.00, MAX_TRANS 50.00 (EUR, 2 decimals).
pub const USER_MIN: u32 = 500;
pub const USER_MAX: u32 = 5000;

pub fn secrets() -> Secrets {
    Secrets {
        pin: Some(PIN.to_vec()),
        txkey: Some(TXKEY.to_vec()),
        approval: Some(APPROVAL.to_vec()),
    }
}

pub fn no_resume() -> RunOptions {
    RunOptions {
        auto_resume: false,
        expect_payee: None,
    }
}

/// A desk with a bank on it. The desk has two slots (vpcd: one reader.conf entry); cards live
/// as images and are inserted on demand (least recently used slot is swapped out). A card out of
/// a reader cannot change, so its last view is cached for the conservation invariant.
pub struct Bank {
    pub desk: TestDesk,
    pub pcsc: Pcsc,
    /// card names that exist
    pub cards: BTreeMap<String, ()>,
    /// slot -> card inserted, reader name, last use tick
    slots: std::cell::RefCell<Vec<(Option<String>, String, u64)>>,
    tick: std::cell::Cell<u64>,
    /// last view of each card (balance, pending, exception total)
    views: std::cell::RefCell<BTreeMap<String, View>>,
    /// Cards of this system (for the invariant), by name.
    pub system: Vec<String>,
    pub minted: u64,
    /// Value held by retired (pulled for good) cards.
    pub retired_value: u64,
}

/// What the invariant needs from one card.
#[derive(Clone, Debug)]
pub struct View {
    pub balance: u32,
    pub pending: Pending,
    pub exceptions: u64,
}

/// Issuance options.
#[derive(Clone, Debug)]
pub struct CardOpts {
    pub min: u32,
    pub max: u32,
    pub bad_key_limit: u8,
    pub txkey: bool,
}

impl CardOpts {
    /// A bank or admin card's options: no amount limits, BAD_KEY limit 255, with or without a
    /// transaction key.
    pub fn bank(txkey: bool) -> CardOpts {
        CardOpts {
            min: 0,
            max: u32::MAX,
            bad_key_limit: 255,
            txkey,
        }
    }
}

impl Default for CardOpts {
    fn default() -> Self {
        CardOpts {
            min: USER_MIN,
            max: USER_MAX,
            bad_key_limit: 10,
            txkey: true,
        }
    }
}

impl Bank {
    /// A desk with `slots` slots and a center card "center" (keys first_key..first_key+3).
    pub fn start(_slots: u32, first_key: u8) -> Bank {
        Bank::start_on(2, first_key)
    }

    /// Like [`Bank::start`] on a desk of `slots` slots (more cards inserted at once).
    pub fn start_on(slots: u32, first_key: u8) -> Bank {
        let desk = TestDesk::start(slots.max(2));
        std::env::set_var("PCSCLITE_CSOCK_NAME", desk.socket());
        let pcsc = Pcsc::establish().expect("PC/SC context on the desk");
        let st: serde_json::Value =
            serde_json::from_str(&desk.ok(&["--json", "desk", "status"])).unwrap();
        let slots = st["slots"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (None, s["reader"].as_str().unwrap().to_string(), 0))
            .collect();
        let mut b = Bank {
            desk,
            pcsc,
            cards: BTreeMap::new(),
            slots: std::cell::RefCell::new(slots),
            tick: std::cell::Cell::new(1),
            views: std::cell::RefCell::new(BTreeMap::new()),
            system: Vec::new(),
            minted: 0,
            retired_value: 0,
        };
        b.blank("center");
        let mut c = b.open("center");
        let p = GenesisParams {
            suite: Suite::Aes128,
            issuer_id: [0x10, 0x00, 0x00],
            name: encode_name("BANK").unwrap(),
            currency: Currency::parse("EUR", None).unwrap(),
            min_trans: 0,
            max_trans: u32::MAX,
            date: DATE,
            bad_key_limit: 255,
            first_keynum: first_key,
            pin: PIN.to_vec(),
            txkey: TXKEY.to_vec(),
            creation: CREATION.to_vec(),
            approval: APPROVAL.to_vec(),
        };
        genesis(&mut c, DEV_TK, &p).expect("genesis");
        drop(c);
        b.system.push("center".into());
        b.refresh("center");
        b
    }

    /// A blank purse card `name` (created, not inserted).
    pub fn blank(&mut self, name: &str) {
        self.desk.ok(&[
            "desk",
            "new",
            name,
            "--applet",
            PURSE_CLASS,
            "--aid",
            PURSE_AID,
        ]);
        self.cards.insert(name.into(), ());
    }

    /// A blank card `name` with the user-card applet (`desk new --applet purse-user`: the same
    /// AIDs, no bank-role code), created, not inserted.
    pub fn blank_user(&mut self, name: &str) {
        self.desk
            .ok(&["desk", "new", name, "--applet", "purse-user"]);
        self.cards.insert(name.into(), ());
    }

    pub fn slot_of(&self, name: &str) -> Option<usize> {
        self.slots
            .borrow()
            .iter()
            .position(|s| s.0.as_deref() == Some(name))
    }

    /// Make sure `names` (at most two) are inserted; swaps out least recently used cards
    /// (reading their view first). Returns their readers.
    pub fn ensure(&mut self, names: &[&str]) -> Vec<String> {
        self.ensure_ref(names)
    }

    fn ensure_ref(&self, names: &[&str]) -> Vec<String> {
        assert!(names.len() <= 2);
        let mut out = Vec::new();
        for n in names {
            assert!(self.cards.contains_key(*n), "no card {n}");
            let t = self.tick.get() + 1;
            self.tick.set(t);
            let (victim, old) = {
                let mut slots = self.slots.borrow_mut();
                if let Some(i) = slots.iter().position(|s| s.0.as_deref() == Some(*n)) {
                    slots[i].2 = t;
                    out.push(slots[i].1.clone());
                    continue;
                }
                let i = (0..slots.len())
                    .filter(|&i| !slots[i].0.as_deref().is_some_and(|c| names.contains(&c)))
                    .min_by_key(|&i| slots[i].2)
                    .expect("a slot to swap");
                (i, slots[i].0.clone())
            };
            if let Some(old) = old {
                let reader = self.slots.borrow()[victim].1.clone();
                if let Err(e) = self.refresh_at(&old, &reader) {
                    eprintln!("  (view of {old} before swapping it out: {e})");
                }
                let r = self.desk.purse(&["--json", "desk", "pull", &old]);
                if r.code != 0 {
                    eprintln!("  (pull {old}: {})", r.stderr.trim());
                }
            }
            self.desk.insert(n, Some(victim), false);
            let mut slots = self.slots.borrow_mut();
            slots[victim].0 = Some(n.to_string());
            slots[victim].2 = t;
            out.push(slots[victim].1.clone());
        }
        out
    }

    /// Pull `name` and put it back: a power cycle (clears PIN validation and the session).
    pub fn power_cycle(&mut self, name: &str) {
        self.reinsert(name, false);
    }

    /// A power cycle into the same slot, the card answering T=0 style (61xx / 6Cxx) if `t0`.
    /// A card swapped out and back later answers T=1 again.
    pub fn reinsert(&mut self, name: &str, t0: bool) {
        self.ensure(&[name]);
        let i = self.slot_of(name).expect("slot");
        self.desk.pull(name);
        self.desk.insert(name, Some(i), t0);
    }

    /// Pull card `name` for good (it must have nothing pending); its value stays accounted.
    pub fn retire(&mut self, name: &str) {
        let st = self.status(name);
        let ex: u64 = self
            .open(name)
            .read_exceptions()
            .expect("exceptions")
            .iter()
            .map(|e| e.amount as u64)
            .sum();
        self.assert_clear(&[name], "retire");
        self.retired_value += st.balance as u64 + ex;
        if let Some(i) = self.slot_of(name) {
            self.desk.pull(name);
            self.slots.borrow_mut()[i].0 = None;
        }
        self.cards.remove(name);
        self.views.borrow_mut().remove(name);
        self.system.retain(|n| n != name);
    }

    /// The reader of `name`, inserting it if needed.
    pub fn reader(&self, name: &str) -> String {
        self.ensure_ref(&[name]).remove(0)
    }

    /// Connect to card `name` (SELECT done). Retries briefly (a card re-inserted after a tear
    /// or a pull takes up to ~0.5 s to show in pcscd).
    pub fn open(&self, name: &str) -> PurseCard<Connection> {
        let reader = self.reader(name);
        let mut last = String::new();
        for _ in 0..60 {
            match PurseCard::open(&self.pcsc, &reader) {
                Ok(c) => return c,
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("cannot open {name} in {reader}: {last}");
    }

    /// Issue a card of `role` named `name` (public name `pname`) from the center.
    pub fn issue(&mut self, name: &str, role: Role, pname: &str, o: &CardOpts) -> String {
        self.blank(name);
        self.issue_onto(name, role, pname, o)
    }

    /// [`Bank::issue`] onto the existing blank card `name` (e.g. one of [`Bank::blank_user`]).
    pub fn issue_onto(&mut self, name: &str, role: Role, pname: &str, o: &CardOpts) -> String {
        let reader = self.ensure(&["center", name]).remove(1);
        let mut center = self.open("center");
        let mut blank = self.open(name);
        let p = IssueParams {
            tk: DEV_TK.to_vec(),
            role,
            flags: 0,
            name: encode_name(pname).unwrap(),
            min_trans: o.min,
            max_trans: o.max,
            date: DATE,
            bad_key_limit: o.bad_key_limit,
            pin: PIN.to_vec(),
            txkey: if o.txkey { TXKEY.to_vec() } else { Vec::new() },
        };
        issue(&mut center, &mut blank, PIN, Some(APPROVAL), &p).expect("issue");
        drop((center, blank));
        self.system.push(name.into());
        self.refresh(name);
        self.refresh("center");
        reader
    }

    pub fn mint(&mut self, amount: u32) {
        let mut c = self.open("center");
        mint(&mut c, CREATION, amount, DATE).expect("mint");
        self.minted += amount as u64;
    }

    /// Pay through the library flow with all secrets available and host prechecks on.
    pub fn pay(&self, from: &str, to: &str, amount: u32) -> Result<TransferReport, TransferError> {
        self.ensure_ref(&[from, to]);
        let mut a = self.open(from);
        let mut b = self.open(to);
        xfer::transfer(
            &mut a,
            &mut b,
            amount,
            DATE,
            &secrets(),
            true,
            &RunOptions::default(),
        )
    }

    /// Pay and panic on failure.
    pub fn pay_ok(&self, from: &str, to: &str, amount: u32) -> TransferReport {
        self.pay(from, to, amount)
            .unwrap_or_else(|e| panic!("pay {from} -> {to} {amount}: {e}"))
    }

    pub fn status(&self, name: &str) -> Status {
        self.open(name).get_status().expect("status")
    }

    pub fn pending(&self, name: &str) -> Pending {
        self.open(name).get_pending().expect("pending")
    }

    pub fn balance(&self, name: &str) -> u32 {
        self.status(name).balance
    }

    /// Value accounted by the cards of this system (protocol.md 6.4 invariant): balances +
    /// pending outgoing transfers not acknowledged by their payee + exception entries.
    pub fn accounted(&self) -> u64 {
        let mut sum = self.retired_value;
        for n in &self.system {
            if self.slot_of(n).is_some() {
                self.refresh(n);
            }
        }
        let views = self.views.borrow();
        for n in &self.system {
            let v = views.get(n).unwrap_or_else(|| panic!("no view of {n}"));
            sum += v.balance as u64 + v.exceptions;
            let pd = &v.pending;
            if pd.out.state == purse_proto::consts::SlotState::Transfer {
                let t = pd.out.tid;
                let acked = views.values().any(|q| {
                    q.pending
                        .outcomes
                        .iter()
                        .any(|o| o.tid == t && o.kind == purse_proto::consts::OutcomeKind::Ack)
                });
                if !acked {
                    sum += pd.out.amount as u64;
                }
            }
        }
        sum
    }

    /// Read card `name` (inserting it if needed) into the view cache.
    pub fn refresh(&self, name: &str) {
        let reader = self.reader(name);
        self.refresh_at(name, &reader)
            .unwrap_or_else(|e| panic!("view of {name}: {e}"));
    }

    fn refresh_at(&self, name: &str, reader: &str) -> Result<(), CardError> {
        // a card re-inserted after a tear or a pull takes a moment to answer: retry briefly
        let mut tries = 0;
        let (st, pd, ex) = loop {
            let r = (|| -> Result<_, CardError> {
                let mut c = PurseCard::open(&self.pcsc, reader)?;
                Ok((c.get_status()?, c.get_pending()?, c.read_exceptions()?))
            })();
            match r {
                Ok(x) => break x,
                Err(CardError::Transport(_)) if tries < 50 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(e),
            }
        };
        self.views.borrow_mut().insert(
            name.to_string(),
            View {
                balance: st.balance,
                pending: pd,
                exceptions: ex.iter().map(|e| e.amount as u64).sum(),
            },
        );
        Ok(())
    }

    /// Assert the invariant: accounted value == minted.
    pub fn assert_conserved(&self, ctx: &str) {
        let a = self.accounted();
        assert_eq!(
            a, self.minted,
            "{ctx}: value accounted {a} != minted {}",
            self.minted
        );
    }

    /// Resume between two cards (fresh connections).
    pub fn resume(&self, a: &str, b: &str) -> ResumeReport {
        let mut ca = self.open(a);
        let mut cb = self.open(b);
        resume::resume(&mut ca, Some(&mut cb), &ResumeOptions::default())
    }

    /// Both cards have nothing unfinished.
    pub fn assert_clear(&self, names: &[&str], ctx: &str) {
        for n in names {
            let p = self.pending(n);
            assert!(
                p.out.state == purse_proto::consts::SlotState::None
                    && p.r#in.state == purse_proto::consts::SlotState::None,
                "{ctx}: {n} still has something pending: {p:?}"
            );
        }
    }

    /// The standard system: center, region, branch, two users (ALICE, BOB), funded.
    /// Center 10000.00 minted; region 5000; branch 3000; alice 1000; bob 500.
    pub fn standard(slots: u32, first_key: u8) -> Bank {
        Bank::standard_on(2, slots, first_key)
    }

    /// [`Bank::standard`] on a desk of `desk_slots` slots.
    pub fn standard_on(desk_slots: u32, _slots: u32, first_key: u8) -> Bank {
        let mut b = Bank::start_on(desk_slots, first_key);
        let bank = CardOpts::bank(true);
        b.issue("region", Role::Region, "NORTH", &bank);
        b.issue("branch", Role::Branch, "BR-1", &bank);
        b.issue("alice", Role::User, "ALICE", &CardOpts::default());
        b.issue("bob", Role::User, "BOB", &CardOpts::default());
        b.mint(1_000_000);
        b.pay_ok("center", "region", 500_000);
        b.pay_ok("region", "branch", 300_000);
        b.pay_ok("branch", "alice", 100_000);
        b.pay_ok("branch", "bob", 50_000);
        b
    }
}

/// An error that may carry a card's status word (a refusal).
pub trait CardRefusal {
    fn refusal(&self) -> Option<purse_proto::consts::Sw>;
}
impl CardRefusal for CardError {
    fn refusal(&self) -> Option<purse_proto::consts::Sw> {
        self.sw()
    }
}
impl CardRefusal for TransferError {
    fn refusal(&self) -> Option<purse_proto::consts::Sw> {
        self.sw()
    }
}
impl CardRefusal for purse_card::flows::sync::SyncError {
    fn refusal(&self) -> Option<purse_proto::consts::Sw> {
        self.sw()
    }
}
impl CardRefusal for purse_card::flows::admin::AdminError {
    fn refusal(&self) -> Option<purse_proto::consts::Sw> {
        self.sw()
    }
}

/// The status word a card refused with (card, transfer, sync or admin error), if any.
pub fn sw(e: &impl CardRefusal) -> Option<u16> {
    e.refusal().map(|s| s.code())
}

/// What a card answers as the payee of `amount` before any packet is looked at (protocol.md 6.2
/// row E, run at XFER_PAYEE_P1): a new payee session (SELECT), then 44 with AMOUNT | DATE and a
/// P1 of zeros. `Err` = row E refused (e.g. 9D01 locked, 9D04 admin, 9D0A expecting); `Ok` =
/// row E passed and the zeros were refused as a bad packet (9D03, BAD_KEY + 1).
pub fn payee_row_e<T: CardIo>(card: &mut PurseCard<T>, amount: u32) -> Result<(), CardError> {
    let h = card.payee_hello()?;
    let len = match h.suite {
        Suite::Tdes3 => purse_proto::consts::PKT_P1_TDES,
        _ => purse_proto::consts::PKT_P1_AES,
    } as usize;
    match card.xfer_payee_p1(amount, DATE, &vec![0; len]) {
        Err(e) if e.sw().map(|s| s.code()) == Some(0x9D03) => Ok(()),
        Err(e) => Err(e),
        Ok(_) => Err(CardError::Invalid("a P1 of zeros was accepted".into())),
    }
}

/// Both cards inserted (two slots: the second goes to the slot the first is not in).
pub fn ensure_pair(b: &Bank, x: &str, y: &str) {
    b.reader(x);
    b.reader(y);
}

/// The library transfer of `amount` between two open cards at [`DATE`] with `secrets`, the
/// host's prechecks on, default options.
pub fn transfer_open<A: CardIo, B: CardIo>(
    payer: &mut PurseCard<A>,
    payee: &mut PurseCard<B>,
    amount: u32,
    secrets: &Secrets,
) -> Result<TransferReport, TransferError> {
    xfer::transfer(
        payer,
        payee,
        amount,
        DATE,
        secrets,
        true,
        &Default::default(),
    )
}

/// Pay without the host's prechecks: the cards refuse by themselves (status words).
pub fn pay_card(
    b: &Bank,
    from: &str,
    to: &str,
    amount: u32,
) -> Result<TransferReport, TransferError> {
    ensure_pair(b, from, to);
    let mut x = b.open(from);
    let mut y = b.open(to);
    xfer::transfer(
        &mut x,
        &mut y,
        amount,
        DATE,
        &secrets(),
        false,
        &Default::default(),
    )
}

/// A named test case.
pub type Case<'a> = (&'a str, fn(&mut Bank));

/// Run named cases in order; each case's panic is caught and reported as "case 'NAME': message";
/// fail at the end naming every failed case. `PURSE_CASE=substring` runs only matching cases.
pub fn run_cases(bank: &mut Bank, cases: &[Case]) {
    let only = std::env::var("PURSE_CASE").ok();
    let mut failed = Vec::new();
    for (name, f) in cases {
        if let Some(o) = &only {
            if !name.contains(o.as_str()) {
                continue;
            }
        }
        let t = std::time::Instant::now();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(bank)));
        match r {
            Ok(()) => eprintln!("case '{name}': PASS ({:.1} s)", t.elapsed().as_secs_f64()),
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                eprintln!("case '{name}': FAIL: {msg}");
                failed.push(format!("case '{name}': {msg}"));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} cases failed:\n{}",
        failed.len(),
        cases.len(),
        failed.join("\n")
    );
}

/// A CardIo wrapper that runs a hook before each command (by INS) and may mutate the command.
pub struct Hooked<T: CardIo, F: FnMut(u8, &mut Vec<u8>)> {
    pub inner: T,
    pub hook: F,
}

impl<T: CardIo, F: FnMut(u8, &mut Vec<u8>)> CardIo for Hooked<T, F> {
    fn transmit(&mut self, apdu: &[u8]) -> purse_card::Result<Vec<u8>> {
        let mut cmd = apdu.to_vec();
        let ins = cmd.get(1).copied().unwrap_or(0);
        (self.hook)(ins, &mut cmd);
        self.inner.transmit(&cmd)
    }
}

/// Open `name` with a hook on its commands.
pub fn open_hooked<F: FnMut(u8, &mut Vec<u8>)>(
    bank: &Bank,
    name: &str,
    hook: F,
) -> PurseCard<Hooked<Connection, F>> {
    let reader = bank.reader(name);
    let conn = bank.pcsc.connect(&reader).expect("connect");
    let mut c = PurseCard::new(Hooked { inner: conn, hook });
    c.reader = reader;
    c.select().expect("select");
    c
}

/// `purse --desk DIR args...` (as TestDesk::ok, usable from inside a CardIo hook).
pub fn desk_ok(dir: &std::path::Path, args: &[&str]) {
    let o = std::process::Command::new(super::desk::purse_bin())
        .env_remove("PCSCLITE_CSOCK_NAME")
        .env_remove("PURSE_DESK")
        .arg("--desk")
        .arg(dir)
        .args(args)
        .output()
        .expect("run purse");
    assert!(
        o.status.success(),
        "purse {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}
