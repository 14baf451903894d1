//! A job given from outside in Stratum's wire form and served as is: how a recorded pool
//! session is replayed against this server's own share validation.

use std::sync::Mutex;

use aic_primitives::{BlockHeader, CompactTargetError};
use serde_json::Value;

use super::job::{Job, EXTRANONCE1_BYTES};

/// One `mining.notify` job and the `extranonce1` to serve it with, given from outside (for
/// example a third-party pool's recorded job). [`super::serve_given_job`] hands every
/// connection this `extranonce1` and this job, and checks shares against it exactly as it
/// checks its own jobs' shares. The block a share would make is not this chain's: headers
/// of shares that meet the job's network target are kept in
/// [`GivenJob::block_candidates`] instead of being submitted.
#[derive(Debug)]
pub struct GivenJob {
    job: Job,
    extranonce1: [u8; EXTRANONCE1_BYTES],
    candidates: Mutex<Vec<BlockHeader>>,
}

/// Why a given job cannot be served.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GivenJobError {
    /// A `mining.notify` field is absent or not of its JSON type (named as in Stratum).
    #[error("notify field {0} is missing or not of its JSON type")]
    MissingField(&'static str),
    /// A field is not hex of the size this server uses (`extranonce1` 4 bytes, hashes 32,
    /// `version`, `nbits` and `ntime` 8 digits).
    #[error("field {0} is not hex of the expected size")]
    BadHex(&'static str),
    /// `nbits` is no valid compact target.
    #[error("nbits: {0}")]
    BadTarget(CompactTargetError),
}

impl GivenJob {
    /// The job of a `mining.notify`'s `params` as sent on the wire (job id, prevhash with
    /// each 4-byte word reversed, coinb1, coinb2, merkle branch, version, nbits, ntime,
    /// clean_jobs), served with `extranonce1` (hex). Shares may not carry a time before the
    /// job's `ntime`.
    pub fn from_notify(params: &Value, extranonce1: &str) -> Result<GivenJob, GivenJobError> {
        let extranonce1 = hex::decode(extranonce1)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(GivenJobError::BadHex("extranonce1"))?;
        Ok(GivenJob {
            job: Job::from_notify(params)?,
            extranonce1,
            candidates: Mutex::new(Vec::new()),
        })
    }

    /// Headers of accepted shares that met the job's network target, in the order found.
    pub fn block_candidates(&self) -> Vec<BlockHeader> {
        self.candidates
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(crate) fn job(&self) -> Job {
        self.job.clone()
    }

    pub(crate) fn extranonce1(&self) -> [u8; EXTRANONCE1_BYTES] {
        self.extranonce1
    }

    pub(crate) fn block_candidate(&self, header: BlockHeader) {
        self.candidates
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(header);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extranonce1_must_be_four_bytes_of_hex() {
        let notify = json!([
            "1",
            "00".repeat(32),
            "01",
            "02",
            [],
            "20000000",
            "207fffff",
            "5e148a8c",
            true
        ]);
        let given = GivenJob::from_notify(&notify, "f000000f").unwrap();
        assert_eq!(given.extranonce1(), [0xf0, 0, 0, 0x0f]);
        assert!(given.block_candidates().is_empty());
        for bad in ["f00000", "f000000f00", "f000000g"] {
            assert_eq!(
                GivenJob::from_notify(&notify, bad).unwrap_err(),
                GivenJobError::BadHex("extranonce1")
            );
        }
    }
}
