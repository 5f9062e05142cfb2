"""Which .c files of a Linux tree the kernel configuration compiles, read from the tree's Kbuild makefiles.

The #if reader (lock_config) knows which lines of a file a configuration builds; this module knows which
files. It walks the kernel build as kbuild does: from the root `Kbuild` (its `obj-y += kernel/ mm/ ...`
and the arch Makefile's `core-y`, `libs-y`, `drivers-y`, which the root Makefile hands it as ARCH_CORE,
ARCH_LIB, ARCH_DRIVERS) down every directory an `obj-y`/`obj-m` list names, and in each directory's
`Kbuild` (else `Makefile`) reads the objects of `obj-y`, `obj-m`, `lib-y` and `extra-y`, the parts of
composite objects (`foo-y`, `foo-objs`, `foo-m`), and the `#include "x.c"` of every compiled file. It
evaluates the part of make that these lists use: assignments (`:=`, `=`, `+=`, `?=`), `ifdef`/`ifeq`
and their `else`, `include`, variables and `$(CONFIG_X)` (y, m or empty by the configuration), and the
text functions subst, patsubst, addprefix, addsuffix, filter, filter-out, if, or, and, strip, sort,
notdir, dir, basename, firstword, findstring and foreach. A value that needs anything else (`$(shell)`,
`$(call)`, `$(wildcard)`) is unknown, and so is a condition that names one: both branches count, which
can only make more files built.

Each .c file gets a verdict: built (True), not built (False) with the makefile line that leaves it out
(`obj-$(CONFIG_FOO) += foo/` with CONFIG_FOO not set), or unknown (None) where a list of its directory
could not be read. Files outside the kernel build (tools/, scripts/, arch/<other>/) are not built.
Headers get no verdict: they are compiled where they are included.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .lock_catalogue import CONFIG_LOCK_DEBUG
from .lock_config import KernelConfig, branch_values

__all__ = ["Verdict", "kbuild_verdicts", "config_arch", "makefiles_digest"]

# The arch/ folder a configuration builds: the first of these Kconfig symbols it sets.
ARCH_SYMBOLS = (("X86", "x86"), ("ARM64", "arm64"), ("ARM", "arm"), ("RISCV", "riscv"), ("PPC", "powerpc"),
                ("S390", "s390"), ("MIPS", "mips"), ("LOONGARCH", "loongarch"), ("SPARC", "sparc"),
                ("PARISC", "parisc"), ("ALPHA", "alpha"), ("IA64", "ia64"), ("M68K", "m68k"),
                ("SUPERH", "sh"), ("XTENSA", "xtensa"), ("UML", "um"), ("MICROBLAZE", "microblaze"),
                ("NIOS2", "nios2"), ("OPENRISC", "openrisc"), ("ARC", "arc"), ("CSKY", "csky"),
                ("HEXAGON", "hexagon"))

# Lists whose objects kbuild compiles into the kernel or a module (scripts/Makefile.build of v6.1).
_OBJECT_LISTS = ("obj-y", "obj-m", "lib-y", "extra-y")
# The parts of a composite object foo.o (scripts/Makefile.lib: multi-search over -objs -y -m).
_PART_SUFFIXES = ("-objs", "-y", "-m")
# a variable reference in a name, one level of nesting: $(CONFIG_FCOE:m=y), $(subst m,y,$(CONFIG_HYPERV))
_REF = r"\$[({](?:[^(){}]|\$[({][^(){}]*[)}])*[)}]"
_ASSIGN = re.compile(rf"\s*(?:export\s+|override\s+)*((?:{_REF}|[^:#=\s$])(?:{_REF}|[^:#=$])*?)\s*"
                     r"(::=|:=|\+=|\?=|!=|=)\s*(.*)\Z", re.S)
# a rule naming the source of an object: $(obj)/relo_core.o: $(srctree)/tools/lib/bpf/relo_core.c FORCE
_RULE = re.compile(rf"((?:{_REF}|[^:#=\s$])+\.o)\s*:(?!=)\s*(.*)\Z", re.S)
_CONDITIONAL = re.compile(r"\s*(ifeq|ifneq|ifdef|ifndef)\b\s*(.*)\Z", re.S)
_INCLUDE = re.compile(r"\s*(-?include|sinclude)\s+(.+)\Z", re.S)
_C_INCLUDE = re.compile(rb'^[ \t]*#[ \t]*include[ \t]*"([^"\n]+\.c)"', re.M)


@dataclass(frozen=True)
class Verdict:
    """Whether the configuration compiles a file (None: unknown) and the makefile line that says so."""

    built: bool | None
    reason: str


class _Unknown(Exception):
    """A make construct this reader does not evaluate ($(shell ...), $(call ...), ...)."""


@dataclass
class _Chunk:
    """One assignment's right-hand side, with where it was written."""

    text: str
    op: str          # the assignment operator; ':=' chunks are already expanded
    where: str       # makefile:line
    lhs: str         # the left-hand side as written (obj-$(CONFIG_FOO))


