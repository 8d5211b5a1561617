"""Make ``book/images/similarity_report.png``, the picture of the similarity report.

The book is for students too, so the picture shows no answer of a graded notebook: it is
the report on a made-up exercise, ``00_demo`` (a moving average and a running maximum),
for a class of six: four honest solutions in different styles and two disguised copies
of them. The class is built in a throw-away course, ``python -m autograder similarity``
runs on it, and Debian's Chromium, headless, through Playwright, photographs the report
down to its second flagged pair.

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
DEMO = "00_demo"
STUBS = {
    "demo-answer-moving_average": (
        "def moving_average(x, k):",
        "Mean of every window of k consecutive values of the 1-D array x.",
    ),
    "demo-answer-running_max": (
        "def running_max(x):",
        "The largest value so far, at every position of the 1-D array x.",
    ),
}
ANSWERS = {  # student -> (moving_average body, running_max body)
    "amara": (
        """
    means = []
    for start in range(len(x) - k + 1):
        total = 0.0
        for offset in range(k):
            total += x[start + offset]
        means.append(total / k)
    return np.array(means)""",
        """
    best = np.empty(len(x))
    current = -np.inf
    for i in range(len(x)):
        if x[i] > current:
            current = x[i]
        best[i] = current
    return best""",
    ),
    "ben": (
        """
    sums = np.cumsum(np.concatenate([[0.0], x]))
    return (sums[k:] - sums[:-k]) / k""",
        """
    return np.maximum.accumulate(x)""",
    ),
    "chen": (
        """
    # a convolution with a box of width k
    return np.convolve(x, np.ones(k) / k, mode="valid")""",
        """
    out = x.astype(float)
    for i in range(1, len(out)):
        out[i] = max(out[i], out[i - 1])
    return out""",
    ),
    "dana": (
        """
    windows = np.lib.stride_tricks.sliding_window_view(x, k)
    return windows.mean(axis=1)""",
        """
    return np.array([x[: i + 1].max() for i in range(len(x))])""",
    ),
    "eli": (  # amara's, renamed, reformatted, recommented
        """
    res = []   # one mean per window
    for s in range(len(x)-k+1):
        acc = 0.0
        for j in range(k):
            acc += x[s+j]
        res.append(acc/k)
    return np.array(res)""",
        """
    m = -np.inf
    out = np.empty(len(x))
    for n in range(len(x)):
        if x[n] > m:
            m = x[n]
        out[n] = m  # keep the best so far
    return out""",
    ),
    "farid": (  # chen's, disguised the same way
        """
    box = np.ones(k) / k   # averaging kernel
    return np.convolve(x, box, mode="valid")""",
        """
    y = x.astype(float)
    for t in range(1, len(y)):
        y[t] = max(y[t],
                   y[t - 1])
    return y""",
    ),
}


def _stub(gid: str) -> str:
    head, doc = STUBS[gid]
    return f'{head}\n    """{doc}"""\n    # YOUR CODE HERE\n    raise NotImplementedError()'


def _released():
    def cell(source, **meta):
        c = nbformat.v4.new_code_cell(source)
        c.metadata["nbgrader"] = {
            "schema_version": 3,
            "solution": False,
            "grade": False,
            "locked": False,
            **meta,
        }
        return c

    cells = [cell("import numpy as np", grade_id="demo-setup", locked=True)]
    for gid in STUBS:
        name = gid.rsplit("-", 1)[1]
        cells.append(cell(_stub(gid), grade_id=gid, solution=True))
        test = f'"""{name} on a few arrays."""\nassert {name}(np.arange(3.0)) is not None'
        cells.append(cell(test, grade_id=f"demo-{name}", grade=True, locked=True, points=1))
    return nbformat.v4.new_notebook(cells=cells)


def make_class(root: Path) -> None:
    (root / "exercises" / DEMO).mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    released = _released()
    nbformat.write(released, root / "exercises" / DEMO / "demo.ipynb")
    for student, bodies in ANSWERS.items():
        nb = nbformat.from_dict(released)
        for c, body in zip(
            [c for c in nb.cells if c.metadata["nbgrader"]["solution"]], bodies, strict=True
        ):
            head, doc = STUBS[c.metadata["nbgrader"]["grade_id"]]
            c.source = f'{head}\n    """{doc}"""' + body
        folder = root / "submitted" / student / DEMO
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "demo.ipynb")


def screenshot(page_path: Path, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tools import chromium

    executable = chromium.executable()
    if executable is None:
        sys.exit("Chromium is needed: apt-get install chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=chromium.ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route(
            "**/*",
            lambda route: (
                route.abort() if not route.request.url.startswith("file://") else route.continue_()
            ),
        )
        page.goto(page_path.as_uri())
        top = page.locator("h1").bounding_box()["y"] - 16
        bottom = page.evaluate("document.documentElement.scrollHeight")
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(out),
            full_page=True,
            clip={"x": 0, "y": top, "width": 1280, "height": min(bottom - top, 1500)},
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
        similarity.run(root, DEMO, out=sys.stdout)
        screenshot(root / "similarity.html", OUT)
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
