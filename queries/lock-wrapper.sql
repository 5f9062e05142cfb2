-- name: lock-wrapper
-- kind: query
-- description: Functions and macros that take, try or drop a lock for their caller (lock_wrappers), with the parameter test or the condition they do it under
-- param: name VARCHAR null  Only this wrapper (function or macro name)
-- param: struct VARCHAR null  Only wrappers of a lock of this struct (mm_struct; struct prefix accepted)
-- param: field VARCHAR null  Only wrappers of this member path (mmap_lock) or global symbol
-- param: op VARCHAR acquire|try|release null  Only acquire, try or release
-- param: limit INTEGER >=1 500  Rows at most
-- empty-when: $name IS NOT NULL AND NOT EXISTS (SELECT 1 FROM functions fn WHERE fn.name = $name) AND NOT EXISTS (SELECT 1 FROM macros m WHERE m.name = $name) | no function or macro named {name} in the index
-- empty-when: $name IS NOT NULL | {name} is indexed but is no lock wrapper: it takes and drops what it locks itself, or locks nothing for its caller (lock-site --function {name} shows its sites)
-- empty: no lock wrapper matches (struct {struct}, field {field}, op {op})
--
-- A wrapper row says: a call of `name` takes (acquire), may take (try: held_when says which result means
-- held) or drops (release) the lock `lock_expr`, written in terms of parameter `param_index` (NULL: a
-- global, or an object the function finds itself), which is `struct`.`field` or the global `symbol`.
-- guard: a test of a parameter the row holds under (when lock_flags includes XFS_ILOCK_EXCL, when global
-- is true), which the lock pass reads at each call site from the argument passed. condition: a test of
-- the object's state or of a variable the function does it under (if (pipe->files) in pipe_unlock;
-- unless (..) in f for a function that returns nothing and may return before it), which no call site can
-- read: lock sites through such a wrapper say "only if ..." in their reason. Rows are ordered by name.
SELECT w.name, w.kind, f.path AS file, w.line, w.op, w.mode, w.lock_kind, w.primitive, w.param_index,
       w.lock_expr, w.struct_name AS struct, w.field_path AS field, w.symbol, w.held_when, w.guard,
       w.condition
FROM lock_wrappers w LEFT JOIN files f ON f.file_id = w.file_id
WHERE ($name IS NULL OR w.name = $name)
  AND ($struct IS NULL OR w.struct_name = regexp_replace(trim($struct), '^(struct|union)\s+', ''))
  AND ($field IS NULL OR w.field_path = $field OR w.symbol = $field)
  AND ($op IS NULL OR w.op = $op)
ORDER BY w.name, f.path, w.op, w.struct_name, w.field_path, w.symbol
LIMIT $limit
