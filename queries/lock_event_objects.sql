-- name: lock_event_objects
-- kind: view
-- description: Every lock_events row with its run labels, its acquisition site and the kernel object it locks (the base of every aggregation)
--
-- Which mapping decides, in order: a lockdep class name that one init site explains (lockdep-class);
-- a class name several init sites produce is settled by the stack's site when its object is one of
-- them, else stays ambiguous (the stack may belong to another lock of the same record); a global symbol at the lock address that global_locks knows (global-symbol; a symbol holding several
-- locks is settled by the stack's site when it names one of them); the stack's acquisition site
-- (stack-site); otherwise the best ambiguous answer, otherwise unresolved with every reason.
-- object_key is the grouping label of the aggregations: the object, else 'ambiguous(a | b)', else
-- 'unresolved <class name or site function or address>'. mode is the run's mode (coldstart/warmup);
-- lock_mode is read/write when known. event is contended | acquire | release (acquire when the source
-- does not say); the aggregations count every event but releases unless --event picks one kind.
WITH j AS (
    SELECT e.*, r.runtime, r.workload, r.mode AS run_mode, r.backend, r.duration_s,
           st.taken_in, st.site_function AS st_site_function, st.site_file AS st_site_file,
           st.site_line AS st_site_line, st.object_kind AS st_kind, st.struct_name AS st_struct,
           st.field_path AS st_field, st.symbol AS st_symbol, st.object AS st_object,
           st.confidence AS st_conf, st.status AS st_status, st.method AS st_method,
           st.candidates AS st_cands, st.reason AS st_reason,
           c.object_kind AS c_kind, c.struct_name AS c_struct, c.field_path AS c_field, c.symbol AS c_symbol,
           c.object AS c_object, c.confidence AS c_conf, c.status AS c_status, c.candidates AS c_cands,
           c.reason AS c_reason,
           y.object_kind AS y_kind, y.symbol AS y_symbol, y.field_path AS y_field, y.object AS y_object,
           y.confidence AS y_conf, y.status AS y_status, y.candidates AS y_cands, y.reason AS y_reason,
           CASE WHEN c.status = 'resolved' THEN 'class'
                WHEN c.status = 'ambiguous' AND st.status = 'resolved'
                     AND list_contains(c.candidates, st.object) THEN 'stack'
                WHEN c.status = 'ambiguous' THEN 'class'
                WHEN y.status = 'resolved' THEN 'symbol'
                WHEN y.status = 'ambiguous' AND st.status = 'resolved' AND st.symbol = y.symbol THEN 'stack'
                WHEN st.status = 'resolved' THEN 'stack'
                WHEN y.status = 'ambiguous' THEN 'symbol'
                WHEN st.status = 'ambiguous' THEN 'stack'
                ELSE 'none' END AS src
    FROM lock_events e
    JOIN trace_runs r ON r.run_id = e.run_id
    LEFT JOIN map_class_objects c ON c.lock_name = e.lock_name
    LEFT JOIN map_symbol_objects y ON y.lock_symbol = e.lock_symbol
    LEFT JOIN map_stack_objects st ON st.run_id = e.run_id AND st.stack_id = e.stack_id
),
o AS (
    SELECT j.*,
           CASE j.src WHEN 'class' THEN j.c_kind WHEN 'symbol' THEN j.y_kind WHEN 'stack' THEN j.st_kind
                ELSE 'unresolved' END AS object_kind,
           CASE j.src WHEN 'class' THEN j.c_struct WHEN 'stack' THEN j.st_struct END AS "struct",
           CASE j.src WHEN 'class' THEN j.c_field WHEN 'symbol' THEN j.y_field WHEN 'stack' THEN j.st_field END AS field,
           CASE j.src WHEN 'class' THEN j.c_symbol WHEN 'symbol' THEN j.y_symbol WHEN 'stack' THEN j.st_symbol END AS symbol,
           CASE j.src WHEN 'class' THEN j.c_object WHEN 'symbol' THEN j.y_object WHEN 'stack' THEN j.st_object END AS object,
           CASE j.src WHEN 'class' THEN j.c_conf WHEN 'symbol' THEN j.y_conf WHEN 'stack' THEN j.st_conf
                ELSE 0.0 END AS confidence,
           CASE j.src WHEN 'class' THEN j.c_status WHEN 'symbol' THEN j.y_status WHEN 'stack' THEN j.st_status
                ELSE 'unresolved' END AS status,
           CASE j.src WHEN 'class' THEN 'lockdep-class' WHEN 'symbol' THEN 'global-symbol'
                WHEN 'stack' THEN 'stack-site/' || j.st_method ELSE 'none' END AS method,
           CASE j.src WHEN 'class' THEN j.c_cands WHEN 'symbol' THEN j.y_cands WHEN 'stack' THEN j.st_cands END AS candidates,
           CASE WHEN j.src = 'none' THEN
                    concat_ws('; ',
                        CASE WHEN j.lock_name IS NOT NULL THEN j.c_reason END,
                        CASE WHEN j.lock_symbol IS NOT NULL THEN j.y_reason END,
                        CASE WHEN j.stack_id IS NULL THEN 'no stack'
                             WHEN j.st_status IS NULL THEN 'stack ' || j.stack_id || ' has no frames'
                             ELSE j.st_reason END)
                WHEN j.src = 'class' THEN j.c_reason
                WHEN j.src = 'symbol' THEN j.y_reason
                ELSE j.st_reason END AS reason
    FROM j
)
SELECT o.run_id, o.runtime, o.workload, o.run_mode AS mode, o.backend, o.duration_s,
       coalesce(o.lock_name, o.lock_symbol, printf('0x%x', o.lock_addr), 'unknown') AS lock,
       o.lock_addr, o.lock_name, o.lock_symbol, o.lock_type, o.mode AS lock_mode, o.stack_id,
       coalesce(o.event, 'acquire') AS event, o.context, o.primitive, o.flags,
       o.pid, o.tgid, o.comm, o.cgroup_id, o.count, o.wait_ns_total, o.wait_ns_max,
       o.taken_in, o.st_site_function AS site_function, o.st_site_file AS site_file, o.st_site_line AS site_line,
       o.object_kind, o."struct", o.field, o.symbol, o.object, o.confidence, o.status, o.method, o.candidates,
       o.reason,
       coalesce(o.object,
                CASE WHEN o.status = 'ambiguous' AND o.candidates IS NOT NULL
                     THEN 'ambiguous(' || array_to_string(o.candidates, ' | ') || ')' END,
                'unresolved ' || coalesce(o.lock_name, 'at ' || o.taken_in, o.lock_symbol,
                                          printf('0x%x', o.lock_addr), 'lock')) AS object_key
FROM o
