//! Administration of bank cards (protocol.md 12.8, F16-F19): an admin card and a bank card
//! (center, region or branch) in two readers, authenticated card to card; the host relays
//! A1 / A2 / A4 and never sees a key. One op per exchange (ADD, REMOVE, RATE, RANGE), six
//! APDUs each (VERIFY PIN, 82 admin, 82 bank, 84, 86, 88): the admin PIN is reset by ADMIN_OP, so
//! it is verified again for every op. Also reads the bank files (READ_BAD_CARDS, no PIN).
use serde::Serialize;

use crate::card::bank::{AdminAck, BadCardEntry, BadCardPage, BatchAck, ADMIN_REQ_LEN};
use crate::card::{CardError, PurseCard};
use crate::proto::consts::{self, Ins, Life, Role, SecretRef, Sw};
use crate::proto::rate::format_rate;
use crate::proto::types::{Account, Status};
use crate::transport::CardIo;

/// An administrative operation on a bank card (protocol.md 12.8, OPs and PARAMS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum AdminOp {
    BadCardAdd { account: Account },
    BadCardRemove { account: Account },
    SetRate { rate: u32 },
    SetRange { low: Account, high: Account },
}

impl AdminOp {
    pub fn code(&self) -> u8 {
        match self {
            AdminOp::BadCardAdd { .. } => consts::OP_BAD_CARD_ADD,
            AdminOp::BadCardRemove { .. } => consts::OP_BAD_CARD_REMOVE,
            AdminOp::SetRate { .. } => consts::OP_SET_RATE,
            AdminOp::SetRange { .. } => consts::OP_SET_RANGE,
        }
    }

    /// PARAMS (16 bytes, zero padded).
    pub fn params(&self) -> [u8; consts::ADMIN_PARAMS_LEN as usize] {
        let mut p = [0u8; consts::ADMIN_PARAMS_LEN as usize];
        match self {
            AdminOp::BadCardAdd { account } | AdminOp::BadCardRemove { account } => {
                p[..8].copy_from_slice(&account.0)
            }
            AdminOp::SetRate { rate } => p[..4].copy_from_slice(&rate.to_be_bytes()),
            AdminOp::SetRange { low, high } => {
                p[..8].copy_from_slice(&low.0);
                p[8..].copy_from_slice(&high.0);
            }
        }
        p
    }

    /// REQ of ADMIN_INIT P1 00: OP | PARAMS | DATE.
    pub fn request(&self, date: u16) -> [u8; ADMIN_REQ_LEN] {
        let mut r = [0u8; ADMIN_REQ_LEN];
        let (op, params, at) = (
            consts::AREQ_OP as usize,
            consts::AREQ_PARAMS as usize,
            consts::AREQ_DATE as usize,
        );
        r[op] = self.code();
        r[params..at].copy_from_slice(&self.params());
        r[at..].copy_from_slice(&date.to_be_bytes());
        r
    }

    /// Host-side checks the admin card repeats (row AI): valid accounts, a sane range.
    pub fn check(&self) -> Result<(), String> {
        match self {
            AdminOp::BadCardAdd { account } | AdminOp::BadCardRemove { account } => {
                if !account.is_valid() {
                    return Err(format!("{account} is not a valid account number"));
                }
            }
            AdminOp::SetRate { .. } => {}
            AdminOp::SetRange { low, high } => {
                if !low.is_valid() || !high.is_valid() {
                    return Err("the range bounds must be valid account numbers".into());
                }
                if low.0[..4] != high.0[..4] {
                    return Err(format!(
                        "{low} and {high} must share their first 8 digits (one block of 10^8 accounts)"
                    ));
                }
                if low > high {
                    return Err(format!("LOW {low} is above HIGH {high}"));
                }
            }
        }
        Ok(())
    }

    /// What the op does, for people.
    pub fn describe(&self) -> String {
        match self {
            AdminOp::BadCardAdd { account } => format!("list {account} as a bad card"),
            AdminOp::BadCardRemove { account } => format!("remove {account} from the bad cards"),
            AdminOp::SetRate { rate } => format!(
                "set the interest rate to {} % a year (RATE {rate:08X})",
                format_rate(*rate)
            ),
            AdminOp::SetRange { low, high } => format!("serve accounts {low} .. {high}"),
        }
    }
}

/// The verified result of one op.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct AdminOutcome {
    #[serde(flatten)]
    pub op: AdminOp,
    /// false: nothing to change (already listed, same value)
    pub changed: bool,
    /// BAD_CARD entries after the op
    pub count: u16,
    pub bank_account: Account,
}

