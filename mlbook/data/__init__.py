"""The book's data, all offline, one module per kind.

- :mod:`mlbook.data.toy`: scikit-learn's bundled digits and synthetic 2-D sets (moons, rings of
  Gaussians, the swiss roll);
- :mod:`mlbook.data.segmentation`: synthetic shapes and their masks for segmentation (chapter 8);
- :mod:`mlbook.data.captions`: Japanese captions of the digits (chapter 14);
- :mod:`mlbook.data.corpus`: the book's own text as a corpus (chapters 10, 11, 15);
- :mod:`mlbook.data.sequences`: synthetic sequence tasks (chapter 6).

Every name is importable from ``mlbook.data`` itself. Functions that draw take a
``generator``; for the fixed data sets ``None`` is the book's fixed draw ``mlbook.generator(0)``.
"""

from mlbook.data import captions, corpus, segmentation, sequences, toy
from mlbook.data.captions import *  # noqa: F403
from mlbook.data.corpus import *  # noqa: F403
from mlbook.data.segmentation import *  # noqa: F403
from mlbook.data.sequences import *  # noqa: F403
from mlbook.data.toy import *  # noqa: F403

__all__ = [
    *toy.__all__,
    *segmentation.__all__,
    *captions.__all__,
    *corpus.__all__,
    *sequences.__all__,
]
