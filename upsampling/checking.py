"""Checks a graded function's output against its PyTorch reference and says what is wrong.

The graded notebooks' test cells and the autograder share this module (see
``docs/grading-contract.md``). A *case* is one entry of an assignment's manifest: the
function's arguments (arrays stored in ``<assignment>.npz``, see :func:`reference_dir`;
other values as JSON), the expected output computed by PyTorch, and the name of the check.

:func:`check_output` is the whole verdict. It is a pure function of plain data, so the
autograder can call it in its own clean interpreter on arrays that came out of the
sandbox. It checks, in order: the type (``numpy.ndarray`` itself, not a subclass), the
dtype kind, the shape, then the values; and when the values or the shape are wrong it
tries the misconceptions it knows for that kind of function (each a deliberately wrong
variant of the operation, computed from the case's own arguments) and names the one
that reproduces the student's output exactly.

:func:`check_cases` is the thin wrapper the notebooks call: it runs the student's
function in-process on named cases and raises ``AssertionError`` with every failure.

Examples
--------
In a test cell of ``transposed_conv.ipynb``::

    check_cases(conv_transpose2d, "03_transposed_conv", "transposed-stride", ["seed002-stride2"])
"""

from __future__ import annotations

import json
import numbers
import os
import textwrap
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MANIFEST_KEY = "__manifest__"
REFERENCE_DIR_ENV = "UPSAMPLING_REFERENCE_DIR"
DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-6


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one case: ``passed``, and a message a student can act on."""

    passed: bool
    message: str


@dataclass(frozen=True)
class Unrepresentable:
    """Stands in for a returned value that could not be turned into plain data.

    The autograder passes one to :func:`check_output` when the student's function
    returned something other than arrays, numbers or lists/tuples of them.
    """

    type_name: str


# ----------------------------------------------------------------------------------------
# Reference data


def reference_dir() -> Path:
    """Folder of the reference ``.npz`` files.

    ``$UPSAMPLING_REFERENCE_DIR`` if set; else, when the package is used from a course
    checkout (an editable install), that checkout's ``autograder/reference`` (every case,
    hidden ones included); else the package's own ``reference`` data, which holds the
    visible cases only (what a student's installed copy checks against).
    """
    if os.environ.get(REFERENCE_DIR_ENV):
        return Path(os.environ[REFERENCE_DIR_ENV])
    here = Path(__file__).resolve().parent
    checkout = here.parent / "autograder" / "reference"
    return checkout if checkout.is_dir() else here / "reference"


_CACHE: dict[tuple[str, float], tuple[dict, dict[str, np.ndarray]]] = {}


def load_reference(assignment: str, directory: str | Path | None = None):
    """``(manifest, arrays)`` of one assignment's reference file, read without pickle."""
    path = Path(directory) if directory is not None else reference_dir()
    path = path / f"{assignment}.npz"
    if not path.exists():
        raise FileNotFoundError(
            f"reference outputs for {assignment!r} not found at {path}; reinstall the course "
            f"package (python -m pip install \".[student]\" in the course folder), or set "
            f"{REFERENCE_DIR_ENV} to the folder that holds them"
        )
    key = (str(path), path.stat().st_mtime)
    if key not in _CACHE:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
        manifest = json.loads(str(arrays.pop(MANIFEST_KEY)))
        _CACHE[key] = (manifest, arrays)
    return _CACHE[key]


def case_arguments(case: Mapping, reference: Mapping[str, np.ndarray]):
    """``(args, kwargs)`` to call the graded function with: fresh copies of the arrays."""
    args = [np.array(reference[key]) for key in case.get("args", [])]
    kwargs = dict(case.get("kwargs", {}))
    return args, kwargs


def expected_output(case: Mapping, reference: Mapping[str, np.ndarray]):
    """The reference output of a case: one array, or a tuple for several outputs."""
    expected = case["expected"]
    if isinstance(expected, str):
        return np.asarray(reference[expected])
    return tuple(np.asarray(reference[key]) for key in expected)


# ----------------------------------------------------------------------------------------
# The verdict


def check_output(case: Mapping, actual, reference: Mapping[str, np.ndarray]) -> CheckResult:
    """Compares ``actual`` (what the student's function returned) with the case's reference.

    Parameters
    ----------
    case : mapping
        One case of the manifest: ``name``, ``visible``, ``args``, ``kwargs``,
        ``expected``, ``check`` and optionally ``rtol``/``atol``, ``function``.
    actual
        The returned value: an ndarray, a number, a list/tuple of those, or an
        :class:`Unrepresentable`.
    reference : mapping of str to ndarray
        The assignment's arrays (the loaded ``.npz``), holding the case's arguments and
        expected output.

    Returns
    -------
    CheckResult
        ``passed``, and a message: what is wrong (type, dtype, shape, the largest error
        and where), the likely misconception when one is recognised, and for visible
        cases the arrays themselves.

    Notes
    -----
    Checks by name: ``"int"``, ``"float"`` and ``"int_list"`` for sizes and scores;
    every other name is an array check, ``"equal"`` exact, ``"allclose"`` with the
    case's tolerances (integer outputs always exactly); names of diagnoses
    (``"conv_transpose2d"``, ``"conv_matrix"``, ...) compare like ``"allclose"`` and then
    look for known misconceptions. float32 results are accepted with tolerances
    loosened to ``rtol=1e-4`` and ``atol=1e-5 * max|expected|``.
    """
    check = case.get("check", "allclose")
    expected = expected_output(case, reference)
    rtol = float(case.get("rtol", DEFAULT_RTOL))
    atol = float(case.get("atol", DEFAULT_ATOL))
    kind = SCALAR_CHECKS.get(check, check)
    if kind == "int":
        problem = _compare_int(actual, expected)
    elif kind == "float":
        problem = _compare_float(actual, expected, rtol, atol)
    elif kind == "int_list":
        problem = _compare_int_list(actual, expected)
    else:
        problem = _compare_arrays(actual, expected, rtol, atol, exact=check == "equal")
    header = _describe_call(case)
    if problem is None:
        return CheckResult(True, f"case {case['name']}: passed")
    text, diagnosable = problem
    lines = [f"case {case['name']}: {header}", *map(_wrap, text.split("\n"))]
    if diagnosable and check in DIAGNOSES:
        args, kwargs = case_arguments(case, reference)
        try:
            hints = DIAGNOSES[check](args, kwargs, expected, actual, rtol, atol)
        except Exception:  # a diagnosis must never turn a verdict into a crash
            hints = []
        lines += [_wrap(f"Likely cause: {hint}") for hint in hints[:1]]
    if case.get("visible"):
        lines += _show_visible(case, reference, expected, actual)
    return CheckResult(False, "\n".join(lines))


def _wrap(text: str) -> str:
    """Indented and wrapped to 80 columns: nbgrader validate cuts longer lines."""
    return textwrap.fill(text, 80, initial_indent="  ", subsequent_indent="    ")


def _type_name(value) -> str:
    if isinstance(value, Unrepresentable):
        return value.type_name
    kind = type(value)
    if isinstance(value, np.ndarray) and kind is not np.ndarray:
        return f"{kind.__name__} (a subclass of numpy.ndarray)"
    return kind.__module__ + "." + kind.__name__ if kind.__module__ != "builtins" else kind.__name__


def _as_int(value):
    """``value`` as an int if it is one (int, numpy integer, 0-d integer array), else None."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if type(value) is np.ndarray and value.ndim == 0 and value.dtype.kind in "iu":
        return int(value)
    return None


def _as_real(value):
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    if type(value) is np.ndarray and value.ndim == 0 and value.dtype.kind in "iuf":
        return float(value)
    return None


def _compare_int(actual, expected):
    want = int(expected)
    got = _as_int(actual)
    if got is None:
        return f"wrong type: expected an int, got {_type_name(actual)} {_short(actual)}", False
    if got != want:
        return f"wrong value: expected {want}, got {got}", True
    return None


def _compare_float(actual, expected, rtol, atol):
    want = float(expected)
    got = _as_real(actual)
    if got is None:
        return f"wrong type: expected a float, got {_type_name(actual)} {_short(actual)}", False
    if not np.isfinite(got) or abs(got - want) > atol + rtol * abs(want):
        return f"wrong value: expected {_fmt(want)}, got {_fmt(got)}", True
    return None


def _compare_int_list(actual, expected):
    want = [int(v) for v in np.asarray(expected).ravel()]
    if type(actual) is np.ndarray and actual.ndim == 1 and actual.dtype.kind in "iu":
        got = [int(v) for v in actual]
    elif isinstance(actual, list | tuple):
        got = [_as_int(v) for v in actual]
        if any(v is None for v in got):
            bad = next(v for v, g in zip(actual, got, strict=True) if g is None)
            return (
                f"wrong type: expected a list of ints, got a {_type_name(actual)} holding "
                f"{_type_name(bad)} {_short(bad)}",
                False,
            )
    else:
        return f"wrong type: expected a list of ints, got {_type_name(actual)}", False
    if len(got) != len(want):
        return f"wrong length: expected {len(want)} values, got {len(got)}: {_short(got, 80)}", True
    if got != want:
        return f"wrong values: expected {want}, got {_short(got, 80)}", True
    return None


def _compare_arrays(actual, expected, rtol, atol, exact):
    if isinstance(expected, tuple):
        if not isinstance(actual, tuple | list) or len(actual) != len(expected):
            what = (
                f"a {_type_name(actual)}"
                if not isinstance(actual, tuple | list)
                else (f"{len(actual)} values")
            )
            return f"wrong type: expected a tuple of {len(expected)} arrays, got {what}", False
        for position, (got, want) in enumerate(zip(actual, expected, strict=True)):
            problem = _compare_array(got, want, rtol, atol, exact)
            if problem is not None:
                return f"output [{position}]: {problem[0]}", problem[1]
        return None
    return _compare_array(actual, expected, rtol, atol, exact)


def _compare_array(actual, expected, rtol, atol, exact):
    if type(actual) is not np.ndarray:
        return f"wrong type: expected a numpy.ndarray, got {_type_name(actual)}", False
    want_int = expected.dtype.kind in "iu"
    kind = actual.dtype.kind
    if want_int and kind not in "iu":
        return f"wrong dtype: expected integers, got {actual.dtype} (use .astype(int))", False
    if not want_int and kind != "f":
        return (
            f"wrong dtype: expected floating-point numbers (float64 or float32), "
            f"got {actual.dtype}",
            False,
        )
    if actual.shape != expected.shape:
        return f"wrong shape: expected {expected.shape}, got {actual.shape}", True
    if actual.size == 0:
        return None
    if want_int:
        wrong = actual != expected
        error = np.abs(actual.astype(np.float64) - expected)
    else:
        got = actual.astype(np.float64)
        scale = float(np.max(np.abs(expected)))
        if actual.dtype.itemsize < 8 and not exact:
            rtol, atol = max(rtol, 1e-4), max(atol, 1e-5 * scale)
        error = np.abs(got - expected)
        error[~np.isfinite(got)] = np.inf
        wrong = error != 0 if exact else ~(error <= atol + rtol * np.abs(expected))
    if not wrong.any():
        return None
    where = np.unravel_index(int(np.argmax(np.where(wrong, error, -1.0))), actual.shape)
    index = tuple(int(i) for i in where)
    text = (
        f"wrong values: {int(wrong.sum())} of {wrong.size} differ\n"
        f"largest error {_fmt(error[where])} at {list(index)}: "
        f"expected {_fmt(expected[where])}, got {_fmt(actual[where])}"
    )
    if not np.isfinite(actual[where]):
        text += " (not a finite number)"
    return text + _error_region(wrong), True


def _error_region(wrong: np.ndarray) -> str:
    """Where the errors are, when they sit in a few rows or columns of the last two axes."""
    if wrong.ndim < 2 or wrong.all():
        return ""
    plane = wrong.reshape(-1, *wrong.shape[-2:]).any(axis=0)
    rows, cols = np.flatnonzero(plane.any(axis=1)), np.flatnonzero(plane.any(axis=0))
    h, w = plane.shape
    parts = []
    if len(rows) <= 2 and len(rows) < h:
        parts.append(f"row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows))} of {h}")
    if len(cols) <= 2 and len(cols) < w:
        parts.append(f"column{'s' if len(cols) > 1 else ''} {', '.join(map(str, cols))} of {w}")
    return f"\nthe wrong values are all in {' and '.join(parts)}" if parts else ""


def _fmt(value) -> str:
    value = float(value)
    if not np.isfinite(value):
        return str(value)
    return np.format_float_positional(value, precision=6, unique=True, trim="-")


def _short(value, limit: int = 40) -> str:
    if isinstance(value, Unrepresentable | np.ndarray):
        return ""
    try:
        text = repr(value)
    except Exception:  # a value whose repr fails is described by its type alone
        return ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe_call(case: Mapping) -> str:
    parts = [key.rsplit("/", 1)[-1] for key in case.get("args", [])]
    parts += [f"{key}={value!r}" for key, value in case.get("kwargs", {}).items()]
    return f"{case.get('function', 'f')}({', '.join(parts)})"


def _show_visible(case, reference, expected, actual) -> list[str]:
    """The arguments, the expected and the actual output of a (small) visible case."""
    lines = []
    shown = [(key.rsplit("/", 1)[-1], reference[key]) for key in case.get("args", [])]
    outputs = expected if isinstance(expected, tuple) else (expected,)
    actuals = (
        actual if isinstance(actual, tuple | list) and isinstance(expected, tuple) else (actual,)
    )
    for i, want in enumerate(outputs):
        suffix = f"[{i}]" if len(outputs) > 1 else ""
        shown.append((f"expected{suffix}", want))
        if i < len(actuals):
            shown.append((f"got{suffix}", actuals[i]))
    for label, value in shown:
        if (
            isinstance(value, np.ndarray)
            and value.ndim >= 3
            and value.shape[:-2] == (1,) * (value.ndim - 2)
        ):
            label = f"{label}[{', '.join(['0'] * (value.ndim - 2))}]"
            value = value.reshape(value.shape[-2:])
        if isinstance(value, np.ndarray) and value.size > 200:
            lines.append(f"  {label}: array of shape {value.shape}")
            continue
        if isinstance(value, np.ndarray):
            text = np.array2string(value, separator=", ", precision=4, suppress_small=True)
        else:
            text = _type_name(value) if isinstance(value, Unrepresentable) else _short(value, 200)
        lines.append(f"  {label} = " + text.replace("\n", "\n" + " " * (len(label) + 5)))
    return lines


# ----------------------------------------------------------------------------------------
# The notebooks' wrapper


def run_case(function: Callable, case: Mapping, reference: Mapping[str, np.ndarray]) -> CheckResult:
    """Calls ``function`` on a case's arguments in this process and checks what it returns.

    Warnings and floating-point errors raised inside ``function`` are silenced (honest
    code that warns must not fail); an exception becomes a failed case.
    """
    args, kwargs = case_arguments(case, reference)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            actual = function(*args, **kwargs)
    except NotImplementedError:
        return CheckResult(
            False,
            f"case {case['name']}: not implemented yet (the function raises NotImplementedError)",
        )
    except Exception as exc:  # the student's bug, reported as a failed case
        return CheckResult(
            False,
            f"case {case['name']}: {_describe_call(case)}\n  raised {type(exc).__name__}: {exc}",
        )
    return check_output(case, actual, reference)


def check_cases(
    function: Callable, assignment: str, grade_id: str, case_names: Sequence[str]
) -> None:
    """Runs the named cases of one graded test; raises ``AssertionError`` on any failure.

    Prints one line when every case passes. The message of the ``AssertionError`` lists
    every failing case with what is wrong.
    """
    __tracebackhide__ = True  # IPython and pytest show the message, not this frame
    manifest, reference = load_reference(assignment)
    test = manifest["tests"][grade_id]
    cases = {case["name"]: case for case in test["cases"]}
    unknown = [name for name in case_names if name not in cases]
    if unknown:
        where = (
            " (this copy of the reference holds the visible cases only: hidden cases are "
            "run by the instructor's autograder)"
            if manifest.get("visible_only")
            else ""
        )
        raise KeyError(f"{grade_id}: no case named {', '.join(unknown)} in the reference{where}")
    failures = []
    for name in case_names:
        case = dict(cases[name], function=test["function"])
        result = run_case(function, case, reference)
        if not result.passed:
            failures.append(result.message)
    if failures:
        raise AssertionError(
            f"{grade_id}: {len(failures)} of {len(case_names)} cases fail\n\n"
            + "\n\n".join(failures)
        )
    print(f"{grade_id}: {len(case_names)} of {len(case_names)} cases pass")


# ----------------------------------------------------------------------------------------
# Misconceptions: deliberately wrong variants of each operation


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
    """The full transposed convolution (no padding), by scatter-add."""
    n, _, h, w = x4.shape
    kh, kw = w4.shape[-2:]
    sh, sw = stride
    out = np.zeros((n, w4.shape[1], (h - 1) * sh + kh, (w - 1) * sw + kw))
    for a in range(kh):
        for b in range(kw):
            contribution = np.einsum("nchw,cd->ndhw", x4, w4[:, :, a, b])
            out[:, :, a : a + (h - 1) * sh + 1 : sh, b : b + (w - 1) * sw + 1 : sw] += contribution
    return out


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
        if _matches(candidate, actual, rtol, atol) and HINTS[hint] not in hints:
            hints.append(HINTS[hint])
    return hints


def _conv2d_plane(x, w, stride, padding):
    """One-channel cross-correlation of 2-D arrays (PyTorch's conv2d)."""
    xp = np.pad(np.asarray(x, dtype=np.float64), ((padding[0],) * 2, (padding[1],) * 2))
    kh, kw = w.shape
    ho = (xp.shape[0] - kh) // stride[0] + 1
    wo = (xp.shape[1] - kw) // stride[1] + 1
    out = np.zeros((ho, wo))
    for a in range(kh):
        for b in range(kw):
            out += (
                w[a, b]
                * xp[
                    a : a + (ho - 1) * stride[0] + 1 : stride[0],
                    b : b + (wo - 1) * stride[1] + 1 : stride[1],
                ]
            )
    return out


def _matrix_of(w, input_size, stride, padding):
    h, wd = input_size
    columns = []
    for j in range(h * wd):
        basis = np.zeros(h * wd)
        basis[j] = 1.0
        columns.append(_conv2d_plane(basis.reshape(h, wd), w, stride, padding).ravel())
    return np.stack(columns, axis=1)


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
            ("convolution_not_correlation", _matrix_of(w[::-1, ::-1], size, s, p)),
            ("matrix_transposed", c.T),
            ("matrix_column_major", column_major),
        ],
        actual,
        expected,
        rtol,
        atol,
    )


