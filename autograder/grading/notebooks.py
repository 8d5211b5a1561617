"""Reading submitted notebooks and comparing them with the released one.

Nothing here executes student code. The released notebook (``exercises/``) says which
cells are tests (by nbgrader ``grade_id``); a submission's test cells are never run (the
grader checks the functions on reference data instead), but they must still be there,
unedited, exactly once: otherwise the test is *tampered* and scores 0 for review.

What runs in the sandbox: every code cell of the submission that is not a test cell, in
order, with read-only cells given by the release replaced by their released text, and
IPython syntax (magics, ``!shell``) turned into plain Python.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache

import nbformat

from autograder.sandbox.inside.wire import SYNTAX_TREE_LOCK

MAX_NOTEBOOK_BYTES = 20 << 20


class UnreadableNotebook(Exception):
    """The submission is not a notebook the grader can read (the reason says why)."""


def cell_source(cell) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(str(s) for s in source)
    return source if isinstance(source, str) else ""


def normalise(source: str) -> str:
    """Compare sources up to trailing whitespace and blank lines at either end."""
    return "\n".join(line.rstrip() for line in source.strip("\n").splitlines()).strip("\n")


def nbgrader_meta(cell) -> dict:
    meta = cell.get("metadata", {})
    meta = meta.get("nbgrader") if isinstance(meta, dict) else None
    return meta if isinstance(meta, dict) else {}


def is_test_cell(meta: dict) -> bool:
    return bool(meta.get("grade")) and not meta.get("solution")


def read_notebook(data: bytes):
    """Parse a submission; raises :class:`UnreadableNotebook` with a plain reason."""
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise UnreadableNotebook(
            f"the notebook is {len(data) >> 20} MB, more than {MAX_NOTEBOOK_BYTES >> 20} MB"
        )
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UnreadableNotebook(f"the notebook is not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise UnreadableNotebook(
            f"the notebook is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(raw, dict):
        raise UnreadableNotebook("the notebook's JSON is not an object")
    major = raw.get("nbformat")
    if major not in (3, 4):
        raise UnreadableNotebook(f"unsupported notebook format version {major!r} (expected 4)")
    if major == 4 and not isinstance(raw.get("cells"), list):
        raise UnreadableNotebook("the notebook has no list of cells")
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as exc:  # nbformat raises many kinds of errors on odd files
        raise UnreadableNotebook(f"the notebook could not be read ({type(exc).__name__})") from None
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise UnreadableNotebook("the notebook has no list of cells")
    return nb


SHARED_NOTEBOOK_BYTES = 1 << 20  # submissions up to this size are parsed once


@lru_cache(maxsize=32)
def _read_shared(data: bytes):
    return read_notebook(data)


def read_submission(data: bytes):
    """:func:`read_notebook` for the grader, which reads a submission twice (to grade it,
    then to lay it out for the formgrader): a notebook of up to 1 MB is parsed once and
    the same object returned, so callers must not modify it."""
    if len(data) > SHARED_NOTEBOOK_BYTES:
        return read_notebook(data)
    return _read_shared(data)


@dataclass
class ReleasedTest:
    grade_id: str
    index: int
    source: str
    points: float
    title: str


@dataclass
class Released:
    """What the release says about a notebook's cells."""

    nb: object
    tests: dict  # grade_id -> ReleasedTest
    locked: dict  # grade_id -> released source of read-only, non-test cells
    solutions: set

    @classmethod
    def from_notebook(cls, nb) -> Released:
        tests, locked, solutions = {}, {}, set()
        for index, cell in enumerate(nb.cells):
            meta = nbgrader_meta(cell)
            gid = meta.get("grade_id")
            if not gid:
                continue
            if is_test_cell(meta):
                source = cell_source(cell)
                tests[gid] = ReleasedTest(
                    gid, index, source, float(meta.get("points", 0)), docstring(source)
                )
            elif meta.get("solution"):
                solutions.add(gid)
            elif meta.get("locked") and cell.get("cell_type") == "code":
                locked[gid] = cell_source(cell)
        return cls(nb, tests, locked, solutions)


def parse_released(data: bytes) -> Released:
    """What the release says, from the bytes of the released notebook."""
    return Released.from_notebook(read_notebook(data))


def docstring(source: str) -> str:
    """The one-line docstring a test cell opens with (empty if none)."""
    try:
        text = ast.get_docstring(syntax_tree(source)) or ""
    except SyntaxError:
        return ""
    return text.strip().splitlines()[0] if text.strip() else ""


