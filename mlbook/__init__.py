"""mlbook: the helper package of 実行して学ぶ 機械学習と大規模言語モデル.

The core (device, seeding, timing, sizing) is importable from the top level; topics live in
their own modules (``mlbook.data``, ``mlbook.plot``, ``mlbook.exercises``, ``mlbook.history`` …).
"""

from mlbook.core import (
    Timer,
    device,
    generator,
    on_gpu,
    rng,
    seed_all,
    seed_family,
    single_thread,
    size_for,
    timeit,
)

__version__ = "0.1.0"
__all__ = [
    "Timer",
    "device",
    "generator",
    "on_gpu",
    "rng",
    "seed_all",
    "seed_family",
    "single_thread",
    "size_for",
    "timeit",
    "__version__",
]
