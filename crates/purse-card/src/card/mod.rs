//! [`PurseCard`]: the purse applet as typed Rust calls over [`apdu::Channel`](crate::apdu::Channel).
//! One function per applet command lives in `admin.rs` (issuance, mint, secrets, reads) and
//! `transfer.rs` (the payee hello of SELECT, INS 42-54). Every status word other than 9000 becomes [`CardError::Refused`],
//! whose message says what happened and what to do (protocol.md 4.2) — never a bare status word.
use crate::apdu::{Channel, Command};
use crate::proto::consts::{self, Ins, Life, SecretRef, Suite, Sw};
use crate::transport::{CardIo, Readers};

pub mod admin;
pub mod bank;
pub mod sync;
pub mod transfer;

pub use admin::VerifyState;

/// Errors of card commands: the transport failed, the card refused (status word), or the card
/// answered something the protocol does not allow.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    /// PC/SC, reader or card presence problems.
    #[error(transparent)]
    Transport(#[from] crate::Error),
    /// The card answered a status word other than 9000.
    #[error("{}", describe(*ins, *sw).full())]
    Refused { ins: Ins, sw: Sw },
    /// VERIFY / CHANGE REFERENCE DATA refused a secret (wrong: `VerifyFailed(tries left)`,
    /// blocked: `AuthBlocked`); the message names the secret.
    #[error("{}", describe_secret(*which, *sw).full())]
    Secret { which: SecretRef, sw: Sw },
    /// The answer does not match protocol.md (wrong length, bad cryptogram, ...).
    #[error("unexpected answer from the card to {ins:?}: {msg}")]
    BadResponse { ins: Ins, msg: String },
    /// SELECT found no purse applet (6A82 / 6999): a card, but not a purse card.
    #[error("no purse applet on the card{} ({:04X}): install it (real card: docs/real-cards.md; virtual desk: `purse desk new NAME` makes a purse card)", if .reader.is_empty() { String::new() } else { format!(" in {:?}", .reader) }, .sw.code())]
    NoApplet { reader: String, sw: Sw },
    /// SELECT found a purse applet of another major version: its packets and this purse's do
    /// not interoperate (another key schedule or layout), so nothing more is sent to it.
    #[error("the card{} runs purse applet {major}.{minor}, this purse speaks {}.{}: use a purse of the card's version (reinstalling the applet would delete the card's money and keys)", if .reader.is_empty() { String::new() } else { format!(" in {:?}", .reader) }, consts::VERSION_MAJOR, consts::VERSION_MINOR)]
    OtherVersion {
        reader: String,
        major: u8,
        minor: u8,
    },
    /// A value given by the user or the caller is out of range, or the card's state rules the
    /// command out (never sent to the card).
    #[error("{0}")]
    Invalid(String),
}

impl CardError {
    /// The status word if the card refused.
    pub fn sw(&self) -> Option<Sw> {
        match self {
            CardError::Refused { sw, .. }
            | CardError::Secret { sw, .. }
            | CardError::NoApplet { sw, .. } => Some(*sw),
            _ => None,
        }
    }
    /// A host check worded as the card's refusal `sw` to `ins` would be (same message), but not
    /// a card's answer: no status word, reported as a pre-check.
    pub fn host_check(ins: Ins, sw: Sw) -> CardError {
        CardError::Invalid(describe(ins, sw).full())
    }
    /// The status word as a number (for reports), also through a transport error.
    pub fn sw_code(&self) -> Option<u16> {
        crate::error::Failure::sw(self)
    }
    /// What to tell the holder, as (what happened, what to do).
    pub fn advice(&self) -> Option<Advice> {
        match self {
            CardError::Refused { ins, sw } => Some(describe(*ins, *sw)),
            CardError::Secret { which, sw } => Some(describe_secret(*which, *sw)),
            _ => None,
        }
    }
}

impl crate::error::Failure for CardError {
    fn kind(&self) -> crate::error::Kind {
        use crate::error::Kind;
        match self {
            CardError::Transport(e) => e.kind(),
            CardError::Refused { .. } | CardError::Secret { .. } => Kind::Refused,
            CardError::NoApplet { .. } | CardError::OtherVersion { .. } => Kind::NoApplet,
            CardError::BadResponse { .. } => Kind::BadResponse,
            CardError::Invalid(_) => Kind::Precheck,
        }
    }
    fn sw(&self) -> Option<u16> {
        match self {
            CardError::Transport(e) => e.sw(),
            other => CardError::sw(other).map(|s| s.code()),
        }
    }
}

/// A refusal explained: what happened and what the holder should do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advice {
    pub what: String,
    pub todo: String,
    pub sw: Sw,
}

impl Advice {
    pub fn full(&self) -> String {
        if self.todo.is_empty() {
            format!("{} [{:04X}]", self.what, self.sw.code())
        } else {
            format!("{}: {} [{:04X}]", self.what, self.todo, self.sw.code())
        }
    }
}

fn adv(sw: Sw, what: impl Into<String>, todo: impl Into<String>) -> Advice {
    Advice {
        what: what.into(),
        todo: todo.into(),
        sw,
    }
}

