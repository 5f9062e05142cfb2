/* lockdep.bpf.c: every acquisition, release and contention of a CONFIG_LOCKDEP kernel, from fentry
 * (bcc kfunc) programs on lock_acquire, lock_release and lock_contended (kernel/locking/lockdep.c,
 * v6.1 lines 5755, 5797, 6041), as the original LIMA set-up did on a v6.1 kernel built with LOCKDEP
 * and BTF.  The lock is named by its lockdep class name, lockdep_map->name, copied once per name
 * pointer into `names`.
 *
 * Parameters (-D): the common ones (lima_trace.h), MAX_NAMES, LOCKDEP_NAME_OFFSET (offset of `name` in
 * struct lockdep_map: from the running kernel's BTF; v6.1 include/linux/lockdep_types.h:185-197 puts it
 * at 24, after key and class_cache[2]), and WITH_LOCK_STAT when lock_acquired exists (CONFIG_LOCK_STAT):
 * the wait of a contention is then timed from lock_contended to lock_acquired.
 */

#define NAME_LEN 64

struct name_val {
    char name[NAME_LEN];
};

BPF_HASH(names, u64, struct name_val, MAX_NAMES);

static __always_inline int lockdep_key(struct lock_key *key, void *lock, u16 event)
{
    if (!lima_task(key))
        return 0;
    u64 name_ptr = 0;
    bpf_probe_read_kernel(&name_ptr, sizeof(name_ptr), (char *)lock + LOCKDEP_NAME_OFFSET);
    key->lock_addr = (u64)lock;
    key->name_ptr = name_ptr;
    key->event = event;
    if (name_ptr && !names.lookup(&name_ptr)) {
        struct name_val nv = {};
        bpf_probe_read_kernel_str(&nv.name, sizeof(nv.name), (void *)name_ptr);
        names.update(&name_ptr, &nv);
    }
    return 1;
}

/* read: 0 exclusive, 1 shared, 2 shared recursive (include/linux/lockdep.h, v6.1 line 266) */
KFUNC_PROBE(lock_acquire, struct lockdep_map *lock, unsigned int subclass, int trylock, int read,
            int check, struct lockdep_map *nest_lock, unsigned long ip)
{
    struct lock_key key = {};
    if (!lockdep_key(&key, lock, EV_ACQUIRE))
        return 0;
    key.subclass = subclass;
    key.flags = (read ? LF_READ : LF_WRITE) | (trylock ? LF_TRYLOCK : 0);
    key.stack_id = lima_stack(ctx);
    lima_count(&key, 0);
    return 0;
}

KFUNC_PROBE(lock_release, struct lockdep_map *lock, unsigned long ip)
{
    struct lock_key key = {};
    if (!lockdep_key(&key, lock, EV_RELEASE))
        return 0;
    key.stack_id = lima_stack(ctx);
    lima_count(&key, 0);
    return 0;
}

#ifndef WITH_LOCK_STAT
KFUNC_PROBE(lock_contended, struct lockdep_map *lock, unsigned long ip)
{
    struct lock_key key = {};
    if (!lockdep_key(&key, lock, EV_CONTENDED))
        return 0;
    key.stack_id = lima_stack(ctx);
    lima_count(&key, 0);
    return 0;
}
#else
struct pend_key {
    u64 lock_addr;
    u32 pid;
    u32 pad;
};

struct pend_val {
    struct lock_key key;
    u64 ts_ns;
};

BPF_HASH(pending, struct pend_key, struct pend_val, MAX_PENDING);

KFUNC_PROBE(lock_contended, struct lockdep_map *lock, unsigned long ip)
{
    struct pend_val pv = {};
    if (!lockdep_key(&pv.key, lock, EV_CONTENDED))
        return 0;
    pv.key.stack_id = lima_stack(ctx);
    pv.ts_ns = bpf_ktime_get_ns();
    struct pend_key pk = {.lock_addr = (u64)lock, .pid = pv.key.pid};
    if (pending.update(&pk, &pv) != 0)
        stat_add(STAT_LOST_PENDING);
    return 0;
}

KFUNC_PROBE(lock_acquired, struct lockdep_map *lock, unsigned long ip)
{
    struct pend_key pk = {.lock_addr = (u64)lock, .pid = (u32)bpf_get_current_pid_tgid()};
    struct pend_val *pv = pending.lookup(&pk);
    if (!pv)
        return 0;
    struct lock_key key = pv->key;
    u64 wait_ns = bpf_ktime_get_ns() - pv->ts_ns;
    pending.delete(&pk);
    lima_count(&key, wait_ns);
    return 0;
}
#endif
