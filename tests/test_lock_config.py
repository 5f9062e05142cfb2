"""#if alternatives: which definition the lock pass uses (analyzer/lock_config.py, the x86-64 config table
of lock_catalogue), on tests/fixtures/locks/config."""

from __future__ import annotations

import pytest
from conftest import FIXTURES
from lima.analyzer import lock_pass
from lima.analyzer.lock_config import branch_values, eval_condition
from lockdb_helper import build


@pytest.mark.parametrize(("text", "value"), [
    ("defined(CONFIG_SMP) && !defined(CONFIG_PREEMPT_RT)", True),   # SMP=y, PREEMPT_RT not set
    ("!CONFIG_SMP", False),
    ("IS_ENABLED(CONFIG_NFS_V4)", True),          # m: IS_ENABLED is true ...
    ("defined(CONFIG_NFS_V4)", False),            # ... #ifdef is not
    ("defined(CONFIG_NFS_V4_MODULE)", True),
    ("defined(CONFIG_FOO_UNKNOWN)", None),        # not in the table: unknown
    ("defined(CONFIG_FOO_UNKNOWN) || defined(CONFIG_SMP)", True),
    ("defined(CONFIG_FOO_UNKNOWN) && defined(CONFIG_X86_32)", False),
    ("BITS_PER_LONG == 64", None),
    ("defined(CONFIG_DEBUG_LOCK_ALLOC)", None),   # lock debugging: unknown on purpose (lockdep names)
    ("0", False),
    ("1 /* comment */", True),
])
def test_conditions(text, value):
    assert eval_condition(text) is value


def test_branches_of_a_file():
    lines = (FIXTURES / "locks" / "config" / "rq.h").read_text().split("\n")
    starts, values = branch_values(lines)

    def at(needle: str, nth: int = 0) -> bool | None:
        line = [i + 1 for i, t in enumerate(lines) if needle in t][nth]
        return [v for s, v in zip(starts, values, strict=True) if s <= line][-1]

    assert at("extern void double_rq_lock") is None           # SMP=y, inside the unknown include guard
    assert at("static inline void double_rq_lock") is False    # the !SMP branch
    assert at("static inline int _double_lock_balance", 0) is None
    assert at("static inline int _double_lock_balance", 1) is False   # the !PREEMPTION branch
    assert at("static inline void rq_pin") is None


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = build(tmp_path_factory.mktemp("config") / "c.duckdb", FIXTURES / "locks" / "config", ["rq.h", "rq.c"])
    lock_pass.run(c, None)
    yield c
    c.close()


def test_the_configured_alternatives_are_used(con):
    w = set(con.execute("SELECT name, param_index, op, field_path, line FROM lock_wrappers").fetchall())
    # from rq.h, double_rq_lock is the SMP one of rq.c (both parameters), not the !SMP inline (rq1 only)
    assert ("double_rq_lock", 1, "acquire", "__lock", 3) in w
    # double_lock_balance is the CONFIG_PREEMPTION variant: it returns with busiest locked
    assert ("double_lock_balance", 1, "acquire", "__lock", 32) in w
    assert not {r for r in w if r[0] == "double_lock_balance" and r[1] == 0}
    sites = con.execute("SELECT primitive, op, arg_text, field_path FROM lock_sites WHERE function = 'pull'"
                        ).fetchall()
    assert sites == [("double_lock_balance", "acquire", "src_rq", "__lock")]
