"""Wait times are not counted twice: an mmap_lock acquisition row of the contention backend times the
whole acquisition, contended wait included, so only the lock's contended rows carry wait."""

from __future__ import annotations

from lima.queries import install_views
from lima.queries.catalog import load_catalog
from lima.queries.cli import run_query
from test_query_mapping import STACKS, build_db


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
    assert [(r["object"], r["events"], r["acquisitions"], r["contentions"], r["wait_ms"], r["max_wait_us"])
            for r in top] == [("mm_struct.mmap_lock", 14, 10, 4, 3.0, 1500.0)]
    cols, rows = run_query(con, load_catalog()["runtime-summary"], {"runtime": "host"})
    assert dict(zip(cols, rows[0], strict=True))["wait_ms"] == 3.0
    con.close()


def test_mmap_lock_sampled_stacks_keep_exact_counts(tmp_path):
    """lima-trace --mmap-lock --mmap-lock-stacks N: each acquisition is counted once, either in a row with
    a sampled stack (flag SAMPLED) or in the row of the same lock and thread with no stack.  The
    aggregations add them: per object the count is exact; the sites come from the sampled stacks."""
    con = build_db(tmp_path / "s.duckdb")
    con.execute("INSERT INTO trace_runs (run_id, runtime, workload, mode, backend, duration_s, source) "
                "VALUES ('s1', 'host', 'mmap', 'warmup', 'contention', 1, 'lima-trace')")
    # stack 1: a contended down_write_killable in vm_mmap_pgoff; 12: a sampled acquisition there
    stacks = {1: STACKS[1], 12: ["__mmap_lock_do_trace_acquire_returned", "vm_mmap_pgoff", "do_syscall_64"]}
    for sid, frames in stacks.items():
        for depth, sym in enumerate(frames):
            con.execute("INSERT INTO stack_frames (run_id, stack_id, depth, symbol) VALUES ('s1', ?, ?, ?)",
                        [sid, depth, sym])
    # 1000 write acquisitions by one thread: 16 sampled with the vm_mmap_pgoff stack, 984 without stack;
    # 5 of them waited (a contended row, 2 ms in all)
    con.execute("INSERT INTO lock_events (run_id, lock_addr, lock_name, lock_type, mode, stack_id, event, "
                "flags, pid, comm, count, wait_ns_total, wait_ns_max) VALUES "
                "('s1', 4096, '&mm->mmap_lock', 'rwsem', 'write', NULL, 'acquire', 'WRITE|MMAP_LOCK', "
                "1, 'x', 984, NULL, NULL), "
                "('s1', 4096, '&mm->mmap_lock', 'rwsem', 'write', 12, 'acquire', 'WRITE|MMAP_LOCK|SAMPLED', "
                "1, 'x', 16, NULL, NULL), "
                "('s1', 4096, NULL, 'rwsem', 'write', 1, 'contended', 'WRITE', 1, 'x', 5, 2000000, 900000)")
    install_views(con, force=True)
    cols, rows = run_query(con, load_catalog()["top-locks"], {"runtime": "host"})
    top = [dict(zip(cols, r, strict=True)) for r in rows]
    assert [(r["object"], r["events"], r["acquisitions"], r["contentions"], r["wait_ms"], r["top_site"])
            for r in top] == [("mm_struct.mmap_lock", 1005, 1000, 5, 2.0, "vm_mmap_pgoff")]
    cols, rows = run_query(con, load_catalog()["top-locks"], {"runtime": "host", "event": "acquire"})
    assert [dict(zip(cols, r, strict=True))["events"] for r in rows] == [1000]
    cols, rows = run_query(con, load_catalog()["lock-objects"], {"runtime": "host", "event": "acquire"})
    objs = [dict(zip(cols, r, strict=True)) for r in rows]
    assert {(r["object"], r["site_function"], r["events"]) for r in objs} == {
        ("mm_struct.mmap_lock", None, 984), ("mm_struct.mmap_lock", "vm_mmap_pgoff", 16)}
    con.close()


