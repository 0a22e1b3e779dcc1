"""Controls that work on the static website: every value's figure is computed when the notebook
runs, and moving the control shows the right one in the browser, with no kernel.

``frames(render, controls)`` calls ``render(**values)`` for every combination of the controls'
values (a few to a few dozen), and returns one HTML output: a labelled slider (or a drop-down list
for text values) per control and the frames, of which the one matching the controls is shown. A
few lines of inline JavaScript switch the frames; the same output works on the website, in
JupyterLab and in Colab. The caption under the frame and each image's alternative text are
written for its own values, so the figure never disagrees with its control.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import itertools
import json
from collections.abc import Callable, Mapping, Sequence

from IPython.display import HTML

from mlbook import _checks

MAX_FRAMES = 64

_SCRIPT = """<script>(function () {
  var root = document.getElementById("%(id)s");
  var inputs = root.querySelectorAll("[data-mlbook-control]");
  function update() {
    var key = [];
    inputs.forEach(function (input) {
      var labels = JSON.parse(input.dataset.labels);
      var text = labels[Number(input.value)];
      key.push(input.value);
      input.setAttribute("aria-valuetext", text);
      var out = root.querySelector('output[for="' + input.id + '"]');
      if (out) out.textContent = text;
    });
    key = key.join(",");
    root.querySelectorAll("[data-mlbook-frame]").forEach(function (frame) {
      frame.hidden = frame.dataset.mlbookFrame !== key;
    });
  }
  inputs.forEach(function (input) {
    input.addEventListener("input", update);
    input.addEventListener("change", update);
  });
  update();
})();</script>"""


def figure_png(fig: object, dpi: int = 80, colors: int | None = 256) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed (it will not be drawn again).

    ``colors``: the PNG is reduced to a palette of at most this many colours (a plot has few,
    and the file is typically 2-4 times smaller); ``None`` keeps full colour.
    """
    import matplotlib.pyplot as plt
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    if colors is None:
        return buffer.getvalue()
    _checks.in_range(colors, "colors", 2, 256)
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    out = io.BytesIO()
    image.quantize(int(colors), method=Image.Quantize.MEDIANCUT).save(
        out, format="PNG", optimize=True
    )
    return out.getvalue()


def _label(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _frame_html(content: object, key: str, alt: str, caption: str, shown: bool) -> str:
    if isinstance(content, bytes):
        data = base64.b64encode(content).decode("ascii")
        body = f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
    elif isinstance(content, str):
        body = f'<pre class="mlbook-frames-text">{html.escape(content)}</pre>'
    elif hasattr(content, "savefig"):
        return _frame_html(figure_png(content), key, alt, caption, shown)
    else:
        raise ValueError(
            "render must return a matplotlib Figure, PNG bytes or a str, "
            f"got {type(content).__name__}"
        )
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    hidden = "" if shown else " hidden"
    label = html.escape(alt)
    return f'<figure data-mlbook-frame="{key}" aria-label="{label}"{hidden}>{body}{cap}</figure>'


def _control_html(uid: str, i: int, name: str, values: Sequence, start: int) -> str:
    labels = [_label(v) for v in values]
    cid = f"{uid}-{i}"
    data = (
        f'data-mlbook-control data-labels="{html.escape(json.dumps(labels, ensure_ascii=False))}"'
    )
    if all(isinstance(v, str) for v in values):
        options = "".join(
            f'<option value="{j}"{" selected" if j == start else ""}>{html.escape(text)}</option>'
            for j, text in enumerate(labels)
        )
        widget = f'<select id="{cid}" {data}>{options}</select>'
    else:
        widget = (
            f'<input type="range" id="{cid}" min="0" max="{len(values) - 1}" step="1" '
            f'value="{start}" {data}>'
        )
    label = f'<label for="{cid}">{html.escape(name)}</label>'
    return f'<span class="mlbook-frames-control">{label} {widget} <output for="{cid}">{html.escape(labels[start])}</output></span>'


def _validated(
    controls: Mapping[str, Sequence], value: Mapping[str, object] | None
) -> tuple[list[str], list[list], list[int]]:
    """The controls' names, their values and the index of each one's starting value."""
    if not controls:
        raise ValueError("controls must name at least one control and its values")
    names, values, start = list(controls), [list(v) for v in controls.values()], []
    n_frames = 1
    for name, vals in zip(names, values, strict=True):
        if len(vals) < 2 or len(set(map(_label, vals))) != len(vals):
            raise ValueError(f"control {name!r} needs at least 2 distinct values, got {vals!r}")
        wanted = (value or {}).get(name, vals[0])
        _checks.one_of(wanted, f"value[{name!r}]", vals)
        start.append(vals.index(wanted))
        n_frames *= len(vals)
    if n_frames > MAX_FRAMES:
        raise ValueError(
            f"the controls make {n_frames} combinations; at most {MAX_FRAMES} frames are allowed"
        )
    return names, values, start


def frames(
    render: Callable[..., object],
    controls: Mapping[str, Sequence],
    *,
    labels: Mapping[str, str] | None = None,
    value: Mapping[str, object] | None = None,
    caption: Callable[..., str] | None = None,
) -> HTML:
    """Precompute ``render(**combination)`` for every combination of ``controls``' values and
    return a control that switches between them in the browser.

    ``controls``: {argument name: the values it takes}, e.g. ``{"w": [0, 1, 2, 4]}`` (at most
    ``MAX_FRAMES`` combinations). ``labels``: the text labelling each control (default: its name).
    ``value``: the values shown first (default: the first of each). ``render`` returns a
    matplotlib Figure (drawn to PNG and closed), PNG bytes, or a str (shown as text).
    ``caption(**combination)`` gives the sentence under each frame (default: the values).
    """
    names, values, start = _validated(controls, value)
    shown_names = [(labels or {}).get(n, n) for n in names]
    parts, digest = [], hashlib.sha1()
    for index in itertools.product(*(range(len(v)) for v in values)):
        combo = {n: values[k][j] for k, (n, j) in enumerate(zip(names, index, strict=True))}
        described = "、".join(
            f"{label} = {_label(v)}" for label, v in zip(shown_names, combo.values(), strict=True)
        )
        text = caption(**combo) if caption else described
        key = ",".join(map(str, index))
        frame = _frame_html(render(**combo), key, described, text, list(index) == start)
        digest.update(frame.encode())
        parts.append(frame)
    uid = "mlbook-frames-" + digest.hexdigest()[:10]
    widgets = "".join(
        _control_html(uid, i, label, vals, s)
        for i, (label, vals, s) in enumerate(zip(shown_names, values, start, strict=True))
    )
    return HTML(
        f'<div class="mlbook-frames" id="{uid}"><div class="mlbook-frames-controls">{widgets}'
        f"</div>{''.join(parts)}{_SCRIPT % {'id': uid}}</div>"
    )
