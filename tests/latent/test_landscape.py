import numpy as np
import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.latent.landscape import (add_cartogram, compute_landscape, decoder_map, fit_bounds,
                                           render_cartogram, render_flow, render_map)
from latentstudio.latent.vae import TextVAE


class Warp(torch.nn.Module):
    """f(z) = (z1, z2, z1^2 + z2^2): magnification sqrt(1 + 4 |z|^2)."""

    latent_dim = 2

    def forward(self, z):
        return torch.stack([z[:, 0], z[:, 1], (z ** 2).sum(1)], dim=1)


def analytic(land):
    h, w = land.values.shape
    x0, x1, y0, y1 = land.bounds
    u = x0 + (np.arange(w) + 0.5) * (x1 - x0) / w
    v = y1 - (np.arange(h) + 0.5) * (y1 - y0) / h
    uu, vv = np.meshgrid(u, v)
    return np.sqrt(1 + 4 * (uu ** 2 + vv ** 2))


@pytest.mark.parametrize("measure", ["magnification", "fd"])
def test_known_geometry_within_one_percent(measure):
    f, d = decoder_map(Warp())
    land = compute_landscape(f, latent_dim=d, bounds=(-2, 1, -1, 2), resolution=(24, 32), measure=measure)
    assert land.values.shape == (24, 32)
    assert np.max(np.abs(land.values / analytic(land) - 1)) < 0.01


def test_cartogram_equalises_the_map_and_renders():
    f, d = decoder_map(Warp())
    land = add_cartogram(compute_landscape(f, latent_dim=d, bounds=(-2, 2, -2, 2), resolution=48), cells=24)
    eq = land.equalisation
    assert eq["cv_after"] <= eq["cv_before"] / 3
    land.points = np.random.default_rng(0).uniform(-2.5, 2.5, (200, 2))     # some outside: dropped, not an error
    land.labels = np.arange(200) % 3
    sheet = render_cartogram(land, size=128)
    assert sheet.shape == (128, 128, 3) and sheet.std() > 0
    img = render_map(land)
    assert img.shape == (48, 48, 3)
    flow = render_flow(land, length=6)
    assert flow.shape == (48, 48, 3) and flow.dtype == np.uint8


def test_text_vae_and_rhythm_vae_have_maps():
    from latentstudio.beatbox.rhythm_vae import RhythmVAE

    torch.manual_seed(0)
    vae = TextVAE(vocabulary=[f"w{i}" for i in range(30)], latent_dim=2, hidden=16).eval()
    f, d = decoder_map(vae)
    land = compute_landscape(f, latent_dim=d, resolution=8)
    assert np.all(land.values > 0) and np.isfinite(land.values).all()
    rv = RhythmVAE(latent_dim=4, hidden=16).eval()
    f, d = decoder_map(rv)
    land = compute_landscape(f, latent_dim=d, resolution=6, measure="distance")
    assert d == 4 and land.values.shape == (6, 6) and np.all(land.values > 0)


def test_funk_sample_vae_has_a_map():
    from latentstudio.funk.vae import SampleVAE

    torch.manual_seed(0)
    f, d = decoder_map(SampleVAE(frames=16, latent_dim=3, width=2, flows=1, n_classes=0))
    land = compute_landscape(f, latent_dim=d, resolution=4, measure="fd")
    assert d == 3 and land.values.shape == (4, 4) and np.all(land.values > 0)


def test_fit_bounds_is_square_and_covers_the_bulk():
    pts = np.random.default_rng(1).normal(size=(1000, 2)) * [3, 1]
    x0, x1, y0, y1 = fit_bounds(pts)
    assert x1 - x0 == pytest.approx(y1 - y0)
    assert np.mean((pts[:, 0] > x0) & (pts[:, 0] < x1)) > 0.99


def test_bad_landscape_inputs():
    f, d = decoder_map(Warp())
    with pytest.raises(ParameterError, match="measure"):
        compute_landscape(f, latent_dim=d, measure="curvature")
    with pytest.raises(ParameterError, match="no latent"):
        decoder_map(torch.nn.Linear(2, 2))
    with pytest.raises(ParameterError, match="points"):
        fit_bounds(np.zeros((0, 2)))
