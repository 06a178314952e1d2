import numpy as np
import pytest

from latentstudio.errors import ParameterError
from latentstudio.latent.cartogram import (cell_areas, diffusion_cartogram, equalisation,
                                           line_integral_convolution, velocity_field)


def gaussian(shape, centre, width, peak):
    """1 + (peak - 1) * a Gaussian, centre and width as fractions of the array (row, col)."""
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]]
    r, c = (rows + 0.5) / shape[0], (cols + 0.5) / shape[1]
    return 1 + (peak - 1) * np.exp(-((r - centre[0]) ** 2 + (c - centre[1]) ** 2) / (2 * width ** 2))


def check_cartogram(density, bounds=None):
    c = diffusion_cartogram(density, bounds=bounds)
    x0, x1, y0, y1 = c.bounds
    areas = cell_areas(c.grid_x, c.grid_y)
    assert c.converged
    assert areas.min() > 0                                                     # nothing folds
    np.testing.assert_allclose(areas.sum(), (x1 - x0) * (y1 - y0), rtol=1e-3)   # the box keeps its area
    e = equalisation(density, c)
    assert e["cv_after"] <= e["cv_before"] / 3
    return c, areas, e


def test_gaussian_bump_is_equalised():
    density = gaussian((48, 48), (0.5, 0.4), 0.12, 10.0)
    c, areas, e = check_cartogram(density)
    assert e["cv_after"] < 0.05 * e["cv_before"]
    assert areas[24, 19] > 3 * areas[2, 45]                                   # the bump's cells grew
    assert c.grid_x.shape == c.grid_y.shape == (49, 49)


def test_two_blobs_on_non_square_cells_are_equalised():
    density = gaussian((40, 60), (0.3, 0.25), 0.08, 10.0) + gaussian((40, 60), (0.7, 0.7), 0.1, 6.0) - 1
    c, areas, e = check_cartogram(density, bounds=(-3.0, 3.0, -1.0, 1.0))
    assert c.bounds == (-3.0, 3.0, -1.0, 1.0)
    np.testing.assert_allclose(c.grid_x[:, 0], -3.0)                           # the edges stay on the walls
    np.testing.assert_allclose(c.grid_y[-1], -1.0)
    # the measure per unit warped area is (nearly) the mean measure everywhere
    per_area = density * (6.0 * 2.0 / density.size) / areas
    assert np.abs(per_area / per_area.mean() - 1).max() < 0.1


def test_sharp_step_density_does_not_fold():
    density = np.ones((32, 32))
    density[8:16, 8:16] = 100.0
    density[20:22, 16:] = 0.01
    c = diffusion_cartogram(density)
    areas = cell_areas(c.grid_x, c.grid_y)
    assert areas.min() > 0
    e = equalisation(density, c)
    assert e["cv_after"] < e["cv_before"] / 3


def test_uniform_density_is_the_identity():
    c = diffusion_cartogram(np.full((8, 12), 3.0), bounds=(0, 6, 0, 4))
    gx, gy = np.meshgrid(np.linspace(0, 6, 13), np.linspace(4, 0, 9))
    np.testing.assert_allclose(c.grid_x, gx, atol=1e-12)
    np.testing.assert_allclose(c.grid_y, gy, atol=1e-12)
    assert c.steps == 0 and c.converged
    np.testing.assert_allclose(cell_areas(c.grid_x, c.grid_y), 0.25)
    assert equalisation(np.full((8, 12), 3.0), c)["cv_after"] == pytest.approx(0.0, abs=1e-12)


def test_orientation_row_zero_is_the_top():
    density = gaussian((32, 32), (0.2, 0.2), 0.1, 10.0)                        # a bump at the top-left of the array
    c = diffusion_cartogram(density, bounds=(0, 1, 0, 1))
    areas = cell_areas(c.grid_x, c.grid_y)
    assert areas[:16, :16].sum() > 2 * areas[16:, 16:].sum()                  # top-left cells grow
    np.testing.assert_allclose(c.grid_y[0], 1.0)                               # row 0 is the top, y = y1
    np.testing.assert_allclose(c.grid_y[-1], 0.0)
    # the bump sits at high y in latent coordinates and pushes its surroundings away: right and down
    x, y = c.warp([[0.5, 0.5]])[0]
    assert x > 0.5 and y < 0.5
    vx, vy = velocity_field(density, bounds=(0, 1, 0, 1))
    assert vx[12, 12] > 0 and vy[12, 12] < 0                                   # the flow leaves the bump


