//! 256-bit hashes and SHA-256d.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// A 256-bit hash in internal byte order (the order SHA-256 produces).
///
/// Block and transaction ids are *displayed* byte-reversed, as Bitcoin does, so that miners and
/// explorers read them the way they expect: [`Hash256::to_string`] and [`Hash256::from_str`] use
/// that display order, [`Hash256::to_hex`] the internal order.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hash256(pub [u8; 32]);

impl Hash256 {
    /// The all-zero hash: the previous-block hash of genesis, and the root of an empty state.
    pub const ZERO: Hash256 = Hash256([0; 32]);

    /// The bytes in internal order.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Hex of the bytes in internal order (not byte-reversed).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses hex in internal order.
    pub fn from_hex(s: &str) -> Result<Hash256, HashParseError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| HashParseError(s.to_owned()))?;
        Ok(Hash256(out))
    }
}

/// A hash in text that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid hash {0:?}: expected 64 hex digits")]
pub struct HashParseError(pub String);

impl fmt::Display for Hash256 {
    /// Byte-reversed hex (Bitcoin's display order).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rev = self.0;
        rev.reverse();
        f.write_str(&hex::encode(rev))
    }
}

impl fmt::Debug for Hash256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash256({self})")
    }
}

impl FromStr for Hash256 {
    type Err = HashParseError;

    /// Parses byte-reversed hex (Bitcoin's display order).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut h = Hash256::from_hex(s)?;
        h.0.reverse();
        Ok(h)
    }
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> Hash256 {
    Hash256(Sha256::digest(data).into())
}

/// SHA-256 applied twice, Bitcoin's hash for headers, transaction ids and merkle nodes.
pub fn sha256d(data: &[u8]) -> Hash256 {
    let first = Sha256::digest(data);
    Hash256(Sha256::digest(first).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256d_of_empty_matches_known_value() {
        assert_eq!(
            sha256d(b"").to_hex(),
            "5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456"
        );
    }

    #[test]
    fn display_is_byte_reversed() {
        let mut b = [0u8; 32];
        b[0] = 0xab;
        let h = Hash256(b);
        assert!(h.to_string().ends_with("ab"));
        assert_eq!(h.to_string().parse::<Hash256>(), Ok(h));
        assert!("zz".parse::<Hash256>().is_err());
    }
}
