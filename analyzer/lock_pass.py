"""The lock pass: rebuild every lock_* table (schema section 2) from the code facts, in one transaction.

Steps: seed the catalogue; load a TypeModel from structs/fields/typedefs/variables/functions/macros;
find lock wrappers to a fixed point (each round reads the callers of the new wrappers), resolving every
acquire/try/release call (primitive, wrapper function, or macro that expands to one) to the object it
locks; then the lock fields, the locks with static storage and the init sites with the lockdep class names
they produce.

The tables are a function of the code facts and the kernel configuration alone: every read is ordered by
a key of the rows' values (_CALL_ORDER, _VAR_ORDER; bench/lock_pass_order.py rewrites a database's facts
in another order to check it), nothing depends on string hashing, and where one name has several #if
alternatives the one the configuration builds is used (lock_config.py: the tree's .config, --kconfig, or
Debian's amd64 one).
"""

from __future__ import annotations

import copy
import gc
import itertools
import multiprocessing
import os
import re
import resource
import signal
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from .extract import split_args
from .kbuild import config_arch, kbuild_verdicts
from .lock_catalogue import (
    CONTEXT_RELEASES,
    CONTEXT_TYPES,
    GUARD_DEFINERS,
    GUARD_USERS,
    KNOWN_GLOBAL_WRAPPERS,
    KNOWN_WRAPPERS,
    LOCK_TYPES,
    MEMBER_WRAPPERS,
    MODE_ARGS,
    NORETURN_ASSERTS,
    PRIMITIVES,
    STATIC_DEFINERS,
    STATIC_INITIALIZERS,
    WORKQUEUE_CREATORS,
    initializer_map,
    lock_type_map,
    primitive_map,
)
from .lock_config import DEFAULT_CONFIG, BuildFilter, KernelConfig, eval_condition
from .lock_expr import fold_ws, name_pattern, parse_type
from .lock_macros import MacroDef, MacroTable, find_calls, path_rank, skip_literal, string_value
from .lock_paths import ACQUIRE, ACQUIRE_OR_ZERO, HELD_IF_TRUE, HELD_IF_ZERO, RELEASE, RETURNS, return_states
from .lock_resolve import (
    FieldDef,
    FuncDef,
    Obj,
    Resolver,
    Scope,
    StructDef,
    Type,
    TypeModel,
    VarDef,
    struct_key,
    struct_label,
)

__all__ = ["run", "VERSION"]

#: Bumped when the lock pass changes what it writes (lima-index reruns it when this or the facts change).
VERSION = "75"

_PRIMS = primitive_map()
_INITS = initializer_map()
_LOCK_TYPES = lock_type_map()
_DEFINERS = {d.name: d for d in STATIC_DEFINERS}
_MEMBER_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")
_IDENT = re.compile(r"[A-Za-z_]\w*")
_MAX_ROUNDS = 60   # wrapper rounds (find_sites); 6.1 needs 31
_FILES_KEPT = 2000   # source files kept split in lines (Pass.lines)
#: A function is taken for a wrapper only when its body is this short (mmap_write_lock, inode_lock,
#: raw_spin_rq_lock_nested are 3-25 lines); long functions that return with a lock held are sites only.
_WRAPPER_MAX_LINES = 40
#: Lock kinds a long function may be seen to drop for its caller through a helper (derive_wrappers).
_SLEEPING = frozenset({"mutex", "rwsem", "semaphore", "percpu_rwsem", "rt_mutex", "ww_mutex"})
#: Primitive variants that do not leave a lock held more than before (waitqueue ops, seqcount reads,
#: latch writes, and downgrade_write: the writer it was stays the reader it becomes).
_NOT_HELD = frozenset({"internal", "optimistic", "latch", "downgrade"})
_C_KEYWORDS = frozenset("void if else while for do switch case return sizeof typeof __typeof__ goto break "
                        "continue default struct union enum static extern inline const volatile int char "
                        "long short unsigned signed".split())
_MACRO_DEPTH = 5
#: Every read of the code facts is ordered by a key of the rows' own values (DuckDB returns rows in no
#: promised order: lima-index's writer does not keep insertion order, parallel scans interleave), so
#: that whatever comes first in a list (the first definition of a name, the first of two calls on a
#: line, ...) and so the lock tables are the same whatever the order the rows were stored in.
_CALL_ORDER = "caller_id, line, col, callee, args"
_VAR_ORDER = "name, scope, is_static, base_type, pointer_depth, array_dims, initializer, macro"
#: The code facts the lock pass reads whatever they hold, in the order _Pass.load and read_static read
#: them (_Prefetch runs them one after the other while the pass turns the earlier ones into objects).
#: lp_definers and lp_guards: the names of STATIC_DEFINERS and GUARD_DEFINERS.
_LOAD_QUERIES = {
    "typedefs": "SELECT file_id, name, base_type, pointer_depth, struct_id, line FROM typedefs "
                "ORDER BY file_id, line, name, base_type, pointer_depth, struct_id",
    # object-like macros whose body is a member path or a name: `#define d_lock d_lockref.lock`
    "simple_macros": "SELECT file_id, name, body, line FROM macros WHERE NOT is_function_like "
                     "AND body IS NOT NULL AND regexp_full_match(trim(body), "
                     "'\\(?[A-Za-z_]\\w*(\\.[A-Za-z_]\\w*)+\\)?|\\(?[A-Za-z_]\\w*(\\(\\))?\\)?') "
                     "ORDER BY file_id, line, name",
    "structs": "SELECT struct_id, file_id, name, kind, start_line FROM structs ORDER BY struct_id",
    "fields": "SELECT struct_id, name, base_type, pointer_depth, array_dims, nested_struct_id, line "
              "FROM fields ORDER BY struct_id, position, line, name",
    "top_structs": "SELECT struct_id, file_id, start_line, end_line FROM structs "
                   "WHERE parent_struct_id IS NULL ORDER BY struct_id",
    "globals": "SELECT file_id, name, scope, is_static, base_type, pointer_depth, array_dims, initializer, "
               "macro, line FROM variables WHERE function_id IS NULL ORDER BY file_id, line, " + _VAR_ORDER,
    "definer_uses": "SELECT file_id, macro, args, is_static, line FROM macro_uses WHERE function_id IS NULL "
                    "AND macro IN (SELECT v FROM lp_definers) ORDER BY file_id, line, macro, args",
    "definer_calls": "SELECT file_id, caller_id, caller, callee, args, line FROM calls "
                     "WHERE caller_id IS NOT NULL AND callee IN (SELECT v FROM lp_definers) "
                     "ORDER BY " + _CALL_ORDER,
    "functions": "SELECT function_id, name, file_id, return_type, is_static, start_line, end_line "
                 "FROM functions ORDER BY function_id",
    "brace_macros": "SELECT name, trim(body) FROM macros WHERE NOT is_function_like "
                    "AND trim(body) LIKE '{%\"%}' ORDER BY file_id, line, name",
    "function_macros": "SELECT file_id, name, params, body, line FROM macros WHERE is_function_like "
                       "ORDER BY file_id, line, name",
    "calls": "SELECT caller_id, caller, callee, args, line, file_id FROM calls WHERE caller_id IS NOT NULL "
             "AND kind = 'direct' ORDER BY " + _CALL_ORDER,
    "local_vars": "SELECT function_id, file_id, name, scope, base_type, pointer_depth, array_dims, "
                  "initializer, line FROM variables WHERE function_id IS NOT NULL "
                  "ORDER BY function_id, line, " + _VAR_ORDER,
    "guard_defs": "SELECT file_id, line, macro, args FROM macro_uses WHERE function_id IS NULL "
                  "AND macro IN (SELECT v FROM lp_guards)",
    # (caller_id, line, user, class, lock arguments): guard's lock arguments are those of the call its
    # result is called with, written at the same place (`guard(mutex)` is that call's callee text)
    "guard_uses": """
            SELECT g.caller_id, g.line, g.callee, trim(g.args[1]),
                   CASE WHEN g.callee = 'guard' THEN o.args ELSE g.args[2:] END
            FROM calls g LEFT JOIN calls o
              ON g.callee = 'guard' AND o.caller_id = g.caller_id AND o.line = g.line AND o.col = g.col
             AND o.kind <> 'direct' AND replace(o.callee_expr, ' ', '') = 'guard(' || trim(g.args[1]) || ')'
            WHERE g.kind = 'direct' AND g.caller_id IS NOT NULL AND len(g.args) >= 1
              AND g.callee IN (""" + ", ".join(f"'{u}'" for u in GUARD_USERS) + """)
            ORDER BY g.caller_id, g.line, g.col""",
    "annotations": "SELECT function_id, annotation, arg FROM function_annotations "
                   "ORDER BY function_id, line, annotation, arg",
    # definer macros: DEFINE_MUTEX(x) at file scope (macro_uses), static DEFINE_SPINLOCK(y) inside a
    # function (a calls row; its macro_uses row, which has a function_id, would count it twice)
    "static_definers": "SELECT file_id, caller, macro, args, is_static, line FROM ("
                       "SELECT 0 AS part, file_id, NULL AS caller, macro, args, is_static, line, 0 AS col "
                       "FROM macro_uses WHERE function_id IS NULL AND macro IN (SELECT v FROM lp_definers) "
                       "UNION ALL "
                       "SELECT 1, file_id, caller, callee, args, true, line, col FROM calls "
                       "WHERE caller_id IS NOT NULL AND callee IN (SELECT v FROM lp_definers)) "
                       "ORDER BY part, file_id, line, col, macro, args, caller",
    "static_vars": "SELECT file_id, function_id, name, scope, is_static, base_type, pointer_depth, "
                   "initializer, macro, line FROM variables WHERE scope IN ('global', 'static_local') "
                   "ORDER BY file_id, line, function_id, " + _VAR_ORDER,
}
_LOAD_TABLES = {"lp_definers": list(_DEFINERS), "lp_guards": list(GUARD_DEFINERS)}


@dataclass(slots=True)
class Event:
    """One primitive operation reached from a call site."""
    line: int
    called: str            # name written at the site
    prim: str              # underlying primitive
    op: str
    mode: str
    lock_kind: str
    arg_text: str
    via: str | None
    obj: Obj
    order: int = 0
    lock_expr: str | None = None   # the lock expression in the caller's terms (wrapper substituted)
    guard: tuple[str, frozenset[str]] | None = None   # flag guard forwarded from a wrapper row
    held_if: str | None = None     # a try wrapper's result when it holds the lock: "true", "zero", "nonneg";
    #                                "zero_if_tested": an acquire whose tested result says (_path_op)
    # from a flag-guarded wrapper row whose flags this call passes in a value that cannot be read (and
    # that is not the caller's own flag parameter): the lock may not be taken at all
    undecided: bool = False
    # from a wrapper row that takes or drops the lock only under a test of something else than its
    # parameters' flags (WrapperRow.condition)
    condition: str | None = None


@dataclass(slots=True)
class WrapperRow:
    name: str
    kind: str              # function | macro
    file_id: int | None
    line: int | None
    param_index: int | None
    param_name: str | None
    primitive: str
    op: str
    mode: str
    lock_kind: str
    lock_expr: str
    obj: Obj
    via: str
    guard: tuple[str, frozenset[str]] | None = None   # (flag parameter, constants) that must be passed
    substitute: bool = True   # lock_expr is a lock expression in the parameter (callers may rewrite it)
    held_if: str | None = None   # op "try" of an int or bool function: "true", "zero" or "nonneg" (>= 0)
    by_paths: bool = False   # made by following the function's paths to its returns (not by counting calls)
    # "if (pipe->files) in pipe_unlock": the function does it only under that test of the object's state
    # (or of a variable), which no call site can read; NULL where it does it unconditionally
    condition: str | None = None


