"""Grading throughput: stock ``nbgrader autograde`` against ``python -m autograder grade``.

Builds a throw-away copy of the course with N submissions of one assignment (made from
the released notebook: most correct, some wrong), then grades the same submissions with
both, one after the other in this run, and prints submissions per second and the ratio.
Ours runs with the sandbox on (bubblewrap when available) and ``--jobs`` = every core.

    .venv/bin/python -m benchmarks.grading_speed [--submissions 40] [--assignment A]
"""

from __future__ import annotations

import argparse
import os
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

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--assignment", default="03_transposed_conv")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    env = venv_env()
    with tempfile.TemporaryDirectory(prefix="grading-speed-") as tmp:
        base = real_course(Path(tmp) / "base", [args.assignment])
        answers = solution_code(base, args.assignment)
        first = next(iter(answers))
        for i in range(args.submissions):
            wrong = {first: answers[first].replace("return", "return 0 *", 1)} if i % 5 == 4 else {}
            make_submission(base, args.assignment, f"student{i:03d}", answers=wrong)
        stock, ours = Path(tmp) / "stock", Path(tmp) / "ours"
        shutil.copytree(base, stock)
        shutil.copytree(base, ours)

        started = time.perf_counter()
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "nbgrader",
                "autograde",
                args.assignment,
                "--force",
                "--log-level=WARN",
            ],
            cwd=stock,
            env=env,
            capture_output=True,
            text=True,
        )
        stock_s = time.perf_counter() - started
        if run.returncode != 0:
            print(run.stderr[-2000:], file=sys.stderr)

        started = time.perf_counter()
        mine = subprocess.run(
            [
                sys.executable,
                "-m",
                "autograder",
                "grade",
                args.assignment,
                "--jobs",
                str(args.jobs),
                "--course-root",
                str(ours),
                "--no-progress",
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        ours_s = time.perf_counter() - started
        if mine.returncode != 0:
            print(mine.stderr[-2000:], file=sys.stderr)
        sandbox = mine.stdout.splitlines()[0] if mine.stdout else "?"

    n = args.submissions
    print(f"{n} submissions of {args.assignment}, {os.cpu_count()} cores")
    print(f"stock nbgrader autograde : {stock_s:7.1f} s  {n / stock_s:6.2f} submissions/s")
    print(
        f"python -m autograder     : {ours_s:7.1f} s  {n / ours_s:6.2f} submissions/s "
        f"(--jobs {args.jobs}; {sandbox.split(': ', 2)[-1]})"
    )
    print(f"ratio                    : {stock_s / ours_s:6.1f}x")


if __name__ == "__main__":
    main()
