"""The checking helper: its verdicts, its messages, and the misconceptions it recognises.

Each recognised misconception has a deliberately wrong implementation here, written the
way a student would get it wrong, run on a real case of the reference data; it must fail
and get its hint. Correct answers must pass without a hint, and answers that are wrong in
no recognised way must get no hint.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from upsampling.assignments import ASSIGNMENTS
from upsampling.checking import (
    HINTS,
    CheckResult,
    Unrepresentable,
    case_arguments,
    check_cases,
    check_output,
    expected_output,
    load_reference,
    run_case,
)


def pair(value):
    return tuple(value) if isinstance(value, list | tuple) else (value, value)


def case_of(assignment, grade_id, name):
    manifest, reference = load_reference(assignment)
    test = manifest["tests"][grade_id]
    case = next(c for c in test["cases"] if c["name"] == name)
    return dict(case, function=test["function"]), reference


def verdict(function, assignment, grade_id, name) -> CheckResult:
    case, reference = case_of(assignment, grade_id, name)
    return run_case(function, case, reference)


def hint_of(key: str) -> str:
    """The first words of a hint, as they appear in a (wrapped) message."""
    return " ".join(HINTS[key].split()[:4])


def assert_hint(result: CheckResult, key: str) -> None:
    assert not result.passed
    flat = " ".join(result.message.split())
    assert "Likely cause: " + hint_of(key) in flat, result.message
    assert result.misconception == key  # the stable name the autograder records


def assert_no_hint(result: CheckResult) -> None:
    assert not result.passed
    assert "Likely cause" not in result.message, result.message
    assert result.misconception is None


# ---------------------------------------------------------------------------------------
# Correct transposed convolutions and the classic ways to get them wrong


def scatter(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """A correct conv_transpose2d (NCHW), by scatter-add."""
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    oh, ow = pair(output_padding)
    n, _, h, w = input.shape
    _, c_out, kh, kw = weight.shape
    full = np.zeros((n, c_out, (h - 1) * sh + kh + oh, (w - 1) * sw + kw + ow))
    for i in range(h):
        for j in range(w):
            copies = np.tensordot(input[:, :, i, j], weight, axes=(1, 0))
            full[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw] += copies
    out = full[:, :, ph : full.shape[2] - ph, pw : full.shape[3] - pw]
    return out if bias is None else out + bias[None, :, None, None]


def zero_insertion_unflipped(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Zero insertion and padding right, then the kernel slid *without* flipping it."""
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    oh, ow = pair(output_padding)
    n, c_in, h, w = input.shape
    _, c_out, kh, kw = weight.shape
    z = np.zeros((n, c_in, (h - 1) * sh + 1, (w - 1) * sw + 1))
    z[:, :, ::sh, ::sw] = input
    z = np.pad(
        z, ((0, 0), (0, 0), (kh - 1 - ph, kh - 1 - ph + oh), (kw - 1 - pw, kw - 1 - pw + ow))
    )
    ho, wo = z.shape[2] - kh + 1, z.shape[3] - kw + 1
    out = np.zeros((n, c_out, ho, wo))
    for a in range(kh):
        for b in range(kw):
            out += np.einsum("nchw,co->nohw", z[:, :, a : a + ho, b : b + wo], weight[:, :, a, b])
    return out if bias is None else out + bias[None, :, None, None]


