#!/usr/bin/env python3
"""Recall of LIMA's lock facts against the compiler's own view of Debian's v6.1 kernel image.

Outside truth (nothing of LIMA is used to build it):
  * BTF of the image: every (struct/union, member path, lock type) of vmlinux (from the vmlinuz of
    linux-image-<abi>-unsigned, unpacked with the kernel's scripts/extract-vmlinux) and of its 4,000
    modules (split BTF on top of vmlinux), read with `bpftool -j btf dump`.
  * DWARF of the image (linux-image-<abi>-dbg): every variable with static storage (a DW_OP_addr
    location: file-scope, function-static and per-CPU variables) whose own type is a lock type
    (arrays of locks included), read with `llvm-dwarfdump --debug-info`.  BTF has VAR entries only for
    per-CPU variables, so DWARF is needed for the rest.

Both lists are cached as TSV under .cache/btf/ (the packages are fetched with `apt-get download` and
unpacked with `dpkg-deb -x` there on first use; ~1 GB download, ~6 GB unpacked).

Then the script compares them with a LIMA database:
  * field recall  = BTF rows whose (struct name, member path) is in lock_fields (struct_name, field_path);
  * global recall = DWARF lock variables whose (name, source file) is in global_locks (symbol, file).

Configs: the image is one configuration (Debian amd64), while the LIMA index covers the whole source
tree (every config's structs and variables), so every row of the image should be in the database:
recall is the figure; precision is not measured (the tree has many rows no amd64 build compiles).
Each miss gets a reason: `name not in tree text` (the name is written nowhere in the tree, e.g. struct
batch_##type pasted together by a macro: no text-based indexer can see it), `struct not indexed` /
`variable not indexed` (the code-facts tables lack it: indexer), `lock member missed` / `lock variable
missed` (the code facts have it but the lock pass made no lock row), `path differs` / `file differs`
(a row with the same leaf exists). Lock types whose kind is a pseudo lock in the catalogue (struct
lockdep_map) are counted apart.

Tools: apt-get, dpkg-deb, sh + the tree's scripts/extract-vmlinux, objcopy, bpftool, llvm-dwarfdump
(package llvm). The first run takes ~10 minutes on 2 cores (DWARF of vmlinux and ~4,000 modules).

Usage:
  .venv/bin/python bench/lock_recall.py --db .cache/full.duckdb [--misses 30] [--format json]
  .venv/bin/python bench/lock_recall.py --extract-only      # build the cached TSVs only
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "btf"
KSRC = Path(os.environ.get("LIMA_KERNEL_SRC") or ROOT / ".cache" / "linux-source-6.1")
DEFAULT_ABI = "6.1.0-56-amd64"  # Debian 6.1.192-2, the version of the installed linux-source-6.1

# Lock types of the catalogue (C spelling). Used when analyzer/lock_catalogue.py is not importable.
FALLBACK_LOCK_TYPES = [
    "spinlock_t", "raw_spinlock_t", "rwlock_t", "struct mutex", "struct rw_semaphore", "struct semaphore",
    "seqlock_t", "seqcount_t", "seqcount_raw_spinlock_t", "seqcount_spinlock_t", "seqcount_rwlock_t",
    "seqcount_mutex_t", "seqcount_latch_t", "struct percpu_rw_semaphore", "struct rt_mutex",
    "struct ww_mutex", "local_lock_t", "arch_spinlock_t", "struct lockref", "wait_queue_head_t",
]
# The struct behind a typedef'd lock type, when code names the struct directly (struct spinlock x;).
STRUCT_ALIASES = {
    "struct spinlock": "spinlock_t", "struct raw_spinlock": "raw_spinlock_t", "struct seqcount": "seqcount_t",
    "struct wait_queue_head": "wait_queue_head_t", "struct seqcount_raw_spinlock": "seqcount_raw_spinlock_t",
    "struct seqcount_spinlock": "seqcount_spinlock_t", "struct seqcount_rwlock": "seqcount_rwlock_t",
    "struct seqcount_mutex": "seqcount_mutex_t", "struct qspinlock": "arch_spinlock_t",
}
BUILD_PREFIX = re.compile(r"^.*?build_amd64_none_amd64/")
NOT_IN_TREE = "name not in tree text"
FIELD_COLS = ["struct", "field_path", "lock_type", "is_array", "origin"]
VAR_COLS = ["name", "file", "line", "lock_type", "is_array", "function", "origin"]


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""


def lock_types() -> tuple[set[str], set[str]]:
    """(lock type names, pseudo-lock type names) in C spelling, from the catalogue when present."""
    try:
        from lima.analyzer import lock_catalogue
    except ImportError:
        return set(FALLBACK_LOCK_TYPES), set()
    pseudo_kinds = set(getattr(lock_catalogue, "PSEUDO_KINDS", set()))
    names, pseudo = set(), set()
    for t in getattr(lock_catalogue, "LOCK_TYPES", []):
        names.add(t.type_name)
        if t.lock_kind in pseudo_kinds:
            pseudo.add(t.type_name)
    return (names, pseudo) if names else (set(FALLBACK_LOCK_TYPES), set())


def check_cache_types(lts: set[str]) -> str | None:
    """A warning when the cached lists were built with another type list (then --refresh rebuilds)."""
    f = CACHE / "lock_types.txt"
    if not f.is_file():
        f.write_text("\n".join(sorted(lts)) + "\n")
        return None
    old = set(f.read_text().split("\n")) - {""}
    if old == lts:
        return None
    return (f"note: the cached lists were built with another lock type list (+{sorted(lts - old)} "
            f"-{sorted(old - lts)}); run with --refresh to rebuild them")


def canon(name: str, types: set[str]) -> str | None:
    """Catalogue spelling of a type name (struct tags given as 'struct x'), or None."""
    if name in types:
        return name
    alias = STRUCT_ALIASES.get(name)
    return alias if alias in types else None


# ---------------------------------------------------------------------------------------------------
# Packages
# ---------------------------------------------------------------------------------------------------

def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    """Run a command; a failure becomes a UserError naming it."""
    try:
        return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)
    except FileNotFoundError as e:
        raise UserError(f"{cmd[0]}: not installed") from e
    except subprocess.CalledProcessError as e:
        raise UserError(f"{' '.join(cmd)}: {e.stderr.strip().splitlines()[-1:] or e.returncode}") from e


def ensure_unpacked(pkg: str, dest: Path) -> Path:
    """apt-get download PKG into .cache/btf/deb and unpack it (once) into DEST."""
    if dest.is_dir():
        return dest
    debdir = CACHE / "deb"
    debdir.mkdir(parents=True, exist_ok=True)
    debs = sorted(debdir.glob(f"{pkg}_*.deb"))
    if not debs:
        print(f"downloading {pkg} ...", file=sys.stderr)
        run(["apt-get", "download", pkg], cwd=debdir)
        debs = sorted(debdir.glob(f"{pkg}_*.deb"))
    tmp = Path(tempfile.mkdtemp(dir=CACHE, prefix=".unpack-"))
    try:
        run(["dpkg-deb", "-x", str(debs[-1]), str(tmp)])
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def atomic_tsv(path: Path, cols: list[str], rows: list[tuple]) -> None:
    """Write a TSV next to PATH and rename it into place (never half-written)."""
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(cols)
        w.writerows(rows)
    tmp.rename(path)


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a TSV written by atomic_tsv."""
    with path.open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


