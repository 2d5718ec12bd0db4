//! A card in another process, on both ends of the link.
//!
//! [`RemoteCard`] is the driver's end: a [`CardIo`] that sends each command APDU over the link
//! and returns the answer, so `flows::transfer`, `flows::resume` and `flows::sync` run unchanged
//! with one of their cards far away (one copy of the relay logic).
//!
//! [`serve_card`] is the holder's end: it forwards to its own card only what its
//! [`Policy`] allows, resolves 61xx/6Cxx locally, and answers SELECT from the answer cached at
//! open (so the holder's locally verified PIN stays validated).
use std::time::Duration;

use crate::apdu::Command;
use crate::card::PurseCard;
use crate::transport::CardIo;

use super::msg::{unhex, Msg};
use super::policy::{Policy, Verdict};
use super::secure::Link;
use super::{LinkError, Result};

/// The driver's view of the peer's card.
pub struct RemoteCard<'a> {
    link: &'a mut Link,
    /// Commands sent over the link.
    pub sent: u32,
    /// Set once the link failed: every later command fails at once (no waiting twice).
    pub broken: Option<String>,
}

impl<'a> RemoteCard<'a> {
    pub fn new(link: &'a mut Link) -> Self {
        RemoteCard {
            link,
            sent: 0,
            broken: None,
        }
    }
    pub fn link(&mut self) -> &mut Link {
        self.link
    }
}

impl CardIo for RemoteCard<'_> {
    fn transmit(&mut self, apdu: &[u8]) -> crate::Result<Vec<u8>> {
        if let Some(b) = &self.broken {
            return Err(crate::Error::Link(b.clone()));
        }
        let r = (|| -> Result<Vec<u8>> {
            self.link.send(&Msg::Apdu {
                hex: hex::encode_upper(apdu),
            })?;
            self.sent += 1;
            match self.link.recv("waiting for the remote card's answer")? {
                Msg::Answer { hex } => {
                    let b = unhex("answer", &hex)?;
                    if b.len() < 2 || b.len() > 258 {
                        return Err(LinkError::BadMessage(format!(
                            "an answer of {} bytes",
                            b.len()
                        )));
                    }
                    Ok(b)
                }
                Msg::Refused { reason } => Err(LinkError::Refused(format!(
                    "the peer refused to pass a command to its card: {reason}"
                ))),
                other => Err(LinkError::Unexpected {
                    expected: "an answer".into(),
                    got: other.name().into(),
                }),
            }
        })();
        r.map_err(|e| {
            let m = e.to_string();
            // a refusal is one command; anything else means the link is no longer usable
            if !matches!(e, LinkError::Refused(_)) {
                self.broken = Some(m.clone());
            }
            crate::Error::Link(m)
        })
    }
}

/// How a served session ended.
#[derive(Debug)]
pub struct Served {
    /// Commands forwarded to the card.
    pub forwarded: u32,
    /// The driver's closing message (`Done`), if it sent one.
    pub done: Option<(bool, String, serde_json::Value)>,
}

/// Serve `card` to the driver on `link` under `policy` until the driver says `Done`.
/// `wait`: how long to wait for each command (the driver may be waiting for its own holder or
/// a free bank card in between). A refused command is answered `Refused` and ends the session:
/// a peer that tries what its role does not allow is not trusted further.
pub fn serve_card<T: CardIo>(
    link: &mut Link,
    card: &mut PurseCard<T>,
    select_answer: &[u8],
    policy: &mut Policy,
    wait: Duration,
) -> Result<Served> {
    loop {
        let m = link.recv_within(wait, "waiting for the peer's next command")?;
        match m {
            Msg::Apdu { hex } => {
                let raw = unhex("APDU", &hex)?;
                let cmd = match Command::from_bytes(&raw) {
                    Ok(c) => c,
                    Err(e) => {
                        let reason = format!("malformed APDU: {e}");
                        let _ = link.send(&Msg::Refused {
                            reason: reason.clone(),
                        });
                        return Err(LinkError::Refused(format!(
                            "the peer sent a malformed command ({reason}); nothing reached the card"
                        )));
                    }
                };
                match policy.check(&cmd) {
                    Verdict::Forward => {
                        let ans = match card.channel().send(&cmd) {
                            Ok(r) => {
                                let mut v = r.data;
                                v.extend_from_slice(&r.sw.code().to_be_bytes());
                                v
                            }
                            Err(e) => {
                                // our card failed (pulled, lost): tell the driver, stop
                                let _ = link.send(&Msg::Refused {
                                    reason: format!("the card failed: {e}"),
                                });
                                return Err(LinkError::Refused(format!(
                                    "this side's card failed: {e}"
                                )));
                            }
                        };
                        link.send(&Msg::Answer {
                            hex: hex::encode_upper(ans),
                        })?;
                    }
                    Verdict::CachedSelect => {
                        link.send(&Msg::Answer {
                            hex: hex::encode_upper(live_select(card, select_answer)),
                        })?;
                    }
                    Verdict::Refuse(reason) => {
                        let _ = link.send(&Msg::Refused {
                            reason: reason.clone(),
                        });
                        return Err(LinkError::Refused(format!(
                            "the peer asked this card for something its role does not allow ({reason}); refused, nothing reached the card, link closed"
                        )));
                    }
                }
            }
            Msg::Done {
                ok,
                summary,
                report,
            } => {
                return Ok(Served {
                    forwarded: policy.forwarded,
                    done: Some((ok, summary, report)),
                })
            }
            Msg::Queued { .. } => continue,
            other => {
                return Err(LinkError::Unexpected {
                    expected: "a command or done".into(),
                    got: other.name().into(),
                })
            }
        }
    }
}

/// The cached SELECT answer with its STATUS part read again from the card (a local GET_STATUS,
/// nothing over the link): this side's own commands since the SELECT (a PIN entry, an earlier
/// peer's session) may have changed the status, and the driver takes the status from the SELECT
/// answer (protocol.md 4.1). The payee hello after it stays the real SELECT's: the payee session
/// it armed is still the card's unless a command ended it (then 44 is refused, 6985).
fn live_select<T: CardIo>(card: &mut PurseCard<T>, cached: &[u8]) -> Vec<u8> {
    use crate::proto::consts;
    let mut v = cached.to_vec();
    let n = consts::STATUS_LEN as usize;
    if v.len() == consts::SELECT_RESP_LEN as usize + 2
        || v.len() == consts::SELECT_BANK_RESP_LEN as usize + 2
    {
        let get = Command::new(consts::CLA_PURSE, consts::INS_GET_STATUS, 0, 0).le(256);
        if let Ok(r) = card.channel().send(&get) {
            if r.sw.is_ok() && r.data.len() == n {
                v[..n].copy_from_slice(&r.data);
            }
        }
    }
    v
}

/// SELECT the purse applet on the local card and return the raw answer (data + SW) that
/// [`serve_card`] replays to the peer (its status part refreshed at each replay).
pub fn select_answer<T: CardIo>(card: &mut PurseCard<T>) -> crate::Result<Vec<u8>> {
    let r = card
        .channel()
        .send(&Command::select(&crate::proto::consts::PURSE_AID))?;
    let mut v = r.data;
    v.extend_from_slice(&r.sw.code().to_be_bytes());
    Ok(v)
}
