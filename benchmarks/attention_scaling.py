"""Attention time and memory against sequence length n: mlbook's scaled dot-product attention,
torch's ``scaled_dot_product_attention`` and linear attention. Prints a table and the fitted
exponent of time ∝ n^a (about 2 for the quadratic kernels once n is large, about 1 for linear).

    .venv/bin/python benchmarks/attention_scaling.py [--sizes 128 256 512 1024 2048]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import mlbook
from mlbook.attention import linear_attention, scaled_dot_product_attention


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512, 1024, 2048])
    parser.add_argument("--d", type=int, default=64, help="head dimension d_k")
    parser.add_argument("--heads", type=int, default=4)
    args = parser.parse_args()
    dev = mlbook.device()
    mlbook.seed_all(0)
    kernels = {
        "mlbook": lambda q, k, v: scaled_dot_product_attention(q, k, v)[0],
        "torch sdpa": torch.nn.functional.scaled_dot_product_attention,
        "linear": linear_attention,
    }
    times: dict[str, list[float]] = {name: [] for name in kernels}
    print(f"device {dev}, batch 1, {args.heads} heads, d_k = {args.d}, float32")
    print(
        f"{'n':>6} "
        + " ".join(f"{name + ' [ms]':>16}" for name in kernels)
        + f"{'n×n matrix [MiB]':>18}"
    )
    for n in args.sizes:
        q, k, v = (torch.randn(1, args.heads, n, args.d, device=dev) for _ in range(3))
        row = []
        for name, fn in kernels.items():
            with torch.no_grad():
                t = mlbook.timeit(
                    lambda fn=fn, q=q, k=k, v=v: fn(q, k, v), repeat=5, warmup=1, device=dev
                )
            times[name].append(t)
            row.append(f"{1e3 * t:16.3f}")
        mib = args.heads * n * n * 4 / 2**20  # one float32 weight per (query, key) pair and head
        print(f"{n:6d} " + " ".join(row) + f"{mib:18.2f}")
    log_n = np.log(args.sizes)
    for name, ts in times.items():
        slope = np.polyfit(log_n[-3:], np.log(ts[-3:]), 1)[0]
        print(f"fitted exponent a in time ∝ n^a (largest three n), {name}: {slope:.2f}")


if __name__ == "__main__":
    main()
