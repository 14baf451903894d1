//! The blocks this device mined and what the chain paid for them.
//!
//! The pool client says which of the device's accepted shares were blocks (their hash met the
//! job's network target, [`aic_miner::ClientEvent::Accepted`]); only the node can say whether
//! the chain kept each one and what its coinbase paid the payout address. [`MinedBlocks`]
//! holds the blocks found, [`MinedBlocks::check`] asks the node about every one not yet
//! settled. A block settles once it is [`FINAL_CONFIRMATIONS`] deep in the main chain, or,
//! off the main chain or unknown to the node, once it is [`LOST_AFTER`] old; settled blocks are
//! folded into totals, so the book stays small however long the device mines.
//!
//! The book is kept in a file ([`MinedBlocks::load`], [`MinedBlocks::save`]: written whole to a
//! temporary file and renamed over the old one, so a crash leaves one or the other), so what a
//! device earned survives a restart of its worker. It names the chain its blocks are on (the
//! node's genesis block): pointed at another chain, the worker starts a new book.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::market::{MarketError, NodeApi};

/// Confirmations after which a main-chain block is taken as paid for good.
pub const FINAL_CONFIRMATIONS: u64 = 6;
/// Age after which a block that is not on the main chain is taken as lost.
pub const LOST_AFTER: Duration = Duration::from_secs(600);
/// The most recent blocks kept for display, settled or not.
pub const RECENT_SHOWN: usize = 20;
/// The most unsettled blocks kept (a device on a young devnet finds a block with nearly every
/// share); beyond it the oldest are counted as unchecked.
pub const MAX_OPEN: usize = 2048;

/// Where a found block stands, as the node last said.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BlockState {
    /// Not asked about yet, or the node could not be asked.
    Unchecked,
    /// On the main chain.
    Main,
    /// The node holds it, off its main chain (a stale block).
    Side,
    /// The node does not know it (the pool's submission failed, or the node was replaced).
    Unknown,
}

/// One block the device found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinedBlock {
    /// Block hash, display order hex.
    pub hash: String,
    /// When the pool accepted the share, Unix milliseconds.
    pub found_unix_ms: u64,
    /// Where it stands.
    pub state: BlockState,
    /// Its height, once the node knows it.
    pub height: Option<u64>,
    /// Blocks on top of it and itself, while on the main chain.
    pub confirmations: Option<u64>,
    /// What its coinbase paid the payout address, base units (0 off the main chain).
    pub paid_units: u64,
    /// Whether it settled ([`FINAL_CONFIRMATIONS`] deep, or lost).
    pub settled: bool,
}

/// Totals over every block found, settled or not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinedTotals {
    /// Blocks found (shares that met the network target and the pool accepted).
    pub found: u64,
    /// Of them, on the main chain when last checked.
    pub in_chain: u64,
    /// Of them, off the main chain or unknown to the node.
    pub lost: u64,
    /// Of them, not yet checked (no node, or not asked yet).
    pub unchecked: u64,
    /// What the main-chain ones paid the payout address, base units.
    pub paid_units: u64,
}

/// The device's blocks: the unsettled ones, the settled totals and the most recent few.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct MinedBlocks {
    /// The hash of the genesis block of the chain the blocks are on, once a node said it.
    chain: Option<String>,
    open: VecDeque<MinedBlock>,
    /// Totals of the blocks folded out of `open`.
    settled: MinedTotals,
    recent: VecDeque<MinedBlock>,
    /// Changed since it was last saved.
    #[serde(skip)]
    dirty: bool,
    /// When it was loaded, Unix ms: the blocks found since are this run's.
    #[serde(skip)]
    opened_ms: u64,
}

