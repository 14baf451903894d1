//! The market's records in the state: providers, models, datasets and jobs.

use aic_primitives::{
    decode_str, encode_str, Address, Amount, CompactSize, Decode, DecodeError, DeviceSummary,
    Encode, Hash256, Height, JobSpec, ParamSpec, Reader, ResultCommit, MAX_ENDPOINT_BYTES,
    MAX_LABEL_BYTES, MAX_PARAMS,
};

/// A provider's track record. The counts are consensus state; [`Reputation::score`] is the
/// single number tiers and award ties use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reputation {
    /// Jobs settled with the provider paid.
    pub completed: u32,
    /// Results that failed verification (the provider was slashed).
    pub failed: u32,
    /// Awarded jobs whose deadline passed without a result.
    pub missed: u32,
    /// Verdicts that stood.
    pub verdicts: u32,
    /// Verdicts the majority overturned (the verifier was slashed).
    pub overturned: u32,
    /// Draws as a verifier without a verdict.
    pub silent: u32,
}

impl Reputation {
    /// Score a new provider starts with.
    pub const BASE: i64 = 100;

    /// `100 + 10 completed + 2 verdicts - 100 failed - 25 missed - 50 overturned - 5 silent`,
    /// at least zero.
    pub fn score(&self) -> u64 {
        let s = Self::BASE + 10 * i64::from(self.completed) + 2 * i64::from(self.verdicts)
            - 100 * i64::from(self.failed)
            - 25 * i64::from(self.missed)
            - 50 * i64::from(self.overturned)
            - 5 * i64::from(self.silent);
        s.max(0) as u64
    }
}

/// A registered provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    /// Stake at risk.
    pub stake: Amount,
    /// Stake on its way back to the balance.
    pub unbonding: Amount,
    /// First height at which `unbonding` may be withdrawn.
    pub release: Height,
    /// SHA-256 of the devices' standard descriptors.
    pub devices: Hash256,
    /// Summary of the devices.
    pub summary: DeviceSummary,
    /// Endpoint for direct data transfer.
    pub endpoint: String,
    /// Height of registration.
    pub registered: Height,
    /// Jobs the provider works on or verifies now; its stake is locked while this is not zero.
    pub active: u32,
    /// Track record.
    pub reputation: Reputation,
}

/// A published model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Model {
    /// Who receives the royalty.
    pub owner: Address,
    /// Task label.
    pub task: String,
    /// Royalty in basis points of a job's price.
    pub royalty_bps: u16,
    /// Hyperparameter schema.
    pub params: Vec<ParamSpec>,
    /// Height of publication.
    pub published: Height,
    /// Jobs settled with this model.
    pub jobs: u32,
}

/// A published dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// Who receives the royalty.
    pub owner: Address,
    /// Task label.
    pub task: String,
    /// Royalty in basis points of a job's price.
    pub royalty_bps: u16,
    /// Size of the shards in bytes.
    pub bytes: u64,
    /// Height of publication.
    pub published: Height,
    /// Jobs settled with this dataset.
    pub jobs: u32,
}

/// Where a job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    /// Taking bids until `window_end`.
    Open,
    /// Awarded; the result is due by the deadline.
    Awarded,
    /// The result is posted; verdicts are taken until the challenge window ends.
    Verifying,
    /// Final: the provider was paid.
    Settled,
    /// Final: cancelled by the consumer before an award; refunded.
    Cancelled,
    /// Final: no eligible bid in two windows; refunded.
    NoBids,
    /// Final: the awarded provider missed the deadline; refunded.
    Expired,
    /// Final: results failed verification as often as the network allows; refunded.
    Failed,
}

impl JobStatus {
    const ALL: [JobStatus; 8] = [
        JobStatus::Open,
        JobStatus::Awarded,
        JobStatus::Verifying,
        JobStatus::Settled,
        JobStatus::Cancelled,
        JobStatus::NoBids,
        JobStatus::Expired,
        JobStatus::Failed,
    ];

    /// The status's name.
    pub fn name(self) -> &'static str {
        match self {
            JobStatus::Open => "open",
            JobStatus::Awarded => "awarded",
            JobStatus::Verifying => "verifying",
            JobStatus::Settled => "settled",
            JobStatus::Cancelled => "cancelled",
            JobStatus::NoBids => "no-bids",
            JobStatus::Expired => "expired",
            JobStatus::Failed => "failed",
        }
    }

    /// True for the states a job never leaves.
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            JobStatus::Open | JobStatus::Awarded | JobStatus::Verifying
        )
    }
}

/// A provider's offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bid {
    /// The provider.
    pub provider: Address,
    /// Whole price of the work.
    pub price: Amount,
    /// Height of the bid.
    pub height: Height,
}

