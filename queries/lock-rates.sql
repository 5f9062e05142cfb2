-- name: lock-rates
-- description: Lock events per second for each object, averaged and medianed over the repeated runs of a runtime x workload x mode
-- param: run VARCHAR @trace_runs.run_id null  Only this run id
-- param: runtime VARCHAR @trace_runs.runtime null  Only this runtime
-- param: workload VARCHAR @trace_runs.workload null  Only this workload
-- param: mode VARCHAR @trace_runs.mode null  Only this run mode (coldstart, warmup)
-- param: limit INTEGER >=1 20  Rows at most per runtime x workload x mode (highest mean rate first)
-- param: event VARCHAR contended|acquire|release null  Only this event kind (contended, acquire, release); default every kind but release
-- empty-when: NOT EXISTS (SELECT 1 FROM trace_runs) | no trace runs in this database: record one with lima-trace, or load one with lima-import
--
-- rate of a run = events of the object in the run / trace_runs.duration_s. A run of the group where the
-- object does not appear counts as rate 0 in the mean and the median. Runs without a duration are
-- left out (n_runs counts the runs with one).
-- event_kinds lists the event kinds counted for the object (acquire, contended): a rate that adds
-- acquisitions (lima-trace --mmap-lock, lock_stat imports) to contentions says so; --event picks one.
WITH runs AS (
    SELECT r.run_id, r.runtime, r.workload, r.mode, r.duration_s
    FROM trace_runs r
    WHERE r.duration_s > 0
      AND ($runtime IS NULL OR r.runtime = $runtime)
      AND ($run IS NULL OR r.run_id = $run)
      AND ($workload IS NULL OR r.workload = $workload)
      AND ($mode IS NULL OR r.mode = $mode)
),
groups AS (
    SELECT runs.runtime, runs.workload, runs.mode, count(*) AS n_runs FROM runs
    GROUP BY runs.runtime, runs.workload, runs.mode
),
per_run AS (
    SELECT e.runtime, e.workload, e.mode, e.object_key, e.run_id,
           sum(e.count) / any_value(runs.duration_s) AS rate,
           any_value(e.status) AS status, list_distinct(list(e.event)) AS kinds
    FROM lock_object_counts_filtered(runtime := $runtime, workload := $workload, mode := $mode,
                                     event := $event, run := $run) e
    JOIN runs ON runs.run_id = e.run_id
    GROUP BY e.runtime, e.workload, e.mode, e.object_key, e.run_id
),
agg AS (
    SELECT p.runtime, p.workload, p.mode, p.object_key, any_value(p.status) AS status,
           list_sort(list_distinct(flatten(list(p.kinds)))) AS event_kinds,
           count(*) AS runs_seen, sum(p.rate) AS rate_sum, list(p.rate) AS rates,
           max(p.rate) AS max_rate
    FROM per_run p
    GROUP BY p.runtime, p.workload, p.mode, p.object_key
)
SELECT a.runtime, a.workload, a.mode, a.object_key AS object, a.status, a.event_kinds,
       g.n_runs, a.runs_seen,
       round(a.rate_sum / g.n_runs, 3) AS mean_per_s,
       round(list_aggregate(list_resize(a.rates, g.n_runs, 0.0), 'median'), 3) AS median_per_s,
       round(CASE WHEN a.runs_seen < g.n_runs THEN 0.0
                  ELSE list_aggregate(a.rates, 'min') END, 3) AS min_per_s,
       round(a.max_rate, 3) AS max_per_s
FROM agg a
JOIN groups g ON g.runtime = a.runtime AND g.workload = a.workload AND g.mode = a.mode
QUALIFY $limit IS NULL
     OR row_number() OVER (PARTITION BY a.runtime, a.workload, a.mode
                           ORDER BY a.rate_sum DESC, a.object_key) <= $limit
ORDER BY a.runtime, a.workload, a.mode, mean_per_s DESC, object
