"""Sphinx extension of the book build: keeps the bibliography page in step with the chapters.

sphinxcontrib-bibtex fills a ``{bibliography}`` list from the citations of every page,
but Sphinx rewrites only the pages it re-reads. In an incremental build where a chapter
starts citing a work, the chapter's citation would link to an entry that the unchanged
bibliography page does not show yet (the browser tests' link check finds exactly that).
So whenever any page is re-read, the pages holding a bibliography are re-read too; a
build in which nothing changed stays a no-op. Loaded by ``_config.yml`` (the book is
built from the repository root, where ``tools`` is importable).
"""

from __future__ import annotations


def bibliography_pages(env) -> set[str]:
    """The documents that hold a ``{bibliography}`` directive, as of the last read."""
    domain = env.get_domain("cite")
    return {key.docname for key in getattr(domain, "bibliographies", {})}


def _reread_bibliographies(app, env, added, changed, removed) -> list[str]:
    if not (added or changed or removed):
        return []
    return sorted(bibliography_pages(env) - set(added) - set(changed) - set(removed))


def setup(app):
    app.setup_extension("sphinxcontrib.bibtex")
    app.connect("env-get-outdated", _reread_bibliographies)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
