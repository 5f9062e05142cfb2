"""The libclang front end of lima-index: every compile_commands.json entry of an indexed file, parsed in
worker processes, its lock sites (lima.analyzer.clang_sites) written to clang_lock_sites.

A file is parsed again only when its content (files.hash), its flags, or one of the files it included
(size and mtime) changed. A worker that dies or hangs costs only its file (status crashed / timeout); a
file libclang cannot parse is status failed; every problem is one line in ClangStats.problems.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection, wait
from pathlib import Path

import duckdb
import pyarrow as pa
from lima.db import get_meta, set_meta
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from .clang_flags import CompileEntry, flags_hash, read_compile_commands
from .clang_sites import SITE_COLUMNS
from .indexer import code_digest
from .workers import stop_workers

__all__ = ["ClangTask", "ClangResult", "ClangStats", "ClangPass", "deps_digest", "run_clang_pass",
           "FILE_TIMEOUT"]

#: Seconds one file may take before its worker is killed (kernel files take 0.2-2 s).
FILE_TIMEOUT = float(os.environ.get("LIMA_CLANG_TIMEOUT", "300"))
#: Files written per database transaction.
WRITE_EVERY = 32

_SITE_TYPES = {"line": pa.int32(), "col": pa.int32(), "function": pa.string(), "primitive": pa.string(),
               "from_macro": pa.bool_(), "arg_text": pa.string(), "lock_type": pa.string(),
               "object_kind": pa.string(), "struct_name": pa.string(), "field_path": pa.string(),
               "symbol": pa.string(), "is_pointer": pa.bool_(), "reason": pa.string()}


@dataclass(frozen=True)
class ClangTask:
    """One file to parse."""
    file_id: int
    path: str          # relative to SRC
    abspath: str
    args: tuple[str, ...]
    hash: str | None   # files.hash when planned


@dataclass
class ClangResult:
    """What a worker made of one file."""
    file_id: int
    path: str
    status: str                 # parsed | errors | failed | crashed | timeout
    errors: int = 0
    message: str | None = None
    sites: list[tuple] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)
    deps_digest: str | None = None
    seconds: float = 0.0


@dataclass
class ClangStats:
    """Counts of one run of the clang front end (the summary line)."""
    entries: int = 0
    outside: int = 0
    not_indexed: int = 0
    unchanged: int = 0
    parsed: int = 0
    with_errors: int = 0
    failed: int = 0
    sites: int = 0
    files_done: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        """The summary line."""
        bad = f", {self.failed:,} failed" if self.failed else ""
        return (f"{self.parsed:,} files parsed ({self.with_errors:,} with errors{bad}), {self.unchanged:,} "
                f"unchanged, {self.sites:,} sites recorded; of {self.entries:,} entries {self.outside:,} "
                f"outside SRC, {self.not_indexed:,} not indexed; {self.seconds:.1f} s")


def front_end_version() -> str:
    """Digest of the front end's own code: results of another version are not reused."""
    return code_digest(("clang_sites.py", "clang_flags.py", "lock_catalogue.py"))


def deps_digest(paths: list[str]) -> str:
    """Digest of the size and mtime of every file a translation unit included (missing files count)."""
    h = hashlib.blake2b(digest_size=12)
    for p in paths:
        try:
            st = os.stat(p)
            h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        except OSError:
            h.update(f"{p}\0missing\n".encode())
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------
# Workers
# ---------------------------------------------------------------------------------------------------

def parse_one(task: ClangTask) -> ClangResult:
    """Parse one file in this process (what a worker does); never raises for a bad file."""
    from clang.cindex import TranslationUnitLoadError

    from .clang_sites import file_sites
    t0 = time.perf_counter()
    try:
        fs = file_sites(task.abspath, task.args)
    except OSError as e:
        return ClangResult(task.file_id, task.path, "failed", message=f"cannot read: {e.strerror or e}")
    except TranslationUnitLoadError as e:
        return ClangResult(task.file_id, task.path, "failed", message=f"libclang: {e}")
    except Exception as e:  # noqa: BLE001 - one bad file must not stop the run
        first = (str(e).splitlines() or [""])[0]
        return ClangResult(task.file_id, task.path, "failed", message=f"{type(e).__name__}: {first}",
                           seconds=time.perf_counter() - t0)
    status = "errors" if fs.errors else "parsed"
    msg = f"{fs.errors} errors, first: {fs.first_error}" if fs.errors else None
    return ClangResult(task.file_id, task.path, status, fs.errors, msg, [s.row() for s in fs.sites],
                       fs.includes, deps_digest(fs.includes), time.perf_counter() - t0)


