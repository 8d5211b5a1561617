"""Grading one submission: a pure function of plain data.

:func:`grade` takes a :class:`Job` (who, which notebook, the submitted bytes, the content
hashes of the release and the reference, the limits, the sandbox and the grader version)
and the :class:`Materials` those hashes name (the released notebook and the reference
outputs), and returns a typed :class:`~autograder.records.Record`. It reads no course
folder and writes nothing, so the same function grades a class on this machine
(``--jobs N``) and on a Dask cluster (:mod:`autograder.cluster`); ``python -m autograder
job SPEC.json`` runs one job and prints its record.

The student's code runs in a sandboxed child (:mod:`autograder.session`); what comes back
is data, which is compared here, in the trusted process, with
``upsampling.checking.check_output``. A fault (timeout, crash, resource limit) ends only
the test it happens in: the child is replaced and the next test runs in a fresh one.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from autograder import notebooks
from autograder.records import (
    CaseResult,
    CellProblem,
    Record,
    RecordStatus,
    TestResult,
    TestStatus,
)
from autograder.sandbox import FORBIDDEN_MODULES, Limits, Sandbox, SandboxError
from autograder.session import Session

# The files whose code decides a record: a change to any of them changes every job's key.
GRADER_FILES = ("harness.py", "wire.py", "sandbox.py", "session.py", "notebooks.py",
                "job.py", "records.py")  # fmt: skip


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=1)
def grader_version() -> str:
    digest = hashlib.sha256()
    for name in GRADER_FILES:
        digest.update((Path(__file__).parent / name).read_bytes())
    import upsampling.checking
    import upsampling.grading

    digest.update(Path(upsampling.checking.__file__).read_bytes())
    for module in sorted(Path(upsampling.grading.__file__).parent.glob("*.py")):
        digest.update(module.read_bytes())
    return digest.hexdigest()[:16]


# ----------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Materials:
    """What every job of an assignment shares: the released notebook and the reference
    outputs (hidden cases included), as bytes. Sent to a cluster once, not per job."""

    released: bytes
    reference: bytes

    @property
    def released_sha256(self) -> str:
        return _cached_sha256(self.released)

    @property
    def reference_sha256(self) -> str:
        return _cached_sha256(self.reference)

    @classmethod
    def from_files(cls, released, reference) -> Materials:
        return cls(Path(released).read_bytes(), Path(reference).read_bytes())


_hashes: dict[int, tuple[bytes, str]] = {}


def _cached_sha256(data: bytes) -> str:
    """sha256 of a (large, immutable) bytes object, computed once per object."""
    hit = _hashes.get(id(data))
    if hit is None or hit[0] is not data:
        hit = _hashes[id(data)] = (data, sha256(data))
    return hit[1]


@dataclass(frozen=True)
class Job:
    """One submission to grade: everything its record depends on, as plain data."""

    assignment: str
    student_id: str
    notebook: str  # notebook name without .ipynb
    submission: bytes | None  # the submitted notebook (None: nothing submitted)
    released_sha256: str
    reference_sha256: str
    limits: Limits
    sandbox: str  # "bwrap" or "none"
    grader_version: str

    @property
    def key(self) -> str:
        """Equal keys, equal records: the record's ``fingerprint`` and the job's name on
        a cluster (exactly once), from the submission's content, the release, the
        reference, the grader, the limits and the sandbox."""
        submitted = "<missing>" if self.submission is None else sha256(self.submission)
        parts = [self.assignment, self.student_id, self.notebook, submitted,
                 self.released_sha256, self.reference_sha256, self.grader_version,
                 self.limits.to_json(), self.sandbox]  # fmt: skip
        return sha256(json.dumps(parts, sort_keys=True).encode())

    @classmethod
    def make(cls, assignment, student_id, notebook, submission, materials, limits, sandbox):
        return cls(assignment, student_id, notebook, submission, materials.released_sha256,
                   materials.reference_sha256, limits, sandbox, grader_version())  # fmt: skip


@dataclass
class Reference:
    manifest: dict
    arrays: dict
    sha256: str

    @property
    def tests(self) -> dict:
        return self.manifest["tests"]


@lru_cache(maxsize=8)
def _parse_reference(digest: str, data: bytes) -> Reference:
    from upsampling.checking import read_reference_file

    manifest, arrays = read_reference_file(io.BytesIO(data))
    return Reference(manifest, arrays, digest)


@lru_cache(maxsize=8)
def _parse_released(digest: str, data: bytes):
    return notebooks.Released.from_notebook(notebooks.read_notebook(data))


def load_reference(path) -> Reference:
    data = Path(path).read_bytes()
    return _parse_reference(sha256(data), data)


def load_released(path):
    """``(Released, sha256)`` of a released notebook file."""
    data = Path(path).read_bytes()
    digest = sha256(data)
    return _parse_released(digest, data), digest


class MaterialsMismatch(SandboxError):
    """The materials are not the ones the job names (a grader error, never a grade)."""


def _check(job: Job, materials: Materials, sandbox) -> None:
    problems = []
    if materials.released_sha256 != job.released_sha256:
        problems.append("the released notebook differs from the job's")
    if materials.reference_sha256 != job.reference_sha256:
        problems.append("the reference outputs differ from the job's")
    if job.grader_version != grader_version():
        problems.append(
            f"this grader is version {grader_version()}, the job was made by "
            f"{job.grader_version} (install the same course package on every machine)"
        )
    if sandbox.limits != job.limits or sandbox.mode != job.sandbox:
        problems.append("the sandbox's limits or mode differ from the job's")
    if problems:
        raise MaterialsMismatch("; ".join(problems))


# ----------------------------------------------------------------------------- grading


def _case_label(case, number: int) -> str:
    return f"visible case {case['name']}" if case.get("visible") else f"hidden case {number}"


def _hide_call(message: str, label: str) -> str:
    """A check message for a hidden case: its first line (case name and call) replaced."""
    lines = message.splitlines()
    return "\n".join([f"{label}:"] + lines[1:])


def _error_text(error: dict, visible: bool) -> str:
    kind = str(error.get("type", "Exception"))[:80]
    if not visible:
        return f"raised {kind} (messages from hidden cases are not shown)"
    message = str(error.get("message", ""))[:1000]
    where = error.get("where") or []
    text = f"raised {kind}: {message}" if message else f"raised {kind}"
    if where:
        text += f" (in {where[-1]})"
    return text


def grade(job: Job, materials: Materials, sandbox: Sandbox, uid=None, checker=None) -> Record:
    """Grade one submission; ``uid`` is the sandbox slot's unprivileged uid (as root).
    The record's ``seconds`` is how long it took, where it ran."""
    started = time.monotonic()
    record = _grade(job, materials, sandbox, uid, checker)
    record.seconds = time.monotonic() - started
    return record


