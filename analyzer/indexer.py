"""Index a Linux source tree into the LIMA database: walk, decide what changed, parse in workers, write.

Incremental by design: a file whose size and mtime match its files row is not read; a file whose content
hash matches is not parsed; a file that disappeared loses its rows. Facts are written per batch in one
transaction together with the files rows of that batch, so an interrupted run keeps whole batches and the
next run redoes only what is missing.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import duckdb
import pyarrow as pa
from lima.analyzer.build_parser_pgo import describe as describe_parser_build
from lima.analyzer.extract import TABLE_COLUMNS, Extractor
from lima.analyzer.kbuild import makefiles_digest
from lima.analyzer.lock_config import DEFAULT_CONFIG, KernelConfig
from lima.analyzer.workers import BatchResult, FileResult, Task, WorkerPool
from lima.db import get_meta, set_meta

__all__ = ["BadInput", "SourceFile", "IndexStats", "scan_tree", "only_path", "kernel_version", "Indexer",
           "facts_fingerprint"]

#: Files and bytes per worker batch (whichever is reached first): small, so the cores stay busy.
BATCH_FILES = 200
BATCH_BYTES = 1024 * 1024
#: The parent inserts finished batches per this many bytes or seconds of source: every statement has a
#: fixed cost, so few large writes beat many small ones. From about 40 MB of source an insert appends
#: whole row groups (122,880 rows) to the big tables (calls, variables, macros), which DuckDB writes
#: straight to the database file instead of logging them in the WAL first.
WRITE_BYTES = 64 * 1024 * 1024
WRITE_SECONDS = 10.0
#: ... and commits per this many bytes or seconds. Each commit closes every table's last row group, which
#: DuckDB compresses again when the next commit appends to it: replaying the full tree's rows, the writer
#: took 14.0 CPU-s with a commit per 64 MiB, 12.1 with one per 256 MiB (bench/writer_commits.py). An
#: interrupted run loses at most the files since the last commit (about 15 s of work); the next run redoes
#: them.
COMMIT_BYTES = 256 * 1024 * 1024
COMMIT_SECONDS = 30.0
#: WAL size that triggers DuckDB's automatic checkpoint while indexing (its default is 16 MiB). Every
#: checkpoint rewrites the open row groups and the primary-key indexes, so with the default the parent
#: spent most of its CPU in COMMIT; the CLI checkpoints once at the end.
CHECKPOINT_THRESHOLD = "256MiB"


class BadInput(Exception):
    """Bad input (source tree, --only, database layout), explained in one line; the CLI exits 2."""


@dataclass(frozen=True)
class SourceFile:
    """A .c/.h file found under the source root."""

    path: str
    abspath: str
    size: int
    mtime_ns: int
    bad_name: bool = False   # the name is not UTF-8: path shows its bytes as \xNN, the file is not read


@dataclass
class IndexStats:
    """What a run did, for the progress bar and the summary table."""

    files_seen: int = 0
    files_to_parse: int = 0
    bytes_to_parse: int = 0
    parsed: int = 0
    unchanged: int = 0
    deleted: int = 0
    parse_errors: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    bytes_done: int = 0   # bytes of the files parsed so far (the progress bar)
    files_done: int = 0   # files written to the database (the progress bar)
    files_committed: int = 0   # ... and committed (kept if the run is interrupted)
    seconds: float = 0.0
    lock_pass: str = "not run"


def _rel_path(path: str, root: Path) -> tuple[str, bool]:
    """(path relative to root with / separators, whether it is valid UTF-8).

    A name that is not UTF-8 reaches Python with surrogate escapes, which no database column or Arrow
    string can hold: its bytes are written as \\xNN instead (the form shown to the user as well).
    """
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(rel).decode("utf-8", "backslashreplace"), False
    return rel, True


def scan_tree(root: Path, only: Iterable[str] = (),
              unlisted: list[tuple[str, str]] | None = None) -> list[SourceFile]:
    """Every .c/.h file under root (or under the given subfolders or files of root), sorted by path.

    A subfolder that cannot be listed is skipped and appended to unlisted as (path relative to root,
    reason) when that list is given; without it, and always for root or an --only folder itself, it is
    BadInput.
    """
    out: list[SourceFile] = []
    starts = [root / o for o in only] or [root]
    for start in starts:
        if start.is_file() and start.name.endswith((".c", ".h")):
            st = start.stat()
            rel, good = _rel_path(str(start), root)
            out.append(SourceFile(rel, str(start), st.st_size, st.st_mtime_ns, not good))
            continue
        if not start.is_dir():
            raise BadInput(f"{start}: --only wants a folder or a .c/.h file under {root}")
        stack = [str(start)]
        while stack:
            d = stack.pop()
            try:
                entries = list(os.scandir(d))
            except OSError as e:
                if unlisted is None or d == str(start):
                    raise BadInput(f"{d}: cannot list folder: {e.strerror}") from None
                unlisted.append((_rel_path(d, root)[0], e.strerror or str(e)))
                continue
            for e in entries:
                if e.is_dir(follow_symlinks=False):
                    if not e.name.startswith("."):
                        stack.append(e.path)
                elif e.name.endswith((".c", ".h")) and e.is_file(follow_symlinks=False):
                    try:
                        st = e.stat(follow_symlinks=False)
                        size, mtime = st.st_size, st.st_mtime_ns
                    except OSError:
                        size, mtime = 0, 0
                    rel, good = _rel_path(e.path, root)
                    out.append(SourceFile(rel, e.path, size, mtime, not good))
    out = list({f.path: f for f in out}.values())   # overlapping --only list a file once
    out.sort(key=lambda f: f.path)
    return out


def only_path(root: Path, typed: str) -> str:
    """An --only argument as a normalised path relative to root ('' for root itself).

    Relative arguments are taken relative to root, absolute ones must lie under it (as written, or once
    symbolic links are resolved). The result is compared as text with the files table's paths (which files
    under --only vanished), so './kernel', 'kernel/' and 'kernel//x/..' must all become 'kernel'.
    """
    if os.path.isabs(typed):
        rel = os.path.relpath(typed, root.absolute())
        if rel == ".." or rel.startswith("../"):
            rel = os.path.relpath(os.path.realpath(typed), os.path.realpath(root))
    else:
        rel = os.path.normpath(typed)
    rel = rel.replace(os.sep, "/")
    if rel == ".." or rel.startswith("../"):
        raise BadInput(f"{typed}: --only wants a folder or a .c/.h file under {root}")
    return "" if rel == "." else rel


def kernel_version(root: Path) -> str | None:
    """VERSION.PATCHLEVEL.SUBLEVEL[EXTRAVERSION] from the top Makefile, or None when absent."""
    try:
        text = (root / "Makefile").read_text(errors="replace")
    except OSError:
        return None
    vals = {}
    for key in ("VERSION", "PATCHLEVEL", "SUBLEVEL", "EXTRAVERSION"):
        m = re.search(rf"^{key}\s*=[ \t]*(\S*)", text, re.M)
        vals[key] = m.group(1) if m else ""
    if not vals["VERSION"]:
        return None
    v = f"{vals['VERSION']}.{vals['PATCHLEVEL'] or 0}.{vals['SUBLEVEL'] or 0}"
    return v + vals["EXTRAVERSION"]


def facts_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Digest of every (path, hash) in files and of the extractor that read them: equal fingerprints
    mean equal code facts."""
    row = con.execute("SELECT count(*), coalesce(md5(string_agg(path || ':' || coalesce(hash, '-'), ',' "
                      "ORDER BY path)), '') FROM files").fetchone()
    return f"{row[0]}:{row[1]}:{get_meta(con, EXTRACTOR_META) or '-'}"


