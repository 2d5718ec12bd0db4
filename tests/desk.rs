//! The virtual desk end to end, through a real pcscd: start, new, insert, readers, APDUs, pull,
//! persistence, T=0, exit codes, foreign PC/SC clients.
use purse_testkit as kit;

use kit::*;

#[test]
fn lifecycle_insert_select_pull_and_persistence() {
    let mut desk = TestDesk::start(2);
    desk.new_card("alice");

    // both slots empty, named as documented
    let readers = desk.readers();
    assert_eq!(readers.len(), 2, "{readers:?}");
    assert_eq!(readers[0]["name"], "Purse Desk 00 00");
    assert_eq!(readers[1]["name"], "Purse Desk 00 01");
    assert!(readers.iter().all(|r| r["card_present"] == false));

    let ins = desk.insert("alice", None, false);
    assert_eq!(ins["slot"], 0);
    let millis = ins["millis"].as_u64().expect("millis");
    // a figure, not a timing test (docs/benchmarks.md): the bound only catches a hang
    println!("FIGURES insert {millis} ms");
    assert!(
        millis < 10_000,
        "insert took {millis} ms: the card process never connected"
    );

    let readers = desk.readers();
    assert_eq!(readers[0]["card_present"], true, "{readers:?}");
    let atr = readers[0]["atr"].as_str().expect("ATR");
    assert!(atr.starts_with("3B"), "ATR {atr}");
    assert_eq!(readers[1]["card_present"], false);

    // SELECT answers version + capabilities; the counter counts
    let r = desk.apdu("0", &[SELECT_HELLO, HELLO_COUNT, HELLO_COUNT]);
    assert_eq!(r[0].1, "9000");
    assert_eq!(
        r[0].0.len(),
        6,
        "SELECT data = major minor capabilities: {r:?}"
    );
    assert_eq!(r[1], ("00000001".to_string(), "9000".to_string()));
    assert_eq!(r[2], ("00000002".to_string(), "9000".to_string()));

    // reader by name substring
    let r = desk.apdu("Desk 00 00", &[SELECT_HELLO, HELLO_READ]);
    assert_eq!(r[1].0, "00000002");

    // status and cards agree
    let st: serde_json::Value =
        serde_json::from_str(&desk.ok(&["--json", "desk", "status"])).unwrap();
    assert_eq!(st["running"], true);
    assert_eq!(st["slots"][0]["card"], "alice");
    assert_eq!(st["slots"][0]["card_alive"], true);
    let cards: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(&desk.ok(&["--json", "desk", "cards"])).unwrap()
            ["cards"]
            .clone();
    assert_eq!(cards[0]["name"], "alice");
    assert_eq!(cards[0]["slot"], 0);

    // pull: the reader shows empty
    let p = desk.pull("alice");
    assert!(
        p["millis"].as_u64().expect("millis") < 10_000,
        "pull took {p}: the reader never showed the card gone"
    );
    let readers = desk.readers();
    assert!(
        readers.iter().all(|r| r["card_present"] == false),
        "{readers:?}"
    );
    let r = desk.purse(&["--reader", "0", "apdu", SELECT_HELLO]);
    assert_eq!(r.code, 3, "no card -> exit 3: {}{}", r.stdout, r.stderr);

    // re-insert into the other slot: the counter survived
    let ins = desk.insert("alice", Some(1), false);
    assert_eq!(ins["reader"], "Purse Desk 00 01");
    let r = desk.apdu("1", &[SELECT_HELLO, HELLO_COUNT]);
    assert_eq!(r[1].0, "00000003");
    desk.pull("1");
    desk.stop();
    let st: serde_json::Value =
        serde_json::from_str(&desk.ok(&["--json", "desk", "status"])).unwrap();
    assert_eq!(st["running"], false);
}

