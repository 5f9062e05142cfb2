"""The C tree walker (analyzer/ts_walk.c, analyzer/fast_captures.py) gives exactly the facts of tree-sitter's
query cursor: same captures, same call rows, on hand-written C and on real kernel subtrees."""

from __future__ import annotations

import random
from functools import cache
from importlib import resources
from pathlib import Path

import pytest
from conftest import FIXTURES, require_real
from lima.analyzer import fast_captures
from lima.analyzer.extract import Extractor
from lima.analyzer.fast_captures import MISSING_SYMBOL, PROBE, UnsupportedPattern, compile_patterns
from tree_sitter import Query, QueryCursor

SCM = resources.files("lima.analyzer").joinpath("c_facts.scm").read_text()


@cache
def walker_extractor() -> Extractor:
    ex = Extractor()
    if ex.fast is None:
        require_real(f"the C walker is not in use: {ex.walker_reason}")
    return ex


@cache
def query_extractor() -> Extractor:
    return Extractor(walker=False)


def rows_both_ways(src: bytes) -> tuple[dict, dict]:
    """{table: sorted row reprs} (and parse errors) from the walker and from the query cursor."""
    out = []
    for ex in (walker_extractor(), query_extractor()):
        f = ex.extract(3, src)
        d = {t: sorted(map(repr, rows)) for t, rows in f.rows.items()}
        d["_errors"] = f.parse_errors
        out.append(d)
    return out[0], out[1]


def test_the_scm_file_compiles_into_the_walker_table():
    lang = query_extractor().language
    patterns, names = compile_patterns(lang, SCM)
    assert names == ("function", "call", "declaration", "struct", "typedef", "enum", "init_pair", "assign",
                     "error", "missing")
    by_name = {lang.node_kind_for_id(p[0]) if p[0] != MISSING_SYMBOL else "MISSING": p for p in patterns}
    assert set(by_name) == {"function_definition", "call_expression", "declaration", "struct_specifier",
                            "union_specifier", "type_definition", "enum_specifier", "initializer_pair",
                            "assignment_expression", "ERROR", "MISSING"}
    # (initializer_pair designator: (field_designator) value: [(identifier) (pointer_expression)]) @init_pair
    sym, cap, cons = by_name["initializer_pair"]
    assert names[cap] == "init_pair"
    sym_of = lambda kind: lang.id_for_node_kind(kind, True)  # noqa: E731
    assert cons == ((lang.field_id_for_name("designator"), (sym_of("field_designator"),)),
                    (lang.field_id_for_name("value"), (sym_of("identifier"), sym_of("pointer_expression"))))
    assert by_name["ERROR"][0] == 65535


@pytest.mark.parametrize("text", [
    '((call_expression) @c (#eq? @c "x"))',       # predicates
    '(if_statement "if" @kw)',                   # anonymous nodes
    "(expression) @e",                           # a supertype matches its subtypes: not a plain symbol
    "(call_expression function: (_)) @c",       # wildcards
    "(no_such_node) @x",
    "(call_expression (argument_list)) @c",      # a child without a field
])
def test_patterns_beyond_the_simple_form_are_refused(text):
    with pytest.raises(UnsupportedPattern):
        compile_patterns(query_extractor().language, text)


def test_the_walker_captures_what_the_query_cursor_captures():
    ex = walker_extractor()
    for src in (PROBE, (FIXTURES / "c" / "calls.c").read_bytes()):
        tree = ex.parser.parse(src)
        want = QueryCursor(Query(ex.language, SCM)).captures(tree.root_node)
        got = ex.fast.captures(tree.root_node)
        for name in set(want) | set(got):
            w = sorted((n.start_byte, n.end_byte, n.type) for n in want.get(name, []))
            g = [(n.start_byte, n.end_byte, n.type) for n in got.get(name, [])]
            assert sorted(g) == w, name
            assert [s for s, _e, _t in g] == sorted(s for s, _e, _t in g), name   # in document order


CALLS = b"""
int f(struct s *p, int (*cb)(void), int n)
{
\tint x = g(1, (2), "a,b") + (*cb)() + p->ops->run(p,  x) + (p->f)(x) + n(x);
\th(x,
\t  y) ;
\tx = k(a b,  c);
\tm(/* none */ 0);
\tq(a,\x0cb\x1c, c\\
d);
\tr(q  , [0] = 1, { 2 });
\tt()(1);
}
"""


