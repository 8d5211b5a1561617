"""The demos in JupyterLab 4, where students run the chapters: rendered with their styles,
computing the package's numbers, and the keys typed into a demo kept from the notebook.

A module fixture starts JupyterLab from this venv on 127.0.0.1 (a port the server picks,
a token, no browser), its config, data and runtime folders in a temporary directory
(the venv's ``share/jupyter`` stays on the path: the lab extensions and the kernel
spec), with what would reach the internet switched off (news, update checks, the
extension manager's PyPI listing). Its root holds a notebook, written here, whose cells
make every live demo of chapters 1-4 with the chapters' own arguments, and one frame
demo. Chromium (Playwright, every request leaving 127.0.0.1 refused) opens it, runs
all cells from the Run menu, and the tests work each demo from the keyboard as a student
would, compare its tables with the numpy package and check that JupyterLab's
command-mode shortcuts (digits, arrows, Enter, Space, End...) did not act on the notebook.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import secrets
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import numpy as np
import pytest
from conftest import ARTIFACTS, ROOT, ROWS_IN_SIGHT
from playwright.sync_api import TimeoutError as PlaywrightTimeout

import upsampling
from upsampling.checkerboard import phase_sums
from upsampling.plots.resolution import pool_and_restore
from upsampling.plots.sizes import FIXES, size_plan
from upsampling.plots.unpooling import sample_image, upsample

#: The lab extensions the demos need, as JupyterLab names them.
WIDGET_EXTENSIONS = ("anywidget", "@jupyter-widgets/jupyterlab-manager")
STARTUP_S = 90  # JupyterLab's first start on a busy 2-core machine takes 5-20 s
RUN_ALL_MS = 90_000  # kernel start, the imports and nine demos (the frame demo draws 8 figures)
NOTEBOOK = "demos.ipynb"

SETUP = """\
import sys

import numpy as np

from upsampling.plots.resolution import plot_pool_and_restore
from upsampling.plots.unpooling import sample_image
from upsampling.widgets import ConvMatrixDemo, ScatterAddDemo, ShapeExplorerDemo, frame_demo
from upsampling.widgets.live_demos_ch124 import (
    MaxUnpoolDemo,
    OverlapDemo,
    PoolRestoreDemo,
    SizeTrackerDemo,
    UpsamplePhotoDemo,
)

five = np.arange(25.0)[::-1].reshape(1, 1, 5, 5)
x2 = np.array([[2.0, 0.0], [4.0, 1.0]])
k2 = np.array([[4.0, 2.0, 1.0], [1.0, 0.0, 3.0], [0.0, 5.0, 2.0]])
print(sys.prefix)"""

#: data-demo name -> the cell that makes it: the chapters' calls (book/0[1-4]_*.md).
DEMOS = {
    "pool-restore": 'PoolRestoreDemo(depth=3, mode="bilinear")',
    "size-tracker": "SizeTrackerDemo(input_size=100, depth=4, kernel_size=3, stride=2, padding=1)",
    "max-unpool": "MaxUnpoolDemo(input=five[0, 0], kernel_size=2, stride=2, output_size=False)",
    "upsample-photo": 'UpsamplePhotoDemo(mode="nearest", scale_factor=1.5)',
    "scatter-add": "ScatterAddDemo(input=x2, weight=k2, stride=2, step=3)",
    "shape-explorer": "ShapeExplorerDemo(input_size=3, kernel_size=3, stride=2, padding=1)",
    "conv-matrix": (
        "ConvMatrixDemo(weight=np.arange(1.0, 10.0).reshape(3, 3), input_size=5, stride=2)"
    ),
    "overlap": "OverlapDemo(layers=1, kernel_size=3, stride=2)",
}
#: A frame demo (eight figures drawn by the kernel; chapter 1's before it computed in the page).
FRAME_DEMO = """\
frame_demo(
    plot_pool_and_restore,
    {"depth": [1, 2, 3, 4], "mode": ["nearest", "bilinear"]},
    image=sample_image(64),
    title="Max pooling, then a fixed upsampling back to full size",
)"""

X2 = np.array([[2.0, 0.0], [4.0, 1.0]])
K2 = np.array([[4.0, 2.0, 1.0], [1.0, 0.0, 3.0], [0.0, 5.0, 2.0]])


def test_the_notebook_makes_every_live_demo_of_chapters_1_to_4():
    """The notebook keeps up with the book: a chapter's new live demo must be added here."""
    made = set()
    for chapter in sorted((ROOT / "book").glob("0[1-4]_*.md")):
        made |= set(re.findall(r"^([A-Z]\w*Demo)\(", chapter.read_text(), re.M))
    tested = {re.match(r"\w+", call).group() for call in DEMOS.values()}
    assert made == tested


