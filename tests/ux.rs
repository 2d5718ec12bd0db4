//! The first five minutes and the CLI-wide plumbing (issue 11 sections 1, 2, 4): secrets never
//! in the trace unless asked, log levels and log files, cards chosen by what they are, cards held
//! exclusively during a flow, desk messages, `--help` naming environment variables, messages in
//! user words. Everything through pcscd against desk cards running the real applet.
use purse_testkit as kit;

use kit::{Run, TestDesk};

const PIN: &str = "2223";
const PIN_HEX: &str = "32323233";
const CREATION: &str = "create-2026";
const CREATION_HEX: &str = "6372656174652D32303236";
const APPROVAL: &str = "approve-2026";
const APPROVAL_HEX: &str = "617070726F76652D32303236";
/// protocol.md 5.1: the development transport key of blank desk cards, `purse-dev-transp`
const DEV_TK_HEX: &str = "70757273652D6465762D7472616E7370";
const CENTER: &str = "1000000000000008";

const SECRET_VARS: [&str; 12] = [
    "PURSE_PIN",
    "PURSE_TXKEY",
    "PURSE_CREATION_SECRET",
    "PURSE_APPROVAL_SECRET",
    "PURSE_NEW_PIN",
    "PURSE_NEW_TXKEY",
    "PURSE_TRANSPORT_KEY",
    "PURSE_BANK_PIN",
    "PURSE_READER",
    "PURSE_LOG",
    "RUST_LOG",
    "PURSE_LEDGER",
];

fn secrets() -> Vec<(&'static str, &'static str)> {
    vec![
        ("PURSE_PIN", PIN),
        ("PURSE_TXKEY", ""),
        ("PURSE_CREATION_SECRET", CREATION),
        ("PURSE_APPROVAL_SECRET", APPROVAL),
        ("PURSE_NEW_PIN", PIN),
        ("PURSE_NEW_TXKEY", ""),
    ]
}