/// Why an admin op failed, with the card's refusal kept and a precise reason.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// Reading a card's status or files failed (before or outside an op's exchange).
    #[error(transparent)]
    Card(#[from] CardError),
    /// A card failed at `step` of an op (`side`: "admin" or "bank"). The card's message only
    /// (not a `#[source]`: anyhow's `{:#}` would print it twice).
    #[error("{err}")]
    At {
        step: AdminStep,
        side: &'static str,
        err: CardError,
    },
    /// 9D24 explained from the list: listed too recently, `epochs` ago of the needed 7.
    #[error("{account} was listed {epochs} epoch(s) ago: it can be removed after {} more epoch(s), once its keys have expired [9D24]", consts::BAD_CARD_EXPIRY as u8 - epochs)]
    NotExpired { account: Account, epochs: u8 },
    /// 9D24 explained from the list: not on this bank card.
    #[error("{account} is not on the BAD_CARD list of this bank card [9D24]")]
    NotListed { account: Account },
    /// Refused by host checks before any card was asked.
    #[error("{0}")]
    Invalid(String),
}

/// The exchange of one admin op (protocol.md 12.8): VERIFY PIN, 82 on the admin card, 82 on the
/// bank card, 84, 86, 88.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum AdminStep {
    Verify,
    AdminInit,
    BankInit,
    AdminOp,
    BankApply,
    AdminAck,
}

impl crate::error::Failure for AdminError {
    fn step(&self) -> Option<String> {
        match self {
            AdminError::At { step, .. } => Some(format!("{step:?}")),
            _ => None,
        }
    }
    fn side(&self) -> Option<String> {
        match self {
            AdminError::At { side, .. } => Some((*side).into()),
            _ => None,
        }
    }
    fn kind(&self) -> crate::error::Kind {
        match self {
            AdminError::Card(e) | AdminError::At { err: e, .. } => e.kind(),
            AdminError::NotExpired { .. } | AdminError::NotListed { .. } => {
                crate::error::Kind::Refused
            }
            AdminError::Invalid(_) => crate::error::Kind::Precheck,
        }
    }
    fn sw(&self) -> Option<u16> {
        match self {
            AdminError::Card(e) | AdminError::At { err: e, .. } => e.sw_code(),
            other => other.sw().map(|s| s.code()),
        }
    }
}

impl AdminError {
    pub fn sw(&self) -> Option<Sw> {
        match self {
            AdminError::Card(e) | AdminError::At { err: e, .. } => e.sw(),
            AdminError::NotExpired { .. } | AdminError::NotListed { .. } => Some(Sw::NotListed),
            AdminError::Invalid(_) => None,
        }
    }
}

/// Check both cards' roles and state before any secret is sent (the cards re-check).
pub fn precheck<A: CardIo, B: CardIo>(
    admin: &mut PurseCard<A>,
    bank: &mut PurseCard<B>,
) -> Result<(Status, Status), AdminError> {
    let a = admin.get_status()?;
    let b = bank.get_status()?;
    let p = problems(&a, &admin.reader, &b, &bank.reader);
    if !p.is_empty() {
        return Err(AdminError::Invalid(p.join("; ")));
    }
    Ok((a, b))
}

/// What the host can tell from both cards' status before any secret is sent (the cards
/// re-check): the admin card is an active admin card, the bank card an active bank card, both
/// of one system. Empty = go on.
pub fn problems(a: &Status, admin_reader: &str, b: &Status, bank_reader: &str) -> Vec<String> {
    let mut p = Vec::new();
    if a.life != Life::Active || a.role != Role::Admin {
        p.push(format!(
            "the card in {admin_reader} is not an admin card (it is a {} {} card)",
            a.life.name(),
            a.role.name()
        ));
    }
    if b.life != Life::Active || !b.role.is_bank() {
        p.push(format!(
            "the card in {bank_reader} is not a bank card (center, region or branch): it is a {} {} card",
            b.life.name(),
            b.role.name()
        ));
    }
    if p.is_empty() && a.app_id != b.app_id {
        p.push("the admin card and the bank card belong to different systems".into());
    }
    p
}