# --- JupyterLab, isolated and offline ----------------------------------------------------


@dataclass
class Lab:
    url: str  # ends with "/"
    token: str

    def get(self, path: str) -> bytes:
        request = urllib.request.Request(
            self.url + path, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (127.0.0.1)
            return response.read()


def _write_settings(config: Path) -> None:
    """Server and lab settings that keep JupyterLab off the internet."""
    server = {
        "LabApp": {
            "news_url": None,  # no news feed fetched by the server
            "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate",
            "extension_manager": "readonly",  # no listing of PyPI
        }
    }
    (config / "jupyter_server_config.json").write_text(json.dumps(server))
    user = config / "lab" / "user-settings" / "@jupyterlab"
    plugins = {
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "extensionmanager-extension/plugin": {"enabled": False},
    }
    for plugin, values in plugins.items():
        path = user / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _write_notebook(path: Path) -> None:
    cells = [SETUP, *DEMOS.values(), FRAME_DEMO]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nbformat.write(notebook, path)


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _wait_for_server(process: subprocess.Popen, runtime: Path, log: Path, token: str) -> Lab:
    """The server once it answers (it writes jpserver-<pid>.json when it listens)."""
    deadline = time.monotonic() + STARTUP_S
    info = runtime / f"jpserver-{process.pid}.json"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited ({process.returncode}):\n{_tail(log)}", pytrace=False)
        if info.is_file():
            with contextlib.suppress(json.JSONDecodeError, KeyError, OSError):
                lab = Lab(f"http://127.0.0.1:{json.loads(info.read_text())['port']}/", token)
                lab.get("api/status")
                return lab
        time.sleep(0.1)  # polling interval
    pytest.fail(f"JupyterLab did not answer within {STARTUP_S} s:\n{_tail(log)}", pytrace=False)


def _stop(process: subprocess.Popen, lab: Lab | None) -> None:
    """Shuts the server down (and with it the kernel); terminate, then kill, if it hangs."""
    if lab is not None and process.poll() is None:
        with contextlib.suppress(OSError):
            request = urllib.request.Request(
                lab.url + "api/shutdown",
                method="POST",
                headers={"Authorization": f"token {lab.token}"},
            )
            urllib.request.urlopen(request, timeout=10).close()  # noqa: S310
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
    for stop in (process.terminate, process.kill):
        if process.poll() is not None:
            return
        stop()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if importlib.util.find_spec("jupyterlab") is None:
        pytest.fail(
            "JupyterLab is needed for this test and is not installed in this Python: "
            "run `make test` (it installs requirements.txt)",
            pytrace=False,
        )
    home = tmp_path_factory.mktemp("jupyterlab")
    folders = {
        name: home / name for name in ("config", "data", "runtime", "ipython", "root", "home")
    }
    for folder in folders.values():
        folder.mkdir()
    _write_settings(folders["config"])
    _write_notebook(folders["root"] / NOTEBOOK)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(folders["config"]),
        "JUPYTER_DATA_DIR": str(folders["data"]),
        "JUPYTER_RUNTIME_DIR": str(folders["runtime"]),
        "IPYTHONDIR": str(folders["ipython"]),
        "HOME": str(folders["home"]),
        # The venv's etc/ and share/jupyter come first (lab extensions, kernel spec).
        "JUPYTER_PREFER_ENV_PATH": "1",
        "PYTHONNOUSERSITE": "1",
    }
    for name in ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTERLAB_DIR"):
        env.pop(name, None)
    log = home / "jupyterlab.log"
    token = secrets.token_hex(16)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.allow_root=True",  # CI containers run the suite as root
        "--ServerApp.port=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={folders['root']}",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, cwd=folders["root"], stdout=out, stderr=subprocess.STDOUT
        )
    server = None
    try:
        server = _wait_for_server(process, folders["runtime"], log, token)
        yield server
    finally:
        _stop(process, server)


