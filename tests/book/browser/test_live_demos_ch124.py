"""Chapters 1, 2 and 4's live demos in the built book, in Chromium: the numbers they show
are the package's, for sampled settings typed in as a reader would.

Each test opens the chapter (served on 127.0.0.1, every other request refused), changes
the demo's controls from the keyboard or by typing, reads the tables back and compares
them with what the package computes for the same settings.
"""

from __future__ import annotations

import statistics

import numpy as np
import pytest
from conftest import ROWS_IN_SIGHT, wait_for_demos

from upsampling import conv_transpose2d, interpolate, max_pool2d, max_unpool2d, overlap_counts
from upsampling.checkerboard import bilinear_kernel, phase_sums
from upsampling.plots.resolution import pool_and_restore
from upsampling.plots.sizes import FIXES, size_plan
from upsampling.plots.unpooling import sample_image, upsample

REDRAW_BUDGET_MS = 16


def _type(control, value) -> None:
    control.fill(str(value))
    control.dispatch_event("input")


def _numbers(table) -> np.ndarray:
    """The numbers of a live number table (each cell's exact value), as an array; none
    where its cells are out of sight (veiled: a refused setting)."""
    rows = table.locator("tbody tr").evaluate_all(
        f"rows => {ROWS_IN_SIGHT}(rows)"
        "  .map(r => [...r.querySelectorAll('td')].map(c => Number(c.dataset.value)))"
    )
    return np.array(rows, dtype=float).reshape(len(rows), -1) if rows else np.empty((0, 0))


def _grid(demo, caption) -> np.ndarray:
    """The numbers typed in an editable grid."""
    table = demo.locator(f'table[data-array="{caption}"]')
    rows = table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.querySelectorAll('[contenteditable]')]"
        "  .map(i => Number(i.textContent)))"
    )
    return np.array(rows, dtype=float)


def _redraw_ms(demo) -> float:
    return float(demo.get_attribute("data-redraw-ms"))


def _open_demo(open_page, page_name, demo_name):
    page, log = open_page(page_name)
    wait_for_demos(page)
    demo = page.locator(f'[data-demo="{demo_name}"]')
    assert demo.count() == 1
    return page, demo, log


def _table_values(table) -> list[list[str]]:
    """The rows of a table body, each cell's text; none where they are out of sight
    (veiled: a refused setting)."""
    return table.locator("tbody tr").evaluate_all(
        f"rows => {ROWS_IN_SIGHT}(rows)"
        "  .map(r => [...r.querySelectorAll('th, td')].map(c => c.textContent))"
    )


# --- chapter 1: the size tracker ------------------------------------------------------


@pytest.fixture
def tracker(open_page):
    page, log = open_page("01_why_upsample.html")
    wait_for_demos(page)
    demo = page.locator('[data-demo="size-tracker"]')
    assert demo.count() == 1
    yield page, demo
    assert log.problems() == []


def _set_tracker(demo, n, depth, k, s, p, fix):
    _type(demo.locator('input[aria-label="depth"]'), depth)
    for key, values in (("kernel_size", k), ("stride", s), ("padding", p)):
        controls = demo.locator(f'input[aria-label="{key}"]')
        for level, value in enumerate(values):
            _type(controls.nth(level), value)
    demo.locator('select[aria-label="fix"]').select_option(index=FIXES.index(fix))
    _type(demo.locator('input[aria-label="input_size"]'), n)


def test_size_tracker_opens_on_the_chapters_example(tracker):
    _, demo = tracker
    plan = size_plan(100, 4, 3, 2, 1)
    rows = _table_values(demo.locator('table[data-array="sizes"]'))
    assert [int(r[1]) for r in rows] == plan.encoder
    steps = {step.level: step for step in plan.decoder}
    for level, row in enumerate(rows[:-1]):
        assert (int(row[2]), int(row[3])) == (steps[level + 1].raw, steps[level + 1].size)
    fixes = _table_values(demo.locator('table[data-array="fixes"]'))
    assert [int(r[0]) for r in fixes] == [s.level for s in plan.decoder if not s.lines_up]


