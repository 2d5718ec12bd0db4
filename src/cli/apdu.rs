//! `purse apdu HEX...`: raw APDUs through the same Channel every flow uses (61xx/6Cxx resolved).
use clap::Args;
use serde::Serialize;

use purse::apdu::Channel;
use purse::transport::Pcsc;

use super::Cli;

#[derive(Args, Debug)]
pub struct ApduArgs {
    /// Command APDUs in hex (spaces or colons inside one argument are ignored)
    #[arg(required = true, value_name = "HEX")]
    pub apdus: Vec<String>,
    /// Keep sending after a status word other than 9000 (exit code is still 4)
    #[arg(long)]
    pub keep_going: bool,
}

#[derive(Serialize)]
struct Exchange {
    command: String,
    data: String,
    sw: String,
}

pub fn run(cli: &Cli, args: &ApduArgs) -> anyhow::Result<i32> {
    let mut cmds = Vec::new();
    for a in &args.apdus {
        let clean: String = a
            .chars()
            .filter(|c| !c.is_whitespace() && *c != ':')
            .collect();
        let bytes =
            hex::decode(&clean).map_err(|e| super::usage(format!("APDU {a:?} is not hex: {e}")))?;
        cmds.push(purse::apdu::Command::from_bytes(&bytes)?);
    }
    let pcsc = Pcsc::establish()?;
    let reader = purse::card::select_reader(&pcsc, cli.reader.as_deref())?;
    let conn = pcsc.connect(&reader)?;
    let mut ch = Channel::new(conn);
    let mut out = Vec::new();
    let mut refused: Option<u16> = None;
    for c in &cmds {
        let r = ch.send(c)?;
        let ex = Exchange {
            command: hex::encode_upper(c.to_bytes()?),
            data: hex::encode_upper(&r.data),
            sw: format!("{:04X}", r.sw.code()),
        };
        if !cli.json {
            if r.data.is_empty() {
                println!("{}", ex.sw);
            } else {
                println!("{} {}", ex.data, ex.sw);
            }
        }
        out.push(ex);
        if !r.sw.is_ok() {
            refused = Some(r.sw.code());
            if !args.keep_going {
                break;
            }
        }
    }
    let doc = serde_json::json!({ "reader": reader, "exchanges": out });
    if let Some(sw) = refused {
        // the card answered a status word other than 9000: exit 4, like every refusal
        let mut r = super::report::Report::new(
            purse::error::Kind::Refused,
            format!("the card answered {sw:04X}"),
        );
        r.sw = Some(format!("{sw:04X}"));
        return super::report::print_failed_report(cli.json, &doc, r);
    }
    if cli.json {
        super::print_json(&doc)?;
    }
    Ok(super::EXIT_OK)
}
