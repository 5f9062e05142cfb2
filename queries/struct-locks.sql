-- name: struct-locks
-- kind: query
-- description: The locks of a struct, those of the structs it embeds included: every lock member with its type, the embedded member it comes through, its init sites (and the lockdep names they give) and how many sites take it
-- param: struct VARCHAR required  Struct/union tag (mm_struct; a leading 'struct '/'union ' is dropped) or typedef name of an anonymous struct
-- param: limit INTEGER >=1 200  Rows at most
-- param: arch VARCHAR alpha|arc|arm|arm64|csky|hexagon|ia64|loongarch|m68k|microblaze|mips|nios2|openrisc|parisc|powerpc|riscv|s390|sh|sparc|um|x86|xtensa x86  Architecture whose definitions are read (arch/ARCH/ ranks with the generic code)
-- param: all_definitions BOOLEAN false  Merge the locks of every definition of each struct name (every arch, tools/ copies) instead of the best-ranked one
-- empty-when: NOT EXISTS (SELECT 1 FROM structs s WHERE s.name = regexp_replace(trim($struct), '^(struct|union)\s+', '')) AND NOT EXISTS (SELECT 1 FROM typedefs t WHERE t.name = regexp_replace(trim($struct), '^(struct|union)\s+', '')) | no struct, union or typedef named '{struct}' in the index (a tag without 'struct ', as in mm_struct; is the header that defines it indexed?)
-- empty-when: NOT coalesce($all_definitions, false) AND EXISTS (SELECT 1 FROM lock_fields lf WHERE lf.struct_name = regexp_replace(trim($struct), '^(struct|union)\s+', '')) | the definition of {struct} read for --arch {arch} has no lock member, nor embeds a struct with one; other definitions of that name do (--all-definitions true lists them)
-- empty: {struct} is indexed but has no lock member, nor embeds a struct with one (a lock reached through a pointer member belongs to the struct pointed to: run struct-locks on that one)
--
-- field is the member path from the struct (inode: i_lock, i_data.i_pages.xa_lock). A lock of an
-- embedded named struct (a member of type struct X or a typedef of it, not a pointer, not a lock type
-- itself) is listed with via = the embedded member path it comes through (i_data.i_pages) and
-- declared_in = the struct whose member it is (xarray); via is NULL and declared_in the struct itself for
-- its own members (inline nested and anonymous members are its own, as in lock_fields). Embedding is
-- followed 4 levels deep at most. is_array: the member or an embedded member on its path is an array.
-- acquire_sites / release_sites count lock_sites resolved to struct.field (field path equal, or the
-- member below it: sites on d_lockref.lock count for d_lockref), i.e. written through the struct itself
-- (inode->i_data.private_lock). via_acquire_sites (NULL for its own members) counts the acquire sites
-- written on a struct of the via path instead (mapping->private_lock: each may take an inode's, or the
-- lock of an address_space elsewhere; a struct name defined several times in the tree counts the sites
-- of every definition). init_sites / init_names / init_at: the lock_inits written through the struct
-- itself; via_init_sites / via_init_names: those written on a struct of the via path (an embedded lock is
-- usually set up by its own struct's init function: __init_swait_queue_head for completion.wait.lock;
-- an init site of a named global or per-cpu instance of that struct (INIT_WORK(&some_global_work)) is
-- another object and is not counted).
-- init_names and via_init_names list the distinct lockdep class names the init sites produce.
--
-- Several definitions of one name (thread_struct in every arch/, mm_context_t per arch, a copy of
-- task_struct under tools/, the #ifdef CONFIG_SMP and !SMP cpu_stop_work): the struct and each embedded
-- member's type are read from ONE definition, the best by map_file_ranks (files the kernel configuration
-- compiles before .c files it leaves out, map_file_ranks.not_built; then core code, then arch/--arch/,
-- other headers, fs/ and net/, drivers/, other arches, tools/ last; in one file the first, as the lock
-- pass picks config alternatives), so task_struct.thread is x86's thread_struct and mm_struct.context
-- x86's mm_context_t. --all-definitions true merges every definition (the rows of all arches). file/line
-- are those of the member's declaration in declared_in's definition (mm_struct.context.lock:
-- arch/x86/include/asm/mmu.h:47); a lock the lock pass lists for the struct itself through an embedded
-- member (its expansion of mm_context_t) is shown as the walk through that member finds it. Sites and
-- init sites in other arches' code (arch/s390/include/asm/mmu_context.h for mm->context.lock) and under
-- tools/ are not counted either, unless --all-definitions.
WITH RECURSIVE
arg AS (SELECT regexp_replace(trim($struct), '^(struct|union)\s+', '') AS name,
               coalesce($all_definitions, false) AS all_defs),
