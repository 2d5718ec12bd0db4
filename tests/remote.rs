//! Payments across the link (MISSION F21, docs/remote.md): payer and payee in two separate
//! `purse` processes, each with its own reader of one desk, in two network namespaces joined by
//! a veth pair where the machine allows it (else loopback; the test says which on stderr).
//! Cut and replay cases run through an in-test TCP proxy on loopback.
use purse_testkit as kit;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use kit::link::*;
use kit::*;

use purse::link::msg::{Msg, Op, Statement};
use purse::link::secure::Link;
use purse::link::{Fingerprint, Identity};

const PIN_S: &str = "1234";
const TXKEY_S: &str = "tx-key-1";

struct Receiver {
    proc: Proc,
    connect: String,
}

/// `purse receive` for `card` on `side`, `--once`; waits until it listens.
fn receive(b: &Bank, side: Side, card: &str, amount: &str, extra: &[&str]) -> Receiver {
    let (keyp, _) = key(b, "payee");
    let reader = b.reader(card);
    let (listen, connect) = addrs(side, port());
    let mut args = vec![
        "--json",
        "-r",
        &reader,
        "receive",
        "--listen",
        &listen,
        "--amount",
        amount,
        "--once",
        "--identity",
    ];
    let kp = keyp.display().to_string();
    args.push(&kp);
    args.extend_from_slice(extra);
    let mut p = Proc::spawn(purse(b, side, &args), &format!("receive {card}"));
    p.wait_err("listening on", 20);
    Receiver { proc: p, connect }
}

/// `purse pay` from `card` to `connect` (the payee's fingerprint pinned), secrets in env.
fn pay(b: &Bank, side: Side, card: &str, connect: &str, amount: &str, extra: &[&str]) -> Proc {
    let (_, fp) = key(b, "payee");
    let (keyp, _) = key(b, "payer");
    let reader = b.reader(card);
    let kp = keyp.display().to_string();
    let mut args = vec![
        "--json",
        "-r",
        &reader,
        "pay",
        amount,
        "--connect",
        connect,
        "--peer-fingerprint",
        &fp,
        "--identity",
        &kp,
        "-y",
    ];
    args.extend_from_slice(extra);
    let mut c = purse(b, side, &args);
    c.env("PURSE_PIN", PIN_S).env("PURSE_TXKEY", TXKEY_S);
    Proc::spawn(c, &format!("pay from {card}"))
}

fn balances(b: &Bank) -> (u32, u32) {
    (b.balance("alice"), b.balance("bob"))
}

fn pay_across(b: &mut Bank, from: &str, to: &str, amount: &str, minor: u32) {
    b.ensure(&[from, to]);
    let (fa, ta) = (b.balance(from), b.balance(to));
    let r = receive(b, Side::A, to, amount, &[]);
    let p = pay(b, Side::B, from, &r.connect, amount, &[]).finish(60);
    let q = r.proc.finish(60);
    assert_eq!(p.code, 0, "pay {amount}: {}\n{}", p.stdout, p.stderr);
    assert_eq!(q.code, 0, "receive {amount}: {}\n{}", q.stdout, q.stderr);
    assert_eq!(p.json()["transfer"]["amount_minor"], minor);
    assert_eq!(q.json()["credited_minor"], minor);
    assert_eq!(b.balance(from), fa - minor, "{from} debited once");
    assert_eq!(b.balance(to), ta + minor, "{to} credited once");
}

/// Alice pays Bob below MIN_TRANS (no PIN), Bob pays Alice above MIN_TRANS (PIN, verified on
/// Bob's own card), Alice pays Bob above MAX_TRANS (PIN + transaction key).
fn pay_both_ways(b: &mut Bank) {
    pay_across(b, "alice", "bob", "3.00", 300);
    pay_across(b, "bob", "alice", "20.00", 2000);
    pay_across(b, "alice", "bob", "60.00", 6000);
    b.assert_conserved("after payments both ways");
    b.assert_clear(&["alice", "bob"], "after payments");
}

