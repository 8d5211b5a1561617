"""The reference outputs in autograder/reference/ (the grader's, every case) and
upsampling/reference/ (the package data students install, visible cases only): in sync
with their generator, readable without pickle, well-formed, hidden cases unseen and never
in the package, and usable without PyTorch."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from upsampling.assignments import ASSIGNMENTS as REGISTRY

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "autograder" / "reference"
STUDENT_REFERENCE = ROOT / "upsampling" / "reference"
ASSIGNMENTS = {name: a.topic for name, a in REGISTRY.items()}
CASE_FIELDS = {"name", "visible", "args", "kwargs", "expected", "check"}


def load(path: Path):
    with np.load(path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return json.loads(str(arrays.pop("__manifest__"))), arrays


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reference")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.reference",
            "--out",
            str(out / "grader"),
            "--student-out",
            str(out / "student"),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return out


@pytest.mark.parametrize("copy", ["grader", "student"])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_regenerating_gives_identical_files(assignment, copy, regenerated):
    folder = REFERENCE if copy == "grader" else STUDENT_REFERENCE
    committed, fresh = folder / f"{assignment}.npz", regenerated / copy / f"{assignment}.npz"
    if committed.read_bytes() == fresh.read_bytes():
        return
    (old_manifest, old), (new_manifest, new) = load(committed), load(fresh)
    differ = sorted(
        key
        for key in old.keys() | new.keys()
        if key not in old
        or key not in new
        or old[key].dtype != new[key].dtype
        or not np.array_equal(old[key], new[key])
    )
    pytest.fail(
        f"{committed.relative_to(ROOT)} is not what `python -m tools.reference` makes "
        f"(manifest {'same' if old_manifest == new_manifest else 'differs'}; arrays that "
        f"differ: {differ[:10]}); rerun it and commit the result"
    )


def test_a_salt_changes_every_hidden_input_but_not_the_worked_examples(tmp_path):
    """A private copy of the course can have hidden cases nobody has seen."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.reference",
            "--out",
            str(tmp_path),
            "--student-out",
            str(tmp_path / "student"),
            "--salt",
            "a private word",
            "03_transposed_conv",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    (manifest, published), (salted_manifest, salted) = (
        load(REFERENCE / "03_transposed_conv.npz"),
        load(tmp_path / "03_transposed_conv.npz"),
    )
    assert salted_manifest == manifest and salted.keys() == published.keys()
    for test_id, test in manifest["tests"].items():
        for case in test["cases"]:
            same = [
                np.array_equal(published[key], salted[key])
                for key in case["args"]
                if isinstance(key, str) and key in published
            ]
            if case["name"].startswith(("seed00", "d2l", "laplacian")):
                assert all(same), (test_id, case["name"])  # the worked examples stay
            elif not case["visible"] and same:  # a hidden case: some input changes
                assert not all(same), (test_id, case["name"])


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_package_data_is_exactly_the_visible_cases(assignment):
    """What a student installs: every visible case with the grader's own arrays, and no
    hidden case, input or output."""
    (manifest, arrays), (student, student_arrays) = (
        load(REFERENCE / f"{assignment}.npz"),
        load(STUDENT_REFERENCE / f"{assignment}.npz"),
    )
    assert student.pop("visible_only") is True
    for test in manifest["tests"].values():
        test["cases"] = [case for case in test["cases"] if case["visible"]]
    assert student == manifest
    hidden = {key.rsplit("/", 1)[0] for key in arrays} - {
        f"{gid}/{case['name']}" for gid, t in manifest["tests"].items() for case in t["cases"]
    }
    assert hidden and not any(key.rsplit("/", 1)[0] in hidden for key in student_arrays)
    for key, value in student_arrays.items():
        assert value.dtype == arrays[key].dtype and np.array_equal(value, arrays[key]), key


@pytest.mark.parametrize("folder", [REFERENCE, STUDENT_REFERENCE])
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_file_is_plain_arrays_with_fixed_timestamps(assignment, folder):
    path = folder / f"{assignment}.npz"
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    assert [info.filename for info in infos] == sorted(info.filename for info in infos)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    _, arrays = load(path)  # allow_pickle=False: an object array would raise here
    assert all(array.dtype.kind in "iuf" for array in arrays.values())


