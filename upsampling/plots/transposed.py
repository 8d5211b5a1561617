"""Static figures of the chapters: arrays as number grids, images in a row.

Chapter 3's scatter-add, shape and matrix views are live demos (:mod:`upsampling.widgets`).

Every function is pure: it computes what it shows with the package's own operations and
draws into the axes it is given (or into a new ``matplotlib.figure.Figure``, never pyplot),
and returns those axes.
"""

from __future__ import annotations

import numpy as np

from upsampling.plots._common import axes_row, draw_number_grid

__all__ = [
    "draw_number_grid",
    "plot_number_grids",
    "plot_image_row",
]


def _axes_row(axes, n, width=2.4, height=2.6):
    return axes_row(axes, n, width, height, top=0.82, wspace=0.12)


def plot_number_grids(arrays, titles, cmap="Blues", axes=None):
    """Arrays side by side as number grids, each with its title (worked examples)."""
    if len(arrays) != len(titles):
        raise ValueError(f"got {len(arrays)} arrays but {len(titles)} titles")
    axes = _axes_row(axes, len(arrays))
    for ax, values, title in zip(axes, arrays, titles, strict=True):
        draw_number_grid(ax, values, title, cmap=cmap)
    return axes


def plot_image_row(images, titles, cmap="gray", axes=None):
    """Images side by side without axes, each with its title."""
    if len(images) != len(titles):
        raise ValueError(f"got {len(images)} images but {len(titles)} titles")
    axes = _axes_row(axes, len(images), width=2.6, height=2.8)
    for ax, image, title in zip(axes, images, titles, strict=True):
        ax.imshow(np.asarray(image), cmap=cmap, interpolation="nearest")
        ax.set_title(title, fontsize=10)
        ax.set_axis_off()
    return axes