#[test]
fn t0_card_exercises_get_response() {
    let desk = TestDesk::start(2);
    desk.new_card("t0card");
    desk.insert("t0card", Some(0), true);
    let r = desk.purse(&[
        "-d",
        "--reader",
        "0",
        "apdu",
        SELECT_HELLO,
        "8020000003AABBCC00",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // the trace shows the card's 61xx and our GET RESPONSE; the user sees data + 9000
    assert!(
        r.stderr.contains("<< 61"),
        "no 61xx in trace:\n{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(">> 00C00000"),
        "no GET RESPONSE in trace:\n{}",
        r.stderr
    );
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].ends_with(" 9000") && lines[0].len() == 6 + 5,
        "{lines:?}"
    );
    assert_eq!(lines[1], "AABBCC 9000");
}

#[test]
fn exit_codes_and_refusals() {
    let desk = TestDesk::start(2);
    desk.new_card("c");
    desk.insert("c", None, false);
    // unknown INS -> the card refuses -> exit 4, the SW is printed
    let r = desk.purse(&["--reader", "0", "apdu", SELECT_HELLO, "807F0000"]);
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("6D00"), "{}", r.stdout);
    // unknown AID
    let r = desk.purse(&["--reader", "0", "apdu", "00A4040005F000000000"]);
    assert_eq!(r.code, 4);
    // usage
    assert_eq!(desk.purse(&["apdu"]).code, 2);
    // a bad value (not hex): usage
    assert_eq!(desk.purse(&["--reader", "0", "apdu", "zz"]).code, 2);
    // no such reader
    assert_eq!(
        desk.purse(&["--reader", "no such reader", "apdu", SELECT_HELLO])
            .code,
        3
    );
    // desk errors
    assert_eq!(desk.purse(&["desk", "new", "c"]).code, 1, "duplicate card");
    assert_eq!(
        desk.purse(&["desk", "insert", "c"]).code,
        1,
        "already inserted"
    );
    assert_eq!(
        desk.purse(&["desk", "insert", "nope"]).code,
        1,
        "unknown card"
    );
    assert_eq!(desk.purse(&["desk", "new", "../x"]).code, 1, "bad name");
    assert_eq!(desk.purse(&["desk", "start"]).code, 1, "already running");
    desk.new_card("d");
    assert_eq!(
        desk.purse(&["desk", "insert", "d", "--slot", "0"]).code,
        1,
        "occupied slot"
    );
    assert_eq!(
        desk.purse(&["desk", "insert", "d", "--slot", "7"]).code,
        1,
        "no such slot"
    );
}

#[test]
fn foreign_clients_see_a_real_reader() {
    let desk = TestDesk::start(2);
    desk.new_card("f");
    desk.insert("f", Some(0), false);

    // pcsc_scan: lists the virtual readers and the card with its ATR
    let out = desk
        .foreign("pcsc_scan")
        .args(["-c", "-n"])
        .output()
        .expect("pcsc_scan (package pcsc-tools)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Purse Desk 00 00"), "pcsc_scan:\n{text}");
    assert!(text.contains("Card inserted"), "pcsc_scan:\n{text}");
    assert!(text.contains("ATR: 3B"), "pcsc_scan:\n{text}");

    // scriptor: SELECT the applet -> 90 00
    let script = desk.path().join("select.txt");
    std::fs::write(
        &script,
        format!("{}\n", &SELECT_HELLO[..SELECT_HELLO.len() - 2]),
    )
    .unwrap();
    let out = desk
        .foreign("scriptor")
        .args(["-r", "Purse Desk 00 00"])
        .arg(&script)
        .output()
        .expect("scriptor (package pcsc-tools)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "scriptor failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("90 00"), "scriptor:\n{text}");

    // opensc-tool too
    let out = desk
        .foreign("opensc-tool")
        .args(["-r", "0", "-s", &SELECT_HELLO[..SELECT_HELLO.len() - 2]])
        .output()
        .expect("opensc-tool (package opensc)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("SW1=0x90, SW2=0x00"), "opensc-tool:\n{text}");
}