@pytest.mark.parametrize("assignment, topic", ASSIGNMENTS.items())
def test_manifest_is_well_formed(assignment, topic):
    manifest, arrays = load(REFERENCE / f"{assignment}.npz")
    assert manifest["assignment"] == assignment
    used = set()
    total = 0
    for grade_id, test in manifest["tests"].items():
        assert re.fullmatch(rf"{topic}-[a-z0-9]+(-[a-z0-9]+)*", grade_id), grade_id
        assert isinstance(test["points"], int) and test["points"] > 0
        total += test["points"]
        names = [case["name"] for case in test["cases"]]
        assert len(names) == len(set(names)), grade_id
        visible = [case for case in test["cases"] if case["visible"]]
        assert visible and len(visible) < len(test["cases"]), f"{grade_id}: visible and hidden"
        assert test["cases"][: len(visible)] == visible, f"{grade_id}: visible cases first"
        for case in test["cases"]:
            assert CASE_FIELDS <= case.keys(), case
            keys = list(case["args"]) + (
                [case["expected"]] if isinstance(case["expected"], str) else case["expected"]
            )
            for key in keys:
                assert key.startswith(f"{grade_id}/{case['name']}/") and key in arrays, key
                used.add(key)
            json.dumps(case["kwargs"])
            floats = [arrays[key] for key in keys if arrays[key].dtype.kind == "f"]
            assert all(a.dtype == np.float64 for a in floats)
    assert total == manifest["total_points"]
    assert used == set(arrays), f"unreferenced arrays: {sorted(set(arrays) - used)[:5]}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_cases_use_unseen_inputs(assignment):
    manifest, arrays = load(REFERENCE / f"{assignment}.npz")
    cases = [case for test in manifest["tests"].values() for case in test["cases"]]

    def fingerprint(case):
        args = tuple(
            arrays[key].tobytes() + str(arrays[key].shape).encode() for key in case["args"]
        )
        return args, json.dumps(case["kwargs"], sort_keys=True)

    seen = {fingerprint(case) for case in cases if case["visible"]}
    seen_arrays = {a for case in cases if case["visible"] for a in fingerprint(case)[0]}
    for case in cases:
        if not case["visible"]:
            assert fingerprint(case) not in seen, case["name"]
            if case["args"]:
                assert not set(fingerprint(case)[0]) <= seen_arrays, case["name"]


def test_hidden_transposed_cases_cover_the_hard_parts():
    manifest, arrays = load(REFERENCE / "03_transposed_conv.npz")
    hidden = [
        case
        for grade_id in ("transposed-stride", "transposed-output-padding", "transposed-channels")
        for case in manifest["tests"][grade_id]["cases"]
        if not case["visible"]
    ]
    inputs = [arrays[case["args"][0]] for case in hidden]
    weights = [arrays[case["args"][1]] for case in hidden]
    kwargs = [case["kwargs"] for case in hidden]
    assert any(x.shape[0] > 1 for x in inputs), "batches"
    assert any(x.shape[1] > 1 for x in inputs) and any(w.shape[1] > 1 for w in weights)
    assert any(x.shape[2] != x.shape[3] and x.shape[2] % 2 for x in inputs), "odd, non-square"
    assert any(w.shape[2] != w.shape[3] for w in weights), "non-square kernels"
    assert all(not np.array_equal(w, w[..., ::-1, ::-1]) for w in weights), "asymmetric"
    assert any(isinstance(k.get("stride"), list) for k in kwargs), "stride per axis"
    assert any(k.get("padding") for k in kwargs) and any(k.get("output_padding") for k in kwargs)
    assert any(len(case["args"]) == 3 for case in hidden), "bias"


GRADING_WITHOUT_TORCH = """
import sys
from upsampling.checking import check_output, expected_output, load_reference
for assignment in sys.argv[1:]:
    manifest, reference = load_reference(assignment)
    for test in manifest["tests"].values():
        for case in test["cases"]:
            assert check_output(case, expected_output(case, reference), reference).passed
            assert not check_output(case, None, reference).passed
assert "torch" not in sys.modules, "grading imported torch"
print("ok")
"""


def test_grading_never_imports_torch():
    result = subprocess.run(
        [sys.executable, "-c", GRADING_WITHOUT_TORCH, *ASSIGNMENTS],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_icnr_reference_weights_make_pixel_shuffle_nearest():
    """The expected ICNR weights do what the notebook says (checked with PyTorch): after
    pixel_shuffle the sub-pixel convolution is conv2d then nearest upsampling by r."""
    import torch
    import torch.nn.functional as F

    manifest, arrays = load(REFERENCE / "04_checkerboard.npz")
    for case in manifest["tests"]["checkerboard-icnr"]["cases"]:
        w = torch.from_numpy(arrays[case["args"][0]])
        icnr = torch.from_numpy(arrays[case["expected"]])
        r = case["kwargs"]["upscale_factor"]
        x = torch.randn(2, w.shape[1], 4, 5, dtype=torch.float64)
        shuffled = F.pixel_shuffle(F.conv2d(x, icnr), r)
        nearest = F.interpolate(F.conv2d(x, w), scale_factor=r, mode="nearest")
        torch.testing.assert_close(shuffled, nearest, rtol=1e-12, atol=1e-12)
