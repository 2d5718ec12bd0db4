//! `purse issue --batch`: a CSV of cards issued as blank cards are inserted one after another
//! into the same slot, through pcscd and desk cards running the real applet. A thread plays the
//! operator: it reads the command's JSON lines and, at each "waiting", pulls the last card and
//! inserts the next one (an already issued card in between, and a blank card that loses power in
//! the middle of its personalisation). Then: every card holds its row, its PIN from the PIN file
//! works, a rerun issues nothing twice, bad rows fail before any card is touched, more rows come
//! on stdin with PINs from the CSV, --timeout and Ctrl-C end the batch with a summary, and a
//! batch from an admin card names the account range a bank card must be given.
use purse_testkit as kit;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use kit::{Run, TestDesk};
use serde_json::Value;

/// The center's secrets (genesis sets them; issuing from the center needs PIN and approval).
fn center_env(c: &mut Command) -> &mut Command {
    for k in kit::SECRET_VARS {
        c.env_remove(k);
    }
    c.env_remove("PURSE_READER");
    c.env("PURSE_PIN", "1234")
        .env("PURSE_TXKEY", "")
        .env("PURSE_CREATION_SECRET", "create-money")
        .env("PURSE_APPROVAL_SECRET", "approve-it")
        .env("PURSE_NEW_PIN", "5678")
        .env("PURSE_NEW_TXKEY", "")
}

