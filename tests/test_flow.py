"""mlbook.generative.flow: RealNVP's log-det against the autograd Jacobian, invertibility,
a normalised density, and the error paths."""

import math

import pytest
import torch

from mlbook.generative import AffineCoupling, RealNVP


def _trained_like(dim, n_layers, seed, scale=0.3):
    """A RealNVP with random (not identity) couplings, in float64."""
    torch.manual_seed(seed)
    f = RealNVP(dim, n_layers, hidden=16).double()
    with torch.no_grad():
        for p in f.parameters():
            p.add_(scale * torch.randn_like(p))
    return f


@pytest.mark.parametrize(("dim", "seed"), [(2, 0), (3, 1), (5, 2)])
def test_log_det_equals_autograd_jacobian(dim, seed):
    f = _trained_like(dim, 4, seed)
    z = torch.randn(6, dim, dtype=torch.float64)
    x, log_det = f(z)
    for i in range(6):
        J = torch.autograd.functional.jacobian(lambda v: f(v[None])[0][0], z[i])
        torch.testing.assert_close(log_det[i], torch.linalg.slogdet(J)[1])
    z_back, log_det_inv = f.inverse(x)
    torch.testing.assert_close(z_back, z)
    torch.testing.assert_close(log_det_inv, -log_det)


def test_coupling_jacobian_is_triangular():
    torch.manual_seed(0)
    layer = AffineCoupling(torch.tensor([1, 0]), 8).double()
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(0.5 * torch.randn_like(p))
    J = torch.autograd.functional.jacobian(
        lambda v: layer(v[None])[0][0], torch.tensor([0.3, -0.7], dtype=torch.float64)
    )
    assert J[0, 1] == 0 and J[0, 0] == 1  # the passed coordinate depends only on itself


def test_density_integrates_to_one():
    f = _trained_like(2, 6, 3, scale=0.1)
    xs = torch.linspace(-10, 10, 401, dtype=torch.float64)  # the tails beyond 10 are negligible
    gx, gy = torch.meshgrid(xs, xs, indexing="ij")
    with torch.no_grad():
        p = f.log_prob(torch.stack([gx.ravel(), gy.ravel()], 1)).exp()
    assert abs(p.sum().item() * (xs[1] - xs[0]).item() ** 2 - 1) < 0.01


def test_identity_at_init_and_sample_shape():
    f = RealNVP(2, 3, 8)
    x = torch.randn(4, 2)
    torch.testing.assert_close(f(x)[0], x)
    torch.testing.assert_close(f.log_prob(x), -0.5 * (x**2).sum(1) - math.log(2 * math.pi))
    assert f.sample(7, generator=torch.Generator().manual_seed(0)).shape == (7, 2)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: RealNVP(1, 2), "dim >= 2"),
        (lambda: RealNVP(2, 0), "n_layers"),
        (lambda: RealNVP(2, 2)(torch.zeros(3, 3)), r"\(n, 2\)"),
        (lambda: RealNVP(2, 2).log_prob(torch.zeros(3)), r"\(n, 2\)"),
        (lambda: RealNVP(2, 2).sample(0), "n must be"),
        (lambda: AffineCoupling(torch.tensor([1, 1]), 4), "mask"),
    ],
)
def test_error_paths(call, match):
    with pytest.raises(ValueError, match=match):
        call()
