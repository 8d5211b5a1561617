"""The setup steps of `make book` / `make test`: which Pythons, never a CUDA torch, and
what happens when Debian packages are missing and cannot be installed."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from tests.install import installs
from tools import setup_venv

CPU_REPORT = {
    "install": [
        {"metadata": {"name": "torch", "version": "2.13.0+cpu"}},
        {"metadata": {"name": "sympy", "version": "1.14.0"}},
    ]
}
CUDA_REPORT = {
    "install": [
        {"metadata": {"name": "torch", "version": "2.13.0"}},
        {"metadata": {"name": "nvidia-cublas-cu13", "version": "13.1"}},
        {"metadata": {"name": "triton", "version": "3.6.0"}},
    ]
}


def test_a_cuda_torch_is_recognised_and_a_cpu_one_is_not():
    assert setup_venv.cuda_packages(CPU_REPORT) == []
    assert setup_venv.cuda_packages(CUDA_REPORT) == ["nvidia-cublas-cu13==13.1", "triton==3.6.0"]
    plus_cu = {"install": [{"metadata": {"name": "torch", "version": "2.13.0+cu130"}}]}
    assert setup_venv.cuda_packages(plus_cu) == ["torch==2.13.0+cu130"]


@pytest.mark.parametrize("version", [(3, 11, 2), (3, 11, 7), (3, 12, 1), (3, 13, 0)])
def test_supported_pythons(version):
    setup_venv.check_python(version)


@pytest.mark.parametrize("version", [(3, 10, 13), (3, 9, 18), (3, 14, 0)])
def test_other_pythons_are_refused_with_the_way_out(version):
    with pytest.raises(setup_venv.SetupError, match=r"PYTHON=.*\.\[student\]"):
        setup_venv.check_python(version)


def test_every_pin_installs_on_debians_python_3_11_2():
    """`pip install --dry-run -r requirements.txt` resolves with Debian 12's own Python."""
    interp = installs.require("debian-3.11")
    venv = installs.home() / "venvs" / "dry-run-debian"
    if not (venv / "bin" / "python").exists():
        installs.run_as_user([interp.python, "-m", "venv", venv])
    pins = installs.home() / "copies" / "requirements-without-torch.txt"
    pins.parent.mkdir(parents=True, exist_ok=True)
    lines = (installs.REPO / "requirements.txt").read_text().splitlines()
    pins.write_text("\n".join(line for line in lines if not line.startswith("torch==")))
    installs.chown_to_user(pins.parent)
    # torch is left out: for the ordinary user PyPI has only the CUDA build (see above).
    result = installs.run_as_user(
        [venv / "bin" / "python", "-m", "pip", "install", "--dry-run", "-q", "-r", pins]
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture
def bare_path():
    """A PATH with a shell and coreutils but none of the Debian packages, no sudo, no apt."""
    folder = installs.home() / "bare-bin"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for tool in ("bash", "id", "env", "cat"):
        os.symlink(shutil.which(tool), folder / tool)
    installs.chown_to_user(folder)
    return str(folder)


def test_missing_packages_for_the_tests_are_named_and_the_run_goes_on(bare_path):
    script = installs.REPO / "tools" / "setup-system.sh"
    result = installs.run_as_user(["bash", script, "test"], env={"PATH": bare_path})
    assert result.returncode == 0, result.stderr
    line = "sudo apt-get install npm chromium chromium-driver bubblewrap patchelf"
    assert line in result.stderr and "going on" in result.stderr


def test_the_book_needs_only_npm_and_stops_without_it(bare_path):
    script = installs.REPO / "tools" / "setup-system.sh"
    result = installs.run_as_user(["bash", script, "book"], env={"PATH": bare_path})
    assert result.returncode == 1
    assert "sudo apt-get install npm\n" in result.stderr and "chromium" not in result.stderr
    with_npm = f"{bare_path}:{os.path.dirname(shutil.which('npm'))}"
    result = installs.run_as_user(["bash", script, "book"], env={"PATH": with_npm})
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_the_interpreter_running_the_suite_is_supported():
    setup_venv.check_python(sys.version_info)
