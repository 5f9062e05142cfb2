"""Mapping views: traced stacks, class names and addresses to objects, on hand-written index and trace rows.

The index rows below stand for what the lock pass writes (lock_sites, lock_wrappers, lock_inits,
global_locks); the stacks are the kallsyms frames a contention trace records. Every expected object is
worked out by hand from these rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lima.db import connect
from lima.queries import install_views
from lima.queries.catalog import load_catalog
from lima.queries.cli import run_query

INDEX_ROWS = (Path(__file__).parent / "fixtures" / "traces" / "index_rows.sql").read_text()

# Stacks: depth 0 innermost. (stack_id, frames)
STACKS = {
    1: ["rwsem_down_write_slowpath", "down_write_killable", "vm_mmap_pgoff", "ksys_mmap_pgoff",
        "do_syscall_64"],
    2: ["native_queued_spin_lock_slowpath", "_raw_spin_lock", "lockref_get_not_zero", "dget_parent",
        "path_lookupat"],
    3: ["__mutex_lock.constprop.0", "__mutex_lock_slowpath", "mutex_lock", "rtnl_lock", "dev_ioctl"],
    4: ["_raw_spin_lock", "do_two", "sys_x"],
    5: ["_raw_spin_lock", "do_inl", "sys_y"],
    6: ["_raw_spin_lock", "not_indexed_fn", "sys_z"],
    7: ["queued_spin_lock_slowpath", "_raw_spin_lock"],
    8: ["_raw_spin_lock_irqsave", "do_two", "sys_x"],
    9: ["__mutex_lock.constprop.0", "__mutex_lock_slowpath", "mutex_lock", "do_param", "no_sites_here"],
    10: ["_raw_spin_lock", "lockref_get_not_zero", "no_sites_here"],
    11: ["_raw_spin_lock", "lockref_get_not_zero", "caller_k"],
}

RUNS = [
    # run_id, runtime, workload, mode, duration_s
    ("r1", "fc", "mmap", "coldstart", 2.0),
    ("r2", "runc", "mmap", "coldstart", 4.0),
    ("r3", "fc", "mmap", "warmup", 1.0),
    ("r4", "fc", "mmap", "coldstart", 2.0),
]

# run_id, stack_id, count, wait_ns_total, cgroup_id, lock_name, lock_symbol
EVENTS = [
    ("r1", 1, 10, 1_000_000, 100, None, None),
    ("r1", 1, 5, 500_000, 200, None, None),
    ("r1", 2, 7, 70_000, 100, None, None),
    ("r1", 3, 3, 9_000_000, 100, None, None),
    ("r1", 4, 2, 0, 100, None, None),
    ("r1", 5, 4, 0, 100, None, None),
    ("r1", 6, 1, 0, 100, None, None),
    ("r1", 7, 1, 0, 100, None, None),
    ("r1", 8, 6, 0, 100, None, None),
    ("r1", 9, 2, 0, 100, None, None),
    ("r2", 1, 8, 800_000, 300, None, None),
    ("r2", 3, 1, 100_000, 300, None, None),
    ("r3", 1, 2, 200_000, 100, None, None),
    ("r4", 1, 20, 2_000_000, 100, None, None),
    ("r4", None, 3, 0, 100, "&mm->mmap_lock#2", None),
    ("r4", None, 2, 0, 100, "&p->lock", None),
    ("r4", None, 1, 0, 100, "(wq_completion)events", None),
    ("r4", None, 5, 0, 100, None, "init_mm+0x70"),
]


def build_db(path: Path, extra_sql: str = "", stacks: dict | None = None, events: list | None = None):
    """A database holding INDEX_ROWS (and extra_sql) and the runs/stacks/events above (and these), views
    installed."""
    con = connect(path)
    con.execute(INDEX_ROWS)
    if extra_sql:
        con.execute(extra_sql)
    for run_id, runtime, workload, mode, dur in RUNS:
        con.execute("INSERT INTO trace_runs (run_id, runtime, workload, mode, backend, duration_s, source) "
                    "VALUES (?, ?, ?, ?, 'contention', ?, 'lima-trace')",
                    [run_id, runtime, workload, mode, dur])
        for sid, frames in {**STACKS, **(stacks or {})}.items():
            for depth, sym in enumerate(frames):
                name, _, _ = sym.partition("+")
                con.execute("INSERT INTO stack_frames (run_id, stack_id, depth, symbol) VALUES (?, ?, ?, ?)",
                            [run_id, sid, depth, name])
    for i, (run_id, sid, count, wait, cg, name, sym) in enumerate(EVENTS + (events or [])):
        con.execute("INSERT INTO lock_events (run_id, lock_addr, lock_name, lock_symbol, lock_type, "
                    "stack_id, "
                    "pid, comm, cgroup_id, count, wait_ns_total) VALUES (?, ?, ?, ?, ?, ?, 1, 'x', ?, ?, ?)",
                    [run_id, None if name else 0xffff0000 + i, name, sym, "spinlock", sid, cg, count, wait])
    install_views(con)
    return con


@pytest.fixture()
def con(tmp_path):
    c = build_db(tmp_path / "q.duckdb")
    yield c
    c.close()


def stack_map(con, run_id="r1"):
    rows = con.execute("SELECT stack_id, site_function, site_line, object_kind, object, status, method, "
                       "confidence, candidates, reason FROM map_stack_objects_current WHERE run_id = ? "
                       "ORDER BY stack_id",
                       [run_id]).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_stack_through_rwsem_slowpath_and_inlined_wrapper(con):
    # down_write_killable is the entry; vm_mmap_pgoff calls it through mmap_write_lock_killable (via).
    assert stack_map(con)[1][:7] == ("vm_mmap_pgoff", 551, "field", "mm_struct.mmap_lock", "resolved",
                                     "direct", 1.0)


def test_parameter_lock_walks_up_to_the_caller(con):
    # lockref_get_not_zero locks its parameter: dget_parent passes &ret->d_lockref.
    site, line, kind, obj, status, method, conf, _, _ = stack_map(con)[2]
    assert (site, line, kind, obj, status, conf) == ("dget_parent", 951, "field", "dentry.d_lockref.lock",
                                                     "resolved", 0.95)
    walk = con.execute("SELECT walk FROM map_stack_objects_current "
                       "WHERE run_id = 'r1' AND stack_id = 2").fetchone()[0]
    assert walk == ["lockref_get_not_zero", "dget_parent"]


def test_wrapper_whose_caller_has_no_site_keeps_its_own_answer(con):
    # no_sites_here calls lockref_get_not_zero without a lock site: the walk stops, lockref.lock stays
    site, line, kind, obj, status, method, conf, _, reason = stack_map(con)[10]
    assert (site, line, obj, status, conf, reason) == ("lockref_get_not_zero", 118, "lockref.lock",
                                                       "resolved", 0.9, None)


def test_entry_lock_kind_drops_sites_of_another_kind(con):
    # caller_k's call has a spinlock row and a semaphore row (through a WARN path): _raw_spin_lock keeps one
    assert stack_map(con)[11][:5] == ("caller_k", 1003, "field", "dentry.d_lockref.lock", "resolved")


def test_mutex_constprop_suffix_and_global(con):
    assert stack_map(con)[3][:5] == ("rtnl_lock", 75, "global", "rtnl_mutex", "resolved")


def test_same_primitive_twice_is_ambiguous_with_candidates(con):
    site, line, kind, obj, status, _, conf, cands, reason = stack_map(con)[4]
    assert (kind, obj, status) == ("ambiguous", None, "ambiguous")
    assert cands == ["rq.lock", "task_struct.pi_lock"]
    assert conf == 0.5
    assert "2 lock sites in do_two" in reason


def test_entry_frame_narrows_to_the_primitive(con):
    # _raw_spin_lock_irqsave serves spin_lock_irqsave only: one site of do_two.
    assert stack_map(con)[8][:5] == ("do_two", 22, "field", "wait_queue_head.lock", "resolved")


def test_inlined_static_callee(con):
    site, line, kind, obj, status, method, conf, _, _ = stack_map(con)[5]
    assert (site, line, obj, status, method, conf) == ("helper_inline", 32, "x_lock", "resolved",
                                                       "inlined-callee", 0.7)


# 6.1's mm/memory.c, as the 6.1 index has it: do_anonymous_page takes the page-table lock through the macro
# pte_offset_map_lock (line 4170, struct page.ptl); unmap_page_range reaches the same macro through the
# static chain zap_pmd_range > zap_pte_range (line 1415); zap_pud_public stands for a non-static step.
SKEW_SQL = """
INSERT INTO files (file_id, path, status) VALUES (7, 'mm/memory.c', 'ok');
INSERT INTO functions VALUES
  (7340033, 7, 'do_anonymous_page', true, false, 'vm_fault_t', 4130, 4240, NULL),
  (7340034, 7, 'unmap_page_range', false, false, 'void', 1700, 1730, NULL),
  (7340035, 7, 'zap_pmd_range', true, true, 'unsigned long', 1560, 1600, NULL),
  (7340036, 7, 'zap_pte_range', true, false, 'unsigned long', 1400, 1550, NULL),
  (7340037, 7, 'unmap_public', false, false, 'void', 1750, 1760, NULL),
  (7340038, 7, 'zap_pud_public', false, false, 'void', 1770, 1780, NULL);
