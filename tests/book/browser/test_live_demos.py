"""The live demos in Chromium, offline: the contract every demo keeps, and chapter 3's numbers.

Generic, for every ``[data-demo]`` of every chapter (demos are found on the page, not
listed here): the root's name; every array a ``<table>`` with a ``<caption>``; every
control an ``<input>``/``<select>`` labelled with the package's argument name (per-axis
ones in a ``height``/``width`` group), the step control labelled ``step``; every control,
operated from the keyboard, changes what is shown; editing a cell changes a result;
reset goes back; the "Copy as Python" text runs with the package; every number shown in
a table fits its cell; no console error and no request leaving 127.0.0.1.

Chapter 3: the scatter-add, the shape explorer and the matrix view set through their
controls for sampled settings (odd, non-square, every argument), their tables compared
with the numpy package computed here, rejected settings with the package's own message.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import ROWS_IN_SIGHT, toc_pages, wait_for_demos

import upsampling
from benchmarks.demo_redraw import maximise

CHAPTERS = [name for name in toc_pages() if re.match(r"\d\d_", name)]
BOOK = Path(__file__).resolve().parents[3] / "book"
#: The chapters whose source makes a live demo (a ``...Demo(`` call of upsampling.widgets).
LIVE_CHAPTERS = [
    name
    for name in CHAPTERS
    if re.search(r"^[A-Z]\w*Demo\(", (BOOK / name.replace(".html", ".md")).read_text(), re.M)
]
CH3 = "03_transposed_convolution.html"


def _argument_names() -> set[str]:
    """Every parameter name of the package's public functions (what a control may be
    labelled), plus ``step``, the framework's step-through control."""
    import importlib
    import inspect
    import pkgutil

    names = {"step"}
    modules = [upsampling] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(upsampling.__path__, "upsampling.")
        if not any(part.startswith("_") for part in info.name.split("."))
        and ".grading" not in info.name
        and ".widgets" not in info.name
    ]
    for module in modules:
        for attr, value in vars(module).items():
            if attr.startswith("_") or not callable(value):
                continue
            with contextlib.suppress(TypeError, ValueError):
                names |= set(inspect.signature(value).parameters)
    return names


#: The package's argument names a control may carry.
ARGUMENTS = _argument_names()

# The numbers of every table, by caption; a table whose cells are out of sight (veiled: a
# refused setting) shows none.
READ_TABLES = f"""root => Object.fromEntries([...root.querySelectorAll('table')].map(t => [
  t.querySelector('caption')?.textContent ?? '',
  {ROWS_IN_SIGHT}(t.tBodies[0].rows).map(r => [...r.cells].map(c => {{
    const typed = c.querySelector('[contenteditable]');
    if (typed) return typed.textContent === '' ? null : Number(typed.textContent);
    return c.dataset.value === undefined ? null : Number(c.dataset.value);
  }}))
]))"""

# What a demo shows, as text: every table (its cells row by row, none if they are veiled,
# then what its editable cells hold after a "|"), the message, the notes and the readouts.
# textContent, not innerText: a large array's table is kept out of layout (drawn on a
# canvas instead).
SHOWN = f"""root => [...root.querySelectorAll('table, .live-message, .live-note, output')]
  .map(n => n.tagName === 'TABLE'
    ? {ROWS_IN_SIGHT}(n.rows).map(r => [...r.cells].map(c => c.textContent).join('\\t'))
      .join('\\n')
      + '|' + [...n.querySelectorAll('[contenteditable]')].map(i => i.textContent).join(',')
    : n.textContent).join('\\n')"""


def tables(demo) -> dict[str, np.ndarray]:
    return {name: np.array(rows, dtype=float) for name, rows in demo.evaluate(READ_TABLES).items()}


def shown(demo) -> str:
    return demo.evaluate(SHOWN)


def live_demos(page):
    demos = page.locator("[data-demo]")
    return [demos.nth(i) for i in range(demos.count())]


def control(demo, name: str, axis: str | None = None):
    scope = demo.locator(f'[role="group"][aria-label="{axis}"]') if axis else demo
    return scope.locator(f'input[aria-label="{name}"], select[aria-label="{name}"]').first


def set_value(demo, name: str, value, axis: str | None = None) -> None:
    """Types ``value`` into a control, as a reader would (fill fires the input event)."""
    field = control(demo, name, axis)
    field.fill(str(value))
    assert field.get_attribute("aria-invalid") is None, f"{name}={value} refused by the page"


def set_pair(demo, name: str, pair) -> None:
    for axis, value in zip(("height", "width"), pair, strict=True):
        set_value(demo, name, value, axis)


def message(demo) -> str:
    return demo.locator(".live-message").text_content()


# --- The contract, for every live demo of every chapter ------------------------------------


@pytest.mark.parametrize("name", LIVE_CHAPTERS)
def test_every_live_demo_keeps_the_contract(name, open_page):
    page, log = open_page(name)
    wait_for_demos(page)
    demos = live_demos(page)
    assert demos, f"{name} makes a live demo in its source and shows none"
    names = [demo.get_attribute("data-demo") for demo in demos]
    assert all(re.fullmatch(r"[a-z][a-z0-9-]*", n) for n in names), names
    assert len(set(names)) == len(names), f"two demos share a name on {name}: {names}"
    for demo, demo_name in zip(demos, names, strict=True):
        where = f"{demo_name} on {name}"
        captions = demo.locator("table > caption").all_text_contents()
        assert demo.locator("table").count() >= 1, f"{where} shows no table"
        assert demo.locator("table").count() == len(captions), f"{where}: a table lacks a caption"
        assert all(c.strip() for c in captions), f"{where}: an empty caption"
        fields = demo.locator("input, select, [contenteditable]")
        assert fields.count() >= 1
        for i in range(fields.count()):
            field = fields.nth(i)
            label = field.get_attribute("aria-label")
            in_grid = field.evaluate("f => !!f.closest('table[data-editable]')")
            if in_grid:
                # A cell the reader types in: a text box named for its array and place.
                caption = field.evaluate("f => f.closest('table').caption.textContent")
                assert re.fullmatch(rf"{re.escape(caption)}\[\d+, \d+\]", label or ""), label
                assert field.get_attribute("role") == "textbox", label
                assert field.evaluate("f => f.isContentEditable"), label
                continue
            assert label in ARGUMENTS, f"{where}: a control labelled {label!r}"
            axis = field.evaluate("f => f.closest('[role=group]')?.getAttribute('aria-label')")
            if field.get_attribute("data-axis"):
                assert axis == field.get_attribute("data-axis") in ("height", "width"), where
            if label == "step":
                assert field.get_attribute("type") == "range", where
        buttons = demo.locator("button").all_text_contents()
        assert "Reset" in buttons and "Copy as Python" in buttons, f"{where}: {buttons}"
    assert log.problems() == []


