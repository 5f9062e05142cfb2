"""Wait times are not counted twice: an mmap_lock acquisition row of the contention backend times the
whole acquisition, contended wait included, so only the lock's contended rows carry wait."""

from __future__ import annotations

from lima.queries import install_views
from lima.queries.catalog import load_catalog
from lima.queries.cli import run_query
from test_query_mapping import build_db


def test_mmap_lock_acquisition_time_is_not_added_to_its_contended_wait(tmp_path):
    con = build_db(tmp_path / "w.duckdb")
    con.execute("INSERT INTO trace_runs (run_id, runtime, workload, mode, backend, duration_s, source) "
                "VALUES ('m1', 'host', 'mmap', 'warmup', 'contention', 1, 'lima-trace')")
    # 10 acquisitions took 5 ms in all, 4 of them contended for 3 ms in all (max 1.5 ms)
    con.execute("INSERT INTO lock_events (run_id, lock_addr, lock_name, lock_type, event, flags, pid, comm, "
                "count, wait_ns_total, wait_ns_max) VALUES "
                "('m1', 4096, '&mm->mmap_lock', 'rwsem', 'acquire', 'WRITE|MMAP_LOCK', 1, 'x', 10, 5000000, "
                "2000000), "
                "('m1', 4096, '&mm->mmap_lock', 'rwsem', 'contended', 'WRITE', 1, 'x', 4, 3000000, 1500000)")
    install_views(con, force=True)
    cols, rows = run_query(con, load_catalog()["top-locks"], {"runtime": "host"})
    top = [dict(zip(cols, r, strict=True)) for r in rows]
    assert [(r["object"], r["count"], r["wait_ms"], r["max_wait_us"]) for r in top] == [
        ("mm_struct.mmap_lock", 14, 3.0, 1500.0)]
    cols, rows = run_query(con, load_catalog()["runtime-summary"], {"runtime": "host"})
    assert dict(zip(cols, rows[0], strict=True))["wait_ms"] == 3.0
    con.close()
