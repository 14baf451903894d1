//! The provider agent: the worker's identity key, signed announcements of its devices to a
//! node, a [`Heartbeat`] that repeats them, and reports of finished jobs
//! (`docs/worker.md`, "Provider agent"; ADR 0016).
//!
//! This is the off-chain presence layer: a node holds what it hears in memory and forgets a
//! worker silent for three heartbeat intervals. The on-chain market (stakes, bids, awards) will
//! reuse the same identity and reports.
//!
//! ```no_run
//! use std::time::Duration;
//! use aic_primitives::Network;
//! use aic_worker::provider::{Heartbeat, Identity, ProviderClient, IDENTITY_FILE};
//!
//! let key_file = std::path::Path::new(".aic-worker").join(IDENTITY_FILE);
//! let identity = Identity::load_or_create(&key_file, Network::Devnet)?;
//! let client = ProviderClient::new("http://127.0.0.1:7450", identity);
//! let devices = aic_worker::device::discover().devices;
//! let heartbeat = Heartbeat::start(client, &devices, None, Duration::from_secs(10));
//! // ... later
//! let stats = heartbeat.stop();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod heartbeat;
mod identity;

pub use client::{
    announce, devices_json, report, sign_announcement, sign_report, ClientError, JobOutcome,
    ProviderClient, CONNECT_TIMEOUT, REQUEST_TIMEOUT,
};
pub use heartbeat::{Heartbeat, HeartbeatStats};
pub use identity::{Identity, IdentityError, IDENTITY_FILE};
