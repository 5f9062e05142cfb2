"""Worker processes that turn batches of files into code-fact rows (Arrow tables), crash-tolerant.

Each worker owns one tree-sitter parser. The parent hands out one batch at a time and watches every
worker's process sentinel: a worker that dies (segfault, OOM kill) costs only the files of the batch it
held; the batch is retried file by file in a fresh worker so that only the culprit is lost.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing as mp
import os
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait

import pyarrow as pa
from lima.analyzer.extract import TABLE_COLUMNS, Extractor

__all__ = ["Task", "FileResult", "BatchResult", "WorkerPool", "ARROW_TYPES", "process_batch",
           "stop_workers"]

_STR = pa.string()
_I32 = pa.int32()
_I64 = pa.int64()
_BOOL = pa.bool_()
_LIST = pa.list_(pa.string())

#: Arrow type of every fact column (explicit, so an all-NULL batch still has the right type).
ARROW_TYPES: dict[str, pa.DataType] = {
    "function_id": _I64, "file_id": _I32, "name": _STR, "is_static": _BOOL, "is_inline": _BOOL,
    "return_type": _STR, "start_line": _I32, "end_line": _I32, "macro": _STR, "caller_id": _I64,
    "caller": _STR, "callee": _STR, "kind": _STR, "callee_expr": _STR, "line": _I32, "col": _I32,
    "args": _LIST, "struct_type": _STR, "field": _STR, "function": _STR, "variable": _STR,
    "in_function": _STR, "struct_id": _I64, "parent_struct_id": _I64, "parent_field": _STR,
    "position": _I32, "type_text": _STR, "base_type": _STR, "pointer_depth": _I32, "array_dims": _STR,
    "bitfield_width": _STR, "nested_struct_id": _I64, "enum_name": _STR, "value_text": _STR,
    "scope": _STR, "initializer": _STR, "is_function_like": _BOOL, "params": _LIST, "body": _STR,
    "annotation": _STR, "arg": _STR,
}


#: Finished batches that may wait for the database writer (bounds the parent's memory).
QUEUE_BATCHES = 48
_DONE = object()


@dataclass(frozen=True)
class Task:
    """One file to index: its id, paths, and what the database knows of it."""

    file_id: int
    path: str
    abspath: str
    old_hash: str | None
    size: int
    mtime_ns: int


@dataclass
class FileResult:
    """Outcome for one file (becomes its files row)."""

    file_id: int
    path: str
    size: int
    mtime_ns: int
    hash: str | None
    status: str
    parse_errors: int = 0
    seconds: float = 0.0
    unchanged: bool = False
    message: str | None = None


@dataclass
class BatchResult:
    """Outcome of a batch: per-file results and the facts of its ok files as Arrow tables."""

    files: list[FileResult]
    tables: dict[str, pa.Table] = field(default_factory=dict)


def _read(task: Task, ex: Extractor, rows: dict[str, list[tuple]]) -> FileResult:
    t0 = time.perf_counter()
    res = FileResult(task.file_id, task.path, task.size, task.mtime_ns, None, "ok")
    try:
        with open(task.abspath, "rb") as fh:
            data = fh.read()
    except OSError as e:
        res.status, res.message = "unreadable", e.strerror or str(e)
        return res
    res.size = len(data)
    if b"\0" in data:
        res.status, res.message = "binary", "contains NUL bytes"
        return res
    try:
        if not data.isascii():  # 96% of the files pass this quick test (no str built): -0.6 CPU s
            data.decode("utf-8")
    except UnicodeDecodeError as e:
        res.status, res.message = "non_utf8", f"not UTF-8 at byte {e.start}"
        return res
    res.hash = hashlib.blake2b(data, digest_size=16).hexdigest()
    if res.hash == task.old_hash:
        res.unchanged = True
        return res
    try:
        facts = ex.extract(task.file_id, data)
    except Exception as e:  # noqa: BLE001 - one bad file must not stop the run
        res.status, res.hash, res.message = "failed", None, f"extractor error: {type(e).__name__}: {e}"
        return res
    res.parse_errors = facts.parse_errors
    for table, trows in facts.rows.items():
        rows[table].extend(trows)
    res.seconds = time.perf_counter() - t0
    return res


def macro_table(columns: tuple) -> pa.Table:
    """The macros table from FastCaptures.define_columns' buffers (no Python object per value)."""
    n, items, fid, name_off, name, is_fl, params_valid, params_off, item_off, item, body_off, body, line, \
        end_line = columns
    buf = pa.py_buffer

    def i32(data: bytes) -> pa.Array:
        return pa.Array.from_buffers(_I32, n, [None, buf(data)])

    def text(offsets: bytes, data: bytes, length: int) -> pa.Array:
        return pa.Array.from_buffers(_STR, length, [None, buf(offsets), buf(data)])

    params = pa.Array.from_buffers(_LIST, n, [buf(params_valid), buf(params_off)],
                                   children=[text(item_off, item, items)])
    arrays = [i32(fid), text(name_off, name, n), pa.Array.from_buffers(_BOOL, n, [None, buf(is_fl)]), params,
              text(body_off, body, n), i32(line), i32(end_line)]
    return pa.table(arrays, names=list(TABLE_COLUMNS["macros"]))


