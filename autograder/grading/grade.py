"""Grading one submission: a pure function of plain data.

:func:`grade` takes a :class:`~autograder.grading.job.Job` and the
:class:`~autograder.grading.job.Materials` it names, and returns a typed
:class:`~autograder.grading.records.Record`. It reads no course folder and writes
nothing, so the same function grades a class on this machine (``--jobs N``) and on a
Dask cluster (:mod:`autograder.cluster`); ``python -m autograder job SPEC.json`` runs one
job and prints its record.

The student's code runs in a sandboxed child (:class:`~autograder.sandbox.session.Session`),
which says what happened to each call; what comes back is data, compared here, in the
trusted process, with ``upsampling.checking.check_output``, and this module decides what
each outcome is worth. A fault (timeout, crash, resource limit) ends only the test it
happens in: the child is replaced and the next test runs in a fresh one.
"""

from __future__ import annotations

import time

import numpy as np

from autograder.grading import notebooks
from autograder.grading.job import Job, Materials, check_materials
from autograder.grading.records import (
    CaseResult,
    CellProblem,
    Record,
    RecordStatus,
    TestResult,
    TestStatus,
)
from autograder.grading.scan import scan
from autograder.sandbox import FORBIDDEN_MODULES, Sandbox, SandboxError
from autograder.sandbox.session import (
    CRASHED,
    NOT_STARTED,
    OVER_LIMIT,
    TAMPERED,
    TIMED_OUT,
    Fault,
    Raised,
    Returned,
    Session,
)
from autograder.timing import phase

# What each fault of the child costs its test.
FAULT_STATUS = {
    TIMED_OUT: TestStatus.TIMED_OUT,
    CRASHED: TestStatus.CRASHED,
    OVER_LIMIT: TestStatus.OVER_LIMIT,
    NOT_STARTED: TestStatus.GRADER_ERROR,
    TAMPERED: TestStatus.TAMPERED,
}


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
    with phase("grade"):
        check_materials(job, materials, sandbox)
        record, tests = _new_record(job, materials, sandbox.mode)
        if job.submission is None:
            record.status = RecordStatus.MISSING
            _fail_all(tests, TestStatus.FAILED, f"no submitted notebook {job.notebook}.ipynb")
            return _finish(record)
        with phase("read notebook"):
            try:
                nb = notebooks.read_submission(job.submission)
            except notebooks.UnreadableNotebook as exc:
                record.status = RecordStatus.UNREADABLE
                _fail_all(tests, TestStatus.FAILED, f"the notebook could not be graded: {exc}")
                return _finish(record)
            analysis = notebooks.analyse(materials.released, nb)
            uses = scan(analysis.cells, FORBIDDEN_MODULES)
        record.notes += analysis.notes
        record.flags += analysis.flags
        for index, modules in sorted(uses.forbidden_cells.items()):
            record.flags.append(
                f"cell {index + 1} imports {', '.join(modules)}, which graded code must not use"
            )
        return _run_cases(record, tests, sandbox, uid, checker, materials.reference, analysis, uses)


def _new_record(job: Job, materials: Materials, mode: str) -> tuple[Record, dict]:
    """The record of ``job`` before anything is run, and its tests by grade_id."""
    reference, released = materials.reference, materials.released
    record = Record(
        assignment=job.assignment,
        student_id=job.student_id,
        notebook=job.notebook,
        fingerprint=job.key,
        sandbox=mode,
        max_score=float(sum(t["points"] for t in reference.tests.values())),
    )
    tests = {}
    for gid, spec in reference.tests.items():
        shown = released.tests.get(gid)
        title = shown.title if shown else ""
        tests[gid] = TestResult(gid, spec["function"], title, float(spec["points"]))
    record.tests = list(tests.values())
    return record, tests


def _run_cases(record, tests, sandbox, uid, checker, reference, analysis, uses) -> Record:
    """Run every case in the sandbox, then score the tests (a sandbox that fails makes
    the whole record a grader error)."""
    from upsampling.checking import Unrepresentable

    if checker is None:
        from upsampling.checking import check_output as checker
    session = Session(sandbox, uid, analysis.cells, Unrepresentable)
    run = _Run(session, checker, reference, uses, sandbox.limits)
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
    _score(record, tests, session, analysis, uses)
    return _finish(record)


