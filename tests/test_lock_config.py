"""#if alternatives: which definition the lock pass uses (analyzer/lock_config.py: the built-in Debian amd64
6.1 .config, or one given to lima-index), on tests/fixtures/locks/config."""

from __future__ import annotations

import pytest
from conftest import FIXTURES
from lima.analyzer.lock_config import DEFAULT_CONFIG, BadConfig, KernelConfig, branch_values, eval_condition
from lockdb_helper import lock_tables


@pytest.mark.parametrize(("text", "value"), [
    ("defined(CONFIG_SMP) && !defined(CONFIG_PREEMPT_RT)", True),   # SMP=y, PREEMPT_RT not set
    ("!CONFIG_SMP", False),
    ("IS_ENABLED(CONFIG_NFS_V4)", True),          # m: IS_ENABLED is true ...
    ("defined(CONFIG_NFS_V4)", False),            # ... #ifdef is not
    ("defined(CONFIG_NFS_V4_MODULE)", True),
    ("defined(CONFIG_FOO_UNKNOWN)", False),       # not set in the .config: not defined (autoconf.h)
    ("defined(CONFIG_DYNAMIC_SIGFRAME)", True),   # y in Debian's config (kernel/signal.c sigaltstack_lock)
    ("IS_ENABLED(CONFIG_FOO_UNKNOWN)", False),
    ("defined(MODULE) || defined(CONFIG_SMP)", True),
    ("defined(MODULE) && defined(CONFIG_X86_32)", False),
    ("defined(MODULE)", None),                    # not a configuration symbol: unknown
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
    assert at("static inline void rq_pin") is False   # FOO_UNKNOWN is not set, SMP is


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = lock_tables(tmp_path_factory.mktemp("config") / "c.duckdb", FIXTURES / "locks" / "config",
                    ["rq.h", "rq.c"])
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


def test_the_built_in_configuration_is_debians():
    assert DEFAULT_CONFIG.source == "Debian 6.1 amd64 (built in)"
    assert "SMP" in DEFAULT_CONFIG.y and "NF_TABLES" in DEFAULT_CONFIG.m
    assert "PREEMPT_RT" not in DEFAULT_CONFIG.y | DEFAULT_CONFIG.m


def test_lock_debugging_is_unknown_unless_the_configuration_sets_it():
    lockdep = KernelConfig.parse("CONFIG_SMP=y\nCONFIG_DEBUG_LOCK_ALLOC=y\n", "lockdep")
    assert eval_condition("defined(CONFIG_DEBUG_LOCK_ALLOC)", lockdep) is True
    assert eval_condition("defined(CONFIG_LOCKDEP)", lockdep) is None
    assert eval_condition("defined(CONFIG_PREEMPTION)", lockdep) is False


@pytest.mark.parametrize(("text", "message"), [
    ("CONFIG_SMP=y\nsome words\n", "cfg:2: not a kernel configuration line"),
    ("# only comments\n", "cfg: no CONFIG_...=y line"),
])
def test_a_bad_configuration_says_where(text, message):
    with pytest.raises(BadConfig, match=message):
        KernelConfig.parse(text, "cfg")


def test_another_configuration_picks_other_alternatives(tmp_path):
    """Without CONFIG_PREEMPTION, _double_lock_balance is the #else variant (rq.h): it locks this_rq."""
    config = KernelConfig.parse("CONFIG_SMP=y\n# CONFIG_PREEMPTION is not set\n", "no-preempt")
    c = lock_tables(tmp_path / "c.duckdb", FIXTURES / "locks" / "config", ["rq.h", "rq.c"], config=config)
    w = set(c.execute("SELECT name, param_index, op, field_path FROM lock_wrappers "
                      "WHERE name = 'double_lock_balance'").fetchall())
    c.close()
    assert w == {("double_lock_balance", 0, "acquire", "__lock")}


@pytest.fixture(scope="module")
def alt(tmp_path_factory):
    c = lock_tables(tmp_path_factory.mktemp("alt") / "c.duckdb", FIXTURES / "locks" / "config", ["alt.c"])
    yield c
    c.close()


def test_undecided_alternatives_are_used_and_said(alt):
    rows = alt.execute("SELECT primitive, symbol, confidence, reason FROM lock_sites WHERE function = "
                       "'grow_table' ORDER BY line").fetchall()
    (p1, sym1, conf1, why1), (p2, sym2, conf2, why2) = rows
    # BITS_PER_LONG == 64 is not evaluated: the first table_lock, said to be a choice
    assert (p1, sym1) == ("table_lock", "wide_mutex") and conf1 <= 0.5
    assert why1.startswith("table_lock has #if alternatives that lock otherwise (lines 8 and 13;")
    # CONFIG_SMP=y decides smp_table_lock: no doubt
    assert (p2, sym2) == ("smp_table_lock", "wide_mutex") and conf2 > 0.5 and "#if" not in why2
