"""The small core every chapter uses: device choice, seeding, timing and experiment sizing."""

from __future__ import annotations

import math
import os
import random
import statistics
import time
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import torch

__all__ = [
    "device",
    "generator",
    "on_gpu",
    "rng",
    "seed_all",
    "seed_family",
    "single_thread",
    "size_for",
    "Timer",
    "TrainLog",
    "compare_times",
    "timeit",
]

DEVICE_ENV = "MLBOOK_DEVICE"
SIZE_ENV = "MLBOOK_SIZE"
SEED_ENV = "MLBOOK_SEED"
# Seed family f runs every seed k of the book as k + f * _FAMILY_STRIDE, so families never share a
# seed while k stays below the stride (the book's seeds are small integers).
_FAMILY_STRIDE = 1_000_003
_DEVICE_KINDS = ("cpu", "cuda", "mps")
T = TypeVar("T")


@dataclass
class TrainLog:
    """What every mlbook training function returns; the model itself is trained in place.

    ``losses``: the training loss of every optimiser step, as floats. ``metrics``: any other named
    series the function records (e.g. ``"d_loss"``, ``"kl"``, ``"test_accuracy"``), each a list of
    floats; the docstring of the training function says what each holds and how often.
    """

    losses: list[float]
    metrics: dict[str, list[float]] = field(default_factory=dict)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def device() -> torch.device:
    """The device the book's experiments run on.

    CUDA if present, then Apple's MPS, then the CPU. The environment variable ``MLBOOK_DEVICE``
    overrides the choice: ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.
    """
    wanted = os.environ.get(DEVICE_ENV, "").strip().lower()
    if not wanted:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    kind, _, index = wanted.partition(":")
    if kind not in _DEVICE_KINDS or (index and (kind != "cuda" or not index.isdigit())):
        raise ValueError(
            f"{DEVICE_ENV}={wanted!r} is not a device name; allowed: "
            "'cpu', 'cuda', 'cuda:N' (N a GPU index) or 'mps'"
        )
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"{DEVICE_ENV}={wanted!r} but torch sees no CUDA GPU here")
        if index and int(index) >= torch.cuda.device_count():
            raise ValueError(
                f"{DEVICE_ENV}={wanted!r} but only {torch.cuda.device_count()} CUDA GPU(s) exist"
            )
    if kind == "mps" and not _mps_available():
        raise ValueError(f"{DEVICE_ENV}={wanted!r} but torch sees no Apple MPS device here")
    return torch.device(wanted)


_default_device = device  # the functions below take a ``device`` argument that shadows it


def on_gpu(device: torch.device | str | None = None) -> bool:
    """Whether ``device`` (default: the book's :func:`device`) is a GPU, i.e. CUDA or MPS."""
    kind = (_default_device() if device is None else torch.device(device)).type
    return kind in ("cuda", "mps")


def size_for(cpu: T, gpu: T, device: torch.device | str | None = None) -> T:
    """Pick an experiment's size: ``cpu`` keeps a notebook within its CPU time budget, ``gpu``
    is the bigger run a GPU affords.

    ``MLBOOK_SIZE=cpu`` or ``MLBOOK_SIZE=gpu`` forces one of the two (e.g. to rehearse the
    CPU-sized run on a GPU machine).
    """
    forced = os.environ.get(SIZE_ENV, "").strip().lower()
    if forced not in ("", "cpu", "gpu"):
        raise ValueError(
            f"{SIZE_ENV}={forced!r} is not allowed; use 'cpu', 'gpu' or leave it unset"
        )
    if forced:
        return gpu if forced == "gpu" else cpu
    return gpu if on_gpu(device) else cpu


def seed_family() -> int:
    """The seed family the book runs under: ``MLBOOK_SEED`` (a non-negative integer, default 0).

    Every seed of the book and of mlbook goes through :func:`seed_all`, :func:`generator` or
    :func:`rng`, which shift it by the family, so ``MLBOOK_SEED=1 make test`` reruns every
    experiment under another family of seeds. Family 0 uses the seeds as written.
    """
    raw = os.environ.get(SEED_ENV, "").strip()
    if not raw:
        return 0
    if not raw.isdigit():
        raise ValueError(
            f"{SEED_ENV}={raw!r} is not allowed; use a non-negative integer (0, 1, 2 ...)"
        )
    return int(raw)


