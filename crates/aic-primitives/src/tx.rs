//! Transactions: the coinbase and signed account transactions.

use crate::address::Address;
use crate::amount::Amount;
use crate::encode::{CompactSize, Decode, DecodeError, Encode, Reader};
use crate::hash::{sha256d, Hash256};
use crate::height::Height;
use crate::keys::{PublicKey, SecretKey, Signature};
use crate::market::MarketAction;

/// Byte offset of the 8-byte extranonce inside an encoded coinbase transaction.
///
/// A Stratum job splits the coinbase there: `coinbase1` is the bytes before it, `coinbase2`
/// the bytes after it, and the miner fills in `extranonce1 || extranonce2` (4 + 4 bytes).
pub const COINBASE_EXTRANONCE_OFFSET: usize = 1 + 8;

const TAG_COINBASE: u8 = 0;
const TAG_SIGNED: u8 = 1;
const ACTION_TRANSFER: u8 = 0;
const ACTION_MARKET: u8 = 1;
/// Domain separation for transaction signatures.
const SIGNING_DOMAIN: &[u8] = b"AIC/tx/v1";

/// Maximum payouts in one coinbase.
pub const MAX_COINBASE_PAYOUTS: u64 = 64;

/// A transaction as it appears in a block.
// Nearly every transaction is `Signed` (the large variant, since a public key keeps its
// decompressed point), so boxing it would add an allocation per transaction for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transaction {
    /// The first transaction of every block: new coins and fees to the miner.
    Coinbase(Coinbase),
    /// A transaction signed by an account.
    Signed(SignedTx),
}

/// The coinbase: it creates the block subsidy, claims the fees, commits to the block height
/// and to the state root after the block, and carries the miner's extranonce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coinbase {
    /// Height of the block (makes every coinbase, and so every block, unique).
    pub height: Height,
    /// Free bytes for miners: 4 bytes for the pool, 4 for the miner.
    pub extranonce: [u8; 8],
    /// Root of the account state after the block has been applied.
    pub state_root: Hash256,
    /// Who receives the subsidy and the fees.
    pub payouts: Vec<Payout>,
}

/// One coinbase payout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payout {
    /// Receiving account.
    pub to: Address,
    /// Amount paid.
    pub amount: Amount,
}

/// What a signed transaction does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Move `amount` from the sender to `to`.
    Transfer {
        /// Receiving account.
        to: Address,
        /// Amount moved (the fee is paid on top).
        amount: Amount,
    },
    /// A market action (ADR 0017).
    Market(MarketAction),
}

impl Action {
    /// The value this action moves out of the sender's balance, besides the fee.
    pub fn spend(&self) -> Amount {
        match self {
            Action::Transfer { amount, .. } => *amount,
            Action::Market(m) => m.spend(),
        }
    }
}

/// The signed part of an account transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxBody {
    /// The network's chain id, so a transaction of one network is void on another.
    pub chain_id: u32,
    /// The sender's key; the sender's account is its [`Address`].
    pub sender: PublicKey,
    /// The sender account's nonce: transactions of one sender apply in nonce order, once.
    pub nonce: u64,
    /// Fee paid to the block's miner.
    pub fee: Amount,
    /// What the transaction does.
    pub action: Action,
}

/// An account transaction and its ed25519 signature over the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTx {
    /// The signed fields.
    pub body: TxBody,
    /// Signature by `body.sender` over [`TxBody::signing_bytes`].
    pub signature: Signature,
}

impl TxBody {
    /// The bytes that are signed: a domain tag, then the body's canonical encoding.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut out = SIGNING_DOMAIN.to_vec();
        self.encode_to(&mut out);
        out
    }

    /// The sender's address.
    pub fn sender_address(&self) -> Address {
        Address::from_public_key(&self.sender)
    }

    /// Signs the body with `key` (which must be the sender's).
    pub fn sign(self, key: &SecretKey) -> SignedTx {
        let signature = key.sign(&self.signing_bytes());
        SignedTx {
            body: self,
            signature,
        }
    }
}

impl SignedTx {
    /// The transaction id, the same as that of `Transaction::Signed(self)`.
    pub fn txid(&self) -> Hash256 {
        sha256d(&self.to_bytes())
    }
}

impl Transaction {
    /// The transaction id: SHA-256d of the canonical bytes.
    pub fn txid(&self) -> Hash256 {
        sha256d(&self.to_bytes())
    }

    /// The coinbase, if this is one.
    pub fn as_coinbase(&self) -> Option<&Coinbase> {
        match self {
            Transaction::Coinbase(c) => Some(c),
            Transaction::Signed(_) => None,
        }
    }

    /// The signed transaction, if this is one.
    pub fn as_signed(&self) -> Option<&SignedTx> {
        match self {
            Transaction::Coinbase(_) => None,
            Transaction::Signed(s) => Some(s),
        }
    }
}

impl Coinbase {
    /// Sum of the payouts, `None` on overflow.
    pub fn total_paid(&self) -> Option<Amount> {
        self.payouts
            .iter()
            .try_fold(Amount::ZERO, |acc, p| acc.checked_add(p.amount))
    }
}

impl Encode for Transaction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Transaction::Coinbase(c) => {
                out.push(TAG_COINBASE);
                out.extend_from_slice(&c.height.0.to_le_bytes());
                out.extend_from_slice(&c.extranonce);
                out.extend_from_slice(c.state_root.as_bytes());
                CompactSize(c.payouts.len() as u64).encode_to(out);
                for p in &c.payouts {
                    p.to.encode_to(out);
                    out.extend_from_slice(&p.amount.to_units().to_le_bytes());
                }
            }
            Transaction::Signed(s) => {
                out.push(TAG_SIGNED);
                s.body.encode_to(out);
                s.signature.encode_to(out);
            }
        }
    }
}

