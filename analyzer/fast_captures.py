"""The captures of c_facts.scm by one C tree walk (analyzer/ts_walk.c), when that walker is built.

tree-sitter's query cursor keeps match states for every node of every tree; the patterns lima-index needs
are simple (a node type, and at most "a child in field F of type T or U"), so a plain walk that compares
symbols answers them with less work, and builds most of the rows in C during the same walk (calls,
declarations, functions, structs, function-pointer stores; see ts_walk.c for the rest it does).

The .scm file stays the one statement of what is captured: :func:`compile_patterns` reads it into the
walker's table and refuses anything beyond that simple form. :class:`FastCaptures` uses the walker only
when it was built for the installed tree-sitter release and gives the query cursor's captures on a probe
file; otherwise ``reason`` says why not, and lima-index runs the query cursor (same facts, slower).
Build the walker with ``python -m lima.analyzer.build_ts_walk`` (run.sh does).
"""

from __future__ import annotations

import re
from importlib import metadata
from types import ModuleType

from lima.analyzer import kernel_annotations
from lima.analyzer.build_ts_walk import SOURCE, source_digest
from tree_sitter import Language, Node, Parser, Query, QueryCursor

__all__ = ["FastCaptures", "UnsupportedPattern", "compile_patterns", "MISSING_SYMBOL"]

#: The walker's symbol for the (MISSING) pattern (any missing node); (ERROR) is tree-sitter's own 65535.
MISSING_SYMBOL = -2
_TOKEN = re.compile(r"\s*(?:(;[^\n]*)|([()\[\]:@])|([A-Za-z_][\w.]*)|(\S))")

#: A file that holds every pattern of c_facts.scm (and its misses): the walker must capture what the
#: query cursor captures here before lima-index trusts it.
PROBE = b"""
struct s { int a; union { int b; } u; struct { int c; } in; };
typedef struct t { spinlock_t lock; } t_t;
enum e { A, B = 2 };
static const struct file_operations fops = { .read = foo, .write = &bar, .x = 1, [0] = baz,
    [1].a = qux, .b[2] = quux };
int f(struct s *p, int (*cb)(void)) {
    int x = g(1, (2), "a,b") + (*cb)() + p->ops->run(p, x) + (p->f)(x);
    p->release = foo; p->y = 3; q = foo;
    spin_lock(&p->lock  );
    return h(x,
             y) + k(a b, )
}
int broken( { ;
"""

#: Kernel annotations (analyzer/kernel_annotations.py) the walker's blank_annotations must blank as the
#: Python one does before lima-index trusts it.
ANNOTATION_PROBE = b"""
static __always_inline void __init f(struct s __rcu *p) __acquires(p->lock) __must_hold(&x)
{ int __attribute__((aligned(8), section(".x" "(y)"))) v __maybe_unused; }
#define __free(_name) __cleanup(__free_##_name)
#  define __must_check
struct t { int a; } ____cacheline_aligned_in_smp __randomize_layout;
__attribute__ ((unused)) x__init #__init __printf(1, 2)
__aligned((((((8)))))) __inline__ __section(
"""


class UnsupportedPattern(ValueError):
    """A pattern of the .scm file is beyond what the walker answers."""


def _tokens(text: str) -> list[str]:
    out = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
        if m.group(1) is not None:
            continue
        if m.group(4) is not None:
            raise UnsupportedPattern(f"unexpected {m.group(4)!r} at offset {m.start(4)}")
        out.append(m.group(2) or m.group(3))
    return out


def compile_patterns(language: Language, text: str) -> tuple[tuple, tuple[str, ...]]:
    """Read a .scm file of patterns `(type field: (type) field: [(type) (type)] ...) @name` into the
    walker's table: ((symbol, capture index, ((field id, (symbol, ...)), ...)), ...) and capture names."""
    toks = _tokens(text)
    names: list[str] = []
    patterns = []
    supertypes = set(getattr(language, "supertypes", ()) or ())
    i = 0

    def expect(tok: str) -> None:
        nonlocal i
        if i >= len(toks) or toks[i] != tok:
            got = toks[i] if i < len(toks) else "end of file"
            raise UnsupportedPattern(f"expected {tok!r}, got {got!r}")
        i += 1

    def node_name() -> int:
        """The symbol of the node type at toks[i] (after its '(')."""
        nonlocal i
        name = toks[i] if i < len(toks) else ""
        i += 1
        if name == "MISSING":
            return MISSING_SYMBOL
        sym = language.id_for_node_kind(name, True)
        if not sym or sym in supertypes:
            raise UnsupportedPattern(f"node type {name!r} is not a plain named node")
        return sym

    def symbol() -> int:
        expect("(")
        sym = node_name()
        expect(")")
        return sym

    while i < len(toks):
        expect("(")
        sym = node_name()
        constraints = []
        while i < len(toks) and toks[i] != ")":
            fname = toks[i]
            i += 1
            expect(":")
            fid = language.field_id_for_name(fname)
            if not fid:
                raise UnsupportedPattern(f"no field {fname!r}")
            if i < len(toks) and toks[i] == "[":
                i += 1
                alts = []
                while i < len(toks) and toks[i] == "(":
                    alts.append(symbol())
                expect("]")
            else:
                alts = [symbol()]
            if MISSING_SYMBOL in alts:
                raise UnsupportedPattern("(MISSING) inside a field")
            constraints.append((fid, tuple(alts)))
        expect(")")
        expect("@")
        if i >= len(toks) or not toks[i][0].isalpha() and toks[i][0] != "_":
            raise UnsupportedPattern("a capture name must follow '@'")
        cap = toks[i]
        i += 1
        if cap not in names:
            names.append(cap)
        patterns.append((sym, names.index(cap), tuple(constraints)))
    return tuple(patterns), tuple(names)


