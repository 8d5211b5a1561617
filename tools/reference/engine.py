"""Makes the reference outputs that the graded notebooks are checked against, with PyTorch.

    .venv/bin/python -m tools.reference [--out DIR] [--student-out DIR] [--salt WORD]
                                        [ASSIGNMENT ...]

writes ``autograder/reference/<assignment>.npz`` for the assignments of
``upsampling/assignments.py`` (every case: the grader's copy) and
``upsampling/reference/<assignment>.npz`` (the visible cases only: the package data that
the notebooks' test cells read on a student's machine). The format is in
``docs/grading-contract.md``. Each assignment's module here lists the arguments its graded
functions are called with; the expected outputs come from ``torch.nn.functional`` (never
from the ``upsampling`` package, so that the package and the reference check each other).

Visible cases are the worked examples of the chapters; hidden ones use inputs students
have not seen: asymmetric kernels, odd and non-square sizes, batches, several channels,
stride, padding, output_padding. The output is deterministic: inputs come from seeds
derived from the case names (and the course's salt), and the ``.npz`` is written with
fixed zip timestamps, so regenerating gives identical bytes (``tests/tools/test_reference.py``
checks that).

Adding an assignment: a module here with ``tests(seeds) -> list[Test]``, and its line in
:data:`BUILDERS`.

This is a tool of the course's authors: it imports PyTorch and is not part of the
grader (nor of the wheel the grading machines install).
"""

from __future__ import annotations

import argparse
import io
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch

from tools.reference import checkerboard, sizes, transposed_conv, unpooling
from tools.reference.cases import Seeds
from upsampling.assignments import ASSIGNMENTS

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "autograder" / "reference"
STUDENT_OUT = REPO / "upsampling" / "reference"
MANIFEST_KEY = "__manifest__"
TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}

BUILDERS = {
    "01_sizes": sizes.tests,
    "02_unpooling": unpooling.tests,
    "03_transposed_conv": transposed_conv.tests,
    "04_checkerboard": checkerboard.tests,
}
assert BUILDERS.keys() == ASSIGNMENTS.keys(), "one test builder per registered assignment"


def build(assignment: str, seeds: Seeds) -> dict[str, np.ndarray]:
    """The arrays of one assignment's reference file, manifest included."""
    notebook, chapter = ASSIGNMENTS[assignment].notebook, ASSIGNMENTS[assignment].chapter
    arrays: dict[str, np.ndarray] = {}
    tests = {}
    for test in BUILDERS[assignment](seeds):
        assert test.grade_id not in tests, test.grade_id
        cases = []
        for case in test.cases:
            prefix = f"{test.grade_id}/{case.name}"
            assert not any(k.startswith(prefix + "/") for k in arrays), prefix
            values = [np.array(v) for v in case.args.values()]
            expected = test.oracle(values, case.kwargs)
            outputs = expected if isinstance(expected, tuple) else (expected,)
            assert len(outputs) == len(test.outputs), (prefix, len(outputs))
            for name, value in case.args.items():
                arrays[f"{prefix}/{name}"] = np.array(value)
            for name, value in zip(test.outputs, outputs, strict=True):
                arrays[f"{prefix}/{name}"] = np.array(value)
            entry = {
                "name": case.name,
                "visible": case.visible,
                "args": [f"{prefix}/{name}" for name in case.args],
                "kwargs": case.kwargs,
                "expected": (
                    f"{prefix}/{test.outputs[0]}"
                    if len(test.outputs) == 1
                    else [f"{prefix}/{name}" for name in test.outputs]
                ),
                "check": test.check,
            }
            if any(np.asarray(v).dtype.kind == "f" for v in outputs):
                entry.update(TOLERANCE)
            cases.append(entry)
        tests[test.grade_id] = {"function": test.function, "points": test.points, "cases": cases}
    manifest = {
        "assignment": assignment,
        "notebook": notebook,
        "chapter": chapter,
        "total_points": sum(test["points"] for test in tests.values()),
        "tests": tests,
    }
    arrays[MANIFEST_KEY] = np.array(json.dumps(manifest, separators=(",", ":")))
    return arrays


def visible_only(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The student copy of a reference file: the visible cases and their arrays only, so
    that the package a student installs holds no hidden input or output."""
    manifest = json.loads(str(arrays[MANIFEST_KEY]))
    keep = set()
    for test in manifest["tests"].values():
        test["cases"] = [case for case in test["cases"] if case["visible"]]
        for case in test["cases"]:
            expected = case["expected"]
            keep.update(case["args"], [expected] if isinstance(expected, str) else expected)
    manifest["visible_only"] = True
    out = {key: value for key, value in arrays.items() if key in keep}
    out[MANIFEST_KEY] = np.array(json.dumps(manifest, separators=(",", ":")))
    return out


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez`` but byte-for-byte reproducible: sorted entries, fixed timestamps."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for key in sorted(arrays):
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.array(arrays[key], order="C"), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, buffer.getvalue())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tools.reference", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--out", type=Path, default=OUT, help="output folder (default: %(default)s)"
    )
    salt_file = OUT / "salt.txt"  # a private copy of the course keeps its word here
    parser.add_argument(
        "--salt",
        default=salt_file.read_text().strip() if salt_file.exists() else "",
        help="a secret word that changes every hidden input (default: the contents of "
        "autograder/reference/salt.txt, if there is one)",
    )
    parser.add_argument(
        "--student-out",
        type=Path,
        default=STUDENT_OUT,
        help="output folder of the visible-only copies (default: %(default)s)",
    )
    parser.add_argument("assignments", nargs="*", default=list(ASSIGNMENTS))
    options = parser.parse_args(argv)
    seeds = Seeds(options.salt)
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="Using padding='same' with even kernel")
    for folder in (options.out, options.student_out):
        folder.mkdir(parents=True, exist_ok=True)
    for assignment in options.assignments:
        arrays = build(assignment, seeds)
        for path, content in (
            (options.out / f"{assignment}.npz", arrays),
            (options.student_out / f"{assignment}.npz", visible_only(arrays)),
        ):
            write_npz(path, content)
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
