//! `purse mint AMOUNT`: new money on the center card (creation secret; protocol.md 5.5).
use anyhow::Context as _;
use clap::Args;

use purse::flows::mint::mint;
use purse::proto::consts::SecretRef;
use purse::proto::types;
use purse::transport::Pcsc;

use super::Cli;

#[derive(Args, Debug)]
pub struct MintArgs {
    /// Amount in the card's currency, e.g. 1000.00
    pub amount: String,
    /// Date for the passbook entry, YYYY-MM-DD (default: today)
    #[arg(long)]
    pub date: Option<String>,
}

pub fn run(cli: &Cli, a: &MintArgs) -> anyhow::Result<i32> {
    let date = match &a.date {
        Some(d) => types::parse_date(d)?,
        None => types::today(),
    };
    let pcsc = Pcsc::establish()?;
    let mut card = super::common::open_card(&pcsc, cli.reader.as_deref())?;
    let reader = card.reader.clone();
    let st = card.get_status()?;
    let dec = st.currency.decimals;
    let amount = types::parse_amount(&a.amount, dec).context("amount")?;
    let creation = super::common::current(SecretRef::Creation)?;
    let (before, after) = mint(&mut card, &creation, amount, date)?;
    let cur = before.currency.code();
    if cli.json {
        super::print_json(&serde_json::json!({
            "reader": reader,
            "account": before.account,
            "minted": types::format_amount(amount, dec),
            "minted_minor": amount,
            "balance": types::format_amount(after, dec),
            "balance_minor": after,
            "currency": cur,
        }))?;
    } else {
        println!(
            "minted {} {cur} on {} ({}): balance {} {cur}",
            types::format_amount(amount, dec),
            before.name,
            before.account,
            types::format_amount(after, dec)
        );
    }
    Ok(super::EXIT_OK)
}
