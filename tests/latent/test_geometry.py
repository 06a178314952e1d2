import math

import numpy as np
import pytest
import torch

from latentstudio.errors import ParameterError
from latentstudio.latent.geometry import (latent_grid, log_magnification, magnification, magnification_fd,
                                          plane_basis, step_distance)


def linear(A: torch.Tensor):
    return lambda z: z @ A.T


def paraboloid(z):
    """(z1, z2, |z|^2): magnification sqrt(1 + 4 |z|^2)."""
    return torch.stack([z[:, 0], z[:, 1], (z ** 2).sum(1)], dim=1)


def sphere(z):
    """Spherical coordinates (polar z1, azimuth z2) on the unit sphere: magnification |sin z1|."""
    s = torch.sin(z[:, 0])
    return torch.stack([s * torch.cos(z[:, 1]), s * torch.sin(z[:, 1]), torch.cos(z[:, 0])], dim=1)


def test_linear_decoder_exact_and_fd_match_sqrt_det():
    A = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    z = torch.randn(64, 2, generator=torch.Generator().manual_seed(1)) * 2
    expected = math.sqrt(torch.linalg.det(A.T.double() @ A.double()).item())
    np.testing.assert_allclose(magnification(linear(A), z), expected, rtol=1e-2)
    np.testing.assert_allclose(magnification_fd(linear(A), z), expected, rtol=1e-2)
    np.testing.assert_allclose(magnification(linear(A), z), expected, rtol=1e-5)      # in fact far tighter


@pytest.mark.parametrize("fn", [magnification, magnification_fd])
def test_analytic_warps(fn):
    z = torch.rand(200, 2, generator=torch.Generator().manual_seed(2)) * 4 - 2
    np.testing.assert_allclose(fn(paraboloid, z), np.sqrt(1 + 4 * (z.double() ** 2).sum(1).numpy()), rtol=1e-2)
    polar = torch.stack([torch.linspace(0.3, 2.8, 50), torch.linspace(-3, 3, 50)], 1)
    np.testing.assert_allclose(fn(sphere, polar), np.abs(np.sin(polar[:, 0].double().numpy())), rtol=1e-2)


def test_nearly_parallel_tangents_keep_their_accuracy():
    angle = 1e-3
    A = torch.tensor([[1.0, math.cos(angle)], [0.0, math.sin(angle)], [0.0, 0.0]]) * 3
    got = magnification(linear(A), torch.zeros(3, 2))
    np.testing.assert_allclose(got, 9 * math.sin(angle), rtol=1e-2)
    assert magnification(linear(A[:, [0, 0]]), torch.zeros(2, 2)).max() < 1e-3    # rank 1: area 0


def test_grid_shape_and_log_magnification():
    z = latent_grid(bounds=(-1, 1, -1, 1), resolution=(6, 8))
    m = magnification(paraboloid, z, batch_size=7)                                   # chunks cut mid-row
    assert m.shape == (6, 8)
    np.testing.assert_allclose(log_magnification(paraboloid, z), np.log(m), rtol=1e-6)
    np.testing.assert_allclose(m, np.sqrt(1 + 4 * (z.double() ** 2).sum(-1).numpy()), rtol=1e-4)


