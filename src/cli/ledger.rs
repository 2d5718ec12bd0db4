//! `purse ledger`: the bank's ledger of collected passbooks (docs/ledger.md, MISSION B5).
//! Every command here only reads: the ledger is opened read-only (never created; works on
//! read-only media) and checked (`quick_check`) first. Amounts are printed in the currency the
//! syncs recorded (else minor units, said so); `--json` keeps the machine values and adds the
//! formatted ones (`*_decimal`, `at_rfc3339`, `currency`).
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use purse::ledger::{self, units::Units, EntryFilter, Ledger, LedgerError};
use serde::Serialize;

use super::Cli;

#[derive(Args, Debug)]
pub struct LedgerArgs {
    /// Ledger: a SQLite file, or a PostgreSQL URL postgres://USER[:PASS]@HOST[:PORT]/DB
    /// (default: $PURSE_LEDGER, else ~/.purse/ledger.sqlite)
    #[arg(long, global = true, value_name = "FILE|URL", env = "PURSE_LEDGER")]
    pub ledger: Option<PathBuf>,
    #[command(subcommand)]
    pub cmd: Option<LedgerCmd>,
    #[command(flatten)]
    pub list: ListArgs,
}

/// `purse ledger` with no subcommand: list collected passbook entries.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Only entries of this card's own passbook (16 digits, or sig:HEX for a private card)
    #[arg(long, value_name = "ACC")]
    pub account: Option<String>,
    /// First day, inclusive (YYYY-MM-DD or a day number)
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last day, inclusive (YYYY-MM-DD or a day number)
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Also show DEBITs that the card later rewrote in place (refunded / exception)
    #[arg(long)]
    pub all: bool,
}

#[derive(Subcommand, Debug)]
pub enum LedgerCmd {
    /// Match every debit with the credit on the other card (transfer id + amount); list the
    /// unmatched, and whether each exception-log entry was credited after all
    Reconcile,
    /// Rebuild a card's balance from the ledger (refund a dead card): last collected balance
    /// plus later movements seen on counterparties' passbooks
    Rebuild {
        /// The card's account (16 digits)
        account: String,
    },
    /// Simple fraud and consistency flags (reused randoms or transfer ids, credits of refunded
    /// debits, broken balance chains, ...)
    Flags,
    /// Syncs recorded: when, which bank card, entries collected and new, interest paid
    Syncs {
        /// Only syncs of this card
        account: Option<String>,
    },
    /// Check the file (SQLite integrity check) and the ledger's consistency (entries against
    /// their card bytes, entries and syncs against each other); exit 1 if anything is wrong
    Check,
    /// The auditor's view: value issued by the center against the value held by the cards,
    /// each card's balance (rebuilt and as last reported), value in flight, unmatched debits and
    /// credits, open exceptions, flags
    Summary,
    /// Write a self-contained HTML page (no network): money flowing down the hierarchy and
    /// each card's balance over time
    Report {
        /// The HTML file to write
        #[arg(long, value_name = "FILE")]
        html: PathBuf,
    },
    /// Benchmark the engines on generated, realistic data in scratch ledgers (never the
    /// --ledger one): syncs stored per second by 1, 4, 16 concurrent writers; reconcile and
    /// --account time on large ledgers loaded directly
    Bench(BenchArgs),
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Ledger sizes (entries) for the reconcile and --account timings
    #[arg(long, value_delimiter = ',', default_value = "100000,1000000")]
    pub sizes: Vec<usize>,
    /// Concurrent writers for the ingest runs
    #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
    pub writers: Vec<usize>,
    /// Entries each ingest run stores (through store_collection, one transaction per sync)
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub ingest: usize,
    /// Directory for the SQLite scratch files (default: a new one in the temp dir)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Also benchmark PostgreSQL on this server (its user must be allowed to create
    /// databases: the bench makes and drops purse_bench_* databases)
    #[arg(long, value_name = "URL")]
    pub postgres: Option<String>,
    /// Do not benchmark SQLite
    #[arg(long)]
    pub no_sqlite: bool,
    /// Only the ingest runs, or only the large-ledger timings
    #[arg(long, value_parser = ["ingest", "queries"])]
    pub only: Option<String>,
    /// Keep the largest generated ledger of each engine (purse_bench_size_N / size_N.sqlite)
    #[arg(long)]
    pub keep: bool,
}

