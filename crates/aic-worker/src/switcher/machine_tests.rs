use super::*;
use crate::switcher::policy::{OwnerChoice, Policy, Sharing};

fn run(policy: &Policy, events: &[Event]) -> (DeviceState, Vec<Vec<Action>>) {
    let mut state = DeviceState::initial(policy);
    let mut all = Vec::new();
    for &event in events {
        let t = transition(state, event, policy).unwrap_or_else(|e| panic!("{event:?}: {e}"));
        state = t.state;
        all.push(t.actions);
    }
    (state, all)
}

const DATA: Event = Event::JobWaits(WaitReason::Data);

#[test]
fn a_job_takes_the_device_from_mining_and_mining_fills_its_gaps() {
    let policy = Policy::switching(0.0);
    assert_eq!(DeviceState::initial(&policy).task, Task::Mining);
    let (state, actions) = run(
        &policy,
        &[
            Event::JobAccepted,
            Event::JobNeeds,
            DATA,
            Event::JobNeeds,
            Event::JobEnded,
        ],
    );
    use Action::*;
    assert_eq!(
        actions,
        vec![
            vec![],
            vec![PauseMining, Grant],
            vec![ResumeMining],
            vec![PauseMining, Grant],
            vec![ResumeMining],
        ]
    );
    assert_eq!(state.task, Task::Mining);
    assert_eq!(state.job, None);
}

#[test]
fn whole_job_policy_holds_the_device_through_waits() {
    let policy = Policy {
        sharing: Sharing::WholeJob,
        ..Policy::switching(0.0)
    };
    let (state, actions) = run(
        &policy,
        &[Event::JobAccepted, Event::JobNeeds, DATA, Event::JobNeeds],
    );
    use Action::*;
    assert_eq!(
        actions,
        vec![vec![PauseMining], vec![Grant], vec![], vec![Grant]]
    );
    assert_eq!(state.task, Task::AiJob);
    let t = transition(state, Event::JobEnded, &policy).unwrap();
    assert_eq!(t.actions, vec![ResumeMining]);
}

#[test]
fn owner_pause_holds_a_running_job_and_grants_again_on_resume() {
    let policy = Policy::switching(0.0);
    let pause = Event::OwnerPause(PauseCause::Command);
    let resume = Event::OwnerResume(PauseCause::Command);
    let (state, actions) = run(
        &policy,
        &[
            Event::JobAccepted,
            Event::JobNeeds,
            pause,
            Event::JobWaits(WaitReason::Held),
            Event::JobNeeds,
        ],
    );
    use Action::*;
    assert_eq!(actions[2], vec![Hold]);
    assert_eq!(actions[3], vec![]);
    assert_eq!(actions[4], vec![]);
    assert_eq!(state.task, Task::Paused);
    assert_eq!(state.job, Some(JobPhase::Pending));
    let t = transition(state, resume, &policy).unwrap();
    assert_eq!(t.actions, vec![Grant]);
    assert_eq!(t.state.task, Task::AiJob);
    // Paused while mining: mining stops; both causes must clear before it resumes.
    let (state, actions) = run(
        &policy,
        &[pause, Event::OwnerPause(PauseCause::Activity), resume],
    );
    assert_eq!(actions, vec![vec![PauseMining], vec![], vec![]]);
    assert_eq!(state.task, Task::Paused);
    let t = transition(state, Event::OwnerResume(PauseCause::Activity), &policy).unwrap();
    assert_eq!(t.actions, vec![ResumeMining]);
}

