"""Misconceptions: deliberately wrong variants of each graded operation, and their hints.

A diagnosis recomputes a case with one known mistake at a time and names the mistake
whose output equals the student's exactly: it returns the mistakes' keys in
:data:`HINTS` (stable identifiers, which the autograder records and the class report
counts), and :data:`HINTS` holds the text a student reads for each. The variants are
built from the package's own operations (a wrong kernel, stride or crop fed to
:func:`conv_transpose2d`, the other ``align_corners`` of :func:`interpolate`, ...), so
that only the mistake differs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from upsampling.checking.values import as_int, as_real
from upsampling.conv import conv2d, conv_matrix
from upsampling.conv_transpose import conv_transpose2d
from upsampling.interpolate import interpolate

HINTS = {
    "correlation": (
        "correlation instead of convolution. Your output is the full cross-correlation of the "
        "input with the kernel (the kernel slid, as it is, over the input padded by "
        "kernel_size - 1). The transposed convolution is a full *convolution*: each input "
        "value scales a copy of the kernel placed at that value's position (scatter-add), "
        "which is the same as sliding the kernel rotated by 180 degrees."
    ),
    "kernel_not_flipped": (
        "kernel not flipped in the zero-insertion view. After inserting stride - 1 zeros "
        "between the input values and padding by kernel_size - 1 - padding, you must slide "
        "the kernel rotated by 180 degrees (np.flip(weight, (-2, -1))): that is a convolution; "
        "sliding the kernel as it is computes a correlation. (The scatter-add view needs no "
        "flip: each input value scales the kernel as it is.)"
    ),
    "kernel_flipped_one_axis": (
        "kernel flipped along one axis only (or transposed with .T). The zero-insertion view "
        "needs the kernel rotated by 180 degrees: flipped along both spatial axes, "
        "np.flip(weight, (-2, -1))."
    ),
    "padding_one_side": (
        "padding cropped on one side only. padding removes `padding` rows from the top *and* "
        "`padding` rows from the bottom of the full output (and as many columns from the "
        "left and from the right): out = full[..., p:p + H_out, p:p + W_out]."
    ),
    "output_padding_zeros": (
        "output_padding added as zeros. output_padding adds no zeros: it keeps that many more "
        "rows (columns) of the full result at the bottom (right), so that with padding > 0 "
        "they hold real values: crop `padding` at the top but only `padding - "
        "output_padding` at the bottom."
    ),
    "output_padding_truncated": (
        "output_padding rows (columns) cut off by the crop. Your output is short by "
        "output_padding - padding rows or columns: the slice full[..., p:p + H_out] ran past "
        "the end of the full result, which has only (H - 1)*stride + kH rows, and numpy "
        "slices stop there without an error. Make the full result output_padding rows "
        "(columns) larger, filled with zeros, before cropping: where no kernel copy reaches, "
        "the rows that output_padding keeps are zeros (plus the bias)."
    ),
    "output_padding_side": (
        "output_padding added on the wrong side. The extra rows and columns that "
        "output_padding selects are at the bottom and the right of the output, not the top "
        "and the left: out = full[..., p:p + H_out, p:p + W_out] with H_out including "
        "output_padding."
    ),
    "stride_spacing": (
        "stride spacing off by one. The kernel copy of input value (i, j) starts at output "
        "(i*stride, j*stride): copies start `stride` apart, which is stride - 1 zeros between "
        "input values in the zero-insertion view (not stride zeros, nor stride - 2)."
    ),
    "stride_swapped": (
        "stride pair swapped. stride=(s_H, s_W) applies s_H to the rows (height, axis -2) and "
        "s_W to the columns (width, axis -1): the kernel copy of input value (i, j) starts at "
        "output (i*s_H, j*s_W)."
    ),
    "bias_missing": "bias not added: add bias[c] to every value of output channel c.",
    "weight_layout": (
        "weight layout. A transposed convolution's weight has shape (C_in, C_out, kH, kW): "
        "weight[c_in, c_out] is the kernel from input channel c_in to output channel c_out "
        "(the reverse of conv2d's (C_out, C_in, kH, kW))."
    ),
    "convolution_not_correlation": (
        "convolution instead of correlation. conv2d (as in PyTorch) slides the kernel as it "
        "is, without flipping it: out[i, j] = sum over (a, b) of x[i*stride - padding + a, "
        "j*stride - padding + b] * weight[a, b]."
    ),
    "matrix_transposed": (
        "you returned C.T. C has one row per output value and one column per input value: "
        "shape (H_out*W_out, H*W)."
    ),
    "matrix_column_major": (
        "flattening order. Rows and columns of C follow x.ravel() (row by row, C order), "
        "not column by column."
    ),
    "align_corners": (
        "align_corners swapped. With align_corners=False output pixel i samples the input at "
        "(i + 0.5) / scale - 0.5 (clamped at 0); with align_corners=True at "
        "i * (H_in - 1) / (H_out - 1), so that the corner pixels' centres coincide."
    ),
    "nearest_not_bilinear": "this is nearest-neighbour upsampling, not bilinear interpolation.",
    "nearest_tiled": (
        "np.tile repeats the whole image side by side; nearest upsampling repeats each value "
        "scale_factor times along each axis (np.repeat)."
    ),
    "bed_of_nails_is_nearest": (
        "this is nearest upsampling. A bed of nails keeps each value once, at the top-left of "
        "its scale_factor x scale_factor block, and fills the rest of the block with zeros."
    ),
    "indices_in_window": (
        "indices count positions inside each pooling window; they must be flat positions in "
        "the whole input plane, row * W + col, as PyTorch's return_indices gives."
    ),
    "indices_whole_array": (
        "indices count positions in the whole flattened array; they must be flat positions "
        "within each (H, W) plane, row * W + col, starting again at 0 for every channel."
    ),
    "conv_then_resize": (
        "the convolution comes first: resize-convolution upsamples first (nearest), then "
        "convolves at the new resolution."
    ),
    "size_ceil": "rounding: the division by stride rounds down (floor), not up.",
    "size_missing_one": "the formula ends with + 1: the kernel's first position counts too.",
    "size_padding_once": "padding is added on both sides: 2 * padding.",
    "size_dilation": "dilation: a dilated kernel spans dilation * (kernel_size - 1) + 1 pixels.",
    "size_output_padding": "output_padding adds output_padding to the size (at the bottom/right).",
    "size_m_plus_k": (
        "with stride 1 and no padding the output is input_size + kernel_size - 1, not "
        "input_size + kernel_size (an erratum of one of the course's sources)."
    ),
    "decoder_order": "order: the first value is for the deepest decoder layer (the first to run).",
    "icnr_tiled": (
        "copies in the wrong order. pixel_shuffle builds the r x r block of output channel c "
        "from the r*r consecutive channels c*r*r, ..., c*r*r + r*r - 1, so each filter must "
        "be repeated r*r times in a row (np.repeat(weight, r*r, axis=0)); np.tile puts the "
        "copies C_out channels apart, and the sub-pixels of one block then come from "
        "different filters: not nearest-neighbour."
    ),
    "subkernel_blocks": (
        "sub-kernels cut as blocks. The taps that reach output phase (a, b) are every "
        "stride-th tap starting at (a, b), weight[a::s_H, b::s_W], not a contiguous block "
        "of the kernel such as weight[a*k//s:(a+1)*k//s]: tap t of input i lands on "
        "output s*i + t, whose phase is t mod s."
    ),
    "phase_not_flipped": (
        "each phase computed as a correlation. A phase is a stride-1 *transposed* "
        "convolution of the whole input with its sub-kernel: each input value scales the "
        "sub-kernel as it is (scatter-add), which is the same as sliding the sub-kernel "
        "rotated by 180 degrees over the input padded by its size minus one; sliding it "
        "unrotated computes a correlation."
    ),
    "phase_padding": (
        "padding cropped from every phase. Interleave the full phases first, into the full "
        "result of size (H - 1)*s + k, then crop `padding` rows and columns from each side "
        "of the interleaved result, as conv_transpose2d does: cropping each phase removes "
        "s times too much and mixes up which phase is which."
    ),
    "score_no_abs": "the score divides by the mean of |x| (absolute values), not the mean of x.",
    "score_ddof": "std: use the population standard deviation (np.std's default, ddof=0).",
    "score_no_crop": (
        "cropping: drop `border` pixels on every side, then crop rows and columns from the "
        "end until the size is a multiple of stride, before taking either mean."
    ),
}


def _matches(candidate, actual, rtol, atol) -> bool:
    if candidate is None or type(actual) is not np.ndarray or candidate.shape != actual.shape:
        return False
    if actual.dtype.kind not in "iuf":
        return False
    scale = float(np.max(np.abs(candidate))) if candidate.size else 0.0
    rtol, atol = max(rtol, 1e-4), max(atol, 1e-5 * scale)
    return bool(
        np.all(np.abs(actual.astype(np.float64) - candidate) <= atol + rtol * np.abs(candidate))
    )


def _pair(value) -> tuple[int, int]:
    if isinstance(value, list | tuple):
        return (int(value[0]), int(value[-1]))
    return (int(value), int(value))


def _transpose_full(x4, w4, stride):
    """The full transposed convolution (no padding): the package's own."""
    return conv_transpose2d(x4, w4, stride=stride)


