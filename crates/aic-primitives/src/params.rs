//! Chain parameters of each network, passed explicitly wherever rules need them.

use std::fmt;
use std::str::FromStr;

use crate::amount::Amount;
use crate::block::Block;
use crate::hash::Hash256;
use crate::header::BlockHeader;
use crate::height::Height;
use crate::target::CompactTarget;
use crate::tx::{Coinbase, Transaction};

/// The networks AIC runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Network {
    /// The production network.
    Mainnet,
    /// The public test network.
    Testnet,
    /// A local development network: easy proof of work, fast blocks.
    Devnet,
}

/// A network name that is none of `mainnet`, `testnet`, `devnet`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown network {0:?}: expected mainnet, testnet or devnet")]
pub struct NetworkParseError(pub String);

impl Network {
    /// The bech32m prefix of addresses on this network.
    pub const fn address_prefix(self) -> &'static str {
        match self {
            Network::Mainnet => "aic",
            Network::Testnet => "taic",
            Network::Devnet => "daic",
        }
    }

    /// The network's name as used in configuration and on the command line.
    pub const fn name(self) -> &'static str {
        match self {
            Network::Mainnet => "mainnet",
            Network::Testnet => "testnet",
            Network::Devnet => "devnet",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Network {
    type Err = NetworkParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mainnet" | "main" => Ok(Network::Mainnet),
            "testnet" | "test" => Ok(Network::Testnet),
            "devnet" | "dev" => Ok(Network::Devnet),
            _ => Err(NetworkParseError(s.to_owned())),
        }
    }
}

/// The parameters that make a network: everything consensus needs besides the blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainParams {
    /// Which network these are.
    pub network: Network,
    /// Chain id signed into every transaction.
    pub chain_id: u32,
    /// Target time between blocks, in seconds (ASERT's ideal block time).
    pub block_interval_secs: u64,
    /// ASERT half-life in seconds: a chain this far ahead of schedule doubles its difficulty.
    pub asert_half_life_secs: u64,
    /// Where ASERT's schedule starts. `false`: at genesis (`genesis_time`, which a public
    /// network sets at launch). `true`: at block 1, whenever it is mined, for networks started
    /// on demand (devnet); a first miner could backdate block 1 and mine easy blocks, which
    /// only matters where coins have value.
    pub asert_anchor_first_block: bool,
    /// The easiest target allowed, and the genesis block's target.
    pub pow_limit: CompactTarget,
    /// Subsidy of the first blocks.
    pub initial_subsidy: Amount,
    /// Blocks between halvings of the subsidy.
    pub halving_interval: u64,
    /// Largest encoded block.
    pub max_block_bytes: usize,
    /// Most transactions in a block, the coinbase included.
    pub max_block_txs: usize,
    /// How far a block's time may be ahead of the validating node's clock.
    pub max_future_block_secs: u64,
    /// Deepest reorganisation a node performs.
    pub max_reorg_depth: u64,
    /// Genesis header time.
    pub genesis_time: u32,
    /// Genesis header nonce (meets `pow_limit`).
    pub genesis_nonce: u32,
    /// Default HTTP API port.
    pub default_api_port: u16,
    /// The market's rules (ADR 0017).
    pub market: MarketParams,
}

/// A service tier: who may bid on jobs of that tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceTier {
    /// Least stake a provider holds.
    pub min_stake: Amount,
    /// Least reputation score (see `aic-ledger`'s `Reputation::score`).
    pub min_reputation: u64,
}

/// The market's parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarketParams {
    /// Least stake of a registered provider (tier 0).
    pub min_provider_stake: Amount,
    /// Blocks between `Unstake` and the stake's withdrawal.
    pub unbonding_blocks: u64,
    /// Highest royalty a model or dataset may ask, in basis points of a job's price.
    pub max_royalty_bps: u16,
    /// Longest bid window, in blocks.
    pub max_bid_blocks: u32,
    /// Longest time from award to result, in blocks.
    pub max_deadline_blocks: u32,
    /// Longest challenge window, in blocks.
    pub max_challenge_blocks: u32,
    /// Most verifiers in a job's first round (an escalation draws `2n + 1` more).
    pub max_verifiers: u8,
    /// Most bids on one job.
    pub max_bids: u32,
    /// Share of a provider's stake slashed on a failed verdict, or of a verifier's on a verdict
    /// the majority overturns, in basis points.
    pub slash_bps: u16,
    /// How many times a job reopens after failed results before it is refunded.
    pub max_reopens: u8,
    /// Service tiers, from 0 up.
    pub tiers: Vec<ServiceTier>,
}

impl MarketParams {
    /// Mainnet's market: a 100 AIC minimum stake, a week of unbonding.
    pub fn mainnet() -> MarketParams {
        let aic = |n: u64| Amount::from_units(n * Amount::UNITS_PER_AIC);
        MarketParams {
            min_provider_stake: aic(100),
            unbonding_blocks: 7 * 24 * 60,
            max_royalty_bps: 2_000,
            max_bid_blocks: 24 * 60,
            max_deadline_blocks: 14 * 24 * 60,
            max_challenge_blocks: 24 * 60,
            max_verifiers: 7,
            max_bids: 64,
            slash_bps: 5_000,
            max_reopens: 2,
            tiers: vec![
                ServiceTier {
                    min_stake: aic(100),
                    min_reputation: 0,
                },
                ServiceTier {
                    min_stake: aic(1_000),
                    min_reputation: 150,
                },
                ServiceTier {
                    min_stake: aic(10_000),
                    min_reputation: 300,
                },
            ],
        }
    }

