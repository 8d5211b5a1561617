"""interpolate (nearest, nearest-exact, bilinear) against PyTorch: sizes, indices, errors."""

import doctest
import importlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from upsampling.interpolate import interpolate, linear_source_weights, nearest_source_index

# Non-integer factors matter: then 1/scale_factor and in/out differ.
SCALES = [0.5, 0.7, 1.0, 1.2, 1.5, 2.0, 2.1, 2.3, 2.5, 2.6, 3.0, 1 / 3, 3.7]
TOL = {np.float32: dict(rtol=1e-6, atol=1e-6), np.float64: dict(rtol=1e-13, atol=1e-13)}


def raises(fn, *args, **kwargs):
    """The exception ``fn`` raises, or None."""
    try:
        fn(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - PyTorch raises RuntimeError, NotImplementedError, ...
        return exc
    return None


@st.composite
def resize_cases(draw, mode):
    """An input and valid size / scale_factor arguments for ``mode``."""
    dims = 2 if mode == "bilinear" else draw(st.integers(1, 3))
    max_in, max_out = (12, 30) if dims < 3 else (5, 12)
    if draw(st.booleans()):
        kwargs = dict(
            size=draw(
                st.integers(1, max_out) | st.tuples(*(st.integers(1, max_out) for _ in range(dims)))
            )
        )
        min_in = [1] * dims
    else:
        factor = st.sampled_from(SCALES)
        scale_factor = draw(factor | st.tuples(*(factor for _ in range(dims))))
        recompute = draw(st.sampled_from([None, False, True]))
        kwargs = dict(scale_factor=scale_factor, recompute_scale_factor=recompute)
        # the smallest input size that the factor does not shrink to nothing
        min_in = [int(np.ceil(1 / f - 1e-9)) for f in np.broadcast_to(scale_factor, dims)]
    if mode == "bilinear":
        kwargs["align_corners"] = draw(st.sampled_from([None, False, True]))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    shape = (
        draw(st.integers(1, 2)),
        draw(st.integers(1, 3)),
        *(draw(st.integers(lo, max(lo, max_in))) for lo in min_in),
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal(shape).astype(dtype), kwargs


def torch_interpolate(x, **kwargs):
    return F.interpolate(torch.from_numpy(x), **kwargs).numpy()


# --- worked examples (docs/worked-examples.md, hand-checked) ------------------------------


def test_worked_example_bilinear_times_two():
    """[[1,2],[3,4]] x2: first row [1, 1.25, 1.75, 2], or [1, 4/3, 5/3, 2] with align_corners."""
    x = np.array([[[[1, 2], [3, 4]]]])
    row = interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)[0, 0, 0]
    np.testing.assert_array_equal(row, [1, 1.25, 1.75, 2])
    row = interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)[0, 0, 0]
    np.testing.assert_allclose(row, [1, 4 / 3, 5 / 3, 2], rtol=1e-15)


# --- against PyTorch ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_nearest_matches_pytorch_exactly(mode, data):
    """1 to 3 spatial dims, sizes or (non-integer) scale factors, float32 and float64."""
    x, kwargs = data.draw(resize_cases(mode))
    got = interpolate(x, mode=mode, **kwargs)
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(got, torch_interpolate(x, mode=mode, **kwargs))


@settings(max_examples=150, deadline=None)
@given(resize_cases("bilinear"))
def test_bilinear_matches_pytorch(case):
    """Same indices as PyTorch; values equal up to rounding (a few units in the last place)."""
    x, kwargs = case
    got = interpolate(x, mode="bilinear", **kwargs)
    expected = torch_interpolate(x, mode="bilinear", **kwargs)
    assert got.dtype == x.dtype and got.shape == expected.shape
    np.testing.assert_allclose(got, expected, **TOL[x.dtype.type])


