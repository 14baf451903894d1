//! Signature checks of a block's transactions, batched and spread over cores.

use aic_primitives::{verify_batch, PublicKey, Signature, SignedTx};
use rayon::prelude::*;

use crate::error::TxError;

/// Signatures verified per batch.
pub const SIGNATURE_BATCH: usize = 64;

/// Verifies every signature; on failure returns the position of the first bad one.
///
/// Batches of [`SIGNATURE_BATCH`] are verified in parallel; a failed batch is re-checked one
/// signature at a time to name the culprit.
pub fn verify_signatures(txs: &[&SignedTx]) -> Result<(), (usize, TxError)> {
    let failures: Vec<usize> = txs
        .par_chunks(SIGNATURE_BATCH)
        .enumerate()
        .filter_map(|(chunk_index, chunk)| {
            let messages: Vec<Vec<u8>> = chunk.iter().map(|t| t.body.signing_bytes()).collect();
            let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
            let sigs: Vec<Signature> = chunk.iter().map(|t| t.signature).collect();
            let keys: Vec<PublicKey> = chunk.iter().map(|t| t.body.sender).collect();
            if verify_batch(&refs, &sigs, &keys).is_ok() {
                return None;
            }
            let bad = (0..chunk.len())
                .find(|&i| keys[i].verify(refs[i], &sigs[i]).is_err())
                .unwrap_or(0);
            Some(chunk_index * SIGNATURE_BATCH + bad)
        })
        .collect();
    match failures.into_iter().min() {
        None => Ok(()),
        Some(i) => Err((i, TxError::BadSignature)),
    }
}
