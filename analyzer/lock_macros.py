"""Function-like macros as the lock pass needs them: pick a definition, expand one call textually
(parameters, # and ##, as cpp does for the argument text), and find calls inside a piece of text.

Only text is produced: a lock argument written in a macro body gets its lockdep name and its object
from the expansion at the call site, which is how cpp and lockdep see it (shared/notes/lockdep-names.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx

from .lock_expr import fold_ws, tokenize

__all__ = ["MacroDef", "MacroTable", "find_calls", "path_rank", "string_value"]

_IDENT = re.compile(r"[A-Za-z_]\w*$")


@dataclass(slots=True)
class MacroDef:
    name: str
    params: tuple[str, ...]
    body: str
    file_id: int
    line: int
    path: str = ""
    _tokens: list[str] | None = None

    @property
    def tokens(self) -> list[str]:
        if self._tokens is None:
            self._tokens = tokenize(self.body)
        return self._tokens


def path_rank(path: str) -> int:
    """Which of several definitions of one name wins (lower first): x86 (it overrides asm-generic),
    then include/linux, other headers, .c files, other arches."""
    if path.startswith("arch/x86/"):
        return 1
    if path.startswith("include/linux/"):
        return 2
    if path.startswith("include/asm-generic/"):
        return 4
    if path.startswith("include/"):
        return 3
    if path.startswith("arch/"):
        return 9
    return 5


class MacroTable:
    """Function-like macros by name, with the one to use from a given file."""

    def __init__(self, defs: list[MacroDef], built: Callable[[int, int], bool | None] | None = None):
        """`built(file_id, line)` is False where the configuration rules a definition out (lock_config):
        such a definition is used only when the name has no other."""
        self.by_name: dict[str, list[MacroDef]] = {}
        for d in defs:
            self.by_name.setdefault(d.name, []).append(d)
        for lst in self.by_name.values():
            lst.sort(key=lambda d: (path_rank(d.path), d.path, d.line))
        self.built = built
        self._calls: nx.DiGraph | None = None   # name called -> macro whose body calls it

    def __contains__(self, name: str) -> bool:
        return name in self.by_name

    def pick(self, name: str, file_id: int | None = None) -> MacroDef | None:
        lst = self.by_name.get(name)
        if not lst:
            return None
        if file_id is not None:
            lst = [d for d in lst if d.file_id == file_id] or lst
        if len(lst) > 1 and self.built is not None:
            # #if alternatives: the first one the configuration does not rule out
            return next((d for d in lst if self.built(d.file_id, d.line) is not False), lst[0])
        return lst[0]

    def expand(self, name: str, args: list[str], file_id: int | None = None) -> str | None:
        """Body of macro `name` with its parameters replaced by the argument texts (# stringifies,
        ## pastes); None when there is no such macro or the argument count does not fit."""
        d = self.pick(name, file_id)
        if d is None:
            return None
        params = list(d.params)
        variadic = bool(params) and params[-1].endswith("...")
        if variadic:
            last = params[-1]
            params[-1] = "__VA_ARGS__" if last == "..." else last[:-3]
            if len(args) >= len(params):
                args = args[:len(params) - 1] + [", ".join(args[len(params) - 1:])]
            elif len(args) == len(params) - 1:
                args = args + [""]
        if len(args) != len(params) and not (len(params) == 0 and args == [""]):
            if not (len(params) == 0 and not args):
                return None
        sub = dict(zip(params, args, strict=False))
        return _substitute(d.body, sub)

    def reaching(self, names: set[str], exclude: set[str]) -> set[str]:
        """Macros whose body calls one of `names` or (transitively) another such macro, never through a
        macro in `exclude` (the primitives themselves): a breadth-first search from `names` in the
        graph of macro calls (networkx), with the excluded macros hidden."""
        g = self.call_graph()
        first = {m for n in names if n in g for m in g.successors(n) if m not in exclude}
        if not first:
            return set()
        view = nx.restricted_view(g, [n for n in exclude if n in g], [])
        return {m for layer in nx.bfs_layers(view, first) for m in layer}

    def call_graph(self) -> nx.DiGraph:
        """Edges from each name a macro body calls to that macro (the bodies of the first definition
        and of its #if alternatives in the same file: pick chooses among them at each use)."""
        if self._calls is None:
            g = nx.DiGraph()
            for name, lst in self.by_name.items():
                bodies = [d.body for d in lst if d.file_id == lst[0].file_id]
                g.add_edges_from((callee, name) for callee in {c for body in bodies
                                                               for c in _CALLED.findall(body)})
            self._calls = g
        return self._calls


_CALLED = re.compile(r"(?<![\w.>$])([A-Za-z_]\w*)\s*\(")
_WORD = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|/\*.*?\*/|#\s*[A-Za-z_]\w*|[A-Za-z_]\w*|##', re.S)


def _substitute(body: str, sub: dict[str, str]) -> str:
    """Replace parameters in a macro body, keeping the body's spacing (# stringifies the argument text)."""
    out = []
    pos = 0
    for m in _WORD.finditer(body):
        w = m.group()
        out.append(body[pos:m.start()])
        pos = m.end()
        if w.startswith("#") and w != "##":
            name = w[1:].strip()
            if name in sub:
                out.append('"' + fold_ws(sub[name]).replace("\\", "\\\\").replace('"', '\\"') + '"')
            else:
                out.append(w)
        elif w in sub:
            out.append(sub[w])
        else:
            out.append(w)
    out.append(body[pos:])
    text = "".join(out)
    return re.sub(r"\s*##\s*", "", text)


def skip_literal(text: str, i: int) -> int:
    """Index just after the string or char literal whose opening quote is at text[i]."""
    q = text[i]
    j = i + 1
    while j < len(text) and text[j] != q:
        j += 2 if text[j] == "\\" else 1
    return j + 1


def find_calls(text: str, names: set[str] | dict) -> list[tuple[str, list[str], int]]:
    """Calls NAME(args) in text whose NAME is in names: (name, argument texts as written, offset)."""
    out = []
    for m in re.finditer(r"(?<![\w.>$])([A-Za-z_]\w*)\s*\(", text):
        name = m.group(1)
        if name not in names:
            continue
        i = m.end()
        depth = 1
        args: list[str] = []
        start = i
        n = len(text)
        while i < n and depth:
            c = text[i]
            if c in "\"'":
                i = skip_literal(text, i)
                continue
            if c in "([{":
                depth += 1
            elif c in ")]}":
                depth -= 1
                if depth == 0:
                    break
            elif c == "," and depth == 1:
                args.append(fold_ws(text[start:i]))
                start = i + 1
            i += 1
        last = fold_ws(text[start:i])
        if last or args:
            args.append(last)
        out.append((name, args, m.start()))
    return out


def string_value(text: str) -> str | None:
    """Value of a C string literal expression ("a" "b" -> ab); None when it is not only literals."""
    toks = tokenize(text)
    if not toks:
        return None
    parts = []
    for t in toks:
        if t == "(" or t == ")":
            continue
        if t.startswith('"') and t.endswith('"'):
            parts.append(t[1:-1].replace('\\"', '"').replace("\\\\", "\\"))
        else:
            return None
    return "".join(parts)
