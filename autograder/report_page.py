"""The HTML of the class reports: one self-contained page each (inline style, the
histogram embedded as a PNG data URI; no script, nothing fetched from anywhere).

:func:`assignment_page` renders what :mod:`autograder.class_report` gathered;
:func:`overview_page` what :mod:`autograder.course_overview` gathered. Hidden cases are
named only by their test (its title says what it checks) and their number: nothing of a
hidden case's input or output is on either page.
"""

from __future__ import annotations

import base64
import html
import io
from urllib.parse import quote

from autograder.grading.records import STATUS_LABELS

e = html.escape

STYLE = """
:root{--ink:#1d2430;--muted:#5b6575;--line:#d9dee6;--bad:#b3261e;--good:#1e7a34;--bar:#3f6fb5}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--ink);max-width:70rem;
margin:1.5rem auto 4rem;padding:0 1.2rem;line-height:1.45}
h1{font-size:1.55rem;margin-bottom:.2rem} .sub{color:var(--muted);margin-top:0}
h2{font-size:1.2rem;margin-top:2.2rem;padding-top:.8rem;border-top:1px solid var(--line)}
.figures{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.figure{border:1px solid var(--line);border-radius:6px;padding:.5rem .9rem;min-width:8rem}
.figure b{display:block;font-size:1.35rem} .figure span{color:var(--muted);font-size:.85rem}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:.82rem} td.n,th.n{text-align:right}
.rate{white-space:nowrap} .bar{background:#e8edf5;border-radius:3px;height:.7rem;width:9rem;
display:inline-block;vertical-align:middle;margin-right:.4rem}
.bar i{display:block;height:100%;border-radius:3px;background:var(--bar)} .zero{color:#b7bec9}
ol.mis{padding-left:0;list-style:none} ol.mis>li{border:1px solid var(--line);
border-left:5px solid var(--bad);border-radius:6px;padding:.6rem .9rem;margin:.7rem 0}
.mis .head{display:flex;gap:1rem;align-items:baseline;flex-wrap:wrap}
.pct{font-size:1.5rem;font-weight:700;color:var(--bad);min-width:4.2rem}
.hint{margin:.35rem 0;font-size:.95rem} .hint b{font-weight:600}
.meta{color:var(--muted);font-size:.85rem} code{font-size:.88em;background:#f2f4f7;
padding:0 .25rem;border-radius:3px} details{display:inline} summary{cursor:pointer}
ul.why{margin:0;padding-left:1.1rem} .why li{margin:.1rem 0}
img.hist{max-width:100%;height:auto}
"""


def _page(title: str, body: list[str]) -> str:
    return (
        "\n".join(
            [
                "<!DOCTYPE html>",
                '<html lang="en"><head><meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                f"<title>{e(title)}</title>",
                f"<style>{STYLE}</style></head><body>",
                *body,
                "</body></html>",
            ]
        )
        + "\n"
    )


