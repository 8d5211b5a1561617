"""Where jobs run: on this machine (:class:`LocalRunner`) or on a Dask cluster
(:class:`autograder.cluster.ClusterRunner`). Both run :func:`autograder.grading.grade.grade`.

A runner takes jobs (:meth:`submit`) and hands back finished ones (:meth:`finished`) as
``(job, record or exception)``; an exception is the grader's failure, never a grade. The
process that drives the runner, and only it, writes the gradebook.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from autograder.grading.grade import grade
from autograder.grading.job import Job, Materials
from autograder.sandbox import Sandbox, UidPool


class LocalRunner:
    """``n`` submissions graded at once in threads, each child in a sandbox with its own
    unprivileged uid (as root). Each thread keeps its uid (and so its sandbox zygote)
    for the runner's lifetime."""

    def __init__(self, sandbox: Sandbox, materials: Materials, n: int, checker=None):
        self.sandbox, self.materials, self.checker = sandbox, materials, checker
        self.mode = sandbox.mode
        self.capacity = 2 * n  # jobs in flight: enough to keep every thread busy
        self.pool = UidPool(n, enabled=sandbox.root and sandbox.mode == "bwrap")
        self.uids: queue.Queue = queue.Queue()
        for uid in self.pool.free:
            self.uids.put(uid)
        self.slot = threading.local()
        self.executor = ThreadPoolExecutor(max_workers=n)
        self.futures: dict = {}

    def _uid(self):
        """This thread's uid (n threads, n uids: each takes one and keeps it)."""
        if not hasattr(self.slot, "uid"):
            self.slot.uid = self.uids.get()
        return self.slot.uid

    def _grade(self, job: Job):
        # `grade` is looked up at call time: the tests replace it to break the grader
        return grade(job, self.materials, self.sandbox, self._uid(), self.checker)

    def submit(self, job: Job) -> None:
        self.futures[self.executor.submit(self._grade, job)] = job

    def finished(self, timeout: float) -> list:
        if not self.futures:
            return []
        done, _ = wait(list(self.futures), timeout=timeout, return_when=FIRST_COMPLETED)
        out = []
        for future in done:
            job = self.futures.pop(future)
            exc = future.exception()
            out.append((job, exc if exc is not None else future.result()))
        return out

    def close(self) -> None:
        for future in self.futures:
            future.cancel()
        self.executor.shutdown(wait=True)
        self.sandbox.close()
        self.pool.close()
