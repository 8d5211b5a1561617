"""Grading one submission: notebook in, result record out.

:func:`grade` is self-contained (a :class:`Job` names the submitted notebook, the
released notebook and the reference file; the record it returns is plain JSON), so a
batch can be spread over any distributed engine: ``python -m autograder job spec.json``
runs one job and prints its record.

The student's code runs in a sandboxed child (:mod:`autograder.sandbox`); what comes back
is data, which is compared here, in the trusted process, with
``upsampling.checking.check_output``. A fault (timeout, crash, resource limit) ends only
the test it happens in: the child is replaced and the next test runs in a fresh one.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from autograder import notebooks
from autograder.harness import array_to_blob, blob_to_array
from autograder.sandbox import (
    FORBIDDEN_MODULES,
    ChildGone,
    Limits,
    OutputTooLarge,
    ProtocolError,
    SandboxError,
    Timeout,
)

PASSED, FAILED, TIMED_OUT, CRASHED, OVER_LIMIT, TAMPERED, GRADER_ERROR = (
    "passed",
    "failed",
    "timed_out",
    "crashed",
    "over_limit",
    "tampered",
    "grader_error",
)
STATUS_LABELS = {
    PASSED: "passed",
    FAILED: "failed",
    TIMED_OUT: "timed out",
    CRASHED: "crashed",
    OVER_LIMIT: "over a resource limit",
    TAMPERED: "tampered",
    GRADER_ERROR: "grader error",
}
# The status of a whole record when the grader itself failed (the sandbox or the harness
# could not start, the checker broke): such a record is never a grade. It is not written
# to the gradebook or committed, so the next run grades the submission again.
RECORD_GRADER_ERROR = "grader error"
GRADER_FILES = ("harness.py", "sandbox.py", "notebooks.py", "job.py")


@dataclass(frozen=True)
class Job:
    """One submission to grade; everything the grading needs is named here."""

    assignment: str
    student_id: str
    notebook: str  # notebook name without .ipynb
    submission: str | None  # path of the submitted notebook (None: missing)
    released: str  # path of the released notebook
    reference: str  # path of the reference .npz

    def to_json(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------------------- inputs


@dataclass
class Reference:
    manifest: dict
    arrays: dict
    sha256: str

    @property
    def tests(self) -> dict:
        return self.manifest["tests"]


def _sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@lru_cache(maxsize=8)
def _load_reference(path: str, mtime: float) -> Reference:
    from upsampling.checking import read_reference_file

    manifest, arrays = read_reference_file(path)
    return Reference(manifest, arrays, _sha256(path))


def load_reference(path) -> Reference:
    return _load_reference(str(path), Path(path).stat().st_mtime)


@lru_cache(maxsize=8)
def _load_released(path: str, mtime: float):
    data = Path(path).read_bytes()
    nb = notebooks.read_notebook(data)
    return notebooks.Released.from_notebook(nb), hashlib.sha256(data).hexdigest()


def load_released(path):
    return _load_released(str(path), Path(path).stat().st_mtime)


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


def fingerprint(job: Job, limits: Limits, sandbox_mode: str) -> str:
    """Changes whenever anything that could change the record changes."""
    digest = hashlib.sha256()
    sub = Path(job.submission) if job.submission else None
    digest.update(sub.read_bytes() if sub and sub.is_file() else b"<missing>")
    digest.update(load_released(job.released)[1].encode())
    digest.update(load_reference(job.reference).sha256.encode())
    digest.update(grader_version().encode())
    digest.update(json.dumps([limits.to_json(), sandbox_mode, job.to_json()]).encode())
    return digest.hexdigest()


# ----------------------------------------------------------------------------- the child


class Session:
    """The student's notebook, run in a sandboxed child that serves calls.

    After a fault the child is discarded; the next call starts a fresh one, which runs
    the cells again (skipping any cell that hung or killed its process before).
    """

    MAX_STARTS = 12

    def __init__(self, sandbox, uid, cells):
        self.sandbox, self.uid, self.cells = sandbox, uid, cells
        self.limits = sandbox.limits
        self.child = None
        self.skip: set[int] = set()
        self.cell_results: dict[int, dict] = {}  # first run of each cell
        self.callables: set[str] | None = None
        self.broken: tuple[str, str] | None = None
        self.starts = 0
        self.logs = []

    def _start(self) -> bool:
        while self.child is None and self.broken is None:
            if self.starts >= self.MAX_STARTS:
                self.broken = (CRASHED, "the notebook's process failed too many times")
                return False
            self.starts += 1
            try:
                child = self.sandbox.start(self.uid)
                _await_hello(child, self.limits.setup_timeout)
            except SandboxError as exc:
                self.broken = (GRADER_ERROR, str(exc))
                raise
            child.send(
                {
                    "op": "setup",
                    "cells": self.cells,
                    "skip": sorted(self.skip),
                    "forbidden": list(FORBIDDEN_MODULES),
                }
            )
            deadline = time.monotonic() + self.limits.setup_timeout
            current = None
            fault = None
            try:
                while True:
                    header, _ = child.recv(deadline)
                    event = header.get("ev")
                    if event == "cell_start":
                        current = header.get("index")
                    elif event == "cell_end":
                        index = header.get("index")
                        if index not in self.cell_results:
                            error = header.get("error")
                            self.cell_results[index] = {
                                "status": "error" if error else "ok",
                                "error": error,
                            }
                        current = None
                    elif event == "ready":
                        if self.callables is None:
                            self.callables = set(map(str, header.get("callables", [])))
                        self.child = child
                        return True
                    else:
                        raise ProtocolError("unexpected message")
            except (Timeout, ChildGone, OutputTooLarge, ProtocolError) as exc:
                fault = self._fault(exc, f"did not finish within {self.limits.setup_timeout:g} s",
                                    "sent")  # fmt: skip
            self._retire(child)
            if current is None or current in self.skip:
                self.broken = (fault[0], f"the notebook's code {fault[1]} outside any cell")
                return False
            self.skip.add(current)
            self.cell_results[current] = {"status": fault[0], "reason": fault[1]}
        return self.child is not None

    def _fault(self, exc, timeout_reason, sent):
        """(status, reason) for a child that timed out, died, flooded or garbled the channel."""
        if isinstance(exc, Timeout):
            return TIMED_OUT, timeout_reason
        if isinstance(exc, ChildGone):
            return (OVER_LIMIT if exc.limit else CRASHED), exc.how
        if isinstance(exc, OutputTooLarge):
            return OVER_LIMIT, f"{sent} more than {self.limits.output_mb} MB of data"
        return CRASHED, f"the grading channel was corrupted ({exc})"

    def _retire(self, child):
        child.kill()
        self.logs.append((child.log_text("stdout"), child.log_text("stderr")))
        child.close()

    def call(self, function: str, args, kwargs, budget: float):
        """``(kind, payload)``: ``("result", value)``, ``("error", info)`` or a fault
        ``(status, reason)`` with status TIMED_OUT, CRASHED or OVER_LIMIT."""
        if not self._start():
            return self.broken
        blobs, encoded = [], []
        for arg in args:
            blobs.append(array_to_blob(arg))
            encoded.append({"blob": len(blobs) - 1})
        self.child.send(
            {"op": "call", "function": function, "args": encoded, "kwargs": kwargs}, blobs
        )
        try:
            header, blobs = self.child.recv(time.monotonic() + max(budget, 0.05))
            event = header.get("ev")
            if event == "result":
                return "result", decode(header.get("value"), blobs)
            if event == "error" and isinstance(header.get("error"), dict):
                return "error", header["error"]
            raise ProtocolError("unexpected message")
        except (Timeout, ChildGone, OutputTooLarge, ProtocolError) as exc:
            fault = self._fault(exc, None, "returned")
        child, self.child = self.child, None
        self._retire(child)
        return fault

    def close(self):
        if self.child is not None:
            child, self.child = self.child, None
            self._retire(child)


def _await_hello(child, timeout: float) -> None:
    """Wait for the child's first frame, sent before any student code runs; a child that
    does not get that far failed for the grader's reasons (raises SandboxError)."""
    try:
        header, _ = child.recv(time.monotonic() + timeout)
        if header.get("ev") == "hello":
            return
        problem = "it sent something else first"
    except Timeout:
        problem = f"it did not answer within {timeout:g} s"
    except ChildGone as exc:
        problem = exc.how
    except (OutputTooLarge, ProtocolError) as exc:
        problem = f"its channel was unreadable ({type(exc).__name__})"
    child.kill()
    child.drain()
    said = [line.strip() for line in child.log_text("stderr").splitlines() if line.strip()]
    child.close()
    detail = f"; it said: {' / '.join(said[-2:])[-400:]}" if said else ""
    raise SandboxError(
        f"the sandboxed interpreter did not start: {problem}{detail}. Check that bubblewrap "
        "works for this user (bwrap --ro-bind / / true) and that the limits leave room to "
        "start Python and import numpy (--memory-mb)"
    )


