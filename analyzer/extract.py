"""Code facts of one C file: tree-sitter parse, query captures, rows for every code-fact table.

:func:`extract` is pure (bytes in, rows out) so that it runs unchanged in worker processes and tests.
Row tuples follow the column order of db/schema.sql section 1 (see :data:`TABLE_COLUMNS`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from importlib import resources

import tree_sitter_c
from lima.analyzer.fast_captures import FastCaptures
from lima.analyzer.kernel_annotations import (
    blank_annotations,
    blank_define_comments,
    blank_list_conditionals,
    fill_empty_defines,
    rewrite_loop_macros,
)
from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

__all__ = ["TABLE_COLUMNS", "ID_STRIDE", "FileFacts", "Extractor", "needs_parse", "split_args"]

#: Every per-file id is file_id * ID_STRIDE + a sequence number (db/schema.sql, "Identifiers").
ID_STRIDE = 1 << 20

#: Fact tables and their columns, in the order of the row tuples built here.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "functions": ("function_id", "file_id", "name", "is_static", "is_inline", "return_type",
                  "start_line", "end_line", "macro"),
    "calls": ("file_id", "caller_id", "caller", "callee", "kind", "callee_expr", "line", "col", "args"),
    "fptr_assignments": ("file_id", "struct_type", "field", "function", "kind", "variable",
                         "in_function", "line"),
    "structs": ("struct_id", "file_id", "name", "kind", "parent_struct_id", "parent_field",
                "start_line", "end_line"),
    "fields": ("struct_id", "file_id", "position", "name", "type_text", "base_type", "pointer_depth",
               "array_dims", "bitfield_width", "nested_struct_id", "line"),
    "typedefs": ("file_id", "name", "type_text", "base_type", "pointer_depth", "struct_id", "line"),
    "enum_constants": ("file_id", "enum_name", "name", "value_text", "line"),
    "variables": ("file_id", "function_id", "name", "scope", "is_static", "type_text", "base_type",
                  "pointer_depth", "array_dims", "initializer", "macro", "line"),
    "macros": ("file_id", "name", "is_function_like", "params", "body", "line", "end_line"),
    "macro_uses": ("file_id", "function_id", "macro", "args", "is_static", "line"),
    "function_annotations": ("file_id", "function_id", "annotation", "arg", "line"),
}

#: tree-sitter-c field ids of the fields read here: child_by_field_id takes half the time of
#: child_by_field_name, which looks the name up at every call.
_LANGUAGE = Language(tree_sitter_c.language())
_FIELD: dict[str, int] = {name: _LANGUAGE.field_id_for_name(name) for name in (
    "argument", "arguments", "body", "declarator", "designator", "field", "function", "left",
    "name", "operator", "parameters", "right", "size", "type", "value")}

_PREPROC_BLOCKS = frozenset({"preproc_if", "preproc_ifdef", "preproc_else", "preproc_elif",
                             "preproc_elifdef", "linkage_specification", "declaration_list"})
_NOT_FUNCTIONS = frozenset({"NULL", "true", "false"})
_STATEMENT_WORDS = frozenset({"if", "else", "while", "for", "do", "switch", "case", "return", "sizeof",
                              "goto", "break", "continue", "default"})
_UPPER = re.compile(r"[A-Z0-9_]+\Z")
_MACRO_DECL = re.compile(r"(static\s+)?([A-Za-z_]\w*)\s*\(")
_SYSCALL = re.compile(r"(COMPAT_)?SYSCALL_DEFINE(\d)\Z")
# Variable-declaring macros with the type first and the name second, besides DEFINE_PER_CPU* and
# DECLARE_PER_CPU*: ACPICA's globals (drivers/acpi/acpica/acglobal.h: ACPI_GLOBAL(acpi_spinlock,
# acpi_gbl_gpe_lock); include/acpi/acpixf.h defines them, or declares them extern, per file).
_TYPED_GLOBALS = frozenset({"ACPI_GLOBAL", "ACPI_INIT_GLOBAL"})
_DIM = re.compile(r"\[([^\]]*)\]")
_DECLARED_NAME = re.compile(r"([A-Za-z_]\w*)\s*((?:\[[^\]]*\]\s*)+)?\Z")
# Function-defining macros whose arguments after the name are (type, parameter) pairs, as SYSCALL_DEFINEn's:
# BPF_CALL_2(bpf_map_push_elem, struct bpf_map *, map, void *, value) (include/linux/filter.h).
_TYPED_PAIRS = re.compile(r"(COMPAT_)?SYSCALL_DEFINE\d\Z|BPF_CALL_\d\Z")
# Argument lists that need the parse tree to split (nested brackets, strings, chars, comments, #if).
_NESTED = re.compile(rb"[(\[{\"'/#]")
# The same test on the text of an ASCII file, also refusing the whitespace that fold leaves alone (\r \v
# \f \x1c-\x1f): without them, fold(a) is " ".join(a.split()), which skips a call per argument.
_NESTED_OR_ODD_SPACE = re.compile(r"[(\[{\"'/#\r\v\f\x1c-\x1f]")

# #define NAME[(params)] body, body lines joined by backslash-newline (raw bytes, before blanking).
# (starts with a literal '#' so that the regex engine scans fast; the line prefix is checked in Python)
# The body is "runs of plain bytes, each backslash taking the next byte with it" written as an unrolled
# loop: one character-class repeat per run instead of one alternation per byte (3x faster on the 3.4 M
# register #defines of drivers/gpu/drm/amd/include).
_DEFINE = re.compile(rb"#[ \t]*define[ \t]+(\w+)(\([^)\n]*\))?([^\\\n]*(?:\\[\s\S][^\\\n]*)*)")
_CONTINUATION = re.compile(rb"\\\r?\n")
# Files made only of comments and preprocessor lines (huge register headers) skip tree-sitter.
# (unrolled loops like _DEFINE: a comment is runs of non-'*' bytes and '*' runs not followed by '/')
_COMMENT = re.compile(rb"/\*[^*]*\*+(?:[^/*][^*]*\*+)*/|//[^\n]*")
_PREPROC_LINE = re.compile(rb"^[ \t]*#[^\\\n]*(?:\\[\s\S][^\\\n]*)*", re.M)
FAST_PATH_MIN_BYTES = 64 * 1024
# Sparse lock annotations in a function's head (include/linux/compiler_types.h), on the raw text (the
# parsed text has them blanked): __acquires(x), __releases(x), __must_hold(x), one level of parentheses
# inside (rcu_get_root()->lock).
_LOCK_ANNOTATION = re.compile(
    rb"(?<![\w#])(__acquires|__releases|__must_hold)\s*\(((?:[^()\n]|\([^()\n]*\))*)\)")


def fold(text: str) -> str:
    """Collapse whitespace runs to one space (and strip)."""
    if "  " in text or "\n" in text or "\t" in text or text[:1] == " " or text[-1:] == " ":
        return " ".join(text.split())
    return text


def split_args(text: str) -> list[str]:
    """Split 'a, f(b, c), d' at top-level commas (text without the outer parentheses)."""
    out: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(fold(text[start:i]))
            start = i + 1
    last = fold(text[start:])
    if last or out:
        out.append(last)
    return out


def _syscall_names(macro: str, name: str) -> list[str]:
    """Symbols generated by (COMPAT_)SYSCALL_DEFINEn(name, ...) on x86-64 (asm/syscall_wrapper.h)."""
    m = _SYSCALL.match(macro)
    assert m
    compat, n = bool(m.group(1)), int(m.group(2))
    stem = f"compat_sys_{name}" if compat else f"sys_{name}"
    names = [f"__do_{stem}"]
    if n > 0:
        names.append(f"__se_{stem}")
    names += [f"__x64_{stem}", f"__ia32_{stem}"]
    return names


@dataclass
class FileFacts:
    """Rows of one file for every fact table, and its parse error count."""

    rows: dict[str, list[tuple]] = field(default_factory=lambda: {t: [] for t in TABLE_COLUMNS})
    parse_errors: int = 0


@dataclass
class _Func:
    fid: int
    name: str
    start: int
    end: int
    names: dict[str, str] = field(default_factory=dict)  # param/local name -> base_type


class Extractor:
    """A tree-sitter parser with the compiled fact queries (one per process)."""

    def __init__(self, walker: bool = True) -> None:
        """WALKER False: always tree-sitter's query cursor, never the C walker (tests compare the two)."""
        self.language = _LANGUAGE
        self.parser = Parser(self.language)
        here = resources.files("lima.analyzer")
        query_text = here.joinpath("c_facts.scm").read_text()
        self.facts_query = Query(self.language, query_text)
        self.fast: FastCaptures | None = None
        #: a list while a worker batch runs (workers.process_batch): the (raw, file_id) of the files whose
        #: macros rows the C walker builds for the whole batch at its end, instead of file by file
        self.deferred_defines: list[tuple[bytes, int]] | None = None
        self.walker_reason = "disabled"
        if walker:
            fast = FastCaptures(self.language, query_text, self.facts_query)
            self.fast, self.walker_reason = (fast, "") if fast.walker is not None else (None, fast.reason)

    @property
    def captures_by(self) -> str:
        """What reads the c_facts.scm captures (meta.fact_walker); walker_reason says why not the walker."""
        return "C walker (analyzer/ts_walk.c)" if self.fast is not None else "tree-sitter query cursor"

    def extract(self, file_id: int, src: bytes) -> FileFacts:
        """All code facts of one file (src is the raw file content)."""
        fx = _FileExtraction(self, file_id, src)
        try:
            return fx.run()
        finally:
            fx.__dict__.clear()   # its bound-method attributes (text, ftext) make a reference cycle

    def parse(self, raw: bytes) -> tuple[bytes, list[tuple[int, int, str]], Tree]:
        """The tree-sitter part of :meth:`extract`: (text as parsed, rewritten loop macros, tree).

        The text keeps every byte offset of raw: kernel annotations are blanked, iterator macros rewritten
        in place (analyzer/kernel_annotations.py), so that tree-sitter reads the kernel's C as C.
        """
        blank = self.fast.blank_annotations if self.fast is not None else blank_annotations
        text = fill_empty_defines(blank(blank_define_comments(raw)))
        src, loops = rewrite_loop_macros(blank_list_conditionals(text))
        return src, loops, self.parser.parse(src)

    def captures(self, tree: Tree, src: bytes | None = None) -> dict[str, list]:
        """The captures of c_facts.scm over a parsed tree, by capture name. With SRC (the parsed text, all
        ASCII) and the C walker, the calls come as rows (see fast_captures.FastCaptures.captures)."""
        if self.fast is not None:
            return self.fast.captures(tree.root_node, src)
        return QueryCursor(self.facts_query).captures(tree.root_node)


