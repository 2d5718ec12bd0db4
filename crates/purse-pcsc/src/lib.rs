//! PC/SC transport (the PC/SC backend of purse_card's `CardIo`): bytes only. Lists readers (card presence + ATR), picks one by index or name
//! substring, and connects holding the card for a whole flow. Dropping a [`Connection`]
//! disconnects with `LeaveCard`, never resetting the card (a plain `pcsc::Card` drop would).
//!
//! Which pcscd we talk to is decided by pcsc-lite's client library from `PCSCLITE_CSOCK_NAME`
//! (read once per process, at the first PC/SC call); the CLI sets it before any call.
#![forbid(unsafe_code)]
use std::ffi::CString;
use std::time::{Duration, Instant};

use pcsc::{Card, Context, Disposition, Protocols, ReaderState, Scope, ShareMode, State};

use purse_card::error::{Error, Result};
pub use purse_card::transport::{CardIo, ReaderInfo, Readers};

/// The library error for a PC/SC failure: no reader and no card get their own variants; the
/// rest keep pcsc-lite's text, marked `unavailable` when the service, reader or card is gone.
pub fn pcsc_err(context: impl Into<String>, source: pcsc::Error) -> Error {
    match source {
        pcsc::Error::NoReadersAvailable => Error::NoReader(String::new()),
        pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard => Error::NoCard(context.into()),
        err => Error::Pcsc {
            context: context.into(),
            err: err.to_string(),
            unavailable: matches!(
                err,
                pcsc::Error::NoService | pcsc::Error::ServiceStopped | pcsc::Error::UnknownReader
            ),
        },
    }
}

/// A PC/SC context (one per process is plenty).
pub struct Pcsc {
    ctx: Context,
}

impl Pcsc {
    pub fn establish() -> Result<Self> {
        let ctx = Context::establish(Scope::User)
            .map_err(|e| pcsc_err("establish context (no pcscd running? start the system's, or a desk: `purse desk start`)", e))?;
        Ok(Pcsc { ctx })
    }

    /// Reader names; an empty list (not an error) when there are none.
    pub fn reader_names(&self) -> Result<Vec<CString>> {
        match self.ctx.list_readers_owned() {
            Ok(v) => Ok(v),
            Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
            Err(e) => Err(pcsc_err("list readers", e)),
        }
    }

    /// Every reader with card presence and ATR.
    pub fn readers(&self) -> Result<Vec<ReaderInfo>> {
        let names = self.reader_names()?;
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let mut states: Vec<ReaderState> = names
            .iter()
            .map(|n| ReaderState::new(n.clone(), State::UNAWARE))
            .collect();
        match self.ctx.get_status_change(Duration::ZERO, &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => return Err(pcsc_err("get reader status", e)),
        }
        Ok(states
            .iter()
            .enumerate()
            .map(|(index, st)| {
                let ev = st.event_state();
                let present = ev.contains(State::PRESENT) && !ev.contains(State::EMPTY);
                ReaderInfo {
                    index,
                    name: st.name().to_string_lossy().into_owned(),
                    card_present: present,
                    exclusive: ev.contains(State::EXCLUSIVE),
                    atr: if present && !st.atr().is_empty() {
                        Some(st.atr().to_vec())
                    } else {
                        None
                    },
                }
            })
            .collect())
    }

