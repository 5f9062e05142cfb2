"""Lock acquisition sites of one C file as clang's AST sees them (the libclang front end of lima-index).

`file_sites(path, args)` parses one translation unit with libclang and returns every call of a lock
primitive of the catalogue (lima.analyzer.lock_catalogue) written in that file, with the object its lock
argument denotes, read from the compiler's own types:

- A call is named by the macro spelled where it is written when it comes from one (spin_lock_irqsave,
  raw_spin_lock, mutex_lock under lockdep), else by the function it calls (spin_lock, down_write): clang's
  *file location* of the call is the spot in the main file where the outermost macro that produced it
  (or the called name itself) is written, and the preprocessing record says which macro starts there.
- The lock argument of a macro is the expression of the AST whose file range is exactly the argument's
  text; of a function, the call's argument.
- The object: `&`, parentheses and casts stripped, a member chain gives the struct (the record type of
  the base dereferenced last, named by tag, else by its typedef) and the member path as C writes it
  (anonymous struct/union members fold away: wait.lock, __lock); a variable with static storage gives a
  global (percpu when declared by DEFINE_PER_CPU/DECLARE_PER_CPU or reached through a per-CPU accessor),
  a parameter or local gives param/local with its type. A local pointer whose every assignment in the
  function (initializer included, address never taken) denotes one object is that object. A call gives
  its return type. Anything else is unknown with the reason: never a guess.
"""

from __future__ import annotations

import ctypes
import os
import re
import time
from dataclasses import dataclass, field, replace

import clang.cindex as ci
from clang.cindex import CursorKind as K
from clang.cindex import TypeKind as T

from .lock_catalogue import PASSTHROUGH_MACROS, PERCPU_ACCESSORS, primitive_map

__all__ = ["Site", "FileSites", "file_sites", "SITE_COLUMNS"]

PRIMITIVES = primitive_map()

#: Columns of a site row, in clang_lock_sites order (file_id is added by the writer).
SITE_COLUMNS = ("line", "col", "function", "primitive", "from_macro", "arg_text", "lock_type", "object_kind",
                "struct_name", "field_path", "symbol", "is_pointer", "reason")

_PERCPU_DECL = re.compile(r"^(DEFINE|DECLARE)_PER_CPU\w*$")
_WS = re.compile(r"\s+")
_IDENT = re.compile(r"^[A-Za-z_]\w*$")


# ---------------------------------------------------------------------------------------------------
# libclang entry points the Python bindings do not wrap
# ---------------------------------------------------------------------------------------------------

_LIB = None


def _lib():
    global _LIB
    if _LIB is None:
        lib = ci.conf.lib
        lib.clang_getFileLocation.argtypes = [ci.SourceLocation, ctypes.POINTER(ci.c_object_p),
                                              ctypes.POINTER(ctypes.c_uint), ctypes.POINTER(ctypes.c_uint),
                                              ctypes.POINTER(ctypes.c_uint)]
        lib.clang_getFileLocation.restype = None
        for fn in ("clang_getCursorUnaryOperatorKind", "clang_getCursorBinaryOperatorKind"):
            getattr(lib, fn).argtypes = [ci.Cursor]
            getattr(lib, fn).restype = ctypes.c_int
        for fn in ("clang_getUnaryOperatorKindSpelling", "clang_getBinaryOperatorKindSpelling"):
            getattr(lib, fn).argtypes = [ctypes.c_int]
            getattr(lib, fn).restype = ci._CXString
            getattr(lib, fn).errcheck = ci._CXString.from_result
        _LIB = lib
    return _LIB


def _file_loc(loc: ci.SourceLocation) -> tuple[object, int, int, int]:
    """(file pointer, line, column, offset) where the text that produced LOC is written in a file:
    for a macro argument the argument's spelling, for a macro body the place the macro is used."""
    f, line, col, off = ci.c_object_p(), ctypes.c_uint(), ctypes.c_uint(), ctypes.c_uint()
    _lib().clang_getFileLocation(loc, ctypes.byref(f), ctypes.byref(line), ctypes.byref(col),
                                 ctypes.byref(off))
    return ctypes.cast(f, ctypes.c_void_p).value, line.value, col.value, off.value


_OP_NAMES: dict[tuple[str, int], str] = {}


