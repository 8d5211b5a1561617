"""The redraw benchmark's share of garbage collection and of CPU time in a change, on a
made-up trace: only the two timed parts count (not the wait for the frame between them),
nested and overlapping pauses once each, and only the page's main thread."""

from benchmarks.demo_redraw import cpu_per_change, gc_per_change

PID = 41


def mark(name: str, ts: float, tid: int = PID) -> dict:
    return {"name": name, "ph": "R", "ts": ts, "pid": PID, "tid": tid}


def pause(name: str, ts: float, dur: float, tid: int = PID) -> dict:
    return {"name": name, "ph": "X", "ts": ts, "dur": dur, "pid": PID, "tid": tid}


def change(n: int, start: float, handled: float, painting: float, end: float) -> list[dict]:
    return [
        mark(f"redraw-{part}:{n}", ts)
        for part, ts in zip(
            ("start", "handled", "painting", "end"), (start, handled, painting, end), strict=True
        )
    ]


def test_only_the_timed_parts_of_a_change_count_each_moment_once():
    events = [
        *change(0, 0, 4000, 10000, 13000),
        # a scavenge in the handler, with a phase nested in it: 1 ms
        pause("V8.GC_SCAVENGER", 1000, 1000),
        pause("V8.GC_SCAVENGER_SCAVENGE", 1200, 500),
        # a full collection's last pause straddling the end of the handler: 0.5 ms of it
        pause("V8.GC_MARK_COMPACTOR", 3500, 2000),
        # idle-time collection while waiting for the frame: not the change's
        pause("V8.GC_MC_INCREMENTAL", 6000, 3000),
        # in the frame's work, two overlapping pauses: 0.3 ms + 0.2 ms once
        pause("V8.GC_SCAVENGER", 11000, 300),
        pause("V8.GC_HEAP_EPILOGUE", 11100, 400),
        # another thread's collection (a worker): not the main thread's time
        pause("V8.GC_SCAVENGER", 2000, 1500, tid=PID + 1),
        *change(1, 20000, 24000, 30000, 33000),
        pause("V8.Execute", 21000, 1000),  # not a collection
    ]
    spent = gc_per_change(events, PID)
    assert spent == {0: 1.0 + 0.5 + 0.5, 1: 0.0}


def test_a_change_whose_marks_did_not_all_reach_the_trace_is_left_out():
    events = [*change(0, 0, 10, 20, 30)[:3], pause("V8.GC_SCAVENGER", 5, 3)]
    assert gc_per_change(events, PID) == {}


def clocked(change_events: list[dict], cpu_at: tuple[float, ...]) -> list[dict]:
    """The marks of a change with the main thread's CPU clock (tts, µs) at each."""
    return [{**m, "tts": t} for m, t in zip(change_events, cpu_at, strict=True)]


def test_cpu_time_is_read_from_the_thread_clock_at_the_marks_of_the_timed_parts():
    events = [
        # 4 ms handled, of which 3 on a CPU; 3 ms of the frame's work, 1 of it on a CPU;
        # the 6 ms between them (the wait for the frame: 5 ms on a CPU) do not count
        *clocked(change(0, 0, 4000, 10000, 13000), (100, 3100, 8100, 9100)),
        # another thread's marks of the same name: not the page's main thread
        *clocked(
            [{**m, "tid": PID + 1} for m in change(1, 0, 1000, 2000, 3000)], (0, 900, 900, 1800)
        ),
        # a change whose marks carry no CPU clock is left out
        *change(2, 20000, 24000, 30000, 33000),
    ]
    assert cpu_per_change(events, PID) == {0: 3.0 + 1.0}
