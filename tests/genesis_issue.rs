//! Genesis, minting, issuance, status, passbook and PIN through the `purse` CLI, pcscd and
//! virtual cards running the real applet (org.purse.applet.Purse, AID F07075727365 01).
//! Secrets come from the documented environment variables (README "Secrets").
use purse_testkit as kit;

use kit::{Run, TestDesk};
use purse::proto::types::Account;
use serde_json::Value;

const PURSE_CLASS: &str = "org.purse.applet.Purse";
const PURSE_AID: &str = "F0707572736501";

const PIN: &str = "1234";
const CREATION: &str = "create-money";
const APPROVAL: &str = "approve-it";

/// Secrets of the center (genesis, mint, issue from the center).
fn center_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("PURSE_PIN", PIN),
        ("PURSE_TXKEY", "tx-key-1"),
        ("PURSE_CREATION_SECRET", CREATION),
        ("PURSE_APPROVAL_SECRET", APPROVAL),
        ("PURSE_NEW_PIN", "5678"),
        ("PURSE_NEW_TXKEY", ""),
    ]
}

fn run(d: &TestDesk, env: &[(&str, &str)], args: &[&str]) -> Run {
    d.run_env(env, args)
}

fn ok(d: &TestDesk, env: &[(&str, &str)], args: &[&str]) -> Run {
    let r = run(d, env, args);
    assert_eq!(
        r.code, 0,
        "purse {args:?} failed ({}):\n{}{}",
        r.code, r.stdout, r.stderr
    );
    r
}

/// New purse card `name` (optionally with install params) inserted in `slot`; returns the reader.
fn card(d: &TestDesk, name: &str, slot: usize, params: Option<&str>) -> String {
    let mut args = vec![
        "desk",
        "new",
        name,
        "--applet",
        PURSE_CLASS,
        "--aid",
        PURSE_AID,
    ];
    if let Some(p) = params {
        args.push("--params");
        args.push(p);
    }
    d.ok(&args);
    let v = d.insert(name, Some(slot), false);
    v["reader"]
        .as_str()
        .expect("reader in insert JSON")
        .to_string()
}

fn status(d: &TestDesk, reader: &str) -> Value {
    ok(d, &[], &["--json", "--reader", reader, "status"]).json()
}

fn genesis(d: &TestDesk, reader: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "--json",
        "--reader",
        reader,
        "genesis",
        "--name",
        "BANK",
        "--currency",
        "EUR",
        "--decimals",
        "2",
        "--date",
        "2026-01-04",
        "--min",
        "5.00",
        "--max",
        "100.00",
    ];
    args.extend_from_slice(extra);
    let r = ok(d, &center_env(), &args);
    assert!(
        r.stderr.contains("WARNING: development transport key"),
        "no dev-key warning: {}",
        r.stderr
    );
    r.json()
}

fn issue(d: &TestDesk, issuer: &str, card: &str, role: &str, name: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "--json",
        "issue",
        "--issuer",
        issuer,
        "--card",
        card,
        "--role",
        role,
        "--name",
        name,
        "--dev",
        "--date",
        "2026-01-05",
    ];
    args.extend_from_slice(extra);
    run(d, &center_env(), &args)
}

fn account15(issuer: &str, serial: u64) -> String {
    let s = format!("{issuer}{serial:09}");
    let d: Vec<u8> = s.bytes().map(|c| c - b'0').collect();
    Account::from_digits15(&d).unwrap().to_string()
}

