//! The library's error type. The CLI maps variants to exit codes (see `Error::exit_code`).
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

    /// Process exit code documented in README.md: 1 error, 3 no reader/card, 4 card refused.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::NoReader(_)
            | Error::ReaderNotFound(..)
            | Error::ReaderAmbiguous(..)
            | Error::SeveralCards(_)
            | Error::CardBusy(_)
            | Error::NoCard(_)
            | Error::CardLost(_) => 3,
            Error::Pcsc {
                unavailable: true, ..
            } => 3,
            Error::Refused(_) => 4,
            _ => 1,
        }
    }
}
