//! Genesis (protocol.md 5.2, 5.3): the host authenticates to a blank card with its transport key
//! and sends G1; the card becomes the bank center and generates its keys on card.
use serde::Serialize;

use crate::card::{CardError, PurseCard};
use crate::proto::consts::{self, Ins, PacketType, Role, Suite};
use crate::proto::crypto;
use crate::proto::types::{Account, Currency};
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
    #[serde(serialize_with = "ser_hex")]
    pub app_id: [u8; 8],
    pub suite: Suite,
}

fn ser_hex<S: serde::Serializer>(v: &[u8; 8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode_upper(v))
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
        let mut b = Vec::with_capacity(consts::BODY_G1 as usize);
        b.push(self.suite.code());
        b.extend_from_slice(&self.issuer_id);
        b.extend_from_slice(&self.name);
        b.extend_from_slice(&self.currency.to_bcd());
        b.push(self.currency.decimals);
        b.extend_from_slice(&self.min_trans.to_be_bytes());
        b.extend_from_slice(&self.max_trans.to_be_bytes());
        b.extend_from_slice(&self.date.to_be_bytes());
        b.push(self.bad_key_limit);
        b.push(self.first_keynum);
        b.extend_from_slice(&secret("PIN", &self.pin, (4, 8), false)?);
        b.extend_from_slice(&secret("transaction key", &self.txkey, (4, 16), true)?);
        b.extend_from_slice(&secret("creation secret", &self.creation, (8, 16), false)?);
        b.extend_from_slice(&secret("approval secret", &self.approval, (8, 16), false)?);
        debug_assert_eq!(b.len(), consts::BODY_G1 as usize);
        Ok(b)
    }
}

/// Parse a G2/I2 body (20 bytes).
pub fn parse_g2(body: &[u8]) -> Result<Personalised, String> {
    if body.len() != consts::BODY_G2 as usize {
        return Err(format!("body of {} bytes, expected 20", body.len()));
    }
    if body[0] != 0 {
        return Err(format!("RESULT {:02X}", body[0]));
    }
    Ok(Personalised {
        account: Account(body[1..9].try_into().unwrap()),
        role: Role::from_code(body[9]),
        current_key: body[10],
        app_id: body[11..19].try_into().unwrap(),
        suite: Suite::from_code(body[19]),
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