/// Run one op: VERIFY PIN on the admin card, then 82/82/84/86/88. Both cards stay connected.
pub fn run_op<A: CardIo, B: CardIo>(
    admin: &mut PurseCard<A>,
    bank: &mut PurseCard<B>,
    pin: &[u8],
    op: &AdminOp,
    date: u16,
) -> Result<AdminOutcome, AdminError> {
    op.check().map_err(AdminError::Invalid)?;
    let at = |step, side| move |err| AdminError::At { step, side, err };
    admin
        .verify(SecretRef::Pin, pin)
        .map_err(at(AdminStep::Verify, "admin"))?;
    let hello = admin
        .admin_init_admin(&op.request(date))
        .map_err(at(AdminStep::AdminInit, "admin"))?;
    let a1 = bank
        .admin_init_bank(hello)
        .map_err(at(AdminStep::BankInit, "bank"))?;
    let a2 = admin
        .admin_op(&a1)
        .map_err(at(AdminStep::AdminOp, "admin"))?;
    let a4 = match bank.admin_apply(&a2) {
        Ok(a4) => a4,
        Err(e) => {
            let failed = |err| AdminError::At {
                step: AdminStep::BankApply,
                side: "bank",
                err,
            };
            if let (AdminOp::BadCardRemove { account }, Some(Sw::NotListed)) = (op, e.sw()) {
                return Err(explain_not_removable(bank, account).unwrap_or_else(|| failed(e)));
            }
            return Err(failed(e));
        }
    };
    let AdminAck {
        changed,
        count,
        bank_account,
    } = admin
        .admin_ack(&a4)
        .map_err(at(AdminStep::AdminAck, "admin"))?;
    Ok(AdminOutcome {
        op: *op,
        changed,
        count,
        bank_account,
    })
}

/// Run several ops in order on the same two connections; `each` sees every outcome as it
/// comes (progress). Stops at the first failure: (outcomes so far, the error). A run of two or
/// more BAD_CARD_ADD ops goes in one admin session, up to 46 accounts per batch (`run_adds`).
pub fn run_ops<A: CardIo, B: CardIo>(
    admin: &mut PurseCard<A>,
    bank: &mut PurseCard<B>,
    pin: &[u8],
    ops: &[AdminOp],
    date: u16,
    mut each: impl FnMut(usize, &AdminOutcome),
) -> (Vec<AdminOutcome>, Option<AdminError>) {
    let mut out = Vec::with_capacity(ops.len());
    let mut i = 0;
    while i < ops.len() {
        let run = ops[i..]
            .iter()
            .take_while(|o| matches!(o, AdminOp::BadCardAdd { .. }))
            .count();
        if run >= 2 {
            let accounts: Vec<Account> = ops[i..i + run]
                .iter()
                .filter_map(|o| match o {
                    AdminOp::BadCardAdd { account } => Some(*account),
                    _ => None,
                })
                .collect();
            let base = i;
            let r = run_adds(admin, bank, pin, &accounts, date, |k, o| {
                each(base + k, o);
                out.push(*o);
            });
            if let Err(e) = r {
                return (out, Some(e));
            }
            i += run;
            continue;
        }
        match run_op(admin, bank, pin, &ops[i], date) {
            Ok(o) => {
                each(i, &o);
                out.push(o);
            }
            Err(e) => return (out, Some(e)),
        }
        i += 1;
    }
    (out, None)
}

/// BAD_CARD_ADD of many accounts in one admin session (protocol.md 12.8 "Batches"): VERIFY PIN,
/// the ADD op of the first account (82, 82, 84, 86), then per batch of up to 46 accounts sharing
/// their first 8 digits one 84 P1 01 (the admin card verifies the bank's last answer and seals the
/// batch) and one 86 P1 01 (the bank card adds the batch in one transaction), and a closing 88.
/// `each` gets every account's verified outcome, in order. A batch the bank card refuses for its
/// content (outside the range 9D21, list full 9D23) is retried account by account in fresh
/// sessions, so the refusal names the exact account and the accounts before it are listed.
pub fn run_adds<A: CardIo, B: CardIo>(
    admin: &mut PurseCard<A>,
    bank: &mut PurseCard<B>,
    pin: &[u8],
    accounts: &[Account],
    date: u16,
    mut each: impl FnMut(usize, &AdminOutcome),
) -> Result<(), AdminError> {
    adds(admin, bank, pin, accounts, date, 0, &mut each)
}