def test_plane_basis_orthonormalises_and_keeps_orientation():
    P = plane_basis(4, basis=[[2.0, 1.0], [0.0, 3.0], [0.0, 0.0], [0.0, 0.0]])
    np.testing.assert_allclose(P.T @ P, np.eye(2), atol=1e-6)
    np.testing.assert_allclose(P[:, 0], [1, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(P[:, 1], [0, 1, 0, 0], atol=1e-6)                      # not flipped
    B = torch.tensor([[1.0, 1.0], [1.0, -1.0], [1.0, 2.0]])
    P = plane_basis(3, basis=B)
    np.testing.assert_allclose(P[:, 0], B[:, 0] / B[:, 0].norm(), atol=1e-6)           # first column's direction
    assert float(P[:, 1] @ B[:, 1]) > 0
    assert torch.equal(plane_basis(2), torch.eye(2))


def test_higher_dimensional_latent_on_a_plane():
    gen = torch.Generator().manual_seed(3)
    A = torch.randn(50, 5, generator=gen)
    Q = torch.linalg.qr(torch.randn(5, 2, generator=gen))[0]
    z = latent_grid(bounds=(-2, 2, -2, 2), resolution=5, origin=torch.randn(5, generator=gen), basis=Q)
    assert z.shape == (5, 5, 5)
    expected = math.sqrt(torch.linalg.det((A @ Q).T.double() @ (A @ Q).double()).item())
    np.testing.assert_allclose(magnification(linear(A), z, basis=Q), expected, rtol=1e-4)
    np.testing.assert_allclose(magnification_fd(linear(A), z, basis=Q), expected, rtol=1e-2)
    full = math.sqrt(torch.linalg.det(A.T.double() @ A.double()).item())              # k = d: the volume element
    np.testing.assert_allclose(magnification(linear(A), z, basis=torch.eye(5)), full, rtol=1e-3)


def test_latent_grid_pixel_centres_row_zero_on_top():
    g = latent_grid(bounds=(0, 4, -1, 1), resolution=(4, 2))
    assert g.shape == (4, 2, 2) and g.dtype == torch.float32
    np.testing.assert_allclose(g[0, 0], [1.0, 0.75])                                   # top-left pixel centre
    np.testing.assert_allclose(g[-1, -1], [3.0, -0.75])
    assert bool((g[:-1, :, 1] > g[1:, :, 1]).all())                                    # y falls down the rows
    shifted = latent_grid(bounds=(0, 4, -1, 1), resolution=(4, 2), origin=[0.0, 0.0, 5.0],
                          basis=[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    np.testing.assert_allclose(shifted[..., :2], g)
    np.testing.assert_allclose(shifted[..., 2], 5.0)


def test_step_distance_on_linear_map_is_the_circle_mean():
    A = torch.randn(50, 2, generator=torch.Generator().manual_seed(4))
    theta = np.linspace(0, 2 * np.pi, 20001)[:-1]
    circle_mean = np.linalg.norm(A.double().numpy() @ np.stack([np.cos(theta), np.sin(theta)]), axis=0).mean()
    z = torch.randn(10, 2, generator=torch.Generator().manual_seed(5))
    np.testing.assert_allclose(step_distance(linear(A), z), circle_mean, rtol=1e-2)
    # with k != 2 the +-basis directions are used: the mean of the column norms
    np.testing.assert_allclose(step_distance(linear(A), z[:2], basis=torch.eye(2)[:, :1]),
                               A[:, 0].norm().item(), rtol=1e-3)


def test_step_distance_of_a_noisy_decoder_removes_the_noise_floor():
    A = torch.randn(20, 2, generator=torch.Generator().manual_seed(6))

    def noisy(z, generator=None):
        return z @ A.T + 0.3 * torch.randn(z.shape[0], 20, generator=generator)

    def pure_noise(z, generator=None):
        return torch.randn(z.shape[0], 20, generator=generator)

    z = torch.zeros(4, 2)
    floor = step_distance(pure_noise, z, eps=0.5, generator=torch.Generator().manual_seed(0))
    assert floor.min() > 10                                       # ~ E|X - X'| / eps = sqrt(40) / 0.5
    removed = step_distance(pure_noise, z, eps=0.5, samples=12, generator=torch.Generator().manual_seed(0))
    assert removed.max() < 0.05 * floor.min()                     # same distribution everywhere: ~0
    clean = step_distance(linear(A), z, eps=0.5)
    floored = step_distance(noisy, z, eps=0.5, generator=torch.Generator().manual_seed(0))
    corrected = step_distance(noisy, z, eps=0.5, samples=12, generator=torch.Generator().manual_seed(0))
    assert floored.min() > 1.1 * clean.max()                      # the noise floor inflates the raw measure
    assert 0.3 * clean.max() < corrected.min() and corrected.max() < clean.min()
    again = step_distance(noisy, z, eps=0.5, samples=12, generator=torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(corrected, again)                                    # seeded, no global RNG
    # a deterministic decoder gives the same value with any number of samples
    np.testing.assert_allclose(step_distance(linear(A), z, eps=0.5, samples=3), clean, rtol=1e-6)


def test_step_distance_custom_distance():
    A = torch.randn(8, 2, generator=torch.Generator().manual_seed(7))
    l1 = step_distance(linear(A), torch.zeros(2, 2), distance=lambda a, b: (a - b).abs().sum(1), directions=4)
    expected = np.mean([A[:, 0].abs().sum().item(), A[:, 1].abs().sum().item()])
    np.testing.assert_allclose(l1, expected, rtol=1e-4)


def test_module_decoder():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.Tanh(), torch.nn.Linear(32, 3, bias=False),
                              torch.nn.Unflatten(1, (3, 1)), torch.nn.Upsample(scale_factor=4)).eval()
    z = torch.randn(30, 2)
    exact = magnification(net, z)
    np.testing.assert_allclose(magnification_fd(net, z), exact, rtol=1e-2)
    J = torch.autograd.functional.jacobian(lambda x: net(x[None]).reshape(-1), z[0])    # (12, 2)
    np.testing.assert_allclose(exact[0], torch.linalg.det(J.T @ J).sqrt().item(), rtol=1e-4)
    assert all(p.grad is None for p in net.parameters())
    assert step_distance(net, z, eps=1e-3).shape == (30,)
    with pytest.raises(ParameterError, match="eval"):
        magnification(net.train(), z)


def test_numpy_backed_decoder_through_finite_differences():
    A = np.random.default_rng(8).standard_normal((10, 2))

    def numpy_decoder(z):
        return z.numpy().astype(np.float64) @ A.T

    np.testing.assert_allclose(magnification_fd(numpy_decoder, np.ones((3, 2))),
                               math.sqrt(np.linalg.det(A.T @ A)), rtol=1e-3)
    with pytest.raises(ParameterError, match="magnification_fd"):
        magnification(lambda z: np.zeros((len(z), 4)), np.ones((3, 2)))


def test_bad_input():
    f = linear(torch.randn(5, 2))
    with pytest.raises(ParameterError, match="NaN"):
        magnification(f, torch.tensor([[0.0, float("nan")]]))
    with pytest.raises(ParameterError, match="shape"):
        magnification(f, torch.zeros(2))
    with pytest.raises(ParameterError, match="basis"):
        magnification(f, torch.zeros(3, 2), basis=torch.eye(3))
    with pytest.raises(ParameterError, match="linearly dependent"):
        plane_basis(3, basis=[[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]])
    with pytest.raises(ParameterError, match="d=3"):
        magnification(linear(torch.randn(5, 3)), torch.zeros(2, 3))
    with pytest.raises(ParameterError, match="eps"):
        magnification_fd(f, torch.zeros(3, 2), eps=0)
    with pytest.raises(ParameterError, match="eps"):
        step_distance(f, torch.zeros(3, 2), eps=-1e-2)
    with pytest.raises(ParameterError, match="samples"):
        step_distance(f, torch.zeros(3, 2), samples=0)
    with pytest.raises(ParameterError, match="batch_size"):
        magnification(f, torch.zeros(3, 2), batch_size=0)
    with pytest.raises(ParameterError, match="first axis"):
        magnification(lambda z: z.T, torch.zeros(3, 2))
    with pytest.raises(ParameterError, match="distance"):
        step_distance(f, torch.zeros(3, 2), distance=lambda a, b: (a - b).abs())
    with pytest.raises(ParameterError, match="callable"):
        magnification("decoder", torch.zeros(3, 2))
    with pytest.raises(ParameterError, match="bounds"):
        latent_grid(bounds=(1, 0, 0, 1))
    with pytest.raises(ParameterError, match="resolution"):
        latent_grid(resolution=0)
    with pytest.raises(ParameterError, match="2 columns"):
        latent_grid(basis=torch.eye(3))
