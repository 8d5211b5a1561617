"""Builds the HTML book into ``_build/html`` (``make book``).

Run as ``.venv/bin/python -m tools.build_book``. It does everything the build needs:

1. installs the pinned JavaScript (``package.json`` / ``package-lock.json``) with
   ``npm ci`` when ``node_modules/`` is missing or older than the lock file;
2. copies what the pages load (require.js, the ipywidgets HTML manager, anywidget's
   front-end from the pinned Python package, MathJax) into ``_build/html/_static/offline/``,
   so that a page never fetches anything from a CDN;
3. builds ``book/`` with Jupyter Book (``_config.yml``, ``_toc.yml``): notebooks are
   executed with caching, and any warning or execution error fails the build; each
   chapter's downloadable notebook is then written from the execution cache, so that a
   partial rebuild offers what a cold one does (:func:`restore_cached_outputs`), and the
   book's own static files (``book/_static``) are copied again if they changed (Sphinx
   copies them only when it writes a page);
4. copies the student notebooks of ``exercises/`` beside the pages, so that the
   chapters' exercise links download them, and checks that no solution or hidden
   test text reached the site.

Options: ``--all`` rebuilds every page (the execution cache still applies), ``-q``
prints less. (Sphinx's parallel reading is not available: an extension Jupyter Book
loads, sphinx_multitoc_numbering, is not declared safe for it.)
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
BUILD = ROOT / "_build"
HTML = BUILD / "html"
# Not in book/_static: Jupyter Book adds every .js and .css file of its static folders
# to every page, and these must load only where they are needed.
VENDOR = HTML / "_static" / "offline"
NODE_MODULES = ROOT / "node_modules"
NPM_STAMP = NODE_MODULES / ".upsampling-lock.sha256"
EXERCISES = ROOT / "exercises"
STAMP = HTML / ".build-stamp"  # written after every successful build

# Text that must never appear in the built site: nbgrader's solution and hidden-test
# markers (the graded notebooks' instructor version lives in solutions/).
FORBIDDEN_TEXT = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def log(message: str) -> None:
    print(f"[build_book] {message}", flush=True)


class BuildError(RuntimeError):
    pass


# --- 1. JavaScript packages -------------------------------------------------------------


def _lock_digest() -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def ensure_node_modules() -> None:
    """``npm ci`` unless node_modules/ was installed from the current lock file."""
    want = _lock_digest()
    if NPM_STAMP.exists() and NPM_STAMP.read_text().strip() == want:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError(
            "npm is needed to install the book's JavaScript (package-lock.json); "
            "run `make book` (tools/setup-system.sh installs it) or `apt-get install npm`"
        )
    log("installing the pinned JavaScript packages (npm ci) ...")
    start = time.perf_counter()
    result = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BuildError(f"npm ci failed:\n{result.stdout}\n{result.stderr}")
    NPM_STAMP.write_text(want + "\n")
    log(f"npm ci done in {time.perf_counter() - start:.1f} s")


# --- 2. Static assets -------------------------------------------------------------------


def _anywidget_frontend() -> Path:
    """anywidget's AMD front-end, shipped inside the pinned Python package."""
    spec = importlib.util.find_spec("anywidget")
    if spec is None or spec.origin is None:
        raise BuildError("the anywidget Python package is missing: run `make setup`")
    path = Path(spec.origin).parent / "nbextension" / "index.js"
    if not path.exists():
        raise BuildError(f"anywidget's front-end not found at {path}")
    return path


def vendor_files() -> dict[Path, Path]:
    """Destination (relative to _static/offline of the site) -> source, for every served file."""
    html_manager = NODE_MODULES / "@jupyter-widgets" / "html-manager" / "dist"
    mathjax = NODE_MODULES / "mathjax" / "es5"
    files: dict[Path, Path] = {
        Path("require.js"): NODE_MODULES / "requirejs" / "require.js",
        Path("embed-amd.js"): html_manager / "embed-amd.js",
        Path("anywidget.js"): _anywidget_frontend(),
        Path("require_config.js"): ROOT / "upsampling" / "widgets" / "require_config.js",
    }
    # Fonts and other assets that embed-amd.js loads relative to itself.
    for path in html_manager.iterdir():
        if path.suffix in {".woff", ".woff2", ".ttf", ".eot", ".svg"}:
            files[Path(path.name)] = path
    # MathJax: the TeX + CommonHTML component and what it loads on demand (fonts, TeX
    # extensions, the menu and accessibility parts). Not the 4 MB speech engine.
    files[Path("mathjax/tex-chtml.js")] = mathjax / "tex-chtml.js"
    for folder in ("input/tex/extensions", "output/chtml/fonts/woff-v2", "a11y", "ui", "adaptors"):
        for path in (mathjax / folder).rglob("*"):
            if path.is_file():
                files[Path("mathjax") / path.relative_to(mathjax)] = path
    return files


def _strip_source_map(text: str) -> str:
    # The maps are not shipped; without this a browser's dev tools ask for them.
    lines = text.rstrip("\n").split("\n")
    while lines and lines[-1].startswith("//# sourceMappingURL="):
        lines.pop()
    return "\n".join(lines) + "\n"