INSERT INTO calls (file_id, caller_id, caller, callee, kind, callee_expr, line, col, args) VALUES
  (7, 7340034, 'unmap_page_range', 'zap_pmd_range', 'direct', 'zap_pmd_range', 1720, 8, []),
  (7, 7340035, 'zap_pmd_range', 'zap_pte_range', 'direct', 'zap_pte_range', 1590, 8, []),
  (7, 7340037, 'unmap_public', 'zap_pud_public', 'direct', 'zap_pud_public', 1755, 8, []),
  (7, 7340038, 'zap_pud_public', 'zap_pte_range', 'direct', 'zap_pte_range', 1775, 8, []);
INSERT INTO lock_sites (site_id, file_id, function_id, function, line, primitive, op, mode, lock_kind,
                        arg_text, via, object_kind, struct_name, field_path, symbol, confidence, candidates,
                        reason) VALUES
  (70, 7, 7340033, 'do_anonymous_page', 4170, 'pte_offset_map_lock', 'acquire', 'exclusive', 'spinlock',
      '__ptl', 'pte_offset_map_lock>spin_lock', 'field', 'page', 'ptl', NULL, 0.9, NULL, NULL),
  (71, 7, 7340036, 'zap_pte_range', 1415, 'pte_offset_map_lock', 'acquire', 'exclusive', 'spinlock',
      '__ptl', 'pte_offset_map_lock>spin_lock', 'field', 'page', 'ptl', NULL, 0.9, NULL, NULL);
