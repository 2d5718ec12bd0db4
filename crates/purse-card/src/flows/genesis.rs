//! Genesis (protocol.md 5.2, 5.3): the host authenticates to a blank card with its transport key
//! and sends G1; the card becomes the bank center and generates its keys on card.
use serde::Serialize;

use crate::card::{CardError, PurseCard};
use crate::proto::consts::{self, Ins, PacketType, Role, SecretRef, Suite};
use crate::proto::crypto;
use crate::proto::types::{Account, Currency};
use crate::proto::wire::{Fields, Layout};
use crate::transport::CardIo;

/// What G1 carries (protocol.md 5.3). Secrets as typed (ASCII).
#[derive(Clone, Debug)]
pub struct GenesisParams {
    pub suite: Suite,
    pub issuer_id: [u8; 3],
    pub name: [u8; 8],
    pub currency: Currency,
    pub min_trans: u32,
    pub max_trans: u32,
    pub date: u16,
    pub bad_key_limit: u8,
    pub first_keynum: u8,
    pub pin: Vec<u8>,
    /// Empty: no transaction key.
    pub txkey: Vec<u8>,
    pub creation: Vec<u8>,
    pub approval: Vec<u8>,
}

/// G2 / I2 body (protocol.md 5.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Personalised {
    pub account: Account,
    pub role: Role,
    pub current_key: u8,
    #[serde(serialize_with = "crate::proto::wire::ser_hex")]
    pub app_id: [u8; 8],
    pub suite: Suite,
}

fn invalid(s: impl Into<String>) -> CardError {
    CardError::Invalid(s.into())
}

/// Host randomness (RH): from the OS.
pub fn host_random() -> Result<[u8; 8], CardError> {
    use std::io::Read;
    let mut b = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| invalid(format!("cannot read /dev/urandom: {e}")))?;
    Ok(b)
}

fn secret(
    what: &str,
    s: &[u8],
    range: (usize, usize),
    allow_empty: bool,
) -> Result<[u8; 17], CardError> {
    crate::proto::types::encode_secret(s, range, allow_empty)
        .map_err(|e| invalid(format!("{what}: {e}")))
}

impl GenesisParams {
    /// The 95-byte G1 body.
    pub fn body(&self) -> Result<Vec<u8>, CardError> {
        if !matches!(self.suite, Suite::Aes128 | Suite::Tdes3) {
            return Err(invalid("suite must be AES-128 or 3-key TDES"));
        }
        if self.bad_key_limit == 0 {
            return Err(invalid("bad-key limit must be 1..255"));
        }
        if self.min_trans > self.max_trans {
            return Err(invalid("--min must not exceed --max"));
        }
        let pin = secret("PIN", &self.pin, SecretRef::Pin.len_range(), false)?;
        let txkey = secret(
            "transaction key",
            &self.txkey,
            SecretRef::TxKey.len_range(),
            true,
        )?;
        let creation = secret(
            "creation secret",
            &self.creation,
            SecretRef::Creation.len_range(),
            false,
        )?;
        let approval = secret(
            "approval secret",
            &self.approval,
            SecretRef::Approval.len_range(),
            false,
        )?;
        let mut b = Layout::new(consts::BODY_G1);
        b.u8(consts::G1_SUITE, self.suite.code())
            .put(consts::G1_ISSUER_ID, &self.issuer_id)
            .put(consts::G1_NAME, &self.name)
            .put(consts::G1_CURRENCY, &self.currency.to_bcd())
            .u8(consts::G1_DECIMALS, self.currency.decimals)
            .u32(consts::G1_MIN_TRANS, self.min_trans)
            .u32(consts::G1_MAX_TRANS, self.max_trans)
            .u16(consts::G1_DATE, self.date)
            .u8(consts::G1_BAD_KEY_LIMIT, self.bad_key_limit)
            .u8(consts::G1_FIRST_KEYNUM, self.first_keynum)
            .put(consts::G1_PIN, &pin)
            .put(consts::G1_TXKEY, &txkey)
            .put(consts::G1_CREATION, &creation)
            .put(consts::G1_APPROVAL, &approval);
        Ok(b.into_vec())
    }
}