def number(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    return f"{round(value, digits):g}"


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "–"


def _bar(rate: float) -> str:
    return f'<span class="bar"><i style="width:{100 * rate:.1f}%"></i></span>{100 * rate:.0f} %'


def histogram_png(scores: list[float], max_score: float) -> str:
    """The score distribution as a PNG data URI (one bar per point, the mean marked)."""
    import numpy as np
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 2.6), dpi=110)
    ax = fig.add_subplot()
    top = max(max_score, max(scores, default=0.0))
    width = 1.0 if top <= 40 else top / 40
    edges = np.arange(0.0, top + width, width) - width / 2
    edges = np.append(edges, edges[-1] + width)
    ax.hist(scores, bins=edges, color="#3f6fb5", edgecolor="white")
    if scores:
        mean = float(np.mean(scores))
        ax.axvline(mean, color="#b3261e", linestyle="--", linewidth=1.2)
        ax.annotate(
            f"mean {mean:.1f}",
            (mean, 1),
            xycoords=("data", "axes fraction"),
            xytext=(-4, 2),
            textcoords="offset points",
            color="#b3261e",
            fontsize=9,
            ha="right",
            va="bottom",
        )
    ax.set_xlim(edges[0], edges[-1])
    ax.set_xlabel(f"score (of {number(max_score)})")
    ax.set_ylabel("students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def link(href: str | None, text: str) -> str:
    return f'<a href="{e(href)}">{e(text)}</a>' if href else e(text)


def url(path_parts: list[str]) -> str:
    return "/".join(quote(part) for part in path_parts)


# ----------------------------------------------------------------------------- assignment


def assignment_page(r) -> str:
    """The page of :class:`autograder.class_report.AssignmentReport` ``r``."""
    n = len(r.records)
    body = [
        f"<h1>{e(r.assignment)}: what the class got wrong</h1>",
        f'<p class="sub">{e(r.notebook)}.ipynb · {n} submission{"s" * (n != 1)} · from the '
        "grader's records and the gradebook (no student code was run for this page)</p>",
        '<div class="figures">',
        _figure(str(n), "submissions"),
        _figure(f"{number(r.mean)} / {number(r.max_score)}", "mean score"),
        _figure(number(r.median), "median score"),
        _figure(str(r.full_marks), "full marks"),
        _figure(str(len(r.review)), "students to review"),
        "</div>",
    ]
    if r.penalised:
        body.append(
            f'<p class="meta">Scores after late penalties, as <code>grades.csv</code> and '
            f"<code>nbgrader export</code> have them ({r.penalised} penalised; before "
            f"penalties the mean is {number(r.raw_mean)}).</p>"
        )
    body += _misconception_section(r)
    body += _tests_section(r)
    body += [
        "<h2>Score distribution</h2>",
        f'<img class="hist" alt="Histogram of the scores of {n} submissions" '
        f'src="{histogram_png(r.scores, r.max_score)}">',
    ]
    body += _review_section(r)
    body += _timing_section(r)
    return _page(f"Class report: {r.assignment}", body)


def _figure(value: str, label: str) -> str:
    return f'<div class="figure"><b>{e(value)}</b><span>{e(label)}</span></div>'


def _misconception_section(r) -> list[str]:
    out = ["<h2>What the class got wrong, and why</h2>"]
    if not r.misconceptions:
        out.append("<p>No failed case matched a known misconception.</p>")
    else:
        out.append(
            '<p class="meta">Each failed case is recomputed with every known mistake; a '
            "mistake that reproduces the student's output exactly is named in their "
            "feedback. A student counts once per test, however many cases showed it.</p>"
        )
    out.append('<ol class="mis">')
    named: dict[tuple, str] = {}  # (test, students) -> the first diagnosis they were given
    for m in r.misconceptions:
        test = r.tests_by_id[m.grade_id]
        visible = [c.removeprefix("visible case ") for c in m.cases if c.startswith("visible")]
        hidden = sum(1 for c in m.cases if not c.startswith("visible"))
        seen = [f"visible case{'s' * (len(visible) > 1)} {', '.join(visible)}"] if visible else []
        seen += [f"{hidden} hidden case{'s' * (hidden > 1)}"] if hidden else []
        first, _, rest = m.hint.partition(". ")
        example = m.students[0]
        same = named.setdefault((m.grade_id, tuple(m.students)), first)
        out += [
            "<li>",
            f'<div class="head"><span class="pct">{percent(m.count, test.submissions)}</span>'
            f"<span><b>{m.count} of {test.submissions}</b> students · test "
            f"<code>{e(m.grade_id)}</code> ({e(test.title or test.function)})</span></div>",
            f'<p class="hint"><b>{e(first)}.</b> {e(rest)}</p>',
            f'<div class="meta">seen on {e("; ".join(seen))} · example: '
            f"{link(r.feedback_href(example), example)}'s feedback · "
            f"<details><summary>all {m.count}</summary> {e(', '.join(m.students))}</details></div>",
        ]
        if same != first:  # one mistake, named after the case it showed on
            out.append(
                f'<div class="meta">The same students as “{e(same)}” on this test: probably '
                "one mistake, which different cases name differently.</div>"
            )
        out.append("</li>")
    out.append("</ol>")
    unexplained = [t for t in r.tests if t.undiagnosed]
    if unexplained:
        listed = ", ".join(f"<code>{e(t.grade_id)}</code> {t.undiagnosed}" for t in unexplained)
        out.append(
            f'<p class="meta">Failed with no known misconception (a wrong value, shape or '
            f"type the catalogue does not explain, or not implemented): {listed}.</p>"
        )
    return out


def _tests_section(r) -> list[str]:
    shown = [s for s in STATUS_LABELS if s != "passed"]
    out = [
        "<h2>Tests</h2>",
        "<table><tr><th>test</th><th class=n>points</th><th>pass rate</th>"
        + "".join(f"<th class=n>{e(STATUS_LABELS[s])}</th>" for s in shown)
        + "</tr>",
    ]
    for t in r.tests:
        cells = "".join(
            f'<td class="n{" zero" if not t.counts[s] else ""}">{t.counts[s]}</td>' for s in shown
        )
        out.append(
            f"<tr><td><code>{e(t.grade_id)}</code><br><span class=meta>{e(t.title)}</span></td>"
            f'<td class=n>{number(t.points)}</td><td class="rate">{_bar(t.pass_rate)} '
            f"<span class=meta>({t.counts['passed']}/{t.submissions})</span></td>{cells}</tr>"
        )
    out.append("</table>")
    return out


def _review_section(r) -> list[str]:
    out = ["<h2>Students to review</h2>"]
    out.append(f'<p class="meta">{e(r.similarity_note)}</p>')
    if not r.review:
        return [*out, "<p>Nobody: no tampering, fault, flag or late submission.</p>"]
    out.append("<table><tr><th>student</th><th class=n>score</th><th>why</th></tr>")
    for item in r.review:
        why = "".join(f"<li>{e(reason)}</li>" for reason in item.reasons)
        out.append(
            f"<tr><td>{link(r.feedback_href(item.student_id), item.student_id)}</td>"
            f"<td class=n>{number(r.final_scores.get(item.student_id))}</td>"
            f'<td><ul class="why">{why}</ul></td></tr>'
        )
    out.append("</table>")
    return out


def _timing_section(r) -> list[str]:
    out = ["<h2>Grading time</h2>"]
    t = r.timing
    if not t.seconds:
        return [*out, "<p>No times recorded (graded before the grader recorded them).</p>"]
    slow = ", ".join(f"{e(sid)} {s:.1f} s" for sid, s in t.slowest)
    out.append(
        f"<p>Per submission, where it was graded: median <b>{t.median:.2f} s</b>, 90 % under "
        f"{t.p90:.2f} s, longest {t.longest:.1f} s ({slow}). Timeouts and resource limits "
        "make the long ones.</p>"
    )
    if t.runs:
        out.append(
            "<table><tr><th>run finished</th><th class=n>graded</th><th class=n>wall time</th>"
            "<th class=n>per submission</th><th>where</th></tr>"
        )
        for run in t.runs:
            per = run["elapsed"] / run["graded"] if run["graded"] else 0.0
            out.append(
                f"<tr><td>{e(run['finished'])}</td><td class=n>{run['graded']}</td>"
                f"<td class=n>{run['elapsed']:.1f} s</td><td class=n>{per:.2f} s</td>"
                f"<td>{e(run['where'])}</td></tr>"
            )
        out.append("</table>")
    return out


# ----------------------------------------------------------------------------- overview


def _cell(score: float | None) -> str:
    return "" if score is None else number(score, 3)


def overview_page(o) -> str:
    """The page of :class:`autograder.course_overview.Overview` ``o``."""
    body = [
        "<h1>Course overview</h1>",
        f'<p class="sub">{len(o.students)} students · {len(o.assignments)} assignments · '
        "scores from the gradebook, after late penalties, as <code>nbgrader export</code> "
        "has them</p>",
        "<h2>Assignments</h2>",
        "<table><tr><th>assignment</th><th class=n>submissions</th><th class=n>mean</th>"
        "<th class=n>median</th><th class=n>max</th><th>pass rate per test</th></tr>",
    ]
    for a in o.assignments:
        rates = "<br>".join(
            f"{_bar(rate)} <code>{e(gid)}</code>" for gid, rate in a.pass_rates.items()
        )
        report = link(o.report_href(a.name), a.name)
        body.append(
            f"<tr><td>{report}</td><td class=n>{a.submissions}</td><td class=n>"
            f"{number(a.mean)}</td><td class=n>{number(a.median)}</td><td class=n>"
            f"{number(a.max_score)}</td><td>{rates or '<span class=meta>not graded by the '}"
            f"{'' if rates else 'autograder</span>'}</td></tr>"
        )
    body.append("</table><h2>Students</h2>")
    body.append(
        '<p class="meta">An empty cell: no submission. Each assignment links to its report.</p>'
    )
    body.append(
        "<table><tr><th>student</th>"
        + "".join(f"<th class=n>{e(a.name)}</th>" for a in o.assignments)
        + "<th class=n>total</th></tr>"
    )
    for sid in o.students:
        cells = "".join(
            f"<td class=n>{_cell(o.scores.get((sid, a.name)))}</td>" for a in o.assignments
        )
        body.append(f"<tr><td>{e(sid)}</td>{cells}<td class=n>{number(o.total(sid), 3)}</td></tr>")
    body.append("</table>")
    return _page("Course overview", body)
