-- name: map_frame_roles
-- kind: view
-- description: Stack frames that belong to the lock implementation (skipped when looking for the acquisition site), with the primitives each entry symbol serves
--
-- Data, not code. role:
--   entry     out-of-line symbol a call site reaches (spin_lock(x) compiles to a call of _raw_spin_lock);
--             primitives = the C-level primitives/wrappers whose call lands here, used to pick the site's
--             lock call among the calls of the site function;
--   slowpath  lock internals below an entry (queued_spin_lock_slowpath, rwsem_down_write_slowpath, ...);
--             code that takes a lock's own wait_lock (rwsem_wake, __mutex_lock) is here too, so a
--             spinlock contended inside mutex/rwsem code maps to the mutex/rwsem object of the caller;
--   tracing   tracepoint/BPF/lockdep plumbing that may appear at the bottom of a stack.
-- Symbols are matched after dropping compiler suffixes (__mutex_lock.constprop.0 -> __mutex_lock).
-- Every name of the lock_primitives catalogue (lock pass) is an entry too, serving itself; so is a traced
-- out-of-line helper of another kernel version named after a primitive the index's sites call (below).
WITH seed(symbol, role, lock_kind, primitives) AS (VALUES
    -- spinlock (kernel/locking/spinlock.c, qspinlock.c, paravirt)
    ('_raw_spin_lock', 'entry', 'spinlock', ['spin_lock', 'raw_spin_lock', 'spin_lock_nested', 'raw_spin_lock_nested', 'spin_lock_nest_lock', 'raw_spin_lock_nest_lock']),
    ('_raw_spin_lock_irq', 'entry', 'spinlock', ['spin_lock_irq', 'raw_spin_lock_irq']),
    ('_raw_spin_lock_irqsave', 'entry', 'spinlock', ['spin_lock_irqsave', 'raw_spin_lock_irqsave', 'spin_lock_irqsave_nested', 'raw_spin_lock_irqsave_nested']),
    ('_raw_spin_lock_bh', 'entry', 'spinlock', ['spin_lock_bh', 'raw_spin_lock_bh']),
    ('_raw_spin_trylock', 'entry', 'spinlock', ['spin_trylock', 'raw_spin_trylock', 'spin_trylock_irq', 'raw_spin_trylock_irq', 'spin_trylock_irqsave', 'raw_spin_trylock_irqsave']),
    ('_raw_spin_trylock_bh', 'entry', 'spinlock', ['spin_trylock_bh', 'raw_spin_trylock_bh']),
    ('_raw_spin_lock_nested', 'entry', 'spinlock', ['spin_lock_nested', 'raw_spin_lock_nested']),
    ('_raw_spin_lock_irqsave_nested', 'entry', 'spinlock', ['spin_lock_irqsave_nested', 'raw_spin_lock_irqsave_nested']),
    ('_raw_spin_lock_nest_lock', 'entry', 'spinlock', ['spin_lock_nest_lock', 'raw_spin_lock_nest_lock']),
    ('_raw_spin_unlock', 'entry', 'spinlock', ['spin_unlock', 'raw_spin_unlock']),
    ('_raw_spin_unlock_irq', 'entry', 'spinlock', ['spin_unlock_irq', 'raw_spin_unlock_irq']),
    ('_raw_spin_unlock_irqrestore', 'entry', 'spinlock', ['spin_unlock_irqrestore', 'raw_spin_unlock_irqrestore']),
    ('_raw_spin_unlock_bh', 'entry', 'spinlock', ['spin_unlock_bh', 'raw_spin_unlock_bh']),
    ('queued_spin_lock_slowpath', 'slowpath', 'spinlock', []),
    ('native_queued_spin_lock_slowpath', 'slowpath', 'spinlock', []),
    ('__pv_queued_spin_lock_slowpath', 'slowpath', 'spinlock', []),
    ('pv_queued_spin_lock_slowpath', 'slowpath', 'spinlock', []),
    ('__pv_queued_spin_unlock', 'slowpath', 'spinlock', []),
    ('__pv_queued_spin_unlock_slowpath', 'slowpath', 'spinlock', []),
    ('__raw_callee_save___pv_queued_spin_unlock', 'slowpath', 'spinlock', []),
    ('__raw_callee_save___pv_queued_spin_unlock_slowpath', 'slowpath', 'spinlock', []),
    ('do_raw_spin_lock', 'slowpath', 'spinlock', []),
    ('do_raw_spin_trylock', 'slowpath', 'spinlock', []),
    ('do_raw_spin_unlock', 'slowpath', 'spinlock', []),
    -- rwlock (qrwlock.c)
    ('_raw_read_lock', 'entry', 'rwlock', ['read_lock']),
    ('_raw_read_lock_irq', 'entry', 'rwlock', ['read_lock_irq']),
    ('_raw_read_lock_irqsave', 'entry', 'rwlock', ['read_lock_irqsave']),
    ('_raw_read_lock_bh', 'entry', 'rwlock', ['read_lock_bh']),
    ('_raw_write_lock', 'entry', 'rwlock', ['write_lock']),
    ('_raw_write_lock_irq', 'entry', 'rwlock', ['write_lock_irq']),
    ('_raw_write_lock_irqsave', 'entry', 'rwlock', ['write_lock_irqsave']),
    ('_raw_write_lock_bh', 'entry', 'rwlock', ['write_lock_bh']),
    ('_raw_write_lock_nested', 'entry', 'rwlock', ['write_lock_nested']),
    ('_raw_read_trylock', 'entry', 'rwlock', ['read_trylock']),
    ('_raw_write_trylock', 'entry', 'rwlock', ['write_trylock']),
    ('_raw_read_unlock', 'entry', 'rwlock', ['read_unlock']),
    ('_raw_read_unlock_irqrestore', 'entry', 'rwlock', ['read_unlock_irqrestore']),
    ('_raw_read_unlock_bh', 'entry', 'rwlock', ['read_unlock_bh']),
    ('_raw_write_unlock', 'entry', 'rwlock', ['write_unlock']),
    ('_raw_write_unlock_irqrestore', 'entry', 'rwlock', ['write_unlock_irqrestore']),
    ('_raw_write_unlock_bh', 'entry', 'rwlock', ['write_unlock_bh']),
    ('queued_read_lock_slowpath', 'slowpath', 'rwlock', []),
    ('queued_write_lock_slowpath', 'slowpath', 'rwlock', []),
    ('do_raw_read_lock', 'slowpath', 'rwlock', []),
    ('do_raw_write_lock', 'slowpath', 'rwlock', []),
    -- mutex (kernel/locking/mutex.c); mutex_lock_nested is mutex_lock without lockdep
    ('mutex_lock', 'entry', 'mutex', ['mutex_lock', 'mutex_lock_nested', 'mutex_lock_nest_lock']),
    ('mutex_lock_interruptible', 'entry', 'mutex', ['mutex_lock_interruptible', 'mutex_lock_interruptible_nested']),
    ('mutex_lock_killable', 'entry', 'mutex', ['mutex_lock_killable', 'mutex_lock_killable_nested']),
    ('mutex_lock_io', 'entry', 'mutex', ['mutex_lock_io', 'mutex_lock_io_nested']),
    ('mutex_trylock', 'entry', 'mutex', ['mutex_trylock']),
    ('mutex_unlock', 'entry', 'mutex', ['mutex_unlock']),
    ('mutex_lock_nested', 'entry', 'mutex', ['mutex_lock_nested', 'mutex_lock']),
    ('mutex_lock_interruptible_nested', 'entry', 'mutex', ['mutex_lock_interruptible_nested', 'mutex_lock_interruptible']),
    ('mutex_lock_killable_nested', 'entry', 'mutex', ['mutex_lock_killable_nested', 'mutex_lock_killable']),
    ('mutex_lock_io_nested', 'entry', 'mutex', ['mutex_lock_io_nested', 'mutex_lock_io']),
    ('_mutex_lock_nest_lock', 'entry', 'mutex', ['mutex_lock_nest_lock']),
    ('atomic_dec_and_mutex_lock', 'entry', 'mutex', ['atomic_dec_and_mutex_lock']),
    ('ww_mutex_lock', 'entry', 'ww_mutex', ['ww_mutex_lock']),
    ('ww_mutex_lock_interruptible', 'entry', 'ww_mutex', ['ww_mutex_lock_interruptible']),
    ('ww_mutex_unlock', 'entry', 'ww_mutex', ['ww_mutex_unlock']),
    ('__mutex_lock', 'slowpath', 'mutex', []),
    ('__mutex_lock_common', 'slowpath', 'mutex', []),
    ('__mutex_lock_slowpath', 'slowpath', 'mutex', []),
    ('__mutex_lock_killable_slowpath', 'slowpath', 'mutex', []),
    ('__mutex_lock_interruptible_slowpath', 'slowpath', 'mutex', []),
    ('__mutex_unlock_slowpath', 'slowpath', 'mutex', []),
    ('__ww_mutex_lock', 'slowpath', 'ww_mutex', []),
    ('__ww_mutex_lock_slowpath', 'slowpath', 'ww_mutex', []),
    ('__ww_mutex_lock_interruptible_slowpath', 'slowpath', 'ww_mutex', []),
    ('mutex_spin_on_owner', 'slowpath', 'mutex', []),
    ('mutex_optimistic_spin', 'slowpath', 'mutex', []),
    -- rwsem (kernel/locking/rwsem.c)
    ('down_read', 'entry', 'rwsem', ['down_read', 'down_read_nested']),
    ('down_read_interruptible', 'entry', 'rwsem', ['down_read_interruptible']),
    ('down_read_killable', 'entry', 'rwsem', ['down_read_killable', 'down_read_killable_nested']),
    ('down_read_trylock', 'entry', 'rwsem', ['down_read_trylock']),
    ('down_read_nested', 'entry', 'rwsem', ['down_read_nested', 'down_read']),
    ('down_read_killable_nested', 'entry', 'rwsem', ['down_read_killable_nested']),
    ('down_read_non_owner', 'entry', 'rwsem', ['down_read_non_owner']),
    ('down_write', 'entry', 'rwsem', ['down_write', 'down_write_nested']),
    ('down_write_killable', 'entry', 'rwsem', ['down_write_killable', 'down_write_killable_nested']),
    ('down_write_trylock', 'entry', 'rwsem', ['down_write_trylock']),
    ('down_write_nested', 'entry', 'rwsem', ['down_write_nested', 'down_write']),
    ('down_write_killable_nested', 'entry', 'rwsem', ['down_write_killable_nested', 'down_write_killable']),
    ('_down_write_nest_lock', 'entry', 'rwsem', ['down_write_nest_lock']),
    ('up_read', 'entry', 'rwsem', ['up_read']),
    ('up_write', 'entry', 'rwsem', ['up_write']),
    ('up_read_non_owner', 'entry', 'rwsem', ['up_read_non_owner']),
    ('downgrade_write', 'entry', 'rwsem', ['downgrade_write']),
    ('rwsem_down_read_slowpath', 'slowpath', 'rwsem', []),
    ('rwsem_down_write_slowpath', 'slowpath', 'rwsem', []),
    ('__down_read_common', 'slowpath', 'rwsem', []),
    ('__down_write_common', 'slowpath', 'rwsem', []),
    ('rwsem_optimistic_spin', 'slowpath', 'rwsem', []),
    ('rwsem_spin_on_owner', 'slowpath', 'rwsem', []),
    ('rwsem_wake', 'slowpath', 'rwsem', []),
    ('rwsem_mark_wake', 'slowpath', 'rwsem', []),
    ('rwsem_downgrade_wake', 'slowpath', 'rwsem', []),
    -- semaphore (kernel/locking/semaphore.c)
    ('down', 'entry', 'semaphore', ['down']),
    ('down_interruptible', 'entry', 'semaphore', ['down_interruptible']),
    ('down_killable', 'entry', 'semaphore', ['down_killable']),
    ('down_trylock', 'entry', 'semaphore', ['down_trylock']),
    ('down_timeout', 'entry', 'semaphore', ['down_timeout']),
    ('up', 'entry', 'semaphore', ['up']),
    ('__down', 'slowpath', 'semaphore', []),
    ('__down_interruptible', 'slowpath', 'semaphore', []),
    ('__down_killable', 'slowpath', 'semaphore', []),
    ('__down_timeout', 'slowpath', 'semaphore', []),
    ('__down_common', 'slowpath', 'semaphore', []),
    ('___down_common', 'slowpath', 'semaphore', []),
    ('__up', 'slowpath', 'semaphore', []),
    -- percpu rwsem (percpu_down_read is inline and calls __percpu_down_read)
    ('__percpu_down_read', 'entry', 'percpu_rwsem', ['percpu_down_read', 'percpu_down_read_trylock']),
    ('percpu_down_write', 'entry', 'percpu_rwsem', ['percpu_down_write']),
    ('percpu_up_write', 'entry', 'percpu_rwsem', ['percpu_up_write']),
    ('percpu_rwsem_wait', 'slowpath', 'percpu_rwsem', []),
    ('__percpu_down_write_trylock', 'slowpath', 'percpu_rwsem', []),
    ('percpu_rwsem_wake_function', 'slowpath', 'percpu_rwsem', []),
    -- rt_mutex
    ('rt_mutex_lock', 'entry', 'rt_mutex', ['rt_mutex_lock', 'rt_mutex_lock_nested']),
    ('rt_mutex_lock_interruptible', 'entry', 'rt_mutex', ['rt_mutex_lock_interruptible']),
    ('rt_mutex_trylock', 'entry', 'rt_mutex', ['rt_mutex_trylock']),
    ('rt_mutex_unlock', 'entry', 'rt_mutex', ['rt_mutex_unlock']),
    ('rt_mutex_slowlock', 'slowpath', 'rt_mutex', []),
    ('__rt_mutex_slowlock', 'slowpath', 'rt_mutex', []),
    ('__rt_mutex_slowlock_locked', 'slowpath', 'rt_mutex', []),
    ('rt_mutex_slowlock_block', 'slowpath', 'rt_mutex', []),
    ('rt_mutex_slowunlock', 'slowpath', 'rt_mutex', []),
    -- mmap_lock tracepoints fire in these out-of-line helpers of the inline mmap_*_lock wrappers (mm/mmap_lock.c)
    ('__mmap_lock_do_trace_start_locking', 'entry', 'rwsem', ['mmap_read_lock', 'mmap_read_lock_killable', 'mmap_read_trylock', 'mmap_write_lock', 'mmap_write_lock_killable', 'mmap_write_lock_nested', 'mmap_read_lock_nested']),
    ('__mmap_lock_do_trace_acquire_returned', 'entry', 'rwsem', ['mmap_read_lock', 'mmap_read_lock_killable', 'mmap_read_trylock', 'mmap_write_lock', 'mmap_write_lock_killable', 'mmap_write_lock_nested', 'mmap_read_lock_nested']),
    ('__mmap_lock_do_trace_released', 'entry', 'rwsem', ['mmap_read_unlock', 'mmap_write_unlock', 'mmap_write_downgrade', 'mmap_read_unlock_non_owner']),
    -- tracing and lockdep plumbing
    ('trace_contention_begin', 'tracing', NULL, []),
    ('trace_contention_end', 'tracing', NULL, []),
    ('__traceiter_contention_begin', 'tracing', NULL, []),
    ('__traceiter_contention_end', 'tracing', NULL, []),
    ('__bpf_trace_contention_begin', 'tracing', NULL, []),
    ('perf_trace_contention_begin', 'tracing', NULL, []),
    ('trace_call_bpf', 'tracing', NULL, []),
    ('bpf_trace_run2', 'tracing', NULL, []),
    ('perf_trace_run_bpf_submit', 'tracing', NULL, []),
    ('lock_acquire', 'tracing', NULL, []),
    ('__lock_acquire', 'tracing', NULL, []),
    ('lock_acquired', 'tracing', NULL, []),
    ('lock_contended', 'tracing', NULL, []),
    ('lock_release', 'tracing', NULL, [])
)
SELECT symbol, role, lock_kind, CAST(primitives AS VARCHAR[]) AS primitives FROM seed
UNION ALL
SELECT p.name, 'entry', p.lock_kind, [p.name]
FROM lock_primitives p
WHERE p.name NOT IN (SELECT symbol FROM seed)
UNION ALL
-- Another kernel version's out-of-line helper: a traced frame that no indexed function or macro is named
-- after, whose name without its leading underscores is a primitive or wrapper the index's lock sites call,
-- is that primitive's entry. 6.5 moved the body of 6.1's pte_offset_map_lock macro into the function
-- __pte_offset_map_lock: with a 6.1 index, the caller's pte_offset_map_lock call (do_anonymous_page's,
-- struct page.ptl) is the site of a lock taken in __pte_offset_map_lock. An index that has the function
-- keeps it as an ordinary frame.
SELECT h.symbol, 'entry', any_value(ls.lock_kind), [ltrim(h.symbol, '_')]
FROM (SELECT DISTINCT split_part(symbol, '.', 1) AS symbol FROM stack_frames
      WHERE starts_with(symbol, '_')) h
JOIN lock_sites ls ON ls.primitive = ltrim(h.symbol, '_')
WHERE NOT EXISTS (SELECT 1 FROM seed WHERE seed.symbol = h.symbol)
  AND NOT EXISTS (SELECT 1 FROM lock_primitives p WHERE p.name = h.symbol)
  AND NOT EXISTS (SELECT 1 FROM functions fu WHERE fu.name = h.symbol)
  AND NOT EXISTS (SELECT 1 FROM macros m WHERE m.name = h.symbol)
GROUP BY h.symbol
