//! The log-mel featurizer ([`aic_model::Featurizer::LogMel`]).
//!
//! For parameters `p` and a clip of samples, [`LogMel::compute`]:
//!
//! 1. cuts the clip to `p.clip_samples` or pads it with zeros at the end to that length;
//! 2. with `p.center`, pads `p.n_fft / 2` zeros on both sides (librosa `center=True,
//!    pad_mode="constant"`);
//! 3. takes frames of `p.n_fft` samples every `p.hop_length` samples (`p.frames()` of them),
//!    multiplies each by a periodic Hann window of `p.win_length` samples centered in `n_fft`
//!    (`scipy.signal.get_window("hann", win_length)` then `librosa.util.pad_center`);
//! 4. takes the power spectrum `|FFT|^2` of the `n_fft / 2 + 1` non-negative frequencies;
//! 5. maps it to `p.n_mels` bands with the mel filter bank (librosa `filters.mel`: Slaney with
//!    `norm="slaney"`, or HTK with `norm=None`);
//! 6. returns `ln(max(mel, p.log_floor))` as `f32`.
//!
//! This is librosa's `melspectrogram(..., power=2.0, window="hann")` followed by a floored
//! natural log. Arithmetic is in `f64`; only the result is rounded to `f32`.
//!
//! # Layout
//!
//! The result is frame-major: `p.frames()` rows of `p.n_mels` values, value `(t, m)` at index
//! `t * n_mels + m` (the transpose of librosa's `(n_mels, frames)` array). Frame `t` is
//! centered on sample `t * hop_length` of the clip when `center` is set.

use std::sync::Arc;

use aic_model::LogMelParams;
use realfft::{RealFftPlanner, RealToComplex};

use crate::mel::filter_bank;
use crate::wav::{decode_wav_at, WavError};

/// Parameters that cannot describe a log-mel featurizer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum LogMelError {
    /// A size that must be positive is zero.
    #[error("{field} must be positive")]
    Zero {
        /// The parameter's name.
        field: &'static str,
    },
    /// The window is longer than the FFT.
    #[error("win_length {win_length} is longer than n_fft {n_fft}")]
    WindowTooLong {
        /// Window length.
        win_length: u32,
        /// FFT size.
        n_fft: u32,
    },
    /// The band is not `0 <= f_min < f_max <= sample_rate / 2`.
    #[error("band {f_min} Hz to {f_max} Hz is not within 0 to {nyquist} Hz")]
    BadBand {
        /// Lowest band edge.
        f_min: f32,
        /// Highest band edge.
        f_max: f32,
        /// Half the sample rate.
        nyquist: f32,
    },
    /// The log floor is not a positive finite number.
    #[error("log_floor {0} is not positive and finite")]
    BadFloor(f32),
    /// A clip gives no frame (`clip_samples` shorter than `n_fft` without centering).
    #[error("a clip of {clip_samples} samples gives no frame of {n_fft}")]
    NoFrames {
        /// Clip length.
        clip_samples: u32,
        /// FFT size.
        n_fft: u32,
    },
    /// A size too large for this featurizer (`n_fft` or `clip_samples` over 2^24, or more
    /// than 2^28 output values).
    #[error("{field} is too large")]
    TooLarge {
        /// The parameter's name.
        field: &'static str,
    },
}

/// The log-mel featurizer with its window, filter bank and FFT plan precomputed.
#[derive(Clone)]
pub struct LogMel {
    params: LogMelParams,
    n_fft: usize,
    hop: usize,
    n_mels: usize,
    frames: usize,
    clip: usize,
    /// `n_fft` values: the Hann window centered, zeros around it.
    window: Vec<f64>,
    /// `n_mels` rows of `n_fft / 2 + 1` weights.
    bank: Vec<f64>,
    /// For each mel band, the first bin and one past the last with a nonzero weight.
    band_bins: Vec<(usize, usize)>,
    fft: Arc<dyn RealToComplex<f64>>,
}

impl std::fmt::Debug for LogMel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogMel")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// The periodic Hann window of `len` samples (`scipy.signal.get_window("hann", len)`).
fn periodic_hann(len: usize) -> impl Iterator<Item = f64> {
    (0..len).map(move |n| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / len as f64).cos())
}