class _Makefile:
    """The variables of one directory's makefile (and the makefiles it includes), evaluated lazily."""

    def __init__(self, reader: _Reader, directory: str, config: KernelConfig, arch: str) -> None:
        self.reader = reader
        self.dir = directory
        self.config = config
        self.builtins = {"obj": directory, "src": directory, "srctree": ".", "objtree": ".",
                         "SRCARCH": arch, "ARCH": arch, "BITS": "64" if "64BIT" in config.y else "32"}
        self.vars: dict[str, list[_Chunk]] = {}
        self.unknown: list[str] = []     # makefile:line of lines that could not be read
        self._seen: set[str] = set()

    # -- reading -----------------------------------------------------------------------------------

    def read(self, path: str) -> None:
        """Read one makefile (relative to the tree root), following its includes."""
        if path in self._seen:
            return
        self._seen.add(path)
        self.reader.makefiles.add(path)
        try:
            text = (self.reader.root / path).read_text("utf-8", "replace")
        except OSError:
            return
        stack: list[tuple[bool | None, bool | None]] = []   # per open conditional: (this branch, one taken)
        in_rule = False   # a tab-indented line after a rule is its recipe; elsewhere an ordinary line
        for no, line in _logical_lines(text):
            if line.startswith("\t") and in_rule:
                continue
            line = _strip_comment(line)
            if not line.strip():
                continue
            in_rule = False
            word = line.split(None, 1)[0]
            if word == "endif":
                if stack:
                    stack.pop()
                continue
            if word == "else":
                if stack:
                    rest = line.strip()[4:].strip()
                    m = _CONDITIONAL.match(rest) if rest else None
                    stack[-1] = _else(stack[-1], self._condition(m.group(1), m.group(2)) if m else True)
                continue
            m = _CONDITIONAL.match(line)
            if m:
                value = self._condition(m.group(1), m.group(2))
                stack.append((value, value))
                continue
            if any(top[0] is False for top in stack):
                continue
            where = f"{path}:{no}"
            m = _INCLUDE.match(line)
            if m:
                try:
                    for inc in self.expand(m.group(2)).split():
                        self.read(os.path.normpath(inc))
                except _Unknown as e:
                    self.unknown.append(f"{where}: {e}")
                continue
            m = _ASSIGN.match(line)
            if m is None:
                in_rule = ":" in line
                if in_rule:
                    self._rule(line)
                continue
            lhs_raw, op, rhs = m.groups()
            try:
                lhs = self.expand(lhs_raw).strip()
            except _Unknown as e:
                # obj-$(CONFIG_DEBUG_MUTEXES) += mutex-debug.o: what it names may be built
                why = f"{where}: {lhs_raw}: {e}"
                try:
                    for w in self.expand(rhs).split():
                        self.reader.maybe(self.dir, w, why)
                except _Unknown:
                    self.unknown.append(why)
                continue
            if op in (":=", "::="):
                try:
                    self.vars[lhs] = [_Chunk(self.expand(rhs), ":=", where, lhs_raw)]
                except _Unknown:
                    self.vars[lhs] = [_Chunk(rhs, "?", where, lhs_raw)]
            elif op == "=":
                self.vars[lhs] = [_Chunk(rhs, "=", where, lhs_raw)]
            elif op == "?=":
                self.vars.setdefault(lhs, [_Chunk(rhs, "=", where, lhs_raw)])
            elif op == "+=":
                self.vars.setdefault(lhs, []).append(_Chunk(rhs, "=", where, lhs_raw))
            # != runs a shell command: its variable stays unset

    def _rule(self, line: str) -> None:
        """Remember the .c prerequisites of an object's rule (a source outside the object's folder)."""
        m = _RULE.match(line.strip())
        if m is None:
            return
        try:
            target = os.path.normpath(self.expand(m.group(1)).strip())
            sources = [os.path.normpath(w) for w in self.expand(m.group(2)).split() if w.endswith(".c")]
        except _Unknown:
            return
        if sources:
            self.reader.rule_sources[target] = sources

    def _condition(self, kind: str, args: str) -> bool | None:
        try:
            if kind in ("ifdef", "ifndef"):
                name = self.expand(args).strip()
                value = bool(self.value(name).strip())
                return value if kind == "ifdef" else not value
            a, b = _condition_args(args)
            same = self.expand(a).strip() == self.expand(b).strip()
            return same if kind == "ifeq" else not same
        except _Unknown:
            return None

    # -- values ------------------------------------------------------------------------------------

    def value(self, name: str) -> str:
        """A variable's value, expanded (raises _Unknown)."""
        if name.startswith("CONFIG_"):
            sym = name[7:]
            if sym in self.config.y:
                return "y"
            if sym in self.config.m:
                return "m"
            if sym in CONFIG_LOCK_DEBUG:   # left open, as by the #if reader (lock_config)
                raise _Unknown(f"{name} is a lock-debugging option, left open")
            return ""
        if name in self.vars:
            return " ".join(self.expand_chunk(c) for c in self.vars[name])
        return self.builtins.get(name, "")

    def expand_chunk(self, c: _Chunk) -> str:
        if c.op == ":=":
            return c.text
        if c.op == "?":
            raise _Unknown(c.text)
        return self.expand(c.text)

    def words_of(self, name: str) -> tuple[list[tuple[str, _Chunk]], list[str]]:
        """(word, chunk it came from) of a list variable, and makefile:line of the chunks not readable."""
        out: list[tuple[str, _Chunk]] = []
        bad: list[str] = []
        for c in self.vars.get(name, ()):
            try:
                out += [(w, c) for w in self.expand_chunk(c).split()]
            except _Unknown as e:
                bad.append(f"{c.where}: {c.lhs}: {e}")
        return out, bad

    def expand(self, text: str, depth: int = 0) -> str:
        """Make's expansion of text (raises _Unknown on what this reader does not evaluate)."""
        if "$" not in text:
            return text
        if depth > 30:
            raise _Unknown("recursion")
        out: list[str] = []
        i = 0
        n = len(text)
        while i < n:
            k = text.find("$", i)
            if k < 0 or k + 1 >= n:
                out.append(text[i:])
                break
            out.append(text[i:k])
            c = text[k + 1]
            if c == "$":
                out.append("$")
                i = k + 2
            elif c in "({":
                close = _matching(text, k + 1)
                if close < 0:
                    raise _Unknown(text)
                out.append(self._reference(text[k + 2:close], depth))
                i = close + 1
            else:
                out.append(self.value(c))
                i = k + 2
        return "".join(out)

    def _reference(self, inner: str, depth: int) -> str:
        m = re.match(r"([a-z-]+)[ \t]+(.*)\Z", inner, re.S)
        if m and m.group(1) in _FUNCTIONS:
            return _FUNCTIONS[m.group(1)](self, m.group(2), depth + 1)
        if m:
            raise _Unknown(f"$({m.group(1)} ...) is not evaluated")   # shell, call, wildcard, eval, ...
        if ":" in inner and "=" in inner.split(":", 1)[1]:   # $(var:.o=.c) substitution reference
            name, pattern = inner.split(":", 1)
            frm, to = pattern.split("=", 1)
            words = self.expand(self.value(self.expand(name, depth + 1).strip()), depth + 1).split()
            frm, to = (frm, to) if "%" in frm else ("%" + frm, "%" + to)
            return " ".join(_patsubst_word(frm, to, w) for w in words)
        return self.expand(self.value(self.expand(inner, depth + 1).strip()), depth + 1)

    def args(self, text: str, count: int, depth: int) -> list[str]:
        """A function's arguments split at the top-level commas (the last takes the rest), expanded."""
        return [self.expand(a, depth) for a in _split_args(text, count)]