class _Pass:
    def __init__(self, con: duckdb.DuckDBPyConnection, pre: _Prefetch, console=None,
                 config: KernelConfig = DEFAULT_CONFIG):
        self.con = con
        self._pre = pre   # the code facts load() and read_static() read (_LOAD_QUERIES), on their way
        self.console = console
        self._paired: dict[int, set[tuple]] = {}   # filled by find_sites (paired_releases)
        self._ctx_names: frozenset[str] = CONTEXT_RELEASES   # and the macros around them (find_sites)
        self._ctx_drops: set[int] = set()   # functions that call one of them
        self.stats: dict[str, int] = {}
        self.warnings: list[str] = []   # what the caller should show the user (run(warnings=...))
        row = con.execute("SELECT value FROM meta WHERE key = 'source_root'").fetchone()
        self.root = Path(row[0]) if row and row[0] else None
        self.paths: dict[int, str] = dict(_fetch(con, "SELECT file_id, path FROM files ORDER BY file_id"))
        self._file_lines: dict[int, list[str]] = {}
        # which .c files the configuration compiles (the tree's makefiles), and which #if alternatives
        verdicts, self.makefiles = kbuild_verdicts(self.root, list(self.paths.values()), config) \
            if self.root is not None else ({}, [])
        self.kbuild_arch = (config_arch(config) or "") if verdicts else ""
        self.kbuild_rows = [(fid, verdicts[path].built, verdicts[path].reason)
                            for fid, path in self.paths.items() if path in verdicts]
        self.build = BuildFilter(self.lines, config, {fid: why for fid, built, why in self.kbuild_rows
                                                      if built is False})
        self.model = TypeModel(header_files={f for f, p in self.paths.items() if p.endswith(".h")},
                               dirs={f: p.rpartition("/")[0] for f, p in self.paths.items()},
                               built=self.build.built, unbuilt_file=self.build.file_unbuilt,
                               includers=self.includers)
        self._includers: dict[int, frozenset[int]] = {}
        self._scopes: dict[int, Scope] = {}
        self._funcs_by_id: dict[int, FuncDef] = {}
        self._extra_vars: dict[int, list[VarDef]] = defaultdict(list)
        self.registered: set[str] = set()   # value tables registered on con (names_in)
        self.wrappers: dict[int, list[WrapperRow]] = {}
        self.wrapper_reads: set[int] = set()   # functions whose wrapper rows the current analysis looked up
        self.held_at_some_return: set[tuple] = set()   # ... and the locks its paths show held at a return

    def log(self, msg: str) -> None:
        """One dim progress line on the console (none without a console, or with --quiet)."""
        if self.console is not None:
            self.console.print(f"  {msg}", style="dim", highlight=False)

    # -- loading ----------------------------------------------------------------------------------

    def load(self) -> None:
        m = self.model
        con = self.con
        pre = self._pre
        typedef_rows = pre.rows("typedefs")
        td_label = {}
        for _fid, name, _base, _ptr, sid, _line in typedef_rows:
            if sid is not None:
                td_label.setdefault(sid, name)
        simple: dict[str, list[tuple]] = defaultdict(list)
        for row in pre.rows("simple_macros"):
            simple[row[1]].append(row)
        for rows in simple.values():
            if len(rows) > 1:   # as typedefs
                rows.sort(key=lambda r: (m.ruled_out(r[0], r[3]), self._path_rank(r[0])))
        for _fid, name, body, _line in (r for rows in simple.values() for r in rows):
            body = body.strip()
            # `#define d_lock d_lockref.lock` names a member; `#define futex_queues (__futex_data.queues)`
            # (kernel/futex/core.c), in parentheses, an object
            if "." in body and not body.startswith("("):
                m.member_alias.setdefault(name, body)
            elif body.strip("()") != name:
                m.object_macros.setdefault(name, body)
        structs: dict[int, StructDef] = {}
        for sid, fid, name, kind, start in pre.rows("structs"):
            key = f"{kind} {name}" if name else f"#{sid}"
            d = StructDef(key, sid, fid, name or td_label.get(sid, "anonymous"), line=start)
            structs[sid] = d
            m.structs.setdefault(key, []).append(d)
            if name:
                m.structs[f"#{sid}"] = [d]
        for sid, name, base, ptr, dims, nested, line in pre.rows("fields"):
            d = structs.get(sid)
            if d is None:
                continue
            if nested is not None:
                base = f"#{nested}"
            elif base.startswith(("struct ", "union ")):
                base = self.tag_macro(base)
            t = Type(base, ptr, dims.count("[") if dims else 0)
            if name is None:
                if nested is not None:
                    d.anon.append(f"#{nested}")
                continue
            d.fields.setdefault(name, FieldDef(name, t, line))
        typedefs: dict[str, list[tuple[Type, int, int]]] = {}
        for fid, name, base, ptr, sid, line in typedef_rows:
            if sid is not None and (base in ("struct", "union") or not base.split(" ", 1)[-1]):
                base = f"#{sid}"
            typedefs.setdefault(name, []).append((Type(base, ptr), fid, line))
        for name, lst in typedefs.items():
            if len(lst) > 1:   # x86 first; #if alternatives the configuration rules out last (lock_config)
                lst.sort(key=lambda x: (m.ruled_out(x[1], x[2]), self._path_rank(x[1])))
            m.typedefs[name] = [(t, fid) for t, fid, _line in lst]
            if len({(t.base, t.ptr) for t, _fid, _line in lst}) > 1:
                # a .c file and the headers of its directory see their own definition (rank 0 and 1)
                # (a directory whose headers disagree, sparc's mmu_32.h and mmu_64.h, decides nothing)
                local: dict[int | str, tuple[Type, int]] = {}
                split: set[str] = set()
                for t, fid, line in lst:
                    if m.ruled_out(fid, line):
                        continue
                    local.setdefault(fid, (t, fid))
                    d = m.dirs.get(fid) if fid in m.header_files else None
                    if d is not None:
                        if local.setdefault(d, (t, fid))[0] != t:
                            split.add(d)
                for d in split:
                    del local[d]
                if local:
                    m.local_typedefs[name] = local
        self._anon_by_file: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        for sid, fid, start, end in pre.rows("top_structs"):
            self._anon_by_file[fid].append((start, end, sid))
        for fid, name, scope, is_static, base, ptr, dims, init, macro, line in pre.rows("globals"):
            base = self.inline_base(base, fid, line)
            percpu = bool(macro) and "PER_CPU" in macro
            m.globals.setdefault(name, []).append(
                VarDef(name, Type(base, ptr, dims.count("[") if dims else 0), scope, fid, line, percpu,
                       is_static, init))
        # file-scope definers only: one inside a function is that function's static local (below)
        for fid, macro, args, is_static, line in pre.rows("definer_uses"):
            d = _DEFINERS[macro]
            if args and len(args) > d.symbol_arg:
                sym = args[d.symbol_arg].strip()
                m.globals.setdefault(sym, []).append(
                    VarDef(sym, Type(d.lock_type), "global", fid, line, d.is_percpu, is_static, None))
        for fid, caller_id, caller, macro, args, line in pre.rows("definer_calls"):
            d = _DEFINERS[macro]
            if args and len(args) > d.symbol_arg:
                sym = args[d.symbol_arg].strip()
                self._extra_vars[caller_id].append(
                    VarDef(sym, Type(d.lock_type), "static_local", fid, line, False, True, None,
                           function=caller))
        ret_types: dict[str | None, Type | None] = {}
        for fid_, name, fid, ret, is_static, start, end in pre.rows("functions"):
            if name in _C_KEYWORDS:
                continue
            if ret not in ret_types:   # few distinct return types: parse each once
                rt = parse_type(ret) if ret else None
                ret_types[ret] = Type(rt[0], rt[1]) if rt else None
            f = FuncDef(name, fid, ret_types[ret], fid_, is_static, start, end)
            m.functions.setdefault(name, []).append(f)
            self._funcs_by_id[fid_] = f
        # object-like macros that are a string list: static const char *buf[] = RCU_NODE_NAME_INIT
        self._brace_macros: dict[str, list[str]] = defaultdict(list)
        for name, body in pre.rows("brace_macros"):
            self._brace_macros[name].append(body)
        defs = []
        for fid, name, params, body, line in pre.rows("function_macros"):
            defs.append(MacroDef(name, tuple(p.strip() for p in (params or [])), body or "", fid, line,
                                 self.paths.get(fid, "")))
        self.macros = MacroTable(defs, built=self.build.built)
        # macros used as statements that declare their first argument (XA_STATE(xas, ...), DEFINE_WAIT(w))
        self.declaring = {d.name for d in defs if d.params and _declares_first_param(d)}
        self.resolver = Resolver(m, returns=self.returns_of, macro_expand=self.expand_for_type)
        self.stats.update(structs=len(structs), macros=len(defs))
        # held as Arrow tables and filtered in memory each round (one DuckDB scan instead of one per round);
        # scopes are then built without DuckDB, also in worker processes
        self._calls = pre.get("calls")
        self._vars = pre.get("local_vars")
        self._callees, self._callers = _Coded(self._calls["callee"]), _Coded(self._calls["caller_id"])
        self._var_functions = _Coded(self._vars["function_id"])
        runs = pc.run_end_encode(self._vars["function_id"].combine_chunks())
        ends = runs.run_ends.to_pylist()
        self._var_runs = {f: (s, e - s) for f, s, e in zip(runs.values.to_pylist(), [0, *ends][:-1], ends,
                                                          strict=True)}
        self.read_guards()
        # sparse annotations of function heads (__acquires(x), __releases(x)): what a function declares
        self._annotations: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for fid_, ann, arg in pre.rows("annotations"):
            self._annotations[fid_].append((ann, arg))
        self._declaring_calls: dict[int, list[tuple]] = defaultdict(list)
        for row in _fetch(con, "SELECT caller_id, file_id, callee, args, line FROM calls "
                          "WHERE caller_id IS NOT NULL AND callee IN " + self.names_in("lp_m", self.declaring)
                          + " ORDER BY " + _CALL_ORDER):
            self._declaring_calls[row[0]].append(row)

    def names_in(self, name: str, names) -> str:
        """'(SELECT v FROM name)' over names registered as table `name`, for `x IN ...`. (A Python list
        parameter is far slower: DuckDB converts it element by element, each trying to import pandas.)"""
        self.con.register(name, pa.table({"v": _names(names)}))
        self.registered.add(name)
        return f"(SELECT v FROM {name})"

    def inline_base(self, base: str, fid: int, line: int) -> str:
        """'struct foo { ... }' -> 'struct foo'; 'struct { ... }' -> '#id' of the definition at that line."""
        if "{" not in base:
            return self.tag_macro(base) if base.startswith(("struct ", "union ")) else base
        head = base.split("{", 1)[0].split()
        if len(head) >= 2:
            return f"{head[0]} {head[1]}"
        best = None
        for start, end, sid in self._anon_by_file.get(fid, ()):
            if start <= line <= end + 1 and (best is None or start > best[0]):
                best = (start, sid)
        return f"#{best[1]}" if best else base

    def includers(self, header: int) -> frozenset[int]:
        """The .c files in a header's directory that `#include "name.h"` it (for a private header
        outside include/: kernel/rcu/tree_exp.h is part of tree.c)."""
        got = self._includers.get(header)
        if got is None:
            path = self.paths.get(header, "")
            d, _, base = path.rpartition("/")
            got = frozenset()
            if path.endswith(".h") and not path.startswith("include/") and "/include/" not in path:
                pat = re.compile(r'^\s*#\s*include\s*"' + re.escape(base) + '"', re.M)
                got = frozenset(f for f, p in self.paths.items()
                                if p.endswith(".c") and p.rpartition("/")[0] == d
                                and pat.search("\n".join(self.lines(f))))
            self._includers[header] = got
        return got

    def tag_macro(self, base: str) -> str:
        """'struct WW_MUTEX_BASE' -> 'struct mutex': a struct tag written as an object-like macro whose
        body is one name (include/linux/ww_mutex.h: `#define WW_MUTEX_BASE mutex`, rt_mutex under
        CONFIG_PREEMPT_RT: the macro the configuration builds, as object_macros holds it)."""
        kind, _, tag = base.partition(" ")
        if base not in self.model.structs:
            body = self.model.object_macros.get(tag)
            if body is not None and _IDENT.fullmatch(body):
                return f"{kind} {body}"
        return base

    def _path_rank(self, fid: int) -> int:
        return path_rank(self.paths.get(fid, ""))

    # -- scopes and source text -------------------------------------------------------------------

    def preload_scopes(self, function_ids: list[int]) -> None:
        need = [f for f in function_ids if f not in self._scopes]
        if not need:
            return
        byf: dict[int, dict[str, list[VarDef]]] = defaultdict(lambda: defaultdict(list))
        params: dict[int, list[tuple[str, int]]] = defaultdict(list)
        if len(need) == 1:
            start, length = self._var_runs.get(need[0], (0, 0))
            rows = _arrow_rows(self._vars.slice(start, length))
        else:
            rows = _arrow_rows(self._vars.filter(self._var_functions.mask(need)))
        for fid_, fid, name, scope, base, ptr, dims, init, line in rows:
            if scope == "param":
                params[fid_].append((name, line))
            base = self.inline_base(base, fid, line)
            byf[fid_][name].append(VarDef(name, Type(base, ptr, dims.count("[") if dims else 0), scope, fid,
                                          line, False, scope == "static_local", init))
        for fid_, fid, callee, args, line in (r for f in need for r in self._declaring_calls.get(f, ())):
            if args and len(args) == 1 and "," in args[0]:
                args = _split_top(args[0])
            text = self.macros.expand(callee, args or [], fid)
            # the `;` ending the statement follows the call, not the body (`struct xa_state name = ...`)
            for name, t, init in _declarations((text or "") + ";"):
                byf[fid_][name].append(VarDef(name, t, "local", fid, line, initializer=init))
        for f in need:
            fd = self._funcs_by_id.get(f)
            vars_ = byf.get(f, {})
            for v in self._extra_vars.get(f, []):
                vars_.setdefault(v.name, []).append(v)
            sc = Scope(fd.file_id if fd else 0, fd.start_line if fd else 0, fd.name if fd else None, f,
                       dict(vars_))
            assignments = self._values_fn(f)
            sc.values, sc.last_value = assignments.values, assignments.last_value
            sc.params = self._params_fn(f, params.get(f, []))
            self._scopes[f] = sc

    def calls_to(self, names) -> pa.Array:
        """Mask of the direct calls (self._calls) to one of names."""
        return self._callees.mask(names)

    def calls_of(self, callers) -> pa.Array:
        """Mask of the direct calls (self._calls) made by one of the functions `callers` (ids)."""
        return self._callers.mask(callers)

    def scope_of(self, function_id: int) -> Scope:
        """The scope of a function (params and locals), built on first use."""
        if function_id not in self._scopes:
            self.preload_scopes([function_id])
        return self._scopes[function_id]

    def scope(self, function_id: int, line: int) -> Scope:
        sc = copy.copy(self.scope_of(function_id))   # as dataclasses.replace, several times faster
        sc.line = line
        return sc

    def lines(self, file_id: int) -> list[str]:
        """Lines of a source file; the most recently used files stay read (headers are read again and
        again: their inline functions' bodies and returns)."""
        got = self._file_lines.pop(file_id, None)
        if got is None:
            got = []
            if self.root is not None and file_id in self.paths:
                try:
                    got = (self.root / self.paths[file_id]).read_text("utf-8", "replace").split("\n")
                except OSError:
                    got = []
            if len(self._file_lines) >= _FILES_KEPT:
                del self._file_lines[next(iter(self._file_lines))]   # the least recently used
        self._file_lines[file_id] = got
        return got

    def body(self, function_id: int) -> str:
        fd = self._funcs_by_id.get(function_id)
        if fd is None:
            return ""
        return "\n".join(self.lines(fd.file_id)[fd.start_line - 1:fd.end_line])

    def _values_fn(self, function_id: int) -> _Assignments:
        fd = self._funcs_by_id.get(function_id)
        return _Assignments(lambda: self.body(function_id), fd.start_line if fd is not None else 1)

    def _params_fn(self, function_id: int, params: list[tuple[str, int]]):
        got: list[tuple[str, ...]] = []

        def names() -> tuple[str, ...]:
            if not got:
                got.append(self.param_order(function_id, params))
            return got[0]
        return names

    def param_order(self, function_id: int, params: list[tuple[str, int]]) -> tuple[str, ...]:
        """Names of a function's parameters (name, line) in declaration order. The code facts give each
        parameter's line, not its position (nor is their row order kept): parameters written on one line
        are put in the order their declarators stand in the source line (by name when the source cannot
        be read, so the answer never depends on row order)."""
        lines: dict[str, int] = {}
        for name, line in params:
            lines[name] = min(line, lines.get(name, line))
        if len(set(lines.values())) == len(lines):
            return tuple(sorted(lines, key=lines.__getitem__))
        fd = self._funcs_by_id.get(function_id)
        src = self.lines(fd.file_id) if fd is not None else []

        def where(name: str) -> tuple[int, int, str]:
            ln = lines[name]
            text = _strip_comments(src[ln - 1]) if 0 < ln <= len(src) else ""
            return ln, _declarator_position(text, name), name
        return tuple(sorted(lines, key=where))

    def returns_of(self, name: str, sc: Scope) -> list[tuple[str, Scope]]:
        f = self.resolver.function(name, sc.file_id)
        if f is None or f.ret is None or f.ret.ptr == 0 or f.function_id is None:
            return []
        text = _strip_comments(self.body(f.function_id))
        brace = text.find("{")
        out = []
        for mm in re.finditer(r"\breturn\b", text[brace + 1:] if brace >= 0 else text):
            expr = _until_end(text[brace + 1:], mm.end())
            if expr:
                out.append((expr, self.scope(f.function_id, f.end_line)))
        return out[:8]

    def expand_for_type(self, name: str, args: list[str], sc: Scope) -> str | None:
        if name in _PRIMS or name in _INITS:
            return None
        return self.macros.expand(name, args, sc.file_id)

    # -- sites and wrappers -------------------------------------------------------------------------

    def pick_function(self, name: str, file_id: int) -> FuncDef | None:
        """The function a call of `name` in file_id reaches, unless a function-like macro of that name
        defined in that file, or in a private header it includes, comes first (the preprocessor's
        answer, unless the configuration rules the macro out): drivers/media/i2c/adv748x/adv748x.h's
        `#define io_read(s, r) adv748x_read(...)` is not io_uring's io_read, which ends a write."""
        f = self.resolver.function(name, file_id)
        if f is None or f.file_id == file_id:
            return f
        for d in self.macros.by_name.get(name, ()):
            if d.file_id != f.file_id and (d.file_id == file_id or file_id in self.includers(d.file_id)) \
                    and self.build.built(d.file_id, d.line) is not False:
                return None
        return f

    def member_wrapper_events(self, callee: str, args: list[str], line: int, sc: Scope,
                              via: tuple[str, ...] = ()) -> list[Event]:
        """The catalogue's events of a MEMBER_WRAPPERS call: each lock `&(argument)->member`."""
        out = []
        for op, mode, kind, path, index in MEMBER_WRAPPERS[callee]:
            arg = args[index] if index < len(args) else ""
            obj = self.resolver.lock_object(f"&({arg})->{path}", sc, "pointer") if arg.strip() else \
                Obj("unknown", confidence=0.0, reason=f"{callee} without argument {index + 1}")
            out.append(Event(line, via[0] if via else callee, callee, op, mode, kind, arg,
                             ">".join(via + (callee,)), obj))
        return out

    def events_for_call(self, callee: str, args: list[str], line: int, sc: Scope, depth: int = 0,
                        via: tuple[str, ...] = ()) -> list[Event]:
        """Primitive operations one call performs, resolved in the caller's scope."""
        out: list[Event] = []
        p = _PRIMS.get(callee)
        if p is not None:
            if p.arg_index >= len(args):
                return out
            arg = args[p.arg_index]
            if p.arg_form.startswith("member:"):
                obj = self.resolver.lock_object(f"&({arg})->{p.arg_form[7:]}", sc, "pointer")
            else:
                obj = self.resolver.lock_object(arg, sc, p.arg_form)
            mode = p.mode
            if callee in MODE_ARGS:
                at, modes = MODE_ARGS[callee]
                mode = modes.get(args[at].strip(), mode) if at < len(args) else mode
            out.append(Event(line, via[0] if via else callee, callee, p.op, mode, p.lock_kind, arg,
                             ">".join(via + (callee,)) if via else None, obj))
            return out
        kw = KNOWN_WRAPPERS.get(callee)
        if kw is not None:
            op, mode, kind, struct, path, pi = kw
            arg = args[pi] if pi < len(args) else ""
            obj = Obj("field", struct, tuple(path.split(".")), confidence=0.9, reason="known wrapper")
            out.append(Event(line, via[0] if via else callee, callee, op, mode, kind, arg,
                             ">".join(via + (callee,)), obj))
            return out
        if callee in MEMBER_WRAPPERS:
            return self.member_wrapper_events(callee, args, line, sc, via)
        known = KNOWN_GLOBAL_WRAPPERS.get(callee)
        if known is not None:
            for op, mode, kind, symbol in known:
                # the object as the resolver names the variable (with its struct type, even where it is
                # static elsewhere: console_sem in kernel/printk/printk.c), so that it is one lock with
                # the sites that name it
                v = next(iter(self.model.globals.get(symbol, ())), None)
                obj = self.resolver.static_object(v, "known wrapper") if v is not None \
                    else Obj("global", symbol=symbol, reason="known wrapper")
                obj = replace(obj, confidence=0.9)
                out.append(Event(line, via[0] if via else callee, callee, op, mode, kind, f"&{symbol}",
                                 ">".join(via + (callee,)), obj))
            return out
        f = self.pick_function(callee, sc.file_id)
        if f is not None:
            self.wrapper_reads.add(f.function_id)
        if f is not None and f.function_id in self.wrappers:
            doubt = self.if_alternatives(f)
            for w in self.wrappers[f.function_id]:
                applies = self.guard_applies(w, args, sc)
                if applies is False:
                    continue
                obj = w.obj
                lock_expr = w.lock_expr if w.param_name is None else None
                arg = args[w.param_index] if w.param_index is not None and w.param_index < len(args) else ""
                if w.param_name is not None and arg and w.substitute and self._substitutable(w):
                    sub = _subst_ident(w.lock_expr, w.param_name, arg)
                    lock_expr = sub
                    o2 = self.resolver.lock_object(sub, sc, "pointer")
                    if o2.kind in ("field", "global", "percpu", "local"):
                        obj = replace(o2, reason=f"argument of {callee}: {o2.reason}")
                    elif obj.kind == "param":
                        obj = o2 if o2.kind != "unknown" else Obj(
                            "unknown", confidence=0.0, reason=f"argument {arg[:40]!r} of wrapper {callee}")
                if obj.kind == "field" and w.param_name is not None:
                    obj = replace(obj, root_param=self.resolver.root_param(self.resolver.parse(arg), sc)
                                  if arg else None)
                elif obj.kind == "field":
                    obj = replace(obj, root_param=None)
                if doubt and obj.kind not in ("unknown", "ambiguous"):
                    obj = replace(obj, confidence=min(obj.confidence, 0.5), reason=f"{doubt}: {obj.reason}")
                if applies is None and obj.kind not in ("unknown", "ambiguous"):
                    flags = f"taken only when {_guard_text(w.guard)}: "
                    obj = replace(obj, confidence=min(obj.confidence, 0.5),
                                  reason=obj.reason if obj.reason.startswith(flags) else flags + obj.reason)
                guard = self.forwarded_guard(w, args, sc)
                held_if = w.held_if
                if w.op == "acquire" and not w.by_paths and f.ret is not None and not f.ret.ptr \
                        and f.ret.base in _ERRNO_RESULTS and w.lock_kind == "ww_mutex":
                    # an int function that takes a ww_mutex by count, its paths not followed to the end:
                    # where the caller tests its result, an error means the lock was not taken
                    # (ttm_bo_reserve fails with -EBUSY or -EDEADLK; nouveau_bo_unpin returns its error).
                    # Only ww_mutex reservations, which fail by an error code: other int results may say
                    # something else (double_lock_balance: whether this rq's lock was dropped meanwhile;
                    # dax_read_lock: srcu_read_lock's index)
                    held_if = "zero_if_tested"
                out.append(Event(line, via[0] if via else callee, w.primitive, w.op, w.mode, w.lock_kind,
                                 arg if w.param_name is not None else w.lock_expr,
                                 ">".join(via + (callee,) + tuple(w.via.split(">")[1:])), obj,
                                 lock_expr=lock_expr, guard=guard, held_if=held_if,
                                 undecided=applies is None and guard is None, condition=w.condition))
            return out
        if f is None and depth < _MACRO_DEPTH and callee in self.lock_macros:
            text = self.macros.expand(callee, args, sc.file_id)
            if text is None:
                return out
            decls = _declarations(text)
            if decls:
                vars_ = dict(sc.vars)
                for name, t, init in decls:
                    vars_[name] = [VarDef(name, t, "local", sc.file_id, 0, initializer=init)]
                sc = replace(sc, vars=vars_)
            for name, a, _off in find_calls(text, self.relevant):
                out.extend(self.events_for_call(name, a, line, sc, depth + 1, via + (callee,)))
        return out

    def if_alternatives(self, f: FuncDef) -> str | None:
        """Why a call of f is uncertain when f is one of several definitions of its name in its file, under
        #if conditions the configuration does not decide (lock_config: unknown), and the others lock
        something else or nothing: the first is used, and the sites through it say so."""
        same = [g for g in self.model.functions.get(f.name, ()) if g.file_id == f.file_id and g is not f]
        if not same or self.build.built(f.file_id, f.start_line) is True:
            return None
        mine = _wsig(self.wrappers.get(f.function_id, []))
        lines = []
        for g in same:
            if self.build.built(g.file_id, g.start_line) is False:
                continue
            self.wrapper_reads.add(g.function_id)
            if _wsig(self.wrappers.get(g.function_id, [])) != mine:
                lines.append(g.start_line)
        if not lines:
            return None
        others = ", ".join(map(str, sorted(lines)))
        return (f"{f.name} has #if alternatives that lock otherwise (lines {f.start_line} and {others}; "
                "the configuration does not decide: the first is used)")

    def guard_of(self, fd: FuncDef, line: int, sc: Scope | None) -> tuple[str, frozenset[str]] | None:
        """The test of a flag parameter a call sits under: `if (flags & XFS_ILOCK_EXCL)` (flag param,
        constants), or `if (global)` / `if (!locked)` on a bool or number parameter (param, <true> or
        <false>). The test is on the line of the call or on the line above it."""
        lines = self.lines(fd.file_id)
        for ln in (line, line - 1):
            if ln < fd.start_line or ln > len(lines):
                continue
            text = lines[ln - 1]
            if ln == line or text.rstrip().endswith(("{", ")")):
                got = self._param_test(text, sc)
                if got is not False:
                    return got
            if ln == line - 1 and text.strip() and not text.strip().startswith(("/*", "*", "//")):
                break
        # (not a test further up that opens the call's block: tried on 6.1, one side of a pair guarded
        # and the other not made 110 false release wrappers, vmwgfx's cur_mutex and vfio's vma_lock)
        return None

    def _param_test(self, text: str, sc: Scope | None) -> tuple[str, frozenset[str]] | None | bool:
        """The guard an `if` of this line puts on a parameter; None when its test is on something else;
        False when the line has no such `if`."""
        m = _GUARD.search(text)
        if m:
            name = m.group(1)
            if sc is not None and any(v.scope == "param" for v in sc.vars.get(name, [])):
                return name, frozenset(re.findall(r"[A-Z][A-Z0-9_]*", m.group(2)))
            return None
        m = _BOOL_GUARD.search(text)
        if m:
            # `if (global)` / `if (!locked)` on a number or bool parameter: a guard the call site reads
            # (loop_global_unlock(lo, true), __release_z3fold_page(zhdr, false))
            name = m.group(2)
            if sc is not None and any(v.scope == "param" and not v.type.ptr and not v.type.arr
                                      and not v.type.base.startswith(("struct ", "union "))
                                      for v in sc.vars.get(name, [])):
                return name, frozenset({_IS_FALSE if m.group(1) else _IS_TRUE})
            return None
        return False

    def _merged_guard(self, fd: FuncDef, evs: list[Event], sc: Scope | None
                      ) -> tuple[str, frozenset[str]] | None:
        """The flag guard of a wrapper row made of these events: every one guarded by the same flag
        parameter (forwarded from a wrapper, or `if (flags & X)` above it), with their constants merged."""
        guards = [e.guard or self.guard_of(fd, e.line, sc) for e in evs]
        if guards and all(g is not None for g in guards) and len({g[0] for g in guards}) == 1:
            return guards[0][0], frozenset().union(*(g[1] for g in guards))
        return None

    def _by_mode(self, fd: FuncDef, evs: list[Event], sc: Scope | None
                 ) -> list[tuple[Event, tuple[str, frozenset[str]] | None]]:
        """The (event, guard) of each wrapper row that these takes (or drops) of one lock make: one row,
        the last event's, with their guards merged; or one row per mode where the modes differ and each
        mode's events have their own guard on the same flag parameter, with no constant in two modes.
        xfs_ilock takes i_rwsem by down_write_nested under `lock_flags & XFS_IOLOCK_EXCL` and by
        down_read_nested under `XFS_IOLOCK_SHARED`: two rows, so that xfs_ilock(ip, XFS_IOLOCK_EXCL)
        is a write."""
        merged = (evs[-1], self._merged_guard(fd, evs, sc))
        modes: dict[str, list[Event]] = defaultdict(list)
        for e in evs:
            modes[e.mode].append(e)
        if merged[1] is None or len(modes) < 2:
            return [merged]
        picks = [(m_evs[-1], self._merged_guard(fd, m_evs, sc)) for m_evs in modes.values()]
        consts = [c for _e, g in picks if g is not None for c in g[1]]
        if any(g is None for _e, g in picks) or len(consts) != len(set(consts)):
            return [merged]
        return picks

    def _wrapper_def(self, w: WrapperRow) -> FuncDef | None:
        """The function definition a wrapper row was read from (None for a macro's row)."""
        return next((f for f in self.model.functions.get(w.name, ()) if f.file_id == w.file_id), None)

    def _guard_index(self, w: WrapperRow) -> int | None:
        f = self._wrapper_def(w)
        wsc = self.scope_of(f.function_id) if f is not None else None
        return wsc.param_index(w.guard[0]) if wsc is not None and w.guard else None

    def forwarded_guard(self, w: WrapperRow, args: list[str], sc: Scope) -> tuple[str, frozenset[str]] | None:
        """A guarded wrapper row called with the caller's own flag parameter keeps its guard on that one."""
        if w.guard is None:
            return None
        idx = self._guard_index(w)
        # the flags themselves or, through a pointer, where they are kept: xfs_ilock_iocb_for_write
        # (iocb, unsigned int *lock_mode) calls xfs_ilock_iocb(iocb, *lock_mode)
        m = re.fullmatch(r"(?:\*\s*)?([a-z_]\w*)", args[idx]) if idx is not None and idx < len(args) else None
        if m is None:
            return None
        v = sc.lookup(m.group(1))
        return (m.group(1), w.guard[1]) if v is not None and v.scope == "param" else None

    def guard_applies(self, w: WrapperRow, args: list[str], sc: Scope) -> bool | None:
        """True/False when the flags passed are constants that do/do not include the wrapper row's guard,
        None when they cannot be read (the row is kept with a low confidence)."""
        if w.guard is None:
            return True
        idx = self._guard_index(w)
        if idx is None or idx >= len(args):
            return None
        literal = _bool_value(args[idx]) if w.guard[1] <= {_IS_TRUE, _IS_FALSE} else None
        if literal is not None:
            return (_IS_TRUE if literal else _IS_FALSE) in w.guard[1]
        texts = [args[idx]]
        last = sc.last_value(args[idx], sc.line) if sc.last_value is not None and \
            re.fullmatch(r"[a-z_]\w*(?:(?:->|\.)[a-z_]\w*)*", args[idx]) else None
        if last is not None:
            texts = [last]
        elif re.fullmatch(r"[a-z_]\w*(?:(?:->|\.)[a-z_]\w*)+", args[idx]) and sc.values is not None:
            # a flags member assigned in this function (sc->ilock_flags = XFS_ILOCK_EXCL | ...)
            texts = sc.values(args[idx], sc.line)
            if not texts:
                return None
        elif re.fullmatch(r"[a-z_]\w*", args[idx]) and sc.values is not None:
            v = sc.lookup(args[idx])
            if v is None or v.scope != "local":
                return None
            if sc.function_id is not None and name_pattern(r"&\s*", args[idx], r"\b(?!\s*(?:->|\.|\[))") \
                    .search(_strip_comments(self.body(sc.function_id))):
                return None   # its address is passed on: a callee may set it (xfs_ilock_iocb_for_write)
            texts = ([v.initializer] if v.initializer else []) + sc.values(args[idx], sc.line) \
                + sc.values(args[idx] + "|", sc.line)
        if w.guard[1] <= {_IS_TRUE, _IS_FALSE}:
            truth = {_bool_value(t) for t in texts}
            if None in truth or len(truth) != 1:
                return None
            return (_IS_TRUE if truth.pop() else _IS_FALSE) in w.guard[1]
        consts: set[str] = set()
        for t in texts:
            if not re.fullmatch(r"[A-Z0-9_\s|()]+", t or ""):
                return None
            consts |= set(re.findall(r"[A-Z][A-Z0-9_]*", t))
        return bool(consts & w.guard[1])

    def _substitutable(self, w: WrapperRow) -> bool:
        """A wrapper's lock expression can be rewritten in the caller when its only free name is the
        parameter (no locals of the wrapper)."""
        if w.kind == "macro":
            return True
        f = self._wrapper_def(w)
        sc = self.scope_of(f.function_id) if f is not None else None
        for mm in re.finditer(r"(?<![\w.>$])([A-Za-z_]\w*)\b(?!\s*\()", w.lock_expr):
            name = mm.group(1)
            if name != w.param_name and sc is not None and name in sc.vars:
                return False
        return True

    def analyze_function(self, function_id: int, calls: list[tuple[str, list[str], int]]) -> list[Event]:
        self.resolver.reset_caches()
        events: list[Event] = []
        for i, (callee, args, line) in enumerate(sorted(calls, key=lambda c: c[2])):
            if callee in self._ctx_names:
                self._ctx_drops.add(function_id)   # (a macro among them may lock too: read on)
            if callee in NORETURN_ASSERTS:
                continue   # read by _asserted
            sc = self.scope(function_id, line)
            for e in self.events_for_call(callee, args or [], line, sc):
                e.order = i
                events.append(e)
        return events

    def derive_wrappers(self, function_id: int, events: list[Event], sc_name: str) -> list[WrapperRow]:
        if sc_name in _PRIMS or sc_name in _INITS or sc_name in KNOWN_GLOBAL_WRAPPERS:
            # the catalogue says what these do; a row read from their body would contradict it
            # (KNOWN_WRAPPERS keep theirs: the stack mapping walks up through lock_sock's parameter)
            return []
        fd = self._funcs_by_id.get(function_id)
        if fd is None:
            return []
        if sc_name in MEMBER_WRAPPERS:
            # the catalogue's rows, through the function's own parameters, instead of its body's
            events = self.member_wrapper_events(sc_name, list(self.scope_of(function_id).params()),
                                                fd.start_line, self.scope(function_id, fd.start_line))
        long_body = fd.end_line - fd.start_line > _WRAPPER_MAX_LINES
        int_result = fd.ret is not None and not fd.ret.ptr and fd.ret.base != "void"
        ptr_result = fd.ret is not None and fd.ret.ptr > 0
        void = fd.ret is None or (fd.ret.base == "void" and not fd.ret.ptr)
        declared = self._annotated(fd, "__acquires")   # declared to take a lock (read by its paths)
        by_ident: dict[tuple, list[Event]] = defaultdict(list)
        for e in events:
            o = e.obj
            if o.kind in ("param", "field", "global", "percpu"):
                by_ident[o.ident()].append(e)
        groups: dict[tuple, list[Event]] = {}
        paths_only: set[tuple] = set()   # a member of an object the function finds itself (rq, sighand)
        for ident, evs in by_ident.items():
            roots = {e.obj.root_param for e in evs if e.obj.root_param}
            if not roots and ident[0] == "field":
                paths_only.add((ident, None))
            for r in sorted(roots) or [None]:
                groups[(ident, r)] = [e for e in evs if e.obj.root_param in (r, None)]
        rows = []
        pending: dict[tuple, list[Event]] = {}   # groups whose paths decide (_held_at_return)
        releasing: set[tuple] = set()            # ... of a function declared to release a lock
        sc = self.scope_of(function_id)
        balance: dict[str, int] = defaultdict(int)
        first_held = None   # the first event that takes or drops a lock, in source order
        for e in sorted(events, key=lambda e: (e.line, e.order)):
            p = _PRIMS.get(e.prim)
            if p is None or p.variant not in _NOT_HELD or p.variant == "downgrade":
                balance[e.lock_kind] += -1 if e.op == "release" else 1
                first_held = first_held or e
        for (_ident, root), evs in groups.items():
            held = [e for e in evs if _PRIMS.get(e.prim) is None or _PRIMS[e.prim].variant not in _NOT_HELD]
            downgrades = [e for e in evs if e.prim in _PRIMS and _PRIMS[e.prim].variant == "downgrade"]
            # a function that only downgrades (mmap_write_downgrade, mrdemote) passes the downgrade on
            evs = held or downgrades
            if function_id in self._ctx_drops and any(e.op != "release" for e in evs) and (
                    evs[0].lock_kind == "ww_mutex" or struct_label(self.model, _ident[1]) in CONTEXT_TYPES):
                # taken with an acquire context that this function drops all of again: no row
                # (DRM_MODESET_LOCK_ALL_END in intel_display_resume, for_i915_gem_ww in __uc_init). Also
                # when it drops them only on an error path and returns holding them on success
                # (v3d_lock_bo_reservations, a try): following the drop on the paths would take an op
                # that drops what is held, whatever it is, which the path walker has not
                continue
            if _ident in self._paired.get(function_id, ()) and all(e.op == "release" for e in evs):
                # dropped after a call to a function that takes it and is no wrapper (paired_releases)
                continue
            if not evs or all(e.undecided for e in evs):
                # only through flags whose value is not known here: xfs_file_dio_write_aligned ends with
                # xfs_iunlock(ip, iolock), iolock an IOLOCK value set through a pointer, so nothing says
                # that it drops the ILOCK that xfs_iunlock drops for other flags
                continue
            evs.sort(key=lambda e: (e.line, e.order))
            # one call counts once: a flag-guarded wrapper gives one event per mode it may take
            n_acq = len({e.order for e in evs if e.op != "release"})
            n_rel = len({e.order for e in evs if e.op == "release"})
            kind_balance = balance[evs[0].lock_kind]
            guard = None
            if (_ident, root) in paths_only:
                if n_acq and not long_body and self._returned_or_fixed(fd, sc, evs):
                    pending[(_ident, root)] = evs
                continue
            if n_acq > n_rel and kind_balance > 0 and not long_body:
                if n_rel or int_result:
                    # it also drops the lock, or returns a number: where the paths can be followed, the
                    # count is overruled when they show the lock held at no return (console_unblank takes
                    # console_sem by a trylock or by console_lock, then drops it: 2 takes > 1 drop), and
                    # when its returns say whether it holds it (__down_trylock_console_sem: 0 with the
                    # lockdep map taken, 1 without; __radix_tree_preload returns `ret`, set to -ENOMEM
                    # before the lock and to 0 after it). Else the count stands
                    at, rets = self._held_at_return(fd, events, {(_ident, root): evs})
                    held = at.get((_ident, root))
                    if held is not None and max(held) > 0:
                        self.held_at_some_return.add(_ident)
                    if held is not None and (max(held) <= 0 or min(held) == 0 and _try_result(held, rets)):
                        pending[(_ident, root)] = evs
                        continue
                picks = self._by_mode(fd, [e for e in evs if e.op != "release"], sc)
                if held and downgrades and len(picks) == 1 and picks[0][0].mode == "write" \
                        and max(e.line for e in downgrades) > picks[0][0].line:
                    # taken for write, then downgraded: the caller holds it for read (ceph_start_io_read
                    # and nfs_start_io_read take i_rwsem by down_read, or by down_write + downgrade_write)
                    picks = [(replace(picks[0][0], mode="read"), picks[0][1])]
                if picks[-1][0].op == "try" and void:
                    # a try in a function that returns nothing: its caller cannot tell whether it holds
                    # the lock. An acquire where its paths hold it at every return (cifs_down_write:
                    # `while (!down_write_trylock(sem)) msleep(10);`), else no row (ux500_hash_shutdown
                    # tests down_trylock only for a debug message; powerpc's _exception reaches die_lock
                    # only through die(), which drops it again)
                    at, _rets = self._held_at_return(fd, events, {(_ident, root): evs})
                    held = at.get((_ident, root))
                    if held is None or min(held) <= 0:
                        continue
                    picks = [(replace(e, op="acquire"), g) for e, g in picks]
            elif n_rel > n_acq and evs[0].op == "release" and kind_balance < 0 and (
                    not long_body or all(e.via is None for e in evs)):
                if long_body or n_acq or any(e.op != "release" and e.obj.ident() == _ident
                                             for e in by_ident[_ident] if e not in evs):
                    # a long function must drop the lock on every return (the paths decide, below):
                    # synchronize_rcu_expedited unlocks rcu_state.exp_mutex only after exp_funnel_lock
                    # took it, and returns early when it did not. So must one that also takes the lock
                    # (start_unregistering drops sysctl_lock on two paths and takes it again after
                    # them), or takes it through another parameter (debugfs_create_dir locks the parent's
                    # inode through start_creating(name, parent) and unlocks it as dentry->d_parent's)
                    pending[(_ident, root)] = evs
                    if self._annotated(fd, "__releases"):
                        # declared `__releases(rnp->lock)`: rcu_report_unblock_qs_rnp drops it on the
                        # paths it can be seen to (rcu_report_qs_rsp drops the root's lock, which is rnp's)
                        releasing.add((_ident, root))
                    continue
                # guarded as the acquires are: xfs_iunlock(ip, XFS_ILOCK_EXCL) drops only the ILOCK
                picks = self._by_mode(fd, [e for e in evs if e.op == "release"], sc)
            else:
                # counting says nothing here: a retry loop locks and unlocks, then returns with the lock
                # held; a long function drops its caller's lock through helpers on every path; the paths
                # to the returns decide (below)
                # a long function too when it returns a pointer (start_creating: the dentry, with its
                # parent's inode locked, or an error pointer without the lock)
                # and one declared `__acquires(...)`: rhashtable_walk_start_check (lib/rhashtable.c, 60 lines)
                # returns 0 or -EAGAIN, both with the RCU read lock that rhashtable_walk_stop drops
                # (cgroup_lock_and_drain_offline, declared so, drops cgroup_mutex only to wait and go back
                # to `restart:` where it takes it again: the paths show it held at the end)
                if n_acq and (not long_body or ptr_result or declared or function_id in self._paths_ok) and (
                        n_acq > n_rel or declared or self._exits_between(fd, evs, int_result or ptr_result)):
                    pending[(_ident, root)] = evs
                elif root is None and _ident[0] in ("global", "percpu") and n_rel > n_acq \
                        and evs[0].op == "release" and kind_balance < 0 and evs[0] is first_held \
                        and evs[0].lock_kind in _SLEEPING:
                    # a long function that drops a global sleeping lock its caller took, through a helper,
                    # before it takes any lock, and on every return (the paths decide): netdev_run_todo
                    # unlocks rtnl_mutex through __rtnl_unlock first, and is the whole of rtnl_unlock.
                    # Not when something was locked before (its unlock may pair with a lock not seen as
                    # such: folio_memcg_lock), nor for spinlocks and lockdep maps, whose acquire hides in
                    # a try (DO_ONCE's __do_once_start) or a false release wrapper of rcu_lock_map
                    # upstream would spread: 337 false release wrappers measured on 6.1 with them
                    pending[(_ident, root)] = evs
                elif root is not None and n_rel > n_acq and evs[0].op == "release" and kind_balance < 0 \
                        and self._annotated(fd, "__releases"):
                    # a long function declared `__releases(rq->lock)` (__set_cpus_allowed_ptr_locked):
                    # without the annotation, a long function that commits what a long one began
                    # (nilfs_transaction_begin/commit) would pass for a release wrapper
                    pending[(_ident, root)] = evs
                    releasing.add((_ident, root))
                continue
            pname = root
            pidx = sc.param_index(pname) if pname is not None and sc is not None else None
            if pname is not None and pidx is None:
                continue
            rows += [WrapperRow(sc_name, "function", fd.file_id, fd.start_line,
                                pidx, pname, last.prim, last.op, last.mode, last.lock_kind,
                                last.lock_expr or last.arg_text,
                                last.obj, ">".join([sc_name] + (last.via.split(">") if last.via
                                                                else [last.prim])), guard,
                                substitute=not (last.via and last.lock_expr is None),
                                condition=None if guard is not None else self._condition_of(
                                    fd, [e for e in evs if (e.op == "release") == (last.op == "release")
                                         and (len(picks) == 1 or e.mode == last.mode)], void))
                     for last, guard in picks]
        at_return, returns = self._held_at_return(fd, events, pending)
        self.held_at_some_return.update(i for (i, _root), held in at_return.items() if max(held) > 0)
        if function_id in self._paths_ok:
            # read by its paths because a release wrapper calling it drops a lock it takes: every lock it
            # takes counts, also one no row could name (nilfs_transaction_begin returns 0 holding
            # ns_segctor_sem of the_nilfs it finds from sb->s_fs_info, a local: nilfs_transaction_commit
            # in nilfs_create pairs with it)
            more = {k: evs for k, evs in groups.items()
                    if k not in pending and k[0][0] in ("field", "global", "percpu")
                    and any(e.op != "release" for e in evs)}
            if more:
                at_more, _rets = self._held_at_return(fd, events, more)
                self.held_at_some_return.update(i for (i, _root), held in at_more.items() if max(held) > 0)
        for (_ident, root), held in at_return.items():
            held_if = None
            guard = None
            pidx = sc.param_index(root) if sc is not None and root else None
            if root is not None and pidx is None:
                continue
            if _ident in self._paired.get(function_id, ()) and max(held) <= 0:
                continue
            if max(held) < 0 or ((_ident, root) in releasing and min(held) < 0 and max(held) <= 0):
                op, how = "release", f"released on {'every return' if max(held) < 0 else 'some returns'}"
                last = pending[(_ident, root)][-1]
            elif min(held) >= 0 and max(held) > 0:
                # held on some returns only: a function that returns the locked object or NULL
                # (lock_task_sighand) tries; any other may have returned early on a failed try
                op = "acquire" if min(held) > 0 else "try" if not void and fd.ret.ptr else None
                if op is None and not void:
                    # an int or bool function whose returns say whether it holds the lock:
                    # console_trylock returns 1 with console_sem, 0 without; __down_trylock_console_sem
                    # 0 with it, 1 without
                    held_if = _try_result(held, returns)
                    op = "try" if held_if else None
                if op == "try" and held_if is None and not self._returns_locked(fd, pending[(_ident, root)]):
                    # a pointer it returns non-NULL exactly when it holds the lock, though the pointer
                    # is not the lock's object: xfrm_policy_get_afinfo returns an RCU-protected pointer
                    # under rcu_read_lock, or NULL without it
                    held_if = _try_result(held, returns, pointer=True)
                    op = "try" if held_if == "true" else None
                acq = [e for e in pending[(_ident, root)] if e.op != "release"]
                if op is None and len(acq) == len(pending[(_ident, root)]):
                    # taken only under `if (flags & X)` and never dropped: path_init (fs/namei.c, 80 lines,
                    # returns a pointer) takes the RCU read lock when flags include LOOKUP_RCU, and its
                    # callers drop it through terminate_walk. As the rows of short functions, by count.
                    guard = self._merged_guard(fd, acq, sc)
                    op = "acquire" if guard is not None else None
                    if guard is not None and not void and not fd.ret.ptr:
                        # and where its returns say whether it took it, a try under that flag test:
                        # xfs_ilock_nowait returns 1 with i_lock when lock_flags ask for it (by
                        # mrtryupdate), 0 after a failed try, and 1 without it when they do not ask
                        held_if = _guarded_try_result(held, returns)
                        op = "try" if held_if else op
                if op is None:
                    continue
                if guard is None:
                    # taken only where a flag parameter asks, as the rows by count keep it: xfs_ilock_iocb
                    # tries i_lock (0 with it, -EAGAIN without) only when lock_mode has an ILOCK flag
                    guard = self._merged_guard(fd, acq, sc)
                how = "held on every return" if min(held) > 0 else \
                    "taken under a flag test" if guard else \
                    "held on some returns" if not held_if \
                    else "held when it returns a value not negative" if held_if == "nonneg" \
                    else f"held when it returns {'nonzero' if held_if == 'true' else '0'}"
                last = [e for e in pending[(_ident, root)] if e.op != "release"][-1]
            else:
                continue
            via = ">".join([sc_name, *(last.via.split(">") if last.via else [last.prim])])
            rows.append(WrapperRow(sc_name, "function", fd.file_id, fd.start_line, pidx, root, last.prim, op,
                                   last.mode, last.lock_kind, last.lock_expr or last.arg_text,
                                   replace(last.obj, reason=f"{how} of {sc_name}: {last.obj.reason}"),
                                   via, guard, substitute=not (last.via and last.lock_expr is None),
                                   held_if=held_if, by_paths=True))
        rows += self._declared_rows(fd, sc, sc_name, rows, events)
        return _dedup(rows, key=lambda w: (w.param_index, w.op, w.mode, w.obj.ident()))

    def _declared_rows(self, fd: FuncDef, sc: Scope | None, sc_name: str, rows: list[WrapperRow],
                       events: list[Event]) -> list[WrapperRow]:
        """Rows that a function's sparse annotations declare and its body does not show: `__releases(X)`
        without `__acquires(X)` drops X, the reverse takes it, where X is a lock the resolver finds (a
        global, or a member reached from a parameter). queue_request_and_unlock (fs/fuse/dev.c) is
        `__releases(fiq->lock)` and drops it through fiq->ops->wake_pending_and_unlock, so flush_bg_queue,
        which locks fiq->lock and calls it, read as an acquire wrapper. Only where the body shows no
        acquire (release) at all: otherwise the rules above decided from what it does (a try, a retry
        loop, an srcu_read_lock whose lockdep map the annotation names as the srcu_struct)."""
        anns = self._annotations.get(fd.function_id)
        if sc is None or not anns:
            return []
        takes = {arg for a, arg in anns if a == "__acquires"}
        drops = {arg for a, arg in anns if a == "__releases"}
        out = []
        start = self.scope(fd.function_id, fd.start_line)
        for op, exprs in (("acquire", takes - drops), ("release", drops - takes)):
            if any((e.op == "release") == (op == "release") for e in events):
                continue   # the body shows it
            for x in sorted(exprs):
                obj = self.resolver.lock_object(x if x.startswith("&") else f"&({x})", start, "pointer")
                if not (obj.kind == "global" or obj.kind == "field" and obj.root_param):
                    continue
                if any(w.obj.ident() == obj.ident() for w in rows):
                    continue
                kind = self.resolver.lock_kind(obj.type) or "lock"
                pidx = sc.param_index(obj.root_param) if obj.root_param else None
                if obj.root_param and pidx is None:
                    continue
                word = "__acquires" if op == "acquire" else "__releases"
                out.append(WrapperRow(sc_name, "function", fd.file_id, fd.start_line, pidx, obj.root_param,
                                      word, op, "exclusive", kind, x,
                                      replace(obj, reason=f"declared {word}({x}) of {sc_name}: {obj.reason}"),
                                      f"{sc_name}>{word}", substitute=False))
        return out

    def _condition_of(self, fd: FuncDef, evs: list[Event], void: bool = False) -> str | None:
        """The tests every one of these takes (or drops) sits under, when all of them share them:
        `if (pipe->files) in pipe_unlock`. Read on the line of the call (`if (x) mutex_unlock(..);`), the
        line above it (`if (x)`), the `if (..) {` of every block it is in (_block_tests), and for a
        function that returns nothing, its early returns (_early_returns); an event through a
        conditional wrapper adds that wrapper's tests. Not an option the configuration sets, nor a
        WARN_ON check. None when one of them is unconditional, or they sit under different tests."""
        conds: list[str] = []
        lines = self.lines(fd.file_id)
        if void and evs:
            early = self._early_returns(fd, evs)
            if early:
                return early
        for e in evs:
            tests: list[str] = []   # innermost first
            if fd.start_line < e.line <= len(lines):
                m = _IF_LINE.match(_strip_comments(lines[e.line - 1]))
                if m and e.called not in m.group(1):
                    tests.append(m.group(1))
                elif e.line - 1 > fd.start_line:
                    above = _strip_comments(lines[e.line - 2])
                    m = _IF_ABOVE.match(above)
                    if m and not above.rstrip().endswith("{"):
                        tests.append(m.group(1))   # `if (T)` with one statement (a block's is below)
                tests += self._block_tests(fd, e.line)
            # an option the configuration sets (IS_ENABLED(CONFIG_RPS) in Debian's) is none. A NULL test
            # of the lock's own object is named like any other (`if (pvmw->ptl) in
            # page_vma_mapped_walk_done`): readers of the samples took it either way
            tests = [t for t in tests if eval_condition(t, self.build.config) is not True
                     and not _ASSERTION.search(t)]   # nor a check that fires only on a bug (WARN_ON)
            # its tests, outermost first, then those of the wrapper it calls (ocfs2_rename_unlock drops the
            # lock `if (!ocfs2_mount_local(osb))`, through __ocfs2_cluster_unlock's own test)
            parts = [f"if ({fold_ws(t)}) in {fd.name}" for t in reversed(tests)] + \
                ([e.condition] if e.condition else [])
            if not parts:
                return None
            conds.append("; ".join(parts))
        # one test for all of them; under different tests (the branches of an if/else chain,
        # mlx5_ib_unlock_cqs) they may well cover every case: no condition
        return conds[0] if len(set(conds)) == 1 else None

    def _block_tests(self, fd: FuncDef, line: int) -> list[str]:
        """The tests of the `if (..) {` blocks a line is in, innermost first (unlock_rename drops
        s_vfs_rename_mutex as the second statement of `if (p1 != p2) {`), negated for an `else` block
        (`} else {`); blocks of loops, switches and the function itself say nothing. Only for a row's
        condition, which labels it: a guard read this far up made one side of a pair conditional and the
        other not (lock pass 68)."""
        lines = self.lines(fd.file_id)
        out: list[str] = []
        depth = 0
        for ln in range(line - 1, fd.start_line - 1, -1):
            text = _strip_comments(lines[ln - 1]) if ln <= len(lines) else ""
            for ch in reversed(text):   # going up a line means reading it from its end
                if ch == "}":
                    depth += 1
                elif ch == "{":
                    if depth > 0:
                        depth -= 1
                        continue
                    # a brace that opens a block the line is in
                    m = _IF_ABOVE.match(text)
                    if m is not None and text.rstrip().endswith("{"):
                        out.append(m.group(1))   # `if (T) {`, `} else if (T) {` (the earlier tests unsaid)
                    elif _ELSE_OPEN.match(text):
                        # the test of the `if (T) {` whose block the `}` of this line closes, negated
                        # (gts_stolen drops ts_ctxlock in the else of is_kernel_context(gts))
                        opener = self._block_opener(fd, ln)
                        m = _IF_ABOVE.match(opener) if opener is not None else None
                        if m is not None:
                            out.append(_negated(m.group(1)))
        return out

    def _block_opener(self, fd: FuncDef, line: int) -> str | None:
        """The line that opens the block a `}` at the start of `line` closes."""
        lines = self.lines(fd.file_id)
        depth = 1
        for ln in range(line - 1, fd.start_line, -1):
            text = _strip_comments(lines[ln - 1]) if ln <= len(lines) else ""
            depth += text.count("}") - text.count("{")
            if depth == 0:
                return text
        return None

    def _early_returns(self, fd: FuncDef, evs: list[Event]) -> str | None:
        """A function that returns nothing and may return before it takes (or drops) the lock: the tests
        of those returns, as `unless (..)`: file_end_write returns at once unless S_ISREG(inode->i_mode),
        clk_prepare_unlock while --prepare_refcnt. Not a check that fires only on a bug (`if
        (WARN_ON(!policy)) return;`)."""
        lines = self.lines(fd.file_id)
        first = min(e.line for e in evs)
        tests = []
        for ln in range(fd.start_line + 1, min(first, len(lines) + 1)):
            text = _strip_comments(lines[ln - 1])
            if not _RETURN_VOID.search(text):
                continue
            above = ln - 1
            while above > fd.start_line and (not _strip_comments(lines[above - 1]).strip()
                                             or lines[above - 1].strip().startswith(("*", "/*"))):
                above -= 1   # a comment between the test and the return (mips_cpc_lock_other)
            m = _IF_RETURN.match(text) or (_IF_ABOVE.match(_strip_comments(lines[above - 1]))
                                           if _RETURN_VOID.match(text) else None)
            if m is None:
                return None   # a return not under a one-line test (a loop, a block): not read here
            test = fold_ws(m.group(1))
            if _ASSERTION.search(test):
                continue   # a check that fires only on a bug
            tests.append(test)
        return f"unless ({' || '.join(tests)}) in {fd.name}" if tests else None

    def _returned_or_fixed(self, fd: FuncDef, sc: Scope | None, evs: list[Event]) -> bool:
        """The lock of a group reached from no parameter is in the object the function returns (`return
        rq;` after locking rq's lock), or is reached from no local at all (current->sighand->siglock)."""
        name = self._lock_root(evs)
        if name is None:
            return False
        scopes = {v.scope for v in sc.vars.get(name, [])} if sc is not None else set()
        if "param" in scopes:
            return False   # then the object has a root parameter: a known wrapper (lock_sock)
        return "local" not in scopes or self._returns(fd, name)

    def _lock_root(self, evs: list[Event]) -> str | None:
        """The variable the last acquisition's lock expression starts from (rq in &rq->__lock)."""
        acq = [e for e in evs if e.op != "release"][-1]
        n = self.resolver.parse(acq.lock_expr or acq.arg_text)
        for _ in range(30):
            if n[0] in ("paren", "member", "index"):
                n = n[1]
            elif n[0] in ("unary", "postfix", "cast"):
                n = n[2]
            elif n[0] == "call" and n[2]:
                n = n[2][0][0]
            else:
                break
        return n[1] if n[0] == "id" else None

    def _returns_locked(self, fd: FuncDef, evs: list[Event]) -> bool:
        """The function returns the object it locked: `return sighand;` after spin_lock(&sighand->siglock),
        or the result of a call that returns it locked (`ret = __lock_task_sighand(..); return ret;`)."""
        name = self._lock_root(evs)
        if name is not None and self._returns(fd, name):
            return True
        called = [e for e in evs if e.op != "release"][-1].called
        text = _strip_comments("\n".join(self.lines(fd.file_id)[fd.start_line - 1:fd.end_line]))
        if name_pattern(r"\breturn\s*\(?\s*", called, r"\s*\(").search(text):
            return True
        return any(self._returns(fd, m.group(1))
                   for m in name_pattern(r"\b([A-Za-z_]\w*)\s*=\s*", called, r"\s*\(").finditer(text))

    def _returns(self, fd: FuncDef, name: str) -> bool:
        """`return name;` is written in the function."""
        text = _strip_comments("\n".join(self.lines(fd.file_id)[fd.start_line - 1:fd.end_line]))
        return name_pattern(r"\breturn\s*\(?\s*", name, r"\s*\)?\s*;").search(text) is not None

    def _annotated(self, fd: FuncDef, word: str) -> bool:
        """The function's head has the sparse annotation `word(...)` (__releases, __acquires)."""
        return any(a == word for a, _arg in self._annotations.get(fd.function_id, ()))

    def _exits_between(self, fd: FuncDef, evs: list[Event], to_end: bool = False) -> bool:
        """A return, break or goto written between the first acquire and the last release of a group
        (else a balanced group is balanced on every path and needs no path walk), or with to_end up to
        the end of the function: a bool or int function may return what its paths hold
        (drm_master_internal_acquire unlocks and returns false, or returns true with the lock held)."""
        first = min(e.line for e in evs if e.op != "release")
        last = max((e.line for e in evs if e.op == "release"), default=first)
        text = "\n".join(self.lines(fd.file_id)[first - 1:last])
        if _EXIT_WORD.search(_strip_comments(text)) is not None:
            return True
        if not to_end:
            return False
        # what it returns can tell only with two returns or more after the first acquire, or a variable
        # returned (mnt_want_write: `if (ret) sb_end_write(..); return ret;`)
        text = _strip_comments("\n".join(self.lines(fd.file_id)[first - 1:fd.end_line]))
        if len(_RETURN_WORD.findall(text)) >= 2:
            return True
        tested = set(_IF_TESTED.findall(text))
        return any(v in tested for v in _RETURN_VARIABLE.findall(text))

    def _held_at_return(self, fd: FuncDef, events: list[Event], pending: dict[tuple, list[Event]]
                        ) -> tuple[dict[tuple, list[int]], list[str | None]]:
        """Lock counts of each pending group at each return of a function (none when its paths cannot be
        followed), and what each return gives (lock_paths.RETURNS): lock_paths walks them."""
        if not pending:
            return {}, []
        ops: dict[int, list] = defaultdict(list)
        first: dict[int, Event] = {}
        for e in events:
            first.setdefault(e.order, e)
        kinds = {evs[0].lock_kind for evs in pending.values()}
        held_kind = [e for e in events if e.lock_kind in kinds and (
            _PRIMS.get(e.prim) is None or _PRIMS[e.prim].variant not in _NOT_HELD)]
        for key, evs in [*pending.items(), *((("kind", k), [e for e in held_kind if e.lock_kind == k])
                                             for k in kinds)]:
            for e in evs:
                ops[e.order].append((key, _path_op(e)))
        calls = [(e.line, e.called, ops.get(o, [])) for o, e in sorted(first.items())]
        text = "\n".join(self.lines(fd.file_id)[fd.start_line - 1:fd.end_line])
        states = return_states(text, fd.start_line, calls)
        if not states:
            return {}, []
        # counted per kind too (as kind_balance does): a lock taken as one object and dropped as another
        # (two spellings the resolver reads apart) is no lock held
        out = {}
        for key, evs in pending.items():
            kind = ("kind", evs[0].lock_kind)
            held = [s.get(key, 0) for s in states]
            if all(s.get(kind, 0) > 0 for s in states if s.get(key, 0) > 0) and \
                    all(s.get(kind, 0) < 0 for s in states if s.get(key, 0) < 0):
                out[key] = held
        return out, [s.get(RETURNS) for s in states]

    def analyze(self, cid: int, calls: list, name: str
                ) -> tuple[list[Event], list[WrapperRow], set[int], frozenset[tuple]]:
        """Events and wrapper rows of one function, the functions whose wrapper rows were looked up, and
        the locks its paths show held at some return (read by _unpaired_takes)."""
        self.wrapper_reads = set()
        self.held_at_some_return = set()
        evs = self.analyze_function(cid, calls)
        ws = self.derive_wrappers(cid, _asserted(evs, calls), name)
        return evs, ws, self.wrapper_reads, frozenset(self.held_at_some_return)

    def analyze_round(self, byf: dict[int, list], names: dict[int, str]):
        """(function id, events, wrapper rows, wrapper functions read, locks held at some return, fresh)
        for every caller of a round, in
        order. With several cores, worker processes forked now analyse the later parts of the list with
        the wrapper rows as they are now while this process analyses the first part; their results come
        with fresh=False: the caller redoes a function when a wrapper it read has changed since."""
        cids = list(byf)
        n = min(_workers(), len(cids) // _MIN_PER_WORKER)
        if n <= 1:
            self.preload_scopes(cids)
            for cid in cids:
                yield cid, *self.analyze(cid, byf[cid], names[cid]), True
            return
        size = -(-len(cids) // n)
        chunks = [cids[i:i + size] for i in range(0, len(cids), size)]
        global _ROUND
        _ROUND = (self, byf, names)
        try:
            with multiprocessing.get_context("fork").Pool(len(chunks) - 1, initializer=_worker_init) as pool:
                later = pool.map_async(_analyze_chunk, chunks[1:])
                self.preload_scopes(chunks[0])
                for cid in chunks[0]:
                    yield cid, *self.analyze(cid, byf[cid], names[cid]), True
                for part in later.get():
                    for cid, evs, ws, reads, held in part:
                        yield cid, evs, ws, reads, held, False
        finally:
            _ROUND = None

    def find_sites(self) -> None:
        self.events: dict[int, list[Event]] = {}
        self._paths_ok: set[int] = set()   # long int/void functions read by their paths (long_tries_to_read)
        self._paired: dict[int, set[tuple]] = {}   # function -> locks it drops after a call took them
        self._held_somewhere: dict[int, frozenset[tuple]] = {}   # function -> locks held at some return
        wrapper_names: set[str] = set()
        self._ctx_names = frozenset(CONTEXT_RELEASES | self.macros.reaching(set(CONTEXT_RELEASES),
                                                                             set(_PRIMS) | set(_INITS)))
        base = set(_PRIMS) | set(KNOWN_WRAPPERS) | set(KNOWN_GLOBAL_WRAPPERS) | set(MEMBER_WRAPPERS)
        new_names = set(base)
        sigs_seen: dict[int, set] = defaultdict(set)
        for rnd in range(_MAX_ROUNDS):
            t0 = time.perf_counter()
            self.relevant = base | wrapper_names
            self.lock_macros = self.macros.reaching(self.relevant, set(_PRIMS) | set(_INITS))
            self.relevant |= self.lock_macros
            new_names |= self.lock_macros if rnd == 0 else set()
            new_macros = self.lock_macros - getattr(self, "_seen_macros", set())
            self._seen_macros = set(self.lock_macros)
            todo_names = new_names | new_macros
            calls = self._calls
            found = _arrow_rows(calls.filter(self.calls_to(todo_names))
                                .group_by(["caller_id", "caller"]).aggregate([]).sort_by("caller_id"))
            extra: set[int] = set()
            if rnd == 0:
                # functions declaring an acquire or release their body does not show (an ops pointer
                # does it) are read too, for their declared rows (_declared_rows)
                extra = {f for f, anns in self._annotations.items() if f in self._funcs_by_id and any(
                    a != "__must_hold" for a, _arg in anns)}
            elif not found:
                # the fixed point is reached: read the long tries its release wrappers point at, and the
                # release wrappers that drop what a call of theirs took, and go on
                extra = self.long_tries_to_read()
                self._paths_ok |= extra
                if not extra:
                    extra = self.paired_releases()
            if extra:
                seen = {r[0] for r in found}
                found = sorted(found + [(f, self._funcs_by_id[f].name) for f in sorted(extra - seen)])
            if not found:
                break
            callers = [r[0] for r in found]
            mine = calls.filter(self.calls_of(callers))   # then the few relevant ones
            rows = _arrow_rows(mine.filter(pc.is_in(mine["callee"], _names(
                self.relevant | NORETURN_ASSERTS | self._ctx_names)))
                               .select(["caller_id", "caller", "callee", "args", "line"]))
            byf: dict[int, list] = {cid: [] for cid in callers}
            names: dict[int, str] = dict(found)
            for cid, caller, callee, args, line in rows:
                byf[cid].append((callee, args, line))
                names[cid] = caller
            t1 = time.perf_counter()
            new_names = set()
            changed: set[int] = set()   # functions whose wrapper rows changed in this round so far
            for cid, evs, ws, reads, held, fresh in self.analyze_round(byf, names):
                if not fresh and reads & changed:
                    evs, ws, _reads, held = self.analyze(cid, byf[cid], names[cid])
                self.events[cid] = evs
                if held:
                    self._held_somewhere[cid] = held
                else:
                    self._held_somewhere.pop(cid, None)
                old = self.wrappers.get(cid)
                sig = _wsig(ws)
                if sig == _wsig(old or []):
                    continue
                changed.add(cid)
                if ws:
                    self.wrappers[cid] = ws
                    wrapper_names.add(names[cid])
                elif old:
                    del self.wrappers[cid]
                    wrapper_names.discard(names[cid])
                if sig not in sigs_seen[cid]:
                    sigs_seen[cid].add(sig)
                    new_names.add(names[cid])
            self.log(f"wrappers, round {rnd + 1}: {len(byf):,} callers read, {len(new_names):,} new wrappers "
                     f"({t1 - t0:.1f} s reading, {time.perf_counter() - t1:.1f} s analysing)")
        else:
            # not reached on 6.1 (31 rounds, the last ones reading the long tries and the paired releases)
            self.warnings.append(f"wrapper rounds stopped at {_MAX_ROUNDS} before a fixed point: wrappers "
                                 "found in later rounds are missing")
            self.log(f"lock pass: warning: {self.warnings[-1]}")
        self.stats["wrapper_functions"] = len(self.wrappers)

    def paired_releases(self) -> set[int]:
        """Release wrappers that drop a lock after calling a function that takes it and is no wrapper of
        it (its paths are not read, or say nothing clear): the release pairs with that call, not with the
        caller's lock. ocfs2_getattr calls ocfs2_inode_lock (a macro for ocfs2_inode_lock_full_nested, which
        returns 0 with the lock held on a cluster mount and 0 without it on a local one) and later
        ocfs2_inode_unlock: no release wrapper. Returns the functions to read again (their rows drop)."""
        rel: dict[int, dict[tuple, int]] = {}   # function -> lock -> line of its first release
        for cid, ws in self.wrappers.items():
            idents = {w.obj.ident() for w in ws if w.op == "release"} - self._paired.get(cid, set())
            if idents:
                rel[cid] = {i: min((e.line for e in self.events.get(cid, ()) if e.op == "release"
                                    and e.obj.ident() == i), default=0) for i in idents}
        if not rel:
            return set()
        out = set()
        # (release wrapper, line of its call) of each function it calls, and (two levels down) of the
        # functions those call when they are no wrappers and touch the lock: ocfs2_readdir reaches
        # ocfs2_inode_lock_full_nested through ocfs2_inode_lock_atime
        level = {c: [(c, 0)] for c in rel}
        for depth in range(2):
            calls = self._calls.filter(self.calls_of(level))
            nxt: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for caller, callee, line in _arrow_rows(calls.select(["caller_id", "callee", "line"])):
                fd = self._funcs_by_id.get(caller)
                if fd is None:
                    continue
                for f in self._called_through(callee, fd.file_id):
                    takes = self._unpaired_takes(f.function_id)
                    for cid, at in level[caller]:
                        if f.function_id == cid:
                            continue
                        at = at or line
                        for i in takes & rel[cid].keys():
                            if at < rel[cid][i]:
                                self._paired.setdefault(cid, set()).add(i)
                                out.add(cid)
                        if depth == 0 and f.function_id not in self.wrappers and any(
                                e.obj.ident() in rel[cid] for e in self.events.get(f.function_id, ())):
                            # only through a function that touches the lock itself (ocfs2_inode_lock_atime
                            # drops it and takes it again)
                            nxt[f.function_id].append((cid, at))
            level = nxt
        return out

    def _unpaired_takes(self, function_id: int) -> set[tuple]:
        """Locks (members or globals) a function that is no wrapper of them takes more often than it
        drops, or by a try, or holds at some return by its paths: it may return holding them
        (ocfs2_inode_lock_full_nested). Not a balanced one (release_sock takes and drops the socket's
        slock inside), nor a parameter itself."""
        held = {w.obj.ident() for w in self.wrappers.get(function_id, ()) if w.op != "release"}
        acq: dict[tuple, set[int]] = defaultdict(set)
        rel: dict[tuple, set[int]] = defaultdict(set)
        tries: set[tuple] = set()
        first: dict[tuple, str] = {}
        for e in sorted(self.events.get(function_id, ()), key=lambda e: (e.line, e.order)):
            if e.obj.kind not in ("field", "global", "percpu"):
                continue
            i = e.obj.ident()
            (rel if e.op == "release" else acq)[i].add(e.order)
            first.setdefault(i, e.op)
            if e.op == "try":
                tries.add(i)
        # not one that drops the lock first (spu_activate waits in spu_prio_wait, which drops and takes
        # again its caller's state_mutex)
        out = {i for i, orders in acq.items() if i not in held and first[i] != "release"
               and (i in tries or len(orders) > len(rel[i]))}
        # and one whose paths show it held at some return, however the calls count: pm_clk_op_lock
        # (drivers/base/power/clock_ops.c) returns 0 holding psd->lock or psd->clock_mutex, as
        # psd->clock_op_might_sleep says, which no wrapper row can say; pm_clk_suspend drops what it took
        return out | {i for i in self._held_somewhere.get(function_id, ()) if i not in held
                      and i[0] in ("field", "global", "percpu") and first.get(i) != "release"}

    def long_tries_to_read(self) -> set[int]:
        """Long functions returning an int or nothing that take a lock some release wrapper calling them
        drops, not yet read by their paths (reading every long int function took the rounds from 17 to
        29 s): __gfs2_trans_begin returns 0 with sd_log_flush_lock held and an error without, and
        gfs2_trans_end drops it, so every function that begins and ends a transaction looked like dropping
        it; ubi_refill_pools_and_lock (void) returns with three rw_semaphores held."""
        released: dict[int, set[tuple]] = {}
        for cid, ws in self.wrappers.items():
            ids = {w.obj.ident() for w in ws if w.op == "release"}
            if ids:
                released[cid] = ids
        if not released:
            return set()
        out = set()
        # the callees of each release wrapper, and theirs (gfs2_trans_begin is a short function around
        # __gfs2_trans_begin): (function, idents its release wrapper drops)
        level = dict(released)
        for _depth in range(2):
            calls = self._calls.filter(self.calls_of(level))
            nxt: dict[int, set[tuple]] = defaultdict(set)
            for cid, callee in _arrow_rows(calls.select(["caller_id", "callee"])):
                fd = self._funcs_by_id.get(cid)
                if fd is None:
                    continue
                for f in self._called_through(callee, fd.file_id):
                    if f.function_id in self.wrappers or f.function_id in self._paths_ok:
                        continue
                    if f.end_line - f.start_line <= _WRAPPER_MAX_LINES or f.ret is None or f.ret.ptr:
                        nxt[f.function_id] |= level[cid]
                        continue
                    evs = self.events.get(f.function_id, ())
                    if any(e.op != "release" and e.obj.ident() in level[cid] for e in evs):
                        out.add(f.function_id)
            level = nxt
        return out

    def _called_through(self, callee: str, file_id: int) -> list[FuncDef]:
        """The function a call reaches, or, for a function-like macro, the functions its body calls:
        ocfs2's `#define ocfs2_inode_lock(i, b, e) ocfs2_inode_lock_full_nested(i, b, e, 0, OI_LS_NORMAL)`."""
        f = self.pick_function(callee, file_id)
        if f is not None:
            return [f]
        g = self.macros.call_graph()   # (edges from each name a macro body calls to the macro)
        called = g.predecessors(callee) if callee in g else ()
        return [f for f in (self.pick_function(name, file_id) for name in sorted(called) if name != callee)
                if f is not None]

    def read_guards(self) -> None:
        """Lock guard classes the tree defines (DEFINE_GUARD(mutex, ...), lock_catalogue.GUARD_DEFINERS) and
        where functions take them: guard(mutex)(&x->lock), scoped_guard(spinlock_irqsave, &q->lock)."""
        self._guard_defs: dict[str, tuple[str, str | None]] = {}
        rows = self._pre.rows("guard_defs")
        for _fid, _line, macro, args in sorted(rows, key=lambda r: (self._path_rank(r[0]), r[0], r[1])):
            at, form = GUARD_DEFINERS[macro]
            if args and len(args) > at and args[0].isidentifier():
                self._guard_defs.setdefault(args[0], (args[at], form))
        self._guard_uses = self._pre.rows("guard_uses")   # (caller_id, line, user, class, lock arguments)

    def guard_sites(self) -> None:
        """Lock sites of guards: the lock statement of the guard's class, with the lock argument put in for
        `_T`, read as a call in the function (primitive `guard(mutex)`, via `guard(mutex)>mutex_lock`).
        The guard drops the lock at the end of its scope, so it never makes a wrapper."""
        for cid, line, user, cls, largs in self._guard_uses:
            d = self._guard_defs.get(cls)
            if d is None or cid not in self._funcs_by_id:
                continue
            text, form = d
            if form is not None and not (largs and largs[0]):
                continue
            text = _guard_statement(text, form, largs[0] if form is not None else "")
            sc = self.scope(cid, line)
            evs = [e for callee, args, _off in find_calls(text, self.relevant)
                   for e in self.events_for_call(callee, args, line, sc, via=(f"{user}({cls})",))
                   if e.op != "release"]
            if evs:
                self.events.setdefault(cid, []).extend(evs)

    def macro_sites(self) -> tuple[list[tuple], list[WrapperRow]]:
        """Sites written inside macro bodies (function = macro name) and the macro wrappers."""
        sites = []
        wrows = []
        names = set(_PRIMS) | {f for f in self.relevant if f not in self.lock_macros}
        for mname in sorted(self.lock_macros):
            d = self.macros.pick(mname)
            if d is None:
                continue
            sc = Scope(d.file_id, d.line, mname, None, {}, None, tuple(p.rstrip(".") for p in d.params))
            self.resolver.reset_caches()
            evs = []
            for i, (callee, args, _off) in enumerate(find_calls(d.body, names | self.lock_macros)):
                for e in self.events_for_call(callee, args, d.line, sc):
                    e.order = i
                    evs.append(e)
            for e in evs:
                sites.append((d.file_id, None, mname, e))
            seen = set()
            for e in evs:
                if e.obj.root_param and e.obj.root_param in sc.macro_params:
                    key = (e.obj.root_param, e.prim, e.op)
                    if key in seen:
                        continue
                    seen.add(key)
                    wrows.append(WrapperRow(mname, "macro", d.file_id, d.line,
                                            sc.macro_params.index(e.obj.root_param), e.obj.root_param,
                                            e.prim, e.op, e.mode, e.lock_kind, e.arg_text, e.obj,
                                            ">".join([mname] + (e.via.split(">") if e.via
                                                                else [e.prim]))))
        return sites, wrows

    def callers_of_param_sites(self) -> None:
        """A non-wrapper function that locks its own lock-pointer parameter: resolve through its callers."""
        need: dict[int, set[str]] = defaultdict(set)
        for fid, evs in self.events.items():
            if fid in self.wrappers:
                continue
            for e in evs:
                if e.obj.kind == "param" and e.obj.symbol:
                    need[fid].add(e.obj.symbol)
        if not need:
            return
        names = {self._funcs_by_id[f].name for f in need if f in self._funcs_by_id}
        calls = self._calls
        rows = _arrow_rows(calls.filter(self.calls_to(names))
                           .select(["caller_id", "callee", "args", "line", "file_id"]))
        by_callee: dict[str, list] = defaultdict(list)
        for r in rows:
            by_callee[r[1]].append(r)
        self.preload_scopes(list({r[0] for r in rows}))
        for fid, params in need.items():
            fd = self._funcs_by_id.get(fid)
            if fd is None:
                continue
            sc_f = self.scope_of(fid)
            for pname in sorted(params):
                pidx = sc_f.param_index(pname) if sc_f is not None else None
                if pidx is None:
                    continue
                objs = []
                self.resolver.reset_caches()
                for caller_id, _c, args, line, cfile in by_callee.get(fd.name, [])[:50]:
                    target = self.pick_function(fd.name, cfile)
                    if target is None or target.function_id != fid or not args or pidx >= len(args):
                        continue
                    objs.append(self.resolver.lock_object(args[pidx], self.scope(caller_id, line), "pointer"))
                if not objs:
                    continue
                c = self.resolver.combine(objs)
                if c.kind == "unknown":
                    continue
                if c.kind != "ambiguous":
                    c = replace(c, confidence=min(c.confidence, 0.8),
                                reason=f"parameter {pname}, from {len(objs)} call site(s): {c.reason}")
                for i, e in enumerate(self.events[fid]):
                    if e.obj.kind == "param" and e.obj.symbol == pname:
                        self.events[fid][i] = replace(e, obj=c)

    # -- static locks, inits, fields ----------------------------------------------------------------

    def lock_fields(self) -> list[tuple]:
        out = []
        r = self.resolver
        tops = [d for key, lst in self.model.structs.items() if not key.startswith("#") for d in lst]
        tops += [lst[0] for key, lst in self.model.structs.items()
                 if key.startswith("#") and lst[0].key == key]
        nested_ids = {int(a[1:]) for lst in self.model.structs.values() for d in lst for a in d.anon}
        for lst in self.model.structs.values():
            for d in lst:
                for f in d.fields.values():
                    if f.type.base.startswith("#"):
                        nested_ids.add(int(f.type.base[1:]))
        seen = set()
        for d in tops:
            if d.struct_id in seen or (d.key.startswith("#") and d.struct_id in nested_ids):
                continue
            seen.add(d.struct_id)
            stack = [(d, (), False, 0)]
            while stack:
                cur, path, arr, depth = stack.pop()
                for name, f in cur.fields.items():
                    t = r.canon(f.type, cur.file_id)
                    kind = r.lock_kind(Type(f.type.base))
                    is_arr = arr or f.type.arr > 0
                    if kind is not None and f.type.ptr <= 1:
                        # file and line of the struct that declares the member (mm_struct's context.lock is
                        # in arch/x86/include/asm/mmu.h, not include/linux/mm_types.h)
                        out.append((d.struct_id, d.label, ".".join(path + (name,)), f.type.base, kind, is_arr,
                                    f.type.ptr == 1, cur.file_id, f.line))
                    elif t.base.startswith("#") and not t.ptr and depth < 6:
                        for nd in self.model.structs.get(t.base, []):
                            stack.append((nd, path + (name,), is_arr, depth + 1))
                for a in cur.anon:
                    if depth < 6:
                        for nd in self.model.structs.get(a, []):
                            stack.append((nd, path, arr, depth + 1))
        return out

    def read_static(self) -> None:
        """Read the rows static_locks_and_inits and runtime_inits work on (here, so that a worker process
        can compute them while this one finds the sites)."""
        con = self.con
        self._definer_rows = self._pre.rows("static_definers")   # file-scope and function-static definers
        self._static_var_rows = self._pre.rows("static_vars")
        self._pre.finish()   # its last query, then its checkpoint
        self.static_macros = self.macros.reaching(set(STATIC_INITIALIZERS), set(STATIC_INITIALIZERS))
        # (the last column: used at file scope, where the variables it defines are globals)
        self._static_macro_rows = _fetch(con,
                "SELECT file_id, macro, args, is_static, line, function_id IS NULL FROM macro_uses "
                "WHERE macro IN "
                + self.names_in("lp_n", self.static_macros - set(_DEFINERS))
                + " ORDER BY file_id, line, macro, args, is_static")
        self.declare_macro_variables()
        names = set(_INITS) | set(WORKQUEUE_CREATORS)
        self.init_macros = self.macros.reaching(names, set(_INITS) | set(_PRIMS))
        self._init_call_rows = _fetch(con,
            "SELECT file_id, caller_id, caller, callee, args, line FROM calls WHERE caller_id IS NOT NULL "
            "AND callee IN " + self.names_in("lp_n", names | self.init_macros) + " ORDER BY " + _CALL_ORDER)

    def declare_macro_variables(self) -> None:
        """Variables that a file-scope macro defines with a lock initializer are globals the resolver
        must know: `static DEFINE_XARRAY_ALLOC(queries);` (drivers/infiniband/core/sa_query.c) defines
        `struct xarray queries`, so xa_lock(&queries) locks queries.xa_lock."""
        for fid, macro, args, is_static, line, file_scope in self._static_macro_rows:
            if not file_scope:
                continue
            text = self._definer_text(macro, list(args or []), fid, containers=False) or ""
            for pat, percpu in ((_VAR_INIT, False), (_PERCPU_INIT, True)):
                for mm in pat.finditer(text):
                    name = mm.group(2)
                    if any(v.file_id == fid for v in self.model.globals.get(name, ())):
                        continue
                    self.model.globals.setdefault(name, []).append(
                        VarDef(name, Type(mm.group(1).strip()), "global", fid, line, percpu, bool(is_static),
                               None))

    def static_facts(self) -> tuple[list[tuple], list[tuple], list[tuple], dict[str, tuple[float, float]]]:
        """Lock fields, locks with static storage, and init sites (static and runtime), with the (wall, CPU)
        seconds of each step; reads no database (read_static did)."""
        tm = _Timer()
        fields = self.lock_fields()
        tm.done("lock_fields")
        globals_, static_inits = self.static_locks_and_inits()
        tm.done("static_locks_and_inits")
        inits = static_inits + self.runtime_inits()
        tm.done("runtime_inits")
        return fields, globals_, inits, tm.phases

    def static_locks_and_inits(self) -> tuple[list[tuple], list[tuple]]:
        r = self.resolver
        globals_out: list[tuple] = []
        inits: list[tuple] = []
        for fid, caller, macro, args, is_static, line in self._definer_rows:
            d = _DEFINERS[macro]
            if not args or len(args) <= d.symbol_arg:
                continue
            sym = args[d.symbol_arg].strip()
            globals_out.append((sym, fid, line, d.lock_type, _LOCK_TYPES[d.lock_type].lock_kind, None, macro,
                                bool(is_static), d.is_percpu and caller is None, caller))
            if d.own_class:
                inits.append((fid, caller, line, macro, sym, sym, None, "global", None, None, sym, 1.0, None))
            # the lock members the definer's initializer names: (console_sem).lock, rtnl_mutex.wait_lock
            st = r.canon(Type(d.lock_type))
            for path, iname, iargs in _static_inits(self._definer_text(macro, list(args), fid)):
                path = _member_path(path, iargs[0], sym) if iargs else path
                if not iargs or not path:
                    continue
                member = ".".join(path)
                lk = STATIC_INITIALIZERS[iname]
                globals_out.append((sym, fid, line, self._member_type(st.base, path, fid) or lk, lk, member,
                                    macro, bool(is_static), d.is_percpu and caller is None, caller))
                inits.append((fid, caller, line, iname, iargs[0], fold_ws(iargs[0]), None,
                              "percpu" if d.is_percpu else "global", struct_label(self.model, st.base),
                              member, sym, 1.0, None))
        # variables of a lock type with static storage, and struct variables whose initializer sets locks
        static_macros = self.static_macros
        init_names = static_macros | set(STATIC_INITIALIZERS)
        fnames = {f.function_id: f.name for f in self._funcs_by_id.values()}
        for fid, fn_id, name, _scope, is_static, base, ptr, init, macro, line in self._static_var_rows:
            kind = r.lock_kind(Type(base))
            fname = fnames.get(fn_id) if fn_id is not None else None
            percpu = bool(macro) and "PER_CPU" in macro
            if kind is not None and ptr == 0:
                globals_out.append((name, fid, line, base, kind, None, macro or "declaration",
                                    bool(is_static),
                                    percpu, fname))
            if not init or ptr:
                continue
            if kind == "lockdep_map":
                m = _MAP_NAME.search(init)
                if m:
                    inits.append((fid, fname, line, "lockdep_map initializer", name,
                                  string_value(m.group(1) or m.group(2)), None, "pseudo", None, None, name,
                                  1.0, None))
                continue
            if "(" not in init or init_names.isdisjoint(_CALLED_NAME.findall(init)):
                continue   # calls no initializer macro (most initializers): nothing to expand or find
            text = init
            for _ in range(4):
                calls = [c for c in find_calls(text, static_macros) if c[0] not in STATIC_INITIALIZERS]
                if not calls:
                    break
                text = _expand_inline(text, calls, self.macros, fid)
            for path, iname, args in _static_inits(text):
                if not args:
                    continue
                path = _member_path(path, args[0], name)
                cname = fold_ws(args[0])
                lk = STATIC_INITIALIZERS[iname]
                member = ".".join(path) or None
                st = r.canon(Type(base), fid)
                struct = struct_label(self.model, st.base) if member and struct_key(self.model, st.base) \
                    .startswith(("struct ", "union ", "#")) else None
                if member:
                    ltype = self._member_type(st.base, path, fid) or lk
                    globals_out.append((name, fid, line, ltype, lk, member, "initializer", bool(is_static),
                                        percpu,
                                        fname))
                okind = "percpu" if percpu else "global"
                if lk in ("lockdep_map",):
                    okind = "pseudo"
                inits.append((fid, fname, line, iname, args[0], cname, None, okind, struct, member, name, 1.0,
                              None))
        for fid, macro, args, is_static, line, _file_scope in self._static_macro_rows:
            # expanded down to the lock initializers: DECLARE_COMPLETION(x) -> struct completion x =
            # COMPLETION_INITIALIZER(x) -> { 0, { .lock = __RAW_SPIN_LOCK_UNLOCKED((x).wait.lock), ... } }
            text = self._definer_text(macro, list(args or []), fid, containers=False)
            # a per-CPU variable the macro names by pasting: DEFINE_RCU_TASKS(rcu_tasks, ...) (kernel/rcu/
            # tasks.h) -> static DEFINE_PER_CPU(struct rcu_tasks_percpu, rcu_tasks__percpu) = { .lock =
            # __RAW_SPIN_LOCK_UNLOCKED(rcu_tasks__percpu.cbs_pcpu_lock), ... }
            found = sorted([(m.start(), m.group(1), m.group(2), m.end(), False)
                            for m in _VAR_INIT.finditer(text or "")]
                           + [(m.start(), m.group(1), m.group(2), m.end(), True)
                              for m in _PERCPU_INIT.finditer(text or "")])
            for _start, vtype, name, end, percpu in found:
                body = text[end - 1:_brace_end(text, end - 1)]
                st = r.canon(Type(vtype.strip()), fid)
                for path, iname, iargs in _static_inits(body):
                    path = _member_path(path, iargs[0], name) if iargs else path
                    if not iargs or not path:
                        continue
                    lk = STATIC_INITIALIZERS[iname]
                    member = ".".join(path)
                    ltype = self._member_type(st.base, path, fid) or lk
                    globals_out.append((name, fid, line, ltype, lk, member, macro, bool(is_static), percpu,
                                        None))
                    inits.append((fid, None, line, iname, iargs[0], fold_ws(iargs[0]), None,
                                  "percpu" if percpu else "global", struct_label(self.model, st.base), member,
                                  name, 1.0, None))
        return _dedup(globals_out, key=lambda g: (g[0], g[1], g[5], g[9])), inits

    def _definer_text(self, macro: str, args: list[str], fid: int, containers: bool = True) -> str:
        """A definer call expanded down to its lock initializers: DEFINE_SEMAPHORE(s) -> struct semaphore
        s = { .lock = __RAW_SPIN_LOCK_UNLOCKED((s).lock), ... } (with `containers`, the initializers of a
        whole lock object, __SEMAPHORE_INITIALIZER, __MUTEX_INITIALIZER, are expanded too; those of a
        spinlock are always leaves)."""
        text = self.macros.expand(macro, args, fid) or ""
        names = self.static_macros | ({n for n, k in STATIC_INITIALIZERS.items() if k in _CONTAINER_KINDS}
                                      if containers else set())
        for _ in range(4):
            calls = find_calls(text, names)
            if not calls:
                break
            text = _expand_inline(text, calls, self.macros, fid)
        return text

    def _member_type(self, key: str, path: tuple[str, ...], fid: int) -> str | None:
        t = None
        for part in path:
            hit = self.resolver.member(key, part, fid)
            if hit is None:
                return None
            t = hit[1].type
            key = self.resolver.canon(t, fid).base
        return t.base if t else None

    def runtime_inits(self) -> list[tuple]:
        """Calls to initializers (and macros that reach them) inside functions."""
        init_macros = self.init_macros
        rows = self._init_call_rows
        self.preload_scopes(list({r[1] for r in rows}))
        out = []
        for fid, cid, caller, callee, args, line in rows:
            sc = self.scope(cid, line)
            self.resolver.reset_caches()
            for macro, a, via in self._init_calls(callee, args or [], fid, init_macros, 0):
                row = self._init_row(fid, caller, line, macro, a, sc, via)
                names = self._array_names(_INITS.get(macro), a, sc) if row[5] is None else []
                if names:
                    out.extend(row[:5] + (n,) + row[6:] for n in names)
                else:
                    out.append(row)
        return out

    def _init_calls(self, callee: str, args: list[str], fid: int, init_macros: set[str], depth: int):
        if callee in _INITS or callee in WORKQUEUE_CREATORS:
            yield callee, args, callee
            return
        if depth >= _MACRO_DEPTH or callee not in init_macros:
            return
        text = self.macros.expand(callee, args, fid)
        if text is None:
            return
        for name, a, _off in find_calls(text, set(_INITS) | set(WORKQUEUE_CREATORS) | init_macros):
            for m, aa, _v in self._init_calls(name, a, fid, init_macros, depth + 1):
                yield m, aa, callee

    def _array_names(self, ini, args: list[str], sc: Scope) -> list[str]:
        """Names taken from a static array of string literals: sb_writers_name[i] in fs/super.c, and
        af_family_slock_key_strings[sk->sk_family] in net/core/sock.c, whose items a macro writes
        ({ _sock_locks("slock-") } -> "slock-" "AF_UNSPEC", "slock-" "AF_UNIX", ...), or that an
        object-like macro holds (buf[] = RCU_NODE_NAME_INIT in kernel/rcu/tree.c: every #if alternative of
        include/linux/rcu_node_tree.h, "rcu_node_0" to "rcu_node_3")."""
        if ini is None or ini.name_from != "literal" or ini.name_arg is None or ini.name_arg >= len(args):
            return []
        m = re.fullmatch(r"[\s(]*([A-Za-z_]\w*)\s*\[[^\]]*\][\s)]*", args[ini.name_arg])
        if not m:
            return []
        v = self.resolver.var(m.group(1), sc)
        if v is None or not v.initializer:
            return []
        body = v.initializer.strip()
        bodies = self._brace_macros.get(body, [body])
        names: list[str | None] = []
        for body in bodies:
            if not (body.startswith("{") and body.endswith("}")):
                return []
            items: list[str] = []
            for x in _split_top(body[1:-1]):
                call = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*\((.*)\)\s*", x, re.S)
                text = self.macros.expand(call.group(1), _split_top(call.group(2)), v.file_id) \
                    if call else None
                items += _split_top(text) if text is not None else [x]
            names += [n for n in (string_value(x) for x in items if x.strip()) if n not in names]
        return names if names and all(names) else []

    def _init_row(self, fid: int, caller: str, line: int, prim: str, args: list[str], sc: Scope,
                  written: str) -> tuple:
        if prim in WORKQUEUE_CREATORS:
            fmt = string_value(args[0]) if args else None
            cname = f"(wq_completion){fmt}" if fmt is not None and "%" not in fmt else None
            return (fid, caller, line, written, args[0] if args else "", cname, None, "pseudo",
                    "workqueue_struct", "lockdep_map", None, 1.0 if cname else 0.5, None)
        ini = _INITS[prim]
        lock_arg = args[ini.lock_arg] if ini.lock_arg < len(args) else ""
        cname = None
        if ini.name_arg is not None and ini.name_arg < len(args):
            if ini.name_from == "stringify":
                cname = fold_ws(args[ini.name_arg])
            elif ini.name_from == "literal":
                cname = string_value(args[ini.name_arg])
            elif ini.name_from == "ww_class":
                m = re.fullmatch(r"\s*&?\s*\(?\s*([A-Za-z_]\w*)\s*\)?\s*", args[ini.name_arg])
                cname = m.group(1) + "_mutex" if m else None
        key = args[ini.key_arg] if ini.key_arg is not None and ini.key_arg < len(args) else None
        lock_text = f"&({lock_arg})->{ini.member}" if ini.member and lock_arg else lock_arg
        obj = self.resolver.lock_object(lock_text, sc, "pointer") if lock_arg else \
            Obj("unknown", confidence=0)
        kind = obj.kind
        if ini.lock_kind == "lockdep_map" and not prim.startswith("lockdep_set_class"):
            if kind in ("field", "global", "percpu", "local", "param"):
                kind = "pseudo"
        struct = struct_label(self.model, obj.struct) if obj.kind in ("field", "global", "percpu") else None
        return (fid, caller, line, written, lock_arg, cname, key, kind, struct,
                ".".join(obj.path) or None, obj.symbol if obj.kind in ("global", "percpu", "param", "local")
                else None, obj.confidence, list(obj.candidates) or None)

    # -- output -----------------------------------------------------------------------------------------

    def held_when(self, w: WrapperRow) -> str | None:
        """What a call's result says for a try row (or for a ww_mutex acquire of an int function, whose
        tested result an error means not taken: ttm_bo_reserve), as lock_wrappers.held_when shows it."""
        if w.kind != "function":
            return None
        f = self._wrapper_def(w)
        ptr = f is not None and f.ret is not None and f.ret.ptr > 0
        if w.op == "try":
            hi = w.held_if or ("zero" if (_PRIMS.get(w.primitive) is not None
                                          and _PRIMS[w.primitive].variant == "zero_when_held") else "true")
            return {"true": "it returns non-NULL" if ptr else "it returns nonzero", "zero": "it returns 0",
                    "nonneg": "it returns >= 0"}.get(hi)
        if w.op == "acquire" and not w.by_paths and f is not None and f.ret is not None and not ptr \
                and f.ret.base in _ERRNO_RESULTS and w.lock_kind == "ww_mutex":
            return "it returns 0 (an error where the caller tests it: not taken)"
        return None

    def site_row(self, sid: int, fid: int, function_id: int | None, fname: str, e: Event) -> tuple:
        o = e.obj
        struct = struct_label(self.model, o.struct) if o.kind in ("field", "global", "percpu") and (
            o.kind == "field" or o.path) else None
        return (sid, fid, function_id, fname, e.line, e.called, e.op, e.mode, e.lock_kind, e.arg_text, e.via,
                o.kind, struct, ".".join(o.path) or None,
                o.symbol if o.kind in ("global", "percpu", "param", "local") else None,
                round(o.confidence, 3), list(o.candidates) or None,
                f"only {e.condition}: {o.reason}" if e.condition else o.reason)


_CALLED_NAME = re.compile(r"(?<![\w.>$])([A-Za-z_]\w*)\s*\(")   # NAME( as find_calls reads it
_MAP_NAME = re.compile(r'STATIC_LOCKDEP_MAP_INIT\s*\(\s*("(?:[^"\\]|\\.)*")|\.name\s*=\s*("(?:[^"\\]|\\.)*")')
_PERCPU_INIT = re.compile(r"DEFINE_PER_CPU\w*\s*\(\s*((?:struct|union)\s+\w+|\w+)\s*,\s*([A-Za-z_]\w*)\s*\)"
                          r"\s*=\s*\{")
_VAR_INIT = re.compile(r"(?:static\s+)?(?:const\s+)?((?:struct|union)\s+\w+|\w+)\s+([A-Za-z_]\w*)\s*=\s*\{")
_LOOP = re.compile(r"\b(?:for|while)\s*\(|\bdo\s*\{")
# `if (test) call(...);` on one line, and `if (test)` or `if (test) {` alone on the line above a call
_IF_LINE = re.compile(r"^\s*(?:\}\s*else\s+)?if\s*\((.+)\)\s*[A-Za-z_]\w*\s*\(")
_IF_ABOVE = re.compile(r"^\s*(?:\}\s*else\s+)?if\s*\((.+)\)\s*\{?\s*$")
# a test that holds only when something is broken: an early return under it is no condition of the lock
_ASSERTION = re.compile(r"\b(?:WARN_ON(?:_ONCE)?|WARN|WARN_ONCE|BUG_ON|DEBUG_LOCKS_WARN_ON|"
                        r"SCHED_WARN_ON|KASAN_\w+|RCU_LOCKDEP_WARN|lockdep_assert\w*)\s*\(")
_ELSE_OPEN = re.compile(r"^\s*\}\s*else\s*\{\s*$")
_RETURN_VOID = re.compile(r"^\s*(?:.*\)\s*)?return\s*;")
_IF_RETURN = re.compile(r"^\s*(?:\}\s*else\s+)?if\s*\((.+)\)\s*return\s*;")
_LABEL = re.compile(r"^\s*([A-Za-z_]\w*)\s*:(?!:)", re.M)


class _Assignments:
    """What a function's text assigns to a name (a local, `p->member`, `.member`, or `name|` for |=)."""

    def __init__(self, body, first_line: int) -> None:
        self._body_fn = body
        self.first = first_line
        self._read = False
        self._cache: dict[str, list[tuple[int, int, str]]] = {}   # name -> (line, offset, text)

    def _load(self) -> None:
        self._read = True
        self.body = self._body_fn()
        self.text = _strip_comments(self.body)
        pos = _first_way_back(self.text)
        #: line of the function's first loop or backward goto label (none: 1 << 30)
        self.way_back = self.first + self.body.count("\n", 0, pos) if pos >= 0 else 1 << 30

    def _found(self, name: str) -> list[tuple[int, int, str]]:
        if not self._read:
            self._load()
        got = self._cache.get(name)
        if got is None:
            if name.endswith("|"):
                pat = name_pattern(r"(?<![\w.>$])", name[:-1], r"\s*\|=")
            elif name.startswith("."):   # assignments to a member of anything: x.m = ..., p->m = ...
                pat = name_pattern(r"(?:\.|->)\s*", name[1:], r"\s*=(?!=)")
            else:
                pat = name_pattern(r"(?<![\w.>$])", name, r"\s*=(?!=)")
            text = self.text
            got = [(self.first + self.body.count("\n", 0, mm.start()), mm.start(), _until_end(text, mm.end()))
                   for mm in pat.finditer(text)]
            self._cache[name] = got
        return got

    def values(self, name: str, before: int | None = None) -> list[str]:
        """Texts assigned to `name` in the function; with `before` (a line), only those written above
        that line, unless a loop or a goto back to a label above it can bring later ones back."""
        found = self._found(name)
        if before is None or self.way_back < before:
            return [t for _line, _off, t in found]
        return [t for line, _off, t in found if line < before]

    def last_value(self, name: str, line: int) -> str | None:
        """The text assigned to `name` by the assignment right above `line`, when every path to that line
        runs through it and nothing between can change the value: a statement of its own (not the body of
        an if or a loop without braces), then only statements of the same block that do not name it,
        take its address or, for a member, call anything (xfs_file_buffered_write: `iolock =
        XFS_IOLOCK_EXCL; ret = xfs_ilock_iocb(iocb, iolock);`). None otherwise."""
        found = [f for f in self._found(name) if f[0] < line]
        if not found:
            return None
        _line, off, value = found[-1]
        text = self.text
        before = text[:off].rstrip()
        if before[-1:] not in (";", "{", "}", ":"):   # after a statement, a block's start or a label
            return None
        end = text.find(";", off)
        at = _line_offset(self.body, line - self.first)
        if end < 0 or end > at:
            return None
        between = text[end + 1:at]
        word = name.rsplit(">", 1)[-1].rsplit(".", 1)[-1]
        if any(c in between for c in "{}") or _LABEL.search(between) or \
                name_pattern(r"(?<![\w$])", word, r"\b").search(between) or \
                (word != name and "(" in between) or _CASE.search(between):
            return None
        return value


def _line_offset(text: str, k: int) -> int:
    """Offset of the start of line k (0-based) of text."""
    pos = 0
    for _ in range(k):
        pos = text.find("\n", pos) + 1
        if pos == 0:
            return len(text)
    return pos


_CASE = re.compile(r"\b(?:case|default)\b")


def _first_way_back(text: str) -> int:
    """Offset in a function's text of the first place control can come back to from below: a loop, or a
    label that a goto written after it jumps to (-1: none, every path runs down the text)."""
    m = _LOOP.search(text)
    first = m.start() if m else -1
    for lm in _LABEL.finditer(text):
        if first >= 0 and lm.start() > first:
            break
        if name_pattern(r"\bgoto\s+", lm.group(1), r"\s*;").search(text, lm.end()):
            return lm.start()
    return first


_BOOL_GUARD = re.compile(r"\bif\s*\(\s*(!?)\s*([a-z_]\w*)\s*\)")
_IS_TRUE, _IS_FALSE = "<true>", "<false>"   # the "constants" of a guard on a bool or number parameter
_GUARD = re.compile(r"\bif\s*\(+\s*([a-z_]\w*)\s*&\s*\(?\s*([A-Z][A-Z0-9_]*(?:\s*\|\s*[A-Z][A-Z0-9_]*)*)")
_RETURN_WORD = re.compile(r"\breturn\b")
_RETURN_VARIABLE = re.compile(r"\breturn\s*\(?\s*([a-z_]\w*)\s*\)?\s*;")
_IF_TESTED = re.compile(r"\bif\s*\(\s*(?:(?:un)?likely\s*\(\s*)?(?:!\s*)?"
                        r"(?:IS_ERR(?:_OR_NULL)?\s*\(\s*)?([a-z_]\w*)\s*[)!=<]")
_DECL = re.compile(r"(?:^|(?<=[;{}])|(?<=\bdo))\s*(?:static\s+|const\s+|volatile\s+)*"
                   r"((?:struct|union)\s+\w+|[A-Za-z_]\w*)(\s*\*+\s*|\s+)([A-Za-z_]\w*)\s*(=\s*[^;]+)?;")
#: Confidence at most of a site in a function the kernel configuration does not build (its #if is false).
_UNBUILT_CONFIDENCE = 0.2
_ERRNO_RESULTS = frozenset({"int", "long"})   # result types of functions that fail with -ERRNO
_IF_ZERO = frozenset({"interruptible", "killable"})   # acquire variants that fail with a nonzero result
#: Lock types whose static initializer sets lock members (semaphore.h, mutex.h, rwsem.h, wait.h, rtmutex.h).
_CONTAINER_KINDS = frozenset({"semaphore", "mutex", "rwsem", "waitqueue", "rt_mutex"})
_EXIT_WORD = re.compile(r"\b(?:return|break|goto)\b")
_NOT_TYPES = frozenset({"return", "goto", "else", "do", "break", "continue", "case", "typeof", "sizeof"})


_WORD = re.compile(r"\w+")


_DECLARATION_HEAD = r"\s*(?:static\s+)?(?:const\s+)?(?:struct\s+|union\s+)?\w+[\s*]+"
# The same head with each choice of the optional words fixed, capturing the declared word: a name is
# declared when one of them captures it (8 compiled patterns instead of one per parameter name).
_DECLARATION_FORMS = [re.compile(r"\s*" + s + c + k + r"\w+[\s*]+(\w+)\b")
                      for s in ("", r"static\s+") for c in ("", r"const\s+")
                      for k in ("", r"(?:struct\s+|union\s+)")]


def _declares_first_param(d: MacroDef) -> bool:
    """The body starts by declaring the first parameter (`struct xa_state name = ...`)."""
    p0 = d.params[0]
    # at most static, const, struct and the type come before the name: it is the 2nd to 5th word
    if _WORD.fullmatch(p0) and p0 not in [w.group() for w in itertools.islice(_WORD.finditer(d.body), 5)][1:]:
        return False
    if not _WORD.fullmatch(p0):
        return name_pattern(_DECLARATION_HEAD, p0, r"\b").match(d.body) is not None
    return any((m := form.match(d.body)) is not None and m.group(1) == p0 for form in _DECLARATION_FORMS)


def _declarations(text: str) -> list[tuple[str, Type, str | None]]:
    """Local declarations written in a macro expansion: (name, type, initializer text)."""
    out = []
    for mm in _DECL.finditer(text):
        base, stars, name, init = mm.groups()
        if base in _NOT_TYPES or base == "__label__" or \
                base in _C_KEYWORDS - {"int", "char", "long", "short", "unsigned", "signed"}:
            continue
        out.append((name, Type(base, stars.count("*")), init[1:].strip() if init else None))
    return out


def _split_top(text: str) -> list[str]:
    """Split argument text on top-level commas (the indexer's split_args), an empty text giving one empty
    argument as a call `F()` is written."""
    return split_args(text) or [""]


#: Rounds with fewer callers than this per extra process are analysed in this process only.
_MIN_PER_WORKER = 2000
_ROUND: tuple | None = None   # (pass, calls by caller, caller names) of the round being analysed, for workers


def _workers() -> int:
    """Processes for the analysis of a round: $LIMA_LOCK_WORKERS, else 1.

    One by default: measured on the full 6.1 tree on 2 cores (bench/lock_pass_profile.py), 2 processes
    finish the pass in 23 s instead of 26 s but the forked workers copy ~1.2 GB of the parent's pages as
    they touch its objects, which takes lima-index over its 4 GB memory budget (4.8 GB PSS in all).
    """
    try:
        return max(1, int(os.environ.get("LIMA_LOCK_WORKERS") or 1))
    except ValueError:
        return 1


class _Background:
    """fn() computed in a forked process while this one goes on (with more than one core), else on
    result(). Use as a context manager: leaving it ends the process."""

    def __init__(self, fn):
        self.fn = fn
        self.forked = _workers() > 1
        self._pool = None

    def __enter__(self) -> _Background:
        if self.forked:
            global _BACKGROUND
            _BACKGROUND = self.fn
            self._pool = multiprocessing.get_context("fork").Pool(1, initializer=_worker_init)
            _BACKGROUND = None
            self._pending = self._pool.apply_async(_run_background)
        return self

    def result(self):
        return self._pending.get() if self.forked else self.fn()

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()


_BACKGROUND = None   # the function a _Background process runs (set while it forks)


def _run_background():
    return _BACKGROUND()


def _worker_init() -> None:
    # Ctrl-C reaches the whole process group: the parent handles it (and ends the pool), workers ignore it.
    # SIGTERM (how the parent's pool ends them) must kill at once: a handler inherited from lima-index
    # would raise inside the pool's loop, which then blocks resending the result nobody reads.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _analyze_chunk(cids: list[int]) -> list[tuple]:
    p, byf, names = _ROUND
    p.preload_scopes(cids)
    return [(cid, *p.analyze(cid, byf[cid], names[cid])) for cid in cids]


def _negated(test: str) -> str:
    """!(test), without a double negation where test is `!x` alone (`!host->has_ciu3` -> host->has_ciu3)."""
    t = test.strip()
    if t.startswith("!") and not t.startswith("!=") and not re.search(r"&&|\|\||[?<>=]",
                                                                        t.replace("->", ".")):
        return t[1:].strip()
    return f"!({t})"


def _bool_value(text: str | None) -> bool | None:
    """true/false/0/1/NULL or a number as C reads it in a test; None for anything else."""
    t = (text or "").strip().strip("()").strip()
    if t in ("true", "1") or re.fullmatch(r"[1-9]\d*[uUlL]*|0[xX]0*[1-9a-fA-F][0-9a-fA-F]*", t):
        return True
    if t in ("false", "0", "NULL", "0U", "0UL"):
        return False
    return None


def _guard_text(guard: tuple[str, frozenset[str]]) -> str:
    """How a guard reads in a site's reason: the flags include X|Y, or `locked` is true."""
    if guard[1] <= {_IS_TRUE, _IS_FALSE}:
        return f"{guard[0]} is {' or '.join(sorted(c.strip('<>') for c in guard[1]))}"
    return f"the flags include {'|'.join(sorted(guard[1]))}" if guard[0] == "flags" else \
        f"{guard[0]} includes {'|'.join(sorted(guard[1]))}"


def _wsig(ws: list[WrapperRow]) -> tuple:
    # not the condition: it labels a row, callers count the same (and a signature that changes with it
    # would read callers again in rounds where nothing they count has changed)
    return tuple(sorted(repr((w.param_index, w.op, w.mode, w.obj.ident(), w.held_if)) for w in ws))


_GUARD_ARG = {"_T": re.compile(r"\b_T\b(?!\s*->)(\s*[,)])?"),
              "_T->lock": re.compile(r"\b_T\s*->\s*lock\b(\s*[,)])?")}
_GUARD_MEMBER = re.compile(r"\b_T\s*->\s*(\w+)")


def _guard_statement(template: str, form: str | None, arg: str) -> str:
    """A guard class's lock statement for one use: the lock argument put in for `_T` (DEFINE_GUARD) or
    `_T->lock` (DEFINE_LOCK_GUARD_1), as written where it is a whole call argument (`mutex_lock(_T)`),
    else in parentheses; the guard's other members read as plain names (`_T->flags`)."""
    if form is not None:
        template = _GUARD_ARG[form].sub(lambda m: arg + m.group(1) if m.group(1) else f"({arg})", template)
    return _GUARD_MEMBER.sub(r"\1", template)



def _asserted(events: list[Event], calls: list[tuple[str, list[str], int]]) -> list[Event]:
    """The events as a function's returns see them: a try that is the whole condition of an assertion
    that does not return (catalogue NORETURN_ASSERTS) takes nothing when it asserts failure, and holds the
    lock when it asserts success. The sites keep the try as written."""
    asserts: dict[int, list[str]] = defaultdict(list)
    for callee, args, line in calls:
        if callee in NORETURN_ASSERTS and args:
            asserts[line].append(fold_ws(args[0]))
    if not asserts:
        return events
    out = []
    for e in events:
        if e.op == "try" and e.line in asserts:
            cond = next((a for a in asserts[e.line] if _whole_call(a, e.called)), None)
            if cond is not None:
                # down_trylock returns 0 when it took the semaphore: BUG_ON(down_trylock(&mlc->isem))
                # (drivers/input/serio/hil_mlc.c) holds it
                p = _PRIMS.get(e.called)
                zero = e.held_if == "zero" or (p is not None and p.variant == "zero_when_held")
                if cond.startswith("!") != zero:
                    out.append(replace(e, op="acquire", held_if=None))
                continue
        out.append(e)
    return out

def _whole_call(cond: str, name: str) -> bool:
    """COND is a call of NAME and nothing else, maybe negated or parenthesized: `f(x)`, `!f(x)`, `!(f(x))`;
    not `f(x) == 0` nor `f(a) && g(b)`, whose truth says something else."""
    text = cond[1:].lstrip() if cond.startswith("!") else cond
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    m = re.fullmatch(re.escape(name) + r"\s*(\(.*\))", text)
    if m is None:
        return False
    depth = 0
    args = m.group(1)
    for i, ch in enumerate(args):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and i < len(args) - 1:
            return False   # the call closes before the end: `f(a) && g(b)`
    return depth == 0


def _path_op(e: Event) -> int:
    """How lock_paths follows an event: a release, an acquire, or one whose result says if it holds."""
    if e.op == "release":
        return RELEASE
    if e.held_if == "zero_if_tested":
        return ACQUIRE_OR_ZERO
    p = _PRIMS.get(e.prim)
    if e.op == "try":
        # "nonneg" (held when the result is not negative) follows as "zero": callers test `if (ret < 0)`
        zero = e.held_if in ("zero", "nonneg") if e.held_if else \
            p is not None and p.variant == "zero_when_held"
        return HELD_IF_ZERO if zero else HELD_IF_TRUE
    return HELD_IF_ZERO if p is not None and p.variant in _IF_ZERO else ACQUIRE


def _guarded_try_result(held: list[int], returns: list[str | None]) -> str | None:
    """Of a lock taken under a flag test: "true" when every return holding it gives a nonzero constant and
    some return without it gives 0 ("zero" the other way round); returns without it that give the same
    value as those holding it are those where the flags did not ask for it."""
    holding = {r for h, r in zip(held, returns, strict=True) if h > 0}
    free = {r for h, r in zip(held, returns, strict=True) if h == 0}
    if holding == {"true"} and "zero" in free:
        return "true"
    if holding == {"zero"} and free & {"true", "error"}:
        return "zero"
    return None


def _try_result(held: list[int], returns: list[str | None], pointer: bool = False) -> str | None:
    """"true" when every return that holds the lock gives a nonzero constant and every other one 0 (for
    a pointer: 0 or an error pointer, which callers test with IS_ERR), "zero" when those holding it give 0
    and the others a nonzero constant or -ECODE; else None."""
    holding = {r for h, r in zip(held, returns, strict=True) if h > 0}
    free = {r for h, r in zip(held, returns, strict=True) if h == 0}
    if pointer and free and holding and holding <= {"true", None} and free <= {"zero", "error"}:
        # a pointer other than NULL where it holds the lock: vmw_local_fifo_reserve (vmwgfx_cmd.c) returns
        # fifo_mem + next_cmd or its bounce buffer with fifo_mutex held, NULL after dropping it;
        # area_cache_get (nfp_cppcore.c) a list entry. Not another call's result, which may be NULL:
        # lock_rename_child holds s_vfs_rename_mutex when it returns lock_two_directories(...), a dentry or
        # NULL. (A variable may be NULL too -- s_start in kernel/trace/trace.c returns p, NULL at the end,
        # with trace_event_sem held -- but taking it for a try only hides a wrapper of its callers; not
        # taking it makes every caller that unlocks after a successful call a false release wrapper: 110 of
        # nfp's area_cache_mutex)
        return "true"
    if not pointer and free and holding == {None} and free == {"error"}:
        # a value (a token, a count) where it holds the lock, a negative error code where it does not:
        # opal_async_get_token_interruptible returns the token with opal_async_sem held, -ERESTARTSYS or a
        # negative token after up()
        return "nonneg"
    if not free or len(holding) != 1:
        return None
    if holding == {"true"} and (free == {"zero"} or pointer and free <= {"zero", "error"}):
        return "true"
    if holding == {"zero"} and free <= {"true", "error"}:
        return "zero"
    return None


def _dedup(rows: list[tuple], key) -> list[tuple]:
    seen = set()
    out = []
    for r in rows:
        k = key(r)
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def _strip_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/|//[^\n]*", lambda m: " " * len(m.group()), text, flags=re.S)


def _until_end(text: str, start: int) -> str:
    """Expression text from start to the ; or , or ) that ends it at depth 0."""
    depth = 0
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif c in ";," and depth == 0:
            break
        elif c in "\"'":
            i = skip_literal(text, i)
            continue
        i += 1
    return fold_ws(text[start:i])


def _subst_ident(expr: str, name: str, arg: str) -> str:
    return name_pattern(r"(?<![\w.>$])", name, r"\b").sub(lambda _m: f"({arg})", expr)


def _expand_inline(text: str, calls, macros: MacroTable, fid: int) -> str:
    out = text
    for name, args, off in sorted(calls, key=lambda c: -c[2]):
        exp = macros.expand(name, args, fid)
        if exp is None:
            continue
        # find the end of this call in out (calls were found in text == out before replacements after it)
        end = _call_end(out, off)
        out = out[:off] + exp + out[end:]
    return out


def _brace_end(text: str, start: int) -> int:
    """Index just after the } matching the { at start."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


def _call_end(text: str, off: int) -> int:
    i = text.find("(", off)
    depth = 0
    while i < len(text):
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        elif c in "\"'":
            i = skip_literal(text, i)
            continue
        i += 1
    return len(text)


_DESIG = re.compile(r"\s*((?:\.\s*[A-Za-z_]\w*|\[[^\]]*\])(?:\s*\.\s*[A-Za-z_]\w*|\s*\[[^\]]*\])*)\s*=(?!=)")


_WORD_RUN = re.compile(r"(?<![\w$])\w+")
_DECLARATOR_END = re.compile(r"\s*(?:[\[,)]|$)")


def _declarator_position(text: str, name: str) -> int:
    """Where parameter `name` is declared in a line of a parameter list: the first place it stands as a
    whole word before `[`, `,`, `)` or the end of the line, else the first place it stands as a word,
    else the end of the line."""
    if not _WORD.fullmatch(name):
        m = name_pattern(r"(?<![\w$])", name, r"\s*(?=[\[,)]|$)").search(text) or \
            name_pattern(r"(?<![\w$])", name, r"\b").search(text)
        return m.start() if m else len(text)
    first = -1
    for m in _WORD_RUN.finditer(text):
        if m.group() == name:
            if _DECLARATOR_END.match(text, m.end()):
                return m.start()
            if first < 0:
                first = m.start()
    return first if first >= 0 else len(text)


_NAME_MEMBERS = re.compile(r"\(?\s*(\w+)\s*\)?((?:\s*\.\s*[A-Za-z_]\w*)+)")


def _member_path(designated: tuple[str, ...], arg: str, name: str) -> tuple[str, ...]:
    """Member path of a static lock initializer in variable `name`: its designators, completed by the
    argument when a positional element hid the outer members ({ 0, __SWAIT_QUEUE_HEAD_INITIALIZER((work).
    wait) } in completion.h gives .lock = __RAW_SPIN_LOCK_UNLOCKED((work).wait.lock): designators (lock),
    argument (wait, lock)). The argument alone is no path: IDR_INIT(name) names its idr_rt.xa_lock
    name.xa_lock."""
    m = _NAME_MEMBERS.fullmatch(arg.strip())
    if m is not None and m.group(1) == name:
        members = m.group(2)
    elif _WORD.fullmatch(name):
        members = None
    else:
        m = name_pattern(r"\(?\s*", name, r"\s*\)?((?:\s*\.\s*[A-Za-z_]\w*)+)").fullmatch(arg.strip())
        members = m.group(1) if m else None
    given = tuple(re.findall(r"[A-Za-z_]\w*", members)) if members else ()
    if len(given) > len(designated) and given[len(given) - len(designated):] == designated:
        return given
    return designated


def _static_inits(text: str) -> list[tuple[tuple[str, ...], str, list[str]]]:
    """(designator path, initializer macro, args) for every static lock initializer in an initializer."""
    out = []
    calls = find_calls(text, STATIC_INITIALIZERS)
    if not calls:
        return out
    # walk the text once, keeping the designator path of each brace level
    stack: list[tuple[str, ...]] = [()]
    positions = {off: (name, args) for name, args, off in calls}
    i = 0
    n = len(text)
    pending: tuple[str, ...] = ()
    elem_start = True
    while i < n:
        c = text[i]
        if elem_start:
            m = _DESIG.match(text, i)
            if m:
                parts = tuple(p for p in re.findall(r"\.\s*([A-Za-z_]\w*)", m.group(1)))
                pending = stack[-1] + parts
                i = m.end()
                elem_start = False
                continue
            pending = stack[-1]
            elem_start = False
        if i in positions:
            name, args = positions[i]
            out.append((pending, name, args))
            i = _call_end(text, i)
            continue
        if c == "{":
            stack.append(pending)
            elem_start = True
        elif c == "}":
            if len(stack) > 1:
                stack.pop()
        elif c == ",":
            elem_start = True
        elif c == "(":
            i = _call_end(text, i)
            continue
        elif c in "\"'":
            i = skip_literal(text, i)
            continue
        i += 1
    return out


_TABLE_COLS = {
    "kbuild_files": ("file_id", "built", "reason"),
    "lock_types": ("type_name", "lock_kind", "description"),
    "lock_primitives": ("name", "lock_kind", "op", "mode", "variant", "subclass", "is_trylock", "arg_index"),
    "lock_fields": ("struct_id", "struct_name", "field_path", "lock_type", "lock_kind", "is_array",
                    "is_pointer", "file_id", "line"),
    "global_locks": ("symbol", "file_id", "line", "lock_type", "lock_kind", "member_path", "declared_by",
                     "is_static", "is_percpu", "function"),
    "lock_inits": ("file_id", "function", "line", "macro", "arg_text", "class_name", "key_text",
                   "object_kind",
                   "struct_name", "field_path", "symbol", "confidence", "candidates"),
    "lock_sites": ("site_id", "file_id", "function_id", "function", "line", "primitive", "op", "mode",
                   "lock_kind", "arg_text", "via", "object_kind", "struct_name", "field_path", "symbol",
                   "confidence", "candidates", "reason"),
    "lock_wrappers": ("name", "kind", "file_id", "line", "param_index", "primitive", "op", "mode",
                      "lock_kind",
                      "lock_expr", "struct_name", "field_path", "symbol", "condition", "guard", "held_when"),
}


class _Prefetch:
    """Queries run one after the other in a thread, on a cursor of their own, while the caller turns the
    results it already has into objects: DuckDB scans and sorts without holding Python's lock, so its
    work overlaps the Python that reads it. `tables` are registered on that cursor for the queries.

    After the queries the thread runs a CHECKPOINT: lima-index leaves the code facts it has just committed
    to it (Indexer.run(defer_checkpoint=True)), so that writing them into the database file overlaps the
    Python that builds the pass's model too (1.1 s on the full 6.1 tree; nothing to do otherwise). DuckDB
    reads on other cursors go on during a checkpoint."""

    def __init__(self, con: duckdb.DuckDBPyConnection, queries: dict[str, str], tables: dict[str, list[str]]
                 ) -> None:
        self._cur = con.cursor()
        for name, values in tables.items():
            self._cur.register(name, pa.table({"v": _names(values)}))
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="lima-lock-load")
        self._pending = {key: self._pool.submit(self._run, sql) for key, sql in queries.items()}
        self._checkpoint = self._pool.submit(self._cur.execute, "CHECKPOINT")

    def _run(self, sql: str) -> pa.Table:
        return self._cur.execute(sql).to_arrow_table()

    def get(self, key: str) -> pa.Table:
        """The result of query `key` (waits for it)."""
        return self._pending.pop(key).result()

    def rows(self, key: str) -> list[tuple]:
        """The result of query `key` as tuples."""
        return _arrow_rows(self.get(key))

    def finish(self) -> None:
        """Wait for the checkpoint (its error is raised here), then close()."""
        if self._pool is not None and not self._checkpoint.cancelled():
            self._checkpoint.result()
        self.close()

    def close(self) -> None:
        """Cancel what has not started, interrupt the query that runs (a checkpoint that runs is waited
        for, not interrupted), and free the cursor (again: no effect)."""
        if self._pool is None:
            return
        self._checkpoint.cancel()
        for f in self._pending.values():
            f.cancel()
        running = [f for f in self._pending.values() if not f.done()]
        # an interrupt that comes before the query has started is lost: repeat it until the query ends
        while running:
            self._cur.interrupt()
            running = list(wait(running, timeout=0.05).not_done)
        self._pool.shutdown(wait=True)
        self._pending.clear()
        self._cur.close()
        self._pool = None


def _fetch(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    """All rows of a query, read column by column through Arrow (about twice as fast as fetchall)."""
    return _arrow_rows(con.execute(sql).to_arrow_table())


def _drop_duckdb_cache(con: duckdb.DuckDBPyConnection) -> None:
    """Free the table blocks DuckDB keeps cached after the loading queries (0.6 GB on the full 6.1 tree;
    the rest of the pass reads almost nothing): its limit is lowered for a moment, which evicts them."""
    (limit,) = con.execute("SELECT current_setting('memory_limit')").fetchone()
    try:
        con.execute("SET memory_limit = '64MB'")
    except duckdb.Error:
        return
    finally:
        con.execute(f"SET memory_limit = '{limit}'")


def _arrow_rows(tbl: pa.Table) -> list[tuple]:
    return list(zip(*(c.to_pylist() for c in tbl.columns), strict=True))


def _names(names) -> pa.Array:
    return pa.array(sorted(names), pa.string())


class _Coded:
    """A column of millions of rows with few distinct values, each coded as a small integer once, so that
    `column IN values` is a lookup of each row's code (3-5x faster than is_in's hashing of every row)."""

    def __init__(self, column: pa.ChunkedArray) -> None:
        enc = column.combine_chunks().dictionary_encode()
        self.codes = enc.indices
        self.code = {v: i for i, v in enumerate(enc.dictionary.to_pylist())}

    def mask(self, values) -> pa.Array:
        """Rows whose value is one of values."""
        wanted = [False] * len(self.code)
        for c in map(self.code.get, values):
            if c is not None:
                wanted[c] = True
        return pa.array(wanted, pa.bool_()).take(self.codes)


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
    cols = _TABLE_COLS[table]
    if not rows:
        return
    types = {r[0]: r[1] for r in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
        [table]).fetchall()}
    arrays = []
    for i, c in enumerate(cols):
        vals = [r[i] for r in rows]
        t = types[c]
        at = {"VARCHAR": pa.string(), "INTEGER": pa.int32(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(),
              "BOOLEAN": pa.bool_(), "VARCHAR[]": pa.list_(pa.string())}[t]
        arrays.append(pa.array(vals, type=at))
    tbl = pa.table(arrays, names=list(cols))  # noqa: F841 - read by DuckDB below
    con.execute(f"INSERT INTO {table} ({', '.join(cols)}) SELECT {', '.join(cols)} FROM tbl")


class _Timer:
    """Wall and CPU seconds (this process and its finished children) of each phase, in order."""

    def __init__(self) -> None:
        self.phases: dict[str, tuple[float, float]] = {}
        self._t = self._now()

    @staticmethod
    def _now() -> tuple[float, float]:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.perf_counter(), own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def done(self, phase: str) -> None:
        now = self._now()
        self.phases[phase] = (now[0] - self._t[0], now[1] - self._t[1])
        self._t = now


def run(con: duckdb.DuckDBPyConnection, console=None,
        timings: dict[str, tuple[float, float]] | None = None,
        config: KernelConfig = DEFAULT_CONFIG, warnings: list[str] | None = None,
        keep_objects: bool = False) -> dict[str, int]:
    """Rebuild every lock_* table from the code facts in one transaction; returns row counts and seconds.
    The facts are read through a cursor of con's database (in a thread): call it outside a transaction,
    with the facts committed, on con's default database.
    `config` decides between #if alternatives (lock_config); `timings`, when given, receives (wall, CPU)
    seconds per phase (bench/lock_pass_profile.py); `warnings`, when given, what went short (the wrapper
    rounds ran out before a fixed point). `keep_objects`: leave the pass's model alive until the process
    ends, out of the cyclic collector's sight (gc.freeze), instead of freeing it on return: for a process
    that ends with os._exit (lima-index), where freeing its 8 million objects one by one is 1.7-1.9 s of
    nothing (measured on the full 6.1 tree)."""
    t0 = time.perf_counter()
    tm = _Timer()
    pre = p = None
    # millions of long-lived objects and no reference cycles worth collecting: the cyclic collector would
    # rescan them all again and again (seconds per full collection)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        # the code facts the pass reads are queried in a thread from now on, while it reads the makefiles
        pre = _Prefetch(con, _LOAD_QUERIES, _LOAD_TABLES)
        p = _Pass(con, pre, console, config)
        out = _run(p, tm, timings, t0)
        if warnings is not None:
            warnings.extend(p.warnings)
        return out
    finally:
        for name in p.registered if p is not None else ():
            con.unregister(name)
        if pre is not None:
            pre.close()
        if keep_objects and p is not None:
            _KEPT.append(p)
            gc.freeze()   # what is alive now stays out of every later collection
        if gc_was_enabled:
            gc.enable()


_KEPT: list[_Pass] = []   # passes run with keep_objects: freed with the process


def _run(p: _Pass, tm: _Timer, timings: dict[str, tuple[float, float]] | None, t0: float) -> dict[str, int]:
    con = p.con
    p.load()
    p.read_static()
    _drop_duckdb_cache(con)
    tm.done("load")
    with _Background(p.static_facts) as static:
        p.find_sites()
        p.guard_sites()
        tm.done("find_sites")
        p.callers_of_param_sites()
        tm.done("callers_of_param_sites")
        msites, mwrappers = p.macro_sites()
        tm.done("macro_sites")
        fields, globals_, inits, static_times = static.result()
        tm.done("static facts (waiting)" if static.forked else "static facts")
    tm.phases.update({f"  {k}{' (worker)' if static.forked else ''}": v for k, v in static_times.items()})
    sites = []
    sid = 0
    for fid_, evs in p.events.items():
        fd = p._funcs_by_id.get(fid_)
        if fd is None:
            continue
        # a function under an #if that the configuration rules out (PREEMPT_RT's mutex_lock in
        # kernel/locking/rtmutex_api.c for Debian's config): its sites stay, saying so
        unbuilt = p.build.site_built(fd.file_id, fd.start_line) is False
        if unbuilt:
            why = p.build.unbuilt_files.get(fd.file_id)
            unbuilt_why = f"not built with {p.build.config.source}" + (f" ({why})" if why else "")
        for e in evs:
            sid += 1
            if unbuilt:
                e = replace(e, obj=replace(e.obj, confidence=min(e.obj.confidence, _UNBUILT_CONFIDENCE),
                                           reason=f"{unbuilt_why}: {e.obj.reason}"))
            sites.append(p.site_row(sid, fd.file_id, fid_, fd.name, e))
    for fid, _none, mname, e in msites:
        sid += 1
        sites.append(p.site_row(sid, fid, None, mname, e))
    wrappers = []
    for ws in list(p.wrappers.values()) + [mwrappers]:
        for w in ws:
            o = w.obj
            wrappers.append((w.name, w.kind, w.file_id, w.line, w.param_index, w.primitive, w.op, w.mode,
                             w.lock_kind, w.lock_expr,
                             struct_label(p.model, o.struct) if o.kind == "field" or (
                                 o.kind in ("global", "percpu") and o.path) else None,
                             ".".join(o.path) or None, o.symbol if o.kind in ("global", "percpu") else None,
                             w.condition, f"when {_guard_text(w.guard)}" if w.guard else None,
                             p.held_when(w)))
    tm.done("rows")
    con.execute("BEGIN TRANSACTION")
    try:
        for t in _TABLE_COLS:
            con.execute(f"DELETE FROM {t}")
        _insert(con, "lock_types", [tuple(t) for t in LOCK_TYPES])
        _insert(con, "lock_primitives", [(q.name, q.lock_kind, q.op, q.mode, q.variant, q.subclass,
                                          q.is_trylock, q.arg_index) for q in PRIMITIVES])
        _insert(con, "lock_fields", fields)
        _insert(con, "global_locks", globals_)
        _insert(con, "lock_inits", inits)
        _insert(con, "lock_sites", sites)
        _insert(con, "lock_wrappers", wrappers)
        _insert(con, "kbuild_files", p.kbuild_rows)
        con.execute("INSERT OR REPLACE INTO meta VALUES ('kbuild_makefiles', ?)", ["\n".join(p.makefiles)])
        con.execute("INSERT OR REPLACE INTO meta VALUES ('kbuild_arch', ?)", [p.kbuild_arch])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    tm.done("write")
    if timings is not None:
        timings.update(tm.phases)
    out = {"lock_fields": len(fields), "global_locks": len(globals_), "lock_inits": len(inits),
           "lock_sites": len(sites), "lock_wrappers": len(wrappers), "kbuild_files": len(p.kbuild_rows)}
    out["seconds"] = int(time.perf_counter() - t0)
    p.log("lock pass: " + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in out.items()
                                     if k != "seconds") + f" in {out['seconds']} s")
    return out



