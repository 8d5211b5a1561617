"""Figures of chapter 2, unpooling and fixed upsampling.

Every function is pure: it computes what it shows with the package's own operations
(``interpolate``, ``max_pool2d``, ``max_unpool2d``, ``conv_transpose2d``), draws into the
axes it is given (or into a new figure) and returns them.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from upsampling import _args
from upsampling.checkerboard import bilinear_kernel
from upsampling.conv_transpose import conv_transpose2d
from upsampling.interpolate import interpolate, linear_source_weights, nearest_source_index
from upsampling.plots._common import HIGHLIGHT, axes_row
from upsampling.plots._common import draw_number_grid as draw_grid

__all__ = [
    "METHODS",
    "bed_of_nails",
    "bilinear_kernel",
    "draw_grid",
    "fixed_kernel",
    "plot_bilinear_border",
    "plot_sampling_positions",
    "sample_image",
    "upsample",
]


#: The fixed upsampling methods of the chapter, as the demo names them.
METHODS = (
    "nearest",
    "nearest-exact",
    "bilinear",
    "bilinear, align_corners",
    "bed of nails",
)


def _axes_row(axes, n, width, height):
    return axes_row(axes, n, width, height, top=0.88, wspace=0.06)


def sample_image(size=24):
    """A ``(size, size)`` grey-scale photograph in [0, 1]: Grace Hopper's face.

    Cropped from the sample image that matplotlib ships (``grace_hopper.jpg``, so it
    needs no download) and shrunk by averaging square blocks of pixels.
    """
    from matplotlib import cbook
    from PIL import Image

    size = _args.positive_int(size, "size")
    with cbook.get_sample_data("grace_hopper.jpg") as file:
        rgb = np.asarray(Image.open(file).convert("RGB"), dtype=np.float64) / 255
    grey = rgb @ np.array([0.299, 0.587, 0.114])
    face = grey[60:380, 95:415]  # 320 x 320 around the face
    block = face.shape[0] // size
    if block < 1:
        raise ValueError(f"size must be at most {face.shape[0]}, got {size}")
    face = face[: block * size, : block * size]
    return face.reshape(size, block, size, block).mean(axis=(1, 3))


def bed_of_nails(input, scale_factor):
    """Bed-of-nails upsampling of an ``(N, C, H, W)`` array by an integer factor.

    Each value goes to the top-left corner of its ``scale_factor`` x ``scale_factor``
    block of the output; the rest of the block is zero. It is the transposed
    convolution with stride ``scale_factor`` and the kernel that is 1 in its top-left
    corner and 0 elsewhere (:func:`fixed_kernel`).

    Examples
    --------
    >>> bed_of_nails(np.array([[[[1, 2], [3, 4]]]]), 2)[0, 0]
    array([[1., 0., 2., 0.],
           [0., 0., 0., 0.],
           [3., 0., 4., 0.],
           [0., 0., 0., 0.]])
    """
    x, unbatched = _args.spatial_input(input, "input", "bed_of_nails")
    s = _args.positive_int(scale_factor, "scale_factor")
    n, c, h, w = x.shape
    out = np.zeros((n, c, h * s, w * s), dtype=x.dtype)
    out[:, :, ::s, ::s] = x
    return out[0] if unbatched else out


def fixed_kernel(method, scale_factor=2):
    """The transposed-convolution ``(kernel, stride, padding)`` of a fixed method.

    ``"nearest"``: a ``s x s`` kernel of ones; ``"bed of nails"``: 1 in the top-left
    corner; ``"bilinear"``: :func:`bilinear_kernel` with padding ``s // 2``
    (equal to ``interpolate(..., "bilinear")`` away from the borders only).
    Returns the kernel as a ``(1, 1, k, k)`` weight.
    """
    s = _args.positive_int(scale_factor, "scale_factor")
    if method == "nearest":
        kernel, padding = np.ones((s, s)), 0
    elif method == "bed of nails":
        kernel, padding = np.zeros((s, s)), 0
        kernel[0, 0] = 1
    elif method == "bilinear":
        kernel, padding = bilinear_kernel(s), s // 2
    else:
        raise ValueError(f"method must be 'nearest', 'bed of nails' or 'bilinear', got {method!r}")
    return kernel[None, None], s, padding


def upsample(image, method, scale_factor):
    """A 2-D ``image`` upsampled by one of :data:`METHODS`, with the package's operations."""
    x = _args.as_float_array(image, "image")
    if x.ndim != 2:
        raise ValueError(f"image must be 2-D, got shape {x.shape}")
    x = x[None, None]
    if method == "bed of nails":
        if float(scale_factor) != int(scale_factor):
            raise ValueError(
                f"bed of nails needs an integer scale_factor, got {scale_factor}: a value "
                "must land on a whole output pixel"
            )
        return bed_of_nails(x, int(scale_factor))[0, 0]
    if method == "bilinear, align_corners":
        return interpolate(x, scale_factor=scale_factor, mode="bilinear", align_corners=True)[0, 0]
    if method in ("nearest", "nearest-exact", "bilinear"):
        align = False if method == "bilinear" else None
        return interpolate(x, scale_factor=scale_factor, mode=method, align_corners=align)[0, 0]
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def plot_bilinear_border(x, axes=None):
    """Bilinear ×2 by ``interpolate`` and by a transposed convolution, and where they differ.

    Three panels: ``interpolate(x, scale_factor=2, mode="bilinear")``; the transposed
    convolution with :func:`bilinear_kernel` (stride 2, padding 1); their difference,
    which is zero except in the outermost ring of pixels (outlined). Returns the axes.
    """
    x = _args.as_float_array(x, "x")
    if x.ndim != 2:
        raise ValueError(f"x must be 2-D, got shape {x.shape}")
    kernel, stride, padding = fixed_kernel("bilinear", 2)
    by_interp = interpolate(x[None, None], scale_factor=2, mode="bilinear", align_corners=False)[
        0, 0
    ]
    by_conv = conv_transpose2d(x[None, None], kernel, stride=stride, padding=padding)[0, 0]
    diff = by_interp - by_conv
    ring = [(i, j) for (i, j), d in np.ndenumerate(diff) if abs(d) > 1e-12]
    ax1, ax2, ax3 = _axes_row(axes, 3, width=3.0, height=3.2)
    vmax = max(by_interp.max(), by_conv.max())
    draw_grid(ax1, by_interp, "interpolate (bilinear)", vmin=0, vmax=vmax, fmt="{:.3g}")
    draw_grid(ax2, by_conv, "conv_transpose2d (bilinear kernel)", vmin=0, vmax=vmax, fmt="{:.3g}")
    draw_grid(
        ax3,
        diff,
        "difference",
        highlight=ring,
        cmap="Reds",
        vmin=0,
        vmax=max(diff.max(), 1e-9),
        fmt="{:.3g}",
    )
    return [ax1, ax2, ax3]


