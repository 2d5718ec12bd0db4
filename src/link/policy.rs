//! What a holder's side lets the remote driver send to its card (docs/remote.md "Restricted
//! remote card"). The peer only ever gets the commands its role needs for the agreed operation,
//! in order; never VERIFY, CHANGE REFERENCE DATA, PENDING_TO_EXCEPTION, issuance, mint, admin,
//! privacy, or anything that pays out from this card. The cards' own checks stay in force; this
//! is a second fence so that a hostile peer cannot use our card as an oracle or burn our PIN.
use crate::apdu::Command;
use crate::proto::consts::{self, Ins};

/// The operation agreed on the link, from this card's point of view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// This card receives `amount` (minor units) in a payment.
    Payee { amount: u32 },
    /// This card is being synced by the bank's service (its holder's PIN verified locally).
    Synced,
    /// Finish an interrupted transfer between this card and the peer's.
    Resume,
}

/// A per-session filter over the commands a peer sends.
#[derive(Clone, Debug)]
pub struct Policy {
    pub role: Role,
    /// Commands forwarded so far.
    pub forwarded: u32,
    /// Upper bound of forwarded commands in one session (a peer cannot keep a card busy forever).
    pub max_commands: u32,
    seen_payee_p1: bool,
    seen_sync_init: bool,
    sync_s1: S1Seen,
}

/// How far SYNC_CARD_S1 has gone: whole (P1 00) or its two halves (P1 01, then P1 02).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum S1Seen {
    No,
    /// P1 01 forwarded: only P1 02 may follow (and the reads every role may do)
    FirstHalf,
    /// P1 00 or P1 02 forwarded: the card holds IN = SYNC
    Done,
}

/// What to do with one command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Send it to the card.
    Forward,
    /// Answer with the SELECT answer cached when the session opened: re-selecting would end
    /// this holder's PIN validation (protocol.md: validations end at (de)select).
    CachedSelect,
    /// Refuse; the text says why (sent to the peer, the card never sees the command).
    Refuse(String),
}

impl Policy {
    pub fn new(role: Role) -> Self {
        Policy {
            role,
            forwarded: 0,
            max_commands: 400,
            seen_payee_p1: false,
            seen_sync_init: false,
            sync_s1: S1Seen::No,
        }
    }

    /// Judge one command (and record it as sent when it is forwarded).
    pub fn check(&mut self, c: &Command) -> Verdict {
        let v = self.judge(c);
        if v == Verdict::Forward {
            self.forwarded += 1;
        }
        v
    }

