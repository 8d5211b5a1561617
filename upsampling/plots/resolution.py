"""Figures of chapter 1, why upsample: what pooling throws away and upsampling cannot restore."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from upsampling import _args
from upsampling.interpolate import interpolate
from upsampling.pooling import max_pool2d

__all__ = ["plot_pool_and_restore", "pool_and_restore"]


def pool_and_restore(image, depth, mode="nearest", align_corners=None):
    """``image`` max-pooled 2x2 ``depth`` times (0 or more), then upsampled back to its size.

    Returns ``(small, restored)``: ``small`` is the pooled map, ``restored`` is
    ``interpolate(small, size=image.shape, mode=mode, align_corners=align_corners)``
    (``mode`` and ``align_corners`` as there: ``align_corners`` is for ``"bilinear"``
    only, and None means False).

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
    depth = _args.non_negative_int(depth, "depth")
    small = x[None, None]
    for _ in range(depth):
        small = max_pool2d(small, kernel_size=2)
    restored = interpolate(small, size=x.shape, mode=mode, align_corners=align_corners)
    return small[0, 0], restored[0, 0]


def plot_pool_and_restore(image, depth, mode="nearest", align_corners=None, axes=None):
    """Three panels: the image, after ``depth`` 2x2 max poolings, and upsampled back.

    The third panel's title gives the mean absolute difference from the image: the
    detail that no fixed upsampling can bring back. Returns the three axes.
    """
    image = _args.as_float_array(image, "image")
    small, restored = pool_and_restore(image, depth, mode, align_corners)
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
        f"{mode}{', align_corners' if align_corners else ''} back to {h}×{w}: "
        f"mean |error| {error:.3f}",
    )
    for ax, values, title in zip(axes, (image, small, restored), titles, strict=True):
        ax.imshow(values, cmap="gray", vmin=0, vmax=1, interpolation="nearest", extent=(0, w, h, 0))
        ax.set_title(title, fontsize=9.5)
        ax.set_xticks([])
        ax.set_yticks([])
    return axes
