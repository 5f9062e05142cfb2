"""A small C expression parser for lock arguments (the text of one call argument, a macro body piece).

It returns tuples, not classes, so the resolver can match on them cheaply:
  ('id', name) ('num', text) ('str', value) ('stringify', param)
  ('member', base, name, arrow) ('index', base, index) ('call', fn, [(node, text), ...])
  ('unary', op, operand) ('postfix', op, operand) ('cast', (base_type, pointer_depth), operand)
  ('cond', c, a, b) ('binary', op, l, r) ('stmt_expr', text) ('raw', text) ('sizeof', text)
Anything it cannot read becomes ('raw', text): the parser never raises on kernel text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

__all__ = ["tokenize", "parse_expr", "split_args", "parse_type", "fold_ws", "name_pattern", "Node",
           "TYPE_WORDS", "QUALIFIERS"]

Node = tuple

_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+|/\*.*?\*/|//[^\n]*)
  | (?P<str>L?"(?:[^"\\]|\\.)*")
  | (?P<chr>L?'(?:[^'\\]|\\.)*')
  | (?P<num>\.?\d[\w.]*(?:[eEpP][+-][\w]*)?)
  | (?P<id>[A-Za-z_$][\w$]*)
  | (?P<op>\.\.\.|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||\+=|-=|\*=|/=|%=|&=|\^=|\|=|\#\#
          |[-+*/%&|^~!<>=?:,.;()\[\]{}\#\\@`])
""", re.S | re.X)

QUALIFIERS = {
    "const", "volatile", "restrict", "__restrict", "__rcu", "__iomem", "__user", "__percpu", "__force",
    "__kernel", "__private", "register", "static", "extern", "inline", "__inline", "__always_inline",
    "__maybe_unused", "__must_check", "__attribute__", "__aligned", "__packed", "__randomize_layout",
    "__data_racy", "__bitwise", "__safe", "__nocast", "__cacheline_aligned", "noinline", "__init",
}
TYPE_WORDS = {
    "struct", "union", "enum", "unsigned", "signed", "int", "char", "long", "short", "void", "float",
    "double", "_Bool", "bool", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "__u8", "__u16",
    "__u32", "__u64", "__s8", "__s16", "__s32", "__s64", "size_t", "ssize_t", "uintptr_t", "atomic_t",
    "atomic_long_t", "typeof", "__typeof__", "__typeof", "gfp_t", "loff_t", "pgoff_t", "pid_t",
} | QUALIFIERS


def fold_ws(text: str) -> str:
    """Fold whitespace runs to one space and trim (the form # and the calls table use)."""
    return " ".join(text.split())


@functools.lru_cache(maxsize=16384)
def name_pattern(before: str, name: str, after: str, flags: int = 0) -> re.Pattern:
    """The compiled regex `before` + NAME (escaped) + `after`. The lock pass builds such patterns for
    thousands of names, more than the re module's own cache holds (512): compiled once each here."""
    return re.compile(before + re.escape(name) + after, flags)


def tokenize(text: str) -> list[str]:
    """Tokens of C text, comments and whitespace dropped; adjacent string literals kept separate."""
    out: list[str] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN_RE.match(text, pos)
        if not m:
            out.append(text[pos])
            pos += 1
            continue
        pos = m.end()
        if m.lastgroup != "ws":
            out.append(m.group())
    return out


def split_args(tokens: list[str]) -> list[list[str]]:
    """Split a token list on top-level commas."""
    args: list[list[str]] = [[]]
    depth = 0
    for t in tokens:
        if t in "([{":
            depth += 1
        elif t in ")]}":
            depth -= 1
        if t == "," and depth == 0:
            args.append([])
        else:
            args[-1].append(t)
    if args == [[]]:
        return []
    return args


def parse_type(text: str | list[str]) -> tuple[str, int] | None:
    """'const struct foo *' -> ('struct foo', 1); None when it is not a type name."""
    toks = tokenize(text) if isinstance(text, str) else text
    words: list[str] = []
    ptr = 0
    i = 0
    while i < len(toks):
        t = toks[i]
        if t == "*":
            ptr += 1
        elif t in ("__attribute__", "__aligned") and i + 1 < len(toks) and toks[i + 1] == "(":
            depth = 0
            while i < len(toks):
                if toks[i] == "(":
                    depth += 1
                elif toks[i] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                i += 1
        elif t in ("typeof", "__typeof__", "__typeof"):
            return None
        elif t in QUALIFIERS:
            pass
        elif re.match(r"[A-Za-z_]\w*$", t):
            words.append(t)
        else:
            return None
        i += 1
    if not words:
        return None
    if words[0] in ("struct", "union", "enum"):
        if len(words) < 2:
            return None
        return f"{words[0]} {words[1]}", ptr
    return " ".join(words), ptr


_BIN_PREC = {
    "*": 10, "/": 10, "%": 10, "+": 9, "-": 9, "<<": 8, ">>": 8, "<": 7, ">": 7, "<=": 7, ">=": 7,
    "==": 6, "!=": 6, "&": 5, "^": 4, "|": 3, "&&": 2, "||": 1,
}
_ASSIGN = {"=", "+=", "-=", "*=", "/=", "%=", "&=", "^=", "|=", "<<=", ">>="}


