"""Figures of chapter 5, the U-Net capstone.

Pure functions of plain arrays (the training happens in :mod:`upsampling.unet`): each
draws into the axes it is given, or into a new ``matplotlib.figure.Figure``, and returns
those axes.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from upsampling.checkerboard import local_phase_spread
from upsampling.unet import iou

__all__ = [
    "plot_learning_curves",
    "plot_photo_reconstructions",
    "plot_artifact_and_fix",
    "plot_example",
]


def plot_learning_curves(steps, curves, labels=None, shade=None, axes=None):
    """Test IoU along the training, one panel per model kind: the mean over the seeds as a
    line and the band from the lowest to the highest seed.

    ``curves`` maps a kind to an array of shape ``(len(steps), seeds)``; ``labels`` names
    the panels (the kind itself by default); ``shade`` ``(first, last)`` greys a stretch
    of steps in every panel (the stretch a plateau is judged on).
    """
    steps = np.asarray(steps)
    labels = labels or {}
    if axes is None:
        n = len(curves)
        fig = Figure(figsize=(2.2 * n, 2.5))
        fig.subplots_adjust(left=0.07, right=0.99, bottom=0.2, top=0.86, wspace=0.08)
        axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    axes = list(np.ravel(axes))
    for ax, (kind, values) in zip(axes, curves.items(), strict=True):
        values = np.asarray(values, dtype=float)
        if values.shape[0] != len(steps):
            raise ValueError(
                f"curves[{kind!r}] has {values.shape[0]} rows, one per step ({len(steps)}) needed"
            )
        if shade is not None:
            ax.axvspan(*shade, color="0.9", zorder=0)
        ax.fill_between(steps, values.min(axis=1), values.max(axis=1), alpha=0.3, lw=0)
        ax.plot(steps, values.mean(axis=1), lw=1.5)
        ax.set_title(labels.get(kind, kind), fontsize=9)
        ax.set_xlabel("step", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("test IoU", fontsize=8)
    return axes


def _row(n, width=1.75, height=2.1, top=0.8):
    fig = Figure(figsize=(width * n, height))
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=top, wspace=0.06)
    return list(fig.subplots(1, n, squeeze=False)[0])


def plot_example(index, images, masks, predictions, axes=None):
    """One test image: input, true mask, and each model's probability map with the IoU of
    its thresholded prediction (probability > 0.5) on this image in the title."""
    images, masks = np.asarray(images), np.asarray(masks)
    if not 0 <= index < len(images):
        raise ValueError(f"index must be between 0 and {len(images) - 1}, got {index}")
    axes = _row(2 + len(predictions)) if axes is None else list(np.ravel(axes))
    mask = masks[index].reshape(masks.shape[-2:])
    axes[0].imshow(images[index].reshape(mask.shape), cmap="gray", interpolation="nearest")
    axes[0].set_title(f"test image {index}", fontsize=9)
    axes[1].imshow(mask, cmap="magma", vmin=0, vmax=1, interpolation="nearest")
    axes[1].set_title("true mask", fontsize=9)
    for ax, (name, probabilities) in zip(axes[2:], predictions.items(), strict=True):
        panel = np.asarray(probabilities)[index].reshape(mask.shape)
        ax.imshow(panel, cmap="magma", vmin=0, vmax=1, interpolation="nearest")
        ax.contour(mask, levels=[0.5], colors="#00e5ff", linewidths=0.8)
        ax.set_title(f"{name}\nIoU {iou(panel > 0.5, mask > 0.5):.2f}", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    return axes


def plot_artifact_and_fix(original, outputs, crop, axes=None):
    """A photograph and its reconstructions, whole and zoomed: the artifact beside its fix.

    Top row: ``original`` and each of ``outputs`` (name -> image of the same shape), all
    on the original's grey scale, with the crop outlined; bottom row: the crop
    ``(top, left, size)`` of each, enlarged, where a stride pattern is visible pixel by
    pixel. Titles carry the period-4 pattern in each output's error: the detrended
    :func:`~upsampling.checkerboard.local_phase_spread` of ``output - original`` (8-pixel
    tiles, 4-pixel border), in the original's grey levels.
    """
    original = np.asarray(original, dtype=float)
    top, left, size = crop
    if not (
        0 <= top
        and 0 <= left
        and top + size <= original.shape[0]
        and left + size <= original.shape[1]
    ):
        raise ValueError(f"crop {crop} does not fit an image of shape {original.shape}")
    panels = {"original": original, **{k: np.asarray(v, float) for k, v in outputs.items()}}
    if axes is None:
        n = len(panels)
        fig = Figure(figsize=(2.3 * n, 4.9))
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.9, wspace=0.05, hspace=0.2)
        axes = fig.subplots(2, n, squeeze=False)
    axes = np.asarray(axes).reshape(2, -1)
    vmin, vmax = original.min(), original.max()
    for (name, image), whole, zoom in zip(panels.items(), axes[0], axes[1], strict=True):
        whole.imshow(image, cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
        whole.add_patch(
            Rectangle(
                (left - 0.5, top - 0.5), size, size, fill=False, edgecolor="#d62728", linewidth=1.2
            )
        )
        title = (
            name
            if name == "original"
            else (
                f"{name}\nerror pattern "
                f"{local_phase_spread(image - original, 4, window=2, border=4):.3f}"
            )
        )
        whole.set_title(title, fontsize=9)
        zoom.imshow(
            image[top : top + size, left : left + size],
            cmap="gray",
            vmin=vmin,
            vmax=vmax,
            interpolation="nearest",
        )
        zoom.set_title(f"{size}×{size} crop", fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    return axes


def plot_photo_reconstructions(loss, photo, outputs, crop, labels=None, axes=None):
    """The photograph and its reconstructions under one loss (chapter 5's demo).

    ``outputs`` maps a loss name to ``{upsampler kind: image}``; the panels are those of
    :func:`plot_artifact_and_fix` for ``outputs[loss]``, each named by ``labels[kind]``
    (the kind itself by default).
    """
    if loss not in outputs:
        raise ValueError(f"loss must be one of {sorted(outputs)}, got {loss!r}")
    labels = labels or {}
    named = {labels.get(kind, kind): image for kind, image in outputs[loss].items()}
    return plot_artifact_and_fix(photo, named, crop, axes=axes)