/// A command in the words of a user (messages never show the applet's instruction names).
pub fn what(ins: Ins) -> String {
    use Ins::*;
    match ins {
        Select => "selecting the purse applet",
        AuthInit | AuthFinish => "personalising a blank card",
        IssueBegin | IssueAuth | IssueConfirm => "issuing a card",
        Mint => "minting",
        Verify => "checking a secret",
        ChangeRef => "changing a secret",
        GetStatus => "reading the status",
        GetPending => "reading the unfinished transfer",
        ReadPassbook => "reading the passbook",
        ReadExceptions => "reading the exception log",
        XferPayerInit | XferPayeeP1 | XferPayerP2P3 | XferPayeeP4 | XferPayerAck => "paying",
        XferAbort | ResumeGetP4 | ResumeGetOutcome | PendingToException => {
            "finishing an interrupted transfer"
        }
        SyncCardInit | SyncBankInit | SyncCardS1 | SyncBankP5 | SyncCardP6 | SyncBankAck => {
            "syncing"
        }
        UnblockPin => "unblocking the PIN",
        CenterAdvance => "starting a new key epoch",
        AdminInit | AdminOp | AdminApply | AdminAck => "administering a bank card",
        ReadBadCards => "reading the bad-card list",
        SetPrivacy => "switching privacy",
        Other(c) => return format!("command {c:02X}"),
    }
    .to_string()
}

