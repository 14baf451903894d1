//! The per-device state machine as a pure function: [`transition`] takes the state, an event
//! and the policy and returns the next state and the actions that carry it out, or the one
//! [`TransitionError`] variant that names why the event is illegal in that state.
//!
//! # Invariants
//! - Mining and an AI job never hold the device together: every transition that gives the
//!   device to a job lists [`Action::PauseMining`] before [`Action::Grant`], and mining
//!   resumes only once the job has said it stopped computing (wait or end).
//! - An illegal event changes nothing.

use serde::{Deserialize, Serialize};

use super::policy::Policy;

/// Who holds the device: the `task` of every timeline interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Nobody.
    Idle,
    /// The miner's threads.
    Mining,
    /// An AI job (computing, or, under the whole-job policy, holding the device while it waits).
    AiJob,
    /// Paused by the owner (`aic worker pause` or owner activity).
    Paused,
}

impl Task {
    /// The lower-case name used in timelines and monitoring.
    pub fn name(self) -> &'static str {
        match self {
            Task::Idle => "idle",
            Task::Mining => "mining",
            Task::AiJob => "ai_job",
            Task::Paused => "paused",
        }
    }
}

/// Where the assigned AI job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobPhase {
    /// Accepted or waiting (data, between epochs, idle renter): not computing.
    Waiting,
    /// Asked for the device; not granted yet (the owner has paused the device).
    Pending,
    /// Granted the device and computing.
    Running,
    /// Told to stop for an owner pause; computing until it says it stopped.
    Holding,
}

/// Why the owner paused the device; each cause is set and cleared on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseCause {
    /// `aic worker pause` / `aic worker resume`.
    Command,
    /// Other processes load the device (see [`super::ActivityGate`]).
    Activity,
}

/// The whole state of one device's switcher.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceState {
    /// Who holds the device.
    pub task: Task,
    /// The assigned AI job, if any.
    pub job: Option<JobPhase>,
    /// Paused by `aic worker pause`.
    pub paused_by_command: bool,
    /// Paused for owner activity.
    pub paused_by_activity: bool,
}

impl DeviceState {
    /// The state a device starts in under `policy`: mining where it may mine, else idle.
    pub fn initial(policy: &Policy) -> Self {
        let mut state = Self {
            task: Task::Idle,
            job: None,
            paused_by_command: false,
            paused_by_activity: false,
        };
        state.task = state.desired(policy);
        state
    }

    /// True while any owner pause is in force.
    pub fn owner_paused(&self) -> bool {
        self.paused_by_command || self.paused_by_activity
    }

    fn desired(&self, policy: &Policy) -> Task {
        match (self.owner_paused(), self.job) {
            // A running job keeps the device until it acknowledges the hold.
            (_, Some(JobPhase::Running | JobPhase::Holding)) => Task::AiJob,
            (true, _) => Task::Paused,
            (false, Some(JobPhase::Pending)) => Task::AiJob,
            (false, Some(JobPhase::Waiting)) if !policy.fills_gaps() => Task::AiJob,
            _ if policy.mines() => Task::Mining,
            _ => Task::Idle,
        }
    }
}

/// Why an AI job does not compute for a while.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    /// Waiting for data (the next shard).
    Data,
    /// Between epochs (evaluation upload, checkpoint).
    Epoch,
    /// The renter is idle (an interactive session with nothing to do).
    Idle,
    /// Acknowledging a hold for an owner pause.
    Held,
}

/// What happens to a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// An AI job was accepted for this device (see [`Policy::decide_offer`]).
    JobAccepted,
    /// The job needs the device: it starts, or resumes after a wait.
    JobNeeds,
    /// The job stopped computing for a while.
    JobWaits(WaitReason),
    /// The job ended (finished, failed or cancelled).
    JobEnded,
    /// The owner paused the device.
    OwnerPause(PauseCause),
    /// The owner's pause for this cause ended.
    OwnerResume(PauseCause),
}

/// What the runtime must do, in the order listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Park the mining threads and wait until none is hashing.
    PauseMining,
    /// Tell the job the device is its (`go`).
    Grant,
    /// Tell the running job to stop at its next step (`hold`).
    Hold,
    /// Wake the mining threads.
    ResumeMining,
}

