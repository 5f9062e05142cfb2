"""The study's aggregations on the hand-written runs of test_query_mapping, numbers worked out by hand.

Runs: r1 fc/mmap/coldstart 2 s, r2 runc/mmap/coldstart 4 s, r3 fc/mmap/warmup 1 s, r4 fc/mmap/coldstart 2 s.
Objects (see test_query_mapping): mm_struct.mmap_lock is r1 10+5 (cgroups 100, 200), r2 8, r3 2,
r4 20 + 3 (class &mm->mmap_lock#2); rtnl_mutex is r1 3 (9 ms wait), r2 1; fc coldstart has 72 events.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import duckdb
import pytest
from lima.queries.catalog import CatalogError, load_catalog
from lima.queries.cli import main, run_query
from lima.queries.output import emit
from test_query_mapping import build_db

INJECTION = "fc'; DROP TABLE trace_runs; --"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("agg") / "agg.duckdb"
    con = build_db(path)
    # event-mode rows for timeline: r1, stack 1 at 0 s and 0.5 s, stack 3 at 1.2 s
    con.execute("INSERT INTO trace_events (run_id, ts_ns, stack_id, lock_addr, wait_ns) VALUES "
                "('r1', 5000000000, 1, 1, 10), ('r1', 5500000000, 1, 1, 20), ('r1', 6200000000, 3, 2, 30)")
    con.close()
    return path


@pytest.fixture()
def con(db):
    c = duckdb.connect(str(db))
    yield c
    c.close()


def q(con, name, **params):
    cols, rows = run_query(con, load_catalog()[name], params)
    return [dict(zip(cols, r, strict=True)) for r in rows]


def test_top_locks_by_events(con):
    rows = q(con, "top-locks", runtime="fc", mode="coldstart")
    assert [(r["object"], r["events"]) for r in rows] == [
        ("mm_struct.mmap_lock", 38), ("dentry.d_lockref.lock", 7), ("wait_queue_head.lock", 6),
        ("ambiguous(init_mm.mmap_lock | init_mm.page_table_lock)", 5), ("x_lock", 4), ("rtnl_mutex", 3),
        ("ambiguous(bar.lock | foo.lock)", 2), ("ambiguous(rq.lock | task_struct.pi_lock)", 2),
        ("unresolved at do_param", 2), ("unresolved (wq_completion)events", 1), ("unresolved 0xffff0007", 1),
        ("unresolved at not_indexed_fn", 1)]
    top = rows[0]
    assert (top["rank"], top["struct"], top["field"], top["wait_ms"], top["runs"], top["top_site"]) == \
        (1, "mm_struct", "mmap_lock", 3.5, 2, "vm_mmap_pgoff")


def test_top_locks_counts_lock_addresses_and_classes_apart(con):
    """mm_struct.mmap_lock in fc coldstart: r1 stack 1 at 0xffff0000 and 0xffff0001, r4 stack 1 at
    0xffff000d, and r4's class-name row &mm->mmap_lock#2 with no address: 3 addresses, 1 class (the old
    `locks` column said 4, mixing the two). rtnl_mutex: one address 0xffff0003, no class name."""
    rows = {r["object"]: r for r in q(con, "top-locks", runtime="fc", mode="coldstart")}
    assert "locks" not in rows["mm_struct.mmap_lock"]
    assert (rows["mm_struct.mmap_lock"]["lock_addrs"], rows["mm_struct.mmap_lock"]["lock_classes"]) == (3, 1)
    assert (rows["rtnl_mutex"]["lock_addrs"], rows["rtnl_mutex"]["lock_classes"]) == (1, None)
    assert (rows["unresolved (wq_completion)events"]["lock_addrs"],
            rows["unresolved (wq_completion)events"]["lock_classes"]) == (None, 1)


def test_top_locks_by_wait_and_limit(con):
    rows = q(con, "top-locks", runtime="fc", mode="coldstart", by="wait", limit=3)
    assert [(r["object"], r["wait_ms"]) for r in rows] == [
        ("rtnl_mutex", 9.0), ("mm_struct.mmap_lock", 3.5), ("dentry.d_lockref.lock", 0.07)]
    rows = q(con, "top-locks", limit=2)
    assert [(r["runtime"], r["mode"], r["object"], r["events"]) for r in rows] == [
        ("fc", "coldstart", "mm_struct.mmap_lock", 38), ("fc", "coldstart", "dentry.d_lockref.lock", 7),
        ("fc", "warmup", "mm_struct.mmap_lock", 2),
        ("runc", "coldstart", "mm_struct.mmap_lock", 8), ("runc", "coldstart", "rtnl_mutex", 1)]


def test_top_locks_rejects_bad_by(con):
    with pytest.raises(CatalogError, match=r"^top-locks: --by must be one of events, acquisitions, "
                                           r"contentions, wait, not 'size'$"):
        q(con, "top-locks", by="size")
    # the installed macro (duckdb shell, no lima-query to check the header) refuses it in SQL
    with pytest.raises(duckdb.Error, match="--by must be events, acquisitions, contentions or wait"):
        con.execute("SELECT * FROM top_locks(by := 'size')").fetchall()


def test_lock_rates_mean_and_median_over_runs(con):
    rows = {r["object"]: r for r in q(con, "lock-rates", runtime="fc", mode="coldstart", limit=None)}
    mm = rows["mm_struct.mmap_lock"]  # r1 15/2 = 7.5/s, r4 23/2 = 11.5/s
    assert (mm["n_runs"], mm["runs_seen"], mm["mean_per_s"], mm["median_per_s"], mm["min_per_s"],
            mm["max_per_s"]) == (2, 2, 9.5, 9.5, 7.5, 11.5)
    de = rows["dentry.d_lockref.lock"]  # r1 7/2 = 3.5/s, absent from r4 = 0
    assert (de["runs_seen"], de["mean_per_s"], de["median_per_s"], de["min_per_s"]) == (1, 1.75, 1.75, 0.0)
    runc = q(con, "lock-rates", runtime="runc")
    assert [(r["object"], r["mean_per_s"]) for r in runc] == [("mm_struct.mmap_lock", 2.0),
                                                             ("rtnl_mutex", 0.25)]


def test_shared_and_unique(con):
    rows = q(con, "shared-locks")
    assert [(r["object"], r["runtimes"], r["max_tenants_in_a_run"], r["shared_by"], r["events"],
             r["events_by_runtime"]) for r in rows] == [
        ("mm_struct.mmap_lock", ["fc", "runc"], 2, "runtimes+tenants", 48, "fc:40, runc:8"),
        ("rtnl_mutex", ["fc", "runc"], 1, "runtimes", 4, "fc:3, runc:1")]
    assert q(con, "shared-locks", mode="warmup") == []
    assert q(con, "unique-locks", runtime="runc") == []
    fc = q(con, "unique-locks", runtime="fc", limit=2)
    assert [(r["object"], r["events"]) for r in fc] == [("dentry.d_lockref.lock", 7),
                                                      ("wait_queue_head.lock", 6)]


def test_hot_locks_by_event_or_wait_share(con):
    rows = q(con, "hot-locks", runtime="fc", mode="coldstart", min_share=0.1)
    # mmap_lock 38/72 of the events; rtnl_mutex only 3/72 but 9 of the 12.57 ms of wait
    assert [(r["object"], r["event_share"], r["wait_share"]) for r in rows] == [
        ("mm_struct.mmap_lock", round(38 / 72, 4), round(3.5 / 12.57, 4)),
        ("rtnl_mutex", round(3 / 72, 4), round(9 / 12.57, 4))]


def test_runtime_summary(con):
    rows = {(r["runtime"], r["mode"]): r for r in q(con, "runtime-summary")}
    fc = rows[("fc", "coldstart")]
    assert (fc["runs"], fc["events"], fc["events_per_s"], fc["wait_ms"]) == (2, 72, 18.0, 12.57)
    # addresses: r1's 10 rows (0xffff0000..9), r4's stack row 0xffff000d and init_mm+0x70 row 0xffff0011;
    # classes &mm->mmap_lock#2, &p->lock, (wq_completion)events
    assert (fc["lock_addrs"], fc["lock_classes"]) == (12, 3)
    # resolved: mmap 38, dentry 7, wq head 6, x_lock 4, rtnl 3 = 58 of 72
    assert fc["resolved_share"] == round(58 / 72, 4)
    assert (rows[("runc", "coldstart")]["events"], rows[("runc", "coldstart")]["events_per_s"]) == (9, 2.25)


def test_mode_compare(con):
    rows = {r["object"]: r for r in q(con, "mode-compare", runtime="fc")}
    mm = rows["mm_struct.mmap_lock"]
    assert (mm["runs_a"], mm["runs_b"], mm["per_run_a"], mm["per_run_b"], mm["difference"], mm["ratio"]) == \
        (2, 1, 19.0, 2.0, 17.0, 9.5)
    rt = rows["rtnl_mutex"]
    assert (rt["per_run_a"], rt["per_run_b"], rt["ratio"]) == (1.5, 0.0, None)


def test_workload_sensitivity(db, tmp_path):
    path = tmp_path / "ws.duckdb"
    shutil.copy(db, path)
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO trace_runs (run_id, runtime, workload, mode, backend, duration_s, source) "
                "VALUES ('r5', 'fc', 'net', 'coldstart', 'contention', 1.0, 'lima-trace')")
    con.execute("INSERT INTO stack_frames (run_id, stack_id, depth, symbol) "
                "SELECT 'r5', stack_id, depth, symbol FROM stack_frames WHERE run_id = 'r1' AND stack_id = 3")
    con.execute("INSERT INTO lock_events (run_id, lock_addr, stack_id, count) VALUES ('r5', 99, 3, 4)")
    rows = {r["object"]: r
            for r in q(con, "workload-sensitivity", runtime="fc", mode="coldstart", limit=None)}
    con.close()
    # rtnl_mutex per run: mmap 3/2 = 1.5, net 4/1 = 4: mean 2.75, stddev 1.25, cv 0.455
    rt = rows["rtnl_mutex"]
    assert (rt["workloads"], rt["workloads_seen"], rt["min_per_run"], rt["max_per_run"], rt["cv"],
            rt["per_run_by_workload"]) == (2, 2, 1.5, 4.0, 0.455, "mmap:1.5, net:4.0")
    mm = rows["mm_struct.mmap_lock"]  # mmap 38/2 = 19, net 0: cv 1
    assert (mm["workloads_seen"], mm["mean_per_run"], mm["cv"]) == (1, 9.5, 1.0)


def test_object_summary(con):
    rows = {r["struct_type"]: r for r in q(con, "object-summary", runtime="fc")}
    mm = rows["mm_struct"]
    assert (mm["objects"], mm["events"], mm["runs"]) == (1, 40, 3)
    assert (rows["(global locks)"]["fields_or_symbols"], rows["(global locks)"]["events"]) == \
        (["rtnl_mutex", "x_lock"], 7)
    assert (rows["(ambiguous)"]["objects"], rows["(ambiguous)"]["events"]) == (3, 9)
    assert (rows["(unresolved)"]["objects"], rows["(unresolved)"]["events"]) == (4, 5)


def test_timeline(con):
    rows = q(con, "timeline", run="r1", interval_ms=1000)
    assert [(r["t_s"], r["object"], r["events"], r["wait_ms"]) for r in rows] == [
        (0.0, "mm_struct.mmap_lock", 2, 0.0), (1.0, "rtnl_mutex", 1, 0.0)]
    rows = q(con, "timeline", run="r1", interval_ms=500)
    assert [(r["t_s"], r["events"]) for r in rows] == [(0.0, 1), (0.5, 1), (1.0, 1)]


def test_injection_string_is_just_a_runtime(db, capsys):
    con = duckdb.connect(str(db))
    for name in ("top-locks", "lock-objects", "shared-locks", "lock-rates", "runtime-summary"):
        with pytest.raises(CatalogError, match="--runtime must be a value of trace_runs.runtime"):
            q(con, name, runtime=INJECTION)
    assert con.execute("SELECT * FROM top_locks(runtime := ?)", [INJECTION]).fetchall() == []
    assert con.execute("SELECT count(*) FROM trace_runs").fetchone()[0] == 4
    con.close()
    assert main(["top-locks", "--runtime", INJECTION, "--db", str(db), "--format", "json"]) == 2
    assert capsys.readouterr().err.startswith(
        "lima-query: top-locks: --runtime must be a value of trace_runs.runtime in this database (fc, runc), "
        "not \"fc'; DROP TABLE trace_runs; --\"")
    con = duckdb.connect(str(db))
    assert con.execute("SELECT count(*) FROM trace_runs").fetchone()[0] == 4
    con.close()


def test_views_and_macros_equal_the_query_files(con):
    """The installed view (all parameters NULL) and macro (given parameters) return the CLI's rows."""
    for name, qf in load_catalog().items():
        if qf.kind == "view" or any(p.required for p in qf.params):
            continue
        nulls = {p.name: None for p in qf.params}
        direct = con.execute(qf.sql, nulls).fetchall() if nulls else con.execute(qf.sql).fetchall()
        view = con.execute(f"SELECT * FROM {qf.sql_name}").fetchall()
        assert sorted(map(repr, view)) == sorted(map(repr, direct)), name
        given = {p.name: v for p, v in ((p, {"runtime": "fc", "limit": 3, "mode": "coldstart"}.get(p.name))
                                        for p in qf.params) if v is not None}
        if not given:
            continue
        cols, rows = run_query(con, qf, given)
        args = ", ".join(f'"{k}" := ${k}' for k in given)
        macro = con.execute(f"SELECT * FROM {qf.sql_name}({args})", given).fetchall()
        assert sorted(map(repr, macro)) == sorted(map(repr, rows)), name
        assert rows, f"{name} returned no rows for {given}: the comparison would prove nothing"


