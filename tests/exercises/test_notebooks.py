"""The graded notebooks: solutions/ (nbgrader source) and exercises/ (its release).

Static checks read the notebooks: no outputs, a header that points to the chapter and
whose points add up, test cells that call the checking helper on exactly the manifest's
cases, and nothing hidden or solved in exercises/ or in the built book. The slow checks run
nbgrader: every solution notebook passes `nbgrader validate` (each within 20 s), every
released notebook fails every graded test (`nbgrader validate --invert`), and
`nbgrader generate_assignment` in a copy of the course reproduces exercises/ exactly. They
run in two processes side by side, so that nbgrader's slow start is paid twice, not twelve
times.
"""

from __future__ import annotations

import ast
import html
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import numpy as np
import pytest

from upsampling.assignments import ASSIGNMENTS as REGISTRY
from upsampling.assignments import assignments_table

ROOT = Path(__file__).resolve().parents[2]
ASSIGNMENTS = {
    name: (a.topic, a.notebook, a.chapter_page.split("_")[0] + "_")
    for name, a in REGISTRY.items()
}
VALIDATE_SECONDS = 20
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def source(assignment) -> Path:
    return ROOT / "solutions" / assignment / ASSIGNMENTS[assignment][1]


def release(assignment) -> Path:
    return ROOT / "exercises" / assignment / ASSIGNMENTS[assignment][1]


def read(path: Path):
    return nbformat.read(str(path), as_version=4)


def manifest(assignment) -> dict:
    with np.load(ROOT / "autograder" / "reference" / f"{assignment}.npz") as npz:
        return json.loads(str(npz["__manifest__"]))


def nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def grade_cells(nb):
    return [cell for cell in nb.cells if nbgrader(cell).get("grade")]


def solution_blocks(nb) -> list[str]:
    return [block for cell in nb.cells for block in SOLUTION.findall(cell.source + "\n")]


def hidden_blocks(nb) -> list[str]:
    return [block for cell in nb.cells for block in HIDDEN.findall(cell.source + "\n")]


