//! The bank's sync service (`purse serve`, MISSION F21 "dial up a host computer"): bank cards
//! in local readers, cardholders syncing from home over the link.
//!
//! One thread per client. A client introduces its card (role, account); it waits (told
//! `Queued` every few seconds) for a free bank card of the level above whose account range
//! covers it, then the service runs `flows::sync` with that bank card local and the client's
//! card as a [`RemoteCard`] — the same flow as a desk sync, so the passbook is stored in the
//! ledger before the bank card is asked to have it cleared. Every answer from the client has a
//! deadline ([`ServiceOptions::client_timeout`]): a client that vanishes frees its bank card
//! within that time, and its card keeps the interrupted sync for the next `purse sync` (which
//! finishes it first, protocol.md 12.11).
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::card::PurseCard;
use crate::flows::store::PassbookStore;
use crate::flows::sync::{self as fsync, SyncOptions};
use crate::ledger::Ledger;
use crate::proto::consts::{Role, SlotState};
use crate::proto::sync as ps;
use crate::proto::types::{Account, Status};
use crate::transport::Connection;

use super::msg::{CardHello, Msg, Op};
use super::remote::RemoteCard;
use super::secure::Link;
use super::{Identity, LinkError};

/// One bank card held by the service for its whole run (its operator PIN verified at start).
pub struct BankCard {
    pub card: PurseCard<Connection>,
    pub status: Status,
    /// VALID_ACCOUNT range (None if the bank files could not be read: serve any account).
    pub range: Option<(Account, Account)>,
    /// This bank card's ledger connection (one per card: syncs on different cards store
    /// concurrently; the ledger serialises its own transactions).
    pub ledger: Option<Ledger>,
    /// The operator's PIN, typed once at start. The card keeps it validated across syncs of
    /// this connection; if another application re-selected or reset the card meanwhile, the
    /// service verifies it again once (a wrong PIN takes the card out of service).
    pub operator_pin: Option<Vec<u8>>,
}

impl BankCard {
    /// Make sure the operator's PIN is validated on the bank card (one VERIFY-state APDU).
    pub fn ensure_operator(&mut self) -> Result<(), String> {
        use crate::card::VerifyState;
        use crate::proto::consts::SecretRef;
        let state = match self.card.verify_state(SecretRef::Pin) {
            Ok(s) => s,
            // another application may have selected something else: select ours again
            Err(_) => {
                self.card.select().map_err(|e| e.to_string())?;
                self.card
                    .verify_state(SecretRef::Pin)
                    .map_err(|e| e.to_string())?
            }
        };
        match state {
            VerifyState::Validated => Ok(()),
            VerifyState::Blocked => Err("the operator's PIN is blocked on this bank card".into()),
            VerifyState::NotValidated(_) => {
                let pin = self
                    .operator_pin
                    .take()
                    .ok_or("the operator's PIN is no longer validated on this bank card")?;
                match self.card.verify(SecretRef::Pin, &pin) {
                    Ok(()) => {
                        self.operator_pin = Some(pin);
                        Ok(())
                    }
                    // not kept: never try a refused PIN twice
                    Err(e) => Err(format!("the operator's PIN was refused: {e}")),
                }
            }
        }
    }
}

struct Slot {
    role: Role,
    range: Option<(Account, Account)>,
    name: String,
    /// Some while free.
    card: Option<BankCard>,
    /// The bank card holds an unfinished sync with this account (a client vanished between
    /// the bank's P6 and the card's answer): only that card can finish it, so only it is served.
    reserved_for: Option<Account>,
}

/// Options of the service.
#[derive(Clone, Debug)]
pub struct ServiceOptions {
    /// Deadline of every answer from a client (and of its handshake).
    pub client_timeout: Duration,
    /// How long a client may wait for a free bank card before it is told to retry later.
    pub queue_timeout: Duration,
    /// Most clients connected at once (more are turned away at once).
    pub max_clients: u32,
    /// Stop after this many syncs (tests, benchmarks); None = run until stopped.
    pub max_syncs: Option<u64>,
    /// Store passbooks (false = like `purse sync --no-store`).
    pub store: bool,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        ServiceOptions {
            client_timeout: Duration::from_secs(10),
            queue_timeout: Duration::from_secs(600),
            max_clients: 64,
            max_syncs: None,
            store: true,
        }
    }
}

/// Counters, shared with the caller (the CLI prints them).
#[derive(Debug, Default)]
pub struct Stats {
    pub syncs_ok: AtomicU64,
    pub syncs_failed: AtomicU64,
    pub turned_away: AtomicU64,
    pub busy_millis: AtomicU64,
    pub waiting: AtomicU32,
    pub connected: AtomicU32,
}

