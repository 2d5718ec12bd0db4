//! `purse ledger`: the bank's ledger of collected passbooks (docs/ledger.md, MISSION B5).
//! Amounts are printed in minor units (the ledger does not know each card's currency).
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use purse::ledger::{self, EntryFilter, Ledger};
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
        eprintln!("error: --account/--from/--to/--all belong to `purse ledger` (the listing), not to its subcommands");
        return Ok(super::EXIT_USAGE);
    }
    if let Some(LedgerCmd::Bench(b)) = &a.cmd {
        return bench(cli, b);
    }
    let path = a.ledger.clone().unwrap_or_else(ledger::default_path);
    let lg = Ledger::open(&path).with_context(|| format!("opening ledger {}", path.display()))?;
    match &a.cmd {
        None => list(cli, &lg, &a.list)?,
        Some(LedgerCmd::Reconcile) => reconcile(cli, &lg)?,
        Some(LedgerCmd::Rebuild { account }) => rebuild(cli, &lg, account)?,
        Some(LedgerCmd::Flags) => flags(cli, &lg)?,
        Some(LedgerCmd::Syncs { account }) => syncs(cli, &lg, account.as_deref())?,
        Some(LedgerCmd::Bench(_)) => unreachable!("handled above"),
    }
    Ok(super::EXIT_OK)
}

fn list(cli: &Cli, lg: &Ledger, a: &ListArgs) -> anyhow::Result<()> {
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
        anyhow::ensure!(
            x <= y,
            "--from {} is after --to {}",
            ledger::format_day(x),
            ledger::format_day(y)
        );
    }
    let entries = lg.entries(&f)?;
    if cli.json {
        #[derive(Serialize)]
        struct Out<'a> {
            ledger: String,
            count: usize,
            entries: &'a [ledger::StoredEntry],
        }
        return super::print_json(&Out {
            ledger: lg.path().display().to_string(),
            count: entries.len(),
            entries: &entries,
        });
    }
    if entries.is_empty() {
        println!("no entries in {}", lg.path().display());
        return Ok(());
    }
    println!(
        "{:<10}  {:<16}  {:>2}  {:<14}  {:>10}  {:>10}  {:<16}  {:<8}  TID",
        "DATE", "CARD", "#", "TYPE", "AMOUNT", "BALANCE", "COUNTERPARTY", "NAME"
    );
    for e in &entries {
        println!(
            "{:<10}  {:<16}  {:>2}  {:<14}  {:>10}  {:>10}  {:<16}  {:<8}  {}{}",
            e.date,
            e.card_account,
            e.index,
            e.kind.name(),
            e.amount,
            e.new_balance,
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
    println!("{} entries (amounts in minor units)", entries.len());
    Ok(())
}

fn reconcile(cli: &Cli, lg: &Ledger) -> anyhow::Result<()> {
    let r = lg.reconcile()?;
    if cli.json {
        return super::print_json(&r);
    }
    println!(
        "debits: {} checked, {} matched; credits: {} checked, {} matched",
        r.debits_checked, r.debits_matched, r.credits_checked, r.credits_matched
    );
    for u in &r.unmatched {
        let e = &u.entry;
        println!(
            "UNMATCHED {:<6}  card {}  {} {} {}  to/from {}  tid {}{}",
            u.side,
            e.card_account,
            e.date,
            e.kind.name(),
            e.amount,
            e.counterparty,
            e.tid.as_deref().unwrap_or("-"),
            if u.counterparty_collected {
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
            e.card_account, e.counterparty, e.date, e.amount, e.tid
        );
    }
    if r.unmatched.is_empty() {
        println!("every debit and credit is matched");
    }
    Ok(())
}

fn rebuild(cli: &Cli, lg: &Ledger, account: &str) -> anyhow::Result<()> {
    let acc = ledger::parse_account(account)?;
    let r = lg.rebuild(&acc)?;
    if cli.json {
        return super::print_json(&r);
    }
    println!("account {}", r.account);
    match &r.last_own_entry {
        Some(e) => println!(
            "  own passbook: {} entries, last {} ({} {}), balance after it {}",
            r.own_entries,
            e.date,
            e.kind.name(),
            e.amount,
            r.base_balance
        ),
        None => println!("  own passbook: never collected; starting from 0"),
    }
    for b in &r.chain_breaks {
        println!(
            "  WARNING chain break at entry {}: balance {} where {} expected",
            b.entry_id, b.found, b.expected
        );
    }
    for adj in &r.adjustments {
        let e = &adj.entry;
        println!(
            "  {:+} ({})  seen on {} {}: {} {} tid {}{}",
            adj.delta,
            adj.certainty,
            e.card_account,
            e.date,
            e.kind.name(),
            e.amount,
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
            e.amount,
            e.card_account,
            e.date,
            e.tid.as_deref().unwrap_or("-")
        );
    }
    println!(
        "balance: {} (certain part: {}) minor units",
        r.balance, r.balance_certain
    );
    Ok(())
}

fn flags(cli: &Cli, lg: &Ledger) -> anyhow::Result<()> {
    let f = lg.fraud_flags()?;
    if cli.json {
        #[derive(Serialize)]
        struct Out<'a> {
            count: usize,
            flags: &'a [ledger::FraudFlag],
        }
        return super::print_json(&Out {
            count: f.len(),
            flags: &f,
        });
    }
    if f.is_empty() {
        println!("no flags");
    }
    for x in &f {
        println!("{:<26} {}  (entries {:?})", x.kind, x.detail, x.entry_ids);
    }
    Ok(())
}

fn syncs(cli: &Cli, lg: &Ledger, account: Option<&str>) -> anyhow::Result<()> {
    let acc = account.map(ledger::parse_account).transpose()?;
    let v = lg.syncs(acc.as_ref())?;
    if cli.json {
        #[derive(Serialize)]
        struct Out<'a> {
            count: usize,
            syncs: &'a [ledger::SyncRecord],
        }
        return super::print_json(&Out {
            count: v.len(),
            syncs: &v,
        });
    }
    if v.is_empty() {
        println!("no syncs");
    }
    for s in &v {
        println!(
            "#{:<4} at {}  bank {}  card {}  epoch {}  entries {} ({} new)  exceptions {} ({} new)  interest {}{}",
            s.id,
            s.at,
            s.bank_account,
            s.card_account,
            s.passbook_epoch,
            s.entries_collected,
            s.entries_new,
            s.exceptions_collected,
            s.exceptions_new,
            s.interest_paid,
            if s.cleared { "  cleared" } else { "" }
        );
    }
    Ok(())
}

fn bench(cli: &Cli, b: &BenchArgs) -> anyhow::Result<i32> {
    use purse::ledger::bench::{self, Target};
    if b.writers.iter().chain(&b.sizes).any(|&n| n == 0) || b.ingest == 0 {
        eprintln!("error: --sizes, --writers and --ingest take numbers above 0");
        return Ok(super::EXIT_USAGE);
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
        anyhow::ensure!(
            ledger::is_postgres_url(u),
            "--postgres takes a postgres:// URL"
        );
        targets.push(Target::Postgres(u.clone()));
    }
    anyhow::ensure!(
        !targets.is_empty(),
        "nothing to benchmark (--no-sqlite without --postgres)"
    );
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
        super::print_json(&Out { figures: &figs })?;
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
