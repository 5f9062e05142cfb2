"""Typing of lock expressions: which object a lock argument denotes, from declarations in scope.

A TypeModel holds what the code facts say (structs and their members, typedefs, variables, function
return types, member-alias macros like `#define d_lock d_lockref.lock`); a Scope says where an expression
is written (file, function, line). `Resolver.lock_object(expr, scope, form)` answers with an Obj:
field (struct + member path), global / percpu (symbol + member path), param, local, ambiguous (every
candidate) or unknown (with the reason).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .lock_catalogue import PASSTHROUGH_MACROS, PERCPU_ACCESSORS, TYPE_ARG_MACROS, lock_type_map
from .lock_expr import Node, name_pattern, parse_expr, parse_type

__all__ = ["Type", "FieldDef", "StructDef", "VarDef", "FuncDef", "TypeModel", "Scope", "Obj", "Resolver",
           "struct_key", "struct_label"]

_LOCK_TYPES = lock_type_map()
_IDENT = re.compile(r"[A-Za-z_]\w*$")


@dataclass(frozen=True, slots=True)
class Type:
    """A C type: base ('struct foo', 'spinlock_t', '#123' for an inline struct), pointers and array dims."""
    base: str
    ptr: int = 0
    arr: int = 0

    def deref(self) -> Type | None:
        if self.arr:
            return Type(self.base, self.ptr, self.arr - 1)
        if self.ptr:
            return Type(self.base, self.ptr - 1, 0)
        return None

    def addr(self) -> Type:
        return Type(self.base, self.ptr + 1, max(self.arr - 1, 0))


@dataclass(slots=True)
class FieldDef:
    name: str | None
    type: Type
    line: int


@dataclass(slots=True)
class StructDef:
    key: str                 # 'struct foo' or '#<struct_id>'
    struct_id: int
    file_id: int
    label: str               # tag, typedef name, or 'anonymous'
    fields: dict[str, FieldDef] = field(default_factory=dict)
    anon: list[str] = field(default_factory=list)   # keys of anonymous members reached directly
    line: int = 0            # first line of the definition


@dataclass(slots=True)
class VarDef:
    name: str
    type: Type
    scope: str               # global | extern | param | local | static_local
    file_id: int
    line: int
    is_percpu: bool = False
    is_static: bool = False
    initializer: str | None = None
    param_index: int | None = None
    function: str | None = None


@dataclass(slots=True)
class FuncDef:
    name: str
    file_id: int
    ret: Type | None
    function_id: int | None = None
    is_static: bool = False
    start_line: int = 0
    end_line: int = 0


@dataclass
class TypeModel:
    """Declarations the resolver reads. Keys of structs: 'struct foo', 'union foo', '#<struct_id>'."""
    structs: dict[str, list[StructDef]] = field(default_factory=dict)
    typedefs: dict[str, list[tuple[Type, int]]] = field(default_factory=dict)   # name -> (type, file_id)
    #: typedef names defined differently in several files -> {file_id or directory: its (type, file_id)},
    #: the definitions of a .c file and of the headers beside it (lock_pass fills it)
    local_typedefs: dict[str, dict[int | str, tuple[Type, int]]] = field(default_factory=dict)
    globals: dict[str, list[VarDef]] = field(default_factory=dict)
    functions: dict[str, list[FuncDef]] = field(default_factory=dict)
    member_alias: dict[str, str] = field(default_factory=dict)      # d_lock -> d_lockref.lock
    object_macros: dict[str, str] = field(default_factory=dict)     # simple object-like macro bodies
    header_files: set[int] = field(default_factory=set)             # file_ids of .h files
    dirs: dict[int, str] = field(default_factory=dict)               # file_id -> its directory
    #: (file_id, line) -> False when the configuration rules that line out (lock_config.BuildFilter)
    built: Callable[[int, int], bool | None] | None = None
    #: file_id -> True when the kernel configuration does not compile that file (kbuild_files)
    unbuilt_file: Callable[[int], bool] | None = None
    #: header file_id -> the .c files of its directory that #include it by name
    includers: Callable[[int], frozenset[int]] | None = None

    def ruled_out(self, file_id: int, line: int) -> bool:
        """The definition at that line sits in an #if branch the configuration does not build."""
        return self.built is not None and self.built(file_id, line) is False

    def file_ruled_out(self, file_id: int) -> bool:
        """The configuration does not compile that file (its makefile leaves it out): of two definitions
        equally near a use, the one in a file that is built wins."""
        return self.unbuilt_file is not None and self.unbuilt_file(file_id)

    def typedef(self, name: str, file_id: int | None) -> tuple[Type, int]:
        """The definition of typedef `name` that code in file_id sees: its own file's, else one in a header
        of its directory, else the first of the tree's order (x86 first, ruled-out #if branches last).
        Two drivers each define `adapter_t` (drivers/scsi/megaraid.h, drivers/scsi/megaraid/mega_common.h)."""
        local = self.local_typedefs.get(name) if file_id is not None else None
        if local:
            hit = local.get(file_id)
            if hit is None:
                d = self.dirs.get(file_id)
                hit = local.get(d) if d is not None else None
            if hit is not None:
                return hit
        return self.typedefs[name][0]

    def rank(self, file_id: int, candidates_file: int) -> int:
        """0 same file, 1 header of the same directory, 2 other header, 3 elsewhere. (Two drivers that
        each declare a struct adapter, e1000 and e1000e, each read their own.)"""
        if candidates_file == file_id:
            return 0
        if candidates_file not in self.header_files:
            return 3
        d = self.dirs.get(file_id)
        return 1 if d is not None and d == self.dirs.get(candidates_file) else 2


