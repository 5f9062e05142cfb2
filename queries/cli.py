"""lima-query: run one of the queries/*.sql answers against the LIMA database and print its rows."""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
import sys
import textwrap
import time

import duckdb
from lima.db import LimaDbBusy, LimaDbError, connect, default_db_path, get_meta
from lima.queries.catalog import CatalogError, QueryFile, find_query, load_catalog
from lima.queries.install import install_temp, install_views, mappings_stale, needs_install, use_caches
from lima.queries.output import FORMATS, OutputError, emit

__all__ = ["main", "run_query", "bind_params", "empty_message"]

USAGE = """\
lima-query NAME [--PARAM VALUE ...] [--db PATH] [--format FMT] [--output FILE]
       lima-query --list [--all]
       lima-query NAME --help
       lima-query --install [--db PATH]"""

EPILOG = """\
Every query is the file queries/NAME.sql; its header declares the parameters, bound as DuckDB named
parameters (never pasted into the SQL). The same SQL is installed in the database as views and table
macros, so the duckdb shell answers without LIMA:  duckdb lima.duckdb
  SELECT * FROM top_locks WHERE runtime = 'fc';          -- view: every parameter NULL (no filter, no limit)
  SELECT * FROM top_locks(runtime := 'fc', "limit" := 5);  -- macro: the header's defaults

examples:
  lima-query --list
  lima-query top-locks --runtime fc --limit 10
  lima-query lock-objects --runtime runc --format json --output objects.json
  lima-query shared-locks --format markdown"""


def run_query(con: duckdb.DuckDBPyConnection, q: QueryFile,
              values: dict[str, object] | None = None) -> tuple[list[str], list[tuple]]:
    """Run query Q with parameter VALUES (missing ones take their default); (columns, rows).

    Given values are checked against the header (type, bounds, choices, database set): CatalogError
    '<query>: --<param> must be ..., not ...' when one is not allowed.
    """
    bound = bind_params(con, q, values)
    cur = con.execute(q.sql, bound) if bound else con.execute(q.sql)
    columns = [d[0] for d in cur.description]
    return columns, cur.fetchall()


def bind_params(con: duckdb.DuckDBPyConnection, q: QueryFile,
                values: dict[str, object] | None = None) -> dict[str, object]:
    """Every parameter of Q with its checked value (the given one, else the default).

    CatalogError when a value is refused, a required one is missing or a name is unknown.
    """
    values = dict(values or {})
    bound: dict[str, object] = {}
    for p in q.params:
        if p.name in values and values[p.name] is not None:
            value = values.pop(p.name)
            try:
                bound[p.name] = p.check(value)
                p.check_in_database(con, value)
            except CatalogError as e:
                raise CatalogError(f"{q.name}: {e}") from None
        elif p.required:
            raise CatalogError(f"{q.name}: {p.flag} is required ({p.description})")
        else:
            values.pop(p.name, None)
            bound[p.name] = p.default_value()
    for extra in values:
        q.param(extra)  # raises with close matches
    return bound


def empty_message(con: duckdb.DuckDBPyConnection, q: QueryFile, bound: dict[str, object]) -> str | None:
    """Why Q returned no rows: the message of the first `empty-when` condition that holds, else `empty:`.

    Each condition is run as `SELECT (condition)` with the parameters it names; {name} in the message
    (and in `empty:`) is replaced by the parameter's value.
    """
    chosen = q.empty
    for cond, message in q.empty_when:
        names = set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", cond))
        args = {n: bound.get(n) for n in names}
        if con.execute(f"SELECT ({cond})", args).fetchone()[0]:
            chosen = message
            break
    else:
        # `empty:` explains an answer of the lock tables ('takes no lock itself'), false when they are empty
        # because the lock pass never ran; the empty-when causes above (no such function) stay true.
        if _lock_pass_missing(con, q):
            return LOCK_PASS_MISSING
    if chosen is None:
        return None
    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: _shown(bound.get(m.group(1))), chosen)


#: The tables the lock pass of lima-index fills (analyzer/lock_pass.py).
LOCK_PASS_TABLES = ("lock_fields", "global_locks", "lock_inits", "lock_sites", "lock_wrappers")

LOCK_PASS_MISSING = ("the lock tables are empty: the lock pass has not run on this database "
                     "(run lima-index without --no-lock-pass)")


def _lock_pass_missing(con: duckdb.DuckDBPyConnection, q: QueryFile) -> bool:
    """True when Q reads a lock-pass table and the lock pass never ran: no meta lock_pass_fingerprint (set
    by every lock pass) and every lock table empty (databases filled by other means count as run)."""
    sql = re.sub(r"--[^\n]*", "", q.sql)
    if not any(re.search(rf"\b{t}\b", sql) for t in LOCK_PASS_TABLES):
        return False
    if get_meta(con, "lock_pass_fingerprint") is not None:
        return False
    any_rows = " OR ".join(f"EXISTS (SELECT 1 FROM {t})" for t in LOCK_PASS_TABLES)
    return not con.execute(f"SELECT {any_rows}").fetchone()[0]


