//! Digitization of raw data for AIC jobs: the featurizers declared in
//! [`aic_model::featurizer`] (WAV audio to log-mel frames, text to token ids) and, on top of
//! them, the shard format digitized data sets are stored and moved in.
//!
//! The ML runtime and the data plane share this code, so a clip digitized anywhere with the
//! same parameters gives the same tensors.

pub mod corpora;
mod dataset;
mod digitize;
mod loader;
mod logmel;
mod manifest;
mod mel;
mod order;
mod shard;
mod tokenize;
mod wav;

pub use dataset::{
    blob_path, open_dataset, read_blob, read_manifest, shard_path, write_atomic, write_dataset,
    DatasetError, ShardSetWriter, DEFAULT_SHARD_BYTES,
};
pub use digitize::{
    digitize_fsdd, digitize_wikiqa, featurize_fsdd, DigitizeError, DigitizeOptions, DigitizeReport,
    FeatureEncoding, FsddFeatures, Progress,
};
pub use loader::{
    Batch, BatchData, Batches, DirSource, Loader, LoaderConfig, LoaderError, ShardSource, WaitHook,
};
pub use logmel::{LogMel, LogMelError};
pub use manifest::{
    Column, Compression, DType, DatasetManifest, FeaturizerRecord, ManifestError, Provenance,
    ShardEntry, SourceFile, Split, MANIFEST_FORMAT, Q8,
};
pub use order::{EpochOrder, SampleRef, SplitMix64, Xoshiro256};
pub use shard::{
    fp16_bytes, fp32_bytes, u32_bytes, FinishedShard, Shard, ShardError, ShardWriter,
    MAX_RAW_BYTES, SHARD_MAGIC, SHARD_VERSION,
};
pub use tokenize::{Tokenizer, Vocabulary, VocabularyConfig, VocabularyError};
pub use wav::{decode_wav, decode_wav_at, read_wav, Wav, WavError};
