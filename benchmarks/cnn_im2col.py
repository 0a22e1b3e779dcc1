"""Speed of 2-D convolution three ways: mlbook's loop over output positions, mlbook's im2col
(``unfold`` + one matrix product) and ``torch.nn.functional.conv2d``. Prints a table of times
and the speed-ups over the loops (chapter 8). The three outputs are checked to agree first.

    .venv/bin/python benchmarks/cnn_im2col.py [--threads 1]
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

import mlbook
from mlbook.cnn import conv2d_im2col, conv2d_loops

# (N, C_in, C_out, H = W, k, stride, padding)
SIZES = [
    (1, 3, 8, 16, 3, 1, 1),
    (8, 8, 16, 24, 3, 1, 1),
    (16, 16, 32, 32, 3, 1, 1),
    (8, 32, 64, 32, 5, 2, 2),
    (32, 64, 64, 16, 3, 1, 1),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = mlbook.device()
    mlbook.seed_all(0)
    kernels = {"loops": conv2d_loops, "im2col": conv2d_im2col, "F.conv2d": F.conv2d}
    print(f"device {dev}, {torch.get_num_threads()} threads, float32, median of {args.repeat}")
    header = f"{'N':>3} {'C_in':>4} {'C_out':>5} {'H':>3} {'k':>2} {'s':>2} {'p':>2} "
    header += " ".join(f"{name + ' [ms]':>14}" for name in kernels)
    header += f"{'im2col/loops':>14}{'conv2d/loops':>14}"
    print(header)
    for n, c_in, c_out, h, k, s, p in SIZES:
        x = torch.randn(n, c_in, h, h, device=dev)
        w = torch.randn(c_out, c_in, k, k, device=dev)
        b = torch.randn(c_out, device=dev)
        with torch.no_grad():
            ref = F.conv2d(x, w, b, stride=s, padding=p)
            for name in ("loops", "im2col"):
                out = kernels[name](x, w, b, stride=s, padding=p)
                torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)
            times = {
                name: mlbook.timeit(
                    lambda fn=fn, x=x, w=w, b=b, s=s, p=p: fn(x, w, b, stride=s, padding=p),
                    repeat=args.repeat,
                    warmup=1,
                    device=dev,
                )
                for name, fn in kernels.items()
            }
        row = f"{n:3d} {c_in:4d} {c_out:5d} {h:3d} {k:2d} {s:2d} {p:2d} "
        row += " ".join(f"{1e3 * t:14.3f}" for t in times.values())
        row += (
            f"{times['loops'] / times['im2col']:13.1f}x{times['loops'] / times['F.conv2d']:13.1f}x"
        )
        print(row)


if __name__ == "__main__":
    main()
