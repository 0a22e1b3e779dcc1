"""mlbook: the helper package of 実行して学ぶ 機械学習と大規模言語モデル.

The core (device, seeding, timing, sizing) is importable from the top level; topics live in
their own modules (``mlbook.data``, ``mlbook.plot``, ``mlbook.verify``, ``mlbook.gpt`` …).
"""

from mlbook import core
from mlbook.core import *  # noqa: F403  (the names of core.__all__, listed once there)

__version__ = "0.1.0"
__all__ = [*core.__all__, "__version__"]