def _selection(n_full: int, sources) -> np.ndarray:
    """Matrix that picks row ``sources[i]`` of a length-``n_full`` axis (zero if None/outside)."""
    matrix = np.zeros((len(sources), n_full))
    for i, src in enumerate(sources):
        if src is not None and 0 <= src < n_full:
            matrix[i, src] = 1.0
    return matrix


def _diagnose_conv_transpose(args, kwargs, expected, actual, rtol, atol):
    """Transposed convolution, NCHW or one 2-D channel: the five classic mistakes and more.

    Each mistake is a way of picking rows and columns out of a full (uncropped) result,
    or a full result computed with a wrong kernel or stride.
    """
    x, w = (np.asarray(a, dtype=np.float64) for a in args[:2])
    bias = np.asarray(args[2], dtype=np.float64) if len(args) > 2 else None
    plain = x.ndim == 2
    x4 = x[None, None] if plain else (x if x.ndim == 4 else x[None])
    w4 = w[None, None] if plain else w
    s = _pair(kwargs.get("stride", 1))
    p = _pair(kwargs.get("padding", 0))
    op = _pair(kwargs.get("output_padding", 0))
    k = w4.shape[-2:]
    size = tuple((x4.shape[2 + i] - 1) * s[i] - 2 * p[i] + k[i] + op[i] for i in range(2))
    b = 0.0 if bias is None else bias[None, :, None, None]

    def finish(out4):
        if plain:
            return out4[0, 0]
        return out4 if x.ndim == 4 else out4[0]

    def pick(full, rows, cols, bias_first=False):
        r, c = _selection(full.shape[-2], rows), _selection(full.shape[-1], cols)
        if bias_first:
            return finish(np.einsum("ij,...jk,lk->...il", r, full + b, c))
        return finish(np.einsum("ij,...jk,lk->...il", r, full, c) + b)

    def correct_rows(i, length=None):
        return list(range(p[i], p[i] + (size[i] if length is None else length)))

    def crop(full):
        return pick(full, correct_rows(0), correct_rows(1))

    candidates = []
    flip_hint = "correlation" if s == (1, 1) else "kernel_not_flipped"
    candidates.append((flip_hint, crop(_transpose_full(x4, w4[..., ::-1, ::-1], s))))
    candidates.append(("kernel_flipped_one_axis", crop(_transpose_full(x4, w4[..., ::-1, :], s))))
    candidates.append(("kernel_flipped_one_axis", crop(_transpose_full(x4, w4[..., :, ::-1], s))))
    if k[0] == k[1]:
        rotated_t = w4.swapaxes(-1, -2)[..., ::-1, ::-1]
        candidates.append(("kernel_flipped_one_axis", crop(_transpose_full(x4, rotated_t, s))))

    # Cropping: per axis the right rows, or padding cropped on one side, or output_padding
    # as zeros (at the end or the start) or as real rows taken from the top.
    full = _transpose_full(x4, w4, s)
    options = []
    for i in range(2):
        pi, oi, n = p[i], op[i], size[i]
        axis = [(None, correct_rows(i))]
        if pi > 0:
            axis += [
                ("padding_one_side", list(range(2 * pi, 2 * pi + n))),
                ("padding_one_side", list(range(0, n))),
                ("padding_one_side", list(range(pi, 2 * pi + n))),
                ("padding_one_side", list(range(0, pi + n))),
            ]
        if oi > 0:
            core = list(range(pi, pi + n - oi))
            axis += [
                ("output_padding_zeros", core + [None] * oi),
                ("output_padding_side", [None] * oi + core),
                ("output_padding_side", list(range(pi - oi, pi - oi + n))),
            ]
        options.append(axis)
    for hint_r, rows in options[0]:
        for hint_c, cols in options[1]:
            if hint_r is None and hint_c is None:
                continue
            hint = hint_r or hint_c
            candidates.append((hint, pick(full, rows, cols)))
            candidates.append((hint, pick(full, rows, cols, bias_first=True)))

    # The stride pair swapped: rows spaced by s_W and columns by s_H, in the right-size
    # output or in the size the swapped pair gives (before stride_spacing, which a swap of
    # two strides one apart would also match).
    if s[0] != s[1]:
        swapped = (s[1], s[0])
        wrong = _transpose_full(x4, w4, swapped)
        candidates.append(("stride_swapped", crop(wrong)))
        natural = [(x4.shape[2 + i] - 1) * swapped[i] - 2 * p[i] + k[i] + op[i] for i in range(2)]
        if min(natural) > 0:
            rows, cols = correct_rows(0, natural[0]), correct_rows(1, natural[1])
            candidates.append(("stride_swapped", pick(wrong, rows, cols)))

    # Stride spacing: copies stride - 1 or stride + 1 apart, in the right-size output or
    # in the size that the wrong stride gives.
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            s2 = (s[0] + dr, s[1] + dc)
            if (dr, dc) == (0, 0) or min(s2) < 1:
                continue
            wrong = _transpose_full(x4, w4, s2)
            candidates.append(("stride_spacing", crop(wrong)))
            natural = [(x4.shape[2 + i] - 1) * s2[i] - 2 * p[i] + k[i] + op[i] for i in range(2)]
            if min(natural) > 0:
                rows, cols = correct_rows(0, natural[0]), correct_rows(1, natural[1])
                candidates.append(("stride_spacing", pick(wrong, rows, cols)))

    # output_padding > padding: a crop of the full result without room for the extra rows
    truncated = full[..., p[0] : p[0] + size[0], p[1] : p[1] + size[1]]
    candidates.append(("output_padding_truncated", finish(truncated + b)))
    if bias is not None:
        candidates.append(
            ("bias_missing", crop(full) - finish(np.zeros_like(full[..., :1, :1]) + b))
        )
    if not plain and w4.shape[0] == w4.shape[1] > 1:
        candidates.append(("weight_layout", crop(_transpose_full(x4, w4.swapaxes(0, 1), s))))
    return _first_match(candidates, actual, expected, rtol, atol)


