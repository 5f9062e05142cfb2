-- name: timeline
-- description: Lock events of event-mode runs (trace_events) per time interval and object
-- param: run VARCHAR @trace_runs.run_id null  Only this run id
-- param: runtime VARCHAR @trace_runs.runtime null  Only this runtime
-- param: workload VARCHAR @trace_runs.workload null  Only this workload
-- param: mode VARCHAR @trace_runs.mode null  Only this run mode (coldstart, warmup)
-- param: interval_ms INTEGER >=1 1000  Interval length in milliseconds
-- empty-when: NOT EXISTS (SELECT 1 FROM trace_runs) | no trace runs in this database: record one with lima-trace, or load one with lima-import
-- empty-when: NOT EXISTS (SELECT 1 FROM trace_events) | no run of this database streamed timed events (lima-trace --events N, or an import whose records carry a timestamp)
--
-- t_s is the interval start in seconds from the first event of the run. The object of an event is
-- decided as in lock_event_objects (class name, then global symbol, then the stack's site).
WITH e AS (
    SELECT t.*, r.runtime, r.workload, r.mode AS run_mode,
           min(t.ts_ns) OVER (PARTITION BY t.run_id) AS t0,
           CASE WHEN c.status = 'resolved' THEN c.object
                WHEN y.status = 'resolved' THEN y.object
                WHEN st.status = 'resolved' THEN st.object END AS object,
           coalesce(CASE WHEN c.status = 'resolved' THEN c.status END,
                    CASE WHEN y.status = 'resolved' THEN y.status END, st.status, c.status, y.status,
                    'unresolved') AS status,
           st.taken_in
    FROM trace_events t
    JOIN trace_runs r ON r.run_id = t.run_id
    LEFT JOIN map_class_objects c ON c.lock_name = t.lock_name
    LEFT JOIN map_symbol_objects y ON y.lock_symbol = t.lock_symbol
    LEFT JOIN map_stack_objects_current st ON st.run_id = t.run_id AND st.stack_id = t.stack_id
    WHERE ($run IS NULL OR t.run_id = $run)
      AND ($runtime IS NULL OR r.runtime = $runtime)
      AND ($workload IS NULL OR r.workload = $workload)
      AND ($mode IS NULL OR r.mode = $mode)
)
SELECT e.run_id, e.runtime, e.workload, e.run_mode AS mode,
       ((e.ts_ns - e.t0) // (coalesce($interval_ms, 1000) * 1000000)) * coalesce($interval_ms, 1000) / 1000.0 AS t_s,
       coalesce(e.object, 'unresolved ' || coalesce(e.lock_name, 'at ' || e.taken_in, e.lock_symbol,
                                                    printf('0x%x', e.lock_addr), 'lock')) AS object,
       coalesce(e.event, 'acquire') AS event,
       any_value(e.status) AS status,
       count(*) AS events, round(coalesce(sum(e.wait_ns), 0) / 1e6, 3) AS wait_ms
FROM e
GROUP BY ALL
ORDER BY e.run_id, t_s, events DESC, object