class _Parser:
    def __init__(self, toks: list[str], is_type: Callable[[str], bool]):
        self.t = toks
        self.i = 0
        self.is_type = is_type

    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.t[j] if j < len(self.t) else None

    def take(self) -> str:
        tok = self.t[self.i]
        self.i += 1
        return tok

    def expect(self, tok: str) -> None:
        if self.peek() != tok:
            raise SyntaxError(tok)
        self.i += 1

    def matching(self, start: int) -> int:
        """Index of the bracket closing the one at start."""
        depth = 0
        for j in range(start, len(self.t)):
            if self.t[j] in "([{":
                depth += 1
            elif self.t[j] in ")]}":
                depth -= 1
                if depth == 0:
                    return j
        raise SyntaxError("unbalanced")

    def expr(self) -> Node:
        node = self.assign()
        while self.peek() == ",":
            self.take()
            node = ("binary", ",", node, self.assign())
        return node

    def assign(self) -> Node:
        left = self.cond()
        if self.peek() in _ASSIGN:
            op = self.take()
            return ("binary", op, left, self.assign())
        return left

    def cond(self) -> Node:
        c = self.binary(1)
        if self.peek() == "?":
            self.take()
            a = self.expr() if self.peek() != ":" else c   # GNU x ?: y
            self.expect(":")
            b = self.cond()
            return ("cond", c, a, b)
        return c

    def binary(self, min_prec: int) -> Node:
        left = self.unary()
        while True:
            op = self.peek()
            prec = _BIN_PREC.get(op or "")
            if prec is None or prec < min_prec:
                return left
            self.take()
            right = self.binary(prec + 1)
            left = ("binary", op, left, right)

    def looks_like_type(self, start: int, end: int) -> bool:
        toks = self.t[start:end]
        if not toks:
            return False
        first = toks[0]
        if first in TYPE_WORDS:
            return all(t == "*" or re.match(r"[A-Za-z_]\w*$", t) or t in "()" for t in toks)
        if re.match(r"[A-Za-z_]\w*$", first) and self.is_type(first):
            return all(t == "*" or t in QUALIFIERS for t in toks[1:])
        return False

    def unary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise SyntaxError("eof")
        if tok in ("&", "*", "-", "+", "!", "~", "++", "--"):
            self.take()
            return ("unary", tok, self.unary())
        if tok in ("sizeof", "_Alignof", "__alignof__", "alignof"):
            self.take()
            if self.peek() == "(":
                end = self.matching(self.i)
                text = " ".join(self.t[self.i + 1:end])
                self.i = end + 1
                return ("sizeof", text)
            self.unary()
            return ("sizeof", "")
        if tok == "(" and self.peek(1) != "{":
            end = self.matching(self.i)
            if self.peek(1) in ("typeof", "__typeof__", "__typeof") and self.peek(2) == "(":
                close = self.matching(self.i + 2)
                if all(t == "*" or t in QUALIFIERS for t in self.t[close + 1:end]):
                    self.i = end + 1
                    return ("cast", None, self.unary())
            if self.looks_like_type(self.i + 1, end):
                ty = parse_type(self.t[self.i + 1:end])
                self.i = end + 1
                if self.peek() == "{":                       # compound literal
                    close = self.matching(self.i)
                    self.i = close + 1
                    return self.postfix(("raw", "compound literal"))
                operand = self.unary()
                return ("cast", ty, operand) if ty else operand
        return self.postfix(self.primary())

    def primary(self) -> Node:
        tok = self.take()
        if tok == "(":
            if self.peek() == "{":
                end = self.matching(self.i - 1)
                text = " ".join(self.t[self.i - 1:end + 1])
                self.i = end + 1
                return ("stmt_expr", text)
            node = self.expr()
            self.expect(")")
            return ("paren", node)
        if tok == "#" and self.peek() is not None and re.match(r"[A-Za-z_]\w*$", self.peek() or ""):
            return ("stringify", self.take())
        if tok.startswith('"') or tok.startswith('L"'):
            parts = [tok]
            while self.peek() is not None and (self.peek().startswith('"')  # type: ignore[union-attr]
                                               or self.peek() == "#"):
                if self.peek() == "#":
                    self.take()
                    parts.append(("#", self.take()))  # type: ignore[arg-type]
                else:
                    parts.append(self.take())
            if len(parts) == 1:
                return ("str", _unquote(tok))
            return ("strcat", parts)
        if tok[0].isdigit() or tok[0] == "." or tok[0] == "'" or tok.startswith("L'"):
            return ("num", tok)
        if re.match(r"[A-Za-z_$][\w$]*$", tok):
            return ("id", tok)
        raise SyntaxError(tok)

    def postfix(self, node: Node) -> Node:
        while True:
            tok = self.peek()
            if tok == "(":
                end = self.matching(self.i)
                inner = self.t[self.i + 1:end]
                self.i = end + 1
                args = []
                for a in split_args(inner):
                    args.append((_parse_tokens(a, self.is_type), " ".join(a)))
                node = ("call", node, args)
            elif tok == "[":
                self.take()
                idx = self.expr()
                self.expect("]")
                node = ("index", node, idx)
            elif tok in (".", "->"):
                self.take()
                name = self.take()
                node = ("member", node, name, tok == "->")
            elif tok in ("++", "--"):
                self.take()
                node = ("postfix", tok, node)
            else:
                return node


def _unquote(tok: str) -> str:
    s = tok[1:-1] if tok.startswith('"') else tok[2:-1]
    return s.replace('\\"', '"').replace("\\\\", "\\")


def _parse_tokens(toks: list[str], is_type: Callable[[str], bool]) -> Node:
    if not toks:
        return ("raw", "")
    p = _Parser(toks, is_type)
    try:
        node = p.expr()
        if p.i != len(toks):
            return ("raw", " ".join(toks))
        return node
    except (SyntaxError, IndexError, RecursionError):
        return ("raw", " ".join(toks))


def parse_expr(text: str, is_type: Callable[[str], bool] = lambda _n: False) -> Node:
    """Parse one C expression; ('raw', text) when it cannot be read."""
    return _parse_tokens(tokenize(text), is_type)
