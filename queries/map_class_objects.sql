-- name: map_class_objects
-- kind: view
-- description: Each lockdep class name seen in a trace resolved to the object whose init site produces it (lock_inits), or why not
--
-- The decorations lockdep adds in its output (#N for a repeated name, /N for a subclass) are dropped
-- first (shared/notes/lockdep-names.md, point 5). /proc/lock_stat cuts names to 37 characters: a name
-- of 36 characters or more also matches the class names it is a prefix of.
WITH names AS (
    SELECT DISTINCT lock_name FROM lock_events WHERE lock_name IS NOT NULL
    UNION SELECT DISTINCT lock_name FROM trace_events WHERE lock_name IS NOT NULL
),
base AS (
    SELECT lock_name, regexp_replace(lock_name, '(#[0-9]+)?(/[0-9]+)?$', '') AS class_name FROM names
),
hits AS (
    SELECT b.lock_name, b.class_name, i.*,
           CASE i.object_kind
               WHEN 'field' THEN coalesce(i.struct_name, '?') || '.' || coalesce(i.field_path, '?')
               WHEN 'pseudo' THEN coalesce(i.struct_name, '?') || '.' || coalesce(i.field_path, '?')
               WHEN 'global' THEN i.symbol || coalesce('.' || i.field_path, '')
               WHEN 'percpu' THEN i.symbol || coalesce('.' || i.field_path, '')
               WHEN 'local' THEN 'local ' || i.arg_text || ' in ' || coalesce(i.function, '?')
               ELSE NULL END AS object
    FROM base b
    JOIN lock_inits i ON i.class_name = b.class_name
        OR (length(b.class_name) >= 36 AND starts_with(i.class_name, b.class_name))
),
agg AS (
    SELECT lock_name,
           count(DISTINCT coalesce(object, object_kind || ':' || arg_text)) AS n_objects,
           count(*) AS n_inits,
           list_sort(list_distinct(list(coalesce(object, arg_text || ' (' || object_kind || ')')))) AS labels,
           list_distinct(flatten(list(coalesce(candidates, [])))) AS inner_candidates,
           count(DISTINCT struct_name) AS n_structs,
           any_value(struct_name) AS any_struct,
           arg_max(object_kind, confidence) AS object_kind,
           arg_max(struct_name, confidence) AS struct_name,
           arg_max(field_path, confidence) AS field_path,
           arg_max(symbol, confidence) AS symbol,
           arg_max(object, confidence) AS object,
           max(confidence) AS confidence,
           arg_min(file_id, line) AS file_id,
           min(line) AS init_line,
           arg_min(function, line) AS init_function
    FROM hits GROUP BY lock_name
)
SELECT b.lock_name, b.class_name,
       CASE WHEN a.lock_name IS NULL THEN 'unresolved'
            WHEN a.n_objects > 1 THEN 'ambiguous' ELSE a.object_kind END AS object_kind,
       CASE WHEN a.n_objects > 1 AND a.n_structs = 1 THEN a.any_struct
            WHEN a.n_objects = 1 THEN a.struct_name END AS struct_name,
       CASE WHEN a.n_objects = 1 THEN a.field_path END AS field_path,
       CASE WHEN a.n_objects = 1 THEN a.symbol END AS symbol,
       CASE WHEN a.n_objects = 1 THEN a.object END AS object,
       CASE WHEN a.lock_name IS NULL THEN 0.0
            ELSE round(a.confidence / CASE WHEN a.n_objects > 1 THEN a.n_objects ELSE 1 END, 3) END AS confidence,
       CASE WHEN a.lock_name IS NULL THEN 'unresolved'
            WHEN a.n_objects > 1 OR a.object_kind = 'ambiguous' THEN 'ambiguous'
            WHEN a.object IS NULL THEN 'unresolved'
            ELSE 'resolved' END AS status,
       CASE WHEN a.n_objects > 1 THEN a.labels
            WHEN a.object_kind = 'ambiguous' THEN a.inner_candidates END AS candidates,
       f.path AS init_file, a.init_line, a.init_function,
       CASE WHEN a.lock_name IS NULL THEN 'no lock init site produces class name ' || b.class_name
            WHEN a.n_objects > 1 THEN a.n_inits || ' init sites produce this class name for different objects'
            WHEN a.object IS NULL THEN 'init site has object_kind ' || a.object_kind
            ELSE NULL END AS reason
FROM base b
LEFT JOIN agg a ON a.lock_name = b.lock_name
LEFT JOIN files f ON f.file_id = a.file_id
