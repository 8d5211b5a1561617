"""Unprivileged uids for the worker slots when the grader runs as root: one per slot, so
``RLIMIT_NPROC`` bounds a fork bomb and a sweep by uid finds every stray process."""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

from autograder.sandbox.processes import SandboxError, kill_uid

UID_RANGE = range(61000, 61999)
LOCK_DIR = Path(tempfile.gettempdir())


class UidPool:
    """Unprivileged uids for the worker slots, unique across graders on this machine.

    Each uid is held through an exclusive lock file for the grader's lifetime, so two
    graders never share a uid (and never sweep each other's processes)."""

    def __init__(self, n: int, enabled: bool):
        self.locks = []
        self.free: list[int | None] = []
        if not enabled:
            self.free = [None] * n
            return
        for uid in UID_RANGE:
            if len(self.free) == n:
                break
            fd = os.open(LOCK_DIR / f"autograder-uid-{uid}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            kill_uid(uid)  # strays from a grader that was killed earlier
            self.locks.append(fd)
            self.free.append(uid)
        if len(self.free) < n:
            raise SandboxError("no free sandbox uid: too many graders running")

    def close(self) -> None:
        for fd in self.locks:
            os.close(fd)
        self.locks = []
