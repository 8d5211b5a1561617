"""Copy-detection speed: ``python -m autograder similarity`` on a class of 1,000.

Builds a throw-away course with N submissions of ``03_transposed_conv``, each made from
the released notebook with every function taken at random from one of the five honest
styles of ``tests/autograder/fixtures/honest_solutions.py``, some variables renamed,
statements of its own put in and a helper of its own added (so no two are alike). Then
times the steps (reading the notebooks, fingerprinting and scoring every pair) and the
whole command as an instructor runs it (also writing the CSV and the report).

    .venv/bin/python -m benchmarks.similarity_speed [--submissions 1000]
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import re
import resource
import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from autograder import similarity
from autograder.course import Course
from tests.autograder.fixtures import honest_solutions as hs

REPO = Path(__file__).resolve().parents[1]

A = hs.A
NAMES = re.compile(r"\b(rows|cols|result|out|full|big|flat|spread|image|matrix|Y|C|H|W)\b")
CONTINUED = ("else", "elif", ")", "]", "+", "-", "*")


def disguised(code: str, rng: random.Random) -> str:
    """Rename a few variables and put statements of its own between some of the lines
    (a student who writes their own code: the normalised text differs too)."""
    suffix = f"_{rng.randrange(10**6)}"
    code = NAMES.sub(lambda m: m.group(1) + suffix, code)
    lines, out = code.splitlines(), []
    for i, line in enumerate(lines):
        body = line.lstrip()
        after_open = i > 0 and lines[i - 1].rstrip().endswith((",", "(", "[", "\\"))
        if body and i > 1 and not body.startswith(CONTINUED) and not after_open:
            if rng.random() < 0.3:
                indent = line[: len(line) - len(body)]
                out.append(f"{indent}scale_{rng.randrange(100)} = {rng.randrange(10**4)}")
        out.append(line)
    return "\n".join(out)


def make_course(root: Path, n: int, seed: int = 0) -> None:
    (root / "exercises" / A).mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    released_path = REPO / "exercises" / A / "transposed_conv.ipynb"
    shutil.copy(released_path, root / "exercises" / A)
    released = nbformat.read(released_path, as_version=4)
    rng = random.Random(seed)
    styles = list(hs.STYLES.values())
    for i in range(n):
        picked = {gid: rng.choice(styles)[gid] for gid in hs.STYLES["loops"]}
        cells = hs.answers({g: disguised(c, rng) for g, c in picked.items()}, released)
        nb = copy.deepcopy(released)
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in cells:
                cell.source = cells[gid]
        helper = f"def check_{i}(x):\n    return np.abs(x).max() < {rng.random():.6f} * {i + 1}"
        nb.cells.append(nbformat.v4.new_code_cell(helper))
        folder = root / "submitted" / f"student{i:04d}" / A
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "transposed_conv.ipynb")


def _cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the tokenizer's workers)."""
    me, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="similarity-speed-") as tmp:
        root = Path(tmp) / "course"
        make_course(root, args.submissions)
        started = time.perf_counter()
        course = Course(root)
        subs = similarity.collect(course, A)
        read = time.perf_counter()
        result = similarity.compare(subs, A)
        scored = time.perf_counter()
        cpu_before = _cpu_seconds()
        similarity.run(root, A)  # the whole command, as an instructor runs it
        whole = time.perf_counter() - scored
        cpu = _cpu_seconds() - cpu_before
        n = len(subs)
        print(f"{n} submissions, {len(result.pairs)} pairs, {len(result.flagged)} flagged")
        print(f"read and extract the students' code: {read - started:6.1f} s")
        print(f"fingerprint and score every pair:     {scored - read:6.1f} s")
        print(f"whole command (also CSV and report):  {whole:6.1f} s wall clock, {cpu:.1f} s CPU")
        print(f"({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end)")


if __name__ == "__main__":
    main()
