-- name: struct-locks
-- kind: query
-- description: The locks of a struct, those of the structs it embeds included: every lock member with its type, the embedded member it comes through, its init sites (and the lockdep names they give) and how many sites take it
-- param: struct VARCHAR required  Struct/union tag (mm_struct) or typedef name of an anonymous struct
-- param: limit INTEGER >=1 200  Rows at most
-- empty: no struct/union of that name has a lock member in the index, directly or in a struct it embeds
--
-- field is the member path from the struct (inode: i_lock, i_data.i_pages.xa_lock). A lock of an
-- embedded named struct (a member of type struct X or a typedef of it, not a pointer, not a lock type
-- itself) is listed with via = the embedded member path it comes through (i_data.i_pages) and
-- declared_in = the struct whose member it is (xarray); via is NULL and declared_in the struct itself for
-- its own members (inline nested and anonymous members are its own, as in lock_fields). Embedding is
-- followed 4 levels deep at most. A struct name with several definitions in the tree contributes the
-- locks of each. is_array: the member or an embedded member on its path is an array.
-- acquire_sites / release_sites count lock_sites resolved to struct.field (field path equal, or the
-- member below it: sites on d_lockref.lock count for d_lockref), i.e. written through the struct itself
-- (inode->i_data.private_lock). via_acquire_sites (NULL for its own members) counts the acquire sites
-- written on a struct of the via path instead (mapping->private_lock: each may take an inode's, or the
-- lock of an address_space elsewhere; a struct name defined several times in the tree counts the sites
-- of every definition). init_sites / init_names / init_at: the lock_inits written through the struct
-- itself; via_init_sites / via_init_names: those written on a struct of the via path (an embedded lock is
-- usually set up by its own struct's init function: __init_swait_queue_head for completion.wait.lock).
-- init_names and via_init_names list the distinct lockdep class names the init sites produce. A lock
-- the struct's own lock_fields already lists (a typedef'd struct member the lock pass expands) is not
-- repeated.
WITH RECURSIVE
roots AS (  -- the definitions of the struct: by tag, or the anonymous struct a typedef names
    SELECT s.struct_id FROM structs s WHERE s.name = $struct
    UNION
    SELECT t.struct_id FROM typedefs t WHERE t.name = $struct AND t.struct_id IS NOT NULL AND t.pointer_depth = 0
),
targets AS (  -- name -> definitions, for the embedded members' types; owner: the name lock_sites use
    SELECT s.name, s.struct_id, s.name AS owner FROM structs s WHERE s.name IS NOT NULL
    UNION ALL
    SELECT t.name, t.struct_id, coalesce(s.name, t.name) FROM typedefs t JOIN structs s ON s.struct_id = t.struct_id
    WHERE t.pointer_depth = 0
),
typedef_of AS MATERIALIZED (  -- typedef name -> its type (one definition per name, the inline one first)
    SELECT DISTINCT ON (t.name) t.name, t.base_type, t.struct_id
    FROM typedefs t WHERE t.pointer_depth = 0
    ORDER BY t.name, t.struct_id NULLS LAST, t.base_type
),
member_types AS (  -- members held inline whose type is a named struct/union or a typedef of one
    SELECT f.struct_id, f.name AS member, f.array_dims IS NOT NULL AS is_array, f.base_type,
           td.base_type AS typedef_base,
           CASE WHEN starts_with(f.base_type, 'struct ') OR starts_with(f.base_type, 'union ')
                     THEN regexp_extract(f.base_type, '^\S+ (.*)$', 1)
                WHEN td.struct_id IS NOT NULL THEN td.name
                WHEN starts_with(td.base_type, 'struct ') OR starts_with(td.base_type, 'union ')
                     THEN regexp_extract(td.base_type, '^\S+ (.*)$', 1) END AS type_name
    FROM fields f
    LEFT JOIN typedef_of td ON td.name = f.base_type
    WHERE f.pointer_depth = 0 AND f.nested_struct_id IS NULL AND f.name IS NOT NULL
),
embedded AS (  -- ... that are not a lock type themselves (those are lock members, listed by lock_fields)
    SELECT m.struct_id, m.member, m.is_array, m.type_name
    FROM member_types m
    LEFT JOIN lock_types l1 ON l1.type_name = m.base_type
    LEFT JOIN lock_types l2 ON l2.type_name = m.typedef_base
    WHERE m.type_name IS NOT NULL AND l1.type_name IS NULL AND l2.type_name IS NULL
),
edges AS MATERIALIZED (  -- from a struct to an inline nested member's struct (same level) or an embedded one (level + 1)
    SELECT f.struct_id, f.nested_struct_id AS next_id, coalesce(f.name || '.', '') AS step,
           f.array_dims IS NOT NULL AS is_array, false AS embeds, NULL::VARCHAR AS type_name
    FROM fields f WHERE f.nested_struct_id IS NOT NULL AND f.pointer_depth = 0
    UNION ALL
    SELECT e.struct_id, tg.struct_id, e.member || '.', e.is_array, true, tg.owner
    FROM embedded e JOIN targets tg ON tg.name = e.type_name
),
-- walk(struct_id, prefix, ...): the struct's definitions, then along edges. named: the row is an embedded
-- struct's definition, whose lock_fields rows are locks of the struct. owners/offsets: the named structs
-- on the path and the length of the prefix where each starts (for matching sites on any of them).
walk(struct_id, prefix, is_array, level, named, owners, offsets, steps) AS (
    SELECT r.struct_id, '', false, 0, false, [$struct], [0], 0 FROM roots r
    UNION
    SELECT e.next_id, w.prefix || e.step, w.is_array OR e.is_array, w.level + e.embeds::INTEGER, e.embeds,
           CASE WHEN e.embeds THEN list_append(w.owners, e.type_name) ELSE w.owners END,
           CASE WHEN e.embeds THEN list_append(w.offsets, length(w.prefix || e.step)) ELSE w.offsets END,
           w.steps + 1
    FROM walk w JOIN edges e ON e.struct_id = w.struct_id
    WHERE (NOT e.embeds OR w.level < 4) AND w.steps < 24
),
fl AS (
    SELECT DISTINCT $struct AS struct_name, lf.field_path, NULL::VARCHAR AS via, $struct AS declared_in,
           lf.lock_type, lf.lock_kind, lf.is_array, lf.is_pointer, lf.file_id, lf.line,
           [$struct] AS owners, [0] AS offsets
    FROM lock_fields lf WHERE lf.struct_name = $struct
    UNION
    SELECT DISTINCT $struct, w.prefix || lf.field_path, rtrim(w.prefix, '.'), lf.struct_name,
           lf.lock_type, lf.lock_kind, lf.is_array OR w.is_array, lf.is_pointer, lf.file_id, lf.line,
           w.owners, w.offsets
    FROM walk w JOIN lock_fields lf ON lf.struct_id = w.struct_id
    WHERE w.named
      AND w.prefix || lf.field_path NOT IN (SELECT d.field_path FROM lock_fields d WHERE d.struct_name = $struct)
),
owned AS (  -- each lock as seen from every named struct on its path: (struct, member path from it, level)
    SELECT DISTINCT fl.field_path, u.owner, substr(fl.field_path, u.offset + 1) AS owner_path, u.level
    FROM fl, LATERAL (SELECT unnest(fl.owners) AS owner, unnest(fl.offsets) AS offset,
                             unnest(range(len(fl.owners))) AS level) u
),
sites AS (
    SELECT o.field_path,
           count(DISTINCT s.site_id) FILTER (WHERE o.level = 0 AND s.op IN ('acquire', 'try')) AS acquire_sites,
           count(DISTINCT s.site_id) FILTER (WHERE o.level = 0 AND s.op = 'release') AS release_sites,
           count(DISTINCT s.site_id) FILTER (WHERE o.level > 0 AND s.op IN ('acquire', 'try')) AS via_acquire_sites
    FROM owned o JOIN lock_sites s
      ON s.object_kind = 'field' AND s.struct_name = o.owner
     AND (s.field_path = o.owner_path OR starts_with(s.field_path, o.owner_path || '.'))
    GROUP BY o.field_path
),
inits AS (
    SELECT o.field_path,
           count(DISTINCT (i.file_id, i.line, i.struct_name, i.field_path)) FILTER (WHERE o.level = 0) AS init_sites,
           list_sort(list_distinct(list(i.class_name) FILTER (WHERE o.level = 0 AND i.class_name IS NOT NULL)))
               AS init_names,
           list_sort(list_distinct(list(fi.path || ':' || i.line) FILTER (WHERE o.level = 0))) AS init_at,
           count(DISTINCT (i.file_id, i.line, i.struct_name, i.field_path)) FILTER (WHERE o.level > 0)
               AS via_init_sites,
           list_sort(list_distinct(list(i.class_name) FILTER (WHERE o.level > 0 AND i.class_name IS NOT NULL)))
               AS via_init_names
    FROM owned o JOIN lock_inits i
      ON i.struct_name = o.owner
     AND (i.field_path = o.owner_path OR starts_with(i.field_path, o.owner_path || '.'))
    LEFT JOIN files fi ON fi.file_id = i.file_id
    GROUP BY o.field_path
)
SELECT fl.struct_name AS struct, fl.field_path AS field, fl.via, fl.declared_in, fl.lock_type, fl.lock_kind,
       fl.is_array, fl.is_pointer, f.path AS file, fl.line, coalesce(s.acquire_sites, 0) AS acquire_sites,
       coalesce(s.release_sites, 0) AS release_sites, coalesce(i.init_sites, 0) AS init_sites,
       CASE WHEN i.init_sites > 0 THEN i.init_names END AS init_names,
       CASE WHEN i.init_sites > 0 THEN i.init_at END AS init_at,
       CASE WHEN fl.via IS NOT NULL THEN coalesce(s.via_acquire_sites, 0) END AS via_acquire_sites,
       CASE WHEN fl.via IS NOT NULL THEN coalesce(i.via_init_sites, 0) END AS via_init_sites,
       CASE WHEN i.via_init_sites > 0 THEN i.via_init_names END AS via_init_names
FROM fl
LEFT JOIN sites s ON s.field_path = fl.field_path
LEFT JOIN inits i ON i.field_path = fl.field_path
LEFT JOIN files f ON f.file_id = fl.file_id
ORDER BY fl.via NULLS FIRST, f.path, fl.line, fl.field_path
LIMIT $limit
