"""The lock pass on a hand-written C fixture (tests/fixtures/locks/locks.c): every table, golden facts."""

from __future__ import annotations

import gc
import threading
import time

import duckdb
import pytest
from conftest import FIXTURES
from lima.analyzer import lock_pass, lock_paths
from lockdb_helper import build, lock_tables


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    c = lock_tables(tmp_path_factory.mktemp("locks") / "fx.duckdb", FIXTURES / "locks", ["locks.c"])
    yield c
    c.close()


def _sites(con):
    return {r[0]: r[1:] for r in con.execute(
        "SELECT line, primitive, object_kind, struct_name, field_path, symbol, candidates FROM lock_sites "
        "WHERE function = 'use'").fetchall()}


def test_sites_resolve_through_members_aliases_unions_and_locals(con):
    s = _sites(con)
    assert s[72][1:4] == ("field", "foo", "lock")                   # &b->foo->lock
    assert s[74][1:4] == ("field", "dentry", "d_lockref.lock")      # d_lock is #define d_lock d_lockref.lock
    assert s[75][1:4] == ("field", "foo", "inner.sem")              # nested struct member
    assert s[76][1:4] == ("field", "foo", "ulock")                  # anonymous union member
    assert s[77][1:4] == ("field", "foo", "lock")                   # local ptl = foo_lockptr(b->foo)


def test_wrappers_globals_and_honest_failures(con):
    s = _sites(con)
    assert s[78][:4] == ("foo_acquire", "field", "foo", "m")        # function wrapper, param 0
    assert s[80][0] == "take_global" and s[80][1] == "global" and s[80][4] == "foo_mutex"
    assert s[82][1:] == ("global", "foo", "lock", "global_foo", None)
    assert s[83][:4] == ("foo_lock_irq", "field", "foo", "lock")    # function-like macro wrapper
    assert s[84][1] == "unknown"
    assert s[85][1] == "ambiguous" and sorted(s[85][5]) == ["foo.lock", "plain_lock"]
    w = con.execute("SELECT param_index, op, struct_name, field_path FROM lock_wrappers "
                    "WHERE name = 'foo_release'").fetchall()
    assert w == [(0, "release", "foo", "m")]


def test_fields_globals_and_init_names(con):
    fields = set(con.execute("SELECT struct_name, field_path, lock_kind, is_array, is_pointer "
                             "FROM lock_fields WHERE struct_name = 'foo'").fetchall())
    assert fields == {("foo", "lock", "spinlock", False, False), ("foo", "m", "mutex", True, False),
                      ("foo", "lockp", "spinlock", False, True), ("foo", "ulock", "spinlock", False, False),
                      ("foo", "inner.sem", "rwsem", False, False)}
    g = set(con.execute("SELECT symbol, member_path, declared_by FROM global_locks").fetchall())
    assert g == {("foo_mutex", None, "DEFINE_MUTEX"), ("plain_lock", None, "declaration"),
                 ("global_foo", "lock", "initializer"), ("once_lock", None, "DEFINE_SPINLOCK")}
    inits = {r[0]: r[1:] for r in con.execute(
        "SELECT class_name, object_kind, struct_name, field_path, symbol FROM lock_inits").fetchall()}
    assert inits["&f->lock"] == ("field", "foo", "lock", None)
    assert inits["(work_completion)(&f->work)"] == ("pseudo", "foo", "work.lockdep_map", None)
    assert inits["foo_mutex"] == ("global", None, None, "foo_mutex")
    assert inits["global_foo.lock"] == ("global", "foo", "lock", "global_foo")


def test_lock_name_query_normalises_names(con):
    from lima.queries.install import install_views

    install_views(con)   # the macros lock-name calls (map_file_ranks)
    sql = (FIXTURES.parent.parent / "queries" / "lock-name.sql").read_text()
    for name in ("&f->lock", "&f->lock#3", "&f->lock/1", "(&f->lock){+.+.}-{2:2}", "&(&f->lock)->rlock"):
        rows = con.execute(sql, {"name": name, "limit": 10, "arch": "x86"}).fetchall()
        assert [(r[2], r[3], r[4]) for r in rows] == [("field", "foo", "lock")], name
    assert con.execute(sql, {"name": "no_such_lock", "limit": 10, "arch": "x86"}).fetchall() == []
    rows = con.execute(sql, {"name": "(wq_completion)events", "limit": 10, "arch": "x86"}).fetchall()
    assert [(r[2], r[3], r[4]) for r in rows] == [("pseudo", "workqueue_struct", "lockdep_map")]