#: meta key of the extractor's fingerprint: facts read by another extractor are re-read, not reused.
EXTRACTOR_META = "facts_extractor"
_EXTRACTOR_FILES = ("extract.py", "kernel_annotations.py", "c_facts.scm", "workers.py", "fast_captures.py",
                    "ts_walk.c")


def code_digest(names: Iterable[str], extra: str = "") -> str:
    """Digest of these analyzer modules' source (and EXTRA): results of other code are not reused."""
    h = hashlib.blake2b(digest_size=8)
    here = Path(__file__).resolve().parent
    for name in names:
        h.update((here / name).read_bytes())
    h.update(extra.encode())
    return h.hexdigest()


def extractor_fingerprint() -> str:
    """Digest of the code that turns a file into code facts, and of the parser's versions."""
    return code_digest(_EXTRACTOR_FILES, _parser_version())


def _tool_version() -> str:
    try:
        return metadata.version("lima")
    except metadata.PackageNotFoundError:
        return "unknown"


def _parser_version() -> str:
    parts = []
    for dist in ("tree-sitter", "tree-sitter-c"):
        try:
            parts.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            parts.append(dist)
    return ", ".join(parts)


def _batches(tasks: list[Task]) -> list[list[Task]]:
    out: list[list[Task]] = []
    cur: list[Task] = []
    size = 0
    for t in tasks:
        cur.append(t)
        size += t.size
        if len(cur) >= BATCH_FILES or size >= BATCH_BYTES:
            out.append(cur)
            cur, size = [], 0
    if cur:
        out.append(cur)
    return out


