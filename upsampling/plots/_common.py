"""Drawing helpers shared by the plotting functions: panel rows and number grids."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

HIGHLIGHT = "#d62728"


def axes_row(axes, n, width, height, top=0.85, wspace=0.1):
    """``axes`` as a list of ``n`` axes, making a new one-row figure if ``axes`` is None.

    ``width`` and ``height`` are per panel, in inches; ``top`` leaves room for titles.
    """
    if axes is None:
        # Fixed margins rather than a layout engine: demos draw figures by the dozen.
        fig = Figure(figsize=(width * n, height))
        fig.subplots_adjust(left=0.02, right=0.98, bottom=0.03, top=top, wspace=wspace)
        return list(fig.subplots(1, n, squeeze=False)[0])
    axes = list(np.ravel(axes))
    if len(axes) != n:
        raise ValueError(f"axes must hold {n} axes, got {len(axes)}")
    return axes


def format_number(value) -> str:
    """A short label for a cell: integers as they are, others to two significant digits."""
    value = float(value)
    if value == int(value):
        return str(int(value))
    return f"{value:.2g}" if abs(value) < 10 else f"{value:.0f}"


def draw_number_grid(
    ax, values, title=None, cmap="Blues", vmin=None, vmax=None, text=True, highlight=(), fmt=None
):
    """Draws a 2-D array as coloured cells with its values written in them.

    Cells are unit squares centred on integer coordinates (``imshow`` convention), so
    ``Rectangle((j - 0.5, i - 0.5), ...)`` outlines cell ``(i, j)``; the cells listed in
    ``highlight`` are outlined in red. ``fmt`` is a format string for the values
    (default: :func:`format_number`).
    """
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"values must be 2-D, got shape {values.shape}")
    vmin = min(values.min(), 0.0) if vmin is None else vmin
    vmax = max(values.max(), vmin + 1e-9) if vmax is None else vmax
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
    label = format_number if fmt is None else fmt.format
    if text:
        for (i, j), v in np.ndenumerate(values):
            r, g, b, _ = image.cmap(image.norm(v))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(
                j,
                i,
                label(v),
                ha="center",
                va="center",
                fontsize=9,
                color="white" if dark else "black",
            )
    for i, j in highlight:
        ax.add_patch(
            Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=HIGHLIGHT, linewidth=2.2)
        )
    h, w = values.shape
    if text:  # cell borders, as two line collections: much cheaper than minor ticks
        ax.hlines(np.arange(0.5, h - 1), -0.5, w - 0.5, color="white", linewidth=1)
        ax.vlines(np.arange(0.5, w - 1), -0.5, h - 0.5, color="white", linewidth=1)
    ax.set_xticks([])
    ax.set_yticks([])
    if title is not None:
        ax.set_title(title, fontsize=10)
    return ax