def _worker_main(conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the parent decides what Ctrl-C means
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    crash_on = os.environ.get("LIMA_CLANG_TEST_CRASH")   # test hook: die on this path
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        if crash_on and task.path == crash_on:
            os._exit(139)
        conn.send(parse_one(task))


@dataclass
class _Worker:
    proc: mp.process.BaseProcess
    conn: Connection
    task: ClangTask | None = None
    started: float = 0.0


def run_workers(tasks: list[ClangTask], jobs: int) -> Iterator[ClangResult]:
    """Parse TASKS in JOBS worker processes, one file at a time each; yield results as they come.

    A worker that dies, or takes more than FILE_TIMEOUT on a file, is replaced; its file comes back
    as crashed / timeout. Every worker is stopped when the caller stops iterating (Ctrl-C included).
    """
    ctx = mp.get_context("spawn")
    todo = deque(tasks)
    workers: list[_Worker] = []

    def start() -> None:
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker_main, args=(child,), daemon=True)
        proc.start()
        child.close()
        workers.append(_Worker(proc, parent))

    def retire(w: _Worker) -> None:
        w.conn.close()
        if w.proc.is_alive():
            w.proc.kill()
        w.proc.join(timeout=2)
        workers.remove(w)

    try:
        for _ in range(min(max(jobs, 1), len(tasks))):
            start()
        while todo or any(w.task is not None for w in workers):
            for w in workers:
                if w.task is None and todo:
                    w.task, w.started = todo.popleft(), time.monotonic()
                    w.conn.send(w.task)
            busy = [w for w in workers if w.task is not None]
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=0.5)
            for w in busy:
                task = w.task
                if w.conn in ready:
                    try:
                        res = w.conn.recv()
                    except (EOFError, OSError):
                        res = None
                    if res is not None:
                        w.task = None
                        yield res
                        continue
                dead = w.proc.sentinel in ready or not w.proc.is_alive()
                late = time.monotonic() - w.started > FILE_TIMEOUT
                if dead or late:
                    if dead:
                        w.proc.join(timeout=2)
                    code = w.proc.exitcode
                    retire(w)
                    if todo:
                        start()
                    if late and not dead:
                        yield ClangResult(task.file_id, task.path, "timeout",
                                          message=f"no answer in {FILE_TIMEOUT:.0f} s (worker killed)")
                    else:
                        yield ClangResult(task.file_id, task.path, "crashed",
                                          message=f"worker died (exit code {code})")
    finally:
        stop_workers([(w.proc, w.conn, w.task is not None) for w in workers])


# ---------------------------------------------------------------------------------------------------
# The pass
# ---------------------------------------------------------------------------------------------------

