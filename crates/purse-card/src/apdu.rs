//! ISO 7816-4 APDUs: command builder, responses, the status word type, and [`Channel`], the one
//! place where T=0 style `61xx` (GET RESPONSE) and `6Cxx` (resend with Le = xx) are handled.
use crate::error::{Error, Result};
use crate::transport::CardIo;

/// A short (non-extended) command APDU.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: Vec<u8>,
    /// Expected response length: `Some(0)` means 256 ("as much as you have"), `None` = no Le.
    pub le: Option<u16>,
}

impl Command {
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Command {
            cla,
            ins,
            p1,
            p2,
            data: Vec::new(),
            le: None,
        }
    }

    pub fn data(mut self, data: impl Into<Vec<u8>>) -> Self {
        self.data = data.into();
        self
    }

    /// Le in 0..=256; 256 is encoded as 00.
    pub fn le(mut self, le: u16) -> Self {
        self.le = Some(le);
        self
    }

    /// SELECT by AID (ISO 7816-4, P1=04 P2=00), asking for the FCI/answer (Le = 00).
    pub fn select(aid: &[u8]) -> Self {
        Command::new(0x00, 0xA4, 0x04, 0x00)
            .data(aid.to_vec())
            .le(256)
    }

    /// GET RESPONSE for `len` bytes (0 = 256).
    pub fn get_response(cla: u8, len: u8) -> Self {
        Command::new(cla & 0x03, 0xC0, 0x00, 0x00).le(if len == 0 { 256 } else { len as u16 })
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        if self.data.len() > 255 {
            return Err(Error::BadApdu(format!(
                "command data is {} bytes; short APDUs carry at most 255",
                self.data.len()
            )));
        }
        let mut out = Vec::with_capacity(5 + self.data.len() + 1);
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if !self.data.is_empty() {
            out.push(self.data.len() as u8);
            out.extend_from_slice(&self.data);
        }
        if let Some(le) = self.le {
            if le > 256 {
                return Err(Error::BadApdu(format!(
                    "Le {le} > 256 needs an extended APDU"
                )));
            }
            out.push((le & 0xFF) as u8);
        }
        Ok(out)
    }

    /// Parse a short command APDU (cases 1, 2, 3, 4).
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        if b.len() < 4 {
            return Err(Error::BadApdu(format!(
                "{} bytes; an APDU has at least CLA INS P1 P2",
                b.len()
            )));
        }
        let mut c = Command::new(b[0], b[1], b[2], b[3]);
        let body = &b[4..];
        match body.len() {
            0 => {}
            1 => c.le = Some(if body[0] == 0 { 256 } else { body[0] as u16 }),
            _ => {
                let lc = body[0] as usize;
                if lc == 0 {
                    return Err(Error::BadApdu(
                        "Lc = 0 with a body (extended APDUs are not supported)".into(),
                    ));
                }
                if body.len() == 1 + lc {
                    c.data = body[1..].to_vec();
                } else if body.len() == 2 + lc {
                    c.data = body[1..1 + lc].to_vec();
                    let le = body[1 + lc];
                    c.le = Some(if le == 0 { 256 } else { le as u16 });
                } else {
                    return Err(Error::BadApdu(format!(
                        "Lc says {lc} data bytes but {} bytes follow it",
                        body.len() - 1
                    )));
                }
            }
        }
        Ok(c)
    }
}

/// The one status-word type: the protocol's table (crate purse-proto, mirrored from
/// Constants.java) plus the ISO words a host meets when no purse applet answers.
pub use crate::proto::consts::Sw;

/// 61xx: xx more bytes wait for GET RESPONSE (handled inside [`Channel::send`] only).
fn bytes_available(sw: u16) -> Option<u8> {
    (sw & 0xFF00 == 0x6100).then_some((sw & 0xFF) as u8)
}

/// 6Cxx: wrong Le, xx is the exact length (handled inside [`Channel::send`] only).
fn wrong_le(sw: u16) -> Option<u8> {
    (sw & 0xFF00 == 0x6C00).then_some((sw & 0xFF) as u8)
}

/// A response APDU: data and status word (after any 61xx/6Cxx handling).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub data: Vec<u8>,
    pub sw: Sw,
}

impl Response {
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        if b.len() < 2 {
            return Err(Error::BadResponse(format!(
                "{} bytes; a response ends with SW1 SW2",
                b.len()
            )));
        }
        let (data, sw) = b.split_at(b.len() - 2);
        Ok(Response {
            data: data.to_vec(),
            sw: Sw::from_u16(u16::from_be_bytes([sw[0], sw[1]])),
        })
    }

    /// The data if the status word is 9000, else `Error::Refused`.
    pub fn ok(self) -> Result<Vec<u8>> {
        if self.sw.is_ok() {
            Ok(self.data)
        } else {
            Err(Error::Refused(self.sw))
        }
    }
}

