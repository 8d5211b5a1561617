"""The sizes that the instructors' answers quote (book/for_instructors.md) are those the
package's size tracker computes."""

from pathlib import Path

from upsampling.plots.sizes import size_plan

PAGE = Path(__file__).resolve().parents[2] / "book" / "for_instructors.md"


def test_chapter_1_answer_3_quotes_the_size_tracker():
    text = " ".join(PAGE.read_text(encoding="utf-8").split())
    assert "100 → 50 → 25 → 12 → 6" in text and "24 meets the skip of 25" in text
    plan = size_plan(100, depth=4, kernel_size=2, stride=2, padding=0)
    assert plan.encoder == [100, 50, 25, 12, 6]
    misaligned = [(step.raw, step.skip) for step in plan.decoder if not step.lines_up]
    assert misaligned == [(24, 25)]
    for size in (96, 112):
        plan = size_plan(size, depth=4, kernel_size=2, stride=2, padding=0)
        assert all(step.lines_up for step in plan.decoder), size
