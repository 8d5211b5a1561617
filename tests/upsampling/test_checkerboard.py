"""Tests of upsampling.checkerboard: the measures by hand and the upsamplers against PyTorch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from upsampling import conv_transpose2d, overlap_counts
from upsampling.checkerboard import (
    DECODER_KINDS,
    bilinear_kernel,
    checkerboard_score,
    icnr_weight,
    local_checkerboard_score,
    local_phase_means,
    phase_means,
    phase_sums,
    power_spectrum,
    random_decoder,
    resize_conv2d,
    stride_frequency_power,
    subpixel_conv2d,
)

torch.set_num_threads(1)
PATTERN = np.array([[1.0, 2.0], [2.0, 4.0]])
PATTERN_SCORE = np.sqrt(np.mean((np.array([1, 2, 2, 4]) - 2.25) ** 2)) / 2.25  # 0.4843


def test_phase_means_of_a_tiled_pattern():
    """A tiled s x s pattern has that pattern as its phase means."""
    np.testing.assert_allclose(phase_means(np.tile(PATTERN, (3, 4)), 2), PATTERN)


def test_phase_means_crop_border_then_to_a_multiple_of_stride_from_the_end():
    """border comes off every side, then the end is cut to a multiple of stride."""
    x = np.arange(7 * 8, dtype=float).reshape(7, 8)
    cropped = x[1:5, 1:7]  # 5 x 6 after border 1, then 4 x 6
    expected = [[cropped[a::2, b::2].mean() for b in range(2)] for a in range(2)]
    np.testing.assert_allclose(phase_means(x, 2, border=1), expected)


def test_phase_means_average_over_leading_axes_and_take_a_pair_stride():
    """Batch and channel axes are averaged; stride may differ per axis."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 6, 9))
    expected = [[x[..., a::2, b::3].mean() for b in range(3)] for a in range(2)]
    np.testing.assert_allclose(phase_means(x, (2, 3)), expected)


def test_score_of_constant_and_zero_images_is_zero():
    """Equal phases score 0, and an all-zero image scores exactly 0.0 (no division)."""
    assert checkerboard_score(np.full((6, 6), 3.0), 2) == 0.0
    assert checkerboard_score(np.zeros((6, 6)), 2) == 0.0


def test_score_of_the_1_2_2_4_pattern_by_hand():
    """std([1, 2, 2, 4]) / mean = 0.4843, whatever the sign or scale of the image."""
    x = np.tile(PATTERN, (4, 4))
    assert checkerboard_score(x, 2) == pytest.approx(PATTERN_SCORE)
    assert checkerboard_score(-5 * x, 2) == pytest.approx(PATTERN_SCORE)
    assert PATTERN_SCORE == pytest.approx(0.4843, abs=1e-4)


def test_overlap_map_k3_s2_has_phase_means_1_2_2_4():
    """The 2-D overlap counts of k=3, s=2 (edges cropped) are 1, 2, 2, 4 per phase."""
    counts = overlap_counts((6, 6), kernel_size=3, stride=2)
    means = phase_means(counts, 2, border=1)
    np.testing.assert_array_equal(np.sort(means.ravel()), [1, 2, 2, 4])
    assert checkerboard_score(counts, 2, border=1) == pytest.approx(PATTERN_SCORE)


def test_even_overlap_scores_zero():
    """k=4, s=2: every interior position gets 4 copies, so the score is 0."""
    counts = overlap_counts((6, 6), kernel_size=4, stride=2)
    assert checkerboard_score(counts, 2, border=2) == 0.0


def test_score_accepts_integer_arrays_and_rejects_bad_input():
    """Integers are converted; too-small or 1-D inputs raise ValueError naming the problem."""
    assert checkerboard_score(np.tile([[1, 2], [2, 4]], (2, 2)), 2) == pytest.approx(PATTERN_SCORE)
    with pytest.raises(ValueError, match="border"):
        checkerboard_score(np.ones((4, 4)), 2, border=2)
    with pytest.raises(ValueError, match="2 dimensions"):
        checkerboard_score(np.ones(8), 2)
    with pytest.raises(ValueError, match="stride"):
        checkerboard_score(np.ones((4, 4)), 0)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.1, 10), st.integers(1, 3))
def test_score_is_scale_invariant(seed, scale, stride):
    """Scaling the image does not change its score."""
    x = np.random.default_rng(seed).standard_normal((2, 7, 9))
    assert checkerboard_score(scale * x, stride) == pytest.approx(checkerboard_score(x, stride))


