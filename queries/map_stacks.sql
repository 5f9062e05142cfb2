-- name: map_stacks
-- kind: view
-- description: Each traced stack of the runs not yet in the stack_objects cache reduced to its acquisition site: first frame outside the lock implementation, the lock entry frame below it, and the callers above it
--
-- Only runs absent from stack_objects are read: the cached ones are answered from the table
-- (map_stack_objects_current), and refresh_mappings fills the table from this view, emptying it first
-- when the index changed.
-- One row per (run_id, stack_id). site_function is the innermost frame whose symbol (compiler suffix
-- such as .constprop.0 dropped) is not in map_frame_roles; entry_symbol is the frame just below it (the
-- lock primitive the site called, NULL when the site is the innermost frame); callers are the next
-- eight frames above the site, innermost first, for walking up when the lock is a parameter.
-- site_key identifies the (site, entry, source line, callers) combination: stacks repeat across runs,
-- and map_site_objects resolves each distinct key once.
WITH f AS (
    SELECT sf.run_id, sf.stack_id, sf.depth, split_part(sf.symbol, '.', 1) AS fn,
           sf.src_file, sf.src_line,
           -- BPF programs and trampolines (fentry backends) sit below the traced function
           r.symbol IS NOT NULL OR starts_with(sf.symbol, 'bpf_prog_')
               OR starts_with(sf.symbol, 'bpf_trampoline_') AS is_lock_frame
    FROM stack_frames sf
    LEFT JOIN (SELECT DISTINCT symbol FROM map_frame_roles) r ON r.symbol = split_part(sf.symbol, '.', 1)
    WHERE sf.run_id IN (SELECT r.run_id FROM trace_runs r
                        WHERE r.run_id NOT IN (SELECT DISTINCT c.run_id FROM stack_objects c))
),
s AS (
    SELECT run_id, stack_id, min(depth) FILTER (WHERE NOT is_lock_frame) AS site_depth, count(*) AS n_frames
    FROM f GROUP BY run_id, stack_id
),
k AS (
    SELECT s.run_id, s.stack_id, s.site_depth, s.n_frames,
           max(f.fn) FILTER (WHERE f.depth = s.site_depth) AS site_function,
           max(f.src_file) FILTER (WHERE f.depth = s.site_depth) AS src_file,
           max(f.src_line) FILTER (WHERE f.depth = s.site_depth) AS src_line,
           max(f.fn) FILTER (WHERE f.depth = s.site_depth - 1) AS entry_symbol,
           coalesce(list(f.fn ORDER BY f.depth)
                    FILTER (WHERE f.depth > s.site_depth AND f.depth <= s.site_depth + 8), []) AS callers,
           list(f.fn ORDER BY f.depth) FILTER (WHERE f.depth < s.site_depth OR s.site_depth IS NULL) AS lock_frames
    FROM s JOIN f ON f.run_id = s.run_id AND f.stack_id = s.stack_id
    GROUP BY s.run_id, s.stack_id, s.site_depth, s.n_frames
)
SELECT run_id, stack_id, site_depth, n_frames, site_function, src_file, src_line, entry_symbol, callers,
       lock_frames,
       hash(site_function, entry_symbol, src_file, src_line, callers) AS site_key
FROM (
    -- 6.10's memory-allocation profiling renamed allocators' bodies X_noprof (X is now a macro around it):
    -- with an index of an older tree, which has no X_noprof, the frame reads as X (pcpu_alloc_noprof is
    -- 6.1's pcpu_alloc)
    SELECT k.* REPLACE (
               CASE WHEN ends_with(k.site_function, '_noprof')
                         AND NOT EXISTS (SELECT 1 FROM functions fu WHERE fu.name = k.site_function)
                    THEN left(k.site_function, -7) ELSE k.site_function END AS site_function)
    FROM k
)
