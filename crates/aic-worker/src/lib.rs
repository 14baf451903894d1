//! The worker agent (`aic worker`): one process per machine that finds the devices and
//! describes them in one standard, versioned form ([`device`]), watches them every second
//! ([`monitor`]), moves each between crypto mining and AI jobs by the owner's policy
//! ([`switcher`]), runs each AI job in its own isolated, limited process ([`sandbox`]), and
//! announces itself and its devices to a node ([`provider`]). [`agent`] puts them together
//! for `aic worker run`, and [`page`] is the owner's page at the root of its HTTP address; [`market`] is its side of the on-chain market (bids, awarded jobs,
//! results, verdicts). It speaks to a node over the public API only (layer 3 of
//! `ARCHITECTURE.md`: no chain, storage or p2p dependencies).
//!
//! Libraries never print: progress and samples are returned or reported through callbacks.

pub mod agent;
pub mod bench;
pub mod device;
pub mod market;
pub mod monitor;
pub mod openapi;
pub mod page;
pub mod provider;
pub mod sandbox;
pub mod switcher;