def page_config(lab: Lab) -> dict:
    html = lab.get("lab").decode()
    match = re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, "JupyterLab's page holds no jupyter-config-data"
    return json.loads(match.group(1))


def test_jupyterlab_serves_the_widget_lab_extensions_from_the_venv(lab):
    extensions = {ext["name"]: ext for ext in page_config(lab)["federated_extensions"]}
    missing = [name for name in WIDGET_EXTENSIONS if name not in extensions]
    assert not missing, f"JupyterLab does not find the lab extension(s) {missing}"
    share = Path(sys.prefix) / "share" / "jupyter" / "labextensions"
    for name in WIDGET_EXTENSIONS:
        assert (share / name / "package.json").is_file(), f"{name} is not the venv's"


# --- The notebook, opened and run in Chromium ------------------------------------------


@dataclass
class LabLog:
    """What happened in the page while JupyterLab was open."""

    external: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return (
            [f"request left 127.0.0.1: {url}" for url in self.external]
            + [f"console error: {text}" for text in self.console_errors]
            + [f"page error: {text}" for text in self.page_errors]
        )


@dataclass
class Notebook:
    page: object
    log: LabLog

    def demo(self, name: str):
        return self.page.locator(f'.jp-OutputArea-output [data-demo="{name}"]')


NOTEBOOK_STATE = """() => {
  const notebook = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  const cells = [...notebook.querySelectorAll('.jp-Cell')];
  return {
    cells: cells.map(c => c.classList.contains('jp-CodeCell') ? 'code'
      : c.classList.contains('jp-MarkdownCell') ? 'markdown' : 'raw'),
    active: cells.findIndex(c => c.classList.contains('jp-mod-active')),
    selected: cells.filter(c => c.classList.contains('jp-mod-selected')).length,
    mode: notebook.classList.contains('jp-mod-editMode') ? 'edit' : 'command',
    outputs: notebook.querySelectorAll('[data-demo]').length,
  };
}"""


def _is_local(url: str) -> bool:
    return url.startswith(("data:", "blob:")) or urlparse(url).hostname == "127.0.0.1"


def _wait_for_demos(page) -> None:
    """Every cell ran without an error and every demo is drawn in its output."""
    errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    assert errors.count() == 0, "a cell failed:\n" + "\n".join(errors.all_inner_texts())
    expected = len(DEMOS) + 1
    try:
        # Live demos mark their root once drawn (data-redraws), frame demos theirs once
        # the first figure is shown (data-response-ms).
        page.wait_for_function(
            """n => document.querySelectorAll('.jp-OutputArea-output .upsampling-demo'
                 + ':is([data-redraws], [data-response-ms])').length === n""",
            arg=expected,
            timeout=30_000,
        )
    except PlaywrightTimeout:
        outputs = page.locator(".jp-CodeCell .jp-OutputArea-output").all_inner_texts()
        shown = "\n".join(f"  {text.strip()[:100]!r}" for text in outputs)
        pytest.fail(f"the {expected} demos are not all drawn; the outputs show:\n{shown}")


def _run_all_cells(page) -> None:
    """Runs the notebook from the Run menu once its kernel is ready; waits for every cell."""
    page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(timeout=60_000)
    # The status bar names the kernel and says Idle once the kernel has started.
    page.locator(".jp-StatusBar-TextItem", has_text="| Idle").wait_for(timeout=60_000)
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
    page.wait_for_function(
        """n => {
          const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
          return prompts.length === n && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
        }""",
        arg=1 + len(DEMOS) + 1,
        timeout=RUN_ALL_MS,
    )


