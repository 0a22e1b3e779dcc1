"""Recurrent networks written from their equations: Elman, LSTM and GRU, equal to ``torch.nn``.

Each class keeps PyTorch's parameter layout (``weight_ih``, ``weight_hh`` and the two bias vectors
``bias_ih``, ``bias_hh``; gates stacked in PyTorch's order: LSTM ``i, f, g, o``, GRU ``r, z, n``),
so ``from_torch`` copies the weights of a single-layer ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` (or of
the matching ``*Cell``) and the outputs agree to rounding. The cell functions broadcast over a
leading "model" dimension of the weights, so several independently initialised networks (e.g. one
per seed) can be trained as one batched model: weights ``(K, G·H, I)`` with inputs ``(K, B, I)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from mlbook._checks import one_of, positive_int, tensor_ndim

__all__ = ["Elman", "LSTM", "GRU", "elman_cell", "lstm_cell", "gru_cell", "count_parameters"]


def _affine(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """x Wᵀ + b, broadcasting a leading model dimension of the weights."""
    return torch.matmul(x, weight.transpose(-1, -2)) + bias.unsqueeze(-2)


# The cells take the input's projection gx = W_ih x + b_ih, computed for all steps at once by the
# modules (one large product instead of T small ones): only W_hh h + b_hh is inside the recurrence.


def elman_cell(gx, h, w_hh, b_hh, nonlinearity: str = "tanh") -> torch.Tensor:
    """One step of the Elman network, :eq:`eq-rnn-elman`: h' = φ(gx + W_hh h + b_hh)."""
    pre = gx + _affine(h, w_hh, b_hh)
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def lstm_cell(gx, h, c, w_hh, b_hh) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step with a forget gate, :eq:`eq-rnn-lstm`, gates in PyTorch's order i, f, g, o.

    c' = f ⊙ c + i ⊙ g and h' = o ⊙ tanh(c'), with i, f, o sigmoids and g a tanh of
    gx + W_hh h + b_hh.
    """
    i, f, g, o = (gx + _affine(h, w_hh, b_hh)).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def gru_cell(gx, h, w_hh, b_hh) -> torch.Tensor:
    """One GRU step in PyTorch's convention, :eq:`eq-rnn-gru-torch`, gates in order r, z, n.

    n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)) (the reset gate acts *after* the recurrent
    product) and h' = (1 − z) ⊙ n + z ⊙ h (z keeps the old state, as in Cho et al. 2014).
    """
    xr, xz, xn = gx.chunk(3, dim=-1)
    hr, hz, hn = _affine(h, w_hh, b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return (1 - z) * n + z * h


class _Recurrent(nn.Module):
    """Parameters in PyTorch's layout and the loop over time shared by the three networks."""

    gates = 1
    torch_types: tuple[type, ...] = ()

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        n_models: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.input_size = positive_int(input_size, "input_size")
        self.hidden_size = positive_int(hidden_size, "hidden_size")
        self.n_models = None if n_models is None else positive_int(n_models, "n_models")
        lead = () if n_models is None else (n_models,)
        rows = self.gates * hidden_size
        bound = 1 / math.sqrt(hidden_size)  # PyTorch's initialisation: U(−1/√H, 1/√H)

        def uniform(*shape: int) -> nn.Parameter:
            u = torch.rand(*lead, *shape, generator=generator)
            return nn.Parameter((2 * u - 1) * bound)

        self.weight_ih = uniform(rows, input_size)
        self.weight_hh = uniform(rows, hidden_size)
        self.bias_ih = uniform(rows)
        self.bias_hh = uniform(rows)

    def _check_input(self, x: torch.Tensor) -> torch.Tensor:
        if self.n_models is None:
            tensor_ndim(x, "x", 3, "(T, B, input_size)")
        else:
            tensor_ndim(x, "x", 4, "(T, n_models, B, input_size)")
            if x.shape[1] != self.n_models:
                raise ValueError(f"x must have n_models={self.n_models} in dim 1, got {x.shape}")
        if x.shape[0] < 1 or x.shape[-1] != self.input_size:
            raise ValueError(
                f"x must have at least one step and input_size={self.input_size} features in its "
                f"last dimension, got shape {tuple(x.shape)}"
            )
        return x

    def _state(self, x: torch.Tensor, given: torch.Tensor | None, name: str) -> torch.Tensor:
        shape = (*x.shape[1:-1], self.hidden_size)
        if given is None:
            return x.new_zeros(shape)
        if not isinstance(given, torch.Tensor) or tuple(given.shape) != shape:
            got = tuple(given.shape) if isinstance(given, torch.Tensor) else type(given).__name__
            raise ValueError(f"{name} must be a tensor of shape {shape}, got {got}")
        return given

    def _input_projection(self, x: torch.Tensor) -> torch.Tensor:
        """W_ih x_t + b_ih for every step at once: (T, [K,] B, G·H)."""
        return _affine(x, self.weight_ih, self.bias_ih)

    @classmethod
    def from_torch(cls, module: nn.Module) -> _Recurrent:
        """A copy of the weights of a single-layer, unidirectional ``torch.nn`` module of the
        matching kind (``nn.RNN``/``nn.RNNCell`` for Elman, ``nn.LSTM``/``nn.LSTMCell``,
        ``nn.GRU``/``nn.GRUCell``) with biases and ``batch_first=False``."""
        if not isinstance(module, cls.torch_types):
            allowed = ", ".join(f"torch.nn.{t.__name__}" for t in cls.torch_types)
            raise ValueError(f"{cls.__name__}.from_torch needs one of {allowed}, got {module!r}")
        is_cell = isinstance(module, nn.RNNCellBase)
        if not is_cell:
            if module.num_layers != 1 or module.bidirectional or module.batch_first:
                raise ValueError(
                    "from_torch copies a single-layer, unidirectional module with "
                    "batch_first=False; build one module per layer and direction"
                )
            if getattr(module, "proj_size", 0):
                raise ValueError("from_torch does not support an LSTM with proj_size > 0")
        if not module.bias:
            raise ValueError("from_torch needs a module with bias=True")
        suffix = "" if is_cell else "_l0"
        kwargs = {}
        if cls is Elman:
            kwargs["nonlinearity"] = module.nonlinearity
        ours = cls(module.input_size, module.hidden_size, **kwargs)
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                theirs = getattr(module, name + suffix)
                getattr(ours, name).copy_(theirs)
        return ours.to(dtype=module.weight_ih.dtype if is_cell else module.weight_ih_l0.dtype)


