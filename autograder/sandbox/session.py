"""The student's notebook, run in a sandboxed child that serves calls (one per test case).

:class:`Session` is what :func:`autograder.grading.grade.grade` drives:
:meth:`Session.start` runs the notebook's cells in a fresh child, :meth:`Session.call`
calls one function with the case's arguments, :meth:`Session.close` ends the child.
After a fault the child is discarded and the next call starts a fresh one, which runs
the cells again, skipping any cell that hung or killed its process before.

A call says what happened to the child, in this layer's own terms: it
:class:`Returned` a value, :class:`Raised` an exception (as the child described it), or
suffered a :class:`Fault` (it timed out, crashed or went over a limit). What each is
worth is for the grading layer to decide.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from autograder.sandbox.inside import wire
from autograder.sandbox.inside.wire import OutputTooLarge, ProtocolError
from autograder.sandbox.limits import FORBIDDEN_MODULES
from autograder.sandbox.processes import ChildGone, SandboxError, Timeout
from autograder.timing import phase

CHANNEL_FAULTS = (Timeout, ChildGone, OutputTooLarge, ProtocolError)

# What can happen to a child besides returning or raising (Fault.kind).
TIMED_OUT, CRASHED, OVER_LIMIT = "timed_out", "crashed", "over_limit"
TAMPERED = "tampered"  # the child sent a malformed, forged or out-of-order message
NOT_STARTED = "not_started"  # the sandbox itself failed (the grader's fault)


@dataclass(frozen=True)
class Returned:
    """The function returned ``value`` (decoded from plain data, never unpickled)."""

    value: object


@dataclass(frozen=True)
class Raised:
    """The function raised; ``error`` is the child's description of it (untrusted:
    ``type``, ``message``, ``where``, and ``limit`` for a MemoryError and the like)."""

    error: dict


@dataclass(frozen=True)
class Fault:
    """The child timed out, crashed or went over a limit (``kind``); ``reason`` in words."""

    kind: str
    reason: str | None


class Session:
    """One submission's notebook in a sandboxed child (see the module docstring)."""

    MAX_STARTS = 12

    def __init__(self, sandbox, uid, cells, unrepresentable: type):
        """``unrepresentable`` is the class that stands in for a returned value that is
        not plain data (``unrepresentable(type_name)``)."""
        self.sandbox, self.uid, self.cells = sandbox, uid, cells
        self.unrepresentable = unrepresentable
        self.limits = sandbox.limits
        self.child = None
        self.skip: set[int] = set()
        self.cell_results: dict[int, dict] = {}  # first run of each cell: status "ok", "error"
        # (with the child's "error") or a fault kind (with a "reason")
        self.callables: set[str] | None = None
        self.broken: Fault | None = None  # why no child can run the notebook
        self.starts = 0
        self.logs = []

    def start(self) -> bool:
        """Make sure a child is running the notebook; False if it cannot (``broken``)."""
        if self.child is None and self.broken is None:
            with phase("run cells"):
                self._start()
        return self.child is not None

    def _start(self) -> None:
        """Start children until one has run the cells, skipping each cell that killed or
        hung the last one, or until the notebook is found ``broken``."""
        while self.child is None and self.broken is None:
            if self.starts >= self.MAX_STARTS:
                self.broken = Fault(CRASHED, "the notebook's process failed too many times")
                return
            self.starts += 1
            try:
                child = self.sandbox.start(self.uid)
                _await_hello(child, self.limits.setup_timeout)
            except SandboxError as exc:
                self.broken = Fault(NOT_STARTED, str(exc))
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
            indices = {cell["index"] for cell in self.cells}
            current = None
            fault = None
            try:
                while True:
                    header, _ = child.recv(deadline)
                    event = header.get("ev")
                    if event == "cell_start" and current is None:
                        current = wire.decode_index(header.get("index"), indices)
                    elif event == "cell_end" and current is not None:
                        if wire.decode_index(header.get("index"), indices) != current:
                            raise ProtocolError("the end of a cell that had not started")
                        error = header.get("error")
                        error = None if error is None else wire.decode_error(error)
                        if current not in self.cell_results:
                            self.cell_results[current] = {
                                "status": "error" if error else "ok",
                                "error": error,
                            }
                        current = None
                    elif event == "ready" and current is None:
                        callables = wire.decode_callables(header.get("callables"))
                        if self.callables is None:
                            self.callables = callables
                        self.child = child
                        return
                    else:
                        raise ProtocolError(f"an unexpected message ({str(event)[:40]!r})")
            except CHANNEL_FAULTS as exc:
                timeout = f"did not finish within {self.limits.setup_timeout:g} s"
                fault = self._fault(exc, timeout, "sent")
            self._retire(child)
            if current is None or current in self.skip:
                reason = f"the notebook's code {fault.reason} outside any cell"
                self.broken = Fault(fault.kind, reason)
                return
            self.skip.add(current)
            self.cell_results[current] = {"status": fault.kind, "reason": fault.reason}

    def _fault(self, exc, timeout_reason, sent) -> Fault:
        """What happened to a child that timed out, died, flooded or garbled the channel."""
        if isinstance(exc, Timeout):
            return Fault(TIMED_OUT, timeout_reason)
        if isinstance(exc, ChildGone):
            return Fault(OVER_LIMIT if exc.limit else CRASHED, exc.how)
        if isinstance(exc, OutputTooLarge):
            return Fault(OVER_LIMIT, f"{sent} more than {self.limits.output_mb} MB of data")
        return Fault(TAMPERED, f"sent a forged or malformed message on the grading channel ({exc})")

    def _retire(self, child):
        child.kill()
        self.logs.append((child.log_text("stdout"), child.log_text("stderr")))
        child.close()

    def call(self, function: str, args, kwargs, budget: float) -> Returned | Raised | Fault:
        """Call ``function`` in the child, within ``budget`` seconds."""
        with phase("call"):
            return self._call(function, args, kwargs, budget)

    def _call(self, function: str, args, kwargs, budget: float) -> Returned | Raised | Fault:
        if not self.start():
            return self.broken
        try:
            if self.child.unsolicited():
                raise ProtocolError("a message before the call")
            self.child.send(*wire.encode_call(function, args, kwargs))
            header, blobs = self.child.recv(time.monotonic() + max(budget, 0.05))
            event = header.get("ev")
            if event == "result":
                value = wire.decode_value(header.get("value"), blobs, self.unrepresentable)
                return Returned(value)
            if event == "error":
                return Raised(wire.decode_error(header.get("error")))
            raise ProtocolError(f"an unexpected message ({str(event)[:40]!r})")
        except CHANNEL_FAULTS as exc:
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