/// protocol.md 4.2, with the command for context where the meaning depends on it.
pub fn describe(ins: Ins, sw: Sw) -> Advice {
    use Sw::*;
    let secret = || match ins {
        Ins::Verify | Ins::ChangeRef => "secret",
        _ => "PIN",
    };
    match sw {
        Ok => adv(sw, "OK", ""),
        WrongLength => adv(sw, format!("the card rejected the length of {}", what(ins)), "internal error, please report it (run with --debug)"),
        WrongData => adv(sw, "the card rejected a value (amount 0, secret length, name characters, ...)", "check the value and retry"),
        FuncNotSupported => adv(sw, "this blank card carries the user-card applet (purse-user.cap), which becomes a user card only; it is still blank", "issue it as a user card, or load purse.cap onto it for a bank role (center, region, branch, admin)"),
        RecordNotFound => adv(sw, "no such passbook entry", "check the entry range"),
        WrongP1P2 | ClaNotSupported => adv(sw, format!("the card rejected the parameters of {}", what(ins)), "internal error, please report it"),
        InsNotSupported => adv(sw, format!("the card does not know {}", what(ins)), "the card runs another purse version: update the applet or purse"),
        SecurityStatus => adv(sw, "the card's secure session is not open or a step was skipped", "restart the command"),
        AuthBlocked => adv(sw, format!("that {} is blocked", secret()), "a blocked PIN is unblocked at the branch: `purse sync --unblock-pin` with a branch card; a blocked center secret: see docs/real-cards.md recovery"),
        VerifyFailed(n) => adv(sw, format!("wrong {}, {n} {} left", secret(), if n == 1 { "try" } else { "tries" }), if n == 0 { "it is now blocked" } else { "check it and retry carefully" }),
        Conditions => adv(sw, format!("{} came out of sequence", what(ins)), match ins {
            Ins::XferPayerInit | Ins::XferPayeeP1 | Ins::XferPayerP2P3 => "restart the transfer",
            _ => "restart the command",
        }),
        Locked => adv(sw, "card locked after too many bad packets/keys", "sync it with its bank"),
        NoCommonKeys => adv(sw, "the cards share fewer than two keys (or use different crypto suites)", "sync the older card with its bank"),
        BadPacket => adv(sw, "a relayed packet was corrupted or forged; no money moved", "retry (the card counts such failures and locks at its limit)"),
        PairNotAllowed => adv(sw, "these two roles cannot transact (payments go user<->user, user<->branch, branch<->region, region<->center)", "use a card of a role allowed to pay this one"),
        InsufficientFunds => adv(sw, "balance too low", "pay a smaller amount or receive money first"),
        Overflow => adv(sw, "the card cannot hold that much (balance would exceed 4294967295 minor units)", "use a smaller amount"),
        AmountMismatch => adv(sw, "the two holders did not agree on the amount", "confirm the same amount on both sides and restart"),
        PassbookFull => adv(sw, "passbook full", "sync with the bank before paying/receiving"),
        PendingOut => adv(sw, "this card has an unfinished outgoing transfer", "run `purse resume` with the payee card"),
        PayeeExpecting => adv(sw, "this card has an unfinished incoming transfer", "run `purse resume` with the payer card, or `--abandon-expected`"),
        UnknownTransfer => adv(sw, "this card has nothing to finish for that transfer", "nothing to do for this transfer"),
        AlreadyCredited => adv(sw, "that transfer was already credited", "run `purse resume` to fetch its acknowledgement"),
        CurrencyMismatch => adv(sw, "the cards hold different currencies", "use cards of the same currency"),
        BadName => adv(sw, "the peer card's name is not printable or equals this card's", "peer card misconfigured, or a reflected packet"),
        SameCard => adv(sw, "the peer card has this card's account", "both readers hold the same card?"),
        ExceptionLogFull => adv(sw, "exception log full", "sync with the bank"),
        Integrity => adv(sw, "card data damaged (balance check failed)", "take the card to the bank"),
        WrongRole => adv(sw, format!("{} is not allowed for this card's role", what(ins)), match ins {
            Ins::Mint => "only the center card mints",
            Ins::ReadBadCards => "only bank cards (center, region, branch) hold a bad-card list",
            Ins::SetPrivacy => "only user cards can be private",
            Ins::IssueBegin => "issue from the center or an admin card (an admin cannot issue admins)",
            _ => "use a card of the right role",
        }),
        PinRequired => adv(sw, "the PIN is required (amount above MIN_TRANS, or a PIN-protected read)", "enter the PIN"),
        TxkeyRequired => adv(sw, "the transaction key is required (amount above MAX_TRANS)", "enter the transaction key (a card without one cannot pay above MAX_TRANS)"),
        ApprovalRequired => adv(sw, "the approval secret is required (center payout / issuance)", "enter the approval secret"),
        CreationRequired => adv(sw, "the creation secret is required to mint", "enter the creation secret"),
        AccountsExhausted => adv(sw, "the issuer has no account numbers left", "issue from another admin card"),
        TransportBlocked => adv(sw, "transport key tries used up: this blank card is unusable", "use another blank card"),
        Invalidated => adv(sw, "card invalidated by the bank", "the card cannot be used any more"),
        Blank => adv(sw, "the card is blank (not personalised)", "run `purse genesis` or `purse issue`"),
        Personalised => adv(sw, "the card is already personalised", "use a blank card"),
        // issue 4 (protocol.md 4.2, 12.6, 12.8)
        ListedBadCard => adv(sw, "card reported lost/stolen: the bank invalidated it", "the card cannot be used any more; its holder is refunded from the ledger"),
        AccountOutOfRange => adv(sw, "this bank card does not serve that account (outside its VALID_ACCOUNT range)", match ins {
            Ins::AdminApply | Ins::AdminAck | Ins::AdminInit | Ins::AdminOp => "list the card on a bank card whose range covers it (see `purse admin bad-card list`)",
            _ => "sync the card with a bank card whose range covers it",
        }),
        DateBackwards => adv(sw, "dates only move forward: the date given is not after the card's", match ins {
            Ins::CenterAdvance => "give a date after the center's current epoch date (one epoch per day at most)",
            _ => "sync with a bank card that has the newer epoch (sync the bank card upwards first)",
        }),
        BadCardListFull => adv(sw, "the bank card's BAD_CARD list is full (1200 entries)", "remove expired entries first (`purse admin bad-card remove`)"),
        NotListed => adv(sw, "that account is not on the list, or was listed less than 7 epochs ago (its keys have not expired yet)", "check `purse admin bad-card list`; an entry can be removed 7 epochs after it was listed"),
        KeysTooOld => adv(sw, "this card's keys are too old", match ins {
            Ins::SyncBankInit | Ins::SyncCardInit | Ins::SyncCardS1 => "the card is more than 6 epochs behind even for sync: the bank refunds it from the ledger",
            _ => "more than three epochs behind: sync the card with its bank (sync still works)",
        }),
        PassbookNotFed => adv(sw, "the passbook was not collected, so the card kept it", "sync again with storing (without --no-store)"),
        NoPreciseDiagnosis => adv(sw, "the applet failed internally (6F00)", "a bug in the applet: please report it with --debug output"),
        AppletNotFound | SelectFailed => adv(sw, "no purse applet answers on this card", "install the purse applet (docs/real-cards.md), or use a purse card"),
        Other(c) => adv(sw, format!("the card refused {} with status {c:04X}", what(ins)), "unknown status: is this a purse card of this version?"),
    }
}

/// A refused VERIFY / CHANGE REFERENCE DATA, naming the secret (protocol.md 4.2: 63Cx, 6983).
pub fn describe_secret(which: SecretRef, sw: Sw) -> Advice {
    let name = which.name();
    match sw {
        Sw::VerifyFailed(0) | Sw::AuthBlocked => adv(
            sw,
            format!("{name} blocked"),
            match which {
                SecretRef::Pin | SecretRef::TxKey => {
                    "unblock it at the branch: `purse sync --unblock-pin` with a branch card"
                }
                _ => "center secret blocked: see docs/real-cards.md recovery",
            },
        ),
        Sw::VerifyFailed(n) => adv(
            sw,
            format!(
                "wrong {name}, {n} {} left",
                if n == 1 { "try" } else { "tries" }
            ),
            "check it and retry carefully",
        ),
        Sw::WrongData => adv(
            sw,
            format!("the card refused the {name}: wrong length"),
            format!(
                "a {name} has {} to {} characters",
                which.len_range().0,
                which.len_range().1
            ),
        ),
        Sw::Conditions | Sw::WrongP1P2 => adv(
            sw,
            format!("this card has no {name}"),
            "creation and approval secrets exist only on the center card",
        ),
        other => describe(Ins::Verify, other),
    }
}

