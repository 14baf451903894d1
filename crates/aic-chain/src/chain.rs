//! The block index, fork choice by cumulative work, reorganisations, and the mempool around
//! them.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use aic_consensus::{
    asert::next_bits, check_block_structure_with, check_header, check_tx_stateless,
    median_time_past, HeaderContext, TxError, MEDIAN_TIME_SPAN,
};
use aic_ledger::market::{Record, RecordKey};
use aic_ledger::{Account, BlockContext, Ledger};
use aic_primitives::{
    Action, Address, Block, ChainParams, Coinbase, CompactTarget, Decode, Encode, Hash256, Height,
    Transaction,
};
use aic_storage::{BlockStatus, IndexEntry, Store, WriteBatch};

use crate::error::ChainError;
use crate::mempool::{AccountView, Mempool, MempoolConfig};
use crate::template::BlockTemplate;

mod reorg;

/// The chain's configuration.
#[derive(Clone, Debug, Default)]
pub struct ChainConfig {
    /// Mempool limits and policy.
    pub mempool: MempoolConfig,
}

/// The result of an accepted block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockAccepted {
    /// The block's hash.
    pub hash: Hash256,
    /// Its height.
    pub height: Height,
    /// True if it is now the tip.
    pub is_tip: bool,
    /// Main-chain blocks that were undone to switch to it.
    pub reorg_depth: u64,
}

/// The current tip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tip {
    /// Tip hash.
    pub hash: Hash256,
    /// Tip index record.
    pub entry: IndexEntry,
}

/// Where a transaction is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxLookup {
    /// The transaction.
    pub tx: Transaction,
    /// Its block and height, `None` while in the mempool.
    pub block: Option<(Hash256, Height)>,
}

/// The chain: block index, main chain, state and mempool, backed by a [`Store`].
///
/// # Invariants
/// - `main[h]` is the hash of the main-chain block at height `h`; its last entry is the tip,
///   the valid block with the most cumulative work seen first.
/// - `ledger` is the state after the tip.
/// - Every change made for a block is written in one store transaction before the call
///   returns.
#[derive(Debug)]
pub struct Chain {
    params: ChainParams,
    store: Store,
    index: HashMap<Hash256, IndexEntry>,
    main: Vec<Hash256>,
    ledger: Ledger,
    mempool: Mempool,
    /// Set when memory could not be brought back in line with the store.
    failed: bool,
    /// Txids whose signatures were verified when they entered the mempool (a signature
    /// cache: a block of transactions this node has seen skips most signature checks).
    verified: HashSet<Hash256>,
}

/// Most entries in the signature cache; it is emptied when full.
const SIGNATURE_CACHE_MAX: usize = 200_000;

/// Fails unless every main-chain block has an index record.
fn check_main_in_index(
    main: &[Hash256],
    index: &HashMap<Hash256, IndexEntry>,
) -> Result<(), ChainError> {
    if main.is_empty() {
        return Err(ChainError::Inconsistent("no main chain".to_owned()));
    }
    match main.iter().find(|h| !index.contains_key(h)) {
        Some(h) => Err(ChainError::Inconsistent(format!(
            "main-chain block {h} has no index record"
        ))),
        None => Ok(()),
    }
}

