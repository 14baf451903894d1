//! `GET /api/v1/search?q=...`: what a height, a block hash, a txid or an address names.

use std::collections::HashMap;

use aic_api::explorer::SearchResult;
use aic_primitives::{Address, Hash256, Height};
use axum::extract::{Query, State};
use axum::Json;

use super::{bad_query, Params};
use crate::rest::{blocking, Failure};
use crate::server::AppState;

/// Longest query looked at.
const MAX_QUERY: usize = 128;

pub(crate) async fn search(
    State(s): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<SearchResult>, Failure> {
    let p = Params::new(query, &["q"])?;
    let q = p.text("q").unwrap_or_default().trim().to_owned();
    if q.is_empty() {
        return Err(bad_query(
            "q is required: a height, block hash, txid or address",
        ));
    }
    if q.len() > MAX_QUERY {
        return Err(unrecognised(&q));
    }
    blocking(&s, move |s| {
        let chain = s.handle.chain();
        let not_found =
            || Failure::new(404, "not-found", format!("nothing on this chain is {q:?}"));
        if q.len() < 20 && q.bytes().all(|b| b.is_ascii_digit()) {
            let height: u64 = q.parse().map_err(|_| unrecognised(&q))?;
            let hash = chain.hash_at(Height(height)).ok_or_else(not_found)?;
            return Ok(Json(SearchResult {
                kind: "block".to_owned(),
                id: hash.to_string(),
                height: Some(height),
            }));
        }
        if let Ok(hash) = q.to_ascii_lowercase().parse::<Hash256>() {
            if let Some(e) = chain.entry(&hash) {
                return Ok(Json(SearchResult {
                    kind: "block".to_owned(),
                    id: hash.to_string(),
                    height: Some(e.height.0),
                }));
            }
            let found = chain.find_tx(&hash)?.ok_or_else(not_found)?;
            return Ok(Json(SearchResult {
                kind: "tx".to_owned(),
                id: hash.to_string(),
                height: found.block.map(|(_, h)| h.0),
            }));
        }
        match Address::parse(&q, chain.params().network) {
            Ok(a) => Ok(Json(SearchResult {
                kind: "account".to_owned(),
                id: a.to_bech32(chain.params().network),
                height: None,
            })),
            Err(_) => Err(unrecognised(&q)),
        }
    })
    .await
}

/// 400 `bad-search`: the query is none of the things search resolves.
fn unrecognised(q: &str) -> Failure {
    let shown: String = q.chars().take(80).collect();
    Failure::new(
        400,
        "bad-search",
        format!("{shown:?} is not a height, a 64-hex-digit block hash or txid, or an address of this network"),
    )
}
