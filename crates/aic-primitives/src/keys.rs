//! ed25519 keys and signatures, verified under ZIP 215's rules.
//!
//! # Consensus
//! A signature is valid when it satisfies the cofactored equation `[8][s]B = [8]R + [8][k]A`
//! with the encodings ZIP 215 accepts (ed25519-zebra). Under those rules one-by-one and batch
//! verification give the same answer for every input, so a block checked in batches and a
//! transaction checked alone can never disagree. Small-order public keys are refused when
//! decoded: anyone could sign for them.

use std::fmt;
use std::hash::{Hash, Hasher};

use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_zebra::{batch, SigningKey, VerificationKey, VerificationKeyBytes};

use crate::encode::{Decode, DecodeError, Encode, Reader};

/// A secret signing key.
///
/// # Invariants
/// Its `Debug` output never shows the key, so it cannot leak into logs.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

/// A public verification key: a valid curve point of large order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerificationKey);

/// An ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Signature(pub [u8; 64]);

/// A key or signature that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The signature does not verify.
    #[error("invalid signature")]
    BadSignature,
    /// The bytes are not a key.
    #[error("invalid key bytes")]
    InvalidKey,
    /// Batch inputs of different lengths.
    #[error("batch of {messages} messages, {signatures} signatures and {keys} keys")]
    BatchLengthMismatch {
        /// Number of messages.
        messages: usize,
        /// Number of signatures.
        signatures: usize,
        /// Number of keys.
        keys: usize,
    },
}

impl SecretKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> SecretKey {
        SecretKey(SigningKey::new(rand::rngs::OsRng))
    }

    /// The key with this 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> SecretKey {
        SecretKey(SigningKey::from(seed))
    }

    /// The 32-byte seed (keep it secret).
    pub fn to_seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(VerificationKey::from(&self.0))
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.0.sign(message).to_bytes())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

impl PublicKey {
    /// Parses 32 bytes, rejecting encodings that are not a curve point and small-order
    /// points (for which anyone can forge a signature under the cofactored rule).
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
        let point = CompressedEdwardsY(*bytes)
            .decompress()
            .ok_or(KeyError::InvalidKey)?;
        if point.is_small_order() {
            return Err(KeyError::InvalidKey);
        }
        VerificationKey::try_from(*bytes)
            .map(PublicKey)
            .map_err(|_| KeyError::InvalidKey)
    }

    /// The 32 key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.into()
    }

    /// Verifies one signature.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), KeyError> {
        let sig = ed25519_zebra::Signature::from_bytes(&signature.0);
        self.0
            .verify(&sig, message)
            .map_err(|_| KeyError::BadSignature)
    }
}

impl Hash for PublicKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.to_bytes().hash(state);
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.to_bytes()))
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.0))
    }
}

/// Verifies many signatures at once, about twice as fast per signature as one by one, with the
/// same verdict as verifying each (ZIP 215).
///
/// Fails if any one fails; callers that need to know which one re-verify singly.
pub fn verify_batch(
    messages: &[&[u8]],
    signatures: &[Signature],
    keys: &[PublicKey],
) -> Result<(), KeyError> {
    if messages.len() != signatures.len() || messages.len() != keys.len() {
        return Err(KeyError::BatchLengthMismatch {
            messages: messages.len(),
            signatures: signatures.len(),
            keys: keys.len(),
        });
    }
    let mut verifier = batch::Verifier::new();
    for ((m, s), k) in messages.iter().zip(signatures).zip(keys) {
        let key = VerificationKeyBytes::from(k.to_bytes());
        verifier.queue((key, ed25519_zebra::Signature::from_bytes(&s.0), m));
    }
    verifier
        .verify(rand::rngs::OsRng)
        .map_err(|_| KeyError::BadSignature)
}

impl Encode for PublicKey {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }
}

impl Decode for PublicKey {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        PublicKey::from_bytes(&r.read_array()?).map_err(|_| DecodeError::InvalidPublicKey)
    }
}

impl Encode for Signature {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for Signature {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Signature(r.read_array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_batch() {
        let keys: Vec<SecretKey> = (0..4u8).map(|i| SecretKey::from_seed([i; 32])).collect();
        let msgs: Vec<Vec<u8>> = (0..4u8).map(|i| vec![i; 10]).collect();
        let sigs: Vec<Signature> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
        let pubs: Vec<PublicKey> = keys.iter().map(SecretKey::public_key).collect();
        let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
        for i in 0..4 {
            assert_eq!(pubs[i].verify(refs[i], &sigs[i]), Ok(()));
        }
        assert_eq!(verify_batch(&refs, &sigs, &pubs), Ok(()));
        let mut bad = sigs.clone();
        bad[2].0[0] ^= 1;
        assert_eq!(
            verify_batch(&refs, &bad, &pubs),
            Err(KeyError::BadSignature)
        );
        assert_eq!(
            pubs[2].verify(refs[2], &bad[2]),
            Err(KeyError::BadSignature)
        );
    }

    #[test]
    fn small_order_and_invalid_keys_are_refused() {
        // The identity point (small order) and a y with no curve point.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKey::from_bytes(&identity), Err(KeyError::InvalidKey));
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        assert!(PublicKey::from_bytes(&not_a_point).is_err());
        let k = SecretKey::from_seed([3; 32]).public_key();
        assert_eq!(PublicKey::from_bytes(&k.to_bytes()), Ok(k));
    }

    #[test]
    fn secret_key_debug_is_redacted() {
        let k = SecretKey::from_seed([7; 32]);
        assert!(!format!("{k:?}").contains("0707"));
    }
}