/// Why the book could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum MinedBookError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a book (remove it to start a new one).
    #[error("{path} is not a book of mined blocks ({source}); remove it to start a new one")]
    Malformed {
        /// The file.
        path: String,
        /// Why.
        source: serde_json::Error,
    },
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl MinedBlocks {
    /// The book in `path`; a new one if there is no such file.
    pub fn load(path: &Path) -> Result<MinedBlocks, MinedBookError> {
        let name = || path.display().to_string();
        let mut book: MinedBlocks = match std::fs::read(path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| MinedBookError::Malformed {
                    path: name(),
                    source,
                })?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => MinedBlocks::default(),
            Err(source) => {
                return Err(MinedBookError::Io {
                    path: name(),
                    source,
                })
            }
        };
        book.opened_ms = now_ms();
        Ok(book)
    }

    /// Writes the book to `path` if it changed since it was last saved: whole, to a
    /// temporary file beside it, synced, then renamed over the old one.
    pub fn save(&mut self, path: &Path) -> Result<(), MinedBookError> {
        if !self.dirty {
            return Ok(());
        }
        let io = |source| MinedBookError::Io {
            path: path.display().to_string(),
            source,
        };
        let tmp = path.with_extension("json.tmp");
        let bytes = serde_json::to_vec(self).map_err(|e| io(std::io::Error::other(e)))?;
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)?;
        self.dirty = false;
        Ok(())
    }

    /// Whether it changed since it was last saved.
    pub fn dirty(&self) -> bool {
        self.dirty
    }

    /// Records block `hash` (display order hex), accepted by the pool now.
    pub fn found(&mut self, hash: String) {
        self.found_at(hash, now_ms());
    }

    fn found_at(&mut self, hash: String, found_unix_ms: u64) {
        let block = MinedBlock {
            hash,
            found_unix_ms,
            state: BlockState::Unchecked,
            height: None,
            confirmations: None,
            paid_units: 0,
            settled: false,
        };
        self.dirty = true;
        self.recent.push_back(block.clone());
        if self.recent.len() > RECENT_SHOWN {
            self.recent.pop_front();
        }
        self.open.push_back(block);
        if self.open.len() > MAX_OPEN {
            if let Some(dropped) = self.open.pop_front() {
                self.settled.found += 1;
                add(&mut self.settled, &dropped);
            }
        }
    }

    /// Totals over every block found.
    pub fn totals(&self) -> MinedTotals {
        let mut t = self.settled;
        for b in &self.open {
            t.found += 1;
            add(&mut t, b);
        }
        t
    }

    /// The most recent blocks, newest first.
    pub fn recent(&self) -> Vec<MinedBlock> {
        self.recent.iter().rev().cloned().collect()
    }

    /// The hashes to ask the node about: every unsettled block.
    pub fn to_check(&self) -> Vec<String> {
        self.open.iter().map(|b| b.hash.clone()).collect()
    }

    /// Takes in the node's answers (`hash`, what it said) at tip height `tip`, then folds
    /// the blocks that settled into the totals.
    pub fn update(&mut self, tip: u64, answers: &[(String, Option<NodeBlock>)]) {
        self.update_at(tip, answers, now_ms());
    }

    /// Says which chain the node is on (its genesis block's hash). A book of another chain
    /// is closed: its blocks are not this chain's, and only those found since the book was
    /// loaded (this run of the worker, which mines through this node's pool) are kept.
    pub fn on_chain(&mut self, genesis: &str) {
        self.on_chain_since(genesis, self.opened_ms);
    }

    fn on_chain_since(&mut self, genesis: &str, since_ms: u64) {
        match &self.chain {
            Some(c) if c == genesis => {}
            Some(_) => {
                let keep = |b: &MinedBlock| b.found_unix_ms >= since_ms;
                self.open.retain(keep);
                self.recent.retain(keep);
                self.settled = MinedTotals::default();
                self.chain = Some(genesis.to_owned());
                self.dirty = true;
            }
            None => {
                self.chain = Some(genesis.to_owned());
                self.dirty = true;
            }
        }
    }

    fn update_at(&mut self, tip: u64, answers: &[(String, Option<NodeBlock>)], now: u64) {
        if !answers.is_empty() {
            self.dirty = true;
        }
        let answers: HashMap<&str, Option<&NodeBlock>> = answers
            .iter()
            .map(|(hash, answer)| (hash.as_str(), answer.as_ref()))
            .collect();
        for b in self.open.iter_mut().chain(self.recent.iter_mut()) {
            if let Some(answer) = answers.get(b.hash.as_str()) {
                apply(b, tip, *answer, now);
            }
        }
        let mut open = VecDeque::with_capacity(self.open.len());
        for b in self.open.drain(..) {
            if b.settled {
                self.settled.found += 1;
                add(&mut self.settled, &b);
            } else {
                open.push_back(b);
            }
        }
        self.open = open;
    }
}