def _shown(value: object) -> str:
    return "NULL" if value is None else str(value)


def _list(catalog: dict[str, QueryFile], fmt: str, output: str | None, everything: bool) -> None:
    """The user queries (kind query), then with EVERYTHING the internal layers (views and layer macros)."""
    rows = []
    for q in sorted(catalog.values(), key=lambda q: (q.internal, q.name)):
        if q.internal and not everything:
            continue
        params = " ".join(p.flag + (" (required)" if p.required else "") for p in q.params)
        rows.append((q.name, "internal " + q.kind if q.internal else q.kind, q.description, params))
    title = "LIMA queries and internal layers" if everything else "LIMA queries"
    emit(["query", "kind", "description", "parameters"], rows, fmt, output, title=title,
         wrap=("description", "parameters"))
    hidden = sum(q.internal for q in catalog.values())
    if not everything and fmt == "table" and output is None:
        print(f"lima-query: {hidden} internal layers (views and table macros the queries build on) not "
              "listed: lima-query --list --all", file=sys.stderr)


def _query_help(q: QueryFile) -> str:
    """`lima-query NAME --help`: usage, description and the parameters as a table (option, default,
    description with what is allowed below it), wrapped to the terminal and aligned in columns."""
    width = max(60, shutil.get_terminal_size((100, 24)).columns - 1)
    groups = [f"{p.flag} {p.type}" if p.required else f"[{p.flag} {p.type}]" for p in q.params]
    groups += ["[--db PATH]", "[--format FMT]", "[--output FILE]"]
    lines = _wrap_groups(f"usage: lima-query {q.name}", groups, width)
    lines += ["", *textwrap.wrap(q.description, width), ""]
    if q.kind == "view":
        lines.append(f"A mapping layer: installed as the view {q.sql_name}; it takes no parameters.")
    if q.params:
        rows = [(f"{p.flag} {p.type}", "required" if p.required else ("NULL (all)" if p.default is None
                                                                      else p.default), p)
                for p in q.params]
        w_opt = max(len("option"), *(len(r[0]) for r in rows))
        w_def = max(len("default"), *(len(r[1]) for r in rows))
        indent = " " * (2 + w_opt + 2 + w_def + 2)
        w_text = max(30, width - len(indent))
        lines += ["parameters:", f"  {'option':<{w_opt}}  {'default':<{w_def}}  description"]
        for opt, default, p in rows:
            text = textwrap.wrap(p.description, w_text) or [""]
            if p.bounds or p.choices or p.db_set:
                # continuation lines of the allowed values indented under the first value
                text += textwrap.wrap("allowed: " + p.allowed(), w_text, subsequent_indent=" " * 9)
            lines.append(f"  {opt:<{w_opt}}  {default:<{w_def}}  {text[0]}".rstrip())
            lines += [indent + t for t in text[1:]]
    lines += ["", f"SQL file: {q.path} (installed as {q.sql_name})",
              "output: --format " + "|".join(FORMATS) + " (parquet needs --output)"]
    return "\n".join(lines)


def _wrap_groups(head: str, groups: list[str], width: int) -> list[str]:
    """HEAD followed by GROUPS, wrapped at WIDTH between groups (never inside '[--limit INTEGER]'),
    continuation lines indented under the first group."""
    lines = [head]
    indent = " " * (len(head) + 1)
    for g in groups:
        if len(lines[-1]) + 1 + len(g) > width and lines[-1] != head:
            lines.append(indent + g)
        else:
            lines[-1] += " " + g
    return lines


def _parse_params(rest: list[str], q: QueryFile) -> dict[str, object]:
    values: dict[str, object] = {}
    i = 0
    while i < len(rest):
        tok = rest[i]
        if not tok.startswith("--") or tok == "--":
            raise CatalogError(f"{q.name}: unexpected argument {tok!r} (parameters are --NAME VALUE)")
        key, eq, val = tok[2:].partition("=")
        p = q.param(key.replace("-", "_") if key.replace("-", "_") in {x.name for x in q.params} else key)
        if not eq:
            if i + 1 >= len(rest):
                raise CatalogError(f"{q.name}: {p.flag} needs a value")
            i += 1
            val = rest[i]
        try:
            values[p.name] = p.convert(val)
        except CatalogError as e:
            raise CatalogError(f"{q.name}: {e}") from None
        i += 1
    return values


