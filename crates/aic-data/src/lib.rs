//! Digitization of raw data for AIC jobs: the featurizers declared in
//! [`aic_model::featurizer`] (WAV audio to log-mel frames, text to token ids) and, on top of
//! them, the shard format digitized data sets are stored and moved in.
//!
//! The ML runtime and the data plane share this code, so a clip digitized anywhere with the
//! same parameters gives the same tensors.

mod logmel;
mod mel;
mod tokenize;
mod wav;

pub use logmel::{LogMel, LogMelError};
pub use tokenize::{Tokenizer, Vocabulary, VocabularyConfig, VocabularyError};
pub use wav::{decode_wav, decode_wav_at, read_wav, Wav, WavError};
