"""Kernel annotation tokens that tree-sitter-c cannot parse, blanked out before parsing.

The kernel decorates declarations with macros that expand to attributes or nothing (``__rcu``,
``__must_hold(x)``, ``____cacheline_aligned_in_smp``, ``static __always_inline``). tree-sitter sees them
as unknown identifiers and produces ERROR nodes. :func:`blank_annotations` replaces each occurrence by
spaces of the same length (newlines kept), so every line and column stays where it was.

The token lists are data: add a token here when a new idiom shows up as parse errors.
"""

from __future__ import annotations

import re

__all__ = ["PLAIN_TOKENS", "INLINE_TOKENS", "CALL_TOKENS", "blank_annotations", "blank_define_comments",
           "fill_empty_defines"]

#: Tokens that expand to attributes, address-space or section markers: replaced by spaces.
PLAIN_TOKENS: tuple[str, ...] = (
    # sparse address spaces and checker annotations (compiler_types.h)
    "__rcu", "__percpu", "__iomem", "__user", "__kernel", "__force", "__nocast", "__safe", "__private",
    "__bitwise", "__must_check", "__latent_entropy", "__nocfi", "__noscs", "__no_kcsan", "__naked",
    "__randomize_layout", "__no_randomize_layout", "__designated_init", "noinstr", "notrace",
    "randomized_struct_fields_start", "randomized_struct_fields_end",
    # compiler_attributes.h (no arguments)
    "__aligned_largest", "__always_unused", "__attribute_const__", "__cold", "__hot", "__deprecated",
    "__disable_sanitizer_instrumentation", "__fix_address", "__flatten", "__gnu_inline", "__malloc",
    "__maybe_unused", "__no_caller_saved_registers", "__no_profile", "__no_stack_protector", "__noclone",
    "__noipa", "__nonstring", "__noreturn", "__overloadable", "__packed", "__pure", "__uninitialized",
    "__used", "__visible", "__weak", "noinline", "noinline_for_stack",
    # sections (init.h, cache.h, linkage.h, net)
    "__init", "__exit", "__initdata", "__initconst", "__exitdata", "__exitused", "__meminit",
    "__meminitdata", "__meminitconst", "__ref", "__refdata", "__refconst", "__read_mostly",
    "__ro_after_init", "__init_or_module", "__initdata_or_module", "__initconst_or_module",
    "__noinitretpoline", "__nosavedata", "__net_init", "__net_exit", "__net_initdata",
    "__page_aligned_data", "__page_aligned_bss", "__cpuidle", "__kprobes", "__sched", "__lockfunc",
    "__irq_entry", "__softirq_entry", "__entry_text", "__head", "__ksym", "__weak_alias",
    "asmlinkage", "__asmlinkage", "__fastcall", "__kfunc", "__bpf_kfunc",
    # cache alignment (cache.h)
    "____cacheline_aligned", "____cacheline_aligned_in_smp", "____cacheline_internodealigned_in_smp",
    "__cacheline_aligned", "__cacheline_aligned_in_smp",
)

#: Tokens meaning "inline": replaced by ``inline`` padded with spaces, so is_inline stays known.
INLINE_TOKENS: tuple[str, ...] = (
    "__always_inline", "nokprobe_inline", "__no_kasan_or_inline", "__no_sanitize_or_inline",
    "__inline_maybe_unused", "__inline__", "__inline",
)

#: Tokens followed by a parenthesized argument list: the token and its arguments are blanked.
CALL_TOKENS: tuple[str, ...] = (
    "__attribute__", "__attribute", "__aligned", "__section", "__printf", "__scanf", "__acquires",
    "__releases", "__must_hold", "__cond_acquires", "__alloc_size", "__realloc_size", "__assume_aligned",
    "__alias", "__copy", "__cleanup", "__counted_by", "__compiletime_error", "__compiletime_warning",
    "__mode", "__diagnose_as", "__pass_object_size", "BTF_TYPE_TAG", "__no_sanitize_address",
    "__nosavedata_section",
    # scope-based cleanup (cleanup.h, in 6.1.y): struct file *f __free(fput) = NULL;
    "__free",
)

_BALANCED = rb"\s*\((?:[^()]|\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))*\)"


def _alternation(tokens: tuple[str, ...]) -> bytes:
    # Longest first so that ____cacheline_aligned_in_smp wins over ____cacheline_aligned.
    return b"|".join(re.escape(t.encode()) for t in sorted(tokens, key=len, reverse=True))


