//! One error variant per market rule (ADR 0017). The rules themselves are applied by
//! `aic-ledger`'s market module; each variant has a test there that breaks it.

use aic_primitives::{Amount, Height};

/// A market transaction that breaks a market rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MarketError {
    // --- providers ---
    /// The sender is already a registered provider.
    #[error("already registered as a provider")]
    AlreadyRegistered,
    /// The sender is not a registered provider.
    #[error("the sender is not a registered provider")]
    NotRegistered,
    /// A registration's stake is below the network's minimum.
    #[error("stake {got} is below the minimum {min}")]
    StakeBelowMinimum {
        /// The minimum.
        min: Amount,
        /// The stake offered.
        got: Amount,
    },
    /// An amount (stake, top-up, unstake, price) that must be positive is zero.
    #[error("the amount must be positive")]
    ZeroAmount,
    /// The endpoint holds whitespace or control characters.
    #[error("the endpoint must be printable ASCII without spaces")]
    BadEndpoint,
    /// More unstaked than staked.
    #[error("cannot unstake {requested}: the stake is {stake}")]
    UnstakeExceedsStake {
        /// Stake held.
        stake: Amount,
        /// Amount asked.
        requested: Amount,
    },
    /// A provider with awarded jobs or pending verdicts cannot unstake.
    #[error("the stake is locked by {active} active jobs")]
    StakeLocked {
        /// Jobs the provider works on or verifies.
        active: u32,
    },
    /// Withdrawal with nothing unbonding.
    #[error("nothing is unbonding")]
    NothingUnbonding,
    /// Withdrawal before the unbonding period is over.
    #[error("the stake unbonds at height {release}")]
    StillUnbonding {
        /// First height at which it can be withdrawn.
        release: Height,
    },

    // --- models and datasets ---
    /// A task, parameter or metric name that is empty or not `[a-z0-9._-]`.
    #[error("{what} {name:?} must be 1 to 32 characters of a-z, 0-9, '.', '_' or '-'")]
    BadLabel {
        /// What the name names.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// A name given twice in one list.
    #[error("{what} {name:?} is given twice")]
    DuplicateName {
        /// What the list holds.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// A model with this content id is already published.
    #[error("the model is already published")]
    ModelExists,
    /// A dataset with this content id is already published.
    #[error("the dataset is already published")]
    DatasetExists,
    /// A royalty above the network's cap.
    #[error("royalty {got} bps is above the cap of {max} bps")]
    RoyaltyTooHigh {
        /// The cap.
        max: u16,
        /// The royalty asked.
        got: u16,
    },
    /// A parameter whose minimum is above its maximum.
    #[error("parameter {name:?} has its minimum above its maximum")]
    BadParamRange {
        /// The parameter.
        name: String,
    },

    // --- posting and cancelling jobs ---
    /// The job names a model that is not published.
    #[error("unknown model")]
    UnknownModel,
    /// The job names a dataset that is not published.
    #[error("unknown dataset")]
    UnknownDataset,
    /// Model and dataset are for different tasks.
    #[error("the model is for {model:?}, the dataset for {dataset:?}")]
    TaskMismatch {
        /// The model's task.
        model: String,
        /// The dataset's task.
        dataset: String,
    },
    /// A job parameter the model's schema does not declare.
    #[error("the model has no parameter {name:?}")]
    UnknownParam {
        /// The parameter.
        name: String,
    },
    /// A job parameter outside the schema's range.
    #[error("parameter {name:?} = {value} is outside [{min}, {max}]")]
    ParamOutOfRange {
        /// The parameter.
        name: String,
        /// The value (fixed point).
        value: i64,
        /// Least allowed.
        min: i64,
        /// Most allowed.
        max: i64,
    },
    /// A fractional value for a whole-number parameter.
    #[error("parameter {name:?} must be a whole number")]
    ParamNotInteger {
        /// The parameter.
        name: String,
    },
    /// A bid window of zero blocks or above the network's limit.
    #[error("bid window of {got} blocks is outside 1..={max}")]
    BidWindowOutOfRange {
        /// The limit.
        max: u32,
        /// The window asked.
        got: u32,
    },
    /// A deadline of zero blocks or above the network's limit.
    #[error("deadline of {got} blocks is outside 1..={max}")]
    DeadlineOutOfRange {
        /// The limit.
        max: u32,
        /// The deadline asked.
        got: u32,
    },
    /// A challenge window of zero blocks or above the network's limit.
    #[error("challenge window of {got} blocks is outside 1..={max}")]
    ChallengeWindowOutOfRange {
        /// The limit.
        max: u32,
        /// The window asked.
        got: u32,
    },
    /// More verifiers than the network allows.
    #[error("{got} verifiers asked, at most {max}")]
    TooManyVerifiers {
        /// The limit.
        max: u8,
        /// Verifiers asked.
        got: u8,
    },
    /// Verifiers asked for but no segments for them to replay.
    #[error("verifiers are asked for but no segment is to be replayed")]
    NoSegmentsToCheck,
    /// A service tier the network does not define.
    #[error("unknown service tier {0}")]
    UnknownTier(u8),
    /// The budget cannot cover the highest price, the royalties and every verifier's fee.
    #[error("budget {got} is below the {needed} the job may cost")]
    BudgetTooLow {
        /// Highest price, royalties on it and every possible verifier fee.
        needed: Amount,
        /// The budget.
        got: Amount,
    },
    /// No job with this id.
    #[error("unknown job")]
    UnknownJob,
    /// Only the job's consumer may do this.
    #[error("only the job's consumer may do this")]
    NotConsumer,
    /// The job is not in the state this action needs.
    #[error("the job is {got}, it must be {expected}")]
    WrongJobState {
        /// The state needed.
        expected: &'static str,
        /// The job's state.
        got: &'static str,
    },

    // --- bids ---
    /// A price above the job's maximum.
    #[error("price {got} is above the job's maximum {max}")]
    PriceAboveMax {
        /// The job's maximum.
        max: Amount,
        /// The bid.
        got: Amount,
    },
    /// The provider has already bid on this job.
    #[error("the provider has already bid on this job")]
    DuplicateBid,
    /// The job has the most bids the network allows.
    #[error("the job already has {max} bids")]
    TooManyBids {
        /// The limit.
        max: u32,
    },
    /// A consumer bidding on its own job.
    #[error("a consumer cannot bid on its own job")]
    SelfDealing,
    /// A provider whose result for this job failed verification.
    #[error("the provider failed this job before")]
    ProviderExcluded,
    /// The provider's devices are of another class than the job needs.
    #[error("the job needs a {needed} device, the provider has {has}")]
    DeviceClassMismatch {
        /// Class the job needs.
        needed: &'static str,
        /// Class the provider registered.
        has: &'static str,
    },
    /// The provider's devices have less memory than the job needs.
    #[error("the job needs {needed} MiB of device memory, the provider has {has}")]
    InsufficientMemory {
        /// MiB needed.
        needed: u32,
        /// MiB registered.
        has: u32,
    },
    /// The provider's stake is below the job's tier.
    #[error("tier {tier} needs a stake of {min}, the provider has {has}")]
    TierStake {
        /// The job's tier.
        tier: u8,
        /// Stake needed.
        min: Amount,
        /// Stake held.
        has: Amount,
    },
    /// The provider's reputation is below the job's tier.
    #[error("tier {tier} needs a reputation of {min}, the provider has {has}")]
    TierReputation {
        /// The job's tier.
        tier: u8,
        /// Score needed.
        min: u64,
        /// The provider's score.
        has: u64,
    },

    // --- results and verdicts ---
    /// Only the provider the job was awarded to may post its result.
    #[error("the job was not awarded to the sender")]
    NotAwardedProvider,
    /// A result that covers no checkpoint segment.
    #[error("the result covers no checkpoint segment")]
    ZeroSegments,
    /// The sender was not drawn to verify this job's result in this round.
    #[error("the sender is not a drawn verifier of this job")]
    NotDrawnVerifier,
    /// The verifier has already given its verdict.
    #[error("the verifier has already given its verdict")]
    DuplicateVerdict,
    /// An amount would overflow.
    #[error("an amount overflows")]
    Overflow,
}
