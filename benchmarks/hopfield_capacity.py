"""Times mlbook.hopfield.capacity_curve against a straightforward per-trial NumPy loop on the
same sizes (N, alphas, trials, sweeps) and prints the speed-up.

Usage: .venv/bin/python benchmarks/hopfield_capacity.py [N] [trials]
"""

import sys
import time

import numpy as np
import torch

import mlbook
from mlbook.hopfield import capacity_curve


def naive(N, alphas, trials, sweeps, rng):
    """One network at a time: build W, then asynchronous single-neuron updates in a random order."""
    means = []
    for alpha in alphas:
        P = max(1, round(alpha * N))
        ms = []
        for _ in range(trials):
            xi = rng.choice([-1.0, 1.0], size=(P, N))
            W = xi.T @ xi / N
            np.fill_diagonal(W, 0.0)
            x = xi[0].copy()
            for _ in range(sweeps):
                changed = False
                for i in rng.permutation(N):
                    h = W[i] @ x
                    if h != 0 and np.sign(h) != x[i]:
                        x[i] = np.sign(h)
                        changed = True
                if not changed:
                    break
            ms.append(x @ xi[0] / N)
        means.append(np.mean(ms))
    return np.array(means)


def main():
    N = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    trials = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    alphas = [0.05, 0.10, 0.12, 0.14, 0.16, 0.20]
    sweeps = 20
    dev = mlbook.device()
    g = torch.Generator(device="cpu").manual_seed(0)
    t0 = time.perf_counter()
    m_naive = naive(N, alphas, trials, sweeps, np.random.default_rng(0))
    t_naive = time.perf_counter() - t0
    with mlbook.Timer(dev) as t:
        m_fast, _ = capacity_curve(N, alphas, trials, sweeps, device=dev, generator=g)
    print(f"N={N}, {len(alphas)} alphas x {trials} trials, <= {sweeps} sweeps, device {dev}")
    print("alpha      :", " ".join(f"{a:6.3f}" for a in alphas))
    print("m naive    :", " ".join(f"{v:6.3f}" for v in m_naive))
    print("m batched  :", " ".join(f"{v:6.3f}" for v in m_fast.tolist()))
    print(
        f"naive loop {t_naive:.2f} s, capacity_curve {t.elapsed:.2f} s, "
        f"speed-up {t_naive / t.elapsed:.1f}x"
    )


if __name__ == "__main__":
    main()
