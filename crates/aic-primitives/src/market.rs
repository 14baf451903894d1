//! The market's transaction payloads: providers, models, datasets, jobs, bids, results and
//! verdicts (ADR 0017).
//!
//! These are pure data with their canonical encoding. What they may do to the state, and the
//! one error per rule, is in `aic-ledger`'s market module. Decoding bounds every list and
//! string, so a hostile payload cannot allocate more than it carries.

use crate::amount::Amount;
use crate::encode::{CompactSize, Decode, DecodeError, Encode, Reader};
use crate::hash::Hash256;

/// Scale of fixed-point hyperparameter and metric values: `1_000_000` means 1.0.
pub const FIXED_POINT_SCALE: i64 = 1_000_000;
/// Longest label (task, parameter or metric name), in bytes.
pub const MAX_LABEL_BYTES: u64 = 32;
/// Longest provider endpoint, in bytes.
pub const MAX_ENDPOINT_BYTES: u64 = 128;
/// Most hyperparameters a model declares, and a job sets.
pub const MAX_PARAMS: u64 = 16;
/// Most metrics in a result's scorecard.
pub const MAX_METRICS: u64 = 16;

/// A job's id: SHA-256 of a domain tag, the consumer's address and the posting transaction's
/// nonce (see `aic-ledger`), so the consumer knows it before the job is mined.
pub type JobId = Hash256;

/// A content id: the BLAKE3 hash of a model package, a dataset manifest or a result.
pub type ContentId = Hash256;

/// A kind of compute device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeviceClass {
    /// General-purpose CPU.
    Cpu,
    /// GPU.
    Gpu,
    /// FPGA.
    Fpga,
    /// ASIC (mining only: it cannot run AI jobs, but it can be registered and mine).
    Asic,
}

impl DeviceClass {
    /// Every class, in tag order.
    pub const ALL: [DeviceClass; 4] = [
        DeviceClass::Cpu,
        DeviceClass::Gpu,
        DeviceClass::Fpga,
        DeviceClass::Asic,
    ];

    /// The class's lowercase name.
    pub fn name(self) -> &'static str {
        match self {
            DeviceClass::Cpu => "cpu",
            DeviceClass::Gpu => "gpu",
            DeviceClass::Fpga => "fpga",
            DeviceClass::Asic => "asic",
        }
    }
}

/// What kind of work a job asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// Train a model from its initial weights.
    Train,
    /// Continue training from the package's weights.
    FineTune,
    /// Evaluate the package on the dataset.
    Evaluate,
    /// Run inference over the dataset.
    Infer,
}

impl JobKind {
    /// Every kind, in tag order.
    pub const ALL: [JobKind; 4] = [
        JobKind::Train,
        JobKind::FineTune,
        JobKind::Evaluate,
        JobKind::Infer,
    ];

    /// The kind's name.
    pub fn name(self) -> &'static str {
        match self {
            JobKind::Train => "train",
            JobKind::FineTune => "fine-tune",
            JobKind::Evaluate => "evaluate",
            JobKind::Infer => "infer",
        }
    }
}

/// The on-chain summary of a provider's devices (the full descriptors are hashed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeviceSummary {
    /// The best class among the devices.
    pub class: DeviceClass,
    /// Number of devices.
    pub count: u16,
    /// Memory of the largest device, in MiB.
    pub memory_mib: u32,
    /// Measured throughput of the fastest device, in GFLOP/s.
    pub gflops: u32,
}

/// A provider's registration: its stake, its devices and where to reach it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderRegistration {
    /// Stake moved from the balance; at least the network's minimum.
    pub stake: Amount,
    /// SHA-256 of the devices' standard descriptors (JSON, as `aic worker devices --json`).
    pub devices: Hash256,
    /// Summary of the devices.
    pub summary: DeviceSummary,
    /// Endpoint for direct data transfer, e.g. `http://203.0.113.5:7460` (may be empty).
    pub endpoint: String,
}

