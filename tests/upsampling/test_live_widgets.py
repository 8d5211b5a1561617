"""upsampling.widgets.live: how a live demo is declared, bundled and opened from Python.

The pages themselves (the demos computing in Chromium) are tested in
tests/book/browser/test_live_demos.py.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from upsampling.widgets import (
    ConvMatrixDemo,
    LiveDemo,
    ScatterAddDemo,
    ShapeExplorerDemo,
    bundle,
    live,
)


def _modules(esm: str) -> list[tuple[str, str]]:
    """The (name, text) pairs a bundle holds."""
    match = re.search(r"^const modules = (.*);$", esm, re.M)
    assert match, esm[:200]
    return json.loads(match.group(1))


def test_bundle_holds_every_module_once_dependencies_first(tmp_path):
    (tmp_path / "base.js").write_text("export const one = 1;\n")
    (tmp_path / "ui.js").write_text(
        'import { one } from "./base.js";\nexport const two = one + 1;\n'
    )
    demos = tmp_path / "demos"
    demos.mkdir()
    (demos / "entry.js").write_text(
        "import { one } from \"../base.js\";\nimport { two } from '../ui.js';\n"
        "export default { render() { return one + two; } };\n"
    )
    modules = _modules(bundle(demos / "entry.js"))
    names = [name for name, _ in modules]
    assert len(names) == 3 and len(set(names)) == 3
    assert names[-1].endswith("demos/entry.js")
    assert names.index(next(n for n in names if n.endswith("base.js"))) < names.index(
        next(n for n in names if n.endswith("ui.js"))
    )
    texts = dict(modules)
    entry = texts[names[-1]]
    assert "../base.js" not in entry and "../ui.js" not in entry
    assert entry.count(live.SCHEME) == 2


def test_bundle_refuses_cycles_and_missing_modules(tmp_path):
    (tmp_path / "a.js").write_text('import "./b.js";\n')
    (tmp_path / "b.js").write_text('import "./a.js";\n')
    with pytest.raises(ValueError, match="import cycle"):
        bundle(tmp_path / "a.js")
    (tmp_path / "c.js").write_text('import { x } from "./missing.js";\n')
    with pytest.raises(FileNotFoundError, match=r"missing\.js.*imported by c\.js"):
        bundle(tmp_path / "c.js")


def test_bundle_cannot_close_the_pages_script_element(tmp_path):
    (tmp_path / "a.js").write_text('export const html = "</script><b>";\n')
    esm = bundle(tmp_path / "a.js")
    assert "</script" not in esm.lower()
    assert dict(_modules(esm))[_modules(esm)[0][0]] == 'export const html = "</script><b>";\n'


@pytest.mark.parametrize("cls", [ShapeExplorerDemo, ScatterAddDemo, ConvMatrixDemo])
def test_every_chapter_3_demo_ships_ops_and_live_ui(cls):
    demo = cls()
    modules = dict(_modules(demo._esm))
    shared = {"ops.js", "settings_hash.js", "live_ui.js"}
    assert set(modules) == shared | {f"demos/{cls.script}"}
    assert modules["ops.js"] == (live.HERE / "ops.js").read_text(encoding="utf-8")
    assert demo.demo == cls.name and demo.title == cls.summary
    assert demo.settings == demo.initial


def test_settings_merge_defaults_and_turn_arrays_into_lists():
    demo = ScatterAddDemo(input=np.arange(6.0).reshape(2, 3), stride=3, padding=(1, 0))
    assert demo.settings["input"] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert demo.settings["stride"] == [3, 3] and demo.settings["padding"] == [1, 0]
    assert demo.settings["weight"] == ScatterAddDemo.defaults["weight"]
    assert demo.settings["step"] == 6  # None: every copy placed
    json.dumps(demo.get_state())  # the saved widget state is plain JSON


def test_unknown_settings_and_out_of_range_values_are_refused():
    with pytest.raises(TypeError, match=r"no setting\(s\) \['strides'\]"):
        ScatterAddDemo(strides=2)
    with pytest.raises(ValueError, match="input must be a 2-D array of numbers, 1×1 to 8×8"):
        ScatterAddDemo(input=np.ones((9, 2)))
    with pytest.raises(ValueError, match="weight must be a 2-D array"):
        ScatterAddDemo(weight=[[1, 2], [3]])
    with pytest.raises(ValueError, match="stride must be a pair of ints from 1 to 4"):
        ScatterAddDemo(stride=5)
    with pytest.raises(ValueError, match="step must be an int from 0 to 4"):
        ScatterAddDemo(step=5)
    with pytest.raises(ValueError, match="kernel_size must be an int from 1 to 7"):
        ShapeExplorerDemo(kernel_size=8)
    with pytest.raises(ValueError, match="input_size must be a pair of ints from 1 to 6"):
        ConvMatrixDemo(input_size=7)
    with pytest.raises(ValueError, match="must be finite"):
        ScatterAddDemo(input=[[1.0, float("nan")]])


def test_a_title_replaces_the_summary():
    assert ShapeExplorerDemo(title="Try it").title == "Try it"


def test_declaring_a_demo_checks_the_naming_rules():
    with pytest.raises(ValueError, match="kebab-case"):

        class Bad(LiveDemo):  # noqa: F841
            name = "Bad_Name"
            script = "bad_name.js"

    with pytest.raises(ValueError, match="script must be 'shape_explorer.js'"):

        class Mismatch(LiveDemo):  # noqa: F841
            name = "shape-explorer"
            script = "other.js"

    with pytest.raises(FileNotFoundError):

        class Missing(LiveDemo):  # noqa: F841
            name = "no-such-demo"
            script = "no_such_demo.js"

    with pytest.raises(TypeError, match="base class"):
        LiveDemo()


def test_every_declared_demo_bundles():
    """Each demo of the package (chapters 1 to 4) has a script whose imports resolve."""
    import upsampling.widgets  # noqa: F401  (declares every demo)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    declared = [
        cls for cls in subclasses(LiveDemo) if cls.name and cls.__module__.startswith("upsampling")
    ]
    assert {"scatter-add", "shape-explorer", "conv-matrix"} <= {cls.name for cls in declared}
    for cls in declared:
        names = [name for name, _ in _modules(bundle(live.DEMOS / cls.script))]
        assert names[-1] == f"demos/{cls.script}" and "live_ui.js" in names


def test_viewers_without_widgets_get_the_settings_as_text():
    data, _ = ShapeExplorerDemo(stride=3)._repr_mimebundle_()
    assert (
        data["text/plain"].startswith("ShapeExplorerDemo(") and '"stride": 3' in data["text/plain"]
    )