/// SELECT answer (protocol.md 4.1), its first 4 bytes: VER_MAJ VER_MIN LIFE SUITE. The rest (the
/// STATUS of 4.3, the payee hello of 6.1) is kept by [`PurseCard`] until the next command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SelectInfo {
    pub ver_major: u8,
    pub ver_minor: u8,
    pub life: Life,
    pub suite: Suite,
}

/// The purse applet on one card. Hold it for a whole flow (dropping a PC/SC connection resets
/// nothing, but the applet's transient session ends on deselect/reset).
pub struct PurseCard<T: CardIo> {
    ch: Channel<T>,
    /// Reader name (for messages), if known.
    pub reader: String,
    /// Answer of the last SELECT.
    pub selected: Option<SelectInfo>,
    /// What the last SELECT answered beyond [`SelectInfo`]: the STATUS (served by the first
    /// [`get_status`](Self::get_status)) and the payee hello, valid while no command follows it.
    fresh: Option<Fresh>,
}

/// The status and payee hello of a SELECT answer, with the channel's command count right after
/// that SELECT: they describe the card only while no other command has been sent (any command
/// may change the status; any session step ends the payee session the hello belongs to).
struct Fresh {
    sent: u32,
    status: Option<Vec<u8>>,
    hello: Option<transfer::PayeeHello>,
    /// A bank card's files header (READ_BAD_CARDS' first 24 bytes).
    files: Option<bank::BadCardPage>,
}

/// The purse card in one reader, as `purse readers` shows it and `account:` / `name:` match it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CardIdent {
    pub life: String,
    pub role: String,
    pub name: String,
    /// `None` on a blank card.
    pub account: Option<String>,
}

/// Identify the purse card in `reader` (SELECT + GET_STATUS over a shared connection, nothing
/// written). `Ok(None)`: no purse applet; an error: no card, busy, or a broken answer.
pub fn identify<R: Readers>(pcsc: &R, reader: &str) -> Result<Option<CardIdent>, CardError> {
    let mut card = PurseCard::new(pcsc.connect(reader)?);
    card.reader = reader.to_string();
    match card.select() {
        Ok(_) => {}
        Err(CardError::NoApplet { .. }) => return Ok(None),
        Err(e) => return Err(e),
    }
    let st = card.get_status()?;
    let active = st.life != Life::Blank;
    Ok(Some(CardIdent {
        life: st.life.name(),
        role: if active {
            st.role.name()
        } else {
            "blank".into()
        },
        name: st.name.clone(),
        account: active.then(|| st.account.to_string()),
    }))
}

/// Pick a reader as [`Readers::select_reader`] does (index, name substring; none given: the one
/// reader holding a card), or by the purse card in it: `account:NUMBER` (spaces and dashes
/// ignored) or `name:CARDNAME` (the card's public name, case-insensitive). Two identical USB
/// readers differ only by a suffix that can change on replug; the card's account does not.
pub fn select_reader<R: Readers>(pcsc: &R, sel: Option<&str>) -> Result<String, crate::Error> {
    let Some(s) = sel else {
        return pcsc.select_reader(None);
    };
    let (by_account, want) = match s.split_once(':') {
        Some((k, v)) if k.eq_ignore_ascii_case("account") => (
            true,
            v.chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .collect::<String>(),
        ),
        Some((k, v)) if k.eq_ignore_ascii_case("name") => (false, v.trim().to_string()),
        _ => return pcsc.select_reader(Some(s)),
    };
    let mut hits = Vec::new();
    let mut seen = Vec::new();
    for r in pcsc.readers()?.into_iter().filter(|r| r.card_present) {
        match identify(pcsc, &r.name) {
            Ok(Some(id)) => {
                let hit = if by_account {
                    id.account.as_deref() == Some(want.as_str())
                } else {
                    id.name.eq_ignore_ascii_case(&want)
                };
                seen.push(format!(
                    "{}: {} {:?} {}",
                    r.index,
                    id.role,
                    id.name,
                    id.account.as_deref().unwrap_or("-")
                ));
                if hit {
                    hits.push(r.name.clone());
                }
            }
            Ok(None) => seen.push(format!("{}: no purse card", r.index)),
            Err(e) => seen.push(format!("{}: {e}", r.index)),
        }
    }
    match hits.len() {
        1 => Ok(hits.remove(0)),
        0 => Err(crate::Error::ReaderNotFound(
            s.into(),
            if seen.is_empty() {
                "no reader holds a card".into()
            } else {
                seen.join("; ")
            },
        )),
        _ => Err(crate::Error::ReaderAmbiguous(s.into(), hits.join(", "))),
    }
}

impl<T: CardIo> PurseCard<T> {
    /// Connect to `reader` (shared) and SELECT the purse applet.
    pub fn open<R: Readers<Io = T>>(pcsc: &R, reader: &str) -> Result<Self, CardError> {
        Self::opened(pcsc.connect(reader)?, reader)
    }

