"""Copy detection: how much of the code two students wrote is the same, for every pair.

Only what the students wrote is compared: the answer cells and the code cells they added,
with every line of the released notebook's code (signatures, docstrings, the
``raise NotImplementedError()`` stubs, helpers such as ``pair``) taken out first; test cells
and read-only cells never take part.

The fingerprints are `copydetect <https://github.com/blingenf/copydetect>`_'s, the
winnowing scheme behind MOSS, on copydetect's normalised text: every name becomes ``V``
(``F`` for a function being defined), every string ``S``, comments and layout are
dropped, and the fingerprints are the hashes of all its k-grams. So renaming variables,
reformatting and rewriting comments change nothing, and reordering independent
statements only breaks the k-grams that straddle the moved statements.

Where copydetect served this course badly, measured, it is done otherwise:

- copydetect tokenises with Pygments, 31 ms per notebook here (31 s for a class of
  1,000); :func:`normalised_tokens` writes the same text (the tests compare the two) with
  Python's own tokenizer, eight times faster, on every core for a large class;
- copydetect compares pair by pair in Python; here every pair is scored at once, as the
  product of a submissions-by-fingerprints incidence matrix with its transpose (half a
  million pairs in seconds). copydetect's overlap and highlighting functions find the
  matching regions of the pairs shown in the report.

The score of a pair is the share of the smaller submission's fingerprints found in the
other (MOSS's "percentage of the file matched", taken from the side that matched most):
1.0 means one submission's own code is entirely contained in the other's.

A score at or over the threshold flags the pair for a human to look at; it is not a
verdict: short answers to the same exercise can look alike without any copying.
"""

from __future__ import annotations

import builtins
import csv
import html
import io
import json
import keyword
import os
import tokenize
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder.grading import notebooks
from autograder.similarity_defaults import DEFAULT_K, DEFAULT_THRESHOLD

MIN_FINGERPRINTS = 20  # below this a submission has too little code of its own to compare
CHUNK = 4096  # fingerprints per block of the incidence matrix
PARALLEL_FROM = 100  # submissions per worker process worth starting one for


@dataclass
class StudentCode:
    """What one student wrote for an assignment, as one Python text."""

    student_id: str
    code: str
    note: str = ""  # why there is nothing to compare (unreadable notebook, ...)


@dataclass
class Pair:
    student_a: str
    student_b: str
    score: float
    flagged: bool


@dataclass
class SimilarityResult:
    assignment: str
    threshold: float
    submissions: list  # StudentCode
    pairs: list  # Pair, highest score first
    fingerprints: dict = field(default_factory=dict)  # student_id -> Fingerprint

    @property
    def flagged(self) -> list:
        return [p for p in self.pairs if p.flagged]


# ----------------------------------------------------------------------------- what students wrote


def released_lines(released_nb) -> set[str]:
    """Every non-blank line, stripped, of the released notebook's code cells."""
    lines = set()
    for cell in released_nb.cells:
        if cell.get("cell_type") != "code":
            continue
        for line in notebooks.cell_source(cell).splitlines():
            if line.strip():
                lines.add(line.strip())
    return lines


def student_code(released: notebooks.Released, cells: list, starter: set[str]) -> str:
    """The code a student wrote: answer cells and added code cells, without test cells
    (by grade_id or by their released text), read-only cells or any line of the released
    code (``starter``; a released ``def`` line stays as a comment, which the fingerprints
    ignore, so that the report shows which function a body belongs to)."""
    tests = {notebooks.normalise(t.source) for t in released.tests.values()}
    kept = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        gid = notebooks.nbgrader_meta(cell).get("grade_id")
        source = notebooks.cell_source(cell)
        if gid in released.tests or gid in released.locked:
            continue
        if notebooks.normalise(source) in tests:
            continue
        lines, own = [], False
        for line in source.splitlines():
            if not line.strip():
                continue
            if line.strip() not in starter:
                lines.append(line)
                own = True
            elif line.startswith("def "):  # kept as a comment, to show whose body follows
                lines.append(f"# {line}")
        if own:
            kept.append("\n".join(lines))
    return "\n\n".join(kept) + ("\n" if kept else "")


