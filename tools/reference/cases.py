"""What an assignment's reference file is made of, and the helpers that make its inputs.

A :class:`Test` is one graded test cell: the function it calls, its points, the name of
the check (``upsampling.checking``), a PyTorch *oracle* that computes the expected
output(s) from a case's arguments, and its :class:`Case` list. Inputs come from
:class:`Seeds`, generators named by the case they make, and are small multiples of 1/4,
so that most results are exact in float64.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import torch


@dataclass
class Case:
    name: str
    visible: bool
    args: dict[str, np.ndarray] = field(default_factory=dict)
    kwargs: dict = field(default_factory=dict)


@dataclass
class Test:
    grade_id: str
    function: str
    points: int
    check: str
    oracle: object  # (args, kwargs) -> expected output(s), computed with PyTorch
    cases: list[Case]
    outputs: tuple[str, ...] = ("expected",)


@dataclass(frozen=True)
class Seeds:
    """Random generators named by the case they make. ``salt`` is a private course's
    secret word, which changes every hidden input (empty: the published ones)."""

    salt: str = ""

    def rng(self, *names: str) -> np.random.Generator:
        key = "/".join(((self.salt,) if self.salt else ()) + names)
        return np.random.default_rng(zlib.crc32(key.encode()))


def quarters(rng, shape, low=-12, high=12) -> np.ndarray:
    """Random multiples of 1/4 in [low/4, high/4]: exact in float64 sums and products."""
    return rng.integers(low, high + 1, size=shape).astype(np.float64) / 4


def distinct(rng, shape) -> np.ndarray:
    """Random distinct multiples of 1/4 (no ties for max pooling)."""
    n = int(np.prod(shape))
    return (rng.permutation(n).astype(np.float64) - n // 2).reshape(shape) / 4


def tensor(array) -> torch.Tensor:
    """``array`` as a contiguous float64 tensor (for the PyTorch oracles)."""
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float64))


def pair(value):
    """``(value, value)`` for a scalar, a tuple for a list or tuple (PyTorch's _pair)."""
    return tuple(value) if isinstance(value, list | tuple) else (value, value)


def float_array(rows) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


def nchw(plane) -> np.ndarray:
    """A 2-D plane as a (1, 1, H, W) batch."""
    return float_array(plane)[None, None]


# Worked examples (the chapters' own, see tests/book/test_worked_examples.py)

SEED001_X = [[0, 1], [2, 3]]
SEED001_K = [[0, 1], [2, 3]]
SEED002_X = [[2, 0], [4, 1]]
SEED002_K = [[4, 2, 1], [1, 0, 3], [0, 5, 2]]
LAPLACIAN = [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
LAPLACIAN_Y = [[3, -3, -1], [-2, 3, -3], [-3, 2, 3]]
D2L_K = [[1, 2], [3, 4]]
D2L_Y = [[27, 37], [57, 67]]
SEED004_X = np.arange(1.0, 10.0).reshape(3, 3)
ARANGE16 = np.arange(1.0, 17.0).reshape(4, 4)
SMALL = [[1, 2], [3, 4]]