ranks AS MATERIALIZED (SELECT * FROM map_file_ranks(arch := $arch)),
root_defs AS (  -- the definitions of the struct: by tag, or the anonymous struct a typedef names
    SELECT s.struct_id, s.file_id, s.start_line FROM structs s, arg WHERE s.name = arg.name
    UNION
    SELECT t.struct_id, s.file_id, s.start_line
    FROM typedefs t JOIN structs s ON s.struct_id = t.struct_id, arg
    WHERE t.name = arg.name AND t.pointer_depth = 0
),
roots AS (  -- the best-ranked one (every one with --all-definitions)
    SELECT d.struct_id FROM root_defs d JOIN ranks r ON r.file_id = d.file_id, arg
    QUALIFY arg.all_defs
         OR row_number() OVER (ORDER BY r.not_built, r.path_rank, r.rule_order, r.path, d.start_line, d.struct_id) = 1
),
target_defs AS (  -- name -> definitions, for the embedded members' types; owner: the name lock_sites use
    SELECT s.name, s.struct_id, s.name AS owner, s.file_id, s.start_line FROM structs s WHERE s.name IS NOT NULL
    UNION ALL
    SELECT t.name, t.struct_id, coalesce(s.name, t.name), s.file_id, s.start_line
    FROM typedefs t JOIN structs s ON s.struct_id = t.struct_id
    WHERE t.pointer_depth = 0
),
targets AS MATERIALIZED (  -- ... the best-ranked definition of each name (every one with --all-definitions)
    SELECT d.name, d.struct_id, d.owner FROM target_defs d JOIN ranks r ON r.file_id = d.file_id, arg
    QUALIFY arg.all_defs
         OR row_number() OVER (PARTITION BY d.name
                               ORDER BY r.not_built, r.path_rank, r.rule_order, r.path, d.start_line, d.struct_id) = 1
),
typedef_of AS MATERIALIZED (  -- typedef name -> its type (one definition per name: the best-ranked, the inline one first)
    SELECT DISTINCT ON (t.name) t.name, t.base_type, t.struct_id
    FROM typedefs t JOIN ranks r ON r.file_id = t.file_id, arg
    WHERE t.pointer_depth = 0
    ORDER BY t.name, CASE WHEN arg.all_defs THEN false ELSE r.not_built END,
             CASE WHEN arg.all_defs THEN 0 ELSE r.path_rank END,
             CASE WHEN arg.all_defs THEN 0 ELSE r.rule_order END, t.struct_id NULLS LAST, r.path, t.line,
             t.base_type
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
inline_of(root_id, struct_id) AS (  -- a root definition and the anonymous structs inline in it, whose members
    -- are the root's own (mm_struct's members sit in an anonymous struct: `struct { ... } __randomize_layout`)
    SELECT struct_id, struct_id FROM roots
    UNION
    SELECT io.root_id, f.nested_struct_id FROM inline_of io JOIN fields f ON f.struct_id = io.struct_id
    WHERE f.nested_struct_id IS NOT NULL AND f.name IS NULL AND f.pointer_depth = 0
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
    SELECT r.struct_id, '', false, 0, false, [arg.name], [0], 0 FROM roots r, arg
    UNION
    SELECT e.next_id, w.prefix || e.step, w.is_array OR e.is_array, w.level + e.embeds::INTEGER, e.embeds,
           CASE WHEN e.embeds THEN list_append(w.owners, e.type_name) ELSE w.owners END,
           CASE WHEN e.embeds THEN list_append(w.offsets, length(w.prefix || e.step)) ELSE w.offsets END,
           w.steps + 1
    FROM walk w JOIN edges e ON e.struct_id = w.struct_id
    WHERE (NOT e.embeds OR w.level < 4) AND w.steps < 24
),
walked AS (
    SELECT DISTINCT arg.name AS struct_name, w.prefix || lf.field_path AS field_path, rtrim(w.prefix, '.') AS via,
           lf.struct_name AS declared_in, lf.lock_type, lf.lock_kind, lf.is_array OR w.is_array AS is_array,
           lf.is_pointer, lf.file_id, lf.line, w.owners, w.offsets
    FROM walk w JOIN lock_fields lf ON lf.struct_id = w.struct_id, arg
    WHERE w.named
),
fl AS (
    SELECT DISTINCT arg.name AS struct_name, lf.field_path, NULL::VARCHAR AS via, arg.name AS declared_in,
           lf.lock_type, lf.lock_kind, lf.is_array, lf.is_pointer, lf.file_id, lf.line,
           [arg.name] AS owners, [0] AS offsets
    FROM lock_fields lf, arg
    WHERE lf.struct_id IN (SELECT struct_id FROM roots)
      -- the lock pass's own expansion of an embedded typedef'd struct (mm_struct.context.lock) comes from
      -- the walk instead, which reads the member's file and line in the definition that declares it
      AND lf.field_path NOT IN (SELECT wd.field_path FROM walked wd)
      AND NOT (contains(lf.field_path, '.')
               AND split_part(lf.field_path, '.', 1) IN (SELECT e.member FROM embedded e JOIN inline_of io
                                                        ON io.struct_id = e.struct_id
                                                        WHERE io.root_id = lf.struct_id))
    UNION
    SELECT * FROM walked
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
    JOIN ranks rk ON rk.file_id = s.file_id, arg
    WHERE arg.all_defs OR rk.path_rank NOT IN (6, 9)  -- code of other arches and tools/ is not this kernel
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
     AND (o.level = 0 OR i.symbol IS NULL)  -- a named global instance of the via struct is another object
    JOIN ranks fi ON fi.file_id = i.file_id, arg
    WHERE arg.all_defs OR fi.path_rank NOT IN (6, 9)
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
