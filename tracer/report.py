"""The end-of-run summary: events, distinct locks, and the top 10 locks with the top frames of their
busiest stack (lock implementation frames skipped, so the frames say who took the lock), and the
object each lock locks as lima-query names it (read from the database once the run is stored), and
the cgroup (tenant) that took it most, by path.  Wait is the
time spent in contended waits (event = contended) only.  The run's notes say when stacks were sampled
(lima-trace --mmap-lock: stack counts are then samples, lock counts stay exact)."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import defaultdict

import duckdb
from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = ["summarize", "print_summary", "render_summary", "lock_objects", "LOCK_INTERNAL_PREFIXES"]

# frames that belong to the lock implementation or to the tracing itself, skipped in "taken at"
LOCK_INTERNAL_PREFIXES = (
    "__pv_queued_spin", "queued_", "native_queued", "_raw_", "do_raw_", "rwsem_", "__rwsem", "down_",
    "__down", "up_", "mutex_", "__mutex", "percpu_down", "__percpu_down", "rt_mutex", "__rt_mutex",
    "rtlock", "__mmap_lock", "mmap_read_", "mmap_write_", "lock_mm_and_find_vma", "trace_contention",
    "perf_trace", "bpf_", "__bpf", "lock_acquire", "lock_release", "lock_contended",
)


def _lock_label(row: dict) -> str:
    if row.get("lock_name"):
        return row["lock_name"] + (f" @{row['lock_addr']:#x}" if row.get("lock_addr") else "")
    if row.get("lock_symbol"):
        return row["lock_symbol"]
    return f"{row['lock_addr']:#x}" if row.get("lock_addr") else "?"


def _ident(row: dict) -> object:
    """One lock of the summary: its address, else its class name."""
    return row["lock_addr"] if row.get("lock_addr") else ("name", row.get("lock_name"))


def lock_objects(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[object, str] | None:
    """The object each lock of a stored run locks, named as lima-query names it (object_key of the
    installed view lock_event_objects: struct.field, global symbol, ambiguous(...), unresolved ...),
    the one with the most events when a lock's rows map to several; None when the database holds no
    index (no lock_sites row)."""
    if not con.execute("SELECT count(*) FROM lock_sites").fetchone()[0]:
        return None
    rows = con.execute("SELECT lock_addr, lock_name, object_key, sum(count) AS n FROM lock_event_objects "
                       "WHERE run_id = ? GROUP BY ALL ORDER BY n, object_key DESC", [run_id]).fetchall()
    # ascending: the busiest object of a lock is written last
    return {_ident({"lock_addr": a, "lock_name": name}): obj for a, name, obj, _n in rows}


def summarize(lock_events: list[dict], stack_frames: list[dict], top: int = 10,
              objects: dict[object, str] | None = None, no_objects: str = "no index",
              cgroups: dict[int, str] | None = None) -> dict:
    """Totals and the top locks by events, each with the caller frames of its busiest stack, the
    object it locks (objects: from lock_objects; None: each says no_objects) and the cgroup (tenant)
    that took it most, by path (cgroups: id -> path; an id without path stays a number)."""
    frames: dict[int, list[str]] = defaultdict(list)
    for f in sorted(stack_frames, key=lambda f: (f["stack_id"], f["depth"])):
        frames[f["stack_id"]].append(f["symbol"] or f"{f['address']:#x}")
    locks: dict[object, dict] = {}
    for r in lock_events:
        # one lock = one address (rows of one lock may differ in what names it: contention vs mmap_lock)
        ident = _ident(r)
        d = locks.setdefault(ident, {"ident": ident, "lock": _lock_label(r), "type": r.get("lock_type") or "",
                                     "count": 0, "wait_ns": 0, "stacks": defaultdict(int), "events": set(),
                                     "cgroups": defaultdict(int)})
        if r.get("lock_name") or r.get("lock_symbol"):
            d["lock"] = _lock_label(r)
        d["count"] += r["count"]
        if r.get("event") == "contended":   # mmap_lock acquisition times include these waits
            d["wait_ns"] += r.get("wait_ns_total") or 0
        d["events"].add(r.get("event") or "")
        if r.get("stack_id") is not None:
            d["stacks"][r["stack_id"]] += r["count"]
        if r.get("cgroup_id") is not None:
            d["cgroups"][r["cgroup_id"]] += r["count"]
    ranked = sorted(locks.values(), key=lambda d: -d["count"])[:top]
    out = []
    for d in ranked:
        taken_at = []
        if d["stacks"]:
            best = max(d["stacks"].items(), key=lambda kv: kv[1])[0]
            taken_at = [s for s in frames.get(best, []) if not s.startswith(LOCK_INTERNAL_PREFIXES)][:3]
        obj = no_objects if objects is None else objects.get(d["ident"], "not mapped")
        tenant = ""
        if d["cgroups"]:
            cg = max(d["cgroups"].items(), key=lambda kv: (kv[1], -kv[0]))[0]
            tenant = (cgroups or {}).get(cg) or f"cgroup {cg}"
            if len(d["cgroups"]) > 1:
                tenant += f" (+{len(d['cgroups']) - 1})"
        # named as lima-query names them: event_kinds, events (a number), wait_ms
        out.append({"lock": d["lock"], "object": obj, "type": d["type"],
                    "event_kinds": ",".join(sorted(d["events"])),
                    "events": d["count"], "wait_ms": round(d["wait_ns"] / 1e6, 3),
                    "stacks": len(d["stacks"]), "cgroup": tenant, "taken_at": " < ".join(taken_at)})
    return {"events": sum(r["count"] for r in lock_events), "distinct_locks": len(locks), "top": out}


def render_summary(run: dict, summary: dict, fmt: str = "table", width: int = 200) -> str:
    """The summary as text in FMT (table, json or csv), as print_summary prints it; each json and csv
    row names its run_id, so rows of several runs can be put together."""
    if fmt == "json":
        return json.dumps({"run": {k: run.get(k) for k in ("run_id", "backend", "events_seen", "events_lost",
                                                            "stacks_lost", "irq_events", "duration_s",
                                                            "notes")},
                           **summary, "top": [{"run_id": run["run_id"], **d} for d in summary["top"]]},
                          indent=1, default=str) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=["run_id", "lock", "object", "type", "event_kinds", "events",
                                            "wait_ms", "stacks", "cgroup", "taken_at"])
        w.writeheader()
        w.writerows({"run_id": run["run_id"], **d} for d in summary["top"])
        return buf.getvalue()
    buf = io.StringIO()
    _print_table(run, summary, Console(file=buf, width=width))
    return buf.getvalue()


def print_summary(run: dict, summary: dict, fmt: str = "table", console: Console | None = None) -> None:
    """Print the summary as a rich table, JSON or CSV."""
    if fmt in ("json", "csv"):
        sys.stdout.write(render_summary(run, summary, fmt))
        return
    # a terminal sets the width; piped output gets wide lines rather than cut cells
    _print_table(run, summary, console or (Console() if sys.stdout.isatty() else Console(width=200)))


def _print_table(run: dict, summary: dict, console: Console) -> None:
    console.print(f"[bold]run {escape(run['run_id'])}[/]  backend {escape(run['backend'])}  "
                  f"{run['duration_s']:.1f}s  "
                  f"events {summary['events']}  distinct locks {summary['distinct_locks']}  "
                  f"lost {run['events_lost']}  without stack {run['stacks_lost']}  "
                  f"interrupt context {run['irq_events']}")
    if run.get("notes"):
        console.print(f"notes: {escape(run['notes'])}")
    t = Table(title="Top locks")
    for col, just in (("lock", "left"), ("object (lima-query)", "left"), ("type", "left"),
                      ("event kinds", "left"), ("events", "right"),
                      ("contended wait ms", "right"), ("stacks", "right"), ("cgroup (busiest)", "left"),
                      ("taken at (busiest stack)", "left")):
        t.add_column(col, justify=just)
    for d in summary["top"]:
        # cells are text, not rich markup: a class name such as &obj_hash[i].lock keeps its [i]
        t.add_row(*(escape(str(x)) for x in (d["lock"], d["object"], d["type"], d["event_kinds"], d["events"],
                                             f"{d['wait_ms']:.3f}", d["stacks"], d["cgroup"], d["taken_at"])))
    console.print(t)
