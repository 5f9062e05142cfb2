"""lock-name on a name several objects produce: core code first (map_file_ranks), confidence 1/N.

The rows stand for what the lock pass writes for `&pool->lock` and `&sem->wait_lock` in v6.1 (file and
line as in the tree: kernel/workqueue.c:3461 init_worker_pool, drivers/gpu/drm/i915/gt/
intel_gt_buffer_pool.c:223, drivers/tty/tty_ldsem.c:69 __init_ldsem, kernel/locking/rwsem.c:327
__init_rwsem), plus made-up copies under tools/ and arch/s390 to pin the other ranks.
"""

from __future__ import annotations

import pytest
from lima.db import connect
from lima.queries import install_views
from lima.queries.catalog import load_catalog
from lima.queries.cli import run_query

FILES = [(1, "drivers/gpu/drm/i915/gt/intel_gt_buffer_pool.c"), (2, "kernel/workqueue.c"),
         (3, "arch/s390/kernel/pool.c"), (4, "tools/lib/pool.c"), (5, "arch/x86/kernel/pool.c"),
         (6, "fs/ext4/pool.c"), (7, "fs/pool.c"),
         (10, "drivers/tty/tty_ldsem.c"), (11, "kernel/locking/rwsem.c"),
         (12, "arch/x86/platform/intel/iosf_mbi.c")]

# file_id, function, line, macro, class_name, struct
INITS = [(1, "intel_gt_init_buffer_pool", 223, "spin_lock_init", "&pool->lock", "intel_gt_buffer_pool"),
         (2, "init_worker_pool", 3461, "raw_spin_lock_init", "&pool->lock", "worker_pool"),
         (3, "s390_pool_init", 10, "spin_lock_init", "&pool->lock", "s390_pool"),
         (4, "tools_pool_init", 10, "spin_lock_init", "&pool->lock", "tools_pool"),
         (5, "x86_pool_init", 10, "spin_lock_init", "&pool->lock", "x86_pool"),
         (6, "ext4_pool_init", 10, "spin_lock_init", "&pool->lock", "ext4_pool"),
         (7, "vfs_pool_init", 10, "spin_lock_init", "&pool->lock", "vfs_pool"),
         (10, "__init_ldsem", 69, "raw_spin_lock_init", "&sem->wait_lock", "ld_semaphore"),
         (11, "__init_rwsem", 327, "raw_spin_lock_init", "&sem->wait_lock", "rw_semaphore"),
         (12, None, 205, "DEFINE_MUTEX", "iosf_mbi_pmic_access_mutex.wait_lock", "mutex")]


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = connect(tmp_path_factory.mktemp("ln") / "ln.duckdb")
    c.executemany("INSERT INTO files (file_id, path, status) VALUES (?, ?, 'ok')", FILES)
    c.executemany("INSERT INTO lock_inits (file_id, function, line, macro, arg_text, class_name, "
                  "object_kind, struct_name, field_path, confidence) "
                  "VALUES (?, ?, ?, ?, 'x', ?, 'field', ?, 'lock', 1.0)",
                  [(f, fn, ln, m, cls, st) for f, fn, ln, m, cls, st in INITS])
    install_views(c)
    yield c
    c.close()


def lock_name(con, **params):
    cols, rows = run_query(con, load_catalog()["lock-name"], params)
    return [dict(zip(cols, r, strict=True)) for r in rows]


def test_core_code_comes_first_and_tools_last(con):
    rows = lock_name(con, name="&pool->lock/1")
    assert [r["struct"] for r in rows] == ["worker_pool", "vfs_pool", "x86_pool", "ext4_pool",
                                           "intel_gt_buffer_pool", "s390_pool", "tools_pool"]
    assert [r["path_rank"] for r in rows] == [1, 1, 2, 4, 5, 6, 9]


