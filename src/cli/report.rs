//! The one way every command reports: success as one versioned JSON document (`--json`) or
//! text, failure as one JSON error document or a message on stderr, and one exit code whose
//! meaning is the same for every command (docs/cli.md "Exit codes and JSON"):
//!
//! | exit | kind(s)                                            | meaning                           |
//! |------|----------------------------------------------------|-----------------------------------|
//! | 0    |                                                    | done                              |
//! | 1    | precheck, bad_response, ledger, link, io, other    | anything else                     |
//! | 2    | usage                                              | usage or a bad value              |
//! | 3    | no_card                                            | no PC/SC, no reader, no card      |
//! | 4    | refused, no_applet                                 | the card answered a status word   |
//!
//! Exit code 4 always comes with the card's status word (`"sw"`); a check the host makes before
//! asking a card is `precheck` (exit 1) even when the card would refuse too.
use serde::Serialize;
use serde_json::{json, Map, Value};

use purse::error::Kind;

use super::{EXIT_ERROR, EXIT_NO_CARD, EXIT_REFUSED, EXIT_USAGE};

/// Version of every JSON document the CLI prints (`"schema_version"`); raised when a field
/// changes meaning or disappears (new fields do not raise it).
pub const SCHEMA_VERSION: u32 = 1;

/// A bad value or a missing argument that clap cannot check: exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// A usage error (exit code 2) with `msg`.
pub(crate) fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

/// A failure after part of a batch was done (e.g. `purse admin` ops 1..k applied, op k+1
/// refused): the message, the fields added to the JSON error document (`"done"`, `"index"`),
/// and the error itself (its kind, step, status word decide the report).
#[derive(Debug)]
pub struct Partial {
    pub message: String,
    pub extra: Map<String, Value>,
    pub source: anyhow::Error,
}

impl std::fmt::Display for Partial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Partial {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// What a failure is, as reported (the `"error"` object of the JSON document).
#[derive(Debug, Serialize)]
pub struct Report {
    /// usage, no_card, no_applet, refused, precheck, bad_response, ledger, link, io, other
    pub kind: &'static str,
    /// The whole message (what happened, and what to do), as on stderr without `purse: error: `.
    pub message: String,
    /// The flow's step that failed (transfer: Setup, Verify, PayeeHello .. PayerAck; sync: Setup,
    /// CardInit .. BankAck, Unblock), else null.
    pub step: Option<String>,
    /// The card that failed: payer/payee (transfer, pay), bank/card/host (sync), else null.
    pub side: Option<String>,
    /// The card's status word, 4 hex digits ("6982"), when a card refused; else null.
    pub sw: Option<String>,
    /// Money flows: false = no card moved any value; true = value may be in flight (held by
    /// the cards; `purse resume` finishes it). null for commands that move no money.
    pub money_moved: Option<bool>,
    #[serde(skip)]
    pub exit: i32,
}

fn kind_name(k: Kind) -> (&'static str, i32) {
    match k {
        Kind::NoCard => ("no_card", EXIT_NO_CARD),
        Kind::NoApplet => ("no_applet", EXIT_REFUSED),
        Kind::Refused => ("refused", EXIT_REFUSED),
        Kind::Precheck => ("precheck", EXIT_ERROR),
        Kind::Invalid => ("usage", EXIT_USAGE),
        Kind::BadResponse => ("bad_response", EXIT_ERROR),
        Kind::Ledger => ("ledger", EXIT_ERROR),
        Kind::Link => ("link", EXIT_ERROR),
        Kind::Io => ("io", EXIT_ERROR),
        Kind::Other => ("other", EXIT_ERROR),
    }
}

/// The library's description of one error in the chain, if it is one of the library's.
fn library<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a dyn purse::error::Failure> {
    use purse::flows;
    macro_rules! try_types {
        ($($t:ty),*) => {
            $(if let Some(x) = e.downcast_ref::<$t>() {
                return Some(x);
            })*
        };
    }
    try_types!(
        flows::transfer::TransferError,
        flows::sync::SyncError,
        flows::admin::AdminError,
        flows::epoch::AdvanceError,
        purse::link::pay::PayError,
        purse::link::LinkError,
        purse::card::CardError,
        purse::Error
    );
    None
}

/// The error chain as one line, `outer: inner: ...`, leaving out a cause whose text the message
/// already carries (an error that prints its source itself would otherwise say it twice).
fn chain_text(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let t = cause.to_string();
        if t.is_empty() || out.contains(&t) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&t);
    }
    out
}