# The lookahead on the first letter lets the regex engine skip most positions without trying the
# alternation (Python's re does not build a trie).
_PATTERN = re.compile(
    rb"(?=[_anrB])(?<![\w#])(?:(?P<call>" + _alternation(CALL_TOKENS) + rb")" + _BALANCED
    + rb"|(?P<inline>" + _alternation(INLINE_TOKENS) + rb")(?!\w)"
    + rb"|(?:" + _alternation(PLAIN_TOKENS) + rb")(?!\w))"
)
_NOT_NEWLINE = re.compile(rb"[^\n]")
_QUICK = re.compile(rb"__|asmlinkage|noin|notrace|nokprobe|randomized_struct|BTF_TYPE_TAG")


def _replace(m: re.Match[bytes]) -> bytes:
    text = m.group(0)
    if m.group("inline"):
        return b"inline" + b" " * (len(text) - 6)
    if b"\n" in text:
        return _NOT_NEWLINE.sub(b" ", text)
    return b" " * len(text)


# Where a token may start: every token's first two bytes followed by the rest of one of the tokens that
# begin with them ("__" + ..., "no" + inline|instr|kprobe_inline|trace, ...). Patterns with a literal
# prefix scan at memchr speed; _PATTERN.sub would run its lookbehind at every byte of the file. (A bare
# "__" gave 65 candidates per real token, each a match object and a _PATTERN.match; one scan per token
# instead of per prefix took twice the time.) finditer skips positions inside an earlier candidate: they
# follow a word byte, so _PATTERN's lookbehind would refuse them anyway.
_ALL_TOKENS = PLAIN_TOKENS + INLINE_TOKENS + CALL_TOKENS


def _starts_by_prefix(tokens: tuple[str, ...]) -> tuple[re.Pattern[bytes], ...]:
    groups: dict[str, set[str]] = {}
    for t in tokens:
        groups.setdefault(t[:2], set()).add(t[2:])
    return tuple(re.compile(re.escape(prefix.encode()) + b"(?:" + b"|".join(
        re.escape(rest.encode()) for rest in sorted(rests, key=len, reverse=True)) + b")")
        for prefix, rests in sorted(groups.items()))


_STARTS = _starts_by_prefix(_ALL_TOKENS)


_DEFINED_HERE = re.compile(rb"#[ \t]*define[ \t]+\Z")


def blank_annotations(src: bytes) -> bytes:
    """Return src with every annotation token replaced by same-length blanks (lines/columns kept).

    A token that a ``#define`` defines stays (``#define __free(_name) ...``: blanked, the directive lost its
    name and tree-sitter read the next line into it). Otherwise the same result as
    ``_PATTERN.sub(_replace, src)``, but _PATTERN is only tried where a token can start:
    a match always begins with one of the _STARTS literals, and a position inside an identifier never
    passes its lookbehind.
    """
    if not _QUICK.search(src):
        return src
    starts = {m.start() for r in _STARTS for m in r.finditer(src)}
    out: list[bytes] = []
    last = 0
    match = _PATTERN.match
    for pos in sorted(starts):
        if pos < last:
            continue
        m = match(src, pos)
        if m is None or _DEFINED_HERE.search(src, max(0, pos - 24), pos):
            continue   # not the name a #define defines: `#define __free(_name) __cleanup(...)` stays a macro
        out.append(src[last:pos])
        out.append(_replace(m))
        last = m.end()
    if not out:
        return src
    out.append(src[last:])
    return b"".join(out)


# A one-line #define whose replacement is only blanks: as written (21 in 6.1), or as blank_annotations
# leaves `#define __must_check __attribute__((__warn_unused_result__))`.
# (an object-like one needs two blanks: one stays between the name and the `1`)
_EMPTY_DEFINE = re.compile(rb"(#[ \t]*define[ \t]+\w+(?:\([^)\n]*\)[ \t]*|[ \t]+))[ \t]\n")


def fill_empty_defines(src: bytes) -> bytes:
    """Return src with a `1` as the replacement of every one-line #define that has only blanks after its
    name (its last blank becomes the `1`; lines and columns kept). tree-sitter-c reads the lines after
    such a directive into it: `#define __free(_name)` + blanks swallowed the DEFINE_GUARD(mutex, ...) on
    the next line. The macros table reads the raw text, so it keeps the empty replacement."""
    if b"define" not in src:
        return src
    return _EMPTY_DEFINE.sub(rb"\g<1>1\n", src)