def needs_parse(raw: bytes) -> bool:
    """False for a big file made only of comments and preprocessor lines (register headers): its facts
    (macros) come from the raw text alone, so tree-sitter is skipped."""
    if len(raw) < FAST_PATH_MIN_BYTES:
        return True
    semicolons = raw.count(b";")
    if semicolons == 0 and b"{" not in raw:
        return False  # no declaration, no body: nothing for the parser
    if semicolons > len(raw) // 2000:  # code has a ';' every few dozen bytes
        return True
    rest = _PREPROC_LINE.sub(b"", _COMMENT.sub(b"", raw))
    return bool(rest.strip())


class _FileExtraction:
    def __init__(self, ex: Extractor, file_id: int, raw: bytes) -> None:
        self.ex = ex
        self.file_id = file_id
        self.raw = raw
        self.src = raw
        self.facts = FileFacts()
        self.rows = self.facts.rows
        self.seq = 0
        self.funcs: list[_Func] = []
        self.starts: list[int] = []
        self.skip_calls: set[int] = set()
        self.stext = ""  # src decoded, for ASCII files (see run)
        self.annotated = b"__acquires" in raw or b"__releases" in raw or b"__must_hold" in raw

    # -- helpers -----------------------------------------------------------------------------------

    def next_id(self) -> int:
        self.seq += 1
        return self.file_id * ID_STRIDE + self.seq

    def text(self, n: Node) -> str:
        return self.src[n.start_byte:n.end_byte].decode("utf-8", "replace")

    def ftext(self, n: Node) -> str:
        text = self.src[n.start_byte:n.end_byte].decode("utf-8", "replace")
        if "  " in text or "\n" in text or "\t" in text:
            return " ".join(text.split())
        return text

    def text_ascii(self, n: Node) -> str:
        """:meth:`text` of an ASCII file: byte offsets are str offsets, so slice the decoded text."""
        return self.stext[n.start_byte:n.end_byte]

    def ftext_ascii(self, n: Node) -> str:
        """:meth:`ftext` of an ASCII file."""
        text = self.stext[n.start_byte:n.end_byte]
        if "  " in text or "\n" in text or "\t" in text:
            return " ".join(text.split())
        return text

    def in_order(self, nodes: list[Node]) -> list[Node]:
        """Captured nodes by start byte, ties in the order captured. The C walker's lists already are (its
        walk is in document order); the query cursor's come in hash order."""
        if self.ex.fast is not None:
            return nodes
        return sorted(nodes, key=lambda n: n.start_byte)

    def func_at(self, pos: int) -> _Func | None:
        """The innermost function whose text holds POS (error recovery can nest one in another)."""
        i = bisect_right(self.starts, pos) - 1
        for j in range(i, max(i - 8, -1), -1):
            if pos < self.funcs[j].end:
                return self.funcs[j]
        return None

    # -- driver ------------------------------------------------------------------------------------

    def run(self) -> FileFacts:
        self.macros()
        if not needs_parse(self.raw):
            return self.facts
        self.src, loops, tree = self.ex.parse(self.raw)
        if self.src.isascii():  # 96% of the kernel's bytes: decode once, not once per node
            self.stext = self.src.decode("ascii")
            self.text, self.ftext = self.text_ascii, self.ftext_ascii
        root = tree.root_node
        # with the C walker and an ASCII text, calls, declarations, functions, structs and function-pointer
        # stores come as tuples (ts_walk.c)
        c_rows = self.ex.fast is not None and bool(self.stext)
        caps = self.ex.captures(tree, self.src if c_rows else None)
        self.facts.parse_errors = len(caps.get("error", ())) + len(caps.get("missing", ()))
        # the query cursor's capture lists are not in document order: sort what gets ids, so that ids are
        # reproducible
        fn_nodes = self.in_order(caps.get("function", []))
        self.top_level(root)
        # A function_definition inside another one is either a real function that error recovery
        # nested in a broken predecessor, or a misread block (`scoped_guard(rcu) { ... }`,
        # `MACRO(x) if (...) { ... }`): function() drops the latter.
        spans = sorted((f.start, f.end) for f in self.funcs)  # macro-headed functions at file scope
        outer_end = -1
        k = 0
        for n in fn_nodes:
            pos, end = (n[0], n[1]) if c_rows else (n.start_byte, n.end_byte)
            while k < len(spans) and spans[k][0] <= pos:
                outer_end = max(outer_end, spans[k][1])
                k += 1
            if c_rows:
                self.function_summary(n, nested=pos < outer_end)
            else:
                self.function(n, nested=pos < outer_end)
            outer_end = max(outer_end, end)
        self.funcs.sort(key=lambda f: f.start)
        self.starts = [f.start for f in self.funcs]
        if c_rows:
            struct_ids = self.struct_summaries(caps.get("struct", []))
        else:
            struct_ids = self.structs(caps.get("struct", []))
        # source order: tree-sitter's capture order varies from run to run, and a name declared twice in
        # one function (kernel/audit.c: struct audit_status s; ... struct audit_tty_status s;) must
        # resolve the same way every time
        if c_rows:
            for d in caps.get("declaration", []):
                self.declaration_summary(d)
        else:
            for n in self.in_order(caps.get("declaration", [])):
                self.declaration(n)
        for n in caps.get("typedef", []):
            self.typedef(n, struct_ids)
        for n in caps.get("enum", []):
            self.enum(n)
        if c_rows:
            self.call_rows(caps.get("call", []))
        else:
            for n in caps.get("call", []):
                self.call(n)
        if loops:
            self.loop_calls(loops)
        if c_rows:
            self.store_summaries(caps.get("init_pair", []), caps.get("assign", []))
        else:
            for n in caps.get("init_pair", []):
                self.init_pair(n)
            for n in caps.get("assign", []):
                self.assign(n)
        return self.facts

    # -- macros (regex over the raw text) ----------------------------------------------------------

    def macros(self) -> None:
        raw = self.raw
        if b"define" not in raw:
            return
        if self.ex.fast is not None and raw.isascii():   # the same rows, built in C (ts_walk.c)
            if self.ex.deferred_defines is not None:   # ... for the whole batch, as Arrow columns
                self.ex.deferred_defines.append((raw, self.file_id))
            else:
                self.rows["macros"] = self.ex.fast.define_rows(raw, self.file_id)
            return
        out = self.rows["macros"].append
        line = 1
        last = 0
        fid = self.file_id
        count = raw.count
        for m in _DEFINE.finditer(raw):
            pos = m.start()
            if pos and raw[pos - 1] != 10:  # not at the start of its line: only blanks may precede
                line_start = raw.rfind(b"\n", 0, pos) + 1
                if raw[line_start:pos].strip():
                    continue
            line += count(b"\n", last, pos)
            last = pos
            name, params_raw, body_raw = m.groups()
            if b"\\" in body_raw:
                nl = body_raw.count(b"\n")
                body = fold(_CONTINUATION.sub(b" ", body_raw).decode("utf-8", "replace"))
            else:
                nl = 0
                body = body_raw.strip().decode("utf-8", "replace")
                if "  " in body or "\t" in body:
                    body = " ".join(body.split())
            if params_raw is None:
                out((fid, name.decode(), False, None, body, line, line + nl))
                continue
            params = [p.strip() for p in params_raw[1:-1].decode("utf-8", "replace").split(",")]
            if params == [""]:
                params = []
            out((fid, name.decode(), True, params, body, line, line + nl))

    # -- file scope: macro uses and macro-defined functions ----------------------------------------

    def top_items(self, node: Node) -> list[Node]:
        items: list[Node] = []
        for c in node.named_children:
            if c.type in _PREPROC_BLOCKS or c.type == "ERROR":
                items.extend(self.top_items(c))
            else:
                items.append(c)
        return items

    def top_level(self, root: Node) -> None:
        if self.ex.fast is not None:   # only the items that may give a row, from C (ts_walk.c)
            entries = self.ex.fast.top_level_items(root)
        else:
            items = self.top_items(root)
            entries = [(n, items[i + 1] if i + 1 < len(items) and items[i + 1].type == "compound_statement"
                        else None) for i, n in enumerate(items)]
        for n, nxt in entries:   # nxt: the next item when it is a compound statement
            t = n.type
            if t == "expression_statement" or t == "call_expression":
                call = n if t == "call_expression" else _first(n)
                if call is None or call.type != "call_expression":
                    continue
                fn = call.child_by_field_id(_FIELD["function"])
                args = call.child_by_field_id(_FIELD["arguments"])
                if fn is None or fn.type != "identifier" or args is None:
                    continue
                self.skip_calls.add(call.start_byte)
                macro = self.text(fn)
                argv = split_args(self.text(args)[1:-1])
                if nxt is not None:
                    self.macro_function(n, macro, argv, nxt)
                else:
                    self.file_macro_use(macro, argv, False, n.start_point[0] + 1)
            elif t == "declaration" or t == "macro_type_specifier":
                if self.macro_declaration(n) and t == "declaration":
                    self.glued_macro_uses(n)

    def macro_declaration(self, n: Node, f: _Func | None = None) -> bool:
        """static DEFINE_SPINLOCK(x); static DEFINE_PER_CPU(t, v); DEFINE_WAIT(w); read as declarations.

        tree-sitter takes the macro name for a type and its arguments for a declarator. Records a
        macro_uses row (with the enclosing function, if any), and inside a function also a calls row;
        returns whether the declaration was such a macro invocation.
        """
        if n.type != "macro_type_specifier":  # a bare DEFINE_X(struct t, v) item at file scope
            ty = n.child_by_field_id(_FIELD["type"])
            if ty is None or ty.type not in ("type_identifier", "macro_type_specifier"):
                return False
            if ty.type == "type_identifier":
                d = n.child_by_field_id(_FIELD["declarator"])
                if d is None or d.type != "parenthesized_declarator":
                    return False
        text = self.text(n)
        m = _MACRO_DECL.match(text)
        if not m or not _UPPER.match(m.group(2)):
            return False
        close = _matching_paren(text, m.end() - 1)
        if close < 0:
            return False
        macro = m.group(2)
        argv = split_args(text[m.end():close])
        is_static = bool(m.group(1))
        line = n.start_point[0] + 1
        if f is None:
            self.file_macro_use(macro, argv, is_static, line)
        else:
            self.rows["macro_uses"].append((self.file_id, f.fid, macro, argv, is_static, line))
            self.rows["calls"].append((self.file_id, f.fid, f.name, macro, "direct", macro, line,
                                       n.start_point[1], argv))
        return True

    def glued_macro_uses(self, n: Node) -> None:
        """Macro uses that tree-sitter glued onto the declaration before them.

        `static DEFINE_PER_CPU(struct x, y);` + `DEFINE_STATIC_PERCPU_RWSEM(file_rwsem);` (fs/locks.c:136-137)
        parse as one declaration: the `;` becomes an ERROR and the second macro a function declarator.
        """
        after_semicolon = False
        for c in n.children:
            if c.type == "ERROR" and self.text(c).strip() == ";":
                after_semicolon = True
            elif after_semicolon and c.type == "function_declarator":
                name = c.child_by_field_id(_FIELD["declarator"])
                params = c.child_by_field_id(_FIELD["parameters"])
                if name is None or params is None or name.type != "identifier":
                    continue
                macro = self.text(name)
                if not _UPPER.match(macro):
                    continue
                argv = split_args(self.text(params)[1:-1])
                self.file_macro_use(macro, argv, False, c.start_point[0] + 1)

    def file_macro_use(self, macro: str, argv: list[str], is_static: bool, line: int) -> None:
        """A macro invoked at file scope: its macro_uses row, and the variable a DEFINE_PER_CPU* declares."""
        self.rows["macro_uses"].append((self.file_id, None, macro, argv, is_static, line))
        self.percpu_variable(macro, argv, is_static, line)

    def percpu_variable(self, macro: str, argv: list[str], is_static: bool, line: int) -> None:
        """DEFINE_PER_CPU*(type, name) and ACPI_GLOBAL(type, name) declare a variable whose type is written
        out: record it."""
        if ("PER_CPU" not in macro and macro not in _TYPED_GLOBALS) or len(argv) < 2:
            return
        m = _DECLARED_NAME.match(argv[1])   # name, or name[N] (ACPI_GLOBAL(..., acpi_gbl_gpe_fadt_blocks[2]))
        if m is None:
            return
        scope = "extern" if macro.startswith("DECLARE") else "global"
        base, depth = _strip_type(argv[0])
        dims = "".join(f"[{fold(d)}]" for d in _DIM.findall(m.group(2))) if m.group(2) else None
        self.rows["variables"].append((self.file_id, None, m.group(1), scope, is_static, argv[0], base, depth,
                                       dims, None, macro, line))

    def lock_annotations(self, start: int, head_end: int, line: int, fid: int) -> None:
        """function_annotations rows of a function definition's head (raw text from START, its line, up to
        its body)."""
        head = self.raw[start:head_end]
        for m in _LOCK_ANNOTATION.finditer(head):
            self.rows["function_annotations"].append(
                (self.file_id, fid, m.group(1).decode(), fold(m.group(2).decode("utf-8", "replace")),
                 line + head.count(b"\n", 0, m.start())))

    def macro_function(self, head: Node, macro: str, argv: list[str], body: Node) -> None:
        """A function whose header is a macro: SYSCALL_DEFINE3(read, ...) { ... }, BPF_CALL_2(f, ...)."""
        if not argv or not argv[0].isidentifier():
            return
        start = head.start_point[0] + 1
        end = body.end_point[0] + 1
        names = _syscall_names(macro, argv[0]) if _SYSCALL.match(macro) else [argv[0]]
        params = []
        if _TYPED_PAIRS.match(macro):
            pairs = argv[1:]
            params = [(pairs[k], pairs[k + 1]) for k in range(0, len(pairs) - 1, 2)]
        ids = []
        full = len(names) == 4  # __do, __se, __x64, __ia32 (n > 0); else __do, __x64, __ia32
        for k, name in enumerate(names):
            fid = self.next_id()
            ids.append(fid)
            is_static = len(names) > 1 and (k == 0 or (full and k == 1))
            is_inline = full and k == 0
            self.rows["functions"].append((fid, self.file_id, name, is_static, is_inline, "long",
                                           start, end, macro))
        f = _Func(ids[0], names[0], head.start_byte, body.end_byte)
        self.funcs.append(f)
        for ty, pname in params:
            if not pname.isidentifier():
                continue
            base, depth = _strip_type(ty)
            f.names[pname] = base
            self.rows["variables"].append((self.file_id, ids[0], pname, "param", False, ty, base, depth,
                                           None, None, None, start))
        # The generated wrappers call each other: __x64_sys_x / __ia32_sys_x -> __se_sys_x -> __do_sys_x.
        if len(names) > 1:
            col = head.start_point[1]
            argv_names = [p for _, p in params]
            links = [(1, 0)] if full else []
            links += [(k, 1 if full else 0) for k in range(len(names) - 2, len(names))]
            for caller, callee in links:
                self.rows["calls"].append((self.file_id, ids[caller], names[caller], names[callee], "direct",
                                           names[callee], start, col, argv_names))

    # -- functions and parameters ------------------------------------------------------------------

    def function(self, n: Node, nested: bool = False) -> None:
        decl = n.child_by_field_id(_FIELD["declarator"])
        fdecl, ret_depth = _function_declarator(decl)
        if fdecl is None:
            if nested:
                return  # `scoped_guard(rcu) { ... }` inside a body: a block, not a macro-headed function
            ty = n.child_by_field_id(_FIELD["type"])
            body = n.child_by_field_id(_FIELD["body"])
            if (ty is not None and ty.type == "type_identifier" and decl is not None and body is not None
                    and decl.type == "parenthesized_declarator"):
                # SYSCALL_DEFINE0(fork) { ... }: the macro reads as a type, its argument as a declarator.
                self.macro_function(n, self.text(ty), split_args(self.text(decl)[1:-1]), body)
            return
        name_node = fdecl.child_by_field_id(_FIELD["declarator"])
        while name_node is not None and name_node.type in ("parenthesized_declarator",
                                                            "attributed_declarator"):
            name_node = _first(name_node)
        if name_node is None or name_node.type != "identifier":
            return
        name = self.text(name_node)
        if name in _STATEMENT_WORDS:
            return  # `MACRO(x) if (...) { ... }` misread as a function named `if`
        is_static = is_inline = False
        for c in n.children:
            if c.type == "storage_class_specifier":
                word = self.text(c)
                is_static |= word == "static"
                is_inline |= word == "inline"
        ty = n.child_by_field_id(_FIELD["type"])
        ret = self.type_prefix(n, ty) + (" " + "*" * ret_depth if ret_depth else "")
        fid = self.next_id()
        self.rows["functions"].append((fid, self.file_id, name, is_static, is_inline, ret,
                                       n.start_point[0] + 1, n.end_point[0] + 1, None))
        if self.annotated:
            body = n.child_by_field_id(_FIELD["body"])
            self.lock_annotations(n.start_byte, body.start_byte if body is not None else n.end_byte,
                                  n.start_point[0] + 1, fid)
        f = _Func(fid, name, n.start_byte, n.end_byte)
        self.funcs.append(f)
        params = fdecl.child_by_field_id(_FIELD["parameters"])
        if params is None:
            return
        for p in params.named_children:
            if p.type != "parameter_declaration":
                continue
            pd = p.child_by_field_id(_FIELD["declarator"])
            if pd is None:
                continue
            self.emit_variable(p, p.child_by_field_id(_FIELD["type"]), pd, f, "param", False, None)

    def function_summary(self, fs: tuple, nested: bool) -> None:
        """:meth:`function` for the tuple ts_walk.c's function_summary made of a function definition."""
        if len(fs) == 3:   # no function declarator (fs[2] is the node: read it as function() does) or name
            if fs[2] is not None:
                self.function(fs[2], nested)
            return
        start, end, _, name, is_static, is_inline, ret, start_line, end_line, body_start, params = fs
        if name in _STATEMENT_WORDS:
            return  # `MACRO(x) if (...) { ... }` misread as a function named `if`
        fid = self.next_id()
        self.rows["functions"].append((fid, self.file_id, name, is_static, is_inline, ret, start_line,
                                       end_line, None))
        if self.annotated:
            self.lock_annotations(start, body_start, start_line, fid)
        f = _Func(fid, name, start, end)
        self.funcs.append(f)
        out = self.rows["variables"].append
        file_id = self.file_id
        names = f.names
        for pname, type_text, base, depth, dims, init, line in params:
            names[pname] = base
            out((file_id, fid, pname, "param", False, type_text, base, depth, dims, init, None, line))

    # -- structs, fields, typedefs, enums ----------------------------------------------------------

    def struct_summaries(self, summaries: list[tuple]) -> dict[int, int]:
        """:meth:`structs` for the tuples ts_walk.c's struct_summary made (document order): the structs and
        fields rows; returns {start byte: struct id}."""
        ids: dict[int, int] = {}
        for ss in summaries:
            ids[ss[0]] = self.next_id()
        out, out_fields = self.rows["structs"].append, self.rows["fields"].append
        file_id = self.file_id
        for start, name, kind, owner_start, parent_field, start_line, end_line, fields in summaries:
            sid = ids[start]
            out((sid, file_id, name, kind, ids.get(owner_start), parent_field, start_line, end_line))
            for pos, fname, type_text, base, depth, dims, bits, nested_start, line in fields:
                out_fields((sid, file_id, pos, fname, type_text, base, depth, dims, bits,
                            ids.get(nested_start), line))
        return ids

    def structs(self, nodes: list[Node]) -> dict[int, int]:
        ids: dict[int, int] = {}
        nodes = self.in_order(nodes)
        for n in nodes:
            ids[n.start_byte] = self.next_id()
        for n in nodes:
            sid = ids[n.start_byte]
            parent_id = parent_field = None
            p = n.parent
            if p is not None and p.type == "field_declaration":
                owner = _owning_struct(p)
                if owner is not None:
                    parent_id = ids.get(owner.start_byte)
                d = p.child_by_field_id(_FIELD["declarator"])
                if d is not None:
                    nm = _declarator_name(d)
                    parent_field = self.text(nm) if nm is not None else None
            name_node = n.child_by_field_id(_FIELD["name"])
            self.rows["structs"].append((sid, self.file_id, self.text(name_node) if name_node else None,
                                         n.type[:-10], parent_id, parent_field,
                                         n.start_point[0] + 1, n.end_point[0] + 1))
            body = n.child_by_field_id(_FIELD["body"])
            self.fields(sid, body, ids, [0])
        return ids

    def fields(self, sid: int, body: Node, ids: dict[int, int], pos: list[int]) -> None:
        out = self.rows["fields"]
        for fd in body.named_children:
            if fd.type in _PREPROC_BLOCKS:
                self.fields(sid, fd, ids, pos)
                continue
            if fd.type != "field_declaration":
                continue
            ty = fd.child_by_field_id(_FIELD["type"])
            if ty is None:
                continue
            nested = ids.get(ty.start_byte) if ty.type in ("struct_specifier", "union_specifier") else None
            prefix = self.type_prefix(fd, ty)
            base = fold(self.text(ty)) if nested is None else _anon_base(ty, self)
            bits = None
            for c in fd.named_children:
                if c.type == "bitfield_clause":
                    bits = self.ftext(c)[1:].strip()
            decls = fd.children_by_field_id(_FIELD["declarator"])
            line = fd.start_point[0] + 1
            if not decls:
                out.append((sid, self.file_id, pos[0], None, prefix, base, 0, None, bits, nested, line))
                pos[0] += 1
                continue
            for d in decls:
                name, depth, dims, tail = self.unwrap(d)
                if name is None:
                    continue
                out.append((sid, self.file_id, pos[0], name, prefix + tail, base, depth, dims, bits, nested,
                            d.start_point[0] + 1))
                pos[0] += 1

    def typedef(self, n: Node, ids: dict[int, int]) -> None:
        ty = n.child_by_field_id(_FIELD["type"])
        if ty is None:
            return
        sid = ids.get(ty.start_byte) if ty.type in ("struct_specifier", "union_specifier") else None
        prefix = self.type_prefix(n, ty)
        base = fold(self.text(ty)) if sid is None else _anon_base(ty, self)
        for d in n.children_by_field_id(_FIELD["declarator"]):
            name, depth, _dims, tail = self.unwrap(d)
            if name is None:
                continue
            self.rows["typedefs"].append((self.file_id, name, prefix + tail, base, depth, sid,
                                          d.start_point[0] + 1))

    def enum(self, n: Node) -> None:
        name_node = n.child_by_field_id(_FIELD["name"])
        ename = self.text(name_node) if name_node else None
        body = n.child_by_field_id(_FIELD["body"])
        stack = [body]
        while stack:
            b = stack.pop()
            for e in b.named_children:
                if e.type in _PREPROC_BLOCKS:
                    stack.append(e)
                elif e.type == "enumerator":
                    nm = e.child_by_field_id(_FIELD["name"])
                    val = e.child_by_field_id(_FIELD["value"])
                    self.rows["enum_constants"].append((self.file_id, ename, self.text(nm),
                                                        self.ftext(val) if val else None,
                                                        e.start_point[0] + 1))

    # -- declarations ------------------------------------------------------------------------------

    def declaration_summary(self, ds: tuple) -> None:
        """:meth:`declaration` for the tuple ts_walk.c's declaration_summary made of a declaration."""
        start, node, type_kind, paren_declarator, is_static, is_extern, base, variables = ds
        f = self.func_at(start)
        if type_kind != 3:   # the type is a type_identifier (1) or a macro_type_specifier (2)
            if f is None:
                if type_kind == 2 or paren_declarator:
                    return  # a file-scope macro use, handled by top_level
            elif node is not None and self.macro_declaration(node, f):
                return
        if not variables:
            return
        out = self.rows["variables"].append
        file_id = self.file_id
        if f is None:
            scope = "extern" if is_extern else "global"
            for name, depth, dims, type_text, init, line, prototype in variables:
                if not prototype:   # file-scope prototypes are not variables
                    out((file_id, None, name, scope, is_static, type_text, base, depth, dims, init, None,
                         line))
        else:
            scope = "static_local" if is_static else "local"
            names = f.names
            for name, depth, dims, type_text, init, line, _prototype in variables:
                names[name] = base
                out((file_id, f.fid, name, scope, is_static, type_text, base, depth, dims, init, None, line))

    def declaration(self, n: Node) -> None:
        f = self.func_at(n.start_byte)
        ty = n.child_by_field_id(_FIELD["type"])
        if ty is None:
            return
        if ty.type in ("type_identifier", "macro_type_specifier"):
            if f is None:
                d0 = n.child_by_field_id(_FIELD["declarator"])
                if ty.type == "macro_type_specifier" or (d0 is not None
                                                         and d0.type == "parenthesized_declarator"):
                    return  # a file-scope macro use, handled by top_level
            elif self.macro_declaration(n, f):
                return
        decls = n.children_by_field_id(_FIELD["declarator"])
        if f is None:
            decls = [d for d in decls if not _is_prototype(d)]  # file-scope prototypes are not variables
            if not decls:
                return
        storage = [self.text(c) for c in n.children if c.type == "storage_class_specifier"]
        is_static = "static" in storage
        if f is None:
            scope = "extern" if "extern" in storage else "global"
        else:
            scope = "static_local" if is_static else "local"
        types: list[str] = []  # type prefix and base type of the declaration, shared by its variables
        for d in decls:
            self.emit_variable(n, ty, d, f, scope, is_static, None, types)

    def emit_variable(self, decl: Node, ty: Node | None, d: Node, f: _Func | None, scope: str,
                      is_static: bool, macro: str | None, types: list[str] | None = None) -> None:
        """A variables row for declarator d (types: [prefix, base] of decl when already made, or [] to
        receive them)."""
        init = None
        if d.type == "init_declarator":
            v = d.child_by_field_id(_FIELD["value"])
            init = self.ftext(v) if v is not None else None
            d = d.child_by_field_id(_FIELD["declarator"])
            if d is None:
                return
        name, depth, dims, tail = self.unwrap(d)
        if not name or ty is None:
            return
        if types:
            prefix, base = types
        else:
            prefix, base = self.type_prefix(decl, ty), fold(self.text(ty))
            if types is not None:
                types += (prefix, base)
        if f is not None:
            f.names[name] = base
        self.rows["variables"].append((self.file_id, f.fid if f else None, name, scope, is_static,
                                       prefix + tail, base, depth, dims, init, macro,
                                       d.start_point[0] + 1))

    def type_prefix(self, decl: Node, ty: Node | None) -> str:
        """Qualifiers and type specifier as written (const struct file_operations)."""
        if ty is None:
            return ""
        t = ty.type
        if t in ("struct_specifier", "union_specifier", "enum_specifier") and \
                ty.child_by_field_id(_FIELD["body"]) is not None:
            base = _anon_base(ty, self)
        else:
            base = self.ftext(ty)
        quals = None
        ty_start = ty.start_byte
        for c in decl.children:
            if c.type == "type_qualifier":
                if quals is None:
                    quals = []
                quals.append((c.start_byte, self.text(c)))
            elif c.start_byte > ty_start and c.type != "storage_class_specifier":
                break
        if quals is None:
            return base
        quals.append((ty_start, base))
        quals.sort()
        return " ".join(q for _, q in quals)

    def unwrap(self, d: Node) -> tuple[str | None, int, str | None, str]:
        """(name, pointer depth, array dims, declarator text without name/arrays) of a declarator."""
        depth = 0
        dims: list[str] = []
        ret_depth = 0
        params = None
        n: Node | None = d
        while n is not None:
            t = n.type
            if t in ("identifier", "field_identifier", "type_identifier"):
                break
            if t == "pointer_declarator":
                depth += 1
                n = n.child_by_field_id(_FIELD["declarator"])
            elif t == "array_declarator":
                size = n.child_by_field_id(_FIELD["size"])
                dims.append("[" + (self.ftext(size) if size else "") + "]")
                n = n.child_by_field_id(_FIELD["declarator"])
            elif t == "function_declarator":
                if params is None:
                    p = n.child_by_field_id(_FIELD["parameters"])
                    params = self.ftext(p) if p else "()"
                    ret_depth, depth = depth, 0
                n = n.child_by_field_id(_FIELD["declarator"])
            elif t in ("parenthesized_declarator", "attributed_declarator", "init_declarator"):
                n = _first(n)
            else:
                return None, 0, None, ""
        if n is None:
            return None, 0, None, ""
        dims_text = "".join(reversed(dims)) if dims else None
        if params is not None:
            tail = " " + "*" * ret_depth + "(" + "*" * depth + ")" + params
            return self.text(n), max(depth, 1), dims_text, tail
        return self.text(n), depth, dims_text, (" " + "*" * depth if depth else "")

    # -- calls and function-pointer stores ---------------------------------------------------------

    def call(self, n: Node) -> None:
        start = n.start_byte
        if start in self.skip_calls:
            return
        children = n.children
        if len(children) == 2 and children[1].type == "argument_list":
            fn, args = children  # the two fields, no comment in between: one call instead of two
        else:
            fn = n.child_by_field_id(_FIELD["function"])
            args = n.child_by_field_id(_FIELD["arguments"])
            if fn is None or args is None:
                return
        f = self.func_at(start)
        t = fn.type
        expr = self.ftext(fn)
        if t == "identifier":
            callee = expr
            kind = "pointer" if f is not None and callee in f.names else "direct"
        else:
            inner = fn
            while inner.named_child_count and inner.type in ("parenthesized_expression",
                                                             "pointer_expression"):
                inner = inner.named_children[-1]
            if inner.type == "identifier":
                kind, callee = "pointer", self.text(inner)
            elif inner.type == "field_expression":
                fld = inner.child_by_field_id(_FIELD["field"])
                kind, callee = "field", (self.text(fld) if fld else None)
            else:
                kind, callee = "expr", None
        if args.has_error:
            argv = self.grouped_args(args)
        elif self.stext and _NESTED_OR_ODD_SPACE.search(
                inner := self.stext[args.start_byte + 1:args.end_byte - 1]) is None:
            argv = [" ".join(a.split()) for a in inner.split(",")] if inner.strip() else []
        else:
            inner_text = self.src[args.start_byte + 1:args.end_byte - 1]
            if _NESTED.search(inner_text) is None:
                # no nesting, string or comment: the commas are the separators (no node visits)
                argv = [fold(a) for a in inner_text.decode("utf-8", "replace").split(",")] \
                    if inner_text.strip() else []
            else:
                argv = [self.ftext(a) for a in args.named_children if a.type != "comment"]
        p = n.start_point
        self.rows["calls"].append((self.file_id, f.fid if f else None, f.name if f else None, callee, kind,
                                   expr, p[0] + 1, p[1], argv))

    def call_rows(self, calls: list[tuple]) -> None:
        """:meth:`call` for the rows the C walker built: add the caller, and decide whether a call through a
        plain name is direct or through one of the caller's pointer variables."""
        out = self.rows["calls"].append
        skip = self.skip_calls
        fid = self.file_id
        starts, funcs = self.starts, self.funcs
        # The rows come in document order: func_at's bisect holds until the next function starts.
        i, lo, nxt = -1, -1, starts[0] if starts else 1 << 62
        for start, callee, kind, expr, line, col, argv in calls:
            if start in skip:
                continue
            if start >= nxt or start < lo:
                i = bisect_right(starts, start) - 1
                lo = starts[i] if i >= 0 else -1
                nxt = starts[i + 1] if i + 1 < len(starts) else 1 << 62
            f = None
            if i >= 0:
                f = funcs[i]
                if start >= f.end:
                    f = self.func_at(start)   # not in the latest function: an earlier one may hold it
            if f is None:
                out((fid, None, None, callee, kind or "direct", expr, line, col, argv))
            else:
                if kind is None:
                    kind = "pointer" if callee in f.names else "direct"
                out((fid, f.fid, f.name, callee, kind, expr, line, col, argv))

    def grouped_args(self, args: Node) -> list[str]:
        """Argument texts split at the commas (macro arguments such as types parse as ERROR pieces)."""
        out: list[str] = []
        first = last = None
        for c in args.children:
            t = c.type
            if t == "," or t == ")":
                if first is not None:
                    out.append(fold(self.src[first:last].decode("utf-8", "replace")))
                elif t == ",":
                    out.append("")
                first = None
            elif t != "(" and t != "comment":
                if first is None:
                    first = c.start_byte
                last = c.end_byte
        return out

    def loop_calls(self, loops: list[tuple[int, int, str]]) -> None:
        """Record iterator macros rewritten to while loops as calls (list_for_each_entry(...))."""
        src = self.src
        row = seen = 0  # newlines before `seen` (loops come in text order: count each stretch once)
        for start, close, name in loops:
            f = self.func_at(start)
            if f is None:
                continue
            open_at = src.index(b"(", start)
            argv = split_args(src[open_at + 1:close].decode("utf-8", "replace"))
            if start < seen:
                row = seen = 0
            row += src.count(b"\n", seen, start)
            seen = start
            col = start - (src.rfind(b"\n", 0, start) + 1)
            self.rows["calls"].append((self.file_id, f.fid, f.name, name, "direct", name, row + 1, col, argv))

    def stored_function(self, v: Node, f: _Func | None) -> str | None:
        if v.type == "pointer_expression":
            v = v.child_by_field_id(_FIELD["argument"]) or v
            if v.type != "identifier":
                return None
        name = self.text(v)
        return name if _may_be_function(name, f) else None

    def store_summaries(self, init_pairs: list[tuple], assigns: list[tuple]) -> None:
        """:meth:`init_pair` and :meth:`assign` for the tuples ts_walk.c's init_pair_summary and
        assign_summary made."""
        out = self.rows["fptr_assignments"].append
        file_id = self.file_id
        for start, fn, fld, struct_type, variable, line in init_pairs:
            f = self.func_at(start)
            if _may_be_function(fn, f):
                out((file_id, struct_type, fld, fn, "initializer", variable, f.name if f else None, line))
        for start, fn, fld, variable, plain_name, line in assigns:
            f = self.func_at(start)
            if _may_be_function(fn, f):
                struct_type = f.names.get(variable) if plain_name and f is not None else None
                out((file_id, struct_type, fld, fn, "assignment", variable, f.name if f else None, line))

    def init_pair(self, n: Node) -> None:
        desig = n.child_by_field_id(_FIELD["designator"])
        value = n.child_by_field_id(_FIELD["value"])
        if desig is None or value is None or len(n.children_by_field_id(_FIELD["designator"])) != 1:
            return
        f = self.func_at(n.start_byte)
        fn = self.stored_function(value, f)
        if fn is None:
            return
        fld = self.text(desig).lstrip(". \t\n")
        # Climb initializer lists to the declaration; a nested designator makes the struct unknown.
        struct_type = variable = None
        p = n.parent
        nested = False
        while p is not None and p.type == "initializer_list":
            p = p.parent
            if p is not None and p.type == "initializer_pair":
                nested = True
                p = p.parent
        if p is not None and p.type == "init_declarator":
            nm = _declarator_name(p.child_by_field_id(_FIELD["declarator"]))
            variable = self.text(nm) if nm is not None else None
            decl = p.parent
            ty = decl.child_by_field_id(_FIELD["type"]) if decl is not None else None
            if ty is not None and not nested:
                struct_type = fold(self.text(ty)) if ty.child_by_field_id(_FIELD["body"]) is None else None
        self.rows["fptr_assignments"].append((self.file_id, struct_type, fld, fn, "initializer", variable,
                                              f.name if f else None, n.start_point[0] + 1))

    def assign(self, n: Node) -> None:
        if self.text(n.child_by_field_id(_FIELD["operator"]) or n) != "=":
            return
        left = n.child_by_field_id(_FIELD["left"])
        f = self.func_at(n.start_byte)
        fn = self.stored_function(n.child_by_field_id(_FIELD["right"]), f)
        if fn is None:
            return
        fld = left.child_by_field_id(_FIELD["field"])
        arg = left.child_by_field_id(_FIELD["argument"])
        if fld is None or arg is None:
            return
        variable = self.ftext(arg)
        struct_type = None
        if arg.type == "identifier" and f is not None:
            struct_type = f.names.get(variable)
        self.rows["fptr_assignments"].append((self.file_id, struct_type, self.text(fld), fn, "assignment",
                                              variable, f.name if f else None, n.start_point[0] + 1))


