"""Copy detection: honest solutions in different styles are not flagged, disguised copies
are; only what students wrote is compared; the CSV and the report are what they say."""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
import subprocess
import sys
from itertools import combinations
from pathlib import Path

import nbformat
import pytest

from autograder import similarity
from autograder.course import Course
from tests.autograder.fixtures import honest_solutions as hs
from tests.autograder.fixtures.course import REPO, make_submission, venv_env

A = hs.A
COPIER = 'o"brien, pat'  # a copier whose id needs quoting in a CSV


def _light_course(root: Path) -> Path:
    """The course files copy detection reads: config, release, solutions (no gradebook)."""
    root.mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", root)
    for folder in ("exercises", "solutions"):
        shutil.copytree(REPO / folder / A, root / folder / A)
    return root


def _released():
    (path,) = (REPO / "exercises" / A).glob("*.ipynb")
    return nbformat.read(path, as_version=4)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = _light_course(tmp_path_factory.mktemp("similarity") / "course")
    released = _released()
    for style, answers in hs.STYLES.items():
        make_submission(root, A, style, answers=hs.answers(answers, released))
    make_submission(root, A, COPIER, answers=hs.answers(hs.COPY_OF_LOOPS, released))
    make_submission(root, A, "copy_of_einsum", answers=hs.answers(hs.COPY_OF_EINSUM, released))
    return root


@pytest.fixture(scope="module")
def ran(course):
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "similarity", A, "--course-root", str(course)],
        cwd=REPO,
        env=venv_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    with open(course / "similarity.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return proc.stdout, rows, (course / "similarity.html").read_text(encoding="utf-8")


def _flagged(rows) -> set[frozenset]:
    return {frozenset((r["student_a"], r["student_b"])) for r in rows if r["flagged"] == "yes"}


def test_copies_are_flagged_and_honest_styles_are_not(ran):
    _, rows, _ = ran
    assert _flagged(rows) == {
        frozenset((COPIER, "loops")),
        frozenset(("copy_of_einsum", "einsum")),
    }


def test_honest_styles_stay_well_under_the_threshold_and_copies_well_over(ran):
    """A margin on both sides, so that the default threshold is not on a knife edge."""
    _, rows, _ = ran
    scores = {frozenset((r["student_a"], r["student_b"])): float(r["score"]) for r in rows}
    honest = [scores[frozenset(p)] for p in combinations(hs.STYLES, 2)]
    assert max(honest) <= similarity.DEFAULT_THRESHOLD - 0.15
    assert scores[frozenset((COPIER, "loops"))] >= similarity.DEFAULT_THRESHOLD + 0.15
    assert scores[frozenset(("copy_of_einsum", "einsum"))] >= similarity.DEFAULT_THRESHOLD + 0.15


def test_csv_lists_every_pair_once_highest_first_and_quoted(ran, course):
    _, rows, _ = ran
    students = sorted(p.name for p in (course / "submitted").iterdir())
    assert {frozenset((r["student_a"], r["student_b"])) for r in rows} == {
        frozenset(p) for p in combinations(students, 2)
    }
    assert len(rows) == len(students) * (len(students) - 1) // 2
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    text = (course / "similarity.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "student_a,student_b,score,flagged"
    assert '"o""brien, pat"' in text  # the csv module's quoting, as RFC 4180 asks


def test_report_shows_flagged_pairs_side_by_side_with_matches_marked(ran):
    out, _, page = ran
    assert "a flag is a reason to look, not a verdict" in page.lower()
    assert "reason to look, not a verdict" in out
    assert page.count('class="sides"') == 2
    marked = " ".join(html.unescape(m) for m in re.findall(r"<mark>(.*?)</mark>", page, re.S))
    # a statement the copier kept (names changed) is marked on both sides
    assert "Ho = (H-1)*s0 - 2*p0 + kH + e0" in marked
    assert "out_rows = (rows - 1) * stride_h - 2 * pad_h + k_rows + extra_h" in marked
    assert "<script" not in page and "http" not in page  # one offline file


def test_renaming_reformatting_and_comments_do_not_change_the_normalised_code():
    original = "def f(x, k):\n    # add k\n    total = x + k\n    return total * 2\n"
    disguised = "def g(a,b):\n    s = a +\\\n        b   # sum\n\n    return s*2\n"
    left, right = similarity.fingerprint(original), similarity.fingerprint(disguised)
    assert left.filtered == right.filtered
    assert left.filtered == "defF(V,V):V=V+VreturnV*2"


def test_normalisation_agrees_with_copydetects_own_pygments_filter():
    """Our tokenizer is Python's own, for speed; it must write what copydetect writes
    (copydetect spells a string "S" with its quotes, we write S)."""
    from copydetect.utils import filter_code

    styles = list(hs.STYLES.values()) + [copy for _, copy in hs.COPIES.values()]
    for style in styles:
        for code in style.values():
            theirs = re.sub(r'"S*"', "S", filter_code(code, "answer.py")[0])
            assert similarity.fingerprint(code).filtered == theirs


def test_broken_code_is_still_compared():
    broken = "def f(x):\n    return (x +\n"  # an unclosed bracket
    fp = similarity.fingerprint(broken)
    assert fp.filtered.startswith("defF(V):return(V+")


def test_only_code_students_wrote_is_compared(tmp_path):
    """Starter code, read-only cells and test cells never count, whatever students do
    with them; answer cells and cells they added do."""
    root = _light_course(tmp_path / "course")
    released = _released()
    same = (
        "def shared_helper(x):\n"
        + "".join(f"    x = x * {i} + np.sum(x[{i}:]) - {i * i}\n" for i in range(12))
        + "    return x\n"
    )
    test_id = next(
        c.metadata["nbgrader"]["grade_id"]
        for c in released.cells
        if c.metadata.get("nbgrader", {}).get("grade")
        and not c.metadata["nbgrader"].get("solution")
    )

    def into_test_cell(nb):
        for c in nb.cells:
            if c.metadata.get("nbgrader", {}).get("grade_id") == test_id:
                c.source += "\n" + same

    released_code = [c.source for c in released.cells if c.cell_type == "code"]
    stubs = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in released.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }

    def starter_copies(nb):
        nb.cells.append(nbformat.v4.new_code_cell("\n\n".join(released_code[:2])))
        nb.cells.append(nbformat.v4.new_code_cell("\n\n".join(stubs.values())))

    for student in ("t1", "t2"):
        answers = hs.answers(hs.LOOPS, released)
        make_submission(root, A, student, answers=answers, edit=into_test_cell)
    # untouched stubs plus copies of the released code in added cells: nothing of their own
    for student in ("s1", "s2"):
        make_submission(root, A, student, answers=stubs, edit=starter_copies)
    # the same helper in an added cell counts
    for student, style in (("h1", "einsum"), ("h2", "matrix_view")):
        make_submission(
            root,
            A,
            student,
            answers=hs.answers(hs.STYLES[style], released),
            edit=lambda nb: nb.cells.append(nbformat.v4.new_code_cell(same)),
        )
    subs = {s.student_id: s for s in similarity.collect(Course(root), A)}
    assert subs["s1"].code == "" and subs["s2"].code == ""
    assert "shared_helper" not in subs["t1"].code
    assert "shared_helper" in subs["h1"].code
    assert "YOUR CODE HERE" not in subs["h1"].code and "Parameters" not in subs["h1"].code
    result = similarity.compare(list(subs.values()), A)
    score = {frozenset((p.student_a, p.student_b)): p.score for p in result.pairs}
    assert score[frozenset(("s1", "s2"))] == 0.0
    assert score[frozenset(("t1", "t2"))] == 1.0  # both LOOPS: the answers, not the tests
    assert score[frozenset(("h1", "h2"))] > 0.0


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"threshold \(1.5\) must be in \(0, 1\]"):
        similarity.compare([], threshold=1.5)
    with pytest.raises(ValueError, match=r"k \(0\)"):
        similarity.compare([], k=0)


