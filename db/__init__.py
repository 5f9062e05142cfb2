"""The one LIMA database: where it is, how to open it, and its schema (db/schema.sql)."""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

import duckdb

__all__ = [
    "SCHEMA_VERSION",
    "LimaDbError",
    "LimaDbBusy",
    "default_db_path",
    "connect",
    "ensure_schema",
    "get_meta",
    "set_meta",
]

#: Bumped whenever db/schema.sql changes incompatibly.
SCHEMA_VERSION = "1"


class LimaDbError(Exception):
    """A database problem explained in one line for the user (no traceback)."""


class LimaDbBusy(LimaDbError):
    """The database file is held by another process's write connection (DuckDB's file lock): a reader may
    wait for it, unlike the other refusals."""


def default_db_path() -> Path:
    """The database path used when none is given: $LIMA_DB, else ./lima.duckdb."""
    return Path(os.environ.get("LIMA_DB") or "lima.duckdb")


def schema_sql() -> str:
    """Text of db/schema.sql."""
    return resources.files("lima.db").joinpath("schema.sql").read_text(encoding="utf-8")


def connect(path: str | os.PathLike[str] | None = None, *, read_only: bool = False,
            create: bool = True) -> duckdb.DuckDBPyConnection:
    """Open the LIMA database, creating it (with the schema) unless read_only or not create.

    Raises LimaDbError with a one-line message when the folder is missing, the file is held by another
    writer, is not a DuckDB database, or has another schema version.
    """
    p = Path(path) if path is not None else default_db_path()
    if not p.parent.exists() and str(p.parent) not in ("", "."):
        raise LimaDbError(f"{p}: folder {p.parent} does not exist")
    if (read_only or not create) and not p.exists():
        raise LimaDbError(f"{p}: no such database (run lima-index or lima-trace first, or pass --db)")
    try:
        con = duckdb.connect(str(p), read_only=read_only)
    except duckdb.IOException as e:
        msg = str(e)
        if "lock" in msg.lower():
            raise LimaDbBusy(f"{p}: held open by another writer{_holder(msg)}; "
                              "wait for it to finish or use another --db") from None
        raise LimaDbError(f"{p}: cannot open: {msg.splitlines()[0]}") from None
    except duckdb.Error as e:
        raise LimaDbError(f"{p}: not a usable DuckDB database: {str(e).splitlines()[0]}") from None
    try:
        if not read_only:
            ensure_schema(con, p)
        else:
            _check_version(con, p)
    except BaseException:
        con.close()   # refused: let go of the file at once (the caller never gets this connection)
        raise
    return con


def _holder(msg: str) -> str:
    """' (PID n)' when DuckDB's lock conflict message names the holder's PID, else ''.

    Only the number is taken: the rest of DuckDB's text (program path, documentation link, parentheses)
    varies between versions and reads badly when cut.
    """
    m = re.search(r"\bPID (\d+)", msg)
    return f" (PID {m.group(1)})" if m else ""


def _check_version(con: duckdb.DuckDBPyConnection, p: Path) -> None:
    has_meta = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'").fetchone()[0]
    if not has_meta:
        raise LimaDbError(f"{p}: not a LIMA database (no meta table)")
    v = get_meta(con, "schema_version")
    if v is not None and v != SCHEMA_VERSION:
        # no in-place upgrade exists (lima-index --force re-parses files but keeps the layout)
        raise LimaDbError(f"{p}: schema version {v}, this LIMA needs {SCHEMA_VERSION}; use a matching LIMA, "
                          "or index into a new database (delete this file or pass another --db)")


def _is_lima(con: duckdb.DuckDBPyConnection) -> bool:
    """The database has LIMA's meta table (key, value) with a schema_version."""
    cols = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'main' "
        "AND table_name = 'meta'").fetchall()}
    return {"key", "value"} <= cols and get_meta(con, "schema_version") is not None


def _some_object(con: duckdb.DuckDBPyConnection) -> str | None:
    """Name of one table, view, sequence or macro the database holds, None when it is empty."""
    row = con.execute(
        "SELECT name FROM (SELECT table_name AS name FROM duckdb_tables() WHERE NOT internal "
        "UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal "
        "UNION ALL SELECT sequence_name FROM duckdb_sequences() "
        "UNION ALL SELECT function_name FROM duckdb_functions() WHERE NOT internal) ORDER BY name "
        "LIMIT 1").fetchone()
    return row[0] if row else None


def ensure_schema(con: duckdb.DuckDBPyConnection, p: Path | str = "database") -> None:
    """Create every table of db/schema.sql that is missing and record the schema version.

    Only an empty database or a LIMA one (meta table with a schema_version) is written to: LIMA's tables
    do not belong in someone else's database. The schema is created in one transaction, so an interrupted
    first run leaves an empty database rather than a half-made one that is no longer recognised.
    """
    if _is_lima(con):
        _check_version(con, Path(p))
    else:
        other = _some_object(con)
        if other is not None:
            raise LimaDbError(f"{p}: not a LIMA database (it holds {other!r} and no LIMA meta table); "
                              "left untouched: use another database file")
    con.execute("BEGIN")
    try:
        con.execute(schema_sql())
        set_meta(con, "schema_version", SCHEMA_VERSION)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    """Value of a meta key, or None."""
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """Insert or replace a meta key."""
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])