    /// Connect to `reader` exclusively (held for the whole flow, so no other PC/SC client can
    /// interleave commands mid-transfer) and SELECT the purse applet. The CLI's flows use this.
    pub fn open_exclusive<R: Readers<Io = T>>(pcsc: &R, reader: &str) -> Result<Self, CardError> {
        Self::opened(pcsc.connect_exclusive(reader)?, reader)
    }

    fn opened(conn: T, reader: &str) -> Result<Self, CardError> {
        let mut card = PurseCard::new(conn);
        card.reader = reader.to_string();
        card.select()?;
        Ok(card)
    }
}

impl<T: CardIo> PurseCard<T> {
    pub fn new(io: T) -> Self {
        PurseCard {
            ch: Channel::new(io),
            reader: String::new(),
            selected: None,
            fresh: None,
        }
    }

    pub fn channel(&mut self) -> &mut Channel<T> {
        &mut self.ch
    }

    /// Commands sent to this card so far (see [`Channel::sent`]).
    pub fn apdus(&self) -> u32 {
        self.ch.sent()
    }

    pub fn into_inner(self) -> T {
        self.ch.into_inner()
    }

    /// SELECT the purse applet (AID F07075727365 01).
    pub fn select(&mut self) -> Result<SelectInfo, CardError> {
        let r = self.ch.send(&Command::select(&consts::PURSE_AID))?;
        let sw = r.sw;
        if !sw.is_ok() {
            if matches!(sw, Sw::AppletNotFound | Sw::SelectFailed) {
                return Err(CardError::NoApplet {
                    reader: self.reader.clone(),
                    sw,
                });
            }
            return Err(CardError::Refused {
                ins: Ins::Select,
                sw,
            });
        }
        let d = r.data;
        self.fresh = None;
        self.selected = None;
        // the version first: another major version may also answer another length
        if d.len() >= 2 && d[0] != consts::VERSION_MAJOR {
            return Err(CardError::OtherVersion {
                reader: self.reader.clone(),
                major: d[0],
                minor: d[1],
            });
        }
        // a bank card adds its files' header (the sync's range precheck needs no 8A then)
        let files = if d.len() == consts::SELECT_BANK_RESP_LEN as usize {
            let h = &d[consts::SEL_BANK_FILES as usize..];
            Some(
                bank::BadCardPage::parse(h).map_err(|m| CardError::BadResponse {
                    ins: Ins::Select,
                    msg: format!("bank files of {m}"),
                })?,
            )
        } else {
            None
        };
        if d.len() != consts::SELECT_RESP_LEN as usize && files.is_none() {
            return Err(CardError::BadResponse {
                ins: Ins::Select,
                msg: format!(
                    "SELECT answered {} bytes, expected {} ({} on a bank card): the card runs another purse version (update the applet or purse)",
                    d.len(),
                    consts::SELECT_RESP_LEN,
                    consts::SELECT_BANK_RESP_LEN
                ),
            });
        }
        let d = &d[..consts::SELECT_RESP_LEN as usize];
        let info = SelectInfo {
            ver_major: d[0],
            ver_minor: d[1],
            life: Life::from_code(d[2]),
            suite: Suite::from_code(d[3]),
        };
        let (st, tail) = d.split_at(consts::SEL_OLDEST as usize);
        let mut rp = [0u8; 8];
        rp.copy_from_slice(&tail[1..]);
        self.fresh = Some(Fresh {
            sent: self.ch.sent(),
            status: Some(st.to_vec()),
            hello: Some(transfer::PayeeHello {
                suite: info.suite,
                oldest: tail[0],
                rp,
            }),
            files,
        });
        self.selected = Some(info);
        Ok(info)
    }

    /// The STATUS bytes of the last SELECT while no command was sent since: nothing on the card
    /// changes without one (the flows hold the reader exclusively), so every read until then
    /// is answered from it.
    pub(crate) fn selected_status(&self) -> Option<Vec<u8>> {
        let f = self.fresh.as_ref().filter(|f| f.sent == self.ch.sent())?;
        f.status.clone()
    }

    /// The last SELECT's answer while no command was sent since (the card's session is as that
    /// SELECT left it), else a new SELECT.
    pub fn selected_or_select(&mut self) -> Result<SelectInfo, CardError> {
        let fresh = self
            .fresh
            .as_ref()
            .is_some_and(|f| f.sent == self.ch.sent());
        match self.selected {
            Some(info) if fresh => Ok(info),
            _ => self.select(),
        }
    }

    /// A bank card's files header from the last SELECT, on the same rule.
    pub(crate) fn selected_files(&self) -> Option<bank::BadCardPage> {
        let f = self.fresh.as_ref().filter(|f| f.sent == self.ch.sent())?;
        f.files.clone()
    }

    /// The payee hello of the last SELECT if no command was sent since (once: it opens one
    /// payee session).
    pub(crate) fn take_selected_hello(&mut self) -> Option<transfer::PayeeHello> {
        let sent = self.ch.sent();
        let f = self.fresh.as_mut().filter(|f| f.sent == sent)?;
        f.hello.take()
    }

