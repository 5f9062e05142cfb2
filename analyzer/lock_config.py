"""Which #if branch a source line sits in, and whether the configuration LIMA models builds it.

The index holds every definition of the tree, whatever its #if; where one name has several definitions
(`#ifdef CONFIG_PREEMPTION` one `_double_lock_balance`, `#else` another; the `!CONFIG_SMP` inline
`double_rq_lock` of kernel/sched/sched.h beside the SMP one of kernel/sched/core.c), the lock pass must
pick the one a kernel runs. The rule, simple and conservative: a definition whose enclosing #if
conditions are false under the x86-64 configuration of lock_catalogue (CONFIG_Y / CONFIG_N / CONFIG_M,
Debian's amd64 config) is used only when no other definition is there. A condition that names anything
else (a symbol the table lacks, an include guard, `BITS_PER_LONG == 64`) is unknown and rules nothing
out; the earlier rules (same file first, then the first definition) choose between the rest. The lock
debugging symbols (CONFIG_LOCK_DEBUG: LOCKDEP, DEBUG_LOCK_ALLOC, DEBUG_SPINLOCK, ...) are unknown on
purpose: the lockdep class names the index gives exist only in a kernel built with them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

from .lock_catalogue import CONFIG_M, CONFIG_N, CONFIG_Y

__all__ = ["BuildFilter", "branch_values", "eval_condition"]

Tri = bool | None   # True, False, or unknown

_DIRECTIVE = re.compile(r"\s*#\s*(if|ifdef|ifndef|elif|else|endif)\b(.*)")
_TOKEN = re.compile(r"\s*(\|\||&&|==|!=|<=|>=|[!()<>]|[A-Za-z_]\w*|\d\w*|\S)")


def _not(a: Tri) -> Tri:
    return None if a is None else not a


def _and(a: Tri, b: Tri) -> Tri:
    if a is False or b is False:
        return False
    return True if a is True and b is True else None


def _or(a: Tri, b: Tri) -> Tri:
    if a is True or b is True:
        return True
    return False if a is False and b is False else None


def _defined(name: str) -> Tri:
    """`defined(NAME)` under the configuration (CONFIG_X_MODULE is defined for an m symbol)."""
    if not name.startswith("CONFIG_"):
        return None
    sym = name[7:]
    if sym in CONFIG_Y:
        return True
    if sym in CONFIG_N or sym in CONFIG_M:
        return False
    if sym.endswith("_MODULE"):
        base = sym[:-7]
        if base in CONFIG_M:
            return True
        if base in CONFIG_Y or base in CONFIG_N:
            return False
    return None


_IS = {"IS_ENABLED": (True, True), "IS_REACHABLE": (True, True), "IS_BUILTIN": (True, False),
       "IS_MODULE": (False, True)}   # macro -> (value for y, value for m)


class _Parser:
    """Three-valued evaluation of an #if expression: || && ! ( ) defined IS_ENABLED, 0 and 1."""

    def __init__(self, text: str):
        self.toks = [m.group(1) for m in _TOKEN.finditer(text)]
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> str | None:
        t = self.peek()
        self.i += 1
        return t

    def expr(self) -> Tri:
        v = self.conj()
        while self.peek() == "||":
            self.take()
            v = _or(v, self.conj())
        return v

    def conj(self) -> Tri:
        v = self.cmp()
        while self.peek() == "&&":
            self.take()
            v = _and(v, self.cmp())
        return v

    def cmp(self) -> Tri:
        v = self.unary()
        while self.peek() in ("==", "!=", "<", ">", "<=", ">="):
            self.take()
            self.unary()
            v = None   # comparisons of numbers are not modelled
        return v

    def unary(self) -> Tri:
        t = self.take()
        if t is None:
            return None
        if t == "!":
            return _not(self.unary())
        if t == "(":
            v = self.expr()
            if self.peek() == ")":
                self.take()
            return v
        if t == "defined":
            paren = self.peek() == "("
            if paren:
                self.take()
            name = self.take() or ""
            if paren and self.peek() == ")":
                self.take()
            return _defined(name)
        if t in _IS and self.peek() == "(":
            self.take()
            name = self.take() or ""
            if self.peek() == ")":
                self.take()
            sym = name[7:] if name.startswith("CONFIG_") else None
            if sym in CONFIG_Y:
                return _IS[t][0]
            if sym in CONFIG_M:
                return _IS[t][1]
            return False if sym in CONFIG_N else None
        if t.isdigit():
            return t != "0"
        if t.startswith("CONFIG_"):
            return _defined(t)   # a bare symbol is 1 when set to y, undefined (0) when not or m
        return None


def eval_condition(text: str) -> Tri:
    """Value of an #if expression under the configuration: True, False, or None when unknown."""
    text = re.sub(r"/\*.*?\*/|//.*", " ", text)
    p = _Parser(text)
    v = p.expr()
    return v if p.peek() is None else None


def branch_values(lines: list[str]) -> tuple[list[int], list[Tri]]:
    """For a file's lines, the points where the build value changes: (line numbers, value of the lines
    from that one on). A line is built when every enclosing branch is taken (False when one is not)."""
    starts: list[int] = [1]
    values: list[Tri] = [True]
    stack: list[tuple[Tri, Tri]] = []   # (this branch taken, some earlier branch of the #if taken)
    i = 0
    n = len(lines)
    while i < n:
        m = _DIRECTIVE.match(lines[i])
        i += 1
        if m is None:
            continue
        kind, rest = m.group(1), m.group(2)
        while rest.endswith("\\") and i < n:
            rest = rest[:-1] + " " + lines[i]
            i += 1
        if kind == "if":
            v = eval_condition(rest)
            stack.append((v, v))
        elif kind in ("ifdef", "ifndef"):
            name = rest.split()[0] if rest.split() else ""
            v = _defined(name)
            v = v if kind == "ifdef" else _not(v)
            stack.append((v, v))
        elif kind == "elif" and stack:
            _cur, taken = stack[-1]
            v = eval_condition(rest)
            stack[-1] = (_and(_not(taken), v), _or(taken, v))
        elif kind == "else" and stack:
            _cur, taken = stack[-1]
            stack[-1] = (_not(taken), True)
        elif kind == "endif" and stack:
            stack.pop()
        else:
            continue
        value: Tri = True
        for cur, _taken in stack:
            value = _and(value, cur)
        starts.append(i + 1)   # from the line after the directive and its continuation lines (1-based)
        values.append(value)
    return starts, values


class BuildFilter:
    """built(file_id, line): is that line compiled under the configuration (None: unknown)? Reads each
    file once, through lines_of(file_id)."""

    def __init__(self, lines_of: Callable[[int], list[str]]):
        self.lines_of = lines_of
        self._files: dict[int, tuple[list[int], list[Tri]]] = {}

    def built(self, file_id: int, line: int) -> Tri:
        got = self._files.get(file_id)
        if got is None:
            got = self._files[file_id] = branch_values(self.lines_of(file_id))
        starts, values = got
        return values[bisect.bisect_right(starts, line) - 1]