def process_batch(tasks: list[Task], ex: Extractor) -> BatchResult:
    """Index a batch of files in this process."""
    rows: dict[str, list[tuple]] = {t: [] for t in TABLE_COLUMNS}
    if ex.fast is not None:
        ex.deferred_defines = []   # macros rows of ASCII files: built for the whole batch below
    try:
        files = [_read(t, ex, rows) for t in tasks]
    finally:
        deferred, ex.deferred_defines = ex.deferred_defines, None
    tables = {}
    for table, cols in TABLE_COLUMNS.items():
        trows = rows[table]
        if not trows:
            continue
        columns = list(zip(*trows, strict=True))
        arrays = [pa.array(c, type=ARROW_TYPES[n]) for c, n in zip(columns, cols, strict=True)]
        tables[table] = pa.table(arrays, names=list(cols))
    if deferred:
        ok = {f.file_id for f in files if f.status == "ok"}   # not a file whose extraction failed later
        deferred = [d for d in deferred if d[1] in ok]
    if deferred:
        macros = macro_table(ex.fast.define_columns(deferred))
        tables["macros"] = pa.concat_tables([tables["macros"], macros]) if "macros" in tables else macros
    return BatchResult(files, tables)


def _worker_main(conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    ex = Extractor()
    # A batch allocates millions of row tuples and strings that live until it is sent: automatic
    # collections would scan them again and again (8% of a worker's CPU). Collect once per batch instead,
    # over the batch's leftovers only (freeze moves the modules' objects out of the collector's sight).
    gc.disable()
    gc.freeze()
    crash_on = os.environ.get("LIMA_INDEX_TEST_CRASH")  # test hook: die on this path
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        if crash_on and any(t.path == crash_on for t in msg):
            os._exit(139)
        conn.send(process_batch(msg, ex))
        gc.collect()


@dataclass
class _Worker:
    proc: mp.process.BaseProcess
    conn: Connection
    batch: list[Task] | None = None


class WorkerPool:
    """N worker processes fed one batch at a time; yields results as they come, survives crashes."""

    def __init__(self, jobs: int) -> None:
        self.ctx = mp.get_context("spawn")
        self.jobs = max(1, jobs)
        self.workers: list[_Worker] = []
        self._stop = threading.Event()

    def _start(self) -> _Worker:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker_main, args=(child,), daemon=True)
        proc.start()
        child.close()
        w = _Worker(proc, parent)
        self.workers.append(w)
        return w

    def run(self, batches: list[list[Task]]) -> Iterator[BatchResult]:
        """Yield one BatchResult per batch (crashed files come back with status 'crashed').

        A feeder thread talks to the workers, so they never wait for the caller, which may be busy
        writing the previous results to the database; at most QUEUE_BATCHES results wait in memory.
        """
        results: queue.Queue = queue.Queue(maxsize=QUEUE_BATCHES)
        self._stop = threading.Event()
        feeder = threading.Thread(target=self._feed, args=(batches, results), daemon=True)
        feeder.start()
        try:
            while True:
                item = results.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._stop.set()
            while feeder.is_alive():  # unblock a feeder waiting on a full queue
                try:
                    results.get_nowait()
                except queue.Empty:
                    pass
                feeder.join(timeout=0.05)
            self.close()

    def _put(self, results: queue.Queue, item: object) -> bool:
        while not self._stop.is_set():
            try:
                results.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _feed(self, batches: list[list[Task]], results: queue.Queue) -> None:
        todo: deque[list[Task]] = deque(batches)
        try:
            for _ in range(min(self.jobs, len(batches))):
                self._start()
            while (todo or any(w.batch is not None for w in self.workers)) and not self._stop.is_set():
                for w in self.workers:
                    if w.batch is None and todo:
                        w.batch = todo.popleft()
                        w.conn.send(w.batch)
                busy = [w for w in self.workers if w.batch is not None]
                ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=0.2)
                for w in busy:
                    if w.conn in ready:
                        try:
                            res = w.conn.recv()
                        except (EOFError, OSError):
                            res = None
                        if res is not None:
                            w.batch = None
                            if not self._put(results, res):
                                return
                            continue
                    if w.proc.sentinel in ready or not w.proc.is_alive():
                        for res in self._crashed(w, todo):
                            if not self._put(results, res):
                                return
            self._put(results, _DONE)
        except BaseException as e:  # noqa: BLE001 - handed to the consumer thread
            self._put(results, e)

    def _crashed(self, w: _Worker, queue: deque[list[Task]]) -> Iterator[BatchResult]:
        batch = w.batch or []
        w.conn.close()
        w.proc.join(timeout=1)
        self.workers.remove(w)
        self._start()
        if len(batch) > 1:
            queue.extendleft([t] for t in reversed(batch))  # retry one by one to find the culprit
            return
        code = w.proc.exitcode
        yield BatchResult([FileResult(t.file_id, t.path, t.size, t.mtime_ns, None, "crashed",
                                      message=f"worker died (exit code {code})") for t in batch])

    def close(self) -> None:
        """Stop every worker (idle ones get a stop message, busy ones are terminated)."""
        stop_workers([(w.proc, w.conn, w.batch is not None) for w in self.workers])
        self.workers = []


def stop_workers(workers: list[tuple[mp.process.BaseProcess, Connection, bool]]) -> None:
    """Stop worker processes given as (process, pipe, busy): an idle one gets the stop message None, a
    busy one SIGTERM; one still alive after 2 s is killed. Every pipe is closed."""
    for proc, conn, busy in workers:
        try:
            if busy:
                proc.terminate()
            else:
                conn.send(None)
        except (OSError, BrokenPipeError):
            pass
    for proc, conn, _busy in workers:
        proc.join(timeout=2)
        if proc.is_alive():
            proc.kill()
            proc.join(timeout=1)
        conn.close()
