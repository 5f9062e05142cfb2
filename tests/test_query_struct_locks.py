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
import subprocess
import sys
from pathlib import Path

import pytest
from lima.db import connect
from lima.queries import install_views
from lima.queries.catalog import load_catalog
from lima.queries.cli import main, run_query

FILES = ["include/linux/completion.h", "include/linux/swait.h", "kernel/sched/swait.c",
         "include/linux/fs.h", "include/linux/xarray.h", "fs/inode.c"]


@pytest.fixture(scope="module")
def db(kernel_src, tmp_path_factory):
    path = tmp_path_factory.mktemp("structlocks") / "sl.duckdb"
    cmd = [str(Path(sys.executable).parent / "lima-index"), str(kernel_src), "--db", str(path), "--quiet"]
    for f in FILES:
        cmd += ["--only", f]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=600)
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
    path = tmp_path_factory.mktemp("embed") / "embed.duckdb"
    cmd = [str(Path(sys.executable).parent / "lima-index"), str(Path(__file__).parent / "fixtures" / "embed"),
           "--db", str(path), "--quiet"]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)
    return path


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