class Indexer:
    """One indexing run over a source root into an open database connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, root: Path, *, jobs: int, only: list[str],
                 force: bool) -> None:
        self.con = con
        self.root = root
        self.jobs = jobs
        self.only = [only_path(root, o) for o in only]
        self.force = force
        self.stats = IndexStats()
        self._bad_names: set[str] = set()
        self._in_tx = False  # write_batch left a transaction open (see COMMIT_BYTES)
        self._tx_files = 0   # files written in it
        self.extractor = extractor_fingerprint()
        probe = Extractor()
        #: how the workers read the c_facts.scm captures, and why not with the C walker ("" when they do)
        self.walker = probe.captures_by
        self.walker_problem = probe.walker_reason
        #: the database holds facts of another extractor: every file in scope is read again
        self.extractor_changed = False
        self._stale_elsewhere = False  # ... and files outside --only keep them

    # -- planning ----------------------------------------------------------------------------------

    def check_tables(self) -> None:
        """Refuse a database whose code-fact tables lack columns this LIMA writes (an older layout)."""
        have: dict[str, set[str]] = {}
        for table, column in self.con.execute(
                "SELECT table_name, column_name FROM information_schema.columns").fetchall():
            have.setdefault(table, set()).add(column)
        want = {**TABLE_COLUMNS, "files": ("file_id", "path", "size", "hash", "mtime_ns", "status",
                                           "parse_errors", "parse_seconds", "indexed_at")}
        for table, cols in want.items():
            missing = [c for c in cols if c not in have.get(table, set())]
            if missing:
                raise BadInput(f"table {table} has no column {missing[0]}: the database was made by an "
                                  "older LIMA; delete it or index into another --db")

    def plan(self) -> tuple[list[Task], list[int]]:
        """(tasks: files to read, file_ids of vanished files to delete)."""
        if not self.root.is_dir():
            raise BadInput(f"{self.root}: not a directory")
        self.check_tables()
        unlisted: list[tuple[str, str]] = []
        found = scan_tree(self.root, self.only, unlisted)
        if not found:
            where = ", ".join(o or "." for o in self.only) if self.only else str(self.root)
            why = f" ({unlisted[0][0]}/ cannot be listed: {unlisted[0][1]})" if unlisted else ""
            raise BadInput(f"{where}: no .c or .h files found{why}")
        for d, reason in unlisted:
            self.stats.skipped["unreadable_folder"] = self.stats.skipped.get("unreadable_folder", 0) + 1
            self.stats.problems.append(f"{d}/: folder skipped (cannot list it): {reason}")
        self._bad_names = {f.path for f in found if f.bad_name}
        self.stats.files_seen = len(found)
        known = {r[0]: r[1:] for r in self.con.execute(
            "SELECT path, file_id, size, mtime_ns, hash, status FROM files").fetchall()}
        if not known:  # every fact will be this extractor's (an interrupted first run resumes as such)
            set_meta(self.con, EXTRACTOR_META, self.extractor)
        elif get_meta(self.con, EXTRACTOR_META) != self.extractor:
            self.extractor_changed = True
            scope = {f.path for f in found}
            self._stale_elsewhere = any(p not in scope for p in known)
        force = self.force or self.extractor_changed
        next_id = (self.con.execute("SELECT coalesce(max(file_id), 0) FROM files").fetchone()[0]) + 1
        tasks: list[Task] = []
        for f in found:
            row = known.get(f.path)
            if row is None:
                tasks.append(Task(next_id, f.path, f.abspath, None, f.size, f.mtime_ns))
                next_id += 1
                continue
            file_id, size, mtime, old_hash, status = row
            if (not force and old_hash is not None and status == "ok" and size == f.size
                    and mtime == f.mtime_ns):
                self.stats.unchanged += 1
                continue
            tasks.append(Task(file_id, f.path, f.abspath, None if force else old_hash, f.size, f.mtime_ns))
        on_disk = {f.path for f in found}
        in_scope = tuple(o + "/" for o in self.only if o)
        if not self.only or "" in self.only:
            in_scope = ("",)
        # the files of a folder that could not be listed are unknown, not gone: keep their rows
        hidden = tuple(d + "/" for d, _ in unlisted)
        deleted = [row[0] for p, row in known.items()
                   if p not in on_disk and (p.startswith(in_scope) or p in self.only)
                   and not (hidden and p.startswith(hidden))]
        self.stats.files_to_parse = len(tasks)
        self.stats.bytes_to_parse = sum(t.size for t in tasks)
        self.stats.deleted = len(deleted)
        self.known_ids = {row[0] for row in known.values()}
        return tasks, deleted

    # -- writing -----------------------------------------------------------------------------------

    def _delete_facts(self, file_ids: list[int]) -> None:
        if not file_ids:
            return
        ids = pa.table({"file_id": pa.array(file_ids, pa.int32())})
        self.con.register("_lima_del", ids)
        try:
            for table in (*TABLE_COLUMNS, "files"):
                self.con.execute(f"DELETE FROM {table} WHERE file_id IN (SELECT file_id FROM _lima_del)")
        finally:
            self.con.unregister("_lima_del")

    def delete_files(self, file_ids: list[int]) -> None:
        """Remove files that no longer exist, with all their facts (one transaction)."""
        if not file_ids:
            return
        self.con.execute("BEGIN")
        try:
            self._delete_facts(file_ids)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def write_batch(self, results: list[BatchResult], commit: bool = True) -> None:
        """Write finished batches: old facts out, new facts and files rows in.

        Opens a transaction unless one is open; COMMIT ends it, else it stays open for the next batches
        (write_results). A failure rolls the open transaction back.
        """
        if not results:
            if commit:
                self._commit()
            return
        res = BatchResult([f for r in results for f in r.files])
        for table in TABLE_COLUMNS:
            parts = [r.tables[table] for r in results if table in r.tables]
            if parts:
                res.tables[table] = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
        now = datetime.now(UTC).replace(tzinfo=None)
        same = [f for f in res.files if f.unchanged]
        fresh = [f for f in res.files if not f.unchanged]
        if not self._in_tx:
            self.con.execute("BEGIN")
            self._in_tx = True
        try:
            if same:  # content unchanged (only touched): remember the new mtime, keep the facts
                self.con.register("_lima_same", pa.table({
                    "file_id": pa.array([f.file_id for f in same], pa.int32()),
                    "mtime_ns": pa.array([f.mtime_ns for f in same], pa.int64()),
                    "size": pa.array([f.size for f in same], pa.int64())}))
                self.con.execute("UPDATE files SET mtime_ns = s.mtime_ns, size = s.size FROM _lima_same s "
                                 "WHERE files.file_id = s.file_id")
                self.con.unregister("_lima_same")
            self._delete_facts([f.file_id for f in fresh if f.file_id in self.known_ids])
            for table, tbl in res.tables.items():
                name = f"_lima_{table}"
                self.con.register(name, tbl)
                cols = ", ".join(tbl.column_names)
                self.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}")
                self.con.unregister(name)
            if fresh:
                ftbl = pa.table({
                    "file_id": pa.array([f.file_id for f in fresh], pa.int32()),
                    "path": pa.array([f.path for f in fresh], pa.string()),
                    "size": pa.array([f.size for f in fresh], pa.int64()),
                    "hash": pa.array([f.hash for f in fresh], pa.string()),
                    "mtime_ns": pa.array([f.mtime_ns for f in fresh], pa.int64()),
                    "status": pa.array([f.status for f in fresh], pa.string()),
                    "parse_errors": pa.array([f.parse_errors for f in fresh], pa.int32()),
                    "parse_seconds": pa.array([f.seconds for f in fresh], pa.float64()),
                    "indexed_at": pa.array([now] * len(fresh), pa.timestamp("us")),
                })
                self.con.register("_lima_files", ftbl)
                self.con.execute("INSERT INTO files (file_id, path, size, hash, mtime_ns, status, "
                                 "parse_errors, parse_seconds, indexed_at) SELECT * FROM _lima_files")
                self.con.unregister("_lima_files")
            self._tx_files += len(res.files)
            if commit:
                self._commit()
        except BaseException:
            self.rollback()
            raise
        self.known_ids.update(f.file_id for f in fresh)
        for f in res.files:
            self.stats.files_done += 1
            if f.unchanged:
                self.stats.unchanged += 1
            elif f.status == "ok":
                self.stats.parsed += 1
                self.stats.parse_errors += f.parse_errors
            else:
                self.stats.skipped[f.status] = self.stats.skipped.get(f.status, 0) + 1
                self.stats.problems.append(f"{f.path}: skipped ({f.status}): {f.message}")

    def _commit(self) -> None:
        if self._in_tx:
            self.con.execute("COMMIT")
            self._in_tx = False
            self.stats.files_committed += self._tx_files
            self._tx_files = 0

    def rollback(self) -> None:
        """Roll back the transaction write_batch left open, if any (nothing of it reaches the file)."""
        if self._in_tx:
            self._in_tx = False
            self._tx_files = 0
            self.con.execute("ROLLBACK")

    # -- the run -----------------------------------------------------------------------------------

    def run(self, tasks: list[Task], deleted: list[int],
            progress: Callable[[IndexStats, list[FileResult]], None] | None = None,
            defer_checkpoint: bool = False) -> IndexStats:
        """Delete vanished files, index the tasks in workers, record meta. Returns the stats.

        defer_checkpoint: leave the checkpoint threshold raised after the writes, so that no commit of
        this connection checkpoints the last facts written; the caller runs CHECKPOINT (lima-index: the
        lock pass's loading thread, beside Python work) and then RESET checkpoint_threshold."""
        t0 = time.perf_counter()
        self.delete_files(deleted)
        # a file whose name is not UTF-8 is not read (its facts could not name it): only its files row
        bad = [t for t in tasks if t.path in self._bad_names]
        if bad:
            tasks = [t for t in tasks if t.path not in self._bad_names]
            self.write_batch([BatchResult([
                FileResult(t.file_id, t.path, t.size, t.mtime_ns, None, "bad_name",
                           message="file name is not valid UTF-8 (its bytes shown as \\xNN)") for t in bad])])
            self.stats.bytes_done += sum(t.size for t in bad)
            if progress is not None and not tasks:
                progress(self.stats, [])
        if tasks:
            batches = _batches(tasks)
            if self.jobs == 1 and len(batches) == 1:
                from lima.analyzer.extract import Extractor
                from lima.analyzer.workers import process_batch
                results: Iterable[BatchResult] = [process_batch(batches[0], Extractor())]
            else:
                results = WorkerPool(min(self.jobs, len(batches))).run(batches)
            # One DuckDB thread while the workers parse: the bulk inserts need no more, and the cores stay
            # with the parsers (measured: less CPU in the writer, no loss of write speed). Every thread
            # again for the checkpoint that follows (the next commit): 3.3 s -> 2.3 s on the full tree.
            self.con.execute("SET threads = 1")
            self.con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
            try:
                self.write_results(results, progress)
            finally:
                if not defer_checkpoint:
                    self.con.execute("RESET checkpoint_threshold")
                self.con.execute("RESET threads")
            if progress is not None:
                progress(self.stats, [])
        self.stats.seconds = time.perf_counter() - t0
        self.record_meta()
        return self.stats

    def write_results(self, results: Iterable[BatchResult],
                      progress: Callable[[IndexStats, list[FileResult]], None] | None) -> None:
        """Write the workers' results as they come: an insert per WRITE_BYTES or WRITE_SECONDS, a commit
        per COMMIT_BYTES or COMMIT_SECONDS. An exception (Ctrl-C) rolls back what is not committed.

        progress is called for every batch parsed (bytes_done) and after every insert (files_done).
        """
        pending: list[BatchResult] = []
        pending_bytes = uncommitted = 0
        last_write = last_commit = time.perf_counter()
        # Test hook: write every batch on its own and report each commit in this file.
        marker = os.environ.get("LIMA_INDEX_TEST_COMMIT_MARKER")
        try:
            for res in results:
                pending.append(res)
                size = sum(f.size for f in res.files)
                pending_bytes += size
                self.stats.bytes_done += size
                now = time.perf_counter()
                if marker or pending_bytes >= WRITE_BYTES or now - last_write >= WRITE_SECONDS:
                    uncommitted += pending_bytes
                    commit = (bool(marker) or uncommitted >= COMMIT_BYTES
                              or now - last_commit >= COMMIT_SECONDS)
                    self.write_batch(pending, commit=commit)
                    pending, pending_bytes, last_write = [], 0, time.perf_counter()
                    if commit:
                        uncommitted, last_commit = 0, last_write
                    if marker:
                        Path(marker).write_text(str(self.stats.files_committed))
                if progress is not None:
                    progress(self.stats, [])
            self.write_batch(pending)
        finally:
            self.rollback()

    def record_meta(self) -> None:
        """Kernel version, tool and parser versions, time of the run."""
        kv = kernel_version(self.root)
        set_meta(self.con, "kernel_version", kv or "unknown")
        set_meta(self.con, "tool_version", _tool_version())
        set_meta(self.con, "parser", _parser_version())
        set_meta(self.con, "parser_build", describe_parser_build())
        set_meta(self.con, "fact_walker", self.walker)
        if not self._stale_elsewhere:  # with --only, files outside it still hold the old extractor's facts
            set_meta(self.con, EXTRACTOR_META, self.extractor)
        set_meta(self.con, "source_root", str(self.root.resolve()))
        set_meta(self.con, "indexed_at", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        set_meta(self.con, "index_seconds", f"{self.stats.seconds:.1f}")


def run_lock_pass(con: duckdb.DuckDBPyConnection, console, force: bool = False,
                  config: KernelConfig | None = None, keep_objects: bool = False) -> str:
    """Rebuild the lock_* tables (lima.analyzer.lock_pass) unless built for exactly these facts and this
    kernel configuration (default: the built-in Debian amd64 6.1 one). keep_objects: see lock_pass.run."""
    from lima.analyzer import lock_pass  # the lock-pass part of LIMA
    config = config or DEFAULT_CONFIG
    fp = facts_fingerprint(con)
    root = Path(get_meta(con, "source_root") or ".")

    def fingerprint() -> str:
        makefiles = [m for m in (get_meta(con, "kbuild_makefiles") or "").split("\n") if m]
        return f"{lock_pass.VERSION}:{config.digest}:{fp}:{makefiles_digest(root, makefiles)}"

    if not force and get_meta(con, "lock_pass_fingerprint") == fingerprint():
        return "up to date (code facts, makefiles and configuration unchanged)"
    t0 = time.perf_counter()
    warnings: list[str] = []
    lock_pass.run(con, console, config=config, warnings=warnings, keep_objects=keep_objects)
    set_meta(con, "lock_pass_fingerprint", fingerprint())   # with the makefiles this run read
    set_meta(con, "kconfig", config.source)
    # kept with the tables, so that whoever opens the database later sees it too
    set_meta(con, "lock_pass_warnings", "; ".join(warnings))
    status = f"rebuilt in {time.perf_counter() - t0:.1f} s; #if by {config.source}"
    return status + "".join(f"; warning: {w}" for w in warnings)

