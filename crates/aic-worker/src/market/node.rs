//! The node as the market agent uses it: the market's records, accounts and transactions over
//! the REST API, and its blob store (content-addressed by BLAKE3; uploads with the cookie).

use std::io::Read;
use std::time::Duration;

use aic_api::market as wire;
use aic_api::rest;
use aic_primitives::{Action, Amount, ChainParams, Encode, MarketAction, Transaction, TxBody};
use serde::de::DeserializeOwned;

use super::error::MarketError;
use crate::provider::Identity;

/// Largest blob the agent reads (a result manifest, weights, a checkpoint): 1 GiB.
const BLOB_LIMIT: u64 = 1 << 30;

/// A node's API.
#[derive(Clone)]
pub struct NodeApi {
    base: String,
    agent: ureq::Agent,
    auth: Option<String>,
}

impl std::fmt::Debug for NodeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeApi")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// BLAKE3 of `bytes` as 64 hex digits: a blob's id.
pub fn blob_id(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

impl NodeApi {
    /// The node at `base` (`http://HOST:PORT`); `auth` is the `Authorization` header value of
    /// its cookie, needed only to upload blobs.
    pub fn new(base: &str, auth: Option<String>) -> NodeApi {
        NodeApi {
            base: base.trim_end_matches('/').to_owned(),
            agent: ureq::AgentBuilder::new()
                .timeout_connect(Duration::from_secs(5))
                .timeout(Duration::from_secs(120))
                .build(),
            auth,
        }
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    fn failed(&self, path: &str, e: ureq::Error) -> MarketError {
        match e {
            ureq::Error::Status(status, resp) => match resp.into_json::<rest::ApiError>() {
                Ok(body) => MarketError::Refused {
                    code: body.code,
                    message: body.message,
                },
                Err(_) => MarketError::Node {
                    url: self.url(path),
                    message: format!("HTTP {status}"),
                },
            },
            other => MarketError::Node {
                url: self.url(path),
                message: other.to_string(),
            },
        }
    }

    fn json<T: DeserializeOwned>(
        &self,
        path: &str,
        resp: ureq::Response,
    ) -> Result<T, MarketError> {
        resp.into_json().map_err(|e| MarketError::Node {
            url: self.url(path),
            message: format!("reading the answer: {e}"),
        })
    }

    /// `GET /api/v1{path}` as JSON; `None` on 404.
    fn get_opt<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, MarketError> {
        match self.agent.get(&self.url(path)).call() {
            Ok(resp) => self.json(path, resp).map(Some),
            Err(ureq::Error::Status(404, _)) => Ok(None),
            Err(e) => Err(self.failed(path, e)),
        }
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, MarketError> {
        match self.agent.get(&self.url(path)).call() {
            Ok(resp) => self.json(path, resp),
            Err(e) => Err(self.failed(path, e)),
        }
    }

    /// The node's status (tip height, hash, mempool).
    pub fn status(&self) -> Result<rest::Status, MarketError> {
        self.get("/status")
    }

    /// A block by hash or height (`None`: the node does not hold it).
    pub fn block(&self, id: &str) -> Result<Option<rest::Block>, MarketError> {
        self.get_opt(&format!("/blocks/{id}"))
    }

    /// The jobs in `status` (`open`, `awarded`, `verifying`, ...).
    pub fn jobs(&self, status: &str) -> Result<Vec<wire::Job>, MarketError> {
        self.get(&format!("/market/jobs?status={status}"))
    }

    /// One job.
    pub fn job(&self, id: &str) -> Result<Option<wire::Job>, MarketError> {
        self.get_opt(&format!("/market/jobs/{id}"))
    }

    /// A registered provider (`None`: not registered).
    pub fn provider(&self, address: &str) -> Result<Option<wire::Provider>, MarketError> {
        self.get_opt(&format!("/market/providers/{address}"))
    }

    /// Whether the node knows transaction `txid` (in its mempool or in a block).
    pub fn tx_known(&self, txid: &str) -> Result<bool, MarketError> {
        Ok(self.get_opt::<rest::Tx>(&format!("/txs/{txid}"))?.is_some())
    }

    /// Signs `action` with `identity` at its account's next nonce (counting the mempool) and
    /// sends it; its txid.
    pub fn send(
        &self,
        identity: &Identity,
        fee: Amount,
        action: MarketAction,
    ) -> Result<String, MarketError> {
        let params = ChainParams::for_network(identity.network());
        let account: rest::Account = self.get(&format!("/accounts/{}", identity.address_text()))?;
        let tx = Transaction::Signed(
            TxBody {
                chain_id: params.chain_id,
                sender: identity.key().public_key(),
                nonce: account.next_nonce,
                fee,
                action: Action::Market(action),
            }
            .sign(identity.key()),
        );
        let body = serde_json::json!({"hex": hex::encode(tx.to_bytes())});
        match self.agent.post(&self.url("/txs")).send_json(body) {
            Ok(resp) => Ok(self.json::<rest::Submitted>("/txs", resp)?.txid),
            Err(e) => Err(self.failed("/txs", e)),
        }
    }

    /// The blob `id`, checked against its id.
    pub fn blob(&self, id: &str) -> Result<Vec<u8>, MarketError> {
        let path = format!("/blobs/{id}");
        let resp = match self.agent.get(&self.url(&path)).call() {
            Ok(resp) => resp,
            Err(ureq::Error::Status(404, _)) => return Err(MarketError::BlobMissing(id.into())),
            Err(e) => return Err(self.failed(&path, e)),
        };
        let mut bytes = Vec::new();
        resp.into_reader()
            .take(BLOB_LIMIT)
            .read_to_end(&mut bytes)
            .map_err(|e| MarketError::Node {
                url: self.url(&path),
                message: format!("reading the blob: {e}"),
            })?;
        let got = blob_id(&bytes);
        if got != id {
            return Err(MarketError::BlobMismatch { id: id.into(), got });
        }
        Ok(bytes)
    }

    /// Stores `bytes` in the node's blob store; their id.
    pub fn put_blob(&self, bytes: &[u8]) -> Result<String, MarketError> {
        let auth = self.auth.as_deref().ok_or(MarketError::NoCookie)?;
        let id = blob_id(bytes);
        let path = format!("/blobs/{id}");
        match self
            .agent
            .put(&self.url(&path))
            .set("Authorization", auth)
            .send_bytes(bytes)
        {
            Ok(_) => Ok(id),
            Err(e) => Err(self.failed(&path, e)),
        }
    }
}
