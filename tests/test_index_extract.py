"""What the extractor must yield for each kernel idiom (hand-written C in tests/fixtures/c/)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from conftest import FIXTURES
from lima.analyzer.extract import ID_STRIDE, TABLE_COLUMNS, Extractor, split_args
from lima.analyzer.kernel_annotations import (
    blank_annotations,
    blank_list_conditionals,
    fill_empty_defines,
    rewrite_loop_macros,
)

C = FIXTURES / "c"
FILE_ID = 7


@cache
def _extractor() -> Extractor:
    return Extractor()


@cache
def facts(name: str, folder: Path = C) -> dict[str, list[dict]]:
    """Rows of a fixture, as dicts keyed by column name."""
    f = _extractor().extract(FILE_ID, (folder / name).read_bytes())
    out = {t: [dict(zip(cols, r, strict=True)) for r in f.rows[t]] for t, cols in TABLE_COLUMNS.items()}
    out["_errors"] = f.parse_errors  # type: ignore[assignment]
    return out


def one(rows: list[dict], **where) -> dict:
    hits = [r for r in rows if all(r[k] == v for k, v in where.items())]
    assert len(hits) == 1, f"{len(hits)} rows match {where}: {hits}"
    return hits[0]


def names(rows: list[dict], key: str = "name") -> set:
    return {r[key] for r in rows}


# -- functions -------------------------------------------------------------------------------------

def test_plain_functions_with_storage_and_lines():
    fns = facts("functions.c")["functions"]
    f = one(fns, name="plain_static")
    assert (f["is_static"], f["is_inline"], f["start_line"], f["end_line"]) == (True, False, 4, 7)
    f = one(fns, name="plain_global")
    assert (f["is_static"], f["return_type"], f["macro"]) == (False, "int", None)
    assert one(fns, name="returns_pointer")["return_type"] == "struct page *"


def test_inline_spellings_and_annotations():
    fns = facts("functions.c")["functions"]
    assert one(fns, name="always_inline_helper")["is_inline"] is True  # static __always_inline
    assert one(fns, name="inline_helper")["is_inline"] is True
    assert one(fns, name="init_function")["is_static"] is True        # static int __init f(void)
    assert one(fns, name="annotated_schedule")["start_line"] == 26    # asmlinkage __visible ... __sched
    assert one(fns, name="must_hold_function")["end_line"] == 39       # ... __must_hold(&f->lock) {


def test_syscall_define_gives_the_real_symbols():
    fx = facts("functions.c")
    fns = fx["functions"]
    read = {f["name"]: f for f in fns if f["macro"] == "SYSCALL_DEFINE3"}
    assert set(read) == {"__do_sys_read", "__se_sys_read", "__x64_sys_read", "__ia32_sys_read"}
    assert {f["start_line"] for f in read.values()} == {41}
    assert read["__do_sys_read"]["is_inline"] and read["__do_sys_read"]["is_static"]
    assert not read["__x64_sys_read"]["is_static"]
    # SYSCALL_DEFINE0 has no __se_ wrapper
    assert names([f for f in fns if f["macro"] == "SYSCALL_DEFINE0"]) == {
        "__do_sys_fork", "__x64_sys_fork", "__ia32_sys_fork"}
    assert names([f for f in fns if f["macro"] == "COMPAT_SYSCALL_DEFINE2"]) == {
        "__do_compat_sys_getrlimit", "__se_compat_sys_getrlimit", "__x64_compat_sys_getrlimit",
        "__ia32_compat_sys_getrlimit"}
    calls = fx["calls"]
    # the body belongs to __do_sys_read; the wrappers chain to it
    assert one(calls, callee="ksys_read")["caller"] == "__do_sys_read"
    assert one(calls, caller="__x64_sys_read")["callee"] == "__se_sys_read"
    assert one(calls, caller="__se_sys_read")["callee"] == "__do_sys_read"
    assert one(calls, callee="kernel_clone")["caller"] == "__do_sys_fork"
    params = [v for v in fx["variables"] if v["scope"] == "param"
              and v["function_id"] == one(fns, name="__do_sys_read")["function_id"]]
    assert [(p["name"], p["type_text"], p["pointer_depth"]) for p in params] == [
        ("fd", "unsigned int", 0), ("buf", "char *", 1), ("count", "size_t", 0)]


def test_ids_are_numbered_per_file():
    fns = facts("functions.c")["functions"]
    assert all(f["function_id"] // ID_STRIDE == FILE_ID for f in fns)
    assert len({f["function_id"] for f in fns}) == len(fns)


# -- calls -----------------------------------------------------------------------------------------

def test_call_kinds():
    calls = facts("calls.c")["calls"]
    assert one(calls, callee="spin_lock")["args"] == ["&file->f_lock"]
    r = one(calls, callee="release")
    assert (r["kind"], r["callee_expr"], r["args"]) == ("field", "ops->release", ["file->f_inode", "file"])
    assert one(calls, callee="notify")["callee_expr"] == "file->f_op->notify"
    cb = [c for c in calls if c["callee"] == "cb"]
    assert sorted((c["kind"], c["callee_expr"]) for c in cb) == [("pointer", "(*cb)"), ("pointer", "cb")]
    e = one(calls, kind="expr")
    assert (e["callee"], e["callee_expr"], e["args"]) == (None, "get_handler(file)", ["file", "0"])
    assert all(c["caller"] == "caller" for c in calls if c["line"] < 25)


def test_calls_that_are_macros():
    calls = facts("calls.c")["calls"]
    # a type argument parses as ERROR pieces; the arguments are still split at the commas
    assert one(calls, callee="container_of")["args"] == ["pos", "struct foo", "node"]
    # an iterator macro used as a loop header: recorded, and its body stays in the function
    loop = one(calls, callee="list_for_each_entry")
    assert (loop["caller"], loop["line"], loop["args"]) == ("caller", 18, ["f", "&file->list", "node"])
    assert one(calls, callee="frob")["caller"] == "caller"
    # calls in macro-argument positions, whitespace folded
    assert one(calls, callee="WARN_ON")["args"] == ["check_it(file, 1 + 2)"]
    assert one(calls, callee="check_it")["args"] == ["file", "1 + 2"]
    # DEFINE_WAIT(wait); in a body reads as a declaration but is a macro call
    assert one(calls, callee="DEFINE_WAIT")["caller"] == "waits"
    assert one(calls, callee="prepare_to_wait")["args"] == ["&wq", "&wait", "TASK_UNINTERRUPTIBLE"]


# -- function pointers -----------------------------------------------------------------------------

def test_ops_initializers_and_assignments():
    fp = facts("fptr.c")["fptr_assignments"]
    init = {r["field"]: r for r in fp if r["variable"] == "demo_fops"}
    assert {f: r["function"] for f, r in init.items()} == {
        "read": "demo_read", "release": "demo_release", "compat_ioctl": "demo_compat_ioctl",
        "poll": "demo_poll"}  # .owner = THIS_MODULE and .mmap = NULL are not functions
    assert {r["struct_type"] for r in init.values()} == {"struct file_operations"}
    assert init["compat_ioctl"]["line"] == 7  # inside #ifdef CONFIG_COMPAT
    chips = [r for r in fp if r["variable"] == "chips"]
    assert sorted(r["function"] for r in chips) == ["mask_a", "mask_b"]
    assert {r["struct_type"] for r in chips} == {"struct irq_chip"}
    a = one(fp, function="demo_release2")
    assert (a["kind"], a["struct_type"], a["field"], a["variable"], a["in_function"]) == (
        "assignment", "struct file_operations", "release", "fops", "setup")
    assert one(fp, function="demo_lookup")["variable"] == "inode->i_op"
    assert "n" not in names(fp, "function")  # fops->flush = n stores a parameter, not a function


# -- structs, fields, typedefs, enums --------------------------------------------------------------

def test_struct_fields_and_annotations():
    fx = facts("structs.c")
    assert fx["_errors"] == 0  # __rcu, ____cacheline_aligned_in_smp, __randomize_layout blanked
    demo = one(fx["structs"], name="demo")
    fields = {f["name"]: f for f in fx["fields"] if f["struct_id"] == demo["struct_id"]}
    assert (fields["lock"]["type_text"], fields["lock"]["base_type"]) == ("spinlock_t", "spinlock_t")
    sem = fields["sem"]
    assert (sem["type_text"], sem["base_type"], sem["pointer_depth"]) == (
        "struct rw_semaphore *", "struct rw_semaphore", 1)
    assert fields["flags"]["array_dims"] == "[2][BITS]"
    assert fields["bits"]["bitfield_width"] == "3"
    fn = fields["fn"]
    assert (fn["type_text"], fn["base_type"], fn["pointer_depth"]) == (
        "void (*)(struct demo *d, int x)", "void", 1)
    assert fields["pp"]["pointer_depth"] == 2
    assert fields["only_with_config"]["line"] == 27  # member inside #ifdef
    assert fields["count"]["base_type"] == "atomic_t"
    positions = sorted(f["position"] for f in fx["fields"] if f["struct_id"] == demo["struct_id"])
    assert positions == list(range(10))


def test_nested_and_anonymous_members():
    fx = facts("structs.c")
    demo = one(fx["structs"], name="demo")
    anon_union = one(fx["structs"], kind="union")
    assert (anon_union["parent_struct_id"], anon_union["parent_field"]) == (demo["struct_id"], None)
    member = one(fx["fields"], struct_id=demo["struct_id"], nested_struct_id=anon_union["struct_id"])
    assert member["name"] is None
    inner = one(fx["structs"], parent_struct_id=anon_union["struct_id"])
    assert names([f for f in fx["fields"] if f["struct_id"] == inner["struct_id"]]) == {"a", "b"}
    named = one(fx["structs"], parent_field="named")
    assert one(fx["fields"], name="named")["nested_struct_id"] == named["struct_id"]


def test_typedefs_and_enums():
    fx = facts("structs.c")
    td = {t["name"]: t for t in fx["typedefs"]}
    anon = one(fx["structs"], start_line=2)
    assert td["spinlock_t"]["struct_id"] == anon["struct_id"]
    assert one(fx["fields"], struct_id=anon["struct_id"])["name"] == "raw_lock"
    assert (td["page_t"]["base_type"], td["page_t"]["struct_id"]) == ("struct page", None)
    assert (td["callback_t"]["type_text"], td["callback_t"]["pointer_depth"]) == ("int (*)(void *data)", 1)
    en = {e["name"]: e for e in fx["enum_constants"]}
    assert (en["DEMO_IDLE"]["enum_name"], en["DEMO_IDLE"]["value_text"]) == ("demo_state", None)
    assert en["DEMO_BUSY"]["value_text"] == "4"


# -- variables and macro uses ----------------------------------------------------------------------

def test_file_scope_variables():
    vs = {v["name"]: v for v in facts("globals.c")["variables"]}
    assert (vs["demo_counter"]["scope"], vs["demo_counter"]["initializer"]) == ("global", "5")
    p = vs["demo_ptr"]
    assert (p["is_static"], p["type_text"], p["pointer_depth"]) == (True, "struct demo *", 1)
    assert vs["demo_extern"]["scope"] == "extern"
    assert vs["demo_array"]["array_dims"] == "[NR_CPUS][2]"
    assert vs["demo_fp"]["type_text"] == "int (*)(int)"
    assert "demo_prototype" not in vs  # a prototype is not a variable
    pc = vs["demo_pcpu_lock"]
    assert (pc["macro"], pc["base_type"], pc["scope"]) == ("DEFINE_PER_CPU", "spinlock_t", "global")
    assert (vs["demo_stats"]["base_type"], vs["demo_stats"]["is_static"]) == ("struct demo_stats", True)
    # a struct type as first argument: tree-sitter reads a bare macro_type_specifier item
    rq = vs["demo_runqueues"]
    assert (rq["base_type"], rq["macro"], rq["line"]) == (
        "struct demo_rq", "DEFINE_PER_CPU_SHARED_ALIGNED", 29)


def test_params_and_locals():
    fx = facts("globals.c")
    fid = one(fx["functions"], name="demo_function")["function_id"]
    vs = {v["name"]: v for v in fx["variables"] if v["function_id"] == fid}
    assert {n: v["scope"] for n, v in vs.items()} == {
        "d": "param", "name": "param", "calls": "static_local", "local": "local", "pp": "local",
        "flags": "local"}
    assert (vs["name"]["type_text"], vs["name"]["base_type"]) == ("const char *", "char")
    assert (vs["pp"]["pointer_depth"], vs["pp"]["initializer"]) == (2, "&local")
    assert vs["local"]["initializer"] == "d"


def test_macro_uses():
    mu = facts("globals.c")["macro_uses"]
    got = {(m["macro"], tuple(m["args"]), m["is_static"], m["function_id"] is None) for m in mu}
    assert got == {
        ("DEFINE_SPINLOCK", ("demo_lock",), True, True),
        ("DEFINE_MUTEX", ("demo_mutex",), False, True),
        ("DEFINE_PER_CPU", ("spinlock_t", "demo_pcpu_lock"), False, True),
        ("DEFINE_PER_CPU", ("struct demo_stats", "demo_stats"), True, True),
        ("DECLARE_RWSEM", ("demo_rwsem",), True, True),
        ("EXPORT_SYMBOL", ("demo_function",), False, True),
        ("DEFINE_RATELIMIT_STATE", ("rs", "5", "10"), True, False),  # static, inside demo_function
        ("DEFINE_PER_CPU_SHARED_ALIGNED", ("struct demo_rq", "demo_runqueues"), False, True),
    }


def test_macros():
    ms = {m["name"]: m for m in facts("macros.h")["macros"]}
    assert (ms["DEMO_SIZE"]["is_function_like"], ms["DEMO_SIZE"]["body"]) == (False, "16")
    assert ms["demo_lock"]["params"] == ["d"]
    both = ms["demo_lock_both"]
    assert both["body"] == "do { spin_lock(&(a)->lock); spin_lock_nested(&(b)->lock, 1); } while (0)"
    assert (both["line"], both["end_line"]) == (7, 11)
    assert ms["demo_log"]["params"] == ["fmt", "..."]
    assert (ms["demo_empty"]["params"], ms["demo_empty"]["body"]) == ([], "")
    assert ms["demo_indented"]["line"] == 14


# -- text rewrites before parsing ------------------------------------------------------------------

@pytest.mark.parametrize("src", [
    b"static __always_inline int f(void) __must_hold(&x->y) { spinlock_t l __rcu; }\n",
    b"struct a { int x; } ____cacheline_aligned_in_smp __attribute__((aligned(8),\n packed));\n",
])
def test_blanking_keeps_lines_and_columns(src):
    out = blank_annotations(src)
    assert len(out) == len(src) and out.count(b"\n") == src.count(b"\n")
    assert b"__" not in out


def test_inline_token_becomes_inline():
    out = blank_annotations(b"static __always_inline void f(void);")
    assert out == b"static inline          void f(void);"


def test_a_define_left_empty_keeps_its_line_to_itself():
    """include/linux/cleanup.h (6.1.y): `#define __free(_name) __cleanup(__free_##_name)` -- the name a
    #define defines is not blanked, its blanked replacement becomes `1`, and the next line is code again
    (tree-sitter-c read it into the directive: the DEFINE_GUARD below it was lost)."""
    guard = b"DEFINE_GUARD(mutex, struct mutex *, a, b)\n"
    src = b"#define __free(_name)\t__cleanup(__free_##_name)\n" + guard
    out = fill_empty_defines(blank_annotations(src))
    assert out == b"#define __free(_name)\t                        1\n" + guard
    # an object-like one keeps a blank between its name and the 1; one blank alone is left as it is
    assert fill_empty_defines(b"#define B  \nx") == b"#define B 1\nx"
    assert fill_empty_defines(b"#define B \nx") == b"#define B \nx"
    f = _extractor().extract(1, src + b"int __free(kfree) *p;\n")
    assert [r[2] for r in f.rows["macro_uses"]] == ["DEFINE_GUARD"]
    assert [(r[2], r[6]) for r in f.rows["variables"]] == [("p", "int")]


def test_names_declared_by_macros_with_their_types():
    """BPF_CALL_2(name, type, param, ...) gives its function the (type, name) pairs as parameters
    (include/linux/filter.h); ACPI_GLOBAL(type, name) declares a global (drivers/acpi/acpica/acglobal.h),
    an array too (acpi_gbl_gpe_fadt_blocks[ACPI_MAX_GPE_BLOCKS])."""
    f = facts("macro_declared.c", FIXTURES / "locks" / "declared")
    fn = one(f["functions"], name="bpf_find_vma")
    params = [(v["name"], v["base_type"], v["pointer_depth"]) for v in f["variables"]
              if v["function_id"] == fn["function_id"] and v["scope"] == "param"]
    assert params == [("task", "struct task_struct", 1), ("flags", "u64", 0)]
    gpe = one(f["variables"], name="acpi_gbl_gpe_lock")
    assert (gpe["scope"], gpe["base_type"], gpe["macro"]) == ("global", "acpi_spinlock", "ACPI_GLOBAL")
    tasks = one(f["variables"], name="acpi_gbl_tasks")
    assert (tasks["base_type"], tasks["pointer_depth"], tasks["array_dims"]) == \
        ("struct task_struct", 1, "[2]")


def test_loop_macros_and_list_conditionals():
    out, found = rewrite_loop_macros(b"x;\nlist_for_each_entry(p, h, m) {\n}\nhlist_for_each(a, b);\n")
    assert out.startswith(b"x;\nwhile              (p, h, m) {")
    assert [f[2] for f in found] == ["list_for_each_entry"]  # followed by ';': an ordinary call
    src = b"s = {\n\t.a = f,\n#ifdef X\n\t.b = g,\n#endif\n};\n#ifdef Y\nint y;\n#endif\n"
    out = blank_list_conditionals(src)
    assert b"#ifdef X" not in out and b"#ifdef Y" in out and len(out) == len(src)


def test_misread_blocks_are_not_functions():
    f = facts("misread_blocks.c", FIXTURES / "misread")  # not in c/: test_index_cli counts c/'s files
    # functions named like iterators are definitions, not loop headers (kernel: drivers/base/bus.c:290
    # bus_for_each_dev, drivers/base/class.c class_for_each_device); the loop inside one still is one
    assert names(f["functions"]) == {"bus_for_each_dev", "class_for_each_device", "guarded", "threads"}
    loop = one(f["calls"], callee="bus_for_each")
    assert (loop["caller"], loop["line"]) == ("bus_for_each_dev", 11)
    assert one(f["calls"], callee="fn")["caller"] == "bus_for_each_dev"
    # `scoped_guard(rcu) {` and `ERRCK(p) if (...) {` inside a body (kernel/futex/syscalls.c:58 of
    # 6.1.192, arch/mips/alchemy/common/clock.c:1064): no function `rcu` or `if`, every call keeps its caller
    for callee in ("find_task_by_vpid", "get_task_struct", "put_task_struct", "wake"):
        assert one(f["calls"], callee=callee)["caller"] == "guarded", callee
    # `} while_each_thread(g, t);` closes a do-while (kernel/exit.c:1626): the function and the next
    # one stay whole, and the macro is recorded as a call
    assert one(f["calls"], callee="done")["caller"] == "threads"
    assert one(f["calls"], callee="while_each_thread")["args"] == ["g", "t"]
    # fs/locks.c:136-137: the second of two glued file-scope macro uses is still a macro use
    assert [(m["macro"], m["args"], m["is_static"], m["line"]) for m in f["macro_uses"]] == [
        ("DEFINE_PER_CPU", ["struct file_lock_list_struct", "file_lock_list"], True, 48),
        ("DEFINE_STATIC_PERCPU_RWSEM", ["file_rwsem"], False, 49)]
    assert one(f["variables"], name="file_lock_list")["macro"] == "DEFINE_PER_CPU"
    assert f["_errors"] <= 4  # the `ERRCK(p)` line without its semicolon, the glued `;` (48)


def test_loop_rewrite_context():
    src = (b"int bus_for_each_dev(int b) {\n}\nstruct d *c_for_each(int x)\n{\n}\n"
           b"void f(void) {\n\tif (a)\n\t\tx();\n\telse list_for_each(p, h) {\n\t}\n#endif\n"
           b"\thlist_for_each(q, h) {\n\t}\n\tdo {\n\t} while_each_thread(g, t);\n"
           b"\tdo_for_each_rec(pg, rec) {\n\t} while_for_each_rec();\n}\n")
    out, found = rewrite_loop_macros(src)
    assert len(out) == len(src)
    assert [f[2] for f in found] == ["list_for_each", "hlist_for_each", "while_each_thread",
                                     "do_for_each_rec"]
    assert b"int bus_for_each_dev(int b)" in out and b"struct d *c_for_each(int x)" in out
    assert b"} while" + b" " * len("_each_thread") + b"(g, t);" in out
    assert b"} while_for_each_rec();" in out  # no condition: the macro closes braces, left alone


def test_split_args():
    assert split_args("a, f(b, c), d[1, 2]") == ["a", "f(b, c)", "d[1, 2]"]
    assert split_args("") == []


def test_comments_before_continuations_in_a_define():
    """tests/fixtures/misread/define_comments.c (shaped on net/core/pktgen.c:185-215): the comments in
    the #define are blanked before parsing, so the file keeps its file-scope DEFINE_MUTEX and its function,
    and no function `item` appears; a comment-like string in a function stays as written."""
    f = facts("define_comments.c", FIXTURES / "misread")
    assert names(f["functions"]) == {"show"}
    assert [(m["macro"], m["function_id"], m["line"]) for m in f["macro_uses"]] == [
        ("DEFINE_MUTEX", None, 25)]
    assert one(f["calls"], callee="seq_puts")["args"] == ["seq", '"/* not a comment */"']
    assert one(f["macros"], name="ITEM_LIST")["end_line"] == 13   # its last backslash joins the blank line 13