def _op(c: ci.Cursor, which: str) -> str:
    lib = _lib()
    k = getattr(lib, f"clang_getCursor{which}OperatorKind")(c)
    name = _OP_NAMES.get((which, k))
    if name is None:
        name = _OP_NAMES[(which, k)] = str(getattr(lib, f"clang_get{which}OperatorKindSpelling")(k))
    return name


def _unary_op(c: ci.Cursor) -> str:
    """The operator of a UnaryOperator cursor: &, *, ++, -, !, ..."""
    return _op(c, "Unary")


def _binary_op(c: ci.Cursor) -> str:
    """The operator of a BinaryOperator cursor: =, +, ',', ..."""
    return _op(c, "Binary")


# ---------------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Obj:
    """What an expression denotes (kind as in lock_sites, plus 'instance': some object of a struct type)."""
    kind: str
    struct: str | None = None
    path: tuple[str, ...] = ()
    symbol: str | None = None
    reason: str = ""
    is_pointer: bool = False
    type: str | None = None


@dataclass
class Site:
    """One lock primitive call in the main file."""
    line: int
    col: int
    function: str | None
    primitive: str
    from_macro: bool
    arg_text: str
    lock_type: str | None
    object_kind: str
    struct_name: str | None
    field_path: str | None
    symbol: str | None
    is_pointer: bool
    reason: str

    def row(self) -> tuple:
        return tuple(getattr(self, c) for c in SITE_COLUMNS)


@dataclass
class FileSites:
    """Outcome of one file: sites, error diagnostics, the files it included, time."""
    sites: list[Site] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    includes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _unknown(reason: str, type_: str | None = None) -> Obj:
    return Obj("unknown", reason=reason, type=type_)


# ---------------------------------------------------------------------------------------------------
# Types
# ---------------------------------------------------------------------------------------------------

def _strip_sugar(t: ci.Type) -> ci.Type:
    while t.kind == T.ELABORATED:
        t = t.get_named_type()
    return t


def record_name(t: ci.Type) -> str | None:
    """Name of a struct/union type as lock_sites writes it: the tag, else the typedef that names an
    anonymous one (spinlock_t is 'spinlock', rwlock_t 'rwlock_t'), else 'anonymous'; None if not a record."""
    canon = t.get_canonical()
    if canon.kind != T.RECORD:
        return None
    decl = canon.get_declaration()
    if decl.spelling and not decl.is_anonymous() and "unnamed" not in decl.spelling \
            and "anonymous" not in decl.spelling:
        return decl.spelling
    name = None
    t = _strip_sugar(t)
    for _ in range(20):
        if t.kind != T.TYPEDEF:
            break
        td = t.get_declaration()
        name = td.spelling
        t = _strip_sugar(td.underlying_typedef_type)
    return name or "anonymous"


def _pointee(t: ci.Type) -> ci.Type | None:
    """The type a pointer or array type points to / holds (sugar kept for naming)."""
    c = t.get_canonical()
    if c.kind == T.POINTER:
        # walk the sugar down to the pointer to keep a typedef'd pointee's name
        s = _strip_sugar(t)
        for _ in range(20):
            if s.kind == T.POINTER:
                return s.get_pointee()
            if s.kind == T.TYPEDEF:
                s = _strip_sugar(s.get_declaration().underlying_typedef_type)
            else:
                break
        return c.get_pointee()
    if c.kind in (T.CONSTANTARRAY, T.INCOMPLETEARRAY, T.VARIABLEARRAY, T.DEPENDENTSIZEDARRAY):
        return c.element_type
    return None


def _is_array(t: ci.Type) -> bool:
    return t.get_canonical().kind in (T.CONSTANTARRAY, T.INCOMPLETEARRAY, T.VARIABLEARRAY)


def _is_pointer(t: ci.Type) -> bool:
    return t.get_canonical().kind == T.POINTER


# ---------------------------------------------------------------------------------------------------
# The walk of one translation unit
# ---------------------------------------------------------------------------------------------------

_EXPR_WRAPPERS = (K.PAREN_EXPR, K.UNEXPOSED_EXPR, K.CSTYLE_CAST_EXPR)


def _expr_children(c: ci.Cursor) -> list[ci.Cursor]:
    return [x for x in c.get_children() if x.kind.is_expression() or x.kind == K.StmtExpr]


