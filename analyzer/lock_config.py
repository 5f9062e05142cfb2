"""Which #if branch a source line sits in, and whether the kernel configuration LIMA reads builds it.

The index holds every definition of the tree, whatever its #if; where one name has several definitions
(`#ifdef CONFIG_PREEMPTION` one `_double_lock_balance`, `#else` another; the `!CONFIG_SMP` inline
`double_rq_lock` of kernel/sched/sched.h beside the SMP one of kernel/sched/core.c), the lock pass must
pick the one a kernel runs. The rule, simple and conservative: a definition whose enclosing #if
conditions are false under the configuration is used only when no other definition is there.

The configuration (KernelConfig) is a kernel .config: the tree's own SRC/.config, a file given to
lima-index --kconfig, or else Debian's amd64 v6.1 one shipped as debian-6.1-amd64.config. As in the
autoconf.h a build generates, a CONFIG_ symbol it does not set to y or m is not defined. A condition
that names anything else (an include guard, `BITS_PER_LONG == 64`, MODULE) is unknown and rules nothing
out; the earlier rules (same file first, then the first definition) choose between the rest, and the
lock sites that depend on that choice say so (lock_pass.if_alternatives). The lock debugging symbols
(CONFIG_LOCK_DEBUG of lock_catalogue: LOCKDEP, DEBUG_LOCK_ALLOC, DEBUG_SPINLOCK, ...) are unknown unless
the configuration sets them: the lockdep class names the index gives exist only in a kernel built with
them.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .lock_catalogue import CONFIG_LOCK_DEBUG

__all__ = ["BuildFilter", "KernelConfig", "BadConfig", "branch_values", "eval_condition", "DEFAULT_CONFIG"]

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


class BadConfig(ValueError):
    """A --kconfig file that is not a kernel .config (message: file, line, what is wrong)."""


_CONFIG_LINE = re.compile(r"CONFIG_([A-Za-z0-9_]+)=(.*)")


@dataclass(frozen=True)
class KernelConfig:
    """The CONFIG_ symbols (without the prefix) a .config sets to y and to m; `source` says where from."""

    y: frozenset[str]
    m: frozenset[str]
    source: str
    digest: str

    @classmethod
    def parse(cls, text: str, source: str) -> KernelConfig:
        """A .config's text (CONFIG_X=y|m|"string"|number lines, comments, blank lines)."""
        y, m = set(), set()
        for no, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            got = _CONFIG_LINE.fullmatch(line)
            if got is None:
                raise BadConfig(f"{source}:{no}: not a kernel configuration line: {line[:60]!r}")
            if got.group(2) == "y":
                y.add(got.group(1))
            elif got.group(2) == "m":
                m.add(got.group(1))
        if not y:
            raise BadConfig(f"{source}: no CONFIG_...=y line: not a kernel .config")
        settings = "\n".join(sorted(y) + ["--"] + sorted(m))   # the digest ignores order and comments
        digest = hashlib.blake2b(settings.encode(), digest_size=8).hexdigest()
        return cls(frozenset(y), frozenset(m), source, digest)

    @classmethod
    def read(cls, path: Path) -> KernelConfig:
        """A .config file (BadConfig when it cannot be read or is not one)."""
        try:
            text = path.read_text("utf-8", "replace")
        except OSError as e:
            raise BadConfig(f"{path}: {e.strerror or e}") from None
        return cls.parse(text, str(path))

    def defined(self, name: str) -> Tri:
        """`defined(NAME)` under this configuration (CONFIG_X_MODULE is defined for an m symbol)."""
        if not name.startswith("CONFIG_"):
            return None
        sym = name[7:]
        if sym in self.y:
            return True
        if sym in self.m:
            return False
        if sym.endswith("_MODULE") and sym[:-7] in self.m:
            return True
        if sym in CONFIG_LOCK_DEBUG:
            return None
        return False

    def enabled(self, macro: str, name: str) -> Tri:
        """IS_ENABLED / IS_REACHABLE / IS_BUILTIN / IS_MODULE (macro) of CONFIG_ symbol name."""
        if not name.startswith("CONFIG_"):
            return None
        sym = name[7:]
        if sym in self.y:
            return _IS[macro][0]
        if sym in self.m:
            return _IS[macro][1]
        return None if sym in CONFIG_LOCK_DEBUG else False


