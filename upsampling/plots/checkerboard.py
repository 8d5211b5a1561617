"""Figures of chapter 4, checkerboard artifacts.

Pure functions: each computes what it shows with the package (``overlap_counts``,
``checkerboard_score``, ``random_decoder``) and draws into the axes it is given, or into
a new figure, and returns those axes.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from upsampling.checkerboard import (
    DECODER_KINDS,
    checkerboard_score,
    power_spectrum,
    random_decoder,
)
from upsampling.overlap import overlap_counts
from upsampling.plots.transposed import _axes_row

__all__ = [
    "overlap_map",
    "plot_random_decoders",
    "plot_spectrum",
]


def overlap_map(kernel_size, stride, layers=1, input_size=6):
    """The 2-D overlap counts of ``layers`` stacked transposed convolutions, its score and
    the border that was left out of the score.

    The score looks for the period of the whole stack, ``stride**layers``, and ignores
    the outer ``(kernel_size - 1) * (1 + stride + ... + stride**(layers-1))`` pixels,
    which fewer copies reach because they lie near the edge of the image rather than
    because of the stride. Returns ``(counts, score, border)``. With ``stride=1`` there
    are no phases and the score is 0; it is ``nan`` when the map has no interior left.
    """
    counts = overlap_counts((input_size, input_size), kernel_size, stride, layers=layers)
    border = (kernel_size - 1) * sum(stride**j for j in range(layers))
    period = stride**layers
    if stride == 1:
        return counts, 0.0, min(border, (counts.shape[0] - 1) // 2)
    if counts.shape[0] - 2 * border < period:
        return counts, float("nan"), border
    return counts, checkerboard_score(counts, period, border=border), border


def plot_random_decoders(seed, kinds=tuple(DECODER_KINDS), axes=None, **decoder_options):
    """Outputs of untrained decoders (:func:`random_decoder`), one per kind, side by side.

    Every panel gets the same random input (same ``seed``); its title names the kind and
    gives the checkerboard score (stride 2, 2-pixel border ignored).
    """
    axes = _axes_row(axes, len(kinds), width=2.5, height=2.9)
    for ax, kind in zip(axes, kinds, strict=True):
        image = random_decoder(kind, seed, **decoder_options)
        score = checkerboard_score(image, 2, border=2)
        ax.imshow(image, cmap="gray", interpolation="nearest")
        ax.set_title(f"{DECODER_KINDS[kind]}\nscore {score:.2f}", fontsize=9)
        ax.set_axis_off()
    return axes


def plot_spectrum(x, stride, title=None, ax=None):
    """Log power spectrum of ``x`` (zero frequency in the centre), with rings around the
    frequencies where an upsampling by ``stride`` leaves its fingerprint (multiples of
    ``1/stride`` cycles per pixel, zero frequency excepted)."""
    spectrum = power_spectrum(x)
    h, w = spectrum.shape
    if ax is None:
        fig = Figure(figsize=(3.8, 3.8))
        fig.subplots_adjust(left=0.2, right=0.97, bottom=0.14, top=0.9)
        ax = fig.add_subplot()
    # Pixel j of an fftshift-ed axis of length n is the frequency (j - n//2) / n.
    left, right = (-0.5 - w // 2) / w, (w - 0.5 - w // 2) / w
    top, bottom = (-0.5 - h // 2) / h, (h - 0.5 - h // 2) / h
    ax.imshow(
        np.log10(spectrum + 1e-12 * spectrum.max() + 1e-300),
        cmap="viridis",
        extent=(left, right, bottom, top),
    )
    f = np.arange(stride) / stride
    f = np.where(f > 0.5 - 1e-12, f - 1, f)  # the same frequencies, in [-0.5, 0.5)
    for fy in f:
        for fx in f:
            if fx or fy:
                ax.add_patch(Circle((fx, fy), 0.05, fill=False, ec="white", lw=1.2))
    ax.set_xlabel("cycles per pixel (x)", fontsize=9)
    ax.set_ylabel("cycles per pixel (y)", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.set_title(title if title is not None else f"log power spectrum ({h}×{w})", fontsize=10)
    return ax
