//! The bank's sync service across the link: `purse serve` with branch cards in its readers,
//! cardholders running `purse sync --connect` in other processes (other network namespace
//! where the machine allows it). Several clients at once; clients that vanish mid-sync (killed,
//! gone silent, or gone right after the card applied P6) never keep a bank card longer than the
//! client timeout, and their sync stays resumable. Two `purse serve` instances (two branches)
//! storing into one PostgreSQL ledger at once (tests/pgtest).
use purse_testkit as kit;
mod pgtest;

use std::time::{Duration, Instant};

use kit::link::*;
use kit::*;

use purse::card::PurseCard;
use purse::ledger::{EntryFilter, Ledger};
use purse::link::msg::{CardHello, Msg, Op};
use purse::link::secure::Link;
use purse::link::{Fingerprint, Identity};
use purse::proto::consts::{Role, SlotState};

const USERS: [&str; 4] = ["alice", "bob", "carol", "dave"];

fn setup() -> Bank {
    let mut b = Bank::standard_on(8, 8, 0);
    let bank = CardOpts::bank(true);
    b.issue("branch2", Role::Branch, "BR-2", &bank);
    b.issue("carol", Role::User, "CAROL", &CardOpts::default());
    b.issue("dave", Role::User, "DAVE", &CardOpts::default());
    b.pay_ok("branch", "carol", 20_000);
    b.pay_ok("branch", "dave", 20_000);
    // a few entries in every passbook, so a sync reads and stores something
    b.pay_ok("alice", "bob", 100);
    b.pay_ok("carol", "dave", 100);
    b.pay_ok("dave", "alice", 100);
    b
}

struct Server {
    proc: Proc,
    connect: String,
    fp: String,
    client_side: Side,
}

/// The desk's SQLite ledger, where the services store unless told otherwise.
fn desk_ledger(b: &Bank) -> String {
    b.desk.path().join("ledger.sqlite").display().to_string()
}

fn serve(b: &Bank, side: Side, banks: &[&str], extra: &[&str]) -> Server {
    serve_at(b, "service", side, banks, extra, &desk_ledger(b))
}

/// `purse serve` with identity `id`, storing into `ledger` (a file or a postgres:// URL).
fn serve_at(
    b: &Bank,
    id: &str,
    side: Side,
    banks: &[&str],
    extra: &[&str],
    ledger: &str,
) -> Server {
    let (keyp, fp) = key(b, id);
    let (listen, connect) = addrs(side, port());
    let kp = keyp.display().to_string();
    let readers: Vec<String> = banks.iter().map(|n| b.reader(n)).collect();
    let mut args = vec![
        "serve",
        "--listen",
        &listen,
        "--identity",
        &kp,
        "--ledger",
        ledger,
    ];
    for r in &readers {
        args.push("--bank");
        args.push(r);
    }
    args.extend_from_slice(extra);
    let mut c = purse(b, side, &args);
    c.env("PURSE_BANK_PIN", "1234");
    let mut p = Proc::spawn(c, "serve");
    p.wait_err("listening on", 30);
    let client_side = if side == Side::A {
        Side::B
    } else {
        Side::Loopback
    };
    Server {
        proc: p,
        connect,
        fp,
        client_side,
    }
}

fn client(b: &Bank, s: &Server, card: &str) -> Proc {
    let (keyp, _) = key(b, &format!("client-{card}"));
    let reader = b.reader(card);
    let kp = keyp.display().to_string();
    let mut c = purse(
        b,
        s.client_side,
        &[
            "--json",
            "-r",
            &reader,
            "sync",
            "--connect",
            &s.connect,
            "--peer-fingerprint",
            &s.fp,
            "--identity",
            &kp,
        ],
    );
    c.env("PURSE_PIN", "1234");
    Proc::spawn(c, &format!("sync {card}"))
}

