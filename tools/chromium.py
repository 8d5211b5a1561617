"""Debian's Chromium as every browser run of the project starts it (the browser tests,
benchmarks/demo_redraw.py, tools/similarity_screenshot.py): headless through Playwright,
without the sandbox (which needs a setuid helper or user namespaces), the GPU or any
traffic of its own (updates, sync, first-run pages)."""

from __future__ import annotations

import shutil

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def executable() -> str | None:
    """The Chromium on PATH (Debian's ``chromium``, or ``chromium-browser``), or None."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return None
