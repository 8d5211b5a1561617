"""Figures of chapter 1: the shapes of U-Net and FCN, drawn from the package's size rules.

:func:`unet_shape` and :func:`fcn_shape` list every feature map of the two networks
(name, side length, channels), each size computed with
:func:`~upsampling.conv_output_size` and :func:`~upsampling.conv_transpose_output_size`
from the layers of the papers; :func:`plot_encoder_decoder` draws such a list as a row of
bars, one per feature map, as tall as the map is wide, with the skip connections as arcs.
"""

from __future__ import annotations

from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

from upsampling.sizes import conv_output_size, conv_transpose_output_size

__all__ = ["FeatureMap", "Skip", "fcn_shape", "plot_encoder_decoder", "unet_shape"]

ENCODER_COLOR = "#9ecae1"
DECODER_COLOR = "#fdae6b"
SKIP_COLOR = "#2e7d32"


@dataclass(frozen=True)
class FeatureMap:
    """One feature map: ``size`` pixels per side, ``channels`` channels; ``decoder`` is
    True for the maps the upsampling path makes."""

    name: str
    size: int
    channels: int
    decoder: bool = False


@dataclass(frozen=True)
class Skip:
    """A skip connection from map ``source`` to map ``target`` (indices into the list of
    maps); ``crop`` is how many pixels per side the source loses to fit the target."""

    source: int
    target: int
    crop: int


def unet_shape(input_size=572, depth=4, channels=64):
    """The feature maps of the original U-Net (Ronneberger et al., 2015).

    Each level: two unpadded 3×3 convolutions (−2 pixels each), then 2×2 max pooling,
    stride 2, doubling the channels; the decoder: a 2×2 transposed convolution, stride
    2, halving them, the cropped skip concatenated, two unpadded 3×3 convolutions. The
    returned maps are the output of each level's convolutions; the skips say how much
    each encoder map is cropped.

    Examples
    --------
    >>> maps, skips = unet_shape()
    >>> [m.size for m in maps]
    [568, 280, 136, 64, 28, 52, 100, 196, 388]
    >>> [s.crop for s in skips]
    [4, 16, 40, 88]
    """
    maps, skips, size = [], [], int(input_size)
    for level in range(depth + 1):
        size = conv_output_size(conv_output_size(size, 3), 3)
        maps.append(FeatureMap(f"level {level}", size, channels * 2**level))
        if level < depth:
            size = conv_output_size(size, 2, stride=2)  # max pooling
    for level in range(depth - 1, -1, -1):
        size = conv_transpose_output_size(size, 2, stride=2)
        source = maps[level]
        if size > source.size or (source.size - size) % 2:
            raise ValueError(
                f"input_size {input_size} gives an up-convolution of {size} against a skip of "
                f"{source.size} at level {level}: U-Net needs an even crop"
            )
        skips.append(Skip(level, len(maps), (source.size - size) // 2))
        size = conv_output_size(conv_output_size(size, 3), 3)
        maps.append(FeatureMap(f"up {level}", size, channels * 2**level, decoder=True))
    return maps, skips


def fcn_shape(input_size=224, classes=21):
    """The feature maps of FCN-8s (Long et al., 2015) on VGG-16, with "same" 3×3
    convolutions and five 2×2 max poolings (÷32).

    The decoder: the class scores at 1/32 upsampled ×2 (transposed convolution, k = 4,
    s = 2, padding 1) and added to the scores at 1/16 (a skip from pool 4), again ×2 and
    added to the scores at 1/8 (pool 3), then ×8 (k = 16, s = 8, padding 4) to the
    input size. (The paper pads the input by 100 and crops instead; these paddings give
    the same sizes when the input is divisible by 32.)

    Examples
    --------
    >>> maps, skips = fcn_shape()
    >>> [m.size for m in maps]
    [112, 56, 28, 14, 7, 14, 28, 224]
    >>> [(s.source, s.target, s.crop) for s in skips]
    [(3, 5, 0), (2, 6, 0)]
    """
    maps, size = [], int(input_size)
    for level, channels in enumerate((64, 128, 256, 512, 512), start=1):
        size = conv_output_size(size, 2, stride=2)
        maps.append(FeatureMap(f"pool {level}", size, channels))
    skips = []
    for source in (3, 2):  # pool 4, then pool 3
        size = conv_transpose_output_size(size, 4, stride=2, padding=1)
        if size != maps[source].size:
            raise ValueError(
                f"input_size {input_size} is not divisible by 32: the ×2 scores ({size}) do "
                f"not match {maps[source].name} ({maps[source].size})"
            )
        skips.append(Skip(source, len(maps), 0))
        maps.append(FeatureMap(f"×2 + {maps[source].name}", size, classes, decoder=True))
    size = conv_transpose_output_size(size, 16, stride=8, padding=4)
    if size != input_size:
        raise ValueError(f"input_size {input_size} is not divisible by 32: the ×8 output is {size}")
    maps.append(FeatureMap("×8", size, classes, decoder=True))
    return maps, skips


def plot_encoder_decoder(maps, skips, title=None, input_size=None, ax=None):
    """Draws feature maps as bars as tall as they are wide, encoder blue, decoder orange,
    each labelled with its size and channels, and the skip connections as green brackets
    below them (with the crop, when there is one). ``input_size`` adds the input as a grey bar."""
    if ax is None:
        fig = Figure(figsize=(0.75 * (len(maps) + 1) + 0.6, 3.0))
        fig.subplots_adjust(left=0.02, right=0.98, bottom=0.04, top=0.86)
        ax = fig.add_subplot()
    bars = ([FeatureMap("input", int(input_size), 0)] if input_size else []) + list(maps)
    offset = len(bars) - len(maps)
    largest = max(m.size for m in bars)
    for x, m in enumerate(bars):
        height = m.size / largest
        color = "#cccccc" if x < offset else DECODER_COLOR if m.decoder else ENCODER_COLOR
        ax.add_patch(Rectangle((x - 0.3, 0), 0.6, height, facecolor=color, edgecolor="#444444"))
        label = f"{m.size}" + (f"\n×{m.channels}" if m.channels else "")
        ax.text(x, height + 0.03, label, ha="center", va="bottom", fontsize=7)
    depth = 0.07  # vertical spacing of the skip brackets, in bar heights
    for rank, skip in enumerate(sorted(skips, key=lambda s: s.target - s.source)):
        source, target = skip.source + offset, skip.target + offset
        y = -depth * (rank + 1)
        ax.plot([source, source, target], [0, y, y], color=SKIP_COLOR, lw=1.2)
        ax.add_patch(
            FancyArrowPatch(
                (target, y), (target, 0), arrowstyle="-|>", mutation_scale=8, color=SKIP_COLOR
            )
        )
        if skip.crop:
            ax.text(
                source + 0.08,
                y + 0.01,
                f"crop {skip.crop}",
                ha="left",
                va="bottom",
                fontsize=6.5,
                color=SKIP_COLOR,
            )
    ax.set_xlim(-0.6, len(bars) - 0.4)
    ax.set_ylim(-depth * (len(skips) + 0.5), 1.22)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10)
    return ax