@dataclass
class Analysis:
    """A submission compared with the release: the code to run and what was tampered with."""

    cells: list = field(default_factory=list)  # {"index", "code", "origin"}
    tampered: dict = field(default_factory=dict)  # grade_id -> reason
    notes: list = field(default_factory=list)  # notebook-level remarks for the student
    flags: list = field(default_factory=list)  # reasons to review this submission


@lru_cache(maxsize=1)
def _transformer():
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager()


_WHITESPACE_ONLY_LINE = re.compile(r"^[ \t]+$", re.MULTILINE)
_IPYTHON_PROMPT = re.compile(r"^((\[nav\]|\[ins\])? )?In \[\d+\]: |^\s*\.{3,}: ?")


SHARED_TREE_CHARS = 1 << 16  # cells up to this length are parsed once


def syntax_tree(code: str):
    """``ast.parse(code)``, one thread at a time (see ``wire.SYNTAX_TREE_LOCK``)."""
    with SYNTAX_TREE_LOCK:
        return ast.parse(code)


@lru_cache(maxsize=512)
def _parse_shared(code: str):
    return syntax_tree(code)


def parse(code: str):
    """``ast.parse(code)``; a cell of up to 64 K characters is parsed once for
    :func:`to_python` and :func:`scan` (and any later submission holding the same cell),
    so callers must not modify the tree."""
    return _parse_shared(code) if len(code) <= SHARED_TREE_CHARS else syntax_tree(code)


def _transformer_keeps(text: str) -> bool:
    """Whether IPython's transformer would return ``text`` (which parses as Python)
    unchanged: it only ever rewrites leading blank lines, a common indentation (which
    also empties whitespace-only lines), doctest and IPython prompts, and IPython syntax,
    none of which is valid Python."""
    if text[:1].isspace() or ">>>" in text or _WHITESPACE_ONLY_LINE.search(text):
        return False
    return not any(_IPYTHON_PROMPT.match(line) for line in text.splitlines()[:2])


def to_python(source: str) -> str:
    """A cell's text as plain Python (magics become ``get_ipython()`` calls).

    Text that already parses is returned as IPython's transformer would return it (with
    a final newline) without running the transformer, which is only needed for magics
    and shell lines.
    """
    text = source if source.endswith("\n") else source + "\n"
    if _transformer_keeps(text):
        try:
            parse(text)
            return text
        except (SyntaxError, ValueError):  # ValueError: null bytes
            pass
    try:
        return _transformer().transform_cell(source)
    except Exception:  # leave it to the child's compile() to report
        return source


