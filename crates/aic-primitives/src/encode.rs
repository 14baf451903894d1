//! The one canonical binary encoding of AIC wire types.
//!
//! Integers are little-endian and fixed width, byte arrays are written as they are, and counts
//! are Bitcoin's CompactSize in its minimal form. Every value has exactly one encoding: a
//! decoder rejects non-minimal CompactSize, unknown tags and trailing bytes.
//!
//! Decoding never trusts a length: [`Reader::read_count`] refuses a count whose items could not
//! fit in the bytes that remain, so a hostile 9-byte input cannot make it allocate gigabytes.

/// A type with a canonical byte encoding.
pub trait Encode {
    /// Appends the encoding of `self` to `out`.
    fn encode_to(&self, out: &mut Vec<u8>);

    /// The encoding of `self` as a new vector.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_to(&mut out);
        out
    }
}

/// A type that can be decoded from its canonical encoding.
pub trait Decode: Sized {
    /// Reads one value from `r`.
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// Decodes a value that must span all of `bytes`.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Self::decode_from(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

/// Why bytes are not the canonical encoding of a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended early.
    #[error("unexpected end of input: needed {needed} more bytes, {remaining} left")]
    UnexpectedEnd {
        /// Bytes the next field needs.
        needed: usize,
        /// Bytes left in the input.
        remaining: usize,
    },
    /// Bytes were left after the value.
    #[error("{0} trailing bytes after the value")]
    TrailingBytes(usize),
    /// A CompactSize was not in its shortest form.
    #[error("non-canonical CompactSize {0}")]
    NonCanonicalCompactSize(u64),
    /// A count larger than its limit or than the input could hold.
    #[error("count {count} of {what} exceeds the limit of {max}")]
    CountTooLarge {
        /// What was being counted.
        what: &'static str,
        /// The count read.
        count: u64,
        /// The largest count allowed here.
        max: u64,
    },
    /// An enum tag that names no variant.
    #[error("unknown {what} tag {tag}")]
    UnknownTag {
        /// The enum being decoded.
        what: &'static str,
        /// The tag read.
        tag: u8,
    },
    /// A public key that is not a valid ed25519 point.
    #[error("invalid ed25519 public key")]
    InvalidPublicKey,
    /// A string that is not UTF-8.
    #[error("{what} is not UTF-8")]
    InvalidUtf8 {
        /// The field being decoded.
        what: &'static str,
    },
}

/// A cursor over bytes being decoded.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Fails unless every byte was read.
    pub fn finish(&self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }

    /// The next `n` bytes.
    pub fn read_slice(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let remaining = self.remaining();
        if n > remaining {
            return Err(DecodeError::UnexpectedEnd {
                needed: n,
                remaining,
            });
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// The next `N` bytes as an array.
    pub fn read_array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.read_slice(N)?);
        Ok(out)
    }

    /// A byte.
    pub fn read_u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.read_array::<1>()?[0])
    }

    /// A little-endian `u16`.
    pub fn read_u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.read_array()?))
    }

    /// A little-endian `u32`.
    pub fn read_u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.read_array()?))
    }

    /// A little-endian `u64`.
    pub fn read_u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.read_array()?))
    }

    /// A CompactSize in its minimal form.
    pub fn read_compact_size(&mut self) -> Result<u64, DecodeError> {
        let (v, min) = match self.read_u8()? {
            0xfd => (u64::from(self.read_u16()?), 0xfd),
            0xfe => (u64::from(self.read_u32()?), 0x1_0000),
            0xff => (self.read_u64()?, 0x1_0000_0000),
            b => return Ok(u64::from(b)),
        };
        if v < min {
            return Err(DecodeError::NonCanonicalCompactSize(v));
        }
        Ok(v)
    }

    /// A count of items, each at least `min_item_bytes` long, at most `max`.
    ///
    /// Fails if the items could not fit in the remaining input, so the count is safe to use
    /// as a capacity.
    pub fn read_count(
        &mut self,
        what: &'static str,
        max: u64,
        min_item_bytes: usize,
    ) -> Result<usize, DecodeError> {
        let count = self.read_compact_size()?;
        let fit = (self.remaining() / min_item_bytes.max(1)) as u64;
        let limit = max.min(fit);
        if count > limit {
            return Err(DecodeError::CountTooLarge {
                what,
                count,
                max: limit,
            });
        }
        Ok(count as usize)
    }
}

/// Bitcoin's variable-length integer, used for counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactSize(pub u64);

impl Encode for CompactSize {
    fn encode_to(&self, out: &mut Vec<u8>) {
        let v = self.0;
        if v < 0xfd {
            out.push(v as u8);
        } else if v <= 0xffff {
            out.push(0xfd);
            out.extend_from_slice(&(v as u16).to_le_bytes());
        } else if v <= 0xffff_ffff {
            out.push(0xfe);
            out.extend_from_slice(&(v as u32).to_le_bytes());
        } else {
            out.push(0xff);
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

impl Decode for CompactSize {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.read_compact_size().map(CompactSize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn compact_size_round_trips(v in any::<u64>()) {
            let bytes = CompactSize(v).to_bytes();
            prop_assert_eq!(CompactSize::from_bytes(&bytes), Ok(CompactSize(v)));
        }
    }

    #[test]
    fn non_minimal_compact_size_is_rejected() {
        assert_eq!(
            CompactSize::from_bytes(&[0xfd, 0x10, 0x00]),
            Err(DecodeError::NonCanonicalCompactSize(0x10))
        );
        assert_eq!(
            CompactSize::from_bytes(&[0xfe, 0xff, 0xff, 0x00, 0x00]),
            Err(DecodeError::NonCanonicalCompactSize(0xffff))
        );
    }

    #[test]
    fn a_count_larger_than_the_input_is_refused_before_allocating() {
        let mut r = Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
        assert!(matches!(
            r.read_count("things", u64::MAX, 1),
            Err(DecodeError::CountTooLarge { .. })
        ));
    }

    #[test]
    fn trailing_bytes_are_rejected() {
        assert_eq!(
            CompactSize::from_bytes(&[1, 2]),
            Err(DecodeError::TrailingBytes(1))
        );
    }
}
