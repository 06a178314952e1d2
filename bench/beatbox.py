"""Neural Beatbox: onset F-measure, held-out-kit and voice classification, rhythm VAE, latency, bad input.

Prints one JSON object. Sections (``--only`` to pick some):

* ``onsets`` — F-measure (30 ms, mir_eval) of ``core.onsets.onset_detect`` beside librosa's
  ``onset_detect(backtrack=True)`` on drum sequences with known onsets: the 8 GM drum kits of FluidR3 (the
  classifier's test source) rendered dry, with FluidSynth's reverb, and with flams under reverb; and Hydrogen
  kit samples mixed at known times (samples that hold several hits themselves are left out, see
  ``_reattacks``); dense (down to 90 ms apart, with simultaneous hits) and random velocities.
* ``onset_validation`` — where onset recipes are chosen: each ``--onset-models`` network (and the shipped one)
  on :func:`~latentstudio.beatbox.onsetnet.validation_sequences` (the validation split's one-shots, and
  csound's GM kits dry and in FluidSynth's hall at the bank's own, half and full reverb send), with its
  threshold re-chosen there as training chooses it; median and range over the models given.
* ``classifier`` — on the test split of ``beatbox.oneshots`` (sample sources never trained on: FluidR3 GM's
  kits at 5 velocities): the classifier trained by ``train_classifier`` with 3 seeds (median and range),
  8-class accuracy, per class, kick/snare/hat (its 8-class answer, and ``kick_snare_hat_3_pads``: the
  likeliest of kick, snare and hat, a three-pad kit's question and the centroid rule's), and the same
  networks without their timbre head; beside a
  spectral-centroid rule and an MFCC k-NN fitted on the same train split; the shipped model too
  (``--no-timbre``: train without the head). Then espeak-ng voice percussion on the test voices (never
  used for a choice): zero-shot, and 4-shot calibrated judged on the same voice's other sounds and on
  the other voices.
* ``voices`` — the voice figures alone, for the shipped (or ``--classifier``) model, with and without the
  calibration's pitch shifts, on the test voices and on the validation voices they were chosen on.
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

try:  # python -m bench NAME
    from bench._stats import spread
except ImportError:  # python bench/NAME.py
    from _stats import spread

SR = 22050


# ------------------------------------------------------------------------------------------ onsets
def _sequence_times(rng, n=40, min_gap=0.09):
    t, out = 0.3, []
    for _ in range(n):
        out.append(t)
        t += rng.uniform(min_gap, 0.5)
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


def bench_onsets(n=10, seed=0, models=()):
    """Onset F (30 ms) of ours and of librosa ``onset_detect(backtrack=True)`` on the same sequences;
    ``models``: onset networks (e.g. training seeds) judged beside the shipped one, summarised as median and
    range."""
    import librosa
    import mir_eval

    from latentstudio.beatbox.oneshots import GM_KIT_PROGRAMS
    from latentstudio.beatbox.onsetnet import detect_onsets, gm_drum_sequences, load_onset_net
    from latentstudio.beatbox.segment import segment_sounds
    from latentstudio.core.onsets import onset_detect

    rng = np.random.default_rng(seed)
    sets = {"gm_soundfont_dry": gm_drum_sequences(n, rng, sr=SR, programs=GM_KIT_PROGRAMS),
            "gm_soundfont_reverb": gm_drum_sequences(n, rng, sr=SR, reverb=0.8, programs=GM_KIT_PROGRAMS),
            "gm_soundfont_flams_reverb": gm_drum_sequences(n, rng, sr=SR, reverb=0.6, flams=0.3,
                                                           programs=GM_KIT_PROGRAMS),
            "hydrogen_kits": _hydrogen_sequences(n, rng)}
    nets = {f"onset_net:{m}": load_onset_net(m) for m in models}
    detectors = {**{name: (lambda net: lambda y: detect_onsets(y, sr=SR, net=net))(net) for name, net in nets.items()},
                 "segment_drums": lambda y: np.array([g.time for g in segment_sounds(y, sr=SR, min_db=-60,
                                                                                     kind="drums")]),
                 "segment_voice": lambda y: np.array([g.time for g in segment_sounds(y, sr=SR, min_db=-60)]),
                 "core_flux_onset_detect": lambda y: onset_detect(y, sr=SR, backtrack=True),
                 "librosa": lambda y: librosa.onset.onset_detect(y=y, sr=SR, backtrack=True, units="time")}
    from latentstudio.beatbox.voices import TEST_VOICES, beatbox_phrase

    words = ["bu:m", "ts", "ka", "tsssss", "pSS", "bUm", "t", "kV"]
    sets["voice_phrases_test_voices"] = [
        (lambda p: (p[0], np.array(p[1])))(beatbox_phrase(" ".join(rng.permutation(words)), voice=v, sr=SR,
                                                          gap=float(rng.uniform(0.06, 0.2))))
        for v in TEST_VOICES]
    res = {}
    for name, seqs in sets.items():
        res[name] = {"sequences": len(seqs), "onsets": int(sum(len(r) for _, r in seqs))}
        for det, fn in detectors.items():
            scores, offs = [], []
            for y, ref in seqs:
                est = np.asarray(fn(y))
                scores.append(mir_eval.onset.f_measure(ref, est, window=0.03))
                offs += [est[j] - ref[i] for i, j in mir_eval.util.match_events(ref, est, 0.03)]
            f, p, r = np.mean(scores, axis=0)
            res[name][det] = {"f_measure": round(float(f), 4), "precision": round(float(p), 4),
                              "recall": round(float(r), 4),
                              "median_offset_ms": round(1000 * float(np.median(offs)), 2) if offs else None}
        if nets:
            res[name]["onset_nets_f_measure"] = spread([res[name][k]["f_measure"] for k in nets])
    res["note"] = ("gm_soundfont_*: FluidR3 GM's 8 drum kits (the classifier's test source), FluidSynth reverb "
                   "room 0.8 / 0.6; flams: 30% of hits get a grace note 35-60 ms before, both counted; "
                   "voice_phrases: espeak-ng test voices saying 8 beatbox words 60-200 ms apart (one onset per "
                   "word); segment_drums / segment_voice: `beatbox segment --kind drums / voice`")
    return res


def bench_onset_validation(models=()):
    """Onset F of each network on the validation sequences at the threshold chosen there (validation only)."""
    from latentstudio.beatbox.onsetnet import choose_threshold, load_onset_net, validation_sequences

    audio, truths = validation_sequences()
    rows = {}
    for m in (None, *models):
        thr, scores = choose_threshold(load_onset_net(m), audio, truths)
        rows[m or "shipped"] = {"threshold": thr, "f_measure": round(scores[f"{thr:.2f}"], 4)}
    out = {"sequences": len(audio), "models": rows}
    if models:
        out["onset_nets_f_measure"] = spread([rows[m]["f_measure"] for m in models])
    return out


# -------------------------------------------------------------------------------------- classifier
def _rounded(d):
    if isinstance(d, float):
        return round(d, 4)
    if isinstance(d, dict):
        return {k: _rounded(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_rounded(v) for v in d]
    return d


def bench_classifier(path=None, seeds=(0, 1, 2), steps=None, timbre=True):
    """Test split (sources never trained on, see ``oneshots.SPLITS``): the classifier trained by the
    project's own ``train_classifier`` with each of ``seeds`` (plus the shipped or ``path`` model), beside
    the spectral-centroid rule and MFCC k-NN fitted on the same train split; then voice percussion."""
    import torch

    from latentstudio.beatbox.classifier import (SHIPPED, DrumClassifier, clip_log_probs, kick_snare_hat_accuracy,
                                                 kick_snare_hat_choice, load_classifier, network_log_probs,
                                                 train_classifier)
    from latentstudio.beatbox.evaluate import (CentroidRule, MfccKnn, evaluate_predictions, evaluate_voices,
                                               expected_calibration_error)
    from latentstudio.beatbox.oneshots import SPLITS, load_splits
    from latentstudio.beatbox.voices import TEST_VOICES, VALIDATION_VOICES, voice_sounds
    from latentstudio.zoo.checkpoint import read_config

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    splits, dropped = load_splits()
    train, test = splits["train"], splits["test"]
    out = {"splits": {k: {"sounds": len(v), "sources": sorted(set(v.sources)), "families": len(set(v.kits))}
                      for k, v in splits.items()},
           "split_rules": {k: [list(r) for r in v] for k, v in SPLITS.items()}, "dropped_copies": dropped}
    shipped = load_classifier(path)
    meta = read_config(path or SHIPPED).get("meta", {})
    shipped_lp = clip_log_probs(shipped.model, test.audio).numpy()
    out["shipped_model"] = {"test": _rounded(evaluate_predictions(test.labels, shipped_lp.argmax(1))),
                            "test_kick_snare_hat_3_pads": round(kick_snare_hat_accuracy(
                                test.labels, kick_snare_hat_choice(shipped_lp)), 4),
                            "trained_with": {k: meta.get(k) for k in ("command", "steps", "seed")}}
    runs = []
    for seed in seeds:
        kw = {} if steps is None else {"steps": steps}
        model, report = train_classifier(seed=seed, timbre=timbre, **kw)
        logits = clip_log_probs(model, test.audio)
        ev = evaluate_predictions(test.labels, logits.argmax(1).numpy())
        # a three-pad kit's question (kick, snare or hat?), the one the centroid rule answers
        ev["kick_snare_hat_3_pads"] = kick_snare_hat_accuracy(test.labels, kick_snare_hat_choice(logits.numpy()))
        # the same networks without their timbre head (ablation)
        alone = evaluate_predictions(test.labels, network_log_probs(model, test.audio).argmax(1).numpy())
        ev["network_alone"] = {"accuracy": alone["accuracy"], "kick_snare_hat": alone["kick_snare_hat"]}
        ev["ece_raw"] = expected_calibration_error(torch.softmax(logits, 1).numpy(), test.labels)
        ev["ece_calibrated"] = expected_calibration_error(torch.softmax(logits / model.temperature, 1).numpy(),
                                                          test.labels)
        runs.append({"seed": seed, "val_accuracy": report.val_accuracy, "timbre_mix": report.val_accuracy_by_timbre_mix,
                     "val_kick_snare_hat": report.val_kick_snare_hat_accuracy, "test": ev,
                     "train_seconds": report.seconds, "model": DrumClassifier(model)})
    out["trained_runs"] = {
        "seeds": list(seeds), "test_accuracy_8_classes": spread([r["test"]["accuracy"] for r in runs]),
        "test_kick_snare_hat": spread([r["test"]["kick_snare_hat"] for r in runs]),
        "test_kick_snare_hat_3_pads": spread([r["test"]["kick_snare_hat_3_pads"] for r in runs]),
        "test_network_alone_8_classes": spread([r["test"]["network_alone"]["accuracy"] for r in runs]),
        "test_network_alone_kick_snare_hat": spread([r["test"]["network_alone"]["kick_snare_hat"] for r in runs]),
        "test_per_class_median": {c: round(statistics.median(r["test"]["per_class"][c] for r in runs), 4)
                                  for c in runs[0]["test"]["per_class"]},
        "test_counts": runs[0]["test"]["counts"],
        "val_accuracy": spread([r["val_accuracy"] for r in runs]),
        "val_kick_snare_hat": spread([r["val_kick_snare_hat"] for r in runs]),
        "val_accuracy_by_timbre_mix": [r["timbre_mix"] for r in runs],
        "train_seconds": spread([r["train_seconds"] for r in runs]),
        "test_ece_before_temperature": spread([r["test"]["ece_raw"] for r in runs]),
        "test_ece_after_temperature": spread([r["test"]["ece_calibrated"] for r in runs]),
        "confusion_seed_0": runs[0]["test"]["confusion_rows_true_cols_pred"]}
    rule, knn = CentroidRule().fit(train), MfccKnn().fit(train)
    out["baselines"] = {"centroid_rule": _rounded(evaluate_predictions(test.labels, rule.predict(test))),
                        "mfcc_knn_5": _rounded(evaluate_predictions(test.labels, knn.predict(test)))}
    out["baselines"]["centroid_rule"]["note"] = "kick/snare/hat only (thresholds fitted on train)"
    # voices: calibration choices were made on VALIDATION_VOICES; the test voices only judge
    sounds = voice_sounds(voices=TEST_VOICES, sr=SR)
    vres = [evaluate_voices(r["model"], sounds, sr=SR) for r in runs]
    out["voice_test"] = {"voices": list(TEST_VOICES), "sounds": len(sounds), "shots_per_class": 4}
    for key in ("zero_shot", "calibrated_same_voice", "calibrated_other_voices"):
        out["voice_test"][key] = {m: spread([v[key][m] for v in vres]) for m in ("accuracy", "kick_snare_hat")}
    out["voice_validation_voices"] = list(VALIDATION_VOICES)
    return out


# ------------------------------------------------------------------------------------------ voices
def bench_voices(path: str | None = None) -> dict:
    """espeak-ng voice percussion, 4 examples per class from one voice, judged on its other sounds and on
    the other voices: the test voices (never used for a choice) and, for the record, the validation voices
    the calibration was chosen on; each with and without the calibration's pitch shifts. The 8-class
    network only enters zero-shot: calibration with two classes or more works in MFCC space."""
    from latentstudio.beatbox.classifier import CALIBRATION_SHIFTS, load_classifier
    from latentstudio.beatbox.evaluate import evaluate_voices
    from latentstudio.beatbox.voices import TEST_VOICES, VALIDATION_VOICES, voice_sounds

    clf = load_classifier(path)
    out = {"shots_per_class": 4, "shifts": list(CALIBRATION_SHIFTS),
           "takes": "median (range) over the 4 takes (pitch and speed) the examples are drawn from"}
    for split, voices in (("test", TEST_VOICES), ("validation", VALIDATION_VOICES)):
        sounds = voice_sounds(voices=voices, sr=SR)
        res = {"voices": list(voices), "sounds": len(sounds)}
        for name, shifts in (("with_shifts", None), ("without_shifts", ())):
            runs = [evaluate_voices(clf, sounds, sr=SR, shifts=shifts, take=k) for k in range(4)]
            res["zero_shot"] = runs[0]["zero_shot"]
            res[name] = {key: {m: spread([r[key][m] for r in runs]) for m in ("accuracy", "kick_snare_hat")}
                         for key in ("calibrated_same_voice", "calibrated_other_voices")}
        out[split] = res
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


SECTIONS = {"onsets": bench_onsets, "onset_validation": bench_onset_validation, "classifier": bench_classifier,
            "voices": bench_voices, "rhythm": bench_rhythm,
            "latency": bench_latency, "bad_input": bench_bad_input}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="*", choices=list(SECTIONS), default=None)
    ap.add_argument("--classifier", default=None, help="classifier checkpoint to judge (default: shipped)")
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2], help="training seeds for the classifier")
    ap.add_argument("--steps", type=int, default=None, help="training steps (default: train_classifier's)")
    ap.add_argument("--no-timbre", action="store_true", help="train without the timbre head (ablation)")
    ap.add_argument("--onset-models", nargs="*", default=[],
                    help="onset networks (e.g. train-onsets seeds) judged beside the shipped one (onsets)")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    result = {}
    for name, fn in SECTIONS.items():
        if args.only and name not in args.only:
            continue
        t0 = time.perf_counter()
        if name == "classifier":
            result[name] = fn(args.classifier, tuple(args.seeds), args.steps, not args.no_timbre)
        elif name in ("onsets", "onset_validation"):
            result[name] = fn(models=tuple(args.onset_models))
        elif name == "voices":
            result[name] = fn(args.classifier)
        else:
            result[name] = fn()
        result[name]["bench_seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
