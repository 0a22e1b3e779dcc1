"""Amari–Hopfield associative memory: Hebbian storage, energy, dynamics, the capacity experiment
and CDMA multi-user detection as the same mathematics (chapter 5).

Conventions: states are ±1 float tensors of shape (B, N) (a batch of B networks of N neurons),
stored patterns ξ^μ are the rows of a (P, N) tensor.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from mlbook._checks import nonneg, nonneg_int, one_of, positive_int
from mlbook.core import single_thread

__all__ = ["hebb", "energy", "run", "overlap", "capacity_naive", "capacity_curve", "cdma_ber"]


def _check_pm1(x: torch.Tensor, name: str, ndim: int) -> None:
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {tuple(x.shape)}")
    if x.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(x.shape)}")
    if not bool(((x == 1) | (x == -1)).all()):
        raise ValueError(f"{name} must contain only +1 and -1")


def _check_W(W: torch.Tensor) -> int:
    if not isinstance(W, torch.Tensor) or W.ndim != 2 or W.shape[0] != W.shape[1]:
        shape = tuple(W.shape) if isinstance(W, torch.Tensor) else type(W).__name__
        raise ValueError(f"W must be a square (N, N) tensor, got {shape}")
    return W.shape[0]


def hebb(patterns: torch.Tensor) -> torch.Tensor:
    """Hebb's rule w_ij = (1/N) Σ_μ ξ_i^μ ξ_j^μ, w_ii = 0 (:eq:`eq-hebb`).

    ``patterns``: ±1 tensor of shape (P, N). Returns W (N, N), symmetric with zero diagonal.
    """
    _check_pm1(patterns, "patterns", 2)
    xi = patterns.float()
    N = xi.shape[1]
    W = xi.T @ xi / N
    W.fill_diagonal_(0.0)
    return W


def energy(
    W: torch.Tensor, states: torch.Tensor, theta: torch.Tensor | None = None
) -> torch.Tensor:
    """E(x) = -(1/2) Σ_ij w_ij x_i x_j + Σ_i θ_i x_i (:eq:`eq-hop-energy`) for each row of
    ``states`` (B, N) → (B,)."""
    N = _check_W(W)
    if not isinstance(states, torch.Tensor) or states.ndim != 2 or states.shape[1] != N:
        raise ValueError(f"states must have shape (B, {N}), got {getattr(states, 'shape', None)}")
    x = states.to(W.dtype)
    E = -0.5 * ((x @ W) * x).sum(1)
    if theta is not None:
        E = E + x @ theta.to(W.dtype)
    return E


def overlap(patterns: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
    """Overlaps m_μ = (1/N) ξ^μ · x: patterns (P, N), states (B, N) → (B, P)."""
    if patterns.ndim != 2 or states.ndim != 2 or patterns.shape[1] != states.shape[1]:
        raise ValueError(
            f"need patterns (P, N) and states (B, N) with the same N, got "
            f"{tuple(patterns.shape)} and {tuple(states.shape)}"
        )
    return states.float() @ patterns.float().T / patterns.shape[1]


def run(
    W: torch.Tensor,
    states: torch.Tensor,
    sweeps: int,
    mode: str = "async",
    generator: torch.Generator | None = None,
    theta: torch.Tensor | None = None,
    trace: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Run the dynamics x_i ← sgn(Σ_j w_ij x_j − θ_i) (:eq:`eq-hop-update`) on a batch of
    states (B, N).

    ``mode="async"``: each sweep visits the N neurons one at a time in a fresh random order
    (the same order for the whole batch), each update a vector operation over the B states.
    ``mode="sync"``: each sweep updates all neurons at once from the previous state.
    A zero field leaves the neuron as it is. With ``trace=True`` also returns the energies
    E(x) (computed by :func:`energy`) before the first and after every single update:
    shape (sweeps·N + 1, B) for async, (sweeps + 1, B) for sync.
    """
    N = _check_W(W)
    _check_pm1(states, "states", 2)
    if states.shape[1] != N:
        raise ValueError(f"states must have shape (B, {N}), got {tuple(states.shape)}")
    one_of(mode, "mode", ("async", "sync"))
    nonneg_int(sweeps, "sweeps")
    x = states.to(W.dtype).clone()
    th = torch.zeros(N, dtype=W.dtype, device=W.device) if theta is None else theta.to(W.dtype)
    energies = [energy(W, x, th)] if trace else []
    with torch.no_grad(), single_thread(W.device):
        for _ in range(sweeps):
            if mode == "sync":
                h = x @ W - th
                x = torch.where(h == 0, x, torch.sign(h))
                if trace:
                    energies.append(energy(W, x, th))
                continue
            order = torch.randperm(
                N, generator=generator, device=generator.device if generator else "cpu"
            )
            for i in order.tolist():
                h = x @ W[i] - th[i]
                x[:, i] = torch.where(h == 0, x[:, i], torch.sign(h))
                if trace:
                    energies.append(energy(W, x, th))
    if trace:
        return x, torch.stack(energies)
    return x


