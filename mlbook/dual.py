"""Forward-mode differentiation on scalars (chapter 3): a :class:`Dual` number
``data + tangent·ε`` with ε² = 0, so that f(a + bε) = f(a) + f'(a)·b·ε carries a directional
derivative along with every value; :func:`forward_gradient` takes ∇f with n such passes.

Re-exported by :mod:`mlbook.autodiff`, beside its reverse mode.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

from mlbook._scalar import (
    _as_float,
    _check_exponent,
    _check_point,
    _check_power_domain,
    _dpow,
    _exp,
    _log,
    _Reflected,
    _sigmoid,
)

__all__ = ["Dual", "forward_gradient"]


class Dual(_Reflected):
    """A dual number ``data + tangent·ε`` with ε² = 0: forward-mode differentiation.

    For any differentiable f, f(a + bε) = f(a) + f'(a)·b·ε, so seeding ``tangent = 1`` on
    one input carries ∂/∂(that input) through every operation:

    >>> x = Dual(2.0, 1.0)
    >>> y = x * x + x.exp()
    >>> round(y.tangent, 6)             # d/dx (x² + e^x) = 2x + e^x at x = 2
    11.389056
    """

    __slots__ = ("data", "tangent")

    def __init__(self, data: float, tangent: float = 0.0) -> None:
        self.data = _as_float(data, "Dual data")
        self.tangent = _as_float(tangent, "Dual tangent")

    def __repr__(self) -> str:
        return f"Dual(data={self.data:.6g}, tangent={self.tangent:.6g})"

    @staticmethod
    def _lift(other: object) -> Dual:
        if isinstance(other, Dual):
            return other
        if hasattr(other, "grad") and not isinstance(other, numbers.Real):  # a Value
            raise ValueError("cannot mix Dual (forward mode) and Value (reverse mode)")
        return Dual(_as_float(other, "an operand of Dual"))

    def __add__(self, other: Dual | float) -> Dual:
        other = Dual._lift(other)
        return Dual(self.data + other.data, self.tangent + other.tangent)

    def __sub__(self, other: Dual | float) -> Dual:
        other = Dual._lift(other)
        return Dual(self.data - other.data, self.tangent - other.tangent)

    def __neg__(self) -> Dual:
        return Dual(-self.data, -self.tangent)

    def __mul__(self, other: Dual | float) -> Dual:
        other = Dual._lift(other)  # (a + bε)(c + dε) = ac + (ad + bc)ε
        return Dual(self.data * other.data, self.data * other.tangent + self.tangent * other.data)

    def __truediv__(self, other: Dual | float) -> Dual:
        other = Dual._lift(other)
        if other.data == 0:
            raise ValueError(f"division by zero: {self.data!r} / 0")
        q = self.data / other.data
        return Dual(q, (self.tangent - q * other.tangent) / other.data)

    def __pow__(self, n: float) -> Dual:
        n = _check_exponent(n)
        _check_power_domain(self.data, n)
        return Dual(self.data**n, _dpow(self.data, n) * self.tangent)

    def __rpow__(self, base: float) -> Dual:
        c = _as_float(base, "the base of a power")
        if not c > 0:
            raise ValueError(f"a constant base must be positive for c ** Dual, got {c!r}")
        out = c**self.data
        return Dual(out, out * math.log(c) * self.tangent)

    def exp(self) -> Dual:
        e = _exp(self.data)
        return Dual(e, e * self.tangent)

    def log(self) -> Dual:
        return Dual(_log(self.data), self.tangent / self.data)

    def tanh(self) -> Dual:
        t = math.tanh(self.data)
        return Dual(t, (1.0 - t * t) * self.tangent)

    def relu(self) -> Dual:
        return Dual(max(self.data, 0.0), self.tangent if self.data > 0 else 0.0)

    def sigmoid(self) -> Dual:
        s = _sigmoid(self.data)
        return Dual(s, s * (1.0 - s) * self.tangent)


def forward_gradient(f: Callable[[list[Dual]], Dual], x: Sequence[float]) -> list[float]:
    """∇f(x) by forward mode: n passes of f, the i-th seeded with tangent eᵢ (cost ∝ n·cost(f))."""
    point = _check_point(x)
    grad = []
    for i in range(len(point)):
        out = f([Dual(v, 1.0 if j == i else 0.0) for j, v in enumerate(point)])
        grad.append(out.tangent if isinstance(out, Dual) else 0.0 * _as_float(out, "f(x)"))
    return grad
