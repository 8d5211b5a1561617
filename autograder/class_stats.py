"""The numbers of an assignment's class report, from the grader's records alone.

Pure functions of the stored records (the JSON form of ``autograder.json``, see
``docs/grading-contract.md``): per test, how many submissions ended in each status; per
test and diagnosis, which students were given it; the students an instructor should look
at. Nothing here reads a file or runs student code.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from autograder.grading.records import TestStatus
from upsampling.checking.misconceptions import HINTS

STATUSES = [status.value for status in TestStatus]
TESTS_COLUMNS = ["grade_id", "points", "submissions", *STATUSES, "pass_rate"]
MISCONCEPTIONS_COLUMNS = ["grade_id", "hint", "count", "students"]
REVIEW_STATUSES = ("tampered", "crashed", "over_limit", "timed_out", "grader_error")
RECORD_REASONS = {  # a whole submission's status -> why to review it
    "missing": "no notebook submitted",
    "unreadable": "the notebook is unreadable",
    "grader error": "grader error: not graded (run the grader again)",
}


@dataclass
class TestRow:
    """One test: its points and how many submissions ended in each status."""

    __test__ = False  # not a pytest test class

    grade_id: str
    title: str
    function: str
    points: float
    counts: dict = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    undiagnosed: int = 0  # failed with no recognised misconception on any case

    @property
    def submissions(self) -> int:
        return sum(self.counts.values())

    @property
    def pass_rate(self) -> float:
        return self.counts["passed"] / self.submissions if self.submissions else 0.0


@dataclass
class Misconception:
    """One diagnosis on one test, and the students who were given it."""

    grade_id: str
    key: str  # the stable name, a key of upsampling.checking.misconceptions.HINTS
    students: list[str]  # sorted
    cases: list[str]  # the case labels that showed it ("visible case ...", "hidden case 3")

    @property
    def hint(self) -> str:
        """The hint as the student read it (unwrapped; it holds no case's numbers)."""
        return HINTS.get(self.key, self.key)

    @property
    def count(self) -> int:
        return len(self.students)


def test_rows(records: list[dict]) -> list[TestRow]:
    """Per test (in the order the records list them), the count of each status and of
    failures that no known misconception explains."""
    rows: dict[str, TestRow] = {}
    for record in records:
        for test in record["tests"]:
            row = rows.get(test["grade_id"])
            if row is None:
                row = rows[test["grade_id"]] = TestRow(
                    test["grade_id"],
                    test.get("title", ""),
                    test.get("function", ""),
                    float(test["max_points"]),
                )
            row.counts[test["status"]] = row.counts.get(test["status"], 0) + 1
            diagnosed = any(case.get("misconception") for case in test["cases"])
            if test["status"] == "failed" and not diagnosed:
                row.undiagnosed += 1
    return list(rows.values())


def misconceptions(records: list[dict]) -> list[Misconception]:
    """Every (test, diagnosis) given to at least one student, most frequent first (then
    in test order); a student counts once however many cases showed it."""
    found: dict[tuple[str, str], tuple[set, list]] = {}
    order: dict[str, int] = {}
    for record in records:
        for test in record["tests"]:
            order.setdefault(test["grade_id"], len(order))
            for case in test["cases"]:
                key = case.get("misconception")
                if not key:
                    continue
                students, cases = found.setdefault((test["grade_id"], key), (set(), []))
                students.add(record["student_id"])
                if case["case"] not in cases:
                    cases.append(case["case"])
    rows = [
        Misconception(gid, key, sorted(students), sorted(cases, key=_case_order))
        for (gid, key), (students, cases) in found.items()
    ]
    rows.sort(key=lambda m: (-m.count, order[m.grade_id], m.key))
    return rows


def _case_order(label: str):
    """Visible cases first (by name), then hidden ones by number."""
    kind, _, name = label.partition(" case ")
    return (kind != "visible", int(name) if name.isdigit() else 0, name)


@dataclass
class Review:
    """A student an instructor should look at, and why."""

    student_id: str
    reasons: list[str]


def review_list(
    records: list[dict],
    late: dict[str, tuple[float, float]] | None = None,
    similar: dict[str, list[tuple[str, float]]] | None = None,
) -> list[Review]:
    """Students with a tampered, crashed, timed-out or over-the-limit test, a grader
    error, a flag, a missing or unreadable notebook, a late submission (``late``: id ->
    (seconds late, penalty)) or a flagged similarity pair (``similar``: id -> [(other
    student, score)]); by student id."""
    late, similar = late or {}, similar or {}
    reasons: dict[str, list[str]] = defaultdict(list)
    for record in records:
        sid = record["student_id"]
        if record["status"] in RECORD_REASONS:
            reasons[sid].append(RECORD_REASONS[record["status"]])
        by_status = defaultdict(list)
        for test in record["tests"]:
            if test["status"] in REVIEW_STATUSES and record["status"] != "grader error":
                by_status[test["status"]].append(test)
        for status in REVIEW_STATUSES:
            if by_status[status]:
                names = ", ".join(_named(t) for t in by_status[status])
                reasons[sid].append(f"{TestStatus(status).label}: {names}")
        # flags, except those of tampered tests (said above)
        said = tuple(f"test {t['grade_id']}: " for t in by_status["tampered"])
        reasons[sid] += [f"flag: {f}" for f in record["flags"] if not f.startswith(said)]
    for sid, (seconds, penalty) in late.items():
        if seconds > 0:
            reasons[sid].append(f"late by {_duration(seconds)} (penalty {penalty:g})")
    for sid, pairs in similar.items():
        shown = ", ".join(f"{other} ({score:.2f})" for other, score in pairs)
        reasons[sid].append(f"similar code: {shown}")
    return [Review(sid, why) for sid, why in sorted(reasons.items()) if why]


def _named(test: dict) -> str:
    """A test's grade_id, with what was done to it if it was tampered with."""
    if test["status"] == "tampered" and test["flags"]:
        return f"{test['grade_id']} ({test['flags'][-1]})"
    return test["grade_id"]


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} min"
    return f"{hours / 24:.1f} days"


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
