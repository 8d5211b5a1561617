"""Grading throughput on this machine and on a loopback Dask cluster of 1 and 2 workers.

Builds a throw-away course with N submissions of one assignment (as
``grading_speed.py`` does), then grades them three times with the same command, each on a
fresh copy: ``--jobs 2`` here, and ``--scheduler`` to a ``dask scheduler`` with one and
with two ``dask worker --nthreads 1`` on 127.0.0.1. Prints each run's throughput and
where the CPU went: the grading command (gradebook writes, records, feedback: the part
that does not spread) and the workers (sandboxed children included), per submission,
and from those how many workers grade 10,000 submissions in an hour.

    .venv/bin/python benchmarks/cluster_throughput.py [--submissions 200]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.autograder_fixtures.course import (  # noqa: E402
    make_submission,
    real_course,
    solution_code,
    venv_env,
)
from tests.autograder_fixtures.dask_cluster import LocalCluster  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    """CPU seconds of a process and its reaped children (the sandboxes), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _grade(course: Path, assignment: str, extra: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its sandboxes) of one grading."""
    before, started = _children_cpu(), time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", assignment, "--course-root",
         str(course), "--no-progress", *extra],
        cwd=REPO, env=venv_env(), capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - started
    if run.returncode != 0:
        sys.exit(f"grading failed:\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return wall, _children_cpu() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--assignment", default="03_transposed_conv")
    args = parser.parse_args()
    n, a = args.submissions, args.assignment
    rows = []
    with tempfile.TemporaryDirectory(prefix="cluster-throughput-") as tmp:
        tmp = Path(tmp)
        base = real_course(tmp / "base", [a])
        answers = solution_code(base, a)
        first = next(iter(answers))
        print(f"making {n} submissions ...", file=sys.stderr)
        for i in range(n):
            wrong = {first: answers[first].replace("return", "return 0 *", 1)} if i % 5 == 4 else {}
            make_submission(base, a, f"student{i:04d}", answers=wrong)

        course = tmp / "local"
        shutil.copytree(base, course)
        print("grading here with --jobs 2 ...", file=sys.stderr)
        wall, cpu = _grade(course, a, ["--jobs", "2"])
        rows.append(("this machine, --jobs 2", wall, cpu, 0.0))

        for workers in (1, 2):
            course = tmp / f"cluster{workers}"
            shutil.copytree(base, course)
            print(f"grading on a loopback cluster of {workers} worker(s) ...", file=sys.stderr)
            with LocalCluster(tmp / f"dask{workers}", workers=workers) as cluster:
                pids = [w.pid for w in cluster.workers]
                worker_before = sum(_cpu_of(p) for p in pids)
                wall, cpu = _grade(course, a, ["--scheduler", cluster.address])
                worker_cpu = sum(_cpu_of(p) for p in pids) - worker_before
            rows.append((f"Dask, {workers} worker(s) x 1 thread", wall, cpu, worker_cpu))

    print(f"\n{n} submissions of {a}, {os.cpu_count()} cores (sandbox on)")
    print(f"{'run':<30} {'wall s':>7} {'subs/s':>7} {'subs/h':>8} {'command CPU':>12} "
          f"{'worker CPU':>11}")  # fmt: skip
    for name, wall, cpu, worker_cpu in rows:
        print(f"{name:<30} {wall:7.1f} {n / wall:7.2f} {3600 * n / wall:8.0f} "
              f"{1000 * cpu / n:9.0f} ms {1000 * worker_cpu / n:8.0f} ms")  # fmt: skip
    _, wall, command_cpu, worker_cpu = rows[-1]
    per_job = worker_cpu / n
    needed = math.ceil(10_000 / 3600 * per_job)
    print(f"\nper submission on the cluster: {1000 * per_job:.0f} ms of worker CPU, "
          f"{1000 * command_cpu / n:.0f} ms of the grading command's")
    print(f"10,000 submissions in an hour need {10_000 / 3600:.2f} submissions/s: about "
          f"{needed} worker thread(s) (one core each) at {1000 * per_job:.0f} ms each, and a "
          f"grading command that records {10_000 / 3600:.2f}/s (it manages "
          f"{n / command_cpu:.1f}/s of its own CPU here)")


if __name__ == "__main__":
    main()
