"""The course's trusted autograder.

``python -m autograder grade <assignment> [--jobs N]`` grades every submission of an
assignment in nbgrader's layout: student code runs in a sandboxed child process
(:mod:`autograder.sandbox`), only data comes back, and the trusted parent compares it
with the reference outputs (:mod:`autograder.grading`), then
records the results in nbgrader's gradebook, ``grades.csv``, per-student JSON and
feedback HTML (:mod:`autograder.course`, :mod:`autograder.report`). With ``--scheduler``
the jobs run on a Dask cluster (:mod:`autograder.cluster`).
"""

import sys

# nbformat validates through jsonschema, which compiles rfc3987_syntax's grammars when
# that package is installed (it comes with jupyter-events): 2.8 s of every grading
# command's and every Dask worker's start-up, measured with -X importtime. Notebook
# schemas use no IRI formats, so the grader goes without it.
sys.modules.setdefault("rfc3987_syntax", None)
