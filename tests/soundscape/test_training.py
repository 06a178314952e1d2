import numpy as np
import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.soundscape.augment import augment_image, augment_spectrograms, crop_or_place
from latentstudio.soundscape.data import PairSet, read_manifest
from latentstudio.soundscape.evaluate import heldout_recall
from latentstudio.soundscape.training import DistillBatches, DistillConfig, teacher_class_vectors, train_student
from latentstudio.soundscape.features import MelSpec


def _tone(freq, seconds):
    t = np.arange(int(seconds * 16000)) / 16000
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _toy_pairs(n=6):
    """Tones of distinct pitch, each paired with a teacher that is sure of a distinct class."""
    pairs = PairSet()
    for i in range(n):
        logits = np.zeros((2, 1000), np.float32)
        logits[:, 10 * i] = 8.0
        pairs.names.append(f"t{i}")
        pairs.groups.append(f"g{i}")
        pairs.waveforms.append(_tone(200 * 1.6 ** i, 1.5))
        pairs.logits.append(logits)
        pairs.images.append("")
        pairs.sounds.append("")
    return pairs


def test_distillation_loss_falls_and_pairs_are_retrieved(tmp_path):
    cfg = DistillConfig(steps=100, batch_size=6, lr=5e-3, channels=(4, 8, 16), embedding_dim=16, bank_size=2,
                        temperature=1.0, dropout=0.0, weight_decay=0.0, head_init="random")
    model, result = train_student(_toy_pairs(), config=cfg, checkpoint_dir=tmp_path / "ck", checkpoint_every=50)
    assert np.mean(result.losses[-10:]) < 0.6 * np.mean(result.losses[:10])
    recall = heldout_recall(model, _toy_pairs(), ks=(1, 3))
    assert recall[3] > 0.5 and recall[1] > 1 / 6                       # chance: 0.5 and 1/6
    # resume: a finished run resumes at its last step without training again
    again, res2 = train_student(_toy_pairs(), config=cfg, checkpoint_dir=tmp_path / "ck")
    assert res2.resumed_from == 100 and len(res2.losses) == 100


def test_batches_are_seeded_and_hold_distinct_items():
    data = DistillBatches(_toy_pairs(), spec=MelSpec(), temperature=2.0, batch_size=4, bank_size=2)
    a = data(3, torch.Generator().manual_seed(5))
    b = data(3, torch.Generator().manual_seed(5))
    assert torch.equal(a["spectrogram"], b["spectrogram"])
    assert len(set(a["group"].tolist())) == 4
    assert a["spectrogram"].shape == (4, 64, MelSpec().frames(2.0))
    assert torch.allclose(a["target"].sum(dim=1), torch.ones(4))


def test_augmentations_keep_shapes():
    g = torch.Generator().manual_seed(0)
    S = torch.rand(3, 64, 63)
    assert augment_spectrograms(S, generator=g).shape == S.shape
    assert crop_or_place(np.ones(10, np.float32), n=30, generator=g).sum() == 10
    img = np.random.default_rng(0).random((50, 80, 3)).astype(np.float32)
    v = augment_image(img, rng=np.random.default_rng(0), size=32)
    assert v.shape == (32, 32, 3) and 0 <= v.min() and v.max() <= 1


def test_bad_config_and_manifest(tmp_path):
    with pytest.raises(ParameterError, match="temperature"):
        DistillConfig(temperature=0).validate()
    with pytest.raises(ParameterError, match="at least 2"):
        DistillBatches(_toy_pairs(1), spec=MelSpec(), temperature=1.0, batch_size=4)
    m = tmp_path / "pairs.csv"
    m.write_text("image,sound\na.png,\n")
    with pytest.raises(ParameterError, match="row 1"):
        read_manifest(m)


def test_teacher_class_vectors_put_related_classes_together():
    from latentstudio.zoo import imagenet_labels

    v = torch.nn.functional.normalize(teacher_class_vectors("efficientnet_lite0", dim=32), dim=1)
    labels = imagenet_labels()
    ox, buffalo, espresso = (labels.index(x) for x in ("ox", "water buffalo", "espresso"))
    assert v.shape == (1000, 32)
    assert float(v[ox] @ v[buffalo]) > float(v[ox] @ v[espresso]) + 0.3


def _toy_labels(n=4):
    from latentstudio.soundscape.data import LabelSet

    targets = np.zeros((n, 1000), np.float32)
    for i in range(n):
        targets[i, 500 + 10 * i: 503 + 10 * i] = 1 / 3
    return LabelSet(names=[f"l{i}" for i in range(n)], groups=[f"n0000000{i}" for i in range(n)],
                    waveforms=[_tone(3000 + 400 * i, 1.0) for i in range(n)], targets=targets,
                    packages=["p"] * n)


def test_batches_mix_pairs_and_labelled_sounds():
    data = DistillBatches(_toy_pairs(), spec=MelSpec(), temperature=2.0, batch_size=6, bank_size=2,
                          labels=_toy_labels(), label_fraction=0.5, label_bank_size=2)
    b = data(0, torch.Generator().manual_seed(1))
    assert b["spectrogram"].shape[0] == 6 and int(b["is_label"].sum()) == 3
    assert torch.allclose(b["target"][b["is_label"]].sum(dim=1), torch.ones(3))
    assert len(set(b["group"].tolist())) == 6                       # label groups never clash with pairs


def test_label_term_teaches_sounds_without_pictures():
    from latentstudio.soundscape.training import distill_loss

    cfg = DistillConfig(steps=60, batch_size=8, lr=5e-3, channels=(4, 8, 16), embedding_dim=16, bank_size=2,
                        label_bank_size=2, temperature=1.0, dropout=0.0, weight_decay=0.0, head_init="random",
                        label_weight=1.0, label_fraction=0.5)
    model, result = train_student(_toy_pairs(), config=cfg, labels=_toy_labels())
    assert len(result.metrics["kl_label"]) == 60
    labs = _toy_labels()
    probs = np.stack([model.embed_sound(y)[1] for y in labs.waveforms])
    own = [probs[i, 500 + 10 * i: 503 + 10 * i].sum() for i in range(4)]
    assert min(own) > 0.03                                          # untrained: about 3/1000
    batch = DistillBatches(_toy_pairs(), spec=MelSpec(), temperature=1.0, batch_size=4, bank_size=1,
                           labels=labs, label_bank_size=1)(0, torch.Generator().manual_seed(0))
    loss0, m0 = distill_loss(model, batch, contrastive_weight=0.0, contrastive_temperature=0.1, label_weight=0.0)
    loss1, m1 = distill_loss(model, batch, contrastive_weight=0.0, contrastive_temperature=0.1, label_weight=1.0)
    assert float(loss1.detach()) == pytest.approx(float(loss0.detach()) + m1["kl_label"], rel=1e-4)


def test_three_way_split_keeps_groups_whole():
    from latentstudio.soundscape.data import split_three

    groups = [f"g{i // 2}" for i in range(40)]
    tr, va, te = split_three(groups, validation=0.2, test=0.25, seed=0)
    assert bool((tr ^ va ^ te).all()) and int(va.sum()) == 8 and int(te.sum()) == 10
    for mask in (tr, va, te):
        assert {groups[i] for i in np.flatnonzero(mask)}.isdisjoint(
            {groups[i] for i in np.flatnonzero(~mask)})
    assert all((a == b).all() for a, b in zip((tr, va, te), split_three(groups, validation=0.2, test=0.25, seed=0)))
    with pytest.raises(ParameterError, match="validation"):
        split_three(groups, validation=0.6, test=0.5, seed=0)
