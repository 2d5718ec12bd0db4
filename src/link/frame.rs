//! Link framing (docs/remote.md "Frame format"): each side first sends an 8-byte preamble
//! `"PURSELK" VERSION` in the clear, then frames `LEN(2, big-endian) BODY(LEN)` with
//! 1 <= LEN <= [`MAX_FRAME`]. Reads have a deadline: a peer that goes silent, or stops in the
//! middle of a frame, is an error after the timeout, never a hang.
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::{LinkError, Result, MAGIC, MAX_FRAME, VERSION};

/// The preamble this side sends.
pub fn preamble() -> [u8; 8] {
    let mut p = [0u8; 8];
    p[..7].copy_from_slice(MAGIC);
    p[7] = VERSION;
    p
}

/// Check the peer's preamble: wrong magic = not a purse link; wrong version = clear error.
pub fn check_preamble(p: &[u8]) -> Result<()> {
    if p.len() != 8 || &p[..7] != MAGIC {
        let shown: String = p
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() {
                    (b as char).to_string()
                } else {
                    format!("\\x{b:02X}")
                }
            })
            .collect();
        return Err(LinkError::NotPurse(format!("{shown:?}")));
    }
    if p[7] != VERSION {
        return Err(LinkError::Version {
            ours: VERSION,
            theirs: p[7],
        });
    }
    Ok(())
}

/// Encode one frame.
pub fn encode_frame(body: &[u8]) -> Result<Vec<u8>> {
    if body.is_empty() {
        return Err(LinkError::EmptyFrame);
    }
    if body.len() > MAX_FRAME {
        return Err(LinkError::TooLarge {
            len: body.len(),
            max: MAX_FRAME,
        });
    }
    let mut v = Vec::with_capacity(2 + body.len());
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    Ok(v)
}

/// Decode the first frame of `buf`: `Ok(None)` if more bytes are needed, else the body and the
/// number of bytes consumed. The length is checked before any body byte is awaited.
pub fn decode_frame(buf: &[u8]) -> Result<Option<(&[u8], usize)>> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let len = u16::from_be_bytes([buf[0], buf[1]]) as usize;
    if len == 0 {
        return Err(LinkError::EmptyFrame);
    }
    if len > MAX_FRAME {
        return Err(LinkError::TooLarge {
            len,
            max: MAX_FRAME,
        });
    }
    if buf.len() < 2 + len {
        return Ok(None);
    }
    Ok(Some((&buf[2..2 + len], 2 + len)))
}

/// Something frames are read from and written to with a deadline (a TCP stream; tests use
/// in-memory pipes).
pub trait Wire: Read + Write {
    fn set_deadline(&mut self, left: Duration) -> std::io::Result<()>;
}

impl Wire for TcpStream {
    fn set_deadline(&mut self, left: Duration) -> std::io::Result<()> {
        // a zero timeout means "block forever" to set_read_timeout: never pass it
        self.set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
        self.set_write_timeout(Some(left.max(Duration::from_millis(1))))
    }
}

/// In-memory wire (fuzzing, tests): reads what it holds, then EOF; writes are kept.
pub struct MemWire(pub std::io::Cursor<Vec<u8>>);

impl Read for MemWire {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for MemWire {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Wire for MemWire {
    fn set_deadline(&mut self, _left: Duration) -> std::io::Result<()> {
        Ok(())
    }
}

/// Read exactly `buf.len()` bytes before `deadline`. `Ok(false)`: the peer closed before the
/// first byte (only allowed when `eof_ok`).
fn read_full<W: Wire + ?Sized>(
    w: &mut W,
    buf: &mut [u8],
    deadline: Instant,
    timeout: Duration,
    what: &str,
    eof_ok: bool,
    frame_len: Option<usize>,
) -> Result<bool> {
    let mut got = 0;
    let base = if frame_len.is_some() { 2 } else { 0 };
    let want = frame_len.map(|l| l + 2).unwrap_or(buf.len());
    while got < buf.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(if got == 0 && frame_len.is_none() {
                LinkError::Timeout {
                    what: what.into(),
                    secs: timeout.as_secs().max(1),
                }
            } else {
                LinkError::Truncated {
                    what: what.into(),
                    got: base + got,
                    want,
                }
            });
        }
        w.set_deadline(left)
            .map_err(|e| LinkError::io("setting the link timeout", e))?;
        match w.read(&mut buf[got..]) {
            Ok(0) => {
                if got == 0 && eof_ok {
                    return Ok(false);
                }
                return Err(if got == 0 && frame_len.is_none() {
                    LinkError::Closed(what.into())
                } else {
                    LinkError::Truncated {
                        what: what.into(),
                        got: base + got,
                        want,
                    }
                });
            }
            Ok(n) => got += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
                return Err(LinkError::Closed(what.into()))
            }
            Err(e) => {
                return Err(LinkError::io(
                    format!("reading from the link while {what}"),
                    e,
                ))
            }
        }
    }
    Ok(true)
}