/// Classify `e`: the first error in its chain that says what it is decides.
pub fn classify(e: &anyhow::Error) -> Report {
    let message = chain_text(e);
    let mut r = Report {
        kind: "other",
        message,
        step: None,
        side: None,
        sw: None,
        money_moved: None,
        exit: EXIT_ERROR,
    };
    for cause in e.chain() {
        if cause.is::<UsageError>()
            || cause.is::<clap::Error>()
            || cause.is::<purse::proto::types::ParseError>()
        {
            (r.kind, r.exit) = ("usage", EXIT_USAGE);
            return r;
        }
        if let Some(f) = library(cause) {
            return Report::of(f, r.message);
        }
        if let Some(l) = cause.downcast_ref::<purse::ledger::LedgerError>() {
            use purse::ledger::LedgerError as L;
            (r.kind, r.exit) = match l {
                L::BadAccount(_) | L::BadCheckDigit(_) | L::BadDate(_) => ("usage", EXIT_USAGE),
                _ => ("ledger", EXIT_ERROR),
            };
            return r;
        }
        if cause.is::<std::io::Error>() {
            r.kind = "io";
            return r;
        }
    }
    r
}

static JSON_LINES: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The command writes a stream of JSON lines (batch issuance): its failure document, too, is
/// one line, so every line of its stdout parses on its own.
pub(crate) fn json_lines() {
    JSON_LINES.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Report the failure `e` (JSON document on stdout with `json`, message on stderr always) and
/// return its exit code. The one place errors become output and exit codes.
pub fn fail(json: bool, e: &anyhow::Error) -> i32 {
    let r = classify(e);
    if json {
        let mut doc = Map::new();
        doc.insert("schema_version".into(), json!(SCHEMA_VERSION));
        doc.insert("ok".into(), json!(false));
        doc.insert("error".into(), json!(r));
        if let Some(p) = e.chain().find_map(|c| c.downcast_ref::<Partial>()) {
            for (k, v) in &p.extra {
                doc.insert(k.clone(), v.clone());
            }
        }
        let lines = JSON_LINES.load(std::sync::atomic::Ordering::Relaxed);
        if lines {
            // one more event of the stream
            doc.insert("event".into(), json!("failed"));
        }
        let doc = Value::Object(doc);
        let text = if lines {
            serde_json::to_string(&doc)
        } else {
            serde_json::to_string_pretty(&doc)
        };
        if let Ok(s) = text {
            println!("{s}");
        }
    }
    eprintln!("purse: error: {}", r.message);
    r.exit
}

/// `value` as a versioned document: an object's fields, else `"result"`, plus `schema_version`.
fn document<T: Serialize>(value: &T) -> anyhow::Result<Map<String, Value>> {
    let mut doc = match serde_json::to_value(value)? {
        Value::Object(m) => m,
        other => {
            let mut m = Map::new();
            m.insert("result".into(), other);
            m
        }
    };
    doc.insert("schema_version".into(), json!(SCHEMA_VERSION));
    Ok(doc)
}

/// Print `value` as the command's JSON document on stdout: an object gains
/// `"schema_version"` and `"ok": true`; anything else is wrapped as `"result"`.
pub(crate) fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let mut doc = document(value)?;
    doc.entry("ok").or_insert(json!(true));
    println!("{}", serde_json::to_string_pretty(&Value::Object(doc))?);
    Ok(())
}