class ClangPass:
    """Plan, run and store the clang front end for one source tree and one compile_commands.json."""

    def __init__(self, con: duckdb.DuckDBPyConnection, src: Path, compile_commands: Path, *, jobs: int,
                 force: bool = False, entries: list[CompileEntry] | None = None) -> None:
        self.con = con
        self.src = src.resolve()
        self.compile_commands = compile_commands
        self.jobs = jobs
        self.force = force
        self.stats = ClangStats()
        self.entries = entries if entries is not None else read_compile_commands(compile_commands)

    def plan(self) -> list[ClangTask]:
        """The files to parse; counts entries outside SRC, not indexed, or unchanged since the last run."""
        st = self.stats
        st.entries = len(self.entries)
        indexed = {path: (fid, h) for path, fid, h in self.con.execute(
            "SELECT path, file_id, hash FROM files WHERE status = 'ok'").fetchall()}
        old = {r[0]: r[1:] for r in self.con.execute(
            "SELECT file_id, hash, flags_hash, deps_digest, deps, status FROM clang_files").fetchall()}
        tasks: list[ClangTask] = []
        keep: set[int] = set()
        self.version = front_end_version()
        reuse = not self.force and get_meta(self.con, "clang_front_end_version") == self.version
        for e in self.entries:
            p = Path(e.file)
            try:
                rel = p.resolve().relative_to(self.src).as_posix()
            except ValueError:
                st.outside += 1
                continue
            if rel not in indexed:
                st.not_indexed += 1
                continue
            fid, fhash = indexed[rel]
            keep.add(fid)
            prev = old.get(fid)
            if (reuse and prev is not None and prev[0] == fhash and prev[1] == flags_hash(e.args)
                    and prev[4] in ("parsed", "errors") and prev[2] == deps_digest(list(prev[3] or []))):
                st.unchanged += 1
                continue
            tasks.append(ClangTask(fid, rel, str(p), e.args, fhash))
        gone = [fid for fid in old if fid not in keep]
        if gone:   # files no longer indexed or not in this compile_commands.json
            self.con.begin()
            self.con.execute("DELETE FROM clang_lock_sites WHERE file_id IN (SELECT unnest(?))", [gone])
            self.con.execute("DELETE FROM clang_files WHERE file_id IN (SELECT unnest(?))", [gone])
            self.con.commit()
        self._flags = {t.file_id: flags_hash(t.args) for t in tasks}
        self._hashes = {t.file_id: t.hash for t in tasks}
        return tasks

    def run(self, tasks: list[ClangTask],
            on_file: Callable[[ClangStats, ClangResult], None] | None = None) -> ClangStats:
        """Parse TASKS and write their sites, WRITE_EVERY files per transaction (an interrupted run keeps
        the files written; the next run parses the rest)."""
        t0 = time.perf_counter()
        st = self.stats
        pending: list[ClangResult] = []
        try:
            for res in run_workers(tasks, self.jobs):
                st.files_done += 1
                if res.status == "parsed":
                    st.parsed += 1
                elif res.status == "errors":
                    st.parsed += 1
                    st.with_errors += 1
                else:
                    st.failed += 1
                if res.status != "parsed":
                    st.problems.append(f"{res.path}: {res.status}: {res.message}")
                st.sites += len(res.sites)
                pending.append(res)
                if len(pending) >= WRITE_EVERY:
                    self._write(pending)
                    pending = []
                if on_file is not None:
                    on_file(st, res)
            self._write(pending)
            pending = []
        finally:
            st.seconds = time.perf_counter() - t0
        set_meta(self.con, "clang_compile_commands", str(self.compile_commands.resolve()))
        set_meta(self.con, "clang_front_end_version", self.version)
        set_meta(self.con, "clang_at", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        set_meta(self.con, "clang_seconds", f"{st.seconds:.1f}")
        set_meta(self.con, "clang_entries", f"{st.entries} entries, {st.outside} outside SRC, "
                                            f"{st.not_indexed} not indexed")
        return st

    def _write(self, results: list[ClangResult]) -> None:
        if not results:
            return
        ids = [r.file_id for r in results]
        rows = [(r.file_id, *s) for r in results for s in r.sites]
        now = datetime.now(UTC).replace(tzinfo=None)
        meta = [(r.file_id, self._hashes.get(r.file_id), self._flags.get(r.file_id), r.deps_digest,
                 r.includes or None, r.status, r.errors, r.message, len(r.sites), r.seconds, now)
                for r in results]
        self.con.begin()
        try:
            self.con.execute("DELETE FROM clang_lock_sites WHERE file_id IN (SELECT unnest(?))", [ids])
            self.con.execute("DELETE FROM clang_files WHERE file_id IN (SELECT unnest(?))", [ids])
            if rows:
                cols = list(zip(*rows, strict=True))
                names = ["file_id", *SITE_COLUMNS]
                types = [pa.int32(), *(_SITE_TYPES[c] for c in SITE_COLUMNS)]
                tbl = pa.table([pa.array(c, type=t) for c, t in zip(cols, types, strict=True)],
                               names=names)
                self.con.register("_clang_sites_batch", tbl)
                self.con.execute(f"INSERT INTO clang_lock_sites ({', '.join(names)}) "
                                 f"SELECT {', '.join(names)} FROM _clang_sites_batch")
                self.con.unregister("_clang_sites_batch")
            self.con.executemany("INSERT INTO clang_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", meta)
            self.con.commit()
        except BaseException:
            self.con.rollback()
            raise


def run_clang_pass(con: duckdb.DuckDBPyConnection, src: Path, compile_commands: Path,
                   entries: list[CompileEntry], *, jobs: int, force: bool, console: Console,
                   quiet: bool) -> ClangStats:
    """The clang front end with lima-index's progress bar; the stats (summary line and problems)."""
    cp = ClangPass(con, src, compile_commands, jobs=jobs, force=force, entries=entries)
    tasks = cp.plan()
    console.print(f"[bold]clang front end[/bold]: {len(tasks):,} files to parse "
                  f"({cp.stats.unchanged:,} unchanged) from {escape(str(compile_commands))}")
    with Progress(TextColumn("[bold]clang"), BarColumn(bar_width=24), TaskProgressColumn(),
                  TextColumn("{task.fields[files]}"), TimeElapsedColumn(), TextColumn("ETA"),
                  TimeRemainingColumn(), TextColumn("{task.fields[errs]}"), console=console,
                  transient=False, disable=quiet) as progress:
        bar = progress.add_task("clang", total=max(len(tasks), 1), files=f"0/{len(tasks):,} files",
                                errs="sites 0")

        def on_file(st: ClangStats, _res: ClangResult) -> None:
            progress.update(bar, completed=st.files_done, files=f"{st.files_done:,}/{len(tasks):,} files",
                            errs=f"sites {st.sites:,}, with errors {st.with_errors:,}, failed {st.failed:,}")

        cp.run(tasks, on_file)
        progress.update(bar, completed=max(len(tasks), 1))
    return cp.stats
