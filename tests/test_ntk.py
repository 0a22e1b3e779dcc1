"""mlbook.ntk: the empirical NTK against explicit Jacobians, the closed forms of the two-layer
ReLU network, and the linearised model's gradient descent against running it."""

from __future__ import annotations

import pytest
import torch

import mlbook
from mlbook.ntk import (
    TwoLayerReLU,
    arccos_kernels,
    empirical_ntk,
    infinite_ntk,
    kernel_regression,
    linearized_predictions,
    nngp_kernel,
    two_layer_ntk,
)

DT = torch.float64


def explicit_ntk(model: torch.nn.Module, X1: torch.Tensor, X2: torch.Tensor) -> torch.Tensor:
    """J(X1) J(X2)ᵀ with J built row by row from torch.autograd.grad (the naive reference)."""

    def jac(X):
        rows = []
        for x in X:
            out = model(x.unsqueeze(0)).reshape(())
            params = [p for p in model.parameters() if p.requires_grad]
            grads = torch.autograd.grad(out, params)
            rows.append(torch.cat([g.reshape(-1) for g in grads]))
        return torch.stack(rows)

    return jac(X1) @ jac(X2).T


class Conv(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv1d(1, 4, 3, padding=1)
        self.head = torch.nn.Linear(4 * 6, 1)

    def forward(self, x):
        return self.head(torch.relu(self.conv(x.unsqueeze(1))).flatten(1)).squeeze(-1)


ARCHITECTURES = {
    "mlp_tanh": lambda: torch.nn.Sequential(
        torch.nn.Linear(6, 12), torch.nn.Tanh(), torch.nn.Linear(12, 1)
    ),
    "deep_gelu": lambda: torch.nn.Sequential(
        torch.nn.Linear(6, 8),
        torch.nn.GELU(),
        torch.nn.Linear(8, 8),
        torch.nn.GELU(),
        torch.nn.Linear(8, 1),
    ),
    "layernorm": lambda: torch.nn.Sequential(
        torch.nn.Linear(6, 8), torch.nn.LayerNorm(8), torch.nn.Softplus(), torch.nn.Linear(8, 1)
    ),
    "conv1d": Conv,
    "two_layer_relu": lambda: TwoLayerReLU(6, 32, generator=mlbook.generator(0)),
}


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_empirical_ntk_equals_explicit_jacobians(name):
    model = ARCHITECTURES[name]().to(DT)
    gen = mlbook.generator(1)
    X1 = torch.randn(4, 6, generator=gen, dtype=DT)
    X2 = torch.randn(3, 6, generator=gen, dtype=DT)
    K = empirical_ntk(model, X1, X2)
    assert K.shape == (4, 3)
    torch.testing.assert_close(K, explicit_ntk(model, X1, X2), rtol=1e-10, atol=1e-12)


def test_empirical_ntk_is_symmetric_psd_and_skips_frozen_parameters():
    model = torch.nn.Sequential(torch.nn.Linear(3, 10), torch.nn.Tanh(), torch.nn.Linear(10, 1))
    model = model.to(DT)
    X = torch.randn(6, 3, generator=mlbook.generator(2), dtype=DT)
    K = empirical_ntk(model, X, X)
    torch.testing.assert_close(K, K.T)
    assert torch.linalg.eigvalsh(K).min() > -1e-10
    model[0].requires_grad_(False)  # only the last layer: K = h hᵀ with h the hidden features
    h = torch.cat([torch.tanh(model[0](X)), torch.ones(6, 1, dtype=DT)], dim=1)
    torch.testing.assert_close(empirical_ntk(model, X, X), h @ h.T)


def test_two_layer_closed_form_matches_autograd_and_batches():
    gen = mlbook.generator(3)
    net = TwoLayerReLU(4, 50, generator=gen)
    X1, X2 = torch.randn(5, 4, generator=gen, dtype=DT), torch.randn(2, 4, generator=gen, dtype=DT)
    closed = two_layer_ntk(net.w.detach(), net.a.detach(), X1, X2)
    torch.testing.assert_close(closed, empirical_ntk(net, X1, X2), rtol=1e-12, atol=1e-14)
    w = torch.stack([net.w.detach(), 2 * net.w.detach()])
    a = torch.stack([net.a.detach(), net.a.detach()])
    batched = two_layer_ntk(w, a, X1, X2)
    assert batched.shape == (2, 5, 2)
    torch.testing.assert_close(batched[0], closed)


def test_symmetric_network_starts_at_zero_with_the_first_half_kernel():
    net = TwoLayerReLU(3, 20, symmetric=True, generator=mlbook.generator(4))
    assert net.width == 40
    X = torch.randn(7, 3, generator=mlbook.generator(5), dtype=DT)
    assert net(X).abs().max() < 1e-14
    half = two_layer_ntk(net.w[:20].detach(), net.a[:20].detach(), X, X)
    torch.testing.assert_close(empirical_ntk(net, X, X), half)


def test_arccos_kernels_closed_form():
    X = torch.randn(5, 3, generator=mlbook.generator(6), dtype=DT)
    k0, k1 = arccos_kernels(X, X)
    sq = X.pow(2).sum(1)
    torch.testing.assert_close(k0.diagonal(), torch.full((5,), 0.5, dtype=DT))
    torch.testing.assert_close(k1.diagonal(), sq / 2)
    k0_opp, k1_opp = arccos_kernels(X[:1], -X[:1])
    assert k0_opp.item() == pytest.approx(0, abs=1e-7) and k1_opp.item() == pytest.approx(
        0, abs=1e-7
    )
    torch.testing.assert_close(nngp_kernel(X, X), k1)
    torch.testing.assert_close(infinite_ntk(X, X), k1 + (X @ X.T) * k0)


def test_arccos_kernels_match_monte_carlo():
    gen = mlbook.generator(7)
    X = torch.randn(4, 3, generator=gen, dtype=DT)
    w = torch.randn(400_000, 3, generator=gen, dtype=DT)
    z = X @ w.T
    k0_mc = (z > 0).to(DT) @ (z > 0).to(DT).T / len(w)
    k1_mc = torch.relu(z) @ torch.relu(z).T / len(w)
    k0, k1 = arccos_kernels(X, X)
    torch.testing.assert_close(k0_mc, k0, rtol=0, atol=5e-3)
    torch.testing.assert_close(k1_mc, k1, rtol=0, atol=2e-2 * k1.abs().max().item())


def test_finite_width_kernel_averages_to_the_infinite_one():
    gen = mlbook.generator(8)
    X = torch.randn(3, 2, generator=gen, dtype=DT)
    w = torch.randn(200, 2000, 2, generator=gen, dtype=DT)
    a = torch.randn(200, 2000, generator=gen, dtype=DT)
    mean = two_layer_ntk(w, a, X, X).mean(0)
    torch.testing.assert_close(mean, infinite_ntk(X, X), rtol=0, atol=0.01)


def _linear_model_gd(J, J_test, f0, f0_test, y, lr, steps):
    """Gradient descent on ½‖f0 + Jδ − y‖² over δ, run step by step."""
    delta = torch.zeros(J.shape[1], dtype=J.dtype)
    for _ in range(steps):
        delta -= lr * J.T @ (f0 + J @ delta - y)
    return f0 + J @ delta, f0_test + J_test @ delta


def test_linearized_predictions_equal_running_gradient_descent():
    gen = mlbook.generator(9)
    J, J_test = (
        torch.randn(6, 30, generator=gen, dtype=DT),
        torch.randn(4, 30, generator=gen, dtype=DT),
    )
    f0, f0_test = torch.randn(6, generator=gen, dtype=DT), torch.randn(4, generator=gen, dtype=DT)
    y = torch.randn(6, generator=gen, dtype=DT)
    K, K_test = J @ J.T, J_test @ J.T
    lr = 1 / torch.linalg.eigvalsh(K).max().item()
    for steps in (0, 1, 7, 50):
        train, test = linearized_predictions(K, K_test, f0, f0_test, y, lr, steps)
        ref_train, ref_test = _linear_model_gd(J, J_test, f0, f0_test, y, lr, steps)
        torch.testing.assert_close(train, ref_train)
        torch.testing.assert_close(test, ref_test)
    train, test = linearized_predictions(K, K_test, f0, f0_test, y, lr, 100_000)
    torch.testing.assert_close(train, y)
    torch.testing.assert_close(test, f0_test + kernel_regression(K, K_test, y - f0))


def test_kernel_regression_interpolates():
    X = torch.randn(8, 3, generator=mlbook.generator(10), dtype=DT)
    y = torch.randn(8, generator=mlbook.generator(11), dtype=DT)
    K = infinite_ntk(X, X)
    torch.testing.assert_close(kernel_regression(K, K, y), y)


def test_errors_are_for_people():
    X = torch.randn(3, 2, dtype=DT)
    with pytest.raises(ValueError, match="torch.nn.Module"):
        empirical_ntk(lambda x: x, X, X)
    with pytest.raises(ValueError, match="one number per input"):
        empirical_ntk(torch.nn.Linear(2, 2).to(DT), X, X)
    with pytest.raises(ValueError, match="no trainable parameters"):
        empirical_ntk(torch.nn.Linear(2, 1).to(DT).requires_grad_(False), X, X)
    with pytest.raises(ValueError, match="batch dimension"):
        empirical_ntk(torch.nn.Linear(2, 1), torch.zeros(0, 2), X)
    with pytest.raises(ValueError, match="m must be a positive integer"):
        TwoLayerReLU(2, 0)
    with pytest.raises(ValueError, match="need w"):
        two_layer_ntk(torch.zeros(4, 2), torch.zeros(3), X, X)
    with pytest.raises(ValueError, match="non-zero"):
        arccos_kernels(torch.zeros(1, 2), X)
    with pytest.raises(ValueError, match="2-D tensor"):
        arccos_kernels(torch.zeros(2), X)
    K = torch.eye(3, dtype=DT)
    with pytest.raises(ValueError, match="lr must be"):
        linearized_predictions(K, K, X[:, 0], X[:, 0], X[:, 0], lr=0.0, steps=1)
    with pytest.raises(ValueError, match="steps must be"):
        linearized_predictions(K, K, X[:, 0], X[:, 0], X[:, 0], lr=0.1, steps=-1)
