"""Claims checked by running: ``check`` tests one claim of the text against a bound.

>>> from mlbook.verify import check
>>> acc = check("テスト正解率", 0.957, ge=0.92)
✔ テスト正解率: 0.957 ≥ 0.92(余裕 4.0 %)

The reader sees that line under the cell; a claim that fails raises ``AssertionError`` with the
same line, so the notebook (and the book's build) stops there. Each check also carries its record
(claim, measured value, bound, relative margin) in its output, from which the site's extension
builds the 検証一覧 page: the book's list of what it shows by running.

The margin is how far the measured value lies inside its bound, relative to the bound: for
``value ≥ b`` it is (value − b)/|b|; for ``|value − c| ≤ tol`` it is the share of the tolerance left,
1 − |value − c|/tol. A margin below 5 % (or none, for a bound of 0 or an exact equality) must say
why in ``why=``: the build's tests reject a thin margin that gives no reason.
"""

from __future__ import annotations

import html
import json
import math
import re

import numpy as np
import torch

from mlbook.core import seed_family

__all__ = ["MIN_MARGIN", "Record", "check", "records", "records_in_html"]

MIN_MARGIN = 0.05  # below this relative margin a check must say why
_HTML = re.compile(r'<div class="mlbook-check" data-check="([^"]*)"')
_SYMBOL = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
_RECORDS: list[Record] = []


class Record(dict):
    """One check as the ledger stores it: label, value, text, margin, passed, why, seed."""


def records() -> list[Record]:
    """Every check made in this process so far, oldest first (a copy)."""
    return list(_RECORDS)


def records_in_html(text: str) -> list[Record]:
    """The records of the checks whose displayed HTML is in ``text`` (an executed cell's output,
    a page), in order: how the site's 検証一覧 and the tests read a notebook's checks."""
    return [Record(json.loads(html.unescape(m.group(1)))) for m in _HTML.finditer(text)]


def _fmt(x: float) -> str:
    if math.isinf(x) or math.isnan(x):
        return str(x)
    if x.is_integer() and abs(x) < 1e6:
        return str(int(x))
    if 1e-3 <= abs(x) < 1e5:
        return f"{x:.4g}"
    return f"{x:.3g}"


def _as_array(value: object, what: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().to("cpu", torch.float64).numpy()
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must be a number or an array of numbers, got {value!r}") from exc
    if arr.size == 0:
        raise ValueError(f"{what} is empty; check needs at least one number")
    return arr


def _bounds(ge, gt, le, lt, close_to, tol) -> dict[str, float]:
    bounds = {k: v for k, v in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt)) if v is not None}
    if ge is not None and gt is not None or le is not None and lt is not None:
        raise ValueError("give at most one lower bound (ge or gt) and one upper bound (le or lt)")
    if (close_to is None) != (tol is None):
        raise ValueError("close_to and tol go together: check(label, x, close_to=c, tol=t)")
    if close_to is not None and bounds:
        raise ValueError("use either close_to/tol or the bounds ge/gt/le/lt, not both")
    if close_to is None and not bounds:
        raise ValueError("a check needs a claim: one of ge, gt, le, lt, or close_to with tol")
    for name, b in bounds.items():
        if not isinstance(b, (int, float, np.floating, np.integer)) or math.isnan(b):
            raise ValueError(f"{name} must be a real number, got {b!r}")
    if tol is not None and not (isinstance(tol, (int, float, np.floating)) and tol >= 0):
        raise ValueError(f"tol must be a number >= 0, got {tol!r}")
    return {k: float(v) for k, v in bounds.items()}


