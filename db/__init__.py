"""The one LIMA database: where it is, how to open it, and its schema (db/schema.sql)."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import duckdb

__all__ = [
    "SCHEMA_VERSION",
    "LimaDbError",
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
            raise LimaDbError(f"{p}: held open by another writer ({_holder(msg)}); "
                              "wait for it to finish or use another --db") from None
        raise LimaDbError(f"{p}: cannot open: {msg.splitlines()[0]}") from None
    except duckdb.Error as e:
        raise LimaDbError(f"{p}: not a usable DuckDB database: {str(e).splitlines()[0]}") from None
    if not read_only:
        ensure_schema(con, p)
    else:
        _check_version(con, p)
    return con


def _holder(msg: str) -> str:
    """Extract 'PID n' from DuckDB's lock conflict message when it names one."""
    for part in msg.replace("(", " ").replace(")", " ").split("\n"):
        if "PID" in part:
            return part.strip()[:120]
    return "lock conflict"


def _check_version(con: duckdb.DuckDBPyConnection, p: Path) -> None:
    has_meta = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'").fetchone()[0]
    if not has_meta:
        raise LimaDbError(f"{p}: not a LIMA database (no meta table)")
    v = get_meta(con, "schema_version")
    if v is not None and v != SCHEMA_VERSION:
        raise LimaDbError(f"{p}: schema version {v}, this LIMA needs {SCHEMA_VERSION}; "
                          "re-create it (lima-index --force) or use a matching LIMA")


def ensure_schema(con: duckdb.DuckDBPyConnection, p: Path | str = "database") -> None:
    """Create every table of db/schema.sql that is missing and record the schema version."""
    has_meta = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'").fetchone()[0]
    if has_meta:
        _check_version(con, Path(p))
    con.execute(schema_sql())
    set_meta(con, "schema_version", SCHEMA_VERSION)


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    """Value of a meta key, or None."""
    row = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """Insert or replace a meta key."""
    con.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])
