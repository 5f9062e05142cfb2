-- name: shared-locks
-- description: Kernel objects locked by more than one runtime, or by more than one tenant (cgroup) in a run: the interference surface
-- param: run VARCHAR @trace_runs.run_id null  Only this run id (objects its tenants share)
-- param: runtime VARCHAR @trace_runs.runtime null  Only objects this runtime takes part in
-- param: workload VARCHAR @trace_runs.workload null  Only this workload
-- param: mode VARCHAR @trace_runs.mode null  Only this run mode (coldstart, warmup)
-- param: limit INTEGER >=1 50  Rows at most (most runtimes, then most events first)
-- param: event VARCHAR contended|acquire|release null  Only this event kind (contended, acquire, release); default every kind but release
-- empty-when: NOT EXISTS (SELECT 1 FROM trace_runs) | no trace runs in this database: record one with lima-trace, or load one with lima-import
-- empty-when: NOT EXISTS (SELECT 1 FROM lock_events) | the trace runs of this database recorded no lock event
-- empty-when: NOT EXISTS (SELECT 1 FROM lock_object_counts_filtered(run := $run, runtime := NULL, workload := $workload, mode := $mode, event := $event)) | no lock event in the runs these filters select (run {run}, runtime {runtime}, workload {workload}, mode {mode}) of the kind asked (event {event}; NULL: every kind but release)
-- empty: no object is locked under more than one runtime, nor by more than one cgroup (tenant) in a run, with these filters
--
-- An object is a struct.field (the same kind of object, not necessarily the same instance) or a global
-- symbol (one instance). shared_instances counts lock addresses seen under more than one runtime
-- (meaningful for runs traced on one boot of one host). events = acquisitions (acquire events) +
-- contentions (contended events, waits) of the kinds --event keeps; events_by_runtime splits events.
-- trace_setups lists, per runtime, how its runs were recorded: trace_runs.backend (contention, lockdep,
-- import-lock-stat, ...) plus +mmap-lock (lima-trace --mmap-lock: every mmap_lock acquisition counted,
-- the notes say so) and +keep-irq (filters.keep_irq: interrupt-context events kept). setup_warning says
-- when the runtimes of a row were recorded differently: their counts then measure different things (a
-- --mmap-lock run counts acquisitions the others do not see); compare contentions, or pick --event.
-- tenants names the cgroups that locked the object, busiest first (at most 8), as runtime:path with the
-- path lima-trace recorded in trace_cgroups (for that run, else for another run: cgroup ids are
-- directory inode numbers, stable while the cgroup lives), else runtime:cgroup ID (imports, cgroups gone).
WITH e AS (
    SELECT * FROM lock_object_counts_filtered(runtime := NULL, workload := $workload, mode := $mode,
                                              event := $event, run := $run) x
),
setup AS (  -- how each run was recorded
    SELECT r.run_id,
           r.backend || CASE WHEN contains(coalesce(r.notes, ''), '--mmap-lock') THEN '+mmap-lock' ELSE '' END
                     || CASE WHEN coalesce(try_cast(json_extract(r.filters, '$.keep_irq') AS BOOLEAN), false)
                             THEN '+keep-irq' ELSE '' END AS setup
    FROM trace_runs r
),
per_rt AS (
    SELECT e.object_key, e.runtime, sum(e.count) AS n,
           list_sort(list_distinct(list(st.setup))) AS setups
    FROM e JOIN setup st ON st.run_id = e.run_id
    GROUP BY e.object_key, e.runtime
),
tenants AS (
    SELECT t.object_key, max(t.n_cg) AS max_tenants
    FROM (SELECT e.object_key, e.run_id, count(DISTINCT e.cgroup_id) AS n_cg FROM e
          GROUP BY e.object_key, e.run_id) t
    GROUP BY t.object_key
),
tenant_names AS (
    SELECT x.object_key, array_to_string(list(x.label ORDER BY x.n DESC, x.label)[1:8], ', ') AS tenants
    FROM (SELECT e.object_key,
                 e.runtime || ':' || coalesce(c.path, ca.path, 'cgroup ' || e.cgroup_id) AS label,
                 sum(e.count) AS n
          FROM e LEFT JOIN trace_cgroups c ON c.run_id = e.run_id AND c.cgroup_id = e.cgroup_id
                 LEFT JOIN (SELECT cgroup_id, min(path) AS path FROM trace_cgroups GROUP BY cgroup_id) ca
                        ON ca.cgroup_id = e.cgroup_id
          WHERE e.cgroup_id IS NOT NULL
          GROUP BY 1, 2) x
    GROUP BY x.object_key
),
inst AS (
    SELECT i.object_key, count(*) AS shared_instances
    FROM (SELECT e.object_key, e.lock_addr FROM e WHERE e.lock_addr IS NOT NULL
          GROUP BY e.object_key, e.lock_addr HAVING count(DISTINCT e.runtime) > 1) i
    GROUP BY i.object_key
),
obj AS (
    SELECT e.object_key, any_value(e.object_kind) AS object_kind, any_value(e."struct") AS "struct",
           any_value(e.status) AS status,
           coalesce(sum(e.count) FILTER (WHERE e.event = 'acquire'), 0)::BIGINT AS acquisitions,
           coalesce(sum(e.count) FILTER (WHERE e.event = 'contended'), 0)::BIGINT AS contentions
    FROM e GROUP BY e.object_key
),
agg AS (
    SELECT p.object_key, count(*) AS n_runtimes, list_sort(list(p.runtime)) AS runtimes,
           sum(p.n)::BIGINT AS events,
           string_agg(p.runtime || ':' || p.n, ', ' ORDER BY p.n DESC, p.runtime) AS events_by_runtime,
           string_agg(p.runtime || ':' || array_to_string(p.setups, '|'), ', ' ORDER BY p.runtime) AS trace_setups,
           count(DISTINCT array_to_string(p.setups, '|')) > 1 OR max(len(p.setups)) > 1 AS mixed
    FROM per_rt p GROUP BY p.object_key
)
SELECT a.object_key AS object, o.object_kind, o."struct", o.status,
       a.n_runtimes, a.runtimes, coalesce(t.max_tenants, 0) AS max_tenants_in_a_run, tn.tenants,
       CASE WHEN a.n_runtimes > 1 AND t.max_tenants > 1 THEN 'runtimes+tenants'
            WHEN a.n_runtimes > 1 THEN 'runtimes' ELSE 'tenants' END AS shared_by,
       coalesce(i.shared_instances, 0) AS shared_instances,
       a.events, o.acquisitions, o.contentions, a.events_by_runtime, a.trace_setups,
       CASE WHEN a.mixed THEN 'runs recorded with different backends/options: counts not comparable' END
           AS setup_warning
FROM agg a
JOIN obj o ON o.object_key = a.object_key
LEFT JOIN tenants t ON t.object_key = a.object_key
LEFT JOIN tenant_names tn ON tn.object_key = a.object_key
LEFT JOIN inst i ON i.object_key = a.object_key
WHERE (a.n_runtimes > 1 OR t.max_tenants > 1)
  AND ($runtime IS NULL OR list_contains(a.runtimes, $runtime))
ORDER BY a.n_runtimes DESC, a.events DESC, object
LIMIT $limit