def decode(node, blobs, depth=0):
    """Rebuild a returned value from the child's data (never from pickles)."""
    from upsampling.checking import Unrepresentable

    try:
        kind = node["kind"]
        if kind == "ndarray":
            array = blob_to_array(blobs[node["blob"]])
            return array if type(array) is np.ndarray else Unrepresentable("unknown")
        if kind == "ndarray_subclass":
            return Unrepresentable(f"{str(node['type'])[:80]} (a subclass of numpy.ndarray)")
        if kind == "npscalar":
            return blob_to_array(blobs[node["blob"]])[()]
        if kind == "py":
            t, value = node["type"], node["value"]
            if t == "int" and type(value) is int:
                return value
            if t == "float" and type(value) in (int, float):
                return float(value)
            if t == "bool" and type(value) is bool:
                return value
            if t == "str" and type(value) is str:
                return value
            if t == "NoneType" and value is None:
                return None
            if t == "complex" and isinstance(value, list) and len(value) == 2:
                return complex(float(value[0]), float(value[1]))
            raise ValueError("bad scalar")
        if kind in ("tuple", "list") and depth < 8:
            items = [decode(item, blobs, depth + 1) for item in node["items"]]
            return tuple(items) if kind == "tuple" else items
        return Unrepresentable(str(node.get("type", "an unsupported object"))[:120])
    except (KeyError, TypeError, IndexError, ValueError, OSError) as exc:
        raise ProtocolError("unreadable data") from exc


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