pub fn run(cli: &Cli, a: &LedgerArgs) -> anyhow::Result<i32> {
    let l = &a.list;
    if a.cmd.is_some() && (l.account.is_some() || l.from.is_some() || l.to.is_some() || l.all) {
        return Err(super::usage("--account/--from/--to/--all belong to `purse ledger` (the listing), not to its subcommands"));
    }
    if let Some(LedgerCmd::Bench(b)) = &a.cmd {
        return bench(cli, b);
    }
    let path = a.ledger.clone().unwrap_or_else(ledger::default_path);
    // Read-only: a mistyped path must not create an empty ledger (only `purse sync` creates one).
    let lg = match Ledger::open_read_only(&path) {
        Ok(l) => l,
        Err(e @ (LedgerError::NotFound { .. } | LedgerError::NotALedger { .. })) => {
            return Err(super::usage(e.to_string()));
        }
        Err(e) => return Err(e).with_context(|| format!("opening ledger {}", path.display())),
    };
    // A damaged file must not be read without a warning: check its pages first (`check` does
    // the full check itself).
    let damaged = if matches!(a.cmd, Some(LedgerCmd::Check)) {
        Vec::new()
    } else {
        lg.check_quick()?.problems
    };
    if let Some(first) = damaged.first() {
        DAMAGED.with(|d| {
            *d.borrow_mut() = Some(format!(
                "ledger {} is damaged or was altered ({} problem(s), first: {}): what the document holds may be incomplete or wrong; run `purse ledger check`",
                path.display(),
                damaged.len(),
                first.detail
            ))
        });
        eprintln!(
            "warning: ledger {} is damaged or was altered ({} problem(s), first: {}); what follows may be incomplete or wrong; run `purse ledger check`",
            path.display(),
            damaged.len(),
            first.detail
        );
    }
    // the currency is a nicety: a damaged status table must not stop the listing
    let units = lg.units().unwrap_or_else(|_| {
        Units::minor("the recorded statuses are unreadable: amounts are minor units")
    });
    let ok = match &a.cmd {
        None => list(cli, &lg, &a.list, &units)?,
        Some(LedgerCmd::Reconcile) => reconcile(cli, &lg, &units)?,
        Some(LedgerCmd::Rebuild { account }) => rebuild(cli, &lg, account, &units)?,
        Some(LedgerCmd::Flags) => flags(cli, &lg)?,
        Some(LedgerCmd::Syncs { account }) => syncs(cli, &lg, account.as_deref(), &units)?,
        Some(LedgerCmd::Check) => check(cli, &lg)?,
        Some(LedgerCmd::Summary) => summary(cli, &lg)?,
        Some(LedgerCmd::Report { html }) => report(&lg, html, &damaged)?,
        Some(LedgerCmd::Bench(_)) => unreachable!("handled above"),
    };
    Ok(if ok && damaged.is_empty() {
        super::EXIT_OK
    } else {
        super::EXIT_ERROR
    })
}

thread_local! {
    /// Set when the ledger file is damaged: every JSON document of the command is then a failure
    /// document (exit 1) with this message, the content as far as it could be read beside it.
    static DAMAGED: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Print a ledger command's JSON document (a failure document if the file is damaged).
fn out<T: Serialize>(v: &T) -> anyhow::Result<()> {
    match DAMAGED.with(|d| d.borrow().clone()) {
        None => super::print_json(v),
        Some(m) => {
            let mut r = super::report::Report::new(purse::error::Kind::Ledger, m);
            // the message is on stderr already (the warning)
            r.exit = super::EXIT_ERROR;
            super::report::print_failed_report(true, v, r).map(|_| ())
        }
    }
}

/// Money fields of the JSON outputs: each becomes the decimal string (currency units) with a
/// `<key>_minor` sibling (the integer), the convention of every `--json` output; `at` (unix
/// seconds) gets an `at_rfc3339`.
const MONEY: &[&str] = &[
    "amount",
    "new_balance",
    "balance",
    "balance_certain",
    "base_balance",
    "delta",
    "interest_paid",
    "expected",
    "found",
];

fn decorate(v: &mut serde_json::Value, u: &Units) {
    super::report::money(v, MONEY, &|n| u.decimal(n));
    at_times(v);
}

/// The summary's amounts (`{minor, decimal, currency}` objects) in the one convention: the
/// decimal string under the key, the integer under `<key>_minor` (the currency is the
/// document's `units`).
fn flatten_amounts(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            let mut add = Vec::new();
            for (k, x) in m.iter_mut() {
                let is_amount = x.as_object().is_some_and(|o| {
                    o.contains_key("minor") && o.contains_key("decimal") && o.len() <= 3
                });
                if is_amount {
                    add.push((format!("{k}_minor"), x["minor"].clone()));
                    *x = x["decimal"].clone();
                } else {
                    flatten_amounts(x);
                }
            }
            m.extend(add);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(flatten_amounts),
        _ => {}
    }
}

