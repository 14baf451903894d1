//! A small blocking client for a node's REST API.

use anyhow::{anyhow, Context, Result};
use serde::de::DeserializeOwned;

/// The REST API of a node at a base URL.
pub(crate) struct NodeClient {
    base: String,
    agent: ureq::Agent,
}

impl NodeClient {
    pub(crate) fn new(base: &str) -> NodeClient {
        NodeClient {
            base: base.trim_end_matches('/').to_owned(),
            agent: ureq::AgentBuilder::new()
                .timeout(std::time::Duration::from_secs(30))
                .build(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    fn answer<T: DeserializeOwned>(&self, r: Result<ureq::Response, ureq::Error>) -> Result<T> {
        match r {
            Ok(resp) => resp.into_json().context("reading the node's answer"),
            Err(ureq::Error::Status(status, resp)) => {
                let body: aic_api::rest::ApiError =
                    resp.into_json().unwrap_or(aic_api::rest::ApiError {
                        code: "http".to_owned(),
                        message: format!("HTTP {status}"),
                    });
                Err(anyhow!("node refused ({}): {}", body.code, body.message))
            }
            Err(e) => Err(anyhow!(
                "cannot reach the node at {}: {e} (is `aic node` or `aic devnet` running?)",
                self.base
            )),
        }
    }

    pub(crate) fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.answer(self.agent.get(&self.url(path)).call())
    }

    pub(crate) fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T> {
        self.answer(self.agent.post(&self.url(path)).send_json(body.clone()))
    }
}
