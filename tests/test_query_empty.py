"""An empty answer says why, one message per cause (the `empty-when:` header lines, then `empty:`).

lock-site and the aggregations run on test_query_mapping's database: do_two (kernel/x.c) acquires three
locks, no_sites_here (kernel/x.c) takes none; runs r1..r4 hold no release event. struct-locks runs on
tests/fixtures/embed_arch: thread_info has a lock in s390's definition only, cpu_stop_work (CONFIG_SMP's,
the first in stop_machine.h) none; that database holds no trace run.
"""

from __future__ import annotations

import pytest
from conftest import FIXTURES, lima_index
from lima.queries.catalog import CatalogError, parse_query_file
from lima.queries.cli import main
from test_query_mapping import build_db


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("empty") / "e.duckdb"
    build_db(path).close()
    return path


@pytest.fixture(scope="module")
def arch_db(tmp_path_factory):
    return lima_index(FIXTURES / "embed_arch", tmp_path_factory.mktemp("empty_arch") / "a.duckdb",
                      timeout=120)


@pytest.fixture(scope="module")
def no_lock_pass_db(tmp_path_factory):
    """embed_arch indexed with --no-lock-pass: functions and structs, every lock table empty."""
    return lima_index(FIXTURES / "embed_arch", tmp_path_factory.mktemp("empty_nlp") / "n.duckdb",
                      (), "--no-lock-pass", timeout=120)


def why(capsys, *argv) -> str:
    """The stderr line of an empty answer (the exit code is 0: no rows is an answer)."""
    assert main([*argv, "--format", "csv"]) == 0
    out = capsys.readouterr()
    assert len(out.out.splitlines()) == 1  # the header only
    return out.err.strip()


def test_lock_site_tells_apart_missing_function_file_and_lockless_function(db, capsys):
    d = ["--db", str(db)]
    assert why(capsys, "lock-site", "--function", "no_such_fn", *d) == (
        "lima-query: lock-site: no function or macro named no_such_fn in the index: check the name, or index "
        "the file that defines it (a static function lives in one file only)")
    assert why(capsys, "lock-site", "--function", "no_sites_here", *d).startswith(
        "lima-query: lock-site: no_sites_here is indexed but takes no lock itself")
    assert why(capsys, "lock-site", "--function", "do_two", "--file", "drivers/", *d).startswith(
        "lima-query: lock-site: no indexed file's path contains 'drivers/'")
    assert why(capsys, "lock-site", "--function", "do_two", "--file", "mm/", *d).startswith(
        "lima-query: lock-site: do_two is indexed, but not in a file whose path contains 'mm/'")
    assert why(capsys, "lock-site", "--function", "do_two", "--op", "release", *d) == (
        "lima-query: lock-site: do_two has lock sites, but none with --op release")


def test_struct_locks_tells_apart_missing_lockless_and_other_arch_structs(arch_db, capsys):
    d = ["--db", str(arch_db)]
    assert why(capsys, "struct-locks", "--struct", "struct no_such", *d).startswith(
        "lima-query: struct-locks: no struct, union or typedef named 'struct no_such' in the index")
    assert why(capsys, "struct-locks", "--struct", "cpu_stop_work", *d).startswith(
        "lima-query: struct-locks: cpu_stop_work is indexed but has no lock member")
    assert why(capsys, "struct-locks", "--struct", "struct thread_info", *d).startswith(
        "lima-query: struct-locks: the definition of struct thread_info read for --arch x86 has no lock "
        "member")
    assert main(["struct-locks", "--struct", "thread_info", "--arch", "s390", *d, "--format", "csv"]) == 0
    assert "thread_info,lock," in capsys.readouterr().out


def test_empty_lock_tables_say_the_lock_pass_has_not_run(no_lock_pass_db, capsys):
    """Without the lock pass, take() (mutex_lock(&mm->context.lock)) is not 'indexed but takes no lock
    itself', nor mm_struct 'indexed but has no lock member'; a missing function is still named so."""
    d = ["--db", str(no_lock_pass_db)]
    said = ("the lock tables are empty: the lock pass has not run on this database (run lima-index without "
            "--no-lock-pass)")
    assert why(capsys, "lock-site", "--function", "take", *d) == f"lima-query: lock-site: {said}"
    assert why(capsys, "struct-locks", "--struct", "mm_struct", *d) == f"lima-query: struct-locks: {said}"
    assert why(capsys, "lock-name", "--name", "&mm->context.lock", *d) == f"lima-query: lock-name: {said}"
    assert why(capsys, "lock-site", "--function", "no_such_fn", *d).startswith(
        "lima-query: lock-site: no function or macro named no_such_fn in the index")


def test_aggregations_say_when_there_is_no_run_or_no_matching_event(db, arch_db, capsys):
    assert why(capsys, "top-locks", "--db", str(arch_db)) == (
        "lima-query: top-locks: no trace runs in this database: record one with lima-trace, or load one with "
        "lima-import")
    assert why(capsys, "shared-locks", "--db", str(arch_db)).startswith(
        "lima-query: shared-locks: no trace runs")
    assert why(capsys, "top-locks", "--runtime", "fc", "--event", "release", "--db", str(db)) == (
        "lima-query: top-locks: no lock event in the runs these filters select (run NULL, runtime fc, "
        "workload NULL, mode NULL) of the kind asked (event release; NULL: every kind but release)")
    assert why(capsys, "shared-locks", "--mode", "warmup", "--db", str(db)).startswith(
        "lima-query: shared-locks: no object is locked under more than one runtime")


def test_empty_when_lines_are_checked_when_the_file_is_read():
    head = "-- name: q\n-- description: d\n-- param: a VARCHAR null  a\n"
    q = parse_query_file(head + "-- empty-when: $a IS NULL | no {a}\nSELECT $a", "q.sql")
    assert q.empty_when == (("$a IS NULL", "no {a}"),)
    with pytest.raises(CatalogError, match=r"q.sql:4: empty-when line must be 'SQL condition \| message'"):
        parse_query_file(head + "-- empty-when: $a IS NULL\nSELECT $a", "q.sql")
    with pytest.raises(CatalogError, match="empty-when uses undeclared parameter"):
        parse_query_file(head + "-- empty-when: $b IS NULL | no\nSELECT $a", "q.sql")