@pytest.fixture(scope="module")
def notebook(lab, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    log = LabLog()

    def route(route):
        if _is_local(route.request.url):
            route.continue_()
        else:
            log.external.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and log.console_errors.append(m.text))
    page.on("pageerror", lambda e: log.page_errors.append(str(e)))
    page.on("websocket", lambda ws: _is_local(ws.url) or log.external.append(ws.url))
    page.goto(f"{lab.url}lab/tree/{NOTEBOOK}?token={lab.token}")
    try:
        _run_all_cells(page)
        _wait_for_demos(page)
    except Exception:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=ARTIFACTS / "jupyterlab-notebook.png", full_page=True)
        raise
    context.set_default_timeout(10_000)  # a demo answers a key at once: fail fast
    yield Notebook(page, log)
    context.close()
    assert log.problems() == []  # also when the tests run in another order


def test_the_kernel_is_the_venvs_python(notebook):
    first = notebook.page.locator(".jp-CodeCell").first.locator(".jp-OutputArea-output")
    assert first.inner_text().strip() == sys.prefix
    assert sys.prefix != sys.base_prefix  # the venv, not the system's Python


@pytest.mark.parametrize("name", [*DEMOS, "frames"])
def test_every_demo_renders_in_its_output_with_its_styles(notebook, name):
    if name == "frames":
        root = notebook.page.locator(
            '.jp-OutputArea-output .upsampling-demo[data-demo-kind="frames"]'
        )
        styled = ".upsampling-demo-controls"
    else:
        root = notebook.demo(name)
        styled = ".live-controls"
    root.wait_for(timeout=30_000)
    assert root.count() == 1
    # Its stylesheet is in the page: the root's border and the controls' flex layout.
    style = root.evaluate(
        """(root, styled) => {
          const box = getComputedStyle(root), bar = getComputedStyle(root.querySelector(styled));
          return [box.borderTopLeftRadius, box.borderTopStyle, bar.display];
        }""",
        styled,
    )
    assert style == ["6px", "solid", "flex"], f"{name}: styles not applied ({style})"


# --- Working the demos from the keyboard ---------------------------------------------------


def _focused(page) -> str:
    return page.evaluate(
        "() => { const a = document.activeElement;"
        " return a.getAttribute('aria-label') ?? a.textContent ?? a.tagName; }"
    )


def press(notebook: Notebook, field, *keys: str) -> None:
    """Presses ``keys`` in ``field`` (focused first); the notebook must not take them.

    JupyterLab's command mode binds plain keys (arrows move between cells, A/B insert
    one, M makes it Markdown, digits make a heading); a key meant for the demo that the
    notebook acts on changes its cells or its active cell, or takes the focus out of the
    demo.
    """
    page = notebook.page
    field.scroll_into_view_if_needed()
    field.focus()
    label = _focused(page)
    before = page.evaluate(NOTEBOOK_STATE)
    for key in keys:
        page.keyboard.press(key)
    after = page.evaluate(NOTEBOOK_STATE)
    assert after == before, f"JupyterLab took {keys} typed into {label!r}"
    assert field.evaluate("f => f.closest('.upsampling-demo').contains(document.activeElement)"), (
        f"{keys} in {label!r} moved the focus to {_focused(page)!r}"
    )


def type_into(notebook: Notebook, field, text: str) -> None:
    """Selects what ``field`` holds and types ``text`` there, key by key."""
    press(notebook, field, "Control+a", *text)
    assert field.evaluate("f => f.value ?? f.textContent") == text


def control(demo, name: str, axis: str | None = None):
    scope = demo.locator(f'[role="group"][aria-label="{axis}"]') if axis else demo
    return scope.locator(f'input[aria-label="{name}"], select[aria-label="{name}"]').first