def test_call_rows_built_in_c_are_the_python_rows():
    got, want = rows_both_ways(CALLS)
    assert got == want
    calls = {r[3]: r for r in walker_extractor().extract(3, CALLS).rows["calls"]}
    # read from CALLS above: the argument texts with whitespace folded, the kinds by the callee's form
    assert calls["g"][4:] == ("direct", "g", 4, 9, ["1", "(2)", '"a,b"'])
    assert calls["cb"][4:6] == ("pointer", "(*cb)")
    assert calls["run"][4:6] == ("field", "p->ops->run") and calls["run"][8] == ["p", "x"]
    assert calls["n"][4] == "pointer"            # a parameter called by name
    assert calls["h"][8] == ["x", "y"]
    assert calls["k"][8] == ["a b", "c"]          # `a b` parses as an error: the texts between commas
    assert calls["m"][8] == ["0"]                # comments are no arguments
    assert calls["q"][8] == ["a", "b\x1c", "c\\ d"]   # \x1c is no C blank: an error, so
    # the texts run from the first to the last token between the commas (grouped_args)
    assert calls["r"][8] == ["q , [0] = 1", "{ 2 }"]


def test_files_with_other_than_ascii_take_the_python_rows():
    src = CALLS.replace(b"\"a,b\"", "\"\u00e9,b\"".encode())
    got, want = rows_both_ways(src)
    assert got == want
    assert any('"\u00e9,b"' in r for r in got["calls"])


def test_every_fixture_gives_the_same_facts_both_ways():
    files = sorted((FIXTURES / "c").glob("*.[ch]")) + sorted((FIXTURES / "misread").glob("*.[ch]"))
    assert len(files) >= 8
    for path in files:
        got, want = rows_both_ways(path.read_bytes())
        assert got == want, path.name


def test_real_kernel_and_mm_give_the_same_facts_both_ways(kernel_src: Path):
    files = sorted(p for d in ("kernel", "mm") for p in (kernel_src / d).rglob("*.[ch]"))
    assert len(files) > 500
    differ = []
    for path in files:
        got, want = rows_both_ways(path.read_bytes())
        if got != want:
            differ.append(str(path.relative_to(kernel_src)))
    assert not differ, differ[:10]
    # and the walker was really used: kernel/fork.c's copy_process calls dup_mm... through rows built in C
    tree = walker_extractor().parser.parse((kernel_src / "kernel" / "fork.c").read_bytes())
    rows = walker_extractor().fast.captures(tree.root_node, (kernel_src / "kernel" / "fork.c").read_bytes())
    assert all(isinstance(r, tuple) for r in rows["call"])



def test_a_walker_built_for_another_tree_sitter_is_not_used(monkeypatch):
    walker_extractor()  # built here
    monkeypatch.setattr(fast_captures.metadata, "version", lambda dist: "0.0.1")
    fc = fast_captures.FastCaptures(query_extractor().language, SCM, query_extractor().facts_query)
    assert fc.walker is None
    assert "installed 0.0.1: rebuild it" in fc.reason


def test_building_without_a_compiler_says_so_in_one_line(monkeypatch, tmp_path, capsys):
    from lima.analyzer import build_ts_walk
    monkeypatch.setenv("CC", "no-such-compiler-lima")
    assert build_ts_walk.main(["--cache", str(tmp_path), "--force"]) == 1
    err = capsys.readouterr().err
    assert err == "build_ts_walk: no C compiler (apt install gcc)\n"


def test_spliced_kernel_files_give_the_same_facts_both_ways(kernel_src: Path):
    """Broken C (a stretch of a file pasted into the middle of another place of it: unbalanced braces, cut
    tokens, ERROR and MISSING nodes everywhere) must not make the walker differ from the query cursor."""
    rnd = random.Random(7)
    checked = 0
    for path in sorted((kernel_src / "kernel").rglob("*.c"))[:80]:
        text = path.read_bytes()
        for _ in range(3):
            a, b, c = (rnd.randrange(len(text)) for _ in range(3))
            spliced = text[:a] + text[b:b + rnd.randrange(2000)] + text[c:]
            got, want = rows_both_ways(spliced)
            assert got == want, (path.name, a, b, c)
            checked += 1
    assert checked == 240


def test_a_walker_built_from_another_source_is_not_used(monkeypatch):
    walker_extractor()
    monkeypatch.setattr(fast_captures, "source_digest", lambda: "0000000000000000")
    fc = fast_captures.FastCaptures(query_extractor().language, SCM, query_extractor().facts_query)
    assert fc.walker is None and "built from another ts_walk.c" in fc.reason


