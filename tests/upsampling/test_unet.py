"""The capstone's U-Net, its synthetic task and its figures (upsampling.unet, plots.unet)."""

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from upsampling.plots.unet import (
    plot_artifact_and_fix,
    plot_example,
    plot_learning_curves,
    plot_photo_reconstructions,
)
from upsampling.unet import (
    UPSAMPLERS,
    TinyUNet,
    bilinear_init_,
    icnr_init_,
    iou,
    make_shapes,
    make_upsampler,
    photo_decoder,
)

torch.set_num_threads(1)


def test_make_shapes_is_deterministic_and_well_formed():
    """Same seed, same data; float32 NCHW; masks are 0/1 and hold some disc pixels."""
    images, masks = make_shapes(6, size=24, seed=3)
    assert images.shape == masks.shape == (6, 1, 24, 24)
    assert images.dtype == masks.dtype == np.float32
    assert set(np.unique(masks)) == {0.0, 1.0}
    assert all(m.sum() > 0 for m in masks)
    again, _ = make_shapes(6, size=24, seed=3)
    np.testing.assert_array_equal(images, again)
    assert not np.array_equal(images, make_shapes(6, size=24, seed=4)[0])


def test_make_shapes_discs_are_bright_and_squares_are_not_in_the_mask():
    """Without noise, mask pixels are bright (discs) and some bright pixels are unmasked."""
    images, masks = make_shapes(8, size=32, seed=0, noise=0.0)
    bright = images > 0.6
    assert bright[masks > 0].all()
    assert (bright & (masks == 0)).any()  # the squares


def test_iou_by_hand():
    """2 shared pixels of 4 in the union: 0.5; two empty masks: 1.0."""
    a = np.array([1, 1, 1, 0, 0], bool)
    b = np.array([0, 1, 1, 1, 0], bool)
    assert iou(a, b) == 0.5
    assert iou(np.zeros(3), np.zeros(3)) == 1.0


@pytest.mark.parametrize("kind", sorted(UPSAMPLERS))
def test_every_upsampler_doubles_the_size(kind):
    """Each kind maps (N, C_in, H, W) to (N, C_out, 2H, 2W)."""
    layer = make_upsampler(kind, 4, 3)
    assert layer(torch.zeros(2, 4, 5, 7)).shape == (2, 3, 10, 14)


def test_unknown_upsampler_is_refused():
    """A misspelt kind names the valid ones."""
    with pytest.raises(ValueError, match="bilinear"):
        make_upsampler("deconvolution", 4, 3)


@pytest.mark.parametrize("kind", sorted(UPSAMPLERS))
def test_tiny_unet_keeps_the_image_size_and_differs_only_in_the_upsamplers(kind):
    """Logits have the input's size; the variants share every layer but up1 and up2."""
    model = TinyUNet(kind)
    assert model(torch.zeros(2, 1, 32, 32)).shape == (2, 1, 32, 32)
    reference = TinyUNet("transposed")
    shared = {n: p.shape for n, p in model.named_parameters() if not n.startswith("up")}
    assert shared == {n: p.shape for n, p in reference.named_parameters() if not n.startswith("up")}


def test_plot_example_shows_one_image_and_per_image_iou():
    """Input, mask, then each prediction with its IoU on that image in the title."""
    images, masks = make_shapes(4, size=16, seed=1)
    predictions = {"perfect": masks.copy(), "empty": np.zeros_like(masks)}
    axes = plot_example(2, images, masks, predictions)
    assert len(axes) == 4
    np.testing.assert_array_equal(axes[0].get_images()[0].get_array(), images[2, 0])
    assert axes[0].get_title() == "test image 2"
    assert axes[2].get_title() == "perfect\nIoU 1.00"
    assert axes[3].get_title() == "empty\nIoU 0.00"
    with pytest.raises(ValueError, match="index"):
        plot_example(4, images, masks, predictions)


def test_bilinear_init_gives_a_flat_response_and_equals_bilinear_upsampling():
    """At initialisation: a constant input gives a flat interior, and the layer equals a
    1x1 channel mixing (by each kernel's sum) followed by bilinear x2 (PyTorch's)."""
    torch.manual_seed(0)
    layer = make_upsampler("transposed_bilinear", 3, 2)
    with torch.no_grad():
        flat = layer(torch.ones(1, 3, 8, 8))[..., 2:-2, 2:-2]
        assert torch.allclose(flat, flat[..., :1, :1].expand_as(flat), atol=1e-6)
        x = torch.randn(1, 3, 6, 5)
        mixing = layer.weight.sum(dim=(-2, -1)) / 4  # (C_in, C_out)
        mixed = torch.einsum("nchw,co->nohw", x, mixing) + layer.bias[:, None, None]
        bilinear = F.interpolate(mixed, scale_factor=2, mode="bilinear", align_corners=False)
        out = layer(x)
    # equal away from the border (the transposed convolution sees zeros beyond the edge)
    assert torch.allclose(out[..., 1:-1, 1:-1], bilinear[..., 1:-1, 1:-1], atol=1e-5)
    with pytest.raises(ValueError, match="kernel_size"):
        bilinear_init_(torch.nn.ConvTranspose2d(3, 2, kernel_size=3, stride=2))


