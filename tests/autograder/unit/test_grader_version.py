"""A record's key names everything that decides it: the grader's version hashes the files
that grading actually loads (found by importing the entry points in a fresh interpreter),
and a change to any one of them changes it, so the next run re-grades."""

from __future__ import annotations

import shutil
from pathlib import Path

from autograder.grading import job

ROOT = job.PACKAGE.parent


def test_the_files_are_those_grading_loads_not_a_hand_made_list():
    names = {p.relative_to(ROOT).as_posix() for p in job.grader_files()}
    # what the misconception hints and the checks call, which a hand-made list missed
    for module in ("conv_transpose", "conv", "interpolate", "sizes", "_args"):
        assert f"upsampling/{module}.py" in names
    assert "autograder/sandbox/inside/harness.py" in names  # runs in the sandbox
    assert "autograder/sandbox/seccomp.py" in names
    assert "autograder/report.py" not in names  # class-level, decides no record
    assert "autograder/cli.py" not in names


def test_changing_any_file_grading_loads_changes_the_version(tmp_path):
    for package in ("autograder", "upsampling"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    files = job.grader_files(tmp_path)
    assert files and all(Path(f).is_relative_to(tmp_path) for f in files)
    before = job.digest_files(files, tmp_path)
    assert before == job.grader_version()  # the copy hashes as the original does
    seen = {before}
    for path in files:
        original = path.read_bytes()
        path.write_bytes(original + b"\n# a fix\n")
        changed = job.digest_files(files, tmp_path)
        assert changed not in seen, path
        seen.add(changed)
        path.write_bytes(original)
    assert job.digest_files(job.grader_files(tmp_path), tmp_path) == before