def full_correlation(input, weight):
    """One channel, stride 1: pads by k - 1 and correlates (no flip)."""
    kh, kw = weight.shape
    padded = np.pad(input, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    ho, wo = padded.shape[0] - kh + 1, padded.shape[1] - kw + 1
    out = np.zeros((ho, wo))
    for i in range(ho):
        for j in range(wo):
            out[i, j] = np.sum(padded[i : i + kh, j : j + kw] * weight)
    return out


def crop_padding_at_top(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Crops all 2*padding rows (columns) from the top (left)."""
    full = scatter(input, weight, bias, stride, 0, output_padding)
    ph, pw = pair(padding)
    h, w = full.shape[-2] - 2 * ph, full.shape[-1] - 2 * pw
    return full[:, :, 2 * ph : 2 * ph + h, 2 * pw : 2 * pw + w]


def crop_padding_once(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Crops `padding` from the top and the left only."""
    full = scatter(input, weight, bias, stride, 0, output_padding)
    ph, pw = pair(padding)
    return full[:, :, ph:, pw:]


def output_padding_as_zeros(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Computes without output_padding, then appends zero rows and columns."""
    out = scatter(input, weight, bias, stride, padding)
    oh, ow = pair(output_padding)
    return np.pad(out, ((0, 0), (0, 0), (0, oh), (0, ow)))


def output_padding_truncated(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """A full result without room for output_padding, cropped to the right size: the slice
    silently stops at its end when output_padding > padding."""
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    oh, ow = pair(output_padding)
    full = scatter(input, weight, None, stride)
    h, w = (
        (input.shape[2] - 1) * sh - 2 * ph + weight.shape[2] + oh,
        (input.shape[3] - 1) * sw - 2 * pw + weight.shape[3] + ow,
    )
    out = full[:, :, ph : ph + h, pw : pw + w]
    return out if bias is None else out + bias[None, :, None, None]


def output_padding_at_top(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Puts the output_padding zeros at the top and the left."""
    out = scatter(input, weight, bias, stride, padding)
    oh, ow = pair(output_padding)
    return np.pad(out, ((0, 0), (0, 0), (oh, 0), (ow, 0)))


def spacing_stride_plus_one(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Inserts `stride` zeros between input values instead of stride - 1."""
    return scatter(input, weight, bias, np.add(pair(stride), 1).tolist(), padding, output_padding)


def swapped_strides(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Reads the stride pair as (s_W, s_H)."""
    sh, sw = pair(stride)
    return scatter(input, weight, bias, (sw, sh), padding, output_padding)


def spacing_stride_minus_one(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Places the copies stride - 1 apart, in an output of the right size."""
    sh, sw = pair(stride)
    ph, pw = pair(padding)
    oh, ow = pair(output_padding)
    n, _, h, w = input.shape
    _, c_out, kh, kw = weight.shape
    size = ((h - 1) * sh + kh + oh, (w - 1) * sw + kw + ow)
    full = np.zeros((n, c_out, *size))
    for i in range(h):
        for j in range(w):
            copies = np.tensordot(input[:, :, i, j], weight, axes=(1, 0))
            r, c = i * (sh - 1), j * (sw - 1)
            full[:, :, r : r + kh, c : c + kw] += copies
    return full[:, :, ph : size[0] - ph, pw : size[1] - pw]


def no_bias(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    return scatter(input, weight, None, stride, padding, output_padding)


def conv2d_weight_layout(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Reads the weight as (C_out, C_in, kH, kW)."""
    return scatter(input, weight.swapaxes(0, 1), bias, stride, padding, output_padding)


def flipped_rows_only(input, weight, bias=None, stride=1, padding=0, output_padding=0):
    """Zero insertion with the kernel flipped upside down only."""
    return zero_insertion_unflipped(
        input, weight[..., ::-1, :], bias, stride, padding, output_padding
    )


T = "03_transposed_conv"


def test_correct_transposed_convolution_passes_every_case():
    manifest, reference = load_reference(T)
    for grade_id in ("transposed-stride", "transposed-output-padding", "transposed-channels"):
        for case in manifest["tests"][grade_id]["cases"]:
            result = run_case(scatter, dict(case, function="conv_transpose2d"), reference)
            assert result.passed, result.message


@pytest.mark.parametrize(
    "wrong, grade_id, name, hint",
    [
        (zero_insertion_unflipped, "transposed-stride", "seed002-stride2", "kernel_not_flipped"),
        (
            zero_insertion_unflipped,
            "transposed-channels",
            "n1-cin2-cout5-bias-k2x4-s3",
            "kernel_not_flipped",
        ),
        (flipped_rows_only, "transposed-stride", "asym-4x3-k3x2-s2x3", "kernel_flipped_one_axis"),
        (crop_padding_at_top, "transposed-stride", "seed002-stride2-padding1", "padding_one_side"),
        (crop_padding_once, "transposed-stride", "pad1x0-5x4-k3-s2", "padding_one_side"),
        (crop_padding_at_top, "transposed-channels", "n2-cin3-cout3-s2-p1-op1", "padding_one_side"),
        (
            output_padding_as_zeros,
            "transposed-output-padding",
            "seed002-stride2-padding1-op1",
            "output_padding_zeros",
        ),
        (
            output_padding_as_zeros,
            "transposed-output-padding",
            "op1x0-4x5-k3x2-s2-p1",
            "output_padding_zeros",
        ),
        (
            output_padding_at_top,
            "transposed-output-padding",
            "seed004-k1-stride2-op1",
            "output_padding_side",
        ),
        (
            output_padding_at_top,
            "transposed-output-padding",
            "op2-3x3-k4-s3-p1",
            "output_padding_side",
        ),
        (
            output_padding_truncated,
            "transposed-output-padding",
            "seed004-k1-stride2-op1",
            "output_padding_truncated",
        ),
        (
            output_padding_truncated,
            "transposed-output-padding",
            "op0x1-4x4-k2x3-s1x2",
            "output_padding_truncated",
        ),
        (spacing_stride_plus_one, "transposed-stride", "seed002-stride2", "stride_spacing"),
        (spacing_stride_minus_one, "transposed-stride", "gaps-3x3-k2-s3", "stride_spacing"),
        (spacing_stride_plus_one, "transposed-stride", "seed004-k1-stride2", "stride_spacing"),
        (
            swapped_strides,
            "transposed-stride",
            "nonsquare-2x3-k3x2-s2x3-p1x0",
            "stride_swapped",
        ),
        (
            swapped_strides,
            "transposed-output-padding",
            "nonsquare-2x3-k2x3-s3x2-p1x0-op2x1",
            "stride_swapped",
        ),
        (
            swapped_strides,
            "transposed-channels",
            "n3-cin4-cout2-bias-s2x1-p1x0-op1x0",
            "stride_swapped",
        ),
        (no_bias, "transposed-channels", "seed002-cout2-bias-stride2", "bias_missing"),
        (conv2d_weight_layout, "transposed-channels", "n2-cin3-cout3-s2-p1-op1", "weight_layout"),
    ],
)
def test_transposed_convolution_misconceptions_get_their_hint(wrong, grade_id, name, hint):
    assert_hint(verdict(wrong, T, grade_id, name), hint)


def test_zero_insertion_view_misconceptions_get_their_hint():
    """The zero-insertion function of one channel: unflipped kernel, one axis flipped."""

    def plane(wrong):
        def function(input, weight, **kwargs):
            return wrong(input[None, None], weight[None, None], **kwargs)[0, 0]

        return function

    G = "transposed-zero-insertion"
    assert verdict(plane(scatter), T, G, "nonsquare-2x3-k2x3-s3x2-p1x0-op1x1").passed
    assert_hint(
        verdict(plane(zero_insertion_unflipped), T, G, "seed002-stride2"), "kernel_not_flipped"
    )
    assert_hint(
        verdict(plane(flipped_rows_only), T, G, "asym-4x3-k3x2-s3x2-p1"), "kernel_flipped_one_axis"
    )
    assert_hint(
        verdict(plane(output_padding_truncated), T, G, "k1-5x2-s2-op1"), "output_padding_truncated"
    )


def test_truncating_output_padding_slice_is_right_when_padding_covers_it():
    """With output_padding <= padding the same slice is correct: no hint, a pass."""
    assert verdict(
        output_padding_truncated, T, "transposed-output-padding", "seed002-stride2-padding1-op1"
    ).passed


def test_correlation_instead_of_convolution_gets_its_hint():
    for name in ("seed002", "asym-3x4-k2x3"):
        assert_hint(verdict(full_correlation, T, "transposed-scatter", name), "correlation")


def test_stride_one_flip_is_called_correlation_and_strided_flip_is_not():
    one = verdict(zero_insertion_unflipped, T, "transposed-stride", "pad0x2-3x6-k2x5-s1x2")
    assert_hint(one, "kernel_not_flipped")  # stride 2 along W: the zero-insertion view
    scatter_case = verdict(full_correlation, T, "transposed-scatter", "seed001")
    assert_hint(scatter_case, "correlation")


def test_matrix_view_misconceptions():
    def matrix(weight, input_size, stride=1, padding=0, flip=False, order="C"):
        w = weight[::-1, ::-1] if flip else weight
        h, wd = input_size
        columns = []
        for j in range(h * wd):
            basis = np.zeros(h * wd)
            basis[j] = 1
            image = basis.reshape(h, wd)
            out = scatter_conv(image, w, pair(stride), pair(padding))
            columns.append(out.ravel(order=order))
        c = np.stack(columns, axis=1)
        if order == "F":  # columns in column-major input order too
            c = c[:, np.arange(h * wd).reshape(h, wd).ravel(order="F")]
        return c

    def scatter_conv(x, w, s, p):
        xp = np.pad(x, ((p[0], p[0]), (p[1], p[1])))
        kh, kw = w.shape
        ho, wo = (xp.shape[0] - kh) // s[0] + 1, (xp.shape[1] - kw) // s[1] + 1
        return np.array(
            [
                [
                    np.sum(xp[i * s[0] : i * s[0] + kh, j * s[1] : j * s[1] + kw] * w)
                    for j in range(wo)
                ]
                for i in range(ho)
            ]
        )

    assert verdict(matrix, T, "transposed-matrix", "k3-s2-p1-5x5").passed
    flipped = verdict(
        lambda *a, **k: matrix(*a, **k, flip=True), T, "transposed-matrix", "asym-k2x3-4x5"
    )
    assert_hint(flipped, "convolution_not_correlation")
    transposed = verdict(lambda *a, **k: matrix(*a, **k).T, T, "transposed-matrix", "d2l-k2-3x3")
    assert_hint(transposed, "matrix_transposed")
    column_major = verdict(
        lambda *a, **k: matrix(*a, **k, order="F"), T, "transposed-matrix", "asym-k2x3-4x5"
    )
    assert_hint(column_major, "matrix_column_major")


# ---------------------------------------------------------------------------------------
# Other assignments' misconceptions

U = "02_unpooling"


def bilinear(input, scale_factor, align_corners=False):
    out = input
    for axis, s in zip((2, 3), pair(scale_factor), strict=True):
        n = out.shape[axis]
        i = np.arange(n * s)
        if align_corners:
            x = i * ((n - 1) / (n * s - 1)) if n * s > 1 else np.zeros(n * s)
        else:
            x = np.maximum((i + 0.5) / s - 0.5, 0.0)
        lo = np.minimum(np.floor(x).astype(int), n - 1)
        hi = np.minimum(lo + 1, n - 1)
        weight = (x - lo).reshape((-1, 1) if axis == 2 else (-1,))
        out = np.take(out, lo, axis=axis) * (1 - weight) + np.take(out, hi, axis=axis) * weight
    return out


def test_unpooling_misconceptions():
    swapped = verdict(
        lambda x, scale_factor, align_corners=False: bilinear(x, scale_factor, not align_corners),
        U,
        "unpooling-bilinear",
        "3x4-by-3",
    )
    assert_hint(swapped, "align_corners")

    def nearest(x, scale_factor, align_corners=False):
        sh, sw = pair(scale_factor)
        return x.repeat(sh, axis=2).repeat(sw, axis=3)

    assert_hint(verdict(nearest, U, "unpooling-bilinear", "2x2-by-2"), "nearest_not_bilinear")
    assert_hint(
        verdict(nearest, U, "unpooling-bed-of-nails", "3x4-by-2x3"), "bed_of_nails_is_nearest"
    )
    tiled = verdict(
        lambda x, scale_factor: np.tile(x, (1, 1, *pair(scale_factor))),
        U,
        "unpooling-nearest",
        "batch2-ch3-5x7-by-3",
    )
    assert_hint(tiled, "nearest_tiled")


def max_pool(input, kernel_size, stride=None, flat="plane"):
    kh, kw = pair(kernel_size)
    sh, sw = pair(kernel_size if stride is None else stride)
    n, c, h, w = input.shape
    ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
    values = np.empty((n, c, ho, wo))
    indices = np.empty((n, c, ho, wo), dtype=np.int64)
    for i in range(ho):
        for j in range(wo):
            window = input[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw].reshape(n, c, -1)
            best = window.argmax(axis=2)
            values[:, :, i, j] = window.max(axis=2)
            row, col = np.divmod(best, kw)
            indices[:, :, i, j] = (i * sh + row) * w + (j * sw + col)
            if flat == "window":
                indices[:, :, i, j] = best
    if flat == "array":
        indices = indices + (np.arange(n * c).reshape(n, c, 1, 1) * h * w)
    return values, indices


def test_max_pool_indices_misconceptions():
    assert verdict(max_pool, U, "unpooling-max-pool", "overlap-7x9-k3-s2").passed
    local = verdict(
        lambda *a, **k: max_pool(*a, **k, flat="window"),
        U,
        "unpooling-max-pool",
        "overlap-7x9-k3-s2",
    )
    assert_hint(local, "indices_in_window")
    whole = verdict(
        lambda *a, **k: max_pool(*a, **k, flat="array"),
        U,
        "unpooling-max-pool",
        "batch2-ch3-6x8-k2",
    )
    assert_hint(whole, "indices_whole_array")


C = "04_checkerboard"


def resize_conv(input, weight, bias=None, scale_factor=2, padding=0, flip=False, late=False):
    sh, sw = pair(scale_factor)
    w = weight[..., ::-1, ::-1] if flip else weight
    kh, kw = w.shape[-2:]

    def up(x):
        return x.repeat(sh, axis=2).repeat(sw, axis=3)

    def conv(x):
        if padding == "same":
            rows = ((kh - 1) // 2, kh - 1 - (kh - 1) // 2)
            cols = ((kw - 1) // 2, kw - 1 - (kw - 1) // 2)
        else:
            ph, pw = pair(padding)
            rows, cols = (ph, ph), (pw, pw)
        xp = np.pad(x, ((0, 0), (0, 0), rows, cols))
        ho, wo = xp.shape[2] - kh + 1, xp.shape[3] - kw + 1
        out = np.zeros((x.shape[0], w.shape[0], ho, wo))
        for a in range(kh):
            for b in range(kw):
                out += np.einsum("nchw,oc->nohw", xp[:, :, a : a + ho, b : b + wo], w[:, :, a, b])
        return out if bias is None else out + bias[None, :, None, None]

    return up(conv(input)) if late else conv(up(input))


def test_resize_convolution_misconceptions():
    assert verdict(resize_conv, C, "checkerboard-resize-conv-same", "even-k4-same").passed
    flipped = verdict(
        lambda *a, **k: resize_conv(*a, **k, flip=True),
        C,
        "checkerboard-resize-conv",
        "2x2-by2-k2-p0",
    )
    assert_hint(flipped, "convolution_not_correlation")
    late = verdict(
        lambda *a, **k: resize_conv(*a, **k, late=True),
        C,
        "checkerboard-resize-conv-same",
        "k2x3-bias-same",
    )
    assert_hint(late, "conv_then_resize")


def score(x, stride, border=0, absolute=True, ddof=0, crop=True):
    sh, sw = pair(stride)
    bh, bw = pair(border)
    if crop:
        x = x[..., bh : x.shape[-2] - bh, bw : x.shape[-1] - bw]
        x = x[..., : x.shape[-2] // sh * sh, : x.shape[-1] // sw * sw]
    scale = np.abs(x).mean() if absolute else x.mean()
    if scale == 0:
        return 0.0
    means = np.array([[x[..., a::sh, b::sw].mean() for b in range(sw)] for a in range(sh)])
    return float(means.std(ddof=ddof) / scale)


def test_checkerboard_score_misconceptions():
    assert verdict(score, C, "checkerboard-score", "nchw-2x3x9x10-s2-border1").passed
    no_abs = verdict(
        lambda *a, **k: score(*a, **k, absolute=False),
        C,
        "checkerboard-score",
        "nchw-2x3x9x10-s2-border1",
    )
    assert_hint(no_abs, "score_no_abs")
    ddof = verdict(lambda *a, **k: score(*a, **k, ddof=1), C, "checkerboard-score", "tile-1224-s2")
    assert_hint(ddof, "score_ddof")
    no_crop = verdict(
        lambda *a, **k: score(*a, **k, crop=False), C, "checkerboard-score", "11x13-s3-border2"
    )
    assert_hint(no_crop, "score_no_crop")


def test_phase_sums_and_icnr_pass_and_tiled_icnr_gets_its_hint():
    def phase_sums(weight, stride):
        sh, sw = pair(stride)
        return np.array([[weight[a::sh, b::sw].sum() for b in range(sw)] for a in range(sh)])

    for name in ("tent-k3-s2", "nonsquare-k2x3-s2x3", "gaps-k1-s2", "k4x5-s3x2"):
        assert verdict(phase_sums, C, "checkerboard-phase-sums", name).passed, name
    for name in ("cout2-cin3-k2x3-r2", "cout3-cin2-k3-r3"):
        repeated = verdict(
            lambda w, upscale_factor: np.repeat(w, upscale_factor**2, axis=0),
            C,
            "checkerboard-icnr",
            name,
        )
        assert repeated.passed, repeated.message
        tiled = verdict(
            lambda w, upscale_factor: np.tile(w, (upscale_factor**2, 1, 1, 1)),
            C,
            "checkerboard-icnr",
            name,
        )
        assert_hint(tiled, "icnr_tiled")
    # one output channel: tiling and repeating agree, and pass
    single = verdict(
        lambda w, upscale_factor: np.tile(w, (upscale_factor**2, 1, 1, 1)),
        C,
        "checkerboard-icnr",
        "cout1-cin1-k3-r2",
    )
    assert single.passed


def polyphase(subkernel=None, flip=False, crop_phases=False):
    """A transposed convolution of one plane by phases, written as a student would, with
    the sub-kernels ``subkernel(weight, a, b, sh, sw)`` (default: the right, strided
    ones), each phase a correlation when ``flip``, each phase cropped when ``crop_phases``."""

    def strided(weight, a, b, sh, sw):
        return weight[a::sh, b::sw]

    def run(input, weight, stride=1, padding=0):
        sh, sw = pair(stride)
        ph, pw = pair(padding)
        h, w = input.shape
        phases = {}
        for a in range(sh):
            for b in range(sw):
                sub = (subkernel or strided)(weight, a, b, sh, sw)
                if flip:
                    sub = sub[::-1, ::-1]
                ka, kb = sub.shape
                phase = np.zeros((h + ka - 1, w + kb - 1))
                for i in range(h):
                    for j in range(w):
                        phase[i : i + ka, j : j + kb] += input[i, j] * sub
                if crop_phases:
                    phase = phase[ph : phase.shape[0] - ph, pw : phase.shape[1] - pw]
                phases[a, b] = phase
        rows = sum(phases[a, 0].shape[0] for a in range(sh))
        cols = sum(phases[0, b].shape[1] for b in range(sw))
        full = np.zeros((rows, cols))
        for (a, b), phase in phases.items():
            full[a::sh, b::sw] = phase
        if crop_phases:
            return full
        return full[ph : full.shape[0] - ph, pw : full.shape[1] - pw]

    return run


POLYPHASE_CASES = [
    "seed002-k3-s2",
    "d2l-k2-s2",
    "nonsquare-2x3-k3x4-s2x3-p1x0",
    "4x5-k5x4-s3x2",
    "gaps-3x3-k1-s2",
    "5x4-k4-s2-p1",
    "3x4-k3x2-s1",
    "2x3-k2x5-s3-p0x2",
    "4x2-k5-s2x3-p2",
]


@pytest.mark.parametrize("name", POLYPHASE_CASES)
def test_polyphase_answer_passes_every_case(name):
    result = verdict(polyphase(), C, "checkerboard-polyphase", name)
    assert result.passed, result.message


def test_polyphase_misconceptions_get_their_hints():
    def blocks(weight, a, b, sh, sw):
        bh, bw = weight.shape[0] // sh, weight.shape[1] // sw
        return weight[a * bh : (a + 1) * bh, b * bw : (b + 1) * bw]

    G = "checkerboard-polyphase"
    assert_hint(verdict(polyphase(blocks), C, G, "5x4-k4-s2-p1"), "subkernel_blocks")
    assert_hint(verdict(polyphase(flip=True), C, G, "seed002-k3-s2"), "phase_not_flipped")
    assert_hint(verdict(polyphase(flip=True), C, G, "4x5-k5x4-s3x2"), "phase_not_flipped")
    cropped = verdict(polyphase(crop_phases=True), C, G, "5x4-k4-s2-p1")
    assert_hint(cropped, "phase_padding")
    assert_hint(
        verdict(polyphase(crop_phases=True), C, G, "nonsquare-2x3-k3x4-s2x3-p1x0"), "phase_padding"
    )
    # the transposed convolution's own mistakes are recognised here too
    swapped = verdict(
        lambda input, weight, stride=1, padding=0: polyphase()(
            input, weight, pair(stride)[::-1], padding
        ),
        C,
        G,
        "4x5-k5x4-s3x2",
    )
    assert_hint(swapped, "stride_swapped")
    # a stride-1 case has one phase: a correlation there is the plain "correlation"
    assert_hint(verdict(polyphase(flip=True), C, G, "3x4-k3x2-s1"), "correlation")


def test_polyphase_wrong_in_no_known_way_gets_no_hint():
    def doubled(input, weight, stride=1, padding=0):
        return 2 * polyphase()(input, weight, stride, padding)

    assert_no_hint(verdict(doubled, C, "checkerboard-polyphase", "seed002-k3-s2"))


S = "01_sizes"


def test_size_misconceptions():
    def ceil_size(input_size, kernel_size, stride=1, padding=0, dilation=1):
        return -(-(input_size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride) + 1

    assert_hint(verdict(ceil_size, S, "sizes-conv", "floor-9-k4-s2-p1"), "size_ceil")

    def no_dilation(input_size, kernel_size, stride=1, padding=0, dilation=1):
        return (input_size + 2 * padding - kernel_size) // stride + 1

    assert_hint(verdict(no_dilation, S, "sizes-conv-dilation", "dilation2-7-k3"), "size_dilation")

    def m_plus_k(input_size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1):
        return (input_size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + 2

    assert_hint(verdict(m_plus_k, S, "sizes-transpose", "seed002-2-k3"), "size_m_plus_k")

    def forgets_output_padding(
        input_size, kernel_size, stride=1, padding=0, output_padding=0, dilation=1
    ):
        return (input_size - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + 1

    assert_hint(
        verdict(
            forgets_output_padding, S, "sizes-transpose-output-padding", "chapter1-8-k3-s2-p1-op1"
        ),
        "size_output_padding",
    )

    def reversed_plan(input_size, depth, kernel_size, stride=1, padding=0):
        return [0, 1, 1][::-1]

    assert_hint(verdict(reversed_plan, S, "sizes-decoder", "100-depth3"), "decoder_order")


# ---------------------------------------------------------------------------------------
# Verdicts and messages


def test_every_reference_output_passes_its_own_check():
    for assignment in ASSIGNMENTS:
        manifest, reference = load_reference(assignment)
        for test in manifest["tests"].values():
            for case in test["cases"]:
                expected = expected_output(case, reference)
                result = check_output(case, expected, reference)
                assert result.passed, (assignment, case["name"], result.message)


def test_wrong_type_shape_dtype_and_values_are_named():
    case, reference = case_of(T, "transposed-stride", "seed002-stride2")
    expected = expected_output(case, reference)
    as_list = check_output(case, expected.tolist(), reference)
    assert not as_list.passed and "expected a numpy.ndarray, got list" in as_list.message

    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    lying = check_output(case, expected.view(Liar), reference)
    assert not lying.passed and "subclass of numpy.ndarray" in lying.message

    ints = check_output(case, expected.astype(np.int64), reference)
    assert not ints.passed and "wrong dtype" in ints.message and "int64" in ints.message

    shape = check_output(case, expected[..., :4], reference)
    assert not shape.passed
    assert "wrong shape: expected (1, 1, 5, 5), got (1, 1, 5, 4)" in shape.message

    off = expected.copy()
    off[0, 0, 3, 2] += 7
    values = check_output(case, off, reference)
    assert not values.passed
    flat = " ".join(values.message.split())
    assert "1 of 25 differ" in flat
    assert "largest error 7 at [0, 0, 3, 2]: expected 13, got 20" in flat
    assert "row 3 of 5 and column 2 of 5" in flat
    assert max(map(len, values.message.splitlines()[1:])) <= 80
    assert_no_hint(values)

    nan = expected.copy()
    nan[0, 0, 0, 0] = np.nan
    assert "not a finite number" in check_output(case, nan, reference).message

    other = check_output(case, Unrepresentable("torch.Tensor"), reference)
    assert not other.passed and "torch.Tensor" in other.message


def test_float32_is_accepted_and_small_errors_are_not_punished():
    case, reference = case_of(T, "transposed-channels", "n3-cin4-cout2-bias-s2x1-p1x0-op1x0")
    expected = expected_output(case, reference)
    assert check_output(case, expected.astype(np.float32), reference).passed
    assert check_output(case, expected + 1e-9, reference).passed
    assert not check_output(case, expected + 1e-3, reference).passed


def test_integer_results_are_exact_and_typed():
    case, reference = case_of(S, "sizes-conv", "chapter1-16-k3-s2-p1")
    for good in (8, np.int64(8), np.array(8), np.int32(8)):
        assert check_output(case, good, reference).passed, good
    for bad, words in (
        (8.0, "expected an int, got float"),
        (True, "got bool"),
        ("8", "got str"),
        (None, "got NoneType"),
    ):
        result = check_output(case, bad, reference)
        assert not result.passed and words in result.message, result.message
    assert "expected 8, got 9" in check_output(case, 9, reference).message

    plan, reference = case_of(S, "sizes-decoder", "16-depth2")
    for good in ([1, 1], (1, 1), np.array([1, 1]), [np.int64(1), 1]):
        assert check_output(plan, good, reference).passed, good
    assert "holding float" in check_output(plan, [1.0, 1], reference).message
    assert "wrong length" in check_output(plan, [1], reference).message


def test_indices_must_be_integers_and_tuples_must_be_tuples():
    case, reference = case_of(U, "unpooling-max-pool", "arange16-k2")
    values, indices = expected_output(case, reference)
    assert check_output(case, (values, indices.astype(np.int32)), reference).passed
    assert check_output(case, [values, indices], reference).passed
    floats = check_output(case, (values, indices.astype(float)), reference)
    assert not floats.passed and "output [1]: wrong dtype: expected integers" in floats.message
    single = check_output(case, values, reference)
    assert not single.passed and "expected a tuple of 2 arrays" in single.message


def test_visible_cases_show_their_arrays_and_hidden_ones_do_not():
    visible = verdict(
        lambda *a, **k: np.zeros((1, 1, 5, 5)), T, "transposed-stride", "seed002-stride2"
    )
    assert "input[0, 0] = [[2., 0.]," in visible.message
    assert "expected[0, 0] = [[ 8.,  4.,  2.,  0.,  0.]," in visible.message
    hidden = verdict(
        lambda *a, **k: np.zeros((1, 1, 8, 8)), T, "transposed-stride", "asym-4x3-k3x2-s2x3"
    )
    assert "wrong shape" in hidden.message and "input" not in hidden.message.split("\n", 1)[1]
    assert "[[" not in hidden.message


def test_student_exceptions_warnings_and_mutation():
    def not_done(*args, **kwargs):
        raise NotImplementedError()

    result = verdict(not_done, T, "transposed-stride", "seed002-stride2")
    assert not result.passed and "not implemented yet" in result.message

    def crashes(*args, **kwargs):
        return args[0][10]

    crash = verdict(crashes, T, "transposed-stride", "seed002-stride2")
    assert not crash.passed and "raised IndexError" in crash.message

    def warns_and_mutates(input, weight, **kwargs):
        warnings.warn("honest code may warn", RuntimeWarning, stacklevel=1)
        out = scatter(input, weight, **kwargs)
        np.log(np.zeros(1))  # a floating-point warning
        input[...] = 1e9
        weight[...] = -1e9
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert verdict(warns_and_mutates, T, "transposed-stride", "seed002-stride2").passed
        assert verdict(warns_and_mutates, T, "transposed-stride", "seed002-stride2").passed


def test_check_cases_reports_every_failure_and_prints_on_success(capsys):
    names = ["seed002-stride2", "seed002-stride2-padding1", "seed004-k1-stride2"]
    check_cases(scatter, T, "transposed-stride", names)
    assert capsys.readouterr().out == "transposed-stride: 3 of 3 cases pass\n"
    with pytest.raises(AssertionError) as failure:
        check_cases(zero_insertion_unflipped, T, "transposed-stride", names)
    message = str(failure.value)
    assert message.startswith("transposed-stride: 2 of 3 cases fail")
    assert "case seed002-stride2:" in message and "case seed002-stride2-padding1:" in message
    with pytest.raises(KeyError):
        check_cases(scatter, T, "transposed-stride", ["no-such-case"])


def test_case_arguments_are_fresh_copies():
    case, reference = case_of(T, "transposed-stride", "seed002-stride2")
    args, kwargs = case_arguments(case, reference)
    args[0][...] = 0
    assert reference[case["args"][0]].any()
    assert kwargs == {"stride": 2}


def test_check_output_never_raises_whatever_it_is_given():
    odd_values = [
        None,
        "text",
        b"bytes",
        -7,
        -2.5,
        True,
        [],
        [[1, 2], [3]],
        (np.zeros(2), "x"),
        {"a": 1},
        np.array("s"),
        np.array([1 + 2j]),
        np.zeros((0, 3)),
        np.zeros((2, 2), dtype=[("a", "f8")]),
        np.array([None], dtype=object),
        np.float64(1.0),
        np.array(2.0),
        np.full((1, 1, 5, 5), np.inf),
        Unrepresentable("generator"),
        list(range(10_000)),
    ]
    for assignment in ASSIGNMENTS:
        manifest, reference = load_reference(assignment)
        for test in manifest["tests"].values():
            for case in test["cases"][:2]:
                for value in odd_values:
                    result = check_output(case, value, reference)
                    assert isinstance(result, CheckResult) and not result.passed
                    assert len(result.message) < 5000
