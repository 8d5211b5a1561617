"""The nbgrader course folder: where each step's files are, the records a run leaves,
the gradebook, and the lock files that let two graders share one course.

``autograded/<student>/<assignment>/autograder.json`` (:data:`RECORD`) is the commit
point of a submission's grading (:mod:`autograder.recording`); a submission is graded
under its lock file (:func:`submission_lock_name`), and the gradebook is written under
``gradebook.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path

RECORD = "autograder.json"
GRADER_ERROR_RECORD = "grader-error.json"
STATE_DIR = ".autograder"


class CourseError(Exception):
    """The course is not set up for grading this assignment (the message says how to fix it)."""


def atomic_write(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` at once (readers see the old or the new file), on
    disk (fsync) before the replace: every file of a submission survives a crash once its
    record, written last, exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class Course:
    """The nbgrader course folder (``nbgrader_config.py`` at its root)."""

    def __init__(self, root, reference_dir=None):
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config
        from traitlets.config.loader import PyFileConfigLoader

        self.root = Path(root).resolve()
        config = Config()
        if (self.root / "nbgrader_config.py").is_file():
            config = PyFileConfigLoader("nbgrader_config.py", path=str(self.root)).load_config()
        self.coursedir = CourseDirectory(config=config)
        self.coursedir.root = str(self.root)
        self.reference_dir = (
            Path(reference_dir) if reference_dir else self.root / "autograder" / "reference"
        )
        self.state = self.root / self.coursedir.autograded_directory / STATE_DIR

    def path(self, step: str, student: str, assignment: str) -> Path:
        """A student's folder of ``assignment`` at ``step`` (``submitted``,
        ``autograded`` or ``feedback``)."""
        base = {
            "submitted": self.coursedir.submitted_directory,
            "autograded": self.coursedir.autograded_directory,
            "feedback": self.coursedir.feedback_directory,
        }[step]
        return self.root / base / student / assignment

    def release_folder(self, assignment: str) -> Path:
        """The released (student) version of ``assignment``."""
        return self.root / self.coursedir.release_directory / assignment

    def released_notebooks(self, assignment: str) -> list[Path]:
        folder = self.release_folder(assignment)
        found = sorted(folder.glob("*.ipynb"))
        if not found:
            raise CourseError(
                f"no released notebook in {folder}: run `nbgrader generate_assignment "
                f"{assignment}` first"
            )
        return found

    def source_notebook(self, assignment: str, name: str) -> Path:
        path = self.root / self.coursedir.source_directory / assignment / name
        if not path.is_file():
            raise CourseError(
                f"no solution notebook at {path}: the preflight grades it before a class is "
                "graded, to prove that the sandbox and the reference work (restore it from "
                "the course repository)"
            )
        return path

    def reference(self, assignment: str) -> Path:
        path = self.reference_dir / f"{assignment}.npz"
        if not path.is_file():
            raise CourseError(f"no reference outputs at {path}")
        return path

    def students(self, assignment: str) -> list[str]:
        base = self.root / self.coursedir.submitted_directory
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir())

    def submission(self, student: str, assignment: str, notebook: str) -> bytes | None:
        path = self.path("submitted", student, assignment) / f"{notebook}.ipynb"
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None

    def record_path(self, student: str, assignment: str) -> Path:
        return self.path("autograded", student, assignment) / RECORD

    def read_record(self, student: str, assignment: str) -> dict | None:
        try:
            return json.loads(self.record_path(student, assignment).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def all_records(self) -> list[dict]:
        records = []
        base = self.root / self.coursedir.autograded_directory
        for path in sorted(base.glob(f"*/*/{RECORD}")):
            with contextlib.suppress(OSError, ValueError):
                records.append(json.loads(path.read_text(encoding="utf-8")))
        return records

    @contextlib.contextmanager
    def gradebook(self):
        """nbgrader's Gradebook of this course, without nbgrader's own SQLAlchemy warnings
        (only those: a run graded inside this block still warns about its sandbox)."""
        from nbgrader.api import Gradebook
        from sqlalchemy.exc import SADeprecationWarning, SAWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            warnings.simplefilter("ignore", SADeprecationWarning)
            with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
                yield gb

    def gradebook_exists(self) -> bool:
        """False only for a SQLite gradebook whose file is not there (yet)."""
        url = self.coursedir.db_url
        if not url.startswith("sqlite:///"):
            return True
        return Path(url[len("sqlite:///") :]).is_file()

    def _lock_file(self, name: str) -> int:
        folder = self.state / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        return os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o644)

    def try_lock(self, name: str) -> int | None:
        """Take the exclusive lock file ``autograded/.autograder/locks/<name>`` if it is
        free (its descriptor, for :meth:`unlock`), else ``None``."""
        fd = self._lock_file(name)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    @staticmethod
    def unlock(fd: int) -> None:
        os.close(fd)

    @contextlib.contextmanager
    def lock(self, name: str):
        """Hold the lock file ``name``, waiting for another grader if needed."""
        fd = self._lock_file(name)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)


def submission_lock_name(student: str, assignment: str, notebook: str) -> str:
    key = f"{assignment}\0{student}\0{notebook}".encode()
    return "submission-" + hashlib.sha256(key).hexdigest()[:24] + ".lock"
