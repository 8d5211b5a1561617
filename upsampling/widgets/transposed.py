"""Chapter 3's live demos: the scatter-add, the shape explorer and the matrix view.

Each is a :class:`~upsampling.widgets.live.LiveDemo`: the page computes with ``ops.js``;
these classes only hold the settings a chapter opens them with.
"""

from __future__ import annotations

from typing import Any

from upsampling.widgets.live import LiveDemo


class ShapeExplorerDemo(LiveDemo):
    """One axis of a transposed convolution: where each output cell comes from, and the size.

    Settings: ``input_size`` (1-16), ``kernel_size`` (1-7), ``stride`` (1-4),
    ``padding``, ``output_padding`` (0-3), ``dilation`` (1-4), the arguments of
    :func:`upsampling.conv_transpose_output_size`.
    """

    name = "shape-explorer"
    script = "shape_explorer.js"
    summary = "One axis of a transposed convolution: where each output cell comes from"
    defaults = {
        "input_size": 3,
        "kernel_size": 3,
        "stride": 2,
        "padding": 1,
        "output_padding": 0,
        "dilation": 1,
    }
    limits = {
        "input_size": (1, 16),
        "kernel_size": (1, 7),
        "stride": (1, 4),
        "padding": (0, 64),
        "output_padding": (0, 3),
        "dilation": (1, 4),
    }

    def check(self, settings: dict[str, Any]) -> None:
        for key, (low, high) in self.limits.items():
            value = settings[key]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"{key} must be an int from {low} to {high}, got {value!r}")
