"""Figures of chapter 3, the transposed convolution.

Every function is pure: it computes what it shows with the package's own operations and
draws into the axes it is given (or into a new ``matplotlib.figure.Figure``, never pyplot),
and returns those axes.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from upsampling import _args
from upsampling.conv import conv_matrix
from upsampling.conv_transpose import conv_transpose2d
from upsampling.overlap import overlap_counts
from upsampling.plots._common import HIGHLIGHT, axes_row, draw_number_grid
from upsampling.plots._common import format_number as _format
from upsampling.sizes import check_output_padding

__all__ = [
    "draw_number_grid",
    "plot_number_grids",
    "plot_image_row",
    "plot_scatter_add",
    "plot_transposed_size",
    "plot_conv_matrix",
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


def plot_scatter_add(x, weight, step, stride=1, axes=None):
    """The transposed convolution one input value at a time (the scatter-add).

    Four panels: the input with the first ``step`` values (row-major) used, the
    ``step``-th value highlighted; the copy of the kernel it scales; the output summed so
    far, the latest copy outlined; and how many copies have landed on each output
    position so far. ``step=0`` shows the empty output, ``step=x.size`` the finished one.

    Parameters
    ----------
    x : array_like of shape (H, W)
    weight : array_like of shape (kH, kW)
    step : int, 0 <= step <= H*W
    stride : int
    """
    x = _args.as_float_array(x, "x")
    w = _args.as_float_array(weight, "weight")
    if x.ndim != 2 or w.ndim != 2:
        raise ValueError(f"x and weight must be 2-D, got shapes {x.shape} and {w.shape}")
    s = _args.positive_int(stride, "stride")
    if not 0 <= step <= x.size:
        raise ValueError(f"step must be between 0 and x.size ({x.size}), got {step}")
    used = (np.arange(x.size) < step).reshape(x.shape)
    output = conv_transpose2d((x * used)[None, None], w[None, None], stride=s)[0, 0]
    counts = conv_transpose2d(used[None, None] * 1.0, np.ones((1, 1, *w.shape)), stride=s)
    full = conv_transpose2d(x[None, None], w[None, None], stride=s)[0, 0]
    lo, hi = min(full.min(), 0.0), max(full.max(), 1e-9)

    ax_in, ax_copy, ax_out, ax_count = _axes_row(axes, 4)
    draw_number_grid(ax_in, x, cmap="Greys", vmin=0, vmax=np.abs(x).max() * 3 + 1e-9)
    for i, j in zip(*np.nonzero(used), strict=True):
        ax_in.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, color="#9ecae1", zorder=0.5))
    if step:
        i, j = divmod(step - 1, x.shape[1])
        value = x[i, j]
        ax_in.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec=HIGHLIGHT, lw=3))
        ax_in.set_title(f"input: x[{i}, {j}] = {_format(value)}", fontsize=10)
        draw_number_grid(
            ax_copy, value * w, f"{_format(value)} × kernel", cmap="Blues", vmin=lo, vmax=hi
        )
        ax_out.add_patch(
            Rectangle(
                (j * s - 0.5, i * s - 0.5), w.shape[1], w.shape[0], fill=False, ec=HIGHLIGHT, lw=3
            )
        )
    else:
        ax_in.set_title("input", fontsize=10)
        draw_number_grid(ax_copy, w, "kernel", cmap="Blues", vmin=lo, vmax=hi)
    draw_number_grid(ax_out, output, f"output after {step} of {x.size} copies", vmin=lo, vmax=hi)
    draw_number_grid(
        ax_count,
        counts[0, 0],
        "copies per position",
        cmap="Oranges",
        vmin=0,
        vmax=max(overlap_counts(x.shape, w.shape, s).max(), 1) * 1.6,
    )
    return [ax_in, ax_copy, ax_out, ax_count]


def plot_transposed_size(
    input_size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1, ax=None
):
    """Where each output position of a 1-D transposed convolution comes from.

    One row per input position shows the cells its kernel copy covers in the *full*
    output (tap numbers written in them; taps ``dilation`` apart, copies ``stride``
    apart); the bottom row counts the copies. ``padding`` crops that many cells from both
    ends (greyed); ``output_padding`` keeps that many more at the end, taken back from the
    cropped cells or, past the full output, cells that only the bias reaches (hatched).
    The kept range is outlined and the title works out the size formula. The formula is
    the same for every axis, so one axis tells the whole story.
    """
    i, k, s, p, op, d = (
        int(v) for v in (input_size, kernel_size, stride, padding, output_padding, dilation)
    )
    if ax is None:
        fig = Figure(figsize=(8, 2.6))
        fig.subplots_adjust(left=0.09, right=0.99, bottom=0.1, top=0.86)
        ax = fig.add_subplot()
    formula = f"({i}−1)·{s} − 2·{p} + {d}·({k}−1) + {op} + 1"
    try:
        check_output_padding((op,), (s,), (d,))
    except ValueError as error:
        ax.set_axis_off()
        ax.set_title(f"not allowed: {error}", fontsize=10, color=HIGHLIGHT)
        return ax
    full = (i - 1) * s + d * (k - 1) + 1
    out = full - 2 * p + op
    if out < 1:
        ax.set_axis_off()
        ax.set_title(
            f"H_out = {formula} = {out}: no output (padding too large)",
            fontsize=10,
            color=HIGHLIGHT,
        )
        return ax
    width = max(full, p + out)
    grid = np.full((i + 1, width), np.nan)
    for r in range(i):
        for t in range(k):
            grid[r, r * s + t * d] = r % 2
    ax.imshow(np.where(np.isnan(grid), -1, grid), cmap="Pastel1_r", vmin=-1, vmax=2, aspect="equal")
    for r in range(i):
        for t in range(k):
            ax.text(r * s + t * d, r, f"w{t}", ha="center", va="center", fontsize=8)
    counts = np.zeros(width, dtype=int)
    counts[:full] = overlap_counts(i, k, s, 0, d)
    for c in range(width):
        ax.text(c, i, str(counts[c]), ha="center", va="center", fontsize=9, weight="bold")
    ax.axhline(i - 0.5, color="black", lw=0.8)
    for c in list(range(p)) + list(range(full - p, full)):
        if not p <= c < p + out:
            ax.add_patch(Rectangle((c - 0.5, -0.5), 1, i + 1, color="grey", alpha=0.45))
    for c in range(full, p + out):
        ax.add_patch(Rectangle((c - 0.5, -0.5), 1, i + 1, fill=False, hatch="//", ec="grey", lw=0))
    ax.add_patch(Rectangle((p - 0.5, -0.5), out, i + 1, fill=False, ec=HIGHLIGHT, lw=2.5))
    ax.set_yticks(list(range(i)) + [i], [f"x[{r}]" for r in range(i)] + ["copies"])
    ax.set_xticks(range(width))
    ax.tick_params(length=0, labelsize=8)
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(i + 0.5, -0.5)
    ax.set_title(f"H_out = {formula} = {out}   (full output {full})", fontsize=10)
    return ax


def plot_conv_matrix(weight, input_size, stride=1, padding=0, axes=None):
    """The convolution matrix ``C`` and its transpose ``Cᵀ`` as heat maps.

    ``C`` maps the flattened input to the flattened output of ``conv2d`` (one row per
    output pixel, holding the kernel laid over the input); ``Cᵀ`` maps back, and is the
    transposed convolution with the same kernel and settings.
    """
    w = _args.as_float_array(weight, "weight")
    if w.ndim == 2:
        w = w[None, None]
    h, wd = _args.positive_pair(input_size, "input_size")
    matrix = conv_matrix(w, (h, wd), stride=stride, padding=padding)
    out = matrix.shape[0]
    limit = max(np.abs(matrix).max(), 1e-9)
    ax_c, ax_ct = _axes_row(axes, 2, width=3.6, height=3.6)
    for ax, m, title in (
        (ax_c, matrix, f"C: {out}×{h * wd}  (conv2d, input {h}×{wd})"),
        (ax_ct, matrix.T, f"Cᵀ: {h * wd}×{out}  (conv_transpose2d)"),
    ):
        ax.imshow(m, cmap="RdBu_r", vmin=-limit, vmax=limit)
        if m.size <= 64:
            for (r, c), v in np.ndenumerate(m):
                if v:
                    ax.text(c, r, _format(v), ha="center", va="center", fontsize=7)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("input index" if m is matrix else "output index of conv2d", fontsize=9)
        ax.set_ylabel("output index of conv2d" if m is matrix else "input index", fontsize=9)
        ax.tick_params(labelsize=7)
    return [ax_c, ax_ct]
