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
from conftest import wait_for_demos

from upsampling.plots.sizes import FIXES, size_plan

REDRAW_BUDGET_MS = 16


def _type(control, value) -> None:
    control.fill(str(value))
    control.dispatch_event("input")


def _table_values(table) -> list[list[str]]:
    """The rows of a table body, each cell's text."""
    return table.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.querySelectorAll('th, td')].map(c => c.textContent))"
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


def test_size_tracker_shows_the_packages_refusal(tracker):
    _, demo = tracker
    _set_tracker(demo, 5, 3, [3] * 3, [2] * 3, [0] * 3, "output_padding")
    with pytest.raises(ValueError) as refused:
        size_plan(5, 3, 3, 2, 0)
    assert demo.locator("p.live-message").inner_text() == f"ValueError: {refused.value}"
    assert demo.get_attribute("data-error") == "ValueError"
    _type(demo.locator('input[aria-label="input_size"]'), 17)  # 17 -> 8 -> 3 -> 1: fits
    assert demo.locator("p.live-message").inner_text() == ""


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