def _else(top: tuple[bool | None, bool | None], value: bool | None) -> tuple[bool | None, bool | None]:
    """The (branch value, some branch taken) of an `else` (value True) or `else ifeq ...` after `top`;
    None is unknown: a branch that may or may not be taken counts as taken for what it assigns."""
    _branch, taken = top
    if taken is True:
        return False, True
    if taken is False:
        return value, value
    return (False if value is False else None), (True if value is True else None)


def _patsubst_word(frm: str, to: str, word: str) -> str:
    head, _, tail = frm.partition("%")
    if "%" not in frm:
        return to if word == frm else word
    if word.startswith(head) and word.endswith(tail) and len(word) >= len(head) + len(tail):
        stem = word[len(head):len(word) - len(tail)]
        return to.replace("%", stem, 1) if "%" in to else to
    return word


def _pattern_match(pattern: str, word: str) -> bool:
    if "%" not in pattern:
        return word == pattern
    head, _, tail = pattern.partition("%")
    return word.startswith(head) and word.endswith(tail) and len(word) >= len(head) + len(tail)


def _fn_subst(mk: _Makefile, text: str, depth: int) -> str:
    frm, to, s = mk.args(text, 3, depth)
    return s.replace(frm, to) if frm else s


def _fn_patsubst(mk: _Makefile, text: str, depth: int) -> str:
    frm, to, s = mk.args(text, 3, depth)
    return " ".join(_patsubst_word(frm.strip(), to.strip(), w) for w in s.split())