#[test]
fn genesis_mint_issue_and_status() {
    let d = TestDesk::start(2);
    let center = card(&d, "center", 0, None);

    let st = status(&d, &center);
    assert_eq!(st["life"], "blank", "{st}");

    let g = genesis(&d, &center, &[]);
    assert_eq!(g["account"], account15("100000", 0), "{g}");
    assert_eq!(g["account"], "1000000000000008");
    assert_eq!(g["role"], "center");
    assert_eq!(g["suite"], "AES-128");

    let st = status(&d, &center);
    assert_eq!(st["life"], "active");
    assert_eq!(st["role"], "center");
    assert_eq!(st["name"], "BANK");
    assert_eq!(st["currency"], "EUR");
    assert_eq!(st["balance"], "0.00");
    assert_eq!(st["min_trans"], "5.00");
    assert_eq!(st["max_trans"], "100.00");
    assert_eq!(st["keys"], serde_json::json!([0, 1, 2, 3]));
    assert_eq!(st["key_date"], "2026-01-04");
    assert_eq!(st["bad_key"], 0);
    assert_eq!(st["bad_key_limit"], 10);
    assert_eq!(st["locked"], false);
    assert_eq!(st["pin_tries"], 3);
    assert_eq!(st["passbook"], 0);
    assert_eq!(st["out"], Value::Null);
    assert_eq!(st["in"], Value::Null);

    // genesis twice: refused, nothing changes
    let r = run(
        &d,
        &center_env(),
        &["--reader", &center, "genesis", "--name", "BANK2"],
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("already personalised"), "{}", r.stderr);

    // mint
    let m = ok(
        &d,
        &center_env(),
        &[
            "--json",
            "--reader",
            &center,
            "mint",
            "1000.00",
            "--date",
            "2026-01-04",
        ],
    )
    .json();
    assert_eq!(m["balance"], "1000.00");
    let m = ok(
        &d,
        &center_env(),
        &["--json", "--reader", &center, "mint", "0.05"],
    )
    .json();
    assert_eq!(m["balance"], "1000.05");

    let slot1 = card(&d, "region", 1, None);
    let mut accounts = vec![g["account"].as_str().unwrap().to_string()];
    for (serial, (role, name, extra)) in (1u64..).zip([
        ("region", "NORTH", vec![]),
        ("branch", "BR-1", vec![]),
        ("user", "ALICE", vec!["--min", "5.00", "--max", "50.00"]),
        ("user", "SHOP", vec!["--merchant"]),
        ("admin", "ADMIN1", vec![]),
    ]) {
        if serial > 1 {
            d.pull("1");
            card(&d, &format!("c{serial}"), 1, None);
        }
        let r = issue(&d, &center, &slot1, role, name, &extra);
        assert_eq!(r.code, 0, "issue {role}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains("WARNING: development transport key"));
        let j = r.json();
        let acct = j["card"]["account"].as_str().unwrap().to_string();
        if role == "admin" {
            // an admin card gets the center's next issuer id; its own account is either that
            // id's serial 0 or the center's next serial (protocol.md 1.1 / 5.4)
            assert!(
                acct == account15("100001", 0) || acct == account15("100000", serial),
                "{j}"
            );
        } else {
            assert_eq!(acct, account15("100000", serial), "{j}");
        }
        assert!(!accounts.contains(&acct), "account {acct} issued twice");
        accounts.push(acct.clone());

        let st = status(&d, &slot1);
        assert_eq!(st["role"], role, "{st}");
        assert_eq!(st["name"], name);
        assert_eq!(st["account"], acct);
        assert_eq!(st["balance"], "0.00");
        assert_eq!(st["currency"], "EUR");
        assert_eq!(st["keys"], serde_json::json!([0, 1, 2, 3]));
        assert_eq!(st["app_id"], status(&d, &center)["app_id"], "same system");
        assert_eq!(st["merchant"], name == "SHOP");
        if name == "ALICE" {
            assert_eq!(st["min_trans"], "5.00");
            assert_eq!(st["max_trans"], "50.00");
            assert_eq!(st["txkey_tries"], Value::Null, "no transaction key set");
        }
        // the new card's PIN is PURSE_NEW_PIN
        ok(
            &d,
            &[("PURSE_PIN", "5678")],
            &["--reader", &slot1, "pin", "verify"],
        );
    }
    // a personalised card cannot be issued again
    let r = issue(&d, &center, &slot1, "user", "AGAIN", &[]);
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("already personalised"), "{}", r.stderr);

    // human status output names the essentials
    let text = ok(&d, &[], &["--reader", &center, "status"]).stdout;
    for w in [
        "center",
        "BANK",
        "1000000000000008",
        "1000.05 EUR",
        "passbook",
        "bad keys",
        "pending",
    ] {
        assert!(text.contains(w), "status lacks {w:?}:\n{text}");
    }
}

