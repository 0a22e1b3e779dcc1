"""Drawing a :class:`mlbook.autodiff.Value`'s computational graph with matplotlib (chapter 3):
a box per value, a circle per operation, laid out by depth (no graphviz needed)."""

from __future__ import annotations

from mlbook.autodiff import Value

__all__ = ["draw_graph"]


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


def _arrow(ax, start: tuple[float, float], end: tuple[float, float], **shrink: float) -> None:
    """A grey arrow of the graph from ``start`` to ``end`` (``shrinkA``/``shrinkB`` in points)."""
    from matplotlib.patches import FancyArrowPatch

    patch = FancyArrowPatch(
        start, end, arrowstyle="-|>", mutation_scale=10, color="0.45", lw=1.0, zorder=1, **shrink
    )
    ax.add_patch(patch)


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
                _arrow(ax, (cx + 0.45, cy), (ox, yv), shrinkB=_OP_RADIUS)  # operand → operation
            _arrow(ax, (ox, yv), (x - 0.45, yv), shrinkA=_OP_RADIUS)  # operation → result
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
