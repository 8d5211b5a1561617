"""conv2d, the output-size functions and overlap_counts against PyTorch and by hand."""

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from upsampling import (
    conv2d,
    conv_output_size,
    conv_transpose2d,
    conv_transpose_output_size,
    overlap_counts,
)


@st.composite
def conv_cases(draw):
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = draw(st.tuples(st.integers(1, 4), st.integers(1, 4)))
    dilation = draw(st.tuples(st.integers(1, 2), st.integers(1, 3)))
    stride = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    pairs = st.tuples(st.integers(0, 2), st.integers(0, 2))
    padding = draw(st.one_of(pairs, st.sampled_from(["valid", "same"])))
    if padding == "same":
        stride = (1, 1)
    pad = (0, 0) if isinstance(padding, str) else padding
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    size = tuple(
        draw(st.integers(max(1, s - 2 * p), s + 5)) for s, p in zip(span, pad, strict=True)
    )
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((draw(st.integers(1, 3)), c_in, *size)).astype(dtype)
    w = rng.standard_normal((c_out, c_in // groups, *kernel)).astype(dtype)
    bias = rng.standard_normal(c_out).astype(dtype) if draw(st.booleans()) else None
    return x, w, bias, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


@settings(max_examples=150, deadline=None)
@given(conv_cases())
def test_conv2d_matches_pytorch(case):
    x, w, bias, kwargs = case
    tb = None if bias is None else torch.from_numpy(bias)
    expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(w), tb, **kwargs).numpy()
    got = conv2d(x, w, bias, **kwargs)
    assert got.shape == expected.shape and got.dtype == x.dtype
    tol = dict(rtol=2e-4, atol=2e-5) if x.dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got, expected, **tol)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 40), st.integers(1, 6), st.integers(1, 4), st.integers(0, 3), st.integers(1, 3)
)
def test_output_sizes_match_pytorch(size, k, s, p, d):
    """Both size formulas against the shapes PyTorch actually produces."""
    x = torch.zeros(1, 1, size, size + 1)
    w = torch.zeros(1, 1, k, k)
    span = d * (k - 1) + 1
    if size + 2 * p >= span:
        shape = F.conv2d(x, w, stride=s, padding=p, dilation=d).shape[2:]
        assert conv_output_size((size, size + 1), k, s, p, d) == tuple(shape)
        assert conv_output_size(size, k, s, p, d) == shape[0]
    for op in range(max(s, d)):
        expected = (size - 1) * s - 2 * p + d * (k - 1) + op + 1
        if expected >= 1:
            shape = F.conv_transpose2d(
                x, w, stride=s, padding=p, output_padding=op, dilation=d
            ).shape[2:]
            assert conv_transpose_output_size((size, size + 1), k, s, p, op, d) == tuple(shape)


def test_shapes_do_not_round_trip_without_output_padding():
    """16 -> conv(k=3, s=2, p=1) -> 8 -> transposed conv -> 15, or 16 with output_padding=1."""
    down = conv_output_size(16, 3, 2, 1)
    assert down == 8
    assert conv_transpose_output_size(down, 3, 2, 1) == 15
    assert conv_transpose_output_size(down, 3, 2, 1, output_padding=1) == 16


def test_overlap_counts_1d_by_hand():
    # k=3, s=2 over 4 inputs: copies start at 0, 2, 4, 6 and cover 3 positions each
    np.testing.assert_array_equal(overlap_counts(4, 3, 2), [1, 1, 2, 1, 2, 1, 2, 1, 1])
    # k divisible by s: even overlap away from the borders
    np.testing.assert_array_equal(overlap_counts(4, 4, 2), [1, 1, 2, 2, 2, 2, 2, 2, 1, 1])


def test_overlap_counts_2d_multiplies_to_1_2_4():
    counts = overlap_counts((5, 5), kernel_size=3, stride=2)
    interior = counts[2:-2, 2:-2]
    assert set(np.unique(interior)) == {1, 2, 4}
    # the 2-D count is the outer product of the 1-D counts
    one_d = overlap_counts(5, 3, 2)
    np.testing.assert_array_equal(counts, np.outer(one_d, one_d))


def test_overlap_counts_of_stacked_layers_compose_transposed_convolutions():
    """Two layers: the number of paths, i.e. ones pushed through both layers (by torch)."""
    ones = torch.ones(1, 1, 1, 3)
    kernel = torch.ones(1, 1, 1, 3)
    twice = F.conv_transpose2d(
        F.conv_transpose2d(ones, kernel, stride=(1, 2)), kernel, stride=(1, 2)
    )
    np.testing.assert_array_equal(overlap_counts(3, 3, 2, layers=2), twice[0, 0, 0].numpy())
    assert overlap_counts(3, 3, 2, layers=2).max() > overlap_counts(3, 3, 2).max()


def test_overlap_counts_is_the_transposed_convolution_of_ones():
    counts = overlap_counts((3, 4), kernel_size=(2, 3), stride=(2, 1), padding=(0, 1))
    ones = conv_transpose2d(
        np.ones((1, 1, 3, 4)), np.ones((1, 1, 2, 3)), stride=(2, 1), padding=(0, 1)
    )
    np.testing.assert_array_equal(counts, ones[0, 0])
    assert counts.dtype == np.int64