def copy_if_changed(src: Path, dest: Path) -> bool:
    """Copies src to dest unless dest holds the same bytes already; whether it copied."""
    if dest.exists() and filecmp.cmp(src, dest, shallow=False):
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return True


def install_vendor_files() -> None:
    """Copies the served JavaScript into _static/offline of the site, touching only what changed."""
    files = vendor_files()
    missing = [str(src) for src in files.values() if not src.exists()]
    if missing:
        raise BuildError(f"missing JavaScript files (npm ci incomplete?): {missing[:5]}")
    changed = 0
    for rel, src in files.items():
        dest = VENDOR / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if rel.suffix == ".js" and rel.parts[0] != "mathjax":
            text = _strip_source_map(src.read_text(encoding="utf-8"))
            if dest.exists() and dest.read_text(encoding="utf-8") == text:
                continue
            dest.write_text(text, encoding="utf-8")
        elif not copy_if_changed(src, dest):
            continue
        changed += 1
    stale = [p for p in VENDOR.rglob("*") if p.is_file() and p.relative_to(VENDOR) not in files]
    for path in stale:
        path.unlink()
    if changed or stale:
        log(f"_static/offline: {changed} file(s) updated, {len(stale)} removed")


# --- 3. Jupyter Book --------------------------------------------------------------------


def package_fingerprint() -> str:
    """A hash of the package's code: the chapters' outputs depend on it.

    Jupyter's execution cache keys a notebook on its own cells only, so a change to a
    plotting function would leave every chapter showing the old figures. The cache
    therefore lives in a folder named after this hash: change the package and every
    chapter is executed again; change nothing and nothing is.
    """
    digest = hashlib.sha256()
    for path in sorted((ROOT / "upsampling").rglob("*")):
        if path.suffix in {".py", ".js", ".css"} and "__pycache__" not in path.parts:
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def execution_cache() -> Path:
    """The execution cache for the current package; caches of older versions are removed."""
    caches = BUILD / ".jupyter_cache"
    current = caches / package_fingerprint()
    if caches.is_dir():
        for old in caches.iterdir():
            if old != current:
                shutil.rmtree(old) if old.is_dir() else old.unlink()
    return current


def run_jupyter_book(
    *,
    freshenv: bool,
    quiet: bool,
    book: Path = BOOK,
    html: Path = HTML,
    config: Path = ROOT / "_config.yml",
    toc: Path = ROOT / "_toc.yml",
    cache: Path | None = None,
) -> None:
    """Builds ``book`` into ``html`` (the defaults: the course's book); ``cache`` is the
    execution cache (default: :func:`execution_cache`)."""
    # jsonschema compiles rfc3987_syntax's grammars at import time when that package is
    # installed (it comes with jupyter-events): 2.7 s of a 5.4 s no-op build, measured with
    # -X importtime. The book's configuration uses no IRI formats, so this process goes
    # without it; the executing kernels are other processes and are not affected.
    sys.modules.setdefault("rfc3987_syntax", None)
    from jupyter_book.cli.main import builder_specific_actions
    from jupyter_book.sphinx import build_sphinx

    cache = execution_cache() if cache is None else cache
    shown = html.relative_to(ROOT) if html.is_relative_to(ROOT) else html
    log(f"building {book.name}/ with Jupyter Book into {shown} ...")
    overrides = {
        "nb_execution_cache_path": cache.as_posix(),
        "external_toc_path": toc.as_posix(),
        "latex_individualpages": False,
        "nitpicky": True,
    }
    result = build_sphinx(
        book,
        html,
        use_external_toc=True,
        noconfig=True,
        path_config=str(config),
        confoverrides=overrides,
        builder="html",
        warningiserror=True,
        keep_going=True,
        freshenv=freshenv,
        quiet=quiet,
    )
    if result != 0:
        if isinstance(result, Exception):
            raise BuildError(f"the book build failed: {result!r}")
        raise BuildError("the book build failed (warnings are errors; see the log above)")
    # Writes _build/html/index.html, a redirect to the first page.
    builder_specific_actions(result, "html", html, "book", None, lambda *a, **k: None)
    sphinx = (yaml.safe_load(config.read_text()) or {}).get("sphinx") or {}
    merge_streams = (sphinx.get("config") or {}).get("nb_merge_streams", False)
    restored = restore_cached_outputs(html, cache, merge_streams=bool(merge_streams))
    if restored:
        log(f"outputs restored from the execution cache: {', '.join(restored)}")


def copy_book_static(source: Path = BOOK / "_static", site: Path = HTML) -> int:
    """Copies into the site's _static the files of book/_static that are missing there or
    differ: Sphinx copies them only when it writes a page, so a stylesheet edited alone
    stayed stale in the site. Returns how many were copied."""
    files = sorted(p for p in source.rglob("*") if p.is_file())
    copied = sum(copy_if_changed(src, site / "_static" / src.relative_to(source)) for src in files)
    if copied:
        log(f"_static: {copied} file(s) of book/_static updated")
    return copied