def test_size_tracker_equals_the_package_for_sampled_settings(tracker):
    page, demo = tracker
    rng = np.random.default_rng(16)
    checked = refused = 0
    for _ in range(14):
        depth = int(rng.integers(1, 7))
        k = [int(v) for v in rng.integers(1, 8, depth)]
        s = [int(v) for v in rng.integers(1, 5, depth)]
        p = [int(v) for v in rng.integers(0, 4, depth)]
        n = int(rng.integers(1, 1025))
        fix = str(rng.choice(FIXES))
        _set_tracker(demo, n, depth, k, s, p, fix)
        message = demo.locator("p.live-message").inner_text()
        try:
            plan = size_plan(n, depth, k, s, p, fix=fix)
        except ValueError as exc:
            assert message == f"ValueError: {exc}"
            refused += 1
            continue
        assert message == ""
        rows = _table_values(demo.locator('table[data-array="sizes"]'))
        assert [int(r[1]) for r in rows] == plan.encoder
        for step in plan.decoder:
            row = rows[step.level - 1]
            assert (int(row[2]), int(row[3])) == (step.raw, step.size)
        fixes = _table_values(demo.locator('table[data-array="fixes"]'))
        broken = [step for step in plan.decoder if not step.lines_up]
        assert len(fixes) == len(broken)
        for row, step in zip(fixes, broken, strict=True):
            assert [int(v) for v in row[:3]] == [step.level, step.raw, step.skip]
            for cell, fix_ in zip(row[3:], step.fixes, strict=True):
                if fix_.error:
                    assert cell == f"refused: {fix_.error}"
                else:
                    assert cell.endswith(str(fix_.size))
        note = demo.locator("p.live-note").inner_text()
        assert f"ends at {plan.output}" in note or f"comes back as {plan.output}" in note
        checked += 1
    assert checked >= 5


# The tracker's views (the drawing and the two tables), as HTML: they are rebuilt on every
# change and morphed into what is shown (live_ui.js morph), keeping the nodes that match.
# A veiled view (a refused setting) shows nothing: only its name.
TRACKER_VIEWS = """root => [...root.querySelectorAll('.ch124-picture, table[data-array]')]
  .map(n => n.classList.contains('live-veiled') ? `veiled ${n.className}` : n.outerHTML)"""


def test_size_tracker_views_changed_in_place_equal_views_drawn_afresh(tracker, open_page):
    """After changes of depth, sizes and fix (levels, rows and fixes added and taken
    away), what the demo shows is exactly what a new page with the same settings shows."""
    page, demo = tracker
    rng = np.random.default_rng(5)
    sizes = [100]
    for depth in (6, 2, 5, 1, 4):
        k = [int(v) for v in rng.integers(1, 8, depth)]
        s = [int(v) for v in rng.integers(1, 5, depth)]
        p = [int(v) for v in rng.integers(0, 4, depth)]
        n, fix = int(rng.integers(1, 1025)), str(rng.choice(FIXES))
        assert n not in sizes  # (the seed's): input_size=n in the URL is this round's
        sizes.append(n)
        _set_tracker(demo, n, depth, k, s, p, fix)
        # The demo writes the URL 250 ms after a change; on a busy machine that may fall
        # between two of _set_tracker's changes. input_size is set last: a URL with this
        # round's input_size is written after all of them.
        page.wait_for_function("n => new RegExp(`input_size=${n}(;|$)`).test(location.hash)", arg=n)
        fresh, fresh_log = open_page("01_why_upsample.html" + page.evaluate("location.hash"))
        wait_for_demos(fresh)
        again = fresh.locator('[data-demo="size-tracker"]')
        assert (
            again.locator("p.live-message").inner_text()
            == demo.locator("p.live-message").inner_text()
        )
        assert again.evaluate(TRACKER_VIEWS) == demo.evaluate(TRACKER_VIEWS), (
            n,
            depth,
            k,
            s,
            p,
            fix,
        )
        assert fresh_log.problems() == []
        fresh.context.close()


# Counts the elements the page makes from now on (both of the document's factories).
COUNT_ELEMENTS = """() => {
  window.madeElements = 0;
  for (const name of ['createElement', 'createElementNS']) {
    const make = document[name];
    document[name] = function (...args) {
      window.madeElements += 1;
      return make.apply(this, args);
    };
  }
}"""


def test_size_tracker_redraws_in_place_without_making_elements(tracker):
    """A change that keeps the views' structure (another input_size, the same mismatched
    levels) makes no element: the views are sketched as plain objects and morphed into the
    nodes shown, which stay (detached elements made on every change were garbage that only
    a full collection, a long pause, frees)."""
    page, demo = tracker
    _set_tracker(demo, 1000, 6, [7] * 6, [1] * 6, [3] * 6, "pad")
    first = demo.locator('table[data-array="sizes"] tbody td').first
    first.evaluate("cell => { cell.firstChild.marked = true; }")
    page.evaluate(COUNT_ELEMENTS)
    before = first.inner_text()
    _type(demo.locator('input[aria-label="input_size"]'), 998)
    assert first.inner_text() != before  # the encoder's first size follows the input
    assert first.evaluate("cell => cell.firstChild.marked === true")  # the same text node
    assert page.evaluate("window.madeElements") == 0


