//! Provider registration, stake top-ups, unbonding and withdrawal.

use aic_consensus::{MarketError, TxError};
use aic_primitives::{Address, Amount, Height, MarketParams, ProviderRegistration};

use super::add;
use super::records::{Provider, Reputation};
use crate::overlay::{market, BlockContext, Overlay};

impl Overlay<'_> {
    pub(crate) fn register_provider(
        &mut self,
        params: &MarketParams,
        ctx: BlockContext,
        sender: Address,
        reg: &ProviderRegistration,
    ) -> Result<(), TxError> {
        if self.provider(&sender).is_some() {
            return Err(market(MarketError::AlreadyRegistered));
        }
        if reg.stake < params.min_provider_stake {
            return Err(market(MarketError::StakeBelowMinimum {
                min: params.min_provider_stake,
                got: reg.stake,
            }));
        }
        if !reg.endpoint.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(market(MarketError::BadEndpoint));
        }
        self.debit(sender, reg.stake)?;
        self.put_provider(
            sender,
            Provider {
                stake: reg.stake,
                unbonding: Amount::ZERO,
                release: Height(0),
                devices: reg.devices,
                summary: reg.summary,
                endpoint: reg.endpoint.clone(),
                registered: ctx.height,
                active: 0,
                reputation: Reputation::default(),
            },
        );
        Ok(())
    }

    pub(crate) fn top_up(&mut self, sender: Address, amount: Amount) -> Result<(), TxError> {
        let mut p = self
            .provider(&sender)
            .ok_or(market(MarketError::NotRegistered))?;
        if amount == Amount::ZERO {
            return Err(market(MarketError::ZeroAmount));
        }
        p.stake = add(p.stake, amount).map_err(market)?;
        self.debit(sender, amount)?;
        self.put_provider(sender, p);
        Ok(())
    }

    pub(crate) fn unstake(
        &mut self,
        params: &MarketParams,
        ctx: BlockContext,
        sender: Address,
        amount: Amount,
    ) -> Result<(), TxError> {
        let mut p = self
            .provider(&sender)
            .ok_or(market(MarketError::NotRegistered))?;
        if amount == Amount::ZERO {
            return Err(market(MarketError::ZeroAmount));
        }
        if p.active > 0 {
            return Err(market(MarketError::StakeLocked { active: p.active }));
        }
        let rest = p
            .stake
            .checked_sub(amount)
            .ok_or(market(MarketError::UnstakeExceedsStake {
                stake: p.stake,
                requested: amount,
            }))?;
        // Either leave for good or stay above the minimum: a registered provider with a
        // token stake would be drawn as a verifier with nothing to lose.
        if rest != Amount::ZERO && rest < params.min_provider_stake {
            return Err(market(MarketError::StakeBelowMinimum {
                min: params.min_provider_stake,
                got: rest,
            }));
        }
        p.stake = rest;
        p.unbonding = add(p.unbonding, amount).map_err(market)?;
        p.release = Height(ctx.height.0.saturating_add(params.unbonding_blocks));
        self.put_provider(sender, p);
        Ok(())
    }

    pub(crate) fn withdraw(&mut self, ctx: BlockContext, sender: Address) -> Result<(), TxError> {
        let mut p = self
            .provider(&sender)
            .ok_or(market(MarketError::NotRegistered))?;
        if p.unbonding == Amount::ZERO {
            return Err(market(MarketError::NothingUnbonding));
        }
        if ctx.height < p.release {
            return Err(market(MarketError::StillUnbonding { release: p.release }));
        }
        let amount = p.unbonding;
        p.unbonding = Amount::ZERO;
        self.credit(sender, amount)?;
        self.put_provider(sender, p);
        Ok(())
    }
}