def _grade(job: Job, materials: Materials, sandbox: Sandbox, uid, checker) -> Record:
    if checker is None:
        from upsampling.checking import check_output as checker
    _check(job, materials, sandbox)
    reference = _parse_reference(materials.reference_sha256, materials.reference)
    released = _parse_released(materials.released_sha256, materials.released)
    record = Record(
        assignment=job.assignment,
        student_id=job.student_id,
        notebook=job.notebook,
        fingerprint=job.key,
        sandbox=sandbox.mode,
        max_score=float(sum(t["points"] for t in reference.tests.values())),
    )
    tests = {}
    for gid, spec in reference.tests.items():
        shown = released.tests.get(gid)
        tests[gid] = TestResult(gid, spec["function"], shown.title if shown else "",
                                float(spec["points"]))  # fmt: skip
    record.tests = list(tests.values())

    if job.submission is None:
        record.status = RecordStatus.MISSING
        _fail_all(tests, TestStatus.FAILED, f"no submitted notebook {job.notebook}.ipynb")
        return _finish(record)
    try:
        nb = notebooks.read_submission(job.submission)
    except notebooks.UnreadableNotebook as exc:
        record.status = RecordStatus.UNREADABLE
        _fail_all(tests, TestStatus.FAILED, f"the notebook could not be graded: {exc}")
        return _finish(record)

    analysis = notebooks.analyse(released, nb)
    record.notes += analysis.notes
    record.flags += analysis.flags
    scan = notebooks.scan(analysis.cells, FORBIDDEN_MODULES)
    for index, modules in sorted(scan.forbidden_cells.items()):
        record.flags.append(
            f"cell {index + 1} imports {', '.join(modules)}, which graded code must not use"
        )

    session = Session(sandbox, uid, analysis.cells)
    run = _Run(session, checker, reference, scan, sandbox.limits)
    try:
        run.all_tests(tests)
    except SandboxError as exc:
        session.close()
        record.status = RecordStatus.GRADER_ERROR
        record.notes.append(f"grader error: {exc}")
        _fail_all(tests, TestStatus.GRADER_ERROR, f"grader error (not the student's fault): {exc}")
        record.logs = session.logs
        return _finish(record)
    finally:
        session.close()
    _score(record, tests, session, analysis, scan)
    return _finish(record)