def notebook_cells(path: Path) -> list:
    """The cells of a submitted notebook (plain JSON for nbformat 4, which is fast;
    through nbformat for older versions). Raises :class:`notebooks.UnreadableNotebook`."""
    data = path.read_bytes()
    if len(data) > notebooks.MAX_NOTEBOOK_BYTES:
        return notebooks.read_notebook(data).cells  # raises, saying why
    try:
        raw = json.loads(data)
    except ValueError:
        raw = None
    if isinstance(raw, dict) and raw.get("nbformat") == 4 and isinstance(raw.get("cells"), list):
        return raw["cells"]
    return notebooks.read_notebook(data).cells


def collect(course, assignment: str) -> list[StudentCode]:
    """Every submission of ``assignment``, in student-id order (with a note instead of
    code when the notebook is missing or unreadable)."""

    released_paths = course.released_notebooks(assignment)
    releases = []
    for released_path in released_paths:
        released = notebooks.parse_released(released_path.read_bytes())
        releases.append((released_path.name, released, released_lines(released.nb)))
    out = []
    for student in course.students(assignment):
        parts, notes = [], []
        for name, released, starter in releases:
            path = course.path("submitted", student, assignment) / name
            if not path.is_file():
                notes.append(f"no {name}")
                continue
            try:
                cells = notebook_cells(path)
            except (notebooks.UnreadableNotebook, OSError) as exc:
                notes.append(f"{name}: {exc}")
                continue
            parts.append(student_code(released, cells, starter))
        out.append(StudentCode(student, "\n".join(parts), "; ".join(notes)))
    return out


# ----------------------------------------------------------------------------- fingerprints


@dataclass
class Fingerprint:
    """copydetect's fingerprint of one submission's code, on our token stream.

    ``filtered`` is the normalised text (one character per name, string, operator or
    keyword letter, as copydetect makes it); :meth:`spans` gives, for each of its
    characters, the span of the raw code it came from (to mark matches in the report).
    """

    raw_code: str
    filtered: str
    hashes: set
    hash_idx: dict
    k: int

    def spans(self) -> tuple[np.ndarray, np.ndarray]:
        """``(starts, ends)``: the raw-code span of every character of ``filtered``."""
        tokens = list(normalised_tokens(self.raw_code))
        lengths = [len(text) for text, _, _ in tokens]
        starts = np.repeat(np.array([t[1] for t in tokens], dtype=np.int64), lengths)
        ends = np.repeat(np.array([t[2] for t in tokens], dtype=np.int64), lengths)
        return starts, ends


def _line_offsets(code: str) -> list[int]:
    """Where each line starts, with lines split as the tokenizer splits them (on "\\n")."""
    offsets = [0]
    for line in code.split("\n"):
        offsets.append(offsets[-1] + len(line) + 1)
    return offsets


def normalised_tokens(code: str):
    """``(text, start, end)`` for each token of ``code`` as copydetect writes it: a
    function or class being defined becomes ``F`` or ``O``, any other name that is not a
    keyword or a builtin (attributes included) ``V``, a string ``S``; comments and layout
    are dropped.

    Python's own tokenizer does what copydetect does with Pygments, eight times faster
    (3.7 against 31 ms for one notebook's answers); past a syntax error the rest is kept
    character by character, without whitespace.
    """
    offsets = _line_offsets(code)
    previous = ""
    position = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type in _SKIPPED:
                continue
            start = offsets[tok.start[0] - 1] + tok.start[1]
            end = offsets[tok.end[0] - 1] + tok.end[1]
            position = end
            if tok.type == tokenize.NAME:
                if previous in ("def", "class"):
                    text = "F" if previous == "def" else "O"
                elif previous != "." and (keyword.iskeyword(tok.string) or tok.string in _BUILTINS):
                    text = tok.string
                else:
                    text = "V"
            elif tok.type == tokenize.STRING:
                text = "S"
            elif tok.string.strip():
                text = tok.string
            else:
                continue
            previous = tok.string
            yield text, start, end
    except (tokenize.TokenError, SyntaxError):
        for i in range(position, len(code)):
            if not code[i].isspace():
                yield code[i], i, i + 1


