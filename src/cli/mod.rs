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
mod link;

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
    /// Trace every APDU (`>> command`, `<< response`) and desk actions on stderr
    #[arg(short, long, global = true)]
    pub debug: bool,
    /// Machine-readable output (one JSON document on stdout)
    #[arg(long, global = true)]
    pub json: bool,
    /// Desk directory (default: $PURSE_DESK, else ~/.purse/desk)
    #[arg(long, global = true, value_name = "DIR")]
    pub desk: Option<PathBuf>,
    /// Reader: index as listed by `purse readers`, or a name substring
    #[arg(short, long, global = true, value_name = "R")]
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
    /// Pay a card in another purse far away (`purse receive` there): both holders state the
    /// amount, PIN typed here
    Pay(link::PayArgs),
    /// Receive a payment from another purse far away (`purse pay --connect` there)
    Receive(link::ReceiveArgs),
    /// The bank's sync service: bank cards in local readers, cardholders sync from home
    /// (`purse sync --connect`)
    Serve(link::ServeArgs),
    /// The remote link: this side's fingerprint (`purse link id`), service benchmark
    #[command(subcommand)]
    Link(link::LinkCmd),
}

/// Parse arguments, choose the pcscd, run. Returns the exit code.
pub fn run() -> anyhow::Result<i32> {
    let cli = Cli::parse();
    init_tracing(cli.debug);
    match &cli.command {
        Cmd::Desk(d) => {
            let desk = Desk::resolve(cli.desk.as_deref())?;
            desk.use_socket();
            desk::run(&cli, &desk, d)
        }
        Cmd::Ledger(l) => ledger::run(&cli, l),
        Cmd::Demo(a) => demo::run(&cli, a),
        Cmd::Link(c) => link::run_link(&cli, c),
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
                Cmd::Pay(a) => link::run_pay(&cli, a),
                Cmd::Receive(a) => link::run_receive(&cli, a),
                Cmd::Serve(a) => link::run_serve(&cli, a),
                Cmd::Desk(_) | Cmd::Ledger(_) | Cmd::Demo(_) | Cmd::Link(_) => {
                    unreachable!("handled above")
                }
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

fn init_tracing(debug: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = if debug {
        EnvFilter::new("purse=debug")
    } else {
        EnvFilter::try_from_env("PURSE_LOG").unwrap_or_else(|_| EnvFilter::new("warn"))
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .try_init();
}

/// Exit code of an error (see module docs).
pub fn exit_code(e: &anyhow::Error) -> i32 {
    if let Some(ce) = e.downcast_ref::<purse::card::CardError>() {
        return ce.exit_code();
    }
    if e.downcast_ref::<link::Usage>().is_some() {
        return EXIT_USAGE;
    }
    if let Some(le) = e.downcast_ref::<purse::link::LinkError>() {
        return le.exit_code();
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