def collapse(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------
# Static checks

both = pytest.mark.parametrize(
    "path",
    [f(a) for a in ASSIGNMENTS for f in (source, release)],
    ids=lambda p: str(p.relative_to(ROOT)),
)


@both
def test_committed_without_outputs(path):
    nb = read(path)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_header_states_the_chapter_and_the_points(assignment):
    topic, _, chapter = ASSIGNMENTS[assignment]
    nb = read(source(assignment))
    header = nb.cells[0]
    assert header.cell_type == "markdown" and nbgrader(header).get("locked")
    link = re.search(r"\]\((\.\./\.\./book/(0\d_[a-z_]+\.md))\)", header.source)
    assert link and link.group(2).startswith(chapter), "the header links to its chapter"
    assert (release(assignment).parent / link.group(1)).resolve().exists(), link.group(1)
    assert "What you will build" in header.source or "You will" in header.source
    rows = re.findall(r"^\| `(\w+)` \| `([\w-]+)` \| .*? \| (\d+) \|$", header.source, re.M)
    total = int(re.search(r"Total: \*\*(\d+) points\*\*", header.source).group(1))
    cells = {nbgrader(c)["grade_id"]: nbgrader(c)["points"] for c in grade_cells(nb)}
    tests = manifest(assignment)["tests"]
    assert {gid: int(points) for _, gid, points in rows} == cells
    assert {gid: fn for fn, gid, _ in rows} == {gid: t["function"] for gid, t in tests.items()}
    assert {gid: t["points"] for gid, t in tests.items()} == cells
    assert total == sum(cells.values()) == manifest(assignment)["total_points"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_test_cells_check_exactly_the_manifest_cases(assignment):
    topic, _, _ = ASSIGNMENTS[assignment]
    tests = manifest(assignment)["tests"]
    nb = read(source(assignment))
    ids = [nbgrader(cell)["grade_id"] for cell in nb.cells if "grade_id" in nbgrader(cell)]
    assert len(ids) == len(set(ids)), "grade_ids are unique"
    cells = grade_cells(nb)
    assert [nbgrader(c)["grade_id"] for c in cells] == list(tests)
    for cell in cells:
        meta = nbgrader(cell)
        grade_id = meta["grade_id"]
        assert re.fullmatch(rf"{topic}-[a-z0-9-]+", grade_id) and meta["locked"]
        assert not meta["solution"] and cell.cell_type == "code"
        first = cell.source.splitlines()[0]
        assert re.fullmatch(r'""".+\."""', first), f"{grade_id}: one-line docstring first"
        visible_part, hidden_part = cell.source.split("### BEGIN HIDDEN TESTS")
        assert hidden_part.rstrip().endswith("### END HIDDEN TESTS")
        test = tests[grade_id]
        for part, visible in ((visible_part, True), (hidden_part, False)):
            calls = checked_cases(part, assignment, grade_id, test["function"])
            expected = [c["name"] for c in test["cases"] if c["visible"] == visible]
            assert calls == expected, f"{grade_id}: {'visible' if visible else 'hidden'} cases"


def checked_cases(code: str, assignment, grade_id, function) -> list[str]:
    """The case names of the check_cases calls in ``code``, which may hold nothing else
    (besides the docstring and the import of the helper)."""
    names = []
    for node in ast.parse(code.replace("### END HIDDEN TESTS", "")).body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.ImportFrom):
            assert node.module == "upsampling.checking", ast.unparse(node)
            continue
        call = node.value
        assert isinstance(call, ast.Call) and ast.unparse(call.func) == "check_cases"
        fn, *literals = call.args
        assert ast.unparse(fn) == function
        assert [ast.literal_eval(a) for a in literals[:2]] == [assignment, grade_id]
        names += ast.literal_eval(literals[2])
    return names


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_answer_cells_define_the_graded_functions(assignment):
    topic, _, _ = ASSIGNMENTS[assignment]
    nb = read(source(assignment))
    functions = {t["function"] for t in manifest(assignment)["tests"].values()}
    answers = [cell for cell in nb.cells if nbgrader(cell).get("solution")]
    defined = set()
    for cell in answers:
        assert nbgrader(cell)["grade_id"].startswith(f"{topic}-answer-")
        assert "### BEGIN SOLUTION" in cell.source and not nbgrader(cell)["grade"]
        defined |= {n.name for n in ast.parse(cell.source).body if isinstance(n, ast.FunctionDef)}
    assert functions <= defined


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercises_hold_no_hidden_test_and_no_solution(assignment):
    solved = read(source(assignment))
    released = read(release(assignment))
    text = "\n".join(cell.source for cell in released.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    hidden = [
        case["name"]
        for test in manifest(assignment)["tests"].values()
        for case in test["cases"]
        if not case["visible"]
    ]
    leaked = [name for name in hidden if f'"{name}"' in text]
    assert not leaked, f"hidden cases in exercises/: {leaked}"
    lines = {line.strip() for block in solution_blocks(solved) for line in block.splitlines()}
    leaked = [line for line in lines if len(line) >= 12 and line in text]
    assert not leaked, f"solution lines in exercises/: {leaked}"
    for cell in released.cells:
        if nbgrader(cell).get("solution"):
            assert "raise NotImplementedError()" in cell.source


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)


def test_built_book_holds_no_hidden_test_and_no_solution():
    from tools import build_book

    try:
        site = build_book.ensure_built()  # a no-op when the site is current
    except build_book.BuildError as exc:
        pytest.fail(str(exc), pytrace=False)
    secrets = []
    for assignment in ASSIGNMENTS:
        nb = read(source(assignment))
        secrets += [collapse(b) for b in solution_blocks(nb) + hidden_blocks(nb)]
    found = []
    for path in site.rglob("*"):
        if path.suffix not in {".html", ".ipynb", ".md", ".txt", ".py", ".js", ".json"}:
            continue
        raw = path.read_text(errors="replace")
        if path.suffix == ".html":
            parser = _Text()
            parser.feed(raw)
            raw = html.unescape("".join(parser.parts))
        elif path.suffix == ".ipynb":
            try:
                raw = "\n".join("".join(c.get("source", "")) for c in json.loads(raw)["cells"])
            except (ValueError, KeyError, TypeError):
                pass
        text = collapse(raw)
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS"):
            if marker in text:
                found.append(f"{path.relative_to(site)}: {marker}")
        found += [f"{path.relative_to(site)}: {s[:60]}" for s in secrets if s and s in text]
    assert not found, found


# ---------------------------------------------------------------------------------------
# nbgrader itself

DRIVER = r"""
import json, shutil, sys, time
from pathlib import Path

mode, root, *args = sys.argv[1:]
root = Path(root)
results = {}
if mode == "generate":
    import os
    from nbgrader.apps import GenerateAssignmentApp
    course = Path(args[0])
    shutil.copy(root / "nbgrader_config.py", course)
    shutil.copytree(root / "solutions", course / "solutions")
    os.chdir(course)
    for assignment in args[1:]:
        GenerateAssignmentApp.clear_instance()
        app = GenerateAssignmentApp.instance()
        app.initialize([assignment, "--no-db", "--force", "--Application.log_level=ERROR"])
        app.start()
        results[assignment] = "done"
else:
    import os
    from nbgrader.apps import ValidateApp
    from nbgrader.validator import Validator
    os.chdir(root)
    app = ValidateApp.instance()
    app.initialize(["--Application.log_level=ERROR"] + (["--invert"] if mode == "invert" else []))
    validator = Validator(parent=app)
    if mode == "validate":
        validator.validate_all = True  # stricter: any error in any cell counts
    for notebook in args:
        start = time.perf_counter()
        outcome = validator.validate(notebook)
        results[notebook] = {"seconds": time.perf_counter() - start, "outcome": outcome}
print(json.dumps(results))
"""


@pytest.fixture(scope="session")
def nbgrader_runs(tmp_path_factory):
    """Runs nbgrader in three processes at once: validate the solutions, validate --invert
    the releases, regenerate the releases in a copy of the course."""
    course = tmp_path_factory.mktemp("course")
    solved = tmp_path_factory.mktemp("solved")
    for assignment in ASSIGNMENTS:
        write_solved_release(assignment, solved / ASSIGNMENTS[assignment][1])
    jobs = {
        "validate": [str(source(a)) for a in ASSIGNMENTS]
        + [str(solved / ASSIGNMENTS[a][1]) for a in ASSIGNMENTS],
        "invert": [str(release(a)) for a in ASSIGNMENTS],
        "generate": [str(course), *ASSIGNMENTS],
    }
    processes = {
        mode: subprocess.Popen(
            [sys.executable, "-c", DRIVER, mode, str(ROOT), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for mode, args in jobs.items()
    }
    results = {}
    for mode, process in processes.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, f"nbgrader {mode} failed:\n{err[-3000:]}"
        results[mode] = json.loads(out.strip().splitlines()[-1])
    results["course"] = course
    results["solved"] = {a: str(solved / ASSIGNMENTS[a][1]) for a in ASSIGNMENTS}
    return results


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_passes_nbgrader_validate_in_time(assignment, nbgrader_runs):
    run = nbgrader_runs["validate"][str(source(assignment))]
    assert run["outcome"] == {}, json.dumps(run["outcome"], indent=1)[:3000]
    assert run["seconds"] < VALIDATE_SECONDS, f"validate took {run['seconds']:.1f} s"


def write_solved_release(assignment, path: Path) -> None:
    """The released notebook with the solutions typed into its answer cells, as a student
    who solved everything would submit it."""
    answers = {
        nbgrader(cell)["grade_id"]: cell.source
        for cell in read(source(assignment)).cells
        if nbgrader(cell).get("solution")
    }
    nb = read(release(assignment))
    for cell in nb.cells:
        if nbgrader(cell).get("solution"):
            solved = answers[nbgrader(cell)["grade_id"]]
            cell.source = re.sub(r"[ \t]*### (BEGIN|END) SOLUTION\n?", "", solved)
    nbformat.write(nb, str(path))


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_with_the_solutions_typed_in_passes(assignment, nbgrader_runs):
    run = nbgrader_runs["validate"][nbgrader_runs["solved"][assignment]]
    assert run["outcome"] == {}, json.dumps(run["outcome"], indent=1)[:3000]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_fails_every_graded_test(assignment, nbgrader_runs):
    run = nbgrader_runs["invert"][str(release(assignment))]
    assert run["outcome"] == {}, json.dumps(run["outcome"], indent=1)[:3000]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_regenerating_the_release_gives_the_committed_files(assignment, nbgrader_runs):
    fresh_dir = nbgrader_runs["course"] / "exercises" / assignment
    committed_dir = ROOT / "exercises" / assignment
    names = sorted(p.name for p in fresh_dir.iterdir())
    assert names == sorted(p.name for p in committed_dir.iterdir())
    for name in names:
        fresh = json.loads((fresh_dir / name).read_text())
        committed = json.loads((committed_dir / name).read_text())
        if fresh != committed:
            cells = [
                i
                for i, (a, b) in enumerate(zip(fresh["cells"], committed["cells"], strict=False))
                if a != b
            ]
            pytest.fail(
                f"exercises/{assignment}/{name} is not what `nbgrader generate_assignment "
                f"{assignment}` makes from solutions/ (cells that differ: {cells}); regenerate "
                "it: .venv/bin/nbgrader generate_assignment "
                f"{assignment} --no-db --force"
            )


def test_exercises_readme_says_generated():
    text = (ROOT / "exercises" / "README.md").read_text()
    assert "generate_assignment" in text and "solutions/" in text


@pytest.mark.parametrize("name, folders", [("exercises/README.md", True),
                                           ("docs/grading-contract.md", False)])
def test_assignment_tables_come_from_the_registry(name, folders):
    """The tables list exactly upsampling/assignments.py (python -m tools.assignment_tables
    rewrites them)."""
    from tools.assignment_tables import table_block

    text = (ROOT / name).read_text(encoding="utf-8")
    assert table_block(text, folders).group(0).rstrip("\n") == assignments_table(folders)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_registry_names_existing_files(assignment):
    entry = REGISTRY[assignment]
    assert (ROOT / entry.source).is_file() and (ROOT / entry.release).is_file()
    assert (ROOT / "book" / entry.chapter_page).is_file()
    assert entry.chapter_page.startswith(f"0{entry.chapter}_")
    header = read(source(assignment)).cells[0].source
    assert f"../../book/{entry.chapter_page}" in header
