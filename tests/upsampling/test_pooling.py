"""max_pool2d and max_unpool2d against PyTorch: values, indices, sizes and errors."""

import contextlib
import doctest
import importlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from upsampling.pooling import max_pool2d, max_unpool2d

pairs = st.tuples


@contextlib.contextmanager
def torch_single_thread():
    """PyTorch's unpooling splits a plane over threads; one thread gives 'last write wins'."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def raises(fn, *args, **kwargs):
    """The exception ``fn`` raises, or None."""
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - PyTorch raises RuntimeError, ValueError, ...
        return exc
    return None


@st.composite
def images(draw, max_size=9, min_batch=1):
    """An (N, C, H, W) or (C, H, W) array of small integers (many ties), maybe NaN/-inf."""
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = (
        draw(st.integers(min_batch, 2)),
        draw(st.integers(1, 3)),
        draw(st.integers(1, max_size)),
        draw(st.integers(1, max_size)),
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.integers(0, 4, size=shape).astype(dtype)
    for special in (np.nan, -np.inf):
        if draw(st.booleans()):
            x[rng.random(shape) < 0.2] = special
    return x[0] if draw(st.booleans()) else x


@st.composite
def pool_args(draw):
    kernel = draw(pairs(st.integers(1, 4), st.integers(1, 4)))
    return dict(
        kernel_size=kernel,
        stride=draw(st.none() | pairs(st.integers(1, 3), st.integers(1, 3))),
        padding=tuple(draw(st.integers(0, k // 2)) for k in kernel),
        dilation=draw(pairs(st.integers(1, 3), st.integers(1, 3))),
        ceil_mode=draw(st.booleans()),
    )


# --- worked example (docs/worked-examples.md, hand-checked) -----------------------------


def test_worked_example_pool_and_unpool():
    """arange(1, 17) as 4x4, pool 2: [[6,8],[14,16]] at [[5,7],[13,15]]; unpool puts them back."""
    x = np.arange(1, 17).reshape(1, 1, 4, 4)
    out, idx = max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(out[0, 0], [[6, 8], [14, 16]])
    np.testing.assert_array_equal(idx[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(
        max_unpool2d(out, idx, 2)[0, 0],
        [[0, 0, 0, 0], [0, 6, 0, 8], [0, 0, 0, 0], [0, 14, 0, 16]],
    )


# --- max_pool2d ---------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(images(), pool_args())
def test_max_pool2d_matches_pytorch(x, kwargs):
    """Values and indices equal PyTorch's exactly, ties, NaN, -inf and ceil_mode included."""
    tx = torch.from_numpy(x)
    assume(raises(F.max_pool2d, tx, **kwargs) is None)  # output not empty
    expected, expected_idx = F.max_pool2d(tx, **kwargs, return_indices=True)
    out, idx = max_pool2d(x, **kwargs, return_indices=True)
    assert out.dtype == x.dtype and idx.dtype == np.int64
    np.testing.assert_array_equal(out, expected.numpy())
    np.testing.assert_array_equal(idx, expected_idx.numpy())
    # PyTorch's path without indices is a different kernel; it agrees too.
    np.testing.assert_array_equal(max_pool2d(x, **kwargs), F.max_pool2d(tx, **kwargs).numpy())


@settings(max_examples=150, deadline=None)
@given(
    shape=st.lists(st.integers(0, 6), min_size=2, max_size=5),
    kernel=st.integers(0, 4) | pairs(st.integers(0, 4), st.integers(-1, 4)),
    stride=st.none() | st.integers(0, 3) | pairs(st.integers(-1, 3), st.integers(0, 3)),
    padding=st.integers(-1, 3) | pairs(st.integers(0, 3), st.integers(-1, 3)),
    dilation=st.integers(0, 3) | pairs(st.integers(0, 3), st.integers(0, 3)),
    ceil_mode=st.booleans(),
)
def test_max_pool2d_raises_exactly_when_pytorch_does(
    shape, kernel, stride, padding, dilation, ceil_mode
):
    """Over a range with invalid values too, we raise ValueError/TypeError iff PyTorch raises."""
    x = np.ones(shape, dtype=np.float32)
    kwargs = dict(
        kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode
    )
    expected = raises(F.max_pool2d, torch.from_numpy(x), **kwargs, return_indices=True)
    got = raises(max_pool2d, x, **kwargs)
    assert got is None or isinstance(got, (ValueError, TypeError)), repr(got)
    assert (got is None) == (expected is None), f"ours: {got!r}, PyTorch: {expected!r}"


