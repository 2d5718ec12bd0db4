//! One error path: every command of `purse --help` (found by walking the command tree, so a new
//! command without a case here fails the test) run with `--json` into a failure prints one
//! versioned JSON error document on stdout and exits with the code its kind documents
//! (docs/cli.md "Exit codes and JSON"); on a desk: a card's refusal (exit 4 with the status
//! word), a card without the purse applet, and the success shapes (schema_version, amounts as a
//! decimal string plus minor units, null for "no limit").
use purse_testkit as kit;

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::Value;

use kit::TestDesk;

/// Every command path and a failing invocation (arguments after the path): (path, args,
/// exit code, kind). No PC/SC service is reachable, no desk, no ledger, no desk jar.
const CASES: &[(&str, &[&str], i32, &str)] = &[
    ("readers", &[], 3, "no_card"),
    ("apdu", &["ZZ"], 2, "usage"),
    ("genesis", &["--name", "X", "--min", "abc"], 2, "usage"),
    (
        "issue",
        &[
            "--from", "0", "--to", "1", "--role", "user", "--name", "X", "--date", "bad",
        ],
        2,
        "usage",
    ),
    // batch issuance (its failure is the last line of its JSON-lines stream)
    (
        "issue",
        &["--batch", "b.csv", "--out", "reg.csv", "--from", "0"],
        2,
        "usage",
    ),
    (
        "issue",
        &[
            "--batch", "b.csv", "--out", "reg.csv", "--pins", "pins.txt", "--from", "0", "--dev",
        ],
        3,
        "no_card",
    ),
    ("mint", &["1.00"], 3, "no_card"),
    ("status", &[], 3, "no_card"),
    ("passbook", &[], 3, "no_card"),
    ("exceptions", &[], 3, "no_card"),
    ("pin", &[], 2, "usage"),
    ("pin verify", &[], 3, "no_card"),
    ("pin change", &[], 3, "no_card"),
    ("pin tries", &[], 3, "no_card"),
    (
        "transfer",
        &["--from", "0", "--to", "1", "--date", "2026-02-30", "1.00"],
        2,
        "usage",
    ),
    ("resume", &[], 2, "usage"),
    ("bench", &[], 2, "usage"),
    (
        "bench transfer",
        &["--from", "0", "--to", "1", "-n", "0"],
        2,
        "usage",
    ),
    ("bench run", &["--", "bench", "run"], 2, "usage"),
    ("desk", &[], 2, "usage"),
    ("desk start", &["--slots", "many"], 2, "usage"),
    ("desk stop", &["--bogus"], 2, "usage"),
    ("desk status", &["--bogus"], 2, "usage"),
    ("desk new", &["bad/name"], 1, "other"),
    ("desk insert", &["nosuch"], 1, "other"),
    ("desk pull", &["nosuch"], 1, "other"),
    ("desk cards", &["--bogus"], 2, "usage"),
    ("desk tear", &["nosuch", "1"], 1, "other"),
    ("desk info", &["nosuch"], 1, "other"),
    ("desk conf", &["--bogus"], 2, "usage"),
    ("ledger", &[], 2, "usage"),
    ("ledger reconcile", &[], 2, "usage"),
    ("ledger rebuild", &["1000000000000008"], 2, "usage"),
    ("ledger flags", &[], 2, "usage"),
    ("ledger syncs", &[], 2, "usage"),
    ("ledger check", &[], 2, "usage"),
    ("ledger summary", &[], 2, "usage"),
    ("ledger report", &["--html", "r.html"], 2, "usage"),
    ("ledger bench", &["--ingest", "0"], 2, "usage"),
    ("admin", &[], 2, "usage"),
    ("admin bad-card", &[], 2, "usage"),
    (
        "admin bad-card add",
        &["--from", "0", "--to", "1", "123"],
        2,
        "usage",
    ),
    (
        "admin bad-card remove",
        &["--from", "0", "--to", "1", "123"],
        2,
        "usage",
    ),
    ("admin bad-card list", &[], 3, "no_card"),
    (
        "admin rate",
        &["--from", "0", "--to", "1", "abc"],
        2,
        "usage",
    ),
    (
        "admin range",
        &["--from", "0", "--to", "1", "1", "2"],
        2,
        "usage",
    ),
    (
        "sync",
        &["--from", "0", "--to", "1", "--date", "bad"],
        2,
        "usage",
    ),
    ("center", &[], 2, "usage"),
    ("center advance", &["--date", "bad"], 2, "usage"),
    ("demo", &["--desk", "full"], 1, "other"),
    ("completions", &["nosuchshell"], 2, "usage"),
    ("man", &["--dir", "/proc/purse-json-errors"], 1, "io"),
    ("privacy", &["on"], 3, "no_card"),
    ("pay", &["1.00"], 3, "no_card"),
    ("receive", &["--amount", "1.00"], 3, "no_card"),
    ("serve", &[], 2, "usage"),
    ("link", &[], 2, "usage"),
    ("link id", &["--bogus"], 2, "usage"),
    ("link bench", &["--card", "0"], 2, "usage"),
];

