"""mlbook.boltzmann against naive references, and its error paths."""

import itertools
import math

import pytest
import torch

from mlbook import boltzmann as BM


def _model(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(n, n, generator=g, dtype=torch.float64)
    W = (W + W.T) / 2
    W.fill_diagonal_(0)
    return W, torch.randn(n, generator=g, dtype=torch.float64) * 0.5


def test_exact_distribution_matches_loop():
    W, b = _model(4)
    x, p = BM.exact_distribution(W, b)
    ws = {}
    for s in itertools.product([0, 1], repeat=4):
        e = -sum(W[i, j] * s[i] * s[j] for i in range(4) for j in range(i + 1, 4))
        e -= sum(b[i] * s[i] for i in range(4))
        ws[s] = math.exp(-float(e))
    Z = sum(ws.values())
    for k in range(16):
        s = tuple(int(v) for v in x[k])
        assert abs(float(p[k]) - ws[s] / Z) < 1e-12
    assert abs(float(BM.log_partition(W, b)) - math.log(Z)) < 1e-10


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gibbs_matches_exact(seed):
    W, b = _model(5, seed)
    W, b = W.float(), b.float()
    x, p = BM.exact_distribution(W, b)
    M = 20000
    s = BM.gibbs(W, b, M, 30, generator=torch.Generator().manual_seed(seed))
    idx = (s * 2 ** torch.arange(4, -1, -1)).sum(1).long()
    q = torch.bincount(idx, minlength=32).float() / M
    tv = 0.5 * float((q - p).abs().sum())
    expected = 0.5 * float(torch.sqrt(2 * p * (1 - p) / (math.pi * M)).sum())
    assert tv < 2.5 * expected


def test_gradient_matches_autograd():
    W, b = _model(5, 3)
    data = torch.randint(0, 2, (50, 5), generator=torch.Generator().manual_seed(0)).double()
    Wv = W.clone().requires_grad_(True)
    bv = b.clone().requires_grad_(True)
    # parametrise by the upper triangle so the symmetric gradient is w.r.t. w_ij (i<j)
    iu = torch.triu_indices(5, 5, 1)
    theta = W[iu[0], iu[1]].clone().requires_grad_(True)
    Ws = torch.zeros(5, 5, dtype=torch.float64)
    Ws = Ws.index_put((iu[0], iu[1]), theta).index_put((iu[1], iu[0]), theta)
    L = BM.log_likelihood(Ws, bv, data)
    gt, gb_auto = torch.autograd.grad(L, (theta, bv))
    gW, gb = BM.gradient(W, b, data)
    assert torch.allclose(gW[iu[0], iu[1]], gt, atol=1e-10)
    assert torch.allclose(gb, gb_auto, atol=1e-10)
    del Wv


def test_rbm_free_energy_matches_enumeration():
    rbm = BM.RBM(3, 2, generator=torch.Generator().manual_seed(0))
    rbm.W = torch.randn(3, 2, generator=torch.Generator().manual_seed(1))
    v = torch.tensor([[1.0, 0.0, 1.0]])
    F = 0.0
    for h in itertools.product([0.0, 1.0], repeat=2):
        h = torch.tensor(h)
        F += math.exp(float(v[0] @ rbm.W @ h + rbm.b @ v[0] + rbm.c @ h))
    assert abs(float(rbm.free_energy(v)[0]) + math.log(F)) < 1e-5


@pytest.mark.parametrize("seed", [0, 1])
def test_rbm_cd_reduces_reconstruction_error(seed):
    g = torch.Generator().manual_seed(seed)
    protos = torch.randint(0, 2, (4, 20), generator=g).float()
    data = protos[torch.randint(0, 4, (400,), generator=g)]
    rbm = BM.RBM(20, 8, generator=g, lr=0.1)
    first = rbm.cd_step(data)
    for _ in range(300):
        last = rbm.cd_step(data)
    assert last < 0.5 * first


def test_errors():
    with pytest.raises(ValueError, match="symmetric"):
        BM.exact_distribution(torch.tensor([[0.0, 1.0], [0.0, 0.0]]), torch.zeros(2))
    with pytest.raises(ValueError, match="diagonal"):
        BM.exact_distribution(torch.eye(2), torch.zeros(2))
    with pytest.raises(ValueError, match="shape"):
        BM.exact_distribution(torch.zeros(2, 2), torch.zeros(3))
    with pytest.raises(ValueError, match="at most 20"):
        BM.exact_distribution(torch.zeros(21, 21), torch.zeros(21))
    with pytest.raises(ValueError, match="n_samples"):
        BM.gibbs(torch.zeros(2, 2), torch.zeros(2), 0, 1)
    with pytest.raises(ValueError, match="k must"):
        BM.RBM(3, 2).cd_step(torch.zeros(1, 3), k=0)
    with pytest.raises(ValueError, match="v must"):
        BM.RBM(3, 2).p_h(torch.zeros(1, 4))