def restore_cached_outputs(html: Path, cache: Path, *, merge_streams: bool) -> list[str]:
    """Writes each chapter's downloadable notebook (``_sources/<page>.ipynb``) from the
    execution cache, with the outputs the page shows; returns the pages changed.

    myst-nb 1.4 writes ``_build/jupyter_execute/<page>.ipynb`` (which the theme copies to
    ``_sources/``) from the notebook it read, not from the copy jupyter-cache merged the
    outputs into: a chapter served from the cache (any page re-read with its code
    unchanged, every page of a build on a warm cache) was offered without its outputs
    and widget state. A freshly executed chapter had its outputs, but with its streams
    half merged in place by ``nb_merge_streams`` (the first stream holding the text of
    the next, which stayed too). Both now get the notebook as read with the cached code
    cells and notebook metadata merged in, as myst-nb merges them for the page, and with
    ``merge_streams`` each cell's streams merged as the page shows them.
    """
    import nbformat
    from jupyter_cache import get_cache
    from myst_nb.core.utils import coalesce_streams

    sources = html / "_sources"
    if not sources.is_dir() or not cache.is_dir():
        return []
    executed = html.parent / "jupyter_execute"  # myst-nb's output folder
    store = get_cache(cache)
    restored = []
    for path in sorted(sources.rglob("*.ipynb")):
        try:
            _, merged = store.merge_match_into_notebook(nbformat.read(path, as_version=4))
        except KeyError:  # not executed with this cache (or not a notebook page)
            continue
        if merge_streams:
            for cell in merged.cells:
                if cell.cell_type == "code":
                    cell.outputs = coalesce_streams(cell.outputs)
        content = nbformat.writes(merged).encode("utf-8")  # as myst-nb writes it
        page = path.relative_to(sources)
        changed = False
        for target in (path, executed / page):
            if target.exists() and target.read_bytes() != content:
                target.write_bytes(content)
                changed = True
        if changed:
            restored.append(page.with_suffix("").as_posix())
    return restored


# --- 4. Exercises and checks ------------------------------------------------------------


def copy_exercises() -> int:
    """Copies exercises/ (student notebooks and their data) to _build/html/exercises/."""
    dest_root = HTML / "exercises"
    if dest_root.exists():
        shutil.rmtree(dest_root)
    if not EXERCISES.is_dir():
        return 0
    count = 0
    for src in sorted(EXERCISES.rglob("*")):
        rel = src.relative_to(EXERCISES)
        if not src.is_file() or any(
            part.startswith(".") or part == "__pycache__" for part in rel.parts
        ):
            continue
        dest = dest_root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        count += src.suffix == ".ipynb"
    return count


def forbidden_text_in_site(site: Path = HTML) -> list[str]:
    """Files of the site holding solution or hidden-test markers, with the marker."""
    found = []
    for path in site.rglob("*"):
        if not path.is_file() or path.suffix not in {
            ".html",
            ".ipynb",
            ".txt",
            ".md",
            ".js",
            ".py",
            ".json",
        }:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for marker in FORBIDDEN_TEXT:
            if marker in text:
                found.append(f"{path.relative_to(site)}: {marker!r}")
    return found


def book_sources() -> list[Path]:
    """Every file whose change can change the site."""
    files = [ROOT / "_config.yml", ROOT / "_toc.yml", ROOT / "package-lock.json"]
    files += [p for p in BOOK.rglob("*") if p.is_file()]
    files += [p for p in (ROOT / "upsampling").rglob("*") if p.suffix in {".py", ".js", ".css"}]
    if EXERCISES.is_dir():
        files += [p for p in EXERCISES.rglob("*") if p.is_file()]
    return files


def site_is_current() -> bool:
    """Whether the last successful build is newer than every source of the site."""
    if not STAMP.exists():
        return False
    built = STAMP.stat().st_mtime
    return all(path.stat().st_mtime <= built for path in book_sources())


def ensure_built() -> Path:
    """Builds the site unless it is current (for the tests); returns _build/html."""
    if not site_is_current() and main([]) != 0:
        raise BuildError("the book build failed; run `make book` to see why")
    return HTML


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="re-read every page")
    parser.add_argument("-q", "--quiet", action="store_true", help="print less")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    started = time.time()
    os.chdir(ROOT)
    try:
        ensure_node_modules()
        install_vendor_files()
        run_jupyter_book(freshenv=args.all, quiet=args.quiet)
        copy_book_static()
        notebooks = copy_exercises()
        leaks = forbidden_text_in_site()
        if leaks:
            raise BuildError(
                "solution or hidden-test text reached the site:\n  " + "\n  ".join(leaks)
            )
    except BuildError as exc:
        log(f"FAILED: {exc}")
        return 1
    STAMP.write_text(time.strftime("%Y-%m-%d %H:%M:%S\n"))
    os.utime(STAMP, (started, started))  # a source edited during the build is newer
    log(
        f"done in {time.perf_counter() - start:.1f} s: {HTML.relative_to(ROOT)}/index.html "
        f"({notebooks} exercise notebook(s) copied)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
