//! Where market records live in the state tree.

use aic_primitives::{
    sha256, Address, ContentId, Decode, DecodeError, Encode, Hash256, JobId, Reader,
};

use super::records::{Dataset, Job, Model, Provider};

/// The key of a market record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKey {
    /// A provider, by its account.
    Provider(Address),
    /// A model, by content id.
    Model(ContentId),
    /// A dataset, by content id.
    Dataset(ContentId),
    /// A job, by id.
    Job(JobId),
}

const K_PROVIDER: u8 = 0;
const K_MODEL: u8 = 1;
const K_DATASET: u8 = 2;
const K_JOB: u8 = 3;

impl RecordKey {
    /// The key in the state tree: SHA-256 of a domain tag and the id. Account keys are
    /// SHA-256 of a bare 20-byte address, so the two never share a preimage.
    pub fn tree_key(&self) -> Hash256 {
        let mut bytes = b"AIC/market/".to_vec();
        self.encode_to(&mut bytes);
        sha256(&bytes)
    }
}

impl Encode for RecordKey {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            RecordKey::Provider(a) => {
                out.push(K_PROVIDER);
                a.encode_to(out);
            }
            RecordKey::Model(id) => {
                out.push(K_MODEL);
                out.extend_from_slice(&id.0);
            }
            RecordKey::Dataset(id) => {
                out.push(K_DATASET);
                out.extend_from_slice(&id.0);
            }
            RecordKey::Job(id) => {
                out.push(K_JOB);
                out.extend_from_slice(&id.0);
            }
        }
    }
}

impl Decode for RecordKey {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.read_u8()? {
            K_PROVIDER => RecordKey::Provider(Address::decode_from(r)?),
            K_MODEL => RecordKey::Model(Hash256(r.read_array()?)),
            K_DATASET => RecordKey::Dataset(Hash256(r.read_array()?)),
            K_JOB => RecordKey::Job(Hash256(r.read_array()?)),
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "record key",
                    tag,
                })
            }
        })
    }
}

/// A market record.
// Jobs are the large variant and the most numerous records; boxing them would add an
// allocation per job read for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    /// A provider.
    Provider(Provider),
    /// A model.
    Model(Model),
    /// A dataset.
    Dataset(Dataset),
    /// A job.
    Job(Job),
}

impl Record {
    /// The record's canonical bytes (its kind is given by its key).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Record::Provider(p) => p.to_bytes(),
            Record::Model(m) => m.to_bytes(),
            Record::Dataset(d) => d.to_bytes(),
            Record::Job(j) => j.to_bytes(),
        }
    }

    /// Decodes the record stored under `key`.
    pub fn from_bytes(key: &RecordKey, bytes: &[u8]) -> Result<Record, DecodeError> {
        Ok(match key {
            RecordKey::Provider(_) => Record::Provider(Provider::from_bytes(bytes)?),
            RecordKey::Model(_) => Record::Model(Model::from_bytes(bytes)?),
            RecordKey::Dataset(_) => Record::Dataset(Dataset::from_bytes(bytes)?),
            RecordKey::Job(_) => Record::Job(Job::from_bytes(bytes)?),
        })
    }

    /// The value committed in the state tree: SHA-256 of the canonical bytes.
    pub fn commitment(&self) -> Hash256 {
        sha256(&self.to_bytes())
    }
}