def _builtin_config() -> KernelConfig:
    here = resources.files("lima.analyzer")
    return KernelConfig.parse(here.joinpath("debian-6.1-amd64.config").read_text(),
                              "Debian 6.1 amd64 (built in)")


_IS = {"IS_ENABLED": (True, True), "IS_REACHABLE": (True, True), "IS_BUILTIN": (True, False),
       "IS_MODULE": (False, True)}   # macro -> (value for y, value for m)

#: The configuration used when the tree has no .config and lima-index gets no --kconfig.
DEFAULT_CONFIG = _builtin_config()


class _Parser:
    """Three-valued evaluation of an #if expression: || && ! ( ) defined IS_ENABLED, 0 and 1."""

    def __init__(self, text: str, config: KernelConfig):
        self.toks = [m.group(1) for m in _TOKEN.finditer(text)]
        self.i = 0
        self.config = config

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
            return self.config.defined(name)
        if t in _IS and self.peek() == "(":
            self.take()
            name = self.take() or ""
            if self.peek() == ")":
                self.take()
            return self.config.enabled(t, name)
        if t.isdigit():
            return t != "0"
        if t.startswith("CONFIG_"):
            return self.config.defined(t)   # a bare symbol is 1 when set to y, undefined (0) when not or m
        return None


def eval_condition(text: str, config: KernelConfig = DEFAULT_CONFIG) -> Tri:
    """Value of an #if expression under the configuration: True, False, or None when unknown."""
    text = re.sub(r"/\*.*?\*/|//.*", " ", text)
    p = _Parser(text, config)
    v = p.expr()
    return v if p.peek() is None else None


def branch_values(lines: list[str], config: KernelConfig = DEFAULT_CONFIG) -> tuple[list[int], list[Tri]]:
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
            v = eval_condition(rest, config)
            stack.append((v, v))
        elif kind in ("ifdef", "ifndef"):
            name = rest.split()[0] if rest.split() else ""
            v = config.defined(name)
            v = v if kind == "ifdef" else _not(v)
            stack.append((v, v))
        elif kind == "elif" and stack:
            _cur, taken = stack[-1]
            v = eval_condition(rest, config)
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
    """built(file_id, line): is that line compiled under the configuration as far as its #if say (None:
    unknown)? Reads each file once, through lines_of(file_id). `unbuilt_files` maps the files the
    configuration does not compile at all (analyzer/kbuild.py: their makefile leaves them out) to the
    reason: site_built() says False for every line of theirs, while built() still tells their #if
    alternatives apart."""

    def __init__(self, lines_of: Callable[[int], list[str]], config: KernelConfig = DEFAULT_CONFIG,
                 unbuilt_files: dict[int, str] | None = None):
        self.lines_of = lines_of
        self.config = config
        self.unbuilt_files = unbuilt_files or {}
        self._files: dict[int, tuple[list[int], list[Tri]]] = {}

    def built(self, file_id: int, line: int) -> Tri:
        got = self._files.get(file_id)
        if got is None:
            got = self._files[file_id] = branch_values(self.lines_of(file_id), self.config)
        starts, values = got
        return values[bisect.bisect_right(starts, line) - 1]

    def file_unbuilt(self, file_id: int) -> bool:
        """The file's makefile leaves it out of this configuration."""
        return file_id in self.unbuilt_files

    def site_built(self, file_id: int, line: int) -> Tri:
        """built(), and False in a file the configuration does not compile."""
        return False if file_id in self.unbuilt_files else self.built(file_id, line)