/// The error object's fields, exactly.
const ERROR_FIELDS: [&str; 6] = ["kind", "message", "money_moved", "side", "step", "sw"];

fn exit_of(kind: &str) -> i32 {
    match kind {
        "usage" => 2,
        "no_card" => 3,
        "refused" | "no_applet" => 4,
        _ => 1,
    }
}

/// The subcommands listed by `purse PATH --help` (its "Commands:" section, without `help`).
fn subcommands(path: &[String]) -> Vec<String> {
    let o = Command::new(env!("CARGO_BIN_EXE_purse"))
        .args(path)
        .arg("--help")
        .output()
        .expect("run purse --help");
    assert!(o.status.success(), "purse {path:?} --help failed");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut out = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        if line == "Commands:" {
            inside = true;
            continue;
        }
        if inside {
            if !line.starts_with("  ") {
                break;
            }
            let name = line.split_whitespace().next().unwrap_or("");
            // wrapped description lines are indented further
            if line.starts_with("   ") || name.is_empty() || name == "help" {
                continue;
            }
            out.push(name.to_string());
        }
    }
    out
}

/// Every command path of the tree, parents included ("desk", "desk start", ...).
fn all_commands() -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<Vec<String>> = vec![vec![]];
    while let Some(p) = todo.pop() {
        for s in subcommands(&p) {
            let mut q = p.clone();
            q.push(s);
            seen.insert(q.join(" "));
            todo.push(q);
        }
    }
    seen
}

/// Check one failure document; returns the error object.
fn check_failure(what: &str, code: i32, stdout: &str, stderr: &str) -> Value {
    let v: Value = serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("{what}: stdout is not one JSON document ({e}):\n{stdout}"));
    assert_eq!(v["schema_version"], 1, "{what}: {v}");
    assert_eq!(v["ok"], false, "{what}: {v}");
    let e = v["error"]
        .as_object()
        .unwrap_or_else(|| panic!("{what}: no error object: {v}"));
    let keys: Vec<&str> = e.keys().map(String::as_str).collect();
    assert_eq!(keys, ERROR_FIELDS, "{what}: error fields: {v}");
    let kind = e["kind"].as_str().expect("kind");
    assert_eq!(code, exit_of(kind), "{what}: exit code of kind {kind}: {v}");
    let msg = e["message"].as_str().expect("message");
    assert!(!msg.trim().is_empty(), "{what}: empty message");
    assert!(
        e["sw"].is_null() || e["sw"].as_str().is_some_and(|s| s.len() == 4),
        "{what}: sw: {v}"
    );
    assert!(
        stderr.contains("purse: error: "),
        "{what}: stderr: {stderr}"
    );
    v["error"].clone()
}

#[test]
fn every_command_fails_in_one_json_shape() {
    let cmds = all_commands();
    let cased: BTreeSet<String> = CASES.iter().map(|c| c.0.to_string()).collect();
    let missing: Vec<&String> = cmds.difference(&cased).collect();
    assert!(
        missing.is_empty(),
        "commands without a case in tests/json_errors.rs: {missing:?}"
    );
    let stale: Vec<&String> = cased.difference(&cmds).collect();
    assert!(
        stale.is_empty(),
        "cases for commands that do not exist: {stale:?}"
    );

    let t = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(t.path().join("full")).unwrap();
    std::fs::write(t.path().join("full/x"), "x").unwrap();
    std::fs::write(t.path().join("b.csv"), "ref,name\nr1,ALICE\n").unwrap();
    for (path, args, code, kind) in CASES {
        let mut argv: Vec<&str> = vec!["--json"];
        argv.extend(path.split(' '));
        argv.extend(args.iter());
        let o = Command::new(env!("CARGO_BIN_EXE_purse"))
            .args(&argv)
            .current_dir(t.path())
            .env("HOME", t.path())
            .env("PCSCLITE_CSOCK_NAME", t.path().join("no-pcscd.sock"))
            .env("PURSE_DESK", t.path().join("desk"))
            .env("PURSE_LEDGER", t.path().join("no-ledger.sqlite"))
            .env("PURSE_DESK_JAR", t.path().join("no.jar"))
            .env_remove("PURSE_READER")
            .env_remove("PURSE_PIN")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run purse");
        let what = format!("purse {}", argv.join(" "));
        let got = o.status.code().unwrap_or(-1);
        let stdout = String::from_utf8_lossy(&o.stdout);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(got, *code, "{what}: exit code\n{stdout}\n{stderr}");
        let e = check_failure(&what, got, &stdout, &stderr);
        assert_eq!(e["kind"], *kind, "{what}: {e}");
    }
}

