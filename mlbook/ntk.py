"""The neural tangent kernel (NTK): the empirical kernel by ``torch.func``, the closed forms of a
two-layer ReLU network (finite width and the infinite-width arc-cosine limit) and the dynamics of
the linearised model under gradient descent (chapter 7).

The two-layer network in the NTK parameterisation is

    f(x) = (1/√m) Σ_j a_j relu(w_j·x),    w_j ~ N(0, I_d),  a_j ~ N(0, 1),

whose NTK is :eq:`eq-ntk-two-layer` and whose infinite-width limits are :eq:`eq-ntk-arccos`.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.func import functional_call, jacrev, vmap

from mlbook._checks import nonneg_int, positive, positive_int, tensor_ndim

__all__ = [
    "TwoLayerReLU",
    "arccos_kernels",
    "empirical_ntk",
    "infinite_ntk",
    "kernel_regression",
    "linearized_predictions",
    "nngp_kernel",
    "two_layer_ntk",
]


class TwoLayerReLU(nn.Module):
    """f(x) = (1/√m) Σ_j a_j relu(w_j·x) with standard normal weights (NTK parameterisation).

    ``symmetric=True`` doubles the hidden layer with copies (w_j, −a_j), so the output at
    initialisation is exactly 0 while the NTK is that of the ``m`` first units (the trick that
    removes f₀, e.g. Chizat et al. 2019); the width is then ``2 m``.
    """

    def __init__(
        self,
        d: int,
        m: int,
        *,
        symmetric: bool = False,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        d, m = positive_int(d, "d"), positive_int(m, "m")
        w = torch.randn(m, d, generator=generator, dtype=dtype)
        a = torch.randn(m, generator=generator, dtype=dtype)
        if symmetric:
            w, a = torch.cat([w, w]), torch.cat([a, -a])
        self.w = nn.Parameter(w.to(device))
        self.a = nn.Parameter(a.to(device))

    @property
    def width(self) -> int:
        return self.a.numel()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Outputs (n,) for inputs (n, d)."""
        return torch.relu(x @ self.w.T) @ self.a / math.sqrt(self.width)


def empirical_ntk(model: nn.Module, X1: torch.Tensor, X2: torch.Tensor) -> torch.Tensor:
    """The empirical NTK Θ(x, x') = ∇_θ f(x)·∇_θ f(x') of a scalar-output ``model``,
    :eq:`eq-ntk-def`: the (n1, n2) matrix J(X1) J(X2)ᵀ over all trainable parameters.

    The per-example Jacobians come from ``torch.func.jacrev`` vectorised with ``vmap``; ``model``
    maps a batch (n, …) to outputs (n,) or (n, 1).
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for name, x in (("X1", X1), ("X2", X2)):
        if not isinstance(x, torch.Tensor) or x.ndim < 1 or x.shape[0] == 0:
            raise ValueError(f"{name} must be a tensor with a batch dimension (n, ...), got {x!r}")
    params = {k: v.detach() for k, v in model.named_parameters() if v.requires_grad}
    if not params:
        raise ValueError("model has no trainable parameters, so its NTK is zero")

    def f_single(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, p, (x.unsqueeze(0),))
        if out.numel() != 1:
            raise ValueError(
                f"model must output one number per input, got shape {tuple(out.shape)}"
            )
        return out.reshape(())

    def jacobian(X: torch.Tensor) -> torch.Tensor:
        jac = vmap(jacrev(f_single), in_dims=(None, 0))(params, X)
        return torch.cat([j.reshape(X.shape[0], -1) for j in jac.values()], dim=1)

    return jacobian(X1) @ jacobian(X2).T


def two_layer_ntk(
    w: torch.Tensor, a: torch.Tensor, X1: torch.Tensor, X2: torch.Tensor
) -> torch.Tensor:
    """Closed form of the empirical NTK of :class:`TwoLayerReLU`, :eq:`eq-ntk-two-layer`:

    Θ(x, x') = (1/m) Σ_j [relu(w_j·x) relu(w_j·x') + a_j² (x·x') 1{w_j·x > 0} 1{w_j·x' > 0}].

    Batched: ``w`` (…, m, d) and ``a`` (…, m) give (…, n1, n2), e.g. many networks at once.
    """
    if w.ndim < 2 or a.shape != w.shape[:-1]:
        raise ValueError(
            f"need w (..., m, d) and a (..., m), got {tuple(w.shape)} and {tuple(a.shape)}"
        )
    m = w.shape[-2]
    z1, z2 = X1 @ w.transpose(-1, -2), X2 @ w.transpose(-1, -2)  # (..., n, m)
    first = torch.relu(z1) @ torch.relu(z2).transpose(-1, -2)
    g1, g2 = (z1 > 0).to(w.dtype), (z2 > 0).to(w.dtype)
    second = (g1 * a.unsqueeze(-2) ** 2) @ g2.transpose(-1, -2) * (X1 @ X2.T)
    return (first + second) / m


def arccos_kernels(X1: torch.Tensor, X2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The arc-cosine kernels of Cho & Saul (2009), :eq:`eq-ntk-arccos`, for w ~ N(0, I):

    k₀(x, x') = E[1{w·x > 0} 1{w·x' > 0}] = (π − φ)/(2π),
    k₁(x, x') = E[relu(w·x) relu(w·x')] = ‖x‖‖x'‖ (sin φ + (π − φ) cos φ)/(2π),

    φ the angle between x and x'. Returns (k₀, k₁), each (n1, n2).
    """
    tensor_ndim(X1, "X1", 2, "(n1, d)")
    tensor_ndim(X2, "X2", 2, "(n2, d)")
    n1, n2 = X1.norm(dim=1, keepdim=True), X2.norm(dim=1, keepdim=True)
    if (n1 == 0).any() or (n2 == 0).any():
        raise ValueError("inputs must be non-zero vectors (the angle to 0 is undefined)")
    cos = ((X1 @ X2.T) / (n1 * n2.T)).clamp(-1.0, 1.0)
    phi = torch.arccos(cos)
    k0 = (math.pi - phi) / (2 * math.pi)
    k1 = n1 * n2.T * (torch.sin(phi) + (math.pi - phi) * cos) / (2 * math.pi)
    return k0, k1


