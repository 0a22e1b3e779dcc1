"""Automatic differentiation on scalars, small enough to read in one sitting (chapter 3).

- :class:`Value` is **reverse mode**: every operation records its inputs and owns a closure
  that applies its local derivative; :meth:`Value.backward` visits the recorded graph in
  reverse topological order and accumulates ∂out/∂node into ``node.grad`` (the chain rule,
  summed over every path, as in the δ-recursion of backpropagation).
- :class:`Dual` is **forward mode**: a dual number ``data + tangent·ε`` with ε² = 0, so that
  f(a + bε) = f(a) + f'(a)·b·ε carries a directional derivative along with every value.

:func:`forward_gradient` and :func:`reverse_gradient` take the gradient of f: Rⁿ → R the two
ways (n forward passes against one backward pass), and :func:`draw_graph` draws a
:class:`Value`'s computational graph with matplotlib, laid out by depth (no graphviz needed).

The style follows micrograd's ``engine.py``: one small class, each operation owns its backward.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

__all__ = ["Value", "Dual", "forward_gradient", "reverse_gradient", "draw_graph"]

_EXP_MAX = math.log(1.7976931348623157e308)  # exp(x) overflows float64 beyond this (≈ 709.78)


def _as_float(x: object, what: str) -> float:
    """``x`` as a float, or a ValueError naming ``what`` (bools and non-numbers rejected)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{what} must be a real number (int or float), got {type(x).__name__}")
    return float(x)


def _check_exponent(n: object) -> float:
    if isinstance(n, (Value, Dual)):
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


def _noop() -> None:
    return None


class Value:
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

    def __radd__(self, other: float) -> Value:
        return self + other

    def __rsub__(self, other: float) -> Value:
        return Value._lift(other) - self

    def __rmul__(self, other: float) -> Value:
        return self * other

    def __rtruediv__(self, other: float) -> Value:
        return Value._lift(other) / self

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


class Dual:
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
        if isinstance(other, Value):
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

    def __radd__(self, other: float) -> Dual:
        return self + other

    def __rsub__(self, other: float) -> Dual:
        return Dual._lift(other) - self

    def __rmul__(self, other: float) -> Dual:
        return self * other

    def __rtruediv__(self, other: float) -> Dual:
        return Dual._lift(other) / self

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


def forward_gradient(f: Callable[[list[Dual]], Dual], x: Sequence[float]) -> list[float]:
    """∇f(x) by forward mode: n passes of f, the i-th seeded with tangent eᵢ (cost ∝ n·cost(f))."""
    point = _check_point(x)
    grad = []
    for i in range(len(point)):
        out = f([Dual(v, 1.0 if j == i else 0.0) for j, v in enumerate(point)])
        grad.append(out.tangent if isinstance(out, Dual) else 0.0 * _as_float(out, "f(x)"))
    return grad


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


# -------------------------------------------------------------------- drawing the graph
def _layout(root: Value) -> tuple[list[Value], dict[int, tuple[float, float]]]:
    """Columns by depth (longest path from the inputs; a leaf sits just left of its first
    consumer), rows ordered by a few barycentre sweeps to reduce crossings."""
    topo = root.topological_order()
    consumers: dict[int, list[Value]] = {id(v): [] for v in topo}
    for v in topo:
        for c in v._prev:
            consumers[id(c)].append(v)
    depth: dict[int, int] = {}
    for v in topo:
        depth[id(v)] = 1 + max(depth[id(c)] for c in v._prev) if v._prev else 0
    for v in topo:
        if not v._prev and consumers[id(v)]:
            depth[id(v)] = min(depth[id(p)] for p in consumers[id(v)]) - 1
    n_cols = max(depth.values()) + 1
    columns: list[list[Value]] = [[] for _ in range(n_cols)]
    for v in topo:
        columns[depth[id(v)]].append(v)
    y: dict[int, float] = {}

    def place(col: list[Value]) -> None:
        for k, v in enumerate(col):
            y[id(v)] = (len(col) - 1) / 2 - k

    for col in columns:
        place(col)
    for _ in range(4):  # barycentre sweeps: left to right by inputs, right to left by consumers
        for col in columns[1:]:
            col.sort(key=lambda v: -sum(y[id(c)] for c in v._prev) / max(len(v._prev), 1))
            place(col)
        for col in reversed(columns[:-1]):
            col.sort(
                key=lambda v: (
                    -sum(y[id(p)] for p in consumers[id(v)]) / max(len(consumers[id(v)]), 1)
                )
            )
            place(col)
    pos = {id(v): (2.4 * depth[id(v)], 1.3 * y[id(v)]) for v in topo}
    return topo, pos


