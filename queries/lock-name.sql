-- name: lock-name
-- kind: query
-- description: What a lockdep class name (as in /proc/lockdep, /proc/lock_stat or a splat) resolves to: one row per init site and object that produce it
-- param: name VARCHAR required  Lockdep class name as printed (#N, /N, (name){usage}-{x:y}, &(&x->lock)->rlock, lock_stat's name: and name-W: forms accepted)
-- param: limit INTEGER >=1 100  Rows at most
-- param: arch VARCHAR alpha|arc|arm|arm64|csky|hexagon|ia64|loongarch|m68k|microblaze|mips|nios2|openrisc|parisc|powerpc|riscv|s390|sh|sparc|um|x86|xtensa x86  Architecture whose arch/ code ranks with the generic code (path_rank)
-- empty: no init site in the index produces this name (is the tree indexed whole, and is it the right kernel version?)
--
-- The name is normalised first, in SQL: a /proc/lock_stat line's ':' (and '-W:' / '-R:' of a lock with
-- read and write statistics, kernel/locking/lockdep_proc.c seq_stats) is dropped, the splat
-- decoration (name){+.+.}-{3:3} -> name, then #N (a repeated
-- name) and /N (a subclass) are dropped (shared/notes/lockdep-names.md point 5), and the pre-6.x spinlock
-- form &(&x->lock)->rlock becomes &x->lock. /proc/lock_stat cuts a name to 37 characters with its #N and
-- /N (the name itself to 35 or 33), so a name that reaches 36 characters with them also matches the
-- class names it starts. Rows come from lock_inits (initializer
-- calls, lockdep_set_class*, static initializers, DEFINE_* macros, workqueue constructors). A
-- (wq_completion)NAME with no literal constructor, and any (work_completion)(...) name without an init
-- site, come back as object_kind pseudo with the struct/field that holds the lockdep map. No row: nothing
-- in the indexed tree produces the name.
--
-- Order and confidence when several objects give the name (&pool->lock: 17 structs have a pool->lock):
-- init sites in .c files the kernel configuration does not compile come last (built = false:
-- kbuild_files, for the --arch the configuration builds; NULL for a header); then rows are ranked by path_rank, the rank of the init site's file (map_file_ranks: core kernel code 1,
-- the --arch tree 2, other headers 3, filesystems/protocols 4, drivers/sound 5, other arches 6,
-- tools/ 9; in one rank kernel/, mm/, fs/*, include/linux/, ... in the order map_file_ranks lists them:
-- rule_order), then by confidence, file and line. So worker_pool (kernel/workqueue.c) comes before i915's
-- intel_gt_buffer_pool. n_objects = how many distinct objects (struct.field, global symbol, ...) the name
-- maps to; confidence = the init site's own confidence divided by n_objects, as lock-objects and
-- map_class_objects give 1/N to a class name that N objects share. A rank is a prior (which code a splat
-- most likely comes from), not evidence: the candidates are all listed.
WITH n0 AS (
    SELECT $name AS name,
           regexp_replace(regexp_replace(trim($name), '(-[WR])?:$', ''),
                          '^\((.*)\)\{[^}]*\}(-\{[^}]*\})?$', '\1') AS bare
),
n AS (  -- n0.name, not name: in the installed table macro a bare `name` is the parameter of the macro
    SELECT n0.name AS name,
           regexp_replace(regexp_replace(bare, '(#[0-9]+)?(/[0-9]+)?$', ''),
                          '^&\(&(.+)\)->rlock$', '&\1') AS class_name,
           regexp_extract(bare, '(#[0-9]+)?(/[0-9]+)?$') AS suffix
    FROM n0
),
hits AS (  -- lock_stat keeps 37 characters of name and suffix together (35 + '#2', 33 + '#2/1')
    SELECT n.name, n.class_name, i.*
    FROM n JOIN lock_inits i
      ON i.class_name = n.class_name
      OR (length(n.class_name) + length(n.suffix) >= 36 AND starts_with(i.class_name, n.class_name))
),
pseudo AS (
    SELECT n.name, n.class_name, 'pseudo' AS object_kind,
           CASE WHEN starts_with(n.class_name, '(wq_completion)') THEN 'workqueue_struct'
                ELSE 'work_struct' END AS struct,
           'lockdep_map' AS field
    FROM n
    WHERE (starts_with(n.class_name, '(wq_completion)') OR starts_with(n.class_name, '(work_completion)'))
      AND NOT EXISTS (SELECT 1 FROM hits)
),
objs AS (  -- the objects the hits stand for (the key map_class_objects counts)
    SELECT h.*,
           CASE WHEN h.object_kind IN ('field', 'pseudo')
                     THEN coalesce(h.struct_name, '?') || '.' || coalesce(h.field_path, '?')
                WHEN h.object_kind IN ('global', 'percpu') THEN h.symbol || coalesce('.' || h.field_path, '')
                WHEN h.object_kind = 'local' THEN 'local ' || h.arg_text || ' in ' || coalesce(h.function, '?')
                ELSE h.object_kind || ':' || h.arg_text END AS object
    FROM hits h
),
ranked AS (
    SELECT o.*, count(DISTINCT o.object) OVER () AS n_objects, fr.path AS file, fr.path_rank, fr.rule_order,
           fr.built, fr.not_built
    FROM objs o LEFT JOIN map_file_ranks(arch := $arch) fr ON fr.file_id = o.file_id
)
SELECT u.* EXCLUDE (rule_order, not_built) FROM (
    SELECT h.name, h.class_name, h.object_kind, h.struct_name AS struct, h.field_path AS field, h.symbol,
           h.file, h.line, h.macro, h.function, h.arg_text, h.key_text,
           round(h.confidence / h.n_objects, 3) AS confidence, h.n_objects, h.path_rank, h.built, h.candidates,
           h.rule_order, h.not_built
    FROM ranked h
    UNION ALL
    SELECT p.name, p.class_name, p.object_kind, p.struct, p.field, NULL, NULL, NULL,
           CASE WHEN starts_with(p.class_name, '(wq_completion)') THEN 'alloc_workqueue' ELSE 'INIT_WORK' END,
           NULL, NULL, NULL, 0.5, 1, NULL, NULL, NULL, NULL, false
    FROM pseudo p
) u
ORDER BY u.not_built, u.path_rank NULLS LAST, u.rule_order, u.confidence DESC, u.file, u.line
LIMIT $limit
