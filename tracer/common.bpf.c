/* common.bpf.c: maps, filters and the counting step shared by every backend.
 * tracer/cli.py compiles this text followed by one backend file (contention.bpf.c, lockdep.bpf.c,
 * primitives.bpf.c) as a single bcc program. */
#include <uapi/linux/ptrace.h>
#include <linux/sched.h>
#include "lima_trace.h"

BPF_HASH(counts, struct lock_key, struct lock_val, MAX_KEYS);
BPF_STACK_TRACE(stacks, MAX_STACKS);
BPF_PERCPU_ARRAY(stats, u64, STAT_MAX);
BPF_HASH(traced_tgids, u32, u8, MAX_TGIDS);
#ifdef WITH_EVENTS
BPF_RINGBUF_OUTPUT(events, EVENTS_PAGES);
BPF_ARRAY(events_sent, u64, 1);   /* records reserved so far: at most EVENTS_MAX are sent */
#endif

static __always_inline void stat_add(int index)
{
    u64 *v = stats.lookup(&index);
    if (v)
        (*v)++;
}

/* Does the current task pass the filters?  Fills pid, tgid, cgroup id and comm of *key. */
static __always_inline int lima_task(struct lock_key *key)
{
    u64 pid_tgid = bpf_get_current_pid_tgid();
    key->pid = (u32)pid_tgid;
    key->tgid = pid_tgid >> 32;
    key->cgroup_id = bpf_get_current_cgroup_id();
#ifdef FILTER_PID
    u32 tgid = key->tgid;
    if (!traced_tgids.lookup(&tgid))
        return 0;
#endif
#ifdef FILTER_CGROUP
    if (bpf_get_current_ancestor_cgroup_id(CGROUP_LEVEL) != CGROUP_ID)
        return 0;
#endif
    bpf_get_current_comm(&key->comm, sizeof(key->comm));
#ifdef FILTER_COMM
    const char want[COMM_LEN] = {COMM_0, COMM_1, COMM_2, COMM_3, COMM_4, COMM_5, COMM_6, COMM_7,
                                 COMM_8, COMM_9, COMM_10, COMM_11, COMM_12, COMM_13, COMM_14, COMM_15};
#pragma unroll
    for (int i = 0; i < COMM_LEN; i++) {
        if (key->comm[i] != want[i])
            return 0;
        if (want[i] == 0)
            break;
    }
#endif
    return 1;
}

/* The kernel stack of the current event (negative id, counted as a lost stack, when the walk fails). */
static __always_inline s32 lima_stack(void *ctx)
{
    s32 id = stacks.get_stackid(ctx, 0);
    if (id < 0)
        stat_add(STAT_LOST_STACKS);
    return id;
}

/* Count one event of *key that waited wait_ns (0 when not a wait). */
static __always_inline void lima_count(struct lock_key *key, u64 wait_ns)
{
    struct lock_val zero = {};
    struct lock_val *val = counts.lookup_or_try_init(key, &zero);
    if (!val) {
        stat_add(STAT_LOST_KEYS);
        return;
    }
    stat_add(STAT_SEEN);
    __sync_fetch_and_add(&val->count, 1);
    if (wait_ns) {
        __sync_fetch_and_add(&val->wait_ns_total, wait_ns);
        if (wait_ns > val->wait_ns_max)
            val->wait_ns_max = wait_ns;   /* racy max: two CPUs on one key may lose the larger */
    }
#ifdef WITH_EVENTS
    int zero_index = 0;
    u64 *sent = events_sent.lookup(&zero_index);
    if (!sent || __sync_fetch_and_add(sent, 1) >= EVENTS_MAX) {
        stat_add(STAT_EVENTS_CAPPED);
        return;
    }
    struct lock_event *ev = events.ringbuf_reserve(sizeof(struct lock_event));
    if (!ev) {
        stat_add(STAT_LOST_RINGBUF);
        return;
    }
    __builtin_memcpy(&ev->key, key, sizeof(*key));
    ev->ts_ns = bpf_ktime_get_ns();
    ev->wait_ns = wait_ns;
    ev->cpu = bpf_get_smp_processor_id();
    ev->pad = 0;
    events.ringbuf_submit(ev, 0);
#endif
}

#ifdef FILTER_PID
/* Follow --pid / a traced command into the processes it forks. */
TRACEPOINT_PROBE(sched, sched_process_fork)
{
    u32 parent = bpf_get_current_pid_tgid() >> 32;
    if (!traced_tgids.lookup(&parent))
        return 0;
    u32 child = args->child_pid;
    u8 one = 1;
    if (traced_tgids.update(&child, &one) != 0)
        stat_add(STAT_LOST_TGIDS);
    return 0;
}

/* A followed process is gone when its group leader exits: free its slot (and never follow a later
 * process that reuses the pid). */
TRACEPOINT_PROBE(sched, sched_process_exit)
{
    u64 pid_tgid = bpf_get_current_pid_tgid();
    u32 tgid = pid_tgid >> 32;
    if ((u32)pid_tgid == tgid)
        traced_tgids.delete(&tgid);
    return 0;
}
#endif
