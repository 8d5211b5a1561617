"""The reference pages (API, glossary, bibliography) in a real browser, offline.

The pages themselves go through every check of test_book_pages.py (they are in the
table of contents); here: they render what they are for (the API reference's formulas
typeset by the local MathJax, its examples as code, the glossary's terms, the
bibliography's entries), and every link on every page of the book that stays inside the
site resolves: the file exists and so does the anchor it points to.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from conftest import toc_pages, wait_for_demos

REFERENCE_PAGES = ["api.html", "glossary.html", "references.html"]


def _ids(path: Path, cache: dict[Path, set[str]]) -> set[str]:
    if path not in cache:
        cache[path] = set(re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf-8")))
    return cache[path]


def test_reference_pages_are_in_the_book():
    assert set(REFERENCE_PAGES) <= set(toc_pages())


def test_api_reference_renders_math_and_code(open_page):
    page, log = open_page("api.html")
    wait_for_demos(page)
    entries = page.locator("dl.py.function > dt")
    assert entries.count() >= 13
    formulas = page.locator("div.math mjx-container")
    assert formulas.count() >= 6, "the shape formulas are not typeset"
    assert page.locator("div.highlight-pycon pre, div.doctest pre").count() >= 10
    assert log.problems() == []


def test_glossary_and_bibliography_render(open_page):
    page, log = open_page("glossary.html")
    wait_for_demos(page)
    assert page.locator("dl.glossary > dt").count() >= 30
    page, log_refs = open_page("references.html")
    entries = page.locator("div.citation")
    assert entries.count() >= 10
    assert entries.locator('a[href^="https://doi.org/"]').count() >= 5
    assert entries.locator('a[href^="https://arxiv.org/abs/"]').count() >= 10
    assert log.problems() == [] and log_refs.problems() == []


@pytest.mark.parametrize("name", toc_pages())
def test_links_inside_the_site_resolve(name, open_page, site):
    """Every <a href> that stays on the site points to an existing page and anchor."""
    page, log = open_page(name)
    base = page.url
    hrefs = page.locator("a[href]").evaluate_all(
        "links => links.map(a => [a.getAttribute('href'), a.href])"
    )
    cache: dict[Path, set[str]] = {}
    broken = []
    for raw, absolute in hrefs:
        url = urlparse(absolute)
        if url.scheme not in ("http", "https") or url.hostname != urlparse(base).hostname:
            continue
        target = site / unquote(url.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            broken.append(f"{raw}: no file {target.relative_to(site)}")
        elif url.fragment and target.suffix == ".html":
            if unquote(url.fragment) not in _ids(target, cache):
                broken.append(f"{raw}: no anchor #{url.fragment} in {target.name}")
    assert broken == [], f"{name}: broken links\n  " + "\n  ".join(broken)
    assert log.problems() == []
