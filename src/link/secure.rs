//! The encrypted, authenticated link: Noise XX (X25519, ChaCha20-Poly1305, SHA-256) over the
//! frames of [`super::frame`]. Why Noise and not TLS: docs/remote.md "Security model".
//!
//! The connecting side (initiator) pins the listener's static key by its fingerprint; the
//! listener may pin the connecting side's too. Both preambles are bound into the Noise prologue,
//! so a version downgrade in transit breaks the handshake.
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::frame::{exchange_preambles, read_frame, write_frame};
use super::msg::Msg;
use super::{Fingerprint, Identity, LinkError, Result, MAX_FRAME};

const NOISE: &str = "Noise_XX_25519_ChaChaPoly_SHA256";
/// Poly1305 tag added to every transport message.
const TAG: usize = 16;

pub fn noise_params() -> snow::params::NoiseParams {
    // a constant, valid pattern string
    NOISE.parse().expect("valid Noise pattern")
}

/// One established link.
pub struct Link {
    stream: TcpStream,
    noise: snow::TransportState,
    peer: Fingerprint,
    /// Deadline of one read (see [`Link::recv`]).
    pub timeout: Duration,
    /// The peer's address (for messages).
    pub peer_addr: String,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Link({}, {})", self.peer_addr, self.peer)
    }
}

fn hs_err(e: snow::Error) -> LinkError {
    LinkError::Handshake(e.to_string())
}

impl Link {
    /// Connect to `addr` (HOST:PORT) and run the handshake as initiator. `pin`: the listener's
    /// expected fingerprint (checked before anything is sent inside the link).
    pub fn connect(
        addr: &str,
        id: &Identity,
        pin: Option<&Fingerprint>,
        timeout: Duration,
    ) -> Result<Link> {
        let addrs: Vec<_> = addr
            .to_socket_addrs()
            .map_err(|e| LinkError::io(format!("resolving {addr}"), e))?
            .collect();
        let mut last = None;
        for a in &addrs {
            match TcpStream::connect_timeout(a, timeout) {
                Ok(s) => return Link::handshake(s, id, pin, timeout, true),
                Err(e) => last = Some(e),
            }
        }
        Err(LinkError::io(
            format!("connecting to {addr}"),
            last.unwrap_or_else(|| std::io::Error::other("no address")),
        ))
    }

    /// Run the handshake as responder on an accepted connection.
    pub fn accept(
        stream: TcpStream,
        id: &Identity,
        pin: Option<&Fingerprint>,
        timeout: Duration,
    ) -> Result<Link> {
        Link::handshake(stream, id, pin, timeout, false)
    }

