"""The lock vocabulary of Linux v6.1 as data: lock types, primitives, initializers and typing helpers.

Everything here was read in the v6.1 headers (include/linux/spinlock*.h, rwlock*.h, mutex.h, rwsem.h,
semaphore.h, seqlock.h, percpu-rwsem.h, rtmutex.h, ww_mutex.h, local_lock*.h, lockref.h, wait.h,
bit_spinlock.h, list_bl.h, lockdep.h, workqueue.h). The lock pass seeds the tables lock_types and
lock_primitives from LOCK_TYPES and PRIMITIVES; the other tables drive name and type resolution.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "LockType", "Primitive", "Initializer", "StaticDefiner", "LOCK_TYPES", "PRIMITIVES",
    "INITIALIZERS", "STATIC_DEFINERS", "STATIC_INITIALIZERS", "TYPE_ARG_MACROS", "PASSTHROUGH_MACROS",
    "PERCPU_ACCESSORS", "KNOWN_WRAPPERS", "KNOWN_GLOBAL_WRAPPERS", "MEMBER_WRAPPERS", "PSEUDO_KINDS",
    "WORKQUEUE_CREATORS",
    "GUARD_DEFINERS", "GUARD_USERS", "NORETURN_ASSERTS", "CONTEXT_RELEASES", "CONTEXT_TYPES",
    "lock_type_map", "primitive_map", "initializer_map",
    "CONFIG_LOCK_DEBUG",
    "MODE_ARGS",
]


class LockType(NamedTuple):
    """A C type that is a lock."""
    type_name: str
    lock_kind: str
    description: str


class Primitive(NamedTuple):
    """A function or macro that acquires, tries or releases a lock."""
    name: str
    lock_kind: str
    op: str            # acquire | try | release
    mode: str          # read | write | exclusive
    variant: str | None
    subclass: bool
    is_trylock: bool
    arg_index: int     # 0-based position of the lock argument
    #: pointer (&x->lock) | lvalue (the lock itself, wait_event-style) | member:NAME (a pointer to a
    #: struct whose member NAME is the lock: lockref_put_or_lock(&d->d_lockref) takes d_lockref.lock)
    arg_form: str = "pointer"


class Initializer(NamedTuple):
    """A run-time initializer or lockdep re-keying call.

    name_from: how the class name is formed: 'stringify' (#arg of name_arg), 'literal' (string value
    of name_arg), 'ww_class' (the class variable named by name_arg + "_mutex"), 'runtime'.
    Macros in the tree that forward to these (seqlock_init, INIT_WORK, ...) are derived by the lock pass.
    member: the lock is this member of the object lock_arg points to (__init_swait_queue_head(q, ...)
    initialises q->lock), else lock_arg points to the lock itself.
    """
    name: str
    lock_kind: str
    lock_arg: int
    name_from: str
    name_arg: int | None
    key_arg: int | None = None
    member: str | None = None


class StaticDefiner(NamedTuple):
    """A file-scope definer macro: DEFINE_MUTEX(x) declares x of lock_type named #x.

    own_class: the object has a lockdep map of its own named #x (a semaphore and a wait queue head have
    none: their .lock member is the class, named by the static initializer the macro expands to, e.g.
    "(console_sem).lock" from __SEMAPHORE_INITIALIZER's __RAW_SPIN_LOCK_UNLOCKED((name).lock)). The lock
    pass expands every definer to find such member classes (mutex and rwsem x.wait_lock too)."""
    name: str
    lock_type: str
    symbol_arg: int
    is_percpu: bool = False
    own_class: bool = True


# ---------------------------------------------------------------------------------------------------
# Types
# ---------------------------------------------------------------------------------------------------

LOCK_TYPES: list[LockType] = [
    LockType("spinlock_t", "spinlock", "sleeping-free spin lock (struct spinlock wrapping a raw_spinlock)"),
    LockType("struct spinlock", "spinlock", "struct tag of spinlock_t"),
    LockType("raw_spinlock_t", "raw_spinlock", "spin lock that never sleeps, even on PREEMPT_RT"),
    LockType("struct raw_spinlock", "raw_spinlock", "struct tag of raw_spinlock_t"),
    LockType("rwlock_t", "rwlock", "reader/writer spin lock"),
    LockType("struct mutex", "mutex", "sleeping mutual exclusion lock"),
    LockType("struct rw_semaphore", "rwsem", "sleeping reader/writer semaphore"),
    LockType("struct semaphore", "semaphore", "counting semaphore"),
    LockType("seqlock_t", "seqlock", "sequence lock: seqcount plus a spinlock for writers"),
    LockType("seqcount_t", "seqcount", "sequence counter (writers serialised elsewhere)"),
    LockType("struct seqcount", "seqcount", "struct tag of seqcount_t"),
    LockType("seqcount_raw_spinlock_t", "seqcount", "seqcount associated with a raw_spinlock"),
    LockType("seqcount_spinlock_t", "seqcount", "seqcount associated with a spinlock"),
    LockType("seqcount_rwlock_t", "seqcount", "seqcount associated with an rwlock"),
    LockType("seqcount_mutex_t", "seqcount", "seqcount associated with a mutex"),
    LockType("seqcount_ww_mutex_t", "seqcount", "seqcount associated with a ww_mutex"),
    LockType("seqcount_latch_t", "seqcount", "latch sequence counter"),
    LockType("struct percpu_rw_semaphore", "percpu_rwsem", "per-CPU reader/writer semaphore"),
    LockType("struct rt_mutex", "rt_mutex", "priority-inheriting mutex"),
    LockType("struct rt_mutex_base", "rt_mutex", "core of rt_mutex"),
    LockType("struct ww_mutex", "ww_mutex", "wound/wait mutex"),
    LockType("local_lock_t", "local_lock", "per-CPU local lock"),
    LockType("arch_spinlock_t", "arch_spinlock", "architecture spin lock under raw_spinlock"),
    LockType("struct qspinlock", "arch_spinlock", "x86 queued spin lock (arch_spinlock_t)"),
    LockType("arch_rwlock_t", "arch_spinlock", "architecture reader/writer lock under rwlock_t"),
    LockType("struct qrwlock", "arch_spinlock", "queued rwlock (arch_rwlock_t)"),
    LockType("struct ld_semaphore", "rwsem", "tty line-discipline semaphore (drivers/tty/tty_ldsem.c)"),
    LockType("struct lockref", "lockref", "spinlock plus reference count updated by cmpxchg"),
    LockType("wait_queue_head_t", "waitqueue", "wait queue head; its .lock spinlock guards the list"),
    LockType("struct wait_queue_head", "waitqueue", "struct tag of wait_queue_head_t"),
    LockType("struct lockdep_map", "lockdep_map", "lockdep-only pseudo lock (work items, workqueues, "
             "fs_reclaim, sb_writers)"),
]

#: Kinds whose objects are lockdep pseudo-locks rather than real locks.
PSEUDO_KINDS = {"lockdep_map"}


def _p(names: str, kind: str, op: str, mode: str, variant: str | None = None, subclass: bool = False,
       arg: int = 0, form: str = "pointer") -> list[Primitive]:
    return [Primitive(n, kind, op, mode, variant, subclass, op == "try", arg, form) for n in names.split()]


# ---------------------------------------------------------------------------------------------------
# Primitives (acquire / try / release), including the _raw_* / do_raw_* layers they expand to
# ---------------------------------------------------------------------------------------------------

PRIMITIVES: list[Primitive] = [
    # spinlock_t (include/linux/spinlock.h)
    *_p("spin_lock", "spinlock", "acquire", "exclusive"),
    *_p("spin_lock_bh", "spinlock", "acquire", "exclusive", "bh"),
    *_p("spin_lock_irq", "spinlock", "acquire", "exclusive", "irq"),
    *_p("spin_lock_irqsave", "spinlock", "acquire", "exclusive", "irqsave"),
    *_p("spin_lock_nested spin_lock_nest_lock", "spinlock", "acquire", "exclusive", "nested", True),
    *_p("spin_lock_irqsave_nested", "spinlock", "acquire", "exclusive", "irqsave", True),
    *_p("spin_trylock", "spinlock", "try", "exclusive"),
    *_p("spin_trylock_bh", "spinlock", "try", "exclusive", "bh"),
    *_p("spin_trylock_irq", "spinlock", "try", "exclusive", "irq"),
    *_p("spin_trylock_irqsave", "spinlock", "try", "exclusive", "irqsave"),
    *_p("spin_unlock", "spinlock", "release", "exclusive"),
    *_p("spin_unlock_bh", "spinlock", "release", "exclusive", "bh"),
    *_p("spin_unlock_irq", "spinlock", "release", "exclusive", "irq"),
    *_p("spin_unlock_irqrestore", "spinlock", "release", "exclusive", "irqsave"),
    *_p("atomic_dec_and_lock _atomic_dec_and_lock refcount_dec_and_lock", "spinlock", "try", "exclusive",
        arg=1),
    *_p("kref_put_lock", "spinlock", "acquire", "exclusive", "internal", arg=2),   # as kref_put_mutex
    *_p("atomic_dec_and_lock_irqsave _atomic_dec_and_lock_irqsave refcount_dec_and_lock_irqsave",
        "spinlock", "try", "exclusive", "irqsave", arg=1),
    # raw_spinlock_t
    *_p("raw_spin_lock _raw_spin_lock do_raw_spin_lock", "raw_spinlock", "acquire", "exclusive"),
    *_p("raw_spin_lock_bh _raw_spin_lock_bh", "raw_spinlock", "acquire", "exclusive", "bh"),
    *_p("raw_spin_lock_irq _raw_spin_lock_irq", "raw_spinlock", "acquire", "exclusive", "irq"),
    *_p("raw_spin_lock_irqsave _raw_spin_lock_irqsave", "raw_spinlock", "acquire", "exclusive", "irqsave"),
    *_p("raw_spin_lock_nested raw_spin_lock_nest_lock _raw_spin_lock_nested _raw_spin_lock_nest_lock",
        "raw_spinlock", "acquire", "exclusive", "nested", True),
    *_p("raw_spin_lock_irqsave_nested _raw_spin_lock_irqsave_nested", "raw_spinlock", "acquire",
        "exclusive", "irqsave", True),
    *_p("raw_spin_trylock _raw_spin_trylock do_raw_spin_trylock", "raw_spinlock", "try", "exclusive"),
    *_p("raw_spin_trylock_bh _raw_spin_trylock_bh", "raw_spinlock", "try", "exclusive", "bh"),
    *_p("raw_spin_trylock_irq", "raw_spinlock", "try", "exclusive", "irq"),
    *_p("raw_spin_trylock_irqsave", "raw_spinlock", "try", "exclusive", "irqsave"),
    *_p("raw_spin_unlock _raw_spin_unlock do_raw_spin_unlock", "raw_spinlock", "release", "exclusive"),
    *_p("raw_spin_unlock_bh _raw_spin_unlock_bh", "raw_spinlock", "release", "exclusive", "bh"),
    *_p("raw_spin_unlock_irq _raw_spin_unlock_irq", "raw_spinlock", "release", "exclusive", "irq"),
    *_p("raw_spin_unlock_irqrestore _raw_spin_unlock_irqrestore", "raw_spinlock", "release", "exclusive",
        "irqsave"),
    # rwlock_t (include/linux/rwlock.h)
    *_p("read_lock _raw_read_lock", "rwlock", "acquire", "read"),
    *_p("read_lock_bh _raw_read_lock_bh", "rwlock", "acquire", "read", "bh"),
    *_p("read_lock_irq _raw_read_lock_irq", "rwlock", "acquire", "read", "irq"),
    *_p("read_lock_irqsave _raw_read_lock_irqsave", "rwlock", "acquire", "read", "irqsave"),
    *_p("read_trylock _raw_read_trylock", "rwlock", "try", "read"),
    *_p("read_unlock _raw_read_unlock", "rwlock", "release", "read"),
    *_p("read_unlock_bh _raw_read_unlock_bh", "rwlock", "release", "read", "bh"),
    *_p("read_unlock_irq _raw_read_unlock_irq", "rwlock", "release", "read", "irq"),
    *_p("read_unlock_irqrestore _raw_read_unlock_irqrestore", "rwlock", "release", "read", "irqsave"),
    *_p("write_lock _raw_write_lock", "rwlock", "acquire", "write"),
    *_p("write_lock_nested _raw_write_lock_nested", "rwlock", "acquire", "write", "nested", True),
    *_p("write_lock_bh _raw_write_lock_bh", "rwlock", "acquire", "write", "bh"),
    *_p("write_lock_irq _raw_write_lock_irq", "rwlock", "acquire", "write", "irq"),
    *_p("write_lock_irqsave _raw_write_lock_irqsave", "rwlock", "acquire", "write", "irqsave"),
    *_p("write_trylock _raw_write_trylock", "rwlock", "try", "write"),
    *_p("write_trylock_irqsave", "rwlock", "try", "write", "irqsave"),
    *_p("write_unlock _raw_write_unlock", "rwlock", "release", "write"),
    *_p("write_unlock_bh _raw_write_unlock_bh", "rwlock", "release", "write", "bh"),
    *_p("write_unlock_irq _raw_write_unlock_irq", "rwlock", "release", "write", "irq"),
    *_p("write_unlock_irqrestore _raw_write_unlock_irqrestore", "rwlock", "release", "write", "irqsave"),
    # struct mutex (include/linux/mutex.h)
    *_p("mutex_lock mutex_lock_io", "mutex", "acquire", "exclusive"),
    *_p("mutex_lock_nested mutex_lock_io_nested mutex_lock_nest_lock _mutex_lock_nest_lock", "mutex",
        "acquire", "exclusive", "nested", True),
    *_p("mutex_lock_interruptible", "mutex", "acquire", "exclusive", "interruptible"),
    *_p("mutex_lock_interruptible_nested", "mutex", "acquire", "exclusive", "interruptible", True),
    *_p("mutex_lock_killable", "mutex", "acquire", "exclusive", "killable"),
    *_p("mutex_lock_killable_nested", "mutex", "acquire", "exclusive", "killable", True),
    *_p("mutex_trylock", "mutex", "try", "exclusive"),
    *_p("mutex_unlock", "mutex", "release", "exclusive"),
    *_p("atomic_dec_and_mutex_lock refcount_dec_and_mutex_lock", "mutex", "try", "exclusive", arg=1),
    # include/linux/kref.h: kref_put_mutex/kref_put_lock take the lock when the count drops to 0 and call
    # the release callback, which must drop it: taken and dropped inside, as far as the caller sees
    *_p("kref_put_mutex", "mutex", "acquire", "exclusive", "internal", arg=2),
    # struct rw_semaphore (include/linux/rwsem.h)
    *_p("down_read down_read_non_owner", "rwsem", "acquire", "read"),
    *_p("down_read_nested", "rwsem", "acquire", "read", "nested", True),
    *_p("down_read_interruptible", "rwsem", "acquire", "read", "interruptible"),
    *_p("down_read_killable", "rwsem", "acquire", "read", "killable"),
    *_p("down_read_killable_nested", "rwsem", "acquire", "read", "killable", True),
    *_p("down_read_trylock", "rwsem", "try", "read"),
    *_p("up_read up_read_non_owner", "rwsem", "release", "read"),
    *_p("down_write", "rwsem", "acquire", "write"),
    *_p("down_write_nested _down_write_nest_lock down_write_nest_lock", "rwsem", "acquire", "write",
        "nested", True),
    *_p("down_write_killable", "rwsem", "acquire", "write", "killable"),
    *_p("down_write_killable_nested", "rwsem", "acquire", "write", "killable", True),
    *_p("down_write_trylock", "rwsem", "try", "write"),
    *_p("up_write", "rwsem", "release", "write"),
    *_p("downgrade_write", "rwsem", "acquire", "read", "downgrade"),
    # struct semaphore (include/linux/semaphore.h)
    *_p("down", "semaphore", "acquire", "exclusive"),
    *_p("down_interruptible", "semaphore", "acquire", "exclusive", "interruptible"),
    *_p("down_killable", "semaphore", "acquire", "exclusive", "killable"),
    # 0 when they got the semaphore (kernel/locking/semaphore.c), unlike every other trylock
    *_p("down_trylock down_timeout", "semaphore", "try", "exclusive", "zero_when_held"),
    *_p("up", "semaphore", "release", "exclusive"),
    # seqlock_t (include/linux/seqlock.h)
    *_p("write_seqlock", "seqlock", "acquire", "write"),
    *_p("write_seqlock_bh", "seqlock", "acquire", "write", "bh"),
    *_p("write_seqlock_irq", "seqlock", "acquire", "write", "irq"),
    *_p("write_seqlock_irqsave", "seqlock", "acquire", "write", "irqsave"),
    *_p("write_sequnlock", "seqlock", "release", "write"),
    *_p("write_sequnlock_bh", "seqlock", "release", "write", "bh"),
    *_p("write_sequnlock_irq", "seqlock", "release", "write", "irq"),
    *_p("write_sequnlock_irqrestore", "seqlock", "release", "write", "irqsave"),
    *_p("read_seqlock_excl", "seqlock", "acquire", "exclusive"),
    *_p("read_seqlock_excl_bh", "seqlock", "acquire", "exclusive", "bh"),
    *_p("read_seqlock_excl_irq", "seqlock", "acquire", "exclusive", "irq"),
    *_p("read_seqlock_excl_irqsave", "seqlock", "acquire", "exclusive", "irqsave"),
    *_p("read_sequnlock_excl", "seqlock", "release", "exclusive"),
    *_p("read_sequnlock_excl_bh", "seqlock", "release", "exclusive", "bh"),
    *_p("read_sequnlock_excl_irq", "seqlock", "release", "exclusive", "irq"),
    *_p("read_sequnlock_excl_irqrestore", "seqlock", "release", "exclusive", "irqsave"),
    *_p("read_seqbegin_or_lock", "seqlock", "acquire", "read", "optimistic"),
    *_p("read_seqbegin_or_lock_irqsave", "seqlock", "acquire", "read", "irqsave"),
    *_p("read_seqbegin", "seqlock", "acquire", "read", "optimistic"),
    *_p("read_seqretry", "seqlock", "release", "read", "optimistic"),
    # done_seqretry drops the lock only when read_seqbegin_or_lock took it (seq odd, seqlock.h): the pair
    # leaves nothing held either way, and a function that ends one is no release wrapper (d_walk)
    *_p("done_seqretry", "seqlock", "release", "read", "optimistic"),
    *_p("done_seqretry_irqrestore", "seqlock", "release", "read", "irqsave"),
    # seqcount_t and the seqcount_LOCKNAME_t family
    *_p("read_seqcount_begin raw_read_seqcount_begin raw_read_seqcount raw_seqcount_begin "
        "read_seqcount_latch raw_read_seqcount_latch", "seqcount", "acquire", "read", "optimistic"),
    *_p("read_seqcount_retry __read_seqcount_retry read_seqcount_latch_retry", "seqcount", "release",
        "read", "optimistic"),
    *_p("write_seqcount_begin raw_write_seqcount_begin", "seqcount", "acquire", "write"),
    *_p("write_seqcount_begin_nested", "seqcount", "acquire", "write", "nested", True),
    *_p("write_seqcount_end raw_write_seqcount_end", "seqcount", "release", "write"),
    *_p("write_seqcount_latch_begin raw_write_seqcount_latch", "seqcount", "acquire", "write", "latch"),
    # struct percpu_rw_semaphore (include/linux/percpu-rwsem.h)
    *_p("percpu_down_read", "percpu_rwsem", "acquire", "read"),
    *_p("percpu_down_read_trylock", "percpu_rwsem", "try", "read"),
    *_p("percpu_up_read", "percpu_rwsem", "release", "read"),
    *_p("percpu_down_write", "percpu_rwsem", "acquire", "write"),
    *_p("percpu_up_write", "percpu_rwsem", "release", "write"),
    # ... and what lockdep is told of it apart from the semaphore itself (a hand-off: kiocb_start_write
    # takes sb_writers for a write that a completion ends, and tells lockdep it dropped it; the completion
    # tells lockdep it took it again before sb_end_write): the semaphore's own lockdep map, so that each
    # pairs with the semaphore's take or drop. Mode by their `read` argument (MODE_ARGS)
    *_p("percpu_rwsem_acquire", "percpu_rwsem", "acquire", "write"),
    *_p("percpu_rwsem_release", "percpu_rwsem", "release", "write"),
    # struct rt_mutex (include/linux/rtmutex.h)
    *_p("rt_mutex_lock", "rt_mutex", "acquire", "exclusive"),
    *_p("rt_mutex_lock_nested", "rt_mutex", "acquire", "exclusive", "nested", True),
    *_p("rt_mutex_lock_interruptible", "rt_mutex", "acquire", "exclusive", "interruptible"),
    *_p("rt_mutex_lock_killable", "rt_mutex", "acquire", "exclusive", "killable"),
    *_p("rt_mutex_trylock", "rt_mutex", "try", "exclusive"),
    *_p("rt_mutex_unlock", "rt_mutex", "release", "exclusive"),
    # struct ww_mutex (include/linux/ww_mutex.h)
    *_p("ww_mutex_lock ww_mutex_lock_slow", "ww_mutex", "acquire", "exclusive"),
    *_p("ww_mutex_lock_interruptible ww_mutex_lock_slow_interruptible", "ww_mutex", "acquire",
        "exclusive", "interruptible"),
    *_p("ww_mutex_trylock", "ww_mutex", "try", "exclusive"),
    *_p("ww_mutex_unlock", "ww_mutex", "release", "exclusive"),
    # local_lock_t (include/linux/local_lock.h)
    *_p("local_lock", "local_lock", "acquire", "exclusive"),
    *_p("local_lock_irq", "local_lock", "acquire", "exclusive", "irq"),
    *_p("local_lock_irqsave", "local_lock", "acquire", "exclusive", "irqsave"),
    *_p("local_unlock", "local_lock", "release", "exclusive"),
    *_p("local_unlock_irq", "local_lock", "release", "exclusive", "irq"),
    *_p("local_unlock_irqrestore", "local_lock", "release", "exclusive", "irqsave"),
    # arch_spinlock_t / arch_rwlock_t
    *_p("arch_spin_lock", "arch_spinlock", "acquire", "exclusive"),
    *_p("arch_spin_trylock", "arch_spinlock", "try", "exclusive"),
    *_p("arch_spin_unlock", "arch_spinlock", "release", "exclusive"),
    *_p("arch_read_lock", "arch_spinlock", "acquire", "read"),
    *_p("arch_read_trylock", "arch_spinlock", "try", "read"),
    *_p("arch_read_unlock", "arch_spinlock", "release", "read"),
    *_p("arch_write_lock", "arch_spinlock", "acquire", "write"),
    *_p("arch_write_trylock", "arch_spinlock", "try", "write"),
    *_p("arch_write_unlock", "arch_spinlock", "release", "write"),
    # struct lockref (include/linux/lockref.h): the one call that may return with its spinlock held; it
    # returns 0 when it took it (lib/lockref.c), and the lock is the member the callers unlock
    *_p("lockref_put_or_lock", "spinlock", "try", "exclusive", "zero_when_held", form="member:lock"),
    # wait_queue_head_t: these take and drop wq_head->lock inside (variant internal)
    *_p("__wake_up __wake_up_sync_key __wake_up_locked_key wake_up wake_up_all wake_up_nr "
        "wake_up_interruptible wake_up_interruptible_all wake_up_interruptible_nr wake_up_interruptible_sync "
        "wake_up_poll wake_up_interruptible_poll wake_up_interruptible_sync_poll wake_up_pollfree "
        "add_wait_queue add_wait_queue_exclusive add_wait_queue_priority remove_wait_queue "
        "prepare_to_wait prepare_to_wait_exclusive prepare_to_wait_event finish_wait",
        "waitqueue", "acquire", "exclusive", "internal"),
    # bit spinlocks (include/linux/bit_spinlock.h, list_bl.h): the lock is a bit of a word
    *_p("bit_spin_lock", "bit_spinlock", "acquire", "exclusive", arg=1),
    *_p("bit_spin_trylock", "bit_spinlock", "try", "exclusive", arg=1),
    *_p("bit_spin_unlock __bit_spin_unlock", "bit_spinlock", "release", "exclusive", arg=1),
    *_p("hlist_bl_lock", "bit_spinlock", "acquire", "exclusive"),
    *_p("hlist_bl_unlock __hlist_bl_unlock", "bit_spinlock", "release", "exclusive"),
    # lockdep annotations on a struct lockdep_map (include/linux/lockdep.h:548-585)
    *_p("lock_map_acquire lock_acquire lock_acquire_exclusive spin_acquire spin_acquire_nest "
        "rwlock_acquire seqcount_acquire mutex_acquire mutex_acquire_nest rwsem_acquire rwsem_acquire_nest",
        "lockdep_map", "acquire", "exclusive"),
    *_p("lock_map_acquire_read lock_acquire_shared lock_acquire_shared_recursive rwlock_acquire_read "
        "seqcount_acquire_read rwsem_acquire_read", "lockdep_map", "acquire", "read"),
    *_p("lock_map_acquire_try", "lockdep_map", "try", "exclusive"),
    *_p("lock_map_acquire_tryread", "lockdep_map", "try", "read"),
    *_p("lock_map_release lock_release spin_release rwlock_release seqcount_release mutex_release "
        "rwsem_release", "lockdep_map", "release", "exclusive"),
    # RCU's own (include/linux/rcupdate.h:348-356): a recursive read of the map and its release, behind
    # rcu_read_lock/unlock and their _bh/_sched forms (lock_release alone does not say the mode)
    *_p("rcu_lock_acquire", "lockdep_map", "acquire", "read"),
    *_p("rcu_lock_release", "lockdep_map", "release", "read"),
]


# ---------------------------------------------------------------------------------------------------
# Initializers and lockdep class naming (shared/notes/lockdep-names.md)
# ---------------------------------------------------------------------------------------------------

def _i(names: str, kind: str, lock_arg: int = 0, name_from: str = "stringify", name_arg: int | None = 0,
       key_arg: int | None = None, member: str | None = None) -> list[Initializer]:
    return [Initializer(n, kind, lock_arg, name_from, name_arg, key_arg, member) for n in names.split()]


INITIALIZERS: list[Initializer] = [
    *_i("spin_lock_init", "spinlock"),
    *_i("raw_spin_lock_init", "raw_spinlock"),
    *_i("rwlock_init", "rwlock"),
    *_i("mutex_init", "mutex"),
    *_i("__mutex_init", "mutex", name_from="literal", name_arg=1, key_arg=2),
    *_i("init_rwsem", "rwsem"),
    *_i("__init_rwsem", "rwsem", name_from="literal", name_arg=1, key_arg=2),
    *_i("__raw_spin_lock_init", "raw_spinlock", name_from="literal", name_arg=1, key_arg=2),
    *_i("__rwlock_init", "rwlock", name_from="literal", name_arg=1, key_arg=2),
    *_i("sema_init", "semaphore", name_from="literal", name_arg=None),
    *_i("seqcount_init seqcount_latch_init", "seqcount"),
    *_i("__seqcount_init", "seqcount", name_from="literal", name_arg=1, key_arg=2),
    *_i("seqcount_raw_spinlock_init seqcount_spinlock_init seqcount_rwlock_init seqcount_mutex_init "
        "seqcount_ww_mutex_init", "seqcount"),
    *_i("percpu_init_rwsem", "percpu_rwsem"),
    *_i("__percpu_init_rwsem", "percpu_rwsem", name_from="literal", name_arg=1, key_arg=2),
    *_i("rt_mutex_init", "rt_mutex"),
    *_i("__rt_mutex_init", "rt_mutex", name_from="literal", name_arg=1, key_arg=2),
    # ww_mutex_init(lock, &cls): DEFINE_WW_CLASS(cls) sets .mutex_name = #cls "_mutex" (ww_mutex.h)
    *_i("ww_mutex_init", "ww_mutex", name_from="ww_class", name_arg=1, key_arg=1),
    *_i("local_lock_init", "local_lock"),
    *_i("init_waitqueue_head", "waitqueue"),
    *_i("__init_waitqueue_head", "waitqueue", name_from="literal", name_arg=1, key_arg=2),
    # kernel/sched/swait.c: raw_spin_lock_init(&q->lock); lockdep_set_class_and_name(&q->lock, key, name)
    # with name #q from init_swait_queue_head(q) (swait.h:72); init_completion(x) passes &x->wait
    *_i("__init_swait_queue_head", "raw_spinlock", name_from="literal", name_arg=1, key_arg=2, member="lock"),
    *_i("lockdep_set_class", "lockdep_map", name_arg=1, key_arg=1),
    *_i("lockdep_set_class_and_subclass", "lockdep_map", name_arg=1, key_arg=1),
    *_i("lockdep_set_class_and_name", "lockdep_map", name_from="literal", name_arg=2, key_arg=1),
    *_i("lockdep_init_map lockdep_init_map_wait lockdep_init_map_waits lockdep_init_map_type",
        "lockdep_map", name_from="literal", name_arg=1, key_arg=2),
    # timers, srcu and tty ldsem name their lockdep map from the stringified argument of their macro
    # (timer.h __init_timer: #_timer; srcu.h init_srcu_struct: #ssp; tty_ldisc.h init_ldsem: #sem)
    *_i("init_timer_key", "lockdep_map", name_from="literal", name_arg=3, key_arg=4),
    *_i("__init_srcu_struct", "lockdep_map", name_from="literal", name_arg=1, key_arg=2),
    *_i("__init_ldsem", "rwsem", name_from="literal", name_arg=1, key_arg=2),
]

#: Static initializer macros: the class name is #arg0 (spinlock_types.h:40, mutex.h:113, rwsem.h:92...).
STATIC_INITIALIZERS: dict[str, str] = {
    "__SPIN_LOCK_UNLOCKED": "spinlock", "__SPIN_LOCK_INITIALIZER": "spinlock",
    "___SPIN_LOCK_INITIALIZER": "spinlock", "__RAW_SPIN_LOCK_UNLOCKED": "raw_spinlock",
    "__RAW_SPIN_LOCK_INITIALIZER": "raw_spinlock", "__RW_LOCK_UNLOCKED": "rwlock",
    "__MUTEX_INITIALIZER": "mutex", "__RWSEM_INITIALIZER": "rwsem", "__SEMAPHORE_INITIALIZER": "semaphore",
    "__SEQLOCK_UNLOCKED": "seqlock", "SEQCNT_ZERO": "seqcount", "SEQCNT_RAW_SPINLOCK_ZERO": "seqcount",
    "SEQCNT_SPINLOCK_ZERO": "seqcount", "SEQCNT_RWLOCK_ZERO": "seqcount", "SEQCNT_MUTEX_ZERO": "seqcount",
    "SEQCNT_WW_MUTEX_ZERO": "seqcount", "SEQCNT_LATCH_ZERO": "seqcount",
    "__WAIT_QUEUE_HEAD_INITIALIZER": "waitqueue", "__RT_MUTEX_INITIALIZER": "rt_mutex",
    "__WW_MUTEX_INITIALIZER": "ww_mutex", "__PERCPU_RWSEM_INITIALIZER": "percpu_rwsem",
    "INIT_LOCAL_LOCK": "local_lock", "__LOCAL_SPIN_LOCK_UNLOCKED": "spinlock",
}

STATIC_DEFINERS: list[StaticDefiner] = [
    StaticDefiner("DEFINE_SPINLOCK", "spinlock_t", 0),
    StaticDefiner("DEFINE_RAW_SPINLOCK", "raw_spinlock_t", 0),
    StaticDefiner("DEFINE_RWLOCK", "rwlock_t", 0),
    StaticDefiner("DEFINE_MUTEX", "struct mutex", 0),
    StaticDefiner("DECLARE_RWSEM", "struct rw_semaphore", 0),
    StaticDefiner("DEFINE_SEMAPHORE", "struct semaphore", 0, own_class=False),   # semaphore.h:21-29
    StaticDefiner("DEFINE_SEQLOCK", "seqlock_t", 0),
    StaticDefiner("DEFINE_RT_MUTEX", "struct rt_mutex", 0),
    StaticDefiner("DEFINE_WW_MUTEX", "struct ww_mutex", 0),
    StaticDefiner("DECLARE_WAIT_QUEUE_HEAD", "wait_queue_head_t", 0, own_class=False),   # wait.h .lock
    StaticDefiner("DEFINE_STATIC_PERCPU_RWSEM", "struct percpu_rw_semaphore", 0),
    StaticDefiner("DEFINE_PERCPU_RWSEM", "struct percpu_rw_semaphore", 0),
]

# ---------------------------------------------------------------------------------------------------
# Typing helpers: macros whose result type is a type argument, or the type of an argument
# ---------------------------------------------------------------------------------------------------

#: name -> index of the argument that is a type name; the result is a pointer to it.
TYPE_ARG_MACROS: dict[str, int] = {
    "container_of": 1, "container_of_safe": 1, "container_of_const": 1, "list_entry": 1,
    "list_first_entry": 1, "list_last_entry": 1, "list_first_entry_or_null": 1, "list_last_entry_or_null": 1,
    "list_entry_rcu": 1, "list_first_or_null_rcu": 1, "list_next_or_null_rcu": 2, "hlist_entry": 1,
    "hlist_entry_safe": 1, "hlist_nulls_entry": 1, "hlist_nulls_entry_safe": 1, "hlist_bl_entry": 1,
    "rb_entry": 1, "rb_entry_safe": 1, "llist_entry": 1, "list_tail_entry": 1,
}

#: name -> index of the argument whose type the macro returns (pointer passthroughs).
PASSTHROUGH_MACROS: dict[str, int] = {
    "READ_ONCE": 0, "rcu_dereference": 0, "rcu_dereference_raw": 0, "rcu_dereference_protected": 0,
    "rcu_dereference_check": 0, "rcu_dereference_bh": 0, "rcu_dereference_sched": 0,
    "rcu_dereference_bh_check": 0, "rcu_dereference_sched_check": 0, "rcu_dereference_raw_check": 0,
    "rcu_access_pointer": 0, "srcu_dereference": 0, "srcu_dereference_check": 0, "smp_load_acquire": 0,
    "xchg": 0, "cmpxchg": 0, "rcu_replace_pointer": 0, "list_next_entry": 0, "list_prev_entry": 0,
    "hlist_entry_safe_": 0, "lockless_dereference": 0, "data_race": 0, "unrcu_pointer": 0,
    "RCU_INITIALIZER": 0, "list_next_entry_circular": 0, "list_prev_entry_circular": 0,
}

#: per-CPU accessors: name -> index of the argument naming the per-CPU variable (pointer result).
PERCPU_ACCESSORS: dict[str, tuple[int, str]] = {
    "this_cpu_ptr": (0, "pointer"), "raw_cpu_ptr": (0, "pointer"), "per_cpu_ptr": (0, "pointer"),
    "get_cpu_ptr": (0, "pointer"), "per_cpu": (0, "lvalue"), "__this_cpu_ptr": (0, "pointer"),
    "get_cpu_var": (0, "lvalue"), "this_cpu_read": (0, "lvalue"), "__get_cpu_var": (0, "lvalue"),
    "per_cpu_ptr_to_phys": (0, "pointer"),
}

#: Wrappers that the fixed point cannot derive (the lock is a lockdep map plus an owner flag, or the
#: body is generated): name -> (op, mode, lock_kind, struct, field_path, param_index).
KNOWN_WRAPPERS: dict[str, tuple[str, str, str, str, str, int]] = {
    "lock_sock": ("acquire", "exclusive", "spinlock", "struct sock", "sk_lock", 0),
    "lock_sock_nested": ("acquire", "exclusive", "spinlock", "struct sock", "sk_lock", 0),
    "lock_sock_fast": ("acquire", "exclusive", "spinlock", "struct sock", "sk_lock", 0),
    "release_sock": ("release", "exclusive", "spinlock", "struct sock", "sk_lock", 0),
    "unlock_sock_fast": ("release", "exclusive", "spinlock", "struct sock", "sk_lock", 0),
}

#: Functions that take or drop locks with static storage in a way the fixed point cannot read from their
#: body: name -> ((op, mode, lock_kind, symbol), ...); an empty entry is a function that leaves nothing
#: taken or dropped for its caller, whatever its body seems to say.
#: - console_unlock (kernel/printk/printk.c:2878) drops console_sem and its lockdep map through
#:   __console_unlock, except on the path where console_flush_all has handed both to the CPU that is
#:   printing: for its caller they are gone either way (read as "held on some returns", it made 781
#:   false acquire wrappers of them).
#: - folio_memcg_lock (mm/memcontrol.c:2091, 43 lines: too long to be read as a wrapper) takes the RCU
#:   read lock on every return, and memcg->move_lock on some (not followed): folio_memcg_unlock's
#:   rcu_read_unlock made 1,981 false release sites without it. folio_memcg_unlock (mm/memcontrol.c:2162)
#:   drops the RCU read lock, and memcg->move_lock when this task holds it (move_lock_task == current):
#:   the pair's move_lock is the one folio_memcg_lock took on some returns, so the caller sees the RCU
#:   read lock only (read from its body, it made 728 release sites of mem_cgroup.move_lock that nothing
#:   had acquired: mark_buffer_dirty, ext2_error, ...).
#: - shrink_dcache_parent (fs/dcache.c) drops the RCU read lock that d_walk's select_collect2 callback
#:   took on the way: balanced, but the callback is not followed (2,412 false release sites in 1,611
#:   functions up to ufshcd_remove).
#: - dput (fs/dcache.c) drops the dentry's d_lock that fast_dput took (fast_dput, 70 lines, returns false
#:   with it held): nothing for its caller (an empty entry holds for member locks too).
#: - btrfs_release_path (fs/btrfs/ctree.c:101) drops the extent_buffer locks that btrfs_search_slot (360
#:   lines, not followed) left in the path, as path->locks[] says: for its callers, and btrfs_free_path's,
#:   the pair takes and drops them (read from its body, 569 release sites of extent_buffer.lock that
#:   nothing had acquired).
#: - hid_hw_stop (drivers/hid/hid-core.c:2396, as backported to this 6.1) takes hdev->driver_input_lock
#:   through hid_device_io_stop only `if (hdev->io_started)`: hid_device_remove takes the semaphore and
#:   clears io_started before it calls the driver's remove (lines 2756-2762), where nearly every call is,
#:   and hid_device_probe drops it again after a failed probe that had started I/O (2745-2746). Read from
#:   its body, every driver's remove function was an acquire wrapper of it (75 rows).
#: - gnet_stats_copy and gnet_stats_copy_app (net/core/gen_stats.c:23-41, 425-449) drop the gnet_dump's
#:   lock (taken by gnet_stats_start_copy, dropped by gnet_stats_finish_copy) only when the copy fails,
#:   and return -1 then: for a caller that goes on, nothing. Read from their bodies, every qdisc's
#:   dump_stats and the other gnet_stats_copy_* were release wrappers of gnet_dump.lock (28 rows).
KNOWN_GLOBAL_WRAPPERS: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "console_unlock": (("release", "exclusive", "semaphore", "console_sem"),
                       ("release", "exclusive", "lockdep_map", "console_lock_dep_map")),
    "folio_memcg_lock": (("acquire", "exclusive", "lockdep_map", "rcu_lock_map"),),
    "folio_memcg_unlock": (("release", "exclusive", "lockdep_map", "rcu_lock_map"),),
    "shrink_dcache_parent": (),
    "dput": (),
    "btrfs_release_path": (),
    "hid_hw_stop": (),
    "gnet_stats_copy": (),
    "gnet_stats_copy_app": (),
}


#: Functions whose effect on their caller the fixed point cannot read from their body, on locks that are
#: members of what an argument points to: name -> ((op, mode, lock_kind, member path, argument index), ...);
#: the lock is `&(argument)->member path`, resolved in the caller's scope (and in the function's own, for
#: its lock_wrappers rows).
#: - drm_modeset_lock_all(dev) (drivers/gpu/drm/drm_modeset_lock.c:142-195) takes dev->mode_config.mutex,
#:   then connection_mutex and every crtc and plane lock with an acquire context it allocates and keeps in
#:   dev->mode_config.acquire_ctx; drm_modeset_unlock_all(dev) (lines 197-223) drops them all through that
#:   context (drm_modeset_drop_locks), finishes it and drops the mutex. Read from the bodies, the context
#:   is a local in one and a member in the other: every caller that pairs them (legacy_remove_fb,
#:   tegra_fbdev_exit, ...) read as taking connection_mutex and dropping the context's lockdep map.
MEMBER_WRAPPERS: dict[str, tuple[tuple[str, str, str, str, int], ...]] = {
    "drm_modeset_lock_all": (("acquire", "exclusive", "mutex", "mode_config.mutex", 0),
                             ("acquire", "exclusive", "ww_mutex", "mode_config.connection_mutex.mutex", 0)),
    "drm_modeset_unlock_all": (("release", "exclusive", "ww_mutex", "mode_config.connection_mutex.mutex", 0),
                               ("release", "exclusive", "mutex", "mode_config.mutex", 0)),
}


#: Scope-based lock guards (include/linux/cleanup.h, backported to 6.1.y): a guard class is defined in the
#: tree by one of these macros, whose argument lists hold the class name (index 0) and the lock statement
#: (index given here) written in terms of `_T`. How `_T` relates to the lock argument a user passes:
#: - DEFINE_GUARD(mutex, struct mutex *, mutex_lock(_T), mutex_unlock(_T)): `_T` is the argument;
#: - DEFINE_LOCK_GUARD_1(spinlock_irqsave, spinlock_t, spin_lock_irqsave(_T->lock, _T->flags), ...):
#:   `_T->lock` is the argument, `_T->flags` a member of the guard (read as a plain name);
#: - DEFINE_LOCK_GUARD_0(rcu, rcu_read_lock(), rcu_read_unlock()): no argument.
#: name -> (index of the lock statement, what the argument stands for: "_T", "_T->lock" or None).
GUARD_DEFINERS: dict[str, tuple[int, str | None]] = {
    "DEFINE_GUARD": (2, "_T"),
    "DEFINE_LOCK_GUARD_1": (2, "_T->lock"),
    "DEFINE_LOCK_GUARD_0": (1, None),
}

#: How code takes a guard: guard(mutex)(&x->lock) -- the class in the call's arguments, the lock in the
#: arguments of the call it returns -- and scoped_guard(mutex, &x->lock) { ... }, the class first and the
#: lock after it. The lock is dropped at the end of the scope (no call: lock_sites records the acquire).
#: name -> index of the first lock argument in the call's own arguments (None: in the outer call's).
GUARD_USERS: dict[str, int | None] = {"guard": None, "scoped_guard": 1}

#: Primitives whose mode is an argument: {name: (argument index, {argument text: mode})}. lock_acquire(map,
#: subclass, trylock, read, check, nest_lock, ip) (include/linux/lockdep.h): read 1 is a read, 2 a
#: recursive read; rcu_lock_acquire (include/linux/rcupdate.h), behind rcu_read_lock, srcu_read_lock and
#: rcu_read_lock_bh/sched, passes 2. Other texts keep the catalogue's mode.
MODE_ARGS: dict[str, tuple[int, dict[str, str]]] = {
    "lock_acquire": (3, {"1": "read", "2": "read"}),
    "percpu_rwsem_acquire": (1, {"1": "read", "true": "read"}),
    "percpu_rwsem_release": (1, {"1": "read", "true": "read"}),
}

#: Assertions that do not return when their condition holds (include/asm-generic/bug.h; CONFIG_BUG is set
#: in every configuration LIMA reads; VM_BUG_ON is not here: without CONFIG_DEBUG_VM it does not evaluate
#: its condition). A try that is their whole condition holds nothing on the path that goes on:
#: `BUG_ON(mmap_read_trylock(vma->vm_mm))` (mm/memory.c, vm_insert_page) asserts that the caller holds
#: mmap_lock; negated, it holds the lock: `BUG_ON(!down_write_trylock(&b->lock))` (drivers/md/bcache).
NORETURN_ASSERTS: frozenset[str] = frozenset({"BUG_ON"})

#: Functions that drop every lock taken with the acquire context they are given: a function that takes
#: ww_mutex locks with a context and calls one of these holds none of them at its return
#: (drivers/gpu/drm/drm_modeset_lock.c, i915/i915_gem_ww.c, drm_gem.c, ttm/ttm_execbuf_util.c). The
#: macros around them count too: DRM_MODESET_LOCK_ALL_END, for_i915_gem_ww (__i915_gem_ww_fini). Not the
#: backoffs (drm_modeset_backoff, i915_gem_ww_ctx_backoff): they drop the locks to take them again, as
#: drm_modeset_lock_all does before it returns holding them.
CONTEXT_RELEASES: frozenset[str] = frozenset({
    "drm_modeset_drop_locks", "i915_gem_ww_ctx_fini", "__i915_gem_ww_fini", "drm_gem_unlock_reservations",
    "ttm_eu_backoff_reservation",
})
#: The acquire contexts themselves: their lockdep map is taken and dropped with the context.
CONTEXT_TYPES: frozenset[str] = frozenset({"ww_acquire_ctx", "drm_modeset_acquire_ctx", "i915_gem_ww_ctx"})

def lock_type_map() -> dict[str, LockType]:
    """type_name -> LockType."""
    return {t.type_name: t for t in LOCK_TYPES}


def primitive_map() -> dict[str, Primitive]:
    """name -> Primitive (names are unique across kinds)."""
    out: dict[str, Primitive] = {}
    for p in PRIMITIVES:
        if p.name in out:
            raise ValueError(f"primitive {p.name} listed twice")
        out[p.name] = p
    return out


def initializer_map() -> dict[str, Initializer]:
    """name -> Initializer."""
    return {i.name: i for i in INITIALIZERS}

#: Workqueue constructors: the workqueue's lockdep map is named "(wq_completion)" + the name argument
#: (kernel/workqueue.c:3494 via alloc_workqueue's lockdep key); name -> index of the name argument.
WORKQUEUE_CREATORS: dict[str, int] = {
    "alloc_workqueue": 0, "alloc_ordered_workqueue": 0, "create_workqueue": 0,
    "create_freezable_workqueue": 0, "create_singlethread_workqueue": 0,
}

#: Lock debugging, left unknown when the kernel configuration (lock_config.py) does not set it: lockdep's
#: class names and keys (lock_inits) exist only in a kernel built with them (`spin_lock_init` names a
#: class under CONFIG_DEBUG_SPINLOCK and only assigns an unlocked value without), and /proc/lock_stat,
#: which lima-import reads, needs CONFIG_LOCK_STAT.
CONFIG_LOCK_DEBUG: frozenset[str] = frozenset("""
    DEBUG_ATOMIC_SLEEP DEBUG_LOCKDEP DEBUG_LOCK_ALLOC DEBUG_MUTEXES DEBUG_RT_MUTEXES DEBUG_RWSEMS
    DEBUG_SPINLOCK DEBUG_WW_MUTEX_SLOWPATH LOCKDEP LOCK_STAT PROVE_LOCKING PROVE_RAW_LOCK_NESTING PROVE_RCU
    TRACE_IRQFLAGS
""".split())
