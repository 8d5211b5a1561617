"""Where ``python -m autograder grade`` spends its time, phase by phase, for one class.

Builds a throw-away course the way ``benchmarks/grading_speed.py`` does (N submissions of
one assignment made from the released notebook, every fifth one wrong, each answer cell
signed by its student so that no two submissions share a cell), then

1. times the command's start-up in fresh interpreters: the bare interpreter, the imports
   ``grade`` needs (with ``-X importtime``: the heaviest packages), ``--help``, and a
   whole ``grade`` run that finds every submission up to date (nothing to grade);
2. grades the class in this process (``--jobs 1`` by default) with a collector of the
   grader's own named phases installed (:mod:`autograder.timing`), and prints one row per
   phase: calls, inclusive and own (exclusive) seconds, own milliseconds per submission
   and own share of the wall time. Phases nest (a row's children are indented under it);
   a phase is timed on the thread that runs it, so the worker threads' phases (``grade``
   and below) overlap the main thread's (``record``, the waiting in ``preflight``);
3. prints the wall and CPU seconds per submission: this process, its reaped children, and
   the sandboxed interpreters themselves (read from ``/proc`` just before each is killed),
   and the setup time of each notebook cell as the grader sees it.

``--no-startup`` skips the start-up timings (part 1, and one sandboxed child's costs):
the test suite's smoke run (tests/benchmarks/test_grading_profile.py) uses it.

    .venv/bin/python -m benchmarks.grading_profile [--submissions 40] [--assignment A]
        [--jobs 1] [--sandbox auto] [--repeat 3] [--no-startup]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import nbformat

from autograder import timing
from autograder.grading import notebooks
from autograder.run import GradingOptions, grade_assignment
from autograder.sandbox import Sandbox, UidPool
from autograder.sandbox import session as sandbox_session
from autograder.sandbox.processes import ChildProcess, processes_of_uid
from autograder.sandbox.uids import UID_RANGE
from tests.autograder.fixtures.course import (
    make_submission,
    real_course,
    solution_code,
    venv_env,
)

REPO = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- timers


class Profile:
    """A collector of the grader's phases (:mod:`autograder.timing`): calls, inclusive and
    own (exclusive) wall and CPU time (the thread's), keyed by the call path of phases
    on the thread that ran them."""

    def __init__(self):
        # path -> [calls, inclusive wall, own wall, inclusive cpu, own cpu]
        self.stats = defaultdict(lambda: [0, 0.0, 0.0, 0.0, 0.0])
        self.lock = threading.Lock()
        self.local = threading.local()

    def _stack(self) -> list:
        return self.local.__dict__.setdefault("stack", [])

    def enter(self, name: str) -> None:
        stack = self._stack()
        path = (stack[-1][0] if stack else ()) + (name,)
        # path, wall and CPU at the start, wall and CPU of the phases inside
        stack.append([path, time.perf_counter(), time.thread_time(), 0.0, 0.0])

    def exit(self, name: str) -> None:
        path, wall, cpu, inner_wall, inner_cpu = self._stack().pop()
        assert path[-1] == name, (path, name)
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        stack = self._stack()
        if stack:
            stack[-1][3] += wall
            stack[-1][4] += cpu
        with self.lock:
            row = self.stats[path]
            row[0] += 1
            row[1] += wall
            row[2] += wall - inner_wall
            row[3] += cpu
            row[4] += cpu - inner_cpu

    def rows(self) -> dict:
        """path -> (calls, inclusive wall, own wall, inclusive cpu, own cpu)."""
        return {path: tuple(row) for path, row in self.stats.items()}


class ChildWatch:
    """CPU seconds of each sandboxed interpreter (from /proc, just before it is killed) and
    how long each notebook cell ran, as seen from the parent (cell_start to cell_end):
    what the grader's phases do not say, read by wrapping ChildProcess.kill and recv."""

    def __init__(self):
        self.child_cpu = []
        self.overhead = 0.0  # seconds spent reading /proc (inside ChildProcess.kill's timer)
        self.cells = defaultdict(list)  # cell index -> seconds
        self.lock = threading.Lock()
        self.patched = []

    def install(self) -> None:
        watch = self
        kill, recv = ChildProcess.kill, ChildProcess.recv

        def kill_and_count(child):
            if child.sweep_uid is not None and child.proc.poll() is None:
                started = time.perf_counter()
                cpu = sum(_cpu_seconds(pid) for pid in processes_of_uid(child.sweep_uid))
                with watch.lock:
                    watch.child_cpu.append(cpu)
                    watch.overhead += time.perf_counter() - started
            return kill(child)

        def recv_and_time(child, deadline):
            header, blobs = recv(child, deadline)
            event = header.get("ev")
            if event == "cell_start":
                child._profile_cell = (header.get("index"), time.perf_counter())
            elif event == "cell_end" and getattr(child, "_profile_cell", None):
                index, started = child._profile_cell
                with watch.lock:
                    watch.cells[index].append(time.perf_counter() - started)
            return header, blobs

        ChildProcess.kill = kill_and_count
        ChildProcess.recv = recv_and_time
        self.patched = [("kill", kill), ("recv", recv)]

    def restore(self) -> None:
        for name, original in self.patched:
            setattr(ChildProcess, name, original)


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0


# ----------------------------------------------------------------------------- the course


def build_course(root: Path, assignment: str, n: int) -> Path:
    """Every answer cell ends with a comment naming its student, so that no two
    submissions share a cell (as in a real class: nothing is parsed once for all)."""
    course = real_course(root, [assignment])
    answers = solution_code(course, assignment)
    first = next(iter(answers))
    for i in range(n):
        student = f"student{i:03d}"
        mine = {gid: f"{code}\n# {student}" for gid, code in answers.items()}
        if i % 5 == 4:
            mine[first] = mine[first].replace("return", "return 0 *", 1)
        make_submission(course, assignment, student, answers=mine)
    return course


# ----------------------------------------------------------------------------- start-up


def _run_seconds(cmd, env, cwd, repeat: int) -> tuple[float, subprocess.CompletedProcess]:
    times, run = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        run = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if run.returncode != 0:
            print(f"FAILED: {' '.join(map(str, cmd))}\n{run.stderr[-1500:]}", file=sys.stderr)
    return statistics.median(times), run


GRADE_IMPORTS = (
    "import autograder.cli, autograder.run, nbgrader.api, nbgrader.coursedir, "
    "nbgrader.preprocessors, nbformat, upsampling.checking, "
    "IPython.core.inputtransformer2"
)


def startup(course: Path, assignment: str, env: dict, repeat: int) -> None:
    py = sys.executable
    rows = [
        ("python -c pass", [py, "-c", "pass"]),
        ("import numpy", [py, "-c", "import numpy"]),
        ("import autograder.cli (what -m autograder loads)", [py, "-c", "import autograder.cli"]),
        (
            "import autograder.run, nbgrader.api",
            [py, "-c", "import autograder.run, nbgrader.api"],
        ),
        ("every module grade imports (lazily too)", [py, "-c", GRADE_IMPORTS]),
        (
            "the same without rfc3987_syntax (jsonschema extra)",
            [py, "-c", "import sys; sys.modules['rfc3987_syntax'] = None; " + GRADE_IMPORTS],
        ),
        ("python -m autograder --help", [py, "-m", "autograder", "--help"]),
    ]
    print(f"\n== start-up (fresh interpreter, median of {repeat}) ==")
    for label, cmd in rows:
        seconds, _ = _run_seconds(cmd, env, REPO, repeat)
        print(f"  {label:<52} {seconds * 1000:7.0f} ms")
    grade_cmd = [
        py,
        "-m",
        "autograder",
        "grade",
        assignment,
        "--jobs",
        "1",
        "--course-root",
        str(course),
        "--no-progress",
    ]
    seconds, run = _run_seconds(grade_cmd, env, REPO, repeat)
    summary = [line for line in run.stdout.splitlines() if "submissions" in line][:1]
    print(
        f"  {'grade, every submission up to date (0 to do)':<52} {seconds * 1000:7.0f} ms"
        f"   [{summary[0] if summary else run.stdout[-200:]}]"
    )
    blocked = (
        "import sys; sys.modules['rfc3987_syntax'] = None; from autograder.cli import main; "
        f"sys.exit(main({grade_cmd[3:]!r}))"
    )
    seconds, _ = _run_seconds([py, "-c", blocked], env, REPO, repeat)
    print(f"  {'the same without rfc3987_syntax':<52} {seconds * 1000:7.0f} ms")
    run = subprocess.run(
        [py, "-X", "importtime", "-c", GRADE_IMPORTS],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    packages, modules = import_costs(run.stderr)
    print("  import time by package (own time of all its modules):")
    for name, seconds in packages[:8]:
        print(f"    {name:<40} {seconds * 1000:7.0f} ms")
    print("  heaviest single modules (own time):")
    for name, seconds in modules[:4]:
        print(f"    {name:<40} {seconds * 1000:7.0f} ms")


def sandbox_startup(mode: str, repeat: int) -> None:
    """What one sandboxed child costs before the student's first cell: bubblewrap, the
    interpreter, numpy (what a slot's zygote pays once); a child forked by a zygote;
    and one sweep of /proc for a uid's processes."""
    box = Sandbox(mode)
    print(f"\n== one sandboxed child ({box.mode}), median of {repeat * 3} ==")
    if box.mode == "bwrap":
        cmd = box.bwrap.command({"fd_in": 0, "fd_out": 1, "limits": {}, "uid": None})
        prefix = cmd[: cmd.index("--") + 1]
    else:
        prefix = []
    py = [str(box.python), "-I", "-S", "-B"]
    site = "/opt/site" if box.mode == "bwrap" else str(Path(box.packages[0][0]).parent)
    for label, tail in (
        ("sandbox only (/bin/true)", ["/bin/true"]),
        ("+ python -I -S (pass)", [*py, "-c", "pass"]),
        ("+ import numpy", [*py, "-c", f"import sys; sys.path.append({site!r}); import numpy"]),
    ):
        if box.mode != "bwrap" and tail[0] == "/bin/true":
            continue
        seconds, _ = _run_seconds(prefix + tail, None, "/", repeat * 3)
        print(f"  {label:<52} {seconds * 1000:7.1f} ms")
    if box.mode == "bwrap":
        zygote_child(box, repeat * 3)
    times = []
    for _ in range(repeat * 10):
        started = time.perf_counter()
        processes_of_uid(UID_RANGE[-1])
        times.append(time.perf_counter() - started)
    n_proc = sum(1 for name in os.listdir("/proc") if name.isdigit())
    print(
        f"  {'one /proc scan (processes_of_uid)':<52} {statistics.median(times) * 1000:7.1f} ms"
        f"   [{n_proc} processes on the machine]"
    )


def zygote_child(box, repeat: int) -> None:
    """What grading uses instead: a child forked by the slot's zygote (started once,
    outside the timings), from the request to its hello, and killing it."""
    pool = UidPool(1, enabled=box.root)
    uid = pool.free[0]
    try:
        box.start(uid).close()  # starts the zygote
        started, killed = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            child = box.start(uid)
            sandbox_session._await_hello(child, box.limits.setup_timeout)
            t1 = time.perf_counter()
            child.kill()
            child.close()
            started.append(t1 - t0)
            killed.append(time.perf_counter() - t1)
    finally:
        box.close()
        pool.close()
    for label, times in (
        ("a child forked by the zygote, to its hello", started),
        ("killing it (zygote kill + uid sweep) and closing", killed),
    ):
        print(f"  {label:<52} {statistics.median(times) * 1000:7.1f} ms")


def import_costs(text: str) -> tuple[list, list]:
    """From ``-X importtime`` output: (package, own seconds of all its modules) and
    (module, own seconds), heaviest first."""
    packages: dict[str, float] = defaultdict(float)
    modules = []
    for line in text.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        own, _, name = line[len("import time:") :].split("|")
        if not own.strip().isdigit():
            continue
        name = name.strip()
        packages[name.partition(".")[0]] += int(own) / 1e6
        modules.append((name, int(own) / 1e6))
    by_cost = sorted(packages.items(), key=lambda kv: -kv[1])
    return by_cost, sorted(modules, key=lambda kv: -kv[1])


# ----------------------------------------------------------------------------- in process


def warm_up_imports() -> None:
    """Import what grading imports lazily (nbgrader, the IPython transformer)."""
    import nbgrader.api
    import nbgrader.coursedir
    import nbgrader.preprocessors  # noqa: F401

    notebooks.to_python("x = 1")


def grade_in_process(course: Path, assignment: str, n_jobs: int, mode: str):
    warm_up_imports()  # their cost is the start-up's (printed below), not a phase's
    profile, watch = Profile(), ChildWatch()
    watch.install()
    out = io.StringIO()
    options = GradingOptions(n_jobs=n_jobs, force=True, sandbox_mode=mode, progress=False)
    before_self = resource.getrusage(resource.RUSAGE_SELF)
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    try:
        with timing.collect(profile):
            result = grade_assignment(course, assignment, options, out=out)
    finally:
        wall = time.perf_counter() - started
        after_self = resource.getrusage(resource.RUSAGE_SELF)
        after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
        watch.restore()
    cpu_self = (after_self.ru_utime - before_self.ru_utime) + (
        after_self.ru_stime - before_self.ru_stime
    )
    cpu_children = (after_children.ru_utime - before_children.ru_utime) + (
        after_children.ru_stime - before_children.ru_stime
    )
    return result, out.getvalue(), profile, watch, wall, cpu_self, cpu_children


def print_table(profile: Profile, wall: float, n: int) -> None:
    stats = profile.rows()
    children = defaultdict(list)
    for path in stats:
        children[path[:-1]].append(path)
    for kids in children.values():
        kids.sort(key=lambda p: -stats[p][1])
    width = 50
    print(
        f"\n  {'phase (children indented)':<{width}} {'calls':>6} {'incl s':>7} {'own s':>7}"
        f" {'own ms/sub':>10} {'own %':>6} {'own CPU ms/sub':>14}"
    )
    print("  " + "-" * (width + 55))

    def show(path, depth):
        calls, inclusive, own, _, own_cpu = stats[path]
        name = ("  " * depth + path[-1])[:width]
        print(
            f"  {name:<{width}} {calls:>6} {inclusive:>7.2f} {own:>7.2f} "
            f"{own * 1000 / n:>10.1f} {100 * own / wall:>5.1f}% {own_cpu * 1000 / n:>14.1f}"
        )
        for kid in children.get(path, []):
            show(kid, depth + 1)

    for root in sorted(children[()], key=lambda p: -stats[p][1]):
        show(root, 0)
    missing = [name for name in timing.PHASES if not any(name in path for path in stats)]
    if missing:
        print(f"  (phases that did not run: {', '.join(missing)})")
    print(f"  {'wall':<{width}} {'':>6} {wall:>7.2f} {'':>7} {wall * 1000 / n:>10.1f} 100.0%")

    print("\n  top own costs (all call paths of a phase together):")
    totals = defaultdict(lambda: [0.0, 0.0])
    for path, (_, _, own, _, own_cpu) in stats.items():
        totals[path[-1]][0] += own
        totals[path[-1]][1] += own_cpu
    for label, (own, own_cpu) in sorted(totals.items(), key=lambda kv: -kv[1][0])[:10]:
        print(
            f"    {label:<{width}} {own * 1000 / n:7.1f} ms/sub  {100 * own / wall:5.1f}%"
            f"  (CPU {own_cpu * 1000 / n:5.1f} ms/sub)"
        )


def print_cells(watch: ChildWatch, course: Path, assignment: str) -> None:
    (released,) = sorted((course / "exercises" / assignment).glob("*.ipynb"))
    nb = nbformat.read(released, as_version=4)
    print("\n  setup, per cell (parent's view, cell_start -> cell_end), slowest first:")
    rows = sorted(watch.cells.items(), key=lambda kv: -statistics.mean(kv[1]))
    for index, seconds in rows[:6]:
        source = notebooks.cell_source(nb.cells[index]) if index < len(nb.cells) else ""
        first = next((line for line in source.splitlines() if line.strip()), "")[:50]
        print(
            f"    cell {index + 1:>3}: {statistics.mean(seconds) * 1000:7.1f} ms mean "
            f"x {len(seconds):>3}   {first}"
        )
    total = sum(sum(v) for v in watch.cells.values())
    print(f"    all cells: {total:.2f} s in all, {len(watch.cells)} cells")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--assignment", default="03_transposed_conv")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--sandbox", choices=("auto", "bwrap", "none"), default="auto")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each start-up command")
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up timings")
    args = parser.parse_args()
    env = venv_env()
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    os.environ["PATH"] = env["PATH"]  # nbgrader runs `alembic` from PATH
    n = args.submissions
    with tempfile.TemporaryDirectory(prefix="grading-profile-") as tmp:
        base = build_course(Path(tmp) / "base", args.assignment, n)
        course = Path(tmp) / "course"
        shutil.copytree(base, course)

        result, summary, profile, watch, wall, cpu_self, cpu_children = grade_in_process(
            course, args.assignment, args.jobs, args.sandbox
        )
        counts = dict(result["counts"])
        print(
            f"{n} submissions of {args.assignment}, {os.cpu_count()} cores, "
            f"--jobs {args.jobs}, sandbox {result['sandbox']}; in-process run: {counts}"
        )
        if result["errors"] or result["grader_errors"]:
            print(f"ERRORS: {result['errors']} {result['grader_errors']}\n{summary}")
        print_table(profile, wall, n)
        print_cells(watch, course, args.assignment)

        child_cpu = watch.child_cpu
        print("\n== per submission (in-process run, preflight and fixed costs included) ==")
        print(
            f"  wall                     {wall * 1000 / n:7.1f} ms "
            f"({n * 60 / wall:.0f} notebooks/min at --jobs {args.jobs})"
        )
        print(f"  CPU, grader process      {cpu_self * 1000 / n:7.1f} ms")
        print(
            f"  CPU, reaped children     {cpu_children * 1000 / n:7.1f} ms "
            "(bwrap and what it reaped)"
        )
        if child_cpu:
            print(
                f"  CPU, sandboxed pythons   {sum(child_cpu) * 1000 / n:7.1f} ms "
                f"({len(child_cpu)} children, {statistics.mean(child_cpu) * 1000:.0f} ms each; "
                "from /proc before the kill)"
            )
            print(
                f"  (reading them took {watch.overhead * 1000 / n:.1f} ms/sub, counted in "
                "ChildProcess.kill's own time)"
            )
        print(f"  CPU, self + children     {(cpu_self + cpu_children) * 1000 / n:7.1f} ms")

        if not args.no_startup:
            startup(course, args.assignment, env, args.repeat)
    if not args.no_startup:
        sandbox_startup(args.sandbox, args.repeat)


if __name__ == "__main__":
    main()