#: Iterator macros used as loop headers (list_for_each_entry(pos, head, member) { ... }): any name
#: containing this word, followed by a parenthesized list and then no semicolon.
LOOP_MACRO_WORD = "for_each"

# Starts with the literal word (fast scan); the start of the identifier is found backwards in Python.
_LOOP_CANDIDATE = re.compile(LOOP_MACRO_WORD.encode() + rb"\w*[ \t]*\(")
_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_AFTER_LOOP = re.compile(rb"[ \t]*(?:\\?\r?\n[ \t]*)*(.)", re.S)
# `} while_each_thread(g, t);`: the closing half of a do-while iterator (#define while_each_thread(g, t)
# while (...)), which tree-sitter cannot read as the `while (...)` it expands to.
_DO_WHILE_MACRO = re.compile(rb"\}[ \t]*(?:\r?\n[ \t]*)*(while_\w+)[ \t]*\(")
# Words that may stand right before a loop header; any other word there (int, void, a type name) makes
# `x_for_each_y(...) {` a function definition, not a loop.
_BEFORE_LOOP_WORDS = frozenset({b"else", b"do"})


def _declares(src: bytes, start: int) -> bool:
    """True when the identifier at START follows a type (`int bus_for_each_dev(...)`, `struct x *f(...)`).

    A loop header follows a statement end (`;`, `{`, `}`, `)`, `:`), `else`/`do`, a comment or a
    preprocessor line.
    """
    i = start - 1
    while i >= 0 and src[i] in b" \t\r\n":
        i -= 1
    if i < 0:
        return False
    c = src[i]
    if c == 42:  # '*': a pointer return type
        return True
    if c not in _WORD_BYTES:
        return False
    end = i + 1
    while i >= 0 and src[i] in _WORD_BYTES:
        i -= 1
    if src[i + 1:end] in _BEFORE_LOOP_WORDS:
        return False
    line_start = src.rfind(b"\n", 0, i + 1) + 1
    return not src[line_start:i + 1].lstrip().startswith(b"#")  # `#endif` before a loop header


def rewrite_loop_macros(src: bytes) -> tuple[bytes, list[tuple[int, int, str]]]:
    """Turn `list_for_each_entry(a, b, c) {` into `while              (a, b, c) {` (same length).

    tree-sitter then sees a while loop over a comma expression instead of an expression statement
    missing its semicolon, so the loop body stays inside the function. Returns the new text and, for
    each rewritten header, (offset of the name, offset of its closing parenthesis, macro name) so the
    caller can still record the macro invocation as a call.
    """
    if LOOP_MACRO_WORD.encode() not in src:
        return src, []
    out = bytearray(src)
    found: list[tuple[int, int, str]] = []
    for m in _LOOP_CANDIDATE.finditer(src):
        i = _closing_paren(src, m.end() - 1, b";{")  # ; or { inside the argument list: not a loop header
        if i < 0:
            continue
        nxt = _AFTER_LOOP.match(src, i + 1)
        if nxt is None or nxt.group(1) in (b";", b",", b")", b"\\", b"?", b":", b"=", b"]"):
            continue
        start = m.start()
        while start > 0 and src[start - 1] in _WORD_BYTES:
            start -= 1
        if start > 0 and src[start - 1] in b".>#":
            continue  # ops->for_each_x(...): a call through a field, or a preprocessor line
        name = src[start:m.end()].rstrip(b"( \t")
        line_start = src.rfind(b"\n", 0, start) + 1
        if src[line_start:start].lstrip().startswith(b"#"):
            continue  # the #define of the iterator itself
        if _declares(src, start):
            continue  # int bus_for_each_dev(...) { ... }: a function named like an iterator
        out[start:start + len(name)] = b"while" + b" " * (len(name) - 5)
        found.append((start, i, name.decode()))
    if b"while_" in src:
        for m in _DO_WHILE_MACRO.finditer(src):
            start = m.start(1)
            close = _closing_paren(src, m.end() - 1, b";")
            if close < 0 or not src[m.end():close].strip():
                continue  # `} while_for_each_ftrace_rec();` closes braces: no condition to read
            name = m.group(1)
            out[start:start + len(name)] = b"while" + b" " * (len(name) - 5)
            found.append((start, close, name.decode()))
        found.sort()
    return bytes(out), found


