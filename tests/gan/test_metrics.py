"""FID/KID: zero against itself, positive against a shifted set, the floor between real halves, features."""

import numpy as np
import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.gan.metrics import METRIC_NAME, compare, fid, image_features, kid


def feats(n=200, d=16, shift=0.0, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)) + shift


def test_kid_of_a_set_to_itself_is_about_zero_and_to_a_shifted_set_positive():
    a = feats(400)
    shifted, std = kid(a, feats(400, shift=1.0, seed=1), subsets=10)
    assert shifted > 0.5 and shifted > 10 * std
    same, _ = kid(a, a.copy(), subsets=10)
    assert abs(same) < 0.03 * shifted
    other, _ = kid(a, feats(400, seed=1), subsets=10)
    assert abs(other) < 0.03 * shifted            # a second sample of the same distribution: unbiased, near 0


def test_fid_zero_for_identical_sets_and_grows_with_the_shift():
    a = feats()
    assert fid(a, a) == pytest.approx(0.0, abs=1e-6)
    assert fid(a, feats(shift=0.5, seed=1)) < fid(a, feats(shift=1.0, seed=1))
    assert fid(a, feats(shift=1.0, seed=1)) == pytest.approx(16.0, rel=0.3)   # |mu| ^ 2 = 16


@pytest.mark.parametrize("n", [10, 200])
def test_fid_matches_the_matrix_square_root_formula(n):
    from scipy import linalg

    a, b = feats(n, seed=2), feats(n, shift=0.3, seed=3) * 1.5
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    ref = np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(s1 + s2) - 2 * np.trace(np.real(linalg.sqrtm(s1 @ s2)))
    assert fid(a, b) == pytest.approx(ref, rel=1e-6, abs=1e-6)


def test_compare_reports_the_real_floor():
    real = feats(400)
    close = compare(real, feats(200, seed=5), seed=0)
    far = compare(real, feats(200, shift=1.0, seed=5), seed=0)
    assert close["metric"] == METRIC_NAME and close["n"] == 200
    assert abs(close["kid_floor"]) < 0.05 and far["kid"] > 10 * abs(far["kid_floor"])
    assert far["fid"] > far["fid_floor"]
    with pytest.raises(ParameterError):
        compare(real[:3], real)
    with pytest.raises(ParameterError):
        kid(real, real[:, :3])


def test_image_features_of_pictures_through_a_feature_network(tiny_features):
    pics = torch.rand(5, 3, 20, 20)
    f = image_features(pics, size=24, batch_size=2, model=tiny_features)
    assert f.shape == (5, 16) and f.dtype == np.float64
    u8 = (pics.numpy() * 255).astype(np.uint8)
    assert np.allclose(image_features(u8, size=24, model=tiny_features), f, atol=0.2)
    with pytest.raises(ParameterError):
        image_features(torch.rand(3, 20, 20), model=tiny_features)
