//! Bitcoin-style JSON-RPC: the mining and chain-query methods.

use std::time::Duration;

use aic_api::jsonrpc::{
    self as wire, Request, Response, RpcError, DESERIALIZATION_ERROR, INVALID_PARAMETER,
    INVALID_PARAMS, METHOD_NOT_FOUND, MISC_ERROR, PARSE_ERROR,
};
use aic_chain::Chain;
use aic_primitives::{
    Address, Block, Decode, Encode, Height, Transaction, COINBASE_EXTRANONCE_OFFSET, U256,
};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::Json;
use serde_json::{json, Value};

use crate::codes::bip22_reason;
use crate::server::AppState;

/// How long a `getblocktemplate` long poll waits for a change.
const LONGPOLL_WAIT: Duration = Duration::from_secs(30);

fn rpc_error(code: i64, message: impl Into<String>) -> RpcError {
    RpcError {
        code,
        message: message.into(),
    }
}

pub(crate) async fn handle(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> HttpResponse {
    let auth = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !s.auth.check(auth) {
        return (
            StatusCode::UNAUTHORIZED,
            [(
                axum::http::header::WWW_AUTHENTICATE,
                "Basic realm=\"jsonrpc\"",
            )],
            "",
        )
            .into_response();
    }
    let parsed: Result<Value, _> = serde_json::from_slice(&body);
    let value = match parsed {
        Ok(v) => v,
        Err(e) => {
            let resp = Response {
                result: Value::Null,
                error: Some(rpc_error(PARSE_ERROR, format!("parse error: {e}"))),
                id: Value::Null,
            };
            return (StatusCode::BAD_REQUEST, Json(resp)).into_response();
        }
    };
    if let Value::Array(items) = value {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(call(&s, item).await.1);
        }
        return Json(out).into_response();
    }
    let (status, resp) = call(&s, value).await;
    (status, Json(resp)).into_response()
}

async fn call(s: &AppState, value: Value) -> (StatusCode, Response) {
    let req: Request = match serde_json::from_value(value) {
        Ok(r) => r,
        Err(e) => {
            let resp = Response {
                result: Value::Null,
                error: Some(rpc_error(INVALID_PARAMS, format!("invalid request: {e}"))),
                id: Value::Null,
            };
            return (StatusCode::BAD_REQUEST, resp);
        }
    };
    let id = req.id.clone();
    let result = dispatch(s, req).await;
    match result {
        Ok(result) => (
            StatusCode::OK,
            Response {
                result,
                error: None,
                id,
            },
        ),
        Err(error) => {
            // Bitcoin Core answers 404 for unknown methods and 500 for other errors.
            let status = if error.code == METHOD_NOT_FOUND {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::INTERNAL_SERVER_ERROR
            };
            (
                status,
                Response {
                    result: Value::Null,
                    error: Some(error),
                    id,
                },
            )
        }
    }
}

fn param(params: &Value, i: usize) -> Option<&Value> {
    match params {
        Value::Array(a) => a.get(i),
        Value::Object(_) if i == 0 => Some(params),
        _ => None,
    }
}

async fn on_chain<T: Send + 'static>(
    s: &AppState,
    f: impl FnOnce(&AppState) -> Result<T, RpcError> + Send + 'static,
) -> Result<T, RpcError> {
    let s = s.clone();
    tokio::task::spawn_blocking(move || f(&s))
        .await
        .map_err(|e| rpc_error(MISC_ERROR, e.to_string()))?
}

async fn dispatch(s: &AppState, req: Request) -> Result<Value, RpcError> {
    let params = req.params;
    match req.method.as_str() {
        "getblockcount" => on_chain(s, |s| Ok(json!(s.handle.chain().height().0))).await,
        "getbestblockhash" => {
            on_chain(s, |s| Ok(json!(s.handle.chain().tip().hash.to_string()))).await
        }
        "getblockhash" => {
            let height = param(&params, 0)
                .and_then(Value::as_u64)
                .ok_or_else(|| rpc_error(INVALID_PARAMS, "expected a height"))?;
            on_chain(s, move |s| {
                s.handle
                    .chain()
                    .hash_at(Height(height))
                    .map(|h| json!(h.to_string()))
                    .ok_or_else(|| rpc_error(INVALID_PARAMETER, "Block height out of range"))
            })
            .await
        }
        "getdifficulty" => on_chain(s, |s| Ok(json!(difficulty(&s.handle.chain())))).await,
        "getmininginfo" => {
            on_chain(s, |s| {
                let chain = s.handle.chain();
                let info = wire::MiningInfo {
                    blocks: chain.height().0,
                    difficulty: difficulty(&chain),
                    networkhashps: network_hash_rate(&chain, 120),
                    pooledtx: chain.mempool().len(),
                    chain: chain.params().network.to_string(),
                };
                serde_json::to_value(info).map_err(|e| rpc_error(MISC_ERROR, e.to_string()))
            })
            .await
        }
        "getblocktemplate" => get_block_template(s, param(&params, 0).cloned()).await,
        "submitblock" => {
            let hex_data = param(&params, 0)
                .and_then(Value::as_str)
                .ok_or_else(|| rpc_error(INVALID_PARAMS, "expected the block hex"))?
                .to_owned();
            on_chain(s, move |s| {
                // Decoding a block of megabytes is work for a blocking thread too.
                let decode_failed = |e: String| {
                    rpc_error(DESERIALIZATION_ERROR, format!("Block decode failed: {e}"))
                };
                let bytes = hex::decode(&hex_data).map_err(|e| decode_failed(e.to_string()))?;
                let block = Block::from_bytes(&bytes).map_err(|e| decode_failed(e.to_string()))?;
                Ok(match s.handle.submit_block(block) {
                    Ok(a) if a.is_tip => Value::Null,
                    Ok(_) => json!("stale-prevblk"),
                    Err(e) => json!(bip22_reason(&e)),
                })
            })
            .await
        }
        other => match crate::network::dispatch(s, other, param(&params, 0)).await {
            Some(r) => r.map_err(|(code, message)| rpc_error(code, message)),
            None => Err(rpc_error(
                METHOD_NOT_FOUND,
                format!("Method not found: {other}"),
            )),
        },
    }
}