fn ledger_entries(b: &Bank, ledger: &str, card: &str) -> usize {
    let acc = b.status(card).account;
    Ledger::open(ledger)
        .expect("ledger")
        .entries(&EntryFilter {
            account: Some(acc),
            ..EntryFilter::default()
        })
        .expect("entries")
        .len()
}

fn all_ok(b: &Bank, procs: Vec<(String, Proc)>, secs: u64) {
    all_ok_in(b, &desk_ledger(b), procs, secs)
}

/// Every client finished its sync, and its passbook is in `ledger`.
fn all_ok_in(b: &Bank, ledger: &str, procs: Vec<(String, Proc)>, secs: u64) {
    for (name, p) in procs {
        let d = p.finish(secs);
        assert_eq!(d.code, 0, "sync {name}: {}\n{}", d.stdout, d.stderr);
        let v = d.json();
        assert_eq!(v["ok"], true, "{name}: {v}");
        assert_eq!(v["unfinished"], false, "{name}: {v}");
        assert!(
            ledger_entries(b, ledger, &name) > 0,
            "{name}'s passbook is in the ledger"
        );
    }
}

/// Four clients at once against two branch cards; every passbook stored before clearing.
/// A payment into and out of every user card, so each one's next sync stores something (an
/// earlier case may have synced and cleared the setup's entries).
fn fresh_entries(b: &mut Bank) {
    for (from, to) in [
        ("alice", "bob"),
        ("bob", "carol"),
        ("carol", "dave"),
        ("dave", "alice"),
    ] {
        b.ensure(&[from, to]);
        b.pay_ok(from, to, 100);
    }
}

fn serve_concurrent(b: &mut Bank) {
    fresh_entries(b);
    for u in USERS {
        b.ensure(&[u]);
    }
    let s = serve(
        b,
        Side::A,
        &["branch", "branch2"],
        &["--client-timeout", "5"],
    );
    let t = Instant::now();
    let procs: Vec<(String, Proc)> = USERS
        .iter()
        .map(|u| (u.to_string(), client(b, &s, u)))
        .collect();
    all_ok(b, procs, 120);
    eprintln!("  4 concurrent syncs on 2 bank cards: {:?}", t.elapsed());
    for u in USERS {
        let st = b.status(u);
        assert_eq!(
            st.passbook_count, 0,
            "{u}: passbook cleared after being stored"
        );
    }
    drop(s);
    b.assert_conserved("after concurrent syncs");
}

/// Two services (branches, each with its own bank card and identity, one of them in the other
/// network namespace) storing into one PostgreSQL ledger at once, two clients each, all four
/// syncing together: every passbook stored once and cleared, the ledger consistent (check,
/// flags), and payments between cards synced through different services matched by reconcile.
fn two_services_one_postgres(b: &mut Bank) {
    for u in USERS {
        b.ensure(&[u]);
    }
    let pg = pgtest::Place::new(pgtest::Kind::Postgres);
    let url = pg.location().to_owned();
    let extra = ["--client-timeout", "5"];
    let s1 = serve_at(b, "service-1", Side::A, &["branch"], &extra, &url);
    let s2 = serve_at(b, "service-2", Side::Loopback, &["branch2"], &extra, &url);
    let before: Vec<u8> = USERS.iter().map(|u| b.status(u).passbook_count).collect();
    assert!(
        before.iter().all(|&n| n > 0),
        "passbooks to collect: {before:?}"
    );
    let t = Instant::now();
    let procs: Vec<(String, Proc)> = USERS
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let s = if i < 2 { &s1 } else { &s2 };
            (u.to_string(), client(b, s, u))
        })
        .collect();
    all_ok_in(b, &url, procs, 120);
    eprintln!(
        "  4 syncs through 2 services into one PostgreSQL: {:?}",
        t.elapsed()
    );
    let lg = Ledger::open(&url).expect("PostgreSQL ledger");
    let mut accounts = Vec::new();
    for (u, n) in USERS.iter().zip(&before) {
        let st = b.status(u);
        assert_eq!(st.passbook_count, 0, "{u}: cleared after being stored");
        accounts.push(purse::ledger::account_text(&st.account));
        let syncs = lg.syncs(Some(&st.account)).expect("syncs");
        assert_eq!(syncs.len(), 1, "{u}: one sync recorded: {syncs:?}");
        let s = &syncs[0];
        assert!(s.cleared, "{u}: {s:?}");
        // the passbook as collected (with the sync's interest entry, if any), all new
        assert!(s.entries_new >= *n as i64, "{u}: {s:?}");
        assert_eq!(s.entries_collected, s.entries_new, "{u}: {s:?}");
        assert_eq!(
            ledger_entries(b, &url, u) as i64,
            s.entries_new,
            "{u}: each entry once"
        );
    }
    let c = lg.check().expect("check");
    assert!(c.ok, "{c:?}");
    assert!(lg.fraud_flags().expect("flags").is_empty());
    // alice/bob synced through service 1, carol/dave through service 2: the payments among
    // them (dave -> alice crosses the services) all find their partner
    let r = lg.reconcile().expect("reconcile");
    let among: Vec<_> = r
        .unmatched
        .iter()
        .filter(|m| accounts.contains(&m.entry.counterparty))
        .collect();
    assert!(
        among.is_empty(),
        "unmatched between synced cards: {among:?}"
    );
    assert!(r.debits_matched >= 3, "{r:?}");
    drop((s1, s2));
    b.assert_conserved("after two services");
}

