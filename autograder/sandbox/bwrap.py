"""The bubblewrap (``bwrap``) command that starts a sandbox.

The child sees a read-only ``/usr``, the base interpreter's standard library (its
package folders masked), numpy, the folder :data:`INSIDE` (``harness.py`` and
``wire.py``) at ``/opt/grader``, a private size-limited ``/tmp`` and nothing else: no
course folder, no reference outputs, no gradebook, no network, its own PID namespace; it
dies with the grader.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from autograder.sandbox.processes import SandboxError

INSIDE = Path(__file__).with_name("inside")  # everything that runs in the sandbox
HARNESS = INSIDE / "harness.py"


def site_dirs(prefix: Path) -> list[Path]:
    """The package folders of the interpreter installed at ``prefix`` that exist on this
    machine (only those can be masked: bubblewrap cannot create a mount point inside the
    read-only system tree). Debian's own Python has ``dist-packages`` folders, pyenv's and
    python.org's a ``site-packages`` one."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    scheme = sysconfig.get_paths(vars={"base": str(prefix), "platbase": str(prefix)})
    found = [Path(scheme["purelib"]), Path(scheme["platlib"])]
    for lib in (prefix / "lib", prefix / "local" / "lib"):
        for name in (version, "python3"):
            found += [lib / name / "site-packages", lib / name / "dist-packages"]
    unique = []
    for path in found:
        if path.is_dir() and path not in unique and path.is_relative_to(prefix):
            unique.append(path)
    return unique


def package_dirs(names) -> list[tuple[str, str]]:
    """(host path, name) of each allowed package and its bundled ``<name>.libs``."""
    found = []
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise SandboxError(f"package {name!r} is needed in the sandbox but is not installed")
        path = Path(list(spec.submodule_search_locations)[0]).resolve()
        found.append((str(path), name))
        libs = path.with_name(f"{name}.libs")
        if libs.is_dir():
            found.append((str(libs), libs.name))
    return found


def child_env(home: str) -> dict:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": home,
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
    }


@dataclass(frozen=True)
class BwrapCommand:
    """How to start a sandbox with bubblewrap: ``bwrap`` is its path, ``root`` whether
    the grader runs as root (then no user namespace: the child drops to a slot uid),
    ``python`` the base interpreter (not the venv), ``packages`` the (host path, name)
    of each package mounted at ``/opt/site``."""

    bwrap: str
    root: bool
    tmp_size_mb: int
    python: Path
    base_prefix: Path
    packages: tuple
    seccomp: bytes | None = None  # the system-call filter (seccomp.compile_filter())

    def works(self) -> bool:
        try:
            out = subprocess.run(
                [self.bwrap, *self.namespaces(), "--ro-bind", "/", "/", "--", "/bin/true"],
                capture_output=True,
                timeout=20,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return out.returncode == 0

    def namespaces(self) -> list[str]:
        ns = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        ns += ["--unshare-cgroup-try", "--die-with-parent", "--new-session"]
        if not self.root:
            ns.insert(0, "--unshare-user")
        return ns

    def command(self, config: dict, seccomp_fd: int | None = None) -> list[str]:
        """The command that starts ``harness.py`` in a fresh sandbox with ``config``;
        ``seccomp_fd`` is an inherited descriptor to read the system-call filter from."""
        cmd = [self.bwrap, *self.namespaces(), "--hostname", "sandbox"]
        if seccomp_fd is not None:
            cmd += ["--seccomp", str(seccomp_fd)]
        cmd += ["--ro-bind", "/usr", "/usr"]
        for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            host = Path("/") / top
            if host.is_symlink():
                cmd += ["--symlink", os.readlink(host), str(host)]
            elif host.is_dir():
                cmd += ["--ro-bind", str(host), str(host)]
        for path in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime"):
            cmd += ["--ro-bind-try", path, path]
        cmd += ["--proc", "/proc", "--dev", "/dev", "--mqueue", "/dev/mqueue"]
        cmd += ["--perms", "1777", "--size", str(self.tmp_size_mb << 20), "--tmpfs", "/tmp"]
        cmd += ["--perms", "0755", "--dir", "/opt", "--perms", "0755", "--dir", "/opt/site"]
        # The base interpreter (not the venv), with every package folder masked. One that
        # lives outside /usr (pyenv, a home directory, /opt) is mounted read-only at its own
        # path: its binary finds its libpython through a RUNPATH that names that path.
        python = str(self.python)
        masks = site_dirs(self.base_prefix)
        if not self.base_prefix.is_relative_to("/usr"):
            for parent in reversed(self.base_prefix.parents[:-1]):  # traversable after the
                cmd += ["--perms", "0755", "--dir", str(parent)]  # drop to a sandbox uid
            cmd += ["--ro-bind", str(self.base_prefix), str(self.base_prefix)]
            masks += site_dirs(Path("/usr"))  # the system's own packages, also mounted
        for path in masks:
            cmd += ["--tmpfs", str(path)]
        for host, name in self.packages:
            cmd += ["--ro-bind", host, f"/opt/site/{name}"]
        cmd += ["--ro-bind", str(INSIDE), "/opt/grader"]  # harness.py and wire.py
        # Nothing but /tmp, /dev/shm and /dev/mqueue stays writable (in user-namespace
        # mode the folders bubblewrap makes belong to the user).
        cmd += ["--remount-ro", "/dev", "--remount-ro", "/"]
        if self.root:  # the zygote drops to the slot uid and kills its children
            cmd += ["--cap-add", "CAP_SETUID,CAP_SETGID,CAP_KILL"]
        cmd += ["--clearenv"]
        for key, value in child_env("/tmp").items():
            cmd += ["--setenv", key, value]
        cmd += ["--chdir", "/tmp", "--"]
        config = dict(config, site=["/opt/site"], pid_namespace=True)
        return [*cmd, python, "-I", "-S", "-B", "/opt/grader/harness.py", json.dumps(config)]
