-- name: top-locks
-- description: The most taken (or most waited-for) locks per runtime, workload and mode, with the kernel objects they protect
-- param: run VARCHAR @trace_runs.run_id null  Only this run id
-- param: runtime VARCHAR @trace_runs.runtime null  Only this runtime
-- param: workload VARCHAR @trace_runs.workload null  Only this workload
-- param: mode VARCHAR @trace_runs.mode null  Only this run mode (coldstart, warmup)
-- param: by VARCHAR events|acquisitions|contentions|wait events  Rank by events (acquisitions + contentions), acquisitions, contentions or wait (total wait time)
-- param: limit INTEGER >=1 20  Rows at most per runtime x workload x mode
-- param: event VARCHAR contended|acquire|release null  Only this event kind (contended, acquire, release); default every kind but release
-- empty-when: NOT EXISTS (SELECT 1 FROM trace_runs) | no trace runs in this database: record one with lima-trace, or load one with lima-import
-- empty-when: NOT EXISTS (SELECT 1 FROM lock_events) | the trace runs of this database recorded no lock event
-- empty-when: NOT EXISTS (SELECT 1 FROM lock_object_counts_filtered(run := $run, runtime := $runtime, workload := $workload, mode := $mode, event := $event)) | no lock event in the runs these filters select (run {run}, runtime {runtime}, workload {workload}, mode {mode}) of the kind asked (event {event}; NULL: every kind but release)
--
-- A lock here is an object (object_key of lock_event_objects: struct.field or global symbol; an
-- unresolved lock keeps its class name or site). How many locks are behind it, counted two ways:
-- lock_addrs = distinct lock addresses, i.e. lock instances (mm_struct.mmap_lock: how many mm_structs;
-- NULL when no event of the row records an address, as lock_stat-style class-name sources do);
-- lock_classes = distinct lockdep class names (NULL when no event names a class: stack-only sources).
-- top_site = the acquisition site with the most events. events = the events of the kinds --event keeps
-- (acquisitions + contentions by default); acquisitions counts acquire events (lockdep lock_acquire, a
-- primitive call, every mmap_lock acquisition with lima-trace --mmap-lock, lock_stat acquisitions),
-- contentions counts contended events (a wait: contention tracepoints, lock_stat contentions). A run
-- traced with --mmap-lock adds every mmap_lock acquisition to acquisitions, never to contentions.
WITH e AS (
    SELECT * FROM lock_object_counts_filtered(runtime := $runtime, workload := $workload, mode := $mode,
                                              event := $event, run := $run) x
),
g AS (
    SELECT e.runtime, e.workload, e.mode, e.object_key,
           any_value(e.object_kind) AS object_kind, any_value(e."struct") AS "struct",
           any_value(e.field) AS field, any_value(e.symbol) AS symbol,
           any_value(e.status) AS status, max(e.confidence) AS confidence,
           sum(e.count)::BIGINT AS events,
           coalesce(sum(e.count) FILTER (WHERE e.event = 'acquire'), 0)::BIGINT AS acquisitions,
           coalesce(sum(e.count) FILTER (WHERE e.event = 'contended'), 0)::BIGINT AS contentions,
           round(coalesce(sum(e.wait_ns_total), 0) / 1e6, 3) AS wait_ms,
           round(max(e.wait_ns_max) / 1e3, 1) AS max_wait_us,
           count(DISTINCT e.run_id) AS runs,
           nullif(count(DISTINCT e.lock_addr), 0) AS lock_addrs,
           nullif(count(DISTINCT e.lock_name), 0) AS lock_classes,
           string_agg(DISTINCT e.lock_type, ', ' ORDER BY e.lock_type) AS lock_types,
           arg_max(e.site_function, e.count) AS top_site,
           arg_max(e.site_file, e.count) AS top_site_file,
           arg_max(e.site_line, e.count) AS top_site_line
    FROM e
    GROUP BY e.runtime, e.workload, e.mode, e.object_key
)
SELECT row_number() OVER w AS rank, g.runtime, g.workload, g.mode, g.object_key AS object, g.object_kind,
       g."struct", g.field, g.symbol, g.events, g.acquisitions, g.contentions, g.wait_ms, g.max_wait_us, g.runs, g.lock_addrs, g.lock_classes,
       g.lock_types,
       g.top_site, g.top_site_file, g.top_site_line, g.status, g.confidence
FROM g
WINDOW w AS (PARTITION BY g.runtime, g.workload, g.mode
             ORDER BY CASE coalesce($by, 'events')
                          WHEN 'events' THEN g.events
                          WHEN 'acquisitions' THEN g.acquisitions
                          WHEN 'contentions' THEN g.contentions
                          WHEN 'wait' THEN g.wait_ms
                          ELSE error('top-locks: --by must be events, acquisitions, contentions or wait, not '
                                     || $by) END DESC,
                      g.events DESC, g.object_key)
QUALIFY $limit IS NULL OR row_number() OVER w <= $limit
ORDER BY g.runtime, g.workload, g.mode, rank