def test_unreadable_and_missing_notebooks_are_listed_not_compared(tmp_path):
    root = _light_course(tmp_path / "course")
    make_submission(root, A, "broken", raw=b"{not json")
    (root / "submitted" / "nothing" / A).mkdir(parents=True)
    (root / "submitted" / "nothing" / A / "notes.txt").write_text("sorry")
    make_submission(root, A, "fine", answers=hs.answers(hs.EINSUM, _released()))
    result = similarity.run(root, A, out=io.StringIO())
    notes = {s.student_id: s.note for s in result.submissions}
    assert "not valid JSON" in notes["broken"]
    assert notes["nothing"] == "no transposed_conv.ipynb"
    assert all(p.score == 0.0 for p in result.pairs)
    page = (root / "similarity.html").read_text(encoding="utf-8")
    assert "broken" in page and "not valid JSON" in page


def test_all_pairs_product_counts_what_set_intersections_count(monkeypatch):
    """The incidence-matrix product (in blocks) against plain set intersections."""
    import numpy as np

    monkeypatch.setattr(similarity, "CHUNK", 7)  # many blocks, boundaries crossed
    rng = np.random.default_rng(3)
    sets = [set(rng.integers(-40, 40, size=rng.integers(0, 30)).tolist()) for _ in range(9)]
    shared, sizes = similarity.shared_counts(sets)
    for i, j in combinations(range(len(sets)), 2):
        assert shared[i, j] == len(sets[i] & sets[j])
    assert sizes.tolist() == [len(s) for s in sets]


def test_a_large_class_is_tokenized_in_worker_processes_with_the_same_result(monkeypatch):
    codes = [hs.LOOPS[hs.CONV].replace("result", f"r{i}") for i in range(12)]
    serial = [similarity.normalised(c) for c in codes]
    monkeypatch.setattr(similarity, "PARALLEL_FROM", 4)
    monkeypatch.setattr(similarity.os, "cpu_count", lambda: 2)
    assert similarity.normalise_all(codes) == serial


def test_spans_point_back_into_the_raw_code():
    """Line breaks the tokenizer does not split on (form feed, U+2028) and CRLF endings."""
    code = 'x = 1\x0c\ny = "a\u2028b"  # c\r\nz = (x +\n y)\n'
    fp = similarity.fingerprint(code)
    starts, ends = fp.spans()
    pieces = [code[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    assert fp.filtered == "V=1V=SV=(V+V)"
    assert pieces == ["x", "=", "1", "y", "=", '"a\u2028b"', "z", "=", "(", "x", "+", "y", ")"]
