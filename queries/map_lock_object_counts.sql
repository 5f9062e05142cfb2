-- name: map_lock_object_counts
-- kind: view
-- description: lock_event_objects of the runs not cached yet, summed per run, lock, event, cgroup and object (pid, comm and stack summed away): what refresh_mappings stores in lock_object_counts
SELECT x.run_id, x.runtime, x.workload, x.mode, x.backend, x.duration_s,
       x.lock, x.lock_addr, x.lock_name, x.lock_symbol, x.lock_type, x.lock_mode, x.event, x.context,
       x.cgroup_id, x.taken_in, x.site_function, x.site_file, x.site_line,
       x.object_kind, x."struct", x.field, x.symbol, x.object, x.object_key, x.confidence, x.status,
       x.method, x.candidates, x.reason,
       sum(x.count)::BIGINT AS count, sum(x.wait_ns_total)::UBIGINT AS wait_ns_total,
       max(x.wait_ns_max) AS wait_ns_max, count(*) AS n_rows
FROM lock_event_objects(uncached := true) x
GROUP BY ALL
