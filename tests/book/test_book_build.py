"""The book's configuration and the built site: strict, offline, nothing from solutions/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tools import build_book

ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def toc_files() -> list[str]:
    return [TOC["root"]] + [c["file"] for part in TOC["parts"] for c in part["chapters"]]


def test_every_toc_entry_exists():
    for name in toc_files():
        assert (ROOT / "book" / f"{name}.md").exists(), f"_toc.yml names book/{name}.md"


def test_chapters_are_myst_notebooks():
    """Chapters 1 and 2 (and every chapter with code) are jupytext MyST notebooks."""
    for name in toc_files():
        text = (ROOT / "book" / f"{name}.md").read_text()
        if "```{code-cell}" in text:
            assert text.startswith("---\njupytext:"), (
                f"book/{name}.md has code but no jupytext header"
            )
    for name in ("01_why_upsample", "02_unpooling"):
        assert "```{code-cell}" in (ROOT / "book" / f"{name}.md").read_text()


def test_execution_is_cached_and_strict():
    execute = CONFIG["execute"]
    assert execute["execute_notebooks"] == "cache"
    assert execute["allow_errors"] is False
    assert CONFIG["sphinx"]["config"]["nb_execution_raise_on_error"] is True
    assert CONFIG["only_build_toc_files"] is True
    assert "**/solutions/**" in CONFIG["exclude_patterns"]
    assert "**/autograder/**" in CONFIG["exclude_patterns"]


def test_javascript_is_served_locally():
    sphinx = CONFIG["sphinx"]["config"]
    for path, attributes in sphinx["nb_ipywidgets_js"].items():
        assert "://" not in path
        assert all("://" not in str(value) for value in attributes.values())
    assert list(sphinx["nb_ipywidgets_js"])[0].endswith("require_config.js")  # before require.js
    assert "://" not in sphinx["mathjax_path"]
    assert "sphinx_thebe" not in sphinx["extensions"]  # it would point at a CDN


def test_npm_packages_are_pinned_and_locked():
    package = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name} is not pinned: {version}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert lock["packages"][""]["dependencies"] == package["dependencies"]


def test_vendor_files_come_from_pinned_packages(site):  # the build installs node_modules
    files = build_book.vendor_files()
    names = {path.as_posix() for path in files}
    assert {
        "require.js",
        "embed-amd.js",
        "anywidget.js",
        "require_config.js",
        "mathjax/tex-chtml.js",
    } <= names
    for source in files.values():
        assert (
            "node_modules" in source.parts
            or "site-packages" in source.parts
            or (source.is_relative_to(ROOT / "upsampling"))
        ), source


def test_site_serves_the_books_own_static_files(site):
    for src in (ROOT / "book" / "_static").rglob("*"):
        if src.is_file():
            served = site / "_static" / src.relative_to(ROOT / "book" / "_static")
            assert served.read_bytes() == src.read_bytes(), f"{served} is stale"


def test_an_edited_stylesheet_alone_is_copied_again(tmp_path):
    """Sphinx copies book/_static only when it writes a page; the build copies it too."""
    source, site = tmp_path / "book_static", tmp_path / "site"
    (source / "fonts").mkdir(parents=True)
    (source / "a.css").write_text("p { color: red }")
    (source / "fonts" / "b.css").write_text("b {}")
    assert build_book.copy_book_static(source, site) == 2
    assert build_book.copy_book_static(source, site) == 0
    (source / "a.css").write_text("p { color: blue }")  # the same size: compared by content
    assert build_book.copy_book_static(source, site) == 1
    assert (site / "_static" / "a.css").read_text() == "p { color: blue }"
    assert (site / "_static" / "fonts" / "b.css").read_text() == "b {}"


def test_forbidden_text_is_found(tmp_path):
    (tmp_path / "page.html").write_text("<p>ok</p>")
    assert build_book.forbidden_text_in_site(tmp_path) == []
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "nb.ipynb").write_text('{"source": "### BEGIN HIDDEN TESTS"}')
    assert build_book.forbidden_text_in_site(tmp_path) == ["sub/nb.ipynb: 'BEGIN HIDDEN TESTS'"]


def test_package_fingerprint_is_stable():
    assert build_book.package_fingerprint() == build_book.package_fingerprint()
    assert re.fullmatch(r"[0-9a-f]{16}", build_book.package_fingerprint())


# --- the built site ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Path:
    try:
        return build_book.ensure_built()
    except build_book.BuildError as exc:
        pytest.fail(str(exc), pytrace=False)


def test_site_has_every_page(site):
    for name in toc_files():
        assert (site / f"{name}.html").is_file()
    assert (site / "index.html").is_file() and (site / "search.html").is_file()
    assert (site / "searchindex.js").read_text().count("align_corners") >= 1


def test_no_solution_or_hidden_test_text_reached_the_site(site):
    assert build_book.forbidden_text_in_site(site) == []
    assert not list(site.rglob("solutions")) and not list(site.rglob("autograder"))


def test_no_page_loads_anything_from_another_host(site):
    pattern = re.compile(
        r'<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)="(https?:)?//', re.I
    )
    offenders = [
        f"{page.relative_to(site)}: {match.group(0)}"
        for page in site.rglob("*.html")
        for match in pattern.finditer(page.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_widget_pages_load_the_local_widget_javascript(site):
    html = (site / "01_why_upsample.html").read_text(encoding="utf-8")
    order = [
        html.index(f"_static/offline/{name}")
        for name in ("require_config.js", "require.js", "embed-amd.js")
    ]
    assert order == sorted(order)
    assert "application/vnd.jupyter.widget-state+json" in html
    for name in ("require.js", "embed-amd.js", "anywidget.js", "mathjax/tex-chtml.js"):
        assert (site / "_static" / "offline" / name).is_file()


def test_chapter_notebooks_are_downloadable(site):
    """Each chapter with code offers its notebook with what the page shows: an output for
    every cell whose output the page shows, and the widget state of its demos (also when
    the chapter came from the execution cache: tests/book/test_downloadable_notebooks.py)."""
    chapters = [
        n for n in toc_files() if "```{code-cell}" in (ROOT / "book" / f"{n}.md").read_text()
    ]
    assert {"01_why_upsample", "02_unpooling"} <= set(chapters)
    for name in chapters:
        notebook = json.loads((site / "_sources" / f"{name}.ipynb").read_text())
        page = (site / f"{name}.html").read_text(encoding="utf-8")
        shown = sum(bool(c.get("outputs")) for c in notebook["cells"] if c["cell_type"] == "code")
        assert shown == page.count('class="cell_output'), name
        has_widgets = "application/vnd.jupyter.widget-state+json" in page
        assert ("widgets" in notebook["metadata"]) == has_widgets, name
    assert (
        "widgets" in json.loads((site / "_sources" / "02_unpooling.ipynb").read_text())["metadata"]
    )


def test_figures_are_drawn_not_printed(site):
    """A static figure shows as an image: never as its text repr ("<Figure size ...>")."""
    printed = [
        page.name
        for page in site.glob("*.html")
        if "&lt;Figure size" in page.read_text(encoding="utf-8")
    ]
    assert printed == []


def _code_cells(text: str):
    """(header, code) of each ``{code-cell}`` of a MyST notebook's text."""
    for match in re.finditer(r"```\{code-cell\}[^\n]*\n(.*?)\n```\n", text, re.S):
        body = match.group(1)
        if body.startswith("---\n"):  # a YAML block of cell options
            header, _, code = body[4:].partition("\n---\n")
        else:
            lines = body.split("\n")
            options = [line for line in lines if line.startswith(":")]
            header, code = "\n".join(options), "\n".join(lines[len(options) :])
        yield header, code