def numbers(demo, caption: str) -> np.ndarray:
    """A number table's values (each cell's exact value, NaN where it is empty); none
    where its cells are out of sight (veiled: a refused setting)."""
    rows = demo.locator(f'table[data-array="{caption}"]').evaluate(
        f"""t => {ROWS_IN_SIGHT}(t.tBodies[0].rows).map(r => [...r.cells].map(
             c => c.dataset.value === undefined ? NaN : Number(c.dataset.value)))"""
    )
    return np.array(rows, dtype=float).reshape(len(rows), -1)


def texts(demo, caption: str) -> list[list[str]]:
    return demo.locator(f'table[data-array="{caption}"]').evaluate(
        "t => [...t.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent))"
    )


def opened(notebook: Notebook, name: str):
    """The demo, back to the settings it opened with (its Reset button)."""
    demo = notebook.demo(name)
    demo.get_by_role("button", name="Reset").click()
    return demo


def message(demo) -> str:
    return demo.locator(".live-message").text_content()


def _conv_transpose(x, w, **kwargs) -> np.ndarray:
    return upsampling.conv_transpose2d(x[None, None], w[None, None], **kwargs)[0, 0]


def test_size_tracker_follows_input_size_and_fix(notebook):
    demo = opened(notebook, "size-tracker")
    type_into(notebook, control(demo, "input_size"), "37")
    press(notebook, control(demo, "fix"), "ArrowDown")  # a <select>: the next fix
    assert message(demo) == ""
    plan = size_plan(37, 4, 3, 2, 1, fix=FIXES[1])
    rows = texts(demo, "sizes")
    assert [int(r[1]) for r in rows] == plan.encoder
    for step in plan.decoder:
        assert (int(rows[step.level - 1][2]), int(rows[step.level - 1][3])) == (step.raw, step.size)


def test_max_unpool_takes_output_size_from_the_checkbox(notebook):
    demo = opened(notebook, "max-unpool")
    press(notebook, control(demo, "output_size"), "Space")
    five = np.arange(25.0)[::-1].reshape(1, 1, 5, 5)
    pooled, indices = upsampling.max_pool2d(five, 2, stride=2, return_indices=True)
    out = upsampling.max_unpool2d(pooled, indices, 2, stride=2, output_size=(5, 5))
    np.testing.assert_array_equal(numbers(demo, "pooled"), pooled[0, 0])
    np.testing.assert_array_equal(numbers(demo, "indices"), indices[0, 0])
    np.testing.assert_array_equal(numbers(demo, "output"), out[0, 0])


def _zoom(demo) -> tuple[int, int]:
    caption = demo.locator("figcaption").first.text_content()
    match = re.search(r"rows (\d+)–\d+, columns (\d+)–", caption)
    return int(match.group(1)), int(match.group(2))


def test_upsample_photo_follows_mode_scale_factor_and_the_zoom(notebook):
    demo = opened(notebook, "upsample-photo")
    press(notebook, control(demo, "mode"), "ArrowDown")  # nearest -> nearest-exact
    press(notebook, control(demo, "scale_factor"), "ArrowRight")  # 1.5 -> 1.51
    r0, c0 = _zoom(demo)
    press(notebook, demo.locator("canvas").first, "ArrowDown")  # the zoomed region
    assert _zoom(demo) == (r0 + 1, c0)
    r0 += 1
    image = np.round(sample_image(48), 3)
    factor = 1.51
    np.testing.assert_array_equal(numbers(demo, "input"), image[r0 : r0 + 4, c0 : c0 + 4])
    out = upsample(image, "nearest-exact", factor)
    at = [min(n, int(np.floor(i * factor))) for i, n in zip((r0, c0), out.shape, strict=True)]
    to = [min(n, int(np.floor((i + 4) * factor))) for i, n in zip((r0, c0), out.shape, strict=True)]
    np.testing.assert_allclose(
        numbers(demo, "output"), out[at[0] : to[0], at[1] : to[1]], rtol=1e-12, atol=1e-12
    )


