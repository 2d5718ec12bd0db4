//! `purse issue`: the issuing card (center or admin) personalises a blank card, card to card
//! (protocol.md 5.4). The operator types the blank card's transport key (`--transport-key` /
//! PURSE_TRANSPORT_KEY); the development default needs `--dev` (threat model T13b).
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};

use purse::card::PurseCard;
use purse::flows::issue::{issue, may_issue, IssueParams};
use purse::proto::consts::{self, Life, Role, SecretRef};
use purse::proto::crypto;
use purse::proto::types;
use purse::transport::Pcsc;

use super::genesis::{dev_warning, given_tk};
use super::Cli;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RoleArg {
    Region,
    Branch,
    User,
    Admin,
}

impl RoleArg {
    pub(super) fn role(self) -> Role {
        match self {
            RoleArg::Region => Role::Region,
            RoleArg::Branch => Role::Branch,
            RoleArg::User => Role::User,
            RoleArg::Admin => Role::Admin,
        }
    }
}

#[derive(Args, Debug)]
pub struct IssueArgs {
    /// Reader of the issuing card (center or admin)
    #[arg(long = "from", alias = "issuer", value_name = "ISSUER")]
    pub issuer: String,
    /// Reader of the blank card (with --batch: the reader the blank cards go into; default:
    /// any reader but the issuer's)
    #[arg(
        long = "to",
        alias = "card",
        value_name = "BLANK",
        required_unless_present = "batch"
    )]
    pub card: Option<String>,
    /// Role of the new card (with --batch: of rows without a role column; default user)
    #[arg(long, value_enum, required_unless_present = "batch")]
    pub role: Option<RoleArg>,
    /// Public name of the new card (1-8 printable ASCII characters)
    #[arg(long, required_unless_present = "batch", conflicts_with = "batch")]
    pub name: Option<String>,
    /// Issue one card per row of this CSV (`-`: stdin) as blank cards are inserted one after
    /// another; columns: name, and optionally ref, role, min, max, merchant, private, pin,
    /// txkey (docs/issuance.md). Output: a progress bar on a terminal; one JSON object per
    /// line when stdout is not a terminal or with --json
    #[arg(long, value_name = "FILE.csv")]
    pub batch: Option<PathBuf>,
    /// With --batch: the register of issued cards (CSV: ref, account, name, ...), appended
    /// card by card; rows whose ref it already lists are skipped, so a rerun continues
    #[arg(long, value_name = "REGISTER.csv", requires = "batch")]
    pub out: Option<PathBuf>,
    /// With --batch and no pin column: generate each card's PIN and append it to FILE
    /// (ref, account, name, pin; created readable by you only) for the PIN mailers
    #[arg(long, value_name = "FILE", requires = "batch")]
    pub pins: Option<PathBuf>,
    /// Digits of a generated PIN (4-8)
    #[arg(long, default_value_t = 6, requires = "batch")]
    pub pin_digits: u8,
    /// With --batch: give up when no new card comes within SECS (default: wait forever;
    /// Ctrl-C stops after the card in progress)
    #[arg(long, value_name = "SECS", requires = "batch")]
    pub timeout: Option<u64>,
    /// Payments above this need the PIN (e.g. 5.00; default 0: always)
    #[arg(long, default_value = "0")]
    pub min: String,
    /// Payments above this need the transaction key (default: no limit)
    #[arg(long)]
    pub max: Option<String>,
    /// A merchant's user card (informative flag)
    #[arg(long)]
    pub merchant: bool,
    /// A private user card: signs payments instead of showing its account, keeps its
    /// passbook from the bank, earns no interest (`purse privacy on|off` switches later)
    #[arg(long)]
    pub private: bool,
    /// Bad packets/keys before the card locks (1-255)
    #[arg(long, default_value_t = consts::DEFAULT_BAD_KEY_LIMIT)]
    pub bad_key_limit: u8,
    /// Date, YYYY-MM-DD (default: today)
    #[arg(long)]
    pub date: Option<String>,
    /// The blank card's transport key, hex (16 / 24 bytes); also PURSE_TRANSPORT_KEY
    #[arg(long, value_name = "HEX")]
    pub transport_key: Option<String>,
    /// Allow the development transport key (test systems only: anyone knowing it could pose
    /// as a blank card and receive the system keys)
    #[arg(long)]
    pub dev: bool,
}

