//! Reference implementation of the suite crypto (protocol.md 2): CMAC, the session key (one
//! CBC pass) and the transport KDF (SP 800-108), packet seal/open (SIV: MAC over the plaintext,
//! OFB under it), transport cryptograms, the balance check (fixed-length CBC-MAC).
//!
//! Independent of the applet's code: block ciphers from crates `aes` / `des`, CMAC from crate
//! `cmac`, everything else written from the spec. `tests/proto_vectors.rs` reproduces every
//! vector of protocol.md section 9. The host uses it only for the transport channel of
//! `purse genesis` (whose key the operator types); it never holds an application key.
use aes::Aes128;
use cmac::{Cmac, Mac};
use des::cipher::{BlockEncrypt, KeyInit};
use des::TdesEde3;

use super::consts::{self, PacketType, Suite};

/// A block cipher key of either suite.
#[derive(Clone)]
pub enum BlockKey {
    Aes(Box<Aes128>),
    Tdes(Box<TdesEde3>),
}

/// Crypto failures (wrong key length, bad packet).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("key of {0} bytes: AES-128 needs 16, 3-key TDES 24")]
    KeyLength(usize),
    #[error("bad packet: {0}")]
    BadPacket(&'static str),
}

impl BlockKey {
    /// 16 bytes = AES-128, 24 bytes = 3-key TDES (parity bits ignored).
    pub fn new(key: &[u8]) -> Result<Self, CryptoError> {
        match key.len() {
            16 => Ok(BlockKey::Aes(Box::new(
                Aes128::new_from_slice(key).map_err(|_| CryptoError::KeyLength(16))?,
            ))),
            24 => Ok(BlockKey::Tdes(Box::new(
                TdesEde3::new_from_slice(key).map_err(|_| CryptoError::KeyLength(24))?,
            ))),
            n => Err(CryptoError::KeyLength(n)),
        }
    }

    pub fn suite(&self) -> Suite {
        match self {
            BlockKey::Aes(_) => Suite::Aes128,
            BlockKey::Tdes(_) => Suite::Tdes3,
        }
    }

    pub fn block_len(&self) -> usize {
        self.suite().block_len()
    }

    /// ECB-encrypt whole blocks in place.
    pub fn ecb_encrypt(&self, buf: &mut [u8]) {
        let b = self.block_len();
        assert_eq!(buf.len() % b, 0, "ECB needs whole blocks");
        for blk in buf.chunks_mut(b) {
            match self {
                BlockKey::Aes(k) => k.encrypt_block(blk.into()),
                BlockKey::Tdes(k) => k.encrypt_block(blk.into()),
            }
        }
    }

    /// CBC-encrypt whole blocks in place, IV 0.
    pub fn cbc_encrypt(&self, buf: &mut [u8]) {
        let b = self.block_len();
        assert_eq!(buf.len() % b, 0, "CBC needs whole blocks");
        let mut x = vec![0u8; b];
        for blk in buf.chunks_mut(b) {
            for (d, c) in blk.iter_mut().zip(&x) {
                *d ^= c;
            }
            self.ecb_encrypt(blk);
            x.copy_from_slice(blk);
        }
    }

    /// OFB in place (protocol.md 2.4): `buf` ^= E(IV), E(E(IV)), ... with IV = `iv` zero-padded
    /// to one block (`iv` at most one block). Encrypts and decrypts alike; `buf` of any length.
    pub fn ofb_xor(&self, iv: &[u8], buf: &mut [u8]) {
        let mut x = vec![0u8; self.block_len()];
        let n = iv.len().min(x.len());
        x[..n].copy_from_slice(&iv[..n]);
        for chunk in buf.chunks_mut(x.len()) {
            self.ecb_encrypt(&mut x);
            for (d, k) in chunk.iter_mut().zip(&x) {
                *d ^= k;
            }
        }
    }
}

/// Full CMAC tag (16 bytes AES, 8 bytes TDES) of `msg` under `key` (16 or 24 bytes).
pub fn cmac(key: &[u8], msg: &[u8]) -> Result<Vec<u8>, CryptoError> {
    match key.len() {
        16 => {
            let mut m = <Cmac<Aes128> as Mac>::new_from_slice(key)
                .map_err(|_| CryptoError::KeyLength(16))?;
            m.update(msg);
            Ok(m.finalize().into_bytes().to_vec())
        }
        24 => {
            let mut m = <Cmac<TdesEde3> as Mac>::new_from_slice(key)
                .map_err(|_| CryptoError::KeyLength(24))?;
            m.update(msg);
            Ok(m.finalize().into_bytes().to_vec())
        }
        n => Err(CryptoError::KeyLength(n)),
    }
}

