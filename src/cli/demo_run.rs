//! `purse demo`: the whole story on a fresh virtual desk, narrated step by step.
//! Start a desk; genesis of the center; an admin card, a region, a branch and two users; mint;
//! money down the pyramid; a payment between users; a new key epoch with an interest rate; syncs
//! down the hierarchy (interest, the new key, passbooks into the ledger); a payment under the new
//! key; the passbook; the ledger. Everything goes through pcscd to virtual cards running the real
//! applet, with the library's flows. The secrets are fixed demo values, printed as such.
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use purse::card::PurseCard;
use purse::desk::{Desk, StartOptions};
use purse::ledger::{EntryFilter, Ledger};
use purse::proto::consts::{Role, Suite};
use purse::proto::types::{encode_name, format_amount, format_date, Currency};
use purse::transport::{Connection, Pcsc};

use purse::flows::admin::{self, AdminOp};
use purse::flows::genesis::{genesis, GenesisParams};
use purse::flows::issue::{issue, IssueParams};
use purse::flows::mint::mint;
use purse::flows::sync::{self as fsync, Progress, SyncOptions};
use purse::flows::transfer::{self as xfer, RunOptions, Secrets};

/// Errors of the demo: any step's error, as text (the demo stops at the first one).
pub type DemoError = Box<dyn std::error::Error + Send + Sync>;

pub const APPLET_CLASS: &str = "org.purse.applet.Purse";
pub const APPLET_AID: &str = "F0707572736501";
/// Fixed demo secrets (printed by the demo; never use them for real cards).
pub const DEMO_PIN: &[u8] = b"1234";
pub const DEMO_TXKEY: &[u8] = b"demo-txkey";
pub const DEMO_CREATION: &[u8] = b"demo-create";
pub const DEMO_APPROVAL: &[u8] = b"demo-approve";
/// The development transport key of blank virtual cards (protocol.md 5.1).
pub const DEV_TK: &[u8] = b"purse-dev-transp";
/// Day of genesis: 2026-01-04; the epoch comes 30 days later.
pub const DAY0: u16 = 9500;
pub const EPOCH_DAYS: u16 = 30;
/// 3.65 % a year = 0.01 % a day.
pub const DEMO_RATE: &str = "3.65";

/// Figures of the demo's syncs (for tests and the closing line).
#[derive(Clone, Debug, Default)]
pub struct DemoFigures {
    pub syncs: Vec<(String, u32, u128, u32)>,
}

struct Stage {
    desk: Desk,
    pcsc: Pcsc,
    readers: Vec<String>,
    slots: Vec<Option<String>>,
}

impl Stage {
    fn new_card(&self, name: &str) -> Result<(), DemoError> {
        self.desk.new_card(name, APPLET_CLASS, APPLET_AID, None)?;
        Ok(())
    }

    /// A blank card with the user-card applet (what `purse-user.cap` puts on a real user card).
    fn new_user_card(&self, name: &str) -> Result<(), DemoError> {
        self.desk
            .new_card_variant(name, APPLET_CLASS, APPLET_AID, None, Some("user"))?;
        Ok(())
    }

    /// Put `names` (one or two cards) into the two slots, pulling others out.
    fn put(&mut self, names: &[&str]) -> Result<Vec<String>, DemoError> {
        for i in 0..self.slots.len() {
            if let Some(c) = self.slots[i].clone() {
                if !names.contains(&c.as_str()) {
                    self.desk.pull(&c)?;
                    self.slots[i] = None;
                }
            }
        }
        let mut out = Vec::new();
        for n in names {
            let i = match self.slots.iter().position(|s| s.as_deref() == Some(*n)) {
                Some(i) => i,
                None => {
                    let i = self
                        .slots
                        .iter()
                        .position(|s| s.is_none())
                        .expect("a free slot");
                    self.desk.insert(n, Some(i), false)?;
                    self.slots[i] = Some(n.to_string());
                    i
                }
            };
            out.push(self.readers[i].clone());
        }
        Ok(out)
    }

