//! `purse sync --from BANK --to CARD [--unblock-pin] [--ledger FILE] [--no-store] [--json]`:
//! sync a card with the bank card of the level above it (protocol.md 12.4): interest, new keys,
//! BAD_KEY reset, bad-card check; the card's passbook and exception log are stored in the ledger
//! before the bank card is asked to have them cleared.
//!
//! Secrets (FIG. 5 blocks 501/502): the bank card operator's PIN from `PURSE_BANK_PIN` and the
//! synced card holder's PIN from `PURSE_PIN` (else typed without echo); both cards check them.
//! `--unblock-pin` (at a branch, after the holder proved their identity): the operator's PIN, then
//! the holder's new PIN from `PURSE_NEW_PIN` (else typed twice), optionally a new transaction key
//! from `PURSE_NEW_TXKEY` (`--unblock-txkey`); the holder's old PIN is not asked, so that sync
//! only unblocks (no passbook clear, no interest): sync again with the new PIN for those.
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use purse::flows::sync::{self as fsync, Progress, SyncOptions, Unblock};
use purse::ledger::{self, Ledger};
use purse::proto::consts::SecretRef;
use purse::proto::types::{parse_date, today};
use purse::transport::Pcsc;

use super::common::{
    new_value, open_card, read_secret, Ask, ENV_BANK_PIN, ENV_NEW_PIN, ENV_NEW_TXKEY, ENV_PIN,
};
use super::{report, usage, Cli};

#[derive(Args, Debug)]
#[command(
    after_help = "Secrets: PURSE_PIN = PIN of the card's holder, PURSE_BANK_PIN = PIN of the bank card's operator \
(typed without echo when unset); with --unblock-pin: PURSE_BANK_PIN, PURSE_NEW_PIN, PURSE_NEW_TXKEY."
)]
pub struct SyncArgs {
    /// Reader of the bank card (center, region or branch: the level above the card)
    #[arg(
        long = "from",
        alias = "bank",
        value_name = "BANK",
        required_unless_present = "connect"
    )]
    pub bank: Option<String>,
    /// Reader of the card being synced
    #[arg(
        long = "to",
        alias = "card",
        value_name = "CARD",
        required_unless_present = "connect"
    )]
    pub card: Option<String>,
    /// Sync the card in -r R with a bank's sync service (`purse serve`) far away
    #[command(flatten)]
    pub link: super::link::LinkOpts,
    /// Unblock the card's PIN (branch only; the holder proved their identity): the branch
    /// operator's PIN (PURSE_BANK_PIN) and the new PIN (PURSE_NEW_PIN) are asked, not the blocked
    /// one; this sync only unblocks: sync again with the new PIN for the passbook and interest
    #[arg(long)]
    pub unblock_pin: bool,
    /// With --unblock-pin: also set a new transaction key (PURSE_NEW_TXKEY)
    #[arg(long, requires = "unblock_pin")]
    pub unblock_txkey: bool,
    /// Ledger file (default: $PURSE_LEDGER, else ~/.purse/ledger.sqlite)
    #[arg(long, value_name = "FILE", env = "PURSE_LEDGER")]
    pub ledger: Option<PathBuf>,
    /// Do not collect the passbook (the sync completes; the card keeps its passbook)
    #[arg(long)]
    pub no_store: bool,
    /// Host date sent to the cards (YYYY-MM-DD; informative: interest uses the bank's epoch date)
    #[arg(long)]
    pub date: Option<String>,
    /// How the card's commitment step is sent: auto (whole for every card today), whole or split
    /// (two shorter APDUs, for a slow chip or reader); for tests and benchmarks
    #[arg(long, value_enum, default_value = "auto", hide = true)]
    pub s1: S1Arg,
}

/// `--s1`: the library's [`fsync::S1Form`].
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum S1Arg {
    Auto,
    Whole,
    Split,
}

impl From<S1Arg> for fsync::S1Form {
    fn from(a: S1Arg) -> Self {
        match a {
            S1Arg::Auto => fsync::S1Form::Auto,
            S1Arg::Whole => fsync::S1Form::Whole,
            S1Arg::Split => fsync::S1Form::Split,
        }
    }
}

