"""struct-locks lists the locks of embedded named structs, on an index of a few files of the real v6.1 tree.

Read in the v6.1 source:
- include/linux/completion.h:26 `struct completion { unsigned int done; struct swait_queue_head wait; }`;
  include/linux/swait.h:43 `struct swait_queue_head { raw_spinlock_t lock; ... }` (lock at line 44);
  kernel/sched/swait.c:9 `raw_spin_lock_init(&q->lock)` in __init_swait_queue_head, and six acquisitions
  of `&q->lock` (lines 51, 66, 78, 95, 107, 139).
- include/linux/fs.h: struct inode (line 605) has its own i_lock (639), i_size_seqcount (646), i_rwsem (651)
  and embeds `struct address_space i_data` (686); struct address_space (432) holds `struct xarray i_pages`
  (434), invalidate_lock (435), i_mmap_rwsem (443) and private_lock (449); include/linux/xarray.h:297 is
  `spinlock_t xa_lock` of struct xarray. fs/inode.c:402 `spin_lock_init(&mapping->private_lock)` and
  :400 `init_rwsem(&mapping->i_mmap_rwsem)` in __address_space_init_once; include/linux/xarray.h:380
  `spin_lock_init(&xa->xa_lock)` in xa_init_flags.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FIXTURES, lima_index
from lima.db import connect
from lima.queries import install_views
from lima.queries.catalog import load_catalog
from lima.queries.cli import main, run_query

FILES = ["include/linux/completion.h", "include/linux/swait.h", "kernel/sched/swait.c",
         "include/linux/fs.h", "include/linux/xarray.h", "fs/inode.c"]


@pytest.fixture(scope="module")
def db(kernel_src, tmp_path_factory):
    path = lima_index(kernel_src, tmp_path_factory.mktemp("structlocks") / "sl.duckdb", FILES)
    con = connect(path)
    install_views(con)
    con.close()
    return path


def struct_locks(db: Path, name: str) -> list[dict]:
    con = connect(db, read_only=True)
    try:
        cols, rows = run_query(con, load_catalog()["struct-locks"], {"struct": name})
    finally:
        con.close()
    return [dict(zip(cols, r, strict=True)) for r in rows]


def test_completion_lists_the_lock_of_its_embedded_swait_queue_head(db):
    rows = struct_locks(db, "completion")
    assert [(r["field"], r["via"], r["declared_in"], r["lock_type"], r["file"], r["line"]) for r in rows] == [
        ("wait.lock", "wait", "swait_queue_head", "raw_spinlock_t", "include/linux/swait.h", 44)]
    (row,) = rows
    # completion.c is not indexed: nothing takes it through a struct completion; six sites in swait.c take
    # a swait_queue_head's lock, and __init_swait_queue_head initialises it
    assert (row["acquire_sites"], row["via_acquire_sites"], row["via_init_sites"]) == (0, 6, 2)
    assert row["via_init_names"] == ["&q->lock"]


def test_inode_lists_its_own_locks_then_those_of_i_data(db):
    rows = struct_locks(db, "inode")
    assert [(r["field"], r["via"], r["declared_in"], r["file"], r["line"]) for r in rows] == [
        ("i_lock", None, "inode", "include/linux/fs.h", 639),
        ("i_size_seqcount", None, "inode", "include/linux/fs.h", 646),
        ("i_rwsem", None, "inode", "include/linux/fs.h", 651),
        ("i_data.invalidate_lock", "i_data", "address_space", "include/linux/fs.h", 435),
        ("i_data.i_mmap_rwsem", "i_data", "address_space", "include/linux/fs.h", 443),
        ("i_data.private_lock", "i_data", "address_space", "include/linux/fs.h", 449),
        ("i_data.i_pages.xa_lock", "i_data.i_pages", "xarray", "include/linux/xarray.h", 297),
    ]
    by = {r["field"]: r for r in rows}
    assert by["i_lock"]["via_acquire_sites"] is None  # its own member: no via columns
    assert "&mapping->private_lock" in by["i_data.private_lock"]["via_init_names"]
    assert "&mapping->i_mmap_rwsem" in by["i_data.i_mmap_rwsem"]["via_init_names"]
    assert "&xa->xa_lock" in by["i_data.i_pages.xa_lock"]["via_init_names"]
    assert "mapping.invalidate_lock" in by["i_data.invalidate_lock"]["via_init_names"]


def test_address_space_sees_the_xarray_lock_one_level_down(db):
    rows = struct_locks(db, "address_space")
    assert [(r["field"], r["via"], r["declared_in"]) for r in rows] == [
        ("invalidate_lock", None, "address_space"), ("i_mmap_rwsem", None, "address_space"),
        ("private_lock", None, "address_space"), ("i_pages.xa_lock", "i_pages", "xarray")]


def test_cli_prints_the_embedded_lock(db, capsys):
    assert main(["struct-locks", "--struct", "completion", "--db", str(db), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["field"], row["via"], row["declared_in"]) == ("wait.lock", "wait", "swait_queue_head")


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory):
    return lima_index(FIXTURES / "embed", tmp_path_factory.mktemp("embed") / "embed.duckdb", timeout=120)


def test_embedding_is_followed_four_levels_deep(fixture_db):
    rows = struct_locks(fixture_db, "level0")
    assert [(r["field"], r["via"], r["declared_in"]) for r in rows] == [
        ("l0", None, "level0"), ("e1.l1", "e1", "level1"), ("e1.e2.l2", "e1.e2", "level2"),
        ("e1.e2.e3.l3", "e1.e2.e3", "level3"), ("e1.e2.e3.e4.l4", "e1.e2.e3.e4", "level4")]


def test_typedefs_arrays_inline_and_anonymous_members_but_not_pointers(fixture_db):
    rows = struct_locks(fixture_db, "holder")
    assert sorted((r["field"], r["via"], r["declared_in"], r["is_array"]) for r in rows) == [
        ("arr.l5", "arr", "level5", True), ("inl.deep.l5", "inl.deep", "level5", False),
        ("n.tl", "n", "named_t", False), ("u5.l5", "u5", "level5", False)]


def test_sites_on_a_typedefd_struct_count_under_its_tag(fixture_db):
    """holder2 embeds tagged_t (typedef struct tagged); take_tagged locks &p->tlk, a site on struct tagged."""
    (row,) = struct_locks(fixture_db, "holder2")
    assert (row["field"], row["via"], row["declared_in"], row["acquire_sites"], row["via_acquire_sites"]) == \
        ("t.tlk", "t", "tagged", 0, 1)


@pytest.fixture(scope="module")
def arch_db(tmp_path_factory):
    """tests/fixtures/embed_arch: task_struct, mm_struct, rq and work_struct with definitions in several
    arches, include/asm-generic and tools/ (shaped after v6.1: include/linux/sched.h task_struct.thread,
    arch/s390/include/asm/debug.h debug_info.lock, arch/x86/include/asm/mmu.h mm_context_t.lock a mutex,
    include/linux/stop_machine.h cpu_stop_work with a work member only when !CONFIG_SMP)."""
    return lima_index(FIXTURES / "embed_arch", tmp_path_factory.mktemp("embed_arch") / "arch.duckdb",
                      timeout=120)


def _rows(db: Path, **params) -> list[tuple]:
    con = connect(db, read_only=True)
    try:
        cols, rows = run_query(con, load_catalog()["struct-locks"], params)
    finally:
        con.close()
    return [(r["field"], r["via"], r["declared_in"], r["file"], r["line"])
            for r in (dict(zip(cols, row, strict=True)) for row in rows)]


def test_embedded_members_are_read_from_the_x86_definition(arch_db):
    # x86's thread_struct has no lock: s390's debug_info.lock is not a member of this task_struct
    assert _rows(arch_db, struct="task_struct") == [
        ("alloc_lock", None, "task_struct", "include/linux/sched.h", 3)]
    assert _rows(arch_db, struct="task_struct", arch="s390")[1] == (
        "thread.debug.lock", "thread.debug", "debug_info", "arch/s390/include/asm/processor.h", 2)


def test_member_file_and_line_are_those_of_the_declaring_definition(arch_db):
    # mm_context_t: x86's (a mutex at arch/x86/include/asm/mmu.h:3), not s390's, asm-generic's or tools/'
    assert _rows(arch_db, struct="mm_struct") == [
        ("page_table_lock", None, "mm_struct", "include/linux/mm_types.h", 3),
        ("async_put_work.lockdep_map", "async_put_work", "work_struct", "include/linux/workqueue.h", 2),
        ("context.lock", "context", "mm_context_t", "arch/x86/include/asm/mmu.h", 3)]


def test_sites_in_other_arches_are_not_counted(arch_db):
    con = connect(arch_db, read_only=True)
    try:
        cols, rows = run_query(con, load_catalog()["struct-locks"], {"struct": "mm_struct"})
    finally:
        con.close()
    by = {r[cols.index("field")]: dict(zip(cols, r, strict=True)) for r in rows}
    # kernel/fork.c:5 mutex_init and :9 mutex_lock; arch/s390/kernel/mmu_context.c:4 is another arch
    assert (by["context.lock"]["init_at"], by["context.lock"]["acquire_sites"]) == (["kernel/fork.c:5"], 1)


def test_config_alternatives_in_one_file_take_the_first(arch_db):
    # CONFIG_SMP's cpu_stop_work (first in stop_machine.h) has no work member: rq has no push_work lock
    assert _rows(arch_db, struct="rq") == [("__lock", None, "rq", "kernel/sched/sched.h", 2)]


def test_tools_copies_only_when_nothing_else_defines_the_struct(arch_db):
    assert _rows(arch_db, struct="only_in_tools") == [
        ("tl", None, "only_in_tools", "tools/testing/x/workqueues.h", 9)]
    merged = _rows(arch_db, struct="struct mm_struct", all_definitions=True)
    assert ("tools_copy_lock", None, "mm_struct", "tools/testing/x/workqueues.h", 6) in merged
    assert ("context.s390_only_lock", "context", "mm_context_t", "arch/s390/include/asm/mmu.h", 3) in merged


def test_a_leading_struct_word_is_accepted(arch_db):
    assert _rows(arch_db, struct="struct rq") == _rows(arch_db, struct="rq")
    assert _rows(arch_db, struct="  union rq") == _rows(arch_db, struct="rq")


REAL_ARCH_FILES = ["include/linux/mm_types.h", "arch/x86/include/asm/mmu.h", "arch/s390/include/asm/mmu.h",
                   "include/asm-generic/mmu.h", "arch/x86/include/asm/mmu_context.h",
                   "arch/s390/include/asm/mmu_context.h", "include/linux/sched.h",
                   "arch/x86/include/asm/processor.h", "arch/s390/include/asm/processor.h",
                   "arch/s390/include/asm/debug.h", "arch/arm64/include/asm/processor.h",
                   "arch/arm64/include/asm/mmu.h"]


@pytest.fixture(scope="module")
def real_arch_db(kernel_src, tmp_path_factory):
    return lima_index(kernel_src, tmp_path_factory.mktemp("realarch") / "ra.duckdb", REAL_ARCH_FILES)


def test_real_mm_struct_context_is_x86s_mm_context_t(real_arch_db):
    """v6.1: include/linux/mm_types.h:644 `mm_context_t context;`; x86's mm_context_t holds
    `struct rw_semaphore ldt_usr_sem` (arch/x86/include/asm/mmu.h:39) and `struct mutex lock` (:47),
    initialised at arch/x86/include/asm/mmu_context.h:64 and :105; s390's `spinlock_t lock`
    (arch/s390/include/asm/mmu.h:10, spin_lock_init at arch/s390/include/asm/mmu_context.h:24) is not
    x86's."""
    rows = {r[0]: r for r in _rows(real_arch_db, struct="mm_struct")}
    assert rows["context.lock"] == ("context.lock", "context", "mm_context_t",
                                    "arch/x86/include/asm/mmu.h", 47)
    assert rows["context.ldt_usr_sem"][3:] == ("arch/x86/include/asm/mmu.h", 39)
    assert rows["mmap_lock"][3:] == ("include/linux/mm_types.h", 597)
    con = connect(real_arch_db, read_only=True)
    try:
        cols, got = run_query(con, load_catalog()["struct-locks"], {"struct": "mm_struct"})
    finally:
        con.close()
    by = {r[cols.index("field")]: r[cols.index("init_at")] for r in got}
    assert by["context.lock"] == ["arch/x86/include/asm/mmu_context.h:105"]


