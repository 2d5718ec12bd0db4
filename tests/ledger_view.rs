//! Reading the ledger (docs/ledger.md "Reading"): a ledger filled by real flows through pcscd
//! against desk cards running the applet (genesis, issue, mint, transfers, syncs), then read by
//! the `purse ledger` commands: read-only open (no file created, read-only media), integrity
//! (a page corrupted mid-file, an entry altered in place), currency units and dates, the
//! auditor's summary checked against every card's own status, and the HTML report rendered in
//! headless Chromium.
use purse_testkit as kit;

use std::path::{Path, PathBuf};
use std::process::Command;

use kit::*;

/// Payments and syncs every case reads. Balances afterwards (EUR, 2 decimals): center
/// 5000.00, region 2000.00, branch 1500.00, alice 985.66, bob 514.34.
fn fill(b: &mut Bank) {
    b.pay_ok("alice", "bob", 1234);
    b.pay_ok("bob", "alice", 500);
    let d = b.status("center").key_date;
    sync_chain(b, &["alice", "bob"], d);
    // after alice's sync: only bob's passbook (synced again) shows this one
    b.pay_ok("alice", "bob", 700);
    sync_ok(b, "branch", "bob", d);
}

fn ledger_path(b: &Bank) -> PathBuf {
    b.desk.path().join("ledger.sqlite")
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

fn run(cmd: &mut Command) -> Out {
    let o = cmd.output().expect("run");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn purse_cmd(ledger: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_purse"));
    c.env_remove("PURSE_LEDGER")
        .arg("ledger")
        .arg("--ledger")
        .arg(ledger)
        .args(args);
    c
}

/// `purse ledger --ledger FILE ARGS...`
fn purse(ledger: &Path, args: &[&str]) -> Out {
    run(&mut purse_cmd(ledger, args))
}

fn ok_json(ledger: &Path, args: &[&str]) -> serde_json::Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    let o = purse(ledger, &a);
    assert_eq!(o.code, 0, "purse ledger {args:?}: {}", o.stderr);
    o.json()
}

fn acc(b: &Bank, name: &str) -> String {
    b.status(name).account.to_string()
}

#[test]
fn ledger_view_cases() {
    let mut bank = Bank::standard(2, 0);
    fill(&mut bank);
    run_cases(
        &mut bank,
        &[
            ("summary_matches_the_cards", summary_matches_the_cards),
            (
                "amounts_in_currency_and_dates",
                amounts_in_currency_and_dates,
            ),
            (
                "read_commands_never_create_a_file",
                read_commands_never_create_a_file,
            ),
            (
                "archived_ledger_on_read_only_media",
                archived_ledger_on_read_only_media,
            ),
            ("corrupted_page_is_reported", corrupted_page_is_reported),
            ("altered_entry_is_reported", altered_entry_is_reported),
            (
                "forged_value_breaks_conservation",
                forged_value_breaks_conservation,
            ),
            (
                "older_ledger_prints_minor_units",
                older_ledger_prints_minor_units,
            ),
            ("html_report_in_chromium", html_report_in_chromium),
        ],
    );
}

/// The conservation check against what the cards themselves say (one `status` per card).
fn summary_matches_the_cards(b: &mut Bank) {
    let p = ledger_path(b);
    let s = ok_json(&p, &["summary"]);
    assert_eq!(s["units"]["currency"], "EUR", "{s}");
    assert_eq!(s["units"]["decimals"], 2);
    let c = &s["conservation"];
    assert_eq!(c["holds"], true, "{s}");
    assert_eq!(c["issued_by_center_minor"], 500_000);
    assert_eq!(c["issued_by_center"], "5000.00");
    assert_eq!(c["held_by_cards_minor"], 500_000);
    assert_eq!(c["difference_minor"], 0);
    // every card's ledger balance is its real balance, read from the card
    let cards = s["cards"].as_array().unwrap();
    let card = |name: &str| {
        let a = acc(b, name);
        cards
            .iter()
            .find(|k| k["account"] == a.as_str())
            .unwrap_or_else(|| panic!("{name} not in the summary: {s}"))
            .clone()
    };
    for (name, role) in [
        ("region", "region"),
        ("branch", "branch"),
        ("alice", "user"),
        ("bob", "user"),
    ] {
        let k = card(name);
        assert_eq!(k["balance_minor"], b.balance(name) as i64, "{name}: {k}");
        assert_eq!(k["role"], role, "{name}");
    }
    assert_eq!(card("alice")["balance"], "985.66");
    // alice paid 7.00 after her last sync: the card reported 992.66 then, the ledger knows more
    assert_eq!(card("alice")["reported_balance"], "992.66");
    assert_eq!(
        card("bob")["reported_balance_minor"],
        b.balance("bob") as i64
    );
    assert_eq!(card("center")["role"], "center");
    assert_eq!(card("center")["own_entries"], 0, "the center never syncs");
    // the center's own balance as it reported it when it synced the region; minted from it
    assert_eq!(
        s["center_reported_balance_minor"],
        b.balance("center") as i64
    );
    assert_eq!(s["minted_estimate_minor"], b.minted as i64);
    // the region's credit from the (never collected) center, and bob's credit of alice's last
    // payment (her passbook since then not collected); nothing in flight
    assert_eq!(s["unmatched_credits"]["count"], 2, "{s}");
    assert_eq!(s["unmatched_credits"]["counterparty_not_collected"], 1);
    assert_eq!(s["unmatched_debits"]["count"], 0);
    assert_eq!(s["flags"].as_array().unwrap().len(), 0);
    assert_eq!(s["syncs"], 5);

    let o = purse(&p, &["summary"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    for want in [
        "value conserved",
        "5000.00 EUR",
        "985.66 EUR",
        "992.66 EUR",
        "minted (that + issued",
        "10000.00 EUR",
    ] {
        assert!(
            o.stdout.contains(want),
            "summary lacks {want:?}:\n{}",
            o.stdout
        );
    }
}

fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z'
}

fn amounts_in_currency_and_dates(b: &mut Bank) {
    let p = ledger_path(b);
    let alice = acc(b, "alice");
    let v = ok_json(&p, &["--account", &alice]);
    assert_eq!(v["currency"]["currency"], "EUR", "{v}");
    let e = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "DEBIT" && e["amount_minor"] == 1234)
        .unwrap_or_else(|| panic!("alice's 12.34 debit: {v}"))
        .clone();
    assert_eq!(e["amount"], "12.34");
    assert_eq!(e["new_balance_minor"], 98_766);
    assert_eq!(e["new_balance"], "987.66");
    assert_eq!(e["date"], "2026-01-04");
    let o = purse(&p, &["--account", &alice]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("(amounts in EUR)"), "{}", o.stdout);
    assert!(
        o.stdout
            .lines()
            .any(|l| l.contains("DEBIT") && l.contains("12.34") && l.contains("987.66")),
        "{}",
        o.stdout
    );

    let v = ok_json(&p, &["syncs"]);
    let syncs = v["syncs"].as_array().unwrap();
    assert_eq!(syncs.len(), 5);
    for s in syncs {
        let t = s["at_rfc3339"].as_str().unwrap();
        assert!(is_rfc3339(t), "{t}");
        assert!(s["at"].is_i64(), "machine value kept");
        assert_eq!(s["interest_paid"], "0.00");
    }
    let o = purse(&p, &["syncs"]);
    assert_eq!(o.code, 0);
    let at = syncs[0]["at"].as_i64().unwrap().to_string();
    let day = &syncs[0]["at_rfc3339"].as_str().unwrap()[..10];
    assert!(
        !o.stdout.contains(&at),
        "text shows unix seconds: {}",
        o.stdout
    );
    assert!(
        o.stdout.contains(day) && o.stdout.contains("UTC"),
        "{}",
        o.stdout
    );

    let v = ok_json(&p, &["rebuild", &alice]);
    assert_eq!(v["balance_minor"], 98_566);
    assert_eq!(v["balance"], "985.66");
    let o = purse(&p, &["rebuild", &alice]);
    assert!(o.stdout.contains("balance: 985.66 EUR"), "{}", o.stdout);
}

fn read_commands_never_create_a_file(b: &mut Bank) {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("typo/path.sqlite");
    let alice = acc(b, "alice");
    for args in [
        vec![],
        vec!["summary"],
        vec!["check"],
        vec!["reconcile"],
        vec!["flags"],
        vec!["syncs"],
        vec!["rebuild", alice.as_str()],
        vec!["report", "--html", "/dev/null"],
    ] {
        let o = purse(&typo, &args);
        assert_eq!(o.code, 2, "ledger {args:?}: {} {}", o.stdout, o.stderr);
        assert!(
            o.stderr.contains("no ledger at") && o.stderr.contains("typo/path.sqlite"),
            "{}",
            o.stderr
        );
        assert!(
            !dir.path().join("typo").exists(),
            "ledger {args:?} created the directory"
        );
    }
    // same through $PURSE_LEDGER, in an existing directory
    let o = run(Command::new(env!("CARGO_BIN_EXE_purse"))
        .env("PURSE_LEDGER", dir.path().join("nope.sqlite"))
        .args(["ledger", "summary"]));
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "a file was created"
    );
    // a file that is not a ledger
    let junk = dir.path().join("junk.sqlite");
    std::fs::write(
        &junk,
        b"not a database at all, just some bytes that are long enough to look like a header ....",
    )
    .unwrap();
    let o = purse(&junk, &[]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("not a ledger"), "{}", o.stderr);
}

