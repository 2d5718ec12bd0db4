//! `purse issue --batch FILE.csv`: issue one card per CSV row as the operator inserts blank cards
//! one after another (docs/issuance.md). The issuing card stays in its reader; the command waits
//! for each new card with SCardGetStatusChange ([`CardWatch`]), personalises it with the row's
//! values, records it in the register (`--out`), and asks for the next blank card.
//!
//! Choices (documented in docs/issuance.md):
//! * every row is checked before any card is touched (exit code 2 with line numbers);
//! * the register (`--out`, CSV, one fsynced line per issued card) is what makes a rerun safe: a
//!   row whose `ref` is in it is skipped, so an interrupted batch is finished by running the same
//!   command again;
//! * PINs: generated (`--pins FILE`, a 0600 file for the PIN mailer, written before the
//!   register) unless the CSV has a `pin` column (then a warning: the file holds secrets);
//! * a card that is not blank, not a purse card, or does not know the transport key is refused
//!   and the row waits for the next card; a card pulled mid-issue is an error for that row, which
//!   is retried on the next card (the applet personalises in one transaction: the card is either
//!   still blank or fully issued, and then refused as not blank).
use std::collections::{HashMap, VecDeque};
use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

use purse::card::{CardError, PurseCard};
use purse::flows::issue::{issue_steps, may_issue, IssueParams, IssueStep};
use purse::proto::consts::{self, Life, Role, SecretRef};
use purse::proto::crypto;
use purse::proto::types::{self, Account};
use purse::transport::{CardWatch, Pcsc};

use super::genesis::{dev_warning, given_tk};
use super::issue::IssueArgs;
use super::{usage, Cli};

/// Version of the JSON lines (`schema_version` in every line).
const SCHEMA_VERSION: u32 = 1;
/// Columns a batch CSV may have (`name` is required).
const COLUMNS: &[&str] = &[
    "ref", "name", "role", "min", "max", "merchant", "private", "pin", "txkey",
];
/// Columns of the register (`--out`).
const REGISTER_HEADER: &[&str] = &["ref", "account", "name", "role", "line", "issuer", "date"];

/// One row of the batch, checked.
struct Row {
    line: u64,
    reference: String,
    name: String,
    role: Role,
    min: Option<String>,
    max: Option<String>,
    merchant: bool,
    private: bool,
    /// From the CSV's `pin` column; `None`: generated.
    pin: Option<Vec<u8>>,
    txkey: Vec<u8>,
}

/// What `--batch` reads besides the rows' own columns.
struct Defaults {
    role: Role,
    min: String,
    max: Option<String>,
    merchant: bool,
    private: bool,
}

fn parse_bool(s: &str, default: bool) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "" => Ok(default),
        "yes" | "y" | "true" | "1" => Ok(true),
        "no" | "n" | "false" | "0" => Ok(false),
        _ => Err(format!("{s:?} is not yes/no")),
    }
}

fn parse_role(s: &str, default: Role) -> Result<Role, String> {
    match s.to_ascii_lowercase().as_str() {
        "" => Ok(default),
        "user" => Ok(Role::User),
        "branch" => Ok(Role::Branch),
        "region" => Ok(Role::Region),
        other => Err(format!(
            "role {other:?}: a batch issues user, branch or region cards"
        )),
    }
}