/// The award of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Award {
    /// The provider.
    pub provider: Address,
    /// The price it bid.
    pub price: Amount,
    /// Last height for the result.
    pub deadline: Height,
}

/// One verifier's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerdictEntry {
    /// The verifier.
    pub verifier: Address,
    /// Whether the replayed segments matched.
    pub pass: bool,
    /// SHA-256 of the verifier's replay report.
    pub evidence: Hash256,
    /// Round it was given in.
    pub round: u8,
}

/// The verification of a posted result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    /// 0 for the first draw, 1 after an escalation.
    pub round: u8,
    /// Verifiers drawn in the current round.
    pub verifiers: Vec<Address>,
    /// Verifiers of earlier rounds (not drawn again).
    pub earlier: Vec<Address>,
    /// Checkpoint segments to replay, ascending.
    pub segments: Vec<u32>,
    /// Last height for verdicts of the current round.
    pub challenge_end: Height,
    /// Verdicts given, in order.
    pub verdicts: Vec<VerdictEntry>,
}

/// Why value left a job's escrow or a stake (the job's statement of account).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentKind {
    /// The price, to the provider.
    Price,
    /// Royalty to the model's owner.
    ModelRoyalty,
    /// Royalty to the dataset's owner.
    DatasetRoyalty,
    /// Fee to a verifier whose verdict stood.
    VerifierFee,
    /// Escrow returned to the consumer.
    Refund,
    /// A cheating provider's slashed stake, to the consumer.
    SlashToConsumer,
    /// A cheating provider's slashed stake, to a verifier who caught it.
    SlashToVerifier,
    /// An overturned verifier's slashed stake, to the wronged party.
    VerifierSlash,
}

impl PaymentKind {
    const ALL: [PaymentKind; 8] = [
        PaymentKind::Price,
        PaymentKind::ModelRoyalty,
        PaymentKind::DatasetRoyalty,
        PaymentKind::VerifierFee,
        PaymentKind::Refund,
        PaymentKind::SlashToConsumer,
        PaymentKind::SlashToVerifier,
        PaymentKind::VerifierSlash,
    ];

    /// The kind's name.
    pub fn name(self) -> &'static str {
        match self {
            PaymentKind::Price => "price",
            PaymentKind::ModelRoyalty => "model-royalty",
            PaymentKind::DatasetRoyalty => "dataset-royalty",
            PaymentKind::VerifierFee => "verifier-fee",
            PaymentKind::Refund => "refund",
            PaymentKind::SlashToConsumer => "slash-to-consumer",
            PaymentKind::SlashToVerifier => "slash-to-verifier",
            PaymentKind::VerifierSlash => "verifier-slash",
        }
    }
}

/// One movement of value caused by a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payment {
    /// Who was paid.
    pub to: Address,
    /// Who paid: `None` for the job's escrow, else the slashed account.
    pub from: Option<Address>,
    /// How much.
    pub amount: Amount,
    /// Why.
    pub kind: PaymentKind,
    /// When.
    pub height: Height,
}

/// A job in the state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// Who posted it and pays.
    pub consumer: Address,
    /// What was asked.
    pub spec: JobSpec,
    /// Height of posting.
    pub posted: Height,
    /// Where it stands.
    pub status: JobStatus,
    /// Value still held.
    pub escrow: Amount,
    /// Last height of the current bid window.
    pub window_end: Height,
    /// Whether the bid window was extended because nobody bid.
    pub extended: bool,
    /// Times it reopened after a failed result.
    pub reopens: u8,
    /// Bids of the current window, in order.
    pub bids: Vec<Bid>,
    /// Providers whose results failed; they may not bid again.
    pub excluded: Vec<Address>,
    /// The current award.
    pub award: Option<Award>,
    /// The current result.
    pub result: Option<ResultCommit>,
    /// The current verification.
    pub verification: Option<Verification>,
    /// Every movement of value the job caused.
    pub payments: Vec<Payment>,
}

// --- encoding --------------------------------------------------------------------------------

fn amount(r: &mut Reader<'_>) -> Result<Amount, DecodeError> {
    Ok(Amount::from_units(r.read_u64()?))
}
fn put_amount(a: Amount, out: &mut Vec<u8>) {
    out.extend_from_slice(&a.to_units().to_le_bytes());
}
fn height(r: &mut Reader<'_>) -> Result<Height, DecodeError> {
    Ok(Height(r.read_u64()?))
}
fn put_height(h: Height, out: &mut Vec<u8>) {
    out.extend_from_slice(&h.0.to_le_bytes());
}
fn hash(r: &mut Reader<'_>) -> Result<Hash256, DecodeError> {
    Ok(Hash256(r.read_array()?))
}
fn flag(r: &mut Reader<'_>, what: &'static str) -> Result<bool, DecodeError> {
    match r.read_u8()? {
        0 => Ok(false),
        1 => Ok(true),
        tag => Err(DecodeError::UnknownTag { what, tag }),
    }
}
fn addresses(r: &mut Reader<'_>, what: &'static str) -> Result<Vec<Address>, DecodeError> {
    let n = r.read_count(what, u16::MAX.into(), 20)?;
    (0..n).map(|_| Address::decode_from(r)).collect()
}
fn put_addresses(list: &[Address], out: &mut Vec<u8>) {
    CompactSize(list.len() as u64).encode_to(out);
    for a in list {
        a.encode_to(out);
    }
}

