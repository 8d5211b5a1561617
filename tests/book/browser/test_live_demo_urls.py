"""The live demos' settings in the URL (upsampling/widgets/settings_hash.js), in Chromium.

In the static book each demo writes the settings that differ from the page's to its own
part of the URL's hash (``#scatter-add:stride=2,3;padding=1&shape-explorer:...``) and
reads them back when the page opens, so that a shared link shows what its sender saw:
a page opened with a hash shows those values and the package's numbers for them; a
change rewrites the demo's part and keeps the others; reset removes it; anything invalid
in the hash is ignored without a console error. Inside a Jupyter application the URL is
the application's: the demos neither read nor write it.
"""

from __future__ import annotations

from urllib.parse import urlparse

import numpy as np
from conftest import wait_for_demos
from test_live_demos import (
    CH3,
    _conv_transpose,
    control,
    live_demos,
    set_pair,
    set_value,
    shown,
    tables,
)

import upsampling

CH4 = "04_checkerboard.html"


def _demos(page) -> dict:
    return {demo.get_attribute("data-demo"): demo for demo in live_demos(page)}


def _hash(page) -> str:
    return page.evaluate("location.hash")


def _wait_for_hash(page, predicate_js: str) -> str:
    page.wait_for_function(f"() => {{ const h = location.hash; return {predicate_js}; }}")
    return _hash(page)


def _link(page) -> str:
    """The page's address as open_page takes it: the file name and the hash."""
    url = urlparse(page.url)
    return f"{url.path.rsplit('/', 1)[-1]}#{url.fragment}"


def _pair(demo, name):
    return tuple(int(control(demo, name, axis).input_value()) for axis in ("height", "width"))


def test_a_link_opens_the_demos_at_its_settings(open_page):
    """Two demos' parts in one hash, beside a section anchor: each demo opens at its own
    settings, its tables the package's numbers for them."""
    link = (
        "#scatter-add:input=1,2/3,-4/0.5,6;stride=2,3;padding=1,0;output_padding=1,0;step=6"
        "&intro&shape-explorer:input_size=5;kernel_size=4;stride=3"
    )
    page, log = open_page(CH3 + link)
    wait_for_demos(page)
    demos = _demos(page)
    scatter = demos["scatter-add"]
    assert _pair(scatter, "input_size") == (3, 2)
    assert _pair(scatter, "stride") == (2, 3)
    assert _pair(scatter, "padding") == (1, 0)
    assert control(scatter, "step").input_value() == "6"  # all copies placed
    shown_ = tables(scatter)
    x = np.array([[1, 2], [3, -4], [0.5, 6]], dtype=float)
    np.testing.assert_array_equal(shown_["input"], x)
    w = shown_["weight"]  # the chapter's kernel, untouched by the link
    np.testing.assert_array_equal(w, [[4, 2, 1], [1, 0, 3], [0, 5, 2]])
    expected = _conv_transpose(x, w, stride=(2, 3), padding=(1, 0), output_padding=(1, 0))
    np.testing.assert_allclose(shown_["output"], expected, rtol=1e-12)

    explorer = demos["shape-explorer"]
    values = {k: int(control(explorer, k).input_value()) for k in ("input_size", "kernel_size")}
    assert values == {"input_size": 5, "kernel_size": 4}
    assert control(explorer, "stride").input_value() == "3"
    size = upsampling.conv_transpose_output_size(5, 4, stride=3, padding=1)  # chapter's padding
    assert tables(explorer)["output"].shape == (1, size)
    # The conv-matrix demo, not in the link, opened at the chapter's settings.
    assert "conv-matrix:" not in _hash(page)
    assert log.problems() == []


def test_changes_are_written_to_the_hash_and_reset_removes_them(open_page):
    page, log = open_page(CH3 + "#intro")
    wait_for_demos(page)
    demos = _demos(page)
    scatter, matrix = demos["scatter-add"], demos["conv-matrix"]
    set_pair(scatter, "stride", (3, 1))
    h = _wait_for_hash(page, "h.includes('scatter-add:')")
    assert h == "#intro&scatter-add:stride=3,1", h
    set_value(matrix, "stride", 1, "width")
    h = _wait_for_hash(page, "h.includes('conv-matrix:')")
    assert h == "#intro&scatter-add:stride=3,1&conv-matrix:stride=2,1", h
    # An edited cell is part of what the reader sees: the grid goes into the link.
    scatter.locator('table[data-array="input"] [contenteditable]').first.fill("-7")
    h = _wait_for_hash(page, "h.includes('input=')")
    assert "scatter-add:input=-7,0/4,1;stride=3,1" in h, h

    scatter.get_by_role("button", name="Reset").click()
    h = _wait_for_hash(page, "!h.includes('scatter-add')")
    assert h == "#intro&conv-matrix:stride=2,1", h

    # The link as it stands now opens the page as it is shown now.
    opened = shown(matrix)
    again, log_again = open_page(_link(page))
    wait_for_demos(again)
    assert shown(_demos(again)["conv-matrix"]) == opened
    assert log.problems() == [] and log_again.problems() == []