def _may_be_function(name: str, f: _Func | None) -> bool:
    """Can a name stored into a field be a function? Not NULL/true/false, not an upper-case macro, not one
    of the enclosing function's parameters or locals."""
    return not (name in _NOT_FUNCTIONS or _UPPER.match(name) or (f is not None and name in f.names))


# -- declarator helpers ----------------------------------------------------------------------------

def _first(n: Node) -> Node | None:
    """First named child, or None."""
    return n.named_children[0] if n.named_child_count else None


def _function_declarator(d: Node | None) -> tuple[Node | None, int]:
    depth = 0
    while d is not None:
        if d.type == "function_declarator":
            return d, depth
        if d.type == "pointer_declarator":
            depth += 1
            d = d.child_by_field_id(_FIELD["declarator"])
        elif d.type in ("parenthesized_declarator", "attributed_declarator"):
            d = _first(d)
        else:
            return None, 0
    return None, 0


def _is_prototype(d: Node) -> bool:
    """int f(int); (not a variable) as opposed to int (*fp)(int);"""
    if d.type == "function_declarator":
        inner = d.child_by_field_id(_FIELD["declarator"])
        return inner is not None and inner.type == "identifier"
    if d.type == "pointer_declarator":
        return _is_prototype(d.child_by_field_id(_FIELD["declarator"]) or d.parent)
    return False


