/* contention.bpf.c: lock waits from the lock:contention_begin / lock:contention_end tracepoints
 * (Linux >= 5.19, no special config), and every mmap_lock acquisition from the mmap_lock:* tracepoints
 * when WITH_MMAP_LOCK is defined (tracer/cli.py defines it when those tracepoints exist).
 *
 * A wait is timed from contention_begin to contention_end of the same (thread, lock); the key is
 * (thread, lock address) so that a wait nested in another (the rwsem's wait_lock spinning inside the
 * rwsem slowpath) is timed on its own.  The stack is taken at contention_begin.
 *
 * Parameters (-D): the common ones (lima_trace.h) and, with WITH_MMAP_LOCK, MMAP_LOCK_OFFSET (offset of
 * mmap_lock in struct mm_struct, from the running kernel's BTF; -1 when unknown: lock_addr is then 0).
 */

struct pend_key {
    u64 lock_addr;
    u32 pid;
    u32 pad;
};

struct pend_val {
    u64 ts_ns;
    struct lock_key key;   /* filled at the begin, so the end (often with the lock held) does less */
};

BPF_HASH(pending, struct pend_key, struct pend_val, MAX_PENDING);

static __always_inline void wait_begin(void *ctx, u64 lock_addr, u32 flags)
{
    struct lock_key key = {};
    if (!lima_task(&key))
        return;
    key.stack_id = lima_stack(ctx);
    key.flags = flags;
    struct pend_key pk = {.lock_addr = lock_addr, .pid = key.pid};
    struct pend_val pv = {.ts_ns = bpf_ktime_get_ns(), .key = key};
    if (pending.update(&pk, &pv) != 0)
        stat_add(STAT_LOST_PENDING);
}

/* End of a wait: count it with its wait time.  Returns 0 when no begin was seen for it. */
static __always_inline int wait_end(u64 lock_addr, u16 event, u32 extra_flags, u64 counted_addr)
{
    struct pend_key pk = {.lock_addr = lock_addr, .pid = (u32)bpf_get_current_pid_tgid()};
    struct pend_val *pv = pending.lookup(&pk);
    if (!pv)
        return 0;
    struct lock_key key = pv->key;   /* the begin passed the filters and filled the task fields */
    key.lock_addr = counted_addr;
    key.flags |= extra_flags;
    key.event = event;
    u64 wait_ns = bpf_ktime_get_ns() - pv->ts_ns;
    pending.delete(&pk);
    lima_count(&key, wait_ns);
    return 1;
}

TRACEPOINT_PROBE(lock, contention_begin)
{
    wait_begin(args, (u64)args->lock_addr, args->flags & 0xff);
    return 0;
}

TRACEPOINT_PROBE(lock, contention_end)
{
    u64 lock_addr = (u64)args->lock_addr;
    wait_end(lock_addr, EV_CONTENDED, args->ret ? LF_FAILED : 0, lock_addr);
    return 0;
}

#ifdef WITH_MMAP_LOCK
static __always_inline u64 mmap_lock_addr(u64 mm)
{
    return MMAP_LOCK_OFFSET < 0 ? 0 : mm + MMAP_LOCK_OFFSET;
}

/* mmap_lock_start_locking: an acquisition starts (mmap_read_lock, mmap_write_lock, ...).
 * The pending key uses the mm_struct address itself so that it never meets a contention_begin key. */
TRACEPOINT_PROBE(mmap_lock, mmap_lock_start_locking)
{
    wait_begin(args, (u64)args->mm, LF_MMAP_LOCK | (args->write ? LF_WRITE : LF_READ));
    return 0;
}

/* mmap_lock_acquire_returned: the acquisition is done; with no start_locking before it, it is a
 * trylock (mmap_read_trylock) or a write->read downgrade (mmap_write_downgrade), v6.18 mmap_lock.h. */
TRACEPOINT_PROBE(mmap_lock, mmap_lock_acquire_returned)
{
    u64 mm = (u64)args->mm;
    u32 failed = args->success ? 0 : LF_FAILED;
    if (wait_end(mm, EV_ACQUIRE, failed, mmap_lock_addr(mm)))
        return 0;
    struct lock_key key = {};
    if (!lima_task(&key))
        return 0;
    key.lock_addr = mmap_lock_addr(mm);
    key.stack_id = lima_stack(args);
    key.flags = LF_MMAP_LOCK | LF_NOSTART | failed | (args->write ? LF_WRITE : LF_READ);
    key.event = EV_ACQUIRE;
    lima_count(&key, 0);
    return 0;
}
#endif
