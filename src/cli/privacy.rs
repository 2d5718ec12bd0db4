//! `purse privacy on|off --reader R` (F15, protocol.md 12.9): a private user card sends a
//! per-transfer signature instead of its account number, keeps its passbook from the bank and
//! earns no interest. Needs the card's PIN (PURSE_PIN or typed) and an empty passbook (sync first).
use clap::{Args, ValueEnum};
use serde_json::json;

use purse::flows::privacy::set_privacy;
use purse::proto::consts::SecretRef;
use purse::transport::Pcsc;

use super::Cli;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Mode {
    On,
    Off,
}

#[derive(Args, Debug)]
pub struct PrivacyArgs {
    /// on: private (signature instead of account, passbook not handed over, no interest); off: public
    pub mode: Mode,
}

pub fn run(cli: &Cli, a: &PrivacyArgs) -> anyhow::Result<i32> {
    let pcsc = Pcsc::establish()?;
    let mut card = super::common::open_card(&pcsc, cli.reader.as_deref())?;
    let reader = card.reader.clone();
    let pin = super::common::current(SecretRef::Pin)?;
    let on = matches!(a.mode, Mode::On);
    let ch = set_privacy(&mut card, &pin, on)?;
    if cli.json {
        super::print_json(&json!({
            "reader": reader,
            "account": ch.account,
            "was_private": ch.was_private,
            "private": ch.private,
        }))?;
    } else if ch.private == ch.was_private {
        println!(
            "{} was already {}",
            ch.account,
            if ch.private { "private" } else { "public" }
        );
    } else if ch.private {
        println!(
            "{} is now private: payments show a signature instead of the account, the passbook stays on the card, no interest",
            ch.account
        );
    } else {
        println!(
            "{} is now public: payments show the account, the bank collects the passbook and pays interest",
            ch.account
        );
    }
    Ok(super::EXIT_OK)
}
