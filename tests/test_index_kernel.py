"""lima-index on real v6.1 subtrees (kernel/, mm/, fs/ext4/, include/linux/mm_types.h).

Every fact asserted here was read in the 6.1.192 source (file:line in the comments).
"""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

SUBTREES = ["kernel", "mm", "fs/ext4", "include/linux/mm_types.h"]


@pytest.fixture(scope="module")
def con(kernel_src, tmp_path_factory):
    db = tmp_path_factory.mktemp("kernel-index") / "lima.duckdb"
    only = [a for s in SUBTREES for a in ("--only", s)]
    p = subprocess.run([sys.executable, "-m", "lima.analyzer.cli", str(kernel_src), "--db", str(db),
                        *only, "--no-lock-pass", "--quiet"], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    c = duckdb.connect(str(db), read_only=True)
    yield c
    c.close()


def rows(con, sql, *params):
    return con.execute(sql, list(params)).fetchall()


def test_meta_and_files(con):
    meta = dict(rows(con, "SELECT key, value FROM meta"))
    assert meta["kernel_version"] == "6.1.192"  # Makefile: VERSION 6, PATCHLEVEL 1, SUBLEVEL 192
    n = rows(con, "SELECT count(*), count(*) FILTER (status = 'ok') FROM files")[0]
    assert n[0] == n[1] > 650
    assert rows(con, "SELECT count(*) FROM files WHERE path = 'mm/util.c'") == [(1,)]


def test_vm_mmap_pgoff_calls_do_mmap(con):
    # mm/util.c:520  ret = do_mmap(file, addr, len, prot, flag, pgoff, &populate, &uf);
    r = rows(con, "SELECT c.kind, c.line, c.args FROM calls c JOIN files f USING (file_id) "
                  "WHERE f.path = 'mm/util.c' AND c.caller = 'vm_mmap_pgoff' AND c.callee = 'do_mmap'")
    assert r == [("direct", 520, ["file", "addr", "len", "prot", "flag", "pgoff", "&populate", "&uf"])]
    # mm/util.c:518  if (mmap_write_lock_killable(mm))
    assert rows(con, "SELECT line FROM calls WHERE caller = 'vm_mmap_pgoff' "
                     "AND callee = 'mmap_write_lock_killable'") == [(518,)]


def test_mm_struct_fields(con):
    # include/linux/mm_types.h:597  struct rw_semaphore mmap_lock; (in the anonymous struct of mm_struct)
    r = rows(con, """
        WITH RECURSIVE up(struct_id, top) AS (
            SELECT struct_id, struct_id FROM structs WHERE name = 'mm_struct'
            UNION ALL SELECT s.struct_id, up.top FROM structs s JOIN up ON s.parent_struct_id = up.struct_id)
        SELECT f.name, f.type_text, f.base_type, f.pointer_depth, f.line
        FROM fields f JOIN up USING (struct_id)
        WHERE f.name IN ('mmap_lock', 'page_table_lock') ORDER BY f.line""")
    assert r == [("page_table_lock", "spinlock_t", "spinlock_t", 0, 582),
                 ("mmap_lock", "struct rw_semaphore", "struct rw_semaphore", 0, 597)]


def test_clone_syscall_symbols(con):
    # kernel/fork.c:2887-2906  four #if alternatives of SYSCALL_DEFINE5/6(clone, ...), one body
    names = {r[0] for r in rows(con, "SELECT name FROM functions WHERE macro LIKE 'SYSCALL_DEFINE%' "
                                      "AND name LIKE '%sys_clone'")}
    assert names == {"__do_sys_clone", "__se_sys_clone", "__x64_sys_clone", "__ia32_sys_clone"}
    # the body calls kernel_clone(&args) (kernel/fork.c:2919)
    assert rows(con, "SELECT line FROM calls WHERE caller = '__do_sys_clone' AND callee = 'kernel_clone'") \
        == [(2919,)]


def test_ext4_file_operations(con):
    # fs/ext4/file.c:912-930  const struct file_operations ext4_file_operations = { ... };
    r = dict(rows(con, "SELECT field, function FROM fptr_assignments WHERE variable = 'ext4_file_operations' "
                       "AND struct_type = 'struct file_operations'"))
    assert r["read_iter"] == "ext4_file_read_iter"          # :914
    assert r["compat_ioctl"] == "ext4_compat_ioctl"          # :919, inside #ifdef CONFIG_COMPAT
    assert r["fallocate"] == "ext4_fallocate"                # :929
    assert "mmap_supported_flags" not in r                   # :922 = MAP_SYNC, a constant


def test_generic_file_vm_ops(con):
    # mm/filemap.c:3565-3569
    r = dict(rows(con, "SELECT field, function FROM fptr_assignments WHERE variable = 'generic_file_vm_ops'"))
    assert r == {"fault": "filemap_fault", "map_pages": "filemap_map_pages",
                 "page_mkwrite": "filemap_page_mkwrite"}


def test_lock_calls_with_args(con):
    # mm/memory.c:5445 in __p4d_alloc: spin_lock(&mm->page_table_lock);
    r = rows(con, "SELECT caller, args FROM calls c JOIN files f USING (file_id) "
                  "WHERE f.path = 'mm/memory.c' AND c.line = 5445 AND c.callee = 'spin_lock'")
    assert r == [("__p4d_alloc", ["&mm->page_table_lock"])]
    # ... and the mm parameter it locks through is recorded with its type
    r = rows(con, "SELECT v.type_text, v.pointer_depth FROM variables v "
                  "JOIN functions fn USING (function_id) "
                  "WHERE fn.name = '__p4d_alloc' AND v.scope = 'param' AND v.name = 'mm'")
    assert r == [("struct mm_struct *", 1)]


def test_file_scope_macro_uses_and_per_cpu_variables(con):
    # kernel/cgroup/cgroup.c:90-91  DEFINE_MUTEX(cgroup_mutex); DEFINE_SPINLOCK(css_set_lock);
    r = rows(con, "SELECT m.macro, m.args, m.is_static, m.line FROM macro_uses m "
                  "JOIN files f USING (file_id) "
                  "WHERE f.path = 'kernel/cgroup/cgroup.c' AND m.line IN (90, 91) ORDER BY m.line")
    assert r == [("DEFINE_MUTEX", ["cgroup_mutex"], False, 90),
                 ("DEFINE_SPINLOCK", ["css_set_lock"], False, 91)]
    # kernel/sched/core.c:114  DEFINE_PER_CPU_SHARED_ALIGNED(struct rq, runqueues);
    r = rows(con, "SELECT scope, base_type, macro FROM variables "
                  "WHERE name = 'runqueues' AND function_id IS NULL")
    assert ("global", "struct rq", "DEFINE_PER_CPU_SHARED_ALIGNED") in r


def test_function_like_macro(con):
    # kernel/sched/sched.h:1771-1773  #define for_each_domain(cpu, __sd) \ ...
    r = rows(con, "SELECT params, body, line, end_line FROM macros WHERE name = 'for_each_domain'")
    assert r == [(["cpu", "__sd"],
                  "for (__sd = rcu_dereference_check_sched_domain(cpu_rq(cpu)->sd); __sd; "
                  "__sd = __sd->parent)",
                  1771, 1773)]


def test_parse_errors_are_counted_not_fatal(con):
    total, files = rows(con, "SELECT sum(parse_errors), count(*) FILTER (parse_errors > 0) FROM files")[0]
    assert total > 0 and files > 0
    # even files with parse errors yield their functions: kernel/fork.c has them and kernel_clone
    assert rows(con, "SELECT count(*) FROM functions WHERE name = 'kernel_clone'") == [(1,)]


def test_functions_around_kernel_idioms(con):
    # kernel/exit.c:1591 static long __do_wait(...) holds `do { ... } while_each_thread(current, tsk);`
    # (1615-1626); before the do-while macro was read as `while (...)`, __do_wait and the five functions
    # after it (do_wait 1638, kernel_waitid 1663, ...) had no rows
    assert rows(con, "SELECT caller FROM calls c JOIN files f USING (file_id) WHERE f.path = 'kernel/exit.c' "
                     "AND c.line = 1606 AND c.callee = 'read_lock'") == [("__do_wait",)]
    assert rows(con, "SELECT fn.start_line FROM functions fn JOIN files f USING (file_id) "
                     "WHERE f.path = 'kernel/exit.c' AND fn.name IN ('do_wait', 'kernel_waitid') "
                     "ORDER BY 1") == [(1638,), (1663,)]
    # kernel/events/core.c:5599 static void perf_event_for_each_child(...): a function named like an
    # iterator macro was rewritten as a loop header and recorded as a function named `while`
    assert rows(con, "SELECT start_line FROM functions WHERE name = 'perf_event_for_each_child'") == [(5599,)]
    assert rows(con, "SELECT count(*) FROM functions WHERE name IN ('while', 'if', 'rcu')") == [(0,)]
    # kernel/futex/syscalls.c:58 `scoped_guard(rcu) {` in futex_get_robust_list_common (52-91): the
    # calls after the block (down_read_killable at 71) kept no caller
    assert rows(con, "SELECT caller FROM calls WHERE callee = 'down_read_killable' AND line = 71 "
                     "AND file_id = (SELECT file_id FROM files WHERE path = 'kernel/futex/syscalls.c')") == [
        ("futex_get_robust_list_common",)]


def test_extraction_is_deterministic(kernel_src):
    """tree-sitter returns declaration captures in varying order; kernel/audit.c declares `s` twice in
    one function (struct audit_status s; struct audit_tty_status s;), so fptr_assignments.struct_type
    depended on that order (2 different answers in 8 runs before declarations were sorted)."""
    from lima.analyzer.extract import Extractor

    data = (kernel_src / "kernel" / "audit.c").read_bytes()
    answers = {tuple(sorted(map(repr, Extractor().extract(1, data).rows["fptr_assignments"])))
               for _ in range(8)}
    assert len(answers) == 1