def _first_match(candidates, actual, expected, rtol, atol):
    hints = []
    for hint, candidate in candidates:
        if candidate is None:
            continue
        candidate = np.asarray(candidate, dtype=np.float64)
        if candidate.shape == np.shape(expected) and np.allclose(candidate, expected):
            continue  # this mistake makes no difference on this case
        if _matches(candidate, actual, rtol, atol) and hint not in hints:
            hints.append(hint)
    return hints


def _diagnose_conv_matrix(args, kwargs, expected, actual, rtol, atol):
    w = np.asarray(args[0], dtype=np.float64)
    size = _pair(kwargs["input_size"])
    s, p = _pair(kwargs.get("stride", 1)), _pair(kwargs.get("padding", 0))
    ho, wo = (
        (size[0] + 2 * p[0] - w.shape[0]) // s[0] + 1,
        (size[1] + 2 * p[1] - w.shape[1]) // s[1] + 1,
    )
    c = np.asarray(expected)
    column_major = c.reshape(ho, wo, *size).transpose(1, 0, 3, 2).reshape(c.shape)
    return _first_match(
        [
            ("convolution_not_correlation", conv_matrix(w[None, None, ::-1, ::-1], size, s, p)),
            ("matrix_transposed", c.T),
            ("matrix_column_major", column_major),
        ],
        actual,
        expected,
        rtol,
        atol,
    )


