//! Featurizer declarations: the exact transformation from raw data (WAV audio, text) to the
//! numbers a model consumes. A model's manifest names one; `aic-data` implements it, so data
//! digitized anywhere with the same parameters gives the same tensors.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A featurizer and its parameters, as written in a manifest's `[data.featurizer]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Featurizer {
    /// Log-mel spectrogram frames from mono PCM audio.
    LogMel(LogMelParams),
    /// Token ids from text.
    Tokenizer(TokenizerParams),
    /// The data is already numeric: columns are consumed as stored.
    Identity,
}

/// Whether mel bands are spaced by the HTK formula or Slaney's (librosa's default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MelScale {
    /// `2595 * log10(1 + f / 700)`.
    Htk,
    /// Linear below 1 kHz, logarithmic above (librosa `htk=False`), filters area-normalized.
    Slaney,
}

/// Parameters of the log-mel featurizer. With `center = true` the signal is zero-padded by
/// `n_fft / 2` on both sides (librosa's `center=True, pad_mode="constant"`); each frame is
/// windowed by a periodic Hann window of `win_length` samples centered in `n_fft`, its power
/// spectrum mapped to `n_mels` mel bands between `f_min` and `f_max`, and
/// `ln(max(mel, log_floor))` taken. The clip is cut or zero-padded to `clip_samples` before
/// framing, so every example has the same number of frames.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogMelParams {
    /// Sample rate the audio must have, in Hz (no resampling: other rates are refused).
    pub sample_rate: u32,
    /// FFT size in samples.
    pub n_fft: u32,
    /// Window length in samples (at most `n_fft`).
    pub win_length: u32,
    /// Hop between frames in samples.
    pub hop_length: u32,
    /// Number of mel bands.
    pub n_mels: u32,
    /// Lowest band edge in Hz.
    pub f_min: f32,
    /// Highest band edge in Hz (at most `sample_rate / 2`).
    pub f_max: f32,
    /// Mel spacing.
    pub mel_scale: MelScale,
    /// Pad by `n_fft / 2` on both sides before framing.
    pub center: bool,
    /// Samples each clip is cut or zero-padded to before framing.
    pub clip_samples: u32,
    /// Floor applied before the natural logarithm.
    pub log_floor: f32,
}

impl LogMelParams {
    /// Frames produced for one clip of `clip_samples` samples.
    pub fn frames(&self) -> u32 {
        let padded = if self.center {
            self.clip_samples + 2 * (self.n_fft / 2)
        } else {
            self.clip_samples
        };
        if padded < self.n_fft {
            0
        } else {
            1 + (padded - self.n_fft) / self.hop_length
        }
    }

    /// The keyword-spotting defaults for 8 kHz speech (FSDD): 32 ms FFT, 25 ms window, 10 ms
    /// hop, 40 Slaney mel bands from 20 Hz to 4 kHz, clips of one second (101 frames).
    pub fn speech_8khz() -> Self {
        Self {
            sample_rate: 8_000,
            n_fft: 256,
            win_length: 200,
            hop_length: 80,
            n_mels: 40,
            f_min: 20.0,
            f_max: 4_000.0,
            mel_scale: MelScale::Slaney,
            center: true,
            clip_samples: 8_000,
            log_floor: 1e-6,
        }
    }
}

/// How text is split into tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TokenizerKind {
    /// Split on ASCII whitespace (for pre-tokenized corpora such as WikiQA's `.toks` files).
    Whitespace,
}

/// Parameters of the word-level tokenizer. Id 0 is padding and id 1 the unknown token; the
/// vocabulary file (one token per line, in id order starting at 2) is identified by the
/// BLAKE3 of its bytes, so two parties agree on the ids exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenizerParams {
    /// How text is split.
    pub tokenizer: TokenizerKind,
    /// Lower-case before looking tokens up.
    pub lowercase: bool,
    /// Vocabulary size including the two reserved ids.
    pub vocab_size: u32,
    /// BLAKE3 (hex) of the vocabulary file; empty until a vocabulary has been built.
    #[serde(default)]
    pub vocab_blake3: String,
    /// Token sequences are cut or padded (with id 0) to this length.
    pub max_len: u32,
    /// When positive, a token missing from the vocabulary gets the id
    /// `vocab_size + fnv1a64(token) % oov_buckets` instead of the unknown id, so that two
    /// occurrences of the same rare word (a name, a number) still share an id: word-overlap
    /// features depend on it. Ids then range up to `vocab_size + oov_buckets`.
    #[serde(default)]
    pub oov_buckets: u32,
}

impl TokenizerParams {
    /// Ids a model must accept: the vocabulary plus the hashed buckets.
    pub fn id_space(&self) -> u32 {
        self.vocab_size + self.oov_buckets
    }
}

/// 64-bit FNV-1a, the hash of out-of-vocabulary tokens.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

/// Id of the padding token.
pub const PAD_ID: u32 = 0;
/// Id of the unknown token.
pub const UNK_ID: u32 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speech_defaults_give_101_frames_for_one_second() {
        assert_eq!(LogMelParams::speech_8khz().frames(), 101);
    }

    #[test]
    fn featurizer_round_trips_through_toml() {
        let f = Featurizer::LogMel(LogMelParams::speech_8khz());
        let text = toml::to_string(&f).unwrap();
        assert!(text.contains("kind = \"log-mel\""), "{text}");
        let back: Featurizer = toml::from_str(&text).unwrap();
        assert_eq!(back, f);
        let unknown = text.replace("n_mels", "mels");
        assert!(toml::from_str::<Featurizer>(&unknown).is_err());
    }
}
