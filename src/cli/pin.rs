//! `purse pin verify|change`, and the one convention for every secret the CLI needs:
//!
//! * an environment variable, when set, is used as is (scripts, tests, CI):
//!   `PURSE_PIN`, `PURSE_TXKEY`, `PURSE_CREATION_SECRET`, `PURSE_APPROVAL_SECRET` — the secrets
//!   of the card being used; `PURSE_NEW_PIN`, `PURSE_NEW_TXKEY`, `PURSE_NEW_CREATION_SECRET`,
//!   `PURSE_NEW_APPROVAL_SECRET` — new values (`purse pin change`, the new card of
//!   `purse issue`); `PURSE_TRANSPORT_KEY` (hex) — a blank card's transport key;
//! * otherwise, on a terminal, the secret is typed without echo (new secrets twice);
//! * otherwise the command fails and names the variable to set.
//!
//! `purse genesis` sets the center's own secrets, so it reads the unprefixed names
//! (`PURSE_PIN`, `PURSE_TXKEY`, `PURSE_CREATION_SECRET`, `PURSE_APPROVAL_SECRET`), exactly the
//! ones later commands use. An empty `PURSE_TXKEY` / `PURSE_NEW_TXKEY` means "no transaction key".
use std::io::IsTerminal;

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand, ValueEnum};

use purse::card::{PurseCard, VerifyState};
use purse::proto::consts::SecretRef;
use purse::transport::Pcsc;

use super::Cli;

/// A secret as the CLI asks for it.
pub(crate) struct Ask<'a> {
    /// Environment variable consulted first.
    pub env: &'a str,
    /// Prompt on a terminal.
    pub prompt: &'a str,
    /// New secret: typed twice on a terminal.
    pub confirm: bool,
    /// May be empty ("none"); without a terminal and variable it is empty.
    pub optional: bool,
}

/// Read a secret per the module's convention.
pub(crate) fn read_secret(a: &Ask) -> anyhow::Result<Vec<u8>> {
    if let Some(v) = std::env::var_os(a.env) {
        let v = v
            .into_string()
            .map_err(|_| anyhow::anyhow!("{} is not valid UTF-8", a.env))?;
        if v.is_empty() && !a.optional {
            bail!("{} is set but empty", a.env);
        }
        return Ok(v.into_bytes());
    }
    if !std::io::stdin().is_terminal() {
        if a.optional {
            return Ok(Vec::new());
        }
        bail!(
            "{} needed: set {} or run on a terminal to type it",
            a.prompt.trim_end_matches(": "),
            a.env
        );
    }
    loop {
        let s =
            rpassword::prompt_password(a.prompt).context("reading a secret from the terminal")?;
        if s.is_empty() && !a.optional {
            eprintln!("purse: empty; try again");
            continue;
        }
        if a.confirm && !s.is_empty() {
            let again = rpassword::prompt_password("again: ").context("reading a secret")?;
            if again != s {
                eprintln!("purse: the two entries differ; try again");
                continue;
            }
        }
        return Ok(s.into_bytes());
    }
}

/// The current value of a card secret.
pub(crate) fn current(which: SecretRef) -> anyhow::Result<Vec<u8>> {
    let (env, prompt) = match which {
        SecretRef::Pin => ("PURSE_PIN", "PIN: "),
        SecretRef::TxKey => ("PURSE_TXKEY", "transaction key: "),
        SecretRef::Creation => ("PURSE_CREATION_SECRET", "creation secret: "),
        SecretRef::Approval => ("PURSE_APPROVAL_SECRET", "approval secret: "),
        SecretRef::Other(_) => bail!("unknown secret"),
    };
    read_secret(&Ask {
        env,
        prompt,
        confirm: false,
        optional: false,
    })
}

/// A new value of a card secret (typed twice), checked against its length range.
pub(crate) fn new_value(which: SecretRef, env: &str, optional: bool) -> anyhow::Result<Vec<u8>> {
    let (lo, hi) = which.len_range();
    let prompt = format!(
        "new {} ({lo}-{hi} characters{}): ",
        which.name(),
        if optional { ", empty for none" } else { "" }
    );
    let s = read_secret(&Ask {
        env,
        prompt: &prompt,
        confirm: true,
        optional,
    })?;
    if !(s.is_empty() && optional) && (s.len() < lo || s.len() > hi) {
        bail!(
            "the {} must have {lo} to {hi} characters ({env})",
            which.name()
        );
    }
    Ok(s)
}

pub(crate) fn new_env(which: SecretRef) -> &'static str {
    match which {
        SecretRef::Pin => "PURSE_NEW_PIN",
        SecretRef::TxKey => "PURSE_NEW_TXKEY",
        SecretRef::Creation => "PURSE_NEW_CREATION_SECRET",
        _ => "PURSE_NEW_APPROVAL_SECRET",
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Which {
    Pin,
    Txkey,
    Creation,
    Approval,
}

impl Which {
    fn secret(self) -> SecretRef {
        match self {
            Which::Pin => SecretRef::Pin,
            Which::Txkey => SecretRef::TxKey,
            Which::Creation => SecretRef::Creation,
            Which::Approval => SecretRef::Approval,
        }
    }
}

#[derive(Args, Debug)]
pub struct PinArgs {
    #[command(subcommand)]
    pub cmd: PinCmd,
}

#[derive(Subcommand, Debug)]
pub enum PinCmd {
    /// Check a secret (PURSE_PIN etc. or typed); a wrong one costs a try
    Verify {
        /// Which secret (creation/approval: center card only)
        #[arg(long, value_enum, default_value = "pin")]
        secret: Which,
    },
    /// Change a secret: the old one (PURSE_PIN ...) then the new one (PURSE_NEW_PIN ...)
    Change {
        #[arg(long, value_enum, default_value = "pin")]
        secret: Which,
    },
    /// Tries left for a secret, without spending one
    Tries {
        #[arg(long, value_enum, default_value = "pin")]
        secret: Which,
    },
}

pub fn run(cli: &Cli, args: &PinArgs) -> anyhow::Result<i32> {
    let pcsc = Pcsc::establish()?;
    let reader = purse::card::select_reader(&pcsc, cli.reader.as_deref())?;
    let mut card = PurseCard::open_exclusive(&pcsc, &reader)?;
    match &args.cmd {
        PinCmd::Verify { secret } => {
            let w = secret.secret();
            let s = current(w)?;
            card.verify(w, &s)?;
            if cli.json {
                super::print_json(
                    &serde_json::json!({"reader": reader, "secret": w.name(), "verified": true}),
                )?;
            } else {
                println!("{} correct", w.name());
            }
        }
        PinCmd::Change { secret } => {
            let w = secret.secret();
            let old = current(w)?;
            let new = new_value(w, new_env(w), w == SecretRef::TxKey)?;
            card.change_secret(w, &old, &new)?;
            if cli.json {
                super::print_json(
                    &serde_json::json!({"reader": reader, "secret": w.name(), "changed": true}),
                )?;
            } else {
                println!("{} changed", w.name());
            }
        }
        PinCmd::Tries { secret } => {
            let w = secret.secret();
            let st = card.verify_state(w)?;
            if cli.json {
                super::print_json(
                    &serde_json::json!({"reader": reader, "secret": w.name(), "state": st}),
                )?;
            } else {
                match st {
                    VerifyState::Validated => println!("{}: validated in this session", w.name()),
                    VerifyState::NotValidated(n) => println!("{}: {n} tries left", w.name()),
                    VerifyState::Blocked => println!("{}: blocked", w.name()),
                }
            }
        }
    }
    Ok(super::EXIT_OK)
}