    /// Send `80 ins p1 p2 [data] 00` and return the answer data, or [`CardError::Refused`].
    pub fn cmd(&mut self, ins: Ins, p1: u8, p2: u8, data: &[u8]) -> Result<Vec<u8>, CardError> {
        let (out, sw) = self.raw(consts::CLA_PURSE, ins.code(), p1, p2, data)?;
        if sw.is_ok() {
            Ok(out)
        } else {
            Err(CardError::Refused { ins, sw })
        }
    }

    /// Like [`cmd`](Self::cmd) but the answer must be exactly `len` bytes.
    pub fn cmd_len(
        &mut self,
        ins: Ins,
        p1: u8,
        p2: u8,
        data: &[u8],
        len: usize,
    ) -> Result<Vec<u8>, CardError> {
        let out = self.cmd(ins, p1, p2, data)?;
        if out.len() != len {
            return Err(CardError::BadResponse {
                ins,
                msg: format!("{} bytes, expected {len}", out.len()),
            });
        }
        Ok(out)
    }

    /// Any command, status word returned as is (tests, fuzzing, `purse apdu`-like tools).
    pub fn raw(
        &mut self,
        cla: u8,
        ins: u8,
        p1: u8,
        p2: u8,
        data: &[u8],
    ) -> Result<(Vec<u8>, Sw), CardError> {
        let c = Command::new(cla, ins, p1, p2).data(data.to_vec()).le(256);
        let r = self.ch.send(&c)?;
        Ok((r.data, r.sw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    struct Script(VecDeque<(&'static str, &'static str)>);
    impl CardIo for Script {
        fn transmit(&mut self, apdu: &[u8]) -> crate::Result<Vec<u8>> {
            let (want, answer) = self.0.pop_front().expect("unexpected APDU");
            assert_eq!(hex::encode_upper(apdu), want);
            Ok(hex::decode(answer).unwrap())
        }
    }

    /// Messages speak to users: no applet instruction names, no ticket numbers; a blocked PIN
    /// names the command that unblocks it.
    #[test]
    fn messages_in_user_words() {
        for ins in [
            Ins::Mint,
            Ins::ReadBadCards,
            Ins::SetPrivacy,
            Ins::IssueBegin,
            Ins::XferPayerP2P3,
        ] {
            for sw in [
                Sw::WrongRole,
                Sw::Conditions,
                Sw::WrongLength,
                Sw::Other(0x6A99),
            ] {
                let m = describe(ins, sw).full();
                let internal = format!("{ins:?}");
                assert!(!m.contains(&internal), "{m}");
                assert!(!m.contains("issue 4"), "{m}");
            }
        }
        assert!(describe(Ins::ReadBadCards, Sw::WrongRole)
            .full()
            .starts_with("reading the bad-card list is not allowed for this card's role"));
        for m in [
            describe(Ins::Verify, Sw::AuthBlocked).full(),
            describe_secret(SecretRef::Pin, Sw::AuthBlocked).full(),
            describe_secret(SecretRef::Pin, Sw::VerifyFailed(0)).full(),
        ] {
            assert!(m.contains("purse sync --unblock-pin"), "{m}");
            assert!(!m.contains("issue 4"), "{m}");
        }
    }

    /// A blank AES card's SELECT answer: STATUS (68) | oldest | RP, then 9000.
    const BLANK_SELECT: &str = concat!(
        "07000101",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "00000000000000000000000000000000000000000000000000000000000000",
        "0F",
        "FD",
        "1122334455667788",
        "9000"
    );

    /// Its GET_STATUS answer.
    const BLANK_STATUS: &str = concat!(
        "07000101",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "00000000000000000000000000000000000000000000000000000000000000",
        "0F",
        "9000"
    );

    /// The status comes with SELECT: the first GET_STATUS after it costs no APDU, any command in
    /// between sends a real one; the payee hello likewise (a new SELECT once a command followed).
    #[test]
    fn status_and_hello_from_select() {
        let mut c = PurseCard::new(Script(VecDeque::from(vec![
            ("00A4040007F070757273650100", BLANK_SELECT),
            ("80200001043132333400", "9000"),
            ("8030000000", BLANK_STATUS),
            ("00A4040007F070757273650100", BLANK_SELECT),
        ])));
        c.select().unwrap();
        assert_eq!(c.apdus(), 1);
        let st = c.get_status().unwrap();
        assert_eq!((st.life, st.tk_tries), (Life::Blank, 15));
        assert_eq!(c.apdus(), 1, "status from the SELECT answer");
        assert_eq!(c.get_status().unwrap(), st);
        assert_eq!(c.apdus(), 1, "and again, while no command was sent");
        let h = c.payee_hello().unwrap();
        assert_eq!(
            (h.oldest, h.rp),
            (0xFD, [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88])
        );
        assert_eq!(c.apdus(), 1, "hello from the SELECT answer");
        assert_eq!(c.selected_or_select().unwrap(), c.selected.unwrap());
        assert_eq!(c.apdus(), 1, "no new SELECT while none is needed");
        c.verify(SecretRef::Pin, b"1234").unwrap();
        c.get_status().unwrap();
        assert_eq!(c.apdus(), 3, "a command in between: a real GET_STATUS");
        c.payee_hello().unwrap();
        assert_eq!(c.apdus(), 4, "and a new SELECT for the hello");
    }

    /// A bank card's SELECT ends with its files' header: the first `bank_files` after it costs
    /// no APDU (no 8A), one after a command reads page 0 (its entries dropped); a wrong tail is a
    /// bad answer.
    #[test]
    fn bank_files_from_select() {
        let header = concat!(
            "0003",             // COUNT
            "00000064",         // RATE
            "1000000000000000", // LOW
            "1000009999999999", // HIGH
            "02",               // ARCH
            "21",               // CURRENT
        );
        let sel = format!("{}{header}9000", &BLANK_SELECT[..BLANK_SELECT.len() - 4]);
        let page = format!("{header}000000012100000002219000");
        let sel: &'static str = Box::leak(sel.into_boxed_str());
        let page: &'static str = Box::leak(page.into_boxed_str());
        let mut c = PurseCard::new(Script(VecDeque::from(vec![
            ("00A4040007F070757273650100", sel),
            ("80200001043132333400", "9000"),
            ("808A000000", page),
        ])));
        c.select().unwrap();
        c.get_status().unwrap();
        let f = c.bank_files().unwrap();
        assert_eq!(c.bank_files().unwrap(), f);
        assert_eq!(c.apdus(), 1, "files from the SELECT answer");
        assert_eq!((f.count, f.rate, f.arch, f.current), (3, 100, 2, 0x21));
        assert!(f.entries.is_empty());
        c.verify(SecretRef::Pin, b"1234").unwrap();
        assert_eq!(c.apdus(), 2);
        let g = c.bank_files().unwrap();
        assert_eq!(c.apdus(), 3, "a command in between: a real 8A");
        assert_eq!(g, f, "the header alone, as from SELECT");
        // 77 + 23 bytes: neither a user card's answer nor a bank card's
        let short = format!(
            "{}{}9000",
            &BLANK_SELECT[..BLANK_SELECT.len() - 4],
            &header[..46]
        );
        let short: &'static str = Box::leak(short.into_boxed_str());
        let mut d = PurseCard::new(Script(VecDeque::from(vec![(
            "00A4040007F070757273650100",
            short,
        )])));
        assert!(matches!(
            d.select(),
            Err(CardError::BadResponse {
                ins: Ins::Select,
                ..
            })
        ));
    }

    /// A card whose applet answers another major version to SELECT gets nothing more: the
    /// message names both versions; another minor version is spoken to.
    #[test]
    fn other_major_version_refused_at_select() {
        // 2.0 (the SP 800-108 session keys), 3.0 (S2 and A3 packets of their own), 4.0 (two
        // session keys), 5.0 (the keystream IV unmasked) and 6.0 (the TDES IV masked by K1) are
        // refused like 1.0
        for (major, prev) in [
            (1u8, "01"),
            (2, "02"),
            (3, "03"),
            (4, "04"),
            (5, "05"),
            (6, "06"),
        ] {
            let old = BLANK_SELECT.replacen("07", prev, 1);
            let old: &'static str = Box::leak(old.into_boxed_str());
            let mut c = PurseCard::new(Script(VecDeque::from(vec![(
                "00A4040007F070757273650100",
                old,
            )])));
            c.reader = "Reader 0".into();
            let e = c.select().unwrap_err();
            assert!(matches!(
                e,
                CardError::OtherVersion {
                    major: m,
                    minor: 0,
                    ..
                } if m == major
            ));
            assert_eq!(
                crate::error::Failure::kind(&e),
                crate::error::Kind::NoApplet
            );
            let m = e.to_string();
            assert!(
                m.contains(&format!(
                    "runs purse applet {major}.0, this purse speaks {}.{}",
                    consts::VERSION_MAJOR,
                    consts::VERSION_MINOR
                )),
                "{m}"
            );
            assert!(m.contains("\"Reader 0\""), "{m}");
            assert_eq!(c.apdus(), 1, "nothing after the SELECT");
            assert!(c.selected.is_none());
        }
        let newer_minor = BLANK_SELECT.replacen("0700", "0707", 1);
        let newer_minor: &'static str = Box::leak(newer_minor.into_boxed_str());
        let mut c = PurseCard::new(Script(VecDeque::from(vec![(
            "00A4040007F070757273650100",
            newer_minor,
        )])));
        assert_eq!(c.select().unwrap().ver_minor, 7);
        // a later major version answering another SELECT length is still named as such
        let mut c = PurseCard::new(Script(VecDeque::from(vec![(
            "00A4040007F070757273650100",
            "0801019000",
        )])));
        assert!(matches!(
            c.select().unwrap_err(),
            CardError::OtherVersion {
                major: 8,
                minor: 1,
                ..
            }
        ));
    }

    /// 74 in two halves: P1 01 with S1 (answers nothing), then P1 02 with no data (Le only,
    /// answers the P5); a half of the wrong length or type is a bad answer.
    #[test]
    fn sync_card_s1_split_sends_both_halves() {
        fn leak(s: String) -> &'static str {
            Box::leak(s.into_boxed_str())
        }
        let s1 = [0x51u8; 64];
        let p5 = format!("55{}", "00".repeat(95));
        let s2 = format!("52{}", "00".repeat(63));
        let first = leak(format!("8074010040{}00", hex::encode_upper(s1)));
        let mut c = PurseCard::new(Script(VecDeque::from(vec![
            (first, "9000"),
            ("8074020000", leak(format!("{p5}9000"))),
            (first, "9000"),
            ("8074020000", leak(format!("{}9000", &p5[2..]))),
            // a first half that answers data (a 3.x card's S2) is a bad answer
            (first, leak(format!("{s2}9000"))),
            (first, "6985"),
        ])));
        let r = c.sync_card_s1_split(&s1).unwrap();
        assert_eq!((r.packet.len(), r.packet[0]), (96, consts::PT_P5));
        let e = c.sync_card_s1_split(&s1).unwrap_err();
        assert!(matches!(e, CardError::BadResponse { .. }), "{e}");
        let e = c.sync_card_s1_split(&s1).unwrap_err();
        assert!(matches!(e, CardError::BadResponse { .. }), "{e}");
        let e = c.sync_card_s1_split(&s1).unwrap_err();
        assert_eq!(e.sw(), Some(Sw::Conditions));
    }

    /// 78 answers SACK | STATUS; a bare SACK is taken too (the card has committed: the bank
    /// must still get its SACK), with no status; any other length is a bad answer.
    #[test]
    fn sync_card_p6_takes_the_sack_and_the_status() {
        fn leak(s: String) -> &'static str {
            Box::leak(s.into_boxed_str())
        }
        let p6 = [0x56u8; 80];
        let cmd = leak(format!("8078000050{}00", hex::encode_upper(p6)));
        let sack = format!("57{}", "AB".repeat(47));
        let status = &BLANK_STATUS[..BLANK_STATUS.len() - 4];
        let mut c = PurseCard::new(Script(VecDeque::from(vec![
            (cmd, leak(format!("{sack}{status}9000"))),
            (cmd, leak(format!("{sack}9000"))),
            (cmd, leak(format!("{sack}00009000"))),
        ])));
        let a = c.sync_card_p6(&p6).unwrap().expect("a P6 applied");
        assert_eq!(hex::encode_upper(&a.sack), sack);
        let st = a.status.expect("the status after the SACK");
        assert_eq!((st.life, st.tk_tries), (Life::Blank, 15));
        let a = c.sync_card_p6(&p6).unwrap().expect("a bare SACK");
        assert_eq!((a.sack.len(), a.status.is_none()), (48, true));
        let e = c.sync_card_p6(&p6).unwrap_err();
        assert!(matches!(e, CardError::BadResponse { .. }), "{e}");
    }

    #[test]
    fn select_and_cmd_map_status_words() {
        let mut c = PurseCard::new(Script(VecDeque::from(vec![
            ("00A4040007F070757273650100", BLANK_SELECT),
            ("8030000000", "9D01"),
            ("80200001043132333400", "63C2"),
            ("801A0000060000000A250000", "9D16"),
        ])));
        let s = c.select().unwrap();
        assert_eq!((s.life, s.suite), (Life::Blank, Suite::Aes128));
        let e = c.cmd(Ins::GetStatus, 0, 0, &[]).unwrap_err();
        assert_eq!(e.sw(), Some(Sw::Locked));
        assert_eq!(crate::error::Failure::kind(&e), crate::error::Kind::Refused);
        assert!(e.to_string().contains("sync it with its bank"), "{e}");
        let e = c.verify(SecretRef::Pin, b"1234").unwrap_err();
        assert_eq!(
            e.to_string(),
            "wrong PIN, 2 tries left: check it and retry carefully [63C2]"
        );
        let e = c.mint(10, 0x2500).unwrap_err();
        assert!(e.to_string().contains("creation secret"), "{e}");
    }

    #[test]
    fn every_status_word_says_what_to_do() {
        for sw in Sw::all_named()
            .into_iter()
            .chain([Sw::VerifyFailed(1), Sw::Other(0x6A88)])
        {
            if sw == Sw::Ok {
                continue;
            }
            for ins in [Ins::XferPayerInit, Ins::Mint, Ins::Verify, Ins::IssueBegin] {
                let a = describe(ins, sw);
                assert!(
                    !a.what.is_empty() && !a.todo.is_empty(),
                    "{sw:?} at {ins:?}: {a:?}"
                );
                assert!(a.full().ends_with(&format!("[{:04X}]", sw.code())));
            }
        }
        assert_eq!(
            describe(Ins::XferPayerInit, Sw::NoCommonKeys).full(),
            "the cards share fewer than two keys (or use different crypto suites): sync the older card with its bank [9D02]"
        );
    }
}