def test_ties_keep_the_first_maximum_in_scan_order():
    """Equal values: the first one, row by row, is reported."""
    x = np.array([[[[1, 3], [3, 3]]]])
    assert max_pool2d(x, 2, return_indices=True)[1].item() == 1


def test_nan_wins_and_the_last_nan_is_reported():
    """A NaN beats every number; of several NaNs PyTorch keeps the last in scan order."""
    nan = np.nan
    for row, where in (([nan, 5, nan, 1], 2), ([1, nan, 5, nan], 3), ([1, nan, 5, 2], 1)):
        x = np.array([[[row]]])
        out, idx = max_pool2d(x, (1, 4), return_indices=True)
        assert np.isnan(out.item()) and idx.item() == where
        torch_idx = F.max_pool2d(torch.from_numpy(x), (1, 4), return_indices=True)[1]
        assert torch_idx.item() == where


def test_window_wholly_in_padding_gives_minus_infinity():
    """Dilation can put a whole window in the padding: -inf, index of its first tap, as PyTorch."""
    x = np.arange(4.0).reshape(1, 1, 2, 2)
    kwargs = dict(kernel_size=2, stride=1, padding=1, dilation=3)
    out, idx = max_pool2d(x, **kwargs, return_indices=True)
    expected, expected_idx = F.max_pool2d(torch.from_numpy(x), **kwargs, return_indices=True)
    assert out.item() == -np.inf
    np.testing.assert_array_equal(out, expected.numpy())
    np.testing.assert_array_equal(idx, expected_idx.numpy())


def test_ceil_mode_drops_a_window_starting_in_the_right_padding():
    """5 wide, kernel 2, stride 2, padding 1: ceil would give 4 windows, the 4th starts at 6."""
    x = np.arange(5.0).reshape(1, 1, 1, 5)
    out = max_pool2d(x, (1, 2), stride=(1, 2), padding=(0, 1), ceil_mode=True)
    np.testing.assert_array_equal(out[0, 0, 0], [0, 2, 4])


def test_dtypes_and_unbatched_input():
    """ints become float64, float32 stays float32, (C, H, W) gives (C, H_out, W_out)."""
    x = np.arange(16).reshape(1, 4, 4)
    out, idx = max_pool2d(x, 2, return_indices=True)
    assert out.shape == idx.shape == (1, 2, 2)
    assert out.dtype == np.float64 and idx.dtype == np.int64
    assert max_pool2d(x.astype(np.float32), 2).dtype == np.float32
    assert max_pool2d(np.zeros((0, 1, 4, 4)), 2).shape == (0, 1, 2, 2)  # empty batch is fine


@pytest.mark.parametrize(
    "kwargs, error, names",
    [
        (dict(kernel_size=0), ValueError, "kernel_size"),
        (dict(kernel_size=2.0), TypeError, "kernel_size"),
        (dict(kernel_size=(2, 2, 2)), TypeError, "kernel_size"),
        (dict(kernel_size=2, stride=0), ValueError, "stride"),
        (dict(kernel_size=2, padding=-1), ValueError, "padding"),
        (dict(kernel_size=2, padding=2), ValueError, r"padding \(2, 2\) must be at most half"),
        (dict(kernel_size=3, padding=2, dilation=2), ValueError, "padding"),
        (dict(kernel_size=2, dilation=0), ValueError, "dilation"),
        (dict(kernel_size=5), ValueError, "kernel_size"),
    ],
)
def test_max_pool2d_errors_name_the_argument(kwargs, error, names):
    with pytest.raises(error, match=names):
        max_pool2d(np.ones((1, 1, 4, 4)), **kwargs)


@pytest.mark.parametrize("shape", [(4, 4), (1, 1, 1, 4, 4), (1, 0, 4, 4), (0, 4, 4)])
def test_max_pool2d_rejects_bad_input_shapes(shape):
    with pytest.raises(ValueError, match="input"):
        max_pool2d(np.ones(shape), 2)


def test_max_pool2d_rejects_non_numeric_input():
    with pytest.raises(TypeError, match="input"):
        max_pool2d(np.array([[["a"]]]), 1)


# --- max_unpool2d -------------------------------------------------------------------------