def test_size_tracker_shows_the_packages_refusal(tracker):
    _, demo = tracker
    _set_tracker(demo, 5, 3, [3] * 3, [2] * 3, [0] * 3, "output_padding")
    with pytest.raises(ValueError) as refused:
        size_plan(5, 3, 3, 2, 0)
    assert demo.locator("p.live-message").inner_text() == f"ValueError: {refused.value}"
    assert demo.get_attribute("data-error") == "ValueError"
    _type(demo.locator('input[aria-label="input_size"]'), 17)  # 17 -> 8 -> 3 -> 1: fits
    assert demo.locator("p.live-message").inner_text() == ""


def test_size_tracker_veils_its_views_when_refused_and_draws_them_back_in_place(tracker):
    """A refused setting shows no sizes, fixes or picture (out of sight, not taken out), and
    the setting before it, drawn again, makes no element: the views it veiled are shown as
    they were (emptied, they were laid out and painted anew: 4.5 ms of the change back)."""
    page, demo = tracker
    _set_tracker(demo, 64, 6, [3] * 6, [2] * 6, [0, 0, 0, 0, 2, 0], "pad")
    sizes = demo.locator('table[data-array="sizes"]')
    drawn = _table_values(sizes)
    views = demo.locator(".ch124-picture, .live-note, table[data-array] > tbody")
    seen = "views => views.map((v) => v.isConnected && v.checkVisibility({visibilityProperty: 1}))"
    assert views.evaluate_all(seen) == [True] * 4
    padding = demo.locator('input[aria-label="padding"]').nth(4)
    _type(padding, 1)  # level 6 then gets 2 rows, fewer than its kernel: refused
    with pytest.raises(ValueError):
        size_plan(64, 6, 3, 2, [0, 0, 0, 0, 1, 0], fix="pad")
    assert demo.get_attribute("data-error") == "ValueError"
    assert _table_values(sizes) == [] and _table_values(demo.locator('[data-array="fixes"]')) == []
    assert views.evaluate_all(seen) == [False] * 4
    page.evaluate(COUNT_ELEMENTS)
    _type(padding, 2)
    assert demo.get_attribute("data-error") is None
    assert page.evaluate("window.madeElements") == 0
    assert _table_values(sizes) == drawn
    assert views.evaluate_all(seen) == [True] * 4


def test_size_tracker_reset_and_presets(tracker):
    _, demo = tracker
    demo.get_by_role("button", name="2×2 pooling (k 2, s 2)").click()
    for n, ok in ((96, True), (100, False), (101, False)):
        _type(demo.locator('input[aria-label="input_size"]'), n)
        plan = size_plan(n, 4, 2, 2, 0)
        assert all(step.lines_up for step in plan.decoder) == ok
        assert ("Every skip connection lines up" in demo.locator("p.live-note").inner_text()) == ok
    demo.get_by_role("button", name="Reset").click()
    assert demo.locator('input[aria-label="input_size"]').input_value() == "100"
    assert demo.locator('input[aria-label="kernel_size"]').first.input_value() == "3"


def test_size_tracker_redraws_within_a_frame_at_the_largest_settings(tracker):
    _, demo = tracker
    _set_tracker(demo, 1024, 6, [7] * 6, [1] * 6, [3] * 6, "pad")
    times = []
    for n in range(1000, 1024, 2):
        _type(demo.locator('input[aria-label="input_size"]'), n)
        times.append(float(demo.get_attribute("data-redraw-ms")))
    assert statistics.median(times) <= REDRAW_BUDGET_MS, times


# --- chapter 1: what pooling throws away ----------------------------------------------------


@pytest.fixture
def pool(open_page):
    page, demo, log = _open_demo(open_page, "01_why_upsample.html", "pool-restore")
    yield page, demo
    assert log.problems() == []


def _set_pool(demo, depth, mode, align_corners):
    demo.locator('input[aria-label="depth"]').fill(str(depth))
    demo.locator('select[aria-label="mode"]').select_option(mode)
    demo.locator('input[aria-label="align_corners"]').set_checked(align_corners)