def nngp_kernel(X1: torch.Tensor, X2: torch.Tensor) -> torch.Tensor:
    """Covariance of the outputs of :class:`TwoLayerReLU` at initialisation (any width; the
    limit process is Gaussian): E[f(x) f(x')] = k₁(x, x'), :eq:`eq-ntk-nngp`."""
    return arccos_kernels(X1, X2)[1]


def infinite_ntk(X1: torch.Tensor, X2: torch.Tensor) -> torch.Tensor:
    """The NTK of :class:`TwoLayerReLU` as m → ∞: Θ∞ = k₁ + (x·x') k₀, :eq:`eq-ntk-arccos`."""
    k0, k1 = arccos_kernels(X1, X2)
    return k1 + (X1 @ X2.T) * k0


def kernel_regression(K_train: torch.Tensor, K_test: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Kernel regression (interpolation) K(x, X) K(X, X)⁻¹ y, :eq:`eq-ntk-kernel-regression`.

    ``K_train`` (n, n), ``K_test`` (n_test, n), ``y`` (n,) → predictions (n_test,).
    """
    tensor_ndim(K_train, "K_train", 2, "(n, n)")
    tensor_ndim(K_test, "K_test", 2, "(n_test, n)")
    return K_test @ torch.linalg.solve(K_train, y)


def linearized_predictions(
    K_train: torch.Tensor,
    K_test: torch.Tensor,
    f0_train: torch.Tensor,
    f0_test: torch.Tensor,
    y: torch.Tensor,
    lr: float,
    steps: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Outputs of the linearised model after ``steps`` of gradient descent with learning rate
    ``lr`` on L = ½‖f(X) − y‖², :eq:`eq-ntk-lin-gd`:

    f_k(X) = y + (I − ηΘ)^k (f₀(X) − y),
    f_k(x) = f₀(x) − Θ(x, X) Θ⁻¹ (I − (I − ηΘ)^k) (f₀(X) − y).

    Returns (train outputs (n,), test outputs (n_test,)). As η → 0 with ηk = t this is the
    gradient-flow solution with e^{−ηΘt}.
    """
    tensor_ndim(K_train, "K_train", 2, "(n, n)")
    lr, steps = positive(lr, "lr"), nonneg_int(steps, "steps")
    evals, evecs = torch.linalg.eigh(K_train)
    decay = evecs @ torch.diag((1 - lr * evals) ** steps) @ evecs.T  # (I − ηΘ)^k
    r0 = f0_train - y
    train = y + decay @ r0
    eye = torch.eye(len(y), dtype=K_train.dtype, device=K_train.device)
    test = f0_test - K_test @ torch.linalg.solve(K_train, (eye - decay) @ r0)
    return train, test
