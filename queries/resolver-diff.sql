-- name: resolver-diff
-- kind: query
-- description: The lock sites where the tree-sitter resolver (lock_sites) and clang (clang_lock_sites) disagree, with both answers, file:line and the argument as written
-- param: file VARCHAR null  Only files whose path contains this text
-- param: category VARCHAR agree|same-member|differ|ts-unresolved|clang-unresolved|both-unresolved|only-ts|only-clang|ts-macro-body null  Only this category (default: every one but agree)
-- empty-when: NOT EXISTS (SELECT 1 FROM clang_files) | no file was parsed by clang: run lima-index SRC --compile-commands BUILD/compile_commands.json (bench/kbuild_compdb.sh makes one)
-- empty: no site of {category} in the files clang parsed (file filter: {file})
--
-- Categories as in resolver-check (the layer resolver-pairs explains them). ts/clang: each side's answer
-- (mm_struct.mmap_lock, global x, percpu x, param lock, local ptl, unknown, ambiguous), with its reason.
-- clang is the anchor: it read the compiler's types for the configuration of the compile command, so a
-- differ row is most often a tree-sitter error, an only-ts row code that configuration compiles out.
-- No row limit: a defconfig build of kernel/ and mm/ has a few hundred disagreeing sites (--format csv
-- and head, or --category, narrow it).
SELECT p.category, p.file || ':' || p.line AS site, p.function, p.primitive,
       coalesce(p.ts_arg_text, p.clang_arg_text) AS arg_text, p.ts_label AS ts, p.clang_label AS clang,
       p.ts_reason, p.clang_reason
FROM resolver_pairs(file := $file) p
WHERE CASE WHEN $category IS NULL THEN p.category <> 'agree' ELSE p.category = $category END
ORDER BY p.category, p.file, p.line, p.clang_col
