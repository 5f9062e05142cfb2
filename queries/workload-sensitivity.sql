-- name: workload-sensitivity
-- description: How much each object's lock traffic under a runtime changes with the workload: events per run for every workload, spread and coefficient of variation
-- param: runtime VARCHAR @trace_runs.runtime null  Only this runtime
-- param: mode VARCHAR @trace_runs.mode null  Only this run mode (coldstart, warmup)
-- param: limit INTEGER >=1 30  Rows at most per runtime x mode (most workload-sensitive first)
-- param: event VARCHAR contended|acquire|release null  Only this event kind (contended, acquire, release); default every kind but release
-- empty-when: NOT EXISTS (SELECT 1 FROM trace_runs) | no trace runs in this database: record one with lima-trace, or load one with lima-import
--
-- per_run(w) = events of the object in workload w / runs of w (0 when the object is absent from w), over
-- the workloads the runtime ran in that mode. cv = stddev_pop / mean of per_run over those workloads.
-- event_kinds lists the event kinds counted for the object (acquire, contended): a rate that adds
-- acquisitions (lima-trace --mmap-lock, lock_stat imports) to contentions says so; --event picks one.
WITH runs AS (
    SELECT r.runtime, r.mode, r.workload, count(*) AS n FROM trace_runs r
    WHERE ($runtime IS NULL OR r.runtime = $runtime) AND ($mode IS NULL OR r.mode = $mode)
    GROUP BY r.runtime, r.mode, r.workload
),
objs AS (
    SELECT e.runtime, e.mode, e.object_key, e.workload, sum(e.count) AS n, any_value(e.status) AS status,
           list_distinct(list(e.event)) AS kinds
    FROM lock_object_counts_filtered(runtime := $runtime, workload := NULL, mode := $mode, event := $event) e
    GROUP BY e.runtime, e.mode, e.object_key, e.workload
),
grid AS (  -- every object of a runtime x mode against every workload that runtime x mode ran
    SELECT o.runtime, o.mode, o.object_key, any_value(o.status) AS status,
           list_sort(list_distinct(flatten(list(o.kinds)))) AS event_kinds
    FROM objs o
    GROUP BY o.runtime, o.mode, o.object_key
),
cells AS (
    SELECT g.runtime, g.mode, g.object_key, g.status, g.event_kinds, r.workload,
           coalesce(o.n, 0) / r.n AS per_run
    FROM grid g
    JOIN runs r ON r.runtime = g.runtime AND r.mode = g.mode
    LEFT JOIN objs o ON o.runtime = g.runtime AND o.mode = g.mode AND o.object_key = g.object_key
                    AND o.workload = r.workload
),
agg AS (
    SELECT c.runtime, c.mode, c.object_key, any_value(c.status) AS status,
           any_value(c.event_kinds) AS event_kinds,
           count(*) AS workloads, count(*) FILTER (WHERE c.per_run > 0) AS workloads_seen,
           min(c.per_run) AS min_per_run, max(c.per_run) AS max_per_run, avg(c.per_run) AS mean_per_run,
           CASE WHEN avg(c.per_run) > 0 THEN stddev_pop(c.per_run) / avg(c.per_run) END AS cv,
           string_agg(c.workload || ':' || round(c.per_run, 2), ', ' ORDER BY c.workload) AS per_run_by_workload
    FROM cells c GROUP BY c.runtime, c.mode, c.object_key
)
SELECT a.runtime, a.mode, a.object_key AS object, a.status, a.event_kinds, a.workloads, a.workloads_seen,
       round(a.min_per_run, 3) AS min_per_run, round(a.max_per_run, 3) AS max_per_run,
       round(a.mean_per_run, 3) AS mean_per_run, round(a.cv, 3) AS cv, a.per_run_by_workload
FROM agg a
QUALIFY $limit IS NULL
     OR row_number() OVER (PARTITION BY a.runtime, a.mode
                           ORDER BY a.cv DESC NULLS LAST, a.max_per_run DESC, a.object_key) <= $limit
ORDER BY a.runtime, a.mode, a.cv DESC NULLS LAST, a.max_per_run DESC, object
