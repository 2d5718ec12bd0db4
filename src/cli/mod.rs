//! The `purse` command line (clap). anyhow lives here and in main.rs only.
//!
//! Exit codes: 0 ok, 1 error, 2 usage, 3 no reader / no card, 4 card refused (status word
//! other than 9000).
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use purse::desk::Desk;

mod apdu;
mod desk;
mod genesis;
mod issue;
mod mint;
mod passbook;
mod pin;
mod status;
mod ledger;
mod readers;
mod transfer;
mod resume;
mod bench;
mod admin;
mod privacy;
mod sync;
mod center;
mod demo;

pub const EXIT_OK: i32 = 0;
pub const EXIT_ERROR: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_NO_CARD: i32 = 3;
pub const EXIT_REFUSED: i32 = 4;

#[derive(Parser, Debug)]
#[command(
    name = "purse",
    version,
    about = "Cash on JavaCard smart cards, and a virtual desk to try it without hardware"
)]
pub struct Cli {
    /// Trace every APDU (`>> command`, `<< response`) and desk actions on stderr; secret data
    /// (PINs, secrets, transport keys) is shown as its length
    #[arg(short, long, global = true)]
    pub debug: bool,
    /// With -d: show secret data in the trace too (PINs, secrets, transport keys; anyone who
    /// sees the output or the log file learns them)
    #[arg(long, global = true)]
    pub debug_secrets: bool,
    /// Write the log (warnings, and the -d trace) to FILE, appended, with timestamps, instead of
    /// stderr. Levels: PURSE_LOG, else RUST_LOG (e.g. `purse=debug`, `info`), else warn
    #[arg(long, global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// Machine-readable output (one JSON document on stdout)
    #[arg(long, global = true)]
    pub json: bool,
    /// Desk directory (default: $PURSE_DESK, else ~/.purse/desk)
    #[arg(long, global = true, value_name = "DIR")]
    pub desk: Option<PathBuf>,
    /// Reader of the card: an index from `purse readers`, a name substring, or the card in it:
    /// `account:NUMBER`, `name:CARDNAME` (default: $PURSE_READER, else the one reader with a card)
    #[arg(short, long, global = true, value_name = "R", env = "PURSE_READER")]
    pub reader: Option<String>,
    /// Use the system pcscd even when a desk is running (ignores the desk's socket)
    #[arg(long, global = true)]
    pub system_pcscd: bool,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// List every reader (USB or virtual) with card presence and ATR
    Readers,
    /// Send raw APDUs (hex) to the card in --reader, one after the other
    Apdu(apdu::ApduArgs),
    /// Make a blank card the bank center (transport key; sets PIN and center secrets)
    Genesis(genesis::GenesisArgs),
    /// Issue a blank card (region, branch, user, admin) from the center or an admin card
    Issue(issue::IssueArgs),
    /// Create money on the center card (creation secret)
    Mint(mint::MintArgs),
    /// Card status: role, account, name, balance, limits, keys, passbook fill, lock, pending
    Status(status::StatusArgs),
    /// The card's passbook (needs the PIN)
    Passbook(passbook::PassbookArgs),
    /// The card's exception log (payments that could never finish)
    Exceptions(status::ExceptionsArgs),
    /// Verify or change the PIN, transaction key or center secrets
    Pin(pin::PinArgs),
    /// Pay from the card in --from to the card in --to (both holders confirm; --yes for scripts)
    Transfer(transfer::TransferArgs),
    /// Finish interrupted transfers and syncs between two cards exactly once
    Resume(resume::ResumeArgs),
    /// Benchmarks on the virtual desk (figures for docs/benchmarks.md)
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// The virtual desk: pcscd with virtual reader slots and virtual cards
    #[command(subcommand)]
    Desk(desk::DeskCmd),
    /// The bank's ledger of collected passbooks: list, reconcile, rebuild, flags
    Ledger(ledger::LedgerArgs),
    /// Administer a bank card with an admin card: bad cards, interest rate, account range
    Admin(admin::AdminArgs),
    /// Sync a card with its bank card: interest, new keys, passbook into the ledger
    Sync(sync::SyncArgs),
    /// Center card operations: `purse center advance` (new key epoch, date, interest rate)
    #[command(subcommand)]
    Center(center::CenterCmd),
    /// The whole story on a fresh virtual desk, narrated step by step
    Demo(demo::DemoArgs),
    /// Make a user card private (signature instead of account, no interest) or public again
    Privacy(privacy::PrivacyArgs),
}

