import numpy as np
import pytest
import torch
from skimage import data

from latentstudio.core.image import resize
from latentstudio.dream import (dream, dream_objective, guided_objective, keep_luminance, octave_sizes,
                                strongest_channels, zoom_frames, zoom_in)
from latentstudio.errors import ParameterError
from latentstudio.optvis import FeatureModel


@pytest.fixture(scope="module")
def fm():
    from latentstudio import zoo

    return FeatureModel(zoo.load_classifier("efficientnet_lite0"))


@pytest.fixture(scope="module")
def cat():
    return resize(data.chelsea().astype(np.float32) / 255, 112)


def test_objective_rises_by_a_large_factor(fm, cat):
    res = dream(cat, model=fm, objective="blocks.10", octaves=2, steps=5, seed=0)
    assert res.image.shape == cat.shape and res.image.dtype == np.float32
    assert 0 <= res.image.min() and res.image.max() <= 1
    assert res.gain > 1.5, res.gain
    assert len(res.scores) == 10
    assert not np.allclose(res.image, cat, atol=0.02)


@pytest.mark.slow
def test_seeded_and_roll_changes_result(fm, cat):
    a = dream(cat, model=fm, octaves=1, steps=2, seed=1).image
    b = dream(cat, model=fm, octaves=1, steps=2, seed=1).image
    c = dream(cat, model=fm, octaves=1, steps=2, seed=2).image
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.slow
def test_no_seams_in_tiled_dream(fm, cat):
    """Dream with small tiles and no roll (the worst case): the picture changes as smoothly across the
    fixed tile borders as elsewhere."""
    img = resize(data.chelsea().astype(np.float32) / 255, (256, 192))
    from latentstudio.optvis import tile_spans

    borders = [s[0] for s in tile_spans(256, tile_size=96, margin=0)[1:]]

    def seam_ratio(out):
        d = np.abs(np.diff(out - img, axis=1)).mean(axis=(0, 2))   # jump between columns j, j+1
        at = np.array([d[b - 1] for b in borders]).mean()
        return at / d.mean()

    kw = dict(model=fm, objective="blocks.5", octaves=1, steps=6, max_roll=0, tile_size=96, seed=0)
    ratio = seam_ratio(dream(img, margin=48, **kw).image)
    assert ratio < 1.3, ratio


@pytest.mark.slow
def test_strongest_guided_keep_colors(fm, cat):
    x = torch.from_numpy(cat.transpose(2, 0, 1))[None]
    chans = strongest_channels(fm, x, layer="blocks.10", n=4)
    assert len(chans) == 4
    obj = dream_objective("blocks.10", channels=chans)
    res = dream(cat, model=fm, objective=obj, octaves=1, steps=3)
    assert res.gain > 1.2
    guide = resize(data.coffee().astype(np.float32) / 255, 96)
    g = guided_objective(fm, torch.from_numpy(guide.transpose(2, 0, 1))[None], layer="blocks.10")
    res = dream(cat, model=fm, objective=g, octaves=1, steps=3, keep_colors=True)
    assert res.final_score > res.initial_score
    assert res.image.shape == cat.shape


def test_keep_luminance_keeps_chroma():
    rng = np.random.default_rng(0)
    a, b = rng.random((8, 8, 3), dtype=np.float32) * 0.5 + 0.25, rng.random((8, 8, 3), dtype=np.float32) * 0.5 + 0.25
    out = keep_luminance(b, a)
    lum = lambda x: x @ np.array([0.299, 0.587, 0.114], np.float32)
    assert np.allclose(lum(out), lum(b), atol=1e-4)


@pytest.mark.slow
def test_zoom_frames(fm):
    img = resize(data.chelsea().astype(np.float32) / 255, 48)
    frames = zoom_frames(img, frames=2, zoom=1.1, model=fm, octaves=1, steps=1)
    assert len(frames) == 2 and frames[0].shape == img.shape
    assert zoom_in(img, zoom=1.0).shape == img.shape


def test_bad_input(fm, cat):
    with pytest.raises(ParameterError, match="octaves=0"):
        octave_sizes(100, 100, octaves=0, octave_scale=1.4)
    with pytest.raises(ParameterError, match="below 16"):
        octave_sizes(40, 40, octaves=6, octave_scale=2)
    with pytest.raises(ParameterError, match="valid layers"):
        dream(cat, model=fm, objective="blocks.99", steps=1, octaves=1)
    with pytest.raises(ParameterError, match="step_size"):
        dream(cat, model=fm, step_size=0, octaves=1)
    with pytest.raises(ParameterError, match="channels"):
        dream_objective("blocks.5:a")
    with pytest.raises(ParameterError):
        dream(np.zeros((4, 4)), model=fm)


@pytest.mark.slow
def test_4096_dream_stays_within_memory_bound(tmp_path):
    """A 4096x4096 dream (tiled gradients) runs in a child process with peak RSS well under 8 GiB."""
    import json
    import subprocess
    import sys

    code = ("import json, resource, numpy as np\n"
            "from latentstudio.dream import dream\n"
            "img = np.random.default_rng(0).random((4096, 4096, 3), dtype=np.float32)\n"
            "res = dream(img, octaves=1, steps=1, objective='blocks.5')\n"
            "print(json.dumps({'rss_gib': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,"
            " 'shape': list(res.image.shape), 'gain': res.gain}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    rep = json.loads(out.stdout.strip().splitlines()[-1])
    assert rep["shape"] == [4096, 4096, 3]
    assert rep["rss_gib"] < 6.0, rep
    assert rep["gain"] > 1.0