def _shifted(seed: int) -> int:
    """``seed`` shifted by the seed family, as an int in [0, 2**32)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must lie in [0, 2**32), got {seed}")
    return (int(seed) + seed_family() * _FAMILY_STRIDE) % 2**32


def generator(seed: int, device: torch.device | str | None = None) -> torch.Generator:
    """A torch random generator on ``device`` (default: the CPU) for the book's seed ``seed``.

    The one way mlbook and the notebooks make a generator: the seed is shifted by
    ``MLBOOK_SEED`` (see :func:`seed_family`), so a whole run can be repeated under other seeds.
    """
    gen = torch.Generator(device=torch.device("cpu") if device is None else torch.device(device))
    return gen.manual_seed(_shifted(seed))


def rng(seed: int) -> np.random.Generator:
    """A NumPy random generator for the book's seed ``seed``, shifted like :func:`generator`."""
    return np.random.default_rng(_shifted(seed))


def seed_all(seed: int, deterministic: bool = True) -> None:
    """Seed Python's ``random``, NumPy and torch (CPU and every GPU) for the book's seed ``seed``.

    The seed is shifted by ``MLBOOK_SEED`` like :func:`generator`. Only notebooks call this (their
    set-up cell and the cells that need torch's global generator, e.g. to initialise a model's
    weights); mlbook's own functions take a ``generator`` or ``seed`` instead of global state.
    With ``deterministic=True`` torch is also asked for deterministic algorithms (warning, not
    failing, where an operation has none), so a rerun gives the same numbers.
    """
    shifted = _shifted(seed)
    random.seed(shifted)
    np.random.seed(shifted)  # noqa: NPY002  (the legacy global generator is what notebooks use)
    torch.manual_seed(shifted)  # also seeds every CUDA device
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


@contextmanager
def single_thread(device: torch.device | str | None = None) -> Iterator[None]:
    """Run the enclosed CPU work on one torch thread, then restore the previous setting.

    For loops of many small operations (one neuron of a batch, one block): on a CPU shared
    with other processes, several intra-op threads cost more than they save (measured 6-8x
    slower with 2 threads on a busy 2-core machine). Does nothing when ``device`` is a GPU.
    """
    if device is not None and torch.device(device).type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _synchronize(device: torch.device | None) -> None:
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device is not None and device.type == "mps":
        torch.mps.synchronize()


class Timer:
    """Wall-clock timer as a context manager; waits for the GPU so its figures are honest.

    >>> with Timer() as t:
    ...     _ = sum(range(1000))
    >>> t.elapsed >= 0
    True
    """

    def __init__(self, device: torch.device | str | None = None) -> None:
        self.device = None if device is None else torch.device(device)
        self.elapsed: float = float("nan")
        self._start: float | None = None

    def __enter__(self) -> Timer:
        _synchronize(self.device)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        _synchronize(self.device)
        assert self._start is not None
        self.elapsed = time.perf_counter() - self._start


def timeit(
    fn: Callable[[], object],
    repeat: int = 5,
    warmup: int = 1,
    device: torch.device | str | None = None,
) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeat`` runs after ``warmup`` runs: a figure
    to show. A claim that compares times measures them with :func:`compare_times`."""
    if not callable(fn):
        raise ValueError("fn must be a callable taking no arguments")
    if repeat < 1 or warmup < 0:
        raise ValueError(f"need repeat >= 1 and warmup >= 0, got repeat={repeat}, warmup={warmup}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        with Timer(device) as t:
            fn()
        times.append(t.elapsed)
    return statistics.median(times)


def compare_times(
    fns: Mapping[Hashable, Callable[[], object]],
    rounds: int = 5,
    min_seconds: float = 0.02,
    device: torch.device | str | None = None,
) -> dict[Hashable, float]:
    """Seconds per call of each function, the shortest over ``rounds`` interleaved rounds.

    For claims that compare times (a ratio, a speed-up). Each round times every function in
    turn, so a disturbance that lasts (another program, a slower clock) falls on all of them
    instead of on the one being measured then, and the shortest round of each is its least
    disturbed. Within a round a function is called ``n`` times in a row, ``n`` chosen once so
    that the ``n`` calls last about ``min_seconds``: short calls are not timed one at a time.
    """
    if not fns or not all(callable(fn) for fn in fns.values()):
        raise ValueError(
            "fns must be a non-empty mapping of names to callables taking no arguments"
        )
    if rounds < 1 or not min_seconds > 0:
        raise ValueError(f"need rounds >= 1 and min_seconds > 0, got {rounds=}, {min_seconds=}")
    repeats = {}
    for name, fn in fns.items():
        fn()  # warm-up: first-call costs (allocation, dispatch caches) are not what is compared
        with Timer(device) as t:
            fn()
        repeats[name] = max(1, math.ceil(min_seconds / max(t.elapsed, 1e-9)))
    best = dict.fromkeys(fns, math.inf)
    for _ in range(rounds):
        for name, fn in fns.items():
            with Timer(device) as t:
                for _ in range(repeats[name]):
                    fn()
            best[name] = min(best[name], t.elapsed / repeats[name])
    return best