/// One hyperparameter of a model's schema, in fixed point ([`FIXED_POINT_SCALE`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamSpec {
    /// Name, as in the package's manifest.
    pub name: String,
    /// Smallest allowed value.
    pub min: i64,
    /// Largest allowed value.
    pub max: i64,
    /// Whether the value must be a whole number (a multiple of the scale).
    pub integer: bool,
}

/// A model package published by its content id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelPublication {
    /// BLAKE3 of the package.
    pub id: ContentId,
    /// Task label, e.g. `keyword-spotting`.
    pub task: String,
    /// Royalty to the owner on every job using the model, in basis points of the job's price.
    pub royalty_bps: u16,
    /// The hyperparameters a job may set.
    pub params: Vec<ParamSpec>,
}

/// A digitized dataset published by its content id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DatasetPublication {
    /// BLAKE3 of the dataset's manifest.
    pub id: ContentId,
    /// Task label; jobs pair it with models of the same task.
    pub task: String,
    /// Royalty to the owner on every job using the dataset, in basis points of the price.
    pub royalty_bps: u16,
    /// Size of the shards, in bytes (for providers to judge the transfer).
    pub bytes: u64,
}

/// How a job's result is verified.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerificationPolicy {
    /// Verifiers drawn in the first round (zero: the consumer trusts the provider).
    pub verifiers: u8,
    /// Checkpoint segments each verifier replays.
    pub segments: u8,
    /// Blocks after the result during which verdicts are accepted.
    pub challenge_blocks: u32,
    /// Fee paid to each verifier whose verdict stands.
    pub verifier_fee: Amount,
}

/// A job as the consumer posts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSpec {
    /// What to do.
    pub kind: JobKind,
    /// The model package.
    pub model: ContentId,
    /// The dataset.
    pub dataset: ContentId,
    /// Hyperparameters set by the job, checked against the model's schema.
    pub params: Vec<(String, i64)>,
    /// Device class required.
    pub device_class: DeviceClass,
    /// Device memory required, in MiB.
    pub min_memory_mib: u32,
    /// Escrowed from the consumer's balance: pays the price, royalties and verifier fees.
    pub budget: Amount,
    /// Highest price the consumer accepts.
    pub max_price: Amount,
    /// Blocks during which bids are accepted.
    pub bid_blocks: u32,
    /// Blocks after the award by which the result must be posted.
    pub deadline_blocks: u32,
    /// Verification of the result.
    pub policy: VerificationPolicy,
    /// Service tier: higher tiers admit only providers with more stake and reputation.
    pub tier: u8,
}

/// A provider's result: what it computed and the commitment to how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultCommit {
    /// The job.
    pub job: JobId,
    /// BLAKE3 of the result (the trained weights, or the evaluation's output).
    pub result: ContentId,
    /// Merkle root of the checkpoint hashes (the training transcript).
    pub transcript_root: Hash256,
    /// Number of checkpoint segments the transcript covers.
    pub segments: u32,
    /// The scorecard, in fixed point.
    pub metrics: Vec<(String, i64)>,
}

/// A market action carried by a signed transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarketAction {
    /// Register as a provider with a stake.
    RegisterProvider(ProviderRegistration),
    /// Add to the stake.
    TopUpStake {
        /// Moved from the balance to the stake.
        amount: Amount,
    },
    /// Start unbonding part of the stake.
    Unstake {
        /// Moved from the stake to unbonding.
        amount: Amount,
    },
    /// Move unbonded stake back to the balance once the unbonding period is over.
    WithdrawStake,
    /// Publish a model package.
    PublishModel(ModelPublication),
    /// Publish a dataset.
    PublishDataset(DatasetPublication),
    /// Post a job and escrow its budget.
    PostJob(JobSpec),
    /// Cancel an open job (no award yet); the escrow comes back.
    CancelJob {
        /// The job.
        job: JobId,
    },
    /// Offer to do a job at a price.
    Bid {
        /// The job.
        job: JobId,
        /// The whole price of the work.
        price: Amount,
    },
    /// Post the result of an awarded job.
    SubmitResult(ResultCommit),
    /// A drawn verifier's verdict on a result.
    Verdict {
        /// The job.
        job: JobId,
        /// Whether every replayed segment matched.
        pass: bool,
        /// SHA-256 of the verifier's replay report (the segments and hashes it computed).
        evidence: Hash256,
    },
}