impl Encode for Reputation {
    fn encode_to(&self, out: &mut Vec<u8>) {
        for v in [
            self.completed,
            self.failed,
            self.missed,
            self.verdicts,
            self.overturned,
            self.silent,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

impl Decode for Reputation {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Reputation {
            completed: r.read_u32()?,
            failed: r.read_u32()?,
            missed: r.read_u32()?,
            verdicts: r.read_u32()?,
            overturned: r.read_u32()?,
            silent: r.read_u32()?,
        })
    }
}

impl Encode for Provider {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_amount(self.stake, out);
        put_amount(self.unbonding, out);
        put_height(self.release, out);
        out.extend_from_slice(&self.devices.0);
        self.summary.encode_to(out);
        encode_str(&self.endpoint, out);
        put_height(self.registered, out);
        out.extend_from_slice(&self.active.to_le_bytes());
        self.reputation.encode_to(out);
    }
}

impl Decode for Provider {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Provider {
            stake: amount(r)?,
            unbonding: amount(r)?,
            release: height(r)?,
            devices: hash(r)?,
            summary: DeviceSummary::decode_from(r)?,
            endpoint: decode_str(r, "endpoint", MAX_ENDPOINT_BYTES)?,
            registered: height(r)?,
            active: r.read_u32()?,
            reputation: Reputation::decode_from(r)?,
        })
    }
}

impl Encode for Model {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.owner.encode_to(out);
        encode_str(&self.task, out);
        out.extend_from_slice(&self.royalty_bps.to_le_bytes());
        CompactSize(self.params.len() as u64).encode_to(out);
        for p in &self.params {
            encode_str(&p.name, out);
            out.extend_from_slice(&p.min.to_le_bytes());
            out.extend_from_slice(&p.max.to_le_bytes());
            out.push(p.integer as u8);
        }
        put_height(self.published, out);
        out.extend_from_slice(&self.jobs.to_le_bytes());
    }
}

impl Decode for Model {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let owner = Address::decode_from(r)?;
        let task = decode_str(r, "task", MAX_LABEL_BYTES)?;
        let royalty_bps = r.read_u16()?;
        let n = r.read_count("model parameters", MAX_PARAMS, 18)?;
        let params = (0..n)
            .map(|_| {
                Ok(ParamSpec {
                    name: decode_str(r, "parameter name", MAX_LABEL_BYTES)?,
                    min: r.read_u64()? as i64,
                    max: r.read_u64()? as i64,
                    integer: flag(r, "integer flag")?,
                })
            })
            .collect::<Result<_, DecodeError>>()?;
        Ok(Model {
            owner,
            task,
            royalty_bps,
            params,
            published: height(r)?,
            jobs: r.read_u32()?,
        })
    }
}

impl Encode for Dataset {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.owner.encode_to(out);
        encode_str(&self.task, out);
        out.extend_from_slice(&self.royalty_bps.to_le_bytes());
        out.extend_from_slice(&self.bytes.to_le_bytes());
        put_height(self.published, out);
        out.extend_from_slice(&self.jobs.to_le_bytes());
    }
}

impl Decode for Dataset {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Dataset {
            owner: Address::decode_from(r)?,
            task: decode_str(r, "task", MAX_LABEL_BYTES)?,
            royalty_bps: r.read_u16()?,
            bytes: r.read_u64()?,
            published: height(r)?,
            jobs: r.read_u32()?,
        })
    }
}

