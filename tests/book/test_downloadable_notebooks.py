"""A chapter's downloadable notebook (``_sources/<page>.ipynb``) holds the outputs and the
widget state the page shows, whether the chapter was executed in this build or served
from the execution cache (tools/build_book.py, ``restore_cached_outputs``)."""

from __future__ import annotations

import json
import time

import nbformat
import pytest
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn

from tools import build_book

WIDGETS = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2}}


def executed_page() -> nbformat.NotebookNode:
    """A small chapter as the kernel leaves it: two streams, a figure-like output, widgets."""
    nb = nbformat.v4.new_notebook(
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}}
    )
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A page"),
        nbformat.v4.new_code_cell("print(1)\nprint(2)", execution_count=1),
        nbformat.v4.new_markdown_cell("Some text."),
        nbformat.v4.new_code_cell("3", execution_count=2),
    ]
    nb.cells[1].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="1\n"),
        nbformat.v4.new_output("stream", name="stdout", text="2   \n"),
    ]
    nb.cells[3].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "3"})]
    nb.metadata["widgets"] = WIDGETS
    return nb


def as_read(nb) -> nbformat.NotebookNode:
    """The notebook myst-nb wrote for a page served from the cache: no outputs, no widgets."""
    bare = nbformat.from_dict(json.loads(json.dumps(nb)))
    del bare.metadata["widgets"]
    for cell in bare.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return bare


@pytest.fixture
def site(tmp_path):
    """(html, cache): a site whose page was read from a cache holding its execution."""
    html, cache = tmp_path / "_build" / "html", tmp_path / "cache"
    get_cache(cache).cache_notebook_bundle(
        CacheBundleIn(executed_page(), "/book/page.md"), check_validity=False
    )
    for folder in (html / "_sources", tmp_path / "_build" / "jupyter_execute"):
        folder.mkdir(parents=True)
        (folder / "page.ipynb").write_text(nbformat.writes(as_read(executed_page())))
    return html, cache


def test_a_cached_page_gets_its_outputs_and_widget_state_back(site):
    html, cache = site
    assert build_book.restore_cached_outputs(html, cache, merge_streams=True) == ["page"]
    download = (html / "_sources" / "page.ipynb").read_text()
    assert download == (html.parent / "jupyter_execute" / "page.ipynb").read_text()
    nb = nbformat.reads(download, as_version=4)
    assert [c.source for c in nb.cells] == [c.source for c in executed_page().cells]
    assert [o["text"] for o in nb.cells[1].outputs] == ["1\n2\n"]  # merged as the page shows
    assert nb.cells[3].outputs[0]["data"] == {"text/plain": "3"}
    assert nb.cells[3].execution_count == 2
    assert nb.metadata["widgets"] == WIDGETS
    nbformat.validate(nb)
    # A second pass has nothing to do: an up-to-date download is left alone.
    assert build_book.restore_cached_outputs(html, cache, merge_streams=True) == []


def test_streams_are_kept_as_executed_without_merge_streams(site):
    html, cache = site
    build_book.restore_cached_outputs(html, cache, merge_streams=False)
    nb = nbformat.read(html / "_sources" / "page.ipynb", as_version=4)
    assert [o["text"] for o in nb.cells[1].outputs] == ["1\n", "2   \n"]


def test_a_notebook_the_cache_does_not_hold_is_left_alone(site):
    html, cache = site
    other = as_read(executed_page())
    other.cells[1].source = "print('edited')"
    path = html / "_sources" / "other.ipynb"
    path.write_text(nbformat.writes(other))
    before = path.read_bytes()
    assert build_book.restore_cached_outputs(html, cache, merge_streams=True) == ["page"]
    assert path.read_bytes() == before


PAGE = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  name: python3
---

# A page

{text}

```{{code-cell}} ipython3
import ipywidgets

print("executed")
ipywidgets.IntSlider(value=3)
```
"""

CONFIG = """title: A page
only_build_toc_files: true
execute:
  execute_notebooks: cache
launch_buttons:
  binderhub_url: "https://mybinder.org"
repository:
  url: https://github.com/example/example
sphinx:
  config:
    nb_merge_streams: true
"""


@pytest.mark.slow
def test_a_partial_rebuild_offers_the_notebook_a_cold_build_offers(tmp_path):
    """Build a one-page book, change its text (not its code: the cache still holds the
    execution), build again: the page is re-read from the cache, and its download must be
    what the first build offered (up to the cell ids jupytext makes up on each read)."""
    book = tmp_path / "book"
    book.mkdir()
    (book / "page.md").write_text(PAGE.format(text="Some text."))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: page\n")
    (tmp_path / "_config.yml").write_text(CONFIG)
    paths = {
        "book": book,
        "html": tmp_path / "_build" / "html",
        "config": tmp_path / "_config.yml",
        "toc": tmp_path / "_toc.yml",
        "cache": tmp_path / "_build" / ".jupyter_cache",
    }
    download = paths["html"] / "_sources" / "page.ipynb"

    def build() -> dict:
        build_book.run_jupyter_book(freshenv=False, quiet=True, **paths)
        nb = nbformat.read(download, as_version=4)
        for cell in nb.cells:
            del cell["id"]
        return nb

    cold = build()
    assert "widget-state" in json.dumps(cold["metadata"]["widgets"])
    assert cold.cells[1].outputs[0]["text"] == "executed\n"
    time.sleep(1)  # a later mtime, so that Sphinx re-reads the page
    (book / "page.md").write_text(PAGE.format(text="Other text."))
    partial = build()
    assert partial.cells[0].source.endswith("Other text.")
    partial.cells[0].source = cold.cells[0].source
    assert partial == cold