_SKIPPED = {
    tokenize.COMMENT,
    tokenize.NL,
    tokenize.NEWLINE,
    tokenize.INDENT,
    tokenize.DEDENT,
    tokenize.ENCODING,
    tokenize.ENDMARKER,
}
_BUILTINS = frozenset(dir(builtins))


def normalised(code: str) -> str:
    """The normalised text of ``code`` (see :func:`normalised_tokens`)."""
    return "".join(text for text, _, _ in normalised_tokens(code))


def fingerprint(code: str, k: int = DEFAULT_K, filtered: str | None = None) -> Fingerprint:
    """Every k-gram of the normalised code, hashed by copydetect (window size 1: for
    answers this short every fingerprint is kept, which also makes the scores exact and
    the same from run to run). ``filtered``: the normalised text, if already made."""
    from copydetect.utils import get_document_fingerprints

    filtered = normalised(code) if filtered is None else filtered
    hashes, idx = get_document_fingerprints(filtered, k, 1)
    return Fingerprint(code, filtered, hashes, idx, k)


def normalise_all(codes: list[str]) -> list[str]:
    """:func:`normalised` of every text, on every core for a large class (the tokenizer
    is the slow step; only text crosses between processes, hashing stays here)."""
    workers = min(os.cpu_count() or 1, len(codes) // PARALLEL_FROM)
    if workers < 2:
        return [normalised(code) for code in codes]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(normalised, codes, chunksize=64))


def matching_regions(left: Fingerprint, right: Fingerprint):
    """copydetect's matching passages of two fingerprints, as raw-code slices
    (2 x N arrays of starts and ends), and the share of each side's code they cover."""
    from copydetect.utils import find_fingerprint_overlap, get_copied_slices

    idx_l, idx_r = find_fingerprint_overlap(
        left.hashes, right.hashes, left.hash_idx, right.hash_idx
    )
    out = []
    for fp, idx in ((left, idx_l), (right, idx_r)):
        slices = get_copied_slices(idx, fp.k).astype(np.int64)
        if slices.size == 0:
            out.append((np.zeros((2, 0), dtype=np.int64), 0.0))
            continue
        share = float(np.sum(slices[1] - slices[0])) / max(len(fp.filtered), 1)
        starts, ends = fp.spans()
        raw = _merged(starts[slices[0]], ends[slices[1] - 1])
        out.append((raw, min(share, 1.0)))
    return out