    fn handshake(
        mut stream: TcpStream,
        id: &Identity,
        pin: Option<&Fingerprint>,
        timeout: Duration,
        initiator: bool,
    ) -> Result<Link> {
        let _ = stream.set_nodelay(true);
        let peer_addr = stream
            .peer_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| "?".into());
        let theirs = exchange_preambles(&mut stream, timeout)?;
        let ours = super::frame::preamble();
        let mut prologue = b"purse-link".to_vec();
        if initiator {
            prologue.extend_from_slice(&ours);
            prologue.extend_from_slice(&theirs);
        } else {
            prologue.extend_from_slice(&theirs);
            prologue.extend_from_slice(&ours);
        }
        let b = snow::Builder::new(noise_params())
            .local_private_key(id.private())
            .prologue(&prologue);
        let mut hs = if initiator {
            b.build_initiator()
        } else {
            b.build_responder()
        }
        .map_err(hs_err)?;
        let mut buf = vec![0u8; MAX_FRAME];
        let mut payload = vec![0u8; MAX_FRAME];
        let step = |hs: &mut snow::HandshakeState,
                    stream: &mut TcpStream,
                    buf: &mut [u8],
                    payload: &mut [u8],
                    write: bool|
         -> Result<()> {
            if write {
                let n = hs.write_message(&[], buf).map_err(hs_err)?;
                write_frame(stream, &buf[..n], timeout)
            } else {
                let f = read_frame(stream, timeout, "in the secure handshake")?;
                hs.read_message(&f, payload).map_err(|e| {
                    LinkError::Handshake(format!("{e} (not a purse peer, or altered in transit)"))
                })?;
                Ok(())
            }
        };
        // XX: -> e ; <- e, ee, s, es ; -> s, se
        if initiator {
            step(&mut hs, &mut stream, &mut buf, &mut payload, true)?;
            step(&mut hs, &mut stream, &mut buf, &mut payload, false)?;
            // the responder's static key is known now: check the pin before sending ours
            check_pin(&hs, pin)?;
            step(&mut hs, &mut stream, &mut buf, &mut payload, true)?;
        } else {
            step(&mut hs, &mut stream, &mut buf, &mut payload, false)?;
            step(&mut hs, &mut stream, &mut buf, &mut payload, true)?;
            step(&mut hs, &mut stream, &mut buf, &mut payload, false)?;
            check_pin(&hs, pin)?;
        }
        let peer = hs
            .get_remote_static()
            .map(Fingerprint::of)
            .ok_or_else(|| LinkError::Handshake("the peer sent no static key".into()))?;
        let noise = hs.into_transport_mode().map_err(hs_err)?;
        Ok(Link {
            stream,
            noise,
            peer,
            timeout,
            peer_addr,
        })
    }

    /// The peer's fingerprint (authenticated by the handshake).
    pub fn peer_fingerprint(&self) -> Fingerprint {
        self.peer
    }

    /// Encrypt and send one message.
    pub fn send(&mut self, m: &Msg) -> Result<()> {
        let plain = m.encode();
        if plain.len() + TAG > MAX_FRAME {
            return Err(LinkError::TooLarge {
                len: plain.len() + TAG,
                max: MAX_FRAME,
            });
        }
        let mut buf = vec![0u8; plain.len() + TAG];
        let n = self
            .noise
            .write_message(&plain, &mut buf)
            .map_err(|e| LinkError::Handshake(e.to_string()))?;
        write_frame(&mut self.stream, &buf[..n], self.timeout)
    }

    /// Receive one message within the link's timeout.
    pub fn recv(&mut self, what: &str) -> Result<Msg> {
        self.recv_within(self.timeout, what)
    }

    /// Receive one message within `timeout`. A frame that fails authentication (tampered,
    /// replayed, reordered) ends the link: the Noise nonce can no longer be trusted.
    pub fn recv_within(&mut self, timeout: Duration, what: &str) -> Result<Msg> {
        let f = read_frame(&mut self.stream, timeout, what)?;
        let mut plain = vec![0u8; f.len()];
        let n = self
            .noise
            .read_message(&f, &mut plain)
            .map_err(|_| LinkError::Decrypt)?;
        Msg::decode(&plain[..n])
    }

    /// Close both directions now (the peer's next read sees the end).
    pub fn close(&self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

fn check_pin(hs: &snow::HandshakeState, pin: Option<&Fingerprint>) -> Result<()> {
    let Some(want) = pin else { return Ok(()) };
    let got = hs
        .get_remote_static()
        .map(Fingerprint::of)
        .ok_or_else(|| LinkError::Handshake("the peer sent no static key".into()))?;
    if &got != want {
        return Err(LinkError::Fingerprint {
            expected: want.to_string(),
            got: got.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn handshake_pin_and_messages() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let server = Identity::generate().unwrap();
        let fp = server.fingerprint();
        let t = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            let mut link = Link::accept(s, &server, None, Duration::from_secs(5)).unwrap();
            let m = link.recv("test").unwrap();
            link.send(&m).unwrap();
            // second connection: wrong pin on the client side
            let (s, _) = l.accept().unwrap();
            let _ = Link::accept(s, &server, None, Duration::from_secs(5));
        });
        let client = Identity::generate().unwrap();
        let mut link = Link::connect(&addr, &client, Some(&fp), Duration::from_secs(5)).unwrap();
        let m = Msg::Queued { ahead: 3 };
        link.send(&m).unwrap();
        assert_eq!(link.recv("test").unwrap(), m);
        let other = Identity::generate().unwrap().fingerprint();
        let e = Link::connect(&addr, &client, Some(&other), Duration::from_secs(5)).unwrap_err();
        assert!(matches!(e, LinkError::Fingerprint { .. }), "{e}");
        t.join().unwrap();
    }
}