@dataclass
class Scope:
    """Where an expression is written."""
    file_id: int
    line: int
    function: str | None = None
    function_id: int | None = None
    vars: dict[str, list[VarDef]] = field(default_factory=dict)    # params and locals of the function
    values: Callable[..., list[str]] | None = None   # assignments to a local, as text (name, [before line])
    macro_params: tuple[str, ...] = ()
    params: Callable[[], tuple[str, ...]] | None = None            # parameter names in order (lazy)
    last_value: Callable[[str, int], str | None] | None = None     # the one assignment that reaches a line

    def param_index(self, name: str | None) -> int | None:
        """Position of parameter `name` in the function's parameter list; None when it is none."""
        if self.params is not None:
            names = self.params()
            return names.index(name) if name in names else None
        return next((v.param_index for v in self.vars.get(name or "", []) if v.scope == "param"), None)

    def lookup(self, name: str) -> VarDef | None:
        cands = self.vars.get(name)
        if not cands:
            return None
        best = None
        for v in cands:
            if v.scope == "param" or v.line <= self.line:
                if best is None or (v.line >= best.line and v.scope != "param") or best.scope == "param" \
                        and v.scope != "param":
                    best = v
        return best or cands[0]


@dataclass(slots=True)
class Obj:
    """What a lock expression denotes."""
    kind: str                          # field | global | percpu | param | local | ambiguous | unknown
    struct: str | None = None          # struct key ('struct mm_struct', '#123')
    path: tuple[str, ...] = ()
    symbol: str | None = None
    type: Type | None = None
    confidence: float = 1.0
    candidates: tuple[str, ...] = ()
    reason: str | None = None
    root_param: str | None = None      # parameter the object is reached from (wrapper detection)
    is_pointer: bool = False           # reached through a pointer member: the lock lives elsewhere

    def ident(self) -> tuple:
        return (self.kind, self.struct, self.path, self.symbol)


def struct_key(model: TypeModel, base: str) -> str:
    """The struct a type names, as a struct key: a typedef of a struct is followed to it
    ('wait_queue_head_t' -> 'struct wait_queue_head', 'rwlock_t' -> '#<id>' of its anonymous struct). The
    resolver's types keep lock typedefs unexpanded (Resolver.canon stops at them, so their lock kind stays
    known); a type that is no typedef of a struct comes back unchanged."""
    b, seen = base, set()
    while not b.startswith(("struct ", "union ", "#")) and b in model.typedefs and b not in seen:
        seen.add(b)
        t = model.typedefs[b][0][0]
        if t.ptr:
            return base
        b = t.base
    return b if b.startswith(("struct ", "union ", "#")) else base


def struct_label(model: TypeModel, key: str | None) -> str | None:
    """The name the lock tables give a struct, as lock_fields does: 'struct mm_struct' -> 'mm_struct';
    '#id' -> its typedef name or 'anonymous'; a typedef of a tagged struct -> the tag
    ('wait_queue_head_t' -> 'wait_queue_head'), of an anonymous one -> the typedef name ('rwlock_t')."""
    if key is None:
        return None
    key = struct_key(model, key)
    if key.startswith("#"):
        defs = model.structs.get(key)
        return defs[0].label if defs else "anonymous"
    return key.split(" ", 1)[1] if " " in key else key


def _unknown(reason: str) -> Obj:
    return Obj("unknown", confidence=0.0, reason=reason)


