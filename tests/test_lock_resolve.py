"""Expression typing and naming rules of the lock pass, on small hand-built models (no kernel tree)."""

from __future__ import annotations

from lima.analyzer.lock_catalogue import PRIMITIVES, primitive_map
from lima.analyzer.lock_expr import parse_expr, parse_type
from lima.analyzer.lock_macros import MacroDef, MacroTable, find_calls, string_value
from lima.analyzer.lock_resolve import FieldDef, Resolver, Scope, StructDef, Type, TypeModel, VarDef


def _model() -> TypeModel:
    m = TypeModel()

    def s(key: str, fields: dict[str, Type]) -> None:
        d = StructDef(key, len(m.structs) + 1, 1, key.split()[-1],
                      {n: FieldDef(n, t, 1) for n, t in fields.items()})
        m.structs.setdefault(key, []).append(d)

    s("struct task_struct", {"signal": Type("struct signal_struct", 1), "alloc_lock": Type("spinlock_t")})
    s("struct signal_struct", {"cred_guard_mutex": Type("struct mutex")})
    s("struct foo", {"lock": Type("spinlock_t"), "work": Type("struct work_struct"),
                     "locks": Type("spinlock_t", 1)})
    s("struct dentry", {"d_lockref": Type("struct lockref")})
    s("struct lockref", {"lock": Type("spinlock_t"), "count": Type("int")})
    s("struct spinlock", {"rlock": Type("struct raw_spinlock")})
    m.typedefs["spinlock_t"] = [(Type("struct spinlock"), 1)]
    m.member_alias["d_lock"] = "d_lockref.lock"
    m.globals["rtnl_mutex"] = [VarDef("rtnl_mutex", Type("struct mutex"), "global", 1, 1)]
    return m


def _scope() -> Scope:
    return Scope(1, 10, "f", 1, {
        "p": [VarDef("p", Type("struct task_struct", 1), "param", 1, 1, param_index=0)],
        "w": [VarDef("w", Type("struct work_struct", 1), "param", 1, 1, param_index=1)],
        "l": [VarDef("l", Type("spinlock_t", 1), "param", 1, 1, param_index=2)],
        "d": [VarDef("d", Type("struct dentry", 1), "local", 1, 2)],
        "ptl": [VarDef("ptl", Type("spinlock_t", 1), "local", 1, 3, initializer="&d->d_lock")],
    })


def _label(r: Resolver, text: str, form: str = "pointer") -> str:
    o = r.lock_object(text, _scope(), form)
    return o.kind + ":" + (r.describe(o) if o.kind != "ambiguous" else "|".join(o.candidates))


def test_member_chains_and_typedefs():
    r = Resolver(_model())
    assert _label(r, "&p->signal->cred_guard_mutex") == "field:signal_struct.cred_guard_mutex"
    assert _label(r, "&p->alloc_lock") == "field:task_struct.alloc_lock"
    # (&x)->f is x.f; spinlock_t is followed through its typedef to struct spinlock
    assert _label(r, "&(&p->alloc_lock)->rlock") == "field:task_struct.alloc_lock.rlock"


def test_container_of_casts_alias_macros_and_locals():
    r = Resolver(_model())
    assert _label(r, "&container_of(w, struct foo, work)->lock") == "field:foo.lock"
    assert _label(r, "&((struct foo *)w)->lock") == "field:foo.lock"
    assert _label(r, "&d->d_lock") == "field:dentry.d_lockref.lock"
    assert _label(r, "ptl") == "field:dentry.d_lockref.lock"      # value of the local pointer
    assert _label(r, "&rtnl_mutex") == "global:rtnl_mutex"
    assert _label(r, "l") == "param:param l"


def test_two_objects_are_ambiguous_never_a_guess():
    r = Resolver(_model())
    assert _label(r, "x ? &p->alloc_lock : &rtnl_mutex") == "ambiguous:rtnl_mutex|task_struct.alloc_lock"
    assert r.lock_object("&nosuch->lock", _scope()).kind == "unknown"


def test_parser_reads_kernel_forms():
    assert parse_expr("&(*(typeof((rnp)->lock) __force *)&(rnp)->lock)")[0] == "unary"
    assert parse_type("const struct file_operations *") == ("struct file_operations", 1)
    cast = parse_expr("(spinlock_t *)x", lambda n: n == "spinlock_t")
    assert cast == ("cast", ("spinlock_t", 1), ("id", "x"))


def test_work_item_names_follow_cpp_stringification():
    # include/linux/workqueue.h: INIT_WORK forwards (_work) to __INIT_WORK, which stringifies it
    t = MacroTable([
        MacroDef("INIT_WORK", ("_work", "_func"), "__INIT_WORK((_work), (_func), 0)", 1, 1),
        MacroDef("__INIT_WORK", ("_work", "_func", "_onstack"),
                 'do { lockdep_init_map(&(_work)->lockdep_map, "(work_completion)"#_work, &__key, 0); '
                 "} while (0)", 1, 2)])
    outer = t.expand("INIT_WORK", ["&dev->work", "f"])
    (name, args, _), = find_calls(outer, {"__INIT_WORK"})
    (_, largs, _), = find_calls(t.expand(name, args), {"lockdep_init_map"})
    assert string_value(largs[1]) == "(work_completion)(&dev->work)"
    assert largs[0] == "&((&dev->work))->lockdep_map"


def test_catalogue_is_consistent():
    pm = primitive_map()
    assert len(pm) == len(PRIMITIVES)
    assert pm["spin_lock_irqsave"].variant == "irqsave" and pm["spin_lock_irqsave"].op == "acquire"
    assert pm["mutex_trylock"].is_trylock and pm["down_read"].mode == "read"
    assert pm["bit_spin_lock"].arg_index == 1
