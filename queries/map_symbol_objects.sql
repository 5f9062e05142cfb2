-- name: map_symbol_objects
-- kind: view
-- description: Each global symbol a traced lock address fell in (kallsyms) resolved to global_locks, or why not
--
-- lock_symbol may carry an offset (init_mm+0x70): the symbol part is matched. A symbol with several
-- lock members (init_mm: mmap_lock, page_table_lock, ...) is ambiguous here; lock_event_objects then
-- lets the stack's site choose among them. Definitions in .c files the kernel configuration does not
-- compile (kbuild_files) are left out when another is there (a static rtc_lock in every arch).
WITH syms AS (
    SELECT DISTINCT lock_symbol FROM lock_events WHERE lock_symbol IS NOT NULL
    UNION SELECT DISTINCT lock_symbol FROM trace_events WHERE lock_symbol IS NOT NULL
),
base AS (SELECT lock_symbol, split_part(lock_symbol, '+', 1) AS sym FROM syms),
cands AS (  -- definitions in .c files the kernel configuration leaves out (kbuild_files) go when any other
            -- is left: a traced kernel's symbol is built code (x86's rtc_lock, not alpha's or mips')
    SELECT c.* EXCLUDE (unbuilt, any_built)
    FROM (
        SELECT b.lock_symbol, g.*, coalesce(kb.built = false, false) AS unbuilt,
               bool_or(NOT coalesce(kb.built = false, false)) OVER (PARTITION BY b.lock_symbol) AS any_built
        FROM base b JOIN global_locks g ON g.symbol = b.sym
        LEFT JOIN kbuild_files kb ON kb.file_id = g.file_id
    ) c
    WHERE NOT c.unbuilt OR NOT c.any_built
),
agg AS (
    SELECT g.lock_symbol,
           count(*) AS n,
           list_sort(list_distinct(list(g.symbol || coalesce('.' || g.member_path, '')))) AS labels,
           any_value(g.member_path) AS member_path,
           bool_or(g.is_percpu) AS is_percpu,
           any_value(g.file_id) AS file_id,
           any_value(g.line) AS line
    FROM cands g
    GROUP BY g.lock_symbol
)
SELECT b.lock_symbol, b.sym AS symbol,
       CASE WHEN a.lock_symbol IS NULL THEN 'unresolved' WHEN a.n > 1 THEN 'ambiguous'
            WHEN a.is_percpu THEN 'percpu' ELSE 'global' END AS object_kind,
       CASE WHEN a.n = 1 THEN a.member_path END AS field_path,
       CASE WHEN a.n = 1 THEN a.labels[1] END AS object,
       CASE WHEN a.lock_symbol IS NULL THEN 0.0 WHEN a.n > 1 THEN round(1.0 / a.n, 3) ELSE 1.0 END AS confidence,
       CASE WHEN a.lock_symbol IS NULL THEN 'unresolved' WHEN a.n > 1 THEN 'ambiguous' ELSE 'resolved' END AS status,
       CASE WHEN a.n > 1 THEN a.labels END AS candidates,
       f.path AS decl_file, a.line AS decl_line,
       CASE WHEN a.lock_symbol IS NULL THEN 'symbol ' || b.sym || ' is not a lock in global_locks'
            WHEN a.n > 1 THEN 'symbol ' || b.sym || ' holds ' || a.n || ' locks' END AS reason
FROM base b
LEFT JOIN agg a ON a.lock_symbol = b.lock_symbol
LEFT JOIN files f ON f.file_id = a.file_id