@st.composite
def unpool_output_sizes(draw, default, stride, n, c):
    """None, or a valid output_size in the 2- or 4-element form."""
    if draw(st.booleans()):
        return None
    size = tuple(
        draw(st.integers(d - s + 1, d + s - 1)) for d, s in zip(default, stride, strict=True)
    )
    return (n, c, *size) if draw(st.booleans()) else list(size)


@settings(max_examples=150, deadline=None)
@given(images(max_size=8), pool_args(), st.data())
def test_pool_then_unpool_matches_pytorch(x, kwargs, data):
    """Unpooling PyTorch's own switches, at any output size it allows, gives PyTorch's result."""
    tx = torch.from_numpy(x)
    assume(raises(F.max_pool2d, tx, **kwargs) is None)
    pooled, idx = F.max_pool2d(tx, **kwargs, return_indices=True)
    # Unpooling takes the pooling's kernel_size, stride and padding (no dilation, ceil_mode).
    unpool_kwargs = {name: kwargs[name] for name in ("kernel_size", "stride", "padding")}
    stride = kwargs["stride"] or kwargs["kernel_size"]
    pooled_size, padding, kernel = pooled.shape[-2:], kwargs["padding"], kwargs["kernel_size"]
    default = [
        (n - 1) * s - 2 * p + k
        for n, s, p, k in zip(pooled_size, stride, padding, kernel, strict=True)
    ]
    size = data.draw(unpool_output_sizes(default, stride, *pooled.shape[:2]))
    expected = raises(F.max_unpool2d, pooled, idx, **unpool_kwargs, output_size=size)
    got = raises(max_unpool2d, pooled.numpy(), idx.numpy(), **unpool_kwargs, output_size=size)
    assert (got is None) == (expected is None), f"ours: {got!r}, PyTorch: {expected!r}"
    if expected is None:
        out = max_unpool2d(pooled.numpy(), idx.numpy(), **unpool_kwargs, output_size=size)
        assert out.dtype == x.dtype
        expected = F.max_unpool2d(pooled, idx, **unpool_kwargs, output_size=size)
        np.testing.assert_array_equal(out, expected.numpy())  # NaNs in place count as equal