def _declarator_name(d: Node | None) -> Node | None:
    while d is not None and d.type not in ("identifier", "field_identifier", "type_identifier"):
        nxt = d.child_by_field_id(_FIELD["declarator"])
        d = nxt if nxt is not None else (_first(d))
    return d


def _owning_struct(field_decl: Node) -> Node | None:
    p = field_decl.parent
    while p is not None and p.type != "field_declaration_list":
        if p.type not in _PREPROC_BLOCKS:
            return None
        p = p.parent
    return p.parent if p is not None else None


def _anon_base(ty: Node, ex: _FileExtraction) -> str:
    """struct foo for a named definition, 'struct' / 'union' for an anonymous one."""
    name = ty.child_by_field_id(_FIELD["name"])
    kind = ty.type.split("_")[0]
    return f"{kind} {ex.text(name)}" if name is not None else kind


_QUALIFIERS = frozenset({"const", "volatile", "restrict", "static", "extern", "register"})


def _strip_type(text: str) -> tuple[str, int]:
    """Base type and pointer depth of a type written as text (macro arguments)."""
    depth = text.count("*")
    words = [w for w in text.replace("*", " ").split() if w not in _QUALIFIERS]
    return " ".join(words), depth


def _matching_paren(text: str, open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(text)):
        c = text[i]
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1
