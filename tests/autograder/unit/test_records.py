"""The record of one submission (autograder.grading.records): its stored JSON, which is
the shape docs/grading-contract.md documents, and the student's view of it."""

from __future__ import annotations

import json

from autograder.grading.records import (
    CaseResult,
    CellProblem,
    Record,
    RecordStatus,
    TestResult,
    TestStatus,
)


def tampered_record() -> Record:
    passed = TestResult("t-one", "double", "double doubles", 2.0, 2.0, TestStatus.PASSED)
    passed.cases = [CaseResult("visible case small", True, TestStatus.PASSED, "ok")]
    tampered = TestResult("t-two", "halve", "", 1.0, 0.0, TestStatus.TAMPERED,
                          "the test cell was edited", would_pass=True)  # fmt: skip
    return Record("00_fixture", "ada", "fixture", "f" * 64, "bwrap", 3.0,
                  RecordStatus.FLAGGED, 2.0, notes=["a note"], flags=["test t-two: edited"],
                  cells=[CellProblem(4, "timed_out", "did not finish within 10 s")],
                  tests=[passed, tampered], logs=[("out", "err")])  # fmt: skip


def test_the_stored_json_is_the_documented_shape():
    stored = json.loads(tampered_record().dumps())
    assert stored == {
        "assignment": "00_fixture", "student_id": "ada", "notebook": "fixture",
        "fingerprint": "f" * 64, "sandbox": "bwrap", "status": "flagged",
        "score": 2.0, "max_score": 3.0, "notes": ["a note"], "flags": ["test t-two: edited"],
        "cells": [{"cell": 4, "status": "timed_out", "reason": "did not finish within 10 s"}],
        "tests": [
            {"grade_id": "t-one", "function": "double", "title": "double doubles",
             "max_points": 2.0, "points": 2.0, "status": "passed", "reason": None,
             "cases": [{"case": "visible case small", "visible": True, "status": "passed",
                        "message": "ok"}], "flags": []},
            {"grade_id": "t-two", "function": "halve", "title": "", "max_points": 1.0,
             "points": 0.0, "status": "tampered", "reason": "the test cell was edited",
             "cases": [], "flags": [], "would_pass": True},
        ],
    }  # fmt: skip


def test_the_logs_are_kept_only_when_asked_for():
    record = tampered_record()
    assert "logs" not in json.loads(record.dumps())
    assert json.loads(record.dumps(logs=True))["logs"] == [{"stdout": "out", "stderr": "err"}]


def test_the_student_view_hides_the_fingerprint_and_what_a_tampered_test_would_have_scored():
    view = tampered_record().student_view()
    assert "fingerprint" not in view
    assert all("would_pass" not in test for test in view["tests"])
    assert view["score"] == 2.0 and view["tests"][1]["status"] == "tampered"


def test_dumps_is_stable_text():
    """Sorted keys, one-space indents, a final newline: re-grading writes the same bytes."""
    text = tampered_record().dumps()
    assert text.endswith("}\n") and text == tampered_record().dumps()
    assert text.splitlines()[1] == ' "assignment": "00_fixture",'


def test_statuses_read_as_words():
    assert [s.label for s in TestStatus] == [
        "passed", "failed", "timed out", "crashed", "over a resource limit", "tampered",
        "grader error",
    ]  # fmt: skip
    assert RecordStatus.GRADER_ERROR.value == "grader error"