impl Decode for Transaction {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.read_u8()? {
            TAG_COINBASE => {
                let height = Height(r.read_u64()?);
                let extranonce = r.read_array()?;
                let state_root = Hash256(r.read_array()?);
                let n = r.read_count("coinbase payouts", MAX_COINBASE_PAYOUTS, 28)?;
                let mut payouts = Vec::with_capacity(n);
                for _ in 0..n {
                    let to = Address::decode_from(r)?;
                    let amount = Amount::from_units(r.read_u64()?);
                    payouts.push(Payout { to, amount });
                }
                Ok(Transaction::Coinbase(Coinbase {
                    height,
                    extranonce,
                    state_root,
                    payouts,
                }))
            }
            TAG_SIGNED => {
                let body = TxBody::decode_from(r)?;
                let signature = Signature::decode_from(r)?;
                Ok(Transaction::Signed(SignedTx { body, signature }))
            }
            tag => Err(DecodeError::UnknownTag {
                what: "transaction",
                tag,
            }),
        }
    }
}

impl Encode for TxBody {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.chain_id.to_le_bytes());
        self.sender.encode_to(out);
        out.extend_from_slice(&self.nonce.to_le_bytes());
        out.extend_from_slice(&self.fee.to_units().to_le_bytes());
        match &self.action {
            Action::Transfer { to, amount } => {
                out.push(ACTION_TRANSFER);
                to.encode_to(out);
                out.extend_from_slice(&amount.to_units().to_le_bytes());
            }
            Action::Market(m) => {
                out.push(ACTION_MARKET);
                m.encode_to(out);
            }
        }
    }
}

impl Decode for TxBody {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let chain_id = r.read_u32()?;
        let sender = PublicKey::decode_from(r)?;
        let nonce = r.read_u64()?;
        let fee = Amount::from_units(r.read_u64()?);
        let action = match r.read_u8()? {
            ACTION_TRANSFER => Action::Transfer {
                to: Address::decode_from(r)?,
                amount: Amount::from_units(r.read_u64()?),
            },
            ACTION_MARKET => Action::Market(MarketAction::decode_from(r)?),
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "action",
                    tag,
                })
            }
        };
        Ok(TxBody {
            chain_id,
            sender,
            nonce,
            fee,
            action,
        })
    }
}

impl Encode for SignedTx {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(TAG_SIGNED);
        self.body.encode_to(out);
        self.signature.encode_to(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_address() -> impl Strategy<Value = Address> {
        any::<[u8; 20]>().prop_map(Address)
    }

    fn arb_tx() -> impl Strategy<Value = Transaction> {
        let coinbase = (
            any::<u64>(),
            any::<[u8; 8]>(),
            any::<[u8; 32]>(),
            prop::collection::vec((arb_address(), any::<u64>()), 0..5),
        )
            .prop_map(|(h, x, root, p)| {
                Transaction::Coinbase(Coinbase {
                    height: Height(h),
                    extranonce: x,
                    state_root: Hash256(root),
                    payouts: p
                        .into_iter()
                        .map(|(to, a)| Payout {
                            to,
                            amount: Amount::from_units(a),
                        })
                        .collect(),
                })
            });
        let signed = (
            any::<[u8; 32]>(),
            any::<u32>(),
            any::<u64>(),
            any::<u64>(),
            arb_address(),
            any::<u64>(),
        )
            .prop_map(|(seed, chain_id, nonce, fee, to, amount)| {
                let key = SecretKey::from_seed(seed);
                Transaction::Signed(
                    TxBody {
                        chain_id,
                        sender: key.public_key(),
                        nonce,
                        fee: Amount::from_units(fee),
                        action: Action::Transfer {
                            to,
                            amount: Amount::from_units(amount),
                        },
                    }
                    .sign(&key),
                )
            });
        prop_oneof![coinbase, signed]
    }

    proptest! {
        #[test]
        fn transactions_round_trip(tx in arb_tx()) {
            let bytes = tx.to_bytes();
            prop_assert_eq!(Transaction::from_bytes(&bytes), Ok(tx));
        }

        #[test]
        fn truncated_transactions_are_rejected(tx in arb_tx(), cut in 1usize..200) {
            let bytes = tx.to_bytes();
            let cut = cut.min(bytes.len());
            prop_assert!(Transaction::from_bytes(&bytes[..bytes.len() - cut]).is_err());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = Transaction::from_bytes(&bytes);
        }
    }

    #[test]
    fn extranonce_sits_at_its_offset() {
        let cb = Transaction::Coinbase(Coinbase {
            height: Height(5),
            extranonce: *b"ABCDEFGH",
            state_root: Hash256::ZERO,
            payouts: vec![],
        });
        let bytes = cb.to_bytes();
        assert_eq!(
            &bytes[COINBASE_EXTRANONCE_OFFSET..COINBASE_EXTRANONCE_OFFSET + 8],
            b"ABCDEFGH"
        );
    }

    #[test]
    fn unknown_tags_are_rejected() {
        assert_eq!(
            Transaction::from_bytes(&[9]),
            Err(DecodeError::UnknownTag {
                what: "transaction",
                tag: 9
            })
        );
    }
}
