"""What the tracer's numbers mean, as data: the constants of lima_trace.h, the contention flags -> lock
type and mode, the lock primitives the primitives backend attaches to, and the stack frames that mark
interrupt context.
"""

from __future__ import annotations

__all__ = [
    "EVENTS", "FLAGS", "STATS", "CONTENTION_KINDS", "PRIMITIVES", "IRQ_FRAMES",
    "lock_type_mode", "flag_names", "frame_context", "RUN_MODES",
]

# trace_runs.mode: how the workload was traced (from its start, or once warm); the runtime label is free text
RUN_MODES = ("coldstart", "warmup")

# lock_key.event (lima_trace.h EV_*)
EVENTS = {1: "acquire", 2: "contended", 3: "release"}

# lock_key.flags bits (lima_trace.h LF_*)
FLAGS = {
    "SPIN": 1 << 0, "READ": 1 << 1, "WRITE": 1 << 2, "RT": 1 << 3, "PERCPU": 1 << 4, "MUTEX": 1 << 5,
    "MMAP_LOCK": 1 << 8, "TRYLOCK": 1 << 9, "FAILED": 1 << 10, "NOSTART": 1 << 11, "SAMPLED": 1 << 12,
}

# stats array indices (lima_trace.h STAT_*), in order
STATS = ["seen", "lost_keys", "lost_stacks", "lost_pending", "lost_ringbuf", "lost_tgids",
         "events_capped"]

# contention_begin flags (low byte) -> (lock type, mode).  Who passes which flags, v6.1:
# qspinlock.c:405 SPIN; qrwlock.c:38,70 SPIN|READ, SPIN|WRITE; rwsem.c:1077,1157 READ, WRITE;
# mutex.c:649 MUTEX (sleeping wait), mutex.c:605 MUTEX|SPIN (optimistic spinning on the owner);
# semaphore.c:249 0; percpu-rwsem.c:175,228 PERCPU|READ, PERCPU|WRITE; rtmutex.c:1687 RT;
# rwbase_rt.c:115,254 RT|READ, RT|WRITE.  First match wins.
CONTENTION_KINDS: list[tuple[int, str, str]] = [
    # (exact low-byte flags, lock type (lock_types.lock_kind), mode)
    (0x01, "spinlock", "exclusive"),
    (0x03, "rwlock", "read"),
    (0x05, "rwlock", "write"),
    (0x02, "rwsem", "read"),
    (0x04, "rwsem", "write"),
    (0x20, "mutex", "exclusive"),
    (0x21, "mutex", "exclusive"),      # optimistic spin on the owner
    (0x00, "semaphore", "exclusive"),
    (0x12, "percpu_rwsem", "read"),
    (0x14, "percpu_rwsem", "write"),
    (0x08, "rt_mutex", "exclusive"),
    (0x0A, "rwsem", "read"),           # PREEMPT_RT rwbase (rwsem or rwlock on RT)
    (0x0C, "rwsem", "write"),
    (0x28, "mutex", "exclusive"),      # PREEMPT_RT mutex over rt_mutex
]