def _press(field) -> str:
    """Changes a control from the keyboard; returns the key pressed."""
    field.focus()
    kind = field.evaluate("f => f.tagName === 'SELECT' ? 'select' : f.type")
    if kind == "checkbox":
        field.press("Space")
        return "Space"
    if kind == "select":
        options = field.locator("option").count()
        key = "ArrowDown" if field.evaluate("f => f.selectedIndex") < options - 1 else "ArrowUp"
    else:
        at_top = field.evaluate("f => f.max !== '' && Number(f.value) >= Number(f.max)")
        key = "ArrowDown" if at_top else "ArrowUp"
        if kind == "range":
            key = "ArrowLeft" if at_top else "ArrowRight"
    field.press(key)
    return key


@pytest.mark.parametrize("name", LIVE_CHAPTERS)
def test_every_control_of_every_live_demo_changes_what_is_shown(name, open_page):
    """From the settings the page opens with (where a demo makes its point), each control
    operated from the keyboard changes the tables, notes or message, and so does an edited
    cell; reset brings back what the page opened with."""
    page, log = open_page(name)
    wait_for_demos(page)
    demos = live_demos(page)
    assert demos, f"{name} makes a live demo in its source and shows none"
    for demo in demos:
        where = demo.get_attribute("data-demo")
        demo.scroll_into_view_if_needed()
        opened = shown(demo)
        reset = demo.get_by_role("button", name="Reset")
        fields = demo.locator("input:not(table input), select")
        for i in range(fields.count()):
            field = fields.nth(i)
            label = field.get_attribute("aria-label")
            axis = field.get_attribute("data-axis") or ""
            key = _press(field)
            assert shown(demo) != opened, f"{where}: {label} {axis} ({key}) changed nothing"
            reset.click()
            assert shown(demo) == opened, f"{where}: reset after {label} {axis} left a change"
        cells = demo.locator("table[data-editable] [contenteditable]")
        if cells.count():
            cell = cells.first
            value = cell.text_content()
            cell.click()
            cell.fill("7" if value != "7" else "-2")
            outside = re.sub(r"\|[^\n]*", "", shown(demo)) != re.sub(r"\|[^\n]*", "", opened)
            assert outside, f"{where}: editing {cell.get_attribute('aria-label')} changed no result"
            reset.click()
            assert shown(demo) == opened, f"{where}: reset after an edit left a change"
    assert log.problems() == []


@pytest.mark.parametrize("name", LIVE_CHAPTERS)
def test_copy_as_python_runs_with_the_package(name, open_page):
    """The Python call a demo offers runs, with the package, for its opening settings."""
    page, log = open_page(name)
    wait_for_demos(page)
    demos = live_demos(page)
    assert demos, f"{name} makes a live demo in its source and shows none"
    for demo in demos:
        code = demo.locator(".live-python code").text_content()
        assert "from upsampling" in code, code
        namespace: dict = {}
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, demo.get_attribute("data-demo"), "exec"), namespace)  # noqa: S102
    assert log.problems() == []


def test_chapter_3_has_its_three_live_demos(open_page):
    page, log = open_page(CH3)
    wait_for_demos(page)
    names = [demo.get_attribute("data-demo") for demo in live_demos(page)]
    assert names == ["scatter-add", "shape-explorer", "conv-matrix"]
    assert page.evaluate("typeof globalThis.upsamplingOps.conv_transpose2d") == "function"
    assert log.problems() == []


# --- Chapter 3: the numbers are the package's ----------------------------------------------


@pytest.fixture
def chapter_3(open_page):
    page, log = open_page(CH3)
    wait_for_demos(page)
    demos = {demo.get_attribute("data-demo"): demo for demo in live_demos(page)}
    yield demos
    assert log.problems() == []


def _grid(demo, name: str, values: np.ndarray) -> None:
    """Sizes an editable grid through input_size/kernel_size and types every value."""
    key = {"input": "input_size", "weight": "kernel_size"}[name]
    set_pair(demo, key, values.shape)
    cells = demo.locator(f'table[data-array="{name}"] [contenteditable]')
    assert cells.count() == values.size
    for k, v in enumerate(values.ravel()):
        cells.nth(k).fill(repr(float(v)))


def _step_to(demo, step: int) -> None:
    """Moves the step slider (a range input cannot be typed into)."""
    control(demo, "step").evaluate(
        "(f, v) => { f.value = String(v); f.dispatchEvent(new Event('input', {bubbles: true})); }",
        step,
    )
    assert control(demo, "step").input_value() == str(step)


def _conv_transpose(x, w, **kwargs) -> np.ndarray:
    return upsampling.conv_transpose2d(x[None, None], w[None, None], **kwargs)[0, 0]


SCATTER_CASES = [
    # input shape, kernel shape, stride, padding, output_padding, dilation
    ((2, 2), (3, 3), (1, 1), (0, 0), (0, 0), (1, 1)),
    ((3, 5), (2, 3), (2, 3), (1, 0), (1, 2), (1, 1)),
    ((4, 1), (5, 2), (3, 1), (2, 0), (0, 0), (2, 3)),
    ((1, 6), (1, 4), (4, 2), (0, 1), (3, 1), (1, 2)),
    ((5, 3), (3, 3), (2, 2), (1, 1), (1, 0), (2, 1)),
    ((8, 8), (5, 5), (4, 4), (3, 2), (2, 3), (3, 3)),
]


