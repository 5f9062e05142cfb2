"""Order-independent digest of every code-fact table of a LIMA database, to prove two builds equal.

Prints, per table, the row count and the sum of DuckDB's hash() of every row (all columns of
analyzer/extract.py's TABLE_COLUMNS; for files every column but parse_seconds and indexed_at, which
differ from run to run). Two databases built from the same tree by different versions of the indexer
hold the same facts exactly when every line matches; --compare OTHER.duckdb prints both side by side and
exits 1 on any difference.

    .venv/bin/python bench/facts_digest.py DB [--compare OTHER_DB]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
from lima.analyzer.extract import TABLE_COLUMNS

#: files columns that hold facts (parse_seconds and indexed_at are timings).
FILES_COLUMNS = ("file_id", "path", "size", "hash", "mtime_ns", "status", "parse_errors")


def digest(path: str) -> dict[str, tuple[int, int]]:
    """{table: (rows, sum of row hashes)} for files and every code-fact table of the database."""
    con = duckdb.connect(path, read_only=True)
    try:
        out = {}
        for table, cols in {"files": FILES_COLUMNS, **TABLE_COLUMNS}.items():
            # hash() of each column, combined per row: a row's columns stay in their order
            row_hash = "hash(" + ", ".join(cols) + ")"
            n, s = con.execute(f"SELECT count(*), coalesce(sum({row_hash}::HUGEINT), 0) "
                               f"FROM {table}").fetchone()
            out[table] = (int(n), int(s))
        return out
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    """Print the digest of one database, or compare two."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("db")
    ap.add_argument("--compare", metavar="OTHER_DB")
    a = ap.parse_args(argv)
    for p in (a.db, a.compare):
        if p is not None and not Path(p).is_file():
            print(f"facts_digest: error: {p}: no such database file", file=sys.stderr)
            return 2
    mine = digest(a.db)
    if a.compare is None:
        for table, (n, s) in mine.items():
            print(f"{table:<17} {n:>10,} {s:>24}")
        return 0
    other = digest(a.compare)
    same = True
    print(f"{'table':<17} {'rows':>10} {'digest':>24} {'other rows':>10} {'other digest':>24}")
    for table, (n, s) in mine.items():
        on, os_ = other[table]
        mark = "" if (n, s) == (on, os_) else "  DIFFERENT"
        same = same and not mark
        print(f"{table:<17} {n:>10,} {s:>24} {on:>10,} {os_:>24}{mark}")
    print("identical" if same else "DIFFERENT")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
