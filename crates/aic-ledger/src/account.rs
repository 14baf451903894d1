//! Account state.

use aic_primitives::{sha256, Amount, Decode, DecodeError, Encode, Hash256, Reader};

/// An account: its balance and the nonce its next transaction must carry.
///
/// An account with zero balance and zero nonce is the same as no account, and is not stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Account {
    /// Spendable balance.
    pub balance: Amount,
    /// Number of transactions the account has sent.
    pub nonce: u64,
}

impl Account {
    /// True for the default (empty) account.
    pub fn is_empty(&self) -> bool {
        *self == Account::default()
    }

    /// The value committed in the state tree: SHA-256 of the canonical encoding.
    pub fn commitment(&self) -> Hash256 {
        sha256(&self.to_bytes())
    }
}

impl Encode for Account {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.balance.to_units().to_le_bytes());
        out.extend_from_slice(&self.nonce.to_le_bytes());
    }
}

impl Decode for Account {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Account {
            balance: Amount::from_units(r.read_u64()?),
            nonce: r.read_u64()?,
        })
    }
}
