"""The course's trusted autograder.

``python -m autograder grade <assignment> [--jobs N]`` grades every submission of an
assignment in nbgrader's layout. The layers, bottom up:

- :mod:`autograder.sandbox`: student code runs in a sandboxed child process (what runs
  inside is :mod:`autograder.sandbox.inside`); only data comes back;
- :mod:`autograder.grading`: one submission in, one record out; the trusted parent
  compares what came back with the reference outputs, reading no folder;
- the class-level modules: the run (:mod:`autograder.run`, :mod:`autograder.preflight`),
  the course folder (:mod:`autograder.course`), recording the results in nbgrader's
  gradebook (:mod:`autograder.gradebook`), ``grades.csv``, per-student JSON and feedback
  HTML (:mod:`autograder.recording`, :mod:`autograder.report`), where the jobs run
  (:mod:`autograder.runners`; with ``--scheduler`` a Dask cluster,
  :mod:`autograder.cluster`), and the command line (:mod:`autograder.cli`).
"""

import sys

# nbformat validates through jsonschema, which compiles rfc3987_syntax's grammars when
# that package is installed (it comes with jupyter-events): 2.8 s of every grading
# command's and every Dask worker's start-up, measured with -X importtime. Notebook
# schemas use no IRI formats, so the grader goes without it.
sys.modules.setdefault("rfc3987_syntax", None)
