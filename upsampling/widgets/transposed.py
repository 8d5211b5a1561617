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

    def normalize(self, settings: dict[str, Any]) -> dict[str, Any]:
        for key, (low, high) in self.limits.items():
            value = settings[key]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"{key} must be an int from {low} to {high}, got {value!r}")
        return settings


def _check_grid(name: str, rows: Any, largest: int) -> None:
    ok = (
        isinstance(rows, list)
        and 1 <= len(rows) <= largest
        and all(isinstance(r, list) and len(r) == len(rows[0]) for r in rows)
        and 1 <= len(rows[0]) <= largest
        and all(_is_number(v) for r in rows for v in r)
    )
    if not ok:
        raise ValueError(
            f"{name} must be a 2-D array of numbers, 1×1 to {largest}×{largest}, got {rows!r}"
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_pair(name: str, pair: Any, low: int, high: int) -> None:
    ok = (
        isinstance(pair, list)
        and len(pair) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and low <= v <= high for v in pair)
    )
    if not ok:
        raise ValueError(f"{name} must be a pair of ints from {low} to {high}, got {pair!r}")


class ScatterAddDemo(LiveDemo):
    """``conv_transpose2d`` one input value at a time, on an input and a kernel the reader types.

    Settings: ``input`` (a 2-D array, up to 8×8), ``weight`` (up to 5×5), ``stride``,
    ``padding``, ``output_padding``, ``dilation`` (pairs ``[h, w]``; an int means both
    axes) and ``step``, the number of copies placed (``None``: all of them).
    """

    name = "scatter-add"
    script = "scatter_add.js"
    summary = "conv_transpose2d as a scatter-add: one scaled copy of the kernel per input value"
    defaults = {
        "input": [[2, 0], [4, 1]],
        "weight": [[4, 2, 1], [1, 0, 3], [0, 5, 2]],
        "stride": [2, 2],
        "padding": [0, 0],
        "output_padding": [0, 0],
        "dilation": [1, 1],
        "step": None,
    }
    pair_limits = {
        "stride": (1, 4),
        "padding": (0, 64),
        "output_padding": (0, 3),
        "dilation": (1, 3),
    }

    def normalize(self, settings: dict[str, Any]) -> dict[str, Any]:
        settings = dict(settings)
        for key in self.pair_limits:
            if isinstance(settings[key], int) and not isinstance(settings[key], bool):
                settings[key] = [settings[key], settings[key]]
        _check_grid("input", settings["input"], 8)
        _check_grid("weight", settings["weight"], 5)
        for key, (low, high) in self.pair_limits.items():
            _check_pair(key, settings[key], low, high)
        steps = len(settings["input"]) * len(settings["input"][0])
        if settings["step"] is None:
            settings["step"] = steps
        elif not isinstance(settings["step"], int) or not 0 <= settings["step"] <= steps:
            raise ValueError(f"step must be an int from 0 to {steps}, got {settings['step']!r}")
        return settings


class ConvMatrixDemo(LiveDemo):
    """The convolution as a matrix ``C`` and the transposed convolution as ``Cᵀ``.

    Settings: ``weight`` (a 2-D kernel, up to 6×6), ``input_size``, ``stride``,
    ``padding`` and ``dilation`` (pairs ``[h, w]``; an int means both axes), the
    arguments of :func:`upsampling.conv_matrix`.
    """

    name = "conv-matrix"
    script = "conv_matrix.js"
    summary = "The convolution as a matrix C, the transposed convolution as Cᵀ"
    defaults = {
        "weight": [[1, 2, 3], [4, 5, 6], [7, 8, 9]],
        "input_size": [5, 5],
        "stride": [2, 2],
        "padding": [0, 0],
        "dilation": [1, 1],
    }
    pair_limits = {"input_size": (1, 6), "stride": (1, 4), "padding": (0, 3), "dilation": (1, 3)}

    def normalize(self, settings: dict[str, Any]) -> dict[str, Any]:
        settings = dict(settings)
        for key in self.pair_limits:
            if isinstance(settings[key], int) and not isinstance(settings[key], bool):
                settings[key] = [settings[key], settings[key]]
            _check_pair(key, settings[key], *self.pair_limits[key])
        _check_grid("weight", settings["weight"], 6)
        return settings