@pytest.mark.parametrize("case", SCATTER_CASES, ids=lambda c: "x".join(map(str, c[0] + c[1])))
def test_scatter_add_computes_what_the_package_computes(chapter_3, case):
    demo = chapter_3["scatter-add"]
    shape, kshape, stride, padding, output_padding, dilation = case
    rng = np.random.default_rng(sum(shape + kshape + stride))
    x = rng.integers(-4, 5, shape).astype(float)
    w = np.round(rng.standard_normal(kshape), 2)
    _grid(demo, "input", x)
    _grid(demo, "weight", w)
    # padding last: the largest padding the page offers depends on the others.
    for key, pair in (("stride", stride), ("dilation", dilation)):
        set_pair(demo, key, pair)
    set_pair(demo, "output_padding", output_padding)
    set_pair(demo, "padding", padding)
    args = dict(stride=stride, padding=padding, output_padding=output_padding, dilation=dilation)
    _step_to(demo, x.size)
    assert message(demo) == ""
    shown_ = tables(demo)
    np.testing.assert_array_equal(shown_["input"], x)
    np.testing.assert_array_equal(shown_["weight"], w)
    np.testing.assert_allclose(shown_["output"], _conv_transpose(x, w, **args), rtol=1e-12)
    # Every step: the full result is the sum of the first copies, uncropped, and the
    # overlap counts the copies that landed on each cell.
    full = dict(args, padding=0)
    for step in sorted({0, 1, x.size // 2, x.size}):
        _step_to(demo, step)
        first = (np.arange(x.size) < step).reshape(shape).astype(float)
        shown_ = tables(demo)
        np.testing.assert_allclose(
            shown_["full result"], _conv_transpose(x * first, w, **full), rtol=1e-12, atol=1e-12
        )
        np.testing.assert_array_equal(
            shown_["overlap"], _conv_transpose(first, np.ones_like(w), **full)
        )


def test_scatter_add_presets_give_the_worked_examples(chapter_3):
    """COURSE.md's worked examples (verified with PyTorch), through the presets."""
    demo = chapter_3["scatter-add"]
    demo.get_by_role("button", name="seed 001").click()
    np.testing.assert_array_equal(tables(demo)["output"], [[0, 0, 1], [0, 4, 6], [4, 12, 9]])
    demo.get_by_role("button", name="seed 002").click()
    np.testing.assert_array_equal(tables(demo)["output"], [[0, 6, 0], [18, 12, 2], [0, 13, 0]])
    set_pair(demo, "output_padding", (1, 1))
    np.testing.assert_array_equal(
        tables(demo)["output"], [[0, 6, 0, 0], [18, 12, 2, 1], [0, 13, 0, 3], [20, 8, 5, 2]]
    )
    demo.get_by_role("button", name="not a deconvolution").click()
    np.testing.assert_array_equal(
        tables(demo)["output"],
        [
            [0, 3, -3, -1, 0],
            [3, -17, 17, -2, -1],
            [-2, 11, -18, 17, -3],
            [-3, 12, -5, -13, 3],
            [0, -3, 2, 3, 0],
        ],
    )
    demo.get_by_role("button", name="ones").click()
    set_pair(demo, "stride", (2, 2))
    shown_ = tables(demo)
    assert set(np.unique(shown_["overlap"])) == {1, 2, 4}  # chapter 4's uneven overlap
    demo.get_by_role("button", name="random").click()
    shown_ = tables(demo)
    np.testing.assert_allclose(
        shown_["output"], _conv_transpose(shown_["input"], shown_["weight"], stride=2)
    )


def test_scatter_add_editing_a_cell_changes_the_output_as_the_package_says(chapter_3):
    demo = chapter_3["scatter-add"]
    _step_to(demo, 4)
    cell = demo.locator('[aria-label="input[0, 1]"]')
    cell.click()
    cell.press("Control+a")
    cell.type("-2.5")
    x = np.array([[2, -2.5], [4, 1]])
    w = np.array([[4, 2, 1], [1, 0, 3], [0, 5, 2]], dtype=float)
    np.testing.assert_allclose(tables(demo)["output"], _conv_transpose(x, w, stride=2))
    # Keyboard: arrows move between cells, a refused entry changes nothing.
    cell.press("ArrowDown")
    focused = page_focus(demo)
    assert focused == "input[1, 1]"
    demo.page.keyboard.type("x")
    assert demo.locator('[aria-label="input[1, 1]"]').get_attribute("aria-invalid") == "true"
    np.testing.assert_allclose(tables(demo)["output"], _conv_transpose(x, w, stride=2))


def test_a_grid_cell_takes_one_line_of_text_like_an_input(chapter_3):
    """A cell is a span the reader types in (cheaper to draw than an <input>): reached with
    Tab its number is selected, so typing replaces it; Enter on the last row, bold and
    italic change nothing; the demo computes with what the cell shows."""
    demo = chapter_3["scatter-add"]
    _step_to(demo, 4)
    page = demo.page
    demo.locator('[aria-label="input[0, 0]"]').click()
    page.keyboard.press("Tab")
    assert page_focus(demo) == "input[0, 1]"
    page.keyboard.type("6")
    cell = demo.locator('[aria-label="input[0, 1]"]')
    assert cell.text_content() == "6"
    last = demo.locator('[aria-label="input[1, 1]"]')
    last.click()
    for key in ("Enter", "Shift+Enter", "Control+b", "Control+i"):
        page.keyboard.press(key)
    page.keyboard.press("End")
    page.keyboard.type("2")
    assert page_focus(demo) == "input[1, 1]"
    assert last.evaluate("c => [c.childElementCount, c.textContent]") == [0, "12"]
    x = np.array([[2, 6], [4, 12]])
    w = np.array([[4, 2, 1], [1, 0, 3], [0, 5, 2]], dtype=float)
    np.testing.assert_allclose(tables(demo)["output"], _conv_transpose(x, w, stride=2))


# The pictures of the scatter-add's sums (the full result, the overlap counts, the output),
# as PNG data URLs of what the reader sees, null where the array is shown as a table (one
# canvas per array; it may be larger than the picture, which a box around it crops).
PICTURES = """root => ['full result', 'overlap', 'output'].map(name => {
  const box = root.querySelector(`table[data-array="${name}"]`).closest('.live-array');
  const canvases = box.querySelectorAll('canvas');
  if (canvases.length !== 1) throw new Error(`${canvases.length} canvases in an array`);
  const canvas = canvases[0];
  if (canvas.parentElement.hidden) return null; // the crop hides the picture
  const ratio = canvas.width / canvas.getBoundingClientRect().width;
  const crop = canvas.parentElement; // its borders are not the canvas's
  const seen = document.createElement('canvas');
  seen.width = Math.round(crop.clientWidth * ratio);
  seen.height = Math.round(crop.clientHeight * ratio);
  seen.getContext('2d').drawImage(canvas, 0, 0);
  return seen.toDataURL();
})"""


def test_scatter_add_pictures_follow_a_control_moved_back_and_forth(chapter_3):
    """A picture drawn for the previous value comes back as it was, unless a number changed."""
    demo = chapter_3["scatter-add"]
    for key, pair in (("input_size", (8, 8)), ("kernel_size", (5, 5)), ("stride", (4, 4))):
        set_pair(demo, key, pair)
    _step_to(demo, 64)
    pictures = {}
    for padding in (0, 1, 0, 1):
        set_value(demo, "output_padding", padding, "height")
        shown_ = demo.evaluate(PICTURES)
        assert all(shown_), "every array (41×41 cells and more) is drawn"
        assert pictures.setdefault(padding, shown_) == shown_
    cell = demo.locator('[aria-label="input[7, 7]"]')
    cell.fill(str(float(tables(demo)["input"][7, 7]) + 1))
    edited = demo.evaluate(PICTURES)
    set_value(demo, "output_padding", 0, "height")
    redrawn = demo.evaluate(PICTURES)
    # The full result and the output changed (redrawn), the overlap counts did not.
    full, overlap, output = redrawn
    assert full != pictures[0][0] and output != pictures[0][2]
    assert overlap == pictures[0][1]
    set_value(demo, "output_padding", 1, "height")
    assert demo.evaluate(PICTURES) == edited
    set_value(demo, "output_padding", 0, "height")
    assert demo.evaluate(PICTURES) == redrawn


# Each cell of an array's picture against the same cell drawn whole by the browser: its
# colour filled, its number written with fillText (the picture's font and ink, centred in
# the cell), its top and left grid lines. The colour is read from the picture (a pixel
# below the number); "shift" moves the reference's number that many pixels to the right.
# Outlined cells (the mark's ink above the number) are left out. Returns [mean |difference|
# per channel over the cells compared, the largest cell's, cells compared, cells left out].
CELLS_AGAINST_FILLTEXT = """(root, [name, shift]) => {
  const table = root.querySelector(`table[data-array="${name}"]`);
  const canvas = table.closest('.live-array').querySelector('canvas');
  const crop = canvas.parentElement;
  const ratio = window.devicePixelRatio || 1;
  const labels = [...table.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent));
  const [rows, cols] = [labels.length, labels[0].length];
  const cw = Math.round(parseFloat(crop.style.width) * ratio / cols);
  const ch = Math.round(17 * ratio);
  const style = getComputedStyle(canvas);
  const shown = canvas.getContext('2d').getImageData(0, 0, cols * cw, rows * ch).data;
  const ref = document.createElement('canvas');
  ref.width = cw; ref.height = ch;
  const g = ref.getContext('2d', {willReadFrequently: true});
  let total = 0, worst = 0, outlined = 0;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    const at = (x, y) => 4 * ((r * ch + y) * cols * cw + c * cw + x);
    const mark = at(cw >> 1, Math.round(1 + ratio)); // where an outline would be
    const top = shown.slice(mark, mark + 3);
    if (Math.abs(top[0] - 216) + Math.abs(top[1] - 27) + Math.abs(top[2] - 96) < 60) {
      outlined++;
      continue;
    }
    const bg = shown.slice(at(cw - 2, ch - 2), at(cw - 2, ch - 2) + 4);
    g.clearRect(0, 0, cw, ch);
    g.fillStyle = `rgba(${bg[0]}, ${bg[1]}, ${bg[2]}, ${bg[3] / 255})`;
    g.fillRect(0, 0, cw, ch);
    g.font = `${Math.round(11 * ratio)}px ${style.fontFamily}`;
    g.textAlign = 'center'; g.textBaseline = 'middle'; g.fillStyle = style.color;
    g.fillText(labels[r][c], cw / 2 + shift, ch / 2 + ratio / 2, cw - 2 * ratio);
    g.strokeStyle = 'rgba(128, 128, 128, 0.45)'; g.lineWidth = 1;
    g.beginPath(); g.moveTo(0, 0.5); g.lineTo(cw, 0.5); g.moveTo(0.5, 0); g.lineTo(0.5, ch);
    g.stroke();
    const want = g.getImageData(0, 0, cw, ch).data;
    let sum = 0;
    for (let y = 0; y < ch; y++) for (let x = 0; x < cw; x++) {
      for (let k = 0; k < 4; k++) sum += Math.abs(shown[at(x, y) + k] - want[4 * (y * cw + x) + k]);
    }
    const mean = sum / (4 * cw * ch);
    total += mean;
    worst = Math.max(worst, mean);
  }
  const compared = rows * cols - outlined;
  return [total / compared, worst, compared, outlined];
}"""


def test_picture_cells_look_as_the_browser_writes_their_numbers(chapter_3):
    """A new cell of a picture is made in memory (its colour's empty cell, with its
    number's glyphs blended over it), not drawn by the browser: every cell must still look
    like the browser's own drawing of it, to within anti-aliasing, and a number one pixel
    off its place must not."""
    demo = chapter_3["scatter-add"]
    for key, pair in (("input_size", (8, 8)), ("kernel_size", (5, 5)), ("stride", (4, 4))):
        set_pair(demo, key, pair)
    demo.get_by_role("button", name="random", exact=True).click()
    set_pair(demo, "padding", (1, 1))  # cropped cells: their shaded colour under the number
    _step_to(demo, 63)  # (the last copy's outlined cells are drawn whole, as before)
    for name in ("full result", "output"):
        mean, worst, cells, outlined = demo.evaluate(CELLS_AGAINST_FILLTEXT, [name, 0])
        assert cells > 900 and outlined < 40, (name, cells, outlined)
        assert mean < 1.0 and worst < 4.0, (name, mean, worst)
        off_mean, *_ = demo.evaluate(CELLS_AGAINST_FILLTEXT, [name, 1])
        assert off_mean > 3 * mean + 1.0, (name, mean, off_mean)


def test_scatter_add_pictures_drawn_in_part_equal_pictures_drawn_afresh(open_page):
    """A change draws only the cells whose number, colour or mark changed, over the
    picture shown (or a copy of it on a canvas of the new shape): after each kind of change
    the pictures equal those of the same settings opened in a new page (from the URL)."""
    page, log = open_page(CH3)
    wait_for_demos(page)
    demo = {d.get_attribute("data-demo"): d for d in live_demos(page)}["scatter-add"]
    for key, pair in (("input_size", (8, 8)), ("kernel_size", (5, 5)), ("stride", (4, 4))):
        set_pair(demo, key, pair)
    # The URL is written 250 ms after the last change: each wait below is for the URL of
    # the change just made (stride is the last of these), not one still to come.
    page.wait_for_function("() => /stride=4,4/.test(location.hash)")
    hash_before = page.evaluate("location.hash")
    demo.get_by_role("button", name="random", exact=True).click()
    page.wait_for_function("h => location.hash !== h", arg=hash_before)
    changes = {
        "a row more (output_padding)": lambda: set_value(demo, "output_padding", 1, "height"),
        "the last copies undone (step)": lambda: _step_to(demo, 58),
        "an input value (a copy and maybe the colour scale)": lambda: demo.locator(
            '[aria-label="input[0, 1]"]'
        ).fill("9"),
        "the crop (padding: marks, a narrower output)": lambda: set_value(
            demo, "padding", 2, "width"
        ),
        "the row taken away again": lambda: set_value(demo, "output_padding", 0, "height"),
        "two columns more": lambda: set_value(demo, "output_padding", 2, "width"),
    }
    pictures = demo.evaluate(PICTURES)
    for what, change in changes.items():
        before, hash_before = pictures, page.evaluate("location.hash")
        change()
        pictures = demo.evaluate(PICTURES)
        assert all(pictures) and pictures != before, what
        page.wait_for_function("h => location.hash !== h", arg=hash_before)
        fresh, fresh_log = open_page(CH3 + page.evaluate("location.hash"))
        wait_for_demos(fresh)
        again = {d.get_attribute("data-demo"): d for d in live_demos(fresh)}["scatter-add"]
        assert shown(again) == shown(demo), what
        assert again.evaluate(PICTURES) == pictures, what
        assert fresh_log.problems() == []
        fresh.context.close()
    assert log.problems() == []


def test_scatter_add_picture_grown_back_shows_the_row_that_changed_out_of_sight(open_page):
    """A row the crop hid (output_padding back to 0) whose numbers then changed (an input
    value), brought back (output_padding 1 again): the canvas keeps the pixels of the rows
    out of sight, and the picture must show that row's new numbers, as a new page does."""
    page, log = open_page(CH3)
    wait_for_demos(page)
    demo = {d.get_attribute("data-demo"): d for d in live_demos(page)}["scatter-add"]
    for key, pair in (("input_size", (8, 8)), ("kernel_size", (5, 5)), ("stride", (4, 4))):
        set_pair(demo, key, pair)
    set_pair(demo, "padding", (2, 2))  # the output's last row is reached by input[7, *]
    _step_to(demo, 64)  # every copy made
    set_value(demo, "output_padding", 1, "height")
    grown, last_row = demo.evaluate(PICTURES), tables(demo)["output"][-1]
    set_value(demo, "output_padding", 0, "height")
    assert tables(demo)["output"].shape == (29, 29)
    before = tables(demo)["output"]
    demo.locator('[aria-label="input[7, 3]"]').fill("9")
    changed = tables(demo)["output"] != before
    assert changed.any() and not changed[:-4].any()  # the last rows only
    set_value(demo, "output_padding", 1, "height")
    assert (tables(demo)["output"][-1] != last_row).any()  # it changed out of sight
    pictures = demo.evaluate(PICTURES)
    assert all(pictures) and pictures != grown
    # The URL of this last change (written 250 ms after it), not one written in between:
    # the input's 9 and output_padding 1 together.
    last_change = r"/^(?=.*input=[^;]*\b9\b)(?=.*output_padding=1,0)/"
    page.wait_for_function(f"() => {last_change}.test(location.hash)")
    fresh, fresh_log = open_page(CH3 + page.evaluate("location.hash"))
    wait_for_demos(fresh)
    again = {d.get_attribute("data-demo"): d for d in live_demos(fresh)}["scatter-add"]
    assert np.array_equal(tables(again)["output"], tables(demo)["output"])
    assert again.evaluate(PICTURES) == pictures
    assert fresh_log.problems() == [] and log.problems() == []
    fresh.context.close()


def page_focus(demo) -> str | None:
    return demo.page.evaluate("document.activeElement.getAttribute('aria-label')")


def test_scatter_add_refuses_what_the_package_refuses_with_its_message(chapter_3):
    demo = chapter_3["scatter-add"]
    set_pair(demo, "stride", (2, 2))
    set_pair(demo, "output_padding", (2, 0))
    x = np.array([[2.0, 0.0], [4.0, 1.0]])
    w = np.array([[4, 2, 1], [1, 0, 3], [0, 5, 2]], dtype=float)
    with pytest.raises(ValueError) as error:
        _conv_transpose(x, w, stride=2, output_padding=(2, 0))
    assert message(demo) == f"ValueError: {error.value}"
    assert tables(demo)["output"].size == 0  # no stale numbers beside the message


def test_scatter_add_plays_to_the_end(chapter_3):
    demo = chapter_3["scatter-add"]
    _step_to(demo, 0)
    play = demo.locator("button.live-play")
    play.focus()
    play.press("Enter")
    assert play.get_attribute("aria-pressed") == "true" and play.text_content() == "Pause"
    demo.page.wait_for_function(
        "el => el.querySelector('input[aria-label=step]').value === '4'",
        arg=demo.element_handle(),
        timeout=10_000,
    )
    x = np.array([[2.0, 0.0], [4.0, 1.0]])
    w = np.array([[4, 2, 1], [1, 0, 3], [0, 5, 2]], dtype=float)
    np.testing.assert_array_equal(tables(demo)["output"], _conv_transpose(x, w, stride=2))
    assert play.get_attribute("aria-pressed") == "false" and play.text_content() == "Play"


SHAPE_CASES = [
    # input_size, kernel_size, stride, padding, output_padding, dilation
    (3, 3, 2, 1, 1, 1),
    (1, 1, 1, 0, 0, 1),
    (16, 7, 4, 5, 3, 4),
    (5, 2, 3, 0, 2, 1),
    (7, 4, 1, 2, 1, 3),
    (16, 1, 4, 0, 0, 1),
]


@pytest.mark.parametrize("case", SHAPE_CASES, ids=lambda c: "-".join(map(str, c)))
def test_shape_explorer_computes_what_the_package_computes(chapter_3, case):
    demo = chapter_3["shape-explorer"]
    i, k, s, p, op, d = case
    for key, value in zip(
        ("input_size", "kernel_size", "stride", "dilation", "output_padding", "padding"),
        (i, k, s, d, op, p),
        strict=True,
    ):
        set_value(demo, key, value)
    assert message(demo) == ""
    size = upsampling.conv_transpose_output_size(i, k, s, p, op, d)
    ones = _conv_transpose(
        np.ones((1, i)),
        np.ones((1, k)),
        stride=(1, s),
        padding=(0, p),
        output_padding=(0, op),
        dilation=(1, d),
    )
    shown_ = tables(demo)
    np.testing.assert_array_equal(shown_["output"], ones)
    assert shown_["output"].shape == (1, size)
    full = _conv_transpose(
        np.ones((1, i)), np.ones((1, k)), stride=(1, s), output_padding=(0, op), dilation=(1, d)
    )
    np.testing.assert_array_equal(shown_["overlap"], full)
    assert f"= {size}" in demo.locator(".live-note").first.text_content()
    # One row per input value; its copy's taps at i·stride + t·dilation.
    taps = shown_["copies"]
    assert taps.shape == (i, full.shape[1])
    for row in range(i):
        where = np.flatnonzero(~np.isnan(taps[row]))
        np.testing.assert_array_equal(where, row * s + d * np.arange(k))
        np.testing.assert_array_equal(taps[row, where], np.arange(k))


@pytest.mark.parametrize(
    "settings",
    [
        {"stride": 2, "output_padding": 2},  # not smaller than stride or dilation
        {"input_size": 1, "kernel_size": 1, "padding": 1},  # no output left
    ],
)
def test_shape_explorer_explains_invalid_settings_with_the_package_message(chapter_3, settings):
    demo = chapter_3["shape-explorer"]
    for key, value in settings.items():
        set_value(demo, key, value)
    current = {
        key: int(control(demo, key).input_value())
        for key in ("input_size", "kernel_size", "stride", "padding", "output_padding", "dilation")
    }
    with pytest.raises(ValueError) as error:
        upsampling.conv_transpose_output_size(**current)
    assert message(demo) == f"ValueError: {error.value}"
    assert tables(demo)["output"].size == 0


MATRIX_CASES = [
    # input_size, kernel shape, stride, padding, dilation
    ((5, 5), (3, 3), (2, 2), (0, 0), (1, 1)),
    ((4, 4), (2, 2), (2, 2), (0, 0), (1, 1)),
    ((6, 3), (3, 2), (1, 2), (1, 0), (2, 1)),
    ((2, 6), (1, 4), (3, 1), (0, 2), (1, 2)),
    ((6, 6), (6, 6), (4, 4), (3, 3), (1, 1)),
]


@pytest.mark.parametrize("case", MATRIX_CASES, ids=lambda c: "x".join(map(str, c[0] + c[1])))
def test_matrix_view_computes_what_the_package_computes(chapter_3, case):
    demo = chapter_3["conv-matrix"]
    size, kshape, stride, padding, dilation = case
    w = np.round(np.random.default_rng(sum(size + kshape)).standard_normal(kshape), 3)
    set_pair(demo, "input_size", size)
    _grid(demo, "weight", w)
    for key, pair in (("stride", stride), ("padding", padding), ("dilation", dilation)):
        set_pair(demo, key, pair)
    assert message(demo) == ""
    args = dict(stride=stride, padding=padding, dilation=dilation)
    C = upsampling.conv_matrix(w[None, None], size, **args)
    shown_ = tables(demo)
    np.testing.assert_allclose(shown_["C"], C, rtol=1e-12)
    np.testing.assert_allclose(shown_["Cᵀ"], C.T, rtol=1e-12)
    taps = (upsampling.conv_matrix(np.ones((1, 1, *kshape)), size, **args) != 0).sum(axis=0)
    np.testing.assert_array_equal(shown_["entries per row of Cᵀ"][:, 0], taps)
    np.testing.assert_array_equal(
        shown_["entries per row of Cᵀ, as the input image"], taps.reshape(size)
    )


def test_matrix_view_opens_on_uneven_rows_and_kernel_2_makes_them_even(chapter_3):
    """The chapter's claim about the rows of Cᵀ, on the page itself."""
    demo = chapter_3["conv-matrix"]
    counts = tables(demo)["entries per row of Cᵀ"]
    assert set(np.unique(counts)) == {1, 2, 4}
    set_pair(demo, "kernel_size", (2, 2))
    # On 5×5, a 2×2 window at stride 2 never reads the last row and column.
    image = tables(demo)["entries per row of Cᵀ, as the input image"]
    assert set(np.unique(image[:4, :4])) == {1} and not image[4].any() and not image[:, 4].any()
    set_pair(demo, "input_size", (4, 4))
    assert set(np.unique(tables(demo)["entries per row of Cᵀ"])) == {1}
    set_pair(demo, "input_size", (1, 1))
    set_pair(demo, "kernel_size", (3, 3))
    with pytest.raises(ValueError) as error:
        upsampling.conv_matrix(np.ones((1, 1, 3, 3)), (1, 1), stride=2)
    assert message(demo) == f"ValueError: {error.value}"


# How C's and Cᵀ's pictures stand on the page: (crop shown, table out of sight, crop height).
MATRIX_PICTURES = """d => ['C', 'Cᵀ'].map(name => {
  const box = d.querySelector(`table[data-array="${name}"]`).closest('.live-array');
  const crop = box.querySelector('.live-picture-crop');
  return [!crop.hidden, Boolean(box.querySelector('.live-shelf.live-offscreen')),
          crop.getBoundingClientRect().height];
})"""


def test_matrix_view_draws_c_at_every_size(chapter_3):
    """C and Cᵀ are pictures however few cells they have (a larger padding or dilation
    shrinks C to one row, and the demo does not switch to a table there), and their
    tables, out of sight, still hold C."""
    demo = chapter_3["conv-matrix"]
    set_pair(demo, "input_size", (2, 2))
    set_pair(demo, "kernel_size", (2, 2))
    for key, pair in (("stride", (1, 1)), ("padding", (0, 0)), ("dilation", (1, 1))):
        set_pair(demo, key, pair)
    assert message(demo) == ""
    one_row = demo.evaluate(MATRIX_PICTURES)  # C is 1×4, Cᵀ 4×1
    assert [shown_ for shown_, _, _ in one_row] == [True, True]
    assert [hidden for _, hidden, _ in one_row] == [True, True]
    np.testing.assert_array_equal(tables(demo)["C"].shape, (1, 4))
    set_pair(demo, "kernel_size", (1, 1))  # C is 4×4
    four_rows = demo.evaluate(MATRIX_PICTURES)
    assert four_rows[0][2] > 3 * one_row[0][2], (one_row, four_rows)
    np.testing.assert_array_equal(tables(demo)["C"], np.eye(4) * tables(demo)["weight"][0, 0])


# Each of C's and Cᵀ's pictures: whether it is drawn (its place on the page, and whether its
# canvas shows), and where the panel holding Cᵀ starts.
MATRIX_PLACES = """d => {
  const crops = ['C', 'Cᵀ'].map(name => d.querySelector(`table[data-array="${name}"]`)
    .closest('.live-array').querySelector('.live-picture-crop'));
  return {
    placed: crops.map(c => !c.hidden && c.getBoundingClientRect().height > 0),
    painted: crops.map(c => getComputedStyle(c).visibility === 'visible'),
    panel: crops[1].closest('.live-panel').getBoundingClientRect().top,
  };
}"""


def test_a_refused_setting_veils_the_numbers_in_place_and_the_next_shows_them_there(chapter_3):
    """A refused setting takes no cell out: the shape explorer's overlap row keeps its cells
    and its place, out of sight (so out of the accessibility tree), and the next setting
    that computes shows its numbers in those same cells (emptied, then filled again, a
    table was laid out and painted anew: 3 ms of the change back)."""
    demo = chapter_3["shape-explorer"]
    for name, value in (("input_size", 4), ("stride", 2), ("kernel_size", 3), ("padding", 4)):
        set_value(demo, name, value)
    row = demo.locator('table[data-array="overlap"]')
    cells = """t => [...t.querySelectorAll('td')]
      .map((c) => [c.kept === true, c.checkVisibility({ visibilityProperty: true })])"""
    height = row.evaluate(
        "t => { t.querySelectorAll('td').forEach((c) => (c.kept = true));"
        "  return t.getBoundingClientRect().height; }"
    )
    assert row.evaluate(cells) == [[True, True]] * 9
    set_value(demo, "kernel_size", 2)  # an empty output: the package refuses it
    assert message(demo).startswith("ValueError: ")
    assert row.evaluate(cells) == [[True, False]] * 9
    assert row.evaluate("t => t.getBoundingClientRect().height") == height
    assert tables(demo)["overlap"].size == 0  # no stale numbers beside the message
    set_value(demo, "kernel_size", 3)
    assert message(demo) == ""
    assert row.evaluate(cells) == [[True, True]] * 9
    ones = np.ones((1, 1, 1, 4)), np.ones((1, 1, 1, 3))
    counts = upsampling.conv_transpose2d(*ones, stride=(1, 2))[0, 0]
    np.testing.assert_array_equal(tables(demo)["overlap"], counts)


def test_a_refused_setting_empties_the_pictures_but_keeps_their_places(chapter_3):
    """A refused setting empties C's and Cᵀ's pictures without moving what follows them:
    the pictures keep their places, empty (taking them out, then back, laid out and
    painted the rest of the demo twice), and the message its height once it has shown
    one; the next setting that computes draws the pictures there again."""
    demo = chapter_3["conv-matrix"]
    set_pair(demo, "kernel_size", (3, 3))
    set_pair(demo, "input_size", (1, 1))  # a first message
    set_pair(demo, "input_size", (3, 3))
    demo.page.wait_for_timeout(100)  # a frame: the resize observer runs before paint
    drawn = demo.evaluate(MATRIX_PLACES)
    assert drawn["placed"] == [True, True] and drawn["painted"] == [True, True]
    set_pair(demo, "input_size", (1, 1))  # a 3×3 kernel on 1×1: the package refuses it
    with pytest.raises(ValueError) as error:
        upsampling.conv_matrix(np.ones((1, 1, 3, 3)), (1, 1))
    assert message(demo) == f"ValueError: {error.value}"
    demo.page.wait_for_timeout(100)
    refused = demo.evaluate(MATRIX_PLACES)
    assert refused["placed"] == [True, True] and refused["painted"] == [False, False]
    assert refused["panel"] == pytest.approx(drawn["panel"], abs=0.5)
    assert tables(demo)["C"].size == 0 and tables(demo)["Cᵀ"].size == 0  # no stale numbers
    set_pair(demo, "input_size", (3, 3))
    assert message(demo) == ""
    demo.page.wait_for_timeout(100)
    assert demo.evaluate(MATRIX_PLACES) == drawn
    np.testing.assert_array_equal(
        tables(demo)["C"], upsampling.conv_matrix(tables(demo)["weight"][None, None], (3, 3))
    )


# --- The Python call: only the arguments that differ from the package's defaults --------


def _run_cell(code: str):
    """Runs ``code`` as a notebook cell would: the value of its last line, if an expression."""
    import ast

    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    namespace: dict = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(tree, "copied", "exec"), namespace)  # noqa: S102
        if last is None:
            return None
        return eval(compile(ast.Expression(last.value), "copied", "eval"), namespace)  # noqa: S307


def _python(demo) -> str:
    return demo.locator(".live-python code").text_content()


def test_copied_calls_give_the_tables_numbers_for_non_default_settings(chapter_3):
    """The copied call, run with the package, gives the numbers the page shows; it names
    the arguments that differ from the package's defaults (pairs as the reader writes
    them) and leaves out those at their defaults."""
    scatter = chapter_3["scatter-add"]
    x = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    w = np.array([[1.0, 2.0], [0.0, -1.0], [4.0, 0.25]])
    _grid(scatter, "input", x)
    _grid(scatter, "weight", w)
    set_pair(scatter, "stride", (2, 3))
    set_pair(scatter, "output_padding", (1, 0))
    set_pair(scatter, "padding", (1, 1))
    _step_to(scatter, x.size)
    code = _python(scatter)
    assert "stride=(2, 3)" in code and re.search(r"(?<!\w)padding=1\b", code), code
    assert "output_padding=(1, 0)" in code and "dilation" not in code, code
    np.testing.assert_allclose(_run_cell(code), tables(scatter)["output"], rtol=1e-12)
    np.testing.assert_allclose(
        tables(scatter)["output"],
        _conv_transpose(x, w, stride=(2, 3), padding=1, output_padding=(1, 0)),
        rtol=1e-12,
    )

    matrix = chapter_3["conv-matrix"]
    set_pair(matrix, "input_size", (5, 4))
    set_pair(matrix, "stride", (1, 1))
    set_pair(matrix, "dilation", (2, 1))
    set_pair(matrix, "padding", (0, 1))
    code = _python(matrix)
    assert "stride" not in code and "dilation=(2, 1)" in code and "padding=(0, 1)" in code, code
    ct = _run_cell(code)
    np.testing.assert_array_equal(ct, tables(matrix)["Cᵀ"])
    np.testing.assert_array_equal(ct.T, tables(matrix)["C"])

    explorer = chapter_3["shape-explorer"]
    for key, value in (("input_size", 5), ("kernel_size", 4), ("stride", 1), ("padding", 0)):
        set_value(explorer, key, value)
    set_value(explorer, "dilation", 2)
    code = _python(explorer)
    assert re.search(r"\(5, 4, dilation=2\)$", code), code  # stride 1, padding 0: defaults
    assert _run_cell(code) == tables(explorer)["output"].shape[1] == 5 - 1 + 2 * 3 + 1


def _height(demo) -> float:
    """The demo's height: the chapter below moves when it changes (the blocks above may
    change size too, once they are first on screen: book/_static/long_pages.css)."""
    return demo.evaluate("el => el.getBoundingClientRect().height")


def test_a_demo_keeps_its_tallest_height_until_reset(open_page):
    """A change that makes a demo's output smaller does not move the chapter below it
    (moving a long chapter costs the browser more than the redraw); reset gives the demo
    its own height back."""
    page, log = open_page(CH3)
    wait_for_demos(page)
    scatter = {d.get_attribute("data-demo"): d for d in live_demos(page)}["scatter-add"]
    opening = _height(scatter)
    output = scatter.locator('table[data-array="output"]')
    set_pair(scatter, "input_size", (8, 8))
    set_pair(scatter, "stride", (4, 4))
    page.wait_for_function("el => el.style.minHeight !== ''", arg=scatter.element_handle())
    grown = _height(scatter)
    assert grown > opening + 50
    rows = output.locator("tr").count()
    set_pair(scatter, "input_size", (2, 2))
    page.wait_for_timeout(100)  # a frame: the resize observer runs before paint
    assert _height(scatter) == pytest.approx(grown, abs=0.5)
    assert output.locator("tr").count() < rows - 10  # the output did shrink
    scatter.get_by_role("button", name="Reset").click()
    page.wait_for_timeout(100)
    assert _height(scatter) == pytest.approx(opening, abs=0.5)
    assert log.problems() == []


# Elements of the demo past its right edge that no scroller inside the demo holds: a
# scroller (overflow-x auto) that itself ends within the demo takes them in.
STICKING_OUT = """demo => {
  const right = demo.getBoundingClientRect().right + 0.5;
  const held = (el) => {
    for (let p = el.parentElement; p && p !== demo; p = p.parentElement) {
      const scrolls = ["auto", "scroll"].includes(getComputedStyle(p).overflowX);
      if (scrolls && p.getBoundingClientRect().right <= right) return true;
    }
    return false;
  };
  return [...demo.querySelectorAll("*")]
    .filter((el) => !el.closest(".live-shelf.live-offscreen"))
    .filter((el) => el.getBoundingClientRect().right > right && !held(el))
    .map((el) => `${el.tagName} ${el.className}`);
}"""


def _scroller(locator):
    """The nearest element around ``locator`` that scrolls sideways."""
    return locator.evaluate_handle(
        """el => { for (let p = el.parentElement; p; p = p.parentElement)
             if (["auto", "scroll"].includes(getComputedStyle(p).overflowX)) return p; }"""
    )


def _left(locator) -> float:
    return locator.evaluate("el => el.getBoundingClientRect().left")


def test_a_wide_view_scrolls_sideways_by_itself(open_page):
    """At the widest settings, an array wider than the demo scrolls inside the demo, never
    the page; scrolling it leaves the demo's other views where they are (the grids being
    edited stay in sight), and the shape explorer's copies and overlap row, which share
    columns, scroll together."""
    page, log = open_page(CH3)
    wait_for_demos(page)
    demos = {d.get_attribute("data-demo"): d for d in live_demos(page)}
    scatter, explorer = demos["scatter-add"], demos["shape-explorer"]
    for name, pair in [("input_size", (8, 8)), ("kernel_size", (5, 5)), ("stride", (4, 4))]:
        set_pair(scatter, name, pair)
    set_pair(scatter, "dilation", (3, 3))
    for name, value in [("input_size", 16), ("kernel_size", 7), ("stride", 4), ("dilation", 4)]:
        set_value(explorer, name, value)
    assert page.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    for demo in (scatter, explorer, demos["conv-matrix"]):
        assert demo.evaluate(STICKING_OUT) == [], demo.get_attribute("data-demo")

    full = scatter.locator('.live-array:has(table[data-array="full result"]) canvas')
    scroller = _scroller(full)
    assert scroller.evaluate("el => el.scrollWidth > el.clientWidth + 100")
    grid = scatter.locator('table[data-array="input"]')
    before = (_left(grid), _left(full))
    scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    assert _left(full) < before[1] - 100  # the array moved...
    assert _left(grid) == before[0]  # ...and the grid being edited did not

    copies = explorer.locator('.live-array:has(table[data-array="copies"]) canvas')
    overlap = explorer.locator('table[data-array="overlap"]')
    row = _scroller(overlap)
    assert row.evaluate("(el, other) => el === other", _scroller(copies))
    aligned = _left(copies) - _left(overlap)
    row.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    assert _left(copies) - _left(overlap) == pytest.approx(aligned, abs=0.5)
    assert log.problems() == []


# The numbers of a demo's visible tables (not the editable grids, not the tables kept out
# of sight behind a picture) wider than their cell's room: [array, text, width, room].
# Cells do not clip (live.css): a column is as wide as the table's longest number.
TOO_WIDE = """root => {
  const cells = [...root.querySelectorAll('table.live-table:not(.live-editable) td')]
    .filter((td) => td.textContent && td.checkVisibility() && !td.closest('.live-offscreen'));
  const wide = [];
  for (const td of cells) {
    const range = document.createRange();
    range.selectNodeContents(td);
    const style = getComputedStyle(td);
    const room = td.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const width = range.getBoundingClientRect().width;
    const array = td.closest('table').dataset.array;
    if (width > room + 0.5) wide.push([array, td.textContent, width, room]);
  }
  return [cells.length, wide];
}"""


@pytest.mark.parametrize("name", LIVE_CHAPTERS)
def test_every_number_fits_its_cell(name, open_page):
    """At the opening settings and at the largest (the redraw benchmark's): no number shown
    in a table is wider than its cell."""
    page, log = open_page(name)
    wait_for_demos(page)
    checked = 0
    for demo in live_demos(page):
        for settings in ("opening", "largest"):
            if settings == "largest":
                maximise(demo)
            count, wide = demo.evaluate(TOO_WIDE)
            assert wide == [], f"{demo.get_attribute('data-demo')} at its {settings} settings"
            checked += count
    assert checked >= 50, checked
    assert log.problems() == []
