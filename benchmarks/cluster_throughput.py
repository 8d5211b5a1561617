"""Grading throughput on this machine and on a loopback Dask cluster of 1 and 2 workers.

Builds a throw-away course with N submissions of one assignment (as
``grading_speed.py`` does), then grades them three times with the same command, each on a
fresh copy: ``--jobs 2`` here, and ``--scheduler`` to a ``dask scheduler`` with one and
with two ``dask worker --nthreads 1`` on 127.0.0.1. Prints each run's throughput and
where the CPU went: the grading command (gradebook writes, records, feedback: the part
that does not spread) and the workers (sandboxed children included), per submission,
and from those how many workers grade 10,000 submissions in an hour.

    .venv/bin/python -m benchmarks.cluster_throughput [--submissions 200]
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

from tests.autograder.fixtures.course import (
    make_submission,
    real_course,
    solution_code,
    venv_env,
)
from tests.autograder.fixtures.dask_cluster import LocalCluster

REPO = Path(__file__).resolve().parents[1]


def _cpu_of(pid: int) -> float:
    """CPU seconds of a process and everything below it: each live descendant's own and
    reaped children's time (a slot's zygote is alive until the worker ends, and it reaps
    the children it forked, so their time is in its count)."""
    import psutil

    total = 0.0
    root = psutil.Process(pid)
    for proc in [root, *root.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _grade(course: Path, assignment: str, extra: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its sandboxes) of one grading."""
    before, started = _children_cpu(), time.perf_counter()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "autograder",
            "grade",
            assignment,
            "--course-root",
            str(course),
            "--no-progress",
            *extra,
        ],
        cwd=REPO,
        env=venv_env(),
        capture_output=True,
        text=True,
    )
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
        rows.append(("this machine, --jobs 2", wall, cpu, 0.0, 0.0))

        for workers in (1, 2):
            course = tmp / f"cluster{workers}"
            shutil.copytree(base, course)
            print(f"grading on a loopback cluster of {workers} worker(s) ...", file=sys.stderr)
            with LocalCluster(tmp / f"dask{workers}", workers=workers) as cluster:
                pids = [w.pid for w in cluster.workers]
                scheduler = cluster.procs[0].pid
                worker_before = sum(_cpu_of(p) for p in pids)
                scheduler_before = _cpu_of(scheduler)
                wall, cpu = _grade(course, a, ["--scheduler", cluster.address])
                worker_cpu = sum(_cpu_of(p) for p in pids) - worker_before
                scheduler_cpu = _cpu_of(scheduler) - scheduler_before
            rows.append(
                (f"Dask, {workers} worker(s) x 1 thread", wall, cpu, worker_cpu, scheduler_cpu)
            )

    print(f"\n{n} submissions of {a}, {os.cpu_count()} cores (sandbox on)")
    print(
        "CPU per submission: of the grading command (with its sandboxes when local), of "
        "the workers (with theirs) and of the scheduler"
    )
    print(
        f"{'run':<30} {'wall s':>7} {'subs/s':>7} {'subs/h':>8} {'command':>10} "
        f"{'workers':>9} {'scheduler':>10}"
    )
    for name, wall, cpu, worker_cpu, scheduler_cpu in rows:
        print(
            f"{name:<30} {wall:7.1f} {n / wall:7.2f} {3600 * n / wall:8.0f} "
            f"{1000 * cpu / n:7.0f} ms {1000 * worker_cpu / n:6.0f} ms "
            f"{1000 * scheduler_cpu / n:7.1f} ms"
        )
    _, wall, command_cpu, worker_cpu, scheduler_cpu = rows[-1]
    per_job = worker_cpu / n
    needed = math.ceil(10_000 / 3600 * per_job)
    print(
        f"\nper submission on the cluster: {1000 * per_job:.0f} ms of worker CPU, "
        f"{1000 * command_cpu / n:.0f} ms of the grading command's"
    )
    print(
        f"10,000 submissions in an hour need {10_000 / 3600:.2f} submissions/s: about "
        f"{needed} worker thread(s) (one core each) at {1000 * per_job:.0f} ms each, and a "
        f"grading command that records {10_000 / 3600:.2f}/s (it manages "
        f"{n / command_cpu:.1f}/s of its own CPU here), with a scheduler at "
        f"{1000 * scheduler_cpu / n:.1f} ms of CPU per job"
    )


if __name__ == "__main__":
    main()
