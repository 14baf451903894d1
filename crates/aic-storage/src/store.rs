//! The redb-backed store.

use std::path::Path;

use aic_primitives::{Address, Block, Decode, Encode, Hash256, Height};
use redb::{Database, Durability, ReadableTable, ReadableTableMetadata};

use crate::batch::{IndexEntry, WriteBatch};
use crate::error::StorageError;
use crate::tables::{ACCOUNTS, BLOCKS, INDEX, MAIN, META, RECORDS, TXS, UNDO};

/// A market record as stored: its encoded key and its encoded value.
pub type EncodedRecord = (Vec<u8>, Vec<u8>);

/// Version of the on-disk schema this build reads and writes.
pub const SCHEMA_VERSION: u32 = 2;

/// The chain database.
#[derive(Debug)]
pub struct Store {
    db: Database,
}

fn corrupt(table: &'static str, reason: impl ToString) -> StorageError {
    StorageError::Corrupt {
        table,
        reason: reason.to_string(),
    }
}

impl Store {
    /// Opens or creates the database at `path` for the network whose genesis is `genesis`.
    ///
    /// A new database gets every table and the schema version; an existing one must have the
    /// same schema version and genesis.
    pub fn open(path: &Path, genesis: Hash256) -> Result<Store, StorageError> {
        let db = Database::create(path)?;
        let tx = db.begin_write()?;
        {
            let mut meta = tx.open_table(META)?;
            let version = meta.get("schema_version")?.map(|v| v.value().to_vec());
            match version {
                None => {
                    meta.insert("schema_version", SCHEMA_VERSION.to_le_bytes().as_slice())?;
                    meta.insert("genesis", genesis.as_bytes().as_slice())?;
                }
                Some(v) => {
                    let found = v
                        .try_into()
                        .map(u32::from_le_bytes)
                        .map_err(|_| corrupt("meta", "schema_version is not 4 bytes"))?;
                    if found != SCHEMA_VERSION {
                        return Err(StorageError::SchemaVersion {
                            found,
                            expected: SCHEMA_VERSION,
                        });
                    }
                    let stored = meta
                        .get("genesis")?
                        .map(|v| v.value().to_vec())
                        .unwrap_or_default();
                    if stored != genesis.as_bytes() {
                        return Err(StorageError::WrongNetwork {
                            found: hex::encode(stored),
                            expected: genesis.to_hex(),
                        });
                    }
                }
            }
            tx.open_table(BLOCKS)?;
            tx.open_table(INDEX)?;
            tx.open_table(MAIN)?;
            tx.open_table(ACCOUNTS)?;
            tx.open_table(RECORDS)?;
            tx.open_table(UNDO)?;
            tx.open_table(TXS)?;
        }
        tx.commit()?;
        Ok(Store { db })
    }

    /// The stored tip, `None` for a new database.
    pub fn tip(&self) -> Result<Option<Hash256>, StorageError> {
        let tx = self.db.begin_read()?;
        let meta = tx.open_table(META)?;
        let tip = meta.get("tip")?.map(|v| v.value().to_vec());
        tip.map(|b| {
            b.try_into()
                .map(Hash256)
                .map_err(|_| corrupt("meta", "tip is not 32 bytes"))
        })
        .transpose()
    }

