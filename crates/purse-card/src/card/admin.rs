//! Administrative commands (protocol.md 4.1, 5): transport channel (AUTH_INIT/AUTH_FINISH),
//! issuance (ISSUE_BEGIN/AUTH/CONFIRM), MINT, VERIFY / CHANGE REFERENCE DATA, GET_STATUS,
//! GET_PENDING, READ_PASSBOOK, READ_EXCEPTIONS. Packets are opaque bytes here; building and
//! opening the host's own transport packets (genesis) is in `flows::genesis`.
use super::{CardError, PurseCard};
use crate::proto::consts::{self, Ins, SecretRef, Sw};
use crate::proto::types::{Account, ExceptionEntry, PassbookEntry, Pending, Status};
use crate::proto::wire::Fields;
use crate::transport::CardIo;

fn bad(ins: Ins, msg: impl Into<String>) -> CardError {
    CardError::BadResponse {
        ins,
        msg: msg.into(),
    }
}

/// Refusals of VERIFY / CHANGE name the secret.
fn secret_error(which: SecretRef, e: CardError) -> CardError {
    match e {
        CardError::Refused { sw, .. }
            if matches!(
                sw,
                Sw::VerifyFailed(_)
                    | Sw::AuthBlocked
                    | Sw::WrongData
                    | Sw::Conditions
                    | Sw::WrongP1P2
            ) =>
        {
            CardError::Secret { which, sw }
        }
        e => e,
    }
}

/// Result of VERIFY with empty data: is the secret validated in this session?
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum VerifyState {
    Validated,
    /// Not validated; this many tries left.
    NotValidated(u8),
    Blocked,
}

impl<T: CardIo> PurseCard<T> {
    /// GET_STATUS (68 bytes, protocol.md 4.3). Works on blank and personalised cards, no PIN.
    /// Answered from the last SELECT's answer, which carries the same 68 bytes (4.1), while no
    /// command was sent since: no APDU.
    pub fn get_status(&mut self) -> Result<Status, CardError> {
        let d = match self.selected_status() {
            Some(d) => d,
            None => self.cmd_len(Ins::GetStatus, 0, 0, &[], consts::STATUS_LEN as usize)?,
        };
        Status::parse(&d).map_err(|e| bad(Ins::GetStatus, e.0))
    }

    /// GET_PENDING (88 bytes, protocol.md 4.4). ACTIVE cards only.
    pub fn get_pending(&mut self) -> Result<Pending, CardError> {
        let d = self.cmd_len(Ins::GetPending, 0, 0, &[], consts::PENDING_LEN as usize)?;
        Pending::parse(&d).map_err(|e| bad(Ins::GetPending, e.0))
    }

    /// AUTH_INIT(RH) on a blank card: answers RC | CC.
    pub fn auth_init(&mut self, rh: &[u8; 8]) -> Result<([u8; 8], [u8; 8]), CardError> {
        let n = consts::RANDOM_LEN;
        let d = self.cmd_len(Ins::AuthInit, 0, 0, rh, 2 * n as usize)?;
        let f = Fields(&d);
        Ok((f.arr(0), f.arr(n)))
    }

    /// AUTH_FINISH(HC | G1 or I1) on a blank card: personalises it; answers G2 / I2.
    pub fn auth_finish(&mut self, hc: &[u8; 8], packet: &[u8]) -> Result<Vec<u8>, CardError> {
        let mut data = hc.to_vec();
        data.extend_from_slice(packet);
        let d = self.cmd(Ins::AuthFinish, 0, 0, &data)?;
        if d.len() != 40 && d.len() != 48 {
            return Err(bad(
                Ins::AuthFinish,
                format!("G2/I2 of {} bytes (expected 48 or 40)", d.len()),
            ));
        }
        Ok(d)
    }

    /// ISSUE_BEGIN(ISSUE_REQ) on the issuer: answers RH (8).
    pub fn issue_begin(&mut self, req: &[u8]) -> Result<[u8; 8], CardError> {
        let d = self.cmd_len(Ins::IssueBegin, 0, 0, req, consts::RANDOM_LEN as usize)?;
        Ok(Fields(&d).arr(0))
    }

    /// ISSUE_AUTH(RC | CC) on the issuer: allocates the account; answers (HC, I1).
    pub fn issue_auth(
        &mut self,
        rc: &[u8; 8],
        cc: &[u8; 8],
    ) -> Result<([u8; 8], Vec<u8>), CardError> {
        let mut data = rc.to_vec();
        data.extend_from_slice(cc);
        let d = self.cmd(Ins::IssueAuth, 0, 0, &data)?;
        if !(8 + 160..=8 + 208).contains(&d.len()) {
            return Err(bad(Ins::IssueAuth, format!("HC | I1 of {} bytes", d.len())));
        }
        let n = consts::MAC_LEN;
        Ok((Fields(&d).arr(0), d[n as usize..].to_vec()))
    }

