"""Creates or updates the course environment ``.venv`` (``make book`` and ``make test`` run it).

Run with the Python the course should use: ``python3 tools/setup_venv.py [VENV]``. It

1. checks the interpreter: Python 3.11, 3.12 or 3.13 (the pins in ``requirements.txt``
   install on each; 3.11.2, Debian 12's own, included);
2. makes sure PyTorch is the CPU build before anything else is installed: pip is asked
   what ``torch==2.13.0`` would bring, and if that is a CUDA build (several GB of
   ``nvidia-*`` packages: PyPI's torch on Linux) it asks PyTorch's CPU index instead,
   after checking that the index answers within a few seconds. Only if it does not (no
   network there, a proxy) does it stop, with nothing installed, and the message says how
   to get the CPU build (``TORCH_INDEX_URL`` or ``PIP_FIND_LINKS``, see the README);
3. installs ``requirements.txt`` and the course package (editable), then writes the stamp
   file ``.venv/.installed`` that the Makefile compares with its inputs.

Only the standard library is used, so it runs before the environment exists.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TORCH = "torch==2.13.0"
SUPPORTED = ((3, 11), (3, 12), (3, 13))
CUDA_PACKAGES = ("nvidia-", "triton", "cuda-")
CPU_INDEX = "https://download.pytorch.org/whl/cpu"  # PyTorch's CPU wheel index (PEP 503)
CPU_INDEX_TIMEOUT = 8.0  # seconds for the index to answer before we give up on it


class SetupError(Exception):
    pass


def check_python(version=sys.version_info) -> None:
    if tuple(version[:2]) not in SUPPORTED:
        names = ", ".join(f"{a}.{b}" for a, b in SUPPORTED)
        raise SetupError(
            f"the course environment needs Python {names}; this is "
            f"{version[0]}.{version[1]}.{version[2]} ({sys.executable}). Run make with "
            'PYTHON=/path/to/python3.11 (students need only `pip install ".[student]"`, '
            "which works with Python 3.10 to 3.13)"
        )


def cuda_packages(report: dict) -> list[str]:
    """What in a ``pip install --report`` is CUDA: ``nvidia-*``, triton, or a ``+cu`` torch."""
    found = []
    for item in report.get("install", []):
        meta = item.get("metadata", {})
        name, version = meta.get("name", "").lower(), meta.get("version", "")
        if name.startswith(CUDA_PACKAGES) or (name == "torch" and "+cu" in version):
            found.append(f"{name}=={version}")
    return found


def pip(python: Path, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python), "-m", "pip", *args],
        check=False,
        text=True,
        capture_output=capture,
    )


def torch_source() -> list[str]:
    """Extra pip options that point at a CPU build of torch, from the environment."""
    if os.environ.get("TORCH_INDEX_URL"):
        return ["--index-url", os.environ["TORCH_INDEX_URL"]]
    return []


def planned_install(python: Path, *source: str) -> dict:
    """pip's ``--report`` of what installing torch would bring (nothing is installed;
    what is installed already is ignored: the question is what the index offers)."""
    planned = pip(
        python,
        "install",
        "--dry-run",
        "--quiet",
        "--ignore-installed",
        "--report",
        "-",
        TORCH,
        *source,
        capture=True,
    )
    if planned.returncode != 0:
        raise SetupError(f"pip cannot find {TORCH}:\n{planned.stderr[-2000:]}")
    return json.loads(planned.stdout[planned.stdout.index("{") :])


def index_answers(index: str, timeout: float) -> str | None:
    """``None`` if the PEP 503 index ``index`` lists torch within ``timeout`` seconds,
    else why not."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{index.rstrip('/')}/torch/", timeout=timeout) as page:
            page.read(1)
    except (OSError, urllib.error.URLError) as exc:
        return f"{index} did not answer: {getattr(exc, 'reason', exc)}"
    return None


def torch_plan(python: Path, cpu_index: str = CPU_INDEX, timeout: float = CPU_INDEX_TIMEOUT):
    """The pip options that install the CPU build of torch here: the user's
    (``TORCH_INDEX_URL``), none if the default index already has the CPU build, or
    PyTorch's CPU index ``cpu_index`` if that answers within ``timeout`` seconds and
    offers it. Raises :class:`SetupError` (how to get the CPU build) otherwise."""
    source = torch_source()
    cuda = cuda_packages(planned_install(python, *source))
    if not cuda:
        return source
    why = "TORCH_INDEX_URL gives a CUDA build too" if source else index_answers(cpu_index, timeout)
    if why is None:
        cpu = ["--index-url", cpu_index, "--timeout", str(int(timeout)), "--retries", "1"]
        if not cuda_packages(planned_install(python, *cpu)):
            print(
                f"setup: PyPI has the CUDA build of torch here; taking the CPU build from "
                f"{cpu_index}",
                flush=True,
            )
            return ["--index-url", cpu_index]
        why = f"{cpu_index} offers a CUDA build too"
    raise SetupError(
        f"pip would install the CUDA build of {TORCH} here ({', '.join(cuda[:4])}, ... "
        f"several GB), which the course does not need, and {why}. Nothing was installed. "
        "Point pip at the CPU build, then run make again:\n"
        f"  make book TORCH_INDEX_URL={CPU_INDEX}   (PyTorch's CPU wheel index)\n"
        "  make book PIP_FIND_LINKS=/folder/with/the/wheel   (a torch-2.13.0+cpu wheel "
        "you have)\nOn macOS and Windows, PyPI's torch is the CPU build already."
    )


def ensure_cpu_torch(python: Path) -> None:
    have = pip(python, "show", "torch", capture=True)
    if have.returncode == 0 and "Version: 2.13.0" in have.stdout:
        return
    source = torch_plan(python)
    print(f"setup: installing {TORCH} (CPU build)", flush=True)
    if pip(python, "install", "--quiet", TORCH, *source).returncode != 0:
        raise SetupError(f"installing {TORCH} failed (see pip's message above)")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    target = Path(argv[0]) if argv else ROOT / ".venv"
    try:
        check_python()
        python = target / "bin" / "python"
        if not python.exists():
            print(f"setup: creating {target} with Python {sys.version.split()[0]}", flush=True)
            venv.create(target, with_pip=True)
        ensure_cpu_torch(python)
        print("setup: installing requirements.txt (first time: a few minutes)", flush=True)
        steps = (
            ["install", "--quiet", "-r", str(ROOT / "requirements.txt")],
            ["install", "--quiet", "--no-deps", "--no-build-isolation", "-e", str(ROOT)],
        )
        for step in steps:
            if pip(python, *step).returncode != 0:
                raise SetupError(f"pip {' '.join(step[:3])} failed (see pip's message above)")
        (target / ".installed").touch()
    except SetupError as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
