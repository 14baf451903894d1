//! SHA-256d search kernels for AIC's Bitcoin-compatible 80-byte header.
//!
//! A [`Kernel`] searches a range of nonces of one [`Job`] for headers whose SHA-256d, read as
//! a little-endian 256-bit number, is at most the job's target. Kernels differ only in speed:
//! the portable kernel is the oracle every other kernel is tested against.
//!
//! - [`Portable`]: scalar SHA-256, runs everywhere.
//! - [`ShaNi2Way`]: x86_64 SHA extensions, two nonces interleaved.
//! - [`Avx2x8`]: x86_64 AVX2, eight nonces in the lanes of 256-bit registers.
//! - [`Avx512x16`]: x86_64 AVX-512F, sixteen nonces in the lanes of 512-bit registers (not yet
//!   run on hardware; listed after AVX2 until measured, so [`best`] does not pick it).
//!
//! Around them: the search loop ([`Searcher`]: threads, extranonce2 slices, version and ntime
//! rolling, stop and new work between batches), Stratum work assembly ([`WorkTemplate`]), a
//! Stratum client ([`run_pool_client`]) and the measurements behind `aic miner bench`.
//!
//! [`kernels`] lists the kernels this CPU can run, fastest first; [`best`] picks the first.
//!
//! # Invariants
//! - Every kernel finds exactly the nonces the portable kernel finds, for every job and range.
//! - Kernels that use CPU extensions live in their own `#[target_feature]` functions and are
//!   chosen at run time; nothing here is compiled with `target-cpu=native`.
//! - `unsafe` is confined to the SIMD kernel modules, each use with a `// SAFETY:` comment.

mod avx2;
mod avx512;
mod bench;
mod client;
mod dispatch;
mod kernel;
mod portable;
#[cfg(target_arch = "x86_64")]
mod prepared;
mod search;
mod shani;
mod shared;
#[cfg(test)]
mod test_vectors;
mod tune;
mod work;

pub use avx2::Avx2x8;
pub use avx512::Avx512x16;
pub use bench::{impossible_work, measure, measure_with_batch, process_cpu_seconds, BenchRow};
pub use client::{
    difficulty_target, run as run_pool_client, run_shared as run_pool_client_shared,
    work_from_notify, ClientEvent, ClientStats, PoolConfig,
};
pub use dispatch::{best, by_name, kernels};
pub use kernel::{meets_target, Found, Job, Kernel};
pub use portable::{sha256d_header, Portable};
pub use search::{
    measure_stop_latency, SearchConfig, SearchError, SearchStats, Searcher, Share, StopHandle,
    DEFAULT_BATCH,
};
pub use shani::ShaNi2Way;
pub use shared::{ShareRoute, SharedSearch};
pub use tune::{machine_key, tune, Profile, Trial, BATCHES, PROFILE_FILE};
pub use work::{
    bits_to_target, merkle_branches_for, merkle_root_from_branches, sha256d, WorkTemplate,
};
