//! The one home of the byte helpers that read and write the fixed layouts of docs/protocol.md
//! (card answers, packet bodies, command data) at the offsets named in [`super::consts`]:
//! `be16`/`be32`, the [`Fields`] reader, the [`Layout`] writer, the parse error shorthand and the
//! hex serializers of `--json` output.
use super::types::{Account, ParseError};

/// `Err(ParseError(s))`.
pub fn perr<T>(s: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError(s.into()))
}

/// Big-endian u16 from the first 2 bytes (the caller has checked the length).
pub fn be16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

/// Big-endian u32 from the first 4 bytes (the caller has checked the length).
pub fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Reads fields of a layout at the offsets of consts.rs (`u16`, as Constants.java has them).
/// The parser checks the total length first; every field then lies inside it.
#[derive(Clone, Copy)]
pub struct Fields<'a>(pub &'a [u8]);

impl<'a> Fields<'a> {
    pub fn u8(&self, off: u16) -> u8 {
        self.0[off as usize]
    }
    pub fn u16(&self, off: u16) -> u16 {
        be16(&self.0[off as usize..])
    }
    pub fn u32(&self, off: u16) -> u32 {
        be32(&self.0[off as usize..])
    }
    /// `len` bytes at `off`.
    pub fn bytes(&self, off: u16, len: u16) -> &'a [u8] {
        &self.0[off as usize..off as usize + len as usize]
    }
    /// N bytes at `off`.
    pub fn arr<const N: usize>(&self, off: u16) -> [u8; N] {
        let mut a = [0u8; N];
        a.copy_from_slice(&self.0[off as usize..off as usize + N]);
        a
    }
    /// The 8-byte ACCOUNT at `off`.
    pub fn account(&self, off: u16) -> Account {
        Account(self.arr(off))
    }
}

/// Builds a layout of a known length by writing fields at their offsets (unwritten bytes are 0).
pub struct Layout(Vec<u8>);

impl Layout {
    pub fn new(len: u16) -> Self {
        Layout(vec![0; len as usize])
    }
    pub fn put(&mut self, off: u16, b: &[u8]) -> &mut Self {
        self.0[off as usize..off as usize + b.len()].copy_from_slice(b);
        self
    }
    pub fn u8(&mut self, off: u16, v: u8) -> &mut Self {
        self.put(off, &[v])
    }
    pub fn u16(&mut self, off: u16, v: u16) -> &mut Self {
        self.put(off, &v.to_be_bytes())
    }
    pub fn u32(&mut self, off: u16, v: u32) -> &mut Self {
        self.put(off, &v.to_be_bytes())
    }
    pub fn into_vec(self) -> Vec<u8> {
        self.0
    }
}

/// Serializes bytes as upper-case hex (TIDs, APP_IDs, randoms in `--json` output).
pub fn ser_hex<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode_upper(v))
}

/// [`ser_hex`] for a 6-byte TID field.
pub fn ser_hex6<S: serde::Serializer>(v: &[u8; 6], s: S) -> Result<S::Ok, S::Error> {
    ser_hex(v, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_layout_agree() {
        let mut l = Layout::new(16);
        l.u8(0, 7)
            .u16(1, 0x0102)
            .u32(3, 0x0A0B_0C0D)
            .put(7, &[9; 8]);
        let v = l.into_vec();
        assert_eq!(v.len(), 16);
        let f = Fields(&v);
        assert_eq!((f.u8(0), f.u16(1), f.u32(3)), (7, 0x0102, 0x0A0B_0C0D));
        assert_eq!(f.account(7), Account([9; 8]));
        assert_eq!(f.bytes(7, 2), &[9, 9]);
        assert_eq!(f.u8(15), 0);
        assert_eq!(be16(&[1, 2, 3]), 0x0102);
        assert_eq!(be32(&[1, 2, 3, 4, 5]), 0x0102_0304);
    }
}
