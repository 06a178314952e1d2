"""Judging drum classification: the classifier and two plain baselines on a split, and voice calibration.

* :func:`evaluate_predictions` — 8-class accuracy, per class, kick/snare/hat (hats merged), confusion.
* :class:`CentroidRule` — the one-line baseline: spectral centroid thresholds (fitted on train) split
  kick < snare < hat; judged on kick/snare/hat only.
* :class:`MfccKnn` — k-nearest neighbours (cosine) on the mean and spread of 20 MFCCs of the first 0.5 s.
* :func:`evaluate_voices` — zero-shot and few-shot calibrated accuracy on voice percussion, calibrated
  on one voice's examples and judged on that voice's other sounds (``same_voice``) and on every other
  voice (``other_voices``).

Example
-------
>>> from latentstudio.beatbox.oneshots import load_splits          # doctest: +SKIP
>>> splits, _ = load_splits()                                       # doctest: +SKIP
>>> rule = CentroidRule().fit(splits["train"])                      # doctest: +SKIP
>>> evaluate_predictions(splits["test"].labels, rule.predict(splits["test"]))["kick_snare_hat"]  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from latentstudio.beatbox.features import SR, mfcc_stats
from latentstudio.beatbox.oneshots import CLASSES, OneShots

KSH = ("kick", "snare", "closed_hat", "open_hat")


def evaluate_predictions(true: np.ndarray, pred: np.ndarray) -> dict:
    """Accuracy over all classes, per class, kick/snare/hat (hats merged) and the confusion matrix."""
    from latentstudio.beatbox.classifier import confusion_matrix, kick_snare_hat_accuracy, per_class_accuracy

    true, pred = np.asarray(true), np.asarray(pred)
    return {"accuracy": float(np.mean(true == pred)) if len(true) else float("nan"),
            "kick_snare_hat": kick_snare_hat_accuracy(true, pred),
            "per_class": per_class_accuracy(true, pred),
            "counts": {CLASSES[c]: int(np.sum(true == c)) for c in sorted(set(true.tolist()))},
            "confusion_rows_true_cols_pred": confusion_matrix(true, pred, len(CLASSES)).tolist()}


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, *, bins: int = 10) -> float:
    """ECE: the confidence-weighted gap between the top probability and accuracy over ``bins`` bins."""
    probs, labels = np.asarray(probs), np.asarray(labels)
    conf, pred = probs.max(1), probs.argmax(1)
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(float(np.mean(pred[m] == labels[m])) - float(conf[m].mean()))
    return float(ece)


def _clip(audio: np.ndarray, seconds: float) -> np.ndarray:
    return np.asarray(audio, dtype=np.float32)[..., : int(seconds * SR)]


def spectral_centroid(audio: np.ndarray) -> np.ndarray:
    """Energy-weighted mean spectral centroid (Hz) of the first 0.2 s of each 16 kHz sound ``(n, samples)``."""
    x = _clip(audio, 0.2)
    spec = np.abs(np.fft.rfft(x * np.hanning(x.shape[-1]), axis=-1)) ** 2
    freqs = np.fft.rfftfreq(x.shape[-1], 1.0 / SR)
    return (spec * freqs).sum(-1) / np.maximum(spec.sum(-1), 1e-12)


class CentroidRule:
    """kick below ``low`` Hz, hat above ``high`` Hz, snare between (thresholds fitted on kick/snare/hat)."""

    def fit(self, data: OneShots) -> CentroidRule:
        keep = np.isin(data.labels, [CLASSES.index(c) for c in KSH])
        c, y = spectral_centroid(data.audio[keep]), data.labels[keep]
        grid = np.quantile(c, np.linspace(0.02, 0.98, 49))
        best = (-1.0, 0.0, 0.0)
        for lo in grid:
            for hi in grid[grid > lo]:
                acc = self._score(self._predict(c, lo, hi), y)
                best = max(best, (acc, lo, hi))
        _, self.low, self.high = best
        return self

    @staticmethod
    def _predict(c, lo, hi):
        return np.where(c < lo, CLASSES.index("kick"), np.where(c < hi, CLASSES.index("snare"),
                                                                CLASSES.index("closed_hat")))

    @staticmethod
    def _score(pred, y):
        from latentstudio.beatbox.classifier import kick_snare_hat_accuracy

        return kick_snare_hat_accuracy(y, pred)

    def predict(self, data: OneShots) -> np.ndarray:
        return self._predict(spectral_centroid(data.audio), self.low, self.high)


class MfccKnn:
    """k-NN (cosine, standardised features) on :func:`mfcc_stats`."""

    def __init__(self, k: int = 5):
        self.k = k

    def fit(self, data: OneShots) -> MfccKnn:
        f = mfcc_stats(data.audio)
        self.mean, self.std = f.mean(0), f.std(0) + 1e-6
        self.x = self._norm(f)
        self.y = data.labels
        return self

    def _norm(self, f):
        z = (f - self.mean) / self.std
        return z / np.linalg.norm(z, axis=1, keepdims=True).clip(1e-9)

    def predict(self, data: OneShots) -> np.ndarray:
        sim = self._norm(mfcc_stats(data.audio)) @ self.x.T
        nn = np.argsort(-sim, axis=1)[:, : self.k]
        votes = np.zeros((len(sim), len(CLASSES)))
        for j in range(self.k):
            np.add.at(votes, (np.arange(len(sim)), self.y[nn[:, j]]), sim[np.arange(len(sim)), nn[:, j]])
        return votes.argmax(1)


def evaluate_voices(classifier, sounds: list[tuple[str, str, np.ndarray]], *, sr: int, shots: int = 4,
                    per_item: int = 4, shifts: tuple[float, ...] | None = None, take: int = 0) -> dict:
    """Voice percussion ``(label, voice, audio)`` from :func:`~latentstudio.beatbox.voices.voice_sounds`.

    For each voice, ``shots`` examples per class (one per word, at its ``take``-th pitch and speed) calibrate
    the classifier; it is judged on that voice's other sounds (``same_voice``) and on all other voices'
    sounds (``other_voices``), each voice's sounds classified together as one recording. ``zero_shot`` is
    the uncalibrated classifier on the same judged sounds. ``shifts``: the calibration's pitch shifts
    (None: its default, :data:`~latentstudio.beatbox.classifier.CALIBRATION_SHIFTS`; ``()``: none).
    Accuracies are over the voice classes, and kick/snare/hat with the hats merged.
    """
    from latentstudio.beatbox.classifier import kick_snare_hat_accuracy

    labels = np.array([CLASSES.index(lab) for lab, _, _ in sounds])
    voices = np.array([v for _, v, _ in sounds])
    audio = [a for _, _, a in sounds]
    zero = classifier.probabilities(audio, sr=sr).argmax(1)
    same_t, same_p, same_z, other_t, other_p = [], [], [], [], []
    for v in sorted(set(voices)):
        idx = np.flatnonzero(voices == v)
        examples, shot_idx = {}, set()
        for c in sorted(set(labels[idx])):
            chosen = idx[labels[idx] == c][take % per_item::per_item][:shots]
            examples[CLASSES[c]] = [audio[i] for i in chosen]
            shot_idx |= set(chosen.tolist())
        cal = classifier.calibrate(examples, sr=sr, **({} if shifts is None else {"shifts": tuple(shifts)}))
        test = [i for i in idx if i not in shot_idx]
        same_t += list(labels[test])
        same_p += list(cal.probabilities([audio[i] for i in test], sr=sr).argmax(1))
        same_z += list(zero[test])
        for w in sorted(set(voices) - {v}):    # each other voice is its own recording, as in the booth
            others = np.flatnonzero(voices == w)
            other_t += list(labels[others])
            other_p += list(cal.probabilities([audio[i] for i in others], sr=sr).argmax(1))

    def figures(t, p):
        t, p = np.asarray(t), np.asarray(p)
        return {"accuracy": round(float(np.mean(t == p)), 4), "kick_snare_hat": round(kick_snare_hat_accuracy(t, p), 4)}

    return {"sounds": len(sounds), "voices": sorted(set(voices.tolist())), "shots_per_class": shots,
            "zero_shot": figures(labels, zero), "zero_shot_same_judged_sounds": figures(same_t, same_z),
            "calibrated_same_voice": figures(same_t, same_p), "calibrated_other_voices": figures(other_t, other_p)}