#[test]
fn passbook_needs_pin_and_pin_blocks_after_three() {
    let d = TestDesk::start(1);
    let center = card(&d, "center", 0, None);
    genesis(&d, &center, &[]);
    ok(
        &d,
        &center_env(),
        &[
            "--reader",
            &center,
            "mint",
            "250.00",
            "--date",
            "2026-01-06",
        ],
    );
    ok(
        &d,
        &center_env(),
        &["--reader", &center, "mint", "0.50", "--date", "2026-01-07"],
    );

    // no PIN given, no terminal: refused before the card is asked
    let r = run(&d, &[], &["--reader", &center, "passbook"]);
    assert_eq!(r.code, 2, "a missing secret is a usage error");
    assert!(r.stderr.contains("PURSE_PIN"), "{}", r.stderr);

    // wrong PIN: tries count down, the message says how many are left
    for left in [2, 1] {
        let r = run(
            &d,
            &[("PURSE_PIN", "9999")],
            &["--reader", &center, "passbook"],
        );
        assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains(&format!("wrong PIN, {left} tr")),
            "{}",
            r.stderr
        );
        assert_eq!(status(&d, &center)["pin_tries"], left);
    }
    // the right PIN resets the counter
    let pb = ok(
        &d,
        &[("PURSE_PIN", PIN)],
        &["--json", "--reader", &center, "passbook"],
    )
    .json();
    assert_eq!(status(&d, &center)["pin_tries"], 3);
    let e = pb["entries"].as_array().unwrap();
    assert_eq!(e.len(), 2, "{pb}");
    assert_eq!(e[0]["type"], "MINT");
    assert_eq!(e[0]["amount"], "250.00");
    assert_eq!(e[0]["balance"], "250.00");
    assert_eq!(e[0]["date"], "2026-01-06");
    assert_eq!(e[0]["account"], "1000000000000008");
    assert_eq!(e[1]["amount"], "0.50");
    assert_eq!(e[1]["balance"], "250.50");
    let text = ok(
        &d,
        &[("PURSE_PIN", PIN)],
        &["--reader", &center, "passbook"],
    )
    .stdout;
    assert!(
        text.contains("MINT") && text.contains("+250.00") && text.contains("250.50"),
        "{text}"
    );

    // three wrong PINs block it
    for _ in 0..3 {
        run(
            &d,
            &[("PURSE_PIN", "0000")],
            &["--reader", &center, "pin", "verify"],
        );
    }
    let r = run(
        &d,
        &[("PURSE_PIN", PIN)],
        &["--reader", &center, "passbook"],
    );
    assert_eq!(r.code, 4);
    assert!(r.stderr.contains("blocked"), "{}", r.stderr);
    assert_eq!(status(&d, &center)["pin_tries"], 0);

    // exceptions: none
    let x = ok(&d, &[], &["--json", "--reader", &center, "exceptions"]).json();
    assert_eq!(x["exceptions"], serde_json::json!([]));
}

#[test]
fn pin_change_and_secret_lengths() {
    let d = TestDesk::start(1);
    let center = card(&d, "center", 0, None);
    genesis(&d, &center, &[]);
    ok(
        &d,
        &[("PURSE_PIN", PIN), ("PURSE_NEW_PIN", "246810")],
        &["--reader", &center, "pin", "change"],
    );
    let r = run(
        &d,
        &[("PURSE_PIN", PIN)],
        &["--reader", &center, "pin", "verify"],
    );
    assert_eq!(r.code, 4, "old PIN still works");
    ok(
        &d,
        &[("PURSE_PIN", "246810")],
        &["--reader", &center, "pin", "verify"],
    );
    // a too short new PIN is refused by the CLI
    let r = run(
        &d,
        &[("PURSE_PIN", "246810"), ("PURSE_NEW_PIN", "12")],
        &["--reader", &center, "pin", "change"],
    );
    assert_eq!(r.code, 2, "a bad value is a usage error");
    // the creation secret changes too (center only)
    ok(
        &d,
        &[
            ("PURSE_CREATION_SECRET", CREATION),
            ("PURSE_NEW_CREATION_SECRET", "new-creation"),
        ],
        &["--reader", &center, "pin", "change", "--secret", "creation"],
    );
    ok(
        &d,
        &[("PURSE_CREATION_SECRET", "new-creation")],
        &["--reader", &center, "mint", "1.00"],
    );
}

