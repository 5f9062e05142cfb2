/* primitives.bpf.c: calls of the lock primitives themselves (_raw_spin_lock*, mutex_lock*, down_read*,
 * ...) on kernels without lockdep, from fentry (bcc kfunc) programs: lock address, primitive, stack.
 * It counts attempts (a trylock is counted whether or not it succeeds) and no wait time.
 *
 * tracer/cli.py appends one PRIMITIVE_PROBE(function, index) line per primitive of the catalogue
 * tracer/vocabulary.py (PRIMITIVES) that the running kernel has (by BTF, never by version: under lockdep mutex_lock
 * is mutex_lock_nested).  `index` goes into lock_key.subclass; user space maps it back to the
 * primitive's name, lock type and mode.  The lock is the first argument of every primitive listed.
 */

static __always_inline int count_primitive(void *ctx, void *lock, u16 index, u32 flags)
{
    struct lock_key key = {};
    if (!lima_task(&key))
        return 0;
    key.lock_addr = (u64)lock;
    key.subclass = index;
    key.flags = flags;
    key.event = EV_ACQUIRE;
    key.stack_id = lima_stack(ctx);
    lima_count(&key, 0);
    return 0;
}

#define PRIMITIVE_PROBE(fn, index, flags) \
    KFUNC_PROBE(fn, void *lock) { return count_primitive(ctx, lock, index, flags); }
