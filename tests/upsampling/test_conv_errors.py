"""Bad arguments: rejected exactly when PyTorch rejects them, with a message that helps."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from upsampling import conv2d, conv_output_size, conv_transpose2d, conv_transpose_output_size


def _raises(fn):
    try:
        fn()
    except (ValueError, TypeError):
        return True
    return False


def _torch_raises(fn):
    try:
        fn()
    except RuntimeError:
        return True
    return False


@st.composite
def loose_cases(draw):
    """Arguments in a range wider than the valid one: bad sizes, channels, groups, paddings."""
    groups = draw(st.integers(1, 3))
    c_in = draw(st.integers(1, 4))
    w_in = draw(st.integers(1, 4))  # weight.shape[0]: may differ from c_in
    c_out_g = draw(st.integers(1, 2))
    kernel = draw(st.tuples(st.integers(1, 4), st.integers(1, 4)))
    size = draw(st.tuples(st.integers(1, 4), st.integers(1, 4)))
    kwargs = dict(
        stride=draw(st.tuples(st.integers(1, 3), st.integers(1, 3))),
        padding=draw(st.tuples(st.integers(0, 4), st.integers(0, 4))),
        output_padding=draw(st.tuples(st.integers(0, 3), st.integers(0, 3))),
        groups=groups,
        dilation=draw(st.tuples(st.integers(1, 3), st.integers(1, 3))),
    )
    return np.ones((1, c_in, *size)), np.ones((w_in, c_out_g, *kernel)), kwargs


@settings(max_examples=300, deadline=None)
@given(loose_cases())
def test_conv_transpose2d_rejects_exactly_what_pytorch_rejects(case):
    x, w, kwargs = case
    ours = _raises(lambda: conv_transpose2d(x, w, **kwargs))
    theirs = _torch_raises(
        lambda: F.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w), **kwargs)
    )
    assert ours == theirs, f"ours raises: {ours}, PyTorch raises: {theirs}"


@settings(max_examples=200, deadline=None)
@given(loose_cases())
def test_conv2d_rejects_exactly_what_pytorch_rejects(case):
    x, w, kwargs = case
    del kwargs["output_padding"]
    w = w.transpose(1, 0, 2, 3)  # conv2d's layout: (C_out, C_in / groups, kH, kW)
    ours = _raises(lambda: conv2d(x, w, **kwargs))
    theirs = _torch_raises(lambda: F.conv2d(torch.from_numpy(x), torch.from_numpy(w), **kwargs))
    assert ours == theirs, f"ours raises: {ours}, PyTorch raises: {theirs}"


X = np.ones((1, 2, 3, 3))
W = np.ones((2, 1, 3, 3))


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: conv_transpose2d(np.ones((3, 3)), W), ["input", "shape (3, 3)", "3 (unbatched)"]),
        (lambda: conv_transpose2d(np.ones((1, 1, 2, 3, 3)), W), ["input", "4 (batched)"]),
        (lambda: conv_transpose2d(X, np.ones((2, 3, 3))), ["weight", "4 dimensions"]),
        (lambda: conv_transpose2d(np.ones((1, 3, 3, 3)), W), ["3", "weight.shape[0]", "channels"]),
        (lambda: conv_transpose2d(X, W, groups=3), ["groups (3)", "divisible"]),
        (lambda: conv_transpose2d(X, W, groups=0), ["groups", "positive"]),
        (
            lambda: conv_transpose2d(X, W, stride=2, output_padding=2),
            ["output_padding (2)", "stride (2)", "dilation (1)"],
        ),
        (lambda: conv_transpose2d(X, W, output_padding=(0, 1)), ["output_padding (1)"]),
        (lambda: conv_transpose2d(X, W, padding=3), ["output size", "too small"]),
        (lambda: conv_transpose2d(X, W, stride=0), ["stride", "positive", "0"]),
        (lambda: conv_transpose2d(X, W, dilation=(1, 0)), ["dilation", "positive"]),
        (lambda: conv_transpose2d(X, W, padding=-1), ["padding", "non-negative", "-1"]),
        (lambda: conv_transpose2d(X, W, stride=1.5), ["stride", "int", "1.5"]),
        (lambda: conv_transpose2d(X, W, padding=(1, 1, 1)), ["padding", "pair"]),
        (lambda: conv_transpose2d(X, W, bias=np.ones(3)), ["bias", "(1,)", "(3,)"]),
        (lambda: conv_transpose2d(X, W, method="fft"), ["method", "'fft'", "'gemm'"]),
        (lambda: conv_transpose2d(np.array([["a"]]), W), ["input", "real numbers"]),
        (lambda: conv2d(X, np.ones((2, 2, 3, 3)), groups=3), ["groups (3)", "divisible"]),
        (lambda: conv2d(X, np.ones((2, 2, 3, 3)), groups=2), ["weight.shape[1] * groups", "2"]),
        (lambda: conv2d(X, np.ones((2, 2, 3, 3)), padding="full"), ["padding", "'full'", "'same'"]),
        (lambda: conv2d(X, np.ones((2, 2, 3, 3)), stride=2, padding="same"), ["same", "strided"]),
        (lambda: conv2d(X, np.ones((2, 2, 4, 4))), ["kernel", "larger", "input"]),
        (lambda: conv_output_size(2, 5), ["input_size 2", "kernel"]),
        (lambda: conv_transpose_output_size(4, 3, stride=2, output_padding=2), ["output_padding"]),
        (lambda: conv_transpose_output_size(2, 1, padding=1), ["too small"]),
        (lambda: conv_output_size(2.5, 1), ["input_size", "2.5"]),
    ],
)
def test_error_messages_name_the_argument_the_value_and_the_rule(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    for word in words:
        assert word in str(info.value), f"{word!r} not in {str(info.value)!r}"


def test_kinds_of_wrong_values_raise_type_errors_not_value_errors():
    with pytest.raises(TypeError):
        conv_transpose2d(X, W, stride=True)
    with pytest.raises(TypeError):
        conv_transpose2d(X, W, groups="2")