def _test_record(gid, spec, released_test, reason_if_missing=None):
    return {
        "grade_id": gid,
        "function": spec["function"],
        "title": released_test.title if released_test else "",
        "max_points": float(spec["points"]),
        "points": 0.0,
        "status": None,
        "reason": reason_if_missing,
        "cases": [],
        "flags": [],
    }


def grade(job: Job, sandbox, uid=None, checker=None) -> dict:
    """Grade one submission; returns its result record (plain JSON)."""
    if checker is None:
        from upsampling.checking import check_output as checker
    reference = load_reference(job.reference)
    released, _ = load_released(job.released)
    record = {
        "assignment": job.assignment,
        "student_id": job.student_id,
        "notebook": job.notebook,
        "fingerprint": fingerprint(job, sandbox.limits, sandbox.mode),
        "sandbox": sandbox.mode,
        "status": "graded",
        "score": 0.0,
        "max_score": float(sum(t["points"] for t in reference.tests.values())),
        "notes": [],
        "flags": [],
        "cells": [],
        "tests": [],
    }
    tests = {
        gid: _test_record(gid, spec, released.tests.get(gid))
        for gid, spec in reference.tests.items()
    }
    record["tests"] = list(tests.values())

    data = None
    if job.submission and Path(job.submission).is_file():
        data = Path(job.submission).read_bytes()
    if data is None:
        record["status"] = "missing"
        _fail_all(tests, FAILED, f"no submitted notebook {job.notebook}.ipynb")
        return _finish(record)
    try:
        nb = notebooks.read_notebook(data)
    except notebooks.UnreadableNotebook as exc:
        record["status"] = "unreadable"
        _fail_all(tests, FAILED, f"the notebook could not be graded: {exc}")
        return _finish(record)

    analysis = notebooks.analyse(released, nb)
    record["notes"] += analysis.notes
    record["flags"] += analysis.flags
    scan = notebooks.scan(analysis.cells, FORBIDDEN_MODULES)
    for index, modules in sorted(scan.forbidden_cells.items()):
        record["flags"].append(
            f"cell {index + 1} imports {', '.join(modules)}, which graded code must not use"
        )

    session = Session(sandbox, uid, analysis.cells)
    spent = {gid: 0.0 for gid in tests}
    try:
        _run_tests(session, checker, reference, tests, spent, scan, sandbox.limits)
    except SandboxError as exc:
        session.close()
        record["status"] = RECORD_GRADER_ERROR
        record["notes"].append(f"grader error: {exc}")
        _fail_all(tests, GRADER_ERROR, f"grader error (not the student's fault): {exc}")
        record["logs"] = session.logs
        return _finish(record)
    finally:
        session.close()
    _score(record, tests, session, analysis, scan)
    return _finish(record)


def _run_tests(session, checker, reference, tests, spent, scan, limits):
    """Visible cases first, then hidden ones; a test whose case crashed, timed out or hit a
    limit runs no further case."""
    for phase_visible in (True, False):
        for gid, spec in reference.tests.items():
            test = tests[gid]
            for number, case in enumerate(spec["cases"], start=1):
                if bool(case.get("visible")) != phase_visible or test["status"] is not None:
                    continue
                _run_case(
                    session, checker, reference, spec, case, number, test, spent, scan,
                    limits,
                )  # fmt: skip


