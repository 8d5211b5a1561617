"""The live demos of chapters 1, 2 and 4 (see :mod:`upsampling.widgets.live`).

* :class:`PoolRestoreDemo` (chapter 1): a photograph max-pooled, then upsampled back to
  its size by a fixed rule (``pool_and_restore``);
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

import numpy as np

from upsampling.interpolate import MODES
from upsampling.plots.sizes import FIXES
from upsampling.widgets.live import DEMOS, HERE, LiveDemo

__all__ = [
    "MaxUnpoolDemo",
    "OverlapDemo",
    "PoolRestoreDemo",
    "SizeTrackerDemo",
    "UpsamplePhotoDemo",
]

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


def _photo(settings: dict[str, Any], size: int) -> None:
    """Puts ``sample_image(size)`` in ``settings["image"]`` unless an image is given, rounded
    to three decimals so that the page stays small."""
    if "image" not in settings:
        from upsampling.plots.unpooling import sample_image

        settings["image"] = sample_image(size)
    settings["image"] = np.round(np.asarray(settings["image"], dtype=float), 3)


class PoolRestoreDemo(_Ch124Demo):
    """A photograph max-pooled 2 x 2 ``depth`` times (0 to 5), then upsampled back to its
    size by ``interpolate`` with ``mode`` and ``align_corners``: ``pool_and_restore``.

    ``image`` is the photograph's pixels (a square 2-D list in [0, 1], 32 to 128 pixels a
    side, rounded to three decimals; ``sample_image(64)`` by default); ``zoom`` is the
    top-left input pixel of the 4 x 4 region shown as numbers.
    """

    name = "pool-restore"
    script = "pool_restore.js"
    summary = "Max pooling, then a fixed upsampling back to full size"
    MAX_DEPTH: ClassVar[int] = 5
    defaults: ClassVar[dict[str, Any]] = {
        "image": [],
        "depth": 3,
        "mode": "bilinear",
        "align_corners": False,
        "zoom": [24, 20],
    }

    def __init__(self, *, title: str | None = None, **settings: Any) -> None:
        _photo(settings, 64)
        super().__init__(title=title, **settings)

    def normalize(self, settings: dict[str, Any]) -> dict[str, Any]:
        image = np.asarray(settings["image"], dtype=float)
        if image.ndim != 2 or image.shape[0] != image.shape[1] or not 32 <= len(image) <= 128:
            raise ValueError(f"image must be square, 32 to 128 pixels a side, got {image.shape}")
        _check_range(settings, "depth", 0, self.MAX_DEPTH)
        if settings["mode"] not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {settings['mode']!r}")
        if not isinstance(settings["align_corners"], bool):
            raise ValueError(f"align_corners must be a bool, got {settings['align_corners']!r}")
        _check_range(settings, "zoom", 0, len(image) - 4)
        if len(settings["zoom"]) != 2:
            raise ValueError(f"zoom must be [row, column], got {settings['zoom']!r}")
        return settings


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

    def normalize(self, settings: dict[str, Any]) -> dict[str, Any]:
        settings = dict(settings)
        for key in ("kernel_size", "stride", "padding"):
            value = settings[key]
            given = value if isinstance(value, list) else [value]
            settings[key] = given + [given[-1]] * (self.MAX_DEPTH - len(given))
        _check_range(settings, "input_size", 1, 1024)
        _check_range(settings, "depth", 1, self.MAX_DEPTH)
        for key, low, high in (("kernel_size", 1, 7), ("stride", 1, 4), ("padding", 0, 3)):
            _check_range(settings, key, low, high)
            if len(settings[key]) != self.MAX_DEPTH:
                raise ValueError(f"{key} must have at most {self.MAX_DEPTH} values")
        if settings["fix"] not in FIXES:
            raise ValueError(f"fix must be one of {FIXES}, got {settings['fix']!r}")
        return settings


class MaxUnpoolDemo(_Ch124Demo):
    """``max_pool2d(..., return_indices=True)``, then ``max_unpool2d``, on an editable input.

    ``input`` is a 2-D list (up to 8 x 8); ``output_size`` says whether max unpooling is
    given the input's size (``output_size=x.shape[-2:]``) or left to assume one.
    """

    name = "max-unpool"
    script = "max_unpool.js"
    summary = "max_pool2d(return_indices=True), then max_unpool2d"
    defaults: ClassVar[dict[str, Any]] = {
        "input": [[24 - (5 * r + c) for c in range(5)] for r in range(5)],
        "kernel_size": 2,
        "stride": 2,
        "output_size": False,
    }

    def normalize(self, settings: dict[str, Any]) -> dict[str, Any]:
        rows = settings["input"]
        if not (1 <= len(rows) <= 8 and all(1 <= len(r) == len(rows[0]) <= 8 for r in rows)):
            raise ValueError("input must be a 2-D list of 1 to 8 rows of 1 to 8 numbers")
        _check_range(settings, "kernel_size", 1, 4)
        _check_range(settings, "stride", 1, 4)
        return settings


class UpsamplePhotoDemo(_Ch124Demo):
    """A photograph upsampled by any ``scale_factor`` from 1 to 4, with every method.

    ``image`` is the photograph's pixels (a square 2-D list in [0, 1], rounded to three
    decimals so that the page stays small; ``sample_image(48)`` by default); ``mode`` is
    interpolate's (or ``"bed of nails"``); ``zoom`` the top-left input pixel of the 4 x 4
    region shown as numbers.
    """

    name = "upsample-photo"
    script = "upsample_photo.js"
    summary = "Fixed upsampling of a photograph, computed in the page"
    MODES: ClassVar[tuple[str, ...]] = ("nearest", "nearest-exact", "bilinear", "bed of nails")
    defaults: ClassVar[dict[str, Any]] = {
        "image": [],
        "scale_factor": 1.5,
        "mode": "nearest",
        "align_corners": False,
        "zoom": [14, 20],
    }

    def __init__(self, *, title: str | None = None, **settings: Any) -> None:
        _photo(settings, 48)
        super().__init__(title=title, **settings)

    def normalize(self, settings: dict[str, Any]) -> dict[str, Any]:
        image = np.asarray(settings["image"], dtype=float)
        if image.ndim != 2 or image.shape[0] != image.shape[1] or not 6 <= len(image) <= 96:
            raise ValueError(f"image must be square, 6 to 96 pixels a side, got {image.shape}")
        if not 1 <= settings["scale_factor"] <= 4:
            raise ValueError(f"scale_factor must be from 1 to 4, got {settings['scale_factor']}")
        if settings["mode"] not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {settings['mode']!r}")
        return settings


class OverlapDemo(_Ch124Demo):
    """Overlap counts, the response to a flat input and phase sums of stacked layers.

    ``layers`` (1 to 3) transposed convolutions, layer ``l`` with ``stride[l]`` and the
    square kernel ``weight`` (layer 1), ``weight_2`` or ``weight_3``, whose size is its
    ``kernel_size[l]``; ``preset`` names the kernels' origin (``"ones"``, ``"random"``,
    ``"tent"``, ``"bilinear"``, ``"icnr"`` or ``"typed"``), ``seed`` the random ones;
    ``input_size`` is the side of the flat input.
    """

    name = "overlap"
    script = "overlap.js"
    summary = "Overlap counts and phase sums of stacked transposed convolutions"
    MAX_LAYERS: ClassVar[int] = 3
    PRESETS: ClassVar[tuple[str, ...]] = ("ones", "random", "tent", "bilinear", "icnr", "typed")
    defaults: ClassVar[dict[str, Any]] = {
        "layers": 1,
        "input_size": 6,
        "kernel_size": [3, 3, 3],
        "stride": [2, 2, 2],
        "weight": [[1] * 3] * 3,
        "weight_2": [[1] * 3] * 3,
        "weight_3": [[1] * 3] * 3,
        "preset": "ones",
        "seed": 0,
    }

    def normalize(self, settings: dict[str, Any]) -> dict[str, Any]:
        settings = dict(settings)
        _check_range(settings, "layers", 1, self.MAX_LAYERS)
        _check_range(settings, "input_size", 1, 8)
        for key in ("kernel_size", "stride"):
            if not isinstance(settings[key], list):
                settings[key] = [settings[key]] * self.MAX_LAYERS
        _check_range(settings, "stride", 1, 4)
        _check_range(settings, "kernel_size", 1, 8)
        for layer, key in enumerate(("weight", "weight_2", "weight_3")):
            size = settings["kernel_size"][layer]
            if settings["preset"] == "ones":
                settings[key] = [[1] * size for _ in range(size)]
            rows = settings[key]
            if not (len(rows) == size and all(len(r) == size for r in rows)):
                raise ValueError(f"{key} must be {size} x {size} (its kernel_size), got {rows!r}")
        if settings["preset"] not in self.PRESETS:
            raise ValueError(f"preset must be one of {self.PRESETS}, got {settings['preset']!r}")
        return settings