/// Read and check every row of `text` (a CSV with a header line; `#` lines are comments).
/// All errors are collected, each with its line number, into one usage error.
fn parse_rows(text: &str, src: &str, d: &Defaults) -> anyhow::Result<(Vec<Row>, bool, bool)> {
    let mut rd = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = rd
        .headers()
        .map_err(|e| usage(format!("{src}: {e}")))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let mut col = HashMap::new();
    for (i, h) in header.iter().enumerate() {
        if !COLUMNS.contains(&h.as_str()) {
            return Err(usage(format!(
                "{src}: unknown column {h:?} in the header line (columns: {}; `name` is required)",
                COLUMNS.join(", ")
            )));
        }
        if col.insert(h.clone(), i).is_some() {
            return Err(usage(format!(
                "{src}: column {h:?} twice in the header line"
            )));
        }
    }
    if !col.contains_key("name") {
        return Err(usage(format!(
            "{src}: no `name` column: the first line (not a # comment) names the columns, e.g. `ref,name`"
        )));
    }
    let has_pin = col.contains_key("pin");
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut refs: HashMap<String, u64> = HashMap::new();
    for rec in rd.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = line_of(text, e.position());
                errors.push(format!("line {line}: {}", csv_error_text(&e)));
                continue;
            }
        };
        let line = line_of(text, rec.position());
        let get = |c: &str| col.get(c).and_then(|&i| rec.get(i)).unwrap_or("");
        let mut bad = |msg: String| errors.push(format!("line {line}: {msg}"));
        let name = get("name").to_string();
        if let Err(e) = types::encode_name(&name) {
            bad(e.to_string());
            continue;
        }
        let reference = match get("ref") {
            "" => name.clone(),
            r => r.to_string(),
        };
        if let Some(first) = refs.insert(reference.clone(), line) {
            bad(format!(
                "ref {reference:?} again (first on line {first}): each row needs its own ref \
                 (without a ref column the name is the ref)"
            ));
            continue;
        }
        let role = match parse_role(get("role"), d.role) {
            Ok(r) => r,
            Err(e) => {
                bad(e);
                continue;
            }
        };
        let (merchant, private) = match (
            parse_bool(get("merchant"), d.merchant),
            parse_bool(get("private"), d.private),
        ) {
            (Ok(m), Ok(p)) => (m, p),
            (Err(e), _) => {
                bad(format!("merchant: {e}"));
                continue;
            }
            (_, Err(e)) => {
                bad(format!("private: {e}"));
                continue;
            }
        };
        if private && role != Role::User {
            bad("only user cards can be private".into());
            continue;
        }
        let pin = if has_pin {
            let p = get("pin");
            let (lo, hi) = SecretRef::Pin.len_range();
            if p.len() < lo || p.len() > hi {
                bad(format!("pin: {lo} to {hi} characters"));
                continue;
            }
            Some(p.as_bytes().to_vec())
        } else {
            None
        };
        let txkey = get("txkey");
        let (lo, hi) = SecretRef::TxKey.len_range();
        if !txkey.is_empty() && (txkey.len() < lo || txkey.len() > hi) {
            bad(format!("txkey: empty (none) or {lo} to {hi} characters"));
            continue;
        }
        let opt = |c: &str| Some(get(c).to_string()).filter(|s| !s.is_empty());
        rows.push(Row {
            line,
            reference,
            name,
            role,
            min: opt("min").or_else(|| Some(d.min.clone())),
            max: opt("max").or_else(|| d.max.clone()),
            merchant,
            private,
            pin,
            txkey: txkey.as_bytes().to_vec(),
        });
    }
    if !errors.is_empty() {
        return Err(usage(format!(
            "{src}: {} bad row{} (no card was touched):\n  {}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            errors.join("\n  ")
        )));
    }
    if rows.is_empty() {
        return Err(usage(format!("{src}: no rows after the header line")));
    }
    Ok((rows, has_pin, col.contains_key("txkey")))
}

/// The line number (from 1) of a record at `pos` in `text`. The csv crate places a record that
/// follows comment or empty lines at the first of them, so those are skipped here.
fn line_of(text: &str, pos: Option<&csv::Position>) -> u64 {
    let mut b = pos.map(|p| p.byte() as usize).unwrap_or(0).min(text.len());
    let mut line = 1 + text.as_bytes()[..b].iter().filter(|&&c| c == b'\n').count() as u64;
    while let Some(rest) = text.get(b..) {
        let l = rest.split('\n').next().unwrap_or("");
        if !(l.starts_with('#') || l.trim().is_empty()) || l.len() == rest.len() {
            break;
        }
        b += l.len() + 1;
        line += 1;
    }
    line
}

/// The csv crate's error without its own position prefix (we print `line N:`).
fn csv_error_text(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields, the header line has {expected_len}"),
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".into(),
        _ => e.to_string(),
    }
}

/// The register of issued cards (`--out`): ref -> account, read at start, appended per card.
struct Register {
    path: PathBuf,
    issued: HashMap<String, String>,
}

impl Register {
    fn load(path: &Path) -> anyhow::Result<Self> {
        let mut issued = HashMap::new();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let mut rd = csv::ReaderBuilder::new().from_reader(text.as_bytes());
                let h: Vec<String> = rd
                    .headers()
                    .map_err(|e| usage(format!("--out {}: {e}", path.display())))?
                    .iter()
                    .map(str::to_string)
                    .collect();
                let (Some(ri), Some(ai)) = (
                    h.iter().position(|c| c == "ref"),
                    h.iter().position(|c| c == "account"),
                ) else {
                    return Err(usage(format!(
                        "--out {}: not a batch register (its first line must name the columns {})",
                        path.display(),
                        REGISTER_HEADER.join(",")
                    )));
                };
                for rec in rd.records() {
                    let rec = rec.map_err(|e| {
                        usage(format!(
                            "--out {} line {}: {}",
                            path.display(),
                            line_of(&text, e.position()),
                            csv_error_text(&e)
                        ))
                    })?;
                    let (r, a) = (rec.get(ri).unwrap_or(""), rec.get(ai).unwrap_or(""));
                    issued.insert(r.to_string(), a.to_string());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => bail!("--out {}: {e}", path.display()),
        }
        Ok(Register {
            path: path.to_path_buf(),
            issued,
        })
    }

