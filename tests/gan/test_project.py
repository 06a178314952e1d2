"""Projection finds a latent whose picture is closer to the target than the mean latent's."""

import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.gan.project import project, reconstruction_figures
from latentstudio.zoo.pretrained_gans import DCGANGenerator


def test_projection_recovers_a_generated_picture(tiny_features):
    torch.manual_seed(0)
    g = DCGANGenerator(noise_dim=8, width=4, image_size=16).eval()
    w_true = g.sample_latents(1, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        target = g(w_true)[0]
    res = project(g, target, steps=30, restarts=3, lr=0.15, feature_size=16, seed=0, feature_model=tiny_features)
    assert res.latent.shape == (8,) and res.picture.shape == (3, 16, 16)
    assert res.feature_distance < 0.5 * res.mean_latent_feature_distance
    assert res.pixel_mse < 0.01 and len(res.restart_losses) == 3
    assert all(p.requires_grad for p in g.parameters())               # restored
    figs = reconstruction_figures([res, res])
    assert figs["better_than_mean_latent"] == 2


def test_projection_refuses_bad_settings(tiny_features):
    g = DCGANGenerator(noise_dim=4, width=2, image_size=8).eval()
    with pytest.raises(ParameterError, match="restarts"):
        project(g, torch.rand(3, 8, 8), restarts=0, feature_model=tiny_features)
    with pytest.raises(ParameterError, match="picture"):
        project(g, torch.rand(8, 8), feature_model=tiny_features)