class Resolver:
    """Types expressions and locates lock objects over a TypeModel."""

    def __init__(self, model: TypeModel, *, returns: Callable[[str, Scope], list[tuple[str, Scope]]]
                 | None = None, macro_expand: Callable[[str, list[str], Scope], str | None] | None = None):
        self.m = model
        self.returns = returns            # function name -> [(return expr text, scope of that function)]
        self.macro_expand = macro_expand  # function-like macro call -> substituted body text
        self._canon_cache: dict[str | tuple[str, int | None], tuple[str, int]] = {}
        self._depth = 0
        self._budget = 0
        self._seen: set = set()
        self._ret_cache: dict[tuple, tuple[Obj, Scope | None]] = {}
        self._local_cache: dict[tuple, Obj] = {}
        self._parse_cache: dict[str, Node] = {}

    def reset_caches(self) -> None:
        """Forget resolved return values and local values. The lock pass calls this before each function
        (or other unit) it resolves, so a result never depends on which functions were resolved before
        (a cached value can carry a cycle cut or an exhausted budget of the expression that filled it)."""
        self._ret_cache.clear()
        self._local_cache.clear()

    # -- types ------------------------------------------------------------------------------------

    def is_type_name(self, name: str) -> bool:
        return name in self.m.typedefs or name in _LOCK_TYPES

    def parse(self, text: str) -> Node:
        """Parsed expression text (cached: the same argument texts recur; nodes are never modified)."""
        node = self._parse_cache.get(text)
        if node is None:
            node = self._parse_cache[text] = parse_expr(text, self.is_type_name)
        return node

    def canon(self, t: Type, file_id: int | None = None) -> Type:
        """Follow typedefs (stopping at lock types and struct keys), as code in file_id sees them."""
        base, extra = self._canon_base(t.base, file_id)
        return Type(base, t.ptr + extra, t.arr)

    def _canon_base(self, base: str, file_id: int | None) -> tuple[str, int]:
        # keyed by the name alone unless a typedef on its chain differs between files (local_typedefs)
        hit = self._canon_cache.get(base) or self._canon_cache.get((base, file_id))
        if hit is not None:
            return hit
        b, extra, seen, local = base, 0, set(), False
        while b in self.m.typedefs and b not in _LOCK_TYPES and b not in seen:
            seen.add(b)
            local = local or b in self.m.local_typedefs
            t, _f = self.m.typedef(b, file_id)
            b, extra = t.base, extra + t.ptr
        self._canon_cache[(base, file_id) if local else base] = (b, extra)
        return b, extra

    def lock_kind(self, t: Type | None) -> str | None:
        """Lock kind of a (non-pointer) type, following typedefs."""
        if t is None:
            return None
        b, seen = t.base, set()
        while b not in seen:
            seen.add(b)
            if b in _LOCK_TYPES:
                return _LOCK_TYPES[b].lock_kind
            if b in self.m.typedefs:
                b = self.m.typedefs[b][0][0].base
            else:
                break
        return None

    def struct_defs(self, key: str, file_id: int) -> list[StructDef]:
        defs = self.m.structs.get(key)
        seen = set()
        while defs is None and key in self.m.typedefs and key not in seen:
            seen.add(key)
            t = self.m.typedef(key, file_id)[0]
            if t.ptr:
                return []
            key = t.base
            defs = self.m.structs.get(key)
        defs = defs or []
        if len(defs) > 1:
            defs = sorted(defs, key=lambda d: (self.m.ruled_out(d.file_id, d.line),
                                               self.m.rank(file_id, d.file_id),
                                               self.m.file_ruled_out(d.file_id)))
        return defs

    def member(self, key: str, name: str, file_id: int, _depth: int = 0
               ) -> tuple[tuple[str, ...], FieldDef, str] | None:
        """(path, field, struct key holding it) of member `name` of struct `key`, through anonymous members
        and member-alias macros (`#define d_lock d_lockref.lock`, `#define i_hash_lock i_ext_lock`)."""
        for d in self.struct_defs(key, file_id):
            f = d.fields.get(name)
            if f is not None:
                return (name,), f, d.key
            for a in d.anon:
                if _depth < 6:
                    hit = self.member(a, name, file_id, _depth + 1)
                    if hit is not None:
                        return hit
        alias = self.m.member_alias.get(name) if _depth == 0 else None
        if _depth == 0 and alias is None:
            body = self.m.object_macros.get(name)
            alias = body if body is not None and body.isidentifier() else None
        if alias is not None:
            path: tuple[str, ...] = ()
            cur_key = key
            last = None
            for part in alias.split("."):
                hit = self.member(cur_key, part, file_id, 1)
                if hit is None:
                    return None
                path += hit[0]
                last = hit[1]
                cur_key = self.canon(hit[1].type, file_id).base
            if last is not None:
                return path, last, key
        return None

    def type_of(self, n: Node, sc: Scope) -> Type | None:
        """Type of an expression, canonicalised; None when not known."""
        self._depth += 1
        try:
            if self._depth > 40:
                return None
            return self._type_of(n, sc)
        finally:
            self._depth -= 1

    def _type_of(self, n: Node, sc: Scope) -> Type | None:
        k = n[0]
        if k == "paren":
            return self.type_of(n[1], sc)
        if k == "id":
            v = self.var(n[1], sc)
            if v is not None:
                return self.canon(v.type, v.file_id)
            body = self.m.object_macros.get(n[1])
            if body is not None:
                return self.type_of(self.parse(body), sc)
            return None
        if k == "member":
            bt = self.type_of(n[1], sc)
            if bt is None:
                return None
            if n[3]:
                bt = bt.deref()
                if bt is None:
                    return None
            elif bt.ptr or bt.arr:
                return None
            hit = self.member(bt.base, n[2], sc.file_id)
            return self.canon(hit[1].type, sc.file_id) if hit else None
        if k == "index":
            bt = self.type_of(n[1], sc)
            return bt.deref() if bt else None
        if k == "unary":
            if n[1] == "&":
                t = self.type_of(n[2], sc)
                return t.addr() if t else None
            if n[1] == "*":
                t = self.type_of(n[2], sc)
                return t.deref() if t else None
            if n[1] in ("++", "--"):
                return self.type_of(n[2], sc)
            return None
        if k == "postfix":
            return self.type_of(n[2], sc)
        if k == "cast":
            return self.canon(Type(n[1][0], n[1][1]), sc.file_id) if n[1] else self.type_of(n[2], sc)
        if k == "cond":
            return self.type_of(n[2], sc) or self.type_of(n[3], sc)
        if k == "binary":
            if n[1] == ",":
                return self.type_of(n[3], sc)
            if n[1] in ("+", "-", "=", "+=", "-="):
                lt = self.type_of(n[2], sc)
                if lt is not None and (lt.ptr or lt.arr):
                    return lt if not lt.arr else Type(lt.base, lt.ptr + 1, lt.arr - 1)
                if n[1] == "+":
                    rt = self.type_of(n[3], sc)
                    if rt is not None and (rt.ptr or rt.arr):
                        return rt
            return None
        if k == "call":
            return self.call_type(n, sc)
        if k == "str":
            return Type("char", 1)
        return None

    def call_type(self, n: Node, sc: Scope) -> Type | None:
        fn = n[1]
        if fn[0] != "id":
            return None
        name, args = fn[1], n[2]
        if name in TYPE_ARG_MACROS:
            i = TYPE_ARG_MACROS[name]
            if i < len(args):
                ty = parse_type(args[i][1])
                if ty is not None:
                    return self.canon(Type(ty[0], ty[1] + 1), sc.file_id)
            return None
        if name in PASSTHROUGH_MACROS:
            i = PASSTHROUGH_MACROS[name]
            if i < len(args):
                t = self.type_of(args[i][0], sc)
                if name == "smp_load_acquire" and t is not None:
                    return t.deref()
                return t
            return None
        if name in PERCPU_ACCESSORS:
            i, form = PERCPU_ACCESSORS[name]
            if i < len(args):
                return self.type_of(args[i][0], sc)
            return None
        best = self.function(name, sc.file_id)
        if best is not None:
            return self.canon(best.ret, best.file_id) if best.ret else None
        if self.macro_expand is not None:
            text = self.macro_expand(name, [a[1] for a in args], sc)
            if text is not None:
                return self.type_of(self.parse(text), sc)
        return None

    def function(self, name: str, file_id: int) -> FuncDef | None:
        """The definition a call in file_id reaches: same file, a header, or a non-static one."""
        funcs = self.m.functions.get(name)
        if not funcs:
            return None
        funcs = [f for f in funcs
                 if f.file_id == file_id or not f.is_static or f.file_id in self.m.header_files]
        if not funcs:
            return None
        if len(funcs) == 1:
            return funcs[0]
        # #if alternatives: one the configuration rules out only when there is no other (lock_config);
        # else the same file, a header, and the first definition in the file
        return min(funcs, key=lambda f: (self.m.ruled_out(f.file_id, f.start_line),
                                         self.m.rank(file_id, f.file_id), self.m.file_ruled_out(f.file_id),
                                         f.file_id, f.start_line))

    def var(self, name: str, sc: Scope) -> VarDef | None:
        v = sc.lookup(name)
        if v is not None:
            return v
        every = self.m.globals.get(name)
        if not every:
            return None
        if any(g.scope == "extern" or g.file_id in self.m.header_files or g.is_percpu for g in every):
            cands = [g for g in every if g.file_id == sc.file_id or not g.is_static]
        else:
            cands = [g for g in every if g.file_id == sc.file_id]
        if not cands and sc.file_id in self.m.header_files and self.m.includers is not None:
            # a private header of one .c file (kernel/rcu/tree_exp.h, #included by tree.c) sees that file's
            # static globals (rcu_state): taken when exactly one file that includes it defines the name
            inc = self.m.includers(sc.file_id)
            cands = [g for g in every if g.file_id in inc and g.scope != "extern"]
            if len({g.file_id for g in cands}) != 1:
                return None
        if not cands:
            return None
        if len(cands) == 1:
            return cands[0]
        return min(cands, key=lambda g: (self.m.ruled_out(g.file_id, g.line),
                                         self.m.rank(sc.file_id, g.file_id), self.m.file_ruled_out(g.file_id),
                                         g.scope == "extern"))

    # -- objects ----------------------------------------------------------------------------------

    def lock_object(self, text: str, sc: Scope, form: str = "pointer") -> Obj:
        """Object denoted by a lock argument: form 'pointer' (&x->lock, a lock pointer) or 'lvalue'."""
        node = self.parse(text)
        if node[0] == "raw":
            return _unknown(f"unparsed argument {text[:60]!r}")
        self._seen = set()
        self._budget = 600
        o = self.pointee(node, sc) if form == "pointer" else self.locate(node, sc)
        if o.kind == "instance":
            return _unknown(f"element of an array of {o.struct} reached through a pointer")
        return o

    def locate(self, n: Node, sc: Scope) -> Obj:
        """The object an lvalue expression designates."""
        self._depth += 1
        try:
            if self._depth > 40:
                return _unknown("expression too deep")
            return self._locate(n, sc)
        finally:
            self._depth -= 1

    def _locate(self, n: Node, sc: Scope) -> Obj:
        k = n[0]
        if k == "paren":
            return self.locate(n[1], sc)
        if k == "id":
            return self.locate_name(n[1], sc)
        if k == "member":
            base, name, arrow = n[1], n[2], n[3]
            if arrow:
                inner = _strip_paren(base)
                if inner[0] == "unary" and inner[1] == "&":
                    return self.locate(("member", inner[2], name, False), sc)
                return self.arrow(base, name, sc)
            b = self.locate(base, sc)
            if b.kind in ("unknown", "ambiguous") and b.type is None:
                return b
            bt = b.type if b.type is not None else self.type_of(base, sc)
            if bt is None or bt.ptr or bt.arr:
                return _unknown(f"type of {_text(base)} not known")
            hit = self.member(bt.base, name, sc.file_id)
            if hit is None:
                return _unknown(f"no member {name} in {bt.base}")
            path, fd, _key = hit
            ft = self.canon(fd.type, sc.file_id)
            if b.kind in ("param", "local", "instance"):
                return Obj("field", bt.base, path, None, ft, b.confidence,
                           reason=f"member of {b.kind} {b.symbol or _text(base)[:40]}",
                           root_param=b.root_param)
            if b.kind == "field":
                return replace(b, path=b.path + path, type=ft)
            return replace(b, path=b.path + path, type=ft, struct=b.struct or bt.base)
        if k == "index":
            b = self.locate(n[1], sc)
            if b.type is not None and b.type.arr:
                return replace(b, type=b.type.deref())
            bt = b.type if b.type is not None else self.type_of(n[1], sc)
            if bt is not None and bt.ptr:
                # element of an array reached through a pointer: an instance of the element type
                et = self.canon(bt.deref(), sc.file_id)
                if et.base.startswith(("struct ", "union ", "#")) and not et.ptr \
                        and self.lock_kind(et) is None:
                    return Obj("instance", et.base, (), None, et, 1.0, reason="array element through pointer",
                               root_param=self.root_param(n[1], sc))
                return self.pointee(n[1], sc)
            return b
        if k == "unary" and n[1] == "*":
            return self.pointee(n[2], sc)
        if k == "call":
            name = n[1][1] if n[1][0] == "id" else None
            if name in PERCPU_ACCESSORS and PERCPU_ACCESSORS[name][1] == "lvalue" and n[2]:
                o = self.locate(n[2][0][0], sc)
                return replace(o, kind="percpu") if o.kind == "global" else o
            if name is not None and self.macro_expand is not None and self.function(name, sc.file_id) is None:
                text = self.macro_expand(name, [a[1] for a in n[2]], sc)
                if text is not None:
                    return self.locate(self.parse(text), sc)
            return _unknown(f"lvalue from call {_text(n[1])}")
        if k == "cast":
            o = self.locate(n[2], sc)
            return replace(o, type=self.canon(Type(n[1][0], n[1][1]), sc.file_id)) if n[1] else o
        if k == "cond":
            return self.combine([self.locate(n[2], sc), self.locate(n[3], sc)])
        if k == "binary" and n[1] == ",":
            return self.locate(n[3], sc)
        if k == "stringify":
            return _unknown("stringified macro parameter")
        return _unknown(f"not an lvalue: {_text(n)[:50]}")

    def locate_name(self, name: str, sc: Scope) -> Obj:
        if name in sc.macro_params:
            return Obj("param", symbol=name, confidence=1.0, reason="macro parameter", root_param=name)
        v = self.var(name, sc)
        if v is None:
            body = self.m.object_macros.get(name)
            if body is not None and name not in self._seen:
                self._seen.add(name)
                return self.locate(self.parse(body), sc)
            return _unknown(f"undeclared name {name}")
        t = self.canon(v.type, v.file_id)
        if v.scope == "param":
            return Obj("param", symbol=name, type=t, reason="parameter", root_param=name)
        if v.scope == "local":
            return Obj("local", symbol=name, type=t, reason="local variable")
        if v.scope == "static_local":
            return self.static_object(v, f"static local of {v.function or sc.function}")
        return self.static_object(v, "file-scope variable")

    def static_object(self, v: VarDef, reason: str) -> Obj:
        """The object a variable with static storage is: global (percpu when declared per CPU), with the
        struct its type names, as every site that names the variable sees it."""
        t = self.canon(v.type, v.file_id)
        return Obj("percpu" if v.is_percpu else "global",
                   struct=t.base if t.base.startswith(("struct ", "union ", "#")) else None,
                   symbol=v.name, type=t, reason=reason)

    def arrow(self, base: Node, name: str, sc: Scope) -> Obj:
        """base->name: a member of the struct base points to."""
        # A pointer that visibly points at a global (&x, this_cpu_ptr(&x)) keeps the global's identity.
        inner = _strip_paren(base)
        if inner[0] == "call" and inner[1][0] == "id" and inner[1][1] in PERCPU_ACCESSORS and inner[2]:
            o = self.pointee(inner, sc)
            if o.kind in ("percpu", "global") and o.type is not None and not o.type.ptr:
                hit = self.member(o.type.base, name, sc.file_id)
                if hit is not None:
                    return replace(o, path=o.path + hit[0], type=self.canon(hit[1].type, sc.file_id),
                                   struct=o.struct or o.type.base)
        if inner[0] == "member":
            o = self.member_value(inner, sc)
            if o is not None and o.kind in ("field", "global", "percpu") and o.type is not None \
                    and not o.type.ptr and not o.type.arr:
                hit = self.member(o.type.base, name, sc.file_id)
                if hit is not None:
                    return replace(o, path=o.path + hit[0], type=self.canon(hit[1].type, sc.file_id),
                                   struct=o.struct or o.type.base)
        bt = self.type_of(base, sc)
        if bt is None:
            return _unknown(f"type of {_text(base)[:60]} not known")
        st = bt.deref()
        if st is None or st.ptr or st.arr:
            return _unknown(f"{_text(base)[:60]} is not a struct pointer ({bt.base})")
        hit = self.member(st.base, name, sc.file_id)
        if hit is None:
            return _unknown(f"no member {name} in {st.base}")
        path, fd, _key = hit
        return Obj("field", st.base, path, None, self.canon(fd.type, sc.file_id), 1.0, reason="member type",
                   root_param=self.root_param(base, sc))

    def root_param(self, n: Node, sc: Scope) -> str | None:
        """The parameter an expression is computed from (leftmost operand), if any."""
        for _ in range(30):
            k = n[0]
            if k == "id":
                if n[1] in sc.macro_params:
                    return n[1]
                v = sc.lookup(n[1])
                if v is not None and v.scope == "param":
                    return n[1]
                if v is not None and v.scope == "local" and v.initializer:
                    n = self.parse(v.initializer)
                    continue
                return None
            if k in ("paren",):
                n = n[1]
            elif k in ("member", "index"):
                n = n[1]
            elif k in ("unary", "postfix", "cast"):
                n = n[2]
            elif k == "call":
                if not n[2]:
                    return None
                n = n[2][0][0]
            elif k == "binary":
                n = n[2]
            else:
                return None
        return None

    def pointee(self, n: Node, sc: Scope) -> Obj:
        """The object a pointer-valued expression points to."""
        self._budget -= 1
        if self._budget < 0:
            return _unknown("resolution budget exhausted")
        self._depth += 1
        try:
            if self._depth > 40:
                return _unknown("expression too deep")
            return self._pointee(n, sc)
        finally:
            self._depth -= 1

    def _pointee(self, n: Node, sc: Scope) -> Obj:
        k = n[0]
        if k == "paren":
            return self.pointee(n[1], sc)
        if k == "unary" and n[1] == "&":
            return self.locate(n[2], sc)
        if k == "cast":
            o = self.pointee(n[2], sc)
            if o.kind == "unknown":
                return o
            t = self.canon(Type(n[1][0], n[1][1]), sc.file_id) if n[1] else None
            return replace(o, type=t.deref() if t else o.type)
        if k == "id":
            name = n[1]
            if name in sc.macro_params:
                return Obj("param", symbol=name, reason="macro parameter", root_param=name)
            v = self.var(name, sc)
            if v is None:
                body = self.m.object_macros.get(name)
                if body is not None and name not in self._seen:
                    self._seen.add(name)
                    return self.pointee(self.parse(body), sc)
                return _unknown(f"undeclared name {name}")
            t = self.canon(v.type, v.file_id)
            if t.arr:
                return self.locate(n, sc)
            if v.scope == "param":
                return Obj("param", symbol=name, type=t.deref(), reason="lock pointer parameter",
                           root_param=name)
            if v.scope in ("local", "static_local"):
                return self.local_value(v, sc)
            return Obj("global", symbol=name, type=t.deref(), confidence=0.8,
                       reason="lock pointed to by global pointer", is_pointer=True)
        if k == "member":
            o = self.member_value(n, sc)
            if o is not None:
                return o
            o = self.locate(n, sc)
            if o.kind == "unknown":
                return o
            t = o.type
            if t is not None and t.arr:
                return replace(o, type=t.deref())
            return replace(o, type=t.deref() if t else None, is_pointer=True,
                           reason=(o.reason or "") + "; lock pointed to by this member")
        if k == "index":
            return self.locate(n, sc)
        if k == "call":
            return self.call_pointee(n, sc)
        if k == "cond":
            return self.combine([self.pointee(n[2], sc), self.pointee(n[3], sc)])
        if k == "binary":
            if n[1] == ",":
                return self.pointee(n[3], sc)
            if n[1] in ("+", "-"):
                return self.pointee(n[2], sc)
            if n[1] == "=":
                return self.pointee(n[3], sc)
        if k == "unary" and n[1] == "*":
            o = self.locate(n, sc)
            if o.kind != "unknown":
                return replace(o, is_pointer=True, type=o.type.deref() if o.type else None)
            return o
        if k == "stmt_expr":
            return _unknown("statement expression")
        if k == "num":
            return _unknown("constant")
        return _unknown(f"pointer expression {_text(n)[:50]}")

    def call_pointee(self, n: Node, sc: Scope) -> Obj:
        fn, args = n[1], n[2]
        if fn[0] != "id":
            return _unknown(f"lock pointer returned by indirect call {_text(fn)[:40]}")
        name = fn[1]
        if name in PERCPU_ACCESSORS and args:
            o = self.pointee(args[0][0], sc)
            if o.kind == "global":
                return replace(o, kind="percpu")
            return o
        if name in PASSTHROUGH_MACROS and PASSTHROUGH_MACROS[name] < len(args):
            return self.pointee(args[PASSTHROUGH_MACROS[name]][0], sc)
        if self.returns is not None and ("ret", name) not in self._seen:
            hit = self._ret_cache.get((name, sc.file_id))
            if hit is None:
                self._seen.add(("ret", name))
                rets = self.returns(name, sc)
                fsc = rets[0][1] if rets else None
                c = self.combine([self.pointee(self.parse(text), s2) for text, s2 in rets]) if rets \
                    else _unknown("no return")
                self._seen.discard(("ret", name))
                if self._budget > 0:
                    self._ret_cache[(name, sc.file_id)] = (c, fsc)
            else:
                c, fsc = hit
            rets = fsc is not None
            if rets:
                if c.kind == "param":
                    # the helper returns its argument: follow the caller's argument
                    idx = fsc.param_index(c.symbol)
                    if idx is not None and idx < len(args):
                        return self.pointee(args[idx][0], sc)
                if c.kind != "unknown":
                    return replace(c, confidence=min(c.confidence, 0.9),
                                   reason=f"returned by {name}: {c.reason or ''}",
                                   root_param=self.root_param(n, sc) if c.kind == "field" else c.root_param)
        if self.macro_expand is not None and ("mac", name) not in self._seen \
                and self.function(name, sc.file_id) is None:
            text = self.macro_expand(name, [a[1] for a in args], sc)
            if text is not None:
                self._seen.add(("mac", name))
                o = self.pointee(self.parse(text), sc)
                self._seen.discard(("mac", name))
                return o
        return _unknown(f"lock pointer returned by {name}()")

    def member_value(self, n: Node, sc: Scope) -> Obj | None:
        """The object a pointer member points to, where the function shows its value: the designated
        initializer of a local struct (XA_STATE(xas, &mapping->i_pages, i) declares xas = { .xa =
        &mapping->i_pages, ... }, so (&xas)->xa->xa_lock is address_space.i_pages.xa_lock), else the
        assignments `x.m = ...` / `p->m = ...` in the function whose value has the member's type
        (kernel/locking/locktorture.c: locks[i].lock = &torture_ww_mutex_i, then ww_mutex_lock(ll->lock)).
        None when no value is visible (the member's type then says what it points to)."""
        base, name, arrow = n[1], n[2], n[3]
        mt = self.type_of(n, sc)
        if mt is None or mt.ptr != 1 or mt.arr:
            return None
        want = mt.deref()
        key = ("member", sc.function_id, name)
        if key in self._seen or sc.function_id is None:
            return None
        self._seen.add(key)
        try:
            texts = self._local_init_member(base, name, arrow, sc)
            how = "initializer"
            if not texts and sc.values is not None:
                texts, how = sc.values("." + name), "assignments"
            objs = []
            for t in texts[:8]:
                node = self.parse(t)
                if node[0] == "raw":
                    return None
                o = self.pointee(node, sc)
                if o.kind in ("unknown", "param", "local") or o.is_pointer:
                    return None   # a value the function does not show: keep the member's type
                if o.type is not None and want is not None \
                        and self.canon(o.type, sc.file_id).base != want.base:
                    continue      # another struct's member of that name
                objs.append(o)
        finally:
            self._seen.discard(key)
        if not objs:
            return None
        c = self.combine(objs)
        if c.kind == "ambiguous":
            return c
        return replace(c, confidence=min(c.confidence, 0.8 if how == "initializer" else 0.7),
                       reason=f"{name} set by the {how} in this function: {c.reason}")

    def _local_init_member(self, base: Node, name: str, arrow: bool, sc: Scope) -> list[str]:
        """`.name = E` of the initializer of the local struct `base` denotes (v, or &v under ->)."""
        b = _strip_paren(base)
        if arrow:
            if b[0] != "unary" or b[1] != "&":
                return []
            b = _strip_paren(b[2])
        if b[0] != "id":
            return []
        v = sc.lookup(b[1])
        if v is None or v.scope != "local" or not v.initializer or v.type.ptr:
            return []
        text = v.initializer.strip()
        for _ in range(3):   # XA_STATE's initializer is __XA_STATE(...), a macro giving { .xa = ... }
            if text.startswith("{") or self.macro_expand is None:
                break
            call = self.parse(text)
            if call[0] != "call" or call[1][0] != "id":
                return []
            text = (self.macro_expand(call[1][1], [a[1] for a in call[2]], sc) or "").strip()
        if not (text.startswith("{") and text.endswith("}")):
            return []
        out = []
        for item in _split_top_commas(text[1:-1]):
            m = name_pattern(r"\s*\.\s*", name, r"\s*=\s*(.+?)\s*", re.S).fullmatch(item)
            if m:
                out.append(m.group(1))
        return out

    def local_value(self, v: VarDef, sc: Scope) -> Obj:
        """Object a local pointer points to: its initializer and the assignments seen in the function."""
        key = ("local", sc.function_id, v.name, v.line)
        if key in self._local_cache:
            return self._local_cache[key]
        if key in self._seen:
            return _unknown(f"local {v.name} assigned from itself")
        self._seen.add(key)
        texts: list[str] = []
        if v.initializer:
            texts.append(v.initializer)
        if sc.values is not None:
            texts.extend(sc.values(v.name))
        objs = []
        for t in texts:
            node = self.parse(t)
            if node[0] == "raw":
                continue
            objs.append(self.pointee(node, sc))
        self._seen.discard(key)
        objs = [o for o in objs if o.kind != "unknown"] or objs
        if not objs:
            c = _unknown(f"local pointer {v.name} with no visible value")
        else:
            c = self.combine(objs)
        if c.kind not in ("unknown", "ambiguous"):
            c = replace(c, confidence=min(c.confidence, 0.9), reason=f"value of local {v.name}: {c.reason}")
        if self._budget > 0:
            self._local_cache[key] = c
        return c

    def combine(self, objs: list[Obj]) -> Obj:
        """One object when all agree, else ambiguous with every candidate."""
        known = [o for o in objs if o.kind != "unknown"]
        if not known:
            return objs[0] if objs else _unknown("no candidate")
        seen: dict[tuple, Obj] = {}
        for o in known:
            if o.kind == "ambiguous":
                for c in o.candidates:
                    seen.setdefault(("cand", c), o)
            else:
                seen.setdefault(o.ident(), o)
        if len(seen) == 1:
            o = next(iter(seen.values()))
            if len(known) < len(objs):
                o = replace(o, confidence=min(o.confidence, 0.7))
            return o
        cands = []
        for ident, o in seen.items():
            cands.append(ident[1] if ident[0] == "cand" else self.describe(o))
        return Obj("ambiguous", confidence=0.0, candidates=tuple(sorted(set(cands))),
                   reason="several objects possible")

    def describe(self, o: Obj) -> str:
        """One-line label of an object: mm_struct.mmap_lock, global rtnl_mutex, param lock."""
        if o.kind == "field":
            return f"{struct_label(self.m, o.struct)}.{'.'.join(o.path)}"
        if o.kind in ("global", "percpu"):
            return o.symbol + ("." + ".".join(o.path) if o.path else "") if o.symbol else "?"
        return f"{o.kind} {o.symbol}"