/// MAC8 = first 8 bytes of the CMAC.
pub fn mac8(key: &[u8], msg: &[u8]) -> Result<[u8; 8], CryptoError> {
    let t = cmac(key, msg)?;
    let mut out = [0u8; 8];
    out.copy_from_slice(&t[..8]);
    Ok(out)
}

/// Constant-time comparison (no early exit), as the applet does it.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    diff == 0
}

/// "PURSE " and the two letters Constants.java keeps per label (the applet stores only those).
const fn label(a: u8, b: u8) -> [u8; 8] {
    [b'P', b'U', b'R', b'S', b'E', b' ', a, b]
}

/// The transport KDF's label (protocol.md 2.3): "PURSE TK".
pub const LABEL_TK: &[u8; 8] = &label(consts::LABEL_TK_0, consts::LABEL_TK_1);

/// A derived key pair (K_ENC, K_MAC), each of the input key's length.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKeys {
    pub enc: Vec<u8>,
    pub mac: Vec<u8>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKeys(..)")
    }
}

/// NIST SP 800-108 counter mode, PRF = CMAC of the key's suite (protocol.md 2.3):
/// K(i) = CMAC(KI, [i]_1 | LABEL | 00 | CONTEXT | [L]_2), L = 2·KL·8 bits.
pub fn kdf(ki: &[u8], label: &[u8; 8], context: &[u8]) -> Result<SessionKeys, CryptoError> {
    let kl = ki.len();
    if kl != consts::KEYLEN_AES as usize && kl != consts::KEYLEN_TDES as usize {
        return Err(CryptoError::KeyLength(kl));
    }
    let out_len = 2 * kl;
    let l_bits = (out_len * 8) as u16;
    let mut out = Vec::with_capacity(out_len + 16);
    let mut i: u8 = 1;
    while out.len() < out_len {
        let mut m = Vec::with_capacity(1 + 8 + 1 + context.len() + 2);
        m.push(i);
        m.extend_from_slice(label);
        m.push(0);
        m.extend_from_slice(context);
        m.extend_from_slice(&l_bits.to_be_bytes());
        out.extend_from_slice(&cmac(ki, &m)?);
        i += 1;
    }
    Ok(SessionKeys {
        enc: out[..kl].to_vec(),
        mac: out[kl..out_len].to_vec(),
    })
}

/// The one key of a transfer, sync or admin session (protocol.md 2.3): D = tag | SID | k | RP
/// (16 bytes), K_S = the last KL bytes of CBC(AK1, IV 0, D | 00..) over 16 + KL − block bytes
/// (AES: E(D)). Returned as the pair (K_S, K_S): a session seals and opens under the one key.
/// `tag` is the kind of session (`consts::KS_TX`, `KS_SY`, `KS_AD`), SID the initiator's fresh
/// random, RP the responder's hello random, k the number of AK0 (AK1 is key k + 1, the newer of
/// the pair, so a card that stopped at key k cannot derive it).
pub fn session_keys(
    ak1: &[u8],
    tag: u8,
    sid: &[u8; 6],
    k: u8,
    rp: &[u8; 8],
) -> Result<SessionKeys, CryptoError> {
    let key = BlockKey::new(ak1)?;
    let kl = ak1.len();
    let mut buf = vec![0u8; 16 + kl - key.block_len()];
    buf[0] = tag;
    buf[1..7].copy_from_slice(sid);
    buf[7] = k;
    buf[8..16].copy_from_slice(rp);
    key.cbc_encrypt(&mut buf);
    let k_s = buf[buf.len() - kl..].to_vec();
    Ok(SessionKeys {
        enc: k_s.clone(),
        mac: k_s,
    })
}

/// Transport keys: KDF(TK, "PURSE TK", RH | RC).
pub fn transport_keys(tk: &[u8], rh: &[u8; 8], rc: &[u8; 8]) -> Result<SessionKeys, CryptoError> {
    let mut ctx = rh.to_vec();
    ctx.extend_from_slice(rc);
    kdf(tk, LABEL_TK, &ctx)
}