fn at_times(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            let mut add = Vec::new();
            for (k, x) in m.iter_mut() {
                if let Some(n) = x.as_i64() {
                    if k == "at" {
                        add.push((
                            "at_rfc3339".to_string(),
                            serde_json::Value::from(ledger::units::rfc3339(n)),
                        ));
                    }
                } else {
                    at_times(x);
                }
            }
            m.extend(add);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(at_times),
        _ => {}
    }
}

/// Print `value` as JSON with the formatted amounts and dates, and the currency.
fn print_json_units<T: Serialize>(value: &T, u: &Units) -> anyhow::Result<()> {
    let mut v = serde_json::to_value(value)?;
    decorate(&mut v, u);
    if let serde_json::Value::Object(m) = &mut v {
        m.insert("currency".into(), serde_json::to_value(u)?);
    }
    out(&v)
}

fn list(cli: &Cli, lg: &Ledger, a: &ListArgs, u: &Units) -> anyhow::Result<bool> {
    let f = EntryFilter {
        account: a
            .account
            .as_deref()
            .map(ledger::parse_account)
            .transpose()?,
        from: a.from.as_deref().map(ledger::parse_day).transpose()?,
        to: a.to.as_deref().map(ledger::parse_day).transpose()?,
        include_superseded: a.all,
    };
    if let (Some(x), Some(y)) = (f.from, f.to) {
        if x > y {
            return Err(super::usage(format!(
                "--from {} is after --to {}",
                ledger::format_day(x),
                ledger::format_day(y)
            )));
        }
    }
    let entries = lg.entries(&f)?;
    if cli.json {
        #[derive(Serialize)]
        struct Out<'a> {
            ledger: String,
            count: usize,
            entries: &'a [ledger::StoredEntry],
        }
        print_json_units(
            &Out {
                ledger: lg.path().display().to_string(),
                count: entries.len(),
                entries: &entries,
            },
            u,
        )?;
        return Ok(true);
    }
    if entries.is_empty() {
        println!("no entries in {}", lg.path().display());
        return Ok(true);
    }
    println!(
        "{:<10}  {:<16}  {:>2}  {:<14}  {:>12}  {:>12}  {:<16}  {:<8}  TID",
        "DATE", "CARD", "#", "TYPE", "AMOUNT", "BALANCE", "COUNTERPARTY", "NAME"
    );
    for e in &entries {
        println!(
            "{:<10}  {:<16}  {:>2}  {:<14}  {:>12}  {:>12}  {:<16}  {:<8}  {}{}",
            e.date,
            e.card_account,
            e.index,
            e.kind.name(),
            u.decimal(e.amount as i64),
            u.decimal(e.new_balance as i64),
            e.counterparty,
            e.counterparty_name,
            e.tid.as_deref().unwrap_or("-"),
            if e.superseded_by.is_some() {
                "  (rewritten)"
            } else {
                ""
            }
        );
    }
    println!("{} entries (amounts in {})", entries.len(), u.unit());
    Ok(true)
}

