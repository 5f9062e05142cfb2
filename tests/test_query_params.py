"""Parameter checks declared in the query headers (bounds, word sets, database sets): lima-query refuses a
value outside them with one line naming the parameter and what it allows, exit code 2, no traceback.

The database is test_query_mapping's: runtimes fc and runc, workload mmap, modes coldstart and warmup,
runs r1..r4.
"""

from __future__ import annotations

import duckdb
import pytest
from lima.queries.catalog import CatalogError, load_catalog, parse_query_file
from lima.queries.cli import main
from test_query_mapping import build_db


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("params") / "params.duckdb"
    build_db(path).close()
    return path


REFUSED = [
    (["top-locks", "--limit", "-1"], "top-locks: --limit must be an INTEGER >= 1, not -1"),
    (["top-locks", "--limit", "0"], "top-locks: --limit must be an INTEGER >= 1, not 0"),
    (["top-locks", "--limit", "2.5"], "top-locks: --limit must be an INTEGER >= 1, not 2.5"),
    (["top-locks", "--limit", "99999999999"],   # the 32-bit maximum, not only the declared >= 1
     "top-locks: --limit must be an INTEGER >= 1 and <= 2147483647, not 99999999999"),
    (["struct-locks", "--struct", ""], "struct-locks: --struct wants a name, not ''"),
    (["lock-name", "--name", "  "], "lock-name: --name wants a name, not '  '"),
    (["lock-site", "--function="], "lock-site: --function wants a name, not ''"),
    (["top-locks", "--event", "bogus"],
     "top-locks: --event must be one of contended, acquire, release, not 'bogus'"),
    (["top-locks", "--by", "size"],
     "top-locks: --by must be one of events, acquisitions, contentions, wait, not 'size'"),
    (["timeline", "--interval_ms", "0"], "timeline: --interval-ms must be an INTEGER >= 1, not 0"),
    (["timeline", "--interval-ms", "fast"], "timeline: --interval-ms must be an INTEGER >= 1, not 'fast'"),
    (["hot-locks", "--min_share", "1.5"], "hot-locks: --min-share must be a DOUBLE >= 0 and <= 1, not 1.5"),
    (["hot-locks", "--min-share", "nan"], "hot-locks: --min-share must be a DOUBLE >= 0 and <= 1, not 'nan'"),
    (["lock-objects", "--status", "done"],
     "lock-objects: --status must be one of resolved, ambiguous, unresolved, not 'done'"),
    (["lock-site", "--function", "f", "--op", "lock"],
     "lock-site: --op must be one of acquire, try, release, not 'lock'"),
    (["top-locks", "--runtime", "fcc"],
     "top-locks: --runtime must be a value of trace_runs.runtime in this database (fc, runc), not 'fcc'; "
     "did you mean fc?"),
    (["top-locks", "--mode", "cold"],
     "top-locks: --mode must be a value of trace_runs.mode in this database (coldstart, warmup), not 'cold'"
     "; did you mean coldstart?"),
    (["mode-compare", "--mode_b", "hot"],
     "mode-compare: --mode-b must be a value of trace_runs.mode in this database (coldstart, warmup), "
     "not 'hot'"),
    (["timeline", "--run", "r9"],
     "timeline: --run must be a value of trace_runs.run_id in this database (r1, r2, r3, r4), not 'r9'; "
     "did you mean r4, r3, r2?"),
    (["lock_event_objects", "--uncached", "maybe"],
     "lock_event_objects: --uncached must be a BOOLEAN (true or false), not 'maybe'"),
]