@settings(max_examples=150, deadline=None)
@given(
    shape=st.lists(st.integers(0, 4), min_size=2, max_size=6),
    mode=st.sampled_from(["nearest", "nearest-exact", "bilinear", "bogus"]),
    size=st.none() | st.integers(-1, 6) | st.lists(st.integers(-1, 6), min_size=1, max_size=4),
    scale_factor=st.none()
    | st.sampled_from([-1.0, 0.0, 0.2, *SCALES])
    | st.lists(st.sampled_from([0.0, 0.3, 1.5, 2.0]), min_size=1, max_size=4),
    align_corners=st.sampled_from([None, False, True]),
    recompute_scale_factor=st.sampled_from([None, False, True]),
)
def test_interpolate_raises_exactly_when_pytorch_does(
    shape, mode, size, scale_factor, align_corners, recompute_scale_factor
):
    """Over a wide range, valid or not, we raise ValueError/TypeError iff PyTorch raises."""
    x = np.ones(shape, dtype=np.float32)
    kwargs = dict(
        size=size,
        scale_factor=scale_factor,
        mode=mode,
        align_corners=align_corners,
        recompute_scale_factor=recompute_scale_factor,
    )
    expected = raises(F.interpolate, torch.from_numpy(x), **kwargs)
    got = raises(interpolate, x, **kwargs)
    assert got is None or isinstance(got, (ValueError, TypeError)), repr(got)
    assert (got is None) == (expected is None), f"ours: {got!r}, PyTorch: {expected!r}"


# --- the index arithmetic, case by case ----------------------------------------------------


def test_scale_factor_is_used_as_the_coordinate_step():
    """3 -> 6 by scale_factor 2.3: 1/2.3 steps, unlike size=6 or recompute_scale_factor."""
    x = np.arange(3.0).reshape(1, 1, 3)
    by_factor = interpolate(x, scale_factor=2.3)
    np.testing.assert_array_equal(by_factor[0, 0], [0, 0, 0, 1, 1, 2])
    np.testing.assert_array_equal(interpolate(x, size=6)[0, 0], [0, 0, 1, 1, 2, 2])
    recomputed = interpolate(x, scale_factor=2.3, recompute_scale_factor=True)
    np.testing.assert_array_equal(recomputed, interpolate(x, size=6))
    for kwargs in (
        dict(scale_factor=2.3),
        dict(size=6),
        dict(scale_factor=2.3, recompute_scale_factor=True),
    ):
        np.testing.assert_array_equal(interpolate(x, **kwargs), torch_interpolate(x, **kwargs))


def test_two_dimensional_nearest_special_cases_like_pytorch():
    """PyTorch's 2-D nearest kernel copies equal sizes and halves indices for doubled ones,
    whatever the scale_factor; its 1-D and 3-D kernels do not."""
    for dims in (1, 2, 3):
        for n, factor in ((3, 2.1), (2, 1.2)):  # 3 -> 6 (doubled) and 2 -> 2 (equal)
            x = np.arange(float(n)).reshape((1, 1) + (1,) * (dims - 1) + (n,))
            got = interpolate(x, scale_factor=factor)
            np.testing.assert_array_equal(got, torch_interpolate(x, scale_factor=factor))
    x = np.arange(3.0).reshape(1, 1, 1, 3)
    np.testing.assert_array_equal(interpolate(x, scale_factor=2.1)[0, 0, 0], [0, 0, 1, 1, 2, 2])


def test_nearest_index_is_computed_in_float32():
    """16 -> 41 by 2.6: output 39 maps to 39/2.6 = 15, which float64 rounds to 14.99...

    PyTorch computes floorf(39 * (float)(1/2.6)) in float32 and gets 15."""
    idx = nearest_source_index(16, 41, scale_factor=2.6)
    assert idx[39] == 15
    assert np.floor(39 * (1 / 2.6)) == 14  # what float64 arithmetic would give
    x = np.arange(16.0).reshape(1, 1, 16)
    np.testing.assert_array_equal(idx, torch_interpolate(x, scale_factor=2.6)[0, 0])


def test_nearest_versus_nearest_exact():
    """3 -> 4: pixel corners (0, 0, 1, 2) against pixel centres (0, 1, 1, 2)."""
    np.testing.assert_array_equal(nearest_source_index(3, 4), [0, 0, 1, 2])
    np.testing.assert_array_equal(nearest_source_index(3, 4, exact=True), [0, 1, 1, 2])
    x = np.arange(3.0).reshape(1, 1, 3)
    for mode, expected in (("nearest", [0, 0, 1, 2]), ("nearest-exact", [0, 1, 1, 2])):
        np.testing.assert_array_equal(interpolate(x, size=4, mode=mode)[0, 0], expected)
        np.testing.assert_array_equal(torch_interpolate(x, size=4, mode=mode)[0, 0], expected)


