//! `GET /api/v1/blocks` (a page of main-chain blocks) and `GET /api/v1/txs` (the latest
//! transactions).

use std::collections::HashMap;

use aic_api::explorer::{BlockList, TxList};
use aic_primitives::{Height, Transaction};
use axum::extract::{Query, State};
use axum::Json;

use super::{block_summary, missing_block, pow_limit, Params};
use crate::convert::tx_json;
use crate::rest::{blocking, Failure};
use crate::server::AppState;

/// Most blocks or transactions in one page.
pub(crate) const MAX_PAGE: u64 = 100;
/// Blocks `GET /api/v1/txs` looks back at most.
const RECENT_TX_BLOCKS: u64 = 100;

pub(crate) async fn list_blocks(
    State(s): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<BlockList>, Failure> {
    let p = Params::new(query, &["before", "limit"])?;
    let limit = p.u64("limit", 20, 1, MAX_PAGE)?;
    let before = p.opt_u64("before", 0, u64::MAX)?;
    blocking(&s, move |s| {
        let chain = s.handle.chain();
        let tip = chain.height().0;
        let limit_target = pow_limit(&chain)?;
        // Heights below `before` (default: up to the tip), newest first.
        let top = match before {
            Some(0) => None,
            Some(b) => Some((b - 1).min(tip)),
            None => Some(tip),
        };
        let mut blocks = Vec::new();
        if let Some(top) = top {
            let bottom = top.saturating_sub(limit - 1);
            for h in (bottom..=top).rev() {
                let Some(hash) = chain.hash_at(Height(h)) else {
                    break;
                };
                let block = chain.block(&hash)?.ok_or_else(|| missing_block(&hash))?;
                blocks.push(block_summary(&chain, &limit_target, hash, &block));
            }
        }
        let next_before = blocks.last().map(|b| b.height).filter(|h| *h > 0);
        Ok(Json(BlockList {
            tip_height: tip,
            blocks,
            next_before,
        }))
    })
    .await
}

pub(crate) async fn recent_txs(
    State(s): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<TxList>, Failure> {
    let p = Params::new(query, &["limit"])?;
    let limit = p.u64("limit", 20, 1, MAX_PAGE)? as usize;
    blocking(&s, move |s| {
        let chain = s.handle.chain();
        let network = chain.params().network;
        let mut txs: Vec<_> = chain
            .mempool()
            .iter()
            .take(limit)
            .map(|t| tx_json(&Transaction::Signed(t.clone()), network, None))
            .collect();
        let tip = chain.height().0;
        for h in (tip.saturating_sub(RECENT_TX_BLOCKS - 1)..=tip).rev() {
            if txs.len() >= limit {
                break;
            }
            let Some(hash) = chain.hash_at(Height(h)) else {
                break;
            };
            let block = chain.block(&hash)?.ok_or_else(|| missing_block(&hash))?;
            let room = limit - txs.len();
            txs.extend(
                block
                    .txs
                    .iter()
                    .rev()
                    .take(room)
                    .map(|t| tx_json(t, network, Some((hash, Height(h))))),
            );
        }
        Ok(Json(TxList { txs }))
    })
    .await
}
