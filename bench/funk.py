"""NeuralFunk: reconstruction on held-out sources, class-conditioned dreams named by the drum classifier, WaveNet speed.

Figures (``../shared/EVALUATION.md``):

* **Splits** — :func:`latentstudio.funk.data.load_samples`: the beatbox's one-shot splits by origin (train:
  Hydrogen + LMMS + Tux Paint sounds; validation: Sonic Pi + Millo kits; test: FluidR3 GM's kits), deduped by
  decoded-audio hash and near-copy fingerprint. Every choice was made on validation; the default run reads
  the test split.
* **Reconstruction** (test split): log-spectral distance (dB, STFT 1024/256) and mel spectral convergence
  (mel magnitudes) for the VAE + Griffin-Lim and the VAE + WaveNet, beside plain Griffin-Lim on the *true*
  mel (the vocoder's floor: what any mel-domain model can at best give back through Griffin-Lim).
* **Dreams** — per drum class, ``--dreams`` class-conditioned dreams; the beatbox's shipped drum classifier
  names each; the share named as intended, with chance (1/8), the classifier on the real test sounds of
  those classes and the same dreams without listening back (``dream(listen=False)``) beside it.
* **Seeds** — one VAE per ``--seeds`` (trained here by ``latentstudio funk train-vae`` code unless
  ``--models`` are given); median and range.
* **WaveNet speed** — incremental generation against naive generation, samples per second, 1 and 2 threads.

Run:  python -m bench funk [--seeds 0 1 2] [--steps 2000] [--models DIR ...] [--wavenet DIR] [--split test]
Prints one JSON object (progress on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

try:  # python -m bench NAME
    from bench._stats import spread
except ImportError:  # python bench/funk.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench._stats import spread


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _stft_db(y: np.ndarray) -> np.ndarray:
    import torch

    from latentstudio.core.spectral import stft

    mag = stft(torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)), n_fft=1024, hop_length=256).abs().numpy()
    return 20 * np.log10(np.maximum(mag, 1e-5))


def lsd(ref: np.ndarray, est: np.ndarray) -> np.ndarray:
    """Log-spectral distance per sound (dB): RMS over frequency of the dB difference, mean over frames where the
    reference is within 60 dB of its peak (so a decayed tail's noise floor does not dominate)."""
    a, b = _stft_db(ref), _stft_db(est)
    frame_level = a.max(axis=-2)
    active = frame_level > frame_level.max(axis=-1, keepdims=True) - 60
    d = np.sqrt(np.mean((np.maximum(a, a.max(axis=(-2, -1), keepdims=True) - 80)
                         - np.maximum(b, a.max(axis=(-2, -1), keepdims=True) - 80)) ** 2, axis=-2))
    return np.array([float(row[m].mean()) for row, m in zip(d, active)])


def mel_sc(ref: np.ndarray, est: np.ndarray) -> np.ndarray:
    """Spectral convergence of mel magnitudes per sound: ``|| |M| - |M^| ||_F / || |M| ||_F``."""
    import torch

    from latentstudio.core.spectral import mel

    def m(y):
        return mel(torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)), sr=16000, n_fft=1024,
                   hop_length=256, n_mels=128).sqrt().numpy()

    a, b = m(ref), m(est)
    return np.linalg.norm((a - b).reshape(len(a), -1), axis=1) / np.linalg.norm(a.reshape(len(a), -1), axis=1)


def _loud(y: np.ndarray) -> np.ndarray:
    peak = np.abs(y).max(axis=-1, keepdims=True)
    return y / np.maximum(peak, 1e-9) * 0.9


def reconstruction(vae, audio: np.ndarray, *, wavenet=None, wavenet_sounds: int = 64) -> dict:
    """Figures of the VAE (+ Griffin-Lim, + WaveNet) and of Griffin-Lim on the true mel, per sound medians; the
    WaveNet renders a seeded subset of ``wavenet_sounds`` (it generates sample by sample), with the other
    renderers' figures on the same subset beside it."""
    from latentstudio.funk.features import log_mel_frames, mel_to_audio
    from latentstudio.funk.pipeline import decode, encode

    ref = _loud(audio)
    gl_true = _loud(mel_to_audio(log_mel_frames(audio), length=audio.shape[1]))
    z = encode(vae, audio)
    vae_gl, _ = decode(vae, z)
    out = {"griffin_lim_true_mel": {"lsd_db": float(np.median(lsd(ref, gl_true))),
                                    "mel_sc": float(np.median(mel_sc(ref, gl_true)))},
           "vae_griffin_lim": {"lsd_db": float(np.median(lsd(ref, vae_gl))),
                               "mel_sc": float(np.median(mel_sc(ref, vae_gl)))}}
    if wavenet is not None:
        sub = np.sort(np.random.default_rng(0).choice(len(audio), size=min(wavenet_sounds, len(audio)),
                                                      replace=False))
        vae_wn, _ = decode(vae, z[sub], wavenet=wavenet)
        out["vae_wavenet"] = {"lsd_db": float(np.median(lsd(ref[sub], vae_wn))),
                              "mel_sc": float(np.median(mel_sc(ref[sub], vae_wn))), "sounds": int(len(sub)),
                              "vae_griffin_lim_same_sounds": {
                                  "lsd_db": float(np.median(lsd(ref[sub], vae_gl[sub]))),
                                  "mel_sc": float(np.median(mel_sc(ref[sub], vae_gl[sub])))}}
    return out


