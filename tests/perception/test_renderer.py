import xml.etree.ElementTree as ET

import pytest
import torch
import torch.nn.functional as F

from latentstudio.errors import ParameterError
from latentstudio.perception import n_params, random_drawings, render, to_svg
from latentstudio.perception.robust import lighting, misregistration, perspective, print_transform, reframe


def test_render_is_resolution_independent():
    d = random_drawings(3, n_strokes=8, generator=torch.Generator().manual_seed(0))
    small = render(d, size=64)
    big = render(d, size=512)
    down = F.interpolate(big, size=(64, 64), mode="area")
    assert small.shape == (3, 3, 64, 64) and big.shape == (3, 3, 512, 512)
    assert float((small - down).abs().mean()) < 0.02
    assert float(small.min()) >= 0 and float(small.max()) <= 1


def test_soft_rasteriser_has_gradients_and_converges_to_crisp():
    d = random_drawings(1, n_strokes=4, generator=torch.Generator().manual_seed(1)).requires_grad_(True)
    soft = render(d, size=48, softness=3.0)
    soft.mean().backward()
    assert float(d.grad[0, 3:].abs().sum()) > 0            # stroke geometry receives gradient
    with torch.no_grad():
        near = render(d, size=48, softness=1.0001)
        crisp = render(d, size=48)
    assert float((near - crisp).abs().mean()) < 0.05


def test_svg_matches_drawing():
    d = random_drawings(1, n_strokes=5, generator=torch.Generator().manual_seed(2))[0]
    svg = ET.fromstring(to_svg(d, size=300))
    lines = [e for e in svg if e.tag.endswith("line")]
    assert len(lines) == 5 and svg.get("width") == "300"
    assert float(lines[0].get("x1")) == pytest.approx(float(d[3]) * 300, abs=0.01)
    assert all(e.get("stroke-linecap") == "round" for e in lines)


def test_bad_drawings():
    with pytest.raises(ParameterError):
        render(torch.rand(2, 7), size=32)
    with pytest.raises(ParameterError):
        render(torch.rand(2, n_params(2)), size=0)


def test_print_transforms():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, 3, 40, 40, requires_grad=True)
    for t in (misregistration(0.02), perspective(0.08), lighting(0.2), print_transform()):
        y = t(x, g)
        assert y.shape == x.shape
    print_transform()(x, g).mean().backward()
    assert x.grad is not None
    same = torch.rand(1, 3, 40, 40).expand(3, 3, 40, 40)
    shared = print_transform(shared=True)(same, g)
    assert torch.allclose(shared[0], shared[2], atol=1e-6)          # one draw for the whole batch
    indep = print_transform()(same, g)
    assert not torch.allclose(indep[0], indep[2], atol=1e-3)
    with pytest.raises(ParameterError):
        perspective(0.5)


def test_reframe_zooms_and_shifts_per_view():
    g = torch.Generator().manual_seed(1)
    x = torch.zeros(1, 3, 64, 64)
    x[..., 28:36, 28:36] = 1.0                                      # a square in the middle
    views = reframe(0.3, 0.2)(x.expand(6, 3, 64, 64), g)
    assert views.shape == (6, 3, 64, 64)
    area = views[:, 0].gt(0.5).sum(dim=(1, 2)).float()
    centre = [torch.nonzero(v[0] > 0.5).float().mean(dim=0) for v in views]
    assert area.max() / area.min() > 1.15                           # different zooms
    assert max(float((c - centre[0]).abs().max()) for c in centre) > 2  # different shifts
    assert torch.equal(reframe(0.0, 0.0)(x, g), x)
    with pytest.raises(ParameterError):
        reframe(0.6, 0.0)
