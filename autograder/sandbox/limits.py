"""What a sandboxed child may use: its resource limits, the packages mounted for it and
the modules graded code must not import."""

from __future__ import annotations

from dataclasses import asdict, dataclass

SANDBOX_PACKAGES = ("numpy",)  # the only third-party packages a child can import
FORBIDDEN_MODULES = ("torch", "upsampling", "tensorflow", "jax", "keras", "autograder")


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed child (all configurable from the command line)."""

    memory_mb: int = 1024
    cpu_seconds: int = 120
    file_size_mb: int = 16
    processes: int = 32
    open_files: int = 256
    tmp_size_mb: int = 64
    setup_timeout: float = 30.0
    test_timeout: float = 10.0
    output_mb: int = 64
    log_kb: int = 16

    def rlimits(self) -> dict:
        return {
            "as": self.memory_mb << 20,
            "cpu": self.cpu_seconds,
            "fsize": self.file_size_mb << 20,
            "nproc": self.processes,
            "nofile": self.open_files,
            "core": 0,
        }

    def to_json(self) -> dict:
        return asdict(self)