impl LogMel {
    /// Checks the parameters and precomputes everything that does not depend on the audio.
    pub fn new(params: &LogMelParams) -> Result<Self, LogMelError> {
        let p = params;
        for (field, value) in [
            ("sample_rate", p.sample_rate),
            ("n_fft", p.n_fft),
            ("win_length", p.win_length),
            ("hop_length", p.hop_length),
            ("n_mels", p.n_mels),
            ("clip_samples", p.clip_samples),
        ] {
            if value == 0 {
                return Err(LogMelError::Zero { field });
            }
        }
        for (field, value) in [("n_fft", p.n_fft), ("clip_samples", p.clip_samples)] {
            if value > 1 << 24 {
                return Err(LogMelError::TooLarge { field });
            }
        }
        if p.win_length > p.n_fft {
            return Err(LogMelError::WindowTooLong {
                win_length: p.win_length,
                n_fft: p.n_fft,
            });
        }
        let nyquist = p.sample_rate as f32 / 2.0;
        let band_ok = p.f_min >= 0.0 && p.f_min < p.f_max && p.f_max <= nyquist;
        if !band_ok {
            return Err(LogMelError::BadBand {
                f_min: p.f_min,
                f_max: p.f_max,
                nyquist,
            });
        }
        if !(p.log_floor > 0.0 && p.log_floor.is_finite()) {
            return Err(LogMelError::BadFloor(p.log_floor));
        }
        let frames = p.frames() as usize;
        if frames == 0 {
            return Err(LogMelError::NoFrames {
                clip_samples: p.clip_samples,
                n_fft: p.n_fft,
            });
        }
        let n_mels = p.n_mels as usize;
        if frames.saturating_mul(n_mels) > 1 << 28 {
            return Err(LogMelError::TooLarge { field: "n_mels" });
        }

        let n_fft = p.n_fft as usize;
        let win = p.win_length as usize;
        let mut window = vec![0.0; n_fft];
        let left = (n_fft - win) / 2;
        for (w, h) in window[left..left + win].iter_mut().zip(periodic_hann(win)) {
            *w = h;
        }
        let bins = n_fft / 2 + 1;
        let bank = filter_bank(
            p.sample_rate,
            n_fft,
            n_mels,
            f64::from(p.f_min),
            f64::from(p.f_max),
            p.mel_scale,
        );
        let band_bins = bank
            .chunks_exact(bins)
            .map(|row| {
                let first = row.iter().position(|&w| w != 0.0).unwrap_or(0);
                let end = row.iter().rposition(|&w| w != 0.0).map_or(0, |i| i + 1);
                (first, end.max(first))
            })
            .collect();
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(n_fft);
        Ok(Self {
            params: p.clone(),
            n_fft,
            hop: p.hop_length as usize,
            n_mels,
            frames,
            clip: p.clip_samples as usize,
            window,
            bank,
            band_bins,
            fft,
        })
    }

    /// The parameters.
    pub fn params(&self) -> &LogMelParams {
        &self.params
    }

    /// Frames per clip (rows of the result).
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Mel bands per frame (columns of the result).
    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// Values per clip: `frames() * n_mels()`.
    pub fn len(&self) -> usize {
        self.frames * self.n_mels
    }

