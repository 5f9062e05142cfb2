"""Mapping against a real v6.1 index: lima-index on a few files of the tree, then traces imported.

Expected sites and objects read in the v6.1 source: mm/util.c:518 `mmap_write_lock_killable(mm)` in
vm_mmap_pgoff (mm_struct.mmap_lock); net/core/rtnetlink.c:74 `mutex_lock(&rtnl_mutex)` in rtnl_lock, with
`static DEFINE_MUTEX(rtnl_mutex)` at line 70; kernel/sched/core.c:4123
`raw_spin_lock_irqsave(&p->pi_lock, flags)` in try_to_wake_up; include/linux/mmap_lock.h:65
`init_rwsem(&mm->mmap_lock)` names the class &mm->mmap_lock.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import lima_index
from lima.db import connect
from lima.queries import install_views
from lima.queries.catalog import load_catalog
from lima.queries.cli import run_query
from lima.tracer.importer import import_file

TRACES = Path(__file__).parent / "fixtures" / "traces"
FILES = ["mm/util.c", "include/linux/mmap_lock.h", "include/linux/mm_types.h", "net/core/rtnetlink.c",
         "kernel/sched/core.c", "include/linux/sched.h", "include/linux/mutex.h", "include/linux/rwsem.h",
         "include/linux/spinlock.h"]


@pytest.fixture(scope="module")
def real_db(kernel_src, tmp_path_factory):
    path = lima_index(kernel_src, tmp_path_factory.mktemp("real") / "real.duckdb", FILES)
    con = connect(path)
    import_file(con, TRACES / "host_stacks_6_1.jsonl", runtime="host", workload="mix", mode="warmup",
                run_id="stacks")
    import_file(con, TRACES / "fc_mmap.json", runtime="fc", workload="mix", mode="warmup", run_id="names")
    install_views(con)
    yield con
    con.close()


def test_stacks_map_to_real_sites(real_db):
    rows = real_db.execute(
        "SELECT DISTINCT lock, object, site_file, site_line, status, method FROM lock_event_objects "
        "WHERE run_id = 'stacks' ORDER BY lock").fetchall()
    assert rows == [
        ("0xffff8881000c0040", None, None, None, "unresolved", "none"),
        ("0xffff888104c3d0a8", "mm_struct.mmap_lock", "mm/util.c", 518, "resolved",
         "stack-site/direct"),
        ("0xffff88810a8c1b84", "task_struct.pi_lock", "kernel/sched/core.c", 4123, "resolved",
         "stack-site/direct"),
        ("0xffffffff83b3a6e0", "rtnl_mutex", "net/core/rtnetlink.c", 74, "resolved",
         "stack-site/direct"),
    ]
    reason = real_db.execute("SELECT DISTINCT reason FROM lock_event_objects "
                             "WHERE lock = '0xffff8881000c0040'").fetchone()
    assert reason[0] == ("some_driver_fn is not in the index "
                         "(not indexed, or a symbol the parser does not see)")


def test_class_names_map_to_real_init_sites(real_db):
    rows = real_db.execute("SELECT lock_name, object, init_file, init_line FROM map_class_objects "
                           "WHERE lock_name IN ('&mm->mmap_lock', 'rtnl_mutex') ORDER BY 1").fetchall()
    assert rows == [("&mm->mmap_lock", "mm_struct.mmap_lock", "include/linux/mmap_lock.h", 65),
                    ("rtnl_mutex", "rtnl_mutex", "net/core/rtnetlink.c", 70)]


def test_top_locks_and_shared_on_the_real_index(real_db):
    cols, rows = run_query(real_db, load_catalog()["top-locks"], {"runtime": "host"})
    got = [(r[cols.index("object")], r[cols.index("events")], r[cols.index("wait_ms")]) for r in rows]
    assert got[0] == ("mm_struct.mmap_lock", 2, 0.012)
    cols, rows = run_query(real_db, load_catalog()["shared-locks"])
    assert sorted(r[cols.index("object")] for r in rows) == ["mm_struct.mmap_lock", "rtnl_mutex"]
