-- name: lock-site
-- kind: query
-- description: The lock sites of a function (acquire, try, release; direct primitives and wrappers inlined into it) with the object each one locks
-- param: function VARCHAR required  Function name (or macro name for sites written in a macro body)
-- param: file VARCHAR null  Only in files whose path contains this text (static functions share names)
-- param: op VARCHAR acquire|try|release null  Only acquire, try or release
-- param: limit INTEGER >=1 500  Rows at most
-- empty-when: $file IS NOT NULL AND NOT EXISTS (SELECT 1 FROM files f WHERE contains(f.path, $file)) | no indexed file's path contains '{file}' (lima-index --only PATH adds a file)
-- empty-when: NOT EXISTS (SELECT 1 FROM functions fn WHERE fn.name = $function) AND NOT EXISTS (SELECT 1 FROM macros m WHERE m.name = $function) | no function or macro named {function} in the index: check the name, or index the file that defines it (a static function lives in one file only)
-- empty-when: $file IS NOT NULL AND NOT EXISTS (SELECT 1 FROM functions fn JOIN files f ON f.file_id = fn.file_id WHERE fn.name = $function AND contains(f.path, $file)) AND NOT EXISTS (SELECT 1 FROM macros m JOIN files f ON f.file_id = m.file_id WHERE m.name = $function AND contains(f.path, $file)) | {function} is indexed, but not in a file whose path contains '{file}' (lima-query lock-site --function {function} without --file lists every file)
-- empty-when: $op IS NOT NULL AND EXISTS (SELECT 1 FROM lock_sites s JOIN files f ON f.file_id = s.file_id WHERE s.function = $function AND ($file IS NULL OR contains(f.path, $file))) | {function} has lock sites, but none with --op {op}
-- empty: {function} is indexed but takes no lock itself: no lock primitive or lock wrapper is called in its body (locks taken by the functions it calls are theirs: run lock-site on those)
--
-- via shows the wrapper chain when the call reaches the primitive through wrappers
-- (mmap_write_lock>down_write). object_kind: field (struct + member path), global / percpu (symbol),
-- param (the function's own lock-pointer parameter), local, ambiguous (candidates), unknown (reason).
-- clang: what the libclang front end (lima-index --compile-commands) says of a direct primitive call:
-- agrees; same member: its answer, when clang also names the variable that holds the same struct member
-- (global folio_wait_table.lock for wait_queue_head.lock); or differs: its answer (mm_struct.mmap_lock,
-- global x, param lock, unknown) and reason; NULL
-- when clang did not parse the file, or has no call of that primitive at that line (a wrapper, code
-- compiled out). Pairing as in the layer resolver-pairs.
SELECT s.function, f.path AS file, s.line, s.primitive, s.op, s.mode, s.lock_kind, s.arg_text, s.via,
       s.object_kind, s.struct_name AS struct, s.field_path AS field, s.symbol, s.confidence, s.candidates,
       s.reason,
       CASE WHEN rp.clang_label IS NULL THEN NULL
            WHEN rp.clang_label = rp.ts_label THEN 'agrees'
            ELSE CASE WHEN rp.category = 'same-member' THEN 'same member: ' ELSE 'differs: ' END
                 || rp.clang_label || coalesce(' (' || rp.clang_reason || ')', '') END AS clang
FROM lock_sites s JOIN files f ON f.file_id = s.file_id
LEFT JOIN resolver_pairs(file := $file) rp ON rp.site_id = s.site_id
WHERE s.function = $function
  AND ($file IS NULL OR contains(f.path, $file))
  AND ($op IS NULL OR s.op = $op)
ORDER BY f.path, s.line, s.site_id
LIMIT $limit