def _as_nchw(x):
    """``x`` with batch and channel axes (the graded functions take 2-D planes too)."""
    return x.reshape((1,) * (4 - x.ndim) + x.shape) if x.ndim < 4 else x


def _diagnose_bilinear(args, kwargs, expected, actual, rtol, atol):
    x = np.asarray(args[0], dtype=np.float64)
    scale = _pair(kwargs["scale_factor"])
    align = bool(kwargs.get("align_corners", False))
    other = interpolate(_as_nchw(x), scale_factor=scale, mode="bilinear", align_corners=not align)
    nearest = interpolate(_as_nchw(x), scale_factor=scale, mode="nearest")
    return _first_match(
        [
            ("align_corners", other.reshape(x.shape[:-2] + other.shape[-2:])),
            ("nearest_not_bilinear", nearest.reshape(x.shape[:-2] + nearest.shape[-2:])),
        ],
        actual,
        expected,
        rtol,
        atol,
    )


def _diagnose_nearest(args, kwargs, expected, actual, rtol, atol):
    x = np.asarray(args[0], dtype=np.float64)
    scale = _pair(kwargs["scale_factor"])
    reps = (1,) * (x.ndim - 2) + scale
    return _first_match([("nearest_tiled", np.tile(x, reps))], actual, expected, rtol, atol)


