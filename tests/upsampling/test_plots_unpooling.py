"""Chapter 2's figures and helpers: against PyTorch, and what each figure draws."""

import doctest

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from matplotlib.collections import PathCollection
from matplotlib.patches import Rectangle

from upsampling import conv_transpose2d
from upsampling.plots import unpooling as unpooling_module
from upsampling.plots.unpooling import (
    HIGHLIGHT,
    METHODS,
    bed_of_nails,
    bilinear_kernel,
    fixed_kernel,
    plot_bilinear_border,
    plot_sampling_positions,
    sample_image,
    upsample,
)

RNG = np.random.default_rng(7)


def torch_upsample(image, method, scale):
    x = torch.from_numpy(np.asarray(image, dtype=np.float64))[None, None]
    if method == "bilinear, align_corners":
        return F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=True)[
            0, 0
        ].numpy()
    if method == "bilinear":
        return F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)[
            0, 0
        ].numpy()
    if method == "bed of nails":  # PyTorch's transposed convolution with the one-hot kernel
        w = torch.zeros(1, 1, scale, scale, dtype=torch.float64)
        w[0, 0, 0, 0] = 1
        return F.conv_transpose2d(x, w, stride=scale)[0, 0].numpy()
    return F.interpolate(x, scale_factor=scale, mode=method)[0, 0].numpy()


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_upsample_matches_pytorch(method, scale):
    image = RNG.random((5, 7))
    np.testing.assert_allclose(upsample(image, method, scale), torch_upsample(image, method, scale))


@pytest.mark.parametrize(
    "method", ["nearest", "nearest-exact", "bilinear", "bilinear, align_corners"]
)
def test_upsample_non_integer_scale_matches_pytorch(method):
    image = RNG.random((6, 5))
    np.testing.assert_allclose(upsample(image, method, 1.5), torch_upsample(image, method, 1.5))


def test_upsample_errors():
    with pytest.raises(ValueError, match="integer scale_factor"):
        upsample(np.ones((3, 3)), "bed of nails", 1.5)
    with pytest.raises(ValueError, match="method must be one of"):
        upsample(np.ones((3, 3)), "bicubic", 2)
    with pytest.raises(ValueError, match="2-D"):
        upsample(np.ones((1, 3, 3)), "nearest", 2)


@pytest.mark.parametrize("method", ["nearest", "bed of nails"])
@pytest.mark.parametrize("scale", [2, 3])
def test_fixed_kernel_is_exact_for_nearest_and_bed_of_nails(method, scale):
    x = RNG.random((2, 3, 4, 5))
    kernel, stride, padding = fixed_kernel(method, scale)
    expected = (
        bed_of_nails(x, scale)
        if method == "bed of nails"
        else np.repeat(np.repeat(x, scale, axis=2), scale, axis=3)
    )
    np.testing.assert_allclose(
        conv_transpose2d(x.reshape(6, 1, 4, 5), kernel, stride=stride, padding=padding).reshape(
            x.shape[:2] + (4 * scale, 5 * scale)
        ),
        expected,
    )


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bilinear_kernel_equals_interpolate_inside_only(scale):
    x = torch.rand(1, 1, 6, 7, dtype=torch.float64)
    kernel, stride, padding = fixed_kernel("bilinear", scale)
    by_conv = F.conv_transpose2d(x, torch.from_numpy(kernel), stride=stride, padding=padding)
    by_interp = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    assert by_conv.shape == by_interp.shape
    inside = (slice(None), slice(None), slice(scale, -scale), slice(scale, -scale))
    torch.testing.assert_close(by_conv[inside], by_interp[inside])
    assert not torch.allclose(by_conv, by_interp)


def test_bilinear_kernel_values():
    np.testing.assert_allclose(bilinear_kernel(2), np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 16)
    assert bilinear_kernel(3).shape == (5, 5) and bilinear_kernel(3)[2, 2] == 1
    with pytest.raises(ValueError, match="method must be"):
        fixed_kernel("bicubic")


def test_bed_of_nails_unbatched_and_errors():
    out = bed_of_nails(np.ones((2, 3, 3)), 2)
    assert out.shape == (2, 6, 6) and out.sum() == 18
    with pytest.raises(ValueError, match="scale_factor must be positive"):
        bed_of_nails(np.ones((1, 1, 2, 2)), 0)


def test_sample_image():
    image = sample_image(24)
    assert image.shape == (24, 24)
    assert 0 <= image.min() < 0.2 and 0.8 < image.max() <= 1
    assert sample_image(16).shape == (16, 16)


def _highlighted(ax):
    return {
        (round(p.get_y() + 0.5), round(p.get_x() + 0.5))
        for p in ax.patches
        if isinstance(p, Rectangle)
        and p.get_edgecolor()[:3] == pytest.approx((0.839, 0.153, 0.157), abs=0.01)
    }


def test_plot_bilinear_border_outlines_the_outer_ring():
    x = np.arange(1.0, 10.0).reshape(3, 3)
    ax1, ax2, ax3 = plot_bilinear_border(x)
    t = torch.from_numpy(x)[None, None]
    np.testing.assert_allclose(
        ax1.images[0].get_array(),
        F.interpolate(t, scale_factor=2, mode="bilinear", align_corners=False)[0, 0],
    )
    diff = ax3.images[0].get_array()
    ring = {(i, j) for i in range(6) for j in range(6) if i in (0, 5) or j in (0, 5)}
    assert {tuple(ij) for ij in np.argwhere(np.abs(diff) > 1e-12)} == ring
    assert _highlighted(ax3) == ring
    assert diff[0, 0] == pytest.approx(7 / 16 * x[0, 0])  # the corner keeps (3/4)^2


def test_plot_sampling_positions_dots_are_the_sampled_positions():
    ax = plot_sampling_positions(3, 5)
    rows = [c.get_offsets()[:, 0] for c in ax.collections if isinstance(c, PathCollection)]
    assert len(rows) == 4
    np.testing.assert_array_equal(rows[0], [0, 0, 1, 1, 2])  # nearest
    np.testing.assert_array_equal(rows[1], [0, 0, 1, 2, 2])  # nearest-exact
    np.testing.assert_allclose(rows[3], [0, 0.5, 1, 1.5, 2])  # align_corners=True
    ax = plot_sampling_positions(2, 4)
    rows = [c.get_offsets()[:, 0] for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(rows[2], [0, 0.25, 0.75, 1])  # align_corners=False, clamped
    labels = {t.get_text() for t in ax.texts}
    assert {"nearest", "bilinear, align_corners=True", "0,1", "2,3"} <= labels


def test_highlight_colour_is_the_tested_one():
    assert HIGHLIGHT == "#d62728"


def test_docstring_examples():
    result = doctest.testmod(unpooling_module, extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0
