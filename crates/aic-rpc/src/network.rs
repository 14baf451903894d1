//! The node's network as the API reaches it: [`NetworkControl`], which the node implements
//! over its peer-to-peer service (this crate does not depend on it), the public
//! `GET /api/v1/network`, and the operator's JSON-RPC methods (`getnetworkinfo`,
//! `getpeerinfo`, `blockpeer`, `unblockpeer`, `addnode`).

use std::future::Future;
use std::pin::Pin;

use aic_api::jsonrpc::{INVALID_PARAMETER, INVALID_PARAMS};
use aic_api::network::NetworkInfo;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::rest::Failure;
use crate::server::AppState;

/// Bitcoin Core's `RPC_CLIENT_P2P_DISABLED`: the node runs no network.
pub const CLIENT_P2P_DISABLED: i64 = -9;

/// What a [`NetworkControl`] call returns: a future of the answer or a reason it failed.
pub type NetFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, NetworkError>> + Send + 'a>>;

/// Why a network call failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// The argument is not a peer id or a multiaddr.
    #[error("{0}")]
    BadArgument(String),
    /// The network service has stopped.
    #[error("the network service has stopped")]
    Stopped,
    /// No peer delivered the blob (none has it, or none whose bytes verified).
    #[error("{0}")]
    BlobUnavailable(String),
}

/// The operator's view of and control over the node's peer-to-peer network.
pub trait NetworkControl: Send + Sync + std::fmt::Debug {
    /// This node on the network: its id, addresses, peers and counters.
    fn info(&self) -> NetFuture<'_, NetworkInfo>;
    /// Closes every connection to `peer` (a peer id) and refuses new ones until unblocked.
    fn block_peer<'a>(&'a self, peer: &'a str) -> NetFuture<'a, ()>;
    /// Lifts a block or a ban on `peer` and dials its known addresses.
    fn unblock_peer<'a>(&'a self, peer: &'a str) -> NetFuture<'a, ()>;
    /// Dials `addr`, a multiaddr.
    fn dial<'a>(&'a self, addr: &'a str) -> NetFuture<'a, ()>;
    /// Fetches blob `id` from any peer that has it into the node's store, verified by its
    /// hash; its length.
    fn fetch_blob(&self, id: aic_blob::BlobId) -> NetFuture<'_, u64>;
}

/// `GET /api/v1/network`.
pub(crate) async fn info(State(s): State<AppState>) -> Result<Json<NetworkInfo>, Failure> {
    let net = s.handle.network().ok_or_else(|| {
        Failure::new(
            503,
            "network-off",
            "this node does not run the peer-to-peer network",
        )
    })?;
    net.info()
        .await
        .map(Json)
        .map_err(|e| Failure::new(503, "network-stopped", e.to_string()))
}

/// A JSON-RPC network method, or `None` if `method` is not one.
pub(crate) async fn dispatch(
    s: &AppState,
    method: &str,
    arg: Option<&Value>,
) -> Option<Result<Value, (i64, String)>> {
    if !matches!(
        method,
        "getnetworkinfo" | "getpeerinfo" | "blockpeer" | "unblockpeer" | "addnode"
    ) {
        return None;
    }
    let Some(net) = s.handle.network() else {
        return Some(Err((
            CLIENT_P2P_DISABLED,
            "Error: Peer-to-peer functionality missing or disabled".to_owned(),
        )));
    };
    let text = arg.and_then(Value::as_str);
    let result = match (method, text) {
        ("getnetworkinfo", _) => net.info().await.map(|i| json!(i)),
        ("getpeerinfo", _) => net.info().await.map(|i| json!(i.peers)),
        ("blockpeer", Some(p)) => net.block_peer(p).await.map(|()| Value::Null),
        ("unblockpeer", Some(p)) => net.unblock_peer(p).await.map(|()| Value::Null),
        ("addnode", Some(a)) => net.dial(a).await.map(|()| Value::Null),
        _ => {
            return Some(Err((
                INVALID_PARAMS,
                format!("{method} expects one string parameter"),
            )))
        }
    };
    Some(result.map_err(|e| {
        let code = match e {
            NetworkError::BadArgument(_) => INVALID_PARAMETER,
            NetworkError::Stopped | NetworkError::BlobUnavailable(_) => CLIENT_P2P_DISABLED,
        };
        (code, e.to_string())
    }))
}
