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


def _every_class(seed):
    d = _sounds(seed, n=4)
    rng = np.random.default_rng(seed)
    extra = np.stack([d.audio[i] * 0.5 + 0.5 * np.roll(d.audio[i], 40 * (c + 1)) for c in range(5)
                      for i in range(len(d))])
    labels = np.concatenate([d.labels] + [np.full(len(d), CLASSES.index(c)) for c in
                                          ("open_hat", "tom", "cymbal", "clap", "rim")])
    audio = np.concatenate([d.audio, extra]) + 1e-3 * rng.standard_normal((len(labels), d.audio.shape[1]))
    return OneShots(audio.astype(np.float32), labels, ["k"] * len(labels), [str(i) for i in range(len(labels))])


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


def test_train_classifier_tiny_ensemble_learns_and_rebuilds(tmp_path):
    from latentstudio.beatbox.classifier import DrumEnsemble, load_classifier, save_classifier, train_classifier

    model, report = train_classifier(steps=30, batch_size=16, members=2, n_augmented=1, seed=0,
                                     splits={"train": _every_class(0), "validation": _every_class(1)})
    assert np.isfinite(report.val_accuracy) and np.isfinite(report.val_nll_after)       # judged on validation
    assert isinstance(model, DrumEnsemble) and len(model.members) == 2
    assert np.mean(report.losses[-5:]) < np.mean(report.losses[:5])
    assert report.val_sounds == len(_every_class(1)) and 0 < report.temperature
    save_classifier(model, tmp_path / "clf", meta={"command": "test", "seed": 0})
    again = load_classifier(tmp_path / "clf")
    x = torch.rand(3, 1, 48, 48)
    assert torch.allclose(again.model(x), model(x), atol=1e-6)
    assert float(again.model.temperature) == float(model.temperature)
    # the timbre head (on by default) travels with the checkpoint and the classifier uses it
    from latentstudio.beatbox.classifier import TIMBRE_MIXES, DrumClassifier, clip_log_probs

    assert again.model.timbre is not None and min(abs(float(again.model.timbre.mix) - m) for m in TIMBRE_MIXES) < 1e-6
    assert set(report.val_accuracy_by_timbre_mix) == {str(m) for m in TIMBRE_MIXES}
    clips = _every_class(2).audio[:6]
    assert torch.allclose(clip_log_probs(again.model, clips), clip_log_probs(model, clips), atol=1e-5)
    p = DrumClassifier(model).probabilities(list(clips), sr=SR)
    assert p.shape == (6, len(CLASSES)) and np.allclose(p.sum(1), 1, atol=1e-5)


def test_timbre_head_rescues_a_network_that_knows_nothing():
    """An untrained network is at chance on kick/snare/hat; the timbre head fitted on the same sounds tells
    them apart, so the mix chosen on validation is not 0 and the blend beats the network alone."""
    from latentstudio.beatbox.classifier import DrumCNN, clip_log_probs, fit_timbre_head

    torch.manual_seed(0)
    net = DrumCNN().eval()
    train, val = _sounds(0), _sounds(1)
    alone = (clip_log_probs(net, val.audio).argmax(1).numpy() == val.labels).mean()
    net.timbre, scores = fit_timbre_head(net, train, val)
    blended = (clip_log_probs(net, val.audio).argmax(1).numpy() == val.labels).mean()
    assert float(net.timbre.mix) > 0 and scores["0.0"] == alone
    assert blended > 0.9 and blended > alone + 0.2
    assert torch.isfinite(net.timbre.weight).all()


def test_expected_calibration_error():
    from latentstudio.beatbox.evaluate import expected_calibration_error

    sure = np.eye(3)[[0, 1, 2, 0]]
    assert expected_calibration_error(sure, np.array([0, 1, 2, 0])) == 0.0
    assert expected_calibration_error(sure, np.array([1, 2, 0, 1])) == 1.0
    half = np.full((4, 2), 0.5)
    assert expected_calibration_error(half, np.array([0, 0, 1, 1])) == 0.0


def test_train_classifier_validates_on_rank_zero_only(monkeypatch):
    """Under torchrun the other ranks (which write nothing) skip the validation pass: no figures, no
    temperature or timbre head fitted there."""
    import latentstudio.train.distributed as D
    from latentstudio.beatbox.classifier import train_classifier

    monkeypatch.setattr(D, "launched_rank", lambda: 1)
    model, report = train_classifier(steps=4, batch_size=8, members=1, n_augmented=1, seed=0, width=8,
                                     splits={"train": _every_class(0), "validation": _every_class(1)})
    assert np.isnan(report.val_accuracy) and report.temperature == 1.0 and report.val_accuracy_by_timbre_mix == {}
    assert getattr(model, "timbre", None) is None and float(model.temperature) == 1.0
