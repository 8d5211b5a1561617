"""Every worked example of the course (docs/worked-examples.md), exactly.

The expected values are the course's hand-checked figures (verified with PyTorch 2.13),
typed here from the course text, not produced by this package.
"""

import numpy as np

from upsampling import (
    conv2d,
    conv_transpose2d,
    conv_transpose_output_size,
    interpolate,
    max_pool2d,
    max_unpool2d,
)


def grid(rows):
    return np.array(rows, dtype=np.float64)[None, None]


def test_d2l_two_by_two():
    x = grid([[0, 1], [2, 3]])
    np.testing.assert_array_equal(conv_transpose2d(x, x)[0, 0], [[0, 0, 1], [0, 4, 6], [4, 12, 9]])


X2 = grid([[2, 0], [4, 1]])
K3 = grid([[4, 2, 1], [1, 0, 3], [0, 5, 2]])


def test_asymmetric_kernel_stride_1():
    expected = [[8, 4, 2, 0], [18, 12, 12, 1], [4, 11, 16, 3], [0, 20, 13, 2]]
    np.testing.assert_array_equal(conv_transpose2d(X2, K3)[0, 0], expected)


def test_asymmetric_kernel_stride_2():
    expected = [
        [8, 4, 2, 0, 0],
        [2, 0, 6, 0, 0],
        [16, 18, 12, 2, 1],
        [4, 0, 13, 0, 3],
        [0, 20, 8, 5, 2],
    ]
    np.testing.assert_array_equal(conv_transpose2d(X2, K3, stride=2)[0, 0], expected)


def test_asymmetric_kernel_stride_2_padding_1_and_output_padding():
    np.testing.assert_array_equal(
        conv_transpose2d(X2, K3, stride=2, padding=1)[0, 0], [[0, 6, 0], [18, 12, 2], [0, 13, 0]]
    )
    np.testing.assert_array_equal(
        conv_transpose2d(X2, K3, stride=2, padding=1, output_padding=1)[0, 0],
        [[0, 6, 0, 0], [18, 12, 2, 1], [0, 13, 0, 3], [20, 8, 5, 2]],
    )


def test_zero_insertion_without_flipping_gives_a_different_answer():
    """The classic bug: zero insertion + convolution with the kernel as it is."""
    spread = np.zeros((1, 1, 3, 3))
    spread[..., ::2, ::2] = X2
    unflipped = conv2d(spread, K3, padding=2)
    assert not np.array_equal(unflipped, conv_transpose2d(X2, K3, stride=2))
    flipped = conv2d(spread, K3[..., ::-1, ::-1], padding=2)
    np.testing.assert_array_equal(flipped, conv_transpose2d(X2, K3, stride=2))


IMAGE = grid([[0, 1, 0, 1, 1], [0, 0, 1, 1, 0], [1, 1, 0, 1, 0], [0, 1, 0, 0, 1], [0, 0, 1, 1, 0]])
LAPLACIAN = grid([[0, 1, 0], [1, -4, 1], [0, 1, 0]])


def test_laplacian_and_transposing_back_does_not_recover_the_image():
    feature_map = conv2d(IMAGE, LAPLACIAN)
    np.testing.assert_array_equal(feature_map[0, 0], [[3, -3, -1], [-2, 3, -3], [-3, 2, 3]])
    back = conv_transpose2d(feature_map, LAPLACIAN)[0, 0]
    expected = [
        [0, 3, -3, -1, 0],
        [3, -17, 17, -2, -1],
        [-2, 11, -18, 17, -3],
        [-3, 12, -5, -13, 3],
        [0, -3, 2, 3, 0],
    ]
    np.testing.assert_array_equal(back, expected)
    assert not np.array_equal(back, IMAGE[0, 0])


def test_one_by_one_kernel_stride_2():
    x = np.ones((1, 1, 3, 3))
    k = np.ones((1, 1, 1, 1))
    assert conv_transpose2d(x, k, stride=2).shape[2:] == (5, 5)
    assert conv_transpose2d(x, k, stride=2, output_padding=1).shape[2:] == (6, 6)
    # Keras 'valid' gives (i - 1)s + max(k, s) = 6 for the same layer
    assert (3 - 1) * 2 + max(1, 2) == 6


def test_max_pool_then_unpool():
    x = np.arange(1, 17, dtype=np.float64).reshape(1, 1, 4, 4)
    pooled, indices = max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(pooled[0, 0], [[6, 8], [14, 16]])
    np.testing.assert_array_equal(indices[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(
        max_unpool2d(pooled, indices, 2)[0, 0],
        [[0, 0, 0, 0], [0, 6, 0, 8], [0, 0, 0, 0], [0, 14, 0, 16]],
    )


def test_bilinear_first_rows():
    x = grid([[1, 2], [3, 4]])
    np.testing.assert_allclose(
        interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)[0, 0, 0],
        [1, 1.25, 1.75, 2],
    )
    np.testing.assert_allclose(
        interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)[0, 0, 0],
        [1, 4 / 3, 5 / 3, 2],
    )


def test_matrix_view_d2l():
    x = np.arange(9, dtype=np.float64).reshape(1, 1, 3, 3)
    k = grid([[1, 2], [3, 4]])
    y = conv2d(x, k)
    np.testing.assert_array_equal(y[0, 0], [[27, 37], [57, 67]])
    np.testing.assert_array_equal(
        conv_transpose2d(y, k)[0, 0], [[27, 91, 74], [138, 400, 282], [171, 429, 268]]
    )


def test_sizes_do_not_round_trip():
    assert conv_transpose_output_size(8, 3, stride=2, padding=1) == 15
    assert conv_transpose_output_size(8, 3, stride=2, padding=1, output_padding=1) == 16