def _merged(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Sorted raw spans with overlapping ones joined (two passages may meet inside a token)."""
    spans: list[list[int]] = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        if spans and start <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return np.array(spans, dtype=np.int64).T.reshape(2, -1)


def shared_counts(hash_sets: list[set]) -> tuple[np.ndarray, np.ndarray]:
    """``(shared, sizes)``: ``shared[i, j]`` fingerprints common to submissions i and j, and
    each submission's number of fingerprints; an incidence-matrix product in blocks."""
    n = len(hash_sets)
    sizes = np.array([len(h) for h in hash_sets], dtype=np.int64)
    shared = np.zeros((n, n), dtype=np.float64)
    if n == 0 or sizes.sum() == 0:
        return shared, sizes
    owners = np.repeat(np.arange(n), sizes)
    values = np.fromiter(
        (h for hashes in hash_sets for h in hashes), dtype=np.int64, count=int(sizes.sum())
    )
    _, column, counts = np.unique(values, return_inverse=True, return_counts=True)
    common = counts[column] >= 2  # a fingerprint of one submission only matches nothing
    owners, column = owners[common], column[common]
    kept = np.unique(column)
    column = np.searchsorted(kept, column)
    for start in range(0, len(kept), CHUNK):
        inside = (column >= start) & (column < start + CHUNK)
        block = np.zeros((n, CHUNK), dtype=np.float32)
        block[owners[inside], column[inside] - start] = 1.0
        shared += block @ block.T
    return shared, sizes


def pair_scores(shared: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Share of the smaller submission's fingerprints found in the other (0 when either
    submission has fewer than ``MIN_FINGERPRINTS``)."""
    smaller = np.minimum(sizes[:, None], sizes[None, :]).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(smaller >= MIN_FINGERPRINTS, shared / smaller, 0.0)
    return np.clip(score, 0.0, 1.0)


def compare(
    submissions: list[StudentCode],
    assignment: str = "",
    threshold: float = DEFAULT_THRESHOLD,
    k: int = DEFAULT_K,
) -> SimilarityResult:
    """Score every pair of ``submissions``; pairs sorted by score, then by student ids."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold ({threshold}) must be in (0, 1]")
    if k < 1:
        raise ValueError(f"k ({k}) must be a positive number of tokens")
    texts = normalise_all([s.code for s in submissions])
    prints = {
        s.student_id: fingerprint(s.code, k, text)
        for s, text in zip(submissions, texts, strict=True)
    }
    ids = [s.student_id for s in submissions]
    shared, sizes = shared_counts([prints[i].hashes for i in ids])
    scores = pair_scores(shared, sizes)
    a, b = np.triu_indices(len(ids), k=1)
    values = np.round(scores[a, b], 4)
    order = np.lexsort((b, a, -values))
    pairs = [
        Pair(ids[a[i]], ids[b[i]], float(values[i]), bool(values[i] >= threshold)) for i in order
    ]
    return SimilarityResult(assignment, threshold, submissions, pairs, prints)


def similarity_csv(result: SimilarityResult) -> str:
    """``student_a,student_b,score,flagged``, highest score first, quoted by the csv module."""
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(["student_a", "student_b", "score", "flagged"])
    writer.writerows(
        (p.student_a, p.student_b, f"{p.score:.4f}", "yes" if p.flagged else "no")
        for p in result.pairs
    )
    return buf.getvalue()