"""


def skew_map(tmp_path, stacks: dict, extra_sql: str = "") -> dict:
    """stack_map of run r1 over the index rows plus SKEW_SQL (and extra_sql), with these stacks added."""
    c = build_db(tmp_path / "s.duckdb", SKEW_SQL + extra_sql, stacks=stacks)
    try:
        return stack_map(c)
    finally:
        c.close()


def test_out_of_line_helper_of_a_newer_kernel_is_the_primitive_it_replaced(tmp_path):
    # 6.5 turned the macro pte_offset_map_lock into the function __pte_offset_map_lock: a 6.18 stack shows
    # that frame, which the 6.1 index has no function for; do_anonymous_page's pte_offset_map_lock is the site
    m = skew_map(tmp_path, {30: ["queued_spin_lock_slowpath", "_raw_spin_lock", "__pte_offset_map_lock",
                                 "do_anonymous_page", "__handle_mm_fault"],
                            31: ["_raw_spin_lock", "__not_a_primitive", "do_anonymous_page"]})
    assert m[30][:7] == ("do_anonymous_page", 4170, "field", "page.ptl", "resolved", "direct", 0.9)
    # a frame not named after a primitive of the index stays the site, unresolved with the reason
    assert m[31][4] == "unresolved"
    assert m[31][-1].startswith("__not_a_primitive is not in the index")


def test_out_of_line_helper_that_the_index_has_stays_a_site(tmp_path):
    # an index of a newer tree has __pte_offset_map_lock as a function: its own sites decide (none here)
    m = skew_map(tmp_path, {30: ["_raw_spin_lock", "__pte_offset_map_lock", "do_anonymous_page"]},
                 "INSERT INTO functions VALUES (7340039, 7, '__pte_offset_map_lock', false, false, "
                 "'pte_t *', 1800, 1820, NULL);")
    assert (m[30][0], m[30][4]) == (None, "unresolved")


def test_static_chain_inlined_into_the_site_function(tmp_path):
    # unmap_page_range > zap_pmd_range (static) > zap_pte_range (static): the site two calls down; through a
    # non-static step (zap_pud_public, a frame of its own when called) nothing is inlined
    m = skew_map(tmp_path, {32: ["_raw_spin_lock", "unmap_page_range", "unmap_vmas"],
                            33: ["_raw_spin_lock", "unmap_public", "unmap_vmas"]})
    assert m[32][:7] == ("zap_pte_range", 1415, "field", "page.ptl", "resolved", "inlined-callee", 0.63)
    assert m[33][4] == "unresolved"


# 6.1's folio_lruvec_lock_irqsave, twice: mm/memcontrol.c:1348 (CONFIG_MEMCG, built by Debian's
# configuration) and the !CONFIG_MEMCG inline of include/linux/memcontrol.h:1323, which the lock pass marks
# not built; 6.1's pcpu_alloc takes the global pcpu_alloc_mutex (mm/percpu.c:1773).
BUILT_SQL = """
INSERT INTO files (file_id, path, status) VALUES (8, 'mm/memcontrol.c', 'ok'),
  (9, 'include/linux/memcontrol.h', 'ok'), (10, 'mm/percpu.c', 'ok');
