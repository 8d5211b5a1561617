"""Argument checking shared by every operation.

Each check raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind,
wrong value) with a message that names the argument, the value and the rule, the
way PyTorch's ``torch.nn.functional`` would reject it.
"""

from __future__ import annotations

import numbers

import numpy as np


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def pair(value, name: str) -> tuple[int, int]:
    """``value`` as a pair of ints: an int, or a sequence of one or two ints."""
    if _is_int(value):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) in (1, 2) and all(map(_is_int, value)):
        return (int(value[0]),) * 2 if len(value) == 1 else (int(value[0]), int(value[1]))
    raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")


def positive_pair(value, name: str) -> tuple[int, int]:
    result = pair(value, name)
    if min(result) < 1:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return result


def non_negative_pair(value, name: str) -> tuple[int, int]:
    result = pair(value, name)
    if min(result) < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}")
    return result


def positive_int(value, name: str) -> int:
    if not _is_int(value):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return int(value)


def non_negative_int(value, name: str) -> int:
    if not _is_int(value):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be non-negative, got {value!r}")
    return int(value)


def as_float_array(x, name: str) -> np.ndarray:
    """``x`` as a floating-point ndarray; ints and bools become float64.

    PyTorch refuses integer tensors in these operations; we convert them instead, so
    that the worked examples can be written with plain integers.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and other non-arrays
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}") from exc
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr


def common_float(*arrays: np.ndarray | None):
    """The dtype that the result of an operation on ``arrays`` has (numpy promotion)."""
    return np.result_type(*[a for a in arrays if a is not None])


def spatial_input(x, name: str, op: str, spatial_dims: int = 2) -> tuple[np.ndarray, bool]:
    """Checks a channel-first input with ``spatial_dims`` spatial dimensions.

    Returns the input with a batch dimension and whether one was added, so that an
    unbatched ``(C, H, W)`` input gives an unbatched output, as in PyTorch.
    """
    arr = as_float_array(x, name)
    batched = spatial_dims + 2
    if arr.ndim == batched:
        return arr, False
    if arr.ndim == batched - 1:
        return arr[None], True
    raise ValueError(
        f"{op}: expected {name} with {batched - 1} (unbatched) or {batched} (batched) "
        f"dimensions, got shape {arr.shape}"
    )