/// Parse a G2/I2 body (20 bytes).
pub fn parse_g2(body: &[u8]) -> Result<Personalised, String> {
    if body.len() != consts::BODY_G2 as usize {
        return Err(format!(
            "body of {} bytes, expected {}",
            body.len(),
            consts::BODY_G2
        ));
    }
    let f = Fields(body);
    if f.u8(consts::G2_RESULT) != consts::RESULT_DONE {
        return Err(format!("RESULT {:02X}", f.u8(consts::G2_RESULT)));
    }
    Ok(Personalised {
        account: f.account(consts::G2_ACCOUNT),
        role: Role::from_code(f.u8(consts::G2_ROLE)),
        current_key: f.u8(consts::G2_CURRENT),
        app_id: f.arr(consts::G2_APP),
        suite: Suite::from_code(f.u8(consts::G2_SUITE)),
    })
}

/// The suite a transport key selects (16 bytes AES, 24 TDES).
pub fn transport_suite(tk: &[u8]) -> Result<Suite, CardError> {
    match tk.len() {
        16 => Ok(Suite::Aes128),
        24 => Ok(Suite::Tdes3),
        n => Err(invalid(format!(
            "a transport key has 16 bytes (AES) or 24 bytes (TDES), not {n}"
        ))),
    }
}

/// Run genesis on the blank card: AUTH_INIT, check CC, AUTH_FINISH(HC | G1), open G2.
pub fn genesis<T: CardIo>(
    card: &mut PurseCard<T>,
    tk: &[u8],
    p: &GenesisParams,
) -> Result<Personalised, CardError> {
    let tsuite = transport_suite(tk)?;
    let sel = card.select()?;
    if sel.life != consts::Life::Blank {
        return Err(CardError::host_check(
            Ins::AuthInit,
            consts::Sw::Personalised,
        ));
    }
    if sel.suite != tsuite {
        return Err(invalid(format!(
            "this blank card expects a {} transport key ({} bytes), got a {}-byte key",
            sel.suite.name(),
            sel.suite.key_len(),
            tk.len()
        )));
    }
    let body = p.body()?;
    let rh = host_random()?;
    let (rc, cc) = card.auth_init(&rh)?;
    let keys = crypto::transport_keys(tk, &rh, &rc).map_err(|e| invalid(e.to_string()))?;
    let want = crypto::card_cryptogram(&keys, &rh, &rc).map_err(|e| invalid(e.to_string()))?;
    if !crypto::ct_eq(&want, &cc) {
        return Err(invalid(
            "the card does not know this transport key (its cryptogram does not match); \
             no try was used: check the key (--transport-key / PURSE_TRANSPORT_KEY)",
        ));
    }
    let hc = crypto::host_cryptogram(&keys, &rh, &rc).map_err(|e| invalid(e.to_string()))?;
    let sid: [u8; 6] = rc[..6].try_into().unwrap();
    let hdr = crypto::header(PacketType::G1, 0, &sid);
    let g1 = crypto::seal(&keys, &hdr, &body).map_err(|e| invalid(e.to_string()))?;
    let g2 = card.auth_finish(&hc, &g1)?;
    let bad = |m: String| CardError::BadResponse {
        ins: Ins::AuthFinish,
        msg: m,
    };
    let (h2, b2) = crypto::open(&keys, &g2).map_err(|e| bad(format!("G2: {e}")))?;
    if h2 != crypto::header(PacketType::G2, 0, &sid) {
        return Err(bad(format!("G2 header {}", hex::encode_upper(h2))));
    }
    let r = parse_g2(&b2).map_err(|m| bad(format!("G2: {m}")))?;
    if r.role != Role::Center || r.suite != p.suite {
        return Err(bad(format!(
            "G2 says role {:?}, suite {:?}",
            r.role, r.suite
        )));
    }
    Ok(r)
}
