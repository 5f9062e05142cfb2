-- name: struct-locks
-- kind: query
-- description: The locks of a struct: every lock member with its type, its init sites (and the lockdep names they give) and how many sites take it
-- param: struct VARCHAR required  Struct/union tag (mm_struct) or typedef name of an anonymous struct
-- param: limit INTEGER >=1 200  Rows at most
-- empty: no struct/union of that name has a lock member in the index
--
-- acquire_sites / release_sites count lock_sites resolved to struct.field (field path equal, or the
-- member below it: sites on d_lockref.lock count for d_lockref). init_names lists the distinct lockdep
-- class names the init sites produce.
WITH fl AS (
    SELECT DISTINCT lf.struct_name, lf.field_path, lf.lock_type, lf.lock_kind, lf.is_array, lf.is_pointer,
           lf.file_id, lf.line
    FROM lock_fields lf WHERE lf.struct_name = $struct
),
sites AS (
    SELECT fl.field_path,
           count(*) FILTER (WHERE s.op IN ('acquire', 'try')) AS acquire_sites,
           count(*) FILTER (WHERE s.op = 'release') AS release_sites
    FROM fl JOIN lock_sites s
      ON s.object_kind = 'field' AND s.struct_name = fl.struct_name
     AND (s.field_path = fl.field_path OR starts_with(s.field_path, fl.field_path || '.'))
    GROUP BY fl.field_path
),
inits AS (
    SELECT fl.field_path, count(*) AS init_sites,
           list_sort(list_distinct(list(i.class_name) FILTER (WHERE i.class_name IS NOT NULL))) AS init_names,
           list_sort(list_distinct(list(fi.path || ':' || i.line))) AS init_at
    FROM fl JOIN lock_inits i
      ON i.struct_name = fl.struct_name
     AND (i.field_path = fl.field_path OR starts_with(i.field_path, fl.field_path || '.'))
    LEFT JOIN files fi ON fi.file_id = i.file_id
    GROUP BY fl.field_path
)
SELECT fl.struct_name AS struct, fl.field_path AS field, fl.lock_type, fl.lock_kind, fl.is_array, fl.is_pointer,
       f.path AS file, fl.line, coalesce(s.acquire_sites, 0) AS acquire_sites,
       coalesce(s.release_sites, 0) AS release_sites, coalesce(i.init_sites, 0) AS init_sites, i.init_names,
       i.init_at
FROM fl
LEFT JOIN sites s ON s.field_path = fl.field_path
LEFT JOIN inits i ON i.field_path = fl.field_path
LEFT JOIN files f ON f.file_id = fl.file_id
ORDER BY f.path, fl.line
LIMIT $limit
