"""Figures of chapter 5, the U-Net capstone.

Pure functions of plain arrays (the training happens in :mod:`upsampling.unet`): each
draws into the axes it is given, or into a new ``matplotlib.figure.Figure``, and returns
those axes.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from upsampling.checkerboard import checkerboard_score, local_phase_spread
from upsampling.unet import iou

__all__ = [
    "plot_photo_reconstructions",
    "plot_artifact_and_fix",
    "plot_example",
    "plot_training_curves",
    "plot_training_snapshot",
]


def plot_training_curves(losses, smooth=20, ax=None):
    """Training loss against step, one line per model (name -> losses), each smoothed
    with a running mean over ``smooth`` steps, on a log scale."""
    if ax is None:
        fig = Figure(figsize=(6, 3.2))
        fig.subplots_adjust(left=0.12, right=0.98, bottom=0.16, top=0.9)
        ax = fig.add_subplot()
    for name, values in losses.items():
        values = np.asarray(values, dtype=float)
        width = max(1, min(int(smooth), len(values)))
        running = np.convolve(values, np.ones(width) / width, mode="valid")
        ax.plot(np.arange(width - 1, len(values)), running, label=name, lw=1.5)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"loss (running mean of {smooth})")
    ax.set_title("Binary cross-entropy during training", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return ax


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


def plot_training_snapshot(step, upsampler, snapshots, label=None, axes=None):
    """What a model outputs at one training step, from ``train_unet``'s snapshots.

    ``snapshots[upsampler][step]`` holds the logits on the probe images, the first of
    which is blank: its panel shows the raw logits (own colour scale) and their
    checkerboard score (period 4, 4-pixel border); the others show probabilities.
    """
    logits = np.asarray(snapshots[upsampler][step])
    axes = _row(len(logits), height=2.2, top=0.74) if axes is None else list(np.ravel(axes))
    blank = logits[0]
    axes[0].imshow(blank, cmap="magma", interpolation="nearest")
    axes[0].set_title(
        f"blank input\nscore {checkerboard_score(blank, 4, border=4):.3f}", fontsize=9
    )
    for i, (ax, panel) in enumerate(zip(axes[1:], logits[1:], strict=True), start=1):
        ax.imshow(1 / (1 + np.exp(-panel)), cmap="magma", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"probe {i}", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0].figure.suptitle(f"{label or upsampler}: step {step}", fontsize=10)
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