def _bilinear(x, scale, align_corners):
    """PyTorch's bilinear interpolation by integer scale factors, along the last two axes."""
    out = np.asarray(x, dtype=np.float64)
    for axis, factor in zip((-2, -1), scale, strict=True):
        n = out.shape[axis]
        m = n * factor
        if align_corners:
            src = np.arange(m) * ((n - 1) / (m - 1) if m > 1 else 0.0)
        else:
            src = np.maximum((np.arange(m) + 0.5) / factor - 0.5, 0.0)
        lo = np.minimum(np.floor(src).astype(int), n - 1)
        hi = np.minimum(lo + 1, n - 1)
        frac = src - lo
        shape = [1] * out.ndim
        shape[axis] = m
        frac = frac.reshape(shape)
        out = np.take(out, lo, axis=axis) * (1 - frac) + np.take(out, hi, axis=axis) * frac
    return out


def _diagnose_bilinear(args, kwargs, expected, actual, rtol, atol):
    x = np.asarray(args[0], dtype=np.float64)
    scale = _pair(kwargs["scale_factor"])
    align = bool(kwargs.get("align_corners", False))
    nearest = x.repeat(scale[0], axis=-2).repeat(scale[1], axis=-1)
    return _first_match(
        [("align_corners", _bilinear(x, scale, not align)), ("nearest_not_bilinear", nearest)],
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
    nearest = x.repeat(scale[0], axis=-2).repeat(scale[1], axis=-1)
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
    bias = np.asarray(args[2], dtype=np.float64) if len(args) > 2 else np.zeros(w.shape[0])
    scale = _pair(kwargs.get("scale_factor", 2))
    padding = kwargs.get("padding", 0)

    def conv(inp, weight):
        kh, kw = weight.shape[-2:]
        if padding == "same":
            pads = ((kh - 1) // 2, kh - 1 - (kh - 1) // 2), ((kw - 1) // 2, kw - 1 - (kw - 1) // 2)
        else:
            ph, pw = _pair(padding)
            pads = ((ph, ph), (pw, pw))
        xp = np.pad(inp, ((0, 0), (0, 0), *pads))
        ho, wo = xp.shape[2] - kh + 1, xp.shape[3] - kw + 1
        out = np.zeros((inp.shape[0], weight.shape[0], ho, wo))
        for a in range(kh):
            for b in range(kw):
                out += np.einsum(
                    "nchw,dc->ndhw", xp[:, :, a : a + ho, b : b + wo], weight[:, :, a, b]
                )
        return out + bias[None, :, None, None]

    def up(inp):
        return inp.repeat(scale[0], axis=-2).repeat(scale[1], axis=-1)

    return _first_match(
        [
            ("convolution_not_correlation", conv(up(x), w[..., ::-1, ::-1])),
            ("conv_then_resize", up(conv(x, w))),
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
        got = _as_int(actual)
        hints = []
        for hint, value in _size_candidates(kwargs, transposed):
            if value != int(expected) and value == got and HINTS[hint] not in hints:
                hints.append(HINTS[hint])
        return hints

    return diagnose


def _diagnose_decoder(args, kwargs, expected, actual, rtol, atol):
    want = [int(v) for v in np.asarray(expected)]
    got = [_as_int(v) for v in actual] if isinstance(actual, list | tuple | np.ndarray) else None
    if got is not None and got == want[::-1] and want != want[::-1]:
        return [HINTS["decoder_order"]]
    return []


def _diagnose_score(args, kwargs, expected, actual, rtol, atol):
    x = np.asarray(args[0], dtype=np.float64)
    s = _pair(kwargs["stride"])
    border = _pair(kwargs.get("border", 0))
    got = _as_real(actual)

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
            hints.append(HINTS[hint])
    return hints


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
}
"""Named checks that look for misconceptions; each compares like ``"allclose"`` (or like
``"int"``, ``"float"``, ``"int_list"`` for the sizes, the score and the decoder plan)."""
