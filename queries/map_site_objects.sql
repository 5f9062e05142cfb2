-- name: map_site_objects
-- kind: view
-- description: Each distinct acquisition site of map_stacks resolved to the object it locks through lock_sites, walking up the stack while the lock is a parameter
--
-- Steps, per site_key (so a stack seen in 100 runs is resolved once):
--  1. candidates: lock_sites of the site function whose primitive, or a primitive of its wrapper chain
--     (lock_sites.via), is the entry frame or a primitive that compiles to the entry symbol
--     (map_frame_roles.primitives). No entry frame: every acquire/try site of the function.
--     Nothing there: sites of static functions and macros the site function calls (inlined into it;
--     not a function named like a primitive, a user-space stand-in of tools/), method inlined-callee.
--     Still nothing: sites of the function of the entry's lock kind, method kind.
--     Still nothing: sites of the functions those callees call, up to 4 calls deep, the nearest depth
--     that has one (a compiler inlines static chains), method inlined-callee.
--     Among the candidates, those of the entry frame's lock kind (spinlock and raw_spinlock alike) are
--     kept when any is, then those reaching the entry through the shortest wrapper chain.
--  2. a source line on the site frame (DWARF) keeps only the candidates on that line when any is; then
--     candidates in .c files the kernel configuration does not compile (kbuild_files), or under an #if it
--     rules out (lock_sites.reason "not built with ..."), go when any other is left (several files define
--     a static function of that name: other arches', other drivers'; #ifdef CONFIG_MEMCG alternatives).
--  3. walk up: while every candidate locks a parameter (object_kind param, or the lock lock_wrappers
--     says the function takes through a parameter), the caller's lock_sites that call it decide
--     (lockref_get_not_zero(&dentry->d_lockref) in the caller names dentry.d_lockref). A caller without
--     such a site stops the walk and the inner answer stays (lockref.lock); when that answer is only a
--     parameter it is unresolved, with the reason and confidence x 0.6.
--  4. one distinct object left: resolved; several: ambiguous with the candidates; none: unresolved.
WITH RECURSIVE keys AS (
    SELECT DISTINCT site_key, site_function, entry_symbol, src_file, src_line, callers
    FROM map_stacks WHERE site_function IS NOT NULL
),
roles AS (
    SELECT symbol, any_value(lock_kind) AS lock_kind, list_distinct(flatten(list(primitives))) AS primitives
    FROM map_frame_roles GROUP BY symbol
),
levels AS (
    SELECT k.site_key, t.lvl,
           CASE WHEN t.lvl = 0 THEN k.site_function ELSE k.callers[t.lvl] END AS fn,
           CASE WHEN t.lvl = 0 THEN k.entry_symbol WHEN t.lvl = 1 THEN k.site_function
                ELSE k.callers[t.lvl - 1] END AS called,
           CASE WHEN t.lvl = 0 THEN k.src_file END AS src_file,
           CASE WHEN t.lvl = 0 THEN k.src_line END AS src_line,
           CASE WHEN er.lock_kind IN ('spinlock', 'raw_spinlock') THEN 'spin' ELSE er.lock_kind END AS entry_kind
    FROM keys k CROSS JOIN range(0, 5) t(lvl)
    LEFT JOIN roles er ON er.symbol = k.entry_symbol
    WHERE t.lvl = 0 OR len(k.callers) >= t.lvl
),
sites AS (
    SELECT ls.*, list_prepend(ls.primitive, string_split(coalesce(ls.via, ''), '>')) AS chain
    FROM lock_sites ls
),
direct AS (
    SELECT l.site_key, l.lvl, l.fn, 'direct' AS method, s.*
    FROM levels l
    JOIN sites s ON s.function = l.fn
    LEFT JOIN roles r ON r.symbol = l.called
    WHERE CASE WHEN l.called IS NULL THEN s.op IN ('acquire', 'try')
               ELSE list_contains(s.chain, l.called) OR list_has_any(s.chain, coalesce(r.primitives, [])) END
),
reach AS (  -- level 0 only, when direct found nothing: the functions the site function calls, and those
            -- static or inline ones call, up to 4 calls deep (a compiler inlines static chains:
            -- unmap_page_range > zap_p4d_range > zap_pud_range > zap_pmd_range > zap_pte_range)
    SELECT DISTINCT l.site_key, l.called, c.callee AS fn, 1 AS depth
    FROM levels l
    JOIN calls c ON c.caller = l.fn AND c.kind = 'direct'
    WHERE l.lvl = 0
      AND NOT EXISTS (SELECT 1 FROM direct d WHERE d.site_key = l.site_key AND d.lvl = 0)
    UNION
    SELECT r.site_key, r.called, c.callee, r.depth + 1
    FROM reach r
    JOIN calls c ON c.caller = r.fn AND c.kind = 'direct'
    WHERE r.depth < 4
      AND EXISTS (SELECT 1 FROM functions fu WHERE fu.name = r.fn AND (fu.is_static OR fu.is_inline))
),
inlined0 AS (
    SELECT r.site_key, 0 AS lvl, r.fn, 'inlined-callee' AS method, r.depth, s.*
    FROM reach r
    JOIN sites s ON s.function = r.fn
    LEFT JOIN roles ro ON ro.symbol = r.called
    WHERE (s.function_id IS NULL
           OR EXISTS (SELECT 1 FROM functions fu WHERE fu.function_id = s.function_id
                      AND (fu.is_static OR fu.is_inline)))
      -- a function named like a primitive is a stand-in for it, not kernel code that takes a lock
      -- (tools/virtio/linux/spinlock.h's user-space spin_lock_irq calls spin_lock on its parameter)
      AND NOT EXISTS (SELECT 1 FROM lock_primitives p WHERE p.name = s.function)
      AND CASE WHEN r.called IS NULL THEN s.op IN ('acquire', 'try')
               ELSE list_contains(s.chain, r.called) OR list_has_any(s.chain, coalesce(ro.primitives, [])) END
),
inlined AS (  -- the site function's direct callees (static or inline ones, and macros)
    SELECT i.* EXCLUDE (depth) FROM inlined0 i WHERE i.depth = 1
),
bykind AS (  -- level 0 only, when neither found anything: same function, same lock kind as the entry
    SELECT l.site_key, l.lvl, l.fn, 'kind' AS method, s.*
    FROM levels l
    JOIN roles r ON r.symbol = l.called
    JOIN sites s ON s.function = l.fn AND s.lock_kind = r.lock_kind AND s.op IN ('acquire', 'try')
    WHERE l.lvl = 0
      AND NOT EXISTS (SELECT 1 FROM direct d WHERE d.site_key = l.site_key AND d.lvl = 0)
      AND NOT EXISTS (SELECT 1 FROM inlined i WHERE i.site_key = l.site_key)
),
deep AS (  -- none of those: the nearest deeper callee with a matching site (inlined chains)
    SELECT i.* EXCLUDE (depth, best)
    FROM (SELECT i.*, min(i.depth) OVER (PARTITION BY i.site_key) AS best FROM inlined0 i
          WHERE i.depth > 1
            AND NOT EXISTS (SELECT 1 FROM inlined x WHERE x.site_key = i.site_key)
            AND NOT EXISTS (SELECT 1 FROM bykind b WHERE b.site_key = i.site_key)) i
    WHERE i.depth = i.best
),
cand00 AS (
    SELECT * FROM direct UNION ALL BY NAME SELECT * FROM inlined UNION ALL BY NAME SELECT * FROM bykind
    UNION ALL BY NAME SELECT * FROM deep
),
cand0 AS (  -- keep the sites whose lock kind is the entry frame's (when any is), then the shortest
            -- wrapper chain: a call that reaches the entry directly beats one through wrappers (a real
            -- non-inlined wrapper would have been a frame of its own)
    SELECT c.* EXCLUDE (match_pos, kind_ok, any_kind_ok, best_pos)
    FROM (
        SELECT c.*, min(c.match_pos) OVER (PARTITION BY c.site_key, c.lvl) AS best_pos
        FROM (
            SELECT c.*, bool_or(c.kind_ok) OVER (PARTITION BY c.site_key, c.lvl) AS any_kind_ok
            FROM (
                SELECT c.*, least(coalesce(list_position(c.chain, l.called), 99),
                                  coalesce(list_position(list_transform(c.chain,
                                               lambda x: list_contains(coalesce(r.primitives, []), x)), true), 99))
                            AS match_pos,
                       l.entry_kind IS NULL OR c.lock_kind IS NULL
                           OR l.entry_kind = CASE WHEN c.lock_kind IN ('spinlock', 'raw_spinlock') THEN 'spin'
                                                  ELSE c.lock_kind END AS kind_ok
                FROM cand00 c
                JOIN levels l ON l.site_key = c.site_key AND l.lvl = c.lvl
                LEFT JOIN roles r ON r.symbol = l.called
            ) c
        ) c
        WHERE c.kind_ok OR NOT c.any_kind_ok
    ) c
    WHERE c.match_pos = c.best_pos
),
cand1 AS (  -- a source line on the site frame narrows level 0 to the sites on that line
    SELECT c.* EXCLUDE (on_line, any_on_line)
    FROM (
        SELECT c.*, (c.lvl = 0 AND l.src_line IS NOT NULL AND c.line = l.src_line
                     AND (l.src_file IS NULL OR f.path IS NULL OR l.src_file LIKE '%' || f.path
                          OR f.path LIKE '%' || l.src_file)) AS on_line,
               bool_or(on_line) OVER (PARTITION BY c.site_key, c.lvl) AS any_on_line
        FROM cand0 c
        JOIN levels l ON l.site_key = c.site_key AND l.lvl = c.lvl
        LEFT JOIN files f ON f.file_id = c.file_id
    ) c
    WHERE NOT coalesce(c.any_on_line, false) OR c.on_line
),
cand AS (  -- a traced kernel runs built code: candidates in .c files the kernel configuration leaves out
           -- (kbuild_files.built false) go when any other is left (x86's kvm_arch_vm_ioctl, not arm64's),
           -- and so do sites the lock pass found not built (under an #if the configuration rules out:
           -- folio_lruvec_lock_irqsave's !CONFIG_MEMCG pglist_data.__lruvec.lru_lock)
    SELECT c.* EXCLUDE (unbuilt, any_built)
    FROM (
        SELECT c.*, unbuilt, bool_or(NOT unbuilt) OVER (PARTITION BY c.site_key, c.lvl) AS any_built
        FROM (SELECT c.*, coalesce(kb.built = false, false)
                          OR coalesce(starts_with(c.reason, 'not built with'), false) AS unbuilt
              FROM cand1 c
              LEFT JOIN kbuild_files kb ON kb.file_id = c.file_id) c
    ) c
    WHERE NOT c.unbuilt OR NOT c.any_built
),
wrappers AS (  -- what each function locks through one of its parameters (lock pass, to a fixed point)
    SELECT DISTINCT name, struct_name, field_path FROM lock_wrappers
    WHERE kind = 'function' AND param_index IS NOT NULL
),
lvl_stats AS (  -- a candidate "walks on" when its lock comes from a parameter of its function
    SELECT l.site_key, l.lvl, l.fn,
           count(c.site_key) AS n_cand,
           count(c.site_key) FILTER (WHERE c.object_kind = 'param' OR w.name IS NOT NULL) AS n_walk
    FROM levels l
    LEFT JOIN cand c ON c.site_key = l.site_key AND c.lvl = l.lvl
    LEFT JOIN wrappers w ON w.name = c.function AND w.struct_name IS NOT DISTINCT FROM c.struct_name
                        AND w.field_path IS NOT DISTINCT FROM c.field_path
    GROUP BY l.site_key, l.lvl, l.fn
),
walk AS (
    SELECT site_key,
           -- levels 0..stop-1 all "walk on" (their lock comes from the caller)
           min(lvl) FILTER (WHERE NOT (n_cand > 0 AND n_walk = n_cand)) AS stop,
           max(lvl) AS top,
           list(fn ORDER BY lvl) AS fns,
           map(list(lvl), list(n_cand)) AS n_by_lvl
    FROM lvl_stats GROUP BY site_key
),
final AS (
    SELECT site_key, fns,
           CASE WHEN stop IS NULL THEN top
                WHEN stop = 0 THEN 0
                WHEN n_by_lvl[stop] = 0 THEN stop - 1
                ELSE stop END AS final_lvl,
           stop IS NULL OR (stop > 0 AND n_by_lvl[stop] = 0) AS walk_failed,
           stop
    FROM walk
),
chosen AS (
    SELECT c.*, f.walk_failed, f.fns, f.final_lvl,
           CASE c.object_kind
               WHEN 'field' THEN coalesce(c.struct_name, '?') || '.' || coalesce(c.field_path, '?')
               WHEN 'pseudo' THEN coalesce(c.struct_name, '?') || '.' || coalesce(c.field_path, '?')
               WHEN 'global' THEN c.symbol || coalesce('.' || c.field_path, '')
               WHEN 'percpu' THEN c.symbol || coalesce('.' || c.field_path, '')
               WHEN 'param' THEN 'param ' || coalesce(c.symbol, c.arg_text) || ' of ' || c.function
               WHEN 'local' THEN 'local ' || coalesce(c.symbol, c.arg_text) || ' in ' || c.function
               ELSE NULL END AS object
    FROM cand c JOIN final f ON f.site_key = c.site_key AND f.final_lvl = c.lvl
),
objects AS (
    SELECT site_key,
           count(DISTINCT coalesce(object, object_kind || ':' || arg_text || '@' || function)) AS n_objects,
           count(*) AS n_sites,
           list_sort(list_distinct(list(coalesce(object, arg_text || ' (' || object_kind || ')')))) AS labels,
           list_distinct(flatten(list(coalesce(candidates, [])))) AS inner_candidates,
           arg_max(object_kind, confidence) AS object_kind,
           arg_max(struct_name, confidence) AS struct_name,
           arg_max(field_path, confidence) AS field_path,
           arg_max(symbol, confidence) AS symbol,
           arg_max(object, confidence) AS object,
           arg_max(reason, confidence) AS site_reason,
           max(confidence) AS confidence,
           count(DISTINCT struct_name) AS n_structs,
           any_value(struct_name) AS any_struct,
           min(line) AS site_line,
           arg_min(file_id, line) AS file_id,
           any_value(function) AS site_function,
           any_value(method) AS method,
           any_value(primitive) AS primitive,
           any_value(walk_failed) AS walk_failed,
           any_value(fns) AS fns,
           any_value(final_lvl) AS final_lvl
    FROM chosen GROUP BY site_key
)
SELECT k.site_key,
       k.site_function AS taken_in,
       k.entry_symbol,
       o.site_function,
       fl.path AS site_file,
       o.site_line,
       o.primitive AS site_primitive,
       CASE WHEN o.final_lvl IS NULL THEN [k.site_function] ELSE o.fns[1:o.final_lvl + 1] END AS walk,
       CASE WHEN o.site_key IS NULL THEN 'unresolved'
            WHEN o.n_objects > 1 THEN 'ambiguous'
            ELSE o.object_kind END AS object_kind,
       CASE WHEN o.n_objects > 1 AND o.n_structs = 1 THEN o.any_struct
            WHEN o.n_objects = 1 THEN o.struct_name END AS struct_name,
       CASE WHEN o.n_objects = 1 THEN o.field_path END AS field_path,
       CASE WHEN o.n_objects = 1 THEN o.symbol END AS symbol,
       CASE WHEN o.n_objects = 1 THEN o.object END AS object,
       CASE WHEN o.site_key IS NULL THEN 0.0
            ELSE round(o.confidence
                       * CASE o.method WHEN 'direct' THEN 1.0 ELSE 0.7 END
                       * CASE WHEN o.walk_failed AND o.n_objects = 1 AND o.object_kind = 'param' THEN 0.6
                              ELSE 1.0 END
                       / CASE WHEN o.n_objects > 1 THEN o.n_objects ELSE 1 END, 3) END AS confidence,
       CASE WHEN o.site_key IS NULL THEN 'unresolved'
            WHEN o.n_objects > 1 OR o.object_kind = 'ambiguous' THEN 'ambiguous'
            WHEN o.object IS NULL OR o.object_kind = 'param' THEN 'unresolved'
            ELSE 'resolved' END AS status,
       coalesce(o.method, 'none') AS method,
       CASE WHEN o.n_objects > 1 THEN o.labels
            WHEN o.object_kind = 'ambiguous' THEN o.inner_candidates END AS candidates,
       CASE
           WHEN o.site_key IS NULL AND NOT EXISTS (SELECT 1 FROM functions fu WHERE fu.name = k.site_function)
               THEN k.site_function || ' is not in the index (not indexed, or a symbol the parser does not see)'
           WHEN o.site_key IS NULL
               THEN 'no lock site in ' || k.site_function || ' calls ' || coalesce(k.entry_symbol, 'a lock primitive')
           WHEN o.n_objects > 1
               THEN o.n_sites || ' lock sites in ' || o.site_function || ' lock different objects'
           WHEN o.walk_failed AND o.object_kind = 'param'
               THEN 'lock is passed in by the caller of ' || o.site_function || '; '
                    || coalesce(k.callers[o.final_lvl + 1], 'no caller frame') || ' has no lock site calling it'
           WHEN o.object IS NULL THEN coalesce(o.site_reason, 'lock site has object_kind ' || o.object_kind)
           ELSE NULL END AS reason
FROM keys k
LEFT JOIN objects o ON o.site_key = k.site_key
LEFT JOIN files fl ON fl.file_id = o.file_id
