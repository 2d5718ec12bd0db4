//! `purse readers`
use purse::transport::Pcsc;

use super::Cli;

pub fn run(cli: &Cli) -> anyhow::Result<i32> {
    let pcsc = Pcsc::establish()?;
    let readers = pcsc.readers()?;
    if cli.json {
        super::print_json(&readers)?;
    } else if readers.is_empty() {
        println!("no readers");
    } else {
        for r in &readers {
            let state = if r.card_present { "card " } else { "empty" };
            let atr = r
                .atr
                .as_ref()
                .map(hex::encode_upper)
                .unwrap_or_else(|| "-".into());
            println!("{:>2}  {state}  {:<32}  ATR {atr}", r.index, r.name);
        }
    }
    Ok(super::EXIT_OK)
}
