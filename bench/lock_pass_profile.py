"""Where does the lock pass spend its time? Per-phase wall and CPU seconds on an indexed database.

Runs lima.analyzer.lock_pass.run on a COPY of a database that already holds the code facts (the copy is
made next to it as <db>.lockprof<pid>.duckdb and removed afterwards, so the original is never written), prints
each phase's wall and CPU seconds (CPU counts this process and its finished worker processes), and with
--export DIR writes every lock_* table, sorted, as DIR/<table>.parquet so two versions can be compared
with --compare DIR (prints the tables whose rows differ). --cprofile FILE saves a cProfile of the parent.

    .venv/bin/python bench/lock_pass_profile.py --db .cache/full.duckdb [--export DIR] [--compare DIR]
                                                [--cprofile FILE]
Target (issue: lima-index within cscope -bqk's wall time on 2 cores): the lock pass at or under 20 s wall
on the full 6.1 tree.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import duckdb
from lima.analyzer import lock_pass
from lima.db import ensure_schema
from rich.console import Console

TABLES = ("lock_fields", "global_locks", "lock_inits", "lock_sites", "lock_wrappers", "kbuild_files")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, type=Path, help="database with code facts (not written)")
    ap.add_argument("--export", type=Path, help="write the sorted lock_* tables as parquet here")
    ap.add_argument("--compare", type=Path, help="compare the lock_* tables with an --export directory")
    ap.add_argument("--cprofile", type=Path, help="write a cProfile of the parent process here")
    ap.add_argument("--keep", action="store_true", help="keep the copy of the database")
    ap.add_argument("--verbose", action="store_true", help="print the pass's progress lines (rounds)")
    a = ap.parse_args()
    if not a.db.is_file():
        print(f"lock_pass_profile: {a.db}: no such database", file=sys.stderr)
        return 2
    work = a.db.with_name(f"{a.db.stem}.lockprof{os.getpid()}.duckdb")
    shutil.copyfile(a.db, work)
    try:
        con = duckdb.connect(str(work))
        ensure_schema(con, work)   # tables a newer schema adds (CREATE TABLE IF NOT EXISTS)
        timings: dict[str, tuple[float, float]] = {}
        prof = cProfile.Profile() if a.cprofile else None
        if prof:
            prof.enable()
        t0 = time.perf_counter()
        counts = lock_pass.run(con, Console(stderr=True) if a.verbose else None, timings)
        run_wall = time.perf_counter() - t0
        if prof:
            prof.disable()
            prof.dump_stats(str(a.cprofile))
        print(f"{'phase':<32}{'wall s':>9}{'CPU s':>9}")
        for name, (wall, cpu) in timings.items():
            print(f"{name:<32}{wall:9.2f}{cpu:9.2f}")
        main = [v for k, v in timings.items() if not k.startswith(" ")]   # indented: parts of the one above
        print(f"{'total':<32}{sum(w for w, _ in main):9.2f}{sum(c for _, c in main):9.2f}")
        print(f"{'run() returned after':<32}{run_wall:9.2f}   (the phases, plus freeing the pass's objects)")
        own, kids = (resource.getrusage(w).ru_maxrss / 2**20 for w in (resource.RUSAGE_SELF,
                                                                         resource.RUSAGE_CHILDREN))
        print(f"peak memory: {own:.1f} GB in this process, {kids:.1f} GB in the largest worker")
        print("rows: " + ", ".join(f"{k} {v:,}" for k, v in counts.items() if k != "seconds"))
        if a.export:
            a.export.mkdir(parents=True, exist_ok=True)
            for t in TABLES:
                out = a.export / f"{t}.parquet"
                con.execute(f"COPY (SELECT * FROM {t} ORDER BY ALL) TO '{out}' (FORMAT parquet)")
        if a.compare:
            same = True
            for t in TABLES:
                if not (a.compare / f"{t}.parquet").exists():
                    print(f"{t:<16} not in {a.compare} (exported by an older version)")
                    same = False
                    continue
                ref = f"read_parquet('{a.compare / t}.parquet')"
                n1, n2 = (con.execute(f"SELECT count(*) FROM (FROM {x} EXCEPT ALL FROM {y})").fetchone()[0]
                          for x, y in ((t, ref), (ref, t)))
                if n1 or n2:
                    same = False
                print(f"{t:<16} {'identical' if not (n1 or n2) else f'{n1} new rows, {n2} rows gone'}")
            print("all tables identical" if same else "TABLES DIFFER")
        con.close()
    finally:
        if not a.keep:
            work.unlink(missing_ok=True)
            Path(str(work) + ".wal").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
