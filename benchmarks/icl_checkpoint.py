"""Train the in-context-learning Transformer of chapter 11 and save its weights.

The chapter loads the checkpoint this script writes (``mlbook/icl_pretrained.pt``) on a CPU, where
training it takes longer than the chapter's time budget, and retrains it live on a GPU. Same
seed, same result: ``tests/test_icl.py`` (marked slow) reruns a short prefix of this training
and compares it with a fresh run.

    python benchmarks/icl_checkpoint.py            # writes mlbook/icl_pretrained.pt
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import mlbook
from mlbook import icl

DEFAULTS = dict(d=2, k=8, noise=0.5, n_embd=32, n_layer=2, n_head=4, steps=8000, batch=128, lr=1e-3)


def train(d, k, noise, n_embd, n_layer, n_head, steps, batch, lr, seed=0):
    """The chapter's training (its GPU path runs the same calls): returns (model, losses)."""
    mlbook.seed_all(seed)
    model = icl.ICLTransformer(d, k, n_embd=n_embd, n_layer=n_layer, n_head=n_head)
    start = time.perf_counter()
    losses = icl.train_icl(
        model, k, noise, steps, batch, lr, generator=mlbook.generator(seed + 1)
    ).losses
    xs, ys = icl.linear_tasks(2000, d, k, noise, mlbook.generator(seed + 2))
    with torch.no_grad():
        err = icl.prefix_errors(model(xs, ys), ys)
    print(
        f"{steps} steps in {time.perf_counter() - start:.1f} s; error after k = 0 … {k} examples:",
        " ".join(f"{e:.3f}" for e in err.tolist()),
    )
    return model, losses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, value in DEFAULTS.items():
        parser.add_argument(f"--{name}", type=type(value), default=value)
    parser.add_argument("--out", default=str(Path(icl.__file__).with_name("icl_pretrained.pt")))
    args = vars(parser.parse_args())
    out = args.pop("out")
    with mlbook.single_thread():
        model, losses = train(**args)
    torch.save({"config": args, "state_dict": model.state_dict(), "losses": losses}, out)
    print("wrote", out)


if __name__ == "__main__":
    main()