class _Run:
    """The cases of one submission, run through its session."""

    def __init__(self, session, checker, reference, scan, limits):
        self.session, self.checker, self.reference = session, checker, reference
        self.scan, self.limits = scan, limits
        self.spent: dict[str, float] = {}  # seconds used by each test's cases

    def all_tests(self, tests: dict) -> None:
        """Visible cases first, then hidden ones; a test whose case crashed, timed out or
        hit a limit runs no further case."""
        for phase_visible in (True, False):
            for gid, spec in self.reference.tests.items():
                test = tests[gid]
                for number, case in enumerate(spec["cases"], start=1):
                    if bool(case.get("visible")) != phase_visible or test.status is not None:
                        continue
                    self.case(spec, case, number, test)

    def case(self, spec, case, number, test: TestResult) -> None:
        session, limits = self.session, self.limits
        label = _case_label(case, number)
        visible = bool(case.get("visible"))
        function = spec["function"]
        entry = CaseResult(label, visible)
        test.cases.append(entry)

        def end(status, message, ends_test=False):
            entry.status, entry.message = status, message
            if ends_test:
                test.status, test.reason = status, message

        if not session.start() and session.broken:
            end(session.broken[0], f"{label}: {session.broken[1]}", True)
            return
        if function not in (session.callables or set()):
            end(TestStatus.FAILED, _missing_function(function, self.scan, session), True)
            return
        args = [np.array(self.reference.arrays[key]) for key in case.get("args", [])]
        kwargs = dict(case.get("kwargs") or {})
        budget = limits.test_timeout - self.spent.get(test.grade_id, 0.0)
        started = time.monotonic()
        kind, payload = session.call(function, args, kwargs, budget)
        self.spent[test.grade_id] = self.spent.get(test.grade_id, 0.0) + time.monotonic() - started
        if kind == "result":
            passed, message, entry.misconception = self._verdict(
                dict(case, function=function), payload, label
            )
            if not visible:
                message = f"{label}: passed" if passed else _hide_call(message, label)
            end(TestStatus.PASSED if passed else TestStatus.FAILED, message)
            if not passed:
                test.reason = test.reason or message
                test.some_case_failed = True
        elif kind == "error" and payload.get("type") == "NotImplementedError":
            end(TestStatus.FAILED,
                f"{label}: {function} is not implemented yet (it raises NotImplementedError)",
                True)  # fmt: skip
        elif kind == "error":
            status = TestStatus.OVER_LIMIT if payload.get("limit") else TestStatus.CRASHED
            text = _error_text(payload, visible)
            if payload.get("limit"):
                text = f"over the {payload['limit']} limit: {text}"
            end(status, f"{label}: {function} {text}", True)
        elif kind == TestStatus.TIMED_OUT:
            end(TestStatus.TIMED_OUT,
                f"{label}: {function} did not finish within {limits.test_timeout:g} s "
                "(all cases of this test together)", True)  # fmt: skip
        else:
            end(kind, f"{label}: {payload} while running {function}", True)

    def _verdict(self, case, value, label) -> tuple[bool, str, str | None]:
        """Passed, the message, and the key of the misconception it names (if any)."""
        try:
            verdict = self.checker(case, value, self.reference.arrays)
            misconception = None if verdict.passed else getattr(verdict, "misconception", None)
            return bool(verdict.passed), str(verdict.message), misconception
        except Exception as exc:  # a checker bug must not pass as the student's fault
            raise SandboxError(
                f"the checker failed on {label} ({type(exc).__name__}: {exc})"
            ) from exc


