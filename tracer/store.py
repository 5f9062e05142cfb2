"""Writing a trace into the LIMA database: one transaction per run (nothing half-written), a bounded
wait when another process holds the file, then a side file that `lima-trace --merge` adds later.

DuckDB lets one process write a database file, and a reader in another process (even read-only)
holds a lock that keeps writers out.  A trace never waits on it while tracing: it records into the
kernel's maps, and only at the end opens the database.  If the file is held, it retries for
--db-wait seconds, then writes the run to SIDE = <db>.<run_id>.pending.duckdb and says how to merge it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
from lima.db import LimaDbError, connect

__all__ = ["RUN_COLUMNS", "write_run", "write_with_fallback", "merge_side_file", "side_file_for",
           "DbBusy", "RunExists", "StoredThenInterrupted", "insert_rows", "run_exists"]

RUN_COLUMNS = ("run_id", "runtime", "workload", "mode", "backend", "filters", "kernel_release", "host",
               "started_at", "duration_s", "events_seen", "events_lost", "source", "source_file",
               "source_hash", "stacks_lost", "irq_events", "notes")
LOCK_EVENT_COLUMNS = ("run_id", "lock_addr", "lock_name", "lock_symbol", "lock_type", "mode", "subclass",
                      "stack_id", "pid", "tgid", "comm", "cgroup_id", "count", "wait_ns_total",
                      "wait_ns_max", "event", "context", "primitive", "flags")
FRAME_COLUMNS = ("run_id", "stack_id", "depth", "address", "symbol", "offset", "module", "src_file",
                 "src_line")
TRACE_EVENT_COLUMNS = ("run_id", "ts_ns", "cpu", "lock_addr", "lock_name", "lock_symbol", "lock_type",
                       "mode", "stack_id", "pid", "tgid", "comm", "cgroup_id", "wait_ns", "event",
                       "context", "primitive", "flags")
CGROUP_COLUMNS = ("run_id", "cgroup_id", "path")
TABLES = (("trace_runs", RUN_COLUMNS), ("lock_events", LOCK_EVENT_COLUMNS),
          ("stack_frames", FRAME_COLUMNS), ("trace_events", TRACE_EVENT_COLUMNS),
          ("trace_cgroups", CGROUP_COLUMNS))


class StoredThenInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) that came after the run was committed, while what follows the commit ran
    (mapping the run to objects, a progress callback): the run is in `where` all the same. `cause` is
    the interrupt as it came (the caller tells Ctrl-C from SIGTERM by it)."""

    def __init__(self, run_id: str, where: Path | str, cause: BaseException) -> None:
        super().__init__(f"interrupted after run {run_id} was written to {where}")
        self.run_id = run_id
        self.where = where
        self.cause = cause


class DbBusy(Exception):
    """The database file is held by another process."""


class RunExists(LimaDbError):
    """The run id is already in the database (a LimaDbError, so callers that catch that still do)."""


# DuckDB column type -> Arrow type, to hand rows over as one Arrow table (executemany is row by row)
_ARROW = {"UBIGINT": pa.uint64(), "BIGINT": pa.int64(), "INTEGER": pa.int32(), "VARCHAR": pa.string(),
          "DOUBLE": pa.float64(), "TIMESTAMP": pa.timestamp("us")}


def insert_rows(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...],
                rows: list[dict] | list[tuple], run_id: str) -> None:
    """Insert ROWS into TABLE as one Arrow table (executemany goes row by row: 400,000 imported records
    took minutes). A row is a dict by column name, or a tuple in the order of COLUMNS; the run_id column,
    listed or not, gets RUN_ID. Arrow types follow the table's column types."""
    if not rows:
        return
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = ?", [table]).fetchall())
    if isinstance(rows[0], dict):
        values = {c: [r.get(c) for r in rows] for c in columns}
    else:
        values = {c: list(v) for c, v in zip(columns, zip(*rows, strict=True), strict=True)}
    values["run_id"] = [run_id] * len(rows)
    arrow = pa.table({c: pa.array(v, type=_ARROW[types[c]]) for c, v in values.items()})
    cols = ", ".join(f'"{c}"' for c in values)
    con.register("lima_rows", arrow)
    try:
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM lima_rows")
    finally:
        con.unregister("lima_rows")


def run_exists(con: duckdb.DuckDBPyConnection, run_id: str) -> bool:
    """The database holds a run with that id."""
    return bool(con.execute("SELECT count(*) FROM trace_runs WHERE run_id = ?", [run_id]).fetchone()[0])