/// The running service.
pub struct Service {
    slots: Mutex<Vec<Slot>>,
    freed: Condvar,
    pub opts: ServiceOptions,
    pub stats: Stats,
    pub stop: AtomicBool,
    id: Identity,
}

/// A log line for the operator (the CLI prints them on stderr).
pub type Log = dyn Fn(&str) + Send + Sync;

impl Service {
    pub fn new(id: Identity, banks: Vec<BankCard>, opts: ServiceOptions) -> Arc<Service> {
        let slots = banks
            .into_iter()
            .map(|b| Slot {
                role: b.status.role,
                range: b.range,
                name: format!("{} ({})", b.status.name, b.status.account),
                card: Some(b),
                reserved_for: None,
            })
            .collect();
        Arc::new(Service {
            slots: Mutex::new(slots),
            freed: Condvar::new(),
            opts,
            stats: Stats::default(),
            stop: AtomicBool::new(false),
            id,
        })
    }

    /// Accept clients until [`Service::stop`] is set or `max_syncs` syncs were served.
    pub fn run(self: &Arc<Self>, listener: TcpListener, log: Arc<Log>) -> std::io::Result<()> {
        listener.set_nonblocking(true)?;
        let mut handles = Vec::new();
        loop {
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            if let Some(m) = self.opts.max_syncs {
                if self.stats.syncs_ok.load(Ordering::SeqCst)
                    + self.stats.syncs_failed.load(Ordering::SeqCst)
                    >= m
                {
                    break;
                }
            }
            match listener.accept() {
                Ok((stream, addr)) => {
                    let _ = stream.set_nonblocking(false);
                    if self.stats.connected.load(Ordering::SeqCst) >= self.opts.max_clients {
                        self.stats.turned_away.fetch_add(1, Ordering::SeqCst);
                        log(&format!(
                            "{addr}: turned away (already {} clients)",
                            self.opts.max_clients
                        ));
                        drop(stream);
                        continue;
                    }
                    self.stats.connected.fetch_add(1, Ordering::SeqCst);
                    let me = Arc::clone(self);
                    let log = Arc::clone(&log);
                    handles.push(std::thread::spawn(move || {
                        let r = me.client(stream, &*log);
                        if let Err(e) = r {
                            log(&format!("{addr}: {e}"));
                        }
                        me.stats.connected.fetch_sub(1, Ordering::SeqCst);
                    }));
                    handles.retain(|h| !h.is_finished());
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(e),
            }
        }
        for h in handles {
            let _ = h.join();
        }
        Ok(())
    }

    /// Take a free bank card able to sync `card` (role above it, range covering it), waiting
    /// and telling the client its place. `Ok(None)`: none will ever fit.
    fn checkout(
        &self,
        link: &mut Link,
        role: Role,
        account: Account,
    ) -> Result<Option<(usize, BankCard)>, LinkError> {
        let want = ps::bank_role_for(role);
        let fits = |s: &Slot| {
            Some(s.role) == want
                && s.range
                    .map(|(lo, hi)| account.0 >= lo.0 && account.0 <= hi.0)
                    .unwrap_or(true)
        };
        let deadline = Instant::now() + self.opts.queue_timeout;
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if !slots.iter().any(fits) {
            return Ok(None);
        }
        self.stats.waiting.fetch_add(1, Ordering::SeqCst);
        let r = loop {
            // a bank card holding this account's unfinished sync first, then any free one
            let pick = slots
                .iter()
                .position(|s| fits(s) && s.card.is_some() && s.reserved_for == Some(account))
                .or_else(|| {
                    slots
                        .iter()
                        .position(|s| fits(s) && s.card.is_some() && s.reserved_for.is_none())
                });
            if let Some(i) = pick {
                let c = slots[i].card.take().expect("checked is_some");
                break Ok(Some((i, c)));
            }
            if Instant::now() >= deadline {
                break Err(LinkError::Refused(format!(
                    "no bank card became free within {} s; try again later",
                    self.opts.queue_timeout.as_secs()
                )));
            }
            let ahead = self.stats.waiting.load(Ordering::SeqCst).saturating_sub(1);
            drop(slots);
            // tell the client it waits (also notices a client that went away)
            if let Err(e) = link.send(&Msg::Queued { ahead }) {
                self.stats.waiting.fetch_sub(1, Ordering::SeqCst);
                return Err(e);
            }
            slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            let (g, _) = self
                .freed
                .wait_timeout(slots, Duration::from_secs(2))
                .unwrap_or_else(|p| p.into_inner());
            slots = g;
        };
        self.stats.waiting.fetch_sub(1, Ordering::SeqCst);
        r
    }

    /// Take slot `i` out of service for good (its card was checked out and is dropped).
    fn retire(&self, i: usize) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots[i].role = Role::Other(0xFF);
        drop(slots);
        self.freed.notify_all();
    }

