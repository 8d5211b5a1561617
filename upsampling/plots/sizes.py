"""Figures of chapter 1, why upsample: feature-map sizes through an encoder-decoder.

:func:`size_plan` computes, with the package's size formulas, every feature-map size of
a U-Net-like network whose encoder shrinks the input with one convolution per level
and whose decoder grows it back with one transposed convolution per level, and what it
takes for each skip connection to line up. :func:`plot_size_tracker` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

from upsampling.sizes import conv_output_size, conv_transpose_output_size

__all__ = ["DecoderStep", "SizePlan", "describe_size_plan", "plot_size_tracker", "size_plan"]

OK_COLOR = "#2e7d32"
FIX_COLOR = "#e65100"
CROP_COLOR = "#c62828"
ENCODER_COLOR = "#dbe9f6"
DECODER_COLOR = "#fde9d9"


@dataclass(frozen=True)
class DecoderStep:
    """One transposed convolution of the decoder and the skip connection it meets.

    ``raw`` is the size the transposed convolution gives, ``skip`` the size of the
    encoder feature map it is concatenated with. When they differ, ``output_padding``
    is the value that makes them equal (``None`` if no allowed value does) and ``crop``
    how many rows to crop from the larger map (positive: from the skip, negative:
    from the decoder's output).
    """

    level: int
    input: int
    raw: int
    skip: int

    @property
    def lines_up(self) -> bool:
        return self.raw == self.skip

    @property
    def output_padding(self) -> int | None:
        return self.skip - self.raw if self.skip > self.raw else None

    @property
    def crop(self) -> int:
        return self.skip - self.raw


@dataclass(frozen=True)
class SizePlan:
    """Every size of the network: ``encoder[0]`` is the input, ``encoder[-1]`` the bottom."""

    encoder: list[int]
    decoder: list[DecoderStep]
    kernel_size: int
    stride: int
    padding: int

    def fixes(self) -> list[str]:
        """One line per skip connection that does not line up, saying what fixes it."""
        lines = []
        for step in self.decoder:
            if step.lines_up:
                continue
            if step.output_padding is not None and step.output_padding < self.stride:
                lines.append(
                    f"level {step.level}: {step.raw} vs {step.skip}: output_padding="
                    f"{step.output_padding} (or output_size={step.skip}, or crop the skip)"
                )
            elif step.crop > 0:
                lines.append(
                    f"level {step.level}: {step.raw} vs {step.skip}: crop the skip by {step.crop}"
                )
            else:
                lines.append(
                    f"level {step.level}: {step.raw} vs {step.skip}: "
                    f"crop the output by {-step.crop}"
                )
        return lines


def size_plan(input_size, depth, kernel_size=3, stride=2, padding=1) -> SizePlan:
    """Feature-map sizes of an encoder-decoder, per level, and where skips misalign.

    The encoder applies ``depth`` convolutions ``(kernel_size, stride, padding)``; the
    decoder applies ``depth`` transposed convolutions with the same settings, each
    starting from the encoder's size at its level (as if every earlier skip had been
    fixed), so each mismatch is shown where it arises.

    Examples
    --------
    >>> plan = size_plan(101, depth=2)
    >>> plan.encoder
    [101, 51, 26]
    >>> [(step.raw, step.skip) for step in plan.decoder]
    [(51, 51), (101, 101)]
    >>> size_plan(16, depth=1).decoder[0].output_padding  # 16 -> 8 -> 15, not 16
    1
    """
    encoder = [int(input_size)]
    for _ in range(depth):
        encoder.append(conv_output_size(encoder[-1], kernel_size, stride, padding))
    decoder = []
    for level in range(depth, 0, -1):
        raw = conv_transpose_output_size(encoder[level], kernel_size, stride, padding)
        decoder.append(
            DecoderStep(level=level, input=encoder[level], raw=raw, skip=encoder[level - 1])
        )
    return SizePlan(encoder, decoder, kernel_size, stride, padding)


def describe_size_plan(input_size, depth, kernel_size=3, stride=2, padding=1) -> str:
    """The sizes of :func:`size_plan` as two lines of text, and the fixes it needs.

    Examples
    --------
    >>> print(describe_size_plan(16, depth=1))
    encoder: 16 → 8
    decoder: 8 → 15 (skip: 16)
    level 1: 15 vs 16: output_padding=1 (or output_size=16, or crop the skip)
    """
    plan = size_plan(input_size, depth, kernel_size, stride, padding)
    decoder = [str(plan.encoder[-1])]
    for step in plan.decoder:
        decoder.append(str(step.raw) if step.lines_up else f"{step.raw} (skip: {step.skip})")
    lines = ["encoder: " + " → ".join(map(str, plan.encoder)), "decoder: " + " → ".join(decoder)]
    return "\n".join(lines + plan.fixes())


def _box_width(size, largest, label):
    return max(0.35 + 0.9 * size / largest, 0.2 + 0.11 * len(label))


def _box(ax, x, y, size, largest, color, label, edge="#37474f", linestyle="-"):
    width = _box_width(size, largest, label)
    ax.add_patch(
        Rectangle(
            (x - width / 2, y - 0.22),
            width,
            0.44,
            facecolor=color,
            edgecolor=edge,
            linewidth=1.2,
            linestyle=linestyle,
        )
    )
    ax.text(x, y, label, ha="center", va="center", fontsize=10)
    return width


def plot_size_tracker(input_size, depth, kernel_size=3, stride=2, padding=1, ax=None):
    """Draws the sizes of :func:`size_plan` as a U: encoder down, decoder up, skips across.

    Each box is a feature map, as wide as its size (relative to the input) and labelled
    with it. Each skip connection is a horizontal arrow: green when the decoder's output
    and the encoder's map have the same size; orange when they differ, labelled with the
    ``output_padding`` that fixes it; red when only cropping does. Returns the axes.
    """
    plan = size_plan(input_size, depth, kernel_size, stride, padding)
    rows = max(depth, 4) + 1  # the same height up to depth 4: a demo's figure keeps its size
    if ax is None:
        fig = Figure(figsize=(7.2, 0.9 + 0.62 * rows))
        ax = fig.add_axes((0.01, 0.01, 0.98, 0.98 - 0.35 / (0.9 + 0.62 * rows)))
    largest = max(plan.encoder)
    left, right, shift = 0.0, 7.0, 0.55
    for level, size in enumerate(plan.encoder):
        _box(ax, left + shift * level, -level, size, largest, ENCODER_COLOR, str(size))
        if level:
            ax.add_patch(
                FancyArrowPatch(
                    (left + shift * (level - 1), -level + 1 - 0.24),
                    (left + shift * level, -level + 0.24),
                    arrowstyle="-|>",
                    mutation_scale=10,
                    color="#546e7a",
                )
            )
    bottom = depth
    _box(
        ax,
        right - shift * bottom,
        -bottom,
        plan.encoder[-1],
        largest,
        DECODER_COLOR,
        str(plan.encoder[-1]),
    )
    for step in plan.decoder:
        level = step.level - 1
        x, y = right - shift * level, -level
        if step.lines_up:
            color, label, note = OK_COLOR, str(step.raw), "lines up"
        elif step.output_padding is not None and step.output_padding < plan.stride:
            color, label = FIX_COLOR, f"{step.raw}→{step.skip}"
            note = f"{step.raw} ≠ {step.skip}: output_padding={step.output_padding}"
        else:
            color, label = CROP_COLOR, f"{step.raw}"
            note = f"{step.raw} ≠ {step.skip}: crop {abs(step.crop)}"
        _box(
            ax,
            x,
            y,
            step.skip if not step.lines_up else step.raw,
            largest,
            DECODER_COLOR,
            label,
            edge=color,
            linestyle="-" if step.lines_up else "--",
        )
        ax.add_patch(
            FancyArrowPatch(
                (right - shift * (level + 1), y - 1 + 0.24),
                (x, y - 0.24),
                arrowstyle="-|>",
                mutation_scale=10,
                color="#546e7a",
            )
        )
        skip_from = (
            left
            + shift * level
            + _box_width(plan.encoder[level], largest, str(plan.encoder[level])) / 2
            + 0.05
        )
        skip_to = (
            x - _box_width(step.skip if not step.lines_up else step.raw, largest, label) / 2 - 0.05
        )
        ax.add_patch(
            FancyArrowPatch(
                (skip_from, y),
                (skip_to, y),
                arrowstyle="-|>",
                mutation_scale=10,
                color=color,
                linewidth=1.6,
                linestyle="-" if step.lines_up else (0, (4, 2)),
            )
        )
        ax.text(
            (skip_from + skip_to) / 2,
            y + 0.1,
            note,
            ha="center",
            va="bottom",
            fontsize=8.5,
            color=color,
        )
    ax.text(left, 0.55, "encoder (conv)", ha="center", fontsize=9, color="#37474f")
    ax.text(right, 0.55, "decoder (transposed conv)", ha="center", fontsize=9, color="#37474f")
    ax.set_title(
        f"input {input_size}, depth {depth}: kernel_size={kernel_size}, stride={stride}, "
        f"padding={padding}",
        fontsize=10,
    )
    ax.set_xlim(left - 1.0, right + 1.0)
    ax.set_ylim(-rows + 0.5, 0.85)
    ax.set_axis_off()
    return ax
