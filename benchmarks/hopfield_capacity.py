"""Times mlbook.hopfield.capacity_curve against its readable per-trial NumPy reference
mlbook.hopfield.capacity_naive on the same sizes (N, alphas, trials, sweeps) and prints the speed-up.

Usage: .venv/bin/python benchmarks/hopfield_capacity.py [N] [trials]
"""

import sys
import time

import mlbook
from mlbook.hopfield import capacity_curve, capacity_naive


def main():
    N = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    trials = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    alphas = [0.05, 0.10, 0.12, 0.14, 0.16, 0.20]
    sweeps = 20
    dev = mlbook.device()
    g = mlbook.generator(0)
    t0 = time.perf_counter()
    m_naive, _ = capacity_naive(N, alphas, trials, sweeps, mlbook.rng(0))
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
