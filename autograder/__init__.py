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

# nbformat validates through jsonschema, whose format checkers import every optional
# package they find when jsonschema is imported: rfc3987_syntax (it comes with
# jupyter-events) compiles its grammars, 2.8 s of every grading command's and every Dask
# worker's start-up, and the others (arrow through isoduration among them) cost some
# 70 ms more, measured with -X importtime. nbformat passes no format checker and
# notebook schemas use none of these formats, so the grader goes without them; these
# packages are imported by jsonschema's format checkers only.
JSONSCHEMA_FORMAT_PACKAGES = (
    "rfc3987_syntax",
    "rfc3986_validator",
    "rfc3339_validator",
    "isoduration",
    "webcolors",
    "uri_template",
    "fqdn",
)
for _name in JSONSCHEMA_FORMAT_PACKAGES:
    sys.modules.setdefault(_name, None)  # `import` then raises ImportError
