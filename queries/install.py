"""Install the query catalogue in a database as views and table macros, so the duckdb shell answers alone.

- kind view (mapping layers, no parameters): `CREATE OR REPLACE VIEW name AS <sql>`.
- kind query or layer: a table macro `name(p := default, ...)` whose body is the SQL with each `$p` turned
  into the macro parameter `"p"`; and, unless a parameter is required, a view `name` = the macro with every
  parameter NULL (no filter, no limit), so `SELECT * FROM top_locks WHERE runtime = 'fc'` works.

The catalogue fingerprint is kept in meta('queries_fingerprint'); installing again is skipped while it
matches.
"""

from __future__ import annotations

import re

import duckdb
from lima.db import get_meta, set_meta
from lima.queries.catalog import QueryFile, catalog_fingerprint, load_catalog

__all__ = ["install_views", "needs_install", "macro_sql", "ordered", "refresh_mappings", "mappings_stale",
           "use_caches", "install_temp"]

_FINGERPRINT_KEY = "queries_fingerprint"
_MAP_KEY = "stack_objects_fingerprint"
_RUNS_KEY = "mapped_runs_fingerprint"


def _sql_literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def macro_sql(q: QueryFile, *, temp: bool = False) -> str:
    """CREATE OR REPLACE [TEMP] MACRO text for a parameterised query (defaults as in the header)."""
    params = ", ".join(f'"{p.name}" := {_sql_literal(None if p.required else p.default_value())}'
                       for p in q.params)
    body = re.sub(r"\$([A-Za-z_][A-Za-z0-9_]*)", r'"\1"', q.sql)
    return f"CREATE OR REPLACE {'TEMP ' if temp else ''}MACRO {q.sql_name}({params}) AS TABLE\n{body}"


def _create_all(con: duckdb.DuckDBPyConnection, catalog: dict[str, QueryFile], *, temp: bool) -> None:
    """Create or replace every view and macro of CATALOG, in dependency order; TEMP ones with TEMP.

    duckdb.Error names the query file whose SQL failed.
    """
    kw = "TEMP " if temp else ""
    for q in ordered(catalog):
        try:
            if q.kind == "view":
                con.execute(f"CREATE OR REPLACE {kw}VIEW {q.sql_name} AS\n{q.sql}")
                continue
            con.execute(macro_sql(q, temp=temp))
            if not any(p.required for p in q.params):
                args = ", ".join(f'"{p.name}" := NULL' for p in q.params)
                con.execute(f"CREATE OR REPLACE {kw}VIEW {q.sql_name} AS SELECT * FROM {q.sql_name}({args})")
        except duckdb.Error as e:
            raise duckdb.Error(f"{q.path}: {str(e).splitlines()[0]}") from None


def ordered(catalog: dict[str, QueryFile]) -> list[QueryFile]:
    """Query files in an order where every view is created after the views it names."""
    names = {q.sql_name: q for q in catalog.values()}
    # A view is named as a word, a macro as a call (`lock_name(`), so a column lock_name is no dependency;
    # comments do not count.
    texts = {n: re.sub(r"--[^\n]*", "", q.sql) for n, q in names.items()}
    pattern = {m: rf"\b{m}\b" if q.kind == "view" else rf"\b{m}\s*\(" for m, q in names.items()}
    deps = {n: {m for m in names if m != n and re.search(pattern[m], texts[n])} for n in names}
    out: list[QueryFile] = []
    done: set[str] = set()

    def visit(n: str, path: tuple[str, ...]) -> None:
        if n in done:
            return
        if n in path:
            raise ValueError(f"queries: circular reference {' -> '.join(path + (n,))}")
        for d in sorted(deps[n]):
            visit(d, path + (n,))
        done.add(n)
        out.append(names[n])

    for n in sorted(names, key=lambda n: (names[n].kind != "view", n)):
        visit(n, ())
    return out


def needs_install(con: duckdb.DuckDBPyConnection, catalog: dict[str, QueryFile] | None = None) -> bool:
    """True when the installed views/macros are missing or differ from the query files."""
    catalog = catalog if catalog is not None else load_catalog()
    return get_meta(con, _FINGERPRINT_KEY) != catalog_fingerprint(catalog)


def install_views(con: duckdb.DuckDBPyConnection, *, force: bool = False) -> bool:
    """Create or replace every view and macro of queries/*.sql in the database; True when it installed.

    Runs in one transaction: a failing file leaves the previous installation in place.
    lima-index and lima-trace may call this at their end.
    """
    catalog = load_catalog()
    if not force and not needs_install(con, catalog):
        refresh_mappings(con)
        return False
    con.execute("BEGIN TRANSACTION")
    try:
        _create_all(con, catalog, temp=False)
        set_meta(con, _FINGERPRINT_KEY, catalog_fingerprint(catalog))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    refresh_mappings(con)
    return True