/// Transport cryptograms (protocol.md 5.2): CC = MAC8(K_MAC, 01|RH|RC), HC = MAC8(K_MAC, 02|RH|RC).
pub fn cryptogram(
    keys: &SessionKeys,
    who: u8,
    rh: &[u8; 8],
    rc: &[u8; 8],
) -> Result<[u8; 8], CryptoError> {
    let mut m = vec![who];
    m.extend_from_slice(rh);
    m.extend_from_slice(rc);
    mac8(&keys.mac, &m)
}

/// Card cryptogram CC.
pub fn card_cryptogram(
    keys: &SessionKeys,
    rh: &[u8; 8],
    rc: &[u8; 8],
) -> Result<[u8; 8], CryptoError> {
    cryptogram(keys, super::consts::CRYPTOGRAM_CARD, rh, rc)
}

/// Host cryptogram HC.
pub fn host_cryptogram(
    keys: &SessionKeys,
    rh: &[u8; 8],
    rc: &[u8; 8],
) -> Result<[u8; 8], CryptoError> {
    cryptogram(keys, super::consts::CRYPTOGRAM_HOST, rh, rc)
}

/// Packet header: TYPE | KEYNUM | SID(6).
pub fn header(
    ptype: PacketType,
    keynum: u8,
    sid: &[u8; consts::SID_LEN as usize],
) -> [u8; consts::HDR_LEN as usize] {
    let mut h = [0u8; consts::HDR_LEN as usize];
    h[consts::HDR_OFF_TYPE as usize] = ptype.code();
    h[consts::HDR_OFF_KEYNUM as usize] = keynum;
    h[consts::HDR_OFF_SID as usize..].copy_from_slice(sid);
    h
}

/// Length of a sealed packet with a `body_len`-byte body in a suite of block length `block`.
pub fn packet_len(body_len: usize, block: usize) -> usize {
    consts::HDR_LEN as usize + (body_len / block + 1) * block + consts::MAC_LEN as usize
}

/// dbl() of SP 800-38B: shift left one bit, XOR Rb (RB_AES for a 16-byte block, RB_TDES for 8) if
/// the top bit fell out.
fn dbl(v: &mut [u8]) {
    let b = v.len();
    let carry = v[0] >> 7;
    for i in 0..b {
        let next = if i + 1 < b { v[i + 1] >> 7 } else { 0 };
        v[i] = (v[i] << 1) | next;
    }
    v[b - 1] ^= carry
        * if b == 16 {
            consts::RB_AES
        } else {
            consts::RB_TDES
        };
}

/// The CMAC subkey K1 = dbl(E_K(0^b)) of `key` (SP 800-38B).
pub fn cmac_k1(key: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let k = BlockKey::new(key)?;
    let mut l = vec![0u8; k.block_len()];
    k.ecb_encrypt(&mut l);
    dbl(&mut l);
    Ok(l)
}

/// The packet mask of `mac_key` (protocol.md 2.4): the CMAC subkey no packet MAC of the suite ends
/// with. AES: K1 (HDR | P is 8 bytes past whole blocks, so every packet MAC ends with K2). TDES:
/// K2 = dbl(K1) (HDR | P is whole blocks, so every packet MAC ends with K1).
pub fn packet_mask(mac_key: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut m = cmac_k1(mac_key)?;
    if m.len() == 8 {
        dbl(&mut m);
    }
    Ok(m)
}

/// The keystream's IV of a packet (protocol.md 2.4): (T | 00..) XOR the packet mask of K_MAC, a
/// secret, so that the T a packet carries never chooses the block-cipher input the keystream
/// starts at, nor one a packet MAC's last step uses but by a chance collision.
pub fn packet_iv(mac_key: &[u8], t: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut iv = packet_mask(mac_key)?;
    for (d, x) in iv.iter_mut().zip(t) {
        *d ^= x;
    }
    Ok(iv)
}

