import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from mlbook import plot  # noqa: E402


def test_japanese_text_renders_without_missing_glyphs():
    fig, ax = plot.subplots()
    ax.plot([0, 1], [-1, 1], label="学習曲線")
    ax.set(title="誤差逆伝播法の学習曲線(テスト)", xlabel="エポック数", ylabel="損失")
    ax.legend()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    missing = [str(w.message) for w in caught if "missing from" in str(w.message)]
    assert not missing, missing
    assert "IPAexGothic" in matplotlib.rcParams["font.family"]
    plt.close(fig)


def test_subplots_grid_and_errors():
    fig, axes = plot.subplots(2, 3)
    assert axes.shape == (2, 3)
    plt.close(fig)
    with pytest.raises(ValueError, match="nrows"):
        plot.subplots(0, 1)


def test_decision_regions_shades_both_classes():
    fig, ax = plot.subplots()
    plot.decision_regions(ax, lambda X: (X[:, 0] > 0).long(), (-1, 1), (-1, 1), resolution=20)
    assert ax.get_xlim() == (-1, 1) and len(ax.collections) >= 1
    with pytest.raises(ValueError, match="limits"):
        plot.decision_regions(ax, lambda X: X[:, 0], (1, -1), (0, 1))
    plt.close(fig)