def _fn_addprefix(mk: _Makefile, text: str, depth: int) -> str:
    pre, s = mk.args(text, 2, depth)
    return " ".join(pre.strip() + w for w in s.split())


def _fn_addsuffix(mk: _Makefile, text: str, depth: int) -> str:
    suf, s = mk.args(text, 2, depth)
    return " ".join(w + suf.strip() for w in s.split())


def _fn_filter(mk: _Makefile, text: str, depth: int, keep: bool = True) -> str:
    pats, s = mk.args(text, 2, depth)
    pl = pats.split()
    return " ".join(w for w in s.split() if any(_pattern_match(p, w) for p in pl) == keep)


def _fn_filter_out(mk: _Makefile, text: str, depth: int) -> str:
    return _fn_filter(mk, text, depth, keep=False)


def _fn_if(mk: _Makefile, text: str, depth: int) -> str:
    parts = _split_args(text, 3)
    cond = mk.expand(parts[0], depth).strip()
    if cond:
        return mk.expand(parts[1], depth) if len(parts) > 1 else ""
    return mk.expand(parts[2], depth) if len(parts) > 2 else ""


def _fn_or(mk: _Makefile, text: str, depth: int) -> str:
    for part in _split_args(text, 0):
        v = mk.expand(part, depth).strip()
        if v:
            return v
    return ""


def _fn_and(mk: _Makefile, text: str, depth: int) -> str:
    v = ""
    for part in _split_args(text, 0):
        v = mk.expand(part, depth).strip()
        if not v:
            return ""
    return v


def _fn_foreach(mk: _Makefile, text: str, depth: int) -> str:
    var, lst, body = _split_args(text, 3)
    name = mk.expand(var, depth).strip()
    saved = mk.vars.get(name)
    out = []
    try:
        for w in mk.expand(lst, depth).split():
            mk.vars[name] = [_Chunk(w, ":=", "", name)]
            out.append(mk.expand(body, depth))
    finally:
        if saved is None:
            mk.vars.pop(name, None)
        else:
            mk.vars[name] = saved
    return " ".join(out)


def _fn_words(fn):
    def run(mk: _Makefile, text: str, depth: int) -> str:
        return fn(mk.expand(text, depth).split())
    return run


def _fn_findstring(mk: _Makefile, text: str, depth: int) -> str:
    find, s = mk.args(text, 2, depth)
    return find if find in s else ""


