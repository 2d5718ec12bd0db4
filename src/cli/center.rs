//! `purse center advance --date YYYY-MM-DD [--rate R]`: a new key epoch on the center card
//! (protocol.md 12.3), approval secret from PURSE_APPROVAL_SECRET or typed.
//!
//! RATE: an annual percentage over 365 days, up to 4 decimals (`3.65` = 3.65 %/year =
//! 0.01 %/day), or a daily percentage with `%/day` (`0.01%/day`), or the card's raw unit
//! `0x00068DB9` (2^-32 per day). See `purse::proto::sync::parse_rate` and README "Interest".
use clap::{Args, Subcommand};

use purse::flows::epoch;
use purse::proto::consts::SecretRef;
use purse::proto::sync::parse_rate;
use purse::proto::types::parse_date;
use purse::transport::Pcsc;

use super::common::{current, open_card};
use super::Cli;

#[derive(Subcommand, Debug)]
pub enum CenterCmd {
    /// Start a new key epoch: new key, date forward, optionally a new interest rate
    Advance(AdvanceArgs),
}

#[derive(Args, Debug)]
pub struct AdvanceArgs {
    /// The new epoch date (after the current one; one epoch per day at most)
    #[arg(long)]
    pub date: String,
    /// New daily interest rate of the system: annual % (3.65), daily % (0.01%/day) or raw (0x00068DB9)
    #[arg(long)]
    pub rate: Option<String>,
}

pub fn run(cli: &Cli, c: &CenterCmd) -> anyhow::Result<i32> {
    let CenterCmd::Advance(a) = c;
    let date = parse_date(&a.date)?;
    let rate = a.rate.as_deref().map(parse_rate).transpose()?;
    let pcsc = Pcsc::establish()?;
    let mut card = open_card(&pcsc, cli.reader.as_deref())?;
    let approval = current(SecretRef::Approval)?;
    match epoch::advance(&mut card, &approval, date, rate) {
        Ok(rep) => {
            if cli.json {
                super::print_json(&rep)?;
            } else {
                println!("{}", rep.summary());
            }
            Ok(super::EXIT_OK)
        }
        Err(e) => Err(e.into()),
    }
}