fn files_in(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A read-only file in a read-only directory, read by a user who really cannot write there
/// (root ignores permission bits, so the commands also run as `nobody` through setpriv).
fn archived_ledger_on_read_only_media(b: &mut Bank) {
    let p = ledger_path(b);
    let want = ok_json(&p, &["summary"]);
    let tmp = tempfile::tempdir().unwrap();
    chmod(tmp.path(), 0o755);
    let arch = tmp.path().join("archive");
    std::fs::create_dir(&arch).unwrap();
    let f = arch.join("ledger-2026.sqlite");
    std::fs::copy(&p, &f).unwrap();
    let bytes = std::fs::read(&f).unwrap();
    chmod(&f, 0o444);
    chmod(&arch, 0o555);
    for args in [vec!["summary"], vec!["check"], vec![], vec!["syncs"]] {
        let o = purse(&f, &args);
        assert_eq!(o.code, 0, "as root, ledger {args:?}: {}", o.stderr);
        // as an unprivileged user, for whom the directory and the file are really read-only
        let mut c = purse_cmd(&f, &args);
        let exe = c.get_program().to_owned();
        let mut c2 = Command::new("setpriv");
        c2.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(exe)
            .args(c.get_args())
            .env_remove("PURSE_LEDGER")
            .env("HOME", "/nonexistent");
        let _ = &mut c;
        let o2 = run(&mut c2);
        assert_eq!(o2.code, 0, "as nobody, ledger {args:?}: {}", o2.stderr);
        assert_eq!(o.stdout, o2.stdout, "same answer as root and as nobody");
        assert!(o2.stderr.is_empty(), "{}", o2.stderr);
    }
    let v = ok_json(&f, &["summary"]);
    assert_eq!(v["conservation"], want["conservation"]);
    assert_eq!(v["cards"], want["cards"]);
    assert_eq!(
        files_in(&arch),
        vec!["ledger-2026.sqlite"],
        "no journal or lock file"
    );
    assert_eq!(
        std::fs::read(&f).unwrap(),
        bytes,
        "the archived file was not changed"
    );
    // archived in the middle of a write (its rollback journal next to it): refused, not read
    // half-written
    chmod(&arch, 0o755);
    std::fs::write(arch.join("ledger-2026.sqlite-journal"), [0xD9u8; 512]).unwrap();
    chmod(&arch, 0o555);
    let o = purse(&f, &["summary"]);
    assert_eq!(o.code, 2, "{} {}", o.stdout, o.stderr);
    assert!(o.stderr.contains("interrupted"), "{}", o.stderr);
    chmod(&arch, 0o755);
}

fn page_size(bytes: &[u8]) -> usize {
    match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65536,
        n => n as usize,
    }
}

