"""How fast the live demos redraw, and what each chapter page weighs, in Chromium.

Run as ``.venv/bin/python -m benchmarks.demo_redraw`` (builds the book first if it is
not current). For every live demo of every chapter (found by ``[data-demo]``), every
control is first put at its largest value (the largest input, kernel, stride... the page
accepts), then each control in turn is moved back and forth between its two largest
values ``--repeats`` times, once the page has done what the setting up left for later
(the URL is written when the changes stop). One redraw is timed in the page from just
before the control's event is dispatched to the end of the style and layout that the
change causes, the page's mutation observers included (``performance.now()`` around the
dispatch, a microtask checkpoint and a forced layout), plus the main thread's work in
the next frame (from its ``requestAnimationFrame`` callbacks to the task after it:
resize observers, pre-paint and paint), without the wait for the frame: the work the
change costs before the reader sees it. Printed per demo: the median and the worst of
all its redraws (and the 95th percentile), and the worst control, marked (†) when one of
its two values is a setting the package refuses there (the demo then alternates between
its message, its arrays cleared, and all its arrays drawn again); the budget is 16 ms
(one frame at 60 Hz). Beside them, two peers measured in the same run, as many frames
each, timed the same way, their median and worst: around an event that changes nothing
(what the machine alone adds), and around the smallest change the page can show, one
character of text in the demo (what any redraw of that page costs at those settings,
before the demo's own work: styling, laying out, painting and compositing a long page
with the demo in it). On Linux, the renderer's main thread is watched through
``/proc/<pid>/task/<tid>/schedstat`` around each change. Printed last: how long it
waited for a CPU (runnable, not running) during the slowest change and how long it ran,
and the worst of all changes once each one's own wait is taken out. They tell the page's
work from a crowded machine: on a 2-core VM the main thread shares the cores with the
compositor, raster and display threads, the browser process and the driver. The wait is
read around the whole round trip of the change through the driver, which can be much
longer than the timed part (once 26 ms of wait around an 11 ms change): a large wait
points to the machine without proving it, and the second figure may be low; a slow
change that neither waited nor ran as long was blocked (asleep: on a lock, another
thread, the kernel). Then, from a trace of V8's garbage collector kept while each demo
is timed: how long the main thread spent collecting garbage during the slowest change (a
collector's pause lands in whichever change is running when it falls due: a scavenge
takes 1-3 ms, the last pause of a full collection 5-10 ms), and the worst of all changes
once each one's wait and collection are taken out. The budget is judged on the worst as
timed.

Page weights: the chapter's HTML (widget state included) and its own images, the measure
of the 1.5 MB budget, then what the page also loads from ``_static/`` with an empty
cache (the theme, MathJax, the widget manager: the same files for every page, so cached
after the first), from the files the local server sent. ``--site`` measures another
build (say, one made before a change); ``--weights-only`` skips the timings. Every
request that would leave 127.0.0.1 is refused and reported.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import re
import statistics
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

from tools import chromium

ROOT = Path(__file__).resolve().parent.parent
BUDGET_MS = 16.0
SETTLE_MS = 500  # the page's delayed work after maximise(), before the timing (time_demo)
PAGE_BUDGET = 1.5 * 1024 * 1024
REFUSED = " (†)"  # marks a worst control that goes to an invalid setting and back

# Sets a control to a value and times the redraw: the dispatch, the page's mutation
# observers (delivered at the next microtask checkpoint, before the frame) and the style
# and layout the change causes; then the rest of the next frame's work, from its
# animation-frame callbacks to the task after it (resize observers, pre-paint, paint:
# moving the chapter below a demo that changed height is paid here), without the wait
# for the frame itself.
#
# With value null, the peer of a change, measured in the same run: the same timing around an
# event that changes nothing (dispatched on an element out of the page). Its worst, over as
# many frames as the demo's changes, is what the machine alone adds to a frame (the
# scheduler of a shared VM, the browser's other threads, the driver's own work).
_TIMING = """async (field, ARGS) => {
  MARK(start)
  const start = performance.now();
  if (value === null) field = document.createElement('input');
  else if (field.type === 'checkbox') field.checked = value;
  else field.value = String(value);
  const kind = field.tagName === 'SELECT' || field.type === 'checkbox' ? 'change' : 'input';
  field.dispatchEvent(new Event(kind, {bubbles: true}));
  await Promise.resolve();
  void document.body.offsetHeight;
  const handled = performance.now() - start;
  MARK(handled)
  const rendering = await new Promise((resolve) => requestAnimationFrame(() => {
    MARK(painting)
    const painting = performance.now();
    const after = new MessageChannel();
    after.port1.onmessage = () => {
      resolve(performance.now() - painting);
      MARK(end)
    };
    after.port2.postMessage(null);
  }));
  return handled + rendering;
}"""
TIME_CHANGE = re.sub(r"\n *MARK\(\w+\)", "", _TIMING.replace("ARGS", "value"))

# The second peer: an input out of the page whose input event writes its value, one
# character, into a span at the end of the demo (removed after: field.span).
ONE_CHARACTER = """demo => {
  const span = document.createElement('span');
  span.textContent = '0';
  demo.append(span);
  const field = document.createElement('input');
  field.addEventListener('input', () => { span.textContent = field.value; });
  field.span = span;
  return field;
}"""

# TIME_CHANGE with marks at both ends of its two timed parts, named for the change (its
# number): a trace of the page's garbage collection is cut by them (GcWatch).
MARKED_CHANGE = re.sub(
    r"MARK\((\w+)\)",
    r"performance.mark('redraw-\1:' + id);",
    _TIMING.replace("ARGS", "[value, id]").replace(
        "  return handled", "  performance.clearMarks();\n  return handled"
    ),
)

# A control's name: its argument name and the group it is in ("height", "layer 2"...).
NAME = """field => [field.getAttribute('aria-label') || '?',
  field.closest('[role=group]')?.getAttribute('aria-label')]"""

# The two values a control moves between: for a number or a range, the value maximise()
# left (its largest that computes) and the one below; the last two options of a list;
# both states of a checkbox.
EXTREMES = """field => {
  if (field.type === 'checkbox') return [true, false];
  if (field.tagName === 'SELECT') {
    const n = field.options.length;
    return n > 1 ? [String(n - 1), String(n - 2)] : null;
  }
  const value = Number(field.value), min = Number(field.min || 0);
  const step = Number(field.step) || 1;
  if (field.value === '' || value - step < min) return null;
  return [value, Number((value - step).toFixed(6))];
}"""


class MainThread:
    """The renderer main thread of a page, read from Linux's scheduler statistics: its CPU
    time and its wait for a CPU (runnable but not running), both in ms, since it started.
    The renderer is the one a short trace names as the page's main frame's process (its
    main thread has the process's id). Without /proc (not Linux), read() gives None."""

    def __init__(self, browser, page):
        self.pid = None
        try:
            browser.start_tracing(page=page, categories=["disabled-by-default-devtools.timeline"])
            page.evaluate("1")
            events = trace_events(browser)
        except Exception:  # no tracing here: the figures are left out
            return
        frames = [
            frame
            for event in events
            if event.get("name") == "TracingStartedInBrowser"
            for frame in event.get("args", {}).get("data", {}).get("frames", [])
        ]
        pids = {f.get("processId") for f in frames if f.get("isInPrimaryMainFrame")}
        if len(pids) == 1 and Path(f"/proc/{next(iter(pids))}/task").is_dir():
            self.pid = pids.pop()

    @staticmethod
    def _stat(pid: int) -> tuple[float, float]:
        run, wait, _ = Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()
        return int(run) / 1e6, int(wait) / 1e6

    def read(self) -> tuple[float, float] | None:
        try:
            return self._stat(self.pid) if self.pid else None
        except OSError:  # the renderer has gone
            return None


def trace_events(browser) -> list[dict]:
    """Stops the browser's trace and gives its events (Chromium writes them as a list, or
    as a dict holding it)."""
    trace = json.loads(browser.stop_tracing())
    return trace["traceEvents"] if isinstance(trace, dict) else trace


# A trace's events of V8's garbage collector (its pauses on the main thread, nested) and
# the page's marks: light enough to leave on while a demo is timed.
GC_CATEGORIES = ["disabled-by-default-v8.gc", "blink.user_timing"]


class GcWatch:
    """How long the page's main thread spent collecting garbage during each marked change
    (MARKED_CHANGE), from a trace of the collector kept while a demo is timed. A pause of
    V8's (a scavenge, or the final pause of a mark-compact that walks the whole heap, the
    page's DOM included) lands in whichever change is running when it falls due."""

    def __init__(self, browser, page, pid: int):
        self.browser, self.page, self.pid = browser, page, pid
        self.spent: dict[int, float] = {}  # change number -> ms, once the trace is read

    def __enter__(self):
        self.browser.start_tracing(page=self.page, categories=GC_CATEGORIES)
        return self

    def __exit__(self, *exc):
        self.spent = gc_per_change(trace_events(self.browser), self.pid)


def gc_per_change(events: list[dict], pid: int) -> dict[int, float]:
    """ms of garbage collection on process pid's main thread (tid = pid) inside the timed
    parts of each change (between MARKED_CHANGE's marks: start to handled, painting to
    end; not the wait for the frame between them): the union of its GC events."""
    main = [e for e in events if e.get("pid") == pid and e.get("tid") == pid]
    marks = {e["name"]: e["ts"] for e in main if e.get("name", "").startswith("redraw-")}
    pauses = sorted(
        (e["ts"], e["ts"] + e["dur"])
        for e in main
        if e.get("ph") == "X" and "GC" in e.get("name", "") and "dur" in e
    )
    spent = {}
    for name in marks:
        if not name.startswith("redraw-start:"):
            continue
        change = name.split(":")[1]
        at = [
            marks.get(f"redraw-{part}:{change}") for part in ("start", "handled", "painting", "end")
        ]
        if None not in at:
            spent[int(change)] = (covered(pauses, *at[:2]) + covered(pauses, *at[2:])) / 1000
    return spent


def covered(spans: list[tuple[float, float]], start: float, end: float) -> float:
    """How much of [start, end] the union of spans (sorted by their starts) covers."""
    total, reach = 0.0, start
    for a, z in spans:
        a, z = max(a, reach), min(z, end)
        if z > a:
            total += z - a
            reach = z
    return total


def timed(field, value, thread: MainThread | None, sched: list, ids: list[int]) -> float:
    """MARKED_CHANGE on field, noting in sched how long the main thread ran and waited for
    a CPU around it, and in ids the change's number (its marks in the page)."""
    ids.append(len(ids))
    before = thread.read() if thread else None
    ms = field.evaluate(MARKED_CHANGE, [value, ids[-1]])
    after = thread.read() if thread else None
    if before and after:
        sched.append((after[0] - before[0], after[1] - before[1]))
    return ms


def chapters(site: Path) -> list[str]:
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [c["file"] for part in toc.get("parts", []) for c in part["chapters"]]
    return [f"{n}.html" for n in names if re.match(r"\d\d_", n) and (site / f"{n}.html").exists()]


def serve(site: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def open_page(browser, base: str, name: str, site: Path):
    """The page, the local files it loaded and the requests it tried to send elsewhere."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    files: set[Path] = set()
    external: list[str] = []

    def route(route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname == "127.0.0.1":
            path = site / unquote(urlparse(url).path).lstrip("/")
            if path.is_file():
                files.add(path)
            route.continue_()
        else:
            external.append(url)
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.goto(f"{base}/{name}", wait_until="load")
    views = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    if views:
        page.wait_for_function(
            "n => document.querySelectorAll('.upsampling-demo[data-response-ms]').length >= n",
            arg=views,
            timeout=60_000,
        )
    page.wait_for_timeout(1500)  # fonts and MathJax's lazy parts
    return context, page, files, external


def maximise(demo) -> None:
    """Puts every number control at its largest value the demo computes without an error
    (twice: ranges that depend on other settings grow as those do); the step control
    ends at its last step."""
    fields = demo.locator("input[type=number]:not(table input), input[type=range]")
    message = demo.locator(".live-message")
    for _ in range(2):
        for i in range(fields.count()):
            field = fields.nth(i)
            top, low = field.get_attribute("max"), field.get_attribute("min") or "0"
            if not top:
                continue
            step = float(field.get_attribute("step") or 1)
            value = float(top)
            while True:
                field.evaluate(TIME_CHANGE, f"{value:g}")
                refused = field.get_attribute("aria-invalid") == "true"
                if not (refused or message.count() and message.first.text_content()):
                    break
                if value - step < float(low):
                    break
                value -= step


def time_demo(demo, repeats: int, thread: MainThread | None = None, gc=None) -> dict:
    """Times every control of demo; gc, a GcWatch, gives each change's garbage collection."""
    maximise(demo)
    # What the page leaves for after a burst of changes (the URL written 250 ms after the
    # last one, the theme's rescan of the page's scrollable boxes 300 ms after the last
    # change to its content) is done before the timing starts: left to run, it fell in the
    # first changes timed, a cost of the setup rather than of theirs.
    demo.page.wait_for_timeout(SETTLE_MS)
    with gc or contextlib.nullcontext():
        timings, sched, every, refusing = time_controls(demo, repeats, thread)
    waits = [waited for _, waited in sched]
    spent = [gc.spent.get(i) for i in range(len(every))] if gc else []
    known = len(waits) == len(every)
    gc_known = bool(spent) and None not in spent
    worst_control = max(timings, key=lambda k: max(timings[k]))
    slowest = every.index(max(every))
    # The peers, through handles as the changes are (see time_controls).
    root = demo.element_handle()
    nothing = [root.evaluate(TIME_CHANGE, None) for _ in every]
    probe = root.evaluate_handle(ONE_CHARACTER)
    probe.evaluate(TIME_CHANGE, "1")  # the span's first change (its line may be new)
    character = [probe.evaluate(TIME_CHANGE, str(i % 2)) for i in range(len(every))]
    probe.evaluate("field => field.span.remove()")
    for handle in (probe, root):
        handle.dispose()
    return {
        "median": statistics.median(every),
        "p95": statistics.quantiles(every, n=20, method="inclusive")[-1],
        "worst": max(every),
        "nothing": (statistics.median(nothing), max(nothing)),
        "character": (statistics.median(character), max(character)),
        "worst_control": worst_control,
        # the worst control moved between a setting that computes and one refused
        "worst_refused": worst_control in refusing,
        "changes": len(every),
        # the slowest change's wait for a CPU and CPU time (around its round trip through
        # the driver), and the worst with each change's wait out
        "waited": waits[slowest] if known else None,
        "ran": sched[slowest][0] if known else None,
        "unwaited": max(t - w for t, w in zip(every, waits, strict=True)) if known else None,
        # the slowest change's garbage collection, and the worst with waits and GC out
        "gc": spent[slowest] if gc_known else None,
        "bare": (
            max(t - w - g for t, w, g in zip(every, waits, spent, strict=True))
            if known and gc_known
            else None
        ),
        "errors": demo.locator(".live-message").text_content(),
    }


def time_controls(demo, repeats: int, thread: MainThread | None):
    """Each control moved `repeats` times, then an edited cell: the samples by control,
    each change's wait for a CPU (when known), every sample in the order made and the
    controls whose two values include one the package refuses at these settings (read
    after the first two changes, outside the timing)."""
    timings: dict[str, list[float]] = {}
    every: list[float] = []  # every sample, in the order made (that of sched and ids)
    refusing: set[str] = set()
    sched: list[tuple[float, float]] = []  # per change (ran, waited), when known
    ids: list[int] = []
    # Through handles, found once: a locator is looked up again in the page on every call,
    # and its search (of the whole page, for the demo's own locator: thousands of elements)
    # runs on the main thread watched, between the changes. Its garbage, 250 KB a change
    # over the scatter-add's sequence against the demo's own 60 KB, was collected in the
    # changes timed (scavenges of 2-5 ms, and the pauses of a full collection).
    root = demo.element_handle()
    fields = root.query_selector_all("input:not(table input), select")
    for field in fields:
        values = field.evaluate(EXTREMES)
        if not values:
            continue
        label, group = field.evaluate(NAME)
        name = f"{label} ({group})" if group else label
        samples = timings.setdefault(name, [])
        for r in range(repeats):
            every.append(timed(field, values[(r + 1) % 2], thread, sched, ids))
            samples.append(every[-1])
            if r < 2 and root.get_attribute("data-error") is not None:
                refusing.add(name)
        field.evaluate(TIME_CHANGE, values[0])
    # An edited cell of each editable grid, at the largest settings.
    cells = root.query_selector_all("table[data-editable] input")
    if cells:
        every.extend(timed(cells[-1], str(r % 7 - 3), thread, sched, ids) for r in range(repeats))
        timings["a cell"] = every[-repeats:]
    for handle in [root, *fields, *cells]:
        handle.dispose()
    return timings, sched, every, refusing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, help="a built site (default: build _build/html)")
    parser.add_argument("--repeats", type=int, default=20, help="changes per control")
    parser.add_argument("--weights-only", action="store_true", help="no redraw timings")
    args = parser.parse_args(argv)
    if args.site is None:
        from tools import build_book

        site = build_book.ensure_built()
    else:
        site = args.site.resolve()

    from playwright.sync_api import sync_playwright

    server = serve(site)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    failures = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium.executable(), args=chromium.ARGS
        )
        print(f"Page weights ({site}), budget {PAGE_BUDGET / 2**20:.1f} MB for HTML + images:")
        results = []
        for name in chapters(site):
            context, page, files, external = open_page(browser, base, name, site)
            html = (site / name).stat().st_size
            own = html + sum(p.stat().st_size for p in files if "_images" in p.parts)
            shared = sum(
                p.stat().st_size for p in files if "_images" not in p.parts and p.name != name
            )
            flag = "" if own <= PAGE_BUDGET else "  OVER BUDGET"
            print(
                f"  {name:32s} HTML {html / 1e6:5.2f} MB, with its images {own / 1e6:5.2f} MB"
                f" (+ {shared / 1e6:4.2f} MB shared by every page){flag}"
            )
            if external:
                print(f"    requests refused (left 127.0.0.1): {external[:3]}")
                failures += 1
            failures += own > PAGE_BUDGET
            if not args.weights_only:
                demos = page.locator("[data-demo]")
                thread = MainThread(browser, page) if demos.count() else None
                for i in range(demos.count()):
                    demo = demos.nth(i)
                    demo.scroll_into_view_if_needed()
                    gc = GcWatch(browser, page, thread.pid) if thread and thread.pid else None
                    results.append(
                        (
                            name,
                            demo.get_attribute("data-demo"),
                            time_demo(demo, args.repeats, thread, gc),
                        )
                    )
            context.close()
        browser.close()
    server.shutdown()
    if not args.weights_only:
        print(
            f"\nRedraw after a control change at the largest settings (budget {BUDGET_MS:.0f} ms):"
        )
        header = (
            f"{'demo':16s} {'page':30s} {'changes':>7s} {'median':>8s} {'p95':>8s} "
            f"{'worst':>8s}  {'no change: median, worst':>24s}"
            f"  {'one character: median, worst':>29s}"
        )
        print(
            f"  {header}  worst control  (main thread around the slowest: its wait for a CPU,"
            " its CPU time; worst less waits) [slowest's garbage collection; worst less both]"
        )
        for name, demo, r in results:
            flag = "" if r["worst"] <= BUDGET_MS else "  OVER BUDGET"
            waits = (
                f"  (waited {r['waited']:.1f}ms, ran {r['ran']:.1f}ms; {r['unwaited']:.1f}ms)"
                if r["waited"] is not None
                else ""
            )
            if r["gc"] is not None:
                waits += f" [GC {r['gc']:.1f}ms; {r['bare']:.1f}ms]"
            print(
                f"  {demo:16s} {name:30s} {r['changes']:7d} {r['median']:7.2f}ms "
                f"{r['p95']:7.2f}ms {r['worst']:7.2f}ms  {r['nothing'][0]:14.2f}ms "
                f"{r['nothing'][1]:6.2f}ms  {r['character'][0]:19.2f}ms "
                f"{r['character'][1]:6.2f}ms  {r['worst_control']}"
                f"{REFUSED if r['worst_refused'] else ''}{flag}{waits}"
            )
            failures += r["worst"] > BUDGET_MS
        if any(r["worst_refused"] for _, _, r in results):
            print(
                f"  {REFUSED.strip()} the control moved between a setting that computes and one the"
                " package refuses: every other change clears the demo's arrays and shows the"
                " message, the next draws them all again"
            )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
