-- name: map_stack_objects
-- kind: view
-- description: Each traced stack (run_id, stack_id) of the runs not cached in stack_objects, with its acquisition site and the object locked there (map_site_objects), or why not
SELECT s.run_id, s.stack_id, s.site_function AS taken_in, s.entry_symbol, s.callers,
       o.site_function, o.site_file, o.site_line, o.site_primitive, o.walk,
       coalesce(o.object_kind, 'unresolved') AS object_kind, o.struct_name, o.field_path, o.symbol, o.object,
       coalesce(o.confidence, 0.0) AS confidence,
       coalesce(o.status, 'unresolved') AS status,
       coalesce(o.method, 'none') AS method,
       o.candidates,
       CASE WHEN s.site_function IS NULL
                THEN 'stack has only lock-implementation frames: ' || array_to_string(s.lock_frames, ' <- ')
            ELSE o.reason END AS reason
FROM map_stacks s
LEFT JOIN map_site_objects o ON o.site_key = s.site_key
