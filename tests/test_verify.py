import math

import numpy as np
import pytest
import torch

from mlbook import verify
from mlbook.verify import check, records_in_html


def test_check_prints_the_line_and_returns_the_value(capsys):
    assert check("テスト正解率", 0.957, ge=0.92) == 0.957
    assert capsys.readouterr().out.strip() == "✔ テスト正解率: 0.957 ≥ 0.92(余裕 4.0 %)"
    rec = verify.records()[-1]
    assert rec["passed"] and math.isclose(rec["margin"], 0.037 / 0.92)


@pytest.mark.parametrize(
    ("kwargs", "margin"),
    [
        ({"gt": 0.5}, 0.2),
        ({"le": 0.8}, 0.25),
        ({"lt": 1.2}, 0.5),
        ({"ge": 0.5, "le": 0.61}, (0.61 - 0.6) / 0.61),  # the nearer bound decides
        ({"close_to": 0.5, "tol": 0.2}, 0.5),  # the share of the tolerance left
    ],
)
def test_margins(kwargs, margin):
    check("x", 0.6, **kwargs)
    assert math.isclose(verify.records()[-1]["margin"], margin)


def test_zero_bound_and_exact_equality_have_no_margin():
    check("x", 0.0, le=0, why="exact")
    assert verify.records()[-1]["margin"] is None
    check("n", 3, close_to=3, tol=0, why="integers")
    assert verify.records()[-1]["margin"] is None
    assert verify.records()[-1]["text"] == "3 = 3"


@pytest.mark.parametrize(
    ("value", "kwargs"),
    [
        (0.5, {"gt": 0.6}),
        (0.6, {"gt": 0.6}),  # strict
        (0.61, {"ge": 0.5, "le": 0.6}),
        (0.3, {"close_to": 0.5, "tol": 0.1}),
        (float("nan"), {"ge": 0.0}),
        (float("nan"), {"close_to": 0.0, "tol": 1.0}),
        ([0.9, 0.95, 0.2], {"ge": 0.5}),  # every element must hold
    ],
)
def test_a_false_claim_raises_with_the_line(value, kwargs, capsys):
    with pytest.raises(AssertionError, match="✘ claim.*成り立たなかった"):
        check("claim", value, **kwargs)
    assert "✘ claim" in capsys.readouterr().out
    assert not verify.records()[-1]["passed"]


def test_arrays_and_tensors_show_the_worst_element():
    check("x", torch.tensor([0.9, 0.7, 0.8]), ge=0.5)
    assert verify.records()[-1]["value"] == pytest.approx(0.7)
    check("y", np.array([1.0, 2.0]), close_to=torch.tensor([1.0, 2.1]), tol=0.2)
    assert verify.records()[-1]["value"] == pytest.approx(0.1)
    assert verify.records()[-1]["text"].startswith("最大誤差")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs a claim"),
        ({"ge": 1, "gt": 1}, "at most one lower"),
        ({"le": 1, "lt": 1}, "at most one lower"),
        ({"close_to": 1.0}, "go together"),
        ({"tol": 1.0}, "go together"),
        ({"ge": 0, "close_to": 1, "tol": 1}, "either"),
        ({"close_to": 1, "tol": -1}, "tol must be"),
        ({"ge": "a"}, "ge must be a real number"),
        ({"ge": 0, "why": " "}, "why must be"),
    ],
)
def test_bad_arguments_raise_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        check("x", 1.0, **kwargs)


def test_bad_label_and_value():
    with pytest.raises(ValueError, match="label"):
        check("", 1.0, ge=0)
    with pytest.raises(ValueError, match="value must be a number"):
        check("x", "abc", ge=0)
    with pytest.raises(ValueError, match="empty"):
        check("x", [], ge=0)


def test_records_round_trip_through_the_displayed_html(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.get_ipython", lambda: object())
    monkeypatch.setattr("IPython.display.display", lambda bundle, raw: shown.append(bundle))
    check('相関 <ρ> & "引用"', 0.9, ge=0.5, why="a 'reason'")
    (bundle,) = shown
    assert bundle["text/plain"].startswith("✔ 相関")
    (record,) = records_in_html("<p>before</p>" + bundle["text/html"])
    assert record == verify.records()[-1]


def test_records_carry_the_seed_family(monkeypatch):
    monkeypatch.setenv("MLBOOK_SEED", "3")
    check("x", 1.0, ge=0.5)
    assert verify.records()[-1]["seed"] == 3
