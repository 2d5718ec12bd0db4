//! The `purse` command line (clap). anyhow lives here and in main.rs only.
//!
//! Exit codes (one meaning each, decided in `report` only): 0 ok, 1 anything else, 2 usage or a
//! bad value, 3 no reader / no card, 4 the card refused (a status word other than 9000).
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use purse::desk::Desk;

mod admin;
mod apdu;
mod batch;
mod bench;
mod center;
mod common;
mod demo;
mod demo_run;
mod desk;
mod genesis;
mod issue;
mod ledger;
mod link;
mod mint;
mod passbook;
mod pin;
mod privacy;
mod readers;
mod report;
mod resume;
mod status;
mod sync;
mod transfer;

pub(crate) use report::{print_json, usage};

pub const EXIT_OK: i32 = 0;
pub const EXIT_ERROR: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_NO_CARD: i32 = 3;
pub const EXIT_REFUSED: i32 = 4;

/// `--help` of each command ends with the environment variables it reads.
const ENV_READERS: &str = "Environment:\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_APDU: &str = "Environment:\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_GENESIS: &str = "Environment:\n  PURSE_TRANSPORT_KEY  the blank card's transport key, hex (like --transport-key)\n  PURSE_PIN  the new center's PIN (typed twice without echo if unset)\n  PURSE_TXKEY  the new center's transaction key (empty: none)\n  PURSE_CREATION_SECRET, PURSE_APPROVAL_SECRET  the new center's secrets\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_ISSUE: &str = "Environment:\n  PURSE_TRANSPORT_KEY  the blank card's transport key, hex (like --transport-key)\n  PURSE_PIN  the issuing card's PIN\n  PURSE_APPROVAL_SECRET  the center's approval secret (issuing from the center)\n  PURSE_NEW_PIN, PURSE_NEW_TXKEY  the new card's PIN and transaction key (empty: none; not with --batch, whose PINs come from the CSV or are generated into --pins)\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_MINT: &str = "Environment:\n  PURSE_CREATION_SECRET  the center's creation secret\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_STATUS: &str = "Environment:\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_PASSBOOK: &str = "Environment:\n  PURSE_PIN  the card's PIN\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_EXCEPTIONS: &str = "Environment:\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_PIN: &str = "Environment:\n  PURSE_PIN, PURSE_TXKEY, PURSE_CREATION_SECRET, PURSE_APPROVAL_SECRET  the current secret\n  PURSE_NEW_PIN, PURSE_NEW_TXKEY, PURSE_NEW_CREATION_SECRET, PURSE_NEW_APPROVAL_SECRET  the new one (change)\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_TRANSFER: &str = "Environment:\n  PURSE_PIN, PURSE_TXKEY  the paying card's PIN and transaction key (when the amount needs them)\n  PURSE_APPROVAL_SECRET  the center's approval secret (a payment from the center)\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_RESUME: &str = "Environment:\n  PURSE_PIN  the PIN of the card that gives up (--give-up)\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_BENCH: &str = "Environment:\n  PURSE_PIN, PURSE_TXKEY, PURSE_APPROVAL_SECRET  the paying card's secrets\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_DESK: &str = "Environment:\n  PURSE_DESK_JAR  the desk jar (default applet/build/purse-desk.jar)\n  PURSE_JAVA, PURSE_JAVA_OPTS  the java binary and its options\n  PURSE_PCSCD  the pcscd binary\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_LEDGER: &str = "Environment:\n  PURSE_LEDGER  the ledger file (default ~/.purse/ledger.sqlite)\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_ADMIN: &str = "Environment:\n  PURSE_PIN  the admin card's PIN\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_SYNC: &str = "Environment:\n  PURSE_LEDGER  the ledger file (default ~/.purse/ledger.sqlite)\n  PURSE_PIN  the PIN of the synced card's holder\n  PURSE_BANK_PIN  the PIN of the bank card's operator\n  PURSE_NEW_PIN, PURSE_NEW_TXKEY  the holder's new PIN / transaction key (--unblock-pin)\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_CENTER: &str = "Environment:\n  PURSE_APPROVAL_SECRET  the center's approval secret\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_DEMO: &str = "Environment:\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";
const ENV_PRIVACY: &str = "Environment:\n  PURSE_PIN  the card's PIN\n  PURSE_READER (default -r), PURSE_DESK (desk directory), PCSCLITE_CSOCK_NAME (pcscd socket), PURSE_LOG / RUST_LOG (log levels)";

