"""mlbook.controls.frames: every combination is rendered once, the starting frame is the only one
shown, each frame describes its own values, and bad arguments are refused clearly."""

import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from mlbook.controls import MAX_FRAMES, figure_png, frames  # noqa: E402


def _render_text(w, mode):
    return f"w={w} mode={mode}"


def test_every_combination_is_rendered_once_and_only_the_start_is_shown():
    calls = []

    def render(w, mode):
        calls.append((w, mode))
        return _render_text(w, mode)

    out = frames(render, {"w": [0.5, 1.0, 4.0], "mode": ["a", "b"]}, value={"w": 4.0}).data
    assert sorted(calls) == sorted((w, m) for w in (0.5, 1.0, 4.0) for m in "ab")
    shown = re.findall(r'data-mlbook-frame="([\d,]+)" aria-label="[^"]*">', out)
    hidden = re.findall(r'data-mlbook-frame="([\d,]+)" aria-label="[^"]*" hidden>', out)
    assert shown == ["2,0"] and len(hidden) == 5
    assert '<input type="range"' in out and "<select" in out  # numbers slide, text is chosen
    assert "w=4.0 mode=a" in out and "aria-valuetext" not in out.split("<script>")[0]


def test_frames_carry_their_values_in_caption_and_alt_text():
    def render(w):
        fig, ax = plt.subplots(figsize=(2, 1))
        ax.set_title(f"w = {w}")
        return fig

    out = frames(render, {"w": [1, 2]}, labels={"w": "重み"}, caption=lambda w: f"重みが {w}").data
    assert out.count("data:image/png;base64,") == 2
    assert 'alt="重み = 1"' in out and 'alt="重み = 2"' in out
    assert "<figcaption>重みが 2</figcaption>" in out
    assert '<label for="' in out  # the control is labelled for screen readers
    assert plt.get_fignums() == []  # the figures were closed


def test_same_frames_give_the_same_html():
    a = frames(_render_text, {"w": [1, 2], "mode": ["x", "y"]}).data
    b = frames(_render_text, {"w": [1, 2], "mode": ["x", "y"]}).data
    assert a == b


def test_figure_png_is_a_png():
    fig, _ = plt.subplots()
    assert figure_png(fig).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("controls", "kwargs", "message"),
    [
        ({}, {}, "at least one control"),
        ({"w": [1]}, {}, "at least 2 distinct values"),
        ({"w": [1, 1]}, {}, "at least 2 distinct values"),
        ({"w": list(range(MAX_FRAMES + 1))}, {}, "at most 64 frames"),
        ({"w": [1, 2]}, {"value": {"w": 3}}, "must be one of 1, 2"),
    ],
)
def test_bad_controls_are_refused(controls, kwargs, message):
    with pytest.raises(ValueError, match=message):
        frames(lambda w=0: "x", controls, **kwargs)


def test_render_must_return_a_figure_bytes_or_text():
    with pytest.raises(ValueError, match="render must return a matplotlib Figure"):
        frames(lambda w: 3, {"w": [1, 2]})


def test_figure_png_palette_is_smaller_and_can_be_turned_off():
    from io import BytesIO

    from PIL import Image

    def fig():
        f, ax = plt.subplots(figsize=(4, 3))
        for k in range(4):
            ax.plot(range(50), [((i * (k + 1)) % 17) for i in range(50)])
        return f

    full, palette = figure_png(fig(), colors=None), figure_png(fig())
    assert Image.open(BytesIO(palette)).mode == "P" and Image.open(BytesIO(full)).mode == "RGBA"
    assert len(palette) < len(full)
    with pytest.raises(ValueError, match="colors must lie in"):
        figure_png(fig(), colors=1)