fn run(d: &TestDesk, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut c = d.cmd();
    for k in SECRET_VARS {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdin(std::process::Stdio::null());
    let o = c.args(args).output().expect("run purse");
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
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

/// `purse` outside any desk (no PC/SC needed).
fn bare(args: &[&str]) -> Run {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_purse"));
    for k in SECRET_VARS {
        c.env_remove(k);
    }
    let o = c
        .env_remove("PURSE_DESK")
        .env_remove("PCSCLITE_CSOCK_NAME")
        .args(args)
        .output()
        .expect("run purse");
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn no_secret_in(what: &str, text: &str) {
    for (name, hex) in [
        ("PIN", PIN_HEX),
        ("creation secret", CREATION_HEX),
        ("approval secret", APPROVAL_HEX),
        ("transport key", DEV_TK_HEX),
    ] {
        assert!(
            !text.contains(hex),
            "{what}: the {name} is in the trace:\n{text}"
        );
    }
}

/// `desk new` makes purse cards; the four cards: center (0), blank (1, 2) and `hello` (3).
fn desk_with_center() -> TestDesk {
    let d = TestDesk::start(4);
    for (name, slot) in [("center", 0), ("b1", 1), ("b2", 2)] {
        d.ok(&["desk", "new", name]);
        d.insert(name, Some(slot), false);
    }
    d.ok(&["desk", "new", "h", "--applet", "hello"]);
    d.insert("h", Some(3), false);
    d
}

/// `-d` shows headers and lengths but no PIN, secret or transport key (VERIFY, CHANGE
/// REFERENCE DATA, genesis's AUTH_FINISH, ISSUE_BEGIN); `--debug-secrets` shows them with a
/// warning; RUST_LOG / PURSE_LOG levels; `--log-file`.
#[test]
fn trace_redacts_secrets_and_logs_behave() {
    let d = desk_with_center();
    let env = secrets();
    let r = ok(&d, &env, &["-d", "genesis", "-r", "0", "--name", "CENTER"]);
    assert!(
        r.stderr.contains(">> 80120000"),
        "AUTH_FINISH traced: {}",
        r.stderr
    );
    assert!(r.stderr.contains("secret bytes redacted"), "{}", r.stderr);
    no_secret_in("genesis", &r.stderr);

    let r = ok(
        &d,
        &env,
        &[
            "-d", "issue", "--from", "0", "--to", "1", "--role", "admin", "--name", "ADMIN",
            "--dev",
        ],
    );
    assert!(
        r.stderr.contains(">> 8020000104 <4 secret bytes redacted>"),
        "VERIFY: {}",
        r.stderr
    );
    assert!(
        r.stderr.contains(">> 80140000"),
        "ISSUE_BEGIN traced: {}",
        r.stderr
    );
    no_secret_in("issue", &r.stderr);

    let r = ok(&d, &env, &["-d", "passbook", "-r", "0"]);
    no_secret_in("passbook", &r.stderr);
    let r = ok(&d, &env, &["-d", "--debug-secrets", "passbook", "-r", "0"]);
    assert!(
        r.stderr.contains("WARNING: --debug-secrets"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("8020000104{PIN_HEX}")),
        "{}",
        r.stderr
    );

    // CHANGE REFERENCE DATA: neither the old nor the new PIN
    let mut ch = env.clone();
    ch.retain(|(k, _)| *k != "PURSE_NEW_PIN");
    ch.push(("PURSE_NEW_PIN", "9876"));
    let r = ok(&d, &ch, &["-d", "pin", "change", "-r", "1"]);
    assert!(r.stderr.contains(">> 80240001"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("39383736"),
        "new PIN in the trace: {}",
        r.stderr
    );
    no_secret_in("pin change", &r.stderr);

    // --log-file: the trace goes to the file (timestamped), not to stderr
    let log = d.path().join("purse.log");
    let logs = log.to_str().unwrap();
    let r = ok(&d, &env, &["-d", "--log-file", logs, "passbook", "-r", "0"]);
    assert!(!r.stderr.contains(">>"), "{}", r.stderr);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("8020000104 <4 secret bytes redacted>"),
        "{text}"
    );
    assert!(text.contains("DEBUG"), "levels in the file: {text}");
    no_secret_in("log file", &text);

    // RUST_LOG levels; PURSE_LOG wins; a bad filter is a usage error
    let r = ok(&d, &[("RUST_LOG", "purse=debug")], &["status", "-r", "0"]);
    assert!(r.stderr.contains(">> 00A40400"), "{}", r.stderr);
    let r = ok(
        &d,
        &[("RUST_LOG", "purse=debug"), ("PURSE_LOG", "warn")],
        &["status", "-r", "0"],
    );
    assert!(!r.stderr.contains(">>"), "{}", r.stderr);
    let r = run(&d, &[("PURSE_LOG", "purse=[")], &["status", "-r", "0"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("PURSE_LOG"), "{}", r.stderr);
}

/// `purse readers` shows the purse card in each reader; `-r account:` / `-r name:` and
/// PURSE_READER pick a card by what it is; several cards without -r say how to choose; a
/// non-purse card says how to get one; an admin-issued card names the range to set.
#[test]
fn cards_chosen_by_what_they_are() {
    let d = desk_with_center();
    let env = secrets();
    ok(&d, &env, &["genesis", "-r", "0", "--name", "CENTER"]);
    let v: serde_json::Value =
        serde_json::from_str::<serde_json::Value>(&ok(&d, &[], &["--json", "readers"]).stdout)
            .unwrap()["readers"]
            .clone();
    assert_eq!(v[0]["purse"]["role"], "center", "{v}");
    assert_eq!(v[0]["purse"]["name"], "CENTER", "{v}");
    assert_eq!(v[0]["purse"]["account"], CENTER, "{v}");
    assert_eq!(v[1]["purse"]["role"], "blank", "{v}");
    assert!(v[1]["purse"]["account"].is_null(), "{v}");
    assert!(v[3]["purse"].is_null(), "hello card: {v}");
    assert_eq!(v[3]["note"], "no purse applet", "{v}");
    let human = ok(&d, &[], &["readers"]).stdout;
    assert!(
        human.contains(&format!("center \"CENTER\" {CENTER}")),
        "{human}"
    );

    for sel in [
        format!("account:{CENTER}"),
        "account:1000-0000-0000-0008".into(),
        "name:center".into(),
    ] {
        let r = ok(&d, &[], &["--json", "status", "-r", &sel]);
        assert_eq!(r.json()["account"], CENTER, "{sel}: {}", r.stdout);
    }
    let r = ok(
        &d,
        &[("PURSE_READER", "name:CENTER")],
        &["--json", "status"],
    );
    assert_eq!(r.json()["account"], CENTER, "{}", r.stdout);
    let r = run(&d, &[], &["status"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("several readers hold a card"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("PURSE_READER"), "{}", r.stderr);
    assert!(!r.stderr.contains("ambiguous"), "{}", r.stderr);
    let r = run(&d, &[], &["status", "-r", "account:1000000000000016"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(
        r.stderr.contains("center \"CENTER\""),
        "lists what it saw: {}",
        r.stderr
    );

    // a card with another applet: genesis says how to get a purse card
    let r = run(&d, &env, &["genesis", "-r", "3", "--name", "X"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("6A82") && r.stderr.contains("purse desk new NAME"),
        "{}",
        r.stderr
    );

    // an admin card issues a user card numbered in its own block: the range to set is named
    ok(
        &d,
        &env,
        &[
            "issue",
            "--from",
            "name:CENTER",
            "--to",
            "1",
            "--role",
            "admin",
            "--name",
            "ADMIN",
            "--dev",
        ],
    );
    let r = ok(
        &d,
        &env,
        &[
            "--json",
            "issue",
            "--from",
            "name:ADMIN",
            "--to",
            "2",
            "--role",
            "user",
            "--name",
            "u",
            "--dev",
        ],
    );
    let v = r.json();
    let acc = v["card"]["account"].as_str().unwrap().to_string();
    assert!(acc.starts_with("10000100"), "{v}");
    let low = v["needs_range"]["low"].as_str().expect("needs_range");
    let high = v["needs_range"]["high"].as_str().unwrap();
    assert!(
        low.starts_with("10000100") && high.starts_with("10000100"),
        "{v}"
    );
    assert!(low <= acc.as_str() && acc.as_str() <= high, "{v}");
    assert!(
        r.stderr.contains(&format!(
            "purse admin range --from ADMIN --to BANK {low} {high}"
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("branch card"), "{}", r.stderr);
    // bulk: bad cards from a file and from standard input (admin card 1, bank card 0)
    let list = d.path().join("bad.txt");
    std::fs::write(
        &list,
        "# lost cards\n1000000000000016\n\n1000000000000024\n",
    )
    .unwrap();
    let r = ok(
        &d,
        &env,
        &[
            "admin",
            "bad-card",
            "add",
            "--from",
            "1",
            "--to",
            "0",
            "--file",
            list.to_str().unwrap(),
        ],
    );
    assert!(
        r.stdout.contains("1000000000000016 listed")
            && r.stdout.contains("1000000000000024 listed"),
        "{}",
        r.stdout
    );
    let mut c = d.cmd();
    for k in SECRET_VARS {
        c.env_remove(k);
    }
    let mut child = c
        .envs(env.iter().copied())
        .args([
            "admin", "bad-card", "add", "--from", "1", "--to", "0", "--file", "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"1000000000000032\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("1000000000000032 listed"));
    let v = ok(&d, &[], &["--json", "admin", "bad-card", "list", "-r", "0"]).json();
    assert_eq!(v["count"], 3, "{v}");
    std::fs::write(&list, "1000000000000016\n1000000000000025\n").unwrap();
    let r = run(
        &d,
        &env,
        &[
            "admin",
            "bad-card",
            "add",
            "--from",
            "1",
            "--to",
            "0",
            "--file",
            list.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("line 2"),
        "bad line named before any card is touched: {}",
        r.stderr
    );

    // and the old option names still work, hidden from --help
    ok(&d, &[], &["status", "-r", &format!("account:{acc}")]);
    let help = ok(&d, &[], &["issue", "--help"]).stdout;
    assert!(
        help.contains("--from <ISSUER>") && !help.contains("--issuer"),
        "{help}"
    );
}

/// While purse holds a card for a flow no other PC/SC client gets in, and a card held by
/// another program is reported as such.
#[test]
fn flows_hold_cards_exclusively_and_busy_cards_are_explained() {
    let d = TestDesk::start(2);
    d.ok(&["desk", "new", "c"]);
    d.insert("c", Some(0), false);
    // this test process is the "other program"
    std::env::set_var("PCSCLITE_CSOCK_NAME", d.socket());
    let ctx = pcsc::Context::establish(pcsc::Scope::User).expect("context");
    let mut buf = [0u8; 2048];
    let readers: Vec<std::ffi::CString> = ctx
        .list_readers(&mut buf)
        .unwrap()
        .map(|r| r.to_owned())
        .collect();
    let reader = readers[0].clone();
    {
        let _held = ctx
            .connect(&reader, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
            .expect("foreign client connects");
        let r = run(&d, &[], &["status", "-r", "0"]);
        assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains("in use by another program"),
            "{}",
            r.stderr
        );
    }
    ok(&d, &[], &["status", "-r", "0"]);
    // purse's flow connection (PurseCard::open) is exclusive: others are kept out meanwhile
    let p = purse::transport::Pcsc::establish().unwrap();
    let name = reader.to_str().unwrap().to_string();
    let card = purse::card::PurseCard::open_exclusive(&p, &name).expect("open");
    match ctx.connect(&reader, pcsc::ShareMode::Shared, pcsc::Protocols::ANY) {
        Err(pcsc::Error::SharingViolation) => {}
        Err(e) => panic!("expected a sharing violation, got {e}"),
        Ok(_) => panic!("another client got in while purse held the card"),
    }
    let r = run(&d, &[], &["apdu", "-r", "0", "00A4040007F070757273650100"]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("in use by another program"),
        "{}",
        r.stderr
    );
    drop(card);
    ok(&d, &[], &["apdu", "-r", "0", "00A4040007F070757273650100"]);
}

/// `--desk DIR` of a desk not running is an error (no fallback to the system pcscd); `desk new`
/// into a missing directory and `desk conf` of a desk never started say what they did; `desk
/// new` makes purse cards, `--applet hello` the test applet, another class needs `--aid`.
#[test]
fn desk_messages() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("fresh");
    let ds = dir.to_str().unwrap();
    let r = bare(&["--desk", ds, "readers"]);
    assert_eq!(r.code, 3, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("no desk is running in"), "{}", r.stderr);
    let r = bare(&["--desk", ds, "desk", "new", "c"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("created the desk directory"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("org.purse.applet.Purse"), "{}", r.stdout);
    let r = bare(&["--desk", ds, "desk", "new", "h", "--applet", "hello"]);
    assert!(
        r.stdout.contains("org.purse.hello.Hello") && !r.stdout.contains("created the desk"),
        "{}",
        r.stdout
    );
    let r = bare(&["--desk", ds, "desk", "info", "c"]);
    assert!(r.stdout.contains("org.purse.applet.Purse"), "{}", r.stdout);
    let r = bare(&[
        "--desk",
        ds,
        "desk",
        "new",
        "x",
        "--applet",
        "com.example.Other",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--aid"), "{}", r.stderr);
    let r = bare(&["--desk", ds, "desk", "conf"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("never started"), "{}", r.stderr);
    assert!(r.stdout.contains("DEVICENAME"), "{}", r.stdout);
}

/// Every command's --help names the environment variables it reads.
#[test]
fn help_names_environment_variables() {
    let want: &[(&str, &[&str])] = &[
        (
            "genesis",
            &[
                "PURSE_PIN",
                "new center's PIN",
                "PURSE_CREATION_SECRET",
                "PURSE_TRANSPORT_KEY",
            ],
        ),
        (
            "issue",
            &[
                "PURSE_NEW_PIN",
                "PURSE_NEW_TXKEY",
                "PURSE_TRANSPORT_KEY",
                "PURSE_APPROVAL_SECRET",
            ],
        ),
        ("mint", &["PURSE_CREATION_SECRET"]),
        ("transfer", &["PURSE_PIN", "PURSE_TXKEY"]),
        ("sync", &["PURSE_LEDGER", "PURSE_BANK_PIN"]),
        ("passbook", &["PURSE_PIN"]),
        ("admin", &["PURSE_PIN"]),
        ("ledger", &["PURSE_LEDGER"]),
        ("desk", &["PURSE_DESK_JAR"]),
    ];
    for (cmd, vars) in want {
        let r = bare(&[cmd, "--help"]);
        assert_eq!(r.code, 0);
        for v in *vars {
            assert!(
                r.stdout.contains(v),
                "`purse {cmd} --help` does not name {v}:\n{}",
                r.stdout
            );
        }
    }
    for cmd in [
        "readers",
        "apdu",
        "status",
        "exceptions",
        "pin",
        "resume",
        "bench",
        "center",
        "demo",
        "privacy",
    ] {
        let r = bare(&[cmd, "--help"]);
        assert!(
            r.stdout.contains("Environment:") && r.stdout.contains("PURSE_READER"),
            "{cmd}:\n{}",
            r.stdout
        );
    }
}

/// The ledger's account parser names a wrong check digit; a damaged ledger's error prints once.
#[test]
fn ledger_messages() {
    let e = purse::ledger::parse_account("1000000000000009")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("wrong check digit") && !e.contains("expected 16 digits"),
        "{e}"
    );
    let e = purse::ledger::parse_account("12345")
        .unwrap_err()
        .to_string();
    assert!(e.contains("expected 16 digits"), "{e}");
    assert!(purse::ledger::parse_account(CENTER).is_ok());
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("garbage.sqlite");
    std::fs::write(&bad, vec![0x42u8; 8192]).unwrap();
    let r = bare(&["ledger", "--ledger", bad.to_str().unwrap()]);
    assert_ne!(r.code, 0);
    let n = r.stderr.matches("SQLite").count();
    assert_eq!(n, 1, "the SQLite error once: {}", r.stderr);
}

/// `--version` names the git revision, the protocol and the applet version; shell completions
/// and man pages come from the same clap definition.
#[test]
fn version_completions_and_man_pages() {
    let r = bare(&["--version"]);
    assert_eq!(r.code, 0);
    let want = format!(
        "protocol {}.{}, expects purse applet {}.{}",
        purse::proto::consts::VERSION_MAJOR,
        purse::proto::consts::VERSION_MINOR,
        purse::proto::consts::VERSION_MAJOR,
        purse::proto::consts::VERSION_MINOR
    );
    assert!(r.stdout.contains(&want), "{}", r.stdout);
    assert!(r.stdout.contains(env!("CARGO_PKG_VERSION")), "{}", r.stdout);
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    match head {
        Ok(o) if o.status.success() => {
            let rev = String::from_utf8_lossy(&o.stdout).trim().to_string();
            assert!(
                r.stdout.contains(&format!("(git {rev}")),
                "{} vs {rev}",
                r.stdout
            );
        }
        _ => assert!(r.stdout.contains("(git unknown)"), "{}", r.stdout),
    }
    for (shell, mark) in [
        ("bash", "_purse()"),
        ("zsh", "#compdef purse"),
        ("fish", "complete -c purse"),
    ] {
        let r = bare(&["completions", shell]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stdout.contains(mark) && r.stdout.contains("genesis"),
            "{shell}"
        );
    }
    let r = bare(&["man"]);
    assert!(
        r.stdout.contains(".TH purse 1") && r.stdout.contains("genesis"),
        "{}",
        r.stdout
    );
    let dir = tempfile::tempdir().unwrap();
    let r = bare(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let sync = std::fs::read_to_string(dir.path().join("purse-sync.1")).unwrap();
    assert!(
        sync.contains("\\-\\-from") && sync.contains("PURSE_LEDGER"),
        "{sync}"
    );
}