/// `run_adds` of `accounts`, the first being account `base` of the caller's list.
fn adds<A: CardIo, B: CardIo>(
    admin: &mut PurseCard<A>,
    bank: &mut PurseCard<B>,
    pin: &[u8],
    accounts: &[Account],
    date: u16,
    base: usize,
    each: &mut dyn FnMut(usize, &AdminOutcome),
) -> Result<(), AdminError> {
    let Some(first) = accounts.first() else {
        return Ok(());
    };
    let mk = |account: Account, changed: bool, a: &BatchAck| AdminOutcome {
        op: AdminOp::BadCardAdd { account },
        changed,
        count: a.count,
        bank_account: a.bank_account,
    };
    for a in accounts {
        AdminOp::BadCardAdd { account: *a }
            .check()
            .map_err(AdminError::Invalid)?;
    }
    let op = AdminOp::BadCardAdd { account: *first };
    let at_ = |step, side| move |err| AdminError::At { step, side, err };
    admin
        .verify(SecretRef::Pin, pin)
        .map_err(at_(AdminStep::Verify, "admin"))?;
    let hello = admin
        .admin_init_admin(&op.request(date))
        .map_err(at_(AdminStep::AdminInit, "admin"))?;
    let a1 = bank
        .admin_init_bank(hello)
        .map_err(at_(AdminStep::BankInit, "bank"))?;
    let a2 = admin
        .admin_op(&a1)
        .map_err(at_(AdminStep::AdminOp, "admin"))?;
    // A4 of the first account
    let mut prev = bank
        .admin_apply(&a2)
        .map_err(at_(AdminStep::BankApply, "bank"))?;
    let mut pending: &[Account] = &accounts[..1];
    let mut at = base; // index of pending[0]
    let mut rest = &accounts[1..];
    // SEQ 1..=255 per session (the cards refuse a 256th batch): more goes on in a new session
    let mut batches = 0u8;
    while !rest.is_empty() && batches < consts::BATCH_SEQ_LAST {
        let prefix: [u8; 4] = rest[0].0[..4].try_into().expect("4");
        let n = rest
            .iter()
            .take(consts::BATCH_MAX as usize)
            .take_while(|a| a.0[..4] == prefix)
            .count();
        let (batch, tail) = rest.split_at(n);
        let lows: Vec<[u8; 4]> = batch
            .iter()
            .map(|a| a.0[4..].try_into().expect("4"))
            .collect();
        let (ack, a5) = admin
            .admin_op_more(&prev, prefix, &lows)
            .map_err(at_(AdminStep::AdminOp, "admin"))?;
        report_batch(&ack, pending, at, &mk, each)?;
        at += pending.len();
        match bank.admin_apply_more(n, &a5) {
            Ok(a6) => prev = a6,
            Err(e) if matches!(e.sw(), Some(Sw::AccountOutOfRange | Sw::BadCardListFull)) => {
                // the whole batch was refused: one op per account says which one and why
                for (k, a) in batch.iter().enumerate() {
                    let o = run_op(admin, bank, pin, &AdminOp::BadCardAdd { account: *a }, date)?;
                    each(at + k, &o);
                }
                // nothing refused one by one (e.g. entries removed meanwhile): go on in a new session
                return adds(admin, bank, pin, tail, date, at + n, each);
            }
            Err(e) => return Err(at_(AdminStep::BankApply, "bank")(e)),
        }
        pending = batch;
        rest = tail;
        batches += 1;
    }
    let ack = if batches == 0 {
        let AdminAck {
            changed,
            count,
            bank_account,
        } = admin
            .admin_ack(&prev)
            .map_err(at_(AdminStep::AdminAck, "admin"))?;
        let mut bits = [0u8; 6];
        bits[0] = if changed { 0x80 } else { 0 };
        BatchAck {
            n: 1,
            count,
            bits,
            bank_account,
        }
    } else {
        admin
            .admin_ack_more(&prev)
            .map_err(at_(AdminStep::AdminAck, "admin"))?
    };
    report_batch(&ack, pending, at, &mk, each)?;
    if rest.is_empty() {
        return Ok(());
    }
    adds(admin, bank, pin, rest, date, at + pending.len(), each)
}

/// Outcomes of one verified batch result (N must be the batch's size).
fn report_batch(
    ack: &BatchAck,
    batch: &[Account],
    at: usize,
    mk: &impl Fn(Account, bool, &BatchAck) -> AdminOutcome,
    each: &mut dyn FnMut(usize, &AdminOutcome),
) -> Result<(), AdminError> {
    if ack.n as usize != batch.len() {
        return Err(AdminError::Card(CardError::BadResponse {
            ins: Ins::AdminOp,
            msg: format!("a result for {} accounts, {} sent", ack.n, batch.len()),
        }));
    }
    for (k, a) in batch.iter().enumerate() {
        each(at + k, &mk(*a, ack.added(k), ack));
    }
    Ok(())
}