def _judge_bounds(
    arr: np.ndarray, bounds: dict[str, float]
) -> tuple[float, bool, float | None, str]:
    """The worst element against the bounds: (shown value, passed, margin, text of the claim)."""
    passed, margins, nearest = True, [], None
    for kind, b in bounds.items():
        x = float(arr.min()) if kind in ("ge", "gt") else float(arr.max())
        slack = x - b if kind in ("ge", "gt") else b - x
        passed = passed and (slack >= 0 if kind in ("ge", "le") else slack > 0)
        margin = slack / abs(b) if b != 0 else None
        if nearest is None or (
            margin is not None and nearest[1] is not None and margin < nearest[1]
        ):
            nearest = (x, margin)
        margins.append(margin)
    shown = nearest[0]
    if len(bounds) == 2:
        (k1, b1), (k2, b2) = bounds.items()
        text = f"{_fmt(b1)} {'≤' if k1 == 'ge' else '<'} {_fmt(shown)} {_SYMBOL[k2]} {_fmt(b2)}"
    else:
        ((kind, b),) = bounds.items()
        text = f"{_fmt(shown)} {_SYMBOL[kind]} {_fmt(b)}"
    margin = None if any(m is None for m in margins) else min(margins)
    return shown, passed and not math.isnan(shown), margin, text


def check(
    label: str,
    value: object,
    *,
    ge: float | None = None,
    le: float | None = None,
    gt: float | None = None,
    lt: float | None = None,
    close_to: object = None,
    tol: float | None = None,
    why: str | None = None,
):
    """Check one claim of the text: ``value`` against its bounds, or ``close_to`` within ``tol``.

    ``value`` may be a number, a tensor or an array: a bound must hold for every element (the
    worst one is shown), and ``close_to`` compares elementwise (the largest absolute error is
    shown). Prints one Japanese line (displayed under the cell in Jupyter), raises
    ``AssertionError`` with that line when the claim fails, and returns ``value`` unchanged.
    ``why`` explains a margin below 5 % or an exact claim; it is shown on the 検証一覧 page.
    """
    if not isinstance(label, str) or not label.strip():
        raise ValueError("label must be a non-empty string saying what is claimed")
    if why is not None and (not isinstance(why, str) or not why.strip()):
        raise ValueError("why must be a non-empty string when given")
    bounds = _bounds(ge, gt, le, lt, close_to, tol)
    arr = _as_array(value, "value")
    if close_to is None:
        shown, passed, margin, text = _judge_bounds(arr, bounds)
    else:
        target = _as_array(close_to, "close_to")
        try:
            err = np.abs(arr - target)
        except ValueError as exc:
            raise ValueError(
                f"value and close_to have shapes {arr.shape} and {target.shape}"
            ) from exc
        shown = float(np.max(err)) if not np.isnan(err).any() else math.nan
        passed = shown <= tol
        margin = 1 - shown / tol if tol > 0 else None
        if target.size > 1 or arr.size > 1:
            text = f"最大誤差 {_fmt(shown)} ≤ {_fmt(float(tol))}"
        else:
            v, c = _fmt(float(arr.flat[0])), _fmt(float(target.flat[0]))
            text = f"{v} = {c}" if tol == 0 else f"{v} ≈ {c} ± {_fmt(float(tol))}"
    if margin is None:
        note = "厳密" if close_to is not None else "境界 0"
    else:
        note = f"{'余裕' if passed else '不足'} {abs(margin) * 100:.1f} %"
    line = f"{'✔' if passed else '✘'} {label}: {text}({note})"
    if not passed:
        line += " — この主張は成り立たなかった"
    record = Record(
        label=label, value=shown, text=text, margin=margin, passed=bool(passed),
        why=why, seed=seed_family(),
    )  # fmt: skip
    _RECORDS.append(record)
    _show(line, record)
    if not passed:
        raise AssertionError(line)
    return value


def _show(line: str, record: Record) -> None:
    """Print ``line``; in IPython, display it as HTML that carries the record for the ledger."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython comes with the book's requirements
        get_ipython = None
    if get_ipython is None or get_ipython() is None:
        print(line)
        return
    payload = json.dumps(record, ensure_ascii=False, allow_nan=True)
    color = "#1a7f37" if record["passed"] else "#cf222e"
    bundle = {
        "text/plain": line,
        "text/html": (
            f'<div class="mlbook-check" data-check="{html.escape(payload)}" '
            f'style="color:{color};font-family:monospace">{html.escape(line)}</div>'
        ),
    }
    display(bundle, raw=True)