def write_run(con: duckdb.DuckDBPyConnection, run: dict, lock_events: list[dict],
              stack_frames: list[dict], trace_events: list[dict], cgroups: list[dict] | None = None) -> None:
    """Insert one run and its rows (cgroups: trace_cgroups rows) in a single transaction (all or
    nothing)."""
    run_id = run["run_id"]
    con.execute("BEGIN TRANSACTION")
    try:
        if run_exists(con, run_id):
            raise RunExists(f"run id {run_id!r} already exists in the database (pick another --run-id)")
        insert_rows(con, "trace_runs", RUN_COLUMNS, [run], run_id)
        insert_rows(con, "lock_events", LOCK_EVENT_COLUMNS, lock_events, run_id)
        insert_rows(con, "stack_frames", FRAME_COLUMNS, stack_frames, run_id)
        insert_rows(con, "trace_events", TRACE_EVENT_COLUMNS, trace_events, run_id)
        insert_rows(con, "trace_cgroups", CGROUP_COLUMNS, cgroups or [], run_id)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _open_writer(db: Path) -> duckdb.DuckDBPyConnection:
    try:
        return connect(db)
    except LimaDbError as e:
        if "held open" in str(e):
            raise DbBusy(str(e)) from None
        raise


def side_file_for(db: Path, run_id: str) -> Path:
    """Where a run goes when the database stays busy."""
    return db.with_name(f"{db.name}.{run_id}.pending.duckdb")


def write_with_fallback(db: Path, run: dict, lock_events: list[dict], stack_frames: list[dict],
                        trace_events: list[dict], wait_s: float,
                        say: Callable[[str], None] = print,
                        after: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
                        cgroups: list[dict] | None = None) -> Path:
    """Write into db, retrying while another process holds it for up to wait_s seconds; then into a
    side file.  Returns the file written.  after(con) runs on db once the run is stored and mapped
    (not on a side file)."""
    deadline = time.monotonic() + wait_s
    told = False
    while True:
        try:
            con = _open_writer(db)
            break
        except DbBusy as e:
            if time.monotonic() >= deadline:
                side = side_file_for(db, run["run_id"])
                say(f"lima-trace: {e}; gave up after {wait_s:g}s: run written to {side}; "
                    f"add it later with: lima-trace --merge {side} --db {db}")
                con = connect(side)
                try:
                    write_run(con, run, lock_events, stack_frames, trace_events, cgroups)
                finally:
                    con.close()
                return side
            if not told:
                say(f"lima-trace: {e}; retrying for up to {wait_s:g}s")
                told = True
            time.sleep(0.5)
    try:
        write_run(con, run, lock_events, stack_frames, trace_events, cgroups)
        try:
            map_new_runs(con, say)
            if after is not None:
                after(con)
        except KeyboardInterrupt as e:   # the run is committed: say so, not "nothing written"
            raise StoredThenInterrupted(run["run_id"], db, e) from None
    finally:
        con.close()
    return db


def map_new_runs(con: duckdb.DuckDBPyConnection, say: Callable[[str], None] = print) -> None:
    """Install the query views and map the new run's stacks to objects now, so the next lima-query
    (or the duckdb shell) reads the cache.  The run is already committed: a failure here only warns."""
    from lima.queries import install_views

    try:
        install_views(con)
    except Exception as e:   # a broken query file too: the run is stored, lima-query retries
        say(f"lima-trace: warning: run stored, but mapping it to objects failed ({str(e).splitlines()[0]}); "
            "lima-query will retry")


def merge_side_file(db: Path, side: Path) -> list[str]:
    """Copy the runs of a side file into db in one transaction, then delete the side file.
    Returns the run ids merged."""
    if not side.is_file():
        raise LimaDbError(f"{side}: no such file")
    if not side.name.endswith(".pending.duckdb"):
        raise LimaDbError(f"{side}: not a side file of lima-trace (those are named DB.RUN.pending.duckdb); "
                          "nothing merged, nothing deleted")
    if db.exists() and side.resolve() == db.resolve():
        raise LimaDbError(f"{side}: the side file and --db are the same file")
    src = connect(side, read_only=True)
    try:
        runs = [r[0] for r in src.execute("SELECT run_id FROM trace_runs ORDER BY run_id").fetchall()]
        if not runs:
            raise LimaDbError(f"{side}: holds no run; nothing merged, file kept")
        data = {}
        present = {r[0] for r in src.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        for t, cols in TABLES:
            if t not in present:   # a side file written before the table existed (trace_cgroups)
                continue
            names = ", ".join(f'"{c}"' for c in cols)
            data[t] = src.execute(f"SELECT {names} FROM {t}").to_arrow_table()
    finally:
        src.close()
    con = _open_writer(db)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            for rid in runs:
                if run_exists(con, rid):
                    raise LimaDbError(f"{side}: run {rid!r} is already in {db}")
            for t, cols in TABLES:
                if t not in data:
                    continue
                names = ", ".join(f'"{c}"' for c in cols)
                con.register("lima_side", data[t])
                try:
                    con.execute(f"INSERT INTO {t} ({names}) SELECT {names} FROM lima_side")
                finally:
                    con.unregister("lima_side")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        map_new_runs(con)
    finally:
        con.close()
    side.unlink()
    wal = side.with_name(side.name + ".wal")
    if wal.exists():
        wal.unlink()
    return runs
