"""Build a code-facts database for lock tests straight from the extractor (no lima-index needed).

Used by the lock tests and by `python -m tests.lockdb_helper DB ROOT SUBDIR...` during development.
"""

from __future__ import annotations

import sys
from multiprocessing import Pool
from pathlib import Path

import duckdb
from lima.analyzer import lock_pass
from lima.analyzer.extract import TABLE_COLUMNS, Extractor
from lima.db import ensure_schema, set_meta

_EX: Extractor | None = None


def _one(item: tuple[int, str, str]) -> tuple[int, str, dict[str, list[tuple]]]:
    global _EX
    if _EX is None:
        _EX = Extractor()
    fid, rel, root = item
    data = (Path(root) / rel).read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return fid, rel, {}
    return fid, rel, _EX.extract(fid, data).rows


def build(db: str | Path, root: str | Path, paths: list[str], procs: int = 1,
          reverse: bool = False) -> duckdb.DuckDBPyConnection:
    """Index the given files/folders (relative to root) into db and return an open connection. With
    `reverse`, every table's rows are stored in reverse order (the same facts, in another row order)."""
    root = Path(root)
    files: list[str] = []
    for p in paths:
        q = root / p
        if q.is_dir():
            files += sorted(str(f.relative_to(root)) for f in q.rglob("*") if f.suffix in (".c", ".h"))
        elif q.is_file():
            files.append(p)
    files = sorted(set(files))
    con = duckdb.connect(str(db))
    ensure_schema(con)
    set_meta(con, "source_root", str(root))
    items = [(i + 1, rel, str(root)) for i, rel in enumerate(files)]
    rows: dict[str, list[tuple]] = {t: [] for t in TABLE_COLUMNS}
    frows = []
    if procs > 1:
        with Pool(procs) as pool:
            results = pool.imap_unordered(_one, items, chunksize=16)
            for fid, rel, r in results:
                frows.append((fid, rel, "ok" if r else "non_utf8"))
                for t, lst in r.items():
                    rows[t].extend(lst)
    else:
        for it in items:
            fid, rel, r = _one(it)
            frows.append((fid, rel, "ok" if r else "non_utf8"))
            for t, lst in r.items():
                rows[t].extend(lst)
    if reverse:
        frows.reverse()
        for lst in rows.values():
            lst.reverse()
    con.executemany("INSERT INTO files (file_id, path, status) VALUES (?, ?, ?)", frows)
    import pyarrow as pa
    for t, cols in TABLE_COLUMNS.items():
        if not rows[t]:
            continue
        tbl = pa.table(list(map(list, zip(*rows[t], strict=True))), names=list(cols))  # noqa: F841
        con.execute(f"INSERT INTO {t} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM tbl")
    return con


def lock_tables(db: str | Path, root: str | Path, paths: list[str], **run_kw) -> duckdb.DuckDBPyConnection:
    """build(), then the lock pass on it (run_kw go to lock_pass.run); returns the open connection."""
    con = build(db, root, paths)
    lock_pass.run(con, None, **run_kw)
    return con


if __name__ == "__main__":
    db, root, *subdirs = sys.argv[1:]
    build(db, root, subdirs, procs=2).close()