/// An event that is illegal in the current state: one variant per illegal transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransitionError {
    /// A job was accepted while another is assigned.
    #[error("a job was accepted while another is assigned")]
    JobAlreadyAssigned,
    /// A job was accepted although the policy takes no AI work.
    #[error("a job was accepted although the policy takes no AI work")]
    AiWorkOff,
    /// A job asked for the device with no job assigned.
    #[error("a job asked for the device with no job assigned")]
    NeedWithoutJob,
    /// The job asked for the device while it already has it or has asked.
    #[error("the job asked for the device while it already holds or awaits it ({0:?})")]
    NeedWhileActive(JobPhase),
    /// A wait with no job assigned.
    #[error("a wait with no job assigned")]
    WaitWithoutJob,
    /// The job said it waits while it is not computing.
    #[error("the job said it waits while it is not computing ({0:?})")]
    WaitWhileNotRunning(JobPhase),
    /// An end with no job assigned.
    #[error("an end with no job assigned")]
    EndWithoutJob,
    /// A pause for a cause already in force.
    #[error("the device is already paused for {0:?}")]
    AlreadyPaused(PauseCause),
    /// A resume for a cause that is not in force.
    #[error("the device is not paused for {0:?}")]
    NotPaused(PauseCause),
}

/// The next state and the actions that carry it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The state after the event.
    pub state: DeviceState,
    /// What the runtime must do, in order.
    pub actions: Vec<Action>,
}

/// Applies `event` to `state` under `policy`.
pub fn transition(
    state: DeviceState,
    event: Event,
    policy: &Policy,
) -> Result<Transition, TransitionError> {
    use TransitionError as E;
    let mut next = state;
    let mut hold = false;
    match event {
        Event::JobAccepted => {
            if state.job.is_some() {
                return Err(E::JobAlreadyAssigned);
            }
            if !policy.takes_ai() {
                return Err(E::AiWorkOff);
            }
            next.job = Some(JobPhase::Waiting);
        }
        Event::JobNeeds => match state.job {
            None => return Err(E::NeedWithoutJob),
            Some(JobPhase::Waiting) => next.job = Some(JobPhase::Pending),
            Some(phase) => return Err(E::NeedWhileActive(phase)),
        },
        Event::JobWaits(_) => match state.job {
            None => return Err(E::WaitWithoutJob),
            Some(JobPhase::Running | JobPhase::Holding) => next.job = Some(JobPhase::Waiting),
            Some(phase) => return Err(E::WaitWhileNotRunning(phase)),
        },
        Event::JobEnded => {
            if state.job.is_none() {
                return Err(E::EndWithoutJob);
            }
            next.job = None;
        }
        Event::OwnerPause(cause) => {
            let flag = pause_flag(&mut next, cause);
            if *flag {
                return Err(E::AlreadyPaused(cause));
            }
            *flag = true;
            if state.job == Some(JobPhase::Running) {
                next.job = Some(JobPhase::Holding);
                hold = true;
            }
        }
        Event::OwnerResume(cause) => {
            let flag = pause_flag(&mut next, cause);
            if !*flag {
                return Err(E::NotPaused(cause));
            }
            *flag = false;
        }
    }
    let mut actions = Vec::new();
    next.task = next.desired(policy);
    if state.task == Task::Mining && next.task != Task::Mining {
        actions.push(Action::PauseMining);
    }
    if hold {
        actions.push(Action::Hold);
    }
    if next.job == Some(JobPhase::Pending) && !next.owner_paused() {
        next.job = Some(JobPhase::Running);
        actions.push(Action::Grant);
    }
    if next.task == Task::Mining && state.task != Task::Mining {
        actions.push(Action::ResumeMining);
    }
    Ok(Transition {
        state: next,
        actions,
    })
}

fn pause_flag(state: &mut DeviceState, cause: PauseCause) -> &mut bool {
    match cause {
        PauseCause::Command => &mut state.paused_by_command,
        PauseCause::Activity => &mut state.paused_by_activity,
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
