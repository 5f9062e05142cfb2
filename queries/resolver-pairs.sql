-- name: resolver-pairs
-- kind: layer
-- description: The lock primitive sites of the files clang parsed, tree-sitter's (lock_sites) and clang's (clang_lock_sites) paired on file, line and primitive, with both answers and how they compare
-- param: file VARCHAR null  Only files whose path contains this text
--
-- Files: those clang_files says were parsed (status parsed or errors) from the content indexed now
-- (clang_files.hash = files.hash). Sites: tree-sitter's direct calls of a catalogue primitive (lock_sites
-- with via NULL; wrappers are not primitives, clang does not list them) and every clang site. Two sites
-- pair when file, line and primitive are equal (the n-th of a line with the n-th: tree-sitter in site
-- order, clang by column). A tree-sitter site written inside a #define body of the file (function_id NULL)
-- has no clang twin at that line (clang sees the call where the macro is used, named by that macro):
-- category ts-macro-body.
--
-- category: agree (same object_kind and object: struct + member path for field, symbol + path for global
-- and percpu, symbol for param and local) | same-member (the same struct and member path, one side also
-- naming the global or per-CPU variable that holds it: percpu hrtimer_bases.lock against
-- hrtimer_cpu_base.lock, when a local pointer was set from this_cpu_ptr(&hrtimer_bases)) | differ (both resolved to a field/global/percpu, not the same)
-- | ts-unresolved (clang resolved, tree-sitter param/local/unknown/ambiguous) | clang-unresolved
-- (tree-sitter resolved, clang param/local/unknown: tree-sitter went further, through callers or local
-- values, or guessed) | both-unresolved (neither resolved, answers differ) | only-ts (no clang site there:
-- code compiled out by this configuration, a macro that expands to no call, or a primitive clang names
-- otherwise) | only-clang | ts-macro-body. ts_label / clang_label: mm_struct.mmap_lock, global x[.path],
-- percpu x, param lock, local ptl, unknown, ambiguous.
WITH parsed AS MATERIALIZED (
    SELECT f.file_id, f.path
    FROM clang_files c JOIN files f ON f.file_id = c.file_id AND f.hash IS NOT DISTINCT FROM c.hash
    WHERE c.status IN ('parsed', 'errors') AND ($file IS NULL OR contains(f.path, $file))
),
ts AS (
    SELECT s.site_id, s.file_id, s.line, s.primitive, s.function, s.arg_text, s.object_kind, s.struct_name,
           s.field_path, s.symbol, s.reason, s.function_id IS NULL AS in_macro,
           row_number() OVER (PARTITION BY s.file_id, s.line, s.primitive, s.function_id IS NULL
                              ORDER BY s.site_id) AS nth,
           CASE WHEN s.object_kind = 'field' THEN coalesce(s.struct_name, '?') || '.' || coalesce(s.field_path, '?')
                WHEN s.object_kind IN ('global', 'percpu')
                     THEN s.object_kind || ' ' || coalesce(s.symbol, '?') || coalesce('.' || s.field_path, '')
                WHEN s.object_kind IN ('param', 'local') THEN s.object_kind || ' ' || coalesce(s.symbol, '?')
                ELSE s.object_kind END AS label
    FROM lock_sites s JOIN parsed p ON p.file_id = s.file_id
    WHERE s.via IS NULL AND s.primitive IN (SELECT lp.name FROM lock_primitives lp)
),
cl AS (
    SELECT c.file_id, c.line, c.col, c.primitive, c.function, c.arg_text, c.object_kind, c.struct_name,
           c.field_path, c.symbol, c.is_pointer, c.reason,
           row_number() OVER (PARTITION BY c.file_id, c.line, c.primitive ORDER BY c.col) AS nth,
           CASE WHEN c.object_kind = 'field' THEN coalesce(c.struct_name, '?') || '.' || coalesce(c.field_path, '?')
                WHEN c.object_kind IN ('global', 'percpu')
                     THEN c.object_kind || ' ' || coalesce(c.symbol, '?') || coalesce('.' || c.field_path, '')
                WHEN c.object_kind IN ('param', 'local') THEN c.object_kind || ' ' || coalesce(c.symbol, '?')
                ELSE c.object_kind END AS label
    FROM clang_lock_sites c JOIN parsed p ON p.file_id = c.file_id
),
pairs AS (
    SELECT coalesce(t.file_id, c.file_id) AS file_id, coalesce(t.line, c.line) AS line,
           coalesce(t.primitive, c.primitive) AS primitive, coalesce(c.function, t.function) AS function,
           t.site_id, c.col AS clang_col, t.arg_text AS ts_arg_text, c.arg_text AS clang_arg_text,
           t.object_kind AS ts_kind, t.label AS ts_label, t.reason AS ts_reason,
           c.object_kind AS clang_kind, c.label AS clang_label, c.is_pointer AS clang_is_pointer,
           c.reason AS clang_reason,
           t.struct_name IS NOT NULL AND t.field_path IS NOT NULL AND t.struct_name = c.struct_name
               AND t.field_path = c.field_path AS same_member,
           t.object_kind IN ('field', 'global', 'percpu') AS ts_resolved,
           c.object_kind IN ('field', 'global', 'percpu') AS clang_resolved
    FROM (SELECT * FROM ts WHERE NOT in_macro) t
    FULL JOIN cl c ON c.file_id = t.file_id AND c.line = t.line AND c.primitive = t.primitive AND c.nth = t.nth
)
SELECT p.file_id, f.path AS file, p.line, p.function, p.primitive, p.site_id, p.clang_col, p.ts_arg_text,
       p.clang_arg_text, p.ts_kind, p.ts_label, p.ts_reason, p.clang_kind, p.clang_label, p.clang_is_pointer,
       p.clang_reason,
       CASE WHEN p.site_id IS NULL THEN 'only-clang'
            WHEN p.clang_kind IS NULL THEN 'only-ts'
            WHEN p.ts_label = p.clang_label AND p.ts_kind NOT IN ('unknown', 'ambiguous') THEN 'agree'
            WHEN p.ts_resolved AND p.clang_resolved AND p.same_member THEN 'same-member'
            WHEN p.ts_resolved AND p.clang_resolved THEN 'differ'
            WHEN p.clang_resolved THEN 'ts-unresolved'
            WHEN p.ts_resolved THEN 'clang-unresolved'
            ELSE 'both-unresolved' END AS category
FROM pairs p JOIN files f ON f.file_id = p.file_id
UNION ALL
SELECT t.file_id, f.path, t.line, t.function, t.primitive, t.site_id, NULL, t.arg_text, NULL, t.object_kind,
       t.label, t.reason, NULL, NULL, NULL, NULL, 'ts-macro-body'
FROM ts t JOIN files f ON f.file_id = t.file_id
WHERE t.in_macro
