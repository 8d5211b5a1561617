"""Reference data: where the ``<assignment>.npz`` files are, and how to read them.

The format is in ``docs/grading-contract.md``: npz entries ``<grade_id>/<case>/<name>``
and a JSON manifest under ``__manifest__``, read without pickle.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

MANIFEST_KEY = "__manifest__"
REFERENCE_DIR_ENV = "UPSAMPLING_REFERENCE_DIR"


def reference_dir() -> Path:
    """Folder of the reference ``.npz`` files.

    ``$UPSAMPLING_REFERENCE_DIR`` if set; else, when the package is used from a course
    checkout (an editable install), that checkout's ``autograder/reference`` (every case,
    hidden ones included); else the package's own ``reference`` data, which holds the
    visible cases only (what a student's installed copy checks against).
    """
    if os.environ.get(REFERENCE_DIR_ENV):
        return Path(os.environ[REFERENCE_DIR_ENV])
    package = Path(__file__).resolve().parent.parent
    checkout = package.parent / "autograder" / "reference"
    return checkout if checkout.is_dir() else package / "reference"


_CACHE: dict[tuple[str, float], tuple[dict, dict[str, np.ndarray]]] = {}


def load_reference(assignment: str, directory: str | Path | None = None):
    """``(manifest, arrays)`` of one assignment's reference file, read without pickle."""
    path = Path(directory) if directory is not None else reference_dir()
    path = path / f"{assignment}.npz"
    if not path.exists():
        raise FileNotFoundError(
            f"reference outputs for {assignment!r} not found at {path}; reinstall the course "
            f'package (python -m pip install ".[student]" in the course folder), or set '
            f"{REFERENCE_DIR_ENV} to the folder that holds them"
        )
    key = (str(path), path.stat().st_mtime)
    if key not in _CACHE:
        _CACHE[key] = read_reference_file(path)
    return _CACHE[key]


def read_reference_file(path: str | Path):
    """``(manifest, arrays)`` of a reference ``.npz`` file, read without pickle: the one
    reader of the format, for the notebooks' checks and the autograder alike."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    manifest = json.loads(str(arrays.pop(MANIFEST_KEY)))
    return manifest, arrays


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