def _mapping_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """What the stack mapping depends on: the query files, the index run and the lock-pass rows."""
    row = con.execute("""
        SELECT (SELECT count(*) || ':' || coalesce(sum(hash(site_id, file_id, function, line, primitive, op,
                                                            via, object_kind, struct_name, field_path, symbol,
                                                            confidence, lock_kind)), 0) FROM lock_sites),
               (SELECT count(*) || ':' || coalesce(sum(hash(name, kind, param_index)), 0) FROM lock_wrappers),
               (SELECT count(*) FROM functions), (SELECT count(*) FROM calls), (SELECT count(*) FROM files),
               (SELECT count(*) FROM lock_primitives)
    """).fetchone()
    parts = [get_meta(con, _FINGERPRINT_KEY) or "", get_meta(con, "indexed_at") or "",
             get_meta(con, "lock_pass_fingerprint") or "", *map(str, row)]
    return "|".join(parts)


def _runs_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """The set of runs (cheap: trace_runs is small)."""
    sql = "SELECT count(*) || ':' || coalesce(sum(hash(run_id)), 0) FROM trace_runs"
    return str(con.execute(sql).fetchone()[0])


def mappings_stale(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the caches miss a run, keep a deleted one, or were built from another index."""
    return (get_meta(con, _MAP_KEY) != _mapping_fingerprint(con)
            or get_meta(con, _RUNS_KEY) != _runs_fingerprint(con))


def refresh_mappings(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the caches stack_objects and lock_object_counts up to date (one transaction).

    Both are emptied when the index or the query files changed; then the runs not cached yet are mapped
    (stack_objects first: lock_object_counts is computed from it). Returns the number of runs added.
    """
    fp = _mapping_fingerprint(con)
    con.execute("SET enable_progress_bar = false")
    con.execute("BEGIN TRANSACTION")
    try:
        if get_meta(con, _MAP_KEY) != fp:
            con.execute("DELETE FROM stack_objects")
            con.execute("DELETE FROM lock_object_counts")
        for table in ("stack_objects", "lock_object_counts"):
            con.execute(f"DELETE FROM {table} WHERE run_id NOT IN (SELECT run_id FROM trace_runs)")
        new = con.execute("SELECT count(*) FROM (SELECT DISTINCT run_id FROM lock_events "
                          "EXCEPT SELECT DISTINCT run_id FROM lock_object_counts)").fetchone()[0]
        con.execute("INSERT INTO stack_objects BY NAME SELECT * FROM map_stack_objects")
        con.execute("INSERT INTO lock_object_counts BY NAME SELECT * FROM map_lock_object_counts")
        set_meta(con, _MAP_KEY, fp)
        set_meta(con, _RUNS_KEY, _runs_fingerprint(con))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return new


def use_caches(con: duckdb.DuckDBPyConnection) -> None:
    """Make this connection read the caches alone (after a refresh: they hold every run).

    TEMP views shadow map_stack_objects_current and lock_object_counts_current for this connection only
    (also inside the installed views and macros), skipping the live branches that cover runs not cached
    yet: those cost a scan of lock_events and stack_frames even when they return nothing.
    """
    con.execute("CREATE OR REPLACE TEMP VIEW map_stack_objects_current AS SELECT * FROM main.stack_objects")
    con.execute("CREATE OR REPLACE TEMP VIEW lock_object_counts_current AS "
                "SELECT * FROM main.lock_object_counts")


def install_temp(con: duckdb.DuckDBPyConnection) -> None:
    """Make a connection that cannot write (read-only file, or another process installing) answer as an
    installed database would, changing nothing in the file.

    The views and macros the database holds are shadowed by TEMP ones made from the query files when they
    are out of date (TEMP objects live in the session, so a read-only connection may create them, and
    DuckDB resolves names to them first, also inside the stored views). The caches are read only as far
    as they are still right: not at all when built from other query files or another index (every run is
    mapped live, slower), without the rows of deleted runs when only the set of runs changed (the live
    branches map the new runs), whole when up to date.
    """
    catalog = load_catalog()
    outdated = needs_install(con, catalog)
    if outdated:
        _create_all(con, catalog, temp=True)
    if outdated or get_meta(con, _MAP_KEY) != _mapping_fingerprint(con):
        keep = "WHERE false"
    elif get_meta(con, _RUNS_KEY) != _runs_fingerprint(con):
        keep = "WHERE run_id IN (SELECT run_id FROM trace_runs)"
    else:
        use_caches(con)
        return
    # the database's own name: in a TEMP view `main.x` is the TEMP catalogue's schema main, i.e. the view
    db = '"' + con.execute("SELECT current_database()").fetchone()[0].replace('"', '""') + '"'
    for table in ("stack_objects", "lock_object_counts"):
        con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM {db}.main.{table} {keep}")
