"""Live demos: the real operation computed in the page, for any input the reader types.

A live demo is an anywidget whose front-end computes with ``ops.js``, the package's
operations written in JavaScript (same names, arguments and error messages, tested
against the package case by case). Nothing is precomputed: the saved widget state holds
the script and the settings the demo opens with, so the same object is live in
JupyterLab and in the static book, where there is no kernel.

Declaring a demo
----------------
Python side: a subclass of :class:`LiveDemo` with four class attributes, among them
``defaults``, the settings the demo opens with (JSON-able: numbers, strings, booleans,
nested lists; numpy arrays are turned into lists)::

    class ShapeExplorer(LiveDemo):
        name = "shape-explorer"          # the root's data-demo attribute
        script = "shape_explorer.js"     # upsampling/widgets/demos/<script>
        summary = "..."                  # the title shown above the controls
        defaults = {"input_size": 3, "kernel_size": 3, "stride": 2, ...}

``ShapeExplorer(stride=3)`` opens it with ``stride=3``: every keyword is a setting and
must name one of ``defaults``; :meth:`LiveDemo.normalize` (override it) rejects a
setting the page cannot show and may complete one (an int for a pair). The chapter
passes the settings that make its point; the reset button goes back to them.
``demo.settings`` follows the page in JupyterLab.

JavaScript side: ``upsampling/widgets/demos/<script>``, an ES module that imports what it
needs with relative specifiers and default-exports ``liveDemo({...})``::

    import { conv_transpose_output_size } from "../ops.js";
    import { liveDemo, pyCall } from "../live_ui.js";

    export default liveDemo({
      setup(demo) {                       // builds the page once; returns redraw(settings)
        demo.integer("stride", { min: 1, max: 4 });
        const output = demo.table("output");
        return (s) => output.show(...);   // synchronous; thrown PackageErrors are shown
      },
      python: (s) => pyCall("conv_transpose_output_size", [...], {...}),
    });

``live_ui.js`` documents the builders (controls bound to settings, editable grids,
number tables drawn as heat maps, the step control, presets, messages), the Python call
(``pyKwargs``: the arguments that differ from the package's defaults) and the settings in
the URL: in the static book each demo keeps the settings that differ from the page's in
its part of the hash (``#scatter-add:stride=2,3;padding=1,0``, ``settings_hash.js``), so a
link opens the demo as the reader left it; in JupyterLab the URL is left alone.

How ops.js reaches the page: no CDN and no run-time download. :func:`bundle` makes the
widget's ``_esm`` from the demo's file and every module it imports with a relative
specifier (``"../ops.js"``, ``"../live_ui.js"``, and theirs): a small loader holding
each module's text once, which links them in the browser as ``blob:`` URLs (the way
anywidget itself loads ``_esm``) and re-exports the demo's default export. A module's
URL is cached by its text, so every demo of a page shares one ``ops`` module (exposed as
``globalThis.upsamplingOps`` for the tests in the browser). The demo files stay
ordinary ES modules that Node.js can import as they are.

Naming rules: ``name`` is kebab-case and unique in the book (``scatter-add``); the script
is the same name in snake_case (``scatter_add.js``); the class is CamelCase and says what
it shows (``ScatterAddDemo``). Settings keys are the package's argument names
(``stride``, ``padding``...), with ``[h, w]`` pairs where the operation takes pairs.

The accessibility contract (tests/book/browser/test_live_demos.py checks it on every page):
the root element has ``data-demo="<name>"``; every array shown is a ``<table>`` of its
numbers with a ``<caption>`` naming it (``input``, ``weight``, ``output``, ``overlap``...),
its cells coloured as a heat map (the table is the picture; a large array asked for with
``picture: true`` is drawn on a canvas instead and its table kept in the page, out of
sight and out of layout, because thousands of table cells take the browser longer to
lay out than a frame lasts); every parameter control is
an ``<input>`` or ``<select>`` whose ``aria-label`` is the package's argument name, and
per-axis controls sit in a group labelled ``height`` or ``width`` (``role="group"``),
each labelled with the argument name; a step-through control is an
``<input type="range">`` labelled ``step``, and at its last value the ``output`` table
holds the whole result; editable grids are tables whose cells are text boxes (a
``contenteditable`` span, ``role="textbox"``) labelled ``<caption>[row, column]``;
presets, reset, play and copy are ``<button>``s. Everything is reachable with Tab and
works from the keyboard.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any, ClassVar

import anywidget
import numpy as np
import traitlets

HERE = Path(__file__).parent
#: Where the demos' scripts live.
DEMOS = HERE / "demos"

# `import ... from "./x.js"`, `export ... from "../x.js"`, `import "./x.js"`.
_RELATIVE_IMPORT = re.compile(r"""(\b(?:from|import)\s*)(["'])(\.{1,2}/[^"'\s]+)\2""")
_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
#: How a bundled module names another before the loader gives it a blob: URL.
SCHEME = "upsampling-live:"

_LOADER = """\
// One live demo's modules, bundled by upsampling.widgets.live.bundle (entry: {entry}).
// Each module is linked once per page: its blob: URL is cached by its text, so every
// demo of a page shares one ops.js (and one live_ui.js).
const modules = {modules};
const cache = (globalThis.__upsamplingLiveModules ??= new Map());
const urls = new Map();
for (const [name, text] of modules) {{
  const code = text.replace(/"{scheme}([^"]+)"/g, (_, dep) => JSON.stringify(urls.get(dep)));
  if (!cache.has(code)) {{
    cache.set(code, URL.createObjectURL(new Blob([code], {{ type: "text/javascript" }})));
  }}
  urls.set(name, cache.get(code));
}}
const entry = await import(urls.get({entry_json}));
export default entry.default;
"""


def bundle(path: Path | str) -> str:
    """The ES module at ``path`` and every module it imports, as one module.

    Relative imports are followed recursively (from ``upsampling/widgets/``); a cycle or a
    missing file is an error. The result holds each module's text once and links them
    in the page (see the module docstring).
    """
    entry = Path(path).resolve()
    order: list[tuple[str, str]] = []
    _collect(entry, (), order, {})
    modules = json.dumps(order, ensure_ascii=False, separators=(",", ":"))
    # "</script" cannot appear in the page's widget state; JSON lets us escape the slash.
    modules = modules.replace("</", "<\\/")
    name = order[-1][0]
    return _LOADER.format(entry=name, modules=modules, scheme=SCHEME, entry_json=json.dumps(name))


def _module_name(path: Path) -> str:
    try:
        return path.relative_to(HERE.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _collect(
    path: Path, chain: tuple[Path, ...], order: list[tuple[str, str]], done: dict[Path, str]
) -> str:
    """Adds ``path`` and its imports to ``order`` (dependencies first); returns its name."""
    if path in chain:
        cycle = " -> ".join(p.name for p in (*chain, path))
        raise ValueError(f"import cycle between the demo modules: {cycle}")
    if path in done:
        return done[path]
    if not path.is_file():
        importer = f" (imported by {chain[-1].name})" if chain else ""
        raise FileNotFoundError(f"demo module {path} not found{importer}")
    source = path.read_text(encoding="utf-8")

    def relink(match: re.Match) -> str:
        target = (path.parent / match.group(3)).resolve()
        return f'{match.group(1)}"{SCHEME}{_collect(target, (*chain, path), order, done)}"'

    text = _RELATIVE_IMPORT.sub(relink, source)
    name = done[path] = _module_name(path)
    order.append((name, text))
    return name


@functools.cache
def _bundled(script: str, stamp: tuple[tuple[str, float], ...]) -> str:
    return bundle(DEMOS / script)


def _stamp() -> tuple[tuple[str, float], ...]:
    # Re-bundle when a front-end file changes (a kernel left running while editing).
    files = [*HERE.glob("*.js"), *DEMOS.glob("*.js")]
    return tuple(sorted((p.name, p.stat().st_mtime) for p in files))


def _jsonable(value: Any, where: str) -> Any:
    """``value`` as JSON-able data: numpy arrays and scalars become lists and numbers."""
    if isinstance(value, np.ndarray):
        if not np.issubdtype(value.dtype, np.number) and value.dtype != bool:
            raise TypeError(f"{where} must hold numbers, got dtype {value.dtype}")
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {str(k): _jsonable(v, f"{where}[{k!r}]") for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        if isinstance(value, float) and not np.isfinite(value):
            raise ValueError(f"{where} must be finite, got {value!r}")
        return value
    raise TypeError(f"{where} must be JSON-able data, got {type(value).__name__}")


class LiveDemo(anywidget.AnyWidget):
    """Base class of the live demos: declare ``name``, ``script``, ``summary``, ``defaults``.

    Keyword arguments are settings (see the module docstring); ``title=`` replaces the
    class's title.
    """

    #: The root element's ``data-demo`` attribute (kebab-case, unique in the book).
    name: ClassVar[str] = ""
    #: The demo's ES module, a file of ``upsampling/widgets/demos/``.
    script: ClassVar[str] = ""
    #: The title shown above the controls (``title=`` replaces it for one demo).
    summary: ClassVar[str] = ""
    #: The settings the demo opens with unless the chapter says otherwise.
    defaults: ClassVar[dict[str, Any]] = {}

    _css = HERE / "live.css"

    demo = traitlets.Unicode("").tag(sync=True)
    title = traitlets.Unicode("").tag(sync=True)
    #: The settings shown now (the page writes them back when a kernel is connected).
    settings = traitlets.Dict().tag(sync=True)
    #: The settings the demo was opened with: where the reset button goes back to.
    initial = traitlets.Dict().tag(sync=True)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.name:
            return  # an intermediate base class
        if not _NAME.fullmatch(cls.name):
            raise ValueError(f"{cls.__name__}.name must be kebab-case, got {cls.name!r}")
        expected = cls.name.replace("-", "_") + ".js"
        if cls.script != expected:
            raise ValueError(f"{cls.__name__}.script must be {expected!r}, got {cls.script!r}")
        if not (DEMOS / cls.script).is_file():
            raise FileNotFoundError(f"{cls.__name__}: {DEMOS / cls.script} does not exist")

    @property
    def _esm(self) -> str:  # read once, by AnyWidget.__init__, and synced
        return _bundled(self.script, _stamp())

    def __init__(self, *, title: str | None = None, **settings: Any) -> None:
        if not self.name:
            raise TypeError("LiveDemo is a base class: declare a subclass with a name and script")
        unknown = sorted(set(settings) - set(self.defaults))
        if unknown:
            raise TypeError(
                f"{type(self).__name__} has no setting(s) {unknown}; "
                f"its settings are {sorted(self.defaults)}"
            )
        merged = {k: _jsonable(v, k) for k, v in {**self.defaults, **settings}.items()}
        merged = self.normalize(merged)
        text = self.summary if title is None else title
        super().__init__(demo=self.name, title=text, settings=merged, initial=merged)

    def normalize(self, settings: dict[str, Any]) -> dict[str, Any]:
        """The settings the page opens with; raises ``ValueError`` for what it cannot show.

        ``settings`` are the defaults updated with the caller's, as JSON-able data.
        Override it to check ranges and to complete values (the base class accepts all).
        """
        return settings

    def _repr_mimebundle_(self, **kwargs: Any):
        # Viewers without widget support (GitHub, nbviewer) get the settings as text.
        bundle_ = super()._repr_mimebundle_(**kwargs)
        if bundle_ is not None:
            data, metadata = bundle_
            text = f"{type(self).__name__}({json.dumps(self.settings)})"
            bundle_ = ({**data, "text/plain": text}, metadata)
        return bundle_
