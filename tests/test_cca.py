import numpy as np
import pytest
import torch
from sklearn.cross_decomposition import CCA

from mlbook import cca


def _pair(n=500, seed=0):
    gen = torch.Generator().manual_seed(seed)
    Z = torch.randn(n, 3, generator=gen, dtype=torch.float64)
    X = Z @ torch.randn(3, 6, generator=gen, dtype=torch.float64)
    X = X + 0.8 * torch.randn(n, 6, generator=gen, dtype=torch.float64)
    Y = Z @ torch.randn(3, 4, generator=gen, dtype=torch.float64)
    Y = Y + 1.2 * torch.randn(n, 4, generator=gen, dtype=torch.float64)
    return X, Y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_canonical_correlations_match_sklearn(seed):
    X, Y = _pair(seed=seed)
    res = cca.linear_cca(X, Y, 3)
    sk = CCA(n_components=3, max_iter=5000, tol=1e-12).fit(X.numpy(), Y.numpy())
    xs, ys = sk.transform(X.numpy(), Y.numpy())
    ref = [abs(np.corrcoef(xs[:, i], ys[:, i])[0, 1]) for i in range(3)]
    np.testing.assert_allclose(res.correlations.numpy(), ref, atol=1e-5)
    # the variates are the same up to sign: |corr| of ours with sklearn's x_scores is 1
    a, b = res.transform(X, Y)
    for i in range(3):
        assert abs(np.corrcoef(a[:, i].numpy(), xs[:, i])[0, 1]) > 1 - 1e-5


def test_variates_are_whitened_and_correlated_as_claimed():
    X, Y = _pair()
    res = cca.linear_cca(X, Y, 4)
    a, b = res.transform(X, Y)
    n = len(X)
    torch.testing.assert_close(a.T @ a / (n - 1), torch.eye(4, dtype=torch.float64))
    torch.testing.assert_close(b.T @ b / (n - 1), torch.eye(4, dtype=torch.float64))
    torch.testing.assert_close(a.T @ b / (n - 1), torch.diag(res.correlations))
    assert torch.all(res.correlations[:-1] >= res.correlations[1:])


def test_invariance_to_invertible_maps():
    X, Y = _pair()
    A = torch.randn(6, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    r1 = cca.linear_cca(X, Y, 3)
    r2 = cca.linear_cca(X @ A + 3.0, Y * 7.0, 3)
    torch.testing.assert_close(r1.correlations, r2.correlations)


def test_reg_shrinks_correlations_and_rescues_singular():
    X, Y = _pair()
    Xs = torch.cat([X, X[:, :1]], dim=1)  # a repeated column: C_xx singular
    with pytest.raises(ValueError, match="singular"):
        cca.linear_cca(Xs, Y, 2)
    r = cca.linear_cca(Xs, Y, 2, reg=1e-3)
    assert torch.all(r.correlations < cca.linear_cca(X, Y, 2).correlations + 1e-9)


def test_errors():
    X, Y = _pair()
    with pytest.raises(ValueError, match="same number of rows"):
        cca.linear_cca(X, Y[:-1], 2)
    with pytest.raises(ValueError, match="k must be"):
        cca.linear_cca(X, Y, 5)
    with pytest.raises(ValueError, match="k must be"):
        cca.linear_cca(X, Y, 0)
    with pytest.raises(ValueError, match="reg"):
        cca.linear_cca(X, Y, 2, reg=-1.0)
    with pytest.raises(ValueError, match="2-D"):
        cca.linear_cca(X[:, 0], Y, 1)
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        cca.gaussian_mutual_information(torch.tensor([1.0]))


def test_gaussian_mutual_information_closed_form():
    # one pair with correlation rho: I = -1/2 log(1 - rho^2)
    assert cca.gaussian_mutual_information(torch.tensor([0.6])) == pytest.approx(
        -0.5 * np.log(1 - 0.36)
    )
    assert cca.gaussian_mutual_information(torch.tensor([0.0, 0.0])) == 0.0


def test_gaussian_mutual_information_equals_log_det_formula():
    # for Gaussians I = ½ log(det C_xx det C_yy / det C); with the sample covariance C of the data
    # the identity with -½ Σ log(1 - ρ²) of the sample canonical correlations is exact
    X, Y = _pair(n=300, seed=4)
    C = torch.cov(torch.cat([X, Y], dim=1).T)
    logdet = torch.logdet
    ref = 0.5 * (logdet(C[:6, :6]) + logdet(C[6:, 6:]) - logdet(C)).item()
    rho = cca.linear_cca(X, Y, 4).correlations
    assert cca.gaussian_mutual_information(rho) == pytest.approx(ref, rel=1e-10)
