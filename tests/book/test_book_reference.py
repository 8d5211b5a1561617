"""The book's reference part: API entries, citations and glossary.

Every name of ``upsampling.__all__`` has an entry in the API reference (read from the
built site's Sphinx inventory, ``objects.inv``); every cited key exists in
``book/references.bib`` and every entry there is cited and links to the work; an unknown
key fails a build that treats warnings as errors, as the book's build does; every
glossary term links to a section of a chapter and is used in one.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

import pybtex.database
import pytest
import yaml
from sphinx.util.inventory import InventoryFile

import upsampling
from tools import build_book

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
BIBFILE = BOOK / CONFIG["bibtex_bibfiles"][0]
CITE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")


def chapters() -> list[Path]:
    return sorted(BOOK.glob("0*.md"))


def cited_keys() -> dict[str, list[str]]:
    """Citation key -> the pages that cite it."""
    keys: dict[str, list[str]] = {}
    for page in BOOK.glob("*.md"):
        for match in CITE.finditer(page.read_text(encoding="utf-8")):
            for key in match.group(1).split(","):
                keys.setdefault(key.strip(), []).append(page.name)
    return keys


def bibliography() -> pybtex.database.BibliographyData:
    return pybtex.database.parse_file(str(BIBFILE))


# --- sources ----------------------------------------------------------------------------


def test_the_chapters_cite_the_works_they_rely_on():
    keys = cited_keys()
    for work in [
        "ronneberger2015unet",
        "long2015fcn",
        "dumoulin2016guide",
        "odena2016checkerboard",
        "shi2016subpixel",
        "aitken2017icnr",
        "zeiler2014visualizing",
        "badrinarayanan2017segnet",
        "radford2016dcgan",
        "pytorch2026convtranspose2d",
        "keras2026conv2dtranspose",
    ]:
        assert work in keys, f"no chapter cites {work}"


def test_every_cited_key_is_in_the_bibliography():
    known = set(bibliography().entries)
    unknown = {key: pages for key, pages in cited_keys().items() if key not in known}
    assert unknown == {}, f"cited but not in {BIBFILE.name}: {unknown}"


def test_every_entry_is_cited_and_links_to_the_work():
    cited = cited_keys()
    for key, entry in bibliography().entries.items():
        assert key in cited, f"{key} is in {BIBFILE.name} but no page cites it"
        fields = {name.lower() for name in entry.fields}
        assert fields & {"doi", "eprint", "url"}, f"{key} has no DOI, arXiv number or URL"
        if "eprint" in fields:
            assert re.fullmatch(r"\d{4}\.\d{4,5}", entry.fields["eprint"]), key
        if "doi" in fields:
            assert entry.fields["doi"].startswith("10."), key


def _build_citing(tmp_path: Path, key: str) -> subprocess.CompletedProcess:
    """Builds, from scratch, a MyST project whose page cites ``key``, with the book's
    bibliography page, .bib file and citation settings, warnings as errors (as
    tools/build_book.py does)."""
    sphinx_config = CONFIG["sphinx"]["config"]
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(
        "extensions = ['myst_parser', 'sphinxcontrib.bibtex']\n"
        f"bibtex_bibfiles = [{str(BIBFILE)!r}]\n"
        f"bibtex_reference_style = {sphinx_config['bibtex_reference_style']!r}\n"
        f"bibtex_default_style = {sphinx_config['bibtex_default_style']!r}\n"
    )
    (src / "index.md").write_text(
        f"# Page\n\nA claim {{cite:p}}`{key}`.\n\n```{{toctree}}\nreferences\n```\n"
    )
    # the book's own bibliography page, so that its directive options are tested too
    (src / "references.md").write_text((BOOK / "references.md").read_text(encoding="utf-8"))
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "-n", "-q", "-b", "html", src, tmp_path / "out"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_known_citation_key_builds(tmp_path):
    result = _build_citing(tmp_path, "ronneberger2015unet")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'href="references.html#' in html
    listed = (tmp_path / "out" / "references.html").read_text(encoding="utf-8")
    assert "Ronneberger" in listed and "10.1007/978-3-319-24574-4_28" in listed


def test_an_unknown_citation_key_fails_the_build(tmp_path):
    result = _build_citing(tmp_path, "nosuchauthor1999")
    assert result.returncode != 0
    assert "could not find bibtex key" in result.stderr and "nosuchauthor1999" in result.stderr


def test_the_book_build_treats_warnings_as_errors():
    source = (ROOT / "tools" / "build_book.py").read_text()
    assert "warningiserror=True" in source and '"nitpicky": True' in source


# --- the built site ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Path:
    try:
        return build_book.ensure_built()
    except build_book.BuildError as exc:
        pytest.fail(str(exc), pytrace=False)


def _inventory(site: Path) -> dict:
    with open(site / "objects.inv", "rb") as stream:
        return InventoryFile.load(stream, "", lambda base, uri: uri)


def test_all_lists_every_function_the_package_exports():
    """A function imported into the package's namespace is public: it must be in __all__,
    which the API check below reads."""
    exported = {
        name
        for name, value in vars(upsampling).items()
        if callable(value) and not name.startswith("_") and not inspect.ismodule(value)
    }
    assert exported == set(upsampling.__all__)
    assert len(upsampling.__all__) == len(set(upsampling.__all__))


def test_every_public_name_has_an_api_entry(site):
    inventory = _inventory(site)
    entries = {**inventory.get("py:function", {}), **inventory.get("py:class", {})}
    missing = [name for name in upsampling.__all__ if f"upsampling.{name}" not in entries]
    assert missing == [], f"names of upsampling.__all__ without an API entry: {missing}"
    for name in upsampling.__all__:
        uri = entries[f"upsampling.{name}"][2]
        assert uri.startswith("api.html#"), (name, uri)


def test_api_entries_show_formulas_as_math_and_examples_as_code(site):
    html = (site / "api.html").read_text(encoding="utf-8")
    for name in ("conv2d", "conv_transpose2d", "conv_output_size", "conv_transpose_output_size"):
        start = html.index(f'id="upsampling.{name}"')
        end = html.find('<dl class="py ', start)  # the next entry
        entry = html[start : end if end > 0 else len(html)]
        assert 'class="math notranslate nohighlight"' in entry, f"{name}: no displayed math"
        assert '<div class="doctest highlight' in entry, f"{name}: no example"
        assert "&gt;&gt;&gt;" in entry
    assert "H_\\text{out}" in html


def test_every_glossary_term_links_to_a_section_and_is_used(site):
    html = (site / "glossary.html").read_text(encoding="utf-8")
    terms = re.findall(r'<dt id="(term-[^"]+)">', html)
    assert len(terms) >= 30
    definitions = re.findall(r"<dd>(.*?)</dd>", html, re.S)
    assert len(definitions) == len(terms)
    for term, definition in zip(terms, definitions, strict=True):
        links = re.findall(r'href="(0\d_[^"#]+\.html)(#[^"]*)?"', definition)
        assert links, f"{term}: no link to a chapter"
    used = set()
    for page in sorted(site.glob("0*.html")):
        used |= set(re.findall(r'href="glossary\.html#(term-[^"]+)"', page.read_text("utf-8")))
    unused = sorted(set(terms) - used)
    assert unused == [], f"glossary terms no chapter links to: {unused}"


def test_chapters_link_the_functions_they_name(site):
    for chapter, names in {
        "01_why_upsample.html": ["pixel_shuffle", "conv_output_size"],
        "02_unpooling.html": ["conv_transpose2d", "interpolate"],
        "03_transposed_convolution.html": [
            "conv_transpose2d",
            "conv2d",
            "conv_matrix",
            "pixel_shuffle",
            "checkerboard.phase_sums",
        ],
        "04_checkerboard.html": [
            "overlap_counts",
            "checkerboard_score",
            "resize_conv2d",
            "checkerboard.local_checkerboard_score",
            "checkerboard.phase_sums",
        ],
    }.items():
        html = (site / chapter).read_text(encoding="utf-8")
        for name in names:
            assert f'href="api.html#upsampling.{name}"' in html, f"{chapter}: {name} not linked"
