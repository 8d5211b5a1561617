"""Fixtures of the browser tests: the built book served on 127.0.0.1, and Chromium.

The book is built first (``tools.build_book``) when ``_build/html`` is missing or older
than its sources. Every page is opened in Debian's Chromium through Playwright with all
requests routed: anything not addressed to the local server is recorded and refused, so
a test sees exactly what a reader without internet would see. Screenshots and measured
figures (page weight, control response time) go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from tools import chromium

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = chromium.ARGS


def toc_pages() -> list[str]:
    """The book's pages, in table-of-contents order (root first), as HTML file names."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]]
    for part in toc.get("parts", []):
        names += [chapter["file"] for chapter in part["chapters"]]
    return [f"{name}.html" for name in names]


def chromium_path() -> str:
    path = chromium.executable()
    if path:
        return path
    pytest.fail(
        "Chromium is needed for the browser tests and was not found: run `make test` "
        "(tools/setup-system.sh installs it) or `apt-get install chromium`",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def site() -> Path:
    from tools import build_book

    try:
        return build_book.ensure_built()
    except build_book.BuildError as exc:
        pytest.fail(str(exc), pytrace=False)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


@pytest.fixture(scope="session")
def server(site):
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class PageLog:
    """What happened while a page was open."""

    external: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    bytes_by_url: dict[str, int] = field(default_factory=dict)

    def problems(self) -> list[str]:
        return (
            [f"request left 127.0.0.1: {url}" for url in self.external]
            + [f"console error: {text}" for text in self.console_errors]
            + [f"page error: {text}" for text in self.page_errors]
            + [f"HTTP error: {text}" for text in self.failed]
        )


@pytest.fixture
def open_page(browser, server):
    """``open_page(name, dark=False, init_script=None) -> (page, log)``: a fresh context
    per page; ``name`` may end with a ``#hash``; ``init_script`` runs in the page before
    its own scripts."""
    contexts = []

    def _open(name: str, dark: bool = False, init_script: str | None = None):
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, color_scheme="dark" if dark else "light"
        )
        contexts.append(context)
        if init_script:
            context.add_init_script(init_script)
        log = PageLog()

        def route(route):
            url = route.request.url
            host = urlparse(url).hostname
            if url.startswith("data:") or url.startswith("blob:") or host == "127.0.0.1":
                route.continue_()
            else:
                log.external.append(url)
                route.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and log.console_errors.append(m.text))
        page.on("pageerror", lambda e: log.page_errors.append(str(e)))

        def on_response(response):
            if response.status >= 400:
                log.failed.append(f"{response.status} {response.url}")

        page.on("response", on_response)
        page.on(
            "requestfinished",
            lambda r: log.bytes_by_url.__setitem__(
                r.url, (r.sizes() or {}).get("responseBodySize", 0)
            ),
        )
        page.goto(f"{server}/{name}", wait_until="load")
        return page, log

    yield _open
    for context in contexts:
        context.close()


# A JavaScript function: those of the rows given that are in sight. A refused setting veils
# a table's numbers (live.css, live-veiled: out of sight, their place kept), and a test
# reads a veiled table as showing none.
ROWS_IN_SIGHT = "(rows => [...rows].filter(r => getComputedStyle(r).visibility !== 'hidden'))"


def demo_count(page) -> int:
    """How many widgets the page embeds (one view script per displayed widget)."""
    return page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()


def wait_for_demos(page, timeout: float = 30_000) -> int:
    """Waits until every embedded widget is rendered and shows its first figure."""
    expected = demo_count(page)
    if expected:
        page.wait_for_function(
            "n => document.querySelectorAll('.upsampling-demo[data-response-ms]').length >= n",
            arg=expected,
            timeout=timeout,
        )
    page.wait_for_function(
        "() => !window.MathJax || !window.MathJax.startup || !window.MathJax.startup.promise"
        " || window.MathJax.startup.promise.then(() => true)",
        timeout=timeout,
    )
    return expected


@pytest.fixture(scope="session")
def metrics():
    """Figures measured by the tests; written to test-artifacts/browser/metrics.json."""
    data: dict = {"pages": {}}
    yield data
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "metrics.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
