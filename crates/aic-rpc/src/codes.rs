//! Machine-readable error codes: kebab-case rule names and BIP 22 reject reasons.

use aic_chain::ChainError;
use aic_consensus::{BlockError, TxError};

/// Kebab-case of the variant name in a `Debug` rendering: `BadNonce { .. }` → `bad-nonce`.
fn variant_code(debug: &str) -> String {
    let name: String = debug
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The HTTP status and machine-readable code for a chain error: one code per rule.
pub fn error_code(e: &ChainError) -> (u16, String) {
    match e {
        ChainError::Decode(_) => (400, "malformed".to_owned()),
        // A market rule's code is the rule's own name, e.g. `stake-below-minimum`.
        ChainError::Block(BlockError::Tx {
            error: TxError::Market(m),
            ..
        })
        | ChainError::Tx(TxError::Market(m)) => (400, variant_code(&format!("{m:?}"))),
        ChainError::Block(BlockError::Tx { error, .. }) | ChainError::Tx(error) => {
            (400, variant_code(&format!("{error:?}")))
        }
        ChainError::Block(b) => (400, variant_code(&format!("{b:?}"))),
        ChainError::Mempool(m) => {
            let code = variant_code(&format!("{m:?}"));
            let status = if code == "already-known" { 409 } else { 400 };
            (status, code)
        }
        ChainError::Duplicate(_) => (409, "duplicate".to_owned()),
        ChainError::KnownInvalid(_) => (400, "known-invalid".to_owned()),
        ChainError::UnknownParent(_) => (400, "unknown-parent".to_owned()),
        ChainError::InvalidParent(_) => (400, "invalid-parent".to_owned()),
        ChainError::ReorgTooDeep { .. } => (400, "reorg-too-deep".to_owned()),
        ChainError::Storage(_) | ChainError::Inconsistent(_) | ChainError::Failed => {
            (500, "storage".to_owned())
        }
        _ => (500, "internal".to_owned()),
    }
}

/// The BIP 22 reject reason for a refused block, with Bitcoin Core's names where a rule is
/// Bitcoin's.
pub fn bip22_reason(e: &ChainError) -> String {
    let block = match e {
        ChainError::Block(b) => b,
        ChainError::Duplicate(_) => return "duplicate".to_owned(),
        ChainError::KnownInvalid(_) => return "duplicate-invalid".to_owned(),
        ChainError::UnknownParent(_) => return "prev-blk-not-found".to_owned(),
        ChainError::InvalidParent(_) => return "bad-prevblk".to_owned(),
        ChainError::Decode(_) => return "rejected".to_owned(),
        other => return error_code(other).1,
    };
    match block {
        BlockError::HighHash { .. } => "high-hash".to_owned(),
        BlockError::BadVersion(_) => "bad-version".to_owned(),
        BlockError::BadBits { .. }
        | BlockError::BitsAboveLimit { .. }
        | BlockError::InvalidBits(_) => "bad-diffbits".to_owned(),
        BlockError::TimeTooOld { .. } => "time-too-old".to_owned(),
        BlockError::TimeTooNew { .. } => "time-too-new".to_owned(),
        BlockError::TooLarge { .. } | BlockError::TooManyTxs { .. } => "bad-blk-length".to_owned(),
        BlockError::NoCoinbase => "bad-cb-missing".to_owned(),
        BlockError::MultipleCoinbases { .. } => "bad-cb-multiple".to_owned(),
        BlockError::CoinbaseHeight { .. } => "bad-cb-height".to_owned(),
        BlockError::CoinbaseValueTooHigh { .. } => "bad-cb-amount".to_owned(),
        BlockError::BadMerkleRoot { .. } => "bad-txnmrklroot".to_owned(),
        BlockError::DuplicateTx => "bad-txns-duplicate".to_owned(),
        BlockError::StateRootMismatch { .. } => "bad-state-root".to_owned(),
        BlockError::Tx { error, .. } => match error {
            TxError::BadSignature => "bad-txns-signature".to_owned(),
            other => format!("bad-txns-{}", variant_code(&format!("{other:?}"))),
        },
        other => variant_code(&format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_kebab_case_variant_names() {
        let e = ChainError::Tx(TxError::BadNonce {
            expected: 1,
            got: 2,
        });
        assert_eq!(error_code(&e), (400, "bad-nonce".to_owned()));
        assert_eq!(variant_code("DuplicateTx"), "duplicate-tx");
        assert_eq!(
            bip22_reason(&ChainError::Block(BlockError::NoCoinbase)),
            "bad-cb-missing"
        );
    }
}