def test_icnr_init_makes_the_subpixel_layer_a_nearest_upsampled_convolution():
    """At initialisation each 2x2 block holds one value: PyTorch's nearest x2 of a conv."""
    torch.manual_seed(0)
    layer = make_upsampler("subpixel_icnr", 3, 2)
    conv = layer[0]
    x = torch.randn(2, 3, 5, 4)
    with torch.no_grad():
        one_filter = F.conv2d(x, conv.weight[::4], conv.bias[::4], padding=1)
        expected = F.interpolate(one_filter, scale_factor=2, mode="nearest")
        assert torch.allclose(layer(x), expected, atol=1e-6)
    with pytest.raises(ValueError, match="divisible"):
        icnr_init_(torch.nn.Conv2d(3, 6, 3), upscale_factor=2)


def test_plot_artifact_and_fix_shows_whole_images_and_crops():
    """Top row the images with their error's pattern, bottom row the crops, one grey scale."""
    rng = np.random.default_rng(1)
    original = rng.random((16, 16))
    grid = original + 0.125 * (-1.0) ** np.add.outer(np.arange(16), np.arange(16))
    axes = plot_artifact_and_fix(original, {"grid": grid}, crop=(2, 3, 8))
    assert axes.shape == (2, 2)
    assert axes[0, 0].get_title() == "original"
    assert axes[0, 1].get_title() == "grid\nerror pattern 0.125"  # the added ±0.125
    np.testing.assert_array_equal(axes[1, 1].get_images()[0].get_array(), grid[2:10, 3:11])
    assert axes[1, 1].get_images()[0].get_clim() == (original.min(), original.max())
    with pytest.raises(ValueError, match="crop"):
        plot_artifact_and_fix(original, {"grid": grid}, crop=(10, 0, 8))


def test_plot_photo_reconstructions_shows_one_loss_with_its_labels():
    """The chosen loss's outputs, named by the labels; an unknown loss is refused."""
    rng = np.random.default_rng(2)
    photo = rng.random((16, 16))
    grid = photo + 0.25 * (-1.0) ** np.add.outer(np.arange(16), np.arange(16))
    outputs = {"pixel": {"k3": photo.copy()}, "pooled": {"k3": grid}}
    axes = plot_photo_reconstructions(
        "pooled", photo, outputs, crop=(0, 0, 8), labels={"k3": "transposed k=3"}
    )
    assert axes.shape == (2, 2)
    assert axes[0, 1].get_title() == "transposed k=3\nerror pattern 0.250"
    pixel = plot_photo_reconstructions("pixel", photo, outputs, crop=(0, 0, 8))
    assert pixel[0, 1].get_title() == "k3\nerror pattern 0.000"
    with pytest.raises(ValueError, match="loss must be one of"):
        plot_photo_reconstructions("perceptual", photo, outputs, crop=(0, 0, 8))


@pytest.mark.parametrize("kind", ["transposed_k3", "resize"])
def test_photo_decoder_upsamples_by_four(kind):
    """One grey image in, one grey image four times larger out."""
    assert photo_decoder(kind)(torch.zeros(1, 1, 5, 6)).shape == (1, 1, 20, 24)


def test_plot_learning_curves_draws_the_mean_and_the_seed_band():
    """One panel per kind: the mean over the seeds, a band from the lowest to the highest."""
    steps = [0, 10, 20]
    curves = {"a": np.array([[0.1, 0.3], [0.5, 0.6], [0.7, 0.9]]), "b": np.zeros((3, 2))}
    axes = plot_learning_curves(steps, curves, labels={"a": "first"}, shade=(10, 20))
    assert [ax.get_title() for ax in axes] == ["first", "b"]
    np.testing.assert_allclose(axes[0].get_lines()[0].get_ydata(), [0.2, 0.55, 0.8])
    band = axes[0].collections[-1].get_paths()[0].vertices
    assert np.isclose(band[:, 1].min(), 0.1) and np.isclose(band[:, 1].max(), 0.9)
    with pytest.raises(ValueError, match="one per step"):
        plot_learning_curves([0, 10], curves)
