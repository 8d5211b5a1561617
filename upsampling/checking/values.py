"""Plain returned values: what the autograder sends back from the sandbox, and how the
verdict reads and prints them."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Unrepresentable:
    """Stands in for a returned value that could not be turned into plain data.

    The autograder passes one to :func:`~upsampling.checking.verdict.check_output` when the
    student's function returned something other than arrays, numbers or lists/tuples of
    them.
    """

    type_name: str


def type_name(value) -> str:
    if isinstance(value, Unrepresentable):
        return value.type_name
    kind = type(value)
    if isinstance(value, np.ndarray) and kind is not np.ndarray:
        return f"{kind.__name__} (a subclass of numpy.ndarray)"
    return kind.__module__ + "." + kind.__name__ if kind.__module__ != "builtins" else kind.__name__


def as_int(value):
    """``value`` as an int if it is one (int, numpy integer, 0-d integer array), else None."""
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if type(value) is np.ndarray and value.ndim == 0 and value.dtype.kind in "iu":
        return int(value)
    return None


def as_real(value):
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    if type(value) is np.ndarray and value.ndim == 0 and value.dtype.kind in "iuf":
        return float(value)
    return None


def fmt(value) -> str:
    value = float(value)
    if not np.isfinite(value):
        return str(value)
    return np.format_float_positional(value, precision=6, unique=True, trim="-")


def short(value, limit: int = 40) -> str:
    if isinstance(value, Unrepresentable | np.ndarray):
        return ""
    try:
        text = repr(value)
    except Exception:  # a value whose repr fails is described by its type alone
        return ""
    return text if len(text) <= limit else text[: limit - 3] + "..."