def _check_pool(demo, depth, mode, align_corners):
    """The three tables, the captions and the mean |error| against pool_and_restore."""
    image = np.round(sample_image(64), 3)
    align = align_corners if mode == "bilinear" or align_corners else None
    message = demo.locator("p.live-message").inner_text()
    try:
        small, restored = pool_and_restore(image, depth, mode, align)
    except ValueError as exc:
        assert message == f"ValueError: {exc}"
        return "refused"
    assert message == ""
    r0, c0 = _zoom(demo)
    box = np.s_[r0 : r0 + 4, c0 : c0 + 4]
    f = 2**depth
    cover = np.s_[r0 // f : (r0 + 3) // f + 1, c0 // f : (c0 + 3) // f + 1]
    for caption, expected in (("input", image[box]), ("pooled", small[cover])):
        shown = _numbers(demo.locator(f'table[data-array="{caption}"]'))
        np.testing.assert_array_equal(shown, expected)
    shown = _numbers(demo.locator('table[data-array="restored"]'))
    np.testing.assert_allclose(shown, restored[box], rtol=1e-12, atol=1e-12)
    error = float(demo.locator("p.live-note output").get_attribute("data-value"))
    assert error == pytest.approx(np.abs(restored - image).mean(), rel=1e-12)
    pooled_caption = demo.locator("figcaption").nth(1).inner_text()
    assert f": {small.shape[0]}×{small.shape[1]};" in pooled_caption
    return "shown"


def _canvases(demo) -> list[str]:
    return demo.locator("canvas").evaluate_all("cs => cs.map(c => c.toDataURL())")


def test_pool_restore_opens_on_the_chapters_settings(pool):
    _, demo = pool
    assert demo.locator('input[aria-label="depth"]').input_value() == "3"
    assert demo.locator('select[aria-label="mode"]').input_value() == "2"  # bilinear
    assert _zoom(demo) == (24, 20)
    assert _check_pool(demo, 3, "bilinear", False) == "shown"
    assert "pooled 2×2 3 times: 8×8" in demo.locator("figcaption").nth(1).inner_text()
    code = demo.locator("details.live-python code").text_content()
    assert 'pool_and_restore(image, depth=3, mode="bilinear", align_corners=False)' in code


def test_pool_restore_equals_the_package_for_sampled_settings(pool):
    page, demo = pool
    rng = np.random.default_rng(1)
    outcomes = []
    settings = [(0, "nearest", False), (5, "bilinear", True), (1, "nearest-exact", True)]
    for _ in range(7):
        mode = str(rng.choice(["nearest", "nearest-exact", "bilinear"]))
        settings.append((int(rng.integers(0, 6)), mode, bool(rng.random() < 0.4)))
    for depth, mode, align_corners in settings:
        _set_pool(demo, depth, mode, align_corners)
        demo.locator("canvas").nth(int(rng.integers(3))).focus()
        for key in rng.choice(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"], 3):
            page.keyboard.press(str(key))
        outcomes.append(_check_pool(demo, depth, mode, align_corners))
    assert outcomes.count("refused") >= 1 and outcomes.count("shown") >= 5


def test_pool_restore_copy_as_python_gives_the_same_numbers(pool):
    _, demo = pool
    _set_pool(demo, 2, "nearest-exact", False)
    namespace: dict = {}
    exec(demo.locator("details.live-python code").text_content(), namespace)  # noqa: S102
    image, restored = namespace["image"], namespace["restored"]
    error = float(demo.locator("p.live-note output").get_attribute("data-value"))
    assert error == pytest.approx(np.abs(restored - image).mean(), rel=1e-12)
    assert namespace["small"].shape == (16, 16)


def test_pool_restore_every_control_changes_the_pictures(pool):
    page, demo = pool
    changes = [
        ("depth", lambda: demo.locator('input[aria-label="depth"]').press("ArrowRight")),
        ("mode", lambda: demo.locator('select[aria-label="mode"]').select_option("nearest")),
        ("zoom", lambda: demo.locator("canvas").first.press("ArrowLeft")),
        ("click", lambda: demo.locator("canvas").nth(2).click(position={"x": 150, "y": 40})),
    ]
    for name, change in changes:
        before = _canvases(demo)
        change()
        after = _canvases(demo)
        assert before != after, f"{name} changed no picture"
    demo.locator('select[aria-label="mode"]').select_option("bilinear")
    before = _canvases(demo)
    demo.locator('input[aria-label="align_corners"]').press("Space")
    assert _canvases(demo)[2] != before[2]  # the restored image
    assert _check_pool(demo, 4, "bilinear", True) == "shown"
    demo.get_by_role("button", name="Reset").click()
    assert _zoom(demo) == (24, 20) and _check_pool(demo, 3, "bilinear", False) == "shown"
    for preset, zoom in (("background", (30, 60)), ("star", (5, 1)), ("eye", (24, 20))):
        before = _canvases(demo)
        demo.get_by_role("button", name=preset).click()
        assert _zoom(demo) == zoom and _canvases(demo) != before
        assert _check_pool(demo, 3, "bilinear", False) == "shown"


def test_pool_restore_redraws_within_a_frame(pool):
    page, demo = pool
    slider = demo.locator('input[aria-label="depth"]')
    slider.fill("0")  # the largest pooled map: 64 x 64
    slider.focus()
    times = []
    for i in range(12):
        page.keyboard.press("ArrowLeft" if i % 2 else "ArrowRight")
        times.append(_redraw_ms(demo))
    assert statistics.median(times) <= REDRAW_BUDGET_MS, times


# --- chapter 2: max pooling, then max unpooling -----------------------------------------


@pytest.fixture
def unpool(open_page):
    page, demo, log = _open_demo(open_page, "02_unpooling.html", "max-unpool")
    yield page, demo
    assert log.problems() == []


def _expected_unpool(x, k, s, with_size):
    pooled, indices = max_pool2d(x[None, None], k, stride=s, return_indices=True)
    size = x.shape if with_size else None
    return pooled[0, 0], indices[0, 0], max_unpool2d(pooled, indices, k, stride=s, output_size=size)


def _check_unpool(demo, x, k, s, with_size):
    message = demo.locator("p.live-message").inner_text()
    try:
        pooled, indices, out = _expected_unpool(x, k, s, with_size)
    except ValueError as exc:
        assert message == f"ValueError: {exc}"
        assert _numbers(demo.locator('table[data-array="output"]')).size == 0  # none stale
        return "refused"
    assert message == ""
    np.testing.assert_array_equal(_numbers(demo.locator('table[data-array="pooled"]')), pooled)
    np.testing.assert_array_equal(_numbers(demo.locator('table[data-array="indices"]')), indices)
    np.testing.assert_array_equal(_numbers(demo.locator('table[data-array="output"]')), out[0, 0])
    return "shown"


def test_max_unpool_opens_on_the_chapters_odd_input_without_output_size(unpool):
    _, demo = unpool
    five = np.arange(25.0)[::-1].reshape(5, 5)
    np.testing.assert_array_equal(_grid(demo, "input"), five)
    assert _check_unpool(demo, five, 2, 2, False) == "shown"
    assert "2 of the maxima land at the wrong place" in demo.locator("p.live-note").inner_text()
    demo.locator('input[aria-label="output_size"]').check()
    assert _check_unpool(demo, five, 2, 2, True) == "shown"
    demo.locator('input[aria-label="output_size"]').uncheck()
    demo.get_by_role("button", name="5×5, maxima bottom-right").click()
    assert _check_unpool(demo, five[::-1, ::-1], 2, 2, False) == "refused"


def test_max_unpool_editing_a_cell_changes_the_output_as_the_package_says(unpool):
    page, demo = unpool
    demo.locator('input[aria-label="output_size"]').check()
    x = _grid(demo, "input")
    cell = demo.locator('[aria-label="input[3, 3]"]')
    cell.click()
    cell.press("Control+a")
    page.keyboard.type("99")
    x[3, 3] = 99
    assert _check_unpool(demo, x, 2, 2, True) == "shown"
    kept = demo.locator('table[data-array="output"] tr').nth(3).locator("td").nth(3)
    assert kept.inner_text() == "99" and "ch124-kept" in kept.get_attribute("class").split()
    # Arrow keys move between cells; typing there edits that cell.
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Control+a")
    page.keyboard.type("5")
    x[2, 3] = 5
    assert _check_unpool(demo, x, 2, 2, True) == "shown"


def test_max_unpool_equals_the_package_for_sampled_settings(unpool):
    _, demo = unpool
    rng = np.random.default_rng(2)
    outcomes = []
    for _ in range(6):
        h, w = (int(v) for v in rng.integers(2, 7, 2))
        k, s = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        with_size = bool(rng.random() < 0.5)
        heights = demo.locator('[aria-label="height"] input[aria-label="input_size"]')
        widths = demo.locator('[aria-label="width"] input[aria-label="input_size"]')
        _type(heights, h)
        _type(widths, w)
        x = rng.integers(0, 5, (h, w)).astype(float)  # small integers: ties
        for (r, c), v in np.ndenumerate(x):
            _type(demo.locator(f'[aria-label="input[{r}, {c}]"]'), int(v))
        _type(demo.locator('input[aria-label="kernel_size"]'), k)
        _type(demo.locator('input[aria-label="stride"]'), s)
        demo.locator('input[aria-label="output_size"]').set_checked(with_size)
        outcomes.append(_check_unpool(demo, x, k, s, with_size))
    assert "shown" in outcomes


# --- chapter 2: a photograph upsampled by any factor ----------------------------------------


@pytest.fixture
def photo(open_page):
    page, demo, log = _open_demo(open_page, "02_unpooling.html", "upsample-photo")
    yield page, demo
    assert log.problems() == []


def _zoom(demo):
    caption = demo.locator("figcaption").first.inner_text()
    rows, cols = caption.split("rows ")[1].split(", columns ")
    return int(rows.split("–")[0]), int(cols.split("–")[0])


def _check_photo(demo, method, factor):
    image = np.round(sample_image(48), 3)
    r0, c0 = _zoom(demo)
    np.testing.assert_array_equal(
        _numbers(demo.locator('table[data-array="input"]')), image[r0 : r0 + 4, c0 : c0 + 4]
    )
    out = upsample(image, method, factor)
    at = [min(n, int(np.floor(i * factor))) for i, n in ((r0, out.shape[0]), (c0, out.shape[1]))]
    to = [
        min(n, int(np.floor((i + 4) * factor))) for i, n in ((r0, out.shape[0]), (c0, out.shape[1]))
    ]
    shown = _numbers(demo.locator('table[data-array="output"]'))
    np.testing.assert_allclose(shown, out[at[0] : to[0], at[1] : to[1]], rtol=1e-12, atol=1e-12)
    assert f"output {out.shape[0]}×{out.shape[1]}" in demo.locator("figcaption").nth(1).inner_text()


def _set_factor(demo, factor):
    demo.locator('input[aria-label="scale_factor"]').fill(str(factor))


def test_photo_equals_the_package_for_every_method_and_sampled_factors(photo):
    _, demo = photo
    _check_photo(demo, "nearest", 1.5)
    rng = np.random.default_rng(3)
    for mode, align in [
        ("nearest", False),
        ("nearest-exact", False),
        ("bilinear", False),
        ("bilinear", True),
    ]:
        demo.locator('select[aria-label="mode"]').select_option(mode)
        box = demo.locator('input[aria-label="align_corners"]')
        if mode != "bilinear":  # the package refuses align_corners without interpolation
            box.check()
            with pytest.raises(ValueError) as refused:
                interpolate(np.ones((1, 1, 4, 4)), scale_factor=2, mode=mode, align_corners=True)
            assert demo.locator("p.live-message").inner_text() == f"ValueError: {refused.value}"
        box.set_checked(align)
        method = "bilinear, align_corners" if align else mode
        for factor in (round(float(rng.uniform(1, 4)), 2), 3):
            _set_factor(demo, factor)
            _check_photo(demo, method, factor)


def test_photo_bed_of_nails_refuses_a_fractional_factor_with_the_packages_message(photo):
    _, demo = photo
    demo.locator('select[aria-label="mode"]').select_option("bed of nails")
    with pytest.raises(ValueError) as refused:
        upsample(sample_image(48), "bed of nails", 1.5)
    assert demo.locator("p.live-message").inner_text() == f"ValueError: {refused.value}"
    demo.get_by_role("button", name="×2", exact=True).click()
    _check_photo(demo, "bed of nails", 2)


def test_photo_zoom_moves_with_the_arrow_keys_and_redraws_within_a_frame(photo):
    page, demo = photo
    before = _zoom(demo)
    demo.locator("canvas").first.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowRight")
    assert _zoom(demo) == (before[0] + 1, before[1] + 1)
    _check_photo(demo, "nearest", 1.5)
    demo.locator('select[aria-label="mode"]').select_option("bilinear")
    slider = demo.locator('input[aria-label="scale_factor"]')
    _set_factor(demo, 4)
    slider.focus()
    times = []
    for i in range(16):
        page.keyboard.press("ArrowLeft" if i % 2 else "ArrowRight")
        times.append(_redraw_ms(demo))
    assert statistics.median(times) <= REDRAW_BUDGET_MS, times


def _calls(cdp, names) -> dict[str, int]:
    """How many times each function named in `names` ran since the last call (V8's precise
    coverage, counted per function; its counters start again at each reading)."""
    counts = dict.fromkeys(names, 0)
    for script in cdp.send("Profiler.takePreciseCoverage")["result"]:
        for function in script["functions"]:
            if function["functionName"] in counts:
                counts[function["functionName"]] += function["ranges"][0]["count"]
    return counts


def test_photo_prepares_the_other_methods_while_idle_and_switches_without_computing(photo):
    page, demo = photo
    cdp = page.context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.startPreciseCoverage", {"callCount": True, "detailed": False})
    demo.get_by_role("button", name="×4", exact=True).click()  # mode nearest
    # Once the reader stops, the demo prepares the four other methods at ×4 (nearest-exact,
    # bilinear with and without align_corners, bed of nails), one per idle period: computes
    # each and makes the tiles of its numbers (table.prepare, then its picture's). Up to
    # ~5 s here.
    # (The page may still be preparing what its opening settings would need: ×1.5.)
    made = dict.fromkeys(("bilinear", "drawTiles", "prepare"), 0)
    for _ in range(50):
        page.wait_for_timeout(100)
        new = _calls(cdp, made)
        for name, count in new.items():
            made[name] += count
        if made["prepare"] >= 2 * 4 and new["prepare"] == 0:
            break
    assert made["prepare"] >= 2 * 4 and made["bilinear"] >= 2 and made["drawTiles"] >= 1, made
    demo.locator('select[aria-label="mode"]').select_option("bilinear")
    # The switch draws what was prepared: nothing interpolated, no tile made.
    assert _calls(cdp, ("bilinear", "interpolate", "drawTiles")) == {
        "bilinear": 0,
        "interpolate": 0,
        "drawTiles": 0,
    }
    _check_photo(demo, "bilinear", 4)
    demo.locator('input[aria-label="align_corners"]').check()
    _check_photo(demo, "bilinear, align_corners", 4)
    cdp.send("Profiler.stopPreciseCoverage")


# --- chapter 4: overlap counts and phase sums ---------------------------------------------


@pytest.fixture
def overlap(open_page):
    page, demo, log = _open_demo(open_page, "04_checkerboard.html", "overlap")
    yield page, demo
    assert log.problems() == []


SHOWN = 24  # the largest side a table shows in full


def _check_overlap(demo, layers):
    """The demo's tables against the package, run on the demo's own Copy-as-Python code.

    The code holds the kernels exactly (the grids show them rounded); running it checks
    that it is a working call of the package, and gives the expected numbers.
    """
    code = demo.locator("details.live-python code").text_content()
    namespace: dict = {}
    exec(code, namespace)
    weights, strides = namespace["weights"], namespace["strides"]
    assert len(weights) == layers
    for i, (w, s) in enumerate(zip(weights, strides, strict=True)):
        np.testing.assert_allclose(
            w, _grid(demo, "weight" if i == 0 else f"weight {i + 1}"), rtol=1e-3
        )
        caption = "phase sums" if i == 0 else f"phase sums {i + 1}"
        np.testing.assert_allclose(
            _numbers(demo.locator(f'table[data-array="{caption}"]')), phase_sums(w, s), rtol=1e-12
        )
        np.testing.assert_allclose(namespace["sums"][i], phase_sums(w, s))
    np.testing.assert_array_equal(
        _numbers(demo.locator('table[data-array="overlap"]')), namespace["counts"][:SHOWN, :SHOWN]
    )
    np.testing.assert_allclose(
        _numbers(demo.locator('table[data-array="output"]')),
        namespace["y"][0, 0, :SHOWN, :SHOWN],
        rtol=1e-12,
        atol=1e-12,
    )
    return weights


def test_overlap_opens_on_uneven_overlap_and_the_tent_flattens_it(overlap):
    _, demo = overlap
    (w,) = _check_overlap(demo, 1)
    np.testing.assert_array_equal(w, np.ones((3, 3)))
    counts = overlap_counts((6, 6), kernel_size=3, stride=2)  # the chapter's 1, 2, 4 map
    np.testing.assert_array_equal(_numbers(demo.locator('table[data-array="overlap"]')), counts)
    flat = conv_transpose2d(np.ones((1, 1, 6, 6)), np.ones((1, 1, 3, 3)), stride=2)[0, 0]
    np.testing.assert_array_equal(_numbers(demo.locator('table[data-array="output"]')), flat)
    np.testing.assert_array_equal(
        _numbers(demo.locator('table[data-array="phase sums"]')), [[4, 2], [2, 1]]
    )
    demo.get_by_role("button", name="tent").click()
    (w,) = _check_overlap(demo, 1)
    np.testing.assert_allclose(w, np.outer([0.5, 1, 0.5], [0.5, 1, 0.5]))
    assert "phase sums equal" in demo.locator("p.live-note").nth(1).inner_text()
    demo.get_by_role("button", name="bilinear (FCN)").click()
    _type(demo.locator('input[aria-label="stride"]').first, 3)
    (w,) = _check_overlap(demo, 1)
    np.testing.assert_allclose(w, bilinear_kernel(3), rtol=1e-15)


def test_overlap_editing_a_kernel_cell_changes_the_sums_and_the_response(overlap):
    page, demo = overlap
    demo.get_by_role("button", name="tent").click()
    cell = demo.locator('[aria-label="weight[1, 1]"]')
    cell.click()
    cell.press("Control+a")
    page.keyboard.type("2")
    (w,) = _check_overlap(demo, 1)
    assert w[1, 1] == 2
    assert "kernel: typed by hand" in demo.inner_text()
    assert "the interior repeats them" in demo.locator("p.live-note").nth(1).inner_text()


def test_overlap_equals_the_package_for_sampled_stacks(overlap):
    page, demo = overlap
    rng = np.random.default_rng(4)
    for _ in range(6):
        layers = int(rng.integers(1, 4))
        _type(demo.locator('input[aria-label="layers"]'), layers)
        preset = str(rng.choice(["ones", "random", "tent", "bilinear (FCN)", "ICNR"]))
        for i in range(layers):
            _type(demo.locator('input[aria-label="kernel_size"]').nth(i), int(rng.integers(1, 9)))
            _type(demo.locator('input[aria-label="stride"]').nth(i), int(rng.integers(1, 5)))
        demo.get_by_role("button", name=preset, exact=True).click()
        input_size = int(rng.integers(1, 9))
        _type(demo.locator('input[aria-label="input_size"]'), input_size)
        _check_overlap(demo, layers)


def _largest_random_stack(demo) -> None:
    """Three layers of random 8 × 8 kernels, stride 4: the largest maps the demo computes."""
    _type(demo.locator('input[aria-label="layers"]'), 3)
    demo.get_by_role("button", name="random").click()
    for i in range(3):
        _type(demo.locator('input[aria-label="kernel_size"]').nth(i), 8)
        _type(demo.locator('input[aria-label="stride"]').nth(i), 4)


def test_overlap_moved_back_to_a_stack_draws_the_maps_it_kept(overlap):
    """A kernel_size moved back to the value it had a moment ago: the demo draws the maps it
    kept for that stack (no transposed convolution, overlap count or score computed again)
    and shows the package's numbers, as the first time; a new stack is computed."""
    page, demo = overlap
    _largest_random_stack(demo)
    kernel_3 = demo.locator('input[aria-label="kernel_size"]').nth(2)
    notes = demo.locator("p.live-note")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Profiler.enable")
    cdp.send("Profiler.startPreciseCoverage", {"callCount": True, "detailed": False})
    computed = ("conv_transpose2d", "overlap_counts", "checkerboard_score")
    _type(kernel_3, 7)
    new = _calls(cdp, computed)
    assert (new["conv_transpose2d"], new["overlap_counts"]) == (3, 1), new  # (no interior)
    first = notes.all_inner_texts()
    _type(kernel_3, 8)
    _calls(cdp, computed)
    _type(kernel_3, 7)
    assert _calls(cdp, computed) == dict.fromkeys(computed, 0)
    assert notes.all_inner_texts() == first
    _check_overlap(demo, 3)
    _type(kernel_3, 5)
    assert _calls(cdp, computed)["conv_transpose2d"] == 3
    _check_overlap(demo, 3)


def test_a_layer_taken_out_of_the_stack_stays_in_sight_dimmed_until_reset(overlap):
    page, demo = overlap
    layers = demo.locator('input[aria-label="layers"]')
    heading = demo.locator(".live-panel-heading")
    assert heading.nth(1).is_hidden() and heading.nth(2).is_hidden()  # opens on one layer
    _type(layers, 3)
    _type(layers, 1)
    # Its kernel and phase sums stay, said to be out of the stack; the numbers are a
    # one-layer stack's.
    assert heading.nth(1).is_visible() and heading.nth(2).is_visible()
    assert heading.nth(2).inner_text() == "layer 3 (not in the stack: layers is 1)"
    assert _numbers(demo.locator('table[data-array="phase sums 3"]')).size > 0
    _check_overlap(demo, 1)
    _type(layers, 2)
    assert heading.nth(1).inner_text() == "layer 2"
    _check_overlap(demo, 2)
    demo.get_by_role("button", name="Reset").click()
    assert heading.nth(1).is_hidden() and heading.nth(2).is_hidden()
    assert demo.locator('table[data-array="phase sums 2"] td').count() == 0


def _tops(demo) -> list[float]:
    """Where each panel of the demo starts, from the page's top (px)."""
    return demo.locator(".live-panel").evaluate_all(
        "boxes => boxes.map(b => b.getBoundingClientRect().top + window.scrollY)"
    )


def test_a_smaller_kernel_moves_nothing_after_its_panel_until_reset(overlap):
    """Each panel keeps its tallest height: a layer's kernel made smaller leaves the
    panels after it where they were (moving them costs the browser a layout and a paint
    of everything moved); reset gives every panel its own height back."""
    page, demo = overlap
    _type(demo.locator('input[aria-label="layers"]'), 3)
    kernel_size = demo.locator('input[aria-label="kernel_size"]').first
    _type(kernel_size, 8)
    page.wait_for_timeout(100)  # a frame: the resize observer runs before paint
    tall = _tops(demo)
    _type(kernel_size, 2)
    page.wait_for_timeout(100)
    assert _grid(demo, "weight").shape == (2, 2)
    assert _tops(demo) == pytest.approx(tall, abs=0.5)
    demo.get_by_role("button", name="Reset").click()
    _type(demo.locator('input[aria-label="layers"]'), 3)
    _type(kernel_size, 2)
    page.wait_for_timeout(100)
    assert _tops(demo)[1] < tall[1] - 50  # layer 2 right under a 2 × 2 kernel


def test_overlap_redraws_within_a_frame_at_the_largest_settings(overlap):
    page, demo = overlap
    _largest_random_stack(demo)
    times = []
    for n in (8, 7, 8, 7, 8, 7, 8, 7, 8, 7):
        _type(demo.locator('input[aria-label="input_size"]'), n)
        times.append(_redraw_ms(demo))
    assert statistics.median(times) <= REDRAW_BUDGET_MS, times
