"""Our arithmetic coder (mlbook.compression) against constriction's range coder.

A static distribution over V symbols (a discretised exponential, entropy about 5.8 bits): symbols
per second for encoding and decoding, and the code length of each against Σ −log₂ p.

    python benchmarks/compression_speed.py [--n 200000] [--V 256]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import mlbook
from mlbook import compression


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--V", type=int, default=256)
    args = parser.parse_args()
    p = torch.softmax(-torch.arange(args.V, dtype=torch.float64) / 20, 0)
    x = torch.multinomial(p, args.n, replacement=True, generator=mlbook.generator(0))
    ideal = compression.ideal_bits(x, p)

    start = time.perf_counter()
    data = compression.encode(x, p)
    t_enc = time.perf_counter() - start
    start = time.perf_counter()
    back = compression.decode(data, args.n, lambda prefix: p)
    t_dec = time.perf_counter() - start
    assert back == x.tolist()
    rows = [("mlbook.compression", args.n / t_enc, args.n / t_dec, 8 * len(data))]
    try:
        import constriction
    except ImportError:
        print("constriction is not installed: only our coder is measured")
    else:
        symbols = x.numpy().astype(np.int32)
        model = constriction.stream.model.Categorical(p.numpy(), perfect=False)
        start = time.perf_counter()
        enc = constriction.stream.queue.RangeEncoder()
        enc.encode(symbols, model)
        words = enc.get_compressed()
        t_enc = time.perf_counter() - start
        start = time.perf_counter()
        dec = constriction.stream.queue.RangeDecoder(words)
        back = dec.decode(model, args.n)
        t_dec = time.perf_counter() - start
        assert (back == symbols).all()
        rows.append(("constriction RangeEncoder", args.n / t_enc, args.n / t_dec, 32 * len(words)))
    print(
        f"{args.n:,} symbols, V = {args.V}, Σ −log₂ p = {ideal:,.0f} bits ({ideal / args.n:.4f} bits/symbol)"
    )
    print(
        f"{'coder':<28}{'encode [sym/s]':>16}{'decode [sym/s]':>16}{'bits':>12}{'bits − ideal':>14}"
    )
    for name, enc_rate, dec_rate, bits in rows:
        print(f"{name:<28}{enc_rate:>16,.0f}{dec_rate:>16,.0f}{bits:>12,}{bits - ideal:>14,.1f}")


if __name__ == "__main__":
    main()
