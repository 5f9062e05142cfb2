"""Unit tests of bench/lock_recall.py's readers of BTF (bpftool JSON) and DWARF (llvm-dwarfdump text).

The inputs are small hand-written excerpts in the exact shapes the tools print (checked against
`bpftool -j btf dump` and `llvm-dwarfdump --debug-info` output of Debian's 6.1.0-56 image).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("lock_recall", ROOT / "bench" / "lock_recall.py")
assert _spec and _spec.loader
lock_recall = importlib.util.module_from_spec(_spec)
sys.modules["lock_recall"] = lock_recall  # dataclasses look their module up there
_spec.loader.exec_module(lock_recall)

LTS = {"spinlock_t", "struct mutex", "struct spinlock", "seqlock_t"}


def _types() -> dict[int, dict]:
    """A BTF excerpt: spinlock_t, struct mutex, a struct with an anonymous union of anonymous structs
    (struct page style), an array, a pointer, a typedef'd anonymous struct, and a lock type's own members."""
    t = [
        {"id": 1, "kind": "STRUCT", "name": "spinlock", "members": []},
        {"id": 2, "kind": "TYPEDEF", "name": "spinlock_t", "type_id": 1},
        {"id": 3, "kind": "STRUCT", "name": "mutex", "members": [{"name": "wait_lock", "type_id": 2}]},
        {"id": 4, "kind": "STRUCT", "name": "(anon)", "members": [{"name": "ptl", "type_id": 2}]},
        {"id": 5, "kind": "UNION", "name": "(anon)", "members": [{"name": "(anon)", "type_id": 4}]},
        {"id": 6, "kind": "ARRAY", "name": "(anon)", "type_id": 2, "nr_elems": 4},
        {"id": 7, "kind": "PTR", "name": "(anon)", "type_id": 3},
        {"id": 8, "kind": "STRUCT", "name": "(anon)", "members": [{"name": "lock", "type_id": 11}]},
        {"id": 9, "kind": "STRUCT", "name": "page", "members": [
            {"name": "(anon)", "type_id": 5}, {"name": "locks", "type_id": 6},
            {"name": "owner", "type_id": 7}, {"name": "u", "type_id": 8},
            {"name": "m", "type_id": 3}, {"name": "named", "type_id": 10}]},
        {"id": 10, "kind": "TYPEDEF", "name": "my_t", "type_id": 12},
        {"id": 11, "kind": "CONST", "name": "(anon)", "type_id": 2},
        {"id": 12, "kind": "STRUCT", "name": "(anon)", "members": [{"name": "inner", "type_id": 2}]},
    ]
    return {x["id"]: x for x in t}


def test_btf_members_flatten_anonymous_and_follow_typedefs_arrays() -> None:
    types = _types()
    rows = lock_recall.member_rows(types, list(types.values()), LTS)
    assert rows == {
        ("mutex", "wait_lock", "spinlock_t", False),
        ("page", "ptl", "spinlock_t", False),         # anonymous union > anonymous struct: flattened
        ("page", "locks", "spinlock_t", True),        # array of locks
        ("page", "u.lock", "spinlock_t", False),      # named member of an inline anonymous struct; const
        ("page", "m", "struct mutex", False),
        ("my_t", "inner", "spinlock_t", False),       # typedef'd anonymous struct: the typedef names it
    }                                                 # owner (pointer) and named (my_t) are not members


def test_dwarf_type_names() -> None:
    assert lock_recall.type_name('"const spinlock_t[4][2]"') == ("spinlock_t", True, False)
    assert lock_recall.type_name('"mutex"') == ("mutex", False, False)
    assert lock_recall.type_name('"spinlock_t *"')[2] is True


def test_dwarf_parse_static_lock_variables(monkeypatch) -> None:
    """Definitions with a DW_OP_addr location, through DW_AT_specification and a local typedef."""
    text = """\
0x0000000b: DW_TAG_compile_unit
              DW_AT_name\t("kernel/x.c")

0x00000010:   DW_TAG_typedef
                DW_AT_name\t("spinlock_t")
                DW_AT_type\t(0x00000020 "spinlock")

0x00000018:   DW_TAG_typedef
                DW_AT_name\t("my_lock_t")
                DW_AT_type\t(0x00000010 "spinlock_t")

0x00000030:   DW_TAG_variable
                DW_AT_name\t("a_lock")
                DW_AT_decl_file\t("debian/build/build_amd64_none_amd64/kernel/x.c")
                DW_AT_decl_line\t(10)
                DW_AT_type\t(0x00000010 "spinlock_t")
                DW_AT_location\t(DW_OP_addr 0xffffffff82000000)

0x00000040:   DW_TAG_variable
                DW_AT_name\t("ext_mutex")
                DW_AT_decl_file\t("debian/build/build_amd64_none_amd64/include/x.h")
                DW_AT_type\t(0x00000050 "mutex")
                DW_AT_external\t(true)
                DW_AT_declaration\t(true)

0x00000048:   DW_TAG_variable
                DW_AT_specification\t(0x00000040 "ext_mutex")
                DW_AT_decl_file\t("debian/build/build_amd64_none_amd64/arch/x86/kvm/../../../kernel/x.c")
                DW_AT_decl_line\t(12)
                DW_AT_location\t(DW_OP_addr 0xffffffff82000100)

0x00000060:   DW_TAG_subprogram
                DW_AT_name\t("f")

0x00000068:     DW_TAG_variable
                  DW_AT_name\t("lock")
                  DW_AT_type\t(0x00000018 "my_lock_t")
                  DW_AT_location\t(DW_OP_addr 0xffffffff82000200)

0x00000070:     DW_TAG_variable
                  DW_AT_name\t("stack_lock")
                  DW_AT_type\t(0x00000010 "spinlock_t")
                  DW_AT_location\t(DW_OP_fbreg -16)

0x00000078:     NULL

0x00000080:   DW_TAG_variable
                DW_AT_name\t("ptr")
                DW_AT_type\t(0x00000090 "spinlock_t *")
                DW_AT_location\t(DW_OP_addr 0xffffffff82000300)
"""

    class FakeProc:
        def __init__(self, *a, **k) -> None:
            self.stdout = iter(text.splitlines(keepends=True))
            self.returncode = 0

        def wait(self) -> int:
            return 0

    monkeypatch.setattr(lock_recall.subprocess, "Popen", FakeProc)
    rows = lock_recall.dwarf_lock_vars(("x.o", "vmlinux", sorted(LTS)))
    assert sorted(rows) == [
        ("a_lock", "kernel/x.c", "10", "spinlock_t", 0, "", "vmlinux"),
        ("ext_mutex", "kernel/x.c", "12", "struct mutex", 0, "", "vmlinux"),
        ("lock", "", "", "spinlock_t", 0, "f", "vmlinux"),
    ]