    /// Append one card and make it durable before the next card is touched.
    fn append(&mut self, fields: &[String]) -> anyhow::Result<()> {
        append_csv(&self.path, REGISTER_HEADER, fields, false)
            .with_context(|| format!("--out {}", self.path.display()))?;
        if let (Some(r), Some(a)) = (fields.first(), fields.get(1)) {
            self.issued.insert(r.clone(), a.clone());
        }
        Ok(())
    }
}

/// Append a CSV record to `path` (the header first when the file is new or empty), fsynced.
/// `secret`: the file is created readable by its owner only.
fn append_csv(path: &Path, header: &[&str], fields: &[String], secret: bool) -> anyhow::Result<()> {
    let mut oo = std::fs::OpenOptions::new();
    oo.create(true).append(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt as _;
        oo.mode(0o600);
    }
    let f = oo.open(path)?;
    let empty = f.metadata()?.len() == 0;
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(f);
    if empty {
        w.write_record(header)?;
    }
    w.write_record(fields)?;
    w.flush()?;
    let f = w
        .into_inner()
        .map_err(|e| anyhow::anyhow!("{}", e.error()))?;
    f.sync_data()?;
    Ok(())
}

/// A random PIN of `digits` decimal digits from the OS random generator (uniform per digit).
fn generate_pin(digits: u8) -> anyhow::Result<Vec<u8>> {
    let mut pin = Vec::with_capacity(digits as usize);
    while pin.len() < digits as usize {
        let mut b = [0u8; 16];
        getrandom::getrandom(&mut b).map_err(|e| anyhow::anyhow!("random generator: {e}"))?;
        // 250 = 25 * 10: rejecting 250..255 keeps every digit equally likely
        pin.extend(
            b.iter()
                .filter(|&&x| x < 250)
                .map(|&x| b'0' + x % 10)
                .take(digits as usize - pin.len()),
        );
    }
    Ok(pin)
}

/// Ctrl-C asks the batch to stop after the card in progress; a second one exits at once (130).
fn catch_ctrl_c() -> anyhow::Result<Arc<AtomicBool>> {
    use signal_hook::consts::SIGINT;
    let flag = Arc::new(AtomicBool::new(false));
    // the order matters: the conditional exit fires only once the flag is already set
    signal_hook::flag::register_conditional_shutdown(SIGINT, 130, flag.clone())
        .context("catching Ctrl-C")?;
    signal_hook::flag::register(SIGINT, flag.clone()).context("catching Ctrl-C")?;
    Ok(flag)
}

/// Where the batch reports: JSON lines on stdout, or a progress bar with lines above it.
struct Report {
    json: bool,
    bar: Option<indicatif::ProgressBar>,
    start: Instant,
    /// When waiting for the current card began (after the previous card was issued).
    mark: Instant,
    issued: u64,
    total: u64,
    /// Time from the first wait to the last issued card.
    busy: Duration,
}

fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h {:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

impl Report {
    fn new(json: bool, total: u64) -> Self {
        let bar = (!json).then(|| {
            let pb = indicatif::ProgressBar::with_draw_target(
                Some(total),
                indicatif::ProgressDrawTarget::stdout(),
            );
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:20}] {pos}/{len} {prefix} {wide_msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
            pb.set_style(style);
            pb.enable_steady_tick(Duration::from_millis(200));
            pb
        });
        let now = Instant::now();
        Report {
            json,
            bar,
            start: now,
            mark: now,
            issued: 0,
            total,
            busy: Duration::ZERO,
        }
    }

    /// One JSON line (`schema_version`, `event`, then `fields`), or a printed line.
    fn event(&self, event: &str, fields: Value, text: impl FnOnce() -> String) {
        if self.json {
            let mut v = json!({ "schema_version": SCHEMA_VERSION, "event": event });
            if let (Some(m), Value::Object(f)) = (v.as_object_mut(), fields) {
                m.extend(f);
            }
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{v}");
            let _ = out.flush();
        } else if let Some(pb) = &self.bar {
            let t = text();
            if !t.is_empty() {
                pb.println(t);
            }
        }
    }

    /// Measured time per card so far (the operator's insertions included), if any card is done.
    fn per_card(&self) -> Option<Duration> {
        (self.issued > 0).then(|| self.busy / self.issued as u32)
    }

    /// Remaining time: measured time per card times the cards left, less the time the current
    /// card has taken so far (but never less than the cards after it).
    fn eta(&self) -> Option<Duration> {
        let per = self.per_card()?;
        let left = (self.total - self.issued) as u32;
        let since = self.mark.elapsed();
        Some(
            (per * left)
                .saturating_sub(since)
                .max(per * left.saturating_sub(1)),
        )
    }

    fn prompt(&self, what: &str) {
        if let Some(pb) = &self.bar {
            pb.set_prefix(match (self.per_card(), self.eta()) {
                // "+": the current card already took longer than the measured average
                (Some(p), Some(e)) => format!(
                    "ETA {}{} ({}/card)",
                    human_duration(e),
                    if self.mark.elapsed() > p { "+" } else { "" },
                    human_duration(p)
                ),
                _ => "ETA after the first card".into(),
            });
            pb.set_message(what.to_string());
        }
    }

    /// A note for the operator on stderr (above the progress bar on a terminal).
    fn note(&self, text: &str) {
        match &self.bar {
            Some(pb) => pb.suspend(|| eprintln!("purse: note: {text}")),
            None => eprintln!("purse: note: {text}"),
        }
    }

    fn card_done(&mut self) -> Duration {
        let took = self.mark.elapsed();
        self.issued += 1;
        self.busy = self.start.elapsed();
        self.mark = Instant::now();
        if let Some(pb) = &self.bar {
            pb.set_position(self.issued);
        }
        took
    }

    fn finish(&self) {
        if let Some(pb) = &self.bar {
            pb.finish_and_clear();
        }
    }
}

/// Is `e` "the card in `reader` went away" (pulled, power lost)?
fn lost_in(e: &CardError, reader: &str) -> bool {
    match e {
        CardError::Transport(purse::Error::CardLost(r))
        | CardError::Transport(purse::Error::NoCard(r)) => r == reader || r.contains(reader),
        _ => false,
    }
}

/// The first and last valid account of `a`'s 8-digit block (what `purse admin range` takes).
fn needs_range(issuer: Role, role: Role, a: &Account) -> Option<(Account, Account)> {
    (issuer == Role::Admin && role != Role::Admin).then(|| super::issue::block_range(a))
}

