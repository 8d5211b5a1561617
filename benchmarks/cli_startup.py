"""Start-up of the grader's commands: ``python -m autograder --help`` and ``report``.

Times each command as an instructor runs it (a fresh interpreter each time), against
``python -c pass`` measured in the same run, and prints the median of N runs, what the
command adds to the bare interpreter, and which of the heavy packages it imported. The
report runs on a made-up graded class (no student code run; see
:mod:`benchmarks.report_speed`).

    .venv/bin/python -m benchmarks.cli_startup [--repeat 7] [--submissions 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report_speed import A, build
from tests.autograder.fixtures.course import venv_env

HEAVY = ("numpy", "nbformat", "jsonschema", "nbgrader", "sqlalchemy", "dask", "rfc3987_syntax")
# Prints which of HEAVY a command imported, then runs the command as `python -m autograder`.
PROBE = (
    "import runpy, sys\n"
    "try:\n"
    "    runpy.run_module('autograder', run_name='__main__', alter_sys=True)\n"
    "except SystemExit:\n"
    "    pass\n"
    f"print('IMPORTED', *[m for m in {HEAVY!r} if sys.modules.get(m)], file=sys.stderr)\n"
)


def median_seconds(command: list[str], repeat: int, env: dict) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def imported(args: list[str], env: dict) -> str:
    run = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env
    )
    line = [x for x in run.stderr.splitlines() if x.startswith("IMPORTED")]
    return " ".join(line[-1].split()[1:]) if line else "?"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per command (median)")
    parser.add_argument("--submissions", type=int, default=20, help="size of the class")
    args = parser.parse_args(argv)
    env = {**os.environ, "PATH": venv_env()["PATH"]}
    folder = Path(tempfile.mkdtemp(prefix="cli-startup-"))
    try:
        root = build(folder / "course", args.submissions)
        commands = {
            "--help": ["--help"],
            f"report {A}": ["report", A, "--course-root", str(root)],
        }
        peer = median_seconds([sys.executable, "-c", "pass"], args.repeat, env)
        print(f"median of {args.repeat} runs; peer: python -c pass {peer * 1000:7.0f} ms")
        print(f"  {'python -m autograder':<36} {'median':>8} {'over peer':>10}  imports")
        for name, extra in commands.items():
            took = median_seconds([sys.executable, "-m", "autograder", *extra], args.repeat, env)
            print(
                f"  {name:<36} {took * 1000:5.0f} ms {(took - peer) * 1000:7.0f} ms  "
                f"{imported(extra, env) or '(none of them)'}"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
