//! Results, the draw of their verifiers, and verdicts.

use aic_consensus::{MarketError, TxError};
use aic_primitives::{Address, Hash256, Height, JobId, MarketParams, ResultCommit};

use super::draw::{draw_indices, job_seed};
use super::jobs::check_eligible;
use super::records::{Job, JobStatus, VerdictEntry, Verification};
use super::{check_label, check_unique};
use crate::overlay::{market, BlockContext, Overlay};

fn wrong_state(expected: JobStatus, got: JobStatus) -> TxError {
    market(MarketError::WrongJobState {
        expected: expected.name(),
        got: got.name(),
    })
}

impl Overlay<'_> {
    pub(crate) fn submit_result(
        &mut self,
        params: &MarketParams,
        ctx: BlockContext,
        sender: Address,
        res: &ResultCommit,
    ) -> Result<(), TxError> {
        let mut job = self.job(&res.job).ok_or(market(MarketError::UnknownJob))?;
        if job.status != JobStatus::Awarded {
            return Err(wrong_state(JobStatus::Awarded, job.status));
        }
        if job.award.map(|a| a.provider) != Some(sender) {
            return Err(market(MarketError::NotAwardedProvider));
        }
        if res.segments == 0 {
            return Err(market(MarketError::ZeroSegments));
        }
        for (name, _) in &res.metrics {
            check_label("metric", name).map_err(market)?;
        }
        check_unique("metric", res.metrics.iter().map(|(n, _)| n.as_str())).map_err(market)?;
        job.result = Some(res.clone());
        job.status = JobStatus::Verifying;
        let count = usize::from(job.spec.policy.verifiers);
        self.start_round(params, ctx, &res.job, &mut job, 0, count, Vec::new());
        self.put_job(res.job, job);
        Ok(())
    }

    /// Draws `count` verifiers for `round` among the eligible providers who are neither the
    /// job's provider nor its consumer nor earlier verifiers, and the segments they replay;
    /// locks their stakes. Returns how many were drawn.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn start_round(
        &mut self,
        params: &MarketParams,
        ctx: BlockContext,
        id: &JobId,
        job: &mut Job,
        round: u8,
        count: usize,
        earlier: Vec<Address>,
    ) -> usize {
        let provider = job.award.map(|a| a.provider);
        let candidates: Vec<Address> = self
            .provider_addresses()
            .into_iter()
            .filter(|a| Some(*a) != provider && *a != job.consumer && !earlier.contains(a))
            .filter(|a| {
                self.provider(a).is_some_and(|p| {
                    p.stake >= params.min_provider_stake
                        && check_eligible(params, &job.spec, &p).is_ok()
                })
            })
            .collect();
        let seed = job_seed(&ctx.seed, id, round, b"verifiers");
        let verifiers: Vec<Address> = draw_indices(&seed, candidates.len(), count)
            .into_iter()
            .map(|i| candidates[i])
            .collect();
        let segments_total = job.result.as_ref().map_or(0, |r| r.segments) as usize;
        let seed = job_seed(&ctx.seed, id, round, b"segments");
        let want = usize::from(job.spec.policy.segments);
        let mut segments: Vec<u32> = draw_indices(&seed, segments_total, want)
            .into_iter()
            .map(|i| i as u32)
            .collect();
        segments.sort_unstable();
        for v in &verifiers {
            if let Some(mut p) = self.provider(v) {
                p.active += 1;
                self.put_provider(*v, p);
            }
        }
        let verdicts = job
            .verification
            .take()
            .map(|v| v.verdicts)
            .unwrap_or_default();
        let drawn = verifiers.len();
        job.verification = Some(Verification {
            round,
            verifiers,
            earlier,
            segments,
            challenge_end: Height(
                ctx.height
                    .0
                    .saturating_add(job.spec.policy.challenge_blocks.into()),
            ),
            verdicts,
        });
        drawn
    }

    pub(crate) fn verdict(
        &mut self,
        sender: Address,
        id: &JobId,
        pass: bool,
        evidence: Hash256,
    ) -> Result<(), TxError> {
        let mut job = self.job(id).ok_or(market(MarketError::UnknownJob))?;
        if job.status != JobStatus::Verifying {
            return Err(wrong_state(JobStatus::Verifying, job.status));
        }
        let Some(v) = job.verification.as_mut() else {
            return Err(wrong_state(JobStatus::Verifying, job.status));
        };
        if !v.verifiers.contains(&sender) {
            return Err(market(MarketError::NotDrawnVerifier));
        }
        if v.verdicts
            .iter()
            .any(|e| e.verifier == sender && e.round == v.round)
        {
            return Err(market(MarketError::DuplicateVerdict));
        }
        v.verdicts.push(VerdictEntry {
            verifier: sender,
            pass,
            evidence,
            round: v.round,
        });
        self.put_job(*id, job);
        Ok(())
    }
}
