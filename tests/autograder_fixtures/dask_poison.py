"""A Dask worker preload (``dask worker --preload``) for the tests: grading the student
``poison`` kills the worker process, as a grader bug that crashes a worker would."""

import os

import autograder.cluster


def _wrap(real):
    def run_job(job, materials):
        if job.student_id == "poison":
            os._exit(17)
        return real(job, materials)

    run_job.poisoned = True
    return run_job


# A nanny and its worker may both load a preload: wrap once.
if not getattr(autograder.cluster.run_job, "poisoned", False):
    autograder.cluster.run_job = _wrap(autograder.cluster.run_job)
