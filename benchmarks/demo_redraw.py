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
all its redraws (and the 95th percentile); the slowest control by the median of its own
changes ("typical": what that change costs, a stall of the machine's in one of them
aside); and the worst control (the one of the worst change), marked (†) when one of
its two values is a setting the package refuses there (the demo then alternates between
its message, its arrays cleared, and all its arrays drawn again); the budget is 16 ms
(one frame at 60 Hz). Beside them, two peers measured in the same run, as many frames
each, timed the same way, their median and worst: around an event that changes nothing
(what the machine alone adds), and around the smallest change the page can show, one
character of text in the demo (what any redraw of that page costs at those settings,
before the demo's own work: styling, laying out, painting and compositing a long page
with the demo in it). Then, from a trace kept while each demo is timed (the marks the
page sets at both ends of each timed part carry the main thread's CPU clock): how long the
slowest change had the main thread on a CPU, how long it was off it (waiting for a CPU, or
for another thread), and how long it spent collecting garbage (a collector's pause lands in
whichever change is running when it falls due: a scavenge takes 1-3 ms, the last pause of a
full collection 5-10 ms); and the most CPU time any change took, with and without its
collection. They tell the page's work from a crowded machine: on a 2-core VM the main
thread shares the cores with the compositor, raster and display threads, V8's compilers
(optimizing the page's code in the background as it gets hot), the browser process, the
driver and the VM's own agents. The budget is judged on the worst as timed.

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
  else if (field.isContentEditable) field.textContent = String(value);
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
# number): a trace of the page's CPU clock and garbage collection is cut by them (Trace).
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


def main_thread_pid(browser, page) -> int | None:
    """The id of the process rendering the page (its main thread has the same id): the one
    a short trace names as the page's main frame's; None if it cannot be told."""
    try:
        browser.start_tracing(page=page, categories=["disabled-by-default-devtools.timeline"])
        page.evaluate("1")
        events = trace_events(browser)
    except Exception:  # no tracing here: the figures are left out
        return None
    frames = [
        frame
        for event in events
        if event.get("name") == "TracingStartedInBrowser"
        for frame in event.get("args", {}).get("data", {}).get("frames", [])
    ]
    pids = {f.get("processId") for f in frames if f.get("isInPrimaryMainFrame")}
    return pids.pop() if len(pids) == 1 else None


def trace_events(browser) -> list[dict]:
    """Stops the browser's trace and gives its events (Chromium writes them as a list, or
    as a dict holding it)."""
    trace = json.loads(browser.stop_tracing())
    return trace["traceEvents"] if isinstance(trace, dict) else trace


# A trace's events of V8's garbage collector (its pauses on the main thread, nested) and
# the page's marks: light enough to leave on while a demo is timed.
TRACE_CATEGORIES = ["disabled-by-default-v8.gc", "blink.user_timing"]
PARTS = ("start", "handled", "painting", "end")  # MARKED_CHANGE's marks, in order


class Trace:
    """Each marked change's (MARKED_CHANGE's) main-thread CPU time and garbage collection,
    from a trace kept while a demo is timed: `cpu` and `gc`, change number -> ms, once the
    trace is read."""

    def __init__(self, browser, page, pid: int):
        self.browser, self.page, self.pid = browser, page, pid
        self.cpu: dict[int, float] = {}
        self.gc: dict[int, float] = {}

    def __enter__(self):
        self.browser.start_tracing(page=self.page, categories=TRACE_CATEGORIES)
        return self

    def __exit__(self, *exc):
        events = trace_events(self.browser)
        self.cpu = cpu_per_change(events, self.pid)
        self.gc = gc_per_change(events, self.pid)


def marks_per_change(events: list[dict], pid: int) -> dict[int, list[dict]]:
    """The four marks (PARTS) of each change on process pid's main thread (tid = pid), by
    change number; a change missing one is left out."""
    main = {
        e["name"]: e
        for e in events
        if e.get("pid") == pid and e.get("tid") == pid and e.get("name", "").startswith("redraw-")
    }
    changes = {}
    for name in main:
        if name.startswith("redraw-start:"):
            change = name.split(":")[1]
            marks = [main.get(f"redraw-{part}:{change}") for part in PARTS]
            if None not in marks:
                changes[int(change)] = marks
    return changes


def cpu_per_change(events: list[dict], pid: int) -> dict[int, float]:
    """ms the main thread ran on a CPU inside the timed parts of each change (start to
    handled, painting to end), from its CPU clock at the marks (a trace event's `tts`,
    µs); changes whose marks lack it are left out. The rest of the timed time the thread
    was off the CPU: runnable but waiting for one, or asleep (on a lock, another thread)."""
    spent = {}
    for change, marks in marks_per_change(events, pid).items():
        if all("tts" in m for m in marks):
            start, handled, painting, end = (m["tts"] for m in marks)
            spent[change] = (handled - start + end - painting) / 1000
    return spent


def gc_per_change(events: list[dict], pid: int) -> dict[int, float]:
    """ms of garbage collection on process pid's main thread inside the timed parts of each
    change (between MARKED_CHANGE's marks: start to handled, painting to end; not the wait
    for the frame between them): the union of its GC events. A pause of V8's (a scavenge,
    or the final pause of a mark-compact that walks the whole heap, the page's DOM
    included) lands in whichever change is running when it falls due."""
    pauses = sorted(
        (e["ts"], e["ts"] + e["dur"])
        for e in events
        if e.get("pid") == pid
        and e.get("tid") == pid
        and e.get("ph") == "X"
        and "GC" in e.get("name", "")
        and "dur" in e
    )
    spent = {}
    for change, marks in marks_per_change(events, pid).items():
        at = [m["ts"] for m in marks]
        spent[change] = (covered(pauses, *at[:2]) + covered(pauses, *at[2:])) / 1000
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


def timed(field, value, ids: list[int]) -> float:
    """MARKED_CHANGE on field, noting in ids the change's number (its marks in the page)."""
    ids.append(len(ids))
    return field.evaluate(MARKED_CHANGE, [value, ids[-1]])


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


def time_demo(demo, repeats: int, trace: Trace | None = None) -> dict:
    """Times every control of demo; trace gives each change's CPU time and collection."""
    maximise(demo)
    # What the page leaves for after a burst of changes (the URL written 250 ms after the
    # last one, the theme's rescan of the page's scrollable boxes 300 ms after the last
    # change to its content) is done before the timing starts: left to run, it fell in the
    # first changes timed, a cost of the setup rather than of theirs.
    demo.page.wait_for_timeout(SETTLE_MS)
    with trace or contextlib.nullcontext():
        timings, every, refusing = time_controls(demo, repeats)
    worst_control = max(timings, key=lambda k: max(timings[k]))
    typical = {control: statistics.median(samples) for control, samples in timings.items()}
    typical_control = max(typical, key=typical.get)
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
    cpu = [trace.cpu.get(i) for i in range(len(every))] if trace else [None]
    gc = [trace.gc.get(i) for i in range(len(every))] if trace else [None]
    known = None not in cpu + gc
    return {
        "median": statistics.median(every),
        "p95": statistics.quantiles(every, n=20, method="inclusive")[-1],
        "worst": max(every),
        "nothing": (statistics.median(nothing), max(nothing)),
        "character": (statistics.median(character), max(character)),
        "typical": typical[typical_control],
        "typical_control": typical_control,
        "worst_control": worst_control,
        # the worst control moved between a setting that computes and one refused
        "worst_refused": worst_control in refusing,
        "changes": len(every),
        # the slowest change's time on and off a CPU and its collection; the most CPU time
        # of any change, and of any change less its collection
        "cpu": cpu[slowest] if known else None,
        "off": max(0.0, every[slowest] - cpu[slowest]) if known else None,
        "gc": gc[slowest] if known else None,
        "most_cpu": max(cpu) if known else None,
        "bare": max(c - g for c, g in zip(cpu, gc, strict=True)) if known else None,
        "errors": demo.locator(".live-message").text_content(),
    }


def time_controls(demo, repeats: int):
    """Each control moved `repeats` times, then an edited cell: the samples by control,
    every sample in the order made (that of the changes' numbers, their marks) and the
    controls whose two values include one the package refuses at these settings (read
    after the first two changes, outside the timing)."""
    timings: dict[str, list[float]] = {}
    every: list[float] = []  # every sample, in the order made
    refusing: set[str] = set()
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
            every.append(timed(field, values[(r + 1) % 2], ids))
            samples.append(every[-1])
            if r < 2 and root.get_attribute("data-error") is not None:
                refusing.add(name)
        field.evaluate(TIME_CHANGE, values[0])
    # An edited cell of each editable grid, at the largest settings.
    cells = root.query_selector_all("table[data-editable] [contenteditable]")
    if cells:
        every.extend(timed(cells[-1], str(r % 7 - 3), ids) for r in range(repeats))
        timings["a cell"] = every[-repeats:]
    for handle in [root, *fields, *cells]:
        handle.dispose()
    return timings, every, refusing


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
                pid = main_thread_pid(browser, page) if demos.count() else None
                for i in range(demos.count()):
                    demo = demos.nth(i)
                    demo.scroll_into_view_if_needed()
                    trace = Trace(browser, page, pid) if pid else None
                    results.append(
                        (
                            name,
                            demo.get_attribute("data-demo"),
                            time_demo(demo, args.repeats, trace),
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
            f"{'worst':>8s} {'typical':>8s}  {'no change: median, worst':>24s}"
            f"  {'one character: median, worst':>29s}"
        )
        print(
            f"  {header}  worst control; typically slowest  (the slowest change's main thread:"
            " on a CPU, off it, collecting garbage; the most CPU time of any change, and less"
            " its collection)"
        )
        for name, demo, r in results:
            flag = "" if r["worst"] <= BUDGET_MS else "  OVER BUDGET"
            split = (
                f"  (on a CPU {r['cpu']:.1f}ms, off it {r['off']:.1f}ms, GC {r['gc']:.1f}ms;"
                f" most CPU {r['most_cpu']:.1f}ms, less GC {r['bare']:.1f}ms)"
                if r["cpu"] is not None
                else ""
            )
            print(
                f"  {demo:16s} {name:30s} {r['changes']:7d} {r['median']:7.2f}ms "
                f"{r['p95']:7.2f}ms {r['worst']:7.2f}ms {r['typical']:7.2f}ms  "
                f"{r['nothing'][0]:14.2f}ms {r['nothing'][1]:6.2f}ms  {r['character'][0]:19.2f}ms "
                f"{r['character'][1]:6.2f}ms  {r['worst_control']}"
                f"{REFUSED if r['worst_refused'] else ''}; {r['typical_control']}{flag}{split}"
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
