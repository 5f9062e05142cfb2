-- name: lock-name
-- kind: query
-- description: What a lockdep class name (as in /proc/lockdep, /proc/lock_stat or a splat) resolves to: one row per init site and object that produce it
-- param: name VARCHAR required  Lockdep class name as printed (#N, /N, (name){usage}-{x:y}, &(&x->lock)->rlock forms accepted)
-- param: limit INTEGER >=1 100  Rows at most
-- empty: no init site in the index produces this name (is the tree indexed whole, and is it the right kernel version?)
--
-- The name is normalised first, in SQL: splat decoration (name){+.+.}-{3:3} -> name, then #N (a repeated
-- name) and /N (a subclass) are dropped (shared/notes/lockdep-names.md point 5), and the pre-6.x spinlock
-- form &(&x->lock)->rlock becomes &x->lock. /proc/lock_stat cuts names to 37 characters, so a name of 36
-- characters or more also matches the class names it starts. Rows come from lock_inits (initializer
-- calls, lockdep_set_class*, static initializers, DEFINE_* macros, workqueue constructors). A
-- (wq_completion)NAME with no literal constructor, and any (work_completion)(...) name without an init
-- site, come back as object_kind pseudo with the struct/field that holds the lockdep map. No row: nothing
-- in the indexed tree produces the name.
WITH n AS (
    SELECT $name AS name,
           regexp_replace(
             regexp_replace(
               regexp_replace(trim($name), '^\((.*)\)\{[^}]*\}(-\{[^}]*\})?$', '\1'),
             '(#[0-9]+)?(/[0-9]+)?$', ''),
           '^&\(&(.+)\)->rlock$', '&\1') AS class_name
),
hits AS (
    SELECT n.name, n.class_name, i.*
    FROM n JOIN lock_inits i
      ON i.class_name = n.class_name
      OR (length(n.class_name) >= 36 AND starts_with(i.class_name, n.class_name))
),
pseudo AS (
    SELECT n.name, n.class_name, 'pseudo' AS object_kind,
           CASE WHEN starts_with(n.class_name, '(wq_completion)') THEN 'workqueue_struct'
                ELSE 'work_struct' END AS struct,
           'lockdep_map' AS field
    FROM n
    WHERE (starts_with(n.class_name, '(wq_completion)') OR starts_with(n.class_name, '(work_completion)'))
      AND NOT EXISTS (SELECT 1 FROM hits)
)
SELECT h.name, h.class_name, h.object_kind, h.struct_name AS struct, h.field_path AS field, h.symbol,
       f.path AS file, h.line, h.macro, h.function, h.arg_text, h.key_text, h.confidence, h.candidates
FROM hits h LEFT JOIN files f ON f.file_id = h.file_id
UNION ALL
SELECT p.name, p.class_name, p.object_kind, p.struct, p.field, NULL, NULL, NULL,
       CASE WHEN starts_with(p.class_name, '(wq_completion)') THEN 'alloc_workqueue' ELSE 'INIT_WORK' END,
       NULL, NULL, NULL, 0.5, NULL
FROM pseudo p
ORDER BY confidence DESC, file, line
LIMIT $limit