fn reconcile(cli: &Cli, lg: &Ledger, u: &Units) -> anyhow::Result<bool> {
    let r = lg.reconcile()?;
    if cli.json {
        print_json_units(&r, u)?;
        return Ok(true);
    }
    println!(
        "debits: {} checked, {} matched; credits: {} checked, {} matched",
        r.debits_checked, r.debits_matched, r.credits_checked, r.credits_matched
    );
    for um in &r.unmatched {
        let e = &um.entry;
        println!(
            "UNMATCHED {:<6}  card {}  {} {} {}  to/from {}  tid {}{}",
            um.side,
            e.card_account,
            e.date,
            e.kind.name(),
            u.text(e.amount as i64),
            e.counterparty,
            e.tid.as_deref().unwrap_or("-"),
            if um.counterparty_collected {
                ""
            } else {
                "  (counterparty's passbook not collected yet)"
            }
        );
    }
    for x in &r.exceptions {
        let e = &x.exception;
        let state = if x.credited {
            "CREDITED on the payee: do not refund"
        } else if x.counterparty_collected {
            "no credit on the payee's collected passbooks"
        } else {
            "payee's passbook not collected yet"
        };
        println!(
            "EXCEPTION  payer {}  payee {}  {} amount {}  tid {}: {state}",
            e.card_account,
            e.counterparty,
            e.date,
            u.text(e.amount as i64),
            e.tid
        );
    }
    if r.unmatched.is_empty() {
        println!("every debit and credit is matched");
    }
    Ok(true)
}

fn rebuild(cli: &Cli, lg: &Ledger, account: &str, u: &Units) -> anyhow::Result<bool> {
    let acc = ledger::parse_account(account)?;
    let r = lg.rebuild(&acc)?;
    if cli.json {
        print_json_units(&r, u)?;
        return Ok(true);
    }
    println!("account {}", r.account);
    match &r.last_own_entry {
        Some(e) => println!(
            "  own passbook: {} entries, last {} ({} {}), balance after it {}",
            r.own_entries,
            e.date,
            e.kind.name(),
            u.text(e.amount as i64),
            u.text(r.base_balance)
        ),
        None => println!("  own passbook: never collected; starting from 0"),
    }
    for b in &r.chain_breaks {
        println!(
            "  WARNING chain break at entry {}: balance {} where {} expected",
            b.entry_id,
            u.text(b.found),
            u.text(b.expected)
        );
    }
    for adj in &r.adjustments {
        let e = &adj.entry;
        println!(
            "  {}{} ({})  seen on {} {}: {} {} tid {}{}",
            if adj.delta >= 0 { "+" } else { "" },
            u.text(adj.delta),
            adj.certainty,
            e.card_account,
            e.date,
            e.kind.name(),
            u.text(e.amount as i64),
            e.tid.as_deref().unwrap_or("-"),
            if adj.before_last_own_entry {
                "  (dated before the last own entry!)"
            } else {
                ""
            }
        );
    }
    for e in &r.unresolved {
        println!(
            "  ? {} given up by payer {} on {} (tid {}): credited or not is unknown",
            u.text(e.amount as i64),
            e.card_account,
            e.date,
            e.tid.as_deref().unwrap_or("-")
        );
    }
    println!(
        "balance: {} (certain part: {})",
        u.text(r.balance),
        u.text(r.balance_certain)
    );
    Ok(true)
}

fn flags(cli: &Cli, lg: &Ledger) -> anyhow::Result<bool> {
    let f = lg.fraud_flags()?;
    if cli.json {
        #[derive(Serialize)]
        struct Out<'a> {
            count: usize,
            flags: &'a [ledger::FraudFlag],
        }
        out(&Out {
            count: f.len(),
            flags: &f,
        })?;
        return Ok(true);
    }
    if f.is_empty() {
        println!("no flags");
    }
    for x in &f {
        println!("{:<26} {}  (entries {:?})", x.kind, x.detail, x.entry_ids);
    }
    Ok(true)
}

fn syncs(cli: &Cli, lg: &Ledger, account: Option<&str>, u: &Units) -> anyhow::Result<bool> {
    let acc = account.map(ledger::parse_account).transpose()?;
    let v = lg.syncs(acc.as_ref())?;
    if cli.json {
        #[derive(Serialize)]
        struct Out<'a> {
            count: usize,
            syncs: &'a [ledger::SyncRecord],
        }
        print_json_units(
            &Out {
                count: v.len(),
                syncs: &v,
            },
            u,
        )?;
        return Ok(true);
    }
    if v.is_empty() {
        println!("no syncs");
    }
    for s in &v {
        println!(
            "#{:<4} {} UTC  bank {}  card {}  epoch {}  entries {} ({} new)  exceptions {} ({} new)  interest {}{}",
            s.id,
            ledger::units::datetime(s.at),
            s.bank_account,
            s.card_account,
            s.passbook_epoch,
            s.entries_collected,
            s.entries_new,
            s.exceptions_collected,
            s.exceptions_new,
            u.text(s.interest_paid),
            if s.cleared { "  cleared" } else { "" }
        );
    }
    Ok(true)
}