def test_stride_frequency_power_of_a_pattern_and_of_a_smooth_image():
    """A pure stride pattern has all its power there; a smooth ramp almost none."""
    assert stride_frequency_power(np.tile(PATTERN, (4, 4)), 2) == pytest.approx(1.0)
    assert stride_frequency_power(np.ones((8, 8)), 2) == 0.0
    yy, xx = np.mgrid[:16, :16]
    smooth = np.sin(2 * np.pi * xx / 16) + np.cos(2 * np.pi * yy / 16)
    assert stride_frequency_power(smooth, 2) < 1e-12


def test_stride_frequency_power_is_the_energy_of_the_tiled_phase_means():
    """Parseval: the power at multiples of 1/s is the energy of the phase-mean pattern."""
    x = np.random.default_rng(1).standard_normal((12, 10))
    tiled = np.tile(phase_means(x, 2), (6, 5))
    expected = np.sum((tiled - x.mean()) ** 2) / np.sum((x - x.mean()) ** 2)
    assert stride_frequency_power(x, 2) == pytest.approx(expected)


def test_power_spectrum_is_centred_and_averaged():
    """The zero frequency sits in the centre; leading axes are averaged."""
    x = np.ones((2, 8, 8))
    spectrum = power_spectrum(x)
    assert spectrum.shape == (8, 8)
    assert spectrum[4, 4] == pytest.approx(64.0**2)
    assert spectrum.sum() == pytest.approx(64.0**2)


def test_phase_sums_of_a_ones_kernel_are_the_overlap_counts():
    """For a ones kernel the phase sums are the interior overlap counts (4, 2, 2, 1)."""
    np.testing.assert_array_equal(phase_sums(np.ones((3, 3)), 2), [[4, 2], [2, 1]])


@pytest.mark.parametrize("k", [3, 4])
def test_phase_sums_are_the_interior_of_a_constant_input(k):
    """On a constant input the output interior repeats the kernel's phase sums."""
    w = np.random.default_rng(k).standard_normal((1, 1, k, k))
    y = conv_transpose2d(np.ones((1, 1, 6, 6)), w, stride=2)[0, 0]
    sums = phase_sums(w[0, 0], 2)
    interior = y[k - 1 : 2 * 5 + 1, k - 1 : 2 * 5 + 1]  # reached by every tap
    for a in range(2):
        for b in range(2):
            phase = interior[(a - (k - 1)) % 2 :: 2, (b - (k - 1)) % 2 :: 2]
            np.testing.assert_allclose(phase, sums[a, b])


def test_tent_kernel_k3_s2_has_equal_phase_sums_and_a_flat_interior():
    """k=3 is not divisible by s=2, yet the tent [1/2, 1, 1/2] (x) [1/2, 1, 1/2] has equal
    phase sums (1/2 + 1/2 = 1 and 1): on a constant input the interior is exactly flat."""
    tent = np.outer([0.5, 1, 0.5], [0.5, 1, 0.5])
    np.testing.assert_array_equal(phase_sums(tent, 2), np.ones((2, 2)))
    y = conv_transpose2d(np.full((1, 1, 5, 4), 3.0), tent[None, None], stride=2, padding=1)
    assert y.shape == (1, 1, 9, 7)
    np.testing.assert_array_equal(y[0, 0, 1:-1, 1:-1], 3.0)  # the border misses a tap
    # the uneven ones kernel of the same size: phases 4 : 2 : 2 : 1, no flat interior
    ones = conv_transpose2d(np.full((1, 1, 5, 4), 3.0), np.ones((1, 1, 3, 3)), stride=2)
    assert np.unique(ones[0, 0, 2:-2, 2:-2]).tolist() == [3.0, 6.0, 12.0]


def test_tent_transposed_convolution_is_linear_interpolation_with_align_corners():
    """With padding 1 the tent's transposed convolution is PyTorch's bilinear
    interpolation from (h, w) to (2h - 1, 2w - 1) with align_corners=True."""
    x = np.random.default_rng(8).standard_normal((2, 3, 4, 6))
    tent = np.outer([0.5, 1, 0.5], [0.5, 1, 0.5])
    weight = np.eye(3)[:, :, None, None] * tent  # channel by channel
    got = conv_transpose2d(x, weight, stride=2, padding=1)
    expected = F.interpolate(
        torch.from_numpy(x), size=(7, 11), mode="bilinear", align_corners=True
    ).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("factor", [2, 3, 4])
