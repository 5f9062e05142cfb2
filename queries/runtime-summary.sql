-- name: runtime-summary
-- description: One row per runtime x workload x mode: runs, events, events per second, distinct objects and structs, how much was resolved, wait time, lost events
-- param: run VARCHAR @trace_runs.run_id null  Only this run id
-- param: runtime VARCHAR @trace_runs.runtime null  Only this runtime
-- param: workload VARCHAR @trace_runs.workload null  Only this workload
-- param: mode VARCHAR @trace_runs.mode null  Only this run mode (coldstart, warmup)
-- param: event VARCHAR contended|acquire|release null  Only this event kind (contended, acquire, release); default every kind but release
-- empty-when: NOT EXISTS (SELECT 1 FROM trace_runs) | no trace runs in this database: record one with lima-trace, or load one with lima-import
--
-- lock_addrs = distinct lock addresses (lock instances; NULL when no event records an address),
-- lock_classes = distinct lockdep class names (NULL when no event names a class), objects = distinct
-- object_key values (struct.field or global symbol, ambiguous and unresolved labels included).
-- events = acquisitions (acquire events) + contentions (contended events) of the kinds --event keeps.
WITH runs AS (
    SELECT r.* FROM trace_runs r
    WHERE ($runtime IS NULL OR r.runtime = $runtime)
      AND ($run IS NULL OR r.run_id = $run)
      AND ($workload IS NULL OR r.workload = $workload)
      AND ($mode IS NULL OR r.mode = $mode)
),
rg AS (
    SELECT runs.runtime, runs.workload, runs.mode, count(*) AS runs,
           sum(runs.duration_s) AS seconds, sum(runs.events_lost) AS events_lost,
           list_sort(list_distinct(list(runs.backend))) AS backends
    FROM runs GROUP BY runs.runtime, runs.workload, runs.mode
),
eg AS (
    SELECT e.runtime, e.workload, e.mode,
           sum(e.count)::BIGINT AS events,
           coalesce(sum(e.count) FILTER (WHERE e.event = 'acquire'), 0)::BIGINT AS acquisitions,
           coalesce(sum(e.count) FILTER (WHERE e.event = 'contended'), 0)::BIGINT AS contentions,
           sum(e.count) FILTER (WHERE e.status = 'resolved')::BIGINT AS resolved_events,
           count(DISTINCT e.object_key) AS objects,
           count(DISTINCT e.object_key) FILTER (WHERE e.status = 'resolved') AS resolved_objects,
           count(DISTINCT e."struct") AS structs,
           nullif(count(DISTINCT e.lock_addr), 0) AS lock_addrs,
           nullif(count(DISTINCT e.lock_name), 0) AS lock_classes,
           coalesce(sum(e.wait_ns_total), 0) AS wait_ns
    FROM lock_object_counts_filtered(runtime := $runtime, workload := $workload, mode := $mode,
                                     event := $event, run := $run) e
    JOIN runs ON runs.run_id = e.run_id
    GROUP BY e.runtime, e.workload, e.mode
)
SELECT rg.runtime, rg.workload, rg.mode, rg.runs, rg.backends,
       coalesce(eg.events, 0) AS events, coalesce(eg.acquisitions, 0) AS acquisitions,
       coalesce(eg.contentions, 0) AS contentions,
       CASE WHEN rg.seconds > 0 THEN round(coalesce(eg.events, 0) / rg.seconds, 2) END AS events_per_s,
       eg.lock_addrs, eg.lock_classes, coalesce(eg.objects, 0) AS objects,
       coalesce(eg.resolved_objects, 0) AS resolved_objects, coalesce(eg.structs, 0) AS structs,
       CASE WHEN eg.events > 0 THEN round(coalesce(eg.resolved_events, 0) / eg.events, 4) END AS resolved_share,
       round(coalesce(eg.wait_ns, 0) / 1e6, 3) AS wait_ms,
       rg.events_lost
FROM rg
LEFT JOIN eg ON eg.runtime = rg.runtime AND eg.workload = rg.workload AND eg.mode = rg.mode
ORDER BY rg.runtime, rg.workload, rg.mode