INSERT INTO functions VALUES
  (8388609, 8, 'folio_lruvec_lock_irqsave', false, false, 'struct lruvec *', 1343, 1352, NULL),
  (9437185, 9, 'folio_lruvec_lock_irqsave', true, true, 'struct lruvec *', 1318, 1326, NULL),
  (10485761, 10, 'pcpu_alloc', true, false, 'void *', 1720, 1900, NULL);
INSERT INTO lock_sites (site_id, file_id, function_id, function, line, primitive, op, mode, lock_kind,
                        arg_text, via, object_kind, struct_name, field_path, symbol, confidence, candidates,
                        reason) VALUES
  (80, 8, 8388609, 'folio_lruvec_lock_irqsave', 1348, 'spin_lock_irqsave', 'acquire', 'exclusive',
      'spinlock', '&lruvec->lru_lock', NULL, 'field', 'lruvec', 'lru_lock', NULL, 1.0, NULL, 'member type'),
  (81, 9, 9437185, 'folio_lruvec_lock_irqsave', 1323, 'spin_lock_irqsave', 'acquire', 'exclusive',
      'spinlock', '&pgdat->__lruvec.lru_lock', NULL, 'field', 'pglist_data', '__lruvec.lru_lock', NULL, 0.2,
      NULL, 'not built with Debian 6.1 amd64 (built in): member type'),
  (82, 10, 10485761, 'pcpu_alloc', 1773, 'mutex_lock', 'acquire', 'exclusive', 'mutex',
      '&pcpu_alloc_mutex', NULL, 'global', NULL, NULL, 'pcpu_alloc_mutex', 1.0, NULL, NULL);