def test_fcn_bilinear_kernel_has_equal_phase_sums_and_a_flat_interior(factor):
    """FCN's bilinear initialisation: every phase sums to 1, for odd k = 5 at factor 3 too."""
    kernel = bilinear_kernel(factor)
    assert kernel.shape == (2 * factor - factor % 2,) * 2
    np.testing.assert_allclose(phase_sums(kernel, factor), np.ones((factor, factor)))
    y = conv_transpose2d(np.ones((1, 1, 6, 5)), kernel[None, None], stride=factor)[0, 0]
    k = kernel.shape[0]
    np.testing.assert_allclose(y[k - 1 : -(k - 1), k - 1 : -(k - 1)], 1.0, rtol=1e-12)


def test_phase_sums_of_a_layer_weight_sum_over_input_channels():
    """A (C_in, C_out, k, k) weight: phase sums per (C_in, C_out); summed over C_in they
    are the interior of the output on an input equal to 1 in every channel."""
    w = np.random.default_rng(9).standard_normal((3, 2, 4, 5))
    sums = phase_sums(w, (2, 3))
    assert sums.shape == (3, 2, 2, 3)
    y = conv_transpose2d(np.ones((1, 3, 6, 6)), w, stride=(2, 3))[0]
    interior = y[:, 3 : 3 + 6, 4 : 4 + 9]  # rows 3.. and columns 4.. get every tap
    for a in range(2):
        for b in range(3):
            phase = interior[:, (a - 3) % 2 :: 2, (b - 4) % 3 :: 3]
            expected = np.broadcast_to(sums.sum(axis=0)[:, a, b, None, None], phase.shape)
            np.testing.assert_allclose(phase, expected)
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        phase_sums(np.ones(3), 2)


def _modulated_wave(size=32):
    """A 50 % checkerboard (gains 1.5, 0.5) multiplying a wave that has zero mean on
    every phase."""
    i, j = np.mgrid[:size, :size]
    wave = np.cos(2 * np.pi * i / size)
    return (1 + 0.5 * (-1.0) ** (i + j)) * wave, wave


def test_global_score_and_its_spectral_twin_miss_a_multiplied_checkerboard():
    """Every phase mean of the modulated wave is 0: the global measures score 0."""
    x, _ = _modulated_wave()
    np.testing.assert_allclose(phase_means(x, 2), np.zeros((2, 2)), atol=1e-15)
    assert checkerboard_score(x, 2) < 1e-12
    assert stride_frequency_power(x, 2) < 1e-12


def test_local_score_catches_a_multiplied_checkerboard():
    """Locally the wave is nearly a plane, and the tile's phase means follow the gains."""
    x, wave = _modulated_wave()
    assert local_checkerboard_score(x, 2) > 0.4
    assert local_checkerboard_score(wave, 2) < 0.01


def test_local_score_of_a_pure_pattern_and_of_a_plane():
    """(-1)**(i + j) scores 1 like the global score; a plane scores 0; an additive
    pattern of size eps on a plane scores eps / mean|x| (the plane is removed exactly and
    the pattern is orthogonal to it on even tiles)."""
    i, j = np.mgrid[:16, :24]
    checker = (-1.0) ** (i + j)
    assert local_checkerboard_score(checker, 2) == pytest.approx(1.0)
    assert checkerboard_score(checker, 2) == pytest.approx(1.0)
    plane = 5 + 0.1 * i - 0.2 * j
    assert local_checkerboard_score(plane + 7, 2) < 1e-12
    x = plane + 7 + 0.25 * checker
    assert local_checkerboard_score(x, 2) == pytest.approx(0.25 / x.mean())


def test_local_score_keeps_images_apart():
    """Opposite patterns in two images cancel in the global phase means, not locally."""
    i, j = np.mgrid[:16, :16]
    x = np.stack([(-1.0) ** (i + j), -((-1.0) ** (i + j))])
    assert checkerboard_score(x, 2) == 0.0
    assert local_checkerboard_score(x, 2) == pytest.approx(1.0)
    assert local_phase_means(x, 2, window=(2, 4)).shape == (2, 4, 2, 2, 2)


def test_local_score_crops_to_whole_tiles_and_rejects_too_small_inputs():
    """A border and a partial tile at the end are left out; less than a tile is an error."""
    i, j = np.mgrid[:16, :16]
    checker = (-1.0) ** (i + j)
    padded = np.pad(checker, ((2, 5), (2, 3)), constant_values=100.0)
    assert local_checkerboard_score(padded, 2, border=2) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="tile"):
        local_checkerboard_score(np.ones((6, 6)), 2, window=4)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear"])
