//! `purse genesis`: a blank card becomes the bank center (protocol.md 5.3).
use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};

use purse::flows::genesis::{genesis, GenesisParams};
use purse::proto::consts::{self, Life, Suite};
use purse::proto::crypto;
use purse::proto::types::{self, Currency};
use purse::transport::Pcsc;

use super::common::{
    env_text, read_secret, Ask, ENV_APPROVAL, ENV_CREATION, ENV_PIN, ENV_TRANSPORT_KEY, ENV_TXKEY,
};
use super::usage;
use super::Cli;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SuiteArg {
    /// AES-128 (default)
    Aes,
    /// 3-key TDES (legacy cards)
    Tdes,
}

impl SuiteArg {
    pub fn suite(self) -> Suite {
        match self {
            SuiteArg::Aes => Suite::Aes128,
            SuiteArg::Tdes => Suite::Tdes3,
        }
    }
}

#[derive(Args, Debug)]
pub struct GenesisArgs {
    /// Crypto suite of the whole system, fixed forever
    #[arg(long, value_enum, default_value = "aes")]
    pub suite: SuiteArg,
    /// The blank card's transport key, hex (16 bytes AES / 24 bytes TDES); also
    /// PURSE_TRANSPORT_KEY. Default: the development key (with a warning)
    #[arg(long, value_name = "HEX")]
    pub transport_key: Option<String>,
    /// Public name of the center card (1-8 printable ASCII characters)
    #[arg(long)]
    pub name: String,
    /// Currency: ISO 4217 code (EUR) or number (978)
    #[arg(long, default_value = "EUR")]
    pub currency: String,
    /// Decimals of the currency (default: ISO 4217's)
    #[arg(long)]
    pub decimals: Option<u8>,
    /// Date of the keys, YYYY-MM-DD (default: today)
    #[arg(long)]
    pub date: Option<String>,
    /// Issuer id of the center: 6 digits; its account is ISSUER_ID 000000000 + check digit
    #[arg(long, default_value = "100000")]
    pub issuer_id: String,
    /// Payments above this need the PIN (amount in the currency, e.g. 5.00)
    #[arg(long, default_value = "0")]
    pub min: String,
    /// Payments above this need the transaction key (default: no limit)
    #[arg(long)]
    pub max: Option<String>,
    /// Bad packets/keys before the card locks (1-255)
    #[arg(long, default_value_t = consts::DEFAULT_BAD_KEY_LIMIT)]
    pub bad_key_limit: u8,
    /// Number of the first of the four keys generated on card
    #[arg(long, default_value_t = 0)]
    pub first_key: u8,
}

/// Parse a transport key: hex of 16 or 24 bytes.
pub(crate) fn parse_tk(s: &str) -> anyhow::Result<Vec<u8>> {
    let clean: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    let k =
        hex::decode(&clean).map_err(|e| usage(format!("the transport key must be hex: {e}")))?;
    if k.len() != 16 && k.len() != 24 {
        return Err(usage(format!(
            "the transport key must be 16 bytes (AES) or 24 bytes (TDES), got {}",
            k.len()
        )));
    }
    Ok(k)
}

/// The transport key from --transport-key, PURSE_TRANSPORT_KEY, or None.
pub(crate) fn given_tk(arg: &Option<String>) -> anyhow::Result<Option<Vec<u8>>> {
    if let Some(s) = arg {
        return parse_tk(s).map(Some);
    }
    match env_text(ENV_TRANSPORT_KEY)? {
        Some(s) => parse_tk(&s).map(Some).context(ENV_TRANSPORT_KEY),
        None => Ok(None),
    }
}

pub(crate) fn dev_warning() {
    eprintln!("purse: WARNING: development transport key — anyone can personalise this card");
}

pub fn run(cli: &Cli, a: &GenesisArgs) -> anyhow::Result<i32> {
    let currency = Currency::parse(&a.currency, a.decimals)?;
    let name = types::encode_name(&a.name)?;
    let date = match &a.date {
        Some(d) => types::parse_date(d)?,
        None => types::today(),
    };
    let issuer_id = types::parse_issuer_id(&a.issuer_id)?;
    let min_trans = types::parse_amount(&a.min, currency.decimals).context("--min")?;
    let max_trans = match &a.max {
        Some(m) => types::parse_amount(m, currency.decimals).context("--max")?,
        None => u32::MAX,
    };
    if min_trans > max_trans {
        return Err(usage("--min must not exceed --max"));
    }
    let tk_arg = given_tk(&a.transport_key)?;

    let pcsc = Pcsc::establish()?;
    let mut card = super::common::open_card(&pcsc, cli.reader.as_deref())?;
    let reader = card.reader.clone();
    let sel = card.selected.expect("selected");
    if sel.life != Life::Blank {
        bail!(
            "the card in {reader:?} is already personalised ({}): genesis needs a blank card",
            sel.life.name()
        );
    }
    let tk = match tk_arg {
        Some(k) => {
            if crypto::is_dev_transport_key(&k) {
                dev_warning();
            }
            k
        }
        None => {
            dev_warning();
            crypto::dev_transport_key(sel.suite)
                .with_context(|| format!("blank card reports transport suite {:?}", sel.suite))?
                .to_vec()
        }
    };

    let pin = read_secret(&Ask {
        env: ENV_PIN,
        prompt: "center PIN (4-8 characters): ",
        confirm: true,
        optional: false,
    })?;
    let txkey = read_secret(&Ask {
        env: ENV_TXKEY,
        prompt: "transaction key (4-16 characters, empty for none): ",
        confirm: true,
        optional: true,
    })?;
    let creation = read_secret(&Ask {
        env: ENV_CREATION,
        prompt: "creation secret (8-16 characters): ",
        confirm: true,
        optional: false,
    })?;
    let approval = read_secret(&Ask {
        env: ENV_APPROVAL,
        prompt: "approval secret (8-16 characters): ",
        confirm: true,
        optional: false,
    })?;

    let params = GenesisParams {
        suite: a.suite.suite(),
        issuer_id,
        name,
        currency,
        min_trans,
        max_trans,
        date,
        bad_key_limit: a.bad_key_limit,
        first_keynum: a.first_key,
        pin,
        txkey,
        creation,
        approval,
    };
    let r = genesis(&mut card, &tk, &params)?;
    if cli.json {
        super::print_json(&serde_json::json!({
            "reader": reader,
            "account": r.account,
            "role": r.role.name(),
            "suite": r.suite.name(),
            "current_key": r.current_key,
            "app_id": hex::encode_upper(r.app_id),
            "name": a.name,
            "currency": currency.code(),
            "decimals": currency.decimals,
        }))?;
    } else {
        println!("center card created in {reader}");
        println!("  account   {}", r.account);
        println!("  name      {}", a.name);
        println!("  suite     {}", r.suite.name());
        println!(
            "  currency  {} ({} decimals)",
            currency.code(),
            currency.decimals
        );
        println!(
            "  keys      {}..{} (generated on card)",
            r.current_key.wrapping_sub(3),
            r.current_key
        );
        println!("  system    {}", hex::encode_upper(r.app_id));
        println!("next: `purse mint AMOUNT` on this card, `purse issue` to issue cards");
    }
    Ok(super::EXIT_OK)
}
