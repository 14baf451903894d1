//! Explorer routes: block and transaction lists, an account's history, the difficulty and
//! hash-rate series, and search. Everything the dashboard's explorer pages read besides the
//! single block, transaction and account routes of [`crate::rest`].
//!
//! Query parameters are checked strictly: an unknown parameter, or a value that is not an
//! integer in range, is answered 400 `bad-query` naming it.

mod blocks;
mod history;
mod search;
mod series;

use std::collections::HashMap;

use aic_api::explorer::BlockSummary;
use aic_chain::Chain;
use aic_primitives::{Block, Encode, Hash256, Target, Transaction};
use axum::routing::get;
use axum::Router;

use crate::rest::Failure;
use crate::server::AppState;

/// The explorer's routes, merged into [`crate::router`].
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/blocks", get(blocks::list_blocks))
        .route("/api/v1/txs", get(blocks::recent_txs))
        .route("/api/v1/accounts/{address}/txs", get(history::account_txs))
        .route("/api/v1/chain/series", get(series::chain_series))
        .route("/api/v1/search", get(search::search))
}

/// A request's query parameters, checked against the names a route takes.
#[derive(Debug)]
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    /// Refuses names not in `allowed`.
    pub(crate) fn new(query: HashMap<String, String>, allowed: &[&str]) -> Result<Params, Failure> {
        if let Some(name) = query.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(bad_query(format!(
                "unknown query parameter {name:?}; this route takes {allowed:?}"
            )));
        }
        Ok(Params(query))
    }

    /// The text of `name`, if given.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `name` as an integer in `min..=max`, if given.
    pub(crate) fn opt_u64(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>, Failure> {
        let Some(text) = self.text(name) else {
            return Ok(None);
        };
        match text.parse::<u64>() {
            Ok(v) if (min..=max).contains(&v) => Ok(Some(v)),
            _ => Err(bad_query(format!(
                "{name} must be an integer from {min} to {max}, not {text:?}"
            ))),
        }
    }

    /// `name` as an integer in `min..=max`, `default` when absent.
    pub(crate) fn u64(&self, name: &str, default: u64, min: u64, max: u64) -> Result<u64, Failure> {
        Ok(self.opt_u64(name, min, max)?.unwrap_or(default))
    }
}

/// 400 `bad-query`.
pub(crate) fn bad_query(message: impl Into<String>) -> Failure {
    Failure::new(400, "bad-query", message)
}

/// 500 `storage`: the index names a block the store does not have.
pub(crate) fn missing_block(hash: &Hash256) -> Failure {
    Failure::new(
        500,
        "storage",
        format!("block {hash} is indexed but not stored"),
    )
}

/// The network's easiest target (to express difficulty against).
pub(crate) fn pow_limit(chain: &Chain) -> Result<Target, Failure> {
    chain
        .params()
        .pow_limit
        .to_target()
        .map_err(|e| Failure::new(500, "internal", e.to_string()))
}

/// A block without its transactions.
pub(crate) fn block_summary(
    chain: &Chain,
    limit: &Target,
    hash: Hash256,
    block: &Block,
) -> BlockSummary {
    let network = chain.params().network;
    let h = &block.header;
    let (miner, reward_units) = match block.txs.first() {
        Some(Transaction::Coinbase(c)) => (
            c.payouts.first().map(|p| p.to.to_bech32(network)),
            c.payouts.iter().map(|p| p.amount.to_units()).sum(),
        ),
        _ => (None, 0),
    };
    BlockSummary {
        hash: hash.to_string(),
        height: chain.entry(&hash).map_or(0, |e| e.height.0),
        prev_hash: h.prev_hash.to_string(),
        time: h.time,
        bits: h.bits.to_string(),
        difficulty: h.bits.to_target().map_or(0.0, |t| t.difficulty(limit)),
        tx_count: block.txs.len(),
        size: block.to_bytes().len(),
        miner,
        reward_units,
    }
}

/// The summary of the block `hash`, read from the store.
pub(crate) fn summary_of(chain: &Chain, hash: Hash256) -> Result<BlockSummary, Failure> {
    let limit = pow_limit(chain)?;
    let block = chain.block(&hash)?.ok_or_else(|| missing_block(&hash))?;
    Ok(block_summary(chain, &limit, hash, &block))
}
