//! The remote link (MISSION F21, docs/remote.md): two `purse` processes far apart, each with
//! its own reader and card, joined over TCP by an authenticated, encrypted channel.
//!
//! Layers, bottom up:
//! - [`frame`]: a clear 8-byte preamble (magic + version) then length-prefixed frames with a
//!   size limit; every read has a deadline.
//! - [`secure`]: a Noise XX handshake (snow) over those frames; the responder's static key is
//!   pinned by its SHA-256 fingerprint ([`Identity`]); then every frame is one Noise transport
//!   message (ChaCha20-Poly1305, implicit nonces: replayed, reordered or altered frames fail).
//! - [`msg`]: the messages (JSON inside the encrypted frames): hello + statements, APDU/answer.
//! - [`remote`]: [`remote::RemoteCard`], a [`CardIo`](crate::transport::CardIo) over a link, so the
//!   existing flows (transfer, resume, sync) drive a card in another process unchanged; and
//!   [`remote::serve_card`], the holder's side, which forwards only what a [`policy::Policy`]
//!   allows for the agreed operation.
//! - [`pay`] and [`service`]: the payment / resume over a link and the bank's sync service.
use std::path::{Path, PathBuf};
use std::time::Duration;

pub mod frame;
pub mod msg;
pub mod pay;
pub mod policy;
pub mod remote;
pub mod secure;
pub mod service;

/// Link protocol version carried in the clear preamble (and bound into the Noise prologue). It
/// moves with the card protocol's major version: a peer relays packets to our card, and a peer
/// of another card protocol would drive it into MAC failures it counts as bad keys (2: one key
/// set per session; 3: the key set by one CBC pass; 4: P5 carries S2, A2 carries A3; 5: one
/// session key for the MAC and the keystream; 6: its keystream IV masked by the MAC key's CMAC
/// subkey; 7: by K2 in TDES, the subkey no TDES packet MAC ends with).
pub const VERSION: u8 = 7;
/// The preamble's magic (7 bytes) followed by [`VERSION`].
pub const MAGIC: &[u8; 7] = b"PURSELK";
/// Largest frame body accepted (bytes after the 2-byte length). A purse APDU exchange is under
/// 600 bytes of JSON; 4 KiB leaves room and bounds what a hostile peer can make us buffer.
pub const MAX_FRAME: usize = 4096;
/// Default deadline for one read (an APDU answer, a handshake message).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// Deadline for a holder's statement (a person types it).
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(300);

/// Errors of the link. Each message says what the peer did (or failed to do).
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("{context}: {err}")]
    Io {
        context: String,
        err: std::io::Error,
    },
    #[error("the peer went silent: nothing within {secs} s while {what}")]
    Timeout { what: String, secs: u64 },
    #[error("the peer closed the link while {0}")]
    Closed(String),
    #[error("the peer stopped in the middle of a frame ({got} of {want} bytes) while {what}")]
    Truncated {
        what: String,
        got: usize,
        want: usize,
    },
    #[error("the peer sent a frame of {len} bytes; the limit is {max}")]
    TooLarge { len: usize, max: usize },
    #[error("the peer sent an empty frame")]
    EmptyFrame,
    #[error("the peer does not speak the purse link protocol (it sent {0})")]
    NotPurse(String),
    #[error("the peer speaks purse link version {theirs}, this purse speaks version {ours}: update the older side")]
    Version { ours: u8, theirs: u8 },
    #[error("secure handshake failed: {0}")]
    Handshake(String),
    #[error("the peer's identity {got} is not the pinned {expected}: wrong address, a changed key, or someone in between; check the fingerprint with the peer (`purse link id` on their side)")]
    Fingerprint { expected: String, got: String },
    #[error(
        "a frame failed authentication (altered, replayed or reordered in transit); link closed"
    )]
    Decrypt,
    #[error("the peer sent a malformed message: {0}")]
    BadMessage(String),
    #[error("the peer sent {got} where {expected} was expected")]
    Unexpected { expected: String, got: String },
    /// The peer (or our policy) refused; the text says why.
    #[error("{0}")]
    Refused(String),
    /// The two holders' statements differ (FIG. 3): no card was asked anything.
    #[error("the two holders' statements differ: {0}; no card was asked anything")]
    Disagree(String),
    #[error("identity file {path}: {msg}")]
    Identity { path: PathBuf, msg: String },
}

