"""The theme's icons with book/_static/font_awesome_config.js, in Chromium.

Font Awesome swaps the icons Sphinx writes into a page (``<i class="fa-...">``) for SVG
once the page has loaded, and is told not to watch the page after that (every change a
live demo makes would be a record for it to look through). On every page: each icon is
an SVG, none is left an empty ``<i>``; and an icon added after load stays as it was
added, which shows that nothing watches (without the script, Font Awesome
replaces it within a frame or two).
"""

from __future__ import annotations

import pytest
from conftest import toc_pages, wait_for_demos

# The theme's icons Font Awesome has drawn, and the <i> icons it has not (their classes).
ICONS = """() => [
  document.querySelectorAll('svg.svg-inline--fa').length,
  [...document.querySelectorAll('i')]
    .filter((i) => [...i.classList].some((c) => c.startsWith('fa-')))
    .map((i) => i.className),
]"""

# Adds an icon to the page, waits five frames, and says whether it is still the <i> added.
ADDED_LATER = """async () => {
  const icon = document.createElement('i');
  icon.className = 'fa-solid fa-xmark';
  document.querySelector('.bd-article').append(icon);
  for (let n = 0; n < 5; n++) {
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 20)));
  }
  const kept = icon.isConnected;
  icon.remove();
  return kept;
}"""


@pytest.mark.parametrize("name", toc_pages())
def test_icons_are_drawn_once_and_the_page_is_not_watched(name, open_page):
    page, log = open_page(name)
    wait_for_demos(page)
    page.wait_for_function(f"() => ({ICONS})()[1].length === 0", timeout=10_000)
    drawn, left = page.evaluate(ICONS)
    assert drawn >= 3 and left == []
    assert page.evaluate("window.FontAwesome.config.observeMutations") is False
    assert page.evaluate(ADDED_LATER) is True, "Font Awesome still watches the page"
    assert log.problems() == []
