"""Automatic differentiation on scalars, small enough to read in one sitting (chapter 3).

- :class:`Value` is **reverse mode**: every operation records its inputs and owns a closure
  that applies its local derivative; :meth:`Value.backward` visits the recorded graph in
  reverse topological order and accumulates ∂out/∂node into ``node.grad`` (the chain rule,
  summed over every path, as in the δ-recursion of backpropagation).
- :class:`Dual` is **forward mode**: a dual number ``data + tangent·ε`` with ε² = 0, so that
  f(a + bε) = f(a) + f'(a)·b·ε carries a directional derivative along with every value.

:func:`forward_gradient` and :func:`reverse_gradient` take the gradient of f: Rⁿ → R the two
ways (n forward passes against one backward pass). Forward mode lives in :mod:`mlbook.dual` and
is re-exported here; :func:`mlbook.autodiff_draw.draw_graph` draws a :class:`Value`'s graph.

The style follows micrograd's ``engine.py``: one small class, each operation owns its backward.
"""

from __future__ import annotations

import math
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
from mlbook.dual import Dual, forward_gradient

__all__ = ["Value", "Dual", "forward_gradient", "reverse_gradient"]


def _noop() -> None:
    return None


class Value(_Reflected):
    """A scalar that remembers how it was computed, for reverse-mode differentiation.

    >>> x, y = Value(2.0, "x"), Value(3.0, "y")
    >>> f = x * y + x.exp()
    >>> f.backward()
    >>> round(x.grad, 6), y.grad        # ∂f/∂x = y + e^x, ∂f/∂y = x
    (10.389056, 2.0)

    ``grad`` holds ∂(output of the last ``backward()``)/∂(this node). A node used several
    times receives the sum over its uses. Leaves (inputs, constants) accumulate across calls
    of ``backward()``, as ``torch`` leaf tensors do; call :meth:`zero_grad` to reset them.
    """

    __slots__ = ("data", "grad", "label", "_prev", "_op", "_backward")

    def __init__(
        self,
        data: float,
        label: str = "",
        *,
        _children: tuple[Value, ...] = (),
        _op: str = "",
    ) -> None:
        self.data = _as_float(data, "Value data")
        self.grad = 0.0
        self.label = str(label)
        self._prev = tuple(_children)
        self._op = _op
        self._backward: Callable[[], None] = _noop

    # ---------------------------------------------------------------- inspection
    @property
    def children(self) -> tuple[Value, ...]:
        """The operands this value was computed from (empty for a leaf)."""
        return self._prev

    @property
    def op(self) -> str:
        """The operation that produced this value ('' for a leaf)."""
        return self._op

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _lift(other: object) -> Value:
        if isinstance(other, Value):
            return other
        if isinstance(other, Dual):
            raise ValueError("cannot mix Value (reverse mode) and Dual (forward mode)")
        return Value(_as_float(other, "an operand of Value"))

    # ---------------------------------------------------------------- arithmetic
    def __add__(self, other: Value | float) -> Value:
        other = Value._lift(other)
        out = Value(self.data + other.data, _children=(self, other), _op="+")

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __sub__(self, other: Value | float) -> Value:
        other = Value._lift(other)
        out = Value(self.data - other.data, _children=(self, other), _op="-")

        def _backward() -> None:
            self.grad += out.grad
            other.grad -= out.grad

        out._backward = _backward
        return out

    def __neg__(self) -> Value:
        out = Value(-self.data, _children=(self,), _op="neg")

        def _backward() -> None:
            self.grad -= out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        other = Value._lift(other)
        out = Value(self.data * other.data, _children=(self, other), _op="×")

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __truediv__(self, other: Value | float) -> Value:
        other = Value._lift(other)
        if other.data == 0:
            raise ValueError(f"division by zero: {self.data!r} / 0")
        out = Value(self.data / other.data, _children=(self, other), _op="÷")

        def _backward() -> None:
            self.grad += out.grad / other.data
            other.grad -= out.grad * self.data / other.data**2

        out._backward = _backward
        return out

    def __pow__(self, n: float) -> Value:
        n = _check_exponent(n)
        _check_power_domain(self.data, n)
        out = Value(self.data**n, _children=(self,), _op=f"**{n:g}")

        def _backward() -> None:
            self.grad += _dpow(self.data, n) * out.grad

        out._backward = _backward
        return out

    def __rpow__(self, base: float) -> Value:
        """``base ** x`` for a constant ``base > 0``: e^(x·log base)."""
        c = _as_float(base, "the base of a power")
        if not c > 0:
            raise ValueError(f"a constant base must be positive for c ** Value, got {c!r}")
        out = Value(c**self.data, _children=(self,), _op=f"{c:g}**")

        def _backward() -> None:
            self.grad += out.data * math.log(c) * out.grad

        out._backward = _backward
        return out

    # ---------------------------------------------------------------- functions
    def exp(self) -> Value:
        out = Value(_exp(self.data), _children=(self,), _op="exp")

        def _backward() -> None:
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        out = Value(_log(self.data), _children=(self,), _op="log")

        def _backward() -> None:
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        out = Value(math.tanh(self.data), _children=(self,), _op="tanh")

        def _backward() -> None:
            self.grad += (1.0 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = Value(max(self.data, 0.0), _children=(self,), _op="ReLU")

        def _backward() -> None:
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad  # 0 at the kink, as torch

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        out = Value(_sigmoid(self.data), _children=(self,), _op="σ")

        def _backward() -> None:
            self.grad += out.data * (1.0 - out.data) * out.grad

        out._backward = _backward
        return out

    # ---------------------------------------------------------------- the backward pass
    def topological_order(self) -> list[Value]:
        """Every node of this value's graph, each after all of its children (iterative DFS,
        so deep graphs do not hit Python's recursion limit)."""
        order: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev if id(child) not in seen)
        return order

    def backward(self) -> None:
        """Set ``node.grad`` = ∂self/∂node for every node of the graph (reverse mode).

        Intermediate nodes are reset first; leaves accumulate (call :meth:`zero_grad` to
        start afresh). Each node's closure runs once, after every consumer of the node has
        added its share, so shared subexpressions receive the sum over all paths.
        """
        topo = self.topological_order()
        for node in topo:
            if node._prev:
                node.grad = 0.0
        self.grad += 1.0
        for node in reversed(topo):
            node._backward()

    def zero_grad(self) -> None:
        """Set ``grad`` to 0 on every node of this value's graph, leaves included."""
        for node in self.topological_order():
            node.grad = 0.0


def reverse_gradient(f: Callable[[list[Value]], Value], x: Sequence[float]) -> list[float]:
    """∇f(x) by reverse mode: one pass of f recording the graph, one backward pass
    (cost ∝ cost(f), whatever n is)."""
    inputs = [Value(v) for v in _check_point(x)]
    out = f(inputs)
    if not isinstance(out, Value):
        _as_float(out, "f(x)")
        return [0.0] * len(inputs)
    out.backward()
    return [v.grad for v in inputs]
