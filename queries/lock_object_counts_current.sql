-- name: lock_object_counts_current
-- kind: view
-- description: What the aggregations read: the cached table lock_object_counts plus map_lock_object_counts for runs not cached yet
--
-- One row per (run, lock, lock type and mode, event, context, cgroup, acquisition site, object) with the
-- summed count and wait times. lima-query and lima-import keep the cache filled
-- (lima.queries.refresh_mappings); rows of a run inserted by other means are computed here, slower.
SELECT * FROM lock_object_counts
UNION ALL BY NAME
SELECT * FROM map_lock_object_counts
