import numpy as np
import torch

from latentstudio.beatbox.augment import augment_audio, augment_patches
from latentstudio.beatbox.classifier import (DrumCNN, confusion_matrix, kick_snare_hat_accuracy,
                                              kick_snare_hat_choice)
from latentstudio.beatbox.features import CLIP_SAMPLES, N_FRAMES, N_MELS, patches


def test_augmentation_is_seeded_and_keeps_shapes():
    audio = torch.randn(4, 16000) * torch.exp(-torch.arange(16000) / 2000.0)
    a = augment_audio(audio, torch.Generator().manual_seed(1))
    b = augment_audio(audio, torch.Generator().manual_seed(1))
    assert a.shape == (4, CLIP_SAMPLES) and torch.equal(a, b)
    assert not torch.equal(a, augment_audio(audio, torch.Generator().manual_seed(2)))
    p = augment_patches(patches(a), torch.Generator().manual_seed(0))
    assert p.shape == (4, 1, N_MELS, N_FRAMES)
    assert float(p.min()) >= 0 and float(p.max()) == 1.0


def test_cnn_shapes_and_metrics():
    m = DrumCNN()
    x = torch.rand(3, 1, N_MELS, N_FRAMES)
    assert m(x).shape == (3, 8) and m.embedding(x).shape == (3, 64)
    cm = confusion_matrix(np.array([0, 1, 2, 3]), np.array([0, 1, 3, 2]), 8)
    assert cm.sum() == 4 and cm[2, 3] == 1
    assert kick_snare_hat_accuracy(np.array([0, 1, 2, 3]), np.array([0, 1, 3, 2])) == 1.0
    assert kick_snare_hat_accuracy(np.array([0, 1]), np.array([1, 1])) == 0.5


def test_kick_snare_hat_choice_sums_the_hats_and_ignores_other_pads():
    from latentstudio.beatbox.oneshots import CLASSES

    p = np.full((3, len(CLASSES)), 0.01)
    p[0, CLASSES.index("tom")], p[0, CLASSES.index("kick")] = 0.6, 0.3        # a tom-ish kick: still a kick
    p[1, CLASSES.index("snare")] = 0.4                                         # hats 0.3 + 0.3 beat the snare
    p[1, CLASSES.index("closed_hat")], p[1, CLASSES.index("open_hat")] = 0.3, 0.3
    p[2, CLASSES.index("snare")], p[2, CLASSES.index("clap")] = 0.2, 0.7
    choice = kick_snare_hat_choice(np.log(p))
    assert [CLASSES[c] for c in choice] == ["kick", "closed_hat", "snare"]


def test_cnn_learns_kick_from_hat_through_the_project_loop():
    from latentstudio.train import TrainConfig, fit

    t = torch.arange(CLIP_SAMPLES) / 16000.0

    def batch(step, g):
        y = torch.randint(0, 2, (16,), generator=g)
        f0 = 40 + 80 * torch.rand(16, 1, generator=g)
        kick = torch.sin(2 * torch.pi * f0 * t) * torch.exp(-t * 8)
        hat = torch.randn(16, CLIP_SAMPLES, generator=g) * torch.exp(-t * 40)
        x = torch.where(y[:, None] == 0, kick, hat)
        return augment_patches(patches(x), g), y

    torch.manual_seed(0)  # the model's initial weights come from the global generator
    model = DrumCNN(n_classes=2, width=4, embed_dim=8)
    res = fit(model, data=batch, loss_fn=lambda m, b: torch.nn.functional.cross_entropy(m(b[0]), b[1]),
              config=TrainConfig(steps=30, lr=1e-2))
    assert np.mean(res.losses[-5:]) < 0.5 * np.mean(res.losses[:5])