/// Garbage over one page in the middle of a real ledger: every read command warns and exits 1,
/// `check` names the damage; and every single page of the file is caught the same way.
fn corrupted_page_is_reported(b: &mut Bank) {
    let p = ledger_path(b);
    let good = std::fs::read(&p).unwrap();
    let ps = page_size(&good);
    let pages = good.len() / ps;
    assert!(pages >= 8, "{pages} pages");
    let freelist = u32::from_be_bytes(good[36..40].try_into().unwrap());
    assert_eq!(freelist, 0, "no free pages: every page holds data");
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("l.sqlite");
    let corrupt = |page: usize| {
        let mut bad = good.clone();
        for x in &mut bad[page * ps..(page + 1) * ps] {
            *x = 0x5A;
        }
        std::fs::write(&f, bad).unwrap();
    };
    corrupt(pages / 2);
    for args in [vec![], vec!["summary"], vec!["syncs"], vec!["reconcile"]] {
        let o = purse(&f, &args);
        assert_eq!(
            o.code, 1,
            "ledger {args:?} on a damaged file: {} {}",
            o.stdout, o.stderr
        );
        assert!(
            o.stderr.contains("is damaged"),
            "ledger {args:?}: {}",
            o.stderr
        );
    }
    let o = purse(&f, &["check"]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert!(o.stdout.contains("PROBLEM sqlite"), "{}", o.stdout);
    let v = purse(&f, &["--json", "check"]).json();
    assert_eq!(v["ok"], false);
    // every page, one at a time (page 0 holds the header: the file is no longer a database)
    for page in 1..pages {
        corrupt(page);
        let o = purse(&f, &["check"]);
        assert_eq!(
            o.code, 1,
            "page {page} of {pages} corrupted, check says: {}",
            o.stdout
        );
        let o = purse(&f, &[]);
        assert_eq!(o.code, 1, "page {page}: listing: {}", o.stderr);
        assert!(o.stderr.contains("is damaged"), "page {page}: {}", o.stderr);
    }
    // the sound file checks clean
    std::fs::write(&f, &good).unwrap();
    let o = purse(&f, &["check"]);
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert!(
        o.stdout.contains("file and content consistent"),
        "{}",
        o.stdout
    );
}

/// An entry's amount changed inside the file, in the row and in its index, so SQLite's own
/// check sees a sound file: the ledger's check (entry columns against the card's bytes) and the
/// read commands catch it.
fn altered_entry_is_reported(b: &mut Bank) {
    let p = ledger_path(b);
    let bob = acc(b, "bob");
    let v = ok_json(&p, &["--account", &bob]);
    let e = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["amount_minor"] == 700)
        .expect("bob's 7.00 credit")
        .clone();
    let raw = hex::decode(e["raw"].as_str().unwrap()).unwrap();
    let mut good = std::fs::read(&p).unwrap();
    let mut forged = raw.clone();
    forged[27..31].copy_from_slice(&70_000u32.to_be_bytes()); // 7.00 -> 700.00
    let mut n = 0;
    let mut i = 0;
    while let Some(k) = good[i..]
        .windows(raw.len())
        .position(|w| w == raw.as_slice())
    {
        good[i + k..i + k + raw.len()].copy_from_slice(&forged);
        i += k + raw.len();
        n += 1;
    }
    assert_eq!(
        n, 2,
        "the entry's bytes are in its row and in the UNIQUE index"
    );
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("l.sqlite");
    std::fs::write(&f, &good).unwrap();
    let o = purse(&f, &["check"]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    assert!(o.stdout.contains("PROBLEM raw_mismatch"), "{}", o.stdout);
    assert!(
        o.stdout.contains("amount, new balance") || o.stdout.contains("amount"),
        "{}",
        o.stdout
    );
    assert!(
        !o.stdout.contains("PROBLEM sqlite"),
        "SQLite sees a sound file: {}",
        o.stdout
    );
    let o = purse(&f, &["--account", &bob]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("was altered"), "{}", o.stderr);
    // the report of it says so at the top
    let html = tmp.path().join("r.html");
    let o = purse(&f, &["report", "--html", html.to_str().unwrap()]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("id=\"damaged\"") && page.contains("differ from the card"),
        "{page}"
    );
}

fn chromium(args: &[&str], profile: &Path) -> Out {
    let o = run(Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args));
    assert_eq!(
        o.code, 0,
        "chromium {args:?} (installed by scripts/prereqs): {}",
        o.stderr
    );
    o
}

