-- name: mode-compare
-- description: Per object, events per run in one mode against another (coldstart vs warmup) for each runtime x workload
-- param: runtime VARCHAR @trace_runs.runtime null  Only this runtime
-- param: workload VARCHAR @trace_runs.workload null  Only this workload
-- param: mode_a VARCHAR @trace_runs.mode coldstart  First mode
-- param: mode_b VARCHAR @trace_runs.mode warmup  Second mode
-- param: limit INTEGER >=1 30  Rows at most per runtime x workload (largest difference first)
-- param: event VARCHAR contended|acquire|release null  Only this event kind (contended, acquire, release); default every kind but release
-- empty-when: NOT EXISTS (SELECT 1 FROM trace_runs) | no trace runs in this database: record one with lima-trace, or load one with lima-import
-- empty-when: NOT EXISTS (SELECT 1 FROM trace_runs a JOIN trace_runs b ON a.runtime = b.runtime AND a.workload = b.workload WHERE a.mode = coalesce($mode_a, 'coldstart') AND b.mode = coalesce($mode_b, 'warmup') AND ($runtime IS NULL OR a.runtime = $runtime) AND ($workload IS NULL OR a.workload = $workload)) | no runtime x workload (of --runtime {runtime}, --workload {workload}) has runs in both modes {mode_a} and {mode_b}: nothing to compare
--
-- per_run_a = events of the object in mode A / runs of mode A of that runtime x workload (0 when absent);
-- ratio = per_run_a / per_run_b (NULL when B is 0). A runtime x workload without runs of both modes (runc
-- traced in coldstart only) is left out: with no run of a mode there is nothing to compare (no row with
-- NULL or 0 runs); the stderr note of an empty answer says when no group has both.
-- event_kinds lists the event kinds counted for the object (acquire, contended): a rate that adds
-- acquisitions (lima-trace --mmap-lock, lock_stat imports) to contentions says so; --event picks one.
WITH m AS (SELECT coalesce($mode_a, 'coldstart') AS a, coalesce($mode_b, 'warmup') AS b),
runs AS (
    SELECT r.runtime, r.workload, r.mode, count(*) AS n
    FROM trace_runs r, m
    WHERE r.mode IN (m.a, m.b)
      AND ($runtime IS NULL OR r.runtime = $runtime)
      AND ($workload IS NULL OR r.workload = $workload)
    GROUP BY r.runtime, r.workload, r.mode
),
ev AS (
    SELECT e.runtime, e.workload, e.object_key, any_value(e.status) AS status,
           list_sort(list_distinct(list(e.event))) AS event_kinds,
           sum(e.count) FILTER (WHERE e.mode = m.a) AS n_a,
           sum(e.count) FILTER (WHERE e.mode = m.b) AS n_b
    FROM lock_object_counts_filtered(runtime := $runtime, workload := $workload, mode := NULL,
                                     event := $event) e, m
    WHERE e.mode IN (m.a, m.b)
    GROUP BY e.runtime, e.workload, e.object_key
),
j AS (
    SELECT ev.*, m.a AS mode_a, m.b AS mode_b, ra.n AS runs_a, rb.n AS runs_b,
           coalesce(ev.n_a, 0) / ra.n AS per_run_a, coalesce(ev.n_b, 0) / rb.n AS per_run_b
    FROM ev CROSS JOIN m
    JOIN runs ra ON ra.runtime = ev.runtime AND ra.workload = ev.workload AND ra.mode = m.a
    JOIN runs rb ON rb.runtime = ev.runtime AND rb.workload = ev.workload AND rb.mode = m.b
)
SELECT j.runtime, j.workload, j.object_key AS object, j.status, j.event_kinds, j.mode_a, j.mode_b,
       j.runs_a, j.runs_b, round(j.per_run_a, 3) AS per_run_a, round(j.per_run_b, 3) AS per_run_b,
       round(j.per_run_a - j.per_run_b, 3) AS difference,
       CASE WHEN j.per_run_b > 0 THEN round(j.per_run_a / j.per_run_b, 3) END AS ratio
FROM j
QUALIFY $limit IS NULL
     OR row_number() OVER (PARTITION BY j.runtime, j.workload
                           ORDER BY abs(coalesce(j.per_run_a, 0) - coalesce(j.per_run_b, 0)) DESC, j.object_key) <= $limit
ORDER BY j.runtime, j.workload, abs(coalesce(difference, per_run_a, -per_run_b)) DESC, object