def test_warp_follows_the_grid():
    density = gaussian((16, 20), (0.4, 0.6), 0.15, 5.0)
    c = diffusion_cartogram(density, bounds=(-2, 2, -1, 1))
    xs, ys = np.meshgrid(np.linspace(-2, 2, 21), np.linspace(1, -1, 17))
    warped = c.warp(np.stack([xs.ravel(), ys.ravel()], 1))
    np.testing.assert_allclose(warped[:, 0], c.grid_x.ravel(), atol=1e-9)     # corners go to the warped corners
    np.testing.assert_allclose(warped[:, 1], c.grid_y.ravel(), atol=1e-9)
    mid = c.warp([[-1.9, 0.9375]])[0]                                          # centre of cell (0, 0)
    corners = np.array([[c.grid_x[r, k], c.grid_y[r, k]] for r, k in ((0, 0), (0, 1), (1, 0), (1, 1))])
    np.testing.assert_allclose(mid, corners.mean(0), atol=1e-9)
    with pytest.raises(ParameterError, match="outside"):
        c.warp([[0.0, 1.5]])
    with pytest.raises(ParameterError, match="shape"):
        c.warp([0.0, 0.5])


def test_partial_flow_and_step_cap():
    density = gaussian((24, 24), (0.5, 0.5), 0.1, 10.0)
    full = equalisation(density, diffusion_cartogram(density))["cv_after"]
    part = diffusion_cartogram(density, t_max=2.0)
    assert part.t == pytest.approx(2.0) and not part.converged
    e = equalisation(density, part)
    assert full < e["cv_after"] < e["cv_before"]
    capped = diffusion_cartogram(density, max_steps=2)
    assert not capped.converged and capped.steps <= 2


def test_cell_areas_are_signed():
    gx, gy = np.meshgrid([0.0, 2.0], [1.0, 0.0])                              # row 0 on top: positive
    assert cell_areas(gx, gy).tolist() == [[2.0]]
    assert cell_areas(gx, gy[::-1]).tolist() == [[-2.0]]                      # mirrored: negative


def test_velocity_field_decays():
    density = gaussian((16, 16), (0.5, 0.5), 0.15, 4.0)
    vx, vy = velocity_field(density)
    assert vx.shape == vy.shape == (16, 16)
    assert vx[8, 12] > 0 and vy[3, 8] > 0                                     # outwards: right, and up at the top
    late_x, late_y = velocity_field(density, t=1e4)
    assert np.abs(late_x).max() < 1e-3 * np.abs(vx).max() and np.abs(late_y).max() < 1e-3 * np.abs(vy).max()


def test_line_integral_convolution_follows_the_field():
    shape = (96, 96)
    img = line_integral_convolution(np.ones(shape), np.ones(shape), length=10)     # up and to the right
    assert img.shape == shape and img.dtype == np.float32
    assert img.min() >= 0 and img.max() <= 1
    inner = img[12:-12, 12:-12] - img[12:-12, 12:-12].mean()

    def corr(dr, dc):
        shifted = img[12 + dr:img.shape[0] - 12 + dr, 12 + dc:img.shape[1] - 12 + dc] - img.mean()
        return float((inner * shifted).mean())

    assert corr(-3, 3) > 5 * abs(corr(3, 3))                                   # smeared along up-right only
    np.testing.assert_array_equal(img, line_integral_convolution(np.ones(shape), np.ones(shape), length=10))
    box = line_integral_convolution(np.ones(shape), np.zeros(shape), length=5, kernel="box", seed=1)
    assert box.std() > 0
    flat = line_integral_convolution(np.zeros(shape), np.zeros(shape), texture=np.ones(shape))
    assert np.all(flat == 0.5)


def test_bad_input():
    good = np.ones((8, 8))
    for bad, match in [(np.ones(8), "2-D"), (np.zeros((8, 8)), "positive"), (-good, "positive"),
                       (np.where(np.eye(8) > 0, np.nan, 1.0), "NaN"), (np.ones((1, 8)), "2 x 2")]:
        with pytest.raises(ParameterError, match=match):
            diffusion_cartogram(bad)
    with pytest.raises(ParameterError, match="bounds"):
        diffusion_cartogram(good, bounds=(0, 1, 1, 0))
    with pytest.raises(ParameterError, match="bounds"):
        diffusion_cartogram(good, bounds=(0, 1, 0))
    with pytest.raises(ParameterError, match="tol"):
        diffusion_cartogram(good, tol=0)
    with pytest.raises(ParameterError, match="max_steps"):
        diffusion_cartogram(good, max_steps=0)
    with pytest.raises(ParameterError, match="t_max"):
        diffusion_cartogram(good, t_max=-1.0)
    with pytest.raises(ParameterError, match="differs"):
        equalisation(np.ones((4, 4)), diffusion_cartogram(good))
    with pytest.raises(ParameterError, match="t="):
        velocity_field(good, t=-1.0)
    with pytest.raises(ParameterError, match="grid_x"):
        cell_areas(np.ones((3, 3)), np.ones((3, 4)))
    with pytest.raises(ParameterError, match="vx"):
        line_integral_convolution(np.ones((8, 8)), np.ones((8, 9)))
    with pytest.raises(ParameterError, match="length"):
        line_integral_convolution(good, good, length=0)
    with pytest.raises(ParameterError, match="kernel"):
        line_integral_convolution(good, good, kernel="gauss")
    with pytest.raises(ParameterError, match="texture"):
        line_integral_convolution(good, good, texture=np.ones((4, 4)))
