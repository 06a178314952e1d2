import numpy as np
import torch

from latentstudio.beatbox.classifier import fit_temperature, kick_snare_hat_accuracy
from latentstudio.beatbox.evaluate import CentroidRule, MfccKnn, evaluate_predictions
from latentstudio.beatbox.features import SR
from latentstudio.beatbox.oneshots import CLASSES, OneShots, prepare


def _sounds(seed, n=12):
    rng = np.random.default_rng(seed)
    t = np.arange(SR) / SR
    audio, labels = [], []
    for i in range(n):
        f = 50 + 40 * rng.random()
        audio.append(prepare(np.sin(2 * np.pi * np.cumsum(f + 100 * np.exp(-t * 30)) / SR) * np.exp(-t * 15)))
        labels.append(CLASSES.index("kick"))
        noise = rng.standard_normal(SR)
        band = np.convolve(noise, np.ones(4) / 4, "same")  # mid-heavy noise
        audio.append(prepare(band * np.exp(-t * 20)))
        labels.append(CLASSES.index("snare"))
        audio.append(prepare(np.diff(noise, prepend=0) * np.exp(-t * 60)))
        labels.append(CLASSES.index("closed_hat"))
    return OneShots(np.stack(audio), np.array(labels), ["k"] * len(labels), [str(i) for i in range(len(labels))])


def test_baselines_learn_kick_snare_hat():
    train, test = _sounds(0), _sounds(1)
    for model in (CentroidRule(), MfccKnn(k=3)):
        pred = model.fit(train).predict(test)
        assert kick_snare_hat_accuracy(test.labels, pred) > 0.9
    ev = evaluate_predictions(test.labels, MfccKnn(k=3).fit(train).predict(test))
    assert set(ev["counts"]) == {"kick", "snare", "closed_hat"} and ev["accuracy"] > 0.9
    assert np.array(ev["confusion_rows_true_cols_pred"]).sum() == len(test)


def test_fit_temperature_recovers_overconfidence():
    rng = np.random.default_rng(0)
    true_logits = torch.from_numpy(rng.normal(size=(400, 5))).float()
    labels = torch.distributions.Categorical(logits=true_logits).sample().numpy()
    t, before, after = fit_temperature(true_logits * 3.0, labels)  # three times too sharp
    assert 2.4 < t < 3.8 and after < before