def _last_statement(code: str) -> str:
    """The first line of the cell's last top-level statement (what the cell displays)."""
    lines = [line for line in code.strip().split("\n") if line and not line.startswith("#")]
    starts = [line for line in lines if not line[0].isspace() and not line.startswith(")")]
    return starts[-1] if starts else ""


def test_demo_and_figure_cells_hide_their_code():
    """A cell whose result is a demo or a figure is tagged hide-input: the page shows the
    figure, and the code stays one click away."""
    shown = []
    for name in toc_files():
        text = (ROOT / "book" / f"{name}.md").read_text()
        for header, code in _code_cells(text):
            last = _last_statement(code)
            draws = (
                last.startswith(("frame_demo(", "figure_of(", "fig"))
                or last.endswith(".figure")
                or re.match(r"[A-Z]\w*Demo\(", last) is not None  # a live demo
            )
            if draws and "hide-input" not in header:
                shown.append(f"{name}: {last}")
    assert shown == []


def test_every_figure_has_alt_text(site):
    """Every image a chapter shows has a description as alt text, not its file name."""
    missing = []
    for name in toc_files():
        html = (site / f"{name}.html").read_text(encoding="utf-8")
        for tag in re.findall(r'<img[^>]*src="_images/[^"]*"[^>]*>', html):
            alt = re.search(r'alt="([^"]*)"', tag)
            if alt is None or alt.group(1).startswith("_images/") or len(alt.group(1)) < 30:
                missing.append(f"{name}: {tag[:80]}")
    assert missing == []