def analyse(released: Released, nb) -> Analysis:
    result = Analysis()
    released_sources = {normalise(t.source): gid for gid, t in released.tests.items()}
    seen: dict[str, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id")
        source = cell_source(cell)
        is_code = cell.get("cell_type") == "code"
        if gid in released.tests:
            seen.setdefault(gid, []).append(index)
            test = released.tests[gid]
            if not is_code:
                result.tampered.setdefault(gid, "the test cell was turned into a non-code cell")
            elif not is_test_cell(meta) or meta.get("points") != _points(released, gid):
                result.tampered.setdefault(gid, "the test cell's nbgrader metadata was changed")
            elif normalise(source) != normalise(test.source):
                result.tampered.setdefault(gid, "the test cell was edited")
            continue
        if is_code and normalise(source) in released_sources and normalise(source):
            # A released test's text without its metadata (stripped or renamed).
            tid = released_sources[normalise(source)]
            seen.setdefault(tid, []).append(index)
            result.tampered.setdefault(
                tid, "the test cell's nbgrader metadata was removed or renamed"
            )
            continue
        if meta.get("grade") and gid not in released.solutions:
            what = f"grade_id {gid!r}" if gid else "no grade_id"
            result.flags.append(
                f"cell {index + 1}: an extra grade cell ({what}, {meta.get('points', 0)} points) "
                "that is not in the released notebook; ignored"
            )
        if not is_code:
            continue
        if gid in released.locked:
            if normalise(source) != normalise(released.locked[gid]):
                result.notes.append(
                    f"cell {index + 1} is read-only in the release but was edited; "
                    "the released version was run instead"
                )
            source, origin = released.locked[gid], "released"
        else:
            origin = "student"
        result.cells.append({"index": index, "code": to_python(source), "origin": origin})
    for gid in released.tests:
        where = seen.get(gid, [])
        if not where:
            result.tampered.setdefault(
                gid, "the test cell was deleted or edited beyond recognition"
            )
        elif len(where) > 1:
            result.tampered[gid] = f"the test cell appears {len(where)} times (duplicated grade_id)"
    solution_ids = [nbgrader_meta(c).get("grade_id") for c in nb.cells]
    dups = sorted(
        {g for g in solution_ids if g and g not in released.tests and solution_ids.count(g) > 1}
    )
    if dups:
        result.flags.append(f"duplicated grade_id(s): {', '.join(dups)}")
    for gid, reason in result.tampered.items():
        result.flags.append(f"test {gid}: {reason}")
    return result


def _points(released: Released, gid: str):
    meta = nbgrader_meta(released.nb.cells[released.tests[gid].index])
    return meta.get("points")


def autograded_notebook(released: Released, nb, results: dict):
    """The submission laid out on the released notebook, for the formgrader.

    Every released cell appears once, with its nbgrader metadata; answer cells carry the
    student's text (matched by ``grade_id``), cells the student added follow the released
    cell they followed, and each test cell shows the released (visible) text with the
    grader's verdict as its output. Hidden tests never appear. The release's cells
    without a ``grade_id`` (instructions, a plotting cell) are in the submission too: each
    is matched by its type and text, so it is shown once, not again as the student's own.
    """
    out = nbformat.v4.new_notebook(metadata=released.nb.get("metadata", {}))
    student_by_id, extras = {}, {}  # extras: released index followed (None: the top) -> cells
    if nb is not None:
        index_of = {}  # grade_id -> released index
        plain = {}  # (type, normalised text) -> released indices of ungraded cells, in order
        for index, cell in enumerate(released.nb.cells):
            gid = nbgrader_meta(cell).get("grade_id")
            if gid:
                index_of.setdefault(gid, index)
            else:
                key = (cell.get("cell_type"), normalise(cell_source(cell)))
                plain.setdefault(key, []).append(index)
        test_sources = {normalise(t.source) for t in released.tests.values()}
        anchor = None
        for cell in nb.cells:
            gid = nbgrader_meta(cell).get("grade_id")
            key = (cell.get("cell_type"), normalise(cell_source(cell)))
            if gid in index_of:
                student_by_id.setdefault(gid, cell)
                anchor = index_of[gid]
            elif normalise(cell_source(cell)) in test_sources:
                continue
            elif not gid and plain.get(key):
                anchor = plain[key].pop(0)
            else:
                extras.setdefault(anchor, []).append(cell)
    for cell in extras.get(None, []):
        out.cells.append(_clean_copy(cell, strip_grade=True))
    for index, cell in enumerate(released.nb.cells):
        meta = nbgrader_meta(cell)
        gid = meta.get("grade_id")
        if gid in released.solutions and gid in student_by_id:
            new = _clean_copy(student_by_id[gid])
            new["metadata"]["nbgrader"] = dict(meta)
            new["cell_type"] = cell.get("cell_type", "code")
            if new["cell_type"] != "code":
                new.pop("outputs", None)
                new.pop("execution_count", None)
            out.cells.append(new)
        else:
            new = _clean_copy(cell)
            if gid in results and new.get("cell_type") == "code":
                # What nbformat.v4.new_output("stream", ...) makes, without validating
                # each output against the schema (writing the notebook validates it).
                stream = {"output_type": "stream", "name": "stdout", "text": str(results[gid])}
                new["outputs"] = [nbformat.NotebookNode(stream)]
            out.cells.append(new)
        for extra in extras.get(index, []):
            out.cells.append(_clean_copy(extra, strip_grade=True))
    ids = set()
    for number, cell in enumerate(out.cells):
        if not cell.get("id") or cell["id"] in ids:
            cell["id"] = f"autograded-{number}"
        ids.add(cell["id"])
    return out


def _clean_copy(cell, strip_grade=False):
    cell = nbformat.from_dict(json.loads(json.dumps(cell)))
    cell.setdefault("metadata", {})
    if cell.get("cell_type") == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    if strip_grade:
        cell["metadata"].pop("nbgrader", None)
    return cell


SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def solution_answers(source_nb) -> dict[str, str]:
    """grade_id -> the instructor's answer code of each answer cell (markers dropped)."""
    answers = {}
    for cell in source_nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and meta.get("grade_id"):
            lines = cell_source(cell).splitlines()
            answers[meta["grade_id"]] = "\n".join(
                line for line in lines if line.strip() not in SOLUTION_MARKERS
            )
    return answers


def solved_release(released_nb, source_nb):
    """The released notebook with the instructor's answers in its answer cells: what a
    student who solved everything would hand in (the preflight grades it, and it is what
    ``nbgrader validate`` passes on a student's machine). Answer cells are matched by
    ``grade_id``; every other cell stays as released."""
    answers = solution_answers(source_nb)
    solved = copy.deepcopy(released_nb)
    for cell in solved.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and meta.get("grade_id") in answers:
            cell.source = answers[meta["grade_id"]]
    return solved