@pytest.mark.parametrize(("argv", "message"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_refused_value_is_one_line_exit_2(db, capsys, argv, message):
    assert main([*argv, "--db", str(db)]) == 2
    out = capsys.readouterr()
    assert out.err == f"lima-query: {message}\n"
    assert out.out == ""


def test_allowed_values_still_answer(db, capsys):
    assert main(["top-locks", "--runtime", "runc", "--limit", "1", "--event", "acquire", "--by", "wait",
                 "--db", str(db), "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("1,runc,mmap,coldstart,mm_struct.mmap_lock,")
    assert main(["hot-locks", "--min_share", "1", "--mode", "warmup", "--db", str(db),
                 "--format", "csv"]) == 0
    assert [r.split(",")[3] for r in capsys.readouterr().out.splitlines()[1:]] == ["mm_struct.mmap_lock"]


def test_help_says_what_is_allowed(capsys):
    assert main(["top-locks", "--help"]) == 0
    out = capsys.readouterr().out
    assert "allowed: an INTEGER >= 1" in out
    assert "allowed: one of contended, acquire, release" in out
    assert "allowed: a value of trace_runs.runtime in this database" in out


def test_blank_required_name_is_refused_by_run_query_too(db):
    from lima.db import connect
    from lima.queries.cli import run_query

    con = connect(db, read_only=True)
    try:
        with pytest.raises(CatalogError, match=r"^lock-site: --function wants a name, not ' '$"):
            run_query(con, load_catalog()["lock-site"], {"function": " "})
    finally:
        con.close()


@pytest.mark.parametrize("argv", [["--bogus"], ["--list", "--bogus"], ["--bogus=1", "--install"]])
def test_unknown_option_before_a_query_name_is_named(capsys, argv):
    """Before: 'give a query name' for --bogus, and --list ignored it."""
    assert main(argv) == 2
    assert capsys.readouterr().err == ("lima-query: unknown option --bogus (lima-query --help lists them; a "
                                       "query's parameters follow its name)\n")
    assert main(["--lst"]) == 2
    assert "unknown option --lst; did you mean --list?" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["top-locks", "struct-locks", "lock-site", "hot-locks", "map_stacks"])
def test_help_is_an_aligned_table(capsys, monkeypatch, name):
    """Option, default and description columns start at the same place on every row; the description's
    continuation lines and the 'allowed:' lines start under the description; nothing is wider than the
    terminal."""
    monkeypatch.setenv("COLUMNS", "100")
    assert main([name, "--help"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert all(len(line) < 100 for line in lines), lines
    if name == "map_stacks":
        assert "parameters:" not in lines
        return
    table = lines[lines.index("parameters:") + 1:]
    table = table[:table.index("")]
    header = table[0]
    assert header.split() == ["option", "default", "description"]
    col_default, col_text = header.index("default"), header.index("description")
    q = load_catalog()[name]
    rows = [i for i, line in enumerate(table) if line.startswith("  --")]
    assert [table[i].split()[0] for i in rows] == [p.flag for p in q.params]
    for i, line in enumerate(table[1:], 1):
        if i in rows:
            assert line[col_default - 1] == " " and line[col_default] != " ", line
            assert line[col_text - 1] == " " and line[col_text] != " ", line
        else:   # a continuation: blank up to the description column, or to the first allowed value
            indent = len(line) - len(line.lstrip())
            assert indent in (col_text, col_text + len("allowed: ")) and line.strip(), line
    allowed = [line[col_text:] for line in table if line[col_text:].startswith("allowed: ")]
    assert len(allowed) == sum(bool(p.bounds or p.choices or p.db_set) for p in q.params)


def test_every_limit_and_event_parameter_declares_its_check():
    """Data check on the files: a limit of 0 or a misspelt event kind is refused by every query."""
    for q in load_catalog().values():
        for p in q.params:
            if p.name == "limit":
                assert p.bounds == ((">=", 1.0),), q.path
            if p.name == "event":
                assert p.choices == ("contended", "acquire", "release"), q.path
            if p.name in ("runtime", "workload", "mode", "mode_a", "mode_b"):
                assert p.db_set == ("trace_runs", p.name.split("_")[0]), q.path


HEADER = "-- name: x\n-- description: d\n-- param: {}\nSELECT $p\n"


@pytest.mark.parametrize(("param", "error"), [
    ("p INTEGER >=1 0  d", "x.sql:3: default '0' refused: --p must be an INTEGER >= 1, not 0"),
    ("p VARCHAR a|b c  d", "x.sql:3: default 'c' refused: --p must be one of a, b, not 'c'"),
    ("p VARCHAR >=1 null  d", "x.sql:3: bound >=1 on a VARCHAR parameter (numbers only)"),
    ("p INTEGER a|b null  d", "x.sql:3: check 'a|b' is not >=N, >N, <=N, <N, a|b|c or @table.column"),
    ("p VARCHAR @trace_runs null  d", "x.sql:3: check '@trace_runs' is not >=N"),
    ("p INTEGER >=1", "x.sql:3: param line must be 'NAME TYPE [CHECK ...] DEFAULT  description'"),
])
def test_malformed_checks_name_file_and_line(param, error):
    with pytest.raises(CatalogError) as e:
        parse_query_file(HEADER.format(param), "x.sql")
    assert str(e.value).startswith(error)


def test_header_grammar():
    q = parse_query_file(HEADER.format("p DOUBLE >0 <1 0.5  A share"), "x.sql")
    p = q.params[0]
    assert (p.bounds, p.default_value(), p.description, p.allowed()) == (
        ((">", 0.0), ("<", 1.0)), 0.5, "A share", "a DOUBLE > 0 and < 1")
    assert p.check(0.99) == 0.99
    with pytest.raises(CatalogError, match="not 1$"):
        p.check(1)
    with pytest.raises(CatalogError, match="not True$"):
        p.check(True)


AGGREGATIONS = ["hot-locks", "top-locks", "lock-objects", "object-summary", "shared-locks", "unique-locks",
                "workload-sensitivity", "mode-compare", "lock-rates", "runtime-summary"]


def test_the_event_filter_is_written_once():
    """Every aggregation filters through the installed macro lock_object_counts_filtered, none repeats it."""
    catalog = load_catalog()
    for name in AGGREGATIONS:
        sql = catalog[name].sql
        assert "lock_object_counts_filtered(" in sql, name
        assert "'release'" not in sql and "lock_object_counts_current" not in sql, name
    filt = catalog["lock_object_counts_filtered"]
    assert [p.name for p in filt.params] == ["run", "runtime", "workload", "mode", "event"]
    assert "x.event <> 'release'" in filt.sql


def test_install_order_reads_a_macro_name_only_as_a_call():
    """A view's column lock_name is not the macro lock_name (lock-name.sql), nor is a name in a comment."""
    from lima.queries.install import ordered

    macro = parse_query_file("-- name: lock-name\n-- description: d\n-- param: n VARCHAR null  n\n"
                             "-- built on map_x\nSELECT * FROM map_x WHERE $n IS NULL", "lock-name.sql")
    view = parse_query_file("-- name: map_x\n-- kind: view\n-- description: d\nSELECT 1 AS lock_name",
                            "map_x.sql")
    assert [q.name for q in ordered({"lock-name": macro, "map_x": view})] == ["map_x", "lock-name"]


def test_run_filters_the_aggregations_and_is_checked(db, capsys):
    """r1 and r4 are both fc/mmap/coldstart: --run r4 keeps r4's events only (mm_struct.mmap_lock: 20 from
    stack 1 and 3 under class &mm->mmap_lock#2)."""
    import json

    for name in ("top-locks", "lock-objects", "shared-locks", "hot-locks", "unique-locks", "object-summary",
                 "runtime-summary", "lock-rates"):
        assert main([name, "--run", "r4", "--db", str(db), "--format", "json"]) == 0, name
        capsys.readouterr()
    assert main(["top-locks", "--run", "r4", "--db", str(db), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["runs"] for r in rows} == {1}
    assert [r["events"] for r in rows if r["object"] == "mm_struct.mmap_lock"] == [23]
    assert main(["lock-objects", "--run", "r2", "--db", str(db), "--format", "json"]) == 0
    assert {r["runtime"] for r in json.loads(capsys.readouterr().out)} == {"runc"}
    assert main(["top-locks", "--run", "r9", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lima-query: top-locks: --run must be a value of trace_runs.run_id in this "
                          "database (r1, r2, r3, r4), not 'r9'")


def test_every_installed_table_macro_can_be_called_from_sql(tmp_path):
    """The README promises every query in the duckdb shell: each parameterised query is installed as a
    table macro (install.macro_sql), and a bare column name in its SQL that equals a parameter's name is
    replaced by the parameter there (lock-name's `SELECT name ... FROM n0` once failed to bind)."""
    from lima.db import connect as lima_connect
    from lima.queries import install_views
    samples = {"VARCHAR": "'x'", "INTEGER": "1", "BIGINT": "1", "DOUBLE": "0.5", "BOOLEAN": "true"}
    con = lima_connect(tmp_path / "m.duckdb")
    try:
        install_views(con)
        failed = []
        for q in load_catalog().values():
            if q.kind != "query" or not q.params:
                continue
            args = ", ".join(f'"{p.name}" := {samples[p.type]}' for p in q.params if p.required)
            try:
                con.execute(f"SELECT * FROM {q.sql_name}({args}) LIMIT 1").fetchall()
            except duckdb.Error as e:
                failed.append(f"{q.name}: {str(e).splitlines()[0]}")
    finally:
        con.close()
    assert not failed
