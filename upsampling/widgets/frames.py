"""Interactive demos that stay interactive in the static book.

A demo is a pure plotting function plus the values its controls can take. Every figure
the demo can show is drawn once, in Python, when the demo is made; the front-end (an
anywidget, ``frame_demo.js``) only switches between them. So the same object is a
normal live widget in JupyterLab and keeps working in the built HTML book, where there
is no kernel: the figures travel in the saved widget state.
"""

from __future__ import annotations

import base64
import inspect
import io
import itertools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets
from matplotlib.axes import Axes
from matplotlib.figure import Figure

_HERE = Path(__file__).parent

#: Keyword arguments of :func:`frame_demo` that are not passed on to the plot function.
RESERVED = ("initial", "describe", "title", "dpi", "image_format", "max_frames")

IMAGE_FORMATS = ("png", "png8", "jpeg", "webp")


@dataclass(frozen=True)
class Control:
    """One control of a demo: the values a plot parameter can take.

    Parameters
    ----------
    values : sequence
        The parameter values, in the order the control shows them. Anything the plot
        function accepts: numbers, strings, tuples, ``None``...
    label : str, optional
        What the control is called on the page; the parameter name by default.
    labels : sequence of str, optional
        How each value is shown; ``str(value)`` by default.
    kind : {"slider", "buttons", "dropdown"}, optional
        A slider when every value is a number, else buttons for up to five values
        and a drop-down list for more.
    """

    values: Sequence[Any]
    label: str | None = None
    labels: Sequence[str] | None = None
    kind: str | None = None

    def resolved(self, name: str) -> dict[str, Any]:
        """The control as the front-end gets it (a JSON-able dict)."""
        values = list(self.values)
        if not values:
            raise ValueError(f"control {name!r} has no values")
        labels = [str(v) for v in values] if self.labels is None else list(self.labels)
        if len(labels) != len(values):
            raise ValueError(
                f"control {name!r}: labels has {len(labels)} entries, values has {len(values)}"
            )
        if len(set(labels)) != len(labels):
            raise ValueError(f"control {name!r}: labels must be distinct, got {labels}")
        kind = self.kind
        if kind is None:
            numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values)
            kind = "slider" if numeric else ("buttons" if len(values) <= 5 else "dropdown")
        if kind not in ("slider", "buttons", "dropdown"):
            raise ValueError(
                f"control {name!r}: kind must be 'slider', 'buttons' or 'dropdown', got {kind!r}"
            )
        return {"name": name, "label": self.label or name, "labels": labels, "kind": kind}


