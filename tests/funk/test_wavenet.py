"""NeuralFunk's WaveNet: mu-law, causality, fast generation == naive generation, training, checkpoints, bad input."""

import numpy as np
import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.funk.wavenet import (WaveNet, generate, generate_naive, log_mel_frames, mu_law_decode,
                                       mu_law_encode, train_wavenet)
from latentstudio.zoo.checkpoint import load_checkpoint, save_checkpoint

TINY = dict(n_mels=6, hop_length=16, cond_dim=3, residual=6, skip=10, layers=4, stacks=2, classes=32)


def tiny(seed=0, scale=1.0, **kw):
    torch.manual_seed(seed)
    net = WaveNet(**{**TINY, **kw}).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(scale)
    return net


def conditioning(net, b, n, seed=0):
    g = torch.Generator().manual_seed(seed)
    mel = torch.rand(b, net.n_mels, -(-n // net.hop_length), generator=g)
    cond = torch.randn(b, net.cond_dim, generator=g) if net.cond_dim else None
    return mel, cond


def test_mu_law_round_trip():
    q = np.arange(256)
    assert np.array_equal(mu_law_encode(mu_law_decode(q)), q)
    y = np.linspace(-1, 1, 4001).astype(np.float32)
    back = mu_law_decode(mu_law_encode(y))
    assert back.dtype == np.float32 and mu_law_encode(y).dtype == np.int64
    assert np.abs(back - y).max() < 0.025
    small = np.abs(y) < 0.01                       # fine steps near silence
    assert np.abs(back - y)[small].max() < 2e-4
    assert mu_law_encode(np.array([0.0, -2.0, 2.0])).tolist() == [128, 0, 255]
    t = mu_law_encode(torch.tensor([-0.5, 0.0, 0.5]), mu=15)
    assert t.dtype == torch.int64 and t.tolist() == [2, 8, 13]
    assert isinstance(mu_law_decode(t, mu=15), torch.Tensor)


def test_shapes_receptive_field_and_config():
    net = tiny()
    assert net.receptive_field == 1 + 2 * (1 + 2 + 4 + 8)
    assert net.config() == TINY
    mel, cond = conditioning(net, 2, 100)
    q = torch.randint(0, 32, (2, 100))
    assert net(q, mel, cond).shape == (2, 32, 100)
    assert torch.isfinite(net.loss(q, mel, cond))
    d = WaveNet()
    assert d.receptive_field >= d.hop_length        # the shipped size sees at least one frame's worth


def test_causal_in_audio_and_mel():
    net = tiny(scale=2.0)
    n, t0 = 160, 70
    mel, cond = conditioning(net, 1, n)
    q = torch.randint(0, 32, (1, n), generator=torch.Generator().manual_seed(1))
    base = net(q, mel, cond)
    q2 = q.clone()
    q2[:, t0:] = (q2[:, t0:] + 7) % 32              # change the audio from t0 on
    out = net(q2, mel, cond)
    assert torch.equal(out[..., :t0 + 1], base[..., :t0 + 1])     # position t sees classes < t only
    assert not torch.allclose(out[..., t0 + 1:], base[..., t0 + 1:])
    mel2 = mel.clone()
    f = t0 // net.hop_length + 1
    mel2[..., f:] += 1.0                            # change the frames after the one of t0
    out = net(q, mel2, cond)
    assert torch.equal(out[..., :f * net.hop_length], base[..., :f * net.hop_length])
    assert not torch.allclose(out[..., f * net.hop_length:], base[..., f * net.hop_length:])


@pytest.mark.parametrize("b", [1, 3])
@pytest.mark.parametrize("temperature", [0.0, 1.0, 0.6])
def test_fast_generation_equals_naive(b, temperature):
    net = tiny(scale=2.5)                           # large weights: varied, confident predictions
    n = 150                                          # several receptive fields (31) and frames (16)
    mel, cond = conditioning(net, b, n)

    def gen():                                      # the same draws for both (none at all for argmax)
        return torch.Generator().manual_seed(5) if temperature else None

    ref = generate_naive(net, mel, cond, n_samples=n, temperature=temperature, generator=gen())
    fast = generate(net, mel.numpy(), cond.numpy(), n_samples=n, temperature=temperature, generator=gen())
    assert fast.shape == (b, n) and fast.dtype == np.float32
    assert np.array_equal(fast, ref)
    assert len(np.unique(mu_law_encode(fast, mu=31))) > 3       # not a constant signal


def test_fast_generation_extreme_logits_and_no_global_cond():
    # logits far beyond exp's range take the peak-subtracting path in both generators
    net = tiny(scale=6.0, cond_dim=0)
    mel, _ = conditioning(net, 2, 90)
    a = generate(net, mel, None, n_samples=90, temperature=0.05, generator=torch.Generator().manual_seed(2))
    b = generate_naive(net, mel, None, n_samples=90, temperature=0.05, generator=torch.Generator().manual_seed(2))
    assert np.array_equal(a, b)
    a = generate(net, mel[:1], None, n_samples=90, temperature=0.05, generator=torch.Generator().manual_seed(2))
    b = generate_naive(net, mel[:1], None, n_samples=90, temperature=0.05, generator=torch.Generator().manual_seed(2))
    assert np.array_equal(a, b)


def test_generation_is_seeded():
    net = tiny(scale=2.0)
    mel, cond = conditioning(net, 2, 200)
    a = generate(net, mel, cond, n_samples=200, generator=torch.Generator().manual_seed(3))
    calls = []
    b = generate(net, mel, cond, n_samples=200, generator=torch.Generator().manual_seed(3),
                 progress=lambda done, total: calls.append((done, total)))
    c = generate(net, mel, cond, n_samples=200, generator=torch.Generator().manual_seed(4))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert calls == [(t, 200) for t in range(16, 200, 16)] + [(200, 200)]     # every hop and at the end


def test_train_wavenet_loss_falls_and_checkpoints(tmp_path):
    sr = 16000
    t = np.arange(2048) / sr
    y = (0.7 * np.sin(2 * np.pi * 250 * t) * np.exp(-6 * t)).astype(np.float32)       # a decaying tone
    mel = log_mel_frames(y, n_mels=8)
    cond = np.ones(2, np.float32)
    cfg = {"residual": 8, "skip": 16, "layers": 5, "stacks": 1, "classes": 64}
    seen = []
    net, losses = train_wavenet([(y, mel, cond), (y[:300], mel[:, :2], cond)], steps=60, batch_size=4,
                                segment=256, lr=2e-2, seed=0, model_config=cfg, checkpoint_dir=tmp_path / "run",
                                progress=lambda step, total, loss: seen.append(step))
    assert len(losses) == 60 and seen[-1] == 60
    assert np.mean(losses[-10:]) < 0.6 * np.mean(losses[:10])      # about 3.9 -> 1.4 nats
    assert net.n_mels == 8 and net.cond_dim == 2 and not net.training
    # the training run's checkpoint and a save/load round trip rebuild the same network
    run, _ = load_checkpoint(next((tmp_path / "run").glob("step-*")))
    save_checkpoint(tmp_path / "wn", net, config=net.config())
    back, info = load_checkpoint(tmp_path / "wn")
    assert isinstance(back, WaveNet) and info["config"] == net.config()
    m = torch.from_numpy(mel)[None]
    c = torch.from_numpy(cond)[None]
    q = torch.from_numpy(mu_law_encode(y, mu=63))[None, :512]
    with torch.no_grad():
        assert torch.equal(back(q, m, c), net(q, m, c)) and torch.equal(run(q, m, c), net(q, m, c))
    a = generate(back, m, c, n_samples=64, temperature=0)
    assert np.array_equal(a, generate(net, m, c, n_samples=64, temperature=0, generator=None))


def test_bad_inputs():
    net = tiny()
    mel, cond = conditioning(net, 2, 64)
    g = torch.Generator().manual_seed(0)
    for fn in (generate, generate_naive):
        with pytest.raises(ParameterError, match="mel"):
            fn(net, mel[0], cond, n_samples=64, generator=g)                     # (n_mels, frames): no batch
        with pytest.raises(ParameterError, match="n_mels"):
            fn(net, mel[:, :4], cond, n_samples=64, generator=g)
        with pytest.raises(ParameterError, match="frames"):
            fn(net, mel, cond, n_samples=65, generator=g)                        # one frame short
        with pytest.raises(ParameterError, match="n_samples"):
            fn(net, mel, cond, n_samples=0, generator=g)
        with pytest.raises(ParameterError, match="n_samples"):
            fn(net, mel, cond, n_samples=-5, generator=g)
        with pytest.raises(ParameterError, match="temperature"):
            fn(net, mel, cond, n_samples=64, temperature=-0.1, generator=g)
        with pytest.raises(ParameterError, match="temperature"):
            fn(net, mel, cond, n_samples=64, temperature=float("nan"), generator=g)
        with pytest.raises(ParameterError, match="batch"):
            fn(net, mel, cond[:1], n_samples=64, generator=g)                    # mismatched batch
        with pytest.raises(ParameterError, match="cond"):
            fn(net, mel, None, n_samples=64, generator=g)
        with pytest.raises(ParameterError, match="generator"):
            fn(net, mel, cond, n_samples=64, temperature=1.0, generator=None)
        with pytest.raises(ParameterError, match="finite"):
            fn(net, mel * float("nan"), cond, n_samples=64, generator=g)
    with pytest.raises(ParameterError, match="audio_q"):
        net(torch.zeros(2, 64), mel, cond)                                        # float, not classes
    with pytest.raises(ParameterError, match="batch"):
        net(torch.zeros(3, 64, dtype=torch.int64), mel, torch.zeros(3, 3))
    with pytest.raises(ParameterError, match="layers"):
        WaveNet(layers=0)
    with pytest.raises(ParameterError, match="residual"):
        WaveNet(residual=2.5)
    with pytest.raises(ParameterError, match="mu"):
        mu_law_encode(np.zeros(3), mu=0)
    with pytest.raises(ParameterError, match="outside"):
        mu_law_decode(np.array([0, 256]))
    with pytest.raises(ParameterError, match="NaN"):
        mu_law_encode(np.array([np.nan]))
    y = np.zeros(512, np.float32)
    with pytest.raises(ParameterError, match="empty"):
        train_wavenet([], steps=1, batch_size=1)
    with pytest.raises(ParameterError, match="mel"):
        train_wavenet([(y, np.zeros((8, 1), np.float32), None)], steps=1, batch_size=1, model_config={"n_mels": 8})
    with pytest.raises(ParameterError, match="cond"):
        train_wavenet([(y, np.zeros((8, 2), np.float32), np.zeros(4)), (y, np.zeros((8, 2), np.float32), None)],
                      steps=1, batch_size=1)
    with pytest.raises(ParameterError, match="steps"):
        train_wavenet([(y, np.zeros((8, 2), np.float32), None)], steps=0, batch_size=1)
    with pytest.raises(ParameterError, match="model_config"):
        train_wavenet([(y, np.zeros((8, 2), np.float32), None)], steps=1, batch_size=1, model_config={"width": 3})