class Elman(_Recurrent):
    """Elman's simple recurrent network, :eq:`eq-rnn-elman`, equal to ``torch.nn.RNN``.

    ``forward(x (T, B, I), h0=None) -> (outputs (T, B, H), h_T (B, H))``. With ``n_models=K`` the
    weights get a leading dimension K and the inputs are ``(T, K, B, I)``: K independent networks
    run as one batch (``generator`` draws the initial weights, like PyTorch's U(−1/√H, 1/√H)).
    """

    gates = 1
    torch_types = (nn.RNN, nn.RNNCell)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        nonlinearity: str = "tanh",
        n_models: int | None = None,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, n_models, generator)
        self.nonlinearity = one_of(nonlinearity, "nonlinearity", ("tanh", "relu"))

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        h = self._state(self._check_input(x), h0, "h0")
        outputs = []
        for gx in self._input_projection(x):
            h = elman_cell(gx, h, self.weight_hh, self.bias_hh, self.nonlinearity)
            outputs.append(h)
        return torch.stack(outputs), h


class LSTM(_Recurrent):
    """The LSTM with a forget gate, :eq:`eq-rnn-lstm`, equal to ``torch.nn.LSTM``.

    ``forward(x (T, B, I), h0=None) -> (outputs (T, B, H), (h_T, c_T))``; ``h0`` is ``None`` or a
    pair ``(h0, c0)``. ``n_models`` and ``generator`` as in :class:`Elman`.
    """

    gates = 4
    torch_types = (nn.LSTM, nn.LSTMCell)

    def forward(self, x: torch.Tensor, h0: tuple[torch.Tensor, torch.Tensor] | None = None):
        self._check_input(x)
        if h0 is not None and (not isinstance(h0, (tuple, list)) or len(h0) != 2):
            raise ValueError("h0 of an LSTM must be None or a pair (h0, c0) of tensors")
        h = self._state(x, None if h0 is None else h0[0], "h0")
        c = self._state(x, None if h0 is None else h0[1], "c0")
        outputs = []
        for gx in self._input_projection(x):
            h, c = lstm_cell(gx, h, c, self.weight_hh, self.bias_hh)
            outputs.append(h)
        return torch.stack(outputs), (h, c)


class GRU(_Recurrent):
    """The gated recurrent unit in PyTorch's convention, :eq:`eq-rnn-gru-torch`, equal to
    ``torch.nn.GRU``. ``forward(x (T, B, I), h0=None) -> (outputs (T, B, H), h_T (B, H))``;
    ``n_models`` and ``generator`` as in :class:`Elman`."""

    gates = 3
    torch_types = (nn.GRU, nn.GRUCell)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None):
        h = self._state(self._check_input(x), h0, "h0")
        outputs = []
        for gx in self._input_projection(x):
            h = gru_cell(gx, h, self.weight_hh, self.bias_hh)
            outputs.append(h)
        return torch.stack(outputs), h


def count_parameters(kind: str, input_size: int, hidden_size: int) -> int:
    """Parameters of one layer, :eq:`eq-rnn-params`: G·(H·I + H·H + 2H) with G = 1, 4, 3 gate
    blocks for ``"elman"``, ``"lstm"``, ``"gru"`` (PyTorch's two bias vectors counted)."""
    gates = {"elman": 1, "lstm": 4, "gru": 3}[one_of(kind, "kind", ("elman", "lstm", "gru"))]
    i, h = positive_int(input_size, "input_size"), positive_int(hidden_size, "hidden_size")
    return gates * (h * i + h * h + 2 * h)
