"""Which locks a function still holds where it returns, path by path.

A function like task_rq_lock (kernel/sched/core.c) locks, checks, unlocks and retries in a loop, and
returns from inside the loop with the lock held: counting its lock and unlock calls says "balanced",
following its paths says "held on return". `return_states` walks the function's statements (tree-sitter
parse of its text) with the lock operations of its calls and answers with the lock counts at every
return (and at the end of the body): if/else and switch branches, loops (exit by condition or break),
break/continue, forward gotos to labels. A backward goto (`goto retry`) ends its path, as the repeated
part of a retry loop does. A conditional operation (a trylock, held when the call returns true; an
interruptible or killable lock, held when it returns 0) splits the paths where its result is tested:
`if (trylock(..))`, `if (mutex_lock_killable(..)) return -EINTR;`, or `ret = down_read_killable(..);
if (ret) return ret;` (either outcome on both branches when the test says more than that).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Hashable

import tree_sitter_c
from tree_sitter import Language, Node, Parser, Query, QueryCursor

from .kernel_annotations import blank_annotations, rewrite_loop_macros
from .lock_catalogue import CONFIG_LOCK_DEBUG

__all__ = ["Op", "return_states", "ACQUIRE", "RELEASE", "HELD_IF_TRUE", "HELD_IF_ZERO", "ACQUIRE_OR_ZERO",
           "RETURNS"]

#: One lock operation of a call: (group key, ACQUIRE | RELEASE | HELD_IF_TRUE | HELD_IF_ZERO).
Op = tuple[Hashable, int]
ACQUIRE, RELEASE, HELD_IF_TRUE, HELD_IF_ZERO = 1, -1, 0, 2
#: An acquire whose result, where the code tests it, says whether it took the lock (0: taken), and which
#: takes it where the result is not used: an int function that passes for an acquire wrapper by counting
#: but fails with an error (ttm_bo_reserve: `ret = ttm_bo_reserve(..); if (ret) return ret;`).
ACQUIRE_OR_ZERO = 3
_RESULT_OPS = (HELD_IF_TRUE, HELD_IF_ZERO, ACQUIRE_OR_ZERO)   # ops whose call's result says something
State = frozenset   # of (group key, count) with count != 0
#: Key of a return state's value class: "zero" (0, false, NULL), "true" (a nonzero number, true),
#: "error" (-ECODE, ERR_PTR(...)) or "call" (a call's result); absent when the return gives anything else
#: or the body ends without one.
RETURNS = "returns"

_MAX_STATES = 64
_LOOP_ROUNDS = 4
_PARSER: Parser | None = None
_MARKS: Query | None = None
_INFINITE = {"1", "true", "(1)", "(true)"}


class _GiveUp(Exception):
    """Too many states, or a call the walker cannot find in the text."""


def _parser() -> Parser:
    global _PARSER
    if _PARSER is None:
        _PARSER = Parser(Language(tree_sitter_c.language()))
    return _PARSER


def _marks_query() -> Query:
    """The nodes _Walker.expr reads in an expression: calls (those of a name are what a function's lock
    operations are tied to) and what assigns a variable."""
    global _MARKS
    if _MARKS is None:
        _MARKS = Query(Language(tree_sitter_c.language()), "(call_expression) @call "
                       "[(assignment_expression) (update_expression) (init_declarator)] @set")
    return _MARKS


def return_states(text: str, first_line: int, calls: list[tuple[int, str, list[Op]]]
                  ) -> list[dict[Hashable, int]] | None:
    """Lock counts (group key -> held count) at each return of a function, and at the end of its body
    when control reaches it. `text` is the function's source from its first line (`first_line` in its
    file); `calls` are its calls in order of line: (line, name written, lock operations). None when the
    text cannot be read as one function, a call with lock operations is not found in it, or the paths
    are too many to follow."""
    src, loops = rewrite_loop_macros(blank_annotations(text.encode("utf-8", "replace")))
    tree = _parser().parse(src)
    body = next((c.child_by_field_name("body") for c in tree.root_node.named_children
                 if c.type == "function_definition"), None)
    if body is None:
        return None
    nodes: dict[tuple[int, str], list[Node]] = {}
    marks = QueryCursor(_marks_query()).captures(body)
    every_call = sorted(marks.get("call", ()), key=lambda n: n.start_byte)
    for n in every_call:
        fn = n.child_by_field_name("function")
        if fn is not None and fn.type == "identifier":
            key = (n.start_point[0] + first_line, fn.text.decode("utf-8", "replace"))
            nodes.setdefault(key, []).append(n)
    ops: dict[int, list[Op]] = {}
    taken: dict[tuple[int, str], int] = {}
    for line, name, cops in calls:
        k = (line, name)
        i = taken.get(k, 0)
        taken[k] = i + 1
        if not cops:
            continue
        lst = nodes.get(k, [])
        if i >= len(lst):
            return None
        ops.setdefault(lst[i].start_byte, []).extend(cops)
    w = _Walker(ops, [n for n in every_call if n.start_byte in ops], marks.get("set", []))
    # a variable whose address is passed on may be set by the callee: ext4_ind_truncate_ensure_credits
    # starts with `dropped = 0` and re-locks `if (dropped)`, set through &dropped
    w.addressed = {m.decode() for m in _ADDRESSED.findall(src)}
    # ... and so is a loop macro's cursor (hlist_for_each_entry(found, ...) after `found = NULL`)
    for start, end, _name in loops:
        cursor = src[start:end + 1].split(b"(", 1)[-1].split(b",", 1)[0].strip().decode("utf-8", "replace")
        if cursor.isidentifier():
            w.addressed.add(cursor)
    try:
        end = w.stmt(body, {frozenset()})
    except (_GiveUp, RecursionError):
        return None
    return [{k: v for k, v in s if not (isinstance(k, tuple) and k[:1] in ((_MARK,), (_VALUE,)))}
            for s in w.returns | end]


class _Walker:
    def __init__(self, ops: dict[int, list[Op]], op_calls: list[Node], sets: list[Node]):
        self.ops = ops
        # the calls with lock operations and the assigning nodes of the body, by position, so that an
        # expression's are found by bisection rather than by visiting every node under it
        self.op_calls = sorted(op_calls, key=lambda c: (c.start_byte, -c.end_byte))
        self.op_call_starts = [c.start_byte for c in self.op_calls]
        self.sets = sorted(sets, key=lambda c: (c.start_byte, -c.end_byte))
        self.set_starts = [c.start_byte for c in self.sets]
        self.returns: set[State] = set()
        self.gotos: dict[str, set[State]] = {}
        self.frames: list[tuple[set[State], set[State]]] = []   # (breaks, continues) of enclosing loops
        self.tracked: set[str] = set()   # variables assigned the result of a conditional lock call
        self.addressed: set[str] = set()   # variables whose address the function takes (&v)

    # -- expressions --------------------------------------------------------------------------------

    def expr(self, n: Node | None, states: set[State], result: bool | None = None) -> set[State]:
        """States after evaluating n: the calls in it in text order. A conditional operation takes the
        outcome `result` says (the call's result is true), both when None; `v = call(..)` marks each
        outcome with v, for a later test of v (cond)."""
        if n is None or not states:
            return states
        start, end = n.start_byte, n.end_byte
        calls = [c for c in self.op_calls[bisect_left(self.op_call_starts, start):
                                          bisect_left(self.op_call_starts, end)] if c.end_byte <= end]
        assigned = set()
        constants: dict[str, str] = {}   # variable -> value class of the constant assigned to it
        # in the order of a walk from the right (a node, then its children from the last): where one
        # expression assigns a variable twice, the leftmost assignment, or the innermost, is the one kept
        sets = [c for c in self.sets[bisect_left(self.set_starts, start):bisect_left(self.set_starts, end)]
                if c.end_byte <= end]
        for c in sorted(sets, key=lambda c: (c.end_byte, -c.start_byte), reverse=True):
            left = c.child_by_field_name("left" if c.type == "assignment_expression" else
                                         "argument" if c.type == "update_expression" else "declarator")
            while left is not None and left.type == "pointer_declarator":   # struct x *ld = NULL
                left = left.child_by_field_name("declarator")
            if left is not None and left.type == "identifier":
                name = left.text.decode()
                assigned.add(name)
                op = c.child_by_field_name("operator")
                right = c.child_by_field_name("value" if c.type == "init_declarator" else "right")
                value = _constant_class(right) if c.type == "init_declarator" and not _static(c) or (
                    c.type == "assignment_expression" and op is not None and op.type == "=") else None
                if value is not None:
                    constants[name] = value
        if assigned:   # what earlier tests said of an assigned variable no longer holds
            states = {frozenset(kv for kv in s if not (isinstance(kv[0], tuple) and kv[0][0] == _VALUE
                                                       and kv[0][1] in assigned)) for s in states}
            # nor what a lock call's result said of it: `status = refresh(..)` after `status =
            # cluster_lock(..)` (ocfs2_inode_lock_full_nested) is unknown (-1) until a new lock call
            # (not one assigned a lock call's result here: `r = dma_resv_lock(..)` in the else branch of
            # `r = dma_resv_lock_interruptible(..)`, ttm_mem_evict_wait_busy, is 0 with the lock held)
            direct = {_assigned_var(c) for c in calls}
            for name in (assigned & self.tracked) - direct:
                states = {_add(_drop(x, (_MARK, name)), (_MARK, name), -1) for x in states}
        for name, value in constants.items():   # ... but a constant says what it is now (int rc = -EIO;)
            states = {_with_value(x, name, value) for x in states}
        for c in sorted(calls, key=lambda c: c.start_byte):
            ops = self.ops[c.start_byte]
            var = _assigned_var(c) if result is None and any(d in _RESULT_OPS for _k, d in ops) else None
            if var is not None:
                self.tracked.add(var)
                mark = (_MARK, var)
                states = {_add(_drop(s, mark), mark, 1) for s in states} | {_drop(s, mark) for s in states}
            for key, delta in ops:
                if delta in (ACQUIRE, RELEASE):
                    states = {_add(s, key, delta) for s in states}
                    continue
                want = delta == HELD_IF_TRUE   # the result for which the lock is held
                if var is not None:
                    states = {_add(s, key, 1) if ((_MARK, var), 1) in s and want
                              or ((_MARK, var), 1) not in s and not want else s for s in states}
                elif result is None and delta == ACQUIRE_OR_ZERO:   # result not used: taken
                    states = {_add(s, key, 1) for s in states}
                elif result is None:
                    states = states | {_add(s, key, 1) for s in states}
                elif result == want:
                    states = {_add(s, key, 1) for s in states}
            if len(states) > _MAX_STATES:
                raise _GiveUp
        return states

    def cond(self, n: Node | None, states: set[State]) -> tuple[set[State], set[State]]:
        """(states when n is true, states when false). `a && b` and `a || b` test b only where a lets
        the program evaluate it (ocfs2's `if (!ret && lockres->l_lockdep_map.key != NULL)` takes the
        lockdep map only where ret is 0); a test whether a lockdep map is registered counts as true (an
        unregistered one is the same lock, untracked)."""
        inner = _unparenthesized(n)
        if inner is not None and inner.type == "binary_expression":
            op = inner.child_by_field_name("operator")
            if op is not None and op.type in ("&&", "||"):
                a_yes, a_no = self.cond(inner.child_by_field_name("left"), states)
                if op.type == "&&":
                    b_yes, b_no = self.cond(inner.child_by_field_name("right"), a_yes)
                    return b_yes, a_no | b_no
                b_yes, b_no = self.cond(inner.child_by_field_name("right"), a_no)
                return a_yes | b_yes, b_no
        if inner is not None and inner.type == "unary_expression" and inner.child(0) is not None \
                and inner.child(0).type == "!" and inner.named_children \
                and _logical(inner.named_children[0]):
            yes, no = self.cond(inner.named_children[0], states)
            return no, yes
        if inner is not None and _LOCKDEP_KEY_TEST.fullmatch(inner.text):
            return states, set()
        inner, negated, strict = _try_test(n, self.ops)
        if inner is None:
            s = self.expr(n, states)
            return s, s
        if inner.type == "identifier":
            if inner.text.decode() not in self.tracked:
                # `if (ret)`, `if (!ret)`, `if (ret < 0)` on a plain variable: each branch remembers what
                # the test says of it, for a later `return ret;` (mnt_want_write: 0 with the lock held).
                # A path where the variable holds a known constant takes only the branch that constant
                # takes: ocfs2_inode_lock_full_nested sets `acquired = 1` after its lock, and its error
                # path unlocks `if (acquired)`
                s = self.expr(n, states)
                name = inner.text.decode()
                yes, no = set(), set()
                for x in s:
                    known = dict(x).get((_VALUE, name)) if name not in self.addressed else None
                    if known != "zero" and (known == "error" or strict and known == "true"):
                        yes.add(x)
                    elif known == "zero":
                        no.add(x)
                    else:
                        # `if (ret < 0)`: the value is negative where it holds, an error code
                        yes.add(_with_value(x, name, "true" if strict else "error"))
                        no.add(_with_value(x, name, "zero") if strict else x)
                return (no, yes) if negated else (yes, no)
            name = inner.text.decode()
            mark, unknown = ((_MARK, name), 1), ((_MARK, name), -1)
            unset = {s for s in states if unknown in s}
            # what the test says of the value, for a later `return status;`; a value assigned since the
            # lock call is tested as an untracked variable's
            yes = {_with_value(x, name, "true" if strict else "error") for x in states
                   if mark in x or x in unset}
            no = {_with_value(x, name, "zero") if strict else x for x in states if mark not in x}
        else:
            yes, no = self.expr(n, states, True), self.expr(n, states, False)
        return (no, yes) if negated else (yes, no)

    # -- statements ---------------------------------------------------------------------------------

    def stmt(self, n: Node | None, states: set[State]) -> set[State]:
        """States after n completes normally (returns, gotos, breaks and continues are recorded)."""
        if n is None:
            return states
        t = n.type
        if t in ("compound_statement", "ERROR", "translation_unit"):
            return self.seq(n.named_children, states)
        if t == "if_statement":
            yes, no = self.cond(n.child_by_field_name("condition"), states)
            out = self.stmt(n.child_by_field_name("consequence"), yes)
            alt = n.child_by_field_name("alternative")
            return out | (self.stmt(alt, no) if alt is not None else no)
        if t == "else_clause":
            return self.seq(n.named_children, states)
        if t in ("while_statement", "for_statement", "do_statement"):
            return self.loop(n, states)
        if t == "switch_statement":
            head = self.expr(n.child_by_field_name("condition"), states)
            self.frames.append((set(), set()))
            out: set[State] = set()
            default = False
            for c in n.child_by_field_name("body").named_children if n.child_by_field_name("body") else []:
                if c.type == "case_statement":
                    default |= c.child_by_field_name("value") is None
                    out = self.seq([x for x in c.named_children if x != c.child_by_field_name("value")],
                                   out | head)
                else:
                    out = self.stmt(c, out)
            breaks, conts = self.frames.pop()
            if self.frames:
                self.frames[-1][1].update(conts)
            return out | breaks | (set() if default else head)
        if t == "return_statement":
            returned = n.named_children[0] if n.named_children else None
            call, negated, strict = _try_test(returned, self.ops)
            if call is not None and call.type == "call_expression" and strict:
                # `return mutex_lock_interruptible(&ctx->state_mutex);` (spu_acquire): the result says
                # whether the lock is held, as a test of it would
                yes, no = self.expr(n, states, True), self.expr(n, states, False)
                if negated:
                    yes, no = no, yes
                self.returns |= {x | {(RETURNS, "true")} for x in yes} | {x | {(RETURNS, "zero")} for x in no}
                return set()
            got = self.expr(n, states)
            value = _value_class(n)
            if value is None:   # `return ret;` where the path's tests say what ret is
                name = _returned_name(n)
                if name is not None:
                    got = {s | {(RETURNS, dict(s).get((_VALUE, name)))} if (_VALUE, name) in dict(s) else s
                           for s in got}
                self.returns |= got
            else:
                self.returns |= {s | {(RETURNS, value)} for s in got}
            return set()
        if t in ("break_statement", "continue_statement"):
            if self.frames:
                self.frames[-1][0 if t == "break_statement" else 1].update(states)
            return set()
        if t == "goto_statement":
            label = n.child_by_field_name("label")
            if label is not None:
                self.gotos.setdefault(label.text.decode(), set()).update(states)
            return set()
        if t == "labeled_statement":
            label = n.child_by_field_name("label")
            states = states | self.gotos.pop(label.text.decode(), set()) if label is not None else states
            return self.seq([c for c in n.named_children if c != label], states)
        if t.startswith("preproc_if") or t == "preproc_ifdef":
            # #if / #else: the branches are alternatives; but lockdep's own code is there in the kernels
            # whose lockdep names and maps the index gives (ocfs2's __ocfs2_cluster_lock takes its
            # lockdep map under #ifdef CONFIG_DEBUG_LOCK_ALLOC, and returns 0 holding it)
            alt = n.child_by_field_name("alternative")
            own = [c for c in n.named_children if c != alt and c != n.child_by_field_name("condition")
                   and c != n.child_by_field_name("name")]
            out = self.seq(own, states)
            if _lock_debug_only(n):
                return out
            return out | (self.stmt(alt, states) if alt is not None else states)
        if t in ("preproc_else", "preproc_elif", "preproc_elifdef"):
            alt = n.child_by_field_name("alternative")
            own = [c for c in n.named_children if c != alt and c != n.child_by_field_name("condition")
                   and c != n.child_by_field_name("name")]
            out = self.seq(own, states)
            return out | (self.stmt(alt, states) if alt is not None else set())
        if t in ("comment", "preproc_call", "preproc_def", "preproc_function_def", "preproc_include"):
            return states
        return self.expr(n, states)

    def seq(self, nodes: list[Node], states: set[State]) -> set[State]:
        for c in nodes:
            if c.type == "labeled_statement":
                states = self.stmt(c, states)
            elif states:
                states = self.stmt(c, states)
        return states

    def loop(self, n: Node, states: set[State]) -> set[State]:
        t = n.type
        cond = n.child_by_field_name("condition")
        body = n.child_by_field_name("body")
        infinite = cond is None or cond.text.decode().replace(" ", "") in _INFINITE
        if t == "for_statement":
            init = n.child_by_field_name("initializer")
            states = self.stmt(init, states) if init is not None and init.type == "declaration" \
                else self.expr(init, states)
        self.frames.append((set(), set()))
        exits: set[State] = set()
        head = states
        seen: set[State] = set()
        for _ in range(_LOOP_ROUNDS):
            if t == "do_statement":
                after = self.stmt(body, head) | self.frames[-1][1]
                yes, no = self.cond(cond, after)
            else:
                yes, no = self.cond(cond, head)
                after = self.stmt(body, yes) | self.frames[-1][1]
                if t == "for_statement":
                    after = self.expr(n.child_by_field_name("update"), after)
                yes = after
            if not infinite:
                exits |= no
            new = yes - seen
            if not new:
                break
            seen |= new
            head = new
        breaks, _conts = self.frames.pop()
        return exits | breaks


_MARK = "result of"   # marker key (_MARK, v): v holds a true result of a conditional lock call


_ERROR = re.compile(r"-\s*E[A-Z0-9]+")
_VALUE = "value of"   # marker key (_VALUE, v): what the tests on the path say of variable v ("zero"/"true")


def _with_value(s: State, name: str, value: str) -> State:
    return frozenset(kv for kv in s if kv[0] != (_VALUE, name)) | {((_VALUE, name), value)}


def _unparenthesized(value: Node | None) -> Node | None:
    """The expression inside any parentheses around it: ((x)) -> x."""
    while value is not None and value.type == "parenthesized_expression" and value.named_child_count == 1:
        value = value.named_children[0]
    return value


def _returned(ret: Node) -> Node | None:
    """The expression a return statement gives, without its parentheses (None for a bare `return;`)."""
    return _unparenthesized(ret.named_children[0] if ret.named_children else None)


def _returned_name(ret: Node) -> str | None:
    """v for `return v;` (through parentheses)."""
    value = _returned(ret)
    return value.text.decode() if value is not None and value.type == "identifier" else None


def _value_class(ret: Node) -> str | None:
    """What a return statement gives: "zero", "true", "error" (see RETURNS; ERR_PTR(...) and ERR_CAST(...)
    are errors), "call" (another call's result, which may be anything), or None."""
    value = _returned(ret)
    if value is None:
        return None
    if value.type == "call_expression":
        fn = value.child_by_field_name("function")
        return "error" if fn is not None and fn.text in (b"ERR_PTR", b"ERR_CAST") else "call"
    return _constant_class(value)


def _constant_class(value: Node | None) -> str | None:
    """"zero" (0, false, NULL), "true" (a nonzero number, true), "error" (-ECODE), else None."""
    value = _unparenthesized(value)
    if value is None:
        return None
    text = value.text.decode("utf-8", "replace").strip()
    if text in ("0", "false", "NULL"):
        return "zero"
    if text == "true" or (text.isdigit() and text.strip("0")):
        return "true"
    return "error" if _ERROR.fullmatch(text) else None


def _drop(s: State, key: Hashable) -> State:
    return frozenset(kv for kv in s if kv[0] != key)


def _assigned_var(call: Node) -> str | None:
    """v for `v = call(..)` or `int v = call(..)` (through parentheses)."""
    n = call
    while n.parent is not None and n.parent.type == "parenthesized_expression":
        n = n.parent
    p = n.parent
    if p is not None and p.type in ("assignment_expression", "init_declarator"):
        left = p.child_by_field_name("left" if p.type == "assignment_expression" else "declarator")
        if left is not None and left.type == "identifier" and p.child_by_field_name(
                "right" if p.type == "assignment_expression" else "value") == n:
            return left.text.decode()
    return None


def _add(s: State, key: Hashable, delta: int) -> State:
    d = dict(s)
    v = d.get(key, 0) + delta
    if v:
        d[key] = v
    else:
        d.pop(key, None)
    return frozenset(d.items())


_WRAPPING = {"likely", "unlikely", "__builtin_expect", "WARN_ON", "WARN_ON_ONCE"}
# `map.key != NULL`, `map->key`, on a lockdep map member (...lockdep_map, ...dep_map)
_LOCKDEP_KEY_TEST = re.compile(rb"[\w.>()&-]*(?:lockdep_map|dep_map)\s*(?:\.|->)\s*key(?:\s*!=\s*NULL)?")


_ADDRESSED = re.compile(rb"(?:[(,=?:!{;\[)]|\breturn)\s*&\s*([A-Za-z_]\w*)\b(?!\s*(?:->|\.|\[|\())")
_DEFINED = re.compile(rb"(?:defined|IS_ENABLED)\s*\(?\s*CONFIG_(\w+)\s*\)?")


def _lock_debug_only(n: Node) -> bool:
    """`#ifdef CONFIG_X` or `#if defined(CONFIG_X)` / `IS_ENABLED(CONFIG_X)` of a lock debugging option."""
    if n.type == "preproc_ifdef":
        name = n.child_by_field_name("name")
        return n.child(0) is not None and n.child(0).type == "#ifdef" and name is not None \
            and name.text.startswith(b"CONFIG_") and name.text[7:].decode() in CONFIG_LOCK_DEBUG
    cond = n.child_by_field_name("condition") if n.type == "preproc_if" else None
    m = _DEFINED.fullmatch(cond.text.strip()) if cond is not None else None
    return m is not None and m.group(1).decode() in CONFIG_LOCK_DEBUG


def _static(declarator: Node) -> bool:
    """The init_declarator belongs to a `static` declaration (its initializer runs once, not here)."""
    decl = declarator.parent
    return decl is not None and any(c.type == "storage_class_specifier" and c.text == b"static"
                                    for c in decl.children)


def _logical(n: Node) -> bool:
    """n is `a && b` or `a || b` (in parentheses)."""
    n = _unparenthesized(n)
    op = n.child_by_field_name("operator") if n.type == "binary_expression" else None
    return op is not None and op.type in ("&&", "||")


def _try_test(n: Node | None, ops: dict[int, list[Op]]) -> tuple[Node | None, bool, bool]:
    """The conditional lock call, or the variable, that a condition tests against zero (through
    parentheses, !, likely(), `< 0`, `!= 0`, `== 0`, IS_ERR() as a test against NULL): (node, whether the
    test is negated, whether false says the value is 0: not after `< 0`)."""
    negated = False
    strict = True
    while n is not None:
        if n.type == "parenthesized_expression" and n.named_child_count == 1:
            n = n.named_children[0]
        elif n.type == "unary_expression" and n.child(0) is not None and n.child(0).type == "!":
            negated = not negated
            n = n.named_children[0] if n.named_children else None
        elif n.type == "identifier":
            return n, negated, strict
        elif n.type == "binary_expression" and n.child_by_field_name("right") is not None \
                and n.child_by_field_name("right").text == b"0" \
                and n.child_by_field_name("operator").type in ("<", "!=", "=="):
            op = n.child_by_field_name("operator").type
            negated ^= op == "=="
            strict = strict and op != "<"
            n = n.child_by_field_name("left")
        elif n.type == "call_expression":
            fn = n.child_by_field_name("function")
            args = n.child_by_field_name("arguments")
            if n.start_byte in ops:
                return (n, negated, strict) if any(d in _RESULT_OPS for _k, d in ops[n.start_byte]) \
                    else (None, False, False)
            if fn is not None and fn.text.decode() in _WRAPPING and args is not None \
                    and args.named_child_count >= 1:
                n = args.named_children[0]
            elif fn is not None and fn.text in (b"IS_ERR", b"IS_ERR_OR_NULL") and args is not None \
                    and args.named_child_count == 1:
                # an error pointer tests as a null one: start_creating returns the dentry it locked
                # the parent for, or ERR_PTR(...) without the lock (fs/debugfs/inode.c)
                negated = not negated
                n = args.named_children[0]
            else:
                return None, False, False
        else:
            return None, False, False
    return None, False, False
