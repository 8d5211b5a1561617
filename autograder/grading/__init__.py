"""Grading one submission: one notebook in, one record out, reading no folder.

- :mod:`.job`: the :class:`~.job.Job` (one submission, as plain data) and the
  :class:`~.job.Materials` it is graded against;
- :mod:`.notebooks`: reading a submission and comparing it with the release;
- :mod:`.scan`: the forbidden-import scan;
- :mod:`.grade`: :func:`~.grade.grade`, which runs the cases through the sandbox's
  session and decides what each outcome is worth;
- :mod:`.records`: the typed record it returns, and its JSON form.
"""