def _diagnose_bed_of_nails(args, kwargs, expected, actual, rtol, atol):
    x = np.asarray(args[0], dtype=np.float64)
    scale = _pair(kwargs["scale_factor"])
    nearest = interpolate(_as_nchw(x), scale_factor=scale, mode="nearest")
    nearest = nearest.reshape(x.shape[:-2] + nearest.shape[-2:])
    return _first_match([("bed_of_nails_is_nearest", nearest)], actual, expected, rtol, atol)


def _diagnose_max_pool(args, kwargs, expected, actual, rtol, atol):
    x = np.asarray(args[0])
    values, indices = expected
    if not isinstance(actual, tuple | list) or len(actual) != 2:
        return []
    k = _pair(kwargs["kernel_size"])
    stride = kwargs.get("stride")
    s = _pair(stride) if stride is not None else k
    h, w = x.shape[-2:]
    rows, cols = np.divmod(indices, w)
    ho, wo = indices.shape[-2:]
    oy = np.arange(ho)[:, None] * s[0]
    ox = np.arange(wo)[None, :] * s[1]
    local = (rows - oy) * k[1] + (cols - ox)
    planes = np.arange(int(np.prod(x.shape[:-2]))).reshape(x.shape[:-2])[..., None, None]
    whole = indices + planes * h * w
    return _first_match(
        [("indices_in_window", local), ("indices_whole_array", whole)],
        actual[1],
        indices,
        0.0,
        0.0,
    )


def _diagnose_resize_conv(args, kwargs, expected, actual, rtol, atol):
    x, w = (np.asarray(a, dtype=np.float64) for a in args[:2])
    bias = np.asarray(args[2], dtype=np.float64) if len(args) > 2 else None
    scale = _pair(kwargs.get("scale_factor", 2))
    padding = kwargs.get("padding", "same")
    padding = _pair(padding) if not isinstance(padding, str) else padding

    def up(inp):
        return interpolate(inp, scale_factor=scale, mode="nearest")

    flipped = np.flip(w, (-2, -1))
    return _first_match(
        [
            ("convolution_not_correlation", conv2d(up(x), flipped, bias, padding=padding)),
            ("conv_then_resize", up(conv2d(x, w, bias, padding=padding))),
        ],
        actual,
        expected,
        rtol,
        atol,
    )


