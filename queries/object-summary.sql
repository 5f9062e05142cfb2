-- name: object-summary
-- description: Lock traffic rolled up per kernel object type (struct; globals, ambiguous and unresolved in their own rows): which kernel objects each runtime touches
-- param: run VARCHAR @trace_runs.run_id null  Only this run id
-- param: runtime VARCHAR @trace_runs.runtime null  Only this runtime
-- param: workload VARCHAR @trace_runs.workload null  Only this workload
-- param: mode VARCHAR @trace_runs.mode null  Only this run mode (coldstart, warmup)
-- param: event VARCHAR contended|acquire|release null  Only this event kind (contended, acquire, release); default every kind but release
-- empty-when: NOT EXISTS (SELECT 1 FROM trace_runs) | no trace runs in this database: record one with lima-trace, or load one with lima-import
-- empty-when: NOT EXISTS (SELECT 1 FROM lock_events) | the trace runs of this database recorded no lock event
-- empty-when: NOT EXISTS (SELECT 1 FROM lock_object_counts_filtered(run := $run, runtime := $runtime, workload := $workload, mode := $mode, event := $event)) | no lock event in the runs these filters select (run {run}, runtime {runtime}, workload {workload}, mode {mode}) of the kind asked (event {event}; NULL: every kind but release)
WITH e AS (
    SELECT x.*,
           CASE WHEN x.status = 'resolved' AND x."struct" IS NOT NULL THEN x."struct"
                WHEN x.status = 'resolved' AND x.object_kind IN ('global', 'percpu') THEN '(global locks)'
                WHEN x.status = 'resolved' THEN '(' || x.object_kind || ')'
                WHEN x.status = 'ambiguous' AND x."struct" IS NOT NULL THEN x."struct"
                ELSE '(' || x.status || ')' END AS struct_type
    FROM lock_object_counts_filtered(runtime := $runtime, workload := $workload, mode := $mode,
                                     event := $event, run := $run) x
)
SELECT e.runtime, e.struct_type, count(DISTINCT e.object_key) AS objects,
       list_sort(list_distinct(list(coalesce(e.field, e.symbol)))) AS fields_or_symbols,
       sum(e.count)::BIGINT AS events,
       coalesce(sum(e.count) FILTER (WHERE e.event = 'acquire'), 0)::BIGINT AS acquisitions,
       coalesce(sum(e.count) FILTER (WHERE e.event = 'contended'), 0)::BIGINT AS contentions,
       round(coalesce(sum(e.wait_ns_total), 0) / 1e6, 3) AS wait_ms,
       count(DISTINCT e.run_id) AS runs, list_sort(list_distinct(list(e.workload))) AS workloads
FROM e
GROUP BY e.runtime, e.struct_type
ORDER BY e.runtime, events DESC, e.struct_type