def _strip(c: ci.Cursor) -> ci.Cursor:
    """Parentheses and implicit/explicit casts removed."""
    for _ in range(50):
        if c.kind not in _EXPR_WRAPPERS:
            return c
        kids = _expr_children(c)
        if len(kids) != 1:
            return c
        c = kids[-1]
    return c


class _Unit:
    """One parsed translation unit: the main file's text, macro instantiations and resolution."""

    def __init__(self, tu: ci.TranslationUnit, path: str, data: bytes) -> None:
        self.tu = tu
        self.path = path
        self.data = data
        self.main = None                          # file pointer of the main file
        self.macros: dict[int, tuple[str, int]] = {}   # start offset -> (macro name, end offset)
        self.values: dict[int, list[ci.Cursor]] = {}   # local VarDecl hash -> assigned expressions
        self.escaped: set[int] = set()             # locals whose address is taken or that are stepped
        self.returns: dict[int, list[ci.Cursor]] = {}  # function definition hash -> returned expressions
        self.subst: list[dict[int, ci.Cursor]] = []    # callee parameter hash -> caller's argument
        self.calling: list[int] = []                    # definitions being followed (no recursion)
        self._depth = 0

    # -- locations -----------------------------------------------------------------------------------
    def frange(self, c: ci.Cursor) -> tuple[int, int] | None:
        """Byte range of the text in the main file that produced C, or None when it is elsewhere."""
        ext = c.extent
        f1, _, _, a = _file_loc(ext.start)
        f2, _, _, b = _file_loc(ext.end)
        if f1 != self.main or f2 != self.main:
            return None
        return a, b

    def text(self, a: int, b: int) -> str:
        return _WS.sub(" ", self.data[a:b].decode("utf-8", "replace")).strip()

    def macro_args(self, start: int) -> list[tuple[int, int]]:
        """Byte ranges of the arguments of the macro invocation at START (whitespace trimmed)."""
        name, end = self.macros[start]
        d = self.data
        i = start + len(name)
        while i < end and d[i] in b" \t\n\\\r":
            i += 1
        if i >= end or d[i] != ord("("):
            return []
        out, depth, a, i = [], 0, i + 1, i + 1
        quote = 0
        while i < end:
            ch = d[i]
            if quote:
                if ch == ord("\\"):
                    i += 1
                elif ch == quote:
                    quote = 0
            elif ch in b"\"'":
                quote = ch
            elif ch in b"([{":
                depth += 1
            elif ch in b")]}":
                if depth == 0:
                    out.append((a, i))
                    break
                depth -= 1
            elif ch == ord(",") and depth == 0:
                out.append((a, i))
                a = i + 1
            i += 1
        trimmed = []
        for a, b in out:
            while a < b and d[a] in b" \t\n\r\\":
                a += 1
            while b > a and d[b - 1] in b" \t\n\r\\":
                b -= 1
            trimmed.append((a, b))
        return trimmed

    def find_expr(self, roots: list[ci.Cursor], a: int, b: int) -> ci.Cursor | None:
        """The outermost expression under ROOTS whose main-file text is exactly [a, b) (else the largest
        one starting at a and ending inside it)."""
        best, best_end = None, -1
        for root in roots:
            for c in root.walk_preorder():
                if not (c.kind.is_expression() or c.kind == K.StmtExpr):
                    continue
                r = self.frange(c)
                if r is None:
                    continue
                if r == (a, b):
                    return c
                if r[0] == a and a < r[1] <= b and r[1] > best_end:
                    best, best_end = c, r[1]
        return best

    def macro_at(self, c: ci.Cursor) -> tuple[int, str] | None:
        """(start, name) of the macro invocation whose whole text produced expression C, if any."""
        r = self.frange(c)
        if r is None or r[0] not in self.macros:
            return None
        name, end = self.macros[r[0]]
        return (r[0], name) if r[1] == end else None

    # -- objects -------------------------------------------------------------------------------------
    def var_obj(self, decl: ci.Cursor, as_pointer: bool) -> Obj:
        """A variable named by a DeclRefExpr: as the lvalue itself, or (AS_POINTER) what it points to."""
        name = decl.spelling
        t = decl.type
        tname = t.spelling
        if decl.kind == K.PARM_DECL:
            if as_pointer and self.subst and decl.hash in self.subst[-1]:
                frame = self.subst.pop()   # the argument is the caller's expression: resolve it there
                try:
                    return self.ptr(frame[decl.hash])
                finally:
                    self.subst.append(frame)
            if as_pointer:
                p = _pointee(t)
                return Obj("param", symbol=name, reason=f"parameter {name} ({tname})",
                           type=p.spelling if p else None)
            return Obj("param", symbol=name, reason=f"parameter {name}", type=tname)
        if decl.kind != K.VAR_DECL:
            return _unknown(f"{name} is not a variable ({decl.kind.name.lower()})")
        static = decl.semantic_parent is not None and decl.semantic_parent.kind == K.TRANSLATION_UNIT \
            or decl.storage_class in (ci.StorageClass.STATIC, ci.StorageClass.EXTERN)
        if not static:
            if as_pointer:
                return self.local_value(decl)
            return Obj("local", symbol=name, reason=f"local variable {name}", type=tname)
        percpu = self.is_percpu(decl)
        kind = "percpu" if percpu else "global"
        where = "static local" if decl.semantic_parent.kind == K.FUNCTION_DECL else "file-scope variable"
        if as_pointer:
            p = _pointee(t)
            return Obj(kind, symbol=name, is_pointer=True, type=p.spelling if p else None,
                       reason=f"lock pointed to by {where} {name} ({tname})")
        return Obj(kind, struct=record_name(t), symbol=name, reason=where, type=tname)

    def is_percpu(self, decl: ci.Cursor) -> bool:
        """Declared by DEFINE_PER_CPU*/DECLARE_PER_CPU* (the macro spelled where the declaration is)."""
        for i, tok in enumerate(decl.get_tokens()):
            if _PERCPU_DECL.match(tok.spelling):
                return True
            if i > 4:
                break
        return False

    def local_value(self, decl: ci.Cursor) -> Obj:
        """What a local pointer points to: the one object every value assigned to it in the function
        denotes (its address never taken), else local with its type."""
        name = decl.spelling
        plain = Obj("local", symbol=name, reason=f"local pointer {name} ({decl.type.spelling})",
                    type=(_pointee(decl.type).spelling if _pointee(decl.type) else None))
        key = decl.hash
        vals = [v for v in self.values.get(key, []) if not _is_null(v)]
        if key in self.escaped or not vals or self._depth > 12:
            return plain
        self._depth += 1
        try:
            objs = [self.ptr(v) for v in vals]
        finally:
            self._depth -= 1
        first = objs[0]
        same = all((o.kind, o.struct, o.path, o.symbol, o.is_pointer)
                   == (first.kind, first.struct, first.path, first.symbol, first.is_pointer) for o in objs)
        if not same or first.kind not in ("field", "global", "percpu", "instance"):
            why = "values differ" if not same else first.reason
            return replace(plain, reason=f"{plain.reason}: {why}")
        n = len(vals)
        return replace(first, reason=f"value of local {name} ({n} assignment{'s' * (n > 1)}): {first.reason}")

    def lv(self, c: ci.Cursor) -> Obj:
        """The object the lvalue expression C designates."""
        self._depth += 1
        try:
            if self._depth > 60:
                return _unknown("expression too deep")
            return self._lv(_strip(c))
        finally:
            self._depth -= 1

    def _lv(self, c: ci.Cursor) -> Obj:
        k = c.kind
        m = self.macro_at(c)
        if m is not None:
            o = self.through_macro(c, m, "lvalue")
            if o is not None:
                return o
        if k == K.MEMBER_REF_EXPR:
            return self.member(c)
        if k == K.DECL_REF_EXPR:
            d = c.referenced
            return self.var_obj(d, False) if d is not None else _unknown(f"undeclared {c.spelling}")
        if k == K.ARRAY_SUBSCRIPT_EXPR:
            kids = _expr_children(c)
            if len(kids) != 2:
                return _unknown("array subscript without base")
            base = kids[0]
            inner = _strip(base)
            if _is_array(inner.type):
                o = self.lv(inner)
                return replace(o, type=c.type.spelling, reason=_join(o.reason, "array element"))
            o = self.ptr(base)
            return replace(o, reason=_join(o.reason, "element through pointer"))
        if k == K.UNARY_OPERATOR and _unary_op(c) == "*":
            kids = _expr_children(c)
            return self.ptr(kids[0]) if kids else _unknown("dereference without operand")
        if k in (K.StmtExpr, K.CALL_EXPR, K.GENERIC_SELECTION_EXPR):
            if k == K.GENERIC_SELECTION_EXPR:
                kids = _expr_children(c)
                return self.lv(kids[-1]) if kids else _unknown("_Generic")
            rec = record_name(c.type)
            if rec is not None:
                return Obj("instance", struct=rec, reason=f"value of {self.describe(c)}",
                           type=c.type.spelling)
            return _unknown(f"lvalue from {self.describe(c)}", c.type.spelling)
        if k == K.CONDITIONAL_OPERATOR:
            kids = _expr_children(c)
            return self.combine([self.lv(x) for x in kids[1:]]) if len(kids) == 3 else _unknown("?:")
        if k == K.BINARY_OPERATOR and _binary_op(c) == ",":
            kids = _expr_children(c)
            return self.lv(kids[-1])
        return _unknown(f"not an lvalue: {k.name.lower()}", c.type.spelling)

    def member(self, c: ci.Cursor) -> Obj:
        """base.name or base->name."""
        name = c.spelling
        kids = _expr_children(c)
        if not kids:
            return _unknown(f"member {name} without base")
        base = kids[0]
        arrow = _is_pointer(base.type)
        rec_t = _pointee(base.type) if arrow else base.type
        rec = record_name(rec_t) if rec_t is not None else None
        step = (name,) if _IDENT.match(name) else ()   # an anonymous struct/union member folds away
        b = self.ptr(base) if arrow else self.lv(base)
        if b.kind in ("global", "percpu") and not b.is_pointer:
            return replace(b, path=b.path + step, struct=b.struct or rec, type=c.type.spelling)
        if not arrow and b.kind in ("field", "instance"):
            return replace(b, kind="field", path=b.path + step, type=c.type.spelling,
                           struct=b.struct or rec)
        if rec is None:
            return _unknown(f"member {name} of a non-struct type {rec_t.spelling if rec_t else '?'}")
        if b.kind in ("param", "local"):
            why = f"member of {b.kind} {b.symbol}"
        elif arrow:
            why = "member through pointer"
        else:
            why = "member of " + (b.reason or "a struct value")
        return Obj("field", struct=rec, path=step, reason=why, type=c.type.spelling)

    def ptr(self, c: ci.Cursor) -> Obj:
        """The object the pointer-valued expression C points to."""
        self._depth += 1
        try:
            if self._depth > 60:
                return _unknown("expression too deep")
            return self._ptr(_strip(c))
        finally:
            self._depth -= 1

    def _ptr(self, c: ci.Cursor) -> Obj:
        k = c.kind
        m = self.macro_at(c)
        if m is not None:
            o = self.through_macro(c, m, "pointer")
            if o is not None:
                return o
        if k == K.UNARY_OPERATOR:
            op = _unary_op(c)
            kids = _expr_children(c)
            if op == "&" and kids:
                return self.lv(kids[0])
        if k == K.DECL_REF_EXPR:
            d = c.referenced
            if d is None:
                return _unknown(f"undeclared {c.spelling}")
            if _is_array(d.type):
                return self.lv(c)
            return self.var_obj(d, True)
        if k in (K.MEMBER_REF_EXPR, K.ARRAY_SUBSCRIPT_EXPR):
            o = self.lv(c)
            if _is_array(c.type):
                return replace(o, type=(_pointee(c.type).spelling if _pointee(c.type) else None))
            if o.kind == "unknown":
                return o
            return replace(o, is_pointer=True, type=(_pointee(c.type).spelling if _pointee(c.type) else None),
                           reason=_join(o.reason, "lock pointed to by this member"
                                        if o.kind == "field" else "pointer held there"))
        if k == K.GENERIC_SELECTION_EXPR:
            kids = _expr_children(c)
            return self.ptr(kids[-1]) if kids else _unknown("_Generic")
        if k == K.CALL_EXPR:
            o = self.call_returns(c)
            if o is not None:
                return o
        if k == K.CONDITIONAL_OPERATOR:   # c ? &a->lock : NULL is &a->lock when it is a lock at all
            kids = _expr_children(c)
            objs = [self.ptr(x) for x in kids[1:] if not _is_null(x)] if len(kids) == 3 else []
            return self.combine(objs) if objs else _unknown("?: of null pointers")
        if k == K.BINARY_OPERATOR:
            op = _binary_op(c)
            kids = _expr_children(c)
            if op in (",", "=") and kids:
                return self.ptr(kids[-1])
            if op in ("+", "-") and kids and _is_pointer(kids[0].type):
                o = self.ptr(kids[0])
                return replace(o, reason=_join(o.reason, "pointer arithmetic"))
        # typed fallback: a pointer to a struct is some instance of it, else only the type is known
        p = _pointee(c.type)
        what = self.describe(c)
        if p is not None and record_name(p) is not None:
            return Obj("instance", struct=record_name(p), reason=f"pointer from {what}", type=p.spelling)
        return _unknown(f"lock pointer from {what}", p.spelling if p is not None else c.type.spelling)

    def call_returns(self, c: ci.Cursor) -> Obj | None:
        """What a call returns when the called function's body is in the unit (a static inline helper such
        as pte_lockptr) and every return statement (NULL aside) denotes one object, its parameters read as
        the call's arguments. None when there is no body to read."""
        ref = c.referenced
        if ref is None or ref.kind != K.FUNCTION_DECL:
            return None
        d = ref.get_definition()
        if d is None or d.hash in self.calling or len(self.calling) >= 6:
            return None
        rets = [r for r in self.function_returns(d) if not _is_null(r)]
        if not rets:
            return None
        frame = {p.hash: a for p, a in zip(d.get_arguments(), c.get_arguments(), strict=False)}
        self.calling.append(d.hash)
        self.subst.append(frame)
        try:
            objs = [self.ptr(r) for r in rets]
        finally:
            self.subst.pop()
            self.calling.pop()
        first = objs[0]
        name = d.spelling
        if first.kind == "unknown" or any(_ident(o) != _ident(first) for o in objs):
            why = "returns differ: " + " | ".join(sorted({_label(o) for o in objs})) if len(objs) > 1 \
                else first.reason
            return _unknown(f"lock pointer returned by {name}(): {why}", first.type)
        return replace(first, reason=f"returned by {name}(): {first.reason}")

    def function_returns(self, d: ci.Cursor) -> list[ci.Cursor]:
        """The returned expressions of definition D (its locals' assignments are noted on the way)."""
        key = d.hash
        if key not in self.returns:
            rets = self.returns[key] = []
            for c in d.walk_preorder():
                if c.kind == K.RETURN_STMT:
                    kids = _expr_children(c)
                    if kids:
                        rets.append(kids[0])
                else:
                    _note(self, c)
        return self.returns[key]

    def through_macro(self, c: ci.Cursor, m: tuple[int, str], form: str) -> Obj | None:
        """A per-CPU accessor or pointer passthrough macro (this_cpu_ptr, per_cpu, READ_ONCE) that produced
        C: what its argument denotes. None when C comes from another macro."""
        start, name = m
        if name in PERCPU_ACCESSORS:
            idx, aform = PERCPU_ACCESSORS[name]
        elif name in PASSTHROUGH_MACROS:
            idx, aform = PASSTHROUGH_MACROS[name], form
        else:
            return None
        args = self.macro_args(start)
        if idx >= len(args):
            return None
        arg = self.find_expr([c], *args[idx])
        if arg is None:
            return None
        o = self.ptr(arg) if aform == "pointer" else self.lv(arg)
        if name in PERCPU_ACCESSORS:
            if o.kind == "global":
                o = replace(o, kind="percpu")
            if aform == "lvalue" and form == "pointer":   # per_cpu(ptr_var, cpu): the variable is a pointer
                return _unknown(f"lock pointed to by per-CPU pointer {o.symbol or '?'}", o.type)
        return replace(o, reason=_join(o.reason, f"through {name}()"))

    def combine(self, objs: list[Obj]) -> Obj:
        first = objs[0]
        if all((o.kind, o.struct, o.path, o.symbol) == (first.kind, first.struct, first.path, first.symbol)
               for o in objs) and first.kind != "unknown":
            return replace(first, reason=_join(first.reason, "both branches of ?:"))
        return _unknown("conditional: " + " | ".join(_label(o) for o in objs))

    def describe(self, c: ci.Cursor) -> str:
        m = self.macro_at(c)
        if m is not None:
            return f"macro {m[1]}()"
        if c.kind == K.CALL_EXPR:
            return f"call {c.spelling or '(indirect)'}() returning {c.type.spelling}"
        return f"{c.kind.name.lower()} of type {c.type.spelling}"