impl Encode for Job {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.consumer.encode_to(out);
        self.spec.encode_to(out);
        put_height(self.posted, out);
        out.push(
            JobStatus::ALL
                .iter()
                .position(|s| *s == self.status)
                .unwrap_or(0) as u8,
        );
        put_amount(self.escrow, out);
        put_height(self.window_end, out);
        out.push(self.extended as u8);
        out.push(self.reopens);
        CompactSize(self.bids.len() as u64).encode_to(out);
        for b in &self.bids {
            b.provider.encode_to(out);
            put_amount(b.price, out);
            put_height(b.height, out);
        }
        put_addresses(&self.excluded, out);
        match &self.award {
            None => out.push(0),
            Some(a) => {
                out.push(1);
                a.provider.encode_to(out);
                put_amount(a.price, out);
                put_height(a.deadline, out);
            }
        }
        match &self.result {
            None => out.push(0),
            Some(res) => {
                out.push(1);
                res.encode_to(out);
            }
        }
        match &self.verification {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                out.push(v.round);
                put_addresses(&v.verifiers, out);
                put_addresses(&v.earlier, out);
                CompactSize(v.segments.len() as u64).encode_to(out);
                for s in &v.segments {
                    out.extend_from_slice(&s.to_le_bytes());
                }
                put_height(v.challenge_end, out);
                CompactSize(v.verdicts.len() as u64).encode_to(out);
                for e in &v.verdicts {
                    e.verifier.encode_to(out);
                    out.push(e.pass as u8);
                    out.extend_from_slice(&e.evidence.0);
                    out.push(e.round);
                }
            }
        }
        CompactSize(self.payments.len() as u64).encode_to(out);
        for p in &self.payments {
            p.to.encode_to(out);
            match &p.from {
                None => out.push(0),
                Some(a) => {
                    out.push(1);
                    a.encode_to(out);
                }
            }
            put_amount(p.amount, out);
            out.push(
                PaymentKind::ALL
                    .iter()
                    .position(|k| *k == p.kind)
                    .unwrap_or(0) as u8,
            );
            put_height(p.height, out);
        }
    }
}

fn status(r: &mut Reader<'_>) -> Result<JobStatus, DecodeError> {
    let tag = r.read_u8()?;
    JobStatus::ALL
        .get(tag as usize)
        .copied()
        .ok_or(DecodeError::UnknownTag {
            what: "job status",
            tag,
        })
}

fn optional<T>(
    r: &mut Reader<'_>,
    what: &'static str,
    f: impl FnOnce(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<Option<T>, DecodeError> {
    if flag(r, what)? {
        f(r).map(Some)
    } else {
        Ok(None)
    }
}

fn verification(r: &mut Reader<'_>) -> Result<Verification, DecodeError> {
    let round = r.read_u8()?;
    let verifiers = addresses(r, "verifiers")?;
    let earlier = addresses(r, "earlier verifiers")?;
    let n = r.read_count("segments", u16::MAX.into(), 4)?;
    let segments = (0..n).map(|_| r.read_u32()).collect::<Result<_, _>>()?;
    let challenge_end = height(r)?;
    let n = r.read_count("verdicts", u16::MAX.into(), 54)?;
    let verdicts = (0..n)
        .map(|_| {
            Ok(VerdictEntry {
                verifier: Address::decode_from(r)?,
                pass: flag(r, "verdict")?,
                evidence: hash(r)?,
                round: r.read_u8()?,
            })
        })
        .collect::<Result<_, DecodeError>>()?;
    Ok(Verification {
        round,
        verifiers,
        earlier,
        segments,
        challenge_end,
        verdicts,
    })
}

impl Decode for Job {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let consumer = Address::decode_from(r)?;
        let spec = JobSpec::decode_from(r)?;
        let posted = height(r)?;
        let status = status(r)?;
        let escrow = amount(r)?;
        let window_end = height(r)?;
        let extended = flag(r, "extended flag")?;
        let reopens = r.read_u8()?;
        let n = r.read_count("bids", u16::MAX.into(), 36)?;
        let bids = (0..n)
            .map(|_| {
                Ok(Bid {
                    provider: Address::decode_from(r)?,
                    price: amount(r)?,
                    height: height(r)?,
                })
            })
            .collect::<Result<_, DecodeError>>()?;
        let excluded = addresses(r, "excluded providers")?;
        let award = optional(r, "award flag", |r| {
            Ok(Award {
                provider: Address::decode_from(r)?,
                price: amount(r)?,
                deadline: height(r)?,
            })
        })?;
        let result = optional(r, "result flag", ResultCommit::decode_from)?;
        let verification = optional(r, "verification flag", verification)?;
        let n = r.read_count("payments", u32::MAX.into(), 38)?;
        let payments =
            (0..n)
                .map(|_| {
                    let to = Address::decode_from(r)?;
                    let from = optional(r, "payer flag", Address::decode_from)?;
                    let amount = amount(r)?;
                    let tag = r.read_u8()?;
                    let kind = PaymentKind::ALL.get(tag as usize).copied().ok_or(
                        DecodeError::UnknownTag {
                            what: "payment kind",
                            tag,
                        },
                    )?;
                    Ok(Payment {
                        to,
                        from,
                        amount,
                        kind,
                        height: height(r)?,
                    })
                })
                .collect::<Result<_, DecodeError>>()?;
        Ok(Job {
            consumer,
            spec,
            posted,
            status,
            escrow,
            window_end,
            extended,
            reopens,
            bids,
            excluded,
            award,
            result,
            verification,
            payments,
        })
    }
}
