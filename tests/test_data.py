import pytest
import torch

import mlbook
from mlbook import data


def test_digits_split_is_fixed_stratified_and_scaled():
    a, b = data.digits(), data.digits(generator=mlbook.rng(0))
    assert torch.equal(a.X_train, b.X_train) and torch.equal(a.y_test, b.y_test)
    assert a.X_train.shape[1] == 64 and len(a.X_train) + len(a.X_test) == 1797
    assert a.X_train.dtype == torch.float32 and a.y_train.dtype == torch.int64
    assert 0.0 <= a.X_train.min() and a.X_train.max() <= 1.0
    counts = torch.bincount(a.y_test, minlength=10)
    assert counts.min() >= 0.24 * 174 and counts.max() <= 0.26 * 183  # every class ~25 %
    train_rows = {tuple(r) for r in a.X_train.tolist()}
    # the split is a partition: no test image is a training row (digits has few exact duplicates)
    overlap = sum(tuple(r) in train_rows for r in a.X_test.tolist())
    assert overlap <= 5
    assert not torch.equal(data.digits(generator=mlbook.rng(1)).y_test, a.y_test)


def test_digits_images_and_device():
    s = data.digits(images=True)
    assert s.X_train.shape[1:] == (1, 8, 8)
    assert s.to("cpu").X_test.device.type == "cpu"
    with pytest.raises(ValueError, match="test_fraction"):
        data.digits(test_fraction=1.0)


def test_moons_shapes_labels_and_seed():
    X, y = data.moons(101, noise=0.0, generator=mlbook.generator(3))
    assert X.shape == (101, 2) and set(y.tolist()) == {0, 1} and int(y.sum()) == 51
    upper = X[y == 0]
    assert torch.allclose(upper.norm(dim=1), torch.ones(len(upper)), atol=1e-5)  # unit circle
    assert torch.equal(
        data.moons(50, generator=mlbook.generator(1))[0],
        data.moons(50, generator=mlbook.generator(1))[0],
    )


def test_gaussian_mixture_centres_and_spread():
    X, comp = data.gaussian_mixture(4000, k=8, radius=2.0, std=0.05)
    centers = data.ring_centers(8, 2.0)
    assert torch.allclose(centers.norm(dim=1), torch.full((8,), 2.0))
    dist = (X - centers[comp]).norm(dim=1)
    assert dist.mean() == pytest.approx(0.05 * (torch.pi / 2) ** 0.5, rel=0.05)  # Rayleigh mean
    assert torch.bincount(comp, minlength=8).min() > 400


def test_swiss_roll_scale():
    X = data.swiss_roll(500, noise=0.0)
    assert X.shape == (500, 2) and X.abs().max() <= 1.0 + 1e-6


@pytest.mark.parametrize(
    "call",
    [
        lambda: data.moons(0),
        lambda: data.moons(10, noise=-1),
        lambda: data.gaussian_mixture(10, k=0),
        lambda: data.ring_centers(4, radius=0),
        lambda: data.swiss_roll(2.5),
        lambda: data.gaussian_mixture(10, std=float("nan")),
    ],
)
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()