    /// Every index record.
    pub fn load_index(&self) -> Result<Vec<(Hash256, IndexEntry)>, StorageError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(INDEX)?;
        let mut out = Vec::with_capacity(table.len()? as usize);
        for row in table.iter()? {
            let (k, v) = row?;
            let entry = IndexEntry::from_bytes(v.value()).map_err(|e| corrupt("index", e))?;
            out.push((Hash256(k.value()), entry));
        }
        Ok(out)
    }

    /// The main chain's hashes by height, genesis first.
    pub fn load_main_chain(&self) -> Result<Vec<Hash256>, StorageError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(MAIN)?;
        let mut out = Vec::with_capacity(table.len()? as usize);
        for (expected, row) in table.iter()?.enumerate() {
            let (k, v) = row?;
            if k.value() != expected as u64 {
                return Err(corrupt("main_chain", format!("gap at height {expected}")));
            }
            out.push(Hash256(v.value()));
        }
        Ok(out)
    }

    /// Every stored account, encoded.
    pub fn load_accounts(&self) -> Result<Vec<(Address, Vec<u8>)>, StorageError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(ACCOUNTS)?;
        let mut out = Vec::with_capacity(table.len()? as usize);
        for row in table.iter()? {
            let (k, v) = row?;
            out.push((Address(k.value()), v.value().to_vec()));
        }
        Ok(out)
    }

    /// The canonical bytes of a stored block.
    pub fn block_bytes(&self, hash: &Hash256) -> Result<Option<Vec<u8>>, StorageError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(BLOCKS)?;
        Ok(table.get(hash.0)?.map(|v| v.value().to_vec()))
    }

    /// A stored block.
    pub fn block(&self, hash: &Hash256) -> Result<Option<Block>, StorageError> {
        self.block_bytes(hash)?
            .map(|b| Block::from_bytes(&b).map_err(|e| corrupt("blocks", e)))
            .transpose()
    }

    /// Every stored market record: encoded key and encoded record.
    pub fn load_records(&self) -> Result<Vec<EncodedRecord>, StorageError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(RECORDS)?;
        let mut out = Vec::with_capacity(table.len()? as usize);
        for row in table.iter()? {
            let (k, v) = row?;
            out.push((k.value().to_vec(), v.value().to_vec()));
        }
        Ok(out)
    }

    /// The encoded undo data of a main-chain block.
    pub fn undo(&self, hash: &Hash256) -> Result<Option<Vec<u8>>, StorageError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(UNDO)?;
        let bytes = table.get(hash.0)?.map(|v| v.value().to_vec());
        Ok(bytes)
    }

    /// Where a main-chain transaction is: its block and position.
    pub fn tx_location(&self, txid: &Hash256) -> Result<Option<(Hash256, u32)>, StorageError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(TXS)?;
        Ok(table.get(txid.0)?.map(|v| {
            let v = v.value();
            let mut hash = [0u8; 32];
            hash.copy_from_slice(&v[..32]);
            let mut pos = [0u8; 4];
            pos.copy_from_slice(&v[32..]);
            (Hash256(hash), u32::from_le_bytes(pos))
        }))
    }

    /// Writes a batch in one durable transaction: all of it or none of it.
    pub fn write(&self, batch: &WriteBatch) -> Result<(), StorageError> {
        let mut tx = self.db.begin_write()?;
        tx.set_durability(Durability::Immediate);
        {
            let mut blocks = tx.open_table(BLOCKS)?;
            let mut index = tx.open_table(INDEX)?;
            let mut main = tx.open_table(MAIN)?;
            let mut accounts = tx.open_table(ACCOUNTS)?;
            let mut records = tx.open_table(RECORDS)?;
            let mut undo = tx.open_table(UNDO)?;
            let mut txs = tx.open_table(TXS)?;
            let mut meta = tx.open_table(META)?;
            for (hash, bytes, entry) in &batch.new_blocks {
                blocks.insert(hash.0, bytes.as_slice())?;
                index.insert(hash.0, entry.to_bytes().as_slice())?;
            }
            for (hash, entry) in &batch.index_updates {
                index.insert(hash.0, entry.to_bytes().as_slice())?;
            }
            for (hash, height, txids) in &batch.disconnected {
                main.remove(height.0)?;
                undo.remove(hash.0)?;
                for id in txids {
                    txs.remove(id.0)?;
                }
            }
            for (hash, height, txids, u) in &batch.connected {
                main.insert(height.0, hash.0)?;
                undo.insert(hash.0, u.as_slice())?;
                for (pos, id) in txids.iter().enumerate() {
                    let mut v = [0u8; 36];
                    v[..32].copy_from_slice(&hash.0);
                    v[32..].copy_from_slice(&(pos as u32).to_le_bytes());
                    txs.insert(id.0, v)?;
                }
            }
            for (addr, acct) in &batch.accounts {
                if acct.is_empty() {
                    accounts.remove(addr.0)?;
                } else {
                    accounts.insert(addr.0, acct.as_slice())?;
                }
            }
            for (key, record) in &batch.records {
                if record.is_empty() {
                    records.remove(key.as_slice())?;
                } else {
                    records.insert(key.as_slice(), record.as_slice())?;
                }
            }
            if let Some(tip) = batch.tip {
                meta.insert("tip", tip.as_bytes().as_slice())?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The main-chain block hash at `height`, read from disk.
    pub fn main_hash(&self, height: Height) -> Result<Option<Hash256>, StorageError> {
        let tx = self.db.begin_read()?;
        let table = tx.open_table(MAIN)?;
        Ok(table.get(height.0)?.map(|v| Hash256(v.value())))
    }
}
