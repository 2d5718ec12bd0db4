//! `purse admin bad-card add|remove|list`, `purse admin rate`, `purse admin range`
//! (protocol.md 12.8, F16-F19): an admin card (`--from R`) and a bank card (`--to R`) in two
//! readers, authenticated card to card. The admin card's PIN comes from PURSE_PIN or is typed
//! without echo; `list` reads the bank card alone (no PIN, no admin card).
use std::io::{IsTerminal, Read as _};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde_json::json;

use purse::flows::admin::{self, AdminError, AdminOp, AdminOutcome, BankFiles};
use purse::proto::consts::SecretRef;
use purse::proto::rate::format_rate;
// the same parser as `purse center advance --rate` (annual % with 4 decimals, `%/day`, or 0x RATE)
use purse::proto::sync::parse_rate;
use purse::proto::types::{self, Account};
use purse::transport::Pcsc;

use super::common::{current, open_card};
use super::Cli;

#[derive(Args, Debug)]
pub struct AdminArgs {
    #[command(subcommand)]
    pub cmd: AdminCmd,
}

/// The two readers of an admin op.
#[derive(Args, Debug)]
pub struct Pair {
    /// Reader of the admin card
    #[arg(long = "from", alias = "admin", value_name = "ADMIN")]
    pub admin: String,
    /// Reader of the bank card (center, region or branch)
    #[arg(long = "to", alias = "bank", value_name = "BANK")]
    pub bank: String,
    /// Date of the request (YYYY-MM-DD; default: today, UTC)
    #[arg(long)]
    pub date: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum AdminCmd {
    /// The bank card's list of lost or stolen cards, which no card may pay or be paid by
    #[command(subcommand)]
    BadCard(BadCardCmd),
    /// Set the bank card's interest rate: annual percentage, up to 4 decimals (3.65 = 0.01 %/day),
    /// or a raw card RATE as 0x00068DB9
    Rate {
        #[command(flatten)]
        pair: Pair,
        /// e.g. 3.65 (percent a year, 365-day year, simple interest per sync)
        rate: String,
    },
    /// Set the accounts the bank card serves (VALID_ACCOUNT): LOW and HIGH share their first 8 digits
    Range {
        #[command(flatten)]
        pair: Pair,
        low: String,
        high: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum BadCardCmd {
    /// List accounts as lost/stolen: a listed card that syncs with this bank card is invalidated
    Add {
        #[command(flatten)]
        pair: Pair,
        #[arg(value_name = "ACCOUNT", required_unless_present = "file")]
        accounts: Vec<String>,
        /// Also the accounts in FILE (`-`: standard input), one per line; blank lines and
        /// lines starting with # are skipped
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Remove entries (allowed 7 epochs after listing, once the card's keys have expired)
    Remove {
        #[command(flatten)]
        pair: Pair,
        #[arg(value_name = "ACCOUNT", required_unless_present = "file")]
        accounts: Vec<String>,
        /// Also the accounts in FILE (`-`: standard input), one per line
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Show the list, the rate and the range of the bank card (no PIN, no admin card)
    List {
        /// Reader of the bank card (default: -r, like every one-card command)
        #[arg(long = "to", alias = "bank", value_name = "BANK")]
        bank: Option<String>,
        /// Accepted for symmetry with add/remove; not used
        #[arg(long = "from", alias = "admin", value_name = "R", hide = true)]
        admin: Option<String>,
    },
}

/// The accounts given as arguments, then those of `file` (`-` = stdin), one per line; a bad one
/// is refused with its line number before any card is touched.
fn parse_accounts(v: &[String], file: Option<&Path>) -> anyhow::Result<Vec<Account>> {
    let mut out = v
        .iter()
        .map(|s| Account::parse(s).map_err(|e| super::usage(e.0)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if let Some(f) = file {
        let text = if f == Path::new("-") {
            let mut t = String::new();
            std::io::stdin()
                .read_to_string(&mut t)
                .context("reading accounts from standard input")?;
            t
        } else {
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?
        };
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            out.push(
                Account::parse(l).map_err(|e| {
                    super::usage(format!("{} line {}: {}", f.display(), i + 1, e.0))
                })?,
            );
        }
    }
    if out.is_empty() {
        return Err(super::usage("no accounts given"));
    }
    Ok(out)
}

pub fn run(cli: &Cli, a: &AdminArgs) -> anyhow::Result<i32> {
    match &a.cmd {
        AdminCmd::BadCard(BadCardCmd::List { bank, .. }) => list(cli, bank.as_deref()),
        AdminCmd::BadCard(BadCardCmd::Add {
            pair,
            accounts,
            file,
        }) => {
            let ops = parse_accounts(accounts, file.as_deref())?
                .into_iter()
                .map(|account| AdminOp::BadCardAdd { account })
                .collect::<Vec<_>>();
            run_ops(cli, pair, &ops)
        }
        AdminCmd::BadCard(BadCardCmd::Remove {
            pair,
            accounts,
            file,
        }) => {
            let ops = parse_accounts(accounts, file.as_deref())?
                .into_iter()
                .map(|account| AdminOp::BadCardRemove { account })
                .collect::<Vec<_>>();
            run_ops(cli, pair, &ops)
        }
        AdminCmd::Rate { pair, rate } => {
            let rate = parse_rate(rate).map_err(|e| super::usage(e.0))?;
            run_ops(cli, pair, &[AdminOp::SetRate { rate }])
        }
        AdminCmd::Range { pair, low, high } => {
            let low = Account::parse(low).map_err(|e| super::usage(format!("LOW: {}", e.0)))?;
            let high = Account::parse(high).map_err(|e| super::usage(format!("HIGH: {}", e.0)))?;
            run_ops(cli, pair, &[AdminOp::SetRange { low, high }])
        }
    }
}

fn outcome_text(o: &AdminOutcome) -> String {
    let what = match o.op {
        AdminOp::BadCardAdd { account } => {
            if o.changed {
                format!("{account} listed")
            } else {
                format!("{account} was already listed")
            }
        }
        AdminOp::BadCardRemove { account } => {
            if o.changed {
                format!("{account} removed")
            } else {
                format!("{account} was not listed")
            }
        }
        AdminOp::SetRate { rate } => format!(
            "interest rate {}{} % a year (RATE {rate:08X})",
            if o.changed { "set to " } else { "already " },
            format_rate(rate)
        ),
        AdminOp::SetRange { low, high } => format!(
            "{}serves {low} .. {high}",
            if o.changed { "now " } else { "already " }
        ),
    };
    format!(
        "{what} on bank card {} ({} bad cards)",
        o.bank_account, o.count
    )
}

fn run_ops(cli: &Cli, pair: &Pair, ops: &[AdminOp]) -> anyhow::Result<i32> {
    let date = match &pair.date {
        Some(d) => types::parse_date(d)?,
        None => types::today(),
    };
    for op in ops {
        op.check().map_err(super::usage)?;
    }
    let pcsc = Pcsc::establish()?;
    let mut adm = open_card(&pcsc, Some(&pair.admin)).context("admin card")?;
    let mut bank = open_card(&pcsc, Some(&pair.bank)).context("bank card")?;
    admin::precheck(&mut adm, &mut bank)?;
    let pin = current(SecretRef::Pin).context("the admin card's PIN")?;
    let t = Instant::now();
    let progress = !cli.json && ops.len() > 20 && std::io::stderr().is_terminal();
    let n = ops.len();
    let (done, err) = admin::run_ops(&mut adm, &mut bank, &pin, ops, date, |i, o| {
        if cli.json {
            return;
        }
        if n <= 20 {
            println!("{}", outcome_text(o));
        } else if progress && (i + 1) % 25 == 0 {
            eprint!("\r  {}/{n} ops", i + 1);
        }
    });
    if progress {
        eprintln!();
    }
    let secs = t.elapsed().as_secs_f64();
    if let Some(e) = err {
        return Err(partial(&done, e, n));
    }
    if cli.json {
        super::print_json(&json!({
            "ok": true,
            "ops": done,
            "seconds": secs,
        }))?;
    } else if n > 20 {
        let changed = done.iter().filter(|o| o.changed).count();
        println!(
            "{n} ops applied ({changed} changed) on bank card {} in {secs:.1} s; {} bad cards now",
            done.last()
                .map(|o| o.bank_account.to_string())
                .unwrap_or_default(),
            done.last().map(|o| o.count).unwrap_or(0)
        );
    }
    Ok(super::EXIT_OK)
}

/// Op `done.len() + 1` of `n` failed: the error, with the ops applied before it (JSON: `"ops"`,
/// and `"failed_index"`, the failed op's 0-based index).
fn partial(done: &[AdminOutcome], e: AdminError, n: usize) -> anyhow::Error {
    let msg = match &e {
        AdminError::Card(c) | AdminError::At { err: c, .. } => format!("{c}"),
        other => other.to_string(),
    };
    let failed = done.len();
    let message = if n > 1 {
        format!(
            "op {} of {n} refused ({failed} applied before it): {msg}",
            failed + 1
        )
    } else {
        msg
    };
    let mut extra = serde_json::Map::new();
    extra.insert("ops".into(), json!(done));
    extra.insert("failed_index".into(), json!(failed));
    anyhow::Error::new(super::report::Partial {
        message,
        extra,
        source: e.into(),
    })
}

fn list(cli: &Cli, bank_sel: Option<&str>) -> anyhow::Result<i32> {
    let pcsc = Pcsc::establish()?;
    let mut bank = open_card(&pcsc, bank_sel.or(cli.reader.as_deref())).context("bank card")?;
    let st = bank.get_status()?;
    let files: BankFiles = admin::read_bank_files(&mut bank)?;
    if cli.json {
        let entries: Vec<_> = files
            .entries
            .iter()
            .map(|e| {
                json!({
                    "account": files.account_of(&e.entry),
                    "low_digits": e.entry.low_digits(),
                    "keynum": e.entry.keynum,
                    "epochs": e.epochs,
                    "removable": e.removable,
                })
            })
            .collect();
        super::print_json(&json!({
            "bank_account": st.account,
            "role": st.role.name(),
            "name": st.name,
            "count": files.count,
            "capacity": purse::proto::consts::BAD_CARD_MAX,
            "rate": format_rate(files.rate),
            "rate_raw": format!("{:08X}", files.rate),
            "valid_low": files.low,
            "valid_high": files.high,
            "current_key": files.current,
            "archive_keys": files.arch,
            "entries": entries,
        }))?;
        return Ok(super::EXIT_OK);
    }
    println!(
        "{} card {:?} ({}): key {}, {} archived",
        st.role.name(),
        st.name,
        st.account,
        files.current,
        files.arch
    );
    println!(
        "  interest    {} % a year (RATE {:08X})",
        format_rate(files.rate),
        files.rate
    );
    println!("  serves      {} .. {}", files.low, files.high);
    println!(
        "  bad cards   {}/{}",
        files.count,
        purse::proto::consts::BAD_CARD_MAX
    );
    for e in &files.entries {
        println!(
            "    {}  listed at key {:>3}, {} epoch(s) ago{}",
            files.account_of(&e.entry),
            e.entry.keynum,
            e.epochs,
            if e.removable { "  (removable)" } else { "" }
        );
    }
    Ok(super::EXIT_OK)
}
