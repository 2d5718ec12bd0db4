//! `purse resume [R1 R2] [--from R] [--to R] [--give-up] [--abandon-expected]`: finish interrupted
//! transfers and syncs between two cards exactly once (protocol.md 6.4, 12.11).
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use purse::card::PurseCard;
use purse::flows::resume::{self, ResumeOptions, ResumeReport};
use purse::ledger::{self, Ledger};
use purse::transport::{Connection, Pcsc};

use super::common::{open_card, secret as read_secret, ENV_PIN};
use super::Cli;
use super::{report, usage};

#[derive(Args, Debug)]
pub struct ResumeArgs {
    /// Readers of the two cards, in either order (or --from / --to)
    #[arg(value_name = "R", num_args = 0..=2)]
    pub readers: Vec<String>,
    /// Reader of one card (the payer or the bank card; either order works)
    #[arg(long = "from", alias = "a", value_name = "R")]
    pub a: Option<String>,
    /// Reader of the other card (omit with --give-up when the other card is lost)
    #[arg(long = "to", alias = "b", value_name = "R")]
    pub b: Option<String>,
    /// A pending payment the other card does not know (that card is lost, or the outcome is
    /// gone): record it in the payer's exception log for the bank to settle. Needs the PIN
    /// (PURSE_PIN or a prompt).
    #[arg(long)]
    pub give_up: bool,
    /// Drop an incoming transfer expected from a card that is not here (value-safe: that payer
    /// gets refunded at its next resume)
    #[arg(long)]
    pub abandon_expected: bool,
    /// The bank's ledger, told when a finished sync had cleared the card's passbook (default:
    /// $PURSE_LEDGER, else ~/.purse/ledger.sqlite, used only if that file exists)
    #[arg(long, value_name = "FILE", env = "PURSE_LEDGER")]
    pub ledger: Option<PathBuf>,
    /// Finish with a card far away: --connect HOST:PORT (with -r R and --peer-fingerprint) on
    /// one side, --listen ADDR (with -r R) on the other
    #[command(flatten)]
    pub link: super::link::LinkOpts,
}

pub fn run(cli: &Cli, a: &ResumeArgs) -> anyhow::Result<i32> {
    if a.link.connect.is_some() || a.link.listen.is_some() {
        return super::link::run_resume(cli, &a.link, a.give_up);
    }
    let mut sel: Vec<String> = a.readers.clone();
    if let Some(x) = &a.a {
        sel.insert(0, x.clone());
    }
    if let Some(x) = &a.b {
        sel.push(x.clone());
    }
    if sel.is_empty() || sel.len() > 2 {
        return Err(usage("give the readers of the two cards: `purse resume R1 R2` (or --from R1 --to R2); one reader only with --give-up"));
    }
    if sel.len() == 1 && !a.give_up {
        return Err(usage("resume needs both cards of the transfer; with only one card (the other is lost) use --give-up"));
    }
    let pcsc = Pcsc::establish()?;
    let mut ca = open_card(&pcsc, Some(&sel[0]))?;
    let mut cb: Option<PurseCard<Connection>> = match sel.get(1) {
        Some(r) => Some(open_card(&pcsc, Some(r))?),
        None => None,
    };
    if let Some(b) = &cb {
        if b.reader == ca.reader {
            return Err(usage(format!("both readers are the same ({})", ca.reader)));
        }
    }
    let mut opts = ResumeOptions {
        give_up: a.give_up,
        abandon_expected: a.abandon_expected,
        pin: None,
    };
    if a.give_up {
        // Only needed if a payer pending is unknown to the other card; ask up front only then.
        let needs = {
            let pa = ca
                .get_pending()
                .map_err(|e| anyhow::Error::new(e).context(ca.reader.clone()))?;
            pa.out.state != purse::proto::consts::SlotState::None
                || match cb.as_mut() {
                    Some(b) => {
                        let pb = b
                            .get_pending()
                            .map_err(|e| anyhow::Error::new(e).context(b.reader.clone()))?;
                        pb.out.state != purse::proto::consts::SlotState::None
                    }
                    None => false,
                }
        };
        if needs {
            opts.pin = Some(read_secret(
                ENV_PIN,
                "PIN of the card that gives up its pending payment",
            )?);
        }
    }
    // the ledger matters only to a sync between the two cards; never create one uninvited
    let mut lg = match &a.ledger {
        Some(p) => Some(p.clone()),
        None => Some(ledger::default_path()).filter(|p| p.is_file()),
    }
    .filter(|_| cb.is_some())
    .map(|p| Ledger::open(&p).with_context(|| format!("opening ledger {}", p.display())))
    .transpose()?;
    let store = lg
        .as_mut()
        .map(|l| l as &mut dyn purse::flows::store::PassbookStore);
    let rep = resume::resume_with_ledger(&mut ca, cb.as_mut(), &opts, store);
    let doc = serde_json::json!({
        "finished": rep.finished(),
        "report": rep,
    });
    if cli.json {
        if !rep.finished() {
            return report::print_failed_report(true, &doc, unfinished());
        }
        super::print_json(&doc)?;
    } else {
        print_text(&rep);
    }
    if rep.finished() {
        Ok(super::EXIT_OK)
    } else {
        report::print_failed_report(false, &doc, unfinished())
    }
}

/// A resume that could not finish everything: a card refused to finish or give up an
/// interrupted transfer (exit 4; the report's actions say which and why).
pub(crate) fn unfinished() -> report::Report {
    let mut r = report::Report::new(
        purse::error::Kind::Refused,
        "not everything could be finished (see the report)",
    );
    r.money_moved = Some(true);
    r
}

/// What `resume` did, as text: one line per action and per card that could not be read.
pub(crate) fn print_text(rep: &ResumeReport) {
    if rep.actions.is_empty() && rep.unreadable.is_empty() {
        println!("nothing to finish: no interrupted transfer between these cards");
    }
    for act in &rep.actions {
        println!("{}", act.describe());
    }
    for u in &rep.unreadable {
        println!("{u}");
    }
}
