//! Table definitions: the on-disk schema.

use redb::TableDefinition;

/// `"schema_version"` → u32 LE, `"genesis"` → hash, `"tip"` → hash.
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Block hash → canonical block bytes.
pub(crate) const BLOCKS: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("blocks");
/// Block hash → encoded [`crate::IndexEntry`].
pub(crate) const INDEX: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("index");
/// Height → hash of the main-chain block at that height.
pub(crate) const MAIN: TableDefinition<u64, [u8; 32]> = TableDefinition::new("main_chain");
/// Address → encoded account state.
pub(crate) const ACCOUNTS: TableDefinition<[u8; 20], &[u8]> = TableDefinition::new("accounts");
/// Main-chain block hash → encoded undo data.
pub(crate) const UNDO: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("undo");
/// Txid → main-chain block hash (32 bytes) and position (u32 LE).
pub(crate) const TXS: TableDefinition<[u8; 32], [u8; 36]> = TableDefinition::new("tx_index");
/// Encoded market record key → encoded market record (see `aic_ledger::market`).
pub(crate) const RECORDS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("market_records");