fn difficulty(chain: &Chain) -> f64 {
    let tip = chain.tip();
    match (
        chain.params().pow_limit.to_target(),
        tip.entry.header.bits.to_target(),
    ) {
        (Ok(limit), Ok(t)) => t.difficulty(&limit),
        _ => 0.0,
    }
}

/// Hashes per second over the last `span` blocks: work done over time taken.
fn network_hash_rate(chain: &Chain, span: u64) -> f64 {
    let tip = chain.tip();
    let start_height = Height(tip.entry.height.0.saturating_sub(span));
    let Some(start) = chain
        .hash_at(start_height)
        .and_then(|h| chain.entry(&h).copied())
    else {
        return 0.0;
    };
    let secs = i64::from(tip.entry.header.time) - i64::from(start.header.time);
    if secs <= 0 {
        return 0.0;
    }
    let work = tip.entry.chain_work.0.saturating_sub(start.chain_work.0);
    let work = if work > U256::from(u128::MAX) {
        u128::MAX as f64
    } else {
        work.as_u128() as f64
    };
    work / secs as f64
}

async fn get_block_template(s: &AppState, request: Option<Value>) -> Result<Value, RpcError> {
    let request = request.unwrap_or(Value::Null);
    if let Some(mode) = request.get("mode").and_then(Value::as_str) {
        if mode != "template" {
            return Err(rpc_error(
                INVALID_PARAMETER,
                format!("Invalid mode: {mode}"),
            ));
        }
    }
    if let Some(wanted) = request.get("longpollid").and_then(Value::as_str) {
        let mut rx = s.handle.subscribe();
        let current = longpoll_id(&rx.borrow());
        if wanted == current {
            // Wait for a new tip or new transactions, or time out and answer anyway; a node
            // shutting down answers at once.
            tokio::select! {
                _ = tokio::time::timeout(LONGPOLL_WAIT, rx.changed()) => {}
                () = s.handle.closed() => {}
            }
        }
    }
    let payout_text = request
        .get("payout_address")
        .and_then(Value::as_str)
        .map(str::to_owned);
    on_chain(s, move |s| {
        let mut chain = s.handle.chain();
        let network = chain.params().network;
        let payout = match payout_text {
            Some(text) => Address::parse(&text, network)
                .map_err(|e| rpc_error(INVALID_PARAMETER, e.to_string()))?,
            None => s.handle.payout().ok_or_else(|| {
                rpc_error(
                    MISC_ERROR,
                    "no payout address: start the node with --payout-address ADDRESS or pass {\"payout_address\": ...}",
                )
            })?,
        };
        let now = s.handle.now();
        let t = chain.block_template(payout, now);
        let coinbase = t.coinbase_with([0; 8]);
        let coinbase_id = coinbase.txid().to_string();
        let txs: Vec<wire::TemplateTx> = t
            .txs
            .iter()
            .map(|tx| {
                let tx = Transaction::Signed(tx.clone());
                let id = tx.txid().to_string();
                wire::TemplateTx {
                    data: hex::encode(tx.to_bytes()),
                    txid: id.clone(),
                    hash: id,
                    fee: tx.as_signed().map(|s| s.body.fee.to_units()).unwrap_or(0),
                    depends: Vec::new(),
                }
            })
            .collect();
        let target = t
            .bits
            .to_target()
            .map(|t| format!("{:064x}", t.0))
            .unwrap_or_default();
        let rx = s.handle.subscribe();
        let template = wire::BlockTemplate {
            capabilities: Vec::new(),
            version: t.version,
            previousblockhash: t.prev_hash.to_string(),
            transactions: txs,
            coinbasetxn: wire::TemplateTx {
                data: hex::encode(coinbase.to_bytes()),
                txid: coinbase_id.clone(),
                hash: coinbase_id,
                fee: 0,
                depends: Vec::new(),
            },
            coinbase_extranonce_offset: COINBASE_EXTRANONCE_OFFSET,
            coinbasevalue: t.coinbase.total_paid().map(|a| a.to_units()).unwrap_or(0),
            target,
            mintime: t.min_time,
            mutable: vec!["time".to_owned(), "nonce".to_owned(), "coinbase/extranonce".to_owned()],
            noncerange: "00000000ffffffff".to_owned(),
            sizelimit: chain.params().max_block_bytes,
            curtime: t.cur_time,
            bits: t.bits.to_string(),
            height: t.height.0,
            longpollid: longpoll_id(&rx.borrow()),
        };
        serde_json::to_value(template).map_err(|e| rpc_error(MISC_ERROR, e.to_string()))
    })
    .await
}

fn longpoll_id(e: &crate::handle::TipEvent) -> String {
    format!("{}{:016x}", e.hash, e.mempool_seq)
}