/// How a hand-made client leaves.
#[derive(Clone, Copy, Debug)]
enum Leave {
    /// Closes the connection instead of forwarding the first command with this INS.
    CloseBefore(u8),
    /// Forwards the first command with this INS, then closes without answering.
    CloseAfter(u8),
    /// Forwards the first command with this INS, then stays connected and silent.
    SilentAfter(u8),
}

/// A client that syncs `card` honestly through the library up to `leave`, then vanishes.
/// Returns the link if it must stay open (silent).
fn vanishing_client(b: &Bank, s: &Server, card: &str, leave: Leave) -> Option<Link> {
    let mut c: PurseCard<_> = b.open(card);
    let st = c.get_status().unwrap();
    let sel = purse::link::remote::select_answer(&mut c).unwrap();
    c.verify(purse::proto::consts::SecretRef::Pin, PIN).unwrap();
    let fp = Fingerprint::parse(&s.fp).unwrap();
    let id = Identity::generate().unwrap();
    let mut l = Link::connect(&s.connect, &id, Some(&fp), Duration::from_secs(10)).unwrap();
    l.send(&Msg::Hello {
        op: Op::Sync,
        statement: None,
        card: Some(CardHello {
            role: st.role.code(),
            account: st.account.to_string(),
            name: st.name.clone(),
        }),
    })
    .unwrap();
    loop {
        match l.recv("accept").unwrap() {
            Msg::Queued { .. } => continue,
            Msg::Accept { .. } => break,
            other => panic!("{other:?}"),
        }
    }
    loop {
        let m = l
            .recv_within(Duration::from_secs(20), "apdu")
            .expect("the service's next command");
        let Msg::Apdu { hex } = m else {
            panic!("{m:?}")
        };
        let apdu = hex::decode(&hex).unwrap();
        let ins = apdu[1];
        if let Leave::CloseBefore(x) = leave {
            if x == ins {
                l.close();
                return None;
            }
        }
        let ans = if ins == 0xA4 {
            sel.clone()
        } else {
            let r = c.channel().send_bytes(&apdu).unwrap();
            let mut v = r.data;
            v.extend_from_slice(&r.sw.code().to_be_bytes());
            v
        };
        match leave {
            Leave::CloseAfter(x) if x == ins => {
                l.close();
                return None;
            }
            Leave::SilentAfter(x) if x == ins => return Some(l),
            _ => {}
        }
        l.send(&Msg::Answer {
            hex: hex::encode_upper(ans),
        })
        .unwrap();
    }
}

