//! Mel scales and the mel filter bank, as librosa computes them (`librosa.filters.mel`).

use aic_model::MelScale;

/// Slaney's scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above.
const SLANEY_F_SP: f64 = 200.0 / 3.0;
/// Where Slaney's scale turns logarithmic, in Hz.
const SLANEY_MIN_LOG_HZ: f64 = 1_000.0;
/// The same point in mels.
const SLANEY_MIN_LOG_MEL: f64 = SLANEY_MIN_LOG_HZ / SLANEY_F_SP;

/// Slaney's log step: 27 mels per factor 6.4 in frequency.
fn slaney_log_step() -> f64 {
    6.4f64.ln() / 27.0
}

/// Hertz to mels (`librosa.hz_to_mel`).
pub(crate) fn hz_to_mel(hz: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 2_595.0 * (1.0 + hz / 700.0).log10(),
        MelScale::Slaney => {
            if hz >= SLANEY_MIN_LOG_HZ {
                SLANEY_MIN_LOG_MEL + (hz / SLANEY_MIN_LOG_HZ).ln() / slaney_log_step()
            } else {
                hz / SLANEY_F_SP
            }
        }
    }
}

/// Mels to hertz (`librosa.mel_to_hz`).
pub(crate) fn mel_to_hz(mel: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 700.0 * (10f64.powf(mel / 2_595.0) - 1.0),
        MelScale::Slaney => {
            if mel >= SLANEY_MIN_LOG_MEL {
                SLANEY_MIN_LOG_HZ * (slaney_log_step() * (mel - SLANEY_MIN_LOG_MEL)).exp()
            } else {
                SLANEY_F_SP * mel
            }
        }
    }
}

/// The mel filter bank, `n_mels` rows of `n_fft / 2 + 1` weights, row-major.
///
/// Triangular filters whose edges are `n_mels + 2` points equally spaced in mels between
/// `f_min` and `f_max`, evaluated at the FFT bin frequencies `k * sample_rate / n_fft`. With
/// the Slaney scale each filter is divided by half its width in Hz (librosa `norm="slaney"`:
/// constant energy per band); with HTK the filters peak at 1 (`norm=None`, as in HTK and
/// `torchaudio`'s default).
pub(crate) fn filter_bank(
    sample_rate: u32,
    n_fft: usize,
    n_mels: usize,
    f_min: f64,
    f_max: f64,
    scale: MelScale,
) -> Vec<f64> {
    let bins = n_fft / 2 + 1;
    // numpy.fft.rfftfreq: k * (sample_rate / n_fft).
    let bin_hz = f64::from(sample_rate) / n_fft as f64;
    let fft_freqs: Vec<f64> = (0..bins).map(|k| k as f64 * bin_hz).collect();
    let (mel_min, mel_max) = (hz_to_mel(f_min, scale), hz_to_mel(f_max, scale));
    let points = n_mels + 2;
    // numpy.linspace: start + i * step, the last point exactly `mel_max`.
    let step = (mel_max - mel_min) / (points - 1) as f64;
    let edges: Vec<f64> = (0..points)
        .map(|i| {
            let mel = if i == points - 1 {
                mel_max
            } else {
                mel_min + i as f64 * step
            };
            mel_to_hz(mel, scale)
        })
        .collect();
    let mut weights = vec![0.0; n_mels * bins];
    for (m, row) in weights.chunks_exact_mut(bins).enumerate() {
        let (left, center, right) = (edges[m], edges[m + 1], edges[m + 2]);
        for (w, &f) in row.iter_mut().zip(&fft_freqs) {
            let lower = -(left - f) / (center - left);
            let upper = (right - f) / (right - center);
            *w = lower.min(upper).max(0.0);
        }
        if scale == MelScale::Slaney {
            let norm = 2.0 / (right - left);
            row.iter_mut().for_each(|w| *w *= norm);
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_round_trip() {
        for scale in [MelScale::Htk, MelScale::Slaney] {
            for hz in [0.0, 20.0, 440.0, 999.0, 1_000.0, 1_001.0, 4_000.0, 16_000.0] {
                let back = mel_to_hz(hz_to_mel(hz, scale), scale);
                assert!(
                    (back - hz).abs() < 1e-9 * hz.max(1.0),
                    "{scale:?} {hz} {back}"
                );
            }
        }
    }

    #[test]
    fn known_values() {
        // librosa.hz_to_mel(1000) == 15, hz_to_mel(4000) == 15 + ln(4) / (ln(6.4) / 27).
        assert!((hz_to_mel(1_000.0, MelScale::Slaney) - 15.0).abs() < 1e-12);
        let m = hz_to_mel(4_000.0, MelScale::Slaney);
        assert!((m - (15.0 + 4f64.ln() * 27.0 / 6.4f64.ln())).abs() < 1e-12);
        // HTK: 1000 Hz is about 1000 mels.
        assert!((hz_to_mel(1_000.0, MelScale::Htk) - 999.985_6).abs() < 1e-3);
    }

    #[test]
    fn htk_filters_peak_at_most_one_and_cover_the_band() {
        let bank = filter_bank(16_000, 512, 40, 0.0, 8_000.0, MelScale::Htk);
        assert_eq!(bank.len(), 40 * 257);
        assert!(bank.iter().all(|&w| (0.0..=1.0).contains(&w)));
        for row in bank.chunks_exact(257) {
            assert!(row.iter().any(|&w| w > 0.0), "an empty filter");
        }
    }
}
