//! The switcher: a per-device state machine (idle, mining, AI job, paused by the owner) driven by
//! the owner's policy, handing the device between the miner and AI jobs in milliseconds.
//!
//! - [`machine`]: the states, events and actions, and [`transition`] as a pure function with
//!   one [`TransitionError`] variant per illegal transition.
//! - [`Policy`]: the `[switcher]` section of the worker's config (switching on or off, the
//!   price floor, the owner-activity rule, hysteresis); [`ActivityGate`] applies the
//!   owner-activity rule with its hysteresis.
//! - [`Switcher`]: the run time. It owns the real miner's threads for the device
//!   ([`aic_miner::Searcher`]), parks them when a job needs the device and wakes them when
//!   the job waits or ends, and records a [`Timeline`] and every hand-over's latency.
//! - [`signal`]: what jobs tell the worker ([`AiJobSignal`]) and the line protocol job
//!   processes speak over a Unix socket ([`JobLink`] on the job's side, [`JobListener`] on
//!   the worker's).
//!
//! `docs/switcher.md` has the state diagram, the protocol and what is measured.

mod activity;
mod listener;
pub mod machine;
mod policy;
mod runtime;
pub mod signal;
mod timeline;

pub use activity::ActivityGate;
pub use listener::JobListener;
pub use machine::{
    transition, Action, DeviceState, Event, JobPhase, PauseCause, Task, Transition,
    TransitionError, WaitReason,
};
pub use policy::{Hysteresis, OfferDecision, OwnerActivity, OwnerChoice, Policy, Sharing};
pub use runtime::{
    JobSink, MiningSetup, SwitchKind, SwitchRecord, SwitchReport, Switcher, SwitcherError,
    SwitcherHandle,
};
pub use signal::{AiJobSignal, JobLink, ProtocolError, Reply};
pub use timeline::{overlaps, Interval, Timeline, Usage};

#[cfg(test)]
mod tests;