@pytest.mark.parametrize("pattern", [
    "(initializer_pair designator: (field_designator) designator: (subscript_designator)) @x",
    "(initializer_pair designator: (field_designator) designator: (field_designator)) @x",
    "(initializer_pair designator: (subscript_designator) value: (number_literal)) @x",
    SCM,   # init_pair: `[0].a = 1` is no match (its first designator is no field_designator), `.b[1] = 2` is
])
def test_field_constraints_match_children_in_order_each_once(pattern):
    """As a query's child steps: `[0].a = 1` has a subscript designator before its field designator, so the
    first pattern does not take it; no pair here has two field designators."""
    ex = walker_extractor()
    src = b"struct s v[] = { [0].a = 1, .b[1] = 2, .c = 3, [0].d = f, .e[1] = g };\n"
    tree = ex.parser.parse(src)
    patterns, names = compile_patterns(ex.language, pattern)
    got = ex.fast.walker.captures(tree.root_node, patterns, names)
    want = QueryCursor(Query(ex.language, pattern)).captures(tree.root_node)
    for name in set(want) | set(got):
        assert sorted(n.text for n in got.get(name, [])) == sorted(n.text for n in want.get(name, [])), name
    if pattern == SCM:
        assert [n.text for n in got["init_pair"]] == [b".e[1] = g"]
    if "field_designator) designator: (subscript" in pattern:
        assert [n.text for n in got["x"]] == [b".b[1] = 2", b".e[1] = g"]


DEFINES = (b"#define A 1\n"
           b"  #  define\tB(x, y )  ((x)  +\t(y))  \n"
           b"x = 1; #define NOT_AT_LINE_START 2\n"
           b"#definex C\n"
           b"#define D(a,\n b) body of D\n"
           b"#define E() \\\n    e1 \\\r\n\te2\x1c \\\\\n"
           b"#define F(  ) \\\\x\n"
           b"\x0c#define G\r\n"
           b"#define I a\x1c  b\x1c\n"
           b"#define H \\")


def test_define_rows_built_in_c_are_the_regex_rows():
    got, want = rows_both_ways(DEFINES)
    assert got == want
    rows = {r[1]: r[2:] for r in walker_extractor().extract(3, DEFINES).rows["macros"]}
    # read from DEFINES above: (function-like, params, body folded, line, end line)
    assert rows["A"] == (False, None, "1", 1, 1)
    assert rows["B"] == (True, ["x", "y"], "((x) + (y))", 2, 2)
    assert "NOT_AT_LINE_START" not in rows and "x" not in rows
    assert rows["D"] == (False, None, "(a,", 5, 5)          # the parameter list cannot span lines
    # a continued line, then backslash + CR is one escaped pair and the LF after it ends the body
    assert rows["E"] == (True, [], "e1 \\", 7, 8)
    assert rows["F"] == (True, [], "\\\\x", 10, 10)
    assert rows["G"] == (False, None, "", 11, 11)           # a form feed may precede it
    assert rows["I"] == (False, None, "a b", 12, 12)        # \x1c: a str blank, not a bytes one
    assert rows["H"] == (False, None, "", 13, 13)           # a backslash at the end of the file


def test_define_rows_on_spliced_kernel_headers_are_the_regex_rows(kernel_src: Path):
    rnd = random.Random(11)
    headers = sorted((kernel_src / "include" / "linux").glob("*.h"))[:150]
    checked = 0
    for path in headers:
        text = path.read_bytes()
        if not text.isascii():
            continue
        a, b, c = (rnd.randrange(len(text)) for _ in range(3))
        spliced = text[:a] + text[b:b + rnd.randrange(3000)] + text[c:]
        for src in (text, spliced):
            rows = walker_extractor().fast.define_rows(src, 3)
            fx = query_extractor()
            assert rows == fx.extract(3, src).rows["macros"], path.name
            checked += 1
    assert checked >= 250


def _column_rows(files: list[tuple[bytes, int]]) -> list[tuple]:
    """The macros rows of FILES as define_columns builds them (through workers.macro_table), as tuples."""
    from lima.analyzer.workers import macro_table
    table = macro_table(walker_extractor().fast.define_columns(files))
    return [tuple(r.values()) for r in table.to_pylist()]


def test_define_columns_are_the_define_rows():
    got = _column_rows([(DEFINES, 3), (b"int x;\n", 4), (b"#define ONE 1\n#define P( a ,b )\\\n  a\n", 5)])
    want = walker_extractor().fast.define_rows(DEFINES, 3) + walker_extractor().fast.define_rows(
        b"#define ONE 1\n#define P( a ,b )\\\n  a\n", 5)
    assert got == want
    # read from the last file: an object-like macro has no parameter list (NULL), a function-like one a
    # list with the names stripped; the continued body is folded onto one line
    assert got[-2:] == [(5, "ONE", False, None, "1", 1, 1), (5, "P", True, ["a", "b"], "a", 2, 3)]
    assert _column_rows([]) == [] and _column_rows([(b"int x;", 1)]) == []


