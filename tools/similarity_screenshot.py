"""Make ``book/images/similarity_report.png``, the picture of the similarity report.

Builds a throw-away class of seven on ``03_transposed_conv``: five honest notebooks in
different styles and two disguised copies (``tests/autograder_fixtures/honest_solutions.py``),
runs ``python -m autograder similarity`` on it and photographs the report's first flagged
pair in Debian's Chromium, headless, through Playwright.

    .venv/bin/python -m tools.similarity_screenshot
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "book" / "images" / "similarity_report.png"
CLASS = {  # student -> style; the last two copied a classmate
    "amara": "loops",
    "ben": "tensordot",
    "chen": "einsum",
    "dana": "zero_insertion",
    "eli": "matrix_view",
    "farid": "copy_of_loops",
    "gwen": "copy_of_einsum",
}


def make_class(root: Path) -> None:
    from tests.autograder_fixtures import honest_solutions as hs
    from tests.autograder_fixtures.course import make_submission

    root.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    for folder in ("exercises", "solutions"):
        shutil.copytree(ROOT / folder / hs.A, root / folder / hs.A)
    (released_path,) = (ROOT / "exercises" / hs.A).glob("*.ipynb")
    released = nbformat.read(released_path, as_version=4)
    styles = dict(hs.STYLES, copy_of_loops=hs.COPY_OF_LOOPS, copy_of_einsum=hs.COPY_OF_EINSUM)
    for student, style in CLASS.items():
        make_submission(root, hs.A, student, answers=hs.answers(styles[style], released))


def screenshot(page_path: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        sys.exit("Chromium is needed: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route(
            "**/*",
            lambda route: (
                route.abort() if not route.request.url.startswith("file://") else route.continue_()
            ),
        )
        page.goto(page_path.as_uri())
        top = page.locator("h1").bounding_box()["y"] - 16
        second = page.locator("h2").nth(1).bounding_box()["y"]
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(out),
            full_page=True,
            clip={"x": 0, "y": top, "width": 1280, "height": min(second - top, 1500)},
        )
        browser.close()
    from PIL import Image

    with Image.open(out) as image:  # a 64-colour palette: a third of the bytes, same look
        image.convert("RGB").quantize(colors=64).save(out, optimize=True)


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from autograder import similarity

    with tempfile.TemporaryDirectory(prefix="similarity-shot-") as tmp:
        root = Path(tmp) / "course"
        make_class(root)
        similarity.run(root, "03_transposed_conv", out=sys.stdout)
        screenshot(root / "similarity.html", OUT)
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