_OP_RADIUS = 13  # points: the radius of an operation's circle


def draw_graph(
    root: Value,
    ax=None,
    show_grad: bool = True,
    title: str | None = None,
    max_nodes: int = 80,
    digits: int = 4,
):
    """Draw ``root``'s computational graph: a box per value (label, value, gradient) and a
    circle per operation, inputs on the left, ``root`` on the right. Returns the Axes.

    Labels may be Japanese (the book's font is used). Graphs larger than ``max_nodes`` are
    refused with a ValueError, since they cannot be read anyway.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    import mlbook.plot  # noqa: F401  (the book's style and Japanese font)

    if not isinstance(root, Value):
        raise ValueError(f"draw_graph needs a Value, got {type(root).__name__}")
    topo, pos = _layout(root)
    if len(topo) > max_nodes:
        raise ValueError(
            f"the graph has {len(topo)} nodes, more than max_nodes={max_nodes}; "
            "draw a smaller expression or raise max_nodes"
        )
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    if ax is None:
        width = min(2.0 + 1.5 * (max(xs) - min(xs)) / 2.4, 16.0)
        height = min(1.6 + 1.1 * (max(ys) - min(ys)) / 1.3, 12.0)
        _, ax = plt.subplots(figsize=(width, height), layout="constrained")
    fmt = f"{{:.{digits}g}}"
    for v in topo:
        x, yv = pos[id(v)]
        if v._op:
            ox = x - 1.0
            for c in v._prev:
                cx, cy = pos[id(c)]
                ax.add_patch(
                    FancyArrowPatch(
                        (cx + 0.45, cy),
                        (ox, yv),
                        arrowstyle="-|>",
                        mutation_scale=10,
                        shrinkB=_OP_RADIUS,
                        color="0.45",
                        lw=1.0,
                        zorder=1,
                    )
                )
            ax.add_patch(
                FancyArrowPatch(
                    (ox, yv),
                    (x - 0.45, yv),
                    arrowstyle="-|>",
                    mutation_scale=10,
                    shrinkA=_OP_RADIUS,
                    color="0.45",
                    lw=1.0,
                    zorder=1,
                )
            )
            ax.scatter(
                [ox], [yv], s=(2 * _OP_RADIUS) ** 2, c="#fde9c9", edgecolors="#c98a2b", zorder=3
            )
            ax.text(
                ox, yv, v._op, ha="center", va="center", zorder=4,
                fontsize=9 if len(v._op) <= 2 else 7,
            )  # fmt: skip
        lines = [v.label] if v.label else []
        lines.append(f"値 {fmt.format(v.data)}")
        if show_grad:
            lines.append(f"勾配 {fmt.format(v.grad)}")
        face = "#d7e8f7" if v is root else ("#e4f2e0" if not v._prev else "white")
        ax.text(
            x,
            yv,
            "\n".join(lines),
            ha="center",
            va="center",
            fontsize=8.5,
            zorder=3,
            bbox={"boxstyle": "round,pad=0.35", "fc": face, "ec": "0.35"},
        )
    ax.set_xlim(min(xs) - 1.0, max(xs) + 1.0)
    ax.set_ylim(min(ys) - 0.9, max(ys) + 0.9)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax
