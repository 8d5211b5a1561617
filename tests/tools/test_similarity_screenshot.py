"""tools/similarity_screenshot.py photographs a report page in Chromium (the picture in the
instructors' chapter): from its first heading down, 1280 pixels wide, in 64 colours.

It runs in a process of its own, as the tool does (``python -m tools.similarity_screenshot``):
Playwright's synchronous API refuses to start inside the event loop that the browser
tests' session keeps running in this one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[2]


def test_the_screenshot_starts_at_the_first_heading(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(
        "<!doctype html><body style='margin:0'><div style='height:300px'>above</div>"
        "<h1>Similarity report</h1>" + "<p>a flagged pair</p>" * 40 + "</body>"
    )
    out = tmp_path / "shot.png"
    code = (
        "import sys; from pathlib import Path; from tools.similarity_screenshot import screenshot; "
        "screenshot(Path(sys.argv[1]), Path(sys.argv[2]))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, str(page), str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    with Image.open(out) as image:
        assert image.mode == "P" and len(image.getpalette()) // 3 <= 64
        assert image.width == 1280
        # The clip starts 16 px above the heading, which is 300 px down the page.
        top_rows = image.convert("L").crop((0, 0, 1280, 12))
        assert top_rows.getextrema() == (255, 255)  # white: "above" is not in the picture
