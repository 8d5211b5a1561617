"""conv_transpose2d against PyTorch, and against three independent views of itself."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from upsampling import (
    conv2d,
    conv_matrix,
    conv_output_size,
    conv_transpose2d,
    conv_transpose_output_size,
)
from upsampling.conv_transpose import METHODS

TOL = {np.float32: dict(rtol=2e-4, atol=2e-5), np.float64: dict(rtol=1e-10, atol=1e-10)}


@st.composite
def transposed_cases(draw, max_size=6):
    """Valid arguments for conv_transpose2d, over every parameter PyTorch has."""
    groups = draw(st.integers(1, 3))
    c_in, c_out = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kernel = draw(st.tuples(st.integers(1, 4), st.integers(1, 4)))
    stride = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    dilation = draw(st.tuples(st.integers(1, 3), st.integers(1, 2)))
    output_padding = tuple(
        draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
    )
    size = draw(st.tuples(st.integers(1, max_size), st.integers(1, max_size)))
    full = [
        (i - 1) * s + d * (k - 1) + 1 + op
        for i, s, d, k, op in zip(size, stride, dilation, kernel, output_padding, strict=True)
    ]
    # padding may crop everything but one row/column
    padding = tuple(draw(st.integers(0, (f - 1) // 2)) for f in full)
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 3))
    x = rng.standard_normal((n, c_in, *size)).astype(dtype)
    w = rng.standard_normal((c_in, c_out // groups, *kernel)).astype(dtype)
    bias = rng.standard_normal(c_out).astype(dtype) if draw(st.booleans()) else None
    kwargs = dict(
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        groups=groups,
        dilation=dilation,
    )
    return x, w, bias, kwargs


def torch_conv_transpose2d(x, w, bias, kwargs):
    tb = None if bias is None else torch.from_numpy(bias)
    return F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), tb, **kwargs).numpy()


@settings(max_examples=150, deadline=None)
@given(transposed_cases())
def test_every_method_matches_pytorch(case):
    x, w, bias, kwargs = case
    expected = torch_conv_transpose2d(x, w, bias, kwargs)
    for method in METHODS:
        got = conv_transpose2d(x, w, bias, **kwargs, method=method)
        assert got.shape == expected.shape, method
        assert got.dtype == x.dtype, method
        np.testing.assert_allclose(got, expected, **TOL[x.dtype.type], err_msg=method)


@settings(max_examples=40, deadline=None)
@given(transposed_cases())
def test_unbatched_input_gives_unbatched_output(case):
    x, w, bias, kwargs = case
    got = conv_transpose2d(x[0], w, bias, **kwargs)
    np.testing.assert_allclose(got, conv_transpose2d(x, w, bias, **kwargs)[0], rtol=1e-6)


@settings(max_examples=80, deadline=None)
@given(transposed_cases())
def test_equals_gradient_of_conv2d_with_respect_to_its_input(case):
    """The transposed convolution is the backward pass of conv2d (PyTorch autograd)."""
    y, w, _, kwargs = case
    y, w = y.astype(np.float64), w.astype(np.float64)
    out_size = conv_transpose_output_size(
        y.shape[2:],
        w.shape[2:],
        kwargs["stride"],
        kwargs["padding"],
        kwargs["output_padding"],
        kwargs["dilation"],
    )
    x = torch.zeros(
        (y.shape[0], w.shape[1] * kwargs["groups"], *out_size),
        dtype=torch.float64,
        requires_grad=True,
    )
    conv_kwargs = {k: v for k, v in kwargs.items() if k != "output_padding"}
    # output_padding >= stride (allowed when < dilation) gives conv2d extra rows: drop them
    z = F.conv2d(x, torch.from_numpy(w), **conv_kwargs)[..., : y.shape[2], : y.shape[3]]
    assert z.shape == y.shape
    (grad,) = torch.autograd.grad(z, x, grad_outputs=torch.from_numpy(y))
    np.testing.assert_allclose(
        conv_transpose2d(y, w, **kwargs), grad.numpy(), rtol=1e-10, atol=1e-10
    )


@settings(max_examples=80, deadline=None)
@given(transposed_cases(), st.integers(0, 2**32 - 1))
def test_adjoint_identity(case, seed):
    """<conv2d(x), y> == <x, conv_transpose2d(y)> for every x and y of matching shapes."""
    y, w, _, kwargs = case
    y, w = y.astype(np.float64), w.astype(np.float64)
    conv_kwargs = {k: v for k, v in kwargs.items() if k != "output_padding"}
    out = conv_transpose2d(y, w, **kwargs)
    x = np.random.default_rng(seed).standard_normal(out.shape)
    lhs = np.vdot(conv2d(x, w, **conv_kwargs)[..., : y.shape[2], : y.shape[3]], y)
    rhs = np.vdot(x, out)
    assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(transposed_cases(max_size=4))
def test_equals_transposed_convolution_matrix(case):
    """conv_transpose2d(y) == C.T @ y, with C the matrix of the matching conv2d."""
    y, w, _, kwargs = case
    y, w = y[0].astype(np.float64), w.astype(np.float64)
    out = conv_transpose2d(y, w, **kwargs, method="gemm")
    stride, padding, dilation = kwargs["stride"], kwargs["padding"], kwargs["dilation"]
    C = conv_matrix(w, out.shape[1:], stride, padding, dilation, kwargs["groups"])
    # conv2d's rows beyond y's size (output_padding >= stride) are not part of the transpose
    conv_size = conv_output_size(out.shape[1:], w.shape[2:], stride, padding, dilation)
    C = C.reshape(y.shape[0], *conv_size, out.size)[:, : y.shape[1], : y.shape[2]]
    C = C.reshape(y.size, out.size)
    np.testing.assert_allclose(C.T @ y.ravel(), out.ravel(), rtol=1e-12, atol=1e-12)


def test_conv_matrix_is_built_independently_of_conv2d():
    """The matrix from index arithmetic equals the Jacobian of PyTorch's conv2d."""
    rng = np.random.default_rng(7)
    w = rng.standard_normal((4, 3, 3, 2))
    C = conv_matrix(w, (5, 6), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=1)

    def f(v):
        return F.conv2d(
            v.reshape(1, 3, 5, 6),
            torch.from_numpy(w),
            stride=(2, 1),
            padding=(1, 0),
            dilation=(1, 2),
        ).ravel()

    jac = torch.autograd.functional.jacobian(f, torch.zeros(90, dtype=torch.float64))
    np.testing.assert_array_equal(C, jac.numpy())