/// The holders state different amounts: both sides stop (exit 1: the host's check, not a
/// card's refusal) and nothing reaches a card.
fn disagreeing_statements(b: &mut Bank) {
    b.ensure(&["alice", "bob"]);
    let (sa, sb) = (snapshot(b, "alice"), snapshot(b, "bob"));
    let r = receive(b, Side::A, "bob", "5.00", &[]);
    let p = pay(b, Side::B, "alice", &r.connect, "6.00", &[]).finish(30);
    let q = r.proc.finish(30);
    assert_eq!(p.code, 1, "pay: {}", p.stderr);
    assert_eq!(q.code, 1, "receive: {}", q.stderr);
    assert!(p.stderr.contains("statements differ"), "{}", p.stderr);
    assert!(q.stderr.contains("statements differ"), "{}", q.stderr);
    assert_eq!(snapshot(b, "alice"), sa, "alice's card unchanged");
    assert_eq!(snapshot(b, "bob"), sb, "bob's card unchanged");
}

/// The payer pins a fingerprint that is not the payee's: the link never opens.
fn wrong_fingerprint(b: &mut Bank) {
    b.ensure(&["alice", "bob"]);
    let (sa, sb) = (snapshot(b, "alice"), snapshot(b, "bob"));
    let r = receive(b, Side::A, "bob", "5.00", &[]);
    let (_, other) = key(b, "someone-else");
    let (keyp, _) = key(b, "payer");
    let reader = b.reader("alice");
    let kp = keyp.display().to_string();
    let mut c = purse(
        b,
        Side::B,
        &[
            "-r",
            &reader,
            "pay",
            "5.00",
            "--connect",
            &r.connect,
            "--peer-fingerprint",
            &other,
            "--identity",
            &kp,
            "-y",
        ],
    );
    c.env("PURSE_PIN", PIN_S);
    let p = Proc::spawn(c, "pay with a wrong fingerprint").finish(30);
    let q = r.proc.finish(30);
    assert_eq!(p.code, 1, "{}", p.stderr);
    assert!(p.stderr.contains("is not the pinned"), "{}", p.stderr);
    assert_ne!(q.code, 0, "{}", q.stderr);
    assert_eq!(snapshot(b, "alice"), sa);
    assert_eq!(snapshot(b, "bob"), sb);
}

/// Finish whatever is left between alice and bob: over a new link when `over_link`, else with
/// both cards at one desk; then a second resume must find nothing (exactly once).
fn finish(b: &mut Bank, over_link: bool) {
    if over_link {
        let (keyp, fp) = key(b, "payee");
        let (keyq, _) = key(b, "payer");
        let rb = b.reader("bob");
        let ra = b.reader("alice");
        let (listen, connect) = addrs(Side::A, port());
        let kp = keyp.display().to_string();
        let kq = keyq.display().to_string();
        let mut l = Proc::spawn(
            purse(
                b,
                Side::A,
                &["-r", &rb, "resume", "--listen", &listen, "--identity", &kp],
            ),
            "resume --listen",
        );
        l.wait_err("listening on", 20);
        let c = Proc::spawn(
            purse(
                b,
                Side::B,
                &[
                    "--json",
                    "-r",
                    &ra,
                    "resume",
                    "--connect",
                    &connect,
                    "--peer-fingerprint",
                    &fp,
                    "--identity",
                    &kq,
                ],
            ),
            "resume --connect",
        )
        .finish(60);
        let l = l.finish(60);
        assert_eq!(c.code, 0, "resume --connect: {}\n{}", c.stdout, c.stderr);
        assert_eq!(l.code, 0, "resume --listen: {}\n{}", l.stdout, l.stderr);
    } else {
        let rep = b.resume("alice", "bob");
        assert!(rep.finished(), "resume at one desk: {}", rep.summary());
    }
    b.assert_clear(&["alice", "bob"], "after resume");
    let before = balances(b);
    let again = b.resume("alice", "bob");
    assert!(
        again.actions.is_empty(),
        "second resume did something: {}",
        again.summary()
    );
    assert_eq!(balances(b), before, "a second resume changed balances");
}

