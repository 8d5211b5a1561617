"""The catalogue of docs/autograder-catalogue.md: one crafted submission (at least) per item,
graded in one run.

The submissions are made by code from the released ``03_transposed_conv`` notebook
(``tests/autograder/fixtures/crafted.py``); each asserts its per-test statuses and points.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from autograder.run import GradingOptions, grade_assignment
from autograder.sandbox import Limits
from autograder.sandbox.processes import processes_of_uid
from autograder.sandbox.uids import UID_RANGE
from tests.autograder.fixtures import crafted
from tests.autograder.fixtures.course import (
    hidden_test_lines,
    venv_env,
)

A = crafted.A
LIMITS = Limits(test_timeout=3.0, setup_timeout=20.0, memory_mb=1024, processes=32)


def _stray_sandbox_processes() -> list[int]:
    if os.geteuid() != 0:
        return []
    return [pid for uid in UID_RANGE[:8] for pid in processes_of_uid(uid)]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    os.environ["PATH"] = venv_env()["PATH"]
    root, subs = crafted.catalogue_course(tmp_path_factory.mktemp("course") / "course")
    out = io.StringIO()
    result = grade_assignment(
        root, A, GradingOptions(n_jobs=2, limits=LIMITS, progress=False), out=out
    )
    records = {r["student_id"]: r for r in result["records"]}
    return root, subs, records, result, out.getvalue()


def test_every_submission_is_graded(graded):
    root, subs, records, result, _ = graded
    assert sorted(records) == sorted(subs)
    assert result["errors"] == []
    assert result["sandbox"] == "bwrap"


@pytest.mark.parametrize(
    "student",
    list(
        crafted.submissions(
            {k: "" for k in (crafted.SCATTER, crafted.CONV, crafted.MATRIX, crafted.MATRIX_T)}
        )
    ),
)
def test_catalogue_statuses_and_points(graded, student):
    root, subs, records, _, _ = graded
    spec, record = subs[student], records[student]
    got = {t["grade_id"]: t["status"] for t in record["tests"]}
    assert got == spec["expect"], json.dumps(record["tests"], indent=1)[:4000]
    for test in record["tests"]:
        assert test["points"] == (test["max_points"] if test["status"] == "passed" else 0.0)
        if test["status"] != "passed":
            assert test["reason"], f"{test['grade_id']}: a zero needs a reason"
    assert record["score"] == sum(t["points"] for t in record["tests"])
    assert record["max_score"] == 17.0  # fake grade cells add nothing
    if "status" in spec:
        assert record["status"] == spec["status"]
    elif any(s == "tampered" for s in spec["expect"].values()):
        assert record["status"] == "flagged"
    for gid, needle in spec.get("reason", {}).items():
        test = next(t for t in record["tests"] if t["grade_id"] == gid)
        assert needle in test["reason"] or any(needle in c["message"] for c in test["cases"])
    for gid in spec.get("flagged", []):
        test = next(t for t in record["tests"] if t["grade_id"] == gid)
        assert test["flags"], f"{gid} should be flagged"
        assert record["status"] == "flagged"


def test_resource_statuses_name_the_limit(graded):
    records = graded[2]
    hog = {t["grade_id"]: t for t in records["hog"]["tests"]}
    assert "3 s" in hog["transposed-scatter"]["reason"]
    assert "memory" in hog["transposed-matrix"]["reason"]
    assert "processes" in hog["transposed-matrix-transpose"]["reason"]
    spam = {t["grade_id"]: t for t in records["spammer"]["tests"]}
    assert "file size" in spam["transposed-matrix-transpose"]["reason"]


def test_a_cell_that_does_not_parse_is_named_in_the_reason(graded):
    typo = {t["grade_id"]: t for t in graded[2]["typo"]["tests"]}
    reason = typo["transposed-matrix"]["reason"]
    assert "no function named conv_matrix" in reason
    assert "SyntaxError" in reason and "fix these cells first" in reason


def test_nothing_was_read_or_written_outside_the_sandbox(graded):
    root = graded[0]
    assert not list(root.rglob("pwned*"))
    assert not Path("/pwned").exists() and not Path("/tmp/pwned").exists()
    record = json.loads((root / "autograded/writer" / A / "autograder.json").read_text())
    assert record["score"] == 17.0
    assert "pwned" not in (root / "grades.csv").read_text()


def test_no_process_left_alive(graded):
    assert _stray_sandbox_processes() == []
    assert not [p for p in Path("/proc").glob("[0-9]*") if _cmdline(p).startswith("sleep 1000")]


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _student_outputs(root: Path) -> dict[Path, str]:
    files = {
        p: p.read_text(encoding="utf-8") for p in (root / "feedback").rglob("*") if p.is_file()
    }
    return files


def test_hidden_test_text_never_reaches_students(graded):
    root, _, _, _, _ = graded
    hidden = hidden_test_lines(root, A)
    assert hidden, "the source notebook has hidden tests"
    ref = np.load(root / "autograder/reference" / f"{A}.npz", allow_pickle=False)
    manifest = json.loads(str(ref["__manifest__"]))
    hidden_names = [
        c["name"] for t in manifest["tests"].values() for c in t["cases"] if not c["visible"]
    ]
    hidden_inputs = [
        repr(np.round(ref[c["args"][0]], 6).tolist())
        for t in manifest["tests"].values()
        for c in t["cases"]
        if not c["visible"] and c["args"]
    ]
    outputs = _student_outputs(root)
    assert outputs
    for path, text in outputs.items():
        for line in hidden:
            assert line not in text, f"hidden test line in {path}"
        for name in hidden_names:
            assert not re.search(rf"\b{re.escape(name)}\b", text), f"hidden case name in {path}"
        for value in hidden_inputs:
            assert value not in text, f"hidden input leaked into {path}"
    leaker = outputs[root / "feedback/leaker" / A / "transposed_conv.html"]
    assert "LEAK" in leaker  # visible cases show their messages; hidden ones do not


def test_autograded_notebooks_keep_hidden_tests_out(graded):
    root = graded[0]
    released = (root / "exercises" / A / "transposed_conv.ipynb").read_text(encoding="utf-8")
    hidden = [line for line in hidden_test_lines(root, A) if json.dumps(line)[1:-1] not in released]
    assert hidden
    for path in (root / "autograded").glob(f"*/{A}/*.ipynb"):
        text = path.read_text(encoding="utf-8")
        assert not any(line in text for line in hidden)


def test_grades_csv_is_well_formed(graded):
    root, subs, records, _, _ = graded
    with open(root / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:5] == ["student_id", "assignment", "score", "max_score", "status"]
    assert sorted(r["student_id"] for r in rows) == sorted(subs)
    for row in rows:
        assert float(row["score"]) == records[row["student_id"]]["score"]
        assert row["status"] == records[row["student_id"]]["status"]


def test_gradebook_matches_records_and_nbgrader_export_works(graded):
    import subprocess
    import sys

    from nbgrader.api import Gradebook

    root, subs, records, _, _ = graded
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student, record in records.items():
            sub = gb.find_submission(A, student)
            assert sub.score == pytest.approx(record["score"]), student
            nb = gb.find_submission_notebook("transposed_conv", A, student)
            assert nb.flagged == bool(record["flags"])
    out = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", "--to", "nbgrader_export.csv"],
        cwd=root,
        capture_output=True,
        text=True,
        env=venv_env(),
    )
    assert out.returncode == 0, out.stderr
    with open(root / "nbgrader_export.csv", newline="", encoding="utf-8") as f:
        exported = {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)}
    # nbgrader's own CSV export does not quote ids with commas (ours does): skip those.
    expected = {s: r["score"] for s, r in records.items() if "," not in s}
    assert {s: v for s, v in exported.items() if s in expected} == expected


def test_summary_table_printed(graded):
    text = graded[4]
    assert "transposed-scatter" in text and "tampered" in text and "to review" in text