def _score(record, tests, session, analysis, scan):
    """Per-test statuses and points, cell problems and flags, once every case has run."""
    for index in sorted(session.cell_results):
        result = session.cell_results[index]
        entry = {"cell": index + 1, "status": result["status"]}
        if result.get("error"):
            entry["reason"] = _error_text(result["error"], visible=True)
        elif result.get("reason"):
            entry["reason"] = result["reason"]
        if entry["status"] != "ok":
            record["cells"].append(entry)
    if session.broken and not record["cells"]:
        record["notes"].append(f"the notebook could not be run: {session.broken[1]}")

    for gid, test in tests.items():
        failed = test.pop("_failed", False)
        if test["status"] is None:
            test["status"] = FAILED if failed else PASSED
        uses = scan.forbidden.get(test["function"])
        if uses:
            test["flags"].append(f"{test['function']} uses {', '.join(uses)} (numpy only)")
            if test["status"] != PASSED:
                test["reason"] = (
                    f"{test['function']} uses {', '.join(uses)}, which is not available "
                    f"during grading (implement it with numpy only); {test['reason']}"
                )
        if gid in analysis.tampered:
            test["would_pass"] = test["status"] == PASSED
            test["status"] = TAMPERED
            test["reason"] = analysis.tampered[gid] + " (scored 0, flagged for review)"
            test["flags"].append(analysis.tampered[gid])
        test["points"] = test["max_points"] if test["status"] == PASSED else 0.0
        for flag in test["flags"]:
            message = f"test {gid}: {flag}"
            if message not in record["flags"]:
                record["flags"].append(message)
    record["logs"] = session.logs


def _run_case(session, checker, reference, spec, case, number, test, spent, scan, limits):
    label = _case_label(case, number)
    visible = bool(case.get("visible"))
    function = spec["function"]
    entry = {"case": label, "visible": visible, "status": None, "message": ""}
    test["cases"].append(entry)

    def end(status, message, test_status=None):
        entry["status"], entry["message"] = status, message
        if test_status is not None:
            test["status"] = test_status
            test["reason"] = message

    if not session._start() and session.broken:
        end(session.broken[0], f"{label}: {session.broken[1]}", session.broken[0])
        return
    if function not in (session.callables or set()):
        end(FAILED, _missing_function(function, scan, session), FAILED)
        return
    args = [np.array(reference.arrays[key]) for key in case.get("args", [])]
    kwargs = dict(case.get("kwargs") or {})
    budget = limits.test_timeout - spent[test["grade_id"]]
    started = time.monotonic()
    kind, payload = session.call(function, args, kwargs, budget)
    spent[test["grade_id"]] += time.monotonic() - started
    if kind == "result":
        try:
            verdict = checker(dict(case, function=function), payload, reference.arrays)
            passed, message = bool(verdict.passed), str(verdict.message)
        except Exception as exc:  # a checker bug must not pass as the student's fault
            raise SandboxError(
                f"the checker failed on {label} ({type(exc).__name__}: {exc})"
            ) from exc
        if not visible:
            message = f"{label}: passed" if passed else _hide_call(message, label)
        if passed:
            end(PASSED, message)
        else:
            end(FAILED, message)
            if test["reason"] is None:
                test["reason"] = message
            test.setdefault("_failed", True)
        return
    if kind == "error" and payload.get("type") == "NotImplementedError":
        end(
            FAILED,
            f"{label}: {function} is not implemented yet (it raises NotImplementedError)",
            FAILED,
        )
        return
    if kind == "error":
        status = OVER_LIMIT if payload.get("limit") else CRASHED
        text = _error_text(payload, visible)
        if payload.get("limit"):
            text = f"over the {payload['limit']} limit: {text}"
        end(status, f"{label}: {function} {text}", status)
        return
    status, how = kind, payload
    if status == TIMED_OUT:
        end(
            TIMED_OUT,
            f"{label}: {function} did not finish within {limits.test_timeout:g} s "
            "(all cases of this test together)",
            TIMED_OUT,
        )
    else:
        end(status, f"{label}: {how} while running {function}", status)


def _missing_function(function, scan, session) -> str:
    cell = scan.defined_in.get(function)
    result = session.cell_results.get(cell) if cell is not None else None
    if result and result["status"] in (TIMED_OUT, CRASHED, OVER_LIMIT):
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


def _fail_all(tests, status, reason):
    for test in tests.values():
        test["status"], test["reason"] = status, reason


def _finish(record: dict) -> dict:
    for test in record["tests"]:
        test.pop("_failed", None)
        if test["status"] == FAILED and test["reason"] is None:
            test["reason"] = "failed"
        if test["status"] is None:
            test["status"] = FAILED
    record["score"] = float(sum(t["points"] for t in record["tests"]))
    if any(t["status"] == GRADER_ERROR for t in record["tests"]):
        record["status"] = RECORD_GRADER_ERROR
    if record["status"] == "graded" and record["flags"]:
        record["status"] = "flagged"
    record.setdefault("logs", [])
    return record


def student_view(record: dict) -> dict:
    """The record without what only the instructor may see."""
    view = json.loads(json.dumps(record))
    view.pop("logs", None)
    view.pop("fingerprint", None)
    for test in view["tests"]:
        test.pop("would_pass", None)
    return view