def test_pool_restore_follows_depth_mode_align_corners_and_the_zoom(notebook):
    demo = opened(notebook, "pool-restore")
    press(notebook, control(demo, "depth"), "ArrowLeft")  # 3 -> 2
    press(notebook, control(demo, "align_corners"), "Space")
    r0, c0 = _zoom(demo)
    press(notebook, demo.locator("canvas").nth(1), "ArrowRight")  # the zoomed region
    assert _zoom(demo) == (r0, c0 + 1)
    c0 += 1
    image = np.round(sample_image(64), 3)
    small, restored = pool_and_restore(image, 2, "bilinear", align_corners=True)
    np.testing.assert_array_equal(numbers(demo, "input"), image[r0 : r0 + 4, c0 : c0 + 4])
    cover = small[r0 // 4 : (r0 + 3) // 4 + 1, c0 // 4 : (c0 + 3) // 4 + 1]  # 4 pixels a cell
    np.testing.assert_array_equal(numbers(demo, "pooled"), cover)
    np.testing.assert_allclose(
        numbers(demo, "restored"), restored[r0 : r0 + 4, c0 : c0 + 4], rtol=1e-12, atol=1e-12
    )
    error = float(demo.locator(".live-note output").get_attribute("data-value"))
    assert error == pytest.approx(np.abs(restored - image).mean(), rel=1e-12)
    press(notebook, control(demo, "mode"), "ArrowUp")  # bilinear -> nearest-exact
    assert message(demo).startswith("ValueError: align_corners")  # the package refuses it


def test_scatter_add_follows_its_controls(notebook):
    demo = opened(notebook, "scatter-add")
    step = control(demo, "step")
    press(notebook, step, "End")  # the last step: the whole result
    assert step.input_value() == "4"
    type_into(notebook, control(demo, "stride", "width"), "3")
    np.testing.assert_allclose(numbers(demo, "output"), _conv_transpose(X2, K2, stride=(2, 3)))
    press(notebook, step, "ArrowLeft")  # three copies placed
    assert step.input_value() == "3", "ArrowLeft did not move the step slider"
    first = np.array([[2.0, 0.0], [4.0, 0.0]])
    np.testing.assert_allclose(
        numbers(demo, "full result"), _conv_transpose(first, K2, stride=(2, 3))
    )


def test_scatter_add_editing_cells_from_the_keyboard(notebook):
    """Digits, a minus sign, Tab, Enter and the arrows typed into the input grid edit and
    move between its cells, as in the book; the notebook takes none of them."""
    demo = opened(notebook, "scatter-add")
    press(notebook, control(demo, "step"), "End")
    cell = demo.locator('[aria-label="input[0, 1]"]')
    type_into(notebook, cell, "-2.5")
    x = np.array([[2.0, -2.5], [4.0, 1.0]])
    np.testing.assert_allclose(numbers(demo, "output"), _conv_transpose(x, K2, stride=2))
    press(notebook, cell, "Tab")  # on to input[1, 0]
    assert _focused(notebook.page) == "input[1, 0]"
    type_into(notebook, demo.locator('[aria-label="input[1, 0]"]'), "7")
    x[1, 0] = 7
    np.testing.assert_allclose(numbers(demo, "output"), _conv_transpose(x, K2, stride=2))
    press(notebook, demo.locator('[aria-label="input[0, 0]"]'), "Enter")  # down
    assert _focused(notebook.page) == "input[1, 0]"
    press(notebook, demo.locator('[aria-label="input[1, 0]"]'), "ArrowUp")
    assert _focused(notebook.page) == "input[0, 0]"
    press(notebook, cell, "m", "b")  # letters: refused by the cell, kept from the notebook
    assert cell.get_attribute("aria-invalid") == "true"
    np.testing.assert_allclose(numbers(demo, "output"), _conv_transpose(x, K2, stride=2))


def test_shape_explorer_follows_output_padding(notebook):
    demo = opened(notebook, "shape-explorer")
    type_into(notebook, control(demo, "output_padding"), "1")
    assert message(demo) == ""
    size = upsampling.conv_transpose_output_size(3, 3, 2, 1, 1, 1)
    ones = _conv_transpose(
        np.ones((1, 3)), np.ones((1, 3)), stride=(1, 2), padding=(0, 1), output_padding=(0, 1)
    )
    np.testing.assert_array_equal(numbers(demo, "output"), ones)
    assert ones.shape == (1, size)


def test_conv_matrix_follows_the_stride(notebook):
    demo = opened(notebook, "conv-matrix")
    type_into(notebook, control(demo, "stride", "width"), "1")
    w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    C = upsampling.conv_matrix(w, (5, 5), stride=(2, 1))
    np.testing.assert_array_equal(numbers(demo, "C"), C)
    np.testing.assert_array_equal(numbers(demo, "Cᵀ"), C.T)


def test_overlap_follows_the_stride(notebook):
    demo = opened(notebook, "overlap")
    type_into(notebook, control(demo, "stride"), "3")
    ones = np.ones((3, 3))
    counts = upsampling.overlap_counts((6, 6), kernel_size=3, stride=3)
    np.testing.assert_array_equal(numbers(demo, "overlap"), counts)
    np.testing.assert_array_equal(
        numbers(demo, "output"), _conv_transpose(np.ones((6, 6)), ones, stride=3)
    )
    np.testing.assert_array_equal(numbers(demo, "phase sums"), phase_sums(ones, 3))


def test_frame_demo_switches_frames(notebook):
    root = notebook.page.locator('.jp-OutputArea-output .upsampling-demo[data-demo-kind="frames"]')
    image = root.locator("img.upsampling-demo-frame")
    seen = []
    for target, key, index in (
        (root.locator('input[type="range"][aria-label="depth"]'), "ArrowRight", "2"),
        (root.get_by_role("radio", name="bilinear"), "Enter", "3"),
    ):
        press(notebook, target, key)
        notebook.page.wait_for_function(
            "([root, i]) => root.dataset.frameIndex === i && root.dataset.responseMs !== undefined",
            arg=[root.element_handle(), index],
            timeout=10_000,
        )
        assert image.evaluate("i => i.complete && i.naturalWidth > 0")
        seen.append(image.get_attribute("src"))
    assert len(set(seen)) == 2


def _run_new_cell(notebook: Notebook, code: str) -> str:
    """Adds a cell at the end of the notebook (B in command mode), runs it, returns its text."""
    page = notebook.page
    last = page.locator(".jp-Notebook .jp-Cell").last
    last.locator(".jp-InputPrompt").click()
    cells = page.locator(".jp-Notebook .jp-Cell").count()
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")
    new = page.locator(".jp-Notebook .jp-Cell").nth(cells)
    prompt = new.locator(".jp-InputPrompt")
    page.wait_for_function("p => /\\[\\d+\\]/.test(p.textContent)", arg=prompt.element_handle())
    return new.locator(".jp-OutputArea").inner_text().strip()


def test_settings_travel_between_the_page_and_the_kernel(notebook):
    """With a kernel, ``demo.settings`` follows the page, and settings set in Python show
    in the page (the scatter-add, reached through ``Out`` of its cell)."""
    demo = opened(notebook, "scatter-add")
    type_into(notebook, control(demo, "stride", "height"), "3")
    cell = notebook.page.locator(".jp-CodeCell", has=demo)
    count = re.search(r"\d+", cell.locator(".jp-InputPrompt").text_content()).group()
    assert _run_new_cell(notebook, f'print(Out[{count}].settings["stride"])') == "[3, 2]"
    _run_new_cell(
        notebook,
        f'Out[{count}].settings = {{**Out[{count}].settings, "stride": [1, 4], "step": 4}}',
    )
    notebook.page.wait_for_function(
        "i => i.value === '4'", arg=control(demo, "stride", "width").element_handle()
    )
    assert control(demo, "stride", "height").input_value() == "1"
    np.testing.assert_allclose(numbers(demo, "output"), _conv_transpose(X2, K2, stride=(1, 4)))


def test_no_console_error_and_no_request_leaves_127_0_0_1(notebook):
    """Last: what the page logged while the tests above worked the demos. JupyterLab logs
    nothing at the error level here, so no message is filtered out."""
    assert notebook.log.problems() == []
