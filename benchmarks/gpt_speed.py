"""Speed of chapter 10's pieces: GPT training throughput and MFU, the KV cache, the BPE trainer.

    python benchmarks/gpt_speed.py [--threads N]

- Training throughput in tokens/s for the chapter's tiny GPT (and a wider one), and the model
  FLOPs utilisation MFU = 6 · N · tokens/s / peak, where N counts the parameters that take part
  in matrix products (all but the position embeddings) and the peak is this machine's measured
  float32 matmul speed (the best of 512² and 1024² products, same thread count).
- The KV cache's speed-up for 16, 64 and 256 new tokens (greedy, batch 1, best of 3).
- ``mlbook.tokenizer.train_bpe`` against Hugging Face ``tokenizers`` on the whole corpus of
  ``mlbook.data.book_text()``, with the trainer's time split into the set-up (regex split,
  counting chunks and pairs) and the merge loop.
"""

from __future__ import annotations

import argparse
import math
import time

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

import mlbook
from mlbook.data import book_text
from mlbook.gpt import GPT, GPTConfig
from mlbook.tokenizer import _Words, split_chunks, train_bpe


def matmul_peak(device: torch.device) -> float:
    best = 0.0
    for n in (512, 1024):
        a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
        a @ b
        reps = 10
        with mlbook.Timer(device) as t:
            for _ in range(reps):
                a @ b
        best = max(best, 2 * n**3 * reps / t.elapsed)
    return best


def train_throughput(config: GPTConfig, batch: int, steps: int, ids: torch.Tensor, device):
    mlbook.seed_all(0)
    model = GPT(config).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    gen = mlbook.generator(0)
    T = config.block_size

    def step() -> None:
        start = torch.randint(len(ids) - T - 1, (batch,), generator=gen)
        x = torch.stack([ids[s : s + T] for s in start]).to(device)
        y = torch.stack([ids[s + 1 : s + T + 1] for s in start]).to(device)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(3):  # warm-up
        step()
    with mlbook.Timer(device) as t:
        for _ in range(steps):
            step()
    n_matmul = sum(p.numel() for p in model.parameters()) - config.block_size * config.n_embd
    return steps * batch * T / t.elapsed, n_matmul


def kv_speedup(config: GPTConfig, device) -> dict[int, float]:
    mlbook.seed_all(0)
    model = GPT(config).to(device).eval()
    prompt = torch.randint(config.vocab_size, (1, 8), device=device)
    out = {}
    for n_new in (16, 64, 256):
        times = {}
        for use_cache in (True, False):
            best = math.inf
            for _ in range(3):
                with mlbook.Timer(device) as t:
                    model.generate(prompt, n_new, temperature=0.0, use_cache=use_cache)
                best = min(best, t.elapsed)
            times[use_cache] = best
        out[n_new] = times[False] / times[True]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = mlbook.device()
    print(f"device {device}, {torch.get_num_threads()} thread(s), torch {torch.__version__}")

    corpus = book_text()
    t0 = time.perf_counter()
    words = _Words(split_chunks(corpus.train))
    t_setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    bpe = train_bpe(corpus.train, 2048)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    hf = Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=2048, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    hf.train_from_iterator([corpus.train], trainer)
    t_hf = time.perf_counter() - t0
    print(
        f"BPE on {len(corpus.train.encode()):,} bytes ({len(words.words):,} distinct chunks), "
        f"vocab 2048: ours {t_ours:.2f} s (set-up {t_setup:.2f} s, merge loop "
        f"{t_ours - t_setup:.2f} s), tokenizers {t_hf:.2f} s, ratio {t_ours / t_hf:.1f}x"
    )

    ids = torch.tensor(bpe.truncated(768).encode(corpus.train))  # the chapter's vocabulary of 1024
    peak = matmul_peak(device)
    print(f"matmul peak {peak / 1e9:.1f} GFLOP/s (float32)")
    for name, config, batch in [
        ("chapter 10 (V=1024, d=96, L=3, T=64)", GPTConfig(1024, 64, 3, 4, 96), 32),
        ("wider (V=1024, d=256, L=4, T=128)", GPTConfig(1024, 128, 4, 4, 256), 16),
    ]:
        tps, n = train_throughput(config, batch, 20, ids, device)
        mfu = 6 * n * tps / peak
        print(f"train {name}: N={n:,}, {tps:,.0f} tokens/s, MFU {mfu:.0%}")
    speed = kv_speedup(GPTConfig(1024, 320, 3, 4, 96), device)
    print("KV cache speed-up:", ", ".join(f"{k} tokens {v:.2f}x" for k, v in speed.items()))


if __name__ == "__main__":
    main()
