"""Neural Beatbox: onset F-measure, held-out-kit and voice classification, rhythm VAE, latency, bad input.

Prints one JSON object. Sections (``--only`` to pick some):

* ``onsets`` — F-measure (30 ms, mir_eval) of ``core.onsets.onset_detect`` on drum sequences with known
  onsets: General MIDI drums rendered by FluidSynth, and Hydrogen kit samples mixed at known times
  (the held-out kits included; samples that hold several hits themselves are left out, see
  ``_reattacks``); dense (down to 90 ms apart, with simultaneous hits) and random velocities.
* ``classifier`` — the shipped classifier on the held-out kits (never trained on): accuracy, kick/snare/hat
  accuracy, confusion matrix; its in-domain validation accuracy from training; and on espeak-ng voice
  percussion (8 voices x 4 classes x 4 words x 2 pitches x 2 speeds), zero-shot and after calibration with
  4 examples per class of the same voice (one pitch and speed), judged on that voice's other sounds.
* ``rhythm`` — the shipped VAE on patterns it never saw (grammar seed 999 and the Hydrogen demo songs):
  onset reconstruction (F1 and cell accuracy) and requested-vs-produced density correlation.
* ``latency`` — 10 s of voice -> a rendered 8-bar beat, median of 5, 2 threads, models and kit loaded
  beforehand (their load times reported apart); ratio to real time and to librosa's onset detection alone.
* ``bad_input`` — silence, one sound, clipping, a one-hour file, a text file: what happens.

Example: python -m bench beatbox --only onsets classifier
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

SR = 22050


# ------------------------------------------------------------------------------------------ onsets
def _sequence_times(rng, n=40, min_gap=0.09):
    t, out = 0.3, []
    for _ in range(n):
        out.append(t)
        t += rng.uniform(min_gap, 0.5)
    return out


def _fluidsynth_sequences(n, rng):
    import pretty_midi

    from latentstudio.core.midi import render_midi

    keys = [35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 55, 57]
    out = []
    for _ in range(n):
        pm = pretty_midi.PrettyMIDI(initial_tempo=120)
        inst = pretty_midi.Instrument(0, is_drum=True)
        times = _sequence_times(rng)
        for t in times:
            for k in rng.choice(keys, rng.choice([1, 1, 1, 2]), replace=False):
                inst.notes.append(pretty_midi.Note(int(rng.integers(40, 127)), int(k), t, t + 0.1))
        pm.instruments.append(inst)
        out.append((render_midi(pm, sr=SR), np.array(times)))
    return out


def _reattacks(y, *, rise_db=6.0):
    """A sample holding more than one hit (breakbeat cuts, flams, flinks): its 25 ms RMS rises again by
    ``rise_db`` over its running minimum after the peak. Such samples would make the truth wrong."""
    win = int(0.025 * SR)
    n = len(y) // win
    rms = np.sqrt((y[: n * win].astype(np.float64) ** 2).reshape(n, win).mean(axis=1)) + 1e-6
    peak = int(np.argmax(rms))
    tail = rms[peak:]
    run_min = np.minimum.accumulate(tail)
    loud = tail > rms[peak] * 10 ** (-40 / 20)
    return bool(np.any((tail / run_min > 10 ** (rise_db / 20)) & loud))


def _hydrogen_sequences(n, rng):
    from latentstudio.assets import drumkits
    from latentstudio.beatbox.oneshots import load_sample

    pool = [(k.name, f) for k in drumkits() for i in k.instruments if i.drum_class for f in i.files[-1:]]
    pool = [(k, f) for k, f in pool if not _reattacks(load_sample(f, sr=SR, n=SR))]
    out = []
    for _ in range(n):
        times = _sequence_times(rng)
        y = np.zeros(int((times[-1] + 1.5) * SR), np.float32)
        for t in times:
            for j in rng.choice(len(pool), rng.choice([1, 1, 2]), replace=False):
                s = load_sample(pool[j][1], sr=SR, n=int(1.0 * SR)) * rng.uniform(0.2, 1.0)
                a = int(round(t * SR))
                y[a:a + len(s)] += s[: len(y) - a]
        out.append((y / max(1.0, float(np.max(np.abs(y)))), np.array(times)))
    return out


def bench_onsets(n=10, seed=0):
    import mir_eval

    from latentstudio.core.onsets import onset_detect

    rng = np.random.default_rng(seed)
    res = {}
    for name, seqs in (("fluidsynth_gm", _fluidsynth_sequences(n, rng)), ("hydrogen_kits", _hydrogen_sequences(n, rng))):
        for bt in (True, False):
            scores, offs = [], []
            for y, ref in seqs:
                est = onset_detect(y, sr=SR, backtrack=bt)
                scores.append(mir_eval.onset.f_measure(ref, est, window=0.03))
                offs += [est[j] - ref[i] for i, j in mir_eval.util.match_events(ref, est, 0.03)]
            f, p, r = np.mean(scores, axis=0)
            res[f"{name}{'' if bt else '_no_backtrack'}"] = {
                "f_measure": round(float(f), 4), "precision": round(float(p), 4), "recall": round(float(r), 4),
                "median_offset_ms": round(1000 * float(np.median(offs)), 2), "sequences": len(seqs),
                "onsets": int(sum(len(r) for _, r in seqs))}
    return res


# -------------------------------------------------------------------------------------- classifier
def bench_classifier(path=None):
    import torch

    from latentstudio.beatbox.classifier import (SHIPPED, confusion_matrix, kick_snare_hat_accuracy, load_classifier,
                                                 predict_patches)
    from latentstudio.beatbox.features import CLIP_SAMPLES, patches
    from latentstudio.beatbox.oneshots import CLASSES, HELD_OUT_KITS, load_oneshots
    from latentstudio.beatbox.voices import voice_sounds
    from latentstudio.zoo.checkpoint import read_config

    clf = load_classifier(path)
    meta = read_config(path or SHIPPED).get("meta", {})
    held = load_oneshots(kits=list(HELD_OUT_KITS))
    pred, _ = predict_patches(clf.model, patches(torch.from_numpy(held.audio[:, :CLIP_SAMPLES])))
    cm = confusion_matrix(held.labels, pred, len(CLASSES))
    per_kit = {k: round(float(np.mean(pred[np.array(held.kits) == k] == held.labels[np.array(held.kits) == k])), 4)
               for k in HELD_OUT_KITS}
    out = {"held_out_kits": list(HELD_OUT_KITS), "held_out_sounds": len(held),
           "held_out_accuracy": round(float(np.mean(pred == held.labels)), 4),
           "held_out_kick_snare_hat_accuracy": round(kick_snare_hat_accuracy(held.labels, pred), 4),
           "held_out_accuracy_per_kit": per_kit, "classes": list(CLASSES),
           "confusion_rows_true_cols_pred": cm.tolist(),
           "in_domain_validation_accuracy": meta.get("report", {}).get("val_accuracy"),
           "qosmo_in_domain_validation_accuracy": 0.76}
    # espeak-ng voice percussion
    sounds = voice_sounds(sr=SR)
    labels = np.array([CLASSES.index(lab) for lab, _, _ in sounds])
    voices = np.array([v for _, v, _ in sounds])
    audio = [a for _, _, a in sounds]
    probs = clf.probabilities(audio, sr=SR)
    zero = probs.argmax(1)
    hat = {CLASSES.index("closed_hat"), CLASSES.index("open_hat")}

    def merged(p, t):
        return float(np.mean([(a == b) or (a in hat and b in hat) for a, b in zip(p, t)]))

    cal_pred, cal_true, zero_same = [], [], []
    per_item = 4  # items per (voice, class): 4 words x 2 pitches x 2 speeds = 16; the first 4 (pitch 30, speed 120)
    for v in sorted(set(voices)):
        idx = np.flatnonzero(voices == v)
        examples, test = {}, []
        for c in sorted(set(labels[idx])):
            ci = idx[labels[idx] == c]
            shots = ci[::per_item][:4]  # one pitch/speed per word
            examples[CLASSES[c]] = [audio[i] for i in shots]
            test += [i for i in ci if i not in set(shots)]
        cal = clf.calibrate(examples, sr=SR)
        cal_pred += list(cal.probabilities([audio[i] for i in test], sr=SR).argmax(1))
        cal_true += list(labels[test])
        zero_same += list(zero[test])
    cm_voice = confusion_matrix(labels, zero, len(CLASSES))
    out["voice"] = {
        "sounds": len(sounds), "espeak_voices": sorted(set(voices.tolist())),
        "classes": sorted({lab for lab, _, _ in sounds}),
        "zero_shot_accuracy": round(float(np.mean(zero == labels)), 4),
        "zero_shot_accuracy_hats_merged": round(merged(zero, labels), 4),
        "calibrated_accuracy": round(float(np.mean(np.array(cal_pred) == np.array(cal_true))), 4),
        "calibrated_accuracy_hats_merged": round(merged(cal_pred, cal_true), 4),
        "zero_shot_accuracy_same_test_sounds": round(float(np.mean(np.array(zero_same) == np.array(cal_true))), 4),
        "calibration_examples_per_class": 4,
        "zero_shot_confusion_rows_true_cols_pred": cm_voice.tolist()}
    return out


# ------------------------------------------------------------------------------------------ rhythm
def bench_rhythm():
    from latentstudio.beatbox.grammar import grammar_patterns
    from latentstudio.beatbox.pattern import VOICES, hydrogen_demo_patterns
    from latentstudio.beatbox.rhythm_vae import evaluate_rhythm, load_rhythm_vae

    vae = load_rhythm_vae()
    out = {}
    for name, pats in (("grammar_seed_999", grammar_patterns(600, seed=999)), ("hydrogen_demo_songs", hydrogen_demo_patterns())):
        ev = evaluate_rhythm(vae, pats, seed=1)
        out[name] = {"patterns": len(pats), "onset_f1": round(ev["onset_f1"], 4),
                     "step_accuracy": round(ev["step_accuracy"], 4),
                     "density_correlation": round(ev["density_correlation"], 4),
                     "density_correlation_per_voice": {v: (None if c is None or not np.isfinite(c) else round(c, 3))
                                                       for v, c in zip(VOICES, ev["per_voice"])}}
    for t in (0.5, 1.0):
        ev = evaluate_rhythm(vae, grammar_patterns(600, seed=999), seed=1, temperature=t)
        out[f"density_correlation_temperature_{t}"] = round(ev["density_correlation"], 4)
    out["note"] = "hydrogen demo songs were in training (x4); the grammar seed 999 patterns were not"
    return out


# ----------------------------------------------------------------------------------------- latency
def bench_latency(repeats=5):
    import librosa
    import torch

    from latentstudio.beatbox.classifier import load_classifier
    from latentstudio.beatbox.jam import jam
    from latentstudio.beatbox.kit import hydrogen_kit
    from latentstudio.beatbox.rhythm_vae import load_rhythm_vae
    from latentstudio.beatbox.segment import check_voice
    from latentstudio.beatbox.voices import beatbox_phrase

    t0 = time.perf_counter()
    clf, vae = load_classifier(), load_rhythm_vae()
    t_models = time.perf_counter() - t0
    t0 = time.perf_counter()
    kit = hydrogen_kit("GMRockKit")
    t_kit = time.perf_counter() - t0
    phrase, _ = beatbox_phrase("bu:m ts ka ts bu:m bu:m ka tsssss", sr=SR)
    y = np.tile(phrase, int(np.ceil(10 * SR / len(phrase))))[: 10 * SR]
    jam([check_voice(y, sr=SR, name="voice")], classifier=clf, vae=vae, kit=kit, bars=8, bpm=100, seed=0)  # warm-up
    out = {"voice_seconds": 10.0, "bars": 8, "bpm": 100, "model_load_seconds": round(t_models, 3),
           "kit_load_seconds": round(t_kit, 3), "cpu_count": os.cpu_count(),
           "load_average_1min": round(os.getloadavg()[0], 1)}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        times, base = [], []
        for i in range(repeats):
            t0 = time.perf_counter()
            res = jam([check_voice(y, sr=SR, name="voice")], classifier=clf, vae=vae, kit=kit, bars=8, bpm=100, seed=i)
            times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            librosa.onset.onset_detect(y=y, sr=SR, backtrack=True)
            base.append(time.perf_counter() - t0)
        med = statistics.median(times)
        beat_s = len(res.audio) / res.sr
        out[f"torch_threads_{threads}"] = {
            "hits": len(res.hits), "median_seconds": round(med, 4), "all_seconds": [round(t, 4) for t in times],
            "beat_seconds": round(beat_s, 2), "real_time_factor": round(beat_s / med, 1),
            "baseline_librosa_onset_detect_seconds": round(statistics.median(base), 4),
            "ratio_to_librosa_onsets": round(med / statistics.median(base), 2), "under_1s": med < 1.0}
    return out


# --------------------------------------------------------------------------------------- bad input
def bench_bad_input():
    import soundfile as sf

    from latentstudio.beatbox.classifier import load_classifier
    from latentstudio.beatbox.jam import jam
    from latentstudio.beatbox.rhythm_vae import load_rhythm_vae
    from latentstudio.beatbox.segment import load_voice
    from latentstudio.beatbox.voices import beatbox_phrase
    from latentstudio.errors import LatentStudioError

    clf, vae = load_classifier(), load_rhythm_vae()
    out = {}
    with tempfile.TemporaryDirectory() as td:
        d = Path(td)
        phrase, _ = beatbox_phrase("bu:m ts ka ts", sr=SR)
        one, _ = beatbox_phrase("bu:m", sr=SR)
        sf.write(d / "silence.wav", np.zeros(3 * SR, np.float32), SR)
        sf.write(d / "one.wav", one, SR)
        sf.write(d / "clipped.wav", np.clip(phrase * 30, -1, 1), SR)
        with sf.SoundFile(d / "hour.wav", "w", samplerate=8000, channels=1, subtype="PCM_16") as f:
            block = np.tile(np.concatenate([phrase[::2], np.zeros(8000, np.float32)]), 20)
            for _ in range(int(3600 * 8000 / len(block)) + 1):
                f.write(block)
        (d / "text.wav").write_text("these are not samples\n" * 100)
        for name in ("silence.wav", "one.wav", "clipped.wav", "hour.wav", "text.wav"):
            t0 = time.perf_counter()
            try:
                v = load_voice(d / name)
                r = jam([v], classifier=clf, vae=vae, bars=4, bpm=100)
                out[name] = {"ok": True, "hits": len(r.hits), "labels": sorted({h.label for h in r.hits}),
                             "notes": r.notes}
            except LatentStudioError as exc:
                out[name] = {"ok": False, "error": str(exc).replace(str(d) + "/", "")}
            out[name]["seconds"] = round(time.perf_counter() - t0, 2)
            if "notes" in out[name]:
                out[name]["notes"] = [n.replace(str(d) + "/", "") for n in out[name]["notes"]]
    return out


SECTIONS = {"onsets": bench_onsets, "classifier": bench_classifier, "rhythm": bench_rhythm,
            "latency": bench_latency, "bad_input": bench_bad_input}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", choices=list(SECTIONS), default=None)
    ap.add_argument("--classifier", default=None, help="classifier checkpoint to judge (default: shipped)")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    result = {}
    for name, fn in SECTIONS.items():
        if args.only and name not in args.only:
            continue
        t0 = time.perf_counter()
        result[name] = fn(args.classifier) if name == "classifier" else fn()
        result[name]["bench_seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
