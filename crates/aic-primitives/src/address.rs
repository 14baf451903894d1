//! Account addresses: 20 bytes of a public key's hash, written in bech32m.

use std::fmt;

use bech32::{Bech32m, Hrp};

use crate::encode::{Decode, DecodeError, Encode, Reader};
use crate::hash::sha256;
use crate::keys::PublicKey;
use crate::params::Network;

/// An account address: the first 20 bytes of SHA-256 of the account's public key.
///
/// In text it is bech32m with the network's prefix (`aic1…`, `taic1…`, `daic1…`), so an address
/// of one network is refused by another.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address(pub [u8; 20]);

/// Text that is not an address of the expected network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddressError {
    /// Not valid bech32m.
    #[error("invalid address {0:?}: not bech32m")]
    Bech32(String),
    /// An address of another network.
    #[error("address {address:?} has prefix {found:?}, expected {expected:?}")]
    WrongNetwork {
        /// The address.
        address: String,
        /// Its prefix.
        found: String,
        /// The prefix of this network.
        expected: &'static str,
    },
    /// Not 20 bytes of payload.
    #[error("invalid address {0:?}: payload is not 20 bytes")]
    Length(String),
}

impl Address {
    /// The address of `key`.
    pub fn from_public_key(key: &PublicKey) -> Address {
        let h = sha256(&key.to_bytes());
        let mut a = [0u8; 20];
        a.copy_from_slice(&h.0[..20]);
        Address(a)
    }

    /// The bech32m text of this address on `network`.
    pub fn to_bech32(&self, network: Network) -> String {
        let hrp = Hrp::parse_unchecked(network.address_prefix());
        // Encoding 20 bytes under a valid prefix cannot fail.
        bech32::encode::<Bech32m>(hrp, &self.0).unwrap_or_default()
    }

    /// Parses bech32m text, requiring `network`'s prefix.
    pub fn parse(text: &str, network: Network) -> Result<Address, AddressError> {
        let (hrp, data) =
            bech32::decode(text).map_err(|_| AddressError::Bech32(text.to_owned()))?;
        // `decode` accepts bech32 too; require bech32m exactly by re-encoding.
        if bech32::encode::<Bech32m>(hrp, &data).ok().as_deref() != Some(&text.to_lowercase()) {
            return Err(AddressError::Bech32(text.to_owned()));
        }
        if hrp.as_str() != network.address_prefix() {
            return Err(AddressError::WrongNetwork {
                address: text.to_owned(),
                found: hrp.as_str().to_owned(),
                expected: network.address_prefix(),
            });
        }
        let bytes: [u8; 20] = data
            .try_into()
            .map_err(|_| AddressError::Length(text.to_owned()))?;
        Ok(Address(bytes))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", hex::encode(self.0))
    }
}

impl Encode for Address {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
}

impl Decode for Address {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Address(r.read_array()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;

    #[test]
    fn bech32m_round_trip_and_network_check() {
        let a = Address::from_public_key(&SecretKey::from_seed([1; 32]).public_key());
        let s = a.to_bech32(Network::Devnet);
        assert!(s.starts_with("daic1"));
        assert_eq!(Address::parse(&s, Network::Devnet), Ok(a));
        assert!(matches!(
            Address::parse(&s, Network::Mainnet),
            Err(AddressError::WrongNetwork { .. })
        ));
        let mut broken = s.clone();
        broken.pop();
        broken.push(if s.ends_with('q') { 'p' } else { 'q' });
        assert!(matches!(
            Address::parse(&broken, Network::Devnet),
            Err(AddressError::Bech32(_))
        ));
        // The same payload in plain bech32 (not bech32m) is refused.
        let legacy = bech32::encode::<bech32::Bech32>(Hrp::parse_unchecked("daic"), &a.0).unwrap();
        assert!(Address::parse(&legacy, Network::Devnet).is_err());
    }
}
