"""Chapter 1's U-Net and FCN shapes: the sizes against real PyTorch layers and the papers,
and what the figure draws."""

import doctest

import pytest
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle

from upsampling.plots import architectures as architectures_module
from upsampling.plots.architectures import (
    DECODER_COLOR,
    ENCODER_COLOR,
    fcn_shape,
    plot_encoder_decoder,
    unet_shape,
)


def torch_unet_sizes(n, depth):
    """U-Net's level outputs and crops, running the paper's layers on a zero image."""
    conv = torch.nn.Conv2d(1, 1, 3)  # unpadded
    pool = torch.nn.MaxPool2d(2)
    up = torch.nn.ConvTranspose2d(1, 1, 2, stride=2)
    sizes, crops = [], []
    with torch.no_grad():
        x = torch.zeros(1, 1, n, n)
        for level in range(depth + 1):
            x = conv(conv(x))
            sizes.append(x.shape[-1])
            if level < depth:
                x = pool(x)
        for level in range(depth - 1, -1, -1):
            x = up(x)
            crops.append((sizes[level] - x.shape[-1]) // 2)
            x = conv(conv(x))
            sizes.append(x.shape[-1])
    return sizes, crops


def torch_fcn_sizes(n):
    pool = torch.nn.MaxPool2d(2)
    up2 = torch.nn.ConvTranspose2d(1, 1, 4, stride=2, padding=1)
    up8 = torch.nn.ConvTranspose2d(1, 1, 16, stride=8, padding=4)
    sizes = []
    with torch.no_grad():
        x = torch.zeros(1, 1, n, n)
        for _ in range(5):
            x = pool(x)
            sizes.append(x.shape[-1])
        for _ in range(2):
            x = up2(x)
            sizes.append(x.shape[-1])
        sizes.append(up8(x).shape[-1])
    return sizes


def test_unet_matches_the_paper():
    """Ronneberger et al., Fig. 1: 572 in, 388 out, 28 × 28 × 1024 at the bottom."""
    maps, skips = unet_shape()
    assert (maps[0].size, maps[4].size, maps[-1].size) == (568, 28, 388)
    assert [m.channels for m in maps] == [64, 128, 256, 512, 1024, 512, 256, 128, 64]
    assert [(s.source, s.target) for s in skips] == [(3, 5), (2, 6), (1, 7), (0, 8)]
    # the paper's crops: 64 -> 56, 136 -> 104, 280 -> 200, 568 -> 392
    assert [maps[s.source].size - 2 * s.crop for s in skips] == [56, 104, 200, 392]


@pytest.mark.parametrize("n, depth", [(572, 4), (188, 2), (140, 3), (92, 1)])
def test_unet_sizes_match_pytorch_layers(n, depth):
    maps, skips = unet_shape(n, depth)
    sizes, crops = torch_unet_sizes(n, depth)
    assert [m.size for m in maps] == sizes
    assert [s.crop for s in skips] == crops
    assert [m.decoder for m in maps] == [False] * (depth + 1) + [True] * depth


def test_unet_refuses_a_size_with_an_odd_crop():
    with pytest.raises(ValueError, match="input_size 573 .* even crop"):
        unet_shape(573)


@pytest.mark.parametrize("n", [224, 32, 512])
def test_fcn_sizes_match_pytorch_layers_and_restore_the_input(n):
    maps, skips = fcn_shape(n)
    assert [m.size for m in maps] == torch_fcn_sizes(n)
    assert maps[-1].size == n
    assert [(maps[s.source].name, maps[s.target].size) for s in skips] == [
        ("pool 4", n // 16),
        ("pool 3", n // 8),
    ]


def test_fcn_refuses_a_size_not_divisible_by_32():
    with pytest.raises(ValueError, match="not divisible by 32"):
        fcn_shape(100)


@pytest.mark.parametrize("shape, input_size", [(unet_shape, 572), (fcn_shape, 224)])
def test_plot_draws_a_bar_per_map_and_an_arrow_per_skip(shape, input_size):
    maps, skips = shape()
    ax = plot_encoder_decoder(maps, skips, title="t", input_size=input_size)
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == len(maps) + 1
    heights = [bar.get_height() for bar in bars]
    assert heights == pytest.approx([m / input_size for m in [input_size, *(m.size for m in maps)]])
    colors = [bar.get_facecolor()[:3] for bar in bars[1:]]
    blue, orange = (
        Figure().add_subplot().add_patch(Rectangle((0, 0), 1, 1, facecolor=c)).get_facecolor()[:3]
        for c in (ENCODER_COLOR, DECODER_COLOR)
    )
    assert colors == [orange if m.decoder else blue for m in maps]
    assert sum(isinstance(p, FancyArrowPatch) for p in ax.patches) == len(skips)
    texts = [t.get_text() for t in ax.texts]
    assert f"{maps[-1].size}\n×{maps[-1].channels}" in texts
    assert [t for t in texts if t.startswith("crop")] == [
        f"crop {s.crop}" for s in sorted(skips, key=lambda s: s.target - s.source) if s.crop
    ]


def test_plot_uses_given_axes():
    ax = Figure().add_subplot()
    assert plot_encoder_decoder(*fcn_shape(), ax=ax) is ax


def test_docstring_examples():
    result = doctest.testmod(architectures_module)
    assert result.attempted > 0 and result.failed == 0