/// Seal a packet (protocol.md 2.4): HDR | P XOR OFB(K_ENC, IV = (T | 00..) XOR mask) | T, with
/// P = BODY | 80 | 00.., T = MAC8(K_MAC, HDR | P) and mask the packet mask of K_MAC.
pub fn seal(keys: &SessionKeys, hdr: &[u8; 8], body: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let enc = BlockKey::new(&keys.enc)?;
    let b = enc.block_len();
    let mut pkt = hdr.to_vec();
    pkt.extend_from_slice(body);
    pkt.push(consts::PAD_BYTE);
    while (pkt.len() - hdr.len()) % b != 0 {
        pkt.push(0);
    }
    let t = mac8(&keys.mac, &pkt)?;
    enc.ofb_xor(&packet_iv(&keys.mac, &t)?, &mut pkt[hdr.len()..]);
    pkt.extend_from_slice(&t);
    Ok(pkt)
}

/// Open a packet: decrypts, then checks the MAC over HDR | P (constant time) and the padding;
/// returns (HDR, BODY). The caller checks TYPE/KEYNUM/SID and the exact body length.
pub fn open(keys: &SessionKeys, pkt: &[u8]) -> Result<([u8; 8], Vec<u8>), CryptoError> {
    let enc = BlockKey::new(&keys.enc)?;
    let b = enc.block_len();
    if pkt.len() < 8 + b + 8 || (pkt.len() - 16) % b != 0 {
        return Err(CryptoError::BadPacket("length"));
    }
    let (hc, tag) = pkt.split_at(pkt.len() - 8);
    let mut hp = hc.to_vec();
    enc.ofb_xor(&packet_iv(&keys.mac, tag)?, &mut hp[8..]);
    let t = mac8(&keys.mac, &hp)?;
    if !ct_eq(&t, tag) {
        return Err(CryptoError::BadPacket("MAC"));
    }
    let mut hdr = [0u8; 8];
    hdr.copy_from_slice(&hp[..8]);
    let mut body = hp.split_off(8);
    // ISO 9797-1 method 2: strip 00s then one 80, within the last block
    let mut n = body.len();
    while n > 0 && body[n - 1] == 0 && body.len() - n < b {
        n -= 1;
    }
    if n == 0 || body[n - 1] != consts::PAD_BYTE || body.len() - n >= b {
        return Err(CryptoError::BadPacket("padding"));
    }
    body.truncate(n - 1);
    Ok((hdr, body))
}

/// MAC8 of the card-internal key K_INT (protocol.md 3): `msg` (at most 31 bytes) padded 80 00..
/// to exactly 32 bytes, CBC-MAC (IV 0), the first 8 bytes of the last block.
pub fn mac8_fixed(k_int: &[u8], msg: &[u8]) -> Result<[u8; 8], CryptoError> {
    let key = BlockKey::new(k_int)?;
    let n = consts::CBC_MAC_LEN as usize;
    if msg.len() >= n {
        return Err(CryptoError::BadPacket(
            "fixed-length MAC input over 31 bytes",
        ));
    }
    let mut buf = vec![0u8; n];
    buf[..msg.len()].copy_from_slice(msg);
    buf[msg.len()] = consts::PAD_BYTE;
    key.cbc_encrypt(&mut buf);
    let mut out = [0u8; 8];
    out.copy_from_slice(&buf[n - key.block_len()..n - key.block_len() + 8]);
    Ok(out)
}

/// Balance record check: MAC8(K_INT, FIELDS(17) | ACCOUNT(8)) by [`mac8_fixed`] (protocol.md 3).
pub fn balance_check(
    k_int: &[u8],
    fields: &[u8; consts::BAL_FIELDS_LEN as usize],
    account: &[u8; 8],
) -> Result<[u8; 8], CryptoError> {
    let mut m = fields.to_vec();
    m.extend_from_slice(account);
    mac8_fixed(k_int, &m)
}

/// The dev transport key for a suite (protocol.md 5.1).
pub fn dev_transport_key(suite: Suite) -> Option<&'static [u8]> {
    match suite {
        Suite::Aes128 => Some(super::consts::DEV_TK_AES),
        Suite::Tdes3 => Some(super::consts::DEV_TK_TDES),
        _ => None,
    }
}

/// Is `tk` one of the development defaults?
pub fn is_dev_transport_key(tk: &[u8]) -> bool {
    tk == super::consts::DEV_TK_AES || tk == super::consts::DEV_TK_TDES
}