_FUNCTIONS = {
    "subst": _fn_subst, "patsubst": _fn_patsubst, "addprefix": _fn_addprefix, "addsuffix": _fn_addsuffix,
    "filter": _fn_filter, "filter-out": _fn_filter_out, "if": _fn_if, "or": _fn_or, "and": _fn_and,
    "foreach": _fn_foreach, "findstring": _fn_findstring,
    "strip": _fn_words(lambda ws: " ".join(ws)),
    "sort": _fn_words(lambda ws: " ".join(sorted(set(ws)))),
    "notdir": _fn_words(lambda ws: " ".join(w.rsplit("/", 1)[-1] for w in ws)),
    "dir": _fn_words(lambda ws: " ".join(w.rsplit("/", 1)[0] + "/" if "/" in w else "./" for w in ws)),
    "basename": _fn_words(lambda ws: " ".join(os.path.splitext(w)[0] for w in ws)),
    "firstword": _fn_words(lambda ws: ws[0] if ws else ""),
}


def _matching(text: str, open_at: int) -> int:
    opener = text[open_at]
    closer = ")" if opener == "(" else "}"
    depth = 0
    for i in range(open_at, len(text)):
        c = text[i]
        if c == opener:
            depth += 1
        elif c == closer:
            depth -= 1
            if depth == 0:
                return i
    return -1


