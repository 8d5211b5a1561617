"""A made-up class of ``03_transposed_conv`` with known mistakes, for the class report.

Twelve students, each a notebook made from the released one (:func:`make_submission`):

- three honest (the instructor's answers): 17 / 17;
- three who slide the kernel without flipping it in the zero-insertion view
  (``transposed-zero-insertion`` fails): 15;
- two who read ``stride=(s_H, s_W)`` the wrong way round in ``conv_transpose2d``
  (``transposed-stride``, ``-output-padding`` and ``-channels`` fail on their non-square
  cases): 17 - 3 - 2 - 3 = 9;
- one who deleted the ``transposed-stride`` test cell and one who emptied the
  ``transposed-matrix`` one (tampered, 0 for that test): 14;
- one whose ``conv_matrix`` kills its process (``transposed-matrix`` and
  ``transposed-matrix-transpose``, which calls it, crash): 12;
- one honest but two hours late, under nbgrader's "zero" late policy: 17 before the
  penalty, 0 after.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from tests.autograder_fixtures.course import make_submission, real_course, solution_code
from tests.autograder_fixtures.crafted import CONV, MATRIX, drop_test, edit_test

A = "03_transposed_conv"
ZERO_ANSWER = "transposed-answer-conv_transpose2d_zero_insertion"
DUE = datetime.datetime(2026, 11, 30, 12, 0, 0)  # UTC, as nbgrader stores it
HONEST = ["honest_a", "honest_b", "honest_c"]
UNFLIPPED = ["unflipped_1", "unflipped_2", "unflipped_3"]
SWAPPED = ["swapped_1", "swapped_2"]
TAMPERED = {"tampered_deleted": "transposed-stride", "tampered_edited": "transposed-matrix"}
CRASHED = "crashed"
LATE = "late_honest"
STUDENTS = sorted([*HONEST, *UNFLIPPED, *SWAPPED, *TAMPERED, CRASHED, LATE])
RAW_SCORES = {
    **dict.fromkeys(HONEST, 17.0),
    **dict.fromkeys(UNFLIPPED, 15.0),
    **dict.fromkeys(SWAPPED, 9.0),
    **dict.fromkeys(TAMPERED, 14.0),
    CRASHED: 12.0,
    LATE: 17.0,
}
OTHER = "00_not_submitted"  # an assignment in the gradebook that nobody submitted


def _unflipped(code: str) -> str:
    answer = code.replace("flipped = weight[::-1, ::-1]", "flipped = weight")
    assert answer != code, "the solution no longer flips the kernel this way"
    return answer


def _swapped(code: str) -> str:
    answer = code.replace("sh, sw = pair(stride)", "sw, sh = pair(stride)", 1)
    assert answer != code, "the solution no longer unpacks the stride this way"
    return answer


CRASHING_MATRIX = (
    "def conv_matrix(weight, input_size, stride=1, padding=0):\n    import os\n    os._exit(3)\n"
)


def build(root: Path) -> Path:
    """The course with the twelve submissions, not graded yet."""
    root = real_course(root, [A])
    with open(root / "nbgrader_config.py", "a") as f:
        f.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    solutions = solution_code(root, A)
    for student in [*HONEST, LATE]:
        make_submission(root, A, student)
    for student in UNFLIPPED:
        make_submission(root, A, student, answers={ZERO_ANSWER: _unflipped(solutions[ZERO_ANSWER])})
    for student in SWAPPED:
        make_submission(root, A, student, answers={CONV: _swapped(solutions[CONV])})
    make_submission(root, A, "tampered_deleted", edit=drop_test(TAMPERED["tampered_deleted"]))
    make_submission(root, A, "tampered_edited", edit=edit_test(TAMPERED["tampered_edited"], "pass"))
    make_submission(root, A, CRASHED, answers={MATRIX: CRASHING_MATRIX})
    for student in STUDENTS:
        stamp = "2026-11-30 14:00:00 UTC" if student == LATE else "2026-11-30 11:00:00 UTC"
        (root / "submitted" / student / A / "timestamp.txt").write_text(stamp)
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", "upsampling") as gb:
        gb.update_or_create_assignment(A, duedate=DUE)
        gb.update_or_create_assignment(OTHER)
    return root