/// `purse issue --batch FILE.csv --out REGISTER.csv`.
pub fn run(cli: &Cli, a: &IssueArgs, batch: &Path) -> anyhow::Result<i32> {
    let json = cli.json || !std::io::stdout().is_terminal();
    if json {
        super::report::json_lines();
    }
    let src = batch.display().to_string();
    let Some(out) = &a.out else {
        return Err(usage(
            "--batch needs --out REGISTER.csv: the register of issued cards, which also makes a rerun skip rows already issued",
        ));
    };
    if a.name.is_some() {
        return Err(usage(
            "--name is per row in a batch (the CSV's name column)",
        ));
    }
    let text = if src == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the batch from stdin")?;
        s
    } else {
        std::fs::read_to_string(batch).map_err(|e| usage(format!("--batch {src}: {e}")))?
    };
    let defaults = Defaults {
        role: a.role.map(|r| r.role()).unwrap_or(Role::User),
        min: a.min.clone(),
        max: a.max.clone(),
        merchant: a.merchant,
        private: a.private,
    };
    let (rows, pins_in_csv, txkeys_in_csv) = parse_rows(&text, &src, &defaults)?;
    if !(4..=8).contains(&a.pin_digits) {
        return Err(usage("--pin-digits: 4 to 8"));
    }
    if !pins_in_csv && a.pins.is_none() {
        return Err(usage(
            "the CSV has no pin column, so the PINs are generated: give --pins FILE to write them to (readable by you only; for the PIN mailers)",
        ));
    }
    if pins_in_csv && a.pins.is_some() {
        return Err(usage(
            "the CSV has a pin column: --pins (generated PINs) does not apply",
        ));
    }
    if pins_in_csv || txkeys_in_csv {
        eprintln!(
            "purse: WARNING: {src} holds the cards' {} in clear: keep it from other users and destroy it once the cards are handed out",
            if pins_in_csv { "PINs" } else { "transaction keys" }
        );
    }
    // the register must not be the CSV or the PIN file (appending to either would corrupt it)
    let same = |x: &Path, y: &Path| match (x.canonicalize(), y.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => x == y,
    };
    if src != "-" && same(out, batch) {
        return Err(usage(
            "--out names the batch CSV itself: give the register its own file",
        ));
    }
    if let Some(p) = &a.pins {
        if same(p, out) || (src != "-" && same(p, batch)) {
            return Err(usage(
                "--pins must be a file of its own (not --out, not the batch CSV)",
            ));
        }
    }
    let mut register = Register::load(out)?;
    let tk_arg = given_tk(&a.transport_key)?;
    if tk_arg.is_none() && !a.dev {
        return Err(usage("give the blank cards' transport key (--transport-key HEX or PURSE_TRANSPORT_KEY), or --dev for the development default"));
    }
    if let Some(k) = &tk_arg {
        if crypto::is_dev_transport_key(k) && !a.dev {
            return Err(usage(
                "that is the development transport key: refused without --dev",
            ));
        }
    }
    let date = match &a.date {
        Some(d) => types::parse_date(d).map_err(|e| usage(format!("--date: {e}")))?,
        None => types::today(),
    };
    if a.bad_key_limit == 0 {
        return Err(usage("--bad-key-limit: 1 to 255"));
    }

    if a.dev {
        dev_warning();
    }
    let todo: Vec<usize> = (0..rows.len())
        .filter(|&i| !register.issued.contains_key(&rows[i].reference))
        .collect();
    let skipped = rows.len() - todo.len();

    // the issuer: all amounts and roles checked against it before the first blank card
    let pcsc = Pcsc::establish()?;
    let ir = purse::card::select_reader(&pcsc, Some(&a.issuer))?;
    let mut issuer =
        PurseCard::open_exclusive(&pcsc, &ir).with_context(|| format!("issuer card in {ir}"))?;
    let ist = issuer.get_status()?;
    if ist.life != Life::Active {
        bail!("the card in {ir} is not personalised: run `purse genesis` on it first");
    }
    let dec = ist.currency.decimals;
    let mut params: Vec<Option<IssueParams>> = Vec::with_capacity(rows.len());
    let mut errors = Vec::new();
    for r in &rows {
        if register.issued.contains_key(&r.reference) {
            params.push(None);
            continue;
        }
        if !may_issue(ist.role, r.role) {
            errors.push(format!(
                "line {}: a {} card cannot issue a {} card",
                r.line,
                ist.role.name(),
                r.role.name()
            ));
        }
        let amt = |v: &Option<String>, what: &str| -> Result<u32, String> {
            match v {
                None => Ok(u32::MAX),
                Some(s) => types::parse_amount(s, dec).map_err(|e| format!("{what}: {e}")),
            }
        };
        match (amt(&r.min, "min"), amt(&r.max, "max")) {
            (Ok(min_trans), Ok(max_trans)) if min_trans <= max_trans => {
                params.push(Some(IssueParams {
                    tk: Vec::new(),
                    role: r.role,
                    flags: if r.merchant { consts::FLAG_MERCHANT } else { 0 }
                        | if r.private { consts::FLAG_PRIVATE } else { 0 },
                    // checked by parse_rows
                    name: types::encode_name(&r.name).unwrap_or([b' '; 8]),
                    min_trans,
                    max_trans,
                    date,
                    bad_key_limit: a.bad_key_limit,
                    pin: Vec::new(),
                    txkey: r.txkey.clone(),
                }));
            }
            (Ok(_), Ok(_)) => {
                errors.push(format!("line {}: min must not exceed max", r.line));
                params.push(None);
            }
            (Err(e), _) | (_, Err(e)) => {
                errors.push(format!("line {}: {e}", r.line));
                params.push(None);
            }
        }
    }
    if !errors.is_empty() {
        return Err(usage(format!(
            "{src}: {} bad row{} for the card in {ir} (no blank card was touched):\n  {}",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" },
            errors.join("\n  ")
        )));
    }
    let readers: Vec<String> = match &a.card {
        Some(to) => {
            let r = purse::card::select_reader(&pcsc, Some(to))?;
            if r == ir {
                return Err(usage(format!(
                    "--from and --to name the same reader ({ir})"
                )));
            }
            vec![r]
        }
        None => pcsc
            .reader_names()?
            .into_iter()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| *n != ir)
            .collect(),
    };
    if readers.is_empty() {
        return Err(anyhow::Error::new(purse::Error::NoReader(format!(
            " besides the issuer's ({ir}) for the blank cards"
        ))));
    }
    // secrets once, and the issuer's PIN checked now rather than at the first card
    // (typed before the progress bar starts drawing)
    let issuer_pin = if todo.is_empty() {
        Vec::new()
    } else {
        super::common::current(SecretRef::Pin).context("the issuing card's PIN")?
    };
    let approval = if ist.role == Role::Center && !todo.is_empty() {
        Some(super::common::current(SecretRef::Approval)?)
    } else {
        None
    };
    if !todo.is_empty() {
        issuer
            .verify(SecretRef::Pin, &issuer_pin)
            .context("the issuing card's PIN")?;
    }
    // the progress bar (on a terminal) from here on, once nothing can fail before the first wait
    let mut rep = Report::new(json, todo.len() as u64);
    rep.event(
        "start",
        json!({
            "file": src,
            "register": out.display().to_string(),
            "rows": rows.len(),
            "to_issue": todo.len(),
            "already_issued": skipped,
            "issuer": { "reader": ir, "account": ist.account, "name": ist.name, "role": ist.role.name() },
            "readers": readers,
            "pins": if pins_in_csv { "csv".to_string() } else { a.pins.as_ref().map(|p| p.display().to_string()).unwrap_or_default() },
        }),
        || {
            format!(
                "batch {src}: {} rows, {} to issue, {skipped} already in {}; issuer {} {:?} in {ir}",
                rows.len(),
                todo.len(),
                out.display(),
                ist.role.name(),
                ist.name
            )
        },
    );
    for r in &rows {
        if let Some(acc) = register.issued.get(&r.reference) {
            rep.event(
                "skipped",
                json!({ "line": r.line, "ref": r.reference, "name": r.name, "account": acc, "reason": "already in the register" }),
                || format!("line {}: {:?} skipped: already issued as account {acc}", r.line, r.name),
            );
        }
    }
    let mut pending: VecDeque<usize> = todo.iter().copied().collect();
    let mut counts = (0u64, 0u64, 0u64); // issued, refused, errors
    let mut ranges: Vec<(Account, Account)> = Vec::new();
    let summary = |rep: &Report,
                   counts: (u64, u64, u64),
                   left: usize,
                   ranges: &[(Account, Account)],
                   end: &str| {
        rep.event(
            "summary",
            json!({
                "rows": rows.len(),
                "issued": counts.0,
                "skipped": skipped,
                "refused": counts.1,
                "errors": counts.2,
                "remaining": left,
                "complete": left == 0,
                "end": end,
                "seconds": rep.start.elapsed().as_secs_f64(),
                "seconds_per_card": rep.per_card().map(|d| d.as_secs_f64()),
                "needs_range": ranges.iter().map(|(l, h)| json!({ "low": l.to_string(), "high": h.to_string() })).collect::<Vec<_>>(),
            }),
            || {
                format!(
                    "{end}: {} issued, {skipped} skipped (already issued), {} refused cards, {} errors, {left} left{}",
                    counts.0,
                    counts.1,
                    counts.2,
                    rep.per_card()
                        .map(|p| format!("; {} per card", human_duration(p)))
                        .unwrap_or_default()
                )
            },
        );
        rep.finish();
    };
    if pending.is_empty() {
        summary(&rep, counts, 0, &ranges, "done");
        return Ok(super::EXIT_OK);
    }

    let stop = catch_ctrl_c()?;
    let mut watch = CardWatch::new(&pcsc, &readers)?;
    let timeout = a.timeout.filter(|&s| s > 0).map(Duration::from_secs);
    let where_ = if readers.len() == 1 {
        readers[0].clone()
    } else {
        "a reader".into()
    };
    // a generated PIN is kept for its row across retries (the same PIN if the card is re-tried)
    let mut gen_pins: HashMap<usize, Vec<u8>> = HashMap::new();
    rep.mark = Instant::now();
    while let Some(&ri) = pending.front() {
        let row = &rows[ri];
        rep.event(
            "waiting",
            json!({ "line": row.line, "ref": row.reference, "name": row.name, "readers": readers }),
            String::new,
        );
        let what = format!(
            "insert a blank card into {where_}: line {} {:?}",
            row.line, row.name
        );
        let reader = {
            let mut keep_going = || {
                rep.prompt(&what);
                !stop.load(Ordering::SeqCst)
            };
            match watch.next_card(timeout, &mut keep_going) {
                Ok(Some(r)) => r,
                Ok(None) => {
                    summary(&rep, counts, pending.len(), &ranges, "interrupted");
                    bail!(
                        "interrupted: {} rows not issued; run the same command again to issue them",
                        pending.len()
                    );
                }
                Err(purse::Error::Timeout(_)) => {
                    summary(&rep, counts, pending.len(), &ranges, "timeout");
                    return Err(anyhow::Error::new(purse::Error::NoCard(where_.clone())).context(format!(
                        "no blank card inserted within {} s for line {}; {} rows not issued (run the same command again to go on)",
                        timeout.unwrap_or_default().as_secs(),
                        row.line,
                        pending.len()
                    )));
                }
                Err(e) => {
                    summary(&rep, counts, pending.len(), &ranges, "error");
                    return Err(e.into());
                }
            }
        };
        rep.prompt(&format!(
            "issuing line {} ({:?}) in {reader}",
            row.line, row.name
        ));
        let refuse = |rep: &Report, reason: String, card: Value| {
            rep.event(
                "refused",
                json!({ "reader": reader, "line": row.line, "reason": reason, "card": card }),
                || format!("card in {reader} refused: {reason}: remove it and insert a blank card"),
            );
        };
        let mut blank = match PurseCard::open_exclusive(&pcsc, &reader) {
            Ok(c) => c,
            Err(e) if lost_in(&e, &reader) => {
                counts.2 += 1;
                rep.event(
                    "error",
                    json!({ "reader": reader, "line": row.line, "ref": row.reference, "error": format!("{e}"), "retry": true }),
                    || format!("line {}: the card in {reader} went away before it was touched: insert it again", row.line),
                );
                continue;
            }
            Err(e) => {
                counts.1 += 1;
                refuse(&rep, format!("{e}"), Value::Null);
                continue;
            }
        };
        let Some(sel) = blank.selected else {
            counts.1 += 1;
            refuse(&rep, "no answer to SELECT".into(), Value::Null);
            continue;
        };
        if sel.life != Life::Blank {
            counts.1 += 1;
            let (reason, card) = match blank.get_status() {
                Ok(st) => (
                    format!(
                        "not a blank card: already issued ({} {:?}, account {}, {})",
                        st.role.name(),
                        st.name,
                        st.account,
                        st.life.name()
                    ),
                    json!({ "life": st.life.name(), "role": st.role.name(), "name": st.name, "account": st.account }),
                ),
                Err(e) => (
                    format!("not a blank card ({}): {e}", sel.life.name()),
                    json!({ "life": sel.life.name() }),
                ),
            };
            refuse(&rep, reason, card);
            continue;
        }
        let tk = match &tk_arg {
            Some(k) => k.clone(),
            None => match crypto::dev_transport_key(sel.suite) {
                Some(k) => k.to_vec(),
                None => {
                    counts.1 += 1;
                    refuse(
                        &rep,
                        format!("unknown transport suite {:?}", sel.suite),
                        Value::Null,
                    );
                    continue;
                }
            },
        };
        let pin = match &row.pin {
            Some(p) => p.clone(),
            None => match gen_pins.get(&ri) {
                Some(p) => p.clone(),
                None => {
                    let p = generate_pin(a.pin_digits)?;
                    gen_pins.insert(ri, p.clone());
                    p
                }
            },
        };
        let Some(base) = &params[ri] else {
            bail!("internal: no parameters for line {}", row.line);
        };
        let p = IssueParams {
            tk,
            pin: pin.clone(),
            ..base.clone()
        };
        match issue_steps(
            &mut issuer,
            &mut blank,
            &issuer_pin,
            approval.as_deref(),
            &p,
        ) {
            Ok(r) => {
                let account = r.account.to_string();
                if let (None, Some(pins)) = (&row.pin, &a.pins) {
                    let fields = [
                        row.reference.clone(),
                        account.clone(),
                        row.name.clone(),
                        String::from_utf8_lossy(&pin).into_owned(),
                    ];
                    if let Err(e) =
                        append_csv(pins, &["ref", "account", "name", "pin"], &fields, true)
                    {
                        summary(&rep, counts, pending.len(), &ranges, "error");
                        bail!(
                            "line {}: issued as account {account}, but its PIN could not be written to --pins {}: {e:#}; \
                             the card is not in the register yet: unblock it at the branch (`purse sync --unblock-pin`) to give it a PIN, \
                             then add it to {} by hand or list it as lost",
                            row.line,
                            pins.display(),
                            out.display()
                        );
                    }
                }
                let fields = [
                    row.reference.clone(),
                    account.clone(),
                    row.name.clone(),
                    row.role.name(),
                    row.line.to_string(),
                    ist.account.to_string(),
                    types::format_date(date),
                ];
                if let Err(e) = register.append(&fields) {
                    summary(&rep, counts, pending.len(), &ranges, "error");
                    return Err(e.context(format!(
                        "line {}: issued as account {account}, but the register could not be written: add it by hand before running the batch again",
                        row.line
                    )));
                }
                let range = needs_range(ist.role, row.role, &r.account);
                if let Some(rg) = range {
                    if !ranges.contains(&rg) {
                        rep.note(&format!(
                            "the accounts of this batch are in the admin card's own block, which no bank card serves yet: \
                             before they can sync, give the bank card that will sync them that range: \
                             `purse admin range --from ADMIN --to BANK {} {}`",
                            rg.0, rg.1
                        ));
                        ranges.push(rg);
                    }
                }
                pending.pop_front();
                counts.0 += 1;
                let took = rep.card_done();
                rep.event(
                    "issued",
                    json!({
                        "line": row.line,
                        "ref": row.reference,
                        "name": r.card.name,
                        "role": r.card.role.name(),
                        "account": account,
                        "reader": reader,
                        "min": types::format_amount(r.card.min_trans, dec),
                        "max": if r.card.max_trans == u32::MAX { "unlimited".to_string() } else { types::format_amount(r.card.max_trans, dec) },
                        "merchant": r.card.merchant(),
                        "private": r.card.flags & consts::FLAG_PRIVATE != 0,
                        "pin": if row.pin.is_some() { "csv" } else { "generated" },
                        "seconds": took.as_secs_f64(),
                        "needs_range": range.map(|(l, h)| json!({ "low": l.to_string(), "high": h.to_string() })),
                    }),
                    || {
                        format!(
                            "line {}: issued {} card {:?}, account {account} ({}); remove it from {reader}",
                            row.line,
                            r.card.role.name(),
                            r.card.name,
                            human_duration(took)
                        )
                    },
                );
                if stop.load(Ordering::SeqCst) && !pending.is_empty() {
                    summary(&rep, counts, pending.len(), &ranges, "interrupted");
                    bail!(
                        "interrupted: {} rows not issued; run the same command again to issue them",
                        pending.len()
                    );
                }
            }
            Err(f) if lost_in(&f.error, &reader) => {
                counts.2 += 1;
                let msg = match f.step {
                    s if s >= IssueStep::Personalise => format!(
                        "the card in {reader} went away while it was being personalised; it personalises in one \
                         transaction, so it is either still blank (insert it again: line {} is retried) or fully issued \
                         (then it is refused as not blank: put it aside); one account number was skipped",
                        row.line
                    ),
                    _ => format!(
                        "the card in {reader} went away during issuance, before anything was written to it: \
                         insert it again (line {} is retried)",
                        row.line
                    ),
                };
                rep.event(
                    "error",
                    json!({
                        "reader": reader, "line": row.line, "ref": row.reference, "step": f.step,
                        "error": msg, "cause": f.error.to_string(), "account_skipped": f.account_skipped(), "retry": true,
                    }),
                    || format!("line {}: {msg}", row.line),
                );
            }
            Err(f) if f.on_blank() => {
                // the blank card refused (transport key unknown or blocked): the row waits
                counts.1 += 1;
                refuse(&rep, format!("{}", f.error), Value::Null);
            }
            Err(f) => {
                counts.2 += 1;
                rep.event(
                    "error",
                    json!({ "reader": reader, "line": row.line, "ref": row.reference, "step": f.step, "error": format!("{}", f.error), "retry": false }),
                    || format!("line {}: {}", row.line, f.error),
                );
                summary(&rep, counts, pending.len(), &ranges, "error");
                return Err(anyhow::Error::new(f.error).context(format!(
                    "line {} ({:?}), card in {reader}",
                    row.line, row.name
                )));
            }
        }
    }
    summary(&rep, counts, 0, &ranges, "done");
    Ok(super::EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_count_comments_and_blank_lines() {
        let text = "# c\nref,name\nx,A\n# c\n\ny,B\n";
        let mut rd = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        let lines: Vec<u64> = rd
            .records()
            .map(|r| line_of(text, r.expect("record").position()))
            .collect();
        assert_eq!(lines, [3, 6]);
    }

    #[test]
    fn generated_pins_are_digits() {
        for n in 4..=8u8 {
            let p = generate_pin(n).expect("pin");
            assert_eq!(p.len(), n as usize);
            assert!(p.iter().all(u8::is_ascii_digit));
        }
    }
}