    /// Pick a reader: `sel` is an index (as listed by `purse readers`) or a case-insensitive name
    /// substring (an exact name always wins). Without `sel`: the only reader with a card in it.
    pub fn select_reader(&self, sel: Option<&str>) -> Result<String> {
        let readers = self.readers()?;
        if readers.is_empty() {
            return Err(Error::NoReader(String::new()));
        }
        let list = || {
            readers
                .iter()
                .map(|r| format!("{}: {}", r.index, r.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match sel {
            Some(s) => {
                if let Ok(i) = s.parse::<usize>() {
                    if let Some(r) = readers.get(i) {
                        return Ok(r.name.clone());
                    }
                }
                if let Some(r) = readers.iter().find(|r| r.name == s) {
                    return Ok(r.name.clone());
                }
                let low = s.to_lowercase();
                let hits: Vec<&ReaderInfo> = readers
                    .iter()
                    .filter(|r| r.name.to_lowercase().contains(&low))
                    .collect();
                match hits.len() {
                    0 => Err(Error::ReaderNotFound(s.into(), list())),
                    1 => Ok(hits[0].name.clone()),
                    _ => Err(Error::ReaderAmbiguous(
                        s.into(),
                        hits.iter()
                            .map(|r| r.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    )),
                }
            }
            None => {
                let with_card: Vec<&ReaderInfo> =
                    readers.iter().filter(|r| r.card_present).collect();
                match with_card.len() {
                    0 => Err(Error::NoCard(format!("any reader ({})", list()))),
                    1 => Ok(with_card[0].name.clone()),
                    _ => Err(Error::SeveralCards(
                        with_card
                            .iter()
                            .map(|r| r.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    )),
                }
            }
        }
    }

    /// Connect (shared mode, T=0 or T=1) and hold the card until the [`Connection`] is dropped.
    pub fn connect(&self, reader: &str) -> Result<Connection> {
        self.connect_mode(reader, ShareMode::Shared)
    }

    /// Connect exclusively: no other application can interleave commands during the flow.
    pub fn connect_exclusive(&self, reader: &str) -> Result<Connection> {
        self.connect_mode(reader, ShareMode::Exclusive)
    }

    fn connect_mode(&self, reader: &str, mode: ShareMode) -> Result<Connection> {
        let cname = CString::new(reader)
            .map_err(|_| Error::ReaderNotFound(reader.into(), "NUL in name".into()))?;
        let card = match self.ctx.connect(&cname, mode, Protocols::ANY) {
            Ok(c) => c,
            Err(pcsc::Error::NoSmartcard) | Err(pcsc::Error::RemovedCard) => {
                return Err(Error::NoCard(reader.into()))
            }
            Err(pcsc::Error::UnknownReader) => {
                return Err(Error::ReaderNotFound(reader.into(), "gone".into()))
            }
            Err(pcsc::Error::SharingViolation) => return Err(Error::CardBusy(reader.into())),
            Err(e) => return Err(pcsc_err(format!("connect to {reader:?}"), e)),
        };
        let status = card
            .status2_owned()
            .map_err(|e| pcsc_err("card status", e))?;
        let atr = status.atr().to_vec();
        let protocol = format!("{:?}", status.protocol2());
        tracing::debug!(
            "connected to {reader:?} ATR {} protocol {protocol}",
            hex::encode_upper(&atr)
        );
        Ok(Connection {
            card: Some(card),
            reader: reader.into(),
            atr,
            protocol,
        })
    }

    /// Wait until the reader shows a card (`present`) or shows empty (`!present`).
    pub fn wait_card(&self, reader: &str, present: bool, timeout: Duration) -> Result<()> {
        let cname = CString::new(reader)
            .map_err(|_| Error::ReaderNotFound(reader.into(), "NUL in name".into()))?;
        let deadline = Instant::now() + timeout;
        let mut st = [ReaderState::new(cname, State::UNAWARE)];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.ctx.get_status_change(left, &mut st) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) => {}
                Err(e) => return Err(pcsc_err(format!("wait for reader {reader:?}"), e)),
            }
            let ev = st[0].event_state();
            let is_present = ev.contains(State::PRESENT) && !ev.contains(State::EMPTY);
            if ev.contains(State::UNKNOWN) {
                return Err(Error::ReaderNotFound(
                    reader.into(),
                    "unknown to pcscd".into(),
                ));
            }
            if is_present == present && !ev.contains(State::UNAVAILABLE) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Error::Timeout(format!(
                    "reader {reader:?} did not show {} within {:?}",
                    if present { "a card" } else { "empty" },
                    timeout
                )));
            }
            st[0].sync_current_state();
        }
    }
}

/// Watches readers for the next card (SCardGetStatusChange), for work done card after card:
/// a batch hands out each inserted card once, and a reader whose card was handed out offers a
/// card again only after a new insertion (the reader showed empty, or pcscd's insertion/removal
/// counter moved). A card already present when the watch starts counts as inserted.
pub struct CardWatch<'a> {
    pcsc: &'a Pcsc,
    states: Vec<ReaderState>,
    /// Per reader: `Some(event count)` while the card handed out from it is still in.
    handed: Vec<Option<u32>>,
}

/// Longest single SCardGetStatusChange wait, so a stop request (Ctrl-C) or a display refresh
/// is honoured within this time.
const WATCH_SLICE: Duration = Duration::from_millis(200);

impl<'a> CardWatch<'a> {
    /// Watch `readers` (names as `purse readers` lists them).
    pub fn new(pcsc: &'a Pcsc, readers: &[String]) -> Result<Self> {
        let mut states = Vec::with_capacity(readers.len());
        for r in readers {
            let c = CString::new(r.as_str())
                .map_err(|_| Error::ReaderNotFound(r.clone(), "NUL in name".into()))?;
            states.push(ReaderState::new(c, State::UNAWARE));
        }
        Ok(CardWatch {
            pcsc,
            handed: vec![None; states.len()],
            states,
        })
    }

    fn present(st: &ReaderState) -> bool {
        let ev = st.event_state();
        ev.contains(State::PRESENT) && !ev.contains(State::EMPTY) && !ev.contains(State::MUTE)
    }

