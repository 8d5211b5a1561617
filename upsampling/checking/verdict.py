"""The verdict on one case: :func:`check_output`, a pure function of plain data.

It checks, in order: the type (``numpy.ndarray`` itself, not a subclass), the dtype kind,
the shape, then the values; when the values or the shape are wrong it asks
:mod:`upsampling.checking.misconceptions` which known mistake reproduces the output
exactly. The autograder calls it in its own clean interpreter on data that came out of
the sandbox; the notebooks call it through :mod:`upsampling.checking.notebook`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from upsampling.checking.misconceptions import DIAGNOSES, HINTS, SCALAR_CHECKS
from upsampling.checking.reference import case_arguments, expected_output
from upsampling.checking.values import Unrepresentable, as_int, as_real, fmt, short, type_name

DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-6


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one case: ``passed``, and a message a student can act on.

    ``misconception`` is the key in :data:`~upsampling.grading.misconceptions.HINTS` of
    the mistake the message names ("Likely cause: ..."), or ``None``: a stable name for
    the diagnosis, which the autograder records so that reports can count it.
    """

    passed: bool
    message: str
    misconception: str | None = None


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
    if problem is None:
        return CheckResult(True, f"case {case['name']}: passed")
    text, diagnosable = problem
    lines = [f"case {case['name']}: {describe_call(case)}", *map(_wrap, text.split("\n"))]
    misconception = None
    if diagnosable and check in DIAGNOSES:
        args, kwargs = case_arguments(case, reference)
        try:
            found = DIAGNOSES[check](args, kwargs, expected, actual, rtol, atol)
        except Exception:  # a diagnosis must never turn a verdict into a crash
            found = []
        if found:
            misconception = found[0]
            lines.append(_wrap(f"Likely cause: {HINTS[misconception]}"))
    if case.get("visible"):
        lines += _show_visible(case, reference, expected, actual)
    return CheckResult(False, "\n".join(lines), misconception)


def _wrap(text: str) -> str:
    """Indented and wrapped to 80 columns: nbgrader validate cuts longer lines."""
    return textwrap.fill(text, 80, initial_indent="  ", subsequent_indent="    ")


def _compare_int(actual, expected):
    want = int(expected)
    got = as_int(actual)
    if got is None:
        return f"wrong type: expected an int, got {type_name(actual)} {short(actual)}", False
    if got != want:
        return f"wrong value: expected {want}, got {got}", True
    return None


def _compare_float(actual, expected, rtol, atol):
    want = float(expected)
    got = as_real(actual)
    if got is None:
        return f"wrong type: expected a float, got {type_name(actual)} {short(actual)}", False
    if not np.isfinite(got) or abs(got - want) > atol + rtol * abs(want):
        return f"wrong value: expected {fmt(want)}, got {fmt(got)}", True
    return None


def _compare_int_list(actual, expected):
    want = [int(v) for v in np.asarray(expected).ravel()]
    if type(actual) is np.ndarray and actual.ndim == 1 and actual.dtype.kind in "iu":
        got = [int(v) for v in actual]
    elif isinstance(actual, list | tuple):
        got = [as_int(v) for v in actual]
        if any(v is None for v in got):
            bad = next(v for v, g in zip(actual, got, strict=True) if g is None)
            return (
                f"wrong type: expected a list of ints, got a {type_name(actual)} holding "
                f"{type_name(bad)} {short(bad)}",
                False,
            )
    else:
        return f"wrong type: expected a list of ints, got {type_name(actual)}", False
    if len(got) != len(want):
        return f"wrong length: expected {len(want)} values, got {len(got)}: {short(got, 80)}", True
    if got != want:
        return f"wrong values: expected {want}, got {short(got, 80)}", True
    return None


def _compare_arrays(actual, expected, rtol, atol, exact):
    if isinstance(expected, tuple):
        if not isinstance(actual, tuple | list) or len(actual) != len(expected):
            what = (
                f"a {type_name(actual)}"
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
        return f"wrong type: expected a numpy.ndarray, got {type_name(actual)}", False
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
        f"largest error {fmt(error[where])} at {list(index)}: "
        f"expected {fmt(expected[where])}, got {fmt(actual[where])}"
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


def describe_call(case: Mapping) -> str:
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
            text = type_name(value) if isinstance(value, Unrepresentable) else short(value, 200)
        lines.append(f"  {label} = " + text.replace("\n", "\n" + " " * (len(label) + 5)))
    return lines
