"""The built book in a real browser, offline: every page clean, every demo interactive.

For every page of the table of contents: no request leaves 127.0.0.1, the console shows
no error, every embedded demo renders, and moving each of a figure demo's controls
changes the figure it displays (the image is compared pixel for pixel before and after;
the live demos, which compute in the page, are tested in test_live_demos.py). Page
weight and the time a demo takes to respond are measured and written to
``test-artifacts/browser/metrics.json``; screenshots are kept beside it.
"""

from __future__ import annotations

import re
import time

import pytest
from conftest import ROOT, toc_pages, wait_for_demos

PAGES = toc_pages()
CHAPTERS = [name for name in PAGES if re.match(r"\d\d_", name)]
PAGE_BUDGET = 1.5 * 1024 * 1024  # bytes: HTML (with widget state) plus the page's images


@pytest.mark.parametrize("name", PAGES)
def test_page_is_offline_and_clean(name, open_page, artifacts):
    """No request leaves the machine, no console error, every demo renders."""
    page, log = open_page(name)
    demos = wait_for_demos(page)
    page.screenshot(path=str(artifacts / f"{name[:-5]}.png"), full_page=True)
    assert page.locator(".upsampling-demo").count() == demos
    # Figure demos show an image; live demos (tests/book/browser/test_live_demos.py) compute.
    frames = page.locator(".upsampling-demo[data-demo-kind=frames]")
    for i in range(frames.count()):
        loaded = (
            frames.nth(i)
            .locator("img.upsampling-demo-frame")
            .evaluate("img => img.complete && img.naturalWidth > 0")
        )
        assert loaded, f"figure demo {i} of {name} shows no image"
    assert log.problems() == []


@pytest.mark.parametrize("name", CHAPTERS)
def test_every_chapter_has_two_demos(name, site):
    html = (site / name).read_text(encoding="utf-8")
    views = html.count('type="application/vnd.jupyter.widget-view+json"')
    assert views >= 2, f"{name} embeds {views} demo(s); every chapter needs at least two"


def _change(page, row):
    """Moves one control to another value; returns a description, or None if it cannot."""
    kind = row.get_attribute("data-kind")
    if kind == "slider":
        slider = row.locator("input[type=range]")
        value, top = int(slider.input_value()), int(slider.get_attribute("max"))
        if top == 0:
            return None
        slider.focus()
        key = "ArrowRight" if value < top else "ArrowLeft"
        page.keyboard.press(key)
        return f"slider {key}"
    if kind == "buttons":
        buttons = row.locator('button[aria-checked="false"]')
        if buttons.count() == 0:
            return None
        buttons.first.click()
        return "button"
    select = row.locator("select")
    options = select.locator("option").count()
    if options < 2:
        return None
    current = int(select.input_value())
    select.select_option(index=(current + 1) % options)
    return "dropdown"


@pytest.mark.parametrize("name", PAGES)
def test_every_control_changes_the_figure(name, open_page, artifacts, metrics):
    """Each control of each figure demo, moved once, changes the displayed image (live
    demos: tests/book/browser/test_live_demos.py)."""
    page, log = open_page(name)
    record = metrics["pages"].setdefault(name, {})
    record["demos"] = wait_for_demos(page)
    responses = record.setdefault("response_ms", [])
    round_trips = record.setdefault("round_trip_ms", [])
    frame_demos = page.locator(".upsampling-demo[data-demo-kind=frames]")
    for i in range(frame_demos.count()):
        demo = frame_demos.nth(i)
        demo.scroll_into_view_if_needed()
        image = demo.locator("img.upsampling-demo-frame")
        rows = demo.locator(".upsampling-demo-control")
        assert rows.count() >= 1, f"demo {i} of {name} has no control"
        for r in range(rows.count()):
            row = rows.nth(r)
            control = row.get_attribute("data-control")
            before_frame = demo.get_attribute("data-frame-index")
            before = image.screenshot()
            start = time.perf_counter()
            how = _change(page, row)
            assert how, f"control {control!r} of demo {i} on {name} offers a single value"
            page.wait_for_function(
                "([el, old]) => el.dataset.frameIndex !== old"
                " && el.dataset.responseMs !== undefined",
                arg=[demo.element_handle(), before_frame],
                timeout=5_000,
            )
            round_trips.append(round((time.perf_counter() - start) * 1000, 1))
            responses.append(float(demo.get_attribute("data-response-ms")))
            after = image.screenshot()
            assert after != before, (
                f"moving {control!r} ({how}) of demo {i} on {name} changed nothing"
            )
        demo.screenshot(path=str(artifacts / f"{name[:-5]}-demo{i}-after.png"))
    assert log.problems() == []


@pytest.mark.parametrize("name", PAGES)
def test_page_weight(name, site, metrics):
    """HTML (widget state included) plus the page's own images stays within 1.5 MB."""
    html_path = site / name
    html = html_path.read_text(encoding="utf-8")
    images = set(re.findall(r'<img[^>]+src="(_images/[^"]+)"', html))
    weight = html_path.stat().st_size + sum((site / src).stat().st_size for src in images)
    record = metrics["pages"].setdefault(name, {})
    record["weight_bytes"] = weight
    record["html_bytes"] = html_path.stat().st_size
    assert weight <= PAGE_BUDGET, f"{name} weighs {weight / 1e6:.2f} MB"


def test_dark_mode_switch_and_demos(open_page, artifacts):
    page, log = open_page("02_unpooling.html")
    wait_for_demos(page)
    for _ in range(3):
        if page.evaluate("document.documentElement.dataset.theme") == "dark":
            break
        page.locator("button.theme-switch-button").first.click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.screenshot(path=str(artifacts / "02_unpooling-dark.png"))
    assert log.problems() == []


def test_search_finds_chapters(open_page):
    page, log = open_page("search.html?q=align_corners")
    page.wait_for_selector("#search-results ul.search li", timeout=15_000)
    links = page.locator("#search-results ul.search li a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert any(link.startswith("02_unpooling.html") for link in links), links
    assert log.problems() == []


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_notebook_is_downloadable(name, open_page, server):
    import urllib.request

    page, _ = open_page(name)
    stem = name[:-5]
    link = page.locator(f'a[href$="_sources/{stem}.ipynb"]')
    assert link.count() >= 1, f"{name} offers no .ipynb download"
    with urllib.request.urlopen(f"{server}/_sources/{stem}.ipynb") as response:  # noqa: S310
        notebook = response.read()
    assert b'"cells"' in notebook


def test_exercise_links_resolve(site):
    """Every link to a graded notebook points to a file of the site (copied from exercises/)."""
    links = set()
    for name in PAGES:
        links |= set(
            re.findall(r'href="(exercises/[^"]+)"', (site / name).read_text(encoding="utf-8"))
        )
    assert links, "no page links a graded notebook"
    missing = sorted(link for link in links if not (site / link).is_file())
    assert not missing, f"links to missing notebooks: {missing} (exercises/ in {ROOT})"
