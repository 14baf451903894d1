//! `[market]` of the worker's config file: the agent that bids on the chain's open jobs, runs
//! the ones awarded to it, publishes their results and replays other providers' segments.
//!
//! ```toml
//! [market]
//! enabled = true
//! wallet = "prov.key"                 # the registered provider's wallet (aic provider register)
//! node = "http://127.0.0.1:7450"      # the node whose chain it follows and whose blobs it uses
//! cookie = "node/.cookie"             # that node's cookie: results go into its blob store
//! price = "5"                         # the price it bids, AIC
//! bid = true                          # bid on open jobs its devices fit
//! verify = true                       # replay drawn segments and give verdicts
//! dir = "market"                      # state.json, models/, reports/
//! fee = "0.0001"                      # fee of each transaction, AIC
//! poll_ms = 1000                      # how often it reads the chain
//! ```

use std::path::PathBuf;

use aic_primitives::Amount;
use serde::{Deserialize, Serialize};

/// The market agent's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketConfig {
    /// Run the agent (also `aic worker run --market`).
    pub enabled: bool,
    /// The provider's wallet key file (`aic wallet new`, registered with `aic provider
    /// register`): it signs bids, results and verdicts.
    pub wallet: Option<PathBuf>,
    /// The node's API base URL.
    pub node: String,
    /// The node's cookie file: uploads to its blob store need it.
    pub cookie: Option<PathBuf>,
    /// The price bid on every job that pays at least as much, AIC (decimal).
    pub price: String,
    /// Bid on open jobs.
    pub bid: bool,
    /// Verify results when drawn.
    pub verify: bool,
    /// The agent's directory (default: `market` under the jobs directory).
    pub dir: Option<PathBuf>,
    /// Fee of each transaction, AIC (decimal).
    pub fee: String,
    /// Milliseconds between two reads of the chain.
    pub poll_ms: u64,
}

impl Default for MarketConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            wallet: None,
            node: String::new(),
            cookie: None,
            price: "1".into(),
            bid: true,
            verify: true,
            dir: None,
            fee: "0.0001".into(),
            poll_ms: 1000,
        }
    }
}

impl MarketConfig {
    /// The price as an amount.
    pub fn price_amount(&self) -> Result<Amount, String> {
        self.price
            .parse()
            .map_err(|e| format!("market.price {:?}: {e}", self.price))
    }

    /// The fee as an amount.
    pub fn fee_amount(&self) -> Result<Amount, String> {
        self.fee
            .parse()
            .map_err(|e| format!("market.fee {:?}: {e}", self.fee))
    }

    /// The ranges the types do not enforce (only when enabled).
    pub fn check(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if self.wallet.is_none() {
            return Err("market.wallet (the provider's key file) is required".into());
        }
        if !(self.node.starts_with("http://") || self.node.starts_with("https://")) {
            return Err("market.node must be the node's http:// or https:// URL".into());
        }
        if self.bid && self.cookie.is_none() {
            return Err("market.cookie (the node's cookie file) is required to bid: results go into the node's blob store".into());
        }
        if self.price_amount()?.to_units() == 0 {
            return Err("market.price must be above 0".into());
        }
        self.fee_amount()?;
        if self.poll_ms < 50 {
            return Err("market.poll_ms must be at least 50".into());
        }
        Ok(())
    }
}