def test_bilinear_weights_clamp_at_the_borders():
    """align_corners=False, 2 -> 4: coordinates (-0.25, 0.25, 0.75, 1.25) clamp to [0, 1]."""
    i0, i1, w0, w1 = linear_source_weights(2, 4, align_corners=False)
    np.testing.assert_array_equal(i0, [0, 0, 0, 1])
    np.testing.assert_array_equal(i1, [1, 1, 1, 1])  # no pixel right of the last one
    np.testing.assert_array_equal(w0 + w1, np.ones(4))
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(w0 * x[i0] + w1 * x[i1], [1, 1.25, 1.75, 2])


@pytest.mark.parametrize("align_corners", [False, True])
def test_bilinear_to_a_single_pixel(align_corners):
    """Output size 1: the centre (align_corners=False) or the first pixel (True), as PyTorch."""
    x = np.arange(20.0).reshape(1, 1, 4, 5)
    kwargs = dict(size=1, mode="bilinear", align_corners=align_corners)
    np.testing.assert_allclose(interpolate(x, **kwargs), torch_interpolate(x, **kwargs))


def test_dtypes_and_empty_batch():
    x = np.arange(4).reshape(1, 1, 2, 2)
    assert interpolate(x, scale_factor=2).dtype == np.float64
    assert interpolate(x.astype(np.float32), scale_factor=2, mode="bilinear").dtype == np.float32
    assert interpolate(np.ones((0, 2, 3, 3)), size=5).shape == (0, 2, 5, 5)
    assert interpolate(np.ones((1, 1, 2, 2, 2)), scale_factor=1.5).shape == (1, 1, 3, 3, 3)


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, kwargs, error, message",
    [
        ((1, 1, 2, 2), dict(size=4, scale_factor=2), ValueError, "only one of size"),
        ((1, 1, 2, 2), dict(), ValueError, "either size or scale_factor"),
        (
            (1, 1, 2, 2),
            dict(size=4, align_corners=True),
            ValueError,
            r"align_corners \(True\) option can only be set with the interpolating modes",
        ),
        (
            (1, 1, 2, 2),
            dict(size=4, mode="bicubic"),
            ValueError,
            "mode 'bicubic' is not one of 'nearest', 'nearest-exact', 'bilinear'",
        ),
        ((1, 1, 2), dict(size=4, mode="bilinear"), ValueError, "mode 'bilinear' needs a 4-D"),
        ((1, 1, 2, 2, 2), dict(size=4, mode="bilinear"), ValueError, "bilinear"),
        ((2, 2), dict(size=4), ValueError, "input"),
        ((1, 1, 1, 1, 1, 1), dict(size=4), ValueError, "input"),
        ((1, 0, 2, 2), dict(size=4), ValueError, "input"),
        ((1, 1, 0, 2), dict(size=4), ValueError, "input"),
        ((1, 1, 2, 2), dict(size=0), ValueError, r"size \(0, 0\) must be positive"),
        ((1, 1, 2, 2), dict(size=(4, -1)), ValueError, "size"),
        ((1, 1, 2, 2), dict(size=(4, 4, 4)), ValueError, "size"),
        ((1, 1, 2, 2), dict(size=4.0), TypeError, "size"),
        ((1, 1, 2, 2), dict(size=(4.0, 4)), TypeError, "size"),
        ((1, 1, 2, 2), dict(scale_factor=0.3), ValueError, "scale_factor"),
        ((1, 1, 2, 2), dict(scale_factor=-2), ValueError, "scale_factor"),
        ((1, 1, 2, 2), dict(scale_factor=float("inf")), ValueError, "scale_factor"),
        ((1, 1, 2, 2), dict(scale_factor=(2, 2, 2)), ValueError, "scale_factor"),
        ((1, 1, 2, 2), dict(scale_factor="2"), TypeError, "scale_factor"),
        (
            (1, 1, 2, 2),
            dict(size=4, recompute_scale_factor=True),
            ValueError,
            "recompute_scale_factor",
        ),
        ((1, 1, 2, 2), dict(size=4, mode="bilinear", align_corners=1), TypeError, "align_corners"),
        ((1, 1, 2, 2), dict(size=4, antialias=True), ValueError, "antialias"),
        (
            (1, 1, 2, 2),
            dict(size=4, mode="bilinear", antialias=True),
            NotImplementedError,
            "antialias",
        ),
    ],
)
def test_interpolate_errors_name_the_argument(shape, kwargs, error, message):
    with pytest.raises(error, match=message):
        interpolate(np.ones(shape), **kwargs)


def test_docstring_examples_run():
    module = importlib.import_module("upsampling.interpolate")
    assert doctest.testmod(module, extraglobs={"np": np}).failed == 0