impl MarketAction {
    /// The action's name, as the API shows it.
    pub fn name(&self) -> &'static str {
        match self {
            MarketAction::RegisterProvider(_) => "register-provider",
            MarketAction::TopUpStake { .. } => "top-up-stake",
            MarketAction::Unstake { .. } => "unstake",
            MarketAction::WithdrawStake => "withdraw-stake",
            MarketAction::PublishModel(_) => "publish-model",
            MarketAction::PublishDataset(_) => "publish-dataset",
            MarketAction::PostJob(_) => "post-job",
            MarketAction::CancelJob { .. } => "cancel-job",
            MarketAction::Bid { .. } => "bid",
            MarketAction::SubmitResult(_) => "submit-result",
            MarketAction::Verdict { .. } => "verdict",
        }
    }

    /// The job this action is about, if any.
    pub fn job(&self) -> Option<JobId> {
        match self {
            MarketAction::CancelJob { job }
            | MarketAction::Bid { job, .. }
            | MarketAction::Verdict { job, .. } => Some(*job),
            MarketAction::SubmitResult(r) => Some(r.job),
            _ => None,
        }
    }

    /// The value this action moves out of the sender's balance, besides the fee.
    pub fn spend(&self) -> Amount {
        match self {
            MarketAction::RegisterProvider(r) => r.stake,
            MarketAction::TopUpStake { amount } => *amount,
            MarketAction::PostJob(spec) => spec.budget,
            _ => Amount::ZERO,
        }
    }
}

// --- canonical encoding ----------------------------------------------------------------------

const T_REGISTER: u8 = 0;
const T_TOP_UP: u8 = 1;
const T_UNSTAKE: u8 = 2;
const T_WITHDRAW: u8 = 3;
const T_MODEL: u8 = 4;
const T_DATASET: u8 = 5;
const T_POST: u8 = 6;
const T_CANCEL: u8 = 7;
const T_BID: u8 = 8;
const T_RESULT: u8 = 9;
const T_VERDICT: u8 = 10;

/// Writes a string as a CompactSize length and its bytes.
pub fn encode_str(s: &str, out: &mut Vec<u8>) {
    CompactSize(s.len() as u64).encode_to(out);
    out.extend_from_slice(s.as_bytes());
}

/// Reads a UTF-8 string of at most `max` bytes.
pub fn decode_str(r: &mut Reader<'_>, what: &'static str, max: u64) -> Result<String, DecodeError> {
    let n = r.read_count(what, max, 1)?;
    let bytes = r.read_slice(n)?;
    String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::InvalidUtf8 { what })
}

fn amount(r: &mut Reader<'_>) -> Result<Amount, DecodeError> {
    Ok(Amount::from_units(r.read_u64()?))
}

fn put_amount(a: Amount, out: &mut Vec<u8>) {
    out.extend_from_slice(&a.to_units().to_le_bytes());
}

fn hash(r: &mut Reader<'_>) -> Result<Hash256, DecodeError> {
    Ok(Hash256(r.read_array()?))
}

fn bool_(r: &mut Reader<'_>, what: &'static str) -> Result<bool, DecodeError> {
    match r.read_u8()? {
        0 => Ok(false),
        1 => Ok(true),
        tag => Err(DecodeError::UnknownTag { what, tag }),
    }
}

fn i64_(r: &mut Reader<'_>) -> Result<i64, DecodeError> {
    Ok(r.read_u64()? as i64)
}

