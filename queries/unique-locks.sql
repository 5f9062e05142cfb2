-- name: unique-locks
-- description: Kernel objects locked under one runtime only (within the workload/mode filters): what sets a runtime apart
-- param: run VARCHAR @trace_runs.run_id null  Only this run id
-- param: runtime VARCHAR @trace_runs.runtime null  Only the objects unique to this runtime
-- param: workload VARCHAR @trace_runs.workload null  Only this workload
-- param: mode VARCHAR @trace_runs.mode null  Only this run mode (coldstart, warmup)
-- param: limit INTEGER >=1 50  Rows at most per runtime (most events first)
-- param: event VARCHAR contended|acquire|release null  Only this event kind (contended, acquire, release); default every kind but release
-- empty-when: NOT EXISTS (SELECT 1 FROM trace_runs) | no trace runs in this database: record one with lima-trace, or load one with lima-import
-- empty-when: NOT EXISTS (SELECT 1 FROM lock_events) | the trace runs of this database recorded no lock event
-- empty-when: NOT EXISTS (SELECT 1 FROM lock_object_counts_filtered(run := $run, runtime := NULL, workload := $workload, mode := $mode, event := $event)) | no lock event in the runs these filters select (run {run}, runtime {runtime}, workload {workload}, mode {mode}) of the kind asked (event {event}; NULL: every kind but release)
-- empty: no object is locked under one runtime only (with these filters; --runtime {runtime})
--
-- events = acquisitions (acquire events) + contentions (contended events, waits) of the kinds --event keeps.
WITH e AS (
    SELECT * FROM lock_object_counts_filtered(runtime := NULL, workload := $workload, mode := $mode,
                                              event := $event, run := $run) x
),
only_one AS (
    SELECT e.object_key FROM e GROUP BY e.object_key HAVING count(DISTINCT e.runtime) = 1
)
SELECT e.runtime, e.object_key AS object, any_value(e.object_kind) AS object_kind,
       any_value(e."struct") AS "struct", any_value(e.status) AS status,
       sum(e.count)::BIGINT AS events,
       coalesce(sum(e.count) FILTER (WHERE e.event = 'acquire'), 0)::BIGINT AS acquisitions,
       coalesce(sum(e.count) FILTER (WHERE e.event = 'contended'), 0)::BIGINT AS contentions,
       count(DISTINCT e.run_id) AS runs,
       list_sort(list_distinct(list(e.workload))) AS workloads,
       arg_max(e.site_function, e.count) AS top_site
FROM e
JOIN only_one u ON u.object_key = e.object_key
WHERE $runtime IS NULL OR e.runtime = $runtime
GROUP BY e.runtime, e.object_key
QUALIFY $limit IS NULL
     OR row_number() OVER (PARTITION BY e.runtime ORDER BY sum(e.count) DESC, e.object_key) <= $limit
ORDER BY e.runtime, events DESC, object
