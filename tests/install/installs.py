"""Installing the course the way its users do: as an ordinary user, from a clean copy,
with the Python they have.

When the suite runs as root it creates an ordinary user (``useradd``) and does all of it
as that user: a clean copy of the course in the user's home, virtual environments made
from Debian's own ``python3.11`` and from pyenv's Pythons copied into the user's home
(the way pyenv installs them for a user: the interpreter finds its ``libpython`` through
a RUNPATH that names its own folder), and ``pip install`` with nothing but the machine's
global pip configuration. Run as an ordinary user, the suite does the same as itself.

Virtual environments are kept between runs (keyed by the interpreter and the project's
metadata) so that a second run does not download everything again; the course package
itself is reinstalled from the fresh copy every time.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pwd
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
USER = "upsampling-user"
DEBIAN_PYTHON = Path("/usr/bin/python3.11")
HOME_PYTHONS = ("3.10", "3.12", "3.13")  # the other versions students and instructors have
LABELS = ("debian-3.11", *(f"home-{minor}" for minor in HOME_PYTHONS))


@dataclass(frozen=True)
class Interpreter:
    label: str  # e.g. "debian-3.11", "home-3.12"
    python: Path  # what the user runs


@dataclass(frozen=True)
class Venv:
    path: Path
    created_seconds: float | None  # None when an existing environment was reused

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def size_mb(self) -> float:
        total = sum(p.stat().st_size for p in self.path.rglob("*") if p.is_file())
        return total / 2**20


def is_root() -> bool:
    return os.geteuid() == 0


@functools.cache
def home() -> Path:
    """The ordinary user's home (created with ``useradd`` when the suite runs as root)."""
    if not is_root():
        return Path(os.environ.get("UPSAMPLING_TEST_HOME", Path.home() / ".upsampling-tests"))
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", USER], check=True)
    return Path(pwd.getpwnam(USER).pw_dir)


def run_as_user(cmd, cwd=None, timeout=1800, env=None) -> subprocess.CompletedProcess:
    """Run ``cmd`` as the ordinary user, with a plain environment (no root's pip settings,
    no virtual environment activated)."""
    base = {
        "HOME": str(home()),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        **({"CI": os.environ["CI"]} if os.environ.get("CI") else {}),
        **(env or {}),
    }
    prefix = ["runuser", "-u", USER, "--"] if is_root() else []
    return subprocess.run(
        [*prefix, "env", "-i", *(f"{k}={v}" for k, v in base.items()), *map(str, cmd)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def chown_to_user(path: Path) -> None:
    if is_root():
        shutil.chown(path, USER, USER)
        subprocess.run(["chown", "-R", f"{USER}:{USER}", str(path)], check=True)


def clean_copy(name: str) -> Path:
    """A fresh copy of the course (the files git tracks or would track) in the user's home."""
    dest = home() / "copies" / name
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for rel in filter(None, (item.decode() for item in listed)):
        source = REPO / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    chown_to_user(home() / "copies")
    return dest


def pyenv_versions() -> dict[str, Path]:
    """minor version -> prefix of the newest pyenv Python of each of HOME_PYTHONS."""
    pyenv = shutil.which("pyenv") or (
        "/root/.pyenv/bin/pyenv" if Path("/root/.pyenv/bin/pyenv").exists() else None
    )
    if pyenv is None:
        return {}
    root = Path(subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip())
    names = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True).stdout
    found: dict[str, tuple] = {}
    for name in names.split():
        match = re.fullmatch(r"(3\.\d+)\.(\d+)", name)
        if match and match[1] in HOME_PYTHONS:
            key = (int(match[2]), root / "versions" / name)
            found[match[1]] = max(found.get(match[1], key), key)
    return {minor: prefix for minor, (_, prefix) in found.items()}


def python_in_home(minor: str) -> Interpreter:
    """pyenv's Python ``minor`` copied into the ordinary user's home, pyenv style."""
    versions = pyenv_versions()
    if minor not in versions:
        raise LookupError(f"no pyenv Python {minor} on this machine (pyenv versions)")
    source = versions[minor]
    dest = home() / ".pyenv" / "versions" / source.name
    python = dest / "bin" / f"python{minor}"
    if not python.exists():
        if dest.exists():
            shutil.rmtree(dest)
        site = f"lib/python{minor}/site-packages"
        shutil.copytree(
            source,
            dest,
            symlinks=True,
            ignore=lambda d, names: names if d == str(source / site) else [],
        )
        # pyenv links the interpreter to its libpython with a RUNPATH naming its prefix.
        subprocess.run(["patchelf", "--set-rpath", str(dest / "lib"), str(python)], check=True)
        chown_to_user(home() / ".pyenv")
    return Interpreter(f"home-{minor}", python)


def interpreter(label: str) -> Interpreter:
    if label == "debian-3.11":
        if not DEBIAN_PYTHON.exists():
            raise LookupError(f"{DEBIAN_PYTHON} (Debian's python3.11) is not installed")
        return Interpreter(label, DEBIAN_PYTHON)
    return python_in_home(label.removeprefix("home-"))


def make_venv(interp: Interpreter, purpose: str, project: Path, extras: str, more=()) -> Venv:
    """A venv for ``purpose`` with ``project[extras]`` installed non-editable (plus
    ``more``), made by the ordinary user. Reused while the interpreter, the project's
    metadata and the requirements stay the same; the project is reinstalled every time."""
    meta = (REPO / "pyproject.toml").read_bytes() + repr((interp, extras, more)).encode()
    key = hashlib.sha256(meta).hexdigest()[:12]
    path = home() / "venvs" / f"{purpose}-{interp.label}-{key}"
    created = None
    if not (path / ".complete").exists():
        for old in path.parent.glob(f"{purpose}-{interp.label}-*"):  # earlier metadata
            shutil.rmtree(old)
        started = time.monotonic()
        _check(run_as_user([interp.python, "-m", "venv", path]), "python -m venv")
        _check(
            run_as_user(
                [path / "bin/python", "-m", "pip", "install", "-q", f".[{extras}]", *more],
                cwd=project,
            ),
            f"pip install .[{extras}]",
        )
        created = time.monotonic() - started
        _check(run_as_user(["touch", path / ".complete"]), "touch")
    else:
        _check(
            run_as_user(
                [
                    path / "bin/python",
                    "-m",
                    "pip",
                    "install",
                    "-q",
                    "--no-deps",
                    "--force-reinstall",
                    ".",
                ],
                cwd=project,
            ),
            "pip install . (reinstall)",
        )
    return Venv(path, created)


def _check(result: subprocess.CompletedProcess, what: str) -> None:
    if result.returncode != 0:
        raise AssertionError(
            f"{what} failed (exit {result.returncode}):\n{result.stdout[-3000:]}\n"
            f"{result.stderr[-3000:]}"
        )


def installed(venv: Venv) -> dict[str, str]:
    out = run_as_user([venv.python, "-m", "pip", "list", "--format=freeze"]).stdout
    return dict(line.split("==", 1) for line in out.splitlines() if "==" in line)


def require(label: str) -> Interpreter:
    """The interpreter, or a failure in CI / a skip elsewhere, saying what is missing."""
    import pytest

    try:
        return interpreter(label)
    except LookupError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc}: CI must test every Python the course supports")
        pytest.skip(str(exc))
