"""How fast can a tree-sitter indexer be here? lima-index's stages, timed alone, with lima-index's workers.

Runs over every .c/.h file of SRC with JOBS processes (the same split into batches as lima-index), once per
stage, each stage doing everything the previous one did plus one step:

  read      read the file, check NUL bytes and UTF-8, hash it (what a no-change check needs)
  parse     + the kernel-annotation rewrite and the tree-sitter parse (files that need one)
  query     + the c_facts.scm captures over the tree (the C walker analyzer/ts_walk.c when built, else
            tree-sitter's query cursor; Extractor.walker_reason says which)
  extract   + every row of every fact table (lima.analyzer.extract), Arrow tables as sent to the writer

The difference between `extract` and lima-index's code-facts time (bench/index_vs_cscope.sh) is the
database writer; `query` is the floor of any tree-sitter indexer with this grammar and these patterns,
whatever its Python side does. Prints wall and CPU seconds per stage (CPU: the workers' user+sys).

    .venv/bin/python bench/parse_floor.py [SRC] [--jobs N] [--stages read,parse,query,extract]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import resource
import sys
import time
from multiprocessing import get_context
from pathlib import Path

from lima.analyzer.extract import Extractor, needs_parse
from lima.analyzer.indexer import BATCH_BYTES, BATCH_FILES, scan_tree
from lima.analyzer.workers import Task, process_batch

STAGES = ("read", "parse", "query", "extract")
_EX: Extractor | None = None


def _run_batch(args: tuple[str, list[str]]) -> tuple[int, int]:
    """Run one stage over a batch of files; returns (bytes read, files parsed)."""
    global _EX
    stage, paths = args
    if _EX is None:
        _EX = Extractor()
        gc.disable()  # as lima-index's workers (analyzer/workers.py): one collection per batch
        gc.freeze()
    if stage == "extract":
        tasks = [Task(i + 1, p, p, None, 0, 0) for i, p in enumerate(paths)]
        res = process_batch(tasks, _EX)
        gc.collect()
        return sum(f.size for f in res.files), sum(1 for f in res.files if f.status == "ok")
    total = parsed = 0
    for p in paths:
        with open(p, "rb") as fh:
            raw = fh.read()
        total += len(raw)
        if b"\0" in raw:
            continue
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        hashlib.blake2b(raw, digest_size=16).hexdigest()
        if stage == "read" or not needs_parse(raw):
            continue
        _src, _loops, tree = _EX.parse(raw)
        parsed += 1
        if stage == "query":
            _EX.captures(tree)
    return total, parsed


def _batches(files: list[tuple[str, int]]) -> list[list[str]]:
    out: list[list[str]] = []
    cur: list[str] = []
    size = 0
    for path, n in files:
        cur.append(path)
        size += n
        if len(cur) >= BATCH_FILES or size >= BATCH_BYTES:
            out.append(cur)
            cur, size = [], 0
    if cur:
        out.append(cur)
    return out


def main(argv: list[str] | None = None) -> int:
    """Time each stage over the tree and print a table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", nargs="?", default=str(Path(__file__).resolve().parent.parent
                                                  / ".cache" / "linux-source-6.1"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--stages", default=",".join(STAGES),
                    help="comma-separated subset of " + ", ".join(STAGES))
    a = ap.parse_args(argv)
    stages = [s.strip() for s in a.stages.split(",") if s.strip()]
    bad = [s for s in stages if s not in STAGES]
    if bad:
        print(f"parse_floor: error: unknown stage {bad[0]!r} (known: {', '.join(STAGES)})", file=sys.stderr)
        return 2
    root = Path(a.src)
    if not root.is_dir():
        print(f"parse_floor: error: {root}: not a directory", file=sys.stderr)
        return 2
    files = [(f.abspath, f.size) for f in scan_tree(root)]
    mb = sum(n for _, n in files) / 1e6
    batches = _batches(files)
    print(f"{len(files):,} files, {mb:,.0f} MB, {a.jobs} processes, load average "
          f"{os.getloadavg()[0]:.2f}")
    probe = Extractor()
    print(f"captures: {probe.captures_by}"
          + (f" (C walker not in use: {probe.walker_reason})" if probe.walker_reason else ""))
    print(f"{'stage':<10} {'wall s':>8} {'CPU s':>8} {'files parsed':>13}")
    for stage in stages:
        ctx = get_context("fork")  # workers are our children: their CPU shows in RUSAGE_CHILDREN
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        with ctx.Pool(a.jobs) as pool:
            got = pool.map(_run_batch, [(stage, b) for b in batches], chunksize=1)
            pool.close()
            pool.join()
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"{stage:<10} {wall:>8.1f} {cpu:>8.1f} {sum(p for _, p in got):>13,}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
