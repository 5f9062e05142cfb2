"""The two caches (stack_objects, lock_object_counts): filled per new run, rebuilt when the index changes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
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


# A process that holds the database open (read-only or for writing) until its stdin closes or it has slept
# the seconds given: another lima-query, the duckdb shell, a lima-trace run.
HOLDER = """import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'ro')
print('ready', flush=True)
sys.stdin.read() if sys.argv[3] == 'stdin' else time.sleep(float(sys.argv[3]))
"""


def _outdated(path, con) -> None:
    """Leave the database as an older LIMA left it: views installed from other query files (top_locks
    missing) and caches built from another index (a site's struct renamed since)."""
    con.execute("UPDATE lock_sites SET struct_name = 'mm_struct_renamed' WHERE site_id = 1")
    con.execute("DROP VIEW top_locks")
    con.execute("DROP MACRO TABLE top_locks")
    con.execute("UPDATE meta SET value = 'old' WHERE key = 'queries_fingerprint'")
    con.close()


def _hold(path, mode: str, until: str) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), mode, until], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "ready\n"
    return p


def _top_lock(capsys) -> tuple[str, int]:
    rows = json.loads(capsys.readouterr().out)
    return rows[0]["object"], rows[0]["events"]


def test_outdated_database_answers_while_another_process_reads_it(built, capsys):
    """The write connection that would install the views is refused (another reader holds the file): the
    query is answered from TEMP views of the current query files, the caches are bypassed, nothing is
    written. Before: 'held open by another writer', exit 2 (3 of 4 concurrent lima-query runs failed so)."""
    path, con = built
    _outdated(path, con)
    holder = _hold(path, "ro", "stdin")
    try:
        assert main(["top-locks", "--runtime", "runc", "--db", str(path), "--format", "json",
                     "--limit", "1"]) == 0
        assert _top_lock(capsys) == ("mm_struct_renamed.mmap_lock", 8)
    finally:
        holder.communicate("")
    ro = duckdb.connect(str(path), read_only=True)
    assert ro.execute("SELECT value FROM meta WHERE key = 'queries_fingerprint'").fetchone() == ("old",)
    ro.close()


def test_query_waits_for_a_writer_to_finish(built, capsys):
    """DuckDB lets no reader in while another process writes: lima-query waits (saying so) and answers."""
    path, con = built
    con.close()
    holder = _hold(path, "rw", "1.5")
    assert main(["top-locks", "--runtime", "runc", "--db", str(path), "--format", "json",
                 "--limit", "1"]) == 0
    holder.wait()
    out = capsys.readouterr()
    assert "held open by another writer" in out.err and "waiting up to" in out.err
    assert json.loads(out.out)[0]["object"] == "mm_struct.mmap_lock"


def test_outdated_database_answers_a_user_who_may_only_read_it(built):
    """A database file the user may read but not write: answered, not 'cannot open: Permission denied'.
    As root (who may write anything) the query runs as nobody."""
    path, con = built
    _outdated(path, con)
    shared = Path(tempfile.mkdtemp(prefix="lima-ro-"))
    try:
        shared.chmod(0o755)
        db = shared / "ro.duckdb"
        shutil.copy(path, db)
        db.chmod(0o444)
        user: list[str] = []
        if os.geteuid() == 0:
            if shutil.which("setpriv") is None:
                pytest.skip("root without setpriv: cannot run the query as a user without write permission")
            user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        r = subprocess.run([*user, sys.executable, "-m", "lima.queries.cli", "top-locks", "--runtime", "runc",
                            "--db", str(db), "--format", "json", "--limit", "1"],
                           capture_output=True, text=True, timeout=120, cwd=shared)
        assert r.returncode == 0, r.stderr
        rows = json.loads(r.stdout)
        assert [(x["object"], x["events"]) for x in rows] == [("mm_struct_renamed.mmap_lock", 8)]
    finally:
        shutil.rmtree(shared)
