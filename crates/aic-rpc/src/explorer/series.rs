//! `GET /api/v1/chain/series`: difficulty and estimated hash rate over the last blocks, read
//! from the block index (no block bodies).

use std::collections::HashMap;

use aic_api::explorer::{ChainSeries, SeriesPoint};
use aic_primitives::{Height, U256};
use axum::extract::{Query, State};
use axum::Json;

use super::{pow_limit, Params};
use crate::rest::{blocking, Failure};
use crate::server::AppState;

/// Most points in one answer.
pub(crate) const MAX_POINTS: u64 = 1_000;
/// Blocks averaged per hash-rate estimate.
pub(crate) const WINDOW: u64 = 10;

fn u256_to_f64(v: U256) -> f64 {
    v.0.iter().rev().fold(0.0, |acc, limb| {
        acc * 18_446_744_073_709_551_616.0 + *limb as f64
    })
}

pub(crate) async fn chain_series(
    State(s): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<ChainSeries>, Failure> {
    let p = Params::new(query, &["blocks"])?;
    let count = p.u64("blocks", 120, 1, MAX_POINTS)?;
    blocking(&s, move |s| {
        let chain = s.handle.chain();
        let limit = pow_limit(&chain)?;
        let tip = chain.height().0;
        let entry_at = |h: u64| {
            chain
                .hash_at(Height(h))
                .and_then(|hash| chain.entry(&hash))
                .ok_or_else(|| Failure::new(500, "storage", format!("no index entry at {h}")))
        };
        let mut points = Vec::with_capacity(count as usize);
        for h in tip.saturating_sub(count - 1)..=tip {
            let e = entry_at(h)?;
            let parent_time = if h == 0 {
                e.header.time
            } else {
                entry_at(h - 1)?.header.time
            };
            let back = WINDOW.min(h);
            let hash_rate = if back == 0 {
                0.0
            } else {
                let old = entry_at(h - back)?;
                let work = e.chain_work.0.saturating_sub(old.chain_work.0);
                let span = (i64::from(e.header.time) - i64::from(old.header.time)).max(1);
                u256_to_f64(work) / span as f64
            };
            points.push(SeriesPoint {
                height: h,
                time: e.header.time,
                bits: e.header.bits.to_string(),
                difficulty: e
                    .header
                    .bits
                    .to_target()
                    .map_or(0.0, |t| t.difficulty(&limit)),
                interval_secs: i64::from(e.header.time) - i64::from(parent_time),
                hash_rate,
            });
        }
        Ok(Json(ChainSeries {
            window: WINDOW,
            points,
        }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u256_converts_to_float() {
        assert_eq!(u256_to_f64(U256::from(12345u64)), 12345.0);
        assert_eq!(u256_to_f64(U256::one() << 64), 18_446_744_073_709_551_616.0);
    }
}
