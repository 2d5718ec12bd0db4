//! Remote commands (docs/remote.md): `purse pay`, `purse receive`, `purse serve`,
//! `purse sync --connect`, `purse resume --connect/--listen`, `purse link id|bench`.
//! The link itself lives in the library (`purse::link`); here: options, prompts, output.
use std::io::{BufRead, IsTerminal, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Args, Subcommand};

use purse::card::PurseCard;
use purse::flows::resume::ResumeOptions;
use purse::flows::transfer::{RunOptions, Secrets, TransferError};
use purse::ledger::{self, Ledger};
use purse::link::msg::{CardHello, Msg, Op, Statement};
use purse::link::policy::{Policy, Role as PolicyRole};
use purse::link::remote::{select_answer, serve_card};
use purse::link::secure::Link;
use purse::link::service::{BankCard, Service, ServiceOptions};
use purse::link::{self, Fingerprint, Identity, LinkError};
use purse::proto::consts::{Role, SecretRef, SlotState};
use purse::proto::types::{format_amount, parse_amount, parse_date, today};
use purse::transport::{Connection, Pcsc};

use super::common::{open_card, secret as read_secret, ENV_PIN};
use super::{report, Cli};
use purse::error::Kind;

/// Options shared by every command that crosses the link.
#[derive(Args, Debug, Clone, Default)]
pub struct LinkOpts {
    /// Connect to a remote purse at HOST:PORT
    #[arg(long, value_name = "HOST:PORT")]
    pub connect: Option<String>,
    /// Listen on ADDR (e.g. 0.0.0.0:7410) for one remote purse
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// The other side's fingerprint, as `purse link id` shows it there; checked out of band
    /// (required with --connect; optional with --listen)
    #[arg(long, value_name = "FP")]
    pub peer_fingerprint: Option<String>,
    /// This side's link key file (default: $PURSE_LINK_KEY, else ~/.purse/link.key; created
    /// if missing)
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,
    /// Seconds to wait for each answer from the other side
    #[arg(long, value_name = "SECS", default_value_t = 20)]
    pub link_timeout: u64,
}

impl LinkOpts {
    fn identity(&self) -> anyhow::Result<Identity> {
        let path = self
            .identity
            .clone()
            .unwrap_or_else(link::default_identity_path);
        let (id, created) = Identity::load_or_create(&path)?;
        if created {
            eprintln!(
                "purse: created link key {} (fingerprint {})",
                path.display(),
                id.fingerprint()
            );
        }
        Ok(id)
    }
    fn pin(&self) -> anyhow::Result<Option<Fingerprint>> {
        self.peer_fingerprint
            .as_deref()
            .map(Fingerprint::parse)
            .transpose()
            .map_err(super::usage)
    }
    fn timeout(&self) -> Duration {
        Duration::from_secs(self.link_timeout.max(1))
    }
    /// Connect (the fingerprint is required: without it anyone on the path could answer).
    fn connect(&self) -> anyhow::Result<Link> {
        let addr = self
            .connect
            .as_deref()
            .ok_or_else(|| usage("--connect HOST:PORT is required"))?;
        let Some(pin) = self.pin()? else {
            return Err(usage(
                "--peer-fingerprint is required with --connect: ask the other side for the fingerprint `purse link id` shows there",
            ));
        };
        let id = self.identity()?;
        Ok(Link::connect(addr, &id, Some(&pin), self.timeout())?)
    }
    fn bind(&self) -> anyhow::Result<(TcpListener, Identity)> {
        let addr = self
            .listen
            .as_deref()
            .ok_or_else(|| usage("--listen ADDR is required"))?;
        let id = self.identity()?;
        let l = TcpListener::bind(addr).with_context(|| format!("listening on {addr}"))?;
        let local = l
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| addr.into());
        eprintln!("purse: listening on {local} as {}", id.fingerprint());
        Ok((l, id))
    }
}

fn usage(m: &str) -> anyhow::Error {
    super::usage(m)
}

fn own_card(cli: &Cli, pcsc: &Pcsc) -> anyhow::Result<PurseCard<Connection>> {
    open_card(pcsc, cli.reader.as_deref())
}

