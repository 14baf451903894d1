//! A strict RIFF/WAVE reader for the audio the log-mel featurizer consumes.
//!
//! Accepted: integer PCM of 8 (unsigned), 16, 24 or 32 bits and IEEE float of 32 bits, as
//! `WAVE_FORMAT_PCM` (1), `WAVE_FORMAT_IEEE_FLOAT` (3) or `WAVE_FORMAT_EXTENSIBLE` (0xFFFE)
//! with one of those two sub-formats, in any number of channels. Samples are returned as `f32`
//! in [-1, 1] scaled the way `soundfile` and `librosa` scale them (a 16-bit sample is
//! `i16 / 32768`); several channels are averaged into one. Nothing is resampled.
//!
//! Every malformed file is an error naming the reason; no input makes the reader panic.

use std::path::{Path, PathBuf};

/// `WAVE_FORMAT_PCM`.
const FORMAT_PCM: u16 = 1;
/// `WAVE_FORMAT_IEEE_FLOAT`.
const FORMAT_FLOAT: u16 = 3;
/// `WAVE_FORMAT_EXTENSIBLE`: the real format is the first two bytes of the sub-format GUID.
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;

/// Decoded mono audio.
#[derive(Clone, Debug, PartialEq)]
pub struct Wav {
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Channels in the file (the samples are their average).
    pub channels: u16,
    /// Mono samples in [-1, 1].
    pub samples: Vec<f32>,
}

/// Why a WAV file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WavError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The first four bytes are not `RIFF`.
    #[error("not a RIFF file")]
    NotRiff,
    /// The RIFF form type is not `WAVE`.
    #[error("RIFF form type is not WAVE")]
    NotWave,
    /// No `fmt ` chunk before the `data` chunk.
    #[error("no fmt chunk before the data chunk")]
    MissingFmt,
    /// No `data` chunk.
    #[error("no data chunk")]
    MissingData,
    /// A format this reader does not decode.
    #[error(
        "unsupported format: tag {format_tag:#06x}, {bits_per_sample} bits, {channels} channels"
    )]
    UnsupportedFormat {
        /// The format tag (after resolving `WAVE_FORMAT_EXTENSIBLE`).
        format_tag: u16,
        /// Bits per sample.
        bits_per_sample: u16,
        /// Channels.
        channels: u16,
    },
    /// A chunk, or the last sample frame, ends past the end of the file.
    #[error("truncated: {what} needs {needed} bytes, {available} available")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes it needs.
        needed: u64,
        /// Bytes there are.
        available: u64,
    },
    /// The sample rate is not the one asked for (nothing is resampled).
    #[error("sample rate {found} Hz, expected {expected} Hz")]
    WrongSampleRate {
        /// The rate asked for.
        expected: u32,
        /// The file's rate.
        found: u32,
    },
    /// The data chunk holds no samples.
    #[error("no samples")]
    Empty,
}

/// The fields of a `fmt ` chunk this reader uses.
#[derive(Clone, Copy, Debug)]
struct Format {
    tag: u16,
    channels: u16,
    sample_rate: u32,
    block_align: u16,
    bits_per_sample: u16,
}

/// Reads and decodes a WAV file.
pub fn read_wav(path: &Path) -> Result<Wav, WavError> {
    let bytes = std::fs::read(path).map_err(|source| WavError::Io {
        path: path.to_owned(),
        source,
    })?;
    decode_wav(&bytes)
}

/// Decodes a WAV file and refuses it unless its sample rate is `expected`.
pub fn decode_wav_at(bytes: &[u8], expected: u32) -> Result<Wav, WavError> {
    let wav = decode_wav(bytes)?;
    if wav.sample_rate != expected {
        return Err(WavError::WrongSampleRate {
            expected,
            found: wav.sample_rate,
        });
    }
    Ok(wav)
}