def main(argv: list[str] | None = None) -> int:
    """Entry point of lima-query; returns the exit code (2 for bad input)."""
    ap = argparse.ArgumentParser(prog="lima-query", usage=USAGE, add_help=False,
                                 description="Answer questions about kernel locks with queries/*.sql.",
                                 epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", nargs="?", help="query to run (lima-query --list shows them)")
    ap.add_argument("--list", action="store_true", help="list the queries, their descriptions and parameters")
    ap.add_argument("--all", action="store_true",
                    help="with --list: also the internal layers (map_* views, lock_event_objects, ...)")
    ap.add_argument("--install", action="store_true", help="(re)install the views and macros in the database")
    ap.add_argument("--db", default=None, help=f"database (default $LIMA_DB or {default_db_path()})")
    ap.add_argument("--format", default="table", choices=FORMATS, help="output format (default table)")
    ap.add_argument("--output", default=None, help="write to this file instead of stdout")
    ap.add_argument("-h", "--help", action="store_true", help="this help, or a query's parameters")
    args, rest = ap.parse_known_args(argv)
    try:
        if rest and not args.name:   # a query's parameters are read after its name; here nothing reads them
            opt = rest[0].partition("=")[0]
            known = ["--list", "--all", "--install", "--db", "--format", "--output", "--help"]
            near = difflib.get_close_matches(opt, known, n=2, cutoff=0.7)   # --lst, not --bogus -> --db
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise CatalogError(f"unknown option {opt}{hint} (lima-query --help lists them; a query's "
                               "parameters follow its name)")
        catalog = load_catalog()
        if args.help and not args.name:
            ap.print_help()
            return 0
        if args.list:
            _list(catalog, args.format, args.output, args.all)
            return 0
        if args.install and not args.name:
            con = connect(args.db, create=False)
            did = install_views(con, force=True)
            con.close()
            print(f"installed {len(catalog)} queries as views/macros" if did else "already installed")
            return 0
        if not args.name:
            print(USAGE, file=sys.stderr)
            print("lima-query: give a query name (lima-query --list shows them)", file=sys.stderr)
            return 2
        q = find_query(catalog, args.name)
        if args.help:
            print(_query_help(q))
            return 0
        values = _parse_params(rest, q)
        con = _open(args.db)
        why = None
        try:
            if q.kind == "view":
                cur = con.execute(f"SELECT * FROM {q.sql_name}")
                columns, rows = [d[0] for d in cur.description], cur.fetchall()
                why = None if rows else q.empty
            else:
                bound = bind_params(con, q, values)
                cur = con.execute(q.sql, bound) if bound else con.execute(q.sql)
                columns, rows = [d[0] for d in cur.description], cur.fetchall()
                why = None if rows else empty_message(con, q, bound)
        finally:
            con.close()
        emit(columns, rows, args.format, args.output, title=q.name)
        if why:
            print(f"lima-query: {q.name}: {why}", file=sys.stderr)
        return 0
    except (CatalogError, LimaDbError, OutputError) as e:
        print(f"lima-query: {e}", file=sys.stderr)
        return 2
    except duckdb.InvalidInputException as e:  # error() in a query: a parameter value it refuses
        print(f"lima-query: {textwrap.shorten(str(e).removeprefix('Invalid Input Error: '), 400)}",
              file=sys.stderr)
        return 2
    except duckdb.Error as e:
        print(f"lima-query: {args.name}: {textwrap.shorten(str(e), 400)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lima-query: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


#: How long a query waits for another process's write connection to end (another lima-query installing
#: the views takes seconds; a lima-index or lima-trace holding the file longer is reported).
WRITER_WAIT_S = 30.0


def _open(db: str | None) -> duckdb.DuckDBPyConnection:
    """Open the database, installing the views and mapping new runs first when needed and possible.

    A user who may only read the file, or a query run while another process holds the write connection,
    still gets an answer: the read-only connection gets the query files as TEMP views and macros
    (install_temp) and nothing is written.
    """
    con = _open_read_only(db)
    if not (needs_install(con) or mappings_stale(con)):
        use_caches(con)
        return con
    con.close()   # DuckDB refuses a second connection to one file with another read_only setting
    try:
        con = connect(db, create=False)
    except LimaDbError:   # no write permission, or another process holds the file
        return _open_without_writing(db)
    try:
        install_views(con)
    except duckdb.IOException:   # opened for writing, but the file or its folder refuses the writes
        con.close()
        return _open_without_writing(db)
    use_caches(con)
    return con


def _open_without_writing(db: str | None) -> duckdb.DuckDBPyConnection:
    """A read-only connection that answers as an installed database would (install_temp)."""
    con = _open_read_only(db)
    install_temp(con)
    return con


def _open_read_only(db: str | None) -> duckdb.DuckDBPyConnection:
    """A read-only connection, waiting up to WRITER_WAIT_S while another process holds the write one
    (DuckDB lets no reader in meanwhile); LimaDbError after that."""
    deadline = time.monotonic() + WRITER_WAIT_S
    told = False
    while True:
        try:
            return connect(db, read_only=True)
        except LimaDbBusy as e:   # other refusals do not pass by waiting
            if time.monotonic() >= deadline:
                raise
            if not told:
                print(f"lima-query: {str(e).split(';')[0]}; waiting up to {WRITER_WAIT_S:.0f} s",
                      file=sys.stderr)
                told = True
            time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