#[derive(Parser, Debug)]
#[command(
    name = "purse",
    version,
    about = "Cash on JavaCard smart cards, and a virtual desk to try it without hardware",
    after_help = "Exit codes: 0 ok, 1 other error (including the host's own checks), 2 usage or a bad value, 3 no reader or no card, 4 the card refused (a status word).\nSecrets: PURSE_* variables, else typed without echo; a variable set but empty, or not valid UTF-8, is an error (except an empty PURSE_TXKEY / PURSE_NEW_TXKEY where it means none)."
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
    #[command(after_help = ENV_READERS)]
    Readers,
    /// Send raw APDUs (hex) to the card in --reader, one after the other
    #[command(after_help = ENV_APDU)]
    Apdu(apdu::ApduArgs),
    /// Make a blank card the bank center (transport key; sets PIN and center secrets)
    #[command(after_help = ENV_GENESIS)]
    Genesis(genesis::GenesisArgs),
    /// Issue a blank card (region, branch, user, admin) from the center or an admin card;
    /// --batch FILE.csv: one card per row as blank cards are inserted one after another
    #[command(after_help = ENV_ISSUE)]
    Issue(issue::IssueArgs),
    /// Create money on the center card (creation secret)
    #[command(after_help = ENV_MINT)]
    Mint(mint::MintArgs),
    /// Card status: role, account, name, balance, limits, keys, passbook fill, lock, pending
    #[command(after_help = ENV_STATUS)]
    Status(status::StatusArgs),
    /// The card's passbook (needs the PIN)
    #[command(after_help = ENV_PASSBOOK)]
    Passbook(passbook::PassbookArgs),
    /// The card's exception log (payments that could never finish)
    #[command(after_help = ENV_EXCEPTIONS)]
    Exceptions(status::ExceptionsArgs),
    /// Verify or change the PIN, transaction key or center secrets
    #[command(after_help = ENV_PIN)]
    Pin(pin::PinArgs),
    /// Pay from the card in --from to the card in --to (both holders confirm; --yes for scripts)
    #[command(after_help = ENV_TRANSFER)]
    Transfer(transfer::TransferArgs),
    /// Finish interrupted transfers and syncs between two cards exactly once
    #[command(after_help = ENV_RESUME)]
    Resume(resume::ResumeArgs),
    /// Benchmarks on the virtual desk (figures for docs/benchmarks.md)
    #[command(subcommand)]
    #[command(after_help = ENV_BENCH)]
    Bench(bench::BenchCmd),
    /// The virtual desk: pcscd with virtual reader slots and virtual cards
    #[command(subcommand)]
    #[command(after_help = ENV_DESK)]
    Desk(desk::DeskCmd),
    /// The bank's ledger of collected passbooks: list, reconcile, rebuild, flags
    #[command(after_help = ENV_LEDGER)]
    Ledger(ledger::LedgerArgs),
    /// Administer a bank card with an admin card: bad cards, interest rate, account range
    #[command(after_help = ENV_ADMIN)]
    Admin(admin::AdminArgs),
    /// Sync a card with its bank card: interest, new keys, passbook into the ledger
    #[command(after_help = ENV_SYNC)]
    Sync(sync::SyncArgs),
    /// Center card operations: `purse center advance` (new key epoch, date, interest rate)
    #[command(subcommand)]
    #[command(after_help = ENV_CENTER)]
    Center(center::CenterCmd),
    /// The whole story on a fresh virtual desk, narrated step by step
    #[command(after_help = ENV_DEMO)]
    Demo(demo::DemoArgs),
    /// Shell completions on stdout: `purse completions bash > /etc/bash_completion.d/purse`
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Man pages: purse(1) on stdout, or with --dir one page per command (purse-sync.1, ...)
    Man {
        /// Write purse.1 and purse-COMMAND.1 into DIR
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Make a user card private (signature instead of account, no interest) or public again
    #[command(after_help = ENV_PRIVACY)]
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

/// Point this process's PC/SC client library at the desk's pcscd (pcsc-lite reads the variable
/// once, at the first PC/SC call, so this runs before any). Only the program sets it: the
/// libraries never touch the environment.
pub fn use_desk_socket(desk: &Desk) {
    std::env::set_var(purse::desk::SOCKET_ENV, desk.socket());
}

/// Parse the arguments and run: the process's exit code. Every failure, clap's usage errors
/// included, is reported by `report::fail` (a JSON error document with `--json`).
pub fn main() -> i32 {
    let json = std::env::args_os()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    let cli = match command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            if json && !matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let text = e.render().to_string();
                let text = if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    // clap renders the whole help: say what is missing and the usage line
                    let line = text.lines().find(|l| l.starts_with("Usage:")).unwrap_or("");
                    format!("a subcommand is required\n{line}")
                } else {
                    text.trim().trim_start_matches("error: ").to_string()
                };
                return report::fail(true, &usage(text));
            }
            e.exit()
        }
    };
    match run(&cli) {
        Ok(code) => code,
        Err(e) => report::fail(cli.json, &e),
    }
}

