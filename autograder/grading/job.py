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
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from autograder.grading.notebooks import Released, parse_released
from autograder.sandbox import Limits, SandboxError

PACKAGE = Path(__file__).resolve().parents[1]  # autograder/
# The folders whose code decides a record: a change to any file in them changes every
# job's key (the class-level modules around them do not).
GRADER_FOLDERS = ("sandbox", "grading")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=1)
def grader_version() -> str:
    """A hash of the grader's code and of the package code its checks and hints call."""
    import upsampling.checking

    digest = hashlib.sha256()
    for folder in GRADER_FOLDERS:
        for module in sorted((PACKAGE / folder).rglob("*.py")):
            digest.update(module.relative_to(PACKAGE).as_posix().encode())
            digest.update(module.read_bytes())
    for module in sorted(Path(upsampling.checking.__file__).parent.glob("*.py")):
        digest.update(module.read_bytes())
    return digest.hexdigest()[:16]


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
