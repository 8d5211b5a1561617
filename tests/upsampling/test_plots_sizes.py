"""Chapter 1's size plan: the sizes it computes (against PyTorch) and the fixes it lists."""

import doctest
import itertools

import pytest
import torch

from upsampling.plots import sizes as sizes_module
from upsampling.plots.sizes import (
    describe_size_plan,
    size_plan,
)

SETTINGS = list(itertools.product([64, 65, 100, 101], [1, 2, 3, 4], [2, 3], [1, 2], [0, 1]))


def torch_sizes(n, depth, k, s, p):
    """Encoder sizes and each decoder level's raw size, from real PyTorch layers."""
    conv = torch.nn.Conv2d(1, 1, k, s, p)
    up = torch.nn.ConvTranspose2d(1, 1, k, s, p)
    encoder = [n]
    with torch.no_grad():
        x = torch.zeros(1, 1, n, n)
        for _ in range(depth):
            x = conv(x)
            encoder.append(x.shape[-1])
        raws = [
            up(torch.zeros(1, 1, encoder[level], encoder[level])).shape[-1]
            for level in range(depth, 0, -1)
        ]
    return encoder, raws


@pytest.mark.parametrize("n, depth, k, s, p", SETTINGS[::3])
def test_size_plan_matches_pytorch_layers(n, depth, k, s, p):
    plan = size_plan(n, depth, k, s, p)
    encoder, raws = torch_sizes(n, depth, k, s, p)
    assert plan.encoder == encoder
    assert [step.raw for step in plan.decoder] == raws
    assert [step.skip for step in plan.decoder] == encoder[-2::-1]


@pytest.mark.parametrize("n, depth, k, s, p", SETTINGS)
def test_mirrored_decoder_is_always_fixed_by_output_padding(n, depth, k, s, p):
    """With the encoder's settings the gap is 0 <= skip - raw < stride: output_padding fixes it."""
    plan = size_plan(n, depth, k, s, p)
    for step in plan.decoder:
        assert 0 <= step.skip - step.raw < s
        if not step.lines_up:
            assert step.output_padding == step.skip - step.raw
            fixed = torch.nn.ConvTranspose2d(1, 1, k, s, p, output_padding=step.output_padding)
            assert fixed(torch.zeros(1, 1, step.input, step.input)).shape[-1] == step.skip


def test_course_round_trip_example():
    """16 -> 8 -> 15, and output_padding=1 gives 16 back (docs/worked-examples.md)."""
    plan = size_plan(16, depth=1, kernel_size=3, stride=2, padding=1)
    assert plan.encoder == [16, 8]
    (step,) = plan.decoder
    assert (step.raw, step.skip, step.output_padding) == (15, 16, 1)
    assert plan.fixes() == [
        "level 1: 15 vs 16: output_padding=1 (or output_size=16, or crop the skip)"
    ]


def test_describe_size_plan():
    text = describe_size_plan(100, 4, 3, 2, 1)
    assert text.splitlines()[0] == "encoder: 100 → 50 → 25 → 13 → 7"
    assert text.splitlines()[1] == "decoder: 7 → 13 → 25 → 49 (skip: 50) → 99 (skip: 100)"
    assert len(text.splitlines()) == 4


def test_docstring_examples():
    result = doctest.testmod(sizes_module)
    assert result.attempted > 0 and result.failed == 0


# --- plots/resolution.py: the "what pooling throws away" demo of chapter 1 ---------------

from upsampling.plots import resolution as resolution_module  # noqa: E402
from upsampling.plots.resolution import plot_pool_and_restore, pool_and_restore  # noqa: E402


@pytest.mark.parametrize("depth", [0, 1, 2, 3])
@pytest.mark.parametrize(
    ("mode", "align_corners"),
    [("nearest", None), ("nearest-exact", None), ("bilinear", None), ("bilinear", True)],
)
def test_pool_and_restore_matches_pytorch(depth, mode, align_corners):
    import numpy as np
    import torch.nn.functional as F

    image = np.random.default_rng(depth).random((16, 24))
    x = torch.from_numpy(image)[None, None]
    for _ in range(depth):
        x = F.max_pool2d(x, 2)
    back = F.interpolate(x, size=image.shape, mode=mode, align_corners=align_corners)
    small, restored = pool_and_restore(image, depth, mode, align_corners)
    np.testing.assert_allclose(small, x[0, 0].numpy())
    np.testing.assert_allclose(restored, back[0, 0].numpy())


def test_pool_and_restore_refuses_what_it_cannot_do():
    import numpy as np

    image = np.ones((4, 4))
    with pytest.raises(ValueError, match="depth must be non-negative"):
        pool_and_restore(image, -1)
    with pytest.raises(TypeError, match="depth must be an int"):
        pool_and_restore(image, 1.5)
    with pytest.raises(ValueError, match="image must be 2-D"):
        pool_and_restore(np.ones(4), 1)
    with pytest.raises(ValueError, match="max_pool2d"):
        pool_and_restore(image, 3)  # 4 -> 2 -> 1 -> nothing left to pool
    with pytest.raises(ValueError, match="align_corners"):
        pool_and_restore(image, 1, "nearest", align_corners=True)


def test_plot_pool_and_restore_shows_the_three_stages():
    import numpy as np

    image = np.random.default_rng(0).random((16, 16))
    axes = plot_pool_and_restore(image, 2, "bilinear", align_corners=True)
    small, restored = pool_and_restore(image, 2, "bilinear", align_corners=True)
    for ax, expected in zip(axes, (image, small, restored), strict=True):
        np.testing.assert_allclose(ax.images[0].get_array(), expected)
    error = np.abs(restored - image).mean()
    assert axes[2].get_title() == f"bilinear, align_corners back to 16×16: mean |error| {error:.3f}"
    assert axes[1].get_title() == "after 2 max pool(s): 4×4"
    with pytest.raises(ValueError, match="mode 'bicubic' is not one of"):
        pool_and_restore(image, 1, "bicubic")


def test_resolution_docstring_examples():
    import numpy as np

    result = doctest.testmod(resolution_module, extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0
