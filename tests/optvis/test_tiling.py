import importlib.util
from pathlib import Path

import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.optvis import FeatureModel, deepdream, tile_spans, tiled_gradient, tiled_score

_spec = importlib.util.spec_from_file_location("_nets", Path(__file__).with_name("_nets.py"))
_nets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_nets)


def border_error(grad: torch.Tensor, full: torch.Tensor, borders: list[int], *, band: int = 4) -> float:
    """Mean |tiled - whole-image| gradient within ``band`` px of the tile borders, relative to the
    mean |gradient|: 0 means the gradient image runs on across the border exactly as without tiles."""
    err = (grad - full).abs()[0].mean(dim=(0, 1))
    near = torch.cat([err[b - band:b + band] for b in borders])
    return float(near.mean() / full.abs().mean())


def test_tile_spans_cover_without_gaps():
    spans = tile_spans(1000, tile_size=300, margin=20)
    assert spans[0][0] == 0 and spans[-1][1] == 1000
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    assert all(wa <= ca and wb >= cb for ca, cb, wa, wb in spans)
    with pytest.raises(ParameterError):
        tile_spans(10, tile_size=0, margin=1)


def test_tiled_gradient_equals_whole_image_gradient():
    """With a margin wider than the receptive field, tiling changes nothing: no seams at all."""
    fm = FeatureModel(_nets.tiny_net())
    obj = deepdream("5")
    img = torch.rand(1, 3, 70, 90, generator=torch.Generator().manual_seed(1))
    full, s_full = tiled_gradient(fm, obj, img, tile_size=1000, shift=(5, -7))
    tiled, s_tiled = tiled_gradient(fm, obj, img, tile_size=24, margin=8, shift=(5, -7))
    assert torch.allclose(tiled, full, atol=1e-6, rtol=1e-4)
    assert tiled_score(fm, obj, torch.roll(img, (5, -7), (-2, -1)), tile_size=1000) == pytest.approx(s_full, rel=1e-5)
    assert s_tiled > 0


def test_no_seams_at_tile_borders_on_efficientnet():
    """On the real network the gradient image at tile borders matches the untiled one (no seam);
    without the context margin it does not, so the check can fail."""
    from skimage import data

    from latentstudio import zoo
    from latentstudio.core.image import resize, to_tensor

    fm = FeatureModel(zoo.load_classifier("efficientnet_lite0"))
    obj = deepdream("blocks.5")
    img = to_tensor(resize(data.chelsea().astype("float32") / 255, (384, 256)))
    borders = [s[0] for s in tile_spans(384, tile_size=128, margin=48)[1:]]
    full, _ = tiled_gradient(fm, obj, img, tile_size=1000)
    with_margin, _ = tiled_gradient(fm, obj, img, tile_size=128, margin=48)
    no_margin, _ = tiled_gradient(fm, obj, img, tile_size=128, margin=0)
    assert border_error(with_margin, full, borders) < 0.05
    assert border_error(no_margin, full, borders) > 0.3