def test_shared_locks_says_when_runs_were_recorded_differently(tmp_path):
    """A --mmap-lock run counts every mmap_lock acquisition; the contention runs of test_query_mapping
    count waits only: the row of mm_struct.mmap_lock says the counts are not comparable, and splits
    acquisitions from contentions. rtnl_mutex (fc and runc, both plain contention runs) does not."""
    con = build_db(tmp_path / "m.duckdb")
    con.execute("UPDATE lock_events SET event = 'contended'")  # contention runs record waits
    con.execute("DELETE FROM lock_object_counts; DELETE FROM stack_objects")  # cached before the UPDATE
    con.execute("INSERT INTO trace_runs (run_id, runtime, workload, mode, backend, duration_s, source, "
                "notes) VALUES ('m1', 'host', 'mmap', 'coldstart', 'contention', 1, 'lima-trace', "
                "'--mmap-lock: every mmap_lock acquisition counted; stacks sampled: 1 in 64')")
    con.execute("INSERT INTO lock_events (run_id, lock_addr, lock_name, lock_type, event, flags, pid, comm, "
                "count) VALUES ('m1', 4096, '&mm->mmap_lock', 'rwsem', 'acquire', 'WRITE|MMAP_LOCK', 1, 'x', "
                "100)")
    install_views(con, force=True)
    cols, rows = run_query(con, load_catalog()["shared-locks"], {"mode": "coldstart"})
    by = {r["object"]: r for r in (dict(zip(cols, row, strict=True)) for row in rows)}
    mm = by["mm_struct.mmap_lock"]
    # fc r1 15 + r4 20 + 3 (class name), runc 8: all contended; host 100 acquisitions
    assert (mm["events"], mm["acquisitions"], mm["contentions"]) == (146, 100, 46)
    assert mm["trace_setups"] == "fc:contention, host:contention+mmap-lock, runc:contention"
    assert mm["setup_warning"].startswith("runs recorded with different backends/options")
    assert by["rtnl_mutex"]["setup_warning"] is None
    assert by["rtnl_mutex"]["trace_setups"] == "fc:contention, runc:contention"
    con.close()


def test_rates_and_comparisons_name_the_event_kinds_they_add(tmp_path):
    """A run counting mmap_lock acquisitions and waits: lock-rates, mode-compare and workload-sensitivity
    say their per-run figures add both kinds (event_kinds), and --event contended keeps the waits only."""
    con = build_db(tmp_path / "k.duckdb")
    con.execute("INSERT INTO trace_runs (run_id, runtime, workload, mode, backend, duration_s, source) "
                "VALUES ('k1', 'host', 'mmap', 'coldstart', 'contention', 1, 'lima-trace'), "
                "('k2', 'host', 'mmap', 'warmup', 'contention', 1, 'lima-trace')")
    con.execute("INSERT INTO lock_events (run_id, lock_addr, lock_name, lock_type, event, flags, pid, comm, "
                "count) VALUES "
                "('k1', 4096, '&mm->mmap_lock', 'rwsem', 'acquire', 'WRITE|MMAP_LOCK', 1, 'x', 10), "
                "('k1', 4096, '&mm->mmap_lock', 'rwsem', 'contended', 'WRITE', 1, 'x', 4), "
                "('k2', 4096, '&mm->mmap_lock', 'rwsem', 'contended', 'WRITE', 1, 'x', 1)")
    install_views(con, force=True)

    def rows(name, **params):
        cols, got = run_query(con, load_catalog()[name], {"runtime": "host", **params})
        return [dict(zip(cols, r, strict=True)) for r in got]

    (rate,) = [r for r in rows("lock-rates", mode="coldstart") if r["object"] == "mm_struct.mmap_lock"]
    assert (rate["event_kinds"], rate["mean_per_s"]) == (["acquire", "contended"], 14.0)
    (rate,) = rows("lock-rates", mode="coldstart", event="contended")
    assert (rate["event_kinds"], rate["mean_per_s"]) == (["contended"], 4.0)
    (cmp,) = rows("mode-compare")
    assert (cmp["event_kinds"], cmp["per_run_a"], cmp["per_run_b"]) == (["acquire", "contended"], 14.0, 1.0)
    sens = [r for r in rows("workload-sensitivity", mode="coldstart") if r["object"] == "mm_struct.mmap_lock"]
    assert [r["event_kinds"] for r in sens] == [["acquire", "contended"]]
    con.close()
