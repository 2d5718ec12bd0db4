//! The library's error type, and [`Failure`]: what every error of the library says about itself
//! (what kind of failure, at which step, on which side, the card's status word, whether money
//! moved). The library carries no exit codes: the CLI maps a [`Kind`] to one.
use std::path::PathBuf;

use crate::proto::consts::Sw;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // The pcsc/io error is part of the message, not a `#[source]`: anyhow's `{:#}` would print it twice.
    /// A PC/SC failure (crate purse-pcsc builds it). `unavailable`: no PC/SC service, or the
    /// reader or card went away, i.e. "no reader or no card" for the CLI.
    #[error("PC/SC: {context}: {err}")]
    Pcsc {
        context: String,
        err: String,
        unavailable: bool,
    },
    #[error("no PC/SC reader found{0}")]
    NoReader(String),
    #[error("reader {0:?} matches no reader (have: {1})")]
    ReaderNotFound(String, String),
    #[error("reader {0:?} is ambiguous: matches {1}")]
    ReaderAmbiguous(String, String),
    #[error("several readers hold a card ({0}): say which with --reader (an index from `purse readers`, a name substring, account:NUMBER or name:CARDNAME) or set PURSE_READER")]
    SeveralCards(String),
    #[error("the card in {0:?} is in use by another program (scdaemon, OpenSC, a browser, another purse?): close that program or pull and re-insert the card, then retry")]
    CardBusy(String),
    #[error("no card in reader {0:?}")]
    NoCard(String),
    #[error("the card in {0:?} stopped answering (pulled or lost power)")]
    CardLost(String),
    #[error("bad APDU: {0}")]
    BadApdu(String),
    #[error("bad response from card: {0}")]
    BadResponse(String),
    #[error("card refused: {0}")]
    Refused(Sw),
    #[error("{0}")]
    Desk(String),
    #[error("desk jar not found (looked at {0}); build it with `ant -f applet/build.xml desk` or set PURSE_DESK_JAR")]
    JarMissing(String),
    #[error("{context}: {path}: {err}")]
    Io {
        context: &'static str,
        path: PathBuf,
        err: std::io::Error,
    },
    #[error("timed out: {0}")]
    Timeout(String),
    /// The network link to a remote card failed (src/link): silent peer, closed, refused command.
    #[error("remote card: {0}")]
    Link(String),
}

impl Error {
    pub fn io(context: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            context,
            path: path.into(),
            err: source,
        }
    }
}

/// What kind of failure an error is. Each kind has one meaning for every command; the CLI maps
/// kinds to exit codes (docs/cli.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// No PC/SC service or reader, no card, the card was pulled, the reader is ambiguous or busy.
    NoCard,
    /// The card in the reader has no purse applet (SELECT answered 6A82 / 6999), or one of
    /// another major version this purse cannot speak to.
    NoApplet,
    /// The card answered a status word other than 9000.
    Refused,
    /// The host refused before asking a card (roles, states, limits, a holder did not confirm):
    /// the cards would refuse too, or a person said no.
    Precheck,
    /// A value given by the user is malformed or out of range.
    Invalid,
    /// The card answered something the protocol does not allow.
    BadResponse,
    /// The ledger (database) failed.
    Ledger,
    /// The network link to another purse failed.
    Link,
    /// A file or the operating system failed.
    Io,
    /// Anything else (the desk, a timeout, ...).
    Other,
}

/// What a failure says about itself, for a report (text or JSON): its kind, and where it
/// happened when a flow failed.
pub trait Failure: std::error::Error {
    fn kind(&self) -> Kind;
    /// The flow's step that failed (e.g. `PayeeP1`, `BankP5`).
    fn step(&self) -> Option<String> {
        None
    }
    /// Which card failed (`payer`/`payee`, `bank`/`card`, `admin`).
    fn side(&self) -> Option<String> {
        None
    }
    /// The card's status word, when a card refused.
    fn sw(&self) -> Option<u16> {
        None
    }
    /// For money flows: whether a balance may have changed (false: no card moved any value;
    /// true: value may be in flight, held safely by the cards until resumed). None when the
    /// question does not apply.
    fn money_moved(&self) -> Option<bool> {
        None
    }
}

impl Failure for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::NoReader(_)
            | Error::ReaderNotFound(..)
            | Error::ReaderAmbiguous(..)
            | Error::SeveralCards(_)
            | Error::CardBusy(_)
            | Error::NoCard(_)
            | Error::CardLost(_) => Kind::NoCard,
            Error::Pcsc { unavailable, .. } => {
                if *unavailable {
                    Kind::NoCard
                } else {
                    Kind::Other
                }
            }
            Error::Refused(_) => Kind::Refused,
            Error::BadApdu(_) => Kind::Invalid,
            Error::BadResponse(_) => Kind::BadResponse,
            Error::Io { .. } => Kind::Io,
            Error::Link(_) => Kind::Link,
            Error::Desk(_) | Error::JarMissing(_) | Error::Timeout(_) => Kind::Other,
        }
    }
    fn sw(&self) -> Option<u16> {
        match self {
            Error::Refused(sw) => Some(sw.code()),
            _ => None,
        }
    }
}