def plot_sampling_positions(in_size, out_size, ax=None):
    """Where each output pixel of an ``in_size -> out_size`` resize reads the input (1-D).

    One row per mode (``nearest``, ``nearest-exact``, bilinear with
    ``align_corners=False`` and ``True``): input pixels are grey cells centred on
    0, 1, ...; each dot is the input position that output pixels read, labelled with
    their numbers (for bilinear the blend ``w0 * i0 + w1 * i1``, so between two pixel centres).
    Returns the axes.
    """
    in_size = _args.positive_int(in_size, "in_size")
    out_size = _args.positive_int(out_size, "out_size")
    if ax is None:
        ax = Figure(figsize=(7.0, 2.9), layout="constrained").add_subplot()  # drawn once
    rows = {
        "nearest": nearest_source_index(in_size, out_size).astype(float),
        "nearest-exact": nearest_source_index(in_size, out_size, exact=True).astype(float),
        "bilinear, align_corners=False": _linear_position(in_size, out_size, False),
        "bilinear, align_corners=True": _linear_position(in_size, out_size, True),
    }
    for row, (label, positions) in enumerate(rows.items()):
        y = -row
        for p in range(in_size):
            ax.add_patch(
                Rectangle((p - 0.5, y - 0.3), 1, 0.6, facecolor="#eceff1", edgecolor="#90a4ae")
            )
        ax.scatter(positions, np.full(out_size, y), s=28, color=HIGHLIGHT, zorder=3)
        readers: dict[float, list[str]] = {}
        for i, p in enumerate(positions):
            readers.setdefault(round(float(p), 6), []).append(str(i))
        for p, names in readers.items():
            ax.text(
                p, y + 0.36, ",".join(names), ha="center", va="bottom", fontsize=7, color=HIGHLIGHT
            )
        ax.text(-0.65, y, label, ha="right", va="center", fontsize=9)
    ax.set_xlim(-3.6, in_size - 0.4)
    ax.set_ylim(-len(rows) + 0.4, 0.75)
    ax.set_xticks(range(in_size))
    ax.set_xlabel("input position (pixel centres)", fontsize=9)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"output pixels 0..{out_size - 1} of a {in_size} → {out_size} resize", fontsize=10)
    return ax


def _linear_position(in_size, out_size, align_corners):
    i0, i1, w0, w1 = linear_source_weights(in_size, out_size, align_corners)
    return w0 * i0 + w1 * i1  # where the blend sits; at the last pixel i1 == i0