/// Clients vanish at several points; the bank card is free again within the client timeout,
/// and every vanished client's card finishes its sync at its next `purse sync --connect`.
fn vanished_clients(b: &mut Bank) {
    fresh_entries(b);
    for u in USERS {
        b.ensure(&[u]);
    }
    // one bank card: a vanished client must not block it longer than the timeout (3 s)
    let s = serve(b, Side::Loopback, &["branch"], &["--client-timeout", "3"]);
    for leave in [
        Leave::CloseBefore(0x74),
        Leave::SilentAfter(0x74),
        Leave::SilentAfter(0x34),
        Leave::CloseAfter(0x34),
    ] {
        // give dave something to collect again
        b.pay_ok("carol", "dave", 100);
        let held = vanishing_client(b, &s, "dave", leave);
        let t = Instant::now();
        let p = client(b, &s, "alice");
        all_ok(b, vec![("alice".into(), p)], 60);
        let waited = t.elapsed();
        assert!(
            waited < Duration::from_secs(20),
            "{leave:?}: alice waited {waited:?}"
        );
        drop(held);
        // dave's sync is resumable: the next sync finishes it first
        all_ok(b, vec![("dave".into(), client(b, &s, "dave"))], 60);
        b.assert_clear(&["dave", "branch"], &format!("{leave:?}"));
        b.assert_conserved(&format!("{leave:?}"));
        eprintln!("  {leave:?}: alice served after {waited:?}; dave finished at its next sync");
    }
    drop(s);

    // gone right after its card applied P6: the bank card holds the sync for dave (only dave
    // can finish it), so the service serves the others with the second bank card
    let s = serve(
        b,
        Side::Loopback,
        &["branch", "branch2"],
        &["--client-timeout", "3"],
    );
    b.pay_ok("carol", "dave", 100);
    vanishing_client(b, &s, "dave", Leave::CloseAfter(0x78));
    let p: Vec<(String, Proc)> = ["alice", "bob", "carol"]
        .iter()
        .map(|u| (u.to_string(), client(b, &s, u)))
        .collect();
    all_ok(b, p, 60);
    all_ok(b, vec![("dave".into(), client(b, &s, "dave"))], 60);
    for bank in ["branch", "branch2"] {
        assert_eq!(
            b.pending(bank).out.state,
            SlotState::None,
            "{bank} finished dave's sync"
        );
    }

    // a real client process killed mid-sync, others at the same time
    b.pay_ok("carol", "dave", 100);
    let mut k = client(b, &s, "dave");
    let others: Vec<(String, Proc)> = ["alice", "bob"]
        .iter()
        .map(|u| (u.to_string(), client(b, &s, u)))
        .collect();
    s_wait_syncing(&s, "DAVE");
    k.kill();
    all_ok(b, others, 60);
    all_ok(b, vec![("dave".into(), client(b, &s, "dave"))], 60);
    b.assert_clear(&USERS, "after the killed client");
    b.assert_conserved("after the killed client");
    let log = s.proc.stderr();
    drop(s);
    assert!(!log.contains("panicked"), "{log}");
}

fn s_wait_syncing(s: &Server, name: &str) {
    let t = Instant::now();
    let pat = format!("syncing {name}");
    while !s.proc.stderr().contains(&pat) {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "no {pat:?}: {}",
            s.proc.stderr()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn remote_sync_service() {
    let mut bank = setup();
    let _ = net();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_cases(
            &mut bank,
            &[
                // first: the setup's payments are still in every passbook
                ("two_services_one_postgres", two_services_one_postgres),
                ("serve_concurrent", serve_concurrent),
                ("vanished_clients", vanished_clients),
            ],
        )
    }));
    net().cleanup();
    if let Err(e) = r {
        std::panic::resume_unwind(e);
    }
}
