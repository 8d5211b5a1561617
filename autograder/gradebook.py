"""Recording grades in nbgrader's gradebook, as ``nbgrader autograde`` would: one
transaction per submission, serialised across graders by a lock file."""

from __future__ import annotations

import time
import warnings

from autograder.course import Course, CourseError
from autograder.grading.job import Reference
from autograder.grading.records import Record, TestStatus


class GradebookWriter:
    """Writes results through nbgrader's Gradebook API, one transaction per submission,
    serialised across graders by a lock file (and retried if sqlite is busy)."""

    def __init__(self, course: Course, gb):
        """``gb`` is the course's open Gradebook (:meth:`Course.gradebook`)."""
        self.course, self.gb = course, gb

    def check_assignment(self, assignment: str, notebook: str, reference: Reference):
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

    def write(self, record: Record, timestamp) -> None:
        for attempt in range(20):
            try:
                with self.course.lock("gradebook.lock"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # nbgrader's own SQLAlchemy warnings
                    self._write(record, timestamp)
                return
            except Exception as exc:  # sqlite busy under a grader that ignores our lock
                self.gb.db.rollback()
                if "locked" not in str(exc) or attempt == 19:
                    raise
                time.sleep(0.2 * (attempt + 1))

    def _write(self, record: Record, timestamp) -> None:
        """What ``nbgrader autograde`` records for a submission (the student, the
        submission mirroring the assignment, each test's ``auto_score`` and
        ``needs_manual_grade``, the notebook's flag), in one transaction: the rows
        nbgrader's ``add_student``, ``update_or_create_submission`` and ``find_grade``
        give, made through its ORM objects without their commits, with one query for all
        the notebook's grades (none for a new submission: its rows are inserted with
        their scores)."""
        from nbgrader import utils
        from nbgrader.api import MissingEntry, Student

        gb, db, sid, aid = self.gb, self.gb.db, record.student_id, record.assignment
        student = db.get(Student, sid)
        if student is None:
            if gb.authenticator:
                gb.authenticator.add_student_to_course(sid, gb.course_id)
            student = Student(id=sid)
            db.add(student)
        submission = self._find_submission(aid, student)
        with db.no_autoflush:  # new rows are inserted once, at the commit
            if submission is None:
                submission, notebooks_ = self._add_submission(aid, student)
                if record.notebook not in notebooks_:
                    raise MissingEntry(
                        f"No such submitted notebook: {aid}/{record.notebook} for {sid}"
                    )
                nb, grades = notebooks_[record.notebook]
            else:
                nb = self._submitted_notebook(submission, record.notebook, aid, sid)
                grades = self._grades(nb)
            if timestamp:
                submission.timestamp = utils.parse_utc(timestamp)
            for test in record.tests:
                grade = grades.get(test.grade_id)
                if grade is None:
                    raise MissingEntry(
                        f"No such grade: {test.grade_id}/{record.notebook}/{aid} for {sid}"
                    )
                grade.auto_score = float(test.points)
                review = test.status is TestStatus.TAMPERED or bool(test.flags)
                grade.needs_manual_grade = grade.manual_score is not None or review
            nb.flagged = bool(record.flags)
        db.commit()

    def _find_submission(self, assignment: str, student):
        from nbgrader.api import Assignment, SubmittedAssignment

        return (
            self.gb.db.query(SubmittedAssignment)
            .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
            .filter(Assignment.name == assignment, SubmittedAssignment.student_id == student.id)
            .one_or_none()
        )

    def _add_submission(self, assignment: str, student):
        """A new submission, as ``add_submission`` makes it (a notebook, grades and
        comments for each of the assignment's cells), added to the session (not flushed);
        and notebook name -> (its SubmittedNotebook, cell name -> Grade)."""
        from nbgrader.api import Comment, Grade, SubmittedAssignment, SubmittedNotebook

        submission = SubmittedAssignment(
            assignment=self.gb.find_assignment(assignment), student=student
        )
        made = {}
        for notebook in submission.assignment.notebooks:
            nb = SubmittedNotebook(notebook=notebook, assignment=submission)
            grades = {}
            for grade_cell in notebook.grade_cells:
                grades[grade_cell.name] = Grade(cell_id=grade_cell.id, notebook=nb)
            for solution_cell in notebook.solution_cells:
                Comment(cell_id=solution_cell.id, notebook=nb)
            for task_cell in notebook.task_cells:
                Comment(cell_id=task_cell.id, notebook=nb)
                grade = Grade(cell_id=task_cell.id, notebook=nb)
                grades.setdefault(task_cell.name, grade)  # find_grade: grade cells first
            made[notebook.name] = (nb, grades)
        self.gb.db.add(submission)
        return submission, made

    def _submitted_notebook(self, submission, name: str, assignment: str, student: str):
        from nbgrader.api import MissingEntry, Notebook, SubmittedNotebook

        nb = (
            self.gb.db.query(SubmittedNotebook)
            .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
            .filter(SubmittedNotebook.assignment_id == submission.id, Notebook.name == name)
            .one_or_none()
        )
        if nb is None:
            raise MissingEntry(f"No such submitted notebook: {assignment}/{name} for {student}")
        return nb

    def _grades(self, nb) -> dict:
        """cell name -> Grade of a submitted notebook (a grade cell's before a task
        cell's of the same name, as ``find_grade`` looks them up)."""
        from nbgrader.api import BaseCell, Grade

        rows = (
            self.gb.db.query(BaseCell.name, BaseCell.type, Grade)
            .join(Grade, Grade.cell_id == BaseCell.id)
            .filter(Grade.notebook_id == nb.id)
            .all()
        )
        grades = {}
        for name, _, grade in sorted(rows, key=lambda row: row[1] != "GradeCell"):
            grades.setdefault(name, grade)
        return grades
