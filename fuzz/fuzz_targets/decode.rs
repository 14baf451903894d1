//! Any bytes as a transaction and as a block: decoding must never panic, and whatever decodes
//! must encode back to the same bytes (one canonical encoding).
#![no_main]

use aic_primitives::{Block, Decode, Encode, Transaction};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = Transaction::from_bytes(data) {
        assert_eq!(tx.to_bytes(), data);
    }
    if let Ok(block) = Block::from_bytes(data) {
        assert_eq!(block.to_bytes(), data);
    }
});
