"""lima-import: load lock traces made elsewhere into the LIMA database, all or nothing per file.

Formats (detected from the content, or --format):

- lima-json: the original LIMA trace format. JSON objects, as one JSON array or one object per line,
  each one acquisition: {"locks": ["&mm->mmap_lock", ...], "kernel_stack": ["sym+0xoff [kernel]", ...]}.
  A lock is a lockdep class name, or a hex address ("0xffff8881...") where the kernel had no lockdep;
  every lock of the list counts one event with that stack. kernel_stack is innermost frame first.
  Optional keys kept: pid (or tid), tgid, comm, cgroup_id (or cgroup), cpu, lock_type, mode, wait_ns,
  event, timestamp (or ts_ns; an integer is nanoseconds, a float seconds): records with a timestamp
  are also written to trace_events, so `lima-query timeline` works on them.
- lock-stat: a /proc/lock_stat dump (lock_stat version 0.4). Each class line becomes a contended row
  (contentions, with the wait times) and an acquire row (acquisitions); -W/-R lines give the mode.
  Contention-point lines are recognised and skipped.

A malformed record stops the import with FILE:LINE and what is wrong, and nothing of the file stays in
the database (one transaction). A file whose content hash was imported before is refused unless --force.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import socket
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
from lima.db import LimaDbError, connect, default_db_path
from lima.tracer.store import StoredThenInterrupted, insert_rows, run_exists
from lima.tracer.vocabulary import RUN_MODES

__all__ = ["ImportErrorAt", "ImportResult", "import_file", "parse_lima_json", "parse_lock_stat", "main"]

_FRAME = re.compile(r"^(?P<sym>[^\s+\[]+)(?:\+0x(?P<off>[0-9a-fA-F]+))?(?:/0x[0-9a-fA-F]+)?"
                    r"(?:\s+\[(?P<mod>[^\]]+)\])?$")
_HEX = re.compile(r"^(?:0x)?[0-9a-fA-F]{8,16}$")
_NUM = r"([0-9]+(?:\.[0-9]+)?)"
_LOCKSTAT_CLASS = re.compile(r"^\s*(?P<name>\S.*?)(?:-(?P<rw>[RW]))?:" + (r"\s+" + _NUM) * 12 + r"\s*$")
_LOCKSTAT_POINT = re.compile(r"^\s*\S.*\s+[0-9]+\s+\[<[0-9a-fA-Fx]+>\]\s+\S+\s*$")
# optional keys of a lima-json record, as --help lists them (others are ignored, named in the run's notes)
OPTIONAL_KEYS = ("pid", "tid", "tgid", "comm", "cgroup_id", "cgroup", "cpu", "lock_type", "mode", "wait_ns",
                 "event", "timestamp", "ts_ns")
_KNOWN_KEYS = {"locks", "kernel_stack", *OPTIONAL_KEYS}
# largest values of the database column types (db/schema.sql): a record beyond them is refused with its
# FILE:LINE while reading, instead of a DuckDB ConversionException at insert time with no line
_INT32_MAX = 2**31 - 1  # INTEGER: pid, tgid, cpu
_INT64_MAX = 2**63 - 1  # BIGINT: frame offset, lock_events.count
_UINT64_MAX = 2**64 - 1  # UBIGINT: cgroup_id, wait_ns (and its total), ts_ns
# files from this size on show a progress bar (on a terminal): smaller ones import in about a second
PROGRESS_MIN_BYTES = 1 << 20
# progress callbacks run every this many records, so that a bar costs nothing measurable
_TICK = 4096
ProgressFn = Callable[[str, int, int | None], None]
"""on_progress(phase, done, total): phase 'reading' counts records or lines, 'writing' counts tables."""


class ImportErrorAt(Exception):
    """A malformed input: FILE:LINE: what is wrong."""


@dataclass
class ImportResult:
    """What an import wrote."""

    run_id: str
    fmt: str
    records: int
    events: int
    lock_rows: int
    stacks: int
    trace_events: int
    ignored_keys: list[str]


@dataclass
class _Parsed:
    events: dict[tuple, list[int]]  # (lock_addr, lock_name, lock_type, mode, stack_id, pid, tgid, comm,
    #                                  cgroup, event) -> [count, wait_total, wait_max]
    stacks: dict[tuple[str, ...], int]
    timed: list[tuple]
    records: int
    ignored_keys: set[str]
    has_wait: bool


def _frame(text: object, where: str) -> tuple[str | None, int | None, int | None, str | None]:
    """'sym+0xoff [module]' -> (symbol, offset, address, module); module 'kernel' is vmlinux (None)."""
    if not isinstance(text, str) or not text.strip():
        raise ImportErrorAt(f"{where}: kernel_stack frame {text!r} is not a non-empty string")
    t = text.strip()
    if _HEX.match(t):
        return None, None, int(t, 16), None
    m = _FRAME.match(t)
    if not m:
        raise ImportErrorAt(f"{where}: kernel_stack frame {t!r} is not 'symbol+0xoffset [module]'")
    mod = m.group("mod")
    if mod in ("kernel", "vmlinux", "kernel.kallsyms"):
        mod = None
    off = int(m.group("off"), 16) if m.group("off") else None
    if off is not None and off > _INT64_MAX:
        raise ImportErrorAt(f"{where}: kernel_stack frame {t!r}: offset is too large "
                            f"(at most {_INT64_MAX:#x})")
    return m.group("sym"), off, None, mod


def _int_key(rec: dict, keys: tuple[str, ...], where: str, maximum: int) -> int | None:
    """The first of KEYS present in REC, an integer from 0 to MAXIMUM (its column's range), else None."""
    for k in keys:
        if k in rec and rec[k] is not None:
            v = rec[k]
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ImportErrorAt(f"{where}: {k} must be a non-negative integer, not {v!r}")
            if v > maximum:
                raise ImportErrorAt(f"{where}: {k} {v} is too large (at most {maximum})")
            return v
    return None


def _timestamp_ns(rec: dict, where: str) -> int | None:
    """ts_ns or timestamp as nanoseconds (a float timestamp is seconds), within UBIGINT."""
    for k in ("ts_ns", "timestamp"):
        if k in rec and rec[k] is not None:
            v = rec[k]
            # NaN compares false with everything, and json.loads accepts NaN and Infinity: test first
            if isinstance(v, float) and not math.isfinite(v):
                raise ImportErrorAt(f"{where}: {k} must be a finite number, not {v!r}")
            if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
                raise ImportErrorAt(f"{where}: {k} must be a non-negative number, not {v!r}")
            ns = v if isinstance(v, int) or k == "ts_ns" else v * 1e9
            if ns > _UINT64_MAX:
                raise ImportErrorAt(f"{where}: {k} {v!r} is too large (at most {_UINT64_MAX} ns)")
            return int(ns) if isinstance(ns, int) or k == "ts_ns" else int(round(ns))
    return None


def _records(text: str, path: str, on_progress: ProgressFn | None = None) -> Iterator[tuple[str, object]]:
    """(where, object) for a JSON array or JSON-lines file; on_progress('reading', done, total)."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ImportErrorAt(f"{path}:{e.lineno}: not valid JSON: {e.msg}") from None
        # line of each element: positions of top-level objects are not kept by json; count by index
        for i, obj in enumerate(data):
            if on_progress and i % _TICK == 0:
                on_progress("reading", i, len(data))
            yield f"{path}: record {i + 1}", obj
        if on_progress:
            on_progress("reading", len(data), len(data))
        return
    lines = text.splitlines()
    for n, line in enumerate(lines, 1):
        if on_progress and (n - 1) % _TICK == 0:
            on_progress("reading", n - 1, len(lines))
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise ImportErrorAt(f"{path}:{n}: not valid JSON: {e.msg}") from None
        yield f"{path}:{n}", obj
    if on_progress:
        on_progress("reading", len(lines), len(lines))


def parse_lima_json(text: str, path: str, on_progress: ProgressFn | None = None) -> _Parsed:
    """Parse the original LIMA trace format; ImportErrorAt on the first malformed record."""
    events: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    stacks: dict[tuple[str, ...], int] = {}
    timed: list[tuple] = []
    ignored: set[str] = set()
    has_wait = False
    n = 0
    for where, rec in _records(text, path, on_progress):
        n += 1
        if not isinstance(rec, dict):
            raise ImportErrorAt(f"{where}: a record must be a JSON object, not {type(rec).__name__}")
        locks = rec.get("locks")
        if not isinstance(locks, list) or not locks:
            raise ImportErrorAt(f"{where}: \"locks\" must be a non-empty list of lock names or addresses")
        stack = rec.get("kernel_stack")
        if not isinstance(stack, list):
            raise ImportErrorAt(f"{where}: \"kernel_stack\" must be a list of frames")
        frames = tuple(_frame(f, where) and str(f).strip() for f in stack)
        sid = None
        if frames:
            sid = stacks.setdefault(frames, len(stacks) + 1)
        pid = _int_key(rec, ("pid", "tid"), where, _INT32_MAX)
        tgid = _int_key(rec, ("tgid",), where, _INT32_MAX)
        cgroup = _int_key(rec, ("cgroup_id", "cgroup"), where, _UINT64_MAX)
        cpu = _int_key(rec, ("cpu",), where, _INT32_MAX)
        wait = _int_key(rec, ("wait_ns",), where, _UINT64_MAX)
        has_wait = has_wait or wait is not None
        comm = rec.get("comm")
        for k in ("comm", "lock_type", "mode", "event"):
            if rec.get(k) is not None and not isinstance(rec.get(k), str):
                raise ImportErrorAt(f"{where}: {k} must be a string, not {rec.get(k)!r}")
        event = rec.get("event") or "acquire"
        if event not in ("acquire", "contended", "release"):
            raise ImportErrorAt(f"{where}: event must be acquire, contended or release, not {event!r}")
        ts = _timestamp_ns(rec, where)
        ignored.update(set(rec) - _KNOWN_KEYS)
        for lock in locks:
            if not isinstance(lock, str) or not lock.strip():
                raise ImportErrorAt(f"{where}: every lock must be a non-empty string, not {lock!r}")
            lock = lock.strip()
            addr, name = (int(lock, 16), None) if _HEX.match(lock) else (None, lock)
            key = (addr, name, rec.get("lock_type"), rec.get("mode"), sid, pid, tgid, comm, cgroup, event)
            agg = events[key]
            agg[0] += 1
            if wait is not None:
                agg[1] += wait
                agg[2] = max(agg[2], wait)
                # the row's wait_ns_total is UBIGINT too: name the record that makes the sum overflow
                if agg[1] > _UINT64_MAX:
                    raise ImportErrorAt(f"{where}: total wait_ns of lock {lock!r} with this stack, pid and "
                                        f"comm exceeds {_UINT64_MAX} ns")
            if ts is not None:
                timed.append((ts, cpu, addr, name, rec.get("lock_type"), rec.get("mode"), sid, pid, tgid,
                              comm, cgroup, wait, event))
    if n == 0:
        raise ImportErrorAt(f"{path}: no records")
    return _Parsed(dict(events), stacks, timed, n, ignored, has_wait)


def _lock_stat_count(text: str, column: str, where: str) -> int:
    """A count column of a lock_stat class line, read exactly (a float loses digits near 2**63)."""
    v = int(text) if text.isdigit() else int(float(text))
    if v > _INT64_MAX:
        raise ImportErrorAt(f"{where}: {column} {text} is too large (at most {_INT64_MAX})")
    return v


def _lock_stat_ns(us: float, column: str, where: str) -> int:
    """A lock_stat wait time in microseconds as nanoseconds, within UBIGINT."""
    ns = us * 1000
    if ns > _UINT64_MAX:
        raise ImportErrorAt(f"{where}: {column} {us} us is too large (at most {_UINT64_MAX} ns)")
    return int(round(ns))


def parse_lock_stat(text: str, path: str, on_progress: ProgressFn | None = None) -> _Parsed:
    """Parse a /proc/lock_stat dump; ImportErrorAt on a line that is none of its known kinds."""
    events: dict[tuple, list[int]] = {}
    n = 0
    lines = text.splitlines()
    for lineno, line in enumerate(lines, 1):
        if on_progress and (lineno - 1) % _TICK == 0:
            on_progress("reading", lineno - 1, len(lines))
        s = line.strip()
        if not s or set(s) <= set("-.") or s.startswith("lock_stat version") or s.startswith("class name"):
            continue
        m = _LOCKSTAT_CLASS.match(line)
        if m:
            nums = m.groups()[2:]
            where = f"{path}:{lineno}"
            contentions = _lock_stat_count(nums[1], "contentions", where)
            acquisitions = _lock_stat_count(nums[7], "acquisitions", where)
            wmax = _lock_stat_ns(float(nums[3]), "waittime-max", where)
            wtotal = _lock_stat_ns(float(nums[4]), "waittime-total", where)
            name = m.group("name").strip()
            mode = {"W": "write", "R": "read"}.get(m.group("rw") or "")
            if contentions:
                events[(None, name, None, mode, None, None, None, None, None, "contended")] = [
                    contentions, wtotal, wmax]
            if acquisitions:
                events[(None, name, None, mode, None, None, None, None, None, "acquire")] = [
                    acquisitions, None, None]
            n += 1
            continue
        if _LOCKSTAT_POINT.match(line):
            continue
        raise ImportErrorAt(f"{path}:{lineno}: not a lock_stat line (class line with 12 numbers, "
                            f"contention point, header or separator): {s[:80]!r}")
    if n == 0:
        raise ImportErrorAt(f"{path}: no lock_stat class lines")
    if on_progress:
        on_progress("reading", len(lines), len(lines))
    return _Parsed(events, {}, [], n, set(), True)


# The columns the importer writes (db/schema.sql), in the order of its row tuples (store.insert_rows)
_FRAME_COLUMNS = ("stack_id", "depth", "address", "symbol", "offset", "module")
_LOCK_EVENT_COLUMNS = ("lock_addr", "lock_name", "lock_type", "mode", "stack_id", "pid", "tgid", "comm",
                       "cgroup_id", "count", "wait_ns_total", "wait_ns_max", "event")
_TRACE_EVENT_COLUMNS = ("ts_ns", "cpu", "lock_addr", "lock_name", "lock_type", "mode", "stack_id", "pid",
                        "tgid", "comm", "cgroup_id", "wait_ns", "event")


def is_interrupt(e: BaseException) -> bool:
    """True for Ctrl-C: Python's KeyboardInterrupt, or DuckDB's form of it when the signal came during a
    query (InterruptException, or RuntimeError('Query interrupted') in DuckDB 1.x)."""
    if isinstance(e, KeyboardInterrupt | duckdb.InterruptException):
        return True
    return isinstance(e, RuntimeError) and "interrupted" in str(e).lower()


def detect_format(text: str) -> str:
    """lock-stat when the text starts like /proc/lock_stat, else lima-json."""
    head = text.lstrip()[:200]
    return "lock-stat" if head.startswith("lock_stat version") else "lima-json"


def import_file(con: duckdb.DuckDBPyConnection, path: str | Path, *, runtime: str, workload: str, mode: str,
                run_id: str | None = None, fmt: str = "auto", force: bool = False,
                duration_s: float | None = None, on_progress: ProgressFn | None = None) -> ImportResult:
    """Parse FILE and write one trace run, in one transaction; ImportErrorAt/LimaDbError on refusal.

    Ctrl-C while writing rolls the run back and raises KeyboardInterrupt (also when DuckDB reported it
    as its own exception). on_progress(phase, done, total) follows a long import (see ProgressFn).
    """
    p = Path(path)
    if duration_s is not None and not (math.isfinite(duration_s) and duration_s > 0):
        raise ImportErrorAt(f"--duration must be a number of seconds > 0, not {duration_s!r}")
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise ImportErrorAt(f"{p}: cannot read: {e.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise ImportErrorAt(f"{p}:{line}: not UTF-8 text") from None
    digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
    fmt = detect_format(text) if fmt == "auto" else fmt
    parser = parse_lock_stat if fmt == "lock-stat" else parse_lima_json
    parsed = parser(text, str(p), on_progress)
    for label, value in (("--runtime", runtime), ("--workload", workload), ("--mode", mode)):
        if not value or not value.strip():
            raise ImportErrorAt(f"{label} must not be empty")
    if mode not in RUN_MODES:
        raise ImportErrorAt(f"--mode {mode!r}: must be {' or '.join(RUN_MODES)}")
    prev = con.execute("SELECT run_id FROM trace_runs WHERE source_hash = ?", [digest]).fetchone()
    if prev and not force:
        raise ImportErrorAt(f"{p}: already imported as run {prev[0]} (same content); "
                            "--force imports it again")
    if run_id is None:
        base = f"{runtime}-{workload}-{mode}-{digest[:8]}"
        run_id, k = base, 1
        while run_exists(con, run_id):
            k += 1
            run_id = f"{base}-{k}"
    elif run_exists(con, run_id):
        raise ImportErrorAt(f"run id {run_id!r} exists already; choose another --run-id")
    if duration_s is None and parsed.timed:
        ts = [t[0] for t in parsed.timed]
        duration_s = (max(ts) - min(ts)) / 1e9 or None
    total = sum(v[0] for v in parsed.events.values())
    notes = f"ignored keys: {', '.join(sorted(parsed.ignored_keys))}" if parsed.ignored_keys else None
    backend = "import-lock-stat" if fmt == "lock-stat" else "import-lima-json"
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "INSERT INTO trace_runs (run_id, runtime, workload, mode, backend, host, duration_s, "
            "events_seen, events_lost, source, source_file, source_hash, notes) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 'lima-import', ?, ?, ?)",
            [run_id, runtime, workload, mode, backend, socket.gethostname(), duration_s, total,
             str(p.resolve()), digest, notes])
        frames = []
        for stack, sid in parsed.stacks.items():
            for depth, f in enumerate(stack):
                sym, off, addr, mod = _frame(f, str(p))
                frames.append((sid, depth, addr, sym, off, mod))
        if on_progress:
            on_progress("writing", 0, 3)
        insert_rows(con, "stack_frames", _FRAME_COLUMNS, frames, run_id)
        if on_progress:
            on_progress("writing", 1, 3)
        rows = [(k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8], v[0],
                 v[1] if parsed.has_wait else None, v[2] if parsed.has_wait else None, k[9])
                for k, v in parsed.events.items()]
        insert_rows(con, "lock_events", _LOCK_EVENT_COLUMNS, rows, run_id)
        if on_progress:
            on_progress("writing", 2, 3)
        insert_rows(con, "trace_events", _TRACE_EVENT_COLUMNS, parsed.timed, run_id)
        con.execute("COMMIT")
    except BaseException as e:
        con.execute("ROLLBACK")
        # DuckDB turns Ctrl-C during a query into its own exception: give callers the Python one
        if is_interrupt(e) and not isinstance(e, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        raise
    # after the transaction: a failing callback must not try to roll back a committed run, and a Ctrl-C
    # in it must not pass for one that came before the commit
    if on_progress:
        try:
            on_progress("writing", 3, 3)
        except KeyboardInterrupt as e:   # the run is in con's database file, not in the trace file p
            db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()")
            raise StoredThenInterrupted(run_id, db.fetchone()[0] or ":memory:", e) from None
    return ImportResult(run_id, fmt, parsed.records, total, len(rows), len(parsed.stacks), len(parsed.timed),
                        sorted(parsed.ignored_keys))


@contextmanager
def _progress_bar(path: Path) -> Iterator[ProgressFn | None]:
    """A rich progress bar on stderr for a file of PROGRESS_MIN_BYTES or more, when stderr is a terminal
    (never in pipes and logs); yields its on_progress callback, or None."""
    if not sys.stderr.isatty() or path.stat().st_size < PROGRESS_MIN_BYTES:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(bar_width=24), TaskProgressColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("reading", total=None)

        def show(phase: str, done: int, total: int | None) -> None:
            bar.update(task, description=phase, completed=done, total=total)

        yield show


def main(argv: list[str] | None = None) -> int:
    """Entry point of lima-import; returns the exit code (2 for bad input)."""
    ap = argparse.ArgumentParser(
        prog="lima-import",
        description="Load a lock trace made elsewhere (LIMA JSON trace, /proc/lock_stat dump) as one run.",
        epilog="examples:\n"
               "  lima-import trace.json --runtime fc --workload nginx --mode coldstart\n"
               "  lima-import lock_stat.txt --runtime runc --workload fio --mode warmup --duration 60\n"
               "then: lima-query top-locks --runtime fc\n\n"
               "keys of a lima-json record:\n"
               "  locks          required: list of lockdep class names or hex addresses (0xffff...)\n"
               "  kernel_stack   required: list of frames 'symbol+0xoff [module]', innermost first\n"
               "  pid (or tid), tgid, comm, cgroup_id (or cgroup), cpu\n"
               "                 optional: who took the lock (cgroup_id: the tenant)\n"
               "  lock_type, mode  optional: spinlock/mutex/rwsem..., read/write\n"
               "  wait_ns        optional: contended wait in nanoseconds\n"
               "  event          optional: acquire (default) | contended | release\n"
               "  timestamp (or ts_ns)  optional: integer ns or float seconds; timed records also go to\n"
               "                 trace_events (lima-query timeline)\n"
               f"  ({', '.join(OPTIONAL_KEYS)} are read;\n"
               "   other keys are ignored and named in the run's notes)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", help="trace: a JSON array or JSON lines of records (keys below), or a "
                                 "/proc/lock_stat dump")
    ap.add_argument("--runtime", required=True, help="runtime label (runc, runsc-kvm, fc, host, ...)")
    ap.add_argument("--workload", required=True, help="workload label")
    ap.add_argument("--mode", required=True, metavar="|".join(RUN_MODES),
                    help="run mode: coldstart (traced from the workload's start) or warmup (once warm)")
    ap.add_argument("--run-id", default=None, help="run id (default RUNTIME-WORKLOAD-MODE-HASH8)")
    ap.add_argument("--format", default="auto", choices=("auto", "lima-json", "lock-stat"),
                    help="input format (default: detected)")
    ap.add_argument("--duration", type=float, default=None,
                    help="traced seconds (for rates; default: timestamp span, else unknown)")
    ap.add_argument("--force", action="store_true", help="import a file whose content was imported before")
    ap.add_argument("--db", default=None, help=f"database (default $LIMA_DB or {default_db_path()})")
    args = ap.parse_args(argv)
    # before the database is opened (or created)
    if args.mode not in RUN_MODES:
        print(f"lima-import: --mode {args.mode!r}: must be {' or '.join(RUN_MODES)}", file=sys.stderr)
        return 2
    if Path(args.file).is_dir():
        print(f"lima-import: {args.file}: is a directory, not a trace file", file=sys.stderr)
        return 2
    if not Path(args.file).is_file():
        print(f"lima-import: {args.file}: no such file", file=sys.stderr)
        return 2
    r = None
    try:
        con = connect(args.db)
        try:
            with _progress_bar(Path(args.file)) as show:
                r = import_file(con, args.file, runtime=args.runtime, workload=args.workload, mode=args.mode,
                                run_id=args.run_id, fmt=args.format, force=args.force,
                                duration_s=args.duration, on_progress=show)
            from lima.queries import install_views
            install_views(con)
        finally:
            con.close()
    except (ImportErrorAt, LimaDbError) as e:
        print(f"lima-import: {e}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, duckdb.Error, RuntimeError) as e:
        # Ctrl-C may come as DuckDB's exception (a query was running); anything else is a real error
        if not is_interrupt(e):
            raise
        run_id = r.run_id if r is not None else e.run_id if isinstance(e, StoredThenInterrupted) else None
        if run_id is None:
            print("lima-import: interrupted; nothing imported", file=sys.stderr)
        else:
            # the run was committed; only the views (refreshed by install_views) were not
            print(f"lima-import: interrupted after importing run {run_id}; query views not refreshed",
                  file=sys.stderr)
        return 130
    extra = f"; ignored keys: {', '.join(r.ignored_keys)}" if r.ignored_keys else ""
    print(f"imported {args.file} as run {r.run_id} ({r.fmt}): {r.records} records, {r.events} events, "
          f"{r.lock_rows} lock rows, {r.stacks} stacks, {r.trace_events} timed events{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