/// Choose the pcscd, run. Returns the exit code.
fn run(cli: &Cli) -> anyhow::Result<i32> {
    init_tracing(cli)?;
    match &cli.command {
        Cmd::Desk(d) => {
            let desk = Desk::resolve(cli.desk.as_deref())?;
            use_desk_socket(&desk);
            desk::run(cli, &desk, d)
        }
        Cmd::Ledger(l) => ledger::run(cli, l),
        Cmd::Demo(a) => demo::run(cli, a),
        Cmd::Completions { shell } => {
            // into a buffer first: clap_complete panics on a closed stdout (`| head`)
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut command(), "purse", &mut buf);
            let _ = std::io::Write::write_all(&mut std::io::stdout(), &buf);
            Ok(EXIT_OK)
        }
        Cmd::Man { dir } => man(dir.as_deref()),
        Cmd::Link(c) => link::run_link(cli, c),
        other => {
            choose_pcscd(cli)?;
            match other {
                Cmd::Readers => readers::run(cli),
                Cmd::Apdu(a) => apdu::run(cli, a),
                Cmd::Transfer(a) => transfer::run(cli, a),
                Cmd::Resume(a) => resume::run(cli, a),
                Cmd::Bench(b) => bench::run(cli, b),
                Cmd::Genesis(a) => genesis::run(cli, a),
                Cmd::Issue(a) => issue::run(cli, a),
                Cmd::Mint(a) => mint::run(cli, a),
                Cmd::Status(a) => status::run(cli, a),
                Cmd::Passbook(a) => passbook::run(cli, a),
                Cmd::Exceptions(a) => status::run_exceptions(cli, a),
                Cmd::Pin(a) => pin::run(cli, a),
                Cmd::Admin(a) => admin::run(cli, a),
                Cmd::Privacy(a) => privacy::run(cli, a),
                Cmd::Sync(a) => sync::run(cli, a),
                Cmd::Center(c) => center::run(cli, c),
                Cmd::Pay(a) => link::run_pay(cli, a),
                Cmd::Receive(a) => link::run_receive(cli, a),
                Cmd::Serve(a) => link::run_serve(cli, a),
                Cmd::Desk(_)
                | Cmd::Ledger(_)
                | Cmd::Demo(_)
                | Cmd::Link(_)
                | Cmd::Completions { .. }
                | Cmd::Man { .. } => unreachable!("handled above"),
            }
        }
    }
}

/// `purse --version`: the crate version, the git revision it was built from, and the protocol
/// and applet version it speaks (a card answering another version to SELECT is refused).
pub fn version() -> String {
    format!(
        "{} (git {}), protocol {}.{}, expects purse applet {}.{} (AID {})",
        env!("CARGO_PKG_VERSION"),
        env!("PURSE_GIT_REV"),
        purse::proto::consts::VERSION_MAJOR,
        purse::proto::consts::VERSION_MINOR,
        purse::proto::consts::VERSION_MAJOR,
        purse::proto::consts::VERSION_MINOR,
        hex::encode_upper(purse::proto::consts::PURSE_AID),
    )
}

/// The clap command with the version filled in (also for completions and man pages).
fn command() -> clap::Command {
    // clap wants a 'static str; one small string per process
    let v: &'static str = Box::leak(version().into_boxed_str());
    Cli::command().version(v)
}

/// `purse man [--dir DIR]`
fn man(dir: Option<&std::path::Path>) -> anyhow::Result<i32> {
    let cmd = command();
    match dir {
        None => clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?,
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            let mut n = 0;
            let mut write = |name: String, c: clap::Command| -> anyhow::Result<()> {
                let p = d.join(format!("{name}.1"));
                let mut f =
                    std::fs::File::create(&p).with_context(|| format!("{}", p.display()))?;
                clap_mangen::Man::new(c).render(&mut f)?;
                n += 1;
                Ok(())
            };
            for sub in cmd.get_subcommands() {
                let name = format!("purse-{}", sub.get_name());
                let leaked: &'static str = Box::leak(name.clone().into_boxed_str());
                write(name, sub.clone().name(leaked))?;
            }
            write("purse".into(), cmd.clone())?;
            println!("{n} man pages written to {}", d.display());
        }
    }
    Ok(EXIT_OK)
}

/// pcsc-lite's client reads PCSCLITE_CSOCK_NAME once, at the first call: decide it now.
/// Desk commands always talk to the desk's pcscd (see `run`). Others: `--system-pcscd` forces
/// the system default; an explicit PCSCLITE_CSOCK_NAME is respected; else a running desk is used.
/// A desk that cannot be resolved or read is simply not used (a warning says why), except that
/// a desk named explicitly (`--desk DIR`) must be running: falling back to the system pcscd
/// would silently list real readers instead.
fn choose_pcscd(cli: &Cli) -> anyhow::Result<()> {
    if cli.system_pcscd {
        std::env::remove_var("PCSCLITE_CSOCK_NAME");
        return Ok(());
    }
    if std::env::var_os("PCSCLITE_CSOCK_NAME").is_some() {
        return Ok(());
    }
    let desk = match Desk::resolve(cli.desk.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            tracing::debug!("no desk: {e}");
            return Ok(());
        }
    };
    match desk.running() {
        Ok(Some(_)) => {
            tracing::debug!("using the desk's pcscd at {}", desk.socket().display());
            use_desk_socket(&desk);
        }
        Ok(None) if cli.desk.is_some() => {
            return Err(anyhow::Error::new(purse::Error::NoReader(format!(
                ": no desk is running in {} (start it: `purse --desk {0} desk start`; \
                 without --desk purse uses a running default desk or the system pcscd)",
                desk.dir().display()
            ))))
        }
        Ok(None) => {}
        Err(e) if cli.desk.is_some() => return Err(e.into()),
        Err(e) => tracing::warn!("ignoring the desk in {}: {e}", desk.dir().display()),
    }
    Ok(())
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