    /// Always false: a featurizer gives at least one value (kept for `len`'s sake).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The log-mel frames of a clip, frame-major (see the module documentation).
    pub fn compute(&self, samples: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; self.len()];
        self.compute_into(samples, &mut out);
        out
    }

    /// As [`compute`](Self::compute), writing into `out`, which must hold [`len`](Self::len)
    /// values.
    ///
    /// # Panics
    ///
    /// If `out.len() != self.len()`.
    pub fn compute_into(&self, samples: &[f32], out: &mut [f32]) {
        assert_eq!(out.len(), self.len(), "output buffer of the wrong length");
        let pad = if self.params.center {
            self.n_fft / 2
        } else {
            0
        };
        let mut signal = vec![0.0f64; self.clip + 2 * pad];
        let kept = samples.len().min(self.clip);
        for (s, &x) in signal[pad..pad + kept].iter_mut().zip(samples) {
            *s = f64::from(x);
        }
        let floor = f64::from(self.params.log_floor);
        let bins = self.n_fft / 2 + 1;
        let mut frame = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0.0f64; bins];
        for (t, row) in out.chunks_exact_mut(self.n_mels).enumerate() {
            let start = t * self.hop;
            let chunk = &signal[start..start + self.n_fft];
            for ((f, &x), &w) in frame.iter_mut().zip(chunk).zip(&self.window) {
                *f = x * w;
            }
            // Lengths come from the plan itself, so this cannot fail.
            let _ = self
                .fft
                .process_with_scratch(&mut frame, &mut spectrum, &mut scratch);
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.re * c.re + c.im * c.im;
            }
            for ((m, value), &(first, end)) in row.iter_mut().enumerate().zip(&self.band_bins) {
                let weights = &self.bank[m * bins + first..m * bins + end];
                let mel: f64 = weights
                    .iter()
                    .zip(&power[first..end])
                    .map(|(w, p)| w * p)
                    .sum();
                *value = mel.max(floor).ln() as f32;
            }
        }
    }

    /// Decodes a WAV file, refusing another sample rate than the parameters', and computes
    /// its log-mel frames.
    pub fn compute_wav(&self, wav_bytes: &[u8]) -> Result<Vec<f32>, WavError> {
        let wav = decode_wav_at(wav_bytes, self.params.sample_rate)?;
        Ok(self.compute(&wav.samples))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aic_model::MelScale;

    fn speech() -> LogMelParams {
        LogMelParams::speech_8khz()
    }

    #[test]
    fn shape_of_the_speech_defaults() {
        let lm = LogMel::new(&speech()).unwrap();
        assert_eq!((lm.frames(), lm.n_mels(), lm.len()), (101, 40, 4040));
        assert_eq!(lm.compute(&[0.0; 8000]).len(), 4040);
        assert_eq!(lm.compute(&[]).len(), 4040);
        assert_eq!(lm.compute(&[0.1; 20_000]).len(), 4040);
    }

    #[test]
    fn silence_is_the_floor() {
        let lm = LogMel::new(&speech()).unwrap();
        let floor = 1e-6f64.ln() as f32;
        assert!(lm.compute(&[]).iter().all(|&v| v == floor));
    }

    #[test]
    fn longer_clips_are_cut() {
        let lm = LogMel::new(&speech()).unwrap();
        let clip: Vec<f32> = (0..8000)
            .map(|i| ((i * 7919) % 200) as f32 / 200.0 - 0.5)
            .collect();
        let mut long = clip.clone();
        long.extend(std::iter::repeat_n(0.9, 3000));
        assert_eq!(lm.compute(&clip), lm.compute(&long));
    }

    #[test]
    fn a_tone_lands_in_its_band() {
        // 1 kHz sine: the loudest band of a middle frame is the one whose filter peaks nearest
        // 1 kHz.
        let lm = LogMel::new(&speech()).unwrap();
        let tone: Vec<f32> = (0..8000)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 8000.0).sin() * 0.5)
            .collect();
        let out = lm.compute(&tone);
        let row = &out[50 * 40..51 * 40];
        let loudest = (0..40).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
        let p = speech();
        let (lo, hi) = (
            crate::mel::hz_to_mel(f64::from(p.f_min), MelScale::Slaney),
            crate::mel::hz_to_mel(f64::from(p.f_max), MelScale::Slaney),
        );
        let center = crate::mel::mel_to_hz(
            lo + (loudest + 1) as f64 * (hi - lo) / 41.0,
            MelScale::Slaney,
        );
        assert!(
            (center - 1000.0).abs() < 80.0,
            "band {loudest} centered at {center} Hz"
        );
    }

    #[test]
    fn htk_and_no_centering() {
        let p = LogMelParams {
            mel_scale: MelScale::Htk,
            center: false,
            ..speech()
        };
        let lm = LogMel::new(&p).unwrap();
        assert_eq!(lm.frames(), 1 + (8000 - 256) / 80);
        assert_eq!(lm.frames() as u32, p.frames());
        let out = lm.compute(&[0.25; 8000]);
        assert!(out.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn bad_parameters_are_refused() {
        let cases: Vec<(LogMelParams, LogMelError)> = vec![
            (
                LogMelParams {
                    hop_length: 0,
                    ..speech()
                },
                LogMelError::Zero {
                    field: "hop_length",
                },
            ),
            (
                LogMelParams {
                    win_length: 300,
                    ..speech()
                },
                LogMelError::WindowTooLong {
                    win_length: 300,
                    n_fft: 256,
                },
            ),
            (
                LogMelParams {
                    f_max: 5000.0,
                    ..speech()
                },
                LogMelError::BadBand {
                    f_min: 20.0,
                    f_max: 5000.0,
                    nyquist: 4000.0,
                },
            ),
            (
                LogMelParams {
                    f_min: 4000.0,
                    ..speech()
                },
                LogMelError::BadBand {
                    f_min: 4000.0,
                    f_max: 4000.0,
                    nyquist: 4000.0,
                },
            ),
            (
                LogMelParams {
                    log_floor: 0.0,
                    ..speech()
                },
                LogMelError::BadFloor(0.0),
            ),
            (
                LogMelParams {
                    center: false,
                    clip_samples: 100,
                    ..speech()
                },
                LogMelError::NoFrames {
                    clip_samples: 100,
                    n_fft: 256,
                },
            ),
            (
                LogMelParams {
                    n_fft: u32::MAX,
                    ..speech()
                },
                LogMelError::TooLarge { field: "n_fft" },
            ),
        ];
        for (params, expected) in cases {
            assert_eq!(LogMel::new(&params).unwrap_err(), expected);
        }
        let nan = LogMelParams {
            f_min: f32::NAN,
            ..speech()
        };
        assert!(matches!(
            LogMel::new(&nan),
            Err(LogMelError::BadBand { .. })
        ));
    }

    #[test]
    fn wav_at_another_rate_is_refused() {
        let lm = LogMel::new(&speech()).unwrap();
        let mut bytes = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0".to_vec();
        for v in [1u16, 1] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes.extend_from_slice(&16_000u32.to_le_bytes());
        bytes.extend_from_slice(&32_000u32.to_le_bytes());
        for v in [2u16, 16] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes.extend_from_slice(b"data\x02\0\0\0\0\0");
        assert!(matches!(
            lm.compute_wav(&bytes),
            Err(WavError::WrongSampleRate {
                expected: 8000,
                found: 16_000
            })
        ));
    }
}