/// The link cut before and after every message of a payment: value conserved at once, and
/// after `purse resume` (alternately over a new link and at one desk) the payment happened
/// exactly once or not at all, never half.
fn link_cut_at_every_step(b: &mut Bank) {
    let mut cuts = Vec::new();
    // the payer's messages: hello, SELECT (its answer brings the payee's status and hello),
    // 44, 48, done
    for k in 1..=5 {
        cuts.push(Cut::Before(k));
        if k < 5 {
            cuts.push(Cut::After(k));
        }
    }
    for (i, cut) in cuts.into_iter().enumerate() {
        b.ensure(&["alice", "bob"]);
        let (a0, b0) = balances(b);
        let r = receive(b, Side::Loopback, "bob", "7.00", &["--link-timeout", "5"]);
        let (pport, cut_done) = proxy(r.connect.clone(), cut);
        let p = pay(
            b,
            Side::Loopback,
            "alice",
            &format!("127.0.0.1:{pport}"),
            "7.00",
            &["--link-timeout", "5"],
        )
        .finish(60);
        let q = r.proc.finish(60);
        let cut_happened = cut_done.load(std::sync::atomic::Ordering::SeqCst);
        assert!(
            cut_happened,
            "{cut:?}: the proxy never cut (pay {}: {})",
            p.code, p.stderr
        );
        b.assert_conserved(&format!("{cut:?} right after the cut"));
        if p.code == 0 {
            // only a cut of the closing message can leave the payer with a finished payment
            assert_eq!(
                cut,
                Cut::Before(5),
                "pay claims success after a cut: {}",
                p.stdout
            );
            assert_eq!(
                balances(b),
                (a0 - 700, b0 + 700),
                "{cut:?}: success means paid"
            );
            assert_eq!(
                q.code, 0,
                "{cut:?}: the payee's card was credited: {}",
                q.stderr
            );
        }
        finish(b, i % 2 == 0);
        let (a1, b1) = balances(b);
        let paid = b1 as i64 - b0 as i64;
        assert_eq!(a0 as i64 - a1 as i64, paid, "{cut:?}: debit != credit");
        assert!(paid == 0 || paid == 700, "{cut:?}: moved {paid}");
        b.assert_conserved(&format!("{cut:?} after resume"));
        eprintln!(
            "  {cut:?}: pay exit {}, receive exit {}, after resume moved {paid}",
            p.code, q.code
        );
    }
}