    fn judge(&mut self, c: &Command) -> Verdict {
        let refuse = |s: String| Verdict::Refuse(s);
        if self.forwarded >= self.max_commands {
            return refuse(format!(
                "more than {} commands in one session",
                self.max_commands
            ));
        }
        if c.cla == 0x00 && c.ins == 0xA4 {
            return if c.p1 == 0x04 && c.data == consts::PURSE_AID {
                Verdict::CachedSelect
            } else {
                refuse("SELECT of another application".into())
            };
        }
        if c.cla != consts::CLA_PURSE {
            return refuse(format!("class byte {:02X}", c.cla));
        }
        let ins = Ins::from_code(c.ins);
        let name = format!("{ins:?} ({:02X})", c.ins);
        // reads every role may do
        if matches!(ins, Ins::GetStatus | Ins::GetPending) {
            return Verdict::Forward;
        }
        match &self.role {
            Role::Payee { amount } => match ins {
                // the payee session was armed by the SELECT this side answered for the peer
                // (protocol.md 6.1): 44 carries the amount, once, exactly the agreed one
                Ins::XferPayeeP1 => {
                    if self.seen_payee_p1 {
                        return refuse("a second XFER_PAYEE_P1 in one payment".into());
                    }
                    if c.data.len() < 4 {
                        return refuse("XFER_PAYEE_P1 without an amount".into());
                    }
                    let a = u32::from_be_bytes([c.data[0], c.data[1], c.data[2], c.data[3]]);
                    if a != *amount {
                        return refuse(format!(
                            "XFER_PAYEE_P1 for {a} minor units, but this holder agreed to {amount}"
                        ));
                    }
                    self.seen_payee_p1 = true;
                    Verdict::Forward
                }
                Ins::XferPayeeP4 => {
                    if !self.seen_payee_p1 {
                        return refuse("XFER_PAYEE_P4 before XFER_PAYEE_P1".into());
                    }
                    Verdict::Forward
                }
                // session abort and abandoning an expectation are value-safe for the payee
                // (it never credited); outcome reads carry no secret
                Ins::XferAbort | Ins::ResumeGetOutcome => Verdict::Forward,
                _ => refuse(format!("{name} is not part of receiving a payment")),
            },
            Role::Synced
                if self.sync_s1 == S1Seen::FirstHalf
                    && !(ins == Ins::SyncCardS1 && c.p1 == consts::S1_P5) =>
            {
                refuse(format!(
                    "{name} between the two halves of SYNC_CARD_S1 (only its P1 02 may follow)"
                ))
            }
            Role::Synced => match ins {
                Ins::SyncCardInit => {
                    if self.seen_sync_init {
                        return refuse("a second SYNC_CARD_INIT in one sync".into());
                    }
                    self.seen_sync_init = true;
                    Verdict::Forward
                }
                // whole (P1 00) or the two halves in order (P1 01, then P1 02), once
                Ins::SyncCardS1 => {
                    let next = match (c.p1, self.sync_s1) {
                        (consts::S1_WHOLE, S1Seen::No) => S1Seen::Done,
                        (consts::S1_DIGEST, S1Seen::No) => S1Seen::FirstHalf,
                        (consts::S1_P5, S1Seen::FirstHalf) => S1Seen::Done,
                        _ => return refuse(format!("SYNC_CARD_S1 P1 {:02X} out of order", c.p1)),
                    };
                    if !self.seen_sync_init || c.p2 != 0 {
                        return refuse("SYNC_CARD_S1 out of order".into());
                    }
                    self.sync_s1 = next;
                    Verdict::Forward
                }
                Ins::ReadPassbook | Ins::ReadExceptions => {
                    if self.sync_s1 != S1Seen::Done {
                        return refuse(format!(
                            "{name}: the passbook is read only inside a sync, after SYNC_CARD_S1"
                        ));
                    }
                    Verdict::Forward
                }
                // SYNC_CARD_P6 also finishes an interrupted sync (12.11 row 1)
                Ins::SyncCardP6 | Ins::ResumeGetOutcome => Verdict::Forward,
                // 12.11 row 4: drop an unfinished sync expectation (value-neutral)
                Ins::XferAbort => Verdict::Forward,
                _ => refuse(format!("{name} is not part of a remote sync")),
            },
            Role::Resume => match ins {
                // 6.4: deliver a stored P4 / forward ACK or NACK / abort an expectation
                Ins::XferPayeeP4
                | Ins::XferPayerAck
                | Ins::XferAbort
                | Ins::ResumeGetP4
                | Ins::ResumeGetOutcome
                | Ins::ReadExceptions => Verdict::Forward,
                _ => refuse(format!("{name} is not part of finishing a transfer")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(ins: u8, data: &[u8]) -> Command {
        Command::new(consts::CLA_PURSE, ins, 0, 0)
            .data(data.to_vec())
            .le(256)
    }

    #[test]
    fn payee_order_and_amount() {
        let mut p = Policy::new(Role::Payee { amount: 700 });
        assert!(matches!(p.check(&cmd(0x48, &[0; 10])), Verdict::Refuse(_)));
        assert!(matches!(p.check(&cmd(0x44, &[0, 0])), Verdict::Refuse(_)));
        assert!(matches!(
            p.check(&cmd(0x44, &[0, 0, 2, 0x8A, 0, 1, 0x41])),
            Verdict::Refuse(_)
        ));
        assert_eq!(
            p.check(&cmd(0x44, &[0, 0, 2, 0xBC, 0, 1, 0x41])),
            Verdict::Forward
        );
        assert!(matches!(
            p.check(&cmd(0x44, &[0, 0, 2, 0xBC, 0, 1, 0x41])),
            Verdict::Refuse(_)
        ));
        assert_eq!(p.check(&cmd(0x48, &[0; 10])), Verdict::Forward);
        for bad in [
            0x20, 0x24, 0x40, 0x42, 0x46, 0x54, 0x1A, 0x14, 0x8C, 0x7E, 0x34,
        ] {
            assert!(
                matches!(p.check(&cmd(bad, &[1])), Verdict::Refuse(_)),
                "{bad:02X}"
            );
        }
        let sel = Command::select(&consts::PURSE_AID);
        assert_eq!(p.check(&sel), Verdict::CachedSelect);
        assert!(matches!(
            p.check(&Command::select(&[1, 2, 3])),
            Verdict::Refuse(_)
        ));
    }

    fn cmd_p1(ins: u8, p1: u8, data: &[u8]) -> Command {
        Command::new(consts::CLA_PURSE, ins, p1, 0)
            .data(data.to_vec())
            .le(256)
    }

    #[test]
    fn synced_s1_halves_in_order_only() {
        let fwd =
            |p: &mut Policy, ins: u8, p1: u8| p.check(&cmd_p1(ins, p1, &[1])) == Verdict::Forward;
        // before 70: no half
        let mut p = Policy::new(Role::Synced);
        assert!(!fwd(&mut p, 0x74, consts::S1_DIGEST));
        assert!(!fwd(&mut p, 0x74, consts::S1_P5));
        assert!(fwd(&mut p, 0x70, 0));
        // the second half first, or a P1 outside the table
        assert!(!fwd(&mut p, 0x74, consts::S1_P5));
        assert!(!fwd(&mut p, 0x74, 0x03));
        // first half, then nothing but the second (reads of the status excepted)
        assert!(fwd(&mut p, 0x74, consts::S1_DIGEST));
        for bad in [
            (0x74, consts::S1_DIGEST),
            (0x74, consts::S1_WHOLE),
            (0x34, 0),
            (0x36, 0),
            (0x78, 0),
            (0x4C, 1),
            (0x70, 0),
        ] {
            assert!(!fwd(&mut p, bad.0, bad.1), "{bad:02X?} between the halves");
        }
        assert!(fwd(&mut p, 0x30, 0));
        assert!(fwd(&mut p, 0x74, consts::S1_P5));
        // done: no half again; the passbook reads are open now
        assert!(!fwd(&mut p, 0x74, consts::S1_P5));
        assert!(!fwd(&mut p, 0x74, consts::S1_DIGEST));
        assert!(!fwd(&mut p, 0x74, consts::S1_WHOLE));
        assert!(fwd(&mut p, 0x34, 0));
        assert!(fwd(&mut p, 0x78, 0));
        // the whole step, then no half
        let mut p = Policy::new(Role::Synced);
        assert!(fwd(&mut p, 0x70, 0));
        assert!(fwd(&mut p, 0x74, consts::S1_WHOLE));
        assert!(!fwd(&mut p, 0x74, consts::S1_P5));
        assert!(!fwd(&mut p, 0x74, consts::S1_DIGEST));
        assert!(fwd(&mut p, 0x34, 0));
        // a payee never gets either half
        let mut p = Policy::new(Role::Payee { amount: 1 });
        assert!(!fwd(&mut p, 0x74, consts::S1_DIGEST));
        assert!(!fwd(&mut p, 0x74, consts::S1_P5));
    }

    #[test]
    fn synced_never_verifies_or_unblocks() {
        let mut p = Policy::new(Role::Synced);
        assert!(matches!(p.check(&cmd(0x34, &[])), Verdict::Refuse(_)));
        assert_eq!(p.check(&cmd(0x70, &[])), Verdict::Forward);
        assert_eq!(p.check(&cmd(0x74, &[])), Verdict::Forward);
        assert_eq!(p.check(&cmd(0x34, &[])), Verdict::Forward);
        for bad in [0x20, 0x24, 0x7E, 0x54, 0x40, 0x42, 0x46] {
            assert!(
                matches!(p.check(&cmd(bad, &[1])), Verdict::Refuse(_)),
                "{bad:02X}"
            );
        }
        let mut p = Policy::new(Role::Resume);
        for bad in [0x20, 0x24, 0x54, 0x40, 0x42, 0x44, 0x46, 0x70] {
            assert!(
                matches!(p.check(&cmd(bad, &[1])), Verdict::Refuse(_)),
                "{bad:02X}"
            );
        }
    }
}