    /// Devnet's market: small stakes and windows of a few blocks.
    pub fn devnet() -> MarketParams {
        let aic = |n: u64| Amount::from_units(n * Amount::UNITS_PER_AIC);
        MarketParams {
            min_provider_stake: aic(10),
            unbonding_blocks: 20,
            tiers: vec![
                ServiceTier {
                    min_stake: aic(10),
                    min_reputation: 0,
                },
                ServiceTier {
                    min_stake: aic(50),
                    min_reputation: 150,
                },
                ServiceTier {
                    min_stake: aic(200),
                    min_reputation: 300,
                },
            ],
            ..MarketParams::mainnet()
        }
    }
}

impl ChainParams {
    /// The parameters of `network`.
    pub fn for_network(network: Network) -> ChainParams {
        match network {
            Network::Mainnet => Self::mainnet(),
            Network::Testnet => Self::testnet(),
            Network::Devnet => Self::devnet(),
        }
    }

    /// Mainnet: one-minute blocks, one-hour ASERT half-life.
    pub fn mainnet() -> ChainParams {
        ChainParams {
            network: Network::Mainnet,
            chain_id: 0x4149_4301,
            block_interval_secs: 60,
            asert_half_life_secs: 3_600,
            asert_anchor_first_block: false,
            pow_limit: CompactTarget(0x1e0f_ffff),
            initial_subsidy: Amount::from_units(50 * Amount::UNITS_PER_AIC),
            halving_interval: 2_100_000,
            max_block_bytes: 2_000_000,
            max_block_txs: 10_000,
            max_future_block_secs: 2 * 60 * 60,
            max_reorg_depth: 100,
            genesis_time: 1_790_000_000,
            genesis_nonce: 457_175,
            default_api_port: 7450,
            market: MarketParams::mainnet(),
        }
    }

    /// Testnet: mainnet's rules under another chain id, prefix and genesis.
    pub fn testnet() -> ChainParams {
        ChainParams {
            network: Network::Testnet,
            chain_id: 0x4149_4302,
            genesis_time: 1_790_000_001,
            genesis_nonce: 595_664,
            ..Self::mainnet()
        }
    }

    /// Devnet: two-second blocks, a ten-second half-life and the easiest target: the first
    /// blocks come at once, and ASERT raises the difficulty to the machine's hash rate within
    /// a few hundred blocks (each half-life ahead of schedule doubles it).
    pub fn devnet() -> ChainParams {
        ChainParams {
            network: Network::Devnet,
            chain_id: 0x4149_4303,
            block_interval_secs: 2,
            asert_half_life_secs: 10,
            asert_anchor_first_block: true,
            pow_limit: CompactTarget(0x207f_ffff),
            halving_interval: 100_000,
            genesis_time: 1_790_000_002,
            genesis_nonce: 0,
            market: MarketParams::devnet(),
            ..Self::mainnet()
        }
    }

    /// The subsidy of the block at `height`: halves every `halving_interval` blocks, zero
    /// after 64 halvings.
    pub fn subsidy(&self, height: Height) -> Amount {
        let halvings = height.0 / self.halving_interval.max(1);
        if halvings >= 64 {
            return Amount::ZERO;
        }
        Amount::from_units(self.initial_subsidy.to_units() >> halvings)
    }

    /// The genesis block: a coinbase that pays nobody over an empty state.
    pub fn genesis_block(&self) -> Block {
        let coinbase = Transaction::Coinbase(Coinbase {
            height: Height::GENESIS,
            extranonce: [0; 8],
            state_root: Hash256::ZERO,
            payouts: Vec::new(),
        });
        let merkle_root = coinbase.txid();
        Block {
            header: BlockHeader {
                version: 1,
                prev_hash: Hash256::ZERO,
                merkle_root,
                time: self.genesis_time,
                bits: self.pow_limit,
                nonce: self.genesis_nonce,
            },
            txs: vec![coinbase],
        }
    }

    /// The genesis block's hash.
    pub fn genesis_hash(&self) -> Hash256 {
        self.genesis_block().hash()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_blocks_meet_their_targets_and_differ() {
        let mut hashes = Vec::new();
        for net in [Network::Mainnet, Network::Testnet, Network::Devnet] {
            let p = ChainParams::for_network(net);
            let g = p.genesis_block();
            let target = p.pow_limit.to_target().unwrap();
            assert!(target.is_met_by(&g.hash()), "{net} genesis nonce");
            hashes.push(g.hash());
        }
        hashes.dedup();
        assert_eq!(hashes.len(), 3);
    }

    #[test]
    fn subsidy_halves() {
        let p = ChainParams::mainnet();
        assert_eq!(p.subsidy(Height(0)), p.initial_subsidy);
        assert_eq!(
            p.subsidy(Height(p.halving_interval)).to_units(),
            p.initial_subsidy.to_units() / 2
        );
        assert_eq!(p.subsidy(Height(p.halving_interval * 64)), Amount::ZERO);
    }

    #[test]
    fn network_names_parse() {
        assert_eq!("devnet".parse::<Network>(), Ok(Network::Devnet));
        assert!("moon".parse::<Network>().is_err());
    }
}