pub fn run(cli: &Cli, a: &IssueArgs) -> anyhow::Result<i32> {
    if let Some(b) = &a.batch {
        return super::batch::run(cli, a, b);
    }
    let (Some(role), Some(name), Some(card)) = (a.role, &a.name, &a.card) else {
        return Err(super::usage(
            "give --to, --role and --name (or --batch FILE.csv)",
        ));
    };
    let role = role.role();
    if a.private && role != Role::User {
        anyhow::bail!("only user cards can be private");
    }
    let name = types::encode_name(name)?;
    let date = match &a.date {
        Some(d) => types::parse_date(d)?,
        None => types::today(),
    };
    let tk_arg = given_tk(&a.transport_key)?;

    let pcsc = Pcsc::establish()?;
    let ir = purse::card::select_reader(&pcsc, Some(&a.issuer))?;
    let cr = purse::card::select_reader(&pcsc, Some(card))?;
    if ir == cr {
        bail!("--from and --to name the same reader ({ir})");
    }
    let mut issuer =
        PurseCard::open_exclusive(&pcsc, &ir).with_context(|| format!("issuer card in {ir}"))?;
    let mut blank =
        PurseCard::open_exclusive(&pcsc, &cr).with_context(|| format!("new card in {cr}"))?;
    let ist = issuer.get_status()?;
    if ist.life != Life::Active {
        bail!("the card in {ir} is not personalised: run `purse genesis` on it first");
    }
    if !may_issue(ist.role, role) {
        bail!(
            "a {} card cannot issue a {} card (center: admin, region, branch, user; admin: region, branch, user)",
            ist.role.name(),
            role.name()
        );
    }
    let bsel = blank.selected.expect("selected");
    if bsel.life != Life::Blank {
        bail!(
            "the card in {cr} is already personalised ({}): use a blank card",
            bsel.life.name()
        );
    }
    let tk = match tk_arg {
        Some(k) => {
            if crypto::is_dev_transport_key(&k) {
                if !a.dev {
                    bail!("that is the development transport key: refused without --dev (it is public: any card issued under it can be read and re-keyed by anyone)");
                }
                dev_warning();
            }
            k
        }
        None => {
            if !a.dev {
                bail!("give the blank card's transport key (--transport-key HEX or PURSE_TRANSPORT_KEY), or --dev for the development default");
            }
            dev_warning();
            crypto::dev_transport_key(bsel.suite)
                .with_context(|| format!("blank card reports transport suite {:?}", bsel.suite))?
                .to_vec()
        }
    };
    let dec = ist.currency.decimals;
    let min_trans = types::parse_amount(&a.min, dec).context("--min")?;
    let max_trans = match &a.max {
        Some(m) => types::parse_amount(m, dec).context("--max")?,
        None => u32::MAX,
    };
    if min_trans > max_trans {
        bail!("--min must not exceed --max");
    }

    let issuer_pin = super::common::current(SecretRef::Pin).context("the issuing card's PIN")?;
    let approval = if ist.role == Role::Center {
        Some(super::common::current(SecretRef::Approval)?)
    } else {
        None
    };
    let pin = super::common::new_value(SecretRef::Pin, super::common::ENV_NEW_PIN, false)
        .context("the new card's PIN")?;
    let txkey = super::common::new_value(SecretRef::TxKey, super::common::ENV_NEW_TXKEY, true)
        .context("the new card's transaction key")?;
    let params = IssueParams {
        tk,
        role,
        flags: if a.merchant { consts::FLAG_MERCHANT } else { 0 }
            | if a.private { consts::FLAG_PRIVATE } else { 0 },
        name,
        min_trans,
        max_trans,
        date,
        bad_key_limit: a.bad_key_limit,
        pin,
        txkey,
    };
    let r = issue(
        &mut issuer,
        &mut blank,
        &issuer_pin,
        approval.as_deref(),
        &params,
    )?;
    // An admin numbers its cards in its own block of accounts, which the bank cards issued by
    // the center do not serve: say which range a bank card needs before this card can sync.
    let served = (ist.role == Role::Admin && role != Role::Admin).then(|| block_range(&r.account));
    if let Some((low, high)) = &served {
        eprintln!(
            "purse: note: account {} is in the admin card's own block, which no bank card \
             serves yet: before it can sync, give the {} that will sync it that range: \
             `purse admin range --from ADMIN --to BANK {low} {high}`",
            r.account,
            match role {
                Role::User => "branch card",
                Role::Branch => "region card",
                _ => "center card",
            }
        );
    }
    if cli.json {
        super::print_json(&serde_json::json!({
            "needs_range": served.as_ref().map(|(l, h)| serde_json::json!({ "low": l.to_string(), "high": h.to_string() })),
            "issuer": { "reader": ir, "account": r.issuer.account, "name": r.issuer.name },
            "card": {
                "reader": cr,
                "account": r.account,
                "role": r.card.role.name(),
                "name": r.card.name,
                "currency": r.card.currency.code(),
                "min": types::format_amount(r.card.min_trans, dec),
                "max": types::format_amount(r.card.max_trans, dec),
                "merchant": r.card.merchant(),
                "current_key": r.card.current_key,
            }
        }))?;
    } else {
        println!(
            "issued {} card {:?} in {cr}: account {}",
            role.name(),
            r.card.name,
            r.account
        );
        println!(
            "  by {} ({}), keys {}..{}, PIN above {} {cur}, transaction key above {}",
            r.issuer.name,
            r.issuer.account,
            r.card.current_key.wrapping_sub(3),
            r.card.current_key,
            types::format_amount(r.card.min_trans, dec),
            if r.card.max_trans == u32::MAX {
                "(no limit)".to_string()
            } else {
                format!(
                    "{} {}",
                    types::format_amount(r.card.max_trans, dec),
                    r.card.currency.code()
                )
            },
            cur = r.card.currency.code()
        );
    }
    Ok(super::EXIT_OK)
}

/// The first and last valid account of `a`'s 8-digit block (what `purse admin range` takes).
pub(super) fn block_range(a: &types::Account) -> (types::Account, types::Account) {
    let d = a.digits();
    let mut lo = d[..8].to_vec();
    lo.extend([0u8; 7]);
    let mut hi = d[..8].to_vec();
    hi.extend([9u8; 7]);
    // 15 digits each: from_digits15 cannot fail
    match (
        types::Account::from_digits15(&lo),
        types::Account::from_digits15(&hi),
    ) {
        (Ok(l), Ok(h)) => (l, h),
        _ => (*a, *a),
    }
}
