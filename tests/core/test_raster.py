"""core.raster: splats conserve weight and land where they should; maps, palettes and legends behave."""

from __future__ import annotations

import numpy as np
import pytest

from latentstudio.core.raster import (apply_colormap, colormap, colormap_names, composite, draw_colorbar,
                                      draw_legend, label_palette, render_points, splat, to_pixels)
from latentstudio.errors import ParameterError


def _lightness(rgb) -> np.ndarray:
    """CIE L* of sRGB colours in [0, 1]."""
    rgb = np.asarray(rgb, dtype=np.float64)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    y = linear @ np.array([0.2126, 0.7152, 0.0722])
    return np.where(y > (6 / 29) ** 3, 116 * np.cbrt(y) - 16, y * (29 / 3) ** 3)


def _lab(rgb) -> np.ndarray:
    """CIE Lab (D65) of sRGB colours in [0, 1]."""
    rgb = np.asarray(rgb, dtype=np.float64)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    f = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(f > (6 / 29) ** 3, np.cbrt(f), f / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def _min_distance(points) -> float:
    d = np.linalg.norm(points[:, None] - points[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    return float(d.min())


# ----------------------------------------------------------------------------------------------- splat

@pytest.mark.parametrize("radius", [1.0, 1.5, 2.0])
def test_splat_conserves_weight_of_points_inside(radius):
    rng = np.random.default_rng(0)
    n, width, height = 20_000, 64, 48
    margin = radius                                  # whole splats inside the frame
    xy = rng.uniform([margin, margin], [width - 1 - margin, height - 1 - margin], size=(n, 2))
    colors = rng.uniform(0, 1, size=(n, 3))
    accum, density = splat(xy, width=width, height=height, colors=colors, radius=radius)
    assert accum.shape == (height, width, 3) and density.shape == (height, width)
    assert accum.dtype == np.float32 and density.dtype == np.float32
    np.testing.assert_allclose(density.sum(dtype=np.float64), n, rtol=1e-4)
    np.testing.assert_allclose(accum.sum(axis=(0, 1), dtype=np.float64), colors.sum(axis=0), rtol=1e-4)


def test_splat_bilinear_conserves_up_to_the_pixel_centre_hull():
    xy = np.array([[0.0, 0.0], [9.0, 5.0], [0.0, 5.0], [9.0, 0.0], [4.3, 2.7]])
    _, density = splat(xy, width=10, height=6)
    assert density.sum() == pytest.approx(5.0, rel=1e-6)


def test_splat_drops_outside_and_nan_points():
    inside = [[2.0, 2.0], [3.5, 1.25]]
    outside = [[-5.0, 2.0], [40.0, 1.0], [3.0, -9.0], [3.0, 30.0], [np.nan, 2.0], [2.0, np.inf], [-np.inf, 1.0]]
    accum, density = splat(np.array(outside + inside), width=8, height=6, colors=np.ones((9, 3)))
    assert density.sum() == pytest.approx(2.0)
    _, only_inside = splat(np.array(inside), width=8, height=6)
    np.testing.assert_allclose(density, only_inside)
    _, nothing = splat(np.array(outside), width=8, height=6)
    assert not nothing.any()


def test_splat_cuts_splats_at_the_frame_edge():
    _, density = splat([[-0.5, 2.0]], width=4, height=4)        # half of the splat lies off-screen
    assert density[2, 0] == pytest.approx(0.5)
    assert density.sum() == pytest.approx(0.5)


def test_point_on_a_pixel_centre_lands_in_that_pixel():
    accum, density = splat([[3.0, 2.0]], width=6, height=4, colors=[[0.2, 0.4, 0.6]])
    expected = np.zeros((4, 6))
    expected[2, 3] = 1.0
    np.testing.assert_array_equal(density, expected)
    np.testing.assert_allclose(accum[2, 3], [0.2, 0.4, 0.6], rtol=1e-6)


def test_fractional_point_spreads_bilinearly():
    _, density = splat([[1.25, 2.5]], width=4, height=5)
    expected = np.zeros((5, 4))
    expected[2, 1], expected[2, 2] = 0.75 * 0.5, 0.25 * 0.5
    expected[3, 1], expected[3, 2] = 0.75 * 0.5, 0.25 * 0.5
    np.testing.assert_allclose(density, expected, atol=1e-7)


def test_wider_radius_spreads_a_symmetric_normalised_footprint():
    _, density = splat([[5.0, 5.0]], width=11, height=11, radius=2.0)
    np.testing.assert_allclose(density, density.T, atol=1e-7)
    np.testing.assert_allclose(density, density[::-1, ::-1], atol=1e-7)
    assert density.sum() == pytest.approx(1.0)
    assert density[5, 5] == pytest.approx(0.25)                  # tent [1/4, 1/2, 1/4] on each axis
    assert np.count_nonzero(density) == 9


def test_splat_mean_colour_weights_and_order():
    accum, density = splat([[1.0, 1.0], [1.0, 1.0]], width=3, height=3, colors=[[1, 0, 0], [0, 0, 1]])
    np.testing.assert_allclose(accum[1, 1] / density[1, 1], [0.5, 0.0, 0.5])
    _, weighted = splat([[1.0, 1.0]], width=3, height=3, weights=[2.5])
    assert weighted[1, 1] == pytest.approx(2.5)

    rng = np.random.default_rng(1)
    xy = rng.uniform(-3, 40, size=(500, 2))
    colors = rng.uniform(size=(500, 3))
    order = rng.permutation(500)
    a1, d1 = splat(xy, width=37, height=29, colors=colors, radius=1.5)
    a2, d2 = splat(xy[order], width=37, height=29, colors=colors[order], radius=1.5)
    np.testing.assert_allclose(d1, d2, atol=1e-5)
    np.testing.assert_allclose(a1, a2, atol=1e-5)


def test_splat_empty_and_single_colour():
    accum, density = splat(np.zeros((0, 2)), width=5, height=4)
    assert accum.shape == (4, 5, 3) and not density.any()
    accum, density = splat([[2.0, 1.0]], width=5, height=4, colors=[0.0, 1.0, 0.0])
    np.testing.assert_allclose(accum[1, 2], [0, 1, 0])


# ------------------------------------------------------------------------------------------- to_pixels

def test_to_pixels_world_up_is_screen_up_and_bounds_meet_frame_edges():
    px = to_pixels([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]], bounds=(0, 1, 0, 1), width=100, height=100)
    assert px[1, 1] < px[0, 1]                                   # higher in the world -> smaller row
    assert px[2, 0] > px[0, 0]
    np.testing.assert_allclose(px[0], [-0.5, 99.5])              # (x0, y0) -> bottom-left corner of the frame
    np.testing.assert_allclose(px[1], [-0.5, -0.5])


def test_to_pixels_keeps_aspect_about_the_centre():
    px = to_pixels([[0.5, 0.5], [0.0, 0.0], [1.0, 1.0]], bounds=(0, 1, 0, 1), width=200, height=100)
    np.testing.assert_allclose(px[0], [99.5, 49.5])              # centre stays at the frame centre
    np.testing.assert_allclose(px[2] - px[1], [100.0, -100.0])   # square units: 1 world unit = 100 px both ways
    tall = to_pixels([[0.0, 0.0], [1.0, 1.0]], bounds=(0, 1, 0, 1), width=100, height=300)
    np.testing.assert_allclose(tall[1] - tall[0], [100.0, -100.0])


def test_to_pixels_default_bounds_fit_the_points():
    rng = np.random.default_rng(2)
    world = rng.normal(size=(300, 2)) * [5, 1]
    world[0] = np.nan
    px = to_pixels(world, width=64, height=64)
    finite = px[1:]
    assert np.isnan(px[0]).all()
    assert finite.min() >= -0.5 - 1e-9 and finite[:, 0].max() <= 63.5 + 1e-9 and finite[:, 1].max() <= 63.5 + 1e-9
    assert finite[:, 0].min() == pytest.approx(-0.5) and finite[:, 0].max() == pytest.approx(63.5)


# ------------------------------------------------------------------------------------------- composite

def test_composite_empty_density_is_pure_background():
    accum, density = splat(np.zeros((0, 2)), width=6, height=5)
    out = composite(accum, density, background=(0.2, 0.4, 0.6))
    assert out.dtype == np.uint8 and out.shape == (5, 6, 3)
    assert (out == [51, 102, 153]).all()
    glowing = composite(accum, density, background=(0.2, 0.4, 0.6), glow=1.0)
    assert (glowing == [51, 102, 153]).all()


def test_composite_density_sets_opacity():
    accum, density = splat([[1.0, 1.0]] * 50 + [[4.0, 1.0]], width=6, height=3, colors=np.ones((51, 3)))
    out = composite(accum, density, background=(0, 0, 0), gain=1.0)
    assert out[1, 1].tolist() == [255, 255, 255]                  # dense: saturated
    lone = round(255 * (1 - np.exp(-1.0)))
    assert out[1, 4].tolist() == [lone] * 3                       # lone point: 1 - exp(-1)
    assert out[0, 0].tolist() == [0, 0, 0]
    assert (composite(accum, density, opacity=0.0) == 0).all()
    half = composite(accum, density, opacity=0.5, background=(0, 0, 0))
    assert half[1, 1].tolist() == [128] * 3


def test_composite_glow_brightens_around_clusters():
    xy = np.random.default_rng(3).normal([40, 30], 2, size=(2000, 2))
    accum, density = splat(xy, width=80, height=60, colors=[1.0, 0.5, 0.0])
    plain = composite(accum, density).astype(int)
    glow = composite(accum, density, glow=1.5, glow_radius=6).astype(int)
    assert (glow >= plain).all()
    assert glow[30, 50].sum() > plain[30, 50].sum()             # halo beyond the cluster
    assert (glow[:, :5] == plain[:, :5]).all() or glow[:, :5].max() <= 2


def test_render_points_is_splat_then_composite():
    rng = np.random.default_rng(4)
    xy = rng.uniform(0, 30, size=(400, 2))
    colors = label_palette(5)[rng.integers(0, 5, 400)]
    frame = render_points(xy, width=32, height=24, colors=colors, radius=1.5, gain=2.0, background=(1, 1, 1))
    accum, density = splat(xy, width=32, height=24, colors=colors, radius=1.5)
    np.testing.assert_array_equal(frame, composite(accum, density, gain=2.0, background=(1, 1, 1)))
    copies = composite(accum.copy(), density.copy(), gain=2.0, background=(1, 1, 1))   # not splat's own views
    np.testing.assert_array_equal(frame, copies)


def test_docstring_examples_run():
    import doctest

    import latentstudio.core.raster as raster

    result = doctest.testmod(raster, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 10 and result.failed == 0


# -------------------------------------------------------------------------------------------- colours

def test_colormap_tables_and_endpoints():
    assert {"viridis", "magma", "inferno", "plasma", "cividis", "twilight"} <= set(colormap_names())
    viridis = colormap("viridis")
    assert viridis.shape == (256, 3)
    np.testing.assert_allclose(viridis[0], [0.267, 0.005, 0.329], atol=2e-3)
    np.testing.assert_allclose(viridis[-1], [0.993, 0.906, 0.144], atol=2e-3)
    np.testing.assert_allclose(colormap("viridis_r"), viridis[::-1])
    five = colormap("magma", 5)
    np.testing.assert_allclose(five[[0, -1]], colormap("magma")[[0, -1]])
    viridis[0] = 0                                               # callers get copies
    assert colormap("viridis")[0, 2] > 0.3


@pytest.mark.parametrize("name", ["viridis", "magma", "inferno", "plasma", "cividis"])
def test_sequential_maps_rise_in_lightness(name):
    assert (np.diff(_lightness(colormap(name))) > 0).all()


def test_apply_colormap_nan_limits_and_log():
    lut = (colormap("viridis") * 255 + 0.5).astype(np.uint8)
    img = apply_colormap([[0.0, 1.0], [np.nan, 2.0], [np.inf, -np.inf]], name="viridis", vmin=0, vmax=2)
    assert img.shape == (3, 2, 3) and img.dtype == np.uint8
    assert img[1, 0].tolist() == [128, 128, 128]
    assert img[0, 0].tolist() == lut[0].tolist() and img[1, 1].tolist() == lut[255].tolist()
    assert img[2, 0].tolist() == lut[255].tolist() and img[2, 1].tolist() == lut[0].tolist()

    logged = apply_colormap(np.array([1.0, 10.0, 100.0, 0.0]), name="viridis", vmin=1, vmax=100, log=True)
    assert logged[0].tolist() == lut[0].tolist() and logged[2].tolist() == lut[255].tolist()
    assert logged[1].tolist() == lut[128].tolist()               # a decade in the middle
    assert logged[3].tolist() == lut[0].tolist()                 # <= 0 takes the low end


def test_apply_colormap_robust_default_limits():
    values = np.concatenate([np.linspace(0, 1, 1000), [1e6]])    # one wild outlier
    img = apply_colormap(values, name="magma")
    lut = (colormap("magma") * 255 + 0.5).astype(np.uint8)
    mid = img[500].astype(int)
    assert np.abs(mid - lut[128]).sum() < 30                     # 0.5 still mid-map, not crushed to the bottom
    flat = apply_colormap(np.full((3, 3), 7.0), name="magma")
    assert (flat == lut[128]).all()


def test_label_palette_distinct_and_deterministic():
    twelve = label_palette(12)
    assert twelve.shape == (12, 3) and twelve.min() >= 0 and twelve.max() <= 1
    np.testing.assert_array_equal(twelve, label_palette(12))
    np.testing.assert_array_equal(label_palette(5), twelve[:5])
    assert _min_distance(_lab(twelve)) > 20                       # CIE76 delta E
    many = label_palette(30)
    assert many.shape == (30, 3) and many.min() >= 0 and many.max() <= 1
    np.testing.assert_array_equal(many, label_palette(30))
    assert _min_distance(_lab(many)) > 5
    assert label_palette(0).shape == (0, 3)


# ------------------------------------------------------------------------------------------ annotation

def _changed_box(before, after):
    rows, cols = np.nonzero((before != after).any(axis=2))
    return rows.min(), rows.max(), cols.min(), cols.max()


@pytest.mark.parametrize("corner", ["top-right", "bottom-left"])
def test_draw_legend_changes_only_its_corner_box(corner):
    image = np.random.default_rng(5).integers(0, 256, size=(240, 320, 3), dtype=np.uint8)
    keep = image.copy()
    out = draw_legend(image, ["alpha", "beta", "gamma"], label_palette(3), corner=corner, title="labels")
    np.testing.assert_array_equal(image, keep)                    # input untouched
    assert out.shape == image.shape and out.dtype == np.uint8
    top, bottom, left, right = _changed_box(image, out)
    if corner == "top-right":
        assert top < 20 and bottom < 120 and left > 160 and right >= 300
    else:
        assert top > 120 and bottom >= 220 and left < 20 and right < 160
    inside = np.zeros(image.shape[:2], bool)
    inside[top:bottom + 1, left:right + 1] = True
    np.testing.assert_array_equal(out[~inside], image[~inside])


def test_draw_legend_scales_font_with_image():
    small = draw_legend(np.zeros((200, 300, 3), np.uint8), ["a label"], [[1, 0, 0]])
    large = draw_legend(np.zeros((800, 1200, 3), np.uint8), ["a label"], [[1, 0, 0]])
    assert _changed_box(np.zeros_like(large), large)[1] > 2 * _changed_box(np.zeros_like(small), small)[1]


def test_draw_colorbar_in_its_corner():
    image = np.full((300, 400, 3), 255, np.uint8)
    out = draw_colorbar(image, name="viridis", vmin=0.01, vmax=100, label="points per cell", log=True)
    top, bottom, left, right = _changed_box(image, out)
    assert top > 150 and left > 200
    assert (image == 255).all()
    linear = draw_colorbar(image, name="magma", vmin=-1.5, vmax=2.5, corner="top-left")
    top, bottom, left, right = _changed_box(image, linear)
    assert bottom < 150 and right < 200


# -------------------------------------------------------------------------------------------- failures

@pytest.mark.parametrize("call", [
    pytest.param(lambda: splat(np.zeros((3, 3)), width=4, height=4), id="xy-3-columns"),
    pytest.param(lambda: splat(np.zeros(4), width=4, height=4), id="xy-1d"),
    pytest.param(lambda: splat([["a", "b"]], width=4, height=4), id="xy-strings"),
    pytest.param(lambda: splat(np.zeros((3, 2)), width=0, height=4), id="width-0"),
    pytest.param(lambda: splat(np.zeros((3, 2)), width=4.5, height=4), id="width-float"),
    pytest.param(lambda: splat(np.zeros((3, 2)), width=4, height=True), id="height-bool"),
    pytest.param(lambda: splat(np.zeros((3, 2)), width=4, height=-2), id="height-negative"),
    pytest.param(lambda: splat(np.zeros((3, 2)), width=4, height=4, radius=0.5), id="radius-below-1"),
    pytest.param(lambda: splat(np.zeros((3, 2)), width=4, height=4, radius=np.nan), id="radius-nan"),
    pytest.param(lambda: splat(np.zeros((3, 2)), width=4, height=4, colors=np.zeros((2, 3))), id="colors-count"),
    pytest.param(lambda: splat(np.zeros((3, 2)), width=4, height=4, colors=np.full((3, 3), 255)), id="colors-0-255"),
    pytest.param(lambda: splat(np.zeros((3, 2)), width=4, height=4, colors=[1.0, 0.0]), id="colors-pair"),
    pytest.param(lambda: splat(np.zeros((3, 2)), width=4, height=4, weights=[1, -1, 1]), id="weights-negative"),
    pytest.param(lambda: splat(np.zeros((3, 2)), width=4, height=4, weights=[1, np.nan, 1]), id="weights-nan"),
    pytest.param(lambda: splat(np.zeros((3, 2)), width=4, height=4, weights=[1, 1]), id="weights-count"),
    pytest.param(lambda: composite(np.zeros((4, 4, 3)), np.zeros((4, 5))), id="composite-shapes"),
    pytest.param(lambda: composite(np.zeros((4, 4, 3)), np.zeros((4, 4)), gain=0), id="gain-0"),
    pytest.param(lambda: composite(np.zeros((4, 4, 3)), np.zeros((4, 4)), opacity=1.5), id="opacity-1.5"),
    pytest.param(lambda: composite(np.zeros((4, 4, 3)), np.zeros((4, 4)), background=(0, 0, 2)), id="background-2"),
    pytest.param(lambda: composite(np.zeros((4, 4, 3)), np.zeros((4, 4)), glow=-1), id="glow-negative"),
    pytest.param(lambda: to_pixels(np.zeros((3, 2)), width=4, height=4, bounds=(1, 0, 0, 1)), id="bounds-crossed"),
    pytest.param(lambda: to_pixels(np.zeros((3, 2)), width=4, height=4, bounds=(0, 0, 1, 1)), id="bounds-flat"),
    pytest.param(lambda: to_pixels(np.zeros((3, 2)), width=4, height=4, bounds=(0, 1)), id="bounds-two"),
    pytest.param(lambda: to_pixels(np.full((3, 2), np.nan), width=4, height=4), id="points-all-nan"),
    pytest.param(lambda: colormap("viridis", 0), id="colormap-n-0"),
    pytest.param(lambda: apply_colormap(np.ones((2, 2)), vmin=2, vmax=1), id="vmin-above-vmax"),
    pytest.param(lambda: apply_colormap(np.ones((2, 2)), vmin=0, vmax=1, log=True), id="log-vmin-0"),
    pytest.param(lambda: apply_colormap(np.array(["a"])), id="values-strings"),
    pytest.param(lambda: label_palette(-1), id="palette-negative"),
    pytest.param(lambda: draw_legend(np.zeros((50, 50, 3)), ["a"], [[1, 0, 0]]), id="legend-float-image"),
    pytest.param(lambda: draw_legend(np.zeros((50, 50, 3), np.uint8), [], np.zeros((0, 3))), id="legend-no-labels"),
    pytest.param(lambda: draw_legend(np.zeros((50, 50, 3), np.uint8), ["a", "b"], [[1, 0, 0]]), id="legend-count"),
    pytest.param(lambda: draw_legend(np.zeros((50, 50, 3), np.uint8), ["a"], [[1, 0, 0]], corner="middle"),
                 id="legend-corner"),
    pytest.param(lambda: draw_legend(np.zeros((40, 40, 3), np.uint8), [f"label {i}" for i in range(30)],
                                     label_palette(30)), id="legend-too-big"),
    pytest.param(lambda: draw_colorbar(np.zeros((200, 300, 3), np.uint8), name="magma", vmin=1, vmax=1),
                 id="colorbar-flat"),
    pytest.param(lambda: draw_colorbar(np.zeros((200, 300, 3), np.uint8), name="magma", vmin=0, vmax=1, log=True),
                 id="colorbar-log-0"),
])
def test_bad_input_raises_parameter_error(call):
    with pytest.raises(ParameterError):
        call()


def test_unknown_colormap_lists_known_names():
    with pytest.raises(ParameterError, match="viridis") as info:
        colormap("jet")
    assert "'jet'" in str(info.value)
    with pytest.raises(ParameterError, match="magma"):
        apply_colormap(np.ones((2, 2)), name="rainbow")


def test_width_message_names_parameter_and_value():
    with pytest.raises(ParameterError, match=r"width=0"):
        splat(np.zeros((1, 2)), width=0, height=3)


def test_composite_over_an_image_background():
    accum, density = splat([[2.0, 1.0], [5.3, 3.6]], width=8, height=6, colors=[[1.0, 0.2, 0.0], [0.0, 0.4, 1.0]])
    grey = (64 / 255, 128 / 255, 191 / 255)                      # exactly what a uint8 image can hold
    flat = composite(accum, density, background=grey, opacity=0.9, gain=2.0)
    image = np.broadcast_to(np.array([64, 128, 191], np.uint8), (6, 8, 3)).copy()
    assert np.array_equal(composite(accum, density, background=image, opacity=0.9, gain=2.0), flat)
    image[0, 0] = (9, 99, 199)                                   # no point there: the image shows through
    assert composite(accum, density, background=image)[0, 0].tolist() == [9, 99, 199]
    with pytest.raises(ParameterError, match="cover the frame"):
        composite(accum, density, background=np.zeros((5, 8, 3), np.uint8))