# Primitives the primitives backend attaches fentry programs to: (function, lock type, mode, trylock).
# Only those present in the running kernel's BTF are attached (under lockdep the _nested variants
# are the out-of-line ones).
PRIMITIVES: list[tuple[str, str, str, bool]] = [
    ("_raw_spin_lock", "spinlock", "exclusive", False),
    ("_raw_spin_lock_bh", "spinlock", "exclusive", False),
    ("_raw_spin_lock_irq", "spinlock", "exclusive", False),
    ("_raw_spin_lock_irqsave", "spinlock", "exclusive", False),
    ("_raw_spin_lock_nested", "spinlock", "exclusive", False),
    ("_raw_spin_lock_irqsave_nested", "spinlock", "exclusive", False),
    ("_raw_spin_trylock", "spinlock", "exclusive", True),
    ("_raw_spin_trylock_bh", "spinlock", "exclusive", True),
    ("_raw_read_lock", "rwlock", "read", False),
    ("_raw_read_lock_bh", "rwlock", "read", False),
    ("_raw_read_lock_irq", "rwlock", "read", False),
    ("_raw_read_lock_irqsave", "rwlock", "read", False),
    ("_raw_read_trylock", "rwlock", "read", True),
    ("_raw_write_lock", "rwlock", "write", False),
    ("_raw_write_lock_bh", "rwlock", "write", False),
    ("_raw_write_lock_irq", "rwlock", "write", False),
    ("_raw_write_lock_irqsave", "rwlock", "write", False),
    ("_raw_write_lock_nested", "rwlock", "write", False),
    ("_raw_write_trylock", "rwlock", "write", True),
    ("mutex_lock", "mutex", "exclusive", False),
    ("mutex_lock_interruptible", "mutex", "exclusive", False),
    ("mutex_lock_killable", "mutex", "exclusive", False),
    ("mutex_lock_io", "mutex", "exclusive", False),
    ("mutex_lock_nested", "mutex", "exclusive", False),
    ("mutex_lock_interruptible_nested", "mutex", "exclusive", False),
    ("mutex_lock_killable_nested", "mutex", "exclusive", False),
    ("mutex_trylock", "mutex", "exclusive", True),
    ("down_read", "rwsem", "read", False),
    ("down_read_interruptible", "rwsem", "read", False),
    ("down_read_killable", "rwsem", "read", False),
    ("down_read_nested", "rwsem", "read", False),
    ("down_read_trylock", "rwsem", "read", True),
    ("down_write", "rwsem", "write", False),
    ("down_write_killable", "rwsem", "write", False),
    ("down_write_nested", "rwsem", "write", False),
    ("down_write_trylock", "rwsem", "write", True),
    ("down", "semaphore", "exclusive", False),
    ("down_interruptible", "semaphore", "exclusive", False),
    ("down_killable", "semaphore", "exclusive", False),
    ("down_trylock", "semaphore", "exclusive", True),
    ("percpu_down_write", "percpu_rwsem", "write", False),
    ("__percpu_down_read", "percpu_rwsem", "read", False),
    ("rt_mutex_lock", "rt_mutex", "exclusive", False),
    ("rt_mutex_trylock", "rt_mutex", "exclusive", True),
]

# Stack frames that mean "this ran in interrupt context, on behalf of no task in particular".
# The innermost marker found decides.  x86-64 entry code names (arch/x86/entry, kernel/softirq.c);
# ksoftirqd's run_ksoftirqd -> handle_softirqs counts as softirq too.
IRQ_FRAMES: list[tuple[str, str]] = [
    # (symbol or prefix ending in '*', context)
    ("handle_softirqs", "softirq"),
    ("__do_softirq", "softirq"),
    ("do_softirq*", "softirq"),
    ("exc_nmi", "nmi"),
    ("asm_exc_nmi", "nmi"),
    ("default_do_nmi", "nmi"),
    ("__sysvec_*", "hardirq"),
    ("sysvec_*", "hardirq"),
    ("asm_sysvec_*", "hardirq"),
    ("common_interrupt", "hardirq"),
    ("asm_common_interrupt", "hardirq"),
    ("handle_irq_event", "hardirq"),
    ("__handle_irq_event_percpu", "hardirq"),
]


def lock_type_mode(flags: int) -> tuple[str | None, str | None]:
    """Lock type and mode from lock_key.flags of a contention or mmap_lock event."""
    if flags & FLAGS["MMAP_LOCK"]:
        return "rwsem", "write" if flags & FLAGS["WRITE"] else "read"
    low = flags & 0xFF
    for value, kind, mode in CONTENTION_KINDS:
        if low == value:
            return kind, mode
    return None, None


def flag_names(flags: int) -> list[str]:
    """Names of the set flag bits."""
    return [name for name, bit in FLAGS.items() if flags & bit]


def frame_context(symbols: list[str]) -> str | None:
    """'hardirq' | 'softirq' | 'nmi' when a stack (innermost first) runs in interrupt context, else None."""
    for sym in symbols:
        for pattern, context in IRQ_FRAMES:
            if pattern.endswith("*"):
                if sym.startswith(pattern[:-1]):
                    return context
            elif sym == pattern:
                return context
    return None