#[test]
fn account_numbers_never_reused() {
    let d = TestDesk::start(2);
    let center = card(&d, "center", 0, None);
    genesis(&d, &center, &[]);
    let slot1 = card(&d, "b1", 1, None);

    // wrong transport key: the issuer refuses the blank card's cryptogram, no number is used
    let r = issue(
        &d,
        &center,
        &slot1,
        "user",
        "U1",
        &["--transport-key", "000102030405060708090A0B0C0D0E0F"],
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("transport key"), "{}", r.stderr);
    assert_eq!(status(&d, &slot1)["life"], "blank");

    let mut seen = std::collections::BTreeSet::new();
    let r = issue(&d, &center, &slot1, "user", "U1", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a1 = r.json()["card"]["account"].as_str().unwrap().to_string();
    assert_eq!(a1, account15("100000", 1));
    seen.insert(a1);

    // the next issuance takes the next number: the refused one used none
    d.pull("1");
    card(&d, "b2", 1, None);
    let r = issue(&d, &center, &slot1, "user", "U2", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let a2 = r.json()["card"]["account"].as_str().unwrap().to_string();
    assert_eq!(a2, account15("100000", 2));
    assert!(seen.insert(a2));

    for i in 3..6 {
        d.pull("1");
        card(&d, &format!("b{i}"), 1, None);
        let r = issue(&d, &center, &slot1, "branch", &format!("BR{i}"), &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let a = r.json()["card"]["account"].as_str().unwrap().to_string();
        assert!(Account::parse(&a).unwrap().is_valid());
        assert!(seen.insert(a.clone()), "account {a} repeated");
    }
}

#[test]
fn tdes_system_genesis_and_issue() {
    let d = TestDesk::start(2);
    // install parameter 00: TDES development transport key (protocol.md 5.1)
    let center = card(&d, "center", 0, Some("00"));
    let g = genesis(&d, &center, &["--suite", "tdes"]);
    assert_eq!(g["suite"], "3-key TDES");
    let slot1 = card(&d, "u", 1, None);
    let r = issue(&d, &center, &slot1, "region", "R", &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let st = status(&d, &slot1);
    assert_eq!(st["suite"], "3-key TDES");
    assert_eq!(st["role"], "region");
}

#[test]
fn mint_needs_creation_secret() {
    let d = TestDesk::start(2);
    let center = card(&d, "center", 0, None);
    genesis(&d, &center, &[]);
    ok(&d, &center_env(), &["--reader", &center, "mint", "1000.05"]);
    // too many decimals: refused before any card command
    let r = run(&d, &center_env(), &["--reader", &center, "mint", "1.005"]);
    assert_eq!(r.code, 2, "a bad amount is a usage error: {}", r.stderr);
    assert!(r.stderr.contains("decimals"), "{}", r.stderr);
    // wrong creation secret: card refuses, tries count down, balance unchanged
    let mut env = center_env();
    env.retain(|(k, _)| *k != "PURSE_CREATION_SECRET");
    env.push(("PURSE_CREATION_SECRET", "wrong-secret"));
    let r = run(&d, &env, &["--reader", &center, "mint", "1.00"]);
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("wrong creation secret, 4 tries left"),
        "{}",
        r.stderr
    );
    assert_eq!(status(&d, &center)["balance"], "1000.05");
    // the right one works again (and resets the counter); one verification per mint
    ok(&d, &center_env(), &["--reader", &center, "mint", "1.00"]);
    assert_eq!(status(&d, &center)["balance"], "1001.05");
    let r = run(
        &d,
        &[],
        &["--reader", &center, "apdu", "801A000006000000010000"],
    );
    assert_eq!(
        r.code, 4,
        "MINT without VERIFY in this session: {}",
        r.stdout
    );
    assert!(r.stdout.contains("9D16"), "{}", r.stdout);
    // without the secret and no terminal: the CLI names the variable
    env.retain(|(k, _)| *k != "PURSE_CREATION_SECRET");
    let r = run(&d, &env, &["--reader", &center, "mint", "1.00"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("PURSE_CREATION_SECRET"), "{}", r.stderr);
    // minting on a user card: refused by role
    let u = card(&d, "u", 1, None);
    assert_eq!(issue(&d, &center, &u, "user", "ALICE", &[]).code, 0);
    let r = run(
        &d,
        &[("PURSE_CREATION_SECRET", CREATION)],
        &["--reader", &u, "mint", "1.00"],
    );
    // the host's check (the card would refuse too): exit 1, not a card's status word
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("only the center card mints"),
        "{}",
        r.stderr
    );
    // overflow: refused, balance unchanged
    let r = run(
        &d,
        &center_env(),
        &["--reader", &center, "mint", "42949672.95"],
    );
    assert_eq!(r.code, 1, "host check: {}", r.stderr);
    assert_eq!(status(&d, &center)["balance"], "1001.05");
}

#[test]
fn dev_transport_key_needs_dev_flag() {
    let d = TestDesk::start(2);
    let center = card(&d, "center", 0, None);
    genesis(&d, &center, &[]);
    let blank = card(&d, "b", 1, None);
    let base = [
        "issue",
        "--issuer",
        center.as_str(),
        "--card",
        blank.as_str(),
        "--role",
        "user",
        "--name",
        "U",
    ];
    let r = run(&d, &center_env(), &base);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--dev"), "{}", r.stderr);
    // naming the dev key explicitly does not help
    let mut args = base.to_vec();
    args.extend_from_slice(&["--transport-key", "70757273652D6465762D7472616E7370"]);
    let r = run(&d, &center_env(), &args);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("--dev"), "{}", r.stderr);
    assert_eq!(status(&d, &blank)["life"], "blank");
    // an explicit (non-default) key is taken without --dev: here the card does not know it
    let mut env = center_env();
    env.push(("PURSE_TRANSPORT_KEY", "00112233445566778899AABBCCDDEEFF"));
    let r = run(&d, &env, &base);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("does not know this transport key"),
        "{}",
        r.stderr
    );
}

#[test]
fn wrong_transport_key_refused() {
    let d = TestDesk::start(1);
    // a card installed with its own transport key
    let tk = "000102030405060708090A0B0C0D0E0F";
    let c = card(&d, "c", 0, Some(tk));
    // genesis with the dev default: the card's cryptogram does not match, no try is used
    let r = run(
        &d,
        &center_env(),
        &["--reader", &c, "genesis", "--name", "BANK"],
    );
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("does not know this transport key"),
        "{}",
        r.stderr
    );
    let st = status(&d, &c);
    assert_eq!(st["life"], "blank");
    assert_eq!(st["transport_tries"], 15);
    // the right key, typed by the operator
    let r = ok(
        &d,
        &center_env(),
        &[
            "--json",
            "--reader",
            &c,
            "genesis",
            "--name",
            "BANK",
            "--transport-key",
            tk,
        ],
    );
    assert!(
        !r.stderr.contains("WARNING"),
        "no dev warning for a real key: {}",
        r.stderr
    );
    assert_eq!(r.json()["role"], "center");
}