/// A card error with the reader named (the error keeps its kind).
fn at(reader: &str, e: purse::card::CardError) -> anyhow::Error {
    anyhow::Error::new(e).context(reader.to_string())
}

// ---------------------------------------------------------------- pay

#[derive(Args, Debug)]
pub struct PayArgs {
    /// Amount in the cards' currency, e.g. 12.50 (this holder's statement)
    pub amount: String,
    #[command(flatten)]
    pub link: LinkOpts,
    /// Do not ask this holder to confirm after seeing the payee (scripts). Secrets still come
    /// from PURSE_PIN, PURSE_TXKEY or a prompt.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Date written in both passbooks (YYYY-MM-DD; default: today, UTC)
    #[arg(long)]
    pub date: Option<String>,
    /// After a failure, do not try to finish the transfer over the same link
    #[arg(long)]
    pub no_resume: bool,
}

pub fn run_pay(cli: &Cli, a: &PayArgs) -> anyhow::Result<i32> {
    let date = match &a.date {
        Some(d) => parse_date(d)?,
        None => today(),
    };
    let pcsc = Pcsc::establish()?;
    let mut payer = own_card(cli, &pcsc)?;
    let st = payer.get_status().map_err(|e| at(&payer.reader, e))?;
    let amount = parse_amount(&a.amount, st.currency.decimals)?;
    let ours = Statement {
        kind: "pay".into(),
        amount,
        currency: st.currency.code(),
    };
    let mut link = a.link.connect()?;
    let yes = a.yes;
    let mut decide = |plan: &purse::flows::transfer::Plan| -> Result<Option<Secrets>, String> {
        let (p, q) = (&plan.payer, &plan.payee);
        if !yes {
            eprint!(
                "PAYER {} ({}): you PAY {} to {} ({}) over the link\n  type the amount to confirm (empty = cancel): ",
                p.name,
                p.account,
                plan.amount_str(),
                q.name,
                q.account
            );
            std::io::stderr().flush().ok();
            let mut line = String::new();
            let n = std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            if n == 0 {
                return Err(
                    "the payer's holder did not confirm (no input); scripts pass --yes".into(),
                );
            }
            match parse_amount(line.trim(), p.currency.decimals) {
                Ok(v) if v == plan.amount => {}
                _ => return Ok(None),
            }
        }
        let s = super::transfer::plan_secrets(plan).map_err(|e| e.to_string())?;
        Ok(Some(s))
    };
    let opts = RunOptions {
        auto_resume: !a.no_resume,
        expect_payee: None,
    };
    match link::pay::pay(&mut link, &mut payer, &ours, date, &mut decide, &opts) {
        Ok(r) => {
            if cli.json {
                super::print_json(&serde_json::json!({
                    "transfer": super::transfer::report_json(&r, st.currency.decimals)
                }))?;
            } else {
                let dec = st.currency.decimals;
                println!(
                    "paid {} from {} ({}) to {} ({}) over the link, transfer {}",
                    r.amount_str,
                    r.payer_name,
                    r.payer_account,
                    r.payee_name,
                    r.payee_account,
                    hex::encode_upper(r.tid)
                );
                println!(
                    "balance: {} {}",
                    format_amount(r.payer_balance, dec),
                    st.currency.code()
                );
            }
            Ok(super::EXIT_OK)
        }
        Err(link::pay::PayError::Transfer(e)) => {
            if matches!(
                e,
                TransferError::Card {
                    money: purse::flows::transfer::MoneyState::InFlight,
                    ..
                }
            ) {
                eprintln!("purse: over a link: the payee runs `purse resume --listen ADDR -r R`, this side `purse resume --connect ADDR --peer-fingerprint FP -r R` (or both cards at one desk: `purse resume R1 R2`)");
            }
            Err(e.into())
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------- receive

#[derive(Args, Debug)]
pub struct ReceiveArgs {
    /// The amount this holder expects (else typed on this terminal before listening)
    #[arg(long, value_name = "AMOUNT")]
    pub amount: Option<String>,
    #[command(flatten)]
    pub link: LinkOpts,
    /// Give up after the first connection, whatever it brings (else a connection that fails
    /// before the holders agree is reported and the next one is awaited)
    #[arg(long)]
    pub once: bool,
    /// Stop listening after this many seconds without a payment
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub wait: u64,
}

fn prompt_line(prompt: &str) -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        return Err(usage(&format!(
            "{prompt}: no terminal to type it on; pass it as an option"
        )));
    }
    eprint!("{prompt}: ");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_string())
}

