import numpy as np
import torch

from latentstudio.beatbox.grammar import grammar_patterns
from latentstudio.beatbox.pattern import N_VOICES
from latentstudio.beatbox.rhythm_vae import (RhythmVAE, encode_patterns, decode_patterns, evaluate_rhythm, humanise,
                                             load_rhythm_vae, rhythm_loss, sample_patterns, slerp)


def test_tiny_vae_learns_through_the_project_loop():
    from latentstudio.train import TrainConfig, fit

    data = torch.from_numpy(np.stack([p.to_array() for p in grammar_patterns(200, seed=0)]))
    model = RhythmVAE(latent_dim=4, hidden=32)

    def batch(step, g):
        return data[torch.randint(0, len(data), (32,), generator=g)]

    res = fit(model, data=batch, loss_fn=lambda m, x: rhythm_loss(m, x), config=TrainConfig(steps=150, lr=3e-3))
    assert np.mean(res.losses[-10:]) < 0.6 * np.mean(res.losses[:10])


def test_shipped_vae_honours_density_and_reconstructs():
    vae = load_rhythm_vae()
    held = grammar_patterns(60, seed=123)  # other seed than training
    ev = evaluate_rhythm(vae, held)
    assert ev["density_correlation"] > 0.8
    assert ev["onset_f1"] > 0.7
    sparse = np.array([0.125, 0.06, 0.125, 0, 0, 0, 0, 0, 0], np.float32)
    busy = np.array([0.3, 0.15, 1.0, 0, 0, 0, 0, 0, 0], np.float32)
    d_sparse = np.mean([p.density() for p in sample_patterns(vae, density=sparse, n=8, seed=0)], axis=0)
    d_busy = np.mean([p.density() for p in sample_patterns(vae, density=busy, n=8, seed=0)], axis=0)
    assert d_busy[2] > d_sparse[2] + 0.3


def test_interpolation_and_humanise():
    vae = load_rhythm_vae()
    a, b = grammar_patterns(2, seed=5)
    za, zb = encode_patterns(vae, [a, b])
    assert torch.allclose(slerp(za, zb, 0.0), za, atol=1e-5)
    assert torch.allclose(slerp(za, zb, 1.0), zb, atol=1e-5)
    mid = decode_patterns(vae, slerp(za, zb, 0.5)[None], (a.density() + b.density()) / 2)[0]
    assert mid.hits.shape == a.hits.shape
    h = humanise(a, amount=1.0, seed=0)
    assert np.array_equal(h.hits, a.hits)
    assert not np.allclose(h.offset, a.offset)
    assert np.all(np.abs(h.offset) <= 0.5)
    assert len(np.unique([p.hits.tobytes() for p in sample_patterns(vae, density=a.density(), n=4, temperature=1.0)])) > 1
    assert N_VOICES == 9