#[test]
fn transport_tries_block_card() {
    let d = TestDesk::start(1);
    let c = card(&d, "c", 0, None);
    // a host that does not know the TK sends garbage HCs: each costs one of 15 tries
    let select = "00A4040007F070757273650100";
    let init = "80100000081122334455667788";
    // HC (8) | a G1-shaped packet (TYPE 11, KEYNUM 00, 110 garbage bytes)
    let finish = format!(
        "80120000{:02X}{}{}{}",
        120,
        "A5".repeat(8),
        "1100",
        "A5".repeat(110)
    );
    for left in (0..15).rev() {
        let r = run(
            &d,
            &[],
            &[
                "--json",
                "--reader",
                &c,
                "apdu",
                "--keep-going",
                select,
                init,
                &finish,
            ],
        );
        let v = r.json();
        let sws: Vec<&str> = v["exchanges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["sw"].as_str().unwrap())
            .collect();
        assert_eq!(sws[1], "9000", "AUTH_INIT with {left} tries left: {sws:?}");
        assert!(
            sws[2] == "9D03" || (left == 0 && sws[2] == "9D18"),
            "{sws:?}"
        );
        assert_eq!(status(&d, &c)["transport_tries"], left);
    }
    // now dead: even the right key is refused
    let r = run(
        &d,
        &center_env(),
        &["--reader", &c, "genesis", "--name", "BANK"],
    );
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("unusable"), "{}", r.stderr);
}