def test_lock_name_cli_says_on_stderr_when_nothing_produces_the_name(tmp_path, capsys):
    from lima.queries.cli import main

    db = tmp_path / "fx.duckdb"
    c = lock_tables(db, FIXTURES / "locks", ["locks.c"])
    c.close()
    assert main(["lock-name", "--name", "no_such_lock", "--db", str(db), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "[]"
    assert "lock-name: no init site in the index produces this name" in err
    assert main(["lock-name", "--name", "&f->lock#2", "--db", str(db), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert '"field": "lock"' in out and "no init site" not in err


def test_calls_through_pointer_parameters_are_not_lock_sites(con):
    assert con.execute("SELECT count(*) FROM lock_sites WHERE function = 'walk_visitors'").fetchone() == (0,)


def test_function_static_definer_is_one_global_lock_of_its_function(con):
    rows = con.execute("SELECT symbol, declared_by, is_static, is_percpu, function FROM global_locks "
                       "WHERE symbol = 'once_lock'").fetchall()
    assert rows == [("once_lock", "DEFINE_SPINLOCK", True, False, "once")]
    assert con.execute("SELECT count(*) FROM lock_inits WHERE class_name = 'once_lock'").fetchone() == (1,)
    # ... and visible only inside its function: no global of that name for other functions to resolve to
    assert con.execute("SELECT object_kind, symbol FROM lock_sites WHERE function = 'once' "
                       "AND op = 'acquire'").fetchall() == [("global", "once_lock")]


@pytest.mark.parametrize("text", ["int f(void){return 0;}\n", "int x;\n", "#define A 1\n", ""])
def test_tiny_trees_without_locals_calls_or_functions_pass(tmp_path, text):
    # a function with no local variable left the run-end list of locals empty (ValueError from zip)
    (tmp_path / "a.c").write_text(text)
    c = build(tmp_path / "t.duckdb", tmp_path, ["a.c"])
    try:
        out = lock_pass.run(c, None)
        assert out["lock_sites"] == 0 and out["lock_fields"] == 0
        assert c.execute("SELECT count(*) FROM lock_types").fetchone()[0] > 0
    finally:
        c.close()


def test_keep_objects_leaves_the_model_alive_and_frozen(tmp_path):
    # lima-index (which ends with os._exit) asks the pass not to free its model on return: it stays in
    # lock_pass._KEPT, and gc.freeze() keeps the collector from walking it again and again
    (tmp_path / "a.c").write_text("static DEFINE_SPINLOCK(l);\nvoid f(void){spin_lock(&l);}\n")
    c = build(tmp_path / "t.duckdb", tmp_path, ["a.c"])
    try:
        lock_pass.run(c, None)
        assert lock_pass._KEPT == []
        frozen = gc.get_freeze_count()
        lock_pass.run(c, None, keep_objects=True)
        assert len(lock_pass._KEPT) == 1 and lock_pass._KEPT[0].stats["structs"] == 0
        assert gc.get_freeze_count() > frozen and gc.isenabled()
        assert c.execute("SELECT count(*) FROM lock_sites WHERE symbol = 'l'").fetchone() == (1,)
    finally:
        lock_pass._KEPT.clear()
        gc.unfreeze()
        c.close()


@pytest.fixture(scope="module")
def retry(tmp_path_factory):
    c = lock_tables(tmp_path_factory.mktemp("retry") / "r.duckdb", FIXTURES / "locks", ["retry.c"])
    yield c
    c.close()


def test_functions_that_return_with_a_lock_held_are_wrappers(retry):
    # task_rq_lock locks, checks, unlocks and retries; its returning path holds p->pi_lock and rq->__lock
    w = set(retry.execute("SELECT name, op, param_index, struct_name, field_path "
                          "FROM lock_wrappers").fetchall())
    assert ("task_rq_lock", "acquire", 0, "task", "pi_lock") in w
    assert ("task_rq_lock", "acquire", None, "rq", "__lock") in w
    # lock_sighand returns the locked sighand, or NULL without a lock: a try
    assert ("lock_sighand", "try", None, "sighand_struct", "siglock") in w
    # a failed killable lock returns early without it; a balanced function with an early exit holds nothing
    assert not {r for r in w if r[0] in ("add_area", "check_rq")}
    sites = set(retry.execute("SELECT line, primitive, op, struct_name, field_path FROM lock_sites "
                              "WHERE function = 'set_affinity' AND op <> 'release'").fetchall())
    assert sites == {(80, "task_rq_lock", "acquire", "rq", "__lock"),
                     (80, "task_rq_lock", "acquire", "task", "pi_lock"),
                     (84, "lock_sighand", "try", "sighand_struct", "siglock")}


@pytest.fixture(scope="module")
def names(tmp_path_factory):
    c = lock_tables(tmp_path_factory.mktemp("names") / "n.duckdb", FIXTURES / "locks" / "names",
                    ["names.c", "ctx.h"])
    yield c
    c.close()


def test_class_names_of_initializer_macros(names):
    inits = {}
    for r in names.execute("SELECT class_name, object_kind, struct_name, field_path, symbol FROM lock_inits "
                           "WHERE class_name IS NOT NULL").fetchall():
        inits.setdefault(r[0], set()).add(r[1:])
    # the semaphore's .lock is the class, named by the stringified (name).lock; the semaphore has no map
    assert inits["(console_sem).lock"] == {("global", "semaphore", "lock", "console_sem")}
    assert "console_sem" not in inits
    # init_swait_queue_head(&x->wait) names the .lock member of its argument
    assert inits["&x->wait"] == {("field", "completion", "wait.lock", None)}
    # a positional initializer: the path comes from the argument (done).wait.lock
    assert inits["(done).wait.lock"] == {("global", "completion", "wait.lock", "done")}
    assert inits["(started).wait.lock"] == {("global", "completion", "wait.lock", "started")}
    # ... but not when the argument names less than the designators: IDR_INIT(name) -> name.xa_lock
    assert inits["ids.xa_lock"] == {("global", "idr", "idr_rt.xa_lock", "ids")}
    # names from a string list an object-like macro holds, every #if alternative
    assert inits["rn_0"] == inits["rn_1"] == {("field", "rnode", "lock", None)}
    # an object-like macro whose body is a member path in parentheses is followed
    assert inits["&hb_queues[i].lock"] == {("field", "hb", "lock", None)}


def test_lock_field_of_an_embedded_struct_is_where_its_struct_declares_it(names):
    rows = names.execute("SELECT f.path, l.line FROM lock_fields l JOIN files f USING (file_id) "
                         "WHERE struct_name = 'mm' AND field_path = 'context.lock'").fetchall()
    assert rows == [("ctx.h", 7)]


def test_forked_wrapper_rounds_give_the_serial_tables(tmp_path, monkeypatch):
    """LIMA_LOCK_WORKERS=2 (wrapper rounds analysed by forked workers, static facts in a background process)
    writes exactly the rows of the default one-process pass."""
    tables = ("lock_fields", "global_locks", "lock_inits", "lock_sites", "lock_wrappers")
    got = {}
    for workers in ("1", "2"):
        monkeypatch.setenv("LIMA_LOCK_WORKERS", workers)
        monkeypatch.setattr(lock_pass, "_MIN_PER_WORKER", 1)   # fork even for the fixture's small rounds
        c = build(tmp_path / f"w{workers}.duckdb", FIXTURES / "locks", ["locks.c", "retry.c"])
        try:
            lock_pass.run(c, None)
            got[workers] = {t: c.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
        finally:
            c.close()
    assert got["1"]["lock_sites"], "the fixture gives lock sites"
    for t in tables:
        assert got["2"][t] == got["1"][t], t


def _load_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("lima-lock-load")]


def test_prefetched_queries_come_in_order_with_their_errors():
    """The lock pass's load queries run in a thread (lock_pass._Prefetch): each result is the query's own,
    a failing query raises where its result is read, and close() leaves no thread behind."""
    con = duckdb.connect()
    pre = lock_pass._Prefetch(con, {"a": "SELECT v FROM names ORDER BY v", "b": "SELECT * FROM no_such_table",
                                    "c": "SELECT 42 AS x"}, {"names": ["mutex_lock", "down_read"]})
    try:
        assert pre.rows("a") == [("down_read",), ("mutex_lock",)]
        with pytest.raises(duckdb.CatalogException):
            pre.get("b")
        assert pre.get("c").to_pylist() == [{"x": 42}]
    finally:
        pre.close()
    pre.close()   # again: nothing to do
    assert not _load_threads()
    con.close()


def test_the_prefetch_checkpoints_the_facts_left_in_the_wal(tmp_path):
    """lima-index leaves the last code facts it commits to the lock pass's loading thread to checkpoint
    (Indexer.run(defer_checkpoint=True)): after finish() they are in the database file, the WAL is empty."""
    db = tmp_path / "f.duckdb"
    wal = tmp_path / "f.duckdb.wal"
    con = duckdb.connect(str(db))
    con.execute("SET checkpoint_threshold = '1GB'")
    con.execute("CREATE TABLE calls AS SELECT range AS i FROM range(1000)")
    for k in range(3):
        con.execute("INSERT INTO calls SELECT range FROM range(?)", [k + 10])
    assert wal.stat().st_size > 0
    pre = lock_pass._Prefetch(con, {"n": "SELECT count(*) FROM calls"}, {})
    assert pre.rows("n") == [(1033,)]
    pre.finish()
    assert not wal.exists() or wal.stat().st_size == 0
    assert not _load_threads()
    con.close()
    assert duckdb.connect(str(db)).execute("SELECT count(*) FROM calls").fetchone() == (1033,)


class _LateStart(lock_pass._Prefetch):
    """A prefetch whose thread takes a query up a moment before DuckDB starts it: close() comes in between."""

    def _run(self, sql: str):
        time.sleep(0.3)
        return super()._run(sql)


@pytest.mark.parametrize("prefetch", [lock_pass._Prefetch, _LateStart])
def test_closing_the_prefetch_interrupts_its_running_query(prefetch):
    """Ctrl-C or an error during the load: close() stops the query in progress (here one that would run for
    hours) instead of waiting for it, and drops the queries not started; also when it comes just before
    DuckDB starts the query (an interrupt then is lost: close() repeats it until the query ends)."""
    con = duckdb.connect()
    pre = prefetch(con, {"long": "SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3",
                         "next": "SELECT 1"}, {})
    long = pre._pending["long"]
    deadline = time.monotonic() + 60
    while not long.running() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert long.running()
    closer = threading.Thread(target=pre.close)
    closer.start()
    closer.join(120)
    stuck = closer.is_alive()
    while closer.is_alive():   # (after a failure: end the query, or the interpreter waits for it at exit)
        con.interrupt()
        pre._cur.interrupt()
        closer.join(0.1)
    assert not stuck, "close() waited for the long query"
    assert not _load_threads()
    with pytest.raises(duckdb.InterruptException):
        long.result()
    con.close()


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    c = lock_tables(tmp_path_factory.mktemp("members") / "m.duckdb", FIXTURES / "locks" / "members",
                    ["members.c"])
    yield c
    c.close()


def _site(con, function: str, primitive: str) -> tuple:
    return con.execute("SELECT object_kind, struct_name, field_path, symbol, candidates FROM lock_sites "
                       "WHERE function = ? AND primitive = ?", [function, primitive]).fetchone()


def test_a_struct_tag_written_as_a_macro_is_typed(members):
    # struct WW_MUTEX_BASE base; with #define WW_MUTEX_BASE mutex (the branch x86-64 builds)
    assert members.execute("SELECT lock_type, lock_kind FROM lock_fields WHERE struct_name = 'ww_mutex' "
                           "AND field_path = 'base'").fetchall() == [("struct mutex", "mutex")]
    assert _site(members, "ww_unlock", "mutex_unlock")[:3] == ("field", "ww_mutex", "base")


def test_pointer_members_followed_to_the_value_the_function_gives_them(members):
    # XA_STATE(xas, &mapping->i_pages, index): xas.xa = &mapping->i_pages, so xas.xa->xa_lock is the
    # address_space's i_pages.xa_lock (the macro's declaration ends at the caller's `;`)
    assert _site(members, "add_folio", "xas_lock_irq")[:3] == ("field", "address_space", "i_pages.xa_lock")
    # locks[i].lock = &torture_i: ll->lock is one of the three, never the pointer member reorder_lock.lock
    got = _site(members, "torture_lock", "ww_mutex_lock")
    assert got[0] == "ambiguous" and sorted(got[4]) == ["torture_0", "torture_1", "torture_2"]
    # no value shown: the pointer member's own type answers (the lock lives where lockp points)
    rows = set(members.execute("SELECT arg_text, object_kind, struct_name, field_path FROM lock_sites "
                               "WHERE function = 'dev_poke'").fetchall())
    assert rows == {("dev->priv->lockp", "field", "priv", "lockp"),
                    ("&dev->priv->lock", "field", "priv", "lock")}


def test_an_optimistic_seqlock_read_is_no_release_wrapper(members):
    # done_seqretry drops rename_lock only when read_seqbegin_or_lock took it
    assert members.execute("SELECT count(*) FROM lock_wrappers WHERE name = 'walk'").fetchone() == (0,)
    assert _site(members, "walk", "done_seqretry")[:4] == ("global", None, None, "rename_lock")


def test_class_names_pasted_by_a_definer_macro(members):
    inits = set(members.execute("SELECT class_name, object_kind, struct_name, field_path, symbol "
                                "FROM lock_inits WHERE macro = '__RAW_SPIN_LOCK_UNLOCKED'").fetchall())
    assert inits == {
        ("rcu_tasks__percpu.cbs_pcpu_lock", "percpu", "rcu_tasks_percpu", "lock", "rcu_tasks__percpu"),
        ("rcu_tasks.cbs_gbl_lock", "global", "rcu_tasks", "cbs_gbl_lock", "rcu_tasks")}


def test_a_private_header_sees_the_static_globals_of_the_file_including_it(tmp_path):
    c = build(tmp_path / "p.duckdb", FIXTURES / "locks" / "private", ["tree.c", "tree_exp.h", "other.h"])
    try:
        lock_pass.run(c, None)
        got = dict((r[0], r[1:]) for r in c.execute(
            "SELECT function, object_kind, symbol, field_path FROM lock_sites").fetchall())
    finally:
        c.close()
    assert got["exp_funnel_lock"] == ("global", "rcu_state", "exp_mutex")
    assert got["not_included"][0] == "unknown"


def test_structs_reached_through_a_typedef_are_named_by_their_tag(tmp_path):
    c = build(tmp_path / "t.duckdb", FIXTURES / "locks" / "typedefs", ["typedefs.c"])
    try:
        lock_pass.run(c, None)
        sites = set(c.execute("SELECT function, arg_text, object_kind, struct_name, field_path "
                              "FROM lock_sites").fetchall())
        wrappers = c.execute("SELECT name, struct_name, field_path FROM lock_wrappers").fetchall()
        inits = c.execute("SELECT macro, struct_name, field_path FROM lock_inits "
                          "WHERE field_path IS NOT NULL").fetchall()
        fields = set(c.execute("SELECT struct_name, field_path FROM lock_fields").fetchall())
    finally:
        c.close()
    # wait_queue_head_t *q (typedef struct wait_queue_head wait_queue_head_t): the tag, as lock_fields says
    assert ("folio_wake", "&q->lock", "field", "wait_queue_head", "lock") in sites
    # spinlock_t *lock (typedef struct spinlock {...} spinlock_t), in a site and in the wrapper it makes
    assert ("my_spin_lock", "&lock->rlock", "field", "spinlock", "rlock") in sites
    assert wrappers == [("my_spin_lock", "spinlock", "rlock")]
    # typedef struct { ... } seqlock_t: no tag, so the typedef name, in both tables
    assert ("seq_write", "&sl->lock", "field", "seqlock_t", "lock") in sites
    assert fields == {("spinlock", "rlock"), ("wait_queue_head", "lock"), ("seqlock_t", "lock")}
    # static wait_queue_head_t wq; spin_lock_init(&wq.lock)
    assert inits == [("spin_lock_init", "wait_queue_head", "lock")]
    assert {(s[3], s[4]) for s in sites} <= fields


def test_a_long_function_that_first_drops_its_callers_sleeping_lock_is_a_release_wrapper(tmp_path):
    """tests/fixtures/locks/release/rtnl.c: netdev_run_todo (over 40 lines) drops rtnl_mutex through
    __rtnl_unlock before anything else, so rtnl_unlock releases it and set_mtu holds nothing at return;
    drain_todo (over 40 lines too) drops a spinlock the same way and is no wrapper."""
    c = lock_tables(tmp_path / "r.duckdb", FIXTURES / "locks" / "release", ["rtnl.c"])
    w = set(c.execute("SELECT name, op, symbol FROM lock_wrappers").fetchall())
    sites = c.execute("SELECT primitive, op, symbol FROM lock_sites WHERE function = 'set_mtu' ORDER BY line"
                      ).fetchall()
    via = c.execute("SELECT via FROM lock_sites WHERE function = 'set_mtu' AND op = 'release'").fetchall()
    c.close()
    assert ("netdev_run_todo", "release", "rtnl_mutex") in w
    assert ("rtnl_unlock", "release", "rtnl_mutex") in w
    assert not {x for x in w if x[0] in ("set_mtu", "drain_todo")}
    assert sites == [("rtnl_lock", "acquire", "rtnl_mutex"), ("rtnl_unlock", "release", "rtnl_mutex")]
    assert via == [("rtnl_unlock>netdev_run_todo>__rtnl_unlock>mutex_unlock",)]   # every wrapper on the way


def test_catalogued_global_release_and_trylock_or_lock_hold_nothing(tmp_path):
    """tests/fixtures/locks/release/console.c: console_unlock releases console_sem (known wrapper), so
    show_banner is no wrapper; read_iter (a trylock or a lock, then an unlock) holds nothing at return."""
    c = lock_tables(tmp_path / "c.duckdb", FIXTURES / "locks" / "release", ["console.c"])
    w = set(c.execute("SELECT name, op FROM lock_wrappers").fetchall())
    sites = set(c.execute("SELECT primitive, op, symbol, reason FROM lock_sites "
                          "WHERE function = 'show_banner'").fetchall())
    c.close()
    assert ("console_lock", "acquire") in w
    assert not {x for x in w if x[0] in ("show_banner", "read_iter")}, w
    assert sites == {("console_lock", "acquire", "console_sem", "file-scope variable"),
                     ("console_lock", "acquire", "console_lock_dep_map", "file-scope variable"),
                     ("console_unlock", "release", "console_sem", "known wrapper"),
                     ("console_unlock", "release", "console_lock_dep_map", "known wrapper")}


def test_int_and_bool_functions_whose_result_says_they_hold_the_lock_are_try_wrappers(tmp_path):
    """tests/fixtures/locks/release/trylock.c: down_trylock holds on 0, console_trylock on 1,
    master_acquire on true, mnt_want_write when the variable it returns was tested 0; the callers that
    test the result hold nothing at their returns."""
    c = lock_tables(tmp_path / "t.duckdb", FIXTURES / "locks" / "release", ["trylock.c"])
    w = set(c.execute("SELECT name, op, coalesce(symbol, field_path) FROM lock_wrappers").fetchall())
    reasons = dict(c.execute("SELECT name, reason FROM lock_wrappers w JOIN (SELECT DISTINCT function, "
                             "primitive, reason FROM lock_sites) s ON s.primitive = w.name "
                             "WHERE w.op = 'try'").fetchall())
    c.close()
    assert {("__down_trylock_console_sem", "try", "console_sem"), ("console_trylock", "try", "console_sem"),
            ("master_acquire", "try", "master_mutex"), ("mnt_want_write", "try", "s_writers")} <= w
    assert not {x for x in w if x[0] in ("flash", "commit", "do_rename")}, w
    assert reasons["console_trylock"].startswith("held when it returns nonzero of console_trylock: "
                                                 "held when it returns 0 of __down_trylock_console_sem")


def test_catalogued_global_effects_replace_what_the_body_seems_to_do(tmp_path):
    """tests/fixtures/locks/release/rcu.c: shrink_dcache_parent leaves nothing dropped for its callers
    (no wrapper row, d_invalidate no wrapper), nor does dput for path_put; folio_memcg_lock takes
    rcu_lock_map for lock_page_memcg, and folio_memcg_unlock drops only it for unlock_page_memcg;
    btrfs_release_path drops nothing for btrfs_free_path."""
    c = lock_tables(tmp_path / "r.duckdb", FIXTURES / "locks" / "release", ["rcu.c"])
    w = set(c.execute("SELECT name, op, symbol FROM lock_wrappers").fetchall())
    c.close()
    assert ("rcu_read_unlock", "release", "rcu_lock_map") in w
    assert ("lock_page_memcg", "acquire", "rcu_lock_map") in w
    assert {x for x in w if x[0] == "unlock_page_memcg"} == {("unlock_page_memcg", "release", "rcu_lock_map")}
    assert not {x for x in w if x[0] in ("shrink_dcache_parent", "d_invalidate", "dput", "path_put",
                                         "btrfs_release_path", "btrfs_free_path")}, w


@pytest.mark.parametrize(("line", "name", "where"), [
    ("static int f(struct a *a, int a_len, int len)", "len", 41),   # the parameter, not a_len before it
    ("\tint size, int sizes[4])", "sizes", 15),                     # before `[`
    ("\tint x) /* x */", "x", 5),
    ("\tstruct page *page", "page", 14),                          # at the end of the line
    ("\tfoo(bar) baz", "bar", 5),                                  # no list end after it: first word place
    ("\tint y;", "x", 7),                                          # not written: end of the line
])
def test_declarator_position_is_where_the_parameter_stands(line, name, where):
    assert lock_pass._declarator_position(line, name) == where


@pytest.mark.parametrize(("body", "declares"), [
    ("struct xa_state name = __XA_STATE(array, index, 0, 0)", True),   # XA_STATE(name, ...)
    ("static const struct foo *name = NULL", True),
    ("const name2 name = 0", True),            # const taken as the qualifier, name2 as the type
    ("wait_queue_entry_t name = { }", True),
    ("do { foo(name); } while (0)", False),
    ("int other = name", False),
])
def test_macros_that_declare_their_first_parameter(body, declares):
    d = lock_pass.MacroDef("M", ("name",), body, 1, 1, "x.h")
    assert lock_pass._declares_first_param(d) is declares


def test_a_static_initializer_argument_completes_the_member_path():
    # include/linux/completion.h: { 0, __SWAIT_QUEUE_HEAD_INITIALIZER((work).wait) } -> .lock of (x).wait
    assert lock_pass._member_path(("lock",), "(done).wait.lock", "done") == ("wait", "lock")
    assert lock_pass._member_path(("lock",), "( done ) . wait . lock", "done") == ("wait", "lock")
    assert lock_pass._member_path(("lock",), "(other).wait.lock", "done") == ("lock",)
    assert lock_pass._member_path(("xa_lock",), "name.xa_lock", "name") == ("xa_lock",)


def test_flags_kept_in_a_member_are_read_above_the_call(tmp_path):
    """tests/fixtures/locks/flags/xfs.c (fs/xfs/scrub/rtbitmap.c:127-162): sc->ilock_flags holds
    XFS_ILOCK_EXCL | XFS_ILOCK_RTSUM at both calls (the restore is below them), so only the ILOCK is taken
    and dropped, and the unlock wrapper is guarded as the lock wrapper is. In scrub_loop the value assigned
    below the calls comes back to them through the loop. In buffered_write (fs/xfs/xfs_file.c:729) the
    assignment right above the call decides it; the unlock, after &iolock was passed on, is unknown (any lock,
    either mode)."""
    c = lock_tables(tmp_path / "x.duckdb", FIXTURES / "locks" / "flags", ["xfs.c"])
    rows = c.execute("SELECT line, op, struct_name || '.' || field_path, confidence FROM lock_sites "
                     "WHERE function = 'xchk_rtsummary' ORDER BY line").fetchall()
    assert rows == [(110, "acquire", "xfs_inode.i_lock.mr_lock", 1.0),
                    (117, "release", "xfs_inode.i_lock.mr_lock", 1.0)]
    assert c.execute("SELECT count(*) FROM lock_wrappers WHERE name = 'xchk_rtsummary'").fetchone() == (0,)
    loop = c.execute("SELECT DISTINCT struct_name || '.' || field_path FROM lock_sites "
                     "WHERE function = 'scrub_loop' AND op = 'acquire' ORDER BY 1").fetchall()
    assert loop == [("inode.i_rwsem",), ("xfs_inode.i_lock.mr_lock",)]
    buffered = c.execute("SELECT op, struct_name || '.' || field_path, mode, confidence FROM lock_sites "
                         "WHERE function = 'buffered_write' ORDER BY line, 2, 3").fetchall()
    assert buffered == [("acquire", "inode.i_rwsem", "write", 1.0)] + [
        ("release", lock, mode, 0.5) for lock in ("address_space.invalidate_lock", "inode.i_rwsem",
                                                  "xfs_inode.i_lock.mr_lock") for mode in ("read", "write")]


def test_a_downgrade_does_not_count_as_one_more_hold(tmp_path):
    """tests/fixtures/locks/flags/downgrade.c: unregister_key_type (security/keys/key.c:1190) write-locks,
    downgrades and read-unlocks key_types_sem: balanced, no wrapper; mmap_write_downgrade
    (include/linux/mmap_lock.h:108) only downgrades, and its callers' sites say so."""
    c = lock_tables(tmp_path / "d.duckdb", FIXTURES / "locks" / "flags", ["downgrade.c"])
    w = dict(c.execute("SELECT name, primitive FROM lock_wrappers").fetchall())
    assert "unregister_key_type" not in w
    assert w["mmap_write_downgrade"] == "downgrade_write"
    assert c.execute("SELECT op, mode, struct_name, field_path FROM lock_sites WHERE function = 'do_unmap'"
                     ).fetchall() == [("acquire", "read", "mm_struct", "mmap_lock")]


def test_a_lock_dropped_and_taken_again_or_dropped_by_a_callback_is_no_wrapper(tmp_path):
    """tests/fixtures/locks/release/retake.c: start_unregistering (fs/proc/proc_sysctl.c:291) drops
    sysctl_lock on two paths and takes it again: no release wrapper, and drop_table holds nothing at its
    return. kref_put_mutex (include/linux/kref.h:71) takes opp_table_lock for a release callback that
    drops it: dev_pm_opp_put_opp_table (drivers/opp/core.c:1640) has an acquire site of it (variant
    internal) and is no try wrapper."""
    c = lock_tables(tmp_path / "t.duckdb", FIXTURES / "locks" / "release", ["retake.c"])
    w = {r[0] for r in c.execute("SELECT name FROM lock_wrappers").fetchall()}
    assert w == {"_opp_table_kref_release"}
    assert c.execute("SELECT s.op, p.variant, s.symbol FROM lock_sites s JOIN lock_primitives p "
                     "ON p.name = s.primitive WHERE s.function = 'dev_pm_opp_put_opp_table'").fetchall() \
        == [("acquire", "internal", "opp_table_lock")]


def test_lockref_put_or_lock_holds_the_lockrefs_spinlock_when_it_returns_0(tmp_path):
    """tests/fixtures/locks/release/lockref.c (fs/gfs2/glock.c:336): gfs2_glock_put's try and
    __gfs2_glock_put's release are both gfs2_glock.gl_lockref.lock, and gfs2_glock_put is no wrapper."""
    c = lock_tables(tmp_path / "l.duckdb", FIXTURES / "locks" / "release", ["lockref.c"])
    assert c.execute("SELECT op, field_path FROM lock_sites WHERE function = 'gfs2_glock_put' ORDER BY line"
                     ).fetchall() == [("try", "gl_lockref.lock"), ("release", "gl_lockref.lock")]
    assert {r[0] for r in c.execute("SELECT name FROM lock_wrappers").fetchall()} == {"__gfs2_glock_put"}
    held = c.execute("SELECT count(*) FROM lock_sites WHERE function = 'gfs2_holder_uninit'").fetchone()
    assert held == (0,)


def test_pointer_try_wrappers_tested_with_is_err_or_null(tmp_path):
    """tests/fixtures/locks/release/pointer_try.c: start_creating (fs/debugfs/inode.c:342) holds its
    parent's i_rwsem when it returns no error pointer, xfrm_policy_get_afinfo (net/xfrm/xfrm_policy.c:238)
    holds rcu_lock_map when it returns non-NULL, and so does get_mhandle, a long one (fs/dlm/midcomms.c:1075);
    their callers test the result and drop the lock, so debugfs_create_dir, make_blackhole and
    send_request are no wrappers."""
    c = lock_tables(tmp_path / "p.duckdb", FIXTURES / "locks" / "release", ["pointer_try.c"])
    w = {r[0]: r[1:] for r in c.execute("SELECT name, op, param_index FROM lock_wrappers "
                                         "WHERE name NOT LIKE '%lock%'").fetchall()}
    assert w == {"start_creating": ("try", 1), "xfrm_policy_get_afinfo": ("try", None),
                 "end_creating": ("release", 0), "get_mhandle": ("try", None),
                 "commit_mhandle": ("release", None)}


def test_a_variable_a_file_scope_macro_defines_is_a_global(tmp_path):
    """tests/fixtures/locks/declared/xarray.c: `static DEFINE_XARRAY_ALLOC(queries);` defines struct xarray
    queries, so xa_lock(&queries) locks the global queries.xa_lock (it was an undeclared name)."""
    c = lock_tables(tmp_path / "x.duckdb", FIXTURES / "locks" / "declared", ["xarray.c"])
    assert c.execute("SELECT DISTINCT object_kind, struct_name, field_path, symbol FROM lock_sites "
                     "WHERE function = 'send_mad'").fetchall() == [("global", "xarray", "xa_lock", "queries")]


def test_lock_guards_are_sites_of_the_lock_their_class_takes(tmp_path):
    """tests/fixtures/locks/guards/guards.c: guard(mutex)(&x) and scoped_guard(spinlock_irqsave, &x) take
    what the class's DEFINE_GUARD / DEFINE_LOCK_GUARD_1 / DEFINE_LOCK_GUARD_0 statement takes, with the
    argument in place of `_T` or `_T->lock`; the lock is dropped at the end of the scope, so a function
    guarding its parameter's lock is no wrapper. `struct snd_card *card __free(snd_card_unref) = NULL;`
    declares card (the attribute used to hide it: its lock was unknown)."""
    c = lock_tables(tmp_path / "g.duckdb", FIXTURES / "locks" / "guards", ["guards.c"])
    rows = c.execute("SELECT function, line, primitive, via, arg_text, op, object_kind, struct_name, "
                     "field_path, symbol FROM lock_sites WHERE primitive LIKE '%guard%' "
                     "ORDER BY line").fetchall()
    mutex, rwsem = "scoped_guard(mutex)", "guard(rwsem_write)"
    assert rows == [
        ("pstore_unlink", 62, mutex, f"{mutex}>mutex_lock", "&records_list_lock",
         "acquire", "global", None, None, "records_list_lock"),
        ("pstore_unlink", 65, mutex, f"{mutex}>mutex_lock", "&record->psi->read_mutex",
         "acquire", "field", "pstore_info", "read_mutex", None),
        ("ring_buffer_read_start", 72, "guard(spinlock_irqsave)", "guard(spinlock_irqsave)>spin_lock_irqsave",
         "&cpu_buffer->reader_lock", "acquire", "field", "ring_buffer_per_cpu", "reader_lock", None),
        ("card_locked_work", 79, rwsem, f"{rwsem}>down_write", "&card->controls_rwsem",
         "acquire", "field", "snd_card", "controls_rwsem", None),
        ("snd_ctl_led_set_id", 90, rwsem, f"{rwsem}>down_write", "&card->controls_rwsem",
         "acquire", "field", "snd_card", "controls_rwsem", None),
        ("uses_big", 96, "guard(big)", "guard(big)>big_lock>spin_lock", "&big",
         "acquire", "global", None, None, "big"),
    ]
    wrappers = {r[0] for r in c.execute("SELECT name FROM lock_wrappers").fetchall()}
    assert wrappers == {"big_lock", "big_unlock"}


@pytest.mark.parametrize(("function", "want"), [
    ("bpf_find_vma", ("field", "task_struct", "alloc_lock", None)),
    ("acpi_ev_gpe_detect", ("global", None, None, "acpi_gbl_gpe_lock")),
    ("affs_hash_walk", ("field", "affs_inode_info", "i_ext_lock", None)),
])
def test_names_a_macro_declares(tmp_path, function, want):
    """tests/fixtures/locks/declared/macro_declared.c: BPF_CALL_2's (type, name) pairs are bpf_find_vma's
    parameters; ACPI_GLOBAL(acpi_spinlock, acpi_gbl_gpe_lock) declares a global; `#define i_hash_lock
    i_ext_lock` makes i_hash_lock the member i_ext_lock of struct affs_inode_info."""
    c = lock_tables(tmp_path / "m.duckdb", FIXTURES / "locks" / "declared", ["macro_declared.c"])
    got = c.execute("SELECT DISTINCT object_kind, struct_name, field_path, symbol FROM lock_sites "
                    "WHERE function = ?", [function]).fetchall()
    assert got == [want]


def test_a_long_function_taking_a_lock_under_a_flag_test_is_a_guarded_acquire_wrapper(tmp_path):
    """tests/fixtures/locks/flags/namei.c: path_init (fs/namei.c, 80 lines, returns a pointer) takes the
    RCU read lock when flags include LOOKUP_RCU, and returns with it held; path_lookupat drops it through
    terminate_walk. path_init is an acquire wrapper guarded by LOOKUP_RCU, so path_lookupat, and
    filename_lookup and kern_path above it, are balanced, not release wrappers."""
    c = lock_tables(tmp_path / "n.duckdb", FIXTURES / "locks" / "flags", ["namei.c"])
    w = {r[0]: r[1:] for r in c.execute("SELECT name, op, symbol FROM lock_wrappers").fetchall()}
    assert {k: v for k, v in w.items() if not k.startswith("rcu_read_")} == {
        "leave_rcu": ("release", "rcu_lock_map"), "terminate_walk": ("release", "rcu_lock_map"),
        "path_init": ("acquire", "rcu_lock_map")}
    site = c.execute("SELECT op, symbol, confidence, reason FROM lock_sites WHERE function = 'path_lookupat' "
                     "AND primitive = 'path_init'").fetchall()
    assert [s[:3] for s in site] == [("acquire", "rcu_lock_map", 0.5)]
    assert "LOOKUP_RCU" in site[0][3]


def test_a_function_like_macro_in_the_calling_file_hides_a_function_of_that_name(tmp_path):
    """tests/fixtures/locks/shadow: adv748x.h's io_clrset calls io_read, which the header #defines as
    adv748x_read(...) (drivers/media/i2c/adv748x/adv748x.h); io_uring's io_read (rw.c here: it ends a
    write) is not what it calls, so io_clrset takes and drops nothing."""
    c = lock_tables(tmp_path / "s.duckdb", FIXTURES / "locks" / "shadow", ["."])
    assert c.execute("SELECT name, op FROM lock_wrappers").fetchall() == [("io_read", "release")]
    assert c.execute("SELECT function, primitive FROM lock_sites").fetchall() == [("io_read", "up_read")]


def test_pointer_try_wrappers_returning_an_address_or_an_error_pointer(tmp_path):
    """tests/fixtures/locks/release/pointer_reserve.c: vmw_local_fifo_reserve (vmwgfx_cmd.c:276) holds
    fifo_mutex when it returns an address, not when it returns NULL; vbg_get_gdev holds vbg_gdev_mutex
    unless it returns ERR_PTR(-ENODEV). So their callers that commit or put after success are balanced, not
    release wrappers; get_trap returns another call's result (maybe NULL) with the lock held: no try."""
    c = lock_tables(tmp_path / "r.duckdb", FIXTURES / "locks" / "release", ["pointer_reserve.c"])
    assert dict(c.execute("SELECT name, op FROM lock_wrappers").fetchall()) == {
        "vmw_local_fifo_reserve": "try", "vmw_cmd_commit": "release", "vbg_get_gdev": "try",
        "vbg_put_gdev": "release"}


def test_a_long_function_declared_to_acquire_is_read_by_its_paths(tmp_path):
    """tests/fixtures/locks/release/acquires.c: rhashtable_walk_start_check (lib/rhashtable.c, 60 lines,
    `__acquires(RCU)`) returns 0 or -EAGAIN, both with the RCU read lock held: an acquire wrapper, so a
    walk that starts and stops (glock_hash_walk) is balanced, not a release wrapper."""
    c = lock_tables(tmp_path / "a.duckdb", FIXTURES / "locks" / "release", ["acquires.c"])
    w = dict(c.execute("SELECT name, op FROM lock_wrappers WHERE name NOT LIKE 'rcu_read_%'").fetchall())
    assert w == {"rhashtable_walk_start_check": "acquire", "rhashtable_walk_start": "acquire",
                 "rhashtable_walk_stop": "release"}


def test_constants_assigned_to_the_result_say_what_a_return_gives(tmp_path):
    """tests/fixtures/locks/release/assigned_result.c: tpm_try_get_ops (drivers/char/tpm/tpm-chip.c:103)
    starts with `int rc = -EIO;` and returns rc without the locks, 0 with ops_sem and tpm_mutex held: a
    try wrapper holding them when it returns 0, so tpm_send (get, transmit, put) is balanced."""
    c = lock_tables(tmp_path / "t.duckdb", FIXTURES / "locks" / "release", ["assigned_result.c"])
    rows = c.execute("SELECT name, op, field_path FROM lock_wrappers ORDER BY name, field_path").fetchall()
    assert rows == [
        ("tpm_put_ops", "release", "ops_sem"), ("tpm_put_ops", "release", "tpm_mutex"),
        ("tpm_try_get_ops", "try", "ops_sem"), ("tpm_try_get_ops", "try", "tpm_mutex")]


def test_a_release_declared_by_a_sparse_annotation_and_done_through_an_ops_pointer(tmp_path):
    """tests/fixtures/locks/release/declared.c: queue_request_and_unlock (fs/fuse/dev.c:225) is
    `__releases(fiq->lock)` and drops it through fiq->ops->wake_pending_and_unlock: a release wrapper
    declared, not read; flush_bg_queue locks fiq->lock and calls it: balanced, no acquire wrapper."""
    c = lock_tables(tmp_path / "d.duckdb", FIXTURES / "locks" / "release", ["declared.c"])
    assert c.execute("SELECT name, op, primitive, param_index, struct_name, field_path "
                     "FROM lock_wrappers").fetchall() == [
        ("queue_request_and_unlock", "release", "__releases", 0, "fuse_iqueue", "lock")]
    assert c.execute("SELECT annotation, arg, line FROM function_annotations").fetchall() == [
        ("__releases", "fiq->lock", 17)]


def test_a_pointer_declared_null_and_returned_tells_a_try(tmp_path):
    """tests/fixtures/locks/release/null_init.c: tty_ldisc_ref (drivers/tty/tty_ldisc.c:258) declares
    `struct tty_ldisc *ld = NULL;` and returns ld, non-NULL exactly when it holds ldisc_sem: a try
    wrapper, so tty_wakeup (deref after a non-NULL ref) is balanced, no release wrapper."""
    c = lock_tables(tmp_path / "n.duckdb", FIXTURES / "locks" / "release", ["null_init.c"])
    assert dict(c.execute("SELECT name, op FROM lock_wrappers WHERE name LIKE 'tty_%'").fetchall()) == {
        "tty_ldisc_ref": "try", "tty_ldisc_deref": "release"}


def test_a_function_declared_to_acquire_that_retries_is_an_acquire_wrapper(tmp_path):
    """tests/fixtures/locks/release/drain.c: cgroup_lock_and_drain_offline (kernel/cgroup/cgroup.c:3058,
    `__acquires(&cgroup_mutex)`) unlocks only to wait and `goto restart`: held at its end, an acquire
    wrapper; cgroup_max_depth_write (drain, write, unlock) is balanced."""
    c = lock_tables(tmp_path / "c.duckdb", FIXTURES / "locks" / "release", ["drain.c"])
    assert dict(c.execute("SELECT name, op FROM lock_wrappers").fetchall()) == {
        "cgroup_lock": "acquire", "cgroup_unlock": "release", "cgroup_lock_and_drain_offline": "acquire"}


def test_a_long_try_that_a_release_wrapper_points_at_is_read_by_its_paths(tmp_path):
    """tests/fixtures/locks/release/long_try.c: __gfs2_trans_begin (fs/gfs2/trans.c, 70 lines, an int)
    returns 0 with sd_log_flush_lock held and an error without; read by its paths once gfs2_trans_end's
    caller adjust_fs_space looks like dropping a lock it never took, it is a try, as gfs2_trans_begin
    around it, and adjust_fs_space is balanced."""
    c = lock_tables(tmp_path / "g.duckdb", FIXTURES / "locks" / "release", ["long_try.c"])
    assert dict(c.execute("SELECT name, op FROM lock_wrappers").fetchall()) == {
        "__gfs2_trans_begin": "try", "gfs2_trans_begin": "try", "gfs2_trans_end": "release"}


def test_a_long_void_function_a_release_wrapper_points_at_is_read_by_its_paths(tmp_path):
    """tests/fixtures/locks/release/long_void.c: ubi_refill_pools_and_lock (drivers/mtd/ubi/fastmap-wl.c,
    60 lines, void) returns with fm_protect, work_sem and fm_eba_sem write-held; ubi_update_fastmap drops
    them, so it pointed at it: an acquire wrapper of the three, and ubi_update_fastmap is balanced."""
    c = lock_tables(tmp_path / "u.duckdb", FIXTURES / "locks" / "release", ["long_void.c"])
    assert c.execute("SELECT name, op, field_path FROM lock_wrappers ORDER BY field_path").fetchall() == [
        ("ubi_refill_pools_and_lock", "acquire", p) for p in ("fm_eba_sem", "fm_protect", "work_sem")]


def test_a_try_holding_its_lock_when_the_result_is_not_negative(tmp_path):
    """tests/fixtures/locks/release/token.c: opal_async_get_token_interruptible (opal-async.c:66) returns
    the token with opal_async_sem held, a negative error without it; opal_get_sys_param tests
    `if (token < 0)` and releases the token later: balanced, no release wrapper."""
    c = lock_tables(tmp_path / "o.duckdb", FIXTURES / "locks" / "release", ["token.c"])
    assert dict(c.execute("SELECT name, op FROM lock_wrappers").fetchall()) == {
        "opal_async_get_token_interruptible": "try", "opal_async_release_token": "release"}
    assert c.execute("SELECT op, symbol FROM lock_sites WHERE function = 'opal_get_sys_param' "
                     "ORDER BY line").fetchall() == [("try", "opal_async_sem"), ("release", "opal_async_sem")]


def test_each_driver_sees_its_own_definition_of_a_typedef_name(tmp_path):
    """tests/fixtures/locks/typedef_twins: three drivers each define `adapter_t` (as cxgb's common.h,
    megaraid.h and megaraid/mega_common.h do in 6.1); a .c file reads the one of its own directory, not
    the first of the tree."""
    root = FIXTURES / "locks" / "typedef_twins"
    c = lock_tables(tmp_path / "t.duckdb", root, ["a_cxgb", "b_scsi"])
    got = {r[0]: r[1:] for r in c.execute(
        "SELECT function, object_kind, struct_name, field_path FROM lock_sites WHERE op = 'acquire'"
    ).fetchall()}
    c.close()
    assert got["t1_tpi_read"] == ("field", "adapter", "tpi_lock")
    assert got["megaraid_isr_memmapped"] == ("field", "adapter_t", "lock")
    assert got["megaraid_alloc_scb"] == ("field", "adapter_t", "kscb_pool_lock")


def test_a_try_asserted_by_bug_on_is_no_try(tmp_path):
    """tests/fixtures/locks/asserts/asserts.c: `BUG_ON(mmap_read_trylock(vma->vm_mm))` asserts that the
    caller holds mmap_lock (vm_insert_page goes on only when the try failed), so neither vm_insert_page
    nor its callers try mmap_lock; `BUG_ON(!down_write_trylock(&b->lock))` leaves the lock held. The
    sites keep the calls as written."""
    c = lock_tables(tmp_path / "a.duckdb", FIXTURES / "locks" / "asserts", ["asserts.c"])
    wrappers = set(c.execute("SELECT name, op, struct_name, field_path FROM lock_wrappers").fetchall())
    sites = set(c.execute("SELECT function, primitive, op FROM lock_sites").fetchall())
    c.close()
    assert ("mmap_read_trylock", "try", "mm_struct", "mmap_lock") in wrappers
    assert not {w for w in wrappers if w[0] in ("vm_insert_page", "map_one")}
    assert ("mca_take", "acquire", "btree", "lock") in wrappers
    # down_trylock holds on 0: asserting its result is 0 asserts that it took the semaphore
    assert ("hilse_setup_input", "acquire", "hil_mlc", "isem") in wrappers
    assert not {w for w in wrappers if w[0] == "hp_sdc_mlc_cts"}
    # a condition that is more than the try (`== 0`) is not read as an assertion of either outcome: the
    # site stays a try; take_compared returns nothing, so it is no try wrapper (lock pass 59)
    assert ("take_compared", "down_read_trylock", "try") in sites
    assert not {w for w in wrappers if w[0] == "take_compared"}
    assert ("vm_insert_page", "mmap_read_trylock", "try") in sites
    assert ("mca_take", "down_write_trylock", "try") in sites
    assert not {s for s in sites if s[0] == "map_one"}


def test_a_flag_that_chooses_the_mode_gives_one_wrapper_row_per_mode(tmp_path):
    """tests/fixtures/locks/flags/xfs.c (fs/xfs/xfs_inode.c:185-232, fs/xfs/xfs_file.c:194-230,
    548-575): xfs_ilock write-locks a lock under its _EXCL flag and read-locks it under its _SHARED flag,
    so each (lock, mode) is its own row with its own flag, and a call's constant flags pick the mode.
    Flags passed on through a pointer (*lock_mode) stay the caller's; an unlock with flags that cannot be
    read makes no release wrapper of the locks those flags may not name."""
    c = lock_tables(tmp_path / "m.duckdb", FIXTURES / "locks" / "flags", ["xfs.c"])
    ilock = c.execute("SELECT struct_name || '.' || field_path, mode FROM lock_wrappers "
                      "WHERE name = 'xfs_ilock' ORDER BY 1, 2").fetchall()
    assert ilock == [("address_space.invalidate_lock", "read"), ("address_space.invalidate_lock", "write"),
                     ("inode.i_rwsem", "read"), ("inode.i_rwsem", "write"),
                     ("xfs_inode.i_lock.mr_lock", "read"), ("xfs_inode.i_lock.mr_lock", "write")]
    sites = c.execute("SELECT line, op, mode, struct_name || '.' || field_path, confidence FROM lock_sites "
                      "WHERE function = 'update_inode' ORDER BY line").fetchall()
    assert sites == [(170, "acquire", "write", "xfs_inode.i_lock.mr_lock", 1.0),
                     (171, "release", "write", "xfs_inode.i_lock.mr_lock", 1.0),
                     (172, "acquire", "read", "xfs_inode.i_lock.mr_lock", 1.0),
                     (173, "release", "read", "xfs_inode.i_lock.mr_lock", 1.0)]
    for_write = c.execute("SELECT op, mode FROM lock_wrappers WHERE name = 'xfs_ilock_iocb_for_write' "
                          "AND field_path = 'i_rwsem' ORDER BY 2").fetchall()
    assert for_write == [("acquire", "read"), ("acquire", "write")]
    assert c.execute("SELECT count(*) FROM lock_wrappers WHERE name = 'dio_write_aligned'").fetchone() == (0,)


def test_the_conditions_that_decide_a_lock_held_at_return(tmp_path):
    """tests/fixtures/locks/conditions/conditions.c (each function says the v6.1 code it is shaped on):
    `a && b` tests b only where a is true, a lockdep key test and a lock-debugging #ifdef are taken, a
    known constant takes one branch unless its address is passed on, a returned lock call's result says
    whether the lock is held, lock_acquire's read argument is the mode."""
    c = lock_tables(tmp_path / "c.duckdb", FIXTURES / "locks" / "conditions", ["conditions.c"])
    rows = dict(((n, f), op) for n, f, op in c.execute(
        "SELECT name, coalesce(field_path, symbol), op FROM lock_wrappers").fetchall())
    assert rows[("cluster_lock", "l_lockdep_map")] == "try"
    assert rows[("lock_full", "l_lockdep_map")] == "try"
    assert rows[("prep_lock", "prep_lock")] == "try"
    assert rows[("ctx_acquire", "state_mutex")] == "try"
    assert rows[("restart", "i_data_sem")] == "release"
    assert ("ensure_credits", "i_data_sem") not in rows
    assert c.execute("SELECT op, mode FROM lock_sites WHERE function IN ('read_map', 'read_unmap') "
                     "ORDER BY function").fetchall() == [("acquire", "read"), ("release", "read")]


def test_a_release_after_a_call_that_took_the_lock_is_no_release_wrapper(tmp_path):
    """tests/fixtures/locks/conditions/paired.c (fs/ocfs2/dlmglue.c:2423-2525, file.c:1299-1330): getattr
    takes the lock through inode_lock_full, which holds it on some returns of 0 only (no wrapper), and
    drops it through inode_unlock: balanced, no release wrapper; inode_unlock stays one."""
    c = lock_tables(tmp_path / "p.duckdb", FIXTURES / "locks" / "conditions", ["paired.c"])
    rows = set(c.execute("SELECT name, op FROM lock_wrappers").fetchall())
    assert ("inode_unlock", "release") in rows and ("cluster_lock", "try") in rows
    assert not {n for n, _op in rows} & {"getattr", "inode_lock_full"}


def test_a_release_after_a_call_that_returns_holding_one_lock_or_another(tmp_path):
    """tests/fixtures/locks/conditions/either_lock.c (drivers/base/power/clock_ops.c:86-139, 543-574):
    op_lock returns 0 holding the spinlock or the mutex (no wrapper row can say which), so clk_suspend,
    which drops what op_lock took through op_unlock, is no release wrapper; op_unlock stays one of both."""
    c = lock_tables(tmp_path / "e.duckdb", FIXTURES / "locks" / "conditions", ["either_lock.c"])
    rows = set(c.execute("SELECT name, field_path, op FROM lock_wrappers").fetchall())
    assert {("op_unlock", "clock_mutex", "release"), ("op_unlock", "lock", "release")} <= rows
    assert not {n for n, _f, _op in rows} & {"op_lock", "clk_suspend"}


def test_drm_modeset_lock_all_and_unlock_all_pair(tmp_path):
    """tests/fixtures/locks/conditions/lock_all.c (drivers/gpu/drm/drm_modeset_lock.c:142-223): the
    catalogue's MEMBER_WRAPPERS say what the pair does, so legacy_remove_fb, which calls both, is no
    wrapper (read from the bodies, it took connection_mutex and dropped the context's lockdep map);
    hold_all takes both locks of its parameter's mode_config; unlock_all drops both and no lockdep map."""
    c = lock_tables(tmp_path / "a.duckdb", FIXTURES / "locks" / "conditions", ["lock_all.c"])
    rows = set(c.execute("SELECT name, struct_name, field_path, op FROM lock_wrappers").fetchall())
    assert not {r for r in rows if r[0] == "legacy_remove_fb"}
    both = {"mode_config.mutex", "mode_config.connection_mutex.mutex"}
    for name, op in (("hold_all", "acquire"), ("drm_modeset_lock_all", "acquire"),
                     ("drm_modeset_unlock_all", "release")):
        assert {(s, f, o) for n, s, f, o in rows if n == name} == {("drm_device", f, op) for f in both}
    sites = c.execute("SELECT op, field_path FROM lock_sites WHERE function = 'legacy_remove_fb' "
                      "ORDER BY line, op, field_path").fetchall()
    assert sites == [("acquire", "mode_config.connection_mutex.mutex"), ("acquire", "mode_config.mutex"),
                     ("release", "mode_config.connection_mutex.mutex"), ("release", "mode_config.mutex")]


def test_a_reservation_that_fails_by_an_error_holds_nothing_on_the_error(tmp_path):
    """tests/fixtures/locks/conditions/reserve.c (ttm_bo_reserve, nouveau_bo_unpin): reserve() passes for
    an acquire by count, but where a caller tests its result an error means no lock: unpin and pin_void,
    which return or leave on the error and drop the lock otherwise, are no wrappers (unpin read as a try
    held when it returns the error); reserve_checked is a try, held when it returns 0."""
    c = lock_tables(tmp_path / "r.duckdb", FIXTURES / "locks" / "conditions", ["reserve.c"])
    rows = set(c.execute("SELECT name, op FROM lock_wrappers").fetchall())
    assert ("reserve", "acquire") in rows and ("unreserve", "release") in rows
    assert ("reserve_checked", "try") in rows
    assert not {n for n, _op in rows} & {"unpin", "pin_void"}


def test_a_try_in_a_function_that_returns_nothing(tmp_path):
    """tests/fixtures/locks/conditions/void_try.c (cifs_down_write, ux500_hash_shutdown): a void function
    is no try wrapper (its caller cannot tell); an acquire where its paths hold the lock at every return
    (a trylock loop), else nothing."""
    c = lock_tables(tmp_path / "v.duckdb", FIXTURES / "locks" / "conditions", ["void_try.c"])
    rows = set(c.execute("SELECT name, op FROM lock_wrappers").fetchall())
    assert ("spin_down_write", "acquire") in rows
    assert not {n for n, _op in rows} & {"shutdown"}


def test_freeze_protection_handed_to_a_completion_is_balanced_for_lockdep(tmp_path):
    """tests/fixtures/locks/conditions/handoff.c (include/linux/fs.h, fs/aio.c): percpu_rwsem_release and
    percpu_rwsem_acquire are catalogue primitives of the semaphore (lockdep's view of it), so
    kiocb_start_write and kiocb_end_write are balanced; sb_end_write stays a read release."""
    c = lock_tables(tmp_path / "h.duckdb", FIXTURES / "locks" / "conditions", ["handoff.c"])
    rows = set(c.execute("SELECT name, op, mode, field_path FROM lock_wrappers").fetchall())
    assert ("sb_end_write", "release", "read", "s_writers.rw_sem") in rows
    assert not {r for r in rows if r[0] in ("kiocb_start_write", "kiocb_end_write")}
    sites = set(c.execute("SELECT function, primitive, op, mode FROM lock_sites").fetchall())
    assert ("kiocb_start_write", "percpu_rwsem_release", "release", "read") in sites


def test_hid_hw_stop_leaves_nothing_for_a_remove_function(tmp_path):
    """tests/fixtures/locks/conditions/hid_stop.c: hid_hw_stop's catalogue entry (KNOWN_GLOBAL_WRAPPERS,
    empty): a driver's remove function that calls it is no acquire wrapper of driver_input_lock;
    hid_device_io_stop stays one."""
    c = lock_tables(tmp_path / "h.duckdb", FIXTURES / "locks" / "conditions", ["hid_stop.c"])
    rows = set(c.execute("SELECT name, op, field_path FROM lock_wrappers").fetchall())
    assert ("hid_device_io_stop", "acquire", "driver_input_lock") in rows
    assert not {r for r in rows if r[0] in ("hid_hw_stop", "ft260_remove")}


def test_a_copy_that_drops_the_dump_lock_only_on_failure_is_no_release(tmp_path):
    """tests/fixtures/locks/conditions/gen_stats.c (net/core/gen_stats.c): gnet_stats_copy's catalogue
    entry (empty) keeps red_dump_stats from reading as a release wrapper of gnet_dump.lock;
    gnet_stats_finish_copy stays one, gnet_stats_start_copy takes the lock it is given."""
    c = lock_tables(tmp_path / "g.duckdb", FIXTURES / "locks" / "conditions", ["gen_stats.c"])
    rows = set(c.execute("SELECT name, op, param_index FROM lock_wrappers").fetchall())
    assert ("gnet_stats_finish_copy", "release", 0) in rows
    assert ("gnet_stats_start_copy", "acquire", 1) in rows
    assert not {r for r in rows if r[0] in ("red_dump_stats", "gnet_stats_copy")}


def test_sites_in_code_the_configuration_does_not_build_say_so(tmp_path):
    """tests/fixtures/locks/conditions/unbuilt.c: a site in a function under `#ifdef CONFIG_PREEMPT_RT`
    (not set in the default Debian amd64 configuration) keeps its object, with confidence at most 0.2 and a
    reason that names the configuration; the built function's sites are unchanged."""
    c = lock_tables(tmp_path / "u.duckdb", FIXTURES / "locks" / "conditions", ["unbuilt.c"])
    rows = {r[0]: r[1:] for r in c.execute(
        "SELECT function, field_path, confidence, reason FROM lock_sites WHERE op = 'acquire'").fetchall()}
    field, conf, reason = rows["mutex_lock_rt"]
    assert field == "lock" and conf <= 0.2 and reason.startswith("not built with Debian")
    field, conf, reason = rows["foo_update"]
    assert field == "lock" and conf > 0.5 and "not built" not in reason


def test_locks_dropped_through_their_acquire_context_make_no_wrapper(tmp_path):
    """tests/fixtures/locks/conditions/context.c (drivers/gpu/drm/drm_probe_helper.c:353-385):
    drm_modeset_drop_locks drops every lock taken with the context, so probe_detect, which takes the
    connection mutex with it, is no acquire wrapper; lock_connection is one."""
    c = lock_tables(tmp_path / "x.duckdb", FIXTURES / "locks" / "conditions", ["context.c"])
    rows = set(c.execute("SELECT name, op FROM lock_wrappers").fetchall())
    assert ("lock_connection", "acquire") in rows
    assert not {n for n, _op in rows} & {"probe_detect"}



def test_a_lock_result_assigned_in_either_branch(tmp_path):
    """tests/fixtures/locks/conditions/evict.c (drivers/gpu/drm/ttm/ttm_bo.c:595-620): r holds the result of
    either lock call, and `if (!r)` drops the lock: no wrapper."""
    c = lock_tables(tmp_path / "e.duckdb", FIXTURES / "locks" / "conditions", ["evict.c"])
    rows = {n for (n,) in c.execute("SELECT name FROM lock_wrappers").fetchall()}
    assert "dma_resv_lock" in rows and "evict_wait_busy" not in rows


def test_an_acquire_or_zero_holds_where_its_result_is_not_tested():
    """lock_paths.ACQUIRE_OR_ZERO: a call whose result is not used takes the lock; `if (ret) return ret;`
    after `ret = reserve(..)` returns without it."""
    text = "void a(struct bo *bo)\n{\n\treserve(bo);\n}\n"
    states = lock_paths.return_states(text, 1, [(3, "reserve", [("L", lock_paths.ACQUIRE_OR_ZERO)])])
    assert [s.get("L", 0) for s in states] == [1]
    text = ("int b(struct bo *bo)\n{\n\tint ret = reserve(bo);\n\n\tif (ret)\n\t\treturn ret;\n"
            "\treturn 0;\n}\n")
    states = lock_paths.return_states(text, 1, [(3, "reserve", [("L", lock_paths.ACQUIRE_OR_ZERO)])])
    assert sorted(s.get("L", 0) for s in states) == [0, 1]


def test_a_static_initializer_is_no_value_at_every_call():
    """A static local's initializer runs once: `static int done = 0; if (!done) { mutex_lock(..); done = 1; }`
    takes the lock on some calls only (both paths reach the return), and a loop macro's cursor is assigned
    by the loop (hlist_for_each_entry(found, ..) after `found = NULL`: a path returns it with the lock)."""
    text = ("int once_lock(struct c *c)\n{\n\tstatic int done = 0;\n\n\tif (!done) {\n"
            "\t\tmutex_lock(&c->m);\n\t\tdone = 1;\n\t}\n\treturn 0;\n}\n")
    states = lock_paths.return_states(text, 1, [(6, "mutex_lock", [("L", lock_paths.ACQUIRE)])])
    assert sorted(s.get("L", 0) for s in states) == [0, 1]
    text = ("struct x *find_locked(struct head *h, int key)\n{\n\tstruct x *found = NULL;\n\n"
            "\tspin_lock(&h->lock);\n\thlist_for_each_entry(found, &h->list, node) {\n"
            "\t\tif (found->key == key)\n\t\t\tbreak;\n\t}\n\tif (!found) {\n"
            "\t\tspin_unlock(&h->lock);\n\t\treturn NULL;\n\t}\n\treturn found;\n}\n")
    states = lock_paths.return_states(text, 1, [(5, "spin_lock", [("L", lock_paths.ACQUIRE)]),
                                                (11, "spin_unlock", [("L", lock_paths.RELEASE)])])
    assert sorted((s.get("L", 0), s.get(lock_paths.RETURNS)) for s in states) == [(0, "zero"), (1, "true")]


def test_wrapper_rounds_that_run_out_say_so(tmp_path, monkeypatch, capsys):
    """With room for one wrapper round, paired.c (cluster_lock, then inode_lock_full that calls it, ...)
    reaches no fixed point: lima-index says so on stderr and keeps it in meta for later readers."""
    from lima.analyzer.cli import main
    from lima.db import connect, get_meta
    monkeypatch.setattr(lock_pass, "_MAX_ROUNDS", 1)
    db = tmp_path / "r.duckdb"
    assert main([str(FIXTURES / "locks" / "conditions"), "--db", str(db), "--jobs", "1", "-q"]) == 0
    assert "warning: lock pass: wrapper rounds stopped at 1 before a fixed point" in capsys.readouterr().err
    con = connect(db, read_only=True)
    assert "stopped at 1" in get_meta(con, "lock_pass_warnings")
    con.close()
    monkeypatch.setattr(lock_pass, "_MAX_ROUNDS", 60)
    assert main([str(FIXTURES / "locks" / "conditions"), "--db", str(db), "--jobs", "1", "-q",
                 "--force"]) == 0
    assert "lock pass" not in capsys.readouterr().err
    con = connect(db, read_only=True)
    assert get_meta(con, "lock_pass_warnings") == ""
    con.close()


def test_a_release_after_a_long_begin_that_returns_holding_a_lock_it_found(tmp_path):
    """tests/fixtures/locks/conditions/transaction.c (fs/nilfs2/segment.c:201-243, namei.c:88-113): the
    long transaction_begin returns 0 holding ns_segctor_sem of the_nilfs it reaches through a local (no
    row can name it), so create, which begins and commits, is no release wrapper; commit stays one."""
    c = lock_tables(tmp_path / "t.duckdb", FIXTURES / "locks" / "conditions", ["transaction.c"])
    rows = set(c.execute("SELECT name, field_path, op FROM lock_wrappers").fetchall())
    assert ("transaction_commit", "ns_segctor_sem", "release") in rows
    assert not {r for r in rows if r[0] in ("create", "transaction_begin")}


def test_a_long_try_under_flag_tests_is_a_try(tmp_path):
    """tests/fixtures/locks/conditions/nowait.c (fs/xfs/xfs_inode.c:229-274, xfs_file.c:193-207): the long
    ilock_nowait returns 1 with i_lock when lock_flags ask for it, 0 after a failed try: a try (it was an
    acquire, as if it always succeeded), under the ILOCK flags; ilock_iocb, 0 with it and -EAGAIN without,
    a try under lock_mode; reclaim is balanced, and dio_read, which asks for the IOLOCK only, takes no
    i_lock."""
    c = lock_tables(tmp_path / "n.duckdb", FIXTURES / "locks" / "conditions", ["nowait.c"])
    rows = set(c.execute("SELECT name, field_path, op FROM lock_wrappers WHERE field_path LIKE 'i_lock%'"
                         ).fetchall())
    assert ("ilock_nowait", "i_lock.mr_lock", "try") in rows
    assert ("ilock_iocb", "i_lock.mr_lock", "try") in rows
    held = dict(c.execute("SELECT name, held_when FROM lock_wrappers WHERE op = 'try'").fetchall())
    assert held["ilock_nowait"] == "it returns nonzero" and held["ilock_iocb"] == "it returns 0"
    assert not {r for r in rows if r[0] in ("reclaim", "dio_read") or r[2] == "acquire" and r[0] != "ilock"}
    sites = c.execute("SELECT function, op FROM lock_sites WHERE function IN ('dio_read', 'reclaim') "
                      "AND field_path = 'i_lock.mr_lock'").fetchall()
    assert sorted(sites) == [("reclaim", "release"), ("reclaim", "try")]


def test_a_wrapper_that_does_it_only_under_a_test_says_which(tmp_path):
    """tests/fixtures/locks/conditions/state.c (fs/pipe.c:90-94, include/linux/rmap.h:405-411,
    drivers/block/loop.c:131-137): lock_wrappers.condition names the test, a NULL test of the lock's own
    pointer too; a caller's row keeps the test, and a site through the wrapper says it. A test of a
    bool parameter is a guard the call site reads (loop_global_unlock(lo, false) drops lo_mutex only)."""
    c = lock_tables(tmp_path / "s.duckdb", FIXTURES / "locks" / "conditions", ["state.c"])
    rows = {(n, f or s): cond for n, f, s, cond in c.execute(
        "SELECT name, field_path, symbol, condition FROM lock_wrappers").fetchall()}
    assert rows[("pipe_unlock", "mutex")] == "if (pipe->files) in pipe_unlock"
    assert rows[("pipe_unlock_all", "mutex")] == "if (pipe->files) in pipe_unlock"
    assert rows[("pipe_unlock_busy", "mutex")] == \
        "if (pipe->busy) in pipe_unlock_busy; if (pipe->files) in pipe_unlock"
    # a NULL test of the lock's own pointer is named too (readers of the samples took it either way)
    assert rows[("page_vma_mapped_walk_done", "ptl")] == "if (pvmw->ptl) in page_vma_mapped_walk_done"
    assert rows[("loop_global_unlock", "lo_mutex")] is None
    # `if (global)` on a bool parameter is a guard call sites read, not a condition
    assert rows[("loop_global_unlock", "loop_validate_mutex")] is None
    assert c.execute("SELECT guard FROM lock_wrappers WHERE name = 'loop_global_unlock' "
                     "AND symbol = 'loop_validate_mutex'").fetchall() == [
        ("when global is true",)]
    sites = set(c.execute("SELECT function, coalesce(field_path, symbol) FROM lock_sites "
                          "WHERE function IN ('loop_clr', 'loop_set_status')").fetchall())
    assert sites == {("loop_clr", "lo_mutex"), ("loop_clr", "loop_validate_mutex"),
                     ("loop_set_status", "lo_mutex")}
    # a void function that may return before it: the tests of those returns (not a WARN_ON)
    assert rows[("end_write", "m")] == "unless (!f->regular) in end_write"
    assert rows[("warned_unlock", "m")] is None
    # the `if (..) {` that opens the block (a label only: guards are not read this far up)
    assert rows[("unlock_two", "rename_mutex")] == "if (p1 != p2) in unlock_two"
    # the else branch of a test: the test negated
    assert rows[("stolen", "ts_ctxlock")] == "if (!(gts->kernel)) in stolen"
    assert rows[("stolen", "kgts_sema")] == "if (gts->kernel) in stolen"
    # blocks in blocks: every if's test, outermost first (not the loop's)
    assert rows[("nested_unlock", "ts_ctxlock")] == \
        "if (gts->kernel) in nested_unlock; if (gts->kernel > 1) in nested_unlock"
    # dropped under two different tests (an if/else chain): no one of them is the condition
    assert rows[("unlock_cqs", "lock")] is None
    reason = c.execute("SELECT reason FROM lock_sites WHERE function = 'splice_end' AND op = 'release'"
                       ).fetchone()[0]
    assert reason.startswith("only if (pipe->files) in pipe_unlock: ")


def test_lock_wrapper_query_shows_guard_and_condition(tmp_path):
    """lima-query lock-wrapper on tests/fixtures/locks/conditions/state.c: the rows of a wrapper with its
    parameter guard and its condition; a function that is no wrapper says so."""
    from lima.queries import install_views
    from lima.queries.catalog import load_catalog
    from lima.queries.cli import run_query

    c = lock_tables(tmp_path / "q.duckdb", FIXTURES / "locks" / "conditions", ["state.c"])
    install_views(c)
    q = load_catalog()["lock-wrapper"]
    cols, rows = run_query(c, q, {"name": "loop_global_unlock"})
    got = {(r["field"] or r["symbol"], r["op"], r["guard"], r["condition"])
           for r in (dict(zip(cols, row, strict=True)) for row in rows)}
    assert got == {("lo_mutex", "release", None, None),
                   ("loop_validate_mutex", "release", "when global is true", None)}
    cols, rows = run_query(c, q, {"field": "mutex", "op": "release"})
    assert {"pipe_unlock", "pipe_unlock_all"} <= {r[0] for r in rows}
    assert all(dict(zip(cols, r, strict=True))["condition"] == "if (pipe->files) in pipe_unlock"
               for r in rows if r[0] in ("pipe_unlock", "pipe_unlock_all"))


def test_a_lock_taken_for_write_then_downgraded_is_held_for_read(tmp_path):
    """tests/fixtures/locks/conditions/downgrade.c (fs/nfs/io.c:42-64): start_io_read returns holding
    i_rwsem for read, by down_read or by down_write + downgrade_write."""
    c = lock_tables(tmp_path / "d.duckdb", FIXTURES / "locks" / "conditions", ["downgrade.c"])
    rows = set(c.execute("SELECT name, op, mode, field_path FROM lock_wrappers").fetchall())
    assert ("start_io_read", "acquire", "read", "i_rwsem") in rows
    assert ("end_io_read", "release", "read", "i_rwsem") in rows
    assert not {r for r in rows if r[0] == "start_io_read" and r[2] == "write"}