/// Decodes the bytes of a WAV file into mono `f32` samples.
pub fn decode_wav(bytes: &[u8]) -> Result<Wav, WavError> {
    if bytes.get(0..4) != Some(b"RIFF") {
        return Err(WavError::NotRiff);
    }
    let form = bytes.get(8..12).ok_or(WavError::Truncated {
        what: "RIFF header",
        needed: 12,
        available: bytes.len() as u64,
    })?;
    if form != b"WAVE" {
        return Err(WavError::NotWave);
    }
    // The RIFF size field is not trusted (many writers get it wrong); chunks are walked to the
    // end of the bytes instead.
    let mut pos = 12usize;
    let mut format: Option<Format> = None;
    while pos < bytes.len() {
        let header = bytes.get(pos..pos + 8).ok_or(WavError::Truncated {
            what: "chunk header",
            needed: 8,
            available: (bytes.len() - pos) as u64,
        })?;
        let (id, size) = header.split_at(4);
        let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize;
        let body_start = pos + 8;
        let available = bytes.len() - body_start;
        match id {
            b"fmt " => {
                let body = bytes
                    .get(body_start..body_start.saturating_add(size))
                    .ok_or(WavError::Truncated {
                        what: "fmt chunk",
                        needed: size as u64,
                        available: available as u64,
                    })?;
                format = Some(parse_format(body)?);
            }
            b"data" => {
                let format = format.ok_or(WavError::MissingFmt)?;
                let body = bytes
                    .get(body_start..body_start.saturating_add(size))
                    .ok_or(WavError::Truncated {
                        what: "data chunk",
                        needed: size as u64,
                        available: available as u64,
                    })?;
                return decode_samples(format, body);
            }
            _ => {}
        }
        // Chunks are padded to an even size.
        pos = body_start.saturating_add(size).saturating_add(size & 1);
    }
    Err(WavError::MissingData)
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at + 2)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn parse_format(body: &[u8]) -> Result<Format, WavError> {
    let truncated = |needed: u64| WavError::Truncated {
        what: "fmt chunk",
        needed,
        available: body.len() as u64,
    };
    let field16 = |at| u16_at(body, at).ok_or(truncated(16));
    let mut tag = field16(0)?;
    let channels = field16(2)?;
    let sample_rate = u32_at(body, 4).ok_or(truncated(16))?;
    let block_align = field16(12)?;
    let bits_per_sample = field16(14)?;
    if tag == FORMAT_EXTENSIBLE {
        // cbSize (2), valid bits (2), channel mask (4), then the sub-format GUID whose first
        // two bytes are the format tag.
        tag = u16_at(body, 24).ok_or(truncated(40))?;
    }
    let supported = match tag {
        FORMAT_PCM => matches!(bits_per_sample, 8 | 16 | 24 | 32),
        FORMAT_FLOAT => bits_per_sample == 32,
        _ => false,
    };
    let bytes_per_sample = bits_per_sample / 8;
    if !supported || channels == 0 || block_align != channels.saturating_mul(bytes_per_sample) {
        return Err(WavError::UnsupportedFormat {
            format_tag: tag,
            bits_per_sample,
            channels,
        });
    }
    Ok(Format {
        tag,
        channels,
        sample_rate,
        block_align,
        bits_per_sample,
    })
}

