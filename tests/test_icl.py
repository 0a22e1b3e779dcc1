"""In-context learning helpers of chapter 11: baselines, the GD = linear-attention identity."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mlbook import icl


def _tasks(n=500, d=3, k=8, noise=0.3, seed=0):
    return icl.linear_tasks(n, d, k, noise, generator=torch.Generator().manual_seed(seed))


def test_linear_tasks_shapes_and_noise():
    xs, ys = _tasks(noise=0.0)
    assert xs.shape == (500, 9, 3) and ys.shape == (500, 9)
    # noise-free: least squares on d points recovers the query exactly
    pred = icl.ridge_predict(xs[:, :4], ys[:, :4], 0.0)
    assert torch.allclose(pred, ys[:, 3], atol=1e-4)


def test_ridge_matches_closed_form():
    xs, ys = _tasks(n=3)
    X, y, xq = xs[0, :-1].double(), ys[0, :-1].double(), xs[0, -1].double()
    w = torch.linalg.inv(X.T @ X + 0.5 * torch.eye(3, dtype=torch.float64)) @ X.T @ y
    assert icl.ridge_predict(xs, ys, 0.5)[0].item() == pytest.approx((w @ xq).item(), rel=1e-5)


def test_nearest_neighbour_and_averaging():
    xs = torch.tensor([[[0.0], [1.0], [0.9]]])
    ys = torch.tensor([[5.0, 7.0, 0.0]])
    assert icl.nn_predict(xs, ys).item() == 7.0
    assert icl.averaging_predict(xs, ys).item() == pytest.approx(0.9 * (0 * 5 + 1 * 7) / 2)


def test_lsa_equals_one_gd_step():
    xs, ys = _tasks()
    e = torch.cat([xs, ys.unsqueeze(-1)], -1).double()
    e[:, -1, -1] = 0
    out = icl.linear_self_attention(e, *icl.lsa_gd_weights(3, 0.3, 8))
    assert torch.allclose(out[:, -1], icl.gd_step_predict(xs, ys, 0.3).double(), atol=1e-12)


def test_transformer_shapes_and_training_log():
    model = icl.ICLTransformer(2, 4, n_embd=16, n_layer=1, n_head=2)
    xs, ys = icl.linear_tasks(3, 2, 4, 0.1)
    assert model(xs, ys).shape == (3, 5)
    log = icl.train_icl(model, 4, 0.1, 3, batch=8, generator=torch.Generator().manual_seed(0))
    assert len(log.losses) == 3


def test_errors():
    with pytest.raises(ValueError, match="n_prompts"):
        icl.linear_tasks(0, 2, 3, 0.1)
    with pytest.raises(ValueError, match="noise"):
        icl.linear_tasks(2, 2, 3, -1.0)
    with pytest.raises(ValueError, match="lam"):
        icl.ridge_predict(*_tasks(n=2), -1.0)
    with pytest.raises(ValueError, match="xs"):
        icl.nn_predict(torch.zeros(2, 3), torch.zeros(2, 3))
    with pytest.raises(FileNotFoundError, match="icl_checkpoint"):
        icl.load_pretrained("/nonexistent/ckpt.pt")


@pytest.mark.slow
def test_checkpoint_script_is_reproducible(tmp_path):
    """The shipped checkpoint comes from benchmarks/icl_checkpoint.py: the same script with the same
    seed reproduces its first steps (the full run takes minutes on a CPU)."""
    root = Path(__file__).resolve().parent.parent
    ckpt = icl.load_pretrained()
    out = tmp_path / "short.pt"
    cfg = dict(ckpt["config"], steps=20)
    args = [f"--{k}={v}" for k, v in cfg.items()] + [f"--out={out}"]
    env = {"MLBOOK_SEED": "0", "PATH": "", "PYTHONPATH": str(root)}
    subprocess.run(
        [sys.executable, str(root / "benchmarks/icl_checkpoint.py"), *args],
        check=True,
        env=env,
        cwd=root,
    )
    short = torch.load(out, weights_only=True)
    assert short["losses"] == pytest.approx(ckpt["losses"][:20], rel=1e-5)
