"""`make book` where PyPI would give the CUDA build of torch: tools/setup_venv.py takes
the CPU build from PyTorch's CPU index, and stops only if that index does not answer.

Two PEP 503 package indexes on 127.0.0.1, served by a thread of this test, stand in for
PyPI and for PyTorch's CPU index; they hold small fake wheels named torch (and a fake
CUDA library). The real hosts are never contacted, and pip is isolated from this
machine's configuration (config files, PIP_* variables), so what is tested is the
decision, not this machine's wheels.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import os
import socket
import sys
import threading
import time
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest

from tools import setup_venv

PYTHON = Path(sys.executable)


def _wheel(name: str, version: str, requires=()) -> tuple[str, bytes]:
    dist = f"{name.replace('-', '_')}-{version}"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    files = {
        f"{name.replace('-', '_')}/__init__.py": "",
        f"{dist}.dist-info/METADATA": meta,
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: "
        "true\nTag: py3-none-any\n",
    }
    files[f"{dist}.dist-info/RECORD"] = "".join(f"{path},,\n" for path in files)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
    return f"{dist}-py3-none-any.whl", buf.getvalue()


def _index(folder: Path, wheels: list[tuple[str, str, tuple]]) -> None:
    """A PEP 503 simple index in ``folder``: ``<project>/index.html`` linking its wheels."""
    for name, version, requires in wheels:
        filename, data = _wheel(name, version, requires)
        project = folder / name
        project.mkdir(parents=True, exist_ok=True)
        (project / filename).write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        (project / "index.html").write_text(
            f'<!DOCTYPE html><html><body><a href="{filename}#sha256={digest}">{filename}</a>'
            "</body></html>"
        )


class _Logged(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        self.server.requests.append(unquote(self.path))


@pytest.fixture
def serve():
    servers = []

    def _serve(folder: Path):
        handler = functools.partial(_Logged, directory=str(folder))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        httpd.requests = []
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}/", httpd.requests

    yield _serve
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def isolated_pip(monkeypatch, tmp_path):
    """pip with no configuration of this machine: no config file, no PIP_* variable, no
    cache, no proxy; ``PIP_INDEX_URL`` is set by each test (its stand-in for PyPI)."""
    for key in list(os.environ):
        if key.startswith("PIP_") or key.lower().endswith("_proxy") or key == "TORCH_INDEX_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_CACHE_DIR", "1")
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")


CUDA_TORCH = [
    ("torch", "2.13.0", ("nvidia-cublas-cu13==13.1",)),
    ("nvidia-cublas-cu13", "13.1", ()),
]
CPU_TORCH = [("torch", "2.13.0+cpu", ())]


def test_pypi_with_a_cuda_torch_sends_pip_to_the_cpu_index(serve, tmp_path, monkeypatch):
    _index(tmp_path / "pypi", CUDA_TORCH)
    _index(tmp_path / "cpu", CPU_TORCH)
    pypi, _ = serve(tmp_path / "pypi")
    cpu, asked = serve(tmp_path / "cpu")
    monkeypatch.setenv("PIP_INDEX_URL", pypi)
    assert setup_venv.torch_plan(PYTHON, cpu_index=cpu, timeout=5) == ["--index-url", cpu]
    assert "/torch/" in asked and any(p.endswith("+cpu-py3-none-any.whl") for p in asked)


def test_a_cpu_torch_on_pypi_needs_no_other_index(serve, tmp_path, monkeypatch):
    _index(tmp_path / "pypi", CPU_TORCH)
    _index(tmp_path / "cpu", CPU_TORCH)
    pypi, _ = serve(tmp_path / "pypi")
    cpu, asked = serve(tmp_path / "cpu")
    monkeypatch.setenv("PIP_INDEX_URL", pypi)
    assert setup_venv.torch_plan(PYTHON, cpu_index=cpu, timeout=5) == []
    assert asked == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("answer", ["refused", "silent"])
def test_an_unreachable_cpu_index_stops_with_the_way_out(serve, tmp_path, monkeypatch, answer):
    """Refused at once, or accepted and never answered: given up on after the time limit,
    nothing installed, today's message."""
    _index(tmp_path / "pypi", CUDA_TORCH)
    pypi, _ = serve(tmp_path / "pypi")
    monkeypatch.setenv("PIP_INDEX_URL", pypi)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections are accepted by the kernel, nothing ever replies
        port = silent.getsockname()[1] if answer == "silent" else _closed_port()
        with pytest.raises(setup_venv.SetupError) as error:
            setup_venv.torch_plan(PYTHON, cpu_index=f"http://127.0.0.1:{port}/", timeout=1.5)
        started = time.monotonic()
        assert setup_venv.index_answers(f"http://127.0.0.1:{port}/", timeout=1.5)
        assert time.monotonic() - started < 3.0  # the time limit holds
    message = str(error.value)
    assert "CUDA build of torch==2.13.0" in message and "nvidia-cublas-cu13==13.1" in message
    assert f"127.0.0.1:{port}/ did not answer" in message
    assert "make book TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu" in message
