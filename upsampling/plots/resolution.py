"""Figures of chapter 1, why upsample: what pooling throws away and upsampling cannot restore."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from upsampling import _args
from upsampling.interpolate import interpolate
from upsampling.pooling import max_pool2d

__all__ = ["plot_pool_and_restore", "pool_and_restore"]


def pool_and_restore(image, depth, method="nearest"):
    """``image`` max-pooled 2x2 ``depth`` times, then upsampled back to its size.

    Returns ``(small, restored)``. ``method`` is ``"nearest"`` or ``"bilinear"``
    (``align_corners=False``), as in ``interpolate``.

    Examples
    --------
    >>> small, restored = pool_and_restore(np.arange(16.0).reshape(4, 4), depth=1)
    >>> small
    array([[ 5.,  7.],
           [13., 15.]])
    >>> restored.shape
    (4, 4)
    """
    x = _args.as_float_array(image, "image")
    if x.ndim != 2:
        raise ValueError(f"image must be 2-D, got shape {x.shape}")
    depth = _args.positive_int(depth, "depth")
    if method not in ("nearest", "bilinear"):
        raise ValueError(f"method must be 'nearest' or 'bilinear', got {method!r}")
    small = x[None, None]
    for _ in range(depth):
        small = max_pool2d(small, kernel_size=2)
    align = False if method == "bilinear" else None
    restored = interpolate(small, size=x.shape, mode=method, align_corners=align)
    return small[0, 0], restored[0, 0]


def plot_pool_and_restore(image, depth, method="nearest", axes=None):
    """Three panels: the image, after ``depth`` 2x2 max poolings, and upsampled back.

    The third panel's title gives the mean absolute difference from the image: the
    detail that no fixed upsampling can bring back. Returns the three axes.
    """
    image = _args.as_float_array(image, "image")
    small, restored = pool_and_restore(image, depth, method)
    if axes is None:
        fig = Figure(figsize=(8.1, 3.0))
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.86, wspace=0.05)
        axes = fig.subplots(1, 3)
    axes = list(np.ravel(axes))
    if len(axes) != 3:
        raise ValueError(f"axes must hold 3 axes, got {len(axes)}")
    h, w = image.shape
    error = float(np.abs(restored - image).mean())
    titles = (
        f"input {h}×{w}",
        f"after {depth} max pool(s): {small.shape[0]}×{small.shape[1]}",
        f"{method} back to {h}×{w}: mean |error| {error:.3f}",
    )
    for ax, values, title in zip(axes, (image, small, restored), titles, strict=True):
        ax.imshow(values, cmap="gray", vmin=0, vmax=1, interpolation="nearest", extent=(0, w, h, 0))
        ax.set_title(title, fontsize=9.5)
        ax.set_xticks([])
        ax.set_yticks([])
    return axes