#[test]
fn two_desks_side_by_side_are_isolated() {
    let a = TestDesk::start(2);
    let b = TestDesk::start(4);
    assert_ne!(a.base_port, b.base_port);
    assert_eq!(a.readers().len(), 2);
    assert_eq!(b.readers().len(), 4);
    a.new_card("x");
    a.insert("x", None, false);
    assert!(
        b.readers().iter().all(|r| r["card_present"] == false),
        "a card in desk a shows in desk b"
    );
    // only our virtual slots: the desk's pcscd never loads USB drivers
    assert!(a
        .readers()
        .iter()
        .all(|r| r["name"].as_str().unwrap_or("").starts_with("Purse Desk")));
    // `desk conf` prints reader.conf entries for a system pcscd
    let conf = a.ok(&["desk", "conf"]);
    assert!(
        conf.contains("LIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so"),
        "{conf}"
    );
    assert!(conf.contains(&format!("0x{:X}", a.base_port)), "{conf}");
}

/// `desk tear NAME K`: the card loses power after the K-th write of its next APDU, the host sees
/// it vanish (exit 3), the card comes back by itself, and the transaction rolled back.
#[test]
fn tear_loses_power_then_card_returns_rolled_back() {
    let desk = TestDesk::start(2);
    desk.new_card("t");
    desk.insert("t", Some(0), false);
    let r = desk.apdu("0", &[SELECT_HELLO, HELLO_COUNT]);
    assert_eq!(r[1].0, "00000001");
    let out = desk.ok(&["desk", "tear", "t", "1"]);
    assert!(out.contains("write 1"), "{out}");
    let cards: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(&desk.ok(&["--json", "desk", "cards"])).unwrap()
            ["cards"]
            .clone();
    assert_eq!(cards[0]["tear"], "1");
    // the applet stays selected between purse invocations (LeaveCard: no reset), so the next
    // APDU is COUNT itself
    let r = desk.purse(&["--reader", "0", "apdu", HELLO_COUNT]);
    assert_eq!(
        r.code, 3,
        "torn COUNT must show the card gone: {}{}",
        r.stdout, r.stderr
    );
    assert!(r.stderr.contains("stopped answering"), "{}", r.stderr);
    // the card reconnects by itself (fresh power-up); pcscd notices within its 400 ms poll,
    // so until then a command may still hit the lost card (exit 3)
    let t = std::time::Instant::now();
    let r = loop {
        let r = desk.purse(&["--json", "--reader", "0", "apdu", SELECT_HELLO, HELLO_READ]);
        if r.code == 0 {
            break r.json();
        }
        assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "torn card did not come back"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(
        r["exchanges"][1]["data"], "00000001",
        "the torn increment must have rolled back"
    );
    let info: serde_json::Value = serde_json::from_str(&desk.ok(&["desk", "info", "t"])).unwrap();
    assert!(info["counters"]["apdus"].as_u64().is_some(), "{info}");
    let cards: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(&desk.ok(&["--json", "desk", "cards"])).unwrap()
            ["cards"]
            .clone();
    assert!(cards[0]["tear"].is_null(), "tear file consumed: {cards}");
}

/// Six slots (three reader.conf entries): a card in every slot at once, each answering on its
/// own reader. vpcd's driver keeps its sockets in globals, so this needs one driver copy per
/// entry (crates/purse-desk/src/lib.rs reader_conf).
#[test]
fn six_slots_hold_six_cards_at_once() {
    let desk = TestDesk::start(6);
    let readers = desk.readers();
    assert_eq!(readers.len(), 6, "{readers:?}");
    let names: Vec<&str> = readers
        .iter()
        .map(|r| r["name"].as_str().unwrap_or(""))
        .collect();
    let mut uniq = names.clone();
    uniq.dedup();
    assert_eq!(uniq.len(), 6, "reader names must differ: {names:?}");
    for i in 0..6 {
        let name = format!("c{i}");
        desk.new_card(&name);
        let ins = desk.insert(&name, Some(i), false);
        assert_eq!(ins["slot"], i as u64, "{ins}");
    }
    let readers = desk.readers();
    assert!(
        readers.iter().all(|r| r["card_present"] == true),
        "{readers:?}"
    );
    for i in 0..6 {
        // each card counts on its own: the k-th card has seen k+1 COUNTs after this loop
        for _ in 0..=i {
            let r = desk.apdu(&i.to_string(), &[SELECT_HELLO, HELLO_COUNT]);
            assert_eq!(r[1].1, "9000", "slot {i}: {r:?}");
        }
    }
    for i in 0..6 {
        let r = desk.apdu(&i.to_string(), &[SELECT_HELLO, HELLO_COUNT]);
        assert_eq!(
            r[1].0,
            format!("{:08X}", i + 2),
            "slot {i} answered for another card: {r:?}"
        );
    }
}

/// `desk tear NAME K` stays armed across APDUs until the K-th persistent write since arming
/// (reads and SELECTs do not use it up), then says where it fired; `--ins` counts only the
/// writes of one instruction.
#[test]
fn tear_stays_armed_until_kth_write_and_reports_where() {
    let desk = TestDesk::start(2);
    desk.new_card("t");
    desk.insert("t", Some(0), false);
    // counter 0 -> 1 (one write per COUNT while no carry)
    let r = desk.apdu("0", &[SELECT_HELLO, HELLO_COUNT]);
    assert_eq!(r[1].0, "00000001");
    desk.ok(&["desk", "tear", "t", "2"]);
    // SELECT, READ: no write; first COUNT: write 1 of 2; all answer
    let r = desk.apdu("0", &[SELECT_HELLO, HELLO_READ, HELLO_COUNT, HELLO_READ]);
    assert_eq!(r[2].0, "00000002");
    let cards: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(&desk.ok(&["--json", "desk", "cards"])).unwrap()
            ["cards"]
            .clone();
    assert_eq!(
        cards[0]["tear"], "2",
        "still armed after one write: {cards}"
    );
    // second COUNT: write 2 fires
    let r = desk.purse(&["--reader", "0", "apdu", HELLO_COUNT]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    let info: serde_json::Value = serde_json::from_str(&desk.ok(&["desk", "info", "t"])).unwrap();
    let fired = &info["tear"]["fired"];
    assert_eq!(fired["k"], 2, "{info}");
    assert_eq!(fired["apdu_header"], "80100000", "{info}");
    assert_eq!(fired["apdu_number"], 5, "5th APDU since arming: {info}");
    assert_eq!(fired["write_in_apdu"], 1, "{info}");
    assert!(
        info["tear"]["armed"].is_null(),
        "disarmed once fired: {info}"
    );
    let out = desk.ok(&["desk", "cards"]);
    assert!(out.contains("tear fired at write 2 of APDU 5"), "{out}");

    // --ins: COUNTs (INS 10) never fire a tear aimed at INS 20 (ECHO); wait for the card back
    let t = std::time::Instant::now();
    let count = loop {
        let r = desk.purse(&["--json", "--reader", "0", "apdu", SELECT_HELLO, HELLO_READ]);
        if r.code == 0 {
            break r.json()["exchanges"][1]["data"]
                .as_str()
                .unwrap()
                .to_string();
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "card did not come back"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(count, "00000002", "the torn COUNT rolled back");
    desk.ok(&["desk", "tear", "t", "1", "--ins", "20"]);
    let r = desk.apdu("0", &[SELECT_HELLO, HELLO_COUNT, HELLO_COUNT]);
    assert_eq!(r[2].0, "00000004");
    let cards: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(&desk.ok(&["--json", "desk", "cards"])).unwrap()
            ["cards"]
            .clone();
    assert_eq!(cards[0]["tear"], "1 ins=20", "{cards}");
    desk.ok(&["desk", "tear", "t", "0"]);
    let cards: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(&desk.ok(&["--json", "desk", "cards"])).unwrap()
            ["cards"]
            .clone();
    assert!(cards[0]["tear"].is_null(), "k = 0 disarms: {cards}");
}