fn run(d: &TestDesk, args: &[&str], stdin: Option<&str>) -> Run {
    let mut c = d.cmd();
    center_env(&mut c)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("run purse");
    {
        let mut w = child.stdin.take().expect("stdin");
        if let Some(s) = stdin {
            w.write_all(s.as_bytes()).expect("write stdin");
        }
    }
    let o = child.wait_with_output().expect("wait purse");
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn ok(d: &TestDesk, args: &[&str]) -> Run {
    let r = run(d, args, None);
    assert_eq!(
        r.code, 0,
        "purse {args:?} failed ({}):\n{}{}",
        r.code, r.stdout, r.stderr
    );
    r
}

fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

fn events(v: &[Value]) -> Vec<String> {
    v.iter()
        .map(|e| e["event"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// CSV file rows as (header -> value) maps.
fn csv_rows(p: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut it = text.lines();
    let head: Vec<&str> = it.next().expect("header").split(',').collect();
    it.map(|l| {
        head.iter()
            .zip(l.split(','))
            .map(|(h, v)| (h.to_string(), v.trim_matches('"').to_string()))
            .collect()
    })
    .collect()
}

fn status(d: &TestDesk, reader: &str) -> Value {
    ok(d, &["--json", "--reader", reader, "status"]).json()
}

/// What the operator does at each "waiting" line.
enum Step {
    /// Pull the card in the slot (if any) and insert this one.
    Insert(&'static str),
    /// The same, with a power loss armed in the card's personalisation (INS 12, write 3).
    InsertTorn(&'static str),
    /// Nothing: the card that lost power comes back by itself (the desk re-inserts it), as an
    /// operator would re-insert the same card.
    Wait,
}

#[test]
fn batch_issuance() {
    let t0 = Instant::now();
    let d = TestDesk::start(2);
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("cards.csv");
    let reg = dir.path().join("issued.csv");
    let pins = dir.path().join("pins.csv");
    let (csv_s, reg_s, pins_s) = (
        csv.to_str().expect("utf8").to_string(),
        reg.to_str().expect("utf8").to_string(),
        pins.to_str().expect("utf8").to_string(),
    );
    let batch = |file: &str, extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "--json",
            "issue",
            "--from",
            "0",
            "--to",
            "1",
            "--batch",
            file,
            "--out",
            &reg_s,
            "--dev",
            "--date",
            "2026-01-05",
            "--timeout",
            "60",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };

    // 1. bad rows: every one reported with its line, exit 2, before any card (none is in yet)
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "# a comment\nref,name,merchant\nc1,ALICE,no\nc2,TOOLONGNAME,\nc1,BOB,\nc3,CAROL,maybe\n",
    )
    .expect("write");
    let r = run(
        &d,
        &batch(bad.to_str().expect("utf8"), &["--pins", &pins_s])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        None,
    );
    assert_eq!(r.code, 2, "bad CSV: {}{}", r.stdout, r.stderr);
    // not a terminal: the failure is one JSON error line on stdout
    assert_eq!(r.stdout.lines().count(), 1, "bad CSV: {}", r.stdout);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("bad CSV: not one JSON document ({e}): {}", r.stdout));
    assert_eq!(doc["ok"], false, "{doc}");
    assert_eq!(doc["schema_version"], 1, "{doc}");
    assert_eq!(doc["error"]["kind"], "usage", "{doc}");
    let msg = doc["error"]["message"].as_str().unwrap_or_default();
    for want in [
        "line 4: name \"TOOLONGNAME\"",
        "line 5: ref \"c1\" again (first on line 3)",
        "line 6: merchant",
        "3 bad rows",
        "no card was touched",
    ] {
        assert!(msg.contains(want), "missing {want:?} in: {msg}");
    }
    assert!(
        !reg.exists() && !pins.exists(),
        "files written for a bad CSV"
    );

    // the center, and an already issued card to slip in between
    d.ok(&["desk", "new", "center"]);
    d.insert("center", Some(0), false);
    ok(
        &d,
        &[
            "--reader",
            "0",
            "genesis",
            "--name",
            "BANK",
            "--currency",
            "EUR",
            "--decimals",
            "2",
            "--date",
            "2026-01-04",
        ],
    );
    for c in ["old", "b1", "b2", "b3", "b4"] {
        d.ok(&["desk", "new", c]);
    }
    d.insert("old", Some(1), false);
    ok(
        &d,
        &[
            "issue",
            "--from",
            "0",
            "--to",
            "1",
            "--role",
            "user",
            "--name",
            "OLD",
            "--dev",
            "--date",
            "2026-01-05",
        ],
    );
    d.pull("old");

    // an amount the currency cannot hold: found after reading the issuer, before a blank card
    d.insert("b1", Some(1), false);
    std::fs::write(&bad, "name,min\nALICE,1.234\n").expect("write");
    let r = run(
        &d,
        &batch(bad.to_str().expect("utf8"), &["--pins", &pins_s])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        None,
    );
    assert_eq!(r.code, 2, "bad amount: {}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("line 2: min") && r.stderr.contains("no blank card was touched"),
        "{}",
        r.stderr
    );
    assert_eq!(status(&d, "1")["life"], "blank", "b1 touched");
    assert_eq!(status(&d, "1")["transport_tries"], 15, "b1 touched");
    d.pull("b1");

    // 2. the batch, the operator in a thread
    std::fs::write(
        &csv,
        "# customers of 5 January\nref,name,role,min,merchant\n\
         cust-1,ALICE,,2.50,\n\
         cust-2,BOB,user,,yes\n\
         # the branch card for the new office\n\
         office-7,BRANCH7,branch,,\n",
    )
    .expect("write");
    let args = batch(&csv_s, &["--pins", &pins_s]);
    let mut c = d.cmd();
    center_env(&mut c)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn batch");
    let stdout = child.stdout.take().expect("stdout");
    let mut plan = vec![
        Step::Insert("b1"),
        Step::Insert("old"),
        Step::InsertTorn("b2"),
        Step::Wait,
        Step::Insert("b3"),
    ]
    .into_iter();
    let mut seen = Vec::new();
    let mut in_slot: Option<&str> = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("read line");
        let v: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if v["event"] == "waiting" {
            match plan.next() {
                Some(Step::Insert(n)) => {
                    if in_slot.take().is_some() {
                        d.pull("1");
                    }
                    d.insert(n, Some(1), false);
                    in_slot = Some(n);
                }
                Some(Step::InsertTorn(n)) => {
                    if in_slot.take().is_some() {
                        d.pull("1");
                    }
                    d.ok(&["desk", "tear", n, "3", "--ins", "12"]);
                    d.insert(n, Some(1), false);
                    in_slot = Some(n);
                }
                Some(Step::Wait) => {}
                None => panic!("the batch waits for more cards than planned: {seen:?}"),
            }
        }
        seen.push(v);
    }
    let out = child.wait_with_output().expect("wait batch");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "batch failed: {stderr}\n{seen:#?}"
    );
    assert!(plan.next().is_none(), "the batch ended before the plan");
    assert_eq!(
        events(&seen),
        [
            "start", "waiting", "issued", "waiting", "refused", "waiting", "error", "waiting",
            "issued", "waiting", "issued", "summary"
        ],
        "{seen:#?}"
    );
    for v in &seen {
        assert_eq!(v["schema_version"], 1, "{v}");
    }
    assert_eq!(seen[0]["rows"], 3);
    assert_eq!(seen[0]["to_issue"], 3);
    // waiting names the row it waits for; the refused card does not use up the row
    assert_eq!(seen[1]["line"], 3);
    assert_eq!(seen[3]["line"], 4);
    assert_eq!(seen[4]["line"], 4);
    assert_eq!(seen[4]["card"]["name"], "OLD");
    assert!(
        seen[4]["reason"]
            .as_str()
            .is_some_and(|s| s.contains("not a blank card")),
        "{}",
        seen[4]
    );
    // the pulled card: an error for row 4, retried on the next insertion
    assert_eq!(seen[6]["line"], 4);
    assert_eq!(seen[6]["retry"], true);
    assert_eq!(seen[6]["step"], "personalise");
    assert_eq!(seen[6]["account_skipped"], true);
    assert_eq!(seen[7]["line"], 4);
    let issued: Vec<&Value> = seen.iter().filter(|v| v["event"] == "issued").collect();
    let want = [
        (3, "cust-1", "ALICE", "user", "2.50", false),
        (4, "cust-2", "BOB", "user", "0.00", true),
        (6, "office-7", "BRANCH7", "branch", "0.00", false),
    ];
    for (v, (line, rf, name, role, min, merchant)) in issued.iter().zip(want) {
        assert_eq!(v["line"], line, "{v}");
        assert_eq!(v["ref"], rf, "{v}");
        assert_eq!(v["name"], name, "{v}");
        assert_eq!(v["role"], role, "{v}");
        assert_eq!(v["min"], min, "{v}");
        assert_eq!(v["merchant"], merchant, "{v}");
        assert_eq!(v["pin"], "generated", "{v}");
        assert!(v["seconds"].as_f64().is_some_and(|s| s > 0.0), "{v}");
    }
    let sum = seen.last().expect("summary");
    assert_eq!(
        (
            &sum["issued"],
            &sum["skipped"],
            &sum["refused"],
            &sum["errors"],
            &sum["remaining"],
            &sum["complete"]
        ),
        (
            &Value::from(3),
            &Value::from(0),
            &Value::from(1),
            &Value::from(1),
            &Value::from(0),
            &Value::from(true)
        ),
        "{sum}"
    );
    assert!(sum["seconds_per_card"].as_f64().is_some_and(|s| s > 0.0));
    // the power loss fired inside the personalisation, and the card was issued after all
    let info: Value =
        serde_json::from_str(&d.ok(&["--json", "desk", "info", "b2"])).expect("info JSON");
    assert_eq!(
        info["tear"]["fired"]["apdu_header"], "80120000",
        "{}",
        info["tear"]
    );

    // the register and the PIN file: one line per card, the PIN file readable by its owner only
    let regs = csv_rows(&reg);
    let pinr = csv_rows(&pins);
    assert_eq!(regs.len(), 3, "{regs:?}");
    assert_eq!(pinr.len(), 3, "{pinr:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&pins).expect("pins").permissions().mode();
        assert_eq!(mode & 0o077, 0, "PIN file mode {mode:o}");
    }
    // 3. every card holds its row, and its generated PIN works
    for ((card, v), (r, p)) in ["b1", "b2", "b3"]
        .iter()
        .zip(&issued)
        .zip(regs.iter().zip(&pinr))
    {
        assert_eq!(r["account"], v["account"].as_str().unwrap_or("?"));
        assert_eq!(p["account"], r["account"]);
        assert_eq!(r["ref"], v["ref"].as_str().unwrap_or("?"));
        d.pull("1");
        d.insert(card, Some(1), false);
        let st = status(&d, "1");
        assert_eq!(st["life"], "active", "{card}: {st}");
        assert_eq!(st["account"], v["account"], "{card}: {st}");
        assert_eq!(st["name"], v["name"], "{card}: {st}");
        assert_eq!(st["role"], v["role"], "{card}: {st}");
        assert_eq!(st["min_trans"], v["min"], "{card}: {st}");
        assert_eq!(st["pin_tries"], 3, "{card}: {st}");
        let mut c = d.cmd();
        let o = center_env(&mut c)
            .env("PURSE_PIN", &p["pin"])
            .args(["--reader", "1", "pin", "verify"])
            .stdin(Stdio::null())
            .output()
            .expect("pin verify");
        assert_eq!(
            o.status.code(),
            Some(0),
            "{card}: the PIN from the PIN file: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // the torn attempt skipped one account number: BOB's serial is ALICE's + 2
    let serial = |v: &Value| -> u64 {
        v["account"].as_str().expect("account")[6..15]
            .parse()
            .expect("digits")
    };
    assert_eq!(serial(issued[1]), serial(issued[0]) + 2);
    assert_eq!(serial(issued[2]), serial(issued[1]) + 1);

    // 4. a rerun issues nothing twice: every row skipped, no card asked for (none inserted)
    d.pull("1");
    let r = ok(
        &d,
        &batch(&csv_s, &["--pins", &pins_s])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let v = lines(&r.stdout);
    assert_eq!(
        events(&v),
        ["start", "skipped", "skipped", "skipped", "summary"],
        "{v:#?}"
    );
    for (s, i) in v[1..4].iter().zip(&issued) {
        assert_eq!(s["account"], i["account"], "{s}");
    }
    assert_eq!(v[4]["issued"], 0);
    assert_eq!(v[4]["complete"], true);
    assert_eq!(csv_rows(&reg).len(), 3);
    assert_eq!(csv_rows(&pins).len(), 3);

    // 5. more rows on stdin, PINs from the CSV (with a warning), the blank card already in a
    //    reader when the batch starts and no --to (any reader but the issuer's)
    d.insert("b4", Some(1), false);
    let more = "ref,name,pin\ncust-1,ALICE,1111\ncust-9,DORA,4321\n";
    let r = run(
        &d,
        &[
            "--json",
            "issue",
            "--from",
            "0",
            "--batch",
            "-",
            "--out",
            &reg_s,
            "--dev",
            "--timeout",
            "30",
        ],
        Some(more),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("holds the cards' PINs in clear"),
        "{}",
        r.stderr
    );
    let v = lines(&r.stdout);
    assert_eq!(
        events(&v),
        ["start", "skipped", "waiting", "issued", "summary"],
        "{v:#?}"
    );
    assert_eq!(v[3]["name"], "DORA");
    assert_eq!(v[3]["pin"], "csv");
    assert_eq!(csv_rows(&reg).len(), 4);
    let mut c = d.cmd();
    let o = center_env(&mut c)
        .env("PURSE_PIN", "4321")
        .args(["--reader", "1", "pin", "verify"])
        .stdin(Stdio::null())
        .output()
        .expect("pin verify");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // 6. no blank card in time: DORA's card, still in the reader at the start, is refused (the
    //    row waits), then --timeout ends the batch with exit code 3 and a summary
    let one = "ref,name\ncust-10,ERIN\n";
    let late = |timeout: &str| -> Vec<String> {
        [
            "--json",
            "issue",
            "--from",
            "0",
            "--batch",
            "-",
            "--out",
            &reg_s,
            "--pins",
            &pins_s,
            "--dev",
            "--timeout",
            timeout,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let r = run(
        &d,
        &late("2").iter().map(String::as_str).collect::<Vec<_>>(),
        Some(one),
    );
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("no blank card inserted within 2 s"),
        "{}",
        r.stderr
    );
    let v = lines(&r.stdout);
    assert_eq!(
        events(&v),
        ["start", "waiting", "refused", "waiting", "summary", "failed"],
        "{v:#?}"
    );
    assert_eq!(v[5]["ok"], false);
    assert_eq!(v[5]["error"]["kind"], "no_card", "{v:#?}");
    assert_eq!(v[2]["card"]["name"], "DORA");
    assert_eq!(v[4]["end"], "timeout");
    assert_eq!(v[4]["remaining"], 1);
    assert_eq!(v[4]["complete"], false);

    // 7. Ctrl-C while waiting: a summary, exit code 1, nothing recorded
    d.pull("1");
    let mut c = d.cmd();
    center_env(&mut c)
        .args(late("60"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn batch");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(one.as_bytes())
        .expect("write stdin");
    let mut rd = BufReader::new(child.stdout.take().expect("stdout"));
    let mut seen = Vec::new();
    let mut line = String::new();
    while rd.read_line(&mut line).expect("read") > 0 {
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        line.clear();
        if v["event"] == "waiting" {
            let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("pid");
            rustix::process::kill_process(pid, rustix::process::Signal::INT).expect("SIGINT");
        }
        seen.push(v);
    }
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}\n{seen:#?}");
    assert!(
        stderr.contains("interrupted: 1 rows not issued"),
        "{stderr}"
    );
    assert_eq!(
        events(&seen),
        ["start", "waiting", "summary", "failed"],
        "{seen:#?}"
    );
    assert_eq!(seen[2]["end"], "interrupted");
    assert_eq!(seen[3]["ok"], false);
    assert_eq!(csv_rows(&reg).len(), 4);

    // 8. from an admin card: its accounts are in its own block, which no bank card serves yet;
    //    the batch names the range to give a bank card (as single issuance does)
    d.ok(&["desk", "new", "admin"]);
    d.ok(&["desk", "new", "b5"]);
    d.insert("admin", Some(1), false);
    ok(
        &d,
        &[
            "issue",
            "--from",
            "0",
            "--to",
            "1",
            "--role",
            "admin",
            "--name",
            "ADMIN",
            "--dev",
            "--date",
            "2026-01-05",
        ],
    );
    d.pull("0");
    d.pull("1");
    d.insert("admin", Some(0), false);
    d.insert("b5", Some(1), false);
    let reg2 = dir.path().join("admin-issued.csv");
    let mut c = d.cmd();
    let o = center_env(&mut c)
        .env("PURSE_PIN", "5678") // the admin card's PIN (PURSE_NEW_PIN when it was issued)
        .args([
            "--json",
            "issue",
            "--from",
            "0",
            "--batch",
            "-",
            "--out",
            reg2.to_str().expect("utf8"),
            "--dev",
            "--timeout",
            "30",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut ch| {
            ch.stdin
                .take()
                .expect("stdin")
                .write_all(b"name,pin\nFRED,2468\n")?;
            ch.wait_with_output()
        })
        .expect("admin batch");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let v = lines(&String::from_utf8_lossy(&o.stdout));
    assert_eq!(
        events(&v),
        ["start", "waiting", "issued", "summary"],
        "{v:#?}"
    );
    let acc = v[2]["account"].as_str().expect("account").to_string();
    let low = v[2]["needs_range"]["low"].as_str().expect("needs_range");
    let high = v[2]["needs_range"]["high"].as_str().expect("needs_range");
    assert!(low <= acc.as_str() && acc.as_str() <= high, "{}", v[2]);
    assert_eq!(v[3]["needs_range"][0]["low"], low);
    assert!(
        stderr.contains(&format!(
            "purse admin range --from ADMIN --to BANK {low} {high}"
        )),
        "{stderr}"
    );
    eprintln!("batch_issuance: {:.1} s", t0.elapsed().as_secs_f64());
}
