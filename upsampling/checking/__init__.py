"""Checks a graded function's output against its PyTorch reference and says what is wrong.

The graded notebooks' test cells and the autograder share this module (see
``docs/grading-contract.md``). A *case* is one entry of an assignment's manifest: the
function's arguments (arrays stored in ``<assignment>.npz``, see :func:`reference_dir`;
other values as JSON), the expected output computed by PyTorch, and the name of the check.

The parts, each with one responsibility (``docs/grading-contract.md`` has the contract):

- :mod:`~upsampling.checking.reference`: where the reference ``.npz`` files are and the
  one reader of their format;
- :mod:`~upsampling.checking.verdict`: the verdict on one case
  (:mod:`~upsampling.checking.values` reads the data it compares);
- :mod:`~upsampling.checking.misconceptions`: the deliberately wrong variants of each
  operation that name a student's likely mistake;
- :mod:`~upsampling.checking.notebook`: the notebooks' wrapper.

This module gathers the names the notebooks, the autograder and the tests import:

- :func:`check_output` is the whole verdict, a pure function of plain data, so that the
  autograder can call it in its own clean interpreter on arrays that came out of the
  sandbox. When the values or the shape are wrong it tries the misconceptions it knows
  for that kind of function and names the one that reproduces the output exactly.
- :func:`check_cases` is the thin wrapper the notebooks call: it runs the student's
  function in-process on named cases and raises ``AssertionError`` with every failure.

Examples
--------
In a test cell of ``transposed_conv.ipynb``::

    check_cases(conv_transpose2d, "03_transposed_conv", "transposed-stride", ["seed002-stride2"])
"""

from upsampling.checking.misconceptions import DIAGNOSES, HINTS, SCALAR_CHECKS
from upsampling.checking.notebook import check_cases, run_case
from upsampling.checking.reference import (
    MANIFEST_KEY,
    REFERENCE_DIR_ENV,
    case_arguments,
    expected_output,
    load_reference,
    read_reference_file,
    reference_dir,
)
from upsampling.checking.values import Unrepresentable
from upsampling.checking.verdict import DEFAULT_ATOL, DEFAULT_RTOL, CheckResult, check_output

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "DIAGNOSES",
    "HINTS",
    "MANIFEST_KEY",
    "REFERENCE_DIR_ENV",
    "SCALAR_CHECKS",
    "CheckResult",
    "Unrepresentable",
    "case_arguments",
    "check_cases",
    "check_output",
    "expected_output",
    "load_reference",
    "read_reference_file",
    "reference_dir",
    "run_case",
]
