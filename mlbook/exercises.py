"""Checks for the exercises: a student calls ``check_*`` on an answer and reads, in Japanese,
whether it is right and, if not, what was expected.

A wrong answer raises :class:`ExerciseError` (an ``AssertionError``), so a notebook whose
reference solution is wrong fails its test run; a right one prints 「正解です」.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

__all__ = ["ExerciseError", "check_close", "check_equal", "check_truth_table"]


class ExerciseError(AssertionError):
    """A wrong answer to an exercise; the message says what was expected."""


def _ok(what: str) -> bool:
    print(f"正解です：{what}")
    return True


def _as_array(value: object, what: str) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ExerciseError(
            f"{what}：答えを数値(または数値の配列)に変換できません({exc})。"
        ) from exc


def check_close(
    answer: object, expected: object, what: str, rtol: float = 1e-6, atol: float = 1e-8
) -> bool:
    """Right when ``answer`` equals ``expected`` elementwise within ``rtol``/``atol``."""
    if rtol < 0 or atol < 0:
        raise ValueError(f"rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    a = _as_array(answer, what)
    e = _as_array(expected, what)
    if a.shape != e.shape:
        raise ExerciseError(
            f"{what}：形が違います。期待される形 {e.shape}、あなたの答えの形 {a.shape}。"
        )
    if not np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=True):
        worst = np.unravel_index(np.argmax(np.abs(a - e)), a.shape) if a.ndim else ()
        raise ExerciseError(
            f"{what}：値が違います。期待される値 {e[worst].tolist()!r}、あなたの答え {a[worst].tolist()!r}"
            f"(許容誤差 rtol={rtol}, atol={atol})。"
        )
    return _ok(what)


def check_equal(answer: object, expected: object, what: str) -> bool:
    """Right when ``answer == expected`` exactly (numbers, strings, lists, dicts …)."""
    if isinstance(answer, torch.Tensor):
        answer = answer.tolist()
    if answer != expected:
        raise ExerciseError(
            f"{what}：違います。期待される答え {expected!r}、あなたの答え {answer!r}。"
        )
    return _ok(what)


def check_truth_table(
    fn: Callable[[Sequence[int]], object],
    table: dict[tuple[int, ...], int],
    what: str,
) -> bool:
    """Right when ``fn(inputs)`` gives ``table[inputs]`` for every row of a Boolean truth table.

    ``fn`` receives the inputs as a tuple of 0/1 and must return 0/1 (or True/False).
    """
    if not table:
        raise ValueError("table must have at least one row")
    wrong: list[str] = []
    for inputs, want in table.items():
        got = fn(inputs)
        if isinstance(got, torch.Tensor):
            got = got.item()
        if int(got) != want:
            wrong.append(f"入力 {inputs} → 期待 {want}、あなたの答え {int(got)}")
    if wrong:
        raise ExerciseError(f"{what}：{len(wrong)} 行が違います。" + "; ".join(wrong))
    return _ok(what)
