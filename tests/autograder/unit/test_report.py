"""What a run writes for people (autograder.report): grades.csv read back with the csv
module, the feedback page checked for what a student must and must not see, and the
summary table's counts."""

from __future__ import annotations

import csv
import io
from collections import Counter

from autograder import report


def record(student, score, statuses, status="graded", flags=()):
    tests = [
        {"grade_id": f"t{i}", "title": f"test {i}", "status": s, "points": 1.0 if s == "passed"
         else 0.0, "max_points": 1.0, "reason": None if s == "passed" else f"why t{i}",
         "cases": [], "flags": []}
        for i, s in enumerate(statuses, start=1)
    ]  # fmt: skip
    return {"student_id": student, "assignment": "00_fixture", "notebook": "fixture",
            "score": score, "max_score": float(len(statuses)), "status": status,
            "notes": [], "flags": list(flags), "cells": [], "tests": tests}  # fmt: skip


def rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_grades_csv_quotes_any_id_and_subtracts_late_penalties():
    records = [
        record("Doe, Jane", 2.0, ["passed", "passed", "failed"]),
        record('quote"d', 1.0, ["passed", "timed_out", "tampered"], "flagged", ["edited"]),
    ]
    got = rows(report.grades_csv(records, {("00_fixture", "Doe, Jane"): 0.5}))
    assert [r["student_id"] for r in got] == ["Doe, Jane", 'quote"d']
    assert (got[0]["score"], got[0]["late_penalty"], got[0]["max_score"]) == ("1.5", "0.5", "3")
    assert got[1]["score"] == "1" and got[1]["late_penalty"] == "0" and got[1]["flags"] == "1"
    assert got[1]["tests"] == "t1=passed 1/1; t2=timed out 0/1; t3=tampered 0/1"


def test_a_penalty_never_makes_a_score_negative():
    got = rows(report.grades_csv([record("ada", 1.0, ["passed"])], {("00_fixture", "ada"): 5}))
    assert got[0]["score"] == "0"


def test_a_grader_error_has_no_score_rather_than_a_zero():
    got = rows(report.grades_csv([report.grader_error_row("bob", "00_fixture")]))
    assert (got[0]["score"], got[0]["max_score"], got[0]["status"]) == ("", "", "grader error")


def test_feedback_escapes_what_students_wrote_and_shows_each_failure_once():
    view = record("<script>", 1.0, ["passed", "failed"])
    view["tests"][1]["reason"] = "expected <b>2</b>"
    view["tests"][1]["cases"] = [
        {"case": "hidden case 1", "status": "failed", "message": "expected <b>2</b>"},
        {"case": "hidden case 2", "status": "failed", "message": "hidden case 2: wrong shape"},
    ]
    page = report.feedback_html(view)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert page.count("expected &lt;b&gt;2&lt;/b&gt;") == 1
    assert "hidden case 2: wrong shape" in page
    assert "t1 — passed" not in page  # only failures get a section


def test_the_summary_counts_statuses_per_test_and_names_who_to_review():
    records = [
        record("ada", 2.0, ["passed", "passed"]),
        record("bob", 0.0, ["crashed", "failed"], "flagged"),
    ]
    table = report.summary_table(records, Counter({"up to date": 3}), 1.25)
    lines = table.splitlines()
    assert lines[0] == "2 submissions: 1 flagged, 1 graded; 3 already up to date (1.2 s)"
    t1 = next(line for line in lines if line.startswith("t1 "))
    assert t1.split()[1:] == ["1", "0", "0", "1", "0", "0", "0"]  # passed ... crashed
    assert lines[-2:] == ["mean score 1.00 / 2", "to review (1): bob"]


def test_the_text_under_a_test_cell():
    passed, failed = record("ada", 1.0, ["passed", "failed"])["tests"]
    assert report.test_result_text(passed) == "autograder: passed (1 / 1 points)"
    assert report.test_result_text(failed) == "autograder: failed (0 / 1 points)\nwhy t2"