    /// ISSUE_CONFIRM(I2) on the issuer: answers the new card's ACCOUNT.
    pub fn issue_confirm(&mut self, i2: &[u8]) -> Result<Account, CardError> {
        let d = self.cmd_len(Ins::IssueConfirm, 0, 0, i2, consts::ACCOUNT_LEN as usize)?;
        Ok(Fields(&d).account(0))
    }

    /// MINT(AMOUNT | DATE) on the center (creation secret verified first): answers the new balance.
    pub fn mint(&mut self, amount: u32, date: u16) -> Result<u32, CardError> {
        let mut data = amount.to_be_bytes().to_vec();
        data.extend_from_slice(&date.to_be_bytes());
        let d = self.cmd_len(Ins::Mint, 0, 0, &data, consts::AMOUNT_LEN as usize)?;
        Ok(Fields(&d).u32(0))
    }

    /// VERIFY a secret. Wrong: `Refused { sw: VerifyFailed(tries_left) }`; blocked: `AuthBlocked`.
    pub fn verify(&mut self, which: SecretRef, secret: &[u8]) -> Result<(), CardError> {
        if secret.is_empty() {
            return Err(CardError::Invalid(format!("empty {}", which.name())));
        }
        self.cmd(Ins::Verify, 0, which.code(), secret)
            .map(|_| ())
            .map_err(|e| secret_error(which, e))
    }

    /// VERIFY with empty data: is the secret validated now, how many tries are left?
    pub fn verify_state(&mut self, which: SecretRef) -> Result<VerifyState, CardError> {
        let (_, sw) = self.raw(consts::CLA_PURSE, Ins::Verify.code(), 0, which.code(), &[])?;
        match sw {
            Sw::Ok => Ok(VerifyState::Validated),
            Sw::VerifyFailed(0) | Sw::AuthBlocked => Ok(VerifyState::Blocked),
            Sw::VerifyFailed(n) => Ok(VerifyState::NotValidated(n)),
            sw => Err(CardError::Refused {
                ins: Ins::Verify,
                sw,
            }),
        }
    }

    /// CHANGE REFERENCE DATA: Lold old Lnew new (old is verified, counts a try).
    pub fn change_secret(
        &mut self,
        which: SecretRef,
        old: &[u8],
        new: &[u8],
    ) -> Result<(), CardError> {
        let max = consts::SECRET_MAX as usize;
        if old.len() > max || new.len() > max {
            return Err(CardError::Invalid(
                "secrets are at most 16 characters".into(),
            ));
        }
        let mut data = vec![old.len() as u8];
        data.extend_from_slice(old);
        data.push(new.len() as u8);
        data.extend_from_slice(new);
        self.cmd(Ins::ChangeRef, 0, which.code(), &data)
            .map(|_| ())
            .map_err(|e| secret_error(which, e))
    }

    /// READ_PASSBOOK(first, count 1..6), PIN verified.
    pub fn read_passbook(&mut self, first: u8, count: u8) -> Result<Vec<PassbookEntry>, CardError> {
        let n = consts::PB_ENTRY_LEN as usize;
        let d = self.cmd_len(Ins::ReadPassbook, first, count, &[], count as usize * n)?;
        d.chunks(n)
            .map(|c| PassbookEntry::parse(c).map_err(|e| bad(Ins::ReadPassbook, e.0)))
            .collect()
    }

    /// The whole passbook (`count` entries from GET_STATUS), 5 entries per APDU. PIN verified.
    pub fn read_passbook_all(&mut self, count: u8) -> Result<Vec<PassbookEntry>, CardError> {
        let mut out = Vec::with_capacity(count as usize);
        let mut first = 0u8;
        while first < count {
            let n = (count - first).min(consts::PB_READ_MAX as u8);
            out.extend(self.read_passbook(first, n)?);
            first += n;
        }
        Ok(out)
    }

    /// READ_EXCEPTIONS: n × 24.
    pub fn read_exceptions(&mut self) -> Result<Vec<ExceptionEntry>, CardError> {
        let n = consts::EXC_ENTRY_LEN as usize;
        let d = self.cmd(Ins::ReadExceptions, 0, 0, &[])?;
        if d.len() % n != 0 || d.len() > n * consts::EXCEPTIONS as usize {
            return Err(bad(
                Ins::ReadExceptions,
                format!("{} bytes, not a multiple of 24", d.len()),
            ));
        }
        d.chunks(n)
            .map(|c| ExceptionEntry::parse(c).map_err(|e| bad(Ins::ReadExceptions, e.0)))
            .collect()
    }
}