def dreams(vae, info, *, per_class: int, seed: int, listen: bool = True) -> dict:
    from latentstudio.beatbox.classifier import load_classifier
    from latentstudio.funk.data import CLASSES
    from latentstudio.funk.pipeline import dream

    clf = load_classifier()
    rows = {}
    for c in CLASSES:
        d = dream(vae, info, n=per_class, drum=c, seed=seed, listen=listen)
        probs = clf.probabilities(list(d.audio), sr=16000)
        rows[c] = float(np.mean(np.argmax(probs, axis=1) == CLASSES.index(c)))
    return {"per_class": rows, "all": float(np.mean(list(rows.values())))}


def classifier_on_real(samples) -> dict:
    from latentstudio.beatbox.classifier import load_classifier
    from latentstudio.funk.data import CLASSES

    clf = load_classifier()
    known = samples.labels >= 0
    pred = np.argmax(clf.probabilities(list(samples.audio[known]), sr=16000), axis=1)
    y = samples.labels[known]
    per = {c: float(np.mean(pred[y == k] == k)) for k, c in enumerate(CLASSES) if (y == k).any()}
    return {"per_class": per, "all": float(np.mean(list(per.values())))}


def wavenet_speed(wavenet) -> dict:
    import torch

    from latentstudio.funk.wavenet import generate, generate_naive

    out = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        mel = torch.rand(1, 128, 63)
        cond = torch.randn(1, wavenet.cond_dim) if getattr(wavenet, "cond_dim", 0) else None
        g = torch.Generator().manual_seed(0)
        t0 = time.perf_counter()
        generate(wavenet, mel, cond, n_samples=16000, generator=g)
        fast = 16000 / (time.perf_counter() - t0)
        n = 1600
        t0 = time.perf_counter()
        generate_naive(wavenet, mel, cond, n_samples=n, generator=g)
        naive = n / (time.perf_counter() - t0)
        out[f"threads_{threads}"] = {"incremental_samples_per_s": round(fast), "naive_samples_per_s": round(naive),
                                     "speedup": round(fast / naive, 1)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--models", nargs="*", default=[], help="trained SampleVAE folders, one per seed")
    ap.add_argument("--wavenet", default=None, help="WaveNet trained on the first model's latents (default: VAE + "
                                                    "Griffin-Lim only)")
    ap.add_argument("--split", default="test", choices=["validation", "test"])
    ap.add_argument("--dreams", type=int, default=10, help="dreams per class")
    ap.add_argument("--wavenet-sounds", type=int, default=64, help="test sounds the WaveNet renders")
    ap.add_argument("--out", default="out/bench/funk")
    args = ap.parse_args()
    os.environ.setdefault("LATENTSTUDIO_QUIET", "1")
    import torch

    from latentstudio.funk.data import load_samples
    from latentstudio.funk.training import load_sample_vae, train_sample_vae
    from latentstudio.zoo.checkpoint import load_checkpoint

    torch.set_num_threads(2)
    samples = load_samples()
    part = samples.part(args.split)
    wavenet = load_checkpoint(args.wavenet)[0] if args.wavenet else None
    runs = []
    for k, seed in enumerate(args.seeds):
        folder = Path(args.models[k]) if k < len(args.models) else Path(args.out) / f"vae_s{seed}"
        if not (folder / "config.json").is_file():
            log(f"funk: training {folder} ({args.steps} steps)")
            train_sample_vae(samples, folder, steps=args.steps, seed=seed, meta={"command": "python -m bench funk"})
        vae, info = load_sample_vae(folder)
        info["path"] = str(folder)
        log(f"funk: judging {folder} on the {args.split} split ({len(part)} sounds)")
        runs.append({"model": str(folder),
                     # the WaveNet is conditioned on the first model's latents: it renders that model only
                     "reconstruction": reconstruction(vae, part.audio, wavenet=wavenet if k == 0 else None,
                                                      wavenet_sounds=args.wavenet_sounds),
                     "dreams": dreams(vae, info, per_class=args.dreams, seed=seed),
                     "dreams_without_listening": dreams(vae, info, per_class=args.dreams, seed=seed, listen=False),
                     "validation_class_accuracy": info["meta"]["report"].get("validation_class_accuracy")})
    res = {"split": args.split, "sounds": len(part), "sources": sorted(set(part.sources)), "models": len(runs)}
    for key in runs[0]["reconstruction"]:
        have = [r for r in runs if key in r["reconstruction"]]
        res[key] = {m: spread([r["reconstruction"][key][m] for r in have]) for m in ("lsd_db", "mel_sc")}
        if key == "vae_wavenet":
            res[key]["sounds"] = runs[0]["reconstruction"][key]["sounds"]
            res[key]["vae_griffin_lim_same_sounds"] = {
                m: spread([r["reconstruction"][key]["vae_griffin_lim_same_sounds"][m] for r in have])
                for m in ("lsd_db", "mel_sc")}
    res["dreams_named_as_intended"] = spread([r["dreams"]["all"] for r in runs])
    res["dreams_per_class_median"] = {c: float(np.median([r["dreams"]["per_class"][c] for r in runs]))
                                      for c in runs[0]["dreams"]["per_class"]}
    res["dreams_without_listening_named_as_intended"] = spread([r["dreams_without_listening"]["all"] for r in runs])
    res["classifier_on_real_test_sounds"] = classifier_on_real(part)
    res["chance"] = 1 / 8
    if wavenet is not None:
        res["wavenet_speed"] = wavenet_speed(wavenet)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