    /// Wait for a card that was not handed out yet and return its reader; the card counts as
    /// handed out from then on. Between waits of at most 200 ms `keep_going` is asked whether to
    /// go on (`false`: return `Ok(None)`, e.g. on Ctrl-C; it may also refresh a display).
    /// `timeout` (None: forever) ends the wait with [`Error::Timeout`].
    pub fn next_card(
        &mut self,
        timeout: Option<Duration>,
        keep_going: &mut dyn FnMut() -> bool,
    ) -> Result<Option<String>> {
        if self.states.is_empty() {
            return Err(Error::NoReader(" to watch".into()));
        }
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let slice = match deadline {
                Some(d) => d.saturating_duration_since(Instant::now()).min(WATCH_SLICE),
                None => WATCH_SLICE,
            };
            match self.pcsc.ctx.get_status_change(slice, &mut self.states) {
                Ok(()) | Err(pcsc::Error::Timeout) => {}
                Err(e) => return Err(pcsc_err("wait for a card", e)),
            }
            for (i, st) in self.states.iter_mut().enumerate() {
                let ev = st.event_state();
                if ev.contains(State::UNKNOWN) {
                    return Err(Error::ReaderNotFound(
                        st.name().to_string_lossy().into_owned(),
                        "it went away (unplugged?)".into(),
                    ));
                }
                let present = Self::present(st);
                if let Some(count) = self.handed[i] {
                    // a new card: the old one was seen out, or pcscd counted an insertion/removal
                    // since (a quick pull and re-insert between two of our waits)
                    if !present || st.event_count() != count {
                        self.handed[i] = None;
                    }
                }
                if present && self.handed[i].is_none() && !ev.contains(State::UNAVAILABLE) {
                    self.handed[i] = Some(st.event_count());
                    st.sync_current_state();
                    return Ok(Some(st.name().to_string_lossy().into_owned()));
                }
                st.sync_current_state();
            }
            if !keep_going() {
                return Ok(None);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(Error::Timeout(format!(
                    "no new card in {} within {:?}",
                    self.states
                        .iter()
                        .map(|s| s.name().to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join(", "),
                    timeout.unwrap_or_default()
                )));
            }
        }
    }
}

/// A connected card. Held for a whole flow; dropped = disconnected leaving the card powered.
pub struct Connection {
    card: Option<Card>,
    reader: String,
    atr: Vec<u8>,
    protocol: String,
}

impl Connection {
    pub fn reader(&self) -> &str {
        &self.reader
    }
    pub fn atr(&self) -> &[u8] {
        &self.atr
    }
    pub fn protocol(&self) -> &str {
        &self.protocol
    }
}

impl CardIo for Connection {
    fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>> {
        let card = self
            .card
            .as_ref()
            .ok_or_else(|| Error::NoCard(self.reader.clone()))?;
        let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        match card.transmit(apdu, &mut buf) {
            // vpcd answers an empty response when the card vanished mid-command
            Ok([]) => Err(Error::CardLost(self.reader.clone())),
            Ok(r) => Ok(r.to_vec()),
            Err(pcsc::Error::RemovedCard)
            | Err(pcsc::Error::ResetCard)
            | Err(pcsc::Error::NoSmartcard)
            | Err(pcsc::Error::UnpoweredCard)
            | Err(pcsc::Error::UnresponsiveCard)
            // pcsc-lite's answer to an IFD communication error (vpcd lost its card)
            | Err(pcsc::Error::NotTransacted) => Err(Error::CardLost(self.reader.clone())),
            Err(e) => Err(pcsc_err(format!("transmit to {:?}", self.reader), e)),
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(card) = self.card.take() {
            if let Err((card, e)) = card.disconnect(Disposition::LeaveCard) {
                tracing::debug!("disconnect from {:?}: {e}", self.reader);
                // Dropping a pcsc::Card resets the card; leak the handle instead (the context's
                // release cleans it up) so the card keeps its session state.
                std::mem::forget(card);
            }
        }
    }
}

/// The card library reaches readers through this (crate purse-card knows no PC/SC).
impl Readers for Pcsc {
    type Io = Connection;
    fn readers(&self) -> Result<Vec<ReaderInfo>> {
        Pcsc::readers(self)
    }
    fn select_reader(&self, sel: Option<&str>) -> Result<String> {
        Pcsc::select_reader(self, sel)
    }
    fn connect(&self, reader: &str) -> Result<Connection> {
        Pcsc::connect(self, reader)
    }
    fn connect_exclusive(&self, reader: &str) -> Result<Connection> {
        Pcsc::connect_exclusive(self, reader)
    }
}
