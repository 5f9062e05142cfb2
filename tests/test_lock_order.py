"""The lock tables do not depend on the order DuckDB returns the code-fact rows in, nor on Python's string
hashing (tests/fixtures/locks/order: the cases that made two full indexes of v6.1 differ)."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest
from conftest import FIXTURES
from lockdb_helper import build

TABLES = ("lock_fields", "global_locks", "lock_inits", "lock_sites", "lock_wrappers")
PATHS = ["locks.c", "retry.c", "names", "order"]
_RUN = "import sys, duckdb; from lima.analyzer import lock_pass; lock_pass.run(duckdb.connect(sys.argv[1]))"


def _pass_in_process(db, hash_seed: str) -> None:
    """The lock pass in a fresh interpreter, with its own string hash seed (sets of names iterate in
    another order)."""
    subprocess.run([sys.executable, "-c", _RUN, str(db)], check=True, timeout=300,
                   env={**os.environ, "PYTHONHASHSEED": hash_seed})


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same facts stored in source order and in reverse order, each given the lock pass."""
    d = tmp_path_factory.mktemp("order")
    out = {}
    for name, reverse, seed in (("fwd", False, "1"), ("rev", True, "2")):
        db = d / f"{name}.duckdb"
        build(db, FIXTURES / "locks", PATHS, reverse=reverse).close()
        _pass_in_process(db, seed)
        out[name] = duckdb.connect(str(db), read_only=True)
    yield out
    for c in out.values():
        c.close()


def test_rows_really_are_stored_in_another_order(both):
    q = "SELECT list(name ORDER BY rowid) FROM variables WHERE scope = 'param'"
    fwd, rev = (both[k].execute(q).fetchone()[0] for k in ("fwd", "rev"))
    assert fwd == rev[::-1] and fwd != rev


def test_lock_tables_are_identical_whatever_the_row_order(both):
    for t in TABLES:
        rows = [both[k].execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for k in ("fwd", "rev")]
        assert rows[0], t
        assert rows[0] == rows[1], t


def test_the_cases_where_the_order_mattered(both):
    con = both["rev"]
    # parameters on one line: lock_second(a, b) locks b's ctrl_lock, so use_second's lock_second(y, x) locks x
    assert con.execute("SELECT param_index, field_path FROM lock_wrappers WHERE name = 'lock_second'"
                       ).fetchall() == [(1, "ctrl_lock")]
    assert con.execute("SELECT arg_text, struct_name, field_path FROM lock_sites "
                       "WHERE function = 'use_second'").fetchall() == [("x", "tty_struct", "ctrl_lock")]
    # unlock_pair has one row per parameter; ldisc_release's one call goes through both
    assert con.execute("SELECT param_index FROM lock_wrappers WHERE name = 'unlock_pair' ORDER BY 1"
                       ).fetchall() == [(0,), (1,)]
    assert con.execute("SELECT count(*) FROM lock_sites WHERE function = 'ldisc_release'").fetchone() == (2,)
    # each driver's struct adapter is read from the header of its own directory
    sites = dict(con.execute("SELECT function, field_path FROM lock_sites WHERE function LIKE '%_reset'"
                             ).fetchall())
    assert sites == {"a_reset": "regs.lock", "b_reset": "regs.mac_lock"}