/// Send the preamble and check the peer's (each within `timeout`).
pub fn exchange_preambles<W: Wire + ?Sized>(w: &mut W, timeout: Duration) -> Result<[u8; 8]> {
    let ours = preamble();
    w.set_deadline(timeout)
        .map_err(|e| LinkError::io("setting the link timeout", e))?;
    w.write_all(&ours)
        .map_err(|e| LinkError::io("sending the link preamble", e))?;
    let mut theirs = [0u8; 8];
    let deadline = Instant::now() + timeout;
    read_full(
        w,
        &mut theirs,
        deadline,
        timeout,
        "waiting for the peer's preamble",
        false,
        None,
    )
    .map_err(|e| match e {
        // fewer than 8 bytes then silence/close: still "not purse" (or an old, odd peer)
        LinkError::Truncated { .. } => {
            LinkError::NotPurse("a preamble shorter than 8 bytes".into())
        }
        other => other,
    })?;
    check_preamble(&theirs)?;
    Ok(theirs)
}

/// Write one frame.
pub fn write_frame<W: Wire + ?Sized>(w: &mut W, body: &[u8], timeout: Duration) -> Result<()> {
    let f = encode_frame(body)?;
    w.set_deadline(timeout)
        .map_err(|e| LinkError::io("setting the link timeout", e))?;
    w.write_all(&f).map_err(|e| match e.kind() {
        ErrorKind::BrokenPipe | ErrorKind::ConnectionReset => {
            LinkError::Closed("sending a frame".into())
        }
        ErrorKind::WouldBlock | ErrorKind::TimedOut => LinkError::Timeout {
            what: "sending a frame (the peer does not read)".into(),
            secs: timeout.as_secs().max(1),
        },
        _ => LinkError::io("sending a frame", e),
    })?;
    w.flush().map_err(|e| LinkError::io("sending a frame", e))
}

/// Read one frame within `timeout` (the whole frame, not each byte). The length is checked
/// against [`MAX_FRAME`] before the body is read.
pub fn read_frame<W: Wire + ?Sized>(w: &mut W, timeout: Duration, what: &str) -> Result<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    let mut hdr = [0u8; 2];
    read_full(w, &mut hdr, deadline, timeout, what, false, None)?;
    let len = u16::from_be_bytes(hdr) as usize;
    if len == 0 {
        return Err(LinkError::EmptyFrame);
    }
    if len > MAX_FRAME {
        return Err(LinkError::TooLarge {
            len,
            max: MAX_FRAME,
        });
    }
    let mut body = vec![0u8; len];
    read_full(w, &mut body, deadline, timeout, what, false, Some(len))?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trip_and_limits() {
        let f = encode_frame(b"hello").unwrap();
        assert_eq!(decode_frame(&f).unwrap(), Some((&b"hello"[..], 7)));
        assert_eq!(decode_frame(&f[..4]).unwrap(), None);
        assert!(matches!(encode_frame(&[]), Err(LinkError::EmptyFrame)));
        assert!(matches!(
            encode_frame(&vec![0; MAX_FRAME + 1]),
            Err(LinkError::TooLarge { .. })
        ));
        assert!(matches!(
            decode_frame(&[0xFF, 0xFF]),
            Err(LinkError::TooLarge { .. })
        ));
        assert!(matches!(decode_frame(&[0, 0]), Err(LinkError::EmptyFrame)));
    }

    #[test]
    fn preamble_errors_are_clear() {
        assert!(check_preamble(&preamble()).is_ok());
        let mut p = preamble();
        p[7] = 9;
        let e = check_preamble(&p).unwrap_err().to_string();
        assert!(
            e.contains("version 9") && e.contains(&format!("version {VERSION}")),
            "{e}"
        );
        let e = check_preamble(b"GET / HT").unwrap_err().to_string();
        assert!(e.contains("does not speak the purse link"), "{e}");
    }
}
