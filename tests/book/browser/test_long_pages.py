"""The long-page stylesheet, book/_static/long_pages.css, in Chromium.

It lets the browser skip the rendering of a chapter's blocks out of view (so that a
demo's redraw does not pay for the whole chapter). Two things must hold on every
chapter: it works (a block far below the first screen is skipped), and it changes
nothing a reader sees (once every block has been on screen, every paragraph, heading,
cell and demo is exactly where it is without the stylesheet).
"""

from __future__ import annotations

import re

import pytest
from conftest import toc_pages, wait_for_demos

CHAPTERS = [name for name in toc_pages() if re.match(r"\d\d_", name)]

BLOCKS = (
    ".bd-article p, .bd-article h1, .bd-article h2, .bd-article h3, .bd-article .cell,"
    " .bd-article pre, .bd-article [data-demo], .bd-article figure, .bd-article table,"
    " .bd-article .admonition, .bd-article .math"
)

# Scrolls through the page, a screen at a time, waiting for a frame at each: every block
# is then laid out once (a skipped block keeps the size it had on screen). Returns the
# page's height and every block's top, from the page's top.
POSITIONS = """async (blocks) => {
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
  for (let y = 0; y < document.documentElement.scrollHeight; y += innerHeight / 2) {
    scrollTo(0, y);
    await frame();
  }
  scrollTo(0, 0);
  await frame();
  return [document.documentElement.scrollHeight,
          ...[...document.querySelectorAll(blocks)].map((e) => e.getBoundingClientRect().top)];
}"""

# The elements inside blocks whose rendering the browser skips now because they are out
# of view (not those hidden otherwise, as in a closed "Show code" box).
SKIPPED = """() => [
  ...document.querySelectorAll('.bd-article section > p *, .bd-article .cell pre *'),
].filter((e) => e.checkVisibility() && !e.checkVisibility({ contentVisibilityAuto: true }))
  .length"""

DISABLE = """() => {
  const ours = /[/]long_pages[.]css([?]|$)/;
  const sheets = [...document.styleSheets].filter((s) => ours.test(s.href || ''));
  sheets.forEach((s) => (s.disabled = true));
  return sheets.length;
}"""


@pytest.mark.parametrize("name", CHAPTERS)
def test_blocks_out_of_view_are_skipped_and_nothing_moves(name, open_page):
    page, log = open_page(name)
    wait_for_demos(page)
    assert page.evaluate(SKIPPED) > 0, "no block out of view is skipped: is long_pages.css loaded?"
    shown = page.evaluate(POSITIONS, BLOCKS)
    assert page.evaluate(DISABLE) == 1
    assert page.evaluate(SKIPPED) == 0
    plain = page.evaluate(POSITIONS, BLOCKS)
    assert len(shown) == len(plain) > 50
    moved = [
        (i, a, b) for i, (a, b) in enumerate(zip(shown, plain, strict=True)) if abs(a - b) > 0.5
    ]
    assert moved == [], f"{len(moved)} block(s) of {name} move with long_pages.css: {moved[:5]}"
    assert log.problems() == []