#[test]
fn switching_off_keeps_the_owners_choice() {
    // Mining chosen: always mining, AI work refused.
    let mining = Policy::default();
    let state = DeviceState::initial(&mining);
    assert_eq!(state.task, Task::Mining);
    assert_eq!(
        transition(state, Event::JobAccepted, &mining),
        Err(TransitionError::AiWorkOff)
    );
    // AI jobs chosen: never mines, the job keeps the device through its waits.
    let ai = Policy {
        owner_choice: OwnerChoice::AiJobs,
        ..Policy::default()
    };
    assert_eq!(DeviceState::initial(&ai).task, Task::Idle);
    let (state, actions) = run(
        &ai,
        &[Event::JobAccepted, Event::JobNeeds, DATA, Event::JobEnded],
    );
    assert_eq!(actions, vec![vec![], vec![Action::Grant], vec![], vec![]]);
    assert_eq!(state.task, Task::Idle);
    // Idle chosen: nothing.
    let idle = Policy {
        owner_choice: OwnerChoice::Idle,
        ..Policy::default()
    };
    assert_eq!(DeviceState::initial(&idle).task, Task::Idle);
}

#[test]
fn each_illegal_transition_is_refused_and_changes_nothing() {
    use TransitionError as E;
    let policy = Policy::switching(0.0);
    let fresh = DeviceState::initial(&policy);
    let (waiting, _) = run(&policy, &[Event::JobAccepted]);
    let (running, _) = run(&policy, &[Event::JobAccepted, Event::JobNeeds]);
    let (paused, _) = run(&policy, &[Event::OwnerPause(PauseCause::Command)]);
    let cases = [
        (waiting, Event::JobAccepted, E::JobAlreadyAssigned, &policy),
        (fresh, Event::JobNeeds, E::NeedWithoutJob, &policy),
        (
            running,
            Event::JobNeeds,
            E::NeedWhileActive(JobPhase::Running),
            &policy,
        ),
        (fresh, DATA, E::WaitWithoutJob, &policy),
        (
            waiting,
            DATA,
            E::WaitWhileNotRunning(JobPhase::Waiting),
            &policy,
        ),
        (fresh, Event::JobEnded, E::EndWithoutJob, &policy),
        (
            paused,
            Event::OwnerPause(PauseCause::Command),
            E::AlreadyPaused(PauseCause::Command),
            &policy,
        ),
        (
            paused,
            Event::OwnerResume(PauseCause::Activity),
            E::NotPaused(PauseCause::Activity),
            &policy,
        ),
    ];
    for (state, event, error, policy) in cases {
        assert_eq!(transition(state, event, policy), Err(error), "{event:?}");
    }
    let off = Policy::default();
    assert_eq!(
        transition(DeviceState::initial(&off), Event::JobAccepted, &off),
        Err(E::AiWorkOff)
    );
}

#[test]
fn mining_and_a_job_never_hold_the_device_together() {
    // Every reachable state over random event sequences: a grant is always preceded by the
    // pause of mining, and mining never resumes while the job runs.
    let policies = [
        Policy::switching(0.0),
        Policy {
            sharing: Sharing::WholeJob,
            ..Policy::switching(0.0)
        },
    ];
    let events = [
        Event::JobAccepted,
        Event::JobNeeds,
        DATA,
        Event::JobEnded,
        Event::OwnerPause(PauseCause::Command),
        Event::OwnerResume(PauseCause::Command),
        Event::OwnerPause(PauseCause::Activity),
        Event::OwnerResume(PauseCause::Activity),
    ];
    for policy in &policies {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut state = DeviceState::initial(policy);
        let mut mining = state.task == Task::Mining;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let event = events[(seed % events.len() as u64) as usize];
            let Ok(t) = transition(state, event, policy) else {
                continue;
            };
            for action in &t.actions {
                match action {
                    Action::PauseMining => mining = false,
                    Action::ResumeMining => mining = true,
                    Action::Grant => assert!(!mining, "{state:?} {event:?}"),
                    Action::Hold => {}
                }
            }
            let job_computing = matches!(t.state.job, Some(JobPhase::Running | JobPhase::Holding));
            assert!(!(mining && job_computing), "{state:?} {event:?} {t:?}");
            assert_eq!(mining, t.state.task == Task::Mining);
            state = t.state;
        }
    }
}