/// Encodes named fixed-point values (job parameters, metrics).
pub fn encode_named_values(values: &[(String, i64)], out: &mut Vec<u8>) {
    CompactSize(values.len() as u64).encode_to(out);
    for (name, v) in values {
        encode_str(name, out);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Decodes at most `max` named fixed-point values.
pub fn decode_named_values(
    r: &mut Reader<'_>,
    what: &'static str,
    max: u64,
) -> Result<Vec<(String, i64)>, DecodeError> {
    let n = r.read_count(what, max, 9)?;
    (0..n)
        .map(|_| Ok((decode_str(r, what, MAX_LABEL_BYTES)?, i64_(r)?)))
        .collect()
}

impl Encode for DeviceClass {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(*self as u8);
    }
}

impl Decode for DeviceClass {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let tag = r.read_u8()?;
        DeviceClass::ALL
            .get(tag as usize)
            .copied()
            .ok_or(DecodeError::UnknownTag {
                what: "device class",
                tag,
            })
    }
}

impl Encode for JobKind {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(*self as u8);
    }
}

impl Decode for JobKind {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let tag = r.read_u8()?;
        JobKind::ALL
            .get(tag as usize)
            .copied()
            .ok_or(DecodeError::UnknownTag {
                what: "job kind",
                tag,
            })
    }
}

impl Encode for DeviceSummary {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.class.encode_to(out);
        out.extend_from_slice(&self.count.to_le_bytes());
        out.extend_from_slice(&self.memory_mib.to_le_bytes());
        out.extend_from_slice(&self.gflops.to_le_bytes());
    }
}

impl Decode for DeviceSummary {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(DeviceSummary {
            class: DeviceClass::decode_from(r)?,
            count: r.read_u16()?,
            memory_mib: r.read_u32()?,
            gflops: r.read_u32()?,
        })
    }
}

impl Encode for VerificationPolicy {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.verifiers);
        out.push(self.segments);
        out.extend_from_slice(&self.challenge_blocks.to_le_bytes());
        put_amount(self.verifier_fee, out);
    }
}

impl Decode for VerificationPolicy {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(VerificationPolicy {
            verifiers: r.read_u8()?,
            segments: r.read_u8()?,
            challenge_blocks: r.read_u32()?,
            verifier_fee: amount(r)?,
        })
    }
}

impl Encode for JobSpec {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.kind.encode_to(out);
        out.extend_from_slice(&self.model.0);
        out.extend_from_slice(&self.dataset.0);
        encode_named_values(&self.params, out);
        self.device_class.encode_to(out);
        out.extend_from_slice(&self.min_memory_mib.to_le_bytes());
        put_amount(self.budget, out);
        put_amount(self.max_price, out);
        out.extend_from_slice(&self.bid_blocks.to_le_bytes());
        out.extend_from_slice(&self.deadline_blocks.to_le_bytes());
        self.policy.encode_to(out);
        out.push(self.tier);
    }
}

impl Decode for JobSpec {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(JobSpec {
            kind: JobKind::decode_from(r)?,
            model: hash(r)?,
            dataset: hash(r)?,
            params: decode_named_values(r, "job parameters", MAX_PARAMS)?,
            device_class: DeviceClass::decode_from(r)?,
            min_memory_mib: r.read_u32()?,
            budget: amount(r)?,
            max_price: amount(r)?,
            bid_blocks: r.read_u32()?,
            deadline_blocks: r.read_u32()?,
            policy: VerificationPolicy::decode_from(r)?,
            tier: r.read_u8()?,
        })
    }
}

impl Encode for ResultCommit {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.job.0);
        out.extend_from_slice(&self.result.0);
        out.extend_from_slice(&self.transcript_root.0);
        out.extend_from_slice(&self.segments.to_le_bytes());
        encode_named_values(&self.metrics, out);
    }
}

impl Decode for ResultCommit {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(ResultCommit {
            job: hash(r)?,
            result: hash(r)?,
            transcript_root: hash(r)?,
            segments: r.read_u32()?,
            metrics: decode_named_values(r, "metrics", MAX_METRICS)?,
        })
    }
}