/// Accept connections until `handle` says done (Some) or the time is up.
fn accept_loop<R>(
    l: &TcpListener,
    id: &Identity,
    lo: &LinkOpts,
    once: bool,
    wait: Duration,
    mut handle: impl FnMut(Link) -> Option<R>,
) -> anyhow::Result<Option<R>> {
    let pin = lo.pin()?;
    let deadline = Instant::now() + wait;
    l.set_nonblocking(true)?;
    loop {
        if Instant::now() >= deadline {
            return Ok(None);
        }
        let (stream, addr) = match l.accept() {
            Ok(x) => x,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        stream.set_nonblocking(false)?;
        match Link::accept(stream, id, pin.as_ref(), lo.timeout()) {
            Ok(link) => {
                eprintln!("purse: {addr} connected as {}", link.peer_fingerprint());
                if let Some(r) = handle(link) {
                    return Ok(Some(r));
                }
            }
            Err(e) => eprintln!("purse: {addr}: {e}"),
        }
        if once {
            return Ok(None);
        }
    }
}

pub fn run_receive(cli: &Cli, a: &ReceiveArgs) -> anyhow::Result<i32> {
    let pcsc = Pcsc::establish()?;
    let mut card = own_card(cli, &pcsc)?;
    let st = card.get_status().map_err(|e| at(&card.reader, e))?;
    let dec = st.currency.decimals;
    let text = match &a.amount {
        Some(s) => s.clone(),
        None => prompt_line(&format!(
            "PAYEE {} ({}): amount you expect to RECEIVE ({})",
            st.name,
            st.account,
            st.currency.code()
        ))?,
    };
    let amount = parse_amount(&text, dec)?;
    let ours = Statement {
        kind: "receive".into(),
        amount,
        currency: st.currency.code(),
    };
    let sel = select_answer(&mut card)?;
    let (l, id) = a.link.bind()?;
    let wait = Duration::from_secs(a.wait.max(1));
    let serve_wait = link::STATEMENT_TIMEOUT;
    let result = accept_loop(&l, &id, &a.link, a.once, wait, |mut link| {
        match link::pay::agree_receive(&mut link, &ours) {
            Ok(()) => {}
            // the holders disagreed: this connection was the payment attempt
            Err(e @ LinkError::Disagree(_)) => return Some(Err(e)),
            Err(e) => {
                eprintln!("purse: {e}; nothing was sent to the card");
                return None;
            }
        }
        Some(link::pay::serve_payee(
            &mut link, &mut card, &sel, amount, serve_wait,
        ))
    })?;
    // What our own card says, whatever the peer claimed.
    let after = card.get_status().map_err(|e| at(&card.reader, e))?;
    let pend = card.get_pending().map_err(|e| at(&card.reader, e))?;
    let credited = after.balance.wrapping_sub(st.balance);
    let half = pend.r#in.state != SlotState::None;
    let mut doc = serde_json::Map::new();
    report::amount(&mut doc, "credited", Some(credited), dec);
    report::amount(&mut doc, "balance", Some(after.balance), dec);
    doc.insert("currency".into(), serde_json::json!(st.currency.code()));
    doc.insert("unfinished".into(), serde_json::json!(half));
    doc.insert(
        "peer".into(),
        serde_json::json!(result
            .as_ref()
            .and_then(|r| r.as_ref().ok())
            .and_then(|s| s.done.as_ref())
            .map(|d| d.1.clone())),
    );
    if credited == amount && !half {
        if cli.json {
            super::print_json(&doc)?;
        } else {
            println!(
                "received {} {} on {} ({}); balance {} {}",
                format_amount(amount, dec),
                st.currency.code(),
                st.name,
                st.account,
                format_amount(after.balance, dec),
                st.currency.code()
            );
        }
        return Ok(super::EXIT_OK);
    }
    let err = match &result {
        Some(Err(e)) => Some(e),
        _ => None,
    };
    let mut r = match err {
        Some(e) => report::Report::of(e, e.to_string()),
        None => report::Report::new(Kind::Other, ""),
    };
    if half {
        r.kind = "other";
        r.exit = super::EXIT_ERROR;
        r.money_moved = Some(true);
        r.message = format!("{}the payment is unfinished: the value is held safely by the cards; finish it with the payer: `purse resume --listen ADDR -r R` here and `purse resume --connect ADDR --peer-fingerprint FP -r R` there (or both cards at one desk)", err.map(|e| format!("{e}\n")).unwrap_or_default());
    } else {
        let mut m = match (&result, err) {
            (None, _) => format!("no payment arrived within {} s\n", a.wait),
            (_, Some(e)) => format!("{e}\n"),
            _ => String::new(),
        };
        m.push_str(&format!(
            "nothing was credited to {} (balance {} {})",
            st.name,
            format_amount(after.balance, dec),
            st.currency.code()
        ));
        r.message = m;
        r.money_moved = Some(false);
    }
    report::print_failed_report(cli.json, &doc, r)
}

// ---------------------------------------------------------------- sync --connect

/// `purse sync --connect HOST:PORT --peer-fingerprint FP -r R`: this card synced by a bank's
/// service. The holder's PIN is verified here, on this card; the service never gets it.
pub fn run_sync_client(cli: &Cli, lo: &LinkOpts) -> anyhow::Result<i32> {
    let pcsc = Pcsc::establish()?;
    let mut card = own_card(cli, &pcsc)?;
    let st = card.get_status().map_err(|e| at(&card.reader, e))?;
    let sel = select_answer(&mut card)?;
    // FIG. 5 block 502: the proper cardholder still has the card
    let pin = read_secret(ENV_PIN, &format!("PIN of {} ({})", st.name, st.account))?;
    // a refused PIN keeps its CardError (exit code 4)
    card.verify(SecretRef::Pin, &pin)
        .map_err(anyhow::Error::new)?;
    let mut link = lo.connect()?;
    link.send(&Msg::Hello {
        op: Op::Sync,
        statement: None,
        card: Some(CardHello {
            role: st.role.code(),
            account: st.account.to_string(),
            name: st.name.clone(),
        }),
    })?;
    let quiet = cli.json;
    loop {
        match link.recv("waiting for the bank's service") {
            Ok(Msg::Queued { ahead }) => {
                if !quiet {
                    eprintln!("  .. waiting for a free bank card ({ahead} ahead)");
                }
            }
            Ok(Msg::Accept { .. }) => break,
            Ok(Msg::Decline { reason }) => {
                return Err(
                    LinkError::Refused(format!("the bank's service declined: {reason}")).into(),
                )
            }
            Ok(other) => {
                return Err(LinkError::Unexpected {
                    expected: "accept".into(),
                    got: other.name().into(),
                }
                .into())
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !quiet {
        eprintln!("  .. syncing with the bank");
    }
    let mut policy = Policy::new(PolicyRole::Synced);
    let served = serve_card(&mut link, &mut card, &sel, &mut policy, lo.timeout());
    let after = card.get_status().map_err(|e| at(&card.reader, e))?;
    let pend = card.get_pending().map_err(|e| at(&card.reader, e))?;
    let unfinished = pend.r#in.state == SlotState::Sync;
    let (ok, summary, rep, err) = match &served {
        Ok(s) => match &s.done {
            Some((ok, sum, rep)) => (*ok, sum.clone(), rep.clone(), None),
            None => (
                false,
                String::new(),
                serde_json::Value::Null,
                Some(report::Report::new(
                    Kind::Link,
                    "the service ended without a result",
                )),
            ),
        },
        Err(e) => (
            false,
            String::new(),
            serde_json::Value::Null,
            Some(report::Report::of(e, e.to_string())),
        ),
    };
    let ok = ok && !unfinished;
    let mut doc = serde_json::Map::new();
    doc.insert("summary".into(), serde_json::json!(summary));
    doc.insert("report".into(), rep);
    report::amount(
        &mut doc,
        "balance",
        Some(after.balance),
        after.currency.decimals,
    );
    doc.insert("unfinished".into(), serde_json::json!(unfinished));
    if ok {
        if cli.json {
            super::print_json(&doc)?;
        } else {
            println!("{summary}");
        }
        return Ok(super::EXIT_OK);
    }
    let mut r = err.unwrap_or_else(|| report::Report::new(Kind::Other, ""));
    let mut m: Vec<String> = [summary.clone(), r.message.clone()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    if unfinished {
        m.push("the sync is unfinished; the value is held safely by the cards: run `purse sync --connect` again (it finishes the interrupted sync first)".into());
        r.money_moved = Some(true);
    }
    if m.is_empty() {
        m.push("the sync did not complete".into());
    }
    r.message = m.join("\n");
    if r.exit == super::EXIT_OK || r.exit == super::EXIT_USAGE {
        r.exit = super::EXIT_ERROR;
    }
    report::print_failed_report(cli.json, &doc, r)
}

// ---------------------------------------------------------------- resume over a link

pub fn run_resume(cli: &Cli, lo: &LinkOpts, give_up: bool) -> anyhow::Result<i32> {
    if give_up {
        return Err(usage("--give-up is done with the one card at hand, without a link: `purse resume --give-up -r R`"));
    }
    let pcsc = Pcsc::establish()?;
    let mut card = own_card(cli, &pcsc)?;
    if lo.connect.is_some() {
        let mut link = lo.connect()?;
        let rep = link::pay::resume_over(&mut link, &mut card, &ResumeOptions::default());
        let rep = rep?;
        let doc = serde_json::json!({ "finished": rep.finished(), "report": rep });
        if !rep.finished() {
            if !cli.json {
                for act in &rep.actions {
                    println!("{}", act.describe());
                }
            }
            return report::print_failed_report(cli.json, &doc, super::resume::unfinished());
        }
        if cli.json {
            super::print_json(&doc)?;
        } else {
            super::resume::print_text(&rep);
        }
        return Ok(super::EXIT_OK);
    }
    let sel = select_answer(&mut card)?;
    let (l, id) = lo.bind()?;
    let r = accept_loop(&l, &id, lo, false, Duration::from_secs(600), |mut link| {
        match link::pay::serve_resume(&mut link, &mut card, &sel, lo.timeout()) {
            Ok(s) => Some(Ok(s)),
            Err(e @ (LinkError::Refused(_) | LinkError::Timeout { .. } | LinkError::Closed(_))) => {
                Some(Err(e))
            }
            Err(e) => {
                eprintln!("purse: {e}");
                None
            }
        }
    })?;
    match r {
        Some(Ok(s)) => {
            let (ok, summary) = s
                .done
                .map(|d| (d.0, d.1))
                .unwrap_or((false, "the peer ended without a result".into()));
            let doc = serde_json::json!({ "finished": ok, "summary": summary });
            if !ok {
                let mut r = super::resume::unfinished();
                r.message = format!("{summary}\n{}", r.message);
                return report::print_failed_report(cli.json, &doc, r);
            }
            if cli.json {
                super::print_json(&doc)?;
            } else {
                println!("{summary}");
            }
            Ok(super::EXIT_OK)
        }
        Some(Err(e)) => Err(e.into()),
        None => Err(LinkError::Timeout {
            what: "waiting for the other side to connect".into(),
            secs: 600,
        }
        .into()),
    }
}

// ---------------------------------------------------------------- serve

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Reader of a bank card to serve with (repeat for several; `-r R` counts as one more)
    #[arg(long = "bank", value_name = "R")]
    pub banks: Vec<String>,
    #[command(flatten)]
    pub link: LinkOpts,
    /// Ledger file (default: $PURSE_LEDGER, else ~/.purse/ledger.sqlite)
    #[arg(long, value_name = "FILE", env = "PURSE_LEDGER")]
    pub ledger: Option<PathBuf>,
    /// Do not collect passbooks (the syncs complete; the cards keep their passbooks)
    #[arg(long)]
    pub no_store: bool,
    /// Seconds a client may take to answer one command before its sync is abandoned and its
    /// bank card freed
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub client_timeout: u64,
    /// Stop after this many syncs (tests, benchmarks)
    #[arg(long, value_name = "N")]
    pub max_syncs: Option<u64>,
}

pub fn run_serve(cli: &Cli, a: &ServeArgs) -> anyhow::Result<i32> {
    let mut readers = a.banks.clone();
    if let Some(r) = &cli.reader {
        readers.push(r.clone());
    }
    if readers.is_empty() {
        return Err(usage(
            "give the readers of the bank cards: --bank R [--bank R2 ...]",
        ));
    }
    let pcsc = Pcsc::establish()?;
    let mut banks = Vec::new();
    for sel in &readers {
        let reader = pcsc.select_reader(Some(sel))?;
        // shared on purpose (docs/remote.md): the service holds its bank cards for hours and
        // other PC/SC readers of them (monitoring, the tests' checks) must not be locked out; a
        // reset by another program is survived by re-verifying the operator's PIN once
        let mut card = PurseCard::open(&pcsc, &reader).map_err(|e| at(&reader, e))?;
        let st = card.get_status().map_err(|e| at(&reader, e))?;
        if !matches!(st.role, Role::Center | Role::Region | Role::Branch) {
            return Err(usage(&format!(
                "{reader} holds a {} card; serve bank cards (center, region, branch)",
                st.role.name()
            )));
        }
        // the range the service serves: from the bank's SELECT answer, before any command
        let range = card.bank_files().ok().map(|f| (f.low, f.high));
        // the operator's PIN, once per bank card for the whole run
        let pin = read_secret(
            super::common::ENV_BANK_PIN,
            &format!("operator PIN of bank card {} ({})", st.name, reader),
        )?;
        card.verify(SecretRef::Pin, &pin)
            .map_err(|e| at(&reader, e))?;
        let ledger = if a.no_store {
            None
        } else {
            let path = a.ledger.clone().unwrap_or_else(ledger::default_path);
            Some(
                Ledger::open(&path)
                    .with_context(|| format!("opening ledger {}", path.display()))?,
            )
        };
        eprintln!(
            "purse: bank card {} ({}, {}) in {reader}",
            st.name,
            st.role.name(),
            st.account
        );
        banks.push(BankCard {
            card,
            status: st,
            range,
            ledger,
            operator_pin: Some(pin),
        });
    }
    let (l, id) = a.link.bind()?;
    let opts = ServiceOptions {
        client_timeout: Duration::from_secs(a.client_timeout.max(1)),
        max_syncs: a.max_syncs,
        store: !a.no_store,
        ..ServiceOptions::default()
    };
    let svc = Service::new(id, banks, opts);
    let t0 = Instant::now();
    let log: Arc<purse::link::service::Log> = Arc::new(|m: &str| eprintln!("purse serve: {m}"));
    svc.run(l, log)?;
    let s = &svc.stats;
    use std::sync::atomic::Ordering::SeqCst;
    let (ok, failed) = (s.syncs_ok.load(SeqCst), s.syncs_failed.load(SeqCst));
    let secs = t0.elapsed().as_secs_f64();
    if cli.json {
        super::print_json(&serde_json::json!({
            "syncs_ok": ok, "syncs_failed": failed,
            "turned_away": s.turned_away.load(SeqCst),
            "seconds": secs,
        }))?;
    } else {
        println!("served {ok} syncs ({failed} failed) in {secs:.1} s");
    }
    Ok(super::EXIT_OK)
}

// ---------------------------------------------------------------- link id / bench

#[derive(Subcommand, Debug)]
pub enum LinkCmd {
    /// Show this side's link fingerprint (creating the key if needed): read it to the other
    /// side, who passes it as --peer-fingerprint
    Id {
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
    /// Benchmark a sync service: N clients (separate `purse sync --connect` processes, one
    /// per reader) syncing ROUNDS times each; prints syncs per hour
    Bench(BenchArgs),
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Reader of one client card (repeat: one client process per reader)
    #[arg(long = "card", value_name = "R", required = true)]
    pub cards: Vec<String>,
    /// Syncs per client
    #[arg(long, default_value_t = 3)]
    pub rounds: u32,
    #[command(flatten)]
    pub link: LinkOpts,
}

pub fn run_link(cli: &Cli, c: &LinkCmd) -> anyhow::Result<i32> {
    match c {
        LinkCmd::Id { identity } => {
            let path = identity.clone().unwrap_or_else(link::default_identity_path);
            let (id, created) = Identity::load_or_create(&path)?;
            if cli.json {
                super::print_json(&serde_json::json!({
                    "fingerprint": id.fingerprint().to_string(),
                    "path": path.display().to_string(),
                    "created": created,
                }))?;
            } else {
                println!("{}", id.fingerprint());
                eprintln!(
                    "(key {}{})",
                    path.display(),
                    if created { ", just created" } else { "" }
                );
            }
            Ok(super::EXIT_OK)
        }
        LinkCmd::Bench(b) => run_bench(cli, b),
    }
}

fn run_bench(cli: &Cli, b: &BenchArgs) -> anyhow::Result<i32> {
    let connect = b
        .link
        .connect
        .clone()
        .ok_or_else(|| usage("--connect HOST:PORT is required"))?;
    let fp = b
        .link
        .peer_fingerprint
        .clone()
        .ok_or_else(|| usage("--peer-fingerprint is required"))?;
    let exe = std::env::current_exe()?;
    let t0 = Instant::now();
    let mut threads = Vec::new();
    for (i, r) in b.cards.iter().enumerate() {
        let (exe, connect, fp, r) = (exe.clone(), connect.clone(), fp.clone(), r.clone());
        let rounds = b.rounds;
        let desk = cli.desk.clone();
        let identity = b.link.identity.clone();
        threads.push(std::thread::spawn(move || {
            let mut ok = 0u32;
            let mut fail = 0u32;
            let mut millis = Vec::new();
            for _ in 0..rounds {
                let mut c = std::process::Command::new(&exe);
                if let Some(d) = &desk {
                    c.arg("--desk").arg(d);
                }
                c.args([
                    "--json",
                    "-r",
                    &r,
                    "sync",
                    "--connect",
                    &connect,
                    "--peer-fingerprint",
                    &fp,
                ]);
                if let Some(id) = &identity {
                    c.arg("--identity")
                        .arg(id.with_extension(format!("bench{i}")));
                }
                let t = Instant::now();
                match c.output() {
                    Ok(o) if o.status.success() => ok += 1,
                    _ => fail += 1,
                }
                millis.push(t.elapsed().as_millis() as u64);
            }
            (ok, fail, millis)
        }));
    }
    let mut ok = 0;
    let mut fail = 0;
    let mut all = Vec::new();
    for t in threads {
        let (o, f, m) = t
            .join()
            .map_err(|_| anyhow::anyhow!("a client thread panicked"))?;
        ok += o;
        fail += f;
        all.extend(m);
    }
    let secs = t0.elapsed().as_secs_f64();
    all.sort_unstable();
    let median = all.get(all.len() / 2).copied().unwrap_or(0);
    let per_hour = if secs > 0.0 {
        ok as f64 * 3600.0 / secs
    } else {
        0.0
    };
    let doc = serde_json::json!({
        "clients": b.cards.len(), "rounds": b.rounds, "syncs_ok": ok, "syncs_failed": fail,
        "seconds": secs, "syncs_per_hour": per_hour, "median_client_ms": median,
    });
    if cli.json && fail > 0 {
        let r = report::Report::new(Kind::Other, format!("{fail} of {} syncs failed", ok + fail));
        return report::print_failed_report(true, &doc, r);
    }
    if cli.json {
        super::print_json(&doc)?;
    } else {
        println!(
            "{} clients x {} rounds: {ok} syncs ok, {fail} failed in {secs:.1} s = {per_hour:.0} syncs/hour (median {median} ms per client sync, incl. process start)",
            b.cards.len(),
            b.rounds
        );
    }
    Ok(if fail == 0 {
        super::EXIT_OK
    } else {
        super::EXIT_ERROR
    })
}
