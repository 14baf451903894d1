//! The switcher: a per-device state machine (idle, mining, AI job, paused by the owner) driven by
//! the owner's policy, handing the device between the miner and AI jobs in milliseconds.