def test_define_columns_on_real_headers_are_the_define_rows(kernel_src: Path):
    headers = sorted((kernel_src / "include" / "linux").rglob("*.h"))
    files = [(p.read_bytes(), i + 1) for i, p in enumerate(headers)]
    files = [f for f in files if f[0].isascii()]
    want = [r for raw, fid in files for r in walker_extractor().fast.define_rows(raw, fid)]
    assert len(want) > 40_000
    assert _column_rows(files) == want


def test_a_batch_keeps_no_macros_of_a_file_whose_extraction_failed(tmp_path, monkeypatch):
    from lima.analyzer.workers import Task, process_batch
    good, bad = tmp_path / "good.c", tmp_path / "bad.c"
    good.write_bytes(b"#define GOOD 1\nint g;\n")
    bad.write_bytes(b"#define BAD 2\nint b;\n")
    ex = Extractor()
    if ex.fast is None:
        require_real(f"the C walker is not in use: {ex.walker_reason}")
    parse = ex.parse

    def failing_parse(raw: bytes):
        if b"BAD" in raw:
            raise RuntimeError("parser broke")   # after macros() deferred the file's #defines
        return parse(raw)

    monkeypatch.setattr(ex, "parse", failing_parse)
    tasks = [Task(1, "good.c", str(good), None, 0, 0), Task(2, "bad.c", str(bad), None, 0, 0)]
    res = process_batch(tasks, ex)
    assert [f.status for f in res.files] == ["ok", "failed"]
    assert res.tables["macros"].column("name").to_pylist() == ["GOOD"]
    assert ex.deferred_defines is None   # the batch is over: single files get their rows again


def test_annotations_blanked_in_c_are_the_python_ones(kernel_src: Path):
    from lima.analyzer import kernel_annotations as ka
    from lima.analyzer.fast_captures import ANNOTATION_PROBE
    fast = walker_extractor().fast
    got = fast.blank_annotations(ANNOTATION_PROBE)
    assert got == ka.blank_annotations(ANNOTATION_PROBE) and len(got) == len(ANNOTATION_PROBE)
    lines = got.decode().splitlines()
    # read from ANNOTATION_PROBE: inline tokens become `inline`, a call token goes with its arguments
    # (nested parentheses, strings), a #define keeps the name it defines, `x__init` and `#__init` stay, and
    # so do arguments nested deeper than four or never closed
    assert lines[1].startswith("static inline          void        f(struct s       *p)")
    assert lines[1].rstrip().endswith("*p)")
    assert lines[2] == "{ int" + " " * 50 + "v               ; }"
    assert lines[3].rstrip() == "#define __free(_name)"
    assert lines[4] == "#  define __must_check"
    assert "x__init #__init" in lines[6] and "__printf" not in lines[6]
    assert lines[7] == "__aligned((((((8)))))) inline     __section("
    rnd = random.Random(5)
    files = sorted(p for d in ("kernel", "mm", "include/linux") for p in (kernel_src / d).rglob("*.[ch]"))
    for path in files:
        text = ka.blank_define_comments(path.read_bytes())
        a, b = rnd.randrange(len(text) + 1), rnd.randrange(len(text) + 1)
        for src in (text, text[:a] + text[b:b + 500] + text[a:]):
            assert fast.blank_annotations(src) == ka.blank_annotations(src), path.name


def test_annotation_tokens_must_be_distinct_identifiers():
    walker = walker_extractor().fast.walker
    from lima.analyzer import kernel_annotations as ka
    try:
        with pytest.raises(ValueError, match="distinct identifiers"):
            walker.set_annotation_tokens(("__x",), ("__x",), ())
        with pytest.raises(ValueError, match="distinct identifiers"):
            walker.set_annotation_tokens(("a b",), (), ())
        with pytest.raises(RuntimeError, match="set_annotation_tokens first"):
            walker.blank_annotations(b"int __rcu *p;")   # a failed setting leaves no half-made table
    finally:
        walker.set_annotation_tokens(ka.CALL_TOKENS, ka.INLINE_TOKENS, ka.PLAIN_TOKENS)
    assert walker.blank_annotations(b"int __rcu *p;") == b"int       *p;"


