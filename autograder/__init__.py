"""The course's trusted autograder.

``python -m autograder grade <assignment> [--jobs N]`` grades every submission of an
assignment in nbgrader's layout: student code runs in a sandboxed child process
(:mod:`autograder.sandbox`, :mod:`autograder.harness`), only data comes back, and the
trusted parent compares it with the reference outputs (:mod:`autograder.job`), then
records the results in nbgrader's gradebook, ``grades.csv``, per-student JSON and
feedback HTML (:mod:`autograder.course`, :mod:`autograder.report`).
"""