/// Each hostile peer gets a clear error from `purse receive`, never a panic or a hang, and
/// nothing reaches the card.
fn hostile_peers(b: &mut Bank) {
    b.ensure(&["alice", "bob"]);
    let sb = snapshot(b, "bob");
    let mut pre = b"PURSELK".to_vec();
    pre.push(purse::link::VERSION);
    let raw_cases: Vec<(&str, Vec<u8>, bool, &str)> = vec![
        (
            "garbage",
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            false,
            "does not speak the purse link protocol",
        ),
        ("wrong version", b"PURSELK\x09".to_vec(), false, "version 9"),
        // a purse of an older card protocol (1.x: link version 1, 2.x: 2, 3.x: 3, 6.x: 6) never gets
        // to send its packets
        (
            "card protocol 1.x",
            b"PURSELK\x01".to_vec(),
            false,
            "version 1",
        ),
        (
            "card protocol 2.x",
            b"PURSELK\x02".to_vec(),
            false,
            "version 2",
        ),
        (
            "card protocol 3.x",
            b"PURSELK\x03".to_vec(),
            false,
            "version 3",
        ),
        // 6.x: the TDES keystream masked by K1, whose TDES packets a 7.x card cannot open
        (
            "card protocol 6.x",
            b"PURSELK\x06".to_vec(),
            false,
            "version 6",
        ),
        (
            "oversized frame",
            [pre.clone(), vec![0xFF, 0xFF], vec![0; 64]].concat(),
            false,
            "the limit is 4096",
        ),
        (
            "empty frame",
            [pre.clone(), vec![0, 0]].concat(),
            false,
            "empty frame",
        ),
        (
            "truncated frame",
            [pre.clone(), vec![0, 100], vec![7; 10]].concat(),
            false,
            "stopped in the middle of a frame",
        ),
        (
            "stops mid-frame",
            [pre.clone(), vec![0, 100], vec![7; 10]].concat(),
            true,
            "stopped in the middle of a frame",
        ),
        ("silent peer", Vec::new(), true, "went silent"),
        (
            "handshake garbage",
            [pre.clone(), vec![0, 20], vec![0x5A; 20]].concat(),
            false,
            "secure handshake failed",
        ),
        (
            "handshake cut short",
            [pre.clone(), vec![0, 48], vec![0x5A; 48]].concat(),
            false,
            "while in the secure handshake",
        ),
    ];
    for (what, bytes, stay_open, want) in raw_cases {
        let r = receive(b, Side::Loopback, "bob", "7.00", &["--link-timeout", "2"]);
        let t = Instant::now();
        let mut s = TcpStream::connect(&r.connect).expect("connect");
        use std::io::Write;
        let _ = s.write_all(&bytes);
        if !stay_open {
            let _ = s.shutdown(std::net::Shutdown::Write);
        }
        let q = r.proc.finish(20);
        drop(s);
        assert!(
            q.stderr.contains(want),
            "{what}: wanted {want:?} in:\n{}",
            q.stderr
        );
        assert_ne!(q.code, 0, "{what}");
        assert!(
            t.elapsed() < Duration::from_secs(15),
            "{what}: took {:?}",
            t.elapsed()
        );
        assert_eq!(snapshot(b, "bob"), sb, "{what}: bob's card changed");
        eprintln!(
            "  {what}: {}",
            q.stderr.lines().find(|l| l.contains(want)).unwrap_or("")
        );
    }

    // a replayed frame (the payer's SELECT sent twice by someone in between: refused before the
    // next command, 44, reaches the card)
    let sa = snapshot(b, "alice");
    let r = receive(b, Side::Loopback, "bob", "7.00", &["--link-timeout", "3"]);
    let (pport, _) = proxy(r.connect.clone(), Cut::Replay(2));
    let p = pay(
        b,
        Side::Loopback,
        "alice",
        &format!("127.0.0.1:{pport}"),
        "7.00",
        &["--link-timeout", "3"],
    )
    .finish(30);
    let q = r.proc.finish(30);
    assert!(
        q.stderr.contains("failed authentication"),
        "replay: {}",
        q.stderr
    );
    assert_ne!(p.code, 0);
    assert_eq!(snapshot(b, "bob"), sb, "replay: bob's card changed");
    assert_eq!(snapshot(b, "alice"), sa, "replay: alice's card changed");

    // an authenticated peer that agrees, then asks for what a payee never does
    let (_, fp) = key(b, "payee");
    let fp = Fingerprint::parse(&fp).unwrap();
    let apdus: [(&str, &str); 4] = [
        ("VERIFY the payee's PIN", "802000010431323334"),
        ("pay out (XFER_PAYER_INIT)", "80420000080000000A00010100"),
        (
            "another amount in XFER_PAYEE_P1",
            "804400004600000320000141414141414141414141414141414141414141414141414141414141414141414141414141414141414141414141414141414141414141414141414141414141",
        ),
        ("PENDING_TO_EXCEPTION", "8054000006000000000000"),
    ];
    for (what, hexs) in apdus {
        let r = receive(b, Side::Loopback, "bob", "7.00", &["--link-timeout", "3"]);
        let id = Identity::generate().unwrap();
        let mut l =
            Link::connect(&r.connect, &id, Some(&fp), Duration::from_secs(5)).expect("link");
        l.send(&Msg::Hello {
            op: Op::Pay,
            statement: Some(Statement {
                kind: "pay".into(),
                amount: 700,
                currency: "EUR".into(),
            }),
            card: None,
        })
        .unwrap();
        assert!(matches!(l.recv("accept").unwrap(), Msg::Accept { .. }));
        l.send(&Msg::Apdu { hex: hexs.into() }).unwrap();
        let ans = l.recv("answer");
        assert!(matches!(ans, Ok(Msg::Refused { .. })), "{what}: {ans:?}");
        let q = r.proc.finish(20);
        assert!(
            q.stderr.contains("does not allow") || q.stderr.contains("malformed"),
            "{what}: {}",
            q.stderr
        );
        assert_eq!(snapshot(b, "bob"), sb, "{what}: bob's card changed");
        eprintln!("  hostile payer, {what}: refused");
    }
}

#[test]
fn remote_payments() {
    let mut bank = Bank::standard(2, 0);
    let _ = net();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_cases(
            &mut bank,
            &[
                ("pay_both_ways", pay_both_ways),
                ("disagreeing_statements", disagreeing_statements),
                ("wrong_fingerprint", wrong_fingerprint),
                ("hostile_peers", hostile_peers),
                ("link_cut_at_every_step", link_cut_at_every_step),
            ],
        )
    }));
    net().cleanup();
    if let Err(e) = r {
        std::panic::resume_unwind(e);
    }
}