def test_confidence_is_shared_among_the_objects_a_name_maps_to(con):
    rows = lock_name(con, name="&pool->lock")
    assert {(r["n_objects"], r["confidence"]) for r in rows} == {(7, round(1 / 7, 3))}
    rows = lock_name(con, name="&sem->wait_lock")
    assert [(r["struct"], r["confidence"]) for r in rows] == [("rw_semaphore", 0.5), ("ld_semaphore", 0.5)]


def test_arch_picks_which_arch_tree_ranks_with_generic_code(con):
    rows = lock_name(con, name="&pool->lock", arch="s390")
    assert [r["struct"] for r in rows][:3] == ["worker_pool", "vfs_pool", "s390_pool"]
    assert {r["struct"]: r["path_rank"] for r in rows}["x86_pool"] == 6


@pytest.mark.parametrize("printed", ["&sem->wait_lock:", "  &sem->wait_lock-W:", "&sem->wait_lock-R:",
                                     "&sem->wait_lock/1-W:"])
def test_names_copied_from_lock_stat_lines_resolve(con, printed):
    """/proc/lock_stat prints a class as `%40s:`, or `%38s-W:` and `%38s-R:` when it has read and write
    statistics (kernel/locking/lockdep_proc.c:507-518 in v6.1)."""
    assert [r["struct"] for r in lock_name(con, name=printed)] == ["rw_semaphore", "ld_semaphore"]


@pytest.mark.parametrize("printed", ["iosf_mbi_pmic_access_mutex.wait_lock:",
                                     "iosf_mbi_pmic_access_mutex.wait_loc#2:",
                                     "iosf_mbi_pmic_access_mutex.wait_l#2/1-W:"])
def test_names_lock_stat_cut_with_their_suffix_resolve(con, printed):
    """lockdep_proc.c:470-500 (v6.1): the name gets 37 characters, 2 fewer for a #N and for a /N, which
    follow it; DEFINE_MUTEX(iosf_mbi_pmic_access_mutex) (arch/x86/platform/intel/iosf_mbi.c:205) names
    its wait_lock `iosf_mbi_pmic_access_mutex.wait_lock` (36 characters)."""
    assert [r["struct"] for r in lock_name(con, name=printed)] == ["mutex"]


def test_init_sites_in_files_the_configuration_does_not_build_come_last(tmp_path):
    """kbuild_files: fs/ext4/pool.c made not built (and worker_pool's file built) puts ext4_pool after every
    other row, tools/ included; for another --arch than the configuration's (meta kbuild_arch) the
    verdicts do not apply."""
    c = connect(tmp_path / "kb.duckdb")
    c.executemany("INSERT INTO files (file_id, path, status) VALUES (?, ?, 'ok')", FILES)
    c.executemany("INSERT INTO lock_inits (file_id, function, line, macro, arg_text, class_name, "
                  "object_kind, struct_name, field_path, confidence) "
                  "VALUES (?, ?, ?, ?, 'x', ?, 'field', ?, 'lock', 1.0)",
                  [(f, fn, ln, m, cls, st) for f, fn, ln, m, cls, st in INITS])
    c.executemany("INSERT INTO kbuild_files VALUES (?, ?, ?)",
                  [(6, False, "fs/ext4/Makefile:1: obj-$(CONFIG_EXT4_FS) += ext4.o: "
                                  "CONFIG_EXT4_FS is not set"),
                   (2, True, "kernel/Makefile:1: obj-y (built in)")])
    c.execute("INSERT INTO meta VALUES ('kbuild_arch', 'x86')")
    install_views(c)
    rows = lock_name(c, name="&pool->lock")
    assert [r["struct"] for r in rows] == ["worker_pool", "vfs_pool", "x86_pool", "intel_gt_buffer_pool",
                                           "s390_pool", "tools_pool", "ext4_pool"]
    assert [r["built"] for r in rows][:2] == [True, None] and rows[-1]["built"] is False
    rows = lock_name(c, name="&pool->lock", arch="s390")
    assert [r["struct"] for r in rows][:4] == ["worker_pool", "vfs_pool", "s390_pool", "ext4_pool"]
    assert {r["built"] for r in rows} == {None}
    c.close()