def test_real_task_struct_has_no_s390_debug_lock(real_arch_db):
    """include/linux/sched.h:1551 `struct thread_struct thread;`: x86's thread_struct
    (arch/x86/include/asm/processor.h:471) has no lock. arm64's (:147) embeds `struct debug_info debug`
    (:169), arm64's debug_info (:106) has no lock; s390's struct debug_info (arch/s390/include/asm/debug.h:44,
    `spinlock_t lock` at :48) is another struct of that name, matched only when every definition is merged."""
    fields = [r[0] for r in _rows(real_arch_db, struct="task_struct")]
    assert "alloc_lock" in fields and not any(f.startswith("thread.") for f in fields)
    arm64 = [r[0] for r in _rows(real_arch_db, struct="task_struct", arch="arm64")]
    assert "alloc_lock" in arm64 and not any(f.startswith("thread.") for f in arm64)
    merged = _rows(real_arch_db, struct="task_struct", all_definitions=True)
    assert ("thread.debug.lock", "thread.debug", "debug_info", "arch/s390/include/asm/debug.h", 48) in merged


def test_real_mm_struct_for_arm64_has_no_x86_context_locks(real_arch_db):
    """include/linux/mm_types.h:529 struct mm_struct holds its members in an anonymous struct (closed at
    :739 `} __randomize_layout;`), context among them (:644); arm64's mm_context_t
    (arch/arm64/include/asm/mmu.h:20-28: id, sigpage, pinned, vdso, flags) has no lock, so --arch arm64
    lists no context.* member (the lock pass's own expansion of the member is x86's)."""
    arm64 = [r[0] for r in _rows(real_arch_db, struct="mm_struct", arch="arm64")]
    assert "mmap_lock" in arm64 and not any(f.startswith("context.") for f in arm64)