def capacity_naive(
    N: int, alphas, trials: int, sweeps: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The readable reference of :func:`capacity_curve`, one network at a time in NumPy: store
    P = round(α N) random patterns by Hebb's rule (W formed), start at ξ^1, update single neurons
    in a fresh random order each sweep until a sweep changes nothing or ``sweeps`` have run.
    Returns the mean and the standard deviation (ddof = 1) over ``trials`` of the overlap
    m = ξ^1·x/N, one value per α. Every draw comes from the NumPy generator ``rng``."""
    a = _check_capacity_args(N, alphas, trials, sweeps)
    means, stds = [], []
    for alpha in a.tolist():
        P = max(1, round(alpha * N))
        ms = []
        for _ in range(trials):
            xi = rng.choice([-1.0, 1.0], size=(P, N))
            W = xi.T @ xi / N
            np.fill_diagonal(W, 0.0)
            x = xi[0].copy()
            for _ in range(sweeps):
                changed = False
                for i in rng.permutation(N):
                    h = W[i] @ x
                    if h != 0 and np.sign(h) != x[i]:
                        x[i], changed = np.sign(h), True
                if not changed:
                    break
            ms.append(x @ xi[0] / N)
        means.append(np.mean(ms))
        stds.append(np.std(ms, ddof=1) if trials > 1 else 0.0)
    return np.array(means), np.array(stds)


def _check_capacity_args(N: int, alphas, trials: int, sweeps: int) -> torch.Tensor:
    """The arguments of :func:`capacity_curve` checked; returns the α's as a float64 vector."""
    if positive_int(N, "N") < 2:
        raise ValueError(f"N must be an integer >= 2, got {N!r}")
    a = torch.as_tensor(alphas, dtype=torch.float64).flatten()
    if a.numel() == 0 or bool((a <= 0).any()):
        raise ValueError("alphas must be a non-empty list of positive numbers")
    positive_int(trials, "trials")
    positive_int(sweeps, "sweeps")
    return a


def _random_patterns(
    B: int,
    N: int,
    Pb: torch.Tensor,
    Pmax: int,
    generator: torch.Generator | None,
    gdev: torch.device,
    dev: torch.device,
) -> torch.Tensor:
    """xi[b, i, μ]: random ±1 bits for B networks of N neurons, zero beyond the P_b patterns
    of network b. Drawn as bytes (8 bits each: 8 times fewer calls to the generator)."""
    n_bytes = -(-B * N * Pmax // 8)
    raw = torch.randint(0, 256, (n_bytes,), generator=generator, device=gdev, dtype=torch.uint8)
    shifts = torch.arange(8, device=dev, dtype=torch.uint8)
    bits = (raw.to(dev)[:, None] >> shifts) & 1
    xi = bits.flatten()[: B * N * Pmax].reshape(B, N, Pmax).float().mul_(2).sub_(1)
    mask = (torch.arange(Pmax, device=dev)[None, :] < Pb[:, None]).float()
    return xi.mul_(mask[:, None, :])


def _relax_block(
    xb: torch.Tensor,
    xs: torch.Tensor,
    m: torch.Tensor,
    c: torch.Tensor,
    pos: torch.Tensor,
    rows: torch.Tensor,
    flips: torch.Tensor,
    N: int,
) -> None:
    """Visit one block of neurons in order, in place: ``xb`` (B, k, P) their patterns, ``xs``
    (B, k) their states, ``m`` (B, P) the overlaps, ``c`` (B, 1) the self-coupling P/N, ``pos``
    (1, k) the positions 0…k−1. Each round flips, in every network, the first unstable neuron
    (h_i x_i < 0) after the last one flipped, until no network has one; counts into ``flips``."""
    ptr = torch.zeros(xs.shape[0], 1, dtype=torch.long, device=xs.device)
    while True:
        h = torch.bmm(xb, m[:, :, None])[:, :, 0] - c * xs
        unstable = (h * xs < 0) & (pos >= ptr)
        hit = unstable.any(1)
        if not bool(hit.any()):
            return
        flips += hit
        first = unstable.to(torch.uint8).argmax(1)  # first unstable neuron per net
        d = torch.where(hit, -2.0 * xs[rows, first], 0.0)
        xs[rows, first] += d
        m.addcmul_(xb[rows, first], d[:, None], value=1.0 / N)
        ptr = torch.where(hit[:, None], first[:, None] + 1, ptr)


def capacity_curve(
    N: int,
    alphas,
    trials: int,
    sweeps: int,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
    block: int = 16,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The retrieval overlap m = ξ^1·x/N after asynchronous dynamics started at ξ^1, for
    P = round(α N) random patterns stored by Hebb's rule: mean and standard deviation over
    ``trials`` per α.

    All (α, trial) pairs form one batch of B = len(alphas)·trials networks; networks with fewer
    than P_max patterns carry zero padding. W is never formed: the field is computed from the
    overlaps, h_i = Σ_μ ξ_i^μ m_μ − (P/N) x_i with m_μ = (1/N) ξ^μ·x (the second term removes
    w_ii), and m_μ is updated after each single-neuron flip.

    The asynchronous dynamics is exact (single neurons in a fresh random order each sweep) but
    event-driven: the order is cut into blocks of ``block`` neurons; the fields of a whole block
    are computed at once (one batched matrix product), each network flips only the first
    unstable neuron (h_i x_i < 0) after its position in the block, and the block is recomputed
    from there. Visiting a stable neuron changes nothing, so skipping to the first unstable one
    is the same dynamics; the work is one (B, block, P) product per flip-round instead of one
    step per neuron. A network whose whole sweep flips nothing is at a fixed point and is
    retired from the batch; the rest continue for at most ``sweeps`` sweeps.
    :func:`capacity_naive` is the readable reference it is checked against.
    """
    a = _check_capacity_args(N, alphas, trials, sweeps)
    dev = torch.device(device) if device is not None else torch.device("cpu")
    gdev = generator.device if generator is not None else torch.device("cpu")
    P = torch.clamp(torch.round(a * N), min=1).long()
    A, Pmax = len(P), int(P.max())
    B = A * trials
    with torch.no_grad(), single_thread(dev):
        Pb = P.repeat_interleave(trials).to(dev)  # patterns per network
        xi = _random_patterns(B, N, Pb, Pmax, generator, gdev, dev)
        x = xi[:, :, 0].clone()  # start at the first stored pattern
        m = torch.einsum("bip,bi->bp", xi, x) / N  # overlaps with all patterns
        c = (Pb.float() / N)[:, None]  # self-coupling to remove: Σ_μ ξ_i^μ ξ_i^μ / N = P/N
        m1 = torch.empty(B, device=dev)  # final overlap with ξ^1 per network
        active = torch.arange(B, device=dev)  # networks still moving
        K = min(block, N)
        pos = torch.arange(K, device=dev)[None, :]
        for _ in range(sweeps):
            Ba = len(active)
            rows = torch.arange(Ba, device=dev)
            flips = torch.zeros(Ba, dtype=torch.long, device=dev)
            order = torch.randperm(N, generator=generator, device=gdev).to(dev)
            for start in range(0, N, K):
                idx = order[start : start + K]
                xs = x[:, idx]
                xb = xi.index_select(1, idx)  # (Ba, k, Pmax): the block, in visiting order
                _relax_block(xb, xs, m, c, pos[:, : len(idx)], rows, flips, N)
                x[:, idx] = xs
            # a network whose whole sweep flipped nothing sits at a fixed point: retire it
            still = flips > 0
            done = ~still
            m1[active[done]] = (x[done] * xi[done, :, 0]).sum(1) / N
            if not bool(still.any()):
                active = active[still]
                break
            if bool(done.any()):
                active, xi, x, m, c = active[still], xi[still], x[still], m[still], c[still]
        if len(active):  # sweeps exhausted: record where the moving networks are
            m1[active] = (x * xi[:, :, 0]).sum(1) / N
        m1 = m1.reshape(A, trials)
    return m1.mean(1).cpu(), m1.std(1).cpu()


def cdma_ber(
    N: int,
    betas,
    trials: int,
    noise_std: float,
    iterations: int = 20,
    device: torch.device | str | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Bit error rates of two CDMA detectors for P = round(β N) users on N chips (:eq:`eq-cdma`).

    Received chips r = (1/√N) Σ_μ a_μ s^μ + n, spreading codes s^μ ∈ {±1}^N, bits a_μ ∈ {±1},
    chip noise n ~ N(0, σ²). The matched filter h_μ = s^μ·r/√N = a_μ + Σ_{ν≠μ} C_μν a_ν + noise,
    with C_μν = s^μ·s^ν/N, decides â = sgn(h). The Hopfield-style detector starts there and
    descends E(a) = −Σ_μ h_μ a_μ + (1/2) Σ_{μ≠ν} C_μν a_μ a_ν (i.e. ‖r − Σ a_μ s^μ/√N‖²/2 up to a
    constant) by asynchronous single-bit updates a_μ ← sgn(h_μ − Σ_{ν≠μ} C_μν a_ν),
    ``iterations`` sweeps. Returns (BER matched filter, BER iterative), one value per β.
    """
    positive_int(N, "N")
    nonneg(noise_std, "noise_std")
    positive_int(trials, "trials")
    dev = torch.device(device) if device is not None else torch.device("cpu")
    gdev = generator.device if generator is not None else torch.device("cpu")
    ber_mf, ber_it = [], []
    with torch.no_grad(), single_thread(dev):
        for beta in torch.as_tensor(betas, dtype=torch.float64).flatten().tolist():
            if beta <= 0:
                raise ValueError(f"betas must be positive, got {beta}")
            P = max(1, round(beta * N))
            s = 2 * torch.randint(0, 2, (trials, P, N), generator=generator, device=gdev) - 1
            a = 2 * torch.randint(0, 2, (trials, P), generator=generator, device=gdev) - 1
            noise = torch.randn(trials, N, generator=generator, device=gdev) * noise_std
            s, a, noise = s.to(dev).float(), a.to(dev).float(), noise.to(dev)
            r = torch.einsum("tp,tpn->tn", a, s) / math.sqrt(N) + noise
            h = torch.einsum("tpn,tn->tp", s, r) / math.sqrt(N)
            C = s @ s.transpose(1, 2) / N
            C.diagonal(dim1=1, dim2=2).zero_()
            est = torch.where(h >= 0, 1.0, -1.0)
            ber_mf.append(float((est != a).float().mean()))
            for _ in range(iterations):
                for mu in range(P):
                    field = h[:, mu] - (C[:, mu] * est).sum(1)
                    est[:, mu] = torch.where(field == 0, est[:, mu], torch.sign(field))
            ber_it.append(float((est != a).float().mean()))
    return torch.tensor(ber_mf), torch.tensor(ber_it)
