"""What the database writer's commit rate costs: lima-index's inserts replayed from an indexed database.

Reads the code-fact tables of DB (a finished `lima-index` run) into memory, then, for each variant, writes
them into a fresh database with db/schema.sql as lima-index's writer does (one DuckDB thread, the same
checkpoint threshold): INSERTS equal slices of every table, a COMMIT after every COMMIT_EVERY inserts, and
the final CHECKPOINT with every thread. Prints the writer's CPU seconds (inserts + commits, checkpoint)
and the database size per variant, side by side in one run.

On the full 6.1 tree (about 1 GB of source) lima-index inserts per 64 MiB (16 inserts); the variants
compare a commit with every insert (its writer until 2026-11-28) with one per four (COMMIT_BYTES).

    .venv/bin/python bench/writer_commits.py DB [--variants 16x1,16x4,1x1]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb
from lima.analyzer.extract import TABLE_COLUMNS
from lima.analyzer.indexer import CHECKPOINT_THRESHOLD
from lima.db import schema_sql


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def replay(data: dict, inserts: int, commit_every: int, path: Path) -> tuple[float, float, int]:
    """Write DATA into a fresh database at PATH; returns (CPU of inserts and commits, CPU of the final
    checkpoint, file size)."""
    con = duckdb.connect(str(path))
    con.execute(schema_sql())
    con.execute("SET threads = 1")
    con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
    c0 = _cpu()
    for i in range(inserts):
        if i % commit_every == 0:
            con.execute("BEGIN")
        for table, tbl in data.items():
            a, b = tbl.num_rows * i // inserts, tbl.num_rows * (i + 1) // inserts
            con.register("_part", tbl.slice(a, b - a))
            cols = ", ".join(tbl.column_names)
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _part")
            con.unregister("_part")
        if i % commit_every == commit_every - 1 or i == inserts - 1:
            con.execute("COMMIT")
    c1 = _cpu()
    con.execute("RESET threads")
    con.execute("CHECKPOINT")
    c2 = _cpu()
    con.close()
    return c1 - c0, c2 - c1, path.stat().st_size


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("db", type=Path, help="a database written by lima-index")
    ap.add_argument("--variants", default="16x1,16x4,1x1",
                    help="INSERTSxCOMMIT_EVERY, comma-separated (default: %(default)s)")
    args = ap.parse_args(argv)
    if not args.db.is_file():
        print(f"writer_commits: {args.db}: no such database", file=sys.stderr)
        return 2
    variants = []
    for v in args.variants.split(","):
        try:
            n, c = (int(x) for x in v.split("x"))
        except ValueError:
            print(f"writer_commits: --variants: {v!r} is not INSERTSxCOMMIT_EVERY", file=sys.stderr)
            return 2
        variants.append((n, c))
    src = duckdb.connect(str(args.db), read_only=True)
    data = {}
    for table, cols in TABLE_COLUMNS.items():
        data[table] = src.execute(f"SELECT {', '.join(cols)} FROM {table}").arrow().read_all()
    src.close()
    rows = sum(t.num_rows for t in data.values())
    print(f"{rows:,} rows in {len(data)} tables of {args.db}")
    print(f"{'inserts':>8} {'commits':>8} {'insert+commit CPU s':>20} {'checkpoint CPU s':>17} "
          f"{'total':>7} {'MB':>6}")
    with tempfile.TemporaryDirectory(prefix="lima-writer-") as tmp:
        for n, c in variants:
            path = Path(tmp) / f"w{n}x{c}.duckdb"
            t0 = time.perf_counter()
            ins, ckpt, size = replay(data, n, c, path)
            commits = -(-n // c)
            print(f"{n:>8} {commits:>8} {ins:>20.2f} {ckpt:>17.2f} {ins + ckpt:>7.2f} {size / 1e6:>6.0f}"
                  f"   ({time.perf_counter() - t0:.1f} s wall)")
            os.remove(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
