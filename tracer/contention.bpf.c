/* contention.bpf.c: lock waits from the lock:contention_begin / lock:contention_end tracepoints
 * (Linux >= 5.19, no special config), and, when WITH_MMAP_LOCK is defined (lima-trace --mmap-lock),
 * every mmap_lock acquisition from the mmap_lock:mmap_lock_acquire_returned tracepoint.
 *
 * A wait is timed from contention_begin to contention_end of the same (thread, lock); the key is
 * (thread, lock address) so that a wait nested in another (the rwsem's wait_lock spinning inside the
 * rwsem slowpath) is timed on its own.  The stack is taken at contention_begin.
 *
 * mmap_lock acquisitions are counted at acquire_returned alone: it fires for every lock, trylock and
 * downgrade (v6.18 include/linux/mmap_lock.h), with the lock held, so whatever the program does there
 * lengthens the critical section.  mmap_lock_start_locking is not hooked: its only use would be to
 * time the acquisition, and a contended acquisition's wait is already a contention_begin/end pair
 * (rwsem.c), counted once with its stack.  The kernel stack, the costly part (bench/tracer_overhead.sh),
 * is taken for one acquisition in MMAP_LOCK_STACKS, picked at random (a fixed period could beat in
 * step with a workload's loop and always pick the same call site); those rows carry LF_SAMPLED, every
 * other acquisition is counted in the row of the same (lock, thread, cgroup, mode) with no stack, so
 * the counts summed over both are exact.
 *
 * Parameters (-D): the common ones (lima_trace.h) and, with WITH_MMAP_LOCK, MMAP_LOCK_OFFSET (offset of
 * mmap_lock in struct mm_struct, from the running kernel's BTF; -1 when unknown: lock_addr is then 0)
 * and MMAP_LOCK_STACKS (0: no stacks; 1: every acquisition; N: one in N at random).
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

TRACEPOINT_PROBE(lock, contention_begin)
{
    struct lock_key key = {};
    if (!lima_task(&key))
        return 0;
    key.stack_id = lima_stack(args);
    key.flags = args->flags & 0xff;
    key.event = EV_CONTENDED;
    struct pend_key pk = {.lock_addr = (u64)args->lock_addr, .pid = key.pid};
    struct pend_val pv = {.ts_ns = bpf_ktime_get_ns(), .key = key};
    if (pending.update(&pk, &pv) != 0)
        stat_add(STAT_LOST_PENDING);
    return 0;
}

TRACEPOINT_PROBE(lock, contention_end)
{
    struct pend_key pk = {.lock_addr = (u64)args->lock_addr, .pid = (u32)bpf_get_current_pid_tgid()};
    struct pend_val *pv = pending.lookup(&pk);
    if (!pv)
        return 0;
    struct lock_key key = pv->key;   /* the begin passed the filters and filled the task fields */
    key.lock_addr = pk.lock_addr;
    if (args->ret)
        key.flags |= LF_FAILED;
    u64 wait_ns = bpf_ktime_get_ns() - pv->ts_ns;
    pending.delete(&pk);
    lima_count(&key, wait_ns);
    return 0;
}

#ifdef WITH_MMAP_LOCK
TRACEPOINT_PROBE(mmap_lock, mmap_lock_acquire_returned)
{
    struct lock_key key = {};
    if (!lima_task(&key))
        return 0;
    key.lock_addr = MMAP_LOCK_OFFSET < 0 ? 0 : (u64)args->mm + MMAP_LOCK_OFFSET;
    key.flags = LF_MMAP_LOCK | (args->success ? 0 : LF_FAILED) | (args->write ? LF_WRITE : LF_READ);
    key.event = EV_ACQUIRE;
    key.stack_id = -1;
#if MMAP_LOCK_STACKS == 1
    key.stack_id = lima_stack(args);
#elif MMAP_LOCK_STACKS > 1
    if (bpf_get_prandom_u32() % MMAP_LOCK_STACKS == 0) {
        key.stack_id = lima_stack(args);
        if (key.stack_id >= 0)
            key.flags |= LF_SAMPLED;
    }
#endif
    lima_count(&key, 0);
    return 0;
}
#endif