def _split_top_commas(text: str) -> list[str]:
    """Items of an initializer list, split on the commas outside brackets and literals."""
    out, depth, start, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "," and depth == 0:
            out.append(text[start:i])
            start = i + 1
        elif c in "\"'":
            q, i = c, i + 1
            while i < len(text) and text[i] != q:
                i += 2 if text[i] == "\\" else 1
        i += 1
    out.append(text[start:])
    return out


def _strip_paren(n: Node) -> Node:
    while n[0] == "paren":
        n = n[1]
    return n


def _text(n: Node) -> str:
    """Rough text of a node for messages."""
    k = n[0]
    if k == "id":
        return n[1]
    if k == "paren":
        return "(" + _text(n[1]) + ")"
    if k == "member":
        return _text(n[1]) + ("->" if n[3] else ".") + n[2]
    if k == "unary":
        return n[1] + _text(n[2])
    if k == "call":
        return _text(n[1]) + "(" + ", ".join(a[1] for a in n[2]) + ")"
    if k == "index":
        return _text(n[1]) + "[" + _text(n[2]) + "]"
    if k == "cast":
        return "(" + str(n[1]) + ")" + _text(n[2])
    if k in ("raw", "num", "str", "stmt_expr", "sizeof", "stringify"):
        return str(n[1])
    return k
