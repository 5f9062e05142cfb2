"""The two caches (stack_objects, lock_object_counts): filled per new run, rebuilt when the index changes."""

from __future__ import annotations

import json

import pytest
from lima.queries.cli import main
from lima.queries.install import mappings_stale, refresh_mappings
from test_query_mapping import build_db


@pytest.fixture()
def built(tmp_path):
    path = tmp_path / "c.duckdb"
    con = build_db(path)
    yield path, con
    con.close()


def objects_of(con, run_id):
    return con.execute("SELECT object_key, sum(count) FROM lock_object_counts_current WHERE run_id = ? "
                       "GROUP BY ALL ORDER BY 2 DESC, 1", [run_id]).fetchall()


def test_caches_hold_every_run_after_install(built):
    _, con = built
    assert con.execute("SELECT count(DISTINCT run_id), count(*) FROM stack_objects").fetchone() == (4, 44)
    assert con.execute("SELECT sum(count) FROM lock_object_counts").fetchone()[0] == \
        con.execute("SELECT sum(count) FROM lock_events").fetchone()[0]
    assert not mappings_stale(con)


def test_new_run_is_answered_live_then_cached(built):
    _, con = built
    con.execute("INSERT INTO trace_runs (run_id, runtime, workload, mode, backend, duration_s, source) "
                "VALUES ('r9', 'host', 'mmap', 'coldstart', 'contention', 1.0, 'lima-trace')")
    con.execute("INSERT INTO stack_frames (run_id, stack_id, depth, symbol) VALUES "
                "('r9', 1, 0, '_raw_spin_lock'), ('r9', 1, 1, 'lockref_get_not_zero'), "
                "('r9', 1, 2, 'dget_parent')")
    con.execute("INSERT INTO lock_events (run_id, lock_addr, stack_id, count) VALUES ('r9', 7, 1, 11)")
    assert mappings_stale(con)
    live = objects_of(con, "r9")
    assert live == [("dentry.d_lockref.lock", 11)]
    assert con.execute("SELECT count(*) FROM stack_objects WHERE run_id = 'r9'").fetchone()[0] == 0
    assert refresh_mappings(con) == 1
    assert con.execute("SELECT count(*) FROM stack_objects WHERE run_id = 'r9'").fetchone()[0] == 1
    assert objects_of(con, "r9") == live
    assert not mappings_stale(con)


def test_index_change_rebuilds_the_caches(built):
    _, con = built
    assert objects_of(con, "r2")[0] == ("mm_struct.mmap_lock", 8)
    con.execute("UPDATE lock_sites SET field_path = 'mmap_sem' WHERE site_id = 1")
    assert mappings_stale(con)
    refresh_mappings(con)
    assert objects_of(con, "r2")[0] == ("mm_struct.mmap_sem", 8)


def test_lima_query_refreshes_before_answering(built, capsys):
    path, con = built
    con.execute("UPDATE lock_sites SET struct_name = 'mm_struct_renamed' WHERE site_id = 1")
    con.close()
    assert main(["top-locks", "--runtime", "runc", "--db", str(path), "--format", "json",
                 "--limit", "1"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["object"], r["events"]) for r in rows] == [("mm_struct_renamed.mmap_lock", 8)]