def test_a_shared_link_round_trips_the_overlap_demo(open_page):
    """Chapter 4's overlap demo (levels, a preset, a kernel typed by hand): the link the
    page writes opens the same numbers."""
    page, log = open_page(CH4)
    wait_for_demos(page)
    overlap = _demos(page)["overlap"]
    set_value(overlap, "layers", 2)
    overlap.get_by_role("button", name="tent").click()
    overlap.locator('table[data-array="weight"] [contenteditable]').nth(1).fill("0.75")
    _wait_for_hash(page, "h.includes('overlap:') && h.includes('preset=typed')")
    before = shown(overlap)
    again, log_again = open_page(_link(page))
    wait_for_demos(again)
    assert shown(_demos(again)["overlap"]) == before
    assert log.problems() == [] and log_again.problems() == []


def test_a_garbage_hash_is_ignored_without_an_error(open_page):
    """Values of the wrong type or shape, out of range or inconsistent, unknown keys and
    malformed escapes are dropped; what is valid is kept; no console error."""
    plain, _ = open_page(CH3)
    wait_for_demos(plain)
    expected = {name: shown(demo) for name, demo in _demos(plain).items()}
    garbage = (
        "#scatter-add:stride=9,9;padding=-1,0;input=1,2/3;step=abc;bogus=1;dilation=1,2,3"
        "&shape-explorer:kernel_size=1e400;stride=2.5;input_size=%zz"
        "&conv-matrix:weight=1,2/3,4;weight=5;stride;=3;input_size=7,7"
        "&&::&scatter-add"
    )
    page, log = open_page(CH3 + garbage)
    wait_for_demos(page)
    got = {name: shown(demo) for name, demo in _demos(page).items()}
    assert got == expected
    assert log.problems() == []

    # One valid setting among invalid ones is applied; padding's range depends on
    # stride and kernel, and the two are accepted together.
    # (padding 4 needs a kernel of 5 rows: the chapter's has 3.)
    page, log = open_page(CH3 + "#scatter-add:stride=9,1;padding=4,0;weight=1/2/3/4/5")
    wait_for_demos(page)
    scatter = _demos(page)["scatter-add"]
    assert _pair(scatter, "stride") == (2, 2)  # 9 is out of range: the chapter's 2 stays
    assert _pair(scatter, "kernel_size") == (5, 1)
    assert _pair(scatter, "padding") == (4, 0)
    assert log.problems() == []


JUPYTER_SHELL = """document.addEventListener('DOMContentLoaded', () => {
  const shell = document.createElement('div');
  shell.className = 'jp-LabShell';
  document.body.append(shell);
});"""


def test_inside_a_jupyter_application_the_url_is_left_alone(open_page):
    """With a JupyterLab shell on the page (as JupyterLab and Notebook 7 have), a demo
    neither reads its part of the hash nor writes one."""
    plain, _ = open_page(CH3)
    wait_for_demos(plain)
    opened = shown(_demos(plain)["scatter-add"])

    page, log = open_page(CH3 + "#scatter-add:stride=3,3", init_script=JUPYTER_SHELL)
    wait_for_demos(page)
    scatter = _demos(page)["scatter-add"]
    assert shown(scatter) == opened  # the hash was not read
    set_pair(scatter, "stride", (1, 4))
    page.wait_for_timeout(800)  # longer than the demos wait before writing the URL
    assert _hash(page) == "#scatter-add:stride=3,3"
    assert log.problems() == []


def _top(page, demo) -> float:
    return demo.evaluate("el => el.getBoundingClientRect().top")


def test_a_link_brings_its_demo_into_view_once(open_page):
    """Opened from a link, the page shows the demo the link set (the browser finds no
    element named by the hash and would stay at the chapter's top); opened plainly or
    reloaded, the reader's own position is kept."""
    plain, _ = open_page(CH4)
    wait_for_demos(plain)
    assert plain.evaluate("scrollY") == 0
    assert _top(plain, _demos(plain)["overlap"]) > 900  # below the first screen

    page, log = open_page(CH4 + "#overlap:layers=2")
    wait_for_demos(page)
    overlap = _demos(page)["overlap"]
    # At the top of the window, below the theme's fixed header (its scroll-padding-top).
    at_top = (
        "el => Math.abs(el.getBoundingClientRect().top"
        " - (parseFloat(getComputedStyle(document.documentElement).scrollPaddingTop) || 0)) < 2"
    )
    page.wait_for_function(at_top, arg=overlap.element_handle())
    assert control(overlap, "layers").input_value() == "2"

    # The reader scrolls away: the page no longer follows the demo.
    page.mouse.wheel(0, -400)
    page.wait_for_function(
        "el => el.getBoundingClientRect().top > 300", arg=overlap.element_handle()
    )
    page.wait_for_timeout(2500)  # past the two seconds the demo is followed
    assert _top(page, overlap) > 300

    page.evaluate("scrollTo(0, 0)")
    page.reload()
    wait_for_demos(page)
    page.wait_for_timeout(500)
    assert page.evaluate("scrollY") == 0
    assert log.problems() == []