def _is_null(c: ci.Cursor) -> bool:
    """A null pointer constant (NULL, 0)."""
    c = _strip(c)
    return c.kind == K.INTEGER_LITERAL


def _ident(o: Obj) -> tuple:
    return (o.kind, o.struct, o.path, o.symbol, o.is_pointer)


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def _label(o: Obj) -> str:
    if o.kind in ("field", "instance"):
        return f"{o.struct}.{'.'.join(o.path)}" if o.path else f"some {o.struct}"
    if o.kind in ("global", "percpu"):
        return o.symbol + ("." + ".".join(o.path) if o.path else "") if o.symbol else "?"
    if o.kind in ("param", "local"):
        return f"{o.kind} {o.symbol}"
    return "unknown"


def _final(o: Obj, lock_type: str | None) -> tuple:
    """(lock_type, object_kind, struct_name, field_path, symbol, is_pointer, reason) of a site."""
    if o.kind == "instance":
        if o.path:
            o = replace(o, kind="field")
        else:
            return (lock_type or o.type, "unknown", None, None, None, False,
                    f"some {o.struct} object: {o.reason}")
    path = ".".join(o.path) or None
    if o.kind == "field":
        return (lock_type or o.type, "field", o.struct, path, None, o.is_pointer, o.reason)
    if o.kind in ("global", "percpu"):
        return (lock_type or o.type, o.kind, o.struct if path else None, path, o.symbol, o.is_pointer,
                o.reason)
    if o.kind in ("param", "local"):
        return (lock_type or o.type, o.kind, None, None, o.symbol, False, o.reason)
    return (lock_type or o.type, "unknown", None, None, None, False, o.reason or "not resolved")