fn check(cli: &Cli, lg: &Ledger) -> anyhow::Result<bool> {
    let r = lg.check()?;
    if cli.json {
        if r.ok {
            out(&r)?;
        } else {
            super::report::print_failed_report(
                true,
                &r,
                super::report::Report::new(
                    purse::error::Kind::Ledger,
                    format!(
                        "{} problem(s): the ledger is damaged or was altered",
                        r.problems.len()
                    ),
                ),
            )?;
        }
        return Ok(r.ok);
    }
    println!(
        "ledger {}: {} entries, {} exceptions, {} syncs",
        lg.path().display(),
        r.entries,
        r.exceptions,
        r.syncs
    );
    if let Some(why) = &r.skipped {
        println!("not checked: {why}");
    }
    for p in &r.problems {
        println!("PROBLEM {:<20} {}", p.kind, p.detail);
    }
    if r.ok && r.skipped.is_some() {
        println!("content consistent");
    } else if r.ok {
        println!("file and content consistent");
    } else {
        println!(
            "{} problem(s): the ledger is damaged or was altered",
            r.problems.len()
        );
    }
    if !r.flags.is_empty() {
        let f: Vec<String> = r.flags.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!(
            "flags on the content ({}): see `purse ledger flags`",
            f.join(", ")
        );
    }
    Ok(r.ok)
}

fn summary(cli: &Cli, lg: &Ledger) -> anyhow::Result<bool> {
    let s = lg.summary()?;
    if cli.json {
        // "ok": whether the value held by the cards matches the value issued (the exit code)
        let mut v = serde_json::to_value(&s)?;
        flatten_amounts(&mut v);
        if s.conservation.holds {
            out(&v)?;
        } else {
            super::report::print_failed_report(
                true,
                &v,
                super::report::Report::new(
                    purse::error::Kind::Ledger,
                    "the value held by the cards does not match the value the center issued (see conservation)",
                ),
            )?;
        }
        return Ok(s.conservation.holds);
    }
    let u = &s.units;
    let t = |a: &ledger::units::Amount| u.text(a.minor);
    println!(
        "ledger {}: {} syncs{}; amounts in {} ({})",
        lg.path().display(),
        s.syncs,
        s.last_sync_at
            .as_deref()
            .map(|x| format!(", last {x}"))
            .unwrap_or_default(),
        u.unit(),
        u.source
    );
    println!();
    println!(
        "{:<16}  {:<8}  {:<7}  {:>7}  {:>16}  {:>16}  REPORTED AT",
        "CARD", "NAME", "ROLE", "ENTRIES", "BALANCE", "REPORTED"
    );
    for k in &s.cards {
        println!(
            "{:<16}  {:<8}  {:<7}  {:>7}  {:>16}  {:>16}  {}{}",
            k.account,
            k.name.as_deref().unwrap_or("?"),
            k.role.as_deref().unwrap_or("?"),
            k.own_entries,
            if k.role.as_deref() == Some("center") {
                "never collected".to_string()
            } else {
                t(&k.balance)
            },
            k.reported_balance
                .as_ref()
                .map(t)
                .unwrap_or_else(|| "-".into()),
            k.reported_at.as_deref().unwrap_or("-"),
            if k.chain_breaks > 0 {
                format!("  ({} chain break(s))", k.chain_breaks)
            } else {
                String::new()
            }
        );
    }
    println!(
        "(BALANCE: rebuilt from the ledger; REPORTED: the card's own balance at its last sync)"
    );
    println!();
    let c = &s.conservation;
    println!("issued by the center       {:>16}", t(&c.issued_by_center));
    println!("held by the cards below it {:>16}", t(&c.held_by_cards));
    println!("open exceptions            {:>16}", t(&c.open_exceptions));
    for n in &c.negative_balances {
        println!("NEGATIVE BALANCE on card {n}: it received value nobody paid (see flags)");
    }
    if c.holds {
        println!("value conserved: held + open exceptions = issued");
    } else if c.difference.minor == 0 {
        println!("VALUE NOT CONSERVED: cards with a negative balance");
    } else {
        println!(
            "VALUE NOT CONSERVED: held + open exceptions - issued = {} (see flags)",
            t(&c.difference)
        );
    }
    if let (Some(b), Some(at)) = (&s.center_reported_balance, &s.center_reported_at) {
        println!(
            "center's balance at its last sync {} ({at}); minted (that + issued + {} interest not yet collected) {}",
            t(b),
            t(&s.center_interest_not_collected),
            s.minted_estimate.as_ref().map(t).unwrap_or_default()
        );
    }
    if s.mints_collected.minor != 0 {
        println!("MINT entries collected: {}", t(&s.mints_collected));
    }
    let d = &s.unmatched_debits;
    println!(
        "in flight: {} debit(s) not yet seen credited, {} ({} with the payee's passbook not collected)",
        d.count,
        t(&d.amount),
        d.counterparty_not_collected
    );
    let c = &s.unmatched_credits;
    println!(
        "credits without their debit: {}, {} ({} with the payer's passbook not collected: the center's never is)",
        c.count,
        t(&c.amount),
        c.counterparty_not_collected
    );
    println!(
        "exceptions: {} open (not credited on the payee), {} credited (do not refund)",
        s.exceptions_open, s.exceptions_credited
    );
    if s.flags.is_empty() {
        println!("flags: none");
    } else {
        println!("flags: {}", s.flags.len());
        for f in &s.flags {
            println!("  {:<26} {}", f.kind, f.detail);
        }
    }
    Ok(s.conservation.holds)
}