#[test]
fn admin_issues_from_its_own_issuer_id() {
    let d = TestDesk::start(2);
    let center = card(&d, "center", 0, None);
    genesis(&d, &center, &[]);
    let s1 = card(&d, "admin", 1, None);
    let r = issue(&d, &center, &s1, "admin", "ADMIN", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // the admin card issues from slot 1 into slot 0
    d.pull("0");
    let s0 = card(&d, "u1", 0, None);
    let env = [("PURSE_PIN", "5678"), ("PURSE_NEW_PIN", "4321")];
    let args = |name: &'static str, role: &'static str| {
        vec![
            "--json",
            "issue",
            "--issuer",
            s1.as_str(),
            "--card",
            s0.as_str(),
            "--role",
            role,
            "--name",
            name,
            "--dev",
        ]
    };
    let r = run(&d, &env, &args("U1", "user"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["card"]["account"], account15("100001", 1));
    // an admin cannot issue an admin
    d.pull("0");
    let s0b = card(&d, "a2", 0, None);
    assert_eq!(s0b, s0);
    let r = run(&d, &env, &args("A2", "admin"));
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("cannot issue"), "{}", r.stderr);
    // but region, branch, user it may
    let r = run(&d, &env, &args("B2", "branch"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["card"]["account"], account15("100001", 2));
}

/// F3 / T15: a payment out of the center needs the approval secret (the card checks it at
/// XFER_PAYER_INIT: 9D15), and the secret is spent by the payment.
#[test]
fn center_payout_needs_approval() {
    let d = TestDesk::start(2);
    let center = card(&d, "center", 0, None);
    genesis(&d, &center, &[]);
    ok(&d, &center_env(), &["--reader", &center, "mint", "1000.00"]);
    let region = card(&d, "region", 1, None);
    assert_eq!(issue(&d, &center, &region, "region", "NORTH", &[]).code, 0);

    // raw: PIN verified, no approval -> 9D15, nothing changes
    let pin_hex = hex::encode_upper(PIN);
    let verify = format!("8020000104{pin_hex}");
    let r = run(
        &d,
        &[],
        &[
            "--json",
            "--reader",
            &center,
            "apdu",
            "--keep-going",
            "00A4040007F070757273650100",
            &verify,
            // AMOUNT | DATE | SUITE | m | RP (protocol.md 4.1)
            "804200001000001388250001 00 0000000000000000",
        ],
    );
    let v = r.json();
    let sws: Vec<&str> = v["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["sw"].as_str().unwrap())
        .collect();
    assert_eq!(sws, ["9000", "9000", "9D15"], "{v}");
    assert_eq!(status(&d, &center)["balance"], "1000.00");

    let pay = [
        "--json",
        "transfer",
        "--from",
        center.as_str(),
        "--to",
        region.as_str(),
        "--yes",
        "50.00",
    ];
    // wrong approval secret: refused, balances unchanged
    let mut env = center_env();
    env.retain(|(k, _)| *k != "PURSE_APPROVAL_SECRET");
    env.push(("PURSE_APPROVAL_SECRET", "not-the-one"));
    let r = run(&d, &env, &pay);
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("approval secret"), "{}", r.stderr);
    assert_eq!(status(&d, &center)["balance"], "1000.00");
    assert_eq!(status(&d, &region)["balance"], "0.00");
    // with it: paid
    let r = run(&d, &center_env(), &pay);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(status(&d, &center)["balance"], "950.00");
    assert_eq!(status(&d, &region)["balance"], "50.00");
}

/// Patent example (protocol.md 3.2): a card holding keys 51-54 and one holding 54-57 share one
/// key only: no transfer, no money moves. (The positive example, 49-52 with 51-54, needs two
/// cards of one system at different key numbers: key rollover is issue 4; the choice of k is
/// unit-tested in `proto::types::key_tests`.)
#[test]
fn keys_51_54_and_54_57_do_not_transact() {
    let d = TestDesk::start(2);
    let pay = |from: &str, to: &str, amount: &str| {
        run(
            &d,
            &center_env(),
            &[
                "transfer",
                "--from",
                from,
                "--to",
                to,
                "--yes",
                "--date",
                "2026-01-06",
                amount,
            ],
        )
    };
    // system A: keys 51..54; its region gets 100.00
    let s0 = card(&d, "centerA", 0, None);
    let g = genesis(&d, &s0, &["--first-key", "51"]);
    assert_eq!(g["current_key"], 54);
    ok(&d, &center_env(), &["--reader", &s0, "mint", "1000.00"]);
    let s1 = card(&d, "regionA", 1, None);
    assert_eq!(issue(&d, &s0, &s1, "region", "REGA", &[]).code, 0);
    let r = pay(&s0, &s1, "100.00");
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // system B: keys 54..57, a branch
    d.pull("0");
    d.pull("1");
    card(&d, "centerB", 0, None);
    genesis(&d, &s0, &["--first-key", "54", "--issuer-id", "200000"]);
    card(&d, "branchB", 1, None);
    assert_eq!(issue(&d, &s0, &s1, "branch", "BRB", &[]).code, 0);
    assert_eq!(status(&d, &s1)["keys"], serde_json::json!([54, 55, 56, 57]));
    // region A (51-54) pays branch B (54-57)
    d.pull("0");
    d.insert("regionA", Some(0), false);
    assert_eq!(status(&d, &s0)["keys"], serde_json::json!([51, 52, 53, 54]));
    let env = [("PURSE_PIN", "5678"), ("PURSE_TXKEY", "")];
    let r = run(
        &d,
        &env,
        &["transfer", "--from", &s0, "--to", &s1, "--yes", "10.00"],
    );
    assert_ne!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("fewer than two keys"), "{}", r.stderr);
    // the CLI refused before asking the cards; the cards refuse too: payee announces m = 54,
    // payer (PIN verified) finds no pair: 9D02 and BAD_KEY + 1
    let sws = |reader: &str, apdus: &[&str]| -> Vec<String> {
        let mut args = vec![
            "--json",
            "--reader",
            reader,
            "apdu",
            "--keep-going",
            "00A4040007F070757273650100",
        ];
        args.extend_from_slice(apdus);
        let v = run(&d, &[], &args).json();
        v["exchanges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["data"].as_str().unwrap(),
                    e["sw"].as_str().unwrap()
                )
            })
            .collect()
    };
    // the payee's hello follows the status in its SELECT answer: STATUS (68) | oldest | RP (8
    // fresh random bytes); SUITE is STATUS offset 3; a bank card (this branch) then adds its
    // files' header: COUNT 0, RATE 0, LOW, HIGH, ARCH 0, CURRENT 57
    let payee = sws(&s1, &[]);
    let sel = &payee[0];
    assert!(
        sel.len() == 2 * 101 + 5 && sel.ends_with(" 9000") && &sel[6..8] == "01",
        "payee SELECT: {payee:?}"
    );
    assert_eq!(&sel[154..166], "000000000000", "COUNT, RATE: {payee:?}");
    assert_eq!(&sel[198..202], "0039", "ARCH, CURRENT: {payee:?}");
    assert_eq!(&sel[136..138], "36", "payee: oldest key 54: {payee:?}");
    let hello = format!("01{}", &sel[136..154]);
    let payer_init = format!("8042000010000003E82500{hello}");
    let payer = sws(&s0, &["802000010435363738", &payer_init]);
    assert_eq!(payer[1], " 9000");
    assert_eq!(payer[2], " 9D02", "{payer:?}");
    assert_eq!(
        status(&d, &s0)["bad_key"],
        1,
        "a failed key negotiation counts one BAD_KEY"
    );
    assert_eq!(status(&d, &s0)["balance"], "100.00");
    assert_eq!(status(&d, &s1)["balance"], "0.00");
}

/// The same commands on cards answering T=0 style (61xx / 6Cxx handled by apdu::Channel).
#[test]
fn t0_cards_work() {
    let d = TestDesk::start(2);
    for (n, slot) in [("c", 0usize), ("u", 1)] {
        d.ok(&[
            "desk",
            "new",
            n,
            "--applet",
            PURSE_CLASS,
            "--aid",
            PURSE_AID,
        ]);
        d.insert(n, Some(slot), true);
    }
    let readers = d.readers();
    let r0 = readers[0]["name"].as_str().unwrap().to_string();
    let r1 = readers[1]["name"].as_str().unwrap().to_string();
    genesis(&d, &r0, &[]);
    ok(&d, &center_env(), &["--reader", &r0, "mint", "12.34"]);
    assert_eq!(issue(&d, &r0, &r1, "user", "U", &[]).code, 0);
    assert_eq!(status(&d, &r0)["balance"], "12.34");
    let pb = ok(&d, &center_env(), &["--json", "--reader", &r0, "passbook"]).json();
    assert_eq!(pb["entries"][0]["amount"], "12.34");
    assert_eq!(status(&d, &r1)["role"], "user");
}
