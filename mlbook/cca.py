"""Linear canonical correlation analysis in closed form (chapter 14; Hotelling 1936).

With centred data and (regularised) covariances C_xx + reg·I, C_yy + reg·I, C_xy, the canonical
directions are W_x = C_xx^{-1/2} U_k and W_y = C_yy^{-1/2} V_k, where
C_xx^{-1/2} C_xy C_yy^{-1/2} = U diag(ρ) Vᵀ is an SVD; the singular values ρ_1 ≥ ρ_2 ≥ … are the
canonical correlations. Computed in float64 with torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["CCAResult", "linear_cca", "gaussian_mutual_information"]


@dataclass(frozen=True)
class CCAResult:
    """Projections W_x (d_x, k), W_y (d_y, k), canonical correlations (k,), and the means."""

    Wx: torch.Tensor
    Wy: torch.Tensor
    correlations: torch.Tensor
    mean_x: torch.Tensor
    mean_y: torch.Tensor

    def transform(self, X: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The canonical variates (X − x̄) W_x and (Y − ȳ) W_y, each (n, k)."""
        X = torch.as_tensor(X, dtype=torch.float64, device=self.Wx.device)
        Y = torch.as_tensor(Y, dtype=torch.float64, device=self.Wy.device)
        return (X - self.mean_x) @ self.Wx, (Y - self.mean_y) @ self.Wy


def _inv_sqrt(C: torch.Tensor, name: str) -> torch.Tensor:
    evals, evecs = torch.linalg.eigh(C)
    scale = evals.abs().max().clamp_min(1e-300)
    if evals.min() <= 1e-12 * scale:
        raise ValueError(
            f"{name} is singular (smallest eigenvalue {evals.min().item():.3g}); "
            "pass reg > 0 or remove constant/collinear columns"
        )
    return evecs @ torch.diag(evals.rsqrt()) @ evecs.T


def linear_cca(X: torch.Tensor, Y: torch.Tensor, k: int, reg: float = 0.0) -> CCAResult:
    """The first ``k`` canonical pairs of X (n, d_x) and Y (n, d_y) by whitening + SVD.

    Maximises corr(Xw_x, Yw_y) = w_xᵀC_xy w_y / sqrt(w_xᵀC_xx w_x · w_yᵀC_yy w_y) (:eq:`eq-cca-objective`),
    each pair uncorrelated with the previous ones. Covariances use 1/(n−1); ``reg`` is
    added to the diagonals of C_xx and C_yy (ridge CCA). The projections satisfy
    W_xᵀ(C_xx + reg·I)W_x = I and W_yᵀ(C_yy + reg·I)W_y = I. With reg > 0 the returned
    ``correlations`` are the singular values of the regularised problem, slightly below the
    sample correlations of the variates; with reg = 0 they are exactly those correlations.
    """
    X = torch.as_tensor(X, dtype=torch.float64)
    Y = torch.as_tensor(Y, dtype=torch.float64, device=X.device)
    if X.ndim != 2 or Y.ndim != 2:
        raise ValueError(f"X and Y must be 2-D (n, d), got {X.ndim}-D and {Y.ndim}-D")
    n = X.shape[0]
    if Y.shape[0] != n:
        raise ValueError(f"X and Y must have the same number of rows, got {n} and {Y.shape[0]}")
    if n < 2:
        raise ValueError(f"need at least 2 samples, got {n}")
    dmin = min(X.shape[1], Y.shape[1])
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= dmin:
        raise ValueError(f"k must be an integer in 1..min(d_x, d_y) = {dmin}, got {k!r}")
    if not (reg >= 0 and math.isfinite(reg)):
        raise ValueError(f"reg must be a finite number >= 0, got {reg!r}")
    mx, my = X.mean(0), Y.mean(0)
    Xc, Yc = X - mx, Y - my
    Cxx = Xc.T @ Xc / (n - 1) + reg * torch.eye(X.shape[1], dtype=X.dtype, device=X.device)
    Cyy = Yc.T @ Yc / (n - 1) + reg * torch.eye(Y.shape[1], dtype=X.dtype, device=X.device)
    Cxy = Xc.T @ Yc / (n - 1)
    Kx, Ky = _inv_sqrt(Cxx, "C_xx"), _inv_sqrt(Cyy, "C_yy")  # whitening matrices
    U, S, Vh = torch.linalg.svd(Kx @ Cxy @ Ky)
    return CCAResult(Kx @ U[:, :k], Ky @ Vh[:k].T, S[:k], mx, my)


def gaussian_mutual_information(correlations: torch.Tensor) -> float:
    """I(x; y) = −½ Σ_i log(1 − ρ_i²) in nats for jointly Gaussian x, y with canonical
    correlations ρ_i (Gelfand & Yaglom 1959)."""
    rho = torch.as_tensor(correlations, dtype=torch.float64)
    if rho.numel() and not bool(((rho >= 0) & (rho < 1)).all()):
        raise ValueError("canonical correlations must lie in [0, 1)")
    return float(-0.5 * torch.log1p(-(rho**2)).sum())