def _split_args(text: str, count: int) -> list[str]:
    """Split at top-level commas; with count > 0, into at most count parts."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, c in enumerate(text):
        if c in "({":
            depth += 1
        elif c in ")}":
            depth -= 1
        elif c == "," and depth == 0 and (count <= 0 or len(parts) < count - 1):
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _condition_args(args: str) -> tuple[str, str]:
    args = args.strip()
    if args.startswith("("):
        close = _matching(args, 0)
        a, b = (_split_args(args[1:close], 2) + [""])[:2]
        return a, b
    m = re.match(r"""(["'])(.*?)\1\s*(["'])(.*?)\3""", args)
    if m:
        return m.group(2), m.group(4)
    raise _Unknown(args)


def _logical_lines(text: str):
    """(first line number, line) with backslash-newline continuations joined."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        no = i + 1
        line = lines[i]
        while line.endswith("\\") and i + 1 < len(lines):
            i += 1
            line = line[:-1] + " " + lines[i]
        yield no, line
        i += 1


def _strip_comment(line: str) -> str:
    k = line.find("#")
    while k >= 0:
        if k == 0 or line[k - 1] != "\\":
            return line[:k]
        k = line.find("#", k + 1)
    return line


class _Reader:
    def __init__(self, root: Path, config: KernelConfig, arch: str) -> None:
        self.root = root
        self.config = config
        self.arch = arch
        self.built: dict[str, str] = {}          # .c path -> makefile:line that compiles it
        self.excluded: dict[str, str] = {}       # path (.c or dir/) -> why not built
        self.reached: set[str] = set()           # directories whose makefile was read
        self.unknown_dirs: dict[str, str] = {}   # directory -> makefile:line not readable
        self.rule_sources: dict[str, list[str]] = {}   # object path -> .c sources its own rule names
        self.maybe_built: dict[str, str] = {}    # path (.c or dir/) -> the line that may build it
        self.makefiles: set[str] = set()         # every makefile read
        self._passed: set[str] | None = None
        self._makefile_of: dict[str, str | None] = {}

    def passed(self) -> set[str]:
        """The folders above a folder kbuild enters (arch/ for arch/x86/), computed once."""
        if self._passed is None:
            self._passed = {os.path.dirname(d) for d in self.reached}
            for d in list(self._passed):
                while d:
                    d = os.path.dirname(d)
                    self._passed.add(d)
        return self._passed

    def makefile_of(self, d: str) -> str | None:
        """The makefile kbuild reads in folder d (Kbuild before Makefile), looked up once per folder: the
        verdicts ask it for every file of a folder."""
        if d not in self._makefile_of:
            self._makefile_of[d] = next((p for p in (f"{d}/{name}" if d else name
                                                     for name in ("Kbuild", "Makefile"))
                                         if (self.root / p).is_file()), None)
        return self._makefile_of[d]

    def walk(self) -> None:
        arch_mk = _Makefile(self, f"arch/{self.arch}", self.config, self.arch)
        arch_mk.read(f"arch/{self.arch}/Makefile")
        top = _Makefile(self, "", self.config, self.arch)

        def arch_list(names: tuple[str, ...], dirs_only: bool) -> str:
            words = []
            for name in names:
                got, _bad = arch_mk.words_of(name)
                words += [w for w, _c in got if not dirs_only or w.endswith("/")]
            return " ".join(words)

        # the root Makefile's exports to the root Kbuild (v6.1 Makefile: ARCH_CORE, ARCH_LIB, ARCH_DRIVERS)
        top.builtins.update({"ARCH_CORE": arch_list(("core-y",), False),
                             "ARCH_LIB": "lib/ " + arch_list(("libs-y",), True),
                             "ARCH_DRIVERS": arch_list(("drivers-y", "drivers-m"), False)})
        self.directory("", top)

    def directory(self, d: str, mk: _Makefile | None = None) -> None:
        if d in self.reached:
            return
        self.reached.add(d)
        path = self.makefile_of(d)
        if path is None:
            return
        mk = mk or _Makefile(self, d, self.config, self.arch)
        mk.read(path)
        if mk.unknown:
            self.unknown_dirs[d] = mk.unknown[0]
        # obj-$(CONFIG_FOO) with FOO not set reads as obj- (obj-n): what it names is not built
        for name in ("obj-", "obj-n", "lib-", "lib-n"):
            words, _bad = mk.words_of(name)
            for w, c in words:
                self._exclude(mk, d, w, c)
        subdirs: list[str] = []
        for name in _OBJECT_LISTS:
            words, bad = mk.words_of(name)
            if bad:
                self.unknown_dirs.setdefault(d, bad[0])
            for w, c in words:
                if w.endswith("/"):
                    subdirs.append(_join(d, w[:-1]))
                elif w.endswith(".o"):
                    self._object(mk, d, w, c, name)
        for sub in subdirs:
            self.directory(sub)

    def _object(self, mk: _Makefile, d: str, w: str, c: _Chunk, listname: str) -> None:
        base = w[:-2]
        parts: list[tuple[str, _Chunk]] = []
        for suffix in _PART_SUFFIXES:
            if suffix == "-m" and listname != "obj-m":
                continue
            got, bad = mk.words_of(base + suffix)
            if bad:
                self.unknown_dirs.setdefault(d, bad[0])
            parts += got
        for key in (base + "-", base + "-n"):
            got, _bad = mk.words_of(key)
            for pw, pc in got:
                self._exclude(mk, d, pw, pc)
        if not parts:
            self._compiled(_join(d, base + ".c"), c, listname)
            return
        for pw, pc in parts:
            if pw.endswith(".o"):
                self._compiled(_join(d, pw[:-2] + ".c"), pc, listname)

    def _compiled(self, path: str, c: _Chunk, listname: str) -> None:
        how = "as a module" if listname == "obj-m" or c.lhs.endswith("-m") else "built in"
        for src in [path] + self.rule_sources.get(path[:-2] + ".o", []):
            if src not in self.built:
                self.built[src] = f"{c.where}: {c.lhs} ({how})"

    def maybe(self, d: str, w: str, why: str) -> None:
        """Word w of directory d's makefile is in a list whose name is unknown (may be built)."""
        if w.endswith("/"):
            self.maybe_built.setdefault(_join(d, w[:-1]) + "/", why)
        elif w.endswith(".o"):
            self.maybe_built.setdefault(_join(d, w[:-2] + ".c"), why)

    def _exclude(self, mk: _Makefile, d: str, w: str, c: _Chunk) -> None:
        """Word w of a list the configuration leaves empty (obj-$(CONFIG_FOO) with FOO not set): it and,
        for a composite object, its parts are not built, for the reason of that line."""
        configs = re.findall(r"CONFIG_\w+", c.lhs)
        why = " and ".join(f"{s} is not set" for s in configs) or "its list is empty for this configuration"
        reason = f"{c.where}: {c.lhs} += {w}: {why}"
        if w.endswith("/"):
            self.excluded.setdefault(_join(d, w[:-1]) + "/", reason)
            return
        if not w.endswith(".o"):
            return
        self.excluded.setdefault(_join(d, w[:-2] + ".c"), reason)
        for suffix in _PART_SUFFIXES:
            parts, _bad = mk.words_of(w[:-2] + suffix)
            for pw, _pc in parts:
                if pw.endswith(".o"):
                    self.excluded.setdefault(_join(d, pw[:-2] + ".c"), reason)

    def follow_includes(self) -> None:
        """Files that a compiled file #includes as "x.c" are compiled with it."""
        todo = list(self.built)
        while todo:
            path = todo.pop()
            try:
                raw = (self.root / path).read_bytes()
            except OSError:
                continue
            if b".c\"" not in raw:
                continue
            text = raw.decode("utf-8", "replace")
            starts, values = branch_values(text.split("\n"), self.config)
            for m in _C_INCLUDE.finditer(raw):
                line = raw.count(b"\n", 0, m.start()) + 1
                if values[bisect.bisect_right(starts, line) - 1] is False:
                    continue   # under an #if the configuration rules out (ehci-hcd.c's ehci-ps3.c)
                inc = m.group(1).decode("utf-8", "replace")
                here = os.path.normpath(os.path.join(os.path.dirname(path), inc))
                for cand in (here, os.path.normpath(inc)):
                    if cand not in self.built and (self.root / cand).is_file():
                        self.built[cand] = f"#include \"{inc}\" in {path}"
                        todo.append(cand)
                        break


def _join(d: str, w: str) -> str:
    return os.path.normpath(f"{d}/{w}" if d else w)


def config_arch(config: KernelConfig) -> str | None:
    """The arch/ folder of a configuration (x86 for Debian's amd64 one), None when it names none."""
    return next((arch for sym, arch in ARCH_SYMBOLS if sym in config.y), None)


def makefiles_digest(root: Path, makefiles: list[str]) -> str:
    """A digest of the size and modification time of these makefiles (empty list: empty string): the
    verdicts of kbuild_verdicts stay true while it does not change."""
    if not makefiles:
        return ""
    h = hashlib.sha1()
    for path in makefiles:
        try:
            st = (root / path).stat()
            h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        except OSError:
            h.update(f"{path}\0gone\n".encode())
    return h.hexdigest()


def kbuild_verdicts(root: Path, paths: list[str], config: KernelConfig
                    ) -> tuple[dict[str, Verdict], list[str]]:
    """The verdict of every .c path of `paths` (relative to root) under `config`, and the makefiles read
    (sorted). No verdicts and no makefiles when root is no kernel tree (no Kbuild at its top) or the
    configuration names no architecture of it."""
    arch = config_arch(config)
    if arch is None or not (root / "Kbuild").is_file() or not (root / "arch" / arch / "Makefile").is_file():
        return {}, []
    r = _Reader(root, config, arch)
    r.walk()
    r.follow_includes()
    out: dict[str, Verdict] = {}
    for path in paths:
        if not path.endswith(".c"):
            continue
        if path in r.built:
            out[path] = Verdict(True, r.built[path])
            continue
        d = os.path.dirname(path)
        if path in r.maybe_built:
            out[path] = Verdict(None, f"may be built: {r.maybe_built[path]}")
            continue
        if d in r.reached and r.makefile_of(d) is not None:
            if path in r.excluded:
                out[path] = Verdict(False, r.excluded[path])
            elif d in r.unknown_dirs:
                out[path] = Verdict(None, f"may be built: {r.unknown_dirs[d]}")
            else:
                out[path] = Verdict(False, f"{r.makefile_of(d)} does not compile it for this configuration")
            continue
        out[path] = _not_reached(r, d)
    return out, sorted(r.makefiles)


def _not_reached(r: _Reader, d: str) -> Verdict:
    """The verdict of a file whose directory kbuild does not enter: the line that leaves it out."""
    passed = r.passed()
    probe = ""
    for part in d.split("/"):
        probe = f"{probe}/{part}" if probe else part
        if probe + "/" in r.maybe_built:
            return Verdict(None, f"may be built: {r.maybe_built[probe + '/']}")
        if probe + "/" in r.excluded:
            return Verdict(False, r.excluded[probe + "/"])
        if probe in r.reached or probe in passed:
            continue
        parent = os.path.dirname(probe)
        if parent in r.reached:
            if parent in r.unknown_dirs:
                return Verdict(None, f"{probe}/ may be built: {r.unknown_dirs[parent]}")
            return Verdict(False, f"{r.makefile_of(parent) or parent} does not enter {probe}/")
        return Verdict(False, f"the kernel build does not enter {probe}/ (it builds arch/{r.arch}/)"
                       if probe.startswith("arch/") else f"the kernel build does not enter {probe}/")
    return Verdict(False, "not in the kernel build")
