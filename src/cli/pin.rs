//! `purse pin verify|change|tries`. Secrets are read by `common` (one rule for every command).

use clap::{Args, Subcommand, ValueEnum};

use purse::card::VerifyState;
use purse::proto::consts::SecretRef;
use purse::transport::Pcsc;

use super::common::{current, new_env, new_value, open_card};
use super::Cli;

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
    let mut card = open_card(&pcsc, cli.reader.as_deref())?;
    let reader = card.reader.clone();
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