/// An amount as every JSON document gives it: the decimal string (`"12.50"`) under `key`, and
/// the integer count of minor units under `key_minor` (1250); an absent limit is null in both.
pub(crate) fn amount(m: &mut Map<String, Value>, key: &str, v: Option<u32>, decimals: u8) {
    m.insert(
        key.into(),
        v.map(|v| json!(purse::proto::types::format_amount(v, decimals)))
            .unwrap_or(Value::Null),
    );
    m.insert(
        format!("{key}_minor"),
        v.map(|v| json!(v)).unwrap_or(Value::Null),
    );
}

/// A command that ends with its report but not in success (exit `r.exit`): with `json` the
/// report document gains `"ok": false` and `"error"`; the message goes to stderr.
pub(crate) fn print_failed_report<T: Serialize>(
    json: bool,
    value: &T,
    r: Report,
) -> anyhow::Result<i32> {
    if json {
        let mut doc = document(value)?;
        doc.insert("ok".into(), json!(false));
        doc.insert("error".into(), json!(r));
        println!("{}", serde_json::to_string_pretty(&Value::Object(doc))?);
    }
    eprintln!("purse: error: {}", r.message);
    Ok(r.exit)
}

impl Report {
    /// The report of a library error, with `message`.
    pub fn of(f: &dyn purse::error::Failure, message: String) -> Report {
        let (kind, exit) = kind_name(f.kind());
        Report {
            kind,
            message,
            step: f.step(),
            side: f.side(),
            sw: f.sw().map(|s| format!("{s:04X}")),
            money_moved: f.money_moved(),
            exit,
        }
    }
    /// A report of `kind` (see the module's table) with `message`.
    pub fn new(kind: Kind, message: impl Into<String>) -> Report {
        let (k, exit) = kind_name(kind);
        Report {
            kind: k,
            message: message.into(),
            step: None,
            side: None,
            sw: None,
            money_moved: None,
            exit,
        }
    }
}

/// Rewrite the integer amounts under `keys` (at any depth of `v`) to the one convention: the
/// key holds the decimal string `fmt(n)`, `<key>_minor` the integer.
pub(crate) fn money(v: &mut Value, keys: &[&str], fmt: &dyn Fn(i64) -> String) {
    match v {
        Value::Object(m) => {
            let mut add = Vec::new();
            for (k, x) in m.iter_mut() {
                if let (Some(n), true) = (x.as_i64(), keys.contains(&k.as_str())) {
                    add.push((format!("{k}_minor"), json!(n)));
                    *x = json!(fmt(n));
                } else {
                    money(x, keys, fmt);
                }
            }
            m.extend(add);
        }
        Value::Array(a) => a.iter_mut().for_each(|x| money(x, keys, fmt)),
        _ => {}
    }
}

/// `money` in a currency with `decimals` digits after the point.
pub(crate) fn money_dec(v: &mut Value, keys: &[&str], decimals: u8) {
    money(v, keys, &|n| {
        let sign = if n < 0 { "-" } else { "" };
        let a = purse::proto::types::format_amount(
            n.unsigned_abs().min(u32::MAX as u64) as u32,
            decimals,
        );
        format!("{sign}{a}")
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(anyhow::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "op 2 of 2 refused: {}", self.0)
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(self.0.as_ref())
        }
    }

    #[test]
    fn a_cause_the_message_already_says_is_not_repeated() {
        let e = anyhow::Error::new(Outer(anyhow::anyhow!("the list is full [9D23]")));
        assert_eq!(chain_text(&e), "op 2 of 2 refused: the list is full [9D23]");
        let e = anyhow::anyhow!("the list is full").context("bank card");
        assert_eq!(chain_text(&e), "bank card: the list is full");
    }
}
