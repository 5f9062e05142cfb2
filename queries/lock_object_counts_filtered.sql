-- name: lock_object_counts_filtered
-- kind: layer
-- description: The rows of lock_object_counts_current the aggregations start from: one run, runtime, workload, mode and event kind (every kind but release unless --event picks one)
-- param: run VARCHAR @trace_runs.run_id null  Only this run id
-- param: runtime VARCHAR @trace_runs.runtime null  Only this runtime
-- param: workload VARCHAR @trace_runs.workload null  Only this workload
-- param: mode VARCHAR @trace_runs.mode null  Only this run mode (coldstart, warmup)
-- param: event VARCHAR contended|acquire|release null  Only this event kind (contended, acquire, release); default every kind but release
--
-- The one copy of the filter hot-locks, top-locks, lock-objects, object-summary, shared-locks,
-- unique-locks and workload-sensitivity share: they call the installed macro
-- lock_object_counts_filtered(runtime := $runtime, ...) (a NULL parameter does not filter).
SELECT x.* FROM lock_object_counts_current x
WHERE (CASE WHEN $event IS NULL THEN x.event <> 'release' ELSE x.event = $event END)
  AND ($runtime IS NULL OR x.runtime = $runtime)
  AND ($workload IS NULL OR x.workload = $workload)
  AND ($mode IS NULL OR x.mode = $mode)
  AND ($run IS NULL OR x.run_id = $run)