/// What the node says of one block: its height, whether it is on the main chain, and what
/// its coinbase paid the payout address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeBlock {
    /// Height.
    pub height: u64,
    /// On the main chain.
    pub main_chain: bool,
    /// Coinbase payouts to the payout address, base units.
    pub paid_units: u64,
}

fn apply(b: &mut MinedBlock, tip: u64, answer: Option<&NodeBlock>, now: u64) {
    let old = now.saturating_sub(b.found_unix_ms) >= LOST_AFTER.as_millis() as u64;
    match answer {
        Some(n) if n.main_chain => {
            let confirmations = tip.saturating_sub(n.height) + 1;
            b.state = BlockState::Main;
            b.height = Some(n.height);
            b.confirmations = Some(confirmations);
            b.paid_units = n.paid_units;
            b.settled = confirmations >= FINAL_CONFIRMATIONS;
        }
        Some(n) => {
            b.state = BlockState::Side;
            b.height = Some(n.height);
            b.confirmations = None;
            b.paid_units = 0;
            b.settled = old;
        }
        None => {
            b.state = BlockState::Unknown;
            b.confirmations = None;
            b.paid_units = 0;
            b.settled = old;
        }
    }
}

fn add(t: &mut MinedTotals, b: &MinedBlock) {
    match b.state {
        BlockState::Main => {
            t.in_chain += 1;
            t.paid_units = t.paid_units.saturating_add(b.paid_units);
        }
        BlockState::Side | BlockState::Unknown => t.lost += 1,
        BlockState::Unchecked => t.unchecked += 1,
    }
}

/// The node's answer about each block asked of it (`None`: unknown to it).
pub type Answers = Vec<(String, Option<NodeBlock>)>;

/// What the node says: its genesis block's hash, its tip height, and what it holds of each
/// block asked about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeAnswer {
    /// The genesis block's hash (display order hex).
    pub genesis: String,
    /// Tip height.
    pub tip: u64,
    /// Per block asked about.
    pub answers: Answers,
}

impl NodeAnswer {
    /// Takes the answer into `book`.
    pub fn apply(&self, book: &mut MinedBlocks) {
        book.on_chain(&self.genesis);
        book.update(self.tip, &self.answers);
    }
}

/// Asks `node` about every unsettled block of `book`, for payout `address`, and takes the
/// answer in. Nothing is asked when every block has settled.
pub fn check_with_node(
    book: &std::sync::Mutex<MinedBlocks>,
    node: &NodeApi,
    address: &str,
) -> Result<(), MarketError> {
    let lock = || book.lock().unwrap_or_else(|p| p.into_inner());
    let hashes = lock().to_check();
    if hashes.is_empty() {
        return Ok(());
    }
    let answer = ask_node(node, address, hashes)?;
    answer.apply(&mut lock());
    Ok(())
}