class FrameDemo(anywidget.AnyWidget):
    """A demo whose controls switch between precomputed figures; see :func:`frame_demo`."""

    _esm = _HERE / "frame_demo.js"
    _css = _HERE / "frame_demo.css"

    title = traitlets.Unicode("").tag(sync=True)
    controls = traitlets.List(traitlets.Dict()).tag(sync=True)
    frames = traitlets.List(traitlets.Unicode()).tag(sync=True)
    captions = traitlets.List(traitlets.Unicode()).tag(sync=True)
    selection = traitlets.Dict().tag(sync=True)

    def __init__(self, *, values: Mapping[str, Sequence[Any]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._values = {name: list(v) for name, v in values.items()}
        self._fallback_png: bytes | None = None

    @property
    def value(self) -> dict[str, Any]:
        """The parameter values the controls show now."""
        return {name: self._values[name][i] for name, i in self.selection.items()}

    @property
    def frame_index(self) -> int:
        """Index in ``frames`` of the figure shown now."""
        index = 0
        for control in self.controls:
            index = index * len(control["labels"]) + self.selection[control["name"]]
        return index

    def _repr_mimebundle_(self, **kwargs: Any):
        # Viewers without widget support (GitHub, nbviewer, a PDF) show the first
        # figure instead of nothing.
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None and self.frames:
            data, metadata = bundle
            frame = self.frames[self.frame_index]
            if frame.startswith("data:image/png;base64,"):
                data = {**data, "image/png": frame.split(",", 1)[1]}
            bundle = (data, metadata)
        return bundle


def frame_demo(
    plot_fn: Callable[..., Any],
    controls: Mapping[str, Sequence[Any] | Control],
    *,
    initial: Mapping[str, Any] | None = None,
    describe: Callable[..., str] | None = None,
    title: str = "",
    dpi: float = 100,
    image_format: str = "png8",
    max_frames: int = 150,
    **fixed: Any,
) -> FrameDemo:
    """A demo that redraws ``plot_fn`` for every combination of control values.

    ``plot_fn(**params, **fixed)`` is called once for each combination of the controls'
    values (``params`` holds one value per control) and must draw a new figure and
    return it: a :class:`matplotlib.figure.Figure`, an ``Axes`` or an array of
    ``Axes``. Plot functions follow the book's convention ``plot_*(..., ax=None)``:
    called without ``ax`` they make their own ``Figure`` (use
    ``matplotlib.figure.Figure``, not ``pyplot``, so that nothing is displayed or leaks).
    Each figure is saved as an image; the page only switches between the images, so
    the demo keeps working in the static book without a kernel, and a change of
    control costs one image swap.

    If ``plot_fn`` raises ``ValueError`` for a combination (say ``output_padding`` not
    smaller than ``stride``), that frame shows the error message instead of a figure,
    which is usually what a reader should see. Other exceptions propagate.

    Parameters
    ----------
    plot_fn : callable
        The pure plotting function. Keep it tested: the demo adds no logic.
    controls : dict
        Parameter name -> the values its control offers (a list, or a
        :class:`Control` for a label, value labels or a kind of control). The order of
        the dict is the order of the controls on the page.
    initial : dict, optional
        Parameter name -> the value shown first; the first value by default.
    describe : callable, optional
        ``describe(**params, **fixed) -> str``: a caption shown under each figure and
        used as its alt text (plain text; newlines are kept). Use it for numbers the
        reader may want to copy, such as the feature-map sizes.
    title : str, optional
        A line shown above the controls.
    dpi : float, optional
        Resolution of the saved figures (figure inches times dpi = pixels).
    image_format : {"png8", "png", "jpeg", "webp"}, optional
        ``"png8"`` (default) is a PNG with at most 256 colours, a quarter of the size
        of a full PNG and indistinguishable for line art and heat maps; ``"png"`` is
        lossless; ``"jpeg"`` and ``"webp"`` suit photographs.
    max_frames : int, optional
        Refuse to draw more figures than this (the page carries all of them: keep a
        chapter page under 1.5 MB; a frame weighs 10-40 kB).
    **fixed
        Passed unchanged to every call of ``plot_fn`` (and ``describe``). The names
        in :data:`RESERVED` are taken by the options above.

    Returns
    -------
    FrameDemo
        The widget: display it (make it the last expression of a cell).

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> def plot_power(exponent, ax=None, color="C0"):
    ...     ax = ax if ax is not None else Figure(figsize=(3, 2)).add_subplot()
    ...     x = np.linspace(0, 1, 50)
    ...     ax.plot(x, x**exponent, color=color)
    ...     return ax
    >>> demo = frame_demo(plot_power, {"exponent": [1, 2, 3]}, color="C1")
    >>> len(demo.frames), demo.value
    (3, {'exponent': 1})
    """
    if image_format not in IMAGE_FORMATS:
        raise ValueError(f"image_format must be one of {IMAGE_FORMATS}, got {image_format!r}")
    if not controls:
        raise ValueError("controls must name at least one parameter")
    specs = {
        name: spec if isinstance(spec, Control) else Control(values=list(spec))
        for name, spec in controls.items()
    }
    resolved = [spec.resolved(name) for name, spec in specs.items()]
    values = {name: list(spec.values) for name, spec in specs.items()}
    _check_parameters(plot_fn, list(values), fixed)

    count = math.prod(len(v) for v in values.values())
    if count > max_frames:
        shape = " x ".join(f"{len(v)} {name}" for name, v in values.items())
        raise ValueError(
            f"the controls give {count} figures ({shape}), more than max_frames ({max_frames}): "
            "offer fewer values, or raise max_frames if the page stays small enough"
        )

    selection = {}
    for name, options in values.items():
        if initial is not None and name in initial:
            matches = [i for i, v in enumerate(options) if _same(v, initial[name])]
            if not matches:
                raise ValueError(
                    f"initial value of {name!r} ({initial[name]!r}) is not one of its "
                    f"values {options}"
                )
            selection[name] = matches[0]
        else:
            selection[name] = 0
    if initial is not None and set(initial) - set(values):
        raise ValueError(
            f"initial names parameters without a control: {set(initial) - set(values)}"
        )

    frames, captions = [], []
    for combo in itertools.product(*values.values()):
        params = dict(zip(values, combo, strict=True)) | fixed
        frames.append(_render(plot_fn, params, dpi=dpi, image_format=image_format))
        captions.append(describe(**params) if describe is not None else "")

    return FrameDemo(
        values=values,
        title=title,
        controls=resolved,
        frames=frames,
        captions=captions,
        selection=selection,
    )


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # arrays and other values without a plain ==
        return a is b


def _check_parameters(plot_fn: Callable[..., Any], names: list[str], fixed: Mapping) -> None:
    clash = set(names) & set(fixed)
    if clash:
        raise ValueError(f"{sorted(clash)} given both as controls and as fixed arguments")
    try:
        signature = inspect.signature(plot_fn)
    except (TypeError, ValueError):  # builtins and other callables without a signature
        return
    params = signature.parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    unknown = [n for n in [*names, *fixed] if n not in params]
    if unknown:
        raise TypeError(
            f"{getattr(plot_fn, '__name__', plot_fn)!r} takes no parameter(s) {unknown}; "
            f"it takes {list(params)}"
        )


def figure_of(result: Any) -> Figure:
    """The figure a plot function drew on, from what it returned."""
    if isinstance(result, Figure):
        return result
    if isinstance(result, Axes):
        return result.get_figure(root=True)
    if isinstance(result, np.ndarray | list | tuple) and len(result):
        return figure_of(np.ravel(np.asarray(result, dtype=object))[0])
    raise TypeError(
        "a plot function must return the Figure, an Axes or an array of Axes it drew on, "
        f"got {type(result).__name__}"
    )


def error_figure(message: str) -> Figure:
    """A small figure that shows ``message`` (for parameter combinations that fail)."""
    fig = Figure(figsize=(6, 1.4))
    fig.text(
        0.5,
        0.5,
        _wrap(message, 70),
        ha="center",
        va="center",
        color="#b00020",
        fontsize=11,
        wrap=True,
    )
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def _render(plot_fn, params: dict[str, Any], *, dpi: float, image_format: str) -> str:
    try:
        fig = figure_of(plot_fn(**params))
    except ValueError as exc:
        fig = error_figure(f"{type(exc).__name__}: {exc}")
    from_pyplot = getattr(fig.canvas, "manager", None) is not None
    try:
        data = figure_bytes(fig, dpi=dpi, image_format=image_format)
    finally:
        if from_pyplot:  # plot functions should not use pyplot, but some may
            import matplotlib.pyplot as plt

            plt.close(fig)
    mime = {"png": "png", "png8": "png", "jpeg": "jpeg", "webp": "webp"}[image_format]
    return f"data:image/{mime};base64," + base64.b64encode(data).decode("ascii")


def figure_bytes(fig: Figure, *, dpi: float = 100, image_format: str = "png8") -> bytes:
    """``fig`` saved as an image in ``image_format`` (see :func:`frame_demo`)."""
    if image_format not in IMAGE_FORMATS:
        raise ValueError(f"image_format must be one of {IMAGE_FORMATS}, got {image_format!r}")
    if image_format == "png":
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, facecolor="white", metadata={"Software": None})
        return buffer.getvalue()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    # Draw with Agg straight into memory and let Pillow encode: a third faster than
    # savefig's PNG followed by a re-encode, and frames are drawn by the hundred.
    fig.set_dpi(dpi)
    fig.patch.set_facecolor("white")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
    out = io.BytesIO()
    if image_format == "png8":
        _png8(image).save(out, format="PNG", compress_level=9)  # smaller beats faster here
    elif image_format == "jpeg":
        image.save(out, format="JPEG", quality=85)
    else:
        image.save(out, format="WEBP", quality=85, method=4)
    return out.getvalue()


def _png8(image):
    """``image`` with at most 256 colours: exact when it is grey or has few colours."""
    from PIL import Image

    pixels = np.asarray(image)
    if (pixels[..., 0] == pixels[..., 1]).all() and (pixels[..., 1] == pixels[..., 2]).all():
        return image.convert("L")  # grey: 256 levels, lossless
    if image.getcolors(maxcolors=256) is not None:
        return image.quantize(
            colors=256, method=Image.Quantize.MAXCOVERAGE, dither=Image.Dither.NONE
        )
    return image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
