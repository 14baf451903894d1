//! Bidding: the configured price on every open job this provider's registered devices fit.

use aic_api::market as wire;
use aic_primitives::MarketAction;

use super::agent::{hash, Market, MarketEvent};
use super::error::MarketError;
use super::state::Sent;

/// Whether `provider` (address `me`) may do `job` at `price_units`: not its own job, the
/// device class and memory it asks for, a highest price that covers the price, not excluded.
/// The node checks the rest (tier, stake) and refuses with its rule.
pub(super) fn fits(job: &wire::Job, provider: &wire::Provider, me: &str, price_units: u64) -> bool {
    job.consumer != me
        && job.device_class == provider.device_class
        && provider.memory_mib >= job.min_memory_mib
        && job.max_price_units >= price_units
        && !job.excluded.iter().any(|e| e == me)
}

impl Market {
    /// Bids on the open jobs that fit and that it has not bid on (per the chain, or a bid
    /// still known to the node).
    pub(super) fn bid_open(
        &mut self,
        me: &str,
        provider: &wire::Provider,
    ) -> Result<(), MarketError> {
        let price = self.setup.price;
        for job in self.setup.node.jobs("open")? {
            if !fits(&job, provider, me, price.to_units())
                || job.bids.iter().any(|b| b.provider == me)
            {
                continue;
            }
            if let Some(sent) = self.state.state.bids.get(&job.id) {
                if sent.refused.is_some() {
                    continue;
                }
                if let Some(txid) = &sent.txid {
                    if self.setup.node.tx_known(txid)? {
                        continue;
                    }
                }
            }
            let action = MarketAction::Bid {
                job: hash(&job.id, &job.id)?,
                price,
            };
            let sent = match self
                .setup
                .node
                .send(&self.setup.identity, self.setup.fee, action)
            {
                Ok(txid) => {
                    self.event(MarketEvent::Bid {
                        job: job.id.clone(),
                        price_units: price.to_units(),
                        txid: txid.clone(),
                    });
                    Sent {
                        txid: Some(txid),
                        refused: None,
                    }
                }
                Err(MarketError::Refused { code, message }) => {
                    let reason = format!("{code}: {message}");
                    self.event(MarketEvent::GaveUp {
                        job: job.id.clone(),
                        what: "bid",
                        reason: reason.clone(),
                    });
                    Sent {
                        txid: None,
                        refused: Some(reason),
                    }
                }
                Err(e) => return Err(e),
            };
            self.state.state.bids.insert(job.id.clone(), sent);
            self.state.save()?;
        }
        Ok(())
    }
}
