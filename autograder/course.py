"""Grading a whole class: finding submissions, running jobs in parallel, recording results.

Results are recorded idempotently, so a run that is killed can simply be run again:

1. the grade is computed (in a worker thread; the student's code runs in a sandbox);
2. the gradebook is updated (scores are *set*, never added) under a file lock;
3. the autograded notebook, the feedback HTML, the student's ``results.json`` and a log
   are written, each atomically;
4. last, ``autograded/<student>/<assignment>/autograder.json`` is written: the commit
   point. A later run skips a submission whose record carries the same fingerprint
   (same notebook, release, reference, grader and limits) unless ``--force``.

``grades.csv`` is rebuilt from the records at the end of every run (never appended), and
two graders on one course cooperate through per-submission locks.

The grader's own failures never become a student's grade:

- before a class is graded, a *preflight* grades the assignment's solution (the released
  notebook with the instructor's answers: it must score full marks) and the unmodified
  release (it must score 0) in the same sandbox; if either is off, the run stops before
  anything is written (:class:`PreflightError`);
- during a run, a submission whose grading failed for the grader's reasons (the sandbox
  or its interpreter did not start, the checker broke, the gradebook could not be
  written) gets the status ``grader error``: it is not written to the gradebook and not
  committed, it is listed in the summary, the exit code is non-zero, and the next run
  grades it again. The reason is kept in ``autograded/<student>/<assignment>/grader-error.json``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import queue
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograder import job as jobs
from autograder import late, notebooks, report
from autograder.sandbox import Limits, Sandbox, UidPool

RECORD = "autograder.json"
GRADER_ERROR_RECORD = "grader-error.json"
STATE_DIR = ".autograder"
PREFLIGHT_STUDENT = "(preflight)"


class CourseError(Exception):
    """The course is not set up for grading this assignment (the message says how to fix it)."""


class PreflightError(CourseError):
    """The grader cannot grade this assignment correctly here: nothing was graded."""


def atomic_write(path: Path, data: str | bytes) -> None:
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
        base = {
            "release": self.coursedir.release_directory,
            "submitted": self.coursedir.submitted_directory,
            "autograded": self.coursedir.autograded_directory,
            "feedback": self.coursedir.feedback_directory,
        }[step]
        return self.root / base / student / assignment if student else self.root / base / assignment

    def released_notebooks(self, assignment: str) -> list[Path]:
        folder = self.path("release", "", assignment)
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

    def make_jobs(self, assignment: str, student: str) -> list[jobs.Job]:
        out = []
        for released in self.released_notebooks(assignment):
            sub = self.path("submitted", student, assignment) / released.name
            out.append(
                jobs.Job(
                    assignment=assignment,
                    student_id=student,
                    notebook=released.stem,
                    submission=str(sub) if sub.is_file() else None,
                    released=str(released),
                    reference=str(self.reference(assignment)),
                )
            )
        return out

    def record_path(self, j: jobs.Job) -> Path:
        return self.path("autograded", j.student_id, j.assignment) / RECORD

    def read_record(self, j: jobs.Job) -> dict | None:
        try:
            return json.loads(self.record_path(j).read_text(encoding="utf-8"))
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
    def lock(self, name: str, blocking: bool):
        """An exclusive lock file under ``autograded/.autograder/locks`` (``None`` if busy)."""
        folder = self.state / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / name, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield None
                return
            yield fd
        finally:
            os.close(fd)


def submission_lock_name(j: jobs.Job) -> str:
    key = f"{j.assignment}\0{j.student_id}\0{j.notebook}".encode()
    return "submission-" + hashlib.sha256(key).hexdigest()[:24] + ".lock"


# ----------------------------------------------------------------------------- gradebook


class GradebookWriter:
    """Writes results through nbgrader's Gradebook API, one transaction per submission,
    serialised across graders by a lock file (and retried if sqlite is busy)."""

    def __init__(self, course: Course):
        from nbgrader.api import Gradebook

        self.course = course
        self.gb = Gradebook(course.coursedir.db_url, course.coursedir.course_id)

    def close(self):
        self.gb.close()

    def check_assignment(self, assignment: str, notebook: str, reference: jobs.Reference):
        from nbgrader.api import MissingEntry

        try:
            self.gb.find_assignment(assignment)
            nb = self.gb.find_notebook(notebook, assignment)
        except MissingEntry:
            raise CourseError(
                f"assignment {assignment!r} (notebook {notebook!r}) is not in the gradebook: "
                f"run `nbgrader generate_assignment {assignment}` (or `nbgrader db assignment "
                f"add {assignment}` after it) first"
            ) from None
        cells = {c.name: c for c in nb.grade_cells}
        for gid, spec in reference.tests.items():
            if gid not in cells:
                raise CourseError(
                    f"test {gid!r} of the reference is not a grade cell of {notebook}"
                )
            if float(cells[gid].max_score) != float(spec["points"]):
                raise CourseError(
                    f"test {gid!r}: the gradebook gives {cells[gid].max_score} points, the "
                    f"reference {spec['points']}; regenerate one of them"
                )

    def write(self, record: dict, timestamp) -> None:
        for attempt in range(20):
            try:
                with self.course.lock("gradebook.lock", blocking=True), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy warnings
                    self._write(record, timestamp)
                return
            except Exception as exc:  # sqlite busy under a grader that ignores our lock
                self.gb.db.rollback()
                if "locked" not in str(exc) or attempt == 19:
                    raise
                time.sleep(0.2 * (attempt + 1))

    def _write(self, record: dict, timestamp) -> None:
        from nbgrader.api import MissingEntry

        gb, sid, aid = self.gb, record["student_id"], record["assignment"]
        try:
            gb.find_student(sid)
        except MissingEntry:
            gb.add_student(sid)
        kwargs = {"timestamp": timestamp} if timestamp else {}
        gb.update_or_create_submission(aid, sid, **kwargs)
        nb = gb.find_submission_notebook(record["notebook"], aid, sid)
        for test in record["tests"]:
            grade = gb.find_grade(test["grade_id"], record["notebook"], aid, sid)
            grade.auto_score = float(test["points"])
            review = test["status"] == jobs.TAMPERED or bool(test["flags"])
            grade.needs_manual_grade = grade.manual_score is not None or review
        nb.flagged = bool(record["flags"])
        gb.db.commit()


# ----------------------------------------------------------------------------- a run


def _timestamp(course: Course, j: jobs.Job):
    folder = course.path("submitted", j.student_id, j.assignment)
    try:
        return course.coursedir.get_existing_timestamp(str(folder))
    except Exception:  # an unparsable timestamp.txt: no timestamp rather than no grade
        return None


def save_results(course: Course, record: dict, released) -> None:
    """Steps 3 and 4 of recording (see the module docstring)."""
    sid, aid, name = record["student_id"], record["assignment"], record["notebook"]
    auto = course.path("autograded", sid, aid)
    feedback = course.path("feedback", sid, aid)
    logs = record.pop("logs", [])
    view = jobs.student_view(record)
    sub_path = course.path("submitted", sid, aid) / f"{name}.ipynb"
    nb = None
    if sub_path.is_file():
        with contextlib.suppress(notebooks.UnreadableNotebook, OSError):
            nb = notebooks.read_notebook(sub_path.read_bytes())
    texts = {t["grade_id"]: report.test_result_text(t) for t in record["tests"]}
    graded_nb = notebooks.autograded_notebook(released, nb, texts)
    import nbformat

    atomic_write(auto / f"{name}.ipynb", nbformat.writes(graded_nb))
    stamp = course.path("submitted", sid, aid) / "timestamp.txt"
    if stamp.is_file():
        atomic_write(auto / "timestamp.txt", stamp.read_bytes())
    atomic_write(feedback / f"{name}.html", report.feedback_html(view))
    atomic_write(feedback / "results.json", json.dumps(view, indent=1, sort_keys=True) + "\n")
    log = []
    for number, (out, err) in enumerate(logs, start=1):
        log.append(f"=== run {number}: stdout ===\n{out}\n=== run {number}: stderr ===\n{err}\n")
    atomic_write(auto / "autograder.log", "".join(log))
    atomic_write(auto / RECORD, json.dumps(record, indent=1, sort_keys=True) + "\n")


def save_grader_error(course: Course, record: dict) -> None:
    """Keep why the grader failed on a submission (for the instructor; not a grade)."""
    record = dict(record)
    logs = record.pop("logs", [])
    record["logs"] = [{"stdout": out, "stderr": err} for out, err in logs]
    folder = course.path("autograded", record["student_id"], record["assignment"])
    atomic_write(folder / GRADER_ERROR_RECORD, json.dumps(record, indent=1, sort_keys=True) + "\n")


def clear_grader_error(course: Course, record: dict) -> None:
    folder = course.path("autograded", record["student_id"], record["assignment"])
    with contextlib.suppress(FileNotFoundError):
        (folder / GRADER_ERROR_RECORD).unlink()


def preflight(course, assignment, released_path, sandbox, uids, checker=None) -> None:
    """Grade the solution (must score full marks) and the unmodified release (must score
    0) in the sandbox before grading a class; raise :class:`PreflightError` if either is
    off. ``uids`` are one or two sandbox uids (the two run at once when there are two)."""
    import nbformat

    reference = course.reference(assignment)
    released_nb = nbformat.read(released_path, as_version=4)
    source_nb = nbformat.read(course.source_notebook(assignment, released_path.name), 4)
    solved = notebooks.solved_release(released_nb, source_nb)
    with tempfile.TemporaryDirectory(prefix="autograder-preflight-") as tmp:
        solved_path = Path(tmp) / released_path.name
        solved_path.write_text(nbformat.writes(solved), encoding="utf-8")

        def run(path: Path, uid):
            job = jobs.Job(assignment, PREFLIGHT_STUDENT, released_path.stem, str(path),
                           str(released_path), str(reference))  # fmt: skip
            return jobs.grade(job, sandbox, uid, checker)

        # With two uids the two run at once; with one they take turns (a uid's sandbox
        # is swept whole when it ends, so two children never share one).
        with ThreadPoolExecutor(max_workers=len(set(uids))) as executor:
            futures = {
                "solution": executor.submit(run, solved_path, uids[0]),
                "release": executor.submit(run, released_path, uids[-1]),
            }
            records = {what: future.result() for what, future in futures.items()}
    problems = _preflight_problems(records)
    if problems:
        raise PreflightError(
            f"preflight failed for {assignment}; nothing was graded and nothing was written.\n"
            + "\n".join(f"  - {p}" for p in problems)
            + "\nFix the cause, then run the same command again."
        )


def _preflight_problems(records: dict) -> list[str]:
    problems = []
    for what, record in records.items():
        if record["status"] == jobs.RECORD_GRADER_ERROR:
            problems.append(f"the {what} could not be graded: {record['notes'][-1]}")
            continue
        want = record["max_score"] if what == "solution" else 0.0
        wrong = [
            t for t in record["tests"]
            if (t["status"] != jobs.PASSED if what == "solution" else t["status"] != jobs.FAILED)
        ]  # fmt: skip
        if record["score"] != want or wrong:
            got = "; ".join(
                f"{t['grade_id']}: {jobs.STATUS_LABELS.get(t['status'], t['status'])}"
                f" ({t['reason']})" for t in wrong[:4]
            )  # fmt: skip
            hint = (
                "the instructor's solution must pass every test: check that the reference "
                "outputs match the notebooks (autograder/make_reference.py) and that the "
                "limits leave room for the solution (--timeout, --memory-mb)"
                if what == "solution"
                else "the released notebook must fail every test: regenerate the release "
                "(nbgrader generate_assignment) and check that its stubs raise "
                "NotImplementedError"
            )
            problems.append(
                f"the {what} scored {record['score']:g}/{record['max_score']:g}, expected "
                f"{want:g}: {got or record['status']}. {hint}"
            )
    return problems


def up_to_date(course: Course, j: jobs.Job, fp: str) -> bool:
    old = course.read_record(j)
    return bool(old) and old.get("fingerprint") == fp


def grade_assignment(
    root,
    assignment: str,
    n_jobs: int | None = None,
    force: bool = False,
    students: list[str] | None = None,
    limits: Limits | None = None,
    sandbox_mode: str = "auto",
    progress: bool = True,
    reference_dir=None,
    checker=None,
    out=sys.stdout,
    run_preflight: bool = True,
) -> dict:
    """Grade every submission of ``assignment``; returns counts, the records, and the
    errors and grader errors (a non-empty list of either means the run is not complete)."""
    started = time.monotonic()
    n_jobs = n_jobs or os.cpu_count() or 1
    course = Course(root, reference_dir)
    sandbox = Sandbox(sandbox_mode, limits or Limits())
    print(f"autograder: {assignment}: {sandbox.description}; {n_jobs} worker(s)", file=out)
    released_paths = course.released_notebooks(assignment)
    if len(released_paths) != 1:
        names = ", ".join(p.name for p in released_paths)
        raise CourseError(f"{assignment} must have exactly one graded notebook, found {names}")
    reference = jobs.load_reference(course.reference(assignment))
    released, _ = jobs.load_released(released_paths[0])
    missing = set(reference.tests) ^ set(released.tests)
    if missing:
        raise CourseError(
            f"the reference and the released notebook disagree on the tests: {sorted(missing)}"
        )
    writer = GradebookWriter(course)
    writer.check_assignment(assignment, released_paths[0].stem, reference)

    wanted = course.students(assignment) if students is None else list(students)
    all_jobs = [j for s in wanted for j in course.make_jobs(assignment, s)]
    counts: Counter = Counter()
    todo = []
    for j in all_jobs:
        if not force and up_to_date(course, j, jobs.fingerprint(j, sandbox.limits, sandbox.mode)):
            counts["up to date"] += 1
        else:
            todo.append(j)

    pool = UidPool(n_jobs, enabled=sandbox.root and sandbox.mode == "bwrap")
    if todo and run_preflight:
        try:
            preflight(course, assignment, released_paths[0], sandbox, pool.free[:2], checker)
        except BaseException:
            pool.close()
            writer.close()
            raise
        print("autograder: preflight passed (solution full marks, release 0)", file=out)
    uids: queue.Queue = queue.Queue()
    for uid in pool.free:
        uids.put(uid)
    bar = _progress(len(todo), assignment, progress)
    finished: queue.Queue = queue.Queue()  # (job, record, event) from workers to the main thread

    def work(j: jobs.Job, blocking: bool):
        """Grade one submission in a worker thread; it is recorded by the main thread
        while this worker still holds the submission's lock."""
        with course.lock(submission_lock_name(j), blocking=blocking) as held:
            if held is None:
                return "busy", j
            if not force and up_to_date(
                course, j, jobs.fingerprint(j, sandbox.limits, sandbox.mode)
            ):
                return "up to date", j
            uid = uids.get()
            try:
                record = jobs.grade(j, sandbox, uid, checker)
            finally:
                uids.put(uid)
            if record["status"] == jobs.RECORD_GRADER_ERROR:
                grader_error(j, record, record["notes"][-1])
                bar.update(1)
                return "grader error", j
            recorded = threading.Event()
            finished.put((j, record, recorded))  # the main thread writes the gradebook
            recorded.wait()
            if record.get("_gradebook_error"):
                grader_error(j, record, record.pop("_gradebook_error"))
                return "grader error", j
            save_results(course, record, released)  # the record file last: commit point
            clear_grader_error(course, record)
            results.append(record)
            return "graded", j

    results: list[dict] = []
    errors: list[str] = []
    grader_errors: dict[str, str] = {}  # student -> why (nothing recorded for them)

    def grader_error(j, record, reason):
        grader_errors[j.student_id] = reason
        record["status"] = jobs.RECORD_GRADER_ERROR
        record.setdefault("notes", []).append(reason)
        with contextlib.suppress(OSError):
            save_grader_error(course, record)

    def record_one(j, record, recorded):
        try:
            writer.write(record, _timestamp(course, j))
        except Exception as exc:  # keep draining: workers wait for their record
            record["_gradebook_error"] = f"grader error: could not write the gradebook: {exc!r}"
        finally:
            recorded.set()
            bar.update(1)

    try:
        with ThreadPoolExecutor(max_workers=n_jobs) as executor:
            busy = todo
            for blocking in (False, True):
                futures_jobs = {executor.submit(work, j, blocking): j for j in busy}
                futures = set(futures_jobs)
                busy = []
                while futures:
                    try:
                        record_one(*finished.get(timeout=0.05))
                    except queue.Empty:
                        pass
                    for f in [f for f in futures if f.done()]:
                        futures.discard(f)
                        try:
                            state, j = f.result()
                        except Exception as exc:  # the grader's own bug: not a grade
                            j = futures_jobs[f]
                            grader_errors[j.student_id] = f"grader error: {exc!r}"
                            bar.update(1)
                            continue
                        if state == "busy":
                            busy.append(j)
                        elif state == "error":
                            pass
                        elif state == "up to date":
                            counts["up to date"] += 1
                            bar.update(1)
    finally:
        bar.close()
        pool.close()
        writer.close()
        penalties = {}
        try:  # nbgrader's late-submission plugin, as `nbgrader autograde` would run it
            late.assign_late_penalties(course, assignment)
            penalties = late.gradebook_penalties(course)
        except Exception as exc:
            errors.append(f"late penalties were not assigned: {exc!r}")
        rows = course.all_records()
        graded = {(r["student_id"], r["assignment"]) for r in rows}
        rows += [
            report.grader_error_row(sid, assignment)
            for sid in sorted(grader_errors)
            if (sid, assignment) not in graded
        ]
        atomic_write(course.root / "grades.csv", report.grades_csv(rows, penalties))
    counts.update(r["status"] for r in results)
    if grader_errors:
        counts[jobs.RECORD_GRADER_ERROR] = len(grader_errors)
    elapsed = time.monotonic() - started
    print(report.summary_table(results, counts, elapsed), file=out)
    for error in errors:
        print(f"ERROR: {error}", file=out)
    if grader_errors:
        print(
            f"GRADER ERROR: {len(grader_errors)} submission(s) were not graded because the "
            "grader itself failed (nothing was recorded for them; the next run grades them "
            "again):",
            file=out,
        )
        for sid, reason in sorted(grader_errors.items()):
            print(f"  {sid}: {reason}", file=out)
    print(f"grades: {course.root / 'grades.csv'}", file=out)
    return {
        "counts": counts,
        "records": results,
        "elapsed": elapsed,
        "sandbox": sandbox.mode,
        "errors": errors,
        "grader_errors": grader_errors,
    }


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


def _progress(total: int, assignment: str, enabled: bool):
    if not enabled or total == 0:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, desc=assignment, unit="nb", file=sys.stderr, dynamic_ncols=True)