pub fn run(cli: &Cli, a: &SyncArgs) -> anyhow::Result<i32> {
    if a.link.listen.is_some() {
        return Err(usage(
            "--listen is for the bank's side: `purse serve --listen ADDR --bank R`",
        ));
    }
    if a.link.connect.is_some() {
        return super::link::run_sync_client(cli, &a.link);
    }
    let (Some(bank_r), Some(card_r)) = (&a.bank, &a.card) else {
        return Err(usage(
            "give --bank R and --card R (or --connect HOST:PORT for a bank's service)",
        ));
    };
    let date = match &a.date {
        Some(d) => parse_date(d)?,
        None => today(),
    };
    let pcsc = Pcsc::establish()?;
    let mut bank = open_card(&pcsc, Some(bank_r))?;
    let mut card = open_card(&pcsc, Some(card_r))?;
    if bank.reader == card.reader {
        return Err(usage(format!(
            "--from and --to are the same reader ({})",
            bank.reader
        )));
    }
    // FIG. 5 block 501: the bank operator loads the bank card
    let bank_pin = Some(read_secret(&Ask {
        env: ENV_BANK_PIN,
        prompt: "bank card PIN (operator): ",
        confirm: false,
        optional: false,
    })?);
    let (card_pin, unblock) = if a.unblock_pin {
        let pin = new_value(SecretRef::Pin, ENV_NEW_PIN, false)?;
        let txkey = if a.unblock_txkey {
            Some(new_value(SecretRef::TxKey, ENV_NEW_TXKEY, false)?)
        } else {
            None
        };
        (None, Some(Unblock { pin, txkey }))
    } else {
        // block 502: the proper cardholder still has the card
        let p = read_secret(&Ask {
            env: ENV_PIN,
            prompt: "card holder's PIN: ",
            confirm: false,
            optional: false,
        })?;
        (Some(p), None)
    };
    let mut lg = if a.no_store {
        None
    } else {
        let path = a.ledger.clone().unwrap_or_else(ledger::default_path);
        Some(Ledger::open(&path).with_context(|| format!("opening ledger {}", path.display()))?)
    };
    let opts = SyncOptions {
        date,
        store: !a.no_store,
        send_digest: true,
        bank_pin,
        card_pin,
        unblock,
        auto_finish: true,
        s1: a.s1.into(),
    };
    let quiet = cli.json;
    let mut progress = |p: Progress| {
        if !quiet {
            let Progress::Step(_, m) = p;
            eprintln!("  .. {m}");
        }
    };
    let store = lg
        .as_mut()
        .map(|l| l as &mut dyn purse::flows::store::PassbookStore);
    match fsync::sync(&mut bank, &mut card, store, &opts, &mut progress) {
        Ok(rep) if rep.invalidated => {
            // the bank card's answer: the synced card was listed and is now dead (exit 4)
            if !cli.json {
                println!("{}", rep.summary());
            }
            let mut r = report::Report::new(
                purse::error::Kind::Refused,
                "the bank card invalidated the synced card (listed as lost or stolen): it cannot sync or transact any more",
            );
            r.side = Some("card".into());
            r.money_moved = Some(false);
            report::print_failed_report(cli.json, &report_json(&rep)?, r)
        }
        Ok(rep) => {
            if cli.json {
                super::print_json(&report_json(&rep)?)?;
            } else {
                println!("{}", rep.summary());
                println!("({} APDUs, {} ms)", rep.apdus, rep.millis);
            }
            Ok(super::EXIT_OK)
        }
        Err(e) => Err(e.into()),
    }
}

/// Amounts of a sync report (JSON): the decimal string plus `_minor` units.
const SYNC_MONEY: &[&str] = &[
    "balance_before",
    "balance_after",
    "interest",
    "interest_expected",
];

/// A sync report as JSON (`purse sync`, the sync service's report): amounts per `SYNC_MONEY`.
fn report_json(rep: &fsync::SyncReport) -> anyhow::Result<serde_json::Value> {
    let mut v = serde_json::to_value(rep)?;
    report::money_dec(&mut v, SYNC_MONEY, rep.decimals);
    Ok(v)
}
