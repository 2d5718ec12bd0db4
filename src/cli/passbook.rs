//! `purse passbook`: the card's passbook (needs the PIN, B4).
use clap::Args;
use serde_json::json;

use purse::proto::consts::{EntryType, Life, SecretRef};
use purse::proto::types::{self, format_date};
use purse::transport::Pcsc;

use super::Cli;

#[derive(Args, Debug)]
pub struct PassbookArgs {}

pub fn run(cli: &Cli, _a: &PassbookArgs) -> anyhow::Result<i32> {
    let pcsc = Pcsc::establish()?;
    let mut card = super::common::open_card(&pcsc, cli.reader.as_deref())?;
    let reader = card.reader.clone();
    let st = card.get_status()?;
    if st.life != Life::Active {
        anyhow::bail!(
            "the card in {reader} is {}: it has no passbook",
            st.life.name()
        );
    }
    let pin = super::common::current(SecretRef::Pin)?;
    card.verify(SecretRef::Pin, &pin)?;
    let entries = card.read_passbook_all(st.passbook_count)?;
    let dec = st.currency.decimals;
    let cur = st.currency.code();
    if cli.json {
        let v: Vec<_> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| {
                json!({
                    "index": i,
                    "type": e.kind.name(),
                    "date": format_date(e.date),
                    "amount": types::format_amount(e.amount, dec),
                    "amount_minor": e.amount,
                    "balance": types::format_amount(e.new_balance, dec),
                    "balance_minor": e.new_balance,
                    "account": purse::flows::privacy::account_json(&e.account)["account"],
                    "signature": purse::flows::privacy::account_json(&e.account).get("signature").cloned(),
                    "name": e.name,
                    "tid": hex::encode_upper(e.tid),
                    "keynum": e.keynum,
                    "random": hex::encode_upper(e.random),
                })
            })
            .collect();
        super::print_json(&json!({
            "reader": reader,
            "account": st.account,
            "name": st.name,
            "currency": cur,
            "count": st.passbook_count,
            "capacity": st.passbook_capacity,
            "entries": v,
        }))?;
        return Ok(super::EXIT_OK);
    }
    println!(
        "passbook of {} ({}), {}/{} entries, amounts in {cur}",
        st.name, st.account, st.passbook_count, st.passbook_capacity
    );
    if entries.is_empty() {
        println!("(empty)");
        return Ok(super::EXIT_OK);
    }
    println!(
        "{:>3}  {:<10}  {:<14}  {:>14}  {:>14}  {:<8}  {:<16}  transfer",
        "#", "date", "type", "amount", "balance", "with", "account"
    );
    for (i, e) in entries.iter().enumerate() {
        let sign = match e.kind {
            EntryType::Debit | EntryType::InterestOut | EntryType::Exception => "-",
            EntryType::DebitRefunded => "±",
            _ => "+",
        };
        println!(
            "{:>3}  {:<10}  {:<14}  {:>14}  {:>14}  {:<8}  {:<16}  {}",
            i,
            format_date(e.date),
            e.kind.name(),
            format!("{sign}{}", types::format_amount(e.amount, dec)),
            types::format_amount(e.new_balance, dec),
            e.name,
            purse::flows::privacy::account_label(&e.account),
            if e.kind == EntryType::Mint {
                "-".to_string()
            } else {
                hex::encode_upper(e.tid)
            }
        );
    }
    Ok(super::EXIT_OK)
}
