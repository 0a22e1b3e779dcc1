"""Real-number helpers shared by the two modes of :mod:`mlbook.autodiff` (reverse: ``Value``,
forward: ``Dual``): argument checks and the elementary functions with their domains."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

_EXP_MAX = math.log(1.7976931348623157e308)  # exp(x) overflows float64 beyond this (≈ 709.78)


class _Reflected:
    """The reflected operators c + x, c − x, c · x, c / x (c a number) of a scalar class with a
    ``_lift`` that turns a number into an instance."""

    __slots__ = ()

    def __radd__(self, other: float):
        return self + other

    def __rsub__(self, other: float):
        return self._lift(other) - self

    def __rmul__(self, other: float):
        return self * other

    def __rtruediv__(self, other: float):
        return self._lift(other) / self


def _as_float(x: object, what: str) -> float:
    """``x`` as a float, or a ValueError naming ``what`` (bools and non-numbers rejected)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{what} must be a real number (int or float), got {type(x).__name__}")
    return float(x)


def _check_exponent(n: object) -> float:
    if hasattr(n, "data") and not isinstance(n, numbers.Real):  # a Value or a Dual
        raise ValueError(
            "the exponent must be a constant int or float, not a Value or Dual; "
            "for a variable exponent write (n * x.log()).exp()"
        )
    return _as_float(n, "the exponent")


def _check_power_domain(a: float, n: float) -> None:
    if a < 0 and not n.is_integer():
        raise ValueError(f"{a!r} ** {n!r} is not real: a negative base needs an integer exponent")
    if a == 0 and n < 0:
        raise ValueError(f"0 ** {n!r} divides by zero: a zero base needs an exponent >= 0")


def _dpow(a: float, n: float) -> float:
    """d(a**n)/da = n·a**(n-1), with the limits at a = 0 that torch also uses."""
    if n == 0:
        return 0.0
    if a == 0:
        return 0.0 if n > 1 else (1.0 if n == 1 else math.inf)
    return n * a ** (n - 1)


def _exp(x: float) -> float:
    if x > _EXP_MAX:
        raise ValueError(f"exp({x!r}) overflows float64 (the argument must be <= {_EXP_MAX:.2f})")
    return math.exp(x)


def _log(x: float) -> float:
    if not x > 0:  # also rejects NaN
        raise ValueError(f"log is defined only for positive numbers, got {x!r}")
    return math.log(x)


def _sigmoid(x: float) -> float:
    """1 / (1 + e^(-x)), computed without overflow for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _check_point(x: Sequence[float]) -> list[float]:
    if isinstance(x, (str, bytes)):
        raise ValueError("x must be a sequence of real numbers, not a string")
    try:
        items = list(x)
    except TypeError:
        raise ValueError(f"x must be a sequence of real numbers, got {type(x).__name__}") from None
    point = [_as_float(v, f"x[{i}]") for i, v in enumerate(items)]
    if not point:
        raise ValueError("x must hold at least one number")
    return point
