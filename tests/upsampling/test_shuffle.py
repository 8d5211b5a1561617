"""pixel_shuffle and pixel_unshuffle against PyTorch, the index formula, and each other."""

import doctest
import importlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from upsampling.shuffle import pixel_shuffle, pixel_unshuffle


def raises(fn, *args, **kwargs):
    """The exception ``fn`` raises, or None."""
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - PyTorch raises RuntimeError
        return exc
    return None


@st.composite
def shuffle_cases(draw):
    """(x, r) with x of shape (*batch, C*r*r, H, W), 0 to 2 batch dimensions."""
    r = draw(st.integers(1, 3))
    batch = draw(st.lists(st.integers(1, 2), max_size=2))
    channels = draw(st.integers(1, 3)) * r * r
    shape = (*batch, channels, draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    return rng.standard_normal(shape).astype(dtype), r


@settings(max_examples=100, deadline=None)
@given(shuffle_cases())
def test_pixel_shuffle_and_unshuffle_match_pytorch(case):
    x, r = case
    shuffled = pixel_shuffle(x, r)
    assert shuffled.dtype == x.dtype
    np.testing.assert_array_equal(shuffled, F.pixel_shuffle(torch.from_numpy(x), r).numpy())
    np.testing.assert_array_equal(
        pixel_unshuffle(shuffled, r), F.pixel_unshuffle(torch.from_numpy(shuffled), r).numpy()
    )
    np.testing.assert_array_equal(pixel_unshuffle(shuffled, r), x)  # the inverse


def test_index_formula():
    """out[..., c, h*r + i, w*r + j] = x[..., c*r*r + i*r + j, h, w], written out as loops."""
    r, (c, h, w) = 2, (2, 3, 2)
    x = np.arange(2 * c * r * r * h * w).reshape(2, c * r * r, h, w)
    out = pixel_shuffle(x, r)
    assert out.shape == (2, c, h * r, w * r)
    for ci in range(c):
        for hi in range(h):
            for wi in range(w):
                for i in range(r):
                    for j in range(r):
                        got = out[:, ci, hi * r + i, wi * r + j]
                        np.testing.assert_array_equal(got, x[:, ci * r * r + i * r + j, hi, wi])


@settings(max_examples=150, deadline=None)
@given(
    shape=st.lists(st.integers(1, 9), min_size=1, max_size=5),
    factor=st.integers(-1, 4),
)
def test_raises_exactly_when_pytorch_does(shape, factor):
    """Non-empty inputs of any shape and any factor: we raise iff PyTorch raises."""
    x = np.ones(shape, dtype=np.float32)
    for ours, theirs in ((pixel_shuffle, F.pixel_shuffle), (pixel_unshuffle, F.pixel_unshuffle)):
        expected = raises(theirs, torch.from_numpy(x), factor)
        got = raises(ours, x, factor)
        assert got is None or isinstance(got, (ValueError, TypeError)), repr(got)
        assert (got is None) == (expected is None), f"{ours.__name__}: {got!r} / {expected!r}"


def test_empty_inputs_keep_the_shape_formula():
    """PyTorch's pixel_unshuffle returns an empty input unchanged; we apply the formula."""
    x = np.ones((0, 1, 4, 4))
    assert pixel_shuffle(np.ones((0, 4, 2, 2)), 2).shape == (0, 1, 4, 4)
    assert pixel_unshuffle(x, 2).shape == (0, 4, 2, 2)
    assert F.pixel_unshuffle(torch.from_numpy(x), 2).shape == (0, 1, 4, 4)


def test_ints_become_float64():
    assert pixel_shuffle(np.arange(4).reshape(4, 1, 1), 2).dtype == np.float64


@pytest.mark.parametrize(
    "fn, shape, factor, error, message",
    [
        (pixel_shuffle, (5, 2, 2), 2, ValueError, r"channels \(5\) must be divisible"),
        (pixel_shuffle, (4, 2), 2, ValueError, "at least 3 dimensions"),
        (pixel_shuffle, (4, 2, 2), 0, ValueError, "upscale_factor"),
        (pixel_shuffle, (4, 2, 2), 2.0, TypeError, "upscale_factor"),
        (pixel_unshuffle, (1, 3, 4), 2, ValueError, r"height and width \(3, 4\)"),
        (pixel_unshuffle, (1, 4, 5), 2, ValueError, "downscale_factor"),
        (pixel_unshuffle, (4, 4), 2, ValueError, "at least 3 dimensions"),
        (pixel_unshuffle, (1, 4, 4), -1, ValueError, "downscale_factor"),
        (pixel_unshuffle, (1, 4, 4), "2", TypeError, "downscale_factor"),
    ],
)
def test_errors_name_the_argument(fn, shape, factor, error, message):
    with pytest.raises(error, match=message):
        fn(np.ones(shape), factor)


def test_docstring_examples_run():
    module = importlib.import_module("upsampling.shuffle")
    assert doctest.testmod(module).failed == 0
