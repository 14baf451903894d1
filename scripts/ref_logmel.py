#!/usr/bin/env python3
"""Reference log-mel frames from librosa, for crates/aic-data/tests/logmel_librosa.rs.

For each WAV named on the command line: read as float64 (int16 / 32768, as soundfile does),
cut or zero-pad to 8000 samples, compute librosa's mel spectrogram with the parameters of
aic_model::LogMelParams::speech_8khz(), take ln(max(mel, 1e-6)) and write, frame-major
([frames][n_mels], the transpose of librosa's (n_mels, frames)), to a JSON file.

    pip install librosa soundfile
    python3 scripts/ref_logmel.py OUT.json CLIP.wav [CLIP.wav ...]
"""
import json
import os
import sys

import librosa
import numpy as np
import soundfile as sf

PARAMS = dict(sr=8000, n_fft=256, win_length=200, hop_length=80, n_mels=40, fmin=20.0,
              fmax=4000.0, htk=False, norm="slaney", center=True, pad_mode="constant",
              power=2.0, window="hann")
CLIP_SAMPLES = 8000
LOG_FLOOR = 1e-6


def logmel(y):
    y = y[:CLIP_SAMPLES]
    y = np.pad(y, (0, CLIP_SAMPLES - len(y)))
    mel = librosa.feature.melspectrogram(y=y, **PARAMS)
    return np.log(np.maximum(mel, LOG_FLOOR)).T  # (frames, n_mels)


def main():
    out, files = sys.argv[1], sys.argv[2:]
    clips = []
    for path in files:
        y, sr = sf.read(path, dtype="float64")
        assert sr == PARAMS["sr"] and y.ndim == 1, path
        lm = logmel(y)
        # For the record: how far librosa itself moves when fed float32 samples.
        lm32 = logmel(y.astype(np.float32))
        print(f"{os.path.basename(path)}: {len(y)} samples, {lm.shape}, "
              f"float32-input librosa max |diff| {np.abs(lm - lm32).max():.2e}", file=sys.stderr)
        clips.append({
            "file": os.path.basename(path),
            "samples": int(len(y)),
            "frames": int(lm.shape[0]),
            "n_mels": int(lm.shape[1]),
            "logmel": [round(float(v), 6) for v in lm.reshape(-1)],
        })
    doc = {
        "generator": "scripts/ref_logmel.py, librosa " + librosa.__version__,
        "params": {**PARAMS, "clip_samples": CLIP_SAMPLES, "log_floor": LOG_FLOOR},
        "rounding": "values rounded to 6 decimals",
        "clips": clips,
    }
    with open(out, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
