"""The libclang front end (lima.analyzer.clang_*, lima-index --compile-commands, lima-query resolver-*).

Fixture tests parse tests/fixtures/clang/sites.c (a miniature of the kernel's lock API in include/locks.h)
through a compile_commands.json written here; the real test builds two kernel objects with
bench/kbuild_compdb.sh and checks sites read in the v6.1 source.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import FIXTURES, ROOT, lima_index, require_real
from lima.analyzer.clang_flags import CompileCommandsError, parse_flags, read_compile_commands
from lima.analyzer.clang_sites import file_sites

CLANG = FIXTURES / "clang"


def _line(text: str) -> int:
    """1-based line of the first line of sites.c containing TEXT (the assertions name code, not numbers)."""
    for i, line in enumerate((CLANG / "sites.c").read_text().splitlines(), 1):
        if text in line:
            return i
    raise AssertionError(f"{text!r} not in sites.c")


@pytest.fixture(scope="module")
def sites() -> dict[int, object]:
    fs = file_sites(str(CLANG / "sites.c"),
                    ["-I", str(CLANG / "include"), "-DFIXTURE_EXTRA", "-Wno-everything"])
    assert fs.errors == 0, fs.first_error
    return {s.line: s for s in fs.sites}


def _obj(s) -> tuple:
    return (s.object_kind, s.struct_name, s.field_path, s.symbol)


def test_member_paths_through_nested_and_anonymous_members(sites):
    assert _obj(sites[_line("spin_lock(&o->wait.lock)")]) == ("field", "outer", "wait.lock", None)
    # __lock is a member of an anonymous union: it folds away, as C writes it
    assert _obj(sites[_line("spin_lock(&o->__lock)")]) == ("field", "outer", "__lock", None)
    assert _obj(sites[_line("raw_spin_lock(&o->m.wait_lock)")]) == ("field", "outer", "m.wait_lock", None)
    s = sites[_line("mutex_lock(&o->m)")]
    assert _obj(s) == ("field", "outer", "m", None) and s.lock_type == "struct mutex"


def test_typedef_struct_pointers(sites):
    # outer_t names struct outer: the tag wins; anon_t names an anonymous struct: the typedef names it
    assert _obj(sites[_line("spin_lock(&t->lock)")]) == ("field", "outer", "lock", None)
    assert _obj(sites[_line("spin_lock(&a->lock)")]) == ("field", "anon_t", "lock", None)


def test_macro_spelled_primitive_and_its_argument(sites):
    s = sites[_line("spin_lock_irqsave(&o->in[2].lock, flags)")]
    assert (s.primitive, s.from_macro, s.arg_text) == ("spin_lock_irqsave", True, "&o->in[2].lock")
    assert _obj(s) == ("field", "outer", "in.lock", None)
    s = sites[_line("raw_spin_lock(&o->m.wait_lock)")]
    assert (s.primitive, s.from_macro) == ("raw_spin_lock", True)
    # a primitive macro inside another macro's argument is named by itself, not by WARN_ON
    s = sites[_line("WARN_ON(!raw_spin_trylock")]
    assert (s.primitive, s.from_macro, s.col) == ("raw_spin_trylock", True, 10)
    assert _obj(s) == ("field", "outer", "m.wait_lock", None)


def test_globals_static_locals_arrays_and_percpu(sites):
    assert _obj(sites[_line("spin_lock(&glob_lock);")]) == ("global", None, None, "glob_lock")
    assert _obj(sites[_line("spin_lock(&glob_locks[i])")]) == ("global", None, None, "glob_locks")
    assert _obj(sites[_line("spin_lock(&glob_inners[i].lock)")]) == ("global", "inner", "lock", "glob_inners")
    assert _obj(sites[_line("spin_lock(&local_static)")]) == ("global", None, None, "local_static")
    assert _obj(sites[_line("spin_lock(&o->locks[3])")]) == ("field", "outer", "locks", None)
    assert _obj(sites[_line("this_cpu_ptr(&pcpu_inner)->lock")]) == ("percpu", "inner", "lock", "pcpu_inner")
    assert _obj(sites[_line("per_cpu(pcpu_mutex, cpu)")]) == ("percpu", None, None, "pcpu_mutex")


def test_pointers_container_of_and_returns(sites):
    assert _obj(sites[_line("spin_lock(p);")]) == ("param", None, None, "p")
    # l = NULL, then l = &o->wait.lock: the one object it can hold
    assert _obj(sites[_line("spin_lock(l);")]) == ("field", "outer", "wait.lock", None)
    # many takes two objects: a local, never a guess
    assert _obj(sites[_line("spin_lock(many);")]) == ("local", None, None, "many")
    assert _obj(sites[_line("spin_lock(&c->lock)")]) == ("field", "outer", "lock", None)
    assert _obj(sites[_line("container_of(node, struct outer, node)->__lock")]) == \
        ("field", "outer", "__lock", None)
    s = sites[_line("spin_lock(o->lockp)")]
    assert _obj(s) == ("field", "outer", "lockp", None) and s.is_pointer
    assert _obj(sites[_line("spin_lock(outer_lockp(o))")]) == ("field", "outer", "wait.lock", None)
    assert _obj(sites[_line("READ_ONCE(o->lockp)")])[:3] == ("field", "outer", "lockp")
    # maybe_mutex() returns &o->m or NULL: NULL locks nothing
    assert _obj(sites[_line("mutex_lock(maybe_mutex(o))")]) == ("field", "outer", "m", None)


def test_not_sites_and_flags(sites):
    # a call inside a wrapper macro is the wrapper's (not a primitive); a member named down is not down()
    assert _line("my_lock(o);") not in sites and _line("ops->down(") not in sites
    # -DFIXTURE_EXTRA compiled the #ifdef block in
    assert _obj(sites[_line("spin_unlock(&glob_lock)")]) == ("global", None, None, "glob_lock")
    fs = file_sites(str(CLANG / "sites.c"), ["-I", str(CLANG / "include"), "-Wno-everything"])
    assert _line("spin_unlock(&glob_lock)") not in {s.line for s in fs.sites}


def test_parse_flags_keeps_parsing_flags_only():
    argv = ["gcc", "-Wp,-MMD,x.d", "-nostdinc", "-I./include", "-I", "arch/x86/include", "-isystem",
            "/usr/inc", "-include", "./k.h", "-D__KERNEL__", "-D", "X=1", "-UFOO", "-std=gnu11", "-m64",
            "-mpreferred-stack-boundary=3", "-O2", "-DKBUILD_MODNAME=\"m\"", "-c", "-o", "a.o", "a.c"]
    assert parse_flags(argv, "/build") == [
        "-nostdinc", "-I/build/include", "-I", "/build/arch/x86/include", "-isystem", "/usr/inc", "-include",
        "/build/k.h", "-D__KERNEL__", "-D", "X=1", "-UFOO", "-std=gnu11", "-m64", "-DKBUILD_MODNAME=\"m\"",
        "-Wno-everything"]


def test_read_compile_commands_errors(tmp_path):
    with pytest.raises(CompileCommandsError, match="no such file"):
        read_compile_commands(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("[{\"file\": 1}")
    with pytest.raises(CompileCommandsError, match=r"bad.json:1: not JSON"):
        read_compile_commands(bad)
    bad.write_text(json.dumps([{"file": "a.c", "directory": "/x"}]))
    with pytest.raises(CompileCommandsError, match="entry 1: needs \"command\""):
        read_compile_commands(bad)
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps([{"file": "a.c", "directory": "/x", "command": "cc -Iinc -DA='\"q\"' -c a.c"},
                              {"file": "/y/b.c", "directory": "/x", "arguments": ["cc", "-DB", "b.c"]}]))
    es = read_compile_commands(ok)
    assert [(e.file, e.args) for e in es] == [("/x/a.c", ("-I/x/inc", "-DA=\"q\"", "-Wno-everything")),
                                              ("/y/b.c", ("-DB", "-Wno-everything"))]


# ---------------------------------------------------------------------------------------------------
# lima-index --compile-commands on a copy of the fixture tree
# ---------------------------------------------------------------------------------------------------

def _tree(tmp_path: Path) -> tuple[Path, Path]:
    src = tmp_path / "src"
    shutil.copytree(CLANG, src)
    (src / "other.c").write_text(
        "#include \"locks.h\"\nvoid f(struct mutex *m) { mutex_lock(m); }\n"
        "struct cpu_base { spinlock_t lock; };\nstatic DEFINE_PER_CPU(struct cpu_base, cpu_bases);\n"
        "void h(void)\n{\n\tstruct cpu_base *b = this_cpu_ptr(&cpu_bases);\n\n\tspin_lock(&b->lock);\n}\n")
    (src / "broken.c").write_text("#include \"locks.h\"\n"
                                  "void g(spinlock_t *l) { spin_lock(l); int x = ; }\n")
    cc = tmp_path / "build" / "compile_commands.json"
    cc.parent.mkdir()
    cc.write_text(json.dumps([
        {"directory": str(src), "file": "sites.c", "arguments": ["gcc", "-I", "include", "-c", "sites.c"]},
        {"directory": str(src), "file": str(src / "other.c"), "command": "gcc -Iinclude -O2 -c other.c"},
        {"directory": str(src), "file": "broken.c", "command": "gcc -Iinclude -Werror -c broken.c"},
        {"directory": str(tmp_path), "file": "elsewhere.c", "command": "gcc -c elsewhere.c"},
        {"directory": str(src), "file": "gone.S", "command": "gcc -c gone.S"},
    ]))
    return src, cc


def _index(src: Path, db: Path, *options: str, env: dict | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "lima.analyzer.cli", str(src), "--db", str(db), "--jobs", "2", *options]
    env = dict(env or os.environ, COLUMNS="400")   # the summary table on one line per row
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)


def test_lima_index_compile_commands(tmp_path):
    src, cc = _tree(tmp_path)
    db = tmp_path / "k.duckdb"
    r = _index(src, db, "--compile-commands", str(cc))
    assert r.returncode == 0, r.stderr
    assert "3 files parsed (1 with errors), 0 unchanged" in r.stderr
    assert "1 outside SRC, 1 not indexed" in r.stderr
    assert "clang: broken.c: errors: 1 errors, first: broken.c:2: expected expression" in r.stderr
    con = duckdb.connect(str(db), read_only=True)
    status = dict(con.execute("SELECT f.path, c.status FROM clang_files c JOIN files f USING (file_id)")
                  .fetchall())
    assert status == {"sites.c": "parsed", "other.c": "parsed", "broken.c": "errors"}
    row = con.execute("SELECT object_kind, struct_name, field_path FROM clang_lock_sites JOIN files f "
                      "USING (file_id) WHERE f.path = 'sites.c' AND line = ?",
                      [_line("&o->wait.lock);")]).fetchone()
    assert row == ("field", "outer", "wait.lock")
    # broken.c has an error, its sites are still read
    assert con.execute("SELECT symbol FROM clang_lock_sites JOIN files f USING (file_id) "
                       "WHERE f.path = 'broken.c'").fetchall() == [("l",)]
    con.close()
    # a second run parses nothing again; touching the header parses every file that includes it
    r = _index(src, db, "--compile-commands", str(cc))
    assert r.returncode == 0 and "0 files parsed (0 with errors), 3 unchanged" in r.stderr, r.stderr
    os.utime(src / "include" / "locks.h", ns=(1, 1))
    r = _index(src, db, "--compile-commands", str(cc))
    assert r.returncode == 0 and "3 files parsed (1 with errors), 0 unchanged" in r.stderr, r.stderr


def test_resolver_queries_and_lock_site_column(tmp_path):
    src, cc = _tree(tmp_path)
    db = tmp_path / "k.duckdb"
    assert _index(src, db, "--compile-commands", str(cc)).returncode == 0
    q = [sys.executable, "-m", "lima.queries.cli"]
    r = subprocess.run([*q, "resolver-check", "--db", str(db), "--format", "json"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    cats = {row["category"]: row["sites"] for row in json.loads(r.stdout)}
    assert cats["agree"] >= 10
    # the #ifdef FIXTURE_EXTRA block is compiled out for clang: a site only tree-sitter has
    r = subprocess.run([*q, "resolver-diff", "--db", str(db), "--category", "only-ts", "--format", "json"],
                       capture_output=True, text=True)
    rows = json.loads(r.stdout)
    assert {"site": f"sites.c:{_line('spin_unlock(&glob_lock)')}", "primitive": "spin_unlock"}.items() <= \
        next(x for x in rows if x["site"].endswith(f":{_line('spin_unlock(&glob_lock)')}")).items()
    r = subprocess.run([*q, "lock-site", "--db", str(db), "--function", "members", "--format", "json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    by_line = {x["line"]: x for x in json.loads(r.stdout)}
    assert by_line[_line("spin_lock(&o->wait.lock)")]["clang"] == "agrees"
    r = subprocess.run([*q, "lock-site", "--db", str(db), "--function", "f", "--format", "json"],
                       capture_output=True, text=True)
    assert json.loads(r.stdout)[0]["clang"] == "agrees"   # mutex_lock(m): param m on both sides
    # tree-sitter: cpu_base.lock (b's type); clang also names the per-CPU variable b points to
    r = subprocess.run([*q, "lock-site", "--db", str(db), "--function", "h", "--format", "json"],
                       capture_output=True, text=True)
    row = json.loads(r.stdout)[0]
    assert (row["struct"], row["field"]) == ("cpu_base", "lock")
    assert row["clang"].startswith("same member: percpu cpu_bases.lock"), row["clang"]


def test_bad_compile_commands_is_one_line_exit_2(tmp_path):
    src, _cc = _tree(tmp_path)
    db = tmp_path / "k.duckdb"
    r = _index(src, db, "--compile-commands", str(tmp_path / "missing.json"))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f"lima-index: error: {tmp_path / 'missing.json'}: no such file (a kernel build writes it with "
        "scripts/clang-tools/gen_compile_commands.py)"]
    assert not db.exists()
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    r = _index(src, db, "--compile-commands", str(bad))
    assert r.returncode == 2 and "the top level must be a list" in r.stderr
    r = _index(src, db, "--compile-commands", str(bad), "--no-clang")
    assert r.returncode == 2 and "not allowed with argument" in r.stderr


def test_crashed_worker_costs_one_file(tmp_path):
    src, cc = _tree(tmp_path)
    db = tmp_path / "k.duckdb"
    env = dict(os.environ, LIMA_CLANG_TEST_CRASH="other.c")
    r = _index(src, db, "--compile-commands", str(cc), env=env)
    assert r.returncode == 0, r.stderr
    assert "clang: other.c: crashed: worker died (exit code 139)" in r.stderr
    con = duckdb.connect(str(db), read_only=True)
    status = con.execute("SELECT f.path, c.status FROM clang_files c JOIN files f USING (file_id)").fetchall()
    assert dict(status) == {"sites.c": "parsed", "other.c": "crashed", "broken.c": "errors"}
    con.close()
    r = _index(src, db, "--compile-commands", str(cc))   # the next run parses the crashed file only
    assert r.returncode == 0 and "1 files parsed (0 with errors), 2 unchanged" in r.stderr, r.stderr


# ---------------------------------------------------------------------------------------------------
# The real v6.1 tree
# ---------------------------------------------------------------------------------------------------

def test_real_kernel_objects(kernel_src, tmp_path):
    for tool in ("make", "gcc", "flex", "bison", "bc"):
        if shutil.which(tool) is None:
            require_real(f"{tool} not installed (apt-packages.txt)")
    script = str(ROOT / "bench" / "kbuild_compdb.sh")
    r = subprocess.run(["bash", script, "kernel/locking/mutex.o", "mm/mmap.o"], capture_output=True,
                       text=True, timeout=900, env=dict(os.environ, LIMA_KERNEL_SRC=str(kernel_src)))
    assert r.returncode == 0, r.stderr[-2000:]
    compdb = ROOT / ".cache" / "kbuild" / "compile_commands.json"
    wanted = {"kernel/locking/mutex.c", "mm/mmap.c"}
    entries = [e for e in json.loads(compdb.read_text())
               if any(e["file"].endswith("/" + w) for w in wanted)]
    assert len(entries) == 2
    cc = tmp_path / "compile_commands.json"
    cc.write_text(json.dumps(entries))
    db = lima_index(kernel_src, tmp_path / "k.duckdb", ["kernel", "mm", "include", "arch/x86/include"],
                    "--compile-commands", str(cc))
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM clang_files WHERE status = 'parsed'").fetchone()[0] == 2

    def site(path: str, line: int) -> list[tuple]:
        return con.execute("SELECT primitive, object_kind, struct_name, field_path, symbol "
                           "FROM clang_lock_sites JOIN files f USING (file_id) WHERE f.path = ? AND line = ?",
                           [path, line]).fetchall()

    # mm/mmap.c:3716 vm_lock_mapping: down_write_nest_lock(&mapping->i_mmap_rwsem, &mm->mmap_lock);
    assert site("mm/mmap.c", 3716) == [("down_write_nest_lock", "field", "address_space", "i_mmap_rwsem",
                                        None)]
    # mm/mmap.c:3686 vm_lock_anon_vma: down_write_nest_lock(&anon_vma->root->rwsem, &mm->mmap_lock);
    assert site("mm/mmap.c", 3686) == [("down_write_nest_lock", "field", "anon_vma", "rwsem", None)]
    # mm/mmap.c:3765 mm_take_all_locks: mutex_lock(&mm_all_locks_mutex); (static DEFINE_MUTEX at :3677)
    assert site("mm/mmap.c", 3765) == [("mutex_lock", "global", None, None, "mm_all_locks_mutex")]
    # mm/mmap.c:2048 expand_upwards: spin_lock(&mm->page_table_lock) is under CONFIG_STACK_GROWSUP (not x86)
    assert site("mm/mmap.c", 2048) == []
    assert site("mm/mmap.c", 2134) == [("spin_lock", "field", "mm_struct", "page_table_lock", None)]
    # kernel/locking/mutex.c:617 __mutex_lock_common: raw_spin_lock(&lock->wait_lock) (a macro)
    assert site("kernel/locking/mutex.c", 617) == [("raw_spin_lock", "field", "mutex", "wait_lock", None)]
    # kernel/locking/mutex.c:1027 mutex_lock_io: mutex_lock(lock), lock a parameter
    assert site("kernel/locking/mutex.c", 1027) == [("mutex_lock", "param", None, None, "lock")]
    con.close()
