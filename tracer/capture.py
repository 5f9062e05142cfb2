"""What a trace captured, in plain Python (so that recorded samples replay without a kernel), and its
translation into the rows of the trace tables: keys decoded, stacks symbolized, interrupt context
marked, lock addresses named.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from lima.tracer.kallsyms import Kallsyms
from lima.tracer.vocabulary import EVENTS, PRIMITIVES, flag_names, frame_context, lock_type_mode

__all__ = ["Capture", "Rows", "build_rows", "KEY_FIELDS"]

KEY_FIELDS = ("lock_addr", "cgroup_id", "name_ptr", "stack_id", "pid", "tgid", "flags", "event",
              "subclass", "comm")


@dataclass
class Capture:
    """Raw output of one trace: aggregated counts, stacks (addresses), lockdep names, event stream."""

    backend: str
    counts: list[tuple[dict, tuple[int, int, int]]] = field(default_factory=list)
    stacks: dict[int, list[int]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    events: list[dict] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    events_capped: int = 0
    kallsyms: str = ""   # kallsyms lines of the frames, when saved as a sample
    cgroups: dict[int, str] = field(default_factory=dict)   # cgroup id -> path, read at the end of the run

    def to_json(self) -> str:
        """Serialize (to record sample data for tests)."""
        return json.dumps({"kallsyms": self.kallsyms,
            "backend": self.backend, "counts": [[k, list(v)] for k, v in self.counts],
            "stacks": {str(k): v for k, v in self.stacks.items()},
            "names": {str(k): v for k, v in self.names.items()},
            "events": self.events, "stats": self.stats, "events_capped": self.events_capped,
            "cgroups": {str(k): v for k, v in self.cgroups.items()},
        }, indent=1)

    @classmethod
    def from_json(cls, path: Path) -> Capture:
        """Read what to_json wrote."""
        d = json.loads(path.read_text())
        return cls(backend=d["backend"], counts=[(k, tuple(v)) for k, v in d["counts"]],
                   stacks={int(k): v for k, v in d["stacks"].items()},
                   names={int(k): v for k, v in d["names"].items()},
                   events=d["events"], stats=d["stats"], events_capped=d.get("events_capped", 0),
                   kallsyms=d.get("kallsyms", ""),
                   cgroups={int(k): v for k, v in d.get("cgroups", {}).items()})


@dataclass
class Rows:
    """Rows for lock_events, stack_frames, trace_events and trace_cgroups (without run_id), and what
    was dropped."""

    lock_events: list[dict] = field(default_factory=list)
    stack_frames: list[dict] = field(default_factory=list)
    trace_events: list[dict] = field(default_factory=list)
    cgroups: list[dict] = field(default_factory=list)
    events_seen: int = 0
    irq_events: int = 0


def _describe(key: dict, backend: str, names: dict[int, str], ksyms: Kallsyms) -> dict:
    """Columns common to lock_events and trace_events, from one lock_key."""
    flags = key["flags"]
    primitive = None
    if backend == "primitives":
        primitive, lock_type, mode, _ = PRIMITIVES[key["subclass"]]
    else:
        lock_type, mode = lock_type_mode(flags)
    lock_name = None
    if backend == "lockdep":
        lock_name = names.get(key["name_ptr"])
        # lock_acquire's read argument: 0 = exclusive (lockdep.bpf.c sets WRITE), 1 or 2 = shared
        # (READ); lockdep does not know the lock type, so no write/exclusive distinction.
        # Release and contended events carry no mode.
        mode = "read" if flags & 2 else "exclusive" if flags & 4 else None
    elif flags & (1 << 8):
        lock_name = "&mm->mmap_lock"   # mmap_init_lock: init_rwsem(&mm->mmap_lock), mmap_lock.h:63-66 (v6.1)
    addr = key["lock_addr"] or None
    sym = ksyms.data(addr) if addr else None
    return {
        "lock_addr": addr,
        "lock_name": lock_name,
        "lock_symbol": (sym.name if sym.offset == 0 else f"{sym.name}+{sym.offset:#x}") if sym else None,
        "lock_type": lock_type if backend != "lockdep" else None,
        "mode": mode,
        "subclass": key["subclass"] if backend == "lockdep" else None,
        "stack_id": key["stack_id"] if key["stack_id"] >= 0 else None,
        "pid": key["pid"],
        "tgid": key["tgid"],
        "comm": key["comm"],
        "cgroup_id": key["cgroup_id"],
        "event": EVENTS.get(key["event"]),
        "primitive": primitive,
        "flags": "|".join(flag_names(flags)) or None,
    }


def build_rows(cap: Capture, ksyms: Kallsyms, keep_irq: bool = False) -> Rows:
    """Decode a capture: symbolize every stack used, mark interrupt context, drop it unless keep_irq."""
    rows = Rows()
    contexts: dict[int, str | None] = {}
    used: set[int] = set()
    for sid, addrs in cap.stacks.items():
        syms = [ksyms.code(a) for a in addrs]
        contexts[sid] = frame_context([s.name for s in syms if s])
    for key, (count, total, wmax) in cap.counts:
        ctx = contexts.get(key["stack_id"])
        if ctx and not keep_irq:
            rows.irq_events += count
            continue
        row = _describe(key, cap.backend, cap.names, ksyms)
        row.update(context=ctx, count=count,
                   wait_ns_total=total if key["event"] == 2 or total else None,
                   wait_ns_max=wmax if key["event"] == 2 or wmax else None)
        rows.lock_events.append(row)
        rows.events_seen += count
        if row["stack_id"] is not None:
            used.add(row["stack_id"])
    for ev in cap.events:
        ctx = contexts.get(ev["stack_id"])
        if ctx and not keep_irq:
            continue
        row = _describe(ev, cap.backend, cap.names, ksyms)
        row.update(context=ctx, ts_ns=ev["ts_ns"], cpu=ev["cpu"], wait_ns=ev["wait_ns"] or None)
        rows.trace_events.append(row)
        if row["stack_id"] is not None:
            used.add(row["stack_id"])
    seen = {r["cgroup_id"] for r in rows.lock_events + rows.trace_events}
    rows.cgroups = [{"cgroup_id": c, "path": cap.cgroups[c]} for c in sorted(seen) if c in cap.cgroups]
    for sid in sorted(used):
        for depth, addr in enumerate(cap.stacks.get(sid, [])):
            sym = ksyms.code(addr)
            rows.stack_frames.append({
                "stack_id": sid, "depth": depth, "address": addr,
                "symbol": sym.name if sym else None, "offset": sym.offset if sym else None,
                "module": sym.module if sym else None, "src_file": None, "src_line": None,
            })
    return rows