@settings(max_examples=100, deadline=None)
@given(
    shape=st.tuples(st.integers(0, 2), st.integers(1, 3), st.integers(1, 5), st.integers(1, 5)),
    kernel=pairs(st.integers(1, 4), st.integers(1, 4)),
    stride=st.none() | pairs(st.integers(1, 3), st.integers(1, 3)),
    padding=pairs(st.integers(0, 2), st.integers(0, 2)),
    duplicates=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_unpool_random_indices_matches_pytorch(shape, kernel, stride, padding, duplicates, seed):
    """Any in-range indices, repeated ones too (then the last write wins, as with one thread)."""
    rng = np.random.default_rng(seed)
    s = stride or kernel
    size = [
        (n - 1) * si - 2 * p + k for n, si, p, k in zip(shape[2:], s, padding, kernel, strict=True)
    ]
    plane = size[0] * size[1]
    assume(min(size) >= 1 and plane >= (1 if duplicates else shape[2] * shape[3]))
    x = rng.standard_normal(shape)
    planes = shape[0] * shape[1]
    if duplicates:
        idx = rng.integers(0, plane, size=shape)
    else:
        idx = [rng.permutation(plane)[: shape[2] * shape[3]] for _ in range(planes)]
        idx = np.reshape(idx, shape).astype(np.int64)
    with torch_single_thread():
        expected = F.max_unpool2d(
            torch.from_numpy(x), torch.from_numpy(idx), kernel, stride, padding
        ).numpy()
    np.testing.assert_array_equal(max_unpool2d(x, idx, kernel, stride, padding), expected)


@settings(max_examples=150, deadline=None)
@given(
    shape=st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 4), st.integers(0, 4)),
    unbatched=st.booleans(),
    kernel=pairs(st.integers(1, 3), st.integers(1, 3)),
    stride=st.none() | pairs(st.integers(1, 3), st.integers(1, 3)),
    padding=pairs(st.integers(0, 3), st.integers(0, 3)),
    output_size=st.none() | st.lists(st.integers(-2, 12), min_size=1, max_size=5),
    index_range=pairs(st.integers(-3, 0), st.integers(0, 40)),
    index_shape_ok=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_max_unpool2d_raises_exactly_when_pytorch_does(
    shape, unbatched, kernel, stride, padding, output_size, index_range, index_shape_ok, seed
):
    """Over sizes, output sizes and indices, valid or not, we raise iff PyTorch raises."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape[1:] if unbatched else shape)
    idx_shape = x.shape if index_shape_ok else x.shape[:-1] + (x.shape[-1] + 1,)
    idx = rng.integers(index_range[0], index_range[1] + 1, size=idx_shape)
    args = (kernel, stride, padding, output_size)
    with torch_single_thread():
        expected = raises(F.max_unpool2d, torch.from_numpy(x), torch.from_numpy(idx), *args)
    got = raises(max_unpool2d, x, idx, *args)
    assert got is None or isinstance(got, (ValueError, TypeError)), repr(got)
    assert (got is None) == (expected is None), f"ours: {got!r}, PyTorch: {expected!r}"


def test_unpool_output_size_picks_the_shape_only():
    """output_size (5, 5) from a 2x2 pool of 4x4: same indices, wider planes."""
    x = np.array([[[[6.0, 8.0], [14.0, 16.0]]]])
    idx = np.array([[[[5, 7], [13, 15]]]])
    out = max_unpool2d(x, idx, 2, output_size=(1, 1, 5, 5))
    assert out.shape == (1, 1, 5, 5)
    np.testing.assert_array_equal(out.ravel()[[5, 7, 13, 15]], [6, 8, 14, 16])
    assert out.sum() == 44


def test_unpool_empty_output_like_pytorch():
    """A zero-sized output plane is allowed (PyTorch then ignores the indices)."""
    out = max_unpool2d(np.ones((1, 1, 1, 1)), np.array([[[[3]]]]), 2, padding=1)
    assert out.shape == (1, 1, 0, 0)


def test_unpool_dtypes_and_unbatched_input():
    x = np.array([[[6, 8], [14, 16]]])
    idx = np.array([[[5, 7], [13, 15]]], dtype=np.int32)
    out = max_unpool2d(x, idx, 2)
    assert out.shape == (1, 4, 4) and out.dtype == np.float64
    assert max_unpool2d(x.astype(np.float32), idx, 2).dtype == np.float32


def test_unpool_is_stricter_than_pytorch_about_hyperparameters():
    """PyTorch accepts kernel_size 0, stride 0 or negative padding here; they mean nothing."""
    x, idx = np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 2), dtype=np.int64)
    for kwargs, name in (
        (dict(kernel_size=0, stride=1), "kernel_size"),
        (dict(kernel_size=2, stride=0), "stride"),
        (dict(kernel_size=2, padding=-1), "padding"),
    ):
        assert raises(F.max_unpool2d, torch.from_numpy(x), torch.from_numpy(idx), **kwargs) is None
        with pytest.raises(ValueError, match=name):
            max_unpool2d(x, idx, **kwargs)


@pytest.mark.parametrize(
    "kwargs, indices, error, message",
    [
        (
            dict(output_size=(7, 7)),
            None,
            ValueError,
            r"output_size \(7, 7\) must lie strictly between \(2, 2\) and \(6, 6\)",
        ),
        (dict(output_size=(1, 5, 5)), None, ValueError, "output_size"),
        (dict(output_size=5), None, TypeError, "output_size"),
        (dict(output_size=(4.0, 4.0)), None, TypeError, "output_size"),
        (dict(padding=3), None, ValueError, "output size"),
        ({}, [[[[5, 7], [13, 16]]]], ValueError, "indices contains 16"),
        ({}, [[[[5, 7], [-1, 15]]]], ValueError, "indices contains -1"),
        ({}, [[[[5, 7]]]], ValueError, "indices must have the shape of input"),
        ({}, [[[[5.0, 7.0], [13.0, 15.0]]]], TypeError, "indices must hold integers"),
        (dict(kernel_size=(2, 2, 2)), None, TypeError, "kernel_size"),
    ],
)
def test_max_unpool2d_errors_name_the_argument(kwargs, indices, error, message):
    x = np.array([[[[6.0, 8.0], [14.0, 16.0]]]])
    idx = np.array(indices if indices is not None else [[[[5, 7], [13, 15]]]])
    kwargs = {"kernel_size": 2, **kwargs}
    with pytest.raises(error, match=message):
        max_unpool2d(x, idx, **kwargs)


def test_docstring_examples_run():
    module = importlib.import_module("upsampling.pooling")
    assert doctest.testmod(module, extraglobs={"np": np}).failed == 0