def _size_candidates(kwargs, transposed):
    i = kwargs["input_size"]
    k = kwargs["kernel_size"]
    s, p, d = kwargs.get("stride", 1), kwargs.get("padding", 0), kwargs.get("dilation", 1)
    if transposed:
        op = kwargs.get("output_padding", 0)
        return [
            ("size_output_padding", (i - 1) * s - 2 * p + d * (k - 1) + 1),
            ("size_padding_once", (i - 1) * s - p + d * (k - 1) + op + 1),
            ("size_dilation", (i - 1) * s - 2 * p + (k - 1) + op + 1),
            ("size_m_plus_k", (i - 1) * s - 2 * p + d * (k - 1) + op + 2),
        ]
    span = d * (k - 1) + 1
    return [
        ("size_ceil", -(-(i + 2 * p - span) // s) + 1),
        ("size_missing_one", (i + 2 * p - span) // s),
        ("size_padding_once", (i + p - span) // s + 1),
        ("size_dilation", (i + 2 * p - k) // s + 1),
    ]


def _diagnose_size(transposed):
    def diagnose(args, kwargs, expected, actual, rtol, atol):
        got = as_int(actual)
        hints = []
        for hint, value in _size_candidates(kwargs, transposed):
            if value != int(expected) and value == got and hint not in hints:
                hints.append(hint)
        return hints

    return diagnose


def _diagnose_decoder(args, kwargs, expected, actual, rtol, atol):
    want = [int(v) for v in np.asarray(expected)]
    got = [as_int(v) for v in actual] if isinstance(actual, list | tuple | np.ndarray) else None
    if got is not None and got == want[::-1] and want != want[::-1]:
        return ["decoder_order"]
    return []


def _diagnose_score(args, kwargs, expected, actual, rtol, atol):
    x = np.asarray(args[0], dtype=np.float64)
    s = _pair(kwargs["stride"])
    border = _pair(kwargs.get("border", 0))
    got = as_real(actual)

    def score(arr, crop=True, absolute=True, ddof=0):
        if crop:
            arr = arr[
                ..., border[0] : arr.shape[-2] - border[0], border[1] : arr.shape[-1] - border[1]
            ]
            arr = arr[..., : arr.shape[-2] // s[0] * s[0], : arr.shape[-1] // s[1] * s[1]]
        means = np.array(
            [[arr[..., a :: s[0], b :: s[1]].mean() for b in range(s[1])] for a in range(s[0])]
        )
        scale = np.abs(arr).mean() if absolute else arr.mean()
        return means.std(ddof=ddof) / scale if scale else 0.0

    hints = []
    for hint, value in (
        ("score_no_abs", score(x, absolute=False)),
        ("score_ddof", score(x, ddof=1)),
        ("score_no_crop", score(x, crop=False)),
    ):
        if (
            got is not None
            and np.isfinite(value)
            and not np.isclose(value, float(expected))
            and (abs(value - got) <= 1e-6 + 1e-4 * abs(value))
        ):
            hints.append(hint)
    return hints


def _diagnose_icnr(args, kwargs, expected, actual, rtol, atol):
    w = np.asarray(args[0], dtype=np.float64)
    r = int(kwargs["upscale_factor"])
    tiled = np.tile(w, (r * r, 1, 1, 1))
    return _first_match([("icnr_tiled", tiled)], actual, expected, rtol, atol)


def _stride1_full(x, kernel):
    """The stride-1 transposed convolution of a plane (scatter-add; empty kernel: zeros)."""
    if kernel.size == 0:
        return np.zeros((x.shape[0] + kernel.shape[0] - 1, x.shape[1] + kernel.shape[1] - 1))
    return conv_transpose2d(x[None, None], kernel[None, None])[0, 0]


def _interleave(phases, s):
    """Phase (a, b) at out[a::s_H, b::s_W]; None when the phases' sizes do not fit."""
    rows = sum(phases[a, 0].shape[0] for a in range(s[0]))
    cols = sum(phases[0, b].shape[1] for b in range(s[1]))
    if rows < 1 or cols < 1:
        return None
    out = np.zeros((rows, cols))
    for (a, b), phase in phases.items():
        if out[a :: s[0], b :: s[1]].shape != phase.shape:
            return None
        out[a :: s[0], b :: s[1]] = phase
    return out


def _diagnose_polyphase(args, kwargs, expected, actual, rtol, atol):
    """The polyphase transposed convolution of one plane: the mistakes of the phases
    (wrong sub-kernels, unflipped phases, per-phase cropping) first, then those of any
    transposed convolution (:func:`_diagnose_conv_transpose`)."""
    x, w = (np.asarray(a, dtype=np.float64) for a in args[:2])
    s, p = _pair(kwargs.get("stride", 1)), _pair(kwargs.get("padding", 0))

    def crop(full, pad):
        if full is None:
            return None
        return full[pad[0] : full.shape[0] - pad[0], pad[1] : full.shape[1] - pad[1]]

    def by_phases(subkernel, flip=False, phase_pad=(0, 0)):
        """Phase by phase, each a stride-1 transposed convolution with ``subkernel(a, b)``
        (flipped when ``flip``, cropped by ``phase_pad``), interleaved, then cropped by
        the padding the per-phase crop did not already take."""
        phases = {}
        for a in range(s[0]):
            for b in range(s[1]):
                kernel = subkernel(a, b)
                full = _stride1_full(x, kernel[::-1, ::-1] if flip else kernel)
                phases[a, b] = crop(full, phase_pad)
        return crop(_interleave(phases, s), (0, 0) if any(phase_pad) else p)

    def strided(a, b):
        return w[a :: s[0], b :: s[1]]

    candidates = [("phase_padding", by_phases(strided, phase_pad=p))]
    if s != (1, 1):  # one phase: a correlation, which the general diagnosis names
        candidates.append(("phase_not_flipped", by_phases(strided, flip=True)))
    if w.shape[0] % s[0] == 0 and w.shape[1] % s[1] == 0:
        bh, bw = w.shape[0] // s[0], w.shape[1] // s[1]

        def blocks(a, b):
            return w[a * bh : (a + 1) * bh, b * bw : (b + 1) * bw]

        candidates.append(("subkernel_blocks", by_phases(blocks)))
    hints = _first_match(candidates, actual, expected, rtol, atol)
    general = _diagnose_conv_transpose(args, kwargs, expected, actual, rtol, atol)
    return hints + [hint for hint in general if hint not in hints]


SCALAR_CHECKS = {
    "conv_output_size": "int",
    "conv_transpose_output_size": "int",
    "decoder_output_padding": "int_list",
    "checkerboard_score": "float",
}
"""Named checks whose results are numbers or lists, not arrays, and how they compare."""

DIAGNOSES: dict[str, Callable] = {
    "conv_transpose2d": _diagnose_conv_transpose,
    "conv_matrix": _diagnose_conv_matrix,
    "bilinear": _diagnose_bilinear,
    "nearest": _diagnose_nearest,
    "bed_of_nails": _diagnose_bed_of_nails,
    "max_pool2d": _diagnose_max_pool,
    "resize_conv2d": _diagnose_resize_conv,
    "conv_output_size": _diagnose_size(transposed=False),
    "conv_transpose_output_size": _diagnose_size(transposed=True),
    "decoder_output_padding": _diagnose_decoder,
    "checkerboard_score": _diagnose_score,
    "icnr_weight": _diagnose_icnr,
    "conv_transpose2d_polyphase": _diagnose_polyphase,
}
"""Named checks that look for misconceptions. Each is called as ``diagnose(args, kwargs,
expected, actual, rtol, atol)`` and returns the keys of :data:`HINTS` whose mistake
reproduces ``actual``, the most specific first. Each check compares like ``"allclose"`` (or like
``"int"``, ``"float"``, ``"int_list"`` for the sizes, the score and the decoder plan)."""