static SHOW_SECRETS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Show secret data in the APDU trace (`--debug-secrets`); off by default.
pub fn show_secrets_in_trace(on: bool) {
    SHOW_SECRETS.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Commands whose data is secret (protocol.md 4.1): VERIFY and CHANGE REFERENCE DATA (PINs,
/// transaction keys, center secrets), ISSUE_BEGIN (the blank card's transport key, the new
/// PIN and transaction key), AUTH_FINISH (G1/I1, sealed with the transport key: whoever knows
/// it reads the secrets and system keys), UNBLOCK_PIN (the new PIN).
pub fn secret_command(ins: u8) -> bool {
    matches!(ins, 0x20 | 0x24 | 0x14 | 0x12 | 0x7E)
}

/// Commands whose answer is secret: ISSUE_AUTH (HC | I1, see [`secret_command`]).
pub fn secret_answer(ins: u8) -> bool {
    ins == 0x16
}

/// A command APDU for the trace: header and Lc always; the data replaced by its length when
/// secret (unless [`show_secrets_in_trace`]).
pub fn trace_command(apdu: &[u8]) -> String {
    let show = SHOW_SECRETS.load(std::sync::atomic::Ordering::Relaxed);
    if show || apdu.len() <= 5 || !secret_command(apdu[1]) {
        return hex::encode_upper(apdu);
    }
    let body = apdu.len() - 5;
    let lc = apdu[4] as usize;
    // Le after the data stays visible (it is not secret)
    let le = if body == lc + 1 {
        format!(" {:02X}", apdu[apdu.len() - 1])
    } else {
        String::new()
    };
    format!(
        "{} <{} secret bytes redacted>{le}",
        hex::encode_upper(&apdu[..5]),
        lc.min(body)
    )
}

/// A response APDU for the trace: the status word always, the data redacted when secret.
pub fn trace_response(raw: &[u8], secret: bool) -> String {
    let show = SHOW_SECRETS.load(std::sync::atomic::Ordering::Relaxed);
    if show || !secret || raw.len() <= 2 {
        return hex::encode_upper(raw);
    }
    format!(
        "<{} secret bytes redacted> {}",
        raw.len() - 2,
        hex::encode_upper(&raw[raw.len() - 2..])
    )
}

/// At most this many GET RESPONSE rounds for one command (a card answering 61xx forever is broken).
const MAX_CHAINED_RESPONSES: usize = 64;

/// A logical channel to a card over any [`CardIo`]. Every command of purse goes through
/// [`Channel::send`], which traces APDUs at debug level and resolves 61xx and 6Cxx.
pub struct Channel<T: CardIo> {
    io: T,
    /// Commands sent so far (a 61xx GET RESPONSE or a 6Cxx resend belongs to its command).
    sent: u32,
}

impl<T: CardIo> Channel<T> {
    pub fn new(io: T) -> Self {
        Channel { io, sent: 0 }
    }

    /// The number of commands sent through this channel: flows report APDU counts from it
    /// instead of counting by hand.
    pub fn sent(&self) -> u32 {
        self.sent
    }

    pub fn io(&mut self) -> &mut T {
        &mut self.io
    }

    pub fn into_inner(self) -> T {
        self.io
    }

    /// One exchange, traced at debug level; secret data is redacted unless
    /// [`show_secrets_in_trace`] (`secret_answer`: the answer's data is secret too).
    fn exchange(&mut self, apdu: &[u8], secret_answer: bool) -> Result<Response> {
        if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug!(">> {}", trace_command(apdu));
        }
        let raw = self.io.transmit(apdu)?;
        if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug!("<< {}", trace_response(&raw, secret_answer));
        }
        Response::from_bytes(&raw)
    }

    /// Send a command; 61xx is followed by GET RESPONSE (data concatenated) and 6Cxx by a resend
    /// with Le = xx. The returned status word is never 61xx or 6Cxx.
    pub fn send(&mut self, cmd: &Command) -> Result<Response> {
        self.sent = self.sent.wrapping_add(1);
        let secret = secret_answer(cmd.ins);
        let mut resp = self.exchange(&cmd.to_bytes()?, secret)?;
        if let Some(n) = wrong_le(resp.sw.code()) {
            let mut again = cmd.clone();
            again.le = Some(if n == 0 { 256 } else { n as u16 });
            resp = self.exchange(&again.to_bytes()?, secret)?;
        }
        let mut data = std::mem::take(&mut resp.data);
        let mut rounds = 0;
        while let Some(n) = bytes_available(resp.sw.code()) {
            rounds += 1;
            if rounds > MAX_CHAINED_RESPONSES {
                return Err(Error::BadResponse(format!(
                    "card still answers 61xx after {MAX_CHAINED_RESPONSES} GET RESPONSE commands"
                )));
            }
            resp = self.exchange(&Command::get_response(cmd.cla, n).to_bytes()?, secret)?;
            if let Some(m) = wrong_le(resp.sw.code()) {
                resp = self.exchange(&Command::get_response(cmd.cla, m).to_bytes()?, secret)?;
            }
            data.append(&mut resp.data);
        }
        Ok(Response { data, sw: resp.sw })
    }

    /// Parse raw command bytes and [`send`](Self::send) them.
    pub fn send_bytes(&mut self, apdu: &[u8]) -> Result<Response> {
        self.send(&Command::from_bytes(apdu)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    struct Script {
        expect: VecDeque<(Vec<u8>, Vec<u8>)>,
    }
    impl CardIo for Script {
        fn transmit(&mut self, apdu: &[u8]) -> Result<Vec<u8>> {
            let (want, answer) = self.expect.pop_front().expect("unexpected APDU");
            assert_eq!(hex::encode_upper(apdu), hex::encode_upper(&want));
            Ok(answer)
        }
    }
    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    #[test]
    fn build_and_parse_round_trip() {
        for s in [
            "00A40400",
            "00B0000010",
            "00A4040007F07075727365FF",
            "00A4040007F07075727365FF00",
        ] {
            let c = Command::from_bytes(&h(s)).unwrap();
            assert_eq!(hex::encode_upper(c.to_bytes().unwrap()), s);
        }
        assert!(Command::from_bytes(&h("00A40400")[..3]).is_err());
        assert!(Command::from_bytes(&h("00A4040005AABB")).is_err());
        assert!(Command::new(0, 0, 0, 0)
            .data(vec![0; 256])
            .to_bytes()
            .is_err());
    }

    #[test]
    fn status_words_round_trip() {
        for sw in [
            0x9000u16, 0x6105, 0x6C10, 0x63C2, 0x6982, 0x6A82, 0x6F00, 0x1234, 0x6D00,
        ] {
            assert_eq!(Sw::from_u16(sw).code(), sw);
        }
        assert_eq!(Sw::from_u16(0x1234), Sw::Other(0x1234));
        assert_eq!(Sw::from_u16(0x6A86), Sw::WrongP1P2);
        assert_eq!(Sw::from_u16(0x6A82), Sw::AppletNotFound);
    }

    #[test]
    fn get_response_chain() {
        let io = Script {
            expect: VecDeque::from(vec![
                (h("00A4040002AABB00"), h("6104")),
                (h("00C0000004"), h("010203046102")),
                (h("00C0000002"), h("05069000")),
            ]),
        };
        let mut ch = Channel::new(io);
        let r = ch.send(&Command::select(&h("AABB"))).unwrap();
        assert_eq!(r.data, h("010203040506"));
        assert_eq!(r.sw, Sw::Ok);
    }

    #[test]
    fn wrong_le_resend() {
        let io = Script {
            expect: VecDeque::from(vec![
                (h("00CA000010"), h("6C03")),
                (h("00CA000003"), h("AABBCC9000")),
            ]),
        };
        let mut ch = Channel::new(io);
        let r = ch.send_bytes(&h("00CA000010")).unwrap();
        assert_eq!(r.data, h("AABBCC"));
        assert!(r.sw.is_ok());
    }

    #[test]
    fn trace_redacts_secret_data() {
        // VERIFY PIN "2223": header and length stay, the PIN goes
        let v = h("80200001043232323300");
        let t = trace_command(&v);
        assert_eq!(t, "8020000104 <4 secret bytes redacted> 00");
        assert!(!t.contains("32323233"));
        assert_eq!(trace_command(&h("80200001")), "80200001", "empty VERIFY");
        // CHANGE REFERENCE DATA, ISSUE_BEGIN, AUTH_FINISH, UNBLOCK_PIN
        for ins in [0x24u8, 0x14, 0x12, 0x7E] {
            let mut c = vec![0x80, ins, 0, 1, 3, 0xAA, 0xBB, 0xCC];
            assert_eq!(
                trace_command(&c),
                format!("80{ins:02X}000103 <3 secret bytes redacted>")
            );
            c[1] = 0x30;
            assert_eq!(trace_command(&c), "8030000103AABBCC");
        }
        assert_eq!(
            trace_response(&h("AABB9000"), true),
            "<2 secret bytes redacted> 9000"
        );
        assert_eq!(trace_response(&h("AABB9000"), false), "AABB9000");
        assert!(secret_answer(0x16));
        show_secrets_in_trace(true);
        assert_eq!(trace_command(&v), "80200001043232323300");
        show_secrets_in_trace(false);
    }

    #[test]
    fn short_response_is_an_error() {
        let io = Script {
            expect: VecDeque::from(vec![(h("00000000"), h("90"))]),
        };
        assert!(Channel::new(io).send_bytes(&h("00000000")).is_err());
    }
}
