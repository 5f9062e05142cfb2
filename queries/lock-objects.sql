-- name: lock-objects
-- description: Each traced lock with its acquisition site and the kernel object it locks (struct.field or global), a confidence, or why it is unresolved
-- param: run VARCHAR @trace_runs.run_id null  Only this run id
-- param: runtime VARCHAR @trace_runs.runtime null  Only this runtime
-- param: workload VARCHAR @trace_runs.workload null  Only this workload
-- param: mode VARCHAR @trace_runs.mode null  Only this run mode (coldstart, warmup)
-- param: status VARCHAR resolved|ambiguous|unresolved null  Only resolved, ambiguous or unresolved rows
-- param: limit INTEGER >=1 200  Rows at most (most events first)
-- param: event VARCHAR contended|acquire|release null  Only this event kind (contended, acquire, release); default every kind but release
-- empty-when: NOT EXISTS (SELECT 1 FROM trace_runs) | no trace runs in this database: record one with lima-trace, or load one with lima-import
-- empty-when: NOT EXISTS (SELECT 1 FROM lock_events) | the trace runs of this database recorded no lock event
-- empty-when: NOT EXISTS (SELECT 1 FROM lock_object_counts_filtered(run := $run, runtime := $runtime, workload := $workload, mode := $mode, event := $event)) | no lock event in the runs these filters select (run {run}, runtime {runtime}, workload {workload}, mode {mode}) of the kind asked (event {event}; NULL: every kind but release)
-- empty: no lock event of status {status} with these filters (lima-query lock-objects without --status shows every status)
--
-- One row per (runtime, workload, mode, lock, lock type, site, object), summed over runs. lock is the
-- lockdep class name, else the global symbol at the address, else the address. events = the events of
-- the kinds --event keeps (every kind but release by default) = acquisitions (acquire events) +
-- contentions (contended events, waits).
WITH e AS (
    SELECT * FROM lock_object_counts_filtered(runtime := $runtime, workload := $workload, mode := $mode,
                                              event := $event, run := $run) x
    WHERE $status IS NULL OR x.status = $status
)
SELECT e.runtime, e.workload, e.mode AS mode, e.lock, e.lock_type, e.object,
       e.object_kind, e."struct", e.field, e.symbol,
       e.site_function, e.site_file, e.site_line, e.confidence,
       sum(e.count)::BIGINT AS events,
       coalesce(sum(e.count) FILTER (WHERE e.event = 'acquire'), 0)::BIGINT AS acquisitions,
       coalesce(sum(e.count) FILTER (WHERE e.event = 'contended'), 0)::BIGINT AS contentions,
       round(sum(e.wait_ns_total) / 1e6, 3) AS wait_ms,
       count(DISTINCT e.run_id) AS runs,
       e.status, e.method, e.candidates, e.reason, e.taken_in
FROM e
GROUP BY ALL
ORDER BY events DESC, e.runtime, e.workload, e.mode, e.lock, e.site_function NULLS LAST
LIMIT $limit
