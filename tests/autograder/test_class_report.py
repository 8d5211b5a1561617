"""The class report (``python -m autograder report``) on a made-up class with known
mistakes, graded by the real grader (``tests/autograder_fixtures/made_up_class.py``
says who made which mistake and what each scores).

The expected counts below are worked out by hand from that list, not read from the
grader: 12 submissions; 3 unflipped kernels, 2 swapped strides, 2 tampered tests, 1
crash, 1 late submission.
"""

from __future__ import annotations

import concurrent.futures
import csv
import functools
import html
import http.server
import io
import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from autograder import class_report, class_stats, report_page
from autograder.run import GradingOptions, grade_assignment
from autograder.sandbox import Limits
from tests.autograder.fixtures import made_up_class as made_up
from tests.autograder.fixtures.course import venv_env
from upsampling.checking import HINTS, read_reference_file

A = made_up.A
LIMITS = Limits(test_timeout=3.0, setup_timeout=20.0, memory_mb=1024, processes=32)
ROOT = Path(__file__).resolve().parents[2]


def _run(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "autograder", *args, "--course-root", str(root)],
        capture_output=True,
        text=True,
        env=venv_env(),
        cwd=root,
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """The made-up class, graded, with both reports written by the command."""
    root = made_up.build(tmp_path_factory.mktemp("class") / "course")
    options = GradingOptions(n_jobs=2, limits=LIMITS, progress=False)
    result = grade_assignment(root, A, options, out=io.StringIO())
    assert not result["errors"] and not result["grader_errors"]
    for args in ([A], []):
        run = _run(root, "report", *args)
        assert run.returncode == 0, run.stderr
    return root


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _text(page: str) -> str:
    """What a reader sees: tags dropped, entities decoded, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


# --------------------------------------------------------------------------- tests.csv

# grade_id -> (points, passed, failed, crashed, tampered), from the class's description
EXPECTED_TESTS = {
    "transposed-scatter": (2, 12, 0, 0, 0),
    "transposed-stride": (3, 9, 2, 0, 1),  # 2 swapped, 1 deleted test cell
    "transposed-output-padding": (2, 10, 2, 0, 0),  # 2 swapped
    "transposed-channels": (3, 10, 2, 0, 0),  # 2 swapped
    "transposed-zero-insertion": (2, 9, 3, 0, 0),  # 3 unflipped
    "transposed-matrix": (3, 10, 0, 1, 1),  # the crash, the emptied test cell
    "transposed-matrix-transpose": (2, 11, 0, 1, 0),  # calls the crashing conv_matrix
}


def test_tests_csv_counts_every_status_of_every_test(graded):
    rows = _rows(graded / "report" / A / "tests.csv")
    assert list(rows[0]) == [
        "grade_id",
        "points",
        "submissions",
        "passed",
        "failed",
        "timed_out",
        "crashed",
        "over_limit",
        "tampered",
        "grader_error",
        "pass_rate",
    ]
    assert [r["grade_id"] for r in rows] == list(EXPECTED_TESTS)
    for row in rows:
        points, passed, failed, crashed, tampered = EXPECTED_TESTS[row["grade_id"]]
        assert float(row["points"]) == points
        assert int(row["submissions"]) == 12
        assert (int(row["passed"]), int(row["failed"])) == (passed, failed), row
        assert (int(row["crashed"]), int(row["tampered"])) == (crashed, tampered), row
        assert row["timed_out"] == row["over_limit"] == row["grader_error"] == "0"
        assert float(row["pass_rate"]) == pytest.approx(passed / 12, abs=1e-4)


# --------------------------------------------------------------------------- misconceptions


def _feedback_text(root: Path, student: str) -> str:
    page = root / "feedback" / student / A / "transposed_conv.html"
    return _text(page.read_text(encoding="utf-8"))


def test_misconceptions_csv_counts_each_student_once_per_test_and_diagnosis(graded):
    rows = _rows(graded / "report" / A / "misconceptions.csv")
    assert list(rows[0]) == ["grade_id", "hint", "count", "students"]
    swapped, unflipped = ";".join(made_up.SWAPPED), ";".join(made_up.UNFLIPPED)
    # The unflipped kernel is named "kernel not flipped" where the stride is above 1 and
    # "correlation" on the one hidden case with stride 1 (stride1-3x4-k3x2): two
    # diagnoses, each given to the three students once, most frequent first.
    assert [(r["grade_id"], r["hint"], r["count"], r["students"]) for r in rows] == [
        ("transposed-zero-insertion", HINTS["correlation"], "3", unflipped),
        ("transposed-zero-insertion", HINTS["kernel_not_flipped"], "3", unflipped),
        ("transposed-stride", HINTS["stride_swapped"], "2", swapped),
        ("transposed-output-padding", HINTS["stride_swapped"], "2", swapped),
        ("transposed-channels", HINTS["stride_swapped"], "2", swapped),
    ]


def test_each_hint_is_the_one_its_students_read(graded):
    """The CSV's hint is the text of the students' feedback, less the wrapping."""
    for row in _rows(graded / "report" / A / "misconceptions.csv"):
        assert not re.search(r"\d+\.\d+", row["hint"])  # no value of any case
        for student in row["students"].split(";"):
            assert "Likely cause: " + " ".join(row["hint"].split()) in _feedback_text(
                graded, student
            )


def test_the_stable_key_is_recorded_on_the_cases_that_showed_it(graded):
    record = json.loads((graded / "autograded" / "unflipped_1" / A / "autograder.json").read_text())
    (test,) = [t for t in record["tests"] if t["grade_id"] == "transposed-zero-insertion"]
    keys = {c["case"]: c.get("misconception") for c in test["cases"] if c["status"] == "failed"}
    assert set(keys.values()) == {"kernel_not_flipped", "correlation"}
    for case in test["cases"]:
        if case.get("misconception"):
            assert " ".join(HINTS[case["misconception"]].split()[:5]) in " ".join(
                case["message"].split()
            )


# --------------------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def page(graded) -> str:
    return (graded / "report" / A / "index.html").read_text(encoding="utf-8")


def test_page_shows_the_counts_rates_and_scores(page):
    text = _text(page)
    assert "12 submissions" in text
    # mean of 17,17,17,0 (late),15,15,15,9,9,14,14,12 = 154/12; median (14 + 15) / 2
    assert "12.83 / 17 mean score" in text and "14.5 median score" in text
    assert "3 full marks" in text and "4 students to review" in text
    assert text.count("3 of 12 students") == 2 and text.count("2 of 12 students") == 3
    assert "25 % 3 of 12 students · test transposed-zero-insertion" in text
    # the unflipped kernel's two names, for the same three students, are tied together
    assert text.count("The same students as") == 1
    assert "The same students as “correlation instead of convolution” on this test" in text
    for gid, (points, passed, *_rest) in EXPECTED_TESTS.items():
        rate = f"{100 * passed / 12:.0f} % ({passed}/12)"
        assert re.search(rf"{gid} [^%]*? {points} {re.escape(rate)}", text), (gid, rate)


def test_page_lists_exactly_the_students_to_review_and_why(page):
    section = _text(page.split("<h2>Students to review</h2>")[1].split("<h2>")[0])
    names = set(re.findall(r"\b[a-z_]+_[a-z0-9_]+\b|\bcrashed\b", section))
    assert {"tampered_deleted", "tampered_edited", "crashed", "late_honest"} <= names
    others = set(made_up.STUDENTS) - {
        "tampered_deleted",
        "tampered_edited",
        "crashed",
        "late_honest",
    }
    assert not others & names
    assert "late_honest 0 late by 2 h 00 min (penalty 17)" in section
    assert "crashed 12 crashed: transposed-matrix, transposed-matrix-transpose" in section
    assert "tampered: transposed-stride (the test cell was deleted" in section
    assert "tampered: transposed-matrix (the test cell was edited)" in section


def test_page_links_to_an_example_feedback_that_exists(graded, page):
    links = re.findall(r'href="([^"]+)"', page)
    assert links
    for href in links:
        assert not urlparse(href).scheme  # relative: nothing leaves the course folder
        target = (graded / "report" / A / unquote(html.unescape(href))).resolve()
        assert target.is_file(), href
    assert "../../feedback/unflipped_1/03_transposed_conv/transposed_conv.html" in links


def test_page_is_self_contained_and_shows_no_hidden_case(graded, page):
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "<script" not in page
    (image,) = re.findall(r'<img[^>]+src="([^"]+)"', page)
    assert image.startswith("data:image/png;base64,")
    manifest, _ = read_reference_file(graded / "autograder" / "reference" / f"{A}.npz")
    hidden = [c["name"] for t in manifest["tests"].values() for c in t["cases"] if not c["visible"]]
    assert hidden and not [name for name in hidden if name in page]
    assert "hidden case" in page  # counted, never named


def test_report_is_a_function_of_the_records(graded, tmp_path):
    """Written again from a copy of the records and gradebook (as after a cluster run,
    whose records are byte-identical), the CSVs are the same bytes."""
    copy = tmp_path / "course"
    shutil.copytree(graded, copy)
    shutil.rmtree(copy / "report")
    assert _run(copy, "report", A).returncode == 0
    for name in ("tests.csv", "misconceptions.csv"):
        assert (copy / "report" / A / name).read_bytes() == (
            graded / "report" / A / name
        ).read_bytes()


def test_grading_times_are_kept_apart_from_the_records(graded, page):
    times = json.loads(
        (graded / "autograded" / ".autograder" / "timings" / f"{A}.json").read_text()
    )
    assert sorted(times["students"]) == made_up.STUDENTS
    assert all(0 < s < 60 for s in times["students"].values())
    assert [run["graded"] for run in times["runs"]] == [12]
    assert "Per submission, where it was graded: median" in _text(page)


# --------------------------------------------------------------------------- feedback


def test_feedback_shows_the_late_penalty_when_one_applies(graded):
    late = _feedback_text(graded, made_up.LATE)
    assert "score 0 / 17 after the late penalty (17 for the tests, minus 17" in late
    on_time = _feedback_text(graded, "honest_a")
    assert "score 17 / 17" in on_time and "late penalty" not in on_time


# --------------------------------------------------------------------------- overview


def test_overview_agrees_with_nbgrader_export(graded):
    run = subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", "--to", "export.csv"],
        cwd=graded,
        env=venv_env(),
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    exported = _rows(graded / "export.csv")
    overview = {r["student_id"]: r for r in _rows(graded / "report" / "overview.csv")}
    assert sorted(overview) == made_up.STUDENTS
    assert len(exported) == 2 * 12  # every student, both assignments
    for row in exported:
        ours = overview[row["student_id"]][row["assignment"]]
        if row["timestamp"] in ("", "None"):  # no submission: nbgrader writes 0
            assert row["assignment"] == made_up.OTHER and ours == ""
        else:
            assert float(ours) == float(row["score"]), row
    penalties = {
        r["student_id"]: float(r["late_submission_penalty"])
        for r in exported
        if r["assignment"] == A
    }
    assert penalties[made_up.LATE] == 17 and sum(penalties.values()) == 17
    for sid, raw in made_up.RAW_SCORES.items():
        assert float(overview[sid][A]) == max(0.0, raw - penalties[sid])
        assert float(overview[sid]["total"]) == float(overview[sid][A])


def test_overview_figures_per_assignment(graded):
    rows = {r["assignment"]: r for r in _rows(graded / "report" / "assignments.csv")}
    mine = rows[A]
    assert (mine["max_score"], mine["submissions"]) == ("17", "12")
    assert float(mine["mean"]) == pytest.approx(154 / 12, abs=1e-4)
    assert float(mine["median"]) == 14.5
    rates = dict(pair.split("=") for pair in mine["pass_rates"].split(";"))
    assert {g: float(r) for g, r in rates.items()} == pytest.approx(
        {g: counts[1] / 12 for g, counts in EXPECTED_TESTS.items()}, abs=1e-4
    )
    assert rows[made_up.OTHER]["submissions"] == "0" and rows[made_up.OTHER]["mean"] == ""
    page = _text((graded / "report" / "index.html").read_text(encoding="utf-8"))
    assert f"{A} 12 12.83 14.5 17" in page


# --------------------------------------------------------------------------- errors


def test_report_on_an_assignment_never_graded_says_so(graded):
    run = _run(graded, "report", "04_checkerboard")
    assert run.returncode == 2
    assert "assignment '04_checkerboard' has no graded submission" in run.stderr
    assert "python -m autograder grade 04_checkerboard" in run.stderr
    assert f"graded: {A}" in run.stderr


def test_overview_without_a_gradebook_says_so(tmp_path):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    run = _run(tmp_path, "report")
    assert run.returncode == 2 and "no gradebook at sqlite:///" in run.stderr


# --------------------------------------------------------------------------- statistics


def _record(student, tests):
    return {
        "student_id": student,
        "status": "graded",
        "score": 0.0,
        "max_score": 2.0,
        "flags": [],
        "tests": tests,
    }


def _test(gid, status, *keys):
    cases = [
        {
            "case": f"hidden case {i}",
            "visible": False,
            "status": "failed",
            "message": "",
            **({"misconception": k} if k else {}),
        }
        for i, k in enumerate(keys, 1)
    ]
    return {
        "grade_id": gid,
        "title": "",
        "function": "f",
        "max_points": 1.0,
        "points": 0.0,
        "status": status,
        "flags": [],
        "cases": cases,
    }


def test_a_student_counts_once_however_many_cases_showed_it():
    records = [
        _record("b", [_test("t1", "failed", "stride_swapped", "stride_swapped", None)]),
        _record("a", [_test("t1", "failed", "stride_swapped"), _test("t2", "failed", None)]),
        _record("c", [_test("t1", "failed", "bias_missing"), _test("t2", "passed")]),
    ]
    found = class_stats.misconceptions(records)
    assert [(m.grade_id, m.key, m.students) for m in found] == [
        ("t1", "stride_swapped", ["a", "b"]),
        ("t1", "bias_missing", ["c"]),
    ]
    assert found[0].cases == ["hidden case 1", "hidden case 2"]
    rows = {t.grade_id: t for t in class_stats.test_rows(records)}
    assert rows["t1"].counts["failed"] == 3 and rows["t1"].undiagnosed == 0
    assert rows["t2"].undiagnosed == 1 and rows["t2"].pass_rate == 0.5


def test_page_of_missing_notebooks_grader_errors_and_no_times(tmp_path):
    """Branches the made-up class does not reach: nothing diagnosed, a notebook missing,
    a grader error (no score: not in the histogram nor the mean), no recorded times."""
    missing = _record("m", [_test("t1", "failed", None)]) | {"status": "missing"}
    error = _record("e", [_test("t1", "grader_error")]) | {"status": "grader error"}
    passed = _record("p", [_test("t1", "passed")]) | {"score": 1.0}
    passed["tests"][0]["cases"] = []
    report = class_report.AssignmentReport(
        root=tmp_path,
        feedback_dir=tmp_path / "feedback",
        assignment="x",
        notebook="x",
        records=[error, missing, passed],
        penalties={},
        late={},
        similar={},
        similarity_note="not run",
        timing=class_report.Timing({}, []),
    )
    text = _text(report_page.assignment_page(report))
    assert "No failed case matched a known misconception." in text
    assert "Failed with no known misconception" in text and "t1 1" in text
    assert "0.5 / 2 mean score" in text  # m (0) and p (1); e has no score
    assert "e – grader error: not graded (run the grader again)" in text
    assert "m 0 no notebook submitted" in text
    assert "No times recorded" in text
    assert class_report.tests_csv(report).splitlines()[1] == "t1,1,3,1,1,0,0,0,0,1,0.3333"


def test_lateness_is_nbgrader_s_own_with_extensions(graded, tmp_path):
    """One query gives what nbgrader's ``total_seconds_late`` gives, extension included:
    late_honest, 2 h late, with a 30 min extension is 1 h 30 min late."""
    import datetime

    from nbgrader.api import Gradebook

    copy = tmp_path / "course"
    shutil.copytree(graded, copy)
    with Gradebook(f"sqlite:///{copy / 'gradebook.db'}", "upsampling") as gb:
        gb.update_or_create_submission(A, made_up.LATE, extension=datetime.timedelta(minutes=30))
        theirs = {
            s.student.id: (s.total_seconds_late, s.late_submission_penalty)
            for s in gb.assignment_submissions(A)
        }
    ours = class_report.gradebook_lateness(class_report.Course(copy), A)
    assert ours == theirs
    assert ours[made_up.LATE] == (5400.0, 17.0)
    assert sum(late for late, _ in ours.values()) == 5400.0


def test_similarity_pairs_are_read_only_for_their_assignment(graded, tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(graded, copy)
    (copy / "similarity.csv").write_text(
        "student_a,student_b,score,flagged\nhonest_a,swapped_1,0.9100,yes\n"
        "honest_b,honest_c,0.5000,no\n"
    )
    (copy / "similarity.html").write_text(f"<title>Similarity: {A}</title>")
    course = class_report.Course(copy)
    pairs, note = class_report.similarity_pairs(course, A, set(made_up.STUDENTS))
    assert pairs == {"honest_a": [("swapped_1", 0.91)], "swapped_1": [("honest_a", 0.91)]}
    assert "1 flagged pair" in note
    assert _run(copy, "report", A).returncode == 0
    section = (copy / "report" / A / "index.html").read_text().split("Students to review")[1]
    assert "similar code: swapped_1 (0.91)" in section and "similar code: honest_a" in section
    (copy / "similarity.html").write_text("<title>Similarity: 02_unpooling</title>")
    pairs, note = class_report.similarity_pairs(course, A, set(made_up.STUDENTS))
    assert pairs == {} and "another assignment" in note


# --------------------------------------------------------------------------- in Chromium


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


def test_page_opens_in_chromium_offline_without_errors(graded):
    """Served on 127.0.0.1 (with the feedback pages it links to); every request that
    leaves 127.0.0.1 is refused and counted. Screenshot: test-artifacts/browser/."""
    from playwright.sync_api import sync_playwright

    from tests.book.browser.conftest import ARTIFACTS, CHROMIUM_ARGS, chromium_path

    handler = functools.partial(_Quiet, directory=str(graded))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    external, errors = [], []

    def browse():
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path(), args=CHROMIUM_ARGS
            )
            context = browser.new_context(viewport={"width": 1280, "height": 900})

            def route(route):
                url = route.request.url
                if url.startswith("data:") or urlparse(url).hostname == "127.0.0.1":
                    route.continue_()
                else:
                    external.append(url)
                    route.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            base = f"http://127.0.0.1:{httpd.server_address[1]}"
            response = page.goto(f"{base}/report/{A}/index.html", wait_until="load")
            assert response.status == 200
            width = page.evaluate("document.querySelector('img.hist').naturalWidth")
            assert width > 300  # the embedded histogram decoded
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "class_report.png"), full_page=True)
            with page.expect_navigation():
                page.click("text=unflipped_1")  # the first example: its feedback opens
            assert "Feedback on 03_transposed_conv" in page.content()
            page.goto(f"{base}/report/index.html", wait_until="load")
            page.click(f"text={A}")
            assert page.url.endswith(f"/report/{A}/index.html")
            browser.close()

    try:
        # In a thread of its own: Playwright's synchronous API refuses to start in a
        # thread running an event loop, as the browser tests' session leaves this one.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(browse).result()
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert external == [] and errors == []
