//! `purse status` (no PIN, F11) and `purse exceptions`.
use clap::Args;
use serde_json::json;

use purse::card::PurseCard;
use purse::proto::consts::{Life, SlotState};
use purse::proto::types::{self, format_date, PendingSlot, Status};
use purse::transport::{Connection, Pcsc};

use super::Cli;

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Every reader with a card in it (JSON: an array)
    #[arg(long)]
    pub all: bool,
}

fn slot_json(s: &PendingSlot, dec: u8) -> serde_json::Value {
    json!({
        "state": s.state,
        "tid": hex::encode_upper(s.tid),
        "amount": types::format_amount(s.amount, dec),
        "amount_minor": s.amount,
        "account": purse::flows::privacy::account_json(&s.account)["account"],
        "name": s.name,
        "date": format_date(s.date),
    })
}

/// Status (and pending, for active cards) as JSON plus a human text.
fn collect(
    card: &mut PurseCard<Connection>,
    reader: &str,
) -> anyhow::Result<(serde_json::Value, String)> {
    let st: Status = card.get_status()?;
    let sel = card.selected.expect("selected");
    if st.life != Life::Active {
        let j = json!({
            "reader": reader,
            "life": st.life.name(),
            "version": format!("{}.{}", st.ver_major, st.ver_minor),
            "transport_suite": st.suite.name(),
            "transport_tries": st.tk_tries,
        });
        let t = match st.life {
            Life::Blank => format!(
                "{reader}: blank purse card (version {}.{}), {} transport key, {} tries left\n  next: `purse genesis` or `purse issue`\n",
                sel.ver_major, sel.ver_minor, st.suite.name(), st.tk_tries
            ),
            other => format!("{reader}: {} card\n", other.name()),
        };
        return Ok((j, t));
    }
    let pending = card.get_pending()?;
    let dec = st.currency.decimals;
    let cur = st.currency.code();
    let keys = st.key_numbers();
    let j = json!({
        "reader": reader,
        "life": st.life.name(),
        "locked": st.locked(),
        "version": format!("{}.{}", st.ver_major, st.ver_minor),
        "suite": st.suite.name(),
        "role": st.role.name(),
        "merchant": st.merchant(),
        "private": purse::flows::privacy::is_private(&st),
        "account": st.account,
        "name": st.name,
        "currency": cur,
        "decimals": dec,
        "balance": types::format_amount(st.balance, dec),
        "balance_minor": st.balance,
        "min_trans": types::format_amount(st.min_trans, dec),
        "min_trans_minor": st.min_trans,
        // no upper limit: null
        "max_trans": (st.max_trans != u32::MAX).then(|| types::format_amount(st.max_trans, dec)),
        "max_trans_minor": (st.max_trans != u32::MAX).then_some(st.max_trans),
        "keys": keys,
        "current_key": st.current_key,
        "key_date": format_date(st.key_date),
        "bad_key": st.bad_key,
        "bad_key_limit": st.bad_key_limit,
        "passbook": st.passbook_count,
        "passbook_capacity": st.passbook_capacity,
        "pin_tries": st.pin_tries,
        "txkey_tries": if st.txkey_tries == 0xFF { serde_json::Value::Null } else { json!(st.txkey_tries) },
        "exceptions": st.exception_count,
        "app_id": hex::encode_upper(st.app_id),
        "serial": st.serial,
        "out": if pending.out.state == SlotState::None { serde_json::Value::Null } else { slot_json(&pending.out, dec) },
        "in": if pending.r#in.state == SlotState::None { serde_json::Value::Null } else { slot_json(&pending.r#in, dec) },
        "outcomes": pending.outcomes.iter().map(|o| json!({"tid": hex::encode_upper(o.tid), "kind": o.kind})).collect::<Vec<_>>(),
    });
    let mut t = String::new();
    use std::fmt::Write;
    let _ = writeln!(
        t,
        "{reader}: {} card {:?}{}{}",
        st.role.name(),
        st.name,
        if st.merchant() { " (merchant)" } else { "" },
        if purse::flows::privacy::is_private(&st) {
            " (private: signs payments, no interest)"
        } else {
            ""
        }
    );
    let _ = writeln!(t, "  account     {}", st.account);
    let _ = writeln!(
        t,
        "  balance     {} {cur}",
        types::format_amount(st.balance, dec)
    );
    let _ = writeln!(
        t,
        "  limits      PIN above {} {cur}; transaction key above {}",
        types::format_amount(st.min_trans, dec),
        if st.max_trans == u32::MAX {
            "(no limit)".to_string()
        } else {
            format!("{} {cur}", types::format_amount(st.max_trans, dec))
        }
    );
    let _ = writeln!(
        t,
        "  keys        {}, {}, {}, {} (updated {}), {}",
        keys[0],
        keys[1],
        keys[2],
        keys[3],
        format_date(st.key_date),
        st.suite.name()
    );
    let _ = writeln!(
        t,
        "  passbook    {}/{} entries",
        st.passbook_count, st.passbook_capacity
    );
    let _ = writeln!(
        t,
        "  bad keys    {}/{}{}",
        st.bad_key,
        st.bad_key_limit,
        if st.locked() {
            "  LOCKED: sync the card with its bank"
        } else {
            ""
        }
    );
    let _ = writeln!(
        t,
        "  PIN         {} tries left; transaction key: {}",
        st.pin_tries,
        if st.txkey_tries == 0xFF {
            "none set".to_string()
        } else {
            format!("{} tries left", st.txkey_tries)
        }
    );
    match pending.out.state {
        SlotState::None => {}
        s => {
            let _ = writeln!(
                t,
                "  pending     OUT{}: paid {} {cur} to {:?} ({}), transfer {}: run `purse resume` with that card",
                if s == SlotState::Transfer { String::new() } else { format!(" ({s:?})") },
                types::format_amount(pending.out.amount, dec),
                pending.out.name,
                purse::flows::privacy::account_label(&pending.out.account),
                hex::encode_upper(pending.out.tid)
            );
        }
    }
    match pending.r#in.state {
        SlotState::None => {}
        s => {
            let _ = writeln!(
                t,
                "  expecting   IN{}: {} {cur} from {:?} ({}), transfer {}: run `purse resume` with that card",
                if s == SlotState::Transfer { String::new() } else { format!(" ({s:?})") },
                types::format_amount(pending.r#in.amount, dec),
                pending.r#in.name,
                purse::flows::privacy::account_label(&pending.r#in.account),
                hex::encode_upper(pending.r#in.tid)
            );
        }
    }
    if pending.out.state == SlotState::None && pending.r#in.state == SlotState::None {
        let _ = writeln!(t, "  pending     none");
    }
    if st.exception_count > 0 {
        let _ = writeln!(
            t,
            "  exceptions  {} (see `purse exceptions`)",
            st.exception_count
        );
    }
    Ok((j, t))
}

pub fn run(cli: &Cli, a: &StatusArgs) -> anyhow::Result<i32> {
    let pcsc = Pcsc::establish()?;
    if a.all && cli.reader.is_none() {
        let mut js = Vec::new();
        for r in pcsc.readers()?.into_iter().filter(|r| r.card_present) {
            match PurseCard::open_exclusive(&pcsc, &r.name)
                .map_err(anyhow::Error::from)
                .and_then(|mut c| collect(&mut c, &r.name))
            {
                Ok((j, t)) => {
                    if !cli.json {
                        print!("{t}");
                    }
                    js.push(j);
                }
                Err(e) => {
                    if !cli.json {
                        println!("{}: {e:#}", r.name);
                    }
                    js.push(json!({"reader": r.name, "error": super::report::classify(&e)}));
                }
            }
        }
        if cli.json {
            super::print_json(&json!({ "cards": js }))?;
        }
        return Ok(super::EXIT_OK);
    }
    let mut card = super::common::open_card(&pcsc, cli.reader.as_deref())?;
    let reader = card.reader.clone();
    let (j, t) = collect(&mut card, &reader)?;
    if cli.json {
        super::print_json(&j)?;
    } else {
        print!("{t}");
    }
    Ok(super::EXIT_OK)
}

#[derive(Args, Debug)]
pub struct ExceptionsArgs {}

/// `purse exceptions`: payments that could never finish (protocol.md 4.5, 6.4).
pub fn run_exceptions(cli: &Cli, _a: &ExceptionsArgs) -> anyhow::Result<i32> {
    let pcsc = Pcsc::establish()?;
    let mut card = super::common::open_card(&pcsc, cli.reader.as_deref())?;
    let reader = card.reader.clone();
    let st = card.get_status()?;
    let dec = st.currency.decimals;
    let ex = card.read_exceptions()?;
    if cli.json {
        let v: Vec<_> = ex
            .iter()
            .map(|e| {
                json!({
                    "tid": hex::encode_upper(e.tid),
                    "amount": types::format_amount(e.amount, dec),
                    "amount_minor": e.amount,
                    "account": purse::flows::privacy::account_json(&e.account)["account"],
                    "date": format_date(e.date),
                    "reason": if e.reason == 1 { "forced by holder".to_string() } else { format!("{:02X}", e.reason) },
                    "passbook_index": e.passbook_index,
                })
            })
            .collect();
        super::print_json(&json!({"reader": reader, "account": st.account, "exceptions": v}))?;
    } else if ex.is_empty() {
        println!("no exceptions on {} ({})", st.name, st.account);
    } else {
        println!(
            "{:<12}  {:>14}  {:<16}  {:<10}  {:<16}  entry",
            "transfer", "amount", "payee account", "date", "reason"
        );
        for e in &ex {
            println!(
                "{:<12}  {:>14}  {:<16}  {:<10}  {:<16}  {}",
                hex::encode_upper(e.tid),
                types::format_amount(e.amount, dec),
                purse::flows::privacy::account_label(&e.account),
                format_date(e.date),
                if e.reason == 1 {
                    "forced by holder"
                } else {
                    "other"
                },
                e.passbook_index
            );
        }
        println!("these payments were debited and never credited: the card hands them to its bank at the next sync, which settles them");
    }
    Ok(super::EXIT_OK)
}
