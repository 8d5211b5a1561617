"""Figure layout shared by the plotting functions."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure


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