def test_duckdb_shell_answers_without_lima(db):
    shell = shutil.which("duckdb", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert shell, "the duckdb shell (duckdb-cli, pinned in pyproject) is missing from the venv"
    out = subprocess.run([shell, "-readonly", "-csv", str(db), "-c",
                          "SELECT object, events FROM top_locks WHERE runtime = 'fc' AND mode = 'coldstart' "
                          "ORDER BY events DESC LIMIT 2"], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["object,events", "mm_struct.mmap_lock,38", "dentry.d_lockref.lock,7"]


def test_list_help_and_errors(db, capsys):
    assert main(["--list", "--all", "--format", "csv"]) == 0
    listed = capsys.readouterr().out
    for name in load_catalog():
        assert f"\n{name}," in listed
    assert main(["top-locks", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--by VARCHAR" in out and "queries/top-locks.sql" in out
    assert main(["top-lock", "--db", str(db)]) == 2
    assert "unknown query 'top-lock'; did you mean top-locks" in capsys.readouterr().err
    assert main(["top-locks", "--runtim", "fc", "--db", str(db)]) == 2
    assert "unknown parameter --runtim; did you mean --runtime, --run?" in capsys.readouterr().err
    assert main(["top-locks", "--limit", "ten", "--db", str(db)]) == 2
    assert capsys.readouterr().err == "lima-query: top-locks: --limit must be an INTEGER >= 1, not 'ten'\n"
    assert main(["top-locks", "--by", "size", "--db", str(db)]) == 2
    assert capsys.readouterr().err == ("lima-query: top-locks: --by must be one of events, acquisitions, "
                                       "contentions, wait, not 'size'\n")


def test_output_formats(tmp_path, capsys):
    cols, rows = ["object", "count", "cands"], [("a_b", 3, ["x", "y"]), ("c|d", None, None)]
    emit(cols, rows, "json")
    assert json.loads(capsys.readouterr().out) == [{"object": "a_b", "count": 3, "cands": ["x", "y"]},
                                                   {"object": "c|d", "count": None, "cands": None}]
    emit(cols, rows, "csv")
    assert capsys.readouterr().out == 'object,count,cands\na_b,3,"x, y"\nc|d,,\n'
    emit(cols, rows, "markdown")
    assert capsys.readouterr().out.splitlines()[3] == r"| c\|d |  |  |"
    emit(cols, rows, "latex")
    assert r"a\_b & 3 & x, y \\" in capsys.readouterr().out
    emit(cols, rows, "parquet", tmp_path / "o.parquet")
    back = duckdb.sql(f"SELECT * FROM '{tmp_path / 'o.parquet'}'").fetchall()
    assert back == [("a_b", 3, ["x", "y"]), ("c|d", None, None)]


def test_mode_compare_leaves_out_a_group_missing_a_mode(db, capsys):
    """runc ran mmap in coldstart only (r2): no runc row, rather than runs_b/per_run_b/difference NULL."""
    assert main(["mode-compare", "--db", str(db), "--format", "json"]) == 0
    assert {r["runtime"] for r in json.loads(capsys.readouterr().out)} == {"fc"}
    assert main(["mode-compare", "--runtime", "runc", "--db", str(db), "--format", "csv"]) == 0
    assert capsys.readouterr().err == (
        "lima-query: mode-compare: no runtime x workload (of --runtime runc, --workload NULL) has runs in "
        "both modes coldstart and warmup: nothing to compare\n")


def test_list_shows_user_queries_first_and_internal_layers_only_with_all(capsys, monkeypatch):
    catalog = load_catalog()
    assert main(["--list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["query"] for r in listed] == sorted(n for n, q in catalog.items() if q.kind == "query")
    assert "map_stacks" not in {r["query"] for r in listed} and "top-locks" in {r["query"] for r in listed}
    assert main(["--list", "--all", "--format", "json"]) == 0
    kinds = [r["kind"] for r in json.loads(capsys.readouterr().out)]
    first_internal = next(i for i, k in enumerate(kinds) if k != "query")
    assert set(kinds[:first_internal]) == {"query"}
    assert set(kinds[first_internal:]) == {"internal view", "internal layer"}
    # the table folds descriptions instead of cutting them short
    monkeypatch.setenv("COLUMNS", "120")
    assert main(["--list"]) == 0
    out = capsys.readouterr()
    assert "..." not in out.out and "…" not in out.out
    words = " ".join(line.split("│")[3].strip() for line in out.out.splitlines() if line.count("│") == 5)
    assert catalog["struct-locks"].description in " ".join(words.split())
    assert "internal layers" in out.err and "--list --all" in out.err


def test_shared_locks_names_tenants_by_cgroup_path(con):
    """tenants lists the cgroups that locked an object, busiest first, by the path lima-trace recorded in
    trace_cgroups (r1: cgroup 100 took mm_struct.mmap_lock 10 times, cgroup 200 5 times) or by id."""
    con.execute("INSERT INTO trace_cgroups VALUES ('r1', 100, '/tenant-a')")
    try:
        rows = {r["object"]: r for r in q(con, "shared-locks")}
    finally:
        con.execute("DELETE FROM trace_cgroups")
    tenants = rows["mm_struct.mmap_lock"]["tenants"].split(", ")
    assert tenants[0] == "fc:/tenant-a", tenants
    assert "fc:cgroup 200" in tenants, tenants
    assert tenants.index("fc:/tenant-a") < tenants.index("fc:cgroup 200")