impl LinkError {
    pub fn io(context: impl Into<String>, err: std::io::Error) -> Self {
        LinkError::Io {
            context: context.into(),
            err,
        }
    }
}

impl crate::error::Failure for LinkError {
    fn kind(&self) -> crate::error::Kind {
        match self {
            // the holders said different things: a person's "no", before any card was asked
            LinkError::Disagree(_) => crate::error::Kind::Precheck,
            LinkError::Identity { .. } => crate::error::Kind::Io,
            _ => crate::error::Kind::Link,
        }
    }
    fn money_moved(&self) -> Option<bool> {
        match self {
            LinkError::Disagree(_) => Some(false),
            _ => None,
        }
    }
}

pub type Result<T, E = LinkError> = std::result::Result<T, E>;

/// A SHA-256 fingerprint of a Noise static public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn of(public: &[u8]) -> Self {
        use sha2::Digest;
        let d = sha2::Sha256::digest(public);
        let mut f = [0u8; 32];
        f.copy_from_slice(&d);
        Fingerprint(f)
    }

    /// Parse 64 hex digits; colons, spaces and a `SHA256:` prefix are ignored, any case.
    pub fn parse(s: &str) -> std::result::Result<Self, String> {
        let t = s.trim();
        let t = t
            .strip_prefix("SHA256:")
            .or_else(|| t.strip_prefix("sha256:"))
            .unwrap_or(t);
        let clean: String = t
            .chars()
            .filter(|c| !matches!(c, ':' | ' ' | '-'))
            .collect();
        let b = hex::decode(&clean).map_err(|_| {
            format!("fingerprint {s:?} is not hex (64 hex digits, as `purse link id` shows)")
        })?;
        let a: [u8; 32] = b.try_into().map_err(|b: Vec<u8>| {
            format!(
                "fingerprint {s:?} has {} bytes; a SHA-256 fingerprint has 32 (64 hex digits)",
                b.len()
            )
        })?;
        Ok(Fingerprint(a))
    }
}

impl std::fmt::Display for Fingerprint {
    /// `SHA256:` then 16 groups of 4 hex digits joined by `:` (easy to read out over a phone).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let h = hex::encode_upper(self.0);
        let groups: Vec<&str> = (0..16).map(|i| &h[i * 4..i * 4 + 4]).collect();
        write!(f, "SHA256:{}", groups.join(":"))
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

/// This side's static X25519 key for the Noise handshake, kept in a file (mode 0600).
pub struct Identity {
    private: [u8; 32],
    public: [u8; 32],
    pub path: PathBuf,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Identity({}, {})",
            self.path.display(),
            self.fingerprint()
        )
    }
}

/// Default identity file: `$PURSE_LINK_KEY`, else `~/.purse/link.key`.
pub fn default_identity_path() -> PathBuf {
    if let Some(p) = std::env::var_os("PURSE_LINK_KEY") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    home.join(".purse").join("link.key")
}

fn public_of(private: &[u8; 32]) -> [u8; 32] {
    use snow::resolvers::CryptoResolver;
    let mut dh = snow::resolvers::DefaultResolver
        .resolve_dh(&snow::params::DHChoice::Curve25519)
        .expect("the default resolver has Curve25519");
    dh.set(private);
    let mut p = [0u8; 32];
    p.copy_from_slice(dh.pubkey());
    p
}

impl Identity {
    /// A fresh random key (not saved).
    pub fn generate() -> Result<Self> {
        let b = snow::Builder::new(secure::noise_params());
        let kp = b
            .generate_keypair()
            .map_err(|e| LinkError::Handshake(format!("key generation: {e}")))?;
        let mut private = [0u8; 32];
        private.copy_from_slice(&kp.private);
        Ok(Identity {
            public: public_of(&private),
            private,
            path: PathBuf::new(),
        })
    }

