"""One submission to grade, as plain data: the :class:`Job` and the :class:`Materials`
it is graded against.

A job names everything its record depends on (who, which notebook, the submitted bytes,
the content hashes of the release and the reference, the limits, the sandbox and the
grader's version), so equal keys mean equal records. The materials (the released
notebook and the reference outputs, hidden cases included) are shared by every job of
an assignment: they travel as bytes, once, and are parsed where they are used.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from autograder.grading.notebooks import Released, parse_released
from autograder.sandbox import Limits, SandboxError

PACKAGE = Path(__file__).resolve().parents[1]  # autograder/
# What decides a record: the modules that grading imports, from these packages (the
# grader's own and the course package whose checks and hints it calls) ...
ENTRY_POINTS = ("autograder.grading.grade", "upsampling.checking")
PROJECT_PACKAGES = ("autograder", "upsampling")
# ... and what runs inside the sandbox (files the grader mounts there, never imports).
SANDBOX_FILES = PACKAGE / "sandbox" / "inside"

_LIST_MODULES = """
import importlib, json, sys
for name in sys.argv[1].split(","):
    importlib.import_module(name)
tops = set(sys.argv[2].split(","))
print(json.dumps(sorted(
    m.__file__ for name, m in list(sys.modules.items())
    if name.split(".")[0] in tops and getattr(m, "__file__", None)
)))
"""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def grader_files(root: Path | None = None) -> list[Path]:
    """Every file whose content decides a record: the project's modules loaded by a fresh
    interpreter that imports the grading entry points (so a module the misconception
    hints call is in, a class-level report module is out), and the sandbox's own files.
    ``root`` is the folder holding the ``autograder`` package (this one by default)."""
    root = Path(root or PACKAGE.parent).resolve()
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])
    )
    out = subprocess.run(
        [sys.executable, "-c", _LIST_MODULES, ",".join(ENTRY_POINTS), ",".join(PROJECT_PACKAGES)],
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        check=False,
    )
    if out.returncode != 0:
        raise SandboxError(f"could not list the grader's modules: {out.stderr.strip()[-500:]}")
    files = {Path(f).resolve() for f in json.loads(out.stdout)}
    files |= {
        p.resolve() for p in (root / "autograder" / SANDBOX_FILES.relative_to(PACKAGE)).glob("*.py")
    }
    return sorted(files)


def digest_files(files, root: Path) -> str:
    """A hash of these files' paths (relative to ``root`` where they are under it) and
    contents."""
    digest = hashlib.sha256()
    for path in sorted(files):
        name = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def grader_version() -> str:
    """A hash of everything in :func:`grader_files`: the grader's code and the package
    code its checks and hints call."""
    root = PACKAGE.parent.resolve()
    return digest_files(grader_files(root), root)


@dataclass(frozen=True)
class Reference:
    """An assignment's reference outputs: the manifest (tests, their cases and points)
    and the arrays the cases name."""

    manifest: dict
    arrays: dict

    @property
    def tests(self) -> dict:
        return self.manifest["tests"]


def parse_reference(data: bytes) -> Reference:
    """The reference outputs in the bytes of an ``<assignment>.npz`` file."""
    from upsampling.checking import read_reference_file

    manifest, arrays = read_reference_file(io.BytesIO(data))
    return Reference(manifest, arrays)


@dataclass(frozen=True)
class Materials:
    """What every job of an assignment shares: the released notebook and the reference
    outputs, as bytes (sent to a cluster once, not per job), and their parsed forms,
    made on first use where they are used (never sent)."""

    released_bytes: bytes
    reference_bytes: bytes

    @classmethod
    def from_files(cls, released, reference) -> Materials:
        return cls(Path(released).read_bytes(), Path(reference).read_bytes())

    @cached_property
    def released(self) -> Released:
        return parse_released(self.released_bytes)

    @cached_property
    def reference(self) -> Reference:
        return parse_reference(self.reference_bytes)

    @cached_property
    def released_sha256(self) -> str:
        return sha256(self.released_bytes)

    @cached_property
    def reference_sha256(self) -> str:
        return sha256(self.reference_bytes)

    def __getstate__(self) -> dict:
        """Pickled (for a cluster) as the bytes alone: the parsed forms stay here."""
        return {"released_bytes": self.released_bytes, "reference_bytes": self.reference_bytes}


@dataclass(frozen=True)
class Job:
    """One submission to grade: everything its record depends on, as plain data."""

    assignment: str
    student_id: str
    notebook: str  # notebook name without .ipynb
    submission: bytes | None  # the submitted notebook (None: nothing submitted)
    released_sha256: str
    reference_sha256: str
    limits: Limits
    sandbox: str  # "bwrap" or "none"
    grader_version: str

    @cached_property
    def key(self) -> str:
        """Equal keys, equal records: the record's ``fingerprint`` and the job's name on
        a cluster (exactly once), from the submission's content, the release, the
        reference, the grader, the limits and the sandbox."""
        submitted = "<missing>" if self.submission is None else sha256(self.submission)
        parts = [
            self.assignment,
            self.student_id,
            self.notebook,
            submitted,
            self.released_sha256,
            self.reference_sha256,
            self.grader_version,
            self.limits.to_json(),
            self.sandbox,
        ]
        return sha256(json.dumps(parts, sort_keys=True).encode())

    @classmethod
    def make(cls, assignment, student_id, notebook, submission, materials, limits, sandbox):
        return cls(
            assignment,
            student_id,
            notebook,
            submission,
            materials.released_sha256,
            materials.reference_sha256,
            limits,
            sandbox,
            grader_version(),
        )


class MaterialsMismatch(SandboxError):
    """The materials are not the ones the job names (a grader error, never a grade)."""


def check_materials(job: Job, materials: Materials, sandbox) -> None:
    """Raise :class:`MaterialsMismatch` unless ``job`` is graded against the materials,
    the grader and the sandbox it names."""
    problems = []
    if materials.released_sha256 != job.released_sha256:
        problems.append("the released notebook differs from the job's")
    if materials.reference_sha256 != job.reference_sha256:
        problems.append("the reference outputs differ from the job's")
    if job.grader_version != grader_version():
        problems.append(
            f"this grader is version {grader_version()}, the job was made by "
            f"{job.grader_version} (install the same course package on every machine)"
        )
    if sandbox.limits != job.limits or sandbox.mode != job.sandbox:
        problems.append("the sandbox's limits or mode differ from the job's")
    if problems:
        raise MaterialsMismatch("; ".join(problems))