fn decode_samples(format: Format, data: &[u8]) -> Result<Wav, WavError> {
    let block = usize::from(format.block_align);
    if data.len() % block != 0 {
        return Err(WavError::Truncated {
            what: "last sample frame",
            needed: block as u64,
            available: (data.len() % block) as u64,
        });
    }
    if data.is_empty() {
        return Err(WavError::Empty);
    }
    let width = usize::from(format.bits_per_sample / 8);
    let decode: fn(&[u8]) -> f32 = match (format.tag, format.bits_per_sample) {
        (FORMAT_PCM, 8) => |b| (f32::from(b[0]) - 128.0) / 128.0,
        (FORMAT_PCM, 16) => |b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32_768.0,
        (FORMAT_PCM, 24) => |b| {
            let v = i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8;
            v as f32 / 8_388_608.0
        },
        (FORMAT_PCM, 32) => |b| {
            let v = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            (f64::from(v) / 2_147_483_648.0) as f32
        },
        // Checked in `parse_format`: the only other supported pair is 32-bit float.
        _ => |b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]),
    };
    let channels = usize::from(format.channels);
    let samples = data
        .chunks_exact(block)
        .map(|frame| {
            if channels == 1 {
                decode(frame)
            } else {
                let sum: f32 = frame.chunks_exact(width).map(decode).sum();
                sum / channels as f32
            }
        })
        .collect();
    Ok(Wav {
        sample_rate: format.sample_rate,
        channels: format.channels,
        samples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAV file with the given format fields and data bytes.
    fn wav_bytes(tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
        let align = channels * bits / 8;
        let mut fmt = Vec::new();
        fmt.extend_from_slice(&tag.to_le_bytes());
        fmt.extend_from_slice(&channels.to_le_bytes());
        fmt.extend_from_slice(&rate.to_le_bytes());
        fmt.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
        fmt.extend_from_slice(&align.to_le_bytes());
        fmt.extend_from_slice(&bits.to_le_bytes());
        riff(&[(b"fmt ", &fmt), (b"data", data)])
    }

    fn riff(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut body = b"WAVE".to_vec();
        for (id, data) in chunks {
            body.extend_from_slice(*id);
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(data);
            if data.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    fn pcm16(samples: &[i16]) -> Vec<u8> {
        samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    #[test]
    fn pcm16_mono_scaled_like_soundfile() {
        let bytes = wav_bytes(1, 1, 8000, 16, &pcm16(&[0, 16384, -32768, 32767]));
        let wav = decode_wav(&bytes).unwrap();
        assert_eq!(wav.sample_rate, 8000);
        assert_eq!(wav.channels, 1);
        assert_eq!(wav.samples, vec![0.0, 0.5, -1.0, 32767.0 / 32768.0]);
    }

    #[test]
    fn stereo_is_averaged() {
        let bytes = wav_bytes(1, 2, 8000, 16, &pcm16(&[16384, 0, -16384, -16384]));
        let wav = decode_wav(&bytes).unwrap();
        assert_eq!(wav.channels, 2);
        assert_eq!(wav.samples, vec![0.25, -0.5]);
    }

    #[test]
    fn other_widths_and_float() {
        let wav = decode_wav(&wav_bytes(1, 1, 8000, 8, &[128, 192, 0])).unwrap();
        assert_eq!(wav.samples, vec![0.0, 0.5, -1.0]);
        let wav = decode_wav(&wav_bytes(1, 1, 8000, 24, &[0, 0, 0x40, 0, 0, 0x80])).unwrap();
        assert_eq!(wav.samples, vec![0.5, -1.0]);
        let data: Vec<u8> = [i32::MIN, 1 << 30]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let wav = decode_wav(&wav_bytes(1, 1, 8000, 32, &data)).unwrap();
        assert_eq!(wav.samples, vec![-1.0, 0.5]);
        let data: Vec<u8> = [0.25f32, -0.75]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let wav = decode_wav(&wav_bytes(3, 1, 8000, 32, &data)).unwrap();
        assert_eq!(wav.samples, vec![0.25, -0.75]);
    }

    #[test]
    fn extensible_pcm() {
        let mut fmt = Vec::new();
        fmt.extend_from_slice(&0xFFFEu16.to_le_bytes());
        fmt.extend_from_slice(&1u16.to_le_bytes());
        fmt.extend_from_slice(&16_000u32.to_le_bytes());
        fmt.extend_from_slice(&32_000u32.to_le_bytes());
        fmt.extend_from_slice(&2u16.to_le_bytes());
        fmt.extend_from_slice(&16u16.to_le_bytes());
        fmt.extend_from_slice(&22u16.to_le_bytes()); // cbSize
        fmt.extend_from_slice(&16u16.to_le_bytes()); // valid bits
        fmt.extend_from_slice(&4u32.to_le_bytes()); // channel mask
        fmt.extend_from_slice(&1u16.to_le_bytes()); // sub-format: PCM
        fmt.extend_from_slice(&[0; 14]);
        let bytes = riff(&[(b"fmt ", &fmt), (b"data", &pcm16(&[8192]))]);
        let wav = decode_wav(&bytes).unwrap();
        assert_eq!((wav.sample_rate, wav.samples), (16_000, vec![0.25]));
    }

    #[test]
    fn unknown_chunks_are_skipped_with_padding() {
        let fmt = &wav_bytes(1, 1, 8000, 16, &[])[20..36];
        let bytes = riff(&[
            (b"LIST", b"odd"),
            (b"fmt ", fmt),
            (b"data", &pcm16(&[16384])),
        ]);
        assert_eq!(decode_wav(&bytes).unwrap().samples, vec![0.5]);
    }

    #[test]
    fn not_riff() {
        assert!(matches!(decode_wav(b""), Err(WavError::NotRiff)));
        assert!(matches!(
            decode_wav(b"RIFX0000WAVE"),
            Err(WavError::NotRiff)
        ));
    }

    #[test]
    fn not_wave() {
        assert!(matches!(
            decode_wav(b"RIFF\0\0\0\0AVI "),
            Err(WavError::NotWave)
        ));
    }

    #[test]
    fn missing_fmt() {
        let bytes = riff(&[(b"data", &pcm16(&[1, 2]))]);
        assert!(matches!(decode_wav(&bytes), Err(WavError::MissingFmt)));
    }

    #[test]
    fn missing_data() {
        let fmt = &wav_bytes(1, 1, 8000, 16, &[])[20..36];
        let bytes = riff(&[(b"fmt ", fmt)]);
        assert!(matches!(decode_wav(&bytes), Err(WavError::MissingData)));
    }

    #[test]
    fn unsupported_formats() {
        for (tag, channels, bits) in [(2u16, 1u16, 16u16), (1, 1, 12), (3, 1, 64), (1, 0, 16)] {
            let bytes = wav_bytes(tag, channels, 8000, bits, &[0; 16]);
            assert!(
                matches!(decode_wav(&bytes), Err(WavError::UnsupportedFormat { .. })),
                "tag {tag} bits {bits} channels {channels}"
            );
        }
    }

    #[test]
    fn truncated() {
        let bytes = wav_bytes(1, 1, 8000, 16, &pcm16(&[1, 2, 3, 4]));
        // Cut inside the data chunk, inside the fmt chunk, and inside the RIFF header.
        for cut in [bytes.len() - 1, 30, 10] {
            assert!(
                matches!(decode_wav(&bytes[..cut]), Err(WavError::Truncated { .. })),
                "cut at {cut}"
            );
        }
        // Half a sample frame.
        let bytes = wav_bytes(1, 1, 8000, 16, &[1, 2, 3]);
        assert!(matches!(
            decode_wav(&bytes),
            Err(WavError::Truncated {
                what: "last sample frame",
                ..
            })
        ));
    }

    #[test]
    fn wrong_sample_rate() {
        let bytes = wav_bytes(1, 1, 16_000, 16, &pcm16(&[1]));
        assert!(decode_wav_at(&bytes, 16_000).is_ok());
        assert!(matches!(
            decode_wav_at(&bytes, 8000),
            Err(WavError::WrongSampleRate {
                expected: 8000,
                found: 16_000
            })
        ));
    }

    #[test]
    fn empty() {
        let bytes = wav_bytes(1, 1, 8000, 16, &[]);
        assert!(matches!(decode_wav(&bytes), Err(WavError::Empty)));
    }

    #[test]
    fn io_error_names_the_path() {
        let err = read_wav(Path::new("/nonexistent/x.wav")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.wav"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..128)) {
            let _ = decode_wav(&bytes);
            let mut riff = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
            riff.extend_from_slice(&bytes);
            let _ = decode_wav(&riff);
        }
    }
}