/// Asks `node` about `hashes` for payout `address`.
pub fn ask_node(
    node: &NodeApi,
    address: &str,
    hashes: Vec<String>,
) -> Result<NodeAnswer, MarketError> {
    let genesis = node
        .block("0")?
        .ok_or_else(|| MarketError::Node {
            url: format!("{}/api/v1/blocks/0", node.base()),
            message: "the node has no genesis block".into(),
        })?
        .hash;
    let tip = node.status()?.height;
    let mut answers = Vec::with_capacity(hashes.len());
    for hash in hashes {
        let block = node.block(&hash)?.map(|b| NodeBlock {
            height: b.height,
            main_chain: b.main_chain,
            paid_units: b
                .txs
                .first()
                .filter(|tx| tx.kind == "coinbase")
                .map_or(0, |tx| {
                    tx.payouts
                        .iter()
                        .filter(|p| p.to == address)
                        .map(|p| p.amount_units)
                        .sum()
                }),
        });
        answers.push((hash, block));
    }
    Ok(NodeAnswer {
        genesis,
        tip,
        answers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: u64 = 1_000_000;

    fn main_at(height: u64, paid_units: u64) -> Option<NodeBlock> {
        Some(NodeBlock {
            height,
            main_chain: true,
            paid_units,
        })
    }

    #[test]
    fn a_block_settles_six_deep_and_its_pay_stays_counted() {
        let mut m = MinedBlocks::default();
        m.found_at("aa".into(), T0);
        assert_eq!(m.totals().unchecked, 1);
        m.update_at(10, &[("aa".into(), main_at(10, 50))], T0 + 1);
        let t = m.totals();
        assert_eq!((t.found, t.in_chain, t.paid_units), (1, 1, 50));
        assert_eq!(m.to_check(), ["aa"], "one confirmation: still open");
        m.update_at(15, &[("aa".into(), main_at(10, 50))], T0 + 2);
        assert!(m.to_check().is_empty(), "six deep: settled");
        assert_eq!(m.totals(), t, "settling changes no total");
        let shown = m.recent();
        assert_eq!(shown[0].confirmations, Some(6));
        assert!(shown[0].settled);
    }

    #[test]
    fn a_block_reorganized_away_stops_paying_and_is_lost_once_old() {
        let mut m = MinedBlocks::default();
        m.found_at("bb".into(), T0);
        m.update_at(3, &[("bb".into(), main_at(3, 50))], T0 + 1);
        assert_eq!(m.totals().paid_units, 50);
        let side = Some(NodeBlock {
            height: 3,
            main_chain: false,
            paid_units: 50,
        });
        m.update_at(4, &[("bb".into(), side)], T0 + 2);
        let t = m.totals();
        assert_eq!((t.in_chain, t.lost, t.paid_units), (0, 1, 0));
        assert_eq!(m.to_check(), ["bb"], "young: asked again");
        let late = T0 + LOST_AFTER.as_millis() as u64;
        m.update_at(9, &[("bb".into(), None)], late);
        assert!(m.to_check().is_empty());
        assert_eq!(m.totals().lost, 1);
        assert_eq!(m.recent()[0].state, BlockState::Unknown);
    }

    #[test]
    fn the_book_survives_a_restart_and_a_new_chain_starts_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mined.json");
        let mut m = MinedBlocks::load(&path).unwrap();
        m.on_chain_since("g1", 0);
        m.found_at("aa".into(), T0);
        m.update_at(20, &[("aa".into(), main_at(10, 50))], T0 + 1);
        m.found_at("bb".into(), T0 + 2);
        m.save(&path).unwrap();
        assert!(!m.dirty());
        let mut back = MinedBlocks::load(&path).unwrap();
        assert_eq!(back.totals(), m.totals());
        assert_eq!(back.recent(), m.recent());
        assert_eq!(back.to_check(), ["bb"]);
        // The same chain: the book goes on.
        back.on_chain_since("g1", T0 + 100);
        assert_eq!(back.totals().paid_units, 50);
        // Another chain (a new devnet): only what this run found stays.
        back.found_at("cc".into(), T0 + 200);
        back.on_chain_since("g2", T0 + 100);
        assert_eq!(back.to_check(), ["cc"]);
        let t = back.totals();
        assert_eq!((t.found, t.paid_units), (1, 0));
        // A file that is no book is refused, not overwritten.
        std::fs::write(&path, b"{not json").unwrap();
        let e = MinedBlocks::load(&path).unwrap_err();
        assert!(e.to_string().contains("remove it"), "{e}");
    }

    #[test]
    fn the_book_stays_bounded_and_counts_what_it_drops() {
        let mut m = MinedBlocks::default();
        for i in 0..MAX_OPEN + 5 {
            m.found_at(format!("{i:064x}"), T0);
        }
        assert_eq!(m.to_check().len(), MAX_OPEN);
        assert_eq!(m.recent().len(), RECENT_SHOWN);
        let t = m.totals();
        assert_eq!(
            (t.found, t.unchecked),
            (MAX_OPEN as u64 + 5, MAX_OPEN as u64 + 5)
        );
        assert_eq!(m.recent()[0].hash, format!("{:064x}", MAX_OPEN + 4));
    }
}