fn html_report_in_chromium(b: &mut Bank) {
    let p = ledger_path(b);
    let tmp = tempfile::tempdir().unwrap();
    let html = tmp.path().join("report.html");
    let o = purse(&p, &["report", "--html", html.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let page = std::fs::read_to_string(&html).unwrap();
    // self-contained: nothing fetched
    for bad in ["http:", "https:", "src=", "<link", "@import", "url("] {
        assert!(
            !page.contains(bad),
            "the page refers to something outside ({bad})"
        );
    }
    let url = format!("file://{}", html.display());
    let profile = tmp.path().join("profile");
    let dom = chromium(&["--dump-dom", &url], &profile).stdout;
    // what the script wrote after adding up the cards' balances in the page
    assert!(
        dom.contains("check: 4 cards hold 5000.00 EUR, open exceptions 0.00 EUR, issued by the center 5000.00 EUR: conserved"),
        "script line missing:\n{dom}"
    );
    assert!(dom.contains("value conserved"));
    let (center, region, branch, alice, bob) = (
        acc(b, "center"),
        acc(b, "region"),
        acc(b, "branch"),
        acc(b, "alice"),
        acc(b, "bob"),
    );
    for (from, to, minor, text) in [
        (&center, &region, 500_000, "5000.00 EUR"),
        (&region, &branch, 300_000, "3000.00 EUR"),
        (&branch, &alice, 100_000, "1000.00 EUR"),
        (&branch, &bob, 50_000, "500.00 EUR"),
        (&alice, &bob, 1_934, "19.34 EUR"),
        (&bob, &alice, 500, "5.00 EUR"),
    ] {
        let tag = format!("data-from=\"{from}\" data-to=\"{to}\" data-minor=\"{minor}\"");
        let at = dom.find(&tag).unwrap_or_else(|| panic!("no flow {tag}"));
        let g = &dom[at..at + dom[at..].find("</g>").unwrap()];
        assert!(g.contains(text), "flow {from} -> {to}: {g}");
    }
    for name in ["BANK", "NORTH", "BR-1", "ALICE", "BOB"] {
        assert!(dom.contains(&format!(">{name}<")), "node {name}");
    }
    // balance-over-time charts, one per collected card, with its last collected balance
    for (who, last) in [
        (&alice, "992.66 EUR"),
        (&bob, "514.34 EUR"),
        (&region, "2000.00 EUR"),
    ] {
        let at = dom
            .find(&format!("<div class=\"chart\" data-account=\"{who}\">"))
            .unwrap_or_else(|| panic!("no chart for {who}"));
        let chart = &dom[at..at + dom[at..].find("</div></div>").unwrap()];
        assert!(
            chart.contains(&format!("last entry's balance <b>{last}</b>")),
            "{chart}"
        );
        assert!(chart.contains("class=\"line\""), "{chart}");
    }
    // a picture to look at
    let png = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ledger-report.png");
    let _ = std::fs::remove_file(&png);
    chromium(
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1300,1500",
            &url,
        ],
        &profile,
    );
    let shot = std::fs::read(&png).expect("screenshot written");
    assert!(
        shot.starts_with(b"\x89PNG") && shot.len() > 20_000,
        "{} bytes",
        shot.len()
    );
    eprintln!("report screenshot: {}", png.display());
}

/// A copy of the real ledger with one forged collection stored by the library (as a hostile
/// host could): the summary must say value is not conserved, and exit 1.
fn forged_copy(
    b: &Bank,
    card: &str,
    e: purse::ledger::PassbookEntry,
) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("l.sqlite");
    std::fs::copy(ledger_path(b), &f).unwrap();
    let mut lg = purse::ledger::Ledger::open(&f).unwrap();
    let (bank, acct) = (b.status("branch").account, b.status(card).account);
    lg.store_collection(
        &bank,
        &acct,
        &[purse::ledger::encode_entry(&e)],
        &purse::ledger::SyncExtras::default(),
    )
    .unwrap();
    (tmp, f)
}