# ---------------------------------------------------------------------------------------------------
# BTF: (struct, member path, lock type)
# ---------------------------------------------------------------------------------------------------

def btf_types(path: Path, base: Path | None = None) -> list[dict]:
    """Types of a BTF blob (ELF .BTF or raw), through `bpftool -j btf dump`; split BTF with BASE."""
    cmd = ["bpftool", "-j"] + (["-B", str(base)] if base else []) + ["btf", "dump", "file", str(path)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    data = json.loads(out.stdout or "{}")
    if out.returncode or "types" not in data:
        raise UserError(f"{path}: bpftool cannot read its BTF: {data.get('error') or out.stderr.strip()}")
    return data["types"]


def member_rows(types: dict[int, dict], own: list[dict], lts: set[str]) -> set[tuple[str, str, str, bool]]:
    """(struct, field_path, lock_type, is_array) for every struct/union of OWN (anonymous ones flattened)."""

    def lock_of(tid: int) -> tuple[str | None, int | None, bool]:
        """(lock type, anonymous struct id to descend into, through an array) of a member type."""
        is_array = False
        via_typedef = False
        while tid:
            t = types[tid]
            kind, name = t["kind"], t.get("name", "(anon)")
            if kind == "TYPEDEF":
                hit = canon(name, lts)
                if hit:
                    return hit, None, is_array
                via_typedef = True
                tid = t["type_id"]
            elif kind in ("CONST", "VOLATILE", "RESTRICT", "TYPE_TAG"):
                tid = t["type_id"]
            elif kind == "ARRAY":
                is_array = True
                tid = t["type_id"]
            elif kind in ("STRUCT", "UNION"):
                if name == "(anon)":
                    return None, (None if via_typedef else tid), is_array
                return canon(f"{kind.lower()} {name}", lts), None, is_array
            else:
                return None, None, is_array
        return None, None, is_array

    rows: set[tuple[str, str, str, bool]] = set()

    def walk(outer: str, sid: int, prefix: str, arr: bool, depth: int) -> None:
        for m in types[sid].get("members", []):
            lt, anon, is_array = lock_of(m["type_id"])
            name = m.get("name", "")
            name = "" if name == "(anon)" else name
            path = f"{prefix}.{name}" if prefix and name else (name or prefix)
            if lt and name:
                rows.add((outer, path, lt, arr or is_array))
            elif anon is not None and depth < 16:
                walk(outer, anon, path, arr or is_array, depth + 1)

    for t in own:
        if t["kind"] in ("STRUCT", "UNION") and t.get("name", "(anon)") != "(anon)":
            walk(t["name"], t["id"], "", False, 0)
        elif t["kind"] == "TYPEDEF" and t["type_id"]:
            target = types[t["type_id"]]
            if target["kind"] in ("STRUCT", "UNION") and target.get("name", "(anon)") == "(anon)":
                walk(t["name"], target["id"], "", False, 0)
    return rows


def extract_btf(abi: str, lts: set[str], progress) -> Path:
    """Build .cache/btf/btf_lock_members.tsv from the unsigned image package (cached)."""
    out = CACHE / "btf_lock_members.tsv"
    if out.is_file():
        return out
    img = ensure_unpacked(f"linux-image-{abi}-unsigned", CACHE / "unsigned")
    vmlinux = CACHE / "vmlinux-from-vmlinuz"
    if not vmlinux.is_file():
        extract = KSRC / "scripts" / "extract-vmlinux"
        with vmlinux.with_suffix(".tmp").open("wb") as f:
            r = subprocess.run(["sh", str(extract), str(img / "boot" / f"vmlinuz-{abi}")], stdout=f)
        if r.returncode:
            raise UserError(f"{extract}: could not extract vmlinux from the vmlinuz")
        vmlinux.with_suffix(".tmp").rename(vmlinux)
    base = CACHE / "vmlinux.btf"
    if not base.is_file():
        run(["objcopy", "-O", "binary", "--only-section=.BTF", str(vmlinux), str(base.with_suffix(".tmp"))])
        base.with_suffix(".tmp").rename(base)
    vtypes = btf_types(base)
    types = {t["id"]: t for t in vtypes}
    rows = {r + ("vmlinux",) for r in member_rows(types, vtypes, lts)}
    kos = sorted((img / "lib" / "modules" / abi / "kernel").rglob("*.ko"))
    with progress:
        task = progress.add_task("BTF of modules", total=len(kos))
        for ko in kos:
            own = btf_types(ko, base)
            mtypes = dict(types)
            mtypes.update((t["id"], t) for t in own)
            rel = str(ko.relative_to(img / "lib" / "modules" / abi))
            rows |= {r + (rel,) for r in member_rows(mtypes, own, lts)}
            progress.advance(task)
    # one row per (struct, path, lock type): the first origin (vmlinux sorts before kernel/...)
    best: dict[tuple, tuple] = {}
    for r in sorted(rows, key=lambda r: (r[4] != "vmlinux", r)):
        best.setdefault(r[:3], r)
    atomic_tsv(out, FIELD_COLS, [(s, p, lt, int(a), o) for s, p, lt, a, o in sorted(best.values())])
    return out


# ---------------------------------------------------------------------------------------------------
# DWARF: lock variables with static storage
# ---------------------------------------------------------------------------------------------------

DIE = re.compile(r"^0x([0-9a-f]+):(\s+)(DW_TAG_\w+|NULL)")
ATTR = re.compile(r"^\s+DW_AT_(\w+)\s+\((?:0x([0-9a-f]+) )?(.*)\)$")


def type_name(text: str) -> tuple[str, bool, bool]:
    """(base name, is_array, is_pointer) of a type as llvm-dwarfdump prints it ("const spinlock_t[4]")."""
    t = text.strip('"')
    is_array = "[" in t
    t = re.sub(r"\[[^\]]*\]", "", t).strip()
    is_pointer = "*" in t or "(" in t
    t = re.sub(r"\b(const|volatile|restrict)\b", "", t).strip()
    return t, is_array, is_pointer


def dwarf_lock_vars(job: tuple[str, str, list[str]]) -> list[tuple]:
    """Static-storage variables of one ELF file whose own type is a lock type (a worker process)."""
    path, origin, lts_list = job
    lts = set(lts_list)
    struct_names = {t[len("struct "):]: t for t in lts if t.startswith("struct ")}
    struct_names.update({k[len("struct "):]: v for k, v in STRUCT_ALIASES.items() if v in lts})
    proc = subprocess.Popen(["llvm-dwarfdump", "--debug-info", path], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, bufsize=1 << 20)
    typedefs: dict[str, str] = {}       # typedef name -> printed target
    decls: dict[str, dict] = {}         # offset of a declaration DIE -> its attributes
    defs: list[dict] = []
    funcs: list[tuple[int, str]] = []   # (indent, name) of enclosing subprograms
    cur: dict | None = None

    def flush(d: dict | None) -> None:
        if d is None:
            return
        if d["tag"] == "DW_TAG_typedef" and "name" in d and "type" in d:
            typedefs[d["name"].strip('"')] = d["type"]
        elif d["tag"] == "DW_TAG_variable":
            if "location" in d and "DW_OP_addr" in d["location"]:
                defs.append(d)
            elif "declaration" in d:
                decls[d["off"]] = d
        elif d["tag"] == "DW_TAG_subprogram" and "name" in d:
            funcs.append((d["indent"], d["name"].strip('"')))

    assert proc.stdout is not None
    for line in proc.stdout:
        if line[:2] == "0x":
            m = DIE.match(line)
            if not m:
                continue
            flush(cur)
            indent = len(m.group(2))
            while funcs and funcs[-1][0] >= indent:
                funcs.pop()
            tag = m.group(3)
            cur = None
            if tag in ("DW_TAG_variable", "DW_TAG_typedef", "DW_TAG_subprogram"):
                cur = {"tag": tag, "off": m.group(1).lstrip("0"), "indent": indent,
                       "func": funcs[-1][1] if funcs else ""}
        elif cur is not None and "DW_AT_" in line:
            m = ATTR.match(line)
            if m:
                key = m.group(1)
                cur[key] = m.group(3)
                if key == "specification":
                    cur["spec"] = (m.group(2) or "").lstrip("0")
    flush(cur)
    proc.wait()
    if proc.returncode:
        return [("#error", path, "", "", "", "", origin)]

    def resolve(text: str) -> tuple[str | None, bool]:
        name, is_array, is_pointer = type_name(text)
        seen = 0
        while not is_pointer and seen < 8:
            hit = canon(name, lts) or struct_names.get(name)
            if hit:
                return hit, is_array
            if name not in typedefs:
                break
            name, arr, is_pointer = type_name(typedefs[name])
            is_array |= arr
            seen += 1
        return None, is_array

    rows = []
    for d in defs:
        decl = decls.get(d.get("spec", ""), {})
        ttext = d.get("type") or decl.get("type")
        name = d.get("name") or decl.get("name") or d.get("specification", "")
        if not ttext:
            continue
        lt, is_array = resolve(ttext)
        if not lt:
            continue
        f = (d.get("decl_file") or decl.get("decl_file") or "").strip('"')
        rel = os.path.normpath(BUILD_PREFIX.sub("", f)) if BUILD_PREFIX.match(f) else ""
        line = d.get("decl_line") or decl.get("decl_line") or ""
        rows.append((name.strip('"'), rel, line, lt, int(is_array), d["func"], origin))
    return rows


def extract_dwarf(abi: str, lts: set[str], progress, jobs: int) -> Path:
    """Build .cache/btf/dwarf_lock_vars.tsv from the debug package (cached)."""
    out = CACHE / "dwarf_lock_vars.tsv"
    if out.is_file():
        return out
    dbg = ensure_unpacked(f"linux-image-{abi}-dbg", CACHE / "dbg")
    moddir = dbg / "usr" / "lib" / "debug" / "lib" / "modules" / abi
    work = [(str(moddir / "vmlinux"), "vmlinux", sorted(lts))]
    kos = sorted((moddir / "kernel").rglob("*.ko"))
    work += [(str(p), str(p.relative_to(moddir)), sorted(lts)) for p in kos]
    rows: set[tuple] = set()
    errors = []
    with progress, ProcessPoolExecutor(max_workers=jobs) as pool:
        task = progress.add_task("DWARF of vmlinux and modules", total=len(work))
        for result in pool.map(dwarf_lock_vars, work, chunksize=4):
            for r in result:
                (errors if r[0] == "#error" else rows).add(r)
            progress.advance(task)
    if errors:
        raise UserError(f"llvm-dwarfdump failed on {len(errors)} files, e.g. {sorted(errors)[0][1]}")
    # a static variable defined in a header appears once per compilation unit: keep one
    best: dict[tuple, tuple] = {}
    for r in sorted(rows, key=lambda r: (r[6] != "vmlinux", r)):
        best.setdefault((r[0], r[1], r[2], r[5]), r)
    atomic_tsv(out, VAR_COLS, sorted(best.values()))
    return out


# ---------------------------------------------------------------------------------------------------
# Comparison with the LIMA database
# ---------------------------------------------------------------------------------------------------

@dataclass
class Miss:
    """One row of the outside truth LIMA lacks, with the reason."""

    key: str
    name: str
    reason: str
    detail: str
    origin: str


def tree_definitions(names: set[str], kind: str) -> set[str]:
    """Which NAMES the source tree's text defines: struct/union tags or typedef'd bodies ("struct"),
    or which appear at all as identifiers ("ident")."""
    if not names:
        return set()
    if kind == "struct":
        pats = [re.compile(rb"\b(?:struct|union)\s+(\w+)\s*(?:__\w+(?:\(\([^)]*\)\))?\s*)*\{"),
                re.compile(rb"\}\s*(?:__\w+(?:\(\([^)]*\)\))?\s*)*(\w+)\s*;")]
    else:
        pats = [re.compile(rb"[A-Za-z_]\w*")]
    wanted = {n.encode() for n in names}
    found: set[bytes] = set()
    for root, _dirs, files in os.walk(KSRC):
        for fn in files:
            if fn.endswith((".c", ".h")):
                try:
                    data = Path(root, fn).read_bytes()
                except OSError:
                    continue
                for pat in pats:
                    found.update(w for w in pat.findall(data) if w in wanted)
    return {n.decode() for n in found}


def strip_idx(path: str) -> str:
    """Member path without array subscripts (db paths may keep [i])."""
    return re.sub(r"\[[^\]]*\]", "", path or "").replace("->", ".")


def compare(db: Path, fields_tsv: Path, vars_tsv: Path, pseudo: set[str]) -> dict:
    """Recall figures and misses of the db against the BTF and DWARF lists (pseudo-lock types apart)."""
    import duckdb

    if not db.is_file():
        raise UserError(f"{db}: no such database (build one with lima-index SRC --db {db})")
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as e:
        raise UserError(f"{db}: cannot open: {str(e).splitlines()[0]}") from e
    have = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    for t in ("lock_fields", "global_locks", "structs", "typedefs", "variables", "files"):
        if t not in have:
            raise UserError(f"{db}: no {t} table (index the tree with lima-index and its lock pass)")
    norm = "regexp_replace(coalesce(struct_name, ''), '^(struct|union) ', '')"
    rows = con.execute(f"SELECT {norm}, field_path FROM lock_fields").fetchall()
    lock_fields = {(s, strip_idx(p)) for s, p in rows}
    leaves = defaultdict(set)
    for s, p in lock_fields:
        leaves[(s, p.rsplit(".", 1)[-1])].add(p)
    multi_def = {r[0] for r in con.execute(
        "SELECT name FROM structs WHERE name IS NOT NULL GROUP BY name HAVING count(*) > 1").fetchall()}
    where_struct: dict[str, str] = {}
    for name, path, line in con.execute(
            "SELECT s.name, f.path, s.start_line FROM structs s JOIN files f USING (file_id) "
            "WHERE s.name IS NOT NULL UNION ALL "
            "SELECT t.name, f.path, t.line FROM typedefs t JOIN files f USING (file_id)").fetchall():
        where_struct.setdefault(name, f"{path}:{line}")
    gl_by_name = defaultdict(set)
    for s, p in con.execute("SELECT symbol, f.path FROM global_locks g JOIN files f USING (file_id) "
                            "WHERE member_path IS NULL").fetchall():
        gl_by_name[s].add(p)
    db_vars: dict[tuple[str, str], str] = {}
    for name, path, line, type_text, array_dims, macro in con.execute(
            "SELECT v.name, f.path, v.line, v.type_text, v.array_dims, v.macro FROM variables v "
            "JOIN files f USING (file_id) WHERE v.scope IN ('global', 'static_local')").fetchall():
        db_vars.setdefault((name, path), f"variables has {path}:{line} type '{type_text}{array_dims or ''}'"
                           + (f" via {macro}" if macro else ""))
    var_names = {n for n, _ in db_vars}
    n_db_files = con.execute("SELECT count(*) FROM files WHERE status = 'ok'").fetchone()[0]
    n_db_fields = con.execute("SELECT count(*) FROM lock_fields").fetchone()[0]
    n_db_globals = con.execute("SELECT count(*) FROM global_locks").fetchone()[0]
    con.close()

    btf = read_tsv(fields_tsv)
    field_misses: list[Miss] = []
    for r in btf:
        struct, path = r["struct"], r["field_path"]
        if (struct, path) in lock_fields:
            continue
        key = f"{struct}.{path} ({r['lock_type']})"
        leaf = path.rsplit(".", 1)[-1]
        if struct not in where_struct:
            field_misses.append(Miss(key, struct, "struct not indexed", "", r["origin"]))
        elif (struct, leaf) in leaves:
            other = ", ".join(sorted(leaves[(struct, leaf)]))
            field_misses.append(Miss(key, struct, "path differs", f"db has {other}", r["origin"]))
        else:
            field_misses.append(Miss(key, struct, "lock member missed", f"struct at {where_struct[struct]}",
                                     r["origin"]))
    in_tree = tree_definitions({m.name for m in field_misses if m.reason == "struct not indexed"}, "struct")
    for m in field_misses:
        if m.reason == "struct not indexed" and m.name not in in_tree:
            m.reason = NOT_IN_TREE

    dw = read_tsv(vars_tsv)
    for r in dw:  # module objects built from ../ paths (arch/x86/kvm/../../../virt/kvm/kvm_main.c)
        r["file"] = os.path.normpath(r["file"]) if r["file"] else ""
    var_misses: list[Miss] = []
    hits_name = 0
    for r in dw:
        files = gl_by_name.get(r["name"], set())
        hits_name += bool(files)
        if files and (not r["file"] or r["file"] in files):
            continue
        func = f" in {r['function']}()" if r["function"] else ""
        key = f"{r['name']}{func} ({r['lock_type']}) {r['file']}:{r['line']}"
        if files:
            var_misses.append(Miss(key, r["name"], "file differs", "db has " + ", ".join(sorted(files)),
                                   r["origin"]))
        elif (r["name"], r["file"]) in db_vars:
            var_misses.append(Miss(key, r["name"], "lock variable missed", db_vars[(r["name"], r["file"])],
                                   r["origin"]))
        elif r["name"] in var_names:
            var_misses.append(Miss(key, r["name"], "lock variable missed",
                                   "variables has the name in another file", r["origin"]))
        else:
            var_misses.append(Miss(key, r["name"], "variable not indexed", "", r["origin"]))
    in_tree = tree_definitions({m.name for m in var_misses if m.reason == "variable not indexed"}, "ident")
    for m in var_misses:
        if m.reason == "variable not indexed" and m.name not in in_tree:
            m.reason = NOT_IN_TREE

    def figure(rows: list[dict], misses: list[Miss]) -> dict:
        total = len(rows)
        not_in_tree = sum(m.reason == NOT_IN_TREE for m in misses)
        found = total - len(misses)
        return {"total": total, "found": found, "recall": round(found / total, 4) if total else None,
                "not_in_tree": not_in_tree,
                "recall_in_tree": round(found / (total - not_in_tree), 4) if total > not_in_tree else None,
                "miss_reasons": dict(Counter(m.reason for m in misses).most_common())}

    def split(rows: list[dict], misses: list[Miss], key) -> tuple[dict, dict]:
        is_pseudo = {key(r) for r in rows if r["lock_type"] in pseudo}
        real_rows = [r for r in rows if key(r) not in is_pseudo]
        ps_rows = [r for r in rows if key(r) in is_pseudo]
        real_m = [m for m in misses if m.key not in is_pseudo]
        ps_m = [m for m in misses if m.key in is_pseudo]
        return figure(real_rows, real_m), figure(ps_rows, ps_m)

    def field_key(r: dict) -> str:
        return f"{r['struct']}.{r['field_path']} ({r['lock_type']})"

    def var_key(r: dict) -> str:
        func = f" in {r['function']}()" if r["function"] else ""
        return f"{r['name']}{func} ({r['lock_type']}) {r['file']}:{r['line']}"

    fields, fields_pseudo = split(btf, field_misses, field_key)
    fields["rows_of_struct_names_defined_twice"] = sum(r["struct"] in multi_def for r in btf)
    globals_, globals_pseudo = split(dw, var_misses, var_key)
    return {
        "db": str(db), "db_files": n_db_files, "db_lock_fields": n_db_fields, "db_global_locks": n_db_globals,
        "fields": fields, "globals": globals_,
        "pseudo_fields": fields_pseudo, "pseudo_globals": globals_pseudo, "pseudo_types": sorted(pseudo),
        "globals_by_name_only": {"found": hits_name, "recall": round(hits_name / len(dw), 4) if dw else None},
        "field_misses": [m.__dict__ for m in field_misses], "global_misses": [m.__dict__ for m in var_misses],
    }


def print_text(res: dict, n: int) -> None:
    """Human-readable figures and the first N misses of each reason."""
    print(f"database {res['db']}: {res['db_files']} files indexed, {res['db_lock_fields']} lock_fields rows, "
          f"{res['db_global_locks']} global_locks rows")
    for key, label, target in (("fields", "BTF struct lock members in lock_fields", 0.99),
                               ("globals", "DWARF static lock variables in global_locks", 0.98)):
        f = res[key]
        ok = "ok" if f["recall"] is not None and f["recall"] >= target else "BELOW TARGET"
        print(f"{label}: {f['found']}/{f['total']} = {100 * (f['recall'] or 0):.2f}% "
              f"(target {100 * target:.0f}%: {ok}); names not in tree text: {f['not_in_tree']}; "
              f"recall of rows in the tree: {100 * (f['recall_in_tree'] or 0):.2f}%")
        for reason, count in f["miss_reasons"].items():
            print(f"  {reason}: {count}")
    for key, label in (("pseudo_fields", "BTF members of pseudo-lock types"),
                       ("pseudo_globals", "DWARF variables of pseudo-lock types")):
        f = res[key]
        if f["total"]:
            print(f"{label} ({', '.join(res['pseudo_types'])}, not in the figures above): "
                  f"{f['found']}/{f['total']}")
    print(f"BTF rows whose struct name has several definitions in the tree (a hit may be on a namesake): "
          f"{res['fields']['rows_of_struct_names_defined_twice']}")
    g = res["globals_by_name_only"]
    print(f"DWARF static lock variables found by name alone: {g['found']} ({100 * (g['recall'] or 0):.2f}%)")
    for key in ("field_misses", "global_misses"):
        groups: dict[str, list[dict]] = defaultdict(list)
        for m in res[key]:
            groups[m["reason"]].append(m)
        for reason, ms in groups.items():
            print(f"\n{key.replace('_', ' ')}: {reason} ({len(ms)}), first {min(n, len(ms))}:")
            for m in ms[:n]:
                extra = f"  [{m['detail']}]" if m["detail"] else ""
                print(f"  {m['key']}  <{m['origin']}>{extra}")


def main(argv: list[str] | None = None) -> int:
    """Entry point: extract (cached) and compare."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    ap.add_argument("--db", type=Path, default=Path(os.environ.get("LIMA_DB", "lima.duckdb")),
                    help="LIMA database (default $LIMA_DB or lima.duckdb)")
    ap.add_argument("--abi", default=DEFAULT_ABI, help=f"Debian kernel ABI name (default {DEFAULT_ABI})")
    ap.add_argument("--misses", type=int, default=20, metavar="N", help="misses shown per reason (text)")
    ap.add_argument("--format", choices=["text", "json"], default="text")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes for the DWARF pass")
    ap.add_argument("--extract-only", action="store_true", help="build the cached TSVs and stop")
    ap.add_argument("--refresh", action="store_true", help="rebuild the cached TSVs")
    args = ap.parse_args(argv)

    from rich.progress import Progress

    try:
        CACHE.mkdir(parents=True, exist_ok=True)
        if args.refresh:
            for name in ("btf_lock_members.tsv", "dwarf_lock_vars.tsv", "lock_types.txt"):
                (CACHE / name).unlink(missing_ok=True)
        lts, pseudo = lock_types()
        warning = check_cache_types(lts)
        if warning:
            print(warning, file=sys.stderr)
        fields_tsv = extract_btf(args.abi, lts, Progress(transient=True))
        vars_tsv = extract_dwarf(args.abi, lts, Progress(transient=True), args.jobs)
        if args.extract_only:
            nf, nv = len(read_tsv(fields_tsv)), len(read_tsv(vars_tsv))
            print(f"{fields_tsv}: {nf} BTF lock members\n{vars_tsv}: {nv} DWARF static lock variables")
            return 0
        res = compare(args.db, fields_tsv, vars_tsv, pseudo)
    except UserError as e:
        print(f"lock_recall: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lock_recall: interrupted (caches are written whole or not at all)", file=sys.stderr)
        return 130
    if args.format == "json":
        json.dump(res, sys.stdout, indent=1)
        print()
    else:
        print_text(res, args.misses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