    fn open(&self, reader: &str) -> Result<PurseCard<Connection>, DemoError> {
        let mut last = String::new();
        for _ in 0..60 {
            match PurseCard::open(&self.pcsc, reader) {
                Ok(c) => return Ok(c),
                Err(e) => last = e.to_string(),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!("cannot open the card in {reader}: {last}").into())
    }

    fn two(
        &mut self,
        a: &str,
        b: &str,
    ) -> Result<(PurseCard<Connection>, PurseCard<Connection>), DemoError> {
        let r = self.put(&[a, b])?;
        Ok((self.open(&r[0])?, self.open(&r[1])?))
    }

    fn one(&mut self, a: &str) -> Result<PurseCard<Connection>, DemoError> {
        let r = self.put(&[a])?;
        self.open(&r[0])
    }
}

fn eur(v: u32) -> String {
    format!("{} EUR", format_amount(v, 2))
}

fn step(n: &mut u32, title: &str) {
    *n += 1;
    println!();
    println!("== {n}. {title}");
}

/// Run the demo. `dir`: desk directory (must be empty or absent; default: a fresh temporary
/// one). `keep`: leave the desk directory (stopped) for a look around afterwards. `port`: first
/// vpcd port (default: the first free run from 40000), to run beside other desks.
pub fn run_demo(
    dir: Option<&Path>,
    keep: bool,
    port: Option<u16>,
) -> Result<DemoFigures, DemoError> {
    let (path, temp) = match dir {
        Some(d) => {
            if d.exists() && std::fs::read_dir(d)?.next().is_some() {
                return Err(format!(
                    "{} is not empty: the demo needs a fresh desk directory",
                    d.display()
                )
                .into());
            }
            (d.to_path_buf(), false)
        }
        None => {
            let base = std::env::temp_dir();
            let p = base.join(format!("purse-demo-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            (p, true)
        }
    };
    std::fs::create_dir_all(&path)?;
    let desk = Desk::at(&path);
    let r = story(&desk, &path, port);
    let _ = desk.stop();
    match (&r, keep) {
        (_, true) => println!(
            "\nthe desk is kept in {} (stopped): `purse --desk {0} desk start` and `purse ledger --ledger {0}/ledger.sqlite` to look around",
            path.display()
        ),
        _ if temp => {
            let _ = std::fs::remove_dir_all(&path);
        }
        _ => {}
    }
    r
}

fn story(desk: &Desk, path: &Path, port: Option<u16>) -> Result<DemoFigures, DemoError> {
    let t_all = Instant::now();
    let mut n = 0u32;
    let mut figs = DemoFigures::default();
    println!("purse demo: cash on JavaCard smart cards, on a virtual desk (every APDU goes through pcscd to a virtual card running the real applet)");
    println!(
        "demo secrets (fixed, for the demo only): PIN {} on every card, transaction key {}, center creation secret {}, approval secret {}",
        s(DEMO_PIN),
        s(DEMO_TXKEY),
        s(DEMO_CREATION),
        s(DEMO_APPROVAL)
    );

    step(
        &mut n,
        "Start a virtual desk: a private pcscd with two virtual readers",
    );
    super::use_desk_socket(desk);
    let st = desk.start(&StartOptions {
        slots: Some(2),
        port,
    })?;
    let pcsc = Pcsc::establish()?;
    let readers: Vec<String> = st.slots.iter().map(|s| s.reader.clone()).collect();
    println!(
        "desk in {} (vpcd ports {}..{}); readers: {}",
        path.display(),
        st.base_port,
        st.base_port as usize + st.slots.len() - 1,
        readers.join(", ")
    );
    let mut stg = Stage {
        desk: Desk::at(path),
        pcsc,
        readers,
        slots: vec![None, None],
    };

    let eur_c = Currency::parse("EUR", None)?;
    step(
        &mut n,
        "Genesis: a blank card becomes the bank's center (AES suite, EUR)",
    );
    stg.new_card("center")?;
    let mut c = stg.one("center")?;
    let g = genesis(
        &mut c,
        DEV_TK,
        &GenesisParams {
            suite: Suite::Aes128,
            issuer_id: [0x10, 0x00, 0x00],
            name: encode_name("BANK")?,
            currency: eur_c,
            min_trans: 0,
            max_trans: u32::MAX,
            date: DAY0,
            bad_key_limit: 255,
            first_keynum: 0,
            pin: DEMO_PIN.to_vec(),
            txkey: DEMO_TXKEY.to_vec(),
            creation: DEMO_CREATION.to_vec(),
            approval: DEMO_APPROVAL.to_vec(),
        },
    )?;
    drop(c);
    println!(
        "center BANK: account {}, keys 0..3 (current {}), epoch date {}",
        g.account,
        g.current_key,
        format_date(DAY0)
    );

    step(
        &mut n,
        "Issue cards from the center: an admin card, a region, a branch, two users (the users on the user-card applet)",
    );
    let cards: [(&str, Role, &str, u32, u32); 5] = [
        ("admin", Role::Admin, "ADMIN", 0, u32::MAX),
        ("region", Role::Region, "NORTH", 0, u32::MAX),
        ("branch", Role::Branch, "BR-1", 0, u32::MAX),
        ("alice", Role::User, "ALICE", 2000, 20000),
        ("bob", Role::User, "BOB", 2000, 20000),
    ];
    for (card, role, name, min, max) in cards {
        if role == Role::User {
            stg.new_user_card(card)?;
        } else {
            stg.new_card(card)?;
        }
        let (mut ctr, mut blank) = stg.two("center", card)?;
        let is = issue(
            &mut ctr,
            &mut blank,
            DEMO_PIN,
            Some(DEMO_APPROVAL),
            &IssueParams {
                tk: DEV_TK.to_vec(),
                role,
                flags: 0,
                name: encode_name(name)?,
                min_trans: min,
                max_trans: max,
                date: DAY0,
                bad_key_limit: if role == Role::User { 10 } else { 255 },
                pin: DEMO_PIN.to_vec(),
                txkey: DEMO_TXKEY.to_vec(),
            },
        )?;
        println!(
            "  {:<7} {:<6} account {}{}",
            role.name(),
            name,
            is.account,
            if role == Role::User {
                format!(
                    " (PIN above {}, transaction key above {})",
                    eur(min),
                    eur(max)
                )
            } else {
                String::new()
            }
        );
    }

    step(&mut n, "Mint 100000.00 EUR on the center (creation secret)");
    let mut c = stg.one("center")?;
    let (_, bal) = mint(&mut c, DEMO_CREATION, 10_000_000, DAY0)?;
    drop(c);
    println!("center balance {}", eur(bal));

    step(
        &mut n,
        "Money down the pyramid: center -> region -> branch -> users",
    );
    let secrets = Secrets {
        pin: Some(DEMO_PIN.to_vec()),
        txkey: Some(DEMO_TXKEY.to_vec()),
        approval: Some(DEMO_APPROVAL.to_vec()),
    };
    for (from, to, amount) in [
        ("center", "region", 5_000_000u32),
        ("region", "branch", 2_000_000),
        ("branch", "alice", 100_000),
        ("branch", "bob", 50_000),
    ] {
        let (mut a, mut b) = stg.two(from, to)?;
        let r = xfer::transfer(
            &mut a,
            &mut b,
            amount,
            DAY0,
            &secrets,
            true,
            &RunOptions::default(),
        )?;
        println!(
            "  {from:<6} -> {to:<6} {:>12}   ({} now {}, {} now {})",
            eur(amount),
            from,
            eur(r.payer_balance),
            to,
            eur(r.payee_balance)
        );
    }

    step(&mut n, "A payment between users: alice pays bob 12.50 EUR (six APDUs card to card, PIN not needed below 20.00)");
    let (mut a, mut b) = stg.two("alice", "bob")?;
    let r = xfer::transfer(
        &mut a,
        &mut b,
        1250,
        DAY0 + 1,
        &secrets,
        true,
        &RunOptions::default(),
    )?;
    println!(
        "  transfer {}: alice {} -> bob {} (key pair {}/{})",
        hex::encode_upper(r.tid),
        eur(r.payer_balance),
        eur(r.payee_balance),
        r.keynum,
        r.keynum.wrapping_add(1)
    );
    drop((a, b));

    let epoch_day = DAY0 + EPOCH_DAYS;
    let rate = purse::proto::sync::parse_rate(DEMO_RATE)?;
    step(
        &mut n,
        &format!(
            "A new key epoch: the center advances to {} with interest {} (approval secret)",
            format_date(epoch_day),
            purse::proto::sync::describe_rate(rate)
        ),
    );
    let mut c = stg.one("center")?;
    let adv = purse::flows::epoch::advance(&mut c, DEMO_APPROVAL, epoch_day, Some(rate))?;
    drop(c);
    println!("  {}", adv.summary());

    step(
        &mut n,
        "The admin card sets the same rate on the region and the branch (card to card)",
    );
    for bank in ["region", "branch"] {
        let (mut ad, mut bk) = stg.two("admin", bank)?;
        match admin::run_op(
            &mut ad,
            &mut bk,
            DEMO_PIN,
            &AdminOp::SetRate { rate },
            epoch_day,
        ) {
            Ok(o) => println!(
                "  {bank}: rate set ({})",
                if o.changed { "changed" } else { "unchanged" }
            ),
            Err(e) => println!("  {bank}: rate not set ({e}); its syncs pay no interest"),
        }
    }

    let ledger_path: PathBuf = path.join("ledger.sqlite");
    let mut ledger = Ledger::open(&ledger_path)?;
    step(
        &mut n,
        &format!(
            "Syncs down the hierarchy: interest for {EPOCH_DAYS} days, the new key, passbooks into the ledger ({})",
            ledger_path.display()
        ),
    );
    for (bank, card) in [
        ("center", "admin"),
        ("center", "region"),
        ("region", "branch"),
        ("branch", "alice"),
        ("branch", "bob"),
    ] {
        let (mut bk, mut cd) = stg.two(bank, card)?;
        println!("  {bank} -> {card}:");
        // FIG. 5: the operator's PIN on the bank card, the holder's on the card (the demo issues
        // every card with the same PIN)
        let opts = SyncOptions {
            date: epoch_day,
            bank_pin: Some(DEMO_PIN.to_vec()),
            card_pin: Some(DEMO_PIN.to_vec()),
            ..SyncOptions::default()
        };
        let mut progress = |p: Progress| {
            let Progress::Step(_, m) = p;
            println!("      .. {m}");
        };
        let rep = fsync::sync(&mut bk, &mut cd, Some(&mut ledger), &opts, &mut progress)?;
        for line in rep.summary().lines() {
            println!("    {line}");
        }
        println!("    ({} APDUs, {} ms)", rep.apdus, rep.millis);
        figs.syncs.push((
            format!("{bank}->{card}"),
            rep.apdus,
            rep.millis,
            rep.interest,
        ));
    }

    step(
        &mut n,
        "After the sync: bob pays alice 5.00 EUR under the new key",
    );
    let (mut b, mut a) = stg.two("bob", "alice")?;
    let r = xfer::transfer(
        &mut b,
        &mut a,
        500,
        epoch_day,
        &secrets,
        true,
        &RunOptions::default(),
    )?;
    println!(
        "  transfer {}: key pair {}/{} (the new epoch's key), bob {} -> alice {}",
        hex::encode_upper(r.tid),
        r.keynum,
        r.keynum.wrapping_add(1),
        eur(r.payer_balance),
        eur(r.payee_balance)
    );
    drop((b, a));

    step(&mut n, "Alice's passbook now (PIN): the old entries went to the ledger, the interest and the new payment are on the card");
    let mut a = stg.one("alice")?;
    a.verify(purse::proto::consts::SecretRef::Pin, DEMO_PIN)?;
    let stt = a.get_status()?;
    for e in a.read_passbook_all(stt.passbook_count)? {
        println!(
            "  {}  {:<13} {:>12}  balance {:>12}  {} ({})",
            format_date(e.date),
            e.kind.name(),
            eur(e.amount),
            eur(e.new_balance),
            e.name,
            e.account
        );
    }
    drop(a);

    step(
        &mut n,
        "The bank's ledger (`purse ledger`): every collected passbook entry, once",
    );
    let entries = ledger.entries(&EntryFilter::default())?;
    println!(
        "  {:<16} {:<10} {:<13} {:>12} {:>14}  counterparty",
        "card", "date", "type", "amount", "new balance"
    );
    for e in &entries {
        println!(
            "  {:<16} {:<10} {:<13} {:>12} {:>14}  {} {}",
            e.card_account,
            e.date,
            e.kind.name(),
            eur(e.amount),
            eur(e.new_balance),
            e.counterparty_name,
            e.counterparty
        );
    }
    let rec = ledger.reconcile()?;
    println!(
        "  {} entries from {} syncs; reconciliation: {}/{} debits and {}/{} credits matched (the rest: counterparts not collected yet)",
        entries.len(),
        ledger.syncs(None)?.len(),
        rec.debits_matched,
        rec.debits_checked,
        rec.credits_matched,
        rec.credits_checked
    );

    println!();
    let apdus: Vec<String> = figs
        .syncs
        .iter()
        .map(|(k, a, ms, _)| format!("{k} {a} APDUs/{ms} ms"))
        .collect();
    println!("syncs: {}", apdus.join(", "));
    println!("demo done in {:.1} s", t_all.elapsed().as_secs_f64());
    Ok(figs)
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
