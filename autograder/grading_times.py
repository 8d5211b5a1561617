"""How long grading took: ``autograded/.autograder/timings/<assignment>.json``.

The records are reproducible (equal jobs, byte-identical records), so the time a job took
is kept apart from them, here: per student the seconds their last grading took where it
ran (a thread here or a Dask worker), and per run the wall-clock time, the number of
submissions graded and where. The class report reads it.
"""

from __future__ import annotations

import datetime
import json

RUNS_KEPT = 20


def path(course, assignment: str):
    return course.state / "timings" / f"{assignment}.json"


def read(course, assignment: str) -> dict:
    """``{"students": {id: seconds}, "runs": [{...}, ...]}`` (empty if never recorded)."""
    try:
        data = json.loads(path(course, assignment).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"students": {}, "runs": []}
    return {"students": dict(data.get("students", {})), "runs": list(data.get("runs", []))}


def record_run(course, assignment: str, seconds: dict, elapsed: float, where: str) -> None:
    """Adds a run that graded ``seconds`` (student id -> seconds) in ``elapsed`` s."""
    from autograder.course import atomic_write

    if not seconds:
        return
    with course.lock(f"timings-{assignment}.lock"):
        data = read(course, assignment)
        data["students"].update({sid: round(s, 3) for sid, s in seconds.items()})
        finished = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        data["runs"].append(
            {
                "finished": finished,
                "graded": len(seconds),
                "elapsed": round(elapsed, 2),
                "where": where,
            }
        )
        data["runs"] = data["runs"][-RUNS_KEPT:]
        atomic_write(path(course, assignment), json.dumps(data, indent=1, sort_keys=True) + "\n")
