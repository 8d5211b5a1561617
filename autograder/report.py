"""What a grading run writes for people: grades.csv, feedback HTML, the summary table."""

from __future__ import annotations

import csv
import html
import io
from collections import Counter

from autograder.grading.records import STATUS_LABELS

CSV_COLUMNS = [
    "student_id",
    "assignment",
    "score",
    "max_score",
    "status",
    "late_penalty",
    "flags",
    "tests",
]


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def grader_error_row(student_id: str, assignment: str) -> dict:
    """A grades.csv row for a submission the grader failed on: no score (never a 0)."""
    return {
        "student_id": student_id,
        "assignment": assignment,
        "score": None,
        "max_score": None,
        "status": "grader error",
        "flags": [],
        "tests": [],
    }


def grades_csv(records: list[dict], penalties: dict | None = None) -> str:
    """One row per (student, assignment), quoted by the csv module whatever the ids hold.

    ``penalties`` maps (assignment, student id) to the late penalty in the gradebook;
    ``score`` is then what ``nbgrader export`` reports: max(0, raw score - penalty).
    """
    penalties = penalties or {}
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in sorted(records, key=lambda r: (r["assignment"], r["student_id"])):
        tests = "; ".join(
            f"{t['grade_id']}={STATUS_LABELS.get(t['status'], t['status'])} "
            f"{_number(t['points'])}/{_number(t['max_points'])}"
            for t in r["tests"]
        )
        penalty = penalties.get((r["assignment"], r["student_id"]), 0.0)
        score = None if r["score"] is None else max(0.0, r["score"] - penalty)
        writer.writerow(
            [
                r["student_id"],
                r["assignment"],
                _number(score),
                _number(r["max_score"]),
                r["status"],
                _number(None if score is None else penalty),
                len(r["flags"]),
                tests,
            ]
        )
    return buf.getvalue()


STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.5rem} h2{font-size:1.15rem;margin-top:1.8rem}
table{border-collapse:collapse;width:100%} td,th{border:1px solid #ccc;padding:.35rem .5rem;
text-align:left;vertical-align:top} pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem;
margin:.3rem 0;font-size:.85rem} .passed{color:#176117} .failed,.crashed,.timed_out,.over_limit,
.tampered{color:#a01616} .note{background:#fff6d6;padding:.5rem;border-left:4px solid #e0b400}
"""


def feedback_html(view: dict, late_penalty: float = 0.0) -> str:
    """Feedback a student may read: built only from the student view of the record (test
    titles from the released notebook, verdicts and messages; never test code), and the
    late penalty the gradebook holds (the score shown is then the one that counts)."""
    e = html.escape
    if late_penalty > 0 and view["score"] is not None:
        final = max(0.0, view["score"] - late_penalty)
        score = (
            f"<b>{_number(final)} / {_number(view['max_score'])}</b> after the late penalty "
            f"({_number(view['score'])} for the tests, minus {_number(late_penalty)} because "
            "the notebook was submitted after the due date)"
        )
    else:
        score = f"<b>{_number(view['score'])} / {_number(view['max_score'])}</b>"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Feedback: {e(view['assignment'])} — {e(view['student_id'])}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Feedback on {e(view['assignment'])} ({e(view['notebook'])}.ipynb)</h1>",
        f"<p>Student: <b>{e(view['student_id'])}</b> — score {score}</p>",
    ]
    if view["status"] in ("missing", "unreadable"):
        parts.append(f'<p class="note">{e(view["tests"][0]["reason"] or "")}</p>')
    for note in view["notes"]:
        parts.append(f'<p class="note">{e(note)}</p>')
    if view["flags"]:
        parts.append('<p class="note">Flagged for review by the instructor:</p><ul>')
        parts += [f"<li>{e(flag)}</li>" for flag in view["flags"]]
        parts.append("</ul>")
    if view["cells"]:
        parts.append("<h2>Cells that did not run cleanly</h2><ul>")
        for cell in view["cells"]:
            parts.append(
                f"<li>cell {cell['cell']}: {e(STATUS_LABELS.get(cell['status'], 'error'))}"
                f" — {e(cell.get('reason', ''))}</li>"
            )
        parts.append("</ul>")
    parts.append("<h2>Tests</h2><table><tr><th>test</th><th>status</th><th>points</th></tr>")
    for t in view["tests"]:
        title = f"{t['grade_id']}" + (f": {t['title']}" if t["title"] else "")
        parts.append(
            f'<tr><td>{e(title)}</td><td class="{e(t["status"])}">'
            f"{e(STATUS_LABELS.get(t['status'], t['status']))}</td>"
            f"<td>{_number(t['points'])} / {_number(t['max_points'])}</td></tr>"
        )
    parts.append("</table>")
    for t in view["tests"]:
        if t["status"] == "passed":
            continue
        parts.append(f"<h2>{e(t['grade_id'])} — {e(STATUS_LABELS.get(t['status'], ''))}</h2>")
        if t["reason"]:
            parts.append(f"<pre>{e(t['reason'])}</pre>")
        for case in t["cases"]:
            if case["status"] not in ("passed", None) and case["message"] != t["reason"]:
                parts.append(f"<pre>{e(case['message'])}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def test_result_text(test: dict) -> str:
    """What the autograded notebook shows under a test cell."""
    head = (
        f"autograder: {STATUS_LABELS.get(test['status'], test['status'])} "
        f"({_number(test['points'])} / {_number(test['max_points'])} points)"
    )
    return head + ("\n" + test["reason"] if test["status"] != "passed" and test["reason"] else "")


def summary_table(records: list[dict], counts: Counter, elapsed: float) -> str:
    """Plain-text table printed at the end of a run."""
    lines = []
    graded = [r for r in records]
    statuses = Counter(r["status"] for r in graded)
    lines.append(
        f"{len(graded)} submissions: "
        + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
        + (f"; {counts['up to date']} already up to date" if counts.get("up to date") else "")
        + (
            f"; {counts['grader error']} NOT GRADED (grader error)"
            if counts.get("grader error")
            else ""
        )
        + f" ({elapsed:.1f} s)"
    )
    if not graded:
        return "\n".join(lines)
    per_test: dict[str, Counter] = {}
    order = []
    for r in graded:
        for t in r["tests"]:
            if t["grade_id"] not in per_test:
                per_test[t["grade_id"]] = Counter()
                order.append(t["grade_id"])
            per_test[t["grade_id"]][t["status"]] += 1
    columns = list(STATUS_LABELS)
    width = max(len(g) for g in order + ["test"])
    header = f"{'test':<{width}}  " + "  ".join(f"{STATUS_LABELS[c]:>9}" for c in columns)
    lines += [header, "-" * len(header)]
    for gid in order:
        lines.append(f"{gid:<{width}}  " + "  ".join(f"{per_test[gid][c]:>9}" for c in columns))
    scores = [r["score"] for r in graded]
    top = max(r["max_score"] for r in graded)
    lines.append(f"mean score {sum(scores) / len(scores):.2f} / {_number(top)}")
    flagged = sorted(r["student_id"] for r in graded if r["status"] != "graded")
    if flagged:
        shown = ", ".join(flagged[:15]) + (" ..." if len(flagged) > 15 else "")
        lines.append(f"to review ({len(flagged)}): {shown}")
    return "\n".join(lines)