    fn checkin(&self, i: usize, mut bank: BankCard, log: &Log) {
        // if the bank card still holds a sync (client gone between P6 and its answer), only
        // that card can finish it: reserve the bank card for it
        let reserved = match bank.card.get_pending() {
            Ok(p) if p.out.state == SlotState::Sync => Some(p.out.account),
            _ => None,
        };
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(a) = reserved {
            log(&format!(
                "{}: holds an unfinished sync with {a}; reserved for that card until it syncs again",
                slots[i].name
            ));
        }
        slots[i].reserved_for = reserved;
        slots[i].card = Some(bank);
        drop(slots);
        self.freed.notify_all();
    }

    fn client(&self, stream: std::net::TcpStream, log: &Log) -> Result<(), LinkError> {
        let addr = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let mut link = Link::accept(stream, &self.id, None, self.opts.client_timeout)?;
        let hello = link.recv("waiting for the client's hello")?;
        let card = match hello {
            Msg::Hello {
                op: Op::Sync,
                card: Some(c),
                ..
            } => c,
            Msg::Hello { op, .. } => {
                let reason = format!("this is a bank's sync service; it does not do {op:?}");
                let _ = link.send(&Msg::Decline {
                    reason: reason.clone(),
                });
                return Err(LinkError::Refused(reason));
            }
            other => {
                return Err(LinkError::Unexpected {
                    expected: "hello".into(),
                    got: other.name().into(),
                })
            }
        };
        let CardHello {
            role,
            account,
            name,
        } = card;
        let role = Role::from_code(role);
        let account = match Account::parse(&account) {
            Ok(a) => a,
            Err(e) => {
                let reason = format!("bad account number: {e}");
                let _ = link.send(&Msg::Decline {
                    reason: reason.clone(),
                });
                return Err(LinkError::Refused(reason));
            }
        };
        let Some((i, mut bank)) = self.checkout(&mut link, role, account)? else {
            let reason = format!(
                "this service has no bank card that syncs a {} card of account {account}",
                role.name()
            );
            let _ = link.send(&Msg::Decline {
                reason: reason.clone(),
            });
            return Err(LinkError::Refused(reason));
        };
        if let Err(e) = bank.ensure_operator() {
            log(&format!("{}: out of service: {e}", bank.status.name));
            // keep it out of the pool: a bank card without its operator cannot sync anyone
            let reason = format!(
                "the bank card {} is out of service; try again later",
                bank.status.name
            );
            let _ = link.send(&Msg::Decline {
                reason: reason.clone(),
            });
            self.retire(i);
            return Err(LinkError::Refused(reason));
        }
        log(&format!(
            "{addr}: syncing {name} ({account}) with {}",
            bank.status.name
        ));
        let t0 = Instant::now();
        let accepted = link.send(&Msg::Accept { statement: None });
        let outcome = match accepted {
            Err(e) => Err(e.to_string()),
            Ok(()) => {
                let mut remote = PurseCard::new(RemoteCard::new(&mut link));
                remote.reader = format!("the remote card {name}");
                let opts = SyncOptions {
                    store: self.opts.store,
                    ..SyncOptions::default()
                };
                let r = remote.select().map_err(|e| e.to_string()).and_then(|_| {
                    fsync::sync(
                        &mut bank.card,
                        &mut remote,
                        bank.ledger.as_mut().map(|l| l as &mut dyn PassbookStore),
                        &opts,
                        &mut |_| {},
                    )
                    .map_err(|e| e.to_string())
                });
                let broken = remote.into_inner().broken.is_some();
                let (ok, summary, report) = match &r {
                    Ok(rep) => (
                        true,
                        rep.summary(),
                        serde_json::to_value(rep).unwrap_or_default(),
                    ),
                    Err(e) => (false, e.clone(), serde_json::Value::Null),
                };
                if !broken {
                    let _ = link.send(&Msg::Done {
                        ok,
                        summary,
                        report,
                    });
                }
                r.map(|_| ())
            }
        };
        self.stats
            .busy_millis
            .fetch_add(t0.elapsed().as_millis() as u64, Ordering::SeqCst);
        self.checkin(i, bank, log);
        match outcome {
            Ok(()) => {
                self.stats.syncs_ok.fetch_add(1, Ordering::SeqCst);
                log(&format!(
                    "{addr}: {name} ({account}) synced in {} ms",
                    t0.elapsed().as_millis()
                ));
                Ok(())
            }
            Err(e) => {
                self.stats.syncs_failed.fetch_add(1, Ordering::SeqCst);
                Err(LinkError::Refused(format!(
                    "sync of {name} ({account}) failed: {e}"
                )))
            }
        }
    }
}
