//! ed25519 keys and signatures.

use std::fmt;

use ed25519_dalek::{Signer, Verifier};

use crate::encode::{Decode, DecodeError, Encode, Reader};

/// A secret signing key.
///
/// # Invariants
/// Its `Debug` output never shows the key, so it cannot leak into logs.
#[derive(Clone)]
pub struct SecretKey(ed25519_dalek::SigningKey);

/// A public verification key, always a valid curve point.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublicKey(ed25519_dalek::VerifyingKey);

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
        SecretKey(ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng))
    }

    /// The key with this 32-byte seed.
    pub fn from_seed(seed: [u8; 32]) -> SecretKey {
        SecretKey(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// The 32-byte seed (keep it secret).
    pub fn to_seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
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
    /// (weak) keys, for which single and batch verification could disagree.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
        let key =
            ed25519_dalek::VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::InvalidKey)?;
        if key.is_weak() {
            return Err(KeyError::InvalidKey);
        }
        Ok(PublicKey(key))
    }

    /// The 32 key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// Verifies one signature (RFC 8032 with canonical `S`, as the batch verifier checks it).
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), KeyError> {
        let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
        self.0
            .verify(message, &sig)
            .map_err(|_| KeyError::BadSignature)
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

/// Verifies many signatures at once, about twice as fast per signature as one by one.
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
    let sigs: Vec<ed25519_dalek::Signature> = signatures
        .iter()
        .map(|s| ed25519_dalek::Signature::from_bytes(&s.0))
        .collect();
    let keys: Vec<ed25519_dalek::VerifyingKey> = keys.iter().map(|k| k.0).collect();
    ed25519_dalek::verify_batch(messages, &sigs, &keys).map_err(|_| KeyError::BadSignature)
}

impl Encode for PublicKey {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.0.as_bytes());
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
    fn secret_key_debug_is_redacted() {
        let k = SecretKey::from_seed([7; 32]);
        assert!(!format!("{k:?}").contains("0707"));
    }
}