/// Parse arguments, choose the pcscd, run. Returns the exit code.
pub fn run() -> anyhow::Result<i32> {
    let cli = Cli::parse();
    init_tracing(&cli)?;
    match &cli.command {
        Cmd::Desk(d) => {
            let desk = Desk::resolve(cli.desk.as_deref())?;
            desk.use_socket();
            desk::run(&cli, &desk, d)
        }
        Cmd::Ledger(l) => ledger::run(&cli, l),
        Cmd::Demo(a) => demo::run(&cli, a),
        other => {
            choose_pcscd(&cli);
            match other {
                Cmd::Readers => readers::run(&cli),
                Cmd::Apdu(a) => apdu::run(&cli, a),
                Cmd::Transfer(a) => transfer::run(&cli, a),
                Cmd::Resume(a) => resume::run(&cli, a),
                Cmd::Bench(b) => bench::run(&cli, b),
                Cmd::Genesis(a) => genesis::run(&cli, a),
                Cmd::Issue(a) => issue::run(&cli, a),
                Cmd::Mint(a) => mint::run(&cli, a),
                Cmd::Status(a) => status::run(&cli, a),
                Cmd::Passbook(a) => passbook::run(&cli, a),
                Cmd::Exceptions(a) => status::run_exceptions(&cli, a),
                Cmd::Pin(a) => pin::run(&cli, a),
                Cmd::Admin(a) => admin::run(&cli, a),
                Cmd::Privacy(a) => privacy::run(&cli, a),
                Cmd::Sync(a) => sync::run(&cli, a),
                Cmd::Center(c) => center::run(&cli, c),
                Cmd::Desk(_) | Cmd::Ledger(_) | Cmd::Demo(_) => unreachable!("handled above"),
            }
        }
    }
}

/// pcsc-lite's client reads PCSCLITE_CSOCK_NAME once, at the first call: decide it now.
/// Desk commands always talk to the desk's pcscd (see `run`). Others: `--system-pcscd` forces
/// the system default; an explicit PCSCLITE_CSOCK_NAME is respected; else a running desk is used.
/// A desk that cannot be resolved or read is simply not used (a warning says why).
fn choose_pcscd(cli: &Cli) {
    if cli.system_pcscd {
        std::env::remove_var("PCSCLITE_CSOCK_NAME");
        return;
    }
    if std::env::var_os("PCSCLITE_CSOCK_NAME").is_some() {
        return;
    }
    let desk = match Desk::resolve(cli.desk.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            tracing::debug!("no desk: {e}");
            return;
        }
    };
    match desk.running() {
        Ok(Some(_)) => {
            tracing::debug!("using the desk's pcscd at {}", desk.socket().display());
            desk.use_socket();
        }
        Ok(None) => {}
        Err(e) => tracing::warn!("ignoring the desk in {}: {e}", desk.dir().display()),
    }
}

/// Logging: `-d` = purse's debug events (the APDU trace); else PURSE_LOG, else RUST_LOG
/// (EnvFilter syntax: `info`, `purse=debug`, ...), else warnings only. To stderr, or with
/// `--log-file` to that file (appended, timestamps), stderr then keeping the warnings.
fn init_tracing(cli: &Cli) -> anyhow::Result<()> {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::{fmt, EnvFilter, Layer as _};
    let env_filter = || {
        for var in ["PURSE_LOG", "RUST_LOG"] {
            if let Ok(v) = std::env::var(var) {
                if !v.trim().is_empty() {
                    return EnvFilter::try_new(&v).map_err(|e| usage(format!("{var}={v:?}: {e}")));
                }
            }
        }
        Ok(EnvFilter::new("warn"))
    };
    let filter = if cli.debug {
        EnvFilter::new("warn,purse=debug")
    } else {
        env_filter()?
    };
    if cli.debug_secrets {
        purse::apdu::show_secrets_in_trace(true);
        eprintln!(
            "purse: WARNING: --debug-secrets: the trace shows PINs, secrets and transport keys in clear"
        );
    }
    let stderr_ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    match &cli.log_file {
        None => {
            let _ = tracing_subscriber::registry()
                .with(
                    fmt::layer()
                        .with_writer(std::io::stderr)
                        .with_target(false)
                        .with_ansi(stderr_ansi)
                        .without_time()
                        .with_filter(filter),
                )
                .try_init();
        }
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|e| anyhow::anyhow!("--log-file {}: {e}", path.display()))?;
            let _ = tracing_subscriber::registry()
                .with(
                    fmt::layer()
                        .with_writer(std::sync::Mutex::new(file))
                        .with_ansi(false)
                        .with_filter(filter),
                )
                .with(
                    fmt::layer()
                        .with_writer(std::io::stderr)
                        .with_target(false)
                        .with_ansi(stderr_ansi)
                        .without_time()
                        .with_filter(tracing_subscriber::filter::LevelFilter::WARN),
                )
                .try_init();
        }
    }
    Ok(())
}

/// A bad value or a missing argument that clap cannot check: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A usage error (exit code 2) with `msg`.
pub(crate) fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

/// Exit code of an error (see module docs).
pub fn exit_code(e: &anyhow::Error) -> i32 {
    if e.downcast_ref::<UsageError>().is_some() {
        return EXIT_USAGE;
    }
    if let Some(ce) = e.downcast_ref::<purse::card::CardError>() {
        return ce.exit_code();
    }
    match e.downcast_ref::<purse::Error>() {
        Some(pe) => pe.exit_code(),
        None => EXIT_ERROR,
    }
}

/// Print `value` as JSON on stdout.
pub(crate) fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[allow(dead_code)]
const _: [i32; 4] = [EXIT_OK, EXIT_USAGE, EXIT_NO_CARD, EXIT_REFUSED];
