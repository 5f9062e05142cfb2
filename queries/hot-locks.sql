-- name: hot-locks
-- description: Locks that carry a large share of the events or of the wait time of their runtime x workload x mode, with cumulative shares
-- param: run VARCHAR @trace_runs.run_id null  Only this run id
-- param: runtime VARCHAR @trace_runs.runtime null  Only this runtime
-- param: workload VARCHAR @trace_runs.workload null  Only this workload
-- param: mode VARCHAR @trace_runs.mode null  Only this run mode (coldstart, warmup)
-- param: min_share DOUBLE >=0 <=1 0.05  Keep objects with at least this share (0..1) of events or of wait time
-- param: event VARCHAR contended|acquire|release null  Only this event kind (contended, acquire, release); default every kind but release
-- empty-when: NOT EXISTS (SELECT 1 FROM trace_runs) | no trace runs in this database: record one with lima-trace, or load one with lima-import
-- empty-when: NOT EXISTS (SELECT 1 FROM lock_events) | the trace runs of this database recorded no lock event
-- empty-when: NOT EXISTS (SELECT 1 FROM lock_object_counts_filtered(run := $run, runtime := $runtime, workload := $workload, mode := $mode, event := $event)) | no lock event in the runs these filters select (run {run}, runtime {runtime}, workload {workload}, mode {mode}) of the kind asked (event {event}; NULL: every kind but release)
-- empty: no object reaches --min-share {min_share} of the events or of the wait time of its group
--
-- events = acquisitions (acquire events) + contentions (contended events, waits) of the kinds --event
-- keeps; event_share is the object's share of its group's events: pick --event contended to rank by
-- waits alone when some runs also count acquisitions (lima-trace --mmap-lock, lock_stat imports).
WITH e AS (
    SELECT * FROM lock_object_counts_filtered(runtime := $runtime, workload := $workload, mode := $mode,
                                              event := $event, run := $run) x
),
g AS (
    SELECT e.runtime, e.workload, e.mode, e.object_key, any_value(e.status) AS status,
           sum(e.count) AS count, coalesce(sum(e.wait_ns_total), 0) AS wait_ns,
           coalesce(sum(e.count) FILTER (WHERE e.event = 'acquire'), 0)::BIGINT AS acquisitions,
           coalesce(sum(e.count) FILTER (WHERE e.event = 'contended'), 0)::BIGINT AS contentions,
           max(e.wait_ns_max) AS wait_ns_max
    FROM e GROUP BY e.runtime, e.workload, e.mode, e.object_key
),
s AS (
    SELECT g.*,
           g.count / sum(g.count) OVER p AS event_share,
           CASE WHEN sum(g.wait_ns) OVER p > 0 THEN g.wait_ns / sum(g.wait_ns) OVER p END AS wait_share,
           sum(g.count) OVER (p ORDER BY g.count DESC, g.object_key ROWS UNBOUNDED PRECEDING)
               / sum(g.count) OVER p AS cumulative_event_share
    FROM g
    WINDOW p AS (PARTITION BY g.runtime, g.workload, g.mode)
)
SELECT s.runtime, s.workload, s.mode, s.object_key AS object, s.status, s.count::BIGINT AS events, s.acquisitions, s.contentions,
       round(s.event_share, 4) AS event_share, round(s.cumulative_event_share, 4) AS cumulative_event_share,
       round(s.wait_ns / 1e6, 3) AS wait_ms, round(s.wait_share, 4) AS wait_share,
       round(s.wait_ns / s.count / 1e3, 2) AS mean_wait_us, round(s.wait_ns_max / 1e3, 1) AS max_wait_us
FROM s
WHERE s.event_share >= coalesce($min_share, 0.05) OR s.wait_share >= coalesce($min_share, 0.05)
ORDER BY s.runtime, s.workload, s.mode, s.count DESC, object
