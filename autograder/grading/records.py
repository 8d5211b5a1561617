"""What grading one submission produces: a typed record, and its JSON form.

:func:`autograder.grading.grade.grade` returns a :class:`Record`. It is stored as JSON
(``autograded/<student>/<assignment>/autograder.json``, the shape documented in
``docs/grading-contract.md``) by :meth:`Record.to_json`, and the reports (grades.csv,
feedback) read that JSON form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum


class TestStatus(str, Enum):
    """How one test ended. A fault (crash, timeout, limit) costs only that test."""

    __test__ = False  # not a pytest test class

    PASSED = "passed"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    CRASHED = "crashed"
    OVER_LIMIT = "over_limit"
    TAMPERED = "tampered"
    GRADER_ERROR = "grader_error"  # the grader's fault, never the student's

    @property
    def label(self) -> str:
        return {
            "timed_out": "timed out",
            "over_limit": "over a resource limit",
            "grader_error": "grader error",
        }.get(self.value, self.value)


class RecordStatus(str, Enum):
    """How the grading of a whole submission ended."""

    GRADED = "graded"
    FLAGGED = "flagged"  # graded, with something for the instructor to look at
    MISSING = "missing"  # no notebook submitted
    UNREADABLE = "unreadable"  # not a notebook
    # The grader itself failed (the sandbox could not start, the checker broke): such a
    # record is never a grade. It is not written to the gradebook or committed, so the
    # next run grades the submission again.
    GRADER_ERROR = "grader error"


STATUS_LABELS = {status.value: status.label for status in TestStatus}


def _plain(value):
    return value.value if isinstance(value, Enum) else value


@dataclass
class CaseResult:
    case: str  # "visible case <name>" or "hidden case <n>"
    visible: bool
    status: TestStatus | None = None
    message: str = ""
    misconception: str | None = None  # key of the hint in the message (HINTS), if any

    def to_json(self) -> dict:
        out = {
            "case": self.case,
            "visible": self.visible,
            "status": _plain(self.status),
            "message": self.message,
        }
        if self.misconception:
            out["misconception"] = self.misconception
        return out


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class

    grade_id: str
    function: str
    title: str
    max_points: float
    points: float = 0.0
    status: TestStatus | None = None  # None while cases are still running
    reason: str | None = None
    cases: list[CaseResult] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    would_pass: bool | None = None  # set for a tampered test (instructor only)
    some_case_failed: bool = False  # working state, not stored

    def to_json(self) -> dict:
        out = {
            "grade_id": self.grade_id,
            "function": self.function,
            "title": self.title,
            "max_points": self.max_points,
            "points": self.points,
            "status": _plain(self.status),
            "reason": self.reason,
            "cases": [c.to_json() for c in self.cases],
            "flags": list(self.flags),
        }
        if self.would_pass is not None:
            out["would_pass"] = self.would_pass
        return out


@dataclass
class CellProblem:
    cell: int  # 1-based, as the student sees it
    status: str  # "error" or the fault's kind (timed_out, crashed, over_limit)
    reason: str | None = None

    def to_json(self) -> dict:
        out = {"cell": self.cell, "status": _plain(self.status)}
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class Record:
    assignment: str
    student_id: str
    notebook: str
    fingerprint: str  # the job's key: equal fingerprints, equal records
    sandbox: str
    max_score: float
    status: RecordStatus = RecordStatus.GRADED
    score: float = 0.0
    notes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    cells: list[CellProblem] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)
    logs: list[tuple[str, str]] = field(default_factory=list)  # (stdout, stderr) per child
    seconds: float = 0.0  # how long grading took (not stored: records stay reproducible)

    @property
    def is_grader_error(self) -> bool:
        return self.status is RecordStatus.GRADER_ERROR

    def to_json(self, logs: bool = False) -> dict:
        """The stored form (without the children's output unless ``logs``)."""
        out = {
            "assignment": self.assignment,
            "student_id": self.student_id,
            "notebook": self.notebook,
            "fingerprint": self.fingerprint,
            "sandbox": self.sandbox,
            "status": _plain(self.status),
            "score": self.score,
            "max_score": self.max_score,
            "notes": list(self.notes),
            "flags": list(self.flags),
            "cells": [c.to_json() for c in self.cells],
            "tests": [t.to_json() for t in self.tests],
        }
        if logs:
            out["logs"] = [{"stdout": o, "stderr": e} for o, e in self.logs]
        return out

    def student_view(self) -> dict:
        """The stored form without what only the instructor may see."""
        return student_view(self.to_json())

    def dumps(self, logs: bool = False) -> str:
        return json.dumps(self.to_json(logs), indent=1, sort_keys=True) + "\n"


def student_view(stored: dict) -> dict:
    """A stored record (its JSON form) without what only the instructor may see."""
    view = json.loads(json.dumps(stored))  # a deep copy of plain data
    view.pop("fingerprint", None)
    view.pop("logs", None)
    for test in view["tests"]:
        test.pop("would_pass", None)
    return view
