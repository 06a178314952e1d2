"""Log-mel spectrograms of 60 s of audio: core.spectral (torch) against librosa, speed and agreement.

Run:  nice -n 10 .venv/bin/python -m bench spectral [--seconds 60] [--repeats 7] [--threads 2] [--batch 4]
Prints one JSON object. ``speedup`` = librosa's median time / ours (> 1 means faster than librosa);
``max_abs_diff_db`` is the largest difference of the two log-mels in dB (float32 and float64 input).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

try:  # python -m bench NAME
    from bench._stats import median_time
except ImportError:  # python bench/NAME.py
    from _stats import median_time

SETTINGS = {  # name: (sr, n_fft, hop_length, n_mels)
    "librosa_default_22k": (22050, 2048, 512, 128),
    "neuralfunk_16k": (16000, 1024, 256, 128),
    "beatbox_16k": (16000, 512, 256, 128),
}


def _signal(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    """Noise plus a chirp and clicks: energy spread over the whole spectrum and dynamic range."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * (100 + 40 * t) * t) + 0.05 * rng.standard_normal(t.size)
    y[:: sr // 2] += 0.9
    return y.astype(np.float32)


def run(*, seconds: float = 60.0, repeats: int = 7, threads: int = 2, batch: int = 4) -> dict:
    import librosa
    import torch

    from latentstudio.core import spectral

    torch.set_num_threads(threads)
    out = {"seconds_of_audio": seconds, "repeats": repeats, "torch_threads": threads, "settings": {}}
    for name, (sr, n_fft, hop, n_mels) in SETTINGS.items():
        y = _signal(seconds, sr)

        def ref(y=y):
            return librosa.power_to_db(librosa.feature.melspectrogram(
                y=y, sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels, pad_mode="constant"))

        def ours(y=y):
            return spectral.log_mel(y, sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels)

        t_ref, t_ours = median_time(ref, repeats), median_time(ours, repeats)
        diff32 = float(np.abs(ours().numpy() - ref()).max())
        y64 = y.astype(np.float64)
        diff64 = float(np.abs(ours(y64).numpy() - ref(y64)).max())
        ys = np.stack([_signal(seconds, sr, seed=k) for k in range(batch)])
        t_ref_batch = median_time(lambda: [ref(v) for v in ys], max(3, repeats // 2))
        t_ours_batch = median_time(lambda: ours(ys), max(3, repeats // 2))
        out["settings"][name] = {
            "sr": sr, "n_fft": n_fft, "hop_length": hop, "n_mels": n_mels,
            "librosa_median_s": round(t_ref, 4), "ours_median_s": round(t_ours, 4),
            "speedup": round(t_ref / t_ours, 2),
            f"batch{batch}_librosa_median_s": round(t_ref_batch, 4),
            f"batch{batch}_ours_median_s": round(t_ours_batch, 4),
            f"batch{batch}_speedup": round(t_ref_batch / t_ours_batch, 2),
            "realtime_factor_ours": round(seconds / t_ours, 1),
            "max_abs_diff_db_float32": diff32, "max_abs_diff_db_float64": diff64,
        }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4)
    args = parser.parse_args(argv)
    print(json.dumps(run(seconds=args.seconds, repeats=args.repeats, threads=args.threads, batch=args.batch),
                     indent=2))


if __name__ == "__main__":
    main()