# ----------------------------------------------------------------------------- the report

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem auto;max-width:90rem;padding:0 1rem;color:#222}
h1{font-size:1.5rem}
h2{font-size:1.15rem;margin-top:2rem;border-top:1px solid #ccc;padding-top:1rem}
.note{background:#fff6d6;padding:.6rem .8rem;border-left:4px solid #e0b400}
table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
.sides{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1rem}
.sides h3{font-size:1rem;margin:.4rem 0}
pre{background:#f6f6f6;padding:.6rem;font-size:.8rem;overflow-x:auto;white-space:pre;margin:0}
mark{background:#ffd27a;color:inherit}
"""


def _marked(code: str, slices) -> str:
    """``code`` as HTML with the regions in ``slices`` (copydetect's 2 x N array) marked."""
    if len(slices) == 0 or np.size(slices) == 0:
        return html.escape(code)
    from copydetect.utils import highlight_overlap

    text, _ = highlight_overlap(code, slices, "<mark>", "</mark>", escape_html=True)
    return text


def _pair_section(result: SimilarityResult, number: int, pair: Pair) -> list[str]:
    e = html.escape
    left, right = result.fingerprints[pair.student_a], result.fingerprints[pair.student_b]
    (slices_a, share_a), (slices_b, share_b) = matching_regions(left, right)
    return [
        f'<h2 id="pair-{number}">{number}. {e(pair.student_a)} and {e(pair.student_b)}: '
        f"score {pair.score:.2f}</h2>",
        f"<p>Marked: {share_a:.0%} of {e(pair.student_a)}'s code and {share_b:.0%} of "
        f"{e(pair.student_b)}'s is the same up to names, layout and comments.</p>",
        '<div class="sides">',
        f"<div><h3>{e(pair.student_a)}</h3><pre>{_marked(left.raw_code, slices_a)}</pre></div>",
        f"<div><h3>{e(pair.student_b)}</h3><pre>{_marked(right.raw_code, slices_b)}</pre></div>",
        "</div>",
    ]


def report_html(result: SimilarityResult, unflagged_shown: int = 10) -> str:
    """The report: flagged pairs side by side with the matching regions marked."""
    e = html.escape
    flagged = result.flagged
    n = len(result.submissions)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Similarity: {e(result.assignment)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>Similarity of the code students wrote: {e(result.assignment)}</h1>",
        '<p class="note"><b>A flag is a reason to look, not a verdict.</b> Short answers to '
        "the same exercise can look alike without any copying, and a shared source (the "
        "book, a classmate explaining an idea) is not copying either. Read the marked code, "
        "and talk to the students, before concluding anything.</p>",
        f"<p>{n} submissions, {n * (n - 1) // 2} pairs, <b>{len(flagged)} flagged</b> "
        f"(score at least {result.threshold:.2f}). The score of a pair is the share of the "
        "smaller submission's code (as token k-grams, with names, layout and comments "
        "ignored, and the released starter code taken out) that also occurs in the other; "
        "marked regions are the matching passages.</p>",
    ]
    empty = [s for s in result.submissions if s.note or not s.code.strip()]
    if empty:
        parts.append("<p>Not compared (nothing of their own to compare):</p><ul>")
        parts += [
            f"<li>{e(s.student_id)}: {e(s.note or 'no code of their own')}</li>" for s in empty
        ]
        parts.append("</ul>")
    if flagged:
        parts.append("<table><tr><th>#</th><th>students</th><th>score</th></tr>")
        for number, p in enumerate(flagged, start=1):
            parts.append(
                f'<tr><td><a href="#pair-{number}">{number}</a></td><td>{e(p.student_a)} and '
                f"{e(p.student_b)}</td><td>{p.score:.2f}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>No pair reaches the threshold.</p>")
    rest = [p for p in result.pairs if not p.flagged and p.score > 0][:unflagged_shown]
    if rest:
        parts.append("<p>The highest pairs under the threshold, for comparison:</p><table>")
        parts.append("<tr><th>students</th><th>score</th></tr>")
        parts += [
            f"<tr><td>{e(p.student_a)} and {e(p.student_b)}</td><td>{p.score:.2f}</td></tr>"
            for p in rest
        ]
        parts.append("</table>")
    for number, p in enumerate(flagged, start=1):
        parts += _pair_section(result, number, p)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ----------------------------------------------------------------------------- the command


def run(
    root,
    assignment: str,
    threshold: float = DEFAULT_THRESHOLD,
    k: int = DEFAULT_K,
    out=None,
) -> SimilarityResult:
    """``python -m autograder similarity``: writes ``similarity.csv`` and
    ``similarity.html`` at the course root and prints a summary."""
    from autograder.course import Course, atomic_write

    course = Course(root)
    result = compare(collect(course, assignment), assignment, threshold, k)
    atomic_write(course.root / "similarity.csv", similarity_csv(result))
    atomic_write(course.root / "similarity.html", report_html(result))
    if out is not None:
        n = len(result.submissions)
        print(
            f"similarity: {assignment}: {n} submissions, {len(result.pairs)} pairs, "
            f"{len(result.flagged)} flagged (score >= {threshold:.2f})",
            file=out,
        )
        for p in result.flagged[:20]:
            print(f"  {p.score:.2f}  {p.student_a}  {p.student_b}", file=out)
        print(f"pairs: {course.root / 'similarity.csv'}", file=out)
        print(
            f"report (a flag is a reason to look, not a verdict): "
            f"{course.root / 'similarity.html'}",
            file=out,
        )
    return result
