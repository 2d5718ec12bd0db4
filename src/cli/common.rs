//! What every command does the same way: open a card by reader, read a secret, name the
//! environment variables. (Reporting a result or a failure: `report`.)
//!
//! Secrets, one convention for every command:
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
//! ones later commands use.
//!
//! A variable that is set but empty is an error ("PURSE_PIN is set but empty"), except where an
//! empty value means "none" (`PURSE_TXKEY` / `PURSE_NEW_TXKEY` when a card is given or changes
//! its transaction key); a value that is not valid UTF-8 is an error. Both exit 2.
use std::io::IsTerminal;

use anyhow::{bail, Context as _};

use purse::card::{CardError, PurseCard};
use purse::proto::consts::SecretRef;
use purse::transport::{Connection, Pcsc};

use super::usage;

/// The card's PIN (of the card being used; `purse genesis`: the new center's).
pub const ENV_PIN: &str = "PURSE_PIN";
/// The card's transaction key (empty: none, where a card is given one).
pub const ENV_TXKEY: &str = "PURSE_TXKEY";
/// The center's creation secret.
pub const ENV_CREATION: &str = "PURSE_CREATION_SECRET";
/// The center's approval secret.
pub const ENV_APPROVAL: &str = "PURSE_APPROVAL_SECRET";
/// New values (`purse pin change`, the new card of `purse issue`, `purse sync --unblock-pin`).
pub const ENV_NEW_PIN: &str = "PURSE_NEW_PIN";
pub const ENV_NEW_TXKEY: &str = "PURSE_NEW_TXKEY";
pub const ENV_NEW_CREATION: &str = "PURSE_NEW_CREATION_SECRET";
pub const ENV_NEW_APPROVAL: &str = "PURSE_NEW_APPROVAL_SECRET";
/// The bank card operator's PIN (`purse sync`).
pub const ENV_BANK_PIN: &str = "PURSE_BANK_PIN";

/// A blank card's transport key, hex.
pub const ENV_TRANSPORT_KEY: &str = "PURSE_TRANSPORT_KEY";

/// The value of `name` if it is set: not valid UTF-8 or empty is an error (exit 2).
pub fn env_text(name: &str) -> anyhow::Result<Option<String>> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(v) => {
            let v = v
                .into_string()
                .map_err(|_| usage(format!("{name} is not valid UTF-8")))?;
            if v.is_empty() {
                return Err(usage(format!("{name} is set but empty")));
            }
            Ok(Some(v))
        }
    }
}

/// Connect to the reader `sel` (index, name substring, `account:N`, `name:NAME`; None: the one
/// reader with a card) exclusively and SELECT the purse applet; held until dropped. A failure
/// names the reader and keeps its kind (no card, no purse applet, refused).
pub fn open_card(pcsc: &Pcsc, sel: Option<&str>) -> anyhow::Result<PurseCard<Connection>> {
    let reader = purse::card::select_reader(pcsc, sel)?;
    PurseCard::open_exclusive(pcsc, &reader).map_err(|e| match e {
        CardError::Transport(t) => anyhow::Error::new(t),
        // names the reader itself
        e @ (CardError::NoApplet { .. } | CardError::OtherVersion { .. }) => anyhow::Error::new(e),
        other => anyhow::Error::new(other).context(reader),
    })
}

/// A secret from `env`, else typed without echo (prompt `what: `): the payer's PIN etc.
pub fn secret(env: &str, what: &str) -> anyhow::Result<Vec<u8>> {
    read_secret(&Ask {
        env,
        prompt: &format!("{what}: "),
        confirm: false,
        optional: false,
    })
}

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
            .map_err(|_| usage(format!("{} is not valid UTF-8", a.env)))?;
        if v.is_empty() && !a.optional {
            return Err(usage(format!("{} is set but empty", a.env)));
        }
        return Ok(v.into_bytes());
    }
    if !std::io::stdin().is_terminal() {
        if a.optional {
            return Ok(Vec::new());
        }
        return Err(usage(format!(
            "{} needed: set {} or run on a terminal to type it",
            a.prompt.trim_end_matches(": "),
            a.env
        )));
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
        SecretRef::Pin => (ENV_PIN, "PIN: "),
        SecretRef::TxKey => (ENV_TXKEY, "transaction key: "),
        SecretRef::Creation => (ENV_CREATION, "creation secret: "),
        SecretRef::Approval => (ENV_APPROVAL, "approval secret: "),
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
        return Err(usage(format!(
            "the {} must have {lo} to {hi} characters ({env})",
            which.name()
        )));
    }
    Ok(s)
}

pub(crate) fn new_env(which: SecretRef) -> &'static str {
    match which {
        SecretRef::Pin => ENV_NEW_PIN,
        SecretRef::TxKey => ENV_NEW_TXKEY,
        SecretRef::Creation => ENV_NEW_CREATION,
        _ => ENV_NEW_APPROVAL,
    }
}