def _load_walker() -> tuple[ModuleType | None, str]:
    try:
        from lima.analyzer import _ts_walk  # type: ignore[attr-defined]
    except ImportError:
        return None, "not built (python -m lima.analyzer.build_ts_walk)"
    want = metadata.version("tree-sitter")
    built = getattr(_ts_walk, "TREE_SITTER_VERSION", "?")
    if built != want:
        return None, f"built for tree-sitter {built}, installed {want}: rebuild it"
    if SOURCE.is_file() and getattr(_ts_walk, "SOURCE_DIGEST", "") != source_digest():
        return None, "built from another ts_walk.c: rebuild it (python -m lima.analyzer.build_ts_walk)"
    return _ts_walk, ""


class FastCaptures:
    """The walker with the compiled patterns of one query, or the reason it is not used."""

    def __init__(self, language: Language, query_text: str, query: Query) -> None:
        """QUERY_TEXT compiled by tree-sitter (QUERY) and into the walker's table; the probe compares them."""
        self.walker: ModuleType | None = None
        self.reason = ""
        try:
            walker, self.reason = _load_walker()
            if walker is None:
                return
            try:
                self.patterns, self.names = compile_patterns(language, query_text)
            except UnsupportedPattern as e:
                self.reason = f"c_facts.scm has a pattern the walker does not answer: {e}"
                return
            self.row_captures = tuple(self.names.index(c) if c in self.names else -1
                                      for c in ("call", "declaration", "function", "struct", "init_pair",
                                                "assign"))
            walker.set_annotation_tokens(kernel_annotations.CALL_TOKENS, kernel_annotations.INLINE_TOKENS,
                                         kernel_annotations.PLAIN_TOKENS)
            self.walker = walker
            mismatch = self._probe(language, query)
        except Exception as e:  # noqa: BLE001 - any failure of the walker means: use the query cursor
            self.walker, self.reason = None, f"unusable ({type(e).__name__}: {e})"
            return
        if mismatch:
            self.walker, self.reason = None, f"walker and query cursor differ on the probe file: {mismatch}"

    def _probe(self, language: Language, query: Query) -> str:
        tree = Parser(language).parse(PROBE)

        def key(caps: dict[str, list[Node]]) -> dict[str, list[tuple[int, int, str]]]:
            return {k: sorted((n.start_byte, n.end_byte, n.type) for n in v) for k, v in caps.items()}

        want = key(QueryCursor(query).captures(tree.root_node))
        got = key(self.captures(tree.root_node))
        if want != got:
            return ", ".join(sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k)))
        if self.blank_annotations(ANNOTATION_PROBE) != kernel_annotations.blank_annotations(ANNOTATION_PROBE):
            return "kernel annotations"
        return ""

    def top_level_items(self, root: Node) -> list[tuple[Node, Node | None]]:
        """The file-scope items extract.py's top_level may record something for, each with the next item
        when that is a compound statement (ts_walk.c's top_level_items)."""
        assert self.walker is not None
        return self.walker.top_level_items(root)

    def blank_annotations(self, src: bytes) -> bytes:
        """kernel_annotations.blank_annotations(SRC), by one scan in C."""
        assert self.walker is not None
        return self.walker.blank_annotations(src)

    def captures(self, root: Node, src: bytes | None = None) -> dict[str, list]:
        """{capture name: nodes in document order}; with SRC (the parsed text, all ASCII) the calls,
        declarations, function definitions, structs and function-pointer stores come as the tuples that
        ts_walk.c's call_row and *_summary functions describe (extract.py reads them)."""
        assert self.walker is not None
        if src is None:
            return self.walker.captures(root, self.patterns, self.names)
        return self.walker.captures(root, self.patterns, self.names, src, *self.row_captures)

    def define_rows(self, raw: bytes, file_id: int) -> list[tuple]:
        """The macros rows of RAW (a file's bytes, all ASCII), as extract.py's regex makes them."""
        assert self.walker is not None
        return self.walker.define_rows(raw, file_id)

    def define_columns(self, files: list[tuple[bytes, int]]) -> tuple:
        """The macros rows of FILES, (raw, file_id) pairs of all-ASCII files, as Arrow buffers (see
        ts_walk.c define_columns; workers.macro_table makes the table)."""
        assert self.walker is not None
        return self.walker.define_columns(files)
