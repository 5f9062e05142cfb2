/* lima_trace.h: what the BPF programs of lima-trace share with each other and with tracer/events.py.
 *
 * Every backend (contention.bpf.c, lockdep.bpf.c, primitives.bpf.c) counts lock events in one hash map
 * `counts` keyed by struct lock_key, keeps kernel stacks in `stacks`, optionally streams struct
 * lock_event records through the ring buffer `events`, and counts what it could not record in the
 * array `stats` (indices STAT_*). tracer/events.py mirrors the constants below; a test checks they agree.
 *
 * Compile-time parameters, passed as -D by tracer/cli.py:
 *   MAX_KEYS, MAX_STACKS, MAX_PENDING, MAX_TGIDS  map sizes (bounded; overflow is counted, never silent)
 *   FILTER_PID     trace only the tgids in `traced_tgids` (seeded from user space, grown on fork)
 *   FILTER_CGROUP  trace only tasks whose cgroup v2 ancestor at CGROUP_LEVEL is CGROUP_ID
 *   FILTER_COMM    trace only tasks whose comm is COMM_0..COMM_15 (bytes; NUL padded)
 *   WITH_EVENTS    also send each event to the ring buffer `events` (EVENTS_PAGES pages), at most
 *                  EVENTS_MAX of them
 */
#ifndef LIMA_TRACE_H
#define LIMA_TRACE_H

/* What was counted (lock_key.event) */
#define EV_ACQUIRE   1   /* an acquisition (lockdep lock_acquire, primitive call, mmap_lock acquire_returned) */
#define EV_CONTENDED 2   /* a wait: contention_begin..contention_end, lockdep lock_contended */
#define EV_RELEASE   3   /* a release (lockdep lock_release) */

/* lock_key.flags: the contention tracepoint flags (include/trace/events/lock.h, v6.1 lines 12-17) in
 * the low byte, then what other backends know. */
#define LF_SPIN      (1U << 0)
#define LF_READ      (1U << 1)
#define LF_WRITE     (1U << 2)
#define LF_RT        (1U << 3)
#define LF_PERCPU    (1U << 4)
#define LF_MUTEX     (1U << 5)
#define LF_MMAP_LOCK (1U << 8)   /* from the mmap_lock:* tracepoints: the lock is mm->mmap_lock */
#define LF_TRYLOCK   (1U << 9)   /* a trylock (lockdep trylock argument, *_trylock primitive) */
#define LF_FAILED    (1U << 10)  /* contention_end ret != 0, or mmap_lock acquire_returned !success */
#define LF_NOSTART   (1U << 11)  /* no longer set (runs before --mmap-lock sampling: mmap_lock taken with no
                                  * start_locking); kept so that recorded captures still decode */
#define LF_SAMPLED   (1U << 12)  /* mmap_lock acquisition whose stack was sampled (one in MMAP_LOCK_STACKS):
                                  * the other acquisitions of the same lock and thread are in a row with no
                                  * stack */

/* Indices of the `stats` array */
#define STAT_SEEN          0   /* events that passed the filters */
#define STAT_LOST_KEYS     1   /* events dropped because `counts` was full */
#define STAT_LOST_STACKS   2   /* events counted without a stack (stack walk failed or `stacks` full) */
#define STAT_LOST_PENDING  3   /* waits not timed because `pending` was full */
#define STAT_LOST_RINGBUF  4   /* --events records dropped because the ring buffer was full */
#define STAT_LOST_TGIDS    5   /* forked children not followed because `traced_tgids` was full */
#define STAT_EVENTS_CAPPED 6   /* --events records not sent because EVENTS_MAX were sent already */
#define STAT_MAX           7

#define COMM_LEN 16

struct lock_key {
    u64 lock_addr;     /* lock address (lockdep: the lockdep_map address) */
    u64 cgroup_id;     /* cgroup v2 id of the task */
    u64 name_ptr;      /* lockdep: lockdep_map->name (a kernel string, read by user space); else 0 */
    s32 stack_id;      /* `stacks` id, < 0 when the walk failed */
    u32 pid;           /* thread id */
    u32 tgid;          /* process id */
    u32 flags;         /* LF_* */
    u16 event;         /* EV_* */
    u16 subclass;      /* lockdep subclass, or primitive index (primitives backend) */
    char comm[COMM_LEN];
};

struct lock_val {
    u64 count;
    u64 wait_ns_total;
    u64 wait_ns_max;
};

struct lock_event {
    struct lock_key key;
    u64 ts_ns;         /* bpf_ktime_get_ns() at the end of the event */
    u64 wait_ns;
    u32 cpu;
    u32 pad;
};

#endif