    /// Load the key in `path`, creating it (and its directory) if it does not exist.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool)> {
        let ierr = |msg: String| LinkError::Identity {
            path: path.to_path_buf(),
            msg,
        };
        match std::fs::read_to_string(path) {
            Ok(s) => {
                let line = s
                    .lines()
                    .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
                    .ok_or_else(|| ierr("no key in the file".into()))?;
                let b =
                    hex::decode(line.trim()).map_err(|_| ierr("the key line is not hex".into()))?;
                let private: [u8; 32] = b
                    .try_into()
                    .map_err(|_| ierr("the key is not 32 bytes".into()))?;
                Ok((
                    Identity {
                        public: public_of(&private),
                        private,
                        path: path.to_path_buf(),
                    },
                    false,
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut id = Identity::generate()?;
                id.path = path.to_path_buf();
                if let Some(dir) = path.parent() {
                    if !dir.as_os_str().is_empty() {
                        std::fs::create_dir_all(dir).map_err(|e| ierr(e.to_string()))?;
                    }
                }
                let text = format!(
                    "# purse link identity (X25519 private key); fingerprint {}\n{}\n",
                    id.fingerprint(),
                    hex::encode(id.private)
                );
                write_private(path, text.as_bytes()).map_err(|e| ierr(e.to_string()))?;
                Ok((id, true))
            }
            Err(e) => Err(ierr(e.to_string())),
        }
    }

    pub fn public(&self) -> &[u8; 32] {
        &self.public
    }
    pub(crate) fn private(&self) -> &[u8; 32] {
        &self.private
    }
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.public)
    }
}

/// Everything the link parses from a peer, on arbitrary bytes: the preamble, the frame decoder
/// (slice and stream), the message decoder, the APDU parser and every role's policy. The fuzz
/// target (fuzz/fuzz_targets/link_frame.rs) and the corpus test (tests/link_frames.rs) call
/// this; it must return, never panic, whatever `data` is.
pub fn parse_untrusted(data: &[u8]) {
    let _ = frame::check_preamble(&data[..data.len().min(8)]);
    // slice decoder: frames back to back
    let mut rest = data;
    while let Ok(Some((body, used))) = frame::decode_frame(rest) {
        digest_body(body);
        rest = &rest[used..];
    }
    // stream decoder over the same bytes (EOF stands for a peer that stops)
    let mut w = frame::MemWire(std::io::Cursor::new(data.to_vec()));
    for _ in 0..64 {
        match frame::read_frame(&mut w, Duration::from_millis(50), "fuzzing") {
            Ok(b) => digest_body(&b),
            Err(_) => break,
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = Fingerprint::parse(s);
    }
}

fn digest_body(body: &[u8]) {
    if let Ok(m) = msg::Msg::decode(body) {
        let _ = m.encode();
        if let msg::Msg::Apdu { hex } | msg::Msg::Answer { hex } = &m {
            if let Ok(raw) = msg::unhex("apdu", hex) {
                if let Ok(c) = crate::apdu::Command::from_bytes(&raw) {
                    for role in [
                        policy::Role::Payee { amount: 700 },
                        policy::Role::Synced,
                        policy::Role::Resume,
                    ] {
                        let mut p = policy::Policy::new(role);
                        let _ = p.check(&c);
                    }
                }
            }
        }
    }
}

#[cfg(unix)]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_parses_its_display_and_plain_hex() {
        let id = Identity::generate().unwrap();
        let f = id.fingerprint();
        assert_eq!(Fingerprint::parse(&f.to_string()).unwrap(), f);
        assert_eq!(Fingerprint::parse(&hex::encode(f.0)).unwrap(), f);
        assert!(Fingerprint::parse("abcd").is_err());
        assert!(Fingerprint::parse("zz").is_err());
    }

    #[test]
    fn identity_file_round_trip() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/link.key");
        let (a, created) = Identity::load_or_create(&p).unwrap();
        assert!(created);
        let (b, created) = Identity::load_or_create(&p).unwrap();
        assert!(!created);
        assert_eq!(a.fingerprint(), b.fingerprint());
        std::fs::write(&p, "nothex\n").unwrap();
        assert!(Identity::load_or_create(&p).is_err());
    }
}
