-- name: lock-site
-- kind: query
-- description: The lock sites of a function (acquire, try, release; direct primitives and wrappers inlined into it) with the object each one locks
-- param: function VARCHAR required  Function name (or macro name for sites written in a macro body)
-- param: file VARCHAR null  Only in files whose path contains this text (static functions share names)
-- param: op VARCHAR acquire|try|release null  Only acquire, try or release
-- param: limit INTEGER >=1 500  Rows at most
-- empty: no lock site in a function of that name (is its file indexed? static functions may be in files you left out)
--
-- via shows the wrapper chain when the call reaches the primitive through wrappers
-- (mmap_write_lock>down_write). object_kind: field (struct + member path), global / percpu (symbol),
-- param (the function's own lock-pointer parameter), local, ambiguous (candidates), unknown (reason).
SELECT s.function, f.path AS file, s.line, s.primitive, s.op, s.mode, s.lock_kind, s.arg_text, s.via,
       s.object_kind, s.struct_name AS struct, s.field_path AS field, s.symbol, s.confidence, s.candidates,
       s.reason
FROM lock_sites s JOIN files f ON f.file_id = s.file_id
WHERE s.function = $function
  AND ($file IS NULL OR contains(f.path, $file))
  AND ($op IS NULL OR s.op = $op)
ORDER BY f.path, s.line, s.site_id
LIMIT $limit
