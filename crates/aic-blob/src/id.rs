//! The content address of a blob.

use std::fmt;
use std::str::FromStr;

use crate::BlobError;

/// BLAKE3 of a blob's bytes: its name in every store and URL.
///
/// # Invariants
/// The text form is exactly 64 lowercase hex digits (the form `aic_data` manifests use);
/// anything else is refused by [`FromStr`], so an id can always be used as a file name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobId([u8; 32]);

impl BlobId {
    /// The id of `bytes`.
    pub fn of(bytes: &[u8]) -> BlobId {
        BlobId(*blake3::hash(bytes).as_bytes())
    }

    /// The id for a finished hash.
    pub fn from_hash(hash: blake3::Hash) -> BlobId {
        BlobId(*hash.as_bytes())
    }

    /// The 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }
}

impl FromStr for BlobId {
    type Err = BlobError;

    fn from_str(s: &str) -> Result<BlobId, BlobError> {
        let ok = s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !ok {
            return Err(BlobError::BadId(s.chars().take(80).collect()));
        }
        blake3::Hash::from_hex(s)
            .map(BlobId::from_hash)
            .map_err(|_| BlobError::BadId(s.to_owned()))
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobId({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_is_strict_lowercase_hex() {
        let id = BlobId::of(b"abc");
        assert_eq!(id.to_hex().parse::<BlobId>().unwrap(), id);
        assert!(id.to_hex().to_uppercase().parse::<BlobId>().is_err());
        assert!("../etc/passwd".parse::<BlobId>().is_err());
        assert!(id.to_hex()[..63].parse::<BlobId>().is_err());
    }
}