impl Encode for MarketAction {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            MarketAction::RegisterProvider(reg) => {
                out.push(T_REGISTER);
                put_amount(reg.stake, out);
                out.extend_from_slice(&reg.devices.0);
                reg.summary.encode_to(out);
                encode_str(&reg.endpoint, out);
            }
            MarketAction::TopUpStake { amount } => {
                out.push(T_TOP_UP);
                put_amount(*amount, out);
            }
            MarketAction::Unstake { amount } => {
                out.push(T_UNSTAKE);
                put_amount(*amount, out);
            }
            MarketAction::WithdrawStake => out.push(T_WITHDRAW),
            MarketAction::PublishModel(m) => {
                out.push(T_MODEL);
                out.extend_from_slice(&m.id.0);
                encode_str(&m.task, out);
                out.extend_from_slice(&m.royalty_bps.to_le_bytes());
                CompactSize(m.params.len() as u64).encode_to(out);
                for p in &m.params {
                    encode_str(&p.name, out);
                    out.extend_from_slice(&p.min.to_le_bytes());
                    out.extend_from_slice(&p.max.to_le_bytes());
                    out.push(p.integer as u8);
                }
            }
            MarketAction::PublishDataset(d) => {
                out.push(T_DATASET);
                out.extend_from_slice(&d.id.0);
                encode_str(&d.task, out);
                out.extend_from_slice(&d.royalty_bps.to_le_bytes());
                out.extend_from_slice(&d.bytes.to_le_bytes());
            }
            MarketAction::PostJob(spec) => {
                out.push(T_POST);
                spec.encode_to(out);
            }
            MarketAction::CancelJob { job } => {
                out.push(T_CANCEL);
                out.extend_from_slice(&job.0);
            }
            MarketAction::Bid { job, price } => {
                out.push(T_BID);
                out.extend_from_slice(&job.0);
                put_amount(*price, out);
            }
            MarketAction::SubmitResult(res) => {
                out.push(T_RESULT);
                res.encode_to(out);
            }
            MarketAction::Verdict {
                job,
                pass,
                evidence,
            } => {
                out.push(T_VERDICT);
                out.extend_from_slice(&job.0);
                out.push(*pass as u8);
                out.extend_from_slice(&evidence.0);
            }
        }
    }
}

impl Decode for MarketAction {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.read_u8()? {
            T_REGISTER => MarketAction::RegisterProvider(ProviderRegistration {
                stake: amount(r)?,
                devices: hash(r)?,
                summary: DeviceSummary::decode_from(r)?,
                endpoint: decode_str(r, "endpoint", MAX_ENDPOINT_BYTES)?,
            }),
            T_TOP_UP => MarketAction::TopUpStake { amount: amount(r)? },
            T_UNSTAKE => MarketAction::Unstake { amount: amount(r)? },
            T_WITHDRAW => MarketAction::WithdrawStake,
            T_MODEL => {
                let id = hash(r)?;
                let task = decode_str(r, "task", MAX_LABEL_BYTES)?;
                let royalty_bps = r.read_u16()?;
                let n = r.read_count("model parameters", MAX_PARAMS, 18)?;
                let params = (0..n)
                    .map(|_| {
                        Ok(ParamSpec {
                            name: decode_str(r, "parameter name", MAX_LABEL_BYTES)?,
                            min: i64_(r)?,
                            max: i64_(r)?,
                            integer: bool_(r, "integer flag")?,
                        })
                    })
                    .collect::<Result<_, DecodeError>>()?;
                MarketAction::PublishModel(ModelPublication {
                    id,
                    task,
                    royalty_bps,
                    params,
                })
            }
            T_DATASET => MarketAction::PublishDataset(DatasetPublication {
                id: hash(r)?,
                task: decode_str(r, "task", MAX_LABEL_BYTES)?,
                royalty_bps: r.read_u16()?,
                bytes: r.read_u64()?,
            }),
            T_POST => MarketAction::PostJob(JobSpec::decode_from(r)?),
            T_CANCEL => MarketAction::CancelJob { job: hash(r)? },
            T_BID => MarketAction::Bid {
                job: hash(r)?,
                price: amount(r)?,
            },
            T_RESULT => MarketAction::SubmitResult(ResultCommit::decode_from(r)?),
            T_VERDICT => MarketAction::Verdict {
                job: hash(r)?,
                pass: bool_(r, "verdict")?,
                evidence: hash(r)?,
            },
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "market action",
                    tag,
                })
            }
        })
    }
}