fn forged_value_breaks_conservation(b: &mut Bank) {
    use purse::ledger::{EntryType, PassbookEntry};
    // bob "mints" 100.00 (his chain stays unbroken: 514.34 -> 614.34)
    let bob = b.status("bob");
    let mint = PassbookEntry {
        account: bob.account,
        name: "MINT".into(),
        random: [0; 8],
        date: DATE,
        kind: EntryType::Mint,
        amount: 10_000,
        new_balance: bob.balance + 10_000,
        tid: [0; 6],
        keynum: 0,
    };
    let (_t, f) = forged_copy(b, "bob", mint);
    let o = purse(&f, &["--json", "summary"]);
    assert_eq!(o.code, 1, "{} {}", o.stdout, o.stderr);
    let s = o.json();
    assert_eq!(s["conservation"]["holds"], false);
    assert_eq!(s["conservation"]["difference"], "100.00");
    assert!(
        s["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["kind"] == "mint_off_center"),
        "{s}"
    );
    let o = purse(&f, &["summary"]);
    assert!(
        o.stdout.contains("VALUE NOT CONSERVED") && o.stdout.contains("100.00 EUR"),
        "{}",
        o.stdout
    );

    // alice credited 50.00 by a card that never existed: the sum still adds up (the phantom
    // payer goes negative), so the negative balance is what breaks conservation
    let alice = b.status("alice");
    let phantom =
        purse::ledger::Account::from_digits15(&[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9])
            .unwrap();
    let credit = PassbookEntry {
        account: phantom,
        name: "GHOST".into(),
        random: [0x77; 8],
        date: DATE,
        kind: EntryType::Credit,
        amount: 5_000,
        new_balance: 99_266 + 5_000,
        tid: [0xAB; 6],
        keynum: 0,
    };
    let (_t2, f2) = forged_copy(b, "alice", credit);
    let o = purse(&f2, &["--json", "summary"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let s = o.json();
    assert_eq!(s["conservation"]["holds"], false, "{s}");
    assert_eq!(
        s["conservation"]["negative_balances"][0],
        phantom.to_string()
    );
    let _ = alice;
}

/// A ledger written before syncs recorded the cards' status: amounts stay minor units, labelled.
fn older_ledger_prints_minor_units(b: &mut Bank) {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("old.sqlite");
    std::fs::copy(ledger_path(b), &f).unwrap();
    rusqlite::Connection::open(&f)
        .unwrap()
        .execute_batch("DROP TABLE card_status")
        .unwrap();
    let alice = acc(b, "alice");
    let o = purse(&f, &["--account", &alice]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.contains("(amounts in minor units)"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout
            .lines()
            .any(|l| l.contains("DEBIT") && l.contains(" 1234 ")),
        "{}",
        o.stdout
    );
    let v = ok_json(&f, &["--account", &alice]);
    assert_eq!(v["currency"]["currency"], serde_json::Value::Null);
    assert!(v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["amount"] == "1234"));
    let o = purse(&f, &["summary"]);
    assert!(
        !o.stdout.contains("985.66") && o.stdout.contains("98566 minor units"),
        "{}",
        o.stdout
    );
}
