"""lima-import: LIMA JSON traces (array and JSON lines) and /proc/lock_stat dumps, all or nothing per file."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
from lima.db import connect
from lima.queries import install_views
from lima.queries.catalog import load_catalog
from lima.queries.cli import run_query
from lima.tracer.importer import ImportErrorAt, import_file, main

TRACES = Path(__file__).parent / "fixtures" / "traces"
INDEX_ROWS = (TRACES / "index_rows.sql").read_text()


@pytest.fixture()
def con(tmp_path):
    c = connect(tmp_path / "imp.duckdb")
    c.execute(INDEX_ROWS)
    yield c
    c.close()


def counts(con):
    return tuple(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("trace_runs", "stack_frames", "lock_events", "trace_events"))


def test_lima_json_array(con):
    r = import_file(con, TRACES / "fc_mmap.json", runtime="fc", workload="mmap", mode="coldstart",
                    run_id="f1")
    # 4 records; the third names two locks: 5 events; records 1 and 2 share a stack: 3 stacks
    assert (r.records, r.events, r.stacks, r.trace_events, r.ignored_keys) == (4, 5, 3, 5, ["vm"])
    run = con.execute("SELECT backend, source, duration_s, events_seen, notes FROM trace_runs").fetchone()
    assert run == ("import-lima-json", "lima-import", 2.0, 5, "ignored keys: vm")
    frames = con.execute("SELECT depth, address, symbol, \"offset\", module FROM stack_frames "
                         "WHERE stack_id = 3 ORDER BY depth").fetchall()
    assert frames == [(0, None, "_raw_spin_lock", 0x17, None), (1, None, "lockref_get_not_zero", 0x2e, None),
                      (2, None, "dget_parent", 0x3c, None), (3, 0xffffffffc0a01234, None, None, None),
                      (4, None, "ext4_foo", 0x10, "ext4")]
    ev = con.execute("SELECT lock_name, lock_addr, stack_id, pid, comm, count, event FROM lock_events "
                     "ORDER BY count DESC, lock_name NULLS LAST").fetchall()
    assert ev == [("&mm->mmap_lock", None, 1, 1201, "firecracker", 2, "acquire"),
                  ("&p->lock", None, 2, 1202, "fc_vcpu 0", 1, "acquire"),
                  ("rtnl_mutex", None, 2, 1202, "fc_vcpu 0", 1, "acquire"),
                  (None, 0xffff888104c3d0a8, 3, 1201, "firecracker", 1, "acquire")]
    ts = con.execute("SELECT min(ts_ns), max(ts_ns) FROM trace_events").fetchone()
    assert ts == (1000 * 10**9, 1002 * 10**9)


def test_imported_locks_map_to_objects(con):
    import_file(con, TRACES / "fc_mmap.json", runtime="fc", workload="mmap", mode="coldstart", run_id="f1")
    install_views(con)
    rows = con.execute("SELECT lock, object, status, method, site_function FROM lock_event_objects "
                       "ORDER BY lock").fetchall()
    assert rows == [
        ("&mm->mmap_lock", "mm_struct.mmap_lock", "resolved", "lockdep-class", "vm_mmap_pgoff"),
        ("&p->lock", None, "ambiguous", "lockdep-class", "rtnl_lock"),
        ("0xffff888104c3d0a8", "dentry.d_lockref.lock", "resolved", "stack-site/direct", "dget_parent"),
        ("rtnl_mutex", "rtnl_mutex", "resolved", "lockdep-class", "rtnl_lock"),
    ]


def test_json_lines_and_tenants(con):
    r = import_file(con, TRACES / "runc_mmap.jsonl", runtime="runc", workload="mmap", mode="coldstart")
    assert (r.records, r.events, r.stacks) == (3, 3, 2)
    assert r.run_id.startswith("runc-mmap-coldstart-")
    import_file(con, TRACES / "fc_mmap.json", runtime="fc", workload="mmap", mode="coldstart")
    install_views(con)
    cols, rows = run_query(con, load_catalog()["shared-locks"])
    got = {r[0]: dict(zip(cols, r, strict=True)) for r in rows}
    # mmap_lock: fc 2 events, runc 2 (cgroups 7001 and 7002); rtnl_mutex: fc 1, runc 1
    assert set(got) == {"mm_struct.mmap_lock", "rtnl_mutex"}
    assert got["mm_struct.mmap_lock"]["events_by_runtime"] in ("fc:2, runc:2", "runc:2, fc:2")
    assert got["mm_struct.mmap_lock"]["max_tenants_in_a_run"] == 2
    assert got["mm_struct.mmap_lock"]["shared_by"] == "runtimes+tenants"
    assert got["rtnl_mutex"]["shared_by"] == "runtimes"


def test_malformed_record_leaves_nothing(con):
    before = counts(con)
    with pytest.raises(ImportErrorAt) as e:
        import_file(con, TRACES / "bad_line3.jsonl", runtime="fc", workload="w", mode="coldstart")
    assert str(e.value).endswith("bad_line3.jsonl:3: \"locks\" must be a non-empty list of lock names or "
                                 "addresses")
    assert counts(con) == before


def test_bad_frame_and_bad_json(con, tmp_path):
    f = tmp_path / "t.jsonl"
    f.write_text('{"locks": ["a"], "kernel_stack": ["ok+0x1/0x2 [kernel]"]}\n'
                 '{"locks": ["a"], "kernel_stack": ["not a frame at all"]}\n')
    with pytest.raises(ImportErrorAt, match=r"t.jsonl:2: kernel_stack frame 'not a frame at all'"):
        import_file(con, f, runtime="fc", workload="w", mode="warmup")
    f.write_text('{"locks": ["a"], "kernel_stack": []}\n{"locks": ["a"], \n')
    with pytest.raises(ImportErrorAt, match=r"t.jsonl:2: not valid JSON"):
        import_file(con, f, runtime="fc", workload="w", mode="warmup")
    assert counts(con) == (0, 0, 0, 0)


def test_negative_numbers_and_bad_durations_are_refused(con, tmp_path):
    f = tmp_path / "t.jsonl"
    f.write_text('{"locks": ["a"], "kernel_stack": [], "wait_ns": 5}\n'
                 '{"locks": ["a"], "kernel_stack": [], "wait_ns": -4}\n')
    with pytest.raises(ImportErrorAt, match=r"t.jsonl:2: wait_ns must be a non-negative integer, not -4"):
        import_file(con, f, runtime="fc", workload="w", mode="warmup")
    f.write_text('{"locks": ["a"], "kernel_stack": []}\n')
    for bad in (-5.0, 0.0, float("nan")):
        with pytest.raises(ImportErrorAt, match="--duration must be a number of seconds > 0"):
            import_file(con, f, runtime="fc", workload="w", mode="warmup", duration_s=bad)
    assert counts(con) == (0, 0, 0, 0)


def test_second_import_refused_unless_forced(con):
    import_file(con, TRACES / "runc_mmap.jsonl", runtime="runc", workload="mmap", mode="coldstart",
                run_id="a")
    with pytest.raises(ImportErrorAt, match="already imported as run a"):
        import_file(con, TRACES / "runc_mmap.jsonl", runtime="runc", workload="mmap", mode="coldstart")
    r = import_file(con, TRACES / "runc_mmap.jsonl", runtime="runc", workload="mmap", mode="coldstart",
                    force=True)
    assert con.execute("SELECT count(*) FROM trace_runs").fetchone()[0] == 2
    assert r.run_id != "a"


def test_lock_stat(con):
    r = import_file(con, TRACES / "host_lock_stat.txt", runtime="host", workload="boot", mode="warmup",
                    run_id="ls", duration_s=10.0)
    assert (r.fmt, r.records) == ("lock-stat", 4)
    rows = con.execute("SELECT lock_name, mode, event, count, wait_ns_total, wait_ns_max FROM lock_events "
                       "ORDER BY lock_name, mode NULLS FIRST, event").fetchall()
    assert rows == [
        ("&mm->mmap_lock", "read", "acquire", 5000, None, None),
        ("&mm->mmap_lock", "read", "contended", 20, 100_000, 50_000),
        ("&mm->mmap_lock", "write", "acquire", 22093, None, None),
        ("&mm->mmap_lock", "write", "contended", 41, 633_190, 107_390),
        ("&p->lock", None, "acquire", 64, None, None),
        ("rtnl_mutex", None, "acquire", 150, None, None),
        ("rtnl_mutex", None, "contended", 3, 12_250, 9_500),
    ]
    install_views(con)
    cols, got = run_query(con, load_catalog()["top-locks"], {"event": "acquire"})
    assert [(x[cols.index("object")], x[cols.index("events")]) for x in got] == [
        ("mm_struct.mmap_lock", 27093), ("rtnl_mutex", 150), ("ambiguous(bar.lock | foo.lock)", 64)]
    cols, got = run_query(con, load_catalog()["lock-rates"], {"event": "contended"})
    assert [(x[cols.index("object")], x[cols.index("mean_per_s")]) for x in got] == [
        ("mm_struct.mmap_lock", 6.1), ("rtnl_mutex", 0.3)]


def test_lock_stat_bad_line(con, tmp_path):
    text = (TRACES / "host_lock_stat.txt").read_text().replace("rtnl_mutex:", "rtnl_mutex;", 1)
    f = tmp_path / "ls.txt"
    f.write_text(text)
    with pytest.raises(ImportErrorAt, match=r"ls.txt:13: not a lock_stat line"):
        import_file(con, f, runtime="host", workload="w", mode="warmup")
    assert counts(con) == (0, 0, 0, 0)


def test_cli_exit_codes(tmp_path, capsys):
    db = str(tmp_path / "c.duckdb")
    assert main([str(tmp_path / "missing.json"), "--runtime", "fc", "--workload", "w", "--mode", "warmup",
                 "--db", db]) == 2
    assert "missing.json: no such file" in capsys.readouterr().err
    assert not (tmp_path / "c.duckdb").exists()
    assert main([str(TRACES / "bad_line3.jsonl"), "--runtime", "fc", "--workload", "w", "--mode", "warmup",
                 "--db", db]) == 2
    assert "bad_line3.jsonl:3:" in capsys.readouterr().err
    assert main([str(TRACES / "runc_mmap.jsonl"), "--runtime", "runc", "--workload", "w", "--mode", "warmup",
                 "--db", db, "--run-id", "x"]) == 0
    assert "as run x (lima-json): 3 records, 3 events" in capsys.readouterr().out


def test_cli_refuses_a_directory_and_an_unknown_mode(tmp_path, capsys):
    db = str(tmp_path / "c.duckdb")
    assert main([str(tmp_path), "--runtime", "fc", "--workload", "w", "--mode", "warmup", "--db", db]) == 2
    err = capsys.readouterr().err
    assert err == f"lima-import: {tmp_path}: is a directory, not a trace file\n"
    assert main([str(TRACES / "runc_mmap.jsonl"), "--runtime", "runc", "--workload", "w", "--mode", "weird",
                 "--db", db]) == 2
    assert capsys.readouterr().err == "lima-import: --mode 'weird': must be coldstart or warmup\n"
    assert not (tmp_path / "c.duckdb").exists()


def test_import_file_refuses_an_unknown_mode(con):
    with pytest.raises(ImportErrorAt, match="--mode 'hot': must be coldstart or warmup"):
        import_file(con, TRACES / "runc_mmap.jsonl", runtime="runc", workload="w", mode="hot")
    assert counts(con) == (0, 0, 0, 0)


def test_help_lists_every_key_the_importer_reads(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    # every key of the fixtures' records is described (fc_mmap.json: pid, comm, cgroup_id, timestamp...)
    for key in ("locks", "kernel_stack", "pid", "tid", "tgid", "comm", "cgroup_id", "cpu", "lock_type",
                "mode", "wait_ns", "event", "timestamp", "ts_ns"):
        assert re.search(rf"(?<![\w-]){key}(?![\w-])", out.split("keys of a lima-json record:")[1]), key
    assert "--mode coldstart|warmup" in out


_STACK = '"kernel_stack": ["a+0x1 [kernel]"]'


@pytest.mark.parametrize(("extra", "message"), [
    ('"wait_ns": 99999999999999999999999', "wait_ns 99999999999999999999999 is too large"),
    ('"pid": 18446744073709551616', "pid 18446744073709551616 is too large"),
    ('"timestamp": Infinity', "timestamp must be a finite number, not inf"),
    ('"timestamp": NaN', "timestamp must be a finite number, not nan"),
    ('"timestamp": 1e300', "timestamp 1e+300 is too large"),
    ('"ts_ns": 99999999999999999999999', "ts_ns 99999999999999999999999 is too large"),
])
def test_out_of_range_values_are_refused_with_their_line(tmp_path, capsys, extra, message):
    f = tmp_path / "t.jsonl"
    f.write_text(f'{{"locks": ["a"], {_STACK}}}\n{{"locks": ["a"], {_STACK}, {extra}}}\n')
    db = tmp_path / "c.duckdb"
    assert main([str(f), "--runtime", "fc", "--workload", "w", "--mode", "warmup", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    # one line naming the file and line, no traceback
    assert err.startswith(f"lima-import: {f}:2: {message}") and err.count("\n") == 1, err
    with connect(db) as c:
        assert counts(c) == (0, 0, 0, 0)


def test_out_of_range_frame_offset_and_wait_total(con, tmp_path):
    f = tmp_path / "t.jsonl"
    f.write_text('{"locks": ["a"], "kernel_stack": ["f+0xffffffffffffffffffffffff"]}\n')
    with pytest.raises(ImportErrorAt, match=r"t.jsonl:1: kernel_stack frame 'f\+0xf+': offset is too large"):
        import_file(con, f, runtime="fc", workload="w", mode="warmup")
    # each wait fits UBIGINT, their sum in the aggregated row does not
    f.write_text(f'{{"locks": ["a"], {_STACK}, "wait_ns": {2**63}}}\n' * 2)
    with pytest.raises(ImportErrorAt, match=r"t.jsonl:2: total wait_ns of lock 'a'"):
        import_file(con, f, runtime="fc", workload="w", mode="warmup")
    assert counts(con) == (0, 0, 0, 0)


def test_lock_stat_out_of_range_count(con, tmp_path):
    text = (TRACES / "host_lock_stat.txt").read_text()
    text = re.sub(r"(rtnl_mutex:\s+\d+\s+)3 ", r"\g<1>99999999999999999999 ", text)
    f = tmp_path / "ls.txt"
    f.write_text(text)
    with pytest.raises(ImportErrorAt, match=r"ls.txt:13: contentions 99999999999999999999 is too large"):
        import_file(con, f, runtime="host", workload="w", mode="warmup")
    assert counts(con) == (0, 0, 0, 0)


class _Conn:
    """A connection that forwards to a real one, counts rows sent to the database, and can raise
    (as DuckDB does on Ctrl-C) at the first statement that contains FAIL_ON."""

    def __init__(self, con, fail_on=None, error=None):
        self.con, self.fail_on, self.error, self.rows_sent = con, fail_on, error, 0

    def execute(self, sql, params=None):
        if self.fail_on and self.fail_on in sql:
            raise self.error
        self.rows_sent += 1
        return self.con.execute(sql, params)

    def executemany(self, sql, rows):
        if self.fail_on and self.fail_on in sql:
            raise self.error
        self.rows_sent += len(rows)
        return self.con.executemany(sql, rows)

    def __getattr__(self, name):
        return getattr(self.con, name)


def test_rows_are_inserted_in_bulk(con, tmp_path):
    f = tmp_path / "big.jsonl"
    f.write_text("".join(f'{{"locks": ["l{i}"], {_STACK}, "pid": {i}, "ts_ns": {i}}}\n' for i in range(3000)))
    spy = _Conn(con)
    r = import_file(spy, f, runtime="fc", workload="w", mode="warmup")
    assert (r.lock_rows, r.trace_events) == (3000, 3000)
    assert counts(con) == (1, 1, 3000, 3000)
    # a statement per table, not per row (executemany took 11 minutes for 400,000 records)
    assert spy.rows_sent < 20
    seen = []
    import_file(con, f, runtime="fc", workload="w", mode="warmup", force=True,
                on_progress=lambda *a: seen.append(a))
    assert seen[0] == ("reading", 0, 3000) and ("reading", 3000, 3000) in seen
    assert seen[-1] == ("writing", 3, 3)


def test_a_failed_bulk_insert_leaves_nothing(con):
    spy = _Conn(con, fail_on="INSERT INTO trace_events", error=duckdb.ConversionException("boom"))
    with pytest.raises(duckdb.ConversionException):
        import_file(spy, TRACES / "fc_mmap.json", runtime="fc", workload="w", mode="warmup")
    assert counts(con) == (0, 0, 0, 0)


@pytest.mark.parametrize("error", [RuntimeError("Query interrupted"), duckdb.InterruptException("INTERRUPT")])
def test_ctrl_c_during_a_query_is_one_line_and_exit_130(tmp_path, capsys, monkeypatch, error):
    from lima.tracer import importer
    db = tmp_path / "c.duckdb"
    real_connect = importer.connect
    monkeypatch.setattr(importer, "connect", lambda path: _Conn(real_connect(path), "INSERT INTO lock_events",
                                                                error))
    assert main([str(TRACES / "fc_mmap.json"), "--runtime", "fc", "--workload", "w", "--mode", "warmup",
                 "--db", str(db)]) == 130
    assert capsys.readouterr().err == "lima-import: interrupted; nothing imported\n"
    with real_connect(db) as c:
        assert counts(c) == (0, 0, 0, 0)


def test_ctrl_c_after_the_commit_says_the_run_is_in(tmp_path, capsys, monkeypatch):
    """The last progress callback runs after the commit: a Ctrl-C there leaves the run imported, and
    lima-import says so (it said "nothing imported")."""
    from contextlib import contextmanager

    from lima.tracer import importer

    @contextmanager
    def bar(_path):
        def show(phase, done, total):
            if (phase, done) == ("writing", total):
                raise KeyboardInterrupt
        yield show
    monkeypatch.setattr(importer, "_progress_bar", bar)
    db = tmp_path / "c.duckdb"
    assert main([str(TRACES / "fc_mmap.json"), "--runtime", "fc", "--workload", "w", "--mode", "warmup",
                 "--run-id", "r1", "--db", str(db)]) == 130
    assert capsys.readouterr().err == \
        "lima-import: interrupted after importing run r1; query views not refreshed\n"
    with connect(db, read_only=True) as c:
        assert c.execute("SELECT count(*) FROM trace_runs WHERE run_id = 'r1'").fetchone()[0] == 1


def test_an_interrupt_after_the_commit_names_the_database(tmp_path):
    from lima.tracer.store import StoredThenInterrupted

    def show(phase, done, total):
        if (phase, done) == ("writing", total):
            raise KeyboardInterrupt
    db = tmp_path / "w.duckdb"
    con = connect(db)
    with pytest.raises(StoredThenInterrupted) as e:
        import_file(con, TRACES / "fc_mmap.json", runtime="fc", workload="w", mode="warmup", run_id="r2",
                    on_progress=show)
    assert (e.value.run_id, e.value.where) == ("r2", str(db))
    con.close()


def test_progress_bar_only_on_a_terminal(tmp_path, monkeypatch):
    import io
    import sys

    from lima.tracer import importer

    class Tty(io.StringIO):
        def isatty(self):
            return True

    db = str(tmp_path / "c.duckdb")
    args = [str(TRACES / "runc_mmap.jsonl"), "--runtime", "runc", "--workload", "w", "--mode", "warmup",
            "--db", db, "--force"]
    monkeypatch.setattr(importer, "PROGRESS_MIN_BYTES", 0)
    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(args) == 0
    assert "writing" in tty.getvalue() or "reading" in tty.getvalue()
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    assert main(args) == 0
    assert pipe.getvalue() == ""
