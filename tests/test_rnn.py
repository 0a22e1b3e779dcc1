"""mlbook.rnn against torch.nn (every cell, random sizes and lengths) and mlbook.data.adding_problem."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import mlbook
from mlbook.data import adding_problem
from mlbook.rnn import GRU, LSTM, Elman, count_parameters, elman_cell, gru_cell, lstm_cell

OURS = {"elman": Elman, "lstm": LSTM, "gru": GRU}
TORCH = {"elman": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
CELLS = {"elman": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}


@pytest.fixture(autouse=True)
def _one_thread():
    with mlbook.single_thread():  # many small operations: one thread is faster on a busy CPU
        yield


def _sizes(seed: int) -> tuple[int, int, int, int]:
    """Random (T, B, I, H) for one test case."""
    g = mlbook.generator(seed)
    T, B, n_in, H = (int(v) for v in torch.randint(1, 9, (4,), generator=g))
    return T * 3, B, n_in, H


def _initial(kind: str, B: int, H: int, gen: torch.Generator):
    h0 = torch.randn(1, B, H, generator=gen, dtype=torch.float64)
    if kind == "lstm":
        c0 = torch.randn(1, B, H, generator=gen, dtype=torch.float64)
        return (h0, c0), (h0[0], c0[0])
    return h0, h0[0]


@pytest.mark.parametrize("kind", OURS)
@pytest.mark.parametrize("case", range(6))
def test_sequence_equals_torch(kind, case):
    T, B, n_in, H = _sizes(100 + case)
    kwargs = {"nonlinearity": "relu"} if kind == "elman" and case % 2 else {}
    ref = TORCH[kind](n_in, H, **kwargs).double()
    ours = OURS[kind].from_torch(ref)
    gen = mlbook.generator(200 + case)
    x = torch.randn(T, B, n_in, generator=gen, dtype=torch.float64)
    theirs_init, ours_init = _initial(kind, B, H, gen)
    for init_t, init_o in ((None, None), (theirs_init, ours_init)):
        out_t, state_t = ref(x, init_t)
        out_o, state_o = ours(x, init_o)
        assert out_o.shape == (T, B, H)
        torch.testing.assert_close(out_o, out_t, rtol=0, atol=1e-10)
        if kind == "lstm":
            torch.testing.assert_close(state_o[0], state_t[0][0], rtol=0, atol=1e-10)
            torch.testing.assert_close(state_o[1], state_t[1][0], rtol=0, atol=1e-10)
        else:
            torch.testing.assert_close(state_o, state_t[0], rtol=0, atol=1e-10)


@pytest.mark.parametrize("kind", OURS)
def test_gradients_equal_torch(kind):
    T, B, n_in, H = 9, 3, 4, 5
    ref = TORCH[kind](n_in, H).double()
    ours = OURS[kind].from_torch(ref)
    x = torch.randn(T, B, n_in, generator=mlbook.generator(1), dtype=torch.float64)
    ref(x)[0].square().sum().backward()
    ours(x)[0].square().sum().backward()
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        torch.testing.assert_close(
            getattr(ours, name).grad, getattr(ref, name + "_l0").grad, rtol=1e-9, atol=1e-12
        )


@pytest.mark.parametrize("kind", OURS)
@pytest.mark.parametrize("case", range(4))
def test_one_step_equals_torch_cell(kind, case):
    _, B, n_in, H = _sizes(300 + case)
    ref = CELLS[kind](n_in, H).double()
    ours = OURS[kind].from_torch(ref)
    gen = mlbook.generator(400 + case)
    x = torch.randn(B, n_in, generator=gen, dtype=torch.float64)
    h = torch.randn(B, H, generator=gen, dtype=torch.float64)
    gx = x @ ours.weight_ih.T + ours.bias_ih
    if kind == "lstm":
        c = torch.randn(B, H, generator=gen, dtype=torch.float64)
        h_t, c_t = ref(x, (h, c))
        h_o, c_o = lstm_cell(gx, h, c, ours.weight_hh, ours.bias_hh)
        torch.testing.assert_close(c_o, c_t, rtol=0, atol=1e-12)
    elif kind == "gru":
        h_t, h_o = ref(x, h), gru_cell(gx, h, ours.weight_hh, ours.bias_hh)
    else:
        h_t, h_o = ref(x, h), elman_cell(gx, h, ours.weight_hh, ours.bias_hh)
    torch.testing.assert_close(h_o, h_t, rtol=0, atol=1e-12)
    out, _ = ours(x[None], (h, c) if kind == "lstm" else h)  # the module over one step
    torch.testing.assert_close(out[0], h_t, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kind", OURS)
def test_batched_models_equal_separate_models(kind):
    K, T, B, n_in, H = 3, 6, 2, 3, 4
    batched = OURS[kind](n_in, H, n_models=K, generator=mlbook.generator(5)).double()
    x = torch.randn(T, K, B, n_in, generator=mlbook.generator(6), dtype=torch.float64)
    out, _ = batched(x)
    assert out.shape == (T, K, B, H)
    for k in range(K):
        single = OURS[kind](n_in, H).double()
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(single, name).copy_(getattr(batched, name)[k])
        torch.testing.assert_close(out[:, k], single(x[:, k])[0], rtol=0, atol=1e-12)


def test_generator_makes_initialisation_reproducible():
    a = LSTM(3, 4, generator=mlbook.generator(7))
    b = LSTM(3, 4, generator=mlbook.generator(7))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    bound = 1 / 4**0.5
    assert all(p.abs().max() <= bound for p in a.parameters())


@pytest.mark.parametrize("kind", OURS)
def test_parameter_count_matches_torch(kind):
    for n_in, H in ((1, 1), (7, 5), (32, 128)):
        assert count_parameters(kind, n_in, H) == sum(
            p.numel() for p in TORCH[kind](n_in, H).parameters()
        )
        assert count_parameters(kind, n_in, H) == sum(
            p.numel() for p in OURS[kind](n_in, H).parameters()
        )
    assert 4 * count_parameters("gru", 5, 6) == 3 * count_parameters("lstm", 5, 6)


def test_from_torch_rejects_what_it_cannot_copy():
    with pytest.raises(ValueError, match="torch.nn.LSTM"):
        LSTM.from_torch(nn.GRU(2, 3))
    with pytest.raises(ValueError, match="single-layer"):
        GRU.from_torch(nn.GRU(2, 3, num_layers=2))
    with pytest.raises(ValueError, match="single-layer"):
        GRU.from_torch(nn.GRU(2, 3, bidirectional=True))
    with pytest.raises(ValueError, match="single-layer"):
        Elman.from_torch(nn.RNN(2, 3, batch_first=True))
    with pytest.raises(ValueError, match="bias=True"):
        Elman.from_torch(nn.RNN(2, 3, bias=False))
    with pytest.raises(ValueError, match="proj_size"):
        LSTM.from_torch(nn.LSTM(2, 3, proj_size=2))


def test_bad_arguments_raise_value_errors():
    with pytest.raises(ValueError, match="hidden_size"):
        Elman(2, 0)
    with pytest.raises(ValueError, match="input_size"):
        GRU(2.5, 3)
    with pytest.raises(ValueError, match="nonlinearity"):
        Elman(2, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="kind"):
        count_parameters("transformer", 2, 3)
    model = GRU(2, 3)
    with pytest.raises(ValueError, match="3-D tensor"):
        model(torch.zeros(4, 2))
    with pytest.raises(ValueError, match="input_size=2"):
        model(torch.zeros(4, 1, 5))
    with pytest.raises(ValueError, match="at least one step"):
        model(torch.zeros(0, 1, 2))
    with pytest.raises(ValueError, match="h0 must be a tensor of shape"):
        model(torch.zeros(4, 1, 2), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="pair"):
        LSTM(2, 3)(torch.zeros(4, 1, 2), torch.zeros(1, 3))
    with pytest.raises(ValueError, match="c0 must be a tensor"):
        LSTM(2, 3)(torch.zeros(4, 1, 2), (torch.zeros(1, 3), torch.zeros(2, 3)))
    with pytest.raises(ValueError, match="n_models=3"):
        GRU(2, 3, n_models=3)(torch.zeros(4, 2, 1, 2))
    with pytest.raises(ValueError, match="4-D tensor"):
        GRU(2, 3, n_models=3)(torch.zeros(4, 1, 2))


def test_adding_problem_shapes_marks_and_targets():
    x, y = adding_problem(500, 12, generator=mlbook.generator(1))
    assert x.shape == (12, 500, 2) and y.shape == (500,)
    values, marks = x[..., 0], x[..., 1]
    assert ((values >= 0) & (values < 1)).all()
    assert set(marks.unique().tolist()) == {0.0, 1.0}
    assert (marks[:6].sum(0) == 1).all() and (marks[6:].sum(0) == 1).all()  # one in each half
    torch.testing.assert_close(y, (values * marks).sum(0))
    assert abs(y.var().item() - 1 / 6) < 0.03  # Var(v1 + v2) = 2/12


def test_adding_problem_reproducible_and_odd_lengths():
    a = adding_problem(4, 7, generator=mlbook.generator(2))
    b = adding_problem(4, 7, generator=mlbook.generator(2))
    assert all(torch.equal(p, q) for p, q in zip(a, b, strict=True))
    x, _ = adding_problem(300, 3, generator=mlbook.generator(3))
    assert (x[:1, :, 1].sum(0) == 1).all() and (x[1:, :, 1].sum(0) == 1).all()


@pytest.mark.parametrize("n, T", [(0, 5), (3, 1), (2.0, 5), (3, True)])
def test_adding_problem_rejects_bad_sizes(n, T):
    with pytest.raises(ValueError):
        adding_problem(n, T)