/// The ledger from the stored accounts and market records.
fn load_ledger(store: &Store) -> Result<Ledger, ChainError> {
    let accounts = store
        .load_accounts()?
        .into_iter()
        .map(|(a, bytes)| {
            Account::from_bytes(&bytes)
                .map(|acct| (a, acct))
                .map_err(|e| ChainError::Inconsistent(format!("stored account: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let records = store
        .load_records()?
        .into_iter()
        .map(|(k, bytes)| {
            let key = RecordKey::from_bytes(&k)
                .map_err(|e| ChainError::Inconsistent(format!("stored record key: {e}")))?;
            let record = Record::from_bytes(&key, &bytes)
                .map_err(|e| ChainError::Inconsistent(format!("stored record: {e}")))?;
            Ok((key, record))
        })
        .collect::<Result<Vec<_>, ChainError>>()?;
    Ok(Ledger::from_state(accounts, records))
}

impl Chain {
    /// Opens the chain stored at `path`, creating it with the genesis block if new.
    pub fn open(
        params: ChainParams,
        path: &Path,
        config: ChainConfig,
    ) -> Result<Chain, ChainError> {
        let genesis = params.genesis_block();
        let genesis_hash = genesis.hash();
        let store = Store::open(path, genesis_hash)?;
        if store.tip()?.is_none() {
            let target = params
                .pow_limit
                .to_target()
                .map_err(|e| ChainError::Inconsistent(format!("pow limit: {e}")))?;
            let entry = IndexEntry {
                header: genesis.header,
                height: Height::GENESIS,
                chain_work: target.work(),
                status: BlockStatus::Valid,
            };
            let txids = genesis.txs.iter().map(Transaction::txid).collect();
            store.write(&WriteBatch {
                new_blocks: vec![(genesis_hash, genesis.to_bytes(), entry)],
                connected: vec![(genesis_hash, Height::GENESIS, txids, Default::default())],
                tip: Some(genesis_hash),
                ..Default::default()
            })?;
        }
        let index: HashMap<Hash256, IndexEntry> = store.load_index()?.into_iter().collect();
        let main = store.load_main_chain()?;
        let tip = store.tip()?;
        if main.last().copied() != tip {
            return Err(ChainError::Inconsistent(format!(
                "main chain ends at {:?}, tip is {tip:?}",
                main.last()
            )));
        }
        let ledger = load_ledger(&store)?;
        check_main_in_index(&main, &index)?;
        let chain = Chain {
            params,
            store,
            index,
            main,
            ledger,
            mempool: Mempool::new(config.mempool),
            failed: false,
            verified: HashSet::new(),
        };
        let tip_block = chain
            .block(&chain.tip().hash)?
            .ok_or_else(|| ChainError::Inconsistent("the tip block is not stored".to_owned()))?;
        let committed = tip_block
            .txs
            .first()
            .and_then(Transaction::as_coinbase)
            .map(|c| c.state_root);
        if committed != Some(chain.ledger.state_root()) {
            return Err(ChainError::Inconsistent(format!(
                "stored accounts have root {}, the tip commits to {committed:?}",
                chain.ledger.state_root()
            )));
        }
        Ok(chain)
    }

    /// The chain parameters.
    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    /// The tip.
    pub fn tip(&self) -> Tip {
        let hash = *self.main.last().unwrap_or(&Hash256::ZERO);
        let entry = self.index[&hash];
        Tip { hash, entry }
    }

    /// The tip's height.
    pub fn height(&self) -> Height {
        Height(self.main.len().saturating_sub(1) as u64)
    }

    /// The main-chain block hash at `height`.
    pub fn hash_at(&self, height: Height) -> Option<Hash256> {
        self.main.get(usize::try_from(height.0).ok()?).copied()
    }

    /// The index record of a known block.
    pub fn entry(&self, hash: &Hash256) -> Option<&IndexEntry> {
        self.index.get(hash)
    }

    /// True if `hash` is on the main chain.
    pub fn is_main(&self, hash: &Hash256) -> bool {
        self.index
            .get(hash)
            .is_some_and(|e| self.hash_at(e.height) == Some(*hash))
    }

    /// A stored block.
    pub fn block(&self, hash: &Hash256) -> Result<Option<Block>, ChainError> {
        Ok(self.store.block(hash)?)
    }

    /// A stored block's canonical bytes.
    pub fn block_bytes(&self, hash: &Hash256) -> Result<Option<Vec<u8>>, ChainError> {
        Ok(self.store.block_bytes(hash)?)
    }

    /// The confirmed state of an account.
    pub fn account(&self, address: &Address) -> Account {
        self.ledger.account(address)
    }

    /// The nonce the account's next new transaction should carry, counting the mempool.
    pub fn next_nonce(&self, address: &Address) -> u64 {
        self.mempool
            .pending_nonce(address)
            .unwrap_or(self.ledger.account(address).nonce)
    }

    /// The state root after the tip.
    pub fn state_root(&self) -> Hash256 {
        self.ledger.state_root()
    }

    /// The mempool.
    pub fn mempool(&self) -> &Mempool {
        &self.mempool
    }

    /// Finds a transaction in the main chain or the mempool.
    pub fn find_tx(&self, txid: &Hash256) -> Result<Option<TxLookup>, ChainError> {
        if let Some(tx) = self.mempool.get(txid) {
            return Ok(Some(TxLookup {
                tx: Transaction::Signed(tx.clone()),
                block: None,
            }));
        }
        let Some((hash, pos)) = self.store.tx_location(txid)? else {
            return Ok(None);
        };
        let block = self
            .block(&hash)?
            .ok_or_else(|| ChainError::Inconsistent(format!("indexed block {hash} missing")))?;
        let height = self.index.get(&hash).map(|e| e.height).unwrap_or_default();
        Ok(block.txs.get(pos as usize).map(|tx| TxLookup {
            tx: tx.clone(),
            block: Some((hash, height)),
        }))
    }

    /// The bits required of a child of the known block `parent`.
    pub fn next_bits(&self, parent: &Hash256) -> CompactTarget {
        let Some(entry) = self.index.get(parent) else {
            return self.params.pow_limit;
        };
        let first = self.first_block_time(parent).unwrap_or(entry.header.time);
        next_bits(&self.params, entry.height, entry.header.time, first)
    }

    /// Time of the block at height 1 on the branch ending at `hash` (ASERT's anchor).
    fn first_block_time(&self, hash: &Hash256) -> Option<u32> {
        let mut cur = *hash;
        loop {
            let e = self.index.get(&cur)?;
            if e.height.0 <= 1 || self.hash_at(e.height) == Some(cur) {
                let at_one = if e.height.0 == 1 {
                    cur
                } else {
                    self.hash_at(Height(1))?
                };
                return self.index.get(&at_one).map(|e| e.header.time);
            }
            cur = e.header.prev_hash;
        }
    }

    /// Median time of `parent` and up to ten of its ancestors.
    pub fn median_time_past(&self, parent: &Hash256) -> u32 {
        let mut times = Vec::with_capacity(MEDIAN_TIME_SPAN);
        let mut cur = Some(*parent);
        while let Some(hash) = cur {
            let Some(e) = self.index.get(&hash) else {
                break;
            };
            times.push(e.header.time);
            if times.len() == MEDIAN_TIME_SPAN || e.height == Height::GENESIS {
                break;
            }
            cur = Some(e.header.prev_hash);
        }
        median_time_past(&times)
    }

    /// Validates and stores a block; switches to its chain if that has more work.
    ///
    /// `now` is the node's clock in Unix seconds. On error nothing changes, except that a
    /// block found to break a stateful rule is remembered as invalid.
    pub fn submit_block(&mut self, block: Block, now: u64) -> Result<BlockAccepted, ChainError> {
        if self.failed {
            return Err(ChainError::Failed);
        }
        let hash = block.hash();
        if let Some(e) = self.index.get(&hash) {
            return Err(match e.status {
                BlockStatus::Invalid => ChainError::KnownInvalid(hash),
                BlockStatus::Valid => ChainError::Duplicate(hash),
            });
        }
        let prev = block.header.prev_hash;
        let parent = *self
            .index
            .get(&prev)
            .ok_or(ChainError::UnknownParent(prev))?;
        if parent.status == BlockStatus::Invalid {
            return Err(ChainError::InvalidParent(prev));
        }
        let height = Height(parent.height.0 + 1);
        let ctx = HeaderContext {
            expected_bits: self.next_bits(&prev),
            median_time_past: self.median_time_past(&prev),
            now,
        };
        check_header(&self.params, &block.header, &ctx)?;
        let tip = self.tip();
        // Cheap checks on where the block attaches come before the body's signatures.
        // A branch that leaves the main chain deeper than a reorg may go can never become the
        // tip: refuse it rather than store it (old forks cost nothing to make).
        let (fork_height, branch) = self.branch_from_main(prev);
        let depth = tip.entry.height.0.saturating_sub(fork_height.0);
        if depth > self.params.max_reorg_depth {
            return Err(ChainError::ReorgTooDeep {
                depth,
                max: self.params.max_reorg_depth,
            });
        }
        if let Some(bad) = branch
            .iter()
            .find(|h| self.index.get(h).map(|e| e.status) == Some(BlockStatus::Invalid))
        {
            return Err(ChainError::InvalidParent(*bad));
        }
        let bytes = block.to_bytes();
        let cache = &self.verified;
        check_block_structure_with(&self.params, &block, height, bytes.len(), &|id| {
            cache.contains(id)
        })?;
        let target = block
            .header
            .bits
            .to_target()
            .map_err(aic_consensus::BlockError::InvalidBits)?;
        let entry = IndexEntry {
            header: block.header,
            height,
            chain_work: parent.chain_work.saturating_add(target.work()),
            status: BlockStatus::Valid,
        };
        if entry.chain_work <= tip.entry.chain_work {
            self.store.write(&WriteBatch {
                new_blocks: vec![(hash, bytes, entry)],
                ..Default::default()
            })?;
            self.index.insert(hash, entry);
            return Ok(BlockAccepted {
                hash,
                height,
                is_tip: false,
                reorg_depth: 0,
            });
        }
        self.index.insert(hash, entry);
        let mut batch = WriteBatch {
            new_blocks: vec![(hash, bytes, entry)],
            ..Default::default()
        };
        let mut branch = branch;
        branch.push(hash);
        if let Err(e) = self.reorganize(fork_height, &branch, block, &mut batch) {
            if !matches!(e, ChainError::Block(_)) {
                // Reading stored blocks or undo data failed part way: memory is not to be
                // trusted, the disk still holds the old chain.
                self.reload()?;
                return Err(e);
            }
            // A consensus failure was rolled back in memory; store the block and the invalid
            // marks so it is never tried again.
            self.write_or_reload(&batch)?;
            return Err(e);
        }
        self.write_or_reload(&batch)?;
        Ok(BlockAccepted {
            hash,
            height,
            is_tip: true,
            reorg_depth: depth,
        })
    }

    /// The blocks from the main chain's fork point up to `hash` (exclusive of the fork
    /// point, ascending), and the fork point's height.
    fn branch_from_main(&self, hash: Hash256) -> (Height, Vec<Hash256>) {
        let mut branch = Vec::new();
        let mut cur = hash;
        while let Some(e) = self.index.get(&cur) {
            if self.hash_at(e.height) == Some(cur) {
                branch.reverse();
                return (e.height, branch);
            }
            branch.push(cur);
            cur = e.header.prev_hash;
        }
        branch.reverse();
        (Height::GENESIS, branch)
    }

    /// Writes `batch`; if that fails, memory is ahead of the disk, so reload from the disk.
    fn write_or_reload(&mut self, batch: &WriteBatch) -> Result<(), ChainError> {
        if let Err(e) = self.store.write(batch) {
            self.reload()?;
            return Err(e.into());
        }
        Ok(())
    }

    /// Reloads everything from the store after a failed write or read. If that fails too,
    /// the chain refuses every further change ([`ChainError::Failed`]) rather than write state
    /// the disk never had.
    fn reload(&mut self) -> Result<(), ChainError> {
        self.failed = true;
        self.index = self.store.load_index()?.into_iter().collect();
        self.main = self.store.load_main_chain()?;
        self.ledger = load_ledger(&self.store)?;
        check_main_in_index(&self.main, &self.index)?;
        let ledger = &self.ledger;
        self.mempool.revalidate(|a| {
            let acct = ledger.account(a);
            AccountView {
                nonce: acct.nonce,
                balance: acct.balance,
            }
        });
        self.failed = false;
        Ok(())
    }

    /// Checks a transaction and adds it to the mempool; returns its txid.
    pub fn submit_tx(&mut self, tx: Transaction) -> Result<Hash256, ChainError> {
        if self.failed {
            return Err(ChainError::Failed);
        }
        let Transaction::Signed(signed) = tx else {
            return Err(TxError::StandaloneCoinbase.into());
        };
        check_tx_stateless(&self.params, &signed)?;
        signed
            .body
            .sender
            .verify(&signed.body.signing_bytes(), &signed.signature)
            .map_err(|_| TxError::BadSignature)?;
        let acct = self.ledger.account(&signed.body.sender_address());
        if signed.body.nonce < acct.nonce {
            return Err(TxError::BadNonce {
                expected: acct.nonce,
                got: signed.body.nonce,
            }
            .into());
        }
        // A market transaction that is the sender's next is checked against the market now,
        // so a bad one gets its rule back at once; later ones wait for their turn.
        if signed.body.nonce == acct.nonce && matches!(signed.body.action, Action::Market(_)) {
            self.ledger
                .check_tx(&self.params, self.next_block_context(), &signed)?;
        }
        let view = AccountView {
            nonce: acct.nonce,
            balance: acct.balance,
        };
        let txid = self.mempool.insert(signed, view)?.txid;
        if self.verified.len() >= SIGNATURE_CACHE_MAX {
            self.verified.clear();
        }
        self.verified.insert(txid);
        Ok(txid)
    }

    /// The context of the next block on the tip: its height, and the tip's hash as the seed of
    /// the market's draws.
    pub fn next_block_context(&self) -> BlockContext {
        let tip = self.tip();
        BlockContext {
            height: Height(tip.entry.height.0 + 1),
            seed: tip.hash,
        }
    }

    /// The ledger at the tip (accounts and market records).
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// A template for the next block paying `miner`, with the best-paying mempool
    /// transactions that fit.
    pub fn block_template(&mut self, miner: Address, now: u64) -> BlockTemplate {
        let tip = self.tip();
        let height = Height(tip.entry.height.0 + 1);
        // Leave room for the header, the count and a coinbase with one payout.
        let reserve = 80 + 9 + 100;
        let ledger = &self.ledger;
        let candidates = self.mempool.select(
            self.params.max_block_bytes.saturating_sub(reserve),
            self.params.max_block_txs.saturating_sub(1),
            |a| {
                let acct = ledger.account(a);
                AccountView {
                    nonce: acct.nonce,
                    balance: acct.balance,
                }
            },
        );
        let ctx = BlockContext {
            height,
            seed: tip.hash,
        };
        let state = self
            .ledger
            .build_template(&self.params, ctx, &candidates, miner);
        let bits = self.next_bits(&tip.hash);
        let min_time = self.median_time_past(&tip.hash).saturating_add(1);
        let now = u32::try_from(now).unwrap_or(u32::MAX);
        BlockTemplate {
            version: 1,
            height,
            prev_hash: tip.hash,
            bits,
            min_time,
            cur_time: now.max(min_time),
            coinbase: Coinbase {
                height,
                extranonce: [0; 8],
                state_root: state.state_root,
                payouts: state.payouts,
            },
            txs: state.txs,
            fees: state.fees,
        }
    }
}