/// On a desk: a status word is exit 4 with `sw`; a card without the purse applet is
/// `no_applet` (exit 4, 6A82); a missing or empty secret is a usage error; success documents
/// carry schema_version, `ok: true`, amounts as "decimal" + `_minor`, and null for no limit.
#[test]
fn refusals_and_success_shapes_on_a_desk() {
    let d = TestDesk::start(2);
    d.new_card("hello");
    d.insert("hello", Some(1), false);
    d.ok(&["desk", "new", "c"]);
    d.insert("c", Some(0), false);
    let run = |env: &[(&str, &str)], args: &[&str]| {
        let r = d.run_env(env, args);
        (r.code, r.stdout, r.stderr)
    };

    // the hello card: SELECT answers 6A82
    let (code, out, err) = run(&[], &["--json", "-r", "1", "status"]);
    let e = check_failure("status of a hello card", code, &out, &err);
    assert_eq!(
        (code, &e["kind"], &e["sw"]),
        (4, &Value::from("no_applet"), &Value::from("6A82")),
        "{e}"
    );

    // readers: an object with the readers
    let (code, out, _) = run(&[], &["--json", "readers"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["schema_version"].clone(), v["ok"].clone()),
        (1.into(), true.into()),
        "{v}"
    );
    assert_eq!(v["readers"].as_array().map(Vec::len), Some(2), "{v}");

    let secrets = [
        ("PURSE_PIN", "2223"),
        ("PURSE_TXKEY", ""),
        ("PURSE_CREATION_SECRET", "create-2026"),
        ("PURSE_APPROVAL_SECRET", "approve-2026"),
    ];
    // a secret set but empty: usage, before the card is asked
    let mut empty = secrets;
    empty[0].1 = "";
    let (code, out, err) = run(&empty, &["--json", "-r", "0", "genesis", "--name", "C"]);
    let e = check_failure("genesis with an empty PURSE_PIN", code, &out, &err);
    assert_eq!(code, 2);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("PURSE_PIN is set but empty"),
        "{e}"
    );

    let (code, out, err) = run(&secrets, &["--json", "-r", "0", "genesis", "--name", "C"]);
    assert_eq!(code, 0, "{out}{err}");
    // status: balance and limits as decimal + minor; no upper limit is null, not "unlimited"
    let (code, out, _) = run(&[], &["--json", "-r", "0", "status"]);
    assert_eq!(code, 0);
    let st: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(st["schema_version"], 1, "{st}");
    assert_eq!(st["ok"], true, "{st}");
    assert_eq!(
        (st["balance"].clone(), st["balance_minor"].clone()),
        ("0.00".into(), 0.into()),
        "{st}"
    );
    assert_eq!(st["min_trans_minor"], 0, "{st}");
    assert!(
        st["max_trans"].is_null() && st["max_trans_minor"].is_null(),
        "{st}"
    );

    let (code, out, err) = run(&secrets, &["--json", "-r", "0", "mint", "12.50"]);
    assert_eq!(code, 0, "{out}{err}");
    let m: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (m["minted"].clone(), m["minted_minor"].clone()),
        ("12.50".into(), 1250.into()),
        "{m}"
    );
    assert_eq!(
        (m["balance"].clone(), m["balance_minor"].clone()),
        ("12.50".into(), 1250.into()),
        "{m}"
    );

    // a wrong PIN: the card's status word (63Cx), exit 4
    let mut wrong = secrets;
    wrong[0].1 = "9999";
    let (code, out, err) = run(&wrong, &["--json", "-r", "0", "pin", "verify"]);
    let e = check_failure("pin verify with a wrong PIN", code, &out, &err);
    assert_eq!((code, &e["kind"]), (4, &Value::from("refused")), "{e}");
    assert!(e["sw"].as_str().unwrap().starts_with("63C"), "{e}");

    // a raw APDU answered with a status word other than 9000: the exchanges and the error
    let (code, out, err) = run(&[], &["--json", "-r", "0", "apdu", "80FF0000"]);
    let e = check_failure("apdu with an unknown INS", code, &out, &err);
    assert_eq!((code, &e["kind"]), (4, &Value::from("refused")), "{e}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["exchanges"][0]["sw"], e["sw"], "{v}");

    // the center pays a blank card: the host's check before any card is asked is not a
    // refusal (exit 1), and no money moved
    d.pull("1");
    d.ok(&["desk", "new", "blank"]);
    d.insert("blank", Some(1), false);
    let (code, out, err) = run(
        &secrets,
        &[
            "--json", "transfer", "--from", "0", "--to", "1", "--yes", "1.00",
        ],
    );
    let e = check_failure("transfer to a blank card", code, &out, &err);
    assert_eq!((code, &e["kind"]), (1, &Value::from("precheck")), "{e}");
    assert_eq!(
        (&e["money_moved"], &e["sw"]),
        (&Value::from(false), &Value::Null),
        "{e}"
    );
}
