"""The shared argument validation of mlbook/_checks.py: one wording per kind of error."""

import numpy as np
import pytest
import torch

from mlbook import _checks as c


def test_valid_values_are_returned_converted():
    assert c.positive_int(np.int64(3), "n") == 3 and type(c.positive_int(3, "n")) is int
    assert c.nonneg_int(0, "k") == 0
    assert c.positive(2, "lr") == 2.0 and c.nonneg(0, "wd") == 0.0
    assert c.in_range(0.5, "p", 0, 1, hi_open=True) == 0.5
    assert c.one_of("a", "mode", ("a", "b")) == "a"
    x = torch.zeros(2, 3)
    assert c.tensor_ndim(x, "x", 2) is x


@pytest.mark.parametrize("bad", [0, -1, True, 2.0, "3", None])
def test_positive_int_rejects(bad):
    with pytest.raises(ValueError, match="n must be a positive integer, got"):
        c.positive_int(bad, "n")


@pytest.mark.parametrize("bad", [-1, 1.5, False])
def test_nonneg_int_rejects(bad):
    with pytest.raises(ValueError, match="k must be an integer >= 0"):
        c.nonneg_int(bad, "k")


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), True, "1"])
def test_positive_rejects(bad):
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        c.positive(bad, "lr")


@pytest.mark.parametrize("bad", [-1e-9, float("nan"), float("inf")])
def test_nonneg_rejects(bad):
    with pytest.raises(ValueError, match="wd must be a finite number >= 0"):
        c.nonneg(bad, "wd")


def test_in_range_names_the_interval():
    with pytest.raises(ValueError, match=r"p must lie in \[0, 1\), got 1"):
        c.in_range(1, "p", 0, 1, hi_open=True)
    with pytest.raises(ValueError, match=r"t must lie in \(0, 2\]"):
        c.in_range(0, "t", 0, 2, lo_open=True)
    with pytest.raises(ValueError):
        c.in_range(float("nan"), "p", 0, 1)


def test_one_of_and_tensor_ndim_say_what_is_allowed():
    with pytest.raises(ValueError, match="mode must be one of 'a', 'b'; got 'c'"):
        c.one_of("c", "mode", ("a", "b"))
    with pytest.raises(
        ValueError, match=r"x must be a 2-D tensor \(batch, features\), got shape \(3,\)"
    ):
        c.tensor_ndim(torch.zeros(3), "x", 2, "(batch, features)")
    with pytest.raises(ValueError, match="got list"):
        c.tensor_ndim([1, 2], "x", 1)