def _score(record: Record, tests: dict, session, analysis, scan) -> None:
    """Per-test statuses and points, cell problems and flags, once every case has run."""
    for index in sorted(session.cell_results):
        result = session.cell_results[index]
        if result["status"] == "ok":
            continue
        reason = result.get("reason")
        if result.get("error"):
            reason = _error_text(result["error"], visible=True)
        record.cells.append(CellProblem(index + 1, result["status"], reason))
    if session.broken and not record.cells:
        record.notes.append(f"the notebook could not be run: {session.broken[1]}")

    for gid, test in tests.items():
        if test.status is None:
            test.status = TestStatus.FAILED if test.some_case_failed else TestStatus.PASSED
        uses = scan.forbidden.get(test.function)
        if uses:
            test.flags.append(f"{test.function} uses {', '.join(uses)} (numpy only)")
            if test.status is not TestStatus.PASSED:
                test.reason = (
                    f"{test.function} uses {', '.join(uses)}, which is not available "
                    f"during grading (implement it with numpy only); {test.reason}"
                )
        if gid in analysis.tampered:
            test.would_pass = test.status is TestStatus.PASSED
            test.status = TestStatus.TAMPERED
            test.reason = analysis.tampered[gid] + " (scored 0, flagged for review)"
            test.flags.append(analysis.tampered[gid])
        test.points = test.max_points if test.status is TestStatus.PASSED else 0.0
        for flag in test.flags:
            message = f"test {gid}: {flag}"
            if message not in record.flags:
                record.flags.append(message)
    record.logs = session.logs


def _missing_function(function, scan, session) -> str:
    cell = scan.defined_in.get(function)
    result = session.cell_results.get(cell) if cell is not None else None
    if result and result["status"] not in ("ok", "error"):  # a fault
        return (
            f"{function} is not defined: cell {cell + 1}, which defines it, "
            f"{result.get('reason', 'failed')}"
        )
    if result and result.get("error"):
        return (
            f"{function} is not defined: cell {cell + 1}, which defines it, "
            f"{_error_text(result['error'], visible=True)}"
        )
    # The cell meant to define it may not even parse: point at the cells that failed.
    failed = [
        f"cell {index + 1} {_error_text(r['error'], visible=True)}"
        for index, r in sorted(session.cell_results.items())
        if r.get("error")
    ]
    if failed:
        return (
            f"no function named {function} is defined in the notebook; "
            f"fix these cells first: {'; '.join(failed)}"
        )
    return f"no function named {function} is defined in the notebook"


def _fail_all(tests: dict, status: TestStatus, reason: str) -> None:
    for test in tests.values():
        test.status, test.reason = status, reason


def _finish(record: Record) -> Record:
    for test in record.tests:
        if test.status is None:
            test.status = TestStatus.FAILED
        if test.status is TestStatus.FAILED and test.reason is None:
            test.reason = "failed"
    record.score = float(sum(t.points for t in record.tests))
    if any(t.status is TestStatus.GRADER_ERROR for t in record.tests):
        record.status = RecordStatus.GRADER_ERROR
    if record.status is RecordStatus.GRADED and record.flags:
        record.status = RecordStatus.FLAGGED
    return record
