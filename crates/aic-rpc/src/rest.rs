//! REST handlers under `/api/v1`.

use aic_api::rest;
use aic_chain::ChainError;
use aic_primitives::{Address, Block, Decode, Hash256, Height, Target, Transaction};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::codes::error_code;
use crate::convert::{block_json, tx_json};
use crate::server::AppState;

/// A 4xx or 5xx answer with a machine-readable body.
#[derive(Debug)]
pub(crate) struct Failure {
    status: StatusCode,
    body: rest::ApiError,
}

impl Failure {
    pub(crate) fn new(status: u16, code: &str, message: impl Into<String>) -> Failure {
        Failure {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body: rest::ApiError {
                code: code.to_owned(),
                message: message.into(),
            },
        }
    }

    /// The machine-readable code.
    #[cfg(test)]
    pub(crate) fn code(&self) -> &str {
        &self.body.code
    }

    /// The HTTP status.
    #[cfg(test)]
    pub(crate) fn status(&self) -> u16 {
        self.status.as_u16()
    }

    fn not_found(what: impl Into<String>) -> Failure {
        Failure::new(404, "not-found", what)
    }
}

impl From<ChainError> for Failure {
    fn from(e: ChainError) -> Failure {
        let (status, code) = error_code(&e);
        Failure::new(status, &code, e.to_string())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// Runs chain work on a blocking thread.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&AppState) -> Result<T, Failure> + Send + 'static,
) -> Result<T, Failure> {
    let state = state.clone();
    tokio::task::spawn_blocking(move || f(&state))
        .await
        .map_err(|e| Failure::new(500, "internal", e.to_string()))?
}

pub(crate) async fn status(State(s): State<AppState>) -> Result<Json<rest::Status>, Failure> {
    blocking(&s, |s| {
        let chain = s.handle.chain();
        let tip = chain.tip();
        let params = chain.params();
        let limit = params
            .pow_limit
            .to_target()
            .map_err(|e| Failure::new(500, "internal", e.to_string()))?;
        let difficulty = tip
            .entry
            .header
            .bits
            .to_target()
            .map(|t: Target| t.difficulty(&limit))
            .unwrap_or(0.0);
        Ok(Json(rest::Status {
            network: params.network.to_string(),
            height: tip.entry.height.0,
            tip_hash: tip.hash.to_string(),
            bits: tip.entry.header.bits.to_string(),
            difficulty,
            next_bits: chain.next_bits(&tip.hash).to_string(),
            chain_work: tip.entry.chain_work.to_string(),
            state_root: chain.state_root().to_hex(),
            mempool_size: chain.mempool().len(),
            mempool_bytes: chain.mempool().bytes(),
        }))
    })
    .await
}

pub(crate) async fn block(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<rest::Block>, Failure> {
    blocking(&s, move |s| {
        let chain = s.handle.chain();
        let hash = if !id.is_empty() && id.len() < 20 && id.bytes().all(|b| b.is_ascii_digit()) {
            let height: u64 = id
                .parse()
                .map_err(|_| Failure::new(400, "bad-block-id", format!("bad height {id:?}")))?;
            chain
                .hash_at(Height(height))
                .ok_or_else(|| Failure::not_found(format!("no block at height {height}")))?
        } else {
            id.parse::<Hash256>().map_err(|_| {
                Failure::new(
                    400,
                    "bad-block-id",
                    format!("{id:?} is neither a height nor a 64-hex-digit block hash"),
                )
            })?
        };
        let block = chain
            .block(&hash)?
            .ok_or_else(|| Failure::not_found(format!("no block {hash}")))?;
        Ok(Json(block_json(&chain, hash, &block)))
    })
    .await
}

pub(crate) async fn tx(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<rest::Tx>, Failure> {
    let txid: Hash256 = id
        .parse()
        .map_err(|_| Failure::new(400, "bad-txid", format!("{id:?} is not 64 hex digits")))?;
    blocking(&s, move |s| {
        let chain = s.handle.chain();
        let found = chain
            .find_tx(&txid)?
            .ok_or_else(|| Failure::not_found(format!("no transaction {txid}")))?;
        Ok(Json(tx_json(
            &found.tx,
            chain.params().network,
            found.block,
        )))
    })
    .await
}

/// The hex payload of a submission: `{"hex": "..."}` or the bare hex (optionally quoted).
fn hex_payload(body: &Bytes, what: &str) -> Result<Vec<u8>, Failure> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Failure::new(400, "malformed", "body is not UTF-8"))?
        .trim();
    let hex_text = if text.starts_with('{') {
        serde_json::from_str::<rest::SubmitTx>(text)
            .map_err(|e| Failure::new(400, "malformed", format!("expected {{\"hex\": ...}}: {e}")))?
            .hex
    } else {
        text.trim_matches('"').to_owned()
    };
    hex::decode(hex_text.trim())
        .map_err(|e| Failure::new(400, "malformed", format!("{what} hex: {e}")))
}

pub(crate) async fn submit_tx(
    State(s): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<rest::Submitted>), Failure> {
    let bytes = hex_payload(&body, "transaction")?;
    let tx = Transaction::from_bytes(&bytes).map_err(|e| Failure::from(ChainError::from(e)))?;
    let txid = blocking(&s, move |s| Ok(s.handle.submit_tx(tx)?)).await?;
    Ok((
        StatusCode::CREATED,
        Json(rest::Submitted {
            txid: txid.to_string(),
        }),
    ))
}

pub(crate) async fn submit_block(
    State(s): State<AppState>,
    body: Bytes,
) -> Result<(StatusCode, Json<rest::BlockAccepted>), Failure> {
    let accepted = blocking(&s, move |s| {
        let bytes = hex_payload(&body, "block")?;
        let block = Block::from_bytes(&bytes).map_err(|e| Failure::from(ChainError::from(e)))?;
        Ok(s.handle.submit_block(block)?)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(rest::BlockAccepted {
            hash: accepted.hash.to_string(),
            height: accepted.height.0,
            is_tip: accepted.is_tip,
            reorg_depth: accepted.reorg_depth,
        }),
    ))
}

pub(crate) async fn account(
    State(s): State<AppState>,
    Path(text): Path<String>,
) -> Result<Json<rest::Account>, Failure> {
    blocking(&s, move |s| {
        let chain = s.handle.chain();
        let address = Address::parse(&text, chain.params().network)
            .map_err(|e| Failure::new(400, "bad-address", e.to_string()))?;
        let acct = chain.account(&address);
        Ok(Json(rest::Account {
            address: text,
            balance_units: acct.balance.to_units(),
            balance: acct.balance.to_string(),
            nonce: acct.nonce,
            next_nonce: chain.next_nonce(&address),
        }))
    })
    .await
}

pub(crate) async fn not_found() -> Failure {
    Failure::not_found("no such endpoint; see /api/v1/openapi.json")
}

pub(crate) async fn openapi() -> Json<serde_json::Value> {
    Json(crate::openapi::document())
}

pub(crate) async fn mining_workers(
    State(s): State<AppState>,
) -> Json<Vec<aic_api::stratum::WorkerStats>> {
    Json(s.handle.mining().snapshot())
}
