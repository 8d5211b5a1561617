"""The live demos of chapters 1, 2 and 4 (see :mod:`upsampling.widgets.live`).

* :class:`SizeTrackerDemo` (chapter 1): every feature-map size of an encoder-decoder and
  every fix where a skip connection does not line up (``size_plan``);
* :class:`MaxUnpoolDemo` (chapter 2): max pooling with indices, then max unpooling, with
  and without ``output_size``;
* :class:`UpsamplePhotoDemo` (chapter 2): a photograph upsampled by any factor from 1 to
  4 with every method;
* :class:`OverlapDemo` (chapter 4): overlap counts of stacked layers, the response to a
  flat input and the kernels' phase sums.

Each computes in the page with ``ops.js`` and its own module in ``demos/``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from upsampling.plots.sizes import FIXES
from upsampling.widgets.live import DEMOS, HERE, LiveDemo

__all__ = ["SizeTrackerDemo"]

_CSS = (HERE / "live.css").read_text(encoding="utf-8") + (DEMOS / "ch124.css").read_text(
    encoding="utf-8"
)


def _check_range(settings: dict[str, Any], key: str, low: int, high: int) -> None:
    values = settings[key] if isinstance(settings[key], list) else [settings[key]]
    for value in values:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValueError(f"{key} must hold ints from {low} to {high}, got {settings[key]!r}")


class _Ch124Demo(LiveDemo):
    """Chapters 1, 2 and 4's demos: live.css plus their own styles."""

    _css = _CSS


class SizeTrackerDemo(_Ch124Demo):
    """Feature-map sizes through an encoder and a decoder, for any input and settings.

    ``kernel_size``, ``stride`` and ``padding`` are an int (every level) or a list with
    one value per level; the page keeps six levels and shows the first ``depth``.
    """

    name = "size-tracker"
    script = "size_tracker.js"
    summary = "Feature-map sizes through an encoder and a decoder"
    MAX_DEPTH: ClassVar[int] = 6
    defaults: ClassVar[dict[str, Any]] = {
        "input_size": 100,
        "depth": 4,
        "kernel_size": [3] * 6,
        "stride": [2] * 6,
        "padding": [1] * 6,
        "fix": "output_padding",
    }

    def __init__(self, *, title: str | None = None, **settings: Any) -> None:
        for key in ("kernel_size", "stride", "padding"):
            value = settings.get(key)
            if isinstance(value, int):
                settings[key] = [value] * self.MAX_DEPTH
            elif isinstance(value, list | tuple):
                given = list(value)
                settings[key] = given + [given[-1]] * (self.MAX_DEPTH - len(given))
        super().__init__(title=title, **settings)

    def check(self, settings: dict[str, Any]) -> None:
        _check_range(settings, "input_size", 1, 1024)
        _check_range(settings, "depth", 1, self.MAX_DEPTH)
        for key, low, high in (("kernel_size", 1, 7), ("stride", 1, 4), ("padding", 0, 3)):
            _check_range(settings, key, low, high)
            if len(settings[key]) != self.MAX_DEPTH:
                raise ValueError(f"{key} must have at most {self.MAX_DEPTH} values")
        if settings["fix"] not in FIXES:
            raise ValueError(f"fix must be one of {FIXES}, got {settings['fix']!r}")