class _Run:
    """The cases of one submission, run through its session."""

    def __init__(self, session, checker, reference, uses, limits):
        self.session, self.checker, self.reference = session, checker, reference
        self.uses, self.limits = uses, limits
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
            fault = session.broken
            end(FAULT_STATUS[fault.kind], f"{label}: {fault.reason}", True)
            if fault.kind == TAMPERED:
                test.flags.append(fault.reason)
            return
        if function not in (session.callables or set()):
            end(TestStatus.FAILED, _missing_function(function, self.uses, session), True)
            return
        args = [np.array(self.reference.arrays[key]) for key in case.get("args", [])]
        kwargs = dict(case.get("kwargs") or {})
        budget = limits.test_timeout - self.spent.get(test.grade_id, 0.0)
        started = time.monotonic()
        outcome = session.call(function, args, kwargs, budget)
        self.spent[test.grade_id] = self.spent.get(test.grade_id, 0.0) + time.monotonic() - started
        match outcome:
            case Returned(value):
                passed, message, entry.misconception = self._verdict(
                    dict(case, function=function), value, label
                )
                if not visible:
                    message = f"{label}: passed" if passed else _hide_call(message, label)
                end(TestStatus.PASSED if passed else TestStatus.FAILED, message)
                if not passed:
                    test.reason = test.reason or message
                    test.some_case_failed = True
            case Raised(error) if error.get("type") == "NotImplementedError":
                text = f"{function} is not implemented yet (it raises NotImplementedError)"
                end(TestStatus.FAILED, f"{label}: {text}", True)
            case Raised(error):
                text = _error_text(error, visible)
                if error.get("limit"):
                    text = f"over the {error['limit']} limit: {text}"
                status = TestStatus.OVER_LIMIT if error.get("limit") else TestStatus.CRASHED
                end(status, f"{label}: {function} {text}", True)
            case Fault(kind, _) if kind == TIMED_OUT:
                end(
                    TestStatus.TIMED_OUT,
                    f"{label}: {function} did not finish within {limits.test_timeout:g} s "
                    "(all cases of this test together)",
                    True,
                )
            case Fault(kind, reason):
                end(FAULT_STATUS[kind], f"{label}: {reason} while running {function}", True)
                if kind == TAMPERED:  # forged on the channel: for review, like an edit
                    test.flags.append(f"{function} {reason}")

    def _verdict(self, case, value, label) -> tuple[bool, str, str | None]:
        """Passed, the message, and the key of the misconception it names (if any)."""
        try:
            with phase("check"):
                verdict = self.checker(case, value, self.reference.arrays)
            misconception = None if verdict.passed else getattr(verdict, "misconception", None)
            return bool(verdict.passed), str(verdict.message), misconception
        except Exception as exc:  # a checker bug must not pass as the student's fault
            raise SandboxError(
                f"the checker failed on {label} ({type(exc).__name__}: {exc})"
            ) from exc


def _score(record: Record, tests: dict, session, analysis, uses) -> None:
    """Per-test statuses and points, cell problems and flags, once every case has run."""
    for index in sorted(session.cell_results):
        result = session.cell_results[index]
        if result["status"] == "ok":
            continue
        reason = result.get("reason")
        if result.get("error"):
            reason = _error_text(result["error"], visible=True)
        record.cells.append(CellProblem(index + 1, result["status"], reason))
        if result["status"] == TAMPERED:
            record.flags.append(f"cell {index + 1} {reason}")
    if session.broken and not record.cells:
        record.notes.append(f"the notebook could not be run: {session.broken.reason}")

    for gid, test in tests.items():
        if test.status is None:
            test.status = TestStatus.FAILED if test.some_case_failed else TestStatus.PASSED
        libraries = uses.forbidden.get(test.function)
        if libraries:
            test.flags.append(f"{test.function} uses {', '.join(libraries)} (numpy only)")
            if test.status is not TestStatus.PASSED:
                test.reason = (
                    f"{test.function} uses {', '.join(libraries)}, which is not available "
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


def _missing_function(function, uses, session) -> str:
    cell = uses.defined_in.get(function)
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