STRUCTS = (b"struct s {\n"
           b"  int a:3, :5; int :32, :32;\n"
           b"#ifdef X\n"
           b"  struct { int c; } in, *pin;\n"
           b"#endif\n"
           b"  union { long l; };\n"
           b"  const int arr[4][N], (*fp)(int);\n"
           b"  struct t *next;\n"
           b"};\n")


def test_struct_rows_built_in_c_are_the_python_rows():
    got, want = rows_both_ways(STRUCTS)
    assert got == want
    rows = walker_extractor().extract(3, STRUCTS).rows
    structs = {r[0]: r for r in rows["structs"]}
    fields = {(r[0], r[2]): r[3:10] for r in rows["fields"]}
    outer = next(sid for sid, r in structs.items() if r[2] == "s")
    # read from STRUCTS: (name, type_text, base, depth, dims, bits, nested struct)
    assert fields[outer, 2] == ("", "int", "int", 0, None, "32", None)     # unnamed bitfields are members
    inner = fields[outer, 4][6]
    assert fields[outer, 4] == ("in", "struct", "struct", 0, None, None, inner)   # inside #ifdef
    assert structs[inner][4:6] == (outer, "in")                             # its parent and member
    assert fields[outer, 5] == ("pin", "struct *", "struct", 1, None, None, inner)
    assert fields[outer, 6][:3] == (None, "union", "union")                 # an anonymous union member
    assert fields[outer, 7] == ("arr", "const int", "int", 0, "[4][N]", None, None)
    assert fields[outer, 8][:4] == ("fp", "const int (*)(int)", "int", 1)
    assert fields[outer, 9] == ("next", "struct t *", "struct t", 1, None, None, None)


FPTRS = (b"static const struct file_operations fops = { .read = foo_read, .write = &foo_write,\n"
         b"    .owner = THIS_MODULE, .llseek = NULL, .inner = { .run = foo_run } };\n"
         b"static struct ops table[] = { [0] = { .go = go0 } };\n"
         b"int setup(struct ops *o, int (*cb)(void))\n"
         b"{\n"
         b"    struct ops local = { .go = cb, .stop = foo_stop };\n"
         b"    o->go = foo_go; o->stop = cb; local.run = &foo_run; o->n += foo_go;\n"
         b"    return 0;\n"
         b"}\n")


def test_function_pointer_stores_built_in_c_are_the_python_rows():
    got, want = rows_both_ways(FPTRS)
    assert got == want
    rows = sorted((r[1:] for r in walker_extractor().extract(3, FPTRS).rows["fptr_assignments"]), key=repr)
    # read from FPTRS: (struct type, field, function, kind, variable, function stored in, line); macros, NULL
    # and the function's own names (cb) are no functions; a nested designator makes the struct unknown;
    # `o->n += foo_go` stores nothing; `local.run = &foo_run` takes the local's declared type
    assert rows == sorted([
        ("struct file_operations", "read", "foo_read", "initializer", "fops", None, 1),
        ("struct file_operations", "write", "foo_write", "initializer", "fops", None, 1),
        (None, "run", "foo_run", "initializer", "fops", None, 2),
        (None, "go", "go0", "initializer", "table", None, 3),
        ("struct ops", "stop", "foo_stop", "initializer", "local", "setup", 6),
        ("struct ops", "go", "foo_go", "assignment", "o", "setup", 7),
        ("struct ops", "run", "foo_run", "assignment", "local", "setup", 7),
    ], key=repr)


TOP = (b"static DEFINE_SPINLOCK(a_lock);\n"
       b"#ifdef X\n"
       b"SYSCALL_DEFINE1(close, unsigned int, fd)\n"
       b"{ return 0; }\n"
       b"#endif\n"
       b"int plain;\n"
       b"DEFINE_PER_CPU(int, counter);\n"
       b"EXPORT_SYMBOL(plain);\n"
       b"static int f(void) { return 1; }\n")


def test_top_level_items_are_those_top_level_reads():
    ex = walker_extractor()
    tree = ex.parser.parse(TOP)
    items = ex.fast.top_level_items(tree.root_node)
    got = [(n.start_point[0] + 1, nxt.type if nxt else None) for n, nxt in items]
    # read from TOP: the macro uses at file scope (the SYSCALL_DEFINE1 inside #ifdef with the body after
    # it), not `int plain;` nor the function definition
    assert got == [(1, None), (3, "compound_statement"), (7, None), (8, None)]
    got_rows, want_rows = rows_both_ways(TOP)
    assert got_rows == want_rows
    names = {r[2] for r in ex.extract(3, TOP).rows["functions"]}
    assert {"__do_sys_close", "__se_sys_close", "__x64_sys_close", "f"} <= names