/// 9D24 on REMOVE means "not listed" or "listed < 7 epochs ago": read the list to say which.
fn explain_not_removable<B: CardIo>(
    bank: &mut PurseCard<B>,
    account: &Account,
) -> Option<AdminError> {
    let files = read_bank_files(bank).ok()?;
    Some(match files.find(account) {
        Some(e) => AdminError::NotExpired {
            account: *account,
            epochs: e.epochs,
        },
        None => AdminError::NotListed { account: *account },
    })
}

/// A BAD_CARD entry with its age.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ListedCard {
    #[serde(flatten)]
    pub entry: BadCardEntry,
    /// (bank CURRENT − KEYNUM) mod 256
    pub epochs: u8,
    /// epochs ≥ 7: the card's keys have expired, the entry may be removed
    pub removable: bool,
}

/// The bank files of a bank card (READ_BAD_CARDS, all pages needed for COUNT).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BankFiles {
    pub count: u16,
    pub rate: u32,
    pub low: Account,
    pub high: Account,
    pub arch: u8,
    pub current: u8,
    pub entries: Vec<ListedCard>,
    /// APDUs used to read the list
    pub pages_read: u8,
}

impl BankFiles {
    /// The entry naming `acc` (the card compares the low 8 digits only).
    pub fn find(&self, acc: &Account) -> Option<&ListedCard> {
        self.entries.iter().find(|e| e.entry.matches(acc))
    }
    /// Is `acc` inside VALID_ACCOUNT?
    pub fn serves(&self, acc: &Account) -> bool {
        self.low <= *acc && *acc <= self.high
    }
    /// The full account of an entry (the range's 8-digit prefix + the stored low digits).
    pub fn account_of(&self, e: &BadCardEntry) -> Account {
        let mut a = self.low.0;
        a[consts::BC_ACC_OFF as usize..].copy_from_slice(&e.low);
        Account(a)
    }
}

/// Read every page of the bank files (pages up to COUNT). An empty list needs no APDU while the
/// SELECT's answer (which ends with the files' header) is the last the card sent.
pub fn read_bank_files<B: CardIo>(bank: &mut PurseCard<B>) -> Result<BankFiles, CardError> {
    let (first, mut read): (BadCardPage, u8) = match bank.selected_files() {
        Some(f) if f.count == 0 => (f, 0),
        _ => (bank.read_bad_cards(0)?, 1),
    };
    let pages = (first.count as usize)
        .div_ceil(consts::BC_PAGE as usize)
        .max(1);
    if pages > consts::BC_PAGES as usize {
        return Err(CardError::BadResponse {
            ins: Ins::ReadBadCards,
            msg: format!("COUNT {} above 1200", first.count),
        });
    }
    let current = first.current;
    let mut raw = first.entries.clone();
    for p in 1..pages {
        raw.extend(bank.read_bad_cards(p as u8)?.entries);
        read += 1;
    }
    if raw.len() != first.count as usize {
        return Err(CardError::BadResponse {
            ins: Ins::ReadBadCards,
            msg: format!("{} entries read, COUNT {}", raw.len(), first.count),
        });
    }
    let entries = raw
        .into_iter()
        .map(|entry| {
            let epochs = current.wrapping_sub(entry.keynum);
            ListedCard {
                entry,
                epochs,
                removable: epochs as u16 >= consts::BAD_CARD_EXPIRY,
            }
        })
        .collect();
    Ok(BankFiles {
        count: first.count,
        rate: first.rate,
        low: first.low,
        high: first.high,
        arch: first.arch,
        current,
        entries,
        pages_read: read,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(life: Life, role: Role, app: u8) -> Status {
        let mut s = Status::parse(&[0u8; consts::STATUS_LEN as usize]).expect("zeros parse");
        s.life = life;
        s.role = role;
        s.app_id = [app; 8];
        s
    }

    #[test]
    fn problems_name_the_wrong_card() {
        let admin = status(Life::Active, Role::Admin, 1);
        let branch = status(Life::Active, Role::Branch, 1);
        assert!(problems(&admin, "A", &branch, "B").is_empty());
        let p = problems(&branch, "A", &admin, "B");
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("in A is not an admin card"), "{p:?}");
        assert!(p[1].contains("in B is not a bank card"), "{p:?}");
        let other = status(Life::Active, Role::Region, 2);
        let p = problems(&admin, "A", &other, "B");
        assert_eq!(
            p,
            ["the admin card and the bank card belong to different systems"]
        );
    }
}