def test_float32_stays_float32_and_ints_become_float64():
    x = np.ones((1, 1, 2, 2), dtype=np.float32)
    assert conv_transpose2d(x, np.ones((1, 1, 2, 2), np.float32)).dtype == np.float32
    assert conv_transpose2d([[[[1, 2]]]], [[[[1]]]]).dtype == np.float64


def test_nearest_times_two_is_a_transposed_convolution_with_a_ones_kernel():
    from upsampling import interpolate

    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    ones = np.eye(3)[:, :, None, None] * np.ones((2, 2))  # per channel, no mixing
    np.testing.assert_array_equal(
        conv_transpose2d(x, ones, stride=2), interpolate(x, scale_factor=2, mode="nearest")
    )


def test_bed_of_nails_is_a_transposed_convolution_with_a_corner_kernel():
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    nails = conv_transpose2d(x, np.array([[[[1.0, 0.0], [0.0, 0.0]]]]), stride=2)
    expected = [[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]  # by hand
    np.testing.assert_array_equal(nails[0, 0], expected)


def test_polyphase_phases_are_stride_one_transposed_convolutions_with_sub_kernels():
    """Phase (a, b) of a stride-s transposed convolution (padding 0) is PyTorch's stride-1
    transposed convolution with the sub-kernel w[..., a::s, b::s]; interleaving the s*s
    phases with pixel_shuffle gives the whole output (sub-pixel convolution)."""
    rng = np.random.default_rng(3)
    s, k = 2, 4  # k divisible by s: every sub-kernel is 2x2, every phase the same size
    x = rng.standard_normal((2, 3, 5, 6))
    w = rng.standard_normal((3, 2, k, k))
    tx = torch.from_numpy(x)
    phases = [
        F.conv_transpose2d(tx, torch.from_numpy(w[:, :, a::s, b::s].copy()))
        for a in range(s)
        for b in range(s)
    ]
    # channel c*s*s + a*s + b of the stack goes to pixel (a, b) of channel c's blocks
    stacked = torch.stack(phases, dim=2).flatten(1, 2)
    expected = F.pixel_shuffle(stacked, s).numpy()
    got = conv_transpose2d(x, w, stride=s, method="polyphase")
    assert got.shape == expected.shape == (2, 2, 12, 14)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(stride=(3, 2), padding=(2, 1), output_padding=(1, 1)),
        dict(stride=(2, 3), dilation=(3, 2), output_padding=(2, 1)),  # gcd(d, s) = 1
        dict(stride=(4, 2), dilation=(2, 2), padding=(1, 3)),  # gcd(d, s) = 2: empty phases
    ],
)
def test_polyphase_with_pair_arguments_non_square_and_kernel_smaller_than_stride(kwargs):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((1, 2, 3, 5))
    for kernel in [(1, 1), (2, 3), (5, 4)]:
        w = rng.standard_normal((2, 3, *kernel))
        bias = rng.standard_normal(3)
        expected = torch_conv_transpose2d(x, w, bias, kwargs)
        got = conv_transpose2d(x, w, bias, **kwargs, method="polyphase")
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=str(kernel))


def test_polyphase_multiplies_no_inserted_zero():
    """Every product the polyphase method forms uses an input value or a border zero of a
    stride-1 convolution: on an input of NaNs, zero insertion (NaN * 0 = NaN in the
    inserted zeros' products too) and polyphase agree on which outputs are NaN only if no
    inserted zero is multiplied by a NaN tap. Here the kernel has a NaN tap that meets
    only inserted zeros in the zero-insertion view: polyphase never forms that product."""
    x = np.ones((1, 1, 3, 3))
    w = np.ones((1, 1, 3, 3))
    w[0, 0, 1, 1] = np.nan  # tap (1, 1) lands on the odd phases only (stride 2)
    got = conv_transpose2d(x, w, stride=2, method="polyphase")[0, 0]
    # NaN exactly where tap (1, 1) lands: odd rows and odd columns of the output
    expected_nan = np.zeros((7, 7), dtype=bool)
    expected_nan[1::2, 1::2] = True
    np.testing.assert_array_equal(np.isnan(got), expected_nan)
    zero_inserted = conv_transpose2d(x, w, stride=2, method="zero_insertion")[0, 0]
    assert np.isnan(zero_inserted).sum() > expected_nan.sum()  # it multiplies 0 * NaN