@pytest.mark.parametrize("k", [(3, 3), (2, 4), (1, 3)])
def test_resize_conv2d_matches_pytorch_same_padding(mode, k):
    """nearest/bilinear resize then conv2d with padding='same', odd and even kernels."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 4, 5))
    w = rng.standard_normal((2, 3, *k))
    b = rng.standard_normal(2)
    expected = F.conv2d(
        F.interpolate(torch.from_numpy(x), scale_factor=2, mode=mode),
        torch.from_numpy(w),
        torch.from_numpy(b),
        padding="same",
    )
    got = resize_conv2d(x, w, b, scale_factor=2, mode=mode)
    assert got.shape == (2, 2, 8, 10)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("padding", ["valid", 1, (0, 2)])
def test_resize_conv2d_other_paddings_and_unbatched(padding):
    """'valid', int and pair paddings pass through; an unbatched input stays unbatched."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 3, 4))
    w = rng.standard_normal((2, 1, 3, 3))
    expected = F.conv2d(
        F.interpolate(torch.from_numpy(x)[None], scale_factor=3, mode="nearest"),
        torch.from_numpy(w),
        padding=padding,
    )[0]
    got = resize_conv2d(x, w, scale_factor=3, padding=padding)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-10, atol=1e-12)


def test_subpixel_conv2d_matches_pytorch():
    """conv2d with padding 'same' then pixel_shuffle, as in PyTorch."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 4, 5))
    w = rng.standard_normal((2 * 9, 3, 3, 3))
    b = rng.standard_normal(18)
    expected = F.pixel_shuffle(
        F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), padding="same"), 3
    )
    got = subpixel_conv2d(x, w, b, upscale_factor=3)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-10, atol=1e-12)


def test_icnr_makes_subpixel_conv_a_nearest_upsampled_conv():
    """With ICNR weights the sub-pixel convolution is conv2d then nearest x r: score 0."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 3, 5, 4))
    w0 = rng.standard_normal((2, 3, 3, 3))
    w = icnr_weight(w0, 2)
    assert w.shape == (8, 3, 3, 3)
    expected = F.interpolate(
        F.conv2d(torch.from_numpy(x), torch.from_numpy(w0), padding=1), scale_factor=2
    )
    got = subpixel_conv2d(x, w, upscale_factor=2)
    np.testing.assert_allclose(got, expected.numpy(), rtol=1e-10, atol=1e-12)
    assert checkerboard_score(got, 2) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="C_out, C_in, kH, kW"):
        icnr_weight(np.ones((3, 3)), 2)


@pytest.mark.parametrize("kind", sorted(DECODER_KINDS))
def test_random_decoder_shapes_and_determinism(kind):
    """Each decoder kind gives size * 2**layers pixels, the same for the same seed."""
    a = random_decoder(kind, seed=3, layers=2, channels=4, size=5)
    assert a.shape == (20, 20)
    np.testing.assert_array_equal(a, random_decoder(kind, seed=3, layers=2, channels=4, size=5))


def test_random_decoders_transposed_conv_shows_artifacts_resize_does_not():
    """Before training: transposed conv scores high, resize-conv and ICNR near zero."""
    for seed in range(4):
        assert checkerboard_score(random_decoder("transposed", seed), 2, border=2) > 0.2
        assert checkerboard_score(random_decoder("resize", seed), 2, border=2) < 0.1
        assert checkerboard_score(random_decoder("subpixel_icnr", seed), 2) < 1e-12
    with pytest.raises(ValueError, match="kind"):
        random_decoder("deconv")


def test_docstring_examples():
    """The examples in upsampling.checkerboard's docstrings print what they say."""
    import doctest

    import upsampling.checkerboard as module

    result = doctest.testmod(
        module, extraglobs={"np": np}, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted > 0 and result.failed == 0


def test_local_phase_spread_is_the_pattern_amplitude_whatever_the_offset_and_slope():
    """A ±A pattern spreads by A on any plane; it is the local score's numerator."""
    from upsampling.checkerboard import local_phase_spread

    i, j = np.mgrid[:24, :24]
    board = (-1.0) ** (i + j)
    for offset, slope in [(0.0, 0.0), (5.0, 0.0), (-3.0, 0.4)]:
        picture = offset + slope * (i - 2 * j) + 0.3 * board
        assert np.isclose(local_phase_spread(picture, 2), 0.3)
    assert local_phase_spread(2.0 + 0.1 * i, 2) < 1e-12
    picture = np.random.default_rng(0).random((3, 16, 16))
    scale = np.abs(picture).mean()
    assert np.isclose(
        local_phase_spread(picture, 2, window=2), local_checkerboard_score(picture, 2, 2) * scale
    )