def _closing_paren(src: bytes, open_at: int, stops: bytes) -> int:
    """Offset of the parenthesis closing the one at OPEN_AT within 4000 bytes, or -1 (also when a byte
    of STOPS comes first: an argument list holds no `;`)."""
    depth = 0
    for i in range(open_at, min(len(src), open_at + 4000)):
        c = src[i]
        if c == 40:  # (
            depth += 1
        elif c == 41:  # )
            depth -= 1
            if depth == 0:
                return i
        elif c in stops:
            return -1
    return -1


_CONDITIONAL = re.compile(rb"#[ \t]*(if|ifdef|ifndef|elif|elifdef|elifndef|else|endif)\b")


def _prev_code_char(src: bytes | bytearray, line_start: int) -> tuple[int, int]:
    """Last non-blank byte before line_start, and where its line starts."""
    i = line_start - 1
    while i >= 0 and src[i] in b" \t\r\n\\":
        i -= 1
    if i < 0:
        return 0, 0
    return src[i], src.rfind(b"\n", 0, i) + 1


def blank_list_conditionals(src: bytes) -> bytes:
    """Blank #if/#ifdef/#else/#endif groups that sit inside an initializer or argument list.

    tree-sitter-c accepts conditionals between statements, declarations and struct members, but not
    between the items of a list, as in ops tables:
    ``.unlocked_ioctl = ext4_ioctl,`` / ``#ifdef CONFIG_COMPAT`` / ``.compat_ioctl = ...,`` / ``#endif``.
    A group is blanked (all its directive lines, same length) when one of its directives follows a
    line ending in ',' or an initializer's opening '= {'; the items of every branch then parse as list
    items. Other groups are left alone.
    """
    if b"#" not in src:
        return src
    groups: list[list[tuple[int, int]]] = []  # directive spans of each #if group
    wanted: list[bool] = []
    stack: list[int] = []
    for m in _CONDITIONAL.finditer(src):
        pos = m.start()
        ls = src.rfind(b"\n", 0, pos) + 1
        if ls != pos and src[ls:pos].strip():
            continue
        le = pos
        while True:  # directive line with its continuations
            le = src.find(b"\n", le)
            if le < 0:
                le = len(src)
                break
            if src[le - 1:le] != b"\\":
                break
            le += 1
        ch, prev_ls = _prev_code_char(src, ls)
        in_list = ch == 44 or (ch == 123 and b"=" in src[prev_ls:ls])  # ',' or '= {'
        kind = m.group(1)
        if kind.startswith(b"if"):
            stack.append(len(groups))
            groups.append([(ls, le)])
            wanted.append(in_list)
        elif stack:
            g = stack[-1]
            groups[g].append((ls, le))
            wanted[g] = wanted[g] or in_list
            if kind == b"endif":
                stack.pop()
    if not any(wanted):
        return src
    out = bytearray(src)
    for spans, want in zip(groups, wanted, strict=True):
        if want:
            for a, b in spans:
                out[a:b] = _NOT_NEWLINE.sub(b" ", src[a:b])
    return bytes(out)


# A #define with its continuation lines; in it, strings and chars (kept) and block comments (blanked).
_DEFINE_BLOCK = re.compile(rb"^[ \t]*#[ \t]*define\b[^\n]*\\\r?\n(?:[^\n]*\\\r?\n)*[^\n]*", re.M)
_COMMENT_THEN_CONTINUATION = re.compile(rb"\*/[ \t]*\\\r?\n")
_LITERAL_OR_COMMENT = re.compile(rb'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|/\*.*?\*/', re.S)


def blank_define_comments(src: bytes) -> bytes:
    """Blank the block comments inside multi-line #defines (same length, newlines kept).

    tree-sitter-c ends a #define badly when a comment stands before a line's continuation backslash:
    net/core/pktgen.c's PKT_FLAGS (`pf(IPV6)  /* Interface in IPV6 Mode */  \\`, its last line also
    continued) swallowed the rest of the file (lines 187-4050) into one bogus function.
    """
    if _COMMENT_THEN_CONTINUATION.search(src) is None:   # 371 of the 55,405 files of 6.1 have one
        return src
    out: bytearray | None = None
    for m in _DEFINE_BLOCK.finditer(src):
        block = m.group()
        if b"/*" not in block:
            continue
        for c in _LITERAL_OR_COMMENT.finditer(block):
            if c.group().startswith(b"/*"):
                if out is None:
                    out = bytearray(src)
                a, b = m.start() + c.start(), m.start() + c.end()
                out[a:b] = _NOT_NEWLINE.sub(b" ", src[a:b])
    return bytes(out) if out is not None else src