fn report(
    lg: &Ledger,
    html: &std::path::Path,
    damaged: &[ledger::CheckProblem],
) -> anyhow::Result<bool> {
    let warnings: Vec<String> = damaged.iter().map(|p| p.detail.clone()).collect();
    let page = lg.report_html(&lg.path().display().to_string(), &warnings)?;
    std::fs::write(html, page).with_context(|| format!("writing {}", html.display()))?;
    println!("report written to {}", html.display());
    Ok(true)
}

fn bench(cli: &Cli, b: &BenchArgs) -> anyhow::Result<i32> {
    use purse::ledger::bench::{self, Target};
    if b.writers.iter().chain(&b.sizes).any(|&n| n == 0) || b.ingest == 0 {
        return Err(super::usage(
            "--sizes, --writers and --ingest take numbers above 0",
        ));
    }
    let (dir, made) = match &b.dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("purse-ledger-bench-{}", std::process::id())),
            true,
        ),
    };
    let mut targets = Vec::new();
    if !b.no_sqlite {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        targets.push(Target::Sqlite(dir.clone()));
    }
    if let Some(u) = &b.postgres {
        if !ledger::is_postgres_url(u) {
            return Err(super::usage("--postgres takes a postgres:// URL"));
        }
        targets.push(Target::Postgres(u.clone()));
    }
    if targets.is_empty() {
        return Err(super::usage(
            "nothing to benchmark (--no-sqlite without --postgres)",
        ));
    }
    let mut figs = Vec::new();
    let largest = b.sizes.iter().copied().max().unwrap_or(0);
    for t in &targets {
        let only = b.only.as_deref();
        for &w in b.writers.iter().filter(|_| only != Some("queries")) {
            let f = bench::ingest(t, b.ingest, w)?;
            if !cli.json {
                print_fig(&f);
            }
            figs.push(f);
        }
        for &n in b.sizes.iter().filter(|_| only != Some("ingest")) {
            for f in bench::queries(t, n, b.keep && n == largest)? {
                if !cli.json {
                    print_fig(&f);
                }
                figs.push(f);
            }
        }
    }
    if made && !b.keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    if cli.json {
        #[derive(Serialize)]
        struct Out<'a> {
            figures: &'a [bench::Figure],
        }
        out(&Out { figures: &figs })?;
    }
    Ok(super::EXIT_OK)
}

fn print_fig(f: &purse::ledger::bench::Figure) {
    let rate = f
        .per_second
        .map(|r| format!("{r:>9.0} entries/s"))
        .unwrap_or_default();
    println!(
        "{:<8} {:<16} {:>8} entries {:>2} writer(s) {:>9.3} s {rate:<20} {}",
        f.engine, f.what, f.entries, f.writers, f.seconds, f.result
    );
}