# ---------------------------------------------------------------------------------------------------
# The file
# ---------------------------------------------------------------------------------------------------

_INDEX: ci.Index | None = None


def file_sites(path: str, args: list[str] | tuple[str, ...]) -> FileSites:
    """Parse PATH with ARGS and return its lock primitive calls, resolved (see the module docstring).

    Raises OSError when the file cannot be read and ci.TranslationUnitLoadError when libclang fails.
    """
    global _INDEX
    t0 = time.perf_counter()
    with open(path, "rb") as fh:
        data = fh.read()
    if _INDEX is None:
        _INDEX = ci.Index.create()
    tu = _INDEX.parse(path, args=list(args), options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
    out = FileSites()
    for d in tu.diagnostics:
        if d.severity >= ci.Diagnostic.Error:
            out.errors += 1
            if out.first_error is None:
                loc = d.location
                where = f"{os.path.basename(loc.file.name)}:{loc.line}: " if loc.file else ""
                out.first_error = f"{where}{d.spelling}"
    out.includes = sorted({inc.include.name for inc in tu.get_includes()})
    u = _Unit(tu, path, data)
    u.main = _file_ptr(tu.get_file(path))
    functions = []
    for c in tu.cursor.get_children():
        kind = c.kind
        if kind != K.MACRO_INSTANTIATION and kind != K.FUNCTION_DECL:   # definitions, includes, decls
            continue
        f, _, _, off = _file_loc(c.location)
        if f != u.main:
            continue
        if kind == K.MACRO_INSTANTIATION:
            r = u.frange(c)
            if r is not None:
                u.macros[r[0]] = (c.spelling, r[1])
        elif c.is_definition():
            functions.append(c)
    for fn in functions:
        out.sites.extend(_function_sites(u, fn))
    out.seconds = time.perf_counter() - t0
    return out


def _file_ptr(f: ci.File) -> int:
    """The CXFile pointer of a clang File (what _file_loc returns for locations in it)."""
    return ctypes.cast(f.from_param(), ctypes.c_void_p).value


def _function_sites(u: _Unit, fn: ci.Cursor) -> list[Site]:
    calls: list[tuple[ci.Cursor, str, int | None]] = []   # (call, name, macro start)
    by_macro: dict[int, list[ci.Cursor]] = {}
    noted = fn.hash in u.returns   # walked already as a callee of an earlier function: values are known
    rets = u.returns.setdefault(fn.hash, [])
    for c in fn.walk_preorder():
        k = c.kind
        if k == K.CALL_EXPR:
            f, _, _, off = _file_loc(c.location)
            if f != u.main:
                continue
            if off in u.macros:
                name = u.macros[off][0]
                if name in PRIMITIVES:
                    if off not in by_macro:
                        by_macro[off] = []
                        calls.append((c, name, off))
                    by_macro[off].append(c)
                continue
            ref = c.referenced
            if ref is not None and ref.kind == K.FUNCTION_DECL and ref.spelling in PRIMITIVES:
                calls.append((c, ref.spelling, None))
        elif noted:
            continue
        elif k == K.RETURN_STMT:
            kids = _expr_children(c)
            if kids:
                rets.append(kids[0])
        else:
            _note(u, c)
    sites = []
    for call, name, mstart in calls:
        sites.append(_site(u, fn.spelling, call, name, mstart, by_macro.get(mstart, [])))
    return sites


def _local_decl(c: ci.Cursor) -> ci.Cursor | None:
    c = _strip(c)
    if c.kind != K.DECL_REF_EXPR:
        return None
    d = c.referenced
    if d is None or d.kind != K.VAR_DECL or d.semantic_parent is None \
            or d.semantic_parent.kind == K.TRANSLATION_UNIT:
        return None
    return d


def _note(u: _Unit, c: ci.Cursor) -> None:
    """Record a local pointer's initializer, `local = value`, and the uses that make a local's value
    unknowable (&local, local++, +=)."""
    k = c.kind
    if k == K.VAR_DECL:
        kids = _expr_children(c)
        if kids and _is_pointer(c.type):
            u.values.setdefault(c.hash, []).append(kids[-1])
        return
    if k not in (K.BINARY_OPERATOR, K.COMPOUND_ASSIGNMENT_OPERATOR, K.UNARY_OPERATOR):
        return
    kids = _expr_children(c)
    if not kids:
        return
    d = _local_decl(kids[0])
    if d is None:
        return
    if c.kind == K.BINARY_OPERATOR:
        if _binary_op(c) == "=" and len(kids) == 2:
            u.values.setdefault(d.hash, []).append(kids[1])
    elif c.kind == K.COMPOUND_ASSIGNMENT_OPERATOR:
        u.escaped.add(d.hash)
    elif _unary_op(c) in ("&", "++", "--"):
        u.escaped.add(d.hash)


def _site(u: _Unit, function: str, call: ci.Cursor, name: str, mstart: int | None,
          expansion: list[ci.Cursor]) -> Site:
    prim = PRIMITIVES[name]
    _, line, col, _ = _file_loc(call.location)
    idx = prim.arg_index
    arg = None
    arg_text = ""
    why = None
    if mstart is not None:
        args = u.macro_args(mstart)
        if idx < len(args):
            a, b = args[idx]
            arg_text = u.text(a, b)
            arg = u.find_expr(expansion, a, b)
            if arg is None:
                why = f"argument {arg_text!r} of {name}() not found in its expansion"
        else:
            why = f"{name}() has no argument {idx + 1} here"
    else:
        cargs = list(call.get_arguments())
        if idx < len(cargs):
            arg = cargs[idx]
            r = u.frange(arg)
            arg_text = u.text(*r) if r is not None else " ".join(t.spelling for t in arg.get_tokens())
        else:
            why = f"{name}() called with {len(cargs)} arguments"
    if arg is None:
        obj, lock_type = _unknown(why or "no lock argument"), None
    elif prim.arg_form == "lvalue":
        obj, lock_type = u.lv(arg), _strip(arg).type.spelling
    else:
        p = _pointee(_strip(arg).type)
        obj, lock_type = u.ptr(arg), (p.spelling if p is not None else None)
        if prim.arg_form.startswith("member:") and obj.kind in ("field", "global", "percpu", "instance"):
            # the lock is a member of what the argument points to (lockref_put_or_lock: lockref.lock)
            obj, lock_type = replace(obj, path=(*obj.path, prim.arg_form[7:]), type=None), None
    if lock_type in ("void",):
        lock_type = None
    if mstart is not None:
        _, line, col, _ = _file_loc(call.location)
    fields = _final(obj, lock_type)
    return Site(line, col - 1, function, name, mstart is not None, arg_text, *fields)
