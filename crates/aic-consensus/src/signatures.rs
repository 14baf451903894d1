//! Signature checks of a block's transactions, batched and spread over cores.

use aic_primitives::{verify_batch, PublicKey, Signature, SignedTx};
use rayon::prelude::*;

use crate::error::TxError;

/// Smallest batch: below this, splitting across cores costs more than it saves.
pub const SIGNATURE_BATCH: usize = 64;

/// Verifies every signature; on failure returns the position of the first bad one.
///
/// The signatures are split into one batch per core (at least [`SIGNATURE_BATCH`] each; a
/// larger batch costs less per signature) and the batches verified in parallel; a failed
/// batch is re-checked one signature at a time to name the culprit.
pub fn verify_signatures(txs: &[&SignedTx]) -> Result<(), (usize, TxError)> {
    let per_core = txs.len().div_ceil(rayon::current_num_threads().max(1));
    let batch = per_core.max(SIGNATURE_BATCH);
    let failures: Vec<usize> = txs
        .par_chunks(batch)
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
            Some(chunk_index * batch + bad)
        })
        .collect();
    match failures.into_iter().min() {
        None => Ok(()),
        Some(i) => Err((i, TxError::BadSignature)),
    }
}
