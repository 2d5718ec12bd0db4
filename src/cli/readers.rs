//! `purse readers`: every reader, and the purse card in it (role, name, account) when there is
//! one, so that `-r account:NUMBER` / `-r name:CARDNAME` can be chosen from it.
use purse::card::{identify, CardIdent};
use purse::transport::{Pcsc, ReaderInfo};

use super::Cli;

#[derive(serde::Serialize)]
struct Row {
    #[serde(flatten)]
    reader: ReaderInfo,
    /// The purse card in the reader (null: no card, another applet, or the card is busy).
    purse: Option<CardIdent>,
    /// Why the card could not be identified (busy, not answering), if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

pub fn run(cli: &Cli) -> anyhow::Result<i32> {
    let pcsc = Pcsc::establish()?;
    let rows: Vec<Row> = pcsc
        .readers()?
        .into_iter()
        .map(|r| {
            let (purse, note) = if r.card_present {
                match identify(&pcsc, &r.name) {
                    Ok(Some(id)) => (Some(id), None),
                    Ok(None) => (None, Some("no purse applet".to_string())),
                    Err(e) => (None, Some(e.to_string())),
                }
            } else {
                (None, None)
            };
            Row {
                reader: r,
                purse,
                note,
            }
        })
        .collect();
    if cli.json {
        super::print_json(&serde_json::json!({ "readers": rows }))?;
    } else if rows.is_empty() {
        println!("no readers");
    } else {
        for row in &rows {
            let r = &row.reader;
            let state = if r.card_present { "card " } else { "empty" };
            let atr = r
                .atr
                .as_ref()
                .map(hex::encode_upper)
                .unwrap_or_else(|| "-".into());
            let card = match (&row.purse, &row.note) {
                (Some(id), _) => format!(
                    "  {} {:?} {}",
                    id.role,
                    id.name,
                    id.account.as_deref().unwrap_or("(blank)")
                ),
                (None, Some(n)) => format!("  ({n})"),
                (None, None) => String::new(),
            };
            println!("{:>2}  {state}  {:<32}  ATR {atr}{card}", r.index, r.name);
        }
    }
    Ok(super::EXIT_OK)
}
