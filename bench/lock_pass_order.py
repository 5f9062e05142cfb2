"""Does the lock pass depend on the order of its input rows? Write a copy of a database whose code-fact
tables hold the same rows in another order, for bench/lock_pass_profile.py to run the pass on.

DuckDB returns rows in no promised order: lima-index's writer does not keep insertion order across its
batches, and parallel scans interleave them. The lock pass must give byte-identical lock tables whatever
the order; this tool makes the orders to try:

  reverse   every fact table's rows in reverse (rows of one file and of one function too)
  files     whole files in reverse file_id order, each file's rows kept in their order (what a
            different batch order of the writer gives)
  shuffle   rows in a pseudo-random order (--seed)

    .venv/bin/python bench/lock_pass_order.py --db /tmp/cf.duckdb --out .cache/cf-rev.duckdb --order reverse
    .venv/bin/python bench/lock_pass_profile.py --db /tmp/cf.duckdb --export .cache/lock-a
    .venv/bin/python bench/lock_pass_profile.py --db .cache/cf-rev.duckdb --compare .cache/lock-a
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import duckdb

#: The code-fact tables (db/schema.sql, section 1) the lock pass reads.
FACT_TABLES = ("files", "functions", "calls", "structs", "fields", "typedefs", "variables", "macros",
               "macro_uses", "function_annotations")


def reorder(con: duckdb.DuckDBPyConnection, order: str, seed: int = 1) -> None:
    """Rewrite every fact table of con with its rows in `order` (one transaction)."""
    key = {"reverse": "rowid DESC",
           "files": "file_id DESC, rowid",
           "shuffle": f"hash(rowid + {seed})"}[order]
    con.execute("SET preserve_insertion_order = true")
    con.execute("BEGIN TRANSACTION")
    for t in FACT_TABLES:
        con.execute(f"CREATE TEMP TABLE _reordered AS SELECT * FROM {t} ORDER BY {key}")
        con.execute(f"DELETE FROM {t}")
        con.execute(f"INSERT INTO {t} SELECT * FROM _reordered")
        con.execute("DROP TABLE _reordered")
    con.execute("COMMIT")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, type=Path, help="database with code facts (read only)")
    ap.add_argument("--out", required=True, type=Path, help="the reordered copy (must not exist)")
    ap.add_argument("--order", choices=("reverse", "files", "shuffle"), default="reverse")
    ap.add_argument("--seed", type=int, default=1, help="seed of --order shuffle")
    a = ap.parse_args()
    if not a.db.is_file():
        print(f"lock_pass_order: {a.db}: no such database", file=sys.stderr)
        return 2
    if a.out.exists():
        print(f"lock_pass_order: {a.out}: exists, not overwritten", file=sys.stderr)
        return 2
    tmp = a.out.with_name(a.out.name + ".part")
    shutil.copyfile(a.db, tmp)
    try:
        con = duckdb.connect(str(tmp))
        reorder(con, a.order, a.seed)
        con.execute("CHECKPOINT")
        con.close()
        tmp.rename(a.out)
    finally:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
    print(f"{a.out}: fact tables rewritten in {a.order} order")
    return 0


if __name__ == "__main__":
    sys.exit(main())