"""


def test_a_site_the_configuration_does_not_build_gives_way(tmp_path):
    c = build_db(tmp_path / "b.duckdb", BUILT_SQL,
                 stacks={40: ["_raw_spin_lock_irqsave", "folio_lruvec_lock_irqsave", "folio_batch_move_lru"]})
    try:
        assert stack_map(c)[40][:5] == ("folio_lruvec_lock_irqsave", 1348, "field", "lruvec.lru_lock",
                                        "resolved")
    finally:
        c.close()


def test_noprof_frame_of_a_newer_kernel_reads_as_the_allocator(tmp_path):
    # 6.10 renamed pcpu_alloc's body pcpu_alloc_noprof; the 6.1 index knows it as pcpu_alloc
    stacks = {41: ["__mutex_lock.constprop.0", "mutex_lock", "pcpu_alloc_noprof", "mm_init"]}
    c = build_db(tmp_path / "b.duckdb", BUILT_SQL, stacks=stacks)
    try:
        assert stack_map(c)[41][:5] == ("pcpu_alloc", 1773, "global", "pcpu_alloc_mutex", "resolved")
    finally:
        c.close()
    # an index that has pcpu_alloc_noprof itself keeps the frame's own name
    c = build_db(tmp_path / "c.duckdb", BUILT_SQL + "INSERT INTO functions VALUES (10485762, 10, "
                 "'pcpu_alloc_noprof', false, false, 'void *', 1720, 1900, NULL);", stacks=stacks)
    try:
        row = c.execute("SELECT taken_in, status FROM map_stack_objects_current WHERE run_id = 'r1' "
                        "AND stack_id = 41").fetchone()
        assert row == ("pcpu_alloc_noprof", "unresolved")
    finally:
        c.close()


def test_a_primitive_stand_in_is_no_inlined_callee(tmp_path):
    # 6.1's alloc_pid takes pidmap_lock with spin_lock_irq (kernel/pid.c:209); a 6.18 stack enters through
    # _raw_spin_lock, which spin_lock_irq does not reach. tools/virtio/linux/spinlock.h:36 defines a
    # user-space static inline spin_lock_irq that calls spin_lock on its parameter: not kernel code that
    # alloc_pid inlines. The same-kind site of alloc_pid answers.
    sql = """
    INSERT INTO lock_primitives VALUES ('spin_lock_irq', 'spinlock', 'acquire', 'exclusive', 'irq', false,
                                        false, 0) ON CONFLICT DO NOTHING;
    INSERT INTO files (file_id, path, status) VALUES (11, 'kernel/pid.c', 'ok'),
      (12, 'tools/virtio/linux/spinlock.h', 'ok');
    INSERT INTO functions VALUES
      (11534337, 11, 'alloc_pid', false, false, 'struct pid *', 160, 290, NULL),
      (12582913, 12, 'spin_lock_irq', true, true, 'void', 36, 39, NULL);
    INSERT INTO calls (file_id, caller_id, caller, callee, kind, callee_expr, line, col, args) VALUES
      (11, 11534337, 'alloc_pid', 'spin_lock_irq', 'direct', 'spin_lock_irq', 209, 2, ['&pidmap_lock']);
    INSERT INTO lock_sites (site_id, file_id, function_id, function, line, primitive, op, mode, lock_kind,
                            arg_text, object_kind, struct_name, field_path, symbol, confidence) VALUES
      (110, 11, 11534337, 'alloc_pid', 209, 'spin_lock_irq', 'acquire', 'exclusive', 'spinlock',
          '&pidmap_lock', 'global', NULL, NULL, 'pidmap_lock', 1.0),
      (120, 12, 12582913, 'spin_lock_irq', 38, 'spin_lock', 'acquire', 'exclusive', 'spinlock', 'lock',
          'param', NULL, NULL, 'lock', 0.9);
    """
    c = build_db(tmp_path / "p.duckdb", sql, stacks={50: ["_raw_spin_lock", "alloc_pid", "copy_process"]})
    try:
        assert stack_map(c)[50][:6] == ("alloc_pid", 209, "global", "pidmap_lock", "resolved", "kind")
    finally:
        c.close()


def test_unresolved_says_why(con):
    m = stack_map(con)
    assert m[6][3:5] == (None, "unresolved")
    assert m[6][-1] == "not_indexed_fn is not in the index (not indexed, or a symbol the parser does not see)"
    assert m[7][4] == "unresolved"
    assert m[7][-1].startswith("stack has only lock-implementation frames: queued_spin_lock_slowpath")


def test_parameter_with_caller_lacking_a_site(con):
    site, line, kind, obj, status, method, conf, _, reason = stack_map(con)[9]
    assert (site, kind, obj, status) == ("do_param", "param", "param m of do_param", "unresolved")
    assert conf == 0.48  # 0.8 from the site, times 0.6 for the failed walk
    assert reason == "lock is passed in by the caller of do_param; no_sites_here has no lock site calling it"


def test_class_names_and_symbols(con):
    rows = con.execute("SELECT lock, object_kind, object, status, method, candidates FROM lock_event_objects "
                       "WHERE run_id = 'r4' AND stack_id IS NULL ORDER BY lock").fetchall()
    assert rows == [
        ("&mm->mmap_lock#2", "field", "mm_struct.mmap_lock", "resolved", "lockdep-class", None),
        ("&p->lock", "ambiguous", None, "ambiguous", "lockdep-class", ["bar.lock", "foo.lock"]),
        ("(wq_completion)events", "unresolved", None, "unresolved", "none", None),
        ("init_mm+0x70", "ambiguous", None, "ambiguous", "global-symbol",
         ["init_mm.mmap_lock", "init_mm.page_table_lock"]),
    ]
    reason = con.execute("SELECT reason FROM lock_event_objects "
                         "WHERE lock = '(wq_completion)events'").fetchone()[0]
    assert reason == "no lock init site produces class name (wq_completion)events; no stack"


def test_lock_objects_query_rows(con):
    q = load_catalog()["lock-objects"]
    cols, rows = run_query(con, q, {"runtime": "fc", "mode": "coldstart"})
    for need in ("runtime", "workload", "mode", "lock", "lock_type", "site_function", "site_file",
                 "site_line", "object_kind", "struct", "field", "symbol", "confidence", "events",
                 "acquisitions", "contentions"):
        assert need in cols
    recs = [dict(zip(cols, r, strict=True)) for r in rows]
    mm = [r for r in recs if r["object"] == "mm_struct.mmap_lock" and r["site_function"] == "vm_mmap_pgoff"]
    # r1 holds stack 1 at two lock addresses (rows 0, 1), r4 at one: counts 10, 5 and 20
    assert sorted(r["events"] for r in mm) == [5, 10, 20]
    assert all(r["struct"] == "mm_struct" and r["field"] == "mmap_lock" and r["site_file"] == "mm/util.c"
               for r in mm)


def test_a_spinlock_inside_a_resolved_rwsem_is_its_wait_lock(con):
    """A contended spinlock at an rwsem's address + 0x14 (struct rw_semaphore's wait_lock on x86-64, which
    rwsem_down_write_slowpath takes) whose own stack names no site (stack 6) is that rwsem's wait_lock
    when the rwsem is resolved in the same run (stack 1: mm_struct.mmap_lock); + 0x18 is no member of it,
    nor is a spinlock below the rwsem's address (real addresses are unsigned: the difference must not
    overflow)."""
    con.execute("INSERT INTO trace_runs (run_id, runtime, workload, mode, backend, duration_s, source) "
                "VALUES ('r5', 'host', 'mmap', 'coldstart', 'contention', 1.0, 'lima-trace')")
    for sid in (1, 6):
        for depth, sym in enumerate(STACKS[sid]):
            con.execute("INSERT INTO stack_frames (run_id, stack_id, depth, symbol) VALUES ('r5', ?, ?, ?)",
                        [sid, depth, sym])
    for addr, kind, sid in ((0x1000, "rwsem", 1), (0x1014, "spinlock", 6), (0x1018, "spinlock", 6),
                            (0x0FEC, "spinlock", 6)):
        con.execute("INSERT INTO lock_events (run_id, lock_addr, lock_type, stack_id, pid, comm, cgroup_id, "
                    "count, wait_ns_total) VALUES ('r5', ?, ?, ?, 1, 'x', 1, 1, 0)", [addr, kind, sid])
    got = {r[0]: r[1:] for r in con.execute(
        "SELECT lock_addr, object, field, status, method FROM lock_event_objects "
        "WHERE run_id = 'r5'").fetchall()}
    assert got[0x1000] == ("mm_struct.mmap_lock", "mmap_lock", "resolved", "stack-site/direct")
    assert got[0x1014] == ("mm_struct.mmap_lock.wait_lock", "mmap_lock.wait_lock", "resolved", "inner-lock")
    assert got[0x1018][2:] == ("unresolved", "none")
    assert got[0x0FEC][2:] == ("unresolved", "none")


def test_an_unresolved_wait_at_an_address_resolved_in_the_run_is_that_object(con):
    """Stack 6 (not_indexed_fn) names no site; at 0x2000 the run's stack 2 took dentry.d_lockref.lock, so the
    wait there is that lock; at 0x3000 stacks 2 and 8 took two objects (memory reused), which settles
    nothing; at 0x4000 the resolved event is a mutex (stack 3, rtnl_mutex), not the spinlock waited on;
    stack 4 is ambiguous between rq.lock and task_struct.pi_lock: at 0x5000 the run resolved
    wait_queue_head.lock (stack 8), neither of them; at 0x6000 rq.lock (stack 12, wake_x), one of them."""
    con.execute("INSERT INTO lock_sites (site_id, file_id, function_id, function, line, primitive, op, mode, "
                "lock_kind, arg_text, object_kind, struct_name, field_path, confidence) VALUES (90, 5, NULL, "
                "'wake_x', 70, 'spin_lock', 'acquire', 'exclusive', 'spinlock', '&rq->lock', 'field', 'rq', "
                "'lock', 1.0)")
    stacks = {**STACKS, 12: ["_raw_spin_lock", "wake_x", "sys_w"]}
    con.execute("INSERT INTO trace_runs (run_id, runtime, workload, mode, backend, duration_s, source) "
                "VALUES ('r6', 'host', 'fs', 'coldstart', 'contention', 1.0, 'lima-trace')")
    for sid in (2, 3, 4, 6, 8, 12):
        for depth, sym in enumerate(stacks[sid]):
            con.execute("INSERT INTO stack_frames (run_id, stack_id, depth, symbol) VALUES ('r6', ?, ?, ?)",
                        [sid, depth, sym.partition("+")[0]])
    rows = [(0x2000, "spinlock", 2), (0x2000, "spinlock", 6), (0x3000, "spinlock", 2),
            (0x3000, "spinlock", 8), (0x3000, "spinlock", 6), (0x4000, "mutex", 3), (0x4000, "spinlock", 6),
            (0x5000, "spinlock", 8), (0x5000, "spinlock", 4), (0x6000, "spinlock", 12),
            (0x6000, "spinlock", 4)]
    for addr, kind, sid in rows:
        con.execute("INSERT INTO lock_events (run_id, lock_addr, lock_type, stack_id, pid, comm, cgroup_id, "
                    "count, wait_ns_total) VALUES ('r6', ?, ?, ?, 1, 'x', 1, 1, 0)", [addr, kind, sid])
    got = {(r[0], r[1]): r[2:] for r in con.execute(
        "SELECT lock_addr, stack_id, object, status, method FROM lock_event_objects "
        "WHERE run_id = 'r6'").fetchall()}
    assert got[(0x2000, 6)] == ("dentry.d_lockref.lock", "resolved", "same-address")
    assert got[(0x3000, 6)][1:] == ("unresolved", "none")
    assert got[(0x4000, 6)][1:] == ("unresolved", "none")
    assert got[(0x5000, 4)][1:] == ("ambiguous", "stack-site/direct")
    assert got[(0x6000, 4)] == ("rq.lock", "resolved", "same-address")


BUILT_ROWS = (Path(__file__).parent / "fixtures" / "traces" / "built_rows.sql").read_text()


@pytest.mark.parametrize("with_verdicts", [True, False])
def test_candidates_in_files_the_configuration_leaves_out_go(tmp_path, with_verdicts):
    """arch_ioctl has a lock site in x86's file (built) and in arm64's (left out); rtc_lock is a global of
    both (fixtures/traces/built_rows.sql)."""
    # a tree without Kbuild: no verdicts, and no lock site says "not built with"
    sql = BUILT_ROWS if with_verdicts else BUILT_ROWS.split("INSERT INTO kbuild_files")[0].replace(
        "'not built with Debian 6.1 amd64 (built in) (...)'", "NULL")
    stack = ["__mutex_lock.constprop.0", "mutex_lock", "arch_ioctl", "do_syscall_64"]
    c = build_db(tmp_path / "b.duckdb", sql, stacks={20: stack},
                 events=[("r1", 20, 1, 0, 100, None, None), ("r1", None, 1, 0, 100, None, "rtc_lock")])
    try:
        site = stack_map(c)[20]
        sym = c.execute("SELECT object_kind, object, status FROM lock_event_objects "
                        "WHERE run_id = 'r1' AND lock = 'rtc_lock'").fetchone()
    finally:
        c.close()
    if with_verdicts:
        assert site[:5] == ("arch_ioctl", 20, "field", "kvm.lock", "resolved")
        assert sym == ("global", "rtc_lock", "resolved")
    else:   # no kbuild verdicts (a tree without Kbuild): both stay
        assert site[2:5] == ("ambiguous", None, "ambiguous")
        assert sym[2] == "ambiguous"
